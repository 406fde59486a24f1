//! Every RFC 4475 torture message over a real UDP socket to `sercompat
//! run` with a `sanity_check()` config (the in-process variant is
//! rfc4475_sanity.rs): `valid` requests are answered 200, no `invalid`
//! message is answered 200 (a 400, or nothing and a line on the server's
//! standard error), nothing crashes the server, and it still answers an
//! OPTIONS at the end.

mod sipp_support;

use sipp_support::{free_udp_port, scratch, start_sercompat, status_of, wait_for_sip};
use std::net::UdpSocket;
use std::time::Duration;

/// `force_rport()` first: every reply the engine sends comes back to the
/// test's socket, whatever the torture message's Via says.
fn config(port: u16) -> String {
    format!(
        r#"#!KAMAILIO
listen=udp:127.0.0.1:{port}
children=1
loadmodule "sl.so"
loadmodule "sanity.so"
loadmodule "textops.so"
request_route {{
	force_rport();
	if (!sanity_check()) {{
		exit;
	}}
	if (is_method("ACK")) {{
		exit;
	}}
	sl_send_reply("200", "OK");
}}
"#
    )
}

/// The first reply within `wait`, if any.
fn answer(sock: &UdpSocket, wait: Duration) -> Option<u16> {
    let mut buf = vec![0u8; 65536];
    sock.set_read_timeout(Some(wait)).ok();
    let n = sock.recv(&mut buf).ok()?;
    status_of(&buf[..n])
}

#[test]
fn torture_messages_over_udp_to_sercompat_run() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let dir = shared.join("sip-messages/rfc4475");
    let classes = std::fs::read_to_string(dir.join("CLASSES.tsv")).expect("CLASSES.tsv");
    let work = scratch("rfc4475-socket");
    let port = free_udp_port();
    let cfg = work.join("sanity.cfg");
    std::fs::write(&cfg, config(port)).expect("config");
    let stderr = work.join("stderr.txt");
    let mut proxy = start_sercompat(&cfg, &stderr);
    assert!(
        wait_for_sip(port),
        "sercompat does not answer on {port}: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    let sock = UdpSocket::bind("127.0.0.1:0").expect("test socket");
    let mut wrong = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut sent = 0;
    for line in classes.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, class) = (f[0], f[2]);
        let bytes = std::fs::read(dir.join(file)).expect("message");
        let is_request = !bytes.starts_with(b"SIP/2.0");
        let logged_before = std::fs::read(&stderr).map(|b| b.len()).unwrap_or(0);
        sock.send_to(&bytes, ("127.0.0.1", port))
            .expect("sending a datagram");
        sent += 1;
        let wait = if class == "valid" && is_request {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(400)
        };
        let got = answer(&sock, wait);
        // What the server said about this message: the transport's
        // "malformed message" (with "(400 sent)" when it answered, to the
        // Via address) or the sanity check's refusal.
        let said = std::fs::read(&stderr)
            .map(|b| String::from_utf8_lossy(&b[logged_before.min(b.len())..]).into_owned())
            .unwrap_or_default();
        let logged = said.contains("malformed message") || said.contains("sanity_check");
        *counts.entry(format!("{class} → {got:?}")).or_default() += 1;
        let ok = match class {
            "valid" if is_request => got == Some(200),
            "invalid" => match got {
                Some(400) => true,
                None => logged,
                Some(_) => false,
            },
            _ => true,
        };
        if !ok {
            wrong.push(format!(
                "{file} ({class}): {got:?}{}",
                if logged { "" } else { ", nothing logged" }
            ));
        }
        assert!(proxy.alive(), "the server died on {file}");
    }
    eprintln!("{sent} messages: {counts:#?}");
    // Still serving.
    let probe = sipp_support::options(&sock, port, "after-torture");
    sock.send_to(probe.as_bytes(), ("127.0.0.1", port))
        .expect("sending OPTIONS");
    assert_eq!(answer(&sock, Duration::from_secs(2)), Some(200));
    assert!(proxy.alive());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    if std::env::var_os("KEEP_SCRATCH").is_none() {
        std::fs::remove_dir_all(&work).ok();
    }
}
