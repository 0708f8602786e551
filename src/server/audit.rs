//! The audit's API calls: list what runs into the webhook's cluster cache (paginated, paced by
//! a client-side rate limit), judge it ([`crate::audit`]), and bring the PolicyReports up to
//! date, writing only what changed. `flink-admission audit` runs it once; `serve
//! --audit-interval` runs it on the cache its watchers keep, with its duration and counts in
//! `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};
use serde_json::Value;

use super::cluster::{self, ClusterCache};
use super::metrics::Metrics;
use crate::audit::{self, Write};
use crate::engine::Engine;
use crate::flink::kinds::{self, Kind, Watch};
use crate::flink::object;

/// Requests per second an audit sends by default: well inside the API server's priority and
/// fairness share for a workload-low client, however large the cluster.
pub const DEFAULT_QPS: f64 = 20.0;

/// Waits between requests so that at most `qps` are sent per second.
pub struct Pacer {
    every: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    /// `qps` of zero or less: no limit.
    pub fn new(qps: f64) -> Pacer {
        let every = if qps > 0.0 {
            Duration::from_secs_f64(1.0 / qps)
        } else {
            Duration::ZERO
        };
        Pacer {
            every,
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Resolves when the next request may be sent.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = tokio::time::Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + self.every;
    }
}

/// What an audit lists, and how politely.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Only these namespaces (empty: all). Namespaces themselves are always listed whole.
    pub namespaces: Vec<String>,
    pub qps: f64,
    pub page_size: u32,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            namespaces: Vec::new(),
            qps: DEFAULT_QPS,
            page_size: cluster::LIST_PAGE_SIZE,
        }
    }
}

impl Scope {
    /// Whether objects (or reports) in `namespace` are this audit's.
    pub fn covers(&self, namespace: Option<&str>) -> bool {
        match namespace {
            None => self.namespaces.is_empty(),
            Some(ns) => self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == ns),
        }
    }
}

/// What a one-off list of the cluster gave: the cache the webhook would have, and the objects
/// to judge.
pub struct Listed {
    pub cache: ClusterCache,
    pub subjects: Vec<Arc<Value>>,
}

fn api_resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Every page of `k` (in `namespace`, or all), with `apiVersion` and `kind` set and pruned as
/// the cache prunes. A custom resource whose CRD is not installed lists as empty.
async fn list_kind(
    client: &Client,
    k: &'static Kind,
    namespace: Option<&str>,
    scope: &Scope,
    pacer: &Pacer,
) -> Result<Vec<Value>, String> {
    let ar = api_resource(k.group, k.version, k.kind, k.plural);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        pacer.wait().await;
        let mut params = ListParams::default().limit(scope.page_size.max(1));
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = match api.list(&params).await {
            Ok(p) => p,
            Err(e) if not_found(&e) && k.group.contains('.') => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot list {}: {e}", k.resource_name())),
        };
        for item in page.items {
            let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
            if let Some(map) = v.as_object_mut() {
                map.insert("apiVersion".into(), Value::String(k.api_version()));
                map.insert("kind".into(), Value::String(k.kind.to_string()));
                cluster::prune(&mut v);
                out.push(v);
            }
        }
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The kinds an audit lists: what the cache watches and what the webhook judges.
fn listed_kinds() -> impl Iterator<Item = &'static Kind> {
    kinds::all().filter(|k| k.watch != Watch::No || audit::audited_kind(k.group, k.kind))
}

/// List the cluster (or `scope`'s namespaces) into a cache like the webhook's, page by page at
/// most `scope.qps` requests a second; `progress` gets a line per kind.
pub async fn list_cluster(
    client: &Client,
    scope: &Scope,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Listed, String> {
    let pacer = Pacer::new(scope.qps);
    let mut watched = Vec::new();
    let mut subjects = Vec::new();
    for k in listed_kinds() {
        let mut objects = Vec::new();
        if k.kind == "Namespace" || scope.namespaces.is_empty() {
            objects = list_kind(client, k, None, scope, &pacer).await?;
        } else {
            for ns in &scope.namespaces {
                objects.extend(list_kind(client, k, Some(ns), scope, &pacer).await?);
            }
        }
        progress(format!("listed {} {}", objects.len(), k.resource_name()));
        if k.watch == Watch::No {
            subjects.extend(objects.into_iter().map(Arc::new));
        } else {
            watched.extend(objects);
        }
    }
    let cache = ClusterCache::new(cluster::watched());
    cache.fill(watched);
    subjects.extend(cached_subjects(&cache, scope));
    Ok(Listed { cache, subjects })
}

/// The objects of `cache` an audit judges (those of the audited kinds it watches), in `scope`.
pub fn cached_subjects(cache: &ClusterCache, scope: &Scope) -> Vec<Arc<Value>> {
    cluster::watched()
        .into_iter()
        .filter(|k| audit::audited_kind(k.group, k.kind))
        .filter_map(|k| cache.store(k.group, k.kind))
        .flat_map(|s| s.list(None))
        .filter(|o| scope.covers(object::namespace(o)))
        .collect()
}

fn report_resources() -> (ApiResource, ApiResource) {
    let ns = api_resource(
        audit::REPORT_GROUP,
        audit::REPORT_VERSION,
        "PolicyReport",
        "policyreports",
    );
    let cluster = api_resource(
        audit::REPORT_GROUP,
        audit::REPORT_VERSION,
        "ClusterPolicyReport",
        "clusterpolicyreports",
    );
    (ns, cluster)
}

const NO_CRD: &str = "the PolicyReport CRDs (wgpolicyk8s.io/v1alpha2) are not installed: kubectl apply -k deploy/overlays/policy-reports";

/// The reports this tool wrote before, in `scope`.
async fn existing_reports(
    client: &Client,
    scope: &Scope,
    pacer: &Pacer,
) -> Result<Vec<Value>, String> {
    let (ns_ar, cluster_ar) = report_resources();
    let selector = format!("{}={}", audit::MANAGED_BY.0, audit::MANAGED_BY.1);
    let mut apis: Vec<Api<DynamicObject>> = Vec::new();
    if scope.namespaces.is_empty() {
        apis.push(Api::all_with(client.clone(), &ns_ar));
        apis.push(Api::all_with(client.clone(), &cluster_ar));
    } else {
        for ns in &scope.namespaces {
            apis.push(Api::namespaced_with(client.clone(), ns, &ns_ar));
        }
    }
    let mut out = Vec::new();
    for api in apis {
        let mut token: Option<String> = None;
        loop {
            pacer.wait().await;
            let mut params = ListParams::default()
                .labels(&selector)
                .limit(scope.page_size.max(1));
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = api.list(&params).await.map_err(|e| {
                if not_found(&e) {
                    NO_CRD.to_string()
                } else {
                    format!("cannot list the PolicyReports: {e}")
                }
            })?;
            out.extend(
                page.items
                    .into_iter()
                    .filter_map(|i| serde_json::to_value(i).ok()),
            );
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// What bringing the reports up to date did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub created: usize,
    pub replaced: usize,
    pub deleted: usize,
}

impl Written {
    pub fn total(&self) -> usize {
        self.created + self.replaced + self.deleted
    }
}

/// Bring the cluster's PolicyReports in `scope` to `desired`: only the reports that changed
/// are written, stale ones of ours are deleted, nobody else's are touched.
pub async fn write_reports(
    client: &Client,
    desired: Vec<Value>,
    scope: &Scope,
) -> Result<Written, String> {
    let pacer = Pacer::new(scope.qps);
    let existing = existing_reports(client, scope, &pacer).await?;
    let writes = audit::plan(&existing, desired, &|ns| scope.covers(ns));
    let (ns_ar, cluster_ar) = report_resources();
    let api_for = |namespace: Option<&str>| -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ns_ar),
            None => Api::all_with(client.clone(), &cluster_ar),
        }
    };
    let mut done = Written::default();
    for w in writes {
        pacer.wait().await;
        let fail = |what: &str, e: kube::Error| {
            if not_found(&e) && what != "delete" {
                NO_CRD.to_string()
            } else {
                format!("cannot {what} a PolicyReport: {e}")
            }
        };
        match w {
            Write::Create(r) => {
                let api = api_for(object::namespace(&r));
                let obj: DynamicObject = serde_json::from_value(r).map_err(|e| e.to_string())?;
                api.create(&PostParams::default(), &obj)
                    .await
                    .map_err(|e| fail("create", e))?;
                done.created += 1;
            }
            Write::Replace(r) => {
                let api = api_for(object::namespace(&r));
                let name = object::name(&r).to_string();
                let obj: DynamicObject = serde_json::from_value(r).map_err(|e| e.to_string())?;
                api.replace(&name, &PostParams::default(), &obj)
                    .await
                    .map_err(|e| fail("replace", e))?;
                done.replaced += 1;
            }
            Write::Delete { namespace, name } => {
                match api_for(namespace.as_deref())
                    .delete(&name, &DeleteParams::default())
                    .await
                {
                    Ok(_) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(fail("delete", e)),
                }
                done.deleted += 1;
            }
        }
    }
    Ok(done)
}

/// One scan of the server's cache: every audited object judged against the cache, the reports
/// brought up to date through `client` (none: only counted), the duration and counts in
/// `metrics`.
pub async fn scan_cache(
    client: Option<&Client>,
    cache: &ClusterCache,
    engine: Arc<Engine>,
    metrics: &Metrics,
) -> Result<(audit::Counts, Written), String> {
    let started = Instant::now();
    let subjects = cached_subjects(cache, &Scope::default());
    let context = cache.clone();
    let (counts, reports) = tokio::task::spawn_blocking(move || {
        let judged = audit::judge_all(&engine, &subjects, &context, &|| {});
        (
            audit::Counts::of(&judged),
            audit::policy_reports(&engine, &judged),
        )
    })
    .await
    .map_err(|e| format!("the audit failed: {e}"))?;
    let written = match client {
        Some(c) => write_reports(c, reports, &Scope::default()).await,
        None => Ok(Written::default()),
    };
    metrics.observe_audit(
        started.elapsed().as_secs_f64(),
        &counts,
        written.as_ref().ok(),
    );
    written.map(|w| (counts, w))
}

/// `serve --audit-interval`: once the cache has synced, scan it every `interval` (the first
/// scan as soon as it has synced), until the task is aborted.
pub async fn run_periodically(
    client: Client,
    cache: ClusterCache,
    state: Arc<super::AppState>,
    interval: Duration,
) {
    loop {
        while !cache.synced() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        match scan_cache(Some(&client), &cache, state.engine(), &state.metrics).await {
            Ok((counts, written)) => tracing::info!(
                objects = counts.objects,
                errors = counts.errors,
                warnings = counts.warnings,
                reports_written = written.total(),
                "audit scan done"
            ),
            Err(e) => tracing::warn!(error = %e, "audit scan failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_scope_covers_its_namespaces_and_not_the_cluster_report() {
        let all = Scope::default();
        assert!(all.covers(None) && all.covers(Some("a")));
        let some = Scope {
            namespaces: vec!["a".into(), "b".into()],
            ..Scope::default()
        };
        assert!(some.covers(Some("a")) && some.covers(Some("b")));
        assert!(!some.covers(Some("c")));
        assert!(
            !some.covers(None),
            "the cluster report belongs to a whole-cluster audit"
        );
    }

    #[test]
    fn the_audit_lists_what_the_cache_watches_and_what_the_webhook_judges() {
        let listed: Vec<String> = listed_kinds().map(|k| k.resource_name()).collect();
        for r in [
            "namespaces",
            "configmaps",
            "deployments.apps",
            "flinkdeployments.flink.apache.org",
            "flinksessionjobs.flink.apache.org",
            "horizontalpodautoscalers.autoscaling",
        ] {
            assert!(listed.iter().any(|l| l == r), "{r} in {listed:?}");
        }
        assert!(
            !listed
                .iter()
                .any(|l| l == "pods" || l == "scale.autoscaling")
        );
    }
}
