//! Request methods. Methods are case-sensitive tokens (RFC 3261 §7.1).

use super::text::SipStr;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Prack,
    Subscribe,
    Notify,
    Publish,
    Info,
    Refer,
    Message,
    Update,
    /// Any other token, as written.
    Extension(SipStr),
}

const KNOWN: [(&str, Method); 14] = [
    ("INVITE", Method::Invite),
    ("ACK", Method::Ack),
    ("BYE", Method::Bye),
    ("CANCEL", Method::Cancel),
    ("OPTIONS", Method::Options),
    ("REGISTER", Method::Register),
    ("PRACK", Method::Prack),
    ("SUBSCRIBE", Method::Subscribe),
    ("NOTIFY", Method::Notify),
    ("PUBLISH", Method::Publish),
    ("INFO", Method::Info),
    ("REFER", Method::Refer),
    ("MESSAGE", Method::Message),
    ("UPDATE", Method::Update),
];

impl Method {
    pub(crate) fn from_text(text: SipStr) -> Self {
        KNOWN
            .iter()
            .find(|(name, _)| text == *name)
            .map_or(Method::Extension(text), |(_, m)| m.clone())
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Method::Extension(text) => text.as_bytes(),
            known => KNOWN
                .iter()
                .find(|(_, m)| m == known)
                .map_or(&b""[..], |(name, _)| name.as_bytes()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(
            Method::from_text(SipStr::from_static("INVITE")),
            Method::Invite
        );
        assert_eq!(
            Method::from_text(SipStr::from_static("invite")),
            Method::Extension(SipStr::from_static("invite"))
        );
        assert_eq!(Method::Register.as_bytes(), b"REGISTER");
        assert_eq!(
            Method::Extension(SipStr::from_static("RE%47IST%45R")).to_string(),
            "RE%47IST%45R"
        );
    }
}
