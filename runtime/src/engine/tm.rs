//! The tm module's script functions over the shared transaction tables
//! ([`Transactions`]): `t_relay` and its variants, `t_newtran`, `t_reply`,
//! `t_check_trans`, `t_release`, `t_on_failure` / `t_on_reply`, and the
//! tests of a transaction's state. Kamailio's return codes: > 0 true,
//! < 0 false, 0 ends the script (a retransmission was absorbed).

use super::exec::{Ctx, Halt, RouteMode};
use super::transactions::{CellScript, Hop, Transactions};
use super::{Destination, Output, Proto};
use crate::sip::SipMessage;
use crate::tm::{self, CellId, NewTransaction, RequestOutcome, TmError};
use bytes::Bytes;
use sercompat_compiler::ir::{RouteId, Value, ValueKind};
use sercompat_compiler::routes::RouteClass;
use std::sync::Arc;
use std::time::Duration;

/// Functions and their argument counts.
pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("tm", "t_relay", 0, 2),
    ("tm", "t_relay_to_udp", 0, 2),
    ("tm", "t_relay_to_tcp", 0, 2),
    ("tm", "t_forward_nonack", 2, 2),
    ("tm", "t_forward_nonack_udp", 2, 2),
    ("tm", "t_forward_nonack_tcp", 2, 2),
    ("tm", "t_newtran", 0, 0),
    ("tm", "t_reply", 2, 2),
    ("tm", "t_send_reply", 2, 2),
    ("tm", "t_release", 0, 0),
    ("tm", "t_check_trans", 0, 0),
    ("tm", "t_on_failure", 1, 1),
    ("tm", "t_on_negative", 1, 1),
    ("tm", "t_on_reply", 1, 1),
    ("tm", "t_on_branch", 1, 1),
    ("tm", "t_check_status", 1, 1),
    ("tm", "t_is_canceled", 0, 0),
    ("tm", "t_was_cancelled", 0, 0),
    ("tm", "t_branch_timeout", 0, 0),
    ("tm", "t_branch_replied", 0, 0),
    ("tm", "t_any_timeout", 0, 0),
    ("tm", "t_any_replied", 0, 0),
    ("tm", "t_set_fr", 1, 2),
    ("tm", "t_reset_fr", 0, 0),
];

/// The script's tm state for one message.
#[derive(Debug, Default)]
pub(crate) struct TmState {
    /// The transaction of this message, once created or found.
    pub cell: Option<CellId>,
    /// Armed before the transaction exists (`t_on_failure` then
    /// `t_relay`); attached to it on creation.
    pub failure_route: Option<RouteId>,
    pub reply_route: Option<RouteId>,
    /// `t_on_branch`: runs for each branch `t_relay` creates (per
    /// message, as in Kamailio: a failure route arms it again).
    pub branch_route: Option<RouteId>,
    /// `t_set_fr` before the transaction exists, in milliseconds.
    pub fr: Option<(Option<u64>, Option<u64>)>,
    /// A branch route is running (tmx `t_is_branch_route`).
    pub in_branch_route: bool,
}

/// tmx `t_flush_flags`: the message flags become the transaction's.
pub(crate) fn flush_flags(ctx: &mut Ctx) -> i64 {
    let (Some(tms), Some(cell)) = (ctx.cfg.tm.clone(), current_cell(ctx)) else {
        return -1;
    };
    let flags = ctx.flags;
    tms.update_script(cell, |s| s.flags = flags);
    1
}

pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    let Some(tms) = ctx.cfg.tm.clone() else {
        // The engine refuses a config calling tm without loading it.
        ctx.error(&format!("{name}: the tm module is not loaded"));
        return Ok(-1);
    };
    Ok(match name {
        "t_relay" | "t_forward_nonack" => relay(ctx, &tms, args, None)?,
        "t_relay_to_udp" | "t_forward_nonack_udp" => relay(ctx, &tms, args, Some(Proto::Udp))?,
        "t_relay_to_tcp" | "t_forward_nonack_tcp" => relay(ctx, &tms, args, Some(Proto::Tcp))?,
        "t_newtran" => match new_transaction(ctx, &tms)? {
            Some(_) => 1,
            None => 0,
        },
        "t_reply" | "t_send_reply" => {
            let code = ctx.eval(&args[0])?.as_int();
            let reason = ctx.eval(&args[1])?.as_string();
            t_reply(ctx, &tms, code, &reason)?
        }
        "t_release" => match current_cell(ctx) {
            Some(cell) => ok(tms.for_cell(cell).release(cell, ctx.tm_now()).is_ok()),
            None => -1,
        },
        "t_check_trans" => check_trans(ctx, &tms)?,
        "t_on_branch" => {
            let Some(id) = armed_route(ctx, name, RouteClass::Branch, &args[0])? else {
                return Ok(-1);
            };
            ctx.tm.branch_route = Some(id);
            1
        }
        "t_on_failure" | "t_on_negative" | "t_on_reply" => {
            // SER 0.8's t_on_negative arms a `reply_route[N]`, which the
            // IR records as a failure route.
            let class = if name != "t_on_reply" {
                RouteClass::Failure
            } else {
                RouteClass::OnReply
            };
            let Some(id) = armed_route(ctx, name, class, &args[0])? else {
                return Ok(-1);
            };
            arm(ctx, &tms, class, id);
            1
        }
        "t_check_status" => {
            let Some(status) = status(ctx, &tms) else {
                return Ok(-1);
            };
            // A constant pattern was compiled with the config (a status
            // code has no newline, so the module flags do not matter).
            if let ValueKind::Pattern(p) = &args[0].kind {
                if let Ok(re) = &p.regex {
                    return Ok(ok(re.is_match(&status.to_string())));
                }
            }
            let pattern = ctx.eval(&args[0])?.as_string();
            match sercompat_compiler::ir::compile_regex(&pattern) {
                Ok(re) => ok(re.is_match(&status.to_string())),
                Err(why) => {
                    ctx.error(&format!(
                        "t_check_status: `{pattern}` does not compile: {why}"
                    ));
                    -1
                }
            }
        }
        "t_is_canceled" | "t_was_cancelled" => cell_test(ctx, &tms, |t, c| t.is_canceled(c)),
        "t_any_timeout" => cell_test(ctx, &tms, |t, c| t.any_timeout(c)),
        "t_any_replied" => cell_test(ctx, &tms, |t, c| t.any_replied(c)),
        "t_branch_timeout" | "t_branch_replied" => {
            let RouteMode::Failure { branch, .. } = ctx.mode else {
                ctx.error(&format!("{name}: only in a failure route"));
                return Ok(-1);
            };
            if name == "t_branch_timeout" {
                cell_test(ctx, &tms, |t, c| t.branch_timed_out(c, branch))
            } else {
                cell_test(ctx, &tms, |t, c| t.branch_replied(c, branch))
            }
        }
        "t_set_fr" => {
            let inv = ctx.eval(&args[0])?.as_int();
            let noninv = match args.get(1) {
                Some(a) => Some(ctx.eval(a)?.as_int()),
                None => None,
            };
            // 0 keeps the current value.
            let ms = |n: i64| u64::try_from(n).ok().filter(|&n| n > 0);
            set_fr(ctx, &tms, ms(inv), noninv.and_then(ms))
        }
        "t_reset_fr" => {
            let defaults = tms.lock(0).config().timers;
            set_fr(
                ctx,
                &tms,
                Some(defaults.fr_inv.as_millis() as u64),
                Some(defaults.fr.as_millis() as u64),
            )
        }
        other => {
            ctx.error(&format!("tm function `{other}` has no handler"));
            -1
        }
    })
}

fn ok(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

fn current_cell(ctx: &Ctx) -> Option<CellId> {
    match ctx.mode {
        RouteMode::Failure { cell, .. } | RouteMode::Reply { cell, .. } => Some(cell),
        RouteMode::Request => ctx.tm.cell,
    }
}

fn cell_test(
    ctx: &mut Ctx,
    tms: &Transactions,
    test: impl FnOnce(&tm::Table<Hop>, CellId) -> Result<bool, TmError>,
) -> i64 {
    match current_cell(ctx) {
        Some(cell) => ok(test(&tms.for_cell(cell), cell).unwrap_or(false)),
        None => -1,
    }
}

/// A failure or onreply route by name or number.
/// The block a `t_on_*` argument names: resolved by the IR for a constant,
/// looked up by name for one computed at run time; `None` after logging
/// that there is no such block.
fn armed_route(
    ctx: &mut Ctx,
    func: &str,
    class: RouteClass,
    arg: &Value,
) -> Result<Option<RouteId>, Halt> {
    if let ValueKind::RouteArg(r) = &arg.kind {
        if r.class == class && r.id.is_some() {
            return Ok(r.id);
        }
    }
    let route = ctx.eval(arg)?.as_string();
    let id = route_id(ctx, class, &route);
    if id.is_none() {
        ctx.error(&format!("{func}: no route `{route}`"));
    }
    Ok(id)
}

fn route_id(ctx: &Ctx, class: RouteClass, name: &str) -> Option<RouteId> {
    let name = name.trim();
    let key = if name.chars().all(|c| c.is_ascii_digit()) {
        let t = name.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }.to_string()
    } else {
        name.to_string()
    };
    ctx.prog.by_name.get(&(class, key)).copied()
}

fn arm(ctx: &mut Ctx, tms: &Transactions, class: RouteClass, id: RouteId) {
    let failure = class == RouteClass::Failure;
    match current_cell(ctx) {
        Some(cell) => {
            tms.update_script(cell, |s| {
                if failure {
                    s.failure_route = Some(id);
                } else {
                    s.reply_route = Some(id);
                }
            });
            if failure {
                // Kamailio arms the next failure point from a failure route
                // too (serial forking chains).
                let _ = tms.for_cell(cell).arm_failure(cell);
            }
        }
        None if failure => ctx.tm.failure_route = Some(id),
        None => ctx.tm.reply_route = Some(id),
    }
}

/// The status `t_check_status` tests: the reply being processed (onreply
/// route), the best reply (failure route), else the transaction's last
/// final reply.
fn status(ctx: &Ctx, tms: &Transactions) -> Option<u16> {
    match ctx.mode {
        RouteMode::Failure { status, .. } | RouteMode::Reply { status, .. } => Some(status),
        RouteMode::Request => {
            let cell = ctx.tm.cell?;
            tms.for_cell(cell).status(cell).ok().flatten()
        }
    }
}

fn set_fr(ctx: &mut Ctx, tms: &Transactions, inv: Option<u64>, noninv: Option<u64>) -> i64 {
    match current_cell(ctx) {
        Some(cell) => ok(tms
            .for_cell(cell)
            .set_fr(
                cell,
                inv.map(Duration::from_millis),
                noninv.map(Duration::from_millis),
            )
            .is_ok()),
        None => {
            ctx.tm.fr = Some((inv, noninv));
            1
        }
    }
}

/// Where replies to this request go.
fn upstream(ctx: &Ctx) -> Hop {
    Hop::Upstream {
        to: ctx.reply_target(),
        proto: ctx.recv.proto,
    }
}

/// Drains what the table wants sent into the script's outputs.
fn drain(ctx: &mut Ctx, table: &mut tm::Table<Hop>) {
    while let Some(t) = table.poll_transmit() {
        ctx.out.push(Output::from(t));
    }
}

/// `t_check_trans`: 1 when the request belongs to a transaction (a CANCEL:
/// when its INVITE's does); a retransmission is answered again and the
/// script ends (0); -1 otherwise.
fn check_trans(ctx: &mut Ctx, tms: &Transactions) -> Result<i64, Halt> {
    if ctx.mode != RouteMode::Request {
        return Ok(ok(current_cell(ctx).is_some()));
    }
    let Some((_, mut table)) = tms.for_request(ctx.msg) else {
        return Ok(-1);
    };
    let outcome = table.handle_request(ctx.msg, ctx.tm_now());
    drain(ctx, &mut table);
    Ok(match outcome {
        Ok(RequestOutcome::CancelFor { .. }) => 1,
        Ok(RequestOutcome::Retransmission { .. } | RequestOutcome::AckAbsorbed { .. }) => 0,
        Ok(RequestOutcome::Unmatched) | Err(_) => -1,
    })
}

/// `t_newtran`: the transaction of this request, created if new. `None`
/// when the request is a retransmission (answered again) or an absorbed
/// ACK: the script ends.
fn new_transaction(ctx: &mut Ctx, tms: &Transactions) -> Result<Option<CellId>, Halt> {
    if let Some(cell) = current_cell(ctx) {
        return Ok(Some(cell));
    }
    let now = ctx.tm_now();
    let hop = upstream(ctx);
    let Some((_, mut table)) = tms.for_request(ctx.msg) else {
        ctx.error("t_newtran: the request has no Call-ID or CSeq");
        return Ok(None);
    };
    let cell = match table.new_transaction(ctx.msg, hop, now) {
        Ok(NewTransaction::Created(cell)) => cell,
        Ok(NewTransaction::Existing(_)) => {
            drain(ctx, &mut table);
            return Ok(None);
        }
        Err(e) => {
            ctx.error(&format!("t_newtran: {e}"));
            return Ok(None);
        }
    };
    if let Some((inv, noninv)) = ctx.tm.fr.take() {
        let _ = table.set_fr(
            cell,
            inv.map(Duration::from_millis),
            noninv.map(Duration::from_millis),
        );
    }
    if ctx.tm.failure_route.is_some() {
        let _ = table.arm_failure(cell);
    }
    drain(ctx, &mut table);
    drop(table);
    ctx.tm.cell = Some(cell);
    tms.set_script(
        cell,
        CellScript {
            request: ctx.msg.clone(),
            relayed: None,
            recv: ctx.recv,
            failure_route: ctx.tm.failure_route,
            reply_route: ctx.tm.reply_route,
            flags: ctx.flags,
        },
    );
    Ok(Some(cell))
}

fn t_reply(ctx: &mut Ctx, tms: &Arc<Transactions>, code: i64, reason: &str) -> Result<i64, Halt> {
    let Ok(code) = u16::try_from(code) else {
        ctx.error(&format!("t_reply: bad status code {code}"));
        return Ok(-1);
    };
    if !(100..=699).contains(&code) {
        ctx.error(&format!("t_reply: bad status code {code}"));
        return Ok(-1);
    }
    let cell = match current_cell(ctx) {
        Some(cell) => cell,
        None => match new_transaction(ctx, tms)? {
            Some(cell) => cell,
            None => return Ok(0),
        },
    };
    let now = ctx.tm_now();
    let mut table = tms.for_cell(cell);
    let result = table.reply(cell, code, reason, now);
    drain(ctx, &mut table);
    Ok(match result {
        Ok(()) => 1,
        Err(e) => {
            drop(table);
            ctx.error(&format!("t_reply {code}: {e}"));
            -1
        }
    })
}

/// `t_relay([host, port])` and its protocol variants.
fn relay(
    ctx: &mut Ctx,
    tms: &Arc<Transactions>,
    args: &[Value],
    force: Option<Proto>,
) -> Result<i64, Halt> {
    let explicit = match args {
        [] => None,
        [host, port] => {
            let host = ctx.eval(host)?.as_string();
            let port = ctx.eval(port)?.as_string();
            let Ok(port) = port.trim().parse::<u16>() else {
                ctx.error(&format!("t_relay: bad port `{port}`"));
                return Ok(-1);
            };
            Some(Destination {
                host: host.trim_matches(['[', ']']).to_string(),
                port,
                proto: force.unwrap_or(Proto::Udp),
            })
        }
        _ => {
            ctx.error("t_relay: takes no argument or a host and a port");
            return Ok(-1);
        }
    };
    if ctx.mode == RouteMode::Request && ctx.tm.cell.is_none() {
        let is_ack = ctx
            .msg
            .method()
            .is_some_and(|m| m == crate::sip::Method::Ack);
        let is_cancel = ctx
            .msg
            .method()
            .is_some_and(|m| m == crate::sip::Method::Cancel);
        if is_ack || is_cancel {
            let Some((_, mut table)) = tms.for_request(ctx.msg) else {
                return Ok(-1);
            };
            let now = ctx.tm_now();
            let outcome = table.handle_request(ctx.msg, now);
            match outcome {
                Ok(RequestOutcome::CancelFor { cell }) => {
                    let hop = upstream(ctx);
                    let r = table.cancel(cell, ctx.msg, hop, now);
                    drain(ctx, &mut table);
                    return Ok(ok(r.is_ok()));
                }
                Ok(RequestOutcome::AckAbsorbed { .. } | RequestOutcome::Retransmission { .. }) => {
                    drain(ctx, &mut table);
                    return Ok(0);
                }
                Ok(RequestOutcome::Unmatched) if is_ack => {
                    // An ACK for a 2xx is end to end: forwarded
                    // statelessly, as Kamailio does.
                    let invite = ctx
                        .cfg
                        .acc
                        .as_ref()
                        .filter(|a| a.report_ack)
                        .and_then(|_| table.e2e_ack_cell(ctx.msg));
                    drop(table);
                    if let Some((cell, reply)) = invite {
                        report_e2e_ack(ctx, tms, cell, &reply)?;
                    }
                    let dest = match explicit.or_else(|| ctx.next_hop(force)) {
                        Some(d) => d,
                        None => return Ok(-1),
                    };
                    return Ok(ok(ctx.forward_to(dest)));
                }
                // A CANCEL for nothing we know: relayed in a transaction
                // of its own, like any request.
                Ok(RequestOutcome::Unmatched) => {}
                Err(e) => {
                    drop(table);
                    ctx.error(&format!("t_relay: {e}"));
                    return Ok(-1);
                }
            }
        }
    }
    let Some(cell) = new_transaction(ctx, tms)? else {
        return Ok(0);
    };
    let (own_branch, appended) = take_destination_set(ctx);
    if !own_branch && appended.is_empty() {
        ctx.error("t_relay: no branches for forwarding (the Request-URI was relayed already and no branch was appended)");
        return Ok(-1);
    }
    let mut sent = 0;
    let mut first_request = None;
    let mut outcome = |ctx: &mut Ctx, r: Result<Bytes, String>| match r {
        Ok(request) => {
            sent += 1;
            first_request.get_or_insert(request);
        }
        Err(why) => ctx.error(&format!("t_relay: {why}")),
    };
    if own_branch {
        let r = relay_branch(ctx, tms, cell, explicit.as_ref(), force)?;
        outcome(ctx, r);
    }
    if !appended.is_empty() {
        // Each appended branch is built with its own Request-URI, next
        // hop, Path and flags in place of the message's; the message
        // keeps its own after.
        let own = BranchTarget::current(ctx);
        for b in appended {
            BranchTarget {
                ruri: b.uri,
                dst_uri: b.dst_uri,
                path: b.path,
                bflags: b.flags,
            }
            .apply(ctx);
            let r = relay_branch(ctx, tms, cell, explicit.as_ref(), force)?;
            outcome(ctx, r);
        }
        own.apply(ctx);
    }
    if ctx.mode == RouteMode::Request {
        // What a failure route later runs on: the request as relayed, with
        // the flags set so far.
        let flags = ctx.flags;
        tms.update_script(cell, |s| {
            s.flags = flags;
            if first_request.is_some() {
                s.relayed = first_request;
            }
        });
    }
    Ok(if sent > 0 { 1 } else { -1 })
}

/// One branch of the destination set: what it replaces in the message
/// while it is built.
struct BranchTarget {
    ruri: String,
    dst_uri: Option<String>,
    path: Option<String>,
    bflags: u32,
}

impl BranchTarget {
    fn current(ctx: &Ctx) -> BranchTarget {
        BranchTarget {
            ruri: ctx.ruri.clone(),
            dst_uri: ctx.dst_uri.clone(),
            path: ctx.path_vec.clone(),
            bflags: ctx.st.bflags,
        }
    }

    fn apply(self, ctx: &mut Ctx) {
        ctx.ruri = self.ruri;
        ctx.dst_uri = self.dst_uri;
        ctx.path_vec = self.path;
        ctx.st.bflags = self.bflags;
    }
}

/// The branches `t_relay` sends, as Kamailio forks: whether the
/// Request-URI gets one (unless `append_branch()` or an earlier `t_relay`
/// took it already), then every appended branch (`lookup` puts all but
/// the first contact there: parallel forking). The set is consumed.
fn take_destination_set(ctx: &mut Ctx) -> (bool, Vec<super::Branch>) {
    let own = ctx.st.consumed_ruri.as_deref() != Some(ctx.ruri.as_str());
    ctx.st.consumed_ruri = Some(ctx.ruri.clone());
    (own, std::mem::take(&mut ctx.st.branches))
}

/// Runs the branch route over the branch in place and sends it: the
/// request sent (without our Via), or why not.
fn relay_branch(
    ctx: &mut Ctx,
    tms: &Arc<Transactions>,
    cell: CellId,
    explicit: Option<&Destination>,
    force: Option<Proto>,
) -> Result<Result<Bytes, String>, Halt> {
    // The branch route sees (and may change or drop) this branch only:
    // what it does is undone for the next one.
    let saved = ctx.tm.branch_route.map(|_| ctx.branch_state());
    if let Some(route) = ctx.tm.branch_route {
        ctx.tm.in_branch_route = true;
        let ran = ctx.run_branch_route(route);
        ctx.tm.in_branch_route = false;
        match ran {
            Ok(_) | Err(Halt::Exit) => {}
            Err(Halt::Drop) => {
                if let Some(s) = saved {
                    ctx.restore_branch_state(s);
                }
                // Kamailio: a dropped branch is not sent.
                return Ok(Err(format!("the branch route dropped `{}`", ctx.ruri)));
            }
        }
    }
    let dest = explicit.cloned().or_else(|| ctx.next_hop(force));
    let request = match &dest {
        Some(d) => ctx.branch_request(d),
        None => Err(String::new()),
    };
    let from = dest.as_ref().and_then(|d| ctx.send_socket_for(d.proto));
    let via = dest.as_ref().map(|d| ctx.via_sent_by(d.proto));
    if let Some(s) = saved {
        ctx.restore_branch_state(s);
    }
    let (Some(dest), Some(via)) = (dest, via) else {
        return Ok(Err(format!("cannot send to `{}`", ctx.ruri)));
    };
    let request =
        match request.and_then(|b| SipMessage::parse_datagram(b).map_err(|e| e.to_string())) {
            Ok(m) => m,
            Err(why) => return Ok(Err(why)),
        };
    let now = ctx.tm_now();
    let mut table = tms.for_cell(cell);
    let result = table.forward(
        cell,
        tm::Outgoing {
            request: request.clone(),
            hop: Hop::Downstream { to: dest, from },
            via,
        },
        now,
    );
    drain(ctx, &mut table);
    Ok(result
        .map(|_| request.as_bytes().clone())
        .map_err(|e| e.to_string()))
}

/// acc `report_ack`: an ACK for the 2xx of an accounted INVITE.
fn report_e2e_ack(
    ctx: &mut Ctx,
    tms: &Transactions,
    cell: CellId,
    reply: &tm::FinalReply,
) -> Result<(), Halt> {
    let (Some(acc), Some(flags)) = (ctx.cfg.acc.as_ref(), tms.flags(cell)) else {
        return Ok(());
    };
    super::acc::on_e2e_ack(ctx, acc, flags, reply.code, &reply.reason)
}

/// tmx `$T_reply_code` / `$T_reply_reason` (`class`): the reply being
/// processed in an onreply route, the winning reply in a failure route,
/// the last reply the transaction sent elsewhere (code 0 and `$null`
/// reason when none was sent or there is no transaction).
pub(crate) fn reply_pv(ctx: &Ctx, class: &str) -> super::Val {
    use super::Val;
    let code_only = class == "T_reply_code";
    match ctx.mode {
        RouteMode::Reply { status, .. } => {
            if code_only {
                Val::Int(i64::from(status))
            } else {
                ctx.msg
                    .reason_phrase()
                    .map_or(Val::Null, |r| Val::Str(r.to_string()))
            }
        }
        RouteMode::Failure { cell, branch, .. } => {
            let reply = ctx
                .cfg
                .tm
                .as_ref()
                .and_then(|t| t.for_cell(cell).final_reply(cell, branch));
            match (reply, code_only) {
                (Some(r), true) => Val::Int(i64::from(r.code)),
                (Some(r), false) => Val::Str(r.reason),
                (None, true) => Val::Int(0),
                (None, false) => Val::Null,
            }
        }
        RouteMode::Request => {
            let sent = match (ctx.cfg.tm.as_ref(), ctx.tm.cell) {
                (Some(t), Some(cell)) => t.for_cell(cell).last_reply(cell),
                _ => None,
            };
            match (sent, code_only) {
                (Some((code, _)), true) => Val::Int(i64::from(code)),
                (Some((_, reason)), false) => Val::Str(reason),
                (None, true) => Val::Int(0),
                (None, false) => Val::Null,
            }
        }
    }
}
