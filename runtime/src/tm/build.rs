//! The messages the transaction layer writes itself: the hop-by-hop ACK
//! (§17.1.1.3), CANCEL (§9.1), replies relayed upstream (§16.7 step 3) and
//! local replies (§8.2.6).

use bytes::Bytes;

use crate::sip::{HeaderName, HeaderPosition, LocalReply, MessageEditor, SipMessage, Span};

use super::TmError;

/// The ACK for a non-2xx final `response` to the INVITE `sent` (as we sent
/// it): same Request-URI, only our Via, the request's Route, From, Call-ID
/// and CSeq number, the response's To (it carries the tag).
pub(crate) fn ack_for(sent: &SipMessage, response: &SipMessage) -> Result<Bytes, TmError> {
    let to = first_value(response, &HeaderName::To, "To")?;
    in_dialog_request(sent, "ACK", &to)
}

/// The CANCEL for the request `sent` (§9.1): the same Request-URI, Call-ID,
/// From, To and CSeq number, our Via (same branch), the Route set; CSeq
/// method CANCEL.
pub(crate) fn cancel_for(sent: &SipMessage) -> Result<Bytes, TmError> {
    let to = first_value(sent, &HeaderName::To, "To")?;
    in_dialog_request(sent, "CANCEL", &to)
}

fn in_dialog_request(sent: &SipMessage, method: &str, to: &[u8]) -> Result<Bytes, TmError> {
    let uri = sent
        .request_uri_text()
        .ok_or(TmError::MissingHeader("Request-URI"))?;
    let via = top_via_parm(sent)?;
    let cseq = sent.cseq()?.ok_or(TmError::MissingHeader("CSeq"))?;
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(&uri);
    out.extend_from_slice(b" SIP/2.0\r\n");
    push(&mut out, "Via", &via);
    for route in sent.headers_named(&HeaderName::Route) {
        push(&mut out, "Route", &route.value());
    }
    push(
        &mut out,
        "From",
        &first_value(sent, &HeaderName::From, "From")?,
    );
    push(&mut out, "To", to);
    push(
        &mut out,
        "Call-ID",
        &first_value(sent, &HeaderName::CallId, "Call-ID")?,
    );
    push(
        &mut out,
        "CSeq",
        format!("{} {method}", cseq.number()).as_bytes(),
    );
    push(&mut out, "Max-Forwards", b"70");
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Ok(Bytes::from(out))
}

/// `response` as it goes upstream: our Via removed; a 503 becomes a 500
/// when `remap_503` (tm `remap_503_500`).
pub(crate) fn relayed_reply(response: &SipMessage, remap_503: bool) -> Result<Bytes, TmError> {
    relayed_reply_with(response, remap_503, &[])
}

/// [`relayed_reply`] with `extra` header fields added last (aggregated
/// challenges).
pub(crate) fn relayed_reply_with(
    response: &SipMessage,
    remap_503: bool,
    extra: &[(&'static str, String)],
) -> Result<Bytes, TmError> {
    let mut ed = MessageEditor::new(response);
    ed.remove_top_via()?;
    for (name, value) in extra {
        ed.add_header(HeaderPosition::Last, name, value)?;
    }
    if remap_503 && response.status_code() == Some(503) {
        let line = Span::new(0, response.start_line().len());
        ed.lumps_mut()
            .replace(line, Bytes::from_static(b"SIP/2.0 500 Service Unavailable"))?;
    }
    Ok(ed.build()?)
}

/// A reply we make ourselves to `request`; every status but 100 gets our
/// To tag when the request has none.
pub(crate) fn local_reply(
    request: &SipMessage,
    code: u16,
    reason: &str,
    to_tag: &str,
) -> Result<Bytes, TmError> {
    let reply = LocalReply::new(code, reason);
    let reply = if code == 100 {
        reply
    } else {
        reply.to_tag(to_tag)
    };
    Ok(reply.build(request)?)
}

/// The challenges of a 401 or 407 (RFC 3261 §16.7 step 7), unfolded.
pub(crate) fn challenges(response: &SipMessage) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, label) in [
        (HeaderName::WwwAuthenticate, "WWW-Authenticate"),
        (HeaderName::ProxyAuthenticate, "Proxy-Authenticate"),
    ] {
        for h in response.headers_named(&name) {
            let value = unfold(&h.value());
            out.push((label, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    out
}

/// The first via-parm of the top Via line, as written.
fn top_via_parm(msg: &SipMessage) -> Result<Vec<u8>, TmError> {
    let top = msg
        .headers_named(&HeaderName::Via)
        .next()
        .ok_or(TmError::MissingHeader("Via"))?;
    let value = top.value();
    let mut quoted = false;
    let mut end = value.len();
    for (i, &b) in value.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Ok(unfold(value[..end].trim_ascii_end()))
}

fn first_value(
    msg: &SipMessage,
    name: &HeaderName,
    label: &'static str,
) -> Result<Vec<u8>, TmError> {
    msg.headers_named(name)
        .next()
        .map(|h| unfold(&h.value()))
        .ok_or(TmError::MissingHeader(label))
}

fn push(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn unfold(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> SipMessage {
        SipMessage::parse_datagram(text.replace('\n', "\r\n")).unwrap()
    }

    const SENT: &str = "INVITE sip:bob@192.0.2.4 SIP/2.0\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsc.1.2.0, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n\
Route: <sip:p1;lr>\n\
Route: <sip:p2;lr>\n\
Max-Forwards: 69\n\
From: Alice <sip:alice@a>;tag=f1\n\
To: Bob <sip:bob@b>\n\
Call-ID: c1\n\
CSeq: 314 INVITE\n\
Contact: <sip:alice@10.0.0.1>\n\
Content-Length: 0\n\n";

    #[test]
    fn ack_for_a_non_2xx_takes_the_to_of_the_response() {
        let resp = msg("SIP/2.0 486 Busy Here\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsc.1.2.0, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n\
From: Alice <sip:alice@a>;tag=f1\n\
To: Bob <sip:bob@b>;tag=b9\n\
Call-ID: c1\n\
CSeq: 314 INVITE\n\
Content-Length: 0\n\n");
        let ack = ack_for(&msg(SENT), &resp).unwrap();
        assert_eq!(
            std::str::from_utf8(&ack).unwrap(),
            "ACK sip:bob@192.0.2.4 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsc.1.2.0\r\n\
Route: <sip:p1;lr>\r\n\
Route: <sip:p2;lr>\r\n\
From: Alice <sip:alice@a>;tag=f1\r\n\
To: Bob <sip:bob@b>;tag=b9\r\n\
Call-ID: c1\r\n\
CSeq: 314 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn cancel_keeps_uri_branch_and_cseq_number() {
        let cancel = SipMessage::parse_datagram(cancel_for(&msg(SENT)).unwrap()).unwrap();
        assert_eq!(cancel.method(), Some(crate::sip::Method::Cancel));
        assert_eq!(cancel.request_uri_text().unwrap(), "sip:bob@192.0.2.4");
        let vias = cancel.vias().unwrap();
        assert_eq!(vias.len(), 1);
        assert_eq!(vias[0].branch().unwrap(), "z9hG4bKsc.1.2.0");
        let cseq = cancel.cseq().unwrap().unwrap();
        assert_eq!(
            (cseq.number(), cseq.method()),
            (314, &crate::sip::Method::Cancel)
        );
        assert!(cancel.to_header().unwrap().unwrap().tag().is_none());
        assert_eq!(cancel.routes().unwrap().len(), 2);
    }

    #[test]
    fn relayed_reply_drops_our_via_value_and_remaps_503() {
        let resp = msg("SIP/2.0 503 Busy\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsc.1.2.0, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n\
From: <sip:alice@a>;tag=f1\n\
To: <sip:bob@b>;tag=b9\n\
Call-ID: c1\n\
CSeq: 314 INVITE\n\
Content-Length: 0\n\n");
        let out = relayed_reply(&resp, true).unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert!(
            text.starts_with(
                "SIP/2.0 500 Service Unavailable\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"
            ),
            "{text}"
        );
        let kept = relayed_reply(&resp, false).unwrap();
        assert!(std::str::from_utf8(&kept)
            .unwrap()
            .starts_with("SIP/2.0 503 Busy\r\n"));
        let quoted = msg("SIP/2.0 180 Ringing\n\
Via: SIP/2.0/UDP 192.0.2.1;x=\"a,b\";branch=z9hG4bKsc.1.2.0 , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n\
From: <sip:alice@a>;tag=f1\n\
To: <sip:bob@b>;tag=b9\n\
Call-ID: c1\n\
CSeq: 314 INVITE\n\
Content-Length: 0\n\n");
        let out = relayed_reply(&quoted, true).unwrap();
        assert!(std::str::from_utf8(&out)
            .unwrap()
            .starts_with("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"));
        let single = msg("SIP/2.0 180 Ringing\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsc.1.2.0\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n\
From: <sip:alice@a>;tag=f1\n\
To: <sip:bob@b>;tag=b9\n\
Call-ID: c1\n\
CSeq: 314 INVITE\n\
Content-Length: 0\n\n");
        let out = relayed_reply(&single, true).unwrap();
        assert!(std::str::from_utf8(&out).unwrap().starts_with(
            "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\nFrom:"
        ));
    }
}
