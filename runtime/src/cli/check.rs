//! `sercompat check`: parse each file (under one define set, or all of
//! them with `--all-variants`) and report diagnostics.

use super::sarif::Sarif;
use clap::{Args, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sercompat_compiler::translate::{self, Target};
use sercompat_compiler::variants;
use sercompat_grammar::{diagnostic::codes, render, Diagnostic, Era, Options, Parsed};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style text.
    Human,
    /// One JSON object per line per diagnostic.
    Json,
    /// One SARIF 2.1.0 document for the whole run (for code-scanning UIs).
    Sarif,
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
    /// Check every combination of the `#!ifdef`/`#!ifndef` names the file
    /// tests (beyond 6 names: each on alone, each off alone, all on, all
    /// off); `-A` names stay on. Each diagnostic is reported once, with the
    /// define set that shows it.
    #[arg(long)]
    all_variants: bool,
    /// Stop after preprocessing and parsing.
    #[arg(long)]
    parse_only: bool,
    /// Print how long each file took, and the total, to stderr.
    #[arg(long)]
    timings: bool,
    /// Do not print the era note (and the variants note) for each file.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Rewrite the config for TARGET (kamailio-5.6), editing only what must
    /// change, under every #!ifdef variant; prints a unified diff unless
    /// -o or --in-place is given.
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    translate: Option<Target>,
    /// Same as --translate with the newest supported target.
    #[arg(long, conflicts_with = "translate")]
    fix: bool,
    /// With --translate: write the translation of FILE to OUT (included
    /// files go next to it).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        conflicts_with = "in_place"
    )]
    output: Option<PathBuf>,
    /// With --translate: rewrite each file (and each included file) in place.
    #[arg(long)]
    in_place: bool,
    /// With --translate: the target's module directory (loadpath/mpath).
    #[arg(long, value_name = "DIR", default_value = translate::DEBIAN_MODULE_PATH)]
    module_path: String,
}

fn parse_target(s: &str) -> Result<Target, String> {
    Target::named(s).ok_or_else(|| {
        format!(
            "unknown translation target `{s}`; one of: {}",
            Target::NAMES.join(", ")
        )
    })
}

pub(super) fn parse_era(s: &str) -> Result<Era, String> {
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

/// What one file produced: its parse(s) and the diagnostics to show, each
/// with the index of the parse whose source database it points into.
struct FileReport {
    parses: Vec<Parsed>,
    diags: Vec<(usize, Diagnostic)>,
}

/// One parse under the `-A` names given.
fn check_one(path: &Path, opts: &Options, args: &CheckArgs) -> std::io::Result<FileReport> {
    let parsed = sercompat_grammar::parse_file(path, opts)?;
    let mut diags: Vec<(usize, Diagnostic)> = Vec::new();
    if !args.quiet {
        diags.push((0, era_note(&parsed)));
    }
    diags.extend(parsed.diagnostics.iter().cloned().map(|d| (0, d)));
    if !args.parse_only {
        let mut lints = sercompat_compiler::check(&parsed);
        lints.sort_by_key(|d| d.primary_span().map(|s| (s.file.0, s.start)));
        diags.extend(lints.into_iter().map(|d| (0, d)));
    }
    Ok(FileReport {
        parses: vec![parsed],
        diags,
    })
}

/// `--all-variants`: every combination of the names the file tests.
fn check_variants(path: &Path, opts: &Options, args: &CheckArgs) -> std::io::Result<FileReport> {
    let v = variants::check(path, opts, !args.parse_only)?;
    let mut diags: Vec<(usize, Diagnostic)> = Vec::new();
    if !args.quiet {
        diags.push((0, era_note(&v.variants[0].parsed)));
        diags.push((0, v.note));
    }
    diags.extend(v.diags);
    Ok(FileReport {
        parses: v.variants.into_iter().map(|v| v.parsed).collect(),
        diags,
    })
}

pub fn run(args: CheckArgs) -> i32 {
    let opts = Options {
        dialect: args.dialect,
        defines: args.defines.clone(),
        ..Options::default()
    };
    let target = args
        .translate
        .clone()
        .or_else(|| args.fix.then(Target::newest));
    if let Some(mut target) = target {
        target.module_path = args.module_path.clone();
        let destination = match (&args.output, args.in_place) {
            (Some(out), _) => super::translate::Destination::Output(out.clone()),
            (None, true) => super::translate::Destination::InPlace,
            (None, false) => super::translate::Destination::Diff,
        };
        if args.format == Format::Sarif {
            eprintln!(
                "error[{}]: --translate writes human or json output",
                codes::IO
            );
            return 2;
        }
        return super::translate::run(super::translate::Request {
            files: &args.files,
            opts,
            target,
            destination,
            json: args.format == Format::Json,
        });
    }
    if args.output.is_some() || args.in_place {
        eprintln!(
            "error[{}]: -o and --in-place need --translate or --fix",
            codes::IO
        );
        return 2;
    }
    let mut stdout =
        StandardStream::stdout(if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        });
    let mut sarif = (args.format == Format::Sarif).then(Sarif::default);
    let mut status = 0;
    let total = Instant::now();
    for path in &args.files {
        let started = Instant::now();
        let checked = if args.all_variants {
            check_variants(path, &opts, &args)
        } else {
            check_one(path, &opts, &args)
        };
        let report = match checked {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error[{}]: cannot read {}: {e}", codes::IO, path.display());
                if let Some(sarif) = &mut sarif {
                    sarif.io_error(codes::IO, path, &e);
                }
                status = 2;
                continue;
            }
        };
        if args.timings {
            let variants = if args.all_variants {
                format!(" ({} variants)", report.parses.len())
            } else {
                String::new()
            };
            eprintln!(
                "{:>10.3} ms  {}{variants}",
                started.elapsed().as_secs_f64() * 1e3,
                path.display()
            );
        }
        if report.diags.iter().any(|(_, d)| d.is_error()) && status == 0 {
            status = 1;
        }
        for (i, d) in &report.diags {
            let parsed = &report.parses[*i];
            let res = match (&mut sarif, args.format) {
                (Some(sarif), _) => {
                    sarif.add(parsed, d);
                    Ok(())
                }
                (None, Format::Json) => writeln!(
                    stdout,
                    "{}",
                    render::json_in(&parsed.db, d, Some(parsed.root))
                ),
                (None, _) => render::human(&parsed.db, d, &mut stdout),
            };
            if res.is_err() {
                return 2;
            }
        }
    }
    if let Some(sarif) = sarif {
        let doc = sarif.finish();
        let text = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
        if writeln!(stdout, "{text}").is_err() {
            return 2;
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
