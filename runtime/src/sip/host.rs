//! Hosts and ports, as in URIs and Via sent-by.

use super::chars::is_host_char;
use super::error::Problem;
use super::scanner::{Fault, Scanner};
use super::span::Span;
use super::text::SipStr;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host as written (`example.com`, `192.0.2.1`, `[2001:db8::1]`) and, for
/// IP literals, the address.
#[derive(Clone, PartialEq, Eq)]
pub struct Host {
    text: SipStr,
    ip: Option<IpAddr>,
}

impl Host {
    /// The host as received; IPv6 references keep their brackets.
    pub fn text(&self) -> &SipStr {
        &self.text
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    pub fn is_ipv6_reference(&self) -> bool {
        matches!(self.ip, Some(IpAddr::V6(_)))
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Host({})", self.text)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.text)
    }
}

/// `hostname / IPv4address / IPv6reference`. Hostnames may contain `_`,
/// which the grammar forbids but SRV-style names and Kamailio accept.
pub(crate) fn parse_host(s: &mut Scanner<'_>) -> Result<Host, Fault> {
    let start = s.pos();
    if s.eat(b'[') {
        let inner = s.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !s.eat(b']') {
            return Err(Fault::new(Problem::BadHost, start));
        }
        let ip = std::str::from_utf8(s.bytes(inner))
            .ok()
            .and_then(|t| t.parse::<Ipv6Addr>().ok())
            .ok_or(Fault::new(Problem::BadHost, start))?;
        return Ok(Host {
            text: s.text(Span::new(start, s.pos())),
            ip: Some(IpAddr::V6(ip)),
        });
    }
    let span = s.take_while(is_host_char);
    if span.is_empty() {
        return Err(Fault::new(Problem::BadHost, start));
    }
    let bytes = s.bytes(span);
    let ip = parse_ipv4(bytes).map(IpAddr::V4);
    Ok(Host {
        text: s.text(span),
        ip,
    })
}

/// A dotted-quad IPv4 address, accepting exactly what `Ipv4Addr`'s
/// `FromStr` accepts (four decimal octets of at most three digits, none
/// above 255, no leading zero): every URI and Via host goes through here,
/// and the generic parser cost more than the rest of the host.
pub(crate) fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut part = 0;
    let (mut value, mut digits) = (0u16, 0);
    for &b in text {
        match b {
            b'.' if digits > 0 && part < 3 => {
                octets[part] = value as u8;
                part += 1;
                (value, digits) = (0, 0);
            }
            // A fourth digit, or a digit after a leading zero.
            b'0'..=b'9' if digits < 3 && !(digits == 1 && value == 0) => {
                value = value * 10 + u16::from(b - b'0');
                if value > 255 {
                    return None;
                }
                digits += 1;
            }
            _ => return None,
        }
    }
    if digits == 0 || part != 3 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ipv4Addr::from(octets))
}

/// 1*DIGIT, at most 65535.
pub(crate) fn parse_port(s: &mut Scanner<'_>) -> Result<u16, Fault> {
    let start = s.pos();
    let value = s
        .decimal(u64::from(u16::MAX))
        .map_err(|_| Fault::new(Problem::BadPort, start))?;
    u16::try_from(value).map_err(|_| Fault::new(Problem::BadPort, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn host(text: &'static str) -> Result<(Host, usize), Fault> {
        let src = Bytes::from_static(text.as_bytes());
        let mut s = Scanner::new(&src, Span::new(0, src.len()));
        parse_host(&mut s).map(|h| (h, s.pos()))
    }

    #[test]
    fn hosts_of_every_kind() {
        let (h, end) = host("[2001:db8::10]:5070").unwrap();
        assert!(h.is_ipv6_reference());
        assert_eq!(h.text(), &"[2001:db8::10]");
        assert_eq!(end, 14);
        let (h, _) = host("192.0.2.1").unwrap();
        assert_eq!(h.ip(), Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
        let (h, _) = host("chair-dnrc.example.com;x").unwrap();
        assert_eq!(h.ip(), None);
        assert_eq!(h.text(), &"chair-dnrc.example.com");
        assert!(host("[::1").is_err());
        let (h, _) = host("010.0.0.1").unwrap();
        assert_eq!(h.ip(), None);
        assert!(host("[zz]").is_err());
        assert!(host(";").is_err());
    }

    #[test]
    fn ipv4_literals_are_what_the_standard_parser_accepts() {
        let cases = [
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.0",
            "1..3.4",
            ".1.2.3",
            "1.2.3.4.",
            "1000.1.1.1",
            "",
            "1.2.3.a",
            "999.999.999.999",
            "00.0.0.0",
            "192.168.001.1",
        ];
        for case in cases {
            assert_eq!(
                parse_ipv4(case.as_bytes()),
                case.parse::<Ipv4Addr>().ok(),
                "{case}"
            );
        }
    }
}
