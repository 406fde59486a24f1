//! One pass over the received bytes: start line, header field boundaries,
//! end of headers and body (RFC 3261 §7, §18.3). Nothing is interpreted
//! beyond what finding the boundaries needs, except Content-Length.

use super::chars::{is_lws, is_token, is_wsp};
use super::error::{ErrorKind, Problem, SipError};
use super::header_name::HeaderName;
use super::limits::{Limits, TransportKind};
use super::scanner::parse_number;
use super::span::Span;
use super::start_line::{parse_start_line, StartLine};
use bytes::Bytes;
use memchr::{memchr, memchr2};

/// One header field: where its name, value and whole line are.
#[derive(Debug, Clone)]
pub(crate) struct HeaderField {
    pub name: HeaderName,
    pub name_span: Span,
    /// The value without surrounding white space; folds inside are kept.
    pub value: Span,
    /// From the first byte of the name to after the line end of the last
    /// continuation line.
    pub line: Span,
}

#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub start_line: StartLine,
    /// The start line without its line end.
    pub start_line_span: Span,
    pub headers: Vec<HeaderField>,
    /// Offset of the empty line that ends the headers.
    pub headers_end: usize,
    /// The body; its end is the end of the message.
    pub body: Span,
    pub content_length: Option<usize>,
    pub content_length_conflict: bool,
}

/// CRLFs a stream peer may send between messages (RFC 3261 §7.5, RFC 5626
/// keep-alives): how many lead `data`.
pub fn leading_keepalive_len(data: &[u8]) -> usize {
    data.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// Frames `buf`, which starts with the start line.
pub(crate) fn frame(buf: &Bytes, kind: TransportKind, limits: &Limits) -> Result<Frame, SipError> {
    let data: &[u8] = buf;
    if kind == TransportKind::Datagram && data.len() > limits.max_message_size {
        return Err(SipError::new(ErrorKind::TooLarge {
            limit: limits.max_message_size,
        }));
    }
    let window = data.get(..limits.max_message_size).unwrap_or(data);
    let ran_out = RanOut {
        kind,
        window: window.len(),
        truncated: window.len() < data.len(),
        limit: limits.max_message_size,
    };
    if window.is_empty() {
        return Err(match kind {
            TransportKind::Datagram => SipError::new(ErrorKind::Empty),
            TransportKind::Stream => ran_out.error(),
        });
    }

    let Some(first_lf) = memchr(b'\n', window) else {
        if window.len() > limits.max_start_line {
            return Err(start_line_too_long(limits));
        }
        return Err(ran_out.error());
    };
    let start_line_span = Span::new(0, trim_line_end(window, 0, first_lf));
    if start_line_span.end > limits.max_start_line {
        return Err(start_line_too_long(limits));
    }
    let start_line = parse_start_line(window, start_line_span)?;

    // Room for a typical message's headers (the benchmark's average 9.5)
    // in 968 bytes: small enough for the allocator's per-thread cache,
    // which 16 fields (1,408 bytes) were not. A message with more regrows
    // once.
    let mut headers = Vec::with_capacity(11);
    let mut content_length = None;
    let mut content_length_conflict = false;
    let mut pos = first_lf + 1;
    let (headers_end, body_start) = loop {
        let Some(&first) = window.get(pos) else {
            return Err(ran_out.error());
        };
        match first {
            b'\n' => break (pos, pos + 1),
            b'\r' => match window.get(pos + 1) {
                Some(b'\n') => break (pos, pos + 2),
                None => return Err(ran_out.error()),
                Some(_) => return Err(header_line(Problem::BareCr, pos)),
            },
            b' ' | b'\t' => return Err(header_line(Problem::ContinuationFirst, pos)),
            _ => {}
        }
        if headers.len() >= limits.max_headers {
            return Err(SipError::at(
                ErrorKind::TooManyHeaders {
                    limit: limits.max_headers,
                },
                pos,
            ));
        }
        let field = scan_field(buf, window, pos, limits, &ran_out)?;
        if field.name == HeaderName::ContentLength {
            let value = parse_number(buf, field.value, u64::MAX)
                .map_err(|f| SipError::at(ErrorKind::ContentLength(f.problem), f.offset))?;
            let value = usize::try_from(value).map_err(|_| {
                SipError::at(
                    ErrorKind::ContentLength(Problem::NumberTooLarge),
                    field.value.start,
                )
            })?;
            match content_length {
                None => content_length = Some(value),
                Some(first) if first != value => content_length_conflict = true,
                Some(_) => {}
            }
        }
        pos = field.line.end;
        headers.push(field);
    };

    let body = body_span(
        data,
        kind,
        limits,
        body_start,
        content_length,
        content_length_conflict,
    )?;
    Ok(Frame {
        start_line,
        start_line_span,
        headers,
        headers_end,
        body,
        content_length,
        content_length_conflict,
    })
}

/// What running out of bytes means: a datagram is cut short, a stream
/// needs more, and either is too large if the limit cut it.
struct RanOut {
    kind: TransportKind,
    window: usize,
    truncated: bool,
    limit: usize,
}

impl RanOut {
    fn error(&self) -> SipError {
        if self.truncated {
            return SipError::new(ErrorKind::TooLarge { limit: self.limit });
        }
        match self.kind {
            TransportKind::Datagram => SipError::at(ErrorKind::Unterminated, self.window),
            TransportKind::Stream => SipError::new(ErrorKind::Incomplete { needed: None }),
        }
    }
}

fn start_line_too_long(limits: &Limits) -> SipError {
    SipError::at(
        ErrorKind::StartLineTooLong {
            limit: limits.max_start_line,
        },
        0,
    )
}

fn header_line(problem: Problem, offset: usize) -> SipError {
    SipError::at(ErrorKind::HeaderLine(problem), offset)
}

/// The end of a line's content: before the LF at `lf` and any CRs right
/// before it. More than one CR (`tag=x\r\r\n`) is what some phones send;
/// it is taken as trailing white space.
fn trim_line_end(window: &[u8], line_start: usize, lf: usize) -> usize {
    let mut end = lf;
    while end > line_start && window.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    end
}

/// The LF that ends the line `rest` starts with and where its content
/// ends, when the line holds no CR before its line end (`None` otherwise,
/// or without an LF).
fn clean_line_end(rest: &[u8]) -> Option<(usize, usize)> {
    let first = memchr2(b'\n', b'\r', rest)?;
    let lf = first
        + rest
            .get(first..)?
            .iter()
            .take_while(|&&b| b == b'\r')
            .count();
    (rest.get(lf) == Some(&b'\n')).then_some((lf, first))
}

/// One header field starting at `start`, continuation lines included.
fn scan_field(
    buf: &Bytes,
    window: &[u8],
    start: usize,
    limits: &Limits,
    ran_out: &RanOut,
) -> Result<HeaderField, SipError> {
    let too_long = || {
        SipError::at(
            ErrorKind::HeaderTooLong {
                limit: limits.max_header_size,
            },
            start,
        )
    };
    let mut line_start = start;
    let (content_end, last_lf) = loop {
        let rest = window.get(line_start..).unwrap_or_default();
        // One pass finds the line end of a well-formed line: its first CR
        // or LF, then only CRs up to the LF. Anything else (a CR inside
        // the line, no LF) takes the two passes below, which say what is
        // wrong.
        let (lf, end) = match clean_line_end(rest) {
            Some((lf, end)) => (line_start + lf, line_start + end),
            None => {
                let Some(lf) = memchr(b'\n', rest).map(|i| line_start + i) else {
                    if window.len() - start > limits.max_header_size {
                        return Err(too_long());
                    }
                    return Err(ran_out.error());
                };
                if lf + 1 - start > limits.max_header_size {
                    return Err(too_long());
                }
                let end = trim_line_end(window, line_start, lf);
                if let Some(cr) = memchr(b'\r', window.get(line_start..end).unwrap_or_default()) {
                    return Err(header_line(Problem::BareCr, line_start + cr));
                }
                (lf, end)
            }
        };
        if lf + 1 - start > limits.max_header_size {
            return Err(too_long());
        }
        match window.get(lf + 1) {
            None => return Err(ran_out.error()),
            Some(&b) if is_wsp(b) => line_start = lf + 1,
            Some(_) => break (end, lf),
        }
    };
    // Only CRs lie between the content and the line's LF.
    let line_end = last_lf + 1;

    let name_len = window
        .get(start..content_end)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| is_token(b))
        .count();
    let name_span = Span::new(start, start + name_len);
    let mut colon = name_span.end;
    while colon < content_end && window.get(colon).is_some_and(|&b| is_wsp(b)) {
        colon += 1;
    }
    if name_span.is_empty() || colon >= content_end || window.get(colon) != Some(&b':') {
        let at = if name_span.is_empty() { start } else { colon };
        return Err(header_line(Problem::BadHeaderLine, at));
    }
    let mut value_start = colon + 1;
    while value_start < content_end && window.get(value_start).is_some_and(|&b| is_lws(b)) {
        value_start += 1;
    }
    let mut value_end = content_end;
    while value_end > value_start && window.get(value_end - 1).is_some_and(|&b| is_lws(b)) {
        value_end -= 1;
    }
    Ok(HeaderField {
        name: HeaderName::in_buffer(buf, name_span),
        name_span,
        value: Span::new(value_start, value_end),
        line: Span::new(start, line_end),
    })
}

/// RFC 3261 §18.3: on a datagram the body is Content-Length octets (more
/// is dropped, fewer is an error) or the rest of the datagram; on a stream
/// Content-Length is required and says where the next message starts.
fn body_span(
    data: &[u8],
    kind: TransportKind,
    limits: &Limits,
    body_start: usize,
    content_length: Option<usize>,
    conflict: bool,
) -> Result<Span, SipError> {
    let available = data.len().saturating_sub(body_start);
    match (kind, content_length) {
        (TransportKind::Datagram, None) => Ok(Span::new(body_start, data.len())),
        (TransportKind::Datagram, Some(declared)) => {
            if declared > available {
                return Err(SipError::at(
                    ErrorKind::ContentLengthExceedsDatagram {
                        declared,
                        available,
                    },
                    body_start,
                ));
            }
            Ok(Span::new(body_start, body_start + declared))
        }
        (TransportKind::Stream, None) => Err(SipError::new(ErrorKind::MissingContentLength)),
        (TransportKind::Stream, Some(_)) if conflict => {
            Err(SipError::new(ErrorKind::ConflictingContentLength))
        }
        (TransportKind::Stream, Some(declared)) => {
            let end = body_start
                .checked_add(declared)
                .filter(|&e| e <= limits.max_message_size);
            match end {
                None => Err(SipError::new(ErrorKind::TooLarge {
                    limit: limits.max_message_size,
                })),
                Some(end) if end > data.len() => {
                    Err(SipError::new(ErrorKind::Incomplete { needed: Some(end) }))
                }
                Some(end) => Ok(Span::new(body_start, end)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(text: &'static str) -> Result<Frame, SipError> {
        frame(
            &Bytes::from_static(text.as_bytes()),
            TransportKind::Datagram,
            &Limits::default(),
        )
    }

    fn stream(text: &'static str) -> Result<Frame, SipError> {
        frame(
            &Bytes::from_static(text.as_bytes()),
            TransportKind::Stream,
            &Limits::default(),
        )
    }

    #[test]
    fn folded_fields_and_bare_lf() {
        let f = datagram("OPTIONS sip:a@b SIP/2.0\nA: 1\n  2\nB:\n\nbody").unwrap();
        assert_eq!(f.headers.len(), 2);
        assert_eq!(f.headers[0].line, Span::new(24, 33));
        assert_eq!(f.headers[0].value, Span::new(27, 32));
        assert!(f.headers[1].value.is_empty());
        assert_eq!(f.body, Span::new(37, 41));
    }

    #[test]
    fn content_length_decides_the_body() {
        let f = datagram("SIP/2.0 200 OK\r\nl: 2\r\n\r\nabcd").unwrap();
        assert_eq!(f.body, Span::new(24, 26));
        let err = datagram("SIP/2.0 200 OK\r\nl: 9\r\n\r\nabcd").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::ContentLengthExceedsDatagram {
                declared: 9,
                available: 4
            }
        );
        let err = datagram("SIP/2.0 200 OK\r\nContent-Length: -999\r\n\r\n").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::ContentLength(Problem::NegativeNumber)
        );
        let f = datagram("SIP/2.0 200 OK\r\nl: 2\r\nl: 1\r\n\r\nabcd").unwrap();
        assert!(f.content_length_conflict);
        assert_eq!(f.body.len(), 2);
    }

    #[test]
    fn streams_need_content_length_and_say_how_much_is_missing() {
        assert_eq!(
            stream("SIP/2.0 200 OK\r\nl: 4\r\n\r\nab")
                .unwrap_err()
                .kind(),
            &ErrorKind::Incomplete { needed: Some(28) }
        );
        assert!(stream("SIP/2.0 200 OK\r\nl: 4\r\n")
            .unwrap_err()
            .is_incomplete());
        assert_eq!(
            stream("SIP/2.0 200 OK\r\n\r\n").unwrap_err().kind(),
            &ErrorKind::MissingContentLength
        );
        assert_eq!(
            stream("SIP/2.0 200 OK\r\nl: 1\r\nl: 2\r\n\r\nabc")
                .unwrap_err()
                .kind(),
            &ErrorKind::ConflictingContentLength
        );
        assert_eq!(
            stream("SIP/2.0 200 OK\r\nl: 1\r\n\r\naNEXT").unwrap().body,
            Span::new(24, 25)
        );
    }

    #[test]
    fn broken_framing() {
        assert_eq!(datagram("").unwrap_err().kind(), &ErrorKind::Empty);
        assert_eq!(
            datagram("SIP/2.0 200 OK\r\nVia: x").unwrap_err().kind(),
            &ErrorKind::Unterminated
        );
        assert_eq!(
            datagram("SIP/2.0 200 OK\r\nVia: x\r\n").unwrap_err().kind(),
            &ErrorKind::Unterminated
        );
        let err = datagram("SIP/2.0 200 OK\r\nCall-ID; x\r\n\r\n").unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (&ErrorKind::HeaderLine(Problem::BadHeaderLine), Some(23))
        );
        let err = datagram("SIP/2.0 200 OK\r\n folded\r\n\r\n").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::HeaderLine(Problem::ContinuationFirst)
        );
        let err = datagram("SIP/2.0 200 OK\r\nA: x\ry\r\n\r\n").unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (&ErrorKind::HeaderLine(Problem::BareCr), Some(20))
        );
        assert!(datagram("SIP/2.0 200 OK\r\nA: x\r\r\n\r\n").is_ok());
        assert_eq!(
            datagram("SIP/2.0 200 OK\r\nA: x\r").unwrap_err().kind(),
            &ErrorKind::Unterminated
        );
        let err = datagram("SIP/2.0 200 OK\r\nA: x\r\ry\r\n\r\n").unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (&ErrorKind::HeaderLine(Problem::BareCr), Some(20))
        );
        // Lines ended by CRLF, CRCRLF and a bare LF keep the same bounds.
        let text = "SIP/2.0 200 OK\r\nA: x\r\nB: y\r\r\nC: z\n\r\n";
        let frame = datagram(text).unwrap();
        let fields: Vec<(&str, &str)> = frame
            .headers
            .iter()
            .map(|h| (&text[h.value.range()], &text[h.line.range()]))
            .collect();
        assert_eq!(
            fields,
            [("x", "A: x\r\n"), ("y", "B: y\r\r\n"), ("z", "C: z\n")]
        );
    }

    #[test]
    fn limits_bound_everything() {
        let limits = Limits {
            max_message_size: 64,
            max_start_line: 16,
            max_headers: 2,
            max_header_size: 12,
        };
        let run = |text: &'static str| {
            frame(
                &Bytes::from_static(text.as_bytes()),
                TransportKind::Datagram,
                &limits,
            )
        };
        assert_eq!(
            run("SIP/2.0 200 A very long reason\r\n\r\n")
                .unwrap_err()
                .code(),
            "start-line-too-long"
        );
        assert_eq!(
            run("SIP/2.0 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
                .unwrap_err()
                .code(),
            "too-many-headers"
        );
        assert_eq!(
            run("SIP/2.0 200 OK\r\nA: 1234567890\r\n\r\n")
                .unwrap_err()
                .code(),
            "header-too-long"
        );
        let big = "SIP/2.0 200 OK\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789";
        assert_eq!(run(big).unwrap_err().code(), "too-large");
    }
}
