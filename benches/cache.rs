//! The cluster cache at 10 and at 10,000 objects, filled the way the webhook fills it: kube-rs
//! watchers listing and watching the test API server (`tests/common/apiserver.rs`).
//!
//! - `cache/review-*`: one `/validate` review of a standalone JobManager Deployment (decode not
//!   included) judged against the cache; the subject's namespace holds the same objects in both
//!   cases, the other objects sit in other namespaces. The per-request cost must not grow with
//!   the cache.
//! - printed before the benchmarks: the heap the cache holds per object (a counting global
//!   allocator: bytes allocated and not freed while the watchers synced), and the process RSS
//!   growth over the same span.
//!
//! `cargo bench --bench cache`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::Engine;
use flink_admission::server::cluster::{self, ClusterCache};
use serde_json::{Value, json};

#[path = "../tests/common/apiserver.rs"]
mod apiserver;

/// Counts the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/admission")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config_map(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns,
            "labels": {"app": name}},
        "data": {"config.yaml": "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\nparallelism.default: 2\n",
                 "log4j-console.properties": "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\n"}})
}

fn service(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "selector": {"app": name, "component": "jobmanager"},
            "ports": [{"name": "rpc", "port": 6123}, {"name": "blob-server", "port": 6124}, {"name": "webui", "port": 8081}]}})
}

fn deployment(jm: &Value, ns: &str, name: &str) -> Value {
    let mut d = jm.clone();
    d["metadata"]["namespace"] = json!(ns);
    d["metadata"]["name"] = json!(name);
    d["metadata"]["labels"] = json!({"app": name, "component": "jobmanager"});
    d["spec"]["selector"]["matchLabels"] = json!({"app": name, "component": "jobmanager"});
    d["spec"]["template"]["metadata"]["labels"] = json!({"app": name, "component": "jobmanager"});
    d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] = json!(name);
    d
}

/// The subject's namespace (same in both sizes) and `total` objects in all.
fn world(total: usize) -> Vec<Value> {
    let jm = fixture("jobmanager-deployment-update.json")["request"]["object"].clone();
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "streaming"}}),
        config_map("streaming", "flink-config"),
        service("streaming", "flink-jobmanager"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
    ];
    // other teams: 100 namespaces, each a Flink cluster or three (Deployment, ConfigMap,
    // Service), until the total is reached
    let mut i = 0;
    while out.len() < total {
        let ns = format!("team-{}", i % 100);
        if i < 100 {
            out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        let name = format!("flink-{i}");
        for o in [
            deployment(&jm, &ns, &name),
            config_map(&ns, &name),
            service(&ns, &name),
        ] {
            if out.len() < total {
                out.push(o);
            }
        }
        i += 1;
    }
    out
}

struct Filled {
    cache: ClusterCache,
    _api: apiserver::ApiServer,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn fill(rt: &tokio::runtime::Runtime, total: usize) -> Filled {
    rt.block_on(async {
        let api = apiserver::ApiServer::start().await;
        let objects = world(total);
        let wire: usize = objects.iter().map(|o| o.to_string().len()).sum();
        api.apply_all(objects);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (heap0, rss0) = (LIVE.load(Ordering::SeqCst), rss_bytes());
        let cache = ClusterCache::new(cluster::watched());
        let started = Instant::now();
        let tasks = cache.start(api.client());
        while !cache.synced() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let synced_in = started.elapsed();
        // let the list buffers go
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (heap1, rss1) = (LIVE.load(Ordering::SeqCst), rss_bytes());
        let held: usize = cluster::watched()
            .iter()
            .filter_map(|r| cache.store(r.group, r.kind))
            .map(|s| s.len())
            .sum();
        let heap = (heap1 - heap0) as f64;
        println!(
            "cache of {held} objects: synced in {synced_in:?}; heap held {:.1} MiB = {:.0} bytes/object (JSON on the wire {:.0} bytes/object); RSS +{:.1} MiB",
            heap / 1048576.0,
            heap / held as f64,
            wire as f64 / total as f64,
            match (rss0, rss1) {
                (Some(a), Some(b)) => (b as f64 - a as f64) / 1048576.0,
                _ => f64::NAN,
            }
        );
        Filled {
            cache,
            _api: api,
            _tasks: tasks,
        }
    })
}

fn benches(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let engine = Engine::embedded(admission::webhook_settings(None).unwrap_or_default())
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let mut review_json = fixture("jobmanager-deployment-update.json");
    review_json["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
    let review = admission::decode(review_json.to_string().as_bytes()).expect("a review");
    let policy = Policy::default();
    for total in [10, 10_000] {
        let filled = fill(&rt, total);
        let cache = &filled.cache;
        let out = admission::review(&engine, &review, Endpoint::Validate, cache, &policy);
        assert!(
            !out.lookups_unanswered,
            "the synced cache answers every lookup"
        );
        c.bench_function(
            &format!("cache/review-validate-jobmanager/{total}-objects"),
            |b| {
                b.iter(|| {
                    admission::review(
                        &engine,
                        black_box(&review),
                        Endpoint::Validate,
                        cache,
                        &policy,
                    )
                })
            },
        );
        c.bench_function(
            &format!("cache/review-mutate-jobmanager/{total}-objects"),
            |b| {
                b.iter(|| {
                    admission::review(
                        &engine,
                        black_box(&review),
                        Endpoint::Mutate,
                        cache,
                        &policy,
                    )
                })
            },
        );
    }
}

criterion_group! {
    name = cache_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(cache_benches);
