//! Output formats: human (rustc-like), JSON, SARIF 2.1.0, JUnit XML, GitHub Actions workflow
//! commands, GitLab Code Quality; and the rule listing (text, JSON, Markdown tables).

pub mod github;
pub mod gitlab;
mod human;
mod junit;
pub mod markdown;
mod sarif;

pub use github::{github, github_with};
pub use gitlab::gitlab;
pub use human::{
    HumanOptions, human, human_with_fix_problems, write_human, write_human_with, write_input_errors,
};
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

/// Findings serialised together before they are written (a few MiB of JSON at most).
const JSON_BATCH: usize = 4096;

/// One finding as the JSON document shows it.
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

impl<'a> JsonFinding<'a> {
    fn of(l: &'a super::Located) -> Self {
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
    }
}

/// `value` as `serde_json::to_writer_pretty` writes it, every line after the first indented
/// by `indent` (what it would be nested that deep: JSON strings hold no raw line breaks).
fn pretty_at(
    out: &mut Vec<u8>,
    value: &impl serde::Serialize,
    indent: &[u8],
) -> std::io::Result<()> {
    let start = out.len();
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    let lines = out[start..].iter().filter(|&&b| b == b'\n').count();
    if lines == 0 {
        return Ok(());
    }
    let written = out.split_off(start);
    out.reserve(written.len() + lines * indent.len());
    for (i, line) in written.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            out.extend_from_slice(indent);
        }
        out.extend_from_slice(line);
    }
    Ok(())
}

/// [`json_with_fix_problems`] written to `out`, byte for byte what `serde_json::to_writer_pretty`
/// writes for the document. The findings are serialised on every core, a batch at a time, each
/// batch written before the next is made: the document is never held whole (it can be as
/// large as the input).
pub fn write_json(
    out: &mut dyn std::io::Write,
    outcome: &Outcome,
    fix_problems: &[ObjectFixProblem],
) -> std::io::Result<()> {
    write_json_in(out, outcome, fix_problems, JSON_BATCH, 512)
}

/// [`write_json`] in batches of `batch` findings, in runs of at least `min_run` per thread.
fn write_json_in(
    out: &mut dyn std::io::Write,
    outcome: &Outcome,
    fix_problems: &[ObjectFixProblem],
    batch: usize,
    min_run: usize,
) -> std::io::Result<()> {
    out.write_all(b"{\n  \"findings\": [")?;
    for (b, part) in outcome.findings.chunks(batch.max(1)).enumerate() {
        let runs = crate::lint::in_runs(part, min_run, |first, run| -> std::io::Result<Vec<u8>> {
            let mut buf = Vec::with_capacity(run.len() * 768);
            for (k, l) in run.iter().enumerate() {
                let at = b * batch.max(1) + first + k;
                buf.extend_from_slice(if at == 0 { b"\n    " } else { b",\n    " });
                pretty_at(&mut buf, &JsonFinding::of(l), b"    ")?;
            }
            Ok(buf)
        });
        for run in runs {
            out.write_all(&run?)?;
        }
    }
    if !outcome.findings.is_empty() {
        out.write_all(b"\n  ")?;
    }
    let mut rest = Vec::new();
    rest.extend_from_slice(b"],\n  \"errors\": ");
    pretty_at(&mut rest, &outcome.errors, b"  ")?;
    rest.extend_from_slice(b",\n  \"fix_problems\": ");
    pretty_at(&mut rest, &fix_problems, b"  ")?;
    rest.extend_from_slice(b",\n  \"summary\": ");
    pretty_at(&mut rest, &outcome.summary(), b"  ")?;
    rest.extend_from_slice(b"\n}\n");
    out.write_all(&rest)
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
                    "platform": crate::engine::rule::Platform::name(r.platform),
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
    use super::*;

    /// The document as serde_json writes it whole: what [`write_json`] must give byte for byte.
    fn reference(outcome: &Outcome, fix_problems: &[ObjectFixProblem]) -> String {
        #[derive(serde::Serialize)]
        struct Document<'a> {
            findings: Vec<JsonFinding<'a>>,
            errors: &'a [super::super::InputError],
            fix_problems: &'a [ObjectFixProblem],
            summary: super::super::Summary,
        }
        let doc = Document {
            findings: outcome.findings.iter().map(JsonFinding::of).collect(),
            errors: &outcome.errors,
            fix_problems,
            summary: outcome.summary(),
        };
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    #[test]
    fn json_written_in_parallel_batches_is_what_serde_writes_whole() {
        let mut files: Vec<(String, String)> = (0..40)
            .map(|i| {
                (
                    format!("d/jm-{i}.yaml"),
                    format!(
                        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: jm-{i}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: jobmanager\n        image: apache/flink:1.19\n        args: [jobmanager]\n        securityContext:\n          runAsUser: 9999\n"
                    ),
                )
            })
            .collect();
        files.push(("d/broken.yaml".into(), "kind: [unclosed\n".into()));
        let texts: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let outcome = crate::lint::lint_texts(&texts);
        assert!(outcome.findings.len() > 100, "{}", outcome.findings.len());
        assert!(!outcome.errors.is_empty());
        assert!(outcome.findings.iter().any(|l| l.patch.is_some()));
        let problems = [ObjectFixProblem {
            file: "d/jm-0.yaml".into(),
            object: outcome.findings[0].finding.object.clone(),
            problem: crate::engine::FixProblem::NotConverged {
                rounds: 8,
                rules: vec!["FLK101".into()],
            },
        }];
        let empty = Outcome::default();
        for (o, p) in [
            (&outcome, &problems[..]),
            (&outcome, &[][..]),
            (&empty, &[][..]),
        ] {
            let want = reference(o, p);
            for (batch, min_run) in [(7, 1), (64, 3), (4096, 512), (1, 1)] {
                let mut got = Vec::new();
                write_json_in(&mut got, o, p, batch, min_run).unwrap();
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    want,
                    "batch {batch}, run {min_run}"
                );
            }
        }
    }

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
