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
