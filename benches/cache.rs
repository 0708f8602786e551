//! The cluster cache at 10 and at 10,000 objects, filled the way the webhook fills it: kube-rs
//! watchers listing and watching the test API server (`tests/it/common/apiserver.rs`).
//!
//! - `cache/review-*`: one `/validate` review of a standalone JobManager Deployment (decode not
//!   included) judged against the cache; the subject's namespace holds the same objects in both
//!   cases, the other objects sit in other namespaces. The per-request cost must not grow with
//!   the cache.
//! - printed before the benchmarks: the heap the cache holds per object (a counting global
//!   allocator: bytes allocated and not freed while the watchers synced), and the process RSS
//!   growth over the same span.
//! - printed first: the real server process (`flink-admission serve`, the release-profile
//!   binary cargo builds for benches) watching the test API server: its RSS once ready (the
//!   cache synced), after a load of reviews, and its peak (`VmHWM`).
//!
//! The objects are what a real cluster holds (`apiserver::as_in_a_cluster`: managedFields,
//! the last-applied annotation, the API server's defaults, a controller's status).
//!
//! `cargo bench --bench cache` (`-- --rss-only`: the server measurement alone;
//! `FLINK_ADMISSION_BIN=path`: measure that binary instead of the one cargo built).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::Engine;
use flink_admission::server::cluster::{self, ClusterCache};
use serde_json::{Value, json};

#[path = "../tests/it/common/apiserver.rs"]
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

/// The subject's namespace (same in both sizes) and `total` objects in all, as a cluster
/// holds them.
fn world(total: usize) -> Vec<Value> {
    objects(total)
        .iter()
        .map(apiserver::as_in_a_cluster)
        .collect()
}

fn objects(total: usize) -> Vec<Value> {
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
        api.apply_all(objects);
        // on the wire: what a list sends (with the API server's managedFields)
        let client = api.client();
        let mut wire = 0;
        for r in cluster::watched() {
            let url = if r.group.is_empty() {
                format!("/api/v1/{}", r.plural)
            } else {
                format!("/apis/{}/{}/{}", r.group, r.version, r.plural)
            };
            let req = axum::http::Request::get(url).body(Vec::new()).expect("a request");
            let list: Value = client.request(req).await.expect("a list");
            wire += list["items"]
                .as_array()
                .map_or(0, |items| items.iter().map(|i| i.to_string().len()).sum());
        }
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
        let text: usize = cluster::watched()
            .iter()
            .filter_map(|r| cache.store(r.group, r.kind))
            .map(|s| s.text_bytes())
            .sum();
        println!(
            "  pruned JSON text held: {:.1} MiB ({:.0} bytes/object); hot set {} per store",
            text as f64 / 1048576.0,
            text as f64 / held as f64,
            cluster::HOT
        );
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

fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Kills the server when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real server process against the test API server holding `total` objects: RSS once
/// ready, after `REVIEWS` reviews (16 at a time, /validate and /mutate alternating), and peak.
fn server_rss(rt: &tokio::runtime::Runtime, total: usize, review: &Value) {
    use std::io::BufRead;
    const REVIEWS: usize = 4000;
    rt.block_on(async {
        let api = apiserver::ApiServer::start().await;
        api.apply_all(world(total));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (tls, ca) = flink_admission::server::dev_files(dir.path()).expect("certificates");
        let kubeconfig = api.kubeconfig(dir.path());
        let started = Instant::now();
        // FLINK_ADMISSION_BIN: a copy of the binary (the target directory may be shared)
        let bin = std::env::var_os("FLINK_ADMISSION_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_flink-admission").into());
        let mut child = std::process::Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0", "--probe-addr", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&tls.cert)
            .arg("--tls-key")
            .arg(&tls.key)
            .env("KUBECONFIG", &kubeconfig)
            .env("RUST_LOG", "warn")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("its stdout");
        let server = Server(child);
        let pid = server.0.id();
        let (addr, probe) = tokio::task::spawn_blocking(move || {
            let (mut addr, mut probe) = (None, None);
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("webhook: https://") {
                    addr = Some(a.trim().to_string());
                }
                if let Some(a) = line.strip_prefix("probes: http://") {
                    probe = Some(a.trim().to_string());
                }
                if addr.is_some() && probe.is_some() {
                    break;
                }
            }
            (addr.expect("the webhook address"), probe.expect("the probe address"))
        })
        .await
        .expect("the server's addresses");
        let plain = reqwest::Client::builder().no_proxy().build().expect("a client");
        loop {
            let ready = plain
                .get(format!("http://{probe}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "not ready in 120 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let ready_in = started.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_ready = status_mib(pid, "VmRSS:").unwrap_or(f64::NAN);
        let ca_pem = std::fs::read(&ca).expect("the CA");
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).expect("a CA certificate")])
            .no_proxy()
            .build()
            .expect("a TLS client");
        let body = review.to_string();
        let tasks: Vec<_> = (0..16)
            .map(|t| {
                let (client, body, addr) = (client.clone(), body.clone(), addr.clone());
                tokio::spawn(async move {
                    let mut ok = 0;
                    for i in 0..REVIEWS / 16 {
                        let path = if (i + t) % 2 == 0 { "validate" } else { "mutate" };
                        let resp = client
                            .post(format!("https://{addr}/{path}"))
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()
                            .await;
                        if let Ok(r) = resp
                            && r.status().is_success()
                            && r.bytes().await.is_ok()
                        {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        let mut answered = 0;
        for t in tasks {
            answered += t.await.unwrap_or(0);
        }
        let rss_load = status_mib(pid, "VmRSS:").unwrap_or(f64::NAN);
        let peak = status_mib(pid, "VmHWM:").unwrap_or(f64::NAN);
        println!(
            "server process, cache of {total} objects: ready in {ready_in:?}; RSS {rss_ready:.1} MiB ready, {rss_load:.1} MiB after {answered}/{REVIEWS} reviews; peak {peak:.1} MiB"
        );
        drop(server);
    });
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rss_only = std::env::args().any(|a| a == "--rss-only");
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let mut review = fixture("jobmanager-deployment-update.json");
        review["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
        for total in [10, 10_000] {
            server_rss(&rt, total, &review);
        }
    }
    if rss_only {
        return;
    }
    cache_benches();
    Criterion::default().configure_from_args().final_summary();
}

fn benches(c: &mut Criterion) {
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
