//! Family 5, operator parity: what the Flink Kubernetes Operator's validator
//! (`DefaultValidator`, `AutoscalerValidator`) refuses, judged all at once where the operator
//! stops at its first message. The facts (name pattern, versions, keys, ranges) are in
//! `flink::operator`; the operator version comes from the settings (`operator-version`).
//!
//! A FlinkBlueGreenDeployment is judged through the FlinkDeployments it makes:
//! `spec.template.spec` under the names `<name>-blue` and `<name>-green`, which the operator's
//! webhook judges when the blue/green controller creates them.

use std::sync::Arc;

use serde_json::{Value, json};

use super::flinkdeployment::{add_pointer_in, key_pointer_in};
use super::{Ctx, Native};
use crate::engine::context::Resolved;
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig};
use crate::flink::object::{self, Class, CrKind, FLINK_GROUP};
use crate::flink::operator::{self as op, Bound, OperatorVersion};
use crate::flink::pointer::{self, Pointer as _};
use crate::flink::{image, quantity};

/// A FlinkDeployment spec as the operator validates it.
pub(super) struct Cluster<'a> {
    obj: &'a Value,
    /// `/spec`, or a FlinkBlueGreenDeployment's `/spec/template/spec`.
    base: &'static str,
    /// The node at `base` (`Null` when the object has none).
    spec: &'a Value,
    /// Its `flinkConfiguration`, flattened: a FlinkDeployment's is the check's own
    /// ([`Ctx::spec_config`]), not a second copy.
    cfg: Arc<FlinkConfig>,
    blue_green: bool,
}

impl<'a> Cluster<'a> {
    fn ptr(&self, rel: &str) -> String {
        format!("{}{rel}", self.base)
    }
    fn at(&self, rel: &str) -> Option<&'a Value> {
        self.spec.at(rel).filter(|v| !v.is_null())
    }
    fn config_ptr(&self) -> String {
        self.ptr("/flinkConfiguration")
    }
    /// Where `key` is written in this spec's `flinkConfiguration`, else the nearest node.
    fn key_at(&self, key: &str) -> String {
        key_pointer_in(self.obj, &self.config_ptr(), key)
            .unwrap_or_else(|| existing(self.obj, &self.config_ptr()))
    }
    /// `spec.` or `spec.template.spec.`, for messages.
    fn field(&self, rel: &str) -> String {
        let base = if self.blue_green {
            "spec.template.spec"
        } else {
            "spec"
        };
        format!("{base}{}", rel.replace('/', "."))
    }
}

/// The FlinkDeployment spec the subject is or makes: a FlinkDeployment (not the operator's
/// canary, which it never validates) or a FlinkBlueGreenDeployment's template.
/// Built once per check (the rules of this family each ask for it: flattening the
/// configuration for each was a sixth of a FlinkDeployment review's work).
fn cluster<'c, 'a>(ctx: &'c Ctx<'a>) -> Option<&'c Cluster<'a>> {
    ctx.operator_cluster
        .get_or_init(|| build_cluster(ctx))
        .as_ref()
}

fn build_cluster<'a>(ctx: &Ctx<'a>) -> Option<Cluster<'a>> {
    let obj = ctx.obj;
    let (base, blue_green) = match ctx.class() {
        Class::Resource(CrKind::FlinkDeployment) if !object::is_canary(obj) => ("/spec", false),
        Class::Resource(CrKind::FlinkBlueGreenDeployment) => ("/spec/template/spec", true),
        _ => return None,
    };
    const NULL: &Value = &Value::Null;
    let spec = obj.at(base).unwrap_or(NULL);
    let cfg = if blue_green {
        Arc::new(flatten_at(spec, "/flinkConfiguration"))
    } else {
        ctx.shared_spec_config().clone()
    };
    Some(Cluster {
        obj,
        base,
        spec,
        cfg,
        blue_green,
    })
}

fn is_kind(ctx: &Ctx<'_>, kind: CrKind) -> bool {
    ctx.class() == Class::Resource(kind) && !object::is_canary(ctx.obj)
}

/// `pointer` if the object has it, else its nearest ancestor that exists.
fn existing(obj: &Value, pointer: &str) -> String {
    let mut p = pointer.to_string();
    while !p.is_empty() && obj.at(&p).is_none() {
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => p.clear(),
        }
    }
    p
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn version(ctx: &Ctx<'_>) -> OperatorVersion {
    ctx.settings.operator_version
}

/// The session cluster a FlinkSessionJob names, when it is in sight.
fn session_cluster(ctx: &Ctx<'_>) -> Option<Arc<Value>> {
    let name = object::str_at(ctx.obj, "/spec/deploymentName")?;
    match ctx
        .subject
        .context
        .resolve(FLINK_GROUP, "FlinkDeployment", ctx.namespace(), name)
    {
        Resolved::Found(o) => Some(o),
        _ => None,
    }
}

fn flatten_at(obj: &Value, pointer: &str) -> FlinkConfig {
    obj.at(pointer).map(config::flatten).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------------
// Names and versions
// ------------------------------------------------------------------------------------------------

/// FLK502: `check: native: operator_name`.
pub(super) const OPERATOR_NAME: Native = Native {
    args: &["what", "name", "max"],
    run: operator_name,
};

/// FLK502: a name the operator refuses for a FlinkDeployment: the FlinkDeployment's, the
/// children of a FlinkBlueGreenDeployment (`<name>-green`), or a FlinkSessionJob's
/// `spec.deploymentName`.
fn operator_name(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let (what, name, at, suffix) = if is_kind(ctx, CrKind::FlinkSessionJob) {
        let Some(n) = object::str_at(obj, "/spec/deploymentName") else {
            return Vec::new();
        };
        ("spec.deploymentName", n, "/spec/deploymentName", "")
    } else if let Some(c) = cluster(ctx) {
        let suffix = if c.blue_green {
            op::BLUE_GREEN_SUFFIXES.last().copied().unwrap_or_default()
        } else {
            ""
        };
        let what = if c.blue_green {
            "The FlinkBlueGreenDeployment name"
        } else {
            "The FlinkDeployment name"
        };
        (what, object::name(obj), "/metadata/name", suffix)
    } else {
        return Vec::new();
    };
    if op::is_valid_name(&format!("{name}{suffix}")) {
        return Vec::new();
    }
    vec![
        Hit::at(existing(obj, at))
            .arg("what", what)
            .arg("name", name)
            .arg("max", op::NAME_MAX - suffix.len()),
    ]
}

/// FLK503: `check: native: flink_version_supported`.
pub(super) const FLINK_VERSION_SUPPORTED: Native = Native {
    args: &["field", "problem", "operator", "supported"],
    run: flink_version_supported,
};

/// FLK503: `flinkVersion` is missing, not a version, or not one the configured operator
/// version supports. When it is missing and the image's tag says a supported version, the fix
/// sets that.
fn flink_version_supported(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    let ov = version(ctx);
    let supported = format!(
        "{} to {}",
        op::OLDEST_SUPPORTED_FLINK.cr_name(),
        ov.newest_flink().cr_name()
    );
    let hit = |at: String, problem: String| {
        Hit::at(at)
            .arg("field", c.field("/flinkVersion"))
            .arg("problem", problem)
            .arg("operator", ov)
            .arg("supported", &supported)
    };
    let Some(v) = c.at("/flinkVersion") else {
        let from_image = c
            .at("/image")
            .and_then(Value::as_str)
            .and_then(image::from_image)
            .filter(|v| ov.supports(*v));
        let mut h = hit(existing(c.obj, c.base), "is not set".into());
        if let Some(v) = from_image {
            h = h.fix(vec![Op::Add {
                path: c.ptr("/flinkVersion"),
                value: json!(v.cr_name()),
            }]);
        }
        return vec![h];
    };
    let text = text_of(v);
    let problem = match image::from_cr(&text) {
        None => format!("is {text}, not a version the operator knows (such as v1_20)"),
        Some(fv) if !ov.supports(fv) => {
            format!("is {text}, which this operator version does not support")
        }
        Some(_) => return Vec::new(),
    };
    vec![hit(c.ptr("/flinkVersion"), problem)]
}

/// FLK523: `check: native: operator_enum_invalid`.
pub(super) const OPERATOR_ENUM_INVALID: Native = Native {
    args: &["field", "value", "allowed"],
    run: operator_enum_invalid,
};

/// FLK523: `mode`, `job.upgradeMode`, `job.state` or a savepoint's `formatType` set to a value
/// the CRD and the operator do not know (`mode: application`).
fn operator_enum_invalid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let (base, enums, field_base) = if let Some(c) = cluster(ctx) {
        (c.base, op::DEPLOYMENT_ENUMS, c.field(""))
    } else if is_kind(ctx, CrKind::FlinkSessionJob) {
        ("", op::SESSION_JOB_ENUMS, String::new())
    } else if is_kind(ctx, CrKind::FlinkStateSnapshot) {
        ("", op::SNAPSHOT_ENUMS, String::new())
    } else {
        return Vec::new();
    };
    let obj = ctx.obj;
    enums
        .iter()
        .filter_map(|(rel, allowed)| {
            let at = format!("{base}{rel}");
            let v = obj.at(&at).filter(|v| !v.is_null())?;
            if v.as_str().is_some_and(|s| allowed.contains(&s)) {
                return None;
            }
            let field = if field_base.is_empty() {
                rel.trim_start_matches('/').replace('/', ".")
            } else {
                format!("{field_base}{}", rel.replace('/', "."))
            };
            Some(
                Hit::at(at)
                    .arg("field", field)
                    .arg("value", text_of(v))
                    .arg("allowed", allowed.join(", ")),
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Configuration the operator refuses
// ------------------------------------------------------------------------------------------------

/// FLK504: `check: native: operator_owned_key`.
pub(super) const OPERATOR_OWNED_KEY: Native = Native {
    args: &["key"],
    run: operator_owned_key,
};

/// FLK504: `flinkConfiguration` sets a key the operator sets itself (`kubernetes.cluster-id`,
/// `kubernetes.namespace`, `high-availability.cluster-id`). The fix removes it.
fn operator_owned_key(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    op::OWNED_KEYS
        .iter()
        .filter(|k| c.cfg.contains_key(k))
        .map(|k| {
            let at = c.key_at(k);
            let hit = Hit::at(&at).arg("key", k);
            if at == c.config_ptr() {
                hit
            } else {
                hit.fix(vec![Op::Remove { path: at }])
            }
        })
        .collect()
}

/// Whether the boolean option at `key` is set to true (Flink's reading: `true` in any case).
fn is_true(cfg: &FlinkConfig, key: &str) -> bool {
    matches!(cfg.boolean(key), Some(Ok(true)))
}

/// FLK505: `check: native: rollback_without_ha`.
pub(super) const ROLLBACK_WITHOUT_HA: Native = Native {
    args: &[],
    run: rollback_without_ha,
};

/// FLK505: rollbacks are on while high availability is off.
fn rollback_without_ha(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    if !is_true(&c.cfg, op::ROLLBACK_ENABLED) || c.cfg.ha_enabled() {
        return Vec::new();
    }
    vec![Hit::at(c.key_at(op::ROLLBACK_ENABLED))]
}

/// FLK506: `check: native: health_check_without_recovery`.
pub(super) const HEALTH_CHECK_WITHOUT_RECOVERY: Native = Native {
    args: &[],
    run: health_check_without_recovery,
};

/// FLK506: the cluster health check is on while JobManager deployment recovery is off.
fn health_check_without_recovery(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    if !is_true(&c.cfg, op::HEALTH_CHECK_ENABLED)
        || !matches!(c.cfg.boolean(op::JM_DEPLOYMENT_RECOVERY), Some(Ok(false)))
    {
        return Vec::new();
    }
    vec![Hit::at(c.key_at(op::JM_DEPLOYMENT_RECOVERY))]
}

/// FLK507: `check: native: ingress_template`.
pub(super) const INGRESS_TEMPLATE: Native = Native {
    args: &["problem"],
    run: ingress_template,
};

/// FLK507: `spec.ingress` without a template, or with one that does not make a URL once
/// `{{name}}` and `{{namespace}}` are filled in (`IngressUtils`: `http://` is prepended unless
/// the template has a scheme, and `java.net.URL` must accept the result).
fn ingress_template(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    let Some(ingress) = c.at("/ingress") else {
        return Vec::new();
    };
    let Some(template) = ingress.get("template").filter(|t| !t.is_null()) else {
        return vec![Hit::at(c.ptr("/ingress")).arg(
            "problem",
            "has no template: set spec.ingress.template to a host or path with the name and namespace placeholders",
        )];
    };
    let text = text_of(template);
    match url_problem(&text) {
        Some(why) => vec![
            Hit::at(c.ptr("/ingress/template"))
                .arg("problem", format!("template does not make a URL: {why}")),
        ],
        None => Vec::new(),
    }
}

/// Why `java.net.URL` would refuse the template once filled in, in the cases that matter: a
/// port that is not a number in 0..=65535, an unclosed IPv6 bracket, whitespace.
fn url_problem(template: &str) -> Option<String> {
    let filled = replace_ci(
        &replace_ci(template, "{{name}}", "name"),
        "{{namespace}}",
        "namespace",
    );
    let rest = match filled.find("://") {
        Some(i)
            if filled[..i].eq_ignore_ascii_case("http")
                || filled[..i].eq_ignore_ascii_case("https") =>
        {
            &filled[i + 3..]
        }
        _ => filled.as_str(),
    };
    if rest.chars().any(char::is_whitespace) {
        return Some("it contains whitespace".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.starts_with('[') {
        let Some(close) = host_port.find(']') else {
            return Some("an IPv6 address without its closing ]".into());
        };
        return port_problem(host_port[close + 1..].strip_prefix(':'));
    }
    port_problem(host_port.split_once(':').map(|(_, p)| p))
}

fn port_problem(port: Option<&str>) -> Option<String> {
    let p = port?;
    if p.is_empty() {
        return None;
    }
    match p.parse::<u32>() {
        Ok(n) if n <= 65535 && p.bytes().all(|b| b.is_ascii_digit()) => None,
        _ => Some(format!("the port '{p}' is not a number from 0 to 65535")),
    }
}

/// `text` with every `pattern` (ASCII, any case) replaced by `with`.
fn replace_ci(text: &str, pattern: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut last = 0;
    for (i, _) in lower.match_indices(pattern) {
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + pattern.len();
    }
    out.push_str(&text[last..]);
    out
}

/// FLK508: `check: native: log_configuration_key`.
pub(super) const LOG_CONFIGURATION_KEY: Native = Native {
    args: &["key"],
    run: log_configuration_key,
};

/// The key the operator mounts for a common mistaken one.
fn log_key_meant(key: &str) -> Option<&'static str> {
    match key {
        "log4j.properties" | "log4j2.properties" | "log4j-console.property" => {
            Some("log4j-console.properties")
        }
        "logback.xml" | "logback-console.properties" => Some("logback-console.xml"),
        _ => None,
    }
}

/// FLK508: a `spec.logConfiguration` key other than `log4j-console.properties` and
/// `logback-console.xml`. The fix moves a known near-miss (`log4j.properties`) to the key the
/// operator mounts, when that key is free.
fn log_configuration_key(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    let Some(map) = c.at("/logConfiguration").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.keys()
        .filter(|k| !op::LOG_CONFIG_KEYS.contains(&k.as_str()))
        .map(|k| {
            let from = c.ptr(&format!("/logConfiguration/{}", pointer::escape(k)));
            let hit = Hit::at(&from).arg("key", k);
            match log_key_meant(k).filter(|m| !map.contains_key(*m)) {
                Some(m) => hit.fix(vec![
                    Op::Add {
                        path: c.ptr(&format!("/logConfiguration/{}", pointer::escape(m))),
                        value: map.get(k).cloned().unwrap_or(Value::Null),
                    },
                    Op::Remove { path: from },
                ]),
                None => hit,
            }
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// The job: state directories, savepoints, parallelism
// ------------------------------------------------------------------------------------------------

/// A job as the operator's `validateJobSpec` sees it: its spec, the effective configuration,
/// and where the subject's own configuration is.
struct JobView<'a> {
    obj: &'a Value,
    /// `/spec/job` or `/spec/template/spec/job`.
    job: String,
    job_value: &'a Value,
    /// The effective configuration: the cluster view's own, or a session job's merged one.
    cfg: std::borrow::Cow<'a, FlinkConfig>,
    /// The subject's own `flinkConfiguration`.
    config_ptr: String,
    /// `spec.taskManager.replicas` (a FlinkDeployment's), `None` for a session job.
    tm_replicas: Option<i64>,
    /// Task managers the job can count on and their slots, for the suggested parallelism.
    replicas_for_fix: i64,
    /// Where the configuration came from, for messages.
    source: String,
}

fn job_view<'c>(ctx: &'c Ctx<'_>) -> Option<JobView<'c>> {
    if let Some(c) = cluster(ctx) {
        let job_value = c.at("/job")?;
        let tm_replicas = c.at("/taskManager/replicas").and_then(Value::as_i64);
        return Some(JobView {
            obj: c.obj,
            job: c.ptr("/job"),
            job_value,
            config_ptr: c.config_ptr(),
            tm_replicas,
            replicas_for_fix: tm_replicas.unwrap_or(1).max(1),
            source: c.field("/flinkConfiguration"),
            cfg: std::borrow::Cow::Borrowed(c.cfg.as_ref()),
        });
    }
    if !is_kind(ctx, CrKind::FlinkSessionJob) {
        return None;
    }
    // The operator checks a session job's job only against a session cluster it found.
    let job_value = ctx.obj.at("/spec/job").filter(|v| !v.is_null())?;
    let cluster = session_cluster(ctx)?;
    let mut cfg = flatten_at(&cluster, "/spec/flinkConfiguration");
    cfg.merge(&flatten_at(ctx.obj, "/spec/flinkConfiguration"));
    let replicas = cluster
        .at("/spec/taskManager/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1);
    Some(JobView {
        obj: ctx.obj,
        job: "/spec/job".into(),
        job_value,
        cfg: std::borrow::Cow::Owned(cfg),
        config_ptr: "/spec/flinkConfiguration".into(),
        tm_replicas: None,
        replicas_for_fix: replicas,
        source: format!(
            "spec.flinkConfiguration or session cluster {}",
            ctx.describe(&cluster)
        ),
    })
}

impl JobView<'_> {
    fn upgrade_mode(&self) -> &str {
        self.job_value
            .get("upgradeMode")
            .and_then(Value::as_str)
            .unwrap_or("stateless")
    }
    fn has(&self, field: &str) -> bool {
        self.job_value.get(field).is_some_and(|v| !v.is_null())
    }
}

/// FLK509: `check: native: checkpoint_dir_missing`.
pub(super) const CHECKPOINT_DIR_MISSING: Native = Native {
    args: &["mode", "source"],
    run: checkpoint_dir_missing,
};

/// FLK509: `upgradeMode` savepoint or last-state without a checkpoint directory.
fn checkpoint_dir_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(j) = job_view(ctx) else {
        return Vec::new();
    };
    let mode = j.upgrade_mode();
    if !op::keeps_state(mode) || j.cfg.checkpoint_dir().is_some() {
        return Vec::new();
    }
    let at = if j.has("upgradeMode") {
        format!("{}/upgradeMode", j.job)
    } else {
        j.job.clone()
    };
    vec![Hit::at(at).arg("mode", mode).arg("source", &j.source)]
}

/// FLK510: `check: native: savepoint_dir_missing`.
pub(super) const SAVEPOINT_DIR_MISSING: Native = Native {
    args: &["reason", "source"],
    run: savepoint_dir_missing,
};

/// FLK510: something that takes savepoints (the savepoint upgrade mode, a manual trigger,
/// periodic savepoints, the last-state checkpoint age limit) without a savepoint directory. The
/// fix (unsafe: it names storage) puts one beside the checkpoint directory.
fn savepoint_dir_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(j) = job_view(ctx) else {
        return Vec::new();
    };
    if j.cfg.savepoint_dir().is_some() {
        return Vec::new();
    }
    let (reason, at) = if j.upgrade_mode() == "savepoint" {
        (
            "upgradeMode savepoint".to_string(),
            format!("{}/upgradeMode", j.job),
        )
    } else if j.has("savepointTriggerNonce") {
        (
            "job.savepointTriggerNonce (a manual savepoint)".to_string(),
            format!("{}/savepointTriggerNonce", j.job),
        )
    } else if let Some(k) = [op::PERIODIC_SAVEPOINT_INTERVAL, op::MAX_CHECKPOINT_AGE]
        .into_iter()
        .find(|k| j.cfg.contains_key(k))
    {
        let at = key_pointer_in(j.obj, &j.config_ptr, k)
            .unwrap_or_else(|| existing(j.obj, &j.config_ptr));
        (k.to_string(), at)
    } else {
        return Vec::new();
    };
    let mut hit = Hit::at(existing(j.obj, &at))
        .arg("reason", reason)
        .arg("source", &j.source);
    if let Some(op) = savepoint_beside_checkpoint(&j) {
        hit = hit.fix(vec![op]);
    }
    vec![hit]
}

/// The savepoint key of the same family as the checkpoint key in use, set to a `savepoints`
/// directory beside the checkpoint directory (`s3://b/flink/checkpoints` ->
/// `s3://b/flink/savepoints`). `None` when the checkpoint directory has no parent to share.
fn savepoint_beside_checkpoint(j: &JobView<'_>) -> Option<Op> {
    let (key, dir) = j.cfg.get_any(config::CHECKPOINT_DIR_KEYS)?;
    let index = config::CHECKPOINT_DIR_KEYS.iter().position(|k| *k == key)?;
    let sp_key = config::SAVEPOINT_DIR_KEYS.get(index)?;
    let dir = dir.trim().trim_end_matches('/');
    let path_start = dir.find("://").map_or(0, |i| i + 3);
    let slash = dir[path_start..].rfind('/')? + path_start;
    let (parent, last) = (&dir[..slash], &dir[slash + 1..]);
    if last.is_empty() || parent.len() <= path_start {
        return None;
    }
    let sibling = if last.contains("checkpoint") {
        last.replace("checkpoint", "savepoint")
    } else {
        "savepoints".to_string()
    };
    Some(Op::Add {
        path: add_pointer_in(j.obj, &j.config_ptr, sp_key),
        value: json!(format!("{parent}/{sibling}")),
    })
}

/// FLK511: `check: native: job_parallelism`.
pub(super) const JOB_PARALLELISM: Native = Native {
    args: &["value", "suggested"],
    run: job_parallelism,
};

/// FLK511: no TaskManager replicas and a `job.parallelism` below 1 (an omitted one is 0 to the
/// operator). The fix sets the parallelism the TaskManagers' slots give: replicas (1 when the
/// FlinkDeployment leaves them to the operator; a session cluster's own) x
/// `taskmanager.numberOfTaskSlots` (default 1).
fn job_parallelism(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(j) = job_view(ctx) else {
        return Vec::new();
    };
    if j.tm_replicas.is_some() {
        return Vec::new();
    }
    let p = j.job_value.get("parallelism").filter(|v| !v.is_null());
    let value = p.and_then(Value::as_i64).unwrap_or(0);
    if p.is_some() && p.and_then(Value::as_i64).is_none() || value >= 1 {
        return Vec::new();
    }
    let slots: i64 = j
        .cfg
        .get(config::TASK_SLOTS)
        .and_then(|s| s.trim().parse().ok())
        .filter(|s| *s >= 1)
        .unwrap_or(1);
    let suggested = j.replicas_for_fix.saturating_mul(slots);
    let path = format!("{}/parallelism", j.job);
    let (at, op) = match p {
        Some(_) => (
            path.clone(),
            Op::Replace {
                path,
                value: json!(suggested),
            },
        ),
        None => (
            j.job.clone(),
            Op::Add {
                path,
                value: json!(suggested),
            },
        ),
    };
    vec![
        Hit::at(at)
            .arg(
                "value",
                match p {
                    Some(v) => format!("is {}", text_of(v)),
                    None => "is not set (0 to the operator)".into(),
                },
            )
            .arg("suggested", suggested)
            .fix(vec![op]),
    ]
}

/// FLK512: `check: native: replicas_below_one`.
pub(super) const REPLICAS_BELOW_ONE: Native = Native {
    args: &["field", "value"],
    run: replicas_below_one,
};

/// FLK512: `jobManager.replicas` or `taskManager.replicas` set below 1.
fn replicas_below_one(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    ["/jobManager/replicas", "/taskManager/replicas"]
        .iter()
        .filter_map(|rel| {
            let v = c.at(rel)?;
            (v.as_i64()? < 1).then(|| {
                Hit::at(c.ptr(rel))
                    .arg("field", c.field(rel))
                    .arg("value", text_of(v))
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Memory and cpu of the JobManager and TaskManagers
// ------------------------------------------------------------------------------------------------

/// FLK513: `check: native: resource_quantity_invalid`.
pub(super) const RESOURCE_QUANTITY_INVALID: Native = Native {
    args: &["field", "value", "problem"],
    run: resource_quantity_invalid,
};

/// The operator's reading of a memory quantity (§2.4), in bytes.
fn operator_memory(v: &Value) -> Result<u64, String> {
    quantity::parse_operator_memory(&text_of(v))
        .map(|m| m.0)
        .map_err(|e| e.to_string())
}

/// What is wrong with one `resources` entry, if anything.
fn quantity_problem(key: &str, v: &Value) -> Option<String> {
    match key {
        "memory" => match operator_memory(v) {
            Err(e) => Some(format!("cannot be read as memory: {e}")),
            Ok(0) => Some("must be positive".into()),
            Ok(_) => None,
        },
        _ => match quantity::quantity_from_json(v) {
            Err(e) => Some(format!("cannot be read as a quantity: {e}")),
            Ok(q) if key == "cpu" && (q.is_negative() || q.is_zero()) => {
                Some("must be positive".into())
            }
            Ok(q) if q.is_negative() => Some("must not be negative".into()),
            Ok(_) => None,
        },
    }
}

/// FLK513: a JobManager or TaskManager memory, cpu or other resource the operator cannot read
/// or refuses as zero or negative: `resource.memory`, `resource.ephemeralStorage`, and (from
/// operator 1.16) every entry of `resources.requests` and `resources.limits`.
fn resource_quantity_invalid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    let mut report = |rel: String, v: &Value, problem: String| {
        hits.push(
            Hit::at(c.ptr(&rel))
                .arg("field", c.field(&rel))
                .arg("value", text_of(v))
                .arg("problem", problem),
        );
    };
    for role in ["/jobManager", "/taskManager"] {
        let Some(node) = c.at(role) else { continue };
        let at = |rel: &str| node.at(rel).filter(|v| !v.is_null());
        if let Some(m) = at("/resource/memory")
            && let Err(e) = operator_memory(m)
        {
            report(
                format!("{role}/resource/memory"),
                m,
                format!("cannot be read as memory: {e}"),
            );
        }
        if let Some(s) = at("/resource/ephemeralStorage")
            && let Err(e) = quantity::quantity_from_json(s)
        {
            report(
                format!("{role}/resource/ephemeralStorage"),
                s,
                format!("cannot be read as a quantity: {e}"),
            );
        }
        if !version(ctx).has_resource_requirements() {
            continue;
        }
        for section in ["requests", "limits"] {
            let Some(map) = node
                .get("resources")
                .and_then(|r| r.get(section))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (k, v) in map {
                if v.is_null() {
                    continue;
                }
                if let Some(problem) = quantity_problem(k, v) {
                    let rel = format!("{role}/resources/{section}/{}", pointer::escape(k));
                    report(rel, v, problem);
                }
            }
        }
    }
    hits
}

/// FLK514: `check: native: resource_request_exceeds_limit`.
pub(super) const RESOURCE_REQUEST_EXCEEDS_LIMIT: Native = Native {
    args: &["field", "resource", "request", "limit"],
    run: resource_request_exceeds_limit,
};

/// FLK514: a JobManager or TaskManager cpu or memory request above its limit (operator 1.16
/// and later; memory compared as the operator reads it, `2048m` being 2048 MiB).
fn resource_request_exceeds_limit(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    if !version(ctx).has_resource_requirements() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for role in ["/jobManager", "/taskManager"] {
        let Some(resources) = c.at(role).and_then(|r| r.get("resources")) else {
            continue;
        };
        for key in ["cpu", "memory"] {
            let of = |section: &str| {
                resources
                    .get(section)
                    .and_then(|s| s.get(key))
                    .filter(|v| !v.is_null())
            };
            let (Some(req), Some(lim)) = (of("requests"), of("limits")) else {
                continue;
            };
            let above = if key == "memory" {
                matches!((operator_memory(req), operator_memory(lim)), (Ok(r), Ok(l)) if r > l)
            } else {
                matches!(
                    (quantity::quantity_from_json(req), quantity::quantity_from_json(lim)),
                    (Ok(r), Ok(l)) if r.nanos() > l.nanos()
                )
            };
            if above {
                let rel = format!("{role}/resources/requests/{key}");
                hits.push(
                    Hit::at(c.ptr(&rel))
                        .arg("field", c.field(&format!("{role}/resources")))
                        .arg("resource", key)
                        .arg("request", text_of(req))
                        .arg("limit", text_of(lim)),
                );
            }
        }
    }
    hits
}

// ------------------------------------------------------------------------------------------------
// Service account
// ------------------------------------------------------------------------------------------------

/// FLK515: `check: native: service_account_missing`.
pub(super) const SERVICE_ACCOUNT_MISSING: Native = Native {
    args: &["hint"],
    run: service_account_missing,
};

/// The Flink service accounts in sight in the subject's namespace: ServiceAccounts whose name
/// says Flink (not the operator's own), and those other FlinkDeployments run as.
fn flink_service_accounts(ctx: &Ctx<'_>) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .others("", "ServiceAccount")
        .iter()
        .map(|sa| object::name(sa).to_string())
        .filter(|n| n.contains("flink") && !n.contains("operator"))
        .collect();
    for (kind, at) in [
        ("FlinkDeployment", "/spec/serviceAccount"),
        (
            "FlinkBlueGreenDeployment",
            "/spec/template/spec/serviceAccount",
        ),
    ] {
        for o in ctx.others(FLINK_GROUP, kind) {
            if let Some(sa) = object::str_at(&o, at).filter(|s| !s.is_empty()) {
                names.push(sa.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// FLK515: `serviceAccount` is not set. With exactly one Flink service account in sight in the
/// namespace, the fix sets it.
fn service_account_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = cluster(ctx) else {
        return Vec::new();
    };
    if c.at("/serviceAccount").is_some() {
        return Vec::new();
    }
    let known = flink_service_accounts(ctx);
    let at = existing(c.obj, c.base);
    match known.as_slice() {
        [one] => vec![
            Hit::at(at)
                .arg(
                    "hint",
                    format!("set it to {one}, the Flink service account in this namespace"),
                )
                .fix(vec![Op::Add {
                    path: c.ptr("/serviceAccount"),
                    value: json!(one),
                }]),
        ],
        _ => vec![Hit::at(at).arg(
            "hint",
            "set it to the service account the Flink pods run as (the Helm chart's jobServiceAccount, flink by default)",
        )],
    }
}

// ------------------------------------------------------------------------------------------------
// Autoscaler
// ------------------------------------------------------------------------------------------------

/// FLK516: `check: native: autoscaler_config_invalid`.
pub(super) const AUTOSCALER_CONFIG_INVALID: Native = Native {
    args: &["key", "problem"],
    run: autoscaler_config_invalid,
};

/// The autoscaler configuration a subject is judged with: a FlinkDeployment's (or blue/green
/// template's), or a session job's merged over its session cluster's.
fn autoscaler_view<'a>(ctx: &Ctx<'a>) -> Option<(FlinkConfig, String)> {
    if let Some(c) = cluster(ctx) {
        let ptr = c.config_ptr();
        return Some((FlinkConfig::clone(&c.cfg), ptr));
    }
    if !is_kind(ctx, CrKind::FlinkSessionJob) {
        return None;
    }
    // As for the job checks, the operator judges a session job's autoscaler only against a
    // session cluster it found.
    let cluster = session_cluster(ctx)?;
    let mut cfg = flatten_at(&cluster, "/spec/flinkConfiguration");
    cfg.merge(&flatten_at(ctx.obj, "/spec/flinkConfiguration"));
    Some((cfg, "/spec/flinkConfiguration".into()))
}

fn first_key<'c>(cfg: &'c FlinkConfig, name: &str) -> Option<(String, &'c str)> {
    op::autoscaler_keys(name)
        .into_iter()
        .find_map(|k| cfg.get(&k).map(|v| (k, v)))
}

fn java_double(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Infinity" } else { "-Infinity" }.to_string()
    } else if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

/// FLK516: with the autoscaler on, an option out of its range or not a number, an excluded
/// period the operator cannot read, or (operator 1.16) a metric window shorter than the
/// reconcile interval.
fn autoscaler_config_invalid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some((cfg, config_ptr)) = autoscaler_view(ctx) else {
        return Vec::new();
    };
    let enabled = op::AUTOSCALER_ENABLED
        .iter()
        .find_map(|k| cfg.boolean(k))
        .is_some_and(|b| b == Ok(true));
    if !enabled {
        return Vec::new();
    }
    let ov = version(ctx);
    let obj = ctx.obj;
    let at = |key: &str| {
        key_pointer_in(obj, &config_ptr, key).unwrap_or_else(|| existing(obj, &config_ptr))
    };
    let mut hits = Vec::new();
    let target = first_key(&cfg, "utilization.target")
        .and_then(|(_, v)| op::parse_double(v))
        .unwrap_or(op::UTILIZATION_TARGET_DEFAULT);
    for r in op::AUTOSCALER_RANGES.iter().filter(|r| r.since <= ov) {
        if let Some(flag) = r.only_when
            && ov >= op::CONDITIONAL_RANGES_SINCE
        {
            let on =
                first_key(&cfg, flag).is_some_and(|(_, v)| config::parse_boolean(v) == Ok(true));
            if !on {
                continue;
            }
        }
        let Some((key, text)) = first_key(&cfg, r.name) else {
            continue;
        };
        let bound = |b: Bound| match b {
            Bound::Value(v) => v,
            Bound::Target => target,
        };
        let (min, max) = (bound(r.min), r.max.map(bound));
        let problem = match op::parse_double(text) {
            None => format!("is {}, not a number", text.trim()),
            Some(v) if v < min || max.is_some_and(|m| v > m) => format!(
                "is {}, outside [{}, {}]",
                text.trim(),
                java_double(min),
                java_double(max.unwrap_or(f64::INFINITY))
            ),
            Some(_) => continue,
        };
        hits.push(Hit::at(at(&key)).arg("key", &key).arg("problem", problem));
    }
    if let Some((key, text)) = first_key(&cfg, "excluded.periods") {
        let bad: Vec<String> = text
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .filter_map(|e| op::excluded_period_problem(e).map(|why| format!("'{e}' {why}")))
            .collect();
        if !bad.is_empty() {
            hits.push(Hit::at(at(&key)).arg("key", &key).arg(
                "problem",
                format!("has entries the operator cannot read: {}", bad.join("; ")),
            ));
        }
    }
    if ov.has_resource_requirements() {
        let window = first_key(&cfg, "metrics.window");
        let window_value = window
            .as_ref()
            .map(|(_, v)| op::parse_duration(v))
            .unwrap_or(Some(op::METRICS_WINDOW_DEFAULT));
        let interval = cfg
            .get(op::RECONCILE_INTERVAL)
            .map(op::parse_duration)
            .unwrap_or(Some(op::HELM_RECONCILE_INTERVAL));
        if let (Some(w), Some(i)) = (window_value, interval)
            && w < i
        {
            let key = window.as_ref().map_or_else(
                || "job.autoscaler.metrics.window".to_string(),
                |(k, _)| k.clone(),
            );
            let shown = window.as_ref().map_or("15 min", |(_, v)| v.trim());
            let interval_text = cfg
                .get(op::RECONCILE_INTERVAL)
                .map_or("15 s, the Helm chart's default".to_string(), |v| {
                    v.trim().to_string()
                });
            hits.push(Hit::at(at(&key)).arg("key", &key).arg(
                "problem",
                format!(
                    "is {shown}, shorter than the operator's reconcile interval ({interval_text}), so autoscaling would never apply"
                ),
            ));
        }
    }
    hits
}

// ------------------------------------------------------------------------------------------------
// Session jobs
// ------------------------------------------------------------------------------------------------

/// FLK517: `check: native: session_job_deployment_missing`.
pub(super) const SESSION_JOB_DEPLOYMENT_MISSING: Native = Native {
    args: &[],
    run: session_job_deployment_missing,
};

/// FLK517: a FlinkSessionJob without `spec.deploymentName` (the operator's validator throws,
/// and its webhook answers with an internal error).
fn session_job_deployment_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkSessionJob)
        || ctx
            .obj
            .at("/spec/deploymentName")
            .is_some_and(|v| !v.is_null())
    {
        return Vec::new();
    }
    vec![Hit::at(existing(ctx.obj, "/spec"))]
}

/// FLK518: `check: native: session_job_without_job`.
pub(super) const SESSION_JOB_WITHOUT_JOB: Native = Native {
    args: &[],
    run: session_job_without_job,
};

/// FLK518: a FlinkSessionJob without `spec.job`.
fn session_job_without_job(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkSessionJob)
        || ctx.obj.at("/spec/job").is_some_and(|v| !v.is_null())
    {
        return Vec::new();
    }
    vec![Hit::at(existing(ctx.obj, "/spec"))]
}

/// FLK519: `check: native: session_job_application_cluster`.
pub(super) const SESSION_JOB_APPLICATION_CLUSTER: Native = Native {
    args: &["cluster"],
    run: session_job_application_cluster,
};

/// FLK519: a FlinkSessionJob whose FlinkDeployment runs a job of its own (an application
/// cluster).
fn session_job_application_cluster(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkSessionJob) {
        return Vec::new();
    }
    let Some(cluster) = session_cluster(ctx) else {
        return Vec::new();
    };
    if cluster.at("/spec/job").is_none_or(Value::is_null) {
        return Vec::new();
    }
    vec![Hit::at("/spec/deploymentName").arg("cluster", ctx.describe(&cluster))]
}

/// FLK520: `check: native: jar_uri_scheme`.
pub(super) const JAR_URI_SCHEME: Native = Native {
    args: &["uri", "problem"],
    run: jar_uri_scheme,
};

/// Why the operator refuses a session job's `jarURI` (`validateJarURI`), leaving out the DNS
/// lookup it does for host names: not a URI, no scheme, a scheme outside the allowlist (https
/// by default), an http(s) URI without a host or with a literal restricted address.
fn jar_uri_problem(uri: &str) -> Option<String> {
    const ILLEGAL: &[char] = &[' ', '"', '<', '>', '\\', '^', '`', '{', '|', '}'];
    if let Some(c) = uri.chars().find(|c| ILLEGAL.contains(c) || c.is_control()) {
        return Some(format!("is not a valid URI (it contains {c:?})"));
    }
    let scheme = uri.split_once(':').map(|(s, _)| s).filter(|s| {
        let mut b = s.bytes();
        b.next().is_some_and(|c| c.is_ascii_alphabetic())
            && b.all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
    });
    let Some(scheme) = scheme else {
        return Some("has no scheme".into());
    };
    if !op::DEFAULT_ALLOWED_SCHEMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Some(format!(
            "uses scheme '{scheme}', which is not in the operator's default allowlist [{}] ({})",
            op::DEFAULT_ALLOWED_SCHEMES.join(", "),
            op::ALLOWED_SCHEMES_KEY
        ));
    }
    let rest = &uri[scheme.len() + 1..];
    let authority = rest
        .strip_prefix("//")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Some("has no host".into());
    }
    // `core::net`: parsing an address is pure (no sockets, no lookups).
    let restricted = host.eq_ignore_ascii_case("localhost")
        || match host.parse::<core::net::IpAddr>() {
            Ok(core::net::IpAddr::V4(a)) => {
                a.is_loopback()
                    || a.is_link_local()
                    || a.is_private()
                    || a.is_unspecified()
                    || a.is_multicast()
            }
            Ok(core::net::IpAddr::V6(a)) => {
                a.is_loopback()
                    || a.is_unspecified()
                    || a.is_multicast()
                    || (a.segments()[0] & 0xffc0) == 0xfe80
                    || (a.segments()[0] & 0xffc0) == 0xfec0
            }
            Err(_) => false,
        };
    restricted.then(|| format!("names host {host}, a restricted (local or private) address"))
}

/// FLK520: a FlinkSessionJob `jarURI` the operator refuses.
fn jar_uri_scheme(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkSessionJob) {
        return Vec::new();
    }
    let Some(uri) = object::str_at(ctx.obj, "/spec/job/jarURI") else {
        return Vec::new();
    };
    match jar_uri_problem(uri) {
        Some(problem) => vec![
            Hit::at("/spec/job/jarURI")
                .arg("uri", uri)
                .arg("problem", problem),
        ],
        None => Vec::new(),
    }
}

// ------------------------------------------------------------------------------------------------
// State snapshots
// ------------------------------------------------------------------------------------------------

fn present(obj: &Value, pointer: &str) -> bool {
    obj.at(pointer).is_some_and(|v| !v.is_null())
}

/// FLK521: `check: native: snapshot_kind`.
pub(super) const SNAPSHOT_KIND: Native = Native {
    args: &["problem"],
    run: snapshot_kind,
};

/// FLK521: a FlinkStateSnapshot with both or neither of `spec.savepoint` and
/// `spec.checkpoint`.
fn snapshot_kind(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkStateSnapshot) {
        return Vec::new();
    }
    let obj = ctx.obj;
    let problem = match (
        present(obj, "/spec/savepoint"),
        present(obj, "/spec/checkpoint"),
    ) {
        (true, true) => "sets both spec.savepoint and spec.checkpoint",
        (false, false) => "sets neither spec.savepoint nor spec.checkpoint",
        _ => return Vec::new(),
    };
    vec![Hit::at(existing(obj, "/spec")).arg("problem", problem)]
}

/// FLK522: `check: native: snapshot_job_reference`.
pub(super) const SNAPSHOT_JOB_REFERENCE: Native = Native {
    args: &["problem"],
    run: snapshot_job_reference,
};

/// FLK522: a FlinkStateSnapshot to be taken (not `savepoint.alreadyExists`) without a job
/// reference (kind and name), or, where the world is complete and the snapshot has no status
/// yet, naming a job that does not exist.
fn snapshot_job_reference(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_kind(ctx, CrKind::FlinkStateSnapshot) {
        return Vec::new();
    }
    let obj = ctx.obj;
    if present(obj, "/spec/savepoint") && present(obj, "/spec/checkpoint") {
        return Vec::new();
    }
    if obj
        .at("/spec/savepoint/alreadyExists")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Vec::new();
    }
    let Some(reference) = obj.at("/spec/jobReference").filter(|v| !v.is_null()) else {
        return vec![Hit::at(existing(obj, "/spec")).arg("problem", "has no spec.jobReference")];
    };
    let kind = reference.get("kind").and_then(Value::as_str);
    let name = reference.get("name").and_then(Value::as_str);
    let (Some(kind), Some(name)) = (kind, name) else {
        return vec![Hit::at("/spec/jobReference").arg(
            "problem",
            "has a spec.jobReference without its kind and name",
        )];
    };
    if !matches!(kind, "FlinkDeployment" | "FlinkSessionJob") {
        return vec![Hit::at("/spec/jobReference/kind").arg(
            "problem",
            format!("references kind {kind}, not FlinkDeployment or FlinkSessionJob"),
        )];
    }
    let pending = obj.at("/status").is_none_or(|s| {
        s.is_null() || s.get("state").and_then(Value::as_str) == Some("TRIGGER_PENDING")
    });
    if pending
        && ctx.complete(FLINK_GROUP, kind)
        && matches!(
            ctx.subject
                .context
                .resolve(FLINK_GROUP, kind, ctx.namespace(), name),
            Resolved::None
        )
    {
        return vec![Hit::at("/spec/jobReference/name").arg(
            "problem",
            format!("references {kind} {name}, which does not exist in this namespace"),
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, NoContext, Settings, Subject};

    fn rules_for(obj: &Value, version: &str) -> Vec<String> {
        let settings = Settings {
            operator_version: version.parse().unwrap(),
            ..Settings::default()
        };
        let engine = Engine::embedded(settings).unwrap();
        let report = engine.check(&Subject::offline(obj, &NoContext));
        let mut ids: Vec<String> = report.findings.iter().map(|f| f.rule.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn deployment(flink_version: &str, resources: Value) -> Value {
        json!({
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "basic", "namespace": "flink"},
            "spec": {
                "image": "flink:2.2",
                "flinkVersion": flink_version,
                "serviceAccount": "flink",
                "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
                "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
                "taskManager": resources,
                "job": {"jarURI": "local:///opt/flink/x.jar", "parallelism": 2}
            }
        })
    }

    #[test]
    fn supported_flink_versions_depend_on_the_operator_version() {
        let tm = json!({"resource": {"memory": "2048m", "cpu": 1}});
        let v2_3 = deployment("v2_3", tm.clone());
        assert!(!rules_for(&v2_3, "1.16").contains(&"FLK503".to_string()));
        assert!(!rules_for(&v2_3, "1.15").contains(&"FLK503".to_string()));
        assert!(rules_for(&v2_3, "1.14").contains(&"FLK503".to_string()));
        assert!(rules_for(&v2_3, "1.13").contains(&"FLK503".to_string()));
        let v2_0 = deployment("v2_0", tm.clone());
        assert!(!rules_for(&v2_0, "1.12").contains(&"FLK503".to_string()));
        assert!(!rules_for(&v2_0, "1.11").contains(&"FLK503".to_string()));
        assert!(rules_for(&v2_0, "1.10").contains(&"FLK503".to_string()));
        let v1_14 = deployment("v1_14", tm);
        for v in ["1.10", "1.11", "1.12", "1.13", "1.14", "1.15", "1.16"] {
            assert!(rules_for(&v1_14, v).contains(&"FLK503".to_string()), "{v}");
        }
    }

    #[test]
    fn resource_requirements_are_judged_from_operator_1_16() {
        let tm = json!({"resources": {"requests": {"memory": "4g", "cpu": 2},
                                      "limits": {"memory": "2g", "cpu": 1}}});
        let obj = deployment("v2_2", tm);
        assert!(rules_for(&obj, "1.16").contains(&"FLK514".to_string()));
        assert!(!rules_for(&obj, "1.15").contains(&"FLK514".to_string()));
    }

    #[test]
    fn memory_in_resources_counts_from_operator_1_16() {
        let tm = json!({"resources": {"requests": {"memory": "2Gi", "cpu": 1}}});
        let obj = deployment("v1_20", tm);
        assert!(!rules_for(&obj, "1.16").contains(&"FLK402".to_string()));
        assert!(rules_for(&obj, "1.15").contains(&"FLK402".to_string()));
    }

    #[test]
    fn a_savepoint_directory_goes_beside_the_checkpoint_directory() {
        let fix = |dir: &str| {
            let obj = json!({"spec": {"flinkConfiguration": {"state.checkpoints.dir": dir}}});
            let j = JobView {
                obj: &obj,
                job: "/spec/job".into(),
                job_value: &Value::Null,
                cfg: std::borrow::Cow::Owned(flatten_at(&obj, "/spec/flinkConfiguration")),
                config_ptr: "/spec/flinkConfiguration".into(),
                tm_replicas: None,
                replicas_for_fix: 1,
                source: String::new(),
            };
            savepoint_beside_checkpoint(&j).map(|op| serde_json::to_value(op).unwrap())
        };
        assert_eq!(
            fix("s3://bucket/flink/checkpoints/").and_then(|o| o.get("value").cloned()),
            Some(json!("s3://bucket/flink/savepoints"))
        );
        assert_eq!(
            fix("file:///flink-data/cp").and_then(|o| o.get("path").cloned()),
            Some(json!("/spec/flinkConfiguration/state.savepoints.dir"))
        );
        assert_eq!(
            fix("file:///flink-data/cp").and_then(|o| o.get("value").cloned()),
            Some(json!("file:///flink-data/savepoints"))
        );
        assert_eq!(fix("s3://bucket"), None);
    }

    #[test]
    fn jar_uris_as_the_operator_reads_them() {
        assert_eq!(jar_uri_problem("https://repo.example.com/a.jar"), None);
        assert!(jar_uri_problem("local:///opt/flink/a.jar").is_some());
        assert!(jar_uri_problem("/opt/a.jar").is_some());
        assert!(jar_uri_problem("https:///a.jar").is_some());
        assert!(jar_uri_problem("https://127.0.0.1/a.jar").is_some());
        assert!(jar_uri_problem("https://169.254.169.254/a.jar").is_some());
        assert!(jar_uri_problem("https://a b/c.jar").is_some());
    }

    #[test]
    fn ingress_templates_make_urls() {
        assert_eq!(url_problem("{{name}}.{{namespace}}.flink.k8s.io"), None);
        assert_eq!(url_problem("/{{namespace}}/{{name}}(/|$)(.*)"), None);
        assert!(url_problem("example.com:port").is_some());
        assert!(url_problem("https://[::1/x").is_some());
        assert_eq!(url_problem("example.com:8080/{{NAME}}"), None);
    }
}
