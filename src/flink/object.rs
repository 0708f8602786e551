//! Cheap read-only views over raw Kubernetes objects (`serde_json::Value`), and what makes an
//! object a Flink object: custom resources, standalone JobManager/TaskManager workloads, the
//! operator, and what the operator generates.
//!
//! Nothing here copies or re-serialises an object: the raw JSON stays the single source of truth.

use serde_json::{Map, Value};

use super::image;
use super::pointer::Pointer as _;

/// The API group of the Flink Kubernetes Operator's custom resources.
pub const FLINK_GROUP: &str = "flink.apache.org";

/// Where the standalone images read their configuration from.
pub const FLINK_CONF_DIR: &str = "/opt/flink/conf";

/// The container the Flink operator runs Flink in, in the pods it makes from a FlinkDeployment
/// (a pod template's container of that name is merged into it).
pub const MAIN_CONTAINER: &str = "flink-main-container";

/// Where the Flink image writes its log files; not writable by an arbitrary uid.
pub const FLINK_LOG_DIR: &str = "/opt/flink/log";

/// Where the operator downloads job jars (FLINK-30577).
pub const OPERATOR_ARTIFACTS_DIR: &str = "/opt/flink/artifacts";

/// The image's directories Flink cannot start without, and what it keeps there (every 1.x and
/// 2.x image: `FLINK_HOME` is `/opt/flink`).
pub const FLINK_ESSENTIAL_DIRS: &[(&str, &str)] = &[
    ("/opt/flink", "the whole Flink distribution"),
    (
        "/opt/flink/lib",
        "Flink's own jars (flink-dist, the Table runtime, Log4j), so the JVM finds no Flink classes",
    ),
    (
        "/opt/flink/bin",
        "the start scripts (jobmanager.sh, taskmanager.sh, config.sh) the entrypoint runs",
    ),
];

/// The image's plugins directory: the metrics reporters and other plugins Flink ships.
pub const FLINK_PLUGINS_DIRS: &[(&str, &str)] = &[(
    "/opt/flink/plugins",
    "the plugins the image ships (metrics reporters such as Prometheus and JMX, and those ENABLE_BUILT_IN_PLUGINS links from /opt/flink/opt)",
)];

/// `apiVersion`, `kind`, `metadata.namespace`, `metadata.name` of an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(obj: &Value) -> ObjectRef {
        ObjectRef {
            api_version: str_at(obj, "/apiVersion").unwrap_or_default().to_string(),
            kind: kind(obj).to_string(),
            namespace: namespace(obj).map(str::to_string),
            name: name(obj).to_string(),
        }
    }

    /// Whether `obj` has this identity: `ObjectRef::of(obj) == *self` without building one.
    pub fn is(&self, obj: &Value) -> bool {
        str_at(obj, "/apiVersion").unwrap_or_default() == self.api_version
            && kind(obj) == self.kind
            && namespace(obj) == self.namespace.as_deref()
            && name(obj) == self.name
    }

    /// `Kind/name` or `Kind/namespace/name`, for messages.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// The string at a JSON pointer, if it is a string.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.at(pointer).and_then(Value::as_str)
}

pub fn kind(obj: &Value) -> &str {
    str_at(obj, "/kind").unwrap_or("")
}

/// The group part of `apiVersion` (`""` for the core group).
pub fn group(obj: &Value) -> &str {
    group_of(str_at(obj, "/apiVersion").unwrap_or(""))
}

/// The group part of an `apiVersion` string.
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

pub fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name")
        .or_else(|| str_at(obj, "/metadata/generateName"))
        .unwrap_or("")
}

pub fn namespace(obj: &Value) -> Option<&str> {
    str_at(obj, "/metadata/namespace").filter(|s| !s.is_empty())
}

/// Two namespaces match when they are equal or when either is unknown (a manifest without
/// `metadata.namespace` is applied into whatever namespace the user picks).
pub fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    obj.at("/metadata/labels").and_then(Value::as_object)
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.at("/metadata/annotations")
        .and_then(Value::as_object)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
}

pub fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    labels(obj).and_then(|m| m.get(key)).and_then(Value::as_str)
}

/// Whether `value` is a label value the API server accepts: at most 63 characters,
/// alphanumerics with `-`, `_` and `.` inside, or empty.
pub fn is_label_value(value: &str) -> bool {
    let b = value.as_bytes();
    value.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.first().is_none_or(u8::is_ascii_alphanumeric)
        && b.last().is_none_or(u8::is_ascii_alphanumeric)
}

/// Whether an empty map under this key means the same to the API server as no key at all:
/// the optional structs of a pod spec and its containers (`securityContext` and what it holds,
/// `resources` and its `limits` and `requests`). A fix that removes the last field of one
/// removes the map too. Not so for a volume source: `emptyDir: {}` is a volume.
pub fn empty_is_absent(key: &str) -> bool {
    matches!(
        key,
        "securityContext"
            | "seLinuxOptions"
            | "seccompProfile"
            | "appArmorProfile"
            | "windowsOptions"
            | "capabilities"
            | "resources"
            | "limits"
            | "requests"
    )
}

/// The label that marks the operator's canary resources (its health check): they deploy no
/// pods, and the operator skips validating them.
pub const CANARY_LABEL: &str = "flink.apache.org/canary";

/// Whether `obj` is one of the operator's canary resources.
pub fn is_canary(obj: &Value) -> bool {
    label(obj, CANARY_LABEL).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Workload kinds that carry a pod template, and where their pod spec sits
/// ([`super::kinds::WORKLOADS`]).
pub fn pod_spec_pointer(obj: &Value) -> Option<&'static str> {
    super::kinds::workload_kind(group(obj), kind(obj)).and_then(|k| k.pod_spec)
}

/// A FlinkDeployment's pod templates' specs: shared, JobManager, TaskManager.
pub const FLINK_DEPLOYMENT_POD_SPECS: [&str; 3] = [
    "/spec/podTemplate/spec",
    "/spec/jobManager/podTemplate/spec",
    "/spec/taskManager/podTemplate/spec",
];

/// Every pod spec an object carries, as pointers: a workload's template, or a
/// FlinkDeployment's shared, JobManager and TaskManager pod templates.
pub fn pod_specs(obj: &Value) -> Vec<&'static str> {
    pod_spec_nodes(obj).into_iter().map(|(p, _)| p).collect()
}

/// [`pod_specs`] with the nodes they point at (a workload's even when absent: `Null`).
pub fn pod_spec_nodes(obj: &Value) -> Vec<(&'static str, &Value)> {
    const NULL: &Value = &Value::Null;
    if let Some(p) = pod_spec_pointer(obj) {
        return vec![(p, obj.at(p).unwrap_or(NULL))];
    }
    if group(obj) == FLINK_GROUP && kind(obj) == "FlinkDeployment" {
        return FLINK_DEPLOYMENT_POD_SPECS
            .iter()
            .filter_map(|p| Some((*p, obj.at(p).filter(|v| v.is_object())?)))
            .collect();
    }
    Vec::new()
}

/// The metadata of the pods a workload makes (`Pod`: its own metadata).
pub fn pod_metadata_pointer(obj: &Value) -> Option<String> {
    let spec = pod_spec_pointer(obj)?;
    Some(match spec.strip_suffix("/spec") {
        Some("") | None => "/metadata".to_string(),
        Some(prefix) => format!("{prefix}/metadata"),
    })
}

/// The metadata of the pods a workload makes, found without building a pointer (the same node
/// as [`pod_metadata_pointer`] points at).
fn pod_metadata(obj: &Value) -> Option<&Value> {
    let spec = pod_spec_pointer(obj)?;
    let base = match spec.strip_suffix("/spec") {
        Some(prefix) => obj.at(prefix)?,
        None => obj,
    };
    base.get("metadata")
}

/// Labels the workload's pods get.
pub fn pod_labels(obj: &Value) -> Option<&Map<String, Value>> {
    pod_metadata(obj)?.get("labels").and_then(Value::as_object)
}

/// One container of a pod spec, with the pointer to it.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub pointer_prefix: &'a str,
    pub list: &'static str,
    pub index: usize,
    pub value: &'a Value,
}

impl<'a> Container<'a> {
    pub fn pointer(&self) -> String {
        format!("{}/{}/{}", self.pointer_prefix, self.list, self.index)
    }
    pub fn name(&self) -> &'a str {
        str_at(self.value, "/name").unwrap_or("")
    }
    pub fn image(&self) -> &'a str {
        str_at(self.value, "/image").unwrap_or("")
    }
    /// `command` followed by `args`, as strings.
    pub fn command_line(&self) -> Vec<&'a str> {
        ["command", "args"]
            .iter()
            .filter_map(|k| self.value.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
    pub fn args(&self) -> Vec<String> {
        self.command_line().iter().map(|s| s.to_string()).collect()
    }
    /// The literal value of an environment variable (`value:`), if set that way.
    pub fn env(&self, var: &str) -> Option<&'a str> {
        self.value
            .get("env")
            .and_then(Value::as_array)?
            .iter()
            .find(|e| str_at(e, "/name") == Some(var))
            .and_then(|e| str_at(e, "/value"))
    }
    /// Where an environment variable set with `valueFrom` comes from (`Secret x key y`).
    pub fn env_source(&self, var: &str) -> Option<String> {
        let e = self
            .value
            .get("env")
            .and_then(Value::as_array)?
            .iter()
            .find(|e| str_at(e, "/name") == Some(var))?;
        let from = e.get("valueFrom")?;
        for (field, what) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
            if let Some(r) = from.get(field) {
                return Some(format!(
                    "{what} {} key {}",
                    str_at(r, "/name").unwrap_or("?"),
                    str_at(r, "/key").unwrap_or("?")
                ));
            }
        }
        Some("a valueFrom reference".to_string())
    }
    pub fn volume_mounts(&self) -> impl Iterator<Item = (usize, &'a Value)> {
        self.value
            .get("volumeMounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
    }
}

/// The regular containers of the pod spec at `pod_spec` (a pointer into `obj`).
pub fn containers<'a>(obj: &'a Value, pod_spec: &'a str) -> Vec<Container<'a>> {
    list_containers(obj, pod_spec, "containers")
}

/// The init containers of the pod spec at `pod_spec`.
pub fn init_containers<'a>(obj: &'a Value, pod_spec: &'a str) -> Vec<Container<'a>> {
    list_containers(obj, pod_spec, "initContainers")
}

/// Every container of the pod spec at `pod_spec`: `initContainers`, `containers`, then
/// `ephemeralContainers`.
pub fn all_containers<'a>(obj: &'a Value, pod_spec: &'a str) -> Vec<Container<'a>> {
    CONTAINER_LISTS
        .iter()
        .flat_map(|list| list_containers(obj, pod_spec, list))
        .collect()
}

/// The container lists of a pod spec, in the order [`all_containers`] lists them.
pub const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Where the metadata of the pods behind the pod spec at `pod_spec` sits: `/metadata` for a
/// bare Pod, the template's metadata otherwise (`/spec/podTemplate/metadata` for a
/// FlinkDeployment template).
pub fn metadata_of_pod_spec(pod_spec: &str) -> String {
    match pod_spec.strip_suffix("/spec") {
        Some("") | None => "/metadata".to_string(),
        Some(prefix) => format!("{prefix}/metadata"),
    }
}

/// Id blocks as OpenShift writes them in namespace annotations: comma-separated `START/SIZE`
/// or `START-END`; returns inclusive `(first, last)` pairs, `None` when malformed.
pub fn parse_id_blocks(text: &str) -> Option<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for block in text.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let (a, b, sized) = if let Some((a, b)) = block.split_once('/') {
            (a, b, true)
        } else {
            let (a, b) = block.split_once('-')?;
            (a, b, false)
        };
        let a: i64 = a.trim().parse().ok()?;
        let b: i64 = b.trim().parse().ok()?;
        let last = if sized {
            a.checked_add(b)?.checked_sub(1)?
        } else {
            b
        };
        if a < 0 || last < a {
            return None;
        }
        out.push((a, last));
    }
    (!out.is_empty()).then_some(out)
}

fn list_containers<'a>(
    obj: &'a Value,
    pod_spec: &'a str,
    list: &'static str,
) -> Vec<Container<'a>> {
    obj.at(pod_spec)
        .and_then(|spec| spec.get(list))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, value)| Container {
            pointer_prefix: pod_spec,
            list,
            index,
            value,
        })
        .collect()
}

/// Which part of a Flink cluster a standalone workload runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    JobManager,
    TaskManager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::JobManager => "jobmanager",
            Role::TaskManager => "taskmanager",
        }
    }
}

/// The kinds of the Flink Kubernetes Operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrKind {
    FlinkDeployment,
    FlinkSessionJob,
    FlinkStateSnapshot,
    FlinkBlueGreenDeployment,
}

/// What an object is, as far as Flink is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A `flink.apache.org` custom resource.
    Resource(CrKind),
    /// A standalone Flink workload (a JobManager, a TaskManager, or a Flink image with another job,
    /// such as a submitter running `flink run`).
    Workload(Option<Role>),
    /// The Flink Kubernetes Operator's own Deployment.
    Operator,
    /// Made by the operator from a FlinkDeployment (`type: flink-*-kubernetes`): judged there.
    Generated,
    /// A workload that is not Flink.
    OtherWorkload,
    ConfigMap,
    Service,
    HorizontalPodAutoscaler,
    /// `autoscaling/v1 Scale`, what `kubectl scale` sends to a `/scale` subresource.
    Scale,
    Other,
}

/// Classify one object on its own (no other objects needed).
pub fn classify(obj: &Value) -> Class {
    let kind = kind(obj);
    let group = group(obj);
    if group != FLINK_GROUP && is_generated(obj) {
        return Class::Generated;
    }
    if group == FLINK_GROUP {
        return match kind {
            "FlinkDeployment" => Class::Resource(CrKind::FlinkDeployment),
            "FlinkSessionJob" => Class::Resource(CrKind::FlinkSessionJob),
            "FlinkStateSnapshot" => Class::Resource(CrKind::FlinkStateSnapshot),
            "FlinkBlueGreenDeployment" => Class::Resource(CrKind::FlinkBlueGreenDeployment),
            _ => Class::Other,
        };
    }
    match (group, kind) {
        ("", "ConfigMap") => return Class::ConfigMap,
        ("", "Service") => return Class::Service,
        ("autoscaling", "HorizontalPodAutoscaler") => return Class::HorizontalPodAutoscaler,
        ("autoscaling", "Scale") => return Class::Scale,
        _ => {}
    }
    let Some(spec) = pod_spec_pointer(obj) else {
        return Class::Other;
    };
    let containers = containers(obj, spec);
    if containers
        .iter()
        .any(|c| image::is_operator_image(c.image()))
    {
        return Class::Operator;
    }
    match role(obj, &containers) {
        Some(role) => Class::Workload(Some(role)),
        None if containers.iter().any(|c| image::is_flink_image(c.image())) => {
            Class::Workload(None)
        }
        None => Class::OtherWorkload,
    }
}

/// The `type` label values of the objects and pods that Flink's native Kubernetes integration
/// and the operator's standalone mode make from a FlinkDeployment (with `app: <cluster-id>` and
/// `component: jobmanager|taskmanager`).
pub const GENERATED_TYPES: &[&str] = &["flink-native-kubernetes", "flink-standalone-kubernetes"];

/// Whether a label map (or a selector) carries a generated `type` (see [`GENERATED_TYPES`]).
pub fn has_generated_type(m: Option<&Map<String, Value>>) -> bool {
    m.and_then(|m| m.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| GENERATED_TYPES.contains(&t))
}

/// Objects the operator makes from a FlinkDeployment carry `type: flink-native-kubernetes` or
/// `flink-standalone-kubernetes`.
pub fn is_generated(obj: &Value) -> bool {
    has_generated_type(labels(obj)) || has_generated_type(pod_labels(obj))
}

/// The role a standalone workload plays: from its command line first (what actually runs),
/// then from the `component` labels.
fn role(obj: &Value, containers: &[Container<'_>]) -> Option<Role> {
    for c in containers {
        if let Some(r) = role_from_command(&c.command_line()) {
            return Some(r);
        }
    }
    let from_labels = |m: Option<&Map<String, Value>>| {
        let m = m?;
        ["component", "app.kubernetes.io/component"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .find_map(role_from_word)
    };
    from_labels(pod_labels(obj)).or_else(|| from_labels(labels(obj)))
}

/// `jobmanager` or `taskmanager` in any case, with any `-` and `_` in between.
fn role_from_word(word: &str) -> Option<Role> {
    let is = |target: &str| {
        let mut letters = word.bytes().filter(|b| !matches!(b, b'-' | b'_'));
        target
            .bytes()
            .all(|t| letters.next().is_some_and(|b| b.eq_ignore_ascii_case(&t)))
            && letters.next().is_none()
    };
    if is("jobmanager") {
        Some(Role::JobManager)
    } else if is("taskmanager") {
        Some(Role::TaskManager)
    } else {
        None
    }
}

/// `jobmanager`, `standalone-job`, `taskmanager` as the image entrypoint's first argument, or
/// the scripts `jobmanager.sh`, `standalone-job.sh`, `taskmanager.sh` run directly.
pub fn role_from_command(cmd: &[&str]) -> Option<Role> {
    for (i, word) in cmd.iter().enumerate() {
        let base = word.rsplit('/').next().unwrap_or(word);
        match base {
            "jobmanager.sh" | "standalone-job.sh" => return Some(Role::JobManager),
            "taskmanager.sh" => return Some(Role::TaskManager),
            // The docker entrypoint takes the role as its first argument.
            "jobmanager" | "standalone-job" if i == 0 || is_entrypoint(cmd[i - 1]) => {
                return Some(Role::JobManager);
            }
            "taskmanager" if i == 0 || is_entrypoint(cmd[i - 1]) => {
                return Some(Role::TaskManager);
            }
            _ => {}
        }
    }
    None
}

fn is_entrypoint(word: &str) -> bool {
    word.ends_with("docker-entrypoint.sh") || word.ends_with("/docker-entrypoint")
}

/// A Service's `spec.selector` (a plain map) selects `pod_labels` when every pair is present.
/// An empty or missing selector selects nothing (Kubernetes leaves such Services alone).
pub fn map_selects(selector: &Map<String, Value>, pod_labels: Option<&Map<String, Value>>) -> bool {
    if selector.is_empty() {
        return false;
    }
    let Some(labels) = pod_labels else {
        return false;
    };
    selector
        .iter()
        .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
}

/// A `metav1.LabelSelector` (`matchLabels` + `matchExpressions`) matches `labels`.
/// `None` when the selector is malformed.
pub fn label_selector_matches(
    selector: &Value,
    labels: Option<&Map<String, Value>>,
) -> Option<bool> {
    let empty = Map::new();
    let labels = labels.unwrap_or(&empty);
    if let Some(ml) = selector.get("matchLabels") {
        let ml = ml.as_object()?;
        if !ml.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return Some(false);
        }
    }
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = str_at(expr, "/key")?;
        let values: Vec<&str> = expr
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).and_then(Value::as_str);
        let ok = match str_at(expr, "/operator")? {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => !have.is_some_and(|h| values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => return None,
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

/// Whether a volume of `obj`'s pod spec takes ConfigMap `name` (as `configMap` or as a
/// `projected` source): a cheap test before a workload is resolved, since every ConfigMap
/// [`config_map_of_volume`] finds is one of these.
pub fn pod_volumes_name_config_map(obj: &Value, name: &str) -> bool {
    let Some(volumes) = pod_spec_pointer(obj)
        .and_then(|p| obj.at(p))
        .and_then(|spec| spec.get("volumes"))
        .and_then(Value::as_array)
    else {
        return false;
    };
    let names = |v: &Value| v.get("configMap").and_then(|cm| str_at(cm, "/name")) == Some(name);
    volumes.iter().any(|v| {
        names(v)
            || v.at("/projected/sources")
                .and_then(Value::as_array)
                .is_some_and(|sources| sources.iter().any(names))
    })
}

/// The name of the ConfigMap behind the volume called `volume` in the pod spec, if it is one
/// (a `configMap` volume or a `projected` volume with one ConfigMap source).
pub fn config_map_of_volume<'a>(pod_spec: &'a Value, volume: &str) -> Option<ConfigMapVolume<'a>> {
    let (index, vol) = pod_spec
        .get("volumes")
        .and_then(Value::as_array)?
        .iter()
        .enumerate()
        .find(|(_, v)| str_at(v, "/name") == Some(volume))?;
    if let Some(cm) = vol.get("configMap") {
        return Some(ConfigMapVolume {
            volume_index: index,
            source_pointer: "configMap".to_string(),
            name: str_at(cm, "/name")?,
            items: cm.get("items").and_then(Value::as_array),
            optional: cm.get("optional").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    let sources = vol.at("/projected/sources").and_then(Value::as_array)?;
    let (si, src) = sources
        .iter()
        .enumerate()
        .find(|(_, s)| s.get("configMap").is_some())?;
    let cm = src.get("configMap")?;
    Some(ConfigMapVolume {
        volume_index: index,
        source_pointer: format!("projected/sources/{si}/configMap"),
        name: str_at(cm, "/name")?,
        items: cm.get("items").and_then(Value::as_array),
        optional: cm.get("optional").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A ConfigMap volume as a pod spec declares it.
#[derive(Debug, Clone)]
pub struct ConfigMapVolume<'a> {
    pub volume_index: usize,
    /// Relative to the volume: `configMap` or `projected/sources/N/configMap`.
    pub source_pointer: String,
    pub name: &'a str,
    pub items: Option<&'a Vec<Value>>,
    pub optional: bool,
}

impl ConfigMapVolume<'_> {
    /// The file names this volume puts in the mount directory, keyed by ConfigMap key;
    /// `None` means "every key of the ConfigMap under its own name".
    pub fn projected_files(&self) -> Option<Vec<(&str, &str)>> {
        self.items.map(|items| {
            items
                .iter()
                .filter_map(|i| Some((str_at(i, "/key")?, str_at(i, "/path")?)))
                .collect()
        })
    }
}

/// What a container mounts at the Flink configuration directory.
#[derive(Debug, Clone)]
pub struct ConfMount<'a> {
    /// Pointer of the (first) volumeMount.
    pub mount: String,
    pub volume_name: String,
    /// The ConfigMap behind the volume, when it is one.
    pub volume: Option<ConfigMapVolume<'a>>,
    /// `subPath` mounts of single files (file name in the directory, path in the volume);
    /// `None` when the volume replaces the whole directory.
    pub single_files: Option<Vec<(String, String)>>,
}

/// What `container` mounts at the Flink configuration directory: the whole directory, or
/// single files with `subPath` (then the image's other files, such as its log4j configuration,
/// stay). Among single-file mounts, the volume that provides a Flink configuration file wins.
pub fn flink_conf_mount<'a>(
    pod_spec: &'a Value,
    container: &Container<'a>,
) -> Option<ConfMount<'a>> {
    let mut singles: Vec<(usize, &str, String, String)> = Vec::new();
    for (i, m) in container.volume_mounts() {
        let path = str_at(m, "/mountPath").unwrap_or("").trim_end_matches('/');
        let volume = str_at(m, "/name").unwrap_or("");
        let sub = str_at(m, "/subPath").filter(|s| !s.is_empty());
        if path == FLINK_CONF_DIR && sub.is_none() {
            return Some(ConfMount {
                mount: format!("{}/volumeMounts/{i}", container.pointer()),
                volume_name: volume.to_string(),
                volume: config_map_of_volume(pod_spec, volume),
                single_files: None,
            });
        }
        if let (Some(file), Some(sub)) = (
            path.strip_prefix(FLINK_CONF_DIR)
                .and_then(|r| r.strip_prefix('/'))
                .filter(|f| !f.is_empty() && !f.contains('/')),
            sub,
        ) {
            singles.push((i, volume, file.to_string(), sub.to_string()));
        }
    }
    let is_config = |f: &str| f == image::CONFIG_YAML || f == image::FLINK_CONF_YAML;
    let (first, volume, _, _) = singles
        .iter()
        .find(|(_, _, f, _)| is_config(f))
        .or_else(|| singles.first())?;
    let files = singles
        .iter()
        .filter(|(_, v, _, _)| v == volume)
        .map(|(_, _, f, s)| (f.clone(), s.clone()))
        .collect();
    Some(ConfMount {
        mount: format!("{}/volumeMounts/{first}", container.pointer()),
        volume_name: volume.to_string(),
        volume: config_map_of_volume(pod_spec, volume),
        single_files: Some(files),
    })
}

/// What a volume of the pod spec is, for messages: `Secret flink-conf`, `an emptyDir volume`.
pub fn volume_description(pod_spec: &Value, volume: &str) -> String {
    let found = pod_spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| str_at(v, "/name") == Some(volume));
    let Some(v) = found.and_then(Value::as_object) else {
        return format!("volume '{volume}', which the pod does not define");
    };
    if let Some(name) = v.get("secret").and_then(|s| str_at(s, "/secretName")) {
        return format!("Secret {name}");
    }
    match v.keys().find(|k| k.as_str() != "name") {
        Some(k) => format!("a {k} volume"),
        None => format!("volume '{volume}'"),
    }
}

/// The number a workload asks for: `spec.replicas` (default 1) for Deployments and
/// StatefulSets, `spec.parallelism` (default 1) for Jobs. With the pointer it lives at.
pub fn replicas(obj: &Value) -> Option<(i64, &'static str)> {
    if (group(obj), kind(obj)) == ("", "Pod") {
        return Some((1, ""));
    }
    let ptr = super::kinds::workload_kind(group(obj), kind(obj))?.replicas?;
    let n = match obj.at(ptr) {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_i64()?,
    };
    Some((n, ptr))
}

#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::json;

    #[test]
    fn volumes_naming_a_config_map_directly_or_projected() {
        let with = |volumes: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "spec": {"template": {"spec": {"containers": [{"name": "c"}], "volumes": volumes}}}})
        };
        let direct = with(json!([{"name": "v", "configMap": {"name": "flink-config"}}]));
        let projected = with(json!([{"name": "v", "projected": {"sources": [
            {"secret": {"name": "s"}}, {"configMap": {"name": "flink-config"}}]}}]));
        let other = with(json!([{"name": "flink-config", "emptyDir": {}},
                                {"name": "v", "configMap": {"name": "other"}}]));
        assert!(pod_volumes_name_config_map(&direct, "flink-config"));
        assert!(pod_volumes_name_config_map(&projected, "flink-config"));
        assert!(!pod_volumes_name_config_map(&other, "flink-config"));
        assert!(!pod_volumes_name_config_map(
            &with(json!(null)),
            "flink-config"
        ));
        assert!(!pod_volumes_name_config_map(
            &json!({"kind": "ConfigMap"}),
            "flink-config"
        ));
    }

    #[test]
    fn pod_spec_pointer_follows_the_kinds_table() {
        for k in crate::flink::kinds::WORKLOADS {
            let obj = json!({"apiVersion": k.api_version(), "kind": k.kind});
            assert_eq!(pod_spec_pointer(&obj), k.pod_spec, "{}", k.display());
        }
        assert_eq!(
            pod_spec_pointer(&json!({"apiVersion": "v1", "kind": "Service"})),
            None
        );
    }

    fn jm() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "flink-jobmanager"},
            "spec": {"replicas": 2, "template": {
                "metadata": {"labels": {"app": "flink", "component": "jobmanager"}},
                "spec": {"containers": [{"name": "jobmanager", "image": "apache/flink:1.20", "args": ["jobmanager"],
                    "volumeMounts": [{"name": "cfg", "mountPath": "/opt/flink/conf/"}]}],
                    "volumes": [{"name": "cfg", "configMap": {"name": "flink-config"}}]}}}
        })
    }

    #[test]
    fn classifies_standalone_roles_from_args_labels_and_scripts() {
        assert_eq!(classify(&jm()), Class::Workload(Some(Role::JobManager)));
        let mut tm = jm();
        tm["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["taskmanager"]);
        assert_eq!(classify(&tm), Class::Workload(Some(Role::TaskManager)));
        // no args: the labels decide
        let mut by_label = jm();
        by_label["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .map(|c| c.remove("args"));
        assert_eq!(classify(&by_label), Class::Workload(Some(Role::JobManager)));
        assert_eq!(
            role_from_command(&["/opt/flink/bin/standalone-job.sh", "start-foreground"]),
            Some(Role::JobManager)
        );
        // `flink run` in a Flink image is a Flink workload with no cluster role
        let submitter = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "s"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "flink:1.20", "command": ["flink", "run"]}]}}}});
        assert_eq!(classify(&submitter), Class::Workload(None));
        let nginx = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "n"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        assert_eq!(classify(&nginx), Class::OtherWorkload);
    }

    #[test]
    fn role_words_ignore_case_hyphens_and_underscores() {
        for w in [
            "jobmanager",
            "JobManager",
            "job-manager",
            "JOB_MANAGER",
            "job--manager_",
        ] {
            assert_eq!(role_from_word(w), Some(Role::JobManager), "{w}");
        }
        for w in ["taskmanager", "Task-Manager", "task_manager"] {
            assert_eq!(role_from_word(w), Some(Role::TaskManager), "{w}");
        }
        for w in [
            "",
            "job",
            "jobmanagers",
            "xjobmanager",
            "jobmanagér",
            "task manager",
        ] {
            assert_eq!(role_from_word(w), None, "{w}");
        }
    }

    #[test]
    fn object_ref_is_agrees_with_building_one() {
        let objs = [
            jm(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "flink-jobmanager", "namespace": "a"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "flink-jobmanager", "namespace": ""}}),
            json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "flink-jobmanager"}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "flink-jobmanager"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generateName": "flink-jobmanager"}}),
            json!({"kind": "Deployment"}),
            json!(null),
        ];
        for a in &objs {
            let r = ObjectRef::of(a);
            for b in &objs {
                assert_eq!(r.is(b), ObjectRef::of(b) == r, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn generated_and_custom_resources() {
        let mut g = jm();
        g["metadata"]["labels"] = json!({"type": "flink-native-kubernetes"});
        assert_eq!(classify(&g), Class::Generated);
        let fd = json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment"});
        assert_eq!(classify(&fd), Class::Resource(CrKind::FlinkDeployment));
        let wrong_group = json!({"apiVersion": "confluent.io/v1beta1", "kind": "FlinkDeployment"});
        assert_eq!(classify(&wrong_group), Class::Other);
    }

    #[test]
    fn config_mount_and_selectors() {
        let obj = jm();
        let spec = obj.at("/spec/template/spec").unwrap();
        let c = containers(&obj, "/spec/template/spec")[0];
        let m = flink_conf_mount(spec, &c).unwrap();
        assert_eq!(m.mount, "/spec/template/spec/containers/0/volumeMounts/0");
        assert_eq!(m.volume.unwrap().name, "flink-config");
        assert!(m.single_files.is_none());
        let sel = json!({"app": "flink", "component": "jobmanager"});
        assert!(map_selects(sel.as_object().unwrap(), pod_labels(&obj)));
        let other = json!({"app": "flink-oss"});
        assert!(!map_selects(other.as_object().unwrap(), pod_labels(&obj)));
        let ls = json!({"matchExpressions": [{"key": "component", "operator": "In", "values": ["jobmanager"]}]});
        assert_eq!(label_selector_matches(&ls, pod_labels(&obj)), Some(true));
        assert_eq!(replicas(&obj), Some((2, "/spec/replicas")));
    }

    #[test]
    fn label_values_as_the_api_server_accepts_them() {
        for ok in ["", "a", "session-1", "A.b_c-9", &"x".repeat(63)] {
            assert!(is_label_value(ok), "{ok:?}");
        }
        for bad in ["sess/ion~1", "-a", "a-", "a b", "é", &"x".repeat(64), "_a"] {
            assert!(!is_label_value(bad), "{bad:?}");
        }
    }
}
