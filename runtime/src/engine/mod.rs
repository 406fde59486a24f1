//! The interpreter: runs a lowered config (the IR of `sercompat_compiler::ir`)
//! over one SIP message at a time. Sans-IO: it returns what to send.
//!
//! ```text
//! Engine::new(Arc<Program>, EngineConfig) ─► refuses what it cannot run
//! engine.on_request(&SipMessage, RecvInfo) ─► Vec<Output>   (replies, forwards)
//!                                          ─► Logger          (log/xlog lines)
//! ```
//!
//! What runs: `request_route` / `route` blocks (the main blocks in order,
//! named and numbered sub-routes), `if`/`switch`/`while`, assignments,
//! `return`/`exit`/`drop`/`break` with the meaning the IR records for the
//! file's era, expressions with the era's operators, the condition words
//! (`method`, `uri`, `src_ip`, `myself`, ...), the pseudo-variables of
//! [`pv`], the core actions and module functions of [`funcs`], and the 2001
//! rule table. Anything else is refused by [`Engine::new`]: a function the
//! runtime lacks is never a silent no-op.
//!
//! Deliberately injected: the Via branch and the To tag of local replies
//! ([`IdGen`]), and the log sink ([`Logger`]), so tests see exact bytes.

mod acc;
mod actions;
mod cfgutils;
mod clock;
mod codec;
mod corex;
mod exec;
mod fargs;
mod func_index;
mod funcs;
mod kex;
mod msgpv;
mod msgstate;
mod nameaddr;
mod pv;
mod registrar;
mod registrar_params;
pub mod rr;
mod select;
mod shared;
mod shared_state;
mod siputils;
mod subst;
mod textops;
mod textopsx;
mod tm;
mod tmx;
mod transactions;
mod transform;
mod uri;
mod value;
mod xavp;

pub use acc::AccConfig;
pub use actions::{Branch, CORE as MORE_CORE_ACTIONS, MAX_APPENDED_BRANCHES};
pub use clock::{Clock, FixedClock, SystemClock};
pub use corex::FUNCTIONS as COREX_FUNCTIONS;
pub use funcs::{handles_core_action, handles_function, CORE, FUNCTION_TABLES, MODULES};
pub use kex::FUNCTIONS as KEX_FUNCTIONS;
pub use pv::implemented_keys as implemented_pvs;
pub use registrar::FUNCTIONS as REGISTRAR_FUNCTIONS;
pub use registrar_params::{registrar_from_params, LocationSettings};
pub use shared::SharedVars;
pub use shared_state::{RandomSource, Shared, SystemRandom};
pub use tm::FUNCTIONS as TM_FUNCTIONS;
pub use transactions::{CellScript, Hop, Transactions};
pub use value::Val;

use bytes::Bytes;
use sercompat_compiler::ir::{readiness, Program};
use sercompat_grammar::{Diagnostic, Era, Severity};
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::registrar::{Registrar, RegistrarConfig};
use crate::sip::SipMessage;
use crate::usrloc::{Usrloc, UsrlocConfig};

/// `clock`'s time in Unix seconds (registrar expiry).
pub fn unix_seconds(clock: &Arc<dyn Clock>) -> u64 {
    clock.now().as_secs()
}

/// The code of "the engine cannot execute this construct" (a
/// pseudo-variable, select, flag, format or pattern it does not support).
pub const UNSUPPORTED: &str = "R0003";

/// Log levels, Kamailio 3.0+ numbering (`log(N, ...)` passes N as is).
pub mod level {
    pub const L_ALERT: i32 = -5;
    pub const L_BUG: i32 = -4;
    pub const L_CRIT2: i32 = -3;
    pub const L_CRIT: i32 = -2;
    pub const L_ERR: i32 = -1;
    pub const L_WARN: i32 = 0;
    pub const L_NOTICE: i32 = 1;
    pub const L_INFO: i32 = 2;
    pub const L_DBG: i32 = 3;

    /// `"L_INFO"` → 2; `None` for any other text.
    pub fn from_name(name: &str) -> Option<i32> {
        Some(match name.trim() {
            "L_ALERT" => L_ALERT,
            "L_BUG" => L_BUG,
            "L_CRIT" => L_CRIT,
            "L_ERR" => L_ERR,
            "L_WARN" => L_WARN,
            "L_NOTICE" => L_NOTICE,
            "L_INFO" => L_INFO,
            "L_DBG" => L_DBG,
            _ => return None,
        })
    }
}

/// Where `log`/`xlog` lines (and the engine's own errors) go.
pub trait Logger: Send + Sync {
    fn log(&self, level: i32, text: &str);

    /// A line whose level was already decided on (kex `setdebug` replaces
    /// the process's `debug=` level): no level filter applies.
    fn log_decided(&self, level: i32, text: &str) {
        self.log(level, text);
    }
}

/// A [`Logger`] that keeps every line (tests, `--dry-run` style tools).
#[derive(Debug, Default)]
pub struct MemoryLogger {
    lines: Mutex<Vec<(i32, String)>>,
}

impl MemoryLogger {
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines logged so far, and forgets them.
    pub fn take(&self) -> Vec<(i32, String)> {
        std::mem::take(&mut *self.lines.lock().expect("logger lock"))
    }
}

impl Logger for MemoryLogger {
    fn log(&self, level: i32, text: &str) {
        self.lines
            .lock()
            .expect("logger lock")
            .push((level, text.to_string()));
    }
}

/// Writes each line to standard error.
#[derive(Debug, Default)]
pub struct StderrLogger;

impl Logger for StderrLogger {
    fn log(&self, level: i32, text: &str) {
        eprint!("[{level}] {text}");
        if !text.ends_with('\n') {
            eprintln!();
        }
    }
}

/// Passes on the lines at or below a level, as Kamailio's `debug=` does
/// (Kamailio 3.0+ numbering: 0 warnings, 2 info, 3 debug).
#[derive(Debug)]
pub struct MaxLevel<L> {
    pub max: i32,
    pub inner: L,
}

impl<L: Logger> Logger for MaxLevel<L> {
    fn log(&self, level: i32, text: &str) {
        if level <= self.max {
            self.inner.log(level, text);
        }
    }

    fn log_decided(&self, level: i32, text: &str) {
        self.inner.log_decided(level, text);
    }
}

/// The identifiers a stateless proxy makes up. Both must be functions of
/// the message, so a retransmission gets the same ones (RFC 3261 §16.11).
pub trait IdGen: Send + Sync {
    /// The `branch` of our Via (must start with `z9hG4bK`).
    fn branch(&self, msg: &SipMessage) -> String;
    /// The To tag of a local reply to a request without one.
    fn to_tag(&self, msg: &SipMessage) -> String;
}

/// The default [`IdGen`]: hashes of the transaction-identifying parts.
#[derive(Debug, Default)]
pub struct HashIds;

/// FNV-1a (unkeyed, the same in every process): ids need uniqueness and
/// stability across retransmissions, not resistance to chosen keys (no
/// table is indexed by them), and SipHash cost 2.9K instructions a call.
fn message_hash(msg: &SipMessage, salt: &str) -> u64 {
    let mut h = fnv::FnvHasher::default();
    salt.hash(&mut h);
    // Via, Call-ID and CSeq were parsed by the transport's core check; the
    // From header is hashed as received (a retransmission and its CANCEL
    // carry it unchanged, RFC 3261 §9.1), which spares parsing it.
    if let Ok(Some(v)) = msg.top_via() {
        v.branch().map(|b| b.as_bytes()).hash(&mut h);
        v.host().text().as_bytes().hash(&mut h);
        v.port().hash(&mut h);
    }
    if let Some(f) = msg.headers_named(&crate::sip::HeaderName::From).next() {
        f.value().as_bytes().hash(&mut h);
    }
    if let Ok(Some(id)) = msg.call_id() {
        id.as_bytes().hash(&mut h);
    }
    if let Ok(Some(c)) = msg.cseq() {
        c.number().hash(&mut h);
    }
    if let Some(uri) = msg.request_uri_text() {
        uri.as_bytes().hash(&mut h);
    }
    h.finish()
}

impl IdGen for HashIds {
    fn branch(&self, msg: &SipMessage) -> String {
        format!("z9hG4bKsc{:016x}", message_hash(msg, "branch"))
    }

    fn to_tag(&self, msg: &SipMessage) -> String {
        format!("sc{:016x}", message_hash(msg, "to-tag"))
    }
}

/// Transport protocols (the SIP core's, re-exported for the engine's
/// callers).
pub use crate::sip::Proto;

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where and how a message was received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvInfo {
    pub src: SocketAddr,
    /// Our socket it arrived on.
    pub dst: SocketAddr,
    pub proto: Proto,
}

/// A next hop: a host name or IP (the transport resolves names), a port
/// and a protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    pub port: u16,
    pub proto: Proto,
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "{}:[{}]:{}", self.proto, self.host, self.port)
        } else {
            write!(f, "{}:{}:{}", self.proto, self.host, self.port)
        }
    }
}

/// What the engine asks the transport to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A locally generated reply, to the address RFC 3261 §18.2.2 / RFC
    /// 3581 give (the source address; the Via port unless `rport`).
    Reply {
        bytes: Bytes,
        to: SocketAddr,
        proto: Proto,
    },
    /// A request forwarded statelessly (or bytes sent by `send`-like
    /// functions).
    Forward {
        bytes: Bytes,
        to: Destination,
        /// The local socket to send from (`force_send_socket`); `None`:
        /// the transport chooses.
        from: Option<SocketAddr>,
    },
}

/// What happens to a reply after the main `onreply_route`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyVerdict {
    /// Forward it along its Via; `Some` holds the reply as the script
    /// edited it (our Via still on top), `None` when it was not edited.
    Forward(Option<Bytes>),
    /// `drop`, or the route returned a negative code (Kamailio logs
    /// "error while trying onreply script" and does not forward).
    Drop,
}

/// One of the proxy's own names (`myself`): a listen address or an
/// `alias=`. `port: None` matches any port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Myself {
    pub host: String,
    pub port: Option<u16>,
}

impl Myself {
    pub fn new(host: impl Into<String>, port: Option<u16>) -> Self {
        Myself {
            host: host.into(),
            port,
        }
    }
}

/// Settings the config file does not carry (or carries in core
/// parameters the engine does not read yet).
#[derive(Clone)]
pub struct EngineConfig {
    /// The `Server:` header of local replies (`None`: no header).
    pub server_header: Option<String>,
    /// Listen addresses and aliases, for `myself`.
    pub myself: Vec<Myself>,
    /// The sockets the server listens on (`force_send_socket` picks one).
    pub sockets: Vec<(Proto, SocketAddr)>,
    /// The `host:port` put in our Via; `None`: the socket the request
    /// arrived on.
    pub via_address: Option<(String, u16)>,
    /// `max_while_loops` (Kamailio default 100).
    pub max_while_loops: u32,
    /// Nesting bound of `route()` calls (Kamailio: 100).
    pub max_route_depth: u32,
    /// `maxfwd` `max_limit` (default 70).
    pub maxfwd_limit: u32,
    /// `rr` module parameters.
    pub rr: crate::rr::RrConfig,
    /// acc's settings when the config loads it; [`Engine::new`] fills it
    /// from the program.
    pub acc: Option<AccConfig>,
    pub ids: Arc<dyn IdGen>,
    pub logger: Arc<dyn Logger>,
    /// The transaction tables, shared by every worker; `None` when the
    /// config does not load tm.
    pub tm: Option<Arc<Transactions>>,
    /// The monotonic clock of transaction timers (injected in tests).
    pub monotonic: Arc<dyn Fn() -> Instant + Send + Sync>,
    /// What the time pseudo-variables read.
    pub clock: Arc<dyn Clock>,
    /// `$shv(...)`: give every engine of one server the same handle.
    pub shared_vars: Arc<SharedVars>,
    /// `rand_event()`'s numbers.
    pub random: Arc<dyn RandomSource>,
    /// Global flags, locks and the random-event probability, shared by
    /// every worker running this engine.
    pub shared: Arc<Shared>,
    /// The registrar and, behind it, the location tables (`usrloc`). One
    /// for the whole server: [`Engine::fork`] clones the `Arc`, so every
    /// worker saves into and looks up in the same tables.
    pub registrar: Arc<Registrar>,
}

/// A registrar over memory-only tables with Kamailio's default parameters.
pub fn default_registrar() -> Arc<Registrar> {
    let usrloc = Usrloc::new(UsrlocConfig::default()).expect("usrloc defaults are valid");
    Arc::new(
        Registrar::new(RegistrarConfig::default(), Arc::new(usrloc))
            .expect("registrar defaults are supported"),
    )
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            server_header: Some("sercompat".to_string()),
            myself: Vec::new(),
            sockets: Vec::new(),
            via_address: None,
            max_while_loops: 100,
            max_route_depth: 100,
            maxfwd_limit: 70,
            rr: crate::rr::RrConfig::default(),
            acc: None,
            ids: Arc::new(HashIds),
            logger: Arc::new(StderrLogger),
            tm: None,
            monotonic: Arc::new(Instant::now),
            clock: Arc::new(SystemClock),
            shared_vars: Arc::new(SharedVars::new()),
            random: Arc::new(SystemRandom::default()),
            shared: Arc::new(Shared::default()),
            registrar: default_registrar(),
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("server_header", &self.server_header)
            .field("myself", &self.myself)
            .field("sockets", &self.sockets)
            .field("via_address", &self.via_address)
            .field("max_while_loops", &self.max_while_loops)
            .field("max_route_depth", &self.max_route_depth)
            .field("maxfwd_limit", &self.maxfwd_limit)
            .field("shared", &self.shared)
            .field("rr", &self.rr)
            .finish_non_exhaustive()
    }
}

/// Why [`Engine::new`] refused a program: one diagnostic per construct
/// (R0001 from the readiness check, R0003 from the engine's own check).
#[derive(Debug)]
pub struct Refused {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the engine cannot run this config ({} problem(s))",
            self.diagnostics.len()
        )?;
        for d in &self.diagnostics {
            write!(f, "\n  {}: {}", d.code, d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Refused {}

/// The outcome of [`Engine::check`].
#[derive(Debug, Default)]
pub struct Checked {
    /// Why the engine would refuse the program (empty: it runs it).
    pub errors: Vec<Diagnostic>,
    /// What it accepts but does not honour (R0005).
    pub warnings: Vec<Diagnostic>,
}

/// One interpreter instance: the program, the settings, and the state a
/// Kamailio worker process keeps between messages (`$var`).
pub struct Engine {
    program: Arc<Program>,
    config: EngineConfig,
    /// `$var(name)`: per process, kept across messages (as in Kamailio).
    vars: HashMap<String, Val>,
    /// kex `setdebug`: this process's log level until `resetdebug`.
    debug: Option<i32>,
    /// Settings the runtime does not honour (R0005), for the caller to
    /// show at start-up.
    warnings: Vec<Diagnostic>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("era", &self.program.era)
            .field("routes", &self.program.routes.len())
            .field("rules", &self.program.rules.len())
            .field("config", &self.config)
            .finish()
    }
}

impl Engine {
    /// Checks that every call is implemented (the readiness list) and that
    /// every pseudo-variable, flag, format and pattern is one the engine
    /// executes; refuses the program otherwise.
    pub fn new(program: Arc<Program>, mut config: EngineConfig) -> Result<Engine, Refused> {
        config.acc = AccConfig::from_program(&program);
        let Checked {
            errors: mut diagnostics,
            warnings,
        } = Engine::check(&program);
        diagnostics.extend(actions::socket_problems(&program, &config));
        if let Some((host, port)) = &config.via_address {
            // Checked once here: the forwarding path inserts our Via
            // without parsing it again.
            let bracketed = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            let via = format!("SIP/2.0/UDP {bracketed}:{port};branch=z9hG4bKcheck");
            if !crate::sip::via_parses(&via) {
                diagnostics.push(Diagnostic::error(
                    UNSUPPORTED,
                    format!(
                        "the advertised address `{host}:{port}` cannot be written in a Via header"
                    ),
                ));
            }
        }
        if diagnostics.is_empty() {
            Ok(Engine {
                program,
                config,
                vars: HashMap::new(),
                debug: None,
                warnings,
            })
        } else {
            Err(Refused { diagnostics })
        }
    }

    /// What [`Engine::new`] checks of the program alone (no settings of
    /// this process): calls and settings the runtime does not implement,
    /// constructs the engine cannot execute, rule-table patterns that do
    /// not compile. `sercompat run -c` stops here.
    pub fn check(program: &Program) -> Checked {
        let mut errors = readiness::unimplemented_calls(program);
        errors.extend(exec::check_program(program));
        errors.extend(rr::check_modparams(program));
        let (setting_errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            readiness::unimplemented_settings(program)
                .into_iter()
                .chain(acc::check_modparams(program))
                .partition(|d| d.severity == Severity::Error);
        errors.extend(setting_errors);
        if program.era == Era::Rules2001 {
            for r in &program.rules {
                for (what, re) in [("method", &r.method), ("Request-URI", &r.uri)] {
                    if let Err(why) = re {
                        errors.push(
                            Diagnostic::error(
                                UNSUPPORTED,
                                format!("the {what} pattern of this rule does not compile: {why}"),
                            )
                            .primary(r.span, "the engine cannot match this rule"),
                        );
                    }
                }
            }
        }
        Checked { errors, warnings }
    }

    /// A new worker's engine: the same checked program and settings, and
    /// the per-process state (`$var`) fresh — what a Kamailio child
    /// process gets when it forks after loading the config.
    pub fn fork(&self) -> Engine {
        Engine {
            program: Arc::clone(&self.program),
            config: self.config.clone(),
            vars: HashMap::new(),
            debug: None,
            warnings: Vec::new(),
        }
    }

    /// What the engine accepted but does not honour (core parameters
    /// with no effect), to be shown once at start-up.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Runs the request route (or the 2001 rule table) over one request and
    /// returns what to send. A response gets no outputs and an error line
    /// in the log: replies go through [`Engine::on_reply`].
    pub fn on_request(&mut self, msg: &SipMessage, recv: RecvInfo) -> Vec<Output> {
        if !msg.is_request() {
            self.config.logger.log(
                level::L_ERR,
                "sercompat: a reply was given to the request route; dropped\n",
            );
            return Vec::new();
        }
        let program = Arc::clone(&self.program);
        let process = exec::Process {
            vars: &mut self.vars,
            debug: &mut self.debug,
        };
        let mut out = exec::run_request(&program, &self.config, process, msg, recv);
        // A local final reply (`t_reply`) is accounted now, not at the
        // next timer tick.
        if let (Some(tms), Some(_)) = (self.config.tm.clone(), &self.config.acc) {
            if let Ok(shard) = crate::tm::shard_for_request(msg, tms.shard_count()) {
                out.extend(self.drain_transactions(&tms, shard));
            }
        }
        out
    }

    /// Whether the config has a main `onreply_route` (without one, replies
    /// need not reach the engine at all).
    pub fn runs_reply_route(&self) -> bool {
        self.program
            .defaults
            .get(&sercompat_compiler::routes::RouteClass::OnReply)
            .is_some_and(|ids| !ids.is_empty())
    }

    /// Runs the main `onreply_route` (if the config has one) over a reply
    /// received statelessly, as Kamailio's core does before forwarding it
    /// along its Via. Named `onreply_route[x]` blocks belong to tm and are
    /// never run here. A request gets [`ReplyVerdict::Drop`] and a log line.
    pub fn on_reply(&mut self, msg: &SipMessage, recv: RecvInfo) -> ReplyVerdict {
        if !msg.is_response() {
            self.config.logger.log(
                level::L_ERR,
                "sercompat: a request was given to the reply route; dropped\n",
            );
            return ReplyVerdict::Drop;
        }
        let program = Arc::clone(&self.program);
        let process = exec::Process {
            vars: &mut self.vars,
            debug: &mut self.debug,
        };
        exec::run_reply(&program, &self.config, process, msg, recv)
    }
}

impl Engine {
    /// A reply from downstream through the transaction layer: the
    /// transaction's onreply route runs, then the reply is processed
    /// (relayed, absorbed, or it completes the transaction — which may run
    /// the failure route). `None` when it answers nothing of ours: the
    /// caller forwards it statelessly.
    pub fn on_tm_reply(&mut self, msg: &SipMessage, recv: RecvInfo) -> Option<Vec<Output>> {
        let tms = self.config.tm.clone()?;
        let status = msg.status_code()?;
        let (shard, cell) = {
            let (shard, table) = tms.for_response(msg)?;
            let (cell, _) = table.match_response(msg)?;
            (shard, cell)
        };
        let mut out = Vec::new();
        if let Some((route, flags)) = tms.reply_route(cell) {
            let program = Arc::clone(&self.program);
            let (o, r, flags) = exec::run_transaction_route(
                &program,
                &self.config,
                exec::Process {
                    vars: &mut self.vars,
                    debug: &mut self.debug,
                },
                msg,
                recv,
                exec::RouteMode::Reply { cell, status },
                route,
                flags,
            );
            tms.update_script(cell, |s| s.flags = flags);
            out.extend(o);
            // `drop` in an onreply route discards a provisional reply;
            // a final one cannot be dropped (Kamailio).
            if r == Err(exec::Halt::Drop) && status < 200 {
                return Some(out);
            }
        }
        let now = (self.config.monotonic)();
        {
            let mut table = tms.lock(shard);
            if let Err(e) = table.handle_response(msg, now) {
                self.config.logger.log(
                    level::L_ERR,
                    &format!("sercompat: tm: reply {status}: {e}\n"),
                );
            }
        }
        out.extend(self.drain_transactions(&tms, shard));
        Some(out)
    }

    /// Runs the transaction timers due by now (retransmissions,
    /// timeouts, failure routes) and returns what to send.
    pub fn on_timer(&mut self) -> Vec<Output> {
        let Some(tms) = self.config.tm.clone() else {
            return Vec::new();
        };
        let now = (self.config.monotonic)();
        let mut out = Vec::new();
        for shard in 0..tms.shard_count() {
            let result = {
                let mut table = tms.lock(shard);
                if table.poll_timeout().is_some_and(|t| t <= now) {
                    table.handle_timeout(now)
                } else {
                    Ok(())
                }
            };
            if let Err(e) = result {
                self.config
                    .logger
                    .log(level::L_ERR, &format!("sercompat: tm timers: {e}\n"));
            }
            out.extend(self.drain_transactions(&tms, shard));
        }
        out
    }

    /// Sends what a table queued and acts on its events: the failure
    /// route of a transaction whose branches all failed, the script state
    /// of a released one.
    fn drain_transactions(&mut self, tms: &Arc<Transactions>, shard: usize) -> Vec<Output> {
        let mut out = Vec::new();
        loop {
            let event = {
                let mut table = tms.lock(shard);
                while let Some(t) = table.poll_transmit() {
                    out.push(Output::from(t));
                }
                table.poll_event()
            };
            match event {
                None => return out,
                Some(crate::tm::Event::Released { cell }) => tms.forget(cell),
                Some(crate::tm::Event::Replied { cell, reply }) => {
                    self.account(tms, cell, |ctx, acc| acc::on_final(ctx, acc, &reply));
                }
                Some(crate::tm::Event::Failure {
                    cell,
                    branch,
                    status,
                }) => {
                    if self.config.acc.is_some() {
                        let reply = tms.lock(shard).final_reply(cell, branch);
                        if let Some(reply) = reply {
                            self.account(tms, cell, |ctx, acc| acc::on_failure(ctx, acc, &reply));
                        }
                    }
                    let script = tms.script(cell);
                    let route = script.as_ref().and_then(|s| s.failure_route);
                    if let (Some(script), Some(route)) = (script, route) {
                        // Armed once: `t_on_failure` in the route arms the
                        // next failure point.
                        tms.update_script(cell, |s| s.failure_route = None);
                        let program = Arc::clone(&self.program);
                        let (o, _, flags) = exec::run_transaction_route(
                            &program,
                            &self.config,
                            exec::Process {
                                vars: &mut self.vars,
                                debug: &mut self.debug,
                            },
                            &script.failure_request(),
                            script.recv,
                            exec::RouteMode::Failure {
                                cell,
                                branch,
                                status,
                            },
                            route,
                            script.flags,
                        );
                        tms.update_script(cell, |s| s.flags = flags);
                        out.extend(o);
                    }
                    let now = (self.config.monotonic)();
                    if let Err(e) = tms.lock(shard).failure_done(cell, now) {
                        self.config.logger.log(
                            level::L_ERR,
                            &format!("sercompat: tm: failure route: {e}\n"),
                        );
                    }
                }
            }
        }
    }
}

impl Engine {
    /// Runs an accounting step on `cell`'s request with its flags (acc
    /// may consume the missed-call flag); nothing without acc.
    fn account(
        &mut self,
        tms: &Arc<Transactions>,
        cell: crate::tm::CellId,
        step: impl FnOnce(&mut exec::Ctx, &AccConfig) -> Result<(), exec::Halt>,
    ) {
        let Some(script) = tms.script(cell) else {
            return;
        };
        let program = Arc::clone(&self.program);
        let config = &self.config;
        let Some(acc) = config.acc.as_ref() else {
            return;
        };
        // Not a route: the mode only tells PVs which transaction this is.
        let (_, _, flags) = exec::with_ctx(
            &program,
            config,
            exec::Process {
                vars: &mut self.vars,
                debug: &mut self.debug,
            },
            &script.failure_request(),
            script.recv,
            exec::RouteMode::Failure {
                cell,
                branch: 0,
                status: 0,
            },
            script.flags,
            |ctx| step(ctx, acc),
        );
        tms.update_script(cell, |s| s.flags = flags);
    }
}

/// Whether `ip` is written as `host` (an IP literal, `[v6]` or not).
pub(crate) fn host_is_ip(host: &str, ip: IpAddr) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    // `myself` is compared this way for every request: a dotted quad
    // (what configs list) skips the generic parser.
    match (crate::sip::parse_ipv4(h.as_bytes()), ip) {
        (Some(v4), IpAddr::V4(ip)) => v4 == ip,
        (Some(_), IpAddr::V6(_)) => false,
        (None, _) => h.parse::<IpAddr>().is_ok_and(|a| a == ip),
    }
}
