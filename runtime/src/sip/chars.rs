//! Character classes of the RFC 3261 grammar (§25.1), as predicates.

/// `token`: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// [`is_token`] as a table: framing asks it for every byte of every header
/// name, and a lookup is a third of the instructions of the comparisons.
static TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        b += 1;
    }
    table
};

/// SP / HTAB.
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Linear white space inside a framed header value. Framing only lets CR and
/// LF into a value as part of a fold (line end followed by SP/HT), so a
/// typed parser may treat them as plain white space.
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// CTL other than HTAB, which RFC 3261 text rules exclude.
pub(crate) fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// `unreserved` = alphanum / mark.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Characters of the user part of a SIP URI: unreserved, escaped and
/// `user-unreserved`. `#` is not in the grammar but phones send it
/// unescaped in dial strings, and refusing those helps nobody.
pub(crate) fn is_user_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'%' | b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/' | b'#'
        )
}

/// Characters of the password part of a SIP URI.
pub(crate) fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'%' | b'&' | b'=' | b'+' | b'$' | b',')
}

/// `paramchar` of URI parameters (pname and pvalue).
pub(crate) fn is_uri_param_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'%' | b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

/// Characters of the `?headers` part of a SIP URI, separators included.
pub(crate) fn is_uri_header_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'%' | b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$' | b'=' | b'&'
        )
}

/// Characters of a URI scheme after its first letter.
pub(crate) fn is_scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Whether `bytes` is a URI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
pub(crate) fn is_scheme(bytes: &[u8]) -> bool {
    match bytes.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic() && rest.iter().all(|&b| is_scheme_char(b))
        }
        None => false,
    }
}

/// Characters of an unquoted header parameter value. The grammar says
/// token / host, but deployed phones put other printable characters in tags
/// (`tag=7618c7618^`), and Kamailio takes them; what matters for framing the
/// list is that the value stops at the separators.
pub(crate) fn is_param_value_char(b: u8) -> bool {
    b > b' ' && b != 0x7f && !matches!(b, b';' | b',' | b'"' | b'<' | b'>')
}

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
