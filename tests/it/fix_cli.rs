//! `flink-lint fix` through the binary, on copies of real files: every fixable rule's failing
//! fixtures come out without that rule's finding, comments and formatting survive, `--diff`
//! writes nothing, a second run changes nothing, multi-document and JSON files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Applicability, Engine, Registry, Settings};
use flink_admission::lint::{self, Inputs};

use crate::common::header;
use header::Header;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn flint() -> Command {
    Command::cargo_bin("flink-lint").unwrap()
}

/// The fixture's files (itself and its `# also:` files) and its header.
fn fixture_files(path: &Path) -> (Vec<PathBuf>, Header) {
    let (_, header) = header::read(path);
    let mut files = vec![path.to_path_buf()];
    files.extend(header.also_paths(path));
    (files, header)
}

/// Every failing fixture of every fixable rule, fixed by the binary (`--unsafe-fixes` for
/// rules whose fix is unsafe), has no finding of that rule left, and a second run changes
/// nothing.
#[test]
fn every_fixable_rules_failing_fixtures_come_out_clean_of_it() {
    let registry = Registry::embedded().unwrap();
    let mut checked = 0;
    let mut unfixable: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    for rule in registry.rules() {
        let Some(spec) = &rule.fix else { continue };
        let dir = root().join("tests/fixtures").join(&rule.id);
        let mut fails: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("fail") && n.ends_with(".yaml"))
            })
            .collect();
        fails.sort();
        for fail in fails {
            let (_, header0) = fixture_files(&fail);
            if header0.complete_world {
                continue;
            }
            let engine = Engine::embedded(header0.settings(Some(&fail))).unwrap();
            let fixable_before = {
                let (files, _) = fixture_files(&fail);
                let mut inputs = Inputs::default();
                for f in &files {
                    inputs.add(
                        &f.display().to_string(),
                        &std::fs::read_to_string(f).unwrap(),
                    );
                }
                lint::lint(&engine, inputs)
                    .findings
                    .iter()
                    .filter(|f| f.finding.rule == rule.id && f.finding.fix.is_some())
                    .count()
            };
            if fixable_before == 0 {
                // Findings without a fix: nothing to write.
                unfixable.push(
                    fail.strip_prefix(root().join("tests/fixtures"))
                        .unwrap()
                        .display()
                        .to_string(),
                );
                continue;
            }
            let tmp = tempfile::tempdir().unwrap();
            copy_dir(&root().join("tests/fixtures"), tmp.path());
            let rel = fail.strip_prefix(root().join("tests/fixtures")).unwrap();
            let fixture = tmp.path().join(rel);
            let (files, head) = fixture_files(&fixture);
            let flags = head.cli_flags(&fixture);
            let mut cmd = flint();
            cmd.arg("fix").args(&flags).args(&files);
            if spec.applicability == Applicability::Unsafe {
                cmd.arg("--unsafe-fixes");
            }
            let out = cmd.output().unwrap();
            let code = out.status.code();
            if code == Some(2) {
                failures.push(format!(
                    "{}: exit 2: {}",
                    rel.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let mut inputs = Inputs::default();
            for f in &files {
                inputs.add(
                    &f.display().to_string(),
                    &std::fs::read_to_string(f).unwrap(),
                );
            }
            let outcome = lint::lint(&engine, inputs);
            assert!(
                outcome.errors.is_empty(),
                "{}: {:?}",
                rel.display(),
                outcome.errors
            );
            let left: Vec<_> = outcome
                .findings
                .iter()
                .filter(|f| f.finding.rule == rule.id && f.finding.fix.is_some())
                .map(|f| format!("{}:{} {}", f.line, f.column, f.finding.message))
                .collect();
            if !left.is_empty() {
                failures.push(format!(
                    "{}: {} left after fix: {left:?}\n{}",
                    rel.display(),
                    rule.id,
                    std::fs::read_to_string(&files[0]).unwrap()
                ));
                continue;
            }
            // Idempotence: a second run changes no file.
            let before: Vec<String> = files
                .iter()
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect();
            let mut again = flint();
            again.arg("fix").args(&flags).args(&files);
            if spec.applicability == Applicability::Unsafe {
                again.arg("--unsafe-fixes");
            }
            again.output().unwrap();
            let after: Vec<String> = files
                .iter()
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect();
            if before != after {
                failures.push(format!("{}: a second fix changed the files", rel.display()));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 22, "only {checked} fixtures checked");
    // The failing fixtures of fixable rules whose findings carry no fix, and why.
    assert_eq!(
        unfixable,
        [
            "FLK101/fail-scale.yaml", // a Scale request (kubectl scale), not a file to edit
            "FLK306/fail.yaml",       // which address is right is the author's
            "FLK307/fail-range.yaml", // which port of the range is the author's
            "FLK310/fail-args.yaml",  // the host must come right after `jobmanager`
            "FLK310/fail-unknown-version.yaml", // no argument form fits every Flink version
            "FLK401/fail-scope-all.yaml", // not a Flink container: no size is known to fit
            "FLK401/fail-sidecar.yaml", // a sidecar: no size is known to fit
            "FLK404/fail-flink2-legacy-heap.yaml", // the size goes in a ConfigMap others may share
            "FLK404/fail-no-memory-option.yaml", // the same
            "FLK404/fail-no-memory-small-limit.yaml", // the same
            "FLK404/fail-taskmanager.yaml", // the same: the message names the size
            "FLK404/fail.yaml",       // the same
            "FLK501/fail-not-a-label-value.yaml", // the API server would refuse the label
            "FLK503/fail-blue-green.yaml", // moving to a supported Flink is a downgrade
            "FLK503/fail-not-a-version.yaml", // the image does not say its Flink version
            "FLK503/fail-old.yaml",   // moving to a supported Flink is an upgrade
            "FLK508/fail-unknown.yaml", // no key the operator mounts is meant
            "FLK510/fail-periodic.yaml", // no checkpoint directory to put it beside
            "FLK510/fail-trigger.yaml", // no checkpoint directory to put it beside
            "FLK515/fail-unknown.yaml", // no Flink service account in sight
        ]
    );
}

const COMMENTED: &str = r#"# The session JobManager, as the team keeps it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: 'flink-jobmanager'   # single-quoted on purpose
  labels: {app: flink, component: jobmanager}
spec:

  replicas: 1
  selector:
    matchLabels:
      app: flink
      component: jobmanager

  template:
    metadata:
      labels:
        app: flink
        component: jobmanager
    spec:
      containers:
        # the main container
        - name: jobmanager
          image: "flink:1.20"
          args: ["jobmanager"]
          ports:
            - containerPort: 6123
              name: rpc
          volumeMounts:
            - name: flink-config-volume
              mountPath: /opt/flink/conf
      volumes:
        - name: flink-config-volume
          configMap:
            name: flink-config   # see configmap.yaml
"#;

fn lines_kept(before: &str, after: &str) {
    let mut rest = after.lines();
    for line in before.lines() {
        assert!(
            rest.any(|l| l == line),
            "line {line:?} is gone or moved out of order:\n{after}"
        );
    }
}

#[test]
fn comments_quoting_and_blank_lines_survive_and_a_second_fix_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("jobmanager.yaml");
    std::fs::write(&file, COMMENTED).unwrap();
    let out = flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert_ne!(after, COMMENTED, "{}", String::from_utf8_lossy(&out.stderr));
    // Every original line is still there, in order: comments, quotes, blank lines, flow maps.
    lines_kept(COMMENTED, &after);
    assert!(
        after.contains("\n  strategy:\n    type: Recreate\n"),
        "{after}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixed "));
    // Idempotence through the binary.
    flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    let diff = flint()
        .args(["fix", "--diff", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        diff.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("jobmanager.yaml");
    std::fs::write(&file, COMMENTED).unwrap();
    let out = flint()
        .args(["fix", "--diff", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), COMMENTED);
    let diff = String::from_utf8(out.stdout).unwrap();
    let name = file.display().to_string();
    assert!(
        diff.starts_with(&format!("--- {name}\n+++ {name}\n@@ ")),
        "{diff}"
    );
    assert!(
        diff.contains("\n+  strategy:\n+    type: Recreate\n"),
        "{diff}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("would change 1 file(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Relative names get git's prefixes, and `git apply` of the diff gives exactly what fixing
    // in place writes.
    let rel = flint()
        .current_dir(tmp.path())
        .args([
            "fix",
            "--diff",
            "--platform",
            "kubernetes",
            "jobmanager.yaml",
        ])
        .output()
        .unwrap();
    let rel_diff = String::from_utf8(rel.stdout).unwrap();
    assert!(
        rel_diff.starts_with("--- a/jobmanager.yaml\n+++ b/jobmanager.yaml\n"),
        "{rel_diff}"
    );
    std::fs::write(tmp.path().join("fix.diff"), &rel_diff).unwrap();
    let applied = std::process::Command::new("git")
        .current_dir(tmp.path())
        .args(["apply", "--unsafe-paths", "fix.diff"])
        .output()
        .expect("git is installed");
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let by_git = std::fs::read_to_string(&file).unwrap();
    let fixed = tmp.path().join("copy.yaml");
    std::fs::write(&fixed, COMMENTED).unwrap();
    flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&fixed)
        .output()
        .unwrap();
    assert_eq!(by_git, std::fs::read_to_string(&fixed).unwrap());
}

#[test]
fn only_the_documents_that_need_it_change_in_a_multi_document_file() {
    let cm = "---\n# config\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flink-config\ndata:\n  flink-conf.yaml: |\n    jobmanager.rpc.address: flink-jobmanager\n    taskmanager.numberOfTaskSlots: 2\n  log4j-console.properties: |\n    rootLogger.level = INFO\n";
    let text = format!("{COMMENTED}{cm}");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("all.yaml");
    std::fs::write(&file, &text).unwrap();
    flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.ends_with(cm), "{after}");
    lines_kept(&text, &after);
    assert!(after.contains("type: Recreate"), "{after}");
}

#[test]
fn json_files_are_fixed_as_pretty_json() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("jm.json");
    let value: serde_json::Value = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flink-jobmanager", "x-unknown": {"kept": true}},
        "spec": {"replicas": 1, "template": {"metadata": {"labels": {"component": "jobmanager"}},
          "spec": {"containers": [{"name": "jobmanager", "image": "flink:1.20", "args": ["jobmanager"]}]}}}
    });
    std::fs::write(&file, value.to_string()).unwrap();
    flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    let fixed: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(fixed["spec"]["strategy"]["type"], "Recreate", "{after}");
    assert_eq!(fixed["metadata"]["x-unknown"]["kept"], true);
    assert!(
        after.starts_with("{\n  \"apiVersion\": \"apps/v1\",\n"),
        "{after}"
    );
}

#[test]
fn exit_codes_clean_findings_left_and_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // Clean after the fix: a Service with all the ports is nothing to fix; exit 0.
    let clean = tmp.path().join("svc.yaml");
    std::fs::write(
        &clean,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n",
    )
    .unwrap();
    flint().arg("fix").arg(&clean).assert().code(0);
    // Findings without a safe fix left (a JobManager scaled to 3, whose ConfigMap is not among
    // the files: FLK101 and FLK303, warnings since the config is unseen): exit 1 at
    // `--fail-on warning`, the rest of the file fixed.
    let left = tmp.path().join("jm.yaml");
    std::fs::write(&left, COMMENTED.replace("replicas: 1", "replicas: 3")).unwrap();
    flint()
        .args(["fix", "--platform", "kubernetes", "--fail-on", "warning"])
        .arg(&left)
        .assert()
        .code(1);
    assert!(
        std::fs::read_to_string(&left)
            .unwrap()
            .contains("replicas: 3")
    );
    // An input that does not parse: exit 2, and it is not touched.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: [\n").unwrap();
    flint().arg("fix").arg(&bad).assert().code(2);
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "apiVersion: v1\nkind: [\n"
    );
    // Standard input cannot be fixed in place.
    let out = flint()
        .args(["fix", "-"])
        .write_stdin("a: 1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("standard input cannot be fixed in place")
    );
}

#[cfg(unix)]
#[test]
fn a_fixed_file_keeps_its_mode_and_no_temporary_file_is_left() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("jm.yaml");
    std::fs::write(&file, COMMENTED).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    flint()
        .args(["fix", "--platform", "kubernetes"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ne!(std::fs::read_to_string(&file).unwrap(), COMMENTED);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["jm.yaml".to_string()]);
}

/// The Flink documentation's standalone manifests (../shared/corpus/flink-docs), without the
/// snippet that is not valid YAML: after `fix` on each platform every comment line is still
/// there, no finding that has a safe fix is left, and a second run changes nothing. The diffs
/// are snapshots.
#[test]
fn flink_docs_standalone_manifests_after_fix_on_both_platforms() {
    let corpus = root().join("../shared/corpus/flink-docs/standalone-kubernetes");
    if !corpus.is_dir() {
        panic!("{} is missing", corpus.display());
    }
    for platform in ["openshift", "kubernetes"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("standalone-kubernetes");
        std::fs::create_dir_all(&dir).unwrap();
        let mut originals = Vec::new();
        for e in std::fs::read_dir(&corpus).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("snippet") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(dir.join(&name), &text).unwrap();
            originals.push((name, text));
        }
        originals.sort();
        let diff = flint()
            .current_dir(tmp.path())
            .args([
                "fix",
                "--diff",
                "--platform",
                platform,
                "standalone-kubernetes",
            ])
            .output()
            .unwrap();
        assert_ne!(
            diff.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&diff.stderr)
        );
        let diff = String::from_utf8(diff.stdout).unwrap();
        insta::assert_snapshot!(format!("flink-docs-standalone-fix-diff-{platform}"), diff);
        let out = flint()
            .current_dir(tmp.path())
            .args(["fix", "--platform", platform, "standalone-kubernetes"])
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every comment survives, except a trailing one on an entry the fix removes (OpenShift
        // assigns the uid and fsGroup, so `runAsUser: 9999  # ...` goes, comment and all).
        for (name, before) in &originals {
            let after = std::fs::read_to_string(dir.join(name)).unwrap();
            for line in before.lines().filter(|l| l.contains('#')) {
                let removed_entry = ["runAsUser:", "fsGroup:", "runAsGroup:"]
                    .iter()
                    .any(|k| line.trim_start().starts_with(k));
                assert!(
                    after.lines().any(|a| a == line) || removed_entry,
                    "{platform} {name}: comment line {line:?} lost:\n{after}"
                );
            }
        }
        // What is left has no safe fix.
        let mut settings = Settings::default();
        if platform == "kubernetes" {
            settings.platform = Platform::Kubernetes;
        }
        let engine = Engine::embedded(settings).unwrap();
        let mut inputs = Inputs::default();
        for (name, _) in &originals {
            let p = dir.join(name);
            inputs.add(
                &p.display().to_string(),
                &std::fs::read_to_string(&p).unwrap(),
            );
        }
        let outcome = lint::lint(&engine, inputs);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        let fixable: Vec<String> = outcome
            .findings
            .iter()
            .filter(|f| {
                f.finding
                    .fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == Applicability::Safe)
            })
            .map(|f| {
                format!(
                    "{}:{} {} {}",
                    f.file, f.line, f.finding.rule, f.finding.message
                )
            })
            .collect();
        assert!(fixable.is_empty(), "{platform}: {fixable:#?}");
        let again = flint()
            .current_dir(tmp.path())
            .args([
                "fix",
                "--diff",
                "--platform",
                platform,
                "standalone-kubernetes",
            ])
            .output()
            .unwrap();
        assert!(
            again.stdout.is_empty(),
            "{platform}: {}",
            String::from_utf8_lossy(&again.stdout)
        );
    }
}

/// `fix:` in `.flink-lint.yaml`: no created objects, or another log4j text and slot count.
#[test]
fn fix_settings_in_the_config_file() {
    let fail = std::fs::read_to_string(root().join("tests/fixtures/FLK301/fail.yaml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tm.yaml");
    // Objects off: FLK301 has no ConfigMap to mount, so nothing about /opt/flink/conf is written.
    std::fs::write(&file, &fail).unwrap();
    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "fix:\n  create-objects: false\n",
    )
    .unwrap();
    flint().arg("fix").arg(&file).output().unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        !after.contains("/opt/flink/conf") && !after.contains("kind: ConfigMap"),
        "{after}"
    );
    // Another log4j text, two slots and 4Gi TaskManagers: the written ConfigMap has them.
    std::fs::write(&file, &fail).unwrap();
    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "fix:\n  log4j-console: |\n    rootLogger.level = WARN\n  task-slots: 2\nresources:\n  taskmanager: {cpu: \"2\", memory: 4Gi}\n",
    )
    .unwrap();
    flint().arg("fix").arg(&file).output().unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.contains("  log4j-console.properties: |\n    rootLogger.level = WARN\n"),
        "{after}"
    );
    assert!(
        after.contains("    taskmanager.numberOfTaskSlots: 2\n"),
        "{after}"
    );
    assert!(
        after.contains("    taskmanager.memory.process.size: 4g\n"),
        "{after}"
    );
    // A typo is an error, not silently ignored.
    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "fix:\n  create-object: false\n",
    )
    .unwrap();
    let out = flint().arg("fix").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("create-object"));
}

/// FLK301 offline: the cluster's TaskManager mounts a ConfigMap that is not among the files;
/// the JobManager gets the same one mounted (no items: its keys are unknown), and nothing is
/// created.
#[test]
fn the_config_map_a_sibling_mounts_is_mounted_even_when_unseen() {
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: flink-taskmanager}
spec:
  template:
    metadata:
      labels: {app: orders, component: taskmanager}
    spec:
      containers:
      - name: taskmanager
        image: flink:1.20
        args: [taskmanager]
        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]
      volumes:
      - name: conf
        configMap: {name: orders-config}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: flink-jobmanager}
spec:
  template:
    metadata:
      labels: {app: orders, component: jobmanager}
    spec:
      containers:
      - name: jobmanager
        image: flink:1.20
        args: [jobmanager]
";
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("cluster.yaml");
    std::fs::write(&file, text).unwrap();
    flint()
        .args(["fix", "--select", "FLK301"])
        .arg(&file)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.starts_with(text.split("---").next().unwrap()),
        "{after}"
    );
    assert!(
        after.ends_with(
            "        args: [jobmanager]\n        volumeMounts:\n        - name: flink-config-volume\n          mountPath: /opt/flink/conf\n      volumes:\n      - name: flink-config-volume\n        configMap:\n          name: orders-config\n"
        ),
        "{after}"
    );
    assert!(!after.contains("kind: ConfigMap"), "{after}");
}

const SHARED_CONFIG_MAP: &str = "\
# The cluster's configuration, kept by hand.
apiVersion: v1
kind: ConfigMap
metadata:
  name: orders-config   # both Deployments mount it
data:
  # nothing here yet

  readme.txt: 'see the wiki'
";

const TWO_WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-jobmanager}
spec:
  template:
    metadata:
      labels: {app: orders, component: jobmanager}
    spec:
      containers:
      - name: jobmanager
        image: flink:2.0
        args: [jobmanager]
        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]
      volumes:
      - name: conf
        configMap: {name: orders-config}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-taskmanager}
spec:
  template:
    metadata:
      labels: {app: orders, component: taskmanager}
    spec:
      containers:
      - name: taskmanager
        image: flink:2.0
        args: [taskmanager]
        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]
      volumes:
      - name: conf
        configMap: {name: orders-config}
";

/// FLK304 and FLK312: the ConfigMap two Flink 2.0 workloads mount (in another file) lacks
/// config.yaml and log4j-console.properties. `fix` writes each key once into the ConfigMap's file (config.yaml,
/// the file Flink 2.0 reads; the log4j text from `fix.log4j-console`), keeps its comments and
/// its other keys, and a second run changes nothing.
#[test]
fn a_key_the_mounted_config_map_lacks_is_written_into_it_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cm = tmp.path().join("configmap.yaml");
    let workloads = tmp.path().join("cluster.yaml");
    std::fs::write(&cm, SHARED_CONFIG_MAP).unwrap();
    std::fs::write(&workloads, TWO_WORKLOADS).unwrap();
    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "fix:\n  log4j-console: |\n    rootLogger.level = WARN\n",
    )
    .unwrap();
    let run = || {
        flint()
            .current_dir(tmp.path())
            .args([
                "fix",
                "--select",
                "FLK304,FLK312",
                "cluster.yaml",
                "configmap.yaml",
            ])
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&cm).unwrap();
    lines_kept(SHARED_CONFIG_MAP, &after);
    assert_eq!(after.matches("config.yaml: |").count(), 1, "{after}");
    assert_eq!(
        after.matches("log4j-console.properties:").count(),
        1,
        "{after}"
    );
    assert!(after.contains("    rootLogger.level = WARN\n"), "{after}");
    assert!(after.contains("    jobmanager.rpc.port: 6123\n"), "{after}");
    // The workloads mount the whole ConfigMap: their file is not touched.
    assert_eq!(std::fs::read_to_string(&workloads).unwrap(), TWO_WORKLOADS);
    // FLK305 reads the written config.yaml as valid, FLK304 and FLK312 are gone.
    let mut inputs = Inputs::default();
    inputs.add("configmap.yaml", &after);
    inputs.add("cluster.yaml", TWO_WORKLOADS);
    let engine = Engine::embedded(Settings::default()).unwrap();
    let outcome = lint::lint(&engine, inputs);
    let left: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| ["FLK304", "FLK305", "FLK312"].contains(&f.finding.rule.as_str()))
        .map(|f| f.finding.message.clone())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    run();
    assert_eq!(std::fs::read_to_string(&cm).unwrap(), after);
}

/// FLK312 with `items`: the ConfigMap gets the key in one pass, the volume the item in the
/// next; an existing key is never overwritten, and an immutable ConfigMap is not edited.
#[test]
fn missing_keys_with_items_existing_keys_and_immutable_config_maps() {
    let workload = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-taskmanager}
spec:
  template:
    metadata:
      labels: {app: orders, component: taskmanager}
    spec:
      containers:
      - name: taskmanager
        image: flink:1.17
        args: [taskmanager]
        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]
      volumes:
      - name: conf
        configMap:
          name: orders-config
          items:
          - {key: flink-conf.yaml, path: flink-conf.yaml}
";
    let cm = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: orders-config}
data:
  flink-conf.yaml: |
    taskmanager.numberOfTaskSlots: 2
";
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("all.yaml");
    std::fs::write(&file, format!("{cm}---\n{workload}")).unwrap();
    flint()
        .args(["fix", "--select", "FLK312"])
        .arg(&file)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.contains("    taskmanager.numberOfTaskSlots: 2\n  log4j-console.properties: |\n"),
        "{after}"
    );
    assert!(
        after.ends_with(
            "- {key: flink-conf.yaml, path: flink-conf.yaml}\n          - key: log4j-console.properties\n            path: log4j-console.properties\n"
        ),
        "{after}"
    );
    assert_eq!(after.matches("flink-conf.yaml: |").count(), 1, "{after}");

    let frozen = cm.replace("\ndata:", "\nimmutable: true\ndata:");
    std::fs::write(&file, format!("{frozen}---\n{workload}")).unwrap();
    let out = flint()
        .args(["fix", "--select", "FLK312", "--fail-on", "warning"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{frozen}---\n{workload}")
    );
}

/// `fix` reports what is left as `check` does: `--baseline` (and the config's `baseline:`)
/// leaves out the findings it holds and they no longer fail the run, `--min-severity` hides
/// what is below it, `-q` prints the findings only, and a path without objects is exit 2
/// unless `--allow-empty`.
#[test]
fn fix_reports_what_is_left_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    // FLK101 (two JobManagers without HA: an error no fix removes, at a node the fixes leave
    // alone) and FLK102 (an error whose safe fix adds a Recreate strategy).
    let file = dir.path().join("jm.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flink-jobmanager}\nspec:\n  \
         replicas: 2\n  selector:\n    matchLabels: {app: flink, component: jobmanager}\n  \
         template:\n    metadata:\n      labels: {app: flink, component: jobmanager}\n    \
         spec:\n      containers:\n      - {name: jobmanager, image: flink:1.20, args: [jobmanager]}\n",
    )
    .unwrap();
    let base = dir.path().join("baseline.json");
    flint()
        .args(["baseline", "write"])
        .arg(&base)
        .arg(&file)
        .args(["--platform", "kubernetes"])
        .assert()
        .success();
    let before = std::fs::read_to_string(&file).unwrap();

    let run = |extra: &[&str]| {
        let copy = dir.path().join("copy.yaml");
        std::fs::write(&copy, &before).unwrap();
        let out = flint()
            .arg("fix")
            .arg(&copy)
            .args(["--platform", "kubernetes", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out, json)
    };
    let left = |v: &serde_json::Value| v["findings"].as_array().map_or(0, |a| a.len());
    let (all, all_json) = run(&[]);
    assert_eq!(all.status.code(), Some(1), "{all:?}");
    assert!(left(&all_json) > 0, "{all_json}");

    // The baseline names the file by the path it was written with: fix the same path.
    let with_baseline = flint()
        .arg("fix")
        .arg(&file)
        .args(["--platform", "kubernetes", "--format", "json", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&with_baseline.stderr);
    assert_eq!(with_baseline.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&with_baseline.stdout).unwrap();
    let errors = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(errors, 0, "{json}");
    assert!(
        stderr.contains("finding(s) not reported") && !stderr.contains(": 0 finding(s)"),
        "{stderr}"
    );
    assert_ne!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "the fixes are written"
    );

    // -q: no summary or notes on standard error; --min-severity error hides the warnings.
    let (quiet, quiet_json) = run(&["-q", "--min-severity", "error"]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let severities: Vec<&str> = quiet_json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert!(
        !severities.is_empty() && severities.iter().all(|s| *s == "error"),
        "{quiet_json}"
    );

    // A directory without objects is a usage error unless --allow-empty.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("values.yaml"), "# not a manifest\n").unwrap();
    let out = flint().arg("fix").arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Kubernetes objects found"));
    flint()
        .arg("fix")
        .arg(empty.path())
        .arg("--allow-empty")
        .assert()
        .success();
}
