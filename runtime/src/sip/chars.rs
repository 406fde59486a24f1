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

/// A table of the 256 bytes, true where `$pred` holds for the byte `$c`,
/// built at compile time: the URI and parameter parsers ask these for
/// every byte they take, and a lookup is a fraction of the comparisons.
macro_rules! class_table {
    ($c:ident => $pred:expr) => {{
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let $c = b as u8;
            table[b] = $pred;
            b += 1;
        }
        table
    }};
}

/// `unreserved` = alphanum / mark (the classes below build on it).
const fn unreserved(b: u8) -> bool {
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
    USER[usize::from(b)]
}

static USER: [bool; 256] = class_table!(c => unreserved(c)
|| matches!(
    c,
    b'%' | b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/' | b'#'
));

/// Characters of the password part of a SIP URI.
pub(crate) fn is_password_char(b: u8) -> bool {
    PASSWORD[usize::from(b)]
}

static PASSWORD: [bool; 256] =
    class_table!(c => unreserved(c) || matches!(c, b'%' | b'&' | b'=' | b'+' | b'$' | b','));

/// `paramchar` of URI parameters (pname and pvalue).
pub(crate) fn is_uri_param_char(b: u8) -> bool {
    URI_PARAM[usize::from(b)]
}

static URI_PARAM: [bool; 256] = class_table!(c => unreserved(c)
    || matches!(c, b'%' | b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$'));

/// Characters of the `?headers` part of a SIP URI, separators included.
pub(crate) fn is_uri_header_char(b: u8) -> bool {
    URI_HEADER[usize::from(b)]
}

static URI_HEADER: [bool; 256] = class_table!(c => unreserved(c)
|| matches!(
    c,
    b'%' | b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$' | b'=' | b'&'
));

/// Characters of a URI scheme after its first letter.
pub(crate) fn is_scheme_char(b: u8) -> bool {
    SCHEME[usize::from(b)]
}

static SCHEME: [bool; 256] =
    class_table!(c => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));

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
    PARAM_VALUE[usize::from(b)]
}

static PARAM_VALUE: [bool; 256] =
    class_table!(c => c > b' ' && c != 0x7f && !matches!(c, b';' | b',' | b'"' | b'<' | b'>'));

/// Characters of a host name or IPv4 address. Host names may contain `_`,
/// which the grammar forbids but SRV-style names and Kamailio accept.
pub(crate) fn is_host_char(b: u8) -> bool {
    HOST[usize::from(b)]
}

static HOST: [bool; 256] =
    class_table!(c => c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_tables_hold_their_predicates() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            assert_eq!(is_host_char(b), alnum || b"-._".contains(&b), "{b}");
            assert_eq!(is_scheme_char(b), alnum || b"+-.".contains(&b), "{b}");
            assert_eq!(
                is_user_char(b),
                alnum || b"-_.!~*'()%&=+$,;?/#".contains(&b),
                "{b}"
            );
            assert_eq!(
                is_password_char(b),
                alnum || b"-_.!~*'()%&=+$,".contains(&b),
                "{b}"
            );
            assert_eq!(
                is_uri_param_char(b),
                alnum || b"-_.!~*'()%[]/:&+$".contains(&b),
                "{b}"
            );
            assert_eq!(
                is_uri_header_char(b),
                alnum || b"-_.!~*'()%[]/?:+$=&".contains(&b),
                "{b}"
            );
            assert_eq!(
                is_param_value_char(b),
                (0x21..0x7f).contains(&b) && !b";,\"<>".contains(&b) || b >= 0x80,
                "{b}"
            );
        }
    }
}
