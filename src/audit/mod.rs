//! The third front-end: audit what already runs. Objects in (from a cluster export or the
//! webhook's cluster cache), judged with the webhook's engine against the same cluster view,
//! findings and PolicyReports out. Pure, as the engine: no files, sockets or clients; the
//! callers (`flink-admission audit`, the server's continuous scan in `server::audit`) bring the
//! objects and write what this module computes.
//!
//! PolicyReports follow the Kubernetes Policy working group's `wgpolicyk8s.io/v1alpha2` API:
//! one `PolicyReport` named [`REPORT_NAME`] per namespace holding audited objects, and one
//! `ClusterPolicyReport` for objects without a namespace. Each finding is a result (`policy`:
//! the rule id, `rule`: its name, `result`: `fail` for an error, `warn` for a warning or info,
//! `severity`: `high`, `medium` or `info`, the object in `resources`, the message, and the JSON
//! pointer and the rule's enforcement mode in `properties`); an object with no finding gets one
//! `pass` result (`policy: flink-admission`). Reports carry no timestamp: the same cluster gives
//! the same reports, so [`plan`] writes nothing when nothing changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{Value, json};

use crate::engine::{Context, Engine, Finding, Severity, Subject, targets};
use crate::flink::kinds;
use crate::flink::object::{self, ObjectRef};

/// The PolicyReport API group and version.
pub const REPORT_GROUP: &str = "wgpolicyk8s.io";
pub const REPORT_VERSION: &str = "v1alpha2";
/// The name of every report this tool writes (one per namespace, one cluster report).
pub const REPORT_NAME: &str = "flink-admission";
/// The label on every report this tool writes; only reports with it are updated or deleted.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "flink-admission");
/// `source` of every result, and `policy` of the pass result of an object without findings.
pub const SOURCE: &str = "flink-admission";

/// Whether the webhook judges objects of this kind when they are created or changed (the kinds
/// it registers, but the `Scale` of `kubectl scale`): what an audit judges.
pub fn audited_kind(group: &str, kind: &str) -> bool {
    kinds::find(group, kind).is_some_and(|k| k.admitted && k.kind != "Scale")
}

/// Whether `obj` is of an audited kind.
pub fn is_audited(obj: &Value) -> bool {
    let api = object::str_at(obj, "/apiVersion").unwrap_or("");
    audited_kind(object::group_of(api), object::kind(obj))
}

/// One audited object and what the engine found.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub object: ObjectRef,
    pub findings: Vec<Finding>,
}

/// Judge `obj` as the webhook would judge it being applied again, in `context`; `None` when
/// the webhook would not judge it at all (a kind it does not register, an object the Flink
/// operator generates, a workload that does not run Flink).
pub fn judge(engine: &Engine, obj: &Arc<Value>, context: &dyn Context) -> Option<Judged> {
    if !obj.is_object() || !is_audited(obj) || targets(obj, engine.settings().scope).is_empty() {
        return None;
    }
    let report = engine.check(&Subject::offline_shared(obj, context));
    Some(Judged {
        object: ObjectRef::of(obj),
        findings: report.findings,
    })
}

/// [`judge`] every object, on every core; the results in the order of `objects`. `done` is
/// called after each object (a progress counter).
pub fn judge_all(
    engine: &Engine,
    objects: &[Arc<Value>],
    context: &dyn Context,
    done: &(dyn Fn() + Sync),
) -> Vec<Judged> {
    objects
        .par_iter()
        .with_min_len(64)
        .filter_map(|o| {
            let j = judge(engine, o, context);
            done();
            j
        })
        .collect()
}

/// Counts over a set of judged objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of(judged: &[Judged]) -> Counts {
        let mut c = Counts {
            objects: judged.len(),
            ..Counts::default()
        };
        for f in judged.iter().flat_map(|j| &j.findings) {
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Info => c.infos += 1,
            }
        }
        c
    }
}

/// A report's `result` for a finding of `severity`.
pub fn result_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "fail",
        Severity::Warning | Severity::Info => "warn",
    }
}

/// A report's `severity` for a finding of `severity`.
pub fn report_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "high",
        Severity::Warning => "medium",
        Severity::Info => "info",
    }
}

fn resource(o: &ObjectRef) -> Value {
    let mut r = json!({"apiVersion": o.api_version, "kind": o.kind, "name": o.name});
    if let Some(ns) = &o.namespace {
        r["namespace"] = json!(ns);
    }
    r
}

/// The results of one object: one per finding, or one `pass`.
fn results(engine: &Engine, j: &Judged) -> Vec<Value> {
    if j.findings.is_empty() {
        return vec![json!({
            "source": SOURCE,
            "policy": SOURCE,
            "result": "pass",
            "scored": true,
            "message": "no finding",
            "resources": [resource(&j.object)],
        })];
    }
    let mut findings: Vec<&Finding> = j.findings.iter().collect();
    findings.sort_by(|a, b| (&a.rule, &a.path, &a.message).cmp(&(&b.rule, &b.path, &b.message)));
    findings.dedup_by(|a, b| (&a.rule, &a.path, &a.message) == (&b.rule, &b.path, &b.message));
    findings
        .into_iter()
        .map(|f| {
            let rule = engine.registry().get(&f.rule);
            let enforcement = rule
                .map(|r| engine.settings().enforcement(r))
                .unwrap_or_default();
            let mut r = json!({
                "source": SOURCE,
                "policy": f.rule,
                "rule": f.name,
                "result": result_of(f.severity),
                "severity": report_severity(f.severity),
                "scored": true,
                "message": f.message,
                "resources": [resource(&j.object)],
                "properties": {
                    "pointer": if f.path.is_empty() { "/" } else { f.path.as_str() },
                    "enforcement": enforcement.as_str(),
                },
            });
            if let Some(rule) = rule {
                r["category"] = json!(rule.family);
            }
            r
        })
        .collect()
}

fn summary(results: &[Value]) -> Value {
    let count = |what: &str| results.iter().filter(|r| r["result"] == what).count();
    json!({
        "pass": count("pass"),
        "fail": count("fail"),
        "warn": count("warn"),
        "error": count("error"),
        "skip": count("skip"),
    })
}

/// One report: a `PolicyReport` in `namespace`, or the `ClusterPolicyReport` when `None`.
fn report(namespace: Option<&str>, results: Vec<Value>) -> Value {
    let mut metadata = json!({
        "name": REPORT_NAME,
        "labels": {MANAGED_BY.0: MANAGED_BY.1},
    });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": format!("{REPORT_GROUP}/{REPORT_VERSION}"),
        "kind": if namespace.is_some() { "PolicyReport" } else { "ClusterPolicyReport" },
        "metadata": metadata,
        "summary": summary(&results),
        "results": results,
    })
}

/// The reports for `judged`: one `PolicyReport` per namespace that holds an audited object,
/// and a `ClusterPolicyReport` when an audited object has no namespace; ordered by namespace
/// (the cluster report first), results ordered by object, then rule and pointer, so that the
/// same findings always give the same reports.
pub fn policy_reports(engine: &Engine, judged: &[Judged]) -> Vec<Value> {
    let mut by_ns: BTreeMap<Option<&str>, Vec<&Judged>> = BTreeMap::new();
    for j in judged {
        by_ns
            .entry(j.object.namespace.as_deref())
            .or_default()
            .push(j);
    }
    by_ns
        .into_iter()
        .map(|(ns, mut objects)| {
            objects.sort_by(|a, b| {
                (&a.object.kind, &a.object.name, &a.object.api_version).cmp(&(
                    &b.object.kind,
                    &b.object.name,
                    &b.object.api_version,
                ))
            });
            let results = objects.iter().flat_map(|j| results(engine, j)).collect();
            report(ns, results)
        })
        .collect()
}

/// One write to bring the cluster's reports to what an audit found.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Create(Value),
    /// The report, with the `resourceVersion` of the one it replaces.
    Replace(Value),
    /// The report in `namespace` (`None`: the cluster report) is stale: nothing audited is
    /// left there.
    Delete {
        namespace: Option<String>,
        name: String,
    },
}

/// `(namespace, name)` of a report.
pub fn report_key(report: &Value) -> (Option<String>, String) {
    (
        object::namespace(report).map(str::to_string),
        object::name(report).to_string(),
    )
}

/// Whether a report was written by this tool.
pub fn is_ours(report: &Value) -> bool {
    object::label(report, MANAGED_BY.0) == Some(MANAGED_BY.1)
}

/// Whether `existing` already says what `desired` says (its results, summary and our label).
fn same(existing: &Value, desired: &Value) -> bool {
    existing.get("results").unwrap_or(&Value::Null) == &desired["results"]
        && existing.get("summary").unwrap_or(&Value::Null) == &desired["summary"]
        && existing["kind"] == desired["kind"]
        && is_ours(existing)
}

/// The writes from the reports the cluster has (`existing`: this tool's, see [`is_ours`]) to
/// `desired` ([`policy_reports`]): a create for a new namespace, a replace for a report whose
/// results changed, a delete for one of ours in a namespace `in_scope` where nothing audited
/// is left. A report that did not change is not written.
pub fn plan(
    existing: &[Value],
    desired: Vec<Value>,
    in_scope: &dyn Fn(Option<&str>) -> bool,
) -> Vec<Write> {
    let mut have: BTreeMap<(Option<String>, String), &Value> = existing
        .iter()
        .filter(|r| is_ours(r))
        .map(|r| (report_key(r), r))
        .collect();
    let mut writes = Vec::new();
    for mut d in desired {
        match have.remove(&report_key(&d)) {
            Some(e) if same(e, &d) => {}
            Some(e) => {
                if let Some(rv) = object::str_at(e, "/metadata/resourceVersion") {
                    d["metadata"]["resourceVersion"] = json!(rv);
                }
                writes.push(Write::Replace(d));
            }
            None => writes.push(Write::Create(d)),
        }
    }
    for ((namespace, name), _) in have {
        if name == REPORT_NAME && in_scope(namespace.as_deref()) {
            writes.push(Write::Delete { namespace, name });
        }
    }
    writes
}

/// Objects listed for an audit, turned into the same cluster view the webhook's cache holds:
/// the group and kind of `obj`, when its kind is one the cache watches or the audit judges.
pub fn listed_kind(obj: &Value) -> Option<&'static kinds::Kind> {
    let api = object::str_at(obj, "/apiVersion")?;
    let k = kinds::find(object::group_of(api), object::kind(obj))?;
    (k.watch != kinds::Watch::No || audited_kind(k.group, k.kind)).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NoContext;

    fn engine() -> Engine {
        Engine::embedded(crate::engine::Settings {
            admission: true,
            ..Default::default()
        })
        .unwrap()
    }

    fn deployment(ns: &str, name: &str, run_as: u64) -> Arc<Value> {
        Arc::new(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {
                    "containers": [{"name": "jobmanager", "image": "apache/flink:1.19",
                        "args": ["jobmanager"], "securityContext": {"privileged": run_as == 0}}]}}}
        }))
    }

    #[test]
    fn only_admitted_kinds_that_run_flink_are_judged() {
        let e = engine();
        let cm = Arc::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "a"}, "data": {}}));
        assert!(judge(&e, &cm, &NoContext).is_none());
        let plain = Arc::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a"},
            "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}));
        assert!(judge(&e, &plain, &NoContext).is_none());
        let j = judge(&e, &deployment("a", "jm", 0), &NoContext).unwrap();
        assert!(j.findings.iter().any(|f| f.rule == "FLK201"), "{j:?}");
    }

    #[test]
    fn reports_per_namespace_results_per_finding_and_a_pass_per_clean_object() {
        let e = engine();
        let bad = judge(&e, &deployment("a", "bad", 0), &NoContext).unwrap();
        let mut clean = bad.clone();
        clean.object.name = "clean".into();
        clean.findings.clear();
        let mut other = clean.clone();
        other.object.namespace = Some("b".into());
        let reports = policy_reports(&e, &[bad.clone(), clean, other]);
        assert_eq!(reports.len(), 2);
        let a = &reports[0];
        assert_eq!(a["kind"], "PolicyReport");
        assert_eq!(a["metadata"]["namespace"], "a");
        let results = a["results"].as_array().unwrap();
        let fail = results.iter().find(|r| r["policy"] == "FLK201").unwrap();
        assert_eq!(fail["result"], "fail");
        assert_eq!(fail["severity"], "high");
        assert_eq!(fail["rule"], "privileged-container");
        assert_eq!(fail["resources"][0]["name"], "bad");
        assert_eq!(
            fail["properties"]["pointer"],
            "/spec/template/spec/containers/0/securityContext/privileged"
        );
        assert_eq!(fail["properties"]["enforcement"], "enforce");
        let pass = results.iter().find(|r| r["result"] == "pass").unwrap();
        assert_eq!(pass["resources"][0]["name"], "clean");
        assert_eq!(a["summary"]["pass"], 1);
        assert_eq!(
            a["summary"]["fail"].as_u64().unwrap() as usize,
            bad.findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count()
        );
        assert_eq!(reports[1]["metadata"]["namespace"], "b");
        assert_eq!(reports[1]["summary"]["pass"], 1);
    }

    #[test]
    fn objects_without_a_namespace_go_to_the_cluster_report() {
        let e = engine();
        let mut j = judge(&e, &deployment("a", "x", 0), &NoContext).unwrap();
        j.object.namespace = None;
        let reports = policy_reports(&e, &[j]);
        assert_eq!(reports[0]["kind"], "ClusterPolicyReport");
        assert!(reports[0]["metadata"].get("namespace").is_none());
    }

    #[test]
    fn plan_creates_replaces_deletes_and_leaves_unchanged_reports_alone() {
        let e = engine();
        let bad = judge(&e, &deployment("a", "bad", 0), &NoContext).unwrap();
        let desired = policy_reports(&e, std::slice::from_ref(&bad));
        let all = |_: Option<&str>| true;
        let writes = plan(&[], desired.clone(), &all);
        assert!(matches!(&writes[..], [Write::Create(r)] if r == &desired[0]));
        // as the API server holds it: with a resourceVersion and more metadata
        let mut stored = desired[0].clone();
        stored["metadata"]["resourceVersion"] = json!("7");
        stored["metadata"]["uid"] = json!("u");
        assert_eq!(plan(&[stored.clone()], desired.clone(), &all), vec![]);
        // fixed: the report changes, replaced at the stored version
        let mut fixed = bad.clone();
        fixed.findings.clear();
        let now = policy_reports(&e, &[fixed]);
        match &plan(&[stored.clone()], now, &all)[..] {
            [Write::Replace(r)] => {
                assert_eq!(r["metadata"]["resourceVersion"], "7");
                assert_eq!(r["summary"]["fail"], 0);
                assert_eq!(r["summary"]["pass"], 1);
            }
            other => panic!("{other:?}"),
        }
        // nothing audited left in `a`: deleted, unless out of scope; others' reports untouched
        let mut theirs = stored.clone();
        theirs["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "kyverno"});
        assert_eq!(
            plan(&[stored.clone(), theirs.clone()], vec![], &all),
            vec![Write::Delete {
                namespace: Some("a".into()),
                name: REPORT_NAME.into()
            }]
        );
        assert_eq!(
            plan(&[stored, theirs], vec![], &|ns| ns == Some("b")),
            vec![]
        );
    }
}
