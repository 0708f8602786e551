//! rustc-like output: `severity[RULE]: message`, the source line with the node marked, the
//! object, and the fix when there is one; then a summary line.

use std::collections::HashMap;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::escape_controls;
use crate::engine::{Applicability, Severity};
use crate::lint::Outcome;

fn renderer(color: bool) -> Renderer {
    if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

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
    let start = floor_char_boundary(text, byte.min(text.len()));
    let end_of_line = text[start..]
        .find(['\n', '\r'])
        .map(|i| start + i)
        .unwrap_or(text.len());
    let line = &text[start..end_of_line];
    let trimmed = line.split(" #").next().unwrap_or(line).trim_end();
    let end = start + trimmed.len().max(1).min(end_of_line - start);
    start..end.max(start)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where each line of one file starts, found once per file, so that placing a finding costs
/// the length of its line, not of the file.
struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the start of line `i + 1`.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        // The same line breaks as the positions (`\n`, `\r\n`, a lone `\r`).
        let starts = crate::lint::source::line_starts(text);
        Lines { text, starts }
    }

    /// The text of 1-based `line`, with its line break unless that is a lone `\r` (which the
    /// snippet renderer would not take for one); `None` past the end.
    fn line(&self, line: usize) -> Option<&'a str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        let text = self.text.get(start..end)?;
        Some(match text.strip_suffix('\r') {
            Some(stripped) => stripped,
            None => text,
        })
    }

    /// The snippet for `line:column`: that line alone (annotate-snippets then reads one line,
    /// not the whole file) and the range to underline in it. Past the end of the file: the
    /// last line, marked at its end.
    fn snippet(&self, line: usize, column: usize) -> (usize, &'a str, std::ops::Range<usize>) {
        let (line, text, at) = match self.line(line) {
            Some(text) => {
                let at: usize = text
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                (line, text, at)
            }
            None => {
                let last = self.starts.len();
                let text = self.line(last).unwrap_or("");
                (last, text, text.len())
            }
        };
        (line, text, span(text, at))
    }
}

/// The files' texts by name, each with its line index made on first use.
struct Sources<'a> {
    texts: HashMap<&'a str, &'a str>,
    lines: HashMap<&'a str, Lines<'a>>,
}

impl<'a> Sources<'a> {
    fn new(outcome: &'a Outcome) -> Self {
        let mut texts = HashMap::new();
        for f in &outcome.files {
            // the first file of a name wins, as `Outcome::text_of`
            texts
                .entry(f.name.as_str())
                .or_insert(f.source.text.as_str());
        }
        Sources {
            texts,
            lines: HashMap::new(),
        }
    }

    /// The snippet for `file:line:column`, or `None` when the file's text is unknown or empty.
    fn snippet(
        &mut self,
        file: &'a str,
        line: usize,
        column: usize,
    ) -> Option<(usize, &'a str, std::ops::Range<usize>)> {
        let text = self.texts.get(file).copied().filter(|t| !t.is_empty())?;
        let lines = self.lines.entry(file).or_insert_with(|| Lines::new(text));
        Some(lines.snippet(line, column))
    }
}

/// The findings, rendered on every core in contiguous runs joined in order (each finding is
/// rendered on its own: the output is the same on any number of threads).
fn findings_in_parallel(outcome: &Outcome, color: bool) -> Vec<String> {
    crate::lint::in_runs(&outcome.findings, 256, |_, run| {
        render_findings(outcome, run, color)
    })
}

/// `title` at `file:line:column`: over the source line with the node marked (and `label`
/// under it) when the file's text is known, else at the bare position. `path` is the file's
/// name as shown (control characters escaped).
fn placed<'s: 'a, 'a>(
    title: annotate_snippets::Title<'a>,
    sources: &mut Sources<'s>,
    (file, line, column): (&'s str, usize, usize),
    path: &'a str,
    label: Option<&'a str>,
) -> Group<'a> {
    match sources.snippet(file, line, column) {
        Some((line, text, range)) => {
            let mark = AnnotationKind::Primary.span(range);
            title.element(
                Snippet::source(text)
                    .line_start(line)
                    .path(path)
                    .fold(true)
                    .annotation(match label {
                        Some(l) => mark.label(l),
                        None => mark,
                    }),
            )
        }
        None => title.element(
            annotate_snippets::Origin::path(path)
                .line(line)
                .char_column(column),
        ),
    }
}

/// `findings` (of `outcome`) rendered one after the other.
fn render_findings(outcome: &Outcome, findings: &[crate::lint::Located], color: bool) -> String {
    let renderer = renderer(color);
    let mut sources = Sources::new(outcome);
    let mut out = String::new();
    for l in findings {
        let f = &l.finding;
        let object = format!(
            "in {} at {}",
            f.object.display(),
            if f.path.is_empty() { "/" } else { &f.path }
        );
        let object = escape_controls(&object);
        let (path, message) = (escape_controls(&l.file), escape_controls(&f.message));
        let title = level(f.severity)
            .primary_title(&*message)
            .id(f.rule.as_str());
        let group = placed(
            title,
            &mut sources,
            (&l.file, l.line, l.column),
            &path,
            Some(&object),
        );
        let mut groups = vec![group];
        let help;
        if let Some(fix) = &f.fix {
            let kind = match fix.applicability {
                Applicability::Safe => "safe",
                Applicability::Unsafe => "unsafe",
            };
            help = escape_controls(&match &l.patch {
                Some(Err(e)) => format!("{} ({kind} fix, cannot be applied: {e})", fix.title),
                _ => format!("{} ({kind} fix)", fix.title),
            })
            .into_owned();
            groups.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        out.push_str(&renderer.render(&groups));
        out.push_str("\n\n");
    }
    out
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
    let mut out = Vec::new();
    // Writing into memory cannot fail; the renderer writes only UTF-8.
    let _ = write_human(&mut out, outcome, color, fix_problems);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`human_with_fix_problems`] written to `out` part by part (the findings are rendered on
/// every core and written in order; the report is never held whole).
pub fn write_human(
    w: &mut dyn std::io::Write,
    outcome: &Outcome,
    color: bool,
    fix_problems: &[super::ObjectFixProblem],
) -> std::io::Result<()> {
    let opts = HumanOptions {
        color,
        input_errors: true,
        summary: Some(outcome.summary()),
        notes: &[],
    };
    write_human_with(w, outcome, fix_problems, &opts)
}

/// What the human report holds besides the findings.
#[derive(Debug, Clone)]
pub struct HumanOptions<'a> {
    pub color: bool,
    /// Whether the input errors come first (`check` writes them to standard error instead,
    /// with [`write_input_errors`]).
    pub input_errors: bool,
    /// The summary line's counts, or none (`--quiet`).
    pub summary: Option<crate::lint::Summary>,
    /// Lines after the summary (the platform chosen, what a baseline left out).
    pub notes: &'a [String],
}

/// The input errors of `outcome`, as the human report shows them.
pub fn write_input_errors(
    w: &mut dyn std::io::Write,
    outcome: &Outcome,
    color: bool,
) -> std::io::Result<()> {
    let renderer = renderer(color);
    let mut sources = Sources::new(outcome);
    let mut out = String::new();
    for e in &outcome.errors {
        // Names and messages come from the input: no raw control characters reach the
        // terminal (the source line itself is shown with control pictures by the renderer).
        let (path, message) = (escape_controls(&e.file), escape_controls(&e.message));
        let title = Level::ERROR.primary_title(&*message).id("input");
        let group = placed(
            title,
            &mut sources,
            (&e.file, e.line, e.column),
            &path,
            None,
        );
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    w.write_all(out.as_bytes())
}

/// [`write_human`] with `opts`.
pub fn write_human_with(
    w: &mut dyn std::io::Write,
    outcome: &Outcome,
    fix_problems: &[super::ObjectFixProblem],
    opts: &HumanOptions<'_>,
) -> std::io::Result<()> {
    let color = opts.color;
    let renderer = renderer(color);
    if opts.input_errors {
        write_input_errors(w, outcome, color)?;
    }
    for part in findings_in_parallel(outcome, color) {
        w.write_all(part.as_bytes())?;
    }
    let mut out = String::new();
    for p in fix_problems {
        let text = format!(
            "{} in {}: applying the safe fixes: {}",
            p.object.display(),
            p.file,
            p.problem.message()
        );
        let text = escape_controls(&text);
        let group = Group::with_title(Level::WARNING.primary_title(&*text).id("fix"));
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    if let Some(s) = opts.summary {
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
        for n in opts.notes {
            out.push_str(&escape_controls(n));
            out.push('\n');
        }
    }
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Finding, Severity};
    use crate::flink::object::ObjectRef;
    use crate::lint::{LoadedFile, Located, source};

    #[test]
    fn findings_rendered_on_several_threads_read_as_on_one() {
        let text: String = (1..=3000).map(|i| format!("key{i}: value {i}\n")).collect();
        let places: Vec<(usize, usize)> = (1..=1500).map(|i| (i * 2, 1 + i % 5)).collect();
        let o = outcome(&text, &places);
        let parts = findings_in_parallel(&o, false);
        let one = render_findings(&o, &o.findings, false);
        assert_eq!(parts.concat(), one);
        if std::thread::available_parallelism().map_or(1, usize::from) > 1 {
            assert!(parts.len() > 1, "rendered in runs: {}", parts.len());
        }
        assert!(
            one.contains("finding at 3000:1"),
            "the last finding is there"
        );
        assert_eq!(one.matches("warning[FLK999]").count(), 1500);
    }

    fn outcome(text: &str, places: &[(usize, usize)]) -> Outcome {
        let findings = places
            .iter()
            .map(|&(line, column)| Located {
                finding: Box::new(Finding {
                    rule: "FLK999".into(),
                    name: "test-rule".into(),
                    severity: Severity::Warning,
                    message: format!("finding at {line}:{column}"),
                    object: ObjectRef {
                        api_version: "v1".into(),
                        kind: "ConfigMap".into(),
                        namespace: None,
                        name: "x".into(),
                    },
                    path: "/data".into(),
                    fix: None,
                }),
                file: "big.yaml".into(),
                line,
                column,
                patch: None,
            })
            .collect();
        Outcome {
            findings,
            errors: Vec::new(),
            fix_problems: Vec::new(),
            objects: Vec::new(),
            files: vec![LoadedFile {
                name: "big.yaml".into(),
                source: source::SourceFile {
                    text: text.to_string(),
                    documents: Vec::new(),
                    errors: Vec::new(),
                },
                digest: None,
            }],
        }
    }

    #[test]
    fn snippet_is_the_line_alone_at_its_number() {
        let text = "a: 1\nbé: 2 # comment\nc: 3";
        let out = human(&outcome(text, &[(2, 1), (3, 4), (9, 1)]), false);
        assert!(out.contains("--> big.yaml:2:1"), "{out}");
        assert!(out.contains("2 | bé: 2 # comment"), "{out}");
        assert!(out.contains("3 | c: 3"), "{out}");
        assert!(!out.contains("1 | a: 1"), "{out}");
        // past the end: the last line
        assert_eq!(out.matches("--> big.yaml:3:").count(), 2, "{out}");
    }

    #[test]
    fn lone_cr_line_breaks_give_the_same_lines_as_the_positions() {
        let text = "a: 1\rbé: 2 # comment\rc: 3\r";
        let out = human(&outcome(text, &[(2, 1), (3, 4)]), false);
        assert!(out.contains("--> big.yaml:2:1"), "{out}");
        assert!(out.contains("2 | bé: 2 # comment\n"), "{out:?}");
        assert!(out.contains("--> big.yaml:3:4"), "{out}");
        assert!(out.contains("3 | c: 3\n"), "{out:?}");
        assert!(!out.contains('\r'), "{out:?}");
    }

    #[test]
    fn many_findings_in_a_big_file_render_in_linear_time() {
        // 2 MB, 10 000 findings spread over it: each finding costs its own line, not the file.
        let line = "      - name: FLINK_PROPERTIES_AND_SOME_MORE_TEXT_TO_MAKE_THE_LINE_LONG\n";
        let lines = 2_000_000 / line.len();
        let text = line.repeat(lines);
        let places: Vec<(usize, usize)> =
            (0..10_000).map(|i| (1 + i * (lines / 10_000), 9)).collect();
        let start = std::time::Instant::now();
        let out = human(&outcome(&text, &places), false);
        let elapsed = start.elapsed();
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
        let last = places.last().map(|p| p.0).unwrap_or(0);
        assert!(
            out.contains(&format!("--> big.yaml:{last}:9")),
            "{}",
            &out[out.len() - 500..]
        );
        assert!(out.contains("0 error(s), 10000 warning(s)"));
    }
}
