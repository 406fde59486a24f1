//! The `rr` module's script functions over the sans-IO core in
//! [`crate::rr`]: record-route requests are kept on the message's context
//! and turned into headers when the request is forwarded (the outgoing
//! socket is known then); `loose_route` edits the Route set at once.

use super::exec::{Ctx, Halt};
use super::{Destination, EngineConfig};
use crate::rr::{Direction, RequestUri, RrConfig, RrSocket, RrState};
use crate::sip::{HeaderPosition, MessageEditor};
use sercompat_compiler::ir::{compile_regex, Program, Value, ValueKind};
use sercompat_grammar::Diagnostic;

/// `(module, function, min args, max args)`.
pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("rr", "record_route", 0, 1),
    ("rr", "record_route_preset", 1, 2),
    ("rr", "record_route_advertised_address", 1, 1),
    ("rr", "add_rr_param", 1, 1),
    ("rr", "remove_record_route", 0, 0),
    ("rr", "loose_route", 0, 0),
    ("rr", "loose_route_preloaded", 0, 0),
    ("rr", "loose_route_mode", 1, 1),
    ("rr", "rr_next_hop_route", 0, 0),
    ("rr", "check_route_param", 1, 1),
    ("rr", "is_direction", 1, 1),
    ("rr", "rewriteFromRoute", 0, 0),
];

/// The `rr` module parameters the engine applies.
pub const PARAMS: &[&str] = &[
    "enable_full_lr",
    "append_fromtag",
    "enable_double_rr",
    "add_username",
];

/// Per-request record-routing state.
#[derive(Debug, Default)]
pub(crate) struct RrCtx {
    state: RrState,
    /// `loose_route`'s code, so a second call does not edit twice.
    routed: Option<i64>,
    next_hop_from_route: bool,
}

/// Reads `modparam("rr", ...)` into `cfg`. Kamailio takes a number
/// written as a string for these integer parameters; any other string is
/// refused at load by [`check_modparams`], and unknown names by the
/// readiness check.
pub fn apply_modparams(program: &Program, cfg: &mut RrConfig) {
    for p in program.module_params.iter().filter(|p| p.module == "rr") {
        let Some(n) = p.value.as_int() else {
            continue;
        };
        match p.name.as_str() {
            "enable_full_lr" => cfg.enable_full_lr = n != 0,
            "append_fromtag" => cfg.append_fromtag = n != 0,
            "enable_double_rr" => cfg.enable_double_rr = n.clamp(0, 2) as u8,
            "add_username" => cfg.add_username = n != 0,
            _ => {}
        }
    }
}

/// `rr` parameters whose value is not a number: Kamailio refuses them.
pub(crate) fn check_modparams(program: &Program) -> Vec<Diagnostic> {
    program
        .module_params
        .iter()
        .filter(|p| p.module == "rr" && PARAMS.contains(&p.name.as_str()))
        .filter(|p| p.value.as_int().is_none())
        .map(|p| {
            Diagnostic::error(
                super::UNSUPPORTED,
                format!("modparam rr.{} takes a number", p.name),
            )
            .primary(p.value_span, "not a number")
        })
        .collect()
}

/// Load-time checks: Kamailio refuses `is_direction` without
/// `append_fromtag`, a direction other than the two, and a bad pattern.
pub(crate) fn check(program: &Program, name: &str, args: &[Value]) -> Result<(), String> {
    let constant = |v: &Value| match &v.kind {
        ValueKind::Int(_) => None,
        _ => v.constant_text(),
    };
    match name {
        "is_direction" => {
            let mut cfg = RrConfig::default();
            apply_modparams(program, &mut cfg);
            if !cfg.append_fromtag {
                return Err(
                    "`is_direction` needs modparam(\"rr\", \"append_fromtag\", 1)".to_string(),
                );
            }
            if let Some(c) = args.first().and_then(constant) {
                Direction::parse(&c)
                    .ok_or_else(|| format!("`{c}` is not a direction (upstream, downstream)"))?;
            }
        }
        // A pattern the IR compiled is checked in `funcs::check`.
        "check_route_param" => {
            let unchecked = args
                .first()
                .filter(|a| !matches!(a.kind, ValueKind::Pattern(_)));
            if let Some(c) = unchecked.and_then(constant) {
                compile_regex(&c)
                    .map_err(|why| format!("`{c}` is not a valid regular expression: {why}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Runs one `rr` function; the return code follows the module convention.
pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    let text = |ctx: &mut Ctx, i: usize| -> Result<Option<String>, Halt> {
        match args.get(i) {
            Some(v) => Ok(Some(ctx.eval(v)?.as_string())),
            None => Ok(None),
        }
    };
    let asked = match name {
        "record_route" => {
            let params = text(ctx, 0)?.unwrap_or_default();
            // The state leaves the context for the call, so that the
            // Request-URI's parse can come from it.
            let mut state = std::mem::take(&mut ctx.rr.state);
            let this: &Ctx = ctx;
            let asked = this
                .with_parsed_uri(&this.ruri, |parsed| {
                    state.record_route(
                        this.msg,
                        RequestUri::Parsed(Some(parsed)),
                        &this.cfg.rr,
                        &params,
                    )
                })
                .unwrap_or_else(|| {
                    state.record_route(this.msg, RequestUri::Parsed(None), &this.cfg.rr, &params)
                });
            ctx.rr.state = state;
            asked
        }
        "record_route_preset" => {
            let first = text(ctx, 0)?.unwrap_or_default();
            let second = text(ctx, 1)?;
            let rr_cfg = &ctx.cfg.rr;
            ctx.rr
                .state
                .record_route_preset(ctx.msg, &ctx.ruri, rr_cfg, &first, second.as_deref())
        }
        "record_route_advertised_address" => {
            let address = text(ctx, 0)?.unwrap_or_default();
            let rr_cfg = &ctx.cfg.rr;
            ctx.rr
                .state
                .record_route_advertised_address(ctx.msg, &ctx.ruri, rr_cfg, &address)
        }
        "add_rr_param" => {
            let param = text(ctx, 0)?.unwrap_or_default();
            ctx.rr.state.add_rr_param(&param)
        }
        "remove_record_route" => {
            ctx.rr.state.remove_record_route();
            Ok(())
        }
        "loose_route" => return Ok(loose_route(ctx, false)),
        "rewriteFromRoute" => return Ok(rewrite_from_route(ctx)),
        "loose_route_mode" => {
            let mode = text(ctx, 0)?.unwrap_or_default();
            let loose_only = match mode.trim().parse::<i64>() {
                Ok(n) => n == 1,
                Err(_) => {
                    ctx.error(&format!("loose_route_mode: `{mode}` is not a number"));
                    return Ok(-1);
                }
            };
            return Ok(loose_route(ctx, loose_only));
        }
        "rr_next_hop_route" => return Ok(ok(ctx.rr.next_hop_from_route)),
        // 1 only for a preloaded route set that ends here (what
        // loose_route answers -3 for); the routing itself is done either way.
        "loose_route_preloaded" => return Ok(if loose_route(ctx, false) == -3 { 1 } else { -1 }),
        "check_route_param" => {
            // A constant pattern was compiled with the config (route
            // parameters hold no newline: the module flags do not matter).
            if let Some(ValueKind::Pattern(p)) = args.first().map(|a| &a.kind) {
                if let Ok(re) = &p.regex {
                    return Ok(ok(crate::rr::check_route_param(
                        ctx.rr.state.route_params(),
                        re,
                    )));
                }
            }
            let re = text(ctx, 0)?.unwrap_or_default();
            return Ok(match compile_regex(&re) {
                Ok(re) => ok(crate::rr::check_route_param(
                    ctx.rr.state.route_params(),
                    &re,
                )),
                Err(why) => {
                    ctx.error(&format!("check_route_param: bad pattern `{re}`: {why}"));
                    -1
                }
            });
        }
        "is_direction" => {
            let dir = text(ctx, 0)?.unwrap_or_default();
            let Some(dir) = Direction::parse(&dir) else {
                ctx.error(&format!("is_direction: unknown direction `{dir}`"));
                return Ok(-1);
            };
            let from_tag = ctx.msg.from_tag().map(|t| t.to_string_lossy().into_owned());
            return Ok(ok(crate::rr::is_direction(
                ctx.rr.state.route_params(),
                from_tag.as_deref(),
                dir,
            )));
        }
        _ => {
            ctx.error(&format!("`{name}` has no handler; the script stops"));
            return Err(Halt::Drop);
        }
    };
    Ok(match asked {
        Ok(()) => 1,
        Err(e) => {
            ctx.error(&format!("{name}: {e}"));
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

fn loose_route(ctx: &mut Ctx, loose_only: bool) -> i64 {
    if let Some(code) = ctx.rr.routed {
        return code;
    }
    // The editor leaves the context for the call so `myself` can read it.
    let mut editor = std::mem::replace(&mut ctx.editor, MessageEditor::new(ctx.msg));
    let result = {
        let this: &Ctx = ctx;
        crate::rr::loose_route_mode(
            &mut editor,
            &this.ruri,
            &|u| this.uri_is_myself(u),
            loose_only,
        )
    };
    ctx.editor = editor;
    let code = match result {
        Ok(out) => {
            if let Some(ruri) = out.ruri {
                ctx.ruri = ruri;
            }
            if let Some(du) = out.dst_uri {
                ctx.dst_uri = Some(du);
            }
            ctx.removed.extend(out.removed_headers);
            ctx.rr.state.set_route_params(out.our_params);
            ctx.rr.next_hop_from_route = out.next_hop_from_route;
            out.code
        }
        Err(e) => {
            ctx.error(&format!("loose_route: {e}"));
            -1
        }
    };
    ctx.rr.routed = Some(code);
    code
}

/// Adds the Record-Route header(s) asked for this request to a message
/// about to go to `dest`: the incoming socket is where it arrived (or the
/// advertised address), the outgoing one the same address with `dest`'s
/// transport.
pub(crate) fn insert_record_routes(
    ctx: &Ctx,
    cfg: &EngineConfig,
    editor: &mut MessageEditor<'_>,
    dest: &Destination,
) -> Result<(), String> {
    if !ctx.rr.state.is_pending() {
        return Ok(());
    }
    let (host, port) = match &cfg.via_address {
        Some((h, p)) => (h.clone(), *p),
        None => (ctx.recv.dst.ip().to_string(), ctx.recv.dst.port()),
    };
    let incoming = RrSocket::new(host.clone(), port, ctx.recv.proto.name());
    let outgoing = RrSocket::new(host, port, dest.proto.name());
    for value in ctx.rr.state.headers(&cfg.rr, &incoming, &outgoing) {
        editor
            .add_header(HeaderPosition::First, "Record-Route", &value)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// SER 0.8's `rewriteFromRoute()` (strict routing): the first Route URI
/// becomes the Request-URI and leaves the Route set. 1 when it did, -1
/// when there is no Route header.
fn rewrite_from_route(ctx: &mut Ctx) -> i64 {
    let Some(header) = ctx
        .msg
        .headers_named(&crate::sip::HeaderName::Route)
        .find(|h| !ctx.removed.contains(&h.index()))
    else {
        return -1;
    };
    let value = header.value().to_string_lossy().into_owned();
    let span = header.value_span();
    let index = header.index();
    let (first, rest_at) = match crate::sip::top_level_comma(value.as_bytes()) {
        Some(comma) => (&value[..comma], Some(comma)),
        None => (value.as_str(), None),
    };
    let uri = match (first.find('<'), first.find('>')) {
        (Some(a), Some(b)) if a < b => first[a + 1..b].trim().to_string(),
        _ => first
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    if uri.is_empty() || !super::pv::set_ruri(ctx, &uri) {
        ctx.error(&format!("rewriteFromRoute: `{first}` is not a URI"));
        return -1;
    }
    let removed = match rest_at {
        // More entries on this line: cut the first one and its comma.
        Some(comma) => {
            let mut end = comma + 1;
            while value
                .as_bytes()
                .get(end)
                .is_some_and(u8::is_ascii_whitespace)
            {
                end += 1;
            }
            ctx.editor
                .lumps_mut()
                .delete(crate::sip::Span::new(span.start, span.start + end))
        }
        None => {
            ctx.removed.insert(index);
            ctx.editor.remove_header(index)
        }
    };
    match removed {
        Ok(()) => 1,
        Err(e) => {
            ctx.error(&format!("rewriteFromRoute: {e}"));
            -1
        }
    }
}
