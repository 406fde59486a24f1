//! A received message: framed eagerly, typed lazily.

use super::error::{ErrorKind, SipError};
use super::framing::{frame, leading_keepalive_len, Frame, HeaderField};
use super::header_name::HeaderName;
use super::headers::{parse_typed, CSeq, ContactValue, Credentials, NameAddr, TypedHeader, Via};
use super::limits::{Limits, TransportKind};
use super::method::Method;
use super::span::Span;
use super::start_line::StartLine;
use super::text::SipStr;
use super::uri::{parse_uri, Uri};
use bytes::Bytes;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A parsed SIP message over the received bytes.
///
/// Parsing frames the message (start line, header boundaries, body) in one
/// pass. A header's typed form is parsed the first time someone asks and
/// then cached, so a proxy that only reads Via and Route never pays for
/// the rest. [`SipMessage::validate`] forces the typed forms that decide
/// whether the message is well-formed.
///
/// A clone shares the framing and the typed forms parsed so far (and
/// those parsed later): the transaction layer keeps a request or reply
/// for as long as its transaction lives, and a deep copy of every parsed
/// header each time would cost more than the parse itself.
#[derive(Clone)]
pub struct SipMessage {
    parsed: Arc<Parsed>,
}

/// What one parse produced; never changed afterwards except by filling
/// the lazy caches.
struct Parsed {
    /// Start line to end of body; trailing datagram octets and leading
    /// stream keep-alives are not part of it.
    buf: Bytes,
    frame: Frame,
    consumed: usize,
    typed: Vec<OnceLock<Result<TypedHeader, SipError>>>,
    request_uri: OnceLock<Result<Uri, SipError>>,
}

impl SipMessage {
    /// Frames one message from `data`. Offsets in errors and spans count
    /// from the start line.
    pub fn parse(data: Bytes, kind: TransportKind, limits: &Limits) -> Result<Self, SipError> {
        let skip = match kind {
            TransportKind::Stream => leading_keepalive_len(&data),
            TransportKind::Datagram => 0,
        };
        let rest = data.slice(skip..);
        let frame = frame(&rest, kind, limits)?;
        let end = frame.body.end;
        let typed = (0..frame.headers.len()).map(|_| OnceLock::new()).collect();
        Ok(SipMessage {
            parsed: Arc::new(Parsed {
                buf: rest.slice(..end),
                frame,
                consumed: skip + end,
                typed,
                request_uri: OnceLock::new(),
            }),
        })
    }

    /// One UDP datagram with the default limits.
    pub fn parse_datagram(data: impl Into<Bytes>) -> Result<Self, SipError> {
        Self::parse(data.into(), TransportKind::Datagram, &Limits::default())
    }

    /// The message as received, start line to end of body.
    pub fn as_bytes(&self) -> &Bytes {
        &self.parsed.buf
    }

    /// How many input bytes the message took, leading keep-alives
    /// included; on a stream the next message starts there.
    pub fn consumed(&self) -> usize {
        self.parsed.consumed
    }

    pub fn is_request(&self) -> bool {
        matches!(self.parsed.frame.start_line, StartLine::Request { .. })
    }

    pub fn is_response(&self) -> bool {
        !self.is_request()
    }

    /// The start line without its line end.
    pub fn start_line(&self) -> SipStr {
        self.text(self.parsed.frame.start_line_span)
    }

    pub fn method(&self) -> Option<Method> {
        match self.parsed.frame.start_line {
            StartLine::Request { method, .. } => Some(Method::from_text(self.text(method))),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI as written, for requests.
    pub fn request_uri_text(&self) -> Option<SipStr> {
        self.request_uri_span().map(|span| self.text(span))
    }

    /// The parsed Request-URI (`Ok(None)` for a response).
    pub fn request_uri(&self) -> Result<Option<&Uri>, SipError> {
        let Some(span) = self.request_uri_span() else {
            return Ok(None);
        };
        self.parsed
            .request_uri
            .get_or_init(|| {
                parse_uri(&self.parsed.buf, span)
                    .map_err(|f| SipError::at(ErrorKind::RequestUri(f.problem), f.offset))
            })
            .as_ref()
            .map(Some)
            .map_err(Clone::clone)
    }

    pub fn status_code(&self) -> Option<u16> {
        match self.parsed.frame.start_line {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    pub fn reason_phrase(&self) -> Option<SipStr> {
        match self.parsed.frame.start_line {
            StartLine::Response { reason, .. } => Some(self.text(reason)),
            StartLine::Request { .. } => None,
        }
    }

    pub fn header_count(&self) -> usize {
        self.parsed.frame.headers.len()
    }

    pub fn header(&self, index: usize) -> Option<HeaderRef<'_>> {
        (index < self.parsed.frame.headers.len()).then_some(HeaderRef { msg: self, index })
    }

    /// All header fields in received order.
    pub fn headers(&self) -> impl Iterator<Item = HeaderRef<'_>> + '_ {
        (0..self.parsed.frame.headers.len()).map(move |index| HeaderRef { msg: self, index })
    }

    /// The header fields called `name` (any case, compact or not).
    pub fn headers_named<'m>(
        &'m self,
        name: &'m HeaderName,
    ) -> impl Iterator<Item = HeaderRef<'m>> + 'm {
        self.headers().filter(move |h| h.name() == name)
    }

    /// The typed form of header field `index`, parsed now or taken from the
    /// cache.
    pub fn typed(&self, index: usize) -> Result<&TypedHeader, SipError> {
        let (Some(field), Some(cell)) = (
            self.parsed.frame.headers.get(index),
            self.parsed.typed.get(index),
        ) else {
            return Err(SipError::new(ErrorKind::NoSuchHeader { index }));
        };
        cell.get_or_init(|| {
            parse_typed(&self.parsed.buf, &field.name, field.value).map_err(|f| {
                SipError::at(
                    ErrorKind::Header {
                        name: field.name.clone(),
                        problem: f.problem,
                    },
                    f.offset,
                )
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// The typed form of header field `index` if something parsed it
    /// already and it parsed; never parses.
    pub(crate) fn typed_if_parsed(&self, index: usize) -> Option<&TypedHeader> {
        self.parsed.typed.get(index)?.get()?.as_ref().ok()
    }

    pub fn body(&self) -> SipStr {
        self.text(self.parsed.frame.body)
    }

    /// The first Content-Length value, which framing used.
    pub fn content_length(&self) -> Option<usize> {
        self.parsed.frame.content_length
    }

    /// Several Content-Length headers that disagree (RFC 4475 §3.3.9):
    /// legal to frame on a datagram, but a proxy should answer 400.
    pub fn has_conflicting_content_length(&self) -> bool {
        self.parsed.frame.content_length_conflict
    }

    /// Every Via, in order, several per line flattened.
    pub fn vias(&self) -> Result<Vec<&Via>, SipError> {
        self.all(&HeaderName::Via, |t| match t {
            TypedHeader::Via(v) => v.as_slice(),
            _ => &[],
        })
    }

    pub fn top_via(&self) -> Result<Option<&Via>, SipError> {
        self.first(&HeaderName::Via, |t| match t {
            TypedHeader::Via(v) => v.first(),
            _ => None,
        })
    }

    pub fn from_header(&self) -> Result<Option<&NameAddr>, SipError> {
        self.first(&HeaderName::From, |t| match t {
            TypedHeader::From(a) => Some(&**a),
            _ => None,
        })
    }

    pub fn to_header(&self) -> Result<Option<&NameAddr>, SipError> {
        self.first(&HeaderName::To, |t| match t {
            TypedHeader::To(a) => Some(&**a),
            _ => None,
        })
    }

    /// The From tag; `None` when there is none or the From header is
    /// missing or malformed.
    pub fn from_tag(&self) -> Option<&SipStr> {
        self.from_header().ok()??.tag()
    }

    /// The To tag, as [`SipMessage::from_tag`].
    pub fn to_tag(&self) -> Option<&SipStr> {
        self.to_header().ok()??.tag()
    }

    pub fn call_id(&self) -> Result<Option<&SipStr>, SipError> {
        self.first(&HeaderName::CallId, |t| match t {
            TypedHeader::CallId(id) => Some(id),
            _ => None,
        })
    }

    pub fn cseq(&self) -> Result<Option<&CSeq>, SipError> {
        self.first(&HeaderName::CSeq, |t| match t {
            TypedHeader::CSeq(c) => Some(c),
            _ => None,
        })
    }

    /// Every Contact line's value, in order.
    pub fn contacts(&self) -> Result<Vec<&ContactValue>, SipError> {
        self.all(&HeaderName::Contact, |t| match t {
            TypedHeader::Contact(c) => std::slice::from_ref(c),
            _ => &[],
        })
    }

    pub fn routes(&self) -> Result<Vec<&NameAddr>, SipError> {
        self.all(&HeaderName::Route, |t| match t {
            TypedHeader::Route(r) => r.as_slice(),
            _ => &[],
        })
    }

    pub fn record_routes(&self) -> Result<Vec<&NameAddr>, SipError> {
        self.all(&HeaderName::RecordRoute, |t| match t {
            TypedHeader::RecordRoute(r) => r.as_slice(),
            _ => &[],
        })
    }

    pub fn max_forwards(&self) -> Result<Option<u8>, SipError> {
        self.first(&HeaderName::MaxForwards, |t| match t {
            TypedHeader::MaxForwards(n) => Some(n),
            _ => None,
        })
        .map(Option::<&u8>::copied)
    }

    pub fn expires(&self) -> Result<Option<u32>, SipError> {
        self.first(&HeaderName::Expires, |t| match t {
            TypedHeader::Expires(n) => Some(n),
            _ => None,
        })
        .map(Option::<&u32>::copied)
    }

    pub fn authorizations(&self) -> Result<Vec<&Credentials>, SipError> {
        self.all(&HeaderName::Authorization, |t| match t {
            TypedHeader::Authorization(c) => std::slice::from_ref(&**c),
            _ => &[],
        })
    }

    pub fn proxy_authorizations(&self) -> Result<Vec<&Credentials>, SipError> {
        self.all(&HeaderName::ProxyAuthorization, |t| match t {
            TypedHeader::ProxyAuthorization(c) => std::slice::from_ref(&**c),
            _ => &[],
        })
    }

    /// Decides whether the message is well-formed (RFC 4475's `valid`
    /// versus `invalid`): the Request-URI and every header with a typed form
    /// must parse, and a request's CSeq method must be its method. Missing
    /// or repeated headers are left to the layers that know the method
    /// (RFC 4475 §3.3 calls them semantic).
    pub fn validate(&self) -> Result<(), SipError> {
        super::validate::validate(self)
    }

    /// The part of [`validate`](Self::validate) the transport applies to
    /// every message: the Request-URI, Via, CSeq (with the method check)
    /// and Call-ID. The other headers are checked when first read.
    pub fn validate_core(&self) -> Result<(), SipError> {
        super::validate::validate_core(self)
    }

    fn first<T: ?Sized>(
        &self,
        name: &HeaderName,
        pick: fn(&TypedHeader) -> Option<&T>,
    ) -> Result<Option<&T>, SipError> {
        match self
            .parsed
            .frame
            .headers
            .iter()
            .position(|f| &f.name == name)
        {
            Some(index) => self.typed(index).map(pick),
            None => Ok(None),
        }
    }

    fn all<T>(
        &self,
        name: &HeaderName,
        pick: fn(&TypedHeader) -> &[T],
    ) -> Result<Vec<&T>, SipError> {
        let mut out = Vec::new();
        for (index, field) in self.parsed.frame.headers.iter().enumerate() {
            if &field.name == name {
                out.extend(pick(self.typed(index)?));
            }
        }
        Ok(out)
    }

    fn request_uri_span(&self) -> Option<Span> {
        match self.parsed.frame.start_line {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    pub(crate) fn text(&self, span: Span) -> SipStr {
        if span.start <= span.end && span.end <= self.parsed.buf.len() {
            SipStr::new(self.parsed.buf.slice(span.range()))
        } else {
            SipStr::default()
        }
    }

    pub(crate) fn field(&self, index: usize) -> Option<&HeaderField> {
        self.parsed.frame.headers.get(index)
    }

    pub(crate) fn fields(&self) -> &[HeaderField] {
        &self.parsed.frame.headers
    }

    pub(crate) fn headers_end(&self) -> usize {
        self.parsed.frame.headers_end
    }

    pub(crate) fn body_span(&self) -> Span {
        self.parsed.frame.body
    }

    pub(crate) fn request_uri_location(&self) -> Option<Span> {
        self.request_uri_span()
    }
}

impl fmt::Debug for SipMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipMessage")
            .field("start_line", &self.start_line())
            .field("headers", &self.parsed.frame.headers.len())
            .field("body_len", &self.parsed.frame.body.len())
            .finish()
    }
}

/// One header field of a message.
#[derive(Clone, Copy)]
pub struct HeaderRef<'m> {
    msg: &'m SipMessage,
    index: usize,
}

impl<'m> HeaderRef<'m> {
    pub fn index(&self) -> usize {
        self.index
    }

    fn field(&self) -> &'m HeaderField {
        &self.msg.parsed.frame.headers[self.index]
    }

    pub fn name(&self) -> &'m HeaderName {
        &self.field().name
    }

    /// The name as written (`v`, `VIA`, ...).
    pub fn raw_name(&self) -> SipStr {
        self.msg.text(self.field().name_span)
    }

    /// The value as written, folds included, surrounding white space not.
    pub fn value(&self) -> SipStr {
        self.msg.text(self.field().value)
    }

    /// The whole field, line end included.
    pub fn line(&self) -> SipStr {
        self.msg.text(self.field().line)
    }

    pub fn value_span(&self) -> Span {
        self.field().value
    }

    pub fn line_span(&self) -> Span {
        self.field().line
    }

    pub fn typed(&self) -> Result<&'m TypedHeader, SipError> {
        self.msg.typed(self.index)
    }
}

impl fmt::Debug for HeaderRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.raw_name(), self.value())
    }
}
