//! Sending the datagrams one receive batch produced with one `sendmmsg`
//! per socket instead of a `sendto` each: the 100 Trying and the relayed
//! INVITE of one request, the replies and requests of the other messages
//! read in the same wake-up.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::SockAddr;

/// Most datagrams given to one `sendmmsg` call.
const MAX: usize = 16;

/// Sends every `(data, dest)` of `datagrams` from `sock`, in order.
/// Returns, for each datagram that could not be sent, its index and the
/// error.
pub(crate) fn send_all(
    sock: &UdpSocket,
    datagrams: &[(&[u8], SocketAddr)],
) -> Vec<(usize, io::Error)> {
    let mut failed = Vec::new();
    let mut start = 0;
    while start < datagrams.len() {
        let chunk = &datagrams[start..datagrams.len().min(start + MAX)];
        // The kernel took `sent` (none when the call failed); the one after
        // them failed, so it is sent alone to learn why.
        let sent = send_chunk(sock, chunk).unwrap_or(0);
        start += sent;
        if sent < chunk.len() {
            let (data, dest) = chunk[sent];
            if let Err(e) = sock.send_to(data, dest) {
                failed.push((start, e));
            }
            start += 1;
        }
    }
    failed
}

fn send_chunk(sock: &UdpSocket, chunk: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
    let addrs: Vec<SockAddr> = chunk
        .iter()
        .map(|(_, dest)| SockAddr::from(*dest))
        .collect();
    let mut iovecs: Vec<libc::iovec> = chunk
        .iter()
        .map(|(data, _)| libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = addrs
        .iter()
        .zip(iovecs.iter_mut())
        .map(|(addr, iov)| {
            // SAFETY: all-zero is a valid msghdr (null pointers, zero
            // lengths); the fields used are set below.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = addr.as_ptr().cast_mut().cast();
            h.msg_hdr.msg_namelen = addr.len();
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    // SAFETY: each header points at a live address and one iovec over a
    // live buffer of the given length; the kernel only reads them (and
    // writes msg_len).
    let n = unsafe {
        libc::sendmmsg(
            sock.as_raw_fd(),
            headers.as_mut_ptr(),
            headers.len() as _,
            0,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_in_order_and_reports_the_ones_that_fail() {
        let from = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        // An IPv6 destination from an IPv4 socket cannot be sent to.
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let many: Vec<Vec<u8>> = (0..20).map(|i| format!("m{i}").into_bytes()).collect();
        let mut datagrams: Vec<(&[u8], SocketAddr)> =
            vec![(b"one", a_addr), (b"bad", v6), (b"two", b_addr)];
        datagrams.extend(many.iter().map(|m| (m.as_slice(), a_addr)));
        let failed = send_all(&from, &datagrams);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, 1);
        let mut buf = [0u8; 16];
        let (n, src) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], src), (&b"one"[..], from.local_addr().unwrap()));
        let n = b.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
        // The 20 after them, past one call's worth, in order.
        for m in &many {
            let n = a.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], m.as_slice());
        }
    }
}
