//! A test Kubernetes API server (axum, plain HTTP on 127.0.0.1) that speaks the list/watch
//! protocol the way kube-apiserver does for the kinds the webhook's cluster cache watches:
//!
//! - `GET /api/v1/{plural}` and `GET /apis/{group}/{version}/{plural}`: lists ordered by
//!   namespace/name, paginated with `limit` and `continue`, carrying the list's
//!   `resourceVersion`; an expired `continue` token is `410 Gone`;
//! - the same with `watch=true`: a chunked stream of `ADDED`/`MODIFIED`/`DELETED` events after
//!   the given `resourceVersion`, `BOOKMARK`s when `allowWatchBookmarks=true`, closed after
//!   `timeoutSeconds`; a `resourceVersion` older than the retained history is a `200` whose only
//!   event is an `ERROR` carrying a `410` Status (etcd compaction), which forces a re-list;
//! - `GET /apis`: API discovery (`--platform auto`).
//!
//! Faults: [`ApiServer::drop_connections`] cuts every open watch mid-stream,
//! [`ApiServer::compact`] forgets the history, [`ApiServer::go_down`] stops listening
//! (connections refused) and [`ApiServer::come_up`] listens again on the same port.
//! [`ApiServer::hold_watches`] keeps new watch requests waiting while a test changes the world,
//! so "while the watches were down" does not depend on how fast clients reconnect.
//! A resource can be made absent (a CRD not installed: `404`).
//!
//! Tests wait on what the server saw, not on the clock: [`ApiServer::until`] resolves when the
//! server's [`Activity`] (requests served, watches open and from where) meets a condition,
//! woken by every change of it; its timeout is only a safety net against a hung test.
//!
//! Objects are stored the way the API server stores them: with a `uid`, a
//! `creationTimestamp`, a `generation` and `managedFields` (field ownership for every object,
//! whoever wrote it). [`as_in_a_cluster`] adds what objects of a real cluster carry besides:
//! the API server's defaults, `kubectl apply`'s last-applied annotation and a controller's
//! `status`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flink_admission::flink::kinds::{self, Kind};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};

/// One change to the world, as a watch event.
#[derive(Clone, Debug)]
struct Change {
    rv: u64,
    /// `group/plural`
    resource: String,
    kind: &'static str,
    object: Value,
}

#[derive(Default)]
struct World {
    rv: u64,
    /// `group/plural` -> (namespace, name) -> object
    objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    /// Changes after `compacted`, oldest first.
    log: VecDeque<Change>,
    /// Watches from a resourceVersion below this get 410.
    compacted: u64,
    /// Resources this server does not serve (404).
    absent: BTreeSet<String>,
    /// API groups discovery lists besides the built-in ones.
    extra_groups: Vec<String>,
    /// PolicyReports (`wgpolicyk8s.io`): (plural, namespace, name) -> report. Written by
    /// clients (create, replace, delete), not watched.
    reports: BTreeMap<(String, String, String), Value>,
    /// The PolicyReport CRDs are not installed (404).
    no_report_crds: bool,
}

/// What the server has served so far and what is open now; every change is published to
/// [`ApiServer::until`].
#[derive(Clone, Debug, Default)]
pub struct Activity {
    /// List requests served (each page counts).
    pub lists: usize,
    /// Watch requests served (a `410` answer counts).
    pub watches: usize,
    /// `410 Gone` answers sent (watch `ERROR` events and expired `continue` tokens).
    pub expired: usize,
    /// The watch streams open now.
    pub open: Vec<OpenWatchInfo>,
    /// PolicyReport writes served: creates, replaces, deletes.
    pub report_writes: usize,
    next_id: u64,
}

/// One open watch stream.
#[derive(Clone, Debug)]
pub struct OpenWatchInfo {
    id: u64,
    /// `group/plural`
    pub resource: String,
    /// The value of [`ApiServer::drop_connections`]'s counter when the watch was opened: a
    /// watch opened after cut `n` has `cut >= n`.
    pub cut: u64,
    /// The `resourceVersion` the watch started from (0: "any").
    pub from: u64,
}

impl Activity {
    /// Watch streams open now.
    pub fn open_watches(&self) -> usize {
        self.open.len()
    }

    /// Resources with an open watch that was opened after cut `cut`.
    pub fn watching_since_cut(&self, cut: u64) -> usize {
        self.resources(|w| w.cut >= cut)
    }

    /// Resources with an open watch that started at resourceVersion `rv` or later.
    pub fn watching_from(&self, rv: u64) -> usize {
        self.resources(|w| w.from >= rv)
    }

    fn resources(&self, f: impl Fn(&OpenWatchInfo) -> bool) -> usize {
        self.open
            .iter()
            .filter(|w| f(w))
            .map(|w| w.resource.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    }
}

struct Shared {
    world: Mutex<World>,
    changes: broadcast::Sender<Change>,
    /// Bumped to cut every open watch.
    cut: watch::Sender<u64>,
    /// True while new watch requests are held back ([`ApiServer::hold_watches`]).
    hold: watch::Sender<bool>,
    activity: watch::Sender<Activity>,
    bookmark_every: Duration,
}

/// How long [`ApiServer::until`] waits before it fails a test: only a safety net against a
/// test that would otherwise hang; the waits end on the event, however loaded the machine.
pub const SAFETY_NET: Duration = Duration::from_secs(300);

/// New watch requests wait while this lives ([`ApiServer::hold_watches`]).
pub struct HeldWatches<'a>(&'a ApiServer);

impl Drop for HeldWatches<'_> {
    fn drop(&mut self) {
        self.0.shared.hold.send_replace(false);
    }
}

/// The test API server. Dropping it stops it.
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn resource_key(k: &Kind) -> String {
    format!("{}/{}", k.group, k.plural)
}

fn lock(m: &Mutex<World>) -> MutexGuard<'_, World> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(t) = t.take()
        {
            t.abort();
        }
        self.shared.cut.send_modify(|g| *g += 1);
    }
}

impl ApiServer {
    /// Listen on a free port of 127.0.0.1.
    pub async fn start() -> ApiServer {
        ApiServer::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Listen on `addr` (a port a test reserved while the server was "down").
    pub async fn start_on(addr: SocketAddr) -> ApiServer {
        let (changes, _) = broadcast::channel(1 << 16);
        let (cut, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            world: Mutex::new(World {
                rv: 100,
                compacted: 100,
                ..World::default()
            }),
            changes,
            cut,
            hold: watch::channel(false).0,
            activity: watch::channel(Activity::default()).0,
            bookmark_every: Duration::from_millis(300),
        });
        let (task, addr) = serve(shared.clone(), addr).await;
        ApiServer {
            shared,
            addr,
            task: Mutex::new(Some(task)),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig for this server (plain HTTP, a bearer token) in `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        write_kubeconfig(dir, &self.url())
    }

    /// A kube client for this server.
    pub fn client(&self) -> kube::Client {
        client_for(&self.url())
    }

    /// Stop listening: new connections are refused, open watches are cut.
    pub fn go_down(&self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(t) = t.take()
        {
            t.abort();
        }
        self.drop_connections();
    }

    /// Listen again on the same port, with the same objects and history.
    pub async fn come_up(&self) {
        let (task, _) = serve(self.shared.clone(), self.addr).await;
        if let Ok(mut t) = self.task.lock() {
            *t = Some(task);
        }
    }

    /// Cut every open watch mid-stream (the connection is reset, no final chunk). Returns the
    /// number of this cut: watches opened after it have [`OpenWatchInfo::cut`] at least that.
    /// A change made after the cut is never sent on a stream it cut.
    pub fn drop_connections(&self) -> u64 {
        let mut cut = 0;
        self.shared.cut.send_modify(|g| {
            *g += 1;
            cut = *g;
        });
        cut
    }

    /// New watch requests wait (they are not refused) until the returned guard is dropped:
    /// changes made meanwhile happen while no watch is open, however fast clients reconnect.
    pub fn hold_watches(&self) -> HeldWatches<'_> {
        self.shared.hold.send_replace(true);
        HeldWatches(self)
    }

    /// Forget the history (etcd compaction): a watch from an older resourceVersion gets an
    /// `ERROR` event with a 410 Status, a `continue` token from before is 410 Gone. Returns
    /// the oldest resourceVersion a watch may still start from.
    pub fn compact(&self) -> u64 {
        let mut w = lock(&self.shared.world);
        // writes elsewhere in the cluster moved the resourceVersion on, then etcd compacted
        w.rv += 1;
        w.compacted = w.rv;
        w.log.clear();
        w.compacted
    }

    /// The resource is not served (its CRD is not installed): 404.
    pub fn set_absent(&self, group: &str, plural: &str) {
        lock(&self.shared.world)
            .absent
            .insert(format!("{group}/{plural}"));
    }

    /// Discovery also lists this API group (`security.openshift.io` for OpenShift).
    pub fn add_group(&self, group: &str) {
        lock(&self.shared.world)
            .extra_groups
            .push(group.to_string());
    }

    /// Create or replace an object (ADDED or MODIFIED). Returns its resourceVersion.
    pub fn apply(&self, obj: Value) -> u64 {
        self.apply_all(std::iter::once(obj))
    }

    /// Create or replace many objects at once.
    pub fn apply_all(&self, objs: impl IntoIterator<Item = Value>) -> u64 {
        let mut w = lock(&self.shared.world);
        let mut last = w.rv;
        for mut obj in objs {
            let kind = kind_of(&obj);
            w.rv += 1;
            let rv = w.rv;
            let key = identity(&obj);
            let meta = obj
                .as_object_mut()
                .expect("an object")
                .entry("metadata")
                .or_insert_with(|| json!({}));
            meta["resourceVersion"] = json!(rv.to_string());
            if meta.get("uid").is_none() {
                meta["uid"] = json!(format!("6f1c2a9e-4b7d-4e3a-9c1f-{rv:012}"));
            }
            if meta.get("creationTimestamp").is_none() {
                meta["creationTimestamp"] = json!("2026-11-30T01:02:03Z");
            }
            if meta.get("managedFields").is_none() {
                let fields = fields_v1(&obj);
                obj["metadata"]["managedFields"] = json!([{
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": obj["apiVersion"].clone(),
                    "time": "2026-11-30T01:02:03Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": fields,
                }]);
            }
            let resource = resource_key(kind);
            let existed = w
                .objects
                .entry(resource.clone())
                .or_default()
                .insert(key, obj.clone())
                .is_some();
            let change = Change {
                rv,
                resource,
                kind: if existed { "MODIFIED" } else { "ADDED" },
                object: obj,
            };
            w.log.push_back(change.clone());
            let _ = self.shared.changes.send(change);
            last = rv;
        }
        last
    }

    /// Delete an object (DELETED, with its last state at a new resourceVersion).
    pub fn delete(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> bool {
        let k = kinds::find(group_of(api_version), kind).expect("a known kind");
        let mut w = lock(&self.shared.world);
        let resource = resource_key(k);
        let Some(mut obj) = w
            .objects
            .get_mut(&resource)
            .and_then(|m| m.remove(&(namespace.to_string(), name.to_string())))
        else {
            return false;
        };
        w.rv += 1;
        let rv = w.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let change = Change {
            rv,
            resource,
            kind: "DELETED",
            object: obj,
        };
        w.log.push_back(change.clone());
        let _ = self.shared.changes.send(change);
        true
    }

    /// The PolicyReports (`PolicyReport` and `ClusterPolicyReport`) clients have written, by
    /// (plural, namespace, name).
    pub fn reports(&self) -> BTreeMap<(String, String, String), Value> {
        lock(&self.shared.world).reports.clone()
    }

    /// PolicyReport writes served so far (creates, replaces, deletes).
    pub fn report_writes(&self) -> usize {
        self.shared.activity.borrow().report_writes
    }

    /// Store a PolicyReport as if someone else (or an earlier run) had written it.
    pub fn put_report(&self, report: Value) {
        let mut w = lock(&self.shared.world);
        w.rv += 1;
        let rv = w.rv;
        let mut report = report;
        report["metadata"]["resourceVersion"] = json!(rv.to_string());
        let key = report_key(&report);
        w.reports.insert(key, report);
    }

    /// The PolicyReport CRDs are not installed: their API answers 404.
    pub fn remove_report_crds(&self) {
        lock(&self.shared.world).no_report_crds = true;
    }

    /// How many list and watch requests were served, watches open now, 410s sent.
    pub fn lists(&self) -> usize {
        self.shared.activity.borrow().lists
    }
    pub fn watches(&self) -> usize {
        self.shared.activity.borrow().watches
    }
    pub fn open_watches(&self) -> usize {
        self.shared.activity.borrow().open_watches()
    }
    pub fn expired(&self) -> usize {
        self.shared.activity.borrow().expired
    }

    /// Wait until the server's activity meets `cond` (checked now and on every change of
    /// it). Fails the test, showing the activity, only after [`SAFETY_NET`].
    pub async fn until(&self, what: &str, mut cond: impl FnMut(&Activity) -> bool) {
        let mut rx = self.shared.activity.subscribe();
        let met =
            tokio::time::timeout(SAFETY_NET, async { rx.wait_for(|a| cond(a)).await.is_ok() })
                .await;
        assert!(
            met == Ok(true),
            "the test API server never saw {what} within {SAFETY_NET:?}: {:?}",
            *self.shared.activity.borrow()
        );
    }
}

/// A kubeconfig pointing at `url`.
pub fn write_kubeconfig(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\nusers:\n- name: u\n  user:\n    token: test-token\ncontexts:\n- name: test\n  context: {{cluster: test, user: u}}\ncurrent-context: test\n"
        ),
    )
    .expect("write the kubeconfig");
    path
}

/// A kube client for `url` (no TLS).
pub fn client_for(url: &str) -> kube::Client {
    let config = kube::Config::new(url.parse().expect("a URL"));
    kube::Client::try_from(config).expect("a client")
}

/// The `fieldsV1` of a manager that owns every field of `obj` (the API server's structured
/// merge format: `f:` per field, `k:` per list item keyed by name, `.` for the item itself).
fn fields_v1(obj: &Value) -> Value {
    fn walk(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "status"))
                    .filter(|(k, _)| !matches!(k.as_str(), "resourceVersion" | "uid"))
                    .map(|(k, v)| (format!("f:{k}"), walk(v)))
                    .collect(),
            ),
            Value::Array(items) if items.iter().all(|i| i.get("name").is_some()) => Value::Object(
                items
                    .iter()
                    .map(|i| {
                        let mut f = walk(i);
                        f["."] = json!({});
                        (format!("k:{{\"name\":{}}}", i["name"]), f)
                    })
                    .collect(),
            ),
            _ => json!({}),
        }
    }
    walk(obj)
}

/// `obj` as a real cluster holds it: applied with `kubectl apply` (the last-applied
/// annotation, a copy of the object as applied), defaulted by the API server (pod template
/// and Deployment defaults) and with the `status` its controller writes.
pub fn as_in_a_cluster(obj: &Value) -> Value {
    let mut o = obj.clone();
    let applied = obj.to_string();
    o["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!(applied);
    let kind = o["kind"].as_str().unwrap_or("").to_string();
    let template = match kind.as_str() {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => Some("/spec/template/spec"),
        "Job" => Some("/spec/template/spec"),
        _ => None,
    };
    if let Some(ptr) = template
        && let Some(spec) = o.pointer_mut(ptr).and_then(Value::as_object_mut)
    {
        for (k, v) in [
            ("dnsPolicy", json!("ClusterFirst")),
            ("restartPolicy", json!("Always")),
            ("schedulerName", json!("default-scheduler")),
            ("securityContext", json!({})),
            ("terminationGracePeriodSeconds", json!(30)),
        ] {
            spec.entry(k).or_insert(v);
        }
        for c in spec
            .get_mut("containers")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            for (k, v) in [
                ("imagePullPolicy", json!("IfNotPresent")),
                ("resources", json!({})),
                ("terminationMessagePath", json!("/dev/termination-log")),
                ("terminationMessagePolicy", json!("File")),
            ] {
                c.entry(k).or_insert(v);
            }
            for p in c
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                p.entry("protocol").or_insert(json!("TCP"));
            }
        }
    }
    let replicas = o["spec"]["replicas"].as_i64().unwrap_or(1);
    match kind.as_str() {
        "Deployment" => {
            if let Some(spec) = o["spec"].as_object_mut() {
                spec.entry("progressDeadlineSeconds").or_insert(json!(600));
                spec.entry("revisionHistoryLimit").or_insert(json!(10));
                spec.entry("strategy")
                    .or_insert(json!({"type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
            }
            o["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("1");
            o["status"] = json!({
                "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "lastUpdateTime": "2026-11-30T01:03:00Z",
                     "lastTransitionTime": "2026-11-30T01:03:00Z", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability."},
                    {"type": "Progressing", "status": "True", "lastUpdateTime": "2026-11-30T01:03:00Z",
                     "lastTransitionTime": "2026-11-30T01:02:03Z", "reason": "NewReplicaSetAvailable",
                     "message": "ReplicaSet \"flink-jobmanager-5d4f8b7c9\" has successfully progressed."}]});
        }
        "StatefulSet" => {
            o["status"] = json!({"observedGeneration": 1, "replicas": replicas,
                "readyReplicas": replicas, "currentReplicas": replicas, "updatedReplicas": replicas,
                "currentRevision": "flink-7c9d", "updateRevision": "flink-7c9d",
                "collisionCount": 0, "availableReplicas": replicas});
        }
        "Service" => {
            if let Some(spec) = o["spec"].as_object_mut() {
                spec.entry("clusterIP").or_insert(json!("10.96.12.34"));
                spec.entry("clusterIPs").or_insert(json!(["10.96.12.34"]));
                spec.entry("internalTrafficPolicy")
                    .or_insert(json!("Cluster"));
                spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
                spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
                spec.entry("sessionAffinity").or_insert(json!("None"));
            }
            o["status"] = json!({"loadBalancer": {}});
        }
        "Namespace" => {
            o["spec"] = json!({"finalizers": ["kubernetes"]});
            o["status"] = json!({"phase": "Active"});
        }
        "FlinkDeployment" => {
            o["status"] = json!({"jobStatus": {"state": "RUNNING", "jobName": "job",
                "jobId": "7d2e1f0a9b8c3b0e2c4a9d8f4e1ba6c5", "startTime": "1764464523000"},
                "lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY",
                "reconciliationStatus": {"state": "DEPLOYED", "reconciliationTimestamp": 1764464523000_i64}});
        }
        _ => {}
    }
    o
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

fn kind_of(obj: &Value) -> &'static Kind {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    kinds::find(group_of(api_version), kind)
        .unwrap_or_else(|| panic!("the test API server does not know {api_version} {kind}"))
}

fn identity(obj: &Value) -> (String, String) {
    (
        obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> (tokio::task::JoinHandle<()>, SocketAddr) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("test API server on {addr}: {e}"));
    let addr = listener.local_addr().expect("local address");
    let app = Router::new()
        .route("/apis", get(discovery))
        .route("/api/{version}/{plural}", get(core))
        .route("/api/{version}/namespaces/{ns}/{plural}", get(core_in))
        .route(
            "/apis/{group}/{version}/{plural}",
            get(grouped).post(report_create),
        )
        .route(
            "/apis/{group}/{version}/{plural}/{name}",
            get(report_get).put(report_put).delete(report_delete),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}",
            get(grouped_in).post(report_create),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}",
            get(report_get).put(report_put).delete(report_delete),
        )
        .route("/version", get(version))
        .with_state(shared);
    // One task owns the listener and every connection: aborting it refuses new connections
    // and resets the open ones, as a stopped API server does.
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let svc = hyper_util::service::TowerToHyperService::new(app.clone());
            conns.spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
            while conns.try_join_next().is_some() {}
        }
    });
    (task, addr)
}

async fn version() -> Response {
    json_response(
        StatusCode::OK,
        json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-test"}),
    )
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let extra = lock(&shared.world).extra_groups.clone();
    let mut groups: Vec<String> = kinds::all()
        .filter(|k| !k.group.is_empty())
        .map(|k| k.group.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    groups.extend(extra);
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| {
            let versions: Vec<&str> = kinds::all()
                .filter(|k| k.group == g)
                .map(|k| k.version)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let versions = if versions.is_empty() {
                vec!["v1"]
            } else {
                versions
            };
            json!({
                "name": g,
                "versions": versions.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect::<Vec<_>>(),
                "preferredVersion": {"groupVersion": format!("{g}/{}", versions[0]), "version": versions[0]},
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

async fn core(
    State(shared): State<Arc<Shared>>,
    UrlPath((version, plural)): UrlPath<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    resource(shared, String::new(), version, plural, parse_query(q)).await
}

async fn grouped(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, plural)): UrlPath<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if group == REPORT_GROUP {
        return report_list(&shared, &version, &plural, None, &parse_query(q));
    }
    resource(shared, group, version, plural, parse_query(q)).await
}

/// A list in one namespace (`/api/v1/namespaces/{ns}/configmaps`); not watched.
async fn core_in(
    State(shared): State<Arc<Shared>>,
    UrlPath((version, ns, plural)): UrlPath<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let mut q = parse_query(q);
    q.insert(NAMESPACE_PARAM.into(), ns);
    resource(shared, String::new(), version, plural, q).await
}

async fn grouped_in(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, ns, plural)): UrlPath<(String, String, String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = parse_query(q);
    if group == REPORT_GROUP {
        return report_list(&shared, &version, &plural, Some(&ns), &q);
    }
    let mut q = q;
    q.insert(NAMESPACE_PARAM.into(), ns);
    resource(shared, group, version, plural, q).await
}

/// The namespace of a namespaced list, passed on as a query parameter no client sends.
const NAMESPACE_PARAM: &str = " namespace";

const REPORT_GROUP: &str = "wgpolicyk8s.io";
const REPORT_VERSION: &str = "v1alpha2";

fn report_key(r: &Value) -> (String, String, String) {
    let plural = if r["kind"] == "ClusterPolicyReport" {
        "clusterpolicyreports"
    } else {
        "policyreports"
    };
    (
        plural.to_string(),
        r["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        r["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    )
}

/// Whether the report API is served for `version`/`plural` (namespaced or not, as it should be).
fn report_api(shared: &Shared, version: &str, plural: &str, namespaced: bool) -> bool {
    let expected = if namespaced {
        "policyreports"
    } else {
        "clusterpolicyreports"
    };
    version == REPORT_VERSION && plural == expected && !lock(&shared.world).no_report_crds
}

/// `labelSelector=k=v` (one equality, all this test server needs).
fn selected(r: &Value, q: &BTreeMap<String, String>) -> bool {
    match q.get("labelSelector").and_then(|s| s.split_once('=')) {
        Some((k, v)) => r["metadata"]["labels"][k] == v,
        None => true,
    }
}

fn report_list(
    shared: &Shared,
    version: &str,
    plural: &str,
    ns: Option<&str>,
    q: &BTreeMap<String, String>,
) -> Response {
    let namespaced = plural == "policyreports";
    if !report_api(shared, version, plural, namespaced) {
        return not_found();
    }
    shared.activity.send_modify(|a| a.lists += 1);
    let w = lock(&shared.world);
    let items: Vec<Value> = w
        .reports
        .iter()
        .filter(|((p, n, _), r)| p == plural && ns.is_none_or(|ns| ns == n) && selected(r, q))
        .map(|(_, r)| r.clone())
        .collect();
    let kind = if namespaced {
        "PolicyReportList"
    } else {
        "ClusterPolicyReportList"
    };
    json_response(
        StatusCode::OK,
        json!({"kind": kind, "apiVersion": format!("{REPORT_GROUP}/{REPORT_VERSION}"),
            "metadata": {"resourceVersion": w.rv.to_string()}, "items": items}),
    )
}

fn report_at(
    shared: &Shared,
    (group, version, plural): (&str, &str, &str),
    ns: Option<&str>,
    name: &str,
) -> Option<(String, String, String)> {
    if group != REPORT_GROUP || !report_api(shared, version, plural, ns.is_some()) {
        return None;
    }
    Some((
        plural.to_string(),
        ns.unwrap_or("").to_string(),
        name.to_string(),
    ))
}

/// Create (`name` none) or replace a report; a replace must carry the stored resourceVersion.
fn report_write(
    shared: &Shared,
    at: (&str, &str, &str),
    ns: Option<&str>,
    name: Option<&str>,
    body: Bytes,
) -> Response {
    let Ok(mut r) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            status(400, "BadRequest", "not JSON"),
        );
    };
    let body_name = r["metadata"]["name"].as_str().unwrap_or("").to_string();
    let Some(key) = report_at(shared, at, ns, name.unwrap_or(&body_name)) else {
        return not_found();
    };
    let mut w = lock(&shared.world);
    let existing = w.reports.get(&key).cloned();
    match (name, &existing) {
        (None, Some(_)) => {
            return json_response(
                StatusCode::CONFLICT,
                status(409, "AlreadyExists", "already exists"),
            );
        }
        (Some(_), None) => return not_found(),
        (Some(_), Some(e))
            if e["metadata"]["resourceVersion"] != r["metadata"]["resourceVersion"] =>
        {
            return json_response(
                StatusCode::CONFLICT,
                status(409, "Conflict", "the object has been modified"),
            );
        }
        _ => {}
    }
    w.rv += 1;
    r["metadata"]["resourceVersion"] = json!(w.rv.to_string());
    if let Some(ns) = ns {
        r["metadata"]["namespace"] = json!(ns);
    }
    w.reports.insert(key, r.clone());
    drop(w);
    shared.activity.send_modify(|a| a.report_writes += 1);
    let code = if name.is_none() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_response(code, r)
}

fn report_read(shared: &Shared, at: (&str, &str, &str), ns: Option<&str>, name: &str) -> Response {
    let Some(key) = report_at(shared, at, ns, name) else {
        return not_found();
    };
    match lock(&shared.world).reports.get(&key) {
        Some(r) => json_response(StatusCode::OK, r.clone()),
        None => not_found(),
    }
}

fn report_remove(
    shared: &Shared,
    at: (&str, &str, &str),
    ns: Option<&str>,
    name: &str,
) -> Response {
    let Some(key) = report_at(shared, at, ns, name) else {
        return not_found();
    };
    let removed = lock(&shared.world).reports.remove(&key);
    match removed {
        Some(r) => {
            shared.activity.send_modify(|a| a.report_writes += 1);
            json_response(StatusCode::OK, r)
        }
        None => not_found(),
    }
}

/// The path parameters of a report URL: group, version, plural, and the namespace and name
/// where the URL has them.
type Params = UrlPath<BTreeMap<String, String>>;

fn parts(p: &BTreeMap<String, String>) -> ((&str, &str, &str), Option<&str>, Option<&str>) {
    let get = |k: &str| p.get(k).map(String::as_str);
    (
        (
            get("group").unwrap_or(""),
            get("version").unwrap_or(""),
            get("plural").unwrap_or(""),
        ),
        get("ns"),
        get("name"),
    )
}

async fn report_create(
    State(shared): State<Arc<Shared>>,
    UrlPath(p): Params,
    body: Bytes,
) -> Response {
    let (at, ns, _) = parts(&p);
    report_write(&shared, at, ns, None, body)
}

async fn report_get(State(shared): State<Arc<Shared>>, UrlPath(p): Params) -> Response {
    let (at, ns, name) = parts(&p);
    report_read(&shared, at, ns, name.unwrap_or(""))
}

async fn report_put(
    State(shared): State<Arc<Shared>>,
    UrlPath(p): Params,
    body: Bytes,
) -> Response {
    let (at, ns, name) = parts(&p);
    report_write(&shared, at, ns, Some(name.unwrap_or("")), body)
}

async fn report_delete(State(shared): State<Arc<Shared>>, UrlPath(p): Params) -> Response {
    let (at, ns, name) = parts(&p);
    report_remove(&shared, at, ns, name.unwrap_or(""))
}

/// `a=b&c=d`, percent-decoded (`+` is a space).
fn parse_query(q: Option<String>) -> BTreeMap<String, String> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(v) => {
                            out.push(v);
                            i += 3;
                            continue;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b'+' => out.push(b' '),
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

fn json_response(code: StatusCode, body: Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn resource(
    shared: Arc<Shared>,
    group: String,
    version: String,
    plural: String,
    q: BTreeMap<String, String>,
) -> Response {
    let Some(kind) = kinds::all().find(|k| k.group == group && k.plural == plural) else {
        return json_response(
            StatusCode::NOT_FOUND,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
    };
    let key = resource_key(kind);
    if version != kind.version || lock(&shared.world).absent.contains(&key) {
        return json_response(
            StatusCode::NOT_FOUND,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
    }
    if matches!(q.get("watch").map(String::as_str), Some("true" | "1")) {
        // held back while a test changes the world with every watch down
        let mut hold = shared.hold.subscribe();
        let _ = hold.wait_for(|held| !*held).await;
        watch_resource(shared, kind, key, q)
    } else {
        list(&shared, kind, &key, &q)
    }
}

/// Items of core kinds come without apiVersion/kind, as kube-apiserver sends them; custom
/// resources keep theirs.
fn list_item(kind: &Kind, obj: &Value) -> Value {
    let mut o = obj.clone();
    if !kind.group.contains('.')
        && let Some(m) = o.as_object_mut()
    {
        m.remove("apiVersion");
        m.remove("kind");
    }
    o
}

fn list(shared: &Shared, kind: &Kind, key: &str, q: &BTreeMap<String, String>) -> Response {
    shared.activity.send_modify(|a| a.lists += 1);
    let w = lock(&shared.world);
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    // continue token: "<list rv>/<namespace>/<name>" of the last item sent
    let (list_rv, after) = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let mut parts = token.splitn(3, '/');
            let rv = parts.next().and_then(|r| r.parse::<u64>().ok());
            let ns = parts.next();
            let name = parts.next();
            match (rv, ns, name) {
                (Some(rv), Some(ns), Some(name)) => {
                    if rv < w.compacted {
                        shared.activity.send_modify(|a| a.expired += 1);
                        return json_response(
                            StatusCode::GONE,
                            status(
                                410,
                                "Expired",
                                "The provided continue parameter is too old to display a consistent list result.",
                            ),
                        );
                    }
                    (rv, Some((ns.to_string(), name.to_string())))
                }
                _ => {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        status(400, "BadRequest", "invalid continue token"),
                    );
                }
            }
        }
        None => (w.rv, None),
    };
    let empty = BTreeMap::new();
    let objects = w.objects.get(key).unwrap_or(&empty);
    let mut items = Vec::new();
    let mut more = false;
    let range: Box<dyn Iterator<Item = (&(String, String), &Value)>> = match &after {
        Some(k) => Box::new(
            objects
                .range(k.clone()..)
                .skip_while(move |(key, _)| *key == k),
        ),
        None => Box::new(objects.iter()),
    };
    let only = q.get(NAMESPACE_PARAM);
    let range = range.filter(|((ns, _), _)| only.is_none_or(|o| o == ns));
    let mut last = None;
    for (k, o) in range {
        if items.len() == limit {
            more = true;
            break;
        }
        items.push(list_item(kind, o));
        last = Some(k.clone());
    }
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if more && let Some((ns, name)) = last {
        metadata["continue"] = json!(format!("{list_rv}/{ns}/{name}"));
        metadata["remainingItemCount"] =
            json!(objects.range((ns, name)..).count().saturating_sub(1));
    }
    json_response(
        StatusCode::OK,
        json!({
            "kind": format!("{}List", kind.kind),
            "apiVersion": kind.api_version(),
            "metadata": metadata,
            "items": items,
        }),
    )
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// Counts a watch stream as open while it lives.
struct OpenWatch(Arc<Shared>, u64);

impl OpenWatch {
    fn open(shared: Arc<Shared>, resource: &str, cut: u64, from: u64) -> OpenWatch {
        let mut id = 0;
        shared.activity.send_modify(|a| {
            id = a.next_id;
            a.next_id += 1;
            a.open.push(OpenWatchInfo {
                id,
                resource: resource.to_string(),
                cut,
                from,
            });
        });
        OpenWatch(shared, id)
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        let id = self.1;
        self.0
            .activity
            .send_modify(|a| a.open.retain(|w| w.id != id));
    }
}

fn watch_resource(
    shared: Arc<Shared>,
    kind: &'static Kind,
    key: String,
    q: BTreeMap<String, String>,
) -> Response {
    let bookmarks = q.get("allowWatchBookmarks").map(String::as_str) == Some("true");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let from = q
        .get("resourceVersion")
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(0);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    // subscribe before reading the history, so nothing falls between the two; the cut
    // receiver starts at the current cut: any later cut ends this stream, however late its
    // task first runs
    let mut changes = shared.changes.subscribe();
    let mut cut = shared.cut.subscribe();
    let cut_at_open = *cut.borrow();
    let (backlog, mut sent_rv, gone) = {
        let w = lock(&shared.world);
        if from == 0 {
            // "any": the current state as ADDED events
            let items: Vec<Bytes> = w
                .objects
                .get(&key)
                .into_iter()
                .flat_map(|m| m.values())
                .map(|o| event_line("ADDED", o))
                .collect();
            (items, w.rv, false)
        } else if from < w.compacted {
            (Vec::new(), w.rv, true)
        } else {
            let items: Vec<Bytes> = w
                .log
                .iter()
                .filter(|c| c.rv > from && c.resource == key)
                .map(|c| event_line(c.kind, &c.object))
                .collect();
            (items, w.rv, false)
        }
    };
    if gone {
        shared.activity.send_modify(|a| {
            a.watches += 1;
            a.expired += 1;
        });
        let line = event_line(
            "ERROR",
            &status(
                410,
                "Expired",
                &format!("too old resource version: {from} ({})", sent_rv),
            ),
        );
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            line,
        )
            .into_response();
    }
    shared.activity.send_modify(|a| a.watches += 1);
    let guard = OpenWatch::open(shared.clone(), &key, cut_at_open, from);
    tokio::spawn(async move {
        let _guard = guard;
        for line in backlog {
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
        let end = tokio::time::sleep(timeout);
        tokio::pin!(end);
        let mut tick = tokio::time::interval(shared.bookmark_every);
        tick.tick().await;
        loop {
            // biased, the cut first: a change made after a cut is never sent on the cut stream
            tokio::select! {
                biased;
                _ = cut.changed() => {
                    let _ = tx
                        .send(Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "connection dropped by the test API server",
                        )))
                        .await;
                    return;
                }
                _ = tx.closed() => return,
                _ = &mut end => return, // clean end of the stream, as at timeoutSeconds
                _ = tick.tick(), if bookmarks => {
                    // every change up to sent_rv has been seen: the bookmark may say so
                    let bm = json!({
                        "kind": kind.kind,
                        "apiVersion": kind.api_version(),
                        "metadata": {"resourceVersion": sent_rv.to_string()},
                    });
                    if tx.send(Ok(event_line("BOOKMARK", &bm))).await.is_err() {
                        return;
                    }
                }
                c = changes.recv() => match c {
                    Ok(c) => {
                        if c.rv <= sent_rv {
                            continue; // in the backlog already
                        }
                        sent_rv = c.rv;
                        if c.resource == key && tx.send(Ok(event_line(c.kind, &c.object))).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => {
                        let _ = tx.send(Err(std::io::Error::other("watch lagged"))).await;
                        return;
                    }
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}
