//! Typed header values, parsed on first use.
//!
//! Each module parses one header kind from the framed value span; folds are
//! still in the bytes and count as white space. Only the headers that
//! routing and transactions read have a typed form; the rest stay raw.

mod auth;
mod call_id;
mod contact;
mod cseq;
mod date;
mod name_addr;
mod route;
mod via;

pub use auth::{AuthParam, Credentials};
pub use contact::ContactValue;
pub use cseq::{CSeq, MAX_CSEQ};
pub use date::SipDate;
pub use name_addr::{DisplayName, NameAddr};
pub use route::parse_name_addr_list;
pub use via::{Rport, Via, MAGIC_COOKIE};

pub(crate) use via::parse_vias;

use super::error::Problem;
use super::header_name::HeaderName;
use super::scanner::{parse_number, Fault, Scanner};
use super::span::Span;
use super::text::SipStr;
use bytes::Bytes;

/// A header value in typed form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypedHeader {
    /// All via-parms of the line, in order.
    Via(Vec<Via>),
    // Boxed: every header of a message has a cache slot the size of the
    // largest variant (a 280-byte name-addr made each slot 296 bytes and a
    // message's cache a 3 KB allocation).
    From(Box<NameAddr>),
    To(Box<NameAddr>),
    CallId(SipStr),
    CSeq(CSeq),
    Contact(ContactValue),
    Route(Vec<NameAddr>),
    RecordRoute(Vec<NameAddr>),
    MaxForwards(u8),
    ContentLength(usize),
    /// delta-seconds; RFC 3261 §20.19 allows up to 2**32-1.
    Expires(u32),
    Authorization(Box<Credentials>),
    ProxyAuthorization(Box<Credentials>),
    Date(SipDate),
    /// A header without a typed form: use its raw value.
    Unparsed,
}

pub(crate) fn parse_typed(
    src: &Bytes,
    name: &HeaderName,
    value: Span,
) -> Result<TypedHeader, Fault> {
    let mut s = Scanner::new(src, value);
    let typed = match name {
        HeaderName::Via => TypedHeader::Via(parse_vias(&mut s)?),
        HeaderName::From => TypedHeader::From(Box::new(single_address(&mut s)?)),
        HeaderName::To => TypedHeader::To(Box::new(single_address(&mut s)?)),
        HeaderName::CallId => TypedHeader::CallId(call_id::parse_call_id(&mut s)?),
        HeaderName::CSeq => TypedHeader::CSeq(cseq::parse_cseq(&mut s)?),
        HeaderName::Contact => TypedHeader::Contact(contact::parse_contact(&mut s)?),
        HeaderName::Route => TypedHeader::Route(route::parse_route(&mut s)?),
        HeaderName::RecordRoute => TypedHeader::RecordRoute(route::parse_route(&mut s)?),
        HeaderName::MaxForwards => TypedHeader::MaxForwards(number(src, value, 255)? as u8),
        HeaderName::ContentLength => {
            TypedHeader::ContentLength(number(src, value, usize::MAX as u64)? as usize)
        }
        HeaderName::Expires => {
            TypedHeader::Expires(number(src, value, u64::from(u32::MAX))? as u32)
        }
        HeaderName::Authorization => {
            TypedHeader::Authorization(Box::new(auth::parse_credentials(&mut s)?))
        }
        HeaderName::ProxyAuthorization => {
            TypedHeader::ProxyAuthorization(Box::new(auth::parse_credentials(&mut s)?))
        }
        HeaderName::Date => TypedHeader::Date(date::parse_date(&mut s)?),
        _ => TypedHeader::Unparsed,
    };
    Ok(typed)
}

fn single_address(s: &mut Scanner<'_>) -> Result<NameAddr, Fault> {
    let address = name_addr::parse_address(s, name_addr::AddressForm::Either)?;
    s.expect_end()?;
    Ok(address)
}

fn number(src: &Bytes, value: Span, max: u64) -> Result<u64, Fault> {
    if value.is_empty() {
        return Err(Fault::new(Problem::EmptyValue, value.start));
    }
    parse_number(src, value, max)
}
