//! Reading the datagrams a UDP socket has queued with one `recvmmsg`
//! call: the first blocks, the rest are what arrived meanwhile
//! (`MSG_WAITFORONE`). A receiver woken for one datagram often finds a
//! few more (about three per wake-up in the stateful benchmark), and
//! each `recvfrom` saved is a system call's entry and exit.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

/// Datagrams read per call. More would hold one receiver's batch back
/// from the other `children=` threads under load.
const BATCH: usize = 8;

/// Room for [`BATCH`] datagrams of up to `size` bytes each.
pub(crate) struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers in `iovecs` and `headers` point into the
// batch's own `bufs`, `addrs` and `iovecs`, which move with it.
unsafe impl Send for RecvBatch {}

impl RecvBatch {
    pub(crate) fn new(size: usize) -> RecvBatch {
        // SAFETY: sockaddr_storage, iovec and mmsghdr are plain C structs
        // of integers and pointers.
        unsafe {
            RecvBatch {
                bufs: (0..BATCH).map(|_| vec![0u8; size]).collect(),
                addrs: zeroed_vec(),
                iovecs: zeroed_vec(),
                headers: zeroed_vec(),
            }
        }
    }

    /// Blocks until at least one datagram is queued on `sock`, then reads
    /// it and up to `BATCH - 1` more that are already there. Returns how
    /// many; [`RecvBatch::get`] reads them.
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        for i in 0..BATCH {
            self.iovecs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.bufs[i].len(),
            };
            let header = &mut self.headers[i];
            header.msg_hdr.msg_name = (&raw mut self.addrs[i]).cast();
            header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
            header.msg_hdr.msg_iov = &raw mut self.iovecs[i];
            header.msg_hdr.msg_iovlen = 1;
            header.msg_hdr.msg_control = std::ptr::null_mut();
            header.msg_hdr.msg_controllen = 0;
            header.msg_hdr.msg_flags = 0;
            header.msg_len = 0;
        }
        // SAFETY: `headers` holds BATCH initialised mmsghdr whose name and
        // iovec pointers point at live buffers of the lengths given.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                self.headers.as_mut_ptr(),
                BATCH as _,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Datagram `i` of the last read: its bytes and its source (`None`
    /// for an address family other than IPv4 and IPv6).
    pub(crate) fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let header = &self.headers[i];
        let n = (header.msg_len as usize).min(self.bufs[i].len());
        (&self.bufs[i][..n], socket_addr(&self.addrs[i]))
    }
}

/// [`BATCH`] all-zero `T`.
///
/// # Safety
/// All zero bytes must be a valid `T` (the C structs above: null
/// pointers, zero lengths; `recv` sets the pointers before use).
unsafe fn zeroed_vec<T>() -> Vec<T> {
    (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect()
}

fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in for AF_INET, and
            // sockaddr_storage is large and aligned enough for one.
            let a =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddrV4::new(ip, u16::from_be(a.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(
                SocketAddrV6::new(
                    ip,
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )
                .into(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_is_queued_in_one_call_with_each_source() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("[::1]:0");
        for text in ["one", "two", "three"] {
            a.send_to(text.as_bytes(), server.local_addr().unwrap())
                .unwrap();
        }
        let mut batch = RecvBatch::new(16);
        // Loopback delivers before send_to returns: all three are queued.
        assert_eq!(batch.recv(&server).unwrap(), 3);
        let got: Vec<_> = (0..3).map(|i| batch.get(i)).collect();
        assert_eq!(got[0], (&b"one"[..], Some(a.local_addr().unwrap())));
        assert_eq!(got[2], (&b"three"[..], Some(a.local_addr().unwrap())));
        // A datagram longer than the buffer is cut to it.
        a.send_to(&[b'x'; 40], server.local_addr().unwrap())
            .unwrap();
        assert_eq!(batch.recv(&server).unwrap(), 1);
        assert_eq!(batch.get(0).0.len(), 16);
        // IPv6 sources, where the machine has IPv6 loopback.
        if let (Ok(b), Ok(server6)) = (b, UdpSocket::bind("[::1]:0")) {
            b.send_to(b"six", server6.local_addr().unwrap()).unwrap();
            assert_eq!(batch.recv(&server6).unwrap(), 1);
            assert_eq!(batch.get(0), (&b"six"[..], Some(b.local_addr().unwrap())));
        }
    }
}
