//! The pseudo-variables read from the message, the receiving socket and
//! the clock, beyond the basic ones of [`super::pv`]: display names, the
//! identity headers (`$ai $pu $di $re $rt`), body and length (`$rb $cl
//! $cT`), reply status (`$rs $rr`), socket URIs (`$su $Ru`), and time
//! (`$Ts $TS $Tf $TF $TV`).

use super::clock::ctime_utc;
use super::exec::Ctx;
use super::nameaddr::NameAddrText;
use super::uri::UriParts;
use super::value::Val;
use super::Proto;
use crate::sip::HeaderName;
use sercompat_compiler::ir::pv::PvRef;
use std::net::SocketAddr;

/// The classes [`read`] answers (aliases included).
pub(crate) const CLASSES: &[&str] = &[
    "fn", "tn", "ct", "cl", "cT", "ai", "pu", "pU", "pd", "pn", "di", "re", "rt", "rz", "rs", "rr",
    "hdrc", "mt", "rb", "bs", "af", "su", "sut", "Ru", "Rut", "TS", "Ts", "Tf", "TF", "TV", "op",
    "oP", "rP", "dd", "dp", "dP", "pp", "true",
];

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
    let first = first_address(&body);
    let Some(na) = NameAddrText::parse(first) else {
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

/// The first address of a comma-separated list (commas inside quotes or
/// `<>` do not count).
fn first_address(body: &str) -> &str {
    let (mut quoted, mut angle) = (false, false);
    for (i, c) in body.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => return &body[..i],
            _ => {}
        }
    }
    body
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

fn uri_proto(u: &str) -> Val {
    match UriParts::split(u) {
        Some(p) => Val::Str(p.transport().unwrap_or_else(|| "udp".to_string())),
        None => Val::Null,
    }
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
pub(crate) fn read(ctx: &Ctx, p: &PvRef) -> Option<Val> {
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
        "af" => Val::str(if ctx.recv.src.is_ipv6() {
            "INET6"
        } else {
            "INET"
        }),
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
