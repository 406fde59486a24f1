//! textops (Kamailio 5.6) for stateless request routing, beyond the few
//! functions `funcs.rs` has carried from the start (`search`,
//! `search_append`, `append_hf`, `remove_hf`, `is_present_hf`,
//! `is_method`).
//!
//! Like Kamailio, every function reads the message as received (or as
//! last rebuilt by `msg_apply_changes`); edits are lumps, seen only in
//! what is sent. Regular expressions are compiled with the module's flags
//! (`REG_EXTENDED|REG_ICASE|REG_NEWLINE`); an empty match is an error.

use super::exec::{Ctx, Halt};
use super::fargs::{self, literal, ok, text, Regex, ICASE, TEXTOPS};
use super::subst::{self, Subst};
use crate::sip::{HeaderName, HeaderPosition, HeaderRef, SipMessage, Span};
use sercompat_compiler::ir::{compile_regex_with, Value};

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("textops", "search_body", 1, 1),
    ("textops", "search_hf", 3, 3),
    ("textops", "search_str", 2, 2),
    ("textops", "search_append_body", 2, 2),
    ("textops", "replace", 2, 2),
    ("textops", "replace_all", 2, 2),
    ("textops", "replace_body", 2, 2),
    ("textops", "replace_body_all", 2, 2),
    ("textops", "replace_body_atonce", 2, 2),
    ("textops", "replace_hdrs", 2, 2),
    ("textops", "subst", 1, 1),
    ("textops", "subst_uri", 1, 1),
    ("textops", "subst_user", 1, 1),
    ("textops", "subst_body", 1, 1),
    ("textops", "subst_hf", 3, 3),
    ("textops", "filter_body", 1, 1),
    ("textops", "append_to_reply", 1, 1),
    ("textops", "insert_hf", 1, 2),
    ("textops", "append_urihf", 2, 2),
    ("textops", "is_present_hf_pv", 1, 1),
    ("textops", "is_present_hf_re", 1, 1),
    ("textops", "is_present_hf_re_pv", 1, 1),
    ("textops", "remove_hf_pv", 1, 1),
    ("textops", "remove_hf_re", 1, 1),
    ("textops", "remove_hf_re_pv", 1, 1),
    ("textops", "remove_hf_exp", 2, 2),
    ("textops", "remove_hf_exp_pv", 2, 2),
    ("textops", "remove_hf_idx", 2, 2),
    ("textops", "has_body", 0, 1),
    ("textops", "is_privacy", 1, 1),
    ("textops", "is_audio_on_hold", 0, 0),
    ("textops", "in_list", 3, 3),
    ("textops", "in_list_prefix", 3, 3),
    ("textops", "cmp_str", 2, 2),
    ("textops", "cmp_istr", 2, 2),
    ("textops", "starts_with", 2, 2),
    ("textops", "ends_with", 2, 2),
    ("textops", "str_find", 2, 2),
    ("textops", "str_ifind", 2, 2),
    ("textops", "set_body", 2, 2),
    ("textops", "set_reply_body", 2, 2),
];

/// RFC 3323 / IANA privacy values `is_privacy` knows.
const PRIVACY: &[&str] = &[
    "header", "session", "user", "none", "critical", "id", "history",
];

/// Load-time checks of constant arguments: regular expressions, substitution
/// expressions, flags and privacy types Kamailio fixes up at startup.
pub(crate) fn check(name: &str, args: &[Value]) -> Result<(), String> {
    let regex_first = |flags| fargs::check_regex(&args[0], flags);
    match name {
        "search_body" | "search_append_body" | "replace" | "replace_all" | "replace_body"
        | "replace_body_all" | "replace_hdrs" => regex_first(TEXTOPS),
        "replace_body_atonce" => regex_first(ICASE),
        "is_present_hf_re" | "remove_hf_re" => regex_first(ICASE),
        "remove_hf_exp" => {
            regex_first(ICASE)?;
            fargs::check_regex(&args[1], ICASE)
        }
        // An unknown header selector means "all" (Kamailio 5.6.3 starts).
        "search_hf" => fargs::check_regex(&args[1], TEXTOPS),
        "subst" | "subst_uri" | "subst_user" | "subst_body" => match fargs::constant(&args[0]) {
            Some(c) => subst::check(&c),
            None => Ok(()),
        },
        "subst_hf" => match fargs::constant(&args[1]) {
            Some(c) => subst::check(&c),
            None => Ok(()),
        },
        "is_privacy" => match fargs::constant(&args[0]) {
            Some(c) if !PRIVACY.contains(&c.trim().to_ascii_lowercase().as_str()) => Err(format!(
                "`{c}` is not a privacy type ({})",
                PRIVACY.join(", ")
            )),
            _ => Ok(()),
        },
        "in_list" | "in_list_prefix" => match fargs::constant(&args[2]) {
            Some(c) if c.chars().count() != 1 => {
                Err(format!("the separator `{c}` must be one character"))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    let msg = ctx.msg;
    Ok(match name {
        "search_body" => {
            let Some(re) = fargs::regex(ctx, name, &args[0], TEXTOPS)? else {
                return Ok(-1);
            };
            let Some(body) = body_text(ctx, name) else {
                return Ok(-1);
            };
            ok(!body.is_empty() && re.is_match(body))
        }
        "search_str" => {
            let subject = text(ctx, &args[0])?;
            let re = text(ctx, &args[1])?;
            match compile_regex_with(&re, TEXTOPS) {
                Ok(r) => ok(r.is_match(&subject)),
                Err(why) => {
                    ctx.error(&format!("search_str: bad regular expression `{re}`: {why}"));
                    -1
                }
            }
        }
        "search_hf" => {
            let hname = literal(ctx, &args[0])?;
            let Some(re) = fargs::regex(ctx, name, &args[1], TEXTOPS)? else {
                return Ok(-1);
            };
            let flag = literal(ctx, &args[2])?;
            let found = selected_headers(msg, &hname, &flag)
                .iter()
                .any(|h| re.is_match(&h.value().to_string_lossy()));
            ok(found)
        }
        "search_append_body" => {
            let Some(re) = fargs::regex(ctx, name, &args[0], TEXTOPS)? else {
                return Ok(-1);
            };
            let add = literal(ctx, &args[1])?;
            let Some(body) = body_text(ctx, name) else {
                return Ok(-1);
            };
            let start = msg.body_span().start;
            match re.find(body) {
                Some(m) if !body.is_empty() => insert(ctx, name, start + m.end(), add),
                _ => -1,
            }
        }
        "replace" | "replace_all" | "replace_hdrs" => {
            let Some(re) = fargs::regex(ctx, name, &args[0], TEXTOPS)? else {
                return Ok(-1);
            };
            let with = literal(ctx, &args[1])?;
            let Some(all) = message_text(ctx, name) else {
                return Ok(-1);
            };
            let start = after_start_line(msg);
            let end = if name == "replace_hdrs" {
                msg.headers_end()
            } else {
                all.len()
            };
            replace_matches(
                ctx,
                name,
                &re,
                &all[start..end],
                start,
                &with,
                name == "replace_all",
            )
        }
        "replace_body" | "replace_body_all" | "replace_body_atonce" => {
            let flags = if name == "replace_body_atonce" {
                ICASE
            } else {
                TEXTOPS
            };
            let Some(re) = fargs::regex(ctx, name, &args[0], flags)? else {
                return Ok(-1);
            };
            let with = literal(ctx, &args[1])?;
            let Some(body) = body_text(ctx, name) else {
                return Ok(-1);
            };
            if body.is_empty() {
                return Ok(-1);
            }
            let start = msg.body_span().start;
            replace_matches(ctx, name, &re, body, start, &with, name != "replace_body")
        }
        "subst" | "subst_body" => {
            let Some(se) = subst_arg(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            let Some(all) = message_text(ctx, name) else {
                return Ok(-1);
            };
            let (start, end) = if name == "subst" {
                (after_start_line(msg), all.len())
            } else {
                let b = msg.body_span();
                if b.is_empty() {
                    return Ok(-1);
                }
                (b.start, b.end)
            };
            subst_region(ctx, name, &se, &all[start..end], start)?
        }
        "subst_hf" => {
            let hname = literal(ctx, &args[0])?;
            let Some(se) = subst_arg(ctx, name, &args[1])? else {
                return Ok(-1);
            };
            let flag = literal(ctx, &args[2])?;
            let mut rc = -1;
            for h in selected_headers(msg, &hname, &flag) {
                let value = h.value().to_string_lossy().into_owned();
                if subst_region(ctx, name, &se, &value, h.value_span().start)? > 0 {
                    rc = 1;
                }
            }
            rc
        }
        "subst_uri" => {
            let Some(se) = subst_arg(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            let uri = ctx.ruri.clone();
            match substituted(ctx, name, &se, &uri)? {
                Some(new) => {
                    // Kamailio takes the result as the new URI unchecked;
                    // one the engine could not forward is refused here.
                    if super::pv::set_ruri(ctx, &new) {
                        1
                    } else {
                        ctx.error(&format!("subst_uri: `{new}` is not a valid Request-URI"));
                        -1
                    }
                }
                None => -1,
            }
        }
        "subst_user" => {
            let Some(se) = subst_arg(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            let Some(parts) = super::uri::UriParts::split(&ctx.ruri) else {
                ctx.error("subst_user: the Request-URI is not a SIP URI");
                return Ok(-1);
            };
            let user = parts.user.clone().unwrap_or_default();
            match substituted(ctx, name, &se, &user)? {
                Some(new) => ok(super::pv::edit_ruri(ctx, name, |u| {
                    if new.is_empty() {
                        u.user = None;
                        u.password = None;
                    } else {
                        u.user = Some(new.clone());
                    }
                    true
                })),
                None => -1,
            }
        }
        "filter_body" => {
            let ct = literal(ctx, &args[0])?;
            filter_body(ctx, &ct)
        }
        "append_to_reply" => {
            let t = text(ctx, &args[0])?;
            match header_lines(&t) {
                Some(lines) => {
                    ctx.state.reply_headers.extend(lines);
                    1
                }
                None => {
                    ctx.error(&format!(
                        "append_to_reply: `{}` is not header lines ending in CRLF",
                        t.escape_debug()
                    ));
                    -1
                }
            }
        }
        "insert_hf" => {
            let t = text(ctx, &args[0])?;
            let at = match args.get(1) {
                None => HeaderPosition::First,
                Some(a) => {
                    let n = literal(ctx, a)?;
                    // No such header: before the first (Kamailio 5.6.3).
                    match first_named(msg, &n) {
                        Some(i) => HeaderPosition::Before(i),
                        None => HeaderPosition::First,
                    }
                }
            };
            add_raw_headers(ctx, name, &t, at)
        }
        "append_urihf" => {
            let prefix = literal(ctx, &args[0])?;
            let suffix = literal(ctx, &args[1])?;
            let t = format!("{prefix}{}{suffix}", ctx.ruri);
            add_raw_headers(ctx, name, &t, HeaderPosition::Last)
        }
        "is_present_hf_pv" => {
            let n = text(ctx, &args[0])?;
            ok(first_named(msg, &n).is_some())
        }
        "is_present_hf_re" | "is_present_hf_re_pv" => {
            let Some(re) = name_regex(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            ok(msg
                .headers()
                .any(|h| re.is_match(&h.raw_name().to_string_lossy())))
        }
        "remove_hf_pv" => {
            let n = text(ctx, &args[0])?;
            let Some(hn) = HeaderName::new(n.trim()) else {
                return Ok(-1);
            };
            remove_where(ctx, name, |h| h.name() == &hn)
        }
        "remove_hf_re" | "remove_hf_re_pv" => {
            let Some(re) = name_regex(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            remove_where(ctx, name, |h| re.is_match(&h.raw_name().to_string_lossy()))
        }
        "remove_hf_exp" | "remove_hf_exp_pv" => {
            let Some(matching) = name_regex(ctx, name, &args[0])? else {
                return Ok(-1);
            };
            let Some(skip) = name_regex(ctx, name, &args[1])? else {
                return Ok(-1);
            };
            remove_where(ctx, name, |h| {
                let n = h.raw_name().to_string_lossy().into_owned();
                matching.is_match(&n) && !skip.is_match(&n)
            })
        }
        // 1 removed; 2 no such header at that index (Kamailio 5.6.3).
        "remove_hf_idx" => {
            let n = text(ctx, &args[0])?;
            let idx = ctx.eval(&args[1])?.as_int();
            let Some(hn) = HeaderName::new(n.trim()) else {
                return Ok(-1);
            };
            let all: Vec<usize> = msg.headers_named(&hn).map(|h| h.index()).collect();
            let pick = if idx < 0 {
                usize::try_from(-idx)
                    .ok()
                    .and_then(|back| all.len().checked_sub(back))
            } else {
                usize::try_from(idx).ok().filter(|&i| i < all.len())
            };
            match pick.map(|i| all[i]) {
                // Kamailio deletes it again (a no-op on the output).
                Some(i) if ctx.removed.contains(&i) => 1,
                Some(i) => match ctx.editor.remove_header(i) {
                    Ok(()) => {
                        ctx.removed.insert(i);
                        1
                    }
                    Err(e) => {
                        ctx.error(&format!("remove_hf_idx: {e}"));
                        -1
                    }
                },
                None => 2,
            }
        }
        "has_body" => {
            let mime = match args.first() {
                Some(a) => Some(literal(ctx, a)?),
                None => None,
            };
            has_body(msg, mime.as_deref())
        }
        "is_privacy" => {
            let want = literal(ctx, &args[0])?.trim().to_ascii_lowercase();
            let found = HeaderName::new("Privacy").is_some_and(|hn| {
                msg.headers_named(&hn).any(|h| {
                    h.value()
                        .to_string_lossy()
                        .split(';')
                        .any(|v| v.trim().eq_ignore_ascii_case(&want))
                })
            });
            ok(found)
        }
        "is_audio_on_hold" => audio_on_hold(msg),
        "in_list" | "in_list_prefix" => {
            let subject = text(ctx, &args[0])?;
            let list = text(ctx, &args[1])?;
            let sep = literal(ctx, &args[2])?;
            let Some(sep) = sep.chars().next() else {
                ctx.error(&format!("{name}: empty separator"));
                return Ok(-1);
            };
            if subject.is_empty() {
                ctx.error(&format!("{name}: the subject is empty"));
                return Ok(-1);
            }
            // Items are trimmed of white space, as Kamailio does.
            let ws: &[char] = &[' ', '\t', '\r', '\n'];
            let mut items = list.split(sep).map(|i| i.trim_matches(ws));
            ok(if name == "in_list" {
                items.any(|i| i == subject)
            } else {
                items.any(|i| !i.is_empty() && subject.starts_with(i))
            })
        }
        "cmp_str" | "cmp_istr" => {
            let mut a = text(ctx, &args[0])?;
            let mut b = text(ctx, &args[1])?;
            if name == "cmp_istr" {
                a = a.to_ascii_lowercase();
                b = b.to_ascii_lowercase();
            }
            // Kamailio: 1 equal, -1 first greater, -2 first smaller.
            match a.as_bytes().cmp(b.as_bytes()) {
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Greater => -1,
                std::cmp::Ordering::Less => -2,
            }
        }
        "starts_with" | "ends_with" => {
            let a = text(ctx, &args[0])?;
            let b = text(ctx, &args[1])?;
            if a.len() < b.len() {
                return Ok(-1);
            }
            let part = if name == "starts_with" {
                &a.as_bytes()[..b.len()]
            } else {
                &a.as_bytes()[a.len() - b.len()..]
            };
            // Kamailio: 1 equal, -1 the start sorts after, -2 before.
            match part.cmp(b.as_bytes()) {
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Greater => -1,
                std::cmp::Ordering::Less => -2,
            }
        }
        // The position of the match plus one (Kamailio 5.6.3), -1 none.
        "str_find" | "str_ifind" => {
            let mut hay = text(ctx, &args[0])?;
            let mut needle = text(ctx, &args[1])?;
            if name == "str_ifind" {
                hay = hay.to_ascii_lowercase();
                needle = needle.to_ascii_lowercase();
            }
            match hay.find(&needle) {
                Some(i) if !needle.is_empty() => i as i64 + 1,
                _ => -1,
            }
        }
        "set_body" => {
            let body = text(ctx, &args[0])?;
            let ct = text(ctx, &args[1])?;
            set_body(ctx, &body, &ct)
        }
        "set_reply_body" => {
            let body = text(ctx, &args[0])?;
            let ct = text(ctx, &args[1])?;
            if body.is_empty() || ct.is_empty() {
                ctx.error("set_reply_body: empty body or content type");
                return Ok(-1);
            }
            ctx.state.reply_body = Some((ct, body));
            1
        }
        _ => {
            ctx.error(&format!(
                "`textops.{name}` has no handler; the script stops"
            ));
            return Err(Halt::Drop);
        }
    })
}

/// The message as text; `None` (logged) if it is not UTF-8.
fn message_text<'m>(ctx: &Ctx<'_, 'm>, func: &str) -> Option<&'m str> {
    match std::str::from_utf8(ctx.msg.as_bytes()) {
        Ok(t) => Some(t),
        Err(_) => {
            ctx.error(&format!("{func}: the message is not UTF-8 text"));
            None
        }
    }
}

fn body_text<'m>(ctx: &Ctx<'_, 'm>, func: &str) -> Option<&'m str> {
    let all = message_text(ctx, func)?;
    all.get(ctx.msg.body_span().range())
}

/// Where the header fields start: after the start line and its line end
/// (Kamailio's textops leave the start line alone).
fn after_start_line(msg: &SipMessage) -> usize {
    msg.as_bytes()
        .iter()
        .position(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn insert(ctx: &mut Ctx, func: &str, at: usize, data: String) -> i64 {
    match ctx.editor.lumps_mut().insert_after(at, data) {
        Ok(()) => 1,
        Err(e) => {
            ctx.error(&format!("{func}: {e}"));
            -1
        }
    }
}

fn replace_span(ctx: &mut Ctx, func: &str, start: usize, end: usize, data: String) -> bool {
    match ctx.editor.lumps_mut().replace(Span::new(start, end), data) {
        Ok(()) => true,
        Err(e) => {
            ctx.error(&format!("{func}: {e}"));
            false
        }
    }
}

/// Replaces the first (or every) match of `re` in `region`, which starts
/// at `offset` of the message.
fn replace_matches(
    ctx: &mut Ctx,
    func: &str,
    re: &Regex,
    region: &str,
    offset: usize,
    with: &str,
    all: bool,
) -> i64 {
    let mut spans = Vec::new();
    for m in re.find_iter(region) {
        // Only the repeating forms refuse an empty match; `replace` inserts
        // there (Kamailio 5.6.3).
        if all && m.start() == m.end() {
            ctx.error(&format!("{func}: the expression matched an empty string"));
            return -1;
        }
        spans.push((m.start(), m.end()));
        if !all {
            break;
        }
    }
    if spans.is_empty() {
        return -1;
    }
    for (s, e) in spans {
        if !replace_span(ctx, func, offset + s, offset + e, with.to_string()) {
            return -1;
        }
    }
    1
}

fn subst_arg(ctx: &mut Ctx, func: &str, v: &Value) -> Result<Option<Subst>, Halt> {
    let expr = literal(ctx, v)?;
    Ok(match Subst::parse(&expr) {
        Ok(s) => Some(s),
        Err(why) => {
            ctx.error(&format!("{func}: {why}"));
            None
        }
    })
}

/// Runs a substitution over `region` (at `offset` of the message) as
/// lumps: 1 if anything was replaced.
fn subst_region(
    ctx: &mut Ctx,
    func: &str,
    se: &Subst,
    region: &str,
    offset: usize,
) -> Result<i64, Halt> {
    let found = match se.run(ctx, region)? {
        Ok(f) => f,
        Err(why) => {
            ctx.error(&format!("{func}: {why}"));
            return Ok(-1);
        }
    };
    if found.is_empty() {
        return Ok(-1);
    }
    for (s, e, new) in found {
        if !replace_span(ctx, func, offset + s, offset + e, new) {
            return Ok(-1);
        }
    }
    Ok(1)
}

/// `input` with the substitution applied, `None` if nothing matched.
fn substituted(ctx: &mut Ctx, func: &str, se: &Subst, input: &str) -> Result<Option<String>, Halt> {
    let found = match se.run(ctx, input)? {
        Ok(f) => f,
        Err(why) => {
            ctx.error(&format!("{func}: {why}"));
            return Ok(None);
        }
    };
    if found.is_empty() {
        return Ok(None);
    }
    let mut out = String::new();
    let mut pos = 0;
    for (s, e, new) in found {
        out.push_str(&input[pos..s]);
        out.push_str(&new);
        pos = e;
    }
    out.push_str(&input[pos..]);
    Ok(Some(out))
}

/// Header fields called `name` chosen by a `search_hf`/`subst_hf` flag:
/// `f` the first, `l` the last, anything else (`a`, or any other text, as
/// Kamailio takes it) all.
fn selected_headers<'m>(msg: &'m SipMessage, name: &str, flag: &str) -> Vec<HeaderRef<'m>> {
    let Some(hn) = HeaderName::new(name.trim()) else {
        return Vec::new();
    };
    let all: Vec<HeaderRef<'m>> = msg.headers().filter(|h| h.name() == &hn).collect();
    match flag {
        "f" => all.into_iter().take(1).collect(),
        "l" => all.into_iter().last().into_iter().collect(),
        _ => all,
    }
}

fn first_named(msg: &SipMessage, name: &str) -> Option<usize> {
    let hn = HeaderName::new(name.trim())?;
    let found = msg.headers_named(&hn).next().map(|h| h.index());
    found
}

/// A header-name regular expression (case-insensitive, as textops
/// compiles them); the `_pv` variants read it from variables.
fn name_regex(ctx: &mut Ctx, func: &str, v: &Value) -> Result<Option<Regex>, Halt> {
    if func.ends_with("_pv") {
        let re = text(ctx, v)?;
        return Ok(match compile_regex_with(&re, ICASE) {
            Ok(r) => Some(r),
            Err(why) => {
                ctx.error(&format!("{func}: bad regular expression `{re}`: {why}"));
                None
            }
        });
    }
    fargs::regex(ctx, func, v, ICASE)
}

/// Removes every header field `pick` selects: 1 if any, -1 if none.
fn remove_where(ctx: &mut Ctx, func: &str, pick: impl Fn(&HeaderRef) -> bool) -> i64 {
    let msg = ctx.msg;
    let idx: Vec<usize> = msg
        .headers()
        .filter(|h| pick(h))
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
            Err(e) => ctx.error(&format!("{func}: {e}")),
        }
    }
    ok(count > 0)
}

/// `Name: value CRLF` lines as (name, value); `None` unless the text is
/// one or more header fields each ending in CRLF (or LF).
fn header_lines(t: &str) -> Option<Vec<(String, String)>> {
    if !t.ends_with('\n') {
        return None;
    }
    let mut out = Vec::new();
    for line in t.split_inclusive('\n') {
        let line = line.trim_end_matches('\n').trim_end_matches('\r');
        let (n, v) = line.split_once(':')?;
        let n = n.trim();
        if n.is_empty() || n.contains(char::is_whitespace) {
            return None;
        }
        out.push((n.to_string(), v.trim().to_string()));
    }
    (!out.is_empty()).then_some(out)
}

/// `insert_hf`/`append_urihf`: the text goes in as written (it must be
/// whole header lines, as Kamailio expects; anything else would break the
/// message, so it is refused).
fn add_raw_headers(ctx: &mut Ctx, func: &str, t: &str, at: HeaderPosition) -> i64 {
    if header_lines(t).is_none() {
        ctx.error(&format!(
            "{func}: `{}` is not header lines ending in CRLF",
            t.escape_debug()
        ));
        return -1;
    }
    let msg = ctx.msg;
    let result = match at {
        HeaderPosition::First | HeaderPosition::Before(0) if msg.header_count() == 0 => ctx
            .editor
            .lumps_mut()
            .insert_before(msg.headers_end(), t.to_string()),
        HeaderPosition::First => {
            let start = msg.header(0).map(|h| h.line_span().start).unwrap_or(0);
            ctx.editor.lumps_mut().insert_before(start, t.to_string())
        }
        HeaderPosition::Before(i) => {
            let start = msg.header(i).map(|h| h.line_span().start).unwrap_or(0);
            ctx.editor.lumps_mut().insert_before(start, t.to_string())
        }
        HeaderPosition::After(i) => {
            let end = msg.header(i).map(|h| h.line_span().end).unwrap_or(0);
            ctx.editor.lumps_mut().insert_after(end, t.to_string())
        }
        HeaderPosition::Last => ctx
            .editor
            .lumps_mut()
            .insert_after(msg.headers_end(), t.to_string()),
    };
    match result {
        Ok(()) => 1,
        Err(e) => {
            ctx.error(&format!("{func}: {e}"));
            -1
        }
    }
}

/// The first Content-Type value's `type/subtype`, lower-cased.
fn content_type(msg: &SipMessage) -> Option<String> {
    let h = msg.headers_named(&HeaderName::ContentType).next()?;
    let v = h.value().to_string_lossy().into_owned();
    let mime = v.split(';').next().unwrap_or_default();
    Some(mime.trim().to_ascii_lowercase())
}

/// `has_body([mime])`: a Content-Length that is not 0 (no Content-Length:
/// no body, as Kamailio decides); with a mime, Content-Type must be it (no
/// Content-Type counts as `application/sdp`).
fn has_body(msg: &SipMessage, mime: Option<&str>) -> i64 {
    if matches!(msg.content_length(), None | Some(0)) {
        return -1;
    }
    let Some(mime) = mime.map(|m| m.trim().to_ascii_lowercase()) else {
        return 1;
    };
    if mime.is_empty() || mime == "0" {
        return 1;
    }
    let have = content_type(msg).unwrap_or_else(|| "application/sdp".into());
    ok(have == mime)
}

/// `is_audio_on_hold()`: 1 an audio stream with a null connection address
/// (RFC 2543 hold), 2 one that is `sendonly` or `inactive` (RFC 3264), -1
/// none (or no SDP body).
fn audio_on_hold(msg: &SipMessage) -> i64 {
    if has_body(msg, Some("application/sdp")) < 0 {
        return -1;
    }
    let body = msg.body().to_string_lossy().into_owned();
    let mut session_c = None;
    let mut session_dir = None;
    // (is audio, connection, direction) per m= section.
    let mut streams: Vec<(bool, Option<String>, Option<String>)> = Vec::new();
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k {
            "m" => streams.push((v.starts_with("audio"), None, None)),
            "c" => {
                let addr = v.split_whitespace().nth(2).map(|a| a.to_string());
                match streams.last_mut() {
                    Some(s) => s.1 = addr,
                    None => session_c = addr,
                }
            }
            "a" if matches!(v, "sendonly" | "inactive" | "sendrecv" | "recvonly") => {
                match streams.last_mut() {
                    Some(s) => s.2 = Some(v.to_string()),
                    None => session_dir = Some(v.to_string()),
                }
            }
            _ => {}
        }
    }
    // A stream both `sendonly` and on a null address counts as RFC 3264
    // (what Kamailio 5.6.3 answers).
    for (audio, c, dir) in streams {
        if !audio {
            continue;
        }
        let dir = dir.or_else(|| session_dir.clone());
        if matches!(dir.as_deref(), Some("sendonly" | "inactive")) {
            return 2;
        }
        let c = c.or_else(|| session_c.clone());
        if c.as_deref()
            .is_some_and(|a| a.split('/').next() == Some("0.0.0.0"))
        {
            return 1;
        }
    }
    -1
}

/// `set_body(txt, type)`: the body replaced, Content-Type replaced (or
/// added) when it differs, Content-Length fixed when the message is built.
fn set_body(ctx: &mut Ctx, body: &str, ct: &str) -> i64 {
    if body.is_empty() || ct.is_empty() {
        ctx.error("set_body: empty body or content type");
        return -1;
    }
    let msg = ctx.msg;
    if let Err(e) = ctx.editor.set_body(body.to_string()) {
        ctx.error(&format!("set_body: {e}"));
        return -1;
    }
    let current = msg.headers_named(&HeaderName::ContentType).next();
    if current
        .as_ref()
        .is_some_and(|h| h.value().as_bytes() == ct.as_bytes())
    {
        return 1;
    }
    if let Some(h) = current {
        if !ctx.removed.contains(&h.index()) {
            if let Err(e) = ctx.editor.remove_header(h.index()) {
                ctx.error(&format!("set_body: {e}"));
                return -1;
            }
            ctx.removed.insert(h.index());
        }
    }
    match ctx
        .editor
        .add_header(HeaderPosition::Last, "Content-Type", ct)
    {
        Ok(()) => 1,
        Err(e) => {
            ctx.error(&format!("set_body: {e}"));
            -1
        }
    }
}

/// `filter_body(type)`: in a `multipart/mixed` body, keeps only the
/// content of the first part of that type (its headers and the other
/// parts go); the script fixes Content-Type itself.
fn filter_body(ctx: &mut Ctx, ct: &str) -> i64 {
    let msg = ctx.msg;
    let span = msg.body_span();
    if span.is_empty() {
        return -1;
    }
    if content_type(msg).as_deref() != Some("multipart/mixed") {
        ctx.log(super::level::L_WARN, "filter_body: body not multipart\n");
        return -1;
    }
    let Some(boundary) = boundary(msg) else {
        ctx.error("filter_body: no boundary in Content-Type");
        return -1;
    };
    let body = msg.body();
    let b = body.as_bytes();
    let want = format!("Content-Type: {ct}");
    // Lines, with their offsets in the body.
    let mut pos = 0;
    while pos < b.len() {
        let end = find(&b[pos..], b"\r\n").map(|i| pos + i);
        let line_end = end.unwrap_or(b.len());
        let line = &b[pos..line_end];
        if line.len() >= want.len() && line[..want.len()].eq_ignore_ascii_case(want.as_bytes()) {
            if line.len() != want.len() {
                return -1;
            }
            let Some(e) = end else {
                return -1;
            };
            let mut content = e + 2;
            while content < b.len() && (b[content] == b'\r' || b[content] == b'\n') {
                content += 1;
            }
            let delim = format!("--{boundary}");
            let Some(rel) = find_line_start(&b[content..], delim.as_bytes()) else {
                ctx.error("filter_body: boundary not found after the part");
                return -1;
            };
            // Drop the CRLF before the boundary too.
            let cut_from = (content + rel).saturating_sub(2).max(content);
            let ok1 = replace_span(
                ctx,
                "filter_body",
                span.start,
                span.start + content,
                String::new(),
            );
            let ok2 = ok1
                && replace_span(
                    ctx,
                    "filter_body",
                    span.start + cut_from,
                    span.end,
                    String::new(),
                );
            return ok(ok2);
        }
        match end {
            Some(e) => pos = e + 2,
            None => break,
        }
    }
    -1
}

fn boundary(msg: &SipMessage) -> Option<String> {
    let h = msg.headers_named(&HeaderName::ContentType).next()?;
    let v = h.value().to_string_lossy().into_owned();
    v.split(';').skip(1).find_map(|p| {
        let (n, val) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| val.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Offset of the first line of `b` that starts with `prefix`.
fn find_line_start(b: &[u8], prefix: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        if b[pos..].starts_with(prefix) {
            return Some(pos);
        }
        pos += find(&b[pos..], b"\r\n")? + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_line_texts() {
        assert_eq!(
            header_lines("A: 1\r\nB:2\r\n").unwrap(),
            [("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert!(header_lines("A: 1").is_none());
        assert!(header_lines("no colon\r\n").is_none());
        assert!(header_lines("\r\n").is_none());
    }
}
