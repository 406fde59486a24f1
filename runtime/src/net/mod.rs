//! Transports: what sockets a config asks for, and (later) the tokio
//! listeners that serve them. The SIP core (`crate::sip`) knows nothing of
//! this layer.

pub mod listen;
