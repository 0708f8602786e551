//! The server: through the real router in-process (tower `oneshot`) and through a real TLS
//! socket on 127.0.0.1 with rcgen certificates for `flink-admission.<ns>.svc`, a client that
//! verifies the CA and that name. Probes, metrics, body limits, malformed input (and a little
//! fuzzing), time budget, certificate rotation, client certificates, graceful shutdown, the
//! cluster cache fed like a reflector, and `serve --dev` never reaching an API server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use flink_admission::admission::{self, FailMode, Policy};
use flink_admission::engine::Context;
use flink_admission::server::certs::{self, Authority, Usage};
use flink_admission::server::cluster::{self, ClusterCache};
use flink_admission::server::metrics::Metrics;
use flink_admission::server::{
    self, AppState, ContextProvider, Fixed, Limits, Offline, ServeOptions, TlsFiles, probe_router,
    webhook_router,
};
use kube::runtime::watcher::Event;
use serde_json::{Value, json};
use tower::ServiceExt;

const NS: &str = "webhooks";
const HOST: &str = "flink-admission.webhooks.svc";
/// How long a test waits for an event before it fails: a safety net against a hung test, not
/// a measure of speed (the waits end on the event, however loaded the machine). Server-side
/// time limits a test does not exercise are set to it too, so a slow machine cannot trip them.
const SAFETY_NET: Duration = Duration::from_secs(300);

use crate::common::child::{field, read_lines_until};
use crate::common::secret_volume;
use crate::common::synced_cache as synced;
use crate::common::{call, engine, fixture};

fn state_with(
    provider: Arc<dyn ContextProvider>,
    policy: Policy,
    budget: Duration,
) -> Arc<AppState> {
    Arc::new(AppState::new(
        engine(),
        provider,
        policy,
        Arc::new(Metrics::new()),
        budget,
    ))
}

fn offline_state() -> Arc<AppState> {
    state_with(Arc::new(Offline), Policy::default(), Duration::from_secs(4))
}

async fn post_json(router: &Router, uri: &str, body: &Value) -> (StatusCode, Value) {
    let (s, b) = call(router, "POST", uri, body.to_string().into_bytes()).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

// ---------------------------------------------------------------- router, in-process

#[tokio::test]
async fn router_validate_and_mutate_answer_every_field() {
    let router = webhook_router(offline_state(), 3 << 20);
    let (s, v) = post_json(
        &router,
        "/validate",
        &fixture("flinkdeployment-create.json"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "6f1c2a3e-0b1d-4d5e-9a7f-1c2b3d4e5f60");
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(v["response"]["status"]["code"], 403);
    let message = v["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("FLK101") && message.contains("FLK402"));
    assert_eq!(v["response"]["auditAnnotations"]["rules"], "FLK101,FLK402");
    assert!(v["response"].get("patch").is_none());

    let (s, m) = post_json(&router, "/mutate", &fixture("flinkdeployment-create.json")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["response"]["allowed"], true);
    assert_eq!(m["response"]["patchType"], "JSONPatch");
    let patch = admission::JsonPatch {
        patch: m["response"]["patch"].as_str().unwrap().to_string(),
        patch_type: "JSONPatch".into(),
    }
    .decode()
    .unwrap();
    let object = fixture("flinkdeployment-create.json")["request"]["object"].clone();
    let mut patched = object.clone();
    json_patch::patch(
        &mut patched,
        &serde_json::from_value::<json_patch::Patch>(patch).unwrap(),
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["x-example-unknown"],
        object["spec"]["x-example-unknown"]
    );
    let mut again = fixture("flinkdeployment-create.json");
    again["request"]["object"] = patched;
    let (_, m2) = post_json(&router, "/mutate", &again).await;
    assert!(m2["response"].get("patch").is_none(), "{m2}");
}

#[tokio::test]
async fn router_delete_scale_dry_run() {
    let router = webhook_router(offline_state(), 3 << 20);
    let (s, v) = post_json(
        &router,
        "/validate",
        &fixture("flinkdeployment-delete.json"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["response"],
        json!({"uid": "c7d1e9f0-2a3b-4c5d-8e6f-7a8b9c0d1e22", "allowed": true})
    );
    let mut dry = fixture("jobmanager-deployment-update.json");
    dry["request"]["dryRun"] = json!(true);
    let (_, d) = post_json(&router, "/validate", &dry).await;
    let (_, w) = post_json(
        &router,
        "/validate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await;
    assert_eq!(d, w);
    assert_eq!(d["response"]["allowed"], false);
    // scale against a cluster that has the JobManager Deployment
    let jm = fixture("jobmanager-deployment-update.json")["request"]["object"].clone();
    let world: Arc<dyn Context> = Arc::new(flink_admission::engine::ObjectSet::complete(vec![
        Arc::new(jm),
    ]));
    let router = webhook_router(
        state_with(
            Arc::new(Fixed(world)),
            Policy::default(),
            Duration::from_secs(4),
        ),
        3 << 20,
    );
    let (_, v) = post_json(&router, "/validate", &fixture("scale-update.json")).await;
    assert_eq!(v["response"]["allowed"], false);
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("FLK101")
    );
    let (_, m) = post_json(&router, "/mutate", &fixture("scale-update.json")).await;
    assert_eq!(m["response"]["allowed"], true, "mutate never denies");
}

#[tokio::test]
async fn router_rejects_bad_bodies_with_json_errors() {
    let router = webhook_router(offline_state(), 64 * 1024);
    for (body, want) in [
        (b"{not json".to_vec(), "not JSON"),
        (b"[]".to_vec(), "not a JSON object"),
        (br#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"a"}}"#.to_vec(), "apiVersion"),
        (br#"{"apiVersion":"apps/v1","kind":"Deployment"}"#.to_vec(), "apiVersion"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#.to_vec(), "no uid"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(), "no request"),
        (Vec::new(), "not JSON"),
    ] {
        let (s, b) = call(&router, "POST", "/validate", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert!(v["error"].as_str().unwrap().contains(want), "{v}");
        assert_eq!(v["code"], 400);
    }
    // bigger than the limit: 413 with a JSON error, no crash
    let mut big = fixture("flinkdeployment-create.json");
    big["request"]["object"]["metadata"]["annotations"]["padding"] = json!("x".repeat(100 * 1024));
    let (s, b) = call(&router, "POST", "/validate", big.to_string().into_bytes()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["code"], 413);
    // wrong method
    let (s, _) = call(&router, "GET", "/validate", Vec::new()).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    // still serving
    let (s, _) = post_json(&router, "/validate", &fixture("scale-update.json")).await;
    assert_eq!(s, StatusCode::OK);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-zA-Z0-9:/._-]{0,12}".prop_map(Value::String),
            prop::sample::select(vec![
                "CREATE",
                "UPDATE",
                "DELETE",
                "CONNECT",
                "scale",
                "status",
                "admission.k8s.io/v1",
                "admission.k8s.io/v1beta1",
                "AdmissionReview",
                "apps/v1",
                "Deployment",
                "flink.apache.org/v1beta1",
                "FlinkDeployment",
                "autoscaling/v1",
                "Scale",
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "apiVersion",
                        "kind",
                        "request",
                        "uid",
                        "operation",
                        "object",
                        "oldObject",
                        "metadata",
                        "spec",
                        "name",
                        "namespace",
                        "subResource",
                        "dryRun",
                        "replicas",
                        "template",
                        "containers",
                        "image",
                        "args",
                        "jobManager",
                        "labels",
                        "x",
                    ]),
                    inner,
                    0..8,
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    /// The router and its state: the server catches a panic inside a review and answers per
    /// fail mode, so "no panic" is asserted on the internal-error counter, not on the answer.
    fn router() -> (Router, Arc<AppState>) {
        let state = offline_state();
        (webhook_router(state.clone(), 64 * 1024), state)
    }

    fn check(
        rt: &tokio::runtime::Runtime,
        (router, state): &(Router, Arc<AppState>),
        body: Vec<u8>,
    ) {
        for uri in ["/validate", "/mutate"] {
            let (s, b) = rt.block_on(call(router, "POST", uri, body.clone()));
            assert_eq!(
                state.metrics.internal_error_count(),
                0,
                "{uri} panicked inside the review (answered as an internal error) for {}",
                String::from_utf8_lossy(&body)
            );
            assert!(
                s == StatusCode::OK
                    || s == StatusCode::BAD_REQUEST
                    || s == StatusCode::PAYLOAD_TOO_LARGE,
                "{s}"
            );
            let v: Value = serde_json::from_slice(&b).expect("every answer is JSON");
            if s == StatusCode::OK {
                assert!(v["response"]["uid"].is_string());
                assert!(v["response"]["allowed"].is_boolean());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            check(&rt, &router(), bytes);
        }

        #[test]
        fn arbitrary_json_never_panics(v in arb_json(), wrap in any::<bool>(), uid in any::<bool>()) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let body = if wrap {
                let mut req = json!({"operation": "CREATE", "object": v.clone(), "oldObject": v.clone()});
                if uid { req["uid"] = json!("u"); }
                json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
            } else {
                v
            };
            check(&rt, &router(), body.to_string().into_bytes());
        }

        #[test]
        fn mutated_flink_objects_never_panic(replicas in any::<i64>(), surge in "[0-9%a-z]{0,4}", image in "[a-z:.0-9]{0,12}") {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let mut r = fixture("jobmanager-deployment-update.json");
            r["request"]["object"]["spec"]["replicas"] = json!(replicas);
            r["request"]["object"]["spec"]["strategy"] = json!({"rollingUpdate": {"maxSurge": surge}});
            r["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
            check(&rt, &router(), r.to_string().into_bytes());
        }
    }
}

// ---------------------------------------------------------------- probes and metrics

#[tokio::test]
async fn probes_and_metrics() {
    let state = offline_state();
    let hook = webhook_router(state.clone(), 3 << 20);
    let probes = probe_router(state.clone());
    let (s, b) = call(&probes, "GET", "/healthz", Vec::new()).await;
    assert_eq!((s, b.as_slice()), (StatusCode::OK, b"ok\n".as_slice()));
    let (s, _) = call(&probes, "GET", "/readyz", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    post_json(&hook, "/validate", &fixture("flinkdeployment-create.json")).await;
    post_json(&hook, "/validate", &fixture("flinkdeployment-delete.json")).await;
    post_json(
        &hook,
        "/mutate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await;
    call(&hook, "POST", "/validate", b"nope".to_vec()).await;
    let (s, b) = call(&probes, "GET", "/metrics", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(b).unwrap();
    for line in [
        r#"flink_admission_requests_total{endpoint="validate",decision="denied"} 1"#,
        r#"flink_admission_requests_total{endpoint="validate",decision="skipped"} 1"#,
        r#"flink_admission_requests_total{endpoint="validate",decision="invalid"} 1"#,
        r#"flink_admission_requests_total{endpoint="mutate",decision="patched"} 1"#,
        r#"flink_admission_findings_total{endpoint="validate",rule="FLK101",severity="error"} 1"#,
        r#"flink_admission_findings_total{endpoint="validate",rule="FLK402",severity="error"} 1"#,
        r#"flink_admission_findings_total{endpoint="mutate",rule="FLK102",severity="error"} 1"#,
        r#"flink_admission_request_duration_seconds_count{endpoint="validate"} 3"#,
        "flink_admission_ready 1",
        "# EOF",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("flink_admission_request_duration_seconds_bucket{le="));
    // shutting down: not ready, but healthy
    state.begin_shutdown();
    let (s, b) = call(&probes, "GET", "/readyz", Vec::new()).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&b).contains("shutting down"));
    let (s, _) = call(&probes, "GET", "/healthz", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
}

// ---------------------------------------------------------------- time budget

/// A context whose lookups block until opened: a slow dependency, deterministic.
struct Gate {
    /// Lookups that reached the gate; every one wakes [`Gate::wait_entered`].
    entered: tokio::sync::watch::Sender<usize>,
    open: Mutex<bool>,
    cv: Condvar,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            entered: tokio::sync::watch::channel(0).0,
            open: Mutex::new(false),
            cv: Condvar::new(),
        }
    }
}

impl Gate {
    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
    fn entered(&self) -> usize {
        *self.entered.borrow()
    }
    /// Until a lookup has reached the gate (woken by it, not polled).
    async fn wait_entered(&self) {
        let mut entered = self.entered.subscribe();
        let reached = tokio::time::timeout(SAFETY_NET, entered.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok());
        assert!(reached, "no lookup reached the gate within {SAFETY_NET:?}");
    }
}

impl Context for Gate {
    fn list(&self, _: &str, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        self.entered.send_modify(|n| *n += 1);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        Vec::new()
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        false
    }
}

/// Opens the gate however the test ends, so no blocking thread is left behind.
struct OpenOnDrop(Arc<Gate>);
impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[tokio::test]
async fn over_budget_follows_the_fail_mode() {
    for (mode, allowed) in [(FailMode::Open, true), (FailMode::Closed, false)] {
        let gate = Arc::new(Gate::default());
        let _open = OpenOnDrop(gate.clone());
        let policy = Policy {
            fail_mode: mode,
            ..Policy::default()
        };
        let state = state_with(
            Arc::new(Fixed(gate.clone())),
            policy,
            Duration::from_millis(100),
        );
        let router = webhook_router(state.clone(), 3 << 20);
        // the gate is never opened while the request runs: it can only end by the budget
        let (s, v) = post_json(
            &router,
            "/validate",
            &fixture("jobmanager-deployment-update.json"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(gate.entered() > 0);
        let r = &v["response"];
        assert_eq!(r["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
        assert_eq!(r["allowed"], allowed, "{v}");
        if allowed {
            assert!(
                r["warnings"][0]
                    .as_str()
                    .unwrap()
                    .contains("did not finish within 100 ms")
            );
        } else {
            assert!(
                r["status"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("fail-closed")
            );
        }
        let text = state.metrics.encode();
        assert!(
            text.contains(r#"requests_total{endpoint="validate",decision="timeout"} 1"#),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------- internal errors

/// A context that panics on every lookup: a bug inside the review, injected from outside
/// (no test hook in the server).
struct Panics;

impl Context for Panics {
    fn list(&self, group: &str, kind: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        panic!("injected panic listing {group}/{kind}")
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        false
    }
}

#[tokio::test]
async fn a_panic_inside_a_review_follows_the_fail_mode_and_is_counted() {
    for (mode, allowed) in [(FailMode::Open, true), (FailMode::Closed, false)] {
        let policy = Policy {
            fail_mode: mode,
            ..Policy::default()
        };
        let state = state_with(
            Arc::new(Fixed(Arc::new(Panics))),
            policy,
            Duration::from_secs(4),
        );
        let router = webhook_router(state.clone(), 3 << 20);
        let (s, v) = post_json(
            &router,
            "/validate",
            &fixture("jobmanager-deployment-update.json"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "an internal error is still an answer");
        let r = &v["response"];
        assert_eq!(r["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
        assert_eq!(r["allowed"], allowed, "{mode:?}: {v}");
        assert_eq!(r["auditAnnotations"]["fail-mode"], mode.as_str(), "{v}");
        if allowed {
            let w = r["warnings"][0].as_str().unwrap_or("");
            assert!(
                w.contains("internal error") && w.contains("fail-open"),
                "{v}"
            );
        } else {
            let m = r["status"]["message"].as_str().unwrap_or("");
            assert!(
                m.contains("internal error") && m.contains("fail-closed"),
                "{v}"
            );
        }
        // /mutate never denies, even fail-closed
        let (_, m) = post_json(
            &router,
            "/mutate",
            &fixture("jobmanager-deployment-update.json"),
        )
        .await;
        assert_eq!(m["response"]["allowed"], true, "{m}");
        assert!(m["response"].get("patch").is_none(), "{m}");
        let text = state.metrics.encode();
        for line in [
            r#"flink_admission_internal_errors_total{endpoint="validate"} 1"#,
            r#"flink_admission_internal_errors_total{endpoint="mutate"} 1"#,
            r#"flink_admission_requests_total{endpoint="validate",decision="error"} 1"#,
        ] {
            assert!(text.contains(line), "{mode:?}: missing {line} in\n{text}");
        }
        assert_eq!(state.metrics.internal_error_count(), 2);
    }
}

// ---------------------------------------------------------------- TLS

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

struct Pki {
    dir: tempfile::TempDir,
    ca: Authority,
}

impl Pki {
    fn new() -> Pki {
        install_provider();
        Pki {
            dir: tempfile::tempdir().unwrap(),
            ca: Authority::new("test webhook CA", 30).unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn server_pair(&self) -> certs::Pair {
        self.ca
            .issue(
                &certs::service_names("flink-admission", NS),
                Usage::Server,
                30,
            )
            .unwrap()
    }
    fn publish(&self, pair: &certs::Pair, generation: usize) {
        secret_volume::publish(&self.path("secret"), pair, generation);
    }
    fn files(&self) -> TlsFiles {
        secret_volume::files(&self.path("secret"))
    }
}

fn options(files: TlsFiles) -> ServeOptions {
    let mut o = ServeOptions::new(files);
    o.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    o.probe_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    o.cluster = false;
    o.shutdown_delay = Duration::ZERO;
    o.shutdown_grace = Duration::from_secs(20);
    o.cert_poll = Duration::from_millis(200);
    o
}

fn client(ca_pem: &str, identity: Option<&certs::Pair>, addr: SocketAddr) -> reqwest::Client {
    install_provider();
    let mut b = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .resolve(HOST, addr)
        .tls_info(true)
        .no_proxy()
        .pool_max_idle_per_host(0);
    if let Some(id) = identity {
        let pem = format!("{}{}", id.cert_pem, id.key_pem);
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("https://{HOST}:{}{path}", addr.port())
}

async fn post(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    body: &Value,
) -> reqwest::Result<(u16, Value, Vec<u8>)> {
    let resp = client.post(url(addr, path)).json(body).send().await?;
    let peer = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let status = resp.status().as_u16();
    let v = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, v, peer))
}

fn der(pem: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// For what the server shows only from outside (readiness, a closed listener): check every
/// 50 ms, fail after [`SAFETY_NET`].
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + SAFETY_NET;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn tls_socket_serves_verified_name_and_rotates_certificates() {
    let pki = Pki::new();
    let first = pki.server_pair();
    pki.publish(&first, 1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(options(pki.files()), None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let addr = running.addr;
    let ca = pki.ca.cert_pem();

    let (status, v, peer) = post(
        &client(&ca, None, addr),
        addr,
        "/validate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["response"]["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(peer, der(&first.cert_pem));
    let (_, m, _) = post(
        &client(&ca, None, addr),
        addr,
        "/mutate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await
    .unwrap();
    assert_eq!(m["response"]["patchType"], "JSONPatch");

    // a client that trusts another CA refuses the server
    let other = Authority::new("other", 1).unwrap();
    assert!(
        post(
            &client(&other.cert_pem(), None, addr),
            addr,
            "/validate",
            &json!({})
        )
        .await
        .is_err()
    );
    // a name the certificate does not carry is refused too
    let wrong_name = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .resolve("other.webhooks.svc", addr)
        .no_proxy()
        .build()
        .unwrap();
    assert!(
        wrong_name
            .get(format!(
                "https://other.webhooks.svc:{}/healthz",
                addr.port()
            ))
            .send()
            .await
            .is_err()
    );

    // the expiry metric is the certificate's notAfter
    let want = certs::not_after(&der(&first.cert_pem)).unwrap();
    let (_, metrics) = get_text(running.probe_addr, "/metrics").await;
    assert!(
        metrics.contains(&format!(
            "flink_admission_certificate_expiry_timestamp_seconds {want}"
        )),
        "{metrics}"
    );

    // rotate: a new pair behind the same names; the next handshake presents it
    let second = pki.server_pair();
    pki.publish(&second, 2);
    eventually("the new certificate", || async {
        post(
            &client(&ca, None, addr),
            addr,
            "/validate",
            &fixture("scale-update.json"),
        )
        .await
        .is_ok_and(|(_, _, peer)| peer == der(&second.cert_pem))
    })
    .await;

    // a broken pair (key of another certificate) is rejected; the second pair keeps serving
    let third = pki.server_pair();
    let broken = certs::Pair {
        cert_pem: third.cert_pem.clone(),
        key_pem: first.key_pem.clone(),
    };
    pki.publish(&broken, 3);
    eventually("the rejected reload", || async {
        get_text(running.probe_addr, "/metrics")
            .await
            .1
            .contains(r#"flink_admission_certificate_reloads_total{result="error"} 1"#)
    })
    .await;
    let (status, _, peer) = post(
        &client(&ca, None, addr),
        addr,
        "/validate",
        &fixture("scale-update.json"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(peer, der(&second.cert_pem));
    // and garbage in the files too
    pki.publish(
        &certs::Pair {
            cert_pem: "garbage".into(),
            key_pem: "garbage".into(),
        },
        4,
    );
    eventually("the second rejected reload", || async {
        get_text(running.probe_addr, "/metrics")
            .await
            .1
            .contains(r#"flink_admission_certificate_reloads_total{result="error"} 2"#)
    })
    .await;
    let (_, _, peer) = post(
        &client(&ca, None, addr),
        addr,
        "/validate",
        &fixture("scale-update.json"),
    )
    .await
    .unwrap();
    assert_eq!(peer, der(&second.cert_pem));

    let _ = stop.send(());
    running.wait().await;
}

#[tokio::test]
async fn client_certificates_are_required_only_with_client_ca() {
    let pki = Pki::new();
    let pair = pki.server_pair();
    pki.publish(&pair, 1);
    let client_ca = Authority::new("api server client CA", 30).unwrap();
    std::fs::write(pki.path("client-ca.crt"), client_ca.cert_pem()).unwrap();
    let apiserver = client_ca
        .issue(&["kube-apiserver".into()], Usage::Client, 30)
        .unwrap();
    let stranger = Authority::new("stranger", 30)
        .unwrap()
        .issue(&["x".into()], Usage::Client, 30)
        .unwrap();
    let ca = pki.ca.cert_pem();
    let body = fixture("scale-update.json");

    // off: anyone with the CA can talk
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let off = server::start(options(pki.files()), None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    assert_eq!(
        post(&client(&ca, None, off.addr), off.addr, "/validate", &body)
            .await
            .unwrap()
            .0,
        200
    );
    let _ = stop.send(());
    off.wait().await;

    // on
    let mut files = pki.files();
    files.client_ca = Some(pki.path("client-ca.crt"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let on = server::start(options(files), None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let addr = on.addr;
    let (status, v, _) = post(
        &client(&ca, Some(&apiserver), addr),
        addr,
        "/validate",
        &body,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["response"]["uid"], "a4e8f2c1-5b6d-4c3e-8f7a-9b0c1d2e3f41");
    assert!(
        post(&client(&ca, None, addr), addr, "/validate", &body)
            .await
            .is_err(),
        "no client certificate"
    );
    assert!(
        post(
            &client(&ca, Some(&stranger), addr),
            addr,
            "/validate",
            &body
        )
        .await
        .is_err(),
        "untrusted client certificate"
    );
    let _ = stop.send(());
    on.wait().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let pki = Pki::new();
    let pair = pki.server_pair();
    pki.publish(&pair, 1);
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    let mut opts = options(pki.files());
    // the request is held at the gate until the test opens it: no time limit may end it first
    // (on a loaded machine the steps before that can outlast a 20 s grace or a 60 s budget)
    opts.budget = SAFETY_NET;
    opts.shutdown_grace = SAFETY_NET;
    opts.idle_timeout = SAFETY_NET;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(opts, Some(Arc::new(Fixed(gate.clone()))), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let (addr, probe) = (running.addr, running.probe_addr);
    assert_eq!(get_text(probe, "/readyz").await.0, 200);
    let ca = pki.ca.cert_pem();
    let in_flight = {
        let c = client(&ca, None, addr);
        tokio::spawn(async move {
            post(
                &c,
                addr,
                "/validate",
                &fixture("jobmanager-deployment-update.json"),
            )
            .await
        })
    };
    gate.wait_entered().await;
    // SIGTERM
    let _ = stop.send(());
    eventually("readiness to go false", || async {
        get_text(probe, "/readyz").await.0 == 503
    })
    .await;
    // new connections are refused while the old request is still held
    assert!(!in_flight.is_finished());
    // (a request that needs no lookup: one accepted just before the listener closed is served,
    // and a review would wait at the gate)
    eventually("the listener to close (connection refused)", || async {
        client(&ca, None, addr)
            .get(url(addr, "/healthz"))
            .send()
            .await
            .is_err_and(|e| e.is_connect())
    })
    .await;
    let waiter = tokio::spawn(running.wait());
    assert!(!waiter.is_finished());
    gate.release();
    let (status, v, _) = in_flight.await.unwrap().unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["response"]["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
    assert_eq!(v["response"]["allowed"], false);
    tokio::time::timeout(SAFETY_NET, waiter)
        .await
        .expect("server stopped")
        .unwrap();
}

// ---------------------------------------------------------------- cluster cache

fn watched_cache() -> ClusterCache {
    ClusterCache::new(cluster::watched())
}

fn sync_all(cache: &ClusterCache, objects: Vec<Value>) {
    synced::sync(cache, &objects);
}

#[tokio::test]
async fn cluster_cache_answers_the_engine_like_a_synced_reflector() {
    let cache = watched_cache();
    let state = state_with(
        Arc::new(cache.clone()),
        Policy::default(),
        Duration::from_secs(4),
    );
    let probes = probe_router(state.clone());
    let hook = webhook_router(state.clone(), 3 << 20);
    // not synced: not ready, nothing claimed complete, a note says why
    assert_eq!(
        call(&probes, "GET", "/readyz", Vec::new()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(!cache.is_complete("", "ConfigMap"));
    assert_eq!(cache.incomplete_note(), Some(cluster::NOT_SYNCED));
    let (_, v) = post_json(
        &hook,
        "/validate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await;
    assert!(
        v["response"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("fail-open")),
        "{v}"
    );
    let text = String::from_utf8(call(&probes, "GET", "/metrics", Vec::new()).await.1).unwrap();
    assert!(
        text.contains(r#"flink_admission_cache_synced{resource="configmaps"} 0"#),
        "{text}"
    );

    let mut jm = fixture("jobmanager-deployment-update.json")["request"]["object"].clone();
    jm["metadata"]["managedFields"] = json!([{"manager": "kubectl"}]);
    let other_ns_jm = {
        let mut o = jm.clone();
        o["metadata"]["namespace"] = json!("elsewhere");
        o["metadata"]["name"] = json!("elsewhere-jm");
        o
    };
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "streaming"}});
    sync_all(&cache, vec![jm.clone(), other_ns_jm, ns]);
    assert!(cache.synced());
    assert_eq!(cache.incomplete_note(), None);
    assert!(cache.is_complete("apps", "Deployment"));
    assert!(!cache.is_complete("", "Pod"), "not watched, never complete");
    assert_eq!(
        call(&probes, "GET", "/readyz", Vec::new()).await.0,
        StatusCode::OK
    );
    let listed = cache.list("apps", "Deployment", Some("streaming"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "Deployment");
    assert_eq!(listed[0]["apiVersion"], "apps/v1");
    assert!(listed[0]["metadata"].get("managedFields").is_none());
    assert_eq!(cache.list("apps", "Deployment", None).len(), 2);

    // kubectl scale on the live JobManager: denied from the cache
    let (_, v) = post_json(&hook, "/validate", &fixture("scale-update.json")).await;
    assert_eq!(v["response"]["allowed"], false, "{v}");
    // the required ConfigMap is now known to be missing (FLK302 instead of "unverified")
    let mut ok = fixture("jobmanager-deployment-update.json");
    ok["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
    let (_, v) = post_json(&hook, "/validate", &ok).await;
    let rules = v["response"]["auditAnnotations"]["rules"]
        .as_str()
        .unwrap_or("");
    assert!(rules.contains("FLK302") && !rules.contains("FLK303"), "{v}");
    // the ConfigMap appears: FLK302 goes away
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flink-config", "namespace": "streaming"},
        "data": {"config.yaml": "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\n", "log4j-console.properties": "rootLogger.level = INFO\n"}});
    cache
        .store("", "ConfigMap")
        .unwrap()
        .apply(Event::Apply(cm.clone()));
    let (_, v) = post_json(&hook, "/validate", &ok).await;
    assert!(
        !v["response"]["auditAnnotations"]["rules"]
            .as_str()
            .unwrap_or("")
            .contains("FLK302"),
        "{v}"
    );
    // the JobManager is deleted: the Scale is no longer a JobManager's
    cache
        .store("apps", "Deployment")
        .unwrap()
        .apply(Event::Delete(jm));
    let (_, v) = post_json(&hook, "/validate", &fixture("scale-update.json")).await;
    assert_eq!(v["response"]["allowed"], true, "{v}");
    // a relist replaces the store wholesale
    let cms = cache.store("", "ConfigMap").unwrap();
    cms.apply(Event::Init);
    assert_eq!(
        cms.len(),
        1,
        "old objects stay visible until the relist is done"
    );
    cms.apply(Event::InitDone);
    assert_eq!(cms.len(), 0);
    let text = String::from_utf8(call(&probes, "GET", "/metrics", Vec::new()).await.1).unwrap();
    assert!(
        text.contains(
            r#"flink_admission_cache_synced{resource="flinkdeployments.flink.apache.org"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn platform_is_detected_from_namespaces() {
    use flink_admission::engine::rule::Platform;
    let cache = watched_cache();
    assert_eq!(cache.detect_platform(), None);
    let ns = cache.store("", "Namespace").unwrap();
    ns.apply(Event::Init);
    ns.apply(Event::InitApply(json!({"metadata": {"name": "default"}})));
    ns.apply(Event::InitDone);
    assert_eq!(cache.detect_platform(), Some(Platform::Kubernetes));
    ns.apply(Event::Apply(json!({"metadata": {"name": "team-a",
        "annotations": {"openshift.io/sa.scc.uid-range": "1000650000/10000"}}})));
    assert_eq!(cache.detect_platform(), Some(Platform::Openshift));
    // a CRD that is not installed counts as synced and empty
    let fd = cache.store("flink.apache.org", "FlinkDeployment").unwrap();
    fd.mark_absent();
    assert!(fd.is_synced() && fd.is_empty());
}

// ---------------------------------------------------------------- the binary

fn fake_api_server(dir: &Path) -> (std::net::TcpListener, PathBuf) {
    let api = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    api.set_nonblocking(true).unwrap();
    let port = api.local_addr().unwrap().port();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    (api, kubeconfig)
}

fn serve_command(kubeconfig: &Path, port: u16) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("flink-admission"));
    c.env("KUBECONFIG", kubeconfig)
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    c
}

fn sigterm(child: &std::process::Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[tokio::test]
async fn dev_mode_never_reaches_an_api_server_and_exits_on_sigterm() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let (api, kubeconfig) = fake_api_server(dir.path());
    let port = api.local_addr().unwrap().port();
    let dev_dir = dir.path().join("dev");
    let mut child = serve_command(&kubeconfig, port)
        .args([
            "serve",
            "--dev",
            "--addr",
            "127.0.0.1:0",
            "--probe-addr",
            "127.0.0.1:0",
            "--shutdown-delay",
            "0s",
        ])
        .arg("--dev-dir")
        .arg(&dev_dir)
        .spawn()
        .unwrap();
    let lines = read_lines_until(
        &mut child,
        &[
            "dev CA certificate: ",
            "webhook: https://",
            "probes: http://",
        ],
    );
    let ca_path = field(&lines, "dev CA certificate: ");
    assert_eq!(Path::new(ca_path), dev_dir.join("ca.crt"));
    let addr: SocketAddr = field(&lines, "webhook: https://").parse().unwrap();
    let probe: SocketAddr = field(&lines, "probes: http://").parse().unwrap();
    assert!(addr.ip().is_loopback() && probe.ip().is_loopback());
    assert_eq!(get_text(probe, "/readyz").await.0, 200);
    let ca = std::fs::read_to_string(ca_path).unwrap();
    let c = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .no_proxy()
        .build()
        .unwrap();
    let resp = c
        .post(format!("https://localhost:{}/validate", addr.port()))
        .json(&fixture("jobmanager-deployment-update.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["response"]["allowed"], false);
    sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    // nobody knocked on the API server
    assert!(matches!(api.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock));

    // control: without --no-cluster the same kubeconfig is used, and the cache never syncs
    let pki = Pki::new();
    pki.publish(&pki.server_pair(), 1);
    let mut child = serve_command(&kubeconfig, port)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--probe-addr",
            "127.0.0.1:0",
            "--platform",
            "kubernetes",
        ])
        .arg("--tls-cert")
        .arg(pki.path("secret/tls.crt"))
        .arg("--tls-key")
        .arg(pki.path("secret/tls.key"))
        .spawn()
        .unwrap();
    let lines = read_lines_until(&mut child, &["probes: http://"]);
    let probe: SocketAddr = field(&lines, "probes: http://").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let knocked = loop {
        if api.accept().is_ok() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        knocked,
        "the cluster mode should watch through the kubeconfig's server"
    );
    let (code, body) = get_text(probe, "/readyz").await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("cache not synced"), "{body}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn certs_command_writes_a_usable_bundle() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("flink-admission"))
        .args([
            "certs",
            "--service",
            "flink-admission",
            "--namespace",
            NS,
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["ca.crt", "tls.crt", "tls.key"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("tls.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // the pair loads, and a client verifying the CA and the service name accepts it
    let files = TlsFiles {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
        client_ca: None,
    };
    let loaded = flink_admission::server::tls::load(&files).unwrap();
    let year = 365 * 86_400;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((loaded.not_after.unwrap() - (now + year)).abs() < 7200);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = server::start(options(files), None, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
        let (status, _, _) = post(
            &client(&ca, None, running.addr),
            running.addr,
            "/validate",
            &fixture("scale-update.json"),
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        let _ = stop.send(());
        running.wait().await;
    });
}

// ---------------------------------------------------------------- budgets (issue 23)

fn limited_state(
    provider: Arc<dyn ContextProvider>,
    budget: Duration,
    limits: Limits,
) -> Arc<AppState> {
    Arc::new(
        AppState::new(
            engine(),
            provider,
            Policy::default(),
            Arc::new(Metrics::new()),
            budget,
        )
        .with_limits(limits),
    )
}

fn post_declared(uri: &str, body: Body, length: usize) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
        .header("content-length", length.to_string())
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn bodies_past_the_bytes_in_flight_budget_get_503_before_being_read() {
    let review = fixture("flinkdeployment-create.json")
        .to_string()
        .into_bytes();
    let limits = Limits {
        body_bytes_in_flight: review.len() + 100,
        ..Limits::default()
    };
    let state = limited_state(Arc::new(Offline), Duration::from_secs(4), limits);
    let router = webhook_router(state.clone(), 3 << 20);
    // a body that never finishes holds its declared length
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stalled = Body::from_stream(tokio_stream_from(rx));
    let held = tokio::spawn(router.clone().oneshot(post_declared(
        "/validate",
        stalled,
        review.len(),
    )));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let send = || {
        router.clone().oneshot(post_declared(
            "/validate",
            Body::from(review.clone()),
            review.len(),
        ))
    };
    // a second review does not fit beside it: 503 at once, with why and when to retry
    let resp = send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["code"], 503);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("--max-body-bytes-in-flight"),
        "{body}"
    );
    let text = state.metrics.encode();
    assert!(
        text.contains(r#"requests_total{endpoint="validate",decision="overloaded"} 1"#),
        "{text}"
    );
    // the stalled body ends: its bytes are given back and the next review is judged
    tx.send(Ok(review.clone())).await.unwrap();
    drop(tx);
    assert_eq!(held.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
}

/// A stream of the chunks sent on `rx`.
fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

#[tokio::test]
async fn a_review_abandoned_past_its_budget_keeps_its_slot_and_the_next_gets_503() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    let limits = Limits {
        max_reviews: 1,
        ..Limits::default()
    };
    let state = limited_state(
        Arc::new(Fixed(gate.clone())),
        Duration::from_millis(200),
        limits,
    );
    let router = webhook_router(state.clone(), 3 << 20);
    let review = fixture("jobmanager-deployment-update.json");
    // the first overruns its budget (the gate stays shut): answered per the fail mode ...
    let (s, v) = post_json(&router, "/validate", &review).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("did not finish"),
        "{v}"
    );
    // ... but its work still runs and holds the only slot: the next waits its budget, then 503
    let (s, v) = post_json(&router, "/validate", &review).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("--max-reviews"),
        "{v}"
    );
    // the work ends: the slot is free again
    gate.release();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, v) = post_json(&router, "/validate", &review).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["response"]["uid"].is_string());
}

#[tokio::test]
async fn a_review_with_more_json_values_than_the_limit_gets_413() {
    let limits = Limits {
        max_values: 5_000,
        ..Limits::default()
    };
    let state = limited_state(Arc::new(Offline), Duration::from_secs(4), limits);
    let router = webhook_router(state, 3 << 20);
    let mut review = fixture("flinkdeployment-create.json");
    let (s, _) = post_json(&router, "/validate", &review).await;
    assert_eq!(s, StatusCode::OK);
    review["request"]["object"]["spec"]["x-unknown"] = json!(vec![1; 10_000]);
    let (s, v) = post_json(&router, "/validate", &review).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["code"], 413);
    assert!(v["error"].as_str().unwrap().contains("at most 5000"), "{v}");
}

/// Log lines written while `f` runs on this thread, as the text format writes them.
async fn logged<F: std::future::Future>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    f.await;
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn values_from_the_request_cannot_forge_or_colour_a_log_line() {
    let router = webhook_router(offline_state(), 3 << 20);
    let mut review = fixture("flinkdeployment-create.json");
    let request = &mut review["request"];
    request["uid"] =
        json!("u1\n2026-12-05T00:00:00Z  INFO admission review uid=FORGED decision=\"allowed\"");
    request["kind"]["kind"] = json!("Flink\u{1b}[31mDeployment\u{7}");
    request["operation"] = json!("CREATE\r\nx");
    request["name"] = json!("n\u{1b}]0;title\u{7}");
    // A capture can come back empty: tracing caches each event site's interest for the whole
    // process, and the other tests' threads (no subscriber) race this thread's scoped one (2 runs
    // in 20 of this module, `rebuild_interest_cache` did not help). Up to three tries for a
    // capture that holds anything; what it holds is then judged in full.
    let mut text = String::new();
    for _ in 0..3 {
        text = logged(async {
            let (s, _) = post_json(&router, "/validate", &review).await;
            assert_eq!(s, StatusCode::OK);
        })
        .await;
        if !text.is_empty() {
            break;
        }
    }
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("admission review"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
        "{text:?}"
    );
    assert!(lines[0].contains(r#"uid="u1\n2026"#), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("2026-12-05T00:00:00Z")),
        "{text}"
    );
}

// ---------------------------------------------------------------- UPDATE: the FLK6xx fixtures

use crate::common::header;

/// The objects of a YAML fixture, as values.
fn objects_in(path: &Path) -> Vec<Value> {
    let mut inputs = flink_admission::lint::Inputs::default();
    inputs.add("f.yaml", &std::fs::read_to_string(path).unwrap());
    assert!(inputs.errors.is_empty(), "{}", path.display());
    inputs.objects.iter().map(|o| (*o.value).clone()).collect()
}

/// The old version as the API server holds it once the operator deployed it: with the status
/// the operator writes (`lastReconciledSpec`, the spec wrapped with its metadata), unless the
/// fixture gives its own status.
fn as_stored(mut old: Value) -> Value {
    if old.get("status").is_none() {
        let spec = json!({"spec": old["spec"], "resource_metadata": {
            "apiVersion": old["apiVersion"], "firstDeployment": false}});
        old["status"] = json!({"reconciliationStatus": {
            "lastReconciledSpec": spec.to_string(), "state": "DEPLOYED"}});
    }
    old
}

fn update_review(uid: &str, object: &Value, old: Option<&Value>) -> Value {
    let kind = object["kind"].as_str().unwrap();
    let mut request = json!({"uid": uid, "operation": if old.is_some() {"UPDATE"} else {"CREATE"},
        "kind": {"group": "flink.apache.org", "version": "v1beta1", "kind": kind},
        "resource": {"group": "flink.apache.org", "version": "v1beta1",
            "resource": format!("{}s", kind.to_lowercase())},
        "namespace": object["metadata"]["namespace"], "name": object["metadata"]["name"],
        "userInfo": {"username": "alice"}, "object": object});
    if let Some(old) = old {
        request["oldObject"] = old.clone();
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// Every FLK6xx fixture with an old version, sent over TLS to `/validate` as the API server
/// sends an UPDATE (the object with the stored status, `oldObject` the stored object): a fail
/// fixture's rule denies (error) or warns (warning) with the fixture's message; a pass fixture's
/// does not. The same object sent as a CREATE (no old version) never reports the rule.
#[tokio::test]
async fn update_fixtures_are_judged_through_validate_over_tls() {
    let pki = Pki::new();
    let pair = pki.server_pair();
    pki.publish(&pair, 1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(options(pki.files()), None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let (addr, ca) = (running.addr, pki.ca.cert_pem());
    let client = client(&ca, None, addr);
    let registry = flink_admission::engine::Registry::embedded().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut judged = 0;
    for rule in registry.rules().iter().filter(|r| r.id.starts_with("FLK6")) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(&rule.id))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            let fail = stem.starts_with("fail");
            if !fail && !stem.starts_with("pass") {
                continue;
            }
            let (_, h) = header::read(&f);
            let new = objects_in(&f).remove(0);
            let old = h.old_path(&f).map(|p| as_stored(objects_in(&p).remove(0)));
            // The webhook's oldObject is the same object by definition.
            if old.as_ref().is_some_and(|o| {
                o["metadata"]["name"] != new["metadata"]["name"] || o["kind"] != new["kind"]
            }) {
                continue;
            }
            let mut object = new.clone();
            if let Some(status) = old.as_ref().and_then(|o| o.get("status")) {
                object["status"] = status.clone();
            }
            let said = |v: &Value| {
                let r = &v["response"];
                let denied = r["status"]["message"].as_str().unwrap_or("").to_string();
                let warned: Vec<String> = r["warnings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w.as_str().map(str::to_string))
                    .collect();
                (r["allowed"].as_bool().unwrap(), denied, warned)
            };
            let prefix = format!("{}:", rule.id);
            let (_, v, _) = post(
                &client,
                addr,
                "/validate",
                &update_review(&stem, &object, old.as_ref()),
            )
            .await
            .unwrap();
            let (allowed, denied, warned) = said(&v);
            let in_denial = denied.lines().any(|l| l.contains(&prefix));
            let in_warnings = warned.iter().any(|w| w.starts_with(&prefix));
            let at = f.display();
            if fail {
                assert!(
                    in_denial || in_warnings,
                    "{at}: {} not reported: {v}",
                    rule.id
                );
                if rule.severity == flink_admission::engine::Severity::Error {
                    assert!(!allowed && in_denial, "{at}: not denied: {v}");
                    for m in &h.messages {
                        assert!(denied.contains(m.as_str()), "{at}: {m:?} not in {denied}");
                    }
                } else {
                    assert!(in_warnings && !in_denial, "{at}: not a warning: {v}");
                }
            } else {
                assert!(
                    !in_denial && !in_warnings,
                    "{at}: {} reported: {v}",
                    rule.id
                );
            }
            let (_, v, _) = post(
                &client,
                addr,
                "/validate",
                &update_review(&stem, &new, None),
            )
            .await
            .unwrap();
            let (_, denied, warned) = said(&v);
            assert!(
                !denied.contains(&prefix) && !warned.iter().any(|w| w.starts_with(&prefix)),
                "{at}: {} reported on CREATE: {v}",
                rule.id
            );
            judged += 1;
        }
    }
    assert!(judged >= 30, "only {judged} FLK6xx fixtures judged");
    let _ = stop.send(());
    running.wait().await;
}
