//! TCP: bind, accept, one framer per connection, the connection table,
//! idle timeout, and sending on an open connection or a new one.

use super::server::{CloseReason, Conn, Inner, LocalSocket, NetEvent, Outgoing};
use super::sockets::Transport;
use super::stream::StreamFramer;
use super::ConnId;
use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a new outgoing connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages queued for one connection's writer.
const SEND_QUEUE: usize = 128;
const READ_BUF: usize = 16 * 1024;

/// Binds and listens on `addr` (IPv6 sockets IPv6 only, address reuse on).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    TcpListener::from_std(sock.into())
}

pub(crate) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener, local: Arc<LocalSocket>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if at_limit(&inner) {
                    // Closed at once, as Kamailio does over the limit.
                    drop(stream);
                    inner.event(NetEvent::ReceiveFailed {
                        local: local.addr,
                        error: format!(
                            "connection from {peer} refused: tcp_max_connections ({}) reached",
                            inner.stream.max_connections
                        ),
                    });
                    continue;
                }
                start(&inner, stream, peer, local.clone());
            }
            Err(e) => {
                // Out of file descriptors and the like: wait a little.
                inner.event(NetEvent::ReceiveFailed {
                    local: local.addr,
                    error: e.to_string(),
                });
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Whether `tcp_max_connections` connections are open.
fn at_limit(inner: &Inner) -> bool {
    inner
        .conns
        .lock()
        .map(|c| c.len() >= inner.stream.max_connections)
        .unwrap_or(false)
}

/// Registers a connection and starts its reader and writer.
fn start(
    inner: &Arc<Inner>,
    stream: TcpStream,
    peer: SocketAddr,
    local: Arc<LocalSocket>,
) -> mpsc::Sender<Bytes> {
    let _ = stream.set_nodelay(true);
    let id = inner.next_conn_id();
    let (tx, rx) = mpsc::channel(SEND_QUEUE);
    if let Ok(mut conns) = inner.conns.lock() {
        conns.insert(
            id,
            Conn {
                peer,
                tx: tx.clone(),
            },
        );
    }
    inner.event(NetEvent::ConnectionOpened { id, peer });
    let (rd, wr) = stream.into_split();
    inner.spawn(writer(wr, rx));
    inner.spawn(reader(inner.clone(), rd, id, peer, local, tx.clone()));
    tx
}

/// Writes what is queued; ends (closing the write side) when every sender
/// is gone, that is when the connection left the table.
async fn writer(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(data) = rx.recv().await {
        if wr.write_all(&data).await.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
}

async fn reader(
    inner: Arc<Inner>,
    mut rd: OwnedReadHalf,
    id: ConnId,
    peer: SocketAddr,
    local: Arc<LocalSocket>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut framer = StreamFramer::new(inner.stream.clone(), Instant::now());
    let mut buf = vec![0u8; READ_BUF];
    let reason = loop {
        let deadline = tokio::time::Instant::from_std(framer.idle_deadline());
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) => break CloseReason::Peer,
                Ok(n) => {
                    framer.push(&buf[..n], Instant::now());
                    let fatal = loop {
                        match framer.pop() {
                            Ok(Some(msg)) => inner.dispatch(Ok(msg), peer, &local, Some(id)).await,
                            Ok(None) => break None,
                            Err(e) => break Some(e),
                        }
                    };
                    for _ in 0..framer.take_pongs() {
                        let _ = tx.send(Bytes::from_static(b"\r\n")).await;
                    }
                    if let Some(e) = fatal {
                        break CloseReason::Framing(e.sip_error().clone());
                    }
                }
                Err(e) => break CloseReason::Io(e.to_string()),
            },
            _ = tokio::time::sleep_until(deadline) => {
                if framer.is_idle(Instant::now()) {
                    break CloseReason::Idle;
                }
            }
        }
    };
    if let Ok(mut conns) = inner.conns.lock() {
        conns.remove(&id);
    }
    drop(tx);
    inner.event(NetEvent::ConnectionClosed { id, peer, reason });
}

fn open_sender(inner: &Inner, out: &Outgoing) -> Option<mpsc::Sender<Bytes>> {
    let conns = inner.conns.lock().ok()?;
    out.conn
        .and_then(|id| conns.get(&id))
        .or_else(|| conns.values().find(|c| c.peer == out.dest))
        .map(|c| c.tx.clone())
}

async fn connect(inner: &Arc<Inner>, dest: SocketAddr) -> io::Result<mpsc::Sender<Bytes>> {
    if at_limit(inner) {
        return Err(io::Error::other(format!(
            "tcp_max_connections ({}) reached",
            inner.stream.max_connections
        )));
    }
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(dest))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    let local = match inner
        .tcp
        .iter()
        .find(|l| l.addr.is_ipv4() == dest.is_ipv4())
    {
        Some(l) => l.clone(),
        None => Arc::new(LocalSocket {
            transport: Transport::Tcp,
            addr: stream.local_addr()?,
            advertise: None,
            name: None,
        }),
    };
    Ok(start(inner, stream, dest, local))
}

/// On the connection asked for while it is open, else on an open one to
/// `dest`, else on a new one.
pub(crate) async fn send(inner: &Arc<Inner>, out: Outgoing) -> io::Result<()> {
    let data = out.data.clone();
    if let Some(tx) = open_sender(inner, &out) {
        if tx.send(data.clone()).await.is_ok() {
            return Ok(());
        }
    }
    let tx = connect(inner, out.dest).await?;
    tx.send(data)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"))
}
