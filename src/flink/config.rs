//! The Flink configuration as flat `key -> text` pairs, whatever it was written as: the legacy
//! `flink-conf.yaml` (Flink 1.x's line parser), the standard-YAML `config.yaml` (Flink 1.19+, the
//! only file Flink 2.x reads), a custom resource's `spec.flinkConfiguration` (flat or nested),
//! `-D` dynamic properties, or the docker image's `FLINK_PROPERTIES`.
//!
//! Plus what the rules need to know about keys: deprecated aliases, high availability, memory
//! sizes and ports.

use indexmap::IndexMap;
use serde_json::Value;

use super::quantity::{self, MemorySize, QuantityError};

pub const JOBMANAGER_RPC_ADDRESS: &str = "jobmanager.rpc.address";
/// Default 6123.
pub const JOBMANAGER_RPC_PORT: &str = "jobmanager.rpc.port";
pub const JOBMANAGER_RPC_PORT_DEFAULT: u16 = 6123;
/// A port, a range or a list; default `"0"` (a random port).
pub const BLOB_SERVER_PORT: &str = "blob.server.port";
pub const BLOB_SERVER_PORT_DEFAULT: &str = "0";
/// Default 8081.
pub const REST_PORT: &str = "rest.port";
pub const REST_PORT_DEFAULT: u16 = 8081;
pub const TASKMANAGER_RPC_PORT: &str = "taskmanager.rpc.port";
/// The fixed ports the Flink docs' standalone manifests use where Flink's default is random:
/// the blob server's and the TaskManagers' RPC (with 6123 and 8081, the defaults above).
pub const DOCS_BLOB_SERVER_PORT: u16 = 6124;
pub const DOCS_TASKMANAGER_RPC_PORT: u16 = 6122;
pub const TASK_SLOTS: &str = "taskmanager.numberOfTaskSlots";
pub const PARALLELISM_DEFAULT: &str = "parallelism.default";

pub const JM_PROCESS_SIZE: &str = "jobmanager.memory.process.size";
pub const JM_FLINK_SIZE: &str = "jobmanager.memory.flink.size";
pub const JM_HEAP_SIZE: &str = "jobmanager.memory.heap.size";
/// Deprecated since Flink 1.11; read as the JVM heap (`jobmanager.memory.heap.size`) by
/// standalone clusters.
pub const JM_HEAP_SIZE_LEGACY: &str = "jobmanager.heap.size";
pub const TM_PROCESS_SIZE: &str = "taskmanager.memory.process.size";
pub const TM_FLINK_SIZE: &str = "taskmanager.memory.flink.size";
/// Deprecated since Flink 1.10; read as the total Flink memory by standalone clusters.
pub const TM_HEAP_SIZE_LEGACY: &str = "taskmanager.heap.size";
pub const TM_TASK_HEAP: &str = "taskmanager.memory.task.heap.size";
pub const TM_MANAGED: &str = "taskmanager.memory.managed.size";

/// `HighAvailabilityOptions.HA_JOB_MANAGER_PORT_RANGE`: the JobManager's RPC port under
/// ZooKeeper HA, instead of `jobmanager.rpc.port` (default `"0"`, random).
pub const HA_JOBMANAGER_PORT: &str = "high-availability.jobmanager.port";
/// The port the REST server binds, when it differs from `rest.port` (its default).
pub const REST_BIND_PORT: &str = "rest.bind-port";
/// Where Flink writes its log files (default `/opt/flink/log` in the image).
pub const ENV_LOG_DIR: &str = "env.log.dir";
/// Where the REST API keeps uploaded jars (default under /tmp).
pub const WEB_UPLOAD_DIR: &str = "web.upload.dir";
/// Flink's temporary directories (default /tmp).
pub const IO_TMP_DIRS: &str = "io.tmp.dirs";
/// How the operator exposes the REST Service: ClusterIP, NodePort, LoadBalancer.
pub const REST_EXPOSED_TYPE: &str = "kubernetes.rest-service.exposed.type";
/// Flink's native decorator sets the pods' `hostNetwork`.
pub const HOST_NETWORK_ENABLED: &str = "kubernetes.hostnetwork.enabled";
/// The operator merges the lists of the shared and the role pod templates by name instead of
/// by position.
pub const MERGE_ARRAYS_BY_NAME: &str = "kubernetes.operator.pod-template.merge-arrays-by-name";
pub const KUBERNETES_CLUSTER_ID: &str = "kubernetes.cluster-id";
pub const KUBERNETES_NAMESPACE: &str = "kubernetes.namespace";
pub const HA_CLUSTER_ID: &str = "high-availability.cluster-id";

/// The high-availability mode, then its deprecated keys, in Flink's lookup order
/// (`HighAvailabilityOptions.HA_MODE`: `withDeprecatedKeys("recovery.mode", "high-availability")`).
pub const HA_TYPE_KEYS: &[&str] = &[
    "high-availability.type",
    "recovery.mode",
    "high-availability",
];
/// `HighAvailabilityOptions.HA_STORAGE_PATH` and its deprecated keys.
pub const HA_STORAGE_DIR_KEYS: &[&str] = &[
    "high-availability.storageDir",
    "high-availability.zookeeper.storageDir",
    "recovery.zookeeper.storageDir",
];
/// The job's maximum parallelism (the number of key groups its keyed state is split into).
pub const MAX_PARALLELISM: &str = "pipeline.max-parallelism";
/// `execution.checkpointing.dir` (Flink 1.20+) and its deprecated keys.
pub const CHECKPOINT_DIR_KEYS: &[&str] = &[
    "execution.checkpointing.dir",
    "state.checkpoints.dir",
    "state.backend.fs.checkpointdir",
];
/// `execution.checkpointing.savepoint-dir` (Flink 1.20+) and its deprecated keys.
pub const SAVEPOINT_DIR_KEYS: &[&str] = &[
    "execution.checkpointing.savepoint-dir",
    "state.savepoints.dir",
    "savepoints.state.backend.fs.dir",
];

/// A problem found while reading a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// 1-based line in the text, when known.
    pub line: Option<usize>,
    /// One line, no trailing period.
    pub message: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A Flink port option: `rest.port` and `jobmanager.rpc.port` take one port; `blob.server.port`,
/// `taskmanager.rpc.port`, `rest.bind-port` and friends also take ranges and lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// One port, 1..=65535.
    Fixed(u16),
    /// `0`: the operating system picks a port.
    Random,
    /// `50100-50200`, `50100,50101`, or a mix; the text, trimmed.
    RangeOrList(String),
    /// Anything else; the text, trimmed.
    Invalid(String),
}

impl PortSpec {
    pub fn parse(text: &str) -> PortSpec {
        let t = text.trim();
        if let Some(p) = parse_port(t) {
            return if p == 0 {
                PortSpec::Random
            } else {
                PortSpec::Fixed(p)
            };
        }
        let valid_part = |part: &str| -> bool {
            let part = part.trim();
            match part.split_once('-') {
                Some((lo, hi)) => match (parse_port(lo.trim()), parse_port(hi.trim())) {
                    (Some(lo), Some(hi)) => lo <= hi,
                    _ => false,
                },
                None => parse_port(part).is_some(),
            }
        };
        if (t.contains(',') || t.contains('-')) && t.split(',').all(valid_part) {
            PortSpec::RangeOrList(t.to_string())
        } else {
            PortSpec::Invalid(t.to_string())
        }
    }

    /// The port, when it is one fixed port.
    pub fn fixed(&self) -> Option<u16> {
        match self {
            PortSpec::Fixed(p) => Some(*p),
            _ => None,
        }
    }
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Flattened Flink configuration: `key -> text`, in first-insertion order, last write wins.
///
/// Backed by an insertion-ordered hash map: `insert`, `get` and `contains_key` are O(1)
/// (amortised), so reading a file of `n` lines is O(n).
#[derive(Debug, Clone, Default)]
pub struct FlinkConfig {
    entries: IndexMap<String, String>,
}

/// Equal when the same entries come in the same order (as the `Vec` it used to be).
impl PartialEq for FlinkConfig {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len() && self.iter().eq(other.iter())
    }
}

impl Eq for FlinkConfig {}

impl FlinkConfig {
    pub fn new() -> FlinkConfig {
        FlinkConfig::default()
    }

    /// Set `key` (replacing its value in place, or appending it).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        // `IndexMap::insert` keeps the first position of a key and replaces its value.
        self.entries.insert(key.into(), value);
    }

    /// Remove `key`, keeping the order of the others (O(n)).
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.shift_remove(key)
    }

    /// The entry of `key`. A configuration of a few keys (a FlinkDeployment's usual
    /// `flinkConfiguration`) is scanned: the rules ask it about a hundred keys per review, and
    /// comparing a few short keys costs less than hashing the one asked for with SipHash.
    fn entry(&self, key: &str) -> Option<(&str, &str)> {
        const SCAN: usize = 8;
        if self.entries.len() <= SCAN {
            self.entries
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(k, v)| (k.as_str(), v.as_str()))
        } else {
            self.entries
                .get_key_value(key)
                .map(|(k, v)| (k.as_str(), v.as_str()))
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The first of `keys` present, with its value (for a key and its deprecated aliases).
    pub fn get_any<'a>(&'a self, keys: &[&str]) -> Option<(&'a str, &'a str)> {
        keys.iter().find_map(|key| self.entry(key))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Put every entry of `other` over this one (`other` wins).
    pub fn merge(&mut self, other: &FlinkConfig) {
        self.entries.reserve(other.len());
        for (k, v) in &other.entries {
            match self.entries.get_mut(k.as_str()) {
                Some(slot) => slot.clone_from(v),
                None => {
                    self.entries.insert(k.clone(), v.clone());
                }
            }
        }
    }

    // --------------------------------------------------------------------------------------------
    // What the keys mean
    // --------------------------------------------------------------------------------------------

    /// The high-availability mode as written (`kubernetes`, `zookeeper`, `NONE`, a class name),
    /// from `high-availability.type`, else `recovery.mode`, else `high-availability`.
    pub fn ha_mode(&self) -> Option<String> {
        self.get_any(HA_TYPE_KEYS)
            .map(|(_, v)| v.trim().to_string())
    }

    /// Whether high availability is on: the mode is set, not blank, and neither `NONE` nor
    /// `standalone` (any case). Any other value counts, since Flink reads unknown values as a
    /// factory class name.
    pub fn ha_enabled(&self) -> bool {
        match self.ha_mode() {
            Some(mode) => {
                !mode.is_empty()
                    && !mode.eq_ignore_ascii_case("none")
                    && !mode.eq_ignore_ascii_case("standalone")
            }
            None => false,
        }
    }

    /// `high-availability.storageDir` (or a deprecated key), when set and not blank.
    pub fn ha_storage_dir(&self) -> Option<&str> {
        self.get_non_blank(HA_STORAGE_DIR_KEYS)
    }

    /// `execution.checkpointing.dir` (or a deprecated key), when set and not blank.
    pub fn checkpoint_dir(&self) -> Option<&str> {
        self.get_non_blank(CHECKPOINT_DIR_KEYS)
    }

    /// `execution.checkpointing.savepoint-dir` (or a deprecated key), when set and not blank.
    pub fn savepoint_dir(&self) -> Option<&str> {
        self.get_non_blank(SAVEPOINT_DIR_KEYS)
    }

    fn get_non_blank(&self, keys: &[&str]) -> Option<&str> {
        self.get_any(keys)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The memory size at `key` with Flink `MemorySize` semantics; `None` when unset.
    pub fn memory(&self, key: &str) -> Option<Result<MemorySize, QuantityError>> {
        self.get(key).map(quantity::parse_flink)
    }

    /// The port option at `key`; `None` when unset.
    pub fn port(&self, key: &str) -> Option<PortSpec> {
        self.get(key).map(PortSpec::parse)
    }

    /// The boolean option at `key` as Flink reads it; `None` when unset.
    ///
    /// Flink's `ConfigurationUtils.convertToBoolean` takes the text `true` or `false` in any
    /// case and refuses everything else, so the YAML 1.1 spellings `yes`, `no`, `on` and `off`
    /// written in `flink-conf.yaml` (whose legacy parser keeps values as text) stop Flink when
    /// it reads the option; they are an error here too, never "unset" and never `true`.
    pub fn boolean(&self, key: &str) -> Option<Result<bool, InvalidBoolean>> {
        self.get(key).map(parse_boolean)
    }
}

/// A boolean option whose text Flink refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBoolean {
    /// The text as written (trimmed).
    pub text: String,
}

impl std::fmt::Display for InvalidBoolean {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid boolean '{}': Flink accepts only true or false (in any case)",
            self.text
        )?;
        if matches!(
            self.text.to_ascii_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        ) {
            f.write_str(", not the YAML 1.1 spellings yes, no, on and off")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidBoolean {}

/// Flink's boolean conversion of a text value: `true` or `false`, case-insensitive.
pub fn parse_boolean(text: &str) -> Result<bool, InvalidBoolean> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(InvalidBoolean {
            text: t.to_string(),
        })
    }
}

/// Whether `key` is a Flink `MemorySize` option: the process memory model's sizes, minimums
/// and maximums (`taskmanager.memory.process.size`, `taskmanager.memory.network.min`,
/// `taskmanager.memory.segment-size`, ...) and the deprecated heap keys. Fractions and
/// switches under the same prefixes are not sizes.
pub fn is_memory_size_key(key: &str) -> bool {
    if key == JM_HEAP_SIZE_LEGACY || key == TM_HEAP_SIZE_LEGACY {
        return true;
    }
    let Some(rest) = key
        .strip_prefix("jobmanager.memory.")
        .or_else(|| key.strip_prefix("taskmanager.memory."))
    else {
        return false;
    };
    rest.ends_with(".size")
        || rest.ends_with(".min")
        || rest.ends_with(".max")
        || rest.ends_with("segment-size")
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for FlinkConfig {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut cfg = FlinkConfig::default();
        for (k, v) in iter {
            cfg.insert(k, v);
        }
        cfg
    }
}

// ------------------------------------------------------------------------------------------------
// Parsers
// ------------------------------------------------------------------------------------------------

/// `flink-conf.yaml` as Flink 1.x reads it (`GlobalConfiguration.loadYAMLResource`): per line,
/// everything from the first `#` is a comment (even inside quotes), the rest is trimmed, empty
/// lines are skipped, and the line splits on the first `": "` into a trimmed key and value. A line
/// that does not split, or splits into an empty key or value, is skipped and reported (Flink only
/// logs a warning). Values keep their text: no YAML unquoting, no nesting.
pub fn parse_legacy(text: &str) -> (FlinkConfig, Vec<ConfigIssue>) {
    let mut cfg = FlinkConfig::default();
    let mut issues = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let conf = raw.split('#').next().unwrap_or("").trim();
        if conf.is_empty() {
            continue;
        }
        let Some((key, value)) = conf.split_once(": ") else {
            issues.push(ConfigIssue {
                line: Some(line_no),
                message: format!(
                    "could not split key and value in \"{}\": expected `key: value` (a colon followed by a space)",
                    shorten(conf)
                ),
            });
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            let what = if key.is_empty() { "key" } else { "value" };
            issues.push(ConfigIssue {
                line: Some(line_no),
                message: format!(
                    "empty {what} after splitting \"{}\": expected `key: value`",
                    shorten(conf)
                ),
            });
            continue;
        }
        if is_memory_size_key(key)
            && let Err(e) = quantity::parse_flink(value)
        {
            // Flink fails at start-up on a size it cannot parse: an issue, not "unset". The
            // value is kept, so rules still see the key as set.
            issues.push(ConfigIssue {
                line: Some(line_no),
                message: format!("{key}: {e}"),
            });
        }
        cfg.insert(key, value);
    }
    (cfg, issues)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}

/// `config.yaml` (Flink 1.19+ standard YAML): parsed as YAML (only `true`/`false` are booleans,
/// `.inf`/`.nan` stay text), then [`flatten`]ed. A duplicate key is an error, with the line of
/// the second occurrence: Flink's loader (`YamlParserUtils`, `setAllowDuplicateKeys(false)`)
/// refuses the file at start-up. The text is the ConfigMap's data string, so lines count from
/// the first line of the file, not of the manifest. An empty document is an empty
/// configuration; a document that is not a mapping is an issue.
///
/// Aliases are fine, many of them to one anchor too (the alias-to-anchor ratio heuristic is
/// off); an alias bomb still stops at serde-saphyr's replay limit (a million events).
pub fn parse_yaml(text: &str) -> Result<FlinkConfig, ConfigIssue> {
    let mut options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    let mut budget = options.budget.take().unwrap_or_default();
    budget.enforce_alias_anchor_ratio = false;
    options.budget = Some(budget);
    let value: Value = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let line = e
            .location()
            .and_then(|l| usize::try_from(l.line()).ok())
            .filter(|l| *l > 0);
        ConfigIssue {
            line,
            message: yaml_error_message(&e.to_string()),
        }
    })?;
    match value {
        Value::Null => Ok(FlinkConfig::default()),
        Value::Object(_) => Ok(flatten(&value)),
        other => Err(ConfigIssue {
            line: None,
            message: format!(
                "the configuration is a YAML {}, expected a mapping of keys to values",
                json_kind(&other)
            ),
        }),
    }
}

/// The first line of a serde-saphyr error, without its `error: line N column M: ` prefix.
fn yaml_error_message(full: &str) -> String {
    let first = full.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error:").unwrap_or(first).trim_start();
    let stripped = first
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(pos, _)| {
            pos.split(' ')
                .all(|w| w == "column" || w.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(_, msg)| msg)
        .unwrap_or(first);
    // serde-saphyr's advice to the programmer is not for the user.
    let stripped = stripped
        .split_once(", set DuplicateKeyPolicy")
        .map_or(stripped, |(msg, _)| msg);
    let msg = if stripped.is_empty() {
        "invalid YAML"
    } else {
        stripped
    };
    if msg.starts_with("duplicate mapping key") {
        return format!("invalid YAML: {msg} (Flink refuses duplicate keys)");
    }
    format!("invalid YAML: {msg}")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// Flatten a configuration as the operator flattens `spec.flinkConfiguration`
/// (`ConfigObjectNode.asFlatMap`): nested mappings become dotted keys, lists become `;`-joined
/// text (an empty list is left out), scalars become text (`true`, `2`, `1.5`). A `null` value is
/// left out (the operator would write the text `null`). Flat dotted keys and nesting may be mixed;
/// a later entry for the same flattened key wins. Anything but a mapping flattens to nothing.
pub fn flatten(v: &Value) -> FlinkConfig {
    let mut cfg = FlinkConfig::default();
    if let Value::Object(map) = v {
        for (k, child) in map {
            flatten_into(&mut cfg, k, child);
        }
    }
    cfg
}

fn flatten_into(cfg: &mut FlinkConfig, key: &str, v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                flatten_into(cfg, &format!("{key}.{k}"), child);
            }
        }
        Value::Array(items) => {
            if !items.is_empty() {
                let joined: Vec<String> = items.iter().map(scalar_text).collect();
                cfg.insert(key, joined.join(";"));
            }
        }
        Value::Null => {}
        scalar => cfg.insert(key, scalar_text(scalar)),
    }
}

/// Jackson's `asText()`: the text of a scalar, `""` for a container, `null` for null.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// Dynamic properties from container arguments: `-Dkey=value` and `-D key=value` (two
/// arguments). The value is everything after the first `=`; `-Dkey` alone means `key=true` (Apache
/// Commons CLI's `getOptionProperties`). Other arguments are ignored.
pub fn parse_dynamic_properties(args: &[String]) -> FlinkConfig {
    let mut cfg = FlinkConfig::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let prop = if arg == "-D" {
            i += 1;
            args.get(i).map(String::as_str)
        } else {
            arg.strip_prefix("-D")
        };
        if let Some(prop) = prop {
            let (key, value) = match prop.split_once('=') {
                Some((k, v)) => (k.trim(), v),
                None => (prop.trim(), "true"),
            };
            if !key.is_empty() {
                cfg.insert(key, value);
            }
        }
        i += 1;
    }
    cfg
}

/// The docker image's `FLINK_PROPERTIES`: newline-separated `key: value` lines appended to the
/// configuration file, read like [`parse_legacy`] (problem lines are dropped).
pub fn parse_flink_properties_env(text: &str) -> FlinkConfig {
    parse_legacy(text).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `flink-conf.yaml` from the Flink docs' standalone Kubernetes ConfigMap
    /// (corpus/flink-docs/standalone-kubernetes/flink-configuration-configmap.yaml).
    const DOCS_FLINK_CONF: &str = "jobmanager.rpc.address: flink-jobmanager
taskmanager.numberOfTaskSlots: 2
blob.server.port: 6124
jobmanager.rpc.port: 6123
taskmanager.rpc.port: 6122
queryable-state.proxy.ports: 6125
jobmanager.memory.process.size: 1600m
taskmanager.memory.process.size: 1728m
parallelism.default: 2
";

    /// `config.yaml` from corpus/jbcodeforce/deployment/k8s/flink-oss/flink-configuration-configmap.yaml
    /// (note the trailing spaces on the last line, as in the file).
    const JB_CONFIG_YAML: &str = "jobmanager.rpc.address: flink-jobmanager
taskmanager.numberOfTaskSlots: 2
blob.server.port: 6124
jobmanager.rpc.port: 6123
taskmanager.rpc.port: 6122
jobmanager.memory.process.size: 1600m
taskmanager.memory.process.size: 1728m
parallelism.default: 2    
";

    /// `spec.flinkConfiguration` of
    /// corpus/flink-kubernetes-operator/api-test-resources/test-deployment-yaml-configuration.yaml
    const OPERATOR_NESTED: &str = "taskmanager:
  numberOfTaskSlots: \"2\"
state:
  savepoints:
    dir: file:///flink-data/savepoints
  checkpoints:
    dir: file:///flink-data/checkpoints
high-availability:
  type: kubernetes
  storageDir: file:///flink-data/ha
";

    /// `spec.flinkConfiguration` of
    /// corpus/flink-kubernetes-operator/api-test-resources/test-deployment-key-value-configuration.yaml
    const OPERATOR_FLAT: &str = "taskmanager.numberOfTaskSlots: \"2\"
state.savepoints.dir: file:///flink-data/savepoints
state.checkpoints.dir: file:///flink-data/checkpoints
high-availability.type: kubernetes
high-availability.storageDir: file:///flink-data/ha
";

    fn yaml_value(text: &str) -> Value {
        match serde_saphyr::from_str(text) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn pairs(cfg: &FlinkConfig) -> Vec<(&str, &str)> {
        cfg.iter().collect()
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn legacy_docs_configmap() {
        let (cfg, issues) = parse_legacy(DOCS_FLINK_CONF);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            pairs(&cfg),
            vec![
                ("jobmanager.rpc.address", "flink-jobmanager"),
                ("taskmanager.numberOfTaskSlots", "2"),
                ("blob.server.port", "6124"),
                ("jobmanager.rpc.port", "6123"),
                ("taskmanager.rpc.port", "6122"),
                ("queryable-state.proxy.ports", "6125"),
                ("jobmanager.memory.process.size", "1600m"),
                ("taskmanager.memory.process.size", "1728m"),
                ("parallelism.default", "2"),
            ]
        );
        assert_eq!(cfg.get(JOBMANAGER_RPC_ADDRESS), Some("flink-jobmanager"));
        assert_eq!(cfg.port(BLOB_SERVER_PORT), Some(PortSpec::Fixed(6124)));
        assert_eq!(cfg.port(JOBMANAGER_RPC_PORT), Some(PortSpec::Fixed(6123)));
        assert_eq!(cfg.port(REST_PORT), None);
        assert_eq!(
            cfg.memory(JM_PROCESS_SIZE),
            Some(Ok(MemorySize(1600 << 20)))
        );
        assert_eq!(
            cfg.memory(TM_PROCESS_SIZE),
            Some(Ok(MemorySize(1728 << 20)))
        );
        assert_eq!(cfg.memory(TM_FLINK_SIZE), None);
        assert_eq!(cfg.get(TASK_SLOTS), Some("2"));
        assert!(!cfg.ha_enabled());
        assert_eq!(cfg.ha_mode(), None);
    }

    #[test]
    fn legacy_comments_and_odd_lines() {
        let text = "# a comment
  jobmanager.rpc.address:   flink-jm   # trailing comment

env.java.opts: -XX:+UseG1GC -Dfoo=bar
password: abc#def
quoted: \"a # b\"
noseparator:value
trailing.colon:
: novalue
url: http://host:8081/path
key with spaces : v
rest.port: 8081
rest.port: 9091
\t\ttabbed.key: tabbed value\t
";
        let (cfg, issues) = parse_legacy(text);
        assert_eq!(cfg.get("jobmanager.rpc.address"), Some("flink-jm"));
        assert_eq!(cfg.get("env.java.opts"), Some("-XX:+UseG1GC -Dfoo=bar"));
        // `#` always starts a comment in the legacy parser, even inside a value or quotes
        assert_eq!(cfg.get("password"), Some("abc"));
        assert_eq!(cfg.get("quoted"), Some("\"a"));
        // only the first ": " splits
        assert_eq!(cfg.get("url"), Some("http://host:8081/path"));
        assert_eq!(cfg.get("key with spaces"), Some("v"));
        // last write wins, first position kept
        assert_eq!(cfg.get(REST_PORT), Some("9091"));
        assert_eq!(cfg.get("tabbed.key"), Some("tabbed value"));
        assert_eq!(cfg.get("noseparator:value"), None);
        assert_eq!(cfg.get("trailing.colon"), None);
        let lines: Vec<Option<usize>> = issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![Some(7), Some(8), Some(9)]);
        assert!(
            issues[0]
                .message
                .contains("could not split key and value in \"noseparator:value\""),
            "{}",
            issues[0].message
        );
        assert!(issues[1].message.contains("\"trailing.colon:\""));
        assert!(
            issues[2].message.contains("empty key"),
            "{}",
            issues[2].message
        );
        assert_eq!(
            issues[0].to_string(),
            format!("line 7: {}", issues[0].message)
        );
        assert!(issues.iter().all(|i| !i.message.contains('\n')));
    }

    #[test]
    fn legacy_booleans_as_flink_reads_them() {
        // The legacy parser keeps text; Flink's boolean conversion takes true/false in any
        // case and throws on anything else, YAML 1.1 spellings included.
        let (cfg, issues) =
            parse_legacy("a: true\nb: FALSE\nc: True\nd: yes\ne: off\nf: On\ng: 1\nh: no\n");
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(cfg.boolean("a"), Some(Ok(true)));
        assert_eq!(cfg.boolean("b"), Some(Ok(false)));
        assert_eq!(cfg.boolean("c"), Some(Ok(true)));
        for key in ["d", "e", "f", "g", "h"] {
            assert!(matches!(cfg.boolean(key), Some(Err(_))), "{key}");
        }
        assert_eq!(cfg.get("d"), Some("yes"));
        assert_eq!(cfg.boolean("unset"), None);
        let e = parse_boolean("yes").unwrap_err();
        assert_eq!(e.text, "yes");
        assert!(e.to_string().contains("YAML 1.1"), "{e}");
        assert!(
            !parse_boolean("1")
                .unwrap_err()
                .to_string()
                .contains("YAML 1.1")
        );
        assert_eq!(parse_boolean(" false "), Ok(false));
    }

    #[test]
    fn legacy_unparseable_memory_sizes_are_reported() {
        let (cfg, issues) = parse_legacy(
            "taskmanager.memory.process.size: 2 gigs\n\
             jobmanager.memory.process.size: -1Gi\n\
             taskmanager.memory.managed.size: 512 mb\n\
             taskmanager.memory.network.max: 1Gi\n\
             taskmanager.memory.network.fraction: 0.1\n\
             taskmanager.heap.size: lots\n\
             jobmanager.memory.enable-jvm-direct-memory-limit: true\n",
        );
        let lines: Vec<Option<usize>> = issues.iter().map(|i| i.line).collect();
        assert_eq!(
            lines,
            vec![Some(1), Some(2), Some(4), Some(6)],
            "{issues:?}"
        );
        assert!(
            issues[0]
                .message
                .starts_with("taskmanager.memory.process.size: ")
        );
        assert!(
            issues[0].message.contains("'2 gigs'"),
            "{}",
            issues[0].message
        );
        assert!(
            issues[1].message.contains("negative"),
            "{}",
            issues[1].message
        );
        assert!(issues.iter().all(|i| !i.message.contains('\n')));
        // still set: a rule must not read the key as absent
        assert!(cfg.contains_key(TM_PROCESS_SIZE));
        assert!(matches!(cfg.memory(TM_PROCESS_SIZE), Some(Err(_))));
        assert_eq!(cfg.memory(TM_MANAGED), Some(Ok(MemorySize(512 << 20))));
        assert!(is_memory_size_key("taskmanager.memory.segment-size"));
        assert!(is_memory_size_key("jobmanager.memory.jvm-overhead.min"));
        assert!(!is_memory_size_key("taskmanager.memory.network.fraction"));
        assert!(!is_memory_size_key("rest.port"));
    }

    #[test]
    fn legacy_large_file_keeps_every_key_in_order() {
        // 40 000 distinct keys (how long that takes is a benchmark's business, not a test's).
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&format!("key.number.{i}: value-{i}\n"));
        }
        let (cfg, issues) = parse_legacy(&text);
        let mut merged = cfg.clone();
        merged.merge(&cfg);
        assert!(issues.is_empty());
        assert_eq!(cfg.len(), 40_000);
        assert_eq!(merged, cfg);
        assert_eq!(cfg.get("key.number.39999"), Some("value-39999"));
        assert_eq!(cfg.keys().next(), Some("key.number.0"));
    }

    #[test]
    fn equality_is_ordered() {
        let ab: FlinkConfig = [("a", "1"), ("b", "2")].into_iter().collect();
        let ba: FlinkConfig = [("b", "2"), ("a", "1")].into_iter().collect();
        assert_ne!(ab, ba);
        assert_eq!(ab, ab.clone());
    }

    #[test]
    fn legacy_reads_nested_yaml_wrongly_like_flink() {
        // Flink 1.x's line parser does not understand nesting: `high-availability:` alone is
        // not a pair, and the indented `type: kubernetes` becomes a top-level key.
        let (cfg, issues) = parse_legacy("high-availability:\n  type: kubernetes\n");
        assert_eq!(pairs(&cfg), vec![("type", "kubernetes")]);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, Some(1));
        assert!(!cfg.ha_enabled());
    }

    #[test]
    fn legacy_empty_and_crlf() {
        assert_eq!(parse_legacy(""), (FlinkConfig::default(), vec![]));
        assert_eq!(
            parse_legacy("\n\n# x\n   \n"),
            (FlinkConfig::default(), vec![])
        );
        let (cfg, issues) = parse_legacy("a: 1\r\nb: 2\r\n");
        assert!(issues.is_empty());
        assert_eq!(pairs(&cfg), vec![("a", "1"), ("b", "2")]);
    }

    #[test]
    fn yaml_jbcodeforce_config() {
        let cfg = match parse_yaml(JB_CONFIG_YAML) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            pairs(&cfg),
            vec![
                ("jobmanager.rpc.address", "flink-jobmanager"),
                ("taskmanager.numberOfTaskSlots", "2"),
                ("blob.server.port", "6124"),
                ("jobmanager.rpc.port", "6123"),
                ("taskmanager.rpc.port", "6122"),
                ("jobmanager.memory.process.size", "1600m"),
                ("taskmanager.memory.process.size", "1728m"),
                ("parallelism.default", "2"),
            ]
        );
        // the same text through the legacy parser gives the same configuration
        let (legacy, issues) = parse_legacy(JB_CONFIG_YAML);
        assert!(issues.is_empty());
        assert_eq!(legacy, cfg);
    }

    #[test]
    fn yaml_nested_and_typed() {
        let text = "high-availability:
  type: kubernetes
  storageDir: s3://bucket/ha
kubernetes.cluster-id: my-cluster
env:
  java:
    opts:
      all: -XX:+UseG1GC
pipeline.jars: [file:///a.jar, file:///b.jar]
execution.checkpointing.interval: 10s
state.backend.local-recovery: true
taskmanager.memory.network.fraction: 0.10
scheduler-mode: yes
empty:
quoted: \"a # b\"
weird: .inf
";
        let cfg = match parse_yaml(text) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cfg.get("high-availability.type"), Some("kubernetes"));
        assert_eq!(cfg.ha_storage_dir(), Some("s3://bucket/ha"));
        assert_eq!(cfg.get(KUBERNETES_CLUSTER_ID), Some("my-cluster"));
        assert_eq!(cfg.get("env.java.opts.all"), Some("-XX:+UseG1GC"));
        assert_eq!(
            cfg.get("pipeline.jars"),
            Some("file:///a.jar;file:///b.jar")
        );
        assert_eq!(cfg.get("execution.checkpointing.interval"), Some("10s"));
        assert_eq!(cfg.get("state.backend.local-recovery"), Some("true"));
        assert_eq!(cfg.get("taskmanager.memory.network.fraction"), Some("0.1"));
        // YAML 1.2, as Flink's parser: `yes` is text
        assert_eq!(cfg.get("scheduler-mode"), Some("yes"));
        assert_eq!(cfg.get("empty"), None);
        // a real YAML parser: `#` inside quotes is not a comment
        assert_eq!(cfg.get("quoted"), Some("a # b"));
        assert_eq!(cfg.get("weird"), Some(".inf"));
        assert!(cfg.ha_enabled());
    }

    #[test]
    fn yaml_duplicates_are_refused_like_flink() {
        // Flink's YamlParserUtils sets `allowDuplicateKeys(false)`: the file does not load.
        let e =
            parse_yaml("rest.port: 8081\nparallelism.default: 2\nrest.port: 9091\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("duplicate"), "{}", e.message);
        assert!(e.message.contains("rest.port"), "{}", e.message);
        assert!(!e.message.contains("DuplicateKeyPolicy"), "{}", e.message);
        assert!(!e.message.contains('\n'));
        // nested duplicates too
        let e =
            parse_yaml("high-availability:\n  type: kubernetes\n  type: zookeeper\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        // the same flattened key written flat and nested is not a YAML duplicate
        let cfg = parse_yaml("a.b: flat\na:\n  b: nested\n");
        assert_eq!(
            cfg.map(|c| c.get("a.b").map(str::to_string)),
            Ok(Some("nested".into()))
        );
    }

    #[test]
    fn yaml_empty() {
        assert_eq!(parse_yaml(""), Ok(FlinkConfig::default()));
        assert_eq!(parse_yaml("# nothing\n"), Ok(FlinkConfig::default()));
    }

    #[test]
    fn yaml_many_aliases_to_one_anchor_are_fine() {
        let mut text = String::from("base: &dir s3://bucket/flink\n");
        for i in 0..100 {
            text.push_str(&format!("key{i}: *dir\n"));
        }
        let cfg = match parse_yaml(&text) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cfg.len(), 101);
        assert_eq!(cfg.get("key99"), Some("s3://bucket/flink"));
    }

    #[test]
    fn yaml_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let e = parse_yaml(&text).unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn yaml_errors() {
        let e = parse_yaml("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(e.line.is_some());
        assert!(e.message.starts_with("invalid YAML: "), "{}", e.message);
        assert!(!e.message.contains('\n'));
        assert!(!e.message.contains("column"), "{}", e.message);

        let e = parse_yaml("a: 1\n  b: 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);

        let e = parse_yaml("- a\n- b\n").unwrap_err();
        assert_eq!(e.line, None);
        assert!(e.message.contains("YAML list"), "{}", e.message);
        let e = parse_yaml("just text").unwrap_err();
        assert!(e.message.contains("YAML string"), "{}", e.message);

        let e = parse_yaml("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn yaml_error_message_cleanup() {
        assert_eq!(
            yaml_error_message("error: line 1 column 4: unclosed bracket '['\n --> x"),
            "invalid YAML: unclosed bracket '['"
        );
        assert_eq!(
            yaml_error_message("something odd"),
            "invalid YAML: something odd"
        );
        assert_eq!(yaml_error_message(""), "invalid YAML: invalid YAML");
    }

    #[test]
    fn flatten_operator_nested_and_flat_agree() {
        let nested = flatten(&yaml_value(OPERATOR_NESTED));
        let flat = flatten(&yaml_value(OPERATOR_FLAT));
        let expected = vec![
            ("taskmanager.numberOfTaskSlots", "2"),
            ("state.savepoints.dir", "file:///flink-data/savepoints"),
            ("state.checkpoints.dir", "file:///flink-data/checkpoints"),
            ("high-availability.type", "kubernetes"),
            ("high-availability.storageDir", "file:///flink-data/ha"),
        ];
        assert_eq!(pairs(&nested), expected);
        assert_eq!(pairs(&flat), expected);
        for cfg in [&nested, &flat] {
            assert!(cfg.ha_enabled());
            assert_eq!(cfg.ha_mode().as_deref(), Some("kubernetes"));
            assert_eq!(cfg.ha_storage_dir(), Some("file:///flink-data/ha"));
            assert_eq!(cfg.checkpoint_dir(), Some("file:///flink-data/checkpoints"));
            assert_eq!(cfg.savepoint_dir(), Some("file:///flink-data/savepoints"));
        }
    }

    #[test]
    fn flatten_scalars_arrays_and_mixing() {
        let v = json!({
            "high-availability.type": "kubernetes",
            "high-availability": {"storageDir": "s3://x"},
            "a": {"b": {"c": 1, "d": true, "e": 1.5, "f": null, "g": [], "h": ["x", 2, false]}},
            "nested.in.array": [{"k": "v"}, "y"],
            "int": 2,
            "neg": -7,
            "empty": {},
            "str": ""
        });
        let cfg = flatten(&v);
        assert_eq!(
            pairs(&cfg),
            vec![
                ("high-availability.type", "kubernetes"),
                ("high-availability.storageDir", "s3://x"),
                ("a.b.c", "1"),
                ("a.b.d", "true"),
                ("a.b.e", "1.5"),
                ("a.b.h", "x;2;false"),
                ("nested.in.array", ";y"),
                ("int", "2"),
                ("neg", "-7"),
                ("str", ""),
            ]
        );
        // anything but a mapping flattens to nothing
        assert!(flatten(&json!("text")).is_empty());
        assert!(flatten(&json!([1, 2])).is_empty());
        assert!(flatten(&Value::Null).is_empty());
    }

    #[test]
    fn flatten_same_key_twice_last_wins() {
        let v = json!({"a": {"b": "nested"}, "a.b": "flat"});
        assert_eq!(pairs(&flatten(&v)), vec![("a.b", "flat")]);
        let v = json!({"a.b": "flat", "a": {"b": "nested"}});
        assert_eq!(pairs(&flatten(&v)), vec![("a.b", "nested")]);
    }

    #[test]
    fn dynamic_properties() {
        let cfg = parse_dynamic_properties(&args(&[
            "jobmanager",
            "-Djobmanager.rpc.address=flink-jm",
            "-D",
            "taskmanager.resource-id=$(POD_NAME)",
            "-Denv.java.opts=-Da=b -Dc=d",
            "-Dflag",
            "--host",
            "$(POD_IP)",
            "-D=novalue",
            "-Dempty=",
            "-D",
        ]));
        assert_eq!(
            pairs(&cfg),
            vec![
                ("jobmanager.rpc.address", "flink-jm"),
                ("taskmanager.resource-id", "$(POD_NAME)"),
                ("env.java.opts", "-Da=b -Dc=d"),
                ("flag", "true"),
                ("empty", ""),
            ]
        );
        // the operator's HA args for Flink 2.x
        let cfg = parse_dynamic_properties(&args(&[
            "standalone-job",
            "-D",
            "jobmanager.rpc.address=$(POD_IP)",
        ]));
        assert_eq!(cfg.get(JOBMANAGER_RPC_ADDRESS), Some("$(POD_IP)"));
        assert!(parse_dynamic_properties(&[]).is_empty());
    }

    #[test]
    fn flink_properties_env() {
        let cfg = parse_flink_properties_env(
            "jobmanager.rpc.address: jm\ntaskmanager.numberOfTaskSlots: 4\n  \nbroken line\nparallelism.default: 3",
        );
        assert_eq!(
            pairs(&cfg),
            vec![
                ("jobmanager.rpc.address", "jm"),
                ("taskmanager.numberOfTaskSlots", "4"),
                ("parallelism.default", "3"),
            ]
        );
    }

    #[test]
    fn merge_order_file_env_args() {
        let (mut cfg, _) = parse_legacy(DOCS_FLINK_CONF);
        cfg.merge(&parse_flink_properties_env(
            "taskmanager.numberOfTaskSlots: 8\nnew.key: x",
        ));
        cfg.merge(&parse_dynamic_properties(&args(&["-Dnew.key=y"])));
        assert_eq!(cfg.get(TASK_SLOTS), Some("8"));
        assert_eq!(cfg.get("new.key"), Some("y"));
        assert_eq!(cfg.len(), 10);
        // first position kept
        assert_eq!(cfg.keys().nth(1), Some(TASK_SLOTS));
        assert_eq!(cfg.keys().last(), Some("new.key"));
    }

    #[test]
    fn map_operations() {
        let mut cfg = FlinkConfig::new();
        assert!(cfg.is_empty());
        cfg.insert("a", "1");
        cfg.insert("b".to_string(), "2".to_string());
        cfg.insert("a", "3");
        assert_eq!(pairs(&cfg), vec![("a", "3"), ("b", "2")]);
        assert!(cfg.contains_key("b"));
        assert_eq!(cfg.remove("a"), Some("3".to_string()));
        assert_eq!(cfg.remove("a"), None);
        assert_eq!(cfg.len(), 1);
        let collected: FlinkConfig = [("x", "1"), ("x", "2")].into_iter().collect();
        assert_eq!(pairs(&collected), vec![("x", "2")]);
    }

    #[test]
    fn get_any_prefers_the_first_key_listed() {
        let cfg: FlinkConfig = [
            ("state.checkpoints.dir", "s3://old"),
            ("execution.checkpointing.dir", "s3://new"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            cfg.get_any(CHECKPOINT_DIR_KEYS),
            Some(("execution.checkpointing.dir", "s3://new"))
        );
        assert_eq!(cfg.checkpoint_dir(), Some("s3://new"));
        assert_eq!(
            cfg.get_any(&["nope", "state.checkpoints.dir"]),
            Some(("state.checkpoints.dir", "s3://old"))
        );
        assert_eq!(cfg.get_any(&[]), None);
        let legacy: FlinkConfig = [
            ("state.backend.fs.checkpointdir", "hdfs:///cp"),
            ("savepoints.state.backend.fs.dir", "hdfs:///sp"),
        ]
        .into_iter()
        .collect();
        assert_eq!(legacy.checkpoint_dir(), Some("hdfs:///cp"));
        assert_eq!(legacy.savepoint_dir(), Some("hdfs:///sp"));
        let blank: FlinkConfig = [("execution.checkpointing.savepoint-dir", "  ")]
            .into_iter()
            .collect();
        assert_eq!(blank.savepoint_dir(), None);
    }

    #[test]
    fn ha_modes() {
        let with = |pairs: &[(&str, &str)]| -> FlinkConfig { pairs.iter().copied().collect() };
        assert!(with(&[("high-availability.type", "kubernetes")]).ha_enabled());
        assert!(with(&[("high-availability.type", "ZooKeeper")]).ha_enabled());
        assert!(
            with(&[(
                "high-availability.type",
                "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"
            )])
            .ha_enabled()
        );
        assert!(with(&[("high-availability.type", "nonsense")]).ha_enabled());
        assert!(!with(&[("high-availability.type", "NONE")]).ha_enabled());
        assert!(!with(&[("high-availability.type", "none")]).ha_enabled());
        assert!(!with(&[("high-availability.type", "Standalone")]).ha_enabled());
        assert!(!with(&[("high-availability.type", "  ")]).ha_enabled());
        assert!(!with(&[]).ha_enabled());
        // deprecated keys
        assert!(with(&[("high-availability", "kubernetes")]).ha_enabled());
        assert!(with(&[("recovery.mode", "zookeeper")]).ha_enabled());
        // the primary key wins over deprecated ones, even when it switches HA off
        let cfg = with(&[
            ("high-availability", "kubernetes"),
            ("high-availability.type", "NONE"),
        ]);
        assert_eq!(cfg.ha_mode().as_deref(), Some("NONE"));
        assert!(!cfg.ha_enabled());
        // Flink's deprecated-key order: recovery.mode before high-availability
        let cfg = with(&[
            ("high-availability", "kubernetes"),
            ("recovery.mode", "zookeeper"),
        ]);
        assert_eq!(cfg.ha_mode().as_deref(), Some("zookeeper"));
        // storage dir aliases
        assert_eq!(
            with(&[("high-availability.zookeeper.storageDir", "hdfs:///ha")]).ha_storage_dir(),
            Some("hdfs:///ha")
        );
        assert_eq!(
            with(&[("recovery.zookeeper.storageDir", "hdfs:///r")]).ha_storage_dir(),
            Some("hdfs:///r")
        );
        assert_eq!(
            with(&[("high-availability.storageDir", "")]).ha_storage_dir(),
            None
        );
    }

    #[test]
    fn memory_values() {
        let cfg: FlinkConfig = [
            (JM_PROCESS_SIZE, "2048m"),
            (TM_PROCESS_SIZE, "2Gi"),
            (TM_FLINK_SIZE, "1.5g"),
            (TM_MANAGED, "512 mb"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            cfg.memory(JM_PROCESS_SIZE),
            Some(Ok(MemorySize(2048 << 20)))
        );
        assert!(matches!(cfg.memory(TM_PROCESS_SIZE), Some(Err(_))));
        assert!(matches!(cfg.memory(TM_FLINK_SIZE), Some(Err(_))));
        assert_eq!(cfg.memory(TM_MANAGED), Some(Ok(MemorySize(512 << 20))));
        assert_eq!(cfg.memory(JM_HEAP_SIZE), None);
    }

    #[test]
    fn ports() {
        assert_eq!(PortSpec::parse("6123"), PortSpec::Fixed(6123));
        assert_eq!(PortSpec::parse(" 6124 "), PortSpec::Fixed(6124));
        assert_eq!(PortSpec::parse("0"), PortSpec::Random);
        assert_eq!(PortSpec::parse("00"), PortSpec::Random);
        assert_eq!(
            PortSpec::parse("50100-50200"),
            PortSpec::RangeOrList("50100-50200".into())
        );
        assert_eq!(
            PortSpec::parse("50100,50101"),
            PortSpec::RangeOrList("50100,50101".into())
        );
        assert_eq!(
            PortSpec::parse("50100-50200, 50300"),
            PortSpec::RangeOrList("50100-50200, 50300".into())
        );
        for bad in [
            "",
            "abc",
            "65536",
            "-1",
            "6123-",
            "50200-50100",
            "1,,2",
            "1.5",
            "+80",
            "80a",
        ] {
            assert_eq!(
                PortSpec::parse(bad),
                PortSpec::Invalid(bad.into()),
                "{bad:?}"
            );
        }
        assert_eq!(PortSpec::parse("65535").fixed(), Some(65535));
        assert_eq!(PortSpec::parse("0").fixed(), None);
        let cfg: FlinkConfig = [(BLOB_SERVER_PORT, "6124-6130")].into_iter().collect();
        assert_eq!(
            cfg.port(BLOB_SERVER_PORT),
            Some(PortSpec::RangeOrList("6124-6130".into()))
        );
        assert_eq!(cfg.port(REST_PORT), None);
        assert_eq!(PortSpec::parse(BLOB_SERVER_PORT_DEFAULT), PortSpec::Random);
    }

    /// Odd input: sound problems (or none), no panic.
    #[test]
    fn odd_input_gives_sound_problems() {
        for text in [
            "\u{0}",
            "é: ü",
            ":",
            ": ",
            "#",
            "a: #",
            "{",
            "[",
            "&a *a",
            "*x",
            "!!binary x",
            "? a",
            "a: !!int x",
            "a:\n  - b\n  - {c: d}\n",
            "\t: \t",
            "a: b\r",
            "\u{feff}a: 1",
            "a: &x [*x]",
            "- - - -",
            "%YAML 1.1\n---\na: 1",
        ] {
            // A problem is one non-empty line at a line of the text, never a panic.
            let lines = text.lines().count().max(1);
            let sound = |issue: &ConfigIssue| {
                !issue.message.is_empty()
                    && !issue.message.contains('\n')
                    && issue.line.is_none_or(|l| (1..=lines).contains(&l))
            };
            let (legacy, issues) = parse_legacy(text);
            assert!(issues.iter().all(sound), "{text:?}: {issues:?}");
            if let Err(issue) = parse_yaml(text) {
                assert!(sound(&issue), "{text:?}: {issue:?}");
            }
            assert_eq!(parse_flink_properties_env(text), legacy, "{text:?}");
            assert!(
                matches!(PortSpec::parse(text), PortSpec::Invalid(_)),
                "{text:?} is no port"
            );
            // `-D` without a value sets nothing.
            let dynamic = parse_dynamic_properties(&args(&[text, "-D", text, "-D"]));
            assert!(dynamic.iter().count() <= 1, "{text:?}");
        }
    }

    #[test]
    fn key_constants() {
        assert_eq!(JOBMANAGER_RPC_PORT, "jobmanager.rpc.port");
        assert_eq!(JOBMANAGER_RPC_PORT_DEFAULT, 6123);
        assert_eq!(BLOB_SERVER_PORT, "blob.server.port");
        assert_eq!(REST_PORT, "rest.port");
        assert_eq!(REST_PORT_DEFAULT, 8081);
        assert_eq!(TASK_SLOTS, "taskmanager.numberOfTaskSlots");
        assert_eq!(JM_FLINK_SIZE, "jobmanager.memory.flink.size");
        assert_eq!(JM_HEAP_SIZE, "jobmanager.memory.heap.size");
        assert_eq!(TM_FLINK_SIZE, "taskmanager.memory.flink.size");
        assert_eq!(TM_TASK_HEAP, "taskmanager.memory.task.heap.size");
        assert_eq!(TM_MANAGED, "taskmanager.memory.managed.size");
        assert_eq!(KUBERNETES_CLUSTER_ID, "kubernetes.cluster-id");
    }
}
