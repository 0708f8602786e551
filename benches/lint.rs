//! Whole-lint benchmarks: a generated Flink monorepo (scripts/gen-corpus.py) of 1,000 and
//! 10,000 objects, read, judged and rendered in-process through the library.
//! `cargo bench --bench lint` (needs python3 for the generator).
//!
//! Groups: `lint/parse` (YAML with span indexes, one file after another), `lint/check` (parse
//! on every core + engine), and `lint/json` and `lint/human` (the whole run, rendering
//! included). Throughput is in objects. In-process: no file reading, the system allocator
//! (the `flink-lint` binary's is mimalloc), and `render::json` builds the document in memory.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, render, source};

#[path = "support/generated.rs"]
mod generated;
use generated::corpus;

/// The files read as `flink-lint check` reads them: parsed on every core, the texts kept only
/// for the human format (in-process there is no file to read them again from).
fn inputs(files: &[(String, String)], keep_texts: bool) -> Inputs {
    let mut inputs = Inputs::default();
    inputs.add_all(files.to_vec(), |_| keep_texts);
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
            b.iter(|| black_box(lint::lint(&engine, inputs(files, false))))
        });
        group.bench_with_input(BenchmarkId::new("json", objects), &files, |b, files| {
            b.iter(|| render::json(&lint::lint(&engine, inputs(files, false))))
        });
        group.bench_with_input(BenchmarkId::new("human", objects), &files, |b, files| {
            b.iter(|| render::human(&lint::lint(&engine, inputs(files, true)), false))
        });
        group.finish();
    }
}

criterion_group!(lint_benches, benches);
criterion_main!(lint_benches);
