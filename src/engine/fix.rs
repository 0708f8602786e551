//! Fixes as RFC 6902 operations: materialised against the actual object (missing parents are
//! created by the operation itself, so a patch never points below a node that does not exist)
//! and applied in place as RFC 6902 says. What [`apply`] returns is what a standard RFC 6902
//! implementation applies as it is to the object it was given: the webhook sends it, the linter
//! prints it (the tests apply it with the `json-patch` crate and compare).

use serde_json::{Map, Value};

use super::report::Op;
use crate::flink::pointer::{Pointer as _, join, list_index, tokens, unescape};

/// An operation that cannot be applied to the object: it would have to create a node under a
/// scalar, guess whether a new level is a list or a map, or index past the end of a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply {op} {path}: {reason}")]
pub struct FixError {
    pub op: &'static str,
    pub path: String,
    pub reason: String,
}

impl FixError {
    fn new(op: &Op, reason: impl Into<String>) -> FixError {
        FixError {
            op: op_name(op),
            path: op.path().to_string(),
            reason: reason.into(),
        }
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Add { .. } => "add",
        Op::Replace { .. } => "replace",
        Op::Remove { .. } => "remove",
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Rewrite `op` so that it applies as it is to `doc`:
/// - an `add` (or a `replace` of a missing node) under missing parents becomes one `add` of the
///   nearest missing ancestor holding the nested value; a `null` ancestor counts as missing
///   (Kubernetes reads `resources: null` as no resources) and is replaced;
/// - new levels are maps, or a one-element list for `-`; a list index on a new level is an
///   error (the object cannot say whether a list or a map is meant);
/// - a `replace` of a missing map member becomes an `add`; a `remove` of a missing node is
///   `None` (nothing to do).
///
/// Errors: a parent that is a scalar, a token that is not an index of an existing list, an
/// index past the end, or a path to the whole object.
pub fn materialize(doc: &Value, op: &Op) -> Result<Option<Op>, FixError> {
    let Some(toks) = tokens(op.path()) else {
        return Err(FixError::new(op, "the path is not a JSON pointer"));
    };
    let value = match op {
        Op::Remove { path } => return Ok(doc.at(path).map(|_| op.clone())),
        Op::Add { value, .. } | Op::Replace { value, .. } => value,
    };
    let Some((leaf, parents)) = toks.split_last() else {
        return Err(FixError::new(op, "a fix cannot replace the whole object"));
    };
    let mut node = doc;
    for (depth, t) in parents.iter().enumerate() {
        let child = match node {
            Value::Object(m) => m.get(t.as_str()),
            Value::Array(a) if t == "-" || list_index(t) == Some(a.len()) => None,
            Value::Array(a) => match list_index(t) {
                Some(i) if i < a.len() => a.get(i),
                _ => {
                    return Err(FixError::new(
                        op,
                        format!(
                            "'{t}' is not an index of the {}-element list at '{}'",
                            a.len(),
                            join(&toks[..depth])
                        ),
                    ));
                }
            },
            other => {
                return Err(FixError::new(
                    op,
                    format!("the object is {}, not a map", kind_of(other)),
                ));
            }
        };
        match child {
            Some(c @ (Value::Object(_) | Value::Array(_))) => node = c,
            Some(Value::Null) | None => {
                let nested = nest(op, &toks[depth + 1..], value.clone())?;
                return Ok(Some(Op::Add {
                    path: join(&toks[..=depth]),
                    value: nested,
                }));
            }
            Some(other) => {
                return Err(FixError::new(
                    op,
                    format!(
                        "'{}' is {}, not a map or a list",
                        join(&toks[..=depth]),
                        kind_of(other)
                    ),
                ));
            }
        }
    }
    match node {
        Value::Object(m) => Ok(Some(match op {
            Op::Replace { .. } if m.contains_key(leaf.as_str()) => op.clone(),
            _ => Op::Add {
                path: op.path().to_string(),
                value: value.clone(),
            },
        })),
        Value::Array(a) => {
            let i = if leaf == "-" {
                Some(a.len())
            } else {
                list_index(leaf)
            };
            match (op, i) {
                (Op::Replace { .. }, Some(i)) if i < a.len() => Ok(Some(op.clone())),
                (Op::Add { .. }, Some(i)) if i <= a.len() => Ok(Some(op.clone())),
                _ => Err(FixError::new(
                    op,
                    format!(
                        "'{leaf}' is not an index of the {}-element list at '{}'",
                        a.len(),
                        join(parents)
                    ),
                )),
            }
        }
        other => Err(FixError::new(
            op,
            format!("the object is {}, not a map", kind_of(other)),
        )),
    }
}

/// The value to add at a new node so that `below` (the tokens under it) leads to `value`.
fn nest(op: &Op, below: &[String], value: Value) -> Result<Value, FixError> {
    let mut nested = value;
    for t in below.iter().rev() {
        if t == "-" {
            nested = Value::Array(vec![nested]);
        } else if list_index(t).is_some() {
            return Err(FixError::new(
                op,
                format!("'{t}' would be an index into a list that does not exist"),
            ));
        } else {
            let mut m = Map::new();
            m.insert(t.clone(), nested);
            nested = Value::Object(m);
        }
    }
    Ok(nested)
}

/// Whether an `add`/`replace` of a map member would leave it as it is. (An `add` into a list
/// inserts, so it always changes something.)
fn is_noop(doc: &Value, op: &Op) -> bool {
    let (Op::Add { path, value } | Op::Replace { path, value }) = op else {
        return false;
    };
    let Some((parent, leaf)) = path.rsplit_once('/') else {
        return false;
    };
    doc.at(parent)
        .and_then(Value::as_object)
        .and_then(|m| m.get(unescape(leaf).as_ref()))
        == Some(value)
}

/// Apply operations in order, materialising each against the state the previous ones left.
/// Returns the operations actually applied: applied in order by any RFC 6902 implementation to the
/// `doc` as it was, they give the `doc` as it is now. All or nothing: on an error `doc` is left
/// untouched.
pub fn apply(doc: &mut Value, ops: &[Op]) -> Result<Vec<Op>, FixError> {
    // Applied in place; what each operation replaced or removed is kept so that an error puts
    // `doc` back as it was (no copy of the whole object for a fix of several operations).
    let mut applied = Vec::new();
    let mut undo: Vec<Op> = Vec::new();
    for op in ops {
        let step = materialize(doc, op).and_then(|m| match m {
            Some(m) if !is_noop(doc, &m) => {
                let inverse = inverse(doc, &m);
                apply_one(doc, &m).map(|()| Some((m, inverse)))
            }
            _ => Ok(None),
        });
        match step {
            Ok(Some((m, inverse))) => {
                applied.push(m);
                undo.push(inverse);
            }
            Ok(None) => {}
            Err(e) => {
                for back in undo.iter().rev() {
                    // Each inverse applies to the state its operation left: it cannot fail.
                    let _ = apply_one(doc, back);
                }
                return Err(e);
            }
        }
    }
    // A map the removals left empty goes too where an empty map means no map: a fix that
    // takes `runAsUser` out of `securityContext: {runAsUser: 9999}` leaves no
    // `securityContext: {}` behind. Judged after every operation, so that a fix which
    // removes a field and adds another to the same map keeps the map where it is.
    let removed: Vec<String> = applied
        .iter()
        .filter_map(|op| match op {
            Op::Remove { path } => Some(path.clone()),
            _ => None,
        })
        .collect();
    for path in removed {
        if let Some(empty) = emptied(doc, &path) {
            let op = Op::Remove {
                path: empty.clone(),
            };
            if apply_one(doc, &op).is_ok() {
                // The removals inside it are part of this one.
                let inside = format!("{empty}/");
                applied
                    .retain(|o| !(matches!(o, Op::Remove { .. }) && o.path().starts_with(&inside)));
                applied.push(op);
            }
        }
    }
    Ok(applied)
}

/// The outermost map that the removal of `removed` left empty, or holding only maps so left,
/// where an empty map is the same as none ([`crate::flink::object::empty_is_absent`]).
fn emptied(doc: &Value, removed: &str) -> Option<String> {
    let toks = tokens(removed)?;
    let mut cut = None;
    let mut end = toks.len().checked_sub(1)?;
    while end >= 1 {
        let held = match doc.at(&join(&toks[..end])) {
            Some(Value::Object(m)) => m,
            _ => break,
        };
        let only_the_cut = match cut {
            None => held.is_empty(),
            Some(_) => held.len() == 1 && held.contains_key(toks[end].as_str()),
        };
        if !only_the_cut || !crate::flink::object::empty_is_absent(&toks[end - 1]) {
            break;
        }
        cut = Some(end);
        end -= 1;
    }
    cut.map(|e| join(&toks[..e]))
}

/// The operation that undoes the materialised `op` on `doc` (taken before `op` is applied).
fn inverse(doc: &Value, op: &Op) -> Op {
    let path = op.path();
    let (parent, leaf) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let in_list = match doc.at(parent) {
        Some(Value::Array(items)) => Some(items.len()),
        _ => None,
    };
    match (op, in_list) {
        // An add into a list inserts (`-` appends): taking that element out undoes it.
        (Op::Add { .. }, Some(len)) => Op::Remove {
            path: if leaf == "-" {
                format!("{parent}/{len}")
            } else {
                path.to_string()
            },
        },
        // A removed element or member goes back where it was.
        (Op::Remove { .. }, _) => Op::Add {
            path: path.to_string(),
            value: doc.at(path).cloned().unwrap_or(Value::Null),
        },
        // A map member: put back what was there, or take out what was not.
        (_, _) => match doc.at(path) {
            Some(old) => Op::Replace {
                path: path.to_string(),
                value: old.clone(),
            },
            None => Op::Remove {
                path: path.to_string(),
            },
        },
    }
}

/// Apply one materialised operation in place (its parent exists: [`materialize`] saw to it).
fn apply_one(doc: &mut Value, op: &Op) -> Result<(), FixError> {
    let Some((parent, leaf)) = op.path().rsplit_once('/') else {
        return Err(FixError::new(op, "a fix cannot replace the whole object"));
    };
    let leaf = unescape(leaf);
    let Some(node) = doc.at_mut(parent) else {
        return Err(FixError::new(op, format!("'{parent}' does not exist")));
    };
    let missing = || FixError::new(op, format!("'{leaf}' does not exist at '{parent}'"));
    match (node, op) {
        (Value::Object(m), Op::Add { value, .. }) => {
            m.insert(leaf.into_owned(), value.clone());
        }
        (Value::Object(m), Op::Replace { value, .. }) => {
            *m.get_mut(leaf.as_ref()).ok_or_else(missing)? = value.clone();
        }
        (Value::Object(m), Op::Remove { .. }) => {
            // `shift_remove`: the members after it keep their order.
            m.shift_remove(leaf.as_ref()).ok_or_else(missing)?;
        }
        (Value::Array(items), op) => {
            let len = items.len();
            let index = match (op, leaf.as_ref()) {
                (Op::Add { .. }, "-") => Some(len),
                (Op::Add { .. }, t) => list_index(t).filter(|i| *i <= len),
                (_, t) => list_index(t).filter(|i| *i < len),
            };
            let Some(i) = index else {
                return Err(FixError::new(
                    op,
                    format!("'{leaf}' is not an index of the {len}-element list at '{parent}'"),
                ));
            };
            match op {
                Op::Add { value, .. } => items.insert(i, value.clone()),
                Op::Replace { value, .. } => items[i] = value.clone(),
                Op::Remove { .. } => {
                    items.remove(i);
                }
            }
        }
        (other, _) => {
            return Err(FixError::new(
                op,
                format!("'{parent}' is {}, not a map or a list", kind_of(other)),
            ));
        }
    }
    Ok(())
}

/// The operations that apply `ops` to `doc`, materialised (see [`apply`]); `doc` is not changed.
pub fn patch(doc: &Value, ops: &[Op]) -> Result<Vec<Op>, FixError> {
    if let [op @ (Op::Add { .. } | Op::Replace { .. })] = ops {
        // Materialised against `doc`, one operation applies as it is: no copy to try it on
        // (a removal may take an emptied map with it: `apply` says).
        return Ok(match materialize(doc, op)? {
            Some(m) if !is_noop(doc, &m) => vec![m],
            _ => Vec::new(),
        });
    }
    let mut copy = doc.clone();
    apply(&mut copy, ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_fix_that_fails_part_way_leaves_the_object_as_it_was() {
        let doc = json!({
            "metadata": {"labels": {"app": "flink", "tier": "jm"}},
            "spec": {"args": ["jobmanager", "--host"], "replicas": 2}
        });
        let add = |path: &str, value: Value| Op::Add {
            path: path.into(),
            value,
        };
        let fails = Op::Add {
            path: "/spec/replicas/x".into(),
            value: json!(1),
        };
        let before_failing: Vec<Vec<Op>> = vec![
            vec![add("/spec/args/1", json!("$(POD_IP)"))],
            vec![add("/spec/args/-", json!("x"))],
            vec![add("/spec/args/2", json!("y"))],
            vec![Op::Remove {
                path: "/spec/args/0".into(),
            }],
            vec![Op::Remove {
                path: "/metadata/labels/app".into(),
            }],
            vec![Op::Replace {
                path: "/spec/replicas".into(),
                value: json!(1),
            }],
            vec![add("/metadata/labels/tier", json!("x"))],
            vec![add("/metadata/labels/new", json!("x"))],
            vec![add("/spec/template/spec/volumes", json!([]))],
            vec![
                add("/spec/args/0", json!("a")),
                Op::Remove {
                    path: "/spec/args/2".into(),
                },
                add("/metadata/annotations/x", json!("y")),
                Op::Replace {
                    path: "/spec/args/1".into(),
                    value: json!("b"),
                },
            ],
        ];
        for mut ops in before_failing {
            ops.push(fails.clone());
            let mut d = doc.clone();
            assert!(apply(&mut d, &ops).is_err(), "{ops:?}");
            assert_eq!(d, doc, "{ops:?}");
            // Without the failing operation they apply, and their materialised form gives the
            // same object through json_patch.
            ops.pop();
            let mut d = doc.clone();
            let applied = apply(&mut d, &ops).unwrap();
            let mut by_patch = doc.clone();
            let p: json_patch::Patch =
                serde_json::from_value(serde_json::to_value(&applied).unwrap()).unwrap();
            json_patch::patch(&mut by_patch, &p).unwrap();
            assert_eq!(d, by_patch, "{ops:?}");
            assert_ne!(d, doc, "{ops:?}");
        }
    }

    #[test]
    fn add_under_missing_parents_creates_them_in_one_op() {
        let doc = json!({"spec": {"containers": [{"name": "a"}]}});
        let op = Op::Add {
            path: "/spec/containers/0/resources/requests/cpu".into(),
            value: json!("1"),
        };
        assert_eq!(
            materialize(&doc, &op),
            Ok(Some(Op::Add {
                path: "/spec/containers/0/resources".into(),
                value: json!({"requests": {"cpu": "1"}})
            }))
        );
    }

    fn add(path: &str, value: Value) -> Op {
        Op::Add {
            path: path.into(),
            value,
        }
    }

    #[test]
    fn a_null_parent_counts_as_missing_and_is_replaced() {
        let doc = json!({"c": {"resources": null}});
        assert_eq!(
            materialize(&doc, &add("/c/resources/requests/cpu", json!("1"))),
            Ok(Some(add("/c/resources", json!({"requests": {"cpu": "1"}}))))
        );
        let doc = json!({"c": {"resources": {"requests": null}}});
        assert_eq!(
            materialize(&doc, &add("/c/resources/requests/cpu", json!("1"))),
            Ok(Some(add("/c/resources/requests", json!({"cpu": "1"}))))
        );
    }

    #[test]
    fn new_levels_are_maps_or_appended_lists_never_guessed_indexes() {
        let doc = json!({"spec": {}});
        assert_eq!(
            materialize(&doc, &add("/spec/ports/-", json!({"port": 1}))),
            Ok(Some(add("/spec/ports", json!([{"port": 1}]))))
        );
        let e = materialize(&doc, &add("/spec/containers/0/name", json!("a"))).unwrap_err();
        assert!(e.reason.contains("'0'"), "{e}");
        // appending to an existing list, and a new element holding new maps
        let doc = json!({"spec": {"ports": [{"port": 1}]}});
        assert_eq!(
            materialize(&doc, &add("/spec/ports/-", json!({"port": 2}))),
            Ok(Some(add("/spec/ports/-", json!({"port": 2}))))
        );
        assert_eq!(
            materialize(&doc, &add("/spec/ports/1/name", json!("x"))),
            Ok(Some(add("/spec/ports/1", json!({"name": "x"}))))
        );
    }

    #[test]
    fn impossible_operations_are_errors_not_silently_skipped() {
        let doc = json!({"spec": {"ports": 5, "list": [1], "resources": "big"}});
        for op in [
            add("/spec/ports/-", json!(1)),
            add("/spec/resources/requests/cpu", json!("1")),
            add("/spec/list/3", json!(1)),
            add("/spec/list/name", json!(1)),
            add("/spec/list/01", json!(1)),
            Op::Replace {
                path: "/spec/list/1".into(),
                value: json!(1),
            },
            add("", json!({})),
        ] {
            let e = materialize(&doc, &op).expect_err(op.path());
            assert_eq!(e.path, op.path());
            assert!(!e.to_string().contains('\n'));
        }
        // all or nothing
        let mut d = doc.clone();
        let r = apply(
            &mut d,
            &[add("/spec/fine", json!(1)), add("/spec/ports/-", json!(1))],
        );
        assert!(r.is_err());
        assert_eq!(d, doc);
    }

    #[test]
    fn one_operation_applies_as_json_patch_applies_it() {
        let doc = json!({
            "a": {"b/c": [1, {"~d": true}], "x": null, "k": "v", "m": 2},
            "l": [0, 1, 2]
        });
        let ops = [
            add("/a/n", json!(1)),
            add("/a/k", json!("w")),
            add("/a/b~1c/1/~0d", json!(false)),
            add("/l/-", json!(3)),
            add("/l/0", json!(-1)),
            add("/l/3", json!(3)),
            add("/l/4", json!(4)),
            add("/l/01", json!(4)),
            add("/k/x", json!(1)),
            add("/a/k/x", json!(1)),
            add("/a/x/y", json!(1)),
            Op::Replace {
                path: "/a/k".into(),
                value: json!(7),
            },
            Op::Replace {
                path: "/a/nope".into(),
                value: json!(7),
            },
            Op::Replace {
                path: "/l/2".into(),
                value: json!(7),
            },
            Op::Replace {
                path: "/l/3".into(),
                value: json!(7),
            },
            Op::Replace {
                path: "/l/-".into(),
                value: json!(7),
            },
            Op::Remove {
                path: "/a/k".into(),
            },
            Op::Remove {
                path: "/a/nope".into(),
            },
            Op::Remove {
                path: "/l/1".into(),
            },
            Op::Remove {
                path: "/l/3".into(),
            },
            Op::Remove {
                path: "/l/-".into(),
            },
            Op::Remove {
                path: "/a/b~1c".into(),
            },
            Op::Remove { path: "".into() },
        ];
        for op in ops {
            let mut ours = doc.clone();
            let mine = apply_one(&mut ours, &op);
            let mut theirs = doc.clone();
            let p: json_patch::Patch =
                serde_json::from_value(serde_json::to_value([&op]).unwrap()).unwrap();
            let reference = json_patch::patch(&mut theirs, &p);
            assert_eq!(mine.is_ok(), reference.is_ok(), "{op:?}: {mine:?}");
            if mine.is_ok() {
                assert_eq!(ours, theirs, "{op:?}");
            } else {
                assert_eq!(ours, doc, "{op:?}: left as it was");
            }
        }
        // A removed member leaves the others in their order.
        let mut d = json!({"a": 1, "b": 2, "c": 3});
        apply_one(&mut d, &Op::Remove { path: "/a".into() }).unwrap();
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "c"]);
    }

    #[test]
    fn applied_ops_apply_with_json_patch_to_the_original() {
        let original = json!({"spec": {"c": [{"name": "a", "resources": null}]}});
        let mut doc = original.clone();
        let ops = apply(
            &mut doc,
            &[
                add("/spec/c/0/resources/requests/cpu", json!("1")),
                add("/spec/c/0/resources/requests/memory", json!("1Gi")),
                add("/spec/c/0/resources/limits/memory", json!("1Gi")),
                add("/spec/ports/-", json!({"port": 1})),
                add("/spec/ports/-", json!({"port": 2})),
                Op::Replace {
                    path: "/spec/x/y".into(),
                    value: json!(true),
                },
            ],
        )
        .unwrap();
        let mut again = original.clone();
        let p: json_patch::Patch =
            serde_json::from_value(serde_json::to_value(&ops).unwrap()).unwrap();
        json_patch::patch(&mut again, &p).unwrap();
        assert_eq!(again, doc);
        assert_eq!(doc["spec"]["ports"], json!([{"port": 1}, {"port": 2}]));
        assert_eq!(patch(&original, &[]), Ok(vec![]));
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
    fn a_removal_that_empties_a_security_context_removes_it() {
        let mut doc = json!({"spec": {"securityContext": {"runAsUser": 9999},
            "containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["X"]}}}],
            "volumes": [{"name": "v", "emptyDir": {"medium": "Memory"}}]}});
        let before = doc.clone();
        let ops = vec![
            Op::Remove {
                path: "/spec/securityContext/runAsUser".into(),
            },
            Op::Remove {
                path: "/spec/containers/0/securityContext/capabilities/add".into(),
            },
            Op::Remove {
                path: "/spec/volumes/0/emptyDir/medium".into(),
            },
        ];
        let applied = apply(&mut doc, &ops).unwrap();
        assert_eq!(
            doc,
            json!({"spec": {"containers": [{"name": "a"}],
                "volumes": [{"name": "v", "emptyDir": {}}]}})
        );
        assert_eq!(
            applied,
            vec![
                Op::Remove {
                    path: "/spec/volumes/0/emptyDir/medium".into()
                },
                Op::Remove {
                    path: "/spec/securityContext".into()
                },
                Op::Remove {
                    path: "/spec/containers/0/securityContext".into()
                },
            ]
        );
        let mut again = before;
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::to_value(&applied).unwrap()).unwrap();
        json_patch::patch(&mut again, &patch).unwrap();
        assert_eq!(again, doc);
    }

    #[test]
    fn a_map_refilled_by_the_same_fix_stays() {
        let mut doc = json!({"securityContext": {"runAsUser": 9999}});
        let ops = vec![
            Op::Remove {
                path: "/securityContext/runAsUser".into(),
            },
            Op::Add {
                path: "/securityContext/runAsNonRoot".into(),
                value: json!(true),
            },
        ];
        apply(&mut doc, &ops).unwrap();
        assert_eq!(doc, json!({"securityContext": {"runAsNonRoot": true}}));
    }

    #[test]
    fn the_empty_key_is_a_member_not_a_missing_slash() {
        // `//a` is the empty key, then `a` (it once lost the empty key and wrote `/a`).
        let mut doc = serde_json::json!({"a": 0});
        let op = Op::Add {
            path: "//a".into(),
            value: serde_json::json!(1),
        };
        let applied = apply(&mut doc, &[op]).unwrap();
        assert_eq!(doc, serde_json::json!({"a": 0, "": {"a": 1}}));
        let mut again = serde_json::json!({"a": 0});
        json_patch::patch(
            &mut again,
            &serde_json::from_value::<json_patch::Patch>(serde_json::to_value(&applied).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(again, doc, "the applied operations are standard RFC 6902");
        let bad = Op::Remove { path: "a".into() };
        assert!(
            apply(&mut doc, &[bad]).is_err(),
            "a path without '/' is refused"
        );
    }
}
