//! Where a request came from and where its responses go, sans IO.
//!
//! - On receipt of a request (RFC 3261 §18.2.1, RFC 3581 §4): the top Via
//!   gets `received=<source ip>` when its sent-by host is not the source
//!   address, and `rport` without a value gets the source port. With
//!   `rport` the server adds `received` even when the host matches (RFC 3581
//!   says so, and Kamailio does it). An existing `received` with another
//!   address is replaced. The edits are lumps on a [`MessageEditor`], so
//!   every other byte stays as received.
//! - Sending a response (RFC 3261 §18.2.2, RFC 3581 §4): on a reliable
//!   transport, the connection the request came on while it is open; else
//!   `maddr`, else `received` (with the `rport` port), else the sent-by host
//!   and port (default 5060, 5061 for TLS).

use super::sockets::{Transport, DEFAULT_PORT};
use super::ConnId;
use crate::sip::{ErrorKind, HeaderName, MessageEditor, Rport, SipError, SipMessage, Via};
use std::net::{IpAddr, SocketAddr};

/// What [`add_received`] recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViaFix {
    /// `received=` was added or its value replaced.
    pub received: bool,
    /// `rport` got its value.
    pub rport: bool,
}

impl ViaFix {
    pub fn changed(&self) -> bool {
        self.received || self.rport
    }
}

/// The address as a `received` value: IPv4 dotted, IPv6 without brackets
/// (RFC 3261 §20.42 `received = IPv4address / IPv6address`); an IPv4 address
/// mapped into IPv6 (a dual-stack socket) is written as IPv4.
pub fn received_text(ip: IpAddr) -> String {
    ip.to_canonical().to_string()
}

/// Where `s`, a slice of the message's buffer, starts in it.
fn offset_of(msg: &SipMessage, s: &[u8]) -> Option<usize> {
    let buf = msg.as_bytes();
    let off = (s.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
    (!s.is_empty() && off + s.len() <= buf.len()).then_some(off)
}

fn skip_lws(buf: &[u8], mut pos: usize, end: usize) -> usize {
    while pos < end && matches!(buf[pos], b' ' | b'\t' | b'\r' | b'\n') {
        pos += 1;
    }
    pos
}

/// After a parameter name: past `=` (and the white space around it) when
/// there is one, where an empty value would be.
fn after_equals(buf: &[u8], name_end: usize, end: usize) -> Option<usize> {
    let pos = skip_lws(buf, name_end, end);
    (pos < end && buf[pos] == b'=').then(|| skip_lws(buf, pos + 1, end))
}

/// The end of the first via-parm of the top Via line: after its last
/// parameter, or after sent-by when it has none.
fn via_parm_end(msg: &SipMessage, via: &Via, value_end: usize) -> Option<usize> {
    let buf: &[u8] = msg.as_bytes();
    if let Some(last) = via.params().iter().last() {
        let name_end = offset_of(msg, last.name())? + last.name().len();
        return match last.value() {
            Some(v) if !v.is_empty() => Some(offset_of(msg, v)? + v.len()),
            Some(_) => after_equals(buf, name_end, value_end),
            None => Some(name_end),
        };
    }
    let host = via.host().text();
    let host_end = offset_of(msg, host)? + host.len();
    let pos = skip_lws(buf, host_end, value_end);
    if pos < value_end && buf[pos] == b':' {
        let mut pos = skip_lws(buf, pos + 1, value_end);
        while pos < value_end && buf[pos].is_ascii_digit() {
            pos += 1;
        }
        return Some(pos);
    }
    Some(host_end)
}

/// A parameter whose place in the buffer cannot be found: the Via was not
/// parsed from this message. Reported as an edit out of range.
fn internal(msg: &SipMessage) -> SipError {
    SipError::new(ErrorKind::LumpOutOfRange {
        offset: 0,
        len: msg.as_bytes().len(),
    })
}

/// Records on `editor` the top-Via edits for a request that arrived from
/// `source`. Responses, and requests without a Via, are left alone.
pub fn add_received(
    editor: &mut MessageEditor<'_>,
    source: SocketAddr,
) -> Result<ViaFix, SipError> {
    let msg = editor.message();
    let mut fix = ViaFix::default();
    if !msg.is_request() {
        return Ok(fix);
    }
    let Some(header) = msg.headers_named(&HeaderName::Via).next() else {
        return Ok(fix);
    };
    let Some(via) = msg.top_via()? else {
        return Ok(fix);
    };
    let value_end = header.value_span().end;
    let buf: &[u8] = msg.as_bytes();
    let src_ip = source.ip().to_canonical();
    let src_text = received_text(src_ip);

    let rport_requested = via.rport() == Rport::Requested;
    if rport_requested {
        let param = via.params().get("rport").ok_or_else(|| internal(msg))?;
        let name_end =
            offset_of(msg, param.name()).ok_or_else(|| internal(msg))? + param.name().len();
        let port = source.port().to_string();
        match after_equals(buf, name_end, value_end) {
            Some(at) => editor.lumps_mut().insert_after(at, port)?,
            None => editor
                .lumps_mut()
                .insert_after(name_end, format!("={port}"))?,
        }
        fix.rport = true;
    }

    let host_is_source = via.host().ip().map(|ip| ip.to_canonical()) == Some(src_ip);
    match via.params().get("received") {
        Some(p) => {
            let same = p.value().is_some_and(|v| {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| t.trim_matches(['[', ']']).parse::<IpAddr>().ok())
                    .is_some_and(|ip| ip.to_canonical() == src_ip)
            });
            if !same {
                match p.value().filter(|v| !v.is_empty()) {
                    Some(v) => {
                        let at = offset_of(msg, v).ok_or_else(|| internal(msg))?;
                        editor
                            .lumps_mut()
                            .replace(crate::sip::Span::new(at, at + v.len()), src_text)?;
                    }
                    None => {
                        let name_end =
                            offset_of(msg, p.name()).ok_or_else(|| internal(msg))? + p.name().len();
                        match after_equals(buf, name_end, value_end) {
                            Some(at) => editor.lumps_mut().insert_after(at, src_text)?,
                            None => editor
                                .lumps_mut()
                                .insert_after(name_end, format!("={src_text}"))?,
                        }
                    }
                }
                fix.received = true;
            }
        }
        None if !host_is_source || rport_requested => {
            let end = via_parm_end(msg, via, value_end).ok_or_else(|| internal(msg))?;
            editor
                .lumps_mut()
                .insert_after(end, format!(";received={src_text}"))?;
            fix.received = true;
        }
        None => {}
    }
    Ok(fix)
}

/// The request with its top Via fixed, re-parsed; the message itself when
/// nothing needed fixing.
pub fn with_received(msg: &SipMessage, source: SocketAddr) -> Result<SipMessage, SipError> {
    let mut editor = MessageEditor::new(msg);
    if !add_received(&mut editor, source)?.changed() {
        return Ok(msg.clone());
    }
    SipMessage::parse_datagram(editor.build()?)
}

/// Where a response goes when no connection takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Addr(SocketAddr),
    /// A host name (sent-by or maddr): resolve it (RFC 3263 §5) first.
    Host {
        host: String,
        port: u16,
    },
}

/// Where to send a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseRoute {
    pub transport: Transport,
    /// Reliable transports: the connection the request came on, to be used
    /// while it is open.
    pub connection: Option<ConnId>,
    /// Otherwise (or when that connection is gone), this address.
    pub target: Target,
}

fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(text)
        .ok()?
        .trim_matches(['[', ']'])
        .parse()
        .ok()
}

fn host_target(host: &[u8], port: u16) -> Target {
    match parse_ip(host) {
        Some(ip) => Target::Addr(SocketAddr::new(ip, port)),
        None => Target::Host {
            host: String::from_utf8_lossy(host).into_owned(),
            port,
        },
    }
}

/// RFC 3261 §18.2.2 with RFC 3581: where a response whose top Via is `via`
/// goes. `arrived_on` is the transport of the request (used when the Via
/// names another one), `connection` the connection it came on, if any.
///
/// The port is the `rport` value when there is one, else the sent-by port,
/// else 5060 (5061 for TLS). Kamailio uses the `rport` port for reliable
/// transports too, and so does this.
pub fn response_route(
    via: &Via,
    arrived_on: Transport,
    connection: Option<ConnId>,
) -> ResponseRoute {
    let via_transport = via.transport();
    let transport = if via_transport.eq_ignore_case("UDP") {
        Transport::Udp
    } else if via_transport.eq_ignore_case("TCP") {
        Transport::Tcp
    } else {
        arrived_on
    };
    let default_port = if via_transport.eq_ignore_case("TLS") {
        5061
    } else {
        DEFAULT_PORT
    };
    let sent_by_port = via.port().unwrap_or(default_port);
    let port = match via.rport() {
        Rport::Value(p) => p,
        _ => sent_by_port,
    };
    let received = via.received().and_then(|r| parse_ip(r));
    let reliable = transport.is_reliable();
    let target = match (via.maddr(), received) {
        (Some(maddr), _) if !reliable && !maddr.is_empty() => host_target(maddr, sent_by_port),
        (_, Some(ip)) => Target::Addr(SocketAddr::new(ip, port)),
        _ => host_target(via.host().text(), port),
    };
    ResponseRoute {
        transport,
        connection: if reliable { connection } else { None },
        target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(via: &str) -> SipMessage {
        let text = format!(
            "OPTIONS sip:b@example.org SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@example.org>;tag=1\r\nTo: <sip:b@example.org>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        SipMessage::parse_datagram(text.into_bytes()).unwrap()
    }

    fn fixed_via(via: &str, src: &str) -> (String, ViaFix) {
        let msg = req(via);
        let mut ed = MessageEditor::new(&msg);
        let fix = add_received(&mut ed, src.parse().unwrap()).unwrap();
        let out = ed.build().unwrap();
        let text = String::from_utf8(out.to_vec()).unwrap();
        let expected_prefix = "OPTIONS sip:b@example.org SIP/2.0\r\nVia: ";
        assert!(text.starts_with(expected_prefix));
        let rest = &text[expected_prefix.len()..];
        let line = rest.split("\r\nFrom:").next().unwrap().to_string();
        // Nothing else changed.
        assert_eq!(
            text.replacen(&line, via, 1),
            String::from_utf8(msg.as_bytes().to_vec()).unwrap()
        );
        (line, fix)
    }

    #[test]
    fn received_added_when_host_differs() {
        let (v, fix) = fixed_via(
            "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1",
            "192.0.2.4:5060",
        );
        assert_eq!(
            v,
            "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1;received=192.0.2.4"
        );
        assert_eq!(
            fix,
            ViaFix {
                received: true,
                rport: false
            }
        );
        let (v, _) = fixed_via("SIP/2.0/UDP 10.0.0.1:5070", "192.0.2.4:5070");
        assert_eq!(v, "SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.4");
        let (v, _) = fixed_via(
            "SIP/2.0/UDP h : 5070 ;branch=z9hG4bK1, SIP/2.0/UDP x",
            "192.0.2.4:1",
        );
        assert_eq!(
            v,
            "SIP/2.0/UDP h : 5070 ;branch=z9hG4bK1;received=192.0.2.4, SIP/2.0/UDP x"
        );
        let (v, _) = fixed_via("SIP/2.0/UDP h;x=\"a;b\"", "[2001:db8::1]:5060");
        assert_eq!(v, "SIP/2.0/UDP h;x=\"a;b\";received=2001:db8::1");
    }

    #[test]
    fn nothing_when_host_is_source() {
        let (v, fix) = fixed_via(
            "SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK1",
            "192.0.2.4:5062",
        );
        assert_eq!(v, "SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK1");
        assert!(!fix.changed());
        let (_, fix) = fixed_via(
            "SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1",
            "[2001:db8::1]:9",
        );
        assert!(!fix.changed());
        // A dual-stack socket reports IPv4 peers as mapped addresses.
        let (_, fix) = fixed_via("SIP/2.0/UDP 192.0.2.4", "[::ffff:192.0.2.4]:9");
        assert!(!fix.changed());
    }

    #[test]
    fn rport_filled_and_received_added() {
        let (v, fix) = fixed_via(
            "SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bK1",
            "192.0.2.4:40001",
        );
        assert_eq!(
            v,
            "SIP/2.0/UDP 192.0.2.4:5060;rport=40001;branch=z9hG4bK1;received=192.0.2.4"
        );
        assert_eq!(
            fix,
            ViaFix {
                received: true,
                rport: true
            }
        );
        let (v, _) = fixed_via("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "10.1.2.3:7");
        assert_eq!(v, "SIP/2.0/UDP h;branch=z9hG4bK1;rport=7;received=10.1.2.3");
        let (v, _) = fixed_via("SIP/2.0/UDP h;rport=", "10.1.2.3:7");
        assert_eq!(v, "SIP/2.0/UDP h;rport=7;received=10.1.2.3");
        // A value already there stays.
        let (v, fix) = fixed_via("SIP/2.0/UDP 10.1.2.3;rport=9", "10.1.2.3:7");
        assert_eq!(v, "SIP/2.0/UDP 10.1.2.3;rport=9");
        assert!(!fix.changed());
    }

    #[test]
    fn existing_received_replaced_or_kept() {
        let (v, _) = fixed_via(
            "SIP/2.0/UDP h;received=10.9.9.9;branch=z9hG4bK1",
            "10.1.2.3:7",
        );
        assert_eq!(v, "SIP/2.0/UDP h;received=10.1.2.3;branch=z9hG4bK1");
        let (v, fix) = fixed_via("SIP/2.0/UDP h;received=10.1.2.3", "10.1.2.3:7");
        assert_eq!(v, "SIP/2.0/UDP h;received=10.1.2.3");
        assert!(!fix.changed());
    }

    #[test]
    fn responses_are_not_touched() {
        let msg = SipMessage::parse_datagram(
            &b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;rport\r\nContent-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        let mut ed = MessageEditor::new(&msg);
        assert!(!add_received(&mut ed, "10.0.0.1:1".parse().unwrap())
            .unwrap()
            .changed());
        let same = with_received(&msg, "10.0.0.1:1".parse().unwrap()).unwrap();
        assert_eq!(same.as_bytes(), msg.as_bytes());
    }

    fn route(via: &str, on: Transport, conn: Option<ConnId>) -> ResponseRoute {
        let msg = req(via);
        let v = msg.top_via().unwrap().unwrap().clone();
        response_route(&v, on, conn)
    }

    fn addr(s: &str) -> Target {
        Target::Addr(s.parse().unwrap())
    }

    #[test]
    fn response_routes() {
        let r = route(
            "SIP/2.0/UDP h;received=192.0.2.4;rport=40001",
            Transport::Udp,
            None,
        );
        assert_eq!(r.target, addr("192.0.2.4:40001"));
        assert_eq!(r.connection, None);
        let r = route(
            "SIP/2.0/UDP h:5070;received=192.0.2.4",
            Transport::Udp,
            None,
        );
        assert_eq!(r.target, addr("192.0.2.4:5070"));
        let r = route("SIP/2.0/UDP 192.0.2.9", Transport::Udp, None);
        assert_eq!(r.target, addr("192.0.2.9:5060"));
        let r = route("SIP/2.0/UDP pc.example.com:5066", Transport::Udp, None);
        assert_eq!(
            r.target,
            Target::Host {
                host: "pc.example.com".into(),
                port: 5066
            }
        );
        let r = route(
            "SIP/2.0/UDP h:5070;maddr=224.0.1.75;received=192.0.2.4",
            Transport::Udp,
            None,
        );
        assert_eq!(r.target, addr("224.0.1.75:5070"));
        let r = route(
            "SIP/2.0/UDP [2001:db8::2];received=2001:db8::1;rport=7",
            Transport::Udp,
            None,
        );
        assert_eq!(r.target, addr("[2001:db8::1]:7"));
        let r = route(
            "SIP/2.0/TLS h;received=192.0.2.4",
            Transport::Tcp,
            Some(ConnId(3)),
        );
        assert_eq!(
            (r.transport, r.target),
            (Transport::Tcp, addr("192.0.2.4:5061"))
        );
    }

    #[test]
    fn reliable_responses_use_the_connection() {
        let r = route(
            "SIP/2.0/TCP h:5070;maddr=224.0.1.75;received=192.0.2.4",
            Transport::Tcp,
            Some(ConnId(9)),
        );
        assert_eq!(r.transport, Transport::Tcp);
        assert_eq!(r.connection, Some(ConnId(9)));
        // maddr is for unreliable transports; the fallback is received.
        assert_eq!(r.target, addr("192.0.2.4:5070"));
        let r = route(
            "SIP/2.0/UDP h;received=192.0.2.4",
            Transport::Udp,
            Some(ConnId(9)),
        );
        assert_eq!(r.connection, None);
    }
}
