//! `flink-lint fix` never loses data, through the binary: paths are OS paths end to end, a file
//! changed while `fix` runs is left alone, links, owner, group, mode and hard links are kept, a
//! failed write leaves the file and counts as an error; and the human format's second read of
//! a file it quotes does not wait on a file swapped for a FIFO. How: src/lint/write.rs.
#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A standalone JobManager with safe fixes on Kubernetes (a strategy, ports, probes, ...).
const JM: &str = "# the team's JobManager\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: flink-jobmanager\n  labels: {app: flink, component: jobmanager}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: flink, component: jobmanager}\n  template:\n    metadata:\n      labels: {app: flink, component: jobmanager}\n    spec:\n      containers:\n        - name: jobmanager\n          image: \"flink:1.20\"\n          args: [\"jobmanager\"]\n";

/// A manifest with nothing to fix.
const OTHER: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flink-lint"));
    c.env("NO_COLOR", "1");
    c
}

fn fix() -> Command {
    let mut c = bin();
    c.args(["fix", "--platform", "kubernetes"]);
    c
}

/// Run to the end, killed after 60 s (a hang is a failure, not a stuck test run).
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => return child.wait_with_output().expect("output"),
            None if start.elapsed() > Duration::from_secs(60) => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!(
                    "still running after 60 s; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn run(c: &mut Command) -> Output {
    finish(
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); stderr: {}", stderr(out)))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Open the FIFO `path` for writing once `child` has opened it for reading (so it has read
/// every input named before it): a non-blocking open fails until there is a reader.
fn writer_once_read(path: &Path, child: &mut Child) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let start = Instant::now();
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => return f,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ENXIO), "{e}");
                assert!(child.try_wait().expect("wait").is_none(), "exited early");
                assert!(start.elapsed() < Duration::from_secs(60), "never read");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Start `cmd` on `file` and on a FIFO named after it (`hold.yaml` beside it), which holds the
/// run between reading `file` and what comes after: returned once `file` is read, with the
/// FIFO's writer (drop it to let the run go on).
fn held(cmd: &mut Command, file: &Path) -> (Child, std::fs::File) {
    let hold = file.with_file_name("hold.yaml");
    mkfifo(&hold);
    let mut child = cmd
        .arg(file)
        .arg(&hold)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let writer = writer_once_read(&hold, &mut child);
    (child, writer)
}

/// The names in `dir`, sorted (no backup or temporary file may be left).
fn names(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| PathBuf::from(e.expect("entry").file_name()))
        .collect();
    v.sort();
    v
}

#[cfg(target_os = "linux")]
#[test]
fn paths_that_show_as_one_name_are_each_written_to_their_own_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Not UTF-8: both show as `x\u{FFFD}.yaml`.
    let cluster = tmp.path().join(OsStr::from_bytes(b"x\xfe.yaml"));
    let other = tmp.path().join(OsStr::from_bytes(b"x\xff.yaml"));
    std::fs::write(&cluster, JM).expect("write");
    std::fs::write(&other, OTHER).expect("write");
    let out = run(fix().arg(tmp.path()));
    let fixed = std::fs::read_to_string(&cluster).expect("read");
    assert_ne!(fixed, JM, "the cluster is fixed: {}", stderr(&out));
    assert!(
        fixed.starts_with(JM.lines().next().unwrap_or("")),
        "{fixed}"
    );
    assert!(fixed.contains("strategy:"), "{fixed}");
    assert_eq!(std::fs::read_to_string(&other).expect("read"), OTHER);
    assert_eq!(names(tmp.path()).len(), 2);
}

#[test]
fn a_file_changed_while_fix_runs_is_left_as_it_is_and_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("jm.yaml");
    std::fs::write(&file, JM).expect("write");
    let (child, writer) = held(fix().args(["--format", "json"]), &file);
    // The user saves their edit meanwhile.
    let edited = format!("{JM}# edited while fix ran\n");
    std::fs::write(&file, &edited).expect("edit");
    drop(writer);
    let out = finish(child);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), edited);
    let name = file.display().to_string();
    let message =
        format!("{name} changed since it was read; the file is left as it was (run fix again)");
    assert!(
        stderr(&out).contains(&format!("flink-lint: {message}\n")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("flink-lint: changed 0 file(s), left 1 as it was ("),
        "{}",
        stderr(&out)
    );
    let v = json(&out);
    assert_eq!(
        v["errors"],
        serde_json::json!([{"file": name, "line": 1, "column": 1, "message": message}])
    );
    assert_eq!(v["summary"]["input_errors"], 1);
    assert_eq!(
        names(tmp.path()),
        [PathBuf::from("hold.yaml"), "jm.yaml".into()]
    );
}

/// Owner and group `4321:4321` when the tests run as root (they can chown), else the user's.
fn owner() -> Option<(u32, u32)> {
    (unsafe { libc::geteuid() } == 0).then_some((4321, 4321))
}

#[test]
fn links_owner_group_mode_and_hard_links_are_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let real = d.join("jm.yaml");
    std::fs::write(&real, JM).expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    if let Some((uid, gid)) = owner() {
        std::os::unix::fs::chown(&real, Some(uid), Some(gid)).expect("chown");
    }
    std::fs::create_dir(d.join("hard")).expect("mkdir");
    let hard = d.join("hard/jm.yaml");
    std::fs::hard_link(&real, &hard).expect("link");
    std::fs::create_dir(d.join("links")).expect("mkdir");
    let link = d.join("links/jm.yaml");
    std::os::unix::fs::symlink("../jm.yaml", &link).expect("symlink");
    let before = std::fs::metadata(&real).expect("stat");
    // Through the link: its target is fixed, the link stays a link.
    let out = run(fix().arg(d.join("links")));
    let text = std::fs::read_to_string(&real).expect("read");
    assert!(text.contains("strategy:"), "fixed: {}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_link(&link).expect("readlink"),
        Path::new("../jm.yaml")
    );
    let after = std::fs::metadata(&real).expect("stat");
    assert_eq!(after.ino(), before.ino(), "written in place");
    assert_eq!(after.nlink(), 2, "the hard link is kept");
    assert_eq!(std::fs::read_to_string(&hard).expect("read"), text);
    assert_eq!(after.mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if let Some(ids) = owner() {
        assert_eq!((after.uid(), after.gid()), ids);
    }
    for dir in [d, &d.join("hard"), &d.join("links")] {
        assert_eq!(names(dir).len(), if dir == d { 3 } else { 1 }, "{dir:?}");
    }
}

#[test]
fn a_failed_write_leaves_the_file_exits_2_and_counts_as_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("jm.yaml");
    std::fs::write(&file, JM).expect("write");
    // Files may grow to the original's size and no further: the backup copy can be written,
    // the (longer) fixed text cannot (EFBIG; SIGXFSZ ignored so that the write reports it).
    let limit = JM.len() as libc::rlim_t + 16;
    let mut c = fix();
    c.args(["--format", "json"]).arg(&file);
    unsafe {
        c.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let l = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), JM);
    assert_eq!(names(tmp.path()), [PathBuf::from("jm.yaml")]);
    let name = file.display().to_string();
    let message =
        format!("cannot write {name}: File too large (os error 27); the file is left as it was");
    let err = stderr(&out);
    assert!(err.contains(&format!("flink-lint: {message}\n")), "{err}");
    assert!(!err.contains("flink-lint: fixed"), "{err}");
    assert!(
        err.contains("flink-lint: changed 0 file(s), left 1 as it was ("),
        "{err}"
    );
    let v = json(&out);
    assert_eq!(
        v["errors"],
        serde_json::json!([{"file": name, "line": 1, "column": 1, "message": message}])
    );
    // The findings are the file's as it is on disk: what `check` reports, plus the error.
    let check = run(bin()
        .args(["check", "--platform", "kubernetes", "--format", "json"])
        .arg(&file));
    let mut expected = json(&check)["summary"].clone();
    expected["input_errors"] = 1.into();
    assert_eq!(v["summary"], expected);
    assert_eq!(v["findings"], json(&check)["findings"]);
}

#[test]
fn human_output_does_not_wait_on_a_quoted_file_swapped_for_a_fifo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("jm.yaml");
    std::fs::write(&file, JM).expect("write");
    let (child, writer) = held(
        bin().args(["check", "--platform", "kubernetes", "--color", "never"]),
        &file,
    );
    // Read and about to be judged: the file becomes a FIFO nobody writes to.
    std::fs::remove_file(&file).expect("rm");
    mkfifo(&file);
    drop(writer);
    let out = finish(child);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    // The findings are there, at their places, without the source lines.
    let place = format!("--> {}:7:1\n", file.display());
    assert!(text.contains(&place), "{text}");
    assert!(text.contains("error[FLK102]"), "{text}");
    assert!(!text.contains("| spec:"), "{text}");
}
