//! `flink-lint` under hostile input, as users run it: special files, link loops, huge inputs,
//! unwritable output, odd encodings and line endings, names with terminal escapes.
//! What was tried and what holds: docs/reliability.md.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn lint() -> Command {
    let mut c = Command::cargo_bin("flink-lint").expect("the flink-lint binary");
    c.env("NO_COLOR", "1");
    // Every case here hung or ran away once: none may now.
    c.timeout(Duration::from_secs(60));
    c
}

/// A JobManager Deployment with two findings at known places (FLK102 at /spec, FLK101 at
/// /spec/replicas).
const JM: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: flink-jobmanager\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: jobmanager\n        image: flink:1.18\n        args: [\"jobmanager\"]\n";

fn json(c: &mut Command) -> (i32, Value, String) {
    let out = c
        .args(["--format", "json"])
        .output()
        .expect("run flink-lint");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn errors(v: &Value) -> Vec<(String, u64, u64, String)> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["file"].as_str().unwrap_or("").to_string(),
                        e["line"].as_u64().unwrap_or(0),
                        e["column"].as_u64().unwrap_or(0),
                        e["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// (rule, line, column) of each finding.
fn places(v: &Value) -> Vec<(String, u64, u64)> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or("").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["column"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_scanned_directory_is_reported_not_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("jm.yaml"), JM).expect("write");
    if !mkfifo(&tmp.path().join("pipe.yaml")) {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    let (code, v, _) = json(lint().arg(arg(tmp.path())));
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].0.ends_with("pipe.yaml"), "{errs:?}");
    assert!(
        errs[0]
            .3
            .ends_with("pipe.yaml: not a regular file (a FIFO)"),
        "{errs:?}"
    );
    // The other file is still linted.
    assert_eq!(v["summary"]["files"], 1);
    assert!(!places(&v).is_empty());
}

#[cfg(unix)]
#[test]
fn a_named_fifo_is_read_like_standard_input() {
    // `flink-lint <(kustomize build .)` names a pipe: it is read.
    let tmp = tempfile::tempdir().expect("tempdir");
    let fifo = tmp.path().join("in.yaml");
    if !mkfifo(&fifo) {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, JM))
    };
    let (code, v, _) = json(lint().arg(arg(&fifo)));
    // Had flink-lint not opened the pipe, the writer would wait for a reader: be one (a
    // read-write open never blocks), so the join below cannot hang.
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo),
    );
    assert!(writer.join().is_ok_and(|r| r.is_ok()));
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["files"], 1);
}

#[cfg(unix)]
#[test]
fn directory_link_loops_neither_hang_nor_read_a_file_twice() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    std::fs::create_dir(d.join("m")).expect("mkdir");
    std::fs::write(d.join("m/jm.yaml"), JM).expect("write");
    // Two links to the directory itself: following them grows as 2^depth.
    symlink(d.join("m"), d.join("m/self1")).expect("symlink");
    symlink(d.join("m"), d.join("m/self2")).expect("symlink");
    symlink(d.join("m/jm.yaml"), d.join("m/again.yaml")).expect("symlink");
    let (code, v, _) = json(lint().arg(arg(&d.join("m"))).arg(arg(&d.join("m/jm.yaml"))));
    assert_eq!(code, 1);
    assert!(errors(&v).is_empty(), "{:?}", errors(&v));
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["objects"], 1);
}

#[test]
fn a_file_past_the_node_budget_is_refused_where_it_passes_it_and_others_are_linted() {
    // Four million `1`s in a list in 8 MB of JSON: counted before anything is built (in YAML
    // the reader stops at the same node, unit-tested beside it; its memory is in BENCHMARKS.md).
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut list = String::from("{\"a\": [1");
    list.push_str(&",1".repeat(4_000_000));
    list.push_str("]}\n");
    std::fs::write(tmp.path().join("list.json"), &list).expect("write");
    std::fs::write(tmp.path().join("jm.yaml"), JM).expect("write");
    let (code, v, _) = json(lint().arg(arg(tmp.path())));
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (file, line, column, message) = &errs[0];
    assert!(file.ends_with("list.json"), "{file}");
    // 1 + `{` 2 + `:` 1 + `[` 2 = 6 before the first comma, and comma k sits at column
    // 7 + 2k: the 3,999,995th passes the budget.
    assert_eq!((*line, *column), (1, 7 + 2 * 3_999_995), "{message}");
    assert_eq!(
        message,
        "the file holds more than 4000000 nodes (flink-lint's budget per file): split it"
    );
    assert_eq!(v["summary"]["objects"], 1, "the other file is linted");
}

#[cfg(unix)]
#[test]
fn dev_zero_and_huge_files_stop_at_the_size_cap() {
    let (code, v, _) = json(lint().arg("/dev/zero"));
    assert_eq!(code, 2);
    assert_eq!(
        errors(&v),
        vec![(
            "/dev/zero".to_string(),
            1,
            1,
            "/dev/zero is too large: flink-lint reads at most 64 MiB per input".to_string()
        )]
    );
    // A regular file over the cap (sparse: no disk used) is refused by its size.
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = tmp.path().join("big.yaml");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(64 * 1024 * 1024 + 1).expect("set_len");
    std::fs::write(tmp.path().join("jm.yaml"), JM).expect("write");
    let (code, v, _) = json(lint().arg(arg(tmp.path())));
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].3.contains("big.yaml is too large"), "{errs:?}");
    assert_eq!(v["summary"]["files"], 1);
    // Standard input has the same cap.
    let out = lint()
        .args(["--format", "json", "-"])
        .write_stdin(vec![b'#'; 64 * 1024 * 1024 + 1])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(errors(&v)[0].3.contains("standard input is too large"));
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_exits_2_with_a_message() {
    for args in [
        vec!["tests/fixtures/_shared/cluster.yaml"],
        vec!["--format", "json", "tests/fixtures/_shared/cluster.yaml"],
        vec!["rules"],
        vec!["explain", "FLK101"],
        vec!["--help"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("flink-lint"))
            .args(&args)
            .stdout(full)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("flink-lint: cannot write the output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn invalid_utf8_is_placed_at_its_first_bad_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("bad.yaml");
    std::fs::write(&file, b"a: 1\nb: \"\xc3\xa9x\xffy\"\n").expect("write");
    let (code, v, _) = json(lint().arg(arg(&file)));
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert_eq!((errs[0].1, errs[0].2), (2, 7), "{errs:?}");
    assert!(
        errs[0]
            .3
            .ends_with("bad.yaml is not UTF-8 text: invalid byte 0xFF at line 2, column 7"),
        "{errs:?}"
    );
    // The same on standard input.
    let out = lint()
        .args(["--format", "json", "-"])
        .write_stdin(&b"a: 1\r\nb: \"\xc3\xa9x\xffy\"\n"[..])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        errors(&v),
        vec![(
            "-".to_string(),
            2,
            7,
            "standard input is not UTF-8 text: invalid byte 0xFF at line 2, column 7".to_string()
        )]
    );
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_with_a_bom_is_decoded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let utf8 = tmp.path().join("utf8.yaml");
    std::fs::write(&utf8, JM).expect("write");
    let (_, want, _) = json(lint().arg(arg(&utf8)));
    assert!(!places(&want).is_empty());
    for be in [false, true] {
        let file = tmp.path().join(if be { "be.yaml" } else { "le.yaml" });
        std::fs::write(&file, utf16(JM, be)).expect("write");
        let (code, v, _) = json(lint().arg(arg(&file)));
        assert_eq!(code, 1, "big endian: {be}");
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        assert_eq!(places(&v), places(&want), "big endian: {be}");
    }
    // An odd number of bytes after the BOM is said plainly.
    let odd = tmp.path().join("odd.yaml");
    let mut bytes = utf16(JM, false);
    bytes.push(b'x');
    std::fs::write(&odd, bytes).expect("write");
    let (code, v, _) = json(lint().arg(arg(&odd)));
    assert_eq!(code, 2);
    assert!(
        errors(&v)[0].3.contains("odd.yaml is not UTF-16 text"),
        "{:?}",
        errors(&v)
    );
}

#[test]
fn lone_cr_line_endings_give_the_same_positions_in_human_and_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lf = tmp.path().join("lf.yaml");
    let cr = tmp.path().join("cr.yaml");
    std::fs::write(&lf, JM).expect("write");
    std::fs::write(&cr, JM.replace('\n', "\r")).expect("write");
    let (_, want, _) = json(lint().arg(arg(&lf)));
    let (_, got, _) = json(lint().arg(arg(&cr)));
    assert_eq!(places(&got), places(&want));
    let human = lint()
        .args(["--color", "never"])
        .arg(arg(&cr))
        .output()
        .expect("run");
    let human = String::from_utf8_lossy(&human.stdout);
    for (_, line, column) in places(&want) {
        assert!(
            human.contains(&format!("cr.yaml:{line}:{column}")),
            "{line}:{column} in\n{human}"
        );
    }
    assert!(human.contains("6 |   replicas: 2\n"), "{human}");
    assert!(!human.contains('\r'), "{human:?}");
}

#[cfg(unix)]
#[test]
fn terminal_escapes_in_names_never_reach_the_output_raw() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("e\u{1b}[31mvil");
    std::fs::create_dir(&dir).expect("mkdir");
    let jm = JM.replace(
        "name: flink-jobmanager",
        "name: \"jm\\e]0;pwned\\a\\e[2J\\u202e\"",
    );
    std::fs::write(dir.join("x\u{1b}[1m.yaml"), jm).expect("write");
    std::fs::write(dir.join("raw.yaml"), "a: \u{1b}[31m\n").expect("write");
    for args in [
        vec!["--color", "never"],
        vec!["--color", "always"],
        vec!["--format", "github"],
    ] {
        let out = lint().args(&args).arg(arg(&dir)).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("e\\u{1b}[31mvil"), "{args:?}: {text}");
        assert!(text.contains("x\\u{1b}[1m.yaml"), "{args:?}: {text}");
        assert!(
            text.contains("jm\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}"),
            "{args:?}: {text}"
        );
        assert!(
            !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{args:?}: {text:?}"
        );
        // Only the renderer's own colours are escape sequences.
        if args.contains(&"always") {
            for evil in ["\u{1b}]0;", "\u{1b}[2J", "\u{1b}[31mvil", "\u{1b}[1m.yaml"] {
                assert!(!text.contains(evil), "{args:?}: {text:?}");
            }
        } else {
            assert!(!text.contains('\u{1b}'), "{args:?}: {text:?}");
        }
    }
}

#[test]
fn sarif_uris_are_percent_encoded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("my dir");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("50%#1 é.yaml"), JM).expect("write");
    let out = lint()
        .current_dir(tmp.path())
        .args(["--format", "sarif", "my dir"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    let uri =
        &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "my%20dir/50%25%231%20%C3%A9.yaml");
}
