//! The interpreter end to end, without sockets: configs from strings,
//! requests from bytes, exact outputs and log lines.

mod engine_support;

use engine_support::{program, program_in, FixedIds};
use sercompat::engine::implemented_pvs;
use sercompat::engine::{
    handles_core_action, handles_function, level, Destination, Engine, EngineConfig, MemoryLogger,
    Myself, Output, Proto, RecvInfo, CORE, MODULES,
};
use sercompat::sip::SipMessage;
use sercompat_compiler::catalog::catalog;
use sercompat_compiler::ir::{readiness, Program};
use sercompat_grammar::Era;
use std::sync::Arc;

fn config(logger: &Arc<MemoryLogger>) -> EngineConfig {
    EngineConfig {
        server_header: Some("sercompat-test".into()),
        myself: vec![
            Myself::new("127.0.0.1", Some(5060)),
            Myself::new("proxy.example.com", None),
        ],
        ids: Arc::new(FixedIds),
        logger: logger.clone(),
        ..EngineConfig::default()
    }
}

fn engine_of(prog: Arc<Program>) -> (Engine, Arc<MemoryLogger>) {
    let logger = Arc::new(MemoryLogger::new());
    let engine = Engine::new(prog, config(&logger)).unwrap_or_else(|e| panic!("{e}"));
    (engine, logger)
}

fn engine(src: &str) -> (Engine, Arc<MemoryLogger>) {
    engine_of(program(src))
}

fn recv() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

const VIA: &str = "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds";

fn request(method: &str, ruri: &str, via: &str, extra: &str) -> SipMessage {
    let text = format!(
        "{method} {ruri} SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 {method}\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse_datagram(text.into_bytes()).unwrap()
}

fn invite(extra: &str) -> SipMessage {
    request("INVITE", "sip:bob@example.com", VIA, extra)
}

fn lines(logger: &MemoryLogger) -> Vec<String> {
    logger.take().into_iter().map(|(_, t)| t).collect()
}

fn forwarded(out: &[Output]) -> (String, Destination) {
    match out {
        [Output::Forward { bytes, to, .. }] => {
            (String::from_utf8(bytes.to_vec()).unwrap(), to.clone())
        }
        other => panic!("expected one forward, got {other:#?}"),
    }
}

fn replied(out: &[Output]) -> (String, std::net::SocketAddr) {
    match out {
        [Output::Reply { bytes, to, proto }] => {
            assert_eq!(*proto, Proto::Udp);
            (String::from_utf8(bytes.to_vec()).unwrap(), *to)
        }
        other => panic!("expected one reply, got {other:#?}"),
    }
}

const MAXFWD_CFG: &str = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "maxfwd.so"
request_route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    rewritehost("10.0.0.7");
    forward();
}
"#;

#[test]
fn max_forwards_zero_is_answered_483() {
    let (mut e, _) = engine(MAXFWD_CFG);
    let msg = SipMessage::parse_datagram(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\n\
         Max-Forwards: 0\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 INVITE\r\n\
         Content-Length: 0\r\n\r\n",
    )
    .unwrap();
    let (bytes, to) = replied(&e.on_request(&msg, recv()));
    assert_eq!(
        bytes,
        "SIP/2.0 483 Too Many Hops\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         To: Bob <sip:bob@example.com>;tag=totag1\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 INVITE\r\n\
         Server: sercompat-test\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(to, "192.0.2.10:5062".parse().unwrap());
}

#[test]
fn forward_to_rewritten_host_with_our_via_and_max_forwards_decremented() {
    let (mut e, _) = engine(MAXFWD_CFG);
    let (bytes, to) = forwarded(&e.on_request(&invite(""), recv()));
    assert_eq!(
        bytes,
        "INVITE sip:bob@10.0.0.7 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\n\
         Max-Forwards: 69\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(
        to,
        Destination {
            host: "10.0.0.7".into(),
            port: 5060,
            proto: Proto::Udp
        }
    );
}

#[test]
fn max_forwards_is_added_when_missing_and_received_rport_filled_in() {
    let (mut e, _) = engine(MAXFWD_CFG);
    let msg = SipMessage::parse_datagram(
        "OPTIONS sip:bob@example.com:5070;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKnat\r\n\
         To: <sip:bob@example.com>\r\n\
         From: <sip:alice@example.com>;tag=a\r\n\
         Call-ID: c1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
    )
    .unwrap();
    let r = RecvInfo {
        src: "198.51.100.7:40000".parse().unwrap(),
        ..recv()
    };
    let (bytes, to) = forwarded(&e.on_request(&msg, r));
    assert_eq!(
        bytes,
        "OPTIONS sip:bob@10.0.0.7:5070;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n\
         Via: SIP/2.0/UDP 10.1.1.1:5060;rport=40000;branch=z9hG4bKnat;received=198.51.100.7\r\n\
         To: <sip:bob@example.com>\r\n\
         From: <sip:alice@example.com>;tag=a\r\n\
         Call-ID: c1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\
         Max-Forwards: 10\r\n\r\n"
    );
    assert_eq!((to.host.as_str(), to.port), ("10.0.0.7", 5070));
}

#[test]
fn local_reply_behind_nat_goes_to_the_source_port() {
    let (mut e, _) = engine(
        "#!KAMAILIO\nloadmodule \"sl.so\"\nrequest_route { force_rport(); sl_send_reply(404, \"Not Here\"); }\n",
    );
    let msg = request(
        "MESSAGE",
        "sip:bob@example.com",
        "SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKx",
        "",
    );
    let r = RecvInfo {
        src: "198.51.100.7:40000".parse().unwrap(),
        ..recv()
    };
    let (bytes, to) = replied(&e.on_request(&msg, r));
    assert!(bytes.starts_with(
        "SIP/2.0 404 Not Here\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKx;received=198.51.100.7;rport=40000\r\n"
    ), "{bytes}");
    assert_eq!(to, "198.51.100.7:40000".parse().unwrap());
}

#[test]
fn routes_return_codes_switch_and_while() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    route(CHECK);
    xlog("L_INFO", "check rc=$rc\n");
    if (route(NEG)) { xlog("L_INFO", "neg true\n"); } else { xlog("L_INFO", "neg false rc=$rc\n"); }
    $var(i) = 0;
    while ($var(i) < 3) { $var(i) = $var(i) + 1; }
    switch ($var(i)) {
        case 3: xlog("L_INFO", "three\n");
        case 4: xlog("L_INFO", "fell through\n"); break;
        default: xlog("L_INFO", "default\n");
    }
    switch ($rU) {
        case "alice": xlog("L_INFO", "alice\n"); break;
        case /"^b.b$": xlog("L_INFO", "regex case $rU\n"); break;
        default: xlog("L_INFO", "nobody\n");
    }
    switch ($var(i) + 10) { case 1: xlog("L_INFO", "one\n"); break; default: xlog("L_INFO", "default 13\n"); }
    while (1) { $var(n) = $var(n) + 1; }
    xlog("L_INFO", "runaway n=$var(n) rc=$rc\n");
    route(ZERO);
    xlog("L_INFO", "not reached\n");
}
route[CHECK] { return(5); }
route[NEG] { xlog("L_INFO", "in neg\n"); return(-2); xlog("L_INFO", "not here\n"); }
route[ZERO] { xlog("L_INFO", "in zero\n"); return(0); }
"#,
    );
    assert!(e.on_request(&invite(""), recv()).is_empty());
    assert_eq!(
        lines(&log),
        [
            "check rc=5\n",
            "in neg\n",
            "neg false rc=-2\n",
            "three\n",
            "fell through\n",
            "regex case bob\n",
            "default 13\n",
            "sercompat: runaway while (more than 100 loops)\n",
            "runaway n=100 rc=-1\n",
            "in zero\n",
        ]
    );
}

#[test]
fn var_persists_between_messages_but_avps_do_not() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    $var(count) = $var(count) + 1;
    xlog("L_INFO", "count=$var(count) avp=$avp(s:x)\n");
    $avp(s:x) = "first";
    $avp(x) = "second";
    xlog("L_INFO", "avp=$avp(x) older=$(avp(x)[1])\n");
    $avp(x) = $null;
    xlog("L_INFO", "after delete=$avp(x)\n");
}
"#,
    );
    e.on_request(&invite(""), recv());
    e.on_request(&invite(""), recv());
    assert_eq!(
        lines(&log),
        [
            "count=1 avp=<null>\n",
            "avp=second older=first\n",
            "after delete=first\n",
            "count=2 avp=<null>\n",
            "avp=second older=first\n",
            "after delete=first\n",
        ]
    );
}

#[test]
fn xlog_prints_message_pseudo_variables() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    xlog("L_NOTICE", "$rm $ru user=$rU host=$rd port=$rp from $fu ($fU@$fd tag $ft) to $tu ($tU@$td)\n");
    xlog("src=$si:$sp dst=$Ri:$Rp proto=$pr ci=$ci cs=$cs ua=$ua x=$hdr(X-Test) none=$hdr(X-None) len=$ml\n");
    xdbg("second via=$(hdr(Via)[1]) last=$(hdr(Via)[-1])\n");
}
"#,
    );
    let msg = request(
        "INVITE",
        "sip:bob@example.com:5080",
        "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0",
        "User-Agent: phone/1.0\r\nX-Test: hello\r\nVia: SIP/2.0/TCP 10.9.9.9;branch=z9hG4bKz\r\n",
    );
    e.on_request(&msg, recv());
    let got = log.take();
    assert_eq!(got[0].0, level::L_NOTICE);
    assert_eq!(
        got[0].1,
        "INVITE sip:bob@example.com:5080 user=bob host=example.com port=5080 from sip:alice@atlanta.example.com (alice@atlanta.example.com tag 1928301774) to sip:bob@example.com (bob@example.com)\n"
    );
    assert_eq!(got[1].0, level::L_ERR);
    assert_eq!(
        got[1].1,
        format!(
            "src=192.0.2.10:5062 dst=127.0.0.1:5060 proto=udp ci=a84b4c76e66710 cs=314159 ua=phone/1.0 x=hello none=<null> len={}\n",
            msg.as_bytes().len()
        )
    );
    assert_eq!(got[2].0, level::L_DBG);
    assert_eq!(
        got[2].1,
        "second via=SIP/2.0/TCP 10.9.9.9;branch=z9hG4bKz last=SIP/2.0/TCP 10.9.9.9;branch=z9hG4bKz\n"
    );
}

#[test]
fn flags_named_and_numbered() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
flags NAT : 5;
request_route {
    setflag(3);
    setflag(NAT);
    if (isflagset(3) && isflagset(NAT)) xlog("L_INFO", "both mf=$mf\n");
    resetflag(3);
    if (!isflagset(3)) xlog("L_INFO", "3 reset mf=$mf\n");
    if (isflagset(7)) xlog("L_INFO", "never\n");
}
"#,
    );
    e.on_request(&invite(""), recv());
    assert_eq!(lines(&log), ["both mf=40\n", "3 reset mf=32\n"]);
}

#[test]
fn condition_words_and_myself() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    if (method == "invite" && method =~ "^INV") xlog("L_INFO", "method\n");
    if (uri == myself) xlog("L_INFO", "uri is myself\n");
    if (myself == uri) xlog("L_INFO", "reverse myself\n");
    if (from_uri =~ "atlanta") xlog("L_INFO", "from atlanta\n");
    if (src_ip == 192.0.2.0/24 && src_ip != 10.0.0.0/8) xlog("L_INFO", "src net\n");
    if (dst_ip == myself && dst_port == 5060) xlog("L_INFO", "dst is me\n");
    if (proto == UDP && af == INET) xlog("L_INFO", "udp v4\n");
    if (msg:len > 100 && msg:len < 1000) xlog("L_INFO", "len ok\n");
    if ($rd == "proxy.example.com" && $rU != "x" && !($rU =~ "^[0-9]+$")) xlog("L_INFO", "pv compare\n");
    if ("10" == 10 && $var(unset) == 0 && "a" + 1 == "a1" && 1 + "2" == 3) xlog("L_INFO", "types\n");
}
"#,
    );
    e.on_request(
        &request("INVITE", "sip:bob@proxy.example.com", VIA, ""),
        recv(),
    );
    assert_eq!(
        lines(&log),
        [
            "method\n",
            "uri is myself\n",
            "reverse myself\n",
            "from atlanta\n",
            "src net\n",
            "dst is me\n",
            "udp v4\n",
            "len ok\n",
            "pv compare\n",
            "types\n"
        ]
    );
    // Another port on a listen address is not myself; an alias is any port.
    let (mut e, log) = engine(
        "#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route { if (uri == myself) xlog(\"yes\\n\"); else xlog(\"no\\n\"); }\n",
    );
    e.on_request(&request("INVITE", "sip:b@127.0.0.1:5070", VIA, ""), recv());
    e.on_request(
        &request("INVITE", "sip:b@PROXY.example.com:9", VIA, ""),
        recv(),
    );
    e.on_request(&request("INVITE", "sip:b@127.0.0.1", VIA, ""), recv());
    assert_eq!(lines(&log), ["no\n", "yes\n", "yes\n"]);
}

#[test]
fn uri_rewrites_and_dst_uri() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    prefix("00");
    strip(1);
    rewriteport("5090");
    xlog("L_INFO", "a=$ru\n");
    rewriteuser("carol");
    rewritehostport("gw.example.net:5070");
    xlog("L_INFO", "b=$ru ou=$ou\n");
    $rU = "dave";
    $rd = "10.2.3.4";
    $rp = 5062;
    xlog("L_INFO", "c=$ru\n");
    revert_uri();
    xlog("L_INFO", "d=$ru\n");
    $ru = "sip:erin@192.0.2.55;transport=udp";
    strip_tail(1);
    xlog("L_INFO", "e=$ru\n");
    $du = "sip:192.0.2.200:5099";
    forward();
}
"#,
    );
    let out = e.on_request(&invite(""), recv());
    assert_eq!(
        lines(&log),
        [
            "a=sip:0bob@example.com:5090\n",
            "b=sip:carol@gw.example.net:5070 ou=sip:bob@example.com\n",
            "c=sip:dave@10.2.3.4:5062\n",
            "d=sip:bob@example.com\n",
            "e=sip:eri@192.0.2.55;transport=udp\n",
        ]
    );
    let (bytes, to) = forwarded(&out);
    assert!(bytes.starts_with("INVITE sip:eri@192.0.2.55;transport=udp SIP/2.0\r\n"));
    assert_eq!(
        to,
        Destination {
            host: "192.0.2.200".into(),
            port: 5099,
            proto: Proto::Udp
        }
    );
}

#[test]
fn textops_and_siputils() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
request_route {
    if (is_method("REGISTER|INVITE")) xlog("L_INFO", "is invite\n");
    if (!has_totag()) xlog("L_INFO", "initial\n");
    if (is_present_hf("f") && !is_present_hf("X-None")) xlog("L_INFO", "present\n");
    if (search("^CSeq: [0-9]+ INVITE")) xlog("L_INFO", "found\n");
    if (!search("^Route:")) xlog("L_INFO", "no route\n");
    if (is_user("bob")) xlog("L_INFO", "bob\n");
    remove_hf("X-Drop");
    if (!remove_hf("X-Drop")) xlog("L_INFO", "already gone\n");
    append_hf("X-Added: $rm by $si\r\n");
    append_hf("X-After-To: 1\r\n", "To");
    search_append("^Call-ID: [^\r\n]*", ".proxy");
    forward("192.0.2.99:5080");
}
"#,
    );
    let out = e.on_request(&invite("X-Drop: a\r\nX-Drop: b\r\n"), recv());
    assert_eq!(
        lines(&log),
        [
            "is invite\n",
            "initial\n",
            "present\n",
            "found\n",
            "no route\n",
            "bob\n",
            "already gone\n"
        ]
    );
    let (bytes, to) = forwarded(&out);
    assert_eq!(
        bytes,
        "INVITE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         X-After-To: 1\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710.proxy\r\n\
         CSeq: 314159 INVITE\r\n\
         Content-Length: 0\r\n\
         X-Added: INVITE by 192.0.2.10\r\n\r\n"
    );
    assert_eq!((to.host.as_str(), to.port), ("192.0.2.99", 5080));
}

#[test]
fn drop_exit_and_functions_returning_zero() {
    let (mut e, log) = engine(
        r#"#!KAMAILIO
loadmodule "xlog.so"
request_route {
    forward("192.0.2.99");
    if ($rU == "bob") { drop; }
    xlog("L_INFO", "not reached\n");
}
"#,
    );
    let out = e.on_request(&invite(""), recv());
    // A stateless forward is sent when called; a later drop cannot recall it.
    let (_, to) = forwarded(&out);
    assert_eq!((to.host.as_str(), to.port), ("192.0.2.99", 5060));
    assert!(lines(&log).is_empty());

    let (mut e, log) =
        engine("#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route { exit; xlog(\"no\\n\"); }\n");
    assert!(e.on_request(&invite(""), recv()).is_empty());
    assert!(lines(&log).is_empty());
}

#[test]
fn sub_route_break_and_retcode_in_openser() {
    let (mut e, log) = engine(
        r#"loadmodule "xlog.so"
loadmodule "textops.so"
route {
    route(1);
    if ($rc == 7) xlog("L_INFO", "retcode 7\n");
    switch ($rU) {
        case "bob": xlog("L_INFO", "bob\n"); break;
        default: xlog("L_INFO", "other\n");
    }
    if (is_method("INVITE")) { return(1); }
}
route[1] { return(7); }
"#,
    );
    assert_eq!(e.program().era, Era::OpenSer12);
    e.on_request(&invite(""), recv());
    assert_eq!(lines(&log), ["retcode 7\n", "bob\n"]);
}

#[test]
fn ser_09_config_with_percent_xlog_and_uri_forward() {
    let prog = program_in(
        r#"loadmodule "/usr/lib/ser/modules/xlog.so"
route {
    if (method == "INVITE" && uri =~ "^sip:bob@") {
        xlog("L_INFO", "%rm %ru from %fu [%{User-Agent}] 100%%\n");
        log(1, "plain log\n");
        forward(uri:host, uri:port);
        break;
    };
    log("never\n");
}
"#,
        Some(Era::Ser09),
    );
    let (mut e, log) = engine_of(prog);
    let out = e.on_request(&invite("User-Agent: ua\r\n"), recv());
    let (_, to) = forwarded(&out);
    assert_eq!((to.host.as_str(), to.port), ("example.com", 5060));
    assert_eq!(
        log.take(),
        [
            (
                level::L_INFO,
                "INVITE sip:bob@example.com from sip:alice@atlanta.example.com [ua] 100%\n"
                    .to_string()
            ),
            (1, "plain log\n".to_string()),
        ]
    );
}

#[test]
fn rule_table_2001_first_match_wins_no_match_drops() {
    let prog = program(
        "# 2001 sip_router rules\n\
         REGISTER .* 127.0.0.1:5071\n\
         INVITE|MESSAGE ^sip:1[0-9]+@ 127.0.0.1:5072\n\
         .* ^sip:.*@example\\.com 127.0.0.1\n",
    );
    assert_eq!(prog.era, Era::Rules2001);
    assert_eq!(prog.rules.len(), 3);
    let (mut e, _) = engine_of(prog);
    let dest = |e: &mut Engine, method: &str, ruri: &str| -> Option<u16> {
        let out = e.on_request(&request(method, ruri, VIA, ""), recv());
        match out.as_slice() {
            [] => None,
            [Output::Forward { to, bytes, .. }] => {
                assert_eq!(to.host, "127.0.0.1");
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                assert!(text.contains("\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\nVia: SIP/2.0/UDP 192.0.2.10:5062"), "{text}");
                Some(to.port)
            }
            other => panic!("{other:#?}"),
        }
    };
    // Rule 1 and rule 3 both match: the first wins.
    assert_eq!(
        dest(&mut e, "REGISTER", "sip:alice@example.com"),
        Some(5071)
    );
    assert_eq!(
        dest(&mut e, "INVITE", "sip:1234@gw.example.org"),
        Some(5072)
    );
    assert_eq!(
        dest(&mut e, "message", "sip:1234@gw.example.org"),
        Some(5072)
    );
    assert_eq!(dest(&mut e, "INVITE", "sip:bob@EXAMPLE.com"), Some(5060));
    assert_eq!(dest(&mut e, "OPTIONS", "sip:bob@other.org"), None);
}

#[test]
fn unimplemented_calls_are_refused_and_implemented_ones_are_not() {
    let src = "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"dispatcher.so\"\nrequest_route { if (!ds_select_dst(\"1\", \"4\")) sl_reply_error(); }\n";
    let prog = program(src);
    let refusals = readiness::unimplemented_calls(&prog);
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0].message.contains("ds_select_dst"),
        "{}",
        refusals[0].message
    );
    let logger = Arc::new(MemoryLogger::new());
    let err = Engine::new(prog, config(&logger)).unwrap_err();
    // The call, and the module itself (dispatcher is not implemented).
    let messages: Vec<&str> = err.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(err.diagnostics.len(), 2, "{messages:?}");
    assert!(err
        .diagnostics
        .iter()
        .all(|d| d.code == readiness::NOT_IMPLEMENTED));
    assert!(
        messages.iter().any(|m| m.contains("ds_select_dst")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("module `dispatcher`")),
        "{messages:?}"
    );

    let prog = program(MAXFWD_CFG);
    assert!(readiness::unimplemented_calls(&prog).is_empty());
    assert!(Engine::new(prog, config(&logger)).is_ok());
}

#[test]
fn unsupported_constructs_are_refused_not_guessed() {
    let logger = Arc::new(MemoryLogger::new());
    for (src, what) in [
        (
            "#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route { xlog(\"$(ru{s.nope})\\n\"); }\n",
            "{s.nope}",
        ),
        (
            "#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route { xlog(\"$snd(ip)\\n\"); }\n",
            "$snd",
        ),
        ("#!KAMAILIO\nrequest_route { setflag(40); }\n", "not a flag"),
        (
            "#!KAMAILIO\nrequest_route { $fu = \"sip:x@y\"; }\n",
            "cannot assign",
        ),
        (
            "#!KAMAILIO\nrequest_route { exit; }\nfailure_route[F] { exit; }\n",
            "not executed",
        ),
    ] {
        let err = Engine::new(program(src), config(&logger)).unwrap_err();
        assert!(
            err.diagnostics.iter().any(|d| d.message.contains(what)),
            "{src}: {err}"
        );
    }
}

#[test]
fn implemented_list_and_engine_handlers_agree() {
    let c = catalog();
    for f in c.functions().iter().filter(|f| f.implemented) {
        assert!(
            handles_function(f.module, f.name),
            "{}.{} is marked implemented but has no handler",
            f.module,
            f.name
        );
    }
    for a in c.core_actions().iter().filter(|a| a.implemented) {
        assert!(handles_core_action(a.name), "core.{}", a.name);
    }
    for (m, n, ..) in MODULES {
        assert!(
            c.functions()
                .iter()
                .any(|f| f.module == *m && f.name == *n && f.implemented),
            "{m}.{n} has a handler but is not marked in implemented.txt"
        );
    }
    for (n, ..) in CORE {
        assert!(
            c.core_actions()
                .iter()
                .any(|a| a.name == *n && a.implemented),
            "core.{n}"
        );
    }
    let mut marked: Vec<&str> = c
        .pvs()
        .iter()
        .filter(|p| p.implemented)
        .map(|p| p.key)
        .collect();
    marked.sort();
    marked.dedup();
    let mut ours: Vec<&str> = implemented_pvs().collect();
    ours.sort();
    assert_eq!(marked, ours);
}

#[test]
fn responses_are_not_routed_yet() {
    let (mut e, log) = engine(MAXFWD_CFG);
    let reply = SipMessage::parse_datagram(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nTo: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert!(e.on_request(&reply, recv()).is_empty());
    assert_eq!(lines(&log).len(), 1);
}

#[test]
fn max_forwards_above_the_limit_is_capped_then_decremented() {
    let (mut e, _) = engine(MAXFWD_CFG);
    let msg = SipMessage::parse_datagram(
        invite("")
            .as_bytes()
            .to_vec()
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .replace("Max-Forwards: 70", "Max-Forwards: 200")
            .into_bytes(),
    )
    .unwrap();
    let (bytes, _) = forwarded(&e.on_request(&msg, recv()));
    assert!(bytes.contains("\r\nMax-Forwards: 69\r\n"), "{bytes}");
}
