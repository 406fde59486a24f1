//! The per-message CPU cost of a stateless proxy without sockets: parse,
//! run the engine over `cfg/stateless.cfg`'s route, build the forwarded
//! request; and the reply path (our Via removed, next hop found).
//!
//! `cargo run --release -p sercompat --example hotpath [ITERATIONS]`
//!
//! It prints nanoseconds per message for each path; docs/benchmarks.md
//! records the figures next to the sipp benchmark they explain.

use bytes::Bytes;
use sercompat::engine::{Engine, EngineConfig, MemoryLogger, Myself};
use sercompat::net::server::LocalSocket;
use sercompat::net::{Handler, Received, Transport};
use sercompat::serve::EngineHandler;
use sercompat::sip::{Limits, SipMessage, TransportKind};
use sercompat_compiler::ir::lower;
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Options};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CONFIG: &str = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "maxfwd.so"
route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    forward("127.0.0.1", 5070);
    exit;
}
"#;

const INVITE: &str = "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-4211-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5090>;tag=4211SIPpTag001\r\n\
To: service <sip:service@127.0.0.1:5060>\r\n\
Call-ID: 1-4211@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5090\r\n\
Max-Forwards: 70\r\n\
Subject: Performance Test\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 129\r\n\
\r\n\
v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

const REPLY: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsc0123456789abcdef\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-4211-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5090>;tag=4211SIPpTag001\r\n\
To: service <sip:service@127.0.0.1:5060>;tag=4212SIPpTag011\r\n\
Call-ID: 1-4211@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:127.0.0.1:5070;transport=UDP>\r\n\
Content-Length: 0\r\n\
\r\n";

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let parsed = parse_text(
        "stateless.cfg",
        CONFIG.to_string(),
        Path::new("stateless.cfg"),
        &Options::default(),
        &NoFiles,
        &|_| None,
    );
    assert!(!parsed.has_errors());
    let (program, _) = lower(&parsed);
    let local: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let engine = Engine::new(
        Arc::new(program),
        EngineConfig {
            myself: vec![Myself::new("127.0.0.1", Some(5060))],
            logger: Arc::new(MemoryLogger::new()),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let handler = EngineHandler::new(engine, 1, vec![local]);
    let socket = Arc::new(LocalSocket {
        transport: Transport::Udp,
        addr: local,
        advertise: None,
        name: None,
    });
    let limits = Limits::default();
    let received = |text: &'static str, from: &str| {
        let msg = SipMessage::parse(
            Bytes::from_static(text.as_bytes()),
            TransportKind::Datagram,
            &limits,
        )
        .expect("parses");
        // As the transport does before the handler runs.
        msg.validate_core().expect("valid");
        Received {
            msg,
            source: from.parse().unwrap(),
            local: socket.clone(),
            transport: Transport::Udp,
            conn: None,
        }
    };
    for (what, text, from) in [
        ("request", INVITE, "127.0.0.1:5090"),
        ("reply", REPLY, "127.0.0.1:5070"),
    ] {
        assert_eq!(handler.handle(received(text, from)).len(), 1, "{what}");
        let start = Instant::now();
        let mut bytes = 0;
        for _ in 0..n {
            let out = handler.handle(received(text, from));
            bytes += out[0].data.len();
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
        println!("{what}: {ns:.0} ns per message (parse + handle + build), {bytes} bytes out");
    }
}
