//! FLK003: values the API server or the operator would refuse, or read differently than
//! written, in the fields the other rules rely on. A value of the wrong type is reported here,
//! never read as "not set" by the rule that needs it.

use crate::flink::pointer::{self, Pointer as _};
use serde_json::Value;

use super::{Ctx, Native};
use crate::engine::Hit;
use crate::flink::object::{self, Class, CrKind};
use crate::flink::{kinds, quantity};

/// The integer fields (pointer, smallest allowed value) an object of this class carries.
fn integer_fields(obj: &Value, class: Class) -> Vec<(&'static str, i64)> {
    // The replica count where the kinds table has one: at least 1 for a FlinkDeployment's
    // JobManagers, at least 0 elsewhere.
    let replicas = kinds::find(object::group(obj), object::kind(obj)).and_then(|k| k.replicas);
    match class {
        Class::Resource(CrKind::FlinkDeployment) => replicas
            .map(|p| (p, 1))
            .into_iter()
            .chain([
                ("/spec/taskManager/replicas", 1),
                ("/spec/job/parallelism", 1),
            ])
            .collect(),
        Class::HorizontalPodAutoscaler => vec![("/spec/minReplicas", 0), ("/spec/maxReplicas", 1)],
        _ => {
            let mut fields: Vec<_> = replicas.map(|p| (p, 0)).into_iter().collect();
            if (object::group(obj), object::kind(obj)) == ("batch", "Job") {
                fields.push(("/spec/completions", 0));
            }
            fields
        }
    }
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        Value::Null => "null".into(),
    }
}

/// A 32-bit integer at least `min`, as the API server decodes `int32` fields.
fn integer_problem(v: &Value, min: i64) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Number(n) => match n.as_i64() {
            Some(i) if i < min => Some(format!("below the minimum {min}")),
            Some(i) if i > i64::from(i32::MAX) => Some("above the 32-bit limit 2147483647".into()),
            Some(_) => None,
            None if n.as_u64().is_some() => Some("above the 32-bit limit 2147483647".into()),
            None => {
                Some("not an integer (the API server refuses a decimal or exponent here)".into())
            }
        },
        Value::String(_) => Some("not an integer: unquote it".into()),
        _ => Some("not an integer".into()),
    }
}

/// FLK003: `check: native: invalid_value`.
pub(super) const INVALID_VALUE: Native = Native {
    args: &["field", "value", "problem"],
    run: invalid_value,
};

fn invalid_value(ctx: &Ctx<'_>) -> Vec<Hit> {
    let obj = ctx.obj;
    let mut hits = Vec::new();
    let hit = |at: String, v: &Value, problem: String| {
        Hit::at(at.clone())
            .arg("field", pointer::dotted(&at))
            .arg("value", describe(v))
            .arg("problem", problem)
    };
    for (ptr, min) in integer_fields(obj, ctx.class()) {
        if let Some(v) = obj.at(ptr)
            && let Some(problem) = integer_problem(v, min)
        {
            hits.push(hit(ptr.to_string(), v, problem));
        }
    }
    // Container resources, in every pod spec the object carries.
    for &(spec, node) in ctx.pod_specs() {
        for list in ["initContainers", "containers"] {
            let Some(cs) = node.get(list).and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in cs.iter().enumerate() {
                for part in ["requests", "limits"] {
                    let Some(m) = c
                        .get("resources")
                        .and_then(|r| r.get(part))
                        .and_then(Value::as_object)
                    else {
                        continue;
                    };
                    for (res, v) in m {
                        let at = format!(
                            "{spec}/{list}/{i}/resources/{part}/{}",
                            pointer::escape(res)
                        );
                        match quantity::quantity_from_json(v) {
                            Err(e) => hits.push(hit(at, v, e.to_string())),
                            Ok(q) if q.is_negative() => {
                                hits.push(hit(at, v, "negative: use a positive quantity".into()))
                            }
                            Ok(_) => {}
                        }
                    }
                }
            }
        }
    }
    // FlinkDeployment memory as the operator reads it.
    if ctx.class() == Class::Resource(CrKind::FlinkDeployment) {
        for ptr in [
            "/spec/jobManager/resource/memory",
            "/spec/taskManager/resource/memory",
        ] {
            match obj.at(ptr) {
                Some(Value::String(s)) => {
                    if let Err(e) = quantity::parse_operator_memory(s) {
                        hits.push(hit(
                            ptr.to_string(),
                            &Value::String(s.clone()),
                            e.to_string(),
                        ));
                    }
                }
                Some(
                    v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_)),
                ) => hits.push(hit(
                    ptr.to_string(),
                    v,
                    "not a string: write the size quoted, such as \"2048m\"".into(),
                )),
                _ => {}
            }
        }
        for ptr in [
            "/spec/jobManager/resource/cpu",
            "/spec/taskManager/resource/cpu",
        ] {
            match obj.at(ptr) {
                Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f <= 0.0) => hits.push(hit(
                    ptr.to_string(),
                    &Value::Number(n.clone()),
                    "not positive: use a number of cores such as 1 or 0.5".into(),
                )),
                Some(
                    v @ (Value::String(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_)),
                ) => hits.push(hit(
                    ptr.to_string(),
                    v,
                    "not a number: the operator reads cpu as a number of cores (1, 0.5)".into(),
                )),
                _ => {}
            }
        }
    }
    hits
}
