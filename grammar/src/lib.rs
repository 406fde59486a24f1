//! sercompat's front end: SER / OpenSER / Kamailio config text to a syntax
//! tree, through the `#!` preprocessor, with diagnostics whose spans point
//! into the files a person wrote.
//!
//! ```text
//! text ─► detect era ─► lexer (logos) ─► preprocess ─► mark keys ─► grammar (LALRPOP) ─► ast
//! ```

pub mod ast;
pub mod detect;
pub mod diagnostic;
pub mod dialect;
pub mod lexer;
pub mod parser;
mod ppexpr;
pub mod preprocess;
pub mod render;
pub mod rules2001;
pub mod source;
pub mod span;
pub mod strings;
pub mod summary;
pub mod token;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use dialect::{DollarMode, Era, EraChoice, EraReason};
pub use source::SourceDb;
pub use span::{FileId, Span};

use preprocess::{FileLoader, FsLoader, Limits};
use std::path::{Path, PathBuf};

/// How to read a config.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--dialect`: the era to use instead of detecting it.
    pub dialect: Option<Era>,
    /// `-A NAME[=VALUE]`, in order.
    pub defines: Vec<String>,
    /// Directory that relative include names are tried against first.
    pub cwd: Option<PathBuf>,
    pub limits: Limits,
    /// The file is an include fragment (a piece of a larger config): blocks
    /// still open at its end are closed there instead of being an error.
    pub fragment: bool,
}

/// A parsed config with everything needed to report on it and rewrite it.
pub struct Parsed {
    pub db: SourceDb,
    pub root: FileId,
    pub era: EraChoice,
    pub dollar: DollarMode,
    pub config: ast::Config,
    pub tokens: preprocess::Output,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Parses a file from disk, includes resolved through the file system.
pub fn parse_file(path: &Path, opts: &Options) -> std::io::Result<Parsed> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let mut opts = opts.clone();
    if opts.cwd.is_none() {
        opts.cwd = std::env::current_dir().ok();
    }
    Ok(parse_text(
        &path.display().to_string(),
        text,
        path,
        &opts,
        &FsLoader,
        &|v| std::env::var(v).ok(),
    ))
}

/// Orders diagnostics as a reader meets them: by file (the root first,
/// then includes in the order they were read), then by position.
fn sort_by_position(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        d.primary_span()
            .map_or((u32::MAX, u32::MAX), |s| (s.file.0, s.start))
    });
}

/// Parses `text` (named `name`, located at `path` for include resolution).
pub fn parse_text(
    name: &str,
    text: String,
    path: &Path,
    opts: &Options,
    loader: &dyn FileLoader,
    env: &dyn Fn(&str) -> Option<String>,
) -> Parsed {
    let (era, dollar) = detect::choose(&text, opts.dialect);
    let mut db = SourceDb::new();
    let root = db.add(name, text, None);
    if era.era == Era::Rules2001 {
        let (config, mut diagnostics) = rules2001::parse(&db, root);
        sort_by_position(&mut diagnostics);
        return Parsed {
            db,
            root,
            era,
            dollar,
            config,
            tokens: preprocess::Output::default(),
            diagnostics,
        };
    }
    let mut diagnostics = Vec::new();
    let pp_opts = preprocess::Options {
        era: era.era,
        dollar,
        cli_defines: &opts.defines,
        loader,
        env,
        cwd: opts.cwd.clone(),
        limits: opts.limits,
    };
    let mut tokens = preprocess::preprocess(&mut db, root, path, &pp_opts, &mut diagnostics);
    if opts.fragment {
        parser::close_open_blocks(&mut tokens);
    }
    parser::mark_param_keys(&mut tokens);
    let (items, syntax) = parser::parse_tokens(&db, &tokens, era.era);
    // An unterminated string or comment swallows the rest of the file: the
    // end-of-file error that follows says nothing new.
    let swallowed = diagnostics.iter().any(|d| {
        d.code == diagnostic::codes::UNTERMINATED_STRING
            || d.code == diagnostic::codes::UNTERMINATED_COMMENT
    });
    diagnostics.extend(
        syntax
            .into_iter()
            .filter(|d| !(swallowed && d.code == diagnostic::codes::UNEXPECTED_EOF)),
    );
    sort_by_position(&mut diagnostics);
    Parsed {
        db,
        root,
        era: era.clone(),
        dollar,
        config: ast::Config {
            era: era.era,
            items,
        },
        tokens,
        diagnostics,
    }
}
