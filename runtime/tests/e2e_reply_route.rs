//! The main `onreply_route` over real sockets: sipp as caller and callee
//! through `sercompat run` and — the behavioural oracle — Kamailio 5.6
//! with the same config. The route drops the callee's 180 and adds a
//! header to its 200; the caller's scenario fails on a 180 or on a 200
//! without the header (tests/sipp/reply-route-*.xml).
//!
//! Without sipp or Kamailio the test skips with a message saying what to
//! install; under `CI=true` it fails instead.

mod sipp_support;

use sipp_support::{free_udp_port, scratch, sipp_and_kamailio, tool, wait_for_sip, Running};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn config(proxy_port: u16, uas_port: u16) -> String {
    format!(
        r#"#!KAMAILIO
listen=udp:127.0.0.1:{proxy_port}
children=1
loadmodule "sl.so"
loadmodule "textops.so"

request_route {{
	if (is_method("OPTIONS")) {{
		sl_send_reply("200", "OK");
		exit;
	}}
	rewritehostport("127.0.0.1:{uas_port}");
	forward();
}}

onreply_route {{
	if (status == "180") {{
		drop;
	}}
	if (status == "200") {{
		append_hf("X-Reply-Route: seen\r\n");
	}}
}}
"#
    )
}

fn sipp_run(sipp: &Path, scenario: &Path, port: u16, proxy_port: Option<u16>) -> Command {
    let mut c = Command::new(sipp);
    if let Some(p) = proxy_port {
        c.arg(format!("127.0.0.1:{p}"));
    }
    c.arg("-sf")
        .arg(scenario)
        .args(["-m", "1", "-i", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .args(["-timeout", "15s", "-nostdin"])
        .stdin(Stdio::null());
    c
}

fn start_kamailio(cfg: &Path, dir: &Path) -> Running {
    Running::spawn(
        Command::new("/usr/sbin/kamailio")
            .arg("-f")
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
            .arg(dir.join("kamailio.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// The scenario against one server: `Err` with sipp's last lines.
fn scenario(sipp: &Path, kamailio: bool) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp");
    let dir = scratch(if kamailio {
        "reply-route-kamailio"
    } else {
        "reply-route-sercompat"
    });
    let proxy_port = free_udp_port();
    let uas_port = free_udp_port();
    let cfg = dir.join("reply.cfg");
    std::fs::write(&cfg, config(proxy_port, uas_port)).expect("config");
    let _proxy = if kamailio {
        start_kamailio(&cfg, &dir)
    } else {
        sipp_support::start_sercompat(&cfg, &dir.join("stderr.txt"))
    };
    assert!(
        wait_for_sip(proxy_port),
        "the server does not answer on {proxy_port}"
    );
    let _uas = Running::spawn(
        sipp_run(sipp, &root.join("reply-route-uas.xml"), uas_port, None)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = sipp_run(
        sipp,
        &root.join("reply-route-uac.xml"),
        free_udp_port(),
        Some(proxy_port),
    )
    .arg("-timeout_error")
    .output()
    .map_err(|e| format!("running sipp: {e}"))?;
    std::fs::remove_dir_all(&dir).ok();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "sipp exited {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

#[test]
fn kamailio_drops_and_edits_replies_in_onreply_route() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    if let Err(e) = scenario(&sipp, true) {
        panic!("{e}");
    }
}

#[test]
fn sercompat_drops_and_edits_replies_like_kamailio() {
    let Some(sipp) = tool("/usr/bin/sipp", "sip-tester") else {
        return;
    };
    if let Err(e) = scenario(&sipp, false) {
        panic!("{e}");
    }
}
