//! A cursor over one framed value, shared by the typed parsers.

use super::chars::{is_ctl, is_lws, is_token};
use super::error::Problem;
use super::span::Span;
use super::text::SipStr;
use bytes::Bytes;

/// A syntax problem at a byte offset of the message buffer. Typed parsers
/// return it, and the caller adds what was being parsed (which header, the
/// Request-URI) to make a [`SipError`](super::SipError).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    pub problem: Problem,
    pub offset: usize,
}

impl Fault {
    pub(crate) fn new(problem: Problem, offset: usize) -> Self {
        Fault { problem, offset }
    }
}

/// Reads `src[span]` front to back. Offsets are absolute in `src`, so spans
/// and faults point into the message.
pub(crate) struct Scanner<'a> {
    src: &'a Bytes,
    pos: usize,
    end: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(src: &'a Bytes, span: Span) -> Self {
        let end = span.end.min(src.len());
        Scanner {
            src,
            pos: span.start.min(end),
            end,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.end);
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<u8> {
        let at = self.pos.checked_add(ahead)?;
        if at < self.end {
            self.src.get(at).copied()
        } else {
            None
        }
    }

    pub(crate) fn bump(&mut self) {
        if self.pos < self.end {
            self.pos += 1;
        }
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips white space, folds included; says whether there was any.
    pub(crate) fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        self.take_while(is_lws);
        self.pos > start
    }

    pub(crate) fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> Span {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !keep(b) {
                break;
            }
            self.pos += 1;
        }
        Span::new(start, self.pos)
    }

    /// A non-empty token.
    pub(crate) fn token(&mut self, missing: Problem) -> Result<Span, Fault> {
        let span = self.take_while(is_token);
        if span.is_empty() {
            Err(self.fault(missing))
        } else {
            Ok(span)
        }
    }

    /// The rest of the value, without moving.
    pub(crate) fn rest(&self) -> Span {
        Span::new(self.pos, self.end)
    }

    pub(crate) fn bytes(&self, span: Span) -> &'a [u8] {
        let src: &'a [u8] = self.src;
        src.get(span.range()).unwrap_or_default()
    }

    pub(crate) fn text(&self, span: Span) -> SipStr {
        if span.start <= span.end && span.end <= self.src.len() {
            SipStr::new(self.src.slice(span.range()))
        } else {
            SipStr::default()
        }
    }

    pub(crate) fn src(&self) -> &'a Bytes {
        self.src
    }

    pub(crate) fn fault(&self, problem: Problem) -> Fault {
        Fault::new(problem, self.pos)
    }

    pub(crate) fn expect(&mut self, b: u8, problem: Problem) -> Result<(), Fault> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.fault(problem))
        }
    }

    /// Only white space may follow.
    pub(crate) fn expect_end(&mut self) -> Result<(), Fault> {
        self.skip_lws();
        if self.at_end() {
            Ok(())
        } else {
            Err(self.fault(Problem::TrailingCharacters))
        }
    }

    /// A quoted-string, quotes included (RFC 3261 §25.1): qdtext is any
    /// byte but `"`, `\` and controls; a backslash escapes any byte but CR
    /// and LF. CR and LF may appear only as a fold.
    pub(crate) fn quoted_string(&mut self) -> Result<Span, Fault> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Err(self.fault(Problem::ExpectedToken));
        }
        loop {
            match self.peek() {
                None => return Err(Fault::new(Problem::UnterminatedQuotedString, start)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Span::new(start, self.pos));
                }
                Some(b'\\') => match self.peek_at(1) {
                    None => return Err(Fault::new(Problem::UnterminatedQuotedString, start)),
                    Some(b'\r' | b'\n') => return Err(self.fault(Problem::ControlCharacter)),
                    Some(_) => self.pos += 2,
                },
                Some(b) if is_lws(b) => self.pos += 1,
                Some(b) if is_ctl(b) => return Err(self.fault(Problem::ControlCharacter)),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Decimal digits up to `max`. A leading `-` gets its own complaint
    /// because negative Content-Length is a classic (RFC 4475 §3.1.2.3).
    pub(crate) fn decimal(&mut self, max: u64) -> Result<u64, Fault> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            return Err(self.fault(Problem::NegativeNumber));
        }
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(Fault::new(Problem::ExpectedDigits, start));
        }
        let mut value: u64 = 0;
        for &d in self.bytes(digits) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .filter(|&v| v <= max)
                .ok_or(Fault::new(Problem::NumberTooLarge, start))?;
        }
        Ok(value)
    }
}

/// A whole header value that is one decimal number up to `max`.
pub(crate) fn parse_number(src: &Bytes, span: Span, max: u64) -> Result<u64, Fault> {
    let mut s = Scanner::new(src, span);
    s.skip_lws();
    let value = s.decimal(max)?;
    s.expect_end()?;
    Ok(value)
}

/// Items separated by commas (RFC 3261 §7.3.1), none of them empty. Each
/// item parser stops where its item ends, so commas inside quoted strings
/// or URIs are never taken for separators.
pub(crate) fn parse_list<T>(
    s: &mut Scanner<'_>,
    mut item: impl FnMut(&mut Scanner<'_>) -> Result<T, Fault>,
) -> Result<Vec<T>, Fault> {
    // Most lists (Via, Route, Contact) hold one element: room for one,
    // allocated at once rather than through the growth path.
    let mut items = Vec::with_capacity(1);
    loop {
        s.skip_lws();
        match s.peek() {
            None if items.is_empty() => return Err(s.fault(Problem::EmptyValue)),
            None | Some(b',') => return Err(s.fault(Problem::EmptyListElement)),
            Some(_) => {}
        }
        items.push(item(s)?);
        s.skip_lws();
        if s.at_end() {
            return Ok(items);
        }
        if !s.eat(b',') {
            return Err(s.fault(Problem::TrailingCharacters));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(src: &Bytes) -> Scanner<'_> {
        Scanner::new(src, Span::new(0, src.len()))
    }

    #[test]
    fn quoted_strings_keep_escapes_and_fail_when_open() {
        let src = Bytes::from_static(b"\"a \\\" b\" rest");
        let mut s = scanner(&src);
        assert_eq!(s.quoted_string().unwrap(), Span::new(0, 8));
        let src = Bytes::from_static(b"\"open <sip:x@y>");
        let err = scanner(&src).quoted_string().unwrap_err();
        assert_eq!(err, Fault::new(Problem::UnterminatedQuotedString, 0));
        let src = Bytes::from_static(b"\"nul:\\\0 ok\"");
        assert!(scanner(&src).quoted_string().is_ok());
    }

    #[test]
    fn decimals_are_bounded() {
        let src = Bytes::from_static(b"0068");
        assert_eq!(scanner(&src).decimal(255), Ok(68));
        let src = Bytes::from_static(b"36893488147419103232");
        assert_eq!(
            scanner(&src).decimal(u64::MAX).unwrap_err().problem,
            Problem::NumberTooLarge
        );
        let src = Bytes::from_static(b"-999");
        assert_eq!(
            scanner(&src).decimal(10).unwrap_err().problem,
            Problem::NegativeNumber
        );
        let src = Bytes::from_static(b"256");
        assert!(scanner(&src).decimal(255).is_err());
    }

    #[test]
    fn lists_refuse_empty_elements() {
        let src = Bytes::from_static(b"a, b ,c");
        let items = parse_list(&mut scanner(&src), |s| s.token(Problem::ExpectedToken)).unwrap();
        assert_eq!(items.len(), 3);
        let src = Bytes::from_static(b"a,,b");
        let err = parse_list(&mut scanner(&src), |s| s.token(Problem::ExpectedToken)).unwrap_err();
        assert_eq!(err.problem, Problem::EmptyListElement);
    }
}
