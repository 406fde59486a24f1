//! UDP: bind, receive loop (one datagram is one message), send.
//!
//! Each receiver is an OS thread blocked in `recvmmsg` on the socket, the
//! way Kamailio's UDP children block in `recvfrom`: a datagram wakes one
//! of them, which takes what is queued, parses each, runs the handler and
//! sends what the batch produced (`sendmmsg`) before reading again. On the
//! async runtime each wake-up also cost an `epoll_wait` and a `recvfrom`
//! that failed with `EAGAIN`, plus the scheduler's work (stateful
//! benchmark: 17.6 system calls per call then, 13.2 with threads and
//! single reads and sends; docs/benchmarks.md).

use super::recv_batch::RecvBatch;
use super::server::{Inner, LocalSocket, NetEvent, Outgoing};
use crate::sip::{SipMessage, TransportKind};
use bytes::Bytes;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;
use std::net::{Shutdown, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Largest datagram read; one more byte than the largest UDP payload so a
/// too-large datagram is seen as such by the limits.
const RECV_BUF: usize = 65_536;

/// The socket receive buffer asked of the kernel (SO_RCVBUF).
const RECV_SOCKET_BUFFER: usize = 4 << 20;

/// Binds `addr`, blocking. An IPv6 socket is IPv6 only, so `0.0.0.0` and
/// `[::]` can both be bound on one port.
pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    // Room for a burst: with the kernel's default (about 208 KiB) sipp's
    // bursts at 7,000 calls/s overflow the socket while the worker is
    // mostly idle. Kamailio raises it too (`maxbuffer`); the kernel caps
    // the request at net.core.rmem_max, and a refusal is not fatal.
    let _ = sock.set_recv_buffer_size(RECV_SOCKET_BUFFER);
    sock.bind(&addr.into())?;
    Ok(sock.into())
}

/// Wakes every receiver blocked on `sock` so that it sees `stop`: after
/// `shutdown(SHUT_RD)` Linux returns end-of-file from `recvfrom` to every
/// reader, even on an unconnected socket (the call itself reports
/// `ENOTCONN` there, which is why its result is ignored).
pub(crate) fn wake_receivers(sock: &UdpSocket) {
    let _ = SockRef::from(sock).shutdown(Shutdown::Read);
}

/// One receiver; `children=` of them share a socket. Returns once `stop`
/// is set and the socket woken with [`wake_receivers`].
pub(crate) fn receive_loop(
    inner: Arc<Inner>,
    sock: Arc<UdpSocket>,
    local: Arc<LocalSocket>,
    stop: Arc<AtomicBool>,
) {
    let mut batch = RecvBatch::new(RECV_BUF);
    let mut outgoing = Vec::new();
    loop {
        let received = batch.recv(&sock);
        if stop.load(Ordering::Acquire) {
            return;
        }
        let n = match received {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // ICMP errors surface here on some systems; the socket is
                // still good.
                inner.event(NetEvent::ReceiveFailed {
                    local: local.addr,
                    error: e.to_string(),
                });
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
        };
        for i in 0..n {
            let (data, source) = batch.get(i);
            // Keep-alives (CRLF, NUL) and empty datagrams are not messages.
            let Some(source) =
                source.filter(|_| !data.iter().all(|&b| matches!(b, b'\r' | b'\n' | 0 | b' ')))
            else {
                continue;
            };
            let parsed = SipMessage::parse(
                Bytes::copy_from_slice(data),
                TransportKind::Datagram,
                &inner.stream.limits,
            );
            outgoing.extend(inner.process(parsed, source, &local, None));
        }
        inner.send_all_blocking(std::mem::take(&mut outgoing));
    }
}

/// The socket to send from: the one asked for, else (with `mhomed`) the one
/// on the address the kernel routes `dest` from, else the first of the
/// family of `dest`.
fn pick<'a>(inner: &'a Inner, out: &Outgoing) -> Option<&'a UdpSocket> {
    let same_family = |a: &SocketAddr| a.is_ipv4() == out.dest.is_ipv4();
    if let Some(want) = out.local {
        if let Some((_, s)) = inner.udp.iter().find(|(l, _)| l.addr == want) {
            return Some(s);
        }
    }
    if inner.mhomed {
        if let Some(ip) = route_source(out.dest) {
            if let Some((_, s)) = inner.udp.iter().find(|(l, _)| l.addr.ip() == ip) {
                return Some(s);
            }
        }
    }
    inner
        .udp
        .iter()
        .find(|(l, _)| same_family(&l.addr))
        .map(|(_, s)| &**s)
}

/// The local address the kernel would send to `dest` from (a connected
/// UDP socket sends nothing).
pub fn route_source(dest: SocketAddr) -> Option<std::net::IpAddr> {
    let any: SocketAddr = if dest.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(any).ok()?;
    s.connect(dest).ok()?;
    s.local_addr().ok().map(|a| a.ip())
}

/// Sends `outs` (all UDP), one `sendmmsg` per socket they leave from;
/// returns the ones that failed, with why.
pub(crate) fn send_all<'a>(inner: &Inner, outs: &'a [Outgoing]) -> Vec<(&'a Outgoing, io::Error)> {
    let mut failed = Vec::new();
    let mut groups: Vec<(&UdpSocket, Vec<&'a Outgoing>)> = Vec::new();
    for out in outs {
        match pick(inner, out) {
            Some(sock) => match groups.iter_mut().find(|(s, _)| std::ptr::eq(*s, sock)) {
                Some((_, group)) => group.push(out),
                None => groups.push((sock, vec![out])),
            },
            None => failed.push((out, no_socket())),
        }
    }
    for (sock, group) in groups {
        let datagrams: Vec<(&[u8], SocketAddr)> =
            group.iter().map(|o| (&o.data[..], o.dest)).collect();
        for (i, e) in super::send_batch::send_all(sock, &datagrams) {
            failed.push((group[i], e));
        }
    }
    failed
}

fn no_socket() -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        "no UDP socket of that address family",
    )
}

/// Sends one datagram. The socket is blocking: a UDP send waits only while
/// the socket's send buffer is full, which on a proxy means the kernel is
/// already dropping.
pub(crate) fn send(inner: &Inner, out: &Outgoing) -> io::Result<()> {
    let sock = pick(inner, out).ok_or_else(no_socket)?;
    sock.send_to(&out.data, out.dest).map(|_| ())
}
