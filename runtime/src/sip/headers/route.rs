//! Route and Record-Route (RFC 3261 §20.30, §20.34).

use super::name_addr::{parse_address, AddressForm, NameAddr};
use crate::sip::scanner::{parse_list, Fault, Scanner};

/// Route and Record-Route: `1#(name-addr *(SEMI rr-param))`.
pub(crate) fn parse_route(s: &mut Scanner<'_>) -> Result<Vec<NameAddr>, Fault> {
    parse_list(s, |s| parse_address(s, AddressForm::NameAddrOnly))
}
