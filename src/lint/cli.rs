//! The `flink-lint` command line: `check` (the default), `rules`, `explain`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::discover::{self, Input};
use super::{Inputs, Outcome, render};
use crate::engine::rule::Platform;
use crate::engine::{
    Applicability, Engine, ObjectSet, Registry, Scope, Settings, Severity, Subject,
};
use crate::flink::object::ObjectRef;
use serde_json::Value;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
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
    }
    let objects: Vec<(String, Arc<Value>)> = inputs
        .objects
        .iter()
        .map(|o| (inputs.files[o.file].name.clone(), o.value.clone()))
        .collect();
    let outcome = super::lint(&engine, inputs);
    let fix_problems = fix_problems(&engine, &objects, &outcome);
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format.unwrap_or(Format::Human) {
        Format::Human => render::human_with_fix_problems(&outcome, color, &fix_problems),
        Format::Json => render::json_with_fix_problems(&outcome, &fix_problems),
        Format::Sarif => render::sarif(&outcome, registry),
        Format::Junit => render::junit(&outcome),
    };
    let _ = write!(stdout, "{text}");
    exit_code(&outcome, args.fail_on)
}

/// Apply every safe fix (as the webhook would) to each object that has one, in the same world
/// `lint` judged it in, and report what that ran into: a fix that cannot be applied, or fixes
/// that do not converge.
pub fn fix_problems(
    engine: &Engine,
    objects: &[(String, Arc<Value>)],
    outcome: &Outcome,
) -> Vec<render::ObjectFixProblem> {
    let fixable: std::collections::BTreeSet<(&str, &ObjectRef)> = outcome
        .findings
        .iter()
        .filter(|l| {
            l.finding
                .fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Safe)
        })
        .map(|l| (l.file.as_str(), &l.finding.object))
        .collect();
    if fixable.is_empty() {
        return Vec::new();
    }
    let world = ObjectSet::new(objects.iter().map(|(_, v)| v.clone()).collect());
    let mut out = Vec::new();
    for (file, value) in objects {
        let oref = ObjectRef::of(value);
        if !fixable.contains(&(file.as_str(), &oref)) {
            continue;
        }
        for problem in engine.fix(&Subject::offline(value, &world)).problems {
            let p = render::ObjectFixProblem {
                file: file.clone(),
                object: oref.clone(),
                problem,
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
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
