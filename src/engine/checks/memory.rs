//! Family 4: Flink's memory model and the cluster's capacity, as Flink works them out at
//! start-up (`crate::flink::memory`), for standalone JobManagers and TaskManagers (the
//! ConfigMap at `/opt/flink/conf`, or the image's own configuration, then `FLINK_PROPERTIES`
//! and `-D`) and for FlinkDeployments (where the operator makes `resource.memory` the process
//! size). A configuration that could not be seen or read is unknown: nothing is judged from it.

use crate::flink::pointer::Pointer as _;
use serde_json::{Value, json};

use super::standalone::{self, Lookup, Mount, PodConfig};
use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig};
use crate::flink::image::{self, FlinkVersion};
use crate::flink::memory::{self, Basis, Deployment, Memory, MemoryError};
use crate::flink::object::{self, Class, CrKind, Role};
use crate::flink::quantity;

const MIB: u64 = 1 << 20;

/// One Flink process whose memory can be judged, with the memory Flink derives for it: worked
/// out once per check (`Ctx::memory`) for every memory rule.
pub(super) struct Process {
    role: Role,
    /// `JobManager`, `TaskManager`, or `spec.jobManager` of a FlinkDeployment.
    what: String,
    cfg: FlinkConfig,
    version: Option<FlinkVersion>,
    /// Where a finding about it points.
    pointer: String,
    /// A standalone workload (its setup is the subject's, `Ctx::me`).
    standalone: bool,
    /// Whether a mounted file replaced the image's configuration file (and its sizes).
    replaced: Option<&'static str>,
    /// A FlinkDeployment's `resource.memory` pointer, when that set the process size.
    resource_memory: Option<String>,
    /// What Flink derives from `cfg`.
    memory: Result<Memory, MemoryError>,
}

impl Process {
    /// A standalone process's setup.
    fn pod<'c, 'a>(&self, ctx: &'c Ctx<'a>) -> Option<&'c PodConfig<'a>> {
        if self.standalone { ctx.me() } else { None }
    }

    /// The container's memory limit: bytes, as written, pointer.
    fn limit(&self, ctx: &Ctx<'_>) -> Option<(u64, String, String)> {
        let pc = self.pod(ctx)?;
        let ptr = format!("{}/resources/limits/memory", pc.container.pointer());
        let v = pc.container.value.at("/resources/limits/memory")?;
        let q = quantity::quantity_from_json(v).ok()?;
        let bytes = u64::try_from(q.bytes()).ok()?;
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some((bytes, text, ptr))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::JobManager => "JobManager",
        Role::TaskManager => "TaskManager",
    }
}

/// The subject's Flink processes whose configuration is fully seen, derived once per check.
fn processes<'c>(ctx: &'c Ctx<'_>) -> &'c [Process] {
    ctx.memory.get_or_init(|| match ctx.class() {
        Class::Workload(Some(role)) => standalone_process(ctx, role).into_iter().collect(),
        Class::Resource(CrKind::FlinkDeployment) => deployment_processes(ctx),
        _ => Vec::new(),
    })
}

fn standalone_process(ctx: &Ctx<'_>, role: Role) -> Option<Process> {
    let pc = ctx.me()?;
    if pc.unseen.is_some() {
        return None;
    }
    // The image's own configuration file sets the process sizes.
    let image_defaults = || {
        let mut c = FlinkConfig::new();
        c.insert(
            memory::process_key(role),
            quantity::format_flink_memory(memory::image_process_size(role)),
        );
        c.merge(&pc.config);
        c
    };
    let (cfg, replaced) = match &pc.mount {
        Mount::Nothing if image::is_flink_image(pc.container.image()) => (image_defaults(), None),
        Mount::ConfigMap {
            config_map: Lookup::Found(..),
            single_files,
            ..
        } => match &pc.file {
            Some(f) => {
                // A file Flink refuses (config.yaml that does not parse) is unknown, not empty.
                if f.file == standalone::CONFIG_YAML
                    && !standalone::parse_file(ctx.subject.context, f).1.is_empty()
                {
                    return None;
                }
                (pc.config.clone(), Some(f.file))
            }
            // Single files mounted beside the image's configuration file: it stays.
            None if single_files.is_some() => (image_defaults(), None),
            None => return None,
        },
        _ => return None,
    };
    let memory = memory::derive(&cfg, role, pc.version, Deployment::Standalone);
    Some(Process {
        role,
        what: format!("the {}", role_name(role)),
        cfg,
        version: pc.version,
        pointer: pc.container.pointer(),
        standalone: true,
        replaced,
        resource_memory: None,
        memory,
    })
}

/// A FlinkDeployment's JobManager and TaskManager, where a memory size is set (FLK402 reports
/// the others). The operator makes `resource.memory` the process size.
fn deployment_processes(ctx: &Ctx<'_>) -> Vec<Process> {
    let obj = ctx.obj;
    if object::is_canary(obj) {
        return Vec::new();
    }
    let base = ctx.spec_config();
    let version = object::str_at(obj, "/spec/flinkVersion").and_then(image::from_cr);
    let mut out = Vec::new();
    for (field, role) in [
        ("jobManager", Role::JobManager),
        ("taskManager", Role::TaskManager),
    ] {
        let mut cfg = base.clone();
        let ptr = format!("/spec/{field}/resource/memory");
        let mut resource_memory = None;
        if let Some(text) = obj.at(&ptr).and_then(Value::as_str) {
            let Ok(size) = quantity::parse_operator_memory(text) else {
                continue;
            };
            cfg.insert(memory::process_key(role), format!("{}b", size.0));
            resource_memory = Some(ptr.clone());
        } else if obj.at(&format!("/spec/{field}/resources")).is_some() {
            // Memory from `resources`: left to the operator's own rules.
            continue;
        }
        let pointer = match &resource_memory {
            Some(p) => p.clone(),
            None if obj.at("/spec/flinkConfiguration").is_some() => {
                "/spec/flinkConfiguration".into()
            }
            None => format!("/spec/{field}"),
        };
        let memory = memory::derive(&cfg, role, version, Deployment::Active);
        out.push(Process {
            role,
            what: format!("the {} (spec.{field})", role_name(role)),
            cfg,
            version,
            pointer,
            standalone: false,
            replaced: None,
            resource_memory,
            memory,
        });
    }
    out
}

/// FLK404: `check: native: flink_memory_refused`.
pub(super) const FLINK_MEMORY_REFUSED: Native = Native {
    args: &["what", "reason", "advice"],
    run: flink_memory_refused,
};

/// FLK404: Flink refuses to start the process: no memory size at all, or sizes that do not fit.
fn flink_memory_refused(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in processes(ctx) {
        let process_key = memory::process_key(p.role);
        let (reason, advice, fix) = match &p.memory {
            Ok(_) | Err(MemoryError::Unreadable { .. }) => continue,
            Err(MemoryError::NotConfigured) => {
                if !p.standalone {
                    // A FlinkDeployment without memory: FLK402.
                    continue;
                }
                let default = quantity::format_flink_memory(memory::image_process_size(p.role));
                let reason = match p.replaced {
                    Some(file) => format!(
                        "no memory size is set, and the mounted {file} replaces the image's, which sets {process_key}: {default}"
                    ),
                    None => "no memory size is set".to_string(),
                };
                // The container's limit, but never below the smallest size Flink starts with.
                let min = memory::min_process_size(&p.cfg, p.role, p.version).unwrap_or(0);
                let size = p
                    .limit(ctx)
                    .map(|(b, ..)| quantity::format_flink_memory((b / MIB * MIB).max(min)))
                    .unwrap_or(default);
                (reason, format!("set {process_key}: {size}"), Vec::new())
            }
            Err(MemoryError::DoesNotFit(why)) => {
                let min = memory::min_process_size(&p.cfg, p.role, p.version);
                let other_sizes = p.cfg.contains_key(memory::flink_key(p.role))
                    || memory::fine_grained_keys(p.role)
                        .iter()
                        .any(|k| p.cfg.contains_key(k));
                let (advice, fix) = match (min, &p.resource_memory) {
                    (Some(min), Some(ptr)) if !other_sizes => (
                        format!(
                            "raise {} to at least {}",
                            crate::flink::pointer::dotted(ptr),
                            quantity::format_k8s_memory(min)
                        ),
                        vec![Op::Replace {
                            path: ptr.clone(),
                            value: json!(quantity::format_k8s_memory(min)),
                        }],
                    ),
                    (Some(min), _) if !other_sizes => (
                        format!(
                            "raise {process_key} to at least {}",
                            quantity::format_flink_memory(min)
                        ),
                        Vec::new(),
                    ),
                    (Some(min), _) => (
                        format!(
                            "make the configured sizes add up, or set only {process_key}, to at least {}",
                            quantity::format_flink_memory(min)
                        ),
                        Vec::new(),
                    ),
                    (None, _) => ("make the configured sizes add up".to_string(), Vec::new()),
                };
                (why.clone(), advice, fix)
            }
        };
        hits.push(
            Hit::at(p.pointer.clone())
                .arg("what", p.what.clone())
                .arg("reason", reason)
                .arg("advice", advice)
                .fix(fix),
        );
    }
    hits
}

/// FLK405: `check: native: derived_process_memory_exceeds_limit`.
pub(super) const DERIVED_PROCESS_MEMORY_EXCEEDS_LIMIT: Native = Native {
    args: &["limit", "process", "source", "needed", "key"],
    run: derived_process_memory_exceeds_limit,
};

/// FLK405: the process size Flink derives (from the total Flink or heap sizes, or the image's
/// default) is above the container's memory limit. (FLK403 reports a configured process size.)
fn derived_process_memory_exceeds_limit(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in processes(ctx) {
        let Some(pc) = p.pod(ctx) else { continue };
        let key = memory::process_key(p.role);
        if pc.config.contains_key(key) {
            continue;
        }
        let (Ok(m), Some((limit, text, ptr))) = (&p.memory, p.limit(ctx)) else {
            continue;
        };
        if m.process <= limit {
            continue;
        }
        let source = match m.basis {
            Basis::TotalProcess => format!(
                "the image's own configuration file ({key}: {})",
                memory::human(m.process)
            ),
            Basis::TotalFlink => format!(
                "{} {} + JVM metaspace {} + JVM overhead {}",
                memory::flink_key(p.role),
                memory::human(m.flink),
                memory::human(m.metaspace.bytes),
                memory::human(m.overhead.bytes)
            ),
            Basis::FineGrained => format!(
                "{} (total Flink memory {} + JVM metaspace {} + JVM overhead {})",
                memory::fine_grained_keys(p.role).join(" and "),
                memory::human(m.flink),
                memory::human(m.metaspace.bytes),
                memory::human(m.overhead.bytes)
            ),
        };
        let needed = quantity::format_k8s_memory(m.process.div_ceil(MIB) * MIB);
        hits.push(
            Hit::at(ptr.clone())
                .arg("limit", text)
                .arg("process", memory::human(m.process))
                .arg("source", source)
                .arg("needed", needed.clone())
                .arg("key", key)
                .fix(raise_limit(pc, &needed)),
        );
    }
    hits
}

/// The process size Flink derives for the subject's standalone container from a total Flink
/// memory or heap sizes (not from a process size, configured or the image's), rounded up to
/// whole mebibytes: what FLK401's fix sizes the container to.
pub(super) fn derived_process_size(ctx: &Ctx<'_>) -> Option<u64> {
    let Class::Workload(Some(_)) = ctx.class() else {
        return None;
    };
    let m = processes(ctx)
        .iter()
        .find(|p| p.standalone)?
        .memory
        .as_ref()
        .ok()?;
    (m.basis != Basis::TotalProcess).then(|| m.process.div_ceil(MIB) * MIB)
}

/// Operations that make the container's memory limit `needed` (and its memory request no
/// larger, which the API server requires).
pub(super) fn raise_limit(pc: &PodConfig<'_>, needed: &str) -> Vec<Op> {
    let c = pc.container.pointer();
    vec![Op::Replace {
        path: format!("{c}/resources/limits/memory"),
        value: json!(needed),
    }]
}

/// FLK406: `check: native: rocksdb_unmanaged_memory`.
pub(super) const ROCKSDB_UNMANAGED_MEMORY: Native = Native {
    args: &["what", "process"],
    run: rocksdb_unmanaged_memory,
};

/// FLK406: RocksDB with `state.backend.rocksdb.memory.managed: false` in a TaskManager whose
/// memory the container bounds: RocksDB's native memory is outside Flink's budget.
fn rocksdb_unmanaged_memory(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in processes(ctx) {
        if p.role != Role::TaskManager || !rocksdb_unmanaged(&p.cfg) {
            continue;
        }
        // A standalone container without a limit is FLK401's.
        if p.standalone && p.limit(ctx).is_none() {
            continue;
        }
        let process = match &p.memory {
            Ok(m) => memory::human(m.process),
            Err(_) => continue,
        };
        let pointer = match p.standalone {
            true => p.pointer.clone(),
            false => config_key_pointer(ctx.obj, ROCKSDB_MANAGED),
        };
        hits.push(
            Hit::at(pointer)
                .arg("what", p.what.clone())
                .arg("process", process),
        );
    }
    hits
}

const ROCKSDB_MANAGED: &str = "state.backend.rocksdb.memory.managed";

/// The state backend is RocksDB and its memory is not Flink's managed memory.
fn rocksdb_unmanaged(cfg: &FlinkConfig) -> bool {
    let rocksdb = cfg
        .get_any(&["state.backend.type", "state.backend"])
        .is_some_and(|(_, v)| {
            let v = v.trim().to_ascii_lowercase();
            v == "rocksdb" || v.contains("rocksdbstatebackend")
        });
    rocksdb && matches!(cfg.boolean(ROCKSDB_MANAGED), Some(Ok(false)))
}

/// The pointer of a `flinkConfiguration` key: its flat spelling when written so, else the
/// configuration itself.
fn config_key_pointer(obj: &Value, key: &str) -> String {
    let flat = format!(
        "/spec/flinkConfiguration/{}",
        crate::flink::pointer::escape(key)
    );
    if obj.at(&flat).is_some() {
        flat
    } else {
        "/spec/flinkConfiguration".into()
    }
}

/// FLK407: `check: native: parallelism_exceeds_slots`.
pub(super) const PARALLELISM_EXCEEDS_SLOTS: Native = Native {
    args: &["parallelism", "taskmanagers", "slots"],
    run: parallelism_exceeds_slots,
};

/// Whether the scheduler adapts the job to the slots there are (adaptive or reactive).
fn adaptive(cfg: &FlinkConfig) -> bool {
    let is = |k: &str, v: &str| cfg.get(k).is_some_and(|x| x.trim().eq_ignore_ascii_case(v));
    is("jobmanager.scheduler", "adaptive") || is("scheduler-mode", "reactive")
}

/// FLK407: a standalone application cluster (`standalone-job`) whose job parallelism needs more
/// task slots than its TaskManagers (those that mount the same ConfigMap) offer.
fn parallelism_exceeds_slots(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Class::Workload(Some(Role::JobManager)) = ctx.class() else {
        return Vec::new();
    };
    let Some(jm) = ctx.me() else {
        return Vec::new();
    };
    let application = jm.container.command_line().iter().any(|w| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base == "standalone-job" || base == "standalone-job.sh"
    });
    if !application || jm.unseen.is_some() || adaptive(&jm.config) {
        return Vec::new();
    }
    let Mount::ConfigMap {
        source,
        config_map: Lookup::Found(..),
        ..
    } = &jm.mount
    else {
        return Vec::new();
    };
    let Some(Ok(parallelism)) = jm
        .config
        .get(config::PARALLELISM_DEFAULT)
        .map(|v| v.trim().parse::<i64>())
    else {
        return Vec::new();
    };
    let workloads = ctx.workloads();
    let mut tms = Vec::new();
    let mut slots_total: i64 = 0;
    for w in &workloads {
        if ctx.class_of(w) != Class::Workload(Some(Role::TaskManager))
            || !object::pod_volumes_name_config_map(w, source.name)
        {
            continue;
        }
        let Some(tm) = standalone::resolve(ctx, w) else {
            continue;
        };
        match &tm.mount {
            Mount::ConfigMap { source: s, .. } if s.name == source.name => {}
            _ => continue,
        }
        if tm.unseen.is_some() {
            return Vec::new();
        }
        let slots = match tm.config.get(config::TASK_SLOTS) {
            None => 1,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => return Vec::new(),
            },
        };
        let Some((replicas, _)) = object::replicas(w) else {
            return Vec::new();
        };
        slots_total += replicas.max(0) * slots;
        tms.push(format!(
            "{} ({replicas} x {slots} slot{})",
            ctx.describe(w),
            if slots == 1 { "" } else { "s" }
        ));
    }
    if tms.is_empty() || parallelism <= slots_total {
        return Vec::new();
    }
    let complete = ctx.complete("apps", "Deployment") && ctx.complete("apps", "StatefulSet");
    vec![
        Hit::at(jm.container.pointer())
            .arg("parallelism", parallelism)
            .arg("taskmanagers", tms.join(", "))
            .arg("slots", slots_total)
            .unseen(
                (!complete).then(|| {
                    "TaskManagers outside the checked objects would add slots".to_string()
                }),
            ),
    ]
}

/// FLK408: `check: native: replicas_override_parallelism`.
pub(super) const REPLICAS_OVERRIDE_PARALLELISM: Native = Native {
    args: &["replicas", "parallelism", "slots", "effective"],
    run: replicas_override_parallelism,
};

/// FLK408: a FlinkDeployment job with both `taskManager.replicas` and `job.parallelism`: the
/// operator runs the job at replicas x slots and ignores the parallelism.
fn replicas_override_parallelism(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let Some(replicas) = obj.at("/spec/taskManager/replicas").and_then(Value::as_i64) else {
        return Vec::new();
    };
    let Some(parallelism) = obj.at("/spec/job/parallelism").and_then(Value::as_i64) else {
        return Vec::new();
    };
    if parallelism <= 0 {
        return Vec::new();
    }
    let cfg = ctx.spec_config();
    let slots = match cfg.get(config::TASK_SLOTS) {
        None => 1,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => return Vec::new(),
        },
    };
    let effective = replicas.saturating_mul(slots);
    if effective == parallelism {
        return Vec::new();
    }
    vec![
        Hit::at("/spec/job/parallelism")
            .arg("replicas", replicas)
            .arg("parallelism", parallelism)
            .arg("slots", slots)
            .arg("effective", effective),
    ]
}

/// FLK409: `check: native: jvm_memory_option_overrides_flink`.
pub(super) const JVM_MEMORY_OPTION_OVERRIDES_FLINK: Native = Native {
    args: &["what", "option", "key", "flink"],
    run: jvm_memory_option_overrides_flink,
};

/// Where a process's extra JVM options come from, in the order Flink's scripts apply them:
/// `env.java.opts.all` (`env.java.opts` before Flink 1.18), then the role's own key; a container's
/// `FLINK_ENV_JAVA_OPTS` replaces the configured `env.java.opts.all`.
fn java_opts(ctx: &Ctx<'_>, p: &Process) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let env = p
        .pod(ctx)
        .and_then(|pc| pc.container.env("FLINK_ENV_JAVA_OPTS"));
    match env {
        Some(v) => out.push(("FLINK_ENV_JAVA_OPTS".to_string(), v.to_string())),
        None => {
            if let Some((k, v)) = p.cfg.get_any(&["env.java.opts.all", "env.java.opts"]) {
                out.push((k.to_string(), v.to_string()));
            }
        }
    }
    let own = match p.role {
        Role::JobManager => "env.java.opts.jobmanager",
        Role::TaskManager => "env.java.opts.taskmanager",
    };
    if let Some(v) = p.cfg.get(own) {
        out.push((own.to_string(), v.to_string()));
    }
    out
}

/// A JVM size (`-Xmx4g`'s `4g`): digits and an optional `k`, `m`, `g` or `t`, either case.
fn jvm_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, mult) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_lowercase() {
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                't' => 1 << 40,
                _ => return None,
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// FLK409: a JVM memory flag in the JVM options (`-Xmx`, `-XX:MaxDirectMemorySize`,
/// `-XX:MaxMetaspaceSize`) larger than what Flink sizes from its memory model: Flink's scripts put
/// these options after their own, so the JVM takes them, and the process outgrows its budget.
fn jvm_memory_option_overrides_flink(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in processes(ctx) {
        let Ok(m) = &p.memory else { continue };
        let direct: u64 = m
            .parts
            .iter()
            .filter(|x| x.name.contains("off-heap") || x.name == "network memory")
            .map(|x| x.bytes)
            .sum();
        for (key, opts) in java_opts(ctx, p) {
            for opt in opts.split_whitespace() {
                let (flag, flink) = if let Some(v) = opt.strip_prefix("-Xmx") {
                    (v, m.jvm_heap())
                } else if let Some(v) = opt.strip_prefix("-XX:MaxDirectMemorySize=") {
                    (v, direct)
                } else if let Some(v) = opt.strip_prefix("-XX:MaxMetaspaceSize=") {
                    (v, m.metaspace.bytes)
                } else {
                    continue;
                };
                let Some(size) = jvm_size(flag) else { continue };
                if size <= flink {
                    continue;
                }
                let pointer = match p.standalone {
                    true => p.pointer.clone(),
                    false => config_key_pointer(ctx.obj, &key),
                };
                hits.push(
                    Hit::at(pointer)
                        .arg("what", p.what.clone())
                        .arg("option", opt)
                        .arg("key", key.clone())
                        .arg("flink", memory::human(flink)),
                );
            }
        }
    }
    hits
}

/// For `flink-lint explain`: the memory Flink derives for each process of the subject, as
/// `(title, table or why there is none)`.
pub fn tables(ctx: &Ctx<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in processes(ctx) {
        let version = match p.version {
            Some(v) => format!("Flink {v}"),
            None => "Flink version unknown, newest defaults".to_string(),
        };
        let title = format!("{} ({version})", p.what.trim_start_matches("the "));
        let body = match &p.memory {
            Ok(m) => {
                let mut t = m.table();
                if let Some(ptr) = &p.resource_memory {
                    t = t.replace(
                        &format!("set by {}", memory::process_key(p.role)),
                        &format!("set by {}", crate::flink::pointer::dotted(ptr)),
                    );
                }
                if let Some((limit, text, _)) = p.limit(ctx) {
                    let verdict = if m.process <= limit {
                        "fits"
                    } else {
                        "is above it: OOM-killed under load"
                    };
                    t.push_str(&format!(
                        "container memory limit {text}: the process {verdict}\n"
                    ));
                }
                t
            }
            Err(e) => format!("Flink refuses to start it: {e}\n"),
        };
        out.push((title, body));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> FlinkConfig {
        pairs.iter().copied().collect()
    }

    #[test]
    fn rocksdb_unmanaged_reads_every_spelling_of_the_backend() {
        for backend in [
            ("state.backend.type", "rocksdb"),
            ("state.backend.type", "RocksDB"),
            ("state.backend", "rocksdb"),
            (
                "state.backend",
                "org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackendFactory",
            ),
        ] {
            assert!(
                rocksdb_unmanaged(&cfg(&[backend, (ROCKSDB_MANAGED, "false")])),
                "{backend:?}"
            );
            assert!(
                rocksdb_unmanaged(&cfg(&[backend, (ROCKSDB_MANAGED, "FALSE")])),
                "{backend:?}"
            );
            assert!(!rocksdb_unmanaged(&cfg(&[
                backend,
                (ROCKSDB_MANAGED, "true")
            ])));
            assert!(!rocksdb_unmanaged(&cfg(&[backend])));
            // `no` is no boolean to Flink (it refuses to start; FLK003's), not `false`.
            assert!(!rocksdb_unmanaged(&cfg(&[
                backend,
                (ROCKSDB_MANAGED, "no")
            ])));
        }
        assert!(!rocksdb_unmanaged(&cfg(&[
            ("state.backend.type", "hashmap"),
            (ROCKSDB_MANAGED, "false")
        ])));
    }

    #[test]
    fn jvm_sizes() {
        assert_eq!(jvm_size("4g"), Some(4 << 30));
        assert_eq!(jvm_size("4096M"), Some(4096 << 20));
        assert_eq!(jvm_size("512k"), Some(512 << 10));
        assert_eq!(jvm_size("1048576"), Some(1 << 20));
        assert_eq!(jvm_size("1t"), Some(1 << 40));
        assert_eq!(jvm_size("4gb"), None);
        assert_eq!(jvm_size(""), None);
        assert_eq!(jvm_size("g"), None);
        assert_eq!(jvm_size("99999999999999999999g"), None);
    }

    #[test]
    fn adaptive_and_reactive_schedulers_are_exempt_from_capacity() {
        assert!(adaptive(&cfg(&[("jobmanager.scheduler", "adaptive")])));
        assert!(adaptive(&cfg(&[("jobmanager.scheduler", " Adaptive ")])));
        assert!(adaptive(&cfg(&[("scheduler-mode", "reactive")])));
        assert!(!adaptive(&cfg(&[("jobmanager.scheduler", "default")])));
        assert!(!adaptive(&cfg(&[])));
    }
}
