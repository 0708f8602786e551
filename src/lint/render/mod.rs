//! Output formats: human (rustc-like), JSON, SARIF 2.1.0, JUnit XML, GitHub Actions workflow
//! commands, GitLab Code Quality; and the rule listing.

pub mod github;
pub mod gitlab;
mod human;
mod junit;
mod sarif;

pub use github::github;
pub use gitlab::gitlab;
pub use human::human;
pub use junit::junit;
pub use sarif::sarif;

use serde_json::json;

use super::Outcome;
use crate::engine::Registry;

/// The JSON document: `findings`, `errors`, `summary`.
pub fn json(outcome: &Outcome) -> String {
    let findings: Vec<_> = outcome
        .findings
        .iter()
        .map(|l| {
            let f = &l.finding;
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
                "patch": f.fix.as_ref().map(|x| x.ops.clone()),
            })
        })
        .collect();
    let doc = json!({
        "findings": findings,
        "errors": outcome.errors,
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
