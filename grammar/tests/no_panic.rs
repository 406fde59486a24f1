//! The front end must return on any input: no panic, no hang, no stack
//! overflow, and every diagnostic must point at text that exists.
//!
//! Two bounded property tests (a fixed number of cases, see `CASES`) and a
//! set of explicit adversarial inputs. The adversarial tests run the parser
//! on a worker thread with a deadline, so that a hang fails the test instead
//! of stalling the suite. The worker gets an 8 MiB stack: the size of the
//! main thread the CLI runs on (the usual `ulimit -s`).
//!
//! Run: `cargo test -p sercompat-grammar --test no_panic`

use proptest::prelude::*;
use sercompat_grammar::dialect::{Era, ALL_ERAS};
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Diagnostic, Options, Parsed};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Cases per property test.
const CASES: u32 = 512;

/// How long an adversarial input may take in a debug build.
const DEADLINE: Duration = Duration::from_secs(60);

const STACK: usize = 8 << 20;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str, era: Option<Era>) -> Parsed {
    let opts = Options {
        dialect: era,
        ..Options::default()
    };
    parse_with(text, &opts)
}

fn parse_with(text: &str, opts: &Options) -> Parsed {
    parse_text(
        "t.cfg",
        text.to_string(),
        Path::new("t.cfg"),
        opts,
        &NoFiles,
        &no_env,
    )
}

/// Every label of every diagnostic lies within its file, on char boundaries.
fn spans_ok(p: &Parsed) -> Result<(), String> {
    for d in &p.diagnostics {
        for l in &d.labels {
            if l.span.file.0 as usize >= p.db.len() {
                return Err(format!(
                    "{} `{}`: label in unknown file {:?}",
                    d.code, d.message, l.span
                ));
            }
            let text = p.db.text(l.span.file);
            let (s, e) = (l.span.start as usize, l.span.end as usize);
            if s > e || e > text.len() {
                return Err(format!(
                    "{} `{}`: span {}..{} outside file {} ({} bytes), primary={}",
                    d.code,
                    d.message,
                    s,
                    e,
                    p.db.file(l.span.file).name,
                    text.len(),
                    l.primary
                ));
            }
            if !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                return Err(format!(
                    "{} `{}`: span {}..{} not on char boundaries, primary={}",
                    d.code, d.message, s, e, l.primary
                ));
            }
        }
    }
    Ok(())
}

fn errors(p: &Parsed) -> Vec<&Diagnostic> {
    p.diagnostics.iter().filter(|d| d.is_error()).collect()
}

/// Parses `text` on a worker thread with an 8 MiB stack and a deadline.
/// Returns (error codes, whether spans were valid). A panic inside the
/// parser fails the test with the panic; a timeout fails it as a hang.
fn parse_bounded(text: String, era: Option<Era>) -> (Vec<&'static str>, Result<(), String>) {
    let opts = Options {
        dialect: era,
        ..Options::default()
    };
    parse_bounded_with(text, opts)
}

fn parse_bounded_with(text: String, opts: Options) -> (Vec<&'static str>, Result<(), String>) {
    let (tx, rx) = mpsc::channel();
    let len = text.len();
    let worker = std::thread::Builder::new()
        .name("parse".into())
        .stack_size(STACK)
        .spawn(move || {
            let p = parse_with(&text, &opts);
            let codes: Vec<&'static str> = errors(&p).iter().map(|d| d.code).collect();
            let spans = spans_ok(&p);
            // Dropping the tree is part of the work (deep trees drop recursively).
            drop(p);
            let _ = tx.send((codes, spans));
        })
        .expect("spawn worker");
    match rx.recv_timeout(DEADLINE) {
        Ok(r) => {
            worker.join().expect("worker");
            r
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: re-raise its panic.
            match worker.join() {
                Err(e) => std::panic::resume_unwind(e),
                Ok(()) => panic!("worker ended without a result"),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("parse of a {len}-byte input did not return within {DEADLINE:?} (hang)")
        }
    }
}

fn assert_error(text: String, era: Option<Era>, what: &str) -> Vec<&'static str> {
    let (codes, spans) = parse_bounded(text, era);
    assert!(
        !codes.is_empty(),
        "{what}: expected an error diagnostic, got none"
    );
    if let Err(e) = spans {
        panic!("{what}: bad span: {e}");
    }
    codes
}

// ---------------------------------------------------------------- properties

const FRAGMENTS: &[&str] = &[
    "route",
    "request_route",
    "reply_route",
    "onreply_route",
    "failure_route",
    "branch_route",
    "event_route",
    "route[1]",
    "route[\"x\"]",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    ":",
    ".",
    "if",
    "else",
    "while",
    "switch",
    "case 1:",
    "case \"a\":",
    "default:",
    "break",
    "return",
    "return(1)",
    "exit",
    "drop",
    "#!define A A\n",
    "#!define B A B\n",
    "#!define C 1\n",
    "#!ifdef X\n",
    "#!ifndef A\n",
    "#!else\n",
    "#!endif\n",
    "#!ifexp A == 1\n",
    "#!defexp D 1+\n",
    "#!subst \"/a/b/\"\n",
    "#!substdef \"/Q/R/\"\n",
    "#!trydef T\n",
    "#!redefine A\n",
    "#!undef A\n",
    "#!KAMAILIO\n",
    "#!SER\n",
    "#!MAXCOMPAT\n",
    "#!defenv E=HOME\n",
    "A",
    "B",
    "C",
    "Q",
    "x",
    "\"str\"",
    "'sq'",
    "\"",
    "'",
    "\"a\\\"",
    "$var(x)",
    "$avp(s:y)",
    "$f.x",
    "$ru",
    "$",
    "$(",
    "%f.x",
    "%",
    "@from.uri",
    "@",
    "=",
    "==",
    "!=",
    "=~",
    "!~",
    ":=",
    "+=",
    "&&",
    "||",
    "&",
    "|",
    "!",
    "!!",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "(int)",
    "(str)",
    "/*",
    "*/",
    "//",
    "# c\n",
    "\n",
    " ",
    "\t",
    "\\\n",
    "include_file \"x\"\n",
    "import_file \"y\"\n",
    "include_file",
    "!!define B\n",
    "!!ifdef B\n",
    "!!endif\n",
    "loadmodule \"tm.so\"\n",
    "modparam(\"tm\", \"a\", 1)",
    "debug=3\n",
    "listen=udp:1.2.3.4:5060",
    "1",
    "0x1f",
    "101b",
    "1.2.3.4",
    "10.0.0.0/8",
    "[::1]",
    "::1",
    "fe80::1",
    "myself",
    "uri",
    "method",
    "t_relay()",
    "forward(uri:host, uri:port)",
    "xlog(\"L_INFO\", \"$ru\\n\")",
    "é",
    "\u{0}",
    "\r",
    "\u{feff}",
    "é\"",
    "#!",
    "#!ifdef",
    "#!endif",
    "#!else",
    "#!define",
    "#!define é 1\n",
    "cfg.var = 1\n",
    "grp[0].v = \"s\" desc \"d\"\n",
];

fn soup() -> impl Strategy<Value = String> {
    let piece = (
        prop::sample::select(FRAGMENTS),
        prop::sample::select(&["", " ", "\n", " "][..]),
    )
        .prop_map(|(f, sep)| format!("{f}{sep}"));
    prop::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

fn era() -> impl Strategy<Value = Option<Era>> {
    prop_oneof![
        Just(None),
        prop::sample::select(&ALL_ERAS[..]).prop_map(Some)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>(), era in era()) {
        let p = parse(&text, era);
        prop_assert!(spans_ok(&p).is_ok(), "{}", spans_ok(&p).unwrap_err());
    }

    #[test]
    fn config_charset_strings_never_panic(text in "[a-z0-9_ \\n\\t#!$@%(){}\\[\\];:,.=<>&|~^+*/\\\\\"'-]{0,400}", era in era()) {
        let p = parse(&text, era);
        prop_assert!(spans_ok(&p).is_ok(), "{}", spans_ok(&p).unwrap_err());
    }

    #[test]
    fn token_soup_never_panics(text in soup(), era in era()) {
        let p = parse(&text, era);
        prop_assert!(spans_ok(&p).is_ok(), "{}", spans_ok(&p).unwrap_err());
    }
}

// -------------------------------------------------------- adversarial inputs

#[test]
fn self_recursive_define() {
    let codes = assert_error(
        "#!define A A\nroute { A; }\n".into(),
        None,
        "self-recursive define",
    );
    assert!(codes.contains(&"E1001"), "{codes:?}");
}

#[test]
fn mutually_recursive_defines() {
    let codes = assert_error(
        "#!define A B\n#!define B C\n#!define C A\nrequest_route { A; }\n".into(),
        None,
        "mutual recursion",
    );
    assert!(codes.contains(&"E1001"), "{codes:?}");
}

#[test]
fn doubling_recursive_defines() {
    // Each expansion doubles: A → B B, B → A A. Cycle detection must cut it.
    let codes = assert_error(
        "#!define A B B\n#!define B A A\nrequest_route { A; }\n".into(),
        None,
        "doubling recursion",
    );
    assert!(codes.contains(&"E1001"), "{codes:?}");
}

#[test]
fn doubling_acyclic_defines_hit_the_token_limit() {
    // D0 = x; Dn = D(n-1) D(n-1): 2^60 tokens without a limit, no cycle.
    let mut text = String::from("#!define D0 x;\n");
    for i in 1..=60 {
        text.push_str(&format!("#!define D{i} D{p} D{p}\n", p = i - 1));
    }
    text.push_str("request_route { D60 }\n");
    // A lower token cap than the default (1M) keeps the debug run short.
    let mut opts = Options::default();
    opts.limits.max_tokens = 200_000;
    let (codes, spans) = parse_bounded_with(text, opts);
    spans.unwrap();
    assert!(codes.contains(&"E1011"), "{codes:?}");
}

#[test]
fn deep_define_chain_hits_the_depth_limit() {
    // 10k defines each naming the next: deeper than expansion_depth.
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("#!define N{i} N{}\n", i + 1));
    }
    text.push_str("#!define N10000 1\nrequest_route { $var(x) = N0; }\n");
    let codes = assert_error(text, None, "deep define chain");
    assert!(codes.contains(&"E1011"), "{codes:?}");
}

#[test]
fn deep_parens_unclosed() {
    let text = format!("request_route {{ if {} }}\n", "(".repeat(100_000));
    assert_error(text, None, "100k unclosed `(`");
}

#[test]
fn deep_parens_balanced() {
    // Syntactically valid up to the missing statement after the condition;
    // builds a 100k-deep expression tree before failing.
    let text = format!(
        "request_route {{ if {}1{} }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert_error(text, None, "100k balanced `(`");
}

#[test]
fn deep_parens_balanced_valid() {
    // A fully valid config with a 100k-deep expression: must not crash
    // (an error is not required, so only the spans are checked).
    let text = format!(
        "request_route {{ if {}1{} {{ exit; }} }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (_, spans) = parse_bounded(text, None);
    spans.unwrap();
}

#[test]
fn deep_braces_unclosed() {
    let text = format!("request_route {}\n", "{".repeat(100_000));
    assert_error(text, None, "100k unclosed `{`");
}

#[test]
fn deep_nested_ifs() {
    let text = format!("request_route {{ {} }}\n", "if (1) { ".repeat(20_000));
    assert_error(text, None, "20k unclosed nested if");
}

#[test]
fn deep_unary_not() {
    let text = format!(
        "request_route {{ if ({}1) {{ exit; }} }}\n",
        "!".repeat(100_000)
    );
    let (_, spans) = parse_bounded(text, None);
    spans.unwrap();
}

#[test]
fn deep_nested_ifdef() {
    let text = format!("{}route {{ exit; }}\n", "#!ifdef X\n".repeat(10_000));
    let codes = assert_error(text, None, "10k nested #!ifdef, unclosed");
    assert!(
        codes.contains(&"E1003") || codes.contains(&"E1011"),
        "{codes:?}"
    );
}

#[test]
fn deep_nested_ifdef_balanced() {
    let text = format!(
        "{}route {{ exit; }}\n{}",
        "#!ifndef X\n".repeat(10_000),
        "#!endif\n".repeat(10_000)
    );
    let codes = assert_error(text, None, "10k nested #!ifdef, balanced");
    assert!(codes.contains(&"E1011"), "{codes:?}");
}

#[test]
fn unterminated_string() {
    let codes = assert_error(
        "request_route { xlog(\"abc);\n}\n".into(),
        None,
        "unterminated string",
    );
    assert!(codes.contains(&"E2002"), "{codes:?}");
}

#[test]
fn unterminated_single_quoted_string() {
    let codes = assert_error(
        "request_route { xlog('abc);\n}\n".into(),
        None,
        "unterminated string",
    );
    assert!(codes.contains(&"E2002"), "{codes:?}");
}

#[test]
fn unterminated_comment() {
    let codes = assert_error(
        "request_route { exit; }\n/* never closed\n".into(),
        None,
        "unterminated comment",
    );
    assert!(codes.contains(&"E2003"), "{codes:?}");
}

#[test]
fn unterminated_nested_comment() {
    let codes = assert_error(
        "request_route { exit; }\n/* a /* b */\n".into(),
        None,
        "unterminated nested comment",
    );
    assert!(codes.contains(&"E2003"), "{codes:?}");
}

#[test]
fn many_nested_comment_openers() {
    let text = format!("request_route {{ exit; }}\n{}", "/*".repeat(100_000));
    assert_error(text, None, "100k `/*`");
}

#[test]
fn unterminated_things_in_every_era() {
    for era in ALL_ERAS {
        for text in [
            "route { xlog(\"abc);\n}\n",
            "route { exit; }\n/* x\n",
            "route { if ((( }\n",
        ] {
            assert_error(text.into(), Some(era), &format!("{text:?} as {era}"));
        }
    }
}

#[test]
fn long_line_join_and_blank_input() {
    for text in [
        "",
        "\n",
        "\\\n".repeat(50_000).as_str(),
        &" ".repeat(200_000),
    ] {
        let (_, spans) = parse_bounded(text.to_string(), None);
        spans.unwrap();
    }
}

#[test]
fn long_define_and_include_lines() {
    let text = format!(
        "#!define A {}\ninclude_file \"{}\"\nrequest_route {{ A; }}\n",
        "x ".repeat(5_000),
        "y".repeat(100_000)
    );
    assert_error(text, None, "long define and include");
}

#[test]
fn many_errors_in_one_statement() {
    let text = format!(
        "#!define A {}\nrequest_route {{ A; }}\n",
        "x ".repeat(100_000)
    );
    assert_error(text, None, "100k errors in one statement");
}

#[test]
fn moderate_expression_depth() {
    // Deep enough to matter, shallow enough for the recursive drop in debug.
    for text in [
        format!(
            "request_route {{ if {}1{} {{ exit; }} }}\n",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!(
            "request_route {{ if ({}1) {{ exit; }} }}\n",
            "!".repeat(10_000)
        ),
        format!(
            "request_route {{ if {}1{} }}\n",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
    ] {
        let (_, spans) = parse_bounded(text, None);
        spans.unwrap();
    }
}

#[test]
fn long_else_if_chain() {
    // Each `else if` nests one level deeper without any brace.
    let text = format!(
        "request_route {{ if ($var(a) == 0) exit; {} }}\n",
        "else if ($var(a) == 1) exit; ".repeat(100_000)
    );
    let codes = assert_error(text, None, "100k else-if");
    assert!(codes.contains(&"E2008"), "{codes:?}");
}
