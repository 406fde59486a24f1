//! siputils (Kamailio 5.6) checks and Request-URI parameter edits for
//! stateless routing, and `options_reply` (SER's `options` module, merged
//! into siputils): a 200 to an OPTIONS for the server itself, with the
//! module parameters' default capabilities.
//!
//! `is_user`, `has_totag`, `is_request` and `is_reply` stay in `funcs.rs`.
//! The SER `uri` module's `uri_param`/`add_uri_param` behave the same and
//! are served here too.

use super::exec::{Ctx, Halt};
use super::fargs::{literal, ok, text};
use super::pv;
use super::uri::UriParts;
use super::value::Val;
use crate::sip::{HeaderName, Method};
use sercompat_compiler::ir::pv::{FormatPart, PvRef};
use sercompat_compiler::ir::{Value, ValueKind};

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("siputils", "options_reply", 0, 0),
    ("siputils", "is_e164", 1, 1),
    ("siputils", "is_uri_user_e164", 1, 1),
    ("siputils", "is_uri", 1, 1),
    ("siputils", "is_tel_number", 1, 1),
    ("siputils", "is_numeric", 1, 1),
    ("siputils", "is_alphanum", 1, 1),
    ("siputils", "is_alphanumex", 2, 2),
    ("siputils", "uri_param", 1, 2),
    ("siputils", "uri_param_any", 1, 1),
    ("siputils", "uri_param_rm", 1, 1),
    ("siputils", "add_uri_param", 1, 1),
    ("siputils", "get_uri_param", 2, 2),
    ("siputils", "tel2sip", 3, 3),
    ("siputils", "is_gruu", 0, 1),
    ("siputils", "is_supported", 1, 1),
    ("siputils", "is_first_hop", 0, 1),
    ("siputils", "cmp_uri", 2, 2),
    ("siputils", "cmp_aor", 2, 2),
    ("uri", "uri_param", 1, 2),
    ("uri", "add_uri_param", 1, 1),
];

/// `options_reply`'s headers: the defaults of `options_accept`,
/// `options_accept_encoding`, `options_accept_language` and
/// `options_support`.
const OPTIONS_HEADERS: &[(&str, &str)] = &[
    ("Accept", "*/*"),
    ("Accept-Encoding", ""),
    ("Accept-Language", "en"),
    ("Supported", ""),
];

/// The option tags `is_supported` knows (Kamailio parses Supported into
/// these flags; others cannot be asked for).
const KNOWN_OPTIONS: &[&str] = &["path", "100rel", "timer", "eventlist", "gruu", "outbound"];

pub(crate) fn check(name: &str, args: &[Value]) -> Result<(), String> {
    match name {
        "is_supported" => match super::fargs::constant(&args[0]) {
            Some(o) if !KNOWN_OPTIONS.contains(&o.trim().to_ascii_lowercase().as_str()) => {
                Err(format!(
                    "`{o}` is not an option is_supported knows ({})",
                    KNOWN_OPTIONS.join(", ")
                ))
            }
            _ => Ok(()),
        },
        "get_uri_param" => writable_target(&args[1]).map(|_| ()),
        "tel2sip" => writable_target(&args[2]).map(|_| ()),
        _ => Ok(()),
    }
}

/// The pseudo-variable a result goes to (`"$var(x)"` or `$var(x)`).
fn writable_target(v: &Value) -> Result<&PvRef, String> {
    let p = match &v.kind {
        ValueKind::Pv(p) => Some(p),
        ValueKind::Format(parts) => match parts.as_slice() {
            [FormatPart::Pv(p)] => Some(p),
            _ => None,
        },
        _ => None,
    };
    match p {
        Some(p) if pv::writable(&p.class) => Ok(p),
        Some(p) => Err(format!("`${}` cannot be assigned", p.class)),
        None => Err("the result argument must be one writable pseudo-variable".into()),
    }
}

pub(crate) fn call(ctx: &mut Ctx, module: &str, name: &str, args: &[Value]) -> Result<i64, Halt> {
    Ok(match name {
        "options_reply" => options_reply(ctx),
        "is_e164" => {
            let v = text(ctx, &args[0])?;
            ok(is_e164(&v))
        }
        "is_uri_user_e164" => {
            let v = text(ctx, &args[0])?;
            ok(UriParts::split(&v)
                .and_then(|u| u.user)
                .is_some_and(|u| is_e164(&u)))
        }
        "is_uri" => {
            let v = text(ctx, &args[0])?;
            ok(crate::sip::Uri::parse(v.as_bytes()).is_ok())
        }
        // Return codes as Kamailio 5.6.3 gives them: -2 empty or not a
        // number, -3 a character outside the set.
        "is_tel_number" => {
            let v = text(ctx, &args[0])?;
            let digits = match v.strip_prefix('+') {
                // After `+` the number cannot start with 0.
                Some(d) if d.starts_with(|c: char| ('1'..='9').contains(&c)) => d,
                Some(_) => return Ok(-2),
                None => v.as_str(),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                -2
            } else {
                1
            }
        }
        "is_numeric" => {
            let v = text(ctx, &args[0])?;
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                -2
            } else {
                1
            }
        }
        "is_alphanum" | "is_alphanumex" => {
            let v = text(ctx, &args[0])?;
            let extra = match args.get(1) {
                Some(a) => text(ctx, a)?,
                None => String::new(),
            };
            if v.is_empty() {
                -2
            } else if v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
            {
                1
            } else {
                -3
            }
        }
        "uri_param" | "uri_param_any" => {
            let want = literal(ctx, &args[0])?;
            let value = match args.get(1) {
                Some(a) => Some(literal(ctx, a)?),
                None => None,
            };
            let Some(parts) = UriParts::split(&ctx.ruri) else {
                return Ok(-1);
            };
            let found = params(&parts.rest)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(want.trim()));
            ok(match (found, name, value) {
                (None, ..) => false,
                (Some(_), "uri_param_any", _) => true,
                (Some((_, v)), _, None) => v.is_none(),
                (Some((_, v)), _, Some(want)) => v.as_deref() == Some(want.as_str()),
            })
        }
        "uri_param_rm" => {
            let want = literal(ctx, &args[0])?;
            let Some(mut parts) = UriParts::split(&ctx.ruri) else {
                return Ok(-1);
            };
            let (params_text, headers) = split_headers(&parts.rest);
            let kept: Vec<&str> = params_text
                .split(';')
                .skip(1)
                .filter(|p| {
                    !p.split('=')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .eq_ignore_ascii_case(want.trim())
                })
                .collect();
            // Nothing to remove is success (Kamailio 5.6.3).
            if kept.len() == params_text.split(';').skip(1).count() {
                return Ok(1);
            }
            parts.rest = kept.iter().map(|p| format!(";{p}")).collect::<String>() + headers;
            let new = parts.build();
            ok(pv::set_ruri(ctx, &new))
        }
        "add_uri_param" => {
            let param = literal(ctx, &args[0])?;
            let Some(mut parts) = UriParts::split(&ctx.ruri) else {
                ctx.error(&format!(
                    "{module}.add_uri_param: the Request-URI is not a SIP URI"
                ));
                return Ok(-1);
            };
            let (params_text, headers) = split_headers(&parts.rest);
            parts.rest = format!("{params_text};{param}{headers}");
            let new = parts.build();
            if pv::set_ruri(ctx, &new) {
                1
            } else {
                ctx.error(&format!(
                    "add_uri_param: `{new}` is not a valid Request-URI"
                ));
                -1
            }
        }
        "get_uri_param" => {
            let want = literal(ctx, &args[0])?;
            let target = match writable_target(&args[1]) {
                Ok(p) => p.clone(),
                Err(why) => {
                    ctx.error(&format!("get_uri_param: {why}"));
                    return Ok(-1);
                }
            };
            let Some(parts) = UriParts::split(&ctx.ruri) else {
                return Ok(-1);
            };
            match params(&parts.rest)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(want.trim()))
            {
                Some((_, v)) => {
                    pv::write(ctx, &target, Val::Str(v.unwrap_or_default()), true)?;
                    1
                }
                None => -1,
            }
        }
        "tel2sip" => {
            let uri = text(ctx, &args[0])?;
            let host = text(ctx, &args[1])?;
            let target = match writable_target(&args[2]) {
                Ok(p) => p.clone(),
                Err(why) => {
                    ctx.error(&format!("tel2sip: {why}"));
                    return Ok(-1);
                }
            };
            match tel2sip(&uri, &host) {
                Tel2Sip::NotTel => 2,
                Tel2Sip::Bad => {
                    ctx.error(&format!("tel2sip: cannot convert `{uri}`"));
                    -1
                }
                Tel2Sip::Sip(s) => {
                    pv::write(ctx, &target, Val::Str(s), true)?;
                    1
                }
            }
        }
        "is_gruu" => {
            let uri = match args.first() {
                Some(a) => text(ctx, a)?,
                None => ctx.ruri.clone(),
            };
            let Some(parts) = UriParts::split(&uri) else {
                return Ok(-1);
            };
            match params(&parts.rest)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("gr"))
            {
                Some((_, Some(_))) => 1,
                Some((_, None)) => 2,
                None => -1,
            }
        }
        "is_supported" => {
            let want = literal(ctx, &args[0])?.trim().to_ascii_lowercase();
            let msg = ctx.msg;
            let found = HeaderName::new("Supported").is_some_and(|hn| {
                msg.headers_named(&hn).any(|h| {
                    h.value()
                        .to_string_lossy()
                        .split(',')
                        .any(|t| t.trim().eq_ignore_ascii_case(&want))
                })
            });
            ok(found)
        }
        "is_first_hop" => {
            for a in args {
                ctx.eval(a)?;
            }
            // A request: the sender's Via is the only one.
            match ctx.msg.vias() {
                Ok(v) => ok(v.len() == 1),
                Err(_) => -1,
            }
        }
        "cmp_uri" | "cmp_aor" => {
            let a = text(ctx, &args[0])?;
            let b = text(ctx, &args[1])?;
            let (Some(x), Some(y)) = (UriParts::split(&a), UriParts::split(&b)) else {
                ctx.error(&format!("{name}: `{a}` or `{b}` is not a SIP URI"));
                return Ok(-1);
            };
            ok(if name == "cmp_uri" {
                same_uri(&x, &y)
            } else {
                same_aor(&x, &y)
            })
        }
        _ => {
            ctx.error(&format!(
                "`{module}.{name}` has no handler; the script stops"
            ));
            return Err(Halt::Drop);
        }
    })
}

/// `+` and 2 to 15 digits.
fn is_e164(v: &str) -> bool {
    v.len() > 2 && v.len() < 17 && v.starts_with('+') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

fn split_headers(rest: &str) -> (&str, &str) {
    match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    }
}

/// The `;name[=value]` parameters of a URI's tail.
fn params(rest: &str) -> Vec<(String, Option<String>)> {
    let (p, _) = split_headers(rest);
    p.split(';')
        .skip(1)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
            None => (s.trim().to_string(), None),
        })
        .collect()
}

/// RFC 3261 §19.1.4: user and password exactly, host any case, ports
/// equal (absent is not 5060), and the `user`, `ttl`, `method`, `maddr`
/// and `transport` parameters equal where either has them; other
/// parameters only where both have them.
fn same_uri(x: &UriParts, y: &UriParts) -> bool {
    if !x.scheme.eq_ignore_ascii_case(&y.scheme)
        || x.user != y.user
        || x.password != y.password
        || !x.host.eq_ignore_ascii_case(&y.host)
        || x.port != y.port
    {
        return false;
    }
    let (px, py) = (params(&x.rest), params(&y.rest));
    let get = |ps: &[(String, Option<String>)], n: &str| {
        ps.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone().unwrap_or_default().to_ascii_lowercase())
    };
    for n in ["user", "ttl", "method", "maddr", "transport"] {
        if get(&px, n) != get(&py, n) {
            return false;
        }
    }
    px.iter().all(|(k, _)| match (get(&px, k), get(&py, k)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    })
}

/// Address-of-record equality: user exactly, host any case, port with
/// the scheme's default filled in.
fn same_aor(x: &UriParts, y: &UriParts) -> bool {
    let port = |u: &UriParts| {
        u.port
            .as_deref()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(if u.is_secure() { 5061 } else { 5060 })
    };
    x.user == y.user && x.host.eq_ignore_ascii_case(&y.host) && port(x) == port(y)
}

enum Tel2Sip {
    NotTel,
    Bad,
    Sip(String),
}

/// RFC 3261 §19.1.6: `tel:+1-234;Ext=5` → `sip:+1234;ext=5@host;user=phone`
/// (visual separators dropped, parameters lower-cased).
fn tel2sip(uri: &str, host: &str) -> Tel2Sip {
    let Some(rest) = uri
        .get(..4)
        .filter(|s| s.eq_ignore_ascii_case("tel:"))
        .map(|_| &uri[4..])
    else {
        return Tel2Sip::NotTel;
    };
    let (number, params) = match rest.find(';') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let number: String = number
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
        .collect();
    if number.is_empty() || host.is_empty() {
        return Tel2Sip::Bad;
    }
    Tel2Sip::Sip(format!(
        "sip:{number}{}@{host};user=phone",
        params.to_ascii_lowercase()
    ))
}

/// 200 to an OPTIONS for the server (no user in the Request-URI) with the
/// capability headers; -1 for any other request, as in Kamailio.
fn options_reply(ctx: &mut Ctx) -> i64 {
    if ctx.msg.method() != Some(Method::Options) {
        ctx.error("options_reply: called for a request that is not OPTIONS");
        return -1;
    }
    if UriParts::split(&ctx.ruri).is_some_and(|u| u.user.is_some()) {
        ctx.error("options_reply: the Request-URI has a user part");
        return -1;
    }
    for (n, v) in OPTIONS_HEADERS {
        ctx.state.reply_headers.push((n.to_string(), v.to_string()));
    }
    ok(super::funcs::send_reply(ctx, 200, "OK"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_and_tel2sip() {
        assert!(is_e164("+358401234567"));
        assert!(!is_e164("+1"));
        assert!(!is_e164("358401234567"));
        assert!(!is_e164("+1234567890123456"));
        match tel2sip("tel:+12-(34)-56-78;Ext=200;ISUB=+123-456", "foo.com") {
            Tel2Sip::Sip(s) => {
                assert_eq!(s, "sip:+12345678;ext=200;isub=+123-456@foo.com;user=phone")
            }
            _ => panic!(),
        }
        assert!(matches!(tel2sip("sip:a@b", "x"), Tel2Sip::NotTel));
    }

    #[test]
    fn uri_comparisons() {
        let u = |s| UriParts::split(s).unwrap();
        assert!(same_uri(
            &u("sip:bob@BIloxi.com;transport=udp"),
            &u("sip:bob@biloxi.com;TRANSPORT=UDP")
        ));
        assert!(!same_uri(
            &u("sip:bob@biloxi.com"),
            &u("sip:bob@biloxi.com:5060")
        ));
        assert!(!same_uri(
            &u("sip:BOB@biloxi.com"),
            &u("sip:bob@biloxi.com")
        ));
        assert!(!same_uri(
            &u("sip:bob@biloxi.com;user=phone"),
            &u("sip:bob@biloxi.com")
        ));
        assert!(same_uri(
            &u("sip:bob@biloxi.com;foo=1"),
            &u("sip:bob@biloxi.com")
        ));
        assert!(same_aor(
            &u("sip:bob@biloxi.com:5060;x=y"),
            &u("sip:bob@BILOXI.com")
        ));
        assert!(!same_aor(
            &u("sip:bob@biloxi.com:5062"),
            &u("sip:bob@biloxi.com")
        ));
    }
}
