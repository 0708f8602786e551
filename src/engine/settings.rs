//! What a user can change: rule selection, severity overrides, platform, scope, default
//! resources, and how far suppression annotations reach. Read from `.flink-lint.yaml` by the
//! linter and from `--config` by the webhook; the engine only sees the parsed value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::report::Severity;
use super::rule::{Platform, PodSecurity, Registry, Rule, selector_matches};

/// Which objects are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only Flink objects (custom resources, standalone Flink workloads and what they use).
    #[default]
    Flink,
    /// Every workload.
    All,
}

/// A rule's entry under `rules:`: `off` (YAML reads it as `false`), `on`, a severity, or a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleSetting {
    Switch(bool),
    Level(String),
    Table {
        #[serde(default)]
        severity: Option<Severity>,
        #[serde(default)]
        enabled: Option<bool>,
    },
}

/// What the webhook's `/validate` does with a rule's error findings (`enforcement:` in the
/// webhook's `--config`, by rule id, id prefix such as `FLK1` for a family, or rule name; the
/// most specific entry wins). Warnings and info are never denied in any mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Deny on error (the default).
    #[default]
    Enforce,
    /// Errors become admission warnings; the request is allowed.
    Warn,
    /// Allowed without a warning: the rule is only recorded (`auditAnnotations`, metrics, logs,
    /// `flink-admission audit` and its PolicyReports).
    Audit,
}

impl Enforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Enforce => "enforce",
            Enforcement::Warn => "warn",
            Enforcement::Audit => "audit",
        }
    }
}

/// Requests and limits filled in by the resource fixes, per role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDefaults {
    pub cpu: String,
    pub memory: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Standalone JobManager containers and FlinkDeployment `jobManager` (Flink's default
    /// `jobmanager.memory.process.size` is 1600m).
    #[serde(default = "jm_defaults")]
    pub jobmanager: ResourceDefaults,
    /// Standalone TaskManager containers and FlinkDeployment `taskManager` (Flink's default
    /// `taskmanager.memory.process.size` is 1728m).
    #[serde(default = "tm_defaults")]
    pub taskmanager: ResourceDefaults,
    /// Every other container (sidecars, submitters).
    #[serde(default = "other_defaults")]
    pub other: ResourceDefaults,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            jobmanager: jm_defaults(),
            taskmanager: tm_defaults(),
            other: other_defaults(),
        }
    }
}

fn jm_defaults() -> ResourceDefaults {
    ResourceDefaults {
        cpu: "1".into(),
        memory: "1600Mi".into(),
    }
}
fn tm_defaults() -> ResourceDefaults {
    ResourceDefaults {
        cpu: "1".into(),
        memory: "1728Mi".into(),
    }
}
fn other_defaults() -> ResourceDefaults {
    ResourceDefaults {
        cpu: "100m".into(),
        memory: "128Mi".into(),
    }
}

/// The console logging configuration a Flink ConfigMap written by a fix gets, unless
/// `fix.log4j-console` says otherwise.
pub const DEFAULT_LOG4J_CONSOLE: &str = "\
# Console logging (written by flink-lint fix: adjust to your needs)
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
";

/// What the fixes inject and create (`fix:` in `.flink-lint.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FixSettings {
    /// Fixes may create objects (FLK107's JobManager Service, FLK301's ConfigMap): `flink-lint
    /// fix` writes them. `false`: those fixes are left out.
    #[serde(default = "yes")]
    pub create_objects: bool,
    /// FLK301's fix mounts the cluster's ConfigMap at `/opt/flink/conf`.
    #[serde(default = "yes")]
    pub config_mount: bool,
    /// `log4j-console.properties` of a Flink ConfigMap a fix writes.
    #[serde(default = "default_log4j")]
    pub log4j_console: String,
    /// `taskmanager.numberOfTaskSlots` of a Flink ConfigMap a fix writes.
    #[serde(default = "one")]
    pub task_slots: u32,
    /// FLK311: a FlinkDeployment without `spec.logConfiguration` gets `log4j-console.properties`
    /// from `log4j-console`. Off by default: without it the operator mounts its own default
    /// logging configuration, so injecting one only changes something when asked for.
    #[serde(default)]
    pub log_configuration: bool,
}

impl Default for FixSettings {
    fn default() -> Self {
        FixSettings {
            create_objects: true,
            config_mount: true,
            log4j_console: default_log4j(),
            task_slots: 1,
            log_configuration: false,
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_log4j() -> String {
    DEFAULT_LOG4J_CONSOLE.to_string()
}

/// How far `flink-lint.io/ignore` annotations reach.
///
/// An annotation is written by whoever writes the object; the configuration by whoever runs the
/// linter or the webhook. So by default an annotation silences warnings and info only: an error
/// stays an error (its message says the annotation was not honoured) unless the configuration
/// sets `max-severity: error`. A rule whose severity the configuration lowers to `warning` can
/// then be silenced, since that too is the configuration's choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Suppression {
    /// The most severe finding an annotation may silence.
    #[serde(default = "warning_severity", alias = "max_severity")]
    pub max_severity: Severity,
}

impl Default for Suppression {
    fn default() -> Self {
        Suppression {
            max_severity: warning_severity(),
        }
    }
}

fn warning_severity() -> Severity {
    Severity::Warning
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    #[serde(default)]
    pub platform: Platform,
    #[serde(default)]
    pub scope: Scope,
    /// Only these rules (ids, id prefixes or names); empty = all.
    #[serde(default)]
    pub select: Vec<String>,
    /// Never these rules.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule switches and severities.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSetting>,
    #[serde(default)]
    pub resources: Resources,
    /// What the fixes inject and create.
    #[serde(default)]
    pub fix: FixSettings,
    #[serde(default)]
    pub suppression: Suppression,
    /// The Flink Kubernetes Operator version whose validator the FLK5xx rules follow
    /// (`operator-version: "1.15"`; default the newest verified).
    #[serde(default)]
    pub operator_version: crate::flink::operator::OperatorVersion,
    /// Run only the rules declared `admission: true` (the webhook). Not read from files.
    #[serde(skip)]
    pub admission: bool,
    /// The Pod Security Standards level checked on `kubernetes` (`--pod-security`).
    #[serde(default)]
    pub pod_security: PodSecurity,
    /// What OpenShift assigns the namespace, when no Namespace object is in sight.
    #[serde(default)]
    pub openshift: OpenShift,
    /// flink-lint only (the engine ignores it): gitignore-style patterns, relative to the
    /// config file, of paths a directory walk skips.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// flink-lint only: a baseline file (relative to the config file) of findings not reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// CustomResourceDefinitions whose schemas replace the embedded ones (`flink-lint --crd`).
    /// Not read from files.
    #[serde(skip)]
    pub crds: super::structural::Overrides,
    /// The webhook only: what `/validate` does with error findings, per rule selector
    /// (see [`Enforcement`]); rules not named are enforced.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enforcement: BTreeMap<String, Enforcement>,
}

/// The namespace allocations OpenShift's restricted-v2 SCC checks against, as the namespace
/// annotations `openshift.io/sa.scc.uid-range`, `openshift.io/sa.scc.supplemental-groups` and
/// `openshift.io/sa.scc.mcs` write them (`1000680000/10000`, `s0:c26,c15`). A Namespace object in
/// the linted set (or the webhook's cache) wins over these.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OpenShift {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplemental_groups: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcs: Option<String>,
}

impl Settings {
    /// Parse a `.flink-lint.yaml` text.
    pub fn from_yaml(text: &str) -> Result<Settings, String> {
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// Check names against the registry: unknown rule ids and bad levels are errors, so a typo
    /// in a config never silently enables everything.
    pub fn validate(&self, registry: &Registry) -> Result<(), String> {
        for sel in self.select.iter().chain(&self.ignore) {
            if !registry.selector_matches_any(sel) {
                return Err(format!(
                    "'{sel}' does not name any rule (see `flink-lint rules`)"
                ));
            }
        }
        for (key, setting) in &self.rules {
            if !registry.selector_matches_any(key) {
                return Err(format!(
                    "rules.{key}: no such rule (see `flink-lint rules`)"
                ));
            }
            if let RuleSetting::Level(level) = setting
                && level != "off"
                && level.parse::<Severity>().is_err()
            {
                return Err(format!(
                    "rules.{key}: '{level}' is not off, error, warning or info"
                ));
            }
        }
        for key in self.enforcement.keys() {
            if !registry.selector_matches_any(key) {
                return Err(format!(
                    "enforcement.{key}: no such rule or family (see `flink-lint rules`)"
                ));
            }
        }
        Resources::validate(&self.resources)?;
        self.openshift.validate()
    }

    /// The severity a rule reports at, or `None` when it is switched off.
    pub fn effective_severity(&self, rule: &Rule) -> Option<Severity> {
        if self.admission && !rule.admission {
            return None;
        }
        if !self.select.is_empty() && !self.select.iter().any(|s| selector_matches(s, rule)) {
            return None;
        }
        if self.ignore.iter().any(|s| selector_matches(s, rule)) {
            return None;
        }
        let mut base = rule.severity;
        // On Kubernetes, restricted-only checks are warnings unless restricted is asked for.
        if rule.pod_security == Some(PodSecurity::Restricted)
            && self.platform == Platform::Kubernetes
            && self.pod_security == PodSecurity::Baseline
        {
            base = base.min(Severity::Warning);
        }
        let mut severity = Some(base);
        // Prefix entries first, exact ids last, so the most specific wins.
        let mut entries: Vec<_> = self
            .rules
            .iter()
            .filter(|(k, _)| selector_matches(k, rule))
            .collect();
        entries.sort_by_key(|(k, _)| k.len());
        for (_, setting) in entries {
            match setting {
                RuleSetting::Switch(false) => severity = None,
                RuleSetting::Switch(true) => severity = severity.or(Some(base)),
                RuleSetting::Level(l) if l == "off" => severity = None,
                RuleSetting::Level(l) => severity = l.parse().ok().or(severity),
                RuleSetting::Table {
                    severity: s,
                    enabled,
                } => {
                    if *enabled == Some(false) {
                        severity = None;
                    } else {
                        if *enabled == Some(true) && severity.is_none() {
                            severity = Some(base);
                        }
                        if let Some(s) = s {
                            severity = severity.map(|_| *s);
                        }
                    }
                }
            }
        }
        severity
    }
}

impl Settings {
    /// How the webhook enforces `rule`: the most specific `enforcement:` entry naming it
    /// (an exact id or name over a prefix, a longer prefix over a shorter one).
    pub fn enforcement(&self, rule: &Rule) -> Enforcement {
        self.enforcement
            .iter()
            .filter(|(k, _)| selector_matches(k, rule))
            .max_by_key(|(k, _)| (k.trim() == rule.name, k.len()))
            .map(|(_, e)| *e)
            .unwrap_or_default()
    }
}

impl OpenShift {
    fn validate(&self) -> Result<(), String> {
        if let Some(r) = &self.uid_range {
            crate::flink::object::parse_id_blocks(r)
                .filter(|b| b.len() == 1)
                .ok_or_else(|| {
                    format!("openshift.uid-range: '{r}' is not START/SIZE or START-END")
                })?;
        }
        if let Some(r) = &self.supplemental_groups {
            crate::flink::object::parse_id_blocks(r).ok_or_else(|| {
                format!(
                    "openshift.supplemental-groups: '{r}' is not a list of START/SIZE or START-END"
                )
            })?;
        }
        Ok(())
    }
}

impl Resources {
    fn validate(&self) -> Result<(), String> {
        use crate::flink::quantity::parse_k8s_quantity;
        for (role, d) in [
            ("jobmanager", &self.jobmanager),
            ("taskmanager", &self.taskmanager),
            ("other", &self.other),
        ] {
            parse_k8s_quantity(&d.cpu).map_err(|e| format!("resources.{role}.cpu: {e}"))?;
            parse_k8s_quantity(&d.memory).map_err(|e| format!("resources.{role}.memory: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> Rule {
        Registry::embedded().unwrap().get(id).cloned().unwrap()
    }

    #[test]
    fn off_on_levels_and_prefixes() {
        let s = Settings::from_yaml(
            "rules:\n  FLK1: warning\n  FLK101: error\n  FLK102: off\n  FLK4: {severity: info}\n  FLK401: {enabled: false}\n",
        )
        .unwrap();
        s.validate(Registry::embedded().unwrap()).unwrap();
        assert_eq!(s.effective_severity(&rule("FLK101")), Some(Severity::Error));
        assert_eq!(
            s.effective_severity(&rule("FLK103")),
            Some(Severity::Warning)
        );
        assert_eq!(s.effective_severity(&rule("FLK102")), None);
        assert_eq!(s.effective_severity(&rule("FLK403")), Some(Severity::Info));
        assert_eq!(s.effective_severity(&rule("FLK401")), None);
        let sel = Settings {
            select: vec!["FLK3".into()],
            ignore: vec!["task-slots-unset".into()],
            ..Settings::default()
        };
        assert_eq!(sel.effective_severity(&rule("FLK101")), None);
        assert_eq!(sel.effective_severity(&rule("FLK308")), None);
        assert_eq!(
            sel.effective_severity(&rule("FLK304")),
            Some(Severity::Error)
        );
    }

    #[test]
    fn operator_version_is_read_as_text_or_number_and_checked() {
        use crate::flink::operator::OperatorVersion;
        assert_eq!(
            Settings::default().operator_version,
            OperatorVersion::NEWEST
        );
        let s = Settings::from_yaml("operator-version: \"1.13.0\"\n").unwrap();
        assert_eq!(s.operator_version.to_string(), "1.13");
        let s = Settings::from_yaml("operator-version: 1.15\n").unwrap();
        assert_eq!(s.operator_version.to_string(), "1.15");
        let s = Settings::from_yaml("operator-version: 1.10\n").unwrap();
        assert_eq!(s.operator_version.to_string(), "1.10");
        let e = Settings::from_yaml("operator-version: \"1.8\"\n").unwrap_err();
        assert!(e.contains("1.10 to 1.16"), "{e}");
        assert!(Settings::from_yaml("operator-version: 2.0\n").is_err());
    }

    #[test]
    fn enforcement_by_family_id_and_name_most_specific_wins() {
        let s = Settings::from_yaml(
            "enforcement:\n  FLK1: audit\n  FLK10: warn\n  FLK101: enforce\n  FLK2: audit\n  FLK3: warn\n",
        )
        .unwrap();
        s.validate(Registry::embedded().unwrap()).unwrap();
        assert_eq!(s.enforcement(&rule("FLK101")), Enforcement::Enforce);
        assert_eq!(s.enforcement(&rule("FLK102")), Enforcement::Warn);
        assert_eq!(s.enforcement(&rule("FLK201")), Enforcement::Audit);
        assert_eq!(s.enforcement(&rule("FLK304")), Enforcement::Warn);
        assert_eq!(s.enforcement(&rule("FLK401")), Enforcement::Enforce);
        let name = rule("FLK304").name;
        let s =
            Settings::from_yaml(&format!("enforcement:\n  FLK3: warn\n  {name}: audit\n")).unwrap();
        assert_eq!(s.enforcement(&rule("FLK304")), Enforcement::Audit);
        assert_eq!(s.enforcement(&rule("FLK301")), Enforcement::Warn);
        let bad = Settings::from_yaml("enforcement:\n  FLK9: warn\n").unwrap();
        assert!(
            bad.validate(Registry::embedded().unwrap())
                .unwrap_err()
                .contains("enforcement.FLK9")
        );
        assert!(Settings::from_yaml("enforcement:\n  FLK1: loud\n").is_err());
    }

    #[test]
    fn typos_are_errors() {
        let registry = Registry::embedded().unwrap();
        let s = Settings::from_yaml("rules:\n  FLK777: off\n").unwrap();
        assert!(s.validate(registry).unwrap_err().contains("FLK777"));
        let s = Settings::from_yaml("rules:\n  FLK101: loud\n").unwrap();
        assert!(s.validate(registry).unwrap_err().contains("loud"));
        assert!(Settings::from_yaml("platfrom: openshift\n").is_err());
        let s = Settings::from_yaml("resources:\n  jobmanager: {cpu: one, memory: 1Gi}\n").unwrap();
        assert!(
            s.validate(registry)
                .unwrap_err()
                .contains("resources.jobmanager.cpu")
        );
    }
}

#[cfg(test)]
mod readme_tests {
    use super::*;

    /// The `.flink-lint.yaml` example in README.md is accepted as written, and means what the
    /// README says it means.
    #[test]
    fn the_readme_configuration_example_is_valid() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("### Configuration: `.flink-lint.yaml`")
            .expect("README has the configuration section");
        let block = &readme[start..];
        let open = block.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
        let close = block[open..].find("```").expect("the block ends") + open;
        let settings = Settings::from_yaml(&block[open..close]).expect("README example parses");
        settings
            .validate(crate::engine::Registry::embedded().expect("embedded rules"))
            .expect("README example names real rules");
        assert_eq!(settings.suppression.max_severity, Severity::Error);
        assert_eq!(settings.platform, Platform::Openshift);
        assert!(settings.ignore.iter().any(|r| r == "FLK308"));
    }
}
