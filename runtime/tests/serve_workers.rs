//! `children=N`: each worker thread runs its own engine, as each Kamailio
//! child process runs its own interpreter — `$var` is per worker and no
//! worker waits for another's lock. (Alone in its binary: threads are
//! numbered on first use, and other tests' threads would take numbers.)

use bytes::Bytes;
use sercompat::engine::{Engine, EngineConfig, MemoryLogger};
use sercompat::net::server::LocalSocket;
use sercompat::net::{Handler, Received, Transport};
use sercompat::serve::EngineHandler;
use sercompat::sip::SipMessage;
use sercompat_compiler::ir::lower;
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Options};
use std::path::Path;
use std::sync::Arc;

const CONFIG: &str = r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    $var(seen) = $var(seen) + 1;
    xlog("L_INFO", "seen $var(seen)\n");
    drop;
}
"#;

const OPTIONS: &str = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKw1\r\n\
From: <sip:a@127.0.0.1>;tag=1\r\n\
To: <sip:b@127.0.0.1>\r\n\
Call-ID: workers@127.0.0.1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn each_worker_thread_has_its_own_engine_and_vars() {
    let parsed = parse_text(
        "w.cfg",
        CONFIG.to_string(),
        Path::new("w.cfg"),
        &Options::default(),
        &NoFiles,
        &|_| None,
    );
    assert!(!parsed.has_errors());
    let (program, _) = lower(&parsed);
    let logger = Arc::new(MemoryLogger::new());
    let engine = Engine::new(
        Arc::new(program),
        EngineConfig {
            logger: logger.clone(),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let local: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let handler = Arc::new(EngineHandler::new(engine, 2, vec![local]));
    let socket = Arc::new(LocalSocket {
        transport: Transport::Udp,
        addr: local,
        advertise: None,
        name: None,
    });
    let deliver = |handler: &EngineHandler| {
        let msg = SipMessage::parse_datagram(Bytes::from_static(OPTIONS.as_bytes())).unwrap();
        handler.handle(Received {
            msg,
            source: "127.0.0.1:5090".parse().unwrap(),
            local: socket.clone(),
            transport: Transport::Udp,
            conn: None,
        });
    };
    let lines = |logger: &MemoryLogger| -> Vec<String> {
        logger.take().into_iter().map(|(_, l)| l).collect()
    };
    // Two threads, one after the other: consecutive worker numbers, so
    // different engines.
    for _ in 0..2 {
        let h = handler.clone();
        let d = &deliver;
        std::thread::scope(|s| {
            s.spawn(move || {
                d(&h);
                d(&h);
            });
        });
    }
    assert_eq!(
        lines(&logger),
        ["seen 1\n", "seen 2\n", "seen 1\n", "seen 2\n"],
        "each thread counted in its own $var"
    );
    // A third thread shares an engine with the first (2 workers).
    std::thread::scope(|s| {
        s.spawn(|| deliver(&handler));
    });
    assert_eq!(lines(&logger), ["seen 3\n"]);
}
