//! Call-ID (RFC 3261 §20.8).

use crate::sip::error::Problem;
use crate::sip::scanner::{Fault, Scanner};
use crate::sip::text::SipStr;

/// `word [ "@" word ]`, where a word is printable ASCII without white
/// space (the grammar's word set is almost all of it, RFC 4475 §3.1.1.2).
pub(crate) fn parse_call_id(s: &mut Scanner<'_>) -> Result<SipStr, Fault> {
    s.skip_lws();
    let start = s.pos();
    let id = s.take_while(|b| b > b' ' && b < 0x7f);
    if id.is_empty() {
        return Err(s.fault(Problem::EmptyValue));
    }
    s.expect_end()?;
    let bytes = s.bytes(id);
    let ats = bytes.iter().filter(|&&b| b == b'@').count();
    if ats > 1 || bytes.first() == Some(&b'@') || bytes.last() == Some(&b'@') {
        return Err(Fault::new(Problem::BadCallId, start));
    }
    Ok(s.text(id))
}
