//! The registrar end to end: sipp REGISTERs alice with a contact at a
//! sipp UAS, then a MESSAGE to alice through `sercompat run` (lookup, then
//! stateless forward) reaches that UAS and its 200 comes back; a MESSAGE
//! to an unknown user gets 404, and so does one to alice once a
//! `Contact: *` REGISTER removed her bindings. The same scenarios run
//! against Kamailio 5.6 with the same config, the behavioural oracle.
//!
//! Without sipp (or Kamailio, for the oracle) a test skips with a message
//! saying what to install; under `CI=true` it fails instead.

mod sipp_support;

use sipp_support::{
    against_server, free_udp_port, register_fork_and_call, scenario, sipp_and_kamailio,
    sipp_uac_keys as uac, sipp_uas as uas, tool, wait_for_sip, Running,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

enum Server {
    Kamailio,
    Sercompat,
}

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/configs/registrar.cfg")
}

fn start(server: &Server, port: u16) -> Running {
    let listen = format!("udp:127.0.0.1:{port}");
    let mut cmd = match server {
        Server::Kamailio => {
            let dir = std::env::temp_dir().join(format!(
                "sercompat-e2e-registrar-{}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("scratch dir");
            let mut c = Command::new("/usr/sbin/kamailio");
            c.arg("-f")
                .arg(config())
                .args(["-l", &listen])
                .args([
                    "-L",
                    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
                    "-DD",
                    "-E",
                    "-w",
                ])
                .arg(&dir)
                .arg("-P")
                .arg(dir.join("kamailio.pid"));
            c
        }
        Server::Sercompat => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_sercompat"));
            c.args(["run", "-f"]).arg(config()).args(["-l", &listen]);
            c
        }
    };
    Running::spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Register, message the registered user, message an unknown one: the
/// failures, as text (empty when all passed).
fn run_scenarios(server: Server, sipp: &Path) -> Vec<String> {
    let proxy_port = free_udp_port();
    let uas_port = free_udp_port();
    let _proxy = start(&server, proxy_port);
    assert!(
        wait_for_sip(proxy_port),
        "the server does not answer on port {proxy_port}"
    );
    let mut failed = Vec::new();
    let contact_port = uas_port.to_string();
    let register = scenario("register-contact.xml");
    let keys = [("user", "alice"), ("contact_port", contact_port.as_str())];
    if let Err(e) = uac(sipp, &register, proxy_port, &keys) {
        failed.push(format!("register-contact.xml: {e}"));
    }
    let _callee = uas(sipp, &scenario("message-uas.xml"), uas_port);
    std::thread::sleep(Duration::from_millis(300));
    // After `Contact: *` alice is unknown too.
    for (name, user) in [
        ("message-user-200.xml", "alice"),
        ("message-user-404.xml", "bob"),
        ("unregister-all.xml", "alice"),
        ("message-user-404.xml", "alice"),
    ] {
        if let Err(e) = uac(sipp, &scenario(name), proxy_port, &[("user", user)]) {
            failed.push(format!("{name} ({user}): {e}"));
        }
    }
    failed
}

#[test]
fn kamailio_passes_the_registrar_scenarios() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let failed = run_scenarios(Server::Kamailio, &sipp);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn sercompat_registers_looks_up_and_forwards() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    let failed = run_scenarios(Server::Sercompat, &sipp);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// The benchmark's `registrar.cfg` (../shared/bench/cfg: save, lookup,
/// `t_relay`, record-routing, usrloc in memory) on a free port, under
/// `server`, through [`register_fork_and_call`].
fn bench_registrar_flow(server: Server, sipp: &Path, bench_cfg: &str) -> Result<(), String> {
    let proxy = free_udp_port();
    let name = match server {
        Server::Kamailio => "kamailio",
        Server::Sercompat => "sercompat",
    };
    let dir = std::env::temp_dir().join(format!(
        "sercompat-e2e-bench-registrar-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cfg = dir.join("registrar.cfg");
    let text = bench_cfg.replace(
        "listen=udp:127.0.0.1:5060",
        &format!("listen=udp:127.0.0.1:{proxy}"),
    );
    if text == bench_cfg {
        return Err("the bench config no longer listens on udp:127.0.0.1:5060".into());
    }
    std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let _server = sipp_support::start_logged(
        match server {
            Server::Kamailio => &sipp_support::Server::Kamailio,
            Server::Sercompat => &sipp_support::Server::Sercompat,
        },
        &cfg,
        &dir,
        Stdio::from(log),
    );
    against_server(name, proxy, &log_path, || {
        register_fork_and_call(sipp, proxy)
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn bench_registrar_config_registers_forks_and_calls_like_kamailio() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let bench_cfg = std::fs::read_to_string(shared.join("bench/cfg/registrar.cfg"))
        .expect("../shared/bench/cfg/registrar.cfg");
    bench_registrar_flow(Server::Kamailio, &sipp, &bench_cfg)
        .unwrap_or_else(|e| panic!("the oracle: {e}"));
    bench_registrar_flow(Server::Sercompat, &sipp, &bench_cfg).unwrap_or_else(|e| panic!("{e}"));
}
