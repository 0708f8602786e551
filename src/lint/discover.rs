//! Which files to read: paths as given, directories walked for `*.yaml`, `*.yml`, `*.json`
//! (hidden directories and `target/` skipped), `-` for standard input; and the nearest
//! `.flink-lint.yaml`.
//!
//! The walk never follows a symbolic link to a directory (so link loops cannot make it spin),
//! takes only regular files (and links to them): a FIFO, socket or device named `*.yaml` in a
//! walked directory is reported as an input error, never opened. A path named on the command
//! line is read whatever it is (`<(kustomize build .)` is a pipe). No file is read twice: the
//! same file reached by two paths (a link, `dir dir/sub`) is read under the first name.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

fn is_manifest(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expand paths into inputs, in a stable order. A path that does not exist is an error
/// (returned separately so the other inputs are still read).
pub fn expand(paths: &[String]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut walk = Walk::default();
    let paths: Vec<String> = if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        if p == "-" {
            if !walk.inputs.contains(&Input::Stdin) {
                walk.inputs.push(Input::Stdin);
            }
            continue;
        }
        let path = PathBuf::from(p);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk.dir(&path),
            Ok(_) => walk.file(path),
            Err(e) => walk
                .errors
                .push((p.clone(), format!("cannot read {p}: {e}"))),
        }
    }
    (walk.inputs, walk.errors)
}

#[derive(Default)]
struct Walk {
    inputs: Vec<Input>,
    errors: Vec<(String, String)>,
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
            self.inputs.push(Input::File(path));
        }
    }

    fn dir(&mut self, dir: &Path) {
        if !self.first_time(dir) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push((
                    dir.display().to_string(),
                    format!("cannot read directory {}: {e}", dir.display()),
                ));
                return;
            }
        };
        let mut entries: Vec<(PathBuf, Option<std::fs::FileType>)> = entries
            .filter_map(|e| e.ok().map(|e| (e.path(), e.file_type().ok())))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (p, kind) in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // The entry itself, not what a link points to: a link to a directory is not walked.
            let Some(kind) = kind else { continue };
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    self.dir(&p);
                }
                continue;
            }
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
    }

    /// A FIFO, socket or device found by the walk: reported, never opened (a FIFO would block).
    fn special(&mut self, path: &Path, kind: std::fs::FileType) {
        let name = path.display().to_string();
        let what = special_kind(kind);
        self.errors.push((
            name.clone(),
            format!("skipped {name}: not a regular file ({what})"),
        ));
    }
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
