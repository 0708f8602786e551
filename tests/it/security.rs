//! The security family (FLK2xx) on the manifests it was made for: the Flink docs' standalone
//! manifests (`../shared/corpus/flink-docs/`) and the operator chart's Deployment
//! (`tests/fixtures/FLK230/fail-operator-chart.yaml`).
//!
//! - `--platform openshift`: every fixed `runAsUser`/`fsGroup` is reported at its line and column;
//! - `--platform kubernetes`: `runAsUser: 9999` is accepted, and the only baseline errors are the
//!   application-mode files' hostPath volumes;
//! - `/mutate` under OpenShift returns a patch after which `/validate` reports no security error
//!   but hostPath (which has no safe fix);
//! - the fixes converge on both platforms: after `Engine::fix` no safe fix changes anything and a
//!   second round yields no operations.

use std::path::{Path, PathBuf};

use flink_admission::admission::{self, Endpoint, JsonPatch, Policy, decode_value, review};
use flink_admission::engine::rule::{Platform, PodSecurity};
use flink_admission::engine::{
    Applicability, Engine, NoContext, Scope, Settings, Severity, Subject, fix,
};
use flink_admission::lint::{self, Inputs, Outcome};
use serde_json::{Value, json};

use crate::common::corpus as shared_corpus;
use crate::common::header;

fn corpus() -> Option<PathBuf> {
    shared_corpus::corpus("flink-docs")
}

fn operator_chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/FLK230/fail-operator-chart.yaml")
}

/// A FlinkDeployment with `runAsUser` in its shared template and on the main container.
fn flink_deployment() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/FLK230/fail.yaml")
}

/// The docs' workload manifests (the ones with a pod template), the operator chart and a
/// FlinkDeployment.
fn manifests() -> Vec<PathBuf> {
    let mut out = vec![operator_chart(), flink_deployment()];
    let Some(root) = corpus() else {
        return out;
    };
    let dir = root.join("standalone-kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let t = std::fs::read_to_string(p).unwrap_or_default();
            t.contains("containers:")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    out.extend(files);
    out
}

fn settings(platform: Platform, level: PodSecurity) -> Settings {
    Settings {
        platform,
        pod_security: level,
        scope: Scope::Flink,
        ..Settings::default()
    }
}

fn lint_file(engine: &Engine, path: &Path) -> Outcome {
    let mut inputs = Inputs::default();
    inputs.add(
        &path.display().to_string(),
        &std::fs::read_to_string(path).unwrap(),
    );
    lint::lint(engine, inputs)
}

/// (line, column) of every `key:` in the file (1-based, the key's first character).
fn positions_of(path: &Path, key: &str) -> Vec<(usize, usize)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#'))
        .filter_map(|(i, l)| l.find(&format!("{key}:")).map(|c| (i + 1, c + 1)))
        .collect()
}

fn has_host_path(path: &Path) -> bool {
    std::fs::read_to_string(path).unwrap().contains("hostPath:")
}

#[test]
fn openshift_reports_every_fixed_id_at_its_field() {
    let engine = Engine::embedded(settings(Platform::Openshift, PodSecurity::Baseline)).unwrap();
    for path in manifests() {
        let out = lint_file(&engine, &path);
        let at = |rule: &str| -> Vec<(usize, usize)> {
            let mut v: Vec<_> = out
                .findings
                .iter()
                .filter(|l| l.finding.rule == rule)
                .map(|l| (l.line, l.column))
                .collect();
            v.sort();
            v
        };
        let uids = positions_of(&path, "runAsUser");
        assert!(!uids.is_empty(), "{}: no runAsUser", path.display());
        assert_eq!(at("FLK230"), uids, "{}", path.display());
        assert_eq!(
            at("FLK231"),
            positions_of(&path, "fsGroup"),
            "{}",
            path.display()
        );
        assert_eq!(
            at("FLK232"),
            positions_of(&path, "runAsGroup"),
            "{}",
            path.display()
        );
        for l in out.findings.iter().filter(|l| l.finding.rule == "FLK230") {
            assert_eq!(l.finding.severity, Severity::Error);
            assert!(
                l.finding
                    .message
                    .contains(": omit it (OpenShift assigns a uid from")
            );
            assert!(
                l.finding
                    .message
                    .starts_with("OpenShift restricted-v2 rejects runAsUser "),
                "{}",
                l.finding.message
            );
        }
        // hostPath is rejected on OpenShift too
        assert_eq!(
            !at("FLK204").is_empty(),
            has_host_path(&path),
            "{}",
            path.display()
        );
    }
}

#[test]
fn kubernetes_accepts_run_as_user_9999_and_reports_host_path_as_baseline() {
    for level in [PodSecurity::Baseline, PodSecurity::Restricted] {
        let engine = Engine::embedded(settings(Platform::Kubernetes, level)).unwrap();
        for path in manifests() {
            let out = lint_file(&engine, &path);
            let uids = positions_of(&path, "runAsUser");
            for l in &out.findings {
                assert!(
                    !(l.finding.rule.starts_with("FLK2") && uids.contains(&(l.line, l.column))),
                    "{}: {} at runAsUser: {}",
                    path.display(),
                    l.finding.rule,
                    l.finding.message
                );
            }
            let mut baseline_errors: Vec<&str> = out
                .findings
                .iter()
                .filter(|l| l.finding.rule.starts_with("FLK2"))
                .filter(|l| l.finding.severity == Severity::Error)
                .filter(|l| {
                    engine
                        .registry()
                        .get(&l.finding.rule)
                        .is_some_and(|r| r.pod_security == Some(PodSecurity::Baseline))
                })
                .map(|l| l.finding.rule.as_str())
                .collect();
            baseline_errors.dedup();
            let want: Vec<&str> = if has_host_path(&path) {
                vec!["FLK204"]
            } else {
                vec![]
            };
            assert_eq!(baseline_errors, want, "{}", path.display());
            if level == PodSecurity::Baseline {
                // restricted-only checks are warnings at baseline
                assert!(
                    out.findings.iter().all(|l| {
                        engine.registry().get(&l.finding.rule).is_none_or(|r| {
                            r.pod_security != Some(PodSecurity::Restricted)
                                || l.finding.severity <= Severity::Warning
                        })
                    }),
                    "{}",
                    path.display()
                );
            }
        }
    }
}

fn objects(path: &Path) -> Vec<Value> {
    let mut inputs = Inputs::default();
    inputs.add("x.yaml", &std::fs::read_to_string(path).unwrap());
    inputs
        .objects
        .iter()
        .map(|o| (*o.value).clone())
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "Job" | "FlinkDeployment")
            )
        })
        .collect()
}

fn security_errors(engine: &Engine, obj: &Value) -> Vec<String> {
    engine
        .check(&Subject::offline(obj, &NoContext))
        .findings
        .into_iter()
        .filter(|f| f.rule.starts_with("FLK2") && f.severity == Severity::Error)
        .map(|f| format!("{} {} {}", f.rule, f.path, f.message))
        .collect()
}

/// Fix, check that the result is stable (no safe fix changes it, a second round has no ops),
/// and return it.
fn converged(engine: &Engine, obj: &Value, what: &str) -> Value {
    let out = engine.fix(&Subject::offline(obj, &NoContext));
    assert!(out.problems.is_empty(), "{what}: {:?}", out.problems);
    // the ops apply as they are with a standard RFC 6902 implementation
    let patch: json_patch::Patch = serde_json::from_value(json!(out.ops)).unwrap();
    let mut doc = obj.clone();
    json_patch::patch(&mut doc, &patch).unwrap();
    assert_eq!(doc, out.object, "{what}");
    for f in &out.report.findings {
        if let Some(x) = f
            .fix
            .as_ref()
            // Fixes that create objects are left out whole by `Engine::fix` (the webhook).
            .filter(|x| x.applicability == Applicability::Safe && x.create.is_empty())
        {
            let left = fix::patch(&out.object, &x.ops).unwrap_or_default();
            assert!(
                left.is_empty(),
                "{what}: {} still fixable: {left:?}",
                f.rule
            );
        }
    }
    let again = engine.fix(&Subject::offline(&out.object, &NoContext));
    assert!(again.ops.is_empty(), "{what}: second round {:?}", again.ops);
    out.object
}

#[test]
fn fixes_converge_on_both_platforms() {
    for (platform, level) in [
        (Platform::Openshift, PodSecurity::Baseline),
        (Platform::Kubernetes, PodSecurity::Baseline),
        (Platform::Kubernetes, PodSecurity::Restricted),
    ] {
        let engine = Engine::embedded(settings(platform, level)).unwrap();
        for path in manifests() {
            for obj in objects(&path) {
                let what = format!("{platform:?}/{level:?} {}", path.display());
                let fixed = converged(&engine, &obj, &what);
                let left: Vec<String> = security_errors(&engine, &fixed)
                    .into_iter()
                    .filter(|e| !e.starts_with("FLK204"))
                    .collect();
                assert!(left.is_empty(), "{what}: {left:#?}");
                if platform == Platform::Openshift {
                    let text = fixed.to_string();
                    assert!(
                        !text.contains("runAsUser") && !text.contains("fsGroup"),
                        "{what}"
                    );
                }
                if platform == Platform::Kubernetes && level == PodSecurity::Restricted {
                    // the Flink image keeps its numeric uid
                    assert!(fixed.to_string().contains("\"runAsUser\":9999"), "{what}");
                }
            }
        }
    }
}

#[test]
fn every_security_fixture_converges() {
    let mut checked = 0;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("FLK2") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            // The platform the fixture's header (`# flink-lint: --platform ...`) asks for.
            let (text, header) = header::read(&f);
            let platform = header.settings(Some(&f)).platform;
            for level in [PodSecurity::Baseline, PodSecurity::Restricted] {
                let mut s = settings(platform, level);
                s.scope = Scope::All;
                let engine = Engine::embedded(s).unwrap();
                let mut inputs = Inputs::default();
                inputs.add("x.yaml", &text);
                for o in &inputs.objects {
                    converged(&engine, &o.value, &f.display().to_string());
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} objects of the FLK2xx fixtures checked"
    );
}

fn admission_review(obj: &Value, endpoint_uid: &str) -> Value {
    let kind = obj["kind"].as_str().unwrap_or("");
    let api = obj["apiVersion"].as_str().unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let resource = format!("{}s", kind.to_ascii_lowercase());
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": endpoint_uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": obj["metadata"]["name"],
            "namespace": "streaming",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": obj,
        }
    })
}

#[test]
fn mutate_then_validate_leaves_no_security_error_on_openshift() {
    let engine = Engine::embedded(admission::webhook_settings(None).unwrap()).unwrap();
    assert_eq!(engine.settings().platform, Platform::Openshift);
    for path in manifests() {
        for obj in objects(&path) {
            let what = path.display().to_string();
            let rev = decode_value(admission_review(&obj, "u1")).unwrap();
            let m = review(
                &engine,
                &rev,
                Endpoint::Mutate,
                &NoContext,
                &Policy::default(),
            );
            let patch: &JsonPatch = m
                .response
                .patch
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no patch"));
            let ops = patch.decode().unwrap();
            let p: json_patch::Patch = serde_json::from_value(ops).unwrap();
            let mut fixed = obj.clone();
            json_patch::patch(&mut fixed, &p).unwrap();
            let rev = decode_value(admission_review(&fixed, "u2")).unwrap();
            let v = review(
                &engine,
                &rev,
                Endpoint::Validate,
                &NoContext,
                &Policy::default(),
            );
            let left: Vec<&(String, Severity)> = v
                .findings
                .iter()
                .filter(|(r, s)| r.starts_with("FLK2") && *s == Severity::Error)
                .filter(|(r, _)| r != "FLK204")
                .collect();
            assert!(left.is_empty(), "{what}: {left:?}");
            assert_eq!(
                v.findings.iter().any(|(r, _)| r == "FLK204"),
                has_host_path(&path),
                "{what}"
            );
            // mutating the fixed object again gives no patch
            let again = review(
                &engine,
                &rev,
                Endpoint::Mutate,
                &NoContext,
                &Policy::default(),
            );
            assert!(again.response.patch.is_none(), "{what}");
        }
    }
}

#[test]
fn namespace_ranges_come_from_the_namespace_or_the_config() {
    let deployment = |uid: i64| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: tm, namespace: analytics}}\nspec:\n  template:\n    spec:\n      securityContext: {{runAsUser: {uid}}}\n      containers:\n      - name: taskmanager\n        image: flink:1.20\n        args: [taskmanager]\n"
        )
    };
    let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: analytics\n  annotations:\n    openshift.io/sa.scc.uid-range: 1000680000/10000\n";
    let engine = Engine::embedded(Settings::default()).unwrap();
    let run = |engine: &Engine, text: &str| {
        let mut inputs = Inputs::default();
        inputs.add("x.yaml", text);
        lint::lint_in_world(engine, inputs, false)
            .findings
            .into_iter()
            .filter(|l| l.finding.rule == "FLK230")
            .map(|l| (l.finding.severity, l.finding.message))
            .collect::<Vec<_>>()
    };
    // inside the namespace's range: fine; outside: an error naming the range
    assert!(run(&engine, &(deployment(1_000_680_005) + ns)).is_empty());
    let out = run(&engine, &(deployment(1_000_690_000) + ns));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, Severity::Error);
    assert!(out[0].1.contains("1000680000/10000"), "{}", out[0].1);
    let out = run(&engine, &(deployment(9999) + ns));
    assert_eq!(
        out[0].1,
        "OpenShift restricted-v2 rejects runAsUser 9999: omit it (OpenShift assigns a uid from the namespace range 1000680000/10000)"
    );
    // no namespace: a uid the default allocator could hand out is only a warning
    let out = run(&engine, &deployment(1_000_680_005));
    assert_eq!(out[0].0, Severity::Warning);
    // .flink-lint.yaml decides when no Namespace is in sight
    let configured = Settings::from_yaml("openshift:\n  uid-range: 1000680000/10000\n").unwrap();
    let engine = Engine::embedded(configured).unwrap();
    assert!(run(&engine, &deployment(1_000_680_005)).is_empty());
    assert_eq!(run(&engine, &deployment(9999))[0].0, Severity::Error);
    assert!(
        Settings::from_yaml("openshift:\n  uid-range: lots\n").is_ok_and(|s| {
            s.validate(flink_admission::engine::Registry::embedded().unwrap())
                .is_err()
        })
    );
}
