//! Family 2: security context checks that need more than one node. Most Pod Security Standards
//! and SCC checks are JSON Schemas in `policies/FLK2*.yaml`; what lives here needs the
//! namespace's OpenShift allocations (a Namespace object in sight, or `.flink-lint.yaml`), pod
//! annotations next to the pod spec, or Flink knowledge (which container runs the Flink image,
//! which directories it writes).

use crate::flink::pointer::{self, Pointer as _};
use serde_json::{Value, json};

use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::image;
use crate::flink::object::{self, Class, CrKind};

pub const UID_RANGE: &str = "openshift.io/sa.scc.uid-range";
pub const SUPPLEMENTAL_GROUPS: &str = "openshift.io/sa.scc.supplemental-groups";
pub const MCS: &str = "openshift.io/sa.scc.mcs";

/// OpenShift's default allocator hands out blocks of 10000 ids from 1000000000 to 1999999999.
const DEFAULT_ALLOCATOR: (i64, i64) = (1_000_000_000, 1_999_999_999);
const DEFAULT_BLOCK: i64 = 10_000;

/// The uid of the `flink` user in the official images.
pub const FLINK_UID: i64 = 9999;

const CONFIG: &str = ".flink-lint.yaml";

/// One namespace allocation: the annotation text, where it came from, and whether it is known.
struct Allocation {
    text: String,
    source: &'static str,
}

/// The subject's Namespace object, when the world holds it (Namespaces are cluster-scoped:
/// matched by name).
fn namespace_object(ctx: &Ctx<'_>) -> Option<std::sync::Arc<Value>> {
    let ns = ctx.namespace()?;
    ctx.subject
        .context
        .list("", "Namespace", None)
        .into_iter()
        .find(|n| object::name(n) == ns)
}

fn allocation(ctx: &Ctx<'_>, annotation: &str) -> Option<Allocation> {
    if let Some(ns) = namespace_object(ctx)
        && let Some(v) = object::annotation(&ns, annotation)
    {
        return Some(Allocation {
            text: v.to_string(),
            source: "the Namespace",
        });
    }
    let s = &ctx.settings.openshift;
    let configured = match annotation {
        UID_RANGE => s.uid_range.as_ref(),
        SUPPLEMENTAL_GROUPS => s.supplemental_groups.as_ref().or(s.uid_range.as_ref()),
        MCS => s.mcs.as_ref(),
        _ => None,
    };
    configured.map(|t| Allocation {
        text: t.clone(),
        source: CONFIG,
    })
}

/// A `securityContext` field set on the pod or on any container of every pod spec: (pointer,
/// value, pointer of the securityContext's owner).
fn security_fields<'a>(ctx: &Ctx<'a>, field: &str) -> Vec<(String, &'a Value)> {
    // Read where they are; a pointer is written only for a field that is set.
    let set = |owner: &'a Value| {
        owner
            .get("securityContext")
            .and_then(|sc| sc.get(field))
            .filter(|v| !v.is_null())
    };
    let mut out = Vec::new();
    for &(spec, pod) in ctx.pod_specs() {
        let pod = Some(pod);
        if let Some(v) = pod.and_then(set) {
            out.push((format!("{spec}/securityContext/{field}"), v));
        }
        // As `object::all_containers` lists them (its containers would borrow `spec`).
        for list in object::CONTAINER_LISTS {
            let items = pod.and_then(|p| p.get(list)).and_then(Value::as_array);
            for (i, c) in items.into_iter().flatten().enumerate() {
                if let Some(v) = set(c) {
                    out.push((format!("{spec}/{list}/{i}/securityContext/{field}"), v));
                }
            }
        }
    }
    out
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn remove(path: &str) -> Vec<Op> {
    vec![Op::Remove {
        path: path.to_string(),
    }]
}

/// FLK230: `check: native: run_as_user_range`.
pub(super) const RUN_AS_USER_RANGE: Native = Native {
    args: &["value", "range"],
    run: run_as_user_range,
};

/// FLK230: `runAsUser` outside the namespace's uid range (OpenShift restricted-v2).
fn run_as_user_range(ctx: &Ctx<'_>) -> Vec<Hit> {
    let fields = security_fields(ctx, "runAsUser");
    if fields.is_empty() {
        return Vec::new();
    }
    let alloc = allocation(ctx, UID_RANGE);
    let range = alloc
        .as_ref()
        .and_then(|a| object::parse_id_blocks(&a.text))
        .and_then(|b| b.first().copied());
    let mut hits = Vec::new();
    for (at, v) in fields {
        let uid = v.as_i64();
        let (inside, unseen) = match (range, uid) {
            (Some((lo, hi)), Some(u)) => ((lo..=hi).contains(&u), None),
            // Unknown range: the default allocator never hands out ids below 1000000000.
            (None, Some(u)) if !(DEFAULT_ALLOCATOR.0..=DEFAULT_ALLOCATOR.1).contains(&u) => {
                (false, None)
            }
            (None, _) => (
                false,
                Some(format!("the namespace's {UID_RANGE} annotation")),
            ),
            (Some(_), None) => (false, None),
        };
        if inside {
            continue;
        }
        let range_text = match &alloc {
            Some(a) if a.source == CONFIG => {
                format!("the namespace range {} set in {CONFIG}", a.text)
            }
            Some(a) => format!("the namespace range {}", a.text),
            None => "the namespace's uid range".to_string(),
        };
        hits.push(
            Hit::at(&at)
                .arg("value", display(v))
                .arg("range", range_text)
                .fix(remove(&at))
                .unseen(unseen),
        );
    }
    hits
}

/// FLK231: `check: native: fs_group_range`.
pub(super) const FS_GROUP_RANGE: Native = Native {
    args: &["value", "group"],
    run: fs_group_range,
};

/// FLK231: `fsGroup` other than the first id of the namespace's supplemental groups.
fn fs_group_range(ctx: &Ctx<'_>) -> Vec<Hit> {
    let fields = security_fields(ctx, "fsGroup");
    if fields.is_empty() {
        return Vec::new();
    }
    let alloc = allocation(ctx, SUPPLEMENTAL_GROUPS).or_else(|| allocation(ctx, UID_RANGE));
    let first = alloc
        .as_ref()
        .and_then(|a| object::parse_id_blocks(&a.text))
        .and_then(|b| b.first().map(|(lo, _)| *lo));
    let mut hits = Vec::new();
    for (at, v) in fields {
        let gid = v.as_i64();
        let (ok, unseen) = match (first, gid) {
            (Some(g), Some(x)) => (g == x, None),
            // Unknown namespace: only a block start of the default allocator can be right.
            (None, Some(x))
                if (DEFAULT_ALLOCATOR.0..=DEFAULT_ALLOCATOR.1).contains(&x)
                    && (x - DEFAULT_ALLOCATOR.0) % DEFAULT_BLOCK == 0 =>
            {
                (
                    false,
                    Some(format!("the namespace's {SUPPLEMENTAL_GROUPS} annotation")),
                )
            }
            _ => (false, None),
        };
        if ok {
            continue;
        }
        let group = match (&alloc, first) {
            (Some(a), Some(g)) if a.source == CONFIG => format!("{g}, set in {CONFIG}"),
            (Some(_), Some(g)) => format!("the namespace's group {g}"),
            _ => "the first id of the namespace's supplemental groups".to_string(),
        };
        hits.push(
            Hit::at(&at)
                .arg("value", display(v))
                .arg("group", group)
                .fix(remove(&at))
                .unseen(unseen),
        );
    }
    hits
}

/// `s0:c26,c15` and `s0:c15,c26` are the same level.
fn same_level(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> (String, Vec<String>) {
        let (sens, cats) = s.split_once(':').unwrap_or((s, ""));
        let mut c: Vec<String> = cats.split(',').map(|x| x.trim().to_string()).collect();
        c.sort();
        (sens.trim().to_string(), c)
    }
    norm(a) == norm(b)
}

/// FLK233: `check: native: selinux_openshift`.
pub(super) const SELINUX_OPENSHIFT: Native = Native {
    args: &["value"],
    run: selinux_openshift,
};

/// FLK233: SELinux options restricted-v2 rejects: any user, role or type, or a level other than
/// the namespace's MCS label.
fn selinux_openshift(ctx: &Ctx<'_>) -> Vec<Hit> {
    let fields = security_fields(ctx, "seLinuxOptions");
    if fields.is_empty() {
        return Vec::new();
    }
    let mcs = allocation(ctx, MCS);
    let mut hits = Vec::new();
    for (at, v) in fields {
        let Some(opts) = v.as_object() else {
            continue;
        };
        let mut bad = None;
        let mut unseen = None;
        for key in ["user", "role", "type"] {
            if let Some(s) = opts
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                bad = Some(format!("{key} {s}"));
                break;
            }
        }
        if bad.is_none()
            && let Some(level) = opts
                .get("level")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        {
            match &mcs {
                Some(m) if same_level(level, &m.text) => {}
                Some(m) => bad = Some(format!("level {level} (the namespace's is {})", m.text)),
                None => {
                    bad = Some(format!("level {level}"));
                    unseen = Some(format!("the namespace's {MCS} annotation"));
                }
            }
        }
        if let Some(what) = bad {
            hits.push(
                Hit::at(&at)
                    .arg("value", what)
                    .fix(remove(&at))
                    .unseen(unseen),
            );
        }
    }
    hits
}

/// The pod specs and metadata pointers of an object: (pod spec, pod metadata).
fn pods_with_metadata(obj: &Value) -> Vec<(String, String)> {
    object::pod_specs(obj)
        .into_iter()
        .map(|s| {
            let m = object::metadata_of_pod_spec(s);
            (s.to_string(), m)
        })
        .collect()
}

/// FLK221: `check: native: apparmor`.
pub(super) const APPARMOR: Native = Native {
    args: &["where", "value"],
    run: apparmor,
};

/// FLK221: AppArmor `Unconfined` (field) or an annotation other than `runtime/default`,
/// `localhost/*`.
fn apparmor(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let mut hits = Vec::new();
    for (spec, meta) in pods_with_metadata(obj) {
        if let Some(ann) = obj
            .at(&format!("{meta}/annotations"))
            .and_then(Value::as_object)
        {
            for (k, v) in ann {
                let Some(container) =
                    k.strip_prefix("container.apparmor.security.beta.kubernetes.io/")
                else {
                    continue;
                };
                let value = v.as_str().unwrap_or("");
                if value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
                {
                    continue;
                }
                hits.push(
                    Hit::at(format!("{meta}/annotations/{}", pointer::escape(k)))
                        .arg("value", value)
                        .arg("where", format!("container '{container}'")),
                );
            }
        }
        let mut owners = vec![(spec.clone(), "the pod".to_string())];
        owners.extend(
            object::all_containers(obj, &spec)
                .iter()
                .map(|c| (c.pointer(), format!("container '{}'", c.name()))),
        );
        for (owner, what) in owners {
            let p = format!("{owner}/securityContext/appArmorProfile/type");
            if let Some(t) = object::str_at(obj, &p)
                && t != "RuntimeDefault"
                && t != "Localhost"
            {
                hits.push(Hit::at(p).arg("value", t).arg("where", what));
            }
        }
    }
    hits
}

/// A container that runs the official Flink image (`flink`, `apache/flink`, any registry; the
/// image's files belong to 9999:9999 with no group-0 write bits), or runs a Flink role
/// (`jobmanager`, `taskmanager`) from another image built on it.
fn is_flink_container(c: &object::Container<'_>) -> bool {
    let image = c.image();
    let repo = image.split(['@']).next().unwrap_or(image);
    // `host:port/path/name:tag`: the tag follows the last ':' after the last '/'
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let name = last.split(':').next().unwrap_or(last);
    name.eq_ignore_ascii_case("flink") || object::role_from_command(&c.command_line()).is_some()
}

/// A container of the object that runs Flink: (container pointer, pod spec pointer). For a
/// FlinkDeployment, the main container `flink-main-container` as its templates declare it
/// (`None` as the container pointer when no template lists it).
struct FlinkContainer {
    pod_spec: String,
    container: Option<String>,
}

fn flink_containers(ctx: &Ctx<'_>) -> Vec<FlinkContainer> {
    let obj = ctx.obj;
    if object::is_canary(obj) {
        return Vec::new();
    }
    match ctx.class() {
        Class::Resource(CrKind::FlinkDeployment) => {
            let mut out: Vec<FlinkContainer> = Vec::new();
            for spec in object::pod_specs(obj) {
                for c in object::containers(obj, spec) {
                    if c.name() == object::MAIN_CONTAINER {
                        out.push(FlinkContainer {
                            pod_spec: spec.to_string(),
                            container: Some(c.pointer()),
                        });
                    }
                }
            }
            if out.is_empty() {
                out.push(FlinkContainer {
                    pod_spec: "/spec/podTemplate/spec".to_string(),
                    container: None,
                });
            }
            out
        }
        Class::Workload(_) => {
            let Some(spec) = object::pod_spec_pointer(obj) else {
                return Vec::new();
            };
            object::containers(obj, spec)
                .iter()
                .filter(|c| is_flink_container(c))
                .map(|c| FlinkContainer {
                    pod_spec: spec.to_string(),
                    container: Some(c.pointer()),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

fn mounts_at(obj: &Value, container: &str, dir: &str) -> bool {
    obj.at(&format!("{container}/volumeMounts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|m| {
            object::str_at(m, "/mountPath").is_some_and(|p| p.trim_end_matches('/') == dir)
                && object::str_at(m, "/subPath").is_none_or(str::is_empty)
        })
}

/// A volume name not used by the pod spec yet.
fn free_volume_name(obj: &Value, pod_spec: &str, base: &str) -> String {
    let taken = |n: &str| {
        obj.at(&format!("{pod_spec}/volumes"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|v| object::str_at(v, "/name") == Some(n))
    };
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

/// Ops that mount an emptyDir at `dir` in the container at `container` of `pod_spec`.
fn empty_dir_ops(obj: &Value, pod_spec: &str, container: &str, base: &str, dir: &str) -> Vec<Op> {
    let name = free_volume_name(obj, pod_spec, base);
    vec![
        Op::Add {
            path: format!("{pod_spec}/volumes/-"),
            value: json!({"name": name, "emptyDir": {}}),
        },
        Op::Add {
            path: format!("{container}/volumeMounts/-"),
            value: json!({"name": name, "mountPath": dir}),
        },
    ]
}

/// The directories a Flink container writes that sit in the image's `/opt/flink` (not writable
/// by an arbitrary uid): the log directory (`env.log.dir`, default `/opt/flink/log`), and
/// `web.upload.dir` / `io.tmp.dirs` when configured under `/opt/flink` (their default, /tmp, is
/// writable). (dir, what it is for).
fn written_dirs(cfg: Option<&crate::flink::config::FlinkConfig>) -> Vec<(String, &'static str)> {
    let get = |k: &str| cfg.and_then(|c| c.get(k)).map(str::trim);
    let mut out = vec![(
        get(crate::flink::config::ENV_LOG_DIR)
            .filter(|d| !d.is_empty())
            .unwrap_or(object::FLINK_LOG_DIR)
            .trim_end_matches('/')
            .to_string(),
        "its log files",
    )];
    if let Some(d) = get(crate::flink::config::WEB_UPLOAD_DIR) {
        out.push((
            d.trim_end_matches('/').to_string(),
            crate::flink::config::WEB_UPLOAD_DIR,
        ));
    }
    if let Some(ds) = get(crate::flink::config::IO_TMP_DIRS) {
        for d in ds
            .split([',', ':'])
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            out.push((
                d.trim_end_matches('/').to_string(),
                crate::flink::config::IO_TMP_DIRS,
            ));
        }
    }
    out.retain(|(d, _)| d == "/opt/flink" || d.starts_with("/opt/flink/"));
    out.dedup();
    out
}

/// Whether a volume of the container covers `dir` (mounted there or above it).
fn covered(obj: &Value, container: &str, dir: &str) -> bool {
    obj.at(&format!("{container}/volumeMounts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| object::str_at(m, "/subPath").is_none_or(str::is_empty))
        .filter_map(|m| object::str_at(m, "/mountPath"))
        .map(|p| p.trim_end_matches('/'))
        .any(|p| !p.is_empty() && (dir == p || dir.starts_with(&format!("{p}/"))))
}

fn volume_base(dir: &str) -> String {
    if dir == object::FLINK_LOG_DIR {
        return "flink-logs".to_string();
    }
    let last = dir.rsplit('/').next().unwrap_or("data");
    let clean: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("flink-{}", clean.trim_matches('-'))
}

/// FLK234: `check: native: flink_log_dir`.
pub(super) const FLINK_LOG_DIR: Native = Native {
    args: &["container", "dir", "what"],
    run: log_dir,
};

/// FLK234: a Flink container without a writable volume where Flink writes inside `/opt/flink`
/// (the log directory, and a configured upload or tmp directory there) on OpenShift.
fn log_dir(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let mut hits = Vec::new();
    let fd = matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment));
    let fd_config = fd.then(|| ctx.spec_config());
    let all = flink_containers(ctx);
    for fc in &all {
        let standalone_config = fc.container.as_deref().and_then(|p| {
            ctx.me()
                .filter(|me| me.container.pointer() == p)
                .map(|me| &me.config)
        });
        let dirs = written_dirs(fd_config.or(standalone_config));
        match &fc.container {
            Some(p) => {
                for (dir, what) in dirs {
                    // A FlinkDeployment's main container gets its mounts from any template.
                    let mounted = if fd {
                        all.iter()
                            .filter_map(|c| c.container.as_deref())
                            .any(|c| covered(obj, c, &dir))
                    } else {
                        covered(obj, p, &dir)
                    };
                    if mounted
                        || hits.iter().any(|h: &Hit| {
                            h.args.iter().any(|(k, v)| *k == "dir" && *v == dir) && fd
                        })
                    {
                        continue;
                    }
                    let name = object::str_at(obj, &format!("{p}/name")).unwrap_or("");
                    let fix = empty_dir_ops(obj, &fc.pod_spec, p, &volume_base(&dir), &dir);
                    hits.push(
                        Hit::at(p)
                            .arg("container", name)
                            .arg("dir", &dir)
                            .arg("what", what)
                            .fix(fix),
                    );
                }
            }
            None => {
                // No template lists the main container: add it to the shared template, but only
                // when that template has no containers (positions merge by index). The first
                // directory's fix adds the container; the next round mounts the others.
                let has_list = obj.at("/spec/podTemplate/spec/containers").is_some();
                let at = ["/spec/podTemplate/spec", "/spec/podTemplate", "/spec"]
                    .into_iter()
                    .find(|p| obj.at(p).is_some())
                    .unwrap_or("");
                for (i, (dir, what)) in dirs.into_iter().enumerate() {
                    let mut hit = Hit::at(at)
                        .arg("container", object::MAIN_CONTAINER)
                        .arg("dir", &dir)
                        .arg("what", what);
                    if !has_list && i == 0 {
                        let name =
                            free_volume_name(obj, "/spec/podTemplate/spec", &volume_base(&dir));
                        hit = hit.fix(vec![
                            Op::Add {
                                path: "/spec/podTemplate/spec/containers".to_string(),
                                value: json!([{"name": object::MAIN_CONTAINER, "volumeMounts": [{"name": name, "mountPath": dir}]}]),
                            },
                            Op::Add {
                                path: "/spec/podTemplate/spec/volumes/-".to_string(),
                                value: json!({"name": name, "emptyDir": {}}),
                            },
                        ]);
                    }
                    hits.push(hit);
                }
            }
        }
    }
    hits
}

/// The effective value of a securityContext field for a container: its own, else the pod's.
fn effective<'a>(
    obj: &'a Value,
    pod_specs: &[String],
    container: Option<&str>,
    field: &str,
) -> Option<&'a Value> {
    if let Some(c) = container
        && let Some(v) = obj
            .at(&format!("{c}/securityContext/{field}"))
            .filter(|v| !v.is_null())
    {
        return Some(v);
    }
    pod_specs.iter().find_map(|s| {
        obj.at(&format!("{s}/securityContext/{field}"))
            .filter(|v| !v.is_null())
    })
}

/// FLK235: `check: native: flink_numeric_uid`.
pub(super) const FLINK_NUMERIC_UID: Native = Native {
    args: &["container"],
    run: flink_numeric_uid,
};

/// FLK235: on Kubernetes, a Flink container with `runAsNonRoot: true` and no numeric
/// `runAsUser`: the image's user is `flink` by name (or root), so the kubelet refuses to start it.
fn flink_numeric_uid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let fd = matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment));
    let mut hits = Vec::new();
    for fc in flink_containers(ctx) {
        // The pod specs whose pod-level context applies to this container.
        let specs: Vec<String> = if fd {
            // jobManager/taskManager templates layer over the shared one: any of them counts.
            object::pod_specs(obj)
                .into_iter()
                .map(String::from)
                .collect()
        } else {
            vec![fc.pod_spec.clone()]
        };
        let non_root = effective(obj, &specs, fc.container.as_deref(), "runAsNonRoot")
            .and_then(Value::as_bool)
            == Some(true);
        let has_uid =
            effective(obj, &specs, fc.container.as_deref(), "runAsUser").is_some_and(Value::is_i64);
        if !non_root || has_uid {
            continue;
        }
        let target = if fd {
            "/spec/podTemplate/spec".to_string()
        } else {
            fc.pod_spec.clone()
        };
        let at = fc.container.clone().unwrap_or_else(|| target.clone());
        let name = fc
            .container
            .as_deref()
            .and_then(|p| object::str_at(obj, &format!("{p}/name")))
            .unwrap_or(object::MAIN_CONTAINER);
        hits.push(Hit::at(at).arg("container", name).fix(vec![Op::Add {
            path: format!("{target}/securityContext/runAsUser"),
            value: json!(FLINK_UID),
        }]));
        break;
    }
    hits
}

/// FLK236: `check: native: operator_writable_dirs`.
pub(super) const OPERATOR_WRITABLE_DIRS: Native = Native {
    args: &["container", "dir", "why"],
    run: operator_writable_dirs,
};

/// FLK236: the operator's Deployment without a writable `/opt/flink/artifacts` (FLINK-30577),
/// or running the entrypoint without its configuration mounted from a ConfigMap, on OpenShift.
fn operator_writable_dirs(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let Some(spec) = object::pod_spec_pointer(obj) else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    let Some(pod) = obj.at(spec) else {
        return hits;
    };
    for c in object::containers(obj, spec) {
        if !image::is_operator_image(c.image()) {
            continue;
        }
        let operator = c.command_line().contains(&"operator") || c.command_line().is_empty();
        let conf = object::flink_conf_mount(pod, &c).is_some_and(|m| m.volume.is_some());
        if !conf {
            hits.push(
                Hit::at(c.pointer())
                    .arg("container", c.name())
                    .arg("dir", object::FLINK_CONF_DIR)
                    .arg(
                        "why",
                        "its entrypoint edits the configuration in place; mount the operator ConfigMap there",
                    ),
            );
        }
        if operator && !mounts_at(obj, &c.pointer(), object::OPERATOR_ARTIFACTS_DIR) {
            let fix = empty_dir_ops(
                obj,
                spec,
                &c.pointer(),
                "flink-artifacts-volume",
                object::OPERATOR_ARTIFACTS_DIR,
            );
            hits.push(
                Hit::at(c.pointer())
                    .arg("container", c.name())
                    .arg("dir", object::OPERATOR_ARTIFACTS_DIR)
                    .arg(
                        "why",
                        "the operator downloads job jars there (FLINK-30577); mount an emptyDir",
                    )
                    .fix(fix),
            );
        }
    }
    hits
}

/// Layer `over` on `base` the way the operator merges pod templates: maps key by key, lists by
/// position (or, `by_name`, list items with the same `name`), anything else from `over`.
fn merge(base: &Value, over: &Value, by_name: bool) -> Value {
    match (base, over) {
        (Value::Object(a), Value::Object(b)) => {
            let mut m = a.clone();
            for (k, v) in b {
                let nv = match a.get(k) {
                    Some(av) => merge(av, v, by_name),
                    None => v.clone(),
                };
                m.insert(k.clone(), nv);
            }
            Value::Object(m)
        }
        (Value::Array(a), Value::Array(b)) if by_name => {
            let mut out = a.clone();
            for item in b {
                let name = item.get("name");
                match out
                    .iter_mut()
                    .find(|x| name.is_some() && x.get("name") == name)
                {
                    Some(x) => *x = merge(x, item, by_name),
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        (Value::Array(a), Value::Array(b)) => Value::Array(
            (0..a.len().max(b.len()))
                .map(|i| match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => merge(x, y, by_name),
                    (Some(x), None) => x.clone(),
                    (None, Some(y)) => y.clone(),
                    (None, None) => Value::Null,
                })
                .collect(),
        ),
        (_, Value::Null) => base.clone(),
        _ => over.clone(),
    }
}

/// FLK237: `check: native: flinkdeployment_restricted`.
pub(super) const FLINKDEPLOYMENT_RESTRICTED: Native = Native {
    args: &["missing"],
    run: flinkdeployment_restricted,
};

/// FLK237: a FlinkDeployment whose JobManager or TaskManager pod, as the operator makes it from
/// the shared and the role template (with the implicit `flink-main-container`), misses what Pod
/// Security restricted requires: a seccomp profile, runAsNonRoot, and per container
/// `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]`.
fn flinkdeployment_restricted(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if !matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment)) || object::is_canary(obj) {
        return Vec::new();
    }
    let by_name = obj
        .at("/spec/flinkConfiguration")
        .and_then(|c| c.get(crate::flink::config::MERGE_ARRAYS_BY_NAME))
        .is_some_and(|v| v == "true" || v == &Value::Bool(true));
    let empty = json!({});
    let common = obj.at("/spec/podTemplate/spec").unwrap_or(&empty);
    let mut missing: Vec<String> = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    let mut unfixable = false;
    let add = |ops: &mut Vec<Op>, path: String, value: Value| {
        if !ops.iter().any(|o| o.path() == path) {
            ops.push(Op::Add { path, value });
        }
    };
    for role in ["jobManager", "taskManager"] {
        let role_ptr = format!("/spec/{role}/podTemplate/spec");
        let own = obj.at(&role_ptr).unwrap_or(&empty);
        let mut pod = merge(common, own, by_name);
        if !pod.is_object() {
            continue;
        }
        let has_main = pod
            .get("containers")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| object::str_at(c, "/name") == Some(object::MAIN_CONTAINER))
            });
        if !has_main {
            match pod.get_mut("containers").and_then(Value::as_array_mut) {
                Some(cs) => cs.push(json!({"name": object::MAIN_CONTAINER})),
                None => pod["containers"] = json!([{"name": object::MAIN_CONTAINER}]),
            }
        }
        if object::str_at(&pod, "/os/name") == Some("windows") {
            continue;
        }
        let set = |v: &Value, p: &str| v.at(p).is_some_and(|x| !x.is_null());
        let containers: Vec<(&str, usize, &Value)> = object::CONTAINER_LISTS
            .iter()
            .flat_map(|l| {
                pod.get(*l)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(move |(i, c)| (*l, i, c))
            })
            .collect();
        if !set(&pod, "/securityContext/seccompProfile/type")
            && !containers
                .iter()
                .all(|(_, _, c)| set(c, "/securityContext/seccompProfile/type"))
        {
            missing.push(format!("{role} pod: seccompProfile"));
            add(
                &mut ops,
                "/spec/podTemplate/spec/securityContext/seccompProfile".into(),
                json!({"type": "RuntimeDefault"}),
            );
        }
        let user_ns = pod.get("hostUsers") == Some(&Value::Bool(false));
        if !user_ns
            && !set(&pod, "/securityContext/runAsNonRoot")
            && !containers
                .iter()
                .all(|(_, _, c)| set(c, "/securityContext/runAsNonRoot"))
        {
            missing.push(format!("{role} pod: runAsNonRoot"));
            add(
                &mut ops,
                "/spec/podTemplate/spec/securityContext/runAsNonRoot".into(),
                json!(true),
            );
            // The Flink image's user is `flink` by name: runAsNonRoot needs its numeric uid too
            // (FLK235), added in the same step.
            let main_uid = containers.iter().any(|(l, _, c)| {
                *l == "containers"
                    && object::str_at(c, "/name") == Some(object::MAIN_CONTAINER)
                    && set(c, "/securityContext/runAsUser")
            });
            if !set(&pod, "/securityContext/runAsUser") && !main_uid {
                add(
                    &mut ops,
                    "/spec/podTemplate/spec/securityContext/runAsUser".into(),
                    json!(FLINK_UID),
                );
            }
        }
        for (list, i, c) in &containers {
            let name = object::str_at(c, "/name").unwrap_or("");
            let ape = set(c, "/securityContext/allowPrivilegeEscalation");
            let drop_all = c
                .at("/securityContext/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            if ape && drop_all {
                continue;
            }
            if !ape {
                missing.push(format!(
                    "{role} container '{name}': allowPrivilegeEscalation false"
                ));
            }
            if !drop_all {
                missing.push(format!(
                    "{role} container '{name}': capabilities.drop [ALL]"
                ));
            }
            // Where the container is declared: the shared template, else the role's, else
            // nowhere (the implicit main container).
            let declared = [("/spec/podTemplate/spec", common), (role_ptr.as_str(), own)]
                .into_iter()
                .find(|(_, t)| {
                    let item = if by_name {
                        t.get(*list).and_then(Value::as_array).and_then(|cs| {
                            cs.iter()
                                .position(|x| object::str_at(x, "/name") == Some(name))
                        })
                    } else {
                        t.get(*list)
                            .and_then(Value::as_array)
                            .filter(|cs| *i < cs.len())
                            .map(|_| *i)
                    };
                    item.is_some()
                });
            let base = match declared {
                Some((tpl, t)) => {
                    let idx = if by_name {
                        t.get(*list)
                            .and_then(Value::as_array)
                            .and_then(|cs| {
                                cs.iter()
                                    .position(|x| object::str_at(x, "/name") == Some(name))
                            })
                            .unwrap_or(*i)
                    } else {
                        *i
                    };
                    format!("{tpl}/{list}/{idx}/securityContext")
                }
                None => {
                    // Only safe when no template has a containers list: positions would shift.
                    let any_list = [common, own].iter().any(|t| t.get("containers").is_some())
                        || obj
                            .at("/spec/jobManager/podTemplate/spec/containers")
                            .is_some()
                        || obj
                            .at("/spec/taskManager/podTemplate/spec/containers")
                            .is_some();
                    if any_list && !by_name {
                        unfixable = true;
                        continue;
                    }
                    add(
                        &mut ops,
                        "/spec/podTemplate/spec/containers/-".into(),
                        json!({"name": object::MAIN_CONTAINER, "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}),
                    );
                    continue;
                }
            };
            if !ape {
                add(
                    &mut ops,
                    format!("{base}/allowPrivilegeEscalation"),
                    json!(false),
                );
            }
            if !drop_all {
                add(
                    &mut ops,
                    format!("{base}/capabilities/drop/-"),
                    json!("ALL"),
                );
            }
        }
    }
    missing.dedup();
    if missing.is_empty() {
        return Vec::new();
    }
    let at = ["/spec/podTemplate/spec", "/spec/podTemplate", "/spec"]
        .into_iter()
        .find(|p| obj.at(p).is_some())
        .unwrap_or("");
    let mut hit = Hit::at(at).arg("missing", missing.join(", "));
    if !unfixable {
        hit = hit.fix(ops);
    }
    vec![hit]
}

/// FLK238: `check: native: flink_conf_dir`.
pub(super) const FLINK_CONF_DIR: Native = Native {
    args: &["container"],
    run: flink_conf_dir,
};

/// FLK238: on OpenShift, a standalone JobManager/TaskManager whose image entrypoint runs with
/// nothing mounted at `/opt/flink/conf`: the entrypoint writes the configuration (the RPC
/// address, `FLINK_PROPERTIES`) into the image's directory, which an arbitrary uid cannot.
fn flink_conf_dir(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(me) = ctx.me() else {
        return Vec::new();
    };
    if me.role.is_none()
        || !matches!(me.mount, super::standalone::Mount::Nothing)
        || !super::standalone::entrypoint_applies(&me.container)
    {
        return Vec::new();
    }
    vec![Hit::at(me.container.pointer()).arg("container", me.container.name())]
}

/// FLK239: `check: native: flink_host_network`.
pub(super) const FLINK_HOST_NETWORK: Native = Native {
    args: &[],
    run: flink_host_network,
};

/// FLK239: a FlinkDeployment whose Flink configuration puts the pods on the host network.
fn flink_host_network(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    if !matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment)) || object::is_canary(obj) {
        return Vec::new();
    }
    let cfg = ctx.spec_config();
    let on = cfg
        .get(crate::flink::config::HOST_NETWORK_ENABLED)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !on {
        return Vec::new();
    }
    let flat = format!(
        "/spec/flinkConfiguration/{}",
        pointer::escape(crate::flink::config::HOST_NETWORK_ENABLED)
    );
    if obj.at(&flat).is_some() {
        vec![Hit::at(&flat).fix(vec![Op::Replace {
            path: flat.clone(),
            value: json!("false"),
        }])]
    } else {
        vec![Hit::at("/spec/flinkConfiguration")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_compare_without_category_order() {
        assert!(same_level("s0:c26,c15", "s0:c15,c26"));
        assert!(!same_level("s0:c1,c2", "s0:c26,c15"));
    }

    #[test]
    fn templates_merge_by_position_or_by_name() {
        let a = json!({"containers": [{"name": "flink-main-container", "securityContext": {"runAsNonRoot": true}}]});
        let b = json!({"containers": [{"name": "flink-main-container", "resources": {}}, {"name": "sidecar"}]});
        let m = merge(&a, &b, false);
        assert_eq!(m["containers"][0]["securityContext"]["runAsNonRoot"], true);
        assert_eq!(m["containers"][1]["name"], "sidecar");
        let c = json!({"containers": [{"name": "sidecar", "image": "x"}]});
        let by_pos = merge(&a, &c, false);
        assert_eq!(by_pos["containers"][0]["name"], "sidecar");
        let by_name = merge(&a, &c, true);
        assert_eq!(by_name["containers"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn id_blocks() {
        assert_eq!(
            object::parse_id_blocks("1000680000/10000"),
            Some(vec![(1_000_680_000, 1_000_689_999)])
        );
        assert_eq!(
            object::parse_id_blocks("1000-1999, 5000/10"),
            Some(vec![(1000, 1999), (5000, 5009)])
        );
        assert_eq!(object::parse_id_blocks("x/1"), None);
        assert_eq!(object::parse_id_blocks(""), None);
    }
}
