//! Rules whose check is a JSON Schema: the schema is applied to each target node of the object
//! (the object, each pod spec, each container); every failing node is one hit.

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
        Each::Container => {
            for spec in object::pod_specs(obj) {
                for c in object::containers(obj, &spec) {
                    nodes.push((c.pointer(), Some(c.name().to_string())));
                }
            }
        }
    }
    let mut hits = Vec::new();
    for (pointer, container) in nodes {
        let Some(node) = obj.pointer(&pointer) else {
            continue;
        };
        let Some(err) = validator.iter_errors(node).next() else {
            continue;
        };
        let at = format!("{pointer}{}", err.instance_path());
        let mut hit = Hit::at(at).arg("value", short(err.instance()));
        if let Some(spec) = fix {
            hit = hit.fix(declared_ops(spec, &pointer));
        }
        if let Some(name) = container {
            hit = hit.arg("container", name);
        }
        hits.push(hit);
    }
    hits
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

/// The declared operations of a fix, with paths made absolute under the node at `base`.
fn declared_ops(spec: &FixSpec, base: &str) -> Vec<Op> {
    let Some(ops) = &spec.ops else {
        return Vec::new();
    };
    let base_tokens = tokens(base);
    ops.iter()
        .filter_map(|op| {
            let mut op: Op = serde_json::from_value(op.clone()).ok()?;
            let rel = tokens(op.path());
            let mut full = base_tokens.clone();
            full.extend(rel);
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
