//! Checks about the findings themselves rather than about Flink: suppressions that cannot be
//! honoured.

use super::{Ctx, Native};
use crate::engine::Hit;
use crate::engine::suppress::ANNOTATION;
use crate::flink::pointer;

/// FLK001: `check: native: invalid_ignore`.
pub(super) const INVALID_IGNORE: Native = Native {
    args: &["entry", "problem"],
    run: invalid_ignore,
};

/// A `flink-lint.io/ignore` entry without a reason, or naming no rule: it silences nothing.
fn invalid_ignore(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.ignores()
        .1
        .iter()
        .map(|bad| {
            Hit::at(pointer::child("/metadata/annotations", ANNOTATION))
                .arg("entry", &bad.entry)
                .arg("problem", &bad.problem)
        })
        .collect()
}
