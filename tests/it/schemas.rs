//! The embedded schemas (`schemas/*.json`) are generated here and checked against their
//! sources; with `UPDATE_SCHEMAS=1` the tests rewrite them instead of failing.
//!
//! - `schemas/flink.json`: the Flink operator's CRDs in `../shared/corpus/flink-operator-crds/`.
//! - `schemas/kubernetes.json`: the core kinds, from the Kubernetes 1.33 API definitions as
//!   `kubernetes-validate` (PyPI) ships them, converted to JSON Schema with the strict
//!   variant's closed objects (`v1.33.0-local-strict/_definitions.json`). Checked when
//!   kubernetes-validate is installed; `.ci/run` installs it and sets
//!   `FLINK_ADMISSION_KUBERNETES_VALIDATE=required`, which turns a missing install into a failure.
//!
//! Beside them, the agreement tests: each Flink kind's embedded schema accepts exactly the
//! field paths its CRD defines; every corpus manifest gets the same structural verdict with the
//! embedded schemas and with `--crd` on the real files; and the corpus's Deployments, Services
//! and ConfigMaps get the verdict `kubernetes-validate --strict` gives them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use flink_admission::engine::structural::{self, Arena, Builder, Node, Ty};
use flink_admission::lint::{Inputs, discover};
use serde_json::Value;

use crate::common::corpus as shared_corpus;
use crate::common::header;

const KUBERNETES_VERSION: &str = "1.33.0";

/// The core kinds embedded: (schema file stem, group, version, kind).
const CORE_KINDS: &[(&str, &str, &str, &str)] = &[
    ("deployment-apps-v1", "apps", "v1", "Deployment"),
    ("statefulset-apps-v1", "apps", "v1", "StatefulSet"),
    ("daemonset-apps-v1", "apps", "v1", "DaemonSet"),
    ("replicaset-apps-v1", "apps", "v1", "ReplicaSet"),
    ("job-batch-v1", "batch", "v1", "Job"),
    ("cronjob-batch-v1", "batch", "v1", "CronJob"),
    ("pod-v1", "", "v1", "Pod"),
    (
        "replicationcontroller-v1",
        "",
        "v1",
        "ReplicationController",
    ),
    ("service-v1", "", "v1", "Service"),
    ("configmap-v1", "", "v1", "ConfigMap"),
    ("namespace-v1", "", "v1", "Namespace"),
    ("serviceaccount-v1", "", "v1", "ServiceAccount"),
    (
        "horizontalpodautoscaler-autoscaling-v2",
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
    ),
    ("role-rbac-v1", "rbac.authorization.k8s.io", "v1", "Role"),
    (
        "rolebinding-rbac-v1",
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
    ),
    (
        "clusterrole-rbac-v1",
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
    ),
    (
        "clusterrolebinding-rbac-v1",
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
    ),
];

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn repo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
}

/// An arena as the embedded files hold it: the header, then one node per line (diffs stay
/// readable when a schema changes).
fn render(arena: &Arena) -> String {
    let mut head = serde_json::to_value(arena).expect("an arena serialises");
    let nodes = head
        .as_object_mut()
        .and_then(|m| m.remove("nodes"))
        .unwrap_or_default();
    let mut out = serde_json::to_string(&head).expect("json");
    out.pop();
    out.push_str(",\"nodes\":[\n");
    let lines: Vec<String> = nodes
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| serde_json::to_string(n).expect("json"))
        .collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n]}\n");
    out
}

/// `want` is what `file` holds, or (with `UPDATE_SCHEMAS=1`) is written there.
fn current(file: &str, want: &str) {
    let path = repo(file);
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    if got == want {
        return;
    }
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, want).unwrap_or_else(|e| panic!("{file}: {e}"));
        return;
    }
    panic!("{file} is not current: run `UPDATE_SCHEMAS=1 cargo test --test it schemas::`");
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn crd_files() -> Option<Vec<PathBuf>> {
    let dir = shared_corpus::corpus("flink-operator-crds")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "the four operator CRDs");
    Some(files)
}

#[test]
fn flink_schemas_are_current() {
    let Some(files) = crd_files() else { return };
    let mut b = Builder::new(
        "the Flink Kubernetes Operator's CRDs (../shared/corpus/flink-operator-crds, operator commit 6e9caeb)",
        false,
        true,
    );
    for f in &files {
        b.add_crd(&read_yaml(f))
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    current("schemas/flink.json", &render(&b.finish()));
}

/// Where kubernetes-validate keeps its schemas, when it is installed.
fn kubernetes_validate_schemas() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let found = out.map(|o| {
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
            .join("kubernetes-json-schema")
            .join(format!("v{KUBERNETES_VERSION}-local-strict"))
    });
    match found.filter(|p| p.is_dir()) {
        Some(p) => Some(p),
        None if std::env::var("FLINK_ADMISSION_KUBERNETES_VALIDATE").as_deref()
            == Ok("required") =>
        {
            panic!(
                "kubernetes-validate with Kubernetes {KUBERNETES_VERSION} schemas is not installed"
            )
        }
        None => {
            eprintln!(
                "skipping: kubernetes-validate is not installed (pip install kubernetes-validate)"
            );
            None
        }
    }
}

/// Converts kubernetes-validate's JSON Schema definitions to arena nodes.
struct Core<'d> {
    defs: &'d serde_json::Map<String, Value>,
    b: Builder,
    done: HashMap<String, u32>,
}

impl Core<'_> {
    fn reference(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.done.get(name) {
            return id;
        }
        let id = match name {
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => self.b.intern(Node {
                ty: Ty::IntOrString,
                ..Node::default()
            }),
            "io.k8s.apimachinery.pkg.api.resource.Quantity" => self.b.intern(Node {
                ty: Ty::Quantity,
                ..Node::default()
            }),
            _ => {
                let def = self
                    .defs
                    .get(name)
                    .unwrap_or_else(|| panic!("no definition {name}"));
                self.convert(def, 0)
            }
        };
        self.done.insert(name.to_string(), id);
        id
    }

    fn convert(&mut self, s: &Value, depth: usize) -> u32 {
        assert!(depth < 40, "the core definitions do not recurse");
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r).to_string();
            return self.reference(&name);
        }
        let ty_name = match s.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
            _ => None,
        };
        let mut node = Node {
            ty: match ty_name {
                Some(name) => Ty::named(name).unwrap_or_else(|| panic!("type {name}")),
                None if s.get("properties").is_some() => Ty::Object,
                None => Ty::Any,
            },
            int32: s.get("format").and_then(Value::as_str) == Some("int32"),
            ..Node::default()
        };
        for (k, v) in s
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let id = self.convert(v, depth + 1);
            node.props.push((k.clone(), id));
        }
        node.required = s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        match s.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(v @ Value::Object(_)) => node.additional = Some(self.convert(v, depth + 1)),
            // Without `additionalProperties: false` the strict schemas leave an object open.
            _ => node.open = node.ty == Ty::Object,
        }
        if let Some(items) = s.get("items") {
            node.items = Some(self.convert(items, depth + 1));
        }
        node.enumeration = s
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
            .collect();
        self.b.intern(node)
    }
}

#[test]
fn kubernetes_schemas_are_current() {
    let Some(dir) = kubernetes_validate_schemas() else {
        return;
    };
    let defs = read_json(&dir.join("_definitions.json"));
    let defs = defs["$defs"].as_object().expect("$defs");
    let mut core = Core {
        defs,
        b: Builder::new(
            &format!(
                "the Kubernetes {KUBERNETES_VERSION} API definitions, as kubernetes-validate ships them (strict)"
            ),
            true,
            false,
        ),
        done: HashMap::new(),
    };
    for (stem, group, version, kind) in CORE_KINDS {
        let schema = read_json(&dir.join(format!("{stem}.json")));
        let root = core.convert(&schema, 0);
        core.b.root(group, version, kind, root);
    }
    let meta = core.reference(OBJECT_META);
    core.b.name("ObjectMeta", meta);
    current("schemas/kubernetes.json", &render(&core.b.finish()));
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every field path a CRD schema defines (`spec.job.entryClass`, `[]` for list items, `{}`
/// for map values), with its type and whether unknown fields below it are kept.
fn crd_paths(s: &Value, at: &str, out: &mut BTreeSet<String>) {
    let ty = if s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        "int-or-string"
    } else {
        s.get("type").and_then(Value::as_str).unwrap_or("any")
    };
    let open = s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || s.get("additionalProperties") == Some(&Value::Bool(true));
    let mut enumeration: Vec<String> = s
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    enumeration.sort();
    out.insert(format!("{at} {ty} open={open} enum={enumeration:?}"));
    for (k, v) in s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        crd_paths(v, &format!("{at}.{k}"), out);
    }
    if let Some(v) = s.get("items") {
        crd_paths(v, &format!("{at}[]"), out);
    }
    if let Some(v @ Value::Object(_)) = s.get("additionalProperties") {
        crd_paths(v, &format!("{at}{{}}"), out);
    }
}

/// The same listing of an embedded schema.
fn arena_paths(a: &Arena, id: u32, at: &str, out: &mut BTreeSet<String>) {
    let n = &a.nodes[id as usize];
    let ty = match n.ty {
        Ty::Any if !n.props.is_empty() => "object",
        Ty::Any => "any",
        Ty::Object => "object",
        Ty::Array => "array",
        Ty::String => "string",
        Ty::Integer => "integer",
        Ty::Number => "number",
        Ty::Boolean => "boolean",
        Ty::IntOrString => "int-or-string",
        Ty::Quantity => "quantity",
    };
    let mut enumeration = n.enumeration.clone();
    enumeration.sort();
    out.insert(format!("{at} {ty} open={} enum={enumeration:?}", n.open));
    for (k, child) in &n.props {
        arena_paths(a, *child, &format!("{at}.{k}"), out);
    }
    if let Some(i) = n.items {
        arena_paths(a, i, &format!("{at}[]"), out);
    }
    if let Some(v) = n.additional {
        arena_paths(a, v, &format!("{at}{{}}"), out);
    }
}

#[test]
fn each_flink_kind_accepts_exactly_the_fields_its_crd_defines() {
    let Some(files) = crd_files() else { return };
    let flink = &structural::embedded().flink;
    for f in files {
        let crd = read_yaml(&f);
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
        for v in crd["spec"]["versions"].as_array().unwrap() {
            let version = v["name"].as_str().unwrap();
            let root = flink
                .roots
                .iter()
                .find(|r| r.kind == kind && r.version == version)
                .unwrap_or_else(|| panic!("{kind} {version} is embedded"));
            let mut want = BTreeSet::new();
            crd_paths(&v["schema"]["openAPIV3Schema"], "", &mut want);
            let mut got = BTreeSet::new();
            arena_paths(flink, root.node, "", &mut got);
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&want).take(5).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{kind} {version}: the CRD defines {missing:?} which the embedded schema lacks, \
                 and the embedded schema has {extra:?} which the CRD lacks"
            );
            // Each path accepted, and a field beside it that the CRD lacks refused.
            assert!(want.len() > 10, "{kind}: {} paths", want.len());
        }
    }
}

/// The objects of every file under `dir` that flink-lint reads.
fn corpus_objects(dir: &Path) -> Vec<(String, Value)> {
    let (files, missing) = discover::expand(&[dir.display().to_string()]);
    assert!(missing.is_empty());
    let mut inputs = Inputs::default();
    for f in files {
        let name = f.display().to_string();
        let Ok(text) = std::fs::read_to_string(&name) else {
            continue;
        };
        inputs.add(&name, &text);
    }
    inputs
        .objects
        .iter()
        .map(|o| (inputs.files[o.file].name.clone(), (*o.value).clone()))
        .collect()
}

/// The structural problems of `obj` with these CRDs before the embedded schemas.
fn problems(obj: &Value, crds: Option<&structural::Overrides>) -> Vec<structural::Found> {
    match structural::lookup(obj, crds, None) {
        structural::Lookup::Schema { arena, root, .. } => structural::validate(arena, root, obj),
        structural::Lookup::Unknown(_) => vec![structural::Found {
            pointer: String::new(),
            problem: structural::Problem::UnknownKind { known: vec![] },
        }],
        structural::Lookup::None => vec![],
    }
}

#[test]
fn the_corpus_gets_the_same_verdict_embedded_and_with_the_real_crds() {
    let (Some(dir), Some(files)) = (shared_corpus::corpus(""), crd_files()) else {
        return;
    };
    let crds: Vec<Value> = files.iter().map(|f| read_yaml(f)).collect();
    let overrides = structural::Overrides::from_objects(&crds);
    assert_eq!(overrides.arenas.len(), 4);
    let objects = corpus_objects(&dir);
    let mut flink = 0;
    for (file, obj) in &objects {
        if obj["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("flink.apache.org/"))
        {
            flink += 1;
        }
        assert_eq!(
            problems(obj, None),
            problems(obj, Some(&overrides)),
            "{file}: {}",
            obj["metadata"]["name"]
        );
    }
    assert!(flink > 20, "the corpus has {flink} Flink resources");
}

#[test]
fn the_corpus_structural_errors_are_found_with_did_you_mean() {
    let Some(dir) = shared_corpus::corpus("") else {
        return;
    };
    let objects = corpus_objects(&dir);
    let mut seen = BTreeSet::new();
    for (_, obj) in &objects {
        for f in problems(obj, None) {
            let v = obj.pointer(&f.pointer);
            match (&f.problem, f.pointer.as_str()) {
                (structural::Problem::NotAllowed { suggestion, .. }, "/spec/flinkVersion")
                    if v == Some(&Value::from("v1_19.1")) =>
                {
                    assert_eq!(suggestion.as_deref(), Some("v1_19"));
                    seen.insert("flinkVersion v1_19.1");
                }
                (structural::Problem::NotAllowed { allowed, .. }, "/spec/mode") => {
                    assert_eq!(allowed, &["native", "standalone"]);
                    seen.insert(if v == Some(&Value::from("SessionMode")) {
                        "mode SessionMode"
                    } else {
                        "mode application"
                    });
                }
                (structural::Problem::UnknownField { field, suggestion }, _)
                    if field == "className" =>
                {
                    assert_eq!(suggestion.as_deref(), Some("entryClass"));
                    seen.insert("job.className");
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "flinkVersion v1_19.1",
            "job.className",
            "mode SessionMode",
            "mode application"
        ]
    );
}

#[test]
fn core_kinds_agree_with_kubernetes_validate_on_the_corpus() {
    let (Some(dir), Some(_)) = (shared_corpus::corpus(""), kubernetes_validate_schemas()) else {
        return;
    };
    let objects: Vec<(String, Value)> = corpus_objects(&dir)
        .into_iter()
        .filter(|(_, o)| {
            matches!(
                (o["apiVersion"].as_str(), o["kind"].as_str()),
                (Some("apps/v1"), Some("Deployment")) | (Some("v1"), Some("Service" | "ConfigMap"))
            )
        })
        .collect();
    assert!(objects.len() > 20, "{} core objects", objects.len());
    // The corpus is valid; mistakes made in copies of its first Deployment and Service must be
    // refused by both (so the agreement is not only on "valid").
    let mut objects = objects;
    let broken = broken_copies(&objects);
    assert_eq!(broken.len(), 5);
    objects.extend(broken);
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, (_, obj)) in objects.iter().enumerate() {
        let p = tmp.path().join(format!("{i:04}.json"));
        std::fs::write(&p, serde_json::to_string(obj).unwrap()).unwrap();
        paths.push(p);
    }
    // One run for all files: it prints one line per file, naming it.
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--no-warn", "-k", KUBERNETES_VERSION])
        .args(&paths)
        .output()
        .or_else(|_| {
            Command::new("python3")
                .args(["-m", "kubernetes_validate", "--strict", "--no-warn", "-k"])
                .arg(KUBERNETES_VERSION)
                .args(&paths)
                .output()
        })
        .expect("kubernetes-validate runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let mut disagree = Vec::new();
    for (i, (file, obj)) in objects.iter().enumerate() {
        let name = format!("{i:04}.json");
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(&name)).collect();
        let theirs_valid = lines
            .iter()
            .any(|l| l.starts_with("INFO") && l.contains(" passed "));
        assert!(
            theirs_valid || lines.iter().any(|l| l.starts_with("ERROR")),
            "kubernetes-validate said nothing clear about {name}: {lines:?}\n{text}"
        );
        let ours = problems(obj, None);
        if file.contains(" with /") {
            assert!(!ours.is_empty() && !theirs_valid, "{file}: both refuse it");
        }
        if theirs_valid != ours.is_empty() {
            disagree.push(format!(
                "{file} {}/{}: kubernetes-validate {lines:?}, flink-lint {ours:?}",
                obj["kind"], obj["metadata"]["name"]
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// The webhook does not run the structural rules (the API server validates what it admits),
/// so no fix may make an object structurally invalid: every fixture of a fixable rule, fixed
/// with every fix (safe and unsafe, objects created too), has no structural problem its
/// original lacked, and the objects fixes create have none.
#[test]
fn no_fix_makes_an_object_structurally_invalid() {
    use flink_admission::engine::{Engine, Subject};
    let fixtures = repo("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let (mut fixed, mut files) = (0, 0);
    for dir in dirs {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        // Fixable rules are those with a fixed*.yaml; each of their fixtures is fixed here.
        if !names.iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("fixed")
        }) {
            continue;
        }
        for path in names {
            let (text, header) = header::read(&path);
            let engine = Engine::embedded(header.settings(Some(&path))).unwrap();
            let mut inputs = Inputs::default();
            inputs.add(&path.display().to_string(), &text);
            let world = inputs.world(header.complete_world);
            files += 1;
            for (i, obj) in world.objects().iter().enumerate() {
                let view = world.view(i);
                let subject = Subject::offline_shared(obj, &view);
                let out = engine.fix_with(&subject, None, true, true);
                let before = problems(obj, None);
                if out.object != **obj {
                    fixed += 1;
                }
                let new: Vec<_> = problems(&out.object, None)
                    .into_iter()
                    .filter(|p| !before.contains(p))
                    .collect();
                assert!(
                    new.is_empty(),
                    "{}: the fixes ({:?}) make {new:?}",
                    path.display(),
                    out.ops
                );
                for created in &out.created {
                    let p = problems(created, None);
                    assert!(
                        p.is_empty(),
                        "{}: a fix creates {created} with {p:?}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(
        files > 20 && fixed > 20,
        "{files} fixtures, {fixed} objects fixed"
    );
}

fn flink_lint(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("flink-lint")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const USER_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: flinkdeployments.flink.apache.org}
spec:
  group: flink.apache.org
  names: {kind: FlinkDeployment, plural: flinkdeployments}
  scope: Namespaced
  versions:
  - name: v1beta2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              image: {type: string}
              tuning: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const V1BETA2: &str = "apiVersion: flink.apache.org/v1beta2
kind: FlinkDeployment
metadata: {name: next}
spec:
  image: flink:2.0
  tuning: {anything: 1}
  flinkVersion: v2_0
";

#[test]
fn the_users_crds_replace_the_embedded_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let crd = dir.path().join("crd.yaml");
    std::fs::write(&crd, USER_CRD).unwrap();
    let obj = dir.path().join("app").join("next.yaml");
    std::fs::create_dir_all(obj.parent().unwrap()).unwrap();
    std::fs::write(&obj, V1BETA2).unwrap();
    let (crd, obj) = (crd.display().to_string(), obj.display().to_string());
    let only = "--select=FLK01";
    // Embedded: v1beta2 is not a version the operator's CRDs define.
    let (code, out, _) = flink_lint(&[only, "--format", "json", &obj]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FLK015"), "{out}");
    assert!(
        out.contains("known: FlinkBlueGreenDeployment flink.apache.org/v1beta1"),
        "{out}"
    );
    // With --crd: the user's schema, where flinkVersion is not a field.
    let (code, out, _) = flink_lint(&[only, "--format", "json", "--crd", &crd, &obj]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("FLK015"), "{out}");
    assert!(
        out.contains(
            "spec.flinkVersion is not a field of FlinkDeployment flink.apache.org/v1beta2"
        ),
        "{out}"
    );
    assert!(!out.contains("tuning"), "an open subtree stays open: {out}");
    // A CRD among the linted files counts the same.
    let (code, out, _) = flink_lint(&[only, "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("FLK015"), "{out}");
    assert!(out.contains("spec.flinkVersion is not a field"), "{out}");
    // A --crd file without a CRD, or one that does not read, is bad input.
    let (code, _, err) = flink_lint(&[only, "--crd", &obj, &obj]);
    assert_eq!(code, 2);
    assert!(err.contains("no CustomResourceDefinition in it"), "{err}");
    let (code, _, err) = flink_lint(&[only, "--crd", "/nonexistent/crd.yaml", &obj]);
    assert_eq!(code, 2);
    assert!(err.contains("--crd /nonexistent/crd.yaml"), "{err}");
}

/// Copies of the first Deployment and Service of `objects`, each with one structural mistake.
fn broken_copies(objects: &[(String, Value)]) -> Vec<(String, Value)> {
    let first = |kind: &str| {
        objects
            .iter()
            .find(|(_, o)| o["kind"] == kind)
            .map(|(_, o)| o.clone())
            .unwrap()
    };
    let edits: [(&str, &str, Value); 5] = [
        (
            "Deployment",
            "/spec/template/spec/containers/0/imagePullPolice",
            "Always".into(),
        ),
        ("Deployment", "/spec/replicas", "2".into()),
        (
            "Deployment",
            "/spec/template/spec/containers/0/ports",
            serde_json::json!({"containerPort": 1}),
        ),
        ("Service", "/spec/ports/0/port", "http".into()),
        (
            "Service",
            "/spec/selectors",
            serde_json::json!({"app": "x"}),
        ),
    ];
    edits
        .into_iter()
        .map(|(kind, at, value)| {
            let mut o = first(kind);
            let (parent, key) = at.rsplit_once('/').unwrap();
            o.pointer_mut(parent).unwrap()[key] = value;
            (format!("{kind} with {at}"), o)
        })
        .collect()
}
