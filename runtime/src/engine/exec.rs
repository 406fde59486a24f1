//! The tree-walking interpreter: statements, expressions with the era's
//! operator meanings, condition words, and the load-time check of what the
//! engine can execute.

use super::actions::MsgState;
use super::funcs;
use super::pv;
use super::select::Select;
use super::value::Val;
use super::{
    host_is_ip, level, Destination, EngineConfig, Output, Proto, RecvInfo, ReplyVerdict,
    UNSUPPORTED,
};
use crate::sip::{HeaderName, MessageEditor, Rport, SipMessage};
use crate::tm;
use bytes::Bytes;
use sercompat_compiler::ir::pv::FormatPart;
use sercompat_compiler::ir::{
    compile_regex, CaseMatch, Op, Program, RouteId, RouteTarget, Value, ValueKind,
};
use sercompat_compiler::routes::RouteClass;
use sercompat_grammar::ast::{AssignOp, BinOp, CastTo, StopKeyword, UnOp};
use sercompat_grammar::dialect::StopMeaning;
use sercompat_grammar::{Diagnostic, Era, Span};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Why the script stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Halt {
    /// `exit`, `return 0`, a function returning 0.
    Exit,
    /// `drop` (K3.0+: with the DROP flag; nothing is sent later anyway).
    Drop,
}

/// How a block of statements ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    Return(i64),
    /// Leave the innermost `switch`/`while` (or the route, outside them).
    Break,
}

/// What a worker process keeps between messages.
pub(crate) struct Process<'a> {
    pub vars: &'a mut HashMap<String, Val>,
    pub debug: &'a mut Option<i32>,
}

/// Which kind of route the script runs in, and on behalf of which
/// transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteMode {
    Request,
    /// A failure route: every branch of `cell` failed; `branch` holds the
    /// best reply, `status` its code.
    Failure {
        cell: tm::CellId,
        branch: usize,
        status: u16,
    },
    /// A transaction's onreply route for a reply with `status`.
    Reply {
        cell: tm::CellId,
        status: u16,
    },
}

/// The per-branch part of the message state ([`Ctx::branch_state`]).
pub(crate) struct BranchState<'m> {
    editor: MessageEditor<'m>,
    ruri: String,
    dst_uri: Option<String>,
    removed: HashSet<usize>,
}

/// The state of one message going through the script.
pub(crate) struct Ctx<'a, 'm> {
    pub prog: &'a Program,
    pub cfg: &'a EngineConfig,
    pub vars: &'a mut HashMap<String, Val>,
    /// The process's log level set by kex `setdebug` (`None`: every line).
    pub debug: &'a mut Option<i32>,
    pub msg: &'m SipMessage,
    pub recv: RecvInfo,
    /// Header edits made by the script (lumps on the received buffer).
    pub editor: MessageEditor<'m>,
    /// Header fields the script deleted (indexes), so a second
    /// `remove_hf` does not delete them twice.
    pub removed: HashSet<usize>,
    pub original_ruri: String,
    /// The Request-URI as rewritten so far.
    pub ruri: String,
    pub dst_uri: Option<String>,
    pub flags: u32,
    pub avps: HashMap<String, Vec<Val>>,
    /// `$xavp(...)`: per message.
    pub xavps: super::xavp::Xavps,
    /// When the message arrived (the cached `$Ts`, `$Tf`, `$TV(s)`).
    pub now: std::time::Duration,
    pub rc: i64,
    pub force_rport: bool,
    /// `mf_process_maxfwd_header` already edited Max-Forwards.
    pub maxfwd_done: bool,
    /// q of the Request-URI branch (thousandths, -1 unspecified), set by
    /// lookup() from the contact.
    pub ruri_q: i16,
    /// The Path vector of the Request-URI's binding (Kamailio's
    /// `path_vec`), sent as a Route header right under our Via.
    pub path_vec: Option<String>,
    /// Record-Route asked for, and what `loose_route` found.
    pub rr: super::rr::RrCtx,
    pub out: Vec<Output>,
    pub mode: RouteMode,
    pub tm: super::tm::TmState,
    /// Module-function state for the rest of this run.
    pub state: super::msgstate::MsgState<'m>,
    /// Destination set, branch and script flags, socket and Via settings.
    pub st: MsgState,
    depth: u32,
    /// The last URI [`Ctx::with_parsed_uri`] parsed from text, with that
    /// text: `rewritehostport` parses the new Request-URI to check it, and
    /// the relay reads its next hop from the same text right after.
    last_parsed_uri: std::cell::RefCell<Option<(String, crate::sip::Uri)>>,
}

impl<'a, 'm> Ctx<'a, 'm> {
    fn new(
        prog: &'a Program,
        cfg: &'a EngineConfig,
        process: Process<'a>,
        msg: &'m SipMessage,
        recv: RecvInfo,
        mode: RouteMode,
        rebuilt: &'m super::msgstate::Rebuilt,
    ) -> Self {
        let ruri = msg
            .request_uri_text()
            .map(|u| u.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ctx {
            prog,
            cfg,
            vars: process.vars,
            debug: process.debug,
            msg,
            recv,
            editor: MessageEditor::new(msg),
            removed: HashSet::new(),
            original_ruri: ruri.clone(),
            ruri,
            dst_uri: None,
            flags: 0,
            avps: HashMap::new(),
            xavps: HashMap::new(),
            now: cfg.clock.now(),
            rc: 1,
            force_rport: false,
            maxfwd_done: false,
            out: Vec::new(),
            mode,
            tm: super::tm::TmState::default(),
            state: super::msgstate::MsgState::new(rebuilt, cfg.shared.clone(), cfg.logger.clone()),
            st: MsgState::default(),
            ruri_q: -1,
            path_vec: None,
            rr: Default::default(),
            depth: 0,
            last_parsed_uri: std::cell::RefCell::new(None),
        }
    }

    /// `f` of `uri` parsed (`None` when it does not parse). The Request-URI
    /// as received and the URIs of Route headers already parsed come from
    /// the message's own parse, and the last other text parsed here is
    /// kept: a request's URI is read several times
    /// (rewritten, then its next hop, whether it is `myself`), and each
    /// parse costs more than the rest of such a read.
    pub fn with_parsed_uri<R>(
        &self,
        uri: &str,
        f: impl FnOnce(&crate::sip::Uri) -> R,
    ) -> Option<R> {
        let received = self
            .msg
            .request_uri_location()
            .and_then(|span| self.msg.as_bytes().get(span.range()))
            .is_some_and(|text| text == uri.as_bytes());
        if received {
            return match self.msg.request_uri() {
                Ok(Some(parsed)) => Some(f(parsed)),
                _ => None,
            };
        }
        // A Route entry's URI, parsed with its header (loose_route reads
        // the Route headers before it asks whether an entry is `myself`).
        let route = self.msg.headers_named(&HeaderName::Route).find_map(|h| {
            match self.msg.typed_if_parsed(h.index()) {
                Some(crate::sip::TypedHeader::Route(entries)) => entries
                    .iter()
                    .map(crate::sip::NameAddr::uri)
                    .find(|u| u.raw().as_bytes() == uri.as_bytes()),
                _ => None,
            }
        });
        if let Some(parsed) = route {
            return Some(f(parsed));
        }
        let mut last = self.last_parsed_uri.borrow_mut();
        if let Some((text, parsed)) = last.as_ref() {
            if text == uri {
                return Some(f(parsed));
            }
        }
        let parsed = crate::sip::Uri::parse(uri.as_bytes()).ok()?;
        let result = f(&parsed);
        *last = Some((uri.to_string(), parsed));
        Some(result)
    }
}

pub(crate) fn run_request(
    prog: &Program,
    cfg: &EngineConfig,
    process: Process,
    msg: &SipMessage,
    recv: RecvInfo,
) -> Vec<Output> {
    let rebuilt = super::msgstate::Rebuilt::default();
    let mut ctx = Ctx::new(prog, cfg, process, msg, recv, RouteMode::Request, &rebuilt);
    if prog.era == Era::Rules2001 {
        run_rules(&mut ctx);
        return ctx.out;
    }
    let mains = prog
        .defaults
        .get(&RouteClass::Request)
        .cloned()
        .unwrap_or_default();
    for id in mains {
        if ctx.run_route(id).is_err() {
            break;
        }
    }
    ctx.out
}

/// Runs `route` (a failure or onreply route) over `msg` in `mode`, with
/// the transaction's message flags; what the route armed (`t_on_failure`
/// again) stays on the transaction. Returns what it sent, how it ended
/// and the flags as it left them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_transaction_route(
    prog: &Program,
    cfg: &EngineConfig,
    process: Process,
    msg: &SipMessage,
    recv: RecvInfo,
    mode: RouteMode,
    route: RouteId,
    flags: u32,
) -> (Vec<Output>, Result<i64, Halt>, u32) {
    with_ctx(prog, cfg, process, msg, recv, mode, flags, |ctx| {
        ctx.run_route(route)
    })
}

/// `f` over a context on `msg` with `flags` (a transaction route, or
/// accounting formatting its record): what it sent, its result and the
/// flags it left.
#[allow(clippy::too_many_arguments)]
pub(crate) fn with_ctx<R>(
    prog: &Program,
    cfg: &EngineConfig,
    process: Process,
    msg: &SipMessage,
    recv: RecvInfo,
    mode: RouteMode,
    flags: u32,
    f: impl FnOnce(&mut Ctx) -> R,
) -> (Vec<Output>, R, u32) {
    let rebuilt = super::msgstate::Rebuilt::default();
    let mut ctx = Ctx::new(prog, cfg, process, msg, recv, mode, &rebuilt);
    ctx.flags = flags;
    let r = f(&mut ctx);
    (ctx.out, r, ctx.flags)
}

/// The main `onreply_route` blocks over one reply. What Kamailio 5.6 does
/// with the outcome (checked against it): `drop` discards the reply, a
/// negative `return` discards it with a warning, `exit` and everything
/// else forward it.
pub(crate) fn run_reply(
    prog: &Program,
    cfg: &EngineConfig,
    process: Process,
    msg: &SipMessage,
    recv: RecvInfo,
) -> ReplyVerdict {
    let mains = prog
        .defaults
        .get(&RouteClass::OnReply)
        .cloned()
        .unwrap_or_default();
    let rebuilt = super::msgstate::Rebuilt::default();
    let mut ctx = Ctx::new(prog, cfg, process, msg, recv, RouteMode::Request, &rebuilt);
    for id in mains {
        match ctx.run_route(id) {
            Ok(n) if n < 0 => {
                ctx.log(
                    level::L_WARN,
                    "sercompat: error while trying onreply script; reply dropped\n",
                );
                return ReplyVerdict::Drop;
            }
            Ok(_) => {}
            Err(Halt::Exit) => break,
            Err(Halt::Drop) => return ReplyVerdict::Drop,
        }
    }
    if ctx.editor.lumps_mut().is_empty() {
        return ReplyVerdict::Forward(None);
    }
    match ctx.editor.build() {
        Ok(b) => ReplyVerdict::Forward(Some(b)),
        Err(e) => {
            ctx.error(&format!("cannot apply the reply route's edits: {e}"));
            ReplyVerdict::Drop
        }
    }
}

/// The 2001 rule table: the first rule whose method and Request-URI
/// patterns match forwards the request statelessly; no match drops it.
fn run_rules(ctx: &mut Ctx) {
    let method = ctx
        .msg
        .method()
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .unwrap_or_default();
    for rule in &ctx.prog.rules {
        let (Ok(m), Ok(u)) = (&rule.method, &rule.uri) else {
            continue;
        };
        if m.is_match(&method) && u.is_match(&ctx.ruri) {
            let (host, port) = super::uri::split_hostport(&rule.dest);
            let dest = Destination {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: port.and_then(|p| p.parse().ok()).unwrap_or(5060),
                proto: Proto::Udp,
            };
            if port.is_some_and(|p| p.parse::<u16>().is_err()) {
                ctx.error(&format!("rule destination `{}` has a bad port", rule.dest));
                return;
            }
            ctx.forward_to(dest);
            return;
        }
    }
}

impl<'m> Ctx<'_, 'm> {
    /// A line at `lvl`: filtered by `debug=` (the logger), or by the
    /// level `setdebug` gave this process instead.
    pub fn log(&self, lvl: i32, text: &str) {
        match *self.debug {
            None => self.cfg.logger.log(lvl, text),
            Some(d) if lvl <= d => self.cfg.logger.log_decided(lvl, text),
            Some(_) => {}
        }
    }

    pub fn error(&self, text: &str) {
        self.log(level::L_ERR, &format!("sercompat: {text}\n"));
    }

    pub(crate) fn run_route(&mut self, id: RouteId) -> Result<i64, Halt> {
        if self.depth >= self.cfg.max_route_depth {
            self.error("too many nested route() calls");
            return Ok(-1);
        }
        self.depth += 1;
        let prog = self.prog;
        let flow = self.ops(&prog.route(id).body);
        self.depth -= 1;
        Ok(match flow? {
            Flow::Next | Flow::Break => 1,
            Flow::Return(n) => n,
        })
    }

    fn ops(&mut self, ops: &[Op]) -> Result<Flow, Halt> {
        for op in ops {
            match self.op(op)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn op(&mut self, op: &Op) -> Result<Flow, Halt> {
        match op {
            Op::Call { .. } | Op::Route { .. } => {
                let n = self.call_value(op)?;
                if n == 0 && matches!(op, Op::Call { .. }) {
                    return Err(Halt::Exit);
                }
                Ok(Flow::Next)
            }
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                if self.cond(cond)? {
                    self.ops(then)
                } else {
                    self.ops(otherwise)
                }
            }
            Op::While { cond, body } => {
                let mut n = 0;
                while self.cond(cond)? {
                    if n >= self.cfg.max_while_loops {
                        self.error(&format!(
                            "runaway while (more than {} loops)",
                            self.cfg.max_while_loops
                        ));
                        self.rc = -1;
                        return Ok(Flow::Next);
                    }
                    n += 1;
                    match self.ops(body)? {
                        Flow::Next => {}
                        Flow::Break => break,
                        ret @ Flow::Return(_) => return Ok(ret),
                    }
                }
                Ok(Flow::Next)
            }
            Op::Switch { subject, cases } => {
                let v = self.eval(subject)?;
                let hit = cases
                    .iter()
                    .position(|c| self.case_matches(&c.label, &v))
                    .or_else(|| {
                        cases
                            .iter()
                            .position(|c| matches!(c.label, CaseMatch::Default))
                    });
                if let Some(start) = hit {
                    for case in &cases[start..] {
                        match self.ops(&case.body)? {
                            Flow::Next => {}
                            Flow::Break => break,
                            ret @ Flow::Return(_) => return Ok(ret),
                        }
                    }
                }
                Ok(Flow::Next)
            }
            Op::Assign {
                target, op, value, ..
            } => {
                let v = self.eval(value)?;
                self.assign(target, *op, v)?;
                Ok(Flow::Next)
            }
            Op::Stop {
                keyword,
                meaning,
                value,
                ..
            } => {
                let v = match value {
                    Some(v) => Some(self.eval(v)?.as_int()),
                    None => None,
                };
                if *keyword == StopKeyword::Return {
                    let n = v.unwrap_or(1);
                    self.rc = n;
                    if n == 0 && self.prog.era != Era::Ser2 {
                        return Err(Halt::Exit);
                    }
                    return Ok(Flow::Return(n));
                }
                if let Some(n) = v {
                    self.rc = n;
                }
                let meaning = meaning.unwrap_or(match keyword {
                    StopKeyword::Drop => StopMeaning::Drop,
                    StopKeyword::Break => StopMeaning::LeaveLoopOrReturn,
                    _ => StopMeaning::Exit,
                });
                match meaning {
                    StopMeaning::Drop => Err(Halt::Drop),
                    StopMeaning::Exit => Err(Halt::Exit),
                    StopMeaning::ReturnZero => {
                        self.rc = 0;
                        Ok(Flow::Return(0))
                    }
                    StopMeaning::LeaveSwitch | StopMeaning::LeaveLoopOrReturn => Ok(Flow::Break),
                }
            }
        }
    }

    /// Runs a call or `route()` and returns its code (also left in `$rc`).
    fn call_value(&mut self, op: &Op) -> Result<i64, Halt> {
        let n = match op {
            Op::Call {
                callee, name, args, ..
            } => {
                let n = funcs::call(self, callee, name, args)?;
                // A module function returning 0 ends the script (Kamailio's
                // interpreter sets its exit flag), e.g. `t_relay()` on an
                // absorbed retransmission.
                if n == 0 && matches!(callee, sercompat_compiler::ir::Callee::Module(_)) {
                    self.rc = 0;
                    return Err(Halt::Exit);
                }
                n
            }
            Op::Route { target, .. } => {
                let id = match target {
                    RouteTarget::Static(id) => Some(*id),
                    RouteTarget::Dynamic(v) => {
                        let name = self.eval(v)?.as_string();
                        let key = name.trim().trim_start_matches('0').to_string();
                        let id = self.prog.by_name.get(&(RouteClass::Request, key)).copied();
                        if id.is_none() {
                            self.error(&format!("route `{name}` is not defined"));
                        }
                        id
                    }
                    RouteTarget::Missing(name) => {
                        self.error(&format!("route `{name}` is not defined"));
                        None
                    }
                };
                match id {
                    Some(id) => self.run_route(id)?,
                    None => -1,
                }
            }
            _ => 1,
        };
        self.rc = n;
        Ok(n)
    }

    fn case_matches(&self, label: &CaseMatch, v: &Val) -> bool {
        match label {
            CaseMatch::Int(i) => match v {
                Val::Null => false,
                other => other.as_int() == *i,
            },
            CaseMatch::Str(s) => matches!(v, Val::Str(x) if x == s),
            CaseMatch::Regex(re) => !v.is_null() && re.is_match(&v.as_string()),
            CaseMatch::Default | CaseMatch::Invalid(_) => false,
        }
    }

    /// A value in a logical context.
    pub fn cond(&mut self, v: &Value) -> Result<bool, Halt> {
        Ok(match &v.kind {
            ValueKind::Call(op) => self.call_value(op)? > 0,
            ValueKind::Unary(UnOp::Not, x) => !self.cond(x)?,
            ValueKind::Binary(BinOp::And | BinOp::LegacyAnd, a, b) => {
                self.cond(a)? && self.cond(b)?
            }
            ValueKind::Binary(BinOp::Or | BinOp::LegacyOr, a, b) => {
                self.cond(a)? || self.cond(b)?
            }
            ValueKind::Block(ops) => {
                self.ops(ops)?;
                self.rc > 0
            }
            _ => {
                let x = self.eval(v)?;
                self.truthy(&x)
            }
        })
    }

    fn truthy(&self, v: &Val) -> bool {
        match v {
            Val::Null => false,
            Val::Int(i) => *i != 0,
            Val::Str(s) => {
                if self.prog.era >= Era::Kamailio3 {
                    super::value::str_to_int(s) != 0
                } else {
                    true
                }
            }
        }
    }

    pub fn eval(&mut self, v: &Value) -> Result<Val, Halt> {
        Ok(match &v.kind {
            ValueKind::Int(i) => Val::Int(*i),
            ValueKind::Str(s) => Val::Str(s.to_string()),
            ValueKind::Format(parts) => Val::Str(self.format(parts)?),
            ValueKind::Pv(p) => pv::read(self, p)?,
            ValueKind::Avp(a) => pv::read_avp(self, &pv::avp_key_ser(a), a.index.as_ref())?,
            ValueKind::RetCode => Val::Int(self.rc),
            ValueKind::Word(w) => match w.as_str() {
                "null" | "NULL" => Val::Null,
                "retcode" => Val::Int(self.rc),
                _ => Val::Str(w.clone()),
            },
            ValueKind::Address(a) => Val::Str(a.clone()),
            ValueKind::Regex(re) => Val::Str(re.as_str().to_string()),
            ValueKind::Pattern(p) => Val::Str(p.source.to_string()),
            ValueKind::RouteArg(r) => Val::Str(r.name.to_string()),
            ValueKind::Call(op) => Val::Int(self.call_value(op)?),
            ValueKind::Unary(op, x) => match op {
                UnOp::Not => Val::Int(!self.cond(x)? as i64),
                UnOp::Neg => Val::Int(self.eval(x)?.as_int().wrapping_neg()),
                UnOp::BitNot => Val::Int(!self.eval(x)?.as_int()),
                UnOp::Defined => Val::Int(!self.eval(x)?.is_null() as i64),
            },
            ValueKind::Binary(op, a, b) => self.binary(*op, a, b)?,
            ValueKind::Concat(a, b) => {
                let x = self.eval(a)?.as_string();
                Val::Str(x + &self.eval(b)?.as_string())
            }
            ValueKind::Cast(to, x) => {
                let x = self.eval(x)?;
                match to {
                    CastTo::Int => Val::Int(x.as_int()),
                    CastTo::Str => Val::Str(x.as_string()),
                }
            }
            ValueKind::Block(ops) => {
                self.ops(ops)?;
                Val::Int(self.rc)
            }
            ValueKind::AssignExpr(t, x) => {
                let x = self.eval(x)?;
                self.assign(t, AssignOp::Assign, x.clone())?;
                x
            }
            // Unsupported selects are refused by `check_program`.
            // In an expression a select that finds nothing is "".
            ValueKind::Select(s) => match Select::parse(s) {
                Ok(sel) => sel.read(self).unwrap_or_else(|| Val::str("")),
                Err(_) => Val::Null,
            },
            // Refused by `check_program`.
            ValueKind::Invalid => Val::Null,
        })
    }

    /// A format string: text and pseudo-variables (`<null>` for unset).
    pub fn format(&mut self, parts: &[FormatPart]) -> Result<String, Halt> {
        let mut s = String::new();
        for p in parts {
            match p {
                FormatPart::Text(t) => s.push_str(t),
                FormatPart::Pv(p) => {
                    let v = pv::read(self, p)?;
                    // A failed transformation is a failed read, which
                    // Kamailio's printer skips (prints nothing), unlike
                    // a `$null` value (`<null>`).
                    if !v.is_null() || p.transforms.is_empty() {
                        s.push_str(&v.printed());
                    }
                }
            }
        }
        Ok(s)
    }

    fn regex_match(&mut self, subject: &str, pattern: &Value) -> Result<bool, Halt> {
        if let ValueKind::Regex(re) = &pattern.kind {
            return Ok(re.is_match(subject));
        }
        let p = self.eval(pattern)?.as_string();
        match compile_regex(&p) {
            Ok(re) => Ok(re.is_match(subject)),
            Err(why) => {
                self.error(&format!("bad regular expression `{p}`: {why}"));
                Ok(false)
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Value, b: &Value) -> Result<Val, Halt> {
        use BinOp::*;
        if let ValueKind::Word(w) = &a.kind {
            if let Some(r) = self.word_cond(w, op, b)? {
                return Ok(Val::Int(r as i64));
            }
        }
        // `myself == uri`: the reverse form.
        if let (ValueKind::Word(m), ValueKind::Word(w)) = (&a.kind, &b.kind) {
            if m == "myself" {
                let mine = Value {
                    kind: ValueKind::Word(m.clone()),
                    ty: a.ty,
                    span: a.span,
                };
                if let Some(r) = self.word_cond(w, op, &mine)? {
                    return Ok(Val::Int(r as i64));
                }
            }
        }
        if matches!(op, And | Or | LegacyAnd | LegacyOr) {
            let x = match op {
                And | LegacyAnd => self.cond(a)? && self.cond(b)?,
                _ => self.cond(a)? || self.cond(b)?,
            };
            return Ok(Val::Int(x as i64));
        }
        let x = self.eval(a)?;
        if matches!(op, Match | NotMatch) {
            let m = !x.is_null() && self.regex_match(&x.as_string(), b)?;
            return Ok(Val::Int((m == (op == Match)) as i64));
        }
        if matches!(op, Eq | Ne) && matches!(&b.kind, ValueKind::Word(w) if w == "myself") {
            let m = self.host_is_myself(&x.as_string(), None, false);
            return Ok(Val::Int((m == (op == Eq)) as i64));
        }
        let y = self.eval(b)?;
        Ok(self.binary_vals(op, x, y))
    }

    /// An operator on two computed values.
    pub fn binary_vals(&mut self, op: BinOp, x: Val, y: Val) -> Val {
        use BinOp::*;
        let b = |v: bool| Val::Int(v as i64);
        match op {
            Eq | Ne => b(loose_eq(&x, &y) == (op == Eq)),
            StrEq | StrNe => b((x.as_string() == y.as_string()) == (op == StrEq)),
            IntEq | IntNe => b((x.as_int() == y.as_int()) == (op == IntEq)),
            Lt | Gt | Le | Ge => {
                let ord = match (&x, &y) {
                    (Val::Str(s), Val::Str(t)) => s.cmp(t),
                    _ => x.as_int().cmp(&y.as_int()),
                };
                b(match op {
                    Lt => ord.is_lt(),
                    Gt => ord.is_gt(),
                    Le => ord.is_le(),
                    _ => ord.is_ge(),
                })
            }
            Add => match x {
                Val::Str(s) => Val::Str(s + &y.as_string()),
                Val::Null if !matches!(y, Val::Int(_)) => Val::Str(y.as_string()),
                _ => Val::Int(x.as_int().wrapping_add(y.as_int())),
            },
            Sub => Val::Int(x.as_int().wrapping_sub(y.as_int())),
            Mul => Val::Int(x.as_int().wrapping_mul(y.as_int())),
            Div | Mod => {
                let d = y.as_int();
                if d == 0 {
                    self.error("division by zero");
                    return Val::Null;
                }
                Val::Int(if op == Div {
                    x.as_int().wrapping_div(d)
                } else {
                    x.as_int().wrapping_rem(d)
                })
            }
            BitAnd => Val::Int(x.as_int() & y.as_int()),
            BitOr => Val::Int(x.as_int() | y.as_int()),
            BitXor => Val::Int(x.as_int() ^ y.as_int()),
            Shl => Val::Int(x.as_int().wrapping_shl(y.as_int() as u32)),
            Shr => Val::Int(x.as_int().wrapping_shr(y.as_int() as u32)),
            And | LegacyAnd => b(self.truthy(&x) && self.truthy(&y)),
            Or | LegacyOr => b(self.truthy(&x) || self.truthy(&y)),
            Match | NotMatch => {
                let m = compile_regex(&y.as_string()).is_ok_and(|re| re.is_match(&x.as_string()));
                b(m == (op == Match))
            }
        }
    }

    /// `method == "INVITE"`, `uri == myself`, `src_ip == 10.0.0.0/8`, ...
    /// `None` when `w` is not a condition word.
    fn word_cond(&mut self, w: &str, op: BinOp, rhs: &Value) -> Result<Option<bool>, Halt> {
        use BinOp::*;
        let rhs_myself = matches!(&rhs.kind, ValueKind::Word(m) if m == "myself");
        let positive = !matches!(op, Ne | NotMatch | StrNe | IntNe);
        let r = match w {
            "method" | "uri" | "from_uri" | "to_uri" | "status" => {
                let Some(lhs) = self.word_text(w) else {
                    return Ok(Some(false));
                };
                match op {
                    Match | NotMatch => self.regex_match(&lhs, rhs)? == positive,
                    Eq | Ne | StrEq | StrNe if rhs_myself && w != "method" => {
                        self.uri_is_myself(&lhs) == positive
                    }
                    Eq | Ne | StrEq | StrNe => {
                        let r = self.eval(rhs)?.as_string();
                        lhs.eq_ignore_ascii_case(&r) == positive
                    }
                    _ => return Ok(None),
                }
            }
            "src_ip" | "dst_ip" => {
                let ip = if w == "src_ip" {
                    self.recv.src.ip()
                } else {
                    self.recv.dst.ip()
                };
                match op {
                    Match | NotMatch => self.regex_match(&ip.to_string(), rhs)? == positive,
                    Eq | Ne | StrEq | StrNe => {
                        let m = if rhs_myself {
                            self.cfg.myself.iter().any(|m| host_is_ip(&m.host, ip))
                        } else {
                            let net = self.eval(rhs)?.as_string();
                            match ip_in_net(ip, &net) {
                                Some(m) => m,
                                None => {
                                    self.error(&format!(
                                        "`{net}` is not an IP address or network (host names are not resolved)"
                                    ));
                                    false
                                }
                            }
                        };
                        m == positive
                    }
                    _ => return Ok(None),
                }
            }
            "src_port" | "dst_port" | "msg:len" => {
                let lhs = match w {
                    "src_port" => self.recv.src.port() as i64,
                    "dst_port" => self.recv.dst.port() as i64,
                    _ => self.msg.as_bytes().len() as i64,
                };
                let y = match &rhs.kind {
                    ValueKind::Word(m) if m == "max_len" => 65535,
                    _ => self.eval(rhs)?.as_int(),
                };
                let r = self.binary_vals(
                    match op {
                        StrEq => IntEq,
                        StrNe => IntNe,
                        o => o,
                    },
                    Val::Int(lhs),
                    Val::Int(y),
                );
                r.as_int() != 0
            }
            "proto" | "af" => {
                if !matches!(op, Eq | Ne | StrEq | StrNe | IntEq | IntNe) {
                    return Ok(None);
                }
                let r = self.eval(rhs)?.as_string();
                let m = if w == "proto" {
                    match r.to_ascii_lowercase().as_str() {
                        "*" | "any" => true,
                        other => Proto::parse(other) == Some(self.recv.proto),
                    }
                } else {
                    let v6 = self.recv.src.is_ipv6();
                    match r.to_ascii_uppercase().as_str() {
                        "INET" | "2" => !v6,
                        "INET6" | "10" => v6,
                        _ => false,
                    }
                };
                m == positive
            }
            "retcode" => {
                let y = self.eval(rhs)?;
                self.binary_vals(op, Val::Int(self.rc), y).as_int() != 0
            }
            _ => return Ok(None),
        };
        Ok(Some(r))
    }

    /// The text a condition word stands for; `None` when the message has
    /// none (say, `status` in a request route).
    fn word_text(&self, w: &str) -> Option<String> {
        match w {
            "method" => self
                .msg
                .method()
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned()),
            "uri" => Some(self.ruri.clone()),
            "from_uri" => self
                .msg
                .from_header()
                .ok()
                .flatten()
                .map(|a| a.uri().to_string()),
            "to_uri" => self
                .msg
                .to_header()
                .ok()
                .flatten()
                .map(|a| a.uri().to_string()),
            "status" => self.msg.status_code().map(|c| c.to_string()),
            _ => None,
        }
    }

    /// `uri == myself`: host and port (default 5060, 5061 for sips).
    pub fn uri_is_myself(&self, uri: &str) -> bool {
        // The parsed URI's parts, not `UriParts` (which would copy each
        // into a String): loose_route asks this of every Route entry, and
        // of the Request-URI.
        self.with_parsed_uri(uri, |parsed| {
            let Some(sip) = parsed.as_sip() else {
                return false;
            };
            match std::str::from_utf8(sip.host().text()) {
                // The parser already read the host's IP, if it is one.
                Ok(host) => self.is_myself(
                    bare_host(host),
                    sip.host().ip(),
                    sip.port(),
                    sip.is_secure(),
                ),
                Err(_) => false,
            }
        })
        .unwrap_or(false)
    }

    pub fn host_is_myself(&self, host: &str, port: Option<u16>, secure: bool) -> bool {
        let bare = bare_host(host);
        self.is_myself(bare, bare.parse::<IpAddr>().ok(), port, secure)
    }

    /// `bare` is the host without IPv6 brackets, `ip` its address when it
    /// is an IP literal.
    fn is_myself(&self, bare: &str, ip: Option<IpAddr>, port: Option<u16>, secure: bool) -> bool {
        let port = port.unwrap_or(if secure { 5061 } else { 5060 });
        self.cfg.myself.iter().any(|m| {
            let same_host = match ip {
                Some(ip) => host_is_ip(&m.host, ip),
                None => m.host.eq_ignore_ascii_case(bare),
            };
            same_host && (m.port.is_none() || m.port == Some(port))
        })
    }

    fn assign(&mut self, target: &Value, op: AssignOp, v: Val) -> Result<(), Halt> {
        let v = match op {
            AssignOp::Compound(bop) => {
                let old = self.eval(target)?;
                self.binary_vals(bop, old, v)
            }
            _ => v,
        };
        let replace = op == AssignOp::Replace;
        match &target.kind {
            ValueKind::Pv(p) => pv::write(self, p, v, replace)?,
            ValueKind::Avp(a) => {
                let key = pv::avp_key_ser(a);
                pv::write_avp(self, &key, a.index.as_ref(), v, replace)?;
            }
            // Refused by `check_program`.
            _ => {}
        }
        Ok(())
    }

    /// Forwards the request, as edited, to `dest`: our Via on top,
    /// `received`/`rport` on the previous one, the new Request-URI.
    pub fn forward_to(&mut self, dest: Destination) -> bool {
        match self.build_forward(&dest) {
            Ok(bytes) => {
                let from = self.send_socket_for(dest.proto);
                self.out.push(Output::Forward {
                    bytes,
                    to: dest,
                    from,
                });
                true
            }
            Err(why) => {
                self.error(&format!("cannot forward to {dest}: {why}"));
                false
            }
        }
    }

    fn build_forward(&self, dest: &Destination) -> Result<Bytes, String> {
        let mut ed = self.branch_editor()?;
        super::rr::insert_record_routes(self, self.cfg, &mut ed, dest)?;
        let via = format!(
            "{};branch={}{}",
            self.via_sent_by(dest.proto),
            self.cfg.ids.branch(self.msg),
            if self.st.local_rport { ";rport" } else { "" }
        );
        ed.insert_own_via(&via).map_err(|e| e.to_string())?;
        self.add_path_route(&mut ed)?;
        ed.build().map_err(|e| e.to_string())
    }

    /// lookup()'s Path vector as a Route header on top (right under the
    /// Via that goes above it).
    fn add_path_route(&self, ed: &mut MessageEditor<'m>) -> Result<(), String> {
        if let Some(path) = &self.path_vec {
            ed.add_header(crate::sip::HeaderPosition::First, "Route", path)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The request as it leaves for the next hop, before our Via: the
    /// script's edits, the new Request-URI, `received`/`rport` on the
    /// sender's Via.
    fn branch_editor(&self) -> Result<MessageEditor<'m>, String> {
        let mut ed = self.editor.clone();
        if self.ruri != self.original_ruri {
            // The new Request-URI was parsed when the script set it.
            let set = self
                .with_parsed_uri(&self.ruri, |parsed| {
                    ed.set_parsed_request_uri(&self.ruri, parsed)
                })
                .unwrap_or_else(|| ed.set_request_uri(&self.ruri));
            set.map_err(|e| e.to_string())?;
        }
        if let Some((span_start, span_end, new)) = self.via_fix(self.msg) {
            ed.lumps_mut()
                .replace(crate::sip::Span::new(span_start, span_end), new)
                .map_err(|e| e.to_string())?;
        }
        Ok(ed)
    }

    /// [`Ctx::branch_editor`] built for `dest`, with the Record-Route the
    /// script asked for: what tm sends on a branch (it adds its own Via).
    pub fn branch_request(&self, dest: &Destination) -> Result<Bytes, String> {
        let mut ed = self.branch_editor()?;
        super::rr::insert_record_routes(self, self.cfg, &mut ed, dest)?;
        self.add_path_route(&mut ed)?;
        ed.build().map_err(|e| e.to_string())
    }

    /// `SIP/2.0/UDP host:port` of our Via: `set_advertised_*`, else the
    /// forced send socket, else the advertised address, else the socket
    /// the request arrived on.
    pub fn via_sent_by(&self, proto: Proto) -> String {
        // Kamailio: `set_advertised_*` first, then the socket we send
        // from (its advertised name, or its address).
        let forced = self.send_socket_for(proto);
        let port = match (&self.cfg.via_address, forced) {
            (_, Some(a)) => a.port(),
            (Some((_, p)), None) => *p,
            (None, None) => self.recv.dst.port(),
        };
        let port = self.st.advertised_port.unwrap_or(port);
        // Written into one String rather than through to_string and
        // format!: every relayed request and branch builds one.
        let mut out = String::with_capacity(64);
        out.push_str("SIP/2.0/");
        out.push_str(proto.via_name());
        out.push(' ');
        match (&self.st.advertised_address, &self.cfg.via_address, forced) {
            (Some(host), _, _) | (None, Some((host, _)), None) => push_via_host(&mut out, host),
            (None, _, Some(a)) => push_via_ip(&mut out, a.ip()),
            (None, None, None) => push_via_ip(&mut out, self.recv.dst.ip()),
        }
        out.push(':');
        push_decimal(&mut out, u32::from(port));
        out
    }

    /// The next hop of the request: `$du` if set, else the Request-URI;
    /// `force` overrides the protocol.
    pub fn next_hop(&self, force: Option<Proto>) -> Option<Destination> {
        let uri = self.dst_uri.as_deref().unwrap_or(&self.ruri);
        let d = self.with_parsed_uri(uri, funcs::destination_of)??;
        Some(Destination {
            proto: force.unwrap_or(d.proto),
            ..d
        })
    }

    /// What a branch route may change, to be put back after the branch
    /// is built.
    pub fn branch_state(&self) -> BranchState<'m> {
        BranchState {
            editor: self.editor.clone(),
            ruri: self.ruri.clone(),
            dst_uri: self.dst_uri.clone(),
            removed: self.removed.clone(),
        }
    }

    pub fn restore_branch_state(&mut self, s: BranchState<'m>) {
        self.editor = s.editor;
        self.ruri = s.ruri;
        self.dst_uri = s.dst_uri;
        self.removed = s.removed;
    }

    /// Runs a branch route over the request being relayed.
    pub fn run_branch_route(&mut self, route: RouteId) -> Result<i64, Halt> {
        self.run_route(route)
    }

    /// The engine's monotonic clock (transaction timers).
    pub fn tm_now(&self) -> std::time::Instant {
        (self.cfg.monotonic)()
    }

    /// The top via-parm of `msg` with `received=` (when its host is not
    /// the source IP, or rport is asked for) and `rport=` (RFC 3581, or
    /// `force_rport()`) filled in: `(start, end, new text)`.
    pub fn via_fix(&self, msg: &SipMessage) -> Option<(usize, usize, String)> {
        let via = msg.top_via().ok().flatten()?;
        let header = msg.headers_named(&HeaderName::Via).next()?;
        let rport = self.force_rport || via.rport() != Rport::Absent;
        let src = self.recv.src;
        let received = rport || via.host().ip() != Some(src.ip());
        if !received {
            return None;
        }
        let value = header.value().to_string_lossy().into_owned();
        let span = header.value_span();
        let end = first_via_parm_end(&value);
        let parm = &value[..end];
        let mut parts: Vec<String> = Vec::new();
        for (i, p) in parm.split(';').enumerate() {
            let name = p.split('=').next().unwrap_or_default().trim();
            if i > 0 && name.eq_ignore_ascii_case("received") {
                continue;
            }
            if i > 0 && rport && name.eq_ignore_ascii_case("rport") {
                parts.push(format!("rport={}", src.port()));
                continue;
            }
            parts.push(p.to_string());
        }
        let mut new = parts.join(";");
        new.push_str(&format!(";received={}", src.ip()));
        if rport && via.rport() == Rport::Absent {
            new.push_str(&format!(";rport={}", src.port()));
        }
        Some((span.start, span.start + end, new))
    }

    /// The local socket a message to a `proto` destination leaves from:
    /// the forced one when its protocol matches (Kamailio ignores it
    /// otherwise, with a warning).
    pub fn send_socket_for(&self, proto: Proto) -> Option<SocketAddr> {
        let (p, addr) = self.st.send_socket?;
        if p == proto {
            Some(addr)
        } else {
            self.log(
                level::L_WARN,
                &format!(
                    "sercompat: the forced send socket {p}:{addr} does not match the protocol {proto}; not used\n"
                ),
            );
            None
        }
    }

    /// Where a local reply goes: the source IP; the source port for rport,
    /// `force_rport()` and connection-oriented transports, else the Via
    /// port (5060 by default).
    pub fn reply_target(&self) -> SocketAddr {
        let via = self.msg.top_via().ok().flatten();
        let rport = self.force_rport || via.is_some_and(|v| v.rport() != Rport::Absent);
        if rport || self.recv.proto != Proto::Udp {
            return self.recv.src;
        }
        let port = via.and_then(|v| v.port()).unwrap_or(5060);
        SocketAddr::new(self.recv.src.ip(), port)
    }
}

/// Where the first via-parm of a Via value ends (a `,` outside quotes).
fn first_via_parm_end(value: &str) -> usize {
    let mut quoted = false;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return i,
            _ => {}
        }
    }
    value.trim_end().len()
}

/// `==` between values (K3.0+ rules): the right side is converted to the
/// type of the left; an undefined side takes the other's type.
fn loose_eq(x: &Val, y: &Val) -> bool {
    match (x, y) {
        (Val::Null, Val::Null) => true,
        (Val::Null, Val::Int(i)) | (Val::Int(i), Val::Null) => *i == 0,
        (Val::Null, Val::Str(_)) | (Val::Str(_), Val::Null) => false,
        (Val::Int(i), other) => *i == other.as_int(),
        (Val::Str(s), other) => *s == other.as_string(),
    }
}

/// `ip` against `addr`, `addr/bits` or `addr/netmask`; `None` when `net`
/// is none of those.
pub(crate) fn ip_in_net(ip: IpAddr, net: &str) -> Option<bool> {
    let net = net.trim();
    let (addr, mask) = match net.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (net, None),
    };
    let addr: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match mask {
        None => width,
        Some(m) => match m.parse::<u32>() {
            Ok(b) if b <= width => b,
            Ok(_) => return None,
            Err(_) => match m.parse::<IpAddr>().ok()? {
                IpAddr::V4(m) => u32::from(m).leading_ones(),
                IpAddr::V6(m) => u128::from(m).leading_ones(),
            },
        },
    };
    Some(match (ip, addr) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & m == u32::from(b) & m
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & m == u128::from(b) & m
        }
        _ => false,
    })
}

/// Everything in `program` the engine cannot execute, as R0003
/// diagnostics (calls the catalog does not mark implemented are the
/// readiness check's).
pub(crate) fn check_program(program: &Program) -> Vec<Diagnostic> {
    let mut c = Checker {
        program,
        reply: false,
        status_ok: false,
        reply_subroutes: HashSet::new(),
        out: Vec::new(),
    };
    // Reply routes first (main and named alike; named ones are tm's and
    // never run statelessly): the sub-routes they call run on replies too.
    for r in program
        .routes
        .iter()
        .filter(|r| r.class == RouteClass::OnReply)
    {
        c.reply = true;
        c.ops(&r.body);
        c.reply = false;
    }
    let tm = program.modules.iter().any(|m| m == "tm");
    for (i, r) in program.routes.iter().enumerate() {
        match r.class {
            RouteClass::Request => {
                c.status_ok = c.reply_subroutes.contains(&RouteId(i as u32));
                c.ops(&r.body);
                c.status_ok = false;
            }
            RouteClass::OnReply => {}
            // With tm: failure and branch routes.
            RouteClass::Failure | RouteClass::Branch if tm => c.ops(&r.body),
            // Failure (SER 0.8 `reply_route` too), branch, onsend, event,
            // error and local routes need tm or events the engine lacks.
            other => c.problem(
                r.span,
                format!("{other:?} route blocks are not executed by the engine yet"),
            ),
        }
    }
    // A sub-route called from both kinds of route is walked twice.
    let mut seen = HashSet::new();
    c.out
        .retain(|d| seen.insert(format!("{}{}{:?}", d.code, d.message, d.labels)));
    c.out
}

struct Checker<'p> {
    program: &'p Program,
    /// Checking a reply route (or a sub-route it calls).
    reply: bool,
    /// Checking a sub-route that a reply route calls (`status` is
    /// meaningful there).
    status_ok: bool,
    /// Sub-routes already checked as called from a reply route.
    reply_subroutes: HashSet<RouteId>,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn problem(&mut self, span: Span, what: String) {
        self.out.push(
            Diagnostic::error(UNSUPPORTED, what)
                .primary(span, "the engine cannot execute this")
                .note("`sercompat run` refuses the config rather than guess"),
        );
    }

    fn ops(&mut self, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Call {
                    callee,
                    name,
                    args,
                    span,
                } => {
                    if let Err(why) = funcs::check(self.program, callee, name, args) {
                        self.problem(*span, why);
                    }
                    if self.reply {
                        if let Err(why) = super::actions::allowed_in_reply(callee, name) {
                            self.problem(*span, why);
                        }
                    }
                    args.iter().for_each(|a| self.value(a));
                }
                Op::Route { target, span } => match target {
                    RouteTarget::Missing(n) => {
                        self.problem(*span, format!("route `{n}` is not defined"))
                    }
                    RouteTarget::Dynamic(v) => {
                        if self.reply {
                            self.problem(
                                *span,
                                "a computed route() from a reply route cannot be checked; write the route name".into(),
                            );
                        }
                        self.value(v)
                    }
                    RouteTarget::Static(id) => {
                        // What a reply route calls runs in reply context.
                        if self.reply && self.reply_subroutes.insert(*id) {
                            let prog = self.program;
                            self.ops(&prog.route(*id).body);
                        }
                    }
                },
                Op::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    self.value(cond);
                    self.ops(then);
                    self.ops(otherwise);
                }
                Op::While { cond, body } => {
                    self.value(cond);
                    self.ops(body);
                }
                Op::Switch { subject, cases } => {
                    self.value(subject);
                    for case in cases {
                        if let CaseMatch::Invalid(l) = &case.label {
                            self.problem(
                                subject.span,
                                format!("case label `{l}` is not a constant"),
                            );
                        }
                        self.ops(&case.body);
                    }
                }
                Op::Assign {
                    target,
                    value,
                    span,
                    ..
                } => {
                    match &target.kind {
                        ValueKind::Pv(p) => match pv::check_write(p) {
                            Err(why) => self.problem(*span, why),
                            Ok(()) => self.pv(p, target.span),
                        },
                        ValueKind::Avp(_) => {}
                        _ => self.problem(*span, "this is not an assignable variable".into()),
                    }
                    self.value(value);
                }
                Op::Stop { value, .. } => {
                    if let Some(v) = value {
                        self.value(v);
                    }
                }
            }
        }
    }

    fn pv(&mut self, p: &sercompat_compiler::ir::pv::PvRef, span: Span) {
        if let Err(why) = pv::check(p) {
            self.problem(span, why);
        }
    }

    fn value(&mut self, v: &Value) {
        match &v.kind {
            ValueKind::Pv(p) => self.pv(p, v.span),
            ValueKind::Format(parts) => {
                for p in parts {
                    if let FormatPart::Pv(p) = p {
                        self.pv(p, v.span);
                    }
                }
            }
            ValueKind::Select(s) => {
                if let Err(why) = Select::parse(s) {
                    self.problem(v.span, why);
                }
            }
            ValueKind::Invalid => self.problem(v.span, "this value did not compile".into()),
            ValueKind::Word(w) if w == "status" && !self.reply && !self.status_ok => {
                self.problem(v.span, "`status` is only meaningful in reply routes".into())
            }
            ValueKind::Call(op) => self.ops(std::slice::from_ref(op)),
            ValueKind::Unary(_, a) | ValueKind::Cast(_, a) => self.value(a),
            ValueKind::Binary(_, a, b) | ValueKind::Concat(a, b) => {
                self.value(a);
                self.value(b);
            }
            ValueKind::AssignExpr(t, x) => {
                match &t.kind {
                    ValueKind::Pv(p) => {
                        if let Err(why) = pv::check_write(p) {
                            self.problem(t.span, why);
                        }
                    }
                    ValueKind::Avp(_) => {}
                    _ => self.problem(t.span, "this is not an assignable variable".into()),
                }
                self.value(t);
                self.value(x);
            }
            ValueKind::Block(ops) => self.ops(ops),
            _ => {}
        }
    }
}

fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A Via sent-by host: an IPv6 address gets its brackets.
fn push_via_host(out: &mut String, host: &str) {
    if host.contains(':') && !host.starts_with('[') {
        out.push('[');
        out.push_str(host);
        out.push(']');
    } else {
        out.push_str(host);
    }
}

fn push_via_ip(out: &mut String, ip: IpAddr) {
    match ip {
        // By hand, not through Display: every branch's Via writes one.
        IpAddr::V4(ip) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, u32::from(octet));
            }
        }
        IpAddr::V6(ip) => {
            let _ = write!(out, "[{ip}]");
        }
    }
}

/// `n` in decimal, as `Display` writes it.
fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.200.3.255",
            "255.255.255.255",
            "::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::new();
            push_via_ip(&mut out, ip);
            let want = match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            assert_eq!(out, want);
        }
        for n in [0, 7, 10, 99, 5060, 65535, u32::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn networks() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(ip_in_net(ip, "10.0.0.0/8"), Some(true));
        assert_eq!(ip_in_net(ip, "10.0.0.0/255.255.0.0"), Some(false));
        assert_eq!(ip_in_net(ip, "10.1.2.3"), Some(true));
        assert_eq!(ip_in_net(ip, "0.0.0.0/0"), Some(true));
        assert_eq!(ip_in_net(ip, "example.com"), None);
        let v6: IpAddr = "2001:db8::5".parse().unwrap();
        assert_eq!(ip_in_net(v6, "2001:db8::/32"), Some(true));
        assert_eq!(ip_in_net(v6, "10.0.0.0/8"), Some(false));
    }

    #[test]
    fn via_parm_end() {
        assert_eq!(
            first_via_parm_end("SIP/2.0/UDP a;branch=x, SIP/2.0/UDP b"),
            22
        );
        assert_eq!(first_via_parm_end("SIP/2.0/UDP a;x=\"a,b\" "), 21);
    }
}
