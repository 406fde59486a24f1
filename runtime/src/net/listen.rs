//! `listen=` and `alias=` values: what sockets a config asks for.
//!
//! Kamailio 5.6 grammar (all earlier forms are subsets):
//! `listen = sock_list [advertise host[:port]] [name "sockname"] [virtual]`,
//! where `sock := [proto:]addr[:port]`, `addr` is an IPv4 address, an IPv6
//! address (bare or in `[ ]`), a host name, an interface name (`eth0`), or
//! a parenthesised list `(a, b)` (multi-homed SCTP); `proto` and `port` may
//! be `*` (`any` in OpenSER 1.2 – Kamailio 1.5). Pure parsing: names are
//! resolved later, by the transport layer.

use crate::sip::Proto;
use std::fmt;

/// The protocol of a socket spec: `None` for `*` / `any` or none given
/// (every protocol the server runs).
fn parse_proto(s: &str) -> Option<Option<Proto>> {
    if s == "*" || s.eq_ignore_ascii_case("any") {
        Some(None)
    } else {
        Proto::parse(s).map(Some)
    }
}

/// One address of a socket spec, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    Ip(std::net::IpAddr),
    /// A host name or an interface name: which one is decided when
    /// resolving (an interface name wins, as in Kamailio).
    Name(String),
    /// `*`: every address of every interface.
    Any,
}

/// One `listen=` / `alias=` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketSpec {
    /// `None`: `*` / `any` or none given, every protocol the server runs.
    pub proto: Option<Proto>,
    /// One address, or several for a multi-homed `(a, b)` list.
    pub addrs: Vec<Addr>,
    /// `None`: the `port=` value (default 5060; 5061 for TLS).
    pub port: Option<u16>,
    /// `advertise host[:port]`: what goes into Via and Record-Route.
    pub advertise: Option<(String, Option<u16>)>,
    /// `name "sockname"`.
    pub name: Option<String>,
    /// `virtual`: the address may be owned by another host (VRRP).
    pub is_virtual: bool,
}

/// Why a socket spec does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub message: String,
    /// Byte offset in the value text.
    pub at: usize,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.at)
    }
}

fn err(message: impl Into<String>, at: usize) -> SpecError {
    SpecError {
        message: message.into(),
        at,
    }
}

/// Splits a value into words: quoted strings, `(`, `)`, `,` stand alone;
/// `[v6]` stays one word with what follows it (`[::1]:5060`).
fn words(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else if matches!(c, b'(' | b')' | b',') {
            i += 1;
        } else {
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'[' => depth += 1,
                    b']' => depth -= 1,
                    b'(' | b')' | b',' | b'"' if depth == 0 => break,
                    c if c.is_ascii_whitespace() && depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
        }
        out.push((start, &text[start..i]));
    }
    out
}

fn parse_port(s: &str, at: usize) -> Result<Option<u16>, SpecError> {
    if s == "*" || s.eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    match s.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(Some(p as u16)),
        _ => Err(err(format!("`{s}` is not a port (1–65535)"), at)),
    }
}

fn parse_addr(s: &str, at: usize) -> Result<Addr, SpecError> {
    if s.is_empty() {
        return Err(err("an address is missing", at));
    }
    if s == "*" || s.eq_ignore_ascii_case("any") {
        return Ok(Addr::Any);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(Addr::Ip(ip));
    }
    if s.starts_with('[') {
        return Err(err(format!("`{s}` is not an IPv6 address"), at));
    }
    let ok = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'));
    if !ok {
        return Err(err(
            format!("`{s}` is not an address, host or interface name"),
            at,
        ));
    }
    Ok(Addr::Name(s.to_string()))
}

/// `[proto:]addr[:port]` of one word. A bare IPv6 address has colons of
/// its own: it takes a port only in the `[addr]:port` form.
fn parse_sock(word: &str, at: usize) -> Result<(Option<Proto>, Addr, Option<u16>), SpecError> {
    let (proto, rest) = match word.split_once(':') {
        Some((p, rest)) => match parse_proto(p) {
            Some(proto) => (proto, rest),
            None => (None, word),
        },
        None => (None, word),
    };
    let rest_at = at + (word.len() - rest.len());
    if rest.starts_with('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| err("`[` without `]`", rest_at))?;
        let addr = parse_addr(&rest[..=close], rest_at)?;
        let port = match &rest[close + 1..] {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => parse_port(p, rest_at + close + 2)?,
                None => return Err(err(format!("`{p}` after `]`"), rest_at + close + 1)),
            },
        };
        return Ok((proto, addr, port));
    }
    if rest.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((proto, parse_addr(rest, rest_at)?, None));
    }
    match rest.rsplit_once(':') {
        Some((a, p)) => Ok((
            proto,
            parse_addr(a, rest_at)?,
            parse_port(p, rest_at + a.len() + 1)?,
        )),
        None => Ok((proto, parse_addr(rest, rest_at)?, None)),
    }
}

/// Parses one `listen=` or `alias=` value.
pub fn parse(text: &str) -> Result<SocketSpec, SpecError> {
    let w = words(text);
    let mut i: usize;
    let (proto, addrs, port) = match w.first() {
        None => return Err(err("the value is empty", 0)),
        // `[proto:](a, b)[:port]`: multi-homed.
        Some(&(at, word))
            if word == "("
                || word.ends_with(":(")
                || word.ends_with(':') && w.get(1).is_some_and(|x| x.1 == "(") =>
        {
            let proto = match word.strip_suffix(':').or_else(|| word.strip_suffix(":(")) {
                Some(p) => {
                    parse_proto(p).ok_or_else(|| err(format!("`{p}` is not a protocol"), at))?
                }
                None => None,
            };
            i = if word == "(" || word.ends_with(":(") {
                1
            } else {
                2
            };
            let mut addrs = Vec::new();
            loop {
                let Some(&(at, word)) = w.get(i) else {
                    return Err(err("`(` without `)`", text.len()));
                };
                i += 1;
                match word {
                    "," => continue,
                    ")" => break,
                    _ => addrs.push(parse_addr(word, at)?),
                }
            }
            let port = match w.get(i) {
                Some(&(at, p)) if p.starts_with(':') => {
                    i += 1;
                    parse_port(&p[1..], at + 1)?
                }
                _ => None,
            };
            (proto, addrs, port)
        }
        Some(&(at, word)) => {
            i = 1;
            let (proto, addr, port) = parse_sock(word, at)?;
            (proto, vec![addr], port)
        }
    };
    let mut spec = SocketSpec {
        proto,
        addrs,
        port,
        advertise: None,
        name: None,
        is_virtual: false,
    };
    while let Some(&(at, word)) = w.get(i) {
        i += 1;
        match word.to_ascii_lowercase().as_str() {
            "advertise" => {
                let &(at, a) = w
                    .get(i)
                    .ok_or_else(|| err("`advertise` needs an address", at))?;
                i += 1;
                let (_, addr, port) = parse_sock(a, at)?;
                let host = match addr {
                    Addr::Ip(ip) => ip.to_string(),
                    Addr::Name(n) => n,
                    Addr::Any => return Err(err("`advertise *` names no address", at)),
                };
                spec.advertise = Some((host, port));
            }
            "name" => {
                let &(at, n) = w
                    .get(i)
                    .ok_or_else(|| err("`name` needs a quoted name", at))?;
                i += 1;
                let n = n
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'))
                    .ok_or_else(|| err("the socket name must be quoted", at))?;
                spec.name = Some(n.to_string());
            }
            "virtual" => spec.is_virtual = true,
            _ => return Err(err(format!("`{word}` is not expected here"), at)),
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> Addr {
        Addr::Ip(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn plain_and_proto_forms() {
        let s = parse("127.0.0.1").unwrap();
        assert_eq!(
            (s.proto, s.addrs.clone(), s.port),
            (None, vec![ip("127.0.0.1")], None)
        );
        let s = parse("udp:127.0.0.1:5070").unwrap();
        assert_eq!((s.proto, s.port), (Some(Proto::Udp), Some(5070)));
        let s = parse("tcp:eth0:5080").unwrap();
        assert_eq!(s.addrs, vec![Addr::Name("eth0".into())]);
        let s = parse("sip.example.org:5060").unwrap();
        assert_eq!(s.addrs, vec![Addr::Name("sip.example.org".into())]);
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(parse("[::1]:5060").unwrap().port, Some(5060));
        assert_eq!(
            parse("udp:[2001:db8::1]:5062").unwrap().addrs,
            vec![ip("2001:db8::1")]
        );
        let bare = parse("::1").unwrap();
        assert_eq!((bare.addrs, bare.port), (vec![ip("::1")], None));
    }

    #[test]
    fn wildcards_advertise_name_virtual() {
        let s = parse("udp:*:5060").unwrap();
        assert_eq!(s.addrs, vec![Addr::Any]);
        let s = parse("any:127.0.0.1:any").unwrap();
        assert_eq!((s.proto, s.port), (None, None));
        let s =
            parse(r#"udp:10.0.0.1:5060 advertise 203.0.113.5:5080 name "pub" virtual"#).unwrap();
        assert_eq!(s.advertise, Some(("203.0.113.5".into(), Some(5080))));
        assert_eq!(s.name.as_deref(), Some("pub"));
        assert!(s.is_virtual);
    }

    #[test]
    fn multihomed_lists() {
        let s = parse("sctp:(10.0.0.1, 10.0.0.2):5060").unwrap();
        assert_eq!(s.proto, Some(Proto::Sctp));
        assert_eq!(s.addrs, vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        assert_eq!(s.port, Some(5060));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(parse("udp:127.0.0.1:99999").unwrap_err().at, 14);
        assert!(parse("").is_err());
        assert!(parse("udp:1.2.3.4 advertise").is_err());
        assert!(parse("1.2.3.4 bogus")
            .unwrap_err()
            .message
            .contains("bogus"));
        assert!(parse("[::1").is_err());
        assert!(parse("name with spaces!").is_err());
    }
}
