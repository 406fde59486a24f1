//! Command-line front: `sercompat check …`.

mod check;
mod run;
mod sarif;
mod translate;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sercompat",
    version,
    about = "Check, translate and run SER / OpenSER / Kamailio routing configs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse configs of any era and report problems.
    Check(check::CheckArgs),
    /// Serve SIP with a config as it is (refuses to start on anything the
    /// runtime does not implement, naming it).
    Run(run::RunArgs),
}

/// Runs the CLI; returns the exit status (0 ok, 1 problems found, 2 usage or I/O error).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Run(args) => run::run(args),
    }
}
