//! Engine benchmarks: what one admission review costs without HTTP.
//! `cargo bench --bench engine`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::{Engine, NoContext, Subject};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/admission")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn benches(c: &mut Criterion) {
    let engine = match Engine::embedded(admission::webhook_settings(None).unwrap_or_default()) {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    let fd_review = fixture("flinkdeployment-create.json");
    let jm_review = fixture("jobmanager-deployment-update.json");
    let fd = fd_review["request"]["object"].clone();
    let jm = jm_review["request"]["object"].clone();

    c.bench_function("check/flinkdeployment", |b| {
        b.iter(|| engine.check(&Subject::offline(black_box(&fd), &NoContext)))
    });
    c.bench_function("check/standalone-jobmanager-deployment", |b| {
        b.iter(|| engine.check(&Subject::offline(black_box(&jm), &NoContext)))
    });
    c.bench_function("fix/standalone-jobmanager-deployment", |b| {
        b.iter(|| engine.fix(&Subject::offline(black_box(&jm), &NoContext)))
    });
    // the whole wire path: bytes -> decode -> engine -> response JSON
    let body = jm_review.to_string().into_bytes();
    let policy = Policy::default();
    c.bench_function("review/validate-bytes-to-bytes", |b| {
        b.iter(|| {
            let review = admission::decode(black_box(&body)).unwrap();
            let out = admission::review(&engine, &review, Endpoint::Validate, &NoContext, &policy);
            serde_json::to_vec(&out.response.into_review(&review.api_version)).unwrap()
        })
    });
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
