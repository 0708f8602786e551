//! What Flink's Kubernetes high-availability services need to start (every version since 1.12,
//! 2.x included): a `kubernetes.cluster-id`, which names the ConfigMaps that hold leadership
//! and job pointers (`<cluster-id>-cluster-config-map`, `<cluster-id>-<job-id>-config-map`), and
//! a ServiceAccount allowed to read, watch, create, update and delete those ConfigMaps.

use serde_json::Value;

use super::config::{self, FlinkConfig};

/// `KubernetesHaServicesFactory`: the class name the mode may be written as.
const FACTORY: &str = "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory";

/// Whether the configuration switches on Flink's Kubernetes HA services.
pub fn is_kubernetes(cfg: &FlinkConfig) -> bool {
    cfg.ha_enabled()
        && cfg
            .ha_mode()
            .is_some_and(|m| m.eq_ignore_ascii_case("kubernetes") || m == FACTORY)
}

/// The cluster id, when set and not blank.
pub fn cluster_id(cfg: &FlinkConfig) -> Option<&str> {
    cfg.get(config::KUBERNETES_CLUSTER_ID)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Flink's own limit on a cluster id (`KubernetesUtils`, for the names derived from it).
pub const CLUSTER_ID_MAX_LEN: usize = 45;

/// What is wrong with a cluster id as the name of the ConfigMaps Flink derives from it (a
/// DNS-1035 label: lower-case letters, digits and `-`, starting with a letter and ending with
/// a letter or digit, at most 45 characters); `None` when it is fine.
pub fn cluster_id_problem(id: &str) -> Option<String> {
    if id.len() > CLUSTER_ID_MAX_LEN {
        return Some(format!(
            "is {} characters long, more than Flink's {CLUSTER_ID_MAX_LEN}",
            id.len()
        ));
    }
    let bytes = id.as_bytes();
    let ok = bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .last()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    (!ok).then(|| {
        "is not a valid name: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit".to_string()
    })
}

/// The verbs on ConfigMaps that Flink's Kubernetes HA services use (the Flink docs' HA RBAC).
pub const CONFIGMAP_VERBS: &[&str] = &["get", "list", "watch", "create", "update", "delete"];

/// The ConfigMap verbs of `CONFIGMAP_VERBS` that the rules of a Role or ClusterRole grant
/// (`rules[].apiGroups` `""` or `*`, `resources` `configmaps` or `*`, no `resourceNames`).
pub fn granted_configmap_verbs(role: &Value) -> Vec<&'static str> {
    let strs = |r: &Value, k: &str| -> Vec<String> {
        r.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for r in role
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let groups = strs(r, "apiGroups");
        let resources = strs(r, "resources");
        let verbs = strs(r, "verbs");
        let names = strs(r, "resourceNames");
        if !names.is_empty()
            || !groups.iter().any(|g| g.is_empty() || g == "*")
            || !resources.iter().any(|x| x == "configmaps" || x == "*")
        {
            continue;
        }
        for v in CONFIGMAP_VERBS {
            if verbs.iter().any(|x| x == v || x == "*") && !out.contains(v) {
                out.push(*v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubernetes_ha_by_name_or_factory() {
        let cfg = |mode: &str| -> FlinkConfig {
            [
                ("high-availability.type", mode),
                ("high-availability.storageDir", "s3://x"),
            ]
            .into_iter()
            .collect()
        };
        assert!(is_kubernetes(&cfg("kubernetes")));
        assert!(is_kubernetes(&cfg("KUBERNETES")));
        assert!(is_kubernetes(&cfg(FACTORY)));
        assert!(!is_kubernetes(&cfg("zookeeper")));
        assert!(!is_kubernetes(&cfg("NONE")));
    }

    #[test]
    fn cluster_ids() {
        assert_eq!(cluster_id_problem("orders"), None);
        assert_eq!(cluster_id_problem("orders-2"), None);
        for bad in ["Orders", "orders_1", "1orders", "orders-", "", "a.b"] {
            assert!(cluster_id_problem(bad).is_some(), "{bad:?}");
        }
        assert!(cluster_id_problem(&"a".repeat(46)).unwrap().contains("45"));
        assert_eq!(cluster_id_problem(&"a".repeat(45)), None);
    }

    #[test]
    fn configmap_verbs_from_role_rules() {
        let docs = json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"],
            "verbs": ["create", "edit", "delete", "get", "list", "watch", "update"]}]});
        assert_eq!(granted_configmap_verbs(&docs).len(), CONFIGMAP_VERBS.len());
        let all = json!({"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
        assert_eq!(granted_configmap_verbs(&all).len(), CONFIGMAP_VERBS.len());
        let read = json!({"rules": [{"apiGroups": [""], "resources": ["configmaps", "pods"],
            "verbs": ["get", "list", "watch"]}]});
        assert_eq!(granted_configmap_verbs(&read), vec!["get", "list", "watch"]);
        let named = json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"],
            "resourceNames": ["x"], "verbs": ["*"]}]});
        assert!(granted_configmap_verbs(&named).is_empty());
        let apps = json!({"rules": [{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]}]});
        assert!(granted_configmap_verbs(&apps).is_empty());
    }
}
