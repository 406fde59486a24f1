//! SER 0.8 actions the SER 0.8.8 default ser.cfg calls: `len_gt`,
//! `sl_filter_ACK`, `rewriteFromRoute`.

mod engine_support;

use engine_support::parsed_in;
use sercompat::engine::{Engine, EngineConfig, MemoryLogger, Output, Proto, RecvInfo};
use sercompat::sip::SipMessage;
use sercompat_compiler::ir::lower;
use sercompat_grammar::Era;
use std::sync::Arc;

fn engine(src: &str) -> (Engine, Arc<MemoryLogger>) {
    let p = parsed_in(src, Some(Era::Ser08));
    let logger = Arc::new(MemoryLogger::new());
    let config = EngineConfig {
        logger: logger.clone(),
        ..EngineConfig::default()
    };
    let e = Engine::new(Arc::new(lower(&p).0), config).unwrap_or_else(|e| panic!("{e}"));
    (e, logger)
}

fn recv() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5060".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn request(extra: &str) -> SipMessage {
    SipMessage::parse_datagram(
        format!(
            "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKser08\r\n\
             From: <sip:alice@example.com>;tag=1\r\n\
             To: <sip:bob@example.com>\r\n\
             Call-ID: ser08\r\n\
             CSeq: 1 OPTIONS\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

fn lines(l: &MemoryLogger) -> Vec<String> {
    l.take().into_iter().map(|(_, t)| t).collect()
}

#[test]
fn len_gt_compares_the_message_length() {
    let (mut e, log) = engine(
        "loadmodule \"xlog.so\"\nroute {\n\
         if (len_gt(10)) { log(1, \"over 10\\n\"); };\n\
         if (len_gt(max_len)) { log(1, \"over max_len\\n\"); };\n\
         drop;\n}\n",
    );
    e.on_request(&request(""), recv());
    assert_eq!(lines(&log), ["over 10\n"]);
}

#[test]
fn rewrite_from_route_takes_the_first_route_into_the_request_uri() {
    let (mut e, _) = engine(
        "loadmodule \"rr.so\"\nroute {\n rewriteFromRoute();\n forward(uri:host, uri:port);\n}\n",
    );
    let out = e.on_request(
        &request("Route: <sip:hop1@192.0.2.5:5070;lr>, <sip:hop2@192.0.2.6>\r\n"),
        recv(),
    );
    let [Output::Forward { bytes, to, .. }] = &out[..] else {
        panic!("{out:#?}")
    };
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.starts_with("OPTIONS sip:hop1@192.0.2.5:5070;lr SIP/2.0\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nRoute: <sip:hop2@192.0.2.6>\r\n"),
        "{text}"
    );
    assert_eq!((to.host.as_str(), to.port), ("192.0.2.5", 5070));
    // No Route: false, nothing changes.
    let (mut e, log) = engine(
        "loadmodule \"rr.so\"\nroute {\n if (!rewriteFromRoute()) { log(1, \"no route\\n\"); };\n drop;\n}\n",
    );
    e.on_request(&request(""), recv());
    assert_eq!(lines(&log), ["no route\n"]);
}

#[test]
fn sl_filter_ack_ends_the_script_for_an_ack_to_our_own_reply() {
    let (mut e, log) = engine(
        "loadmodule \"sl.so\"\nroute {\n sl_filter_ACK();\n log(1, \"went on\\n\");\n drop;\n}\n",
    );
    // An ACK whose To tag is not one sl gave goes on.
    let ack = SipMessage::parse_datagram(
        String::from_utf8_lossy(request("").as_bytes())
            .replace("OPTIONS sip", "ACK sip")
            .replace("1 OPTIONS", "1 ACK")
            .replace(
                "To: <sip:bob@example.com>",
                "To: <sip:bob@example.com>;tag=theirs",
            )
            .into_bytes(),
    )
    .unwrap();
    e.on_request(&ack, recv());
    assert_eq!(lines(&log), ["went on\n"]);
    // The ACK for sl's own reply (its To tag is sl's) stops here.
    let ours = sercompat::engine::HashIds;
    let tag = sercompat::engine::IdGen::to_tag(&ours, &ack);
    let own = SipMessage::parse_datagram(
        String::from_utf8_lossy(ack.as_bytes())
            .replace("tag=theirs", &format!("tag={tag}"))
            .into_bytes(),
    )
    .unwrap();
    e.on_request(&own, recv());
    assert!(lines(&log).is_empty());
}
