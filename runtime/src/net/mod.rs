//! Transports: what sockets a config asks for ([`listen`], [`sockets`]),
//! the sans-IO transport logic ([`received`]: Via `received`/`rport` and
//! response routing; [`stream`]: TCP framing, limits and idle time), and
//! the tokio glue that serves them ([`udp`], [`tcp`], [`server`]). The SIP
//! core (`crate::sip`) knows nothing of this layer.

pub mod listen;
pub mod received;
mod recv_batch;
mod send_batch;
pub mod server;
pub mod sockets;
pub mod stream;
pub mod tcp;
pub mod udp;

pub use server::{Handler, Outgoing, Received, Server, ServerConfig};
pub use sockets::Transport;

/// A stream connection, unique for the life of a [`Server`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);
