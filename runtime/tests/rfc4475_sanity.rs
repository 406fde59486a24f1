//! Every RFC 4475 torture message through what `sercompat run` does with a
//! datagram — framing and the core syntax checks of the transport (which
//! answer 400 to a request that fails them), then the engine running a
//! `sanity_check()` config — without sockets. `valid` requests are
//! answered 200, `invalid` ones get a 400 or nothing (never a 200), the
//! rest never crash. (Kamailio 5.6 with `sanity_check()` answers 200 to 5
//! of the 19 invalid messages and 400 to the valid `dblreq`.)

use sercompat::engine::{Engine, EngineConfig, MemoryLogger, Output, Proto, RecvInfo};
use sercompat::sip::SipMessage;
use sercompat_compiler::ir::lower;
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Options};
use std::path::Path;
use std::sync::Arc;

const CONFIG: &str = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "sanity.so"
loadmodule "textops.so"
request_route {
	if (!sanity_check()) {
		exit;
	}
	if (is_method("ACK")) {
		exit;
	}
	sl_send_reply("200", "OK");
}
"#;

/// What happened to one message: the status of the reply, or none.
fn outcome(engine: &mut Engine, bytes: &[u8]) -> Option<u16> {
    let msg = match SipMessage::parse_datagram(bytes.to_vec()) {
        Ok(m) => m,
        // Does not frame: dropped (no reply is possible).
        Err(_) => return None,
    };
    if msg.is_request() && msg.validate_core().is_err() {
        // The transport answers 400 (runtime/src/net/server.rs).
        return Some(400);
    }
    if !msg.is_request() {
        return None;
    }
    let recv = RecvInfo {
        src: "127.0.0.1:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    };
    engine
        .on_request(&msg, recv)
        .into_iter()
        .find_map(|o| match o {
            Output::Reply { bytes, .. } => SipMessage::parse_datagram(bytes)
                .ok()
                .and_then(|r| r.status_code()),
            Output::Forward { .. } => None,
        })
}

#[test]
fn torture_messages_through_a_sanity_config() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let dir = shared.join("sip-messages/rfc4475");
    let classes = std::fs::read_to_string(dir.join("CLASSES.tsv")).expect("CLASSES.tsv");
    let p = parse_text(
        "t.cfg",
        CONFIG.into(),
        Path::new("t.cfg"),
        &Options::default(),
        &NoFiles,
        &|_| None,
    );
    assert!(!p.has_errors(), "{:#?}", p.diagnostics);
    let (prog, _) = lower(&p);
    let mut engine = Engine::new(
        Arc::new(prog),
        EngineConfig {
            logger: Arc::new(MemoryLogger::new()),
            ..EngineConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut wrong = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for line in classes.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, class) = (f[0], f[2]);
        let bytes = std::fs::read(dir.join(file)).expect("message");
        let is_request = !bytes.starts_with(b"SIP/2.0");
        let got = outcome(&mut engine, &bytes);
        *counts.entry(format!("{class} → {got:?}")).or_default() += 1;
        let ok = match class {
            "valid" | "backward" | "transaction" if is_request => got == Some(200),
            "invalid" => got != Some(200) && matches!(got, None | Some(400..=499)),
            _ => true,
        };
        if !ok {
            wrong.push(format!("{file} ({class}): {got:?}"));
        }
    }
    eprintln!("{counts:#?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
