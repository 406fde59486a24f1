//! Fuzz target for the whole front end: era detection, lexer, preprocessor,
//! key marking and the LALRPOP grammar.
//!
//! Input: arbitrary bytes, made into a String lossily. The config is parsed
//! once with the default options (era detected), then once more with an era
//! forced by `--dialect`, chosen by the first byte. Includes are never found
//! (`NoFiles`) and the environment is empty.
//!
//! Besides "does not panic / hang / overflow the stack", it checks that every
//! diagnostic label's span lies inside its file and on char boundaries, which
//! is what the renderer relies on.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sercompat_grammar::dialect::Era;
use sercompat_grammar::preprocess::NoFiles;
use sercompat_grammar::{parse_text, Options, Parsed};
use std::path::Path;

const ERAS: [Era; 10] = sercompat_grammar::dialect::ALL_ERAS;

fn no_env(_: &str) -> Option<String> {
    None
}

fn check_spans(p: &Parsed) {
    for d in &p.diagnostics {
        for l in &d.labels {
            let ids = p.db.len() as u32;
            assert!(
                l.span.file.0 < ids,
                "{}: label in unknown file {:?}",
                d.code,
                l.span
            );
            let text = p.db.text(l.span.file);
            assert!(
                l.span.start <= l.span.end,
                "{}: reversed span {:?}",
                d.code,
                l.span
            );
            assert!(
                (l.span.end as usize) <= text.len(),
                "{}: span {:?} past end of file ({} bytes)",
                d.code,
                l.span,
                text.len()
            );
            assert!(
                text.is_char_boundary(l.span.start as usize)
                    && text.is_char_boundary(l.span.end as usize),
                "{}: span {:?} not on char boundaries",
                d.code,
                l.span
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let path = Path::new("fuzz.cfg");

    let parsed = parse_text(
        "fuzz.cfg",
        text.clone(),
        path,
        &Options::default(),
        &NoFiles,
        &no_env,
    );
    check_spans(&parsed);

    let era = ERAS[data.first().copied().unwrap_or(0) as usize % ERAS.len()];
    let opts = Options {
        dialect: Some(era),
        ..Options::default()
    };
    let parsed = parse_text("fuzz.cfg", text, path, &opts, &NoFiles, &no_env);
    check_spans(&parsed);
});
