//! `sercompat run`'s glue: the config's socket settings for the transports,
//! and the handler that runs the engine on each request and forwards
//! replies statelessly along their Via headers, as Kamailio's core does.

use crate::engine::{level, Destination, Engine, EngineConfig, Myself, Output, Proto, RecvInfo};
use crate::net::listen;
use crate::net::received::{response_route, Target};
use crate::net::sockets::SocketConfig;
use crate::net::{Handler, Outgoing, Received, Transport};
use crate::sip::{HeaderName, MessageEditor, Span, TypedHeader};
use sercompat_compiler::ir::{ParamConst, Program};
use sercompat_grammar::ast::{ItemKind, ParamValueKind};
use sercompat_grammar::{Diagnostic, Era, Parsed};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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
    /// Our own sockets, to recognise our Via on a reply.
    locals: Vec<SocketAddr>,
}

impl EngineHandler {
    /// `workers` engines forked from `engine` (at least one).
    pub fn new(engine: Engine, workers: usize, locals: Vec<SocketAddr>) -> Self {
        let mut engines: Vec<Mutex<Engine>> = (1..workers.max(1))
            .map(|_| Mutex::new(engine.fork()))
            .collect();
        engines.push(Mutex::new(engine));
        EngineHandler { engines, locals }
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

fn proto_of(t: Transport) -> Proto {
    match t {
        Transport::Udp => Proto::Udp,
        Transport::Tcp => Proto::Tcp,
    }
}

fn transport_of(p: Proto) -> Option<Transport> {
    match p {
        Proto::Udp => Some(Transport::Udp),
        Proto::Tcp => Some(Transport::Tcp),
        _ => None,
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
            proto: proto_of(r.transport),
        };
        let outputs = match self.engine().lock() {
            Ok(mut e) => e.on_request(&r.msg, recv),
            Err(_) => return Vec::new(),
        };
        outputs
            .into_iter()
            .filter_map(|o| match o {
                Output::Reply { bytes, to, proto } => Some(Outgoing {
                    data: bytes,
                    dest: to,
                    transport: transport_of(proto).unwrap_or(r.transport),
                    conn: r.conn,
                    local: Some(r.local.addr),
                }),
                Output::Forward {
                    bytes,
                    to: Destination { host, port, proto },
                } => {
                    let dest = resolve(&host, port)?;
                    Some(Outgoing {
                        data: bytes,
                        dest,
                        transport: transport_of(proto)?,
                        conn: None,
                        local: None,
                    })
                }
            })
            .collect()
    }

    /// Stateless reply forwarding: the top Via must be ours; it is removed
    /// and the reply goes where the next Via says (RFC 3261 §18.2.2).
    fn reply(&self, r: &Received) -> Vec<Outgoing> {
        let msg = &r.msg;
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

/// The first `,` outside quotes and angle brackets.
fn top_level_comma(b: &[u8]) -> Option<usize> {
    let (mut quoted, mut angle) = (false, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => return Some(i),
            _ => {}
        }
    }
    None
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
