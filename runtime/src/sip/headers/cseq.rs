//! CSeq (RFC 3261 §20.16).

use crate::sip::error::Problem;
use crate::sip::method::Method;
use crate::sip::scanner::{Fault, Scanner};

/// The largest CSeq number: RFC 3261 §8.1.1.5 says less than 2**31.
pub const MAX_CSEQ: u32 = (1 << 31) - 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    number: u32,
    method: Method,
}

impl CSeq {
    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn method(&self) -> &Method {
        &self.method
    }
}

/// `1*DIGIT LWS Method`.
pub(crate) fn parse_cseq(s: &mut Scanner<'_>) -> Result<CSeq, Fault> {
    s.skip_lws();
    let number = s.decimal(u64::from(MAX_CSEQ))?;
    if !s.skip_lws() {
        return Err(s.fault(Problem::ExpectedMethod));
    }
    let method = s.token(Problem::ExpectedMethod)?;
    s.expect_end()?;
    Ok(CSeq {
        number: u32::try_from(number).unwrap_or(MAX_CSEQ),
        method: Method::from_text(s.text(method)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::span::Span;
    use bytes::Bytes;

    fn cseq(text: &str) -> Result<CSeq, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        parse_cseq(&mut Scanner::new(&src, Span::new(0, src.len())))
    }

    #[test]
    fn cseq_numbers_and_methods() {
        let c = cseq("0009\r\n  INVITE").unwrap();
        assert_eq!(c.number(), 9);
        assert_eq!(c.method(), &Method::Invite);
        assert_eq!(cseq("2147483647 ACK").unwrap().number(), MAX_CSEQ);
        assert_eq!(
            cseq("2147483648 ACK").unwrap_err().problem,
            Problem::NumberTooLarge
        );
        assert_eq!(
            cseq("36893488147419103232 REGISTER").unwrap_err().problem,
            Problem::NumberTooLarge
        );
        assert_eq!(cseq("101").unwrap_err().problem, Problem::ExpectedMethod);
        assert_eq!(
            cseq("1 INVITE x").unwrap_err().problem,
            Problem::TrailingCharacters
        );
    }
}
