//! Authorization and Proxy-Authorization (RFC 3261 §20.7, §20.28).

use crate::sip::chars::is_token;
use crate::sip::error::Problem;
use crate::sip::scanner::{parse_list, Fault, Scanner};
use crate::sip::text::{unquote, SipStr};
use std::borrow::Cow;

/// `name=value`; a quoted value keeps its quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam {
    name: SipStr,
    value: SipStr,
}

impl AuthParam {
    pub fn name(&self) -> &SipStr {
        &self.name
    }

    pub fn value(&self) -> &SipStr {
        &self.value
    }

    pub fn unquoted_value(&self) -> Cow<'_, [u8]> {
        unquote(&self.value)
    }
}

/// A scheme and either comma-separated parameters (Digest and most others)
/// or one opaque token (`Bearer <token68>`, RFC 8898).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    scheme: SipStr,
    params: Vec<AuthParam>,
    token: Option<SipStr>,
}

impl Credentials {
    pub fn scheme(&self) -> &SipStr {
        &self.scheme
    }

    pub fn params(&self) -> &[AuthParam] {
        &self.params
    }

    /// The first parameter called `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&AuthParam> {
        self.params.iter().find(|p| p.name.eq_ignore_case(name))
    }

    pub fn token(&self) -> Option<&SipStr> {
        self.token.as_ref()
    }
}

pub(crate) fn parse_credentials(s: &mut Scanner<'_>) -> Result<Credentials, Fault> {
    s.skip_lws();
    let scheme = s.token(Problem::ExpectedToken)?;
    let scheme = s.text(scheme);
    let had_space = s.skip_lws();
    if s.at_end() {
        return Ok(Credentials {
            scheme,
            params: Vec::new(),
            token: None,
        });
    }
    if !had_space {
        return Err(s.fault(Problem::BadAuthParameter));
    }
    let params_start = s.pos();
    match parse_list(s, parse_auth_param) {
        Ok(params) => Ok(Credentials {
            scheme,
            params,
            token: None,
        }),
        Err(fault) => {
            s.set_pos(params_start);
            let token = s.take_while(is_token68_char);
            s.take_while(|b| b == b'=');
            let token = crate::sip::span::Span::new(token.start, s.pos());
            if token.is_empty() || s.expect_end().is_err() {
                return Err(fault);
            }
            Ok(Credentials {
                scheme,
                params: Vec::new(),
                token: Some(s.text(token)),
            })
        }
    }
}

/// token68 (RFC 7235 §2.1) without its trailing `=` padding.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// `token EQUAL ( token / quoted-string )`. Unquoted values are taken up
/// to white space or a comma: deployed phones write `uri=sip:...` bare.
fn parse_auth_param(s: &mut Scanner<'_>) -> Result<AuthParam, Fault> {
    let name = s.take_while(is_token);
    if name.is_empty() {
        return Err(s.fault(Problem::BadAuthParameter));
    }
    s.skip_lws();
    s.expect(b'=', Problem::BadAuthParameter)?;
    s.skip_lws();
    let value = if s.peek() == Some(b'"') {
        s.quoted_string()?
    } else {
        s.take_while(|b| b > b' ' && b != 0x7f && b != b',' && b != b'"')
    };
    if value.is_empty() {
        return Err(s.fault(Problem::BadAuthParameter));
    }
    Ok(AuthParam {
        name: s.text(name),
        value: s.text(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::span::Span;
    use bytes::Bytes;

    fn credentials(text: &str) -> Result<Credentials, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        parse_credentials(&mut Scanner::new(&src, Span::new(0, src.len())))
    }

    #[test]
    fn digest_and_unknown_schemes() {
        let c = credentials(r#"Digest username="876543210123",realm="iptel.org",nonce="3fb9",response="87da",uri="sip:**@backup01.sipphone.com""#).unwrap();
        assert_eq!(c.scheme(), &"Digest");
        assert_eq!(c.params().len(), 5);
        assert_eq!(
            &*c.param("URI").unwrap().unquoted_value(),
            b"sip:**@backup01.sipphone.com"
        );
        let c = credentials("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(c.param("opaque-data").unwrap().value(), &"here");
        let c = credentials("Bearer eyJhbGciOi.payload.sig").unwrap();
        assert_eq!(c.token().unwrap(), &"eyJhbGciOi.payload.sig");
    }

    #[test]
    fn broken_credentials() {
        assert!(credentials("Digest a=\"open").is_err());
        assert!(credentials("Digest a=1,,b=2").is_err());
        assert!(credentials("").is_err());
    }
}
