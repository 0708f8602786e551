//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding and
//! per input error, which the runner turns into annotations on the file and line. A plain
//! summary line ends the output (the runner prints it as is).
//!
//! Escaping is GitHub's (`@actions/core` `escapeData` / `escapeProperty`): in the message `%`,
//! `\r`, `\n`; in property values also `:` and `,`. Other control characters (terminal escapes in
//! a file or object name) are written as `\u{1b}`, as in the human output.

use crate::engine::Severity;
use crate::lint::Outcome;

/// `%`, `\r`, `\n` percent-encoded: the message after `::`. Other control characters (which
/// the log view would interpret) are written as `\u{1b}` first.
pub fn escape_data(s: &str) -> String {
    let s: String = s
        .split_inclusive(['\r', '\n'])
        .map(|part| {
            let (body, brk) = match part.char_indices().last() {
                Some((i, '\r' | '\n')) => part.split_at(i),
                _ => (part, ""),
            };
            format!("{}{brk}", super::escape_controls(body))
        })
        .collect();
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// [`escape_data`] plus `:` and `,`: a property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// One workflow command. `file` is left out for standard input (`-`): there is no file to
/// annotate, and the annotation still shows in the run's summary.
fn line(cmd: &str, file: &str, line: usize, col: usize, title: &str, message: &str) -> String {
    let mut props = Vec::new();
    if file != "-" {
        let file = file.trim_start_matches("./");
        props.push(format!("file={}", escape_property(file)));
        props.push(format!("line={line}"));
        props.push(format!("col={col}"));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{cmd} {}::{}\n", props.join(","), escape_data(message))
}

/// The workflow commands, then the summary line.
pub fn github(outcome: &Outcome) -> String {
    github_with(outcome, Some(&outcome.summary()), &[])
}

/// [`github`] with the summary's counts given (none: `--quiet`) and `notes` after it.
pub fn github_with(
    outcome: &Outcome,
    summary: Option<&crate::lint::Summary>,
    notes: &[String],
) -> String {
    let mut out = String::new();
    for e in &outcome.errors {
        out.push_str(&line(
            "error",
            &e.file,
            e.line,
            e.column,
            "flink-lint input error",
            &e.message,
        ));
    }
    for l in &outcome.findings {
        let f = &l.finding;
        let message = format!(
            "{} [{}] ({} at {})",
            f.message,
            f.name,
            f.object.display(),
            if f.path.is_empty() { "/" } else { &f.path }
        );
        out.push_str(&line(
            command(f.severity),
            &l.file,
            l.line,
            l.column,
            &f.rule,
            &message,
        ));
    }
    if let Some(s) = summary {
        out.push_str(&format!(
            "flink-lint: {} error(s), {} warning(s), {} info, {} input error(s) in {} file(s), {} object(s)\n",
            s.errors, s.warnings, s.infos, s.input_errors, s.files, s.objects
        ));
        for n in notes {
            // Plain lines, not workflow commands: escaped as data so none can become one.
            out.push_str(&format!("flink-lint: {}\n", escape_data(n)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(files: &[(&str, &str)]) -> Outcome {
        crate::lint::lint_texts(files)
    }

    #[test]
    fn escapes_as_github_documents() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("50% a\r\nb: c, d"),
            "50%25 a%0D%0Ab%3A c%2C d"
        );
        // Terminal escapes are written out; line breaks stay GitHub's %0D/%0A.
        assert_eq!(
            escape_data("a\u{1b}[2Jb\r\n\u{7}"),
            "a\\u{1b}[2Jb%0D%0A\\u{7}"
        );
        assert_eq!(escape_property("x\u{1b}:y"), "x\\u{1b}%3Ay");
        // `%` first, so an escape is never escaped twice.
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn one_command_per_finding_with_position_and_rule_title() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: flink-jobmanager\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: flink, component: jobmanager}}\n  template:\n    metadata: {labels: {app: flink, component: jobmanager}}\n    spec:\n      containers:\n        - name: jobmanager\n          image: flink:1.20\n          args: [jobmanager]\n";
        let out = github(&outcome(&[("./dir, with: odd%name/jm.yaml", text)]));
        let flk101 = out
            .lines()
            .find(|l| l.contains("title=FLK101::"))
            .unwrap_or_else(|| panic!("no FLK101 line in:\n{out}"));
        assert!(
            flk101.starts_with(
                "::error file=dir%2C with%3A odd%25name/jm.yaml,line=6,col=3,title=FLK101::"
            ),
            "{flk101}"
        );
        assert!(
            flk101.contains(
                "[jobmanager-replicas-without-ha] (Deployment/flink-jobmanager at /spec/replicas)"
            ),
            "{flk101}"
        );
        // Every line but the summary is a workflow command, and no message spans two lines.
        let lines: Vec<&str> = out.lines().collect();
        let (summary, commands) = lines.split_last().expect("output");
        assert!(summary.starts_with("flink-lint: "), "{summary}");
        assert!(commands.iter().all(|l| l.starts_with("::")), "{out}");
        assert!(
            commands
                .iter()
                .any(|l| l.starts_with("::warning ") && l.contains("title=FLK")),
            "warnings become ::warning: {out}"
        );
    }

    #[test]
    fn input_errors_and_stdin() {
        let out = github(&outcome(&[("-", "kind: [unclosed\n")]));
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("::error title=flink-lint input error::"),
            "{out}"
        );
        assert!(
            out.ends_with("1 input error(s) in 1 file(s), 0 object(s)\n"),
            "{out}"
        );
    }

    #[test]
    fn clean_input_is_only_the_summary() {
        let out = github(&outcome(&[("a.yaml", "foo: bar\n")]));
        assert_eq!(
            out,
            "flink-lint: 0 error(s), 0 warning(s), 0 info, 0 input error(s) in 1 file(s), 0 object(s)\n"
        );
    }
}
