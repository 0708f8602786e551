//! The directory walk and the reader (`src/lint/discover.rs`, `lint::cli::{read_capped,
//! decode}`) on a tree the input builds: directories, files, links to directories (loops
//! included), links to files, dangling links, FIFOs and sockets named `*.yaml`, hidden and
//! `target/` directories. The walk ends; it never yields a special file or the same file twice
//! (by canonical path); every input it yields is read without blocking.

use std::collections::HashSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use flink_admission::lint::cli;
use flink_admission::lint::discover::{self, Input};

const NAMES: &[&str] = &[
    "a", "b", "c.yaml", "d.yml", "e.json", "f.txt", ".hidden", "target", "g.yaml", "h",
];

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).expect("no NUL in a temp path");
    // SAFETY: a valid NUL-terminated path; mkfifo only reads it.
    unsafe {
        libc::mkfifo(c.as_ptr(), 0o600);
    }
}

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    let Ok(root) = tempfile::tempdir() else {
        return;
    };
    let root = root;
    let mut dirs: Vec<PathBuf> = vec![root.path().to_path_buf()];
    let mut files: Vec<PathBuf> = Vec::new();
    let mut specials = 0usize;
    let mut _sockets = Vec::new();
    for op in data.chunks_exact(3).take(40) {
        let parent = dirs[usize::from(op[1]) % dirs.len()].clone();
        let path = parent.join(NAMES[usize::from(op[2]) % NAMES.len()]);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        match op[0] % 7 {
            0 => {
                if std::fs::create_dir(&path).is_ok() {
                    dirs.push(path);
                }
            }
            1 => {
                let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
                if std::fs::write(&path, text).is_ok() {
                    files.push(path);
                }
            }
            2 => {
                let target = &dirs[usize::from(op[2] >> 4) % dirs.len()];
                let _ = std::os::unix::fs::symlink(target, &path);
            }
            3 if !files.is_empty() => {
                let target = &files[usize::from(op[2] >> 4) % files.len()];
                let _ = std::os::unix::fs::symlink(target, &path);
            }
            4 => {
                let _ = std::os::unix::fs::symlink(root.path().join("nowhere"), &path);
            }
            5 => {
                mkfifo(&path);
                specials += 1;
            }
            _ => {
                if let Ok(s) = std::os::unix::net::UnixListener::bind(&path) {
                    _sockets.push(s);
                    specials += 1;
                }
            }
        }
    }
    let start = root.path().display().to_string();
    let sub = dirs
        .last()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    for paths in [vec![start.clone()], vec![start, sub]] {
        let (inputs, errors) = discover::expand(&paths);
        let mut seen = HashSet::new();
        for input in &inputs {
            let Input::File(p) = input else {
                panic!("stdin from a walk");
            };
            match std::fs::metadata(p) {
                Ok(m) => {
                    assert!(m.is_file(), "{} is not a regular file", p.display());
                    let canonical = std::fs::canonicalize(p).expect("an existing file resolves");
                    assert!(seen.insert(canonical), "{} read twice", p.display());
                    let f = std::fs::File::open(p).expect("open a regular file");
                    let bytes = cli::read_capped(f, &input.display()).expect("read a small file");
                    cli::decode(&input.display(), bytes).expect("the files written are UTF-8");
                }
                // a dangling link: the reader reports it
                Err(_) => assert!(std::fs::symlink_metadata(p).is_ok()),
            }
        }
        assert!(
            seen.len() <= files.len(),
            "{} files yielded, {} written",
            seen.len(),
            files.len()
        );
        assert!(errors.len() <= specials + dirs.len(), "{errors:?}");
    }
}
