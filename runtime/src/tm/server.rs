//! Server transactions (RFC 3261 §17.2, with RFC 6026's Accepted state
//! for INVITE): they keep the last reply, answer retransmitted requests
//! with it, retransmit a non-2xx final to an INVITE until the ACK comes.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::config::Timers;
use super::{Hop, Out, TmError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE, nothing sent yet: a retransmission is absorbed silently.
    Trying,
    /// A provisional reply was sent (an INVITE starts here: its 100 is
    /// sent at once or by the first relay).
    Proceeding,
    /// A final reply was sent: non-2xx to an INVITE (waiting for the ACK,
    /// Timer G/H), any final to a non-INVITE (Timer J).
    Completed,
    /// INVITE: the ACK for our non-2xx final came; Timer I absorbs more.
    Confirmed,
    /// INVITE: a 2xx was sent (RFC 6026, Timer L); more 2xx may follow
    /// from other branches and retransmissions re-send the last one.
    Accepted,
    Terminated,
}

/// What happened when a timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerTimeout {
    /// Timer H: the ACK for our non-2xx final never came.
    NoAck,
    Other,
}

#[derive(Debug)]
pub(crate) struct ServerTx<H> {
    invite: bool,
    hop: H,
    timers: Timers,
    state: ServerState,
    last_reply: Option<Bytes>,
    last_code: u16,
    /// Timer G (INVITE non-2xx over UDP).
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timers H, I, J, L: when the transaction ends.
    end_at: Option<Instant>,
}

impl<H: Hop> ServerTx<H> {
    pub fn new(invite: bool, hop: H, timers: Timers) -> Self {
        ServerTx {
            invite,
            hop,
            timers,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            last_reply: None,
            last_code: 0,
            retransmit_at: None,
            interval: timers.t1,
            end_at: None,
        }
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The status of the last reply sent, 0 before any.
    /// The reason phrase of the last reply sent.
    pub fn last_reason(&self) -> Option<String> {
        let reply = self.last_reply.as_ref()?;
        let line = reply.split(|&b| b == b'\r' || b == b'\n').next()?;
        let text = std::str::from_utf8(line).ok()?;
        let mut parts = text.splitn(3, ' ');
        parts.next()?;
        parts.next()?;
        Some(parts.next().unwrap_or("").to_owned())
    }

    pub fn last_code(&self) -> u16 {
        self.last_code
    }

    pub fn is_final(&self) -> bool {
        self.last_code >= 200
    }

    /// A retransmission of the request: re-send the last reply, if any.
    pub fn on_retransmission(&mut self, out: &mut Out<H>) {
        match self.state {
            ServerState::Proceeding | ServerState::Completed | ServerState::Accepted => {
                if let Some(reply) = &self.last_reply {
                    out.send(&self.hop, reply.clone());
                }
            }
            ServerState::Trying | ServerState::Confirmed | ServerState::Terminated => {}
        }
    }

    /// A matching ACK; true if it is the hop-by-hop ACK for our non-2xx
    /// final (absorbed), false if it belongs to a 2xx (end to end) or
    /// comes before any final.
    pub fn on_ack(&mut self, now: Instant) -> bool {
        match self.state {
            ServerState::Completed if self.invite => {
                self.state = ServerState::Confirmed;
                self.retransmit_at = None;
                self.end_at = Some(now + self.linger(self.timers.t4));
                self.settle(now);
                true
            }
            ServerState::Confirmed => true,
            _ => false,
        }
    }

    /// Sends `reply` with status `code`, if the state allows it.
    pub fn send_reply(
        &mut self,
        code: u16,
        reply: Bytes,
        now: Instant,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        let allowed = match self.state {
            ServerState::Trying | ServerState::Proceeding => true,
            // More 2xx for an INVITE (forking downstream) go upstream too.
            ServerState::Accepted => (200..300).contains(&code),
            _ => false,
        };
        if !allowed {
            return Err(TmError::ReplyNotAllowed {
                code,
                sent: self.last_code,
            });
        }
        out.send(&self.hop, reply.clone());
        self.last_reply = Some(reply);
        self.last_code = code;
        if code < 200 {
            self.state = ServerState::Proceeding;
        } else if self.invite && code < 300 {
            self.state = ServerState::Accepted;
            // Kamailio keeps a 2xx'd INVITE for its wait timer (wt_timer,
            // 5 s), not RFC 6026's 64*T1: later 2xx retransmissions are
            // end to end anyway, and at 500 calls/s the difference is
            // 16,000 live transactions against 2,500.
            if self.end_at.is_none() {
                self.end_at = Some(now + self.timers.wait);
            }
        } else if self.invite {
            self.state = ServerState::Completed;
            if !self.hop.is_reliable() {
                self.interval = self.timers.t1;
                self.retransmit_at = Some(now + self.interval);
            }
            self.end_at = Some(now + self.timers.t1x64());
        } else {
            self.state = ServerState::Completed;
            // Timer J as Kamailio runs it: the wait timer (wt_timer, 5 s),
            // not 64*T1 — retransmissions of a non-INVITE come within T2.
            self.end_at = Some(now + self.linger(self.timers.wait));
        }
        self.settle(now);
        Ok(())
    }

    /// Sends `reply` to the transaction's peer without changing state: a
    /// 2xx to an INVITE that arrives after a non-2xx final went upstream
    /// still has to reach the caller (§16.7 step 5), but the state machine
    /// has no room for it.
    pub fn send_outside(&self, reply: Bytes, out: &mut Out<H>) {
        out.send(&self.hop, reply);
    }

    /// Ends the transaction now, whatever its state (`t_release`).
    pub fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.retransmit_at = None;
        self.end_at = None;
    }

    pub fn deadline(&self) -> Option<Instant> {
        match (self.retransmit_at, self.end_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn on_timeout(&mut self, now: Instant, out: &mut Out<H>) -> Option<ServerTimeout> {
        if self.end_at.is_some_and(|t| t <= now) {
            let fired = if self.state == ServerState::Completed && self.invite {
                ServerTimeout::NoAck
            } else {
                ServerTimeout::Other
            };
            self.terminate();
            return Some(fired);
        }
        if self.retransmit_at.is_some_and(|t| t <= now) {
            // Timer G: doubles up to T2.
            if let Some(reply) = &self.last_reply {
                out.send(&self.hop, reply.clone());
            }
            self.interval = (self.interval * 2).min(self.timers.t2);
            self.retransmit_at = Some(now + self.interval);
        }
        None
    }

    /// Over a reliable transport Timers I and J are zero.
    fn linger(&self, unreliable: Duration) -> Duration {
        if self.hop.is_reliable() {
            Duration::ZERO
        } else {
            unreliable
        }
    }

    /// A zero-length wait ends the transaction at once.
    fn settle(&mut self, now: Instant) {
        if self.end_at.is_some_and(|t| t <= now) && self.retransmit_at.is_none() {
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

    /// Runs every timer up to `until`, returning the times something was
    /// sent (offsets from `t0`, ms) and the timeout that ended it.
    fn run(
        tx: &mut ServerTx<Peer>,
        out: &mut Out<Peer>,
        t0: Instant,
        until: Instant,
    ) -> (Vec<u64>, Option<(u64, ServerTimeout)>) {
        let mut sent = Vec::new();
        while let Some(at) = tx.deadline() {
            if at > until {
                break;
            }
            let fired = tx.on_timeout(at, out);
            while out.transmits.pop_front().is_some() {
                sent.push((at - t0).as_millis() as u64);
            }
            if let Some(f) = fired {
                return (sent, Some(((at - t0).as_millis() as u64, f)));
            }
        }
        (sent, None)
    }

    #[test]
    fn invite_non_2xx_is_retransmitted_by_timer_g_until_timer_h() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = ServerTx::new(true, Peer(false), Timers::default());
        tx.send_reply(486, Bytes::from_static(b"486"), t0, &mut out)
            .unwrap();
        assert_eq!(out.transmits.len(), 1);
        out.transmits.clear();
        assert_eq!(tx.state(), ServerState::Completed);
        let (sent, end) = run(&mut tx, &mut out, t0, t0 + ms(60_000));
        assert_eq!(
            sent,
            [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
        assert_eq!(end, Some((32_000, ServerTimeout::NoAck)));
        assert_eq!(tx.state(), ServerState::Terminated);
    }

    #[test]
    fn ack_confirms_and_timer_i_ends_it() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = ServerTx::new(true, Peer(false), Timers::default());
        tx.send_reply(404, Bytes::from_static(b"404"), t0, &mut out)
            .unwrap();
        out.transmits.clear();
        // A retransmitted INVITE gets the final again.
        tx.on_retransmission(&mut out);
        assert_eq!(out.transmits.pop_front().unwrap().bytes, "404");
        assert!(tx.on_ack(t0 + ms(700)));
        assert_eq!(tx.state(), ServerState::Confirmed);
        // Absorbed ACK retransmissions, nothing re-sent.
        assert!(tx.on_ack(t0 + ms(900)));
        tx.on_retransmission(&mut out);
        assert!(out.transmits.is_empty());
        assert_eq!(tx.deadline(), Some(t0 + ms(5_700)));
        let (sent, end) = run(&mut tx, &mut out, t0, t0 + ms(60_000));
        assert!(sent.is_empty());
        assert_eq!(end, Some((5_700, ServerTimeout::Other)));
    }

    #[test]
    fn reliable_transport_has_no_timer_g_and_no_timer_i() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = ServerTx::new(true, Peer(true), Timers::default());
        tx.send_reply(486, Bytes::from_static(b"486"), t0, &mut out)
            .unwrap();
        assert_eq!(tx.deadline(), Some(t0 + ms(32_000)));
        assert!(tx.on_ack(t0 + ms(10)));
        assert_eq!(tx.state(), ServerState::Terminated);
        let mut nit = ServerTx::new(false, Peer(true), Timers::default());
        nit.send_reply(200, Bytes::from_static(b"200"), t0, &mut out)
            .unwrap();
        assert_eq!(nit.state(), ServerState::Terminated, "Timer J is 0");
    }

    #[test]
    fn non_invite_trying_absorbs_silently_then_resends_and_timer_j() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = ServerTx::new(false, Peer(false), Timers::default());
        assert_eq!(tx.state(), ServerState::Trying);
        tx.on_retransmission(&mut out);
        assert!(out.transmits.is_empty());
        tx.send_reply(183, Bytes::from_static(b"183"), t0, &mut out)
            .unwrap();
        tx.on_retransmission(&mut out);
        assert_eq!(out.transmits.len(), 2);
        out.transmits.clear();
        tx.send_reply(200, Bytes::from_static(b"200"), t0 + ms(100), &mut out)
            .unwrap();
        assert!(!tx.on_ack(t0), "no ACK for a non-INVITE");
        tx.on_retransmission(&mut out);
        assert_eq!(out.transmits.back().unwrap().bytes, "200");
        assert_eq!(
            tx.send_reply(500, Bytes::new(), t0, &mut out),
            Err(TmError::ReplyNotAllowed {
                code: 500,
                sent: 200
            })
        );
        out.transmits.clear();
        let (sent, end) = run(&mut tx, &mut out, t0, t0 + ms(60_000));
        assert!(sent.is_empty(), "non-INVITE finals are not retransmitted");
        // Timer J as Kamailio runs it: the wait timer, 5 s.
        assert_eq!(end, Some((5_100, ServerTimeout::Other)));
    }

    #[test]
    fn accepted_takes_more_2xx_only_and_lasts_timer_l() {
        let t0 = Instant::now();
        let mut out = Out::new();
        let mut tx = ServerTx::new(true, Peer(false), Timers::default());
        tx.send_reply(200, Bytes::from_static(b"200a"), t0, &mut out)
            .unwrap();
        assert_eq!(tx.state(), ServerState::Accepted);
        tx.send_reply(200, Bytes::from_static(b"200b"), t0 + ms(10), &mut out)
            .unwrap();
        assert!(tx
            .send_reply(486, Bytes::new(), t0 + ms(20), &mut out)
            .is_err());
        assert!(tx
            .send_reply(180, Bytes::new(), t0 + ms(20), &mut out)
            .is_err());
        assert!(!tx.on_ack(t0 + ms(30)), "the ACK for a 2xx is end to end");
        tx.on_retransmission(&mut out);
        assert_eq!(out.transmits.back().unwrap().bytes, "200b");
        // Kamailio's wait timer (5 s), not RFC 6026's Timer L.
        assert_eq!(tx.deadline(), Some(t0 + ms(5_000)));
    }
}
