//! The registrar module's script functions: `save`, `lookup`,
//! `registered`, `unregister` (and SER/OpenSER's `save_noreply`,
//! `save_memory`). The work is [`crate::registrar`]'s; this file hands it
//! the message, the clock and what only the engine knows (receiving
//! socket, `received_avp` value), and applies what comes back: the reply
//! to send, the new Request-URI, `$du` and the destination set.

use super::actions::{q_text, Branch};
use super::exec::{Ctx, Halt};
use super::funcs::send_local;
use super::pv::set_ruri;
use super::unix_seconds;
use crate::registrar::{Binding, LookupRequest, RegisteredMatch, SaveContext, SaveFlags};
use sercompat_compiler::ir::{Value, ValueKind};
use std::sync::Arc;

/// `(module, function, least args, most args)`, as [`super::funcs::MODULES`].
pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("registrar", "save", 1, 3),
    // SER 0.8–2.0 / OpenSER 1.1: save(t) without reply, memory only.
    // Their second (SER 2.0) argument is not supported.
    ("registrar", "save_noreply", 1, 1),
    ("registrar", "save_memory", 1, 1),
    ("registrar", "lookup", 1, 2),
    ("registrar", "lookup_to_dset", 1, 2),
    // The match_option/match_action arguments read xavps, which the
    // engine does not have.
    ("registrar", "registered", 1, 2),
    ("registrar", "unregister", 2, 3),
];

/// Every save() flag Kamailio 5.6 defines.
const KNOWN_SAVE_FLAGS: u32 = SaveFlags::MEMORY_ONLY
    | SaveFlags::NO_REPLY
    | SaveFlags::SINGLE_CONTACT
    | SaveFlags::NO_VARIATION
    | SaveFlags::PREPARE_REPLY;

/// Load-time check: constant save() flags must be known ones.
pub(crate) fn check(func: &str, args: &[Value]) -> Result<(), String> {
    if func != "save" {
        return Ok(());
    }
    let Some(flags) = args.get(1).and_then(constant) else {
        return Ok(());
    };
    match SaveFlags::parse(&flags) {
        Some(f) if f.0 & !KNOWN_SAVE_FLAGS == 0 => Ok(()),
        _ => Err(format!(
            "`{flags}` is not a set of save() flags (0x01-0x1F)"
        )),
    }
}

fn constant(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::Word(_) => None,
        _ => v.constant_text(),
    }
}

pub(crate) fn call(ctx: &mut Ctx, func: &str, args: &[Value]) -> Result<i64, Halt> {
    let table = ctx.eval(&args[0])?.as_string();
    Ok(match func {
        "save" | "save_noreply" | "save_memory" => {
            let flags = match (func, args.get(1)) {
                ("save_noreply", _) => SaveFlags(SaveFlags::NO_REPLY),
                ("save_memory", _) => SaveFlags(SaveFlags::MEMORY_ONLY),
                (_, Some(a)) => {
                    let text = ctx.eval(a)?.as_string();
                    match SaveFlags::parse(&text) {
                        Some(f) if f.0 & !KNOWN_SAVE_FLAGS == 0 => f,
                        _ => {
                            ctx.error(&format!("save: `{text}` is not a set of save() flags"));
                            return Ok(-1);
                        }
                    }
                }
                (_, None) => SaveFlags::default(),
            };
            let uri = match args.get(2) {
                Some(a) => Some(ctx.eval(a)?.as_string()),
                None => None,
            };
            save(ctx, &table, flags, uri.as_deref())
        }
        "lookup" | "lookup_to_dset" => {
            let uri = match args.get(1) {
                Some(a) => ctx.eval(a)?.as_string(),
                None => ctx.ruri.clone(),
            };
            lookup(ctx, &table, &uri, func == "lookup_to_dset")
        }
        "registered" => {
            let uri = match args.get(1) {
                Some(a) => ctx.eval(a)?.as_string(),
                None => ctx.ruri.clone(),
            };
            let now = unix_seconds(&ctx.cfg.clock);
            let filter = RegisteredMatch::default();
            i64::from(ctx.cfg.registrar.registered(&table, &uri, &filter, now))
        }
        "unregister" => {
            let uri = ctx.eval(&args[1])?.as_string();
            let ruid = match args.get(2) {
                Some(a) => Some(ctx.eval(a)?.as_string()),
                None => None,
            };
            i64::from(ctx.cfg.registrar.unregister(&table, &uri, ruid.as_deref()))
        }
        _ => {
            ctx.error(&format!(
                "registrar `{func}` has no handler; the script stops"
            ));
            return Err(Halt::Drop);
        }
    })
}

/// save(): stores the REGISTER's bindings and, unless told not to, sends
/// the registrar's reply as a stateless local reply.
fn save(ctx: &mut Ctx, table: &str, flags: SaveFlags, uri: Option<&str>) -> i64 {
    // A copy of the shared reference, so `ctx` stays free to borrow.
    let cfg = ctx.cfg;
    let received = cfg
        .registrar
        .config()
        .received_avp
        .as_deref()
        .map(avp_key)
        .and_then(|key| ctx.avps.get(&key).and_then(|stack| stack.last().cloned()))
        .filter(|v| !v.is_null())
        .map(|v| v.as_string());
    let socket: Arc<str> = format!(
        "{}:{}:{}",
        ctx.recv.proto.name(),
        ctx.recv.dst.ip(),
        ctx.recv.dst.port()
    )
    .into();
    let save_ctx = SaveContext {
        now: unix_seconds(&ctx.cfg.clock),
        socket: Some(socket),
        received_avp: received.as_deref(),
        // The Request-URI branch's flags (`setbflag`) go with the contact
        // and come back with it on lookup (usrloc `cflags`).
        branch_flags: ctx.st.bflags,
        ..SaveContext::default()
    };
    let outcome = cfg.registrar.save(ctx.msg, table, flags, uri, &save_ctx);
    if let (true, Some(reply)) = (outcome.send_reply, &outcome.reply) {
        let tag = cfg.ids.to_tag(ctx.msg);
        let mut r = reply.local_reply().to_tag(&tag);
        // Kamailio prints Server after the registrar's headers.
        if let Some(server) = &cfg.server_header {
            r = r.header("Server", server);
        }
        if !send_local(ctx, &r) {
            return -1;
        }
    }
    i64::from(outcome.code)
}

/// The key under which the engine keeps the AVP a `received_avp`
/// parameter names (as `$avp(...)` keys it): `$avp(s:x)` and `$avp(x)`
/// are the string-named `x`, `$avp(i:5)` and SER 0.8's bare number `5`
/// the integer-named 5, SER's `$x` the string-named `x`.
fn avp_key(param: &str) -> String {
    let p = param.trim();
    if let Some(inner) = p.strip_prefix("$avp(").and_then(|r| r.strip_suffix(')')) {
        return super::pv::avp_key(inner);
    }
    if p.parse::<u32>().is_ok() {
        return format!("i:{p}");
    }
    super::pv::avp_key(p.strip_prefix('$').unwrap_or(p))
}

/// lookup(): the first binding becomes the Request-URI (with `$du` from
/// its Path or received address), the others join the destination set.
/// lookup_to_dset() (`to_dset`) leaves the Request-URI alone and adds
/// every binding to the set.
fn lookup(ctx: &mut Ctx, table: &str, uri: &str, to_dset: bool) -> i64 {
    let Some(method) = ctx.msg.method() else {
        return -3;
    };
    let to_has_tag = ctx.msg.to_tag().is_some_and(|t| !t.is_empty());
    let now = unix_seconds(&ctx.cfg.clock);
    let run = |parsed_uri: Option<&crate::sip::Uri>| {
        let req = LookupRequest {
            uri,
            parsed_uri,
            method: &method,
            to_has_tag,
            now,
        };
        if to_dset {
            ctx.cfg.registrar.lookup_to_dset(table, &req)
        } else {
            ctx.cfg.registrar.lookup(table, &req)
        }
    };
    // The Request-URI's parse (usually the message's own) serves the AoR.
    let outcome = ctx
        .with_parsed_uri(uri, |parsed| run(Some(parsed)))
        .unwrap_or_else(|| run(None));
    if outcome.code < 0 {
        return i64::from(outcome.code);
    }
    if let Some(first) = &outcome.request_uri {
        if !set_ruri(ctx, &first.uri) {
            ctx.error(&format!(
                "lookup: the registered contact `{}` is not a valid Request-URI",
                first.uri
            ));
            return -3;
        }
        ctx.dst_uri.clone_from(&first.dst_uri);
        ctx.ruri_q = first.q;
        ctx.path_vec.clone_from(&first.path);
        ctx.st.bflags = first.branch_flags;
    }
    ctx.st.branches.extend(outcome.branches.iter().map(branch));
    i64::from(outcome.code)
}

fn branch(b: &Binding) -> Branch {
    Branch {
        uri: b.uri.clone(),
        dst_uri: b.dst_uri.clone(),
        path: b.path.clone(),
        q: q_text(b.q),
        flags: b.branch_flags,
    }
}

#[cfg(test)]
mod tests {
    use super::avp_key;

    #[test]
    fn received_avp_names() {
        assert_eq!(avp_key("$avp(s:rcv)"), "s:rcv");
        assert_eq!(avp_key("$avp(rcv)"), "s:rcv");
        assert_eq!(avp_key("$avp(i:42)"), "i:42");
        assert_eq!(avp_key("42"), "i:42");
        assert_eq!(avp_key("$rcv"), "s:rcv");
    }
}
