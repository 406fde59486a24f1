//! Core actions and native module functions (stateless routing).
//!
//! Every entry of [`CORE`] and [`MODULES`] is implemented here; the
//! catalog's `implemented.txt` names the same set (a test checks both
//! ways). Return codes follow the module convention: > 0 true, < 0 false,
//! 0 ends the script.

use super::exec::{Ctx, Halt};
use super::pv::{edit_ruri, set_ruri};
use super::uri::{split_hostport, UriParts};
use super::{cfgutils, siputils, textops, textopsx};
use super::{level, Destination, Output, Proto};
use crate::sip::{HeaderName, HeaderPosition, LocalReply, MessageEditor, SipMessage};
use sercompat_compiler::ir::pv::{parse_format, FormatPart, PvRef};
use sercompat_compiler::ir::{Callee, Program, Value, ValueKind};
use sercompat_grammar::Era;

/// Core actions (canonical catalog names) and their argument counts.
pub const CORE: &[(&str, usize, usize)] = &[
    ("forward", 0, 2),
    ("forward_udp", 0, 2),
    ("log", 1, 2),
    ("setflag", 1, 1),
    ("resetflag", 1, 1),
    ("isflagset", 1, 1),
    ("rewriteuri", 1, 1),
    ("rewritehost", 1, 1),
    ("rewritehostport", 1, 1),
    ("rewriteuser", 1, 1),
    ("rewriteuserpass", 1, 1),
    ("rewriteport", 1, 1),
    ("prefix", 1, 1),
    ("strip", 1, 1),
    ("strip_tail", 1, 1),
    ("revert_uri", 0, 0),
    ("force_rport", 0, 0),
    ("setdsturi", 1, 1),
    ("resetdsturi", 0, 0),
    ("isdsturiset", 0, 0),
];

/// Module functions and their argument counts.
pub const MODULES: &[(&str, &str, usize, usize)] = &[
    ("sl", "sl_send_reply", 2, 2),
    ("sl", "sl_reply", 2, 2),
    ("sl", "send_reply", 2, 2),
    ("sl", "sl_reply_error", 0, 0),
    ("sl", "sl_filter_ACK", 0, 0),
    ("print", "print", 1, 1),
    ("maxfwd", "mf_process_maxfwd_header", 1, 1),
    ("maxfwd", "process_maxfwd", 1, 1),
    ("maxfwd", "maxfwd_process", 1, 1),
    ("maxfwd", "is_maxfwd_lt", 1, 1),
    ("textops", "is_method", 1, 1),
    ("textops", "is_present_hf", 1, 1),
    ("textops", "append_hf", 1, 2),
    ("textops", "remove_hf", 1, 1),
    ("textops", "search", 1, 1),
    ("textops", "search_append", 2, 2),
    ("siputils", "has_totag", 0, 0),
    ("siputils", "is_user", 1, 1),
    ("siputils", "is_request", 0, 0),
    ("siputils", "is_reply", 0, 0),
    ("uri", "has_totag", 0, 0),
    ("uri", "is_user", 1, 1),
    ("xlog", "xlog", 1, 3),
    ("xlog", "xdbg", 1, 1),
    ("xlog", "xinfo", 1, 1),
    ("xlog", "xnotice", 1, 1),
    ("xlog", "xwarn", 1, 1),
    ("xlog", "xerr", 1, 1),
    ("xlog", "xbug", 1, 1),
    ("xlog", "xcrit", 1, 1),
    ("xlog", "xalert", 1, 1),
    ("xlog", "xlogm", 2, 2),
    ("sanity", "sanity_check", 0, 2),
    ("kex", "setdsturi", 1, 1),
    ("kex", "resetdsturi", 0, 0),
    ("kex", "isdsturiset", 0, 0),
];

/// Every module-function table: [`MODULES`] and those of the per-module
/// files (each dispatched by one arm of [`call`]).
pub const FUNCTION_TABLES: &[&[(&str, &str, usize, usize)]] = &[
    MODULES,
    textops::FUNCTIONS,
    textopsx::FUNCTIONS,
    siputils::FUNCTIONS,
    cfgutils::FUNCTIONS,
    super::tm::FUNCTIONS,
    super::kex::FUNCTIONS,
    super::corex::FUNCTIONS,
    super::registrar::FUNCTIONS,
    super::rr::FUNCTIONS,
    super::acc::FUNCTIONS,
    super::tmx::FUNCTIONS,
];

fn in_table(table: &[(&str, &str, usize, usize)], module: &str, name: &str) -> bool {
    table.iter().any(|(m, n, ..)| *m == module && *n == name)
}

/// `(module, name)`; `module` is `core` for core actions.
fn key(callee: &Callee) -> Option<(&'static str, &'static str, usize, usize)> {
    match callee {
        Callee::Core(a) => super::func_index::core().get("core", a.name),
        Callee::Module(f) => super::func_index::modules().get(f.module, f.name),
        Callee::Unresolved(_) => None,
    }
}

fn is_ser_xlog(era: Era) -> bool {
    matches!(era, Era::Ser08 | Era::Ser09 | Era::Ser2)
}

/// Load-time check of one call: handler, argument count, constants.
pub(crate) fn check(
    program: &Program,
    callee: &Callee,
    name: &str,
    args: &[Value],
) -> Result<(), String> {
    // Every constant regex argument the IR compiled: Kamailio's fixups
    // compile them at start and refuse to start on one that fails.
    for arg in args {
        if let ValueKind::Pattern(p) = &arg.kind {
            if let Err(why) = &p.regex {
                return Err(format!(
                    "`{}` is not a valid regular expression: {why}",
                    p.source
                ));
            }
        }
    }
    let implemented = match callee {
        Callee::Core(a) => a.implemented,
        Callee::Module(f) => f.implemented,
        Callee::Unresolved(_) => false,
    };
    let Some((module, func, lo, hi)) = key(callee) else {
        // Not implemented: the readiness check names it; an entry marked
        // implemented without a handler here is a bug worth refusing on.
        return if implemented {
            Err(format!(
                "`{name}` is marked implemented in the catalog but the engine has no handler for it"
            ))
        } else {
            Ok(())
        };
    };
    if !(lo..=hi).contains(&args.len()) {
        return Err(format!(
            "`{name}` with {} argument(s) is not supported (the engine takes {lo} to {hi})",
            args.len()
        ));
    }
    match (module, func) {
        ("core", f) if super::actions::handles(f) => super::actions::check(program, f, args)?,
        ("kex", f) if super::kex::handles(f) => super::kex::check(program, f, args)?,
        ("corex", f) if super::corex::handles(f) => super::corex::check(program, f, args)?,
        ("core", "setflag" | "resetflag" | "isflagset") => {
            if let Some(c) = constant(&args[0]) {
                flag_bit(program, &c)
                    .ok_or_else(|| format!("`{c}` is not a flag (0-31 or a declared name)"))?;
            }
        }
        ("core", "log") if args.len() == 2 => {
            if let Some(c) = constant(&args[0]) {
                if log_level(&c).is_none() {
                    return Err(format!("`{c}` is not a log level"));
                }
            }
        }
        ("xlog", "xlog")
            if args.len() == 3 && constant(&args[0]).is_some_and(|f| !is_facility(&f)) =>
        {
            return Err(format!(
                "`{}` is not a syslog facility (LOG_LOCAL0 ... LOG_LOCAL7, LOG_DAEMON, ...)",
                constant(&args[0]).unwrap_or_default()
            ));
        }
        ("xlog", "xlog" | "xlogm") if args.len() >= 2 => {
            let lv = &args[args.len() - 2];
            if let Some(c) = constant(lv) {
                if log_level(&c).is_none() {
                    return Err(format!("`{c}` is not a log level"));
                }
            }
        }
        ("registrar", _) => super::registrar::check(func, args)?,
        (m, f) if in_table(textops::FUNCTIONS, m, f) => textops::check(f, args)?,
        (m, f) if in_table(textopsx::FUNCTIONS, m, f) => textopsx::check(f, args)?,
        (m, f) if in_table(siputils::FUNCTIONS, m, f) => siputils::check(f, args)?,
        (m, f) if in_table(cfgutils::FUNCTIONS, m, f) => cfgutils::check(f, args)?,
        ("rr", f) => super::rr::check(program, f, args)?,
        _ => {}
    }
    if module == "xlog" && is_ser_xlog(program.era) {
        if let Some(fmt) = args.last().and_then(constant) {
            ser_format(&fmt)?;
        }
    }
    Ok(())
}

pub(crate) fn constant(v: &Value) -> Option<String> {
    v.constant_text()
}

pub(crate) fn flag_bit(program: &Program, s: &str) -> Option<u8> {
    let s = s.trim();
    match s.parse::<i64>() {
        Ok(n) => (0..32).contains(&n).then_some(n as u8),
        Err(_) => program.flags.get(s).copied(),
    }
}

/// The syslog facilities `xlog(facility, level, format)` takes (the
/// engine's log sink has no facilities; the name is only checked).
fn is_facility(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "LOG_AUTH",
        "LOG_AUTHPRIV",
        "LOG_CRON",
        "LOG_DAEMON",
        "LOG_FTP",
        "LOG_KERN",
        "LOG_LPR",
        "LOG_MAIL",
        "LOG_NEWS",
        "LOG_SYSLOG",
        "LOG_USER",
        "LOG_UUCP",
        "LOG_LOCAL0",
        "LOG_LOCAL1",
        "LOG_LOCAL2",
        "LOG_LOCAL3",
        "LOG_LOCAL4",
        "LOG_LOCAL5",
        "LOG_LOCAL6",
        "LOG_LOCAL7",
    ];
    NAMES.contains(&name.trim())
}

/// `L_INFO`, or a number (Kamailio 3.0+ numbering).
fn log_level(s: &str) -> Option<i32> {
    level::from_name(s).or_else(|| s.trim().parse().ok())
}

/// A SER `xlog` format (`%ru`, `%{Via}`, `%%`) as format parts.
fn ser_format(s: &str) -> Result<Vec<FormatPart>, String> {
    const SPECS: &[&str] = &[
        "ru", "fu", "tu", "ci", "cs", "rm", "si", "sp", "ua", "Ri", "Rp", "ml", "mb", "ft", "tt",
    ];
    let pv = |class: &str, inner: Option<String>| {
        FormatPart::Pv(PvRef {
            class: class.to_string(),
            inner,
            index: None,
            transforms: Vec::new(),
        })
    };
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        text.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            text.push('%');
            rest = r;
            continue;
        }
        let part = if let Some(r) = rest.strip_prefix('{') {
            let end = r
                .find('}')
                .ok_or_else(|| format!("`%{{` is not closed in the xlog format `{s}`"))?;
            let name = &r[..end];
            if name.contains('[') {
                return Err(format!(
                    "indexed header specifier `%{{{name}}}` is not supported by the engine yet"
                ));
            }
            rest = &r[end + 1..];
            pv("hdr", Some(name.to_string()))
        } else {
            let spec = SPECS
                .iter()
                .find(|sp| rest.starts_with(**sp))
                .ok_or_else(|| {
                    format!(
                        "xlog specifier `%{}` is not supported by the engine yet",
                        rest.chars().take(2).collect::<String>()
                    )
                })?;
            rest = &rest[spec.len()..];
            pv(spec, None)
        };
        if !text.is_empty() {
            parts.push(FormatPart::Text(std::mem::take(&mut text)));
        }
        parts.push(part);
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(FormatPart::Text(text));
    }
    Ok(parts)
}

/// Runs one call; the return code follows the module convention.
pub(crate) fn call(
    ctx: &mut Ctx,
    callee: &Callee,
    name: &str,
    args: &[Value],
) -> Result<i64, Halt> {
    let Some((module, func, ..)) = key(callee) else {
        // `Engine::new` refuses such programs; never pretend it ran.
        ctx.error(&format!("`{name}` is not implemented; the script stops"));
        return Err(Halt::Drop);
    };
    let s =
        |ctx: &mut Ctx, i: usize| -> Result<String, Halt> { Ok(ctx.eval(&args[i])?.as_string()) };
    Ok(match (module, func) {
        ("core", f) if super::actions::handles(f) => super::actions::call(ctx, f, args)?,
        ("kex", f) if super::kex::handles(f) => super::kex::call(ctx, f, args)?,
        ("corex", f) if super::corex::handles(f) => super::corex::call(ctx, f, args)?,
        ("rr", f) => super::rr::call(ctx, f, args)?,
        ("core", "forward") => forward(ctx, args, None)?,
        ("core", "forward_udp") => forward(ctx, args, Some(Proto::Udp))?,
        ("core", "log") => {
            let (lvl, msg) = match args.len() {
                1 => (4, &args[0]),
                _ => {
                    let l = ctx.eval(&args[0])?.as_string();
                    match log_level(&l) {
                        Some(l) => (l, &args[1]),
                        None => {
                            ctx.error(&format!("log: `{l}` is not a log level"));
                            return Ok(-1);
                        }
                    }
                }
            };
            let text = raw_text(ctx, msg)?;
            ctx.log(lvl, &text);
            1
        }
        ("core", "setflag" | "resetflag" | "isflagset") => {
            let v = flag_arg(ctx, &args[0])?;
            let Some(bit) = flag_bit(ctx.prog, &v) else {
                ctx.error(&format!("{func}: `{v}` is not a flag"));
                return Ok(-1);
            };
            match func {
                "setflag" => ctx.flags |= 1 << bit,
                "resetflag" => ctx.flags &= !(1 << bit),
                _ => return Ok(if ctx.flags & (1 << bit) != 0 { 1 } else { -1 }),
            }
            1
        }
        ("core", "rewriteuri") => {
            let u = s(ctx, 0)?;
            if set_ruri(ctx, &u) {
                1
            } else {
                ctx.error(&format!("rewriteuri: `{u}` is not a valid Request-URI"));
                -1
            }
        }
        ("core", "rewritehost") => {
            let h = s(ctx, 0)?;
            ok(edit_ruri(ctx, "rewritehost", |u| {
                u.host = h.clone();
                !h.is_empty()
            }))
        }
        ("core", "rewritehostport") => {
            let hp = s(ctx, 0)?;
            let (h, p) = split_hostport(&hp);
            let (h, p) = (h.to_string(), p.map(str::to_string));
            ok(edit_ruri(ctx, "rewritehostport", |u| {
                u.host = h.clone();
                u.port = p.clone();
                !h.is_empty()
            }))
        }
        ("core", "rewriteuser") => {
            let user = s(ctx, 0)?;
            ok(edit_ruri(ctx, "rewriteuser", |u| {
                if user.is_empty() {
                    u.user = None;
                    u.password = None;
                } else {
                    u.user = Some(user.clone());
                }
                true
            }))
        }
        ("core", "rewriteuserpass") => {
            let up = s(ctx, 0)?;
            ok(edit_ruri(ctx, "rewriteuserpass", |u| {
                match up.split_once(':') {
                    Some((user, pass)) => {
                        u.user = Some(user.to_string());
                        u.password = Some(pass.to_string());
                    }
                    None if up.is_empty() => {
                        u.user = None;
                        u.password = None;
                    }
                    None => {
                        u.user = Some(up.clone());
                        u.password = None;
                    }
                }
                true
            }))
        }
        ("core", "rewriteport") => {
            let p = s(ctx, 0)?;
            ok(edit_ruri(ctx, "rewriteport", |u| {
                u.port = (!p.is_empty()).then(|| p.clone());
                p.is_empty() || p.parse::<u16>().is_ok()
            }))
        }
        ("core", "prefix") => {
            let pre = s(ctx, 0)?;
            ok(edit_ruri(ctx, "prefix", |u| {
                u.user = Some(format!("{pre}{}", u.user.as_deref().unwrap_or_default()));
                true
            }))
        }
        ("core", "strip" | "strip_tail") => {
            let n = ctx.eval(&args[0])?.as_int();
            let tail = func == "strip_tail";
            ok(edit_ruri(ctx, func, |u| {
                let user = u.user.clone().unwrap_or_default();
                let Ok(n) = usize::try_from(n) else {
                    return false;
                };
                if n > user.len() || !user.is_char_boundary(if tail { user.len() - n } else { n }) {
                    return false;
                }
                let rest = if tail {
                    &user[..user.len() - n]
                } else {
                    &user[n..]
                };
                u.user = (!rest.is_empty()).then(|| rest.to_string());
                if u.user.is_none() {
                    u.password = None;
                }
                true
            }))
        }
        ("core", "revert_uri") => {
            ctx.ruri = ctx.original_ruri.clone();
            1
        }
        ("core", "force_rport") => {
            ctx.force_rport = true;
            1
        }
        ("core" | "kex", "setdsturi") => {
            let u = s(ctx, 0)?;
            if crate::sip::Uri::parse(u.as_bytes()).is_ok() {
                ctx.dst_uri = Some(u);
                1
            } else {
                ctx.error(&format!("setdsturi: `{u}` is not a valid URI"));
                -1
            }
        }
        ("core" | "kex", "resetdsturi") => {
            ctx.dst_uri = None;
            1
        }
        ("core" | "kex", "isdsturiset") => {
            if ctx.dst_uri.is_some() {
                1
            } else {
                -1
            }
        }
        ("tm", f) => super::tm::call(ctx, f, args)?,
        ("tmx", f) => super::tmx::call(ctx, f, args)?,
        ("acc", f) => super::acc::call(ctx, f, args)?,
        ("sl", "sl_send_reply" | "sl_reply" | "send_reply") => {
            let code = ctx.eval(&args[0])?.as_int();
            let reason = s(ctx, 1)?;
            match u16::try_from(code).ok().filter(|c| (100..=699).contains(c)) {
                Some(code) => ok(send_reply(ctx, code, &reason)),
                None => {
                    ctx.error(&format!("{func}: `{code}` is not a status code"));
                    -1
                }
            }
        }
        ("sl", "sl_reply_error") => ok(send_reply(ctx, 500, "Server Internal Error")),
        // SER 0.8: an ACK for a reply sl sent itself (its To tag is the one
        // sl gave) ends the script; anything else goes on.
        ("sl", "sl_filter_ACK") => {
            let is_ack = ctx.msg.method() == Some(crate::sip::Method::Ack);
            let tag = ctx
                .msg
                .to_header()
                .ok()
                .flatten()
                .and_then(|t| t.tag().map(|t| t.to_string()));
            if is_ack && tag.as_deref() == Some(ctx.cfg.ids.to_tag(ctx.msg).as_str()) {
                0
            } else {
                1
            }
        }
        // SER's print module: the text on standard output.
        ("print", "print") => {
            let text = raw_text(ctx, &args[0])?;
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            1
        }
        ("registrar", f) => super::registrar::call(ctx, f, args)?,
        ("sanity", "sanity_check") => {
            // The check masks select among the default checks in Kamailio;
            // every check here is one of the defaults, so all run.
            for a in args {
                ctx.eval(a)?;
            }
            match sanity_problem(ctx.msg) {
                None => 1,
                Some((code, reason)) => {
                    ctx.error(&format!("sanity_check: {code} {reason}"));
                    if ctx.msg.method().is_some_and(|m| m.as_bytes() != b"ACK") {
                        send_reply(ctx, code, reason);
                    }
                    -1
                }
            }
        }
        ("maxfwd", "mf_process_maxfwd_header" | "process_maxfwd" | "maxfwd_process") => {
            let n = ctx.eval(&args[0])?.as_int();
            process_maxfwd(ctx, n)
        }
        ("maxfwd", "is_maxfwd_lt") => {
            let n = ctx.eval(&args[0])?.as_int();
            match ctx.msg.max_forwards() {
                Ok(Some(v)) if (v as i64) < n => 1,
                Ok(Some(_)) => -1,
                _ => -2,
            }
        }
        ("textops", "is_method") => {
            let list = s(ctx, 0)?;
            let m = ctx
                .msg
                .method()
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .unwrap_or_default();
            ok(list
                .split(['|', ','])
                .any(|x| x.trim().eq_ignore_ascii_case(&m)))
        }
        ("textops", "is_present_hf") => {
            let n = s(ctx, 0)?;
            ok(HeaderName::new(n.trim())
                .is_some_and(|hn| ctx.msg.headers_named(&hn).next().is_some()))
        }
        ("textops", "append_hf") => {
            let txt = s(ctx, 0)?;
            let at = match args.get(1) {
                None => HeaderPosition::Last,
                Some(a) => {
                    let n = ctx.eval(a)?.as_string();
                    // After the last header of that name (Kamailio 5.6).
                    let found = HeaderName::new(n.trim())
                        .and_then(|hn| ctx.msg.headers_named(&hn).last().map(|h| h.index()));
                    // No such header: at the end (Kamailio 5.6.3).
                    match found {
                        Some(i) => HeaderPosition::After(i),
                        None => HeaderPosition::Last,
                    }
                }
            };
            ok(append_hf(ctx, &txt, at))
        }
        ("textops", "remove_hf") => {
            let n = s(ctx, 0)?;
            let Some(hn) = HeaderName::new(n.trim()) else {
                return Ok(-1);
            };
            let idx: Vec<usize> = ctx
                .msg
                .headers_named(&hn)
                .map(|h| h.index())
                .filter(|i| !ctx.removed.contains(i))
                .collect();
            let mut count = 0;
            for i in idx {
                match ctx.editor.remove_header(i) {
                    Ok(()) => {
                        ctx.removed.insert(i);
                        count += 1;
                    }
                    Err(e) => ctx.error(&format!("remove_hf: {e}")),
                }
            }
            ok(count > 0)
        }
        ("textops", "search" | "search_append") => {
            // Static in Kamailio (`fixup_regexp_null`): compiled by the IR.
            let Some(re) = super::fargs::regex(ctx, func, &args[0], super::fargs::TEXTOPS)? else {
                return Ok(-1);
            };
            let Ok(text) = std::str::from_utf8(ctx.msg.as_bytes()) else {
                ctx.error(&format!("{func}: the message is not UTF-8 text"));
                return Ok(-1);
            };
            // search_append leaves the start line alone (Kamailio 5.6.3).
            let from = match func {
                "search_append" => text.find('\n').map_or(0, |i| i + 1),
                _ => 0,
            };
            let Some(m) = re.find(&text[from..]) else {
                return Ok(-1);
            };
            if func == "search_append" {
                let add = s(ctx, 1)?;
                if let Err(e) = ctx.editor.lumps_mut().insert_after(from + m.end(), add) {
                    ctx.error(&format!("search_append: {e}"));
                    return Ok(-1);
                }
            }
            1
        }
        ("siputils" | "uri", "has_totag") => ok(ctx.msg.to_tag().is_some_and(|t| !t.is_empty())),
        ("siputils" | "uri", "is_user") => {
            let want = s(ctx, 0)?;
            ok(UriParts::split(&ctx.ruri).and_then(|u| u.user).as_deref() == Some(want.as_str()))
        }
        ("siputils", "is_request") => ok(ctx.msg.is_request()),
        ("siputils", "is_reply") => ok(ctx.msg.is_response()),
        // xlogm skips the methods in `methods_filter`, which is all of
        // them (-1) unless the modparam says otherwise: it never logs.
        ("xlog", "xlogm") => 1,
        ("xlog", f) => {
            let (lvl, fmt) = match (f, args.len()) {
                ("xlog", 1) => (Some(level::L_ERR), &args[0]),
                ("xlog", n) => {
                    let l = ctx.eval(&args[n - 2])?.as_string();
                    (log_level(&l), &args[n - 1])
                }
                ("xdbg", _) => (Some(level::L_DBG), &args[0]),
                ("xinfo", _) => (Some(level::L_INFO), &args[0]),
                ("xnotice", _) => (Some(level::L_NOTICE), &args[0]),
                ("xwarn", _) => (Some(level::L_WARN), &args[0]),
                ("xerr", _) => (Some(level::L_ERR), &args[0]),
                ("xbug", _) => (Some(level::L_BUG), &args[0]),
                ("xcrit", _) => (Some(level::L_CRIT), &args[0]),
                _ => (Some(level::L_ALERT), &args[0]),
            };
            let Some(lvl) = lvl else {
                ctx.error("xlog: bad log level");
                return Ok(-1);
            };
            let text = xlog_text(ctx, fmt)?;
            ctx.log(lvl, &text);
            1
        }
        (m, f) if in_table(textops::FUNCTIONS, m, f) => textops::call(ctx, f, args)?,
        (m, f) if in_table(textopsx::FUNCTIONS, m, f) => textopsx::call(ctx, f, args)?,
        (m, f) if in_table(siputils::FUNCTIONS, m, f) => siputils::call(ctx, m, f, args)?,
        (m, f) if in_table(cfgutils::FUNCTIONS, m, f) => cfgutils::call(ctx, f, args)?,
        _ => {
            ctx.error(&format!("`{name}` has no handler; the script stops"));
            return Err(Halt::Drop);
        }
    })
}

pub(crate) fn ok(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// A flag argument: a number, a declared name (`setflag(NAT)`), or any
/// expression.
fn flag_arg(ctx: &mut Ctx, v: &Value) -> Result<String, Halt> {
    Ok(match &v.kind {
        ValueKind::Word(w) => w.clone(),
        _ => ctx.eval(v)?.as_string(),
    })
}

/// `log()` prints its text as written: a format's variables are not
/// expanded (Kamailio's `log` takes a plain string).
fn raw_text(ctx: &mut Ctx, v: &Value) -> Result<String, Halt> {
    if let ValueKind::Format(parts) = &v.kind {
        let mut s = String::new();
        for p in parts {
            match p {
                FormatPart::Text(t) => s.push_str(t),
                FormatPart::Pv(p) => {
                    s.push('$');
                    s.push_str(&p.class);
                    if let Some(i) = &p.inner {
                        s.push('(');
                        s.push_str(i);
                        s.push(')');
                    }
                }
            }
        }
        return Ok(s);
    }
    Ok(ctx.eval(v)?.as_string())
}

/// The text of an xlog format in the file's era: `%` specifiers in SER,
/// `$` pseudo-variables elsewhere (split at load time from OpenSER 1.2;
/// here for OpenSER 1.0/1.1, whose strings the IR leaves whole).
fn xlog_text(ctx: &mut Ctx, v: &Value) -> Result<String, Halt> {
    if let ValueKind::Str(s) = &v.kind {
        if is_ser_xlog(ctx.prog.era) {
            return match ser_format(s) {
                Ok(parts) => ctx.format(&parts),
                Err(why) => {
                    ctx.error(&why);
                    Ok(String::new())
                }
            };
        }
        if ctx.prog.era == Era::OpenSer10 {
            return ctx.format(&parse_format(s));
        }
    }
    let v = ctx.eval(v)?;
    Ok(v.printed())
}

/// `forward()`, `forward(host[, port])`, `forward(uri:host, uri:port)`.
pub(crate) fn forward(ctx: &mut Ctx, args: &[Value], force: Option<Proto>) -> Result<i64, Halt> {
    let dest = if args.is_empty() {
        let uri = ctx.dst_uri.clone().unwrap_or_else(|| ctx.ruri.clone());
        match ctx.with_parsed_uri(&uri, destination_of).flatten() {
            Some(d) => d,
            None => {
                ctx.error(&format!("forward: cannot send to `{uri}`"));
                return Ok(-1);
            }
        }
    } else {
        // Split only for `uri:host` / `uri:port`: a literal next hop (the
        // common case) needs nothing from the Request-URI.
        let names_uri = |v: &Value| matches!(&v.kind, ValueKind::Word(w) if w.starts_with("uri:"));
        let ruri = if args.iter().any(names_uri) {
            UriParts::split(&ctx.ruri)
        } else {
            None
        };
        let mut proto = Proto::Udp;
        let (host, mut port) = match &args[0].kind {
            ValueKind::Word(w) if w == "uri:host" => match &ruri {
                Some(u) => (u.host.clone(), None),
                None => {
                    ctx.error("forward: the Request-URI has no host");
                    return Ok(-1);
                }
            },
            _ => {
                let mut a = ctx.eval(&args[0])?.as_string();
                if let Some((p, rest)) = a.split_once(':') {
                    if let Some(p) = Proto::parse(p) {
                        proto = p;
                        a = rest.to_string();
                    }
                }
                let (h, p) = split_hostport(&a);
                (h.to_string(), p.map(str::to_string))
            }
        };
        if let Some(a) = args.get(1) {
            port = match &a.kind {
                ValueKind::Word(w) if w == "uri:port" => ruri.as_ref().and_then(|u| u.port.clone()),
                _ => Some(ctx.eval(a)?.as_string()),
            };
        }
        let port = match port.as_deref().map(str::parse::<u16>) {
            None => 5060,
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                ctx.error(&format!("forward: bad port `{}`", port.unwrap_or_default()));
                return Ok(-1);
            }
        };
        Destination {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            proto,
        }
    };
    let dest = Destination {
        proto: force.unwrap_or(dest.proto),
        ..dest
    };
    Ok(ok(ctx.forward_to(dest)))
}

/// The next hop a URI names: host, port (5060, 5061 for sips/TLS),
/// `transport=`.
pub(crate) fn destination_of(parsed: &crate::sip::Uri) -> Option<Destination> {
    // The parsed URI's parts, not `UriParts` (a String for each): this
    // runs for every relayed request.
    let sip = parsed.as_sip()?;
    let transport = sip
        .params()
        .iter()
        .filter(|p| p.name().eq_ignore_case("transport"))
        .find_map(|p| p.value());
    let proto = match transport {
        Some(t) => Proto::parse(t.to_str()?)?,
        None if sip.is_secure() => Proto::Tls,
        None => Proto::Udp,
    };
    let port = match sip.port() {
        Some(p) => p,
        None if proto == Proto::Tls || proto == Proto::Wss => 5061,
        None => 5060,
    };
    let host = sip.host().text().to_str()?;
    Some(Destination {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        proto,
    })
}

/// What `sanity_check()` finds wrong with a request that framed and passed
/// the syntax checks: the reply code and reason Kamailio's sanity module
/// sends for it.
fn sanity_problem(msg: &SipMessage) -> Option<(u16, &'static str)> {
    if !msg.is_request() {
        return None;
    }
    if msg.validate().is_err() {
        return Some((400, "Bad Request"));
    }
    // Required header fields (RFC 3261 §8.1.1).
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        if msg.headers_named(&name).next().is_none() {
            return Some((400, "Missing Header"));
        }
    }
    if msg.from_header().is_err()
        || msg.to_header().is_err()
        || msg.cseq().is_err()
        || msg.vias().is_err()
    {
        return Some((400, "Bad Header"));
    }
    if msg.max_forwards().is_err() {
        return Some((400, "Bad Max-Forwards"));
    }
    // The Request-URI scheme must be one a proxy routes (RFC 3261 §8.2.2.1).
    match msg.request_uri() {
        Ok(Some(crate::sip::Uri::Sip(_) | crate::sip::Uri::Tel(_))) => {}
        _ => return Some((416, "Unsupported URI Scheme")),
    }
    // Extensions this proxy does not support (RFC 3261 §8.2.2.3).
    if let Some(h) = msg.headers_named(&HeaderName::new("Proxy-Require")?).next() {
        if !h.value().as_bytes().iter().all(u8::is_ascii_whitespace) {
            return Some((420, "Bad Extension"));
        }
    }
    None
}

/// A stateless local reply (RFC 3261 §8.2.6) with `received`/`rport` on
/// its top Via, sent where §18.2.2 says.
pub(crate) fn send_reply(ctx: &mut Ctx, code: u16, reason: &str) -> bool {
    let tag = ctx.cfg.ids.to_tag(ctx.msg);
    let contact = super::actions::dset_contact(ctx);
    // `append_to_reply` / `set_reply_body` of textops.
    let extra = ctx.state.reply_headers.clone();
    let body = ctx.state.reply_body.clone();
    let mut r = LocalReply::new(code, reason).to_tag(&tag);
    if let Some(s) = &ctx.cfg.server_header {
        r = r.server(s);
    }
    // A redirect carries the destination set (checked against Kamailio).
    if let (true, Some(c)) = ((300..400).contains(&code), &contact) {
        r = r.header("Contact", c);
    }
    for (n, v) in &extra {
        r = r.script_header(n, v);
    }
    if let Some((ct, b)) = &body {
        r = r.body(ct, b.as_bytes());
    }
    send_local(ctx, &r)
}

/// Builds `r` over the request, fixes its top Via (`received`/`rport`)
/// and queues it for where RFC 3261 §18.2.2 sends it.
pub(crate) fn send_local(ctx: &mut Ctx, r: &LocalReply<'_>) -> bool {
    let built = r.build(ctx.msg).and_then(|bytes| {
        let reply = SipMessage::parse_datagram(bytes.clone())?;
        match ctx.via_fix(&reply) {
            Some((start, end, new)) => {
                let mut ed = MessageEditor::new(&reply);
                ed.lumps_mut()
                    .replace(crate::sip::Span::new(start, end), new)?;
                ed.build()
            }
            None => Ok(bytes),
        }
    });
    match built {
        Ok(bytes) => {
            let to = ctx.reply_target();
            let proto = ctx.recv.proto;
            ctx.out.push(Output::Reply { bytes, to, proto });
            true
        }
        Err(e) => {
            ctx.error(&format!("cannot send a local reply: {e}"));
            false
        }
    }
}

/// `mf_process_maxfwd_header(n)`: 2 header added with `n`, 1 decremented
/// (capped at `max_limit` first), -1 it was 0 (the script answers 483),
/// -2 unreadable.
fn process_maxfwd(ctx: &mut Ctx, n: i64) -> i64 {
    if ctx.maxfwd_done {
        return 1;
    }
    let header = ctx
        .msg
        .headers_named(&HeaderName::MaxForwards)
        .next()
        .map(|h| (h.index(), h.value_span()));
    let Some((index, span)) = header else {
        if !(0..=255).contains(&n) {
            ctx.error(&format!("mf_process_maxfwd_header: bad value {n}"));
            return -2;
        }
        return match ctx
            .editor
            .add_header(HeaderPosition::Last, "Max-Forwards", &n.to_string())
        {
            Ok(()) => {
                ctx.maxfwd_done = true;
                2
            }
            Err(e) => {
                ctx.error(&format!("mf_process_maxfwd_header: {e}"));
                -2
            }
        };
    };
    let value = match ctx.msg.typed(index) {
        Ok(crate::sip::TypedHeader::MaxForwards(v)) => *v as u32,
        _ => return -2,
    };
    if value == 0 {
        return -1;
    }
    let new = value.min(ctx.cfg.maxfwd_limit.max(1)) - 1;
    match ctx.editor.lumps_mut().replace(span, new.to_string()) {
        Ok(()) => {
            ctx.maxfwd_done = true;
            1
        }
        Err(e) => {
            ctx.error(&format!("mf_process_maxfwd_header: {e}"));
            -2
        }
    }
}

/// `append_hf("Name: value\r\n")`: each line becomes a header field.
fn append_hf(ctx: &mut Ctx, txt: &str, at: HeaderPosition) -> bool {
    let mut lines = Vec::new();
    for line in txt.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            ctx.error(&format!("append_hf: `{line}` is not a header field"));
            return false;
        };
        lines.push((name.trim().to_string(), value.trim().to_string()));
    }
    // Several lines after the same header keep their order.
    for (name, value) in lines.iter() {
        if let Err(e) = ctx.editor.add_header(at, name, value) {
            ctx.error(&format!("append_hf: {e}"));
            return false;
        }
    }
    !lines.is_empty()
}

/// Whether the engine has a handler for a core action (canonical name).
pub fn handles_core_action(name: &str) -> bool {
    CORE.iter().any(|(n, ..)| *n == name) || super::actions::handles(name)
}

/// Whether the engine has a handler for `module.function`.
pub fn handles_function(module: &str, name: &str) -> bool {
    FUNCTION_TABLES.iter().any(|t| in_table(t, module, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ser_formats() {
        let parts = ser_format("%rm from %fu [%{User-Agent}] 100%%\n").unwrap();
        assert_eq!(parts.len(), 6);
        assert!(ser_format("%zz").is_err());
        assert_eq!(log_level("L_INFO"), Some(2));
        assert_eq!(log_level("-1"), Some(-1));
        assert_eq!(log_level("L_FOO"), None);
    }

    fn uri_destination(uri: &str) -> Option<Destination> {
        destination_of(&crate::sip::Uri::parse(uri.as_bytes()).ok()?)
    }

    #[test]
    fn uri_destinations() {
        let d = uri_destination("sips:a@example.com").unwrap();
        assert_eq!((d.port, d.proto), (5061, Proto::Tls));
        let d = uri_destination("sip:[::1]:5080;transport=tcp").unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.proto),
            ("::1", 5080, Proto::Tcp)
        );
        assert!(uri_destination("tel:+1").is_none());
    }
}
