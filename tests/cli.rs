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
    let out = lint()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), v)
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
        "rules:\n  FLK101: warning\n  FLK102: off\n  FLK3: off\n",
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

#[test]
fn human_output_snapshot() {
    let out = lint()
        .args([
            "tests/fixtures/FLK102/fail.yaml",
            "tests/fixtures/FLK307/fail-unset.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("human", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn json_output_snapshot() {
    let (_, v) = json_of(&["tests/fixtures/FLK105/fail.yaml"]);
    insta::assert_json_snapshot!("json", v);
}

#[test]
fn sarif_output_is_sarif_2_1_0_and_snapshot() {
    let out = lint()
        .args(["tests/fixtures/FLK105/fail.yaml", "--format", "sarif"])
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
    let (_, v) = json_of(&[
        "tests/fixtures/FLK401/fail-scope-all.yaml",
        "--scope",
        "all",
    ]);
    assert_eq!(rules_of(&v), vec!["FLK401"]);
}
