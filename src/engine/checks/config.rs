//! Family 3: the configuration standalone pods need: the ConfigMap at `/opt/flink/conf`, its
//! keys, and the settings the manifests rely on.

use std::sync::Arc;

use serde_json::{Value, json};

use super::standalone::{
    self, CONFIG_YAML, ConfigFile, FLINK_CONF_YAML, LOG4J, Lookup, Mount, PodConfig,
};
use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig, PortSpec};
use crate::flink::image::{self, ConfigFileName};
use crate::flink::migration;
use crate::flink::object::{self, ConfigMapVolume, Role};
use crate::flink::pointer;

fn version_text(pc: &PodConfig<'_>) -> String {
    match pc.version {
        Some(v) => format!("Flink {}.{}", v.major, v.minor),
        None => "this image".to_string(),
    }
}

/// FLK301: `check: native: flink_config_mount`.
pub(super) const FLINK_CONFIG_MOUNT: Native = Native {
    args: &["container"],
    run: mount,
};

/// FLK301: a JobManager or TaskManager with nothing mounted at `/opt/flink/conf`.
fn mount(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if !matches!(pc.mount, Mount::Nothing) || pc.env_config {
        return Vec::new();
    }
    let at = if pc.container.value.get("volumeMounts").is_some() {
        format!("{}/volumeMounts", pc.container.pointer())
    } else {
        pc.container.pointer()
    };
    let (fix, create) = super::inject::config_mount(ctx, pc);
    vec![
        Hit::at(at)
            .arg("container", pc.container.name())
            .fix(fix)
            .create(create),
    ]
}

/// FLK302: `check: native: config_map_not_found`.
pub(super) const CONFIG_MAP_NOT_FOUND: Native = Native {
    args: &["configmap"],
    run: config_map_not_found,
};

/// FLK302: the ConfigMap is not in a complete view of the namespace.
fn config_map_not_found(ctx: &Ctx<'_>) -> Vec<Hit> {
    match mounted_config_map(ctx) {
        Some((at, source, Lookup::Missing)) => vec![Hit::at(at).arg("configmap", source.name)],
        _ => Vec::new(),
    }
}

/// FLK303: `check: native: config_map_unverified`.
pub(super) const CONFIG_MAP_UNVERIFIED: Native = Native {
    args: &["configmap", "reason"],
    run: config_map_unverified,
};

/// FLK303: the ConfigMap is not among the linted objects.
fn config_map_unverified(ctx: &Ctx<'_>) -> Vec<Hit> {
    match mounted_config_map(ctx) {
        Some((at, source, Lookup::Unknown)) => {
            let context = ctx.subject.context;
            let reason = context
                .incomplete_note()
                .unwrap_or_else(|| context.unknown_reason());
            vec![
                Hit::at(at)
                    .arg("configmap", source.name)
                    .arg("reason", reason),
            ]
        }
        _ => Vec::new(),
    }
}

/// The subject's ConfigMap at `/opt/flink/conf`: the pointer to its name in the volume, the
/// volume, and what looking it up found.
fn mounted_config_map<'c>(
    ctx: &'c Ctx<'_>,
) -> Option<(String, &'c ConfigMapVolume<'c>, &'c Lookup)> {
    match &ctx.me()?.mount {
        Mount::ConfigMap {
            volume,
            source,
            config_map,
            ..
        } => Some((
            format!("{volume}/{}/name", source.source_pointer),
            source,
            config_map,
        )),
        _ => None,
    }
}

/// FLK002: `check: native: ambiguous_reference`.
pub(super) const AMBIGUOUS_REFERENCE: Native = Native {
    args: &["what", "files"],
    run: ambiguous_reference,
};

/// FLK002: a reference that equally near objects in different files answer.
fn ambiguous_reference(ctx: &Ctx<'_>) -> Vec<Hit> {
    match mounted_config_map(ctx) {
        Some((at, source, Lookup::Ambiguous(files))) => vec![
            Hit::at(at)
                .arg("what", format!("ConfigMap {}", source.name))
                .arg("files", files.join(", ")),
        ],
        _ => Vec::new(),
    }
}

/// FLK304: `check: native: config_map_keys`.
pub(super) const CONFIG_MAP_KEYS: Native = Native {
    args: &["configmap", "problem"],
    run: config_map_keys,
};

/// FLK304: the mounted ConfigMap lacks the configuration file for this Flink version, or the
/// volume's `items` name keys the ConfigMap does not have.
fn config_map_keys(ctx: &Ctx<'_>) -> Vec<Hit> {
    keys_and_files(ctx, Part::Config)
}

/// FLK312: `check: native: log_config_missing`.
pub(super) const LOG_CONFIG_MISSING: Native = Native {
    args: &["configmap", "problem"],
    run: log4j_config_missing,
};

/// FLK312: the mounted ConfigMap puts no `log4j-console.properties` in `/opt/flink/conf`:
/// Flink starts, logging only errors to the console (Log4j 2's default configuration).
fn log4j_config_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    keys_and_files(ctx, Part::Log4j)
}

/// Which part of what a Flink ConfigMap puts in `/opt/flink/conf` a rule judges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// FLK304: the configuration file and the keys the volume's items name.
    Config,
    /// FLK312: the console logging configuration.
    Log4j,
}

fn keys_and_files(ctx: &Ctx<'_>, part: Part) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    let Mount::ConfigMap {
        volume,
        source,
        config_map: Lookup::Found(cm, origin),
        single_files,
        ..
    } = &pc.mount
    else {
        return Vec::new();
    };
    let keys = standalone::config_map_keys(cm);
    let cm_name = match origin {
        Some(file) => format!("{} from {file}", source.name),
        None => source.name.to_string(),
    };
    let cm_name = cm_name.as_str();
    let src_ptr = format!("{volume}/{}", source.source_pointer);
    let mut hits = Vec::new();
    let hit = |at: String, problem: String| {
        Hit::at(at)
            .arg("configmap", cm_name)
            .arg("problem", problem)
    };
    // A Flink 2 image and only the legacy file: `flink-lint fix` writes config.yaml migrated
    // from it, as Flink reads it (see `migration::legacy_to_yaml`).
    let migrated = (image::expected_config_file(pc.version) == ConfigFileName::Yaml
        && !keys.contains(&CONFIG_YAML)
        && single_files.is_none())
    .then(|| {
        cm.get("data")
            .and_then(|d| d.get(FLINK_CONF_YAML))
            .and_then(Value::as_str)
            .and_then(migration::legacy_to_yaml)
    })
    .flatten();
    let items_name = |key: &str| {
        source
            .items
            .is_some_and(|items| items.iter().any(|i| object::str_at(i, "/key") == Some(key)))
    };
    // Items naming keys the ConfigMap lacks: the kubelet cannot mount the volume.
    if let Some(items) = source.items.filter(|_| part == Part::Config) {
        for (i, item) in items.iter().enumerate() {
            let key = object::str_at(item, "/key").unwrap_or("");
            if !keys.contains(&key) && !source.optional {
                let h = hit(
                    format!("{src_ptr}/items/{i}/key"),
                    format!(
                        "has no key '{key}' that the volume's items name, so the pod cannot start; add the key or drop the item"
                    ),
                );
                // A file Flink reads gets its default text; any other key is the author's.
                let reads = key == LOG4J
                    || match image::expected_config_file(pc.version) {
                        ConfigFileName::Yaml => key == CONFIG_YAML,
                        ConfigFileName::Legacy => key == FLINK_CONF_YAML,
                        ConfigFileName::Either => {
                            pc.version.is_some() && (key == CONFIG_YAML || key == FLINK_CONF_YAML)
                        }
                    };
                hits.push(match &migrated {
                    Some(text) if key == CONFIG_YAML => write_text(ctx, cm, h, key, text.clone()),
                    _ if reads => write_missing(ctx, cm, h, key),
                    _ => h,
                });
            }
        }
    }
    let files = standalone::projected(cm, source, single_files.as_deref());
    let has_file = |f: &str| files.iter().any(|(k, p)| *p == f && keys.contains(k));
    let has_key = |f: &str| keys.contains(&f);
    let expected = image::expected_config_file(pc.version);
    let at = if source.items.is_some() {
        format!("{src_ptr}/items")
    } else {
        format!("{src_ptr}/name")
    };
    // A key the ConfigMap has but the volume's items leave out: the fix adds the item.
    let add_item = |key: &str| -> Vec<crate::engine::Op> {
        if source.items.is_none() || single_files.is_some() || !has_key(key) {
            return Vec::new();
        }
        vec![crate::engine::Op::Add {
            path: format!("{src_ptr}/items/-"),
            value: serde_json::json!({"key": key, "path": key}),
        }]
    };
    // The key the ConfigMap lacks altogether is written into it (see `write_missing`).
    let with_key = |h: Hit, key: Option<&str>| match key {
        Some(k) => write_missing(ctx, cm, h, k),
        None => h,
    };
    match expected {
        _ if part != Part::Config => {}
        ConfigFileName::Yaml if !has_file(CONFIG_YAML) => {
            let mut write_key = None;
            let mut migrate = None;
            let problem = if has_file(FLINK_CONF_YAML) || has_key(FLINK_CONF_YAML) {
                // The migrated config.yaml, with the volume's item for it; when the items name
                // config.yaml already, the finding on that item writes it.
                if !items_name(CONFIG_YAML) {
                    migrate = migrated.clone();
                }
                let problem = format!(
                    "provides flink-conf.yaml, but {} reads only config.yaml; rename the key to config.yaml (standard YAML)",
                    version_text(pc)
                );
                problem
            } else if has_key(CONFIG_YAML) {
                "has config.yaml but the volume's items do not mount it; add it to items".into()
            } else {
                write_key = Some(CONFIG_YAML);
                "has no config.yaml key; add the Flink configuration under config.yaml".into()
            };
            let h = hit(at.clone(), problem);
            hits.push(match migrate {
                Some(text) => {
                    let item = match source.items {
                        Some(_) => vec![Op::Add {
                            path: format!("{src_ptr}/items/-"),
                            value: json!({"key": CONFIG_YAML, "path": CONFIG_YAML}),
                        }],
                        None => Vec::new(),
                    };
                    write_text(ctx, cm, h.fix(item), CONFIG_YAML, text)
                }
                None => with_key(h.fix(add_item(CONFIG_YAML)), write_key),
            });
        }
        ConfigFileName::Legacy if !has_file(FLINK_CONF_YAML) => {
            let mut write_key = None;
            let problem = if has_file(CONFIG_YAML) || has_key(CONFIG_YAML) {
                format!(
                    "provides config.yaml, but {} reads only flink-conf.yaml; rename the key to flink-conf.yaml",
                    version_text(pc)
                )
            } else if has_key(FLINK_CONF_YAML) {
                "has flink-conf.yaml but the volume's items do not mount it; add it to items".into()
            } else {
                write_key = Some(FLINK_CONF_YAML);
                "has no flink-conf.yaml key; add the Flink configuration under flink-conf.yaml"
                    .into()
            };
            hits.push(with_key(
                hit(at.clone(), problem).fix(add_item(FLINK_CONF_YAML)),
                write_key,
            ));
        }
        ConfigFileName::Either if !has_file(CONFIG_YAML) && !has_file(FLINK_CONF_YAML) => {
            let mut write_key = None;
            let problem = if has_key(CONFIG_YAML) || has_key(FLINK_CONF_YAML) {
                "holds the Flink configuration but the volume's items do not mount it; add it to items".into()
            } else {
                // Flink 1.19 and 1.20 read config.yaml when it is there; an image whose version
                // is unknown may be older and read only flink-conf.yaml: no file is written.
                if pc.version.is_some() {
                    write_key = Some(CONFIG_YAML);
                }
                "has no Flink configuration (config.yaml, or flink-conf.yaml before Flink 2.0); add one".into()
            };
            let key = if has_key(FLINK_CONF_YAML) {
                FLINK_CONF_YAML
            } else {
                CONFIG_YAML
            };
            hits.push(with_key(
                hit(at.clone(), problem).fix(add_item(key)),
                write_key,
            ));
        }
        _ => {}
    }
    // Single files mounted with subPath leave the image's own log4j configuration in place.
    // An item naming the missing key is FLK304's (the pod cannot start): one cause, one finding.
    let item_names_log4j = source.items.is_some_and(|items| {
        items
            .iter()
            .any(|i| object::str_at(i, "/key") == Some(LOG4J) && !has_key(LOG4J))
    });
    if part == Part::Log4j && single_files.is_none() && !has_file(LOG4J) && !item_names_log4j {
        let problem = if has_key(LOG4J) {
            "has log4j-console.properties but the volume's items do not mount it, so Flink logs only errors to the console (Log4j 2's default); add it to items"
                .to_string()
        } else {
            "has no log4j-console.properties key, so Flink logs only errors to the console (Log4j 2's default) and kubectl logs shows little; add one".to_string()
        };
        let log4j_hit = hit(at, problem).fix(add_item(LOG4J));
        hits.push(if has_key(LOG4J) {
            log4j_hit
        } else {
            write_missing(ctx, cm, log4j_hit, LOG4J)
        });
    }
    hits
}

/// The text a fix writes under a key the Flink ConfigMap lacks: `fix.log4j-console` for
/// `log4j-console.properties`; for the configuration file, a minimal valid one holding only
/// Flink's default RPC port, so that the cluster runs as it did without the file (on defaults)
/// and the other rules' fixes have a file to add their keys to.
fn default_text(ctx: &Ctx<'_>, key: &str) -> String {
    if key == LOG4J {
        return ctx.settings.fix.log4j_console.clone();
    }
    format!(
        "# Flink configuration ({key}), written by flink-lint fix with Flink's default RPC port\n{}: {}\n",
        config::JOBMANAGER_RPC_PORT,
        config::JOBMANAGER_RPC_PORT_DEFAULT
    )
}

/// `hit` with a fix that writes `key` into the ConfigMap `cm` (another object of the set: only
/// `flink-lint fix` applies it, the webhook cannot edit the ConfigMap and says so). Never over an
/// existing key; not into an immutable ConfigMap (re-applying it would fail: it must be
/// recreated, which the author decides).
fn write_missing(ctx: &Ctx<'_>, cm: &Arc<Value>, hit: Hit, key: &str) -> Hit {
    write_text(ctx, cm, hit, key, default_text(ctx, key))
}

/// `hit` with a fix that writes `text` under `key` into the ConfigMap `cm` (see
/// [`write_missing`]).
fn write_text(ctx: &Ctx<'_>, cm: &Arc<Value>, hit: Hit, key: &str, text: String) -> Hit {
    if standalone::config_map_keys(cm).contains(&key)
        || cm.get("immutable").and_then(Value::as_bool) == Some(true)
    {
        return hit;
    }
    let origin = ctx.subject.context.origin(cm);
    let hit = hit.edit(
        cm,
        origin,
        vec![Op::Add {
            path: data_ptr(key),
            value: json!(text),
        }],
    );
    let mut hit = hit;
    if let Some((_, p)) = hit.args.iter_mut().find(|(k, _)| *k == "problem") {
        p.push_str(&format!(
            " (flink-lint fix writes it into ConfigMap {}; the webhook cannot edit the ConfigMap)",
            object::name(cm)
        ));
    }
    hit
}

/// Pointer to a key under a ConfigMap's `data`.
fn data_ptr(key: &str) -> String {
    format!("/data/{}", pointer::escape(key))
}

/// FLK305: `check: native: flink_config_invalid`.
pub(super) const FLINK_CONFIG_INVALID: Native = Native {
    args: &["file", "problem"],
    run: invalid,
};

/// FLK305: a Flink configuration file Flink cannot read.
fn invalid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for f in standalone::flink_files(ctx.obj) {
        let parsed = standalone::parse_file(ctx.subject.context, &f);
        for issue in &parsed.1 {
            let problem = match issue.line {
                Some(l) => format!("line {l}: {}", issue.message.trim()),
                None => issue.message.trim().to_string(),
            };
            hits.push(
                Hit::at(data_ptr(&f.key))
                    .arg("file", f.key.clone())
                    .arg("problem", problem),
            );
        }
    }
    hits
}

/// The Flink configuration files of the ConfigMap subject that the standalone workloads
/// mounting it read (each for its Flink version), parsed. Empty when no workload in sight
/// mounts it: a ConfigMap with a Flink key is not necessarily a cluster's configuration (the
/// operator's own `flink-operator-config` is not).
fn files_of<'c>(ctx: &'c Ctx<'_>) -> &'c [(ConfigFile, FlinkConfig)] {
    ctx.read_files.get_or_init(|| read_files(ctx))
}

fn read_files(ctx: &Ctx<'_>) -> Vec<(ConfigFile, FlinkConfig)> {
    let cm = ctx.obj;
    let workloads = ctx.workloads();
    let mut out: Vec<(ConfigFile, FlinkConfig)> = Vec::new();
    for (_, pc) in standalone::users_of(ctx, &workloads, cm) {
        let Mount::ConfigMap {
            source,
            single_files,
            ..
        } = &pc.mount
        else {
            continue;
        };
        if let Some(f) = standalone::config_file(cm, source, single_files.as_deref(), pc.version)
            && !out.iter().any(|(g, _)| g.key == f.key)
        {
            let parsed = standalone::parse_file(ctx.subject.context, &f);
            // FLK305 reports a file Flink cannot read; the rules reading keys skip it.
            if !standalone::unreadable(&f, &parsed) {
                let cfg = parsed.0.clone();
                out.push((f, cfg));
            }
        }
    }
    out
}

/// Append `key: value` to a configuration file's text, as a fix.
fn append_op(f: &ConfigFile, key: &str, value: &str) -> Op {
    let mut text = f.text.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{key}: {value}\n"));
    Op::Replace {
        path: data_ptr(&f.key),
        value: json!(text),
    }
}

/// FLK306: `check: native: rpc_address`.
pub(super) const RPC_ADDRESS: Native = Native {
    args: &["file", "problem"],
    run: rpc_address,
};

/// FLK306: `jobmanager.rpc.address` does not name the JobManager Service (non-HA).
fn rpc_address(ctx: &Ctx<'_>) -> Vec<Hit> {
    let cm = ctx.obj;
    let files = files_of(ctx);
    if files.is_empty() {
        return Vec::new();
    }
    let workloads = ctx.workloads();
    let users = standalone::users_of(ctx, &workloads, cm);
    if !users
        .iter()
        .any(|(_, pc)| pc.role == Some(Role::TaskManager))
    {
        return Vec::new();
    }
    let services = ctx.list("", "Service");
    let jm_services: Vec<&str> = users
        .iter()
        .filter(|(_, pc)| pc.role == Some(Role::JobManager))
        .flat_map(|(w, _)| {
            services
                .iter()
                .filter(|s| standalone::service_selects(s, w))
                .map(|s| object::name(s))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut hits = Vec::new();
    for (f, cfg) in files {
        if cfg.ha_enabled() {
            continue;
        }
        let address = cfg.get(config::JOBMANAGER_RPC_ADDRESS);
        let problem = match address {
            None => "is not set, so TaskManagers look for the JobManager on localhost".to_string(),
            Some(a) if matches!(a.trim(), "localhost" | "127.0.0.1" | "0.0.0.0") => {
                format!("is {a}, so TaskManagers look for the JobManager in their own pod")
            }
            Some(a) => {
                let svc = standalone::service_name_of_address(a);
                if jm_services.is_empty() || jm_services.contains(&svc) {
                    continue;
                }
                format!(
                    "is {a}, but the Service in front of the JobManager is {}",
                    jm_services.join(", ")
                )
            }
        };
        let mut hit = Hit::at(data_ptr(&f.key))
            .arg("file", f.key.clone())
            .arg("problem", problem);
        if let (Some(svc), None) = (jm_services.first(), address) {
            hit = hit.fix(vec![append_op(f, config::JOBMANAGER_RPC_ADDRESS, svc)]);
        }
        hits.push(hit);
    }
    hits
}

/// FLK307: `check: native: ports_not_fixed`.
pub(super) const PORTS_NOT_FIXED: Native = Native {
    args: &["key", "value", "port"],
    run: ports_not_fixed,
};

/// FLK307: without HA, TaskManagers reach the JobManager's RPC and blob ports through a
/// Service, so both must be fixed single ports.
fn ports_not_fixed(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (f, cfg) in files_of(ctx) {
        if cfg.ha_enabled() {
            continue;
        }
        for (key, default) in [
            (config::BLOB_SERVER_PORT, config::DOCS_BLOB_SERVER_PORT),
            (
                config::JOBMANAGER_RPC_PORT,
                config::JOBMANAGER_RPC_PORT_DEFAULT,
            ),
        ] {
            let bad = match cfg.port(key) {
                None if key == config::BLOB_SERVER_PORT => Some("unset (a random port)".into()),
                None | Some(PortSpec::Fixed(_)) => None,
                Some(PortSpec::Random) => Some("0 (a random port)".to_string()),
                Some(PortSpec::RangeOrList(s)) => Some(format!("{s} (a range)")),
                Some(PortSpec::Invalid(s)) => Some(format!("{s} (not a port)")),
            };
            if let Some(bad) = bad {
                let mut hit = Hit::at(data_ptr(&f.key))
                    .arg("key", key)
                    .arg("value", bad)
                    .arg("port", default);
                if cfg.get(key).is_none() {
                    hit = hit.fix(vec![append_op(f, key, &default.to_string())]);
                }
                hits.push(hit);
            }
        }
    }
    hits
}

/// FLK308: `check: native: task_slots_unset`.
pub(super) const TASK_SLOTS_UNSET: Native = Native {
    args: &["file", "default"],
    run: task_slots_unset,
};

/// FLK308: `taskmanager.numberOfTaskSlots` is not set (Flink's default is one slot), in a
/// standalone cluster's configuration file or a FlinkDeployment's `flinkConfiguration`.
fn task_slots_unset(ctx: &Ctx<'_>) -> Vec<Hit> {
    if object::kind(ctx.obj) != "ConfigMap" {
        return super::flinkdeployment::task_slots_unset(ctx);
    }
    files_of(ctx)
        .iter()
        .filter(|(_, cfg)| cfg.get(config::TASK_SLOTS).is_none())
        .map(|(f, _)| {
            let slots = ctx.settings.fix.task_slots.to_string();
            Hit::at(data_ptr(&f.key))
                .arg("file", f.key.clone())
                .arg("default", "one slot")
                .fix(vec![append_op(f, config::TASK_SLOTS, &slots)])
        })
        .collect()
}

/// FLK309: `check: native: ha_storage_dir`.
pub(super) const HA_STORAGE_DIR: Native = Native {
    args: &["mode", "where"],
    run: ha_storage_dir,
};

/// FLK309: high availability is switched on without a storage directory.
fn ha_storage_dir(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let with_mode = |cfg: &FlinkConfig| {
        if cfg.ha_enabled() && cfg.ha_storage_dir().is_none() {
            cfg.ha_mode()
        } else {
            None
        }
    };
    if object::kind(obj) == "ConfigMap" {
        return files_of(ctx)
            .iter()
            .filter_map(|(f, cfg)| {
                let mode = with_mode(cfg)?;
                Some(
                    Hit::at(data_ptr(&f.key))
                        .arg("where", f.key.clone())
                        .arg("mode", mode),
                )
            })
            .collect();
    }
    match with_mode(ctx.spec_config()) {
        Some(mode) => vec![
            Hit::at("/spec/flinkConfiguration")
                .arg("where", "spec.flinkConfiguration")
                .arg("mode", mode),
        ],
        None => Vec::new(),
    }
}
