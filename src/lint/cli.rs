//! The `flink-lint` command line: `check` (the default), `rules`, `explain`, `completions`,
//! `man`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use super::baseline::{self, Baseline};
use super::discover::{self, Input};
use super::platform::{self, Chosen};
use super::{Inputs, Outcome, render};
use crate::engine::rule::PlatformChoice;
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
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files or directories (the default command).
    Check(CheckCmd),
    /// List every rule: id, name, severity, family, fixable, summary (`--format markdown`: the
    /// README's table).
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print a rule's full documentation; for the memory rules (FLK403 to FLK406, FLK409) and files,
    /// also the memory Flink derives for each JobManager, TaskManager and FlinkDeployment in
    /// them.
    Explain {
        /// A rule id (FLK101) or name (jobmanager-replicas-without-ha).
        rule: String,
        /// Files or directories whose Flink memory to work out (memory rules only).
        paths: Vec<String>,
    },
    /// Print a shell completion script (bash: `source <(flink-lint completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `flink-lint man > flink-lint.1`.
    Man,
    /// Apply the fixes to the files in place, keeping comments and formatting.
    #[command(mut_arg("paths", |a| a.help(FIX_PATHS_HELP)))]
    Fix(FixArgs),
    /// Freeze today's findings in a baseline file, so that `--baseline FILE` reports only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Check the paths and write every finding to FILE (JSON), replacing it.
    Write {
        /// The baseline file to write.
        file: String,
        #[command(flatten)]
        check: CheckArgs,
    },
}

const FIX_PATHS_HELP: &str = "Files or directories to fix (required: fix writes files, so it does not default to '.'; \
     standard input cannot be fixed). Directories are walked as `check` walks them.";

#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// Print a unified diff of what would change; write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Apply the unsafe fixes too (they change behaviour: review the result).
    #[arg(long)]
    pub unsafe_fixes: bool,
    #[command(flatten)]
    pub check: CheckArgs,
    /// What is reported of the findings the fixes leave (as `check` reports them).
    #[command(flatten)]
    pub report: ReportArgs,
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
    /// The README's table of rules.
    Markdown,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The least severe finding printed (`--min-severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinSeverity {
    Info,
    Warning,
    Error,
}

impl MinSeverity {
    fn severity(self) -> Severity {
        match self {
            MinSeverity::Info => Severity::Info,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Error => Severity::Error,
        }
    }
}

/// `check` (and the default command): what to read and judge, and what to report.
#[derive(Debug, Clone, Args)]
pub struct CheckCmd {
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What `check` and `fix` report (not `baseline write`, which records every finding).
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Report only findings not in this baseline file (`flink-lint baseline write`)
    /// [default: the config file's `baseline`, relative to it].
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,
    /// Exit 0 when the paths hold no Kubernetes object (else that is exit 2).
    #[arg(long)]
    pub allow_empty: bool,
    /// Print the findings only: no summary, no progress line, no notes.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print only findings at or above this severity (the exit code still follows --fail-on)
    /// [default: info].
    #[arg(long, value_enum)]
    pub min_severity: Option<MinSeverity>,
}

/// The `--platform` values: `auto`, or a platform (the engine's [`PlatformChoice`]).
fn platform_parser() -> impl TypedValueParser<Value = PlatformChoice> {
    PossibleValuesParser::new(["auto", "openshift", "kubernetes"])
        .try_map(|s| s.parse::<PlatformChoice>())
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Files or directories; '-' is standard input; none = '.'. A directory is walked for
    /// *.yaml, *.yml and *.json files (any case), skipping hidden directories (.*), target/ and
    /// node_modules/ always, what .gitignore files ignore (in a git repository; --no-ignore reads
    /// it) and --exclude patterns. A file named here is always read.
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Target platform. `auto`: the config file's `platform`, else OpenShift when the inputs
    /// hold OpenShift objects (a Namespace with openshift.io/sa.scc.* annotations, a Route,
    /// SecurityContextConstraints, DeploymentConfig or ImageStream), else Kubernetes
    /// [default: auto].
    #[arg(long, value_parser = platform_parser())]
    pub platform: Option<PlatformChoice>,
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
    /// Skip paths matching this gitignore-style pattern in directory walks, relative to the
    /// working directory (repeatable; the config file's `exclude` adds its own, relative to it).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read what .gitignore files ignore (hidden directories, target/ and node_modules/ are
    /// still skipped).
    #[arg(long)]
    pub no_ignore: bool,
    /// A CustomResourceDefinition file whose schemas replace the embedded ones for the
    /// structural rules (FLK010-FLK015), for its kinds and versions (repeatable; CRDs among the
    /// linted files count too, after these).
    #[arg(long, value_name = "FILE")]
    pub crd: Vec<String>,
    /// Say on standard error what directory walks skipped and why, and which platform was used.
    #[arg(short, long)]
    pub verbose: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// The previous version of the inputs (files or directories, walked as the paths are;
    /// repeatable): each object is compared with the object of the same apiVersion group, kind,
    /// namespace and name read here, as the webhook compares an UPDATE with the stored object,
    /// and the rules about changes (FLK6xx) run. In CI: a checkout of the base branch
    /// (docs/ci.md).
    #[arg(long, value_name = "PATH")]
    pub old: Vec<String>,
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
            if code == EXIT_OK {
                if let Err(e) = write_out(stdout, text.as_bytes()) {
                    return output_failed(stderr, &e);
                }
            } else {
                let _ = write!(stderr, "{text}");
            }
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
            let text = match format {
                ListFormat::Human => render::rules(registry, false),
                ListFormat::Json => render::rules(registry, true),
                ListFormat::Markdown => render::markdown::rules_table(registry),
            };
            match write_out(stdout, text.as_bytes()) {
                Ok(()) => EXIT_OK,
                Err(e) => output_failed(stderr, &e),
            }
        }
        Some(Command::Explain { rule, paths }) => match registry.get(&rule) {
            Some(r) => {
                let mut text = r.explain();
                if !paths.is_empty() {
                    match memory_derivations(r, &paths) {
                        Ok(tables) => text.push_str(&tables),
                        Err(e) => return usage(stderr, e),
                    }
                }
                match write_out(stdout, text.as_bytes()) {
                    Ok(()) => EXIT_OK,
                    Err(e) => output_failed(stderr, &e),
                }
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
            match write_out(stdout, &buf) {
                Ok(()) => EXIT_OK,
                Err(e) => output_failed(stderr, &e),
            }
        }
        Some(Command::Man) => match man_page_with(Cli::command(), EXIT_STATUS) {
            Ok(page) => match write_out(stdout, &page) {
                Ok(()) => EXIT_OK,
                Err(e) => output_failed(stderr, &e),
            },
            Err(e) => {
                let _ = writeln!(stderr, "flink-lint: cannot render the man page: {e}");
                EXIT_USAGE
            }
        },
        Some(Command::Check(args)) => check(args, registry, stdout, stderr),
        Some(Command::Fix(args)) => fix(args, registry, stdout, stderr),
        Some(Command::Baseline(BaselineCommand::Write { file, check })) => {
            baseline_write(&file, check, registry, stderr)
        }
        None => {
            let cmd = CheckCmd {
                check: cli.check,
                report: cli.report,
            };
            check(cmd, registry, stdout, stderr)
        }
    }
}

/// The rules whose `explain` shows the memory Flink derives for the files given.
pub const MEMORY_RULES: &[&str] = &["FLK403", "FLK404", "FLK405", "FLK406", "FLK409"];

/// `flink-lint explain RULE PATHS...`: the memory Flink derives for every JobManager,
/// TaskManager and FlinkDeployment in the paths, judged in one world as `check` judges them.
fn memory_derivations(rule: &crate::engine::Rule, paths: &[String]) -> Result<String, String> {
    if !MEMORY_RULES.contains(&rule.id.as_str()) {
        return Err(format!(
            "{} works out nothing from files; only {} do",
            rule.id,
            MEMORY_RULES.join(", ")
        ));
    }
    let (files, missing) = discover::expand(paths);
    if let Some((name, message)) = missing.first() {
        return Err(format!("{name}: {message}"));
    }
    let mut inputs = Inputs::default();
    let mut texts = Vec::new();
    for (name, text) in read_all(files) {
        match text {
            Ok(t) => texts.push((name, t)),
            Err(u) => return Err(format!("{name}: {}", u.message)),
        }
    }
    inputs.add_all(texts, |_| false);
    let engine = Engine::embedded(Settings::default())?;
    let world = inputs.world(false);
    let mut out = String::from("\nMemory, as Flink derives it at start-up:\n");
    let mut any = false;
    for (i, o) in inputs.objects.iter().enumerate() {
        let view = world.view(i);
        let subject = crate::engine::Subject::offline_shared(&o.value, &view);
        for (title, table) in engine.memory_tables(&subject) {
            any = true;
            let file = inputs.files.get(o.file).map_or("-", |f| f.name.as_str());
            let object = crate::flink::object::ObjectRef::of(&o.value).display();
            out.push_str(&format!("\n{file}: {object}: {title}\n{table}"));
        }
    }
    if !any {
        out.push_str("\nno JobManager, TaskManager or FlinkDeployment whose memory configuration can be seen\n");
    }
    Ok(out)
}

/// The settings of a run: the config file, then the command line on top (the platform is
/// chosen later, once the inputs are read: see [`choose_platform`]).
struct Config {
    settings: Settings,
    /// The config file read, if any.
    path: Option<std::path::PathBuf>,
    /// Whether the config file sets `platform`.
    sets_platform: bool,
}

impl Config {
    /// The directory the config file's relative paths start from.
    fn dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }
}

/// Whether a config text sets `platform` (the settings alone cannot tell it from the default).
fn sets_platform(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Key {
        #[serde(default)]
        platform: Option<serde::de::IgnoredAny>,
    }
    serde_saphyr::from_str::<Key>(text).is_ok_and(|k| k.platform.is_some())
}

/// Build the settings: the config file, then the command line on top.
fn settings(args: &CheckArgs, registry: &Registry) -> Result<Config, String> {
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
    let (mut s, sets) = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config {}: {e}", p.display()))?;
            let s = Settings::from_yaml(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            (s, sets_platform(&text))
        }
        None => (Settings::default(), false),
    };
    if let Some(PlatformChoice::Fixed(p)) = args.platform {
        s.platform = p;
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
    s.crds = crds(&args.crd)?;
    s.validate(registry).map_err(|e| match &config_path {
        Some(p) if args.select.is_empty() && args.ignore.is_empty() => {
            format!("{}: {e}", p.display())
        }
        _ => e,
    })?;
    Ok(Config {
        settings: s,
        path: config_path,
        sets_platform: sets,
    })
}

/// The schemas of the `--crd` files: every document must read, and each file must hold a
/// CustomResourceDefinition that compiles.
fn crds(files: &[String]) -> Result<crate::engine::structural::Overrides, String> {
    let mut docs: Vec<(String, serde_json::Value)> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("--crd {file}: {e}"))?;
        let parsed = crate::lint::source::parse(&text, crate::lint::source::is_json_name(file));
        if let Some(e) = parsed.errors.first() {
            return Err(format!(
                "--crd {file}:{}:{}: {}",
                e.line, e.column, e.message
            ));
        }
        let before = docs.len();
        docs.extend(
            parsed
                .documents
                .into_iter()
                .filter(|d| crate::engine::structural::is_crd(&d.value))
                .map(|d| (format!("--crd {file}: document {}", d.index + 1), d.value)),
        );
        if docs.len() == before {
            return Err(format!("--crd {file}: no CustomResourceDefinition in it"));
        }
    }
    crate::engine::structural::Overrides::from_crds(docs.iter().map(|(n, v)| (n.as_str(), v)))
}

/// The platform to judge with, and why: `--platform openshift|kubernetes`, else the config
/// file's `platform`, else what the objects show ([`platform::detect`]).
fn choose_platform(args: &CheckArgs, config: &Config, inputs: &Inputs) -> Chosen {
    if let Some(PlatformChoice::Fixed(p)) = args.platform {
        return Chosen {
            platform: p,
            reason: "--platform".to_string(),
            detected: false,
        };
    }
    if config.sets_platform
        && let Some(path) = &config.path
    {
        return Chosen {
            platform: config.settings.platform,
            reason: format!("set by {}", path.display()),
            detected: false,
        };
    }
    platform::detect(inputs.objects.iter().filter_map(|o| {
        let file = inputs.files.get(o.file)?;
        Some((file.name.as_str(), &*o.value))
    }))
}

/// A usage error: said on standard error, exit 2.
fn usage(stderr: &mut dyn Write, e: impl std::fmt::Display) -> i32 {
    let _ = writeln!(stderr, "flink-lint: {e}");
    EXIT_USAGE
}

/// The walk's selection: `--exclude` (relative to the working directory), the config file's
/// `exclude` (relative to it), and `.gitignore` unless `--no-ignore`.
fn selection(args: &CheckArgs, config: &Config) -> Result<discover::Selection, String> {
    let mut sel = discover::Selection::new();
    sel.gitignore = !args.no_ignore;
    let cwd = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
    sel.exclude(&cwd, &args.exclude, "--exclude")?;
    if let (Some(dir), Some(path)) = (config.dir(), &config.path) {
        let source = format!("{}: exclude", path.display());
        sel.exclude(dir, &config.settings.exclude, &source)?;
    }
    Ok(sel)
}

/// Expand the paths with the selection; with `--verbose`, say what the walks skipped.
fn expand(
    args: &CheckArgs,
    config: &Config,
    stderr: &mut dyn Write,
) -> Result<discover::Expanded, i32> {
    let sel = selection(args, config).map_err(|e| usage(stderr, e))?;
    let found = discover::expand_with(&args.paths, &sel);
    if args.verbose {
        let _ = writeln!(
            stderr,
            "flink-lint: directory walks always skip {}",
            discover::BUILT_IN_SKIPS
        );
        for (path, why) in &found.skipped {
            let _ = writeln!(stderr, "flink-lint: skipped {path}: {why}");
        }
    }
    Ok(found)
}

/// The paths as the empty-input error names them.
fn named_paths(args: &CheckArgs) -> String {
    if args.paths.is_empty() {
        ".".to_string()
    } else {
        args.paths.join(", ")
    }
}

/// What reading and judging the inputs of a `check` or `baseline write` gave.
struct Run {
    outcome: Outcome,
    /// The objects, when a baseline needs their values.
    objects: Option<baseline::Objects>,
    chosen: Chosen,
    /// The human format's paths to read files again by (see [`check`]).
    paths: std::collections::HashMap<String, std::path::PathBuf>,
}

/// Read the inputs the arguments name and judge them; an error is its exit code (said on
/// standard error).
fn read_and_judge(
    args: &CheckArgs,
    config: &mut Config,
    registry: &'static Registry,
    show_progress: bool,
    keep_objects: bool,
    stderr: &mut dyn Write,
) -> Result<Run, i32> {
    let discover::Expanded {
        inputs: files,
        errors: missing,
        ..
    } = expand(args, config, stderr)?;
    let format = args.format.unwrap_or(Format::Human);
    let mut progress = Progress::new(show_progress);
    let mut inputs = Inputs::default();
    for (name, message) in missing {
        inputs.unreadable(&name, message);
    }
    // The human format reads the files it quotes again, by their paths (names are for output:
    // two paths can show as one name). Of paths shown alike the first is read: a text that is
    // not the one judged under that name is never quoted.
    let human = format == Format::Human;
    let mut paths: std::collections::HashMap<String, std::path::PathBuf> = Default::default();
    if human {
        for input in &files {
            if let Input::File(p) = input {
                paths.entry(input.display()).or_insert_with(|| p.clone());
            }
        }
    }
    let mut texts: Vec<(String, String)> = Vec::new();
    for (name, text) in read_all(files) {
        match text {
            Ok(t) => texts.push((name, t)),
            Err(u) => inputs.errors.push(super::InputError {
                file: name.clone(),
                line: u.line,
                column: u.column,
                message: u.message,
            }),
        }
        progress.reading(texts.len(), 0, stderr);
    }
    // Only the human format quotes source lines, and it reads the files it quotes again once
    // they are judged (standard input cannot be read twice: its text is kept).
    inputs.add_all(texts, |name| human && name == "-");
    if !args.old.is_empty() {
        let old = read_old(args, config, stderr)?;
        inputs.errors.extend(old.errors.iter().cloned());
        inputs.old = Some(super::OldObjects::of(&old));
    }
    progress.reading(inputs.files.len(), inputs.objects.len(), stderr);
    let chosen = choose_platform(args, config, &inputs);
    config.settings.platform = chosen.platform;
    let engine = Engine::new(registry, config.settings.clone()).map_err(|e| usage(stderr, e))?;
    let objects = keep_objects.then(|| baseline::objects_of(&inputs));
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
    Ok(Run {
        outcome,
        objects,
        chosen,
        paths,
    })
}

/// The objects of the `--old` paths, found and read as the paths are (their values only: no
/// text is kept). A file that cannot be read or parsed is an input error, named as given.
fn read_old(args: &CheckArgs, config: &Config, stderr: &mut dyn Write) -> Result<Inputs, i32> {
    if args.old.iter().any(|p| p == "-") {
        return Err(usage(
            stderr,
            "--old reads files or directories, not standard input".to_string(),
        ));
    }
    let old_args = CheckArgs {
        paths: args.old.clone(),
        ..args.clone()
    };
    let discover::Expanded {
        inputs: files,
        errors: missing,
        ..
    } = expand(&old_args, config, stderr)?;
    let mut old = Inputs::default();
    for (name, message) in missing {
        old.unreadable(&name, message);
    }
    let mut texts = Vec::new();
    for (name, text) in read_all(files) {
        match text {
            Ok(t) => texts.push((name, t)),
            Err(u) => old.errors.push(super::InputError {
                file: name,
                line: u.line,
                column: u.column,
                message: u.message,
            }),
        }
    }
    old.add_all(texts, |_| false);
    Ok(old)
}

/// The baseline a check compares with: `--baseline`, else the config file's `baseline`
/// (relative to it); its name and contents.
fn load_baseline(
    report: &ReportArgs,
    config: &Config,
) -> Result<Option<(String, Baseline)>, String> {
    let path = match (&report.baseline, &config.settings.baseline) {
        (Some(p), _) => std::path::PathBuf::from(p),
        (None, Some(p)) => config.dir().map_or_else(|| p.into(), |d| d.join(p)),
        (None, None) => return Ok(None),
    };
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read baseline {name}: {e}"))?;
    Baseline::parse(&name, &text).map(|b| Some((name, b)))
}

/// Whether `c` asks for colour on a stream that is (or is not) a terminal.
fn colored(c: Color, terminal: bool) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn check(
    cmd: CheckCmd,
    registry: &'static Registry,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let CheckCmd {
        check: args,
        report,
    } = cmd;
    let mut config = match settings(&args, registry) {
        Ok(c) => c,
        Err(e) => return usage(stderr, e),
    };
    let baseline = match load_baseline(&report, &config) {
        Ok(b) => b,
        Err(e) => return usage(stderr, e),
    };
    let format = args.format.unwrap_or(Format::Human);
    let show_progress = !report.quiet && progress_enabled(format, std::io::stderr().is_terminal());
    let judged = match read_and_judge(
        &args,
        &mut config,
        registry,
        show_progress,
        baseline.is_some(),
        stderr,
    ) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let Run {
        mut outcome,
        objects,
        chosen,
        paths,
    } = judged;
    let human = format == Format::Human;
    // Notes after the summary: the platform when the evidence chose it, what the baseline left
    // out. The human and GitHub formats print them after their summary; the others on standard
    // error (never inside a machine-readable document).
    let mut notes: Vec<String> = Vec::new();
    if chosen.detected || args.verbose {
        notes.push(chosen.note());
    }
    if let (Some(b), Some(objects)) = (&baseline, &objects) {
        notes.push(apply_baseline(&mut outcome, b, objects, &config, registry));
    }
    if human {
        outcome.reload_texts(|name| paths.get(name).and_then(|p| reread(p, name)));
    }
    let empty = outcome.objects.is_empty() && outcome.errors.is_empty() && !report.allow_empty;
    // The exit code counts every finding; --min-severity only changes what is printed.
    let code = if empty {
        EXIT_USAGE
    } else {
        exit_code(&outcome, args.fail_on)
    };
    let summary = outcome.summary();
    notes.extend(hide_below(&mut outcome, report.min_severity));
    if report.quiet {
        notes.clear();
    }
    let color = colored(args.color, std::io::stdout().is_terminal());
    // Input errors of the human format go to standard error, before the findings.
    if human && !outcome.errors.is_empty() {
        let err_color = colored(args.color, std::io::stderr().is_terminal());
        let _ = render::write_input_errors(stderr, &outcome, err_color);
        let _ = stderr.flush();
    }
    // The two formats that can be as large as the input are written as they are made; the
    // others are built whole first.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut *stdout);
    let fix_problems = &outcome.fix_problems;
    let opts = render::HumanOptions {
        color,
        input_errors: false,
        summary: (!report.quiet).then_some(summary),
        notes: &notes,
    };
    let written = match format {
        Format::Json => render::write_json(&mut out, &outcome, fix_problems),
        Format::Human => render::write_human_with(&mut out, &outcome, fix_problems, &opts),
        Format::Sarif => out.write_all(render::sarif(&outcome, registry).as_bytes()),
        Format::Junit => out.write_all(render::junit(&outcome).as_bytes()),
        Format::Github => out.write_all(
            render::github_with(&outcome, (!report.quiet).then_some(&summary), &notes).as_bytes(),
        ),
        Format::Gitlab => out.write_all(render::gitlab(&outcome).as_bytes()),
    }
    .and_then(|()| out.flush());
    drop(out);
    if let Err(e) = written {
        return output_failed(stderr, &e);
    }
    if !matches!(format, Format::Human | Format::Github) {
        for n in &notes {
            let _ = writeln!(stderr, "flink-lint: {n}");
        }
    }
    if empty {
        let _ = writeln!(
            stderr,
            "flink-lint: no Kubernetes objects found in {} (--allow-empty accepts that)",
            named_paths(&args)
        );
    }
    super::free_elsewhere(outcome);
    code
}

/// Leave out of `outcome` the findings `baseline` holds; the note that says how many.
fn apply_baseline(
    outcome: &mut Outcome,
    (name, b): &(String, Baseline),
    objects: &baseline::Objects,
    config: &Config,
    registry: &Registry,
) -> String {
    let settings = &config.settings;
    let active = |rule: &str| {
        registry
            .get(rule)
            .is_some_and(|r| settings.effective_severity(r).is_some())
    };
    let applied = baseline::apply(outcome, b, objects, active);
    format!(
        "baseline {name}: {} finding(s) not reported, {} entr{} fixed since it was written{}",
        applied.suppressed,
        applied.fixed,
        if applied.fixed == 1 { "y" } else { "ies" },
        if applied.fixed > 0 {
            " (`flink-lint baseline write` shrinks it)"
        } else {
            ""
        }
    )
}

/// Leave out of `outcome` the findings below `--min-severity` (the exit code is worked out
/// before); the note that says how many, if any.
fn hide_below(outcome: &mut Outcome, min: Option<MinSeverity>) -> Option<String> {
    let min = min?;
    let before = outcome.findings.len();
    outcome
        .findings
        .retain(|l| l.finding.severity >= min.severity());
    let hidden = before - outcome.findings.len();
    (hidden > 0).then(|| {
        format!(
            "{hidden} finding(s) below --min-severity {} not shown",
            min.severity().as_str()
        )
    })
}

/// `flink-lint baseline write FILE [PATHS]`: judge the paths as `check` does and write every
/// finding to FILE. Nothing is written when an input cannot be read (exit 2) or the paths hold
/// no object.
fn baseline_write(
    file: &str,
    args: CheckArgs,
    registry: &'static Registry,
    stderr: &mut dyn Write,
) -> i32 {
    let mut config = match settings(&args, registry) {
        Ok(c) => c,
        Err(e) => return usage(stderr, e),
    };
    let judged = match read_and_judge(&args, &mut config, registry, false, true, stderr) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let Run {
        outcome,
        objects,
        chosen,
        ..
    } = judged;
    if !outcome.errors.is_empty() {
        let _ = render::write_input_errors(stderr, &outcome, false);
        return usage(
            stderr,
            format!(
                "{file} not written: {} input error(s)",
                outcome.errors.len()
            ),
        );
    }
    if outcome.objects.is_empty() {
        return usage(
            stderr,
            format!(
                "no Kubernetes objects found in {}: {file} not written",
                named_paths(&args)
            ),
        );
    }
    let b = baseline::of(&outcome, &objects.unwrap_or_default());
    if let Err(e) = std::fs::write(file, b.to_text()) {
        return usage(stderr, format!("cannot write {file}: {e}"));
    }
    let _ = writeln!(
        stderr,
        "flink-lint: wrote {} finding(s) of {} object(s) to {file} (platform {})",
        b.findings.len(),
        outcome.objects.len(),
        chosen.platform.as_str()
    );
    super::free_elsewhere(outcome);
    EXIT_OK
}

/// Read every input as text, in order, on every core for many files (opening and reading
/// thousands of small files is a third of the time before parsing).
fn read_all(files: Vec<Input>) -> Vec<(String, Result<String, Unreadable>)> {
    let read = |input: &Input| {
        let name = input.display();
        let text = read_input(input, &name);
        (name, text)
    };
    super::in_runs(&files, 64, |_, run| {
        run.iter().map(read).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Read one input as text (capped, decoded).
fn read_input(input: &Input, name: &str) -> Result<String, Unreadable> {
    read_input_as(PROGRAM, input, name)
}

/// [`read_input`] for `program` (named in the message when the input is too large): also
/// `flink-admission replay`'s reading.
pub fn read_input_as(program: &str, input: &Input, name: &str) -> Result<String, Unreadable> {
    read_bytes(program, input, name).and_then(|bytes| decode(input_name(input, name), bytes))
}

/// How an input is named in messages: `standard input`, or its name.
fn input_name<'a>(input: &Input, name: &'a str) -> &'a str {
    match input {
        Input::Stdin => "standard input",
        Input::File(_) => name,
    }
}

/// The bytes of one input, capped.
fn read_bytes(program: &str, input: &Input, name: &str) -> Result<Vec<u8>, Unreadable> {
    match input {
        Input::Stdin => read_capped_as(program, std::io::stdin().lock(), "standard input"),
        Input::File(p) => match std::fs::File::open(p) {
            Ok(f) => read_opened(program, f, name),
            Err(e) => Err(Unreadable::new(format!("cannot read {name}: {e}"))),
        },
    }
}

/// The bytes of an open file, capped.
fn read_opened(program: &str, f: std::fs::File, name: &str) -> Result<Vec<u8>, Unreadable> {
    match f.metadata() {
        Ok(m) if m.is_file() && m.len() > MAX_INPUT_BYTES => Err(too_large(program, name)),
        // Sized from the file's length: one allocation of the right size, not a buffer
        // doubled as it fills (the texts are kept while the files are judged).
        Ok(m) if m.is_file() => {
            read_capped_into(program, f, name, Vec::with_capacity(m.len() as usize + 1))
        }
        _ => read_capped_as(program, f, name),
    }
}

/// Read again, for the human format's quotes, a file that was judged: a regular file only (a
/// file swapped for a FIFO meanwhile is not waited on), capped and decoded as before.
fn reread(path: &Path, name: &str) -> Option<String> {
    let file = super::write::open_regular(path, false).ok()??;
    read_opened(PROGRAM, file, name)
        .and_then(|bytes| decode(name, bytes))
        .ok()
}

/// `flink-lint fix`: judge the files as `check` does, write the fixes into them (or print the
/// diff), and report what is left. Exit 0 when nothing at `--fail-on` is left, 1 when findings
/// without a fix remain, 2 on input errors (a file that cannot be read, parsed, edited or
/// written; such a file is left as it was).
fn fix(
    args: FixArgs,
    registry: &'static Registry,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let mut config = match settings(&args.check, registry) {
        Ok(c) => c,
        Err(e) => return usage(stderr, e),
    };
    let report = &args.report;
    let baseline = match load_baseline(report, &config) {
        Ok(b) => b,
        Err(e) => return usage(stderr, e),
    };
    if args.check.paths.is_empty() {
        let _ = writeln!(
            stderr,
            "flink-lint fix: name the files or directories to fix (fix writes files, so it does not default to '.')"
        );
        return EXIT_USAGE;
    }
    if !args.check.old.is_empty() {
        let _ = writeln!(
            stderr,
            "flink-lint fix: --old is for `check` (the rules comparing versions have no fixes)"
        );
        return EXIT_USAGE;
    }
    if args.check.paths.iter().any(|p| p == "-") {
        let _ = writeln!(
            stderr,
            "flink-lint fix: standard input cannot be fixed in place; name the files (`flink-lint check -` prints each finding's patch)"
        );
        return EXIT_USAGE;
    }
    let (files, missing) = match expand(&args.check, &config, stderr) {
        Ok(found) => (found.inputs, found.errors),
        Err(code) => return code,
    };
    let mut read_errors: Vec<super::InputError> = missing
        .into_iter()
        .map(|(file, message)| super::InputError {
            file,
            line: 1,
            column: 1,
            message,
        })
        .collect();
    // Each text judged, with the path it is written back to (names are for output only: two
    // paths can show as one name) and its bytes as read when they are not its text (UTF-16).
    let mut texts = Vec::new();
    let mut sources: Vec<Judged> = Vec::new();
    for input in files {
        let name = input.display();
        let Input::File(path) = &input else { continue };
        match read_bytes(PROGRAM, &input, &name).and_then(|bytes| {
            let raw = std::str::from_utf8(&bytes).is_err().then(|| bytes.clone());
            decode(&name, bytes).map(|text| (text, raw))
        }) {
            Ok((text, raw)) => {
                sources.push(Judged {
                    path: path.clone(),
                    raw,
                });
                texts.push((name, text));
            }
            Err(u) => read_errors.push(super::InputError {
                file: name,
                line: u.line,
                column: u.column,
                message: u.message,
            }),
        }
    }
    // The platform is chosen from the objects as `check` chooses it (parsed once more here,
    // only when the evidence decides).
    let chosen = {
        let mut probe = Inputs::default();
        if args
            .check
            .platform
            .is_none_or(|p| p == PlatformChoice::Auto)
            && !config.sets_platform
        {
            for (name, text) in &texts {
                probe.add(name, text);
            }
        }
        choose_platform(&args.check, &config, &probe)
    };
    config.settings.platform = chosen.platform;
    if (args.check.verbose || chosen.detected) && !report.quiet {
        let _ = writeln!(stderr, "flink-lint: {}", chosen.note());
    }
    let engine = match Engine::new(registry, config.settings.clone()) {
        Ok(e) => e,
        Err(e) => return usage(stderr, e),
    };
    let run = super::fix::fix(&engine, texts, args.unsafe_fixes);
    let mut errors = read_errors;
    errors.extend(run.errors.iter().cloned());
    let changed = run.changed().count();
    // Files whose fixes are not on disk: they are judged again as they are.
    let mut unwritten = vec![false; run.files.len()];
    if args.diff {
        let mut text = String::new();
        for f in run.changed() {
            text.push_str(&super::fix::diff(f));
        }
        if let Err(e) = write_out(stdout, text.as_bytes()) {
            return output_failed(stderr, &e);
        }
    } else {
        for (i, (f, source)) in run.files.iter().zip(&sources).enumerate() {
            if f.before == f.after {
                continue;
            }
            let judged = source.raw.as_deref().unwrap_or(f.before.as_bytes());
            match super::write::replace(&source.path, judged, f.after.as_bytes()) {
                Ok(()) => {
                    if !report.quiet {
                        let _ = writeln!(stderr, "flink-lint: fixed {}", f.name);
                    }
                }
                Err(e) => {
                    unwritten[i] = true;
                    let message = e.message(&f.name);
                    let _ = writeln!(stderr, "flink-lint: {message}");
                    errors.push(super::InputError {
                        file: f.name.clone(),
                        line: 1,
                        column: 1,
                        message,
                    });
                }
            }
        }
    }
    let not_written = unwritten.iter().filter(|&&u| u).count();
    let applied = run.applied;
    // The files as they are now: fixed, or as they were where the fixes were not written.
    let now = || {
        let mut inputs = super::Inputs::default();
        for (f, &u) in run.files.iter().zip(&unwritten) {
            inputs.add(&f.name, if u { &f.before } else { &f.after });
        }
        inputs
    };
    let mut outcome = if not_written == 0 {
        run.outcome
    } else {
        super::lint(&engine, now())
    };
    outcome.errors.extend(errors);
    let mut notes: Vec<String> = Vec::new();
    if let Some(b) = &baseline {
        let objects = baseline::objects_of(&now());
        notes.push(apply_baseline(&mut outcome, b, &objects, &config, registry));
    }
    let empty = outcome.objects.is_empty() && outcome.errors.is_empty() && !report.allow_empty;
    let code = if empty {
        EXIT_USAGE
    } else {
        exit_code(&outcome, args.check.fail_on)
    };
    let summary = outcome.summary();
    notes.extend(hide_below(&mut outcome, report.min_severity));
    let done = if args.diff {
        format!("would change {changed} file(s) ({applied} fix operation(s))")
    } else if not_written == 0 {
        format!("changed {changed} file(s) ({applied} fix operation(s))")
    } else {
        format!(
            "changed {} file(s), left {not_written} as it was ({applied} fix operation(s) made, not all written)",
            changed - not_written
        )
    };
    if !report.quiet {
        let _ = writeln!(
            stderr,
            "flink-lint: {done}; {} error(s) and {} warning(s) left, {} input error(s)",
            summary.errors, summary.warnings, summary.input_errors
        );
        for n in &notes {
            let _ = writeln!(stderr, "flink-lint: {n}");
        }
    }
    if !args.diff {
        let format = args.check.format.unwrap_or(Format::Human);
        let shown = (!report.quiet).then_some(summary);
        let text = match format {
            Format::Human => {
                let opts = render::HumanOptions {
                    color: false,
                    input_errors: true,
                    summary: shown,
                    notes: &[],
                };
                let mut out = Vec::new();
                let _ = render::write_human_with(&mut out, &outcome, &outcome.fix_problems, &opts);
                String::from_utf8_lossy(&out).into_owned()
            }
            Format::Json => render::json(&outcome),
            Format::Sarif => render::sarif(&outcome, registry),
            Format::Junit => render::junit(&outcome),
            Format::Github => render::github_with(&outcome, shown.as_ref(), &[]),
            Format::Gitlab => render::gitlab(&outcome),
        };
        if let Err(e) = write_out(stdout, text.as_bytes()) {
            return output_failed(stderr, &e);
        }
    }
    if empty {
        let _ = writeln!(
            stderr,
            "flink-lint: no Kubernetes objects found in {} (--allow-empty accepts that)",
            named_paths(&args.check)
        );
    }
    code
}

/// A file `fix` judged: where it is written back, and its bytes as read when they are not its
/// text's (a UTF-16 file), which it must still hold to be replaced.
struct Judged {
    path: std::path::PathBuf,
    raw: Option<Vec<u8>>,
}

/// The most flink-lint reads from one input (a file or standard input): 64 MiB. A manifest is
/// kilobytes; this only stops `/dev/zero`, a log or a disk image from being read whole.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Why an input could not be read, and where (1:1 unless the problem has a place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Unreadable {
    fn new(message: String) -> Unreadable {
        Unreadable {
            line: 1,
            column: 1,
            message,
        }
    }
}

/// The program named in flink-lint's messages.
const PROGRAM: &str = "flink-lint";

fn too_large(program: &str, name: &str) -> Unreadable {
    Unreadable::new(format!(
        "{name} is too large: {program} reads at most {} MiB per input",
        MAX_INPUT_BYTES / (1024 * 1024)
    ))
}

/// Read at most [`MAX_INPUT_BYTES`] (and one byte more, to know there is more).
pub fn read_capped(reader: impl Read, name: &str) -> Result<Vec<u8>, Unreadable> {
    read_capped_as(PROGRAM, reader, name)
}

/// [`read_capped`], naming `program` when the input is too large.
fn read_capped_as(program: &str, reader: impl Read, name: &str) -> Result<Vec<u8>, Unreadable> {
    read_capped_into(program, reader, name, Vec::new())
}

/// [`read_capped_as`] into `buf` (empty; its capacity a guess of the size).
fn read_capped_into(
    program: &str,
    reader: impl Read,
    name: &str,
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, Unreadable> {
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Unreadable::new(format!("cannot read {name}: {e}")))?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(program, name));
    }
    Ok(buf)
}

/// The bytes of an input as text: UTF-8 (with or without a BOM), or UTF-16 with a BOM
/// (decoded). Invalid UTF-8 is reported at the line and column of its first bad byte.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Unreadable> {
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(Unreadable::new(format!(
            "{name} is UTF-32 text, which is not supported: convert it to UTF-8"
        )));
    }
    let utf16 = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        Some([0xFE, 0xFF]) => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(unit) = utf16 {
        let body = bytes.get(2..).unwrap_or_default();
        if body.len() % 2 != 0 {
            return Err(Unreadable::new(format!(
                "{name} is not UTF-16 text: it starts with a UTF-16 byte order mark but has an odd number of bytes"
            )));
        }
        let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
        let mut text = String::with_capacity(body.len());
        for (i, c) in char::decode_utf16(units).enumerate() {
            match c {
                Ok(c) => text.push(c),
                Err(e) => {
                    let (line, column) = super::source::line_column(&text, text.len());
                    return Err(Unreadable {
                        line,
                        column,
                        message: format!(
                            "{name} is not UTF-16 text: unpaired surrogate 0x{:04X} at byte {} (line {line}, column {column})",
                            e.unpaired_surrogate(),
                            2 + 2 * i
                        ),
                    });
                }
            }
        }
        return Ok(text);
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let prefix = std::str::from_utf8(bytes.get(..valid).unwrap_or_default()).unwrap_or("");
        let (line, column) = super::source::line_column(prefix, prefix.len());
        let bad = bytes.get(valid).copied().unwrap_or(0);
        Unreadable {
            line,
            column,
            message: format!(
                "{name} is not UTF-8 text: invalid byte 0x{bad:02X} at line {line}, column {column}"
            ),
        }
    })
}

/// Write everything and flush: a full disk or a closed pipe is an error, not lost output.
fn write_out(out: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}

/// Output that could not be written: said on standard error, exit 2.
fn output_failed(stderr: &mut dyn Write, e: &std::io::Error) -> i32 {
    let _ = writeln!(stderr, "flink-lint: cannot write the output: {e}");
    let _ = stderr.flush();
    EXIT_USAGE
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
            // While files are still being read, their objects are not counted yet.
            let line = if objects == 0 {
                format!("flink-lint: reading {files} files")
            } else {
                let rate = self.rate(objects);
                format!(
                    "flink-lint: reading {files} files, {objects} objects ({rate:.0} objects/s)"
                )
            };
            self.draw(&line, stderr);
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

/// flink-lint's exit codes, as its man page's EXIT STATUS section states them.
pub const EXIT_STATUS: &[(i32, &str)] = &[
    (
        EXIT_OK,
        "No finding at or above --fail-on (findings in the baseline do not count).",
    ),
    (
        EXIT_FINDINGS,
        "A finding at or above --fail-on (default: error) was reported.",
    ),
    (
        EXIT_USAGE,
        "A usage error, an input that could not be read or parsed, no Kubernetes object in the \
         paths (unless --allow-empty), or output that could not be written.",
    ),
];

/// The man page (roff) of a clap command, for `flink-admission man`: [`man_page_with`] without
/// an EXIT STATUS section.
pub fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    man_page_with(cmd, &[])
}

/// The man page (roff) of a clap command: clap_mangen's sections, with the subcommands listed
/// on this page (there is no page per subcommand to refer to) and `exit_status` (when not
/// empty) in an EXIT STATUS section.
pub fn man_page_with(cmd: clap::Command, exit_status: &[(i32, &str)]) -> std::io::Result<Vec<u8>> {
    use roff::{Roff, bold, roman};
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    let mut roff = Roff::new();
    let subcommands: Vec<&clap::Command> =
        cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    if !subcommands.is_empty() {
        roff.control("SH", ["SUBCOMMANDS"]);
        for sub in subcommands {
            roff.control("TP", []);
            roff.text([bold(format!("{} {}", cmd.get_name(), sub.get_name()))]);
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            roff.text([roman(format!(
                "{about} See `{} {} --help` for its options.",
                cmd.get_name(),
                sub.get_name()
            ))]);
        }
    }
    if !exit_status.is_empty() {
        roff.control("SH", ["EXIT STATUS"]);
        for (code, meaning) in exit_status {
            roff.control("TP", []);
            roff.text([bold(code.to_string())]);
            roff.text([roman(*meaning)]);
        }
    }
    roff.to_writer(&mut buf)?;
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
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
    fn decode_utf8_utf16_and_what_it_refuses() {
        assert_eq!(decode("a", b"x: 1".to_vec()), Ok("x: 1".to_string()));
        assert_eq!(
            decode(
                "a",
                vec![0xFF, 0xFE, b'x', 0, b'\r', 0, 0x3D, 0xD8, 0x00, 0xDE]
            ),
            Ok("x\r\u{1F600}".to_string())
        );
        assert_eq!(decode("a", vec![0xFE, 0xFF, 0, b'x']), Ok("x".to_string()));
        let e = decode("a.yaml", vec![0xFF, 0xFE, b'x', 0, b'\n', 0, 0x00, 0xDC])
            .expect_err("unpaired surrogate");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(
            e.message
                .starts_with("a.yaml is not UTF-16 text: unpaired surrogate 0xDC00")
        );
        let e = decode("a.yaml", vec![0xFF, 0xFE, 0, 0, b'x', 0, 0, 0]).expect_err("UTF-32");
        assert!(e.message.contains("UTF-32"), "{e:?}");
        let e = decode("a.yaml", b"ok\rb\xC3(".to_vec()).expect_err("bad UTF-8");
        assert_eq!((e.line, e.column), (2, 2));
        // Truncated at the end of the input: still placed.
        let e = decode("a.yaml", b"\xEF\xBB\xBFab\xE2\x82".to_vec()).expect_err("truncated");
        assert_eq!((e.line, e.column), (1, 3));
    }

    #[test]
    fn reading_stops_past_the_cap() {
        let big = std::io::repeat(b'a').take(MAX_INPUT_BYTES + 10);
        let e = read_capped(big, "x").expect_err("too large");
        assert!(e.message.starts_with("x is too large"), "{e:?}");
        let exact = std::io::repeat(b'a').take(MAX_INPUT_BYTES);
        assert_eq!(
            read_capped(exact, "x").map(|b| b.len() as u64),
            Ok(MAX_INPUT_BYTES)
        );
    }

    #[test]
    fn a_failed_write_is_exit_2_with_a_message() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut err = Vec::new();
        let code = main_with_args(["flink-lint", "rules"], &mut Full, &mut err);
        assert_eq!(code, EXIT_USAGE);
        assert_eq!(
            String::from_utf8_lossy(&err),
            "flink-lint: cannot write the output: disk full\n"
        );
    }

    #[test]
    fn streamed_json_that_cannot_be_written_is_exit_2() {
        /// Takes `room` bytes, then fails (a full disk part-way through the document).
        struct Fills {
            room: usize,
            got: Vec<u8>,
        }
        impl Write for Fills {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.got.len() + b.len() > self.room {
                    return Err(std::io::Error::other("disk full"));
                }
                self.got.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jm.yaml");
        std::fs::write(
            &file,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flink-jobmanager}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: flink, component: jobmanager}}\n    spec:\n      containers:\n      - {name: jobmanager, image: 'flink:1.20', args: [jobmanager]}\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let args = ["flink-lint", "check", "--format", "json", path];
        // With room for all of it: the whole document, and the findings' exit code.
        let mut all = Fills {
            room: usize::MAX,
            got: Vec::new(),
        };
        let code = main_with_args(args, &mut all, &mut Vec::new());
        assert_eq!(code, 1);
        let doc: serde_json::Value = serde_json::from_slice(&all.got).unwrap();
        assert!(doc["findings"].as_array().is_some_and(|f| !f.is_empty()));
        for room in [0, 100, all.got.len() - 1] {
            let mut err = Vec::new();
            let mut out = Fills {
                room,
                got: Vec::new(),
            };
            assert_eq!(
                main_with_args(args, &mut out, &mut err),
                EXIT_USAGE,
                "{room}"
            );
            assert_eq!(
                String::from_utf8_lossy(&err),
                "flink-lint: cannot write the output: disk full\n"
            );
        }
    }

    #[test]
    fn many_files_are_read_in_order_with_their_errors_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        for i in 0..150 {
            let path = dir.path().join(format!("f{i:03}.yaml"));
            if i % 50 != 7 {
                std::fs::write(&path, format!("n: {i}\n")).unwrap();
            }
            inputs.push(Input::File(path));
        }
        let read = read_all(inputs);
        assert_eq!(read.len(), 150);
        for (i, (name, text)) in read.iter().enumerate() {
            assert!(name.ends_with(&format!("f{i:03}.yaml")), "{name}");
            match text {
                Ok(t) => assert_eq!(t, &format!("n: {i}\n")),
                Err(e) => {
                    assert_eq!(i % 50, 7, "only the missing files fail");
                    assert!(e.message.contains("cannot read"), "{}", e.message);
                }
            }
        }
        assert_eq!(read.iter().filter(|(_, t)| t.is_err()).count(), 3);
    }

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
