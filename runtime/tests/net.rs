//! Transports on loopback: UDP and TCP, IPv4 and IPv6 (IPv6 cases are
//! skipped when the machine has no `::1`), ephemeral ports, bounded waits.

use bytes::Bytes;
use sercompat::net::server::{CloseReason, EventSink, NetEvent};
use sercompat::net::sockets::ResolvedSocket;
use sercompat::net::stream::{StreamConfig, StreamFramer};
use sercompat::net::{Handler, Outgoing, Received, Server, ServerConfig, Transport};
use sercompat::sip::{ErrorKind, Limits, LocalReply, Rport, SipMessage};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

/// Answers every request but ACK with 200, built from the request with its
/// Via fixed, and sent where RFC 3261 §18.2.2 says.
struct Replier {
    seen: Mutex<Vec<(Transport, SocketAddr)>>,
}

impl Handler for Replier {
    fn handle(&self, r: Received) -> Vec<Outgoing> {
        self.seen.lock().unwrap().push((r.transport, r.source));
        let Ok(fixed) = r.with_received() else {
            return Vec::new();
        };
        match LocalReply::new(200, "OK").to_tag("srv").build(&fixed) {
            Ok(data) => vec![r.reply(data)],
            Err(_) => Vec::new(),
        }
    }
}

fn request(transport: &str, branch: &str) -> String {
    format!(
        "OPTIONS sip:srv@example.org SIP/2.0\r\n\
         Via: SIP/2.0/{transport} client.invalid:5999;rport;branch=z9hG4bK{branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:a@example.org>;tag=a1\r\n\
         To: <sip:srv@example.org>\r\n\
         Call-ID: {branch}@client\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn socket(transport: Transport, ip: IpAddr) -> ResolvedSocket {
    ResolvedSocket {
        transport,
        addr: SocketAddr::new(ip, 0),
        advertise: None,
        name: None,
        is_virtual: false,
        spec: format!("{transport}:{ip}:0"),
    }
}

fn has_v6() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

fn ips() -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
    if has_v6() {
        v.push("::1".parse().unwrap());
    } else {
        eprintln!("no ::1 on this machine: IPv6 cases skipped");
    }
    v
}

struct Running {
    server: Server,
    handler: Arc<Replier>,
    events: Arc<Mutex<Vec<NetEvent>>>,
}

async fn serve(sockets: Vec<ResolvedSocket>, stream: StreamConfig) -> Running {
    let events: Arc<Mutex<Vec<NetEvent>>> = Arc::default();
    let sink_events = events.clone();
    let sink: EventSink = Arc::new(move |e: &NetEvent| sink_events.lock().unwrap().push(e.clone()));
    let handler = Arc::new(Replier {
        seen: Mutex::default(),
    });
    let config = ServerConfig {
        stream,
        udp_workers: 2,
        events: Some(sink),
        ..ServerConfig::new(sockets)
    };
    let server = Server::bind(config, handler.clone()).await.unwrap();
    Running {
        server,
        handler,
        events,
    }
}

/// Checks a 200 whose top Via carries the client's real address.
fn check_reply(data: &[u8], client: SocketAddr, status: u16) -> SipMessage {
    let reply = SipMessage::parse_datagram(Bytes::copy_from_slice(data)).unwrap();
    assert_eq!(reply.status_code(), Some(status));
    let via = reply.top_via().unwrap().unwrap();
    assert_eq!(via.rport(), Rport::Value(client.port()));
    assert_eq!(via.received().unwrap(), &*client.ip().to_string());
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_replies_go_to_the_source_address() {
    for ip in ips() {
        let run = serve(vec![socket(Transport::Udp, ip)], StreamConfig::default()).await;
        let server = run
            .server
            .local_addr(Transport::Udp, SocketAddr::new(ip, 0))
            .unwrap();
        let client = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
        let me = client.local_addr().unwrap();
        client
            .send_to(request("UDP", "u1").as_bytes(), server)
            .await
            .unwrap();
        let mut buf = vec![0u8; 65536];
        let (n, from) = timeout(WAIT, client.recv_from(&mut buf))
            .await
            .expect("a reply in time")
            .unwrap();
        assert_eq!(
            from, server,
            "the reply leaves from the socket the request came to"
        );
        check_reply(&buf[..n], me, 200);
        assert_eq!(
            run.handler.seen.lock().unwrap().as_slice(),
            &[(Transport::Udp, me)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_malformed_input_gets_400_or_is_dropped() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let run = serve(vec![socket(Transport::Udp, ip)], StreamConfig::default()).await;
    let server = run
        .server
        .local_addr(Transport::Udp, SocketAddr::new(ip, 0))
        .unwrap();
    let client = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
    let me = client.local_addr().unwrap();
    let mut buf = vec![0u8; 65536];

    // Garbage, a keep-alive, then a request whose CSeq method is wrong.
    client
        .send_to(b"\x00\xffgarbage\r\n", server)
        .await
        .unwrap();
    client.send_to(b"\r\n\r\n", server).await.unwrap();
    let bad = request("UDP", "m1").replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    client.send_to(bad.as_bytes(), server).await.unwrap();
    let (n, _) = timeout(WAIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = check_reply(&buf[..n], me, 400);
    let reason = reply
        .reason_phrase()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(reason.starts_with("Bad Request"), "{reason}");

    // The server still serves.
    client
        .send_to(request("UDP", "m2").as_bytes(), server)
        .await
        .unwrap();
    let (n, _) = timeout(WAIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    check_reply(&buf[..n], me, 200);
    let events = run.events.lock().unwrap();
    let malformed: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            NetEvent::Malformed { replied, .. } => Some(*replied),
            _ => None,
        })
        .collect();
    assert_eq!(malformed, vec![false, true]);
}

/// Reads framed messages from a client stream until `count` arrived.
async fn read_messages(stream: &mut TcpStream, count: usize) -> Vec<SipMessage> {
    let mut framer = StreamFramer::new(StreamConfig::default(), Instant::now());
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    while out.len() < count {
        while let Some(m) = framer.pop().unwrap() {
            out.push(m);
        }
        if out.len() >= count {
            break;
        }
        let n = timeout(WAIT, stream.read(&mut buf))
            .await
            .expect("replies in time")
            .unwrap();
        assert!(n > 0, "the server closed the connection early");
        framer.push(&buf[..n], Instant::now());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_replies_on_the_same_connection() {
    for ip in ips() {
        let run = serve(vec![socket(Transport::Tcp, ip)], StreamConfig::default()).await;
        let server = run
            .server
            .local_addr(Transport::Tcp, SocketAddr::new(ip, 0))
            .unwrap();
        let mut client = timeout(WAIT, TcpStream::connect(server))
            .await
            .unwrap()
            .unwrap();
        let me = client.local_addr().unwrap();
        client
            .write_all(request("TCP", "t1").as_bytes())
            .await
            .unwrap();
        let replies = read_messages(&mut client, 1).await;
        check_reply(replies[0].as_bytes(), me, 200);
        assert_eq!(run.server.connection_count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_framing_two_in_one_write_and_one_split() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let run = serve(vec![socket(Transport::Tcp, ip)], StreamConfig::default()).await;
    let server = run
        .server
        .local_addr(Transport::Tcp, SocketAddr::new(ip, 0))
        .unwrap();
    let mut client = timeout(WAIT, TcpStream::connect(server))
        .await
        .unwrap()
        .unwrap();
    let me = client.local_addr().unwrap();

    let two = format!("{}\r\n\r\n{}", request("TCP", "a"), request("TCP", "b"));
    client.write_all(two.as_bytes()).await.unwrap();
    let replies = read_messages(&mut client, 2).await;
    // The double CRLF between them is a ping: a CRLF comes back (which the
    // client framer skips), and both requests are answered in order.
    let ids: Vec<String> = replies
        .iter()
        .map(|r| r.call_id().unwrap().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids, vec!["a@client", "b@client"]);
    for r in &replies {
        check_reply(r.as_bytes(), me, 200);
    }

    let one = request("TCP", "split");
    let (head, tail) = one.split_at(one.len() / 2);
    client.write_all(head.as_bytes()).await.unwrap();
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.write_all(tail.as_bytes()).await.unwrap();
    let replies = read_messages(&mut client, 1).await;
    assert_eq!(replies[0].call_id().unwrap().unwrap(), "split@client");
    assert_eq!(run.handler.seen.lock().unwrap().len(), 3);
}

/// Waits until the server closes the connection (EOF or reset).
async fn wait_closed(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 4096];
    loop {
        match timeout(WAIT, stream.read(&mut buf)).await {
            Err(_) => panic!("the connection was not closed in time"),
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => continue,
        }
    }
}

fn close_reasons(events: &Mutex<Vec<NetEvent>>) -> Vec<CloseReason> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            NetEvent::ConnectionClosed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

async fn eventually<F: Fn() -> bool>(what: &str, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_idle_connections_close() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let config = StreamConfig {
        idle_timeout: Duration::from_millis(200),
        ..StreamConfig::default()
    };
    let run = serve(vec![socket(Transport::Tcp, ip)], config).await;
    let server = run
        .server
        .local_addr(Transport::Tcp, SocketAddr::new(ip, 0))
        .unwrap();
    let mut client = timeout(WAIT, TcpStream::connect(server))
        .await
        .unwrap()
        .unwrap();
    // Activity keeps it open...
    client
        .write_all(request("TCP", "idle").as_bytes())
        .await
        .unwrap();
    read_messages(&mut client, 1).await;
    let started = Instant::now();
    // ...silence closes it.
    wait_closed(&mut client).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    eventually("the close event", || {
        close_reasons(&run.events) == vec![CloseReason::Idle]
    })
    .await;
    assert_eq!(run.server.connection_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_oversized_header_closes_with_an_error() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let config = StreamConfig {
        limits: Limits {
            max_header_size: 512,
            ..Limits::default()
        },
        ..StreamConfig::default()
    };
    let run = serve(vec![socket(Transport::Tcp, ip)], config).await;
    let server = run
        .server
        .local_addr(Transport::Tcp, SocketAddr::new(ip, 0))
        .unwrap();
    let mut client = timeout(WAIT, TcpStream::connect(server))
        .await
        .unwrap()
        .unwrap();
    let big = request("TCP", "big").replace(
        "Max-Forwards: 70\r\n",
        &format!("X-Big: {}\r\n", "x".repeat(2000)),
    );
    client.write_all(big.as_bytes()).await.unwrap();
    wait_closed(&mut client).await;
    eventually("the close event", || {
        matches!(
            close_reasons(&run.events).as_slice(),
            [CloseReason::Framing(e)] if matches!(e.kind(), ErrorKind::HeaderTooLong { limit: 512 })
        )
    })
    .await;
    assert!(run.handler.seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_and_tcp_on_one_server() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let run = serve(
        vec![socket(Transport::Udp, ip), socket(Transport::Tcp, ip)],
        StreamConfig::default(),
    )
    .await;
    assert_eq!(run.server.local_sockets().len(), 2);
    let tcp = run
        .server
        .local_addr(Transport::Tcp, SocketAddr::new(ip, 0))
        .unwrap();
    let udp = run
        .server
        .local_addr(Transport::Udp, SocketAddr::new(ip, 0))
        .unwrap();
    let client = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
    client
        .send_to(request("UDP", "x").as_bytes(), udp)
        .await
        .unwrap();
    let mut buf = vec![0u8; 65536];
    timeout(WAIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let mut c = timeout(WAIT, TcpStream::connect(tcp))
        .await
        .unwrap()
        .unwrap();
    c.write_all(request("TCP", "y").as_bytes()).await.unwrap();
    read_messages(&mut c, 1).await;
    run.server.shutdown();
}

/// Sends every message it gets to `to` over TCP.
struct ForwardOverTcp {
    to: SocketAddr,
}

impl Handler for ForwardOverTcp {
    fn handle(&self, r: Received) -> Vec<Outgoing> {
        vec![Outgoing {
            data: r.msg.as_bytes().clone(),
            dest: self.to,
            transport: Transport::Tcp,
            conn: None,
            local: None,
        }]
    }
}

/// A UDP receiver thread hands a TCP send to the runtime (which connects
/// first), on a current-thread runtime as `children=1` runs.
#[tokio::test]
async fn a_message_received_over_udp_can_leave_over_tcp() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let next_hop = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let handler = Arc::new(ForwardOverTcp {
        to: next_hop.local_addr().unwrap(),
    });
    let sockets = vec![socket(Transport::Udp, ip), socket(Transport::Tcp, ip)];
    let server = Server::bind(ServerConfig::new(sockets), handler)
        .await
        .unwrap();
    let udp = server
        .local_addr(Transport::Udp, SocketAddr::new(ip, 0))
        .unwrap();
    let client = UdpSocket::bind((ip, 0)).await.unwrap();
    let sent = request("UDP", "udp2tcp");
    client.send_to(sent.as_bytes(), udp).await.unwrap();
    let (mut conn, _) = timeout(WAIT, next_hop.accept()).await.unwrap().unwrap();
    let mut got = vec![0u8; sent.len()];
    timeout(WAIT, conn.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, sent.as_bytes());
}

/// Dropping the server stops its UDP receiver threads, blocked in the
/// socket, and closes the socket: the port can be bound again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_server_frees_its_udp_port() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let run = serve(vec![socket(Transport::Udp, ip)], StreamConfig::default()).await;
    let addr = run
        .server
        .local_addr(Transport::Udp, SocketAddr::new(ip, 0))
        .unwrap();
    drop(run);
    std::net::UdpSocket::bind(addr).expect("the port is free again");
}
