//! What save() reads from a REGISTER: Kamailio's parse_message,
//! check_contacts and the message-wide part of pack_ci.

use super::config::RegistrarConfig;
use super::error::RegError;
use crate::sip::{parse_name_addr_list, ContactValue, HeaderName, NameAddr, SipMessage, Uri};
use crate::usrloc::methods;

/// Kamailio's RECEIVED_MAX_SIZE, CALLID_MAX_SIZE and MAX_UA_SIZE.
const RECEIVED_MAX: usize = 255;
const CALLID_MAX: usize = 255;
const UA_MAX: usize = 255;

/// The contacts part of a REGISTER, checked (RFC 3261 §10.3 steps 6–7).
pub(crate) struct RegisterContacts<'m> {
    /// `Contact: *` alone, with `Expires: 0`.
    pub star: bool,
    /// Every contact of every Contact header, in order.
    pub contacts: Vec<&'m NameAddr>,
    pub expires_header: Option<u32>,
}

pub(crate) fn read_contacts<'m>(
    msg: &'m SipMessage,
    config: &RegistrarConfig,
) -> Result<RegisterContacts<'m>, RegError> {
    match msg.call_id() {
        Ok(Some(_)) => {}
        Ok(None) => return Err(RegError::CallIdMissing),
        Err(_) => return Err(RegError::Parse),
    }
    match msg.cseq() {
        Ok(Some(_)) => {}
        Ok(None) => return Err(RegError::CseqMissing),
        Err(_) => return Err(RegError::Parse),
    }
    let expires_header = msg.expires().map_err(|_| RegError::ExpiresParse)?;
    let values = msg.contacts().map_err(|_| RegError::ContactParse)?;
    let star = matches!(values.first(), Some(ContactValue::Wildcard));
    if star {
        if expires_header != Some(0) {
            return Err(RegError::StarExpiresNotZero);
        }
        if values.len() > 1 {
            return Err(RegError::StarWithOthers);
        }
        return Ok(RegisterContacts {
            star,
            contacts: Vec::new(),
            expires_header,
        });
    }
    let mut contacts = Vec::new();
    for value in values {
        let ContactValue::Addresses(list) = value else {
            return Err(RegError::StarWithOthers);
        };
        for address in list {
            let too_long = address.uri().raw().len() > config.contact_max_size
                || address
                    .params()
                    .value("received")
                    .is_some_and(|r| r.len() > RECEIVED_MAX);
            if too_long {
                return Err(RegError::ContactTooLong);
            }
            contacts.push(address);
        }
    }
    Ok(RegisterContacts {
        star,
        contacts,
        expires_header,
    })
}

/// The option tags of every `name` header (Supported, Require), lower-cased.
pub(crate) fn option_tags(msg: &SipMessage, name: &HeaderName) -> Vec<String> {
    msg.headers_named(name)
        .flat_map(|h| {
            h.value()
                .to_string_lossy()
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The message-wide facts every stored contact shares.
#[derive(Debug, Clone)]
pub(crate) struct MessageInfo {
    pub call_id: String,
    pub cseq: u32,
    pub user_agent: String,
    /// Methods from Allow, or all when the REGISTER has no Allow.
    pub allow: u32,
    pub path: Option<String>,
    /// The first Path hop's `received` (path_use_received).
    pub path_received: Option<String>,
}

pub(crate) fn message_info(
    msg: &SipMessage,
    config: &RegistrarConfig,
) -> Result<MessageInfo, RegError> {
    let call_id = match msg.call_id() {
        Ok(Some(id)) => id.to_string_lossy().trim_end().to_owned(),
        _ => return Err(RegError::CallIdMissing),
    };
    if call_id.len() > CALLID_MAX {
        return Err(RegError::CallIdTooLong);
    }
    let cseq = match msg.cseq() {
        Ok(Some(c)) => c.number(),
        _ => return Err(RegError::InvalidCseq),
    };
    let user_agent = msg
        .headers_named(&HeaderName::UserAgent)
        .next()
        .map(|h| h.value().to_string_lossy().into_owned())
        .filter(|ua| !ua.is_empty() && ua.len() < UA_MAX)
        .unwrap_or_else(|| "n/a".to_owned());
    let mut allow_headers = msg.headers_named(&HeaderName::Allow).peekable();
    let allow = if allow_headers.peek().is_none() {
        methods::ALL
    } else {
        allow_headers.fold(0, |acc, h| acc | methods::parse_list(&h.value()))
    };
    let (path, path_received) = if config.use_path {
        path_vector(msg, config)?
    } else {
        (None, None)
    };
    Ok(MessageInfo {
        call_id,
        cseq,
        user_agent,
        allow,
        path,
        path_received,
    })
}

/// Every Path value joined by `,` (Kamailio's build_path_vector); the
/// first hop must be a loose router.
fn path_vector(
    msg: &SipMessage,
    config: &RegistrarConfig,
) -> Result<(Option<String>, Option<String>), RegError> {
    let values: Vec<String> = msg
        .headers_named(&HeaderName::Path)
        .map(|h| h.value().to_string_lossy().into_owned())
        .collect();
    if values.is_empty() {
        return Ok((None, None));
    }
    let joined = values.join(",");
    let hops = parse_name_addr_list(joined.as_bytes()).map_err(|_| RegError::PathParse)?;
    let Some(Uri::Sip(first)) = hops.first().map(NameAddr::uri) else {
        return Err(RegError::PathParse);
    };
    if !first.params().contains("lr") {
        return Err(RegError::PathParse);
    }
    let received = if config.path_use_received {
        match first.params().value("received") {
            Some(r) => {
                let decoded = crate::sip::percent_decode(r).map_err(|_| RegError::PathParse)?;
                Some(String::from_utf8_lossy(&decoded).into_owned())
            }
            None => None,
        }
    } else {
        None
    };
    Ok((Some(joined), received))
}

/// The first URI of a stored Path vector: where lookup() sends the request.
pub(crate) fn first_path_uri(path: &str) -> Option<String> {
    let hops = parse_name_addr_list(path.as_bytes()).ok()?;
    hops.first().map(|h| h.uri().raw().to_string())
}
