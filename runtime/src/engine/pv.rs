//! Pseudo-variables: reading the message and the script state, and the
//! writable ones (`$ru $rU $rd $rp $du $var $avp`).

use super::exec::{Ctx, Halt};
use super::msgpv;
use super::select::Select;
use super::transform;
use super::uri::UriParts;
use super::value::Val;
use super::xavp::{self, XavpName};
use crate::sip::{HeaderName, NameAddr, SipMessage};
use sercompat_compiler::ir::pv::{parse_pv, AvpRef, Index, PvRef};

/// The classes [`read`] understands (aliases included).
const READABLE: &[&str] = &[
    "ru",
    "ruri",
    "rU",
    "ruri.user",
    "rd",
    "ruri.domain",
    "rp",
    "ou",
    "ouri",
    "oU",
    "od",
    "du",
    "duri",
    "fu",
    "from",
    "fU",
    "from.user",
    "fd",
    "from.domain",
    "ft",
    "tu",
    "to",
    "tU",
    "to.user",
    "td",
    "to.domain",
    "tt",
    "si",
    "sp",
    "Ri",
    "Rp",
    "pr",
    "proto",
    "rm",
    "ci",
    "cs",
    "hdr",
    "ua",
    "ml",
    "mb",
    "rv",
    "mf",
    "var",
    "avp",
    "rc",
    "retcode",
    "?",
    "null",
    "shv",
    "xavp",
    "sel",
    "cnt",
];

const WRITABLE: &[&str] = &[
    "ru",
    "ruri",
    "rU",
    "ruri.user",
    "rd",
    "ruri.domain",
    "rp",
    "du",
    "duri",
    "var",
    "avp",
    "shv",
    "xavp",
];

/// The catalog keys (`pv:KEY`) this module reads itself; the message
/// and socket classes of [`msgpv::CLASSES`] are the rest.
const OWN_KEYS: &[&str] = &[
    "ru", "rU", "rd", "rp", "ou", "oU", "od", "du", "fu", "fU", "fd", "ft", "tu", "tU", "td", "tt",
    "si", "sp", "Ri", "Rp", "pr", "rm", "ci", "cs", "hdr", "ua", "ml", "mb", "rv", "mf", "var",
    "avp", "rc", "retcode", "shv", "xavp", "sel", "cnt",
];

/// The catalog keys (`pv:KEY`) of every pseudo-variable the engine reads.
pub fn implemented_keys() -> impl Iterator<Item = &'static str> {
    OWN_KEYS.iter().chain(msgpv::CLASSES).copied()
}

pub(crate) fn writable(class: &str) -> bool {
    WRITABLE.contains(&class)
}

/// Whether the engine reads `p` exactly as written.
pub(crate) fn check(p: &PvRef) -> Result<(), String> {
    let class = p.class.as_str();
    if !READABLE.contains(&class) && !msgpv::CLASSES.contains(&class) {
        return Err(format!(
            "pseudo-variable `${}` is not supported by the engine yet",
            p.class
        ));
    }
    for t in &p.transforms {
        transform::check(t)?;
    }
    if matches!(
        class,
        "hdr" | "var" | "avp" | "shv" | "xavp" | "hdrc" | "TV" | "hfl" | "hflc" | "sel" | "cnt"
    ) && p.inner.as_deref().is_none_or(|i| i.trim().is_empty())
    {
        return Err(format!("`${}` needs a name in parentheses", p.class));
    }
    if class == "xavp" {
        XavpName::parse(p.inner.as_deref().unwrap_or_default())?;
    }
    if class == "TV" && !msgpv::TV_FORMS.contains(&p.inner.as_deref().unwrap_or_default().trim()) {
        return Err(format!(
            "`$TV({})` is not one of $TV(s|u|sn|un|Sn)",
            p.inner.as_deref().unwrap_or_default()
        ));
    }
    if class == "af" {
        let form = p.inner.as_deref().unwrap_or_default().trim();
        if !msgpv::AF_FORMS.contains(&form) {
            return Err(format!("`$af({form})` is not one of $af(id|name)"));
        }
    }
    if class == "sel" {
        Select::parse(&format!("@{}", p.inner.as_deref().unwrap_or_default()))?;
    }
    if class == "cnt" {
        let inner = p.inner.as_deref().unwrap_or_default().trim();
        let counted = parse_pv(inner).map_err(|why| format!("`$cnt({inner})`: {why}"))?;
        if !matches!(counted.class.as_str(), "avp" | "xavp") || counted.index.is_some() {
            return Err(format!(
                "`$cnt({inner})`: the engine counts `$avp(name)` and `$xavp(name)` only"
            ));
        }
        check(&counted)?;
    }
    if p.index.is_some() && !matches!(class, "hdr" | "avp" | "hfl") {
        return Err(format!("`${}` cannot be indexed", p.class));
    }
    if let Some(Index::Var(inner)) = &p.index {
        check(inner)?;
    }
    Ok(())
}

/// Whether `p` can be assigned (checked after [`check`]).
pub(crate) fn check_write(p: &PvRef) -> Result<(), String> {
    if !writable(&p.class) {
        return Err(format!("the engine cannot assign to `${}`", p.class));
    }
    if !p.transforms.is_empty() {
        return Err(format!(
            "cannot assign to `${}` with a transformation",
            p.class
        ));
    }
    Ok(())
}

fn text(s: impl AsRef<[u8]>) -> Val {
    Val::Str(String::from_utf8_lossy(s.as_ref()).into_owned())
}

fn opt(v: Option<String>) -> Val {
    v.map_or(Val::Null, Val::Str)
}

fn uri_user(u: &str) -> Val {
    opt(UriParts::split(u).and_then(|p| p.user))
}

fn uri_host(u: &str) -> Val {
    opt(UriParts::split(u).map(|p| p.host))
}

fn uri_port(u: &str) -> Val {
    match UriParts::split(u) {
        Some(p) => match p.port {
            Some(port) => Val::Int(super::value::str_to_int(&port)),
            None => Val::Int(if p.is_secure() { 5061 } else { 5060 }),
        },
        None => Val::Null,
    }
}

fn name_addr(msg: &SipMessage, from: bool) -> Option<&NameAddr> {
    let h = if from {
        msg.from_header()
    } else {
        msg.to_header()
    };
    h.ok().flatten()
}

fn resolve_index(ctx: &mut Ctx, idx: Option<&Index>) -> Result<Option<Index>, Halt> {
    Ok(match idx {
        Some(Index::Var(p)) => Some(Index::At(read(ctx, p)?.as_int())),
        other => other.cloned(),
    })
}

fn pick<T: Clone>(items: &[T], idx: Option<&Index>) -> Option<T> {
    match idx {
        None | Some(Index::All) => items.first().cloned(),
        Some(Index::At(n)) => {
            let i = if *n < 0 {
                items.len().checked_sub(n.unsigned_abs() as usize)?
            } else {
                *n as usize
            };
            items.get(i).cloned()
        }
        Some(Index::Var(_)) => None,
    }
}

/// The value of `p`, transformations applied.
pub(crate) fn read(ctx: &mut Ctx, p: &PvRef) -> Result<Val, Halt> {
    let v = read_base(ctx, p)?;
    if p.transforms.is_empty() {
        return Ok(v);
    }
    transform::apply_all(ctx, &p.transforms, v)
}

fn read_base(ctx: &mut Ctx, p: &PvRef) -> Result<Val, Halt> {
    let msg = ctx.msg;
    Ok(match p.class.as_str() {
        "ru" | "ruri" => Val::Str(ctx.ruri.clone()),
        "rU" | "ruri.user" => uri_user(&ctx.ruri),
        "rd" | "ruri.domain" => uri_host(&ctx.ruri),
        "rp" => uri_port(&ctx.ruri),
        "ou" | "ouri" => Val::Str(ctx.original_ruri.clone()),
        "oU" => uri_user(&ctx.original_ruri),
        "od" => uri_host(&ctx.original_ruri),
        "du" | "duri" => opt(ctx.dst_uri.clone()),
        "fu" | "from" | "tu" | "to" => {
            opt(name_addr(msg, p.class.starts_with('f')).map(|a| a.uri().to_string()))
        }
        "fU" | "from.user" | "tU" | "to.user" => match name_addr(msg, p.class.starts_with('f')) {
            Some(a) => uri_user(&a.uri().to_string()),
            None => Val::Null,
        },
        "fd" | "from.domain" | "td" | "to.domain" => {
            match name_addr(msg, p.class.starts_with('f')) {
                Some(a) => uri_host(&a.uri().to_string()),
                None => Val::Null,
            }
        }
        "ft" | "tt" => opt(name_addr(msg, p.class == "ft")
            .and_then(|a| a.tag())
            .filter(|t| !t.is_empty())
            .map(|t| t.to_string())),
        "si" => Val::Str(ctx.recv.src.ip().to_string()),
        "sp" => Val::Int(ctx.recv.src.port() as i64),
        "Ri" => Val::Str(ctx.recv.dst.ip().to_string()),
        "Rp" => Val::Int(ctx.recv.dst.port() as i64),
        "pr" | "proto" => Val::str(ctx.recv.proto.name()),
        "rm" => match msg.method() {
            Some(m) => text(m.as_bytes()),
            None => match msg.cseq() {
                Ok(Some(c)) => text(c.method().as_bytes()),
                _ => Val::Null,
            },
        },
        "ci" => match msg.call_id() {
            Ok(Some(id)) => text(id.as_bytes()),
            _ => Val::Null,
        },
        "cs" => match msg.cseq() {
            Ok(Some(c)) => Val::Int(c.number() as i64),
            _ => Val::Null,
        },
        "ua" => header(ctx, "User-Agent", None)?,
        "hdr" => {
            let idx = resolve_index(ctx, p.index.as_ref())?;
            header(ctx, p.inner.as_deref().unwrap_or_default(), idx.as_ref())?
        }
        "ml" => Val::Int(msg.as_bytes().len() as i64),
        "mb" => text(msg.as_bytes()),
        "rv" => {
            let line = msg.start_line().to_string_lossy().into_owned();
            opt(line.rsplit(' ').next().map(str::to_string))
        }
        "mf" => Val::Int(ctx.flags as i64),
        "var" => ctx
            .vars
            .get(p.inner.as_deref().unwrap_or_default())
            .cloned()
            .unwrap_or(Val::Int(0)),
        "avp" => {
            let key = avp_key(p.inner.as_deref().unwrap_or_default());
            read_avp(ctx, &key, p.index.as_ref())?
        }
        "rc" | "retcode" | "?" => Val::Int(ctx.rc),
        "shv" => ctx
            .cfg
            .shared_vars
            .get(p.inner.as_deref().unwrap_or_default().trim()),
        "xavp" => match XavpName::parse(p.inner.as_deref().unwrap_or_default()) {
            Ok(name) => xavp::read(&ctx.xavps, &name),
            Err(_) => Val::Null,
        },
        "sel" => match Select::parse(&format!("@{}", p.inner.as_deref().unwrap_or_default())) {
            Ok(sel) => sel.read(ctx).unwrap_or(Val::Null),
            Err(_) => Val::Null,
        },
        "cnt" => count(ctx, p.inner.as_deref().unwrap_or_default()),
        _ => {
            let idx = resolve_index(ctx, p.index.as_ref())?;
            msgpv::read(ctx, p, idx.as_ref()).unwrap_or(Val::Null)
        }
    })
}

/// The body of header `name` (compact forms match): the first, the N-th
/// (negative from the last), or all joined with `,` for `[*]`.
fn header(ctx: &Ctx, name: &str, idx: Option<&Index>) -> Result<Val, Halt> {
    let Some(hn) = HeaderName::new(name.trim()) else {
        return Ok(Val::Null);
    };
    let values: Vec<String> = ctx
        .msg
        .headers_named(&hn)
        .map(|h| h.value().to_string_lossy().into_owned())
        .collect();
    Ok(match idx {
        Some(Index::All) if !values.is_empty() => Val::Str(values.join(",")),
        _ => opt(pick(&values, idx)),
    })
}

/// `s:name` and `name` are the same string-named AVP; `i:5` is the
/// integer-named one, distinct from the string `s:i:5`.
pub(crate) fn avp_key(inner: &str) -> String {
    let inner = inner.trim();
    match inner.strip_prefix("i:") {
        Some(n) => format!("i:{}", n.trim()),
        None => format!("s:{}", inner.strip_prefix("s:").unwrap_or(inner)),
    }
}

/// A SER AVP (`$f.x`, `$x`): the class is part of the name; `$x` is the
/// string-named AVP `$avp(x)`.
pub(crate) fn avp_key_ser(a: &AvpRef) -> String {
    match &a.class {
        Some(c) => format!("s:{c}.{}", a.name),
        None => format!("s:{}", a.name),
    }
}

/// AVPs are stacks: index 0 (the default) is the newest value.
pub(crate) fn read_avp(ctx: &mut Ctx, key: &str, idx: Option<&Index>) -> Result<Val, Halt> {
    let idx = resolve_index(ctx, idx)?;
    let Some(stack) = ctx.avps.get(key) else {
        return Ok(Val::Null);
    };
    let newest_first: Vec<Val> = stack.iter().rev().cloned().collect();
    if matches!(idx, Some(Index::All)) && !newest_first.is_empty() {
        // Kamailio joins every value, newest first, with ", ".
        let all: Vec<String> = newest_first.iter().map(Val::as_string).collect();
        return Ok(Val::Str(all.join(", ")));
    }
    Ok(pick(&newest_first, idx.as_ref()).unwrap_or(Val::Null))
}

/// `$cnt($avp(x))`, `$cnt($xavp(r))`, `$cnt($xavp(r=>f))`: how many
/// values there are.
fn count(ctx: &Ctx, inner: &str) -> Val {
    let Ok(p) = parse_pv(inner.trim()) else {
        return Val::Int(0);
    };
    let name = p.inner.as_deref().unwrap_or_default();
    let n = match p.class.as_str() {
        "avp" => ctx.avps.get(&avp_key(name)).map_or(0, Vec::len),
        "xavp" => XavpName::parse(name).map_or(0, |n| xavp::count(&ctx.xavps, &n)),
        _ => 0,
    };
    Val::Int(n as i64)
}

pub(crate) fn write_avp(
    ctx: &mut Ctx,
    key: &str,
    idx: Option<&Index>,
    v: Val,
    replace: bool,
) -> Result<(), Halt> {
    // Kamailio (5.6 checked) ignores a numeric index when assigning:
    // `$(avp(x)[1]) = v` adds v on top and `$(avp(x)[1]) = $null` deletes
    // the newest value, as without an index. Only `[*]` differs.
    let all = replace || matches!(idx, Some(Index::All));
    let stack = ctx.avps.entry(key.to_string()).or_default();
    match (v, all) {
        (Val::Null, true) => stack.clear(),
        (Val::Null, false) => {
            stack.pop();
        }
        (v, true) => {
            stack.clear();
            stack.push(v);
        }
        (v, false) => stack.push(v),
    }
    Ok(())
}

pub(crate) fn write(ctx: &mut Ctx, p: &PvRef, v: Val, replace: bool) -> Result<(), Halt> {
    match p.class.as_str() {
        "shv" => ctx
            .cfg
            .shared_vars
            .set(p.inner.as_deref().unwrap_or_default().trim(), v),
        "xavp" => {
            let inner = p.inner.as_deref().unwrap_or_default();
            let res = XavpName::parse(inner).and_then(|n| xavp::write(&mut ctx.xavps, &n, v));
            if let Err(why) = res {
                ctx.error(&format!("$xavp({inner}): {why}"));
            }
        }
        "var" => {
            let v = if v.is_null() { Val::Int(0) } else { v };
            ctx.vars.insert(p.inner.clone().unwrap_or_default(), v);
        }
        "avp" => {
            let key = avp_key(p.inner.as_deref().unwrap_or_default());
            write_avp(ctx, &key, p.index.as_ref(), v, replace)?;
        }
        "du" | "duri" => match v {
            Val::Null => ctx.dst_uri = None,
            v => {
                let s = v.as_string();
                if s.is_empty() {
                    ctx.dst_uri = None;
                } else if crate::sip::Uri::parse(s.as_bytes()).is_ok() {
                    ctx.dst_uri = Some(s);
                } else {
                    ctx.error(&format!("`{s}` is not a valid URI for $du"));
                }
            }
        },
        "ru" | "ruri" => {
            let s = v.as_string();
            if !set_ruri(ctx, &s) {
                ctx.error(&format!("`{s}` is not a valid Request-URI"));
            }
        }
        "rU" | "ruri.user" => {
            let user = (!v.is_null())
                .then(|| v.as_string())
                .filter(|u| !u.is_empty());
            edit_ruri(ctx, "$rU", |u| {
                u.user = user.clone();
                if u.user.is_none() {
                    u.password = None;
                }
                true
            });
        }
        "rd" | "ruri.domain" => {
            let host = v.as_string();
            edit_ruri(ctx, "$rd", |u| {
                u.host = host.clone();
                !host.is_empty()
            });
        }
        "rp" => {
            let port = (!v.is_null())
                .then(|| v.as_string())
                .filter(|p| !p.is_empty());
            edit_ruri(ctx, "$rp", |u| {
                u.port = port.clone();
                port.is_none()
                    || port
                        .as_deref()
                        .and_then(|p| p.parse::<u16>().ok())
                        .is_some()
            });
        }
        _ => ctx.error(&format!("`${}` is not writable", p.class)),
    }
    Ok(())
}

/// Replaces the Request-URI if `s` is a URI the SIP layer accepts.
pub(crate) fn set_ruri(ctx: &mut Ctx, s: &str) -> bool {
    let no_headers = ctx.with_parsed_uri(s, |u| u.as_sip().and_then(|s| s.headers()).is_none());
    if no_headers == Some(true) {
        ctx.ruri = s.to_string();
    }
    no_headers == Some(true)
}

/// Applies `f` to the parts of the current Request-URI and keeps the
/// result if `f` agrees and the new URI parses; logs otherwise. Returns
/// whether the URI changed.
pub(crate) fn edit_ruri(ctx: &mut Ctx, what: &str, f: impl FnOnce(&mut UriParts) -> bool) -> bool {
    // The Request-URI is parsed already (as received, or when the script
    // set it): only its text is split here.
    let is_sip = ctx.with_parsed_uri(&ctx.ruri, |u| u.as_sip().is_some()) == Some(true);
    let Some(mut parts) = is_sip.then(|| UriParts::split_sip(&ctx.ruri)).flatten() else {
        ctx.error(&format!(
            "{what}: the Request-URI `{}` is not a sip/sips URI",
            ctx.ruri
        ));
        return false;
    };
    if !f(&mut parts) {
        ctx.error(&format!("{what}: bad value"));
        return false;
    }
    let new = parts.build();
    if set_ruri(ctx, &new) {
        true
    } else {
        ctx.error(&format!("{what}: `{new}` is not a valid Request-URI"));
        false
    }
}
