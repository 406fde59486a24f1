//! Header field names: case-insensitive, compact forms folded into the full
//! name (RFC 3261 §7.3.3 and the registry of compact forms).

use super::chars::is_token;
use super::span::Span;
use super::text::SipStr;
use bytes::Bytes;
use std::fmt;

macro_rules! header_names {
    (@compact) => { None };
    (@compact $c:literal) => { Some($c as char) };
    ($( $variant:ident = $full:literal $(/ $compact:literal)? ,)*) => {
        /// A header field name. Known names compare by variant, whatever
        /// case or compact form they arrived in; any other name is kept as
        /// received and compares case-insensitively.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $variant, )*
            Other(SipStr),
        }

        /// Every known name as RFC 3261 spells it.
        #[cfg(test)]
        const ALL_FULL_NAMES: &[&str] = &[$( $full, )*];

        impl HeaderName {
            fn known(raw: &[u8]) -> Option<HeaderName> {
                if let [one] = raw {
                    return match one.to_ascii_lowercase() {
                        $( $( $compact => Some(HeaderName::$variant), )? )*
                        _ => None,
                    };
                }
                $(
                    if raw.len() == $full.len() {
                        const LOWER: [u8; $full.len()] = lower_case($full);
                        if token_eq_lower(raw, &LOWER) {
                            return Some(HeaderName::$variant);
                        }
                    }
                )*
                None
            }

            /// The full name as RFC 3261 spells it (or the name as received).
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $full, )*
                    HeaderName::Other(raw) => raw.to_str().unwrap_or("?"),
                }
            }

            /// The one-letter compact form, when the name has one.
            pub fn compact_form(&self) -> Option<char> {
                match self {
                    $( HeaderName::$variant => header_names!(@compact $($compact)?), )*
                    HeaderName::Other(_) => None,
                }
            }
        }
    };
}

/// `name` in lower case, as an array the size of `N` (its length).
const fn lower_case<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i].to_ascii_lowercase();
        i += 1;
    }
    out
}

/// Whether the token `raw` is `lower` (a known name in lower case) in any
/// case. In a token, setting bit 0x20 lower-cases a letter and maps no
/// other token character onto a letter or `-` (`_` becomes DEL), so one OR
/// per byte, eight bytes at a time, replaces `eq_ignore_ascii_case`'s
/// per-byte case folding of both sides: every header of every message is
/// looked up here.
// Inlined into each comparison, where the name and its length are constants.
#[inline(always)]
fn token_eq_lower(raw: &[u8], lower: &[u8]) -> bool {
    const CASE: u64 = 0x2020_2020_2020_2020;
    if raw.len() != lower.len() {
        return false;
    }
    let (mut raw, mut lower) = (raw, lower);
    while let (Some((r, r_rest)), Some((l, l_rest))) =
        (raw.split_first_chunk::<8>(), lower.split_first_chunk::<8>())
    {
        if u64::from_le_bytes(*r) | CASE != u64::from_le_bytes(*l) | CASE {
            return false;
        }
        (raw, lower) = (r_rest, l_rest);
    }
    raw.iter().zip(lower).all(|(&r, &l)| r | 0x20 == l | 0x20)
}

header_names! {
    Via = "Via" / b'v',
    From = "From" / b'f',
    To = "To" / b't',
    CallId = "Call-ID" / b'i',
    CSeq = "CSeq",
    Contact = "Contact" / b'm',
    ContentLength = "Content-Length" / b'l',
    ContentType = "Content-Type" / b'c',
    ContentEncoding = "Content-Encoding" / b'e',
    Supported = "Supported" / b'k',
    Subject = "Subject" / b's',
    Event = "Event" / b'o',
    ReferTo = "Refer-To" / b'r',
    AllowEvents = "Allow-Events" / b'u',
    SessionExpires = "Session-Expires" / b'x',
    Identity = "Identity" / b'y',
    AcceptContact = "Accept-Contact" / b'a',
    ReferredBy = "Referred-By" / b'b',
    RequestDisposition = "Request-Disposition" / b'd',
    RejectContact = "Reject-Contact" / b'j',
    IdentityInfo = "Identity-Info" / b'n',
    Route = "Route",
    RecordRoute = "Record-Route",
    MaxForwards = "Max-Forwards",
    Expires = "Expires",
    MinExpires = "Min-Expires",
    Authorization = "Authorization",
    ProxyAuthorization = "Proxy-Authorization",
    WwwAuthenticate = "WWW-Authenticate",
    ProxyAuthenticate = "Proxy-Authenticate",
    AuthenticationInfo = "Authentication-Info",
    Date = "Date",
    Require = "Require",
    ProxyRequire = "Proxy-Require",
    Unsupported = "Unsupported",
    Allow = "Allow",
    Accept = "Accept",
    AcceptEncoding = "Accept-Encoding",
    AcceptLanguage = "Accept-Language",
    AlertInfo = "Alert-Info",
    CallInfo = "Call-Info",
    ContentDisposition = "Content-Disposition",
    ContentLanguage = "Content-Language",
    ErrorInfo = "Error-Info",
    InReplyTo = "In-Reply-To",
    MimeVersion = "MIME-Version",
    Organization = "Organization",
    Priority = "Priority",
    ReplyTo = "Reply-To",
    RetryAfter = "Retry-After",
    Server = "Server",
    Timestamp = "Timestamp",
    UserAgent = "User-Agent",
    Warning = "Warning",
    Path = "Path",
    ServiceRoute = "Service-Route",
    PAssertedIdentity = "P-Asserted-Identity",
    PPreferredIdentity = "P-Preferred-Identity",
    Privacy = "Privacy",
    RSeq = "RSeq",
    RAck = "RAck",
    Reason = "Reason",
    Replaces = "Replaces",
    MinSe = "Min-SE",
}

impl HeaderName {
    /// The name of a header at `span` in a message `buf`, which must be a
    /// token (framing guarantees it). A known name (most of them) takes
    /// no reference to the buffer.
    pub(crate) fn in_buffer(buf: &Bytes, span: Span) -> Self {
        Self::known(buf.get(span.range()).unwrap_or_default())
            .unwrap_or_else(|| HeaderName::Other(SipStr::new(buf.slice(span.range()))))
    }

    /// A name given by a caller (say, a header to add). Returns `None` when
    /// it is not a token.
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || !bytes.iter().all(|&b| is_token(b)) {
            return None;
        }
        Some(Self::known(bytes).unwrap_or_else(|| HeaderName::Other(SipStr::copy_from(bytes))))
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for HeaderName {}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &'static str) -> HeaderName {
        let buf = Bytes::from_static(raw.as_bytes());
        HeaderName::in_buffer(&buf, Span::new(0, buf.len()))
    }

    #[test]
    fn names_fold_case_and_compact_forms() {
        assert_eq!(name("vIA"), HeaderName::Via);
        assert_eq!(name("v"), HeaderName::Via);
        assert_eq!(name("V"), HeaderName::Via);
        assert_eq!(name("I"), HeaderName::CallId);
        assert_eq!(name("l"), HeaderName::ContentLength);
        assert_eq!(name("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(name("x"), HeaderName::SessionExpires);
        assert_eq!(HeaderName::Contact.compact_form(), Some('m'));
        assert_eq!(HeaderName::CSeq.compact_form(), None);
    }

    #[test]
    fn every_full_name_is_found_in_any_case() {
        for full in ALL_FULL_NAMES {
            for text in [full.to_string(), full.to_lowercase(), full.to_uppercase()] {
                let known = HeaderName::new(&text).unwrap();
                assert!(!matches!(known, HeaderName::Other(_)), "{text}");
                assert_eq!(known.as_str(), *full);
            }
        }
        assert!(matches!(name("Vias"), HeaderName::Other(_)));
        assert!(matches!(name("Call-IE"), HeaderName::Other(_)));
        // `_` | 0x20 is DEL, not a letter: no false match through the OR.
        assert!(matches!(name("Call_ID"), HeaderName::Other(_)));
    }

    #[test]
    fn token_comparison_agrees_with_eq_ignore_ascii_case() {
        let tokens: Vec<u8> = (0u8..=127).filter(|&b| is_token(b)).collect();
        for full in ALL_FULL_NAMES {
            let lower = full.to_ascii_lowercase();
            for at in 0..full.len() {
                for &b in &tokens {
                    let mut raw = full.as_bytes().to_vec();
                    raw[at] = b;
                    assert_eq!(
                        token_eq_lower(&raw, lower.as_bytes()),
                        raw.eq_ignore_ascii_case(lower.as_bytes()),
                        "{full} with {:?} at {at}",
                        char::from(b)
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_names_compare_without_case_and_escapes_stay_unknown() {
        assert_eq!(name("X-Foo"), name("x-foo"));
        assert_eq!(
            name("C%6Fntact"),
            HeaderName::Other(SipStr::from_static("c%6fntact"))
        );
        assert_ne!(name("C%6Fntact"), HeaderName::Contact);
        assert_eq!(name("q"), HeaderName::Other(SipStr::from_static("Q")));
    }

    #[test]
    fn caller_names_must_be_tokens() {
        assert_eq!(HeaderName::new("Via"), Some(HeaderName::Via));
        assert!(HeaderName::new("Bad Name").is_none());
        assert!(HeaderName::new("").is_none());
        assert_eq!(
            HeaderName::new("X-Test")
                .map(|n| n.as_str().to_owned())
                .as_deref(),
            Some("X-Test")
        );
    }
}
