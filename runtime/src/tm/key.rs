//! How messages find their transaction: server keys (RFC 3261 §17.2.3,
//! with the RFC 2543 fallback), the branch we put in our Via (which names
//! cell and branch, so a reply finds its client transaction without a
//! search), and the hash that picks a shard.

use crate::sip::{Method, SipError, SipMessage, Via};
use std::hash::{Hash, Hasher};

use super::TmError;

/// FNV-1a: small, fixed and the same in every process, so all workers
/// agree on the shard of a transaction.
fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in *part {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        // Separator, so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The transaction hash of a request: Call-ID and CSeq number, which an
/// INVITE, its retransmissions, its CANCEL and its hop-by-hop ACK share
/// (Kamailio hashes the same two).
pub fn request_hash(msg: &SipMessage) -> Result<u32, TmError> {
    let call_id = msg.call_id()?.ok_or(TmError::MissingHeader("Call-ID"))?;
    let cseq = msg.cseq()?.ok_or(TmError::MissingHeader("CSeq"))?;
    Ok(fnv1a(&[call_id.as_bytes(), &cseq.number().to_be_bytes()]))
}

/// Which of `shards` tables holds the transaction of `request`.
pub fn shard_for_request(request: &SipMessage, shards: usize) -> Result<usize, TmError> {
    Ok(shard_of(request_hash(request)?, shards))
}

/// Which of `shards` tables holds the client transaction a response
/// belongs to, read from the branch we put in our Via; `None` when the top
/// Via is not ours (`instance` as configured).
pub fn shard_for_response(response: &SipMessage, instance: &str, shards: usize) -> Option<usize> {
    let via = response.top_via().ok()??;
    let id = BranchId::parse(via.branch()?.as_bytes(), instance)?;
    Some(shard_of(id.hash, shards))
}

pub(crate) fn shard_of(hash: u32, shards: usize) -> usize {
    (hash as usize) % shards.max(1)
}

/// The branch parameter of our Via: `z9hG4bK` + instance + `.` + hash +
/// `.` + cell label + `.` + branch index, hex. Kamailio's is built the same
/// way (hash index and label of the cell, then the branch number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BranchId {
    pub hash: u32,
    pub label: u64,
    pub index: usize,
}

impl BranchId {
    pub fn render(&self, instance: &str) -> String {
        // By hand rather than format!: one per branch, and the formatting
        // machinery cost more than the rest of building the Via.
        let mut out = String::with_capacity(7 + instance.len() + 3 * 17);
        out.push_str("z9hG4bK");
        out.push_str(instance);
        for n in [u64::from(self.hash), self.label, self.index as u64] {
            out.push('.');
            push_hex(&mut out, n, 1);
        }
        out
    }

    /// Every reply is matched by this, up to three times: it reads the
    /// bytes directly rather than through `str` splitting and
    /// `from_str_radix`, accepting what they accepted.
    pub fn parse(branch: &[u8], instance: &str) -> Option<BranchId> {
        let rest = branch.strip_prefix(b"z9hG4bK")?;
        let rest = rest.strip_prefix(instance.as_bytes())?;
        let mut parts = rest.strip_prefix(b".")?.split(|&b| b == b'.');
        let hash = u32::try_from(hex(parts.next()?)?).ok()?;
        let label = hex(parts.next()?)?;
        let index = usize::try_from(hex(parts.next()?)?).ok()?;
        parts
            .next()
            .is_none()
            .then_some(BranchId { hash, label, index })
    }
}

/// Appends `n` in lower-case hex (`{:x}`), zero-padded to at least
/// `width` digits (`{:0width$x}`).
pub(crate) fn push_hex(out: &mut String, n: u64, width: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut start = buf.len();
    let mut rest = n;
    loop {
        start -= 1;
        buf[start] = DIGITS[(rest & 0xf) as usize];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    for _ in buf.len() - start..width {
        out.push('0');
    }
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

/// A hex number as `u64::from_str_radix(_, 16)` reads it: an optional
/// `+`, then at least one digit of either case, no overflow.
fn hex(text: &[u8]) -> Option<u64> {
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let d = char::from(b).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(d))
    })
}

/// Which transaction a method belongs to when matching: ACK and CANCEL
/// find the INVITE's (§17.2.3, §9.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MethodClass {
    Invite,
    Other(Vec<u8>),
}

impl MethodClass {
    pub fn of(method: &Method) -> MethodClass {
        match method {
            Method::Invite | Method::Ack => MethodClass::Invite,
            other => MethodClass::Other(other.as_bytes().to_vec()),
        }
    }
}

/// The part of a top Via that identifies the hop: transport, sent-by and
/// branch (hosts compare without case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViaId {
    transport: Vec<u8>,
    host: Vec<u8>,
    port: Option<u16>,
    branch: Option<Vec<u8>>,
}

impl ViaId {
    fn of(via: &Via) -> ViaId {
        ViaId {
            transport: via.transport().to_ascii_uppercase(),
            host: via.host().text().to_ascii_lowercase(),
            port: via.port(),
            branch: via.branch().map(|b| b.to_vec()),
        }
    }
}

/// Every field, as the derived hash did, but in five writes instead of
/// ten (each costs about 60 instructions of SipHash; a key is hashed about
/// ten times per call). The separator keeps one field's end from running
/// into the next (`0xff` never occurs in a SIP token or host).
impl Hash for ViaId {
    fn hash<S: Hasher>(&self, state: &mut S) {
        state.write(&self.transport);
        state.write_u8(0xff);
        state.write(&self.host);
        state.write_u32(self.port.map_or(u32::MAX, u32::from));
        state.write(self.branch.as_deref().unwrap_or(&[0xff]));
    }
}

/// What a server transaction is found by, computed from the request that
/// created it and from every request that might belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    /// §17.2.3: branch (it carries the magic cookie) and sent-by of the top
    /// Via, and the method class.
    Rfc3261 { via: ViaId, class: MethodClass },
    /// The RFC 2543 fallback, without the To tag: that one is compared
    /// after the lookup, because for an ACK it is the tag of our reply.
    Rfc2543 {
        request_uri: Vec<u8>,
        from_tag: Vec<u8>,
        call_id: Vec<u8>,
        cseq: u32,
        via: ViaId,
        class: MethodClass,
    },
}

/// The key of `msg` as a member of `class`' transaction, and its To tag.
pub(crate) fn server_key(
    msg: &SipMessage,
    class: MethodClass,
) -> Result<(ServerKey, Option<Vec<u8>>), TmError> {
    let via = msg.top_via()?.ok_or(TmError::MissingHeader("Via"))?;
    let to_tag = msg
        .to_header()?
        .ok_or(TmError::MissingHeader("To"))?
        .tag()
        .map(|t| t.to_vec());
    if via.has_rfc3261_branch() {
        let key = ServerKey::Rfc3261 {
            via: ViaId::of(via),
            class,
        };
        return Ok((key, to_tag));
    }
    let from_tag = msg
        .from_header()?
        .ok_or(TmError::MissingHeader("From"))?
        .tag()
        .map(|t| t.to_vec())
        .unwrap_or_default();
    let call_id = msg.call_id()?.ok_or(TmError::MissingHeader("Call-ID"))?;
    let cseq = msg.cseq()?.ok_or(TmError::MissingHeader("CSeq"))?;
    let request_uri = msg.request_uri_text().ok_or(TmError::Sip(SipError::new(
        crate::sip::ErrorKind::NotARequest,
    )))?;
    let key = ServerKey::Rfc2543 {
        request_uri: request_uri.to_vec(),
        from_tag,
        call_id: call_id.to_vec(),
        cseq: cseq.number(),
        via: ViaId::of(via),
        class,
    };
    Ok((key, to_tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_written_as_format_writes_it() {
        for n in [0, 1, 0xf, 0x10, 0xdead_beef, u64::from(u32::MAX), u64::MAX] {
            for width in [1, 8] {
                let mut out = String::from("x");
                push_hex(&mut out, n, width);
                assert_eq!(out, format!("x{n:0width$x}"));
            }
        }
    }

    #[test]
    fn branch_ids_round_trip_and_reject_foreign_branches() {
        let id = BranchId {
            hash: 0xdead_beef,
            label: 42,
            index: 3,
        };
        let text = id.render("sc");
        assert_eq!(text, "z9hG4bKsc.deadbeef.2a.3");
        assert_eq!(BranchId::parse(text.as_bytes(), "sc"), Some(id));
        assert_eq!(BranchId::parse(text.as_bytes(), "other"), None);
        assert_eq!(BranchId::parse(b"z9hG4bKsc.1.2", "sc"), None);
        assert_eq!(BranchId::parse(b"z9hG4bKsc.1.2.3.4", "sc"), None);
        assert_eq!(BranchId::parse(b"z9hG4bK776asdhds", "sc"), None);
    }

    #[test]
    fn hex_reads_what_from_str_radix_reads() {
        for text in [
            "0",
            "ff",
            "FF",
            "+a",
            "+",
            "",
            "-1",
            "g",
            "1 ",
            "ffffffffffffffff",
            "10000000000000000",
            "00000000000000000001",
            "\u{e9}",
        ] {
            assert_eq!(
                hex(text.as_bytes()),
                u64::from_str_radix(text, 16).ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn hash_depends_on_call_id_and_cseq_number_only() {
        let a = SipMessage::parse_datagram(
            "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 7 INVITE\r\nFrom: <sip:f@f>;tag=1\r\nTo: <sip:a@b>\r\n\r\n",
        )
        .unwrap();
        let b = SipMessage::parse_datagram(
            "CANCEL sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 7 CANCEL\r\nFrom: <sip:f@f>;tag=1\r\nTo: <sip:a@b>\r\n\r\n",
        )
        .unwrap();
        let c = SipMessage::parse_datagram(
            "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 8 INVITE\r\nFrom: <sip:f@f>;tag=1\r\nTo: <sip:a@b>\r\n\r\n",
        )
        .unwrap();
        assert_eq!(request_hash(&a).unwrap(), request_hash(&b).unwrap());
        assert_ne!(request_hash(&a).unwrap(), request_hash(&c).unwrap());
        assert_eq!(shard_for_request(&a, 1).unwrap(), 0);
    }
}
