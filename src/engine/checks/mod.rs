//! Native checks: cross-field and cross-object Flink logic, one function per rule, named by
//! the rule's `check.native`. Each returns [`Hit`]s; the engine turns them into findings.

mod config;
mod flinkdeployment;
pub mod inject;
mod jobmanager;
mod resources;
mod security;
mod session;
pub mod standalone;
mod values;
mod wiring;

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::settings::Settings;
use super::{Hit, Subject};
use crate::flink::object;

pub(super) type CheckFn = fn(&Ctx<'_>) -> Vec<Hit>;

/// Every native check, by the name policies use.
const NATIVE: &[(&str, CheckFn)] = &[
    ("jobmanager_replicas", jobmanager::replicas),
    ("jobmanager_rollout", jobmanager::rollout),
    ("jobmanager_hpa", jobmanager::hpa),
    ("duplicate_jobmanager", jobmanager::duplicate),
    ("jobmanager_service_ports", jobmanager::service_ports),
    ("jobmanager_service_selector", jobmanager::service_selector),
    ("jobmanager_service_missing", jobmanager::service_missing),
    ("flink_config_mount", config::mount),
    ("ambiguous_reference", config::ambiguous_reference),
    ("invalid_value", values::invalid_value),
    ("config_map_not_found", config::config_map_not_found),
    ("config_map_unverified", config::config_map_unverified),
    ("config_map_keys", config::config_map_keys),
    ("flink_config_invalid", config::invalid),
    ("rpc_address", config::rpc_address),
    ("ports_not_fixed", config::ports_not_fixed),
    ("task_slots_unset", config::task_slots_unset),
    (
        "rest_service_exposed",
        flinkdeployment::rest_service_exposed,
    ),
    (
        "log_configuration_unset",
        flinkdeployment::log_configuration_unset,
    ),
    ("ha_storage_dir", config::ha_storage_dir),
    ("container_resources", resources::container_resources),
    ("flinkdeployment_memory", resources::flinkdeployment_memory),
    (
        "process_memory_exceeds_limit",
        resources::process_memory_exceeds_limit,
    ),
    ("run_as_user_range", security::run_as_user_range),
    ("fs_group_range", security::fs_group_range),
    ("selinux_openshift", security::selinux_openshift),
    ("apparmor", security::apparmor),
    ("flink_log_dir", security::log_dir),
    ("flink_numeric_uid", security::flink_numeric_uid),
    ("operator_writable_dirs", security::operator_writable_dirs),
    (
        "flinkdeployment_restricted",
        security::flinkdeployment_restricted,
    ),
    ("flink_conf_dir", security::flink_conf_dir),
    ("flink_host_network", security::flink_host_network),
    ("session_job_target", session::session_job_target),
    ("container_wiring", wiring::container_wiring),
    ("ha_pod_ip", wiring::ha_pod_ip),
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

/// The native check called `name`, looked up once when the engine is built.
pub(super) fn lookup(name: &str) -> Option<CheckFn> {
    NATIVE.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// What a check sees: the subject, the settings, and the world around the subject.
pub struct Ctx<'a> {
    pub subject: &'a Subject<'a>,
    pub obj: &'a Value,
    pub settings: &'a Settings,
    /// What the subject is, classified once per check.
    class: object::Class,
    /// The subject as the world sees it, cloned at most once per check (only when the world
    /// does not hold it already).
    shared: OnceLock<Arc<Value>>,
    /// The subject's standalone Flink setup, resolved once per check for every rule.
    me: OnceLock<Option<standalone::PodConfig<'a>>>,
    /// For a ConfigMap subject: the Flink configuration files its users read, parsed once.
    /// Every standalone workload in sight, listed once per check.
    workloads: OnceLock<Vec<Arc<Value>>>,
    pub(crate) read_files:
        OnceLock<Vec<(standalone::ConfigFile, crate::flink::config::FlinkConfig)>>,
}

impl<'a> Ctx<'a> {
    pub fn new(subject: &'a Subject<'a>, settings: &'a Settings) -> Self {
        Ctx::with_class(subject, settings, object::classify(subject.object))
    }

    /// [`Ctx::new`] for a subject already classified as `class`.
    pub fn with_class(
        subject: &'a Subject<'a>,
        settings: &'a Settings,
        class: object::Class,
    ) -> Self {
        Ctx {
            subject,
            obj: subject.object,
            settings,
            class,
            shared: OnceLock::new(),
            me: OnceLock::new(),
            read_files: OnceLock::new(),
            workloads: OnceLock::new(),
        }
    }

    /// What the subject is ([`object::classify`]), worked out once per check.
    pub fn class(&self) -> object::Class {
        self.class
    }

    /// What `obj` is: the subject's class for the subject, else what the context knows (a
    /// world classifies its objects once), else [`object::classify`].
    pub fn class_of(&self, obj: &Value) -> object::Class {
        if std::ptr::eq(obj, self.obj)
            || self
                .shared
                .get()
                .is_some_and(|s| std::ptr::eq(s.as_ref(), obj))
        {
            return self.class;
        }
        self.subject
            .context
            .class_of(obj)
            .unwrap_or_else(|| object::classify(obj))
    }

    pub fn namespace(&self) -> Option<&'a str> {
        object::namespace(self.obj)
    }

    /// The subject's standalone Flink setup (config file, env, `-D`), resolved once.
    pub fn me(&self) -> Option<&standalone::PodConfig<'a>> {
        self.me
            .get_or_init(|| standalone::resolve(self, self.obj))
            .as_ref()
    }

    /// Objects of a kind around the subject (same namespace, in sight). The subject itself
    /// stands in for any stored copy of it, so the webhook judges the object being admitted,
    /// not the old one.
    pub fn list(&self, group: &str, kind: &str) -> Vec<Arc<Value>> {
        let mine = object::group(self.obj) == group && object::kind(self.obj) == kind;
        let mut out = Vec::new();
        let mut have_me = false;
        for o in self.subject.context.list(group, kind, self.namespace()) {
            if mine && same_identity(&o, self.obj) {
                if std::ptr::eq(o.as_ref(), self.obj) {
                    have_me = true;
                    out.push(o);
                }
                continue;
            }
            out.push(o);
        }
        if mine && !have_me {
            out.push(
                self.shared
                    .get_or_init(|| match self.subject.shared {
                        Some(a) if std::ptr::eq(a.as_ref(), self.obj) => Arc::clone(a),
                        _ => Arc::new(self.obj.clone()),
                    })
                    .clone(),
            );
        }
        out
    }

    /// Like `list`, without the subject.
    pub fn others(&self, group: &str, kind: &str) -> Vec<Arc<Value>> {
        self.subject
            .context
            .list(group, kind, self.namespace())
            .into_iter()
            .filter(|o| !same_identity(o, self.obj))
            .collect()
    }

    pub fn complete(&self, group: &str, kind: &str) -> bool {
        self.subject.context.is_complete(group, kind)
    }

    /// Every standalone workload around the subject (including the subject).
    pub fn workloads(&self) -> Vec<Arc<Value>> {
        self.workloads
            .get_or_init(|| {
                WORKLOAD_KINDS
                    .iter()
                    .flat_map(|k| self.list(k.group, k.kind))
                    .collect()
            })
            .clone()
    }

    /// Where an object of the world was read from, for messages (`prod/flink.yaml`), when
    /// that is not the subject's own file.
    pub fn origin(&self, obj: &Value) -> Option<String> {
        let context = self.subject.context;
        let theirs = context.origin(obj)?;
        (context.origin(self.obj).as_deref() != Some(theirs.as_str())).then_some(theirs)
    }

    /// `Kind/name`, with `from FILE` when it comes from another file.
    pub fn describe(&self, obj: &Value) -> String {
        let r = object::ObjectRef::of(obj).display();
        match self.origin(obj) {
            Some(file) => format!("{r} from {file}"),
            None => r,
        }
    }
}

/// Kinds whose pods can run Flink: the workloads of the kinds table.
pub const WORKLOAD_KINDS: &[crate::flink::kinds::Kind] = crate::flink::kinds::WORKLOADS;

/// Whether `o` is `me` as far as a cluster can tell (same group, kind and name, and a namespace
/// that may be the same).
fn same_identity(o: &Value, me: &Value) -> bool {
    object::kind(o) == object::kind(me)
        && object::name(o) == object::name(me)
        && object::group(o) == object::group(me)
        && object::same_namespace(object::namespace(o), object::namespace(me))
}
