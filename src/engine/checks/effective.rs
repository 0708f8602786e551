//! The configuration Flink actually starts with, judged as the image's entrypoint and the
//! operator build it: variables the entrypoint cannot write, volumes that hide the image's own
//! directories, logging files Log4j 2 does not read, pod template containers the operator does
//! not merge into Flink's, and a `flinkVersion` that is not the image's.

use serde_json::Value;

use super::standalone::{self, Mount};
use super::{Ctx, Native};
use crate::engine::Hit;
use crate::flink::config;
use crate::flink::image;
use crate::flink::object::{self, Class, Container, CrKind};
use crate::flink::pointer::{self, Pointer as _};

fn is_flink_deployment(ctx: &Ctx<'_>) -> bool {
    matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment)) && !object::is_canary(ctx.obj)
}

/// FLK316: `check: native: env_config_not_applied`.
pub(super) const ENV_CONFIG_NOT_APPLIED: Native = Native {
    args: &["container", "keys", "vars", "configmap"],
    run: env_config_not_applied,
};

/// FLK316: `FLINK_PROPERTIES` or `JOB_MANAGER_RPC_ADDRESS` set keys that the read-only
/// ConfigMap mount keeps out of Flink's configuration (those the file does not already set to
/// the same value).
fn env_config_not_applied(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    let Mount::ConfigMap { source, .. } = &pc.mount else {
        return Vec::new();
    };
    let lost: Vec<&str> = pc
        .env_ignored
        .iter()
        .filter(|(k, v)| !pc.file_known || pc.config.get(k).map(str::trim) != Some(v.trim()))
        .map(|(k, _)| k)
        .collect();
    if lost.is_empty() {
        return Vec::new();
    }
    let env = pc.container.value.get("env").and_then(Value::as_array);
    let index_of = |var: &str| {
        env.and_then(|e| {
            e.iter()
                .position(|v| object::str_at(v, "/name") == Some(var))
        })
    };
    // The variables behind the lost keys, in the order the entrypoint applies them.
    let sets = |var: &str, key: &str| match pc.container.env(var) {
        Some(text) if var == "FLINK_PROPERTIES" => {
            config::parse_flink_properties_env(text).contains_key(key)
        }
        Some(_) => key == config::JOBMANAGER_RPC_ADDRESS,
        None => false,
    };
    let vars: Vec<&str> = ["FLINK_PROPERTIES", "JOB_MANAGER_RPC_ADDRESS"]
        .into_iter()
        .filter(|v| lost.iter().any(|k| sets(v, k)))
        .collect();
    let at = vars
        .first()
        .and_then(|v| index_of(v))
        .map(|i| format!("{}/env/{i}", pc.container.pointer()))
        .unwrap_or_else(|| pc.container.pointer());
    vec![
        Hit::at(at)
            .arg("container", pc.container.name())
            .arg("keys", lost.join(", "))
            .arg("vars", vars.join(" and "))
            .arg("configmap", source.name),
    ]
}

/// FLK317 and FLK318: the volume mounts of `container` that replace one of `dirs`.
fn shadowing<'a>(
    container: &Container<'a>,
    dirs: &[(&'static str, &'static str)],
) -> Vec<(String, &'static str, &'static str)> {
    container
        .volume_mounts()
        .filter(|(_, m)| object::str_at(m, "/subPath").is_none_or(str::is_empty))
        .filter_map(|(i, m)| {
            let path = object::str_at(m, "/mountPath")?.trim_end_matches('/');
            let (dir, what) = dirs.iter().find(|(d, _)| *d == path)?;
            Some((
                format!("{}/volumeMounts/{i}", container.pointer()),
                *dir,
                *what,
            ))
        })
        .collect()
}

/// The Flink containers of the subject: a standalone workload's main container, or the
/// `flink-main-container` of each of a FlinkDeployment's pod templates.
fn flink_containers<'a>(ctx: &'a Ctx<'_>) -> Vec<Container<'a>> {
    if !is_flink_deployment(ctx) {
        return ctx.me().map(|pc| pc.container).into_iter().collect();
    }
    let mut out = Vec::new();
    for (spec, node) in ctx.pod_specs() {
        let Some(list) = node.get("containers").and_then(Value::as_array) else {
            continue;
        };
        for (index, value) in list.iter().enumerate() {
            if object::str_at(value, "/name") == Some(object::MAIN_CONTAINER) {
                out.push(Container {
                    pointer_prefix: spec,
                    list: "containers",
                    index,
                    value,
                });
            }
        }
    }
    out
}

/// FLK317: `check: native: flink_dir_shadowed`.
pub(super) const FLINK_DIR_SHADOWED: Native = Native {
    args: &["container", "dir", "what"],
    run: flink_dir_shadowed,
};

/// FLK317: a volume mounted over the image's distribution, `lib` or `bin`.
fn flink_dir_shadowed(ctx: &Ctx<'_>) -> Vec<Hit> {
    shadow_hits(ctx, object::FLINK_ESSENTIAL_DIRS)
}

/// FLK318: `check: native: flink_plugins_shadowed`.
pub(super) const FLINK_PLUGINS_SHADOWED: Native = Native {
    args: &["container", "dir", "what"],
    run: flink_plugins_shadowed,
};

/// FLK318: a volume mounted over the image's `plugins` directory.
fn flink_plugins_shadowed(ctx: &Ctx<'_>) -> Vec<Hit> {
    shadow_hits(ctx, object::FLINK_PLUGINS_DIRS)
}

fn shadow_hits(ctx: &Ctx<'_>, dirs: &[(&'static str, &'static str)]) -> Vec<Hit> {
    flink_containers(ctx)
        .iter()
        .flat_map(|c| {
            shadowing(c, dirs).into_iter().map(|(at, dir, what)| {
                Hit::at(at)
                    .arg("container", c.name())
                    .arg("dir", dir)
                    .arg("what", what)
            })
        })
        .collect()
}

/// FLK319: `check: native: legacy_log_syntax`.
pub(super) const LEGACY_LOG_SYNTAX: Native = Native {
    args: &["where", "line"],
    run: log4j1_syntax,
};

/// FLK319: a `log4j-console.properties` written for Log4j 1 (`log4j.rootLogger=...`) without
/// any Log4j 2 key: Log4j 2 reads none of it.
fn log4j1_syntax(ctx: &Ctx<'_>) -> Vec<Hit> {
    let (at, place, text) = if is_flink_deployment(ctx) {
        let at = format!(
            "/spec/logConfiguration/{}",
            pointer::escape(standalone::LOG4J)
        );
        match ctx.obj.at(&at).and_then(Value::as_str) {
            Some(t) => (at, "spec.logConfiguration".to_string(), t),
            None => return Vec::new(),
        }
    } else if object::kind(ctx.obj) == "ConfigMap" {
        let at = format!("/data/{}", pointer::escape(standalone::LOG4J));
        match ctx.obj.at(&at).and_then(Value::as_str) {
            Some(t) => (at, format!("ConfigMap {}", object::name(ctx.obj)), t),
            None => return Vec::new(),
        }
    } else {
        return Vec::new();
    };
    match crate::flink::logging::log4j1_line(text) {
        Some(line) => vec![Hit::at(at).arg("where", place).arg("line", line)],
        None => Vec::new(),
    }
}

/// FLK320: `check: native: pod_template_sidecar_without_image`.
pub(super) const POD_TEMPLATE_SIDECAR_WITHOUT_IMAGE: Native = Native {
    args: &["container", "template"],
    run: pod_template_sidecar_without_image,
};

/// FLK320: a container of a FlinkDeployment's pod template that is not `flink-main-container`
/// and has no image: the operator adds it to the pods as it is, and the API server refuses a
/// container without an image.
fn pod_template_sidecar_without_image(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_flink_deployment(ctx) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for &(spec, node) in ctx.pod_specs() {
        for list in ["containers", "initContainers"] {
            let Some(cs) = node.get(list).and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in cs.iter().enumerate() {
                let name = object::str_at(c, "/name").unwrap_or("");
                let image = object::str_at(c, "/image").filter(|s| !s.trim().is_empty());
                if image.is_some() || (list == "containers" && name == object::MAIN_CONTAINER) {
                    continue;
                }
                let template = spec
                    .trim_start_matches('/')
                    .trim_end_matches("/spec")
                    .replace('/', ".");
                let at = if c.get("name").is_some() {
                    format!("{spec}/{list}/{i}/name")
                } else {
                    format!("{spec}/{list}/{i}")
                };
                hits.push(Hit::at(at).arg("container", name).arg("template", template));
            }
        }
    }
    hits
}

/// FLK321: `check: native: flink_version_mismatch`.
pub(super) const FLINK_VERSION_MISMATCH: Native = Native {
    args: &["declared", "image", "runs"],
    run: flink_version_mismatch,
};

/// FLK321: a FlinkDeployment whose `flinkVersion` is not the Flink version its image's tag
/// names (a floating tag counts as the newest Flink).
fn flink_version_mismatch(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !is_flink_deployment(ctx) {
        return Vec::new();
    }
    let (Some(declared), Some(img)) = (
        object::str_at(ctx.obj, "/spec/flinkVersion"),
        object::str_at(ctx.obj, "/spec/image"),
    ) else {
        return Vec::new();
    };
    let (Some(cr), Some(runs)) = (image::from_cr(declared), image::version_of(img)) else {
        return Vec::new();
    };
    if cr == runs {
        return Vec::new();
    }
    vec![
        Hit::at("/spec/flinkVersion")
            .arg("declared", declared)
            .arg("image", img)
            .arg("runs", runs),
    ]
}
