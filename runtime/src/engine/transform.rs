//! Transformations (`$(var(x){s.len}{s.int})`), as Kamailio's pv module
//! evaluates them: each takes the value so far and gives a new one; one
//! that fails (bad input, out of range) makes the whole value `$null`, as
//! Kamailio's "transformation failed" does.
//!
//! A parameter is a literal or a pseudo-variable (`{s.substr,$var(i),2}`),
//! read when the transformation runs. [`check`] refuses at load time any
//! class, name or parameter count the engine does not evaluate.

use super::codec;
use super::exec::{Ctx, Halt};
use super::nameaddr::NameAddrText;
use super::pv;
use super::uri::UriParts;
use super::value::Val;
use sercompat_compiler::ir::pv::{parse_pv, Transform};

/// `(class, name, least parameters, most parameters)`. Kamailio 5.6's
/// pv module, less what needs state the engine lacks (`s.timeformat` needs
/// the local time zone) and what 5.6 evaluates wrongly (`s.rbefore`/
/// `s.rafter` scan past the string there; the documented meaning is kept).
const KNOWN: &[(&str, &str, usize, usize)] = &[
    ("s", "len", 0, 0),
    ("s", "int", 0, 0),
    ("s", "md5", 0, 0),
    ("s", "sha256", 0, 0),
    ("s", "sha384", 0, 0),
    ("s", "sha512", 0, 0),
    ("s", "substr", 2, 2),
    ("s", "select", 2, 2),
    ("s", "encode.hexa", 0, 0),
    ("s", "encode.base64", 0, 0),
    ("s", "decode.base64", 0, 0),
    ("s", "encode.base64t", 0, 0),
    ("s", "decode.base64t", 0, 0),
    ("s", "urlencode.param", 0, 0),
    ("s", "urldecode.param", 0, 0),
    ("s", "decode.hexa", 0, 0),
    ("s", "escape.common", 0, 0),
    ("s", "unescape.common", 0, 0),
    ("s", "escape.user", 0, 0),
    ("s", "unescape.user", 0, 0),
    ("s", "escape.param", 0, 0),
    ("s", "unescape.param", 0, 0),
    ("s", "tolower", 0, 0),
    ("s", "toupper", 0, 0),
    ("s", "strip", 1, 1),
    ("s", "striptail", 1, 1),
    ("s", "stripto", 1, 1),
    ("s", "prefixes", 0, 1),
    ("s", "prefixes.quoted", 0, 1),
    ("s", "replace", 2, 2),
    ("s", "trim", 0, 0),
    ("s", "rtrim", 0, 0),
    ("s", "ltrim", 0, 0),
    ("s", "rm", 1, 1),
    ("s", "rmws", 0, 0),
    ("s", "numeric", 0, 0),
    ("s", "unquote", 0, 0),
    ("s", "unbracket", 0, 0),
    ("s", "count", 1, 1),
    ("s", "before", 1, 1),
    ("s", "after", 1, 1),
    ("s", "rbefore", 1, 1),
    ("s", "rafter", 1, 1),
    ("uri", "user", 0, 0),
    ("uri", "host", 0, 0),
    ("uri", "passwd", 0, 0),
    ("uri", "port", 0, 0),
    ("uri", "params", 0, 0),
    ("uri", "param", 1, 1),
    ("uri", "headers", 0, 0),
    ("uri", "transport", 0, 0),
    ("uri", "ttl", 0, 0),
    ("uri", "uparam", 0, 0),
    ("uri", "maddr", 0, 0),
    ("uri", "method", 0, 0),
    ("uri", "lr", 0, 0),
    ("uri", "r2", 0, 0),
    ("uri", "scheme", 0, 0),
    ("uri", "duri", 0, 0),
    ("uri", "saor", 0, 0),
    ("uri", "suri", 0, 0),
    ("param", "value", 1, 2),
    ("param", "in", 1, 2),
    ("param", "valueat", 1, 2),
    ("param", "name", 1, 2),
    ("param", "count", 0, 1),
    ("nameaddr", "name", 0, 0),
    ("nameaddr", "uri", 0, 0),
    ("nameaddr", "len", 0, 0),
    ("tobody", "uri", 0, 0),
    ("tobody", "display", 0, 0),
    ("tobody", "tag", 0, 0),
    ("tobody", "user", 0, 0),
    ("tobody", "host", 0, 0),
    ("tobody", "params", 0, 0),
    ("line", "count", 0, 0),
    ("line", "at", 1, 1),
    ("line", "sw", 1, 1),
];

/// The parameters as written. A separator parameter may itself be `,`
/// (`{s.select,1,,}`, `{param.count,,}`): two trailing empty pieces are
/// one `,`.
fn params(t: &Transform) -> Vec<String> {
    let n = t.args.len();
    let takes_separator = t.class == "s" && t.name == "select";
    if takes_separator && n >= 2 && t.args[n - 2..] == ["", ""] {
        let mut ps = t.args[..n - 2].to_vec();
        ps.push(",".to_string());
        return ps;
    }
    t.args.clone()
}

/// Whether the engine evaluates `t` (and every pseudo-variable among its
/// parameters).
pub(crate) fn check(t: &Transform) -> Result<(), String> {
    let Some(&(_, _, least, most)) = KNOWN
        .iter()
        .find(|(c, n, ..)| *c == t.class && *n == t.name)
    else {
        return Err(format!(
            "transformation `{{{}.{}}}` is not supported by the engine",
            t.class, t.name
        ));
    };
    let ps = params(t);
    if ps.len() < least || ps.len() > most {
        return Err(format!(
            "transformation `{{{}.{}}}` takes {least} to {most} parameter(s), not {}",
            t.class,
            t.name,
            ps.len()
        ));
    }
    if t.class == "s" && t.name == "select" && select_separator(&ps[1]).is_none() {
        return Err(format!(
            "`{{s.select}}` separator `{}` is not one character or \\n \\r \\t \\\\",
            ps[1]
        ));
    }
    for p in &ps {
        let p = p.trim_start();
        if p.starts_with('$') {
            let spec = parse_pv(p.trim_end())
                .map_err(|why| format!("parameter `{p}` of `{{{}.{}}}`: {why}", t.class, t.name))?;
            pv::check(&spec)?;
        }
    }
    Ok(())
}

/// Runs the chain over `v`.
pub(crate) fn apply_all(ctx: &mut Ctx, ts: &[Transform], mut v: Val) -> Result<Val, Halt> {
    for t in ts {
        v = apply(ctx, t, v)?;
    }
    Ok(v)
}

/// A parameter's value: a pseudo-variable read now, or the literal
/// (leading white space skipped, as Kamailio's parameter parser does).
fn param(ctx: &mut Ctx, raw: &str) -> Result<Val, Halt> {
    let s = raw.trim_start();
    if s.starts_with('$') {
        if let Ok(spec) = parse_pv(s.trim_end()) {
            return pv::read(ctx, &spec);
        }
    }
    Ok(Val::Str(s.to_string()))
}

/// An integer parameter; `None` when it is not one (the transformation
/// fails).
fn int_param(ctx: &mut Ctx, raw: &str) -> Result<Option<i64>, Halt> {
    Ok(match param(ctx, raw)? {
        Val::Int(i) => Some(i),
        Val::Str(s) => s.trim().parse().ok(),
        Val::Null => None,
    })
}

/// A string parameter; `None` when a pseudo-variable gave nothing.
fn str_param(ctx: &mut Ctx, raw: &str) -> Result<Option<String>, Halt> {
    Ok(match param(ctx, raw)? {
        Val::Null => None,
        v => Some(v.as_string()).filter(|s| !s.is_empty()),
    })
}

fn apply(ctx: &mut Ctx, t: &Transform, v: Val) -> Result<Val, Halt> {
    if v.is_null() {
        return Ok(Val::Null);
    }
    let ps = params(t);
    let out = match t.class.as_str() {
        "s" => string(ctx, &t.name, &ps, v)?,
        "uri" => {
            let p = match ps.first() {
                Some(raw) => str_param(ctx, raw)?,
                None => None,
            };
            uri(&t.name, p.as_deref(), &v.as_string())
        }
        "param" => param_list(ctx, &t.name, &ps, &v.as_string())?,
        "nameaddr" | "tobody" => name_addr(&t.class, &t.name, &v.as_string()),
        "line" => line(ctx, &t.name, &ps, &v.as_string())?,
        _ => None,
    };
    Ok(out.unwrap_or(Val::Null))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Kamailio's `str2slong`: an optional `-`, then digits only.
fn strict_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn string(ctx: &mut Ctx, name: &str, ps: &[String], v: Val) -> Result<Option<Val>, Halt> {
    use sha2::Digest;
    let s = v.as_string();
    let str_val = |x: String| Some(Val::Str(x));
    Ok(match name {
        "len" => Some(Val::Int(s.len() as i64)),
        "int" => match v {
            Val::Int(i) => Some(Val::Int(i)),
            _ => strict_int(&s).map(Val::Int),
        },
        "md5" => str_val(hex(&md5::Md5::digest(s.as_bytes()))),
        "sha256" => str_val(hex(&sha2::Sha256::digest(s.as_bytes()))),
        "sha384" => str_val(hex(&sha2::Sha384::digest(s.as_bytes()))),
        "sha512" => str_val(hex(&sha2::Sha512::digest(s.as_bytes()))),
        "substr" => {
            let (Some(off), Some(len)) = (int_param(ctx, &ps[0])?, int_param(ctx, &ps[1])?) else {
                return Ok(None);
            };
            substr(s.as_bytes(), off, len).map(|b| Val::Str(String::from_utf8_lossy(b).into()))
        }
        "select" => {
            let Some(idx) = int_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let Some(sep) = select_separator(&ps[1]) else {
                return Ok(None);
            };
            str_val(select(&s, idx, sep))
        }
        "encode.hexa" => str_val(hex(s.as_bytes())),
        "encode.base64" | "encode.base64t" => {
            str_val(codec::base64_encode(s.as_bytes(), name == "encode.base64"))
        }
        // `base64` wants the padding, `base64t` does without.
        "decode.base64" if !s.len().is_multiple_of(4) => None,
        "decode.base64" | "decode.base64t" => codec::base64_decode(&s)
            .filter(|b| !b.is_empty() || s.is_empty())
            .map(|b| Val::Str(String::from_utf8_lossy(&b).into_owned())),
        "urlencode.param" => str_val(codec::url_encode(&s)),
        "urldecode.param" => codec::url_decode(&s).map(Val::Str),
        "decode.hexa" => {
            let b = s.as_bytes();
            let mut out = Vec::with_capacity(b.len() / 2);
            for pair in b.chunks_exact(2) {
                let hi = (pair[0] as char).to_digit(16);
                let lo = (pair[1] as char).to_digit(16);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Ok(None),
                }
            }
            str_val(String::from_utf8_lossy(&out).into_owned())
        }
        "escape.common" => {
            let mut out = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '\'' | '"' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\0' => out.push_str("\\0"),
                    c => out.push(c),
                }
            }
            str_val(out)
        }
        "unescape.common" => {
            let mut out = String::with_capacity(s.len());
            let mut it = s.chars().peekable();
            while let Some(c) = it.next() {
                match (c, it.peek().copied()) {
                    ('\\', Some(n @ ('\'' | '"' | '\\'))) => {
                        out.push(n);
                        it.next();
                    }
                    ('\\', Some('0')) => {
                        out.push('\0');
                        it.next();
                    }
                    (c, _) => out.push(c),
                }
            }
            str_val(out)
        }
        "escape.user" => str_val(percent_escape(&s, b"&=+$,;?")),
        "escape.param" => str_val(percent_escape(&s, b"[]/:&+$")),
        "unescape.user" | "unescape.param" => percent_unescape(&s).map(Val::Str),
        "tolower" => match v {
            Val::Int(_) => Some(v),
            _ => str_val(s.to_ascii_lowercase()),
        },
        "toupper" => match v {
            Val::Int(_) => Some(v),
            _ => str_val(s.to_ascii_uppercase()),
        },
        "strip" | "striptail" => {
            let Some(n) = int_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let b = s.as_bytes();
            let n = n.max(0) as usize;
            let kept = if n >= b.len() {
                &b[..0]
            } else if name == "strip" {
                &b[n..]
            } else {
                &b[..b.len() - n]
            };
            str_val(String::from_utf8_lossy(kept).into_owned())
        }
        "stripto" => {
            let Some(p) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let c = p.as_bytes()[0];
            str_val(match s.bytes().position(|b| b == c) {
                Some(i) => String::from_utf8_lossy(&s.as_bytes()[i..]).into_owned(),
                None => String::new(),
            })
        }
        "prefixes" | "prefixes.quoted" => {
            let mut max = s.len();
            if let Some(raw) = ps.first() {
                let Some(n) = int_param(ctx, raw)? else {
                    return Ok(None);
                };
                if n > 0 && (n as usize) < max {
                    max = n as usize;
                }
            }
            let q = if name == "prefixes" { "" } else { "'" };
            let b = s.as_bytes();
            let all: Vec<String> = (1..=max)
                .map(|i| format!("{q}{}{q}", String::from_utf8_lossy(&b[..i])))
                .collect();
            str_val(all.join(","))
        }
        "replace" => {
            let (Some(from), Some(to)) = (str_param(ctx, &ps[0])?, str_param(ctx, &ps[1])?) else {
                return Ok(None);
            };
            str_val(s.replace(&from, &to))
        }
        "trim" => str_val(s.trim_matches(is_ws).to_string()),
        "rtrim" => str_val(s.trim_end_matches(is_ws).to_string()),
        "ltrim" => str_val(s.trim_start_matches(is_ws).to_string()),
        "rm" => {
            let Some(what) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let what = if ps[0].trim_start().starts_with('$') {
                what
            } else {
                unbackslash(&what)
            };
            str_val(s.replace(&what, ""))
        }
        "rmws" => str_val(s.chars().filter(|c| !is_ws(*c)).collect()),
        "numeric" => match v {
            Val::Int(_) => None,
            _ => str_val(s.chars().filter(|c| c.is_ascii_digit()).collect()),
        },
        "unquote" | "unbracket" => {
            let b = s.as_bytes();
            let strip = b.len() >= 2
                && if name == "unquote" {
                    b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'')
                } else {
                    matches!(
                        (b[0], b[b.len() - 1]),
                        (b'(', b')') | (b'[', b']') | (b'{', b'}') | (b'<', b'>')
                    )
                };
            if strip && !matches!(v, Val::Int(_)) {
                str_val(s[1..s.len() - 1].to_string())
            } else {
                Some(v)
            }
        }
        "count" => {
            let Some(p) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let c = p.as_bytes()[0];
            Some(Val::Int(s.bytes().filter(|b| *b == c).count() as i64))
        }
        "before" | "after" | "rbefore" | "rafter" => {
            let Some(p) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let c = p.as_bytes()[0];
            let b = s.as_bytes();
            let at = if name.starts_with('r') {
                b.iter().rposition(|x| *x == c)
            } else {
                b.iter().position(|x| *x == c)
            };
            let part: &[u8] = match (name.ends_with("before"), at) {
                (true, Some(i)) => &b[..i],
                (true, None) => b,
                (false, Some(i)) => &b[i + 1..],
                (false, None) => &b[..0],
            };
            str_val(String::from_utf8_lossy(part).into_owned())
        }
        _ => None,
    })
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `\n \r \t \\` in a literal `s.rm` parameter.
fn unbackslash(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// `{s.substr,offset,length}`: a negative offset counts from the end; a
/// length of 0 (or one past the end) means "to the end"; an offset out of
/// range or a negative length fails.
fn substr(b: &[u8], off: i64, len: i64) -> Option<&[u8]> {
    if len < 0 {
        return None;
    }
    let start = if off >= 0 {
        let o = off as usize;
        if o >= b.len() {
            return None;
        }
        o
    } else {
        let back = off.unsigned_abs() as usize;
        if back > b.len() {
            return None;
        }
        b.len() - back
    };
    let rest = &b[start..];
    let len = len as usize;
    let to_end = len == 0 || (off >= 0 && start + len >= b.len()) || (off < 0 && rest.len() < len);
    Some(if to_end { rest } else { &rest[..len] })
}

/// The separator of `{s.select,n,SEP}`: one character, or `\n \r \t \\`.
fn select_separator(raw: &str) -> Option<u8> {
    Some(match raw.as_bytes() {
        [c] => *c,
        b"\\n" => b'\n',
        b"\\r" => b'\r',
        b"\\t" => b'\t',
        b"\\\\" => b'\\',
        _ => return None,
    })
}

/// `{s.select,index,sep}`: the field at `index` (negative from the end);
/// empty when there are fewer fields.
fn select(s: &str, idx: i64, sep: u8) -> String {
    let b = s.as_bytes();
    let mut fields: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if *c == sep {
            fields.push(&b[start..i]);
            start = i + 1;
        }
    }
    fields.push(&b[start..]);
    let pick = if idx >= 0 {
        fields.get(idx as usize)
    } else {
        fields
            .len()
            .checked_sub(idx.unsigned_abs() as usize)
            .and_then(|i| fields.get(i))
    };
    pick.map(|f| String::from_utf8_lossy(f).into_owned())
        .unwrap_or_default()
}

/// RFC 3261 escaping: unreserved characters and `extra` stay, the rest
/// becomes `%XX`.
fn percent_escape(s: &str, extra: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) || extra.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn percent_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = b.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
            let l = b.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `;name=value` parameters of a URI's parameter part, in order.
fn uri_params(rest: &str) -> Vec<(String, String)> {
    let params = rest.split('?').next().unwrap_or_default();
    params
        .split(';')
        .skip(1)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
            None => (p.trim().to_string(), String::new()),
        })
        .collect()
}

/// `uri.*`: the parts of a sip/sips URI (empty when absent); fails on
/// what does not parse.
fn uri(name: &str, p: Option<&str>, s: &str) -> Option<Val> {
    if s.is_empty() {
        return None;
    }
    let text = if s.len() > 4 {
        s.strip_suffix(';').unwrap_or(s)
    } else {
        s
    };
    let u = UriParts::split(text)?;
    let params = uri_params(&u.rest);
    let param = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let params_text = || {
        let before_headers = u.rest.split('?').next().unwrap_or_default();
        before_headers
            .strip_prefix(';')
            .unwrap_or_default()
            .to_string()
    };
    let out = match name {
        "user" => u.user.clone().unwrap_or_default(),
        "host" => u.host.clone(),
        "passwd" => u.password.clone().unwrap_or_default(),
        "port" => match &u.port {
            Some(p) => p.clone(),
            None => return Some(Val::str("")),
        },
        "params" => params_text(),
        "param" => param(p?),
        "headers" => u
            .rest
            .split_once('?')
            .map(|(_, h)| h.to_string())
            .unwrap_or_default(),
        "transport" => param("transport"),
        "ttl" => param("ttl"),
        "uparam" => param("user"),
        "maddr" => param("maddr"),
        "method" => param("method"),
        "lr" => param("lr"),
        "r2" => param("r2"),
        "scheme" => u.scheme.clone(),
        "duri" | "saor" | "suri" => {
            let mut out = format!("{}:", u.scheme);
            if name != "duri" {
                if let Some(user) = u.user.as_deref().filter(|x| !x.is_empty()) {
                    out.push_str(user);
                    out.push('@');
                }
            }
            out.push_str(&u.host);
            if name != "saor" {
                if let Some(port) = &u.port {
                    out.push(':');
                    out.push_str(port);
                }
                let t = param("transport");
                if !t.is_empty() {
                    out.push_str(";transport=");
                    out.push_str(&t);
                }
            }
            out
        }
        _ => return None,
    };
    Some(Val::Str(out))
}

/// `param.*` over `name=value;name2=value2` (the separator is `;` or the
/// one-character last parameter).
fn param_list(ctx: &mut Ctx, name: &str, ps: &[String], s: &str) -> Result<Option<Val>, Halt> {
    if s.is_empty() {
        return Ok(None);
    }
    let sep_raw = if name == "count" {
        ps.first()
    } else {
        ps.get(1)
    };
    let sep = match sep_raw {
        Some(raw) => match str_param(ctx, raw)? {
            Some(x) if x.len() == 1 => x.as_bytes()[0] as char,
            _ => return Ok(None),
        },
        None => ';',
    };
    let body = if s.len() > 1 {
        s.strip_suffix(sep).unwrap_or(s)
    } else {
        s
    };
    let list: Vec<(String, String)> = body
        .split(sep)
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), unquote(v.trim())),
            None => (p.trim().to_string(), String::new()),
        })
        .collect();
    let nth = |n: i64| -> Option<&(String, String)> {
        if n >= 0 {
            list.get(n as usize)
        } else {
            list.len()
                .checked_sub(n.unsigned_abs() as usize)
                .and_then(|i| list.get(i))
        }
    };
    Ok(match name {
        "value" | "in" => {
            let Some(want) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let hit = list.iter().find(|(n, _)| n.eq_ignore_ascii_case(&want));
            Some(if name == "in" {
                Val::Int(hit.is_some() as i64)
            } else {
                Val::Str(hit.map(|(_, v)| v.clone()).unwrap_or_default())
            })
        }
        "valueat" | "name" => {
            let Some(n) = int_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let hit = nth(n).map(|(k, v)| if name == "name" { k } else { v });
            Some(Val::Str(hit.cloned().unwrap_or_default()))
        }
        "count" => Some(Val::Int(list.len() as i64)),
        _ => None,
    })
}

/// A quoted parameter value loses its quotes (as Kamailio's parameter
/// parser gives the body).
fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.to_string(),
        None => v.to_string(),
    }
}

/// `nameaddr.*` and `tobody.*`.
fn name_addr(class: &str, name: &str, s: &str) -> Option<Val> {
    if s.is_empty() {
        return None;
    }
    let na = NameAddrText::parse(s)?;
    let text = |x: &str| Some(Val::Str(x.to_string()));
    match (class, name) {
        ("nameaddr", "name") => text(na.name_as_written),
        ("tobody", "display") => text(na.display),
        ("nameaddr", "uri") | ("tobody", "uri") => text(na.uri),
        ("nameaddr", "len") => Some(Val::Int(na.len as i64)),
        ("tobody", "tag") => text(&na.param("tag").unwrap_or_default()),
        ("tobody", "params") => text(na.params),
        ("tobody", "user") | ("tobody", "host") => {
            let u = UriParts::split(na.uri)?;
            Some(Val::Str(if name == "user" {
                u.user.unwrap_or_default()
            } else {
                u.host
            }))
        }
        _ => None,
    }
}

/// `line.*`: lines end at `\n`; a trailing `\r` is not part of the line.
fn line(ctx: &mut Ctx, name: &str, ps: &[String], s: &str) -> Result<Option<Val>, Halt> {
    if s.is_empty() {
        return Ok(None);
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    let lines: Vec<&str> = body.split('\n').collect();
    let clean = |l: &str| Val::Str(l.strip_suffix('\r').unwrap_or(l).to_string());
    Ok(match name {
        "count" => Some(Val::Int(lines.len() as i64)),
        "at" => {
            let Some(n) = int_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            let hit = if n >= 0 {
                lines.get(n as usize)
            } else {
                lines
                    .len()
                    .checked_sub(n.unsigned_abs() as usize)
                    .and_then(|i| lines.get(i))
            };
            Some(hit.map_or(Val::str(""), |l| clean(l)))
        }
        "sw" => {
            let Some(prefix) = str_param(ctx, &ps[0])? else {
                return Ok(None);
            };
            Some(
                lines
                    .iter()
                    .find(|l| l.starts_with(&prefix))
                    .map_or(Val::str(""), |l| clean(l)),
            )
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_rules() {
        let b = b"abcdef";
        assert_eq!(substr(b, 1, 2), Some(&b"bc"[..]));
        assert_eq!(substr(b, 2, 0), Some(&b"cdef"[..]));
        assert_eq!(substr(b, 4, 10), Some(&b"ef"[..]));
        assert_eq!(substr(b, -2, 0), Some(&b"ef"[..]));
        assert_eq!(substr(b, -3, 2), Some(&b"de"[..]));
        assert_eq!(substr(b, 6, 1), None);
        assert_eq!(substr(b, -7, 1), None);
        assert_eq!(substr(b, 0, -1), None);
    }

    #[test]
    fn select_fields() {
        assert_eq!(select("a,b,c", 1, b','), "b");
        assert_eq!(select("a,b,c", -1, b','), "c");
        assert_eq!(select("a,b,c", 5, b','), "");
        assert_eq!(select_separator("\\t"), Some(b'\t'));
        assert_eq!(select_separator("\\s"), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(percent_escape("a b@c;d", b"&=+$,;?/"), "a%20b%40c;d");
        assert_eq!(percent_unescape("a%20b%40c").as_deref(), Some("a b@c"));
        assert_eq!(percent_unescape("a%2"), None);
    }
}
