//! Whole-lint benchmarks: a generated Flink monorepo (scripts/gen-corpus.py) of 1,000 and
//! 10,000 objects, read, judged and rendered in-process through the library.
//! `cargo bench --bench lint` (needs python3 for the generator).
//!
//! Groups: `lint/parse` (YAML with span indexes), `lint/check` (parse + engine), and
//! `lint/json` and `lint/human` (the whole run, rendering included). Throughput is in objects.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, render, source};

/// The generated files of a corpus of `objects` objects: (display name, text).
fn corpus(objects: usize) -> Vec<(String, String)> {
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

fn inputs(files: &[(String, String)]) -> Inputs {
    let mut inputs = Inputs::default();
    for (name, text) in files {
        inputs.add(name, text);
    }
    inputs
}

fn benches(c: &mut Criterion) {
    let engine = match Engine::embedded(Settings::default()) {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    for objects in [1_000usize, 10_000] {
        let files = corpus(objects);
        let mut group = c.benchmark_group("lint");
        group.throughput(Throughput::Elements(objects as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(if objects > 1_000 { 30 } else { 10 }));
        group.bench_with_input(BenchmarkId::new("parse", objects), &files, |b, files| {
            b.iter(|| {
                for (_, text) in files {
                    black_box(source::parse(text, false));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("check", objects), &files, |b, files| {
            b.iter(|| black_box(lint::lint(&engine, inputs(files))))
        });
        group.bench_with_input(BenchmarkId::new("json", objects), &files, |b, files| {
            b.iter(|| render::json(&lint::lint(&engine, inputs(files))))
        });
        group.bench_with_input(BenchmarkId::new("human", objects), &files, |b, files| {
            b.iter(|| render::human(&lint::lint(&engine, inputs(files)), false))
        });
        group.finish();
    }
}

criterion_group!(lint_benches, benches);
criterion_main!(lint_benches);
