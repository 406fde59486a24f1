//! Date (RFC 3261 §20.17): RFC 1123 format, GMT only.

use crate::sip::error::Problem;
use crate::sip::scanner::{Fault, Scanner};

const WEEKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A date as given; no calendar arithmetic (the weekday is not checked
/// against the date: senders get it wrong and nothing depends on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipDate {
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// `wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT
/// SP "GMT"`. RFC 4475 §3.1.2.12: any other zone is invalid.
pub(crate) fn parse_date(s: &mut Scanner<'_>) -> Result<SipDate, Fault> {
    s.skip_lws();
    let start = s.pos();
    let bad = Fault::new(Problem::BadDate, start);
    word(s, &WEEKDAYS).ok_or(bad)?;
    if !s.eat(b',') || !s.skip_lws() {
        return Err(bad);
    }
    let day = digits(s, 2, 1, 31).ok_or(bad)?;
    s.skip_lws();
    let month = word(s, &MONTHS).ok_or(bad)? + 1;
    s.skip_lws();
    let year = digits(s, 4, 0, 9999).ok_or(bad)?;
    s.skip_lws();
    let hour = digits(s, 2, 0, 23).ok_or(bad)?;
    s.expect(b':', Problem::BadDate)?;
    let minute = digits(s, 2, 0, 59).ok_or(bad)?;
    s.expect(b':', Problem::BadDate)?;
    let second = digits(s, 2, 0, 60).ok_or(bad)?;
    if !s.skip_lws() {
        return Err(bad);
    }
    let zone_at = s.pos();
    if word(s, &[b"GMT"]).is_none() {
        return Err(Fault::new(Problem::BadDate, zone_at));
    }
    s.expect_end()?;
    Ok(SipDate {
        year: year as u16,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
    })
}

/// The index of the three-letter word (any case) that comes next.
fn word(s: &mut Scanner<'_>, words: &[&[u8]]) -> Option<usize> {
    let span = s.take_while(|b| b.is_ascii_alphabetic());
    let text = s.bytes(span);
    words.iter().position(|w| text.eq_ignore_ascii_case(w))
}

fn digits(s: &mut Scanner<'_>, count: usize, min: u32, max: u32) -> Option<u32> {
    let span = s.take_while(|b| b.is_ascii_digit());
    let text = s.bytes(span);
    if text.len() != count {
        return None;
    }
    let value = text
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    (min..=max).contains(&value).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::span::Span;
    use bytes::Bytes;

    fn date(text: &str) -> Result<SipDate, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        parse_date(&mut Scanner::new(&src, Span::new(0, src.len())))
    }

    #[test]
    fn gmt_dates_only() {
        let d = date("Sat, 15 Oct 2005 04:44:56 GMT").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.hour, d.minute, d.second),
            (2005, 10, 15, 4, 44, 56)
        );
        assert!(date("Sun, 09 Jul 2002 16:22:37 GMT").is_ok());
        let err = date("Fri, 01 Jan 2010 16:00:00 EST").unwrap_err();
        assert_eq!((err.problem, err.offset), (Problem::BadDate, 26));
        assert!(date("Fri, 1 Jan 2010 16:00:00 GMT").is_err());
        assert!(date("Fri, 01 Jan 2010 24:00:00 GMT").is_err());
        assert!(date("Fri 01 Jan 2010 16:00:00 GMT").is_err());
    }
}
