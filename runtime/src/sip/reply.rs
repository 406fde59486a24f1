//! Replies a server builds itself (RFC 3261 §8.2.6): `sl_send_reply` and
//! the 100 Trying of a stateful proxy.

use super::chars::{is_ctl, is_token};
use super::editor::push_header_line;
use super::error::{ErrorKind, SipError};
use super::header_name::HeaderName;
use super::message::SipMessage;
use super::method::Method;
use super::text::SipStr;
use bytes::Bytes;

/// A reply to build from a request: status, reason and the few choices
/// RFC 3261 leaves to the server.
#[derive(Debug, Clone)]
pub struct LocalReply<'a> {
    status: u16,
    reason: &'a str,
    to_tag: Option<&'a str>,
    server: Option<&'a str>,
    extra: Vec<(&'a str, &'a str)>,
    script: Vec<(&'a str, &'a str)>,
    body: Option<(&'a str, &'a [u8])>,
}

impl<'a> LocalReply<'a> {
    pub fn new(status: u16, reason: &'a str) -> Self {
        LocalReply {
            status,
            reason,
            to_tag: None,
            server: None,
            extra: Vec::new(),
            script: Vec::new(),
            body: None,
        }
    }

    /// The tag to add to To when the request has none (§8.2.6.2). Needed
    /// for every status but 100.
    pub fn to_tag(mut self, tag: &'a str) -> Self {
        self.to_tag = Some(tag);
        self
    }

    pub fn server(mut self, server: &'a str) -> Self {
        self.server = Some(server);
        self
    }

    /// An extra header, after the copied ones.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra.push((name, value));
        self
    }

    /// A header the routing script asked for (`append_to_reply`): these
    /// come after the copied headers and before Server, as Kamailio places
    /// its reply lumps.
    pub fn script_header(mut self, name: &'a str, value: &'a str) -> Self {
        self.script.push((name, value));
        self
    }

    /// A body and its Content-Type (the script's `set_reply_body`; the
    /// Content-Type goes with the script's headers).
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.body = Some((content_type, body));
        self
    }

    /// The reply to `request`: status line; every Via in order; From; To
    /// (with a tag added if it had none); Call-ID; CSeq; Timestamp for a
    /// 100 (§8.2.6.1); the script's headers (and Content-Type); Server; the
    /// extra headers; Content-Length; the body.
    /// Copied values are taken as received, folds unfolded.
    pub fn build(&self, request: &SipMessage) -> Result<Bytes, SipError> {
        if !request.is_request() {
            return Err(SipError::new(ErrorKind::NotARequest));
        }
        if request.method() == Some(Method::Ack) {
            return Err(SipError::new(ErrorKind::NoReplyToAck));
        }
        if !(100..=699).contains(&self.status) {
            return Err(SipError::new(ErrorKind::InvalidStatus {
                code: self.status,
            }));
        }
        if self.reason.bytes().any(is_ctl) {
            return Err(SipError::new(ErrorKind::InvalidReasonPhrase));
        }

        let mut out = Vec::with_capacity(512);
        // By hand, not format!: a stateful proxy builds a 100 for every
        // INVITE. The status has three digits (checked above).
        out.extend_from_slice(b"SIP/2.0 ");
        out.extend(
            [self.status / 100, self.status / 10 % 10, self.status % 10].map(|d| b'0' + d as u8),
        );
        out.push(b' ');
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        if request.vias()?.is_empty() {
            // Nowhere to send it (RFC 3261 §18.2.2 routes replies by Via).
            return Err(SipError::new(ErrorKind::MissingHeader(HeaderName::Via)));
        }
        for via in request.headers_named(&HeaderName::Via) {
            push_header(&mut out, "Via", &via.value());
        }
        let from = first_value(request, &HeaderName::From)?;
        request.from_header()?;
        push_header(&mut out, "From", &from);
        push_header(&mut out, "To", &self.to_value(request)?);
        request.call_id()?;
        push_header(
            &mut out,
            "Call-ID",
            &first_value(request, &HeaderName::CallId)?,
        );
        request.cseq()?;
        push_header(&mut out, "CSeq", &first_value(request, &HeaderName::CSeq)?);
        if self.status == 100 {
            if let Some(ts) = request.headers_named(&HeaderName::Timestamp).next() {
                push_header(&mut out, "Timestamp", &ts.value());
            }
        }
        for (name, value) in &self.script {
            push_header_line(&mut out, name, value)?;
        }
        if let Some((ct, _)) = self.body {
            push_header_line(&mut out, "Content-Type", ct)?;
        }
        if let Some(server) = self.server {
            push_header_line(&mut out, "Server", server)?;
        }
        for (name, value) in &self.extra {
            push_header_line(&mut out, name, value)?;
        }
        match self.body {
            None => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
            Some((_, body)) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
            }
        }
        Ok(Bytes::from(out))
    }

    fn to_value(&self, request: &SipMessage) -> Result<Vec<u8>, SipError> {
        let to = request
            .to_header()?
            .ok_or(SipError::new(ErrorKind::MissingHeader(HeaderName::To)))?;
        let mut value = Vec::new();
        unfold_into(&mut value, &first_value(request, &HeaderName::To)?);
        if to.tag().is_some_and(|t| !t.is_empty()) {
            return Ok(value);
        }
        match self.to_tag {
            Some(tag) if !tag.is_empty() && tag.bytes().all(is_token) => {
                match to.tag() {
                    None => value.extend_from_slice(b";tag="),
                    // `;tag=` with nothing after it, as some phones send:
                    // fill it in when it is last, else give up rather
                    // than send two tags.
                    Some(_) if value.ends_with(b"=") => {}
                    Some(_) => return Err(SipError::new(ErrorKind::InvalidTag)),
                }
                value.extend_from_slice(tag.as_bytes());
                Ok(value)
            }
            Some(_) => Err(SipError::new(ErrorKind::InvalidTag)),
            None if self.status == 100 => Ok(value),
            None => Err(SipError::new(ErrorKind::MissingToTag)),
        }
    }
}

fn first_value(request: &SipMessage, name: &HeaderName) -> Result<SipStr, SipError> {
    request
        .headers_named(name)
        .next()
        .map(|h| h.value())
        .ok_or(SipError::new(ErrorKind::MissingHeader(name.clone())))
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    unfold_into(out, value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `value` without the line ends of its folds; the white space
/// after them stays, which is what unfolding means (RFC 3261 §7.3.1).
fn unfold_into(out: &mut Vec<u8>, value: &[u8]) {
    // Most values have no fold: one copy.
    if memchr::memchr2(b'\r', b'\n', value).is_none() {
        out.extend_from_slice(value);
    } else {
        out.extend(value.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
    }
}
