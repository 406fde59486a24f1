//! Client transactions (RFC 3261 §17.1, with RFC 6026's Accepted state):
//! send a request, retransmit it over unreliable transports, time out,
//! ACK a non-2xx final to an INVITE hop by hop, absorb retransmitted
//! finals.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::SipMessage;

use super::build::ack_for;
use super::config::Timers;
use super::{Hop, Out, TmError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Calling (INVITE) or Trying (non-INVITE): nothing received yet.
    Calling,
    Proceeding,
    Completed,
    /// INVITE: a 2xx arrived (RFC 6026; ends at the wait timer, as in
    /// Kamailio); further 2xx are passed up.
    Accepted,
    Terminated,
}

/// What to do with a response after the transaction has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientInput {
    /// New to the transaction user: process it.
    Deliver,
    /// A retransmission (an ACK was re-sent if one is due) or late.
    Absorbed,
}

#[derive(Debug)]
pub(crate) struct ClientTx<H> {
    invite: bool,
    hop: H,
    timers: Timers,
    state: ClientState,
    /// The request as sent. Parsed again only to build an ACK for a
    /// non-2xx final or a CANCEL: most branches never need either.
    request: Bytes,
    /// Timers A and E.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timers B and F, or fr / fr_inv when sooner: the branch gets no
    /// final reply in time.
    timeout_at: Option<Instant>,
    /// Timers D, K, M and the post-CANCEL bound: the transaction ends.
    end_at: Option<Instant>,
    ack: Option<Bytes>,
}

impl<H: Hop> ClientTx<H> {
    /// A transaction for `request`; call [`ClientTx::start`] to send it.
    pub fn new(invite: bool, hop: H, timers: Timers, request: Bytes) -> Self {
        ClientTx {
            invite,
            hop,
            timers,
            state: ClientState::Calling,
            request,
            retransmit_at: None,
            interval: timers.t1,
            timeout_at: None,
            end_at: None,
            ack: None,
        }
    }

    /// The request as sent, parsed.
    pub fn sent(&self) -> Result<SipMessage, TmError> {
        Ok(SipMessage::parse_datagram(self.request.clone())?)
    }

    pub fn state(&self) -> ClientState {
        self.state
    }

    pub fn start(&mut self, now: Instant, out: &mut Out<H>) {
        out.send(&self.hop, self.request.clone());
        if !self.hop.is_reliable() {
            self.interval = self.timers.t1;
            self.retransmit_at = Some(now + self.interval);
        }
        self.timeout_at = Some(now + self.timers.t1x64().min(self.timers.fr));
    }

    pub fn on_response(
        &mut self,
        response: &SipMessage,
        now: Instant,
        out: &mut Out<H>,
    ) -> Result<ClientInput, TmError> {
        let code = response.status_code().ok_or(TmError::NotAResponse)?;
        match self.state {
            ClientState::Calling | ClientState::Proceeding => {}
            ClientState::Completed => {
                if let Some(ack) = &self.ack {
                    if code >= 300 {
                        out.send(&self.hop, ack.clone());
                    }
                }
                return Ok(ClientInput::Absorbed);
            }
            ClientState::Accepted if (200..300).contains(&code) => {
                return Ok(ClientInput::Deliver);
            }
            ClientState::Accepted | ClientState::Terminated => return Ok(ClientInput::Absorbed),
        }
        if code < 200 {
            self.state = ClientState::Proceeding;
            if self.invite {
                self.retransmit_at = None;
                if self.timeout_at.is_some() {
                    self.timeout_at = Some(now + self.timers.fr_inv);
                }
            } else {
                // Timer E keeps firing, at T2 from now on (§17.1.2.2).
                self.interval = self.timers.t2;
            }
        } else if self.invite && code < 300 {
            self.state = ClientState::Accepted;
            self.stop_timers();
            // As the server side: Kamailio's wait timer, not 64*T1.
            self.end_at = Some(now + self.timers.wait);
        } else if self.invite {
            let ack = ack_for(&self.sent()?, response)?;
            out.send(&self.hop, ack.clone());
            self.ack = Some(ack);
            self.state = ClientState::Completed;
            self.stop_timers();
            self.end_at = Some(now + self.linger(self.timers.timer_d));
        } else {
            self.state = ClientState::Completed;
            self.stop_timers();
            self.end_at = Some(now + self.linger(self.timers.t4));
        }
        self.settle(now);
        Ok(ClientInput::Deliver)
    }

    /// Stops retransmitting (a CANCEL took over); timeouts stay.
    pub fn stop_retransmissions(&mut self) {
        self.retransmit_at = None;
    }

    /// Gives the transaction at most `limit` more to see a final reply
    /// (RFC 3261 §9.1: 64*T1 after the CANCEL, the INVITE is considered
    /// canceled).
    pub fn bound_timeout(&mut self, at: Instant) {
        if matches!(self.state, ClientState::Calling | ClientState::Proceeding) {
            self.timeout_at = Some(self.timeout_at.map_or(at, |t| t.min(at)));
        }
    }

    /// Ends the transaction now (`t_release`, or a branch given up).
    pub fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.stop_timers();
        self.end_at = None;
    }

    pub fn deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.end_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`; true when the branch timed out
    /// without a final reply (the proxy answers it with a local 408).
    pub fn on_timeout(&mut self, now: Instant, out: &mut Out<H>) -> bool {
        if self.end_at.is_some_and(|t| t <= now) {
            self.terminate();
            return false;
        }
        if self.timeout_at.is_some_and(|t| t <= now) {
            self.timeout_at = None;
            self.retransmit_at = None;
            if self.invite && self.state == ClientState::Proceeding {
                // The caller sends a CANCEL; keep absorbing (and ACKing)
                // the final it provokes for 64*T1 more.
                self.end_at = Some(now + self.timers.t1x64());
            } else {
                self.terminate();
            }
            return true;
        }
        if self.retransmit_at.is_some_and(|t| t <= now) {
            out.send(&self.hop, self.request.clone());
            // Timer A doubles without cap (Timer B ends it) unless told
            // to behave like Kamailio; Timer E is capped at T2.
            self.interval = if self.invite && !self.timers.cap_timer_a_at_t2 {
                self.interval * 2
            } else {
                (self.interval * 2).min(self.timers.t2)
            };
            self.retransmit_at = Some(now + self.interval);
        }
        false
    }

    fn stop_timers(&mut self) {
        self.retransmit_at = None;
        self.timeout_at = None;
    }

    /// Over a reliable transport Timers D and K are zero.
    fn linger(&self, unreliable: Duration) -> Duration {
        if self.hop.is_reliable() {
            Duration::ZERO
        } else {
            unreliable
        }
    }

    fn settle(&mut self, now: Instant) {
        if self.end_at.is_some_and(|t| t <= now) {
            self.terminate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Peer(bool);
    impl Hop for Peer {
        fn is_reliable(&self) -> bool {
            self.0
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const INVITE: &str = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsc.1.1.0\r\n\
From: <sip:alice@a>;tag=f1\r\nTo: <sip:bob@b>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";
    const MESSAGE: &str = "MESSAGE sip:bob@192.0.2.4 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsc.1.1.0\r\n\
From: <sip:alice@a>;tag=f1\r\nTo: <sip:bob@b>\r\nCall-ID: c1\r\nCSeq: 2 MESSAGE\r\n\
Content-Length: 0\r\n\r\n";

    fn tx(request: &'static str, reliable: bool, timers: Timers) -> ClientTx<Peer> {
        let bytes = Bytes::from_static(request.as_bytes());
        let invite = request.starts_with("INVITE");
        ClientTx::new(invite, Peer(reliable), timers, bytes)
    }

    fn reply(request: &str, code: u16) -> SipMessage {
        let req = SipMessage::parse_datagram(request.to_string()).unwrap();
        let bytes = crate::sip::LocalReply::new(code, "X")
            .to_tag("uas")
            .build(&req)
            .unwrap();
        SipMessage::parse_datagram(bytes).unwrap()
    }

    /// Offsets (ms) of every retransmission up to `until`, and of the
    /// timeout if one fired.
    fn run(tx: &mut ClientTx<Peer>, out: &mut Out<Peer>, t0: Instant) -> (Vec<u64>, Option<u64>) {
        let mut sent = Vec::new();
        while let Some(at) = tx.deadline() {
            let timed_out = tx.on_timeout(at, out);
            while out.transmits.pop_front().is_some() {
                sent.push((at - t0).as_millis() as u64);
            }
            if timed_out {
                return (sent, Some((at - t0).as_millis() as u64));
            }
        }
        (sent, None)
    }

    fn long_fr() -> Timers {
        Timers {
            fr: ms(60_000),
            ..Timers::default()
        }
    }

    #[test]
    fn timer_a_doubles_without_cap_and_timer_b_fires_at_64_t1() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, false, long_fr());
        tx.start(t0, &mut out);
        assert_eq!(out.transmits.len(), 1);
        out.transmits.clear();
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert_eq!(sent, [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
        assert_eq!(timeout, Some(32_000));
        assert_eq!(tx.state(), ClientState::Terminated);
    }

    #[test]
    fn kamailio_caps_timer_a_at_t2_when_asked() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let timers = Timers {
            cap_timer_a_at_t2: true,
            ..Timers::default()
        };
        let mut tx = tx(INVITE, false, timers);
        tx.start(t0, &mut out);
        out.transmits.clear();
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert_eq!(
            sent,
            [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500]
        );
        assert_eq!(timeout, Some(30_000));
    }

    #[test]
    fn fr_timer_ends_an_unanswered_invite_before_timer_b() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, false, Timers::default());
        tx.start(t0, &mut out);
        out.transmits.clear();
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert_eq!(sent, [500, 1_500, 3_500, 7_500, 15_500]);
        assert_eq!(timeout, Some(30_000));
    }

    #[test]
    fn timer_e_doubles_to_t2_and_timer_f_fires_at_64_t1() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(MESSAGE, false, long_fr());
        tx.start(t0, &mut out);
        out.transmits.clear();
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert_eq!(
            sent,
            [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
        assert_eq!(timeout, Some(32_000));
    }

    #[test]
    fn a_provisional_makes_timer_e_fire_every_t2() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(MESSAGE, false, long_fr());
        tx.start(t0, &mut out);
        out.transmits.clear();
        assert!(!tx.on_timeout(t0 + ms(500), &mut out));
        let input = tx
            .on_response(&reply(MESSAGE, 100), t0 + ms(600), &mut out)
            .unwrap();
        assert_eq!(input, ClientInput::Deliver);
        assert_eq!(tx.state(), ClientState::Proceeding);
        out.transmits.clear();
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        // Pending E at 1.5 s, then every T2 until F at 32 s.
        assert_eq!(
            sent,
            [1_500, 5_500, 9_500, 13_500, 17_500, 21_500, 25_500, 29_500]
        );
        assert_eq!(timeout, Some(32_000));
    }

    #[test]
    fn a_provisional_stops_timer_a_and_each_restarts_fr_inv() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, false, Timers::default());
        tx.start(t0, &mut out);
        out.transmits.clear();
        tx.on_response(&reply(INVITE, 100), t0 + ms(100), &mut out)
            .unwrap();
        assert_eq!(tx.deadline(), Some(t0 + ms(120_100)));
        tx.on_response(&reply(INVITE, 180), t0 + ms(60_000), &mut out)
            .unwrap();
        assert_eq!(tx.deadline(), Some(t0 + ms(180_000)));
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert!(sent.is_empty());
        assert_eq!(timeout, Some(180_000));
        // It stays to absorb (and ACK) the final the CANCEL provokes.
        assert_eq!(tx.state(), ClientState::Proceeding);
        assert_eq!(tx.deadline(), Some(t0 + ms(212_000)));
    }

    #[test]
    fn a_non_2xx_final_is_acked_and_its_retransmissions_re_ack_until_timer_d() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, false, Timers::default());
        tx.start(t0, &mut out);
        out.transmits.clear();
        let busy = reply(INVITE, 486);
        assert_eq!(
            tx.on_response(&busy, t0 + ms(200), &mut out).unwrap(),
            ClientInput::Deliver
        );
        let ack = out.transmits.pop_front().unwrap().bytes;
        assert!(ack.starts_with(b"ACK sip:bob@192.0.2.4 SIP/2.0\r\n"));
        assert!(std::str::from_utf8(&ack)
            .unwrap()
            .contains("To: <sip:bob@b>;tag=uas\r\n"));
        assert_eq!(
            tx.on_response(&busy, t0 + ms(700), &mut out).unwrap(),
            ClientInput::Absorbed
        );
        assert_eq!(out.transmits.pop_front().unwrap().bytes, ack);
        assert_eq!(tx.deadline(), Some(t0 + ms(32_200)));
        let (sent, timeout) = run(&mut tx, &mut out, t0);
        assert!(sent.is_empty() && timeout.is_none());
        assert_eq!(tx.state(), ClientState::Terminated);
    }

    #[test]
    fn reliable_transports_do_not_retransmit_and_end_at_once() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, true, long_fr());
        tx.start(t0, &mut out);
        out.transmits.clear();
        assert_eq!(tx.deadline(), Some(t0 + ms(32_000)), "only Timer B");
        tx.on_response(&reply(INVITE, 404), t0 + ms(5), &mut out)
            .unwrap();
        assert_eq!(out.transmits.len(), 1, "the ACK");
        assert_eq!(tx.state(), ClientState::Terminated, "Timer D is 0");
        let mut nit = self::tx(MESSAGE, true, long_fr());
        nit.start(t0, &mut out);
        nit.on_response(&reply(MESSAGE, 200), t0 + ms(5), &mut out)
            .unwrap();
        assert_eq!(nit.state(), ClientState::Terminated, "Timer K is 0");
    }

    #[test]
    fn accepted_passes_further_2xx_up_and_absorbs_the_rest() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(INVITE, false, Timers::default());
        tx.start(t0, &mut out);
        out.transmits.clear();
        let ok = reply(INVITE, 200);
        assert_eq!(
            tx.on_response(&ok, t0 + ms(5), &mut out).unwrap(),
            ClientInput::Deliver
        );
        assert!(out.transmits.is_empty(), "no ACK for a 2xx");
        assert_eq!(tx.state(), ClientState::Accepted);
        assert_eq!(
            tx.on_response(&ok, t0 + ms(505), &mut out).unwrap(),
            ClientInput::Deliver
        );
        assert_eq!(
            tx.on_response(&reply(INVITE, 180), t0 + ms(600), &mut out)
                .unwrap(),
            ClientInput::Absorbed
        );
        // Kamailio's wait timer (5 s), not RFC 6026's Timer M.
        assert_eq!(tx.deadline(), Some(t0 + ms(5_005)), "wait timer");
    }

    #[test]
    fn non_invite_final_is_absorbed_for_timer_k() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = tx(MESSAGE, false, Timers::default());
        tx.start(t0, &mut out);
        out.transmits.clear();
        let ok = reply(MESSAGE, 200);
        assert_eq!(
            tx.on_response(&ok, t0 + ms(5), &mut out).unwrap(),
            ClientInput::Deliver
        );
        assert_eq!(
            tx.on_response(&ok, t0 + ms(6), &mut out).unwrap(),
            ClientInput::Absorbed
        );
        assert!(out.transmits.is_empty());
        assert_eq!(tx.deadline(), Some(t0 + ms(5_005)), "Timer K = T4");
    }
}
