//! Why a REGISTER was refused: Kamailio's `rerrno` values, each with the
//! status and the `P-Registrar-Error` text Kamailio answers with.

/// A registrar error, named after Kamailio's `R_*` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegError {
    /// R_UL_DEL_R / R_UL_INS_C / R_UL_DEL_C / R_UL_UPD_C: the store failed.
    StoreFailed(&'static str),
    InvalidCseq,
    AorTooLong,
    AorParse,
    InvalidQ,
    Parse,
    ToMissing,
    CallIdMissing,
    CseqMissing,
    ExpiresParse,
    ContactParse,
    StarExpiresNotZero,
    StarWithOthers,
    Unescape,
    TooManyContacts,
    ContactTooLong,
    CallIdTooLong,
    PathParse,
    PathUnsupported,
    OutboundRequiredByUa,
    InvalidRegId,
    ExpiresTooBrief,
}

impl RegError {
    pub fn status(self) -> u16 {
        match self {
            RegError::StoreFailed(_) | RegError::AorTooLong => 500,
            RegError::TooManyContacts => 503,
            RegError::PathUnsupported | RegError::OutboundRequiredByUa => 420,
            RegError::ExpiresTooBrief => 423,
            _ => 400,
        }
    }

    pub fn reason(self) -> &'static str {
        match self.status() {
            420 => "Bad Extension",
            423 => "Interval Too Brief",
            500 => "Server Internal Error",
            503 => "Service Unavailable",
            _ => "Bad Request",
        }
    }

    /// The `P-Registrar-Error` value.
    pub fn text(self) -> &'static str {
        match self {
            RegError::StoreFailed(what) => what,
            RegError::InvalidCseq => "Invalid CSeq number",
            RegError::AorTooLong => "Address Of Record too long",
            RegError::AorParse => "Error while parsing AOR",
            RegError::InvalidQ => "Invalid q param in contact",
            RegError::Parse => "Message parse error",
            RegError::ToMissing => "To header not found",
            RegError::CallIdMissing => "Call-ID header not found",
            RegError::CseqMissing => "CSeq header not found",
            RegError::ExpiresParse => "Expires parse error",
            RegError::ContactParse => "Contact parse error",
            RegError::StarExpiresNotZero => "* used in contact and expires is not zero",
            RegError::StarWithOthers => "* used in contact and more than 1 contact",
            RegError::Unescape => "Error while unescaping username",
            RegError::TooManyContacts => "Too many registered contacts",
            RegError::ContactTooLong => "Contact/received too long",
            RegError::CallIdTooLong => "Callid too long",
            RegError::PathParse => "Path parse error",
            RegError::PathUnsupported => "No support for found Path indicated",
            RegError::OutboundRequiredByUa => "No support for Outbound on server",
            RegError::InvalidRegId => "Invalid Reg-Id number",
            RegError::ExpiresTooBrief => "Interval too brief",
        }
    }
}
