//! The pseudo-variables read from the message, the receiving socket and
//! the clock, beyond the basic ones of [`super::pv`]: display names, the
//! identity headers (`$ai $pu $di $re $rt`), body and length (`$rb $cl
//! $cT`), reply status (`$rs $rr`), socket URIs (`$su $Ru`), and time
//! (`$Ts $TS $Tf $TF $TV`).

use super::clock::ctime_utc;
use super::exec::Ctx;
use super::nameaddr::{split_list, NameAddrText};
use super::uri::UriParts;
use super::value::Val;
use super::Proto;
use crate::sip::HeaderName;
use sercompat_compiler::ir::pv::{Index, PvRef};
use std::net::SocketAddr;

/// The classes [`read`] answers (aliases included).
pub(crate) const CLASSES: &[&str] = &[
    "fn",
    "tn",
    "ct",
    "cl",
    "cT",
    "ai",
    "pu",
    "pU",
    "pd",
    "pn",
    "di",
    "re",
    "rt",
    "rz",
    "rs",
    "rr",
    "hdrc",
    "mt",
    "rb",
    "bs",
    "af",
    "su",
    "sut",
    "Ru",
    "Rut",
    "TS",
    "Ts",
    "Tf",
    "TF",
    "TV",
    "op",
    "oP",
    "rP",
    "dd",
    "dp",
    "dP",
    "pp",
    "true",
    "mF",
    "hfl",
    "hflc",
    "T_reply_code",
    "T_reply_reason",
];

/// The `$af(...)` forms.
pub(crate) const AF_FORMS: &[&str] = &["id", "name"];

/// The `$TV(...)` forms.
pub(crate) const TV_FORMS: &[&str] = &["s", "u", "sn", "un", "Sn"];

fn text(s: impl AsRef<[u8]>) -> Val {
    Val::Str(String::from_utf8_lossy(s.as_ref()).into_owned())
}

/// The body of the first header named `name`.
pub(crate) fn first_header(ctx: &Ctx, name: &str) -> Option<String> {
    let hn = HeaderName::new(name)?;
    let body = ctx
        .msg
        .headers_named(&hn)
        .next()
        .map(|h| h.value().to_string_lossy().into_owned());
    body
}

/// What part of a name-addr header to give.
#[derive(Clone, Copy)]
enum Part {
    Uri,
    User,
    Domain,
    Display,
}

/// A header read as a name-addr (the first address of its first
/// occurrence); `$null` when absent or empty.
fn addr_header(ctx: &Ctx, name: &str, part: Part) -> Val {
    let Some(body) = first_header(ctx, name) else {
        return Val::Null;
    };
    let list = split_list(&body);
    let Some(na) = NameAddrText::parse(list[0]) else {
        return Val::Null;
    };
    let out = match part {
        Part::Uri => Some(na.uri.to_string()),
        Part::Display => Some(na.display.to_string()).filter(|d| !d.is_empty()),
        Part::User => UriParts::split(na.uri).and_then(|u| u.user),
        Part::Domain => UriParts::split(na.uri).map(|u| u.host),
    };
    out.map_or(Val::Null, Val::Str)
}

/// Every element of every header named `name`, in order (`Via: a, b` and
/// a second `Via: c` give `a b c`).
pub(crate) fn list_bodies(ctx: &Ctx, name: &str) -> Vec<String> {
    let Some(hn) = HeaderName::new(name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for h in ctx.msg.headers_named(&hn) {
        let v = h.value().to_string_lossy().into_owned();
        out.extend(split_list(&v).into_iter().map(str::to_string));
    }
    out
}

/// Headers whose bodies `$hfl`/`$hflc` split at commas (Kamailio parses
/// these into lists); any other header counts as one body per field.
fn is_list_header(name: &str) -> bool {
    matches!(
        HeaderName::new(name),
        Some(HeaderName::Via | HeaderName::Route | HeaderName::RecordRoute | HeaderName::Contact)
    )
}

/// `$hfl(name)[idx]`: one body of a list header (`[*]`: all, joined).
fn hfl(ctx: &Ctx, name: &str, idx: Option<&Index>) -> Val {
    let bodies: Vec<String> = if is_list_header(name) {
        list_bodies(ctx, name)
    } else {
        match HeaderName::new(name) {
            Some(hn) => ctx
                .msg
                .headers_named(&hn)
                .map(|h| h.value().to_string_lossy().into_owned())
                .collect(),
            None => Vec::new(),
        }
    };
    match idx {
        Some(Index::All) if !bodies.is_empty() => Val::Str(bodies.join(",")),
        Some(Index::At(n)) => {
            let i = if *n < 0 {
                bodies.len().checked_sub(n.unsigned_abs() as usize)
            } else {
                Some(*n as usize)
            };
            i.and_then(|i| bodies.get(i).cloned())
                .map_or(Val::Null, Val::Str)
        }
        _ => bodies.first().cloned().map_or(Val::Null, Val::Str),
    }
}

fn hflc(ctx: &Ctx, name: &str) -> Val {
    let n = if is_list_header(name) {
        list_bodies(ctx, name).len()
    } else {
        HeaderName::new(name).map_or(0, |hn| ctx.msg.headers_named(&hn).count())
    };
    Val::Int(n as i64)
}

/// `sip:ip:port`, with `;transport=` for other transports than UDP or
/// when `always` (the `$sut`/`$Rut` forms).
fn socket_uri(addr: SocketAddr, proto: Proto, always: bool) -> String {
    let host = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let mut s = format!("sip:{host}:{}", addr.port());
    if always || proto != Proto::Udp {
        s.push_str(";transport=");
        s.push_str(proto.name());
    }
    s
}

/// The `transport=` of a URI as written; `UDP` when there is none (as
/// Kamailio's `$rP`/`$dP` answer).
fn uri_proto(u: &str) -> Val {
    let Some(p) = UriParts::split(u) else {
        return Val::Null;
    };
    let params = p.rest.split('?').next().unwrap_or_default();
    let t = params.split(';').skip(1).find_map(|kv| {
        let (n, v) = kv.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case("transport")
            .then(|| v.trim().to_string())
    });
    Val::Str(t.unwrap_or_else(|| "UDP".to_string()))
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

/// `Some(value)` when `p.class` is one of [`CLASSES`].
/// `idx` is `p`'s index, already computed.
pub(crate) fn read(ctx: &Ctx, p: &PvRef, idx: Option<&Index>) -> Option<Val> {
    let msg = ctx.msg;
    let from = |f: bool| if f { "From" } else { "To" };
    Some(match p.class.as_str() {
        "fn" | "tn" => addr_header(ctx, from(p.class == "fn"), Part::Display),
        "ct" => first_header(ctx, "Contact").map_or(Val::Null, Val::Str),
        "cl" => match msg.content_length() {
            Some(n) => Val::Int(n as i64),
            None => Val::Null,
        },
        "cT" => first_header(ctx, "Content-Type").map_or(Val::Null, |v| Val::Str(v.trim().into())),
        "ai" => addr_header(ctx, "P-Asserted-Identity", Part::Uri),
        "pu" => addr_header(ctx, "P-Preferred-Identity", Part::Uri),
        "pU" => addr_header(ctx, "P-Preferred-Identity", Part::User),
        "pd" => addr_header(ctx, "P-Preferred-Identity", Part::Domain),
        "pn" => addr_header(ctx, "P-Preferred-Identity", Part::Display),
        "di" => addr_header(ctx, "Diversion", Part::Uri),
        "re" => addr_header(ctx, "Remote-Party-ID", Part::Uri),
        "rt" => addr_header(ctx, "Refer-To", Part::Uri),
        "rz" => match ctx.ruri.split_once(':') {
            Some((scheme, _)) if !scheme.is_empty() => Val::Str(scheme.to_ascii_lowercase()),
            _ => Val::Null,
        },
        "rs" => msg.status_code().map_or(Val::Null, |c| Val::Int(c as i64)),
        "rr" => msg.reason_phrase().map_or(Val::Null, text),
        "hdrc" => {
            let name = p.inner.as_deref().unwrap_or_default().trim();
            match HeaderName::new(name) {
                Some(hn) => Val::Int(msg.headers_named(&hn).count() as i64),
                None => Val::Int(0),
            }
        }
        "mt" => Val::Int(if msg.is_request() { 1 } else { 2 }),
        "rb" => {
            let b = msg.body();
            if b.is_empty() {
                Val::Null
            } else {
                text(b.as_bytes())
            }
        }
        "bs" => Val::Int(msg.body().len() as i64),
        // Of the receiving socket: `$af`/`$af(id)` the number (AF_INET 2,
        // AF_INET6 10 on Linux), `$af(name)` IPv4/IPv6.
        "af" => {
            let v6 = ctx.recv.dst.is_ipv6();
            match p.inner.as_deref().map(str::trim) {
                Some("name") => Val::str(if v6 { "IPv6" } else { "IPv4" }),
                _ => Val::Int(if v6 { 10 } else { 2 }),
            }
        }
        "mF" => Val::Str(format!("{:08x}", ctx.flags)),
        "hfl" => hfl(ctx, p.inner.as_deref().unwrap_or_default().trim(), idx),
        "hflc" => hflc(ctx, p.inner.as_deref().unwrap_or_default().trim()),
        "su" | "sut" => Val::Str(socket_uri(ctx.recv.src, ctx.recv.proto, p.class == "sut")),
        "Ru" | "Rut" => Val::Str(socket_uri(ctx.recv.dst, ctx.recv.proto, p.class == "Rut")),
        "op" => uri_port(&ctx.original_ruri),
        "oP" => uri_proto(&ctx.original_ruri),
        "rP" => uri_proto(&ctx.ruri),
        "dd" | "dp" | "dP" => match &ctx.dst_uri {
            None => Val::Null,
            Some(d) => match p.class.as_str() {
                "dd" => UriParts::split(d).map_or(Val::Null, |u| Val::Str(u.host)),
                "dp" => uri_port(d),
                _ => uri_proto(d),
            },
        },
        "pp" => Val::Int(std::process::id() as i64),
        "T_reply_code" | "T_reply_reason" => super::tm::reply_pv(ctx, p.class.as_str()),
        "true" => Val::Int(1),
        "Ts" => Val::Int(ctx.now.as_secs() as i64),
        "TS" => Val::Int(ctx.cfg.clock.now().as_secs() as i64),
        "Tf" => Val::Str(ctime_utc(ctx.now.as_secs() as i64)),
        "TF" => Val::Str(ctime_utc(ctx.cfg.clock.now().as_secs() as i64)),
        "TV" => {
            let fresh = ctx.cfg.clock.now();
            match p.inner.as_deref().unwrap_or_default().trim() {
                "s" => Val::Int(ctx.now.as_secs() as i64),
                "u" => Val::Int(ctx.now.subsec_micros() as i64),
                "sn" => Val::Int(fresh.as_secs() as i64),
                "un" => Val::Int(fresh.subsec_micros() as i64),
                "Sn" => Val::Str(format!("{}.{:06}", fresh.as_secs(), fresh.subsec_micros())),
                _ => Val::Null,
            }
        }
        _ => return None,
    })
}
