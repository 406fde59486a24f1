//! URIs: sip, sips and tel parsed into parts; any other scheme kept as an
//! opaque absolute URI (RFC 3261 §19.1, RFC 3966). Parts keep their
//! `%`-escapes; decode with [`percent_decode`](super::percent_decode) to
//! compare.

use super::chars::{is_password_char, is_scheme_char, is_uri_header_char, is_user_char};
use super::error::Problem;
use super::host::{parse_host, parse_port, Host};
use super::params::{parse_uri_params, Params};
use super::scanner::{Fault, Scanner};
use super::span::Span;
use super::text::SipStr;
use bytes::Bytes;
use std::fmt;

/// A URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    Tel(TelUri),
    /// A scheme we do not interpret (`isbn:`, `http:`, `soap.beep:` ...).
    Other(AbsoluteUri),
}

impl Uri {
    /// The URI as received.
    pub fn raw(&self) -> &SipStr {
        match self {
            Uri::Sip(u) => &u.raw,
            Uri::Tel(u) => &u.raw,
            Uri::Other(u) => &u.raw,
        }
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// Parses a URI given on its own (for example, a new Request-URI).
    pub fn parse(text: &[u8]) -> Result<Uri, super::SipError> {
        let src = Bytes::copy_from_slice(text);
        parse_uri(&src, Span::new(0, src.len()))
            .map_err(|f| super::SipError::at(super::ErrorKind::Uri(f.problem), f.offset))
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.raw())
    }
}

/// `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    raw: SipStr,
    secure: bool,
    user: Option<SipStr>,
    password: Option<SipStr>,
    host: Host,
    port: Option<u16>,
    params: Params,
    headers: Option<SipStr>,
}

impl SipUri {
    pub fn raw(&self) -> &SipStr {
        &self.raw
    }

    /// `sips:`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The user part, escapes kept (`sips%3Auser%40example.com`).
    pub fn user(&self) -> Option<&SipStr> {
        self.user.as_ref()
    }

    pub fn password(&self) -> Option<&SipStr> {
        self.password.as_ref()
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The part after `?`, unsplit.
    pub fn headers(&self) -> Option<&SipStr> {
        self.headers.as_ref()
    }
}

/// `tel:` URI: the number as written and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    raw: SipStr,
    number: SipStr,
    params: Params,
}

impl TelUri {
    pub fn number(&self) -> &SipStr {
        &self.number
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
}

/// `scheme:anything-without-white-space`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteUri {
    raw: SipStr,
    scheme: SipStr,
    opaque: SipStr,
}

impl AbsoluteUri {
    pub fn scheme(&self) -> &SipStr {
        &self.scheme
    }

    /// Everything after the first `:`.
    pub fn opaque(&self) -> &SipStr {
        &self.opaque
    }
}

/// Parses exactly `span` as a URI. The caller decides where the URI ends
/// (between spaces on the request line, between `<` and `>`, or before `;`
/// for an addr-spec), so any white space inside is an error: RFC 4475
/// §3.1.2.14 (`< sip:... >`).
pub(crate) fn parse_uri(src: &Bytes, span: Span) -> Result<Uri, Fault> {
    let mut s = Scanner::new(src, span);
    if let Some(i) = s.bytes(span).iter().position(|&b| b <= b' ' || b == 0x7f) {
        return Err(Fault::new(Problem::WhitespaceInUri, span.start + i));
    }
    let scheme = s.take_while(is_scheme_char);
    let scheme_ok = s
        .bytes(scheme)
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic());
    if !scheme_ok || !s.eat(b':') {
        return Err(Fault::new(Problem::MissingScheme, span.start));
    }
    let raw = s.text(span);
    let scheme_bytes = s.bytes(scheme);
    if scheme_bytes.eq_ignore_ascii_case(b"sip") || scheme_bytes.eq_ignore_ascii_case(b"sips") {
        let secure = scheme_bytes.len() == 4;
        return parse_sip(&mut s, raw, secure).map(Uri::Sip);
    }
    if scheme_bytes.eq_ignore_ascii_case(b"tel") {
        return parse_tel(&mut s, raw).map(Uri::Tel);
    }
    let opaque = s.rest();
    if opaque.is_empty() {
        return Err(s.fault(Problem::EmptyValue));
    }
    Ok(Uri::Other(AbsoluteUri {
        raw,
        scheme: s.text(scheme),
        opaque: s.text(opaque),
    }))
}

/// `[ userinfo "@" ] hostport uri-parameters [ headers ]`. The user part
/// may itself hold `;`, `?` and `/` (RFC 4475 §3.1.1.2 and §3.1.1.9), so the
/// `@` is found first; params and headers cannot contain a raw `@`, so
/// there is at most one.
fn parse_sip(s: &mut Scanner<'_>, raw: SipStr, secure: bool) -> Result<SipUri, Fault> {
    let rest = s.rest();
    let rest_bytes = s.bytes(rest);
    let (mut user, mut password) = (None, None);
    if let Some(at) = memchr::memchr(b'@', rest_bytes) {
        let after = rest_bytes.get(at + 1..).unwrap_or_default();
        if let Some(second) = memchr::memchr(b'@', after) {
            return Err(Fault::new(
                Problem::BadUserInfo,
                rest.start + at + 1 + second,
            ));
        }
        let userinfo = Span::new(rest.start, rest.start + at);
        let (user_span, password_span) = match memchr::memchr(b':', s.bytes(userinfo)) {
            Some(colon) => (
                Span::new(userinfo.start, userinfo.start + colon),
                Some(Span::new(userinfo.start + colon + 1, userinfo.end)),
            ),
            None => (userinfo, None),
        };
        if user_span.is_empty() {
            return Err(Fault::new(Problem::BadUserInfo, user_span.start));
        }
        check_chars(s, user_span, is_user_char, Problem::BadUserInfo)?;
        if let Some(p) = password_span {
            check_chars(s, p, is_password_char, Problem::BadUserInfo)?;
            password = Some(s.text(p));
        }
        user = Some(s.text(user_span));
        s.set_pos(userinfo.end + 1);
    }
    let host = parse_host(s)?;
    let port = if s.eat(b':') {
        Some(parse_port(s)?)
    } else {
        None
    };
    let params = parse_uri_params(s)?;
    let headers = if s.eat(b'?') {
        let h = s.take_while(is_uri_header_char);
        if h.is_empty() {
            return Err(s.fault(Problem::BadUriHeaders));
        }
        Some(s.text(h))
    } else {
        None
    };
    if !s.at_end() {
        return Err(s.fault(Problem::BadUriCharacter));
    }
    Ok(SipUri {
        raw,
        secure,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

/// `telephone-subscriber`: a global (`+...`) or local number with visual
/// separators, then parameters.
fn parse_tel(s: &mut Scanner<'_>, raw: SipStr) -> Result<TelUri, Fault> {
    let number = s.take_while(|b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#' | b'%')
    });
    if number.is_empty() {
        return Err(s.fault(Problem::BadTelNumber));
    }
    let params = parse_uri_params(s)?;
    if !s.at_end() {
        return Err(s.fault(Problem::BadUriCharacter));
    }
    Ok(TelUri {
        raw,
        number: s.text(number),
        params,
    })
}

fn check_chars(
    s: &Scanner<'_>,
    span: Span,
    allowed: impl Fn(u8) -> bool,
    problem: Problem,
) -> Result<(), Fault> {
    match s.bytes(span).iter().position(|&b| !allowed(b)) {
        Some(i) => Err(Fault::new(problem, span.start + i)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Result<Uri, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        parse_uri(&src, Span::new(0, src.len()))
    }

    fn sip(text: &str) -> SipUri {
        match uri(text) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn sip_uri_parts() {
        let u =
            sip("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x&priority=urgent");
        assert!(u.is_secure());
        assert_eq!(u.user().unwrap(), &"alice");
        assert_eq!(u.password().unwrap(), &"secret");
        assert!(u.host().is_ipv6_reference());
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.params().value("transport").unwrap(), &"tcp");
        assert!(u.params().contains("lr"));
        assert_eq!(u.headers().unwrap(), &"subject=x&priority=urgent");
    }

    #[test]
    fn rfc4475_user_parts() {
        let u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        assert_eq!(
            u.user().unwrap(),
            &"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
        );
        assert_eq!(
            u.password().unwrap(),
            &"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
        );
        assert!(u.headers().is_none());
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user().unwrap(), &"user;par=u%40example.net");
        let u = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
        assert_eq!(u.params().len(), 2);
        let u = sip("sip:null-%00-null@example.com");
        assert_eq!(
            &*crate::sip::percent_decode(u.user().unwrap()).unwrap(),
            b"null-\0-null"
        );
    }

    #[test]
    fn other_schemes_stay_opaque() {
        match uri("soap.beep://192.0.2.103:3002").unwrap() {
            Uri::Other(a) => {
                assert_eq!(a.scheme(), &"soap.beep");
                assert_eq!(a.opaque(), &"//192.0.2.103:3002");
            }
            other => panic!("{other:?}"),
        }
        match uri("tel:+1-201-555-0123;phone-context=example.com").unwrap() {
            Uri::Tel(t) => {
                assert_eq!(t.number(), &"+1-201-555-0123");
                assert!(t.params().contains("phone-context"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_uris() {
        assert_eq!(
            uri("<sip:user@example.com>").unwrap_err().problem,
            Problem::MissingScheme
        );
        assert_eq!(
            uri(" sip:user@example.com").unwrap_err().problem,
            Problem::WhitespaceInUri
        );
        assert_eq!(
            uri("bear@iptel.org").unwrap_err().problem,
            Problem::MissingScheme
        );
        assert_eq!(uri("sip:@host").unwrap_err().problem, Problem::BadUserInfo);
        assert_eq!(uri("sip:a@b@c").unwrap_err().problem, Problem::BadUserInfo);
        assert_eq!(uri("sip:host:99999").unwrap_err().problem, Problem::BadPort);
        assert_eq!(
            uri("sip:host;;x").unwrap_err().problem,
            Problem::BadUriParameter
        );
        assert_eq!(
            uri("sip:host>").unwrap_err().problem,
            Problem::BadUriCharacter
        );
        assert_eq!(uri("sip:").unwrap_err().problem, Problem::BadHost);
        assert_eq!(uri("x:").unwrap_err().problem, Problem::EmptyValue);
    }
}
