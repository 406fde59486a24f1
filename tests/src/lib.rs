//! Helpers shared by the workspace-level tests.

pub mod corpus;

use std::path::PathBuf;

/// The repository root (parent of this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared` beside the checkout, where the corpus and the reference live.
/// Returns `None` (after printing why) when it is absent and we are not in
/// CI; panics when it is absent under `CI=true`.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SERCOMPAT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"));
    if dir.join("corpus/INDEX.tsv").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "{} is absent: the corpus and seed tests need the shared corpus beside the checkout (or SERCOMPAT_SHARED=/path/to/shared)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// A fixture list under tests/: `file<TAB>code<TAB>reason` lines (comments
/// and blank lines skipped), keyed by (file, code). Panics on a malformed
/// line or a reason that fails `check_reason`.
pub fn read_fixtures(
    name: &str,
    check_reason: impl Fn(&str) -> bool,
) -> std::collections::BTreeMap<(String, String), String> {
    let path = repo_root().join("tests").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = std::collections::BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut f = l.splitn(3, '\t');
        let (file, code, reason) = (
            f.next().unwrap_or_default(),
            f.next()
                .unwrap_or_else(|| panic!("{name}: no code in `{l}`")),
            f.next()
                .unwrap_or_else(|| panic!("{name}: no reason in `{l}`")),
        );
        assert!(
            check_reason(reason),
            "{name}: the reason for {file} {code} is not acceptable: {reason}"
        );
        out.insert((file.to_string(), code.to_string()), reason.to_string());
    }
    out
}

/// Real Kamailio 5.6 (`$KAMAILIO`, default `/usr/sbin/kamailio`) and its
/// module directory (`$KAMAILIO_MODULES`). `None` (after printing what to
/// install) when absent outside CI; panics when absent under `CI=true`.
pub fn kamailio() -> Option<(PathBuf, PathBuf)> {
    let bin = std::env::var_os("KAMAILIO")
        .map_or_else(|| PathBuf::from("/usr/sbin/kamailio"), PathBuf::from);
    let modules = std::env::var_os("KAMAILIO_MODULES").map_or_else(
        || PathBuf::from("/usr/lib/x86_64-linux-gnu/kamailio/modules"),
        PathBuf::from,
    );
    if bin.is_file() && modules.is_dir() {
        return Some((bin, modules));
    }
    let msg = format!(
        "{} or {} is missing: install Debian's `kamailio` and its module packages (see .ci/run)",
        bin.display(),
        modules.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Runs `kamailio -c -f FILE -L MODULES [-A NAME]...` in the file's
/// directory. `Ok(())` when it accepts the file (exit 0 within 10 s), else
/// the first error lines it printed.
pub fn kamailio_check(
    bin: &std::path::Path,
    modules: &std::path::Path,
    file: &std::path::Path,
    defines: &[String],
) -> Result<(), String> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg("-f").arg(file).arg("-L").arg(modules);
    for d in defines {
        cmd.arg("-A").arg(d);
    }
    let mut child = cmd
        .current_dir(file.parent().unwrap_or(std::path::Path::new(".")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > Duration::from_secs(10) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    let text = reader.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(()),
        Some(_) => {
            let errors: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("CRITICAL"))
                .take(3)
                .collect();
            Err(if errors.is_empty() {
                text.lines().take(3).collect::<Vec<_>>().join("\n")
            } else {
                errors.join("\n")
            })
        }
        None => Err("kamailio -c did not finish within 10 s".into()),
    }
}
