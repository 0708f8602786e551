//! Rules are data: one `policies/FLKnnn-name.yaml` per rule, embedded in the binaries and
//! validated against `policies/rule.schema.json` by the test suite.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::checks;
use super::report::{Applicability, Op, Severity};
use crate::flink::kinds::{self, Kind};

static POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// Which objects a rule looks at. An object gets every target that fits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    FlinkDeployment,
    FlinkSessionJob,
    FlinkStateSnapshot,
    FlinkBlueGreenDeployment,
    /// A standalone JobManager workload.
    Jobmanager,
    /// A standalone TaskManager workload.
    Taskmanager,
    /// Any standalone Flink workload (JobManager, TaskManager, or another Flink-image job).
    FlinkWorkload,
    /// Any workload: Flink ones, and with `--scope all` every other one too.
    Workload,
    /// The Flink Kubernetes Operator's own Deployment.
    Operator,
    ConfigMap,
    Service,
    HorizontalPodAutoscaler,
    /// `autoscaling/v1 Scale` sent to a workload's `/scale` subresource.
    Scale,
    /// Every object the engine judges (meta rules such as malformed suppressions).
    Any,
    /// Objects of the other kinds (a Namespace, ServiceAccount, Role, an unknown kind of
    /// flink.apache.org): the structural rules judge those that have a schema.
    Other,
}

/// The platform objects are judged for: the one platform type of the project (a rule that runs
/// on both has none, [`Rule::platform`]; `--platform auto` is a [`PlatformChoice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[default]
    Openshift,
    Kubernetes,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Openshift => "openshift",
            Platform::Kubernetes => "kubernetes",
        }
    }

    /// A rule's platform as policies and listings write it: `any` for none.
    pub fn name(platform: Option<Platform>) -> &'static str {
        platform.map_or("any", Platform::as_str)
    }

    /// The API group OpenShift's SecurityContextConstraints live in.
    pub const OPENSHIFT_SCC_GROUP: &'static str = "security.openshift.io";

    /// `--platform auto`: OpenShift when the API server serves `security.openshift.io` (its
    /// discovery document, `/apis`, lists the group), plain Kubernetes otherwise.
    pub fn from_api_groups<'a>(groups: impl IntoIterator<Item = &'a str>) -> Platform {
        if groups
            .into_iter()
            .any(|g| g.trim() == Self::OPENSHIFT_SCC_GROUP)
        {
            Platform::Openshift
        } else {
            Platform::Kubernetes
        }
    }
}

/// `--platform auto|openshift|kubernetes` of the webhook and its manifests: a platform, or
/// `Auto` (the server detects it from the cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlatformChoice {
    #[default]
    Auto,
    Fixed(Platform),
}

impl PlatformChoice {
    /// What `--platform` takes.
    pub const VALUES: [&'static str; 3] = ["auto", "openshift", "kubernetes"];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformChoice::Auto => "auto",
            PlatformChoice::Fixed(p) => p.as_str(),
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "openshift" => Ok(Platform::Openshift),
            "kubernetes" => Ok(Platform::Kubernetes),
            _ => Err(format!("'{s}' is not a platform: openshift or kubernetes")),
        }
    }
}

impl std::str::FromStr for PlatformChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(PlatformChoice::Auto),
            _ => s
                .parse()
                .map(PlatformChoice::Fixed)
                .map_err(|_| format!("'{s}' is not a platform: auto, openshift or kubernetes")),
        }
    }
}

/// The Pod Security Standards level a check belongs to (`--pod-security`). On `kubernetes`, a
/// `restricted` rule reports at most a warning unless the level asked for is `restricted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurity {
    #[default]
    Baseline,
    Restricted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Preview,
    Stable,
    Deprecated,
    Removed,
}

/// The docs sections, as ruff writes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    pub what_it_does: String,
    pub why_is_this_bad: String,
    pub example: String,
    pub use_instead: String,
    pub fix_safety: String,
}

/// How a rule decides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
pub enum Check {
    /// Cross-field Flink logic in Rust: the name of a function in `engine::checks`.
    Native { native: String },
    /// A JSON Schema each target node must satisfy.
    Schema {
        schema: Value,
        /// Which nodes of the object the schema applies to.
        #[serde(default)]
        each: Each,
    },
}

/// Where a schema check applies inside an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Each {
    /// The object itself.
    #[default]
    Object,
    /// Every container (`initContainers`, `containers`, `ephemeralContainers`) of every pod
    /// spec the object has.
    Container,
    /// Every pod spec the object has.
    PodSpec,
    /// Every pod spec and every container: for checks on `securityContext` fields that both
    /// levels have (`runAsUser`, `seccompProfile`, `seLinuxOptions`, ...).
    PodSpecAndContainer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixSpec {
    pub applicability: Applicability,
    /// What the fix does, one line ("Switch the strategy to Recreate").
    pub title: String,
    /// Declarative RFC 6902 operations, relative to the node a schema check applied to
    /// (`""` path = that node; a `*` token takes the failing field's token at that depth).
    /// Absent for native rules, whose function computes them. An operation that cannot be read
    /// is an error when the rules load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<Op>>,
    /// The fix creates whole objects next to the subject (`flink-lint fix` writes them); the
    /// webhook's `/mutate`, which can only patch the object it admits, cannot apply it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creates_objects: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub family: String,
    pub severity: Severity,
    pub status: Status,
    pub targets: Vec<Target>,
    /// Whether the webhook runs this rule. The kinds it is registered for follow from
    /// `targets` ([`Rule::registrations`]); `false` rules run only in `flink-lint`.
    pub admission: bool,
    /// The platform the rule runs on; none (`any` in the file): both.
    #[serde(default, with = "rule_platform")]
    pub platform: Option<Platform>,
    /// The Pod Security Standards level the rule checks (security rules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security: Option<PodSecurity>,
    /// Admission operations the rule matters for; empty = CREATE and UPDATE.
    #[serde(default)]
    pub operations: Vec<String>,
    pub summary: String,
    /// One line; `{name}` placeholders are filled from what the check reports.
    pub message: String,
    /// `message`, read once when the rules load.
    #[serde(skip)]
    pub template: Template,
    /// The native check `check` names, found once when the rules load.
    #[serde(skip)]
    pub native: Option<&'static checks::Native>,
    pub check: Check,
    #[serde(default)]
    pub fix: Option<FixSpec>,
    pub docs: Docs,
    /// For a rule that mirrors the Flink Kubernetes Operator's own validation: what the operator
    /// says, so `explain` shows its message beside ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorParity>,
}

/// The operator check a rule mirrors.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorParity {
    /// The operator version whose behaviour the rule follows (`1.16`).
    pub version: String,
    /// Where the operator checks it (`DefaultValidator.validateIngress`).
    pub source: String,
    /// The operator's messages, verbatim (`%s` where it fills in a value).
    pub messages: Vec<String>,
}

/// A rule's `platform:`: `openshift`, `kubernetes`, or `any` (the default) for none.
mod rule_platform {
    use super::Platform;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<Platform>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Platform::name(*p))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Platform>, D::Error> {
        match String::deserialize(d)?.as_str() {
            "any" => Ok(None),
            other => other.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}

impl Target {
    /// The kinds an object offering this target can be (the kinds table, `flink::kinds`).
    pub fn kinds(self) -> Vec<&'static Kind> {
        let find = |group: &str, kind: &str| kinds::find(group, kind).into_iter().collect();
        let cr = |kind: &str| find(crate::flink::object::FLINK_GROUP, kind);
        match self {
            Target::FlinkDeployment => cr("FlinkDeployment"),
            Target::FlinkSessionJob => cr("FlinkSessionJob"),
            Target::FlinkStateSnapshot => cr("FlinkStateSnapshot"),
            Target::FlinkBlueGreenDeployment => cr("FlinkBlueGreenDeployment"),
            Target::Jobmanager
            | Target::Taskmanager
            | Target::FlinkWorkload
            | Target::Workload
            | Target::Operator => kinds::WORKLOADS.iter().collect(),
            Target::ConfigMap => find("", "ConfigMap"),
            Target::Service => find("", "Service"),
            Target::HorizontalPodAutoscaler => find("autoscaling", "HorizontalPodAutoscaler"),
            Target::Scale => find("autoscaling", "Scale"),
            Target::Any => kinds::FLINK_RESOURCES
                .iter()
                .chain(kinds::WORKLOADS)
                .collect(),
            Target::Other => find("", "Namespace"),
        }
    }
}

/// One resource the webhook configurations must send for a rule: `group`, the resource
/// (`deployments`, or `deployments/scale` for a subresource) and the operations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Registration {
    pub group: &'static str,
    pub resource: String,
    pub operation: String,
}

impl std::fmt::Display for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        write!(f, "{} {} {}", self.operation, group, self.resource)
    }
}

impl Rule {
    /// The rule as read from its file, checked against its check and with its message read:
    /// a native check must exist and its arguments must be exactly the message's placeholders;
    /// a schema check offers `value` and `where` (and `container` when it judges containers);
    /// declared fix operations must have JSON pointer paths.
    fn loaded(mut self) -> Result<Rule, String> {
        self.template = Template::parse(&self.message);
        let offered: Vec<&str> = match &self.check {
            Check::Native { native } => {
                let check = checks::find(native)
                    .ok_or_else(|| format!("no native check named {native}"))?;
                self.native = Some(check);
                let mut named: Vec<&str> = self.template.args().collect();
                let mut set = check.args.to_vec();
                named.sort_unstable();
                named.dedup();
                set.sort_unstable();
                if named != set {
                    return Err(format!(
                        "the message's placeholders {{{}}} are not the arguments check {native} sets {{{}}}",
                        named.join("}, {"),
                        set.join("}, {")
                    ));
                }
                set
            }
            Check::Schema { each, .. } => match each {
                Each::Container => vec!["value", "where", "container"],
                _ => vec!["value", "where"],
            },
        };
        if let Some(unknown) = self.template.args().find(|a| !offered.contains(a)) {
            return Err(format!(
                "the message's placeholder {{{unknown}}} is not set by its check (it offers {{{}}})",
                offered.join("}, {")
            ));
        }
        for op in self.fix.iter().flat_map(|f| f.ops.iter().flatten()) {
            if crate::flink::pointer::tokens(op.path()).is_none() {
                return Err(format!(
                    "fix operation path '{}' is not a JSON pointer",
                    op.path()
                ));
            }
        }
        Ok(self)
    }

    pub fn fixable(&self) -> bool {
        self.fix.is_some()
    }

    /// Whether the rule has a fix `/mutate` applies.
    /// A safe fix `/mutate` can apply (a patch of the object, not new objects).
    pub fn safe_fix(&self) -> bool {
        self.fix
            .as_ref()
            .is_some_and(|f| f.applicability == Applicability::Safe && !f.creates_objects)
    }

    /// Every kind the rule judges (in `flink-lint`), in kinds-table order.
    pub fn kinds(&self) -> Vec<&'static Kind> {
        let wanted: Vec<&'static Kind> = self.targets.iter().flat_map(|t| t.kinds()).collect();
        kinds::all().filter(|k| wanted.contains(k)).collect()
    }

    /// The kinds the webhook judges for this rule: none unless `admission`, and only kinds the
    /// webhook registers (`Kind::admitted`).
    pub fn admission_kinds(&self) -> Vec<&'static Kind> {
        if !self.admission {
            return Vec::new();
        }
        self.kinds().into_iter().filter(|k| k.admitted).collect()
    }

    /// The operations the rule matters for (`operations`, or CREATE and UPDATE).
    pub fn effective_operations(&self) -> Vec<&str> {
        if self.operations.is_empty() {
            vec!["CREATE", "UPDATE"]
        } else {
            self.operations.iter().map(String::as_str).collect()
        }
    }

    /// What the webhook configurations must send for this rule. A `Scale` is what
    /// `kubectl scale` sends (UPDATE of `<plural>/scale`) for every admitted workload kind with a
    /// scale subresource.
    pub fn registrations(&self) -> Vec<Registration> {
        let mut out = Vec::new();
        for k in self.admission_kinds() {
            if k.group == "autoscaling" && k.kind == "Scale" {
                for w in kinds::WORKLOADS.iter().filter(|w| w.scale && w.admitted) {
                    if self.effective_operations().contains(&"UPDATE") {
                        out.push(Registration {
                            group: w.group,
                            resource: format!("{}/scale", w.plural),
                            operation: "UPDATE".into(),
                        });
                    }
                }
                continue;
            }
            for op in self.effective_operations() {
                out.push(Registration {
                    group: k.group,
                    resource: k.plural.to_string(),
                    operation: op.to_string(),
                });
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The rule's docs as `flink-lint explain` prints them (Markdown).
    pub fn explain(&self) -> String {
        let d = &self.docs;
        let mut out = format!(
            "# {} ({})\n\nFamily: {}. Default severity: {}. Status: {}. Platform: {}. Fix: {}.\n\n{}\n",
            self.name,
            self.id,
            self.family,
            self.severity.as_str(),
            serde_json::to_value(self.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            Platform::name(self.platform),
            match &self.fix {
                Some(f) => format!(
                    "{} ({})",
                    f.title,
                    match f.applicability {
                        Applicability::Safe => "safe",
                        Applicability::Unsafe => "unsafe",
                    }
                ),
                None => "none".to_string(),
            },
            self.summary.trim(),
        );
        if let Some(op) = &self.operator {
            out.push_str(&format!(
                "\n## Messages\n\nflink-lint: {}\n\nFlink Kubernetes Operator {} (`{}`):\n",
                self.message.trim(),
                op.version,
                op.source
            ));
            for m in &op.messages {
                out.push_str(&format!("- {m}\n"));
            }
        }
        for (title, body) in [
            ("What it does", &d.what_it_does),
            ("Why is this bad?", &d.why_is_this_bad),
            ("Example", &d.example),
            ("Use instead", &d.use_instead),
            ("Fix safety", &d.fix_safety),
        ] {
            let body = body.trim_end();
            if title == "Example" || title == "Use instead" {
                out.push_str(&format!("\n## {title}\n\n```yaml\n{body}\n```\n"));
            } else {
                out.push_str(&format!("\n## {title}\n\n{body}\n"));
            }
        }
        out
    }
}

/// A message read once: text, and `{name}` placeholders filled from a hit's arguments in one
/// pass (a value is never read as a template again). Any other brace is text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Arg(String),
}

impl Template {
    pub fn parse(message: &str) -> Template {
        let text = message.trim();
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
                literal.push_str(&rest[..open]);
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Arg(after[..name_len].to_string()));
                rest = &after[name_len + 1..];
            } else {
                literal.push_str(&rest[..=open]);
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Template { pieces }
    }

    /// The placeholders, in order (a name used twice is listed twice).
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Arg(a) => Some(a.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The message with each placeholder replaced by the argument of that name. A placeholder
    /// no argument fills (the registry makes that a bug of the check) stays as written.
    pub fn render(&self, args: &[(&'static str, String)]) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Arg(name) => match args.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
}

/// Every rule, in id order.
#[derive(Debug)]
pub struct Registry {
    rules: Vec<Rule>,
    by_id: BTreeMap<String, usize>,
}

impl Registry {
    /// The rules built into this binary.
    pub fn embedded() -> Result<&'static Registry, String> {
        static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();
        REGISTRY
            .get_or_init(|| {
                let files = POLICIES
                    .files()
                    .filter(|f| {
                        f.path()
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("FLK") && n.ends_with(".yaml"))
                    })
                    .map(|f| {
                        (
                            f.path().display().to_string(),
                            f.contents_utf8().unwrap_or("").to_string(),
                        )
                    })
                    .collect::<Vec<_>>();
                Registry::from_sources(&files)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Raw policy files built into this binary: (file name, text), for schema validation.
    pub fn embedded_sources() -> Vec<(String, String)> {
        POLICIES
            .files()
            .map(|f| {
                (
                    f.path().display().to_string(),
                    f.contents_utf8().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// Build a registry from (file name, YAML text) pairs.
    pub fn from_sources(files: &[(String, String)]) -> Result<Registry, String> {
        let mut rules = Vec::new();
        for (file, text) in files {
            let rule: Rule = serde_saphyr::from_str(text).map_err(|e| format!("{file}: {e}"))?;
            let expected = format!("{}-{}.yaml", rule.id, rule.name);
            if !file.ends_with(&expected) {
                return Err(format!("{file}: a rule file must be named {expected}"));
            }
            rules.push(rule.loaded().map_err(|e| format!("{file}: {e}"))?);
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let mut by_id = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            if by_id.insert(r.id.clone(), i).is_some() {
                return Err(format!("rule id {} is used twice", r.id));
            }
        }
        Ok(Registry { rules, by_id })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        let key = id.trim().to_ascii_uppercase();
        self.by_id
            .get(&key)
            .map(|&i| &self.rules[i])
            .or_else(|| self.rules.iter().find(|r| r.name == id.trim()))
    }

    /// Whether `selector` (an id, an id prefix such as `FLK1`, or a rule name) names any rule.
    pub fn selector_matches_any(&self, selector: &str) -> bool {
        self.rules.iter().any(|r| selector_matches(selector, r))
    }
}

/// `FLK101`, `FLK1` (prefix), `flk10`, or the rule's name.
pub fn selector_matches(selector: &str, rule: &Rule) -> bool {
    let s = selector.trim();
    !s.is_empty() && (rule.id.starts_with(&s.to_ascii_uppercase()) || rule.name == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_from_api_groups() {
        assert_eq!(
            Platform::from_api_groups(["apps", "security.openshift.io", "route.openshift.io"]),
            Platform::Openshift
        );
        assert_eq!(
            Platform::from_api_groups(["apps", "batch", "flink.apache.org"]),
            Platform::Kubernetes
        );
        // a look-alike group is not OpenShift's
        assert_eq!(
            Platform::from_api_groups(["security.openshift.io.example.com"]),
            Platform::Kubernetes
        );
        assert_eq!(Platform::from_api_groups([]), Platform::Kubernetes);
    }

    fn policy(file: &str) -> String {
        Registry::embedded_sources()
            .into_iter()
            .find(|(f, _)| f.ends_with(file))
            .map(|(_, text)| text)
            .unwrap()
    }

    fn load(file: &str, text: String) -> Result<Registry, String> {
        Registry::from_sources(&[(file.to_string(), text)])
    }

    #[test]
    fn messages_fill_in_one_pass() {
        let t = Template::parse("  sysctl {value} in {where}: {x} {nope {} {Up} done ");
        assert_eq!(t.args().collect::<Vec<_>>(), ["value", "where", "x"]);
        // A value that looks like a placeholder is text, not read again.
        let out = t.render(&[
            ("value", "{where}".to_string()),
            ("where", "the pod".to_string()),
        ]);
        assert_eq!(out, "sysctl {where} in the pod: {x} {nope {} {Up} done");
    }

    #[test]
    fn a_message_must_name_exactly_its_native_checks_arguments() {
        const FILE: &str = "FLK101-jobmanager-replicas-without-ha.yaml";
        assert!(load(FILE, policy(FILE)).is_ok());
        let missing = policy(FILE).replace("{what} is {replicas}", "{what} is many");
        let err = load(FILE, missing).unwrap_err();
        assert!(
            err.contains("FLK101") && err.contains("{replicas}"),
            "{err}"
        );
        let extra = policy(FILE).replace("{what} is {replicas}", "{what} is {replica}");
        let err = load(FILE, extra).unwrap_err();
        assert!(err.contains("{replica}"), "{err}");
        let unknown =
            policy(FILE).replace("native: jobmanager_replicas", "native: jobmanager_replica");
        assert!(
            load(FILE, unknown)
                .unwrap_err()
                .contains("no native check named jobmanager_replica")
        );
    }

    #[test]
    fn a_schema_message_uses_only_what_schema_checks_offer() {
        const POD: &str = "FLK202-host-namespaces.yaml";
        let err = load(
            POD,
            policy(POD).replace("the pod shares", "{container} shares"),
        )
        .unwrap_err();
        assert!(
            err.contains("{container}") && err.contains("{value}, {where}"),
            "{err}"
        );
        const CONTAINER: &str = "FLK201-privileged-container.yaml";
        assert!(load(CONTAINER, policy(CONTAINER)).is_ok());
    }

    #[test]
    fn fix_operations_are_read_when_the_rules_load() {
        const FILE: &str = "FLK208-capabilities-not-dropped.yaml";
        let text = policy(FILE);
        let bad_op = text.replace(r#"{"op": "add", "path""#, r#"{"op": "append", "path""#);
        assert_ne!(bad_op, text);
        let err = load(FILE, bad_op).unwrap_err();
        assert!(err.contains(FILE) && err.contains("append"), "{err}");
        let bad_path = text.replace(r#""path": "/*/*/"#, r#""path": "*/*/"#);
        assert_ne!(bad_path, text);
        let err = load(FILE, bad_path).unwrap_err();
        assert!(err.contains("not a JSON pointer"), "{err}");
        let native_fix = text.replace(
            "  applicability: safe\n",
            "  applicability: safe\n  native: x\n",
        );
        assert_ne!(native_fix, text);
        assert!(load(FILE, native_fix).unwrap_err().contains("native"));
    }
}
