//! Via (RFC 3261 §20.42, RFC 3581 rport).

use crate::sip::error::Problem;
use crate::sip::host::{parse_host, parse_port, Host};
use crate::sip::params::{parse_header_params, Params};
use crate::sip::scanner::{parse_list, Fault, Scanner};
use crate::sip::text::SipStr;

/// The branch prefix that marks RFC 3261 transaction ids (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// What the sender asked about rport (RFC 3581).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rport {
    Absent,
    /// `;rport` (or `;rport=` as some phones write it): fill it in.
    Requested,
    Value(u16),
}

/// One via-parm: one hop. A Via header line may hold several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    protocol_name: SipStr,
    protocol_version: SipStr,
    transport: SipStr,
    host: Host,
    port: Option<u16>,
    params: Params,
    ttl: Option<u8>,
    rport: Rport,
}

impl Via {
    /// `SIP` in `SIP/2.0/UDP`.
    pub fn protocol_name(&self) -> &SipStr {
        &self.protocol_name
    }

    pub fn protocol_version(&self) -> &SipStr {
        &self.protocol_version
    }

    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ... as written; unknown ones are
    /// legal (RFC 4475 §3.1.1.10).
    pub fn transport(&self) -> &SipStr {
        &self.transport
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn branch(&self) -> Option<&SipStr> {
        self.params.value("branch")
    }

    /// Whether the branch starts with the RFC 3261 magic cookie; without it
    /// the transaction layer falls back to RFC 2543 matching.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.starts_with(MAGIC_COOKIE.as_bytes()))
    }

    pub fn received(&self) -> Option<&SipStr> {
        self.params.value("received")
    }

    pub fn maddr(&self) -> Option<&SipStr> {
        self.params.value("maddr")
    }

    pub fn ttl(&self) -> Option<u8> {
        self.ttl
    }

    pub fn rport(&self) -> Rport {
        self.rport
    }
}

/// `1#via-parm`.
pub(crate) fn parse_vias(s: &mut Scanner<'_>) -> Result<Vec<Via>, Fault> {
    parse_list(s, parse_via)
}

/// `sent-protocol LWS sent-by *( SEMI via-params )`, with white space
/// allowed around `/` and `:` (RFC 4475 §3.1.1.1).
fn parse_via(s: &mut Scanner<'_>) -> Result<Via, Fault> {
    let protocol_name = s.token(Problem::BadSentProtocol)?;
    let protocol_version = slash_token(s)?;
    let transport = slash_token(s)?;
    if !s.skip_lws() {
        return Err(s.fault(Problem::BadSentProtocol));
    }
    let host = parse_host(s)?;
    let before_colon = s.pos();
    s.skip_lws();
    let port = if s.eat(b':') {
        s.skip_lws();
        Some(parse_port(s)?)
    } else {
        s.set_pos(before_colon);
        None
    };
    let params_start = s.pos();
    let params = parse_header_params(s)?;
    let (ttl, rport) = check_params(&params, params_start)?;
    Ok(Via {
        protocol_name: s.text(protocol_name),
        protocol_version: s.text(protocol_version),
        transport: s.text(transport),
        host,
        port,
        params,
        ttl,
        rport,
    })
}

fn slash_token(s: &mut Scanner<'_>) -> Result<crate::sip::span::Span, Fault> {
    s.skip_lws();
    s.expect(b'/', Problem::BadSentProtocol)?;
    s.skip_lws();
    s.token(Problem::BadSentProtocol)
}

/// The parameters whose values the transaction and transport layers rely
/// on get checked here, so that a Via that parsed is usable.
fn check_params(params: &Params, at: usize) -> Result<(Option<u8>, Rport), Fault> {
    if params.value("branch").is_some_and(|b| b.is_empty()) {
        return Err(Fault::new(Problem::EmptyBranch, at));
    }
    let ttl = match params.value("ttl") {
        None => None,
        Some(v) => Some(small_number(v, 255).ok_or(Fault::new(Problem::BadTtl, at))? as u8),
    };
    let rport = match params.get("rport") {
        None => Rport::Absent,
        Some(p) => match p.value() {
            None => Rport::Requested,
            Some(v) if v.is_empty() => Rport::Requested,
            Some(v) => Rport::Value(
                small_number(v, 65_535).ok_or(Fault::new(Problem::BadRport, at))? as u16,
            ),
        },
    };
    Ok((ttl, rport))
}

fn small_number(digits: &[u8], max: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    (value <= max).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::span::Span;
    use bytes::Bytes;

    fn vias(text: &str) -> Result<Vec<Via>, Fault> {
        let src = Bytes::copy_from_slice(text.as_bytes());
        parse_vias(&mut Scanner::new(&src, Span::new(0, src.len())))
    }

    #[test]
    fn folded_and_spaced_vias() {
        let v = vias("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].transport(), &"TCP");
        assert_eq!(v[0].host().text(), &"spindle.example.com");
        assert_eq!(v[0].branch().unwrap(), &"z9hG4bK9ikj8");
        assert_eq!(v[1].branch().unwrap(), &"z9hG4bK30239");
        assert!(v[1].has_rfc3261_branch());
        let v = vias("SIP  /   2.0\n /UDP\n    193.175.133.193").unwrap();
        assert_eq!(v[0].host().text(), &"193.175.133.193");
    }

    #[test]
    fn via_parameters() {
        let v = vias("SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKa;rport;received=192.0.2.1;maddr=224.2.0.1;ttl=16").unwrap();
        let v = &v[0];
        assert!(v.host().is_ipv6_reference());
        assert_eq!(v.port(), Some(5070));
        assert_eq!(v.rport(), Rport::Requested);
        assert_eq!(v.received().unwrap(), &"192.0.2.1");
        assert_eq!(v.maddr().unwrap(), &"224.2.0.1");
        assert_eq!(v.ttl(), Some(16));
        let v = vias("SIP/2.0/UDP h : 5060;rport=10344").unwrap();
        assert_eq!(v[0].port(), Some(5060));
        assert_eq!(v[0].rport(), Rport::Value(10344));
        assert_eq!(
            vias("SIP/2.0/UDP h;rport=").unwrap()[0].rport(),
            Rport::Requested
        );
        assert_eq!(vias("SIP/2.0/UDP h").unwrap()[0].rport(), Rport::Absent);
    }

    #[test]
    fn broken_vias() {
        assert_eq!(
            vias("SIP/2.0/UDP 192.0.2.15;;,;,,").unwrap_err().problem,
            Problem::EmptyParameter
        );
        assert_eq!(
            vias("SIP/2.0/UDP 193.175.133.193;branch=")
                .unwrap_err()
                .problem,
            Problem::EmptyBranch
        );
        assert_eq!(
            vias("SIP/2.0/UDP h;ttl=256").unwrap_err().problem,
            Problem::BadTtl
        );
        assert_eq!(
            vias("SIP/2.0 h").unwrap_err().problem,
            Problem::BadSentProtocol
        );
        assert_eq!(
            vias("SIP/2.0/UDP").unwrap_err().problem,
            Problem::BadSentProtocol
        );
        assert_eq!(
            vias("SIP/2.0/UDP h,").unwrap_err().problem,
            Problem::EmptyListElement
        );
        assert_eq!(
            vias("SIP/2.0/UDP h x").unwrap_err().problem,
            Problem::TrailingCharacters
        );
    }
}
