//! `flink-lint --old`: the rules about changes (FLK6xx) judge each object against its counterpart
//! of the same identity in the old paths, through the binary as CI runs it; every rule's
//! fixtures with an `# old:` header run the same way (the library-level run is `tests/it/rules.rs`).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::header;

fn lint() -> Command {
    let mut c = Command::cargo_bin("flink-lint").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Exit code, JSON report and standard error of `flink-lint ARGS --format json` run in `dir`.
fn json_in(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = lint()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--platform", "kubernetes"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), v, err)
}

/// `(rule, file, line, message)` of every FLK6xx finding.
fn changes(v: &Value) -> Vec<(String, String, u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("FLK6"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_fixture_with_an_old_version_is_judged_by_the_binary_as_by_the_library() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("tests/fixtures")).unwrap() {
        let dir = entry.unwrap().path();
        let rule = dir.file_name().unwrap().to_str().unwrap().to_string();
        if !rule.starts_with("FLK6") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            let (_, h) = header::read(&f);
            let Some(old) = h.old_path(&f) else { continue };
            let rel = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
            let (new_arg, old_arg) = (rel(&f), rel(&old));
            let (code, v, err) = json_in(&root(), &["--old", &old_arg, &new_arg]);
            assert!(code == 0 || code == 1, "{new_arg}: exit {code}: {err}");
            let mine: Vec<_> = changes(&v).into_iter().filter(|c| c.0 == rule).collect();
            if stem.starts_with("fail") {
                let lines: Vec<u64> = mine.iter().map(|c| c.2).collect();
                let want: Vec<u64> = h.expect.unwrap().iter().map(|&(l, _)| l as u64).collect();
                assert_eq!(lines, want, "{new_arg}: {mine:?}");
                for m in &h.messages {
                    assert!(
                        mine.iter().any(|c| &c.3 == m),
                        "{new_arg}: {m:?} in {mine:?}"
                    );
                }
            } else {
                assert!(mine.is_empty(), "{new_arg}: {mine:?}");
            }
            // Without --old the same file is a new object: no rule about changes runs.
            let (_, v, _) = json_in(&root(), &[&new_arg]);
            assert!(changes(&v).is_empty(), "{new_arg} without --old: {v}");
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} fixtures with an old version");
}

const OLD_FD: &str = "apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
  namespace: flink
spec:
  flinkVersion: v1_20
  serviceAccount: flink
  jobManager: {resource: {memory: 2048m, cpu: 1}}
  taskManager: {resource: {memory: 2048m, cpu: 1}}
";

/// `OLD_FD` given a job: the operator refuses the switch (FLK601).
fn with_job(fd: &str) -> String {
    format!("{fd}  job: {{jarURI: local:///opt/flink/usrlib/orders.jar, parallelism: 2}}\n")
}

#[test]
fn directories_are_matched_by_identity_not_by_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    std::fs::create_dir_all(base.join("apps")).unwrap();
    std::fs::create_dir_all(head.join("moved")).unwrap();
    std::fs::write(base.join("apps/orders.yaml"), OLD_FD).unwrap();
    // Another namespace: another object, though the name is the same.
    std::fs::write(
        base.join("apps/other-ns.yaml"),
        OLD_FD.replace("namespace: flink", "namespace: billing"),
    )
    .unwrap();
    // The same object in a renamed file, now with a job; the billing one unchanged.
    std::fs::write(head.join("moved/flink-orders.yaml"), with_job(OLD_FD)).unwrap();
    std::fs::write(
        head.join("moved/billing.yaml"),
        OLD_FD.replace("namespace: flink", "namespace: billing"),
    )
    .unwrap();
    // New in head: no counterpart, judged as created.
    std::fs::write(
        head.join("new.yaml"),
        with_job(&OLD_FD.replace("name: orders", "name: fresh")),
    )
    .unwrap();
    let (code, v, err) = json_in(tmp.path(), &["--old", "base", "head"]);
    assert_eq!(code, 1, "{err}");
    let found = changes(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "FLK601");
    assert_eq!(found[0].1, "head/moved/flink-orders.yaml");
    // --old is repeatable: two old paths form one old set.
    let (_, v, _) = json_in(
        tmp.path(),
        &[
            "--old",
            "base/apps/other-ns.yaml",
            "--old",
            "base/apps/orders.yaml",
            "head",
        ],
    );
    assert_eq!(changes(&v).len(), 1);
}

#[test]
fn old_paths_that_cannot_be_read_are_input_errors_and_stdin_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("new.yaml"), with_job(OLD_FD)).unwrap();
    std::fs::write(tmp.path().join("broken.yaml"), "a: [1\n").unwrap();
    let (code, v, _) = json_in(tmp.path(), &["--old", "missing", "new.yaml"]);
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["file"] == "missing"), "{errors:?}");
    let (code, v, _) = json_in(tmp.path(), &["--old", "broken.yaml", "new.yaml"]);
    assert_eq!(code, 2);
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "broken.yaml" && e["line"] == 1),
        "{v}"
    );
    let out = lint()
        .current_dir(tmp.path())
        .args(["--old", "-", "new.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not standard input"));
    let out = lint()
        .current_dir(tmp.path())
        .args(["fix", "--old", "new.yaml", "new.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--old is for `check`"));
}
