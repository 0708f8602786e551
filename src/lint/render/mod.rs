//! Output formats: human (rustc-like), JSON, SARIF 2.1.0, JUnit XML; and the rule listing.

mod human;
mod junit;
mod sarif;

pub use human::{human, human_with_fix_problems};
pub use junit::junit;
pub use sarif::sarif;

use serde_json::{Value, json};

use super::{Located, Outcome};
use crate::engine::{FixProblem, Op, Registry};
use crate::flink::object::ObjectRef;

/// What applying every safe fix to one object ran into (`Engine::fix`'s problems): a fix that
/// could not be applied, or fixes that do not converge.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObjectFixProblem {
    pub file: String,
    pub object: ObjectRef,
    #[serde(flatten)]
    pub problem: FixProblem,
}

/// The object a finding is about, as read from its file (a `List`'s items included). Two
/// objects of one file with the same identity are told apart by where the finding sits.
fn object_of<'a>(outcome: &'a Outcome, l: &Located) -> Option<&'a Value> {
    let file = outcome.files.iter().find(|f| f.name == l.file)?;
    let mut first = None;
    for doc in &file.source.documents {
        let items = doc
            .value
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| (format!("/items/{i}"), v));
        for (prefix, v) in std::iter::once((String::new(), &doc.value)).chain(items) {
            if ObjectRef::of(v) != l.finding.object {
                continue;
            }
            let at = doc.spans.locate(&format!("{prefix}{}", l.finding.path));
            if (at.line, at.column) == (l.line, l.column) {
                return Some(v);
            }
            first.get_or_insert(v);
        }
    }
    first
}

/// A finding's fix as the RFC 6902 patch that applies as it is to the object as read: the
/// engine's materialised operations (the same the webhook sends), or why there is none.
pub fn patch(outcome: &Outcome, l: &Located) -> Option<Result<Vec<Op>, String>> {
    let fix = l.finding.fix.as_ref()?;
    Some(match object_of(outcome, l) {
        Some(object) => fix.patch(object).map_err(|e| e.to_string()),
        None => Err("the object is not in the inputs".to_string()),
    })
}

/// The JSON document: `findings`, `errors`, `fix_problems`, `summary`.
pub fn json(outcome: &Outcome) -> String {
    json_with_fix_problems(outcome, &[])
}

/// [`json`], with what applying the safe fixes ran into.
pub fn json_with_fix_problems(outcome: &Outcome, fix_problems: &[ObjectFixProblem]) -> String {
    let findings: Vec<_> = outcome
        .findings
        .iter()
        .map(|l| {
            let f = &l.finding;
            let patch = patch(outcome, l);
            json!({
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity,
                "message": f.message,
                "file": l.file,
                "line": l.line,
                "column": l.column,
                "object": f.object,
                "path": f.path,
                "fix": f.fix.is_some(),
                "fix_applicability": f.fix.as_ref().map(|x| x.applicability),
                "fix_title": f.fix.as_ref().map(|x| x.title.clone()),
                "patch": patch.as_ref().and_then(|p| p.as_ref().ok()),
                "fix_error": patch.as_ref().and_then(|p| p.as_ref().err()),
            })
        })
        .collect();
    let doc = json!({
        "findings": findings,
        "errors": outcome.errors,
        "fix_problems": fix_problems,
        "summary": outcome.summary(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// `flink-lint rules`: a table, or JSON.
pub fn rules(registry: &Registry, as_json: bool) -> String {
    if as_json {
        let list: Vec<_> = registry
            .rules()
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.name,
                    "severity": r.severity,
                    "family": r.family,
                    "status": r.status,
                    "platform": r.platform,
                    "fixable": r.fixable(),
                    "summary": r.summary.trim(),
                })
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
        s.push('\n');
        return s;
    }
    let mut out = String::new();
    let width = registry
        .rules()
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(10);
    for r in registry.rules() {
        out.push_str(&format!(
            "{}  {:<width$}  {:<7}  {:<13}  {}  {}\n",
            r.id,
            r.name,
            r.severity.as_str(),
            r.family,
            if r.fixable() { "fix" } else { "   " },
            r.summary.trim(),
        ));
    }
    out
}
