//! Family 1: one active JobManager per cluster, and the Service that fronts it.

use crate::flink::pointer::{self, Pointer as _};
use serde_json::{Value, json};

use super::standalone::{self, PodConfig};
use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig, PortSpec};
use crate::flink::object::{self, Class, CrKind, Role};

/// FLK101: `check: native: jobmanager_replicas`.
pub(super) const JOBMANAGER_REPLICAS: Native = Native {
    args: &["what", "replicas"],
    run: replicas,
};

/// FLK101: more than one JobManager without high availability.
fn replicas(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if ctx.class() == Class::Scale {
        return scale(ctx);
    }
    if ctx.class() == Class::Resource(CrKind::FlinkDeployment) {
        let at = replicas_pointer(obj);
        let n = obj.at(at).and_then(Value::as_i64).unwrap_or(1);
        let cfg = ctx.spec_config();
        // HA switched on without a storage dir is FLK309's finding, not a second one here.
        if n > 1 && !cfg.ha_enabled() {
            return vec![
                Hit::at(at)
                    .arg("what", pointer::dotted(at))
                    .arg("replicas", n)
                    .fix(vec![Op::Replace {
                        path: at.into(),
                        value: json!(1),
                    }]),
            ];
        }
        return Vec::new();
    }
    let Some((n, ptr)) = object::replicas(obj) else {
        return Vec::new();
    };
    if n <= 1 || ptr.is_empty() {
        return Vec::new();
    }
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if pc.ha_or_likely() {
        return Vec::new();
    }
    let field = pointer::dotted(ptr);
    vec![
        Hit::at(ptr)
            .arg("what", field)
            .arg("replicas", n)
            .unseen(pc.ha_unseen())
            .fix(vec![Op::Replace {
                path: ptr.into(),
                value: json!(1),
            }]),
    ]
}

/// Where `obj`'s kind keeps its replica count (the kinds table); `""` for none.
fn replicas_pointer(obj: &Value) -> &'static str {
    crate::flink::kinds::find(object::group(obj), object::kind(obj))
        .and_then(|k| k.replicas)
        .unwrap_or_default()
}

/// FLK101 for `kubectl scale`: an `autoscaling/v1 Scale` sent to the `/scale` subresource of a
/// JobManager Deployment or StatefulSet (found by name next to it).
fn scale(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let at = replicas_pointer(obj);
    let n = obj.at(at).and_then(Value::as_i64).unwrap_or(0);
    if n <= 1 {
        return Vec::new();
    }
    let name = object::name(obj);
    let target = ["Deployment", "StatefulSet"]
        .iter()
        .flat_map(|k| ctx.list("apps", k))
        .find(|w| {
            object::name(w) == name && ctx.class_of(w) == Class::Workload(Some(Role::JobManager))
        });
    let Some(w) = target else {
        return Vec::new();
    };
    let Some(pc) = standalone::resolve(ctx, &w) else {
        return Vec::new();
    };
    if pc.ha_or_likely() {
        return Vec::new();
    }
    vec![
        Hit::at(at)
            .unseen(pc.ha_unseen())
            .arg(
                "what",
                format!(
                    "kubectl scale of JobManager {} {}: spec.replicas",
                    object::kind(&w),
                    object::name(&w)
                ),
            )
            .arg("replicas", n),
    ]
}

/// The flattened `spec.flinkConfiguration` of a custom resource.
pub fn flink_configuration(obj: &Value) -> FlinkConfig {
    obj.at("/spec/flinkConfiguration")
        .map(config::flatten)
        .unwrap_or_default()
}

/// FLK102: `check: native: jobmanager_rollout`.
pub(super) const JOBMANAGER_ROLLOUT: Native = Native {
    args: &["strategy", "surge"],
    run: rollout,
};

/// FLK102: a JobManager Deployment whose rollout starts the new JobManager before the old one
/// is gone.
fn rollout(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if object::group(obj) != "apps" || object::kind(obj) != "Deployment" {
        return Vec::new();
    }
    if matches!(object::replicas(obj), Some((0, _))) {
        return Vec::new();
    }
    let strategy = obj.at("/spec/strategy");
    let kind = strategy
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate");
    if kind == "Recreate" {
        return Vec::new();
    }
    let surge = strategy
        .and_then(|s| s.at("/rollingUpdate/maxSurge"))
        .cloned()
        .unwrap_or(json!("25%"));
    let no_surge = matches!(&surge, Value::Number(n) if n.as_i64() == Some(0))
        || matches!(&surge, Value::String(s) if s.trim() == "0" || s.trim() == "0%");
    if no_surge {
        return Vec::new();
    }
    let unseen = match ctx.me() {
        Some(pc) if pc.ha_or_likely() => return Vec::new(),
        Some(pc) => pc.ha_unseen(),
        None => None,
    };
    let at = if strategy.is_some() {
        "/spec/strategy"
    } else {
        "/spec"
    };
    let surge_text = match &surge {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    vec![
        Hit::at(at)
            .arg("strategy", kind)
            .arg("surge", surge_text)
            .unseen(unseen)
            .fix(vec![Op::Add {
                path: "/spec/strategy".into(),
                value: json!({"type": "Recreate"}),
            }]),
    ]
}

/// FLK103: `check: native: jobmanager_hpa`.
pub(super) const JOBMANAGER_HPA: Native = Native {
    args: &["target", "max"],
    run: hpa,
};

/// FLK103: an HPA that can scale a JobManager above one replica.
fn hpa(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let max = obj
        .at("/spec/maxReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if max <= 1 {
        return Vec::new();
    }
    let Some(target) = obj.at("/spec/scaleTargetRef") else {
        return Vec::new();
    };
    let kind = object::str_at(target, "/kind").unwrap_or("");
    let name = object::str_at(target, "/name").unwrap_or("");
    let group = object::group_of(object::str_at(target, "/apiVersion").unwrap_or(""));
    let found = ctx
        .list(group, kind)
        .into_iter()
        .find(|w| object::name(w) == name);
    let hit = |what: String, unseen: Option<String>| {
        vec![
            Hit::at("/spec/maxReplicas")
                .arg("max", max)
                .arg("target", what)
                .unseen(unseen),
        ]
    };
    match found {
        Some(w) if ctx.class_of(&w) == Class::Workload(Some(Role::JobManager)) => {
            match standalone::resolve(ctx, &w) {
                Some(pc) if pc.ha_or_likely() => Vec::new(),
                pc => hit(format!("{kind}/{name}"), pc.and_then(|pc| pc.ha_unseen())),
            }
        }
        Some(_) => Vec::new(),
        None => {
            // The operator names a FlinkDeployment's JobManager Deployment after the resource.
            let fd = ctx
                .list(object::FLINK_GROUP, "FlinkDeployment")
                .into_iter()
                .find(|fd| object::name(fd) == name);
            match fd {
                Some(fd) if kind == "Deployment" && group == "apps" => {
                    if flink_configuration(&fd).ha_enabled() {
                        Vec::new()
                    } else {
                        hit(
                            format!("the JobManager Deployment of FlinkDeployment {name}"),
                            None,
                        )
                    }
                }
                _ => Vec::new(),
            }
        }
    }
}

/// Pod labels that say which part of a cluster a pod is, not which cluster.
const ROLE_LABELS: &[&str] = &[
    "component",
    "app.kubernetes.io/component",
    "role",
    "pod-template-hash",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
];

/// How two JobManagers' pod labels relate: `Some(false)` when a label both carry has different
/// values (`cluster: a` / `cluster: b`: two clusters), `Some(true)` when they share at least one
/// cluster label and agree on all of them, `None` when they share none.
fn labels_agree(a: &Value, b: &Value) -> Option<bool> {
    let (Some(la), Some(lb)) = (object::pod_labels(a), object::pod_labels(b)) else {
        return None;
    };
    let mut shared = false;
    for (k, v) in la {
        if ROLE_LABELS.contains(&k.as_str()) {
            continue;
        }
        if let Some(w) = lb.get(k) {
            if w != v {
                return Some(false);
            }
            shared = true;
        }
    }
    shared.then_some(true)
}

/// What a JobManager's configuration says about which cluster it is.
fn cluster_facts(pc: &PodConfig<'_>) -> (Option<String>, Option<String>, Option<String>) {
    let cm = match &pc.mount {
        standalone::Mount::ConfigMap { source, .. } => Some(source.name.to_string()),
        _ => None,
    };
    let id = pc
        .config
        .get(config::KUBERNETES_CLUSTER_ID)
        .map(str::to_string);
    let rpc = pc
        .config
        .get(config::JOBMANAGER_RPC_ADDRESS)
        .filter(|a| {
            !matches!(a.trim(), "localhost" | "127.0.0.1" | "0.0.0.0") && !a.contains("POD_IP")
        })
        .map(|a| standalone::service_name_of_address(a).to_string());
    (cm, id, rpc)
}

/// FLK104: `check: native: duplicate_jobmanager`.
pub(super) const DUPLICATE_JOBMANAGER: Native = Native {
    args: &["other", "why"],
    run: duplicate,
};

/// FLK104: two JobManager workloads serve one cluster. Every signal counts: a Service that
/// selects both, the ConfigMap they mount, `kubernetes.cluster-id`, the rpc address, and pod
/// labels; a label both carry with different values (`cluster: a` / `cluster: b`) tells two
/// clusters apart unless a Service selects both. The subject gets one finding naming the
/// first other JobManager and how many more there are.
fn duplicate(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if matches!(object::replicas(obj), Some((0, _))) {
        return Vec::new();
    }
    let Some(me) = ctx.me() else {
        return Vec::new();
    };
    if me.ha_or_likely() {
        return Vec::new();
    }
    let services: Vec<_> = ctx
        .list("", "Service")
        .into_iter()
        .filter(|s| standalone::service_selects(s, obj))
        .collect();
    let (my_cm, my_id, my_rpc) = cluster_facts(me);
    let me_ref = object::ObjectRef::of(obj);
    let mut found: Vec<(String, String)> = Vec::new();
    // The other JobManagers in sight: what `standalone::jobmanagers` lists without the subject
    // (which is skipped anyway), so the subject is never copied into the list.
    let others = super::WORKLOAD_KINDS
        .iter()
        .flat_map(|k| ctx.others(k.group, k.kind))
        .filter(|w| ctx.class_of(w) == Class::Workload(Some(Role::JobManager)));
    for other in others {
        if me_ref.is(&other) || matches!(object::replicas(&other), Some((0, _))) {
            continue;
        }
        let why = if let Some(s) = services
            .iter()
            .find(|s| standalone::service_selects(s, &other))
        {
            format!("Service {} selects both", object::name(s))
        } else {
            let labels = labels_agree(obj, &other);
            if labels == Some(false) {
                continue;
            }
            let Some(opc) = standalone::resolve(ctx, &other) else {
                continue;
            };
            if opc.ha_or_likely() {
                continue;
            }
            let (cm, id, rpc) = cluster_facts(&opc);
            if my_id.is_some() && id == my_id {
                format!("both set kubernetes.cluster-id {}", id.unwrap_or_default())
            } else if my_rpc.is_some() && rpc == my_rpc {
                format!(
                    "both use jobmanager.rpc.address {}",
                    rpc.unwrap_or_default()
                )
            } else if my_cm.is_some() && cm == my_cm {
                format!("both mount ConfigMap {}", cm.unwrap_or_default())
            } else if labels == Some(true) {
                "their pods carry the same cluster labels".to_string()
            } else {
                continue;
            }
        };
        found.push((ctx.describe(&other), why));
    }
    let Some((other, why)) = found.first() else {
        return Vec::new();
    };
    let why = match found.len() {
        1 => why.clone(),
        n => format!("{why}; {} more JobManagers too", n - 1),
    };
    vec![
        Hit::at("/metadata/name")
            .arg("other", other)
            .arg("why", why)
            .unseen(me.ha_unseen()),
    ]
}

/// Does any JobManager's Service name resolve to this Service?
fn is_rpc_service(svc: &Value, jms: &[(std::sync::Arc<Value>, PodConfig<'_>)]) -> bool {
    jms.iter().any(|(_, pc)| {
        pc.config
            .get(config::JOBMANAGER_RPC_ADDRESS)
            .is_some_and(|a| standalone::service_name_of_address(a) == object::name(svc))
    })
}

fn port_number(spec: Option<PortSpec>, default: u16) -> Option<u16> {
    match spec {
        None => Some(default),
        Some(PortSpec::Fixed(p)) => Some(p),
        _ => None,
    }
}

/// Whether a Service port routes `port` to the same container port.
fn exposes(svc: &Value, port: u16, container_port_names: &[(&str, u64)]) -> bool {
    svc.at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            p.get("port").and_then(Value::as_u64) == Some(u64::from(port))
                && match p.get("targetPort") {
                    None | Some(Value::Null) => true,
                    Some(Value::Number(n)) => n.as_u64() == Some(u64::from(port)),
                    Some(Value::String(s)) => s.parse::<u64>().ok().map_or_else(
                        || {
                            container_port_names
                                .iter()
                                .any(|(n, p)| n == s && *p == u64::from(port))
                                || container_port_names.is_empty()
                        },
                        |n| n == u64::from(port),
                    ),
                    Some(_) => false,
                }
        })
}

/// FLK105: `check: native: jobmanager_service_ports`.
pub(super) const JOBMANAGER_SERVICE_PORTS: Native = Native {
    args: &["service", "missing"],
    run: service_ports,
};

/// FLK105: the Service TaskManagers use to reach the JobManager does not expose its ports.
fn service_ports(ctx: &Ctx<'_>) -> Vec<Hit> {
    let svc = ctx.obj;
    let jm_workloads = standalone::jobmanagers(ctx);
    let selected: Vec<_> = jm_workloads
        .iter()
        .filter(|w| standalone::service_selects(svc, w))
        .filter_map(|w| Some((w.clone(), standalone::resolve(ctx, w)?)))
        .collect();
    let Some((_, pc)) = selected.first() else {
        return Vec::new();
    };
    if !is_rpc_service(svc, &selected) || pc.ha() != Some(false) {
        return Vec::new();
    }
    let names: Vec<(&str, u64)> = pc
        .container
        .value
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                object::str_at(p, "/name")?,
                p.get("containerPort")?.as_u64()?,
            ))
        })
        .collect();
    let mut wanted: Vec<(&str, u16)> = Vec::new();
    if let Some(p) = port_number(
        pc.config.port(config::JOBMANAGER_RPC_PORT),
        config::JOBMANAGER_RPC_PORT_DEFAULT,
    ) {
        wanted.push(("rpc", p));
    }
    if let Some(p) = port_number(pc.config.port(config::BLOB_SERVER_PORT), 0).filter(|p| *p != 0) {
        wanted.push(("blob-server", p));
    }
    // REST only needs exposing once, on any Service in front of the JobManager.
    let rest = port_number(pc.config.port(config::REST_PORT), config::REST_PORT_DEFAULT);
    if let Some(rest) = rest {
        let others_expose = ctx
            .list("", "Service")
            .iter()
            .filter(|s| {
                selected
                    .iter()
                    .any(|(w, _)| standalone::service_selects(s, w))
            })
            .any(|s| exposes(s, rest, &names));
        if !others_expose {
            wanted.push(("webui", rest));
        }
    }
    let missing: Vec<(&str, u16)> = wanted
        .into_iter()
        .filter(|(_, p)| !exposes(svc, *p, &names))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let list = missing
        .iter()
        .map(|(n, p)| format!("{n} {p}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ops = missing
        .iter()
        .map(|(n, p)| Op::Add {
            path: "/spec/ports/-".into(),
            value: json!({"name": n, "port": p, "targetPort": p}),
        })
        .collect();
    let at = if svc.at("/spec/ports").is_some() {
        "/spec/ports"
    } else {
        "/spec"
    };
    vec![
        Hit::at(at)
            .arg("service", object::name(svc))
            .arg("missing", list)
            .fix(ops),
    ]
}

/// FLK106: `check: native: jobmanager_service_selector`.
pub(super) const JOBMANAGER_SERVICE_SELECTOR: Native = Native {
    args: &["selector", "problem"],
    run: service_selector,
};

/// FLK106: a JobManager Service that selects no JobManager pods, or TaskManager pods too.
fn service_selector(ctx: &Ctx<'_>) -> Vec<Hit> {
    let svc = ctx.obj;
    let Some(sel) = svc.at("/spec/selector").and_then(Value::as_object) else {
        return Vec::new();
    };
    let workloads = ctx.workloads();
    let flink: Vec<_> = workloads
        .iter()
        .filter_map(|w| match ctx.class_of(w) {
            Class::Workload(Some(role)) => Some((w, role)),
            _ => None,
        })
        .collect();
    let jms: Vec<_> = flink
        .iter()
        .filter(|(_, r)| *r == Role::JobManager)
        .collect();
    if jms.is_empty() {
        return Vec::new();
    }
    let selects_jm = jms
        .iter()
        .any(|(w, _)| object::map_selects(sel, object::pod_labels(w)));
    let tms: Vec<_> = flink
        .iter()
        .filter(|(w, r)| *r == Role::TaskManager && object::map_selects(sel, object::pod_labels(w)))
        .collect();
    let name = object::name(svc);
    let addressed = workloads.iter().any(|w| {
        standalone::resolve(ctx, w).is_some_and(|pc| {
            pc.config
                .get(config::JOBMANAGER_RPC_ADDRESS)
                .is_some_and(|a| standalone::service_name_of_address(a) == name)
        })
    });
    // A name alone does not make a JobManager Service (a metrics Service may be called
    // flink-jobmanager-metrics): it must also carry a JobManager port (RPC, blob or REST).
    let carries_jm_port = svc
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            matches!(
                p.get("port").and_then(Value::as_u64),
                Some(p) if [
                    config::JOBMANAGER_RPC_PORT_DEFAULT,
                    config::DOCS_BLOB_SERVER_PORT,
                    config::REST_PORT_DEFAULT,
                ]
                .iter()
                .any(|&d| u64::from(d) == p)
            ) || matches!(
                object::str_at(p, "/name"),
                Some("rpc" | "blob" | "blob-server" | "webui" | "rest" | "ui")
            )
        });
    let meant_for_jm = addressed
        || (name.contains("jobmanager") && carries_jm_port)
        || sel
            .get("component")
            .and_then(Value::as_str)
            .is_some_and(|c| c == "jobmanager");
    if !meant_for_jm {
        return Vec::new();
    }
    if selects_jm && tms.is_empty() {
        return Vec::new();
    }
    // A selector of the pods Flink makes from a FlinkDeployment (`type:
    // flink-native-kubernetes`) is not meant for the standalone JobManagers in sight.
    if !selects_jm && tms.is_empty() && object::has_generated_type(Some(sel)) {
        return Vec::new();
    }
    let selector = sel
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(",");
    let problem = if let Some((tm, _)) = tms.first() {
        format!(
            "also selects the TaskManager pods of {}",
            object::ObjectRef::of(tm).display()
        )
    } else {
        let labels = jms
            .first()
            .and_then(|(w, _)| object::pod_labels(w))
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        format!("selects no JobManager pods (they are labelled {labels})")
    };
    vec![
        Hit::at("/spec/selector")
            .arg("selector", selector)
            .arg("problem", problem),
    ]
}

/// FLK107: `check: native: jobmanager_service_missing`.
pub(super) const JOBMANAGER_SERVICE_MISSING: Native = Native {
    args: &["name", "service"],
    run: service_missing,
};

/// FLK107: no Service selects a standalone JobManager (without HA) whose TaskManagers are in
/// sight. The fix creates one (`flink-lint fix` writes it into the JobManager's file).
fn service_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if pc.role != Some(Role::JobManager) || pc.ha_or_likely() {
        return Vec::new();
    }
    let app = object::pod_labels(ctx.obj)
        .and_then(|l| l.get("app"))
        .and_then(Value::as_str);
    let same_cluster = |w: &Value| {
        app.is_none()
            || object::pod_labels(w)
                .and_then(|l| l.get("app"))
                .and_then(Value::as_str)
                == app
    };
    let taskmanagers = ctx.workloads().iter().any(|w| {
        ctx.class_of(w) == object::Class::Workload(Some(Role::TaskManager)) && same_cluster(w)
    });
    if !taskmanagers {
        return Vec::new();
    }
    if ctx
        .list("", "Service")
        .iter()
        .any(|s| standalone::service_selects(s, ctx.obj))
    {
        return Vec::new();
    }
    let service = super::inject::jobmanager_service(ctx.obj, pc);
    let text = service
        .as_ref()
        .map(describe_service)
        .unwrap_or_else(|| "label the pods and create a Service that selects them".to_string());
    let unseen = (!ctx.complete("", "Service"))
        .then(|| "Services outside the linted files are not seen".to_string());
    vec![
        Hit::at(format!(
            "{}/metadata",
            pod_template_pointer(pc.spec_pointer)
        ))
        .arg("name", object::name(ctx.obj))
        .arg("service", text)
        .create(
            service
                .into_iter()
                .filter(|_| ctx.settings.fix.create_objects)
                .collect(),
        )
        .unseen(unseen),
    ]
}

/// The pod template of a pod spec pointer (`/spec/template/spec` gives `/spec/template`).
fn pod_template_pointer(spec_pointer: &str) -> &str {
    spec_pointer.strip_suffix("/spec").unwrap_or(spec_pointer)
}

/// A Service to create, in words on one line: `create Service NAME (ClusterIP, selector
/// app=flink,component=jobmanager, ports rpc 6123, webui 8081)`.
fn describe_service(svc: &Value) -> String {
    let selector = svc
        .at("/spec/selector")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let ports = svc
        .at("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| format!("{} {}", p["name"].as_str().unwrap_or(""), p["port"]))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    format!(
        "create Service {} (ClusterIP, selector {selector}, ports {ports})",
        object::name(svc)
    )
}
