//! The AdmissionReview layer without HTTP: recorded Flink reviews replayed (and snapshotted),
//! every response field, patches that apply and converge, lenient decoding of the shared
//! corpus of real reviews, fail-open/closed, and the `replay` command.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use flink_admission::admission::{
    self, Decision, Endpoint, FailMode, JsonPatch, Policy, decode_value, review,
};
use flink_admission::engine::{Context, Engine, NoContext, ObjectSet};
use serde_json::{Value, json};

use crate::common::synced_cache as synced;
use crate::common::{engine, fixture};
use synced::synced_cache;

fn answer(review_json: Value, endpoint: Endpoint, ctx: &dyn Context) -> Value {
    admission::replay_one(&engine(), review_json, endpoint, ctx, &Policy::default()).unwrap()
}

fn response(v: &Value) -> &Value {
    &v["response"]
}

fn decoded_patch(resp: &Value) -> Option<Value> {
    let patch = resp["patch"].as_str()?;
    assert_eq!(resp["patchType"], "JSONPatch", "patch without patchType");
    JsonPatch {
        patch: patch.to_string(),
        patch_type: "JSONPatch".into(),
    }
    .decode()
}

/// The response with the patch decoded next to it, for readable snapshots.
fn snapshot_view(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(ops) = decoded_patch(response(&v)) {
        v["response"]["patch"] = json!("<base64, decoded below>");
        v["decodedPatch"] = ops;
    }
    v
}

fn apply(object: &Value, ops: &Value) -> Value {
    let patch: json_patch::Patch = serde_json::from_value(ops.clone()).unwrap();
    let mut doc = object.clone();
    json_patch::patch(&mut doc, &patch).unwrap();
    doc
}

#[test]
fn fixtures_replay_snapshots() {
    for (name, endpoint) in [
        ("flinkdeployment-create.json", Endpoint::Validate),
        ("flinkdeployment-create.json", Endpoint::Mutate),
        ("jobmanager-deployment-update.json", Endpoint::Validate),
        ("jobmanager-deployment-update.json", Endpoint::Mutate),
        ("scale-update.json", Endpoint::Validate),
        ("flinkdeployment-delete.json", Endpoint::Validate),
    ] {
        let out = answer(fixture(name), endpoint, &NoContext);
        let snap = format!("{}-{}", name.trim_end_matches(".json"), endpoint.as_str());
        insta::assert_json_snapshot!(snap, snapshot_view(&out));
    }
}

#[test]
fn validate_denies_with_every_error_and_warns_briefly() {
    let out = answer(
        fixture("flinkdeployment-create.json"),
        Endpoint::Validate,
        &NoContext,
    );
    assert_eq!(out["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(out["kind"], "AdmissionReview");
    let r = response(&out);
    assert_eq!(r["uid"], "6f1c2a3e-0b1d-4d5e-9a7f-1c2b3d4e5f60");
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    assert_eq!(r["status"]["status"], "Failure");
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("FLK101: spec.jobManager.replicas is 2"),
        "{msg}"
    );
    // Every error at once: the operator's own webhook would stop at its first message.
    assert!(
        msg.contains("FLK402: spec.jobManager sets no memory"),
        "{msg}"
    );
    assert!(r.get("patch").is_none() && r.get("patchType").is_none());
    assert_eq!(r["auditAnnotations"]["rules"], "FLK101,FLK402");
    assert_eq!(r["auditAnnotations"]["denied-rules"], "FLK101,FLK402");
    // A rule the configuration lowers to a warning comes back as a brief warning.
    let settings = admission::webhook_settings(Some("rules:\n  FLK402: warning\n")).unwrap();
    let e = Engine::embedded(settings).unwrap();
    let out = admission::replay_one(
        &e,
        fixture("flinkdeployment-create.json"),
        Endpoint::Validate,
        &NoContext,
        &Policy::default(),
    )
    .unwrap();
    let r = response(&out);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(warnings.iter().any(|w| w.starts_with("FLK402: ")));
    for w in &warnings {
        assert!(w.chars().count() <= 120, "{w}");
        assert!(!w.contains('\n'));
    }
    let audit = r["auditAnnotations"].as_object().unwrap();
    assert_eq!(audit["rules"], "FLK101,FLK402");
    assert_eq!(audit["denied-rules"], "FLK101");
    // keys are names: the API server prefixes "<webhook name>/" and rejects a second '/'
    for k in audit.keys() {
        assert!(!k.contains('/') && k.len() <= 63, "{k}");
        assert!(
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
    }
}

#[test]
fn unseen_configuration_makes_jobmanager_errors_warnings_that_say_why() {
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["object"]["spec"]["replicas"] = json!(2);
    // Without `-Dhigh-availability.type=NONE` only the unseen ConfigMap could say.
    review["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["args"] =
        json!(["jobmanager"]);
    let out = answer(review, Endpoint::Validate, &NoContext);
    assert_eq!(out["response"]["allowed"], true, "{out}");
    let warnings = out["response"]["warnings"].to_string();
    assert!(
        warnings.contains("FLK101:") && warnings.contains("FLK102:"),
        "{warnings}"
    );
}

#[test]
fn validate_lists_all_errors_not_just_the_first() {
    let mut review = fixture("jobmanager-deployment-update.json");
    // a second error: two JobManagers without HA
    review["request"]["object"]["spec"]["replicas"] = json!(2);
    // The cluster holds the ConfigMap, and it does not configure HA: both are certain errors.
    let namespace = review["request"]["namespace"].clone();
    let world = ObjectSet::complete(vec![Arc::new(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "flink-config", "namespace": namespace},
        "data": {"flink-conf.yaml": "jobmanager.rpc.address: flink-jobmanager\njobmanager.memory.process.size: 1600m\n",
                 "log4j-console.properties": "rootLogger.level = INFO\n"}}))]);
    let out = answer(review, Endpoint::Validate, &world);
    let msg = out["response"]["status"]["message"].as_str().unwrap();
    assert!(msg.contains("FLK101:") && msg.contains("FLK102:"), "{msg}");
    assert_eq!(
        out["response"]["auditAnnotations"]["denied-rules"],
        "FLK101,FLK102"
    );
}

#[test]
fn mutate_patch_applies_converges_and_keeps_unknown_fields() {
    for name in [
        "flinkdeployment-create.json",
        "jobmanager-deployment-update.json",
    ] {
        let review_json = fixture(name);
        let object = review_json["request"]["object"].clone();
        let out = answer(review_json.clone(), Endpoint::Mutate, &NoContext);
        let r = response(&out);
        assert_eq!(r["allowed"], true, "{name}: mutate never denies");
        assert!(r.get("status").is_none());
        let ops = decoded_patch(r).unwrap_or_else(|| panic!("{name}: no patch"));
        let patched = apply(&object, &ops);
        assert_ne!(patched, object);
        // unknown fields survive
        if name.starts_with("flinkdeployment") {
            assert_eq!(
                patched["spec"]["x-example-unknown"],
                json!({"kept": ["as", "is"], "n": 1.5})
            );
            assert_eq!(
                patched["metadata"]["annotations"]["example.com/owner"],
                "orders-team"
            );
        } else {
            assert_eq!(
                patched["spec"]["template"]["spec"]["containers"][0]["x-vendor-extension"],
                json!({"kept": true})
            );
            assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));
        }
        // a second /mutate on the patched object: no patch at all
        let mut again = review_json.clone();
        again["request"]["object"] = patched.clone();
        let out2 = answer(again.clone(), Endpoint::Mutate, &NoContext);
        assert!(out2["response"].get("patch").is_none(), "{name}: {out2}");
        assert!(out2["response"].get("patchType").is_none());
        // and /validate no longer reports the fixed rules
        let v = answer(again, Endpoint::Validate, &NoContext);
        let rules = audited_rules(&v);
        for fixed in r["auditAnnotations"]["fixed-rules"]
            .as_str()
            .unwrap()
            .split(',')
        {
            assert!(!rules.contains(fixed), "{name}: {fixed} still fires: {v}");
        }
    }
}

#[test]
fn mutate_without_changes_has_no_patch_and_validate_never_patches() {
    let out = answer(fixture("scale-update.json"), Endpoint::Mutate, &NoContext);
    assert_eq!(
        out["response"],
        json!({"uid": "a4e8f2c1-5b6d-4c3e-8f7a-9b0c1d2e3f41", "allowed": true})
    );
    for name in [
        "flinkdeployment-create.json",
        "jobmanager-deployment-update.json",
    ] {
        let out = answer(fixture(name), Endpoint::Validate, &NoContext);
        assert!(out["response"].get("patch").is_none());
    }
}

fn standalone_jobmanager() -> Value {
    fixture("jobmanager-deployment-update.json")["request"]["object"].clone()
}

#[test]
fn scale_subresource_is_checked_against_the_workload() {
    // the workload the Scale belongs to, as the cluster cache would hold it
    let world = ObjectSet::complete(vec![Arc::new(standalone_jobmanager())]);
    let out = answer(fixture("scale-update.json"), Endpoint::Validate, &world);
    let r = response(&out);
    assert_eq!(r["allowed"], false, "{out}");
    assert!(r["status"]["message"].as_str().unwrap().contains("FLK101"));
    insta::assert_json_snapshot!("scale-update-validate-with-cluster", out);
    // scaling to one is fine
    let mut one = fixture("scale-update.json");
    one["request"]["object"]["spec"]["replicas"] = json!(1);
    assert_eq!(
        answer(one, Endpoint::Validate, &world)["response"]["allowed"],
        true
    );
    // a Scale of a Deployment that is not a JobManager is fine
    let mut other = fixture("scale-update.json");
    other["request"]["name"] = json!("web");
    other["request"]["object"]["metadata"]["name"] = json!("web");
    assert_eq!(
        answer(other, Endpoint::Validate, &world)["response"]["allowed"],
        true
    );
}

#[test]
fn dry_run_is_judged_the_same() {
    for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
        for name in [
            "flinkdeployment-create.json",
            "jobmanager-deployment-update.json",
        ] {
            let wet = answer(fixture(name), endpoint, &NoContext);
            let mut dry = fixture(name);
            dry["request"]["dryRun"] = json!(true);
            assert_eq!(answer(dry, endpoint, &NoContext), wet);
        }
    }
}

#[test]
fn delete_connect_status_generated_and_non_flink_are_untouched() {
    let e = engine();
    let p = Policy::default();
    let run = |v: Value, ep: Endpoint| review(&e, &decode_value(v).unwrap(), ep, &NoContext, &p);
    // DELETE with object null
    let o = run(fixture("flinkdeployment-delete.json"), Endpoint::Validate);
    assert_eq!(o.decision, Decision::Skipped);
    assert_eq!(o.skip_reason, Some("operation"));
    // CONNECT
    let mut connect = fixture("flinkdeployment-delete.json");
    connect["request"]["operation"] = json!("CONNECT");
    assert_eq!(run(connect, Endpoint::Validate).decision, Decision::Skipped);
    // status subresource of a bad object
    let mut status = fixture("flinkdeployment-create.json");
    status["request"]["operation"] = json!("UPDATE");
    status["request"]["subResource"] = json!("status");
    let o = run(status, Endpoint::Mutate);
    assert_eq!(o.skip_reason, Some("status subresource"));
    assert_eq!(
        serde_json::to_value(&o.response).unwrap(),
        json!({"uid": "6f1c2a3e-0b1d-4d5e-9a7f-1c2b3d4e5f60", "allowed": true})
    );
    // made by the operator from a FlinkDeployment (its labels, sent by its service account)
    let mut generated = fixture("jobmanager-deployment-update.json");
    generated["request"]["object"]["metadata"]["labels"]["type"] = json!("flink-native-kubernetes");
    generated["request"]["userInfo"]["username"] =
        json!("system:serviceaccount:flink:flink-operator");
    let o = run(generated, Endpoint::Validate);
    assert_eq!(o.skip_reason, Some("generated by the Flink operator"));
    assert!(o.response.allowed);
    // not Flink at all
    let mut nginx = fixture("jobmanager-deployment-update.json");
    nginx["request"]["object"]["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx:1.27"}]);
    nginx["request"]["object"]["spec"]["template"]["metadata"]["labels"] = json!({"app": "web"});
    nginx["request"]["object"]["metadata"]["labels"] = json!({"app": "web"});
    let o = run(nginx, Endpoint::Validate);
    assert_eq!(o.skip_reason, Some("not a Flink object"));
}

#[test]
fn v1beta1_is_answered_in_kind() {
    let mut beta = fixture("jobmanager-deployment-update.json");
    beta["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let out = answer(beta, Endpoint::Validate, &NoContext);
    assert_eq!(out["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(
        out["response"]["uid"],
        "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75"
    );
}

#[test]
fn exemption_annotations_reach_only_warnings_in_the_webhook() {
    let mut r = fixture("flinkdeployment-create.json");
    r["request"]["object"]["metadata"]["annotations"]["flink-lint.io/ignore"] =
        json!("FLK101=we accept it, FLK402=memory set by the platform team");
    let out = answer(r.clone(), Endpoint::Validate, &NoContext);
    // errors are not silenced
    assert_eq!(out["response"]["allowed"], false);
    assert_eq!(
        out["response"]["auditAnnotations"]["rules"],
        "FLK101,FLK402"
    );
    // a rule the configuration lowers to a warning is
    let settings = admission::webhook_settings(Some("rules:\n  FLK402: warning\n")).unwrap();
    let e = Engine::embedded(settings).unwrap();
    let out = admission::replay_one(
        &e,
        r.clone(),
        Endpoint::Validate,
        &NoContext,
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(out["response"]["allowed"], false);
    assert_eq!(out["response"]["auditAnnotations"]["rules"], "FLK101");
    // unless the config allows more
    let settings =
        admission::webhook_settings(Some("suppression:\n  max_severity: error\n")).unwrap();
    let e = Engine::embedded(settings).unwrap();
    let out =
        admission::replay_one(&e, r, Endpoint::Validate, &NoContext, &Policy::default()).unwrap();
    assert_eq!(out["response"]["allowed"], true, "{out}");
}

/// A cluster cache that has not synced: claims nothing, and says why.
struct Unsynced;
impl Context for Unsynced {
    fn list(&self, _: &str, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        Vec::new()
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        false
    }
    fn incomplete_note(&self) -> Option<&str> {
        Some("the webhook's cluster cache has not synced yet")
    }
}

#[test]
fn unanswerable_lookups_follow_the_fail_mode() {
    let e = engine();
    let mut fixed = fixture("jobmanager-deployment-update.json");
    fixed["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
    let rev = decode_value(fixed).unwrap();
    let open = review(&e, &rev, Endpoint::Validate, &Unsynced, &Policy::default());
    assert!(open.lookups_unanswered);
    assert!(open.response.allowed);
    assert!(
        open.response
            .warnings
            .iter()
            .any(|w| w.contains("not synced") && w.contains("fail-open")),
        "{:?}",
        open.response.warnings
    );
    assert_eq!(open.response.audit_annotations["fail-mode"], "fail-open");
    let closed_policy = Policy {
        fail_mode: FailMode::Closed,
        ..Policy::default()
    };
    let closed = review(&e, &rev, Endpoint::Validate, &Unsynced, &closed_policy);
    assert!(!closed.response.allowed);
    let msg = &closed.response.status.as_ref().unwrap().message;
    assert!(msg.contains("fail-closed"), "{msg}");
    // /mutate never denies, even failing closed
    let m = review(&e, &rev, Endpoint::Mutate, &Unsynced, &closed_policy);
    assert!(m.response.allowed);
    // NoContext (--no-cluster) is not "unsynced": no fail-mode warning
    let offline = review(&e, &rev, Endpoint::Validate, &NoContext, &closed_policy);
    assert!(!offline.lookups_unanswered);
    assert!(offline.response.allowed);
    // a FlinkDeployment that needs no lookup is not affected
    let fd = decode_value(fixture("flinkdeployment-create.json")).unwrap();
    let o = review(&e, &fd, Endpoint::Validate, &Unsynced, &closed_policy);
    assert!(!o.lookups_unanswered);
}

#[test]
fn unfinished_reviews_follow_the_fail_mode() {
    let rev = decode_value(fixture("flinkdeployment-create.json")).unwrap();
    let open = admission::unfinished(&rev, Endpoint::Validate, &Policy::default(), "too slow");
    assert!(open.response.allowed);
    assert!(open.response.warnings[0].contains("too slow"));
    let closed = Policy {
        fail_mode: FailMode::Closed,
        ..Policy::default()
    };
    assert!(
        !admission::unfinished(&rev, Endpoint::Validate, &closed, "too slow")
            .response
            .allowed
    );
    assert!(
        admission::unfinished(&rev, Endpoint::Mutate, &closed, "too slow")
            .response
            .allowed
    );
}

#[test]
fn missing_identity_is_taken_from_the_request() {
    // linkerd-style: the object has no apiVersion/kind; the request says what it is
    let mut r = fixture("flinkdeployment-create.json");
    let obj = r["request"]["object"].as_object_mut().unwrap();
    obj.remove("apiVersion");
    obj.remove("kind");
    obj["metadata"].as_object_mut().unwrap().remove("namespace");
    let out = answer(r, Endpoint::Validate, &NoContext);
    assert_eq!(out["response"]["allowed"], false);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("FlinkDeployment/streaming/orders-enrichment")
    );
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/admission-reviews")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![corpus_dir()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x != "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_of_real_reviews_never_panics_and_echoes_the_uid() {
    let files = corpus_files();
    if files.is_empty() {
        eprintln!("corpus not found at {}; skipped", corpus_dir().display());
        return;
    }
    let e = engine();
    let p = Policy::default();
    let (mut answered, mut refused) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let docs = admission::parse_reviews(&text)
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        if file.ends_with("kube-audit-rest.log") {
            assert_eq!(docs.len(), 59, "NDJSON: one review per line");
        }
        for doc in docs {
            let uid = doc
                .pointer("/request/uid")
                .or_else(|| doc.get("uid"))
                .and_then(Value::as_str)
                .map(str::to_string);
            for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
                match admission::replay_one(&e, doc.clone(), endpoint, &NoContext, &p) {
                    Ok(out) => {
                        answered += 1;
                        assert_eq!(
                            out["response"]["uid"].as_str(),
                            uid.as_deref(),
                            "{}",
                            file.display()
                        );
                        // none of these is a Flink object: allowed untouched
                        assert_eq!(out["response"]["allowed"], true, "{}", file.display());
                        assert!(out["response"].get("patch").is_none());
                    }
                    Err(err) => {
                        refused += 1;
                        // only reviews we cannot answer: no uid, or responses (no request)
                        assert!(
                            uid.is_none() || doc.get("response").is_some(),
                            "{}: {err}",
                            file.display()
                        );
                        assert_eq!(err["code"], 400);
                    }
                }
            }
        }
    }
    assert!(answered > 100, "{answered} answered, {refused} refused");
}

#[test]
fn corpus_subresources_and_envelopes() {
    let read = |rel: &str| -> Option<Value> {
        let text = std::fs::read_to_string(corpus_dir().join(rel)).ok()?;
        admission::parse_reviews(&text).ok()?.into_iter().next()
    };
    let e = engine();
    let p = Policy::default();
    let Some(status) = read("kyverno/kind-pod-status-update-by-kubelet.json") else {
        eprintln!("corpus not found; skipped");
        return;
    };
    let rev = decode_value(status).unwrap();
    assert_eq!(
        rev.api_version, "admission.k8s.io/v1",
        "bare request answered as v1"
    );
    let o = review(&e, &rev, Endpoint::Validate, &NoContext, &p);
    assert_eq!(o.skip_reason, Some("status subresource"));
    let scale = decode_value(read("kubewarden/scale-update-no-typemeta.json").unwrap()).unwrap();
    assert_eq!(scale.request.sub_resource.as_deref(), Some("scale"));
    let o = review(&e, &scale, Endpoint::Validate, &NoContext, &p);
    assert!(o.response.allowed);
    let beta = decode_value(read("linkerd2/inject-enabled-request.json").unwrap()).unwrap();
    assert_eq!(beta.api_version, "admission.k8s.io/v1beta1");
    let delete = decode_value(read("openyurt/pod-delete-by-node.json").unwrap()).unwrap();
    assert_eq!(delete.request.object, None);
    let o = review(&e, &delete, Endpoint::Validate, &NoContext, &p);
    assert_eq!(o.skip_reason, Some("operation"));
    assert!(o.response.allowed);
    let no_name = decode_value(read("josdk-webhooks/admission-request.json").unwrap()).unwrap();
    assert_eq!(no_name.request.name, None);
}

#[test]
fn replay_command_prints_the_response() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission");
    let out = Command::cargo_bin("flink-admission")
        .unwrap()
        .arg("replay")
        .arg(path.join("jobmanager-deployment-update.json"))
        .arg("--mutate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["response"]["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
    assert_eq!(v["response"]["patchType"], "JSONPatch");
    // NDJSON: one answer per line's review
    if corpus_dir()
        .join("kube-audit-rest/kube-audit-rest.log")
        .exists()
    {
        let out = Command::cargo_bin("flink-admission")
            .unwrap()
            .arg("replay")
            .arg(corpus_dir().join("kube-audit-rest/kube-audit-rest.log"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let n = serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<Value>()
            .count();
        assert_eq!(n, 59);
    }
    // no uid: a JSON error, exit 1, no panic
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#).unwrap();
    let out = Command::cargo_bin("flink-admission")
        .unwrap()
        .args(["replay"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], 400);
}

/// `/mutate` on a JobManager Deployment without the configuration mount: the patch mounts the
/// ConfigMap of its cluster, which the webhook finds in its cluster cache (the ConfigMap the
/// cluster's TaskManager mounts); `/validate` then allows the patched object.
#[test]
fn mutate_mounts_the_clusters_config_map_found_in_the_cluster_cache() {
    let ns = "streaming";
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "orders-flink-config", "namespace": ns},
        "data": {"flink-conf.yaml": "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\njobmanager.memory.process.size: 1600m\ntaskmanager.memory.process.size: 1728m\n",
                 "log4j-console.properties": "rootLogger.level = INFO\n",
                 "unrelated.txt": "x"}});
    let taskmanager = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flink-taskmanager", "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": "flink", "component": "taskmanager"}},
          "template": {"metadata": {"labels": {"app": "flink", "component": "taskmanager"}},
            "spec": {"containers": [{"name": "taskmanager", "image": "flink:1.20.1-scala_2.12-java17",
                "args": ["taskmanager"],
                "volumeMounts": [{"name": "cfg", "mountPath": "/opt/flink/conf"}]}],
              "volumes": [{"name": "cfg", "configMap": {"name": "orders-flink-config"}}]}}}});
    let cache = synced_cache([&config_map, &taskmanager]);
    let mut review = jobmanager_create();
    let spec = &mut review["request"]["object"]["spec"]["template"]["spec"];
    spec["volumes"] = json!([{"name": "flink-logs", "emptyDir": {}}]);
    spec["containers"][0]["volumeMounts"] =
        json!([{"name": "flink-logs", "mountPath": "/opt/flink/log"}]);
    let object = review["request"]["object"].clone();
    let before = answer(review.clone(), Endpoint::Validate, &cache);
    assert!(audited_rules(&before).contains("FLK301"), "{before}");
    let out = answer(review.clone(), Endpoint::Mutate, &cache);
    let ops = decoded_patch(response(&out)).expect("a patch");
    let patched = apply(&object, &ops);
    let pod = &patched["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"][1],
        json!({"name": "flink-config-volume", "configMap": {"name": "orders-flink-config",
            "items": [{"key": "flink-conf.yaml", "path": "flink-conf.yaml"},
                      {"key": "log4j-console.properties", "path": "log4j-console.properties"}]}})
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"][1],
        json!({"name": "flink-config-volume", "mountPath": "/opt/flink/conf"})
    );
    // Unknown fields survive; /validate on the patched object allows it without FLK301.
    assert_eq!(
        pod["containers"][0]["x-vendor-extension"],
        json!({"kept": true})
    );
    let mut again = review.clone();
    again["request"]["object"] = patched;
    let v = answer(again.clone(), Endpoint::Validate, &cache);
    assert_eq!(v["response"]["allowed"], true, "{v}");
    let rules = audited_rules(&v);
    assert!(!rules.contains("FLK301"), "{v}");
    // And a second /mutate has nothing left to do.
    let twice = answer(again, Endpoint::Mutate, &cache);
    assert!(twice["response"].get("patch").is_none(), "{twice}");
    // Without the cluster's ConfigMap in sight there is nothing to mount: no FLK301 fix.
    let blind = answer(review, Endpoint::Mutate, &NoContext);
    if let Some(ops) = decoded_patch(response(&blind)) {
        assert!(!ops.to_string().contains("/opt/flink/conf"), "{ops}");
    }
}

/// In the webhook's complete view, a ConfigMap the cluster's TaskManager mounts but that does
/// not exist is not mounted into the JobManager, and no ConfigMap can be created: no
/// `/opt/flink/conf` patch at all (FLK301 stays a finding).
#[test]
fn mutate_never_mounts_a_config_map_the_cluster_does_not_have() {
    let taskmanager = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flink-taskmanager", "namespace": "streaming"},
        "spec": {"selector": {"matchLabels": {"app": "flink", "component": "taskmanager"}},
          "template": {"metadata": {"labels": {"app": "flink", "component": "taskmanager"}},
            "spec": {"containers": [{"name": "taskmanager", "image": "flink:1.20",
                "args": ["taskmanager"],
                "volumeMounts": [{"name": "cfg", "mountPath": "/opt/flink/conf"}]}],
              "volumes": [{"name": "cfg", "configMap": {"name": "ghost-config"}}]}}}});
    let cache = synced_cache([&taskmanager]);
    let mut review = jobmanager_create();
    let spec = &mut review["request"]["object"]["spec"]["template"]["spec"];
    spec["volumes"] = json!([{"name": "flink-logs", "emptyDir": {}}]);
    spec["containers"][0]["volumeMounts"] =
        json!([{"name": "flink-logs", "mountPath": "/opt/flink/log"}]);
    let out = answer(review.clone(), Endpoint::Mutate, &cache);
    if let Some(ops) = decoded_patch(response(&out)) {
        assert!(!ops.to_string().contains("/opt/flink/conf"), "{ops}");
        assert!(!ops.to_string().contains("ghost-config"), "{ops}");
    }
    let v = answer(review, Endpoint::Validate, &cache);
    assert!(audited_rules(&v).contains("FLK301"), "{v}");
}

/// `/mutate` on a JobManager Deployment whose ConfigMap (in the cluster cache) fixes the RPC and
/// blob ports: the patch declares the ports the container lacks and adds the Flink docs'
/// tcpSocket liveness probe on the RPC port, leaving the declared port as it is; `/validate`
/// then reports no FLK108 and a second `/mutate` has nothing to add.
#[test]
fn mutate_declares_missing_jobmanager_ports_and_liveness_probe() {
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "flink-config", "namespace": "streaming"},
        "data": {"flink-conf.yaml": "jobmanager.rpc.address: flink-jobmanager\njobmanager.rpc.port: 6133\nblob.server.port: 6134\n",
                 "log4j-console.properties": "rootLogger.level = INFO\n"}});
    let cache = synced_cache([&config_map]);
    let mut review = jobmanager_create();
    // Only the web UI port is declared.
    review["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": 8081, "name": "webui"}]);
    let object = review["request"]["object"].clone();
    let before = answer(review.clone(), Endpoint::Validate, &cache);
    assert!(audited_rules(&before).contains("FLK108"), "{before}");
    let out = answer(review.clone(), Endpoint::Mutate, &cache);
    let ops = decoded_patch(response(&out)).expect("a patch");
    let patched = apply(&object, &ops);
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["ports"],
        json!([{"containerPort": 8081, "name": "webui"},
               {"containerPort": 6133, "name": "rpc"},
               {"containerPort": 6134, "name": "blob-server"}])
    );
    assert_eq!(
        container["livenessProbe"],
        json!({"tcpSocket": {"port": 6133}, "initialDelaySeconds": 30, "periodSeconds": 60})
    );
    assert_eq!(container["x-vendor-extension"], json!({"kept": true}));
    let mut again = review.clone();
    again["request"]["object"] = patched;
    let v = answer(again.clone(), Endpoint::Validate, &cache);
    let rules = audited_rules(&v);
    assert!(!rules.contains("FLK108"), "{v}");
    let twice = answer(again, Endpoint::Mutate, &cache);
    assert!(twice["response"].get("patch").is_none(), "{twice}");
    // Without the ConfigMap in sight the ports are unknown: no port or probe is invented.
    let blind = answer(review, Endpoint::Mutate, &NoContext);
    if let Some(ops) = decoded_patch(response(&blind)) {
        assert!(!ops.to_string().contains("livenessProbe"), "{ops}");
        assert!(!ops.to_string().contains("/ports/"), "{ops}");
    }
}

/// The JobManager Deployment fixture as a CREATE (no `oldObject`).
fn jobmanager_create() -> Value {
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["operation"] = json!("CREATE");
    review["request"]["oldObject"] = Value::Null;
    review
}

/// The rule ids an answer lists in its `rules` audit annotation ("" when none).
fn audited_rules(answer: &Value) -> &str {
    answer["response"]["auditAnnotations"]["rules"]
        .as_str()
        .unwrap_or("")
}

// ---------------------------------------------------------------- issue 23

#[test]
fn the_operators_labels_skip_an_object_only_when_the_operator_sent_it() {
    let e = engine();
    let policy = Policy::default();
    let plain = admission::review(
        &e,
        &decode_value(fixture("jobmanager-deployment-update.json")).unwrap(),
        Endpoint::Validate,
        &NoContext,
        &policy,
    );
    assert!(!plain.findings.is_empty() && !plain.response.allowed);
    for (user, skipped) in [
        (
            Some("system:serviceaccount:flink-operator:flink-operator"),
            true,
        ),
        (
            Some("system:serviceaccount:kube-system:generic-garbage-collector"),
            true,
        ),
        (
            Some("system:serviceaccount:argocd:argocd-application-controller"),
            false,
        ),
        (Some("system:serviceaccount:kube-systemx:evil"), false),
        (Some("alice"), false),
        (None, false),
    ] {
        for at in ["/metadata/labels", "/spec/template/metadata/labels"] {
            let mut v = fixture("jobmanager-deployment-update.json");
            v["request"]["object"]
                .pointer_mut(at)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert("type".into(), json!("flink-native-kubernetes"));
            match user {
                Some(u) => v["request"]["userInfo"]["username"] = json!(u),
                None => {
                    v["request"].as_object_mut().unwrap().remove("userInfo");
                }
            }
            let o = admission::review(
                &e,
                &decode_value(v).unwrap(),
                Endpoint::Validate,
                &NoContext,
                &policy,
            );
            if skipped {
                assert_eq!(
                    o.skip_reason,
                    Some("generated by the Flink operator"),
                    "{user:?} {at}"
                );
                assert!(o.response.allowed);
            } else {
                assert_eq!(o.skip_reason, None, "{user:?} {at}");
                assert_eq!(o.findings, plain.findings, "{user:?} {at}");
                assert_eq!(o.response.allowed, plain.response.allowed);
            }
        }
    }
}

#[test]
fn warnings_stay_within_what_the_api_server_keeps_and_end_in_a_count() {
    let e = engine();
    let mut v = fixture("jobmanager-deployment-update.json");
    let containers = v["request"]["object"]["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap();
    let one = containers[0].clone();
    containers.clear();
    for i in 0..900 {
        let mut c = one.clone();
        c["name"] = json!(format!("c{i}"));
        containers.push(c);
    }
    let o = admission::review(
        &e,
        &decode_value(v).unwrap(),
        Endpoint::Validate,
        &NoContext,
        &Policy::default(),
    );
    let warnings = &o.response.warnings;
    let total: usize = warnings.iter().map(|w| w.chars().count()).sum();
    assert!(o.warnings_dropped > 0, "{} warnings", warnings.len());
    assert!(total <= admission::review::WARNINGS_TOTAL, "{total}");
    assert!(warnings.iter().all(|w| w.chars().count() <= 256));
    let last = warnings.last().unwrap();
    assert!(
        last.starts_with(&format!(
            "flink-admission: {} more warning(s) not shown",
            o.warnings_dropped
        )),
        "{last}"
    );
    assert!(
        last.contains("flink-lint") && last.contains("log"),
        "{last}"
    );
}

/// An AdmissionReview (CREATE) of `object`, a Flink custom resource in namespace `streaming`.
fn flink_review(object: Value) -> Value {
    let kind = object["kind"].as_str().unwrap().to_string();
    let plural = format!("{}s", kind.to_ascii_lowercase());
    let gvk = json!({"group": "flink.apache.org", "version": "v1beta1", "kind": kind});
    let gvr = json!({"group": "flink.apache.org", "version": "v1beta1", "resource": plural});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "9b2c4d6e-1a3b-4c5d-8e7f-0a1b2c3d4e5f",
            "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": object["metadata"]["name"], "namespace": "streaming",
            "operation": "CREATE",
            "userInfo": {"username": "alice@example.com", "groups": ["system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false
        }
    })
}

/// An application FlinkDeployment the operator accepts, on Flink `flink` (`1.20`).
fn application_cluster(name: &str, flink: &str) -> Value {
    json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "streaming"},
        "spec": {"image": format!("flink:{flink}"),
                 "flinkVersion": format!("v{}", flink.replace('.', "_")),
                 "serviceAccount": "flink",
                 "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
                 "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
                 "job": {"jarURI": "local:///opt/flink/usrlib/orders.jar", "parallelism": 2}}})
}

/// The operator's validation runs in /validate for every kind it covers, every reason at once:
/// a session job aimed at an application cluster (found in the cache) without parallelism and
/// with a local jar, a snapshot naming both a savepoint and a checkpoint, and a blue/green
/// deployment whose children's names are too long and whose template owns the cluster id.
#[test]
fn validate_denies_what_the_operator_refuses_for_every_flink_kind() {
    let application = application_cluster("orders-app", "1.20");
    let cache = synced_cache([&application]);
    let session_job = json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkSessionJob",
        "metadata": {"name": "orders-job", "namespace": "streaming",
                     "labels": {"target.session": "orders-app"}},
        "spec": {"deploymentName": "orders-app",
                 "job": {"jarURI": "local:///opt/flink/usrlib/orders.jar"}}});
    let out = answer(flink_review(session_job), Endpoint::Validate, &cache);
    assert_eq!(out["response"]["allowed"], false, "{out}");
    assert_eq!(audited_rules(&out), "FLK511,FLK519,FLK520", "{out}");

    let snapshot = json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
        "metadata": {"name": "orders-savepoint", "namespace": "streaming"},
        "spec": {"savepoint": {"path": "s3://flink/savepoints"}, "checkpoint": {},
                 "jobReference": {"kind": "FlinkDeployment", "name": "orders-app"}}});
    let out = answer(flink_review(snapshot), Endpoint::Validate, &cache);
    assert_eq!(out["response"]["allowed"], false, "{out}");
    assert_eq!(audited_rules(&out), "FLK521", "{out}");

    let mut template = application["spec"].clone();
    template["flinkConfiguration"] = json!({"kubernetes.cluster-id": "orders"});
    let blue_green = json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkBlueGreenDeployment",
        "metadata": {"name": "orders-enrichment-blue-green-deployments", "namespace": "streaming"},
        "spec": {"template": {"spec": template}}});
    let out = answer(flink_review(blue_green), Endpoint::Validate, &NoContext);
    assert_eq!(out["response"]["allowed"], false, "{out}");
    assert_eq!(audited_rules(&out), "FLK502,FLK504", "{out}");
}

/// The webhook's `--config` takes `operator-version`: a Flink version the installed operator
/// does not know is denied, one it knows passes.
#[test]
fn validate_follows_the_configured_operator_version() {
    let deployment = application_cluster("orders", "2.3");
    let judge = |config: &str| {
        let settings = admission::webhook_settings(Some(config)).unwrap();
        let e = Engine::embedded(settings).unwrap();
        admission::replay_one(
            &e,
            flink_review(deployment.clone()),
            Endpoint::Validate,
            &NoContext,
            &Policy::default(),
        )
        .unwrap()
    };
    let old = judge("operator-version: \"1.14\"\n");
    assert_eq!(old["response"]["allowed"], false, "{old}");
    assert!(audited_rules(&old).contains("FLK503"), "{old}");
    let message = old["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("Flink Kubernetes Operator 1.14 accepts v1_15 to v2_2"),
        "{message}"
    );
    let new = judge("operator-version: \"1.15\"\n");
    assert!(!audited_rules(&new).contains("FLK503"), "{new}");
    assert!(admission::webhook_settings(Some("operator-version: \"3.0\"\n")).is_err());
}
