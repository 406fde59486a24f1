//! How a message arrived and how large it may be.

/// How the bytes arrived, which decides where a message ends (RFC 3261
/// §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// UDP and the like: one datagram is one message; octets past the
    /// Content-Length are dropped, and without Content-Length the body is the
    /// rest of the datagram.
    Datagram,
    /// TCP, TLS, WebSocket-less streams: Content-Length is required, bytes
    /// after the body belong to the next message, and a short buffer means
    /// "read more".
    Stream,
}

/// Bounds that keep the work and memory for any input finite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Whole message, start line to the end of the body.
    pub max_message_size: usize,
    pub max_start_line: usize,
    /// Header fields (lines, not values: one Via line with three values is one).
    pub max_headers: usize,
    /// One header field, continuation lines included.
    pub max_header_size: usize,
}

impl Default for Limits {
    /// Sized like Kamailio's receive buffer: a UDP datagram cannot be larger,
    /// and a stream message larger than that is hostile or broken.
    fn default() -> Self {
        Limits {
            max_message_size: 65_535,
            max_start_line: 8_192,
            max_headers: 256,
            max_header_size: 16_384,
        }
    }
}
