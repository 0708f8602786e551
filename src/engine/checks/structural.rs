//! FLK010–FLK015: each object against the schema of its kind, as the API server checks it with
//! strict field validation (`engine::structural` walks it once per object; each rule reports
//! its kind of problem). The user's CRDs (`--crd`, then those in the linted set) win over the
//! embedded schemas.

use serde_json::Value;

use super::{Ctx, Native};
use crate::engine::Hit;
use crate::engine::structural::{self as schema, Found, Lookup, Problem};
use crate::flink::pointer::{self, Pointer as _};

/// What the walk found for one subject.
#[derive(Debug, Default)]
pub(super) enum Outcome {
    /// Checked against the schema of `label` (`FlinkDeployment flink.apache.org/v1beta1`).
    Checked { label: String, found: Vec<Found> },
    /// A kind or version of flink.apache.org that no schema defines; the known ones.
    Unknown(Vec<(String, String)>),
    /// No schema for this kind: not checked.
    #[default]
    Skipped,
}

impl Ctx<'_> {
    /// The subject's structural problems, found once for all the structural rules. Where FLK003
    /// (invalid-value) reports a field, the problem is its: one finding per mistake.
    fn structural(&self) -> &Outcome {
        self.structural.get_or_init(|| {
            let first = Some(&self.settings.crds).filter(|o| !o.arenas.is_empty());
            match schema::lookup(self.obj, first, self.subject.context.crds()) {
                Lookup::Schema { arena, root, label } => {
                    let mut found = schema::validate(arena, root, self.obj);
                    if !found.is_empty() && self.reports("FLK003") {
                        let theirs: Vec<String> = (super::values::INVALID_VALUE.run)(self)
                            .into_iter()
                            .map(|h| h.pointer)
                            .collect();
                        found.retain(|f| !theirs.iter().any(|t| within(&f.pointer, t)));
                    }
                    Outcome::Checked { label, found }
                }
                Lookup::Unknown(known) => Outcome::Unknown(known),
                Lookup::None => Outcome::Skipped,
            }
        })
    }

    /// Whether the rule `id` is on under these settings.
    fn reports(&self, id: &str) -> bool {
        self.registry
            .rules()
            .iter()
            .find(|r| r.id == id)
            .is_some_and(|r| self.settings.effective_severity(r).is_some())
    }

    /// The hits `hit` makes of the problems it takes (given the label of the schema).
    fn each(&self, hit: impl Fn(&str, &Found) -> Option<Hit>) -> Vec<Hit> {
        match self.structural() {
            Outcome::Checked { label, found } => {
                found.iter().filter_map(|f| hit(label, f)).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Whether `p` is `parent` or below it.
fn within(p: &str, parent: &str) -> bool {
    p.strip_prefix(parent)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A pointer as a field path for messages; the object itself is "the object".
fn field(at: &str) -> String {
    if at.is_empty() {
        "the object".into()
    } else {
        pointer::dotted(at)
    }
}

fn hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

/// FLK010: `check: native: unknown_field`.
pub(super) const UNKNOWN_FIELD: Native = Native {
    args: &["field", "kind", "hint"],
    run: unknown_field,
};

/// A field the schema of the kind does not define (the API server rejects or drops it).
fn unknown_field(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.each(|label, f| match &f.problem {
        Problem::UnknownField { suggestion, .. } => Some(
            Hit::at(&f.pointer)
                .arg("field", field(&f.pointer))
                .arg("kind", label)
                .arg("hint", hint(suggestion)),
        ),
        _ => None,
    })
}

/// FLK011: `check: native: wrong_type`.
pub(super) const WRONG_TYPE: Native = Native {
    args: &["field", "value", "expected"],
    run: wrong_type,
};

/// A value of the wrong type (a string where a number goes, a mapping where a list goes).
fn wrong_type(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.each(|_, f| match &f.problem {
        Problem::WrongType { expected } => Some(
            Hit::at(&f.pointer)
                .arg("field", field(&f.pointer))
                .arg("value", shown(ctx.obj.at(&f.pointer)))
                .arg("expected", expected),
        ),
        _ => None,
    })
}

/// FLK012: `check: native: value_not_allowed`.
pub(super) const VALUE_NOT_ALLOWED: Native = Native {
    args: &["field", "value", "allowed", "hint"],
    run: value_not_allowed,
};

/// A value outside the enum the schema allows.
fn value_not_allowed(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.each(|_, f| match &f.problem {
        Problem::NotAllowed {
            allowed,
            suggestion,
        } => Some(
            Hit::at(&f.pointer)
                .arg("field", field(&f.pointer))
                .arg("value", shown(ctx.obj.at(&f.pointer)))
                .arg("allowed", allowed.join(", "))
                .arg("hint", hint(suggestion)),
        ),
        _ => None,
    })
}

/// FLK013: `check: native: missing_required_field`.
pub(super) const MISSING_REQUIRED_FIELD: Native = Native {
    args: &["field", "kind"],
    run: missing_required_field,
};

/// A field the schema requires is missing (reported at the mapping that lacks it).
fn missing_required_field(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.each(|label, f| match &f.problem {
        Problem::Missing { field: name } => Some(
            Hit::at(&f.pointer)
                .arg("field", field(&pointer::child(&f.pointer, name)))
                .arg("kind", label),
        ),
        _ => None,
    })
}

/// FLK014: `check: native: invalid_quantity`.
pub(super) const INVALID_QUANTITY: Native = Native {
    args: &["field", "value", "reason"],
    run: invalid_quantity,
};

/// A string where a Kubernetes quantity goes that the quantity grammar refuses.
fn invalid_quantity(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.each(|_, f| match &f.problem {
        Problem::BadQuantity { reason } => Some(
            Hit::at(&f.pointer)
                .arg("field", field(&f.pointer))
                .arg("value", shown(ctx.obj.at(&f.pointer)))
                .arg("reason", reason),
        ),
        _ => None,
    })
}

/// FLK015: `check: native: unknown_flink_kind`.
pub(super) const UNKNOWN_FLINK_KIND: Native = Native {
    args: &["what", "known", "hint"],
    run: unknown_flink_kind,
};

/// A kind or version of flink.apache.org that neither the operator's CRDs nor the user's define.
fn unknown_flink_kind(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Outcome::Unknown(known) = ctx.structural() else {
        return Vec::new();
    };
    let text = |p: &str| {
        ctx.obj
            .at(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (text("/apiVersion"), text("/kind"));
    let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
    // Point at the kind when it is the unknown part, else at the version.
    let kind_known = names.contains(&kind.as_str());
    let at = if kind_known { "/apiVersion" } else { "/kind" };
    let suggestion = if kind_known {
        None
    } else {
        schema::did_you_mean(&kind, names.iter().copied())
    };
    let known: Vec<String> = known
        .iter()
        .map(|(k, v)| format!("{k} {}/{v}", schema::FLINK_GROUP))
        .collect();
    vec![
        Hit::at(at)
            .arg("what", format!("{kind} {api_version}"))
            .arg("known", known.join(", "))
            .arg("hint", hint(&suggestion)),
    ]
}

/// A value for messages: short, strings quoted.
fn shown(v: Option<&Value>) -> String {
    let text = v.map(super::values::describe).unwrap_or_default();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
