//! Fixes the API server accepts: every patch `flink-lint` prints and `/mutate` sends applies as
//! it is, with a standard RFC 6902 implementation (`json-patch`), to the original object; the
//! two agree; a fix never leaves a limit below its request; fixing converges.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use flink_admission::admission::{Endpoint, Policy, decode_value, review};
use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Engine, FixProblem, ObjectSet, Registry, Scope, Settings, Subject};
use flink_admission::flink::object::ObjectRef;
use flink_admission::flink::quantity::quantity_from_json;
use flink_admission::lint::{self, Inputs, render};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::header;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The engine and world a fixture's text asks for (its header, as `tests/it/rules.rs` reads it).
fn setup(text: &str) -> (Engine, Vec<Value>, bool) {
    setup_at(None, text)
}

/// [`setup`] for the fixture at `path`, with the `.flink-lint.yaml` next to it if any.
fn setup_at(path: Option<&Path>, text: &str) -> (Engine, Vec<Value>, bool) {
    let origin = path.map_or_else(|| "<text>".to_string(), |p| p.display().to_string());
    let header = header::of_text(&origin, text);
    let mut inputs = Inputs::default();
    inputs.add("x.yaml", text);
    let objects = inputs.objects.iter().map(|o| (*o.value).clone()).collect();
    let engine = Engine::embedded(header.settings(path)).unwrap();
    (engine, objects, header.complete_world)
}

fn world(objects: &[Value], complete: bool) -> ObjectSet {
    let arcs = objects.iter().cloned().map(Arc::new).collect();
    if complete {
        ObjectSet::complete(arcs)
    } else {
        ObjectSet::new(arcs)
    }
}

fn json_patch_apply(object: &Value, ops: &Value) -> Result<Value, String> {
    let patch: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| e.to_string())?;
    let mut doc = object.clone();
    json_patch::patch(&mut doc, &patch).map_err(|e| e.to_string())?;
    Ok(doc)
}

/// The patch `/mutate` sends for `object` (CREATE), decoded; and the review's warnings.
fn mutate(engine: &Engine, object: &Value, ctx: &ObjectSet) -> (Option<Value>, Vec<String>) {
    let api = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api.split_once('/').unwrap_or(("", api));
    let r = decode_value(json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": group, "version": version, "kind": object["kind"]},
            "resource": {"group": group, "version": version, "resource": "things"},
            "operation": "CREATE",
            "object": object,
        }
    }))
    .unwrap();
    let out = review(engine, &r, Endpoint::Mutate, ctx, &Policy::default());
    (
        out.response.patch.as_ref().and_then(|p| p.decode()),
        out.response.warnings.clone(),
    )
}

fn fixable_fail_fixtures() -> Vec<(String, PathBuf)> {
    let registry = Registry::embedded().unwrap();
    let mut out = Vec::new();
    // Fixes that create objects have no patch (tests/it/rules.rs and tests/it/fix_cli.rs check them).
    for rule in registry
        .rules()
        .iter()
        .filter(|r| r.fix.as_ref().is_some_and(|f| !f.creates_objects))
    {
        let dir = fixtures().join(&rule.id);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("fail") && n.ends_with(".yaml"))
            })
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (rule.id.clone(), f)));
    }
    out
}

/// Every fixable rule's failing fixture: the `patch` of `flink-lint --format json` applies with
/// json-patch to the object as read and gives its `fixed*.yaml` counterpart; for a safe fix, it
/// is exactly what `/mutate` sends for that object.
#[test]
fn fixture_patches_apply_with_json_patch_and_lint_agrees_with_the_webhook() {
    let mut problems = Vec::new();
    let mut patches_seen = 0;
    for (rule, fail) in fixable_fail_fixtures() {
        let text = std::fs::read_to_string(&fail).unwrap();
        let (engine, objects, complete) = setup_at(Some(&fail), &text);
        let name = fail.display().to_string();
        let mut inputs = Inputs::default();
        inputs.add(&name, &text);
        let outcome = lint::lint_in_world(&engine, inputs, complete);
        let doc: Value = serde_json::from_str(&render::json(&outcome)).unwrap();
        let fixed_path = fail.with_file_name(
            fail.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .replacen("fail", "fixed", 1),
        );
        let fixed = fixed_path
            .exists()
            .then(|| setup(&std::fs::read_to_string(&fixed_path).unwrap()).1);
        let ctx = world(&objects, complete);
        let mut by_rule = objects.clone();
        for f in doc["findings"].as_array().unwrap() {
            if !f["fix_error"].is_null() {
                problems.push(format!(
                    "{name}: {}: fix error {}",
                    f["rule"], f["fix_error"]
                ));
                continue;
            }
            if f["patch"].is_null() {
                continue;
            }
            let i = objects
                .iter()
                .position(|o| {
                    serde_json::to_value(ObjectRef::of(o)).ok().as_ref() == Some(&f["object"])
                })
                .unwrap();
            patches_seen += 1;
            if let Err(e) = json_patch_apply(&objects[i], &f["patch"]) {
                problems.push(format!("{name}: {} patch does not apply: {e}", f["rule"]));
                continue;
            }
            if f["rule"] == rule.as_str() {
                // The rule's patches, one after the other (as `tests/it/rules.rs` applies its fixes).
                match json_patch_apply(&by_rule[i], &f["patch"]) {
                    Ok(p) => by_rule[i] = p,
                    Err(e) => problems.push(format!("{name}: {rule}: patches do not compose: {e}")),
                }
            }
            if f["fix_applicability"] == "safe" {
                let safe_here = doc["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|g| g["object"] == f["object"] && g["fix_applicability"] == "safe")
                    .count();
                let (sent, warnings) = mutate(&engine, &objects[i], &ctx);
                let Some(sent) = sent else {
                    problems.push(format!("{name}: /mutate sent no patch ({warnings:?})"));
                    continue;
                };
                if let Err(e) = json_patch_apply(&objects[i], &sent) {
                    problems.push(format!("{name}: /mutate's patch does not apply: {e}"));
                }
                if safe_here == 1 && sent != f["patch"] {
                    problems.push(format!(
                        "{name}: lint prints {} but /mutate sends {sent}",
                        f["patch"]
                    ));
                }
            }
        }
        // Objects a fix creates (a new ConfigMap) are not patches, nor are its edits of other
        // objects (the key a mounted ConfigMap lacks): tests/it/rules.rs checks them.
        let edited: Vec<ObjectRef> = outcome
            .findings
            .iter()
            .filter(|l| l.finding.rule == rule)
            .filter_map(|l| l.finding.fix.as_ref())
            .flat_map(|fx| fx.edits.iter().map(|e| e.object.clone()))
            .collect();
        let unedited = |v: Vec<Value>| -> Vec<Value> {
            v.into_iter()
                .filter(|o| !edited.contains(&ObjectRef::of(o)))
                .collect()
        };
        let fixed = fixed.map(|f| {
            let ids: Vec<ObjectRef> = objects.iter().map(ObjectRef::of).collect();
            unedited(
                f.into_iter()
                    .filter(|o| ids.contains(&ObjectRef::of(o)))
                    .collect::<Vec<_>>(),
            )
        });
        if let Some(fixed) = &fixed
            && *fixed != unedited(by_rule.clone())
        {
            problems.push(format!(
                "{name}: {rule}: the printed patches do not give {}",
                fixed_path.display()
            ));
        }
    }
    assert!(patches_seen >= 10, "only {patches_seen} patches checked");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_patch_that_cannot_apply_is_shown_as_such_by_lint_and_reported_by_the_webhook() {
    // `resource: 5`: FLK402's fix adds `memory` under a number.
    let text = "\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: basic}
spec:
  image: flink:2.2
  flinkVersion: v2_2
  flinkConfiguration: {taskmanager.numberOfTaskSlots: \"2\"}
  jobManager: {replicas: 1, resource: 5}
  taskManager: {resource: {cpu: 1}}
";
    let (engine, objects, _) = setup(text);
    let mut inputs = Inputs::default();
    inputs.add("fd.yaml", text);
    let loaded: Vec<(String, Arc<Value>)> = inputs
        .objects
        .iter()
        .map(|o| ("fd.yaml".to_string(), o.value.clone()))
        .collect();
    let outcome = lint::lint(&engine, inputs);
    let _ = &loaded;
    let problems = outcome.fix_problems.clone();
    assert!(
        matches!(&problems[..], [p] if matches!(&p.problem, FixProblem::Failed { rule, .. } if rule == "FLK402")),
        "{problems:?}"
    );
    let doc: Value = serde_json::from_str(&render::json(&outcome)).unwrap();
    let Some(f) = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "FLK402" && f["path"] == "/spec/jobManager")
    else {
        panic!("FLK402 not reported: {doc}");
    };
    assert!(f["patch"].is_null(), "{f}");
    assert!(
        f["fix_error"]
            .as_str()
            .is_some_and(|e| e.contains("/spec/jobManager/resource") && e.contains("a number")),
        "{f}"
    );
    let human = render::human(&outcome, false);
    assert!(human.contains("cannot be applied"), "{human}");
    let ctx = world(&objects, false);
    let fd = &objects[0];
    let out = engine.fix(&Subject::offline(fd, &ctx));
    // The taskManager's fix still applies; the jobManager's is reported, once.
    assert_eq!(
        out.object.pointer("/spec/taskManager/resource/memory"),
        Some(&json!("1728Mi")),
        "{:?}",
        out.ops
    );
    assert_eq!(
        out.object.pointer("/spec/jobManager/resource"),
        Some(&json!(5))
    );
    let failed: Vec<_> = out
        .problems
        .iter()
        .filter(|p| matches!(p, FixProblem::Failed { rule, .. } if rule == "FLK402"))
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", out.problems);
    assert!(out.converged());
    let (sent, warnings) = mutate(&engine, fd, &ctx);
    assert_eq!(sent, Some(serde_json::to_value(&out.ops).unwrap()));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("FLK402") && w.contains("not applied")),
        "{warnings:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Property: generated Flink containers with any mix of requests and limits
// ------------------------------------------------------------------------------------------------

const QUANTITIES: &[&str] = &[
    "500m", "1Gi", "1G", "0", "1e3", "1.5Gi", "2Gi", "4Gi", "100Mi", "1", "3", "250m",
];

/// A quantity, absent (`None`), or null.
fn quantity() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => Just(Some(json!(1_073_741_824u64))),
        1 => Just(Some(json!(2))),
        6 => proptest::sample::select(QUANTITIES).prop_map(|q| Some(json!(q))),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z0-9 ]{0,8}".prop_map(Value::from),
        Just(Value::Null),
        Just(json!({"nested": [1, {"deep": "x"}]})),
    ]
}

/// A few unknown fields (`x-…`, so they never collide with real ones).
fn unknown() -> impl Strategy<Value = Vec<(String, Value)>> {
    proptest::collection::vec(("x-[a-z]{1,5}", scalar()), 0..3)
}

/// `resources`: absent, null, or a map whose `requests`/`limits` are absent, null or maps of
/// cpu/memory quantities, with unknown fields.
fn side() -> impl Strategy<Value = Option<Value>> {
    (0..4u8, quantity(), quantity(), unknown()).prop_map(
        |(shape, cpu, memory, extra)| match shape {
            0 => None,
            1 => Some(Value::Null),
            _ => {
                let mut m = Map::new();
                if let Some(c) = cpu {
                    m.insert("cpu".into(), c);
                }
                if let Some(c) = memory {
                    m.insert("memory".into(), c);
                }
                for (k, v) in extra {
                    m.insert(k, v);
                }
                Some(Value::Object(m))
            }
        },
    )
}

fn resources() -> impl Strategy<Value = Option<Value>> {
    (0..5u8, side(), side(), unknown()).prop_map(|(shape, requests, limits, extra)| match shape {
        0 => None,
        1 => Some(Value::Null),
        _ => {
            let mut m = Map::new();
            if let Some(r) = requests {
                m.insert("requests".into(), r);
            }
            if let Some(l) = limits {
                m.insert("limits".into(), l);
            }
            for (k, v) in extra {
                m.insert(k, v);
            }
            Some(Value::Object(m))
        }
    })
}

fn container(
    name: &str,
    args: Option<&str>,
    res: Option<Value>,
    extra: Vec<(String, Value)>,
) -> Value {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!("flink:1.20"));
    if let Some(a) = args {
        c.insert("args".into(), json!([a]));
        c.insert(
            "volumeMounts".into(),
            json!([{"name": "conf", "mountPath": "/opt/flink/conf"}]),
        );
    }
    if let Some(r) = res {
        c.insert("resources".into(), r);
    }
    for (k, v) in extra {
        c.insert(k, v);
    }
    Value::Object(c)
}

#[derive(Debug, Clone)]
struct Case {
    role: &'static str,
    process_size: Option<&'static str>,
    main: (Option<Value>, Vec<(String, Value)>),
    sidecar: Option<Option<Value>>,
    init: Vec<Option<Value>>,
    spec_extra: Vec<(String, Value)>,
    pod_extra: Vec<(String, Value)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just("jobmanager"), Just("taskmanager")],
        proptest::option::of(proptest::sample::select(
            &["512m", "1600m", "2048m", "4g"][..],
        )),
        (resources(), unknown()),
        proptest::option::of(resources()),
        proptest::collection::vec(resources(), 0..3),
        unknown(),
        unknown(),
    )
        .prop_map(
            |(role, process_size, main, sidecar, init, spec_extra, pod_extra)| Case {
                role,
                process_size,
                main,
                sidecar,
                init,
                spec_extra,
                pod_extra,
            },
        )
}

fn objects(c: &Case) -> (Value, Vec<Value>) {
    let mut containers = vec![container(
        c.role,
        Some(c.role),
        c.main.0.clone(),
        c.main.1.clone(),
    )];
    if let Some(s) = &c.sidecar {
        containers.push(container("sidecar", None, s.clone(), Vec::new()));
    }
    let init: Vec<Value> = c
        .init
        .iter()
        .enumerate()
        .map(|(i, r)| container(&format!("init-{i}"), None, r.clone(), Vec::new()))
        .collect();
    let mut pod = json!({
        "containers": containers,
        "volumes": [{"name": "conf", "configMap": {"name": "flink-config"}}],
    });
    if !init.is_empty() {
        pod["initContainers"] = json!(init);
    }
    for (k, v) in &c.pod_extra {
        pod[k] = v.clone();
    }
    let mut spec = json!({
        "replicas": 1,
        "template": {"metadata": {"labels": {"component": c.role}}, "spec": pod},
    });
    if c.role == "jobmanager" {
        spec["strategy"] = json!({"type": "Recreate"});
    }
    for (k, v) in &c.spec_extra {
        spec[k] = v.clone();
    }
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": format!("flink-{}", c.role), "x-meta": {"keep": true}},
        "spec": spec,
    });
    let key = format!("{}.memory.process.size", c.role);
    let conf = match c.process_size {
        Some(s) => format!("{key}: {s}\n"),
        None => "parallelism.default: 1\n".to_string(),
    };
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "flink-config"},
        "data": {"flink-conf.yaml": conf},
    });
    (deployment, vec![cm])
}

/// Every (pointer, value) of the unknown (`x-…`) fields of `v`.
fn unknown_fields(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k.starts_with("x-") {
                    out.push((p, x.clone()));
                } else {
                    unknown_fields(x, &p, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                unknown_fields(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// (pointer, request, limit) for cpu and memory of every container and init container.
fn pairs(obj: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    let mut out = Vec::new();
    for list in ["containers", "initContainers"] {
        let ptr = format!("/spec/template/spec/{list}");
        for (i, c) in obj
            .pointer(&ptr)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for r in ["cpu", "memory"] {
                let get = |side: &str| {
                    c.pointer(&format!("/resources/{side}/{r}"))
                        .filter(|v| !v.is_null())
                        .cloned()
                };
                out.push((format!("{ptr}/{i}/{r}"), get("requests"), get("limits")));
            }
        }
    }
    out
}

fn below(request: &Option<Value>, limit: &Option<Value>) -> bool {
    match (request, limit) {
        (Some(r), Some(l)) => match (quantity_from_json(r), quantity_from_json(l)) {
            (Ok(r), Ok(l)) => l < r,
            _ => false,
        },
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fixes_apply_as_patches_keep_unknown_fields_respect_requests_and_converge(c in case()) {
        let engine = Engine::embedded(Settings::default()).unwrap();
        let (original, others) = objects(&c);
        let mut all = others.clone();
        all.push(original.clone());
        let ctx = world(&all, false);
        let out = engine.fix(&Subject::offline(&original, &ctx));
        prop_assert!(out.problems.is_empty(), "{:?}", out.problems);

        // The ops apply as they are with json-patch to the original and give the fixed object.
        let ops = serde_json::to_value(&out.ops).unwrap();
        let patched = json_patch_apply(&original, &ops);
        prop_assert_eq!(patched.as_ref(), Ok(&out.object), "ops {}", ops);

        // Unknown fields survive.
        let mut unknown = Vec::new();
        unknown_fields(&original, "", &mut unknown);
        for (p, v) in &unknown {
            prop_assert_eq!(out.object.pointer(p), Some(v), "{} lost", p);
        }

        // No limit below its request, unless the user's own values already were.
        let before = pairs(&original);
        for (i, (p, r, l)) in pairs(&out.object).into_iter().enumerate() {
            if below(&r, &l) {
                prop_assert_eq!(&before[i], &(p.clone(), r.clone(), l.clone()), "fix made {} invalid", p);
            }
        }

        // The Flink container ends up with requests and a memory limit whenever its own values
        // are quantities (the fix leaves what it cannot compare to the user).
        let main = "/spec/template/spec/containers/0/resources";
        let odd = ["", "/requests", "/limits"].iter().any(|p| {
            original.pointer(&format!("{main}{p}")).is_some_and(|v| !v.is_null() && !v.is_object())
        }) || ["/requests/cpu", "/requests/memory", "/limits/cpu", "/limits/memory"].iter().any(|p| {
            original.pointer(&format!("{main}{p}")).is_some_and(|v| !v.is_null() && quantity_from_json(v).is_err())
        });
        if !odd {
            for p in ["/requests/cpu", "/requests/memory", "/limits/memory"] {
                prop_assert!(
                    out.object.pointer(&format!("{main}{p}")).is_some_and(|v| !v.is_null()),
                    "{} not filled: {}", p, out.object.pointer(main).unwrap_or(&Value::Null)
                );
            }
        }

        // Fixing the fixed object changes nothing.
        let again = engine.fix(&Subject::offline(&out.object, &ctx));
        prop_assert!(again.ops.is_empty(), "second round: {:?}", again.ops);
        prop_assert!(again.problems.is_empty());

        // /mutate sends exactly these ops (or none when there are none).
        let (sent, _) = mutate(&engine, &original, &ctx);
        if out.ops.is_empty() {
            prop_assert_eq!(sent, None);
        } else {
            prop_assert_eq!(sent, Some(ops));
        }
    }
}

#[test]
fn safe_fixes_never_write_a_limit_below_an_existing_request() {
    let c = Case {
        role: "taskmanager",
        process_size: Some("2048m"),
        main: (
            Some(json!({"requests": {"memory": "4Gi"}, "limits": {"cpu": "250m"}})),
            vec![],
        ),
        sidecar: None,
        init: vec![],
        spec_extra: vec![],
        pod_extra: vec![],
    };
    let engine = Engine::embedded(Settings::default()).unwrap();
    let (original, mut all) = objects(&c);
    all.push(original.clone());
    let out = engine.fix(&Subject::offline(&original, &world(&all, false)));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let res = &out.object["spec"]["template"]["spec"]["containers"][0]["resources"];
    assert_eq!(
        res,
        &json!({"requests": {"memory": "4Gi", "cpu": "250m"}, "limits": {"cpu": "250m", "memory": "4Gi"}})
    );
    assert!(
        out.ops
            .iter()
            .all(|o| matches!(o, flink_admission::engine::Op::Add { .. })),
        "{:?}",
        out.ops
    );
}

/// Two safe fixes that undo each other: `Engine::fix` stops after its bound, says which rules
/// did not settle, and `/mutate` sends no patch but a warning.
#[test]
fn fixes_that_do_not_converge_are_reported_with_their_rules() {
    let rule = |id: &str, name: &str, x: i64| {
        (
            format!("{id}-{name}.yaml"),
            format!(
                r#"id: {id}
name: {name}
family: test
severity: warning
status: preview
admission: true
targets: [any]
summary: x must be {x}.
message: "x is not {x}"
check:
  schema: {{properties: {{spec: {{properties: {{x: {{const: {x}}}}}, required: [x]}}}}}}
fix:
  applicability: safe
  title: Set x to {x}
  ops: [{{op: add, path: /spec/x, value: {x}}}]
docs: {{what_it_does: a, why_is_this_bad: b, example: c, use_instead: d, fix_safety: e}}
"#
            ),
        )
    };
    let registry =
        Registry::from_sources(&[rule("FLK901", "x-one", 1), rule("FLK902", "x-two", 2)]).unwrap();
    let registry: &'static Registry = Box::leak(Box::new(registry));
    let engine = Engine::new(registry, Settings::default()).unwrap();
    let object = json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "basic"},
        "spec": {"x": 0},
    });
    let ctx = world(&[], false);
    let out = engine.fix(&Subject::offline(&object, &ctx));
    assert!(!out.converged());
    assert_eq!(
        out.problems,
        vec![FixProblem::NotConverged {
            rounds: flink_admission::engine::FIX_ROUNDS,
            rules: vec!["FLK901".into(), "FLK902".into()],
        }]
    );
    // What was done is still a valid patch of the original.
    let ops = serde_json::to_value(&out.ops).unwrap();
    assert_eq!(json_patch_apply(&object, &ops).as_ref(), Ok(&out.object));
    let (sent, warnings) = mutate(&engine, &object, &ctx);
    assert_eq!(sent, None);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("FLK901, FLK902") && w.contains("no patch")),
        "{warnings:?}"
    );

    // flink-lint shows it too: `fix_problems` in JSON, a warning in human output.
    let mut inputs = Inputs::default();
    inputs.add("fd.json", &object.to_string());
    let objects: Vec<(String, Arc<Value>)> = inputs
        .objects
        .iter()
        .map(|o| ("fd.json".to_string(), o.value.clone()))
        .collect();
    let outcome = lint::lint(&engine, inputs);
    let _ = &objects;
    let problems = outcome.fix_problems.clone();
    let doc: Value =
        serde_json::from_str(&render::json_with_fix_problems(&outcome, &problems)).unwrap();
    assert_eq!(
        doc["fix_problems"],
        json!([{
            "file": "fd.json",
            "object": {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
                       "namespace": null, "name": "basic"},
            "problem": "not-converged",
            "rounds": 8,
            "rules": ["FLK901", "FLK902"],
        }])
    );
    let human = render::human_with_fix_problems(&outcome, false, &problems);
    assert!(
        human.contains("FlinkDeployment/basic in fd.json: applying the safe fixes: the fixes of FLK901, FLK902 still change the object after 8 rounds"),
        "{human}"
    );
}

/// The real manifests of `../shared/corpus`: every patch flink-lint prints applies with
/// json-patch to its object, and applying every safe fix (what `/mutate` does) converges
/// without problems into an object the ops reproduce.
#[test]
fn corpus_patches_apply_and_fixes_converge() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !dir.is_dir() {
        assert!(
            std::env::var_os("FLINK_ADMISSION_SKIP_CORPUS").is_some(),
            "{} is missing",
            dir.display()
        );
        return;
    }
    let (files, _) = lint::discover::expand(&[dir.display().to_string()]);
    let mut problems = Vec::new();
    let mut patches = 0;
    for scope in [Scope::Flink, Scope::All] {
        let engine = Engine::embedded(Settings {
            scope,
            ..Settings::default()
        })
        .unwrap();
        let mut inputs = Inputs::default();
        for f in &files {
            let name = f.display();
            if let Ok(text) = std::fs::read_to_string(&name) {
                inputs.add(&name, &text);
            }
        }
        let loaded: Vec<(String, Arc<Value>)> = inputs
            .objects
            .iter()
            .map(|o| (inputs.files[o.file].name.clone(), o.value.clone()))
            .collect();
        let world_all = ObjectSet::new(loaded.iter().map(|(_, v)| v.clone()).collect());
        let outcome = lint::lint(&engine, inputs);
        let doc: Value = serde_json::from_str(&render::json(&outcome)).unwrap();
        for f in doc["findings"].as_array().unwrap() {
            if !f["fix_error"].is_null() {
                problems.push(format!("{} {}: {}", f["file"], f["rule"], f["fix_error"]));
            }
            if f["patch"].is_null() {
                continue;
            }
            patches += 1;
            let applies = loaded.iter().any(|(file, o)| {
                f["file"] == file.as_str()
                    && serde_json::to_value(ObjectRef::of(o)).ok().as_ref() == Some(&f["object"])
                    && json_patch_apply(o, &f["patch"]).is_ok()
            });
            if !applies {
                problems.push(format!("{} {}: patch does not apply", f["file"], f["rule"]));
            }
        }
        for (file, o) in &loaded {
            let out = engine.fix(&Subject::offline(o, &world_all));
            if !out.problems.is_empty() {
                problems.push(format!("{file}: {:?}", out.problems));
            }
            let ops = serde_json::to_value(&out.ops).unwrap();
            if json_patch_apply(o, &ops).as_ref() != Ok(&out.object) {
                problems.push(format!("{file}: the ops do not reproduce the fixed object"));
            }
            for (p, r, l) in pairs(&out.object) {
                if below(&r, &l) && !pairs(o).contains(&(p.clone(), r.clone(), l.clone())) {
                    problems.push(format!(
                        "{file}: the fix made {p} a limit below its request"
                    ));
                }
            }
        }
    }
    assert!(patches > 0);
    assert!(problems.is_empty(), "{problems:#?}");
}

// ------------------------------------------------ `flink-lint fix`: edits of the YAML text

fn yaml_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..70000).prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "flink",
            "yes",
            "1.20",
            "a: b",
            "x #y",
            "",
            "two\nlines\n",
            "no end\nnewline",
            "-x",
            "$(POD_IP)",
            "flink:1.20",
            "ünï",
            " lead",
            "{x}",
            "1Gi",
            "~",
            "null",
        ])
        .prop_map(|s| json!(s)),
    ]
}

fn yaml_value() -> impl Strategy<Value = Value> {
    yaml_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c", "key with space", "x/y", "t~", "1"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Pointers of every node of `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let t = k.replace('~', "~0").replace('/', "~1");
                pointers(c, format!("{at}/{t}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// An operation on the node `pick` selects: add, append, insert, replace or remove.
fn an_op(root: &Value, pick: usize, kind: u8, value: Value) -> Option<flink_admission::engine::Op> {
    use flink_admission::engine::Op;
    let mut all = Vec::new();
    pointers(root, String::new(), &mut all);
    let at = all[pick % all.len()].clone();
    let node = root.pointer(&at)?;
    Some(match (node, kind % 4) {
        (Value::Object(m), 0) if !m.contains_key("new") => Op::Add {
            path: format!("{at}/new"),
            value,
        },
        (Value::Array(_), 0) => Op::Add {
            path: format!("{at}/-"),
            value,
        },
        (Value::Array(a), 1) if !a.is_empty() => Op::Add {
            path: format!("{at}/0"),
            value,
        },
        (_, 2) if !at.is_empty() => Op::Replace { path: at, value },
        (_, 3) if !at.is_empty() => Op::Remove { path: at },
        _ => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever the document and the operation, the edited text reads back as exactly what
    /// json-patch makes of the value, the comment above it and the next document are kept, or
    /// the editor says it cannot (never a wrong file).
    #[test]
    fn text_edits_read_back_as_the_patched_value(
        body in prop::collection::btree_map(
            prop::sample::select(vec!["spec", "data", "items"]), yaml_value(), 1..3),
        pick in 0usize..64, kind in 0u8..4, value in yaml_value(), style in 0u8..3,
    ) {
        let mut doc: Map<String, Value> = Map::new();
        doc.insert("apiVersion".into(), json!("v1"));
        doc.insert("kind".into(), json!("Thing"));
        doc.insert("metadata".into(), json!({"name": "n"}));
        for (k, v) in body {
            doc.insert(k.to_string(), v);
        }
        let doc = Value::Object(doc);
        // Block style, flow style (JSON is YAML), or block with `spec` in flow style.
        let yaml = match style {
            0 => serde_saphyr::to_string(&doc).unwrap(),
            1 => format!("{}\n", serde_json::to_string(&doc).unwrap()),
            _ => {
                let mut d = doc.clone();
                let spec = d.as_object_mut().unwrap().remove("spec");
                let mut y = serde_saphyr::to_string(&d).unwrap();
                if let Some(spec) = spec {
                    y.push_str(&format!("spec: {}\n", serde_json::to_string(&spec).unwrap()));
                }
                y
            }
        };
        let text = format!("# head comment\n{yaml}---\nother: doc # kept\n");
        let read = flink_admission::lint::source::parse(&text, false);
        prop_assert!(!read.errors.iter().any(|e| e.caught_panic), "{:?}", read.errors);
        prop_assume!(read.errors.is_empty());
        let doc = read.documents[0].value.clone();
        let Some(op) = an_op(&doc, pick, kind, value) else { return Ok(()); };
        let mut expected = doc.clone();
        let patch: json_patch::Patch =
            serde_json::from_value(json!([serde_json::to_value(&op).unwrap()])).unwrap();
        json_patch::patch(&mut expected, &patch).unwrap();
        let edit = lint::fix::ObjectEdit { document: 0, prefix: String::new(), ops: vec![op.clone()] };
        match lint::fix::edit_file("x.yaml", &text, &[edit], &[]) {
            Ok(out) => {
                let back = flink_admission::lint::source::parse(&out, false);
                prop_assert!(back.errors.is_empty(), "{op:?}\n{text}\n=>\n{out}\n{:?}", back.errors);
                prop_assert_eq!(&back.documents[0].value, &expected, "{:?}\n{}\n=>\n{}", op, text, out);
                prop_assert!(out.starts_with("# head comment\n"), "{out}");
                prop_assert!(out.ends_with("---\nother: doc # kept\n"), "{out}");
            }
            Err(e) => prop_assert!(false, "{op:?} on\n{text}\nfailed: {e}"),
        }
    }
}

/// A fix that edits another object of the set (FLK312 writing the key the mounted ConfigMap
/// lacks) is left out whole by the webhook, which can only patch the admitted object, and the
/// finding says so; `flink-lint fix`'s path (`fix_with(.., true)`) hands the edit out.
#[test]
fn the_webhook_leaves_out_edits_of_other_objects_and_says_so() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"},
        "data": {"flink-conf.yaml": "jobmanager.rpc.address: flink-jobmanager\n"}});
    let tm = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flink-taskmanager"},
        "spec": {"template": {"metadata": {"labels": {"component": "taskmanager"}},
            "spec": {"containers": [{"name": "taskmanager", "image": "flink:1.17",
                "args": ["taskmanager"],
                "volumeMounts": [{"name": "c", "mountPath": "/opt/flink/conf"}]}],
            "volumes": [{"name": "c", "configMap": {"name": "conf"}}]}}}});
    let engine = Engine::embedded(Settings::default()).unwrap();
    let ctx = world(&[cm.clone(), tm.clone()], false);
    let subject = Subject::offline(&tm, &ctx);
    let report = engine.check(&subject);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "FLK312")
        .expect("FLK312");
    assert!(
        f.message.contains("the webhook cannot edit the ConfigMap"),
        "{}",
        f.message
    );
    let fx = f.fix.as_ref().unwrap();
    assert!(fx.ops.is_empty());
    assert_eq!(fx.edits.len(), 1);
    assert_eq!(fx.edits[0].object, ObjectRef::of(&cm));
    // The webhook: nothing of the edit, FLK312 still reported.
    let out = engine.fix(&subject);
    assert!(out.edited.is_empty());
    assert!(!out.ops.iter().any(|o| o.path().starts_with("/data")));
    assert!(out.report.findings.iter().any(|f| f.rule == "FLK312"));
    let (patch, _) = mutate(&engine, &tm, &ctx);
    if let Some(p) = patch {
        let patched = json_patch_apply(&tm, &p).unwrap();
        assert!(patched.pointer("/data").is_none());
    }
    // `flink-lint fix`: the edit, once, with the default text.
    let out = engine.fix_with(&subject, None, false, true);
    assert_eq!(out.edited.len(), 1);
    let mut edited = cm.clone();
    flink_admission::engine::fix::apply(&mut edited, &out.edited[0].ops).unwrap();
    assert_eq!(
        edited["data"]["log4j-console.properties"],
        json!(flink_admission::engine::settings::DEFAULT_LOG4J_CONSOLE)
    );
    assert_eq!(
        edited["data"]["flink-conf.yaml"],
        cm["data"]["flink-conf.yaml"]
    );
}

/// Two rules whose fixes create one field: FLK212 (seccompProfile) and FLK214 (runAsNonRoot)
/// both add to the pod's missing `securityContext`, FLK208 and FLK210 to the container's, and
/// FLK235 then adds runAsUser next to FLK214's runAsNonRoot. Each fix is materialised against
/// the object as the fixes before it left it, so the later ones add members to the map the
/// first one created instead of replacing it: the patch applies with `json-patch`, keeps every
/// rule's member, and a second fix has nothing to do.
#[test]
fn fixes_of_several_rules_on_one_field_give_one_valid_object() {
    let tm = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flink-taskmanager"},
        "spec": {"template": {"metadata": {"labels": {"component": "taskmanager"}},
            "spec": {"containers": [{"name": "taskmanager", "image": "flink:1.20",
                "args": ["taskmanager"], "x-unknown": 1}]}}}});
    let settings = Settings {
        platform: Platform::Kubernetes,
        pod_security: flink_admission::engine::rule::PodSecurity::Restricted,
        ..Settings::default()
    };
    let engine = Engine::embedded(settings).unwrap();
    let ctx = world(std::slice::from_ref(&tm), false);
    let subject = Subject::offline(&tm, &ctx);
    let before: Vec<String> = engine
        .check(&subject)
        .findings
        .iter()
        .map(|f| f.rule.clone())
        .collect();
    for rule in ["FLK208", "FLK210", "FLK212", "FLK214"] {
        assert!(before.iter().any(|r| r == rule), "{rule} in {before:?}");
    }
    let out = engine.fix(&subject);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let patched = json_patch_apply(&tm, &serde_json::to_value(&out.ops).unwrap()).unwrap();
    assert_eq!(patched, out.object);
    // One op creates each securityContext; the others add members to it.
    for at in [
        "/spec/template/spec/securityContext",
        "/spec/template/spec/containers/0/securityContext",
    ] {
        assert_eq!(
            out.ops.iter().filter(|o| o.path() == at).count(),
            1,
            "{at}: {:?}",
            out.ops
        );
    }
    let pod = &patched["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 9999);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["x-unknown"], 1);
    for rule in ["FLK208", "FLK210", "FLK212", "FLK214", "FLK235"] {
        assert!(
            !out.report.findings.iter().any(|f| f.rule == rule),
            "{rule} left"
        );
    }
    let again = engine.fix(&Subject::offline(&out.object, &ctx));
    assert!(again.ops.is_empty(), "{:?}", again.ops);
}
