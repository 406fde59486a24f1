//! `sercompat check`: parse each file and report diagnostics.

use clap::{Args, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sercompat_grammar::{diagnostic::codes, render, Diagnostic, Era, Options, Parsed};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Config files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Define NAME (optionally with VALUE) before reading, like `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    defines: Vec<String>,
    /// The era to read the files in (default: the mode header, else detected).
    #[arg(long, value_name = "ERA", value_parser = parse_era)]
    dialect: Option<Era>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Stop after preprocessing and parsing.
    #[arg(long)]
    parse_only: bool,
    /// Print how long each file took, and the total, to stderr.
    #[arg(long)]
    timings: bool,
    /// Do not print the era note for each file.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn parse_era(s: &str) -> Result<Era, String> {
    Era::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = sercompat_grammar::dialect::ALL_ERAS
            .iter()
            .map(|e| e.name())
            .collect();
        format!("unknown era `{s}`; one of: {}", names.join(", "))
    })
}

/// Which era the file was read as, and why: about the whole file, so no span.
fn era_note(p: &Parsed) -> Diagnostic {
    Diagnostic::note_diag(
        codes::ERA,
        format!(
            "{}: read as {} ({})",
            p.db.file(p.root).name,
            p.era.era,
            p.era.reason
        ),
    )
}

pub fn run(args: CheckArgs) -> i32 {
    let opts = Options {
        dialect: args.dialect,
        defines: args.defines.clone(),
        ..Options::default()
    };
    let mut stdout =
        StandardStream::stdout(if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        });
    let mut status = 0;
    let total = Instant::now();
    for path in &args.files {
        let started = Instant::now();
        let parsed = match sercompat_grammar::parse_file(path, &opts) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error[{}]: cannot read {}: {e}", codes::IO, path.display());
                status = 2;
                continue;
            }
        };
        if args.timings {
            eprintln!(
                "{:>10.3} ms  {}",
                started.elapsed().as_secs_f64() * 1e3,
                path.display()
            );
        }
        let mut diags: Vec<Diagnostic> = Vec::new();
        if !args.quiet {
            diags.push(era_note(&parsed));
        }
        diags.extend(parsed.diagnostics.iter().cloned());
        if !args.parse_only {
            let mut lints = sercompat_compiler::check(&parsed);
            lints.sort_by_key(|d| d.primary_span().map(|s| (s.file.0, s.start)));
            diags.extend(lints);
        }
        if diags.iter().any(Diagnostic::is_error) && status == 0 {
            status = 1;
        }
        for d in &diags {
            let res = match args.format {
                Format::Human => render::human(&parsed.db, d, &mut stdout),
                Format::Json => writeln!(
                    stdout,
                    "{}",
                    render::json_in(&parsed.db, d, Some(parsed.root))
                ),
            };
            if res.is_err() {
                return 2;
            }
        }
    }
    if args.timings {
        eprintln!(
            "{:>10.3} ms  total, {} files",
            total.elapsed().as_secs_f64() * 1e3,
            args.files.len()
        );
    }
    status
}
