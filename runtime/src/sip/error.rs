//! Why a message (or an edit of one) was refused. Errors are values: every
//! parser returns them, nothing panics on input.

use super::header_name::HeaderName;
use std::fmt;

/// A refusal: what went wrong and, when it is tied to one place, the byte
/// offset into the message buffer (the buffer starts at the start line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipError {
    kind: ErrorKind,
    offset: Option<usize>,
}

impl SipError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        SipError { kind, offset: None }
    }

    pub(crate) fn at(kind: ErrorKind, offset: usize) -> Self {
        SipError {
            kind,
            offset: Some(offset),
        }
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// [`ErrorKind::code`] of the kind.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// A stream transport should read more bytes and try again.
    pub fn is_incomplete(&self) -> bool {
        matches!(self.kind, ErrorKind::Incomplete { .. })
    }
}

impl fmt::Display for SipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} (at byte {offset})", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for SipError {}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No bytes at all.
    Empty,
    /// The message is larger than [`Limits::max_message_size`](super::Limits).
    TooLarge {
        limit: usize,
    },
    /// Stream transports only: the message is not complete yet. `needed` is
    /// the total length when the Content-Length already tells it.
    Incomplete {
        needed: Option<usize>,
    },
    /// A datagram ended before the empty line that closes the headers.
    Unterminated,
    StartLineTooLong {
        limit: usize,
    },
    TooManyHeaders {
        limit: usize,
    },
    HeaderTooLong {
        limit: usize,
    },
    StartLine(Problem),
    HeaderLine(Problem),
    ContentLength(Problem),
    /// RFC 3261 §18.3: a datagram that ends before the declared body does.
    ContentLengthExceedsDatagram {
        declared: usize,
        available: usize,
    },
    /// Stream transports need Content-Length to find the end (§18.3).
    MissingContentLength,
    /// On a stream, two Content-Length values that disagree would let two
    /// parsers split the stream differently.
    ConflictingContentLength,
    RequestUri(Problem),
    /// A URI given on its own (not from a message) does not parse.
    Uri(Problem),
    Header {
        name: HeaderName,
        problem: Problem,
    },
    /// RFC 3261 §8.1.1.5: the CSeq method must be the request's method.
    CSeqMethodMismatch,
    MissingHeader(HeaderName),
    /// A `%`-escape or similar that does not decode.
    Decode(Problem),
    /// An edit refers past the end of the message.
    LumpOutOfRange {
        offset: usize,
        len: usize,
    },
    /// Two deletions or replacements cover the same bytes.
    LumpOverlap,
    /// An insertion falls strictly inside a deleted or replaced range.
    InsertInsideDeletion,
    NoSuchHeader {
        index: usize,
    },
    NotARequest,
    InvalidHeaderName,
    InvalidHeaderValue,
    InvalidStatus {
        code: u16,
    },
    InvalidReasonPhrase,
    InvalidTag,
    /// RFC 3261 §8.2.6.2: a reply other than 100 needs a To tag, and the
    /// request had none and the caller gave none.
    MissingToTag,
    /// ACK is never answered (RFC 3261 §17.1.1.3).
    NoReplyToAck,
}

impl ErrorKind {
    /// A short stable name for logs, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::TooLarge { .. } => "too-large",
            ErrorKind::Incomplete { .. } => "incomplete",
            ErrorKind::Unterminated => "unterminated",
            ErrorKind::StartLineTooLong { .. } => "start-line-too-long",
            ErrorKind::TooManyHeaders { .. } => "too-many-headers",
            ErrorKind::HeaderTooLong { .. } => "header-too-long",
            ErrorKind::StartLine(_) => "start-line",
            ErrorKind::HeaderLine(_) => "header-line",
            ErrorKind::ContentLength(_) => "content-length",
            ErrorKind::ContentLengthExceedsDatagram { .. } => "content-length-exceeds-datagram",
            ErrorKind::MissingContentLength => "missing-content-length",
            ErrorKind::ConflictingContentLength => "conflicting-content-length",
            ErrorKind::RequestUri(_) => "request-uri",
            ErrorKind::Uri(_) => "uri",
            ErrorKind::Header { .. } => "header",
            ErrorKind::CSeqMethodMismatch => "cseq-method-mismatch",
            ErrorKind::MissingHeader(_) => "missing-header",
            ErrorKind::Decode(_) => "decode",
            ErrorKind::LumpOutOfRange { .. } => "lump-out-of-range",
            ErrorKind::LumpOverlap => "lump-overlap",
            ErrorKind::InsertInsideDeletion => "insert-inside-deletion",
            ErrorKind::NoSuchHeader { .. } => "no-such-header",
            ErrorKind::NotARequest => "not-a-request",
            ErrorKind::InvalidHeaderName => "invalid-header-name",
            ErrorKind::InvalidHeaderValue => "invalid-header-value",
            ErrorKind::InvalidStatus { .. } => "invalid-status",
            ErrorKind::InvalidReasonPhrase => "invalid-reason-phrase",
            ErrorKind::InvalidTag => "invalid-tag",
            ErrorKind::MissingToTag => "missing-to-tag",
            ErrorKind::NoReplyToAck => "no-reply-to-ack",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Empty => f.write_str("empty message"),
            ErrorKind::TooLarge { limit } => write!(f, "message larger than {limit} bytes"),
            ErrorKind::Incomplete { needed: Some(n) } => {
                write!(f, "incomplete message: {n} bytes needed")
            }
            ErrorKind::Incomplete { needed: None } => f.write_str("incomplete message"),
            ErrorKind::Unterminated => {
                f.write_str("datagram ends before the empty line that ends the headers")
            }
            ErrorKind::StartLineTooLong { limit } => {
                write!(f, "start line longer than {limit} bytes")
            }
            ErrorKind::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            ErrorKind::HeaderTooLong { limit } => {
                write!(f, "header field longer than {limit} bytes")
            }
            ErrorKind::StartLine(p) => write!(f, "bad start line: {p}"),
            ErrorKind::HeaderLine(p) => write!(f, "bad header line: {p}"),
            ErrorKind::ContentLength(p) => write!(f, "bad Content-Length: {p}"),
            ErrorKind::ContentLengthExceedsDatagram {
                declared,
                available,
            } => write!(
                f,
                "Content-Length is {declared} but the datagram has only {available} body bytes"
            ),
            ErrorKind::MissingContentLength => {
                f.write_str("no Content-Length on a stream transport")
            }
            ErrorKind::ConflictingContentLength => {
                f.write_str("Content-Length values disagree on a stream transport")
            }
            ErrorKind::RequestUri(p) => write!(f, "bad Request-URI: {p}"),
            ErrorKind::Uri(p) => write!(f, "bad URI: {p}"),
            ErrorKind::Header { name, problem } => write!(f, "bad {name} header: {problem}"),
            ErrorKind::CSeqMethodMismatch => {
                f.write_str("CSeq method differs from the request method")
            }
            ErrorKind::MissingHeader(name) => write!(f, "no {name} header"),
            ErrorKind::Decode(p) => write!(f, "cannot decode: {p}"),
            ErrorKind::LumpOutOfRange { offset, len } => {
                write!(f, "edit at byte {offset} is past the message end ({len})")
            }
            ErrorKind::LumpOverlap => f.write_str("edits delete or replace the same bytes"),
            ErrorKind::InsertInsideDeletion => {
                f.write_str("insertion inside a deleted or replaced range")
            }
            ErrorKind::NoSuchHeader { index } => write!(f, "no header field #{index}"),
            ErrorKind::NotARequest => f.write_str("the message is not a request"),
            ErrorKind::InvalidHeaderName => f.write_str("header name is not a token"),
            ErrorKind::InvalidHeaderValue => {
                f.write_str("header value contains CR, LF or another control character")
            }
            ErrorKind::InvalidStatus { code } => {
                write!(f, "status {code} is not between 100 and 699")
            }
            ErrorKind::InvalidReasonPhrase => {
                f.write_str("reason phrase contains a control character")
            }
            ErrorKind::InvalidTag => f.write_str("tag is not a token"),
            ErrorKind::MissingToTag => {
                f.write_str("a reply above 100 needs a To tag and none was given")
            }
            ErrorKind::NoReplyToAck => f.write_str("ACK is never answered"),
        }
    }
}

/// The syntax detail behind a start-line, header or URI error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    RequestLineElements,
    BadMethod,
    UnsupportedVersion,
    BadStatusCode,
    ControlCharacter,
    BadHeaderLine,
    ContinuationFirst,
    BareCr,
    ExpectedDigits,
    NegativeNumber,
    NumberTooLarge,
    EmptyValue,
    EmptyParameter,
    EmptyListElement,
    UnterminatedQuotedString,
    BadDisplayName,
    UnterminatedAngleBrackets,
    ExpectedAddress,
    ExpectedNameAddr,
    WhitespaceInUri,
    MissingScheme,
    BadUserInfo,
    BadHost,
    BadPort,
    BadTelNumber,
    BadUriParameter,
    BadUriHeaders,
    BadUriCharacter,
    UriNeedsBrackets,
    UriHeadersNotAllowed,
    BadSentProtocol,
    EmptyBranch,
    BadTtl,
    BadRport,
    TrailingCharacters,
    ExpectedToken,
    ExpectedMethod,
    BadCallId,
    BadDate,
    BadAuthParameter,
    BadEscape,
    BadQValue,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::RequestLineElements => {
                "a request line is Method SP Request-URI SP SIP-Version, single spaces, nothing after"
            }
            Problem::BadMethod => "the method is not a token",
            Problem::UnsupportedVersion => "the protocol version is not SIP/2.0",
            Problem::BadStatusCode => "the status code is not three digits from 100 to 699",
            Problem::ControlCharacter => "control character",
            Problem::BadHeaderLine => "expected a header name (token) followed by `:`",
            Problem::ContinuationFirst => "continuation line with no header before it",
            Problem::BareCr => "CR not followed by LF",
            Problem::ExpectedDigits => "expected a decimal number",
            Problem::NegativeNumber => "negative number",
            Problem::NumberTooLarge => "number out of range",
            Problem::EmptyValue => "empty value",
            Problem::EmptyParameter => "empty parameter (stray `;`)",
            Problem::EmptyListElement => "empty list element (stray `,`)",
            Problem::UnterminatedQuotedString => "quoted string without its closing `\"`",
            Problem::BadDisplayName => {
                "display name is neither a quoted string nor tokens separated by white space"
            }
            Problem::UnterminatedAngleBrackets => "`<` without its `>`",
            Problem::ExpectedAddress => "expected a name-addr or an addr-spec",
            Problem::ExpectedNameAddr => "expected `<URI>`",
            Problem::WhitespaceInUri => "white space or control character inside a URI",
            Problem::MissingScheme => "URI without a scheme",
            Problem::BadUserInfo => "malformed user or password part",
            Problem::BadHost => "malformed host",
            Problem::BadPort => "malformed port",
            Problem::BadTelNumber => "malformed telephone number",
            Problem::BadUriParameter => "malformed URI parameter",
            Problem::BadUriHeaders => "malformed URI headers",
            Problem::BadUriCharacter => "character not allowed at this place in a URI",
            Problem::UriNeedsBrackets => {
                "a URI with `?` headers must be enclosed in `<>` (RFC 3261 §20)"
            }
            Problem::UriHeadersNotAllowed => {
                "headers (`?...`) are not allowed in a Request-URI (RFC 3261 §19.1.1)"
            }
            Problem::BadSentProtocol => "expected protocol/version/transport such as SIP/2.0/UDP",
            Problem::EmptyBranch => "empty branch parameter",
            Problem::BadTtl => "ttl is not a number from 0 to 255",
            Problem::BadRport => "rport is not a port number",
            Problem::TrailingCharacters => "unexpected characters after the value",
            Problem::ExpectedToken => "expected a token",
            Problem::ExpectedMethod => "expected a method",
            Problem::BadCallId => "Call-ID is not word[@word]",
            Problem::BadDate => "not an RFC 1123 date in GMT (like `Sat, 13 Nov 2010 23:29:00 GMT`)",
            Problem::BadAuthParameter => "expected name=value with a token or quoted value",
            Problem::BadEscape => "`%` not followed by two hex digits",
            Problem::BadQValue => "q is not a number from 0 to 1 with at most 3 decimals",
        })
    }
}
