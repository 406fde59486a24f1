//! A stream connection's framer, sans IO: push the bytes read, pop whole
//! messages. CRLF keep-alives between messages are skipped (a double CRLF
//! ping is answered with one CRLF, RFC 5626 §3.5.1), the [`Limits`] bound
//! every message, and any framing error is fatal: on a stream there is no
//! way to find the next message, so the connection must close.
//!
//! There is no clock inside: callers pass `now` with the bytes, and ask
//! [`StreamFramer::is_idle`] / [`StreamFramer::idle_deadline`].

use crate::sip::Limits;
use crate::sip::{leading_keepalive_len, SipError, SipMessage, TransportKind};
use bytes::{Buf, Bytes, BytesMut};
use std::fmt;
use std::time::{Duration, Instant};

/// Kamailio's `tcp_connection_lifetime` default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    pub limits: Limits,
    /// A connection with no bytes received for this long is closed.
    pub idle_timeout: Duration,
    /// `tcp_max_connections`: open connections (accepted and ours) at
    /// most; a new one over the limit is refused.
    pub max_connections: usize,
}

/// Kamailio's default `tcp_max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2048;

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            limits: Limits::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Why a connection must close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// The bytes do not frame as SIP (or break a limit).
    Framing(SipError),
}

impl StreamError {
    pub fn sip_error(&self) -> &SipError {
        match self {
            StreamError::Framing(e) => e,
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Framing(e) => write!(f, "stream framing: {e}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// One connection's receive side.
#[derive(Debug)]
pub struct StreamFramer {
    config: StreamConfig,
    buf: BytesMut,
    last_activity: Instant,
    /// Total length the message at the front needs, when known.
    needed: Option<usize>,
    pongs: usize,
    failed: Option<StreamError>,
}

impl StreamFramer {
    pub fn new(config: StreamConfig, now: Instant) -> Self {
        StreamFramer {
            config,
            buf: BytesMut::new(),
            last_activity: now,
            needed: None,
            pongs: 0,
            failed: None,
        }
    }

    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    /// Bytes read from the connection at `now`.
    pub fn push(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() {
            return;
        }
        self.last_activity = now;
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// The next complete message; `Ok(None)` when more bytes are needed.
    /// After an error, every call returns it again.
    pub fn pop(&mut self) -> Result<Option<SipMessage>, StreamError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.skip_keepalives();
        if self.buf.is_empty() {
            return Ok(None);
        }
        if self.needed.is_some_and(|n| self.buf.len() < n) {
            return Ok(None);
        }
        // One byte past the limit is enough for the parser to see that
        // the limit cut the message.
        let window = self
            .buf
            .len()
            .min(self.config.limits.max_message_size.saturating_add(1));
        let data = Bytes::copy_from_slice(&self.buf[..window]);
        match SipMessage::parse(data, TransportKind::Stream, &self.config.limits) {
            Ok(msg) => {
                self.buf.advance(msg.consumed());
                self.needed = None;
                Ok(Some(msg))
            }
            Err(e) => match e.kind() {
                crate::sip::ErrorKind::Incomplete { needed } => {
                    self.needed = *needed;
                    Ok(None)
                }
                _ => {
                    let e = StreamError::Framing(e);
                    self.failed = Some(e.clone());
                    self.buf.clear();
                    Err(e)
                }
            },
        }
    }

    /// Drops CR/LF before a message. Each double CRLF seen is a ping that
    /// wants one CRLF back ([`StreamFramer::take_pongs`]).
    fn skip_keepalives(&mut self) {
        let n = leading_keepalive_len(&self.buf);
        if n == 0 {
            return;
        }
        let lead = &self.buf[..n];
        let mut pings = 0;
        let mut end = 0;
        while let Some(p) = lead[end..].windows(4).position(|w| w == b"\r\n\r\n") {
            pings += 1;
            end += p + 4;
        }
        // When nothing follows, a tail that may become a ping (`\r\n\r`)
        // waits for the next read.
        let tail = &lead[end..];
        let skip = if n == self.buf.len() && tail.len() < 4 && b"\r\n\r\n".starts_with(tail) {
            end
        } else {
            n
        };
        self.pongs += pings;
        self.buf.advance(skip);
    }

    /// How many CRLF answers to send for the pings seen so far; resets.
    pub fn take_pongs(&mut self) -> usize {
        std::mem::take(&mut self.pongs)
    }

    /// Bytes waiting for the rest of their message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn last_activity(&self) -> Instant {
        self.last_activity
    }

    /// When the connection becomes idle if nothing arrives.
    pub fn idle_deadline(&self) -> Instant {
        self.last_activity + self.config.idle_timeout
    }

    /// Nothing arrived for at least the idle timeout.
    pub fn is_idle(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_activity) >= self.config.idle_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::ErrorKind;

    const MSG: &str = "OPTIONS sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: c\r\nContent-Length: 4\r\n\r\nbody";

    fn framer() -> (StreamFramer, Instant) {
        let now = Instant::now();
        (StreamFramer::new(StreamConfig::default(), now), now)
    }

    #[test]
    fn two_messages_in_one_push() {
        let (mut f, now) = framer();
        f.push(format!("{MSG}{MSG}").as_bytes(), now);
        let a = f.pop().unwrap().unwrap();
        assert_eq!(a.as_bytes(), MSG.as_bytes());
        let b = f.pop().unwrap().unwrap();
        assert_eq!(b.body(), "body");
        assert!(f.pop().unwrap().is_none());
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn one_message_byte_by_byte() {
        let (mut f, now) = framer();
        let bytes = MSG.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            f.push(&[*b], now);
            let got = f.pop().unwrap();
            assert_eq!(got.is_some(), i == bytes.len() - 1, "byte {i}");
        }
    }

    #[test]
    fn keepalives_are_skipped_and_pings_answered() {
        let (mut f, now) = framer();
        f.push(b"\r\n\r\n", now);
        assert!(f.pop().unwrap().is_none());
        assert_eq!(f.take_pongs(), 1);
        assert_eq!(f.buffered(), 0);
        f.push(format!("\r\n{MSG}\r\n").as_bytes(), now);
        assert!(f.pop().unwrap().is_some());
        assert!(f.pop().unwrap().is_none());
        assert_eq!(f.take_pongs(), 0);
        f.push(format!("\r\n\r\n{MSG}").as_bytes(), now);
        assert!(f.pop().unwrap().is_some());
        assert_eq!(f.take_pongs(), 1);
    }

    #[test]
    fn oversized_header_is_fatal() {
        let now = Instant::now();
        let mut f = StreamFramer::new(
            StreamConfig {
                limits: Limits {
                    max_header_size: 100,
                    ..Limits::default()
                },
                ..StreamConfig::default()
            },
            now,
        );
        f.push(b"OPTIONS sip:b@example.org SIP/2.0\r\nX-Big: ", now);
        assert!(f.pop().unwrap().is_none());
        f.push(&[b'a'; 200], now);
        let e = f.pop().unwrap_err();
        assert!(
            matches!(
                e.sip_error().kind(),
                ErrorKind::HeaderTooLong { limit: 100 }
            ),
            "{e}"
        );
        f.push(MSG.as_bytes(), now);
        assert_eq!(f.pop().unwrap_err(), e, "the connection stays failed");
    }

    #[test]
    fn oversized_message_and_garbage_are_fatal() {
        let now = Instant::now();
        let mut f = StreamFramer::new(
            StreamConfig {
                limits: Limits {
                    max_message_size: 200,
                    ..Limits::default()
                },
                ..StreamConfig::default()
            },
            now,
        );
        f.push(
            b"OPTIONS sip:b@example.org SIP/2.0\r\nContent-Length: 1000\r\n\r\n",
            now,
        );
        let e = f.pop().unwrap_err();
        assert_eq!(e.sip_error().code(), "too-large");
        let (mut f, now) = framer();
        f.push(b"HELLO\r\n\r\n", now);
        assert!(f.pop().is_err());
        let (mut f, now) = framer();
        f.push(
            b"OPTIONS sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n",
            now,
        );
        assert_eq!(
            f.pop().unwrap_err().sip_error().code(),
            "missing-content-length"
        );
    }

    #[test]
    fn idle_time_uses_the_given_clock() {
        let now = Instant::now();
        let mut f = StreamFramer::new(
            StreamConfig {
                idle_timeout: Duration::from_secs(10),
                ..StreamConfig::default()
            },
            now,
        );
        assert!(!f.is_idle(now + Duration::from_secs(9)));
        assert!(f.is_idle(now + Duration::from_secs(10)));
        f.push(b"\r\n", now + Duration::from_secs(8));
        assert!(!f.is_idle(now + Duration::from_secs(17)));
        assert_eq!(f.idle_deadline(), now + Duration::from_secs(18));
        f.push(b"", now + Duration::from_secs(17));
        assert!(f.is_idle(now + Duration::from_secs(18)));
    }
}
