//! One config per lint under tests/lints/, its rendered diagnostics
//! snapshotted; every lint is documented in docs/lints.md.

use codespan_reporting::term::termcolor::NoColor;
use sercompat_compiler::lints::ALL;
use sercompat_grammar::{parse_file, render, Options};
use std::path::Path;

fn render_all(rel: &str) -> (String, Vec<&'static str>) {
    let root = sercompat_tests::repo_root();
    std::env::set_current_dir(&root).expect("repo root");
    let path = Path::new(rel);
    let parsed = parse_file(path, &Options::default()).expect("lint config");
    assert!(!parsed.has_errors(), "{rel} must parse cleanly");
    let diags = sercompat_compiler::check(&parsed);
    let mut out = NoColor::new(Vec::new());
    for d in &diags {
        render::human(&parsed.db, d, &mut out).expect("render");
    }
    (
        String::from_utf8(out.into_inner()).expect("utf-8"),
        diags.iter().map(|d| d.code).collect(),
    )
}

#[test]
fn every_lint_has_a_config_and_a_snapshot() {
    for lint in ALL {
        let rel = format!("tests/lints/{}.cfg", lint.name);
        let (text, codes) = render_all(&rel);
        assert!(
            codes.contains(&lint.code),
            "{rel} does not trigger {} ({codes:?})",
            lint.code
        );
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("lint__{}", lint.name), text);
        });
    }
}

#[test]
fn every_lint_is_documented() {
    let docs = std::fs::read_to_string(sercompat_tests::repo_root().join("docs/lints.md"))
        .expect("docs/lints.md");
    for lint in ALL {
        let heading = format!("## {} {}", lint.code, lint.name);
        assert!(docs.contains(&heading), "docs/lints.md lacks `{heading}`");
    }
}

#[test]
fn lint_configs_are_all_used() {
    for entry in
        std::fs::read_dir(sercompat_tests::repo_root().join("tests/lints")).expect("tests/lints")
    {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".cfg")
            .to_string();
        assert!(
            ALL.iter().any(|l| l.name == name),
            "tests/lints/{name}.cfg matches no lint"
        );
    }
}

/// Every diagnostic of our example configs and of the founding document's
/// seed configs, rendered: each one has been read and is right (see
/// docs/lints.md for what each lint claims).
#[test]
fn compat_config_and_seed_diagnostics() {
    let root = sercompat_tests::repo_root();
    std::env::set_current_dir(&root).expect("repo root");
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for era_dir in std::fs::read_dir(root.join("compat-configs")).expect("compat-configs") {
        let era_dir = era_dir.expect("entry").path();
        if !era_dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&era_dir).expect("era dir") {
            let p = f.expect("entry").path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            // An include fragment: checked through the file that includes it.
            if name.ends_with(".cfg") && name != "kamailio-3-local.cfg" {
                let rel = p.strip_prefix(&root).unwrap().to_path_buf();
                files.push((rel.to_string_lossy().replace('/', "__"), rel));
            }
        }
    }
    let shared = sercompat_tests::shared_dir();
    if let Some(shared) = &shared {
        for name in [
            "sip_router-2001-first-ever-config.cfg",
            "ser-0.8.8-ser.cfg",
            "ser-3.1-default-ser.cfg",
            "kamailio-3.1-default-kamailio.cfg",
        ] {
            files.push((
                format!("seed__{name}"),
                shared.join("corpus/seed").join(name),
            ));
        }
    }
    files.sort();
    for (snap, path) in files {
        let parsed = parse_file(&path, &Options::default()).expect("config");
        let mut diags = parsed.diagnostics.clone();
        diags.extend(sercompat_compiler::check(&parsed));
        let mut out = NoColor::new(Vec::new());
        for d in &diags {
            render::human(&parsed.db, d, &mut out).expect("render");
        }
        let mut text = String::from_utf8(out.into_inner()).expect("utf-8");
        if let Some(shared) = &shared {
            text = text.replace(&shared.display().to_string(), "<shared>");
        }
        let text = format!("era: {} ({})\n\n{text}", parsed.era.era, parsed.era.reason);
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("diagnostics__{snap}"), text);
        });
    }
}

/// (severity, code, message) of the release-table lints on a config given
/// as text, with the era given (`--dialect`) or detected (`None`).
/// Whether `found` has a finding of `what` (`"Warning L0106"`) whose text
/// names `name`.
fn has(found: &[(String, String)], what: &str, name: &str) -> bool {
    found.iter().any(|(s, c)| s == what && c.contains(name))
}

fn table_findings(text: &str, era: Option<sercompat_grammar::Era>) -> Vec<(String, String)> {
    let opts = Options {
        dialect: era,
        ..Options::default()
    };
    let parsed = sercompat_grammar::parse_text(
        "t.cfg",
        text.to_string(),
        Path::new("t.cfg"),
        &opts,
        &sercompat_grammar::preprocess::NoFiles,
        &|_| None,
    );
    assert!(!parsed.has_errors(), "{text}");
    sercompat_compiler::check(&parsed)
        .iter()
        .filter(|d| {
            [
                "L0106", "L0107", "L0108", "L0109", "L0114", "L0115", "L0116",
            ]
            .contains(&d.code)
        })
        .map(|d| (format!("{:?} {}", d.severity, d.code), d.message.clone()))
        .collect()
}

/// Kamailio 3.x had `rr` in modules_k/ (Kamailio) and modules_s/ (SER):
/// the `loadmodule` path or the `mpath` order picks one, and its exports.
#[test]
fn kamailio_3_module_trees_pick_the_module() {
    use sercompat_grammar::Era;
    let k_rr = r#"#!KAMAILIO
mpath="/usr/lib/kamailio/modules_k/:/usr/lib/kamailio/modules/"
loadmodule "rr.so"
modparam("rr", "append_fromtag", 1)
request_route { record_route(); add_rr_param(";x=1"); remove_record_route(); }
"#;
    let found = table_findings(k_rr, Some(Era::Kamailio3));
    // `remove_record_route` is the SER rr's, not loaded here
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .contains("`remove_record_route` is a function of module `modules_s/rr`"),
        "{found:?}"
    );
    let s_rr = r#"#!KAMAILIO
loadmodule "/usr/lib/ser/modules_s/rr.so"
modparam("rr", "enable_socket_mismatch_warning", 1)
request_route { record_route(); remove_record_route(); }
"#;
    let found = table_findings(s_rr, Some(Era::Kamailio3));
    assert!(
        found.iter().any(|(s, m)| s == "Error L0115"
            && m.contains("`modules_s/rr` has no parameter `enable_socket_mismatch_warning`")),
        "{found:?}"
    );
}

/// Read as 3.x by detection, a config using a 4.0 function may well be a
/// 4.0 config: a warning then, an error when the era is given.
#[test]
fn detected_era_softens_names_of_later_releases() {
    use sercompat_grammar::Era;
    let cfg = r#"#!KAMAILIO
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
route { if (t_precheck_trans()) { exit; } t_relay(); }
"#;
    let given = table_findings(cfg, Some(Era::Kamailio3));
    assert!(
        given
            .iter()
            .any(|(s, m)| s == "Error L0106" && m.contains("t_precheck_trans")),
        "{given:?}"
    );
    let detected = table_findings(cfg, None);
    assert!(
        detected.iter().all(|(s, _)| !s.starts_with("Error")),
        "{detected:?}"
    );
}

/// SER configs were written against CVS trunk between releases: the table
/// findings stay warnings.
#[test]
fn ser_table_findings_are_warnings() {
    use sercompat_grammar::Era;
    let cfg = r#"loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/tm.so"
modparam("tm", "fr_timer", "30")
route { sl_send_reply("404"); t_relay_cancel(); t_relay(); }
"#;
    let found = table_findings(cfg, Some(Era::Ser2));
    assert!(has(&found, "Warning L0108", "sl_send_reply"), "{found:?}");
    assert!(has(&found, "Warning L0106", "t_relay_cancel"), "{found:?}");
    assert!(has(&found, "Warning L0116", "fr_timer"), "{found:?}");
}

/// Route types from the release tables: the flags of the export entries in
/// the era's releases (SER 0.8's nathelper allowed `nat_uac_test` in
/// request routes only; trunk allowed it in reply routes from November
/// 2003, 2.0 had it).
#[test]
fn route_types_come_from_the_era_releases() {
    use sercompat_grammar::Era;
    let cfg = r#"loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/tm.so"
loadmodule "/usr/lib/ser/modules/nathelper.so"
route { t_on_reply("1"); t_relay(); }
onreply_route[1] { if (nat_uac_test("1")) { fix_nated_contact(); } }
"#;
    let found = table_findings(cfg, Some(Era::Ser08));
    assert!(has(&found, "Warning L0114", "nat_uac_test"), "{found:?}");
    let found = table_findings(cfg, Some(Era::Ser2));
    assert!(
        !found.iter().any(|(_, c)| c.contains("nat_uac_test")),
        "{found:?}"
    );
    // Kamailio 3: an error, as the server refuses to start.
    let k3 = r#"#!KAMAILIO
loadmodule "sl.so"
loadmodule "tm.so"
request_route { t_on_failure("F"); t_relay(); }
failure_route[F] { sl_send_reply("500", "x"); }
"#;
    let found = table_findings(k3, Some(Era::Kamailio3));
    assert!(has(&found, "Error L0114", "sl_send_reply"), "{found:?}");
}

/// OpenSER 1.x and Kamailio 1.x configs are checked against the tables of
/// their releases (trunk snapshots at the branch points), as warnings.
#[test]
fn openser_table_findings_are_warnings() {
    use sercompat_grammar::Era;
    let cfg = r#"fifo="/tmp/openser_fifo"
loadmodule "/usr/lib/openser/modules/sl.so"
loadmodule "/usr/lib/openser/modules/tm.so"
loadmodule "/usr/lib/openser/modules/usrloc.so"
loadmodule "/usr/lib/openser/modules/registrar.so"
modparam("tm", "fr_timer", "30")
modparam("tm", "fr_timr", 30)
route { t_on_failure("1"); save("location", "0x01"); t_relya(); t_relay(); }
failure_route[1] { sl_send_reply("500", "x"); }
"#;
    let o10 = table_findings(cfg, Some(Era::OpenSer10));
    assert!(has(&o10, "Warning L0108", "save"), "{o10:?}");
    assert!(has(&o10, "Warning L0106", "t_relya"), "{o10:?}");
    assert!(has(&o10, "Warning L0116", "fr_timer"), "{o10:?}");
    assert!(has(&o10, "Warning L0115", "fr_timr"), "{o10:?}");
    assert!(has(&o10, "Warning L0114", "sl_send_reply"), "{o10:?}");
    // `fifo` is a core parameter until 1.1
    assert!(!o10.iter().any(|(_, c)| c.contains("fifo")), "{o10:?}");
    let o12 = table_findings(cfg, Some(Era::OpenSer12));
    assert!(has(&o12, "Warning L0109", "fifo"), "{o12:?}");
    // save takes flags from 1.2
    assert!(!o12.iter().any(|(_, c)| c.contains("`save`")), "{o12:?}");
    assert!(
        o12.iter()
            .chain(&o10)
            .all(|(s, _)| s.starts_with("Warning")),
        "{o10:?} {o12:?}"
    );
}
