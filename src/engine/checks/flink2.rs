//! Flink versions: what changed in Flink 2.0 (removed keys), images whose tag floats to the next
//! Flink release, and a FlinkDeployment whose `flinkVersion` is not the version its image runs.

use std::collections::HashSet;

use serde_json::Value;

use super::flinkdeployment::key_pointer;
use super::standalone;
use super::{Ctx, Native};
use crate::engine::Hit;
use crate::flink::image::{self, FlinkVersion, Pinned};
use crate::flink::migration;
use crate::flink::object::{self, Class, CrKind};
use crate::flink::pointer;

fn is_flink_deployment(ctx: &Ctx<'_>) -> bool {
    matches!(ctx.class(), Class::Resource(CrKind::FlinkDeployment)) && !object::is_canary(ctx.obj)
}

/// The Flink version a FlinkDeployment runs: its image's, else its `flinkVersion`'s.
fn deployment_version(obj: &Value) -> Option<FlinkVersion> {
    object::str_at(obj, "/spec/image")
        .and_then(image::version_of)
        .or_else(|| object::str_at(obj, "/spec/flinkVersion").and_then(image::from_cr))
}

/// FLK314: `check: native: config_key_removed`.
pub(super) const CONFIG_KEY_REMOVED: Native = Native {
    args: &["key", "where", "version", "instead"],
    run: config_key_removed,
};

fn instead(r: &migration::Removed) -> String {
    match r.instead {
        Some(new) => format!("use {new} instead"),
        None => "remove it (Flink 2 has no replacement)".to_string(),
    }
}

/// FLK314: a key Flink 2.0 removed, in the configuration file a Flink 2 workload reads or in a
/// Flink 2 FlinkDeployment's `flinkConfiguration`.
fn config_key_removed(ctx: &Ctx<'_>) -> Vec<Hit> {
    let hit = |at: String, key: &str, place: &str, v: FlinkVersion, r: &migration::Removed| {
        Hit::at(at)
            .arg("key", key)
            .arg("where", place)
            .arg("version", v)
            .arg("instead", instead(r))
    };
    if is_flink_deployment(ctx) {
        let Some(v) = deployment_version(ctx.obj) else {
            return Vec::new();
        };
        let cfg = ctx.spec_config();
        return migration::removed_keys(cfg, v)
            .into_iter()
            .map(|(key, r)| {
                let at = key_pointer(ctx.obj, key)
                    .unwrap_or_else(|| "/spec/flinkConfiguration".to_string());
                hit(at, key, "spec.flinkConfiguration", v, &r)
            })
            .collect();
    }
    if object::kind(ctx.obj) != "ConfigMap" {
        return Vec::new();
    }
    let workloads = ctx.workloads();
    let mut seen = HashSet::new();
    let mut hits = Vec::new();
    for (_, pc) in standalone::users_of(ctx, &workloads, ctx.obj) {
        let (Some(v), Some(f)) = (pc.version, pc.file.as_ref()) else {
            continue;
        };
        let parsed = standalone::parse_file(ctx.subject.context, f);
        if standalone::unreadable(f, &parsed) || !seen.insert(f.key.clone()) {
            continue;
        }
        for (key, r) in migration::removed_keys(&parsed.0, v) {
            let at = format!("/data/{}", pointer::escape(&f.key));
            hits.push(hit(at, key, &f.key, v, &r));
        }
    }
    hits
}

/// FLK315: `check: native: image_tag_floating`.
pub(super) const IMAGE_TAG_FLOATING: Native = Native {
    args: &["image", "version", "pinned"],
    run: image_tag_floating,
};

/// `image` with its tag replaced by `version` (`apache/flink:latest` -> `apache/flink:2.2`).
fn pin(img: &str, version: FlinkVersion) -> String {
    let Some(r) = image::ImageRef::parse(img) else {
        return img.to_string();
    };
    let repo = match r.registry {
        Some(reg) => format!("{reg}/{}", r.repository),
        None => r.repository.to_string(),
    };
    format!("{repo}:{version}")
}

/// FLK315: a Flink image under `latest`, a Scala/Java-only tag or no tag: it runs the newest
/// Flink today and the next release once published, unreviewed.
fn image_tag_floating(ctx: &Ctx<'_>) -> Vec<Hit> {
    let hit = |at: String, img: &str| {
        let Some(Pinned::Floating(v)) = image::pinned(img) else {
            return None;
        };
        Some(
            Hit::at(at)
                .arg("image", img)
                .arg("version", v)
                .arg("pinned", pin(img, v)),
        )
    };
    if is_flink_deployment(ctx) {
        return object::str_at(ctx.obj, "/spec/image")
            .and_then(|img| hit("/spec/image".to_string(), img))
            .into_iter()
            .collect();
    }
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    hit(
        format!("{}/image", pc.container.pointer()),
        pc.container.image(),
    )
    .into_iter()
    .collect()
}
