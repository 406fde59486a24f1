//! sercompat's runtime library: the parts of the SIP server that need no
//! network, starting with the sans-IO SIP message layer ([`sip`]).

pub mod engine;
pub mod net;
pub mod registrar;
pub mod rr;
pub mod serve;
pub mod sip;
pub mod tm;
pub mod usrloc;
