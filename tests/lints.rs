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
