//! Output formats: human (rustc-like), JSON, SARIF 2.1.0, JUnit XML, GitHub Actions workflow
//! commands, GitLab Code Quality; and the rule listing.

pub mod github;
pub mod gitlab;
mod human;
mod junit;
mod sarif;

pub use github::github;
pub use gitlab::gitlab;
pub use human::{human, human_with_fix_problems, write_human};
pub use junit::junit;
pub use sarif::sarif;

use serde_json::json;

use super::Outcome;
use crate::engine::Registry;

pub use super::ObjectFixProblem;

/// Whether `c` must not reach a terminal as it is: control characters (C0 with tab and line
/// breaks, DEL, C1) and the bidirectional overrides and isolates that reorder what is shown.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`unsafe_char`] written as `\u{1b}`, so that a file or object name cannot
/// move the cursor, recolour or retitle a terminal, or hide text (file names, object names
/// and messages in human and GitHub output; `--color` styling is added after).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The JSON document: `findings`, `errors`, `fix_problems`, `summary`.
pub fn json(outcome: &Outcome) -> String {
    json_with_fix_problems(outcome, &outcome.fix_problems)
}

/// [`json`], with what applying the safe fixes ran into. Serialised straight from the outcome
/// (borrowed, no intermediate JSON tree: the document can be larger than the input).
pub fn json_with_fix_problems(outcome: &Outcome, fix_problems: &[ObjectFixProblem]) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail, and the document serialises (no maps with other keys).
    let _ = write_json(&mut out, outcome, fix_problems);
    String::from_utf8(out).unwrap_or_else(|_| "{}\n".into())
}

/// [`json_with_fix_problems`] written to `out` as it is serialised: the document is never held
/// whole (it can be as large as the input).
pub fn write_json(
    out: &mut dyn std::io::Write,
    outcome: &Outcome,
    fix_problems: &[ObjectFixProblem],
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct JsonFinding<'a> {
        rule: &'a str,
        name: &'a str,
        severity: crate::engine::Severity,
        message: &'a str,
        file: &'a str,
        line: usize,
        column: usize,
        object: &'a crate::flink::object::ObjectRef,
        path: &'a str,
        fix: bool,
        fix_applicability: Option<crate::engine::Applicability>,
        fix_title: Option<&'a str>,
        patch: Option<&'a super::PatchText>,
        fix_error: Option<&'a str>,
    }
    #[derive(serde::Serialize)]
    struct Document<'a> {
        findings: Vec<JsonFinding<'a>>,
        errors: &'a [super::InputError],
        fix_problems: &'a [ObjectFixProblem],
        summary: super::Summary,
    }
    let findings = outcome
        .findings
        .iter()
        .map(|l| {
            let f = &l.finding;
            JsonFinding {
                rule: &f.rule,
                name: &f.name,
                severity: f.severity,
                message: &f.message,
                file: &l.file,
                line: l.line,
                column: l.column,
                object: &f.object,
                path: &f.path,
                fix: f.fix.is_some(),
                fix_applicability: f.fix.as_ref().map(|x| x.applicability),
                fix_title: f.fix.as_ref().map(|x| x.title.as_str()),
                patch: l.patch.as_ref().and_then(|p| p.as_ref().ok()),
                fix_error: l
                    .patch
                    .as_ref()
                    .and_then(|p| p.as_ref().err().map(String::as_str)),
            }
        })
        .collect();
    let doc = Document {
        findings,
        errors: &outcome.errors,
        fix_problems,
        summary: outcome.summary(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
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
                    "admission": r.admission,
                    "kinds": r.kinds().iter().map(|k| k.display()).collect::<Vec<_>>(),
                    "admission_kinds": r.admission_kinds().iter().map(|k| k.display()).collect::<Vec<_>>(),
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

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(escape_controls("jm.yaml"), "jm.yaml");
        assert!(matches!(
            escape_controls("dir/é ü.yaml"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("a\u{1b}[31mb\u{7}\u{9b}c\td\ne\u{7f}"),
            "a\\u{1b}[31mb\\u{7}\\u{9b}c\\u{9}d\\u{a}e\\u{7f}"
        );
        assert_eq!(escape_controls("x\u{202e}gpj.yaml"), "x\\u{202e}gpj.yaml");
    }
}
