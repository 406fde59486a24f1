//! The sans-IO `rr` core against what Kamailio 5.6.3 does with the same
//! input (each expectation was observed on a running Kamailio 5.6.3).

use sercompat::rr::{
    check_route_param, is_direction, loose_route, loose_route_mode, Direction, RrConfig, RrOutcome,
    RrSocket, RrState,
};
use sercompat::sip::{MessageEditor, SipMessage};

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\nFrom: <sip:alice@example.com>;tag=ft1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

fn udp(port: u16) -> RrSocket {
    RrSocket::new("127.0.0.1", port, "udp")
}

fn tcp(port: u16) -> RrSocket {
    RrSocket::new("127.0.0.1", port, "tcp")
}

fn invite(ruri: &str) -> SipMessage {
    SipMessage::parse_datagram(INVITE.replace("sip:bob@example.com SIP", &format!("{ruri} SIP")))
        .unwrap()
}

#[test]
fn record_route_on_one_socket() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.record_route(&msg, "sip:bob@example.com", &cfg, "")
        .unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5070), &udp(5070)),
        ["<sip:127.0.0.1:5070;lr;ftag=ft1>"]
    );
    // Port 5060 is left out.
    assert_eq!(
        st.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:127.0.0.1;lr;ftag=ft1>"]
    );
}

#[test]
fn params_from_the_call_then_add_rr_param_in_call_order() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.add_rr_param(";a=1").unwrap();
    st.record_route(&msg, "sip:bob@example.com", &cfg, ";foo=bar")
        .unwrap();
    st.add_rr_param(";b=2").unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5070), &udp(5070)),
        ["<sip:127.0.0.1:5070;lr;ftag=ft1;foo=bar;a=1;b=2>"]
    );
}

#[test]
fn double_record_route_when_the_transport_changes() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.add_rr_param(";n=1").unwrap();
    st.record_route(&msg, "sip:bob@example.com", &cfg, ";foo=bar")
        .unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5070), &tcp(5070)),
        [
            "<sip:127.0.0.1:5070;transport=tcp;r2=on;lr;ftag=ft1;foo=bar;n=1>",
            "<sip:127.0.0.1:5070;r2=on;lr;ftag=ft1;foo=bar;n=1>",
        ]
    );
    let single = RrConfig {
        enable_double_rr: 0,
        ..RrConfig::default()
    };
    assert_eq!(
        st.headers(&single, &udp(5070), &tcp(5070)),
        ["<sip:127.0.0.1:5070;lr;ftag=ft1;foo=bar;n=1>"]
    );
}

#[test]
fn full_lr_no_ftag_and_username() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig {
        enable_full_lr: true,
        append_fromtag: false,
        add_username: true,
        ..RrConfig::default()
    };
    let mut st = RrState::new();
    st.add_rr_param(";a=1").unwrap();
    st.record_route(&msg, "sip:bob@example.com", &cfg, "")
        .unwrap();
    st.add_rr_param(";b=2").unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:bob@127.0.0.1;lr=on;a=1;b=2>"]
    );
    let mut adv = RrState::new();
    adv.record_route_advertised_address(&msg, "sip:bob@example.com", &cfg, "1.2.3.4:5080")
        .unwrap();
    assert_eq!(
        adv.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:bob@1.2.3.4:5080;lr=on>"]
    );
}

#[test]
fn preset_and_advertised_put_ftag_before_lr() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.record_route_preset(&msg, "sip:bob@example.com", &cfg, "1.2.3.4:5090;x=y", None)
        .unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5070), &tcp(5070)),
        ["<sip:1.2.3.4:5090;x=y;ftag=ft1;lr>"]
    );
    let mut two = RrState::new();
    two.record_route_preset(
        &msg,
        "sip:bob@example.com",
        &cfg,
        "1.2.3.4:5090;r2=on",
        Some("5.6.7.8;r2=on"),
    )
    .unwrap();
    assert_eq!(
        two.headers(&cfg, &udp(5070), &udp(5070)),
        [
            "<sip:1.2.3.4:5090;r2=on;ftag=ft1;lr>",
            "<sip:5.6.7.8;r2=on;ftag=ft1;lr>"
        ]
    );
    let mut adv = RrState::new();
    adv.record_route_advertised_address(&msg, "sip:bob@example.com", &cfg, "1.2.3.4")
        .unwrap();
    adv.add_rr_param(";n=1").unwrap();
    assert_eq!(
        adv.headers(&cfg, &udp(5070), &udp(5070)),
        ["<sip:1.2.3.4;ftag=ft1;lr;n=1>"]
    );
    assert_eq!(
        adv.headers(&cfg, &udp(5070), &tcp(5070)),
        [
            "<sip:1.2.3.4;transport=tcp;r2=on;ftag=ft1;lr;n=1>",
            "<sip:1.2.3.4;transport=udp;r2=on;ftag=ft1;lr;n=1>"
        ]
    );
}

#[test]
fn sips_request_uri_second_attempt_and_removal() {
    let msg = invite("sips:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.record_route(&msg, "sips:bob@example.com", &cfg, "")
        .unwrap();
    assert!(st
        .record_route(&msg, "sips:bob@example.com", &cfg, "")
        .is_err());
    assert_eq!(
        st.headers(&cfg, &udp(5070), &udp(5070)),
        ["<sips:127.0.0.1:5070;lr;ftag=ft1>"]
    );
    st.remove_record_route();
    assert!(st.headers(&cfg, &udp(5070), &udp(5070)).is_empty());
    assert!(st.add_rr_param(";x=<y>").is_err());
}

/// A BYE with `routes` (one header each) and the given To tag.
fn bye(ruri: &str, to_tag: &str, routes: &[&str]) -> SipMessage {
    let mut s =
        format!("BYE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2\r\n");
    for r in routes {
        s.push_str(&format!("Route: {r}\r\n"));
    }
    s.push_str(&format!("From: <sip:alice@example.com>;tag=ft1\r\nTo: <sip:bob@example.com>{to_tag}\r\nCall-ID: c2@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"));
    SipMessage::parse_datagram(s).unwrap()
}

fn ours(uri: &str) -> bool {
    let rest = uri.trim_start_matches("sip:");
    let host = rest.rsplit('@').next().unwrap();
    let hostport = host.split([';', '?']).next().unwrap();
    hostport == "127.0.0.2" || hostport == "127.0.0.1:5070"
}

/// Runs loose_route; returns the outcome and the message's route lines
/// after the edits.
fn route(msg: &SipMessage, ruri: &str) -> (RrOutcome, Vec<String>) {
    let mut ed = MessageEditor::new(msg);
    let out = loose_route(&mut ed, ruri, &ours).unwrap();
    let bytes = ed.build().unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let routes = text
        .lines()
        .filter(|l| l.starts_with("Route:"))
        .map(str::to_string)
        .collect();
    (out, routes)
}

#[test]
fn our_route_is_removed_and_the_next_loose_hop_is_the_destination() {
    let m = bye(
        "sip:bob@10.0.0.5",
        ";tag=tt1",
        &[
            "<sip:127.0.0.2;lr;ftag=ft1;foo=bar>",
            "<sip:10.0.0.9:5099;lr>",
        ],
    );
    let (out, routes) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!(out.code, 1);
    assert_eq!(out.ruri, None);
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9:5099;lr"));
    assert_eq!(routes, ["Route: <sip:10.0.0.9:5099;lr>"]);
    let p = out.our_params.as_deref();
    assert_eq!(p, Some(";lr;ftag=ft1;foo=bar"));
    let re = sercompat_compiler::ir::compile_regex("foo=bar").unwrap();
    assert!(check_route_param(p, &re));
    for (pattern, matches) in [("^;lr", true), ("FOO=BAR", true), ("^lr", false)] {
        let re = sercompat_compiler::ir::compile_regex(pattern).unwrap();
        assert_eq!(check_route_param(p, &re), matches, "{pattern}");
    }
    assert!(is_direction(p, Some("ft1"), Direction::Downstream));
    assert!(is_direction(p, Some("tt1"), Direction::Upstream));
}

#[test]
fn only_our_route_in_dialog_is_1_preloaded_is_minus_3_none_is_minus_1() {
    let m = bye(
        "sip:bob@10.0.0.5",
        ";tag=tt1",
        &["<sip:127.0.0.2;lr;ftag=ft1>"],
    );
    let (out, routes) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!((out.code, out.dst_uri, routes.len()), (1, None, 0));
    let m = bye("sip:bob@10.0.0.5", "", &["<sip:127.0.0.2;lr;ftag=ft1>"]);
    let (out, routes) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!((out.code, out.dst_uri, routes.len()), (-3, None, 0));
    let m = bye("sip:bob@10.0.0.5", ";tag=tt1", &[]);
    let (out, _) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!(out.code, -1);
    assert!(is_direction(None, Some("ft1"), Direction::Downstream));
    assert!(!is_direction(None, Some("ft1"), Direction::Upstream));
}

#[test]
fn strict_router_upstream_restores_the_request_uri_from_the_last_route() {
    let m = bye(
        "sip:127.0.0.2;ftag=ft1;foo=bar",
        ";tag=tt1",
        &["<sip:10.0.0.9:5099;lr>", "<sip:bob@10.0.0.5:5090>"],
    );
    let (out, routes) = route(&m, "sip:127.0.0.2;ftag=ft1;foo=bar");
    assert_eq!(out.code, 1);
    assert_eq!(out.ruri.as_deref(), Some("sip:bob@10.0.0.5:5090"));
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9:5099;lr"));
    assert_eq!(out.our_params.as_deref(), Some(";ftag=ft1;foo=bar"));
    assert_eq!(routes, ["Route: <sip:10.0.0.9:5099;lr>"]);
    // Nothing left: the restored URI is the next hop, $du when it is loose.
    let m = bye(
        "sip:127.0.0.2;lr",
        ";tag=tt1",
        &["<sip:127.0.0.2;lr;ftag=ft1>"],
    );
    let (out, routes) = route(&m, "sip:127.0.0.2;lr");
    assert_eq!(out.ruri.as_deref(), Some("sip:127.0.0.2;lr;ftag=ft1"));
    assert_eq!(out.dst_uri.as_deref(), Some("sip:127.0.0.2;lr;ftag=ft1"));
    assert!(routes.is_empty());
}

#[test]
fn strict_next_hop_takes_the_request_uri_which_goes_last() {
    let m = bye(
        "sip:bob@10.0.0.5",
        ";tag=tt1",
        &["<sip:10.0.0.9>", "<sip:10.0.0.8;lr>"],
    );
    let mut ed = MessageEditor::new(&m);
    let out = loose_route(&mut ed, "sip:bob@10.0.0.5", &ours).unwrap();
    assert_eq!(out.code, 1);
    assert_eq!(out.ruri.as_deref(), Some("sip:10.0.0.9"));
    assert_eq!(out.dst_uri, None);
    let text = String::from_utf8(ed.build().unwrap().to_vec()).unwrap();
    assert_eq!(
        text,
        "BYE sip:bob@10.0.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2\r\nRoute: <sip:10.0.0.8;lr>\r\nFrom: <sip:alice@example.com>;tag=ft1\r\nTo: <sip:bob@example.com>;tag=tt1\r\nCall-ID: c2@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\nRoute: <sip:bob@10.0.0.5>\r\n\r\n"
    );
}

#[test]
fn r2_removes_both_of_our_routes_even_in_one_header() {
    let m = bye(
        "sip:bob@10.0.0.5",
        ";tag=tt1",
        &["<sip:127.0.0.2;r2=on;lr;ftag=ft1>,<sip:127.0.0.1:5070;transport=tcp;r2=on;lr;ftag=ft1>, <sip:10.0.0.9;lr>"],
    );
    let (out, routes) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!(out.code, 1);
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9;lr"));
    assert_eq!(routes, ["Route: <sip:10.0.0.9;lr>"]);
    // A removed last element takes its comma with it.
    let m = bye(
        "sip:127.0.0.2;ftag=ft1",
        ";tag=tt1",
        &["<sip:10.0.0.9;lr>, <sip:bob@10.0.0.5:5090>"],
    );
    let (out, routes) = route(&m, "sip:127.0.0.2;ftag=ft1");
    assert_eq!(out.ruri.as_deref(), Some("sip:bob@10.0.0.5:5090"));
    assert_eq!(routes, ["Route: <sip:10.0.0.9;lr>"]);
}

#[test]
fn a_foreign_top_route_is_kept_and_used() {
    let m = bye("sip:bob@10.0.0.5", "", &["<sip:10.0.0.9;lr>"]);
    let (out, routes) = route(&m, "sip:bob@10.0.0.5");
    assert_eq!(out.code, 1);
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9;lr"));
    assert_eq!(out.our_params, None);
    assert_eq!(routes, ["Route: <sip:10.0.0.9;lr>"]);
}

#[test]
fn double_rr_mode_2_always_adds_two() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig {
        enable_double_rr: 2,
        ..RrConfig::default()
    };
    let mut st = RrState::new();
    st.record_route(&msg, "sip:bob@example.com", &cfg, "")
        .unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5060), &udp(5060)),
        [
            "<sip:127.0.0.1;r2=on;lr;ftag=ft1>",
            "<sip:127.0.0.1;r2=on;lr;ftag=ft1>"
        ]
    );
    let mut adv = RrState::new();
    adv.record_route_advertised_address(&msg, "sip:bob@example.com", &cfg, "1.2.3.4:5080")
        .unwrap();
    assert_eq!(
        adv.headers(&cfg, &udp(5060), &udp(5060)),
        [
            "<sip:1.2.3.4:5080;transport=udp;r2=on;ftag=ft1;lr>",
            "<sip:1.2.3.4:5080;transport=udp;r2=on;ftag=ft1;lr>"
        ]
    );
    // TCP in and out on one socket: one header, transport named.
    let one = RrConfig::default();
    assert_eq!(
        st.headers(&one, &tcp(5060), &tcp(5060)),
        ["<sip:127.0.0.1;transport=tcp;lr;ftag=ft1>"]
    );
}

#[test]
fn params_without_semicolon_are_taken_as_written() {
    let msg = invite("sip:bob@example.com");
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.record_route(&msg, "sip:bob@example.com", &cfg, "foo=bar")
        .unwrap();
    st.add_rr_param("n=1").unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:127.0.0.1;lr;ftag=ft1foo=barn=1>"]
    );
}

#[test]
fn record_route_after_loose_route_upstream_keeps_the_callers_tag() {
    // The callee's BYE: From tag tt1, To tag ft1, our Route says ftag=ft1.
    let m = SipMessage::parse_datagram(
        "BYE sip:alice@10.0.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2\r\nRoute: <sip:127.0.0.2;lr;ftag=ft1>\r\nFrom: <sip:bob@example.com>;tag=tt1\r\nTo: <sip:alice@example.com>;tag=ft1\r\nCall-ID: c2@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let mut ed = MessageEditor::new(&m);
    let out = loose_route(&mut ed, "sip:alice@10.0.0.5", &ours).unwrap();
    let cfg = RrConfig::default();
    let mut st = RrState::new();
    st.set_route_params(out.our_params);
    st.record_route(&m, "sip:alice@10.0.0.5", &cfg, "").unwrap();
    assert_eq!(
        st.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:127.0.0.1;lr;ftag=ft1>"]
    );
    // Without loose_route the From tag is used.
    let mut fresh = RrState::new();
    fresh
        .record_route(&m, "sip:alice@10.0.0.5", &cfg, "")
        .unwrap();
    assert_eq!(
        fresh.headers(&cfg, &udp(5060), &udp(5060)),
        ["<sip:127.0.0.1;lr;ftag=tt1>"]
    );
}

#[test]
fn loose_only_mode_leaves_a_request_uri_of_ours_alone() {
    let m = bye(
        "sip:127.0.0.2;lr",
        ";tag=tt1",
        &["<sip:127.0.0.2;lr;ftag=ft1>", "<sip:10.0.0.9:5099;lr>"],
    );
    let mut ed = MessageEditor::new(&m);
    let out = loose_route_mode(&mut ed, "sip:127.0.0.2;lr", &ours, true).unwrap();
    assert_eq!((out.code, out.ruri), (1, None));
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9:5099;lr"));
    assert!(out.next_hop_from_route);
    let m = bye(
        "sip:127.0.0.2;ftag=ft1",
        ";tag=tt1",
        &["<sip:10.0.0.9:5099;lr>", "<sip:bob@10.0.0.5:5090>"],
    );
    let mut ed = MessageEditor::new(&m);
    let out = loose_route_mode(&mut ed, "sip:127.0.0.2;ftag=ft1", &ours, true).unwrap();
    assert_eq!((out.code, out.ruri), (1, None));
    assert_eq!(out.dst_uri.as_deref(), Some("sip:10.0.0.9:5099;lr"));
    assert!(!out.next_hop_from_route);
}

#[test]
fn next_hop_from_route_only_after_our_route_with_more_behind_it() {
    let cases: [(&str, &[&str], bool); 5] = [
        (
            "sip:bob@10.0.0.5",
            &["<sip:127.0.0.2;lr;ftag=ft1>", "<sip:10.0.0.9:5099;lr>"],
            true,
        ),
        ("sip:bob@10.0.0.5", &["<sip:127.0.0.2;lr;ftag=ft1>"], false),
        ("sip:bob@10.0.0.5", &["<sip:10.0.0.9;lr>"], false),
        (
            "sip:127.0.0.2;ftag=ft1",
            &["<sip:bob@10.0.0.5:5090>"],
            false,
        ),
        (
            "sip:bob@10.0.0.5",
            &["<sip:127.0.0.2;lr;ftag=ft1>", "<sip:10.0.0.9>"],
            true,
        ),
    ];
    for (ruri, routes, expected) in cases {
        let m = bye(ruri, ";tag=tt1", routes);
        let (out, _) = route(&m, ruri);
        assert_eq!(out.next_hop_from_route, expected, "{ruri} {routes:?}");
    }
}
