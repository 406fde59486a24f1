//! Route and Record-Route (RFC 3261 §20.30, §20.34).

use super::name_addr::{parse_address, AddressForm, NameAddr};
use crate::sip::scanner::{parse_list, Fault, Scanner};

/// Route and Record-Route: `1#(name-addr *(SEMI rr-param))`.
pub(crate) fn parse_route(s: &mut Scanner<'_>) -> Result<Vec<NameAddr>, Fault> {
    parse_list(s, |s| parse_address(s, AddressForm::NameAddrOnly))
}

/// A `name-addr` list given on its own, as the Path header carries it
/// (RFC 3327 §4: the same grammar as Route). Used where several header
/// values are joined before parsing, as a registrar does with Path.
pub fn parse_name_addr_list(text: &[u8]) -> Result<Vec<NameAddr>, crate::sip::SipError> {
    let src = bytes::Bytes::copy_from_slice(text);
    let mut s = Scanner::new(&src, crate::sip::Span::new(0, src.len()));
    parse_route(&mut s).map_err(|f| {
        crate::sip::SipError::at(
            crate::sip::ErrorKind::Header {
                name: crate::sip::HeaderName::Path,
                problem: f.problem,
            },
            f.offset,
        )
    })
}
