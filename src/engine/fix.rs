//! Fixes as RFC 6902 operations: materialised against the actual object (missing parents are
//! created by the operation itself, so a patch never points below a node that does not exist)
//! and applied with `json-patch`.

use serde_json::{Map, Value};

use super::report::Op;

/// Split a JSON pointer into unescaped reference tokens.
pub fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(crate::flink::object::unescape_token)
        .collect()
}

/// Join reference tokens into a JSON pointer.
pub fn join(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", crate::flink::object::escape_token(t)))
        .collect()
}

/// Rewrite `op` so that it applies to `doc`: an `add` under a missing parent becomes an `add`
/// of the nearest missing ancestor holding the nested value; a `replace` of a missing node
/// becomes an `add`; a `remove` of a missing node disappears.
pub fn materialize(doc: &Value, op: &Op) -> Option<Op> {
    match op {
        Op::Remove { path } => doc.pointer(path).map(|_| op.clone()),
        Op::Replace { path, value } | Op::Add { path, value } => {
            if matches!(op, Op::Replace { .. }) && doc.pointer(path).is_some() {
                return Some(op.clone());
            }
            let toks = tokens(path);
            // Find the deepest existing ancestor.
            let mut depth = toks.len();
            while depth > 0 && doc.pointer(&join(&toks[..depth - 1])).is_none() {
                depth -= 1;
            }
            if depth == 0 {
                return None; // not even the root's child exists: cannot happen for objects
            }
            // Parent of toks[depth-1] exists; wrap the value in maps for the missing levels.
            let mut nested = value.clone();
            for t in toks[depth..].iter().rev() {
                if t == "-" {
                    nested = Value::Array(vec![nested]);
                } else {
                    let mut m = Map::new();
                    m.insert(t.clone(), nested);
                    nested = Value::Object(m);
                }
            }
            let parent = doc.pointer(&join(&toks[..depth - 1]))?;
            if !(parent.is_object() || parent.is_array()) {
                return None;
            }
            Some(Op::Add {
                path: join(&toks[..depth]),
                value: nested,
            })
        }
    }
}

/// Apply operations in order, materialising each against the current state. Returns the
/// operations actually applied (an empty list leaves the document untouched).
pub fn apply(doc: &mut Value, ops: &[Op]) -> Result<Vec<Op>, String> {
    let mut applied = Vec::new();
    for op in ops {
        let Some(op) = materialize(doc, op) else {
            continue;
        };
        // Skip operations that would not change anything (keeps patches minimal).
        if let Op::Add { path, value } | Op::Replace { path, value } = &op
            && doc.pointer(path) == Some(value)
        {
            continue;
        }
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(vec![
            serde_json::to_value(&op).map_err(|e| e.to_string())?,
        ]))
        .map_err(|e| e.to_string())?;
        json_patch::patch(doc, &patch).map_err(|e| format!("{}: {e}", op.path()))?;
        applied.push(op);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn add_under_missing_parents_creates_them_in_one_op() {
        let doc = json!({"spec": {"containers": [{"name": "a"}]}});
        let op = Op::Add {
            path: "/spec/containers/0/resources/requests/cpu".into(),
            value: json!("1"),
        };
        assert_eq!(
            materialize(&doc, &op),
            Some(Op::Add {
                path: "/spec/containers/0/resources".into(),
                value: json!({"requests": {"cpu": "1"}})
            })
        );
    }

    #[test]
    fn apply_keeps_unknown_fields_and_skips_no_ops() {
        let mut doc =
            json!({"spec": {"x-unknown": {"keep": true}, "strategy": {"type": "Recreate"}}});
        let applied = apply(
            &mut doc,
            &[
                Op::Add {
                    path: "/spec/strategy".into(),
                    value: json!({"type": "Recreate"}),
                },
                Op::Replace {
                    path: "/spec/replicas".into(),
                    value: json!(1),
                },
                Op::Remove {
                    path: "/spec/missing".into(),
                },
            ],
        )
        .unwrap();
        assert_eq!(
            applied,
            vec![Op::Add {
                path: "/spec/replicas".into(),
                value: json!(1)
            }]
        );
        assert_eq!(doc["spec"]["x-unknown"], json!({"keep": true}));
        assert_eq!(doc["spec"]["replicas"], json!(1));
    }

    #[test]
    fn pointer_tokens_round_trip_escapes() {
        let t = tokens("/metadata/annotations/flink-lint.io~1ignore/a~0b");
        assert_eq!(t[2], "flink-lint.io/ignore");
        assert_eq!(t[3], "a~b");
        assert_eq!(join(&t), "/metadata/annotations/flink-lint.io~1ignore/a~0b");
    }
}
