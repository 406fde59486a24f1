//! Text taken from a message, and the two decodings SIP text needs.

use super::chars::hex_value;
use super::error::{ErrorKind, Problem, SipError};
use bytes::Bytes;
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// Text from a SIP message: a reference-counted slice of the received
/// buffer, so typed values cost no copies. SIP text is mostly ASCII, but
/// display names, reason phrases and unknown headers may carry UTF-8 or
/// anything else, so it stays bytes; [`SipStr::to_str`] serves the ASCII
/// case.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct SipStr(Bytes);

impl SipStr {
    pub(crate) fn new(bytes: Bytes) -> Self {
        SipStr(bytes)
    }

    pub const fn from_static(text: &'static str) -> Self {
        SipStr(Bytes::from_static(text.as_bytes()))
    }

    /// Copies `text` into a new buffer.
    pub fn copy_from(text: &[u8]) -> Self {
        SipStr(Bytes::copy_from_slice(text))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text as `&str` when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// ASCII case-insensitive comparison, as SIP compares tokens, schemes and
    /// header names.
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }

    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for SipStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for SipStr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for SipStr {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for SipStr {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for SipStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

impl fmt::Display for SipStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// Decodes `%XX` escapes. SIP compares URI parts after unescaping
/// (RFC 3261 §19.1.4) but forwards them as received, so parsed values keep
/// the raw form and callers decode when they compare. The error offset is
/// relative to `raw`.
pub fn percent_decode(raw: &[u8]) -> Result<Cow<'_, [u8]>, SipError> {
    if memchr::memchr(b'%', raw).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hi = raw.get(i + 1).copied().and_then(hex_value);
        let lo = raw.get(i + 2).copied().and_then(hex_value);
        match (hi, lo) {
            (Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => return Err(SipError::at(ErrorKind::Decode(Problem::BadEscape), i)),
        }
    }
    Ok(Cow::Owned(out))
}

/// The content of a quoted-string: the quotes dropped and quoted-pairs
/// resolved. Text that is not quoted comes back as it is.
pub fn unquote(raw: &[u8]) -> Cow<'_, [u8]> {
    let inner = match raw {
        [b'"', inner @ .., b'"'] => inner,
        _ => return Cow::Borrowed(raw),
    };
    if memchr::memchr(b'\\', inner).is_none() {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for &b in inner {
        if escaped || b != b'\\' {
            out.push(b);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    Cow::Owned(out)
}

/// The first `,` of a header value outside quotes and angle brackets: the
/// end of its first list element.
pub fn top_level_comma(b: &[u8]) -> Option<usize> {
    let (mut quoted, mut angle) = (false, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_nulls_and_rejects_broken_escapes() {
        assert_eq!(&*percent_decode(b"null-%00-null").unwrap(), b"null-\0-null");
        assert_eq!(&*percent_decode(b"%75se%72").unwrap(), b"user");
        assert_eq!(&*percent_decode(b"plain").unwrap(), b"plain");
        let err = percent_decode(b"ab%Z1").unwrap_err();
        assert_eq!(err.offset(), Some(2));
        assert!(percent_decode(b"%4").is_err());
    }

    #[test]
    fn unquoting_resolves_quoted_pairs() {
        assert_eq!(&*unquote(br#""J Rosenberg \\\"""#), br#"J Rosenberg \""#);
        assert_eq!(&*unquote(br#""plain""#), b"plain");
        assert_eq!(&*unquote(b"token"), b"token");
    }
}
