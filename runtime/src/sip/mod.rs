//! The SIP message layer, sans IO: bytes in, typed views and edited bytes
//! out. No sockets, clocks or tasks here; transports hand in what they
//! received and send what comes back.
//!
//! ```text
//! bytes ─► framing (start line, header spans, body by Content-Length)
//!       ─► SipMessage ─► typed headers on first use (cached)
//!                     ─► validate (RFC 4475 valid / invalid)
//!                     ─► MessageEditor (lumps) ─► build() ─► bytes
//!                     ─► LocalReply (RFC 3261 §8.2.6) ─► bytes
//! ```
//!
//! Everything is bounded by [`Limits`]; every failure is a [`SipError`]
//! value with a message and, where it makes sense, a byte offset.

mod chars;
mod editor;
mod error;
mod framing;
mod header_name;
mod headers;
mod host;
mod limits;
mod lumps;
mod message;
mod method;
mod params;
mod proto;
mod reply;
mod scanner;
mod span;
mod start_line;
mod text;
mod uri;
mod validate;

pub(crate) use chars::is_token as is_token_char;
pub(crate) use editor::{via_parses, with_checked_top_via, with_top_via};
pub use editor::{HeaderPosition, MessageEditor};
pub use error::{ErrorKind, Problem, SipError};
pub use framing::leading_keepalive_len;
pub use header_name::HeaderName;
pub use headers::{
    parse_name_addr_list, AuthParam, CSeq, ContactValue, Credentials, DisplayName, NameAddr, Rport,
    SipDate, TypedHeader, Via, MAGIC_COOKIE, MAX_CSEQ,
};
pub(crate) use host::parse_ipv4;
pub use host::Host;
pub use limits::{Limits, TransportKind};
pub use lumps::Lumps;
pub use message::{HeaderRef, SipMessage};
pub use method::Method;
pub use params::{Param, Params};
pub use proto::Proto;
pub use reply::LocalReply;
pub use span::Span;
pub use text::{percent_decode, top_level_comma, unquote, SipStr};
pub use uri::{AbsoluteUri, SipUri, TelUri, Uri};
