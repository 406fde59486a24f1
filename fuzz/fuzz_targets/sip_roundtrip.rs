//! Fuzz target for the SIP message layer (`sercompat::sip`).
//!
//! Input: arbitrary bytes, parsed as a datagram and as a stream. Besides
//! "does not panic / hang", it checks what the layer promises:
//!
//! - an accepted message re-emitted with no lumps is the input, byte for
//!   byte, up to the end of the body (after any leading stream CRLFs);
//! - validation and every typed accessor answer without panicking;
//! - adding a header before the first one and removing the first one gives
//!   bytes that parse again, with the same number of headers and the same
//!   body (unless the removed header was one of several disagreeing
//!   Content-Lengths, which legitimately changes the framing).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sercompat::sip::{
    HeaderName, HeaderPosition, Limits, LocalReply, MessageEditor, SipMessage, TransportKind,
};

fn check(data: &[u8], kind: TransportKind) {
    let limits = Limits::default();
    let Ok(msg) = SipMessage::parse(Bytes::copy_from_slice(data), kind, &limits) else {
        return;
    };
    let skip = msg.consumed() - msg.as_bytes().len();
    let out = MessageEditor::new(&msg)
        .build()
        .expect("no lumps cannot fail");
    assert_eq!(Some(&out[..]), data.get(skip..skip + out.len()));

    let _ = msg.validate();
    let _ = (
        msg.request_uri(),
        msg.vias(),
        msg.from_header(),
        msg.to_header(),
    );
    let _ = (msg.call_id(), msg.cseq(), msg.contacts(), msg.routes());
    let _ = (msg.record_routes(), msg.max_forwards(), msg.expires());
    let _ = (msg.authorizations(), msg.proxy_authorizations());
    let _ = LocalReply::new(400, "Bad Request")
        .to_tag("fuzz")
        .build(&msg);

    let mut editor = MessageEditor::new(&msg);
    editor
        .add_header(HeaderPosition::First, "X-Fuzz", "1")
        .expect("a valid header can always be added");
    let removed_content_length = msg
        .header(0)
        .is_some_and(|h| h.name() == &HeaderName::ContentLength);
    if msg.header_count() > 0 {
        editor.remove_header(0).expect("header 0 exists");
    }
    let edited = editor.build().expect("add + remove cannot conflict");
    let reparsed = SipMessage::parse(edited, TransportKind::Datagram, &limits);
    if removed_content_length && msg.has_conflicting_content_length() {
        return;
    }
    let reparsed = reparsed.expect("the edited message parses");
    assert_eq!(reparsed.header_count(), msg.header_count().max(1));
    assert_eq!(reparsed.body(), msg.body());
}

fuzz_target!(|data: &[u8]| {
    check(data, TransportKind::Datagram);
    check(data, TransportKind::Stream);
});
