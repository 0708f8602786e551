//! Cluster context: kube-rs watchers (one list+watch per resource, never a GET per request)
//! feeding in-memory stores. [`ClusterCache`] implements the engine's [`Context`] over them.
//!
//! What a store holds per object is what the rules can read, computed once when the event
//! arrives ([`prune`]: no `managedFields`, no `last-applied-configuration` copy, no `status`,
//! none of the bookkeeping metadata), kept as compact JSON text (Namespaces, which rules list
//! whole, stay decoded). A lookup hands out the decoded tree (`Arc<Value>`); the most recently
//! decoded objects of each store stay decoded (a bounded set, [`HOT`]), so the reviews of a
//! namespace decode its objects once, not on every lookup, and the memory of the cache grows
//! with the JSON size of what it holds, not with the size of a `serde_json::Value` tree for
//! every object of the cluster.
//!
//! Until every store has synced, `is_complete` is false for every kind and `incomplete_note`
//! says why, so the admission layer applies the configured fail-open/fail-closed policy.
//! A store whose watch has failed for longer than the cache's `stale_after` (the API server
//! unreachable, RBAC taken away) counts as not synced again, with its own note, until a
//! re-list succeeds: the cache does not answer "absent" from a picture it can no longer update.

use crate::flink::pointer::Pointer as _;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use serde_json::Value;

use crate::engine::Context;
use crate::engine::context::Resolved;
use crate::engine::rule::Platform;
use crate::flink::kinds::{self, Kind, Watch};
use crate::flink::object;

/// The note the engine and the warnings carry while the cache is not synced.
pub const NOT_SYNCED: &str = "the webhook's cluster cache has not synced yet";

/// The note while a store has lost contact with the API server for longer than `stale_after`.
pub const STALE: &str =
    "the webhook's cluster cache has lost contact with the API server and is re-listing";

/// How long watch errors may go on before the cache stops answering from what it holds.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);

/// Errors further apart than this belong to different outages (the watcher's longest backoff
/// is 30 s, jittered).
const QUIET: Duration = Duration::from_secs(45);

/// Why an object the cache does not hold cannot be judged.
pub const UNKNOWN_REASON: &str = "the webhook's cluster cache cannot answer for it (not synced yet, or a kind it does not watch)";

/// The annotation OpenShift puts on every namespace (the SCC uid range).
pub const OPENSHIFT_UID_RANGE: &str = "openshift.io/sa.scc.uid-range";

/// One watched resource: an entry of the kinds table ([`kinds::watched`]).
pub type Resource = &'static Kind;

/// What the webhook watches (the ClusterRole grants get, list, watch on exactly these).
/// Everything else is answered "unknown" (`is_complete` false), never "absent".
pub fn watched() -> Vec<Resource> {
    kinds::watched().collect()
}

/// A ReplicaSet a Deployment made, a Job a CronJob made, a Pod of any workload: its
/// controller, itself a workload in the cache, stands for it. Storing it too would make every
/// JobManager Deployment look like a duplicate of its own ReplicaSet.
fn owned_by_workload(obj: &Value) -> bool {
    obj.at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|o| {
            o.get("controller").and_then(Value::as_bool) == Some(true)
                && kinds::workload_kind(
                    object::group_of(object::str_at(o, "/apiVersion").unwrap_or("")),
                    object::str_at(o, "/kind").unwrap_or(""),
                )
                .is_some()
        })
}

type Key = (String, String);

/// How many decoded objects each store keeps alive after the lookups that decoded them (the
/// objects of the namespaces reviewed last). Beyond it an object is decoded again when looked
/// up: a namespace with more objects of one kind than this costs a decode per lookup.
pub const HOT: usize = 512;

/// Objects per page of a (re)list. A page is held whole, decoded, while its objects are pruned
/// and stored; with the objects of a real cluster (managedFields, last-applied annotations)
/// kube's default of 500 left the process at 50.8 MiB RSS with 10,000 cached objects (peak
/// 72.7 MiB), 50 at 33.5-34.3 MiB (peak 35.1 MiB), for 200 list calls instead of 20 (`cargo
/// bench --bench cache -- --rss-only`).
pub const LIST_PAGE_SIZE: u32 = 50;

/// Metadata no rule reads of another object: bookkeeping the API server writes.
const UNREAD_METADATA: &[&str] = &[
    "managedFields",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Annotations no rule reads: `kubectl apply`'s copy of the whole object, Deployment revisions.
const UNREAD_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// Drop from a cluster object what no rule reads when it is another object of a subject's world:
/// `status`, the API server's bookkeeping metadata (`managedFields`, `uid`, `resourceVersion`,
/// `generation`, `creationTimestamp`, `selfLink`) and the annotations in [`UNREAD_ANNOTATIONS`].
/// Everything else (labels, annotations, owner references, the whole `spec` and `data`) stays:
/// the findings a subject gets are the same with the pruned object as with the full one.
pub fn prune(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    map.shift_remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in UNREAD_METADATA {
            meta.shift_remove(*k);
        }
        let mut no_annotations = false;
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for k in UNREAD_ANNOTATIONS {
                ann.shift_remove(*k);
            }
            no_annotations = ann.is_empty();
        }
        if no_annotations {
            meta.shift_remove("annotations");
        }
    }
}

/// One cached object: its pruned JSON text and the decoded tree while something holds it, or,
/// for the kinds that are listed whole ([`Store::keeps_trees`]), the tree itself.
enum Entry {
    Tree(Arc<Value>),
    Text {
        json: Box<str>,
        decoded: Mutex<Weak<Value>>,
    },
}

impl Entry {
    fn text(obj: &Value) -> Entry {
        Entry::Text {
            json: obj.to_string().into_boxed_str(),
            decoded: Mutex::new(Weak::new()),
        }
    }

    /// The decoded object: the live one if any, else decoded now and kept in `hot`.
    fn get(&self, hot: &Mutex<VecDeque<Arc<Value>>>) -> Option<Arc<Value>> {
        let (json, decoded) = match self {
            Entry::Tree(v) => return Some(v.clone()),
            Entry::Text { json, decoded } => (json, decoded),
        };
        let mut decoded = decoded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = decoded.upgrade() {
            return Some(v);
        }
        // the text was written by `Entry::text` from a `Value`: it always parses back
        let v = Arc::new(serde_json::from_str::<Value>(json).ok()?);
        *decoded = Arc::downgrade(&v);
        drop(decoded);
        let mut hot = hot.lock().unwrap_or_else(|p| p.into_inner());
        if hot.len() >= HOT {
            hot.pop_front();
        }
        hot.push_back(v.clone());
        Some(v)
    }
}

#[derive(Default)]
struct State {
    /// Ordered by namespace, then name: a namespace's objects are one range, so a lookup costs
    /// what that namespace holds, not what the whole cluster holds.
    objects: BTreeMap<Key, Entry>,
    /// Objects of a (re)list in progress, swapped in on `InitDone`.
    buffer: Option<BTreeMap<Key, Entry>>,
}

/// The objects of one resource, fed by watcher events.
pub struct Store {
    pub resource: Resource,
    state: RwLock<State>,
    /// The objects decoded last, kept alive (at most [`HOT`]).
    hot: Mutex<VecDeque<Arc<Value>>>,
    synced: AtomicBool,
    /// Lost contact for longer than `stale_after`; cleared by the next complete list.
    stale: AtomicBool,
}

fn key(obj: &Value) -> Key {
    (
        object::namespace(obj).unwrap_or("").to_string(),
        object::str_at(obj, "/metadata/name")
            .unwrap_or("")
            .to_string(),
    )
}

impl Store {
    pub fn new(resource: Resource) -> Store {
        Store {
            resource,
            state: RwLock::new(State::default()),
            hot: Mutex::new(VecDeque::new()),
            synced: AtomicBool::new(false),
            stale: AtomicBool::new(false),
        }
    }

    /// Feed one watcher event, the way a kube-rs reflector store is fed.
    pub fn apply(&self, event: Event<Value>) {
        if let Event::Apply(o) | Event::InitApply(o) | Event::Delete(o) = &event
            && !o.is_object()
        {
            return;
        }
        let mut st = match self.state.write() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        match event {
            Event::Init => st.buffer = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                if owned_by_workload(&o) {
                    return;
                }
                let o = self.prepare(o);
                let k = key(&o);
                let e = self.entry(o);
                st.buffer.get_or_insert_with(BTreeMap::new).insert(k, e);
            }
            Event::InitDone => {
                if let Some(b) = st.buffer.take() {
                    st.objects = b;
                    // what the old list decoded may be gone or changed
                    self.hot.lock().unwrap_or_else(|p| p.into_inner()).clear();
                }
                self.synced.store(true, Ordering::Release);
                self.stale.store(false, Ordering::Release);
            }
            Event::Apply(o) => {
                if owned_by_workload(&o) {
                    st.objects.remove(&key(&o));
                    return;
                }
                let o = self.prepare(o);
                let k = key(&o);
                let e = self.entry(o);
                st.objects.insert(k, e);
            }
            Event::Delete(o) => {
                st.objects.remove(&key(&o));
            }
        }
    }

    /// The resource does not exist in this cluster (CRD not installed): empty and complete.
    pub fn mark_absent(&self) {
        if let Ok(mut st) = self.state.write() {
            st.objects.clear();
            st.buffer = None;
        }
        self.synced.store(true, Ordering::Release);
        self.stale.store(false, Ordering::Release);
    }

    /// Lost contact: stop answering from the objects held until a re-list completes.
    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }

    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Acquire)
    }

    /// Listed once, and not stale since.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire) && !self.is_stale()
    }

    pub fn len(&self) -> usize {
        self.state.read().map(|s| s.objects.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many decoded objects the store keeps alive (at most [`HOT`]): what its lookups
    /// have decoded since the last (re)list.
    pub fn held_decoded(&self) -> usize {
        self.hot.lock().map(|h| h.len()).unwrap_or(0)
    }

    /// The bytes of JSON text the store holds (its objects as kept, pruned; trees not counted).
    pub fn text_bytes(&self) -> usize {
        self.state
            .read()
            .map(|s| {
                s.objects
                    .values()
                    .map(|e| match e {
                        Entry::Text { json, .. } => json.len(),
                        Entry::Tree(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Ok(st) = self.state.read() else {
            return Vec::new();
        };
        let Some(ns) = namespace else {
            return st
                .objects
                .values()
                .filter_map(|e| e.get(&self.hot))
                .collect();
        };
        // The namespace's own objects, and those without a namespace (which match any).
        let range = |ns: &str| {
            st.objects
                .range((ns.to_string(), String::new())..)
                .take_while(move |((n, _), _)| n == ns)
                .filter_map(|(_, e)| e.get(&self.hot))
                .collect::<Vec<_>>()
        };
        let mut out = range(ns);
        if !ns.is_empty() {
            out.extend(range(""));
        }
        out
    }

    /// The object named `name` in `namespace` (`""`: cluster-scoped), decoded alone: the
    /// index is by namespace and name, so a lookup by name never decodes the namespace.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let st = self.state.read().ok()?;
        st.objects
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|e| e.get(&self.hot))
    }

    /// Namespaces: the rules list them all (the platform, the uid ranges), and they are small
    /// once pruned, so they stay decoded; every other kind is kept as text.
    fn keeps_trees(&self) -> bool {
        self.resource.group.is_empty() && self.resource.kind == "Namespace"
    }

    fn entry(&self, o: Value) -> Entry {
        if self.keeps_trees() {
            Entry::Tree(Arc::new(o))
        } else {
            Entry::text(&o)
        }
    }

    /// List items come without `apiVersion`/`kind`: set them. Then [`prune`].
    fn prepare(&self, mut o: Value) -> Value {
        if let Some(map) = o.as_object_mut() {
            map.insert(
                "apiVersion".into(),
                Value::String(self.resource.api_version()),
            );
            map.insert("kind".into(), Value::String(self.resource.kind.to_string()));
        }
        prune(&mut o);
        o
    }
}

/// Every store; cheap to clone; the engine's [`Context`] for the webhook.
#[derive(Clone)]
pub struct ClusterCache {
    stores: Arc<Vec<Arc<Store>>>,
    stale_after: Duration,
}

impl ClusterCache {
    pub fn new(resources: impl IntoIterator<Item = Resource>) -> ClusterCache {
        ClusterCache {
            stores: Arc::new(
                resources
                    .into_iter()
                    .map(Store::new)
                    .map(Arc::new)
                    .collect(),
            ),
            stale_after: DEFAULT_STALE_AFTER,
        }
    }

    /// How long a store's watch may keep failing before the store counts as not synced.
    pub fn with_stale_after(mut self, stale_after: Duration) -> ClusterCache {
        self.stale_after = stale_after;
        self
    }

    pub fn store(&self, group: &str, kind: &str) -> Option<&Arc<Store>> {
        self.stores
            .iter()
            .find(|s| s.resource.group == group && s.resource.kind == kind)
    }

    pub fn synced(&self) -> bool {
        self.stores.iter().all(|s| s.is_synced())
    }

    /// `(resource name, synced)` for every store.
    pub fn sync_state(&self) -> Vec<(String, bool)> {
        self.stores
            .iter()
            .map(|s| (s.resource.resource_name(), s.is_synced()))
            .collect()
    }

    /// Whether a lookup may decode many objects: a store kept as text holds more objects than
    /// stay decoded ([`HOT`]), so listing a namespace of it may decode each again. The webhook
    /// then judges on the blocking pool, not on its async workers.
    pub fn decodes_on_lookup(&self) -> bool {
        self.stores
            .iter()
            .any(|s| !s.keeps_trees() && s.len() > HOT)
    }

    /// Complete a (re)list of every store with `objects` (each to the store of its group and
    /// kind; other kinds are ignored), as the watchers do: `flink-admission audit` fills the
    /// cache from a cluster export or a one-off list, and judges against it as the webhook does.
    pub fn fill(&self, objects: impl IntoIterator<Item = Value>) {
        let mut by_store: Vec<Vec<Value>> = vec![Vec::new(); self.stores.len()];
        for o in objects {
            let api = object::str_at(&o, "/apiVersion").unwrap_or("");
            let (group, kind) = (object::group_of(api), object::kind(&o));
            if let Some(i) = self
                .stores
                .iter()
                .position(|s| s.resource.group == group && s.resource.kind == kind)
            {
                by_store[i].push(o);
            }
        }
        for (store, objects) in self.stores.iter().zip(by_store) {
            store.apply(Event::Init);
            for o in objects {
                store.apply(Event::InitApply(o));
            }
            store.apply(Event::InitDone);
        }
    }

    /// OpenShift when a namespace carries the SCC uid-range annotation; `None` until the
    /// namespaces have synced.
    pub fn detect_platform(&self) -> Option<Platform> {
        let ns = self.store("", "Namespace")?;
        if !ns.is_synced() {
            return None;
        }
        let openshift = ns
            .list(None)
            .iter()
            .any(|n| object::annotation(n, OPENSHIFT_UID_RANGE).is_some());
        Some(if openshift {
            Platform::Openshift
        } else {
            Platform::Kubernetes
        })
    }

    /// Start one watcher per store on `client`. The tasks run until aborted.
    pub fn start(&self, client: Client) -> Vec<tokio::task::JoinHandle<()>> {
        self.stores
            .iter()
            .map(|store| {
                let store = store.clone();
                let client = client.clone();
                let stale_after = self.stale_after;
                tokio::spawn(async move { watch(client, store, stale_after).await })
            })
            .collect()
    }
}

async fn watch(client: Client, store: Arc<Store>, stale_after: Duration) {
    let r = &store.resource;
    let gvk = GroupVersionKind::gvk(r.group, r.version, r.kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, r.plural);
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let name = r.resource_name();
    // One watcher per round; a new round (a fresh list) after the store went stale.
    loop {
        let config = watcher::Config::default().page_size(LIST_PAGE_SIZE);
        let mut stream = watcher::watcher(api.clone(), config)
            .default_backoff()
            .boxed();
        let mut failing_since: Option<Instant> = None;
        let mut last_error = Instant::now();
        let mut relist = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    let done = matches!(event, Event::InitDone);
                    if matches!(event, Event::Apply(_) | Event::Delete(_) | Event::InitDone) {
                        failing_since = None;
                    }
                    store.apply(to_values(event));
                    if done {
                        tracing::info!(resource = %name, objects = store.len(), "cluster cache synced");
                    }
                }
                Err(e) => {
                    if store.resource.watch == Watch::Optional
                        && !store.is_synced()
                        && is_not_found(&e)
                    {
                        tracing::warn!(resource = %name, "resource not served by this cluster (CRD not installed?): treated as empty");
                        store.mark_absent();
                        continue;
                    }
                    tracing::warn!(resource = %name, error = %e, "watch failed; retrying with backoff");
                    let now = Instant::now();
                    let since = match failing_since {
                        Some(t) if now.duration_since(last_error) < QUIET => t,
                        _ => now,
                    };
                    failing_since = Some(since);
                    last_error = now;
                    if store.is_synced() && now.duration_since(since) >= stale_after {
                        tracing::warn!(
                            resource = %name,
                            failing_s = now.duration_since(since).as_secs_f64(),
                            "no contact with the API server: cache stale until a new list completes"
                        );
                        store.mark_stale();
                        relist = true;
                        break;
                    }
                }
            }
        }
        if !relist {
            // the watcher's stream does not end on its own; if it does, start over
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn is_not_found(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 404,
        watcher::Error::WatchError(s) => s.code == 404,
        _ => false,
    }
}

fn to_values(event: Event<DynamicObject>) -> Event<Value> {
    let v = |o: DynamicObject| serde_json::to_value(o).unwrap_or(Value::Null);
    match event {
        Event::Apply(o) => Event::Apply(v(o)),
        Event::Delete(o) => Event::Delete(v(o)),
        Event::Init => Event::Init,
        Event::InitApply(o) => Event::InitApply(v(o)),
        Event::InitDone => Event::InitDone,
    }
}

impl Context for ClusterCache {
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.store(group, kind)
            .map(|s| s.list(namespace))
            .unwrap_or_default()
    }

    /// Complete only for a kind the cache watches, once everything has synced. A kind it does
    /// not watch (Pods) is unknown, never "absent".
    fn is_complete(&self, group: &str, kind: &str) -> bool {
        self.synced() && self.store(group, kind).is_some_and(|s| s.is_synced())
    }

    /// By the store's (namespace, name) index: the object in the namespace asked for, else a
    /// cluster-scoped one of that name (as the default walks the list, without decoding it).
    fn resolve(&self, group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Resolved {
        let Some(store) = self.store(group, kind) else {
            return Resolved::None;
        };
        let Some(ns) = namespace else {
            // Any namespace: the list's last object of that name, as the default answers.
            return match self
                .list(group, kind, None)
                .into_iter()
                .rev()
                .find(|o| object::name(o) == name)
            {
                Some(o) => Resolved::Found(o),
                None => Resolved::None,
            };
        };
        match store.get(ns, name).or_else(|| store.get("", name)) {
            Some(o) => Resolved::Found(o),
            None => Resolved::None,
        }
    }

    fn incomplete_note(&self) -> Option<&str> {
        if self.synced() {
            None
        } else if self.stores.iter().any(|s| s.is_stale()) {
            Some(STALE)
        } else {
            Some(NOT_SYNCED)
        }
    }

    fn unknown_reason(&self) -> &str {
        UNKNOWN_REASON
    }
}
