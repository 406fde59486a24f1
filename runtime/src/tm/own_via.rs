//! Our Via on a branch request, checked once per sent-by rather than once
//! per branch.
//!
//! The Via a branch gets is `sent-by` (our protocol, address and port,
//! `Outgoing::via`) + `;branch=` + a branch id of ours (`z9hG4bK`, the
//! instance, then hex numbers and dots). Before it goes into the request
//! it must parse as a Via. When the instance is a token, so is the whole
//! branch id, and whether `sent-by;branch=<token>` parses does not depend
//! on which token it is (the via-params checks read `ttl`, `rport` and
//! whether the first `branch` is empty, never the branch's text): so one
//! successful parse answers for every later branch with the same sent-by.
//! Parsing it again cost about a third of building the branch.

use crate::sip::{with_checked_top_via, SipError, SipMessage};
use bytes::Bytes;
use std::cell::RefCell;

thread_local! {
    /// The last sent-by whose Via, with a token branch id, parsed.
    static CHECKED_SENT_BY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `request` with `via` (`sent_by;branch=<our id for instance>`) above its
/// topmost Via, as `sip::with_top_via` builds it.
pub(crate) fn with_top_via(
    request: &SipMessage,
    sent_by: &str,
    via: &str,
    instance: &str,
) -> Result<Bytes, SipError> {
    let token_branch = instance.bytes().all(crate::sip::is_token_char);
    if token_branch && CHECKED_SENT_BY.with_borrow(|checked| checked == sent_by) {
        return with_checked_top_via(request, via);
    }
    let bytes = crate::sip::with_top_via(request, via)?;
    if token_branch {
        CHECKED_SENT_BY.with_borrow_mut(|checked| sent_by.clone_into(checked));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SipMessage {
        SipMessage::parse_datagram(
            "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n\
CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap()
    }

    #[test]
    fn the_same_bytes_and_errors_as_checking_every_time() {
        let msg = request();
        for (sent_by, instance) in [
            ("SIP/2.0/UDP 192.0.2.1:5060", "sc"),
            ("SIP/2.0/UDP 192.0.2.1:5060;ttl=300", "sc"),
            ("SIP/2.0/UDP 192.0.2.1:5060;branch=", "sc"),
            ("SIP/2.0/UDP 192.0.2.1:5060", "a,b"),
            ("SIP/2.0/UDP 192.0.2.1:5060", "a;ttl=1000"),
            ("SIP/2.0 192.0.2.1", "sc"),
        ] {
            // Twice each: the second may come from the memory of the first.
            for index in 0..2 {
                let via = format!("{sent_by};branch=z9hG4bK{instance}.1f.2.{index}");
                let checked = crate::sip::with_top_via(&msg, &via);
                let here = with_top_via(&msg, sent_by, &via, instance);
                assert_eq!(
                    here.as_ref().map_err(|e| e.to_string()),
                    checked.as_ref().map_err(|e| e.to_string()),
                    "{via}"
                );
            }
        }
    }
}
