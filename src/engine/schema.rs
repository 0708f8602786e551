//! Rules whose check is a JSON Schema: the schema is applied to each target node of the object
//! (the object, each pod spec, each container of every list); every failing node is one hit,
//! at the first failing field (the node itself when a required field is missing).

use serde_json::Value;

use super::Hit;
use super::report::Op;
use super::rule::{Each, FixSpec};
use crate::flink::object;
use crate::flink::pointer::{join, tokens};

/// One node a schema may be applied to: its pointer, the node, and for a container its name.
pub(super) struct Node<'a> {
    pointer: String,
    value: &'a Value,
    container: Option<&'a str>,
}

/// The nodes of one object that schema rules look at, found once per check: each pod spec
/// followed by its containers, in order.
pub(super) struct Nodes<'a> {
    object: Node<'a>,
    /// Pod specs and containers, in the order the rules visit them.
    nested: Vec<Node<'a>>,
}

impl<'a> Nodes<'a> {
    pub(super) fn of(obj: &'a Value) -> Nodes<'a> {
        let mut nested = Vec::new();
        for (spec, value) in object::pod_spec_nodes(obj) {
            if value.is_null() {
                continue;
            }
            // The containers as `object::all_containers` lists them.
            let mut containers = Vec::new();
            for list in object::CONTAINER_LISTS {
                let items = value.get(list).and_then(Value::as_array);
                for (i, c) in items.into_iter().flatten().enumerate() {
                    containers.push(Node {
                        pointer: format!("{spec}/{list}/{i}"),
                        value: c,
                        container: Some(object::str_at(c, "/name").unwrap_or("")),
                    });
                }
            }
            nested.push(Node {
                pointer: spec.to_string(),
                value,
                container: None,
            });
            nested.extend(containers);
        }
        Nodes {
            object: Node {
                pointer: String::new(),
                value: obj,
                container: None,
            },
            nested,
        }
    }

    fn each(&self, each: Each) -> impl Iterator<Item = &Node<'a>> {
        let object = (each == Each::Object).then_some(&self.object);
        let nested = self.nested.iter().filter(move |n| match each {
            Each::Object => false,
            Each::PodSpec => n.container.is_none(),
            Each::Container => n.container.is_some(),
            Each::PodSpecAndContainer => true,
        });
        object.into_iter().chain(nested)
    }
}

pub(super) fn run(
    validator: &jsonschema::Validator,
    each: Each,
    fix: Option<&FixSpec>,
    obj: &Value,
    nodes: &Nodes<'_>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    for n in nodes.each(each) {
        let (pointer, node) = (&n.pointer, n.value);
        // Most nodes pass: answer those without collecting errors.
        if validator.is_valid(node) {
            continue;
        }
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
                hit = hit.fix(declared_ops(spec, pointer, &rel));
            }
            // `{where}`: "container 'x'" or "the pod", for messages of rules on both levels.
            let name = n
                .container
                .map(str::to_string)
                .or_else(|| container_in(obj, pointer, &rel));
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
    let t = tokens(rel)?;
    match t.as_slice() {
        [list, index, ..] if object::CONTAINER_LISTS.contains(&list.as_str()) => {
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
    let (Some(base_tokens), Some(rel_tokens)) = (tokens(base), tokens(rel)) else {
        return Vec::new();
    };
    ops.iter()
        .filter_map(|op| {
            let mut op = op.clone();
            let mut full = base_tokens.clone();
            for (i, t) in tokens(op.path())?.into_iter().enumerate() {
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
