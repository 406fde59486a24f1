//! tm in the interpreter, without sockets and on an injected clock:
//! `t_relay` creates the transaction and its branch, replies come back
//! through it (hop-by-hop ACK, relay upstream), the failure route forks
//! serially or answers, timers answer an unanswered INVITE, and
//! retransmissions are absorbed.

mod engine_support;

use engine_support::parsed_in;
use sercompat::engine::{
    Engine, EngineConfig, IdGen, MemoryLogger, Output, Proto, RecvInfo, Transactions,
};
use sercompat::serve::tm_config;
use sercompat::sip::SipMessage;
use sercompat_compiler::ir::{lower, Program};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "maxfwd.so"
request_route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    rewritehostport("127.0.0.1:5070");
    t_on_failure("1");
    if (!t_relay()) {
        sl_reply_error();
    }
    exit;
}
failure_route[1] {
    if (t_check_status("408")) {
        t_reply("504", "Server Time-out");
        exit;
    }
    if (t_check_status("486")) {
        rewritehostport("127.0.0.1:5071");
        t_relay();
        exit;
    }
}
"#;

struct FixedIds;

impl IdGen for FixedIds {
    fn branch(&self, _: &SipMessage) -> String {
        "z9hG4bKstateless".into()
    }
    fn to_tag(&self, _: &SipMessage) -> String {
        "totag1".into()
    }
}

fn program(src: &str) -> Arc<Program> {
    Arc::new(lower(&parsed_in(src, None)).0)
}

struct Harness {
    engine: Engine,
    clock: Arc<Mutex<Instant>>,
}

impl Harness {
    fn new(src: &str) -> Harness {
        let prog = program(src);
        let clock = Arc::new(Mutex::new(Instant::now()));
        let c = clock.clone();
        let config = EngineConfig {
            ids: Arc::new(FixedIds),
            logger: Arc::new(MemoryLogger::new()),
            tm: Some(Arc::new(Transactions::new(tm_config(&prog), 2))),
            sockets: vec![
                (Proto::Udp, "127.0.0.1:5060".parse().unwrap()),
                (Proto::Udp, "127.0.0.2:5060".parse().unwrap()),
            ],
            monotonic: Arc::new(move || *c.lock().unwrap()),
            ..EngineConfig::default()
        };
        Harness {
            engine: Engine::new(prog, config).unwrap_or_else(|e| panic!("{e}")),
            clock,
        }
    }

    fn advance(&self, d: Duration) {
        *self.clock.lock().unwrap() += d;
    }
}

const CALLER: &str = "192.0.2.10:5062";

fn from_caller() -> RecvInfo {
    RecvInfo {
        src: CALLER.parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn from_callee(port: u16) -> RecvInfo {
    RecvInfo {
        src: format!("127.0.0.1:{port}").parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn invite() -> SipMessage {
    SipMessage::parse_datagram(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKcaller1\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
         Call-ID: tm-engine-1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@192.0.2.10:5062>\r\n\
         Content-Length: 0\r\n\r\n"
            .as_bytes()
            .to_vec(),
    )
    .unwrap()
}

/// The status line and where each output goes, for exact comparison.
fn summary(out: &[Output]) -> Vec<String> {
    out.iter()
        .map(|o| match o {
            Output::Reply { bytes, to, .. } => {
                let text = String::from_utf8_lossy(bytes);
                format!("reply {} -> {to}", text.lines().next().unwrap_or(""))
            }
            Output::Forward { bytes, to, .. } => {
                let text = String::from_utf8_lossy(bytes);
                format!("forward {} -> {to}", text.lines().next().unwrap_or(""))
            }
        })
        .collect()
}

fn forwarded(out: &[Output]) -> Vec<SipMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Forward { bytes, .. } => {
                Some(SipMessage::parse_datagram(bytes.clone()).unwrap())
            }
            _ => None,
        })
        .collect()
}

/// A downstream reply to `request` (every Via copied back, a To tag).
fn answer(request: &SipMessage, code: u16, reason: &str) -> SipMessage {
    let text = String::from_utf8_lossy(request.as_bytes()).into_owned();
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("via:")
            || lower.starts_with("from:")
            || lower.starts_with("call-id:")
            || lower.starts_with("cseq:")
        {
            out.push_str(line);
            out.push_str("\r\n");
        } else if lower.starts_with("to:") {
            out.push_str(line);
            out.push_str(";tag=callee\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    SipMessage::parse_datagram(out.into_bytes()).unwrap()
}

#[test]
fn t_relay_sends_100_and_the_branch_and_relays_the_final_reply() {
    let mut h = Harness::new(CONFIG);
    let out = h.engine.on_request(&invite(), from_caller());
    assert_eq!(
        summary(&out),
        [
            format!("reply SIP/2.0 100 trying -- your call is important to us -> {CALLER}"),
            "forward INVITE sip:bob@127.0.0.1:5070 SIP/2.0 -> udp:127.0.0.1:5070".to_string(),
        ]
    );
    let branch = &forwarded(&out)[0];
    let via = branch.top_via().unwrap().unwrap();
    assert!(
        via.branch().unwrap().to_string().starts_with("z9hG4bKsc."),
        "{via:?}"
    );
    assert_eq!(
        branch.vias().unwrap().len(),
        2,
        "our Via on top of the caller's"
    );

    // The 200 goes upstream without our Via.
    let ok = answer(branch, 200, "OK");
    let out = h.engine.on_tm_reply(&ok, from_callee(5070)).expect("ours");
    assert_eq!(summary(&out), [format!("reply SIP/2.0 200 OK -> {CALLER}")]);
    let Output::Reply { bytes, .. } = &out[0] else {
        unreachable!()
    };
    let relayed = SipMessage::parse_datagram(bytes.clone()).unwrap();
    assert_eq!(relayed.vias().unwrap().len(), 1);

    // A reply to nothing of ours is left to stateless forwarding.
    let stray = answer(&invite(), 200, "OK");
    assert!(h.engine.on_tm_reply(&stray, from_callee(5070)).is_none());
}

#[test]
fn a_retransmitted_invite_is_absorbed_and_gets_the_last_reply_again() {
    let mut h = Harness::new(CONFIG);
    h.engine.on_request(&invite(), from_caller());
    let out = h.engine.on_request(&invite(), from_caller());
    assert_eq!(
        summary(&out),
        [format!(
            "reply SIP/2.0 100 trying -- your call is important to us -> {CALLER}"
        )]
    );
}

/// INVITE to 5070, a 486 from there: the hop-by-hop ACK goes back and
/// the failure route relays a new branch to 5071. Returns what was sent.
fn fork_after_486(h: &mut Harness) -> Vec<Output> {
    let out = h.engine.on_request(&invite(), from_caller());
    let first = forwarded(&out).remove(0);
    let busy = answer(&first, 486, "Busy Here");
    let out = h
        .engine
        .on_tm_reply(&busy, from_callee(5070))
        .expect("ours");
    assert_eq!(
        summary(&out),
        [
            "forward ACK sip:bob@127.0.0.1:5070 SIP/2.0 -> udp:127.0.0.1:5070".to_string(),
            "forward INVITE sip:bob@127.0.0.1:5071 SIP/2.0 -> udp:127.0.0.1:5071".to_string(),
        ]
    );
    out
}

#[test]
fn the_failure_route_forks_serially_after_a_486() {
    let mut h = Harness::new(CONFIG);
    let out = fork_after_486(&mut h);
    let second = forwarded(&out).remove(1);
    let ok = answer(&second, 200, "OK");
    let out = h.engine.on_tm_reply(&ok, from_callee(5071)).expect("ours");
    assert_eq!(summary(&out), [format!("reply SIP/2.0 200 OK -> {CALLER}")]);
}

#[test]
fn an_unanswered_invite_times_out_into_the_failure_route() {
    let mut h = Harness::new(CONFIG);
    h.engine.on_request(&invite(), from_caller());
    // Timer A retransmits the INVITE at T1.
    h.advance(Duration::from_millis(500));
    let out = h.engine.on_timer();
    assert_eq!(
        summary(&out),
        ["forward INVITE sip:bob@127.0.0.1:5070 SIP/2.0 -> udp:127.0.0.1:5070"]
    );
    // fr_timer (30 s by default): a local 408, the failure route answers 504.
    h.advance(Duration::from_secs(30));
    let out = h.engine.on_timer();
    let replies: Vec<String> = summary(&out)
        .into_iter()
        .filter(|s| s.starts_with("reply"))
        .collect();
    assert_eq!(
        replies,
        [format!("reply SIP/2.0 504 Server Time-out -> {CALLER}")]
    );
}

#[test]
fn tm_timers_follow_the_era_units() {
    // Kamailio 1.x: fr_timer in seconds; 3.0+: milliseconds.
    let old =
        program("loadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 10)\nroute { t_relay(); }\n");
    assert_eq!(tm_config(&old).timers.fr, Duration::from_secs(10));
    let new = program(
        "#!KAMAILIO\nloadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 10000)\nrequest_route { t_relay(); }\n",
    );
    assert_eq!(tm_config(&new).timers.fr, Duration::from_secs(10));
}

#[test]
fn finished_transactions_are_freed_after_the_wait_timer() {
    let mut h = Harness::new(CONFIG);
    let tms = h.engine.config().tm.clone().unwrap();
    for i in 0..50 {
        let text = String::from_utf8_lossy(invite().as_bytes())
            .replace("Call-ID: tm-engine-1", &format!("Call-ID: free-{i}"))
            .replace("z9hG4bKcaller1", &format!("z9hG4bKfree{i}"));
        let inv = SipMessage::parse_datagram(text.into_bytes()).unwrap();
        let out = h.engine.on_request(&inv, from_caller());
        assert_eq!(forwarded(&out).len(), 1, "{i}: {:?}", summary(&out));
        let branch = forwarded(&out).remove(0);
        h.engine
            .on_tm_reply(&answer(&branch, 200, "OK"), from_callee(5070))
            .expect("ours");
    }
    let live = |tms: &Transactions| {
        (0..tms.shard_count())
            .map(|s| tms.lock(s).len())
            .sum::<usize>()
    };
    assert_eq!(live(&tms), 50);
    // 2xx: the INVITE server transaction lingers 64*T1 (RFC 6026), then
    // everything is gone.
    for _ in 0..70 {
        h.advance(Duration::from_secs(1));
        h.engine.on_timer();
    }
    assert_eq!(live(&tms), 0, "cells left behind");
    assert_eq!(tms.script_count(), 0, "script state left behind");
}

/// SER 0.8: `t_on_negative("1")` arms `reply_route[1]`, the era's failure
/// route (the IR records it as one).
const SER08_CONFIG: &str = r#"
loadmodule "tm.so"
route {
    rewritehostport("127.0.0.1:5070");
    t_on_negative("1");
    t_relay();
}
reply_route[1] {
    rewritehostport("127.0.0.1:5071");
    t_relay();
}
"#;

#[test]
fn ser_0_8_t_on_negative_runs_the_reply_route_as_a_failure_route() {
    let mut h = Harness::new(SER08_CONFIG);
    fork_after_486(&mut h);
}

const PARALLEL: &str = r#"#!KAMAILIO
loadmodule "tm.so"
loadmodule "textops.so"
request_route {
    rewritehostport("127.0.0.1:5070");
    append_branch("sip:carol@127.0.0.1:5071");
    t_on_branch("TAG");
    t_relay();
    exit;
}
branch_route[TAG] {
    append_hf("X-Branch: $ru\r\n");
}
"#;

fn header(msg: &SipMessage, name: &str) -> Option<String> {
    String::from_utf8_lossy(msg.as_bytes())
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

#[test]
fn t_relay_forks_in_parallel_to_the_request_uri_and_every_appended_branch() {
    let mut h = Harness::new(PARALLEL);
    let out = h.engine.on_request(&invite(), from_caller());
    assert_eq!(
        summary(&out),
        [
            format!("reply SIP/2.0 100 trying -- your call is important to us -> {CALLER}"),
            "forward INVITE sip:bob@127.0.0.1:5070 SIP/2.0 -> udp:127.0.0.1:5070".to_string(),
            "forward INVITE sip:carol@127.0.0.1:5071 SIP/2.0 -> udp:127.0.0.1:5071".to_string(),
        ]
    );
    let branches = forwarded(&out);
    // The branch route ran once per branch, on that branch's URI.
    assert_eq!(
        header(&branches[0], "X-Branch").as_deref(),
        Some("sip:bob@127.0.0.1:5070")
    );
    assert_eq!(
        header(&branches[1], "X-Branch").as_deref(),
        Some("sip:carol@127.0.0.1:5071")
    );
    let b0 = branches[0]
        .top_via()
        .unwrap()
        .unwrap()
        .branch()
        .unwrap()
        .to_string();
    let b1 = branches[1]
        .top_via()
        .unwrap()
        .unwrap()
        .branch()
        .unwrap()
        .to_string();
    assert_ne!(b0, b1, "each branch has its own Via branch");

    // Both ring; the second answers: the 200 goes up and the first
    // branch, still ringing, is canceled.
    let ringing = answer(&branches[0], 180, "Ringing");
    let out = h
        .engine
        .on_tm_reply(&ringing, from_callee(5070))
        .expect("ours");
    assert_eq!(
        summary(&out),
        [format!("reply SIP/2.0 180 Ringing -> {CALLER}")]
    );
    let ok = answer(&branches[1], 200, "OK");
    let out = h.engine.on_tm_reply(&ok, from_callee(5071)).expect("ours");
    let mut got = summary(&out);
    got.sort();
    assert_eq!(
        got,
        [
            "forward CANCEL sip:bob@127.0.0.1:5070 SIP/2.0 -> udp:127.0.0.1:5070".to_string(),
            format!("reply SIP/2.0 200 OK -> {CALLER}"),
        ]
    );
}

#[test]
fn the_best_of_the_parallel_branches_goes_upstream() {
    let mut h = Harness::new(PARALLEL);
    let branches = forwarded(&h.engine.on_request(&invite(), from_caller()));
    let out = h
        .engine
        .on_tm_reply(&answer(&branches[0], 503, "Unavailable"), from_callee(5070))
        .expect("ours");
    assert!(
        summary(&out).iter().all(|s| s.starts_with("forward ACK")),
        "nothing upstream while a branch is pending: {out:?}"
    );
    let out = h
        .engine
        .on_tm_reply(&answer(&branches[1], 486, "Busy Here"), from_callee(5071))
        .expect("ours");
    let replies: Vec<String> = summary(&out)
        .into_iter()
        .filter(|s| s.starts_with("reply"))
        .collect();
    assert_eq!(
        replies,
        [format!("reply SIP/2.0 486 Busy Here -> {CALLER}")]
    );
}

#[test]
fn a_tm_branch_leaves_from_the_forced_send_socket() {
    let mut h = Harness::new(
        "#!KAMAILIO\nloadmodule \"tm.so\"\nrequest_route {\n    force_send_socket(udp:127.0.0.2:5060);\n    t_relay_to_udp(\"127.0.0.1\", \"5070\");\n}\n",
    );
    let out = h.engine.on_request(&invite(), from_caller());
    let from: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Forward { from, .. } => Some(*from),
            _ => None,
        })
        .collect();
    assert_eq!(from, [Some("127.0.0.2:5060".parse().unwrap())]);
    let branch = &forwarded(&out)[0];
    assert!(
        header(branch, "Via")
            .unwrap()
            .starts_with("SIP/2.0/UDP 127.0.0.2:5060;branch="),
        "{branch:?}"
    );
}

/// A 404 on the first branch, a failure route forking to 5071, a 503
/// there: the reply upstream depends on `failure_reply_mode`.
fn reply_after_two_steps(mode: Option<u8>) -> String {
    let param = mode
        .map(|m| format!("modparam(\"tm\", \"failure_reply_mode\", {m})\n"))
        .unwrap_or_default();
    let mut h = Harness::new(&format!(
        "#!KAMAILIO\nloadmodule \"tm.so\"\n{param}request_route {{\n    rewritehostport(\"127.0.0.1:5070\");\n    t_on_failure(\"NEXT\");\n    t_relay();\n}}\nfailure_route[NEXT] {{\n    if (t_check_status(\"404\")) {{\n        rewritehostport(\"127.0.0.1:5071\");\n        t_relay();\n    }}\n}}\n"
    ));
    let first = forwarded(&h.engine.on_request(&invite(), from_caller())).remove(0);
    let out = h
        .engine
        .on_tm_reply(&answer(&first, 404, "Not Found"), from_callee(5070))
        .expect("ours");
    let second = forwarded(&out)
        .into_iter()
        .find(|m| {
            m.method()
                .is_some_and(|m| m == sercompat::sip::Method::Invite)
        })
        .expect("the failure route forked");
    let out = h
        .engine
        .on_tm_reply(&answer(&second, 503, "Unavailable"), from_callee(5071))
        .expect("ours");
    summary(&out)
        .into_iter()
        .find(|s| s.starts_with("reply"))
        .expect("a final reply upstream")
}

#[test]
fn failure_reply_mode_decides_whether_earlier_steps_replies_still_count() {
    let kept = format!("reply SIP/2.0 404 Not Found -> {CALLER}");
    let dropped = format!("reply SIP/2.0 500 Service Unavailable -> {CALLER}");
    assert_eq!(reply_after_two_steps(Some(0)), kept);
    assert_eq!(
        reply_after_two_steps(Some(1)),
        dropped,
        "503 is relayed as 500"
    );
    assert_eq!(reply_after_two_steps(Some(2)), kept);
    assert_eq!(reply_after_two_steps(Some(3)), kept);
    // Kamailio 4.3+ defaults to 3.
    assert_eq!(reply_after_two_steps(None), kept);
}

#[test]
fn the_failure_route_reads_the_winning_reply_through_tmx() {
    let mut h = Harness::new(
        "#!KAMAILIO\nloadmodule \"tm.so\"\nloadmodule \"tmx.so\"\nrequest_route {\n    rewritehostport(\"127.0.0.1:5070\");\n    t_on_failure(\"WHY\");\n    t_relay();\n}\nfailure_route[WHY] {\n    if (t_is_failure_route()) {\n        t_reply(\"500\", \"was $T_reply_code $T_reply_reason\");\n    }\n}\n",
    );
    let first = forwarded(&h.engine.on_request(&invite(), from_caller())).remove(0);
    let out = h
        .engine
        .on_tm_reply(&answer(&first, 486, "Busy Here"), from_callee(5070))
        .expect("ours");
    let replies: Vec<String> = summary(&out)
        .into_iter()
        .filter(|s| s.starts_with("reply"))
        .collect();
    assert_eq!(
        replies,
        [format!("reply SIP/2.0 500 was 486 Busy Here -> {CALLER}")]
    );
}
