//! Helpers shared by the workspace-level tests.

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
