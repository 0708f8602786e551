//! Writing users' files (`flink-lint fix`), and opening them again without blocking.
//!
//! A fixed file is written **in place**, after a safe copy: the file is opened (through a
//! symbolic link, to its target), checked to be a regular file still holding exactly the bytes
//! that were judged, copied to a private backup next to it (mode 0600, flushed to disk), then
//! overwritten and truncated through the same descriptor and flushed, and the backup removed.
//! The inode stays the same, so owner, group, mode, hard links, ACLs and extended attributes
//! are kept by construction, and a symbolic link stays a link. A write that fails part-way is
//! undone from the original bytes; when even that fails the backup is kept and named. A crash
//! mid-write leaves the backup (`.NAME.flink-lint-PID-N.orig`) beside the file.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why a file was not replaced. In every case the file is left as it was (but see
/// [`NotWritten::BackupKept`]).
#[derive(Debug)]
pub enum NotWritten {
    /// The file is no longer what was judged: other bytes, no longer a regular file, or another
    /// file under its name now.
    Changed(&'static str),
    /// It could not be opened, copied or written (and the original bytes are back).
    Io(std::io::Error),
    /// Writing failed, and so did putting the original bytes back: they are in the backup.
    BackupKept(std::io::Error, PathBuf),
}

impl NotWritten {
    /// What happened to the file shown as `name`, as a sentence for the report.
    pub fn message(&self, name: &str) -> String {
        match self {
            NotWritten::Changed(why) => {
                format!("{name} {why}; the file is left as it was (run fix again)")
            }
            NotWritten::Io(e) => format!("cannot write {name}: {e}; the file is left as it was"),
            NotWritten::BackupKept(e, backup) => format!(
                "cannot write {name}: {e}, nor put it back: its original bytes are in {}",
                backup.display()
            ),
        }
    }
}

impl From<std::io::Error> for NotWritten {
    fn from(e: std::io::Error) -> Self {
        NotWritten::Io(e)
    }
}

/// Open `path` (following links) without blocking: a FIFO opens at once instead of waiting
/// for a writer. `None` when it is not a regular file. Reads and writes of a regular file
/// ignore the non-blocking flag.
pub fn open_regular(path: &Path, write: bool) -> std::io::Result<Option<File>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(write);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    Ok(file.metadata()?.is_file().then_some(file))
}

/// Replace the contents of `path` with `new` when it still holds exactly `judged` (see the
/// module documentation for how).
pub fn replace(path: &Path, judged: &[u8], new: &[u8]) -> Result<(), NotWritten> {
    let Some(mut file) = open_regular(path, true)? else {
        return Err(NotWritten::Changed("is no longer a regular file"));
    };
    let mut now = Vec::with_capacity(judged.len() + 1);
    (&file)
        .take(judged.len() as u64 + 1)
        .read_to_end(&mut now)?;
    if now != judged {
        return Err(NotWritten::Changed("changed since it was read"));
    }
    let backup = backup(path, judged)?;
    match overwrite(&mut file, new) {
        Ok(()) => {
            let _ = std::fs::remove_file(&backup);
            if same_file(path, &file) {
                Ok(())
            } else {
                Err(NotWritten::Changed(
                    "was replaced by another file while it was fixed",
                ))
            }
        }
        Err(e) => match overwrite(&mut file, judged) {
            Ok(()) => {
                let _ = std::fs::remove_file(&backup);
                Err(NotWritten::Io(e))
            }
            Err(_) => Err(NotWritten::BackupKept(e, backup)),
        },
    }
}

/// Write `bytes` from the start of `file`, cut it to their length, flush to disk.
fn overwrite(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)?;
    file.sync_all()
}

/// A copy of `bytes` beside the file `path` resolves to (mode 0600, flushed to disk), under a
/// name no other file has: `.NAME.flink-lint-PID-N.orig`.
fn backup(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let real = std::fs::canonicalize(path)?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let base = real.file_name().unwrap_or(real.as_os_str());
    let mut n = 0u32;
    loop {
        let mut name = OsString::from(".");
        name.push(base);
        name.push(format!(".flink-lint-{}-{n}.orig", std::process::id()));
        let candidate = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&candidate) {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|()| f.sync_all());
                return match written {
                    Ok(()) => Ok(candidate),
                    Err(e) => {
                        let _ = std::fs::remove_file(&candidate);
                        Err(e)
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Whether `path` still names the file `file` is open on (a rename over it meanwhile: no).
#[cfg(unix)]
fn same_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_path: &Path, _file: &File) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_only_the_bytes_that_were_judged() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.yaml");
        std::fs::write(&f, "old: 1\n").unwrap();
        replace(&f, b"old: 1\n", b"new: 2\nlonger: true\n").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new: 2\nlonger: true\n");
        // Shorter: the rest is cut.
        replace(&f, b"new: 2\nlonger: true\n", b"n: 3\n").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"n: 3\n");
        // Not what was judged (edited meanwhile, or a longer file with the judged prefix).
        for judged in [&b"n: 4\n"[..], b"n: 3", b""] {
            let e = replace(&f, judged, b"x: 0\n").expect_err("changed");
            assert!(matches!(e, NotWritten::Changed(_)), "{e:?}");
            assert_eq!(std::fs::read(&f).unwrap(), b"n: 3\n");
        }
        assert_eq!(names(tmp.path()), ["a.yaml"], "no backup left");
    }

    #[test]
    fn a_fifo_is_neither_opened_for_good_nor_written() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("p.yaml");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(open_regular(&p, false).unwrap().is_none());
        let e = replace(&p, b"", b"x: 1\n").expect_err("not regular");
        assert!(matches!(e, NotWritten::Changed(_)), "{e:?}");
    }
}
