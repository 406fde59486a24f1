//! Header-level edits on top of lumps: what a proxy does to a message it
//! forwards.

use super::chars::{is_ctl, is_token};
use super::error::{ErrorKind, Problem, SipError};
use super::header_name::HeaderName;
use super::headers::parse_vias;
use super::lumps::Lumps;
use super::message::SipMessage;
use super::scanner::Scanner;
use super::span::Span;
use super::uri::Uri;
use bytes::Bytes;

/// Where a new header goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderPosition {
    /// Before the first header field.
    First,
    /// After the last header field, before the empty line.
    Last,
    /// Right after header field `index`.
    After(usize),
    /// Right before header field `index`.
    Before(usize),
}

/// Edits for one message, applied by [`MessageEditor::build`].
///
/// Offsets are those of the received message, so edits never shift each
/// other. When an edit changes the body, `build` rewrites Content-Length
/// (or adds one) to match.
#[derive(Debug, Clone)]
pub struct MessageEditor<'m> {
    msg: &'m SipMessage,
    lumps: Lumps,
}

impl<'m> MessageEditor<'m> {
    pub fn new(msg: &'m SipMessage) -> Self {
        MessageEditor {
            msg,
            lumps: Lumps::new(msg.as_bytes().len()),
        }
    }

    pub fn message(&self) -> &'m SipMessage {
        self.msg
    }

    /// Raw lumps, for edits the helpers do not cover.
    pub fn lumps_mut(&mut self) -> &mut Lumps {
        &mut self.lumps
    }

    pub fn add_header(
        &mut self,
        at: HeaderPosition,
        name: &str,
        value: &str,
    ) -> Result<(), SipError> {
        let line = header_line(name, value)?;
        match at {
            HeaderPosition::First => match self.msg.fields().first() {
                Some(first) => self.lumps.insert_before(first.line.start, line),
                None => self.lumps.insert_before(self.msg.headers_end(), line),
            },
            HeaderPosition::Last => self.lumps.insert_after(self.msg.headers_end(), line),
            HeaderPosition::After(index) => {
                let end = self.field_line(index)?.end;
                self.lumps.insert_after(end, line)
            }
            HeaderPosition::Before(index) => {
                let start = self.field_line(index)?.start;
                self.lumps.insert_before(start, line)
            }
        }
    }

    /// Removes header field `index`, continuation lines and line end
    /// included.
    pub fn remove_header(&mut self, index: usize) -> Result<(), SipError> {
        let line = self.field_line(index)?;
        self.lumps.delete(line)
    }

    /// Removes every header field called `name`; returns how many.
    pub fn remove_headers(&mut self, name: &HeaderName) -> Result<usize, SipError> {
        let lines: Vec<Span> = self
            .msg
            .headers_named(name)
            .map(|h| h.line_span())
            .collect();
        for line in &lines {
            self.lumps.delete(*line)?;
        }
        Ok(lines.len())
    }

    /// Replaces the Request-URI, which must parse and carry no headers.
    pub fn set_request_uri(&mut self, uri: &str) -> Result<(), SipError> {
        if self.msg.request_uri_location().is_none() {
            return Err(SipError::new(ErrorKind::NotARequest));
        }
        self.set_parsed_request_uri(uri, &Uri::parse(uri.as_bytes())?)
    }

    /// [`set_request_uri`](Self::set_request_uri) with `parsed`, the parse
    /// of `uri`'s bytes, which the caller had already.
    pub(crate) fn set_parsed_request_uri(
        &mut self,
        uri: &str,
        parsed: &Uri,
    ) -> Result<(), SipError> {
        let span = self
            .msg
            .request_uri_location()
            .ok_or(SipError::new(ErrorKind::NotARequest))?;
        if parsed.as_sip().is_some_and(|u| u.headers().is_some()) {
            return Err(SipError::new(ErrorKind::Uri(Problem::UriHeadersNotAllowed)));
        }
        self.lumps
            .replace(span, Bytes::copy_from_slice(uri.as_bytes()))
    }

    /// Adds `Via: value` above the topmost Via, as a proxy does before
    /// forwarding a request (RFC 3261 §16.6 step 8).
    pub fn insert_via(&mut self, value: &str) -> Result<(), SipError> {
        check_via(value)?;
        self.insert_own_via(value)
    }

    /// [`insert_via`](Self::insert_via) for a Via the caller composed from
    /// parts it has already checked (a proxy's own address and a branch it
    /// generated): no re-parse on the forwarding path. Debug builds still
    /// check it.
    pub fn insert_own_via(&mut self, value: &str) -> Result<(), SipError> {
        debug_assert!(via_parses(value), "our own Via does not parse: {value}");
        let line = header_line("Via", value)?;
        self.lumps.insert_before(top_via_offset(self.msg), line)
    }

    /// Removes the topmost via-parm, as a proxy does to a response before
    /// sending it upstream (RFC 3261 §16.7 step 3): the whole Via line when
    /// it holds one value, else the first value and its comma. Returns
    /// false when there is no Via.
    pub fn remove_top_via(&mut self) -> Result<bool, SipError> {
        let Some(top) = self.msg.headers_named(&HeaderName::Via).next() else {
            return Ok(false);
        };
        let value = top.value();
        match first_list_comma(&value) {
            None => self.lumps.delete(top.line_span())?,
            Some(comma) => {
                let start = top.value_span().start;
                let mut end = comma + 1;
                while value
                    .get(end)
                    .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    end += 1;
                }
                self.lumps.delete(Span::new(start, start + end))?;
            }
        }
        Ok(true)
    }

    /// Replaces the whole body.
    pub fn set_body(&mut self, body: impl Into<Bytes>) -> Result<(), SipError> {
        self.lumps.replace(self.msg.body_span(), body)
    }

    /// Applies the edits once and returns the bytes to send. With no edits
    /// this is the received message, byte for byte.
    pub fn build(&self) -> Result<Bytes, SipError> {
        let body = self.msg.body_span();
        if !self.lumps.touches(body) {
            return self.lumps.apply(self.msg.as_bytes());
        }
        let mut lumps = self.lumps.clone();
        let body_len = lumps.length_within(body);
        fix_content_length(self.msg, &mut lumps, body_len)?;
        lumps.apply(self.msg.as_bytes())
    }

    fn field_line(&self, index: usize) -> Result<Span, SipError> {
        self.msg
            .field(index)
            .map(|f| f.line)
            .ok_or(SipError::new(ErrorKind::NoSuchHeader { index }))
    }
}

/// Every surviving Content-Length gets the new length; if none survives
/// (there was none, or an edit removed it), one is added last.
fn fix_content_length(
    msg: &SipMessage,
    lumps: &mut Lumps,
    body_len: usize,
) -> Result<(), SipError> {
    let digits = body_len.to_string();
    let mut kept = 0;
    for header in msg.headers_named(&HeaderName::ContentLength) {
        if lumps.is_cut(header.line_span()) {
            continue;
        }
        lumps.replace(
            header.value_span(),
            Bytes::copy_from_slice(digits.as_bytes()),
        )?;
        kept += 1;
    }
    if kept == 0 {
        lumps.insert_before(msg.headers_end(), format!("Content-Length: {digits}\r\n"))?;
    }
    Ok(())
}

/// The first comma of a header value that separates list elements:
/// outside quoted strings, where a backslash escapes the next byte.
fn first_list_comma(value: &[u8]) -> Option<usize> {
    // Before the first quote nothing is quoted: the first comma or quote
    // decides, found in one memchr2 pass (every relayed reply's Via comes
    // here).
    match memchr::memchr2(b',', b'"', value) {
        None => return None,
        Some(i) if value.get(i) == Some(&b',') => return Some(i),
        Some(_) => {}
    }
    comma_outside_quotes(value)
}

/// The first comma outside quoted strings, byte by byte (what
/// [`first_list_comma`] does once a quote comes first).
fn comma_outside_quotes(value: &[u8]) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b',' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `name: value CRLF`, refusing anything that would break the framing.
/// Whether `value` is a Via header value that parses.
/// `msg` with `Via: value` above its topmost Via: the bytes
/// `MessageEditor::new(msg)`, [`insert_via`](MessageEditor::insert_via)
/// and [`build`](MessageEditor::build) produce, copied once without the
/// lumps (a stateful proxy does this for every branch it sends).
pub(crate) fn with_top_via(msg: &SipMessage, value: &str) -> Result<Bytes, SipError> {
    check_via(value)?;
    with_checked_top_via(msg, value)
}

/// [`with_top_via`] of a `value` known to parse as a Via: the caller
/// checked the same text before, or one that differs only where it cannot
/// change the parse.
pub(crate) fn with_checked_top_via(msg: &SipMessage, value: &str) -> Result<Bytes, SipError> {
    let at = top_via_offset(msg);
    let body = msg.body_span();
    if body.start <= at && at <= body.end {
        // An insertion at the body's edge: `build` fixes Content-Length.
        let mut ed = MessageEditor::new(msg);
        ed.insert_own_via(value)?;
        return ed.build();
    }
    let bytes = msg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + value.len() + 7);
    out.extend_from_slice(&bytes[..at]);
    push_header_line(&mut out, "Via", value)?;
    out.extend_from_slice(&bytes[at..]);
    Ok(Bytes::from(out))
}

/// Where a new top Via goes: before the topmost Via, else before the
/// first header field, else at the end of the headers.
fn top_via_offset(msg: &SipMessage) -> usize {
    match msg.headers_named(&HeaderName::Via).next() {
        Some(top) => top.line_span().start,
        None => match msg.fields().first() {
            Some(first) => first.line.start,
            None => msg.headers_end(),
        },
    }
}

/// A Via value must parse before it goes into a message.
fn check_via(value: &str) -> Result<(), SipError> {
    let src = Bytes::copy_from_slice(value.as_bytes());
    parse_vias(&mut Scanner::new(&src, Span::new(0, src.len())))
        .map(|_| ())
        .map_err(|f| {
            SipError::new(ErrorKind::Header {
                name: HeaderName::Via,
                problem: f.problem,
            })
        })
}

pub(crate) fn via_parses(value: &str) -> bool {
    let src = Bytes::copy_from_slice(value.as_bytes());
    parse_vias(&mut Scanner::new(&src, Span::new(0, src.len()))).is_ok()
}

pub(crate) fn header_line(name: &str, value: &str) -> Result<Bytes, SipError> {
    let mut line = Vec::with_capacity(name.len() + value.len() + 4);
    push_header_line(&mut line, name, value)?;
    Ok(Bytes::from(line))
}

/// [`header_line`] appended to `out`; nothing is appended on error.
pub(crate) fn push_header_line(out: &mut Vec<u8>, name: &str, value: &str) -> Result<(), SipError> {
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(SipError::new(ErrorKind::InvalidHeaderName));
    }
    if value.bytes().any(is_ctl) {
        return Err(SipError::new(ErrorKind::InvalidHeaderValue));
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_list_comma_skips_quoted_commas() {
        for value in [
            "SIP/2.0/UDP a;branch=z9hG4bK1",
            "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b",
            "SIP/2.0/UDP a;x=\"1,2\", SIP/2.0/UDP b",
            "SIP/2.0/UDP a;x=\"1\\\",2\",3",
            "\"",
            ",",
            "",
        ] {
            assert_eq!(
                first_list_comma(value.as_bytes()),
                comma_outside_quotes(value.as_bytes()),
                "{value}"
            );
        }
    }

    /// What `with_top_via` replaces: an editor with the one Via.
    fn edited(msg: &SipMessage, value: &str) -> Result<Bytes, SipError> {
        let mut ed = MessageEditor::new(msg);
        ed.insert_via(value)?;
        ed.build()
    }

    #[test]
    fn with_top_via_builds_what_the_editor_builds() {
        let via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKp1";
        for text in [
            "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nTo: <sip:b@h>\r\nContent-Length: 3\r\n\r\nabc",
            "INVITE sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP c\r\nl: 0\r\n\r\n",
            "OPTIONS sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\nContent-Length: 0\r\n\r\n",
            "OPTIONS sip:b@h SIP/2.0\r\n\r\n",
        ] {
            let msg = SipMessage::parse_datagram(text).unwrap();
            assert_eq!(with_top_via(&msg, via), edited(&msg, via), "{text}");
            let bad = "SIP/2.0/UDP h;;";
            assert_eq!(
                with_top_via(&msg, bad).unwrap_err(),
                edited(&msg, bad).unwrap_err()
            );
        }
    }
}
