//! Which files to read: paths as given, directories walked for `*.yaml`, `*.yml`, `*.json` (any
//! case), `-` for standard input; and the nearest `.flink-lint.yaml`.
//!
//! The walk is ripgrep's (the `ignore` crate): `.gitignore` files (and `.git/info/exclude`)
//! inside a git repository are honoured unless `--no-ignore`; `--exclude` and the config file's
//! `exclude:` add gitignore-style patterns. Hidden directories, `target/` and `node_modules/` are
//! always skipped ([`BUILT_IN_SKIPS`]). A path named on the command line is always read, whatever
//! would skip it in a walk.
//!
//! The walk never follows a symbolic link to a directory (so link loops cannot make it spin),
//! takes only regular files (and links to them): a FIFO, socket or device named `*.yaml` in a
//! walked directory is reported as an input error, never opened. A path named on the command
//! line is read whatever it is (`<(kustomize build .)` is a pipe). No file is read twice: the
//! same file reached by two paths (a link, `dir dir/sub`) is read under the first name.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// The directories a walk always skips, and why (`--help` states them, `--verbose` lists what
/// they skipped).
pub const BUILT_IN_SKIPS: &str = "hidden directories (.*), target/ and node_modules/";

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name findings are reported under: the path as found, or `-`.
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Whether a walk takes `p`: `*.yaml`, `*.yml` or `*.json`, in any case (`*.YAML`).
fn is_manifest(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["yaml", "yml", "json"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// Why a walk skips a directory whatever the patterns say, if it does.
fn built_in_skip(name: &str) -> Option<&'static str> {
    if name.starts_with('.') {
        Some("a hidden directory")
    } else if name == "target" || name == "node_modules" {
        Some("a build or dependency directory")
    } else {
        None
    }
}

/// Gitignore-style exclude patterns, each set relative to its own directory (the working
/// directory for `--exclude`, the config file's directory for `exclude:`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    excludes: Vec<Gitignore>,
    /// Whether `.gitignore` files are honoured (`--no-ignore` turns them off).
    pub gitignore: bool,
}

impl Selection {
    /// `.gitignore` honoured, nothing excluded.
    pub fn new() -> Selection {
        Selection {
            excludes: Vec::new(),
            gitignore: true,
        }
    }

    /// Add `patterns` (gitignore syntax) relative to `root`; `source` names where they come
    /// from in the error a bad pattern gives.
    pub fn exclude(
        &mut self,
        root: &Path,
        patterns: &[String],
        source: &str,
    ) -> Result<(), String> {
        if patterns.is_empty() {
            return Ok(());
        }
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut b = GitignoreBuilder::new(&root);
        for p in patterns {
            b.add_line(None, p)
                .map_err(|e| format!("{source}: '{p}' is not a valid pattern: {e}"))?;
        }
        let set = b
            .build()
            .map_err(|e| format!("{source}: the exclude patterns do not build: {e}"))?;
        self.excludes.push(set);
        Ok(())
    }

    /// Whether `path` (absolute, canonical directory) is excluded by a pattern, itself or a
    /// directory above it.
    fn excluded(&self, path: &Path, is_dir: bool) -> bool {
        self.excludes.iter().any(|g| {
            path.starts_with(g.path()) && g.matched_path_or_any_parents(path, is_dir).is_ignore()
        })
    }
}

/// What expanding the paths found.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<Input>,
    /// Paths that could not be read or walked, with why.
    pub errors: Vec<(String, String)>,
    /// What the walk skipped by the built-in rules or an exclude pattern, with why.
    pub skipped: Vec<(String, String)>,
}

/// Expand paths into inputs, in a stable order, with `.gitignore` honoured and nothing
/// excluded. A path that does not exist is an error (returned separately so the other inputs
/// are still read).
pub fn expand(paths: &[String]) -> (Vec<Input>, Vec<(String, String)>) {
    let e = expand_with(paths, &Selection::new());
    (e.inputs, e.errors)
}

/// [`expand`] with `selection`'s excludes and `.gitignore` choice.
pub fn expand_with(paths: &[String], selection: &Selection) -> Expanded {
    let mut walk = Walk::default();
    let paths: Vec<String> = if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        if p == "-" {
            if !walk.out.inputs.contains(&Input::Stdin) {
                walk.out.inputs.push(Input::Stdin);
            }
            continue;
        }
        let path = PathBuf::from(p);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk.dir(&path, selection),
            Ok(_) => walk.file(path),
            Err(e) => walk
                .out
                .errors
                .push((p.clone(), format!("cannot read {p}: {e}"))),
        }
    }
    walk.out
}

#[derive(Default)]
struct Walk {
    out: Expanded,
    /// Canonical paths of the files taken and the directories walked.
    seen: HashSet<PathBuf>,
}

impl Walk {
    /// Whether `path` (by its canonical path) is new; a path that cannot be resolved is new.
    fn first_time(&mut self, path: &Path) -> bool {
        match std::fs::canonicalize(path) {
            Ok(c) => self.seen.insert(c),
            Err(_) => true,
        }
    }

    fn file(&mut self, path: PathBuf) {
        if self.first_time(&path) {
            self.out.inputs.push(Input::File(path));
        }
    }

    fn error(&mut self, name: String, message: String) {
        if !self
            .out
            .errors
            .iter()
            .any(|(n, m)| *n == name && *m == message)
        {
            self.out.errors.push((name, message));
        }
    }

    fn dir(&mut self, top: &Path, selection: &Selection) {
        let Ok(canonical_top) = std::fs::canonicalize(top) else {
            self.out.errors.push((
                top.display().to_string(),
                format!("cannot read directory {}", top.display()),
            ));
            return;
        };
        if self.seen.contains(&canonical_top) {
            return;
        }
        // The filter runs inside the walker: what it skips is collected for `--verbose`.
        let skipped: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let filter = {
            let skipped = skipped.clone();
            let selection = selection.clone();
            let (top, canonical_top) = (top.to_path_buf(), canonical_top.clone());
            move |entry: &ignore::DirEntry| {
                if entry.depth() == 0 {
                    return true;
                }
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let name = entry.file_name().to_str().unwrap_or("");
                let why = if is_dir { built_in_skip(name) } else { None };
                let why = why.map(str::to_string).or_else(|| {
                    let rel = entry.path().strip_prefix(&top).ok()?;
                    selection
                        .excluded(&canonical_top.join(rel), is_dir)
                        .then(|| "excluded by a pattern".to_string())
                });
                match why {
                    Some(why) => {
                        if let Ok(mut s) = skipped.lock() {
                            s.push((entry.path().display().to_string(), why));
                        }
                        false
                    }
                    None => true,
                }
            }
        };
        let walker = ignore::WalkBuilder::new(top)
            .standard_filters(false)
            .git_ignore(selection.gitignore)
            .git_exclude(selection.gitignore)
            .parents(selection.gitignore)
            .require_git(true)
            .follow_links(false)
            .sort_by_file_path(|a, b| a.cmp(b))
            .filter_entry(filter)
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let (name, message) = walk_error(top, &e);
                    self.error(name, message);
                    continue;
                }
            };
            let p = entry.path().to_path_buf();
            // The entry itself, not what a link points to: a link to a directory is not walked.
            let Some(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if let Ok(c) = std::fs::canonicalize(&p) {
                    self.seen.insert(c);
                }
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !is_manifest(&p) || name == ".flink-lint.yaml" {
                continue;
            }
            if kind.is_symlink() {
                match std::fs::metadata(&p) {
                    Ok(m) if m.is_dir() => {}
                    Ok(m) if m.is_file() => self.file(p),
                    Ok(m) => self.special(&p, m.file_type()),
                    // A dangling link: reading it reports why.
                    Err(_) => self.file(p),
                }
            } else if kind.is_file() {
                self.file(p);
            } else {
                self.special(&p, kind);
            }
        }
        let skipped = std::mem::take(&mut *skipped.lock().unwrap_or_else(|e| e.into_inner()));
        self.out.skipped.extend(skipped);
    }

    /// A FIFO, socket or device found by the walk: reported, never opened (a FIFO would block).
    fn special(&mut self, path: &Path, kind: std::fs::FileType) {
        let name = path.display().to_string();
        let what = special_kind(kind);
        self.error(
            name.clone(),
            format!("skipped {name}: not a regular file ({what})"),
        );
    }
}

/// A walk error as an input error: the path it is about and the message.
fn walk_error(top: &Path, e: &ignore::Error) -> (String, String) {
    fn path_of(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    fn io_of(e: &ignore::Error) -> Option<&std::io::Error> {
        match e {
            ignore::Error::Io(io) => Some(io),
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => io_of(err),
            _ => None,
        }
    }
    let path = path_of(e).unwrap_or(top).display().to_string();
    let message = match io_of(e) {
        Some(io) => format!("cannot read directory {path}: {io}"),
        None => format!("cannot walk {path}: {e}"),
    };
    (path, message)
}

#[cfg(unix)]
fn special_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_kind: std::fs::FileType) -> &'static str {
    "a special file"
}

/// The nearest `.flink-lint.yaml` from `start` (a file or directory) upward.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(start).ok()?;
    let mut dir = if abs.is_dir() {
        abs
    } else {
        abs.parent()?.to_path_buf()
    };
    loop {
        let candidate = dir.join(".flink-lint.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(inputs: &[Input]) -> Vec<String> {
        inputs.iter().map(Input::display).collect()
    }

    #[test]
    fn links_to_directories_are_not_walked_and_no_file_is_taken_twice() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        std::fs::write(d.join("a.yaml"), "kind: X\n").expect("write");
        std::fs::create_dir(d.join("sub")).expect("mkdir");
        std::fs::write(d.join("sub/b.yaml"), "kind: Y\n").expect("write");
        // Two links back to the top: following them would walk 2^depth copies.
        symlink(d, d.join("loop1")).expect("symlink");
        symlink(d, d.join("sub/loop2")).expect("symlink");
        // A link to a file is taken, but the file is read once.
        symlink(d.join("a.yaml"), d.join("z-link.yaml")).expect("symlink");
        symlink(d.join("missing.yaml"), d.join("dangling.yaml")).expect("symlink");
        let top = d.display().to_string();
        let (inputs, errors) =
            expand(&[top.clone(), format!("{top}/sub"), format!("{top}/a.yaml")]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            names(&inputs),
            vec![
                format!("{top}/a.yaml"),
                format!("{top}/dangling.yaml"),
                format!("{top}/sub/b.yaml"),
            ]
        );
    }

    #[test]
    fn special_files_in_a_walked_directory_are_reported_not_opened() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        let fifo = d.join("pipe.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !made {
            eprintln!("mkfifo unavailable; skipped");
            return;
        }
        symlink("/dev/zero", d.join("zero.yaml")).expect("symlink");
        std::fs::write(d.join("ok.yaml"), "kind: X\n").expect("write");
        let (inputs, errors) = expand(&[d.display().to_string()]);
        assert_eq!(
            names(&inputs),
            vec![d.join("ok.yaml").display().to_string()]
        );
        let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].ends_with("pipe.yaml: not a regular file (a FIFO)"),
            "{messages:?}"
        );
        assert!(
            messages[1].ends_with("zero.yaml: not a regular file (a character device)"),
            "{messages:?}"
        );
        // Named on the command line, a special file is the user's choice (`<(cmd)` is a pipe).
        let (inputs, errors) = expand(&[d.join("zero.yaml").display().to_string()]);
        assert!(errors.is_empty());
        assert_eq!(inputs.len(), 1);
    }
}
