//! One shard of the transaction table: the cells, the indexes that find
//! them, the timer queue and what waits to be sent or told.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::sip::{Method, SipMessage};

use super::cell::{Cell, Phase};
use super::config::TmConfig;
use super::key::{push_hex, request_hash, server_key, BranchId, MethodClass, ServerKey};
use super::labels::LabelMap;
use super::server::ServerTx;
use super::{
    CellId, Event, FinalReply, Hop, NewTransaction, Out, Outgoing, RequestOutcome, ResponseOutcome,
    TmError, Transmit,
};

/// See the [module documentation](super).
#[derive(Debug)]
pub struct Table<H> {
    config: TmConfig,
    cells: LabelMap<Cell<H>>,
    keys: HashMap<ServerKey, Vec<u64>>,
    timers: BTreeSet<(Instant, u64)>,
    scheduled: LabelMap<Instant>,
    next_label: u64,
    out: Out<H>,
}

impl<H: Hop> Table<H> {
    pub fn new(mut config: TmConfig) -> Self {
        config.timers = config.timers.clamped();
        Table {
            config,
            cells: LabelMap::default(),
            keys: HashMap::new(),
            timers: BTreeSet::new(),
            scheduled: LabelMap::default(),
            next_label: 1,
            out: Out::new(),
        }
    }

    pub fn config(&self) -> &TmConfig {
        &self.config
    }

    /// How many cells are alive.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn contains(&self, cell: CellId) -> bool {
        self.cell(cell).is_ok()
    }

    /// A request from `hop`: a retransmission, the ACK of a non-2xx final,
    /// a CANCEL for a cell, or new.
    pub fn handle_request(
        &mut self,
        msg: &SipMessage,
        now: Instant,
    ) -> Result<RequestOutcome, TmError> {
        let method = msg.method().ok_or(TmError::NotARequest)?;
        match method {
            Method::Ack => {
                let Some(label) = self.find(msg, MethodClass::Invite, Match::Ack)? else {
                    return Ok(RequestOutcome::Unmatched);
                };
                let cell = self.cells.get_mut(&label).expect("indexed cell");
                let id = cell.id;
                let absorbed = cell.server.on_ack(now);
                self.reschedule(label);
                Ok(if absorbed {
                    RequestOutcome::AckAbsorbed { cell: id }
                } else {
                    RequestOutcome::Unmatched
                })
            }
            Method::Cancel => {
                if let Some(id) = self.retransmission(msg, MethodClass::of(&method))? {
                    return Ok(RequestOutcome::Retransmission { cell: id });
                }
                let Some(label) = self.find(msg, MethodClass::Invite, Match::Request)? else {
                    return Ok(RequestOutcome::Unmatched);
                };
                let cell = self.cells.get_mut(&label).expect("indexed cell");
                let id = cell.id;
                match &mut cell.cancel_server {
                    Some(cs) => {
                        cs.on_retransmission(&mut self.out);
                        Ok(RequestOutcome::Retransmission { cell: id })
                    }
                    None => Ok(RequestOutcome::CancelFor { cell: id }),
                }
            }
            other => Ok(match self.retransmission(msg, MethodClass::of(&other))? {
                Some(id) => RequestOutcome::Retransmission { cell: id },
                None => RequestOutcome::Unmatched,
            }),
        }
    }

    fn retransmission(
        &mut self,
        msg: &SipMessage,
        class: MethodClass,
    ) -> Result<Option<CellId>, TmError> {
        let Some(label) = self.find(msg, class, Match::Request)? else {
            return Ok(None);
        };
        let cell = self.cells.get_mut(&label).expect("indexed cell");
        cell.server.on_retransmission(&mut self.out);
        Ok(Some(cell.id))
    }

    /// The cell `msg` belongs to as a member of `class`' transaction.
    fn find(
        &self,
        msg: &SipMessage,
        class: MethodClass,
        how: Match,
    ) -> Result<Option<u64>, TmError> {
        let (key, to_tag) = server_key(msg, class)?;
        Ok(self.find_key(&key, &to_tag, how))
    }

    /// The cell of `key` whose request (or, for an ACK, reply) had
    /// `to_tag`.
    fn find_key(&self, key: &ServerKey, to_tag: &Option<Vec<u8>>, how: Match) -> Option<u64> {
        let labels = self.keys.get(key)?;
        let rfc2543 = matches!(key, ServerKey::Rfc2543 { .. });
        labels.iter().copied().find(|label| {
            let cell = &self.cells[label];
            if !rfc2543 {
                return true;
            }
            match how {
                Match::Request => cell.request_to_tag == *to_tag,
                // §17.2.3: the ACK's To tag is the one of our reply.
                Match::Ack => cell.reply_to_tag.is_some() && cell.reply_to_tag == *to_tag,
            }
        })
    }

    /// `t_newtran`: [`Table::handle_request`], then [`Table::create`] when
    /// the request had no transaction, with one server key for both
    /// steps (computing it, copies and case folds of the Via, costs more
    /// than a lookup).
    pub fn new_transaction(
        &mut self,
        request: &SipMessage,
        hop: H,
        now: Instant,
    ) -> Result<NewTransaction, TmError> {
        let method = request.method().ok_or(TmError::NotARequest)?;
        if matches!(method, Method::Ack | Method::Cancel) {
            return match self.handle_request(request, now)? {
                RequestOutcome::Unmatched => {
                    self.create(request, hop, now).map(NewTransaction::Created)
                }
                other => Ok(NewTransaction::Existing(other)),
            };
        }
        let (key, to_tag) = server_key(request, MethodClass::of(&method))?;
        if let Some(label) = self.find_key(&key, &to_tag, Match::Request) {
            let cell = self.cells.get_mut(&label).expect("indexed cell");
            cell.server.on_retransmission(&mut self.out);
            let outcome = RequestOutcome::Retransmission { cell: cell.id };
            return Ok(NewTransaction::Existing(outcome));
        }
        self.insert(request, method, key, to_tag, hop, now)
            .map(NewTransaction::Created)
    }

    /// Creates the transaction of `request` (`t_newtran`); replies will
    /// go to `hop`.
    pub fn create(
        &mut self,
        request: &SipMessage,
        hop: H,
        now: Instant,
    ) -> Result<CellId, TmError> {
        let method = request.method().ok_or(TmError::NotARequest)?;
        if method == Method::Ack {
            return Err(TmError::AckHasNoTransaction);
        }
        // One key for the lookup and the index.
        let (key, request_to_tag) = server_key(request, MethodClass::of(&method))?;
        if let Some(label) = self.find_key(&key, &request_to_tag, Match::Request) {
            return Err(TmError::Exists(self.cells[&label].id));
        }
        self.insert(request, method, key, request_to_tag, hop, now)
    }

    /// A new cell for `request`, which has none, indexed by `key`.
    fn insert(
        &mut self,
        request: &SipMessage,
        method: Method,
        key: ServerKey,
        request_to_tag: Option<Vec<u8>>,
        hop: H,
        now: Instant,
    ) -> Result<CellId, TmError> {
        let hash = request_hash(request)?;
        let label = self.next_label;
        self.next_label += 1;
        let id = CellId { hash, label };
        let invite = method == Method::Invite;
        let timers = self.config.timers;
        let cell = Cell {
            id,
            request: request.clone(),
            invite,
            server: ServerTx::new(invite, hop, timers),
            cancel_server: None,
            branches: Vec::new(),
            step_start: 0,
            final_reported: false,
            timers,
            canceled: false,
            six_xx: false,
            failure_armed: false,
            phase: Phase::Collecting,
            to_tag: to_tag(&self.config.instance, id),
            request_to_tag,
            reply_to_tag: None,
            key: key.clone(),
            release_at: None,
            lifetime_end: Some(
                now + if invite {
                    timers.max_inv_lifetime
                } else {
                    timers.max_noninv_lifetime
                },
            ),
        };
        self.keys.entry(key).or_default().push(label);
        self.cells.insert(label, cell);
        self.reschedule(label);
        Ok(id)
    }

    /// Sends one more branch of `cell`; an INVITE gets its 100 Trying
    /// first when `auto_inv_100`. Returns the branch index.
    pub fn forward(
        &mut self,
        cell: CellId,
        outgoing: Outgoing<H>,
        now: Instant,
    ) -> Result<usize, TmError> {
        let label = self.label(cell)?;
        let c = self.cells.get_mut(&label).expect("checked");
        let result = c.add_branch(outgoing, now, &self.config, &mut self.out);
        self.reschedule(label);
        result
    }

    /// A local reply (`t_reply`); a final one cancels the INVITE branches
    /// still pending.
    pub fn reply(
        &mut self,
        cell: CellId,
        code: u16,
        reason: &str,
        now: Instant,
    ) -> Result<(), TmError> {
        let label = self.label(cell)?;
        let c = self.cells.get_mut(&label).expect("checked");
        let mut result = c.reply(code, reason, now, &self.config, &mut self.out);
        if result.is_ok() {
            result = c.cancel_pending_after_local_final(now, &self.config, &mut self.out);
        }
        self.reschedule(label);
        result
    }

    /// Cancels `cell` on behalf of the CANCEL `cancel` that came from
    /// `hop` ([`RequestOutcome::CancelFor`]): 200 to the CANCEL, CANCEL
    /// (or a wait for a provisional reply, per `cancel_b_method`) on every
    /// pending branch.
    pub fn cancel(
        &mut self,
        cell: CellId,
        cancel: &SipMessage,
        hop: H,
        now: Instant,
    ) -> Result<(), TmError> {
        let label = self.label(cell)?;
        let c = self.cells.get_mut(&label).expect("checked");
        let result = c.cancel(cancel, hop, now, &self.config, &mut self.out);
        self.reschedule(label);
        result
    }

    /// The cell and branch of a response, by the branch of its top Via;
    /// `None` when it is not a reply to anything we sent.
    pub fn match_response(&self, response: &SipMessage) -> Option<(CellId, usize)> {
        response.status_code()?;
        let via = response.top_via().ok()??;
        let param = via.branch()?;
        let id = BranchId::parse(param.as_bytes(), &self.config.instance)?;
        let cell = self.cells.get(&id.label)?;
        let branch = cell.branches.get(id.index)?;
        (cell.id.hash == id.hash && branch.param.as_bytes() == param.as_bytes())
            .then_some((cell.id, id.index))
    }

    /// A response from downstream: the reply path. A script that runs an
    /// onreply route calls [`Table::match_response`] first.
    pub fn handle_response(
        &mut self,
        response: &SipMessage,
        now: Instant,
    ) -> Result<ResponseOutcome, TmError> {
        let Some((cell, branch)) = self.match_response(response) else {
            return Ok(ResponseOutcome::Unmatched);
        };
        let label = cell.label;
        let c = self.cells.get_mut(&label).expect("matched");
        let result = c.on_response(branch, response, now, &self.config, &mut self.out);
        self.reschedule(label);
        result
    }

    /// `t_on_failure`: the next time every branch fails, emit
    /// [`Event::Failure`] instead of relaying the best reply at once.
    pub fn arm_failure(&mut self, cell: CellId) -> Result<(), TmError> {
        self.cell_mut(cell)?.failure_armed = true;
        Ok(())
    }

    /// The failure route of `cell` is over.
    pub fn failure_done(&mut self, cell: CellId, now: Instant) -> Result<(), TmError> {
        let label = self.label(cell)?;
        let c = self.cells.get_mut(&label).expect("checked");
        let result = c.failure_done(now, &self.config, &mut self.out);
        self.reschedule(label);
        result
    }

    /// `t_set_fr(fr_inv, fr)`: timeouts for the branches `cell` creates
    /// from now on (`None` keeps a value).
    pub fn set_fr(
        &mut self,
        cell: CellId,
        fr_inv: Option<Duration>,
        fr: Option<Duration>,
    ) -> Result<(), TmError> {
        let c = self.cell_mut(cell)?;
        if let Some(v) = fr_inv {
            c.timers.fr_inv = v;
        }
        if let Some(v) = fr {
            c.timers.fr = v;
        }
        c.timers = c.timers.clamped();
        Ok(())
    }

    /// `t_set_retr(t1, t2)`: retransmission intervals for the branches
    /// `cell` creates from now on.
    pub fn set_retr(
        &mut self,
        cell: CellId,
        t1: Option<Duration>,
        t2: Option<Duration>,
    ) -> Result<(), TmError> {
        let c = self.cell_mut(cell)?;
        if let Some(v) = t1 {
            c.timers.t1 = v;
        }
        if let Some(v) = t2 {
            c.timers.t2 = v;
        }
        c.timers = c.timers.clamped();
        Ok(())
    }

    /// `t_release`: stop retransmitting, absorb for `wt_timer`, then drop
    /// the cell.
    pub fn release(&mut self, cell: CellId, now: Instant) -> Result<(), TmError> {
        let label = self.label(cell)?;
        self.cells.get_mut(&label).expect("checked").release(now);
        self.reschedule(label);
        Ok(())
    }

    /// What `t_check_status` matches: in the failure route the best
    /// reply's code, else the last reply sent upstream (`None` before any).
    pub fn status(&self, cell: CellId) -> Result<Option<u16>, TmError> {
        let c = self.cell(cell)?;
        Ok(match c.phase {
            Phase::Failure { branch } => Some(c.final_code(branch)),
            _ => Some(c.server.last_code()).filter(|&code| code != 0),
        })
    }

    /// Code, reason and To tag of the final reply branch `branch` of
    /// `cell` ended with (what a failure route's accounting records).
    pub fn final_reply(&self, cell: CellId, branch: usize) -> Option<FinalReply> {
        self.cell(cell).ok()?.final_reply(branch, &self.config)
    }

    /// The INVITE transaction an ACK for a 2xx belongs to (end to end, so
    /// it carries a branch of its own): same Call-ID, CSeq number and From
    /// tag, and the To tag of the 2xx that went upstream. A scan: only
    /// accounting (acc `report_ack`) asks.
    pub fn e2e_ack_cell(&self, ack: &SipMessage) -> Option<(CellId, FinalReply)> {
        let call_id = ack.call_id().ok()??;
        let number = ack.cseq().ok()??.number();
        let from_tag = ack.from_tag()?;
        let to_tag = ack.to_tag()?;
        self.cells
            .values()
            .find(|c| {
                c.invite
                    && (200..300).contains(&c.server.last_code())
                    && c.reply_to_tag.as_deref() == Some(to_tag.as_bytes())
                    && c.request.cseq().ok().flatten().map(|q| q.number()) == Some(number)
                    && c.request.call_id().ok().flatten() == Some(call_id)
                    && c.request.from_header().ok().flatten().and_then(|f| f.tag())
                        == Some(from_tag)
            })
            .map(|c| {
                let reply = FinalReply {
                    code: c.server.last_code(),
                    reason: c.server.last_reason().unwrap_or_default(),
                    to_tag: to_tag.to_string(),
                };
                (c.id, reply)
            })
    }

    /// Code and reason of the last reply `cell` sent upstream.
    pub fn last_reply(&self, cell: CellId) -> Option<(u16, String)> {
        let c = self.cell(cell).ok()?;
        let code = c.server.last_code();
        (code != 0).then(|| (code, c.server.last_reason().unwrap_or_default()))
    }

    /// `t_is_canceled`.
    pub fn is_canceled(&self, cell: CellId) -> Result<bool, TmError> {
        Ok(self.cell(cell)?.canceled)
    }

    /// `t_branch_timeout`: branch `index` ended by a timeout.
    pub fn branch_timed_out(&self, cell: CellId, index: usize) -> Result<bool, TmError> {
        Ok(self.cell(cell)?.branch(index)?.timed_out)
    }

    /// `t_any_timeout`.
    pub fn any_timeout(&self, cell: CellId) -> Result<bool, TmError> {
        Ok(self.cell(cell)?.branches.iter().any(|b| b.timed_out))
    }

    /// `t_branch_replied`: branch `index` received a reply.
    pub fn branch_replied(&self, cell: CellId, index: usize) -> Result<bool, TmError> {
        Ok(self.cell(cell)?.branch(index)?.replied)
    }

    /// `t_any_replied`.
    pub fn any_replied(&self, cell: CellId) -> Result<bool, TmError> {
        Ok(self.cell(cell)?.branches.iter().any(|b| b.replied))
    }

    /// The final reply branch `index` received (`$T_rpl` in a failure
    /// route); `None` while pending or when it was made up locally.
    pub fn branch_reply(&self, cell: CellId, index: usize) -> Result<Option<&SipMessage>, TmError> {
        Ok(match &self.cell(cell)?.branch(index)?.final_reply {
            Some(super::cell::BranchFinal::Received(msg)) => Some(msg),
            _ => None,
        })
    }

    /// How many branches `cell` has created.
    pub fn branch_count(&self, cell: CellId) -> Result<usize, TmError> {
        Ok(self.cell(cell)?.branches.len())
    }

    /// The final code branch `index` ended with (0 while pending).
    pub fn branch_status(&self, cell: CellId, index: usize) -> Result<u16, TmError> {
        let c = self.cell(cell)?;
        c.branch(index)?;
        Ok(c.final_code(index))
    }

    pub fn server_state(&self, cell: CellId) -> Result<super::ServerState, TmError> {
        Ok(self.cell(cell)?.server.state())
    }

    pub fn client_state(&self, cell: CellId, index: usize) -> Result<super::ClientState, TmError> {
        Ok(self.cell(cell)?.branch(index)?.tx.state())
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit<H>> {
        self.out.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    /// When [`Table::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Runs every timer due at `now`. Errors (a message that could not be
    /// built) are returned after all timers ran; the cell concerned goes
    /// on.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), TmError> {
        let mut first_error = None;
        while let Some(&(at, label)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, label));
            self.scheduled.remove(&label);
            if let Some(cell) = self.cells.get_mut(&label) {
                if let Err(e) = cell.on_timeout(now, &self.config, &mut self.out) {
                    first_error.get_or_insert(e);
                }
            }
            self.reschedule(label);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Puts the cell's next deadline in the queue, or drops the cell when
    /// it has nothing left to do.
    fn reschedule(&mut self, label: u64) {
        if let Some(at) = self.scheduled.remove(&label) {
            self.timers.remove(&(at, label));
        }
        let Some(cell) = self.cells.get(&label) else {
            return;
        };
        if cell.is_finished() {
            let cell = self.cells.remove(&label).expect("present");
            if let Some(labels) = self.keys.get_mut(&cell.key) {
                labels.retain(|&l| l != label);
                if labels.is_empty() {
                    self.keys.remove(&cell.key);
                }
            }
            self.out.event(Event::Released { cell: cell.id });
            return;
        }
        if let Some(at) = cell.deadline() {
            self.timers.insert((at, label));
            self.scheduled.insert(label, at);
        }
    }

    fn label(&self, cell: CellId) -> Result<u64, TmError> {
        self.cell(cell).map(|c| c.id.label)
    }

    fn cell(&self, id: CellId) -> Result<&Cell<H>, TmError> {
        self.cells
            .get(&id.label)
            .filter(|c| c.id == id)
            .ok_or(TmError::NoSuchCell(id))
    }

    fn cell_mut(&mut self, id: CellId) -> Result<&mut Cell<H>, TmError> {
        self.cells
            .get_mut(&id.label)
            .filter(|c| c.id == id)
            .ok_or(TmError::NoSuchCell(id))
    }
}

/// Which To tag a RFC 2543 match compares.
#[derive(Debug, Clone, Copy)]
enum Match {
    Request,
    Ack,
}

/// The To tag of our local replies in a cell: `instance-hash-label`,
/// hash as 8 hex digits, label in hex (by hand: one per transaction).
fn to_tag(instance: &str, id: CellId) -> String {
    let mut out = String::with_capacity(instance.len() + 2 + 8 + 16);
    out.push_str(instance);
    out.push('-');
    push_hex(&mut out, u64::from(id.hash), 8);
    out.push('-');
    push_hex(&mut out, id.label, 1);
    out
}
