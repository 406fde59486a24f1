//! `sercompat run`: serve SIP with a config as it is. The runtime refuses
//! to start when the config calls anything it does not implement, listing
//! every such call with its span: a missing function is never a silent
//! no-op.

use clap::Args;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sercompat_compiler::ir::readiness;
use sercompat_grammar::{diagnostic::codes, render, Diagnostic, Era, Options};
use std::path::PathBuf;

#[derive(Args)]
pub struct RunArgs {
    /// The config file (also accepted as `-f FILE`, as Kamailio takes it).
    #[arg(value_name = "FILE", required_unless_present = "config")]
    file: Option<PathBuf>,
    #[arg(short = 'f', value_name = "FILE", conflicts_with = "file")]
    config: Option<PathBuf>,
    /// Define NAME (optionally with VALUE) before reading, like `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    defines: Vec<String>,
    /// The era to read the file in (default: the mode header, else detected).
    #[arg(long, value_name = "ERA", value_parser = super::check::parse_era)]
    dialect: Option<Era>,
}

/// The code of "the server itself is not there yet".
const NO_SERVER: &str = "R0002";

pub fn run(args: RunArgs) -> i32 {
    let Some(path) = args.file.or(args.config) else {
        return 2;
    };
    let opts = Options {
        dialect: args.dialect,
        defines: args.defines,
        ..Options::default()
    };
    let parsed = match sercompat_grammar::parse_file(&path, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error[{}]: cannot read {}: {e}", codes::IO, path.display());
            return 2;
        }
    };
    let mut stderr =
        StandardStream::stderr(if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        });
    let mut diags: Vec<Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if diags.is_empty() {
        let (program, lowering) = sercompat_compiler::ir::lower(&parsed);
        diags.extend(lowering.into_iter().filter(Diagnostic::is_error));
        diags.extend(readiness::unimplemented_calls(&program));
    }
    if diags.is_empty() {
        diags.push(Diagnostic::error(
            NO_SERVER,
            format!(
                "{}: the config needs nothing the runtime lacks, but the SIP server (transports, transactions) is not built yet; nothing is served",
                path.display()
            ),
        ));
    } else {
        let n = diags
            .iter()
            .filter(|d| d.code == readiness::NOT_IMPLEMENTED)
            .count();
        if n > 0 {
            diags.push(Diagnostic::error(
                readiness::NOT_IMPLEMENTED,
                format!(
                    "{}: not starting: {n} call{} the runtime does not implement",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    for d in &diags {
        if render::human(&parsed.db, d, &mut stderr).is_err() {
            return 2;
        }
    }
    1
}
