//! `sercompat run`'s glue: the config's socket settings for the transports,
//! and the handler that runs the engine on each request and forwards
//! replies statelessly along their Via headers, as Kamailio's core does.

use crate::engine::Transactions;
use crate::engine::{
    level, Destination, Engine, EngineConfig, Myself, Output, RecvInfo, ReplyVerdict,
};
use crate::net::listen::{self, Addr};
use crate::net::received::{response_route, Target};
use crate::net::sockets::{Resolver, SocketConfig};
use crate::net::{Handler, Outgoing, Received, Transport};
use crate::sip::{top_level_comma, HeaderName, MessageEditor, SipMessage, Span, TypedHeader};
use crate::tm::{FailureReplyMode, TmConfig};
use sercompat_compiler::ir::{ParamConst, Program};
use sercompat_compiler::timer_in_seconds;
use sercompat_grammar::ast::{ItemKind, ParamValueKind};
use sercompat_grammar::{Diagnostic, Era, Parsed};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The code of a socket setting that does not parse.
pub const BAD_SOCKET: &str = "R0004";

/// `listen=`, `alias=`, `port=`, `advertised_address=`, `advertised_port=`,
/// `mhomed=` and `children=` of the config.
pub fn socket_config(parsed: &Parsed) -> Result<(SocketConfig, usize), Vec<Diagnostic>> {
    let mut cfg = SocketConfig::default();
    let mut children = 8;
    let mut errors = Vec::new();
    for item in &parsed.config.items {
        let ItemKind::CoreParam { name, value } = &item.kind else {
            continue;
        };
        let text = parsed.db.slice(value.span);
        let int = match &value.kind {
            ParamValueKind::Int(n) => Some(*n),
            ParamValueKind::Word(w) if w == "yes" || w == "on" => Some(1),
            ParamValueKind::Word(w) if w == "no" || w == "off" => Some(0),
            _ => None,
        };
        let plain = match &value.kind {
            ParamValueKind::Str(s) | ParamValueKind::Word(s) => s.clone(),
            _ => text.to_string(),
        };
        match name.text.as_str() {
            "listen" | "alias" => match listen::parse(text) {
                Ok(spec) if name.text == "listen" => cfg.listen.push(spec),
                Ok(spec) => cfg.aliases.push(spec),
                Err(e) => errors.push(
                    Diagnostic::error(
                        BAD_SOCKET,
                        format!("`{}` value does not parse: {e}", name.text),
                    )
                    .primary(value.span, "not a socket"),
                ),
            },
            "port" => cfg.port = int.and_then(|n| u16::try_from(n).ok()),
            "advertised_address" => cfg.advertised_address = Some(plain),
            "advertised_port" => cfg.advertised_port = int.and_then(|n| u16::try_from(n).ok()),
            "mhomed" => cfg.mhomed = int.unwrap_or(0) != 0,
            "disable_tcp" => cfg.disable_tcp = int.unwrap_or(0) != 0,
            "children" => {
                children = int
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(8)
                    .max(1)
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok((cfg, children))
    } else {
        Err(errors)
    }
}

/// Kamailio's default `debug` level (warnings and worse).
const DEFAULT_DEBUG: i32 = level::L_WARN;

/// The engine settings a config carries in core and module parameters:
/// `debug=` (plus one per `-d` on the command line, as Kamailio counts
/// them), `max_while_loops=`, `modparam("maxfwd", "max_limit", N)`.
/// Levels of eras before Kamailio 3.0 are renumbered to 3.0's (their WARN
/// was 1, ALERT -3).
pub fn apply_settings(program: &Program, config: &mut EngineConfig, extra_debug: u8) -> i32 {
    let mut debug = DEFAULT_DEBUG;
    for s in &program.core_settings {
        let ParamValueKind::Int(n) = s.value.kind else {
            continue;
        };
        match s.name.as_str() {
            "debug" => debug = debug_level(program.era, n),
            "max_while_loops" => {
                config.max_while_loops = u32::try_from(n).unwrap_or(config.max_while_loops)
            }
            _ => {}
        }
    }
    for p in &program.module_params {
        if let ("maxfwd", "max_limit", ParamConst::Int(n)) =
            (p.module.as_str(), p.name.as_str(), &p.value)
        {
            config.maxfwd_limit = u32::try_from(*n).unwrap_or(config.maxfwd_limit);
        }
    }
    crate::engine::rr::apply_modparams(program, &mut config.rr);
    debug.saturating_add(i32::from(extra_debug))
}

/// tm's settings from its module parameters, in each era's units: the
/// final-response timers (and before SER 2.0 the others too) were
/// seconds before Kamailio 3.0, milliseconds since.
pub fn tm_config(program: &Program) -> TmConfig {
    let mut c = TmConfig::default();
    // Kamailio 4.3 made 3 the default; our eras split at 4.x.
    if matches!(
        program.era,
        Era::Kamailio4 | Era::Kamailio5 | Era::Kamailio6
    ) {
        c.failure_reply_mode = FailureReplyMode::KeepBest;
    }
    c.report_finals = program.module_loads.iter().any(|(m, _)| m == "acc");
    c.report_early_media = c.report_finals
        && program
            .module_params
            .iter()
            .any(|p| p.module == "acc" && p.name == "early_media" && p.value != ParamConst::Int(0));
    for p in program.module_params.iter().filter(|p| p.module == "tm") {
        let ParamConst::Int(n) = p.value else {
            continue;
        };
        if p.name == "failure_reply_mode" {
            if let Some(mode) = FailureReplyMode::from_param(n) {
                c.failure_reply_mode = mode;
            }
            continue;
        }
        let Ok(n) = u64::try_from(n) else {
            continue;
        };
        let d = if !program.era.is_merged_core() && timer_in_seconds(program.era, &p.name) {
            Duration::from_secs(n)
        } else {
            Duration::from_millis(n)
        };
        match p.name.as_str() {
            "fr_timer" => c.timers.fr = d,
            "fr_inv_timer" => c.timers.fr_inv = d,
            "wt_timer" => c.timers.wait = d,
            "retr_timer1" | "T1_timer" => c.timers.t1 = d,
            "retr_timer2" | "T2_timer" => c.timers.t2 = d,
            "auto_inv_100" => c.auto_inv_100 = n != 0,
            _ => {}
        }
    }
    c.timers = c.timers.clamped();
    c
}

/// The usrloc timer: every `interval_secs` (usrloc `timer_interval`),
/// removes the contacts that expired by `clock`'s time from every
/// location table. Runs until its task is dropped.
pub async fn expire_contacts(
    registrar: std::sync::Arc<crate::registrar::Registrar>,
    clock: std::sync::Arc<dyn crate::engine::Clock>,
    interval_secs: u32,
    logger: std::sync::Arc<dyn crate::engine::Logger>,
) {
    let period = std::time::Duration::from_secs(u64::from(interval_secs.max(1)));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = crate::engine::unix_seconds(&clock);
        if let Err(e) = registrar.usrloc().expire(now) {
            logger.log(level::L_ERR, &format!("sercompat: usrloc timer: {e}\n"));
        }
    }
}

/// A `debug=` number in Kamailio 3.0+ terms.
fn debug_level(era: Era, n: i64) -> i32 {
    let n = i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX });
    if era.is_merged_core() {
        return n;
    }
    match n {
        n if n >= 1 => n - 1,
        -3 => level::L_ALERT,
        n => n,
    }
}

/// Core parameters beyond the sockets that the runtime honours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreParams {
    /// The `Server:` value of local replies: `server_header="Server: x"`
    /// replaces ours, `server_signature=no` removes it.
    pub server_header: Option<String>,
    /// `tcp_max_connections` (Kamailio's default 2048).
    pub tcp_max_connections: usize,
}

/// Reads `server_signature`, `server_header`, `tcp_max_connections`, and
/// refuses `sip_warning` switched on (its Warning header is not written).
pub fn core_params(parsed: &Parsed) -> Result<CoreParams, Vec<Diagnostic>> {
    let mut signature = true;
    let mut header: Option<String> = None;
    let mut out = CoreParams {
        server_header: None,
        tcp_max_connections: crate::net::stream::DEFAULT_MAX_CONNECTIONS,
    };
    let mut errors = Vec::new();
    for item in &parsed.config.items {
        let ItemKind::CoreParam { name, value } = &item.kind else {
            continue;
        };
        let int = match &value.kind {
            ParamValueKind::Int(n) => Some(*n),
            ParamValueKind::Word(w) if matches!(w.as_str(), "yes" | "on" | "true") => Some(1),
            ParamValueKind::Word(w) if matches!(w.as_str(), "no" | "off" | "false") => Some(0),
            _ => None,
        };
        let mut bad = |what: &str| {
            errors.push(
                Diagnostic::error(BAD_SOCKET, format!("`{}`: {what}", name.text))
                    .primary(value.span, "this value"),
            )
        };
        match name.text.as_str() {
            "server_signature" => match int {
                Some(n) => signature = n != 0,
                None => bad("expected yes/no or a number"),
            },
            "server_header" => {
                let text = match &value.kind {
                    ParamValueKind::Str(s) | ParamValueKind::Word(s) => s.clone(),
                    _ => parsed.db.slice(value.span).to_string(),
                };
                match text.split_once(':') {
                    Some((n, v)) if n.trim().eq_ignore_ascii_case("Server") => {
                        header = Some(v.trim().to_string())
                    }
                    _ => bad("expected \"Server: text\" (other header names are not supported)"),
                }
            }
            "tcp_max_connections" => match int.and_then(|n| usize::try_from(n).ok()) {
                Some(n) => out.tcp_max_connections = n,
                None => bad("expected a number of connections"),
            },
            "sip_warning" if int != Some(0) => {
                bad("Warning headers in local replies are not implemented; set it to 0")
            }
            _ => {}
        }
    }
    if signature {
        out.server_header = Some(header.unwrap_or_else(|| "sercompat".to_string()));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The host names `listen=` gives (not interface names), with their
/// port: Kamailio counts them as `myself` (checked with it), like the
/// addresses they resolve to.
pub fn listen_names(cfg: &SocketConfig, resolver: &dyn Resolver) -> Vec<(String, Option<u16>)> {
    let default_port = cfg.port.unwrap_or(crate::net::sockets::DEFAULT_PORT);
    let mut out: Vec<(String, Option<u16>)> = Vec::new();
    for spec in &cfg.listen {
        for addr in &spec.addrs {
            if let Addr::Name(n) = addr {
                let entry = (n.clone(), Some(spec.port.unwrap_or(default_port)));
                if resolver.interface_addrs(n).is_none() && !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}

/// The names `myself` matches: every bound socket and its advertised name,
/// and the aliases.
pub fn myself(
    bound: &[SocketAddr],
    advertised: &[(String, u16)],
    aliases: &[(String, Option<u16>)],
) -> Vec<Myself> {
    let mut out: Vec<Myself> = Vec::new();
    for a in bound {
        if a.ip().is_unspecified() {
            // `listen=*`: every local address is ours; the loopback names stand in.
            out.push(Myself::new("127.0.0.1", Some(a.port())));
            out.push(Myself::new("::1", Some(a.port())));
            out.push(Myself::new("localhost", Some(a.port())));
        } else {
            out.push(Myself::new(a.ip().to_string(), Some(a.port())));
        }
    }
    out.extend(
        advertised
            .iter()
            .map(|(h, p)| Myself::new(h.clone(), Some(*p))),
    );
    out.extend(aliases.iter().map(|(h, p)| Myself::new(h.clone(), *p)));
    out
}

/// Runs the engine on requests; forwards replies by their Via.
pub struct EngineHandler {
    /// One engine per worker thread (Kamailio: one interpreter per child
    /// process), so workers do not wait for each other. Each is behind its
    /// own mutex only because a thread outside the pool may also call in.
    engines: Vec<Mutex<Engine>>,
    /// The config has a main `onreply_route` (else replies skip the engine).
    reply_route: bool,
    /// Our own sockets, to recognise our Via on a reply.
    locals: Vec<SocketAddr>,
}

impl EngineHandler {
    /// `workers` engines forked from `engine` (at least one).
    pub fn new(engine: Engine, workers: usize, locals: Vec<SocketAddr>) -> Self {
        let reply_route = engine.runs_reply_route();
        let mut engines: Vec<Mutex<Engine>> = (1..workers.max(1))
            .map(|_| Mutex::new(engine.fork()))
            .collect();
        engines.push(Mutex::new(engine));
        EngineHandler {
            engines,
            reply_route,
            locals,
        }
    }

    /// The calling thread's engine: threads are numbered on first use.
    fn engine(&self) -> &Mutex<Engine> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static WORKER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        let worker = WORKER.with(|w| *w);
        &self.engines[worker % self.engines.len()]
    }
}

/// A next hop's address: an IP as is, a name through the system resolver
/// (A/AAAA; SRV lookups are not done).
fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse() {
        return Some(SocketAddr::new(ip, port));
    }
    (bare, port).to_socket_addrs().ok()?.next()
}

impl EngineHandler {
    fn request(&self, r: &Received) -> Vec<Outgoing> {
        let recv = RecvInfo {
            src: r.source,
            dst: r.local.addr,
            proto: r.transport.proto(),
        };
        let outputs = match self.engine().lock() {
            Ok(mut e) => e.on_request(&r.msg, recv),
            Err(_) => return Vec::new(),
        };
        outputs
            .into_iter()
            .filter_map(|o| outgoing(o, Some(r)))
            .collect()
    }

    /// The transaction timers: retransmissions, timeouts and the failure
    /// routes they lead to. Called by the server's timer task.
    pub fn on_timer(&self) -> Vec<Outgoing> {
        let outputs = match self.engine().lock() {
            Ok(mut e) => e.on_timer(),
            Err(_) => return Vec::new(),
        };
        outputs
            .into_iter()
            .filter_map(|o| outgoing(o, None))
            .collect()
    }

    /// A reply: the main `onreply_route` runs first (it may drop or edit
    /// it); then through the transaction it answers, if any; else
    /// forwarded statelessly.
    fn reply(&self, r: &Received) -> Vec<Outgoing> {
        let recv = RecvInfo {
            src: r.source,
            dst: r.local.addr,
            proto: r.transport.proto(),
        };
        // One lock for both steps: the worker's engine is its own.
        let Ok(mut engine) = self.engine().lock() else {
            return Vec::new();
        };
        let verdict = if self.reply_route {
            engine.on_reply(&r.msg, recv)
        } else {
            ReplyVerdict::Forward(None)
        };
        let edited = match verdict {
            ReplyVerdict::Drop => return Vec::new(),
            ReplyVerdict::Forward(None) => None,
            ReplyVerdict::Forward(Some(bytes)) => match SipMessage::parse_datagram(bytes) {
                Ok(m) => Some(m),
                Err(_) => return Vec::new(),
            },
        };
        let msg = edited.as_ref().unwrap_or(&r.msg);
        let stateful = engine.on_tm_reply(msg, recv);
        drop(engine);
        match stateful {
            Some(outputs) => outputs
                .into_iter()
                .filter_map(|o| outgoing(o, None))
                .collect(),
            None => self.stateless_reply(r, msg),
        }
    }

    /// Stateless reply forwarding: the top Via must be ours; it is removed
    /// and the reply goes where the next Via says (RFC 3261 §18.2.2).
    fn stateless_reply(&self, r: &Received, msg: &SipMessage) -> Vec<Outgoing> {
        let Some(first) = msg.headers().find(|h| *h.name() == HeaderName::Via) else {
            return Vec::new();
        };
        let Ok(TypedHeader::Via(vias)) = first.typed() else {
            return Vec::new();
        };
        let Some(top) = vias.first() else {
            return Vec::new();
        };
        let ours = self.locals.iter().any(|l| {
            top.port().unwrap_or(5060) == l.port()
                && (top.host().to_string() == l.ip().to_string() || l.ip().is_unspecified())
        });
        if !ours {
            return Vec::new();
        }
        let mut editor = MessageEditor::new(msg);
        let removed = if vias.len() == 1 {
            editor.remove_header(first.index())
        } else {
            // `Via: ours, theirs` on one line: cut our value and its comma.
            let value = first.value_span();
            let text = first.value();
            let Some(comma) = top_level_comma(text.as_bytes()) else {
                return Vec::new();
            };
            let mut end = comma + 1;
            while text
                .as_bytes()
                .get(end)
                .is_some_and(|c| c.is_ascii_whitespace())
            {
                end += 1;
            }
            editor
                .lumps_mut()
                .delete(Span::new(value.start, value.start + end))
        };
        if removed.is_err() {
            return Vec::new();
        }
        let Ok(data) = editor.build() else {
            return Vec::new();
        };
        // The next hop is the Via after ours, read from the message as
        // received (no second parse of what we built).
        let Ok(all) = msg.vias() else {
            return Vec::new();
        };
        let Some(next) = all.get(1) else {
            return Vec::new();
        };
        let route = response_route(next, r.transport, None);
        let dest = match route.target {
            Target::Addr(a) => Some(a),
            Target::Host { host, port } => resolve(&host, port),
        };
        let Some(dest) = dest else {
            return Vec::new();
        };
        vec![Outgoing {
            data,
            dest,
            transport: route.transport,
            conn: None,
            local: None,
        }]
    }
}

/// The transaction timers' thread: sleeps until the earliest deadline of
/// any table (at most 50 ms, so deadlines set meanwhile are not missed by
/// much), rounded up to a 20 ms grid, and sends what the timers produce.
/// The grid lets the timers of many transactions fire in one wake-up
/// instead of one each (Kamailio's timer ticks every 62.5 ms); SIP's
/// timers start at 500 ms. Runs until the process ends.
pub fn run_timers(
    tms: Arc<Transactions>,
    handler: Arc<EngineHandler>,
    server: Arc<crate::net::Server>,
) {
    let epoch = Instant::now();
    loop {
        let now = Instant::now();
        let wake = next_timer_wake(epoch, now, tms.next_timeout());
        std::thread::sleep(wake.saturating_duration_since(now));
        server.send_all_blocking(handler.on_timer());
    }
}

/// When [`run_timers`], started at `epoch`, wakes next: at the earliest
/// deadline `next` or 50 ms after `now`, whichever is first, rounded up to
/// the 20 ms grid.
pub fn next_timer_wake(epoch: Instant, now: Instant, next: Option<Instant>) -> Instant {
    const TICK: Duration = Duration::from_millis(50);
    const GRID: Duration = Duration::from_millis(20);
    let due = next.map_or(now + TICK, |t| t.min(now + TICK));
    let steps = due
        .saturating_duration_since(epoch)
        .as_nanos()
        .div_ceil(GRID.as_nanos());
    epoch + GRID * u32::try_from(steps).unwrap_or(u32::MAX)
}

/// What the transport sends for an engine output. A local reply to the
/// request being handled (`from`) goes back on its connection and socket;
/// replies the transaction layer relays later find the connection by the
/// peer's address.
fn outgoing(o: Output, from: Option<&Received>) -> Option<Outgoing> {
    match o {
        Output::Reply { bytes, to, proto } => Some(Outgoing {
            data: bytes,
            dest: to,
            transport: Transport::of(proto)
                .or(from.map(|r| r.transport))
                .unwrap_or(Transport::Udp),
            conn: from.and_then(|r| r.conn),
            local: from.map(|r| r.local.addr),
        }),
        Output::Forward {
            bytes,
            to: Destination { host, port, proto },
            from,
        } => {
            let dest = resolve(&host, port)?;
            Some(Outgoing {
                data: bytes,
                dest,
                transport: Transport::of(proto)?,
                conn: None,
                local: from,
            })
        }
    }
}

impl Handler for EngineHandler {
    fn handle(&self, r: Received) -> Vec<Outgoing> {
        if r.msg.is_request() {
            self.request(&r)
        } else {
            self.reply(&r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_timer_wake;
    use std::time::{Duration, Instant};

    #[test]
    fn the_timer_thread_wakes_on_a_20_ms_grid_at_most_50_ms_apart() {
        let epoch = Instant::now();
        let ms = |n| epoch + Duration::from_millis(n);
        // A deadline between two grid points wakes at the later one.
        assert_eq!(next_timer_wake(epoch, ms(100), Some(ms(101))), ms(120));
        assert_eq!(next_timer_wake(epoch, ms(100), Some(ms(120))), ms(120));
        // Nothing due, or due far away: 50 ms on, rounded up.
        assert_eq!(next_timer_wake(epoch, ms(100), None), ms(160));
        assert_eq!(next_timer_wake(epoch, ms(100), Some(ms(5000))), ms(160));
        // A deadline already past fires at the next grid point.
        assert_eq!(next_timer_wake(epoch, ms(105), Some(ms(90))), ms(100));
    }
}
