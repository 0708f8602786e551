//! The whole of `../shared/corpus`, real manifests written by others: nothing panics, the two
//! files its READMEs call invalid get a positioned error and nothing else does, and the Flink
//! documentation's standalone manifests get the problems they are known to have.

use std::path::{Path, PathBuf};

use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, Outcome, discover};

use crate::common::corpus as shared_corpus;

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
            l.finding.rule == "FLK304" && l.finding.message.contains("log4j-console.properties")
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

/// The operator's own examples and test manifests pass its validation (FLK5xx, FLK402) as
/// flink-lint judges it, except the e2e session jobs whose `jarURI` is the placeholder
/// `STREAMING_EXAMPLES_JAR_URL` that the e2e scripts substitute before applying: as written
/// they have no scheme, which the operator (1.16) refuses.
#[test]
fn the_operators_own_examples_pass_its_validation() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir.join("flink-kubernetes-operator"));
    let mut operator: Vec<String> = out
        .findings
        .iter()
        .filter(|l| l.finding.rule.starts_with("FLK5") || l.finding.rule == "FLK402")
        .filter(|l| l.finding.rule != "FLK501")
        .map(|l| {
            let rel = l
                .file
                .split("flink-kubernetes-operator/")
                .nth(1)
                .unwrap_or(&l.file);
            format!("{rel} {}", l.finding.rule)
        })
        .collect();
    operator.sort();
    operator.dedup();
    assert_eq!(
        operator,
        vec![
            "e2e-tests/data/multi-sessionjob.yaml FLK520".to_string(),
            "e2e-tests/data/sessionjob-cr.yaml FLK520".to_string(),
        ],
        "{:#?}",
        out.findings
            .iter()
            .filter(|l| l.finding.rule.starts_with("FLK5"))
            .map(|l| &l.finding.message)
            .collect::<Vec<_>>()
    );
}

/// A FlinkDeployment the operator rejects is rejected here, with every reason at once: the
/// workshop's PyFlink job (`mode: application`, no serviceAccount, no parallelism, no memory).
#[test]
fn the_workshop_pyflink_deployment_is_rejected_for_every_reason() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir.join("awslabs-data-on-eks"));
    let errors: Vec<(String, String)> = out
        .findings
        .iter()
        .filter(|l| l.file.ends_with("workshop/manifests/flinkpy.yaml"))
        .filter(|l| l.finding.severity == flink_admission::engine::Severity::Error)
        .map(|l| (l.finding.rule.clone(), l.finding.path.clone()))
        .collect();
    for want in [
        ("FLK402", "/spec"),
        ("FLK511", "/spec/job"),
        ("FLK515", "/spec"),
        ("FLK523", "/spec/mode"),
    ] {
        assert!(
            errors.iter().any(|(r, p)| r == want.0 && p == want.1),
            "{want:?} not in {errors:?}"
        );
    }
}
