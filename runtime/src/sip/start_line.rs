//! Request line and status line (RFC 3261 §7.1, §7.2).

use super::chars::{is_ctl, is_token};
use super::error::{ErrorKind, Problem, SipError};
use super::span::Span;

/// Where the parts of the start line are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartLine {
    Request { method: Span, uri: Span },
    Response { code: u16, reason: Span },
}

const VERSION: &[u8] = b"SIP/2.0";

/// Parses `data[line]`, the start line without its line end.
pub(crate) fn parse_start_line(data: &[u8], line: Span) -> Result<StartLine, SipError> {
    let text = data.get(line.range()).unwrap_or_default();
    let looks_like_status = text
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case(b"SIP/"));
    if looks_like_status {
        parse_status_line(text, line.start)
    } else {
        parse_request_line(text, line.start)
    }
}

fn fail(problem: Problem, offset: usize) -> SipError {
    SipError::at(ErrorKind::StartLine(problem), offset)
}

/// `Method SP Request-URI SP SIP-Version`: exactly two single spaces
/// (RFC 4475 §3.1.2.8 to §3.1.2.10 are all about extra or missing ones).
fn parse_request_line(text: &[u8], base: usize) -> Result<StartLine, SipError> {
    let first =
        memchr::memchr(b' ', text).ok_or(fail(Problem::RequestLineElements, base + text.len()))?;
    let method = Span::new(base, base + first);
    if method.is_empty() {
        return Err(fail(Problem::RequestLineElements, base));
    }
    if let Some(bad) = text
        .get(..first)
        .unwrap_or_default()
        .iter()
        .position(|&b| !is_token(b))
    {
        return Err(fail(Problem::BadMethod, base + bad));
    }
    let after_method = text.get(first + 1..).unwrap_or_default();
    let second = memchr::memchr(b' ', after_method)
        .ok_or(fail(Problem::RequestLineElements, base + text.len()))?;
    let uri = Span::new(base + first + 1, base + first + 1 + second);
    if uri.is_empty() {
        return Err(fail(Problem::RequestLineElements, uri.start));
    }
    let version_start = first + 1 + second + 1;
    let version = text.get(version_start..).unwrap_or_default();
    if let Some(extra) = memchr::memchr(b' ', version) {
        return Err(fail(
            Problem::RequestLineElements,
            base + version_start + extra,
        ));
    }
    if !version.eq_ignore_ascii_case(VERSION) {
        return Err(fail(Problem::UnsupportedVersion, base + version_start));
    }
    Ok(StartLine::Request { method, uri })
}

/// `SIP-Version SP Status-Code SP Reason-Phrase`. A missing SP before an
/// empty reason is tolerated; RFC 4475 §3.1.1.13 has the SP and nothing
/// after it.
fn parse_status_line(text: &[u8], base: usize) -> Result<StartLine, SipError> {
    let version_end = memchr::memchr(b' ', text).unwrap_or(text.len());
    if !text
        .get(..version_end)
        .unwrap_or_default()
        .eq_ignore_ascii_case(VERSION)
    {
        return Err(fail(Problem::UnsupportedVersion, base));
    }
    let code_start = version_end + 1;
    let rest = text.get(code_start..).unwrap_or_default();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let code = match rest.get(..digits) {
        Some(&[a, b, c]) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => {
            return Err(fail(
                Problem::BadStatusCode,
                base + code_start.min(text.len()),
            ))
        }
    };
    if !(100..=699).contains(&code) {
        return Err(fail(Problem::BadStatusCode, base + code_start));
    }
    let reason = match rest.get(3) {
        None => Span::new(base + text.len(), base + text.len()),
        Some(b' ') => Span::new(base + code_start + 4, base + text.len()),
        Some(_) => return Err(fail(Problem::BadStatusCode, base + code_start)),
    };
    if let Some(bad) = data_position(text, reason.start - base, is_ctl) {
        return Err(fail(Problem::ControlCharacter, base + bad));
    }
    Ok(StartLine::Response { code, reason })
}

fn data_position(text: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
    text.get(from..)?
        .iter()
        .position(|&b| pred(b))
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Result<StartLine, SipError> {
        parse_start_line(text.as_bytes(), Span::new(0, text.len()))
    }

    fn problem(text: &str) -> (Problem, Option<usize>) {
        let err = line(text).unwrap_err();
        match err.kind() {
            ErrorKind::StartLine(p) => (*p, err.offset()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_lines() {
        assert_eq!(
            line("INVITE sip:a@b SIP/2.0").unwrap(),
            StartLine::Request {
                method: Span::new(0, 6),
                uri: Span::new(7, 14)
            }
        );
        assert_eq!(
            problem("INVITE  sip:a@b  SIP/2.0").0,
            Problem::RequestLineElements
        );
        assert_eq!(
            problem("INVITE sip:a@b; lr SIP/2.0"),
            (Problem::RequestLineElements, Some(18))
        );
        assert_eq!(
            problem("OPTIONS sip:a@b SIP/2.0  ").0,
            Problem::RequestLineElements
        );
        assert_eq!(
            problem("OPTIONS sip:a@b SIP/7.0"),
            (Problem::UnsupportedVersion, Some(16))
        );
        assert_eq!(
            problem("INVITE sip:x@y.z SIP/2.0/UDP").0,
            Problem::UnsupportedVersion
        );
        assert_eq!(
            problem("IN(VITE sip:a@b SIP/2.0"),
            (Problem::BadMethod, Some(2))
        );
        assert_eq!(problem("INVITE").0, Problem::RequestLineElements);
    }

    #[test]
    fn status_lines() {
        assert!(
            matches!(line("SIP/2.0 100 ").unwrap(), StartLine::Response { code: 100, reason } if reason.is_empty())
        );
        assert!(matches!(
            line("SIP/2.0 180").unwrap(),
            StartLine::Response { code: 180, .. }
        ));
        assert!(matches!(
            line("SIP/2.0 200 = 2**3 * 5**2 \u{43d}\u{43e}").unwrap(),
            StartLine::Response { code: 200, .. }
        ));
        assert_eq!(
            problem("SIP/2.0 4294967301 better not break the receiver"),
            (Problem::BadStatusCode, Some(8))
        );
        assert_eq!(problem("SIP/2.0 099 Low").0, Problem::BadStatusCode);
        assert_eq!(problem("SIP/2.0 700 High").0, Problem::BadStatusCode);
        assert_eq!(problem("SIP/2.0 20 Short").0, Problem::BadStatusCode);
        assert_eq!(problem("SIP/2.0 200OK").0, Problem::BadStatusCode);
        assert_eq!(problem("SIP/3.0 200 OK").0, Problem::UnsupportedVersion);
        assert_eq!(problem("SIP/2.0 200 O\u{1}K").0, Problem::ControlCharacter);
    }
}
