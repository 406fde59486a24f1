//! The `rr` functions in the interpreter: configs from strings, requests
//! from bytes, the exact bytes forwarded.

mod engine_support;

use engine_support::{program, FixedIds};
use sercompat::engine::rr::FUNCTIONS;
use sercompat::engine::{
    handles_function, Destination, Engine, EngineConfig, MemoryLogger, Myself, Output, Proto,
    RecvInfo,
};
use sercompat::sip::SipMessage;
use sercompat_compiler::catalog::catalog;
use std::sync::Arc;

/// An engine as `sercompat run` sets it up: modparams applied.
fn engine(src: &str) -> Result<(Engine, Arc<MemoryLogger>), String> {
    let prog = program(src);
    let logger = Arc::new(MemoryLogger::new());
    let mut cfg = EngineConfig {
        myself: vec![
            Myself::new("127.0.0.1", Some(5060)),
            Myself::new("proxy.example.com", None),
        ],
        ids: Arc::new(FixedIds),
        logger: logger.clone(),
        ..EngineConfig::default()
    };
    sercompat::serve::apply_settings(&prog, &mut cfg, 0);
    Engine::new(prog, cfg)
        .map(|e| (e, logger))
        .map_err(|e| e.to_string())
}

fn recv() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn run(e: &mut Engine, msg: &str) -> Vec<Output> {
    e.on_request(
        &SipMessage::parse_datagram(msg.to_string()).unwrap(),
        recv(),
    )
}

fn forwarded(out: &[Output]) -> (String, Destination) {
    match out {
        [Output::Forward { bytes, to, .. }] => {
            (String::from_utf8(bytes.to_vec()).unwrap(), to.clone())
        }
        other => panic!("expected one forward, got {other:#?}"),
    }
}

fn logged(log: &MemoryLogger) -> String {
    log.take().into_iter().map(|(_, l)| l).collect()
}

const HEAD: &str = "#!KAMAILIO\nloadmodule \"rr.so\"\nloadmodule \"xlog.so\"\n";

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=ft1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

#[test]
fn record_route_then_forward_puts_our_record_route_on_top() {
    let (mut e, _) = engine(&format!(
        "{HEAD}request_route {{ record_route(); forward(\"192.0.2.20\", 5070); }}\n"
    ))
    .unwrap();
    let (bytes, to) = forwarded(&run(&mut e, INVITE));
    assert_eq!(to.to_string(), "udp:192.0.2.20:5070");
    assert_eq!(
        bytes,
        "INVITE sip:bob@example.com SIP/2.0\r\nRecord-Route: <sip:127.0.0.1;lr;ftag=ft1>\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=ft1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn a_transport_change_gets_two_record_routes_and_params() {
    let (mut e, _) = engine(&format!(
        "{HEAD}request_route {{ add_rr_param(\";n=1\"); record_route(\";nat=yes\"); $du = \"sip:192.0.2.20:5070;transport=tcp\"; forward(); }}\n"
    ))
    .unwrap();
    let (bytes, to) = forwarded(&run(&mut e, INVITE));
    assert_eq!(to.to_string(), "tcp:192.0.2.20:5070");
    assert!(bytes.starts_with("INVITE sip:bob@example.com SIP/2.0\r\nRecord-Route: <sip:127.0.0.1;transport=tcp;r2=on;lr;ftag=ft1;nat=yes;n=1>\r\nRecord-Route: <sip:127.0.0.1;r2=on;lr;ftag=ft1;nat=yes;n=1>\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKtest1\r\n"), "{bytes}");
}

#[test]
fn modparams_shape_the_header_and_remove_record_route_undoes_it() {
    let (mut e, _) = engine(&format!(
        "{HEAD}modparam(\"rr\", \"enable_full_lr\", 1)\nmodparam(\"rr\", \"append_fromtag\", 0)\nmodparam(\"rr\", \"add_username\", 1)\nmodparam(\"rr\", \"enable_double_rr\", 0)\nrequest_route {{ if ($hdr(X-Rm) == \"1\") {{ record_route(); remove_record_route(); }} else {{ record_route_advertised_address(\"198.51.100.1:5080\"); }} $du = \"sip:192.0.2.20;transport=tcp\"; forward(); }}\n"
    ))
    .unwrap();
    let (bytes, _) = forwarded(&run(&mut e, INVITE));
    assert!(
        bytes.contains("\r\nRecord-Route: <sip:bob@198.51.100.1:5080;lr=on>\r\nVia: SIP/2.0/TCP"),
        "{bytes}"
    );
    let (bytes, _) = forwarded(&run(
        &mut e,
        &INVITE.replace("Max-Forwards", "X-Rm: 1\r\nMax-Forwards"),
    ));
    assert!(!bytes.contains("Record-Route"), "{bytes}");
}

const LR_CFG: &str = r#"request_route {
    $var(rc) = loose_route();
    xlog("L_INFO", "rc=$var(rc) ru=$ru du=$du\n");
    if (check_route_param("nat=yes")) { xlog("L_INFO", "nat\n"); }
    if (is_direction("upstream")) { xlog("L_INFO", "up\n"); } else { xlog("L_INFO", "down\n"); }
    if ($var(rc) == 1) { forward(); }
}
"#;

fn bye(ruri: &str, from_tag: &str, routes: &str) -> String {
    format!("BYE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-2\r\n{routes}Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag={from_tag}\r\nTo: <sip:alice@example.com>;tag=ft1\r\nCall-ID: c1@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
}

#[test]
fn loose_route_sends_an_in_dialog_request_to_the_next_hop() {
    let (mut e, log) = engine(&format!("{HEAD}{LR_CFG}")).unwrap();
    // The callee hangs up: From tag is its own, our ftag is the caller's.
    let msg = bye(
        "sip:alice@192.0.2.10:5062",
        "tt1",
        "Route: <sip:127.0.0.1;lr;ftag=ft1;nat=yes>, <sip:192.0.2.30:5099;lr>\r\n",
    );
    let (bytes, to) = forwarded(&run(&mut e, &msg));
    assert_eq!(to.to_string(), "udp:192.0.2.30:5099");
    assert_eq!(
        bytes,
        "BYE sip:alice@192.0.2.10:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-2\r\nRoute: <sip:192.0.2.30:5099;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=tt1\r\nTo: <sip:alice@example.com>;tag=ft1\r\nCall-ID: c1@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(
        logged(&log),
        "rc=1 ru=sip:alice@192.0.2.10:5062 du=sip:192.0.2.30:5099;lr\nnat\nup\n"
    );
}

#[test]
fn a_strict_router_upstream_gets_the_request_uri_restored() {
    let (mut e, log) = engine(&format!("{HEAD}{LR_CFG}")).unwrap();
    let msg = bye(
        "sip:127.0.0.1;ftag=ft1",
        "ft1",
        "Route: <sip:bob@192.0.2.40:5090>\r\n",
    );
    let (bytes, to) = forwarded(&run(&mut e, &msg));
    assert_eq!(to.to_string(), "udp:192.0.2.40:5090");
    assert!(
        bytes.starts_with("BYE sip:bob@192.0.2.40:5090 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest1\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-2\r\nMax-Forwards: 70\r\n"),
        "{bytes}"
    );
    assert_eq!(
        logged(&log),
        "rc=1 ru=sip:bob@192.0.2.40:5090 du=<null>\ndown\n"
    );
}

#[test]
fn loose_route_codes_without_routes_and_for_a_preloaded_route_ending_here() {
    let cfg = format!(
        "{HEAD}request_route {{ $var(a) = loose_route_preloaded(); $var(b) = loose_route(); xlog(\"L_INFO\", \"$var(a) $var(b)\\n\"); }}\n"
    );
    let (mut e, log) = engine(&cfg).unwrap();
    run(&mut e, INVITE);
    assert_eq!(logged(&log), "-1 -1\n");
    let preloaded = INVITE.replace("Max-Forwards", "Route: <sip:127.0.0.1;lr>\r\nMax-Forwards");
    run(&mut e, &preloaded);
    // A second loose_route on the same request repeats the answer.
    assert_eq!(logged(&log), "1 -3\n");
}

#[test]
fn is_direction_needs_append_fromtag_and_bad_arguments_are_refused() {
    let err = engine(&format!(
        "{HEAD}modparam(\"rr\", \"append_fromtag\", 0)\nrequest_route {{ if (is_direction(\"upstream\")) {{ drop; }} }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("append_fromtag"), "{err}");
    let err = engine(&format!(
        "{HEAD}request_route {{ if (is_direction(\"sideways\")) {{ drop; }} }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("sideways"), "{err}");
    let err = engine(&format!(
        "{HEAD}request_route {{ if (check_route_param(\"(\")) {{ drop; }} }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("regular expression"), "{err}");
    let err = engine(&format!(
        "{HEAD}modparam(\"rr\", \"ignore_sips\", 1)\nrequest_route {{ drop; }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("ignore_sips"), "{err}");
    let err = engine(&format!(
        "{HEAD}modparam(\"rr\", \"enable_full_lr\", \"yes\")\nrequest_route {{ drop; }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("rr.enable_full_lr takes a number"), "{err}");
    // A number written as a string counts, as in Kamailio.
    let (mut e, _) = engine(&format!(
        "{HEAD}modparam(\"rr\", \"enable_full_lr\", \"1\")\nrequest_route {{ record_route(); forward(\"192.0.2.20\"); }}\n"
    ))
    .unwrap();
    let (bytes, _) = forwarded(&run(&mut e, INVITE));
    assert!(bytes.contains("<sip:127.0.0.1;lr=on;ftag=ft1>"), "{bytes}");
}

#[test]
fn a_second_record_route_is_refused_with_minus_1() {
    let (mut e, log) = engine(&format!(
        "{HEAD}request_route {{ record_route(); $var(r) = record_route(); xlog(\"L_INFO\", \"r=$var(r)\\n\"); forward(\"192.0.2.20\"); }}\n"
    ))
    .unwrap();
    let (bytes, _) = forwarded(&run(&mut e, INVITE));
    assert_eq!(bytes.matches("Record-Route:").count(), 1);
    let log = logged(&log);
    assert!(log.contains("double attempt to record-route"), "{log}");
    assert!(log.ends_with("r=-1\n"), "{log}");
}

#[test]
fn every_rr_handler_is_marked_implemented() {
    let c = catalog();
    for (m, n, ..) in FUNCTIONS {
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
fn loose_route_mode_1_keeps_a_request_uri_of_ours_and_next_hop_is_known() {
    let cfg = format!(
        "{HEAD}request_route {{ $var(rc) = loose_route_mode(\"1\"); if (rr_next_hop_route()) {{ xlog(\"L_INFO\", \"nh\\n\"); }} xlog(\"L_INFO\", \"rc=$var(rc) ru=$ru du=$du\\n\"); forward(); }}\n"
    );
    let (mut e, log) = engine(&cfg).unwrap();
    let msg = bye(
        "sip:127.0.0.1;lr",
        "ft1",
        "Route: <sip:127.0.0.1;lr;ftag=ft1>\r\nRoute: <sip:192.0.2.30:5099;lr>\r\n",
    );
    let (bytes, to) = forwarded(&run(&mut e, &msg));
    assert_eq!(to.to_string(), "udp:192.0.2.30:5099");
    assert!(
        bytes.starts_with("BYE sip:127.0.0.1;lr SIP/2.0\r\n"),
        "{bytes}"
    );
    assert!(
        bytes.contains("\r\nRoute: <sip:192.0.2.30:5099;lr>\r\nMax-Forwards"),
        "{bytes}"
    );
    assert_eq!(
        logged(&log),
        "nh\nrc=1 ru=sip:127.0.0.1;lr du=sip:192.0.2.30:5099;lr\n"
    );
}
