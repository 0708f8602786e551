//! What Flink's Kubernetes high-availability services need before a standalone JobManager can
//! elect a leader: a valid cluster id of its own, and a ServiceAccount allowed to use
//! ConfigMaps (facts in `crate::flink::ha`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::standalone;
use super::{Ctx, Native};
use crate::engine::Hit;
use crate::flink::ha;
use crate::flink::object::{self, Role};
use crate::flink::pointer::Pointer as _;

use crate::flink::kinds::RBAC_GROUP as RBAC;

/// FLK322: `check: native: ha_cluster_id`.
pub(super) const HA_CLUSTER_ID: Native = Native {
    args: &["container", "problem"],
    run: ha_cluster_id,
};

/// FLK322: a standalone JobManager with Kubernetes HA whose `kubernetes.cluster-id` is unset,
/// not a valid name, or the cluster id of another JobManager in sight in its namespace.
fn ha_cluster_id(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if pc.role != Some(Role::JobManager) || !ha::is_kubernetes(&pc.config) {
        return Vec::new();
    }
    let hit = |problem: String| {
        Hit::at(pc.container.pointer())
            .arg("container", pc.container.name())
            .arg("problem", problem)
    };
    let Some(id) = ha::cluster_id(&pc.config) else {
        let h = hit("is not set: the HA services name their leader ConfigMaps after it and fail at start without it; set a name unique to this cluster in its namespace".to_string());
        return vec![h.unseen(pc.unseen.clone())];
    };
    if let Some(problem) = ha::cluster_id_problem(id) {
        return vec![hit(format!("'{id}' {problem}"))];
    }
    let others: Vec<String> = standalone::jobmanagers(ctx)
        .iter()
        .filter(|w| !std::ptr::eq(w.as_ref(), ctx.obj) && object::name(w) != object::name(ctx.obj))
        .filter(|w| object::same_namespace(object::namespace(w), ctx.namespace()))
        .filter_map(|w| {
            let other = standalone::resolve(ctx, w)?;
            (ha::is_kubernetes(&other.config) && ha::cluster_id(&other.config) == Some(id))
                .then(|| ctx.describe(w))
        })
        .collect();
    if others.is_empty() {
        return Vec::new();
    }
    vec![hit(format!(
        "'{id}' is also the cluster id of {}: both clusters would elect their leader and keep their jobs in the same ConfigMaps; give each cluster its own",
        others.join(", ")
    ))]
}

/// FLK323: `check: native: ha_service_account_rbac`.
pub(super) const HA_SERVICE_ACCOUNT_RBAC: Native = Native {
    args: &["account", "missing"],
    run: ha_service_account_rbac,
};

fn strs<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    object::str_at(v, pointer)
}

/// Whether `binding` (a RoleBinding in `ns`, or a ClusterRoleBinding) names the ServiceAccount
/// `account` of namespace `ns` among its subjects.
fn binds(binding: &Value, account: &str, ns: Option<&str>) -> bool {
    let binding_ns = object::namespace(binding);
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|s| {
            strs(s, "/kind") == Some("ServiceAccount")
                && strs(s, "/name") == Some(account)
                && object::same_namespace(strs(s, "/namespace").or(binding_ns), ns)
        })
}

/// FLK323: a standalone JobManager with Kubernetes HA whose ServiceAccount no Role or
/// ClusterRole in sight allows to get, list, watch, create, update and delete ConfigMaps.
fn ha_service_account_rbac(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if pc.role != Some(Role::JobManager) || !ha::is_kubernetes(&pc.config) {
        return Vec::new();
    }
    let spec = pc.spec_pointer;
    let pod = ctx.obj.at(spec);
    let (account, at) = match pod.and_then(|p| {
        ["serviceAccountName", "serviceAccount"]
            .into_iter()
            .find_map(|k| Some((p.get(k)?.as_str()?, k)))
    }) {
        Some((name, key)) => (name, format!("{spec}/{key}")),
        None => ("default", spec.to_string()),
    };
    let ns = ctx.namespace();
    let mut granted: BTreeSet<&'static str> = BTreeSet::new();
    for (binding_kind, namespaced) in [("RoleBinding", true), ("ClusterRoleBinding", false)] {
        for b in ctx.list(RBAC, binding_kind) {
            if !binds(&b, account, ns) {
                continue;
            }
            let (Some(kind), Some(name)) = (strs(&b, "/roleRef/kind"), strs(&b, "/roleRef/name"))
            else {
                continue;
            };
            let roles = ctx.list(RBAC, kind);
            let role = roles.iter().rev().find(|r| {
                object::name(r) == name
                    && (kind == "ClusterRole"
                        || (namespaced
                            && object::same_namespace(object::namespace(r), object::namespace(&b))))
            });
            if let Some(role) = role {
                granted.extend(ha::granted_configmap_verbs(role));
            }
        }
    }
    let missing: Vec<&str> = ha::CONFIGMAP_VERBS
        .iter()
        .copied()
        .filter(|v| !granted.contains(v))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let complete = ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]
        .iter()
        .all(|k| ctx.complete(RBAC, k));
    let unseen = (!complete).then(|| {
        format!("the Roles and bindings of ServiceAccount {account} could not be seen: they are not among the checked objects")
    });
    vec![
        Hit::at(at)
            .arg("account", account)
            .arg("missing", missing.join(", "))
            .unseen(unseen),
    ]
}
