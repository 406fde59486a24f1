//! The server: binds every resolved socket, runs the receive loops, hands
//! each message to a [`Handler`] and sends what it returns.
//!
//! - UDP: one datagram is one message; `udp_workers` (`children=`)
//!   receiver threads share each socket, blocked in `recvmmsg` (see
//!   [`udp`]); tokio runs TCP. [`runtime`] builds a multi-thread runtime
//!   with one worker per child.
//! - TCP: per connection a [`StreamFramer`](super::stream::StreamFramer);
//!   idle connections, framing errors and oversized messages close it. A
//!   connection table lets responses go back on the connection the request
//!   came on; new destinations get a new connection.
//! - Malformed input never stops a loop: a request that frames but fails
//!   the core checks (Request-URI, Via, CSeq, Call-ID) gets `400` (when the
//!   reply builder can build one), anything else is dropped and reported
//!   as a [`NetEvent`]. Other headers are checked when first read.

use super::received::{response_route, with_received, Target};
use super::sockets::{ResolvedSocket, Transport};
use super::stream::StreamConfig;
use super::{tcp, udp, ConnId};
use crate::sip::{LocalReply, Method, SipError, SipMessage};
use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::net::UdpSocket;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A socket this server listens on, as bound (port 0 became a real port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSocket {
    pub transport: Transport,
    pub addr: SocketAddr,
    pub advertise: Option<(String, u16)>,
    pub name: Option<String>,
}

/// A message as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub msg: SipMessage,
    pub source: SocketAddr,
    pub local: Arc<LocalSocket>,
    pub transport: Transport,
    /// The connection, for stream transports.
    pub conn: Option<ConnId>,
}

impl Received {
    /// The request with its top Via's `received` / `rport` set from the
    /// source (RFC 3261 §18.2.1, RFC 3581); what a reply or a forwarded
    /// request is built from.
    pub fn with_received(&self) -> Result<SipMessage, SipError> {
        with_received(&self.msg, self.source)
    }

    /// `data`, a response to this request, addressed as RFC 3261 §18.2.2
    /// says: the same connection on a stream, else the `received` /
    /// `rport` address, sent from the socket the request arrived on.
    pub fn reply(&self, data: Bytes) -> Outgoing {
        let dest = self
            .with_received()
            .ok()
            .and_then(|m| m.top_via().ok().flatten().cloned())
            .map(|via| response_route(&via, self.transport, self.conn))
            .and_then(|r| match r.target {
                Target::Addr(a) => Some(a),
                Target::Host { .. } => None,
            })
            .unwrap_or(self.source);
        Outgoing {
            data,
            dest,
            transport: self.transport,
            conn: self.conn,
            local: Some(self.local.addr),
        }
    }
}

/// Something to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub data: Bytes,
    /// Where to send it; on a stream, where to connect when `conn` is not
    /// (or no longer) open.
    pub dest: SocketAddr,
    pub transport: Transport,
    pub conn: Option<ConnId>,
    /// The local socket to send from (UDP); `None`: one of the family of
    /// `dest` (with `mhomed`, the one the kernel routes from).
    pub local: Option<SocketAddr>,
}

/// What the engine implements. Called on a UDP receiver thread or a tokio
/// worker: it should not block for long.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, msg: Received) -> Vec<Outgoing>;
}

/// Why a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed it.
    Peer,
    /// Nothing arrived for the idle timeout.
    Idle,
    /// Bytes that do not frame, or a limit broken.
    Framing(SipError),
    Io(String),
}

/// What the transport layer reports (the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// Input that was not handed to the handler.
    Malformed {
        source: SocketAddr,
        transport: Transport,
        error: SipError,
        /// A 400 went back.
        replied: bool,
    },
    ConnectionOpened {
        id: ConnId,
        peer: SocketAddr,
    },
    ConnectionClosed {
        id: ConnId,
        peer: SocketAddr,
        reason: CloseReason,
    },
    SendFailed {
        dest: SocketAddr,
        transport: Transport,
        error: String,
    },
    ReceiveFailed {
        local: SocketAddr,
        error: String,
    },
    HandlerPanicked {
        source: SocketAddr,
    },
}

impl fmt::Display for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetEvent::Malformed {
                source,
                transport,
                error,
                replied,
            } => write!(
                f,
                "malformed message from {transport}:{source}: {error}{}",
                if *replied { " (400 sent)" } else { "" }
            ),
            NetEvent::ConnectionOpened { id, peer } => {
                write!(f, "connection {} with {peer} opened", id.0)
            }
            NetEvent::ConnectionClosed { id, peer, reason } => {
                write!(f, "connection {} with {peer} closed: {reason:?}", id.0)
            }
            NetEvent::SendFailed {
                dest,
                transport,
                error,
            } => write!(f, "cannot send to {transport}:{dest}: {error}"),
            NetEvent::ReceiveFailed { local, error } => {
                write!(f, "receive on {local} failed: {error}")
            }
            NetEvent::HandlerPanicked { source } => {
                write!(f, "the handler panicked on a message from {source}")
            }
        }
    }
}

/// Receives [`NetEvent`]s.
pub type EventSink = Arc<dyn Fn(&NetEvent) + Send + Sync>;

/// How to serve.
#[derive(Clone)]
pub struct ServerConfig {
    pub sockets: Vec<ResolvedSocket>,
    /// Limits for every message, and the TCP idle timeout.
    pub stream: StreamConfig,
    /// `children=`: receive tasks per UDP socket (at least 1).
    pub udp_workers: usize,
    pub mhomed: bool,
    /// Where events go; `None`: standard error, except connection
    /// open/close.
    pub events: Option<EventSink>,
}

impl ServerConfig {
    pub fn new(sockets: Vec<ResolvedSocket>) -> Self {
        ServerConfig {
            sockets,
            stream: StreamConfig::default(),
            udp_workers: 1,
            mhomed: false,
            events: None,
        }
    }
}

/// A socket that would not bind, naming it.
#[derive(Debug)]
pub struct BindError {
    pub spec: String,
    pub transport: Transport,
    pub addr: SocketAddr,
    pub error: io::Error,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listen `{}`: cannot bind {}:{}: {}",
            self.spec, self.transport, self.addr, self.error
        )
    }
}

impl std::error::Error for BindError {}

/// A multi-thread runtime with `children` worker threads (at least 1).
pub fn runtime(children: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(children.max(1))
        .enable_all()
        .build()
}

pub(crate) struct Conn {
    pub peer: SocketAddr,
    pub tx: mpsc::Sender<Bytes>,
}

pub(crate) struct Inner {
    pub handler: Arc<dyn Handler>,
    pub stream: StreamConfig,
    pub mhomed: bool,
    events: Option<EventSink>,
    pub udp: Vec<(Arc<LocalSocket>, Arc<UdpSocket>)>,
    pub tcp: Vec<Arc<LocalSocket>>,
    pub conns: Mutex<HashMap<ConnId, Conn>>,
    next_conn: AtomicU64,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The UDP receiver threads and what stops them.
    receivers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    stop_receivers: Arc<AtomicBool>,
    /// Where a receiver thread hands a stream send.
    runtime: tokio::runtime::Handle,
}

impl Inner {
    pub fn event(&self, e: NetEvent) {
        match &self.events {
            Some(sink) => sink(&e),
            None => {
                if !matches!(
                    e,
                    NetEvent::ConnectionOpened { .. } | NetEvent::ConnectionClosed { .. }
                ) {
                    eprintln!("sercompat: {e}");
                }
            }
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(handle);
        }
    }

    /// One framed message (or framing error) from a stream: handled, and
    /// what that yields sent.
    pub async fn dispatch(
        self: &Arc<Self>,
        parsed: Result<SipMessage, SipError>,
        source: SocketAddr,
        local: &Arc<LocalSocket>,
        conn: Option<ConnId>,
    ) {
        for out in self.process(parsed, source, local, conn) {
            self.send(out).await;
        }
    }

    /// What one framed message (or framing error) from any transport
    /// yields: the handler's messages, a `400`, or nothing.
    pub fn process(
        &self,
        parsed: Result<SipMessage, SipError>,
        source: SocketAddr,
        local: &Arc<LocalSocket>,
        conn: Option<ConnId>,
    ) -> Vec<Outgoing> {
        let transport = local.transport;
        let msg = match parsed {
            Ok(msg) => msg,
            Err(error) => {
                self.event(NetEvent::Malformed {
                    source,
                    transport,
                    error,
                    replied: false,
                });
                return Vec::new();
            }
        };
        let received = Received {
            msg,
            source,
            local: local.clone(),
            transport,
            conn,
        };
        if let Err(error) = received.msg.validate_core() {
            let reply = bad_request(&received, &error);
            let replied = reply.is_some();
            self.event(NetEvent::Malformed {
                source,
                transport,
                error,
                replied,
            });
            return reply.into_iter().collect();
        }
        match catch_unwind(AssertUnwindSafe(|| self.handler.handle(received))) {
            Ok(out) => out,
            Err(_) => {
                self.event(NetEvent::HandlerPanicked { source });
                Vec::new()
            }
        }
    }

    /// Sends from a thread outside the runtime: the UDP datagrams at once,
    /// in one `sendmmsg` per socket; a stream message on the runtime (it
    /// may have to connect first).
    pub fn send_all_blocking(self: &Arc<Self>, outs: Vec<Outgoing>) {
        let (udp_out, stream): (Vec<Outgoing>, Vec<Outgoing>) = outs
            .into_iter()
            .partition(|o| o.transport == Transport::Udp);
        for (out, e) in udp::send_all(self, &udp_out) {
            self.report_send(out.dest, out.transport, Err(e));
        }
        for out in stream {
            let inner = self.clone();
            self.runtime.spawn(async move { inner.send(out).await });
        }
    }

    /// Sends, reporting failures as events.
    pub async fn send(self: &Arc<Self>, out: Outgoing) {
        let (dest, transport) = (out.dest, out.transport);
        let result = match transport {
            Transport::Udp => udp::send(self, &out),
            Transport::Tcp => tcp::send(self, out).await,
        };
        self.report_send(dest, transport, result);
    }

    fn report_send(&self, dest: SocketAddr, transport: Transport, result: io::Result<()>) {
        if let Err(e) = result {
            self.event(NetEvent::SendFailed {
                dest,
                transport,
                error: e.to_string(),
            });
        }
    }
}

/// `400` for a request that frames but does not validate, when the reply
/// builder can answer it (it needs Via, From, To, Call-ID and CSeq).
fn bad_request(received: &Received, error: &SipError) -> Option<Outgoing> {
    let msg = &received.msg;
    if !msg.is_request() || msg.method() == Some(Method::Ack) {
        return None;
    }
    let detail: String = error
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .take(120)
        .collect();
    let reason = format!("Bad Request - {detail}");
    let fixed = received.with_received().ok()?;
    let data = LocalReply::new(400, &reason)
        .to_tag("sercompat-400")
        .build(&fixed)
        .ok()?;
    Some(received.reply(data))
}

/// A running server. Dropping it stops every task.
pub struct Server {
    inner: Arc<Inner>,
    locals: Vec<Arc<LocalSocket>>,
}

impl Server {
    /// Binds every socket of `config` and starts serving on the current
    /// tokio runtime.
    pub async fn bind(
        config: ServerConfig,
        handler: Arc<dyn Handler>,
    ) -> Result<Server, BindError> {
        let mut udp_sockets = Vec::new();
        let mut tcp_listeners = Vec::new();
        let mut locals = Vec::new();
        for s in &config.sockets {
            let fail = |error| BindError {
                spec: s.spec.clone(),
                transport: s.transport,
                addr: s.addr,
                error,
            };
            let local = |addr| {
                Arc::new(LocalSocket {
                    transport: s.transport,
                    addr,
                    advertise: s.advertise.clone(),
                    name: s.name.clone(),
                })
            };
            match s.transport {
                Transport::Udp => {
                    let sock = udp::bind(s.addr).map_err(fail)?;
                    let l = local(sock.local_addr().map_err(fail)?);
                    locals.push(l.clone());
                    udp_sockets.push((l, Arc::new(sock)));
                }
                Transport::Tcp => {
                    let listener = tcp::bind(s.addr).map_err(fail)?;
                    let l = local(listener.local_addr().map_err(fail)?);
                    locals.push(l.clone());
                    tcp_listeners.push((l, listener));
                }
            }
        }
        let inner = Arc::new(Inner {
            handler,
            stream: config.stream.clone(),
            mhomed: config.mhomed,
            events: config.events.clone(),
            udp: udp_sockets.clone(),
            tcp: tcp_listeners.iter().map(|(l, _)| l.clone()).collect(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
            receivers: Mutex::new(Vec::new()),
            stop_receivers: Arc::new(AtomicBool::new(false)),
            runtime: tokio::runtime::Handle::current(),
        });
        for (local, sock) in udp_sockets {
            for i in 0..config.udp_workers.max(1) {
                let (inner2, sock, local2) = (inner.clone(), sock.clone(), local.clone());
                let stop = inner.stop_receivers.clone();
                let thread = std::thread::Builder::new()
                    .name(format!("udp{}-{i}", local.addr.port()))
                    .spawn(move || udp::receive_loop(inner2, sock, local2, stop));
                match thread {
                    Ok(t) => inner.receivers.lock().expect("receivers").push(t),
                    Err(error) => {
                        stop_receivers(&inner);
                        return Err(BindError {
                            spec: local.addr.to_string(),
                            transport: Transport::Udp,
                            addr: local.addr,
                            error,
                        });
                    }
                }
            }
        }
        for (local, listener) in tcp_listeners {
            inner.spawn(tcp::accept_loop(inner.clone(), listener, local));
        }
        Ok(Server { inner, locals })
    }

    /// The bound sockets.
    pub fn local_sockets(&self) -> &[Arc<LocalSocket>] {
        &self.locals
    }

    /// The first bound address of `transport` in the family of `like`.
    pub fn local_addr(&self, transport: Transport, like: SocketAddr) -> Option<SocketAddr> {
        self.locals
            .iter()
            .find(|l| l.transport == transport && l.addr.is_ipv4() == like.is_ipv4())
            .map(|l| l.addr)
    }

    /// Sends a message the engine made on its own (a forwarded request).
    pub async fn send(&self, out: Outgoing) {
        self.inner.send(out).await;
    }

    /// [`Server::send`] for several messages, from a thread outside the
    /// runtime: the UDP ones in one `sendmmsg` per socket.
    pub fn send_all_blocking(&self, outs: Vec<Outgoing>) {
        self.inner.send_all_blocking(outs);
    }

    /// Open stream connections.
    pub fn connection_count(&self) -> usize {
        self.inner.conns.lock().map_or(0, |c| c.len())
    }

    /// Stops every task and receiver; open connections close.
    pub fn shutdown(&self) {
        stop_receivers(&self.inner);
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
        if let Ok(mut conns) = self.inner.conns.lock() {
            conns.clear();
        }
    }
}

/// Stops the UDP receiver threads and waits for them, so that a socket is
/// closed once the server is gone.
fn stop_receivers(inner: &Inner) {
    inner.stop_receivers.store(true, Ordering::Release);
    for (_, sock) in &inner.udp {
        udp::wake_receivers(sock);
    }
    let threads = std::mem::take(&mut *inner.receivers.lock().unwrap_or_else(|e| e.into_inner()));
    for t in threads {
        let _ = t.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}
