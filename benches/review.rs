//! One admission review of each body `scripts/load.sh` sends, straight through the admission
//! function (no sockets, no HTTP): bytes -> `admission::decode` -> `admission::review` ->
//! response bytes, for `/validate` and `/mutate`. Plus the FlinkDeployment body as an UPDATE,
//! with the stored object as `oldObject` (which the webhook keeps for FlinkDeployments: the
//! FLK6xx rules compare with it) and the same UPDATE without `oldObject`: the difference is
//! what keeping it costs.
//!
//! Before the benchmarks it prints the heap allocations one review makes (a counting global
//! allocator; the count is the same on every run of a review, so one run is measured after a
//! warm-up run). `cargo bench --bench review`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::{Engine, NoContext};

/// Counts calls to `alloc` and `realloc`.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The bodies of `scripts/load.sh`, compacted as the script sends them.
const BODIES: &[(&str, &str)] = &[
    (
        "flinkdeployment",
        "tests/fixtures/admission/flinkdeployment-create.json",
    ),
    (
        "jobmanager",
        "tests/fixtures/admission/jobmanager-deployment-update.json",
    ),
    ("web", "benches/reviews/deployment-web-create.json"),
];

fn body(path: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value.to_string().into_bytes()
}

/// The FlinkDeployment body as an UPDATE raising the job's parallelism: with `oldObject` the
/// object as stored (the old parallelism, and the status the operator writes: the last
/// reconciled spec as JSON text), or without it.
fn update_body(with_old: bool) -> Vec<u8> {
    let bytes = body(BODIES[0].1);
    let mut review: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let request = &mut review["request"];
    request["operation"] = "UPDATE".into();
    let mut old = request["object"].clone();
    old["spec"]["job"]["parallelism"] = 2.into();
    let reconciled = serde_json::json!({"spec": old["spec"],
        "resource_metadata": {"apiVersion": "flink.apache.org/v1beta1", "firstDeployment": false}});
    let status = serde_json::json!({"reconciliationStatus": {
        "lastReconciledSpec": reconciled.to_string(), "state": "DEPLOYED"},
        "jobStatus": {"state": "RUNNING"}, "lifecycleState": "STABLE"});
    old["status"] = status.clone();
    request["object"]["status"] = status;
    if let Some(r) = request.as_object_mut() {
        r.shift_remove("oldObject");
        if with_old {
            r.insert("oldObject".into(), old);
        }
    }
    review.to_string().into_bytes()
}

/// One review, bytes to bytes, as the server's handler does it.
fn one(engine: &Engine, body: &[u8], endpoint: Endpoint, policy: &Policy) -> Vec<u8> {
    let review = match admission::decode(body) {
        Ok(r) => r,
        Err(e) => panic!("decode: {e}"),
    };
    let out = admission::review(engine, &review, endpoint, &NoContext, policy);
    out.response.review_bytes(&review.api_version)
}

fn benches(c: &mut Criterion) {
    let engine = match Engine::embedded(admission::webhook_settings(None).unwrap_or_default()) {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    let policy = Policy::default();
    let endpoints = [
        ("validate", Endpoint::Validate),
        ("mutate", Endpoint::Mutate),
    ];
    let mut bodies: Vec<(&str, Vec<u8>)> = BODIES.iter().map(|(n, p)| (*n, body(p))).collect();
    bodies.push(("flinkdeployment-update", update_body(true)));
    bodies.push(("flinkdeployment-update-no-old", update_body(false)));
    for (name, bytes) in &bodies {
        for (ep_name, ep) in endpoints {
            black_box(one(&engine, bytes, ep, &policy));
            let before = ALLOCS.load(Ordering::Relaxed);
            black_box(one(&engine, bytes, ep, &policy));
            let n = ALLOCS.load(Ordering::Relaxed) - before;
            println!("allocations per review: {name} {ep_name}: {n}");
        }
    }
    for (name, bytes) in &bodies {
        for (ep_name, ep) in endpoints {
            c.bench_function(&format!("review/{name}/{ep_name}"), |b| {
                b.iter(|| one(&engine, black_box(bytes), ep, &policy))
            });
        }
    }
}

criterion_group!(review_benches, benches);
criterion_main!(review_benches);
