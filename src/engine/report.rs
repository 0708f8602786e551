//! What a check produces: findings with a rule id, a severity, a one-line message, a JSON
//! pointer into the object, and optionally a fix as RFC 6902 operations.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::flink::object::ObjectRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity '{other}' (expected error, warning or info)"
            )),
        }
    }
}

/// Whether a fix may be applied without asking: `safe` fixes keep the user's intent (the
/// webhook's /mutate applies them), `unsafe` ones change behaviour and are only suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

/// One RFC 6902 operation with an absolute path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    Add { path: String, value: Value },
    Replace { path: String, value: Value },
    Remove { path: String },
}

impl Op {
    pub fn path(&self) -> &str {
        match self {
            Op::Add { path, .. } | Op::Replace { path, .. } | Op::Remove { path } => path,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    pub applicability: Applicability,
    pub title: String,
    /// The operations as the check states them (paths may lead through nodes the object does
    /// not have yet); [`Fix::patch`] gives them materialised.
    pub ops: Vec<Op>,
    /// Whole objects the fix adds next to the subject (a missing JobManager Service):
    /// `flink-lint fix` writes them into the subject's file; the webhook, which can only patch
    /// the object it admits, leaves them to the user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub create: Vec<Value>,
    /// Operations on other objects of the set (the ConfigMap a workload mounts): `flink-lint
    /// fix` writes them into those objects' documents; the webhook, which can only patch the
    /// object it admits, leaves the whole fix out, as it does for `create`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
}

/// Operations on an object other than the subject: which object (its identity and the file it
/// was read from, as the world resolved it), and the operations as the check states them (the
/// caller materialises them against that object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub object: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub ops: Vec<Op>,
    /// The object as the world resolved it: among objects of one identity in one file (the
    /// last applied wins), the one it is.
    #[serde(skip)]
    pub target: Option<std::sync::Arc<Value>>,
}

impl Fix {
    /// Whether the fix reaches beyond the subject (creates objects or edits others): only
    /// `flink-lint fix` applies such a fix, the webhook cannot.
    pub fn beyond_subject(&self) -> bool {
        !self.create.is_empty() || !self.edits.is_empty()
    }

    /// The fix as a patch that applies as it is to `object` (the object the finding is about),
    /// computed as `Engine::fix` computes the webhook's: see `fix::apply`.
    pub fn patch(&self, object: &Value) -> Result<Vec<Op>, super::fix::FixError> {
        super::fix::patch(object, &self.ops)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    pub object: ObjectRef,
    /// JSON pointer (RFC 6901) into the object.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// Everything the engine found for one subject.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Why `Engine::fix` could not do everything it was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum FixProblem {
    /// A safe fix could not be applied (see `fix::FixError`); it was left out, the other fixes
    /// still apply.
    Failed {
        rule: String,
        /// The finding's pointer.
        path: String,
        error: String,
    },
    /// Safe fixes still changed the object after the last round: they undo each other.
    NotConverged { rounds: usize, rules: Vec<String> },
}

impl FixProblem {
    /// One line for a warning or a log.
    pub fn message(&self) -> String {
        match self {
            FixProblem::Failed { rule, path, error } => {
                format!("{rule}: the fix at {path} was not applied: {error}")
            }
            FixProblem::NotConverged { rounds, rules } => format!(
                "the fixes of {} still change the object after {rounds} rounds",
                rules.join(", ")
            ),
        }
    }
}

/// What `Engine::fix` made of a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct FixOutcome {
    /// The object with every safe fix applied (up to the last good state).
    pub object: Value,
    /// RFC 6902 operations from the original object to `object`, materialised: `json_patch`
    /// applies them as they are.
    pub ops: Vec<Op>,
    /// The findings on `object` of the rules whose fixes the loop may apply (the rounds judge
    /// only those rules: no other can change the object). When no fix changed the object and
    /// the caller gave the first round's report, that report as it was given.
    pub report: Report,
    /// Fixes that failed, and non-convergence; empty when everything went well.
    pub problems: Vec<FixProblem>,
    /// Objects the applied fixes create (only when asked for: see `Engine::fix_with`).
    pub created: Vec<Value>,
    /// Operations the applied fixes make on other objects (only when asked for, as `created`).
    pub edited: Vec<Edit>,
}

impl FixOutcome {
    pub fn converged(&self) -> bool {
        !self
            .problems
            .iter()
            .any(|p| matches!(p, FixProblem::NotConverged { .. }))
    }
}
