//! The header of a rule fixture (`tests/fixtures/<RULE>/*.yaml`), read the same way by every
//! test crate that lints fixtures (`rules`, `fixes`, `fix_cli`).
//!
//! The header is the block of `#` lines the file starts with. In it, a line whose first word
//! ends with a colon (`# word: ...`) is a header and must be one of [`KEYS`], written
//! `# key: value`; every other `#` line is a plain comment (so a comment must not start with
//! `word:`). A known key is read only in that block: one written further down is an error, as is
//! an unknown or repeated key and a value the key does not accept. A typo never silently weakens
//! a test.
//!
//! - `# expect: 12:5, 30:7`: the positions (line:column) a `fail*` fixture reports its rule at;
//! - `# flink-lint: --scope all --platform kubernetes`: settings, as `flink-lint` flags
//!   (`--scope`, `--platform`, `--pod-security`), on top of a `.flink-lint.yaml` beside the file;
//! - `# world: complete`: the file is the whole namespace (as a synced webhook cache);
//! - `# also: a.yaml, b.yaml`: more files linted with it, relative to its directory;
//! - `# message: <text>` (repeatable): the full message of a finding of the fixture's rule;
//! - `# old: old.yaml`: the previous version of the file's objects, relative to its directory
//!   (`flink-lint --old`; the webhook's `oldObject`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clap::Parser;
use flink_admission::engine::rule::{Platform, PlatformChoice, PodSecurity};
use flink_admission::engine::{Scope, Settings};
use flink_admission::lint::cli::{self, Cli};

/// Every header a fixture may carry.
pub const KEYS: [&str; 6] = ["expect", "flink-lint", "world", "also", "message", "old"];

/// The `flink-lint` flags a header may set (the ones that change settings, not output).
const FLAGS: [&str; 3] = ["--scope", "--platform", "--pod-security"];

/// A fixture's header, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `expect`, sorted; `None` without the header.
    pub expect: Option<Vec<(usize, usize)>>,
    /// `flink-lint`, split into arguments (each a flag of [`FLAGS`] or its value).
    pub flags: Vec<String>,
    /// `world: complete`.
    pub complete_world: bool,
    /// `also`, as written (relative to the fixture's directory).
    pub also: Vec<String>,
    /// Every `message`, in order.
    pub messages: Vec<String>,
    /// `old`, as written (relative to the fixture's directory).
    pub old: Option<String>,
    platform: Option<Platform>,
    scope: Option<Scope>,
    pod_security: Option<PodSecurity>,
}

/// The key of a `# word: ...` line (`# word:` then a space or the end), if it is one.
fn key_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('#')?.trim_start();
    let (word, _) = rest.split_once(':')?;
    let is_word = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    is_word.then_some(word)
}

/// Parse the header of `text`; `origin` names the file in errors (`origin:line: ...`).
pub fn parse(origin: &str, text: &str) -> Result<Header, String> {
    let mut h = Header::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut in_header = true;
    for (i, line) in text.lines().enumerate() {
        let at = format!("{origin}:{}", i + 1);
        in_header &= line.starts_with('#');
        let Some(key) = key_of(line) else { continue };
        if !in_header {
            if KEYS.contains(&key) {
                return Err(format!(
                    "{at}: `# {key}:` below the leading comment block is not read: move it up"
                ));
            }
            continue;
        }
        let Some(value) = line.strip_prefix(&format!("# {key}:")) else {
            return Err(format!(
                "{at}: header {line:?} is not written `# {key}: value`"
            ));
        };
        if !value.is_empty() && !value.starts_with(' ') {
            return Err(format!(
                "{at}: header {line:?} needs a space after the colon"
            ));
        }
        let value = value.trim();
        if !KEYS.contains(&key) {
            return Err(format!(
                "{at}: unknown header `# {key}:` (known: {}); a plain comment must not start \
                 with `word:`",
                KEYS.join(", ")
            ));
        }
        if key != "message" && seen.contains(&key) {
            return Err(format!("{at}: `# {key}:` given twice"));
        }
        seen.push(key);
        if value.is_empty() {
            return Err(format!("{at}: `# {key}:` has no value"));
        }
        match key {
            "expect" => h.expect = Some(positions(value).map_err(|e| format!("{at}: {e}"))?),
            "flink-lint" => h.flags(value).map_err(|e| format!("{at}: {e}"))?,
            "world" if value == "complete" => h.complete_world = true,
            "world" => {
                return Err(format!(
                    "{at}: `# world: {value}`: the only world is `complete`"
                ));
            }
            "also" => {
                h.also = value.split(',').map(|s| s.trim().to_string()).collect();
                if h.also.iter().any(String::is_empty) {
                    return Err(format!("{at}: `# also: {value}` has an empty file name"));
                }
            }
            "message" => h.messages.push(value.to_string()),
            "old" => h.old = Some(value.to_string()),
            _ => unreachable!("every key of KEYS is handled"),
        }
    }
    Ok(h)
}

/// `12:5, 30:7`, sorted.
fn positions(value: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::new();
    for p in value.split(',').map(str::trim) {
        let parsed = p
            .split_once(':')
            .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
            .filter(|&(l, c)| l > 0 && c > 0);
        match parsed {
            Some(lc) => out.push(lc),
            None => return Err(format!("`# expect:` position {p:?} is not line:column")),
        }
    }
    out.sort();
    Ok(out)
}

impl Header {
    /// `# flink-lint: ...`: flags `flink-lint` itself accepts (its own parser reads them), and
    /// only those that change settings.
    fn flags(&mut self, value: &str) -> Result<(), String> {
        self.flags = value.split_whitespace().map(String::from).collect();
        for flag in self.flags.iter().filter(|f| f.starts_with('-')) {
            let name = flag.split('=').next().unwrap_or(flag);
            if !FLAGS.contains(&name) {
                return Err(format!(
                    "`# flink-lint:` flag {flag} is not one a fixture sets (only {})",
                    FLAGS.join(", ")
                ));
            }
        }
        let parsed = Cli::try_parse_from(
            std::iter::once("flink-lint").chain(self.flags.iter().map(String::as_str)),
        )
        .map_err(|e| format!("`# flink-lint: {value}`: {}", e.render()))?;
        let args = parsed.check;
        if !args.paths.is_empty() {
            return Err(format!(
                "`# flink-lint: {value}`: {:?} is not a flag",
                args.paths
            ));
        }
        self.platform = match args.platform {
            None => None,
            Some(PlatformChoice::Fixed(p)) => Some(p),
            Some(PlatformChoice::Auto) => {
                return Err(format!(
                    "`# flink-lint: {value}`: a fixture names its platform (the library-level \
                     tests judge with the settings, which have no `auto`)"
                ));
            }
        };
        self.scope = args.scope.map(|s| match s {
            cli::ScopeArg::Flink => Scope::Flink,
            cli::ScopeArg::All => Scope::All,
        });
        self.pod_security = args.pod_security.map(|p| match p {
            cli::PodSecurity::Baseline => PodSecurity::Baseline,
            cli::PodSecurity::Restricted => PodSecurity::Restricted,
        });
        Ok(())
    }

    /// The settings `flink-lint` uses for the fixture at `path` (`None`: text without a file):
    /// a `.flink-lint.yaml` beside it, then the header's flags.
    pub fn settings(&self, path: Option<&Path>) -> Settings {
        let cfg = path.map(|p| p.with_file_name(".flink-lint.yaml"));
        let mut s = match cfg.as_deref().map(std::fs::read_to_string) {
            Some(Ok(text)) => Settings::from_yaml(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", cfg.unwrap_or_default().display())),
            _ => Settings::default(),
        };
        if let Some(p) = self.platform {
            s.platform = p;
        }
        if let Some(scope) = self.scope {
            s.scope = scope;
        }
        if let Some(level) = self.pod_security {
            s.pod_security = level;
        }
        s
    }

    /// The flags the `flink-lint` binary needs to judge the fixture at `path` as the library
    /// tests do: the header's, and `--platform openshift` (the settings' default) unless the
    /// header or a `.flink-lint.yaml` beside it names a platform (the binary's default is
    /// `--platform auto`).
    pub fn cli_flags(&self, path: &Path) -> Vec<String> {
        let mut flags = self.flags.clone();
        let config =
            std::fs::read_to_string(path.with_file_name(".flink-lint.yaml")).unwrap_or_default();
        let config_names_it = Settings::from_yaml(&config).is_ok() && config.contains("platform:");
        if self.platform.is_none() && !config_names_it {
            flags.extend([
                "--platform".to_string(),
                Platform::Openshift.as_str().to_string(),
            ]);
        }
        flags
    }

    /// The `old` file of the fixture at `path`.
    pub fn old_path(&self, path: &Path) -> Option<PathBuf> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.old.as_ref().map(|rel| dir.join(rel))
    }

    /// The `also` files of the fixture at `path`.
    pub fn also_paths(&self, path: &Path) -> Vec<PathBuf> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.also.iter().map(|rel| dir.join(rel)).collect()
    }
}

/// The header of `text` (a fixture without a file); panics with the problem.
pub fn of_text(origin: &str, text: &str) -> Header {
    parse(origin, text).unwrap_or_else(|e| panic!("{e}"))
}

/// The fixture at `path`: its text and header; panics naming the file and line of a bad header,
/// or an `also` file that does not exist.
pub fn read(path: &Path) -> (String, Header) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = of_text(&path.display().to_string(), &text);
    for p in h.also_paths(path).into_iter().chain(h.old_path(path)) {
        assert!(
            p.is_file(),
            "{}: `# also:` or `# old:` names {}, which does not exist",
            path.display(),
            p.display()
        );
    }
    (text, h)
}
