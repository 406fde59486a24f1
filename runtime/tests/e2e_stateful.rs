//! A stateful proxy end to end, against Kamailio 5.6 as the oracle: the
//! same config (t_relay, a failure route that forks serially on 486 and
//! answers 504 on a timeout) and the same sipp scenarios, which check
//! every response code in order. Both servers must pass the same ones.

mod sipp_support;

use sipp_support::{
    against_server, free_udp_port, sipp_and_kamailio, sipp_uac, sipp_uac_keys, sipp_uas, start,
    start_logged, tool, wait_for_bound, wait_for_sip, Running, Server,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// In-dialog requests go to the answering callee; new calls to `nobody`
/// go where nothing answers, to `carol` to a callee that rings until
/// canceled (a CANCEL is matched by tm inside `t_relay`), every other call
/// to a busy callee first and, after its 486, to the one that answers.
fn stateful_config(proxy: u16, busy: u16, good: u16, dead: u16, ring: u16) -> String {
    format!(
        r#"#!KAMAILIO
listen=udp:127.0.0.1:{proxy}
children=2
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "pv.so"
modparam("tm", "fr_timer", 2000)

request_route {{
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (has_totag()) {{
		rewritehostport("127.0.0.1:{good}");
		t_relay();
		exit;
	}}
	if ($rU == "nobody") {{
		rewritehostport("127.0.0.1:{dead}");
	}} else if ($rU == "carol") {{
		rewritehostport("127.0.0.1:{ring}");
	}} else {{
		rewritehostport("127.0.0.1:{busy}");
	}}
	t_on_failure("next");
	if (!t_relay()) {{
		sl_reply_error();
	}}
}}

failure_route[next] {{
	if (t_check_status("408")) {{
		t_reply("504", "Server Time-out");
		exit;
	}}
	if (t_check_status("486")) {{
		rewritehostport("127.0.0.1:{good}");
		t_relay();
		exit;
	}}
}}
"#
    )
}

fn scenarios(server: Server, sipp: &Path) -> Vec<(String, Result<(), String>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let dir = std::env::temp_dir().join(format!(
        "sercompat-e2e-stateful-{}-{}",
        match server {
            Server::Kamailio => "kamailio",
            Server::Sercompat => "sercompat",
        },
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let (proxy, busy, good, dead, ring) = (
        free_udp_port(),
        free_udp_port(),
        free_udp_port(),
        free_udp_port(),
        free_udp_port(),
    );
    let cfg = dir.join("stateful.cfg");
    std::fs::write(&cfg, stateful_config(proxy, busy, good, dead, ring)).expect("config");
    let _proxy = start(&server, &cfg, &dir);
    assert!(
        wait_for_sip(proxy),
        "the server does not answer on port {proxy}"
    );
    let mut out = Vec::new();
    // fr_timer → 408 → the failure route's 504.
    out.push((
        "timeout: 504 from the failure route".to_string(),
        sipp_uac(sipp, &root.join("invite-uac-504.xml"), proxy),
    ));
    // 486 from the first callee → serial fork → 180/200 from the second,
    // ACK and BYE relayed.
    let _busy = sipp_uas(sipp, &root.join("invite-uas-486.xml"), busy);
    let _good = sipp_uas(sipp, &root.join("invite-uas.xml"), good);
    std::thread::sleep(Duration::from_millis(300));
    out.push((
        "serial fork after 486".to_string(),
        sipp_uac(sipp, &root.join("invite-uac.xml"), proxy),
    ));
    // CANCEL of a ringing call: 200 for the CANCEL, 487 for the INVITE.
    let _ringing = sipp_uas(sipp, &root.join("cancel-uas.xml"), ring);
    std::thread::sleep(Duration::from_millis(300));
    out.push((
        "cancel while ringing".to_string(),
        sipp_uac_keys(
            sipp,
            &root.join("cancel-uac.xml"),
            proxy,
            &[("user", "carol")],
        ),
    ));
    out
}

fn failures(results: Vec<(String, Result<(), String>)>) -> Vec<String> {
    results
        .into_iter()
        .filter_map(|(n, r)| r.err().map(|e| format!("{n}: {e}")))
        .collect()
}

#[test]
fn kamailio_passes_the_stateful_scenarios() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let failed = failures(scenarios(Server::Kamailio, &sipp));
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn sercompat_passes_the_same_stateful_scenarios() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    let failed = failures(scenarios(Server::Sercompat, &sipp));
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// A record-routing proxy in front of one callee.
fn lossy_config(proxy: u16, callee: u16) -> String {
    format!(
        r#"#!KAMAILIO
listen=udp:127.0.0.1:{proxy}
children=2
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"

request_route {{
	if (has_totag()) {{
		if (loose_route()) {{
			t_relay();
		}}
		exit;
	}}
	if (is_method("INVITE")) {{
		record_route();
	}}
	rewritehostport("127.0.0.1:{callee}");
	t_relay();
}}
"#
    )
}

const LOSSY_CALLS: u32 = 20;

/// `LOSSY_CALLS` calls through `server` from a caller that loses 10 % of
/// what it sends and receives (sipp `-lost 10`): the lost INVITEs, BYEs
/// and replies must come back through retransmissions — the caller's, the
/// callee's repeated 200, and the proxy's transaction answering a
/// repeated BYE with its last reply.
fn lossy_calls(server: Server, sipp: &Path) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let name = match server {
        Server::Kamailio => "kamailio",
        Server::Sercompat => "sercompat",
    };
    let dir =
        std::env::temp_dir().join(format!("sercompat-e2e-lossy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (proxy, callee) = (free_udp_port(), free_udp_port());
    let cfg = dir.join("lossy.cfg");
    std::fs::write(&cfg, lossy_config(proxy, callee)).map_err(|e| e.to_string())?;
    let _proxy = start(&server, &cfg, &dir);
    if !wait_for_bound(proxy) {
        return Err(format!("{name} does not serve on {proxy}"));
    }
    let calls = LOSSY_CALLS.to_string();
    let _callee = Running::spawn(
        Command::new(sipp)
            .arg("-sf")
            .arg(root.join("call-rr-uas.xml"))
            .args(["-m", &calls, "-i", "127.0.0.1", "-p", &callee.to_string()])
            .args(["-timeout", "90s", "-nostdin"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(sipp)
        .arg(format!("127.0.0.1:{proxy}"))
        .arg("-sf")
        .arg(root.join("call-rr-uac.xml"))
        .args([
            "-key", "user", "bob", "-m", &calls, "-r", "10", "-lost", "10",
        ])
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string()])
        .args(["-timeout", "90s", "-timeout_error", "-nostdin"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running sipp: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stats: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("Successful call") || l.contains("Failed call"))
            .collect();
        return Err(format!("{name}: {}", stats.join(" / ")));
    }
    // The last column of sipp's message table is what it lost on purpose.
    let lost: u32 = text
        .lines()
        .filter(|l| l.contains("---------->") || l.contains("<----------"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u32>().ok())
        .sum();
    if lost == 0 {
        return Err(format!(
            "{name}: sipp lost nothing, so nothing was recovered"
        ));
    }
    Ok(())
}

#[test]
fn lost_packets_are_recovered_by_retransmission_as_with_kamailio() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    lossy_calls(Server::Kamailio, &sipp).unwrap_or_else(|e| panic!("the oracle: {e}"));
    lossy_calls(Server::Sercompat, &sipp).unwrap_or_else(|e| panic!("{e}"));
}

/// The benchmark's `stateful.cfg` (../shared/bench/cfg) with its two
/// fixed ports replaced by free ones, under `server`: a call (record-
/// routed ACK and BYE), a CANCEL while the callee rings, and 483 for
/// Max-Forwards 0.
fn bench_stateful_flow(server: Server, sipp: &Path, bench_cfg: &str) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let name = match server {
        Server::Kamailio => "kamailio",
        Server::Sercompat => "sercompat",
    };
    let (proxy, callee) = (free_udp_port(), free_udp_port());
    let text = bench_cfg
        .replace(
            "listen=udp:127.0.0.1:5060",
            &format!("listen=udp:127.0.0.1:{proxy}"),
        )
        .replace("127.0.0.1:5070", &format!("127.0.0.1:{callee}"));
    if !text.contains(&format!(":{proxy}")) || !text.contains(&format!(":{callee}")) {
        return Err("the bench config no longer uses ports 5060 and 5070".into());
    }
    let dir = std::env::temp_dir().join(format!(
        "sercompat-e2e-bench-stateful-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cfg = dir.join("stateful.cfg");
    std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let _server = start_logged(&server, &cfg, &dir, Stdio::from(log));
    against_server(name, proxy, &log_path, || {
        let _callee = sipp_uas(sipp, &root.join("call-rr-uas.xml"), callee);
        std::thread::sleep(Duration::from_millis(300));
        sipp_uac_keys(
            sipp,
            &root.join("call-rr-uac.xml"),
            proxy,
            &[("user", "bob")],
        )
        .map_err(|e| format!("call: {e}"))?;
        let _ringing = sipp_uas(sipp, &root.join("cancel-uas.xml"), callee);
        std::thread::sleep(Duration::from_millis(300));
        sipp_uac_keys(
            sipp,
            &root.join("cancel-uac.xml"),
            proxy,
            &[("user", "bob")],
        )
        .map_err(|e| format!("cancel while ringing: {e}"))?;
        sipp_uac(sipp, &root.join("maxfwd-483.xml"), proxy).map_err(|e| format!("483: {e}"))
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn bench_stateful_config_serves_like_kamailio() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let bench_cfg = std::fs::read_to_string(shared.join("bench/cfg/stateful.cfg"))
        .expect("../shared/bench/cfg/stateful.cfg");
    bench_stateful_flow(Server::Kamailio, &sipp, &bench_cfg)
        .unwrap_or_else(|e| panic!("the oracle: {e}"));
    bench_stateful_flow(Server::Sercompat, &sipp, &bench_cfg).unwrap_or_else(|e| panic!("{e}"));
}
