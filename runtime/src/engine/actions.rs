//! Core actions beyond forwarding, flags and URI rewriting: transport
//! variants of `forward`, `send`, the destination set (`append_branch`),
//! branch and script flags, the socket and address our Via shows
//! (`force_send_socket`, `set_advertised_*`, `add_local_rport`), `error`
//! and `pv_printf`. The kex and corex module functions that continue these
//! actions ([`super::kex`], [`super::corex`]) share the handlers here.
//!
//! The state these actions keep lives for one message ([`MsgState`]), as
//! in Kamailio: script flags are reset for each top-level route run, the
//! destination set and branch flags are cleared for each received message.

use super::exec::{Ctx, Halt};
use super::funcs::{constant, flag_bit, ok};
use super::pv;
use super::uri::{split_hostport, UriParts};
use super::{level, Destination, EngineConfig, Output, Proto};
use sercompat_compiler::catalog::route::RouteType;
use sercompat_compiler::ir::pv::{AvpRef, FormatPart, PvRef};
use sercompat_compiler::ir::visit::each_call;
use sercompat_compiler::ir::{Callee, Program, Value, ValueKind};
use sercompat_grammar::Diagnostic;
use std::net::{IpAddr, SocketAddr};

/// Core actions handled here, with their argument counts.
pub const CORE: &[(&str, usize, usize)] = &[
    ("forward_tcp", 0, 2),
    ("send", 1, 2),
    ("send_tcp", 1, 2),
    ("append_branch", 0, 2),
    ("setbflag", 1, 2),
    ("resetbflag", 1, 2),
    ("isbflagset", 1, 2),
    ("setsflag", 1, 1),
    ("resetsflag", 1, 1),
    ("issflagset", 1, 1),
    ("force_send_socket", 1, 1),
    ("set_advertised_address", 1, 1),
    ("set_advertised_port", 1, 1),
    ("add_local_rport", 0, 0),
    ("error", 2, 2),
    ("pv_printf", 2, 2),
    ("len_gt", 1, 1),
];

/// Most branches a destination set holds (Kamailio's `MAX_BRANCHES - 1`
/// with the default of 12).
pub const MAX_APPENDED_BRANCHES: usize = 11;

/// One appended branch of the destination set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branch {
    pub uri: String,
    pub dst_uri: Option<String>,
    /// As written (`"0.5"`); `None`: unspecified.
    pub q: Option<String>,
    pub flags: u32,
    /// A registered contact's Path vector, sent as Route headers (RFC
    /// 3327).
    pub path: Option<String>,
}

/// q in thousandths as Kamailio prints it (`1`, `0.5`, `0.25`, `0`);
/// `None` when unspecified (negative).
pub(crate) fn q_text(q: i16) -> Option<String> {
    match q {
        q if q < 0 => None,
        q if q >= 1000 => Some("1".to_owned()),
        0 => Some("0".to_owned()),
        q => Some(format!("0.{}", format!("{q:03}").trim_end_matches('0'))),
    }
}

/// What these actions remember while one message goes through the script.
#[derive(Clone, Debug, Default)]
pub struct MsgState {
    /// Script flags (`setsflag`): never saved with a transaction.
    pub sflags: u32,
    /// Branch flags of branch 0 (the Request-URI).
    pub bflags: u32,
    /// Appended branches (`append_branch`); a stateless `forward` does not
    /// fork, so only replies that list the set (3xx) read them.
    pub branches: Vec<Branch>,
    /// `force_send_socket`: the local socket forwarded requests leave from.
    pub send_socket: Option<(Proto, SocketAddr)>,
    pub advertised_address: Option<String>,
    pub advertised_port: Option<u16>,
    /// `add_local_rport`: our Via asks for `rport`.
    pub local_rport: bool,
    /// The Request-URI as `append_branch()` took it into the set (Kamailio
    /// then leaves it out of the set's own entry until it changes).
    pub consumed_ruri: Option<String>,
}

/// The destination set as a redirect's Contact value: the rewritten
/// Request-URI (unless `append_branch()` already took it), then the
/// appended branches with their q values, as Kamailio's `sl_send_reply`
/// writes it (`<sip:a@h>, <sip:b@h>;q=0.5`); `None` when the set is empty.
pub(crate) fn dset_contact(ctx: &Ctx) -> Option<String> {
    let mut parts = Vec::new();
    if ctx.ruri != ctx.original_ruri && ctx.st.consumed_ruri.as_deref() != Some(ctx.ruri.as_str()) {
        match q_text(ctx.ruri_q) {
            Some(q) => parts.push(format!("<{}>;q={q}", ctx.ruri)),
            None => parts.push(format!("<{}>", ctx.ruri)),
        }
    }
    for b in &ctx.st.branches {
        match &b.q {
            Some(q) => parts.push(format!("<{}>;q={q}", b.uri)),
            None => parts.push(format!("<{}>", b.uri)),
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

pub(crate) fn handles(name: &str) -> bool {
    CORE.iter().any(|(n, ..)| *n == name)
}

/// Load-time checks of constant arguments (`func` is the canonical name).
pub(crate) fn check(program: &Program, func: &str, args: &[Value]) -> Result<(), String> {
    match func {
        "setbflag" | "resetbflag" | "isbflagset" | "setsflag" | "resetsflag" | "issflagset" => {
            if let Some(c) = constant(&args[0]) {
                flag_bit(program, &c)
                    .ok_or_else(|| format!("`{c}` is not a flag (0-31 or a declared name)"))?;
            }
        }
        "append_branch" if args.len() == 2 => {
            if let Some(q) = constant(&args[1]) {
                parse_q(&q).ok_or_else(|| format!("`{q}` is not a q value (0 to 1)"))?;
            }
        }
        "set_advertised_port" => {
            if let Some(p) = constant(&args[0]) {
                p.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port"))?;
            }
        }
        "pv_printf" => pv_target(&args[0])?,
        _ => {}
    }
    Ok(())
}

/// Checks that need the engine's settings: a constant
/// `force_send_socket` must name one of our sockets (Kamailio refuses to
/// start otherwise).
pub(crate) fn check_with_config(
    cfg: &EngineConfig,
    func: &str,
    args: &[Value],
) -> Result<(), String> {
    if func == "force_send_socket" {
        if let Some(c) = address_constant(&args[0]) {
            find_socket(cfg, &c).map_err(|why| format!("force_send_socket(`{c}`): {why}"))?;
        }
    }
    Ok(())
}

/// [`check_with_config`] over every call of the program, as R0003
/// diagnostics.
pub(crate) fn socket_problems(program: &Program, cfg: &EngineConfig) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in &program.routes {
        each_call(&r.body, &mut |c| {
            let Callee::Core(a) = c.callee else {
                return;
            };
            if a.name != "force_send_socket" || c.args.len() != 1 {
                return;
            }
            if let Err(why) = check_with_config(cfg, a.name, c.args) {
                out.push(
                    Diagnostic::error(super::UNSUPPORTED, why)
                        .primary(c.span, "the engine cannot execute this"),
                );
            }
        });
    }
    out
}

/// Core actions that make sense on a reply: logging and flags. The rest
/// route requests (a reply is forwarded by its Via, never by these).
const REPLY_CORE_ACTIONS: &[&str] = &[
    "log",
    "error",
    "setflag",
    "resetflag",
    "isflagset",
    "setsflag",
    "resetsflag",
    "issflagset",
    "setbflag",
    "resetbflag",
    "isbflagset",
    "pv_printf",
];

/// Whether a call may appear in `onreply_route` (module functions: the
/// route types the catalog gives for Kamailio 5.6).
pub(crate) fn allowed_in_reply(callee: &Callee, name: &str) -> Result<(), String> {
    let ok = match callee {
        Callee::Core(a) => REPLY_CORE_ACTIONS.contains(&a.name),
        Callee::Module(f) => f.routes.allows(RouteType::OnReply),
        Callee::Unresolved(_) => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` cannot be used in onreply_route"))
    }
}

fn address_constant(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::Address(a) => Some(a.clone()),
        _ => constant(v),
    }
}

/// A variable argument: `$var(x)` bare, or quoted (`"$var(x)"`, a format
/// that is one pseudo-variable), or a SER AVP.
fn variable(v: &Value) -> Option<Result<&PvRef, &AvpRef>> {
    match &v.kind {
        ValueKind::Pv(p) => Some(Ok(p)),
        ValueKind::Avp(a) => Some(Err(a)),
        ValueKind::Format(parts) => match parts.as_slice() {
            [FormatPart::Pv(p)] => Some(Ok(p)),
            _ => None,
        },
        _ => None,
    }
}

/// The target of `pv_printf`, `file_read`: a writable pseudo-variable.
pub(crate) fn pv_target(v: &Value) -> Result<(), String> {
    match variable(v) {
        Some(Ok(p)) if pv::writable(&p.class) => pv::check(p),
        Some(Ok(p)) => Err(format!("the engine cannot assign to `${}`", p.class)),
        Some(Err(_)) => Ok(()),
        None => Err("the argument must be a writable pseudo-variable".into()),
    }
}

/// Stores `v` in the variable argument `target` (checked at load time).
pub(crate) fn write_variable(ctx: &mut Ctx, target: &Value, v: super::Val) -> bool {
    match variable(target) {
        // A write the engine cannot do was refused at load time; one that
        // fails now (a `drop` from a transformation) leaves the value unset.
        Some(Ok(p)) => pv::write(ctx, p, v, false).is_ok(),
        Some(Err(a)) => {
            let key = pv::avp_key_ser(a);
            pv::write_avp(ctx, &key, a.index.as_ref(), v, false).is_ok()
        }
        None => false,
    }
}

pub(crate) fn call(ctx: &mut Ctx, func: &str, args: &[Value]) -> Result<i64, Halt> {
    Ok(match func {
        "forward_tcp" => super::funcs::forward(ctx, args, Some(Proto::Tcp))?,
        // SER 0.8.8–0.8.10: true when the message is longer than N bytes;
        // `max_len` names the core parameter (SER's default 65,535).
        "len_gt" => {
            let limit = match &args[0].kind {
                ValueKind::Word(w) if w == "max_len" => max_len(ctx.prog),
                _ => ctx.eval(&args[0])?.as_int(),
            };
            ok(ctx.msg.as_bytes().len() as i64 > limit)
        }
        "send" => send_raw(ctx, args, Proto::Udp)?,
        "send_tcp" => send_raw(ctx, args, Proto::Tcp)?,
        "append_branch" => append_branch(ctx, args)?,
        "setbflag" | "resetbflag" | "isbflagset" => branch_flag(ctx, func, args)?,
        "setsflag" | "resetsflag" | "issflagset" => script_flag(ctx, func, &args[0])?,
        "force_send_socket" => {
            let a = ctx.eval(&args[0])?.as_string();
            ok(force_send_socket(ctx, "force_send_socket", &a))
        }
        "set_advertised_address" => {
            let a = ctx.eval(&args[0])?.as_string();
            let a = a.trim().to_string();
            if a.is_empty() {
                ctx.error("set_advertised_address: empty address");
                return Ok(-1);
            }
            ctx.st.advertised_address = Some(a);
            1
        }
        "set_advertised_port" => {
            let p = ctx.eval(&args[0])?.as_string();
            match p.trim().parse::<u16>() {
                Ok(p) => {
                    ctx.st.advertised_port = Some(p);
                    1
                }
                Err(_) => {
                    ctx.error(&format!("set_advertised_port: `{p}` is not a port"));
                    -1
                }
            }
        }
        "add_local_rport" => {
            ctx.st.local_rport = true;
            1
        }
        "error" => {
            // A placeholder in every era: it only says so.
            let a = ctx.eval(&args[0])?.as_string();
            let b = ctx.eval(&args[1])?.as_string();
            ctx.log(
                level::L_NOTICE,
                &format!("error(\"{a}\", \"{b}\") not implemented yet\n"),
            );
            1
        }
        "pv_printf" => pv_printf(ctx, args)?,
        _ => {
            ctx.error(&format!("`{func}` has no handler; the script stops"));
            return Err(Halt::Drop);
        }
    })
}

/// `pv_printf(pv, format)` (kex `avp_printf` too): the format's text into
/// the variable.
pub(crate) fn pv_printf(ctx: &mut Ctx, args: &[Value]) -> Result<i64, Halt> {
    let text = ctx.eval(&args[1])?.as_string();
    if write_variable(ctx, &args[0], super::Val::Str(text)) {
        Ok(1)
    } else {
        ctx.error("pv_printf: the first argument is not a variable");
        Ok(-1)
    }
}

/// `send(host[, port])`, `send_tcp(...)`: the message as received, no
/// Via of ours, no edits.
fn send_raw(ctx: &mut Ctx, args: &[Value], proto: Proto) -> Result<i64, Halt> {
    let host = ctx.eval(&args[0])?.as_string();
    let port = match args.get(1) {
        Some(p) => Some(ctx.eval(p)?.as_string()),
        None => None,
    };
    let target = match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    let Some(dest) = host_destination(&target, proto) else {
        ctx.error(&format!("send: cannot send to `{target}`"));
        return Ok(-1);
    };
    Ok(ok(send_bytes(ctx, ctx.msg.as_bytes().clone(), dest)))
}

/// `bytes` to `dest` unchanged, from the forced socket if one applies.
pub(crate) fn send_bytes(ctx: &mut Ctx, bytes: bytes::Bytes, dest: Destination) -> bool {
    let from = ctx.send_socket_for(dest.proto);
    ctx.out.push(Output::Forward {
        bytes,
        to: dest,
        from,
    });
    true
}

/// `host[:port]`, `[v6]:port`, or a SIP URI, as a next hop over `proto`
/// (a URI's `transport=` wins).
pub(crate) fn host_destination(target: &str, proto: Proto) -> Option<Destination> {
    let t = target.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let u = UriParts::split(t)?;
        let proto = match u.transport() {
            Some(p) => Proto::parse(&p)?,
            None => proto,
        };
        let port = match &u.port {
            Some(p) => p.parse().ok()?,
            None => 5060,
        };
        return Some(Destination {
            host: bare(&u.host),
            port,
            proto,
        });
    }
    let (host, port) = split_hostport(t);
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 5060,
    };
    Some(Destination {
        host: bare(host),
        port,
        proto,
    })
}

fn bare(h: &str) -> String {
    h.trim_start_matches('[').trim_end_matches(']').to_string()
}

/// A q value `0` .. `1` (up to three decimals), as the number of
/// thousandths.
fn parse_q(s: &str) -> Option<u32> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i: u32 = int.parse().ok()?;
    let f: u32 = format!("{frac:0<3}").parse().ok()?;
    let q = i * 1000 + f;
    (q <= 1000).then_some(q)
}

/// `append_branch()` adds the Request-URI with its `$du` and branch
/// flags; `append_branch(uri[, q])` adds `uri`.
pub(crate) fn append_branch(ctx: &mut Ctx, args: &[Value]) -> Result<i64, Halt> {
    let (branch, takes_ruri) = match args.first() {
        None => (
            Branch {
                uri: ctx.ruri.clone(),
                dst_uri: ctx.dst_uri.clone(),
                q: None,
                flags: ctx.st.bflags,
                path: None,
            },
            true,
        ),
        Some(u) => {
            let uri = ctx.eval(u)?.as_string();
            let q = match args.get(1) {
                Some(q) => {
                    let q = ctx.eval(q)?.as_string();
                    if parse_q(&q).is_none() {
                        ctx.error(&format!("append_branch: `{q}` is not a q value"));
                        return Ok(-1);
                    }
                    Some(q.trim().to_string())
                }
                None => None,
            };
            if uri.is_empty() {
                (
                    Branch {
                        uri: ctx.ruri.clone(),
                        dst_uri: ctx.dst_uri.clone(),
                        q,
                        flags: ctx.st.bflags,
                        path: None,
                    },
                    true,
                )
            } else {
                (
                    Branch {
                        uri,
                        dst_uri: None,
                        q,
                        flags: 0,
                        path: None,
                    },
                    false,
                )
            }
        }
    };
    if crate::sip::Uri::parse(branch.uri.as_bytes()).is_err() {
        ctx.error(&format!(
            "append_branch: `{}` is not a valid URI",
            branch.uri
        ));
        return Ok(-1);
    }
    if ctx.st.branches.len() >= MAX_APPENDED_BRANCHES {
        ctx.error("append_branch: too many branches");
        return Ok(-1);
    }
    if takes_ruri {
        ctx.st.consumed_ruri = Some(ctx.ruri.clone());
    }
    ctx.st.branches.push(branch);
    Ok(1)
}

/// `setbflag(flag[, branch])` and friends: branch 0 is the Request-URI,
/// branch N the N-th appended one.
fn branch_flag(ctx: &mut Ctx, func: &str, args: &[Value]) -> Result<i64, Halt> {
    let Some(bit) = flag_value(ctx, func, &args[0])? else {
        return Ok(-1);
    };
    let idx = match args.get(1) {
        Some(b) => ctx.eval(b)?.as_int(),
        None => 0,
    };
    let flags = match usize::try_from(idx) {
        Ok(0) => &mut ctx.st.bflags,
        Ok(n) if n <= ctx.st.branches.len() => &mut ctx.st.branches[n - 1].flags,
        _ => {
            ctx.error(&format!("{func}: there is no branch {idx}"));
            return Ok(-1);
        }
    };
    Ok(apply_flag(flags, func, bit))
}

fn script_flag(ctx: &mut Ctx, func: &str, arg: &Value) -> Result<i64, Halt> {
    let Some(bit) = flag_value(ctx, func, arg)? else {
        return Ok(-1);
    };
    Ok(apply_flag(&mut ctx.st.sflags, func, bit))
}

fn flag_value(ctx: &mut Ctx, func: &str, arg: &Value) -> Result<Option<u8>, Halt> {
    let v = match &arg.kind {
        ValueKind::Word(w) => w.clone(),
        _ => ctx.eval(arg)?.as_string(),
    };
    let bit = flag_bit(ctx.prog, &v);
    if bit.is_none() {
        ctx.error(&format!("{func}: `{v}` is not a flag"));
    }
    Ok(bit)
}

fn apply_flag(flags: &mut u32, func: &str, bit: u8) -> i64 {
    if func.starts_with("set") {
        *flags |= 1 << bit;
        1
    } else if func.starts_with("reset") {
        *flags &= !(1 << bit);
        1
    } else {
        ok(*flags & (1 << bit) != 0)
    }
}

/// `[proto:]addr[:port]` as one of our sockets.
fn find_socket(cfg: &EngineConfig, spec: &str) -> Result<(Proto, SocketAddr), String> {
    let spec = spec.trim();
    let (proto, rest) = match spec.split_once(':') {
        Some((p, rest)) if Proto::parse(p).is_some() && !p.is_empty() => (Proto::parse(p), rest),
        _ => (None, spec),
    };
    let (host, port) = split_hostport(rest);
    let ip: IpAddr = bare(host)
        .parse()
        .map_err(|_| format!("`{host}` is not an IP address"))?;
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port"))?,
        ),
        None => None,
    };
    cfg.sockets
        .iter()
        .find(|(p, a)| {
            a.ip() == ip && port.is_none_or(|n| n == a.port()) && proto.is_none_or(|x| x == *p)
        })
        .copied()
        .ok_or_else(|| "not one of the sockets the server listens on".to_string())
}

/// `force_send_socket` / corex `set_send_socket`.
pub(crate) fn force_send_socket(ctx: &mut Ctx, func: &str, spec: &str) -> bool {
    match find_socket(ctx.cfg, spec) {
        Ok(s) => {
            ctx.st.send_socket = Some(s);
            true
        }
        Err(why) => {
            ctx.error(&format!("{func}(`{spec}`): {why}"));
            false
        }
    }
}

/// The `max_len` core parameter, or SER's default buffer size.
fn max_len(program: &Program) -> i64 {
    program
        .core_settings
        .iter()
        .rev()
        .find(|s| s.name == "max_len")
        .and_then(|s| match s.value.kind {
            sercompat_grammar::ast::ParamValueKind::Int(n) => Some(n),
            _ => None,
        })
        .unwrap_or(65_535)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values() {
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("x"), None);
    }

    #[test]
    fn destinations() {
        let d = host_destination("10.0.0.1:5070", Proto::Udp).unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.proto),
            ("10.0.0.1", 5070, Proto::Udp)
        );
        let d = host_destination("sip:h.example;transport=tcp", Proto::Udp).unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.proto),
            ("h.example", 5060, Proto::Tcp)
        );
        assert!(host_destination("", Proto::Udp).is_none());
    }
}
