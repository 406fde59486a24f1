//! SER 2.x / sip-router core selects (`@from.uri.user`, `@via[0].branch`,
//! `@msg.header.User-Agent`): parsed once at load time into a [`Select`];
//! the ones not listed here are refused by name. A select that finds
//! nothing is `$null`. Names follow the core select table of SER 2.0 and
//! Kamailio (`select_core.h`).

use super::exec::Ctx;
use super::msgpv::{first_header, list_bodies};
use super::nameaddr::NameAddrText;
use super::uri::UriParts;
use super::value::Val;
use crate::sip::HeaderName;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UriPart {
    Whole,
    User,
    Pwd,
    Host,
    Port,
    HostPort,
    Transport,
    Type,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrPart {
    Whole,
    Uri(UriPart),
    Tag,
    Name,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViaPart {
    Whole,
    Name,
    Version,
    Branch,
    Host,
    Port,
    Transport,
    Received,
    Rport,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sock {
    Ip,
    Port,
    IpPort,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Select {
    /// `@from...`, `@to...`, `@contact...`, `@refer_to`, `@rpid`: a
    /// header read as a name-addr.
    Addr(&'static str, AddrPart),
    Ruri(UriPart),
    DstUri(UriPart),
    Via(i64, ViaPart),
    CSeq(Option<bool>),
    CallId,
    Method,
    /// `@msg.header.NAME[n]`, `@user_agent`, ...: that header's body.
    Header(String, i64),
    Src(Sock),
    Dst(Sock),
}

fn uri_part(rest: &[&str]) -> Option<UriPart> {
    Some(match rest {
        [] => UriPart::Whole,
        ["user"] => UriPart::User,
        ["pwd"] => UriPart::Pwd,
        ["host"] => UriPart::Host,
        ["port"] => UriPart::Port,
        ["hostport"] => UriPart::HostPort,
        ["transport"] => UriPart::Transport,
        ["type"] => UriPart::Type,
        _ => return None,
    })
}

fn addr_part(rest: &[&str]) -> Option<AddrPart> {
    Some(match rest {
        [] => AddrPart::Whole,
        ["uri", more @ ..] => AddrPart::Uri(uri_part(more)?),
        ["tag"] => AddrPart::Tag,
        ["name"] => AddrPart::Name,
        _ => return None,
    })
}

/// `via[2]` → (`via`, Some(2)); `via` → (`via`, None).
fn indexed(seg: &str) -> Option<(&str, Option<i64>)> {
    match seg.split_once('[') {
        Some((name, idx)) => Some((name, Some(idx.strip_suffix(']')?.trim().parse().ok()?))),
        None => Some((seg, None)),
    }
}

/// The headers the select table reaches by a short name.
const SHORT_HEADERS: &[(&str, &str)] = &[
    ("expires", "Expires"),
    ("max_forwards", "Max-Forwards"),
    ("content_type", "Content-Type"),
    ("content_length", "Content-Length"),
    ("subject", "Subject"),
    ("organization", "Organization"),
    ("priority", "Priority"),
    ("session_expires", "Session-Expires"),
    ("min_se", "Min-SE"),
    ("user_agent", "User-Agent"),
    ("date", "Date"),
    ("event", "Event"),
];

fn sock(rest: &[&str]) -> Option<Sock> {
    Some(match rest {
        ["ip"] => Sock::Ip,
        ["port"] => Sock::Port,
        ["ip_port"] => Sock::IpPort,
        _ => return None,
    })
}

impl Select {
    /// Parses `@a.b[1].c`; `Err` names what is not supported.
    pub fn parse(text: &str) -> Result<Select, String> {
        let unsupported = || format!("select `{text}` is not supported by the engine");
        let body = text.trim().strip_prefix('@').ok_or_else(unsupported)?;
        let segs: Vec<&str> = body.split('.').collect();
        let (head, idx) = indexed(segs[0]).ok_or_else(unsupported)?;
        let rest = &segs[1..];
        let head = head.to_ascii_lowercase();
        if idx.is_some() && !matches!(head.as_str(), "via" | "v") {
            return Err(unsupported());
        }
        let sel = match head.as_str() {
            "from" | "f" => Select::Addr("From", addr_part(rest).ok_or_else(unsupported)?),
            "to" | "t" => Select::Addr("To", addr_part(rest).ok_or_else(unsupported)?),
            "contact" | "m" => Select::Addr("Contact", addr_part(rest).ok_or_else(unsupported)?),
            "refer_to" => Select::Addr("Refer-To", addr_part(rest).ok_or_else(unsupported)?),
            "remote_party_id" | "rpid" => {
                Select::Addr("Remote-Party-ID", addr_part(rest).ok_or_else(unsupported)?)
            }
            "ruri" | "request_uri" => Select::Ruri(uri_part(rest).ok_or_else(unsupported)?),
            "dst_uri" => Select::DstUri(uri_part(rest).ok_or_else(unsupported)?),
            "via" | "v" => {
                let part = match rest {
                    [] => ViaPart::Whole,
                    ["name"] => ViaPart::Name,
                    ["version"] => ViaPart::Version,
                    ["branch"] => ViaPart::Branch,
                    ["host"] => ViaPart::Host,
                    ["port"] => ViaPart::Port,
                    ["transport"] => ViaPart::Transport,
                    ["received"] => ViaPart::Received,
                    ["rport"] => ViaPart::Rport,
                    _ => return Err(unsupported()),
                };
                // 1-based: `@via` and `@via[1]` are the top one.
                Select::Via(idx.unwrap_or(1), part)
            }
            "cseq" => Select::CSeq(match rest {
                [] => None,
                ["method"] => Some(true),
                ["num"] => Some(false),
                _ => return Err(unsupported()),
            }),
            "call_id" if rest.is_empty() => Select::CallId,
            "method" if rest.is_empty() => Select::Method,
            "msg" | "message" => match rest {
                ["header" | "h", name] => {
                    let (name, n) = indexed(name).ok_or_else(unsupported)?;
                    let name = name.replace('_', "-");
                    if HeaderName::new(&name).is_none() {
                        return Err(unsupported());
                    }
                    Select::Header(name, n.unwrap_or(0))
                }
                ["request" | "req", "method"] => Select::Method,
                ["request" | "req", "uri", more @ ..] => {
                    Select::Ruri(uri_part(more).ok_or_else(unsupported)?)
                }
                _ => return Err(unsupported()),
            },
            "src" => Select::Src(sock(rest).ok_or_else(unsupported)?),
            "dst" => Select::Dst(sock(rest).ok_or_else(unsupported)?),
            short if rest.is_empty() => match SHORT_HEADERS.iter().find(|(s, _)| *s == short) {
                Some((_, name)) => Select::Header(name.to_string(), 0),
                None => return Err(unsupported()),
            },
            _ => return Err(unsupported()),
        };
        Ok(sel)
    }

    /// The value; `None` when the message has none (an expression reads
    /// that as "", `$sel(...)` as `$null`).
    pub(crate) fn read(&self, ctx: &Ctx) -> Option<Val> {
        let v = self.value(ctx);
        (!v.is_null()).then_some(v)
    }

    fn value(&self, ctx: &Ctx) -> Val {
        let msg = ctx.msg;
        let s = |x: String| Val::Str(x);
        let nonempty = |x: &str| {
            Some(x)
                .filter(|v| !v.is_empty())
                .map_or(Val::Null, |v| Val::Str(v.to_string()))
        };
        match self {
            Select::Addr(name, part) => {
                let Some(body) = first_header(ctx, name) else {
                    return Val::Null;
                };
                let first = super::nameaddr::split_list(&body)[0].to_string();
                let Some(na) = NameAddrText::parse(&first) else {
                    return Val::Null;
                };
                match part {
                    AddrPart::Whole => s(body.trim().to_string()),
                    AddrPart::Uri(u) => read_uri(na.uri, *u),
                    AddrPart::Tag => na.param("tag").map_or(Val::Null, s),
                    AddrPart::Name => nonempty(na.display),
                }
            }
            Select::Ruri(u) => read_uri(&ctx.ruri, *u),
            Select::DstUri(u) => match &ctx.dst_uri {
                Some(d) => read_uri(d, *u),
                None => Val::Null,
            },
            Select::Via(idx, part) => {
                let Ok(vias) = msg.vias() else {
                    return Val::Null;
                };
                let i = match *idx {
                    0 => return Val::Null,
                    n if n < 0 => match vias.len().checked_sub(n.unsigned_abs() as usize) {
                        Some(i) => i,
                        None => return Val::Null,
                    },
                    n => n as usize - 1,
                };
                let Some(v) = vias.get(i) else {
                    return Val::Null;
                };
                let text = |x: Option<&crate::sip::SipStr>| {
                    x.map_or(Val::Null, |b| Val::Str(b.to_string_lossy().into_owned()))
                };
                match part {
                    ViaPart::Whole => list_bodies(ctx, "Via")
                        .into_iter()
                        .nth(i)
                        .map_or(Val::Null, Val::Str),
                    ViaPart::Name => text(Some(v.protocol_name())),
                    ViaPart::Version => text(Some(v.protocol_version())),
                    ViaPart::Branch => text(v.branch()),
                    ViaPart::Host => s(v.host().to_string()),
                    ViaPart::Port => v.port().map_or(Val::Null, |p| s(p.to_string())),
                    ViaPart::Transport => text(Some(v.transport())),
                    ViaPart::Received => text(v.received()),
                    ViaPart::Rport => text(v.params().value("rport")),
                }
            }
            Select::CSeq(part) => match msg.cseq() {
                Ok(Some(c)) => {
                    let method = String::from_utf8_lossy(c.method().as_bytes()).into_owned();
                    match part {
                        None => s(format!("{} {method}", c.number())),
                        Some(true) => s(method),
                        Some(false) => s(c.number().to_string()),
                    }
                }
                _ => Val::Null,
            },
            Select::CallId => match msg.call_id() {
                Ok(Some(id)) => s(id.to_string_lossy().into_owned()),
                _ => Val::Null,
            },
            Select::Method => msg.method().map_or(Val::Null, |m| {
                s(String::from_utf8_lossy(m.as_bytes()).into_owned())
            }),
            Select::Header(name, n) => {
                let Some(hn) = HeaderName::new(name) else {
                    return Val::Null;
                };
                let bodies: Vec<String> = msg
                    .headers_named(&hn)
                    .map(|h| h.value().to_string_lossy().trim().to_string())
                    .collect();
                let i = if *n < 0 {
                    bodies.len().checked_sub(n.unsigned_abs() as usize)
                } else {
                    Some(*n as usize)
                };
                i.and_then(|i| bodies.get(i).cloned())
                    .map_or(Val::Null, Val::Str)
            }
            Select::Src(k) | Select::Dst(k) => {
                let a = if matches!(self, Select::Src(_)) {
                    ctx.recv.src
                } else {
                    ctx.recv.dst
                };
                match k {
                    Sock::Ip => s(a.ip().to_string()),
                    Sock::Port => s(a.port().to_string()),
                    Sock::IpPort => s(a.to_string()),
                }
            }
        }
    }
}

fn read_uri(uri: &str, part: UriPart) -> Val {
    if part == UriPart::Whole {
        return Val::Str(uri.to_string());
    }
    if part == UriPart::Type {
        return match uri.split_once(':') {
            Some((scheme, _)) => Val::Str(scheme.to_ascii_lowercase()),
            None => Val::Null,
        };
    }
    let Some(u) = UriParts::split(uri) else {
        return Val::Null;
    };
    let nonempty = |x: Option<String>| x.filter(|v| !v.is_empty()).map_or(Val::Null, Val::Str);
    match part {
        UriPart::User => nonempty(u.user.clone()),
        UriPart::Pwd => nonempty(u.password.clone()),
        UriPart::Host => Val::Str(u.host.clone()),
        UriPart::Port => nonempty(u.port.clone()),
        UriPart::HostPort => Val::Str(match &u.port {
            Some(p) => format!("{}:{p}", u.host),
            None => u.host.clone(),
        }),
        UriPart::Transport => nonempty(u.transport()),
        UriPart::Whole | UriPart::Type => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_and_refuses_others() {
        assert_eq!(
            Select::parse("@from.uri.user").unwrap(),
            Select::Addr("From", AddrPart::Uri(UriPart::User))
        );
        assert_eq!(
            Select::parse("@via[2].branch").unwrap(),
            Select::Via(2, ViaPart::Branch)
        );
        assert_eq!(
            Select::parse("@via.branch").unwrap(),
            Select::Via(1, ViaPart::Branch)
        );
        assert!(Select::parse("@ruri.params").is_err());
        assert_eq!(
            Select::parse("@msg.header.user_agent").unwrap(),
            Select::Header("user-agent".into(), 0)
        );
        assert_eq!(
            Select::parse("@max_forwards").unwrap(),
            Select::Header("Max-Forwards".into(), 0)
        );
        assert!(Select::parse("@xyz.abc").unwrap_err().contains("@xyz.abc"));
        assert!(Select::parse("@from.uri.nope").is_err());
        assert!(Select::parse("@msg.max_forwards").is_err());
        assert!(Select::parse("@callid").is_err());
    }
}
