//! UDP: bind, receive loop (one datagram is one message), send.

use super::server::{Inner, LocalSocket, NetEvent, Outgoing};
use crate::sip::{SipMessage, TransportKind};
use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Largest datagram read; one more byte than the largest UDP payload so a
/// too-large datagram is seen as such by the limits.
const RECV_BUF: usize = 65_536;

/// The socket receive buffer asked of the kernel (SO_RCVBUF).
const RECV_SOCKET_BUFFER: usize = 4 << 20;

/// Binds `addr`. An IPv6 socket is IPv6 only, so `0.0.0.0` and `[::]` can
/// both be bound on one port.
pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    // Room for a burst: with the kernel's default (about 208 KiB) sipp's
    // bursts at 7,000 calls/s overflow the socket while the worker is
    // mostly idle. Kamailio raises it too (`maxbuffer`); the kernel caps
    // the request at net.core.rmem_max, and a refusal is not fatal.
    let _ = sock.set_recv_buffer_size(RECV_SOCKET_BUFFER);
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}

/// One receive task; `children=` of them share a socket.
pub(crate) async fn receive_loop(inner: Arc<Inner>, sock: Arc<UdpSocket>, local: Arc<LocalSocket>) {
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        let (n, source) = match sock.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors surface here on some systems; the socket is
                // still good.
                inner.event(NetEvent::ReceiveFailed {
                    local: local.addr,
                    error: e.to_string(),
                });
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                continue;
            }
        };
        let data = &buf[..n];
        // Keep-alives (CRLF, NUL) and empty datagrams are not messages.
        if data.iter().all(|&b| matches!(b, b'\r' | b'\n' | 0 | b' ')) {
            continue;
        }
        let parsed = SipMessage::parse(
            Bytes::copy_from_slice(data),
            TransportKind::Datagram,
            &inner.stream.limits,
        );
        inner.dispatch(parsed, source, &local, None).await;
    }
}

/// The socket to send from: the one asked for, else (with `mhomed`) the one
/// on the address the kernel routes `dest` from, else the first of the
/// family of `dest`.
fn pick(inner: &Inner, out: &Outgoing) -> Option<Arc<UdpSocket>> {
    let same_family = |a: &SocketAddr| a.is_ipv4() == out.dest.is_ipv4();
    if let Some(want) = out.local {
        if let Some((_, s)) = inner.udp.iter().find(|(l, _)| l.addr == want) {
            return Some(s.clone());
        }
    }
    if inner.mhomed {
        if let Some(ip) = route_source(out.dest) {
            if let Some((_, s)) = inner.udp.iter().find(|(l, _)| l.addr.ip() == ip) {
                return Some(s.clone());
            }
        }
    }
    inner
        .udp
        .iter()
        .find(|(l, _)| same_family(&l.addr))
        .map(|(_, s)| s.clone())
}

/// The local address the kernel would send to `dest` from (a connected
/// UDP socket sends nothing).
pub fn route_source(dest: SocketAddr) -> Option<std::net::IpAddr> {
    let any: SocketAddr = if dest.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = std::net::UdpSocket::bind(any).ok()?;
    s.connect(dest).ok()?;
    s.local_addr().ok().map(|a| a.ip())
}

pub(crate) async fn send(inner: &Inner, out: &Outgoing) -> io::Result<()> {
    let sock = pick(inner, out).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no UDP socket of that address family",
        )
    })?;
    sock.send_to(&out.data, out.dest).await.map(|_| ())
}
