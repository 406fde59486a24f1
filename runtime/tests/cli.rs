//! The `sercompat check` command line, run as a process from the repository
//! root (so that file names in the output are relative and stable).
//!
//! The snapshots live with the workspace's others, in `tests/snapshots/`
//! (`cli__*.snap`). Update them with `cargo insta test -p sercompat --accept`
//! (or `INSTA_UPDATE=always cargo test -p sercompat --test cli`), then read them.

mod common;

use common::{repo_root, sercompat, Run};

const BROKEN: &str = "tests/broken/missing-semicolon.cfg";
const GOOD: &str = "compat-configs/kamailio-5.x/kamailio-5.cfg";
const IFDEF: &str = "tests/broken/cli/ifdef-branch.cfg";

/// Snapshots `value` as `tests/snapshots/cli__<name>.snap`.
fn snapshot(name: &str, value: String) {
    insta::with_settings!({ snapshot_path => repo_root().join("tests/snapshots"), omit_expression => true }, {
        insta::assert_snapshot!(name, value);
    });
}

#[test]
fn human_output_of_a_broken_config() {
    let run = sercompat(&["check", BROKEN]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("expected `;` after `sl_send_reply(...)`"),
        "{}",
        run.transcript()
    );
    snapshot("check-human-broken", run.transcript());
}

const JSON_KEYS: &[&str] = &[
    "severity",
    "code",
    "message",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
];

#[test]
fn json_output_of_a_broken_config() {
    let run = sercompat(&["check", "--format", "json", BROKEN]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let mut codes = Vec::new();
    for line in run.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("not a JSON object: {line}"));
        for key in JSON_KEYS {
            assert!(obj.contains_key(*key), "key `{key}` missing in {line}");
        }
        codes.push(obj["code"].as_str().expect("code is a string").to_string());
    }
    assert_eq!(codes, ["N0001", "E2001"], "{}", run.transcript());
    let error: serde_json::Value =
        serde_json::from_str(run.stdout.lines().nth(1).unwrap()).unwrap();
    assert_eq!(error["severity"], "error");
    assert_eq!(error["file"], BROKEN);
    assert_eq!(error["message"], "expected `;` after `sl_send_reply(...)`");
    assert_eq!(error["line"], 4);
    snapshot("check-json-broken", run.transcript());
}

#[test]
fn exit_0_for_a_good_config() {
    let run = sercompat(&["check", "-q", GOOD]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.stdout, "", "-q and no problems: nothing to say");
}

#[test]
fn exit_1_for_a_broken_config() {
    let run = sercompat(&["check", "-q", BROKEN]);
    assert_eq!(run.code, 1, "{}", run.transcript());
}

#[test]
fn exit_1_when_any_file_is_broken() {
    let run = sercompat(&["check", "-q", GOOD, BROKEN, GOOD]);
    assert_eq!(run.code, 1, "{}", run.transcript());
}

#[test]
fn exit_2_for_a_missing_file() {
    let run = sercompat(&["check", "tests/broken/no-such-file.cfg"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("E0001"), "{}", run.transcript());
    snapshot("check-missing-file", run.transcript());
}

#[test]
fn exit_2_for_an_unknown_dialect() {
    let run = sercompat(&["check", "--dialect", "ser-0.7", GOOD]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("unknown era `ser-0.7`"),
        "{}",
        run.transcript()
    );
    snapshot("check-unknown-dialect", run.transcript());
}

#[test]
fn exit_2_without_a_file() {
    let run = sercompat(&["check"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
}

#[test]
fn define_on_the_command_line_activates_an_ifdef_branch() {
    let without = sercompat(&["check", "-q", IFDEF]);
    assert_eq!(without.code, 0, "{}", without.transcript());
    assert_eq!(without.stdout, "");
    let with = sercompat(&["check", "-q", "-A", "WITH_BROKEN", IFDEF]);
    assert_eq!(with.code, 1, "{}", with.transcript());
    assert!(
        with.stdout
            .contains("expected `;` after `sl_send_reply(...)`"),
        "{}",
        with.transcript()
    );
    snapshot("check-define-activates-ifdef", with.transcript());
}

/// The era note (first JSON line) of `check --format json ARGS…`.
fn era_note(args: &[&str]) -> String {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let run = sercompat(&all);
    let first = run
        .stdout
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no output: {}", run.transcript()));
    let v: serde_json::Value = serde_json::from_str(first).expect("JSON");
    assert_eq!(v["code"], "N0001", "{first}");
    let message = v["message"].as_str().expect("message");
    // The note is about the whole file: "<file>: read as …".
    message
        .split_once(": ")
        .map_or(message, |(_, rest)| rest)
        .to_string()
}

#[test]
fn dialect_overrides_detection() {
    let file = "compat-configs/ser-0.9/ser-0.9.cfg";
    let detected = era_note(&[file]);
    assert!(
        detected.starts_with("read as ser-0.9 (detected from"),
        "{detected}"
    );
    let forced = era_note(&["--dialect", "ser-0.8", file]);
    assert_eq!(forced, "read as ser-0.8 (chosen with --dialect)");
}

// ---------------------------------------------------------------- SARIF

/// Runs `check --format sarif ARGS…`; stdout is one SARIF document.
fn sarif(args: &[&str]) -> (Run, serde_json::Value) {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend_from_slice(args);
    let run = sercompat(&all);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            run.transcript()
        )
    });
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(
        doc["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1), "one run");
    (run, doc)
}

/// The results of the one run.
fn results(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    doc["runs"][0]["results"].as_array().expect("results")
}

#[test]
fn sarif_output_of_a_broken_config() {
    let (run, doc) = sarif(&[BROKEN]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "sercompat");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    for lint in sercompat_compiler::lints::ALL {
        let rule = rules
            .iter()
            .find(|r| r["id"] == lint.code)
            .unwrap_or_else(|| panic!("no rule for {}: {ids:?}", lint.code));
        assert_eq!(rule["name"], lint.name);
        assert_eq!(rule["shortDescription"]["text"], lint.summary);
        assert_eq!(
            rule["defaultConfiguration"]["level"],
            lint.severity.as_str()
        );
    }
    let error = results(&doc)
        .iter()
        .find(|r| r["ruleId"] == "E2001")
        .unwrap_or_else(|| panic!("no E2001 result: {}", run.stdout));
    assert_eq!(error["level"], "error");
    assert_eq!(
        error["message"]["text"],
        "expected `;` after `sl_send_reply(...)`"
    );
    let index = error["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "E2001");
    assert_eq!(rules[index]["defaultConfiguration"]["level"], "error");
    let location = &error["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], BROKEN);
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(
        location["region"],
        serde_json::json!({ "startLine": 4, "startColumn": 34, "endLine": 4, "endColumn": 34 })
    );
    let related = &error["relatedLocations"][0];
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 5);
    assert_eq!(related["message"]["text"], "found keyword `exit` instead");
    // The results, without the rule indexes, depend neither on the lints
    // being added nor on where the checkout is: snapshot those.
    let mut shown = results(&doc).clone();
    for r in &mut shown {
        r.as_object_mut()
            .expect("result object")
            .remove("ruleIndex");
    }
    let shown = serde_json::to_string_pretty(&shown).expect("JSON");
    snapshot("check-sarif-broken-results", shown);
}

#[test]
fn sarif_of_a_lint_finding_with_all_variants() {
    let (run, doc) = sarif(&["--all-variants", "tests/variants/two-names.cfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let finding = results(&doc)
        .iter()
        .find(|r| r["ruleId"] == "L0101")
        .unwrap_or_else(|| panic!("no L0101 result: {}", run.stdout));
    let text = finding["message"]["text"].as_str().expect("text");
    assert!(
        text.starts_with("`route(AUTH)` calls a route that is not defined\n"),
        "{text}"
    );
    assert!(text.contains("shown with -A WITH_AUTH"), "{text}");
    assert!(text.contains("in 1 of 4 variants"), "{text}");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let index = finding["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["name"], "undefined-route");
    let region = &finding["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 9);
    assert_eq!(region["startColumn"], 8);
    assert_eq!(region["endColumn"], 12);
}

#[test]
fn sarif_is_one_document_for_several_files() {
    let (run, doc) = sarif(&["-q", GOOD, BROKEN, "tests/broken/no-such-file.cfg"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    let uris: Vec<&str> = results(&doc)
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert_eq!(uris, [BROKEN], "-q: only the error of the broken file");
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notice = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notice["level"], "error");
    assert_eq!(notice["descriptor"]["id"], "E0001");
    assert!(run.stderr.contains("E0001"), "{}", run.transcript());
}

const SER08: &str = "compat-configs/ser-0.8/ser-basic.cfg";

#[test]
fn translate_prints_a_unified_diff() {
    let run = sercompat(&["check", "-q", "--translate", "kamailio-5.6", SER08]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .starts_with("--- a/compat-configs/ser-0.8/ser-basic.cfg\n+++ b/"));
    snapshot("translate-diff-ser-0.8", run.transcript());
}

#[test]
fn fix_is_translate_to_the_newest_target() {
    let fix = sercompat(&["check", "-q", "--fix", SER08]);
    let translate = sercompat(&["check", "-q", "--translate", "kamailio-5.6", SER08]);
    assert_eq!(fix.stdout, translate.stdout);
}

#[test]
fn translate_json_lists_each_edit_with_its_rule() {
    let run = sercompat(&["check", "-q", "--fix", "--format", "json", SER08]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let edits: Vec<serde_json::Value> = run
        .json_lines()
        .into_iter()
        .filter(|v| v["kind"] == "edit")
        .collect();
    let rules: Vec<&str> = edits.iter().map(|e| e["rule"].as_str().unwrap()).collect();
    for rule in ["T0101", "T0202", "T0402", "T0403", "T0405"] {
        assert!(rules.contains(&rule), "no {rule} edit in {rules:?}");
    }
    for e in &edits {
        for key in [
            "rule_name",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "original",
            "replacement",
            "message",
        ] {
            assert!(!e[key].is_null(), "edit without `{key}`: {e}");
        }
    }
}

#[test]
fn translate_writes_the_output_file_and_exits_1_on_what_it_cannot_rewrite() {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-translate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.cfg");
    std::fs::write(
        &bad,
        "loadmodule \"/usr/lib/ser/modules/sl.so\"\nloadmodule \"/usr/lib/ser/modules/jabber.so\"\nroute { jab_send_message(); sl_send_reply(\"404\", \"x\"); }\n",
    )
    .unwrap();
    let out = dir.join("out/k.cfg");
    let run = sercompat(&[
        "check",
        "-q",
        "--fix",
        "-o",
        out.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("error[T0104]"), "{}", run.stderr);
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("loadmodule \"sl.so\""), "{written}");
    // The line with no safe rewrite is left as it was.
    assert!(
        written.contains("loadmodule \"/usr/lib/ser/modules/jabber.so\""),
        "{written}"
    );
}

/// A config and the file it includes, in a scratch directory.
fn config_with_include(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("inc")).unwrap();
    std::fs::write(
        dir.join("main.cfg"),
        "# main\nloadmodule \"/usr/lib/ser/modules/sl.so\"\ninclude_file \"inc/routes.cfg\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("inc/routes.cfg"),
        "# routes, kept as written\nloadmodule \"/usr/lib/ser/modules/tm.so\"\nroute { t_relay(); }\n",
    )
    .unwrap();
    dir
}

#[test]
fn translate_writes_each_include_next_to_the_output() {
    let dir = config_with_include("out");
    let out = dir.join("new/kamailio.cfg");
    let run = sercompat(&[
        "check",
        "-q",
        "--fix",
        "-o",
        out.to_str().unwrap(),
        dir.join("main.cfg").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let main = std::fs::read_to_string(&out).unwrap();
    let inc = std::fs::read_to_string(dir.join("new/inc/routes.cfg")).unwrap();
    assert!(
        main.contains("loadmodule \"sl.so\"") && main.contains("include_file \"inc/routes.cfg\""),
        "{main}"
    );
    assert_eq!(
        inc,
        "# routes, kept as written\nloadmodule \"tm.so\"\nroute { t_relay(); }\n"
    );
    // The originals are untouched.
    assert!(std::fs::read_to_string(dir.join("inc/routes.cfg"))
        .unwrap()
        .contains("/usr/lib/ser"));
}

#[test]
fn translate_in_place_rewrites_every_file() {
    let dir = config_with_include("inplace");
    let run = sercompat(&[
        "check",
        "-q",
        "--fix",
        "--in-place",
        dir.join("main.cfg").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::read_to_string(dir.join("main.cfg"))
        .unwrap()
        .contains("loadmodule \"sl.so\""));
    assert!(std::fs::read_to_string(dir.join("inc/routes.cfg"))
        .unwrap()
        .contains("loadmodule \"tm.so\""));
    // A second run has nothing left to change.
    let again = sercompat(&[
        "check",
        "-q",
        "--fix",
        dir.join("main.cfg").to_str().unwrap(),
    ]);
    assert_eq!(again.stdout, "", "{}", again.transcript());
}

/// Calls and modules the runtime does not implement (yet).
const LACKING: &str = "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"dispatcher.so\"\nloadmodule \"nathelper.so\"\nrequest_route {\n\tif (!ds_select_dst(\"1\", \"4\")) { sl_send_reply(\"500\", \"No destination\"); exit; }\n\tds_next_dst();\n}\n";

#[test]
fn run_refuses_to_start_and_names_every_call_it_lacks() {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-lacking-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("lacking.cfg");
    std::fs::write(&cfg, LACKING).unwrap();
    let run = sercompat(&["run", cfg.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    // Two calls, two modules.
    let lacking = run.stderr.matches("error[R0001]: `").count();
    assert_eq!(lacking, 2, "{}", run.stderr);
    for what in [
        "`ds_select_dst` of module `dispatcher` is not implemented",
        "`ds_next_dst` of module `dispatcher` is not implemented",
        "module `dispatcher` is not implemented",
        "module `nathelper` is not implemented",
    ] {
        assert!(run.stderr.contains(what), "{what}: {}", run.stderr);
    }
    assert!(
        run.stderr.contains("lacking.cfg:4:"),
        "spans point into the file: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not starting: 4 things"),
        "{}",
        run.stderr
    );
    // Kamailio's own way of naming the file works too.
    let dash_f = sercompat(&["run", "-f", cfg.to_str().unwrap()]);
    assert_eq!(dash_f.stderr, run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stateless config the runtime implements completely.
const STATELESS: &str = "#!KAMAILIO\nlisten=udp:127.0.0.1:5999\nloadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\nrequest_route {\n\tif (!mf_process_maxfwd_header(\"10\")) { sl_send_reply(\"483\", \"Too Many Hops\"); exit; }\n\tsl_send_reply(\"404\", \"Not here\");\n}\n";

#[test]
fn run_dash_c_checks_and_exits_like_kamailio() {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-runc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("stateless.cfg");
    std::fs::write(&cfg, STATELESS).unwrap();
    // Kamailio's own flags are accepted, so init scripts keep working.
    let run = sercompat(&[
        "run",
        "-c",
        "-DD",
        "-E",
        "-m",
        "1024",
        "-f",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("config ok"), "{}", run.stderr);
}

#[test]
fn run_stops_cleanly_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("stateless.cfg");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(&cfg, STATELESS.replace("5999", &port.to_string())).unwrap();
    let pid_file = dir.join("sercompat.pid");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sercompat"))
        .args([
            "run",
            "-P",
            pid_file.to_str().unwrap(),
            "-f",
            cfg.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !pid_file.exists() && started.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid.trim(), child.id().to_string());
    let killed = std::process::Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn run_dash_capital_v_prints_the_version() {
    let run = sercompat(&["run", "-V"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("sercompat "), "{}", run.stdout);
}

/// `sercompat run` on a config written to a temporary file.
fn run_config(name: &str, text: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("sercompat-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join(format!("{name}.cfg"));
    std::fs::write(&cfg, text).unwrap();
    let run = sercompat(&["run", cfg.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

#[test]
fn run_refuses_a_function_whose_module_is_not_loaded_as_kamailio_does() {
    let run = run_config(
        "unloaded",
        "#!KAMAILIO\nloadmodule \"sl.so\"\nrequest_route {\n\tif (is_method(\"OPTIONS\")) sl_send_reply(\"200\", \"OK\");\n}\n",
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains(
            "error[L0107]: `is_method` is a function of module `textops`, which is not loaded"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn run_refuses_what_no_release_of_the_era_would_start_with() {
    // Kamailio 5 config: an unknown module parameter and an unknown
    // pseudo-variable, both refused at start by every 5.x release.
    let run = run_config(
        "refused",
        "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"pv.so\"\nmodparam(\"sl\", \"no_such_param\", 1)\nrequest_route {\n\tif ($rcode == 1) exit;\n\tsl_send_reply(\"200\", \"OK\");\n}\n",
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "error[L0115]: module `sl` has no parameter `no_such_param` in Kamailio 5.0–5.8",
        "error[L0117]: unknown pseudo-variable `$rcode` in kamailio-5",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?}:\n{}",
            run.stderr
        );
    }
}
