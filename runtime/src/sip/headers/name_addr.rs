//! `name-addr` / `addr-spec` with header parameters: From, To, Contact,
//! Route, Record-Route (RFC 3261 §20.10, §25.1).

use crate::sip::chars::{is_scheme, is_token};
use crate::sip::error::{ErrorKind, Problem, SipError};
use crate::sip::params::{parse_header_params, Params};
use crate::sip::scanner::{Fault, Scanner};
use crate::sip::span::Span;
use crate::sip::text::{unquote, SipStr};
use crate::sip::uri::{parse_uri, Uri};
use std::borrow::Cow;

/// A display name as received: a quoted string (quotes kept) or tokens
/// separated by white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName {
    raw: SipStr,
}

impl DisplayName {
    pub fn raw(&self) -> &SipStr {
        &self.raw
    }

    pub fn is_quoted(&self) -> bool {
        self.raw.first() == Some(&b'"')
    }

    /// The name with quotes removed and quoted-pairs resolved.
    pub fn text(&self) -> Cow<'_, [u8]> {
        unquote(&self.raw)
    }
}

/// An address with its header parameters (`tag`, `expires`, `q`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    display_name: Option<DisplayName>,
    uri: Uri,
    bracketed: bool,
    params: Params,
}

impl NameAddr {
    pub fn display_name(&self) -> Option<&DisplayName> {
        self.display_name.as_ref()
    }

    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Whether the URI was written in `<>` (name-addr) rather than bare
    /// (addr-spec).
    pub fn is_bracketed(&self) -> bool {
        self.bracketed
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn tag(&self) -> Option<&SipStr> {
        self.params.value("tag")
    }

    /// The Contact `expires` parameter, in seconds.
    pub fn expires(&self) -> Result<Option<u32>, SipError> {
        let Some(value) = self.params.value("expires") else {
            return Ok(None);
        };
        let digits = value.as_bytes();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(param_error(Problem::ExpectedDigits));
        }
        std::str::from_utf8(digits)
            .ok()
            .and_then(|t| t.parse::<u32>().ok())
            .map(Some)
            .ok_or(param_error(Problem::NumberTooLarge))
    }

    /// The Contact `q` parameter in thousandths (`q=0.33` is 330).
    pub fn q(&self) -> Result<Option<u16>, SipError> {
        let Some(value) = self.params.value("q") else {
            return Ok(None);
        };
        parse_qvalue(value)
            .map(Some)
            .ok_or(param_error(Problem::BadQValue))
    }
}

fn param_error(problem: Problem) -> SipError {
    SipError::new(ErrorKind::Header {
        name: crate::sip::HeaderName::Contact,
        problem,
    })
}

/// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
fn parse_qvalue(raw: &[u8]) -> Option<u16> {
    let (int, frac) = match raw.iter().position(|&b| b == b'.') {
        Some(dot) => (raw.get(..dot)?, raw.get(dot + 1..)?),
        None => (raw, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for i in 0..3 {
        let digit = frac.get(i).map_or(0, |d| u16::from(d - b'0'));
        thousandths = thousandths * 10 + digit;
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Which address forms a header allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressForm {
    /// From, To, Contact: `name-addr` or a bare `addr-spec`.
    Either,
    /// Route, Record-Route: `name-addr` only.
    NameAddrOnly,
}

/// One address and its parameters; stops after the parameters.
pub(crate) fn parse_address(s: &mut Scanner<'_>, form: AddressForm) -> Result<NameAddr, Fault> {
    s.skip_lws();
    let start = s.pos();
    let display_name = match s.peek() {
        Some(b'"') => {
            let quoted = s.quoted_string()?;
            s.skip_lws();
            if !s.eat(b'<') {
                return Err(s.fault(Problem::ExpectedNameAddr));
            }
            Some(quoted)
        }
        Some(b'<') => {
            s.bump();
            None
        }
        _ => {
            let first = s.take_while(is_token);
            if first.is_empty() {
                return Err(s.fault(Problem::ExpectedAddress));
            }
            if s.peek() == Some(b':') && is_scheme(s.bytes(first)) {
                if form == AddressForm::NameAddrOnly {
                    return Err(Fault::new(Problem::ExpectedNameAddr, start));
                }
                s.set_pos(start);
                return parse_addr_spec(s);
            }
            Some(display_tokens(s, first)?)
        }
    };
    let open = s.pos();
    let close = memchr::memchr(b'>', s.bytes(s.rest()))
        .map(|i| open + i)
        .ok_or(Fault::new(
            Problem::UnterminatedAngleBrackets,
            open.saturating_sub(1),
        ))?;
    let uri = parse_uri(s.src(), Span::new(open, close))?;
    s.set_pos(close + 1);
    let params = parse_header_params(s)?;
    Ok(NameAddr {
        display_name: display_name.map(|span| DisplayName { raw: s.text(span) }),
        uri,
        bracketed: true,
        params,
    })
}

/// `*(token LWS)` up to the `<` (which is consumed). RFC 4475 §3.1.2.15:
/// anything else, such as the comma of `Bell, Alexander`, is invalid.
fn display_tokens(s: &mut Scanner<'_>, first: Span) -> Result<Span, Fault> {
    let mut last_end = first.end;
    loop {
        s.skip_lws();
        match s.peek() {
            Some(b'<') => {
                s.bump();
                return Ok(Span::new(first.start, last_end));
            }
            Some(b) if is_token(b) => last_end = s.take_while(is_token).end,
            None => return Err(s.fault(Problem::ExpectedAddress)),
            Some(_) => return Err(s.fault(Problem::BadDisplayName)),
        }
    }
}

/// A bare URI. It ends at white space, `;` (header parameters) or `,`
/// (next list element); RFC 3261 §20 requires `<>` around a URI with
/// `,`, `;` or `?`, so a `?` here is an error (RFC 4475 §3.1.2.13).
fn parse_addr_spec(s: &mut Scanner<'_>) -> Result<NameAddr, Fault> {
    let span = s.take_while(|b| b > b' ' && b != 0x7f && b != b';' && b != b',');
    if let Some(q) = memchr::memchr(b'?', s.bytes(span)) {
        return Err(Fault::new(Problem::UriNeedsBrackets, span.start + q));
    }
    let uri = parse_uri(s.src(), span)?;
    let params = parse_header_params(s)?;
    Ok(NameAddr {
        display_name: None,
        uri,
        bracketed: false,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn address(text: &str, form: AddressForm) -> Result<NameAddr, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        let mut s = Scanner::new(&src, Span::new(0, src.len()));
        let a = parse_address(&mut s, form)?;
        s.expect_end()?;
        Ok(a)
    }

    fn either(text: &str) -> Result<NameAddr, Fault> {
        address(text, AddressForm::Either)
    }

    #[test]
    fn forms_of_addresses() {
        let a = either(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(&*a.display_name().unwrap().text(), br#"J Rosenberg \""#);
        assert_eq!(a.tag().unwrap(), &"98asjd8");
        let a = either("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name().unwrap().raw(), &"caller");
        let a = either("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(
            a.display_name().unwrap().raw(),
            &"token1~` token2'+_ token3*%!.-"
        );
        let a = either("sip:+16505552222@ss1.example.net;user=phone").unwrap();
        assert!(!a.is_bracketed());
        assert_eq!(a.params().value("user").unwrap(), &"phone");
        let a = either("isbn:2983792873").unwrap();
        assert!(matches!(a.uri(), Uri::Other(_)));
    }

    #[test]
    fn rfc4475_invalid_addresses() {
        assert_eq!(
            either("\"Mr. J. User <sip:j.user@example.com>")
                .unwrap_err()
                .problem,
            Problem::UnterminatedQuotedString
        );
        assert_eq!(
            either("Bell, Alexander <sip:a.g.bell@example.com>;tag=43")
                .unwrap_err()
                .problem,
            Problem::BadDisplayName
        );
        assert_eq!(
            either("\"Watson, Thomas\" < sip:t.watson@example.org >")
                .unwrap_err()
                .problem,
            Problem::WhitespaceInUri
        );
        assert_eq!(
            either("sip:user@example.com?Route=%3Csip:sip.example.com%3E")
                .unwrap_err()
                .problem,
            Problem::UriNeedsBrackets
        );
        assert_eq!(
            either("\"Joe\" <sip:joe@example.org>;;;;")
                .unwrap_err()
                .problem,
            Problem::EmptyParameter
        );
        assert_eq!(
            address("sip:a@b", AddressForm::NameAddrOnly)
                .unwrap_err()
                .problem,
            Problem::ExpectedNameAddr
        );
        assert_eq!(
            either("<sip:a@b").unwrap_err().problem,
            Problem::UnterminatedAngleBrackets
        );
        assert_eq!(
            either("poo <bear@iptel.org>").unwrap_err().problem,
            Problem::MissingScheme
        );
    }

    #[test]
    fn contact_parameters() {
        let a = either("<sip:a@b>;expires=280297596632815;q=0.33").unwrap();
        assert!(a.expires().is_err());
        assert_eq!(a.q().unwrap(), Some(330));
        let a = either("<sip:a@b>;expires=3600;q=1.000").unwrap();
        assert_eq!(a.expires().unwrap(), Some(3600));
        assert_eq!(a.q().unwrap(), Some(1000));
        assert!(either("<sip:a@b>;q=1.5").unwrap().q().is_err());
        assert_eq!(parse_qvalue(b"0"), Some(0));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"2"), None);
    }
}
