//! `flink-lint` as users run it: the binary, its exit codes, and every output format.

use assert_cmd::Command;
use serde_json::Value;

fn lint() -> Command {
    let mut c = Command::cargo_bin("flink-lint").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// The rule ids of a JSON report's findings, in order.
fn rules_of(v: &Value) -> Vec<&str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn json_of(args: &[&str]) -> (i32, Value) {
    let (code, v, _) = json_in(std::path::Path::new("."), args);
    (code, v)
}

#[test]
fn exit_0_when_nothing_reaches_fail_on() {
    lint()
        .arg("tests/fixtures/_shared/cluster.yaml")
        .assert()
        .code(0);
    // Warnings alone exit 0 by default, 1 with --fail-on warning.
    lint()
        .arg("tests/fixtures/FLK308/fail.yaml")
        .assert()
        .code(0);
    lint()
        .args(["tests/fixtures/FLK308/fail.yaml", "--fail-on", "warning"])
        .assert()
        .code(1);
}

#[test]
fn exit_1_on_error_findings() {
    lint()
        .arg("tests/fixtures/FLK101/fail-deployment.yaml")
        .assert()
        .code(1);
}

#[test]
fn exit_2_on_usage_errors() {
    lint().arg("--format").arg("xml").assert().code(2);
    lint().args(["--select", "FLK999"]).assert().code(2);
    lint().args(["explain", "FLK999"]).assert().code(2);
}

#[test]
fn exit_2_on_unreadable_or_invalid_input_but_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
    )
    .unwrap();
    let (code, v) = json_of(&[
        bad.to_str().unwrap(),
        "tests/fixtures/FLK101/fail-deployment.yaml",
        "does-not-exist.yaml",
    ]);
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e["file"] == "does-not-exist.yaml"));
    let parse = errors
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("bad.yaml"))
        .unwrap();
    assert!(parse["line"].as_u64().unwrap() >= 3, "{parse}");
    // the good file was still judged
    assert!(rules_of(&v).contains(&"FLK101"));
}

#[test]
fn documents_that_are_not_objects_are_positioned_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("odd.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n- a list\n---\nmetadata: {name: no-kind}\n---\n# values.yaml-like: not a Kubernetes object, skipped\nreplicaCount: 2\n",
    )
    .unwrap();
    let (code, v) = json_of(&[f.to_str().unwrap()]);
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![5, 7], "{errors:?}");
    assert!(errors[0]["message"].as_str().unwrap().contains("a list"));
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("apiVersion")
    );
    assert_eq!(v["summary"]["objects"], 1);
}

#[test]
fn json_output_has_the_documented_shape() {
    let (code, v) = json_of(&["tests/fixtures/FLK101/fail-deployment.yaml"]);
    assert_eq!(code, 1);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "FLK101")
        .unwrap()
        .clone();
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "tests/fixtures/FLK101/fail-deployment.yaml");
    assert_eq!(f["line"], 13);
    assert_eq!(f["column"], 3);
    assert_eq!(f["path"], "/spec/replicas");
    assert_eq!(f["fix"], true);
    assert_eq!(
        f["object"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": null, "name": "flink-jobmanager"})
    );
    let s = &v["summary"];
    assert_eq!(s["files"], 1);
    assert_eq!(s["objects"], 2);
    assert!(s["errors"].as_u64().unwrap() >= 1);
    assert!(v["errors"].as_array().unwrap().is_empty());
}

#[test]
fn stdin_is_read_with_dash() {
    let text = std::fs::read_to_string("tests/fixtures/FLK102/fail.yaml").unwrap();
    let out = lint()
        .args(["-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "FLK102")
        .unwrap()
        .clone();
    assert_eq!(f["file"], "-");
}

#[test]
fn select_and_ignore_by_id_prefix_and_name() {
    let (_, v) = json_of(&["deploy/examples/", "--select", "FLK4"]);
    let rules = rules_of(&v);
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|r| r.starts_with("FLK4")), "{rules:?}");
    let (_, v) = json_of(&[
        "deploy/examples/",
        "--ignore",
        "FLK4,jobmanager-rolling-update",
    ]);
    assert!(
        rules_of(&v)
            .iter()
            .all(|r| !r.starts_with("FLK4") && *r != "FLK102")
    );
}

#[test]
fn config_file_is_found_upward_and_overrides_severity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".flink-lint.yaml"),
        // FLK013: the fixture's Deployment has no selector, which is not what this is about.
        "rules:\n  FLK101: warning\n  FLK102: off\n  FLK3: off\n  FLK404: off\n  FLK013: off\n",
    )
    .unwrap();
    let sub = dir.path().join("manifests");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(
        "tests/fixtures/FLK101/fail-deployment.yaml",
        sub.join("jm.yaml"),
    )
    .unwrap();
    let (code, v) = json_of(&[sub.to_str().unwrap()]);
    let f: Vec<_> = v["findings"].as_array().unwrap().iter().collect();
    assert!(
        f.iter()
            .any(|f| f["rule"] == "FLK101" && f["severity"] == "warning")
    );
    assert!(!f.iter().any(|f| f["rule"] == "FLK102"));
    assert_eq!(code, 0, "{v}");
    // A config naming a rule that does not exist is a usage error, named with its file.
    std::fs::write(
        dir.path().join(".flink-lint.yaml"),
        "rules:\n  FLK777: off\n",
    )
    .unwrap();
    let out = lint().arg(sub.to_str().unwrap()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".flink-lint.yaml") && err.contains("FLK777"),
        "{err}"
    );
}

#[test]
fn inline_ignore_annotation_silences_with_a_reason_only() {
    let (_, v) = json_of(&["tests/fixtures/FLK001/fail.yaml"]);
    let rules = rules_of(&v);
    // "FLK102" without a reason does not silence FLK102.
    assert!(rules.contains(&"FLK102"), "{rules:?}");
    let (_, v) = json_of(&["tests/fixtures/FLK001/pass.yaml"]);
    let rules = rules_of(&v);
    assert!(
        !rules.contains(&"FLK234") && !rules.contains(&"FLK401"),
        "{rules:?}"
    );
}

#[test]
fn rules_lists_every_rule_and_explain_prints_every_section() {
    let out = lint().args(["rules", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rules: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let policies = std::fs::read_dir("policies")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .starts_with("FLK")
        })
        .count();
    assert_eq!(rules.len(), policies);
    for r in &rules {
        for key in ["id", "name", "severity", "family", "fixable", "summary"] {
            assert!(!r[key].is_null(), "{r}: no {key}");
        }
        let id = r["id"].as_str().unwrap();
        let out = lint().args(["explain", id]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## Fix safety",
        ] {
            assert!(text.contains(section), "{id}: no {section}");
        }
        assert!(text.contains(id));
    }
    let table = lint().arg("rules").output().unwrap();
    assert!(String::from_utf8(table.stdout).unwrap().lines().count() == rules.len());
    // by name too
    lint()
        .args(["explain", "jobmanager-rolling-update"])
        .assert()
        .code(0);
}

/// A rule that mirrors the operator's validation shows the operator's message beside ours, and
/// which operator version and check it follows.
#[test]
fn explain_shows_the_operators_message_beside_ours() {
    let out = lint().args(["explain", "FLK504"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let messages = text.find("## Messages").expect("a Messages section");
    let section = &text[messages..text[messages..].find("## What").unwrap() + messages];
    assert!(
        section.contains("flink-lint: flinkConfiguration sets {key}, which the operator"),
        "{section}"
    );
    assert!(
        section.contains(
            "Flink Kubernetes Operator 1.16 (`DefaultValidator.validateFlinkDeploymentConfig`)"
        ),
        "{section}"
    );
    assert!(
        section.contains("- Forbidden Flink config key: %s"),
        "{section}"
    );
    // a rule of its own has no such section
    let own = lint().args(["explain", "FLK102"]).output().unwrap();
    assert!(
        !String::from_utf8(own.stdout)
            .unwrap()
            .contains("## Messages")
    );
}

#[test]
fn human_output_snapshot() {
    let out = lint()
        .args([
            "tests/fixtures/FLK102/fail.yaml",
            "tests/fixtures/FLK307/fail-unset.yaml",
            "--platform",
            "openshift",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("human", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn json_output_snapshot() {
    let (_, v) = json_of(&["tests/fixtures/FLK105/fail.yaml", "--platform", "openshift"]);
    insta::assert_json_snapshot!("json", v);
}

#[test]
fn sarif_output_is_sarif_2_1_0_and_snapshot() {
    let out = lint()
        .args(["tests/fixtures/FLK105/fail.yaml", "--format", "sarif"])
        .args(["--platform", "openshift"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // It deserialises into the SARIF 2.1.0 object model.
    let typed: serde_sarif::sarif::Sarif = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(typed.version, "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
    }
    // only the results, the rule metadata is long and checked above
    insta::assert_json_snapshot!("sarif-results", run["results"]);
}

#[test]
fn junit_has_one_testcase_per_object() {
    let out = lint()
        .args(["tests/fixtures/FLK105/fail.yaml", "--format", "junit"])
        .args(["--platform", "openshift"])
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 3, "{xml}");
    // the Service fails on FLK105 (error), the Deployment on FLK401 (warning), the ConfigMap passes
    assert_eq!(xml.matches("<failure").count(), 2, "{xml}");
    assert!(xml.contains(
        r#"<testcase name="ConfigMap/flink-config" classname="tests/fixtures/FLK105/fail.yaml"/>"#
    ));
    assert!(xml.contains("FLK105"));
    insta::assert_snapshot!("junit", xml);
}

#[test]
fn the_webhooks_own_deployment_passes_scope_all_on_both_platforms() {
    for platform in ["openshift", "kubernetes"] {
        let (code, v) = json_of(&["deploy/base", "--scope", "all", "--platform", platform]);
        assert_eq!(code, 0, "{platform}: {v}");
        assert!(rules_of(&v).is_empty(), "{platform}: {v}");
        assert!(v["summary"]["objects"].as_u64().unwrap() >= 10, "{v}");
    }
    // and the same command does flag a workload without resources, so it is really judging
    // (and that the fixture's Deployment has no selector)
    let (_, v) = json_of(&[
        "tests/fixtures/FLK401/fail-scope-all.yaml",
        "--scope",
        "all",
        "--platform",
        "openshift",
    ]);
    assert_eq!(rules_of(&v), vec!["FLK013", "FLK401"]);
}

// ------------------------------------------------------------ adopting it in a repository

/// The ids of the findings' files in a JSON report, sorted and deduplicated.
fn files_of(v: &Value) -> Vec<String> {
    let mut files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// `flink-lint ARGS --format json` run in `dir`: exit code, document, standard error.
fn json_in(dir: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let out = lint()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), v, err)
}

const JM: &str = "tests/fixtures/FLK101/fail-deployment.yaml";

#[test]
fn walks_honour_gitignore_excludes_and_built_in_skips_but_named_files_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    for d in ["sub", "vendor", "gen", "node_modules", ".hidden", "target"] {
        std::fs::create_dir_all(repo.join(d)).unwrap();
    }
    for f in [
        "sub/a.yaml",
        "sub/B.YAML",
        "vendor/v.yaml",
        "gen/g.yaml",
        "node_modules/n.yaml",
        ".hidden/h.yaml",
        "target/t.yaml",
        "sub/skip.yml",
    ] {
        std::fs::copy(JM, repo.join(f)).unwrap();
    }
    let git = std::process::Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(&repo)
        .status()
        .expect("git");
    assert!(git.success());
    std::fs::write(repo.join(".gitignore"), "vendor/\n").unwrap();
    std::fs::write(
        repo.join(".flink-lint.yaml"),
        "exclude: [gen/]\nplatform: openshift\n",
    )
    .unwrap();
    let (_, v, _) = json_in(&repo, &["."]);
    assert_eq!(
        files_of(&v),
        ["./sub/B.YAML", "./sub/a.yaml", "./sub/skip.yml"],
        "{v}"
    );
    // --exclude adds to the config's patterns, relative to the working directory.
    let (_, v, _) = json_in(&repo, &[".", "--exclude", "*.yml", "--exclude", "sub/B.*"]);
    assert_eq!(files_of(&v), ["./sub/a.yaml"]);
    // --no-ignore reads what .gitignore ignores, not what the patterns or built-ins skip.
    let (_, v, _) = json_in(&repo, &[".", "--no-ignore"]);
    assert_eq!(
        files_of(&v),
        [
            "./sub/B.YAML",
            "./sub/a.yaml",
            "./sub/skip.yml",
            "./vendor/v.yaml"
        ]
    );
    // The config's patterns are relative to the config file, wherever flink-lint runs.
    let (_, v, _) = json_in(tmp.path(), &["repo"]);
    assert_eq!(
        files_of(&v),
        ["repo/sub/B.YAML", "repo/sub/a.yaml", "repo/sub/skip.yml"]
    );
    // A file named on the command line is read, whatever would skip it in a walk.
    let (_, v, _) = json_in(
        &repo,
        &[
            "vendor/v.yaml",
            "gen/g.yaml",
            "node_modules/n.yaml",
            ".hidden/h.yaml",
        ],
    );
    assert_eq!(
        files_of(&v),
        [
            ".hidden/h.yaml",
            "gen/g.yaml",
            "node_modules/n.yaml",
            "vendor/v.yaml"
        ]
    );
    // --verbose says what the walk skipped and why.
    let (_, _, err) = json_in(&repo, &[".", "--verbose"]);
    for line in [
        "flink-lint: directory walks always skip hidden directories (.*), target/ and node_modules/",
        "flink-lint: skipped ./.hidden: a hidden directory",
        "flink-lint: skipped ./node_modules: a build or dependency directory",
        "flink-lint: skipped ./target: a build or dependency directory",
        "flink-lint: skipped ./gen: excluded by a pattern",
    ] {
        assert!(err.lines().any(|l| l == line), "{line}\n{err}");
    }
}

#[test]
fn a_baseline_survives_moved_lines_and_reports_only_the_new_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let jm = std::fs::read_to_string(JM).unwrap();
    std::fs::write(dir.join("jm.yaml"), &jm).unwrap();
    std::fs::write(dir.join(".flink-lint.yaml"), "platform: openshift\n").unwrap();
    let out = lint()
        .current_dir(dir)
        .args(["baseline", "write", "base.json", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (code, before, _) = json_in(dir, &["."]);
    assert_eq!(code, 1);
    let recorded = before["findings"].as_array().unwrap().len();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("base.json")).unwrap()).unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), recorded);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "wrote {recorded} finding(s) of 2 object(s) to base.json"
        )),
        "{out:?}"
    );
    // Lines move: a comment block on top, and the documents in the other order.
    let docs: Vec<&str> = jm.split("\n---\n").collect();
    assert_eq!(docs.len(), 2, "the fixture has two documents");
    let moved = format!(
        "# moved\n# down\n\n{}\n---\n{}\n",
        docs[1].trim_end(),
        docs[0].trim_end()
    );
    std::fs::write(dir.join("jm.yaml"), &moved).unwrap();
    let (code, v, err) = json_in(dir, &[".", "--baseline", "base.json"]);
    assert_eq!(code, 0, "{v}");
    assert!(rules_of(&v).is_empty(), "{v}");
    assert!(
        err.contains(&format!(
            "baseline base.json: {recorded} finding(s) not reported, 0 entries fixed"
        )),
        "{err}"
    );
    // One new finding: a second JobManager Deployment of another name, FLK101 only.
    let (_, v, _) = json_in(dir, &[".", "--baseline", "base.json", "--select", "FLK101"]);
    assert!(rules_of(&v).is_empty(), "{v}");
    let other = docs[1].replace("name: flink-jobmanager", "name: other-jobmanager");
    assert_ne!(other, docs[1]);
    std::fs::write(dir.join("new.yaml"), &other).unwrap();
    let (code, v, _) = json_in(dir, &[".", "--baseline", "base.json", "--select", "FLK101"]);
    assert_eq!(code, 1);
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["file"], "./new.yaml");
    assert_eq!(f[0]["object"]["name"], "other-jobmanager");
    // Fixing a baselined finding (another replica count) counts its entry as fixed, and the
    // changed value is a new finding.
    std::fs::remove_file(dir.join("new.yaml")).unwrap();
    std::fs::write(
        dir.join("jm.yaml"),
        moved.replace("replicas: 2", "replicas: 3"),
    )
    .unwrap();
    let (_, v, err) = json_in(dir, &[".", "--baseline", "base.json", "--select", "FLK101"]);
    assert_eq!(rules_of(&v), ["FLK101"], "{v}");
    assert!(err.contains("1 entry fixed since it was written"), "{err}");
    // `baseline:` in the config, relative to it: the same.
    std::fs::write(dir.join("jm.yaml"), &moved).unwrap();
    std::fs::write(
        dir.join(".flink-lint.yaml"),
        "platform: openshift\nbaseline: base.json\n",
    )
    .unwrap();
    let (code, v, _) = json_in(tmp.path().parent().unwrap(), &[dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert!(rules_of(&v).is_empty(), "{v}");
    // A missing baseline is a usage error.
    lint()
        .current_dir(dir)
        .args([".", "--baseline", "nope.json"])
        .assert()
        .code(2);
}

#[test]
fn no_objects_is_exit_2_unless_allow_empty() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("values.yaml"), "replicaCount: 2\n").unwrap();
    let path = tmp.path().to_str().unwrap();
    let out = lint().arg(path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "flink-lint: no Kubernetes objects found in {path}"
        )),
        "{err}"
    );
    lint().args([path, "--allow-empty"]).assert().code(0);
    // A file with objects is not empty, findings or not.
    lint()
        .args(["tests/fixtures/_shared/cluster.yaml"])
        .assert()
        .code(0);
}

#[test]
fn quiet_and_min_severity_change_what_is_printed_not_the_exit_code() {
    let f = "tests/fixtures/FLK308/fail.yaml";
    let all = lint().args([f, "--fail-on", "warning"]).output().unwrap();
    let text = String::from_utf8_lossy(&all.stdout).into_owned();
    assert!(text.contains("warning["), "{text}");
    assert!(text.contains(" error(s), "), "{text}");
    let quiet = lint().args([f, "-q"]).output().unwrap();
    let q = String::from_utf8_lossy(&quiet.stdout);
    assert!(q.contains("warning[") && !q.contains(" error(s), "), "{q}");
    assert!(!q.contains("platform:"), "{q}");
    let shown = lint()
        .args([f, "--fail-on", "warning", "--min-severity", "error"])
        .output()
        .unwrap();
    assert_eq!(shown.status.code(), all.status.code());
    assert_eq!(shown.status.code(), Some(1));
    let s = String::from_utf8_lossy(&shown.stdout);
    assert!(!s.contains("warning["), "{s}");
    assert!(s.contains("below --min-severity error not shown"), "{s}");
    let (_, v) = json_of(&[f, "--min-severity", "error"]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "error"),
        "{v}"
    );
    lint().args([f, "--color", "purple"]).assert().code(2);
    lint().args([f, "--min-severity", "loud"]).assert().code(2);
}

#[test]
fn platform_auto_goes_by_the_evidence_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::copy(JM, dir.join("jm.yaml")).unwrap();
    let last_line = |args: &[&str]| {
        let out = lint().current_dir(dir).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().last().unwrap_or_default().to_string()
    };
    assert_eq!(
        last_line(&["."]),
        "platform: kubernetes (auto: no OpenShift objects among the inputs; --platform openshift to change)"
    );
    std::fs::write(
        dir.join("route.yaml"),
        "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: web}\nspec:\n  to: {kind: Service, name: web}\n",
    )
    .unwrap();
    assert_eq!(
        last_line(&["."]),
        "platform: openshift (auto: Route/web in ./route.yaml is an OpenShift kind)"
    );
    // The flag decides without a note; the config file too.
    assert!(last_line(&[".", "--platform", "kubernetes"]).contains(" error(s), "));
    std::fs::write(dir.join(".flink-lint.yaml"), "platform: kubernetes\n").unwrap();
    assert!(last_line(&["."]).contains(" error(s), "));
    let (_, v) = json_of(&[dir.to_str().unwrap(), "--select", "FLK2"]);
    let (_, k) = json_of(&[
        dir.to_str().unwrap(),
        "--select",
        "FLK2",
        "--platform",
        "kubernetes",
    ]);
    assert_eq!(
        v["findings"], k["findings"],
        "the config's platform is used"
    );
}

#[test]
fn human_input_errors_go_to_standard_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "kind: [unclosed\n").unwrap();
    let out = lint()
        .args([bad.to_str().unwrap(), JM, "--platform", "openshift"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("error[input]"), "{stderr}");
    assert!(!stdout.contains("error[input]"), "{stdout}");
    assert!(stdout.contains("error[FLK101]"), "{stdout}");
    assert!(stdout.contains("; 1 input error(s)"), "{stdout}");
}

#[test]
fn an_object_defined_twice_in_one_file_is_judged_at_each_definition() {
    let jm = std::fs::read_to_string(JM).unwrap();
    let deployment = jm.split("\n---\n").nth(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("twice.yaml");
    std::fs::write(&f, format!("{deployment}\n---\n{deployment}\n")).unwrap();
    let (_, v) = json_of(&[f.to_str().unwrap(), "--select", "FLK101"]);
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{v}");
    assert!(lines[0] < lines[1], "{lines:?}");
    assert_eq!(v["summary"]["objects"], 2);
}

#[test]
fn fix_help_and_the_man_page_say_what_the_program_does() {
    let out = lint().args(["fix", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("none = '.'"), "{help}");
    assert!(help.contains("does not default to '.'"), "{help}");
    let check = lint().args(["check", "--help"]).output().unwrap();
    let check = String::from_utf8_lossy(&check.stdout);
    assert!(check.contains("none = '.'"), "{check}");
    assert!(check.contains("target/ and node_modules/"), "{check}");
    let page = lint().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(!page.contains("flink\\-lint\\-check(1)"), "{page}");
    assert!(
        !page.contains("(1)"),
        "refers to pages that do not exist: {page}"
    );
    assert!(page.contains("no Kubernetes object"), "{page}");
}

#[test]
fn json_files_are_read_as_json_whatever_the_case_of_their_name() {
    // YAML takes the trailing comma; JSON does not: both names must get the JSON reading.
    let text = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},}"#;
    let dir = tempfile::tempdir().unwrap();
    let mut codes = Vec::new();
    for name in ["lower.json", "UPPER.JSON"] {
        let sub = dir.path().join(name.replace('.', "-"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join(name), text).unwrap();
        let out = Command::cargo_bin("flink-lint")
            .unwrap()
            .args(["--platform", "kubernetes", "--format", "json"])
            .arg(&sub)
            .output()
            .unwrap();
        codes.push(out.status.code());
    }
    assert_eq!(codes, [Some(2), Some(2)], "a JSON syntax error in both");
}
