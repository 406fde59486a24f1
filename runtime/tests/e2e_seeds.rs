//! The founding document's SER 0.8.8 `ser.cfg`
//! (`../shared/corpus/seed/ser-0.8.8-ser.cfg`) runs unchanged under
//! `sercompat run` — only the socket is given on the command line (`-l`),
//! as an init script would — and serves a registration and a call: sipp
//! REGISTERs a user whose contact is a sipp UAS, then calls it (INVITE,
//! 180, 200, ACK, BYE, 200) through the proxy's `lookup` and `t_relay`.

mod sipp_support;

use sipp_support::{
    against_server, free_udp_port, register_fork_and_call, sipp_and_kamailio, sipp_uac_keys,
    sipp_uas, tool, wait_for_sip, Running,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn ser_0_8_8_seed_registers_and_calls_unchanged() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let cfg = shared.join("corpus/seed/ser-0.8.8-ser.cfg");
    let scenarios = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let (proxy, callee) = (free_udp_port(), free_udp_port());
    let dir = std::env::temp_dir().join(format!("sercompat-e2e-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let _server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_sercompat"))
            .args(["run", "-f"])
            .arg(&cfg)
            .args(["-l", &format!("udp:127.0.0.1:{proxy}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log),
    );
    let server_log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    assert!(
        wait_for_sip(proxy),
        "the seed config does not serve on port {proxy}:\n{}",
        server_log()
    );
    let callee_port = callee.to_string();
    let register = sipp_uac_keys(
        &sipp,
        &scenarios.join("seed-register.xml"),
        proxy,
        &[("user", "alice"), ("contact_port", &callee_port)],
    );
    assert!(register.is_ok(), "{register:?}\n{}", server_log());
    let _callee = sipp_uas(&sipp, &scenarios.join("invite-uas.xml"), callee);
    std::thread::sleep(Duration::from_millis(300));
    let call = sipp_uac_keys(
        &sipp,
        &scenarios.join("seed-call-uac.xml"),
        proxy,
        &[("user", "alice")],
    );
    assert!(call.is_ok(), "{call:?}\n{}", server_log());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where the Kamailio 3.1 default config is served from, and how.
enum K31 {
    /// `sercompat run` on the seed file as it is.
    Unchanged,
    /// Kamailio 5.6 on the file `sercompat check --translate` wrote.
    Translated,
}

/// The Kamailio 3.1 default `kamailio.cfg` (default variant: no
/// `WITH_*`) through [`register_fork_and_call`].
fn kamailio_3_1_flow(how: K31, sipp: &Path, seed: &Path) -> Result<(), String> {
    let proxy = free_udp_port();
    let tag = match how {
        K31::Unchanged => "sercompat",
        K31::Translated => "kamailio",
    };
    let dir = std::env::temp_dir().join(format!("sercompat-e2e-k31-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let listen = format!("udp:127.0.0.1:{proxy}");
    let mut cmd = match how {
        K31::Unchanged => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_sercompat"));
            c.args(["run", "-f"]).arg(seed).args(["-l", &listen]);
            c
        }
        K31::Translated => {
            let out = dir.join("kamailio.cfg");
            let status = Command::new(env!("CARGO_BIN_EXE_sercompat"))
                .args(["check", "--translate", "kamailio-5.6", "-o"])
                .arg(&out)
                .arg(seed)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("translating the seed failed: {status}"));
            }
            let mut c = Command::new("/usr/sbin/kamailio");
            c.arg("-f")
                .arg(&out)
                .args(["-DD", "-E", "-l", &listen, "-w"])
                .arg(&dir)
                .arg("-P")
                .arg(dir.join("kamailio.pid"));
            c
        }
    };
    let _server = Running::spawn(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log));
    against_server(tag, proxy, &log_path, || {
        register_fork_and_call(sipp, proxy)
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn kamailio_3_1_seed_registers_forks_and_calls_like_kamailio() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let seed = shared.join("corpus/seed/kamailio-3.1-default-kamailio.cfg");
    let kamailio = kamailio_3_1_flow(K31::Translated, &sipp, &seed);
    assert!(kamailio.is_ok(), "the oracle fails: {kamailio:?}");
    let ours = kamailio_3_1_flow(K31::Unchanged, &sipp, &seed);
    assert!(ours.is_ok(), "{}", ours.unwrap_err());
}
