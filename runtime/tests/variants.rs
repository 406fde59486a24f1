//! `sercompat check --all-variants`, run as a process from the repository
//! root (so that file names in the output are relative and stable).
//!
//! The snapshots live with the workspace's others, in `tests/snapshots/`
//! (`variants__*.snap`). Update them with `cargo insta test -p sercompat --accept`
//! (or `INSTA_UPDATE=always cargo test -p sercompat --test variants`), then read them.

mod common;

use common::{repo_root, sercompat};
use std::collections::HashSet;

/// WITH_AUTH calls an undefined route; WITH_TLS has a missing `;`.
const TWO_NAMES: &str = "tests/variants/two-names.cfg";
/// WITH_LOG is tested only in a file that WITH_EXTRA includes.
const NESTED: &str = "tests/variants/nested-include.cfg";
/// Defines WITH_PSTN and FLT_PSTN itself, and tests them and WITH_DEBUG.
const DEFINES_ITS_OWN: &str = "compat-configs/kamailio-5.x/kamailio-5.cfg";

/// Snapshots `value` as `tests/snapshots/variants__<name>.snap`.
fn snapshot(name: &str, value: String) {
    insta::with_settings!({ snapshot_path => repo_root().join("tests/snapshots"), omit_expression => true }, {
        insta::assert_snapshot!(name, value);
    });
}

/// The diagnostics of a JSON run with `code`.
fn with_code<'a>(lines: &'a [serde_json::Value], code: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|v| v["code"] == code).collect()
}

fn notes(v: &serde_json::Value) -> Vec<&str> {
    v["notes"]
        .as_array()
        .map(|n| n.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn each_diagnostic_once_with_the_define_set_that_shows_it() {
    let run = sercompat(&["check", "--all-variants", TWO_NAMES]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for header in [
        "error[L0101]: `route(AUTH)` calls a route that is not defined",
        "error[E2001]: expected `;` after `sl_send_reply(...)`",
    ] {
        assert_eq!(
            run.stdout.matches(header).count(),
            1,
            "`{header}` once: {}",
            run.transcript()
        );
    }
    for note in [
        "checked 4 variants, every combination of 2 names: WITH_AUTH, WITH_TLS",
        "= shown with -A WITH_AUTH\n",
        "= in 1 of 4 variants\n",
        "= shown with -A WITH_TLS\n",
        "= in 2 of 4 variants\n",
    ] {
        assert!(run.stdout.contains(note), "`{note}`: {}", run.transcript());
    }
    snapshot("two-names-human", run.transcript());
}

#[test]
fn json_lines_carry_the_define_set_in_the_notes() {
    let run = sercompat(&["check", "--all-variants", "--format", "json", TWO_NAMES]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let lines = run.json_lines();
    let codes: Vec<&str> = lines.iter().filter_map(|v| v["code"].as_str()).collect();
    assert_eq!(
        codes,
        ["N0001", "N0002", "L0101", "E2001"],
        "{}",
        run.transcript()
    );
    let route = with_code(&lines, "L0101")[0];
    assert_eq!(route["line"], 9);
    let n = notes(route);
    assert_eq!(
        n[n.len() - 2..],
        ["shown with -A WITH_AUTH", "in 1 of 4 variants"]
    );
    let syntax = with_code(&lines, "E2001")[0];
    assert_eq!(syntax["line"], 12);
    assert_eq!(
        notes(syntax),
        ["shown with -A WITH_TLS", "in 2 of 4 variants"]
    );
    snapshot("two-names-json", run.transcript());
}

#[test]
fn a_name_fixed_with_dash_a_is_on_in_every_variant() {
    let run = sercompat(&[
        "check",
        "--all-variants",
        "--format",
        "json",
        "-A",
        "WITH_TLS",
        TWO_NAMES,
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let lines = run.json_lines();
    let note = with_code(&lines, "N0002")[0]["message"]
        .as_str()
        .expect("message");
    assert!(
        note.ends_with(
            "checked 2 variants, every combination of 1 name: WITH_AUTH; fixed with -A: WITH_TLS"
        ),
        "{note}"
    );
    // The syntax error is in both variants: no "N of M" note. The file is
    // not linted (syntax errors), so the undefined route never shows.
    let syntax = with_code(&lines, "E2001");
    assert_eq!(syntax.len(), 1, "{}", run.transcript());
    assert_eq!(notes(syntax[0]), ["shown with -A WITH_TLS"]);
    assert!(
        with_code(&lines, "L0101").is_empty(),
        "{}",
        run.transcript()
    );
}

#[test]
fn parse_only_skips_the_lints_of_every_variant() {
    let run = sercompat(&["check", "--all-variants", "--parse-only", "-q", TWO_NAMES]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(!run.stdout.contains("L0101"), "{}", run.transcript());
    assert!(run.stdout.contains("error[E2001]"), "{}", run.transcript());
    assert!(
        !run.stdout.contains("N0002") && !run.stdout.contains("N0001"),
        "-q drops the notes about the file: {}",
        run.transcript()
    );
}

#[test]
fn names_found_in_a_variant_are_varied_too() {
    let run = sercompat(&["check", "--all-variants", NESTED]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("checked 4 variants, every combination of 2 names: WITH_EXTRA, WITH_LOG"),
        "{}",
        run.transcript()
    );
    assert!(
        run.stdout
            .contains("= shown with -A WITH_EXTRA -A WITH_LOG\n"),
        "{}",
        run.transcript()
    );
    snapshot("nested-include-human", run.transcript());
}

#[test]
fn names_the_config_defines_itself_are_not_varied() {
    let run = sercompat(&["check", "--all-variants", DEFINES_ITS_OWN]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains(
            "checked 2 variants, every combination of 1 name: WITH_DEBUG; not varied, as the config defines them itself: FLT_PSTN, WITH_PSTN"
        ),
        "{}",
        run.transcript()
    );
    assert!(!run.stdout.contains("E1007"), "{}", run.transcript());
}

#[test]
fn a_file_without_ifdef_is_one_variant() {
    let run = sercompat(&[
        "check",
        "--all-variants",
        "tests/broken/missing-semicolon.cfg",
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("checked 1 variant: no #!ifdef/#!ifndef name to vary"),
        "{}",
        run.transcript()
    );
    assert!(!run.stdout.contains("shown with"), "{}", run.transcript());
}

#[test]
fn kamailio_31_seed_is_checked_under_22_variants() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let seed = shared.join("corpus/seed/kamailio-3.1-default-kamailio.cfg");
    let seed = seed.to_str().expect("UTF-8 path");
    let run = sercompat(&["check", "--all-variants", "--format", "json", seed]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit 0 or 1: {}",
        run.transcript()
    );
    let again = sercompat(&["check", "--all-variants", "--format", "json", seed]);
    assert_eq!(
        (run.code, &run.stdout),
        (again.code, &again.stdout),
        "deterministic"
    );
    let lines = run.json_lines();
    let note = with_code(&lines, "N0002");
    assert_eq!(note.len(), 1, "{}", run.transcript());
    let note = note[0]["message"].as_str().expect("message");
    assert!(
        note.contains("checked 22 of 1024 variants") && note.contains("of 10 names"),
        "{note}"
    );
    let mut seen = HashSet::new();
    for v in &lines {
        let key = (
            v["code"].to_string(),
            v["message"].to_string(),
            v["file"].to_string(),
            v["line"].to_string(),
            v["column"].to_string(),
            v["end_line"].to_string(),
            v["end_column"].to_string(),
        );
        assert!(seen.insert(key), "reported twice: {v}");
        if v["severity"] != "note" {
            assert!(
                notes(v)
                    .iter()
                    .any(|n| n.starts_with("shown with -A ") || *n == "shown without -A"),
                "no define set: {v}"
            );
        }
    }
    let errors = lines.iter().any(|v| v["severity"] == "error");
    assert_eq!(run.code, i32::from(errors), "{}", run.transcript());
}
