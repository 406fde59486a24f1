//! Well-formedness: the line between RFC 4475's `valid` and `invalid`.
//!
//! Framing already refused what cannot be framed (bad start line, bad
//! Content-Length, a datagram shorter than its body). What is left is
//! syntax inside values, and one cross-check. Rules about which headers
//! must be present or may repeat belong to the transaction layer, proxy and
//! registrar (RFC 4475 §3.3), so they are not here.

use super::error::{ErrorKind, Problem, SipError};
use super::header_name::HeaderName;
use super::message::SipMessage;
use super::uri::Uri;

pub(crate) fn validate(msg: &SipMessage) -> Result<(), SipError> {
    check_request_uri(msg)?;
    for header in msg.headers() {
        header.typed()?;
    }
    check_cseq_method(msg)
}

/// The headers every message's routing and transaction matching reads, so
/// a broken one must stop the message at the transport.
const CORE_HEADERS: [HeaderName; 3] = [HeaderName::Via, HeaderName::CSeq, HeaderName::CallId];

/// [`validate`] restricted to what the core itself reads: the Request-URI,
/// Via, CSeq (and its method) and Call-ID. Other headers are parsed when
/// the script or a module first reads them, as Kamailio does; a full check
/// is `sanity_check()`'s job.
pub(crate) fn validate_core(msg: &SipMessage) -> Result<(), SipError> {
    check_request_uri(msg)?;
    for header in msg.headers() {
        if CORE_HEADERS.contains(header.name()) {
            header.typed()?;
        }
    }
    check_cseq_method(msg)
}

/// RFC 3261 §19.1.1 (table): headers are not allowed in a Request-URI;
/// RFC 4475 §3.1.2.11 (escruri) counts them as invalid.
fn check_request_uri(msg: &SipMessage) -> Result<(), SipError> {
    let Some(Uri::Sip(uri)) = msg.request_uri()? else {
        return Ok(());
    };
    let Some(headers) = uri.headers() else {
        return Ok(());
    };
    let start = msg.request_uri_location().map_or(0, |span| span.start);
    let question_mark = uri.raw().len().saturating_sub(headers.len() + 1);
    Err(SipError::at(
        ErrorKind::RequestUri(Problem::UriHeadersNotAllowed),
        start + question_mark,
    ))
}

/// RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.17 and §3.1.2.18.
fn check_cseq_method(msg: &SipMessage) -> Result<(), SipError> {
    let (Some(method), Some(cseq)) = (msg.method(), msg.cseq()?) else {
        return Ok(());
    };
    if cseq.method() == &method {
        return Ok(());
    }
    let at = msg
        .headers_named(&HeaderName::CSeq)
        .next()
        .map_or(0, |h| h.value_span().start);
    Err(SipError::at(ErrorKind::CSeqMethodMismatch, at))
}
