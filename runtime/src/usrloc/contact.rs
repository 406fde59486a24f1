//! One binding of an AoR: what a REGISTER told us about one contact.

use std::sync::Arc;

/// q of a contact that gave none and got no default (`default_q` unset):
/// sorts below q=0 and is not printed in replies.
pub const Q_UNSPECIFIED: i16 = -1;

/// A stored contact. Strings are boxed slices: 100,000 of these must fit
/// in well under 1 KB each beyond their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact URI as the REGISTER wrote it (no `<>`).
    pub uri: Box<str>,
    /// Where the UA really is when it differs from the URI (NAT): a
    /// `received` contact parameter, the `received_avp` value or the
    /// first Path hop's `received` parameter.
    pub received: Option<Box<str>>,
    /// The Path vector (RFC 3327), every Path value joined by `,`.
    pub path: Option<Box<str>>,
    /// Thousandths, or [`Q_UNSPECIFIED`].
    pub q: i16,
    /// Absolute expiry in Unix seconds; 0 means never.
    pub expires: u64,
    pub call_id: Box<str>,
    pub cseq: u32,
    pub user_agent: Box<str>,
    /// usrloc's own flags (memory-only and the like).
    pub flags: u32,
    /// Branch flags saved with the contact and restored by lookup.
    pub cflags: u32,
    /// The local socket the REGISTER came in on (`proto:ip:port`); shared
    /// because a server has a handful of sockets and many contacts.
    pub socket: Option<Arc<str>>,
    /// `+sip.instance` (RFC 5626), unquoted, `<>` kept.
    pub instance: Option<Box<str>>,
    /// `reg-id` (RFC 5626); 0 when absent.
    pub reg_id: u32,
    /// Record unique id, kept over updates.
    pub ruid: Box<str>,
    /// Methods the contact accepts, a [`methods`] bit set.
    pub methods: u32,
    pub last_modified: u64,
}

impl Contact {
    /// Kamailio's VALID_CONTACT: not expired at `now` (or permanent).
    pub fn is_valid(&self, now: u64) -> bool {
        self.expires == 0 || self.expires > now
    }

    /// The instance without its `<>`, as RFC 5626 compares them.
    pub fn instance_key(&self) -> Option<&str> {
        self.instance.as_deref().map(strip_angle_brackets)
    }

    /// Bytes on the heap besides the struct itself.
    pub fn heap_bytes(&self) -> usize {
        let opt = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
        self.uri.len()
            + opt(&self.received)
            + opt(&self.path)
            + self.call_id.len()
            + self.user_agent.len()
            + opt(&self.instance)
            + self.ruid.len()
    }
}

pub fn strip_angle_brackets(text: &str) -> &str {
    text.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(text)
}

/// Kamailio's method bits (`parser/msg_parser.h`), as stored in the
/// `methods` column and compared by `method_filtering`.
pub mod methods {
    pub const INVITE: u32 = 1;
    pub const CANCEL: u32 = 1 << 1;
    pub const ACK: u32 = 1 << 2;
    pub const BYE: u32 = 1 << 3;
    pub const INFO: u32 = 1 << 4;
    pub const REGISTER: u32 = 1 << 5;
    pub const SUBSCRIBE: u32 = 1 << 6;
    pub const NOTIFY: u32 = 1 << 7;
    pub const MESSAGE: u32 = 1 << 8;
    pub const OPTIONS: u32 = 1 << 9;
    pub const PRACK: u32 = 1 << 10;
    pub const UPDATE: u32 = 1 << 11;
    pub const REFER: u32 = 1 << 12;
    pub const PUBLISH: u32 = 1 << 13;
    /// Any method without a bit of its own.
    pub const OTHER: u32 = 1 << 31;
    /// No Allow header and no `methods` parameter: everything.
    pub const ALL: u32 = u32::MAX;

    const NAMES: [(&str, u32); 14] = [
        ("INVITE", INVITE),
        ("CANCEL", CANCEL),
        ("ACK", ACK),
        ("BYE", BYE),
        ("INFO", INFO),
        ("REGISTER", REGISTER),
        ("SUBSCRIBE", SUBSCRIBE),
        ("NOTIFY", NOTIFY),
        ("MESSAGE", MESSAGE),
        ("OPTIONS", OPTIONS),
        ("PRACK", PRACK),
        ("UPDATE", UPDATE),
        ("REFER", REFER),
        ("PUBLISH", PUBLISH),
    ];

    /// The bit of one method name (case-sensitive, as SIP methods are).
    pub fn bit(name: &[u8]) -> u32 {
        NAMES
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map_or(OTHER, |&(_, b)| b)
    }

    /// The bits of a comma-separated method list (an Allow value or a
    /// `methods` parameter); white space around names is ignored.
    pub fn parse_list(text: &[u8]) -> u32 {
        text.split(|&b| b == b',')
            .map(|m| m.trim_ascii())
            .filter(|m| !m.is_empty())
            .fold(0, |acc, m| acc | bit(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_lists_become_bits() {
        assert_eq!(
            methods::parse_list(b"INVITE, ACK ,BYE"),
            methods::INVITE | methods::ACK | methods::BYE
        );
        assert_eq!(methods::parse_list(b"FOO"), methods::OTHER);
        assert_eq!(methods::parse_list(b"invite"), methods::OTHER);
        assert_eq!(methods::parse_list(b""), 0);
    }

    #[test]
    fn instances_compare_without_brackets() {
        assert_eq!(strip_angle_brackets("<urn:uuid:1>"), "urn:uuid:1");
        assert_eq!(strip_angle_brackets("urn:uuid:1"), "urn:uuid:1");
        assert_eq!(strip_angle_brackets("<"), "<");
    }
}

#[cfg(test)]
mod size {
    /// The memory target (docs/benchmarks.md) rests on this staying small.
    #[test]
    fn a_contact_is_under_200_bytes_before_its_text() {
        let size = std::mem::size_of::<super::Contact>();
        assert!(size <= 200, "Contact is {size} bytes");
        println!("Contact: {size} bytes");
    }
}
