//! What the fixes inject into standalone Flink workloads: the pieces a JobManager or
//! TaskManager needs, taken from the cluster it belongs to (the ConfigMap its other members
//! mount), never invented where the world does not say.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Ctx;
use super::standalone::{self, CONFIG_YAML, FLINK_CONF_YAML, LOG4J, Lookup, Mount, PodConfig};
use crate::engine::Op;
use crate::flink::config;
use crate::flink::image::{self, ConfigFileName};
use crate::flink::object;

/// The volume name the injected configuration volume gets (unless the pod has one by that name).
pub const CONFIG_VOLUME: &str = "flink-config-volume";

/// The ConfigMap of the subject's cluster: the one the other JobManagers and TaskManagers in
/// sight mount at `/opt/flink/conf` (those sharing the subject's `app` pod label, when it has
/// one), else the only ConfigMap in sight that holds a Flink configuration file. `None` when
/// there is none, or more than one candidate.
pub fn cluster_config_map(ctx: &Ctx<'_>) -> Option<Arc<Value>> {
    let me = object::ObjectRef::of(ctx.obj);
    let app = object::pod_labels(ctx.obj)
        .and_then(|l| l.get("app"))
        .and_then(Value::as_str);
    let workloads = ctx.workloads();
    let mut found: Vec<Arc<Value>> = Vec::new();
    for w in &workloads {
        if object::ObjectRef::of(w) == me
            || !matches!(object::classify(w), object::Class::Workload(Some(_)))
        {
            continue;
        }
        let their_app = object::pod_labels(w)
            .and_then(|l| l.get("app"))
            .and_then(Value::as_str);
        if app.is_some() && their_app != app {
            continue;
        }
        let Some(pc) = standalone::resolve(ctx, w) else {
            continue;
        };
        if let Mount::ConfigMap {
            config_map: Lookup::Found(cm, _),
            ..
        } = &pc.mount
            && !found.iter().any(|f| object::name(f) == object::name(cm))
        {
            found.push(cm.clone());
        }
    }
    if found.is_empty() {
        found = ctx
            .list("", "ConfigMap")
            .into_iter()
            .filter(|cm| !standalone::flink_files(cm).is_empty())
            .collect();
    }
    match found.len() {
        1 => found.pop(),
        _ => None,
    }
}

/// The `items` of a configuration volume of `cm` for this Flink version: the configuration
/// file the version reads and `log4j-console.properties`, each only if `cm` has it.
pub fn config_items(cm: &Value, pc: &PodConfig<'_>) -> Vec<Value> {
    let keys = standalone::config_map_keys(cm);
    let has = |k: &str| keys.contains(&k);
    let config = match image::expected_config_file(pc.version) {
        ConfigFileName::Yaml => Some(CONFIG_YAML),
        ConfigFileName::Legacy => Some(FLINK_CONF_YAML),
        ConfigFileName::Either if has(FLINK_CONF_YAML) => Some(FLINK_CONF_YAML),
        ConfigFileName::Either => Some(CONFIG_YAML),
    };
    config
        .into_iter()
        .chain([LOG4J])
        .filter(|k| has(k))
        .map(|k| json!({"key": k, "path": k}))
        .collect()
}

/// A volume name not yet used in the pod spec at `spec_pointer`.
fn free_volume_name(obj: &Value, spec_pointer: &str, want: &str) -> String {
    let used: Vec<&str> = obj
        .pointer(&format!("{spec_pointer}/volumes"))
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|x| x.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if !used.contains(&want) {
        return want.to_string();
    }
    (2..)
        .map(|i| format!("{want}-{i}"))
        .find(|n| !used.contains(&n.as_str()))
        .unwrap_or_else(|| want.to_string())
}

/// FLK301's fix: mount the cluster's ConfigMap at `/opt/flink/conf`, and the ConfigMap to
/// create, if any:
/// - the cluster's ConfigMap is known: mount it, with the items the version reads;
/// - the cluster's other workloads mount one ConfigMap that is not in sight: mount it by name;
/// - no workload of the cluster mounts one and no Flink ConfigMap is in sight: create one
///   ([`new_config_map`]) and mount it (only `flink-lint fix` can; the webhook leaves it);
/// - anything else (several candidates): no fix.
pub fn config_mount(ctx: &Ctx<'_>, pc: &PodConfig<'_>) -> (Vec<Op>, Vec<Value>) {
    let settings = &ctx.settings.fix;
    if !settings.config_mount {
        return (Vec::new(), Vec::new());
    }
    let (cm_name, items, create) = match cluster_config_map(ctx) {
        Some(cm) => (object::name(&cm).to_string(), config_items(&cm, pc), None),
        None => match mounted_by_cluster(ctx).as_slice() {
            [one] => (one.clone(), Vec::new(), None),
            [] if settings.create_objects
                && !ctx
                    .list("", "ConfigMap")
                    .iter()
                    .any(|cm| !standalone::flink_files(cm).is_empty()) =>
            {
                let cm = new_config_map(ctx, pc);
                (
                    object::name(&cm).to_string(),
                    config_items(&cm, pc),
                    Some(cm),
                )
            }
            _ => return (Vec::new(), Vec::new()),
        },
    };
    let name = free_volume_name(ctx.obj, pc.spec_pointer, CONFIG_VOLUME);
    let mut config_map = json!({"name": cm_name});
    if !items.is_empty() {
        config_map["items"] = Value::Array(items);
    }
    let ops = vec![
        Op::Add {
            path: format!("{}/volumes/-", pc.spec_pointer),
            value: json!({"name": name, "configMap": config_map}),
        },
        Op::Add {
            path: format!("{}/volumeMounts/-", pc.container.pointer()),
            value: json!({"name": name, "mountPath": object::FLINK_CONF_DIR}),
        },
    ];
    (ops, create.into_iter().collect())
}

/// The `app` pod label of a workload.
fn app_of(obj: &Value) -> Option<&str> {
    object::pod_labels(obj)
        .and_then(|l| l.get("app"))
        .and_then(Value::as_str)
}

/// Names of the ConfigMaps the subject's cluster's other workloads mount at
/// `/opt/flink/conf`, whether or not they are in sight (but not those known to be missing).
fn mounted_by_cluster(ctx: &Ctx<'_>) -> Vec<String> {
    let me = object::ObjectRef::of(ctx.obj);
    let app = app_of(ctx.obj);
    let mut names: Vec<String> = Vec::new();
    for w in ctx.workloads() {
        if object::ObjectRef::of(&w) == me
            || !matches!(object::classify(&w), object::Class::Workload(Some(_)))
            || (app.is_some() && app_of(&w) != app)
        {
            continue;
        }
        // A ConfigMap known to be missing (a complete view: the webhook) is not mounted.
        if let Some(pc) = standalone::resolve(ctx, &w)
            && let Mount::ConfigMap {
                source, config_map, ..
            } = &pc.mount
            && !matches!(config_map, Lookup::Missing)
            && !names.iter().any(|n| n == source.name)
        {
            names.push(source.name.to_string());
        }
    }
    names
}

/// A Flink ConfigMap for a cluster that has none: `APP-flink-config` (`APP-config` when the
/// app's name has `flink` in it, `flink-config` without an app label), with
/// the configuration file the version reads (`config.yaml` for Flink 2, else
/// `flink-conf.yaml`) naming the JobManager Service, fixed JobManager RPC and blob ports and
/// TaskManager RPC port (6122, as the Flink docs' manifests; FLK108 then declares it on the
/// TaskManager with its probe), `fix.task-slots`
/// slots and process sizes equal to the `resources:` memory, and `fix.log4j-console` as
/// `log4j-console.properties`.
pub fn new_config_map(ctx: &Ctx<'_>, pc: &PodConfig<'_>) -> Value {
    let app = app_of(ctx.obj);
    let name = match app {
        Some(app) if app.contains("flink") => format!("{app}-config"),
        Some(app) => format!("{app}-flink-config"),
        None => "flink-config".to_string(),
    };
    let service = jobmanager_service_name(ctx, app);
    let file = match image::expected_config_file(pc.version) {
        ConfigFileName::Yaml => CONFIG_YAML,
        _ => FLINK_CONF_YAML,
    };
    let fix = &ctx.settings.fix;
    let mut text = String::new();
    for (key, value) in [
        (config::JOBMANAGER_RPC_ADDRESS, service.to_string()),
        (
            config::JOBMANAGER_RPC_PORT,
            config::JOBMANAGER_RPC_PORT_DEFAULT.to_string(),
        ),
        (
            config::BLOB_SERVER_PORT,
            config::DOCS_BLOB_SERVER_PORT.to_string(),
        ),
        (
            config::TASKMANAGER_RPC_PORT,
            config::DOCS_TASKMANAGER_RPC_PORT.to_string(),
        ),
        (config::TASK_SLOTS, fix.task_slots.to_string()),
    ] {
        text.push_str(&format!("{key}: {value}\n"));
    }
    // The process sizes that fit the containers' default memory (`resources:`).
    let res = &ctx.settings.resources;
    for (key, memory) in [
        (config::JM_PROCESS_SIZE, &res.jobmanager.memory),
        (config::TM_PROCESS_SIZE, &res.taskmanager.memory),
    ] {
        if let Some(size) = flink_size(memory) {
            text.push_str(&format!("{key}: {size}\n"));
        }
    }
    let mut metadata = json!({"name": name});
    if let Some(ns) = object::namespace(ctx.obj) {
        metadata["namespace"] = json!(ns);
    }
    if let Some(app) = app {
        metadata["labels"] = json!({"app": app});
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {file: text, LOG4J: fix.log4j_console},
    })
}

/// The name of the Service in front of the cluster's JobManager: the one in sight that selects
/// it, else the name [`jobmanager_service`] would give it.
fn jobmanager_service_name(ctx: &Ctx<'_>, app: Option<&str>) -> String {
    let services = ctx.list("", "Service");
    for jm in standalone::jobmanagers(ctx) {
        if app.is_some() && app_of(&jm) != app {
            continue;
        }
        if let Some(s) = services
            .iter()
            .find(|s| standalone::service_selects(s, &jm))
        {
            return object::name(s).to_string();
        }
    }
    match app {
        Some(app) => format!("{app}-jobmanager"),
        None => "flink-jobmanager".to_string(),
    }
}

/// The Service a standalone JobManager needs when none selects it: named after
/// `jobmanager.rpc.address` when that names a host (`flink-jobmanager.ns.svc` gives
/// `flink-jobmanager`), else after the `app` label (`APP-jobmanager`), else `flink-jobmanager`;
/// selecting the JobManager's pod labels; exposing the RPC, blob and REST ports the
/// configuration sets (blob only when fixed). `None` when the pods have no labels to select.
pub fn jobmanager_service(obj: &Value, pc: &PodConfig<'_>) -> Option<Value> {
    use crate::flink::config::{self, PortSpec};
    let labels = object::pod_labels(obj).filter(|l| !l.is_empty())?;
    let address = pc
        .config
        .get(config::JOBMANAGER_RPC_ADDRESS)
        .map(|a| standalone::service_name_of_address(a.trim()).to_string())
        .filter(|a| {
            !a.is_empty()
                && !matches!(a.as_str(), "localhost" | "127" | "0" | "$(POD_IP)")
                && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let name = address.unwrap_or_else(|| match labels.get("app").and_then(Value::as_str) {
        Some(app) => format!("{app}-jobmanager"),
        None => "flink-jobmanager".to_string(),
    });
    let fixed = |key: &str, default: Option<u16>| match pc.config.port(key) {
        None => default,
        Some(PortSpec::Fixed(p)) if p != 0 => Some(p),
        _ => None,
    };
    let mut ports = Vec::new();
    for (port_name, port) in [
        (
            "rpc",
            fixed(
                config::JOBMANAGER_RPC_PORT,
                Some(config::JOBMANAGER_RPC_PORT_DEFAULT),
            ),
        ),
        ("blob-server", fixed(config::BLOB_SERVER_PORT, None)),
        (
            "webui",
            fixed(config::REST_PORT, Some(config::REST_PORT_DEFAULT)),
        ),
    ] {
        if let Some(p) = port {
            ports.push(json!({"name": port_name, "port": p}));
        }
    }
    let mut metadata = json!({"name": name});
    if let Some(ns) = object::namespace(obj) {
        metadata["namespace"] = json!(ns);
    }
    if let Some(app) = labels.get("app") {
        metadata["labels"] = json!({"app": app});
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"type": "ClusterIP", "ports": ports, "selector": labels},
    }))
}

/// A Kubernetes memory quantity in Flink's notation (`1600Mi` is `1600m`, `2Gi` is `2g`);
/// `None` for other units.
fn flink_size(quantity: &str) -> Option<String> {
    let (n, unit) = if let Some(n) = quantity.strip_suffix("Mi") {
        (n, "m")
    } else if let Some(n) = quantity.strip_suffix("Gi") {
        (n, "g")
    } else {
        return None;
    };
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then(|| format!("{n}{unit}"))
}
