//! The route set of a request as located entries: which header field and
//! which bytes each Route element occupies, so a proxy can delete exactly
//! the elements it consumes and keep the rest byte for byte.

use crate::sip::{HeaderName, SipError, SipMessage, Span};

/// One Route element (`name-addr *(;rr-param)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// The header field it is in.
    pub header: usize,
    /// Its position in that field's comma list, and the list's length.
    pub position: usize,
    pub in_header: usize,
    /// The element's bytes in the message (no surrounding white space).
    pub span: Span,
    /// The URI inside `<>`, as written.
    pub uri: String,
}

impl RouteEntry {
    /// `lr` among the URI parameters: the next hop is a loose router.
    pub fn is_loose(&self) -> bool {
        is_loose_uri(&self.uri)
    }
}

/// Every Route element, top first. Fails when a Route header does not
/// parse (a proxy must not guess a route set).
pub fn route_entries(msg: &SipMessage) -> Result<Vec<RouteEntry>, SipError> {
    let mut out = Vec::new();
    for h in msg.headers_named(&HeaderName::Route) {
        let parsed = match h.typed()? {
            crate::sip::TypedHeader::Route(r) => r.len(),
            _ => 0,
        };
        let value = h.value();
        let base = h.value_span().start;
        let pieces = split_list(&value);
        if pieces.len() != parsed {
            return Err(SipError::new(crate::sip::ErrorKind::Header {
                name: HeaderName::Route,
                problem: crate::sip::Problem::ExpectedNameAddr,
            }));
        }
        let n = pieces.len();
        for (position, (start, end)) in pieces.into_iter().enumerate() {
            let text = String::from_utf8_lossy(&value[start..end]).into_owned();
            out.push(RouteEntry {
                header: h.index(),
                position,
                in_header: n,
                span: Span::new(base + start, base + end),
                uri: bracketed_uri(&text),
            });
        }
    }
    Ok(out)
}

/// The URI between `<` and `>` (the whole text when unbracketed).
fn bracketed_uri(element: &str) -> String {
    match (element.find('<'), element.rfind('>')) {
        (Some(a), Some(b)) if a < b => element[a + 1..b].to_string(),
        _ => element.trim().to_string(),
    }
}

/// Whether a URI carries `lr`.
pub(crate) fn is_loose_uri(uri: &str) -> bool {
    uri_params(uri).split(';').any(|p| {
        p.split('=')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("lr")
    })
}

/// The parameter part of a sip/sips URI with its leading `;`
/// (`;lr;ftag=x`, what Kamailio matches `check_route_param` against),
/// headers excluded; empty when it has none.
pub(crate) fn uri_params(uri: &str) -> &str {
    let no_headers = uri.split('?').next().unwrap_or("");
    // Past the user part: its `;` would be user parameters.
    let host_part = match no_headers.rfind('@') {
        Some(at) => &no_headers[at + 1..],
        None => no_headers,
    };
    match host_part.find(';') {
        Some(i) => &host_part[i..],
        None => "",
    }
}

/// Element spans of a comma list: commas inside quotes or `<>` do not
/// separate; white space around elements is left out.
fn split_list(value: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    let mut start = 0;
    let trimmed = |s: usize, e: usize| {
        let mut s = s;
        let mut e = e;
        while s < e && value[s].is_ascii_whitespace() {
            s += 1;
        }
        while e > s && value[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        (s, e)
    };
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                out.push(trimmed(start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(trimmed(start, value.len()));
    out.retain(|(s, e)| s < e);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        assert_eq!(
            split_list(b"<sip:a;lr>, \"x,y\" <sip:b>,<sip:c>"),
            vec![(0, 10), (12, 25), (26, 33)]
        );
    }

    #[test]
    fn uri_params_skip_user_params_and_headers() {
        assert_eq!(uri_params("sip:u;x=1@h;lr;ftag=a?h=v"), ";lr;ftag=a");
        assert_eq!(uri_params("sip:h"), "");
    }
}
