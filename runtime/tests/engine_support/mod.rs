//! What the interpreter tests share: a config parsed and lowered as
//! `sercompat run` does (a syntax error or a lowering diagnostic fails the
//! test), and ids that do not change between runs.

#![allow(dead_code)] // each test binary uses a part

use sercompat::engine::IdGen;
use sercompat::sip::SipMessage;
use sercompat_compiler::ir::{lower, Program};
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Era, Options, Parsed};
use std::path::Path;
use std::sync::Arc;

/// `src` parsed as file `t.cfg`, in `dialect` or the detected era.
pub fn parsed_in(src: &str, dialect: Option<Era>) -> Parsed {
    let opts = Options {
        dialect,
        ..Options::default()
    };
    let p = parse_text(
        "t.cfg",
        src.to_string(),
        Path::new("t.cfg"),
        &opts,
        &NoFiles,
        &|_| None,
    );
    assert!(!p.has_errors(), "{:#?}", p.diagnostics);
    p
}

/// `src` lowered, in `dialect` or the detected era.
pub fn program_in(src: &str, dialect: Option<Era>) -> Arc<Program> {
    let (prog, diags) = lower(&parsed_in(src, dialect));
    assert!(diags.is_empty(), "{diags:#?}");
    Arc::new(prog)
}

/// `src` lowered in the era detected from it.
pub fn program(src: &str) -> Arc<Program> {
    program_in(src, None)
}

/// Branch and To-tag values fixed for exact comparisons.
pub struct FixedIds;

impl IdGen for FixedIds {
    fn branch(&self, _: &SipMessage) -> String {
        "z9hG4bKtest1".into()
    }
    fn to_tag(&self, _: &SipMessage) -> String {
        "totag1".into()
    }
}
