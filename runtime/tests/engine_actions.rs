//! Core actions (forward variants, send, destination set, branch and
//! script flags, send socket and Via settings, error, pv_printf), kex and
//! corex functions, and the main `onreply_route`, without sockets.

mod engine_support;

use engine_support::{program, program_in, FixedIds};
use sercompat::engine::{
    handles_core_action, handles_function, Destination, Engine, EngineConfig, MemoryLogger, Myself,
    Output, Proto, RecvInfo, ReplyVerdict, COREX_FUNCTIONS, KEX_FUNCTIONS, MORE_CORE_ACTIONS,
};
use sercompat::sip::SipMessage;
use sercompat_compiler::catalog::catalog;
use sercompat_grammar::Era;
use std::net::SocketAddr;
use std::sync::Arc;

fn config(logger: &Arc<MemoryLogger>) -> EngineConfig {
    EngineConfig {
        myself: vec![
            Myself::new("127.0.0.1", Some(5060)),
            Myself::new("proxy.example.com", None),
        ],
        sockets: vec![
            (Proto::Udp, "127.0.0.1:5060".parse().unwrap()),
            (Proto::Udp, "127.0.0.2:5070".parse().unwrap()),
            (Proto::Tcp, "127.0.0.1:5060".parse().unwrap()),
        ],
        ids: Arc::new(FixedIds),
        logger: logger.clone(),
        ..EngineConfig::default()
    }
}

fn engine(src: &str) -> (Engine, Arc<MemoryLogger>) {
    let logger = Arc::new(MemoryLogger::new());
    let e = Engine::new(program(src), config(&logger)).unwrap_or_else(|e| panic!("{e}"));
    (e, logger)
}

/// The messages of the diagnostics a config is refused with.
fn refusals(src: &str) -> Vec<String> {
    let logger = Arc::new(MemoryLogger::new());
    match Engine::new(program(src), config(&logger)) {
        Ok(_) => Vec::new(),
        Err(r) => r.diagnostics.into_iter().map(|d| d.message).collect(),
    }
}

fn recv() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
Content-Length: 0\r\n\r\n";

fn invite() -> SipMessage {
    SipMessage::parse_datagram(INVITE.as_bytes().to_vec()).unwrap()
}

fn lines(logger: &MemoryLogger) -> Vec<String> {
    logger.take().into_iter().map(|(_, t)| t).collect()
}

fn forwards(out: &[Output]) -> Vec<(String, Destination, Option<SocketAddr>)> {
    out.iter()
        .map(|o| match o {
            Output::Forward { bytes, to, from } => (
                String::from_utf8(bytes.to_vec()).unwrap(),
                to.clone(),
                *from,
            ),
            other => panic!("expected forwards only, got {other:#?}"),
        })
        .collect()
}

fn top_via(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("Via:"))
        .expect("a Via")
        .trim_end()
}

#[test]
fn forward_tcp_puts_a_tcp_via_and_goes_over_tcp() {
    let (mut e, _) =
        engine("#!KAMAILIO\nrequest_route {\n    forward_tcp(\"10.0.0.9\", 5080);\n}\n");
    let out = forwards(&e.on_request(&invite(), recv()));
    assert_eq!(out.len(), 1);
    let (text, to, from) = &out[0];
    assert_eq!(
        (to.host.as_str(), to.port, to.proto, *from),
        ("10.0.0.9", 5080, Proto::Tcp, None)
    );
    assert_eq!(
        top_via(text),
        "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKtest1"
    );
}

#[test]
fn force_send_socket_picks_our_socket_and_our_via_shows_it() {
    let (mut e, _) = engine(
        "#!KAMAILIO\nrequest_route {\n    force_send_socket(udp:127.0.0.2:5070);\n    forward(\"10.0.0.9\");\n}\n",
    );
    let out = forwards(&e.on_request(&invite(), recv()));
    let (text, _, from) = &out[0];
    assert_eq!(*from, Some("127.0.0.2:5070".parse().unwrap()));
    assert_eq!(
        top_via(text),
        "Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKtest1"
    );
    // A socket the server does not listen on is refused at load time.
    let why = refusals(
        "#!KAMAILIO\nrequest_route {\n    force_send_socket(udp:10.9.9.9:5060);\n    forward();\n}\n",
    );
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("not one of the sockets"), "{why:?}");
}

#[test]
fn advertised_address_port_and_local_rport_shape_our_via() {
    let (mut e, _) = engine(
        "#!KAMAILIO\nrequest_route {\n    set_advertised_address(\"adv.example.com\");\n    set_advertised_port(5999);\n    add_local_rport();\n    forward(\"10.0.0.9\");\n}\n",
    );
    let out = forwards(&e.on_request(&invite(), recv()));
    assert_eq!(
        top_via(&out[0].0),
        "Via: SIP/2.0/UDP adv.example.com:5999;branch=z9hG4bKtest1;rport"
    );
    // Per message: the next request has the plain Via again.
    let (mut e, _) = engine(
        "#!KAMAILIO\nrequest_route {\n    if ($rU == \"adv\") set_advertised_address(\"adv.example.com\");\n    forward(\"10.0.0.9\");\n}\n",
    );
    let adv = SipMessage::parse_datagram(INVITE.replacen("sip:bob@", "sip:adv@", 1).into_bytes())
        .unwrap();
    let first = forwards(&e.on_request(&adv, recv()));
    let second = forwards(&e.on_request(&invite(), recv()));
    assert!(top_via(&first[0].0).contains("adv.example.com:5060"));
    assert!(top_via(&second[0].0).contains("127.0.0.1:5060"));
}

/// Core `send` (SER 0.8 to Kamailio 3.3) and corex `send_udp`/`send_tcp`.
#[test]
fn send_passes_the_message_unchanged() {
    let logger = Arc::new(MemoryLogger::new());
    let ser = program_in(
        "loadmodule \"textops.so\"\nroute {\n    append_hf(\"X-Edit: 1\\r\\n\");\n    send(\"10.0.0.9\", 5090);\n    send_tcp(\"10.0.0.8\");\n}\n",
        Some(Era::Ser09),
    );
    let mut e = Engine::new(ser, config(&logger)).unwrap_or_else(|e| panic!("{e}"));
    let (mut k, _) = engine(
        "#!KAMAILIO\nloadmodule \"textops.so\"\nloadmodule \"corex.so\"\nrequest_route {\n    append_hf(\"X-Edit: 1\\r\\n\");\n    send_udp(\"10.0.0.9:5090\");\n    send_tcp(\"sip:10.0.0.8\");\n}\n",
    );
    assert_eq!(
        forwards(&k.on_request(&invite(), recv())),
        forwards(&e.on_request(&invite(), recv()))
    );
    let out = forwards(&e.on_request(&invite(), recv()));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].0, INVITE);
    assert_eq!(
        (out[0].1.host.as_str(), out[0].1.port, out[0].1.proto),
        ("10.0.0.9", 5090, Proto::Udp)
    );
    assert_eq!(out[1].0, INVITE);
    assert_eq!((out[1].1.port, out[1].1.proto), (5060, Proto::Tcp));
}

#[test]
fn script_and_branch_flags_are_separate_and_per_message() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "xlog.so"
request_route {
    if (issflagset(3)) xlog("L_INFO", "sflag survived\n");
    if (isbflagset(4)) xlog("L_INFO", "bflag survived\n");
    setsflag(3);
    setbflag(4);
    if (issflagset(3) && !isflagset(3) && isbflagset(4) && !isbflagset(3)) xlog("L_INFO", "set\n");
    if (!setbflag(1, 1)) xlog("L_INFO", "no branch 1\n");
    append_branch("sip:carol@example.net", "0.5");
    if (setbflag(1, 1) && isbflagset(1, 1) && !isbflagset(1)) xlog("L_INFO", "branch 1 flag\n");
    resetsflag(3);
    if (!issflagset(3)) xlog("L_INFO", "reset\n");
}
"#,
    );
    let script_lines = |log: &MemoryLogger| -> Vec<String> {
        lines(log)
            .into_iter()
            .filter(|l| !l.starts_with("sercompat:"))
            .collect()
    };
    e.on_request(&invite(), recv());
    assert_eq!(
        script_lines(&log),
        ["set\n", "no branch 1\n", "branch 1 flag\n", "reset\n"]
    );
    e.on_request(&invite(), recv());
    let second = script_lines(&log);
    assert!(!second.iter().any(|l| l.contains("survived")), "{second:?}");
    assert!(
        second.contains(&"branch 1 flag\n".to_string()),
        "{second:?}"
    );
    assert!(second.contains(&"reset\n".to_string()), "{second:?}");
}

#[test]
fn append_branch_checks_its_uri_q_and_the_branch_limit() {
    let why = refusals(
        "#!KAMAILIO\nloadmodule \"corex.so\"\nrequest_route {\n    append_branch(\"sip:a@b\", \"1.5\");\n}\n",
    );
    assert!(why.iter().any(|w| w.contains("not a q value")), "{why:?}");
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "corex.so"
loadmodule "xlog.so"
request_route {
    if (!append_branch("not a uri")) xlog("L_INFO", "bad uri\n");
    $var(i) = 0;
    while ($var(i) < 12) {
        if (!append_branch()) xlog("L_INFO", "full at $var(i)\n");
        $var(i) = $var(i) + 1;
    }
}
"#,
    );
    e.on_request(&invite(), recv());
    let l: Vec<String> = lines(&log)
        .into_iter()
        .filter(|l| !l.starts_with("sercompat:"))
        .collect();
    assert_eq!(l, ["bad uri\n", "full at 11\n"]);
}

#[test]
fn error_pv_printf_and_is_myself() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "kex.so"
loadmodule "xlog.so"
request_route {
    error("a", "b");
    pv_printf("$var(x)", "$rU-$fU");
    xlog("L_INFO", "x=$var(x)\n");
    if (is_myself("sip:alice@proxy.example.com")) xlog("L_INFO", "uri mine\n");
    if (is_myself("127.0.0.1:5060")) xlog("L_INFO", "hostport mine\n");
    if (!is_myself("127.0.0.1:5070")) xlog("L_INFO", "other port\n");
    if (!is_myself("sip:bob@example.com")) xlog("L_INFO", "not mine\n");
}
"#,
    );
    e.on_request(&invite(), recv());
    assert_eq!(
        lines(&log),
        [
            "error(\"a\", \"b\") not implemented yet\n",
            "x=bob-alice\n",
            "uri mine\n",
            "hostport mine\n",
            "other port\n",
            "not mine\n"
        ]
    );
}

#[test]
fn corex_send_data_files_and_faked_messages() {
    let dir = std::env::temp_dir().join(format!("sercompat-corex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("f.txt");
    let src = format!(
        r#"#!KAMAILIO
loadmodule "corex.so"
loadmodule "xlog.so"
request_route {{
    file_write("{f}", "hello $rU");
    file_read("{f}", "$var(c)");
    xlog("L_INFO", "read=$var(c)\n");
    if (!is_faked_msg()) xlog("L_INFO", "real\n");
    send_data("sip:10.0.0.5:5099;transport=tcp", "PING");
    sendx("sip:10.0.0.6", "udp:127.0.0.2:5070", "PONG");
}}
"#,
        f = file.display()
    );
    let (mut e, log) = engine(&src);
    let out = forwards(&e.on_request(&invite(), recv()));
    assert_eq!(lines(&log), ["read=hello bob\n", "real\n"]);
    assert_eq!(out[0].0, "PING");
    assert_eq!(
        (
            out[0].1.host.as_str(),
            out[0].1.port,
            out[0].1.proto,
            out[0].2
        ),
        ("10.0.0.5", 5099, Proto::Tcp, None)
    );
    assert_eq!(out[1].0, "PONG");
    assert_eq!(out[1].2, Some("127.0.0.2:5070".parse().unwrap()));
    std::fs::remove_dir_all(&dir).ok();
}

const REPLY_CFG: &str = r#"#!KAMAILIO
loadmodule "textops.so"
loadmodule "xlog.so"
request_route {
    forward("10.0.0.9");
}
onreply_route {
    xlog("L_INFO", "reply $rm status\n");
    if (status == "180") exit;
    if (status == "183") drop;
    if (status == "181") return -1;
    if (status =~ "^2") append_hf("X-Seen: yes\r\n");
}
onreply_route[NAMED] {
    xlog("L_INFO", "never runs statelessly\n");
}
"#;

fn reply(code: u16) -> SipMessage {
    SipMessage::parse_datagram(
        format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\nTo: <sip:bob@example.com>;tag=9\r\nFrom: <sip:alice@atlanta.example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

/// As Kamailio 5.6 does (checked with it): `drop` and a negative return
/// discard the reply, `exit` and falling off the end forward it, edits go
/// with it; named onreply routes are tm's and do not run.
#[test]
fn the_main_onreply_route_decides_and_edits() {
    let (mut e, log) = engine(REPLY_CFG);
    let from = RecvInfo {
        src: "10.0.0.9:5060".parse().unwrap(),
        ..recv()
    };
    assert_eq!(e.on_reply(&reply(180), from), ReplyVerdict::Forward(None));
    assert_eq!(e.on_reply(&reply(183), from), ReplyVerdict::Drop);
    assert_eq!(e.on_reply(&reply(181), from), ReplyVerdict::Drop);
    assert_eq!(e.on_reply(&reply(100), from), ReplyVerdict::Forward(None));
    match e.on_reply(&reply(200), from) {
        ReplyVerdict::Forward(Some(b)) => {
            let text = String::from_utf8(b.to_vec()).unwrap();
            assert!(text.starts_with("SIP/2.0 200 X\r\n"), "{text}");
            assert!(text.contains("\r\nX-Seen: yes\r\n"), "{text}");
        }
        other => panic!("expected an edited reply, got {other:?}"),
    }
    let l = lines(&log);
    assert_eq!(l.iter().filter(|l| l.starts_with("reply ")).count(), 5);
    assert!(l
        .iter()
        .any(|l| l.contains("error while trying onreply script")));
    assert!(!l.iter().any(|l| l.contains("never runs")));
    // A request is not a reply.
    assert_eq!(e.on_reply(&invite(), recv()), ReplyVerdict::Drop);
}

#[test]
fn reply_routes_refuse_request_only_calls_and_other_route_classes() {
    let why = refusals(
        r#"#!KAMAILIO
loadmodule "sl.so"
request_route {
    route(SUB);
}
route[SUB] {
    sl_send_reply("200", "OK");
}
onreply_route {
    forward("10.0.0.1");
    route(SUB);
}
failure_route[F] {
    drop;
}
"#,
    );
    assert!(
        why.iter()
            .any(|w| w == "`forward` cannot be used in onreply_route"),
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|w| w == "`sl_send_reply` cannot be used in onreply_route"),
        "{why:?}"
    );
    assert!(
        why.iter().any(|w| w.contains("Failure route blocks")),
        "{why:?}"
    );
    assert_eq!(why.len(), 3, "{why:?}");
}

#[test]
fn every_handler_here_is_marked_implemented() {
    let c = catalog();
    for (n, ..) in MORE_CORE_ACTIONS {
        assert!(handles_core_action(n));
        assert!(
            c.core_actions()
                .iter()
                .any(|a| a.name == *n && a.implemented),
            "core.{n} has a handler but is not marked in implemented.txt"
        );
    }
    for (m, n, ..) in KEX_FUNCTIONS.iter().chain(COREX_FUNCTIONS) {
        assert!(handles_function(m, n));
        assert!(
            c.functions()
                .iter()
                .any(|f| f.module == *m && f.name == *n && f.implemented),
            "{m}.{n} has a handler but is not marked in implemented.txt"
        );
    }
}

/// As Kamailio 5.6 writes it (checked with it): the rewritten Request-URI,
/// then the appended branches with their q; an unrewritten Request-URI
/// is not listed unless `append_branch()` took it into the set.
#[test]
fn redirects_list_the_destination_set() {
    let (mut e, _) = engine(
        r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "corex.so"
request_route {
    if ($rU == "redir") {
        rewriteuri("sip:first@10.0.0.1");
        append_branch("sip:second@10.0.0.2", "0.5");
        append_branch("sip:third@10.0.0.3");
    } else if ($rU == "redir2") {
        append_branch("sip:second@10.0.0.2", "0.5");
    } else if ($rU == "redir3") {
        append_branch();
    }
    sl_send_reply("302", "Moved");
}
"#,
    );
    let mut contact = |user: &str| -> Option<String> {
        let msg = SipMessage::parse_datagram(
            INVITE
                .replacen("sip:bob@", &format!("sip:{user}@"), 1)
                .into_bytes(),
        )
        .unwrap();
        match e.on_request(&msg, recv()).as_slice() {
            [Output::Reply { bytes, .. }] => String::from_utf8(bytes.to_vec())
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("Contact: ").map(str::to_string)),
            other => panic!("expected one reply, got {other:#?}"),
        }
    };
    assert_eq!(
        contact("redir").as_deref(),
        Some("<sip:first@10.0.0.1>, <sip:second@10.0.0.2>;q=0.5, <sip:third@10.0.0.3>")
    );
    assert_eq!(
        contact("redir2").as_deref(),
        Some("<sip:second@10.0.0.2>;q=0.5")
    );
    assert_eq!(
        contact("redir3").as_deref(),
        Some("<sip:redir3@example.com>")
    );
    assert_eq!(contact("plain"), None);
}

/// Kamailio's stateless `forward()` sends to the Request-URI (or `$du`)
/// only; appended branches are not forked to (checked with it).
#[test]
fn stateless_forward_ignores_appended_branches() {
    let (mut e, _) = engine(
        "#!KAMAILIO\nloadmodule \"corex.so\"\nrequest_route {\n    append_branch(\"sip:other@10.0.0.8\");\n    rewritehostport(\"10.0.0.7:5080\");\n    forward();\n}\n",
    );
    let out = forwards(&e.on_request(&invite(), recv()));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].1.host.as_str(), out[0].1.port), ("10.0.0.7", 5080));
}

/// SER's short names of the URI rewrites are the same actions.
#[test]
fn ser_aliases_of_uri_rewrites() {
    let logger = Arc::new(MemoryLogger::new());
    let prog = program_in(
        "route {\n    seturi(\"sip:x@h1.example\");\n    sethost(\"h2.example\");\n    setu(\"carol\");\n    setp(\"5099\");\n    forward(uri:host, uri:port);\n}\n",
        Some(Era::Ser09),
    );
    let mut e = Engine::new(prog, config(&logger)).unwrap_or_else(|e| panic!("{e}"));
    let out = forwards(&e.on_request(&invite(), recv()));
    assert!(
        out[0]
            .0
            .starts_with("INVITE sip:carol@h2.example:5099 SIP/2.0\r\n"),
        "{}",
        out[0].0
    );
    assert_eq!(
        (out[0].1.host.as_str(), out[0].1.port),
        ("h2.example", 5099)
    );
}

/// kex `setdebug(level)` filters this process's log lines (kept across
/// messages, as Kamailio keeps it per process) until `resetdebug()`.
#[test]
fn setdebug_filters_log_lines_until_resetdebug() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "kex.so"
loadmodule "xlog.so"
request_route {
    xinfo("info before\n");
    if ($rU == "quiet") setdebug(0);
    if ($rU == "loud") resetdebug();
    xinfo("info after\n");
    xwarn("warn after\n");
}
"#,
    );
    let with_user = |u: &str| {
        SipMessage::parse_datagram(
            INVITE
                .replacen("sip:bob@", &format!("sip:{u}@"), 1)
                .into_bytes(),
        )
        .unwrap()
    };
    e.on_request(&with_user("quiet"), recv());
    assert_eq!(lines(&log), ["info before\n", "warn after\n"]);
    e.on_request(&invite(), recv());
    assert_eq!(lines(&log), ["warn after\n"]);
    e.on_request(&with_user("loud"), recv());
    assert_eq!(lines(&log), ["info after\n", "warn after\n"]);
}

/// What the runtime cannot do is refused at load time, naming the call:
/// TLS and SCTP forwarding (no such transports), TCP connection aliases
/// and flags, UDP MTU switching, the receive-socket and source-address
/// setters of corex.
#[test]
fn actions_the_runtime_lacks_are_refused_by_name() {
    let src = r#"#!KAMAILIO
loadmodule "corex.so"
request_route {
    forward_tls("10.0.0.1");
    forward_sctp("10.0.0.1");
    force_tcp_alias();
    set_forward_no_connect();
    udp_mtu_try_proto("tcp");
    set_recv_socket("udp:127.0.0.1:5060");
    set_source_address("127.0.0.1:5060");
}
"#;
    let prog = program(src);
    let refused: Vec<String> = sercompat_compiler::ir::readiness::unimplemented_calls(&prog)
        .into_iter()
        .map(|d| {
            assert_eq!(d.code, sercompat_compiler::ir::readiness::NOT_IMPLEMENTED);
            d.message
        })
        .collect();
    for name in [
        "forward_tls",
        "forward_sctp",
        "force_tcp_alias",
        "set_forward_no_connect",
        "udp_mtu_try_proto",
        "set_recv_socket",
        "set_source_address",
    ] {
        assert!(
            refused.iter().any(|m| m.contains(name)),
            "{name} not refused: {refused:?}"
        );
    }
    let logger = Arc::new(MemoryLogger::new());
    assert!(Engine::new(prog, config(&logger)).is_err());
}

#[test]
fn configs_say_whether_they_have_a_reply_route() {
    let (with, _) = engine(REPLY_CFG);
    assert!(with.runs_reply_route());
    let (without, _) = engine(
        "#!KAMAILIO\nrequest_route {\n    forward(\"10.0.0.9\");\n}\nonreply_route[ONLY_NAMED] {\n    exit;\n}\n",
    );
    assert!(!without.runs_reply_route());
}

/// A sub-route called from the reply route may test `status` (it runs on
/// replies), and its problems are reported once.
#[test]
fn sub_routes_of_the_reply_route_run_on_replies() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    forward("10.0.0.9");
}
route[CHECK] {
    if (status == "200") {
        xlog("L_INFO", "ok reply\n");
        return 1;
    }
    return -1;
}
onreply_route {
    if (!route(CHECK)) drop;
}
"#,
    );
    let from = RecvInfo {
        src: "10.0.0.9:5060".parse().unwrap(),
        ..recv()
    };
    assert_eq!(e.on_reply(&reply(200), from), ReplyVerdict::Forward(None));
    assert_eq!(e.on_reply(&reply(486), from), ReplyVerdict::Drop);
    assert_eq!(lines(&log), ["ok reply\n"]);
    let why = refusals(
        "#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route {\n    route(S);\n}\nroute[S] {\n    xlog(\"$snd(ip)\\n\");\n}\nonreply_route {\n    route(S);\n}\n",
    );
    assert_eq!(why.len(), 1, "{why:?}");
}

/// Under `debug=0` (the logger's level), `setdebug(3)` raises this
/// process's level and `resetdebug()` returns to `debug=`.
#[test]
fn setdebug_replaces_the_debug_level_until_reset() {
    struct Shared(Arc<MemoryLogger>);
    impl sercompat::engine::Logger for Shared {
        fn log(&self, level: i32, text: &str) {
            sercompat::engine::Logger::log(&*self.0, level, text);
        }
    }
    let memory = Arc::new(MemoryLogger::new());
    let cfg = EngineConfig {
        logger: Arc::new(sercompat::engine::MaxLevel {
            max: 0,
            inner: Shared(memory.clone()),
        }),
        ..config(&memory)
    };
    let prog = program(
        r#"#!KAMAILIO
loadmodule "kex.so"
loadmodule "xlog.so"
request_route {
    xinfo("info 1\n");
    setdebug(3);
    xinfo("info 2\n");
    resetdebug();
    xinfo("info 3\n");
    xwarn("warn\n");
}
"#,
    );
    let mut e = Engine::new(prog, cfg).unwrap_or_else(|e| panic!("{e}"));
    e.on_request(&invite(), recv());
    assert_eq!(lines(&memory), ["info 2\n", "warn\n"]);
}
