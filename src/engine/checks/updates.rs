//! Family 6: changes that lose state. Each check compares the subject with the object as it was
//! before the change ([`crate::engine::Subject::old`]: an UPDATE's `oldObject`, or its
//! counterpart of the same identity in `flink-lint --old`); without one they report nothing.
//!
//! The errors are the Flink Kubernetes Operator's own spec-change checks (`DefaultValidator`
//! of operator 1.16-SNAPSHOT, commit 6e9caeb, 2026-07-20: `validateSpecChange`,
//! `validateFlinkVersion`, and the FlinkSessionJob `validateSpecChange`). The operator compares
//! the new spec with `status.reconciliationStatus.lastReconciledSpec`, the spec it last
//! deployed, and compares nothing before the first deployment; [`reconciled`] reads the same.
//! The warnings are risks the operator accepts: they compare with the old version's spec, what
//! the user had.

use std::borrow::Cow;

use serde_json::Value;

use super::{Ctx, Native};
use crate::engine::Hit;
use crate::flink::config::{self, FlinkConfig};
use crate::flink::object::{self, Class, CrKind};
use crate::flink::pointer::Pointer as _;

/// The subject's kind, when it is a Flink resource the operator judges (not a canary).
fn judged(ctx: &Ctx<'_>) -> Option<CrKind> {
    match ctx.class() {
        Class::Resource(k) if !object::is_canary(ctx.obj) => Some(k),
        _ => None,
    }
}

/// Where a kind keeps the spec these checks read: a FlinkBlueGreenDeployment wraps a
/// FlinkDeployment spec in `spec.template.spec`; a FlinkDeployment's and a FlinkSessionJob's
/// are `spec` (a session job's has `job` and `flinkConfiguration` there too).
fn spec_root(kind: CrKind) -> Option<&'static str> {
    match kind {
        CrKind::FlinkDeployment | CrKind::FlinkSessionJob => Some("/spec"),
        CrKind::FlinkBlueGreenDeployment => Some("/spec/template/spec"),
        CrKind::FlinkStateSnapshot => None,
    }
}

/// The spec a change is judged against as the operator judges it: the old version's
/// `status.reconciliationStatus.lastReconciledSpec` (a JSON text: `{"spec": ..,
/// "resource_metadata": ..}`, or the bare spec as older operators wrote it). When the old
/// version has a `reconciliationStatus` without it, the operator has not deployed the resource
/// yet and compares nothing. An old version without any `status` in the webhook is the same
/// (the operator has written nothing yet); offline (files hold no status) its `spec` is what was
/// deployed.
fn reconciled<'c>(ctx: &'c Ctx<'_>) -> Option<&'c Value> {
    ctx.reconciled
        .get_or_init(|| read_reconciled(ctx))
        .as_deref()
}

/// [`reconciled`], read (once per check).
fn read_reconciled<'a>(ctx: &Ctx<'a>) -> Option<Cow<'a, Value>> {
    let old = ctx.subject.old?;
    if let Some(status) = old.at("/status/reconciliationStatus") {
        let text = status.get("lastReconciledSpec").and_then(Value::as_str)?;
        let mut wrapper: Value = serde_json::from_str(text).ok()?;
        let spec = match wrapper.as_object_mut()?.remove("resource_metadata") {
            Some(_) => wrapper.get_mut("spec").map(Value::take)?,
            None => wrapper,
        };
        return spec.is_object().then_some(Cow::Owned(spec));
    }
    if ctx.subject.operation.is_some() {
        return None;
    }
    old.at("/spec").filter(|s| s.is_object()).map(Cow::Borrowed)
}

/// [`reconciled`], for a subject of `kind` (the operator's spec-change checks are per kind).
fn last_deployed<'c>(ctx: &'c Ctx<'_>, kind: CrKind) -> Option<&'c Value> {
    if judged(ctx) != Some(kind) {
        return None;
    }
    reconciled(ctx)
}

/// The hit of a switch the operator refuses (FLK601, FLK602), at the first of `at` the subject
/// has.
fn switch(ctx: &Ctx<'_>, at: &[&str], from: &str, to: &str, operator: &str) -> Vec<Hit> {
    vec![
        Hit::at(at_first(ctx, at))
            .arg("from", from)
            .arg("to", to)
            .arg("operator", operator),
    ]
}

/// The old version's spec (at the kind's spec root), for the warnings.
fn old_spec<'a>(ctx: &Ctx<'a>, root: &str) -> Option<&'a Value> {
    ctx.subject.old?.at(root).filter(|s| s.is_object())
}

/// A present, non-null member.
fn member<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).filter(|m| !m.is_null())
}

/// Text for a value in a message: a string as it is, anything else as JSON, `unset` for none.
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "unset".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `pointer` when the subject has it, else the nearest of `fallbacks` it has, else `/spec`.
fn at_first(ctx: &Ctx<'_>, pointers: &[&str]) -> String {
    pointers
        .iter()
        .find(|p| ctx.obj.at(p).is_some())
        .map_or_else(|| "/spec".to_string(), |p| p.to_string())
}

/// A job's upgrade mode; the operator's default is `stateless`.
fn upgrade_mode(job: &Value) -> &str {
    job.get("upgradeMode")
        .and_then(Value::as_str)
        .unwrap_or("stateless")
}

/// FLK601: `check: native: cluster_type_switch`.
pub(super) const CLUSTER_TYPE_SWITCH: Native = Native {
    args: &["from", "to", "operator"],
    run: cluster_type_switch,
};

/// FLK601: a FlinkDeployment that gains or loses `spec.job` (application vs session cluster)
/// after the operator deployed it.
fn cluster_type_switch(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(last) = last_deployed(ctx, CrKind::FlinkDeployment) else {
        return Vec::new();
    };
    let spec = ctx.obj.get("spec").unwrap_or(&Value::Null);
    let (had, has) = (member(last, "job").is_some(), member(spec, "job").is_some());
    let (from, to, operator) = match (had, has) {
        (false, true) => (
            "session",
            "application",
            "Cannot switch from session to job cluster",
        ),
        (true, false) => (
            "application",
            "session",
            "Cannot switch from job to session cluster",
        ),
        _ => return Vec::new(),
    };
    switch(ctx, &["/spec/job", "/spec"], from, to, operator)
}

/// FLK602: `check: native: deployment_mode_switch`.
pub(super) const DEPLOYMENT_MODE_SWITCH: Native = Native {
    args: &["from", "to", "operator"],
    run: deployment_mode_switch,
};

/// FLK602: a FlinkDeployment whose `spec.mode` (native when unset) changes after the operator
/// deployed it.
fn deployment_mode_switch(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(last) = last_deployed(ctx, CrKind::FlinkDeployment) else {
        return Vec::new();
    };
    // The operator reads the enum: `native`, `standalone`, or null (native).
    let mode = |spec: &Value| match spec.get("mode").and_then(Value::as_str) {
        Some("standalone") => "standalone",
        _ => "native",
    };
    let (from, to) = (
        mode(last),
        mode(ctx.obj.get("spec").unwrap_or(&Value::Null)),
    );
    let operator = match (from, to) {
        ("native", "standalone") => {
            "Cannot switch from native kubernetes to standalone kubernetes cluster"
        }
        ("standalone", "native") => {
            "Cannot switch from standalone kubernetes to native kubernetes cluster"
        }
        _ => return Vec::new(),
    };
    switch(ctx, &["/spec/mode", "/spec"], from, to, operator)
}

/// FLK603: `check: native: flink_version_after_suspend`.
pub(super) const FLINK_VERSION_AFTER_SUSPEND: Native = Native {
    args: &["old", "new"],
    run: flink_version_after_suspend,
};

/// FLK603: a FlinkDeployment whose last deployed job was suspended with `upgradeMode:
/// last-state` and whose `flinkVersion` now differs, while the new job is not stateless.
fn flink_version_after_suspend(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(last) = last_deployed(ctx, CrKind::FlinkDeployment) else {
        return Vec::new();
    };
    let spec = ctx.obj.get("spec").unwrap_or(&Value::Null);
    let (Some(last_job), Some(job)) = (member(last, "job"), member(spec, "job")) else {
        return Vec::new();
    };
    let suspended = last_job.get("state").and_then(Value::as_str) == Some("suspended")
        && upgrade_mode(last_job) == "last-state";
    let (old, new) = (member(last, "flinkVersion"), member(spec, "flinkVersion"));
    if !suspended || upgrade_mode(job) == "stateless" || old == new {
        return Vec::new();
    }
    vec![
        Hit::at(at_first(ctx, &["/spec/flinkVersion", "/spec"]))
            .arg("old", shown(old))
            .arg("new", shown(new)),
    ]
}

/// FLK604: `check: native: savepoint_redeploy_without_path`.
pub(super) const SAVEPOINT_REDEPLOY_WITHOUT_PATH: Native = Native {
    args: &["nonce"],
    run: savepoint_redeploy_without_path,
};

/// FLK604: a FlinkDeployment whose `job.savepointRedeployNonce` is set to a new value while
/// `job.initialSavepointPath` is blank.
fn savepoint_redeploy_without_path(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(last) = last_deployed(ctx, CrKind::FlinkDeployment) else {
        return Vec::new();
    };
    let (Some(last_job), Some(job)) = (
        member(last, "job"),
        ctx.obj.at("/spec/job").filter(|j| !j.is_null()),
    ) else {
        return Vec::new();
    };
    let Some(nonce) = member(job, "savepointRedeployNonce") else {
        return Vec::new();
    };
    let path = job
        .get("initialSavepointPath")
        .and_then(Value::as_str)
        .unwrap_or("");
    if member(last_job, "savepointRedeployNonce") == Some(nonce) || !path.trim().is_empty() {
        return Vec::new();
    }
    vec![Hit::at("/spec/job/savepointRedeployNonce").arg("nonce", shown(Some(nonce)))]
}

/// FLK605: `check: native: session_job_deployment_change`.
pub(super) const SESSION_JOB_DEPLOYMENT_CHANGE: Native = Native {
    args: &["old", "new"],
    run: session_job_deployment_change,
};

/// FLK605: a FlinkSessionJob whose `spec.deploymentName` differs from the one it was deployed
/// to.
fn session_job_deployment_change(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(last) = last_deployed(ctx, CrKind::FlinkSessionJob) else {
        return Vec::new();
    };
    let old = member(last, "deploymentName");
    let new = ctx.obj.at("/spec/deploymentName").filter(|v| !v.is_null());
    if old.is_none() || old == new {
        return Vec::new();
    }
    vec![
        Hit::at(at_first(ctx, &["/spec/deploymentName", "/spec"]))
            .arg("old", shown(old))
            .arg("new", shown(new)),
    ]
}

/// The new and old spec of a kind that has a job: FlinkDeployment, FlinkBlueGreenDeployment
/// (its template) and FlinkSessionJob; with the new spec's pointer.
fn specs<'a>(ctx: &Ctx<'a>) -> Option<(&'a Value, &'a Value, &'static str)> {
    let root = spec_root(judged(ctx)?)?;
    let old = old_spec(ctx, root)?;
    let new = ctx.obj.at(root).filter(|s| s.is_object())?;
    Some((new, old, root))
}

/// The new and old job of [`specs`], when both versions have one.
fn jobs<'a>(ctx: &Ctx<'a>) -> Option<(&'a Value, &'a Value, &'static str)> {
    let (new, old, root) = specs(ctx)?;
    Some((member(new, "job")?, member(old, "job")?, root))
}

/// FLK610: `check: native: upgrade_mode_to_stateless`.
pub(super) const UPGRADE_MODE_TO_STATELESS: Native = Native {
    args: &["old", "new"],
    run: upgrade_mode_to_stateless,
};

/// FLK610: a job whose `upgradeMode` goes from `savepoint` or `last-state` to `stateless`
/// (written, or by leaving it out: the operator's default).
fn upgrade_mode_to_stateless(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some((job, old_job, root)) = jobs(ctx) else {
        return Vec::new();
    };
    let was = upgrade_mode(old_job);
    if was == "stateless" || upgrade_mode(job) != "stateless" {
        return Vec::new();
    }
    let now = match member(job, "upgradeMode") {
        Some(_) => "stateless".to_string(),
        None => "stateless (upgradeMode removed: the operator's default)".to_string(),
    };
    let job_at = format!("{root}/job");
    vec![
        Hit::at(at_first(ctx, &[&format!("{job_at}/upgradeMode"), &job_at]))
            .arg("old", was)
            .arg("new", now),
    ]
}

/// The flattened `flinkConfiguration` of a spec.
fn configuration(spec: &Value) -> FlinkConfig {
    spec.get("flinkConfiguration")
        .map(config::flatten)
        .unwrap_or_default()
}

/// FLK611: `check: native: state_directory_removed`.
pub(super) const STATE_DIRECTORY_REMOVED: Native = Native {
    args: &["what", "key", "value"],
    run: state_directory_removed,
};

/// FLK611: a checkpoint or savepoint directory the old `flinkConfiguration` set (under any of
/// its keys) and the new one sets under none.
fn state_directory_removed(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some((new, old, root)) = specs(ctx) else {
        return Vec::new();
    };
    let (before, after) = (configuration(old), configuration(new));
    let mut hits = Vec::new();
    for (what, keys) in [
        ("checkpoint", config::CHECKPOINT_DIR_KEYS),
        ("savepoint", config::SAVEPOINT_DIR_KEYS),
    ] {
        let set = |c: &FlinkConfig| {
            c.get_any(keys)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        };
        if let (Some((key, value)), None) = (set(&before), set(&after)) {
            let conf = format!("{root}/flinkConfiguration");
            hits.push(
                Hit::at(at_first(ctx, &[&conf, root]))
                    .arg("what", what)
                    .arg("key", key)
                    .arg("value", value),
            );
        }
    }
    hits
}

/// FLK612: `check: native: stateless_program_change`.
pub(super) const STATELESS_PROGRAM_CHANGE: Native = Native {
    args: &["field", "old", "new"],
    run: stateless_program_change,
};

/// FLK612: a job with `upgradeMode: stateless` whose `jarURI` or `entryClass` changes.
fn stateless_program_change(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some((job, old_job, root)) = jobs(ctx) else {
        return Vec::new();
    };
    if upgrade_mode(job) != "stateless" {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for field in ["jarURI", "entryClass"] {
        let (was, now) = (member(old_job, field), member(job, field));
        if was != now {
            let job_at = format!("{root}/job");
            hits.push(
                Hit::at(at_first(ctx, &[&format!("{job_at}/{field}"), &job_at]))
                    .arg("field", field)
                    .arg("old", shown(was))
                    .arg("new", shown(now)),
            );
        }
    }
    hits
}

/// FLK613: `check: native: max_parallelism_lowered`.
pub(super) const MAX_PARALLELISM_LOWERED: Native = Native {
    args: &["old", "new"],
    run: max_parallelism_lowered,
};

/// FLK613: `pipeline.max-parallelism` set lower than before on a job that keeps its state
/// across upgrades (`savepoint` or `last-state`).
fn max_parallelism_lowered(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some((new, old, root)) = specs(ctx) else {
        return Vec::new();
    };
    if member(new, "job").is_none_or(|job| upgrade_mode(job) == "stateless") {
        return Vec::new();
    }
    let max = |spec: &Value| {
        configuration(spec)
            .get(config::MAX_PARALLELISM)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|&n| n > 0)
    };
    let (Some(was), Some(now)) = (max(old), max(new)) else {
        return Vec::new();
    };
    if now >= was {
        return Vec::new();
    }
    let conf = format!("{root}/flinkConfiguration");
    // Where the key is written (flat or nested), for a spec at the top.
    let key = (root == "/spec")
        .then(|| super::flinkdeployment::key_pointer(ctx.obj, config::MAX_PARALLELISM))
        .flatten();
    vec![
        Hit::at(key.unwrap_or_else(|| at_first(ctx, &[&conf, root])))
            .arg("old", was)
            .arg("new", now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{NoContext, Registry, Settings, Subject};
    use serde_json::json;

    fn fd(spec: Value) -> Value {
        json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
            "metadata": {"name": "orders"}, "spec": spec})
    }

    fn run(
        check: fn(&Ctx<'_>) -> Vec<Hit>,
        new: &Value,
        old: Option<&Value>,
        webhook: bool,
    ) -> Vec<Hit> {
        let mut subject = Subject::offline(new, &NoContext).with_old(old);
        if webhook {
            subject.operation = Some(crate::engine::Operation::Update);
        }
        let settings = Settings::default();
        let registry = Registry::embedded().unwrap();
        check(&Ctx::new(&subject, &settings, registry))
    }

    #[test]
    fn the_last_reconciled_spec_is_read_in_both_formats_and_none_before_the_first_deployment() {
        let new = fd(json!({"job": {"jarURI": "local:///a.jar"}}));
        let session = json!({"flinkVersion": "v1_20"});
        let wrapped = json!({"spec": session, "resource_metadata": {"apiVersion": "v1beta1"}});
        for text in [wrapped.to_string(), session.to_string()] {
            let mut old = fd(json!({"job": {"jarURI": "local:///a.jar"}}));
            old["status"] = json!({"reconciliationStatus": {"lastReconciledSpec": text}});
            // The stored spec already has the job; the operator compares with what it deployed.
            let hits = run(cluster_type_switch, &new, Some(&old), true);
            assert_eq!(hits.len(), 1, "{text}");
            assert_eq!(hits[0].pointer, "/spec/job");
        }
        let mut before_first = fd(json!({}));
        before_first["status"] = json!({"reconciliationStatus": {"state": "UPGRADING"}});
        assert!(run(cluster_type_switch, &new, Some(&before_first), true).is_empty());
        assert!(run(cluster_type_switch, &new, Some(&before_first), false).is_empty());
        // No status: nothing deployed yet in the webhook; offline, the old file's spec.
        let plain = fd(json!({}));
        assert!(run(cluster_type_switch, &new, Some(&plain), true).is_empty());
        assert_eq!(run(cluster_type_switch, &new, Some(&plain), false).len(), 1);
        assert!(run(cluster_type_switch, &new, None, false).is_empty());
    }

    #[test]
    fn a_redeploy_nonce_needs_a_path_only_when_it_changes() {
        let job = |nonce: Value, path: Value| {
            fd(json!({"job": {"savepointRedeployNonce": nonce, "initialSavepointPath": path}}))
        };
        let old = job(json!(1), json!("s3://b/sp-1"));
        assert_eq!(
            run(
                savepoint_redeploy_without_path,
                &job(json!(2), json!("  ")),
                Some(&old),
                false
            )
            .len(),
            1
        );
        assert!(
            run(
                savepoint_redeploy_without_path,
                &job(json!(1), Value::Null),
                Some(&old),
                false
            )
            .is_empty()
        );
        assert!(
            run(
                savepoint_redeploy_without_path,
                &job(Value::Null, Value::Null),
                Some(&old),
                false
            )
            .is_empty()
        );
        assert!(
            run(
                savepoint_redeploy_without_path,
                &job(json!(2), json!("s3://b/sp-2")),
                Some(&old),
                false
            )
            .is_empty()
        );
    }
}
