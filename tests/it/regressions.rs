//! The fuzz targets' checks (`fuzz/checks/*.rs`, the same code `scripts/fuzz.sh` runs under
//! libFuzzer) on stable, in `cargo test`: on every input a fuzz target once failed on, kept in
//! `tests/fixtures/regressions/<target>/`, and on the seeds the fuzz script starts from (the
//! admission fixtures, every manifest fixture, memory sizes and quantities, Flink configuration
//! texts, a directory tree with link loops and FIFOs). A check panics when what must hold does
//! not: no panic, and the target's own invariants (patches apply, positions inside the text,
//! formatted sizes parse back, the walk yields each regular file once).

use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/admission.rs"]
mod admission;
#[path = "../../fuzz/checks/fix.rs"]
mod fix;
#[path = "../../fuzz/checks/flink_config.rs"]
mod flink_config;
#[path = "../../fuzz/checks/lint.rs"]
mod lint;
#[path = "../../fuzz/checks/quantity.rs"]
mod quantity;
#[path = "../../fuzz/checks/walker.rs"]
mod walker;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` (recursively) whose name ends with one of `exts` (all when empty), sorted.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p, exts));
        } else if exts.is_empty() || exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Run `check` on every kept crasher of `target`, then on `seeds`; returns how many inputs ran.
fn replay(target: &str, check: fn(&[u8]), seeds: &[Vec<u8>]) -> usize {
    let kept = files(&root().join("tests/fixtures/regressions").join(target), &[]);
    for path in &kept {
        let bytes = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{} fails again", path.display());
    }
    for seed in seeds {
        check(seed);
    }
    kept.len() + seeds.len()
}

fn read_all(paths: Vec<PathBuf>) -> Vec<Vec<u8>> {
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn manifests() -> Vec<Vec<u8>> {
    read_all(files(
        &root().join("tests/fixtures"),
        &[".yaml", ".yml", ".json"],
    ))
}

#[test]
fn admission_reviews() {
    let seeds = read_all(files(&root().join("tests/fixtures/admission"), &[".json"]));
    assert!(replay("admission", admission::check, &seeds) >= 4);
}

#[test]
fn lint_files() {
    assert!(replay("lint", lint::check, &manifests()) > 100);
    // The linter turns a parser panic into a parse error at 1:1 (so that users keep the rest
    // of their run), which the check above would take for an ordinary error: none may have
    // been caught.
    assert_eq!(
        flink_admission::lint::source::panics_caught(),
        0,
        "a parser panicked on a lint input (see the panic message above)"
    );
}

#[test]
fn fix_objects() {
    assert!(replay("fix", fix::check, &manifests()) > 100);
}

#[test]
fn flink_configuration_texts() {
    let seeds: Vec<Vec<u8>> = [
        "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\nblob.server.port: 6124\njobmanager.memory.process.size: 1600m\n",
        "jobmanager:\n  rpc:\n    address: flink-jobmanager\n    port: 6123\nhigh-availability:\n  type: kubernetes\n  storageDir: s3://b/ha\n",
        "a: 1\r\nb: 2\rc: 3\n# comment\n  key:   value  \n",
        "jobmanager.memory.process.size: 1.5g\nblob.server.port: 50100-50200\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    replay("flink_config", flink_config::check, &seeds);
}

#[test]
fn memory_sizes_and_quantities() {
    let seeds: Vec<Vec<u8>> = [
        "1600m",
        "2g",
        "1024 mb",
        "1728Mi",
        "1.5Gi",
        "100m",
        "1e3",
        "2E",
        "0.5",
        "-1Gi",
        "9223372036854775807b",
        "2GiB",
        "512mi",
        "1Ki",
        "4 gibibytes",
        "0",
        "1e-9",
        "123456789012345678901234567890",
        "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{7f}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    replay("quantity", quantity::check, &seeds);
}

#[test]
fn directory_trees() {
    // mkdir a; file a/c.yaml; link a/b -> root; link b -> a; FIFO a/g.yaml; socket e.json;
    // link d.yml -> a/c.yaml; dangling h.yaml
    let seeds = vec![
        vec![
            0, 0, 0, 1, 1, 2, 2, 1, 1, 2, 0, 1, 5, 1, 8, 6, 0, 4, 3, 0, 3, 4, 0, 9,
        ],
        (0u8..=255).collect(),
    ];
    replay("walker", walker::check, &seeds);
}
