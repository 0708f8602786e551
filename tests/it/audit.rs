//! `flink-admission audit`: a cluster export judged offline (every format, the exit status, the
//! PolicyReports it would write); the live cluster through the test API server
//! (`tests/it/common/apiserver.rs`): listed page by page, reports written, a fixed object's result
//! cleared on the next scan, a second scan writing nothing, stale reports deleted; the server's
//! continuous scan and its metrics; and the webhook's enforcement modes over real TLS.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use flink_admission::admission;
use flink_admission::server::certs::{self, Authority, Usage};
use flink_admission::server::cluster::{self, ClusterCache};
use flink_admission::server::metrics::Metrics;
use flink_admission::server::{self, ServeOptions};
use serde_json::{Value, json};

use crate::common::apiserver;
use crate::common::secret_volume;
use apiserver::ApiServer;

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A standalone JobManager Deployment whose container runs privileged (FLK201, an error).
fn privileged_jobmanager(ns: &str, name: &str, privileged: bool) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "containers": [{"name": "jobmanager", "image": "apache/flink:1.19",
                    "args": ["jobmanager"],
                    "securityContext": {"privileged": privileged}}]}}}
    })
}

/// A FlinkDeployment the webhook's rules have nothing to say about.
fn good_flinkdeployment(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", "serviceAccount": "flink",
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
            "podTemplate": {"spec": {
                "securityContext": {"runAsNonRoot": true, "runAsUser": 9999,
                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "flink-main-container", "securityContext": {
                    "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}},
            "jobManager": {"replicas": 1, "resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "job": {"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
                "parallelism": 2, "upgradeMode": "stateless"}}
    })
}

/// What `kubectl get ... -A -o yaml` prints: one List, items with status and server fields.
fn export(items: &[Value]) -> String {
    let items: Vec<Value> = items.iter().map(apiserver::as_in_a_cluster).collect();
    serde_saphyr::to_string(&json!({"apiVersion": "v1", "kind": "List", "items": items,
        "metadata": {"resourceVersion": ""}}))
    .unwrap()
}

fn cluster_objects() -> Vec<Value> {
    vec![
        namespace("team-a"),
        namespace("team-b"),
        privileged_jobmanager("team-a", "flink-jobmanager", true),
        good_flinkdeployment("team-b", "orders"),
    ]
}

fn audit_cmd() -> Command {
    let mut c = Command::cargo_bin("flink-admission").unwrap();
    c.arg("audit").env_remove("KUBECONFIG");
    c
}

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn reports_of(yaml: &[u8]) -> Vec<Value> {
    serde_saphyr::from_multiple(std::str::from_utf8(yaml).unwrap()).unwrap()
}

/// The results of a report for the object `name`.
fn results_for<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resources"][0]["name"] == name)
        .collect()
}

#[test]
fn an_export_is_judged_like_the_cluster_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, export(&cluster_objects())).unwrap();

    let out = audit_cmd()
        .args(["--format", "json", "--from"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an error was found");
    let doc = stdout_json(&out);
    let findings = doc["findings"].as_array().unwrap();
    let flk201 = findings
        .iter()
        .find(|f| f["rule"] == "FLK201")
        .expect("the privileged JobManager is reported");
    assert_eq!(flk201["object"]["name"], "flink-jobmanager");
    assert_eq!(flk201["file"], file.display().to_string());
    // placed in the export: the `privileged: true` line of the List's item
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .nth(flk201["line"].as_u64().unwrap() as usize - 1);
    assert!(line.unwrap().contains("privileged: true"), "{line:?}");
    assert!(
        !findings.iter().any(|f| f["object"]["name"] == "orders"),
        "the good FlinkDeployment has no finding: {findings:?}"
    );
    assert_eq!(doc["summary"]["objects"], 2, "{}", doc["summary"]);

    let out = audit_cmd()
        .args(["--format", "sarif", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif = stdout_json(&out);
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "FLK201")
    );

    let out = audit_cmd().arg("--from").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(human.contains("FLK201"), "{human}");
    assert!(human.contains("in 2 object(s)"), "{human}");

    // --namespace: only team-b is judged, and it is clean
    let out = audit_cmd()
        .args(["--format", "json", "-n", "team-b", "--from"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stdout_json(&out)["summary"]["objects"], 1);
}

#[test]
fn yaml_prints_the_policy_reports_it_would_write() {
    let dir = tempfile::tempdir().unwrap();
    // many documents instead of a List this time
    let docs: Vec<String> = cluster_objects()
        .iter()
        .map(|o| serde_saphyr::to_string(o).unwrap())
        .collect();
    std::fs::write(dir.path().join("export.yaml"), docs.join("---\n")).unwrap();
    let out = audit_cmd()
        .args(["--format", "yaml", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let reports = reports_of(&out.stdout);
    assert_eq!(
        reports.len(),
        2,
        "one report per namespace with audited objects"
    );
    let a = &reports[0];
    assert_eq!(a["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    assert_eq!(a["kind"], "PolicyReport");
    assert_eq!(a["metadata"]["namespace"], "team-a");
    assert_eq!(a["metadata"]["name"], "flink-admission");
    let jm = results_for(a, "flink-jobmanager");
    let fail = jm.iter().find(|r| r["policy"] == "FLK201").unwrap();
    assert_eq!(fail["rule"], "privileged-container");
    assert_eq!(fail["result"], "fail");
    assert_eq!(fail["severity"], "high");
    assert_eq!(fail["resources"][0]["kind"], "Deployment");
    assert_eq!(
        fail["properties"]["pointer"],
        "/spec/template/spec/containers/0/securityContext/privileged"
    );
    assert!(
        fail["message"]
            .as_str()
            .unwrap()
            .contains("container 'jobmanager' is privileged")
    );
    let b = &reports[1];
    assert_eq!(b["metadata"]["namespace"], "team-b");
    let orders = results_for(b, "orders");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["result"], "pass");
    assert_eq!(
        b["summary"],
        json!({"pass": 1, "fail": 0, "warn": 0, "error": 0, "skip": 0})
    );
}

#[test]
fn unreadable_exports_are_input_errors_not_findings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: List\nitems:\n- {metadata: {name: x}}\n",
    )
    .unwrap();
    let out = audit_cmd().arg("--from").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("item 0 has no apiVersion or kind"), "{text}");
    let out = audit_cmd()
        .args(["--from", "/nonexistent/export.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `flink-admission audit ARGS` against `api` (its kubeconfig in `dir`).
async fn live(api: &ApiServer, dir: &Path, args: &[&str]) -> std::process::Output {
    let kubeconfig = api.kubeconfig(dir);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::cargo_bin("flink-admission")
            .unwrap()
            .arg("audit")
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn report_in(api: &ApiServer, ns: &str) -> Option<Value> {
    api.reports()
        .get(&(
            "policyreports".to_string(),
            ns.to_string(),
            "flink-admission".to_string(),
        ))
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_audit_writes_reports_clears_fixed_results_and_writes_nothing_twice() {
    let api = ApiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    api.apply_all(cluster_objects().iter().map(apiserver::as_in_a_cluster));
    // more than a page of ConfigMaps: the list is paginated
    api.apply_all((0..120).map(|i| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i}"), "namespace": "team-a"}, "data": {}})
    }));
    // someone else's report is never touched
    api.put_report(
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
        "metadata": {"name": "kyverno", "namespace": "team-a",
            "labels": {"app.kubernetes.io/managed-by": "kyverno"}},
        "results": []}),
    );

    let lists_before = api.lists();
    let out = live(&api, dir.path(), &["--format", "json", "--write-reports"]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("listed 120 configmaps"),
        "progress: {stderr}"
    );
    assert!(
        stderr.contains("2 created, 0 replaced, 0 deleted"),
        "{stderr}"
    );
    assert!(
        api.lists() - lists_before >= 3,
        "120 ConfigMaps at 50 a page take 3 list calls"
    );
    let doc = stdout_json(&out);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "FLK201")
    );
    let a = report_in(&api, "team-a").expect("team-a's report");
    assert!(
        results_for(&a, "flink-jobmanager")
            .iter()
            .any(|r| r["policy"] == "FLK201" && r["result"] == "fail")
    );
    let b = report_in(&api, "team-b").expect("team-b's report");
    assert_eq!(b["summary"]["pass"], 1);

    // the same cluster again: nothing is written
    let writes = api.report_writes();
    let out = live(
        &api,
        dir.path(),
        &["--format", "json", "--write-reports", "-q"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        api.report_writes(),
        writes,
        "unchanged reports are not written"
    );
    assert!(
        out.stderr.is_empty(),
        "-q: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // fixed: its FLK201 result is gone on the next scan, replaced by a pass
    api.apply(apiserver::as_in_a_cluster(&privileged_jobmanager(
        "team-a",
        "flink-jobmanager",
        false,
    )));
    let out = live(&api, dir.path(), &["--format", "json", "--write-reports"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 created, 1 replaced, 0 deleted"),
        "{stderr}"
    );
    let a = report_in(&api, "team-a").unwrap();
    let jm = results_for(&a, "flink-jobmanager");
    assert!(!jm.iter().any(|r| r["policy"] == "FLK201"), "{jm:?}");
    assert_eq!(a["summary"]["fail"].as_u64().unwrap() as usize, {
        jm.iter().filter(|r| r["result"] == "fail").count()
    });

    // gone from team-b: its report is deleted, Kyverno's in team-a stays
    api.delete(
        "flink.apache.org/v1beta1",
        "FlinkDeployment",
        "team-b",
        "orders",
    );
    let out = live(&api, dir.path(), &["--format", "json", "--write-reports"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 created, 0 replaced, 1 deleted"),
        "{stderr}"
    );
    assert!(report_in(&api, "team-b").is_none());
    assert!(report_in(&api, "team-a").is_some());
    assert!(api.reports().contains_key(&(
        "policyreports".into(),
        "team-a".into(),
        "kyverno".into()
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_audit_of_one_namespace_touches_only_its_report() {
    let api = ApiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    api.apply_all(cluster_objects().iter().map(apiserver::as_in_a_cluster));
    let out = live(
        &api,
        dir.path(),
        &["--format", "yaml", "-n", "team-b", "--write-reports"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = reports_of(&out.stdout);
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0]["metadata"]["namespace"], "team-b");
    assert!(report_in(&api, "team-b").is_some());
    assert!(report_in(&api, "team-a").is_none());

    // without the CRDs, --write-reports fails and says what to install
    api.remove_report_crds();
    let out = live(&api, dir.path(), &["--write-reports", "-q"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("deploy/overlays/policy-reports"),
        "{stderr}"
    );
}

/// The continuous scan: the server's cache (fed by watchers), judged, reports written only
/// when they change, duration and counts in the metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_the_watched_cache_updates_reports_in_place_and_metrics() {
    let api = ApiServer::start().await;
    api.apply_all(cluster_objects().iter().map(apiserver::as_in_a_cluster));
    let cache = ClusterCache::new(cluster::watched());
    let tasks = cache.start(api.client());
    while !cache.synced() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = Metrics::new();
    let engine = std::sync::Arc::new(
        flink_admission::engine::Engine::embedded(admission::webhook_settings(None).unwrap())
            .unwrap(),
    );
    let client = api.client();
    let (counts, written) =
        server::audit::scan_cache(Some(&client), &cache, engine.clone(), &metrics)
            .await
            .unwrap();
    assert_eq!(counts.objects, 2);
    assert!(counts.errors >= 1);
    assert_eq!(written.created, 2);
    let (_, again) = server::audit::scan_cache(Some(&client), &cache, engine.clone(), &metrics)
        .await
        .unwrap();
    assert_eq!(again.total(), 0, "nothing changed, nothing written");
    let text = metrics.encode();
    for line in [
        "flink_admission_audit_scans_total{result=\"success\"} 2",
        "flink_admission_audit_objects 2",
        "flink_admission_audit_report_writes_total{verb=\"create\"} 2",
        "flink_admission_audit_report_writes_total{verb=\"replace\"} 0",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(
        text.contains("flink_admission_audit_duration_seconds "),
        "{text}"
    );
    assert!(text.contains(&format!(
        "flink_admission_audit_findings{{severity=\"error\"}} {}",
        counts.errors
    )));
    for t in tasks {
        t.abort();
    }
}

// ------------------------------------------------------------ enforcement modes, over TLS

const HOST: &str = "flink-admission.webhooks.svc";

fn review(obj: &Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "4f1c", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": obj["metadata"]["namespace"], "name": obj["metadata"]["name"],
            "operation": "CREATE", "userInfo": {"username": "alice"}, "object": obj}})
}

/// `/validate` of the privileged JobManager by a webhook serving with `config` over TLS.
async fn validate_with(config: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("test webhook CA", 30).unwrap();
    let pair = ca
        .issue(
            &certs::service_names("flink-admission", "webhooks"),
            Usage::Server,
            30,
        )
        .unwrap();
    secret_volume::publish(&dir.path().join("secret"), &pair, 1);
    let mut opts = ServeOptions::new(secret_volume::files(&dir.path().join("secret")));
    opts.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    opts.probe_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    opts.cluster = false;
    opts.shutdown_delay = Duration::ZERO;
    opts.settings = admission::webhook_settings(Some(config)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(opts, None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .resolve(HOST, running.addr)
        .no_proxy()
        .build()
        .unwrap();
    let obj = privileged_jobmanager("team-a", "flink-jobmanager", true);
    let resp = client
        .post(format!("https://{HOST}:{}/validate", running.addr.port()))
        .json(&review(&obj))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.unwrap();
    let _ = stop.send(());
    running.wait().await;
    v["response"].clone()
}

fn warnings(r: &Value) -> Vec<String> {
    r["warnings"]
        .as_array()
        .map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforcement_modes_change_the_admission_response() {
    // enforce (the default): denied, FLK201 named
    let r = validate_with("").await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r["status"]["message"].as_str().unwrap().contains("FLK201"));
    assert!(
        r["auditAnnotations"]["denied-rules"]
            .as_str()
            .unwrap()
            .contains("FLK201")
    );

    // warn, for every family: allowed, each error a warning saying it would be denied
    let r = validate_with("enforcement:\n  FLK: warn\n").await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        warnings(&r)
            .iter()
            .any(|w| w.starts_with(&format!("FLK201: {}", admission::review::WARN_PREFIX))),
        "{r}"
    );
    assert!(r["auditAnnotations"].get("denied-rules").is_none());
    assert!(
        r["auditAnnotations"]["warn-only-rules"]
            .as_str()
            .unwrap()
            .contains("FLK201")
    );

    // audit: allowed, no warning about it, recorded in the audit annotations only
    let r = validate_with("enforcement:\n  FLK: audit\n").await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(!warnings(&r).iter().any(|w| w.starts_with("FLK201")), "{r}");
    assert!(
        r["auditAnnotations"]["audit-only-rules"]
            .as_str()
            .unwrap()
            .contains("FLK201")
    );
    assert!(
        r["auditAnnotations"]["rules"]
            .as_str()
            .unwrap()
            .contains("FLK201")
    );

    // per family: security warns, the rest is enforced as before
    let r = validate_with("enforcement:\n  FLK: enforce\n  FLK2: warn\n").await;
    let denied = r["auditAnnotations"]["denied-rules"].as_str().unwrap_or("");
    assert!(!denied.contains("FLK2"), "{r}");
    assert!(
        r["auditAnnotations"]["warn-only-rules"]
            .as_str()
            .unwrap()
            .contains("FLK201")
    );
    assert_eq!(r["allowed"], denied.is_empty(), "{r}");
}

#[test]
fn the_continuous_audit_needs_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("flink-admission")
        .unwrap()
        .args(["serve", "--dev", "--audit-interval", "1h", "--dev-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--audit-interval scans the cluster"),
        "{stderr}"
    );
    let out = Command::cargo_bin("flink-admission")
        .unwrap()
        .args(["serve", "--dev", "--audit-interval", "1y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unit must be ms, s, m or h"));
}
