//! acc log accounting end to end, against Kamailio 5.6 as the oracle: the
//! same config (the Kamailio 3.1 default's acc settings: log, missed and
//! failed-transaction flags, `report_ack`, `log_extra`) and the same sipp
//! calls — answered (INVITE, ACK, BYE), busy, busy with the
//! failed-transaction flag, canceled, answered after early media (a 183
//! with SDP, `early_media`), and one `acc_log_request` — must
//! write the same "ACC: ..." lines in the same order. Timestamps, To tags
//! and Call-IDs (sipp's process id is in them) are masked.

mod sipp_support;

use sipp_support::{
    against_server, free_udp_port, scenario, sipp_and_kamailio, sipp_uac_keys, sipp_uas,
    start_logged, Running, Server,
};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

struct Ports {
    proxy: u16,
    answer: u16,
    busy: u16,
    failed: u16,
    ring: u16,
    early: u16,
}

fn config(p: &Ports) -> String {
    format!(
        r#"#!KAMAILIO
debug=2
children=1
listen=udp:127.0.0.1:{proxy}
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "acc.so"
modparam("acc", "early_media", 1)
modparam("acc", "report_ack", 1)
modparam("acc", "report_cancels", 1)
modparam("acc", "failed_transaction_flag", 3)
modparam("acc", "log_flag", 1)
modparam("acc", "log_missed_flag", 2)
modparam("acc", "log_extra",
    "src_user=$fU;src_domain=$fd;dst_ouser=$tU;dst_user=$rU;dst_domain=$rd")

request_route {{
    if (has_totag()) {{
        if (loose_route()) {{
            if (is_method("BYE")) {{
                setflag(1);
                setflag(3);
            }}
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) t_relay();
        exit;
    }}
    t_check_trans();
    if (is_method("INVITE")) {{
        record_route();
        setflag(1);
        setflag(2);
    }}
    if ($rU == "alice") {{
        acc_log_request("200 Logged");
        rewritehostport("127.0.0.1:{answer}");
    }} else if ($rU == "busy") {{
        rewritehostport("127.0.0.1:{busy}");
    }} else if ($rU == "early") {{
        rewritehostport("127.0.0.1:{early}");
    }} else if ($rU == "failed") {{
        setflag(3);
        rewritehostport("127.0.0.1:{failed}");
    }} else {{
        rewritehostport("127.0.0.1:{ring}");
    }}
    t_relay();
}}
"#,
        proxy = p.proxy,
        answer = p.answer,
        busy = p.busy,
        failed = p.failed,
        ring = p.ring,
        early = p.early,
    )
}

/// The accounting lines of a server's log, with what differs between
/// runs masked.
fn acc_lines(log: &str) -> Vec<String> {
    let mask = |field: &str, value: &str| -> String {
        match field {
            "timestamp" => "timestamp=T".into(),
            "to_tag" | "call_id" if !value.is_empty() => format!("{field}=X"),
            _ => format!("{field}={value}"),
        }
    };
    log.lines()
        .filter_map(|l| l.find("ACC: ").map(|i| &l[i..]))
        .map(|l| {
            let (head, fields) = l.split_at(l.find("timestamp=").unwrap_or(l.len()));
            let fields: Vec<String> = fields
                .split(';')
                .map(|f| match f.split_once('=') {
                    Some((k, v)) => mask(k, v),
                    None => f.to_owned(),
                })
                .collect();
            format!("{head}{}", fields.join(";"))
        })
        .collect()
}

fn run(server: &Server, sipp: &Path) -> Result<Vec<String>, String> {
    let p = Ports {
        proxy: free_udp_port(),
        answer: free_udp_port(),
        busy: free_udp_port(),
        failed: free_udp_port(),
        ring: free_udp_port(),
        early: free_udp_port(),
    };
    let name = match server {
        Server::Kamailio => "kamailio",
        Server::Sercompat => "sercompat",
    };
    let dir = std::env::temp_dir().join(format!("sercompat-e2e-acc-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cfg = dir.join("acc.cfg");
    std::fs::write(&cfg, config(&p)).map_err(|e| e.to_string())?;
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let mut proxy: Running = start_logged(server, &cfg, &dir, Stdio::from(log));
    against_server(name, p.proxy, &log_path, || {
        let _callees = [
            sipp_uas(sipp, &scenario("call-rr-uas.xml"), p.answer),
            sipp_uas(sipp, &scenario("invite-uas-486.xml"), p.busy),
            sipp_uas(sipp, &scenario("invite-uas-486.xml"), p.failed),
            sipp_uas(sipp, &scenario("cancel-uas.xml"), p.ring),
            sipp_uas(sipp, &scenario("early-media-uas.xml"), p.early),
        ];
        std::thread::sleep(Duration::from_millis(300));
        let calls = [
            ("call-rr-uac.xml", "alice"),
            ("busy-uac.xml", "busy"),
            ("busy-uac.xml", "failed"),
            ("cancel-uac.xml", "carol"),
            ("call-rr-uac.xml", "early"),
        ];
        for (file, user) in calls {
            sipp_uac_keys(sipp, &scenario(file), p.proxy, &[("user", user)])
                .map_err(|e| format!("call to {user}: {e}"))?;
        }
        Ok(())
    })?;
    std::thread::sleep(Duration::from_millis(500));
    assert!(proxy.alive(), "{name} died:\n{}", read_log());
    drop(proxy);
    let lines = acc_lines(&read_log());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(lines)
}

#[test]
fn acc_writes_the_same_records_as_kamailio() {
    let Some(sipp) = sipp_and_kamailio() else {
        return;
    };
    let kamailio = run(&Server::Kamailio, &sipp).unwrap_or_else(|e| panic!("{e}"));
    let ours = run(&Server::Sercompat, &sipp).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        kamailio.len(),
        12,
        "Kamailio's records changed shape:\n{}",
        kamailio.join("\n")
    );
    assert_eq!(ours, kamailio);
}
