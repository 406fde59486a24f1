//! Scenario tests of the transaction layer (`sercompat::tm`): a proxy
//! between one caller (`uac`) and downstream UASes (`b1`, `b2`), driven by a
//! fake clock, every transmission checked by time and first line.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sercompat::sip::{LocalReply, MessageEditor, Method, SipMessage};
use sercompat::tm::{
    shard_for_request, shard_for_response, CellId, ClientState, Event, Hop, Outgoing,
    RequestOutcome, ResponseOutcome, ServerState, Table, TmConfig, TmError, UnrepliedCancel,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Peer {
    name: &'static str,
    reliable: bool,
}

impl Hop for Peer {
    fn is_reliable(&self) -> bool {
        self.reliable
    }
}

const UAC: Peer = Peer {
    name: "uac",
    reliable: false,
};
const B1: Peer = Peer {
    name: "b1",
    reliable: false,
};
const B2: Peer = Peer {
    name: "b2",
    reliable: false,
};
const VIA: &str = "SIP/2.0/UDP 192.0.2.1:5060";
/// Kamailio's automatic 100.
const TRYING: &str = "SIP/2.0 100 trying -- your call is important to us";

/// One thing the proxy sent: when (ms from the start), to whom, what.
#[derive(Debug, Clone)]
struct Sent {
    at: u64,
    to: &'static str,
    msg: SipMessage,
}

impl Sent {
    fn first_line(&self) -> String {
        self.msg.start_line().to_string()
    }
    fn brief(&self) -> (u64, &'static str, String) {
        (self.at, self.to, self.first_line())
    }
}

struct Proxy {
    table: Table<Peer>,
    t0: Instant,
    now: u64,
}

impl Proxy {
    fn new() -> Self {
        Self::with(TmConfig::default())
    }

    fn with(config: TmConfig) -> Self {
        Proxy {
            table: Table::new(config),
            t0: Instant::now(),
            now: 0,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Moves the clock to `ms`, running every timer due on the way.
    fn advance(&mut self, ms: u64) -> Vec<Sent> {
        let mut sent = Vec::new();
        while let Some(at) = self.table.poll_timeout() {
            if at > self.at(ms) {
                break;
            }
            self.now = (at - self.t0).as_millis() as u64;
            self.table.handle_timeout(at).unwrap();
            sent.extend(self.drain());
        }
        self.now = ms;
        sent
    }

    fn drain(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        while let Some(t) = self.table.poll_transmit() {
            out.push(Sent {
                at: self.now,
                to: t.to.name,
                msg: SipMessage::parse_datagram(t.bytes).unwrap(),
            });
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.table.poll_event()).collect()
    }

    fn request(&mut self, msg: &SipMessage) -> RequestOutcome {
        let now = self.at(self.now);
        self.table.handle_request(msg, now).unwrap()
    }

    fn response(&mut self, msg: &SipMessage) -> ResponseOutcome {
        let now = self.at(self.now);
        self.table.handle_response(msg, now).unwrap()
    }

    fn create(&mut self, msg: &SipMessage) -> CellId {
        let now = self.at(self.now);
        self.table.create(msg, UAC, now).unwrap()
    }

    fn forward(&mut self, cell: CellId, req: &SipMessage, uri: &str, hop: Peer) -> usize {
        let now = self.at(self.now);
        self.table
            .forward(cell, outgoing(req, uri, hop), now)
            .unwrap()
    }
}

fn outgoing(req: &SipMessage, uri: &str, hop: Peer) -> Outgoing<Peer> {
    let mut ed = MessageEditor::new(req);
    ed.set_request_uri(uri).unwrap();
    Outgoing {
        request: SipMessage::parse_datagram(ed.build().unwrap()).unwrap(),
        hop,
        via: VIA.to_string(),
    }
}

fn parse(text: &str) -> SipMessage {
    SipMessage::parse_datagram(Bytes::from(text.replace('\n', "\r\n"))).unwrap()
}

fn request(method: &str, branch: &str, cseq_method: &str, to_tag: Option<&str>) -> SipMessage {
    let to = match to_tag {
        Some(t) => format!("Bob <sip:bob@example.com>;tag={t}"),
        None => "Bob <sip:bob@example.com>".to_string(),
    };
    parse(&format!(
        "{method} sip:bob@example.com SIP/2.0\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch={branch}\n\
Max-Forwards: 70\n\
From: Alice <sip:alice@example.com>;tag=a1\n\
To: {to}\n\
Call-ID: call-1@10.0.0.1\n\
CSeq: 1 {cseq_method}\n\
Contact: <sip:alice@10.0.0.1>\n\
Content-Length: 0\n\n"
    ))
}

fn invite() -> SipMessage {
    request("INVITE", "z9hG4bKuac1", "INVITE", None)
}

fn cancel() -> SipMessage {
    request("CANCEL", "z9hG4bKuac1", "CANCEL", None)
}

/// What a downstream UAS answers to `sent`.
fn answer(sent: &Sent, code: u16, tag: &str) -> SipMessage {
    let bytes = LocalReply::new(code, "Reason")
        .to_tag(tag)
        .build(&sent.msg)
        .unwrap();
    SipMessage::parse_datagram(bytes).unwrap()
}

fn lines(sent: &[Sent]) -> Vec<(u64, &'static str, String)> {
    sent.iter().map(Sent::brief).collect()
}

fn line(at: u64, to: &'static str, first: &str) -> (u64, &'static str, String) {
    (at, to, first.to_string())
}

fn top_branch(msg: &SipMessage) -> String {
    msg.top_via()
        .unwrap()
        .unwrap()
        .branch()
        .unwrap()
        .to_string()
}

/// INVITE relayed to `hop`; returns the cell and what went to `hop`.
fn relay_invite(p: &mut Proxy, hop: Peer) -> (CellId, Sent) {
    let inv = invite();
    assert_eq!(p.request(&inv), RequestOutcome::Unmatched);
    let cell = p.create(&inv);
    p.forward(cell, &inv, "sip:bob@192.0.2.4", hop);
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [
            line(p.now, "uac", TRYING),
            line(p.now, hop.name, "INVITE sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
    (cell, sent[1].clone())
}

#[test]
fn invite_gets_100_at_once_provisionals_and_every_2xx_relayed() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    let vias = down.msg.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].host().to_string(), "192.0.2.1");
    assert_eq!(
        top_branch(&down.msg),
        format!("z9hG4bKsc.{:x}.{:x}.0", cell.hash, cell.label)
    );
    assert_eq!(vias[1].branch().unwrap(), "z9hG4bKuac1");

    p.now = 200;
    assert_eq!(
        p.request(&invite()),
        RequestOutcome::Retransmission { cell }
    );
    assert_eq!(lines(&p.drain()), [line(200, "uac", TRYING)]);

    // 100 is hop by hop; 180 goes up without our Via.
    assert_eq!(
        p.response(&answer(&down, 100, "x")),
        ResponseOutcome::Processed {
            cell,
            branch: 0,
            status: 100
        }
    );
    assert!(p.drain().is_empty());
    p.response(&answer(&down, 180, "b1"));
    let up = p.drain();
    assert_eq!(lines(&up), [line(200, "uac", "SIP/2.0 180 Reason")]);
    assert_eq!(top_branch(&up[0].msg), "z9hG4bKuac1");
    assert_eq!(up[0].msg.vias().unwrap().len(), 1);
    p.request(&invite());
    assert_eq!(lines(&p.drain()), [line(200, "uac", "SIP/2.0 180 Reason")]);

    p.now = 1_000;
    let ok = answer(&down, 200, "b1");
    p.response(&ok);
    assert_eq!(
        lines(&p.drain()),
        [line(1_000, "uac", "SIP/2.0 200 Reason")]
    );
    assert_eq!(p.table.server_state(cell), Ok(ServerState::Accepted));
    assert_eq!(p.table.client_state(cell, 0), Ok(ClientState::Accepted));
    // The UAS retransmits its 2xx until the end-to-end ACK: each goes up.
    p.now = 1_500;
    p.response(&ok);
    assert_eq!(
        lines(&p.drain()),
        [line(1_500, "uac", "SIP/2.0 200 Reason")]
    );
    // The ACK for a 2xx is a new transaction, routed by the script.
    let ack = request("ACK", "z9hG4bKuac2", "ACK", Some("b1"));
    assert_eq!(p.request(&ack), RequestOutcome::Unmatched);
    assert_eq!(p.table.status(cell), Ok(Some(200)));

    // The wait timer (5 s after the first 2xx, as Kamailio; RFC 6026
    // would keep it 64*T1) ends the cell.
    assert!(p.advance(5_999).is_empty());
    assert!(p.events().is_empty());
    assert!(p.advance(6_000).is_empty());
    assert_eq!(p.events(), [Event::Released { cell }]);
    assert!(p.table.is_empty());
}

#[test]
fn non_2xx_final_is_acked_downstream_and_retransmitted_upstream_until_the_ack() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    p.now = 100;
    let busy = answer(&down, 486, "b1");
    p.response(&busy);
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [
            line(100, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0"),
            line(100, "uac", "SIP/2.0 486 Reason"),
        ]
    );
    let ack = &sent[0].msg;
    assert_eq!(top_branch(ack), top_branch(&down.msg));
    assert_eq!(ack.vias().unwrap().len(), 1);
    assert_eq!(ack.to_header().unwrap().unwrap().tag().unwrap(), "b1");
    assert_eq!(ack.cseq().unwrap().unwrap().method(), &Method::Ack);
    assert_eq!(ack.cseq().unwrap().unwrap().number(), 1);

    // A retransmitted 486 is ACKed again, not relayed.
    p.now = 600;
    assert!(matches!(
        p.response(&busy),
        ResponseOutcome::Absorbed { .. }
    ));
    assert_eq!(
        lines(&p.drain()),
        [line(600, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0")]
    );

    // Timer G towards the caller, until its ACK at 2 s.
    assert_eq!(
        lines(&p.advance(2_000)),
        [
            line(600, "uac", "SIP/2.0 486 Reason"),
            line(1_600, "uac", "SIP/2.0 486 Reason"),
        ]
    );
    let uac_ack = request("ACK", "z9hG4bKuac1", "ACK", Some("b1"));
    assert_eq!(p.request(&uac_ack), RequestOutcome::AckAbsorbed { cell });
    assert_eq!(p.table.server_state(cell), Ok(ServerState::Confirmed));
    // Timer I (T4) ends the server side at 7 s, Timer D the branch at
    // 32.1 s; nothing more is sent.
    assert!(p.advance(32_099).is_empty());
    assert!(p.table.contains(cell));
    assert!(p.advance(32_100).is_empty());
    assert_eq!(p.events(), [Event::Released { cell }]);
}

#[test]
fn without_the_ack_timer_g_doubles_to_t2_until_timer_h() {
    let mut p = Proxy::new();
    let (_, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 404, "b1"));
    p.drain();
    let times: Vec<u64> = p
        .advance(40_000)
        .iter()
        .filter(|s| s.to == "uac")
        .map(|s| s.at)
        .collect();
    assert_eq!(
        times,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    assert!(p.table.is_empty(), "Timer H at 32 s, Timer D at 32 s");
}

#[test]
fn fr_timer_answers_an_unanswered_branch_with_a_local_408() {
    let mut p = Proxy::new();
    let (cell, _) = relay_invite(&mut p, B1);
    let sent = p.advance(40_000);
    assert_eq!(
        lines(&sent),
        [
            line(500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(1_500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(3_500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(7_500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(15_500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(30_000, "uac", "SIP/2.0 408 Request Timeout"),
            line(30_500, "uac", "SIP/2.0 408 Request Timeout"),
            line(31_500, "uac", "SIP/2.0 408 Request Timeout"),
            line(33_500, "uac", "SIP/2.0 408 Request Timeout"),
            line(37_500, "uac", "SIP/2.0 408 Request Timeout"),
        ]
    );
    let to = sent[5].msg.to_header().unwrap().unwrap();
    assert_eq!(
        to.tag().unwrap().to_string(),
        format!("sc-{:08x}-{:x}", cell.hash, cell.label)
    );
    assert_eq!(p.table.branch_timed_out(cell, 0), Ok(true));
    assert_eq!(p.table.any_timeout(cell), Ok(true));
    assert_eq!(p.table.branch_replied(cell, 0), Ok(false));
    assert_eq!(p.table.any_replied(cell), Ok(false));
}

#[test]
fn timer_b_answers_408_at_64_t1_when_fr_is_longer() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table
        .set_fr(cell, None, Some(Duration::from_secs(60)))
        .unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    p.drain();
    let sent = p.advance(32_000);
    assert_eq!(
        lines(&sent).last().unwrap(),
        &line(32_000, "uac", "SIP/2.0 408 Request Timeout")
    );
    let invites: Vec<u64> = sent.iter().filter(|s| s.to == "b1").map(|s| s.at).collect();
    assert_eq!(invites, [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
}

#[test]
fn fr_inv_after_a_provisional_gives_408_and_cancels_the_branch() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table
        .set_fr(cell, Some(Duration::from_secs(10)), None)
        .unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.now = 1_000;
    p.response(&answer(&down, 180, "b1"));
    p.drain();
    let sent = p.advance(11_000);
    assert_eq!(
        lines(&sent),
        [
            line(11_000, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
            line(11_000, "uac", "SIP/2.0 408 Request Timeout"),
        ]
    );
    assert_eq!(top_branch(&sent[0].msg), top_branch(&down.msg));
    // The 487 the CANCEL provokes is ACKed, not relayed.
    p.response(&answer(&down, 487, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [line(11_000, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0")]
    );
}

/// An INVITE forked to b1 and b2.
fn fork(p: &mut Proxy) -> (CellId, Sent, Sent) {
    let inv = invite();
    let cell = p.create(&inv);
    assert_eq!(p.forward(cell, &inv, "sip:bob@192.0.2.4", B1), 0);
    assert_eq!(p.forward(cell, &inv, "sip:bob@192.0.2.5", B2), 1);
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [
            line(p.now, "uac", TRYING),
            line(p.now, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0"),
            line(p.now, "b2", "INVITE sip:bob@192.0.2.5 SIP/2.0"),
        ]
    );
    assert_ne!(top_branch(&sent[1].msg), top_branch(&sent[2].msg));
    (cell, sent[1].clone(), sent[2].clone())
}

#[test]
fn parallel_fork_waits_for_every_branch_and_relays_the_lowest_class() {
    let mut p = Proxy::new();
    let (cell, d1, d2) = fork(&mut p);
    p.response(&answer(&d2, 486, "b2"));
    assert_eq!(
        lines(&p.drain()),
        [line(0, "b2", "ACK sip:bob@192.0.2.5 SIP/2.0")]
    );
    p.response(&answer(&d1, 302, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0"),
            line(0, "uac", "SIP/2.0 302 Reason"),
        ]
    );
    assert_eq!(p.table.branch_status(cell, 0), Ok(302));
    assert_eq!(p.table.branch_status(cell, 1), Ok(486));
}

#[test]
fn within_a_class_the_lowest_code_wins_and_a_received_reply_beats_a_local_408() {
    let mut p = Proxy::new();
    let (_, d1, _) = fork(&mut p);
    p.response(&answer(&d1, 480, "b1"));
    p.drain();
    // b2 never answers: local 408 at 30 s, but 480 was received.
    let up: Vec<_> = p
        .advance(30_000)
        .into_iter()
        .filter(|s| s.to == "uac")
        .map(|s| s.brief())
        .collect();
    assert_eq!(up, [line(30_000, "uac", "SIP/2.0 480 Reason")]);

    let mut p = Proxy::new();
    let (_, d1, d2) = fork(&mut p);
    p.response(&answer(&d1, 486, "b1"));
    p.response(&answer(&d2, 404, "b2"));
    let up: Vec<_> = lines(&p.drain())
        .into_iter()
        .filter(|l| l.1 == "uac")
        .collect();
    assert_eq!(up, [line(0, "uac", "SIP/2.0 404 Reason")]);
}

#[test]
fn a_6xx_cancels_the_other_branches_and_wins() {
    let mut p = Proxy::new();
    let (_, d1, d2) = fork(&mut p);
    p.response(&answer(&d1, 180, "b1"));
    p.response(&answer(&d2, 183, "b2"));
    p.drain();
    p.now = 2_000;
    p.response(&answer(&d1, 603, "b1"));
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [
            line(2_000, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0"),
            line(2_000, "b2", "CANCEL sip:bob@192.0.2.5 SIP/2.0"),
        ]
    );
    let cancel = &sent[1].msg;
    assert_eq!(top_branch(cancel), top_branch(&d2.msg));
    assert_eq!(cancel.cseq().unwrap().unwrap().method(), &Method::Cancel);
    assert_eq!(cancel.cseq().unwrap().unwrap().number(), 1);
    // 200 for our CANCEL is absorbed; b2's 487 completes the cell.
    let cancel_sent = sent[1].clone();
    assert!(matches!(
        p.response(&answer(&cancel_sent, 200, "b2")),
        ResponseOutcome::Absorbed { branch: 1, .. }
    ));
    assert!(p.drain().is_empty());
    p.response(&answer(&d2, 487, "b2"));
    assert_eq!(
        lines(&p.drain()),
        [
            line(2_000, "b2", "ACK sip:bob@192.0.2.5 SIP/2.0"),
            line(2_000, "uac", "SIP/2.0 603 Reason"),
        ]
    );
}

#[test]
fn a_2xx_goes_up_at_once_cancels_the_others_and_later_2xx_follow() {
    let mut p = Proxy::new();
    let (_, d1, d2) = fork(&mut p);
    p.response(&answer(&d1, 180, "b1"));
    p.response(&answer(&d2, 180, "b2"));
    p.drain();
    p.response(&answer(&d2, 200, "b2"));
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "uac", "SIP/2.0 200 Reason"),
            line(0, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
    // b1 answered before the CANCEL reached it: its 2xx goes up too.
    p.response(&answer(&d1, 200, "b1"));
    assert_eq!(lines(&p.drain()), [line(0, "uac", "SIP/2.0 200 Reason")]);
}

#[test]
fn a_503_goes_upstream_as_500() {
    let mut p = Proxy::new();
    let (_, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 503, "b1"));
    let up: Vec<_> = lines(&p.drain())
        .into_iter()
        .filter(|l| l.1 == "uac")
        .collect();
    assert_eq!(up, [line(0, "uac", "SIP/2.0 500 Service Unavailable")]);

    let mut p = Proxy::with(TmConfig {
        remap_503_500: false,
        ..TmConfig::default()
    });
    let (_, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 503, "b1"));
    assert_eq!(p.drain()[1].first_line(), "SIP/2.0 503 Reason");
}

#[test]
fn cancel_from_upstream_is_answered_forwarded_and_the_487_relayed() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 180, "b1"));
    p.drain();
    p.now = 3_000;
    let c = cancel();
    assert_eq!(p.request(&c), RequestOutcome::CancelFor { cell });
    p.table.cancel(cell, &c, UAC, p.at(3_000)).unwrap();
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [
            line(3_000, "uac", "SIP/2.0 200 canceling"),
            line(3_000, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
    assert_eq!(
        sent[0].msg.cseq().unwrap().unwrap().method(),
        &Method::Cancel
    );
    assert!(p.table.is_canceled(cell).unwrap());
    // A retransmitted CANCEL gets the 200 again.
    assert_eq!(p.request(&c), RequestOutcome::Retransmission { cell });
    assert_eq!(
        lines(&p.drain()),
        [line(3_000, "uac", "SIP/2.0 200 canceling")]
    );
    // New branches are refused once canceled.
    assert_eq!(
        p.table.forward(
            cell,
            outgoing(&invite(), "sip:x@192.0.2.9", B2),
            p.at(3_000)
        ),
        Err(TmError::Canceled)
    );
    p.response(&answer(&down, 487, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [
            line(3_000, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0"),
            line(3_000, "uac", "SIP/2.0 487 Reason"),
        ]
    );
}

#[test]
fn a_cancel_for_a_completed_invite_is_only_answered() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 486, "b1"));
    p.drain();
    let c = cancel();
    assert_eq!(p.request(&c), RequestOutcome::CancelFor { cell });
    p.table.cancel(cell, &c, UAC, p.at(0)).unwrap();
    assert_eq!(lines(&p.drain()), [line(0, "uac", "SIP/2.0 200 canceling")]);
    assert!(!p.table.is_canceled(cell).unwrap());
}

#[test]
fn unreplied_branch_waits_for_a_provisional_before_its_cancel_by_default() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    assert_eq!(
        lines(&p.advance(700)),
        [line(500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0")]
    );
    p.table.cancel(cell, &cancel(), UAC, p.at(700)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [line(700, "uac", "SIP/2.0 200 canceling")]
    );
    // The INVITE is still retransmitted (RFC 3261 §9.1: no CANCEL yet).
    assert_eq!(
        lines(&p.advance(1_500)),
        [line(1_500, "b1", "INVITE sip:bob@192.0.2.4 SIP/2.0")]
    );
    p.response(&answer(&down, 100, "x"));
    assert_eq!(
        lines(&p.drain()),
        [line(1_500, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0")]
    );
}

#[test]
fn unreplied_canceled_branch_that_never_answers_ends_with_a_local_487() {
    let mut p = Proxy::new();
    let (cell, _) = relay_invite(&mut p, B1);
    p.table.cancel(cell, &cancel(), UAC, p.at(0)).unwrap();
    p.drain();
    let up: Vec<_> = p
        .advance(30_000)
        .into_iter()
        .filter(|s| s.to == "uac")
        .map(|s| s.brief())
        .collect();
    assert_eq!(up, [line(30_000, "uac", "SIP/2.0 487 Request Terminated")]);
}

#[test]
fn cancel_b_method_0_fakes_the_487_at_once() {
    let mut p = Proxy::with(TmConfig {
        cancel_b_method: UnrepliedCancel::Fake487,
        ..TmConfig::default()
    });
    let (cell, down) = relay_invite(&mut p, B1);
    p.table.cancel(cell, &cancel(), UAC, p.at(0)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "uac", "SIP/2.0 200 canceling"),
            line(0, "uac", "SIP/2.0 487 Request Terminated"),
        ]
    );
    // No INVITE retransmissions after it.
    assert!(p.advance(5_000).iter().all(|s| s.to == "uac"));
    // If the callee wakes up and rings, it gets its CANCEL; the 180 stays
    // here.
    p.response(&answer(&down, 180, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [line(5_000, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0")]
    );
}

#[test]
fn cancel_b_method_2_sends_the_cancel_at_once() {
    let mut p = Proxy::with(TmConfig {
        cancel_b_method: UnrepliedCancel::SendNow,
        ..TmConfig::default()
    });
    let (cell, _) = relay_invite(&mut p, B1);
    p.table.cancel(cell, &cancel(), UAC, p.at(0)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "uac", "SIP/2.0 200 canceling"),
            line(0, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
    // Only the CANCEL is retransmitted (Timer E), not the INVITE.
    assert_eq!(
        lines(&p.advance(1_500)),
        [
            line(500, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
            line(1_500, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
}

#[test]
fn failure_event_lets_the_script_fork_serially() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table.arm_failure(cell).unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.response(&answer(&down, 486, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [line(0, "b1", "ACK sip:bob@192.0.2.4 SIP/2.0")],
        "nothing upstream before the failure route ran"
    );
    assert_eq!(
        p.events(),
        [Event::Failure {
            cell,
            branch: 0,
            status: 486
        }]
    );
    assert_eq!(p.table.status(cell), Ok(Some(486)));
    assert_eq!(p.table.branch_timed_out(cell, 0), Ok(false));
    // failure_route: t_relay to the voicemail.
    assert_eq!(p.forward(cell, &inv, "sip:vm@192.0.2.5", B2), 1);
    p.table.failure_done(cell, p.at(0)).unwrap();
    let sent = p.drain();
    assert_eq!(
        lines(&sent),
        [line(0, "b2", "INVITE sip:vm@192.0.2.5 SIP/2.0")]
    );
    assert!(top_branch(&sent[0].msg).ends_with(".1"));
    p.response(&answer(&sent[0], 200, "vm"));
    assert_eq!(lines(&p.drain()), [line(0, "uac", "SIP/2.0 200 Reason")]);
    assert!(p.events().is_empty());
}

#[test]
fn failure_route_that_does_nothing_lets_the_best_reply_go() {
    let mut p = Proxy::new();
    let (cell, d1, d2) = {
        let inv = invite();
        let cell = p.create(&inv);
        p.table.arm_failure(cell).unwrap();
        p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
        p.forward(cell, &inv, "sip:bob@192.0.2.5", B2);
        let sent = p.drain();
        (cell, sent[1].clone(), sent[2].clone())
    };
    p.response(&answer(&d1, 404, "b1"));
    assert!(p.events().is_empty(), "b2 still pending");
    p.response(&answer(&d2, 480, "b2"));
    p.drain();
    assert_eq!(
        p.events(),
        [Event::Failure {
            cell,
            branch: 0,
            status: 404
        }]
    );
    p.table.failure_done(cell, p.at(0)).unwrap();
    assert_eq!(lines(&p.drain()), [line(0, "uac", "SIP/2.0 404 Reason")]);
}

#[test]
fn failure_route_may_reply_itself_but_not_fork_after_a_6xx() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table.arm_failure(cell).unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.response(&answer(&down, 600, "b1"));
    p.drain();
    assert_eq!(p.events().len(), 1);
    assert_eq!(
        p.table
            .forward(cell, outgoing(&inv, "sip:x@192.0.2.9", B2), p.at(0)),
        Err(TmError::After6xx)
    );
    p.table
        .reply(cell, 480, "Temporarily Unavailable", p.at(0))
        .unwrap();
    p.table.failure_done(cell, p.at(0)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [line(0, "uac", "SIP/2.0 480 Temporarily Unavailable")]
    );
}

#[test]
fn a_failure_route_timeout_is_visible_to_t_branch_timeout() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table.arm_failure(cell).unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    p.drain();
    p.advance(30_000);
    assert_eq!(
        p.events(),
        [Event::Failure {
            cell,
            branch: 0,
            status: 408
        }]
    );
    assert_eq!(p.table.branch_timed_out(cell, 0), Ok(true));
    assert_eq!(p.table.status(cell), Ok(Some(408)));
}

fn message() -> SipMessage {
    request("MESSAGE", "z9hG4bKm1", "MESSAGE", None)
}

#[test]
fn non_invite_relay_absorbs_retransmissions_and_times_out_with_408() {
    let mut p = Proxy::new();
    let msg = message();
    let cell = p.create(&msg);
    p.forward(cell, &msg, "sip:bob@192.0.2.4", B1);
    assert_eq!(
        lines(&p.drain()),
        [line(0, "b1", "MESSAGE sip:bob@192.0.2.4 SIP/2.0")],
        "no 100 for a non-INVITE"
    );
    // Trying: a retransmission is absorbed without a reply.
    assert_eq!(p.request(&msg), RequestOutcome::Retransmission { cell });
    assert!(p.drain().is_empty());
    let sent = p.advance(30_000);
    let down: Vec<u64> = sent.iter().filter(|s| s.to == "b1").map(|s| s.at).collect();
    assert_eq!(
        down,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500]
    );
    assert_eq!(
        sent.last().unwrap().brief(),
        line(30_000, "uac", "SIP/2.0 408 Request Timeout")
    );
    // Completed: the retransmission gets the 408 again.
    p.request(&msg);
    assert_eq!(
        lines(&p.drain()),
        [line(30_000, "uac", "SIP/2.0 408 Request Timeout")]
    );
}

#[test]
fn non_invite_final_goes_up_once_and_is_replayed_to_retransmissions() {
    let mut p = Proxy::new();
    let msg = message();
    let cell = p.create(&msg);
    p.forward(cell, &msg, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.now = 100;
    let ok = answer(&down, 202, "b1");
    p.response(&ok);
    assert_eq!(lines(&p.drain()), [line(100, "uac", "SIP/2.0 202 Reason")]);
    p.response(&ok);
    assert!(p.drain().is_empty(), "Timer K absorbs");
    p.request(&msg);
    assert_eq!(lines(&p.drain()), [line(100, "uac", "SIP/2.0 202 Reason")]);
    // Timer J (Kamailio's wait timer, 5 s) keeps the server side; then
    // the cell goes.
    p.advance(5_099);
    assert!(p.table.contains(cell));
    p.advance(5_100);
    assert!(!p.table.contains(cell));
}

#[test]
fn rfc2543_requests_match_by_uri_tags_call_id_cseq_and_via() {
    let mut p = Proxy::new();
    let old = |method: &str, cseq: &str, to: Option<&str>| request(method, "77", cseq, to);
    let inv = old("INVITE", "INVITE", None);
    let cell = p.create(&inv);
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    assert_eq!(p.request(&inv), RequestOutcome::Retransmission { cell });
    p.drain();
    // Another To tag is another transaction.
    assert_eq!(
        p.request(&old("INVITE", "INVITE", Some("zz"))),
        RequestOutcome::Unmatched
    );
    p.response(&answer(&down, 486, "b1"));
    p.drain();
    // The ACK matches when its To tag is the one of our reply.
    assert_eq!(
        p.request(&old("ACK", "ACK", Some("other"))),
        RequestOutcome::Unmatched
    );
    assert_eq!(
        p.request(&old("ACK", "ACK", Some("b1"))),
        RequestOutcome::AckAbsorbed { cell }
    );
    assert_eq!(
        p.request(&old("CANCEL", "CANCEL", None)),
        RequestOutcome::CancelFor { cell }
    );
}

#[test]
fn rfc3261_matching_needs_the_same_sent_by_and_method() {
    let mut p = Proxy::new();
    let (cell, _) = relay_invite(&mut p, B1);
    let other_host = parse(
        &std::str::from_utf8(invite().as_bytes())
            .unwrap()
            .replace("10.0.0.1:5060;branch", "10.0.0.2:5060;branch")
            .replace("\r\n", "\n"),
    );
    assert_eq!(p.request(&other_host), RequestOutcome::Unmatched);
    let bye = request("BYE", "z9hG4bKuac1", "BYE", None);
    assert_eq!(p.request(&bye), RequestOutcome::Unmatched);
    assert_eq!(
        p.table.create(&invite(), UAC, p.at(0)),
        Err(TmError::Exists(cell))
    );
    assert_eq!(
        p.table.create(
            &request("ACK", "z9hG4bKuac9", "ACK", Some("t")),
            UAC,
            p.at(0)
        ),
        Err(TmError::AckHasNoTransaction)
    );
}

#[test]
fn responses_that_are_not_ours_are_unmatched() {
    let mut p = Proxy::new();
    let (_, down) = relay_invite(&mut p, B1);
    let foreign = parse(
        &std::str::from_utf8(answer(&down, 200, "b1").as_bytes())
            .unwrap()
            .replace("z9hG4bKsc.", "z9hG4bKxx.")
            .replace("\r\n", "\n"),
    );
    assert_eq!(p.response(&foreign), ResponseOutcome::Unmatched);
    assert!(p.drain().is_empty());
}

#[test]
fn shards_agree_between_a_request_and_the_responses_to_its_branches() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    let resp = answer(&down, 180, "b1");
    for shards in [1, 2, 7, 16] {
        let by_request = shard_for_request(&invite(), shards).unwrap();
        assert_eq!(by_request, shard_for_request(&cancel(), shards).unwrap());
        assert_eq!(shard_for_response(&resp, "sc", shards), Some(by_request));
        assert_eq!(by_request, cell.hash as usize % shards);
    }
    assert_eq!(shard_for_response(&resp, "other", 4), None);
}

#[test]
fn t_release_stops_retransmissions_and_frees_the_cell_after_wt_timer() {
    let mut p = Proxy::new();
    let (cell, _) = relay_invite(&mut p, B1);
    p.table.release(cell, p.at(0)).unwrap();
    p.now = 4_000;
    assert_eq!(
        p.request(&invite()),
        RequestOutcome::Retransmission { cell }
    );
    assert_eq!(lines(&p.drain()), [line(4_000, "uac", TRYING)]);
    assert!(p.advance(4_999).is_empty());
    assert!(p.advance(5_000).is_empty());
    assert_eq!(p.events(), [Event::Released { cell }]);
}

#[test]
fn reliable_hops_get_no_retransmissions() {
    let tcp = Peer {
        name: "b1",
        reliable: true,
    };
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.forward(cell, &inv, "sip:bob@192.0.2.4;transport=tcp", tcp);
    p.drain();
    let sent = p.advance(30_000);
    assert_eq!(
        lines(&sent),
        [line(30_000, "uac", "SIP/2.0 408 Request Timeout")]
    );
}

#[test]
fn t_reply_sends_through_the_server_transaction() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    assert_eq!(p.table.status(cell), Ok(None));
    p.table.reply(cell, 100, "Trying", p.at(0)).unwrap();
    p.table.reply(cell, 404, "Not Here", p.at(0)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "uac", "SIP/2.0 100 Trying"),
            line(0, "uac", "SIP/2.0 404 Not Here"),
        ]
    );
    assert_eq!(p.table.status(cell), Ok(Some(404)));
    assert_eq!(
        p.table.reply(cell, 500, "Again", p.at(0)),
        Err(TmError::ReplyNotAllowed {
            code: 500,
            sent: 404
        })
    );
    assert_eq!(
        p.table
            .forward(cell, outgoing(&inv, "sip:x@192.0.2.9", B1), p.at(0)),
        Err(TmError::AlreadyReplied(404))
    );
    // Timer G, then the caller's ACK.
    assert_eq!(
        lines(&p.advance(500)),
        [line(500, "uac", "SIP/2.0 404 Not Here")]
    );
    let tag = format!("sc-{:08x}-{:x}", cell.hash, cell.label);
    assert_eq!(
        p.request(&request("ACK", "z9hG4bKuac1", "ACK", Some(&tag))),
        RequestOutcome::AckAbsorbed { cell }
    );
}

#[test]
fn a_local_final_cancels_pending_branches() {
    let mut p = Proxy::new();
    let (cell, down) = relay_invite(&mut p, B1);
    p.response(&answer(&down, 180, "b1"));
    p.drain();
    p.table.reply(cell, 480, "Gone", p.at(0)).unwrap();
    assert_eq!(
        lines(&p.drain()),
        [
            line(0, "uac", "SIP/2.0 480 Gone"),
            line(0, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
        ]
    );
}

#[test]
fn a_transaction_nobody_answers_ends_at_its_maximum_lifetime() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    assert!(p.advance(179_999).is_empty());
    assert_eq!(
        lines(&p.advance(180_000)),
        [line(180_000, "uac", "SIP/2.0 408 Request Timeout")]
    );
    assert_eq!(p.table.server_state(cell), Ok(ServerState::Completed));

    // A branch ringing forever (fr_inv longer than the lifetime) is
    // canceled when the lifetime ends.
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table
        .set_fr(cell, Some(Duration::from_secs(600)), None)
        .unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.response(&answer(&down, 180, "b1"));
    p.drain();
    assert_eq!(
        lines(&p.advance(180_000)),
        [
            line(180_000, "b1", "CANCEL sip:bob@192.0.2.4 SIP/2.0"),
            line(180_000, "uac", "SIP/2.0 408 Request Timeout"),
        ]
    );

    let mut p = Proxy::new();
    p.create(&message());
    assert_eq!(
        lines(&p.advance(32_000)),
        [line(32_000, "uac", "SIP/2.0 408 Request Timeout")]
    );
}

/// `reply` with a challenge header added.
fn challenge(reply: &SipMessage, name: &str, realm: &str) -> SipMessage {
    let mut ed = MessageEditor::new(reply);
    ed.add_header(
        sercompat::sip::HeaderPosition::Last,
        name,
        &format!("Digest realm=\"{realm}\", nonce=\"n\""),
    )
    .unwrap();
    SipMessage::parse_datagram(ed.build().unwrap()).unwrap()
}

#[test]
fn challenges_of_every_401_and_407_are_aggregated() {
    let mut p = Proxy::new();
    let (_, d1, d2) = fork(&mut p);
    p.response(&challenge(
        &answer(&d1, 407, "b1"),
        "Proxy-Authenticate",
        "one",
    ));
    p.response(&challenge(
        &answer(&d2, 401, "b2"),
        "WWW-Authenticate",
        "two",
    ));
    let up = p.drain().pop().unwrap();
    assert_eq!(up.first_line(), "SIP/2.0 401 Reason");
    let text = String::from_utf8_lossy(up.msg.as_bytes()).into_owned();
    assert!(text.contains("\r\nWWW-Authenticate: Digest realm=\"two\", nonce=\"n\"\r\n"));
    assert!(text.contains("\r\nProxy-Authenticate: Digest realm=\"one\", nonce=\"n\"\r\n"));

    let mut p = Proxy::with(TmConfig {
        aggregate_challenges: false,
        ..TmConfig::default()
    });
    let (_, d1, d2) = fork(&mut p);
    p.response(&challenge(
        &answer(&d1, 407, "b1"),
        "Proxy-Authenticate",
        "one",
    ));
    p.response(&challenge(
        &answer(&d2, 401, "b2"),
        "WWW-Authenticate",
        "two",
    ));
    let up = p.drain().pop().unwrap();
    assert!(!String::from_utf8_lossy(up.msg.as_bytes()).contains("realm=\"one\""));
}

#[test]
fn the_table_can_move_between_worker_threads() {
    fn send<T: Send>() {}
    send::<Table<Peer>>();
}

#[test]
fn a_late_2xx_after_a_local_408_still_reaches_the_caller() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table
        .set_fr(cell, Some(Duration::from_secs(5)), None)
        .unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.response(&answer(&down, 180, "b1"));
    p.drain();
    p.advance(5_000);
    // The callee picked up just as the CANCEL went out.
    p.response(&answer(&down, 200, "b1"));
    assert_eq!(
        lines(&p.drain()),
        [line(5_000, "uac", "SIP/2.0 200 Reason")]
    );
    assert_eq!(p.table.server_state(cell), Ok(ServerState::Completed));
}

#[test]
fn zero_retransmission_intervals_are_clamped_instead_of_spinning() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table
        .set_retr(cell, Some(Duration::ZERO), Some(Duration::ZERO))
        .unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    p.drain();
    // T1 = T2 = 1 ms: Timer A doubles from 1 ms, Timer B ends at 64 ms.
    let times: Vec<u64> = p
        .advance(100)
        .iter()
        .filter(|s| s.to == "b1")
        .map(|s| s.at)
        .collect();
    assert_eq!(times, [1, 3, 7, 15, 31, 63]);
    assert_eq!(p.table.branch_timed_out(cell, 0), Ok(true));
}

#[test]
fn the_failure_route_can_read_the_reply_that_failed() {
    let mut p = Proxy::new();
    let inv = invite();
    let cell = p.create(&inv);
    p.table.arm_failure(cell).unwrap();
    p.forward(cell, &inv, "sip:bob@192.0.2.4", B1);
    let down = p.drain().pop().unwrap();
    p.response(&answer(&down, 486, "b1"));
    let reply = p.table.branch_reply(cell, 0).unwrap().unwrap();
    assert_eq!(reply.status_code(), Some(486));
    assert_eq!(
        p.table.branch_reply(cell, 1).err(),
        Some(TmError::NoSuchBranch { cell, branch: 1 })
    );
}

#[test]
fn rfc2543_ack_to_a_local_reply_in_a_dialog_matches_the_dialog_tag() {
    let mut p = Proxy::new();
    let reinvite = request("INVITE", "88", "INVITE", Some("dlg"));
    let cell = p.create(&reinvite);
    p.table.reply(cell, 488, "Not Here", p.at(0)).unwrap();
    let up = p.drain().pop().unwrap();
    assert_eq!(up.msg.to_header().unwrap().unwrap().tag().unwrap(), "dlg");
    assert_eq!(
        p.request(&request("ACK", "88", "ACK", Some("dlg"))),
        RequestOutcome::AckAbsorbed { cell }
    );
}
