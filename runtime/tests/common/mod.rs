//! What the CLI tests share: running the built binary from the repository
//! root (so that file names in the output are relative and stable).
//! (`snapshot` stays in each test file: insta names snapshots after the
//! calling module.)

use std::path::PathBuf;
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit status, stdout and stderr, for a snapshot.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// The stdout of `--format json`, one object per line.
    #[allow(dead_code)] // not every test binary reads JSON lines
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"))
            })
            .collect()
    }
}

/// Runs `sercompat ARGS…` from the repository root, without colour.
pub fn sercompat(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sercompat"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("running sercompat");
    Run {
        code: out.status.code().expect("sercompat exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}
