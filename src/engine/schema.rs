//! Rules whose check is a JSON Schema: the schema is applied to each target node of the object
//! (the object, each pod spec, each container of every list); every failing node is one hit,
//! at the first failing field (the node itself when a required field is missing).

use crate::flink::object::Pointer as _;
use serde_json::Value;

use super::Hit;
use super::fix::{join, tokens};
use super::report::Op;
use super::rule::{Each, FixSpec};
use crate::flink::object;

pub(super) fn run(
    validator: &jsonschema::Validator,
    each: Each,
    fix: Option<&FixSpec>,
    obj: &Value,
) -> Vec<Hit> {
    let mut nodes: Vec<(String, Option<String>)> = Vec::new();
    match each {
        Each::Object => nodes.push((String::new(), None)),
        Each::PodSpec => nodes.extend(object::pod_specs(obj).into_iter().map(|p| (p, None))),
        Each::Container | Each::PodSpecAndContainer => {
            for spec in object::pod_specs(obj) {
                if each == Each::PodSpecAndContainer {
                    nodes.push((spec.clone(), None));
                }
                for c in object::all_containers(obj, &spec) {
                    nodes.push((c.pointer(), Some(c.name().to_string())));
                }
            }
        }
    }
    let mut hits = Vec::new();
    for (pointer, container) in nodes {
        let Some(node) = obj.at(&pointer) else {
            continue;
        };
        // Every failing field of the node, once each (a pod spec check may fail in several
        // containers).
        let mut seen = std::collections::BTreeSet::new();
        for err in validator.iter_errors(node) {
            let rel = err.instance_path().to_string();
            if !seen.insert(rel.clone()) {
                continue;
            }
            let at = format!("{pointer}{rel}");
            let mut hit = Hit::at(at).arg("value", short(err.instance()));
            if let Some(spec) = fix {
                hit = hit.fix(declared_ops(spec, &pointer, &rel));
            }
            // `{where}`: "container 'x'" or "the pod", for messages of rules on both levels.
            let name = container
                .clone()
                .or_else(|| container_in(obj, &pointer, &rel));
            match name {
                Some(name) => {
                    hit = hit
                        .arg("where", format!("container '{name}'"))
                        .arg("container", name)
                }
                None => hit = hit.arg("where", "the pod"),
            }
            hits.push(hit);
        }
    }
    hits
}

/// The name of the container a pod-spec-relative path `rel` is inside, if any.
fn container_in(obj: &Value, pod_spec: &str, rel: &str) -> Option<String> {
    let t = tokens(rel);
    match t.as_slice() {
        [list, index, ..]
            if matches!(
                list.as_str(),
                "containers" | "initContainers" | "ephemeralContainers"
            ) =>
        {
            object::str_at(obj, &format!("{pod_spec}/{list}/{index}/name")).map(str::to_string)
        }
        _ => None,
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The declared operations of a fix, with paths made absolute under the node at `base`. A `*`
/// token takes the token at the same position of the failing field's path `rel` (so
/// `/*/*/securityContext/allowPrivilegeEscalation` in a pod spec check fixes the container that
/// failed, whichever list it is in).
fn declared_ops(spec: &FixSpec, base: &str, rel: &str) -> Vec<Op> {
    let Some(ops) = &spec.ops else {
        return Vec::new();
    };
    let base_tokens = tokens(base);
    let rel_tokens = tokens(rel);
    ops.iter()
        .filter_map(|op| {
            let mut op: Op = serde_json::from_value(op.clone()).ok()?;
            let mut full = base_tokens.clone();
            for (i, t) in tokens(op.path()).into_iter().enumerate() {
                if t == "*" {
                    full.push(rel_tokens.get(i)?.clone());
                } else {
                    full.push(t);
                }
            }
            let abs = join(&full);
            match &mut op {
                Op::Add { path, .. } | Op::Replace { path, .. } | Op::Remove { path } => {
                    *path = abs
                }
            }
            Some(op)
        })
        .collect()
}
