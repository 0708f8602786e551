//! `../shared/corpus`, real manifests written by others, read in place.

use std::path::{Path, PathBuf};

/// A directory of the corpus (`""` for the whole of it). A missing corpus fails the test: set
/// FLINK_ADMISSION_SKIP_CORPUS=1 to skip these tests deliberately, or FLINK_ADMISSION_CORPUS
/// to read it from elsewhere (a worktree whose parent has no `shared/`).
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let p = std::env::var_os("FLINK_ADMISSION_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
        .join(sub);
    if p.is_dir() {
        Some(p)
    } else if std::env::var_os("FLINK_ADMISSION_SKIP_CORPUS").is_some() {
        eprintln!("skipping: ../shared/corpus not found and FLINK_ADMISSION_SKIP_CORPUS is set");
        None
    } else {
        panic!(
            "{} is missing: clone the repository next to shared/",
            p.display()
        );
    }
}
