//! The `flink-lint` command line: `check` (the default), `rules`, `explain`, `completions`,
//! `man`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use super::discover::{self, Input};
use super::{Inputs, Outcome, render};
use crate::engine::rule::Platform;
use crate::engine::{Engine, Registry, Scope, Settings, Severity};

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "flink-lint",
    version,
    about = "Lint Apache Flink manifests for Kubernetes and OpenShift",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files or directories (the default command).
    Check(CheckArgs),
    /// List every rule: id, name, severity, family, fixable, summary.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print a rule's full documentation.
    Explain {
        /// A rule id (FLK101) or name (jobmanager-replicas-without-ha).
        rule: String,
    },
    /// Print a shell completion script (bash: `source <(flink-lint completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `flink-lint man > flink-lint.1`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`): annotations on the diff.
    Github,
    /// GitLab Code Quality JSON (`artifacts:reports:codequality`).
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    Openshift,
    Kubernetes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PodSecurity {
    Baseline,
    Restricted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    Flink,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Files or directories (recursive *.yaml, *.yml, *.json); '-' is standard input; none = '.'.
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Target platform [default: openshift, or the config file's].
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// Pod Security Standards level to check against.
    /// [default: baseline, or the config file's `pod-security`]. Only `--platform kubernetes`
    /// reads it: restricted-only checks are errors at `restricted`, warnings at `baseline`.
    #[arg(long, value_enum)]
    pub pod_security: Option<PodSecurity>,
    /// Which objects to judge: only Flink objects, or every workload [default: flink].
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// Configuration file [default: the nearest .flink-lint.yaml upward from the first path].
    #[arg(long)]
    pub config: Option<String>,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Only these rules (ids, id prefixes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Not these rules (ids, id prefixes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Colour in human output: auto, always, never.
    #[arg(long, default_value = "auto")]
    pub color: String,
}

/// Parse arguments and run; returns the exit code.
pub fn main_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let text = e.render().to_string();
            let _ = if code == EXIT_OK {
                write!(stdout, "{text}")
            } else {
                write!(stderr, "{text}")
            };
            return code;
        }
    };
    let registry = match Registry::embedded() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stderr, "flink-lint: built-in rules are broken: {e}");
            return EXIT_USAGE;
        }
    };
    match cli.command {
        Some(Command::Rules { format }) => {
            let _ = write!(
                stdout,
                "{}",
                render::rules(registry, format == ListFormat::Json)
            );
            EXIT_OK
        }
        Some(Command::Explain { rule }) => match registry.get(&rule) {
            Some(r) => {
                let _ = write!(stdout, "{}", r.explain());
                EXIT_OK
            }
            None => {
                let _ = writeln!(
                    stderr,
                    "flink-lint: no rule '{rule}'; `flink-lint rules` lists them"
                );
                EXIT_USAGE
            }
        },
        Some(Command::Completions { shell }) => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "flink-lint", &mut buf);
            let _ = stdout.write_all(&buf);
            EXIT_OK
        }
        Some(Command::Man) => match man_page(Cli::command()) {
            Ok(page) => {
                let _ = stdout.write_all(&page);
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(stderr, "flink-lint: cannot render the man page: {e}");
                EXIT_USAGE
            }
        },
        Some(Command::Check(args)) => check(args, registry, stdout, stderr),
        None => check(cli.check, registry, stdout, stderr),
    }
}

/// Build the settings: the config file, then the command line on top.
fn settings(args: &CheckArgs, registry: &Registry) -> Result<Settings, String> {
    let config_path = match &args.config {
        Some(p) => Some(std::path::PathBuf::from(p)),
        None => {
            let first = args
                .paths
                .iter()
                .find(|p| *p != "-")
                .map(String::as_str)
                .unwrap_or(".");
            discover::find_config(Path::new(first))
        }
    };
    let mut s = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config {}: {e}", p.display()))?;
            Settings::from_yaml(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Settings::default(),
    };
    if let Some(p) = args.platform {
        s.platform = match p {
            PlatformArg::Openshift => Platform::Openshift,
            PlatformArg::Kubernetes => Platform::Kubernetes,
        };
    }
    if let Some(level) = args.pod_security {
        s.pod_security = match level {
            PodSecurity::Baseline => crate::engine::rule::PodSecurity::Baseline,
            PodSecurity::Restricted => crate::engine::rule::PodSecurity::Restricted,
        };
    }
    if let Some(scope) = args.scope {
        s.scope = match scope {
            ScopeArg::Flink => Scope::Flink,
            ScopeArg::All => Scope::All,
        };
    }
    if !args.select.is_empty() {
        s.select = args.select.clone();
    }
    s.ignore.extend(args.ignore.iter().cloned());
    s.validate(registry).map_err(|e| match &config_path {
        Some(p) if args.select.is_empty() && args.ignore.is_empty() => {
            format!("{}: {e}", p.display())
        }
        _ => e,
    })?;
    Ok(s)
}

fn check(
    args: CheckArgs,
    registry: &'static Registry,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let settings = match settings(&args, registry) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(stderr, "flink-lint: {e}");
            return EXIT_USAGE;
        }
    };
    let engine = match Engine::new(registry, settings) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(stderr, "flink-lint: {e}");
            return EXIT_USAGE;
        }
    };
    let (files, missing) = discover::expand(&args.paths);
    let format = args.format.unwrap_or(Format::Human);
    let mut progress = Progress::new(progress_enabled(format, std::io::stderr().is_terminal()));
    let mut inputs = Inputs::default();
    for (name, message) in missing {
        inputs.unreadable(&name, message);
    }
    for input in files {
        let name = input.display();
        let text = match &input {
            Input::Stdin => {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .map(|_| buf)
                    .map_err(|e| format!("cannot read standard input: {e}"))
            }
            Input::File(p) => std::fs::read(p)
                .map_err(|e| format!("cannot read {name}: {e}"))
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|e| format!("{name} is not UTF-8 text: {e}"))
                }),
        };
        match text {
            Ok(t) => inputs.add(&name, &t),
            Err(m) => inputs.unreadable(&name, m),
        }
        progress.reading(inputs.files.len(), inputs.objects.len(), stderr);
    }
    let outcome = if progress.enabled {
        // The check is one call over the whole world: a second thread runs it while this one
        // keeps the line alive (elapsed time) until it returns.
        let (files, objects) = (inputs.files.len(), inputs.objects.len());
        progress.read = Some(progress.start.elapsed());
        let checked = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let job = scope.spawn(|| super::lint_counting(&engine, inputs, &checked));
            while !job.is_finished() {
                let done = checked.load(std::sync::atomic::Ordering::Relaxed);
                progress.checking(files, objects, done, stderr);
                std::thread::sleep(Duration::from_millis(50));
            }
            match job.join() {
                Ok(outcome) => outcome,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        super::lint(&engine, inputs)
    };
    progress.finish(stderr);
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match format {
        Format::Human => render::human(&outcome, color),
        Format::Json => render::json(&outcome),
        Format::Sarif => render::sarif(&outcome, registry),
        Format::Junit => render::junit(&outcome),
        Format::Github => render::github(&outcome),
        Format::Gitlab => render::gitlab(&outcome),
    };
    let _ = write!(stdout, "{text}");
    exit_code(&outcome, args.fail_on)
}

/// Whether to draw the progress line: only for the human format, and only when standard error is
/// a terminal (never in CI logs, pipes or files, and never mixed into machine-readable output).
pub fn progress_enabled(format: Format, stderr_is_terminal: bool) -> bool {
    format == Format::Human && stderr_is_terminal
}

/// The progress line on standard error: files, objects, objects/s, redrawn in place (`\r`) at
/// most every 100 ms, first after 300 ms (short runs never show it), erased at the end.
struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
    /// How long reading took, once it is done.
    read: Option<Duration>,
    drawn: bool,
}

impl Progress {
    const FIRST: Duration = Duration::from_millis(300);
    const EVERY: Duration = Duration::from_millis(100);

    fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            start: Instant::now(),
            last: None,
            read: None,
            drawn: false,
        }
    }

    fn due(&mut self) -> bool {
        if !self.enabled {
            return false;
        }
        let now = Instant::now();
        if now.duration_since(self.start) < Self::FIRST {
            return false;
        }
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Self::EVERY)
        {
            return false;
        }
        self.last = Some(now);
        true
    }

    fn draw(&mut self, text: &str, stderr: &mut dyn Write) {
        let _ = write!(stderr, "\r\x1b[2K{text}");
        let _ = stderr.flush();
        self.drawn = true;
    }

    fn rate(&self, objects: usize) -> f64 {
        objects as f64 / self.start.elapsed().as_secs_f64().max(1e-3)
    }

    fn reading(&mut self, files: usize, objects: usize, stderr: &mut dyn Write) {
        if self.due() {
            let rate = self.rate(objects);
            self.draw(
                &format!(
                    "flink-lint: reading {files} files, {objects} objects ({rate:.0} objects/s)"
                ),
                stderr,
            );
        }
    }

    /// While `lint` runs on another thread: how many objects it has judged, and how fast.
    fn checking(&mut self, files: usize, objects: usize, done: usize, stderr: &mut dyn Write) {
        if self.due() {
            let since = self
                .start
                .elapsed()
                .saturating_sub(self.read.unwrap_or_default());
            let rate = done as f64 / since.as_secs_f64().max(1e-3);
            self.draw(
                &format!(
                    "flink-lint: {files} files, checked {done}/{objects} objects ({rate:.0} objects/s)"
                ),
                stderr,
            );
        }
    }

    fn finish(&mut self, stderr: &mut dyn Write) {
        if self.drawn {
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}

/// The man page (roff) of a clap command, for `flink-lint man` and `flink-admission man`.
pub fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

/// 2 when an input could not be read or parsed; else 1 when a finding reaches `fail_on`.
pub fn exit_code(outcome: &Outcome, fail_on: FailOn) -> i32 {
    if !outcome.errors.is_empty() {
        return EXIT_USAGE;
    }
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    if outcome
        .findings
        .iter()
        .any(|f| f.finding.severity >= threshold)
    {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_for_human_output_on_a_terminal() {
        assert!(progress_enabled(Format::Human, true));
        assert!(!progress_enabled(Format::Human, false));
        for f in [
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Github,
            Format::Gitlab,
        ] {
            assert!(!progress_enabled(f, true), "{f:?}");
        }
    }

    fn started_long_ago(enabled: bool) -> Progress {
        let mut p = Progress::new(enabled);
        p.start = Instant::now()
            .checked_sub(Duration::from_secs(2))
            .unwrap_or_else(Instant::now);
        p
    }

    #[test]
    fn progress_line_draws_in_place_and_erases_itself() {
        let mut err = Vec::new();
        let mut p = started_long_ago(true);
        p.reading(3, 40, &mut err);
        // Throttled: a second update right away draws nothing.
        p.reading(4, 50, &mut err);
        p.finish(&mut err);
        let text = String::from_utf8_lossy(&err);
        assert!(
            text.starts_with("\r\x1b[2Kflink-lint: reading 3 files, 40 objects ("),
            "{text:?}"
        );
        assert!(text.contains(" objects/s)"), "{text:?}");
        assert!(!text.contains("4 files"), "{text:?}");
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
        assert!(!text.contains('\n'), "{text:?}");
    }

    #[test]
    fn checking_line_counts_the_objects_judged() {
        let mut err = Vec::new();
        let mut p = started_long_ago(true);
        p.checking(3, 40, 17, &mut err);
        p.finish(&mut err);
        let text = String::from_utf8_lossy(&err);
        assert!(
            text.contains("flink-lint: 3 files, checked 17/40 objects ("),
            "{text:?}"
        );
    }

    #[test]
    fn no_progress_when_disabled_or_short() {
        let mut err = Vec::new();
        let mut off = started_long_ago(false);
        off.reading(3, 40, &mut err);
        off.checking(3, 40, 10, &mut err);
        off.finish(&mut err);
        // Enabled but under 300 ms: a short run never shows it.
        let mut short = Progress::new(true);
        short.reading(1, 1, &mut err);
        short.finish(&mut err);
        assert!(err.is_empty(), "{:?}", String::from_utf8_lossy(&err));
    }
}
