//! The transport protocols a SIP message names (Via sent-protocol,
//! `transport=` URI parameter) and a config names (`listen=`, `$pr`,
//! `proto==`, `force_send_socket`). Which of them the server can serve
//! is `net::Transport`'s business.

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl Proto {
    pub const ALL: [Proto; 6] = [
        Proto::Udp,
        Proto::Tcp,
        Proto::Tls,
        Proto::Sctp,
        Proto::Ws,
        Proto::Wss,
    ];

    /// As written in a Via (`UDP`).
    pub fn via_name(self) -> &'static str {
        match self {
            Proto::Udp => "UDP",
            Proto::Tcp => "TCP",
            Proto::Tls => "TLS",
            Proto::Sctp => "SCTP",
            Proto::Ws => "WS",
            Proto::Wss => "WSS",
        }
    }

    /// As `$pr`, `proto==` and `listen=` write it (`udp`).
    pub fn name(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
            Proto::Tls => "tls",
            Proto::Sctp => "sctp",
            Proto::Ws => "ws",
            Proto::Wss => "wss",
        }
    }

    /// `udp`, `TCP`, ... (any case).
    pub fn parse(s: &str) -> Option<Proto> {
        Proto::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }
}
