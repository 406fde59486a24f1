//! The per-call CPU cost of the stateful proxy without sockets: the
//! benchmark's `cfg/stateful.cfg` route (maxfwd, `record_route()`,
//! `loose_route()`, `t_relay()`, `failure_route`) over the flow of its
//! `stateful` scenario — INVITE, 180, 200, ACK, BYE, 200 — through
//! [`EngineHandler`] and the transaction tables, with the timer task's
//! work (`next_timeout`, `on_timer`) every 50 ms of a simulated clock.
//!
//! `--registrar` runs the benchmark's `cfg/registrar.cfg` instead: each
//! call first REGISTERs a new user (`save("location")`, as `reg_users.xml`
//! does), then calls that user through `lookup("location")` and `t_relay()`.
//!
//! `cargo run --release -p sercompat --example stateful_hotpath [--registrar] [CALLS] [CPS]`
//!
//! The clock advances by 1/CPS (default 500) per call, so transactions
//! end at their wait timer and the table holds as many cells as the
//! benchmark's proxy does at that rate (after a warm-up of 6 s of calls).
//! Instructions per call, the test harness's own work (building the
//! messages) left out: `scripts/stateful-instructions.sh`, which runs
//! callgrind on two call counts and divides the difference.

use bytes::Bytes;
use sercompat::engine::{
    registrar_from_params, Engine, EngineConfig, MemoryLogger, Myself, Transactions,
};
use sercompat::net::server::LocalSocket;
use sercompat::net::{Handler, Outgoing, Received, Transport};
use sercompat::serve::{self, next_timer_wake, EngineHandler};
use sercompat::sip::{Limits, SipMessage, TransportKind};
use sercompat_compiler::ir::lower;
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Options};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The benchmark's `cfg/stateful.cfg`, route blocks as they are.
const CONFIG: &str = r#"#!KAMAILIO
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (msg:len >= 8192) {
		sl_send_reply("513", "Message Too Big");
		exit;
	}
	if (loose_route()) {
		if (!t_relay()) {
			sl_reply_error();
		}
		exit;
	}
	if (method=="INVITE") {
		record_route();
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
}
"#;

/// The benchmark's `cfg/registrar.cfg`, route block as it is.
const REGISTRAR_CONFIG: &str = r#"#!KAMAILIO
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"

modparam("usrloc", "db_mode", 0)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}

	if (loose_route()) {
		if (!t_relay()) {
			sl_reply_error();
		}
		exit;
	}

	if (method=="REGISTER") {
		if (!save("location")) {
			sl_reply_error();
		}
		exit;
	}

	if (method=="INVITE") {
		record_route();
	}

	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}

	if (!t_relay()) {
		sl_reply_error();
	}
	exit;
}
"#;

/// Which of the benchmark's configs and flows runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Stateful,
    Registrar,
}

const UAC: &str = "127.0.0.1:5090";
const UAS: &str = "127.0.0.1:5070";
const SDP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// The proxy with its clock, sockets and the timer task's state.
struct Proxy {
    handler: EngineHandler,
    tms: Arc<Transactions>,
    socket: Arc<LocalSocket>,
    limits: Limits,
    now: Arc<Mutex<Instant>>,
    next_timer_run: Instant,
    /// When the timer thread started (its grid's origin).
    start: Instant,
}

impl Proxy {
    fn new(scenario: Scenario) -> Proxy {
        let config = match scenario {
            Scenario::Stateful => CONFIG,
            Scenario::Registrar => REGISTRAR_CONFIG,
        };
        let parsed = parse_text(
            "stateful.cfg",
            config.to_string(),
            Path::new("stateful.cfg"),
            &Options::default(),
            &NoFiles,
            &|_| None,
        );
        assert!(!parsed.has_errors());
        let (program, _) = lower(&parsed);
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let tms = Arc::new(Transactions::new(serve::tm_config(&program), 1));
        let location = registrar_from_params(&program).expect("usrloc parameters");
        let start = Instant::now();
        let now = Arc::new(Mutex::new(start));
        let clock = now.clone();
        let engine = Engine::new(
            Arc::new(program),
            EngineConfig {
                myself: vec![Myself::new("127.0.0.1", Some(5060))],
                sockets: vec![(sercompat::engine::Proto::Udp, local)],
                logger: Arc::new(MemoryLogger::new()),
                tm: Some(tms.clone()),
                monotonic: Arc::new(move || *clock.lock().unwrap()),
                registrar: location.registrar,
                ..EngineConfig::default()
            },
        )
        .expect("engine");
        Proxy {
            handler: EngineHandler::new(engine, 1, vec![local]),
            tms,
            socket: Arc::new(LocalSocket {
                transport: Transport::Udp,
                addr: local,
                advertise: None,
                name: None,
            }),
            limits: Limits::default(),
            now,
            next_timer_run: start,
            start,
        }
    }

    fn receive(&self, text: String, from: &str) -> Vec<Outgoing> {
        self.deliver(Bytes::from(text), from.parse().unwrap())
    }

    /// One datagram, parsed and checked as the transport does before the
    /// handler runs: the proxy's work per message (callgrind counts it).
    #[inline(never)]
    fn deliver(&self, datagram: Bytes, source: SocketAddr) -> Vec<Outgoing> {
        let msg =
            SipMessage::parse(datagram, TransportKind::Datagram, &self.limits).expect("parses");
        msg.validate_core().expect("valid");
        self.handler.handle(Received {
            msg,
            source,
            local: self.socket.clone(),
            transport: Transport::Udp,
            conn: None,
        })
    }

    /// One wake-up of `serve::run_timers`: the due timers, then when to
    /// wake next (callgrind counts it).
    #[inline(never)]
    fn timer_task(&self, at: Instant) -> (usize, Instant) {
        let sent = self.handler.on_timer().len();
        (
            sent,
            next_timer_wake(self.start, at, self.tms.next_timeout()),
        )
    }

    /// Moves the clock and does what the timer task would have done by
    /// then: it wakes at the earliest deadline, at most a tick apart.
    fn advance(&mut self, by: Duration) -> usize {
        let target = *self.now.lock().unwrap() + by;
        let mut sent = 0;
        while self.next_timer_run <= target {
            *self.now.lock().unwrap() = self.next_timer_run;
            let (n, wake) = self.timer_task(self.next_timer_run);
            sent += n;
            self.next_timer_run = wake.max(self.next_timer_run + Duration::from_millis(1));
        }
        *self.now.lock().unwrap() = target;
        sent
    }
}

/// The one message of `out` (the proxy sends exactly one per input here).
fn only(out: Vec<Outgoing>, what: &str) -> String {
    assert_eq!(out.len(), 1, "{what}: {out:?}");
    String::from_utf8(out[0].data.to_vec()).unwrap()
}

/// The header lines of `msg` named `name` (as written, with CRLF).
fn lines(msg: &str, name: &str) -> String {
    msg.split("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .map(|l| format!("{l}\r\n"))
        .collect()
}

/// A reply of the UAS to the request the proxy forwarded to it.
fn reply(forwarded: &str, status: &str, to_tag: &str, record_route: bool) -> String {
    let to = lines(forwarded, "To").trim_end().to_string();
    let to = if to.contains(";tag=") {
        to
    } else {
        format!("{to};tag={to_tag}")
    };
    let rr = if record_route {
        lines(forwarded, "Record-Route")
    } else {
        String::new()
    };
    format!(
        "SIP/2.0 {status}\r\n{}{}{to}\r\n{}{}{rr}Contact: <sip:{UAS};transport=UDP>\r\nContent-Length: 0\r\n\r\n",
        lines(forwarded, "Via"),
        lines(forwarded, "From"),
        lines(forwarded, "Call-ID"),
        lines(forwarded, "CSeq"),
    )
}

/// An in-dialog request of the UAC along the Record-Route set.
fn in_dialog(
    method: &str,
    (call, user): (u64, &str),
    cseq: u32,
    route: &str,
    to_tag: &str,
) -> String {
    format!(
        "{method} sip:{user}@{UAS};transport=UDP SIP/2.0\r\n\
Via: SIP/2.0/UDP {UAC};branch=z9hG4bK-1-{call}-{cseq}\r\n\
From: sipp <sip:sipp@{UAC}>;tag=1SIPpTag{call}\r\n\
To: {user} <sip:{user}@127.0.0.1:5060>;tag={to_tag}\r\n\
Call-ID: {call}-1@127.0.0.1\r\n\
CSeq: {cseq} {method}\r\n\
Contact: sip:sipp@{UAC}\r\n\
Max-Forwards: 70\r\n\
{route}\
Subject: Performance Test\r\n\
Content-Length: 0\r\n\r\n"
    )
}

/// A REGISTER of `user` with its Contact at the UAS, as `reg_users.xml`
/// sends it; returns the bytes of the proxy's reply.
fn register(proxy: &Proxy, n: u64, user: &str) -> usize {
    let register = format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP {UAC};branch=z9hG4bK-r-{n}-0\r\n\
From: <sip:{user}@127.0.0.1:5060>;tag=1SIPpTag00{n}\r\n\
To: <sip:{user}@127.0.0.1:5060>\r\n\
Call-ID: {n}-reg@127.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:{user}@{UAS}>\r\n\
Expires: 3600\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
    );
    let ok = only(proxy.receive(register, UAC), "REGISTER");
    assert!(ok.starts_with("SIP/2.0 200 "), "REGISTER: {ok}");
    ok.len()
}

/// One call of the `stateful` scenario (to `service`), or of the
/// `registrar` one (a REGISTER of a new user, then a call to it); returns
/// the bytes the proxy sent.
fn call(proxy: &Proxy, scenario: Scenario, n: u64) -> usize {
    let mut bytes = 0;
    let user = match scenario {
        Scenario::Stateful => "service".to_string(),
        Scenario::Registrar => {
            let user = format!("user{n}");
            bytes += register(proxy, n, &user);
            user
        }
    };
    let invite = format!(
        "INVITE sip:{user}@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP {UAC};branch=z9hG4bK-1-{n}-0\r\n\
From: sipp <sip:sipp@{UAC}>;tag=1SIPpTag{n}\r\n\
To: {user} <sip:{user}@127.0.0.1:5060>\r\n\
Call-ID: {n}-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@{UAC}\r\n\
Max-Forwards: 70\r\n\
Subject: Performance Test\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    let to_tag = format!("2SIPpTag{n}");
    let out = proxy.receive(invite, UAC);
    // The 100 Trying upstream and the INVITE downstream.
    assert_eq!(out.len(), 2, "INVITE: {out:?}");
    bytes += out.iter().map(|o| o.data.len()).sum::<usize>();
    let downstream = out
        .iter()
        .find(|o| o.dest.to_string() == UAS)
        .expect("the INVITE goes to the UAS");
    let forwarded = String::from_utf8(downstream.data.to_vec()).unwrap();
    let ringing = only(
        proxy.receive(reply(&forwarded, "180 Ringing", &to_tag, true), UAS),
        "180",
    );
    let ok = only(
        proxy.receive(reply(&forwarded, "200 OK", &to_tag, true), UAS),
        "200",
    );
    bytes += ringing.len() + ok.len();
    // The UAC's route set: the Record-Route of the 200, one line per entry.
    let route = lines(&ok, "Record-Route").replace("Record-Route:", "Route:");
    bytes += only(
        proxy.receive(in_dialog("ACK", (n, &user), 1, &route, &to_tag), UAC),
        "ACK",
    )
    .len();
    let bye = only(
        proxy.receive(in_dialog("BYE", (n, &user), 2, &route, &to_tag), UAC),
        "BYE",
    );
    let done = only(
        proxy.receive(reply(&bye, "200 OK", &to_tag, false), UAS),
        "200 BYE",
    );
    bytes + bye.len() + done.len()
}

fn run_calls(
    proxy: &mut Proxy,
    scenario: Scenario,
    first: u64,
    calls: u64,
    step: Duration,
) -> usize {
    let mut bytes = 0;
    for n in first..first + calls {
        bytes += call(proxy, scenario, n);
        bytes += proxy.advance(step);
    }
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let scenario = if args.next_if(|a| a == "--registrar").is_some() {
        Scenario::Registrar
    } else {
        Scenario::Stateful
    };
    let calls: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let cps: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let step = Duration::from_secs(1) / u32::try_from(cps.max(1)).unwrap_or(u32::MAX);
    let mut proxy = Proxy::new(scenario);
    // Warm-up: as many calls as the wait timer keeps alive, so the
    // measured ones run against a table in its steady state.
    let warm = cps * 6;
    run_calls(&mut proxy, scenario, 0, warm, step);
    let start = Instant::now();
    let bytes = run_calls(&mut proxy, scenario, warm, calls, step);
    let us = start.elapsed().as_secs_f64() * 1e6 / calls as f64;
    println!(
        "{calls} calls: {us:.1} µs per call (6 messages in, 7 out), {bytes} bytes out, \
{} transactions alive, RSS {} KiB",
        proxy.tms.script_count(),
        rss_kib()
    );
}

/// Resident set size from `/proc/self/statm` (0 where there is none):
/// with the table in its steady state, most of it is the live cells.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}
