//! Core parameters `sercompat run` honours, over real sockets:
//! `server_header`, `server_signature`, `alias=` (with and without a
//! port) for `myself`, `tcp_max_connections`; and `sip_warning=1`, which
//! it refuses.

mod sipp_support;

use sipp_support::{free_udp_port, scratch, start_sercompat, status_of, wait_for_sip};
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

/// Starts `sercompat run` on a config made by `cfg(port)`; the UDP port,
/// the running server and its standard error file.
fn serve(
    name: &str,
    cfg: impl Fn(u16) -> String,
) -> (u16, sipp_support::Running, std::path::PathBuf) {
    let dir = scratch(name);
    let port = free_udp_port();
    let path = dir.join("t.cfg");
    std::fs::write(&path, cfg(port)).expect("config");
    let stderr = dir.join("stderr.txt");
    let run = start_sercompat(&path, &stderr);
    assert!(
        wait_for_sip(port),
        "no answer on {port}: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    (port, run, stderr)
}

/// Sends an OPTIONS to `ruri` and returns the reply's text.
fn ask(port: u16, ruri: &str) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let text = sipp_support::options(&sock, port, &format!("c-{}", ruri.len())).replacen(
        &format!("sip:probe@127.0.0.1:{port}"),
        ruri,
        1,
    );
    sock.send_to(text.as_bytes(), ("127.0.0.1", port)).unwrap();
    let mut buf = vec![0u8; 8192];
    let n = sock.recv(&mut buf).expect("a reply");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn server_header(reply: &str) -> Option<&str> {
    reply
        .lines()
        .find_map(|l| l.strip_prefix("Server:"))
        .map(str::trim)
}

const ANSWER: &str = r#"
loadmodule "sl.so"
request_route {
	sl_send_reply("200", "OK");
}
"#;

#[test]
fn server_header_replaces_ours_and_server_signature_no_removes_it() {
    let (port, _a, _) = serve("server-default", |p| {
        format!("#!KAMAILIO\nlisten=udp:127.0.0.1:{p}\nchildren=1\n{ANSWER}")
    });
    assert_eq!(
        server_header(&ask(port, "sip:x@127.0.0.1")),
        Some("sercompat")
    );
    let (port, _b, _) = serve("server-header", |p| {
        format!("#!KAMAILIO\nlisten=udp:127.0.0.1:{p}\nchildren=1\nserver_header=\"Server: Our Proxy 1.0\"\n{ANSWER}")
    });
    assert_eq!(
        server_header(&ask(port, "sip:x@127.0.0.1")),
        Some("Our Proxy 1.0")
    );
    let (port, _c, _) = serve("server-signature", |p| {
        format!("#!KAMAILIO\nlisten=udp:127.0.0.1:{p}\nchildren=1\nserver_signature=no\nserver_header=\"Server: unused\"\n{ANSWER}")
    });
    let reply = ask(port, "sip:x@127.0.0.1");
    assert_eq!(status_of(reply.as_bytes()), Some(200));
    assert_eq!(server_header(&reply), None, "{reply}");
}

#[test]
fn aliases_with_and_without_a_port_are_myself() {
    let (port, _run, _) = serve("aliases", |p| {
        format!(
            r#"#!KAMAILIO
listen=udp:127.0.0.1:{p}
alias=sip.example.org
alias=other.example.net:5999
children=1
loadmodule "sl.so"
request_route {{
	if (uri == myself) {{
		sl_send_reply("200", "Mine");
	}} else {{
		sl_send_reply("404", "Not Mine");
	}}
}}
"#
        )
    });
    let code = |ruri: &str| status_of(ask(port, ruri).as_bytes());
    assert_eq!(code("sip:a@sip.example.org"), Some(200));
    assert_eq!(code("sip:a@SIP.example.org:5080"), Some(200));
    assert_eq!(code("sip:a@other.example.net:5999"), Some(200));
    assert_eq!(code("sip:a@other.example.net"), Some(404));
    assert_eq!(code(&format!("sip:a@127.0.0.1:{port}")), Some(200));
    assert_eq!(code("sip:a@elsewhere.example.com"), Some(404));
}

/// A host name in `listen=` is myself with its port, as in Kamailio
/// (checked with it); other ports of that name are not.
#[test]
fn listen_names_are_myself_with_their_port() {
    let (port, _run, _) = serve("listen-name", |p| {
        format!(
            r#"#!KAMAILIO
listen=udp:localhost:{p}
children=1
loadmodule "sl.so"
request_route {{
	if (uri == myself) {{
		sl_send_reply("200", "Mine");
	}} else {{
		sl_send_reply("404", "Not Mine");
	}}
}}
"#
        )
    });
    let code = |ruri: &str| status_of(ask(port, ruri).as_bytes());
    assert_eq!(code(&format!("sip:a@localhost:{port}")), Some(200));
    assert_eq!(code(&format!("sip:a@127.0.0.1:{port}")), Some(200));
    assert_eq!(code("sip:a@localhost"), Some(404));
}

#[test]
fn tcp_max_connections_refuses_connections_over_the_limit() {
    let (port, mut run, stderr) = serve("tcp-limit", |p| {
        format!(
            "#!KAMAILIO\nlisten=udp:127.0.0.1:{p}\nlisten=tcp:127.0.0.1:{p}\nchildren=1\ntcp_max_connections=2\n{ANSWER}"
        )
    });
    let options = |c: &mut TcpStream, id: &str| -> Option<u16> {
        let me = c.local_addr().unwrap();
        let req = format!(
            "OPTIONS sip:x@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bK{id}\r\nMax-Forwards: 70\r\nFrom: <sip:t@{me}>;tag={id}\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: {id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        c.set_read_timeout(Some(Duration::from_secs(2))).ok();
        c.write_all(req.as_bytes()).ok()?;
        let mut buf = vec![0u8; 4096];
        let n = c.read(&mut buf).ok()?;
        status_of(&buf[..n])
    };
    let mut first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut second = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(options(&mut first, "t1"), Some(200));
    assert_eq!(options(&mut second, "t2"), Some(200));
    let mut third = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(
        options(&mut third, "t3"),
        None,
        "the third connection was served"
    );
    // The refusal is logged (just after the close the client saw).
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut log = String::new();
    while std::time::Instant::now() < deadline {
        log = std::fs::read_to_string(&stderr).unwrap();
        if log.contains("tcp_max_connections (2) reached") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(log.contains("tcp_max_connections (2) reached"), "{log}");
    // Below the limit again, a new connection is served.
    drop(first);
    std::thread::sleep(Duration::from_millis(300));
    let mut fourth = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(options(&mut fourth, "t4"), Some(200));
    assert!(run.alive());
}

#[test]
fn sip_warning_on_is_refused() {
    let dir = scratch("sip-warning");
    let path = dir.join("t.cfg");
    std::fs::write(
        &path,
        format!(
            "#!KAMAILIO\nlisten=udp:127.0.0.1:{}\nsip_warning=1\n{ANSWER}",
            free_udp_port()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sercompat"))
        .args(["run", "-f"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("sip_warning"), "{err}");
}
