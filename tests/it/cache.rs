//! The cluster cache against a test API server that serves lists and watches
//! (`tests/it/common/apiserver.rs`): kube-rs watchers, the real router, the engine. Readiness waits
//! for the first sync; changes made after start reach the next reviews; dropped watches resume,
//! a `410 Gone` forces a re-list; an API server unreachable at start or later makes the cache
//! not synced (readiness off, the fail mode answers) until it is back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use flink_admission::admission::{FailMode, Policy};
use flink_admission::engine::Context;
use flink_admission::server::cluster::{self, ClusterCache};
use flink_admission::server::metrics::Metrics;
use flink_admission::server::{AppState, probe_router, webhook_router};
use serde_json::{Value, json};

use crate::common::apiserver;
use crate::common::synced_cache as synced;
use crate::common::{call, engine, fixture};
use apiserver::ApiServer;

fn state(cache: &ClusterCache, fail_mode: FailMode) -> Arc<AppState> {
    Arc::new(AppState::new(
        engine(),
        Arc::new(cache.clone()),
        Policy {
            fail_mode,
            ..Policy::default()
        },
        Arc::new(Metrics::new()),
        Duration::from_secs(4),
    ))
}

/// [`call`] with the body as text.
async fn call_text(
    router: &Router,
    method: &str,
    uri: &str,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let (status, bytes) = call(router, method, uri, body).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn readyz(state: &Arc<AppState>) -> (StatusCode, String) {
    call_text(&probe_router(state.clone()), "GET", "/readyz", Vec::new()).await
}

/// `/validate` of `review`: the `response` object.
async fn validate(state: &Arc<AppState>, review: &Value) -> Value {
    let (status, body) = call_text(
        &webhook_router(state.clone(), 3 << 20),
        "POST",
        "/validate",
        review.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["response"].clone()
}

fn rules(response: &Value) -> String {
    response["auditAnnotations"]["rules"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// For what only the cache shows (it has no notification): check every 25 ms. The deadline is
/// a safety net against a hung test, not a measure of speed: waits that the test API server
/// can report use [`ApiServer::until`].
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + apiserver::SAFETY_NET;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The JobManager Deployment of the recorded UPDATE review.
fn jobmanager() -> Value {
    fixture("jobmanager-deployment-update.json")["request"]["object"].clone()
}

/// Another standalone JobManager of the same cluster (same labels, same ConfigMap).
fn second_jobmanager() -> Value {
    let mut o = jobmanager();
    o["metadata"]["name"] = json!("flink-jobmanager-blue");
    o["metadata"]["uid"] = json!("blue");
    o
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn config_map(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
        "data": {"config.yaml": "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\njobmanager.memory.process.size: 1600m\n",
                 "log4j-console.properties": "rootLogger.level = INFO\n"}})
}

/// The JobManager with a Recreate rollout: only cross-object rules can fire on it.
fn recreate_review() -> Value {
    let mut r = fixture("jobmanager-deployment-update.json");
    r["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
    r
}

struct Watching {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn watch(cache: &ClusterCache, client: kube::Client) -> Watching {
    Watching {
        tasks: cache.start(client),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_the_first_sync_and_reviews_follow_the_watch() {
    let api = ApiServer::start().await;
    // more ConfigMaps than one list page (the watcher asks for 500): the list is paginated
    api.apply_all((0..1200).map(|i| config_map(&format!("team-{}", i % 7), &format!("cm-{i}"))));
    api.apply_all([namespace("streaming"), second_jobmanager()]);
    let cache = ClusterCache::new(cluster::watched());
    let st = state(&cache, FailMode::Open);

    let (code, body) = readyz(&st).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("cache not synced"), "{body}");
    let before = validate(&st, &recreate_review()).await;
    assert!(
        before["warnings"].to_string().contains("fail-open"),
        "{before}"
    );

    let _w = watch(&cache, api.client());
    eventually("the first sync", || async {
        readyz(&st).await.0 == StatusCode::OK
    })
    .await;
    assert!(cache.synced());
    assert_eq!(cache.list("", "ConfigMap", None).len(), 1200);
    assert_eq!(cache.list("", "ConfigMap", Some("team-3")).len(), 171);
    let watched = cluster::watched().len();
    assert!(
        api.lists() >= watched + 2,
        "1,200 ConfigMaps take three pages: {} lists for {watched} resources",
        api.lists()
    );
    // items come without apiVersion/kind on the wire; the store sets them
    let jms = cache.list("apps", "Deployment", Some("streaming"));
    assert_eq!(jms.len(), 1);
    assert_eq!(jms[0]["apiVersion"], "apps/v1");
    assert_eq!(jms[0]["kind"], "Deployment");

    // synced: the other JobManager is a duplicate (FLK104), the mounted ConfigMap is missing
    let r = validate(&st, &recreate_review()).await;
    let fired = rules(&r);
    assert!(fired.contains("FLK104") && fired.contains("FLK302"), "{r}");
    assert!(r["auditAnnotations"].get("fail-mode").is_none(), "{r}");

    // a ConfigMap created after start is seen by a later review
    api.apply(config_map("streaming", "flink-config"));
    eventually("the new ConfigMap", || async {
        !rules(&validate(&st, &recreate_review()).await).contains("FLK302")
    })
    .await;
    assert_eq!(cache.list("", "ConfigMap", None).len(), 1201);

    // a deleted JobManager stops counting as a duplicate
    assert!(api.delete(
        "apps/v1",
        "Deployment",
        "streaming",
        "flink-jobmanager-blue"
    ));
    eventually("the deletion", || async {
        !rules(&validate(&st, &recreate_review()).await).contains("FLK104")
    })
    .await;
    assert!(
        cache
            .list("apps", "Deployment", Some("streaming"))
            .is_empty()
    );
    // bookmarks kept the watches open all along: no list since the first sync
    let lists = api.lists();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(api.lists(), lists);
    assert_eq!(api.open_watches(), watched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_resume_and_410_gone_forces_a_relist() {
    let api = ApiServer::start().await;
    api.apply_all([namespace("streaming"), second_jobmanager()]);
    let cache = ClusterCache::new(cluster::watched()).with_stale_after(Duration::from_secs(10));
    let st = state(&cache, FailMode::Closed);
    let _w = watch(&cache, api.client());
    let watched = cluster::watched().len();
    // a watcher opens its watch only after its list was applied: every watch open is synced
    api.until("a watch of every resource", |a| {
        a.watching_from(0) == watched && a.open_watches() == watched
    })
    .await;
    assert!(cache.synced(), "{:?}", cache.sync_state());
    let lists = api.lists();

    // every watch is cut mid-stream; a change lands while they are down (held: no watcher can
    // be back before it)
    let cut = {
        let _held = api.hold_watches();
        let cut = api.drop_connections();
        api.apply(config_map("streaming", "flink-config"));
        cut
    };
    api.until("every watch to come back", |a| {
        a.watching_since_cut(cut) == watched && a.open_watches() == watched
    })
    .await;
    assert_eq!(api.lists(), lists, "a dropped watch resumes, no re-list");
    // (the resumed watch sends the change; the cache applies it as it reads the stream)
    eventually("the change made while the watches were cut", || async {
        cache.list("", "ConfigMap", Some("streaming")).len() == 1
    })
    .await;
    assert_eq!(readyz(&st).await.0, StatusCode::OK);

    // the history is compacted while the watches are down: 410 Gone, a re-list, and the
    // JobManager deleted meanwhile is gone from the cache
    let compacted = {
        let _held = api.hold_watches();
        api.drop_connections();
        assert!(api.delete(
            "apps/v1",
            "Deployment",
            "streaming",
            "flink-jobmanager-blue"
        ));
        api.compact()
    };
    // a watch from after the compaction follows a re-list the cache has applied
    api.until(
        "every watch to re-list after 410 Gone and watch again",
        |a| a.watching_from(compacted) == watched && a.open_watches() == watched,
    )
    .await;
    assert!(
        api.expired() >= watched,
        "every resumed watch is answered 410 Gone: {} for {watched} resources",
        api.expired()
    );
    assert!(
        api.lists() >= lists + watched,
        "every resource re-listed: {} lists after {lists}",
        api.lists()
    );
    assert!(
        cache
            .list("apps", "Deployment", Some("streaming"))
            .is_empty()
    );
    let r = validate(&st, &recreate_review()).await;
    assert!(!rules(&r).contains("FLK104"), "{r}");
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(readyz(&st).await.0, StatusCode::OK);
}

/// A free port on 127.0.0.1 with nothing listening (yet).
fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_unreachable_at_start_and_later_follows_the_fail_mode() {
    let addr = free_port();
    let cache = ClusterCache::new(cluster::watched()).with_stale_after(Duration::from_millis(500));
    let closed = state(&cache, FailMode::Closed);
    let open = state(&cache, FailMode::Open);
    let _w = watch(&cache, apiserver::client_for(&format!("http://{addr}")));

    // nothing listens: not ready; closed denies, open allows with a warning
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, body) = readyz(&closed).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let r = validate(&closed, &recreate_review()).await;
    assert_eq!(r["allowed"], false, "{r}");
    let msg = r["status"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains(cluster::NOT_SYNCED) && msg.contains("fail-closed"),
        "{r}"
    );
    let r = validate(&open, &recreate_review()).await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].to_string().contains("fail-open"), "{r}");
    assert_eq!(r["auditAnnotations"]["fail-mode"], "fail-open", "{r}");

    // the API server comes up: ready, and the closed mode answers from the cache
    let api = ApiServer::start_on(addr).await;
    api.apply_all([
        namespace("streaming"),
        config_map("streaming", "flink-config"),
    ]);
    eventually("readiness once the API server is up", || async {
        readyz(&closed).await.0 == StatusCode::OK
    })
    .await;
    let r = validate(&closed, &recreate_review()).await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["auditAnnotations"].get("fail-mode").is_none(), "{r}");

    // it goes away: after stale_after the cache stops answering, readiness goes off
    api.go_down();
    eventually("readiness to go off", || async {
        readyz(&closed).await.0 == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(!cache.is_complete("apps", "Deployment"));
    assert_eq!(cache.incomplete_note(), Some(cluster::STALE));
    let r = validate(&closed, &recreate_review()).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(cluster::STALE),
        "{r}"
    );
    let r = validate(&open, &recreate_review()).await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].to_string().contains(cluster::STALE), "{r}");

    // meanwhile a second JobManager was created; it is back: a re-list finds it
    api.apply(second_jobmanager());
    api.come_up().await;
    eventually("readiness once the API server is back", || async {
        readyz(&closed).await.0 == StatusCode::OK
    })
    .await;
    let r = validate(&closed, &recreate_review()).await;
    assert!(rules(&r).contains("FLK104"), "{r}");
    assert!(r["auditAnnotations"].get("fail-mode").is_none(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uninstalled_crd_counts_as_synced_and_empty() {
    let api = ApiServer::start().await;
    api.set_absent("flink.apache.org", "flinkdeployments");
    let cache = ClusterCache::new(cluster::watched());
    let _w = watch(&cache, api.client());
    eventually("the sync without the CRD", || async { cache.synced() }).await;
    assert!(cache.is_complete("flink.apache.org", "FlinkDeployment"));
    assert!(
        cache
            .list("flink.apache.org", "FlinkDeployment", None)
            .is_empty()
    );
}

/// The cache over full objects: what `list` of the cache gives, with each object replaced by
/// the full object (as the API server serves it) it was pruned from.
struct Unpruned<'a> {
    cache: &'a ClusterCache,
    full: std::collections::HashMap<(String, String, String), Arc<Value>>,
}

fn identity(o: &Value) -> (String, String, String) {
    let s = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

impl Context for Unpruned<'_> {
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.cache
            .list(group, kind, namespace)
            .iter()
            .map(|o| self.full[&identity(o)].clone())
            .collect()
    }
    fn is_complete(&self, group: &str, kind: &str) -> bool {
        self.cache.is_complete(group, kind)
    }
    fn incomplete_note(&self) -> Option<&str> {
        self.cache.incomplete_note()
    }
    fn unknown_reason(&self) -> &str {
        self.cache.unknown_reason()
    }
}

/// Every rule fixture (failing and passing) loaded into a synced cache as a real cluster holds
/// it (managedFields, last-applied, status, defaults), every object of it judged as a webhook
/// subject: the findings against the pruned cache are the findings against the full objects.
#[test]
fn pruned_cached_objects_give_the_findings_the_full_objects_give() {
    use flink_admission::engine::rule::Platform;
    use flink_admission::engine::{Engine, Settings, Subject};

    let webhook = engine();
    let openshift = Engine::embedded(Settings {
        platform: Platform::Openshift,
        ..Settings::default()
    })
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = std::collections::BTreeSet::new();
    let mut subjects = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("FLK"))
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let mut inputs = flink_admission::lint::Inputs::default();
            inputs.add("x.yaml", &std::fs::read_to_string(&file).unwrap());
            let full: Vec<Value> = inputs
                .objects
                .iter()
                .filter(|o| o.value["metadata"]["name"].is_string())
                .map(|o| {
                    let mut v = apiserver::as_in_a_cluster(&o.value);
                    if v["metadata"].get("namespace").is_none() && v["kind"] != "Namespace" {
                        v["metadata"]["namespace"] = json!("streaming");
                    }
                    v["metadata"]["uid"] = json!("3b0e2c4a-9d8f-4e1b-a6c5-7d2e1f0a9b8c");
                    v["metadata"]["resourceVersion"] = json!("918273");
                    v["metadata"]["generation"] = json!(3);
                    v["metadata"]["creationTimestamp"] = json!("2026-11-30T01:02:03Z");
                    v["metadata"]["managedFields"] = json!([{"manager": "kubectl", "operation": "Update",
                        "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]);
                    v
                })
                .collect();
            let cache = synced::synced_cache(&full);
            assert!(cache.synced());
            let unpruned = Unpruned {
                cache: &cache,
                full: full
                    .iter()
                    .map(|o| (identity(o), Arc::new(o.clone())))
                    .collect(),
            };
            for held in cluster::watched()
                .iter()
                .flat_map(|r| cache.list(r.group, r.kind, None))
            {
                let text = held.to_string();
                for gone in [
                    "managedFields",
                    "last-applied-configuration",
                    "\"status\"",
                    "resourceVersion",
                    "creationTimestamp",
                ] {
                    assert!(
                        !text.contains(gone),
                        "{}: {gone} kept: {text}",
                        file.display()
                    );
                }
            }
            for subject in &full {
                subjects += 1;
                for e in [&webhook, &openshift] {
                    let pruned = without_edit_targets(e.check(&Subject::offline(subject, &cache)));
                    let whole =
                        without_edit_targets(e.check(&Subject::offline(subject, &unpruned)));
                    assert_eq!(
                        pruned,
                        whole,
                        "{}: {} judged with pruned vs full cached objects",
                        file.display(),
                        identity(subject).2
                    );
                    seen.extend(pruned.findings.iter().map(|f| f.rule.clone()));
                }
            }
        }
    }
    assert!(subjects > 100, "{subjects} subjects");
    // the cross-object rules fired with the cache as their world
    for rule in [
        "FLK104", "FLK106", "FLK107", "FLK302", "FLK304", "FLK306", "FLK230",
    ] {
        assert!(seen.contains(rule), "{rule} never fired: {seen:?}");
    }
}

/// A fix that edits another object (only `flink-lint fix` applies those; the webhook leaves
/// them out) carries the object the context handed out, which is the pruned or the full copy
/// by construction: compare everything else.
fn without_edit_targets(
    mut report: flink_admission::engine::Report,
) -> flink_admission::engine::Report {
    for f in &mut report.findings {
        if let Some(fix) = &mut f.fix {
            for edit in &mut fix.edits {
                edit.target = None;
            }
        }
    }
    report
}

/// The cache answers a lookup by name from its (namespace, name) index, decoding that object
/// alone, with the answer the engine's default (walking the namespace's list) gives: the object
/// in the namespace asked for, else none; any namespace when none is asked for.
#[test]
fn lookups_by_name_use_the_index_and_agree_with_the_list() {
    use flink_admission::engine::context::Resolved;

    struct ListOnly<'a>(&'a ClusterCache);
    impl Context for ListOnly<'_> {
        fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
            self.0.list(group, kind, namespace)
        }
        fn is_complete(&self, group: &str, kind: &str) -> bool {
            self.0.is_complete(group, kind)
        }
    }
    let found = |r: Resolved| match r {
        Resolved::Found(o) => Some(identity(&o)),
        Resolved::None => None,
        Resolved::Ambiguous(_) => panic!("ambiguous"),
    };
    let cache = ClusterCache::new(cluster::watched());
    let mut objects = vec![namespace("a"), namespace("b")];
    for (ns, name) in [("a", "flink-config"), ("b", "flink-config"), ("b", "other")] {
        objects.push(config_map(ns, name));
    }
    cache.fill(objects);
    // One lookup by name decodes one object, not the two of its namespace.
    let store = cache.store("", "ConfigMap").unwrap();
    assert_eq!(store.held_decoded(), 0);
    assert!(matches!(
        cache.resolve("", "ConfigMap", Some("b"), "other"),
        Resolved::Found(_)
    ));
    assert_eq!(store.held_decoded(), 1);
    let list_only = ListOnly(&cache);
    for ns in [Some("a"), Some("b"), Some("c"), None] {
        for name in ["flink-config", "other", "missing"] {
            let ours = found(cache.resolve("", "ConfigMap", ns, name));
            let default = found(list_only.resolve("", "ConfigMap", ns, name));
            assert_eq!(ours, default, "{ns:?} {name}");
        }
    }
    assert_eq!(
        found(cache.resolve("", "ConfigMap", Some("a"), "flink-config")),
        Some(("ConfigMap".into(), "a".into(), "flink-config".into()))
    );
    assert_eq!(
        found(cache.resolve("", "ConfigMap", Some("a"), "other")),
        None
    );
    // A kind the cache does not watch has nothing to find.
    assert_eq!(found(cache.resolve("", "Pod", Some("a"), "x")), None);
}

/// Reviews move off the async workers once a store kept as text holds more objects than stay
/// decoded: listing a namespace of it may decode each object again.
#[test]
fn a_cache_too_large_to_stay_decoded_reviews_on_the_blocking_pool() {
    use flink_admission::server::ContextProvider;
    let cache = ClusterCache::new(cluster::watched());
    cache.fill((0..cluster::HOT).map(|i| config_map("a", &format!("cm-{i}"))));
    assert!(
        !cache.lookups_may_block(),
        "{} objects stay decoded",
        cluster::HOT
    );
    // Namespaces stay decoded whatever their number.
    cache.fill((0..cluster::HOT + 1).map(|i| namespace(&format!("ns-{i}"))));
    assert!(!cache.lookups_may_block());
    cache.fill((0..=cluster::HOT).map(|i| config_map("a", &format!("cm-{i}"))));
    assert!(cache.lookups_may_block());
}
