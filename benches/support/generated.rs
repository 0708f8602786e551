//! The generated monorepo the lint benches read (`scripts/gen-corpus.py`), shared by
//! `benches/lint.rs` and `benches/lint_memory.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The generated files of a corpus of `objects` objects: (display name, text).
pub fn corpus(objects: usize) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("flink-lint-bench-{objects}"));
    if !dir.join("team-000").is_dir() {
        let status = Command::new("python3")
            .arg(root.join("scripts/gen-corpus.py"))
            .arg(&dir)
            .arg("--objects")
            .arg(objects.to_string())
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => panic!("scripts/gen-corpus.py failed: {other:?}"),
        }
    }
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), text)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}
