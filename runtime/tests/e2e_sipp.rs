//! End to end with real SIP peers: sipp (Debian `sip-tester`) as caller and
//! callee, on loopback, against `sercompat run` and — the behavioural
//! oracle — real Kamailio 5.6 running the same config. Both must give the
//! same responses to the same scenarios (tests/sipp/*.xml).
//!
//! Without sipp or Kamailio the test skips with a message saying what to
//! install; under `CI=true` it fails instead.

mod sipp_support;

use sipp_support::{
    free_udp_port, sipp_and_kamailio, sipp_uac, sipp_uas, start, tool, wait_for_bound,
    wait_for_sip, Running, Server,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The stateless config both servers run: 483 on Max-Forwards 0, 200 to
/// OPTIONS, everything else forwarded to the callee.
fn stateless_config(proxy_port: u16, uas_port: u16) -> String {
    format!(
        r#"#!KAMAILIO
listen=udp:127.0.0.1:{proxy_port}
children=2
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"

request_route {{
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (is_method("OPTIONS")) {{
		sl_send_reply("200", "OK");
		exit;
	}}
	rewritehostport("127.0.0.1:{uas_port}");
	forward();
}}
"#
    )
}

/// Every scenario against one server: the outcome of each.
fn scenarios(server: Server, sipp: &Path) -> Vec<(String, Result<(), String>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let dir = std::env::temp_dir().join(format!(
        "sercompat-e2e-{}-{}",
        match server {
            Server::Kamailio => "kamailio",
            Server::Sercompat => "sercompat",
        },
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let proxy_port = free_udp_port();
    let uas_port = free_udp_port();
    let cfg = dir.join("stateless.cfg");
    std::fs::write(&cfg, stateless_config(proxy_port, uas_port)).expect("config");
    let _proxy = start(&server, &cfg, &dir);
    assert!(
        wait_for_sip(proxy_port),
        "the server does not answer on port {proxy_port}"
    );
    let mut out = Vec::new();
    for name in ["options-200.xml", "maxfwd-483.xml"] {
        out.push((
            name.to_string(),
            sipp_uac(sipp, &root.join(name), proxy_port),
        ));
    }
    let _uas = sipp_uas(sipp, &root.join("message-uas.xml"), uas_port);
    std::thread::sleep(Duration::from_millis(300));
    out.push((
        "message-uac.xml".to_string(),
        sipp_uac(sipp, &root.join("message-uac.xml"), proxy_port),
    ));
    out
}

#[test]
fn kamailio_passes_the_stateless_scenarios() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let failed: Vec<String> = scenarios(Server::Kamailio, &sipp)
        .into_iter()
        .filter_map(|(n, r)| r.err().map(|e| format!("{n}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn sercompat_gives_the_same_responses_as_kamailio() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    let failed: Vec<String> = scenarios(Server::Sercompat, &sipp)
        .into_iter()
        .filter_map(|(n, r)| r.err().map(|e| format!("{n}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// The benchmark's stateless config (`../shared/bench/cfg/stateless.cfg`,
/// ports moved to free ones) through sercompat, with sipp's built-in `uac`
/// and `uas` scenarios: 20 calls (INVITE, 180, 200, ACK, BYE, 200), all
/// successful.
#[test]
fn bench_stateless_config_with_builtin_uac_and_uas() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let text =
        std::fs::read_to_string(shared.join("bench/cfg/stateless.cfg")).expect("stateless.cfg");
    let proxy_port = free_udp_port();
    let uas_port = free_udp_port();
    let cfg_text = text
        .replace("127.0.0.1:5060", &format!("127.0.0.1:{proxy_port}"))
        .replace(
            "forward(\"127.0.0.1\", 5070)",
            &format!("forward(\"127.0.0.1\", {uas_port})"),
        );
    assert_ne!(cfg_text, text, "the config's ports were found and moved");
    let dir = std::env::temp_dir().join(format!("sercompat-e2e-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let cfg = dir.join("stateless.cfg");
    std::fs::write(&cfg, cfg_text).expect("config");
    let _proxy = start(&Server::Sercompat, &cfg, &dir);
    assert!(
        wait_for_bound(proxy_port),
        "sercompat does not listen on port {proxy_port}"
    );
    let _uas = Running::spawn(
        Command::new(&sipp)
            .args(["-sn", "uas", "-i", "127.0.0.1", "-p"])
            .arg(uas_port.to_string())
            .args(["-nostdin"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    std::thread::sleep(Duration::from_millis(300));
    let uac_port = free_udp_port();
    let out = Command::new(&sipp)
        .arg(format!("127.0.0.1:{proxy_port}"))
        .args([
            "-sn",
            "uac",
            "-m",
            "20",
            "-r",
            "10",
            "-i",
            "127.0.0.1",
            "-p",
        ])
        .arg(uac_port.to_string())
        .args(["-timeout", "20s", "-nostdin", "-timeout_error"])
        .stdin(Stdio::null())
        .output()
        .expect("sipp uac");
    assert!(
        out.status.success(),
        "sipp uac exited {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
