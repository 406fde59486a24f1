//! save(), lookup(), registered() and unregister() through configs, with
//! an injected clock: exact replies and forwards, shared tables across
//! forked engines, expiry, and the usrloc/registrar module parameters.

mod engine_support;

use engine_support::{program_in, FixedIds};
use sercompat::engine::{
    handles_function, registrar_from_params, Clock, Destination, Engine, EngineConfig,
    MemoryLogger, Myself, Output, Proto, RecvInfo, REGISTRAR_FUNCTIONS,
};
use sercompat::sip::SipMessage;
use sercompat_compiler::catalog::catalog;
use sercompat_grammar::Era;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Unix seconds the tests start at.
const T0: u64 = 1_700_000_000;

/// An engine over `src` with its module parameters applied and a clock
/// the test moves.
fn engine_with(src: &str, dialect: Option<Era>) -> (Engine, Arc<AtomicU64>, Arc<MemoryLogger>) {
    let prog = program_in(src, dialect);
    let now = Arc::new(AtomicU64::new(T0));
    let seen = now.clone();
    let clock: Arc<dyn Clock> =
        Arc::new(move || UNIX_EPOCH + Duration::from_secs(seen.load(Ordering::SeqCst)));
    let location = registrar_from_params(&prog).unwrap_or_else(|d| panic!("{d:#?}"));
    let logger = Arc::new(MemoryLogger::new());
    let config = EngineConfig {
        server_header: Some("sercompat-test".into()),
        myself: vec![
            Myself::new("127.0.0.1", Some(5060)),
            Myself::new("example.com", None),
        ],
        ids: Arc::new(FixedIds),
        logger: logger.clone(),
        registrar: location.registrar,
        clock,
        ..EngineConfig::default()
    };
    let engine = Engine::new(prog, config).unwrap_or_else(|e| panic!("{e}"));
    (engine, now, logger)
}

fn engine(src: &str) -> (Engine, Arc<AtomicU64>, Arc<MemoryLogger>) {
    engine_with(src, None)
}

const CFG: &str = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
request_route {
    if (is_method("REGISTER")) {
        save("location");
        exit;
    }
    if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        exit;
    }
    if (is_method("OPTIONS")) {
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }
    forward();
}
"#;

/// From the UA at 192.0.2.10:5062 (rport asked for).
fn ua() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

/// From a caller at 192.0.2.20:5060.
fn caller() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.20:5060".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn register(cseq: u32, contacts: &str, extra: &str) -> SipMessage {
    SipMessage::parse_datagram(
        format!(
            "REGISTER sip:example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bKreg{cseq}\r\n\
             Max-Forwards: 70\r\n\
             To: <sip:alice@example.com>\r\n\
             From: <sip:alice@example.com>;tag=456\r\n\
             Call-ID: reg-call-1\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: {contacts}\r\n\
             {extra}\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

fn request(method: &str, user: &str) -> SipMessage {
    SipMessage::parse_datagram(
        format!(
            "{method} sip:{user}@example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1\r\n\
             Max-Forwards: 70\r\n\
             To: <sip:{user}@example.com>\r\n\
             From: <sip:carol@example.org>;tag=99\r\n\
             Call-ID: call-2\r\n\
             CSeq: 1 {method}\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

fn replied(out: &[Output]) -> (String, std::net::SocketAddr) {
    match out {
        [Output::Reply { bytes, to, .. }] => (String::from_utf8(bytes.to_vec()).unwrap(), *to),
        other => panic!("expected one reply, got {other:#?}"),
    }
}

fn forwarded(out: &[Output]) -> (String, Destination) {
    match out {
        [Output::Forward { bytes, to, .. }] => {
            (String::from_utf8(bytes.to_vec()).unwrap(), to.clone())
        }
        other => panic!("expected one forward, got {other:#?}"),
    }
}

fn status_line(reply: &str) -> &str {
    reply.split("\r\n").next().unwrap()
}

#[test]
fn register_is_answered_200_with_the_binding_and_its_expires() {
    let (mut e, _, _) = engine(CFG);
    let out = e.on_request(
        &register(1, "<sip:alice@192.0.2.10:5062>", "Expires: 600\r\n"),
        ua(),
    );
    let (reply, to) = replied(&out);
    assert_eq!(
        reply,
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;rport=5062;branch=z9hG4bKreg1;received=192.0.2.10\r\n\
         From: <sip:alice@example.com>;tag=456\r\n\
         To: <sip:alice@example.com>;tag=totag1\r\n\
         Call-ID: reg-call-1\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@192.0.2.10:5062>;expires=600\r\n\
         Server: sercompat-test\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(to, "192.0.2.10:5062".parse().unwrap());
    let table = e.config().registrar.usrloc().table("location").unwrap();
    assert_eq!((table.count_records(), table.count_contacts()), (1, 1));
}

#[test]
fn lookup_sends_the_request_to_the_registered_contact() {
    let (mut e, _, _) = engine(CFG);
    e.on_request(&register(1, "<sip:alice@192.0.2.10:5062>", ""), ua());
    let (bytes, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert_eq!(
        bytes,
        "INVITE sip:alice@192.0.2.10:5062 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n\
         Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1\r\n\
         Max-Forwards: 70\r\n\
         To: <sip:alice@example.com>\r\n\
         From: <sip:carol@example.org>;tag=99\r\n\
         Call-ID: call-2\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(
        dest,
        Destination {
            host: "192.0.2.10".into(),
            port: 5062,
            proto: Proto::Udp
        }
    );
}

#[test]
fn an_unregistered_user_gets_404() {
    let (mut e, _, _) = engine(CFG);
    e.on_request(&register(1, "<sip:alice@192.0.2.10:5062>", ""), ua());
    let (reply, to) = replied(&e.on_request(&request("INVITE", "bob"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 404 Not Found");
    assert_eq!(to, "192.0.2.20:5060".parse().unwrap());
}

#[test]
fn bindings_expire_by_the_injected_clock_and_the_sweep_removes_them() {
    let (mut e, now, _) = engine(CFG);
    let out = e.on_request(
        &register(1, "<sip:alice@192.0.2.10:5062>;expires=120", ""),
        ua(),
    );
    assert!(replied(&out)
        .0
        .contains("Contact: <sip:alice@192.0.2.10:5062>;expires=120\r\n"));
    now.store(T0 + 30, Ordering::SeqCst);
    // A re-REGISTER without contacts lists what is left.
    let (reply, _) = replied(&e.on_request(&register_query(2), ua()));
    assert!(
        reply.contains("Contact: <sip:alice@192.0.2.10:5062>;expires=90\r\n"),
        "{reply}"
    );
    now.store(T0 + 119, Ordering::SeqCst);
    assert_eq!(
        forwarded(&e.on_request(&request("INVITE", "alice"), caller()))
            .1
            .port,
        5062
    );
    now.store(T0 + 120, Ordering::SeqCst);
    let (reply, _) = replied(&e.on_request(&request("INVITE", "alice"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 404 Not Found");
    let registrar = e.config().registrar.clone();
    let gone = registrar.usrloc().expire(T0 + 120).unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (gone[0].aor.as_str(), &*gone[0].contact.uri),
        ("alice", "sip:alice@192.0.2.10:5062")
    );
    assert_eq!(
        registrar
            .usrloc()
            .table("location")
            .unwrap()
            .count_records(),
        0
    );
}

/// A REGISTER without Contact: asks for the current bindings.
fn register_query(cseq: u32) -> SipMessage {
    SipMessage::parse_datagram(
        format!(
            "REGISTER sip:example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bKq{cseq}\r\n\
             To: <sip:alice@example.com>\r\n\
             From: <sip:alice@example.com>;tag=456\r\n\
             Call-ID: reg-call-1\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

#[test]
fn parallel_contacts_become_branches_after_the_request_uri() {
    let (mut e, _, _) = engine(CFG);
    let out = e.on_request(
        &register(
            1,
            "<sip:alice@198.51.100.7:5070>;q=0.5, <sip:alice@192.0.2.10:5062>;q=1",
            "Expires: 300\r\n",
        ),
        ua(),
    );
    assert!(replied(&out).0.contains(
        "Contact: <sip:alice@192.0.2.10:5062>;q=1;expires=300, \
         <sip:alice@198.51.100.7:5070>;q=0.5;expires=300\r\n"
    ));
    // A redirect shows the destination set: Request-URI, then branches.
    let (reply, _) = replied(&e.on_request(&request("OPTIONS", "alice"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 302 Moved Temporarily");
    assert!(
        reply.contains(
            "Contact: <sip:alice@192.0.2.10:5062>;q=1, <sip:alice@198.51.100.7:5070>;q=0.5\r\n"
        ),
        "{reply}"
    );
    // Stateless forward() sends to the Request-URI only, as Kamailio does.
    let (_, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert_eq!((dest.host.as_str(), dest.port), ("192.0.2.10", 5062));
}

#[test]
fn append_branches_0_keeps_only_the_request_uri() {
    let src = CFG.replace(
        "request_route",
        "modparam(\"registrar\", \"append_branches\", 0)\nrequest_route",
    );
    let (mut e, _, _) = engine(&src);
    e.on_request(
        &register(
            1,
            "<sip:a@198.51.100.7>;q=0.5, <sip:a@192.0.2.10:5062>;q=1",
            "",
        ),
        ua(),
    );
    let (reply, _) = replied(&e.on_request(&request("OPTIONS", "alice"), caller()));
    assert!(
        reply.contains("Contact: <sip:a@192.0.2.10:5062>;q=1\r\n"),
        "{reply}"
    );
}

#[test]
fn forked_workers_share_the_location_table() {
    let (mut first, _, _) = engine(CFG);
    let mut second = first.fork();
    first.on_request(&register(1, "<sip:alice@192.0.2.10:5062>", ""), ua());
    let (_, dest) = forwarded(&second.on_request(&request("INVITE", "alice"), caller()));
    assert_eq!(dest.port, 5062);
}

#[test]
fn registered_and_unregister() {
    let src = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "registrar.so"
loadmodule "usrloc.so"
request_route {
    if (is_method("REGISTER")) { save("location", "0x00"); exit; }
    if (is_method("BYE")) {
        if (unregister("location", "sip:alice@example.com")) sl_send_reply("200", "Unregistered");
        exit;
    }
    if (registered("location")) sl_send_reply("200", "Registered");
    else sl_send_reply("404", "Not Registered");
}
"#;
    let (mut e, _, _) = engine(src);
    let ask = |e: &mut Engine| {
        let (reply, _) = replied(&e.on_request(&request("OPTIONS", "alice"), caller()));
        status_line(&reply).to_string()
    };
    assert_eq!(ask(&mut e), "SIP/2.0 404 Not Registered");
    e.on_request(&register(1, "<sip:alice@192.0.2.10:5062>", ""), ua());
    assert_eq!(ask(&mut e), "SIP/2.0 200 Registered");
    let (reply, _) = replied(&e.on_request(&request("BYE", "alice"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 200 Unregistered");
    assert_eq!(ask(&mut e), "SIP/2.0 404 Not Registered");
}

#[test]
fn save_noreply_stores_without_answering() {
    let src = r#"
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/usrloc.so"
loadmodule "/usr/lib/ser/modules/registrar.so"
route {
    if (method == "REGISTER") {
        save_noreply("location");
        break;
    };
    if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        break;
    };
    forward(uri:host, uri:port);
}
"#;
    let (mut e, _, _) = engine_with(src, Some(Era::Ser08));
    let out = e.on_request(&register(1, "<sip:alice@192.0.2.10:5062>", ""), ua());
    assert!(out.is_empty(), "{out:#?}");
    let (bytes, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert!(bytes.starts_with("INVITE sip:alice@192.0.2.10:5062 SIP/2.0\r\n"));
    assert_eq!((dest.host.as_str(), dest.port), ("192.0.2.10", 5062));
    let (reply, _) = replied(&e.on_request(&request("INVITE", "bob"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 404 Not Found");
}

#[test]
fn module_parameters_shape_the_registrar() {
    let src = CFG.replace(
        "request_route",
        "modparam(\"registrar\", \"default_expires\", 120)\n\
         modparam(\"registrar\", \"max_expires\", 600)\n\
         modparam(\"usrloc\", \"timer_interval\", 15)\n\
         request_route",
    );
    let (mut e, _, _) = engine(&src);
    let out = e.on_request(&register(1, "<sip:a@192.0.2.10:5062>", ""), ua());
    assert!(replied(&out)
        .0
        .contains("Contact: <sip:a@192.0.2.10:5062>;expires=120\r\n"));
    let out = e.on_request(
        &register(2, "<sip:a@192.0.2.10:5062>", "Expires: 7200\r\n"),
        ua(),
    );
    assert!(replied(&out)
        .0
        .contains("Contact: <sip:a@192.0.2.10:5062>;expires=600\r\n"));
    let prog = program_in(&src, None);
    assert_eq!(
        registrar_from_params(&prog).ok().unwrap().timer_interval,
        15
    );
}

#[test]
fn database_modes_and_bad_values_are_refused_naming_the_parameter() {
    for (param, value, says) in [
        ("\"usrloc\", \"db_mode\"", "2", "needs a database"),
        (
            "\"usrloc\", \"preload\"",
            "\"location\"",
            "needs a database",
        ),
        ("\"usrloc\", \"hash_size\"", "40", "outside 1..=16"),
        ("\"registrar\", \"path_mode\"", "7", "not a path_mode"),
        ("\"registrar\", \"default_q\"", "2000", "outside -1..=1000"),
    ] {
        let src = CFG.replace(
            "request_route",
            &format!("modparam({param}, {value})\nrequest_route"),
        );
        let prog = program_in(&src, None);
        let errors = registrar_from_params(&prog).err().expect("refused");
        let name = param.rsplit('"').nth(1).unwrap();
        assert!(
            errors
                .iter()
                .any(|d| d.message.contains(name) && d.message.contains(says)),
            "{param}: {errors:#?}"
        );
    }
    // Parameters the runtime does not apply are refused by the engine.
    let src = CFG.replace(
        "request_route",
        "modparam(\"registrar\", \"nat_flag\", 5)\nrequest_route",
    );
    let err = Engine::new(program_in(&src, None), EngineConfig::default()).unwrap_err();
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.message.contains("nat_flag")),
        "{err}"
    );
}

#[test]
fn unknown_save_flags_are_refused_at_load() {
    let src = CFG.replace("save(\"location\")", "save(\"location\", \"0x40\")");
    let err = Engine::new(program_in(&src, None), EngineConfig::default()).unwrap_err();
    assert!(err.to_string().contains("0x40"), "{err}");
}

#[test]
fn every_registrar_function_is_marked_implemented() {
    let c = catalog();
    for (m, n, ..) in REGISTRAR_FUNCTIONS {
        assert!(handles_function(m, n));
        assert!(
            c.functions()
                .iter()
                .any(|f| f.module == *m && f.name == *n && f.implemented),
            "{m}.{n} has a handler but is not marked in implemented.txt"
        );
    }
}

#[test]
fn the_usrloc_timer_sweeps_what_expired_by_the_clock() {
    let (mut e, now, logger) = engine(CFG);
    e.on_request(
        &register(1, "<sip:alice@192.0.2.10:5062>;expires=60", ""),
        ua(),
    );
    let registrar = e.config().registrar.clone();
    let table = registrar.usrloc().table("location").unwrap();
    now.store(T0 + 60, Ordering::SeqCst);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let sweep = tokio::spawn(sercompat::serve::expire_contacts(
            registrar.clone(),
            e.config().clock.clone(),
            1,
            logger.clone(),
        ));
        // Nothing before the first interval has passed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(table.count_contacts(), 1);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        sweep.abort();
    });
    assert_eq!(table.count_contacts(), 0);
    assert!(logger.take().is_empty());
}

#[test]
fn run_check_refuses_a_database_mode_naming_it() {
    let dir = std::env::temp_dir().join(format!("sercompat-regw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("db.cfg");
    std::fs::write(
        &cfg,
        CFG.replace(
            "request_route",
            "modparam(\"usrloc\", \"db_mode\", 2)\nrequest_route",
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sercompat"))
        .args(["run", "-c", "-f"])
        .arg(&cfg)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "parameter `db_mode` of module `usrloc`: db_mode 2 (write-back) needs a database"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_received_avp_becomes_the_destination_of_lookup() {
    let src = CFG
        .replace(
            "request_route",
            "modparam(\"registrar\", \"received_avp\", \"$avp(s:rcv)\")\nrequest_route",
        )
        .replace(
            "save(\"location\");",
            "$avp(s:rcv) = \"sip:203.0.113.9:40000\"; save(\"location\");",
        );
    let (mut e, _, _) = engine(&src);
    let out = e.on_request(&register(1, "<sip:alice@10.0.0.5:5062>", ""), ua());
    assert!(
        replied(&out).0.contains(
            "Contact: <sip:alice@10.0.0.5:5062>;expires=3600;received=\"sip:203.0.113.9:40000\"\r\n"
        ),
        "{out:#?}"
    );
    let (bytes, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert!(bytes.starts_with("INVITE sip:alice@10.0.0.5:5062 SIP/2.0\r\n"));
    assert_eq!((dest.host.as_str(), dest.port), ("203.0.113.9", 40000));
}

#[test]
fn a_path_is_sent_as_route_to_its_first_hop() {
    let src = CFG.replace(
        "request_route",
        "modparam(\"registrar\", \"use_path\", 1)\nrequest_route",
    );
    let (mut e, _, _) = engine(&src);
    let out = e.on_request(
        &register(
            1,
            "<sip:alice@10.0.0.5:5062>",
            "Path: <sip:edge.example.net:5070;lr>\r\nSupported: path\r\n",
        ),
        ua(),
    );
    assert!(
        replied(&out)
            .0
            .contains("Path: <sip:edge.example.net:5070;lr>\r\n"),
        "{out:#?}"
    );
    let (bytes, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert_eq!(
        bytes,
        "INVITE sip:alice@10.0.0.5:5062 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n\
         Route: <sip:edge.example.net:5070;lr>\r\n\
         Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1\r\n\
         Max-Forwards: 70\r\n\
         To: <sip:alice@example.com>\r\n\
         From: <sip:carol@example.org>;tag=99\r\n\
         Call-ID: call-2\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!((dest.host.as_str(), dest.port), ("edge.example.net", 5070));
}

#[test]
fn lookup_to_dset_adds_every_binding_as_a_branch_and_keeps_the_request_uri() {
    let src = CFG.replace("!lookup(\"location\")", "!lookup_to_dset(\"location\")");
    let (mut e, _, _) = engine(&src);
    e.on_request(
        &register(
            1,
            "<sip:a@198.51.100.7>;q=0.5, <sip:a@192.0.2.10:5062>;q=1",
            "",
        ),
        ua(),
    );
    let (reply, _) = replied(&e.on_request(&request("OPTIONS", "alice"), caller()));
    assert!(
        reply.contains("Contact: <sip:a@192.0.2.10:5062>;q=1, <sip:a@198.51.100.7>;q=0.5\r\n"),
        "{reply}"
    );
    // The Request-URI was not rewritten: forward() sends it to its host.
    let (bytes, dest) = forwarded(&e.on_request(&request("INVITE", "alice"), caller()));
    assert!(bytes.starts_with("INVITE sip:alice@example.com SIP/2.0\r\n"));
    assert_eq!((dest.host.as_str(), dest.port), ("example.com", 5060));
    let (reply, _) = replied(&e.on_request(&request("INVITE", "bob"), caller()));
    assert_eq!(status_line(&reply), "SIP/2.0 404 Not Found");
}

#[test]
fn branch_flags_saved_with_a_contact_come_back_on_lookup() {
    // The Kamailio default configs mark a NATed phone's binding with a
    // branch flag at save() and test it after lookup().
    let (mut e, _, log) = engine(
        r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "xlog.so"
request_route {
    if (is_method("REGISTER")) {
        if ($hdr(X-Nat) == "yes") {
            setbflag(6);
        }
        save("location");
        exit;
    }
    if (!isbflagset(6)) {
        xlog("L_INFO", "before lookup: flag 6 unset\n");
    }
    lookup("location");
    if (isbflagset(6)) {
        xlog("L_INFO", "after lookup: flag 6 set\n");
    }
    forward();
}
"#,
    );
    e.on_request(
        &register(1, "<sip:alice@192.0.2.10:5062>", "X-Nat: yes\r\n"),
        ua(),
    );
    e.on_request(&request("INVITE", "alice"), caller());
    let lines: Vec<String> = log.take().into_iter().map(|(_, l)| l).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("before lookup: flag 6 unset")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("after lookup: flag 6 set")),
        "{lines:?}"
    );
}
