//! The world objects are judged in: references resolve to the nearest file and directory,
//! sibling directories never meet, ties are reported, and what cannot be seen is at most a
//! warning. Each test is a misjudgement the linter once made on real repositories.

use std::path::Path;

use flink_admission::engine::{Engine, Settings, Severity};
use flink_admission::lint::{self, Inputs, Outcome};

/// The world model's judgements, without the security family (FLK2xx: the clusters here run
/// the Flink image with no OpenShift log volume, which `tests/it/security.rs` covers).
fn lint_files(files: &[(&str, &str)]) -> Outcome {
    let settings = Settings {
        ignore: vec!["FLK2".into()],
        ..Settings::default()
    };
    let engine = Engine::embedded(settings).unwrap();
    let mut inputs = Inputs::default();
    for (name, text) in files {
        inputs.add(name, text);
    }
    lint::lint(&engine, inputs)
}

fn rules(out: &Outcome) -> Vec<(String, Severity, String)> {
    out.findings
        .iter()
        .map(|f| {
            (
                f.finding.rule.clone(),
                f.finding.severity,
                f.finding.message.clone(),
            )
        })
        .collect()
}

fn has(out: &Outcome, rule: &str) -> bool {
    out.findings.iter().any(|f| f.finding.rule == rule)
}

/// A standalone cluster: ConfigMap, JobManager, TaskManager, Service. `size` is the memory the
/// environment gives the JobManager (process size and container limit agree).
fn cluster(labels: &str, size_mi: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: flink-config}}
data:
  flink-conf.yaml: |
    jobmanager.rpc.address: flink-jobmanager
    blob.server.port: 6124
    taskmanager.numberOfTaskSlots: 2
    jobmanager.memory.process.size: {size_mi}m
    taskmanager.memory.process.size: 2048m
  log4j-console.properties: "rootLogger.level = INFO\n"
---
apiVersion: v1
kind: Service
metadata: {{name: flink-jobmanager}}
spec:
  selector: {{{labels}, component: jobmanager}}
  ports: [{{name: rpc, port: 6123}}, {{name: blob-server, port: 6124}}, {{name: webui, port: 8081}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: flink-jobmanager}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{{labels}, component: jobmanager}}}}
  template:
    metadata: {{labels: {{{labels}, component: jobmanager}}}}
    spec:
      containers:
      - name: jobmanager
        image: flink:1.20
        args: [jobmanager]
        ports: [{{containerPort: 6123, name: rpc}}, {{containerPort: 6124, name: blob-server}}, {{containerPort: 8081, name: webui}}]
        livenessProbe: {{tcpSocket: {{port: 6123}}, initialDelaySeconds: 30, periodSeconds: 60}}
        resources: {{requests: {{cpu: "1", memory: {size_mi}Mi}}, limits: {{memory: {size_mi}Mi}}}}
        volumeMounts: [{{name: conf, mountPath: /opt/flink/conf}}]
      volumes: [{{name: conf, configMap: {{name: flink-config}}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: flink-taskmanager}}
spec:
  replicas: 2
  selector: {{matchLabels: {{{labels}, component: taskmanager}}}}
  template:
    metadata: {{labels: {{{labels}, component: taskmanager}}}}
    spec:
      containers:
      - name: taskmanager
        image: flink:1.20
        args: [taskmanager]
        resources: {{requests: {{cpu: "1", memory: 2Gi}}, limits: {{memory: 2Gi}}}}
        volumeMounts: [{{name: conf, mountPath: /opt/flink/conf}}]
      volumes: [{{name: conf, configMap: {{name: flink-config}}}}]
"#
    )
}

#[test]
fn a_monorepo_with_one_cluster_per_environment_is_three_clusters_not_duplicates() {
    // The same objects in dev/, staging/ and prod/, sized differently. If dev's JobManager
    // resolved prod's ConfigMap its 4 GiB process would not fit its 1 GiB limit (FLK403), and
    // three JobManagers behind one Service name would be duplicates (FLK104).
    let dev = cluster("app: flink", 1024);
    let staging = cluster("app: flink", 2048);
    let prod = cluster("app: flink", 4096);
    let files = [
        ("repo/dev/flink.yaml", dev.as_str()),
        ("repo/staging/flink.yaml", staging.as_str()),
        ("repo/prod/flink.yaml", prod.as_str()),
    ];
    let whole = lint_files(&files);
    assert!(whole.errors.is_empty(), "{:?}", whole.errors);
    assert_eq!(rules(&whole), Vec::new(), "the three clusters are clean");
    // And each environment alone gets the same (nothing).
    for f in &files {
        assert!(lint_files(&[*f]).findings.is_empty());
    }
    // Break prod only: its limit below its process size is reported in prod, nowhere else.
    let broken = prod.replace("limits: {memory: 4096Mi}", "limits: {memory: 1024Mi}");
    let out = lint_files(&[files[0], files[1], ("repo/prod/flink.yaml", &broken)]);
    let hits: Vec<_> = out
        .findings
        .iter()
        .map(|f| (f.file.as_str(), f.finding.rule.as_str()))
        .collect();
    assert_eq!(hits, [("repo/prod/flink.yaml", "FLK403")]);
}

#[test]
fn a_config_map_in_an_enclosing_directory_is_used_and_named_in_messages() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flink-config}\ndata:\n  flink-conf.yaml: \"taskmanager.numberOfTaskSlots: 2\\n\"\n";
    let all = cluster("app: flink", 1024);
    let jm_only: String = all.split("---\n").nth(2).unwrap().to_string();
    let out = lint_files(&[("base/cm.yaml", cm), ("base/team/jm.yaml", &jm_only)]);
    // The base ConfigMap is found (no FLK303) and lacks log4j: the message names its file.
    assert!(!has(&out, "FLK303"), "{:?}", rules(&out));
    let keys = out
        .findings
        .iter()
        .find(|f| f.finding.rule == "FLK312")
        .expect("FLK312");
    assert!(
        keys.finding.message.contains("from base/cm.yaml"),
        "{}",
        keys.finding.message
    );
    // From a sibling directory it is out of sight: unverified, a warning.
    let out = lint_files(&[("base/cm.yaml", cm), ("other/jm.yaml", &jm_only)]);
    assert!(has(&out, "FLK303"));
    assert!(!has(&out, "FLK312"));
}

#[test]
fn standby_jobmanagers_with_unseen_configuration_are_warnings_that_say_what_is_unseen() {
    let jm = cluster("app: flink", 1024)
        .split("---\n")
        .nth(2)
        .unwrap()
        .replace("replicas: 1", "replicas: 2");
    let out = lint_files(&[("jm.yaml", &jm)]);
    let f = out
        .findings
        .iter()
        .find(|f| f.finding.rule == "FLK101")
        .expect("FLK101");
    assert_eq!(f.finding.severity, Severity::Warning);
    assert!(
        f.finding
            .message
            .contains("unverified: ConfigMap flink-config is not among"),
        "{}",
        f.finding.message
    );
    // Configuration from a Secret: the same.
    let secret = jm.replace(
        "configMap: {name: flink-config}",
        "secret: {secretName: flink-config}",
    );
    let out = lint_files(&[("jm.yaml", &secret)]);
    let f = out
        .findings
        .iter()
        .find(|f| f.finding.rule == "FLK101")
        .expect("FLK101");
    assert_eq!(f.finding.severity, Severity::Warning);
    assert!(
        f.finding.message.contains("Secret flink-config"),
        "{}",
        f.finding.message
    );
    // A JobManager advertising its pod IP is set up for HA: nothing to say while unseen.
    let pod_ip = jm.replace("args: [jobmanager]", "args: [jobmanager, \"$(POD_IP)\"]");
    assert!(!has(&lint_files(&[("jm.yaml", &pod_ip)]), "FLK101"));
    // Seen and without HA: an error.
    let cm = cluster("app: flink", 1024)
        .split("---\n")
        .next()
        .unwrap()
        .to_string();
    let out = lint_files(&[("jm.yaml", &jm), ("cm.yaml", &cm)]);
    let f = out
        .findings
        .iter()
        .find(|f| f.finding.rule == "FLK101")
        .expect("FLK101");
    assert_eq!(f.finding.severity, Severity::Error);
}

#[test]
fn two_clusters_told_apart_by_a_label_are_not_duplicates() {
    let a = cluster("app: flink, cluster: a", 1024)
        .replace("flink-jobmanager", "flink-a-jobmanager")
        .replace("flink-taskmanager", "flink-a-taskmanager");
    let b = cluster("app: flink, cluster: b", 1024)
        .replace("flink-jobmanager", "flink-b-jobmanager")
        .replace("flink-taskmanager", "flink-b-taskmanager")
        .replace("flink-config", "flink-b-config");
    let a = a.replace("flink-config", "flink-a-config");
    let out = lint_files(&[("ns/a.yaml", &a), ("ns/b.yaml", &b)]);
    assert!(!has(&out, "FLK104"), "{:?}", rules(&out));
    // The same two without the distinguishing label are one cluster deployed twice.
    let a2 = a.replace(", cluster: a", "");
    let b2 = b.replace(", cluster: b", "");
    let out = lint_files(&[("ns/a.yaml", &a2), ("ns/b.yaml", &b2)]);
    let dups: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.finding.rule == "FLK104")
        .collect();
    assert_eq!(dups.len(), 2, "{:?}", rules(&out));
}

#[test]
fn many_jobmanagers_sharing_a_label_get_one_finding_each_not_one_per_pair() {
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: jm-{i}}}\nspec:\n  strategy: {{type: Recreate}}\n  template:\n    metadata: {{labels: {{app: flink, component: jobmanager}}}}\n    spec:\n      containers: [{{name: jobmanager, image: flink:1.20, args: [jobmanager], env: [{{name: FLINK_PROPERTIES, value: \"high-availability.type: NONE\"}}]}}]\n---\n"
        ));
    }
    let out = lint_files(&[("many.yaml", &text)]);
    let dups: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.finding.rule == "FLK104")
        .collect();
    assert_eq!(dups.len(), 60);
    assert!(
        dups[0].finding.message.contains("58 more JobManagers"),
        "{}",
        dups[0].finding.message
    );
}

#[test]
fn flink_reads_what_the_image_and_mounts_give_it() {
    let base = cluster("app: flink", 1024);
    let docs: Vec<&str> = base.split("---\n").collect();
    let cm_no_log4j = docs[0].replace(
        "  log4j-console.properties: \"rootLogger.level = INFO\\n\"\n",
        "",
    );
    // subPath: only flink-conf.yaml replaces the image's file; its log4j files stay.
    let jm_subpath = docs[2].replace(
        "volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]",
        "volumeMounts: [{name: conf, mountPath: /opt/flink/conf/flink-conf.yaml, subPath: flink-conf.yaml}]",
    );
    let out = lint_files(&[("c/cm.yaml", &cm_no_log4j), ("c/jm.yaml", &jm_subpath)]);
    assert!(
        !has(&out, "FLK301") && !has(&out, "FLK304") && !has(&out, "FLK312"),
        "{:?}",
        rules(&out)
    );
    // FLINK_PROPERTIES from a Secret is configuration, not "nothing mounted".
    let jm_env = docs[2]
        .replace("        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]\n", "        env: [{name: FLINK_PROPERTIES, valueFrom: {secretKeyRef: {name: flink-props, key: conf}}}]\n")
        .replace("      volumes: [{name: conf, configMap: {name: flink-config}}]\n", "")
        .replace("replicas: 1", "replicas: 2");
    let out = lint_files(&[("c/jm.yaml", &jm_env)]);
    assert!(!has(&out, "FLK301"), "{:?}", rules(&out));
    let f = out
        .findings
        .iter()
        .find(|f| f.finding.rule == "FLK101")
        .expect("FLK101");
    assert_eq!(f.finding.severity, Severity::Warning);
    assert!(
        f.finding.message.contains("Secret flink-props"),
        "{}",
        f.finding.message
    );
    // A command that bypasses /docker-entrypoint.sh never applies FLINK_PROPERTIES.
    let jm_bypass = docs[2]
        .replace("        volumeMounts: [{name: conf, mountPath: /opt/flink/conf}]\n", "        command: [/opt/flink/bin/jobmanager.sh, start-foreground]\n        env: [{name: FLINK_PROPERTIES, value: \"jobmanager.rpc.address: flink-jobmanager\"}]\n")
        .replace("      volumes: [{name: conf, configMap: {name: flink-config}}]\n", "");
    let out = lint_files(&[("c/jm.yaml", &jm_bypass)]);
    assert!(has(&out, "FLK301"), "{:?}", rules(&out));
}

#[test]
fn ha_type_without_storage_dir_on_a_flinkdeployment_is_one_finding() {
    let fd = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: x}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n  flinkConfiguration:\n    high-availability.type: kubernetes\n  jobManager: {replicas: 2, resource: {memory: 2048m, cpu: 1}}\n  taskManager: {resource: {memory: 2048m, cpu: 1}}\n";
    let out = lint_files(&[("fd.yaml", fd)]);
    assert!(has(&out, "FLK309"));
    assert!(!has(&out, "FLK101"), "{:?}", rules(&out));
}

#[test]
fn the_ignore_annotation_takes_rule_names_too() {
    let jm = cluster("app: flink", 1024).split("---\n").nth(2).unwrap().replace(
        "metadata: {name: flink-jobmanager}",
        "metadata:\n  name: flink-jobmanager\n  annotations: {flink-lint.io/ignore: \"flink-config-map-unverified=made by the platform team\"}",
    );
    let out = lint_files(&[("jm.yaml", &jm)]);
    assert!(!has(&out, "FLK303"), "{:?}", rules(&out));
    assert!(!has(&out, "FLK001"), "{:?}", rules(&out));
}

#[test]
fn list_items_without_a_kind_are_input_errors_with_a_position() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  metadata: {name: b}\n";
    let out = lint_files(&[("list.yaml", text)]);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    let e = &out.errors[0];
    assert_eq!((e.line, e.column), (7, 3));
    assert!(e.message.contains("item 1 has no kind"), "{}", e.message);
    assert!(Path::new(&e.file).ends_with("list.yaml"));
}
