//! SER 2.x selects (`@from.uri.user`, `@via[0].branch`, `@msg.user_agent`):
//! parsed once at load time into a [`Select`]; the ones not listed here
//! are refused by name. A select that finds nothing is `$null`.

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
    Host,
    Port,
    Params,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrPart {
    Whole,
    Uri(UriPart),
    Tag,
    Name,
    Params,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViaPart {
    Whole,
    Branch,
    Host,
    Port,
    Transport,
    Received,
    Rport,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Select {
    /// `@from...`/`@to...` (`from == true` for From).
    Addr(bool, AddrPart),
    Ruri(UriPart),
    Via(i64, ViaPart),
    CSeq(Option<bool>),
    CallId,
    /// `@msg.NAME`: the first header of that name (`_` stands for `-`).
    Header(String),
    Src(bool),
    Dst(bool),
}

fn uri_part(rest: &[&str]) -> Option<UriPart> {
    Some(match rest {
        [] => UriPart::Whole,
        ["user"] => UriPart::User,
        ["host"] => UriPart::Host,
        ["port"] => UriPart::Port,
        ["params"] => UriPart::Params,
        _ => return None,
    })
}

/// `via[2]` → (`via`, 2); `via` → (`via`, 0).
fn indexed(seg: &str) -> Option<(&str, i64)> {
    match seg.split_once('[') {
        Some((name, idx)) => Some((name, idx.strip_suffix(']')?.trim().parse().ok()?)),
        None => Some((seg, 0)),
    }
}

impl Select {
    /// Parses `@a.b[1].c`; `Err` names what is not supported.
    pub fn parse(text: &str) -> Result<Select, String> {
        let unsupported = || format!("select `{text}` is not supported by the engine");
        let body = text.trim().strip_prefix('@').ok_or_else(unsupported)?;
        let segs: Vec<&str> = body.split('.').collect();
        let (head, idx) = indexed(segs[0]).ok_or_else(unsupported)?;
        let rest = &segs[1..];
        let head_lc = head.to_ascii_lowercase();
        if idx != 0 && head_lc != "via" {
            return Err(unsupported());
        }
        let sel = match head_lc.as_str() {
            "from" | "to" | "f" | "t" => {
                let part = match rest {
                    [] => AddrPart::Whole,
                    ["uri", more @ ..] => AddrPart::Uri(uri_part(more).ok_or_else(unsupported)?),
                    ["tag"] => AddrPart::Tag,
                    ["name"] => AddrPart::Name,
                    ["params"] => AddrPart::Params,
                    _ => return Err(unsupported()),
                };
                Select::Addr(head_lc.starts_with('f'), part)
            }
            "ruri" | "request_uri" => Select::Ruri(uri_part(rest).ok_or_else(unsupported)?),
            "via" | "v" => {
                let part = match rest {
                    [] => ViaPart::Whole,
                    ["branch"] => ViaPart::Branch,
                    ["host"] => ViaPart::Host,
                    ["port"] => ViaPart::Port,
                    ["transport"] => ViaPart::Transport,
                    ["received"] => ViaPart::Received,
                    ["rport"] => ViaPart::Rport,
                    _ => return Err(unsupported()),
                };
                Select::Via(idx, part)
            }
            "cseq" => Select::CSeq(match rest {
                [] => None,
                ["method"] => Some(true),
                ["num"] => Some(false),
                _ => return Err(unsupported()),
            }),
            "call_id" | "callid" | "i" if rest.is_empty() => Select::CallId,
            "msg" => match rest {
                [name] if HeaderName::new(&name.replace('_', "-")).is_some() => {
                    Select::Header(name.replace('_', "-"))
                }
                _ => return Err(unsupported()),
            },
            "src" | "dst" => {
                let ip = match rest {
                    ["ip"] => true,
                    ["port"] => false,
                    _ => return Err(unsupported()),
                };
                if head_lc == "src" {
                    Select::Src(ip)
                } else {
                    Select::Dst(ip)
                }
            }
            _ => return Err(unsupported()),
        };
        Ok(sel)
    }

    pub(crate) fn read(&self, ctx: &Ctx) -> Val {
        let msg = ctx.msg;
        let s = |x: String| Val::Str(x);
        match self {
            Select::Addr(from, part) => {
                let name = if *from { "From" } else { "To" };
                let Some(body) = first_header(ctx, name) else {
                    return Val::Null;
                };
                let Some(na) = NameAddrText::parse(&body) else {
                    return Val::Null;
                };
                match part {
                    AddrPart::Whole => s(body.trim().to_string()),
                    AddrPart::Uri(u) => read_uri(na.uri, *u),
                    AddrPart::Tag => na.param("tag").map_or(Val::Null, s),
                    AddrPart::Name => Some(na.display)
                        .filter(|d| !d.is_empty())
                        .map_or(Val::Null, |d| s(d.to_string())),
                    AddrPart::Params => Some(na.params)
                        .filter(|p| !p.is_empty())
                        .map_or(Val::Null, |p| s(p.to_string())),
                }
            }
            Select::Ruri(u) => read_uri(&ctx.ruri, *u),
            Select::Via(idx, part) => {
                let Ok(vias) = msg.vias() else {
                    return Val::Null;
                };
                let i = if *idx < 0 {
                    match vias.len().checked_sub(idx.unsigned_abs() as usize) {
                        Some(i) => i,
                        None => return Val::Null,
                    }
                } else {
                    *idx as usize
                };
                let Some(v) = vias.get(i) else {
                    return Val::Null;
                };
                let opt = |x: Option<String>| x.map_or(Val::Null, Val::Str);
                match part {
                    ViaPart::Whole => match via_text(ctx, i) {
                        Some(t) => s(t),
                        None => Val::Null,
                    },
                    ViaPart::Branch => opt(v.branch().map(|b| b.to_string_lossy().into_owned())),
                    ViaPart::Host => s(v.host().to_string()),
                    ViaPart::Port => v.port().map_or(Val::Null, |p| Val::Int(p as i64)),
                    ViaPart::Transport => s(v.transport().to_string_lossy().into_owned()),
                    ViaPart::Received => {
                        opt(v.received().map(|r| r.to_string_lossy().into_owned()))
                    }
                    ViaPart::Rport => opt(v
                        .params()
                        .value("rport")
                        .map(|r| r.to_string_lossy().into_owned())),
                }
            }
            Select::CSeq(part) => match msg.cseq() {
                Ok(Some(c)) => match part {
                    None => s(format!(
                        "{} {}",
                        c.number(),
                        String::from_utf8_lossy(c.method().as_bytes())
                    )),
                    Some(true) => s(String::from_utf8_lossy(c.method().as_bytes()).into_owned()),
                    Some(false) => Val::Int(c.number() as i64),
                },
                _ => Val::Null,
            },
            Select::CallId => match msg.call_id() {
                Ok(Some(id)) => s(id.to_string_lossy().into_owned()),
                _ => Val::Null,
            },
            Select::Header(name) => {
                first_header(ctx, name).map_or(Val::Null, |h| s(h.trim().to_string()))
            }
            Select::Src(ip) | Select::Dst(ip) => {
                let a = if matches!(self, Select::Src(_)) {
                    ctx.recv.src
                } else {
                    ctx.recv.dst
                };
                if *ip {
                    s(a.ip().to_string())
                } else {
                    Val::Int(a.port() as i64)
                }
            }
        }
    }
}

/// The text of the `n`-th via-parm (counting across Via headers).
fn via_text(ctx: &Ctx, n: usize) -> Option<String> {
    list_bodies(ctx, "Via").into_iter().nth(n)
}

fn read_uri(uri: &str, part: UriPart) -> Val {
    if part == UriPart::Whole {
        return Val::Str(uri.to_string());
    }
    let Some(u) = UriParts::split(uri) else {
        return Val::Null;
    };
    match part {
        UriPart::User => u.user.map_or(Val::Null, Val::Str),
        UriPart::Host => Val::Str(u.host),
        UriPart::Port => u.port.map_or(Val::Null, Val::Str),
        UriPart::Params => {
            let p = u.rest.split('?').next().unwrap_or_default();
            Some(p.strip_prefix(';').unwrap_or(p))
                .filter(|p| !p.is_empty())
                .map_or(Val::Null, |p| Val::Str(p.to_string()))
        }
        UriPart::Whole => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_and_refuses_others() {
        assert_eq!(
            Select::parse("@from.uri.user").unwrap(),
            Select::Addr(true, AddrPart::Uri(UriPart::User))
        );
        assert_eq!(
            Select::parse("@via[1].branch").unwrap(),
            Select::Via(1, ViaPart::Branch)
        );
        assert_eq!(
            Select::parse("@msg.user_agent").unwrap(),
            Select::Header("user-agent".into())
        );
        assert!(Select::parse("@xyz.abc").unwrap_err().contains("@xyz.abc"));
        assert!(Select::parse("@from.uri.nope").is_err());
    }
}
