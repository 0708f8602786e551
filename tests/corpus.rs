//! The whole of `../shared/corpus`, real manifests written by others: nothing panics, the two
//! files its READMEs call invalid get a positioned error and nothing else does, and the Flink
//! documentation's standalone manifests get the problems they are known to have.

use std::path::{Path, PathBuf};

use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, Outcome, discover};

#[path = "common/corpus.rs"]
mod shared_corpus;

fn corpus() -> Option<PathBuf> {
    shared_corpus::corpus("")
}

fn lint_dir(dir: &Path) -> Outcome {
    let engine = Engine::embedded(Settings::default()).unwrap();
    let (files, missing) = discover::expand(&[dir.display().to_string()]);
    assert!(missing.is_empty());
    let mut inputs = Inputs::default();
    for f in files {
        let name = f.display();
        let text = std::fs::read_to_string(&name).unwrap();
        inputs.add(&name, &text);
    }
    lint::lint(&engine, inputs)
}

#[test]
fn whole_corpus_errors_exactly_on_the_files_called_invalid() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir);
    let mut files: Vec<String> = out
        .errors
        .iter()
        .map(|e| {
            let rel = e
                .file
                .split("corpus/")
                .nth(1)
                .unwrap_or(&e.file)
                .to_string();
            format!("{rel}:{}", e.line)
        })
        .collect();
    files.sort();
    files.dedup();
    assert_eq!(
        files,
        vec![
            "aws-samples-cost-optimized-flink/install/jobmanager-application-ha.yaml:45"
                .to_string(),
            "flink-docs/standalone-kubernetes/kubernetes-ha-services-configmap-snippet.yaml:9"
                .to_string(),
        ],
        "{:#?}",
        out.errors
    );
    assert!(out.summary().objects > 150, "{:?}", out.summary());
}

fn rules_in(out: &Outcome, file: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .findings
        .iter()
        .filter(|l| l.file.ends_with(file))
        .map(|l| l.finding.rule.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn flink_docs_standalone_manifests_get_their_known_problems() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir.join("flink-docs/standalone-kubernetes"));
    // The session JobManager Deployment rolls with a surge and has no resources.
    let jm = rules_in(&out, "jobmanager-session-deployment-non-ha.yaml");
    assert!(jm.contains(&"FLK102".to_string()), "{jm:?}");
    assert!(jm.contains(&"FLK401".to_string()), "{jm:?}");
    let tm = rules_in(&out, "taskmanager-session-deployment.yaml");
    assert!(tm.contains(&"FLK401".to_string()), "{tm:?}");
    // The local-recovery StatefulSet mounts log4j-console.properties its ConfigMap lacks.
    let lr = rules_in(&out, "local-recovery-taskmanager-statefulset.yaml");
    assert!(lr.contains(&"FLK304".to_string()), "{lr:?}");
    // The HA session Deployment uses Kubernetes HA... only through a ConfigMap snippet that is
    // not valid YAML, so its HA is unknown and it is a JobManager without the rolling-update fix.
    assert!(!out.findings.iter().any(|l| l.finding.message.contains('{')));
}

#[test]
fn third_party_manifests_get_the_mistakes_their_readme_documents() {
    let Some(dir) = corpus() else { return };
    // "selector app: flink does not match the app: flink-oss pods of this folder"
    let oss = lint_dir(&dir.join("jbcodeforce/deployment/k8s/flink-oss"));
    assert_eq!(
        rules_in(&oss, "jobmanager-rest-service.yaml"),
        vec!["FLK106"]
    );
    // the exported operator Deployment has empty resources
    assert!(
        rules_in(&oss, "deployment-flink-kubernetes-operator.yaml").contains(&"FLK401".to_string())
    );
    // "ConfigMap (flink-conf.yaml, no log4j key)": both Deployments mount it. Its process sizes
    // (1024m) fit the 1Gi limits, so no FLK403 (an unrelated namespace-less ConfigMap of the same
    // name elsewhere in the corpus must not be picked over this same-namespace one).
    let dedup =
        lint_dir(&dir.join("jbcodeforce/e2e-demos/dedup-demo/cp-flink/flink-table-api/k8s"));
    let log4j = dedup
        .findings
        .iter()
        .filter(|l| {
            l.finding.rule == "FLK312" && l.finding.message.contains("log4j-console.properties")
        })
        .count();
    assert_eq!(log4j, 2, "{:?}", dedup.findings);
    assert!(!dedup.findings.iter().any(|l| l.finding.rule == "FLK403"));
    // The operator's canary resource is not validated by the operator, so no memory finding.
    let canary = lint_dir(&dir.join("flink-kubernetes-operator/examples"));
    assert!(rules_in(&canary, "canary.yaml").is_empty());
    // A FlinkDeployment with jobManager.replicas: 2 and Kubernetes HA (upper-case type) is fine.
    let ha = lint_dir(&dir.join("streamshub-flink-sql-examples/deployment-examples/ha-example"));
    assert!(
        !ha.findings.iter().any(|l| l.finding.rule == "FLK101"),
        "{:?}",
        ha.findings
    );
}

/// What Flink does at start-up, judged per version (FLK312-FLK323): exactly these corpus files
/// are flagged, each for the reason given.
#[test]
fn startup_rules_flag_exactly_the_corpus_files_that_break_at_start_up() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir);
    let mut flagged: Vec<(String, String)> = out
        .findings
        .iter()
        .filter(|l| {
            l.finding
                .rule
                .strip_prefix("FLK3")
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| (12..=23).contains(&n))
        })
        .map(|l| {
            let rel = l.file.split("corpus/").nth(1).unwrap_or(&l.file);
            (l.finding.rule.clone(), rel.to_string())
        })
        .collect();
    flagged.sort();
    flagged.dedup();
    let expected: Vec<(&str, &str)> = vec![
        // The ConfigMap both Deployments mount has no log4j-console.properties (README).
        (
            "FLK312",
            "jbcodeforce/e2e-demos/dedup-demo/cp-flink/flink-table-api/k8s/flink-deployment.yaml",
        ),
        // The operator's own TLS example runs flink:2.2 with security.ssl.enabled, a key
        // Flink 2.0 removed (security.ssl.internal.enabled replaces it).
        (
            "FLK314",
            "flink-kubernetes-operator/examples/flink-tls-example/basic-secure.yaml",
        ),
        // An init container fills an emptyDir mounted over /opt/flink/lib: flink-dist is hidden.
        (
            "FLK317",
            "jbcodeforce/e2e-demos/cdc-demo/cp-flink/infrastructure/flink/jobmanager.yaml",
        ),
        (
            "FLK317",
            "jbcodeforce/e2e-demos/cdc-demo/cp-flink/infrastructure/flink/taskmanager.yaml",
        ),
        // log4j-console.properties written as log4j.rootLogger=..., which Log4j 2 ignores.
        (
            "FLK319",
            "jbcodeforce/e2e-demos/external-lookup/cp-flink/flink-app/k8s/configmap.yaml",
        ),
        (
            "FLK319",
            "jbcodeforce/history/e2e-demos/external-lookup/flink/k8s/configmap.yaml",
        ),
        // Pod template containers named other than flink-main-container, without an image.
        (
            "FLK320",
            "jbcodeforce/code/flink-java/sql-runner/src/main/k8s/deployment.yml",
        ),
        (
            "FLK320",
            "jbcodeforce/code/flink-sql/11-puzzles/flink_sql_client.yaml",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(r, f)| (r.to_string(), f.to_string()))
        .collect();
    assert_eq!(flagged, expected);
}

/// Findings as (file relative to `root`, rule, pointer): what must not depend on what else is
/// linted in the same run.
fn finding_keys(
    out: &Outcome,
    root: &Path,
) -> std::collections::BTreeSet<(String, String, String)> {
    out.findings
        .iter()
        .map(|f| {
            let rel = Path::new(&f.file)
                .strip_prefix(root)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| f.file.clone());
            (rel, f.finding.rule.clone(), f.finding.path.clone())
        })
        .collect()
}

/// Each top-level directory of the corpus is a separate project: linted inside the whole corpus
/// it gets exactly the findings it gets alone (nothing of one project resolves another's).
#[test]
fn every_project_gets_the_same_findings_alone_as_inside_the_whole_corpus() {
    let Some(dir) = corpus() else { return };
    let whole = finding_keys(&lint_dir(&dir), &dir);
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let project = entry.unwrap().path();
        if !project.is_dir() {
            continue;
        }
        let name = project.file_name().unwrap().to_string_lossy().to_string();
        let alone = finding_keys(&lint_dir(&project), &dir);
        let inside: std::collections::BTreeSet<_> = whole
            .iter()
            .filter(|k| k.0.starts_with(&format!("{name}/")))
            .cloned()
            .collect();
        let differ: Vec<_> = alone.symmetric_difference(&inside).collect();
        assert!(differ.is_empty(), "{name}: {differ:?}");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} projects");
    assert!(!whole.is_empty());
}
