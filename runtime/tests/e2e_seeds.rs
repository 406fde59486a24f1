//! The founding document's SER 0.8.8 `ser.cfg`
//! (`../shared/corpus/seed/ser-0.8.8-ser.cfg`) runs unchanged under
//! `sercompat run` — only the socket is given on the command line (`-l`),
//! as an init script would — and serves a registration and a call: sipp
//! REGISTERs a user whose contact is a sipp UAS, then calls it (INVITE,
//! 180, 200, ACK, BYE, 200) through the proxy's `lookup` and `t_relay`.

mod sipp_support;

use sipp_support::{free_udp_port, sipp_uac_keys, sipp_uas, tool, wait_for_sip, Running};
use std::path::PathBuf;
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
