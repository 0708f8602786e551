//! rustc-like output: `severity[RULE]: message`, the source line with the node marked, the
//! object, and the fix when there is one; then a summary line.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::engine::{Applicability, Severity};
use crate::lint::Outcome;

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The byte range to underline: from `byte` to the end of its line (trailing spaces and
/// comments dropped), at least one character.
fn span(text: &str, byte: usize) -> std::ops::Range<usize> {
    let start = byte.min(text.len());
    let end_of_line = text[start..]
        .find(['\n', '\r'])
        .map(|i| start + i)
        .unwrap_or(text.len());
    let line = &text[start..end_of_line];
    let trimmed = line.split(" #").next().unwrap_or(line).trim_end();
    let end = start + trimmed.len().max(1).min(end_of_line - start);
    start..end.max(start)
}

fn byte_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + col_bytes;
        }
        offset += l.len();
    }
    text.len()
}

pub fn human(outcome: &Outcome, color: bool) -> String {
    human_with_fix_problems(outcome, color, &outcome.fix_problems)
}

/// [`human`], with what applying the safe fixes ran into, as warnings before the summary.
pub fn human_with_fix_problems(
    outcome: &Outcome,
    color: bool,
    fix_problems: &[super::ObjectFixProblem],
) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for e in &outcome.errors {
        let title = Level::ERROR.primary_title(e.message.as_str()).id("input");
        let group = match outcome.text_of(&e.file).filter(|t| !t.is_empty()) {
            Some(text) => {
                let at = byte_of(text, e.line, e.column);
                title.element(
                    Snippet::source(text)
                        .path(e.file.as_str())
                        .fold(true)
                        .annotation(AnnotationKind::Primary.span(span(text, at))),
                )
            }
            None => title.element(
                annotate_snippets::Origin::path(e.file.as_str())
                    .line(e.line)
                    .char_column(e.column),
            ),
        };
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    for l in &outcome.findings {
        let f = &l.finding;
        let object = format!(
            "in {} at {}",
            f.object.display(),
            if f.path.is_empty() { "/" } else { &f.path }
        );
        let title = level(f.severity)
            .primary_title(f.message.as_str())
            .id(f.rule.as_str());
        let group = match outcome.text_of(&l.file) {
            Some(text) if !text.is_empty() => {
                let at = byte_of(text, l.line, l.column);
                title.element(
                    Snippet::source(text)
                        .path(l.file.as_str())
                        .fold(true)
                        .annotation(
                            AnnotationKind::Primary
                                .span(span(text, at))
                                .label(object.as_str()),
                        ),
                )
            }
            _ => title.element(
                annotate_snippets::Origin::path(l.file.as_str())
                    .line(l.line)
                    .char_column(l.column),
            ),
        };
        let mut groups = vec![group];
        let help;
        if let Some(fix) = &f.fix {
            let kind = match fix.applicability {
                Applicability::Safe => "safe",
                Applicability::Unsafe => "unsafe",
            };
            help = match super::patch(outcome, l) {
                Some(Err(e)) => format!("{} ({kind} fix, cannot be applied: {e})", fix.title),
                _ => format!("{} ({kind} fix)", fix.title),
            };
            groups.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        out.push_str(&renderer.render(&groups));
        out.push_str("\n\n");
    }
    for p in fix_problems {
        let text = format!(
            "{} in {}: applying the safe fixes: {}",
            p.object.display(),
            p.file,
            p.problem.message()
        );
        let group = Group::with_title(Level::WARNING.primary_title(text.as_str()).id("fix"));
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    let s = outcome.summary();
    out.push_str(&format!(
        "{} error(s), {} warning(s), {} info in {} object(s) from {} file(s){}\n",
        s.errors,
        s.warnings,
        s.infos,
        s.objects,
        s.files,
        if s.input_errors > 0 {
            format!("; {} input error(s)", s.input_errors)
        } else {
            String::new()
        }
    ));
    out
}
