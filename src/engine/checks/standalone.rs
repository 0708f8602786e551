//! A standalone Flink workload's effective configuration: the ConfigMap mounted at
//! `/opt/flink/conf`, then `FLINK_PROPERTIES`, then `-D` dynamic properties on the command line
//! (the order the image's entrypoint applies them).

use std::sync::Arc;

use serde_json::Value;

use super::Ctx;
use crate::flink::config::{self, FlinkConfig};
use crate::flink::image::{self, ConfigFileName, FlinkVersion};
use crate::flink::object::{self, ConfigMapVolume, Container, Role};

pub const LOG4J: &str = "log4j-console.properties";
pub const CONFIG_YAML: &str = "config.yaml";
pub const FLINK_CONF_YAML: &str = "flink-conf.yaml";

/// What a lookup in the world found.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Arc<Value>),
    /// The view is complete and the object is not there.
    Missing,
    /// The view is partial (files, or a cluster cache that is not ready).
    Unknown,
}

/// How the configuration directory is filled.
#[derive(Debug, Clone)]
pub enum Mount<'a> {
    /// Nothing is mounted at `/opt/flink/conf`.
    Nothing,
    /// Mounted from something that is not a ConfigMap (a Secret, an emptyDir, a PVC).
    Other { mount: String },
    ConfigMap {
        mount: String,
        /// Pointer to the volume in the object.
        volume: String,
        source: ConfigMapVolume<'a>,
        config_map: Lookup,
    },
}

/// The Flink configuration file a ConfigMap volume provides.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The ConfigMap key it comes from.
    pub key: String,
    /// The file name in the mount directory (`config.yaml` or `flink-conf.yaml`).
    pub file: &'static str,
    pub text: String,
}

/// Everything about one standalone workload's Flink setup.
#[derive(Debug, Clone)]
pub struct PodConfig<'a> {
    pub role: Option<Role>,
    pub spec_pointer: &'static str,
    pub container: Container<'a>,
    pub version: Option<FlinkVersion>,
    pub mount: Mount<'a>,
    pub file: Option<ConfigFile>,
    /// File, then `FLINK_PROPERTIES`, then `-D` arguments.
    pub config: FlinkConfig,
    /// Whether the file part of the configuration was read (so a missing key means unset).
    pub file_known: bool,
    /// Whether `FLINK_PROPERTIES` is set on the container.
    pub env_config: bool,
}

impl PodConfig<'_> {
    /// High availability with a storage directory, as far as can be seen: `Some(false)` only when
    /// the configuration was read (or given inline) and does not configure it.
    pub fn ha(&self) -> Option<bool> {
        let configured = ha_configured(&self.config);
        if configured || self.file_known || self.env_config {
            Some(configured)
        } else {
            None
        }
    }
}

/// High availability is on (mode set and not NONE) and has a storage directory.
pub fn ha_configured(cfg: &FlinkConfig) -> bool {
    cfg.ha_enabled() && cfg.ha_storage_dir().is_some()
}

/// The Flink container of a pod spec: the one whose command runs a Flink role, else the first
/// one with a Flink image, else the first one.
pub fn main_container<'a>(containers: &[Container<'a>]) -> Option<Container<'a>> {
    containers
        .iter()
        .find(|c| object::role_from_command(&c.command_line()).is_some())
        .or_else(|| containers.iter().find(|c| image::is_flink_image(c.image())))
        .or_else(|| containers.first())
        .copied()
}

/// Resolve a standalone workload. `None` when `obj` has no pod spec or no containers.
pub fn resolve<'a>(ctx: &Ctx<'_>, obj: &'a Value) -> Option<PodConfig<'a>> {
    let spec_pointer = object::pod_spec_pointer(obj)?;
    let pod_spec = obj.pointer(spec_pointer)?;
    let containers = object::containers(obj, spec_pointer);
    let container = main_container(&containers)?;
    let role = match object::classify(obj) {
        object::Class::Workload(r) => r,
        _ => None,
    };
    let version = image::from_image(container.image());
    let mount = match object::flink_conf_mount(pod_spec, &container) {
        None => Mount::Nothing,
        Some((mount, None)) => Mount::Other { mount },
        Some((mount, Some(source))) => {
            let volume = format!("{spec_pointer}/volumes/{}", source.volume_index);
            let config_map = find_config_map(ctx, obj, source.name);
            Mount::ConfigMap {
                mount,
                volume,
                source,
                config_map,
            }
        }
    };
    let mut file = None;
    let mut file_known = false;
    let mut cfg = FlinkConfig::default();
    if let Mount::ConfigMap {
        source,
        config_map: Lookup::Found(cm),
        ..
    } = &mount
    {
        file_known = true;
        if let Some(f) = config_file(cm, source, version) {
            cfg = parse_file(&f).0;
            file = Some(f);
        }
    }
    let env = container.env("FLINK_PROPERTIES");
    if let Some(text) = env {
        cfg.merge(&config::parse_flink_properties_env(text));
    }
    cfg.merge(&config::parse_dynamic_properties(&container.args()));
    Some(PodConfig {
        role,
        spec_pointer,
        container,
        version,
        mount,
        file,
        config: cfg,
        file_known,
        env_config: env.is_some(),
    })
}

/// Find a ConfigMap by name next to `obj`: one in the same namespace wins over one whose
/// namespace is not set (applied wherever the user points kubectl).
pub fn find_config_map(ctx: &Ctx<'_>, obj: &Value, name: &str) -> Lookup {
    let ns = object::namespace(obj);
    let candidates: Vec<Arc<Value>> = ctx
        .list("", "ConfigMap")
        .into_iter()
        .filter(|cm| object::name(cm) == name && object::same_namespace(object::namespace(cm), ns))
        .collect();
    let exact = candidates
        .iter()
        .rev()
        .find(|cm| ns.is_some() && object::namespace(cm) == ns);
    match exact.or(candidates.last()) {
        Some(cm) => Lookup::Found(cm.clone()),
        None if ctx.complete("", "ConfigMap") => Lookup::Missing,
        None => Lookup::Unknown,
    }
}

/// Keys of a ConfigMap (`data` and `binaryData`).
pub fn config_map_keys(cm: &Value) -> Vec<&str> {
    ["data", "binaryData"]
        .iter()
        .filter_map(|k| cm.get(*k).and_then(Value::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect()
}

/// The files a ConfigMap volume puts in the mount directory: (key, file name).
pub fn projected<'a>(cm: &'a Value, source: &'a ConfigMapVolume<'_>) -> Vec<(&'a str, &'a str)> {
    match source.projected_files() {
        Some(items) => items,
        None => config_map_keys(cm).into_iter().map(|k| (k, k)).collect(),
    }
}

/// The Flink configuration file Flink would read from this volume, for this version.
pub fn config_file(
    cm: &Value,
    source: &ConfigMapVolume<'_>,
    version: Option<FlinkVersion>,
) -> Option<ConfigFile> {
    let files = projected(cm, source);
    let wanted: &[&'static str] = match image::expected_config_file(version) {
        ConfigFileName::Yaml => &[CONFIG_YAML],
        ConfigFileName::Legacy => &[FLINK_CONF_YAML],
        ConfigFileName::Either => &[CONFIG_YAML, FLINK_CONF_YAML],
    };
    for want in wanted {
        if let Some((key, _)) = files.iter().find(|(_, path)| path == want) {
            let text = cm.get("data")?.get(*key)?.as_str()?;
            return Some(ConfigFile {
                key: key.to_string(),
                file: want,
                text: text.to_string(),
            });
        }
    }
    None
}

/// Parse a configuration file the way Flink reads it: `config.yaml` as standard YAML,
/// `flink-conf.yaml` with the legacy line parser. Returns the problems found too.
pub fn parse_file(f: &ConfigFile) -> (FlinkConfig, Vec<config::ConfigIssue>) {
    if f.file == CONFIG_YAML {
        match config::parse_yaml(&f.text) {
            Ok(c) => (c, Vec::new()),
            Err(e) => (FlinkConfig::default(), vec![e]),
        }
    } else {
        config::parse_legacy(&f.text)
    }
}

/// The Flink configuration files a ConfigMap holds, by key, if it is a Flink configuration.
pub fn flink_files(cm: &Value) -> Vec<ConfigFile> {
    let Some(data) = cm.get("data").and_then(Value::as_object) else {
        return Vec::new();
    };
    [CONFIG_YAML, FLINK_CONF_YAML]
        .iter()
        .filter_map(|file| {
            let text = data.get(*file)?.as_str()?;
            Some(ConfigFile {
                key: file.to_string(),
                file,
                text: text.to_string(),
            })
        })
        .collect()
}

/// The workloads around the subject that mount the ConfigMap `cm` as their Flink configuration.
pub fn users_of<'w>(
    ctx: &Ctx<'_>,
    workloads: &'w [Arc<Value>],
    cm: &Value,
) -> Vec<(&'w Arc<Value>, PodConfig<'w>)> {
    let name = object::name(cm);
    workloads
        .iter()
        .filter_map(|w| {
            let pc = resolve(ctx, w)?;
            match &pc.mount {
                Mount::ConfigMap { source, .. }
                    if source.name == name
                        && object::same_namespace(object::namespace(w), object::namespace(cm)) =>
                {
                    Some((w, pc))
                }
                _ => None,
            }
        })
        .collect()
}

/// Standalone JobManager workloads around the subject.
pub fn jobmanagers(ctx: &Ctx<'_>) -> Vec<Arc<Value>> {
    ctx.workloads()
        .into_iter()
        .filter(|w| object::classify(w) == object::Class::Workload(Some(Role::JobManager)))
        .collect()
}

/// Whether a Service's selector picks the pods of `workload`.
pub fn service_selects(svc: &Value, workload: &Value) -> bool {
    svc.pointer("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|sel| object::map_selects(sel, object::pod_labels(workload)))
}

/// The host part of `jobmanager.rpc.address`, reduced to a Service name
/// (`flink-jobmanager.ns.svc.cluster.local` -> `flink-jobmanager`).
pub fn service_name_of_address(address: &str) -> &str {
    address.split('.').next().unwrap_or(address)
}
