//! The proxy core of one transaction (RFC 3261 §16.6–16.10): the server
//! transaction, its client branches, best-response selection, CANCEL,
//! and the failure point where the script may fork serially.

use std::time::Instant;

use crate::sip::{Method, SipMessage};

use super::build::{cancel_for, challenges, local_reply, relayed_reply, relayed_reply_with};
use super::client::{ClientInput, ClientState, ClientTx};
use super::config::{FailureReplyMode, Timers, TmConfig, UnrepliedCancel};
use super::key::{BranchId, ServerKey};
use super::own_via;
use super::server::{ServerState, ServerTx};
use super::{CellId, Event, FinalReply, Hop, Out, Outgoing, ResponseOutcome, TmError};

/// The final reply a branch ended with.
#[derive(Debug)]
pub(crate) enum BranchFinal {
    Received(Box<SipMessage>),
    /// A 2xx: relayed (or dropped) as it arrived, never chosen later, so
    /// only its code is kept — a cell lives on for `wt_timer` after a 2xx
    /// and the parsed reply was most of its memory.
    Accepted(u16),
    /// Made up here: 408 when the branch timed out, 487 when it was
    /// canceled before it answered.
    Local(u16),
}

impl BranchFinal {
    pub fn code(&self) -> u16 {
        match self {
            BranchFinal::Received(msg) => msg.status_code().unwrap_or(500),
            BranchFinal::Accepted(code) | BranchFinal::Local(code) => *code,
        }
    }
}

#[derive(Debug)]
pub(crate) enum CancelState<H> {
    None,
    /// Canceled before any provisional reply: the CANCEL goes out when one
    /// arrives (§9.1).
    Pending,
    /// Completed with a local 487 without sending a CANCEL
    /// (`cancel_b_method` 0).
    Faked,
    Sent(Box<ClientTx<H>>),
}

#[derive(Debug)]
pub(crate) struct Branch<H> {
    pub tx: ClientTx<H>,
    /// The branch parameter of our Via.
    pub param: String,
    pub hop: H,
    pub final_reply: Option<BranchFinal>,
    /// Any reply, 100 included, arrived.
    pub replied: bool,
    pub timed_out: bool,
    pub cancel: CancelState<H>,
    /// Its reply no longer competes for the best one (`failure_reply_mode`
    /// after a serial forking step).
    pub discarded: bool,
}

impl<H> Branch<H> {
    fn is_pending(&self) -> bool {
        self.final_reply.is_none()
    }
}

/// Where the cell stands towards its final reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Branches (if any) are running, no final reply went upstream.
    Collecting,
    /// Every branch completed; the script's failure route decides.
    Failure { branch: usize },
    /// A final reply went upstream (or the cell was released).
    Done,
}

#[derive(Debug)]
pub(crate) struct Cell<H> {
    pub id: CellId,
    pub request: SipMessage,
    pub invite: bool,
    pub server: ServerTx<H>,
    pub cancel_server: Option<ServerTx<H>>,
    pub branches: Vec<Branch<H>>,
    /// The first branch of the current serial forking step.
    pub step_start: usize,
    pub timers: Timers,
    pub canceled: bool,
    pub six_xx: bool,
    pub failure_armed: bool,
    pub phase: Phase,
    /// Our To tag for local replies.
    pub to_tag: String,
    /// The To tag of the request (RFC 2543 matching of requests).
    pub request_to_tag: Option<Vec<u8>>,
    /// The To tag of the last final reply sent (RFC 2543 matching of the
    /// ACK).
    pub reply_to_tag: Option<Vec<u8>>,
    pub key: ServerKey,
    pub release_at: Option<Instant>,
    /// [`Event::Replied`] went out already.
    pub final_reported: bool,
    /// `max_inv_lifetime` / `max_noninv_lifetime` from creation.
    pub lifetime_end: Option<Instant>,
}

impl<H: Hop> Cell<H> {
    pub fn branch(&self, index: usize) -> Result<&Branch<H>, TmError> {
        self.branches.get(index).ok_or(TmError::NoSuchBranch {
            cell: self.id,
            branch: index,
        })
    }

    /// Sends one more branch (`t_relay`, `t_relay` in a failure route).
    pub fn add_branch(
        &mut self,
        outgoing: Outgoing<H>,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<usize, TmError> {
        if self.canceled {
            return Err(TmError::Canceled);
        }
        if self.six_xx {
            return Err(TmError::After6xx);
        }
        if self.server.is_final() || self.phase == Phase::Done {
            return Err(TmError::AlreadyReplied(self.server.last_code()));
        }
        let index = self.branches.len();
        if let Phase::Failure { branch: best } = self.phase {
            self.start_step(best, cfg.failure_reply_mode);
        }
        let param = BranchId {
            hash: self.id.hash,
            label: self.id.label,
            index,
        }
        .render(&cfg.instance);
        let mut via = String::with_capacity(outgoing.via.len() + 8 + param.len());
        via.push_str(&outgoing.via);
        via.push_str(";branch=");
        via.push_str(&param);
        let bytes = own_via::with_top_via(&outgoing.request, &outgoing.via, &via, &cfg.instance)?;
        if self.invite && cfg.auto_inv_100 && self.server.last_code() == 0 {
            self.reply(100, &cfg.reason_100, now, cfg, out)?;
        }
        let mut tx = ClientTx::new(self.invite, outgoing.hop.clone(), self.timers, bytes);
        tx.start(now, out);
        // Most transactions have one branch: room for one, not the four
        // a Vec starts with (four of these are past glibc's per-thread
        // cache); more grow as usual.
        if self.branches.is_empty() {
            self.branches.reserve_exact(1);
        }
        self.branches.push(Branch {
            tx,
            param,
            hop: outgoing.hop,
            final_reply: None,
            replied: false,
            timed_out: false,
            cancel: CancelState::None,
            discarded: false,
        });
        self.phase = Phase::Collecting;
        Ok(index)
    }

    /// A failure route forks again: the branches so far either keep
    /// competing for the best reply or drop out, as `mode` says.
    fn start_step(&mut self, best: usize, mode: FailureReplyMode) {
        let step_start = self.step_start;
        for (i, b) in self.branches.iter_mut().enumerate() {
            b.discarded |= match mode {
                FailureReplyMode::KeepAll => false,
                FailureReplyMode::DropAll => true,
                FailureReplyMode::KeepLastStep => i < step_start,
                FailureReplyMode::KeepBest => i != best,
            };
        }
        self.step_start = self.branches.len();
    }

    /// A local reply through the server transaction (`t_reply`).
    pub fn reply(
        &mut self,
        code: u16,
        reason: &str,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        let bytes = local_reply(&self.request, code, reason, &self.to_tag)?;
        self.server.send_reply(code, bytes, now, out)?;
        if code >= 200 {
            // LocalReply keeps a To tag the request already had.
            self.reply_to_tag = Some(
                self.request_to_tag
                    .clone()
                    .unwrap_or_else(|| self.to_tag.as_bytes().to_vec()),
            );
            self.phase = Phase::Done;
            self.report_final(code, reason.to_owned(), cfg, out);
        }
        Ok(())
    }

    /// Tells the script side (accounting) about the first final reply
    /// sent upstream.
    fn report_final(&mut self, code: u16, reason: String, cfg: &TmConfig, out: &mut Out<H>) {
        if !cfg.report_finals || self.final_reported {
            return;
        }
        self.final_reported = true;
        let to_tag = self
            .reply_to_tag
            .as_deref()
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default();
        out.event(Event::Replied {
            cell: self.id,
            reply: FinalReply {
                code,
                reason,
                to_tag,
            },
        });
    }

    /// Code, reason and To tag of branch `index`'s final reply (a local
    /// one with the reason the cell would send).
    pub fn final_reply(&self, index: usize, cfg: &TmConfig) -> Option<FinalReply> {
        let f = self.branches.get(index)?.final_reply.as_ref()?;
        Some(match f {
            BranchFinal::Received(msg) => received_reply(msg),
            BranchFinal::Accepted(code) => FinalReply {
                code: *code,
                reason: String::new(),
                to_tag: String::new(),
            },
            BranchFinal::Local(code) => FinalReply {
                code: *code,
                reason: cfg.local_reason(*code).to_owned(),
                to_tag: self.to_tag.clone(),
            },
        })
    }

    /// After a local final reply nobody waits for the branches: cancel
    /// the INVITE ones still pending.
    pub fn cancel_pending_after_local_final(
        &mut self,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        if self.server.is_final() {
            self.cancel_pending(None, now, cfg, out)?;
        }
        Ok(())
    }

    /// A CANCEL for this cell's INVITE (§16.10): 200 to the CANCEL, then
    /// every pending branch canceled.
    pub fn cancel(
        &mut self,
        cancel: &SipMessage,
        hop: H,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        let mut server = ServerTx::new(false, hop, self.timers);
        let ok = local_reply(cancel, 200, &cfg.reason_cancel_ok, &self.to_tag)?;
        server.send_reply(200, ok, now, out)?;
        self.cancel_server = Some(server);
        if self.server.is_final() {
            return Ok(());
        }
        self.canceled = true;
        self.cancel_pending(None, now, cfg, out)?;
        self.check_complete(now, cfg, out)
    }

    fn cancel_pending(
        &mut self,
        except: Option<usize>,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        if !self.invite {
            return Ok(());
        }
        for index in 0..self.branches.len() {
            if Some(index) != except {
                self.cancel_branch(index, now, cfg, out)?;
            }
        }
        Ok(())
    }

    fn cancel_branch(
        &mut self,
        index: usize,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        let branch = &mut self.branches[index];
        if !branch.is_pending() || !matches!(branch.cancel, CancelState::None) {
            return Ok(());
        }
        if branch.replied {
            return self.send_cancel(index, now, out);
        }
        match cfg.cancel_b_method {
            UnrepliedCancel::Fake487 => {
                branch.tx.stop_retransmissions();
                branch.final_reply = Some(BranchFinal::Local(487));
                branch.cancel = CancelState::Faked;
            }
            UnrepliedCancel::WaitForProvisional => branch.cancel = CancelState::Pending,
            UnrepliedCancel::SendNow => {
                branch.tx.stop_retransmissions();
                self.send_cancel(index, now, out)?;
            }
        }
        Ok(())
    }

    fn send_cancel(&mut self, index: usize, now: Instant, out: &mut Out<H>) -> Result<(), TmError> {
        let timers = self.timers;
        let branch = &mut self.branches[index];
        let bytes = cancel_for(&branch.tx.sent()?)?;
        let mut tx = ClientTx::new(false, branch.hop.clone(), timers, bytes);
        tx.start(now, out);
        branch.cancel = CancelState::Sent(Box::new(tx));
        branch.tx.bound_timeout(now + timers.t1x64());
        Ok(())
    }

    /// A response whose top Via carries the branch of `index`.
    pub fn on_response(
        &mut self,
        index: usize,
        response: &SipMessage,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<ResponseOutcome, TmError> {
        let absorbed = ResponseOutcome::Absorbed {
            cell: self.id,
            branch: index,
        };
        let code = response.status_code().ok_or(TmError::NotAResponse)?;
        let for_cancel = response
            .cseq()?
            .is_some_and(|c| c.method() == &Method::Cancel)
            && self.request.method() != Some(Method::Cancel);
        let branch = &mut self.branches[index];
        if for_cancel {
            if let CancelState::Sent(tx) = &mut branch.cancel {
                tx.on_response(response, now, out)?;
            }
            return Ok(absorbed);
        }
        if branch.tx.on_response(response, now, out)? == ClientInput::Absorbed {
            return Ok(absorbed);
        }
        branch.replied = true;
        let processed = ResponseOutcome::Processed {
            cell: self.id,
            branch: index,
            status: code,
        };
        if code < 200 {
            // A branch canceled before it answered (waiting, or already
            // completed with a local 487) gets its CANCEL now, so it stops
            // ringing; its provisionals no longer go upstream.
            let pending = branch.is_pending();
            if matches!(branch.cancel, CancelState::Pending | CancelState::Faked) {
                self.send_cancel(index, now, out)?;
            }
            if pending && code > 100 && !self.server.is_final() && self.phase != Phase::Done {
                self.server
                    .send_reply(code, relayed_reply(response, false)?, now, out)?;
                if code == 183 && cfg.report_early_media && !response.body().is_empty() {
                    out.event(Event::Replied {
                        cell: self.id,
                        reply: received_reply(response),
                    });
                }
            }
            return Ok(processed);
        }
        if code < 300 {
            if branch.is_pending() {
                branch.final_reply = Some(BranchFinal::Accepted(code));
            }
            // Every 2xx to an INVITE goes upstream (§16.7 step 5); for a
            // non-INVITE only the first final does.
            let relay = if self.invite {
                matches!(
                    self.server.state(),
                    ServerState::Proceeding | ServerState::Accepted
                )
            } else {
                !self.server.is_final()
            };
            if relay {
                self.server
                    .send_reply(code, relayed_reply(response, false)?, now, out)?;
                self.reply_to_tag = to_tag_of(response);
                self.phase = Phase::Done;
                self.report_final(code, reason_of(response), cfg, out);
                self.cancel_pending(Some(index), now, cfg, out)?;
            } else if self.invite {
                self.server
                    .send_outside(relayed_reply(response, false)?, out);
            }
            return Ok(processed);
        }
        if !branch.is_pending() {
            // Already completed (timed out, or faked 487): the ACK went out,
            // nothing else to do.
            return Ok(processed);
        }
        branch.final_reply = Some(BranchFinal::Received(Box::new(response.clone())));
        if code >= 600 && self.invite && !self.six_xx {
            self.six_xx = true;
            self.cancel_pending(Some(index), now, cfg, out)?;
        }
        self.check_complete(now, cfg, out)?;
        Ok(processed)
    }

    /// When every branch has completed without a 2xx: the failure point,
    /// or the best reply upstream.
    fn check_complete(
        &mut self,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        if self.phase != Phase::Collecting
            || self.server.is_final()
            || self.branches.is_empty()
            || self.branches.iter().any(Branch::is_pending)
        {
            return Ok(());
        }
        let best = self.best_branch().expect("branches are all complete");
        if self.failure_armed {
            self.failure_armed = false;
            self.phase = Phase::Failure { branch: best };
            out.event(Event::Failure {
                cell: self.id,
                branch: best,
                status: self.final_code(best),
            });
            return Ok(());
        }
        self.relay_best(best, now, cfg, out)
    }

    /// The failure route finished: relay the best reply unless it forked
    /// again or replied.
    pub fn failure_done(
        &mut self,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        match self.phase {
            Phase::Failure { branch } => self.relay_best(branch, now, cfg, out),
            // New branches: wait for them (and maybe fail again).
            Phase::Collecting => self.check_complete(now, cfg, out),
            Phase::Done => Ok(()),
        }
    }

    fn relay_best(
        &mut self,
        best: usize,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        self.phase = Phase::Done;
        match &self.branches[best].final_reply {
            Some(BranchFinal::Received(msg)) => {
                let mut code = msg.status_code().unwrap_or(500);
                if code == 503 && cfg.remap_503_500 {
                    code = 500;
                }
                let extra = if cfg.aggregate_challenges && matches!(code, 401 | 407) {
                    self.other_challenges(best)
                } else {
                    Vec::new()
                };
                let bytes = relayed_reply_with(msg, cfg.remap_503_500, &extra)?;
                self.reply_to_tag = to_tag_of(msg);
                let reason = reason_of(msg);
                self.server.send_reply(code, bytes, now, out)?;
                self.report_final(code, reason, cfg, out);
                Ok(())
            }
            // Went upstream when it arrived.
            Some(BranchFinal::Accepted(_)) => Ok(()),
            Some(BranchFinal::Local(code)) => {
                self.reply(*code, cfg.local_reason(*code), now, cfg, out)
            }
            None => Ok(()),
        }
    }

    /// The challenges of the 401 and 407 replies of every branch but
    /// `best`.
    fn other_challenges(&self, best: usize) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (i, b) in self.branches.iter().enumerate() {
            if let (true, Some(BranchFinal::Received(msg))) =
                (i != best && !b.discarded, &b.final_reply)
            {
                if matches!(msg.status_code(), Some(401 | 407)) {
                    out.extend(challenges(msg));
                }
            }
        }
        out
    }

    /// The best final reply among completed branches (§16.7 step 6): a
    /// 6xx first, then the lowest class (2xx, 3xx, 4xx, 5xx); within a
    /// class a received reply before a local one, then the lowest code,
    /// then the earliest branch.
    pub fn best_branch(&self) -> Option<usize> {
        self.branches
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.discarded)
            .filter_map(|(i, b)| b.final_reply.as_ref().map(|f| (i, f)))
            .min_by_key(|(i, f)| {
                let code = f.code();
                let class = if code >= 600 { 0 } else { code / 100 };
                let local = matches!(f, BranchFinal::Local(_));
                (class, local, code, *i)
            })
            .map(|(i, _)| i)
    }

    pub fn final_code(&self, index: usize) -> u16 {
        self.branches[index]
            .final_reply
            .as_ref()
            .map_or(0, BranchFinal::code)
    }

    /// The earliest timer of the cell's transactions (computed on every
    /// reschedule, so without collecting them first).
    pub fn deadline(&self) -> Option<Instant> {
        let own = [self.server.deadline(), self.release_at, self.lifetime_end];
        let cancel_server = self.cancel_server.as_ref().map(ServerTx::deadline);
        let branches = self.branches.iter().flat_map(|b| {
            let cancel = match &b.cancel {
                CancelState::Sent(tx) => tx.deadline(),
                _ => None,
            };
            [b.tx.deadline(), cancel]
        });
        own.into_iter()
            .chain([cancel_server.flatten()])
            .chain(branches)
            .flatten()
            .min()
    }

    pub fn on_timeout(
        &mut self,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        if self.release_at.is_some_and(|t| t <= now) {
            self.terminate_all();
            return Ok(());
        }
        if self.lifetime_end.is_some_and(|t| t <= now) {
            self.lifetime_end = None;
            self.end_of_lifetime(now, cfg, out)?;
        }
        if self.server.deadline().is_some_and(|t| t <= now) {
            self.server.on_timeout(now, out);
        }
        if let Some(cs) = &mut self.cancel_server {
            if cs.deadline().is_some_and(|t| t <= now) {
                cs.on_timeout(now, out);
            }
        }
        for index in 0..self.branches.len() {
            let branch = &mut self.branches[index];
            if let CancelState::Sent(tx) = &mut branch.cancel {
                if tx.deadline().is_some_and(|t| t <= now) {
                    tx.on_timeout(now, out);
                }
            }
            if branch.tx.deadline().is_none_or(|t| t > now) {
                continue;
            }
            if !branch.tx.on_timeout(now, out) {
                continue;
            }
            branch.timed_out = true;
            if !branch.is_pending() {
                continue;
            }
            let code = if self.canceled { 487 } else { 408 };
            branch.final_reply = Some(BranchFinal::Local(code));
            // fr_inv after a provisional: Kamailio cancels the branch.
            if self.invite && branch.replied && matches!(branch.cancel, CancelState::None) {
                self.send_cancel(index, now, out)?;
            }
        }
        self.check_complete(now, cfg, out)
    }

    /// The transaction lived as long as it may without a final reply:
    /// every pending branch ends as timed out (INVITE branches with a
    /// provisional are canceled) and the best reply, or a local 408 when
    /// there is no branch, goes upstream. A failure route is not run again.
    fn end_of_lifetime(
        &mut self,
        now: Instant,
        cfg: &TmConfig,
        out: &mut Out<H>,
    ) -> Result<(), TmError> {
        if self.server.is_final() || self.phase == Phase::Done {
            return Ok(());
        }
        let code = if self.canceled { 487 } else { 408 };
        for index in 0..self.branches.len() {
            let branch = &mut self.branches[index];
            if !branch.is_pending() {
                continue;
            }
            branch.timed_out = true;
            branch.final_reply = Some(BranchFinal::Local(code));
            branch.tx.stop_retransmissions();
            if self.invite && branch.replied && matches!(branch.cancel, CancelState::None) {
                self.send_cancel(index, now, out)?;
            }
        }
        match self.best_branch() {
            Some(best) => self.relay_best(best, now, cfg, out),
            None => self.reply(code, cfg.local_reason(code), now, cfg, out),
        }
    }

    /// `t_release`: stop retransmitting, keep absorbing for `wait`, then go.
    pub fn release(&mut self, now: Instant) {
        for b in &mut self.branches {
            b.tx.stop_retransmissions();
        }
        if matches!(self.phase, Phase::Failure { .. }) {
            self.phase = Phase::Done;
        }
        self.release_at = Some(now + self.timers.wait);
    }

    fn terminate_all(&mut self) {
        self.server.terminate();
        if let Some(cs) = &mut self.cancel_server {
            cs.terminate();
        }
        for b in &mut self.branches {
            b.tx.terminate();
            if let CancelState::Sent(tx) = &mut b.cancel {
                tx.terminate();
            }
        }
        self.phase = Phase::Done;
    }

    /// Nothing left to do or absorb: the table drops the cell.
    pub fn is_finished(&self) -> bool {
        self.server.state() == ServerState::Terminated
            && self
                .cancel_server
                .as_ref()
                .is_none_or(|cs| cs.state() == ServerState::Terminated)
            && self.branches.iter().all(|b| {
                b.tx.state() == ClientState::Terminated
                    && match &b.cancel {
                        CancelState::Sent(tx) => tx.state() == ClientState::Terminated,
                        _ => true,
                    }
            })
    }
}

fn to_tag_of(msg: &SipMessage) -> Option<Vec<u8>> {
    msg.to_tag().map(|t| t.to_vec())
}

/// What accounting records of a reply received from downstream.
fn received_reply(msg: &SipMessage) -> FinalReply {
    FinalReply {
        code: msg.status_code().unwrap_or(500),
        reason: reason_of(msg),
        to_tag: to_tag_of(msg)
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default(),
    }
}

fn reason_of(msg: &SipMessage) -> String {
    msg.reason_phrase()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .unwrap_or_default()
}
