//! Family 5: what the Flink Kubernetes Operator expects of its resources.

use crate::flink::pointer::{self, Pointer as _};
use serde_json::{Value, json};

use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::object;

/// The label the operator's own mutating webhook puts on a FlinkSessionJob: the name of the
/// session cluster (`spec.deploymentName`) it runs on.
pub const TARGET_SESSION: &str = "target.session";

/// FLK501: `check: native: session_job_target`.
pub(super) const SESSION_JOB_TARGET: Native = Native {
    args: &["problem", "deployment"],
    run: session_job_target,
};

/// FLK501: a FlinkSessionJob whose `target.session` label is missing or is not its
/// `spec.deploymentName`. The fix sets the label, as the operator's webhook does, when the name
/// is a label value the API server accepts (no other FlinkDeployment name can exist anyway).
fn session_job_target(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(deployment) = object::str_at(ctx.obj, "/spec/deploymentName") else {
        return Vec::new();
    };
    let labels = ctx.obj.at("/metadata/labels");
    let current = labels
        .and_then(|l| l.get(TARGET_SESSION))
        .and_then(Value::as_str);
    if current == Some(deployment) {
        return Vec::new();
    }
    let path = format!("/metadata/labels/{}", pointer::escape(TARGET_SESSION));
    let at = if labels.is_some() {
        "/metadata/labels".to_string()
    } else {
        "/metadata".to_string()
    };
    let fix = if object::is_label_value(deployment) {
        vec![Op::Add {
            path,
            value: json!(deployment),
        }]
    } else {
        Vec::new()
    };
    vec![
        Hit::at(at)
            .arg("deployment", deployment)
            .arg(
                "problem",
                match current {
                    None => "is missing".to_string(),
                    Some(other) => format!("is {other}"),
                },
            )
            .fix(fix),
    ]
}
