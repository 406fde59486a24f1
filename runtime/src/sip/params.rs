//! `;name=value` parameters, of header values and of URIs.

use super::chars::{is_param_value_char, is_token, is_uri_param_char};
use super::error::Problem;
use super::scanner::{Fault, Scanner};
use super::text::{unquote, SipStr};
use std::borrow::Cow;

/// One parameter as received. A quoted value keeps its quotes; use
/// [`Param::unquoted_value`] for the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    name: SipStr,
    value: Option<SipStr>,
}

impl Param {
    pub fn name(&self) -> &SipStr {
        &self.name
    }

    /// `None` for a parameter without `=`; `Some("")` for `name=`.
    pub fn value(&self) -> Option<&SipStr> {
        self.value.as_ref()
    }

    pub fn unquoted_value(&self) -> Option<Cow<'_, [u8]>> {
        self.value.as_ref().map(|v| unquote(v))
    }
}

/// Parameters in received order. Names compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(Vec<Param>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_case(name))
    }

    /// The value of `name`, when present with a value.
    pub fn value(&self, name: &str) -> Option<&SipStr> {
        self.get(name).and_then(Param::value)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Param> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = &'a Param;
    type IntoIter = std::slice::Iter<'a, Param>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `*( SEMI generic-param )` after a header value, white space and folds
/// allowed around `;` and `=`. Stops before anything that is not `;`.
/// Empty values (`tag=`) are taken: phones send them and Kamailio accepts
/// them. Empty names (`;;`) are not: RFC 4475 §3.1.2.1 calls them invalid.
pub(crate) fn parse_header_params(s: &mut Scanner<'_>) -> Result<Params, Fault> {
    let mut params = Vec::new();
    loop {
        let before = s.pos();
        s.skip_lws();
        if !s.eat(b';') {
            s.set_pos(before);
            return Ok(Params(params));
        }
        s.skip_lws();
        let name = s.take_while(is_token);
        if name.is_empty() {
            return Err(s.fault(Problem::EmptyParameter));
        }
        let after_name = s.pos();
        s.skip_lws();
        let value = if s.eat(b'=') {
            s.skip_lws();
            if s.peek() == Some(b'"') {
                Some(s.quoted_string()?)
            } else {
                Some(s.take_while(is_param_value_char))
            }
        } else {
            s.set_pos(after_name);
            None
        };
        push_param(
            &mut params,
            Param {
                name: s.text(name),
                value: value.map(|v| s.text(v)),
            },
        );
    }
}

/// `*( ";" pname [ "=" pvalue ] )` inside a URI: no white space, URI
/// characters only.
pub(crate) fn parse_uri_params(s: &mut Scanner<'_>) -> Result<Params, Fault> {
    let mut params = Vec::new();
    while s.eat(b';') {
        let name = s.take_while(is_uri_param_char);
        if name.is_empty() {
            return Err(s.fault(Problem::BadUriParameter));
        }
        let value = if s.eat(b'=') {
            Some(s.take_while(is_uri_param_char))
        } else {
            None
        };
        push_param(
            &mut params,
            Param {
                name: s.text(name),
                value: value.map(|v| s.text(v)),
            },
        );
    }
    Ok(Params(params))
}

/// Pushes `param`, allocating room for four at the first: most
/// parameter lists are short, and a Vec's growth path costs more than a
/// plain allocation (every Via and URI parse comes here).
fn push_param(params: &mut Vec<Param>, param: Param) {
    if params.capacity() == 0 {
        *params = Vec::with_capacity(4);
    }
    params.push(param);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::span::Span;
    use bytes::Bytes;

    fn header_params(text: &'static str) -> Result<(Params, usize), Fault> {
        let src = Bytes::from_static(text.as_bytes());
        let mut s = Scanner::new(&src, Span::new(0, src.len()));
        parse_header_params(&mut s).map(|p| (p, s.pos()))
    }

    #[test]
    fn header_params_allow_folds_and_quotes() {
        let (p, end) = header_params(" ;   tag    = 1918181833n").unwrap();
        assert_eq!(p.value("TAG").unwrap(), &"1918181833n");
        assert_eq!(end, 25);
        let (p, _) =
            header_params(" ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33").unwrap();
        assert_eq!(p.len(), 3);
        assert!(p.get("secondparam").unwrap().value().is_none());
        assert_eq!(p.value("q").unwrap(), &"0.33");
        let (p, _) = header_params(";x=\"a;b\";tag=").unwrap();
        assert_eq!(&*p.get("x").unwrap().unquoted_value().unwrap(), b"a;b");
        assert_eq!(p.value("tag").unwrap(), &"");
    }

    #[test]
    fn header_params_stop_at_other_text_and_refuse_empty_names() {
        let (p, end) = header_params(";a=1 , next").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(end, 4);
        assert_eq!(
            header_params(";;").unwrap_err().problem,
            Problem::EmptyParameter
        );
        assert_eq!(
            header_params(";a;;").unwrap_err().problem,
            Problem::EmptyParameter
        );
    }
}
