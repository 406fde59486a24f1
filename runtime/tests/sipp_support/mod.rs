//! Real SIP peers for end-to-end tests: sipp (Debian `sip-tester`) on
//! loopback, the sercompat binary and Kamailio 5.6 started on a config,
//! and processes that are always stopped, failing test or not.

#![allow(dead_code)] // each test binary uses a part

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// sipp, for a test that also runs Kamailio as its oracle: `None` (each
/// missing program named by `tool`, or a panic under CI) unless both are
/// installed.
pub fn sipp_and_kamailio() -> Option<PathBuf> {
    let sipp = tool("/usr/bin/sipp", "sip-tester");
    let kamailio = tool("/usr/sbin/kamailio", "kamailio");
    sipp.filter(|_| kamailio.is_some())
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

/// A child process in its own process group, stopped with its whole group
/// when dropped (Kamailio forks workers that outlive a killed parent), so a
/// test leaves nothing behind, failing or not.
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

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    fn signal_group(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
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

/// The repository's sipp scenarios (tests/sipp/).
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/sipp")
        .join(name)
}

/// Waits until a UDP socket is bound to `port` (from /proc/net/udp): for
/// configs that answer nothing themselves.
pub fn wait_for_bound(port: u16) -> bool {
    let needle = format!(":{port:04X}");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let bound = ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|local| local.ends_with(&needle))
                })
            })
        });
        if bound {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Runs one sipp client scenario against the proxy; true when it passes.
pub fn sipp_uac(sipp: &Path, scenario: &Path, proxy_port: u16) -> Result<(), String> {
    sipp_uac_keys(sipp, scenario, proxy_port, &[])
}

/// [`sipp_uac`] with `-key NAME VALUE` for each of `keys`.
pub fn sipp_uac_keys(
    sipp: &Path,
    scenario: &Path,
    proxy_port: u16,
    keys: &[(&str, &str)],
) -> Result<(), String> {
    let port = free_udp_port();
    let mut cmd = Command::new(sipp);
    for (k, v) in keys {
        cmd.args(["-key", k, v]);
    }
    let out = cmd
        .arg(format!("127.0.0.1:{proxy_port}"))
        .args(["-sf"])
        .arg(scenario)
        .args(["-m", "1", "-i", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .args(["-timeout", "10s", "-nostdin", "-timeout_error"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running sipp: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: sipp exited {:?}\n{}",
            scenario.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

pub fn sipp_uas(sipp: &Path, scenario: &Path, port: u16) -> Running {
    Running::spawn(
        Command::new(sipp)
            .args(["-sf"])
            .arg(scenario)
            .args(["-m", "1", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-timeout", "15s", "-nostdin"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

pub enum Server {
    Kamailio,
    Sercompat,
}

pub fn start(server: &Server, cfg: &Path, dir: &Path) -> Running {
    start_logged(server, cfg, dir, Stdio::null())
}

/// [`start`] with the server's standard error (its log: Kamailio runs
/// with `-E`) into `stderr`.
pub fn start_logged(server: &Server, cfg: &Path, dir: &Path, stderr: Stdio) -> Running {
    let mut cmd = match server {
        Server::Kamailio => {
            let mut c = Command::new("/usr/sbin/kamailio");
            c.arg("-f")
                .arg(cfg)
                .args([
                    "-L",
                    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
                    "-DD",
                    "-E",
                    "-w",
                ])
                .arg(dir)
                .arg("-P")
                .arg(dir.join("kamailio.pid"));
            c
        }
        Server::Sercompat => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_sercompat"));
            c.args(["run", "-f"]).arg(cfg);
            c
        }
    };
    Running::spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr),
    )
}

/// A registrar proxy on `proxy` (REGISTER → `save`, INVITE → `lookup` →
/// `t_relay`, record-routed): alice registers and is called (ACK and BYE
/// loose-routed), bob registers two phones and a call to him rings both
/// (parallel forking from `lookup`): one answers, the other is canceled;
/// a call to nobody gets 404, Max-Forwards 0 gets 483. Each sipp
/// scenario checks every response code in order. `Err` names the step.
pub fn register_fork_and_call(sipp: &Path, proxy: u16) -> Result<(), String> {
    let scenarios = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let (alice, bob1, bob2) = (free_udp_port(), free_udp_port(), free_udp_port());
    let step = |what: &str, r: Result<(), String>| r.map_err(|e| format!("{what}: {e}"));
    let register = |user: &str, port: u16| {
        sipp_uac_keys(
            sipp,
            &scenarios.join("seed-register.xml"),
            proxy,
            &[("user", user), ("contact_port", &port.to_string())],
        )
    };
    step("REGISTER alice", register("alice", alice))?;
    step("REGISTER bob's first phone", register("bob", bob1))?;
    step("REGISTER bob's second phone", register("bob", bob2))?;
    let _alice = sipp_uas(sipp, &scenarios.join("call-rr-uas.xml"), alice);
    std::thread::sleep(Duration::from_millis(300));
    let call = |user: &str, file: &str| {
        sipp_uac_keys(sipp, &scenarios.join(file), proxy, &[("user", user)])
    };
    step("call alice", call("alice", "call-rr-uac.xml"))?;
    let _bob1 = sipp_uas(sipp, &scenarios.join("call-rr-uas.xml"), bob1);
    let mut phone2 = sipp_uas(sipp, &scenarios.join("cancel-uas.xml"), bob2);
    std::thread::sleep(Duration::from_millis(300));
    step(
        "call bob (both phones ring)",
        call("bob", "call-rr-uac.xml"),
    )?;
    step("call nobody", call("nobody", "not-found-uac.xml"))?;
    step(
        "Max-Forwards 0",
        sipp_uac_keys(sipp, &scenarios.join("maxfwd-483.xml"), proxy, &[]),
    )?;
    // The second phone saw its INVITE canceled and answered 487 (its
    // sipp scenario ends only then). On a loaded machine its first INVITE
    // may be retransmitted (T1, 500 ms) and the CANCEL follow its 180, so
    // wait up to 5 s rather than a fixed half second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while phone2.alive() {
        if Instant::now() >= deadline {
            return Err("bob's second phone was not canceled".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Waits until the server `name` binds `proxy`, then runs `f`; a failure
/// carries the server's log (`log`) for the reader.
pub fn against_server(
    name: &str,
    proxy: u16,
    log: &Path,
    f: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let server_log = || std::fs::read_to_string(log).unwrap_or_default();
    if !wait_for_bound(proxy) {
        return Err(format!(
            "{name} does not serve on {proxy}:\n{}",
            server_log()
        ));
    }
    f().map_err(|e| format!("{name}: {e}\n{}", server_log()))
}
