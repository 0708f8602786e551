//! A standalone Flink workload's effective configuration: the ConfigMap mounted at
//! `/opt/flink/conf`, then `FLINK_PROPERTIES`, then `-D` dynamic properties on the command line
//! (the order the image's entrypoint applies them).

use crate::flink::pointer::Pointer as _;
use std::sync::Arc;

use serde_json::Value;

use super::Ctx;
use crate::engine::context::{Context, ParsedConfig, Resolved};
use crate::flink::config::{self, FlinkConfig};
use crate::flink::image::{self, ConfigFileName, FlinkVersion};
use crate::flink::object::{self, ConfigMapVolume, Container, Role};

pub const LOG4J: &str = "log4j-console.properties";
pub const CONFIG_YAML: &str = "config.yaml";
pub const FLINK_CONF_YAML: &str = "flink-conf.yaml";

/// What a lookup in the world found.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The object, and the file it was read from when that is not the subject's own file.
    Found(Arc<Value>, Option<String>),
    /// The view is complete and the object is not there.
    Missing,
    /// The view is partial (files, or a cluster cache that is not ready).
    Unknown,
    /// Equally near candidates in these files: the engine does not pick one.
    Ambiguous(Vec<String>),
}

impl Lookup {
    pub fn found(&self) -> Option<&Arc<Value>> {
        match self {
            Lookup::Found(o, _) => Some(o),
            _ => None,
        }
    }
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
        /// `subPath` mounts of single files into the directory: (file name, path in the
        /// volume). The image's other files (its log4j configuration) stay. `None`: the whole
        /// directory is the volume.
        single_files: Option<Vec<(String, String)>>,
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
    /// Whether `FLINK_PROPERTIES` is set on the container (literally or from a reference) and
    /// the image's entrypoint applies it.
    pub env_config: bool,
    /// What part of the configuration could not be seen, for messages; `None`: all of it was.
    pub unseen: Option<String>,
    /// The JobManager advertises its pod IP (`$(POD_IP)`), as HA setups do.
    pub advertises_pod_ip: bool,
    /// What the layers over the file set (`JOB_MANAGER_RPC_ADDRESS`, `FLINK_PROPERTIES`,
    /// `-D`): they win over whatever the unseen file says.
    pub overrides: FlinkConfig,
    /// What `JOB_MANAGER_RPC_ADDRESS` and `FLINK_PROPERTIES` set but never reaches Flink: the
    /// image's entrypoint writes them into the configuration file, which a ConfigMap mount
    /// makes read-only (see [`conf_read_only`]).
    pub env_ignored: FlinkConfig,
}

impl PodConfig<'_> {
    /// High availability as far as can be seen: `Some(true)` when configured, `Some(false)`
    /// only when the whole configuration was seen and does not switch it on, `None` when part
    /// of it could not be seen.
    pub fn ha(&self) -> Option<bool> {
        if ha_configured(&self.config) {
            Some(true)
        } else if self.overrides.ha_mode().is_some() && !self.overrides.ha_enabled() {
            // `-Dhigh-availability.type=NONE` overrides any file.
            Some(false)
        } else if self.unseen.is_some() {
            None
        } else {
            Some(false)
        }
    }

    /// What could not be seen, when it leaves HA undecided (`None` once HA is known).
    pub fn ha_unseen(&self) -> Option<String> {
        match self.ha() {
            Some(_) => None,
            None => self.unseen.clone(),
        }
    }

    /// HA is switched on (a mode is set) even if its storage directory is missing: the
    /// configuration means HA, and FLK309 reports the missing directory.
    pub fn ha_intended(&self) -> bool {
        self.config.ha_enabled()
    }

    /// Whether a rule that needs "no HA" should stay silent: HA is configured or meant, or
    /// the configuration is unseen and the pod advertises its IP as HA setups do.
    pub fn ha_or_likely(&self) -> bool {
        self.ha() == Some(true)
            || self.ha_intended()
            || (self.ha().is_none() && self.advertises_pod_ip)
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

/// Whether the image's `/docker-entrypoint.sh` runs, so that `FLINK_PROPERTIES` and
/// `JOB_MANAGER_RPC_ADDRESS` are applied: no `command` (the image's entrypoint), or a command
/// that calls it.
pub fn entrypoint_applies(container: &Container<'_>) -> bool {
    match container.value.get("command").and_then(Value::as_array) {
        None => true,
        Some(cmd) => cmd
            .iter()
            .filter_map(Value::as_str)
            .any(|c| c.ends_with("docker-entrypoint.sh")),
    }
}

/// Resolve a standalone workload. `None` when `obj` has no pod spec or no containers.
pub fn resolve<'a>(ctx: &Ctx<'_>, obj: &'a Value) -> Option<PodConfig<'a>> {
    let spec_pointer = object::pod_spec_pointer(obj)?;
    let pod_spec = obj.at(spec_pointer)?;
    let containers = object::containers(obj, spec_pointer);
    let container = main_container(&containers)?;
    let role = match ctx.class_of(obj) {
        object::Class::Workload(r) => r,
        _ => None,
    };
    let version = image::version_of(container.image());
    let mut unseen: Option<String> = None;
    let mount = match object::flink_conf_mount(pod_spec, &container) {
        None => Mount::Nothing,
        Some(m) => match m.volume {
            None => {
                unseen = Some(format!(
                    "the configuration comes from {}, which is not checked",
                    object::volume_description(pod_spec, &m.volume_name)
                ));
                Mount::Other { mount: m.mount }
            }
            Some(source) => {
                let volume = format!("{spec_pointer}/volumes/{}", source.volume_index);
                let config_map = find_config_map(ctx, obj, source.name);
                match &config_map {
                    Lookup::Unknown => {
                        unseen = Some(format!(
                            "ConfigMap {} is not among the checked objects",
                            source.name
                        ))
                    }
                    Lookup::Ambiguous(files) => {
                        unseen = Some(format!(
                            "ConfigMap {} is defined in {}",
                            source.name,
                            files.join(" and ")
                        ))
                    }
                    _ => {}
                }
                Mount::ConfigMap {
                    mount: m.mount,
                    volume,
                    source,
                    config_map,
                    single_files: m.single_files,
                }
            }
        },
    };
    let mut file = None;
    let mut file_known = false;
    let mut cfg = FlinkConfig::default();
    if let Mount::ConfigMap {
        source,
        config_map: Lookup::Found(cm, _),
        single_files,
        ..
    } = &mount
    {
        file_known = true;
        if let Some(f) = config_file(cm, source, single_files.as_deref(), version) {
            let parsed = parse_file(ctx.subject.context, &f);
            if unreadable(&f, &parsed) {
                // A file Flink refuses is unknown, not empty: its keys are not "unset".
                file_known = false;
                unseen = Some(format!(
                    "{} in ConfigMap {} cannot be read (FLK305)",
                    f.key, source.name
                ));
            } else {
                cfg = parsed.0.clone();
            }
            file = Some(f);
        }
    }
    let entrypoint = entrypoint_applies(&container);
    let read_only = conf_read_only(&mount);
    let mut env_config = false;
    let mut overrides = FlinkConfig::default();
    let mut env_ignored = FlinkConfig::default();
    if entrypoint {
        // The entrypoint writes these into the configuration file: not through a read-only
        // mount (every version: `sed -i`/`>>` up to 1.18, config-parser-utils.sh from 1.19).
        let layer = if read_only {
            &mut env_ignored
        } else {
            &mut overrides
        };
        if let Some(address) = container.env("JOB_MANAGER_RPC_ADDRESS") {
            layer.insert(config::JOBMANAGER_RPC_ADDRESS, address);
        }
        if let Some(text) = container.env("FLINK_PROPERTIES") {
            env_config = !read_only;
            layer.merge(&config::parse_flink_properties_env(text));
        } else if let Some(from) = container.env_source("FLINK_PROPERTIES")
            && !read_only
        {
            env_config = true;
            unseen.get_or_insert(format!("FLINK_PROPERTIES comes from {from}"));
        }
    }
    let args = container.args();
    overrides.merge(&config::parse_dynamic_properties(&args));
    cfg.merge(&overrides);
    let advertises_pod_ip = args
        .iter()
        .any(|a| a.contains("$(POD_IP)") || a.contains("${POD_IP}"))
        || (entrypoint
            && !read_only
            && container
                .env("JOB_MANAGER_RPC_ADDRESS")
                .is_some_and(|a| a.contains("POD_IP")));
    Some(PodConfig {
        role,
        spec_pointer,
        container,
        version,
        mount,
        file,
        config: cfg,
        file_known,
        env_config,
        unseen,
        advertises_pod_ip,
        overrides,
        env_ignored,
    })
}

/// Whether the configuration file in `/opt/flink/conf` comes from a ConfigMap volume, which the
/// kubelet mounts read-only: the whole directory, or the file itself as a `subPath` mount.
pub fn conf_read_only(mount: &Mount<'_>) -> bool {
    match mount {
        Mount::ConfigMap {
            single_files: None, ..
        } => true,
        Mount::ConfigMap {
            single_files: Some(files),
            ..
        } => files
            .iter()
            .any(|(f, _)| f == CONFIG_YAML || f == FLINK_CONF_YAML),
        _ => false,
    }
}

/// Find a ConfigMap by name as the workload `obj` refers to it: the nearest one (same file,
/// same directory, then enclosing ones); one in the same namespace wins over one whose
/// namespace is not set (applied wherever the user points kubectl).
pub fn find_config_map(ctx: &Ctx<'_>, obj: &Value, name: &str) -> Lookup {
    let context = ctx.subject.context;
    match context.resolve("", "ConfigMap", object::namespace(obj), name) {
        Resolved::Found(cm) => {
            let origin = context.origin(&cm);
            let own = context.origin(obj);
            Lookup::Found(cm, origin.filter(|o| Some(o) != own.as_ref()))
        }
        Resolved::Ambiguous(all) => Lookup::Ambiguous(
            all.iter()
                .map(|o| context.origin(o).unwrap_or_else(|| "?".into()))
                .collect(),
        ),
        Resolved::None if ctx.complete("", "ConfigMap") => Lookup::Missing,
        Resolved::None => Lookup::Unknown,
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

/// The files a ConfigMap volume puts in the mount directory: (key, file name). With
/// `single_files` (subPath mounts) only those files, each from the key at its volume path.
pub fn projected<'a>(
    cm: &'a Value,
    source: &'a ConfigMapVolume<'_>,
    single_files: Option<&'a [(String, String)]>,
) -> Vec<(&'a str, &'a str)> {
    let in_volume: Vec<(&str, &str)> = match source.projected_files() {
        Some(items) => items,
        None => config_map_keys(cm).into_iter().map(|k| (k, k)).collect(),
    };
    match single_files {
        None => in_volume,
        Some(files) => files
            .iter()
            .filter_map(|(file, sub)| {
                let (key, _) = in_volume.iter().find(|(_, p)| p == sub)?;
                Some((*key, file.as_str()))
            })
            .collect(),
    }
}

/// The Flink configuration file Flink would read from this volume, for this version. Flink
/// 1.19 and 1.20 read `flink-conf.yaml` when it is there and `config.yaml` otherwise (FLIP-366);
/// Flink 2 reads only `config.yaml`; older versions only `flink-conf.yaml`.
pub fn config_file(
    cm: &Value,
    source: &ConfigMapVolume<'_>,
    single_files: Option<&[(String, String)]>,
    version: Option<FlinkVersion>,
) -> Option<ConfigFile> {
    let files = projected(cm, source, single_files);
    let wanted: &[&'static str] = match image::expected_config_file(version) {
        ConfigFileName::Yaml => &[CONFIG_YAML],
        ConfigFileName::Legacy => &[FLINK_CONF_YAML],
        ConfigFileName::Either => &[FLINK_CONF_YAML, CONFIG_YAML],
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
/// Parsed once per world (see [`Context::parsed_config`]).
pub fn parse_file(context: &dyn Context, f: &ConfigFile) -> Arc<ParsedConfig> {
    let parse: &dyn Fn(&str) -> ParsedConfig = if f.file == CONFIG_YAML {
        &|text| match config::parse_yaml(text) {
            Ok(c) => (c, Vec::new()),
            Err(e) => (FlinkConfig::default(), vec![e]),
        }
    } else {
        &config::parse_legacy
    };
    context.parsed_config(f.file, &f.text, parse)
}

/// Whether Flink refuses the file as a whole: `config.yaml` that is not valid YAML (a
/// duplicate key, a syntax error). Its settings are then unknown, not unset. The legacy
/// `flink-conf.yaml` parser only skips the lines it cannot split, so it is never unreadable.
pub fn unreadable(f: &ConfigFile, parsed: &ParsedConfig) -> bool {
    f.file == CONFIG_YAML && !parsed.1.is_empty()
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
        // Only a workload with a volume of that ConfigMap can mount it: the others are not
        // resolved at all.
        .filter(|w| object::pod_volumes_name_config_map(w, name))
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
        .filter(|w| ctx.class_of(w) == object::Class::Workload(Some(Role::JobManager)))
        .collect()
}

/// Whether a Service's selector picks the pods of `workload`.
pub fn service_selects(svc: &Value, workload: &Value) -> bool {
    svc.at("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|sel| object::map_selects(sel, object::pod_labels(workload)))
}

/// The host part of `jobmanager.rpc.address`, reduced to a Service name
/// (`flink-jobmanager.ns.svc.cluster.local` -> `flink-jobmanager`).
pub fn service_name_of_address(address: &str) -> &str {
    address.split('.').next().unwrap_or(address)
}
