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

/// Issue #21's memory and capacity rules (FLK403 to FLK409) flag exactly these corpus files,
/// each for the reason given.
#[test]
fn memory_and_capacity_rules_flag_exactly_these_corpus_files() {
    let Some(dir) = corpus() else { return };
    let out = lint_dir(&dir);
    let memory_rules = [
        "FLK403", "FLK404", "FLK405", "FLK406", "FLK407", "FLK408", "FLK409",
    ];
    let mut got: Vec<(String, String)> = out
        .findings
        .iter()
        .filter(|l| memory_rules.contains(&l.finding.rule.as_str()))
        .map(|l| {
            let rel = l.file.split("corpus/").nth(1).unwrap_or(&l.file);
            (rel.to_string(), l.finding.rule.clone())
        })
        .collect();
    got.sort();
    got.dedup();
    let expected: Vec<(String, String)> = [
        // taskManager.replicas with a job.parallelism that is not replicas x slots: the
        // operator runs the job at replicas x slots (2 x 4 = 8, not 1; 2 x 2 = 4, not 2).
        ("awslabs-data-on-eks/data-stacks/emr-on-eks/examples/flink/karpenter/autoscaler-example.yaml", "FLK408"),
        ("awslabs-data-on-eks/data-stacks/flink-on-eks/examples/flink-sample-job.yaml", "FLK408"),
        ("awslabs-data-on-eks/data-stacks/workshop/manifests/flink-deployment-alerts.yaml", "FLK408"),
        ("awslabs-data-on-eks/data-stacks/workshop/manifests/flink-deployment.yaml", "FLK408"),
        ("awslabs-data-on-eks/streaming/flink/examples/karpenter/flink-sample-job.yaml", "FLK408"),
        // Its own ConfigMap flink-config replaces /opt/flink/conf without any memory size, so
        // the image's taskmanager.memory.process.size is gone and Flink refuses to start.
        ("flink-docs/standalone-kubernetes/local-recovery-taskmanager-statefulset.yaml", "FLK404"),
    ]
    .iter()
    .map(|(f, r)| (f.to_string(), r.to_string()))
    .collect();
    assert_eq!(got, expected, "{got:#?}");
    let lr = out
        .findings
        .iter()
        .find(|l| l.finding.rule == "FLK404")
        .map(|l| l.finding.message.clone())
        .unwrap_or_default();
    assert_eq!(
        lr,
        "Flink refuses to start the TaskManager: no memory size is set, and the mounted \
         flink-conf.yaml replaces the image's, which sets taskmanager.memory.process.size: \
         1728m; set taskmanager.memory.process.size: 1728m"
    );
}

/// The Flink docs' standalone manifests, with every safe fix applied (what `flink-lint fix`
/// writes), get no memory or capacity finding they did not have: the fixes size containers as
/// Flink sizes its processes.
#[test]
fn flink_docs_manifests_stay_clean_of_memory_findings_after_fix() {
    let Some(dir) = corpus() else { return };
    let docs = dir.join("flink-docs/standalone-kubernetes");
    let engine = Engine::embedded(Settings::default()).unwrap();
    let memory_rules = ["FLK403", "FLK405", "FLK406", "FLK407", "FLK409"];
    let judged = |inputs: Inputs| {
        let out = lint::lint(&engine, inputs);
        let mut v: Vec<(String, String)> = out
            .findings
            .iter()
            .filter(|l| memory_rules.contains(&l.finding.rule.as_str()))
            .map(|l| (l.file.clone(), l.finding.rule.clone()))
            .collect();
        v.sort();
        v
    };
    let mut inputs = Inputs::default();
    let mut names = Vec::new();
    for e in std::fs::read_dir(&docs).unwrap() {
        let p = e.unwrap().path();
        if p.display().to_string().contains("snippet") {
            continue;
        }
        let name = p.display().to_string();
        inputs.add(&name, &std::fs::read_to_string(&p).unwrap());
        names.push(name);
    }
    let world = inputs.world(false);
    let mut fixed_files: std::collections::BTreeMap<usize, Vec<serde_json::Value>> =
        Default::default();
    for (i, o) in inputs.objects.iter().enumerate() {
        let view = world.view(i);
        let subject = flink_admission::engine::Subject::offline_shared(&o.value, &view);
        let fixed = engine.fix(&subject).object;
        fixed_files.entry(o.file).or_default().push(fixed);
    }
    let mut after = Inputs::default();
    for (file, objects) in &fixed_files {
        let text: Vec<String> = objects
            .iter()
            .map(|o| serde_json::to_string(o).unwrap())
            .collect();
        after.add(&names[*file], &text.join("\n---\n"));
    }
    assert!(judged(after).is_empty());
    assert!(judged(inputs).is_empty());
}
