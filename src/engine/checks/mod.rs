//! Native checks: cross-field and cross-object Flink logic, one function per rule, named by
//! the rule's `check.native`. Each returns [`Hit`]s; the engine turns them into findings.

mod config;
mod jobmanager;
mod resources;
pub mod standalone;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::settings::Settings;
use super::{Hit, Subject};
use crate::flink::object;

type CheckFn = fn(&Ctx<'_>) -> Vec<Hit>;

/// Every native check, by the name policies use.
const NATIVE: &[(&str, CheckFn)] = &[
    ("jobmanager_replicas", jobmanager::replicas),
    ("jobmanager_rollout", jobmanager::rollout),
    ("jobmanager_hpa", jobmanager::hpa),
    ("duplicate_jobmanager", jobmanager::duplicate),
    ("jobmanager_service_ports", jobmanager::service_ports),
    ("jobmanager_service_selector", jobmanager::service_selector),
    ("flink_config_mount", config::mount),
    ("config_map_not_found", config::config_map_not_found),
    ("config_map_unverified", config::config_map_unverified),
    ("config_map_keys", config::config_map_keys),
    ("flink_config_invalid", config::invalid),
    ("rpc_address", config::rpc_address),
    ("ports_not_fixed", config::ports_not_fixed),
    ("task_slots_unset", config::task_slots_unset),
    ("ha_storage_dir", config::ha_storage_dir),
    ("container_resources", resources::container_resources),
    ("flinkdeployment_memory", resources::flinkdeployment_memory),
    (
        "process_memory_exceeds_limit",
        resources::process_memory_exceeds_limit,
    ),
];

/// Checks the engine itself answers (they need what only the engine has).
const BUILTIN: &[&str] = &["invalid_ignore"];

pub fn exists(name: &str) -> bool {
    BUILTIN.contains(&name) || NATIVE.iter().any(|(n, _)| *n == name)
}

/// Names of every native check, for the test that each is used by a policy.
pub fn names() -> impl Iterator<Item = &'static str> {
    NATIVE
        .iter()
        .map(|(n, _)| *n)
        .chain(BUILTIN.iter().copied())
}

pub(super) fn run(name: &str, ctx: &Ctx<'_>) -> Vec<Hit> {
    NATIVE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f(ctx))
        .unwrap_or_default()
}

/// What a check sees: the subject, the settings, and the world around the subject.
pub struct Ctx<'a> {
    pub subject: &'a Subject<'a>,
    pub obj: &'a Value,
    pub settings: &'a Settings,
    /// The subject as the world sees it, cloned at most once per check.
    shared: OnceLock<Arc<Value>>,
}

impl<'a> Ctx<'a> {
    pub fn new(subject: &'a Subject<'a>, settings: &'a Settings) -> Self {
        Ctx {
            subject,
            obj: subject.object,
            settings,
            shared: OnceLock::new(),
        }
    }

    pub fn namespace(&self) -> Option<&'a str> {
        object::namespace(self.obj)
    }

    /// Objects of a kind around the subject (same namespace). The subject itself stands in for
    /// any stored copy of it, so the webhook judges the object being admitted, not the old one.
    /// When several objects share an identity (files applied in order), the last one wins, as
    /// with `kubectl apply -f`.
    pub fn list(&self, group: &str, kind: &str) -> Vec<Arc<Value>> {
        let mut out = self.others(group, kind);
        if object::group(self.obj) == group && object::kind(self.obj) == kind {
            out.push(
                self.shared
                    .get_or_init(|| Arc::new(self.obj.clone()))
                    .clone(),
            );
        }
        out
    }

    /// Like `list`, without the subject.
    pub fn others(&self, group: &str, kind: &str) -> Vec<Arc<Value>> {
        let me = object::ObjectRef::of(self.obj);
        let all = self.subject.context.list(group, kind, self.namespace());
        let mut out: Vec<Arc<Value>> = Vec::with_capacity(all.len());
        let mut seen: HashMap<object::ObjectRef, usize> = HashMap::new();
        for o in all.into_iter().filter(|o| !same_identity(o, &me)) {
            match seen.entry(object::ObjectRef::of(&o)) {
                Entry::Occupied(e) => out[*e.get()] = o,
                Entry::Vacant(e) => {
                    e.insert(out.len());
                    out.push(o);
                }
            }
        }
        out
    }

    pub fn complete(&self, group: &str, kind: &str) -> bool {
        self.subject.context.is_complete(group, kind)
    }

    /// Every standalone workload around the subject (including the subject).
    pub fn workloads(&self) -> Vec<Arc<Value>> {
        WORKLOAD_KINDS
            .iter()
            .flat_map(|k| self.list(k.group, k.kind))
            .collect()
    }
}

/// Kinds whose pods can run Flink: the workloads of the kinds table.
pub const WORKLOAD_KINDS: &[crate::flink::kinds::Kind] = crate::flink::kinds::WORKLOADS;

fn same_identity(o: &Value, me: &object::ObjectRef) -> bool {
    object::kind(o) == me.kind
        && object::name(o) == me.name
        && object::group(o) == object::group_of(&me.api_version)
        && object::same_namespace(object::namespace(o), me.namespace.as_deref())
}
