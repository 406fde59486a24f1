//! The reply save() answers with: status, and the headers Kamailio adds
//! (Contact list, Path, Unsupported, Min-Expires, P-Registrar-Error,
//! Retry-After). The caller sends it; it is built over the request by
//! [`LocalReply`] (RFC 3261 §8.2.6).

use super::config::RegistrarConfig;
use super::error::RegError;
use crate::sip::{LocalReply, SipError, SipMessage};
use crate::usrloc::{Contact, Location};
use bytes::Bytes;
use std::fmt::Write;

/// A reply to a REGISTER, before it is laid over the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarReply {
    pub status: u16,
    pub reason: &'static str,
    /// In Kamailio's order, after the copied Via/From/To/Call-ID/CSeq.
    pub headers: Vec<(&'static str, String)>,
}

impl RegistrarReply {
    pub(crate) fn ok() -> Self {
        RegistrarReply {
            status: 200,
            reason: "OK",
            headers: Vec::new(),
        }
    }

    pub(crate) fn set_error(&mut self, error: RegError) {
        self.status = error.status();
        self.reason = error.reason();
    }

    /// The value of header `name` (first one), for tests and callers.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The reply as a [`LocalReply`], for a caller that adds its own
    /// To tag and Server header.
    pub fn local_reply(&self) -> LocalReply<'_> {
        self.headers
            .iter()
            .fold(LocalReply::new(self.status, self.reason), |r, (n, v)| {
                r.header(n, v)
            })
    }

    /// The reply's bytes over `request`, with `to_tag` for a To without one.
    pub fn build(&self, request: &SipMessage, to_tag: &str) -> Result<Bytes, SipError> {
        self.local_reply().to_tag(to_tag).build(request)
    }
}

/// What GRUUs (RFC 5627) in a 200 OK are made of: the AoR and the host
/// of the registered URI. Given only when the UA said `Supported: gruu`
/// and gruu_enabled is on.
pub(crate) struct GruuHost<'a> {
    pub aor: &'a str,
    pub host: &'a str,
}

/// `Contact:` value listing every valid binding, as Kamailio's
/// build_contact prints it; None when there is none (no header then).
pub(crate) fn contact_list(
    contacts: &[Contact],
    now: u64,
    config: &RegistrarConfig,
    gruu: Option<&GruuHost<'_>>,
) -> Option<String> {
    let mut out = String::new();
    for c in contacts.iter().filter(|c| c.is_valid(now)) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "<{}>", c.uri);
        if let Some(q) = q_text(c.q) {
            let _ = write!(out, ";q={q}");
        }
        let left = c.expires.saturating_sub(now);
        let _ = write!(out, ";expires={left}");
        if let Some(received) = c.received.as_deref() {
            if !config.received_param.is_empty() {
                let _ = write!(out, ";{}=\"{received}\"", config.received_param);
            }
        }
        if let (Some(g), Some(instance)) = (gruu, c.instance_key()) {
            let _ = write!(out, ";pub-gruu=\"sip:");
            if g.aor.contains('@') {
                out.push_str(g.aor);
            } else {
                let _ = write!(out, "{}@{}", g.aor, g.host);
            }
            let _ = write!(out, ";gr={instance}\"");
            let _ = write!(
                out,
                ";temp-gruu=\"sip:{}-{}@{};gr\"",
                c.ruid,
                reversed_hex(Location::aor_hash(g.aor)),
                g.host
            );
        }
        if let Some(instance) = c.instance.as_deref() {
            let _ = write!(out, ";+sip.instance=\"{instance}\"");
        }
        if c.reg_id > 0 {
            let _ = write!(out, ";reg-id={}", c.reg_id);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The AoR hash in a temporary GRUU: hex digits, least significant
/// first, as Kamailio writes it.
pub(crate) fn reversed_hex(mut hash: u32) -> String {
    let mut out = String::new();
    while hash != 0 {
        let digit = hash & 0xf;
        out.push(char::from_digit(digit, 16).unwrap_or('0'));
        hash >>= 4;
    }
    out
}

/// Reads [`reversed_hex`] back; None when a digit is not hex.
pub(crate) fn parse_reversed_hex(text: &str) -> Option<u32> {
    text.chars()
        .rev()
        .try_fold(0u32, |acc, c| Some((acc << 4) | c.to_digit(16)?))
}

/// q as Kamailio's q2str prints it: `1`, `0.5`, `0.25`, `0`; nothing for
/// an unspecified q.
pub(crate) fn q_text(q: i16) -> Option<String> {
    match q {
        q if q < 0 => None,
        q if q >= 1000 => Some("1".to_owned()),
        0 => Some("0".to_owned()),
        q => {
            let digits = format!("{q:03}");
            Some(format!("0.{}", digits.trim_end_matches('0')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_print_like_kamailio() {
        assert_eq!(q_text(-1), None);
        assert_eq!(q_text(1000).as_deref(), Some("1"));
        assert_eq!(q_text(500).as_deref(), Some("0.5"));
        assert_eq!(q_text(250).as_deref(), Some("0.25"));
        assert_eq!(q_text(5).as_deref(), Some("0.005"));
        assert_eq!(q_text(0).as_deref(), Some("0"));
    }

    #[test]
    fn temp_gruu_hash_round_trips() {
        assert_eq!(reversed_hex(0x1a2), "2a1");
        assert_eq!(parse_reversed_hex("2a1"), Some(0x1a2));
        assert_eq!(parse_reversed_hex(&reversed_hex(u32::MAX)), Some(u32::MAX));
        assert_eq!(parse_reversed_hex("2g"), None);
    }
}
