//! What fixes inject into a FlinkDeployment's `flinkConfiguration`, judged as the operator
//! builds the cluster's configuration: its own defaults first (`FlinkConfigBuilder` sets
//! `kubernetes.rest-service.exposed.type: ClusterIP` when the CR leaves it unset), then the CR's
//! keys, flat or nested.

use serde_json::{Value, json};

use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::config;
use crate::flink::object::{self, Class, CrKind};
use crate::flink::pointer::{self, Pointer as _};

const FLINK_CONFIGURATION: &str = "/spec/flinkConfiguration";

fn is_flink_deployment(ctx: &Ctx<'_>) -> bool {
    matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment)) && !object::is_canary(ctx.obj)
}

/// Where `key` is written in `spec.flinkConfiguration`: flat (`a.b.c`), nested (`a: {b: {c:}}`)
/// or mixed (`a: {b.c:}`). `None` when it is not there.
pub fn key_pointer(obj: &Value, key: &str) -> Option<String> {
    key_pointer_in(obj, FLINK_CONFIGURATION, key)
}

/// [`key_pointer`] in the Flink configuration at `config` (a FlinkBlueGreenDeployment's is
/// `/spec/template/spec/flinkConfiguration`).
pub fn key_pointer_in(obj: &Value, config: &str, key: &str) -> Option<String> {
    fn find(node: &Value, at: &str, rest: &str) -> Option<String> {
        let map = node.as_object()?;
        if map.contains_key(rest) {
            return Some(format!("{at}/{}", pointer::escape(rest)));
        }
        map.iter().find_map(|(k, v)| {
            let below = rest.strip_prefix(k.as_str())?.strip_prefix('.')?;
            find(v, &format!("{at}/{}", pointer::escape(k)), below)
        })
    }
    find(obj.at(config)?, config, key)
}

/// Where to add `key` to `spec.flinkConfiguration`: into the deepest nested map the
/// configuration already has for its prefix (`taskmanager: {memory: ..}` gets
/// `numberOfTaskSlots` there), else flat at the top.
pub fn add_pointer(obj: &Value, key: &str) -> String {
    add_pointer_in(obj, FLINK_CONFIGURATION, key)
}

/// [`add_pointer`] in the Flink configuration at `config`.
pub fn add_pointer_in(obj: &Value, config: &str, key: &str) -> String {
    let mut at = config.to_string();
    let mut node = obj.at(config);
    let mut rest = key;
    while let Some(map) = node.and_then(Value::as_object) {
        let next = map.iter().find_map(|(k, v)| {
            let below = rest.strip_prefix(k.as_str())?.strip_prefix('.')?;
            v.is_object().then_some((k, v, below))
        });
        let Some((k, v, below)) = next else { break };
        at = format!("{at}/{}", pointer::escape(k));
        node = Some(v);
        rest = below;
    }
    format!("{at}/{}", pointer::escape(rest))
}

/// What a Service of this type exposes the JobManager through, if anything beyond the cluster.
fn reach_of(service_type: &str) -> Option<&'static str> {
    // Flink reads enum options case-insensitively.
    match service_type.trim().to_ascii_lowercase().as_str() {
        "nodeport" => Some("a port on every node"),
        "loadbalancer" => Some("a load balancer"),
        _ => None,
    }
}

/// Fields of a Service that only a NodePort or LoadBalancer Service may have: a ClusterIP
/// Service that keeps them is rejected by the API server.
const EXTERNAL_ONLY: &[&str] = &[
    "externalTrafficPolicy",
    "healthCheckNodePort",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "allocateLoadBalancerNodePorts",
];

/// FLK240 on a Service: a NodePort or LoadBalancer Service that selects a standalone
/// JobManager's pods exposes its REST API (and RPC, blob) outside the cluster.
fn exposed_service(ctx: &Ctx<'_>) -> Vec<Hit> {
    let svc = ctx.obj;
    let Some(kind) = object::str_at(svc, "/spec/type") else {
        return Vec::new();
    };
    // Kubernetes Service types are exact.
    let Some(reach) = reach_of(kind).filter(|_| kind == "NodePort" || kind == "LoadBalancer")
    else {
        return Vec::new();
    };
    let mut jobmanagers: Vec<String> = ctx
        .workloads()
        .iter()
        .filter(|w| {
            matches!(
                object::classify(w),
                Class::Workload(Some(crate::flink::object::Role::JobManager))
            ) && super::standalone::service_selects(svc, w)
        })
        .map(|w| object::name(w).to_string())
        .collect();
    // A session Deployment and an application Job of one name are two files, one name.
    jobmanagers.sort();
    jobmanagers.dedup();
    if jobmanagers.is_empty() {
        return Vec::new();
    }
    let mut ops = vec![Op::Replace {
        path: "/spec/type".into(),
        value: json!("ClusterIP"),
    }];
    for (i, p) in svc
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if p.get("nodePort").is_some() {
            ops.push(Op::Remove {
                path: format!("/spec/ports/{i}/nodePort"),
            });
        }
    }
    for f in EXTERNAL_ONLY {
        if svc.at(&format!("/spec/{f}")).is_some() {
            ops.push(Op::Remove {
                path: format!("/spec/{f}"),
            });
        }
    }
    vec![
        Hit::at("/spec/type")
            .arg(
                "what",
                format!(
                    "Service {} is {kind} and selects the pods of JobManager {}",
                    object::name(svc),
                    jobmanagers.join(", ")
                ),
            )
            .arg("reach", reach)
            .fix(ops),
    ]
}

/// FLK240: `check: native: rest_service_exposed`.
pub(super) const REST_SERVICE_EXPOSED: Native = Native {
    args: &["what", "reach"],
    run: rest_service_exposed,
};

/// FLK240: the REST Service is exposed outside the cluster (NodePort or LoadBalancer): set so
/// in a FlinkDeployment (unset is fine: the operator then sets ClusterIP), or a standalone
/// cluster's Service in front of the JobManager.
fn rest_service_exposed(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if object::kind(obj) == "Service" && object::group(obj).is_empty() {
        return exposed_service(ctx);
    }
    if !is_flink_deployment(ctx) {
        return Vec::new();
    }
    let cfg = ctx.spec_config();
    let Some(value) = cfg.get(config::REST_EXPOSED_TYPE) else {
        return Vec::new();
    };
    let Some(reach) = reach_of(value) else {
        return Vec::new();
    };
    let at =
        key_pointer(obj, config::REST_EXPOSED_TYPE).unwrap_or_else(|| FLINK_CONFIGURATION.into());
    let hit = Hit::at(&at)
        .arg(
            "what",
            format!("{} is {}", config::REST_EXPOSED_TYPE, value.trim()),
        )
        .arg("reach", reach);
    if at == FLINK_CONFIGURATION {
        return vec![hit];
    }
    vec![hit.fix(vec![Op::Replace {
        path: at,
        value: json!("ClusterIP"),
    }])]
}

/// FLK308 on a FlinkDeployment: `taskmanager.numberOfTaskSlots` is not in
/// `spec.flinkConfiguration`, so the operator's default configuration decides (one slot as the
/// operator ships it, Flink's own default).
pub fn task_slots_unset(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if !is_flink_deployment(ctx) {
        return Vec::new();
    }
    if ctx.spec_config().get(config::TASK_SLOTS).is_some() {
        return Vec::new();
    }
    let at = if obj.at(FLINK_CONFIGURATION).is_some() {
        FLINK_CONFIGURATION
    } else {
        "/spec"
    };
    vec![
        Hit::at(at)
            .arg("file", "spec.flinkConfiguration")
            .arg(
                "default",
                "the operator's default (one slot as the operator ships it)",
            )
            .fix(vec![Op::Add {
                path: add_pointer(obj, config::TASK_SLOTS),
                value: json!(ctx.settings.fix.task_slots.to_string()),
            }]),
    ]
}

/// FLK311: `check: native: log_configuration_unset`.
pub(super) const LOG_CONFIGURATION_UNSET: Native = Native {
    args: &[],
    run: log_configuration_unset,
};

/// FLK311: with `fix.log-configuration` on, a FlinkDeployment whose `spec.logConfiguration`
/// has neither `log4j-console.properties` nor `logback-console.xml` (the keys the operator
/// accepts) gets `log4j-console.properties` from `fix.log4j-console`.
fn log_configuration_unset(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if !ctx.settings.fix.log_configuration || !is_flink_deployment(ctx) {
        return Vec::new();
    }
    let log = obj.at("/spec/logConfiguration");
    if log
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(LOG4J) || m.contains_key("logback-console.xml"))
    {
        return Vec::new();
    }
    let at = if log.is_some() {
        "/spec/logConfiguration"
    } else {
        "/spec"
    };
    vec![Hit::at(at).fix(vec![Op::Add {
        path: format!("/spec/logConfiguration/{}", pointer::escape(LOG4J)),
        value: json!(ctx.settings.fix.log4j_console),
    }])]
}

const LOG4J: &str = "log4j-console.properties";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_flat_nested_and_mixed() {
        let fd = |cfg: Value| json!({"spec": {"flinkConfiguration": cfg}});
        let flat = fd(json!({"kubernetes.rest-service.exposed.type": "NodePort"}));
        assert_eq!(
            key_pointer(&flat, config::REST_EXPOSED_TYPE).as_deref(),
            Some("/spec/flinkConfiguration/kubernetes.rest-service.exposed.type")
        );
        let nested = fd(json!({"kubernetes": {"rest-service": {"exposed": {"type": "x"}}}}));
        assert_eq!(
            key_pointer(&nested, config::REST_EXPOSED_TYPE).as_deref(),
            Some("/spec/flinkConfiguration/kubernetes/rest-service/exposed/type")
        );
        let mixed = fd(json!({"kubernetes": {"rest-service.exposed.type": "x"}}));
        assert_eq!(
            key_pointer(&mixed, config::REST_EXPOSED_TYPE).as_deref(),
            Some("/spec/flinkConfiguration/kubernetes/rest-service.exposed.type")
        );
        assert_eq!(key_pointer(&fd(json!({})), config::REST_EXPOSED_TYPE), None);
    }

    #[test]
    fn added_keys_go_into_the_nested_map_that_is_there() {
        let fd = |cfg: Value| json!({"spec": {"flinkConfiguration": cfg}});
        assert_eq!(
            add_pointer(
                &fd(json!({"taskmanager": {"memory": {}}})),
                config::TASK_SLOTS
            ),
            "/spec/flinkConfiguration/taskmanager/numberOfTaskSlots"
        );
        assert_eq!(
            add_pointer(
                &fd(json!({"taskmanager.memory.process.size": "1g"})),
                config::TASK_SLOTS
            ),
            "/spec/flinkConfiguration/taskmanager.numberOfTaskSlots"
        );
        assert_eq!(
            add_pointer(&json!({"spec": {}}), config::TASK_SLOTS),
            "/spec/flinkConfiguration/taskmanager.numberOfTaskSlots"
        );
    }
}
