//! kex: the core actions Kamailio 3.0+ moved into a module (script and
//! branch flags, `km_append_branch`, `pv_printf`), `is_myself`, and
//! `setdebug`/`resetdebug` (a per-process log level replacing `debug=`
//! until reset). The
//! destination-URI functions stay in [`super::funcs`].

use super::actions;
use super::exec::{Ctx, Halt};
use super::uri::split_hostport;
use sercompat_compiler::ir::{Program, Value};

/// Functions handled here, with their argument counts.
pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("kex", "setsflag", 1, 1),
    ("kex", "resetsflag", 1, 1),
    ("kex", "issflagset", 1, 1),
    ("kex", "setbflag", 1, 2),
    ("kex", "resetbflag", 1, 2),
    ("kex", "isbflagset", 1, 2),
    ("kex", "km_append_branch", 0, 1),
    ("kex", "pv_printf", 2, 2),
    ("kex", "avp_printf", 2, 2),
    ("kex", "is_myself", 1, 1),
    ("kex", "setdebug", 1, 1),
    ("kex", "resetdebug", 0, 0),
];

pub(crate) fn handles(name: &str) -> bool {
    FUNCTIONS.iter().any(|(_, n, ..)| *n == name)
}

pub(crate) fn check(program: &Program, func: &str, args: &[Value]) -> Result<(), String> {
    match func {
        "km_append_branch" => actions::check(program, "append_branch", args),
        "avp_printf" => actions::check(program, "pv_printf", args),
        f => actions::check(program, f, args),
    }
}

pub(crate) fn call(ctx: &mut Ctx, func: &str, args: &[Value]) -> Result<i64, Halt> {
    match func {
        "km_append_branch" => actions::append_branch(ctx, args),
        "pv_printf" | "avp_printf" => actions::pv_printf(ctx, args),
        "setdebug" => {
            let l = ctx.eval(&args[0])?.as_int();
            // Any number, as Kamailio takes it (above L_DBG is still debug).
            match i32::try_from(l) {
                Ok(l) => {
                    *ctx.debug = Some(l);
                    Ok(1)
                }
                _ => {
                    ctx.error(&format!("setdebug: `{l}` is not a log level"));
                    Ok(-1)
                }
            }
        }
        "resetdebug" => {
            *ctx.debug = None;
            Ok(1)
        }
        "is_myself" => {
            let s = ctx.eval(&args[0])?.as_string();
            Ok(super::funcs::ok(is_myself(ctx, s.trim())))
        }
        f => actions::call(ctx, f, args),
    }
}

/// A SIP URI, or `host[:port]`, naming this server.
fn is_myself(ctx: &Ctx, s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        return ctx.uri_is_myself(s);
    }
    let (host, port) = split_hostport(s);
    match port.map(str::parse::<u16>) {
        None => ctx.host_is_myself(host, None, false),
        Some(Ok(p)) => ctx.host_is_myself(host, Some(p), false),
        Some(Err(_)) => false,
    }
}
