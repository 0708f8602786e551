//! One table of the Kubernetes kinds this project knows: group, version, kind, plural, where a
//! workload's pod spec sits, whether the webhook registers the kind and whether its cluster
//! cache watches it. The engine's workload lookups, the cluster cache, the ClusterRole, the
//! webhook registrations (and their tests) all read this table.

/// How the webhook's cluster cache treats a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Not watched: lookups of this kind are answered "unknown" (`is_complete` false).
    No,
    /// Listed and watched; the ClusterRole grants get, list, watch.
    Yes,
    /// A custom resource whose CRD may not be installed: a 404 counts as "synced, empty".
    Optional,
}

/// One Kubernetes kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// `""` is the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The resource name (`deployments`).
    pub plural: &'static str,
    /// Where the pod spec sits, for kinds that run pods.
    pub pod_spec: Option<&'static str>,
    /// Has a `/scale` subresource (`kubectl scale` sends an `autoscaling/v1 Scale` to it).
    pub scale: bool,
    /// Where the number of pods it asks for sits: `spec.replicas`, a Job's `spec.parallelism`,
    /// a FlinkDeployment's JobManager count, a Scale's `spec.replicas`.
    pub replicas: Option<&'static str>,
    /// The webhook registers this kind for the admission rules that target it. Kinds made by
    /// controllers from a template the webhook already checked (ReplicaSets, Pods), kinds that
    /// never carry a Flink process (DaemonSets: one per node) and generic high-volume kinds
    /// (ConfigMaps, Services) are not registered: see docs/webhook.md.
    pub admitted: bool,
    pub watch: Watch,
}

impl Kind {
    /// `plural` or `plural.group`, as RBAC and metrics name it.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// This kind with its replica count at `pointer`.
    pub const fn replicas_at(self, pointer: &'static str) -> Kind {
        Kind {
            replicas: Some(pointer),
            ..self
        }
    }

    /// `Kind` or `group/Kind`, for listings.
    pub fn display(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}/{}", self.group, self.kind)
        }
    }
}

const fn workload(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    pod_spec: &'static str,
    scale: bool,
    admitted: bool,
    watch: Watch,
) -> Kind {
    Kind {
        group,
        version: "v1",
        kind,
        plural,
        pod_spec: Some(pod_spec),
        scale,
        replicas: None,
        admitted,
        watch,
    }
}

const TEMPLATE: &str = "/spec/template/spec";
const REPLICAS: &str = "/spec/replicas";

/// Kinds whose pods can run Flink. Pods are not watched: a cluster has many, and a bare
/// JobManager Pod is rare; lookups of Pods are answered "unknown".
pub const WORKLOADS: &[Kind] = &[
    workload(
        "apps",
        "Deployment",
        "deployments",
        TEMPLATE,
        true,
        true,
        Watch::Yes,
    )
    .replicas_at(REPLICAS),
    workload(
        "apps",
        "StatefulSet",
        "statefulsets",
        TEMPLATE,
        true,
        true,
        Watch::Yes,
    )
    .replicas_at(REPLICAS),
    workload("batch", "Job", "jobs", TEMPLATE, false, true, Watch::Yes)
        .replicas_at("/spec/parallelism"),
    workload("", "Pod", "pods", "/spec", false, false, Watch::No),
    workload(
        "apps",
        "ReplicaSet",
        "replicasets",
        TEMPLATE,
        true,
        false,
        Watch::Yes,
    )
    .replicas_at(REPLICAS),
    workload(
        "apps",
        "DaemonSet",
        "daemonsets",
        TEMPLATE,
        false,
        false,
        Watch::Yes,
    ),
    workload(
        "",
        "ReplicationController",
        "replicationcontrollers",
        TEMPLATE,
        true,
        false,
        Watch::Yes,
    )
    .replicas_at(REPLICAS),
    workload(
        "batch",
        "CronJob",
        "cronjobs",
        "/spec/jobTemplate/spec/template/spec",
        false,
        false,
        Watch::Yes,
    ),
];

const fn other(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    admitted: bool,
    watch: Watch,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        pod_spec: None,
        scale: false,
        replicas: None,
        admitted,
        watch,
    }
}

/// The Flink Kubernetes Operator's custom resources.
pub const FLINK_RESOURCES: &[Kind] = &[
    other(
        super::object::FLINK_GROUP,
        "v1beta1",
        "FlinkDeployment",
        "flinkdeployments",
        true,
        Watch::Optional,
    )
    .replicas_at("/spec/jobManager/replicas"),
    other(
        super::object::FLINK_GROUP,
        "v1beta1",
        "FlinkSessionJob",
        "flinksessionjobs",
        true,
        Watch::No,
    ),
    other(
        super::object::FLINK_GROUP,
        "v1beta1",
        "FlinkStateSnapshot",
        "flinkstatesnapshots",
        true,
        Watch::No,
    ),
    other(
        super::object::FLINK_GROUP,
        "v1beta1",
        "FlinkBlueGreenDeployment",
        "flinkbluegreendeployments",
        true,
        Watch::No,
    ),
];

/// Everything else the engine or the cache knows.
pub const OTHERS: &[Kind] = &[
    other("", "v1", "Namespace", "namespaces", false, Watch::Yes),
    other("", "v1", "ConfigMap", "configmaps", false, Watch::Yes),
    other("", "v1", "Service", "services", false, Watch::Yes),
    other(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        Watch::No,
    ),
    // What `kubectl scale` sends to a workload's `/scale` subresource; registered as
    // `<plural>/scale` of the admitted workloads that have one.
    other("autoscaling", "v1", "Scale", "scale", true, Watch::No).replicas_at(REPLICAS),
    // Who may use ConfigMaps for Kubernetes HA (FLK323): read, never admitted.
    other(RBAC_GROUP, "v1", "Role", "roles", false, Watch::Yes),
    other(
        RBAC_GROUP,
        "v1",
        "RoleBinding",
        "rolebindings",
        false,
        Watch::Yes,
    ),
    other(
        RBAC_GROUP,
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        Watch::Yes,
    ),
    other(
        RBAC_GROUP,
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        Watch::Yes,
    ),
];

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Every kind in the table.
pub fn all() -> impl Iterator<Item = &'static Kind> {
    WORKLOADS.iter().chain(FLINK_RESOURCES).chain(OTHERS)
}

/// The entry for `group`/`kind`.
pub fn find(group: &str, kind: &str) -> Option<&'static Kind> {
    all().find(|k| k.group == group && k.kind == kind)
}

/// The workload entry for `group`/`kind`.
pub fn workload_kind(group: &str, kind: &str) -> Option<&'static Kind> {
    WORKLOADS
        .iter()
        .find(|k| k.group == group && k.kind == kind)
}

/// What the webhook's cluster cache watches (and the ClusterRole grants get, list, watch on).
pub fn watched() -> impl Iterator<Item = &'static Kind> {
    all().filter(|k| k.watch != Watch::No)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for k in all() {
            assert!(
                seen.insert((k.group, k.kind)),
                "{} is in the kinds table twice",
                k.display()
            );
        }
        assert!(WORKLOADS.iter().all(|k| k.pod_spec.is_some()));
        assert!(all().filter(|k| k.pod_spec.is_some()).count() == WORKLOADS.len());
    }

    #[test]
    fn pods_are_not_watched_and_deployments_are() {
        assert_eq!(find("", "Pod").map(|k| k.watch), Some(Watch::No));
        assert_eq!(
            find("apps", "Deployment").map(|k| k.watch),
            Some(Watch::Yes)
        );
        assert!(watched().any(|k| k.kind == "ReplicaSet"));
    }
}
