//! Running `sercompat run` as a real server in a test: a free port, the
//! process in its own group (stopped with it when dropped), its standard
//! error in a file, and a probe that waits until it answers SIP.
//! Included with `#[path = "common/server.rs"] mod server;`.
#![allow(dead_code)] // each test binary uses part of it

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

/// A tool the test needs: its path, or `None` after saying what to
/// install (a failure under `CI=true`).
pub fn tool(path: &str, package: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        return Some(p);
    }
    let msg = format!("{path} is missing: install Debian's `{package}` (see .ci/run)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// A child process in its own process group, stopped with its whole group
/// when dropped, so a test leaves nothing behind, failing or not.
pub struct Running(pub Child);

impl Running {
    pub fn spawn(cmd: &mut Command) -> Running {
        use std::os::unix::process::CommandExt;
        Running(
            cmd.process_group(0)
                .spawn()
                .expect("spawning a test process"),
        )
    }

    fn signal_group(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.signal_group("-KILL");
        let _ = self.0.wait();
    }
}

/// A scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sercompat-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `sercompat run -f cfg` with standard error into `stderr`.
pub fn start_sercompat(cfg: &Path, stderr: &Path) -> Running {
    let err = std::fs::File::create(stderr).expect("stderr file");
    Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_sercompat"))
            .args(["run", "-f"])
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err),
    )
}

/// An OPTIONS to `127.0.0.1:port` from `sock`, with `sock`'s address in
/// an `rport` Via.
pub fn options(sock: &UdpSocket, port: u16, call_id: &str) -> String {
    let me = sock.local_addr().expect("probe addr");
    format!(
        "OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {me};rport;branch=z9hG4bK-{call_id}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@{me}>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// Waits (5 s at most) until something answers an OPTIONS on `port`.
pub fn wait_for_sip(port: u16) -> bool {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("probe socket");
    sock.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let probe = options(&sock, port, &format!("probe-{port}"));
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(5) {
        let _ = sock.send_to(probe.as_bytes(), ("127.0.0.1", port));
        if sock.recv(&mut buf).is_ok() {
            return true;
        }
    }
    false
}

/// The status code of a reply datagram.
pub fn status_of(datagram: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(datagram.get(..12)?).ok()?;
    text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}
