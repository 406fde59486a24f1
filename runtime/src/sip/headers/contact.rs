//! Contact (RFC 3261 §20.10): `*` or a list of addresses.

use super::name_addr::{parse_address, AddressForm, NameAddr};
use crate::sip::scanner::{parse_list, Fault, Scanner};

/// One Contact header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactValue {
    /// `Contact: *`, which only REGISTER with `Expires: 0` may carry
    /// (checked by the registrar, not here).
    Wildcard,
    Addresses(Vec<NameAddr>),
}

impl ContactValue {
    pub fn addresses(&self) -> &[NameAddr] {
        match self {
            ContactValue::Wildcard => &[],
            ContactValue::Addresses(list) => list,
        }
    }
}

pub(crate) fn parse_contact(s: &mut Scanner<'_>) -> Result<ContactValue, Fault> {
    s.skip_lws();
    if s.eat(b'*') {
        s.expect_end()?;
        return Ok(ContactValue::Wildcard);
    }
    parse_list(s, |s| parse_address(s, AddressForm::Either)).map(ContactValue::Addresses)
}
