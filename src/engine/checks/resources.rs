//! Family 4: resource requests and limits, and the Flink memory model against the container.

use crate::flink::pointer::Pointer as _;
use serde_json::{Value, json};

use super::standalone::PodConfig;
use super::{Ctx, Native};
use crate::engine::settings::ResourceDefaults;
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig};
use crate::flink::object::{self, Class, Role};
use crate::flink::quantity::{self, MemorySize};

/// The configured process size for a role, if set and valid.
fn process_size(cfg: &FlinkConfig, role: Role) -> Option<(&'static str, MemorySize)> {
    let key = match role {
        Role::JobManager => config::JM_PROCESS_SIZE,
        Role::TaskManager => config::TM_PROCESS_SIZE,
    };
    Some((key, cfg.memory(key)?.ok()?))
}

fn defaults_for<'s>(ctx: &'s Ctx<'_>, role: Option<Role>) -> &'s ResourceDefaults {
    let r = &ctx.settings.resources;
    match role {
        Some(Role::JobManager) => &r.jobmanager,
        Some(Role::TaskManager) => &r.taskmanager,
        None => &r.other,
    }
}

/// FLK401: `check: native: container_resources`.
pub(super) const CONTAINER_RESOURCES: Native = Native {
    args: &["container", "missing"],
    run: container_resources,
};

/// FLK401: a container without a cpu request, a memory request or a memory limit.
fn container_resources(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let Some(spec) = object::pod_spec_pointer(obj) else {
        return Vec::new();
    };
    let class = ctx.class();
    let pc = ctx.me();
    let mut hits = Vec::new();
    for c in object::containers(obj, spec) {
        let res = c.value.get("resources");
        let has = |p: &str| res.and_then(|r| r.at(p)).is_some_and(|v| !v.is_null());
        let mut missing = Vec::new();
        for (p, what) in [
            ("/requests/cpu", "cpu request"),
            ("/requests/memory", "memory request"),
            ("/limits/memory", "memory limit"),
        ] {
            if !has(p) {
                missing.push((p, what));
            }
        }
        if missing.is_empty() {
            continue;
        }
        let at = if res.is_some() {
            format!("{}/resources", c.pointer())
        } else {
            c.pointer()
        };
        let list = missing
            .iter()
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(", ");
        let mut hit = Hit::at(at).arg("container", c.name()).arg("missing", list);
        // A safe fix only where the right size is known: Flink's main container.
        let main = pc
            .as_ref()
            .is_some_and(|pc| pc.container.index == c.index && class != Class::Operator);
        if let (true, Some(pc)) = (main, pc.as_ref())
            && let Class::Workload(Some(role)) = class
        {
            hit = hit.fix(fill_ops(ctx, pc, role, &c.pointer(), &missing));
        }
        hits.push(hit);
    }
    hits
}

/// Operations that fill the missing requests and limits of a Flink container, never making a
/// limit smaller than its request (the API server rejects that):
/// - memory is the configured process size when there is one, else the memory the container
///   already states, else the configured default;
/// - a new memory limit is raised to an existing request above it (the user asked for that
///   much; lowering their request is not ours to do);
/// - a new request (memory or cpu) is lowered to an existing limit below it (what the API
///   server itself defaults a missing request to).
///
/// Existing values are compared as Kubernetes quantities; a key whose counterpart is not a
/// quantity is left alone (no size is known to be right). No operations at all when
/// `resources`, `requests` or `limits` is something other than a map (or null).
fn fill_ops(
    ctx: &Ctx<'_>,
    pc: &PodConfig<'_>,
    role: Role,
    container: &str,
    missing: &[(&str, &str)],
) -> Vec<Op> {
    let c = pc.container.value;
    let map_or_absent = |p: &str| c.at(p).is_none_or(|v| v.is_null() || v.is_object());
    if !["/resources", "/resources/requests", "/resources/limits"]
        .iter()
        .all(|p| map_or_absent(p))
    {
        return Vec::new();
    }
    let existing = |p: &str| c.at(p).filter(|v| !v.is_null());
    let d = defaults_for(ctx, Some(role));
    let derived = || super::memory::derived_process_size(ctx);
    let memory = match process_size(&pc.config, role)
        .map(|(_, s)| s.0)
        .or_else(derived)
    {
        Some(size) => json!(quantity::format_k8s_memory(size)),
        None => ["/resources/requests/memory", "/resources/limits/memory"]
            .iter()
            .find_map(|p| existing(p).cloned())
            .unwrap_or_else(|| json!(d.memory)),
    };
    missing
        .iter()
        .filter_map(|(p, _)| {
            let proposed = if p.ends_with("cpu") {
                json!(d.cpu)
            } else {
                memory.clone()
            };
            // The other side of the pair: a request's limit, a limit's request.
            let (other, limit_side) = match *p {
                "/requests/cpu" => ("/resources/limits/cpu", false),
                "/requests/memory" => ("/resources/limits/memory", false),
                "/limits/memory" => ("/resources/requests/memory", true),
                _ => return None,
            };
            let value = match existing(other) {
                None => proposed,
                Some(o) => {
                    let theirs = quantity::quantity_from_json(o).ok()?;
                    let ours = quantity::quantity_from_json(&proposed).ok()?;
                    let keep_ours = if limit_side {
                        ours >= theirs
                    } else {
                        ours <= theirs
                    };
                    if keep_ours { proposed } else { o.clone() }
                }
            };
            Some(Op::Add {
                path: format!("{container}/resources{p}"),
                value,
            })
        })
        .collect()
}

/// FLK402: `check: native: flinkdeployment_memory`.
pub(super) const FLINKDEPLOYMENT_MEMORY: Native = Native {
    args: &["field", "memory"],
    run: flinkdeployment_memory,
};

/// FLK402: a FlinkDeployment's JobManager or TaskManager has no memory anywhere the operator
/// looks (spec or Flink configuration), which the operator rejects.
fn flinkdeployment_memory(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    // The operator skips validation for canary resources (its health check deploys nothing).
    if object::is_canary(obj) {
        return Vec::new();
    }
    let cfg = ctx.spec_config();
    let mut hits = Vec::new();
    for (field, role) in [
        ("jobManager", Role::JobManager),
        ("taskManager", Role::TaskManager),
    ] {
        let base = format!("/spec/{field}");
        let spec = obj.at(&base);
        // `resources` (ResourceRequirements) exists from operator 1.16 only.
        let requirements = ctx.settings.operator_version.has_resource_requirements();
        let in_spec = spec.is_some_and(|s| {
            s.at("/resource/memory")
                .and_then(Value::as_str)
                .is_some_and(|m| !m.trim().is_empty())
                || requirements
                    && (s.at("/resources/requests/memory").is_some()
                        || s.at("/resources/limits/memory").is_some())
        });
        let in_config = match role {
            Role::JobManager => cfg
                .get_any(&[
                    config::JM_PROCESS_SIZE,
                    config::JM_FLINK_SIZE,
                    config::JM_HEAP_SIZE,
                    config::JM_HEAP_SIZE_LEGACY,
                ])
                .is_some(),
            Role::TaskManager => {
                cfg.get_any(&[config::TM_PROCESS_SIZE, config::TM_FLINK_SIZE])
                    .is_some()
                    || (cfg.get(config::TM_TASK_HEAP).is_some()
                        && cfg.get(config::TM_MANAGED).is_some())
            }
        };
        if in_spec || in_config {
            continue;
        }
        let d = defaults_for(ctx, Some(role));
        let uses_resources = requirements && spec.is_some_and(|s| s.get("resources").is_some());
        let op = if uses_resources {
            Op::Add {
                path: format!("{base}/resources/requests/memory"),
                value: json!(d.memory),
            }
        } else {
            Op::Add {
                path: format!("{base}/resource/memory"),
                value: json!(d.memory),
            }
        };
        let at = if spec.is_some() {
            base.clone()
        } else {
            "/spec".into()
        };
        hits.push(
            Hit::at(at)
                .arg("field", field)
                .arg("memory", d.memory.clone())
                .fix(vec![op]),
        );
    }
    hits
}

/// FLK403: `check: native: process_memory_exceeds_limit`.
pub(super) const PROCESS_MEMORY_EXCEEDS_LIMIT: Native = Native {
    args: &["limit", "key", "size", "needed"],
    run: process_memory_exceeds_limit,
};

/// FLK403: the container's memory limit is below the Flink process size, so the kernel kills
/// the JVM when Flink uses the memory it was told it has.
fn process_memory_exceeds_limit(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let Class::Workload(Some(role)) = ctx.class() else {
        return Vec::new();
    };
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    let Some((key, size)) = process_size(&pc.config, role) else {
        return Vec::new();
    };
    let ptr = format!("{}/resources/limits/memory", pc.container.pointer());
    let Some(limit) = obj.at(&ptr) else {
        return Vec::new();
    };
    let Ok(q) = quantity::quantity_from_json(limit) else {
        return Vec::new();
    };
    let limit_bytes = q.bytes();
    if limit_bytes >= i128::from(size.0) {
        return Vec::new();
    }
    let limit_text = match limit {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let needed = quantity::format_k8s_memory(size.0);
    vec![
        Hit::at(ptr)
            .arg("limit", limit_text)
            .arg("key", key)
            .arg("size", quantity::format_flink_memory(size.0))
            .arg("needed", needed.clone())
            .fix(super::memory::raise_limit(pc, &needed)),
    ]
}
