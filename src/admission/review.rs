//! review -> engine -> response: the one function the server and `replay` share.

use crate::flink::pointer::Pointer as _;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use super::decode::Review;
use super::response::{JsonPatch, Response};
use crate::engine::{
    Applicability, Context, Enforcement, Engine, FixProblem, Operation, Severity, Subject,
    targets_of,
};
use crate::flink::object::{self, Class};

/// Which webhook path a review came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Errors deny, warnings warn, never a patch.
    Validate,
    /// Safe fixes as a patch, never a denial for findings.
    Mutate,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// What to do when a question cannot be answered: a cluster lookup while the cache is not
/// synced, a review that overran its time budget, an internal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Allow, and say so in a warning.
    #[default]
    Open,
    /// Deny on /validate (with the reason); /mutate still only warns.
    Closed,
}

impl FailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "fail-open",
            FailMode::Closed => "fail-closed",
        }
    }
}

/// What the API server keeps of one response's warnings: 4,096 characters in all. Past that
/// k8s.io/apiserver's warning recorder (`truncateAtTotalRunes`, `truncateItemRunes`) cuts every
/// warning to 256 characters and drops the ones after the total, whichever they are.
pub const WARNINGS_TOTAL: usize = 4096;

/// Who may touch the objects the Flink Kubernetes Operator generates without being judged: the
/// operator as its Helm chart installs it (the service account `flink-operator`,
/// `operatorServiceAccount.name`, in whichever namespace), and the cluster's own controllers in
/// `kube-system` (the garbage collector updates a generated Deployment's owner references and
/// finalizers when its FlinkDeployment goes: denying that would leave it stuck).
pub const DEFAULT_OPERATOR_USERS: [&str; 2] = [
    "system:serviceaccount:*:flink-operator",
    "system:serviceaccount:kube-system:*",
];

/// Knobs of the response builder.
#[derive(Debug, Clone)]
pub struct Policy {
    pub fail_mode: FailMode,
    /// Longest warning, in characters (kubectl prints each on its own line).
    pub warning_width: usize,
    /// Most characters of warnings in one response ([`WARNINGS_TOTAL`]): past it the last
    /// warning says how many more there were and where to see them.
    pub warnings_total: usize,
    /// Who makes the objects the operator generates (`request.userInfo.username`, `*` matches
    /// any run of characters). An object with the operator's labels is skipped only when one
    /// of these sent it; from anyone else it is judged as if it had no such labels.
    pub operator_users: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_mode: FailMode::Open,
            warning_width: 120,
            warnings_total: WARNINGS_TOTAL,
            operator_users: DEFAULT_OPERATOR_USERS.map(String::from).to_vec(),
        }
    }
}

impl Policy {
    /// Whether `user` is one of [`Policy::operator_users`].
    pub fn is_operator(&self, user: Option<&str>) -> bool {
        user.is_some_and(|u| self.operator_users.iter().any(|p| wildcard(p, u)))
    }
}

/// `pattern` matches all of `text`; `*` stands for any run of characters (none included).
fn wildcard(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// How a review ended, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Not for us (DELETE, CONNECT, status, not a Flink object, operator-generated): untouched.
    Skipped,
    Allowed,
    Denied,
    /// /mutate returned a patch.
    Patched,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Skipped => "skipped",
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
            Decision::Patched => "patched",
        }
    }
}

/// The response plus what happened.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub response: Response,
    pub decision: Decision,
    /// Rules that fired (validate), or that were fixed (mutate), with their severity.
    pub findings: Vec<(String, Severity)>,
    /// Why the engine did not run, when it did not.
    pub skip_reason: Option<&'static str>,
    /// A cross-object lookup could not be answered (the cache was not synced).
    pub lookups_unanswered: bool,
    /// Warnings left out to stay within [`Policy::warnings_total`].
    pub warnings_dropped: usize,
}

impl Outcome {
    fn skipped(uid: &str, reason: &'static str) -> Outcome {
        Outcome {
            response: Response::allow(uid),
            decision: Decision::Skipped,
            findings: Vec::new(),
            skip_reason: Some(reason),
            lookups_unanswered: false,
            warnings_dropped: 0,
        }
    }
}

/// Audit annotation keys (the API server prefixes them with the webhook name).
pub const AUDIT_RULES: &str = "rules";
pub const AUDIT_DENIED: &str = "denied-rules";
pub const AUDIT_FIXED: &str = "fixed-rules";
pub const AUDIT_FAIL_MODE: &str = "fail-mode";
/// Rules whose errors were answered as warnings (`enforcement: warn`).
pub const AUDIT_WARN_ONLY: &str = "warn-only-rules";
/// Rules whose errors were only recorded (`enforcement: audit`).
pub const AUDIT_ONLY: &str = "audit-only-rules";
/// What a warning made of an error under `enforcement: warn` starts with.
pub const WARN_PREFIX: &str = "denied once enforced: ";
/// Safe fixes that could not be applied, or did not converge (`/mutate`).
pub const AUDIT_FIX_PROBLEMS: &str = "fix-problems";

/// Judge one review.
pub fn review(
    engine: &Engine,
    review: &Review,
    endpoint: Endpoint,
    context: &dyn Context,
    policy: &Policy,
) -> Outcome {
    let req = &review.request;
    let uid = req.uid.as_str();
    let operation = match req.operation {
        Some(op @ (Operation::Create | Operation::Update)) => op,
        Some(_) => return Outcome::skipped(uid, "operation"),
        None => return Outcome::skipped(uid, "unknown operation"),
    };
    match req.sub_resource.as_deref() {
        None | Some("scale") => {}
        Some("status") => return Outcome::skipped(uid, "status subresource"),
        Some(_) => return Outcome::skipped(uid, "subresource"),
    }
    let Some(raw) = req.object.as_ref().filter(|o| o.is_object()) else {
        return Outcome::skipped(uid, "no object");
    };
    // Shared with the checks that list the subject among the objects around it (no copy).
    let mut shared = match complete_identity(raw, review) {
        Cow::Borrowed(_) => std::sync::Arc::clone(raw),
        Cow::Owned(filled) => std::sync::Arc::new(filled),
    };
    let mut class = object::classify(&shared);
    if req.sub_resource.as_deref() == Some("scale") && class != Class::Scale {
        return Outcome::skipped(uid, "scale subresource without a Scale object");
    }
    if class == Class::Generated {
        if policy.is_operator(req.user.as_deref()) {
            return Outcome::skipped(uid, "generated by the Flink operator");
        }
        // The operator's labels, from someone else: anyone can write them. Judged as what it
        // is without them (a patch names only what it changes, so it applies to the original).
        shared = std::sync::Arc::new(without_generated_labels(&shared));
        class = object::classify(&shared);
    }
    let object: &Value = &shared;
    if targets_of(class, engine.settings().scope).is_empty() {
        return Outcome::skipped(uid, "not a Flink object");
    }
    let tracked = Tracked::new(context);
    let subject = Subject {
        object,
        operation: Some(operation),
        old: req.old_object.as_deref(),
        context: &tracked,
        shared: Some(&shared),
    };
    match endpoint {
        Endpoint::Validate => validate(engine, &subject, uid, policy, &tracked),
        Endpoint::Mutate => mutate(engine, &subject, uid, policy, &tracked),
    }
}

fn validate(
    engine: &Engine,
    subject: &Subject<'_>,
    uid: &str,
    policy: &Policy,
    tracked: &Tracked<'_>,
) -> Outcome {
    let report = engine.check(subject);
    let unanswered = tracked.missed();
    // Each error as its rule's `enforcement:` says: denied, a warning, or only recorded.
    let mode = |f: &crate::engine::Finding| {
        engine
            .registry()
            .get(&f.rule)
            .map(|r| engine.settings().enforcement(r))
            .unwrap_or_default()
    };
    let enforced: Vec<&crate::engine::Finding> = report
        .errors()
        .filter(|f| mode(f) == Enforcement::Enforce)
        .collect();
    let errors: Vec<String> = enforced
        .iter()
        .map(|f| format!("{}: {}", f.rule, one_line(&f.message)))
        .collect();
    let mut warnings: Vec<String> = report
        .findings
        .iter()
        .filter_map(|f| match f.severity {
            Severity::Warning => Some(short(&f.rule, &f.message, policy.warning_width)),
            Severity::Error if mode(f) == Enforcement::Warn => Some(short(
                &f.rule,
                &format!("{WARN_PREFIX}{}", f.message),
                policy.warning_width,
            )),
            _ => None,
        })
        .collect();
    let closed = unanswered && policy.fail_mode == FailMode::Closed;
    let mut response = if errors.is_empty() && !closed {
        Response::allow(uid)
    } else {
        let mut parts = errors.clone();
        if closed {
            parts.push(unanswered_message(tracked, FailMode::Closed));
        }
        let what = object::ObjectRef::of(subject.object).display();
        Response::deny(
            uid,
            format!("flink-admission denied {what}: {}", parts.join("; ")),
        )
    };
    if unanswered && !closed {
        warnings.push(truncate(
            &unanswered_message(tracked, FailMode::Open),
            policy.warning_width,
        ));
    }
    dedup(&mut warnings);
    let warnings_dropped = cap_warnings(&mut warnings, policy.warnings_total);
    response.warnings = warnings;
    let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    let denied: BTreeSet<&str> = enforced.iter().map(|f| f.rule.as_str()).collect();
    let not_enforced = |m: Enforcement| -> BTreeSet<&str> {
        report
            .errors()
            .filter(|f| mode(f) == m)
            .map(|f| f.rule.as_str())
            .collect()
    };
    let mut audit = BTreeMap::new();
    if !rules.is_empty() {
        audit.insert(AUDIT_RULES.to_string(), join(&rules));
    }
    if !denied.is_empty() {
        audit.insert(AUDIT_DENIED.to_string(), join(&denied));
    }
    for (key, m) in [
        (AUDIT_WARN_ONLY, Enforcement::Warn),
        (AUDIT_ONLY, Enforcement::Audit),
    ] {
        let set = not_enforced(m);
        if !set.is_empty() {
            audit.insert(key.to_string(), join(&set));
        }
    }
    if unanswered {
        audit.insert(
            AUDIT_FAIL_MODE.to_string(),
            policy.fail_mode.as_str().to_string(),
        );
    }
    response.audit_annotations = audit;
    let decision = if response.allowed {
        Decision::Allowed
    } else {
        Decision::Denied
    };
    Outcome {
        response,
        decision,
        findings: report
            .findings
            .iter()
            .map(|f| (f.rule.clone(), f.severity))
            .collect(),
        skip_reason: None,
        lookups_unanswered: unanswered,
        warnings_dropped,
    }
}

fn mutate(
    engine: &Engine,
    subject: &Subject<'_>,
    uid: &str,
    policy: &Policy,
    tracked: &Tracked<'_>,
) -> Outcome {
    // A fix that creates objects or edits others is left out whole here: it fixes nothing.
    let is_safe = |f: &crate::engine::Finding| {
        f.fix
            .as_ref()
            .is_some_and(|x| x.applicability == Applicability::Safe && !x.beyond_subject())
    };
    // Only the rules whose fixes the webhook applies: the others cannot change the patch (they
    // are /validate's). So the lookups that went unanswered, below, are those of these rules.
    let before = engine.check_fixable(subject, false, false);
    let mut response = Response::allow(uid);
    let mut fixed: Vec<(String, Severity)> = Vec::new();
    // What the safe fixes were before fixing: the report itself goes on as the fix loop's
    // first round, so the object is not judged twice.
    let safe_before: Vec<(String, Severity, String)> = before
        .findings
        .iter()
        .filter(|f| is_safe(f))
        .map(|f| {
            let title = f.fix.as_ref().map(|x| x.title.as_str()).unwrap_or("fixed");
            (f.rule.clone(), f.severity, title.to_string())
        })
        .collect();
    if !safe_before.is_empty() {
        let outcome = engine.fix_after(subject, Some(&before));
        // Fixes that failed were left out: the ops lead to the last good state. Fixes that do
        // not converge undo each other: no patch at all rather than an arbitrary round's.
        if outcome.converged() {
            response.patch = JsonPatch::from_ops(&outcome.ops);
        }
        for p in &outcome.problems {
            let text = match p {
                FixProblem::Failed { .. } => format!("flink-admission: {}", p.message()),
                FixProblem::NotConverged { .. } => {
                    format!("flink-admission: {}; no patch sent", p.message())
                }
            };
            response
                .warnings
                .push(truncate(&one_line(&text), policy.warning_width));
        }
        if !outcome.problems.is_empty() {
            response.audit_annotations.insert(
                AUDIT_FIX_PROBLEMS.to_string(),
                outcome
                    .problems
                    .iter()
                    .map(FixProblem::message)
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        let after = &outcome.report;
        if response.patch.is_some() {
            let still: BTreeSet<&str> = after.findings.iter().map(|f| f.rule.as_str()).collect();
            let mut seen = BTreeSet::new();
            for (rule, severity, title) in safe_before {
                if still.contains(rule.as_str()) || !seen.insert(rule.clone()) {
                    continue;
                }
                response.warnings.push(truncate(
                    &format!("{rule}: fixed by flink-admission: {}", one_line(&title)),
                    policy.warning_width,
                ));
                fixed.push((rule, severity));
            }
        }
    }
    let unanswered = tracked.missed();
    if unanswered {
        response.warnings.push(truncate(
            &unanswered_message(tracked, FailMode::Open),
            policy.warning_width,
        ));
        response.audit_annotations.insert(
            AUDIT_FAIL_MODE.to_string(),
            policy.fail_mode.as_str().to_string(),
        );
    }
    if !fixed.is_empty() {
        let ids: BTreeSet<&str> = fixed.iter().map(|(r, _)| r.as_str()).collect();
        response
            .audit_annotations
            .insert(AUDIT_FIXED.to_string(), join(&ids));
    }
    let decision = if response.patch.is_some() {
        Decision::Patched
    } else {
        Decision::Allowed
    };
    let warnings_dropped = cap_warnings(&mut response.warnings, policy.warnings_total);
    Outcome {
        response,
        decision,
        findings: fixed,
        skip_reason: None,
        lookups_unanswered: unanswered,
        warnings_dropped,
    }
}

/// The answer when a review could not be finished (time budget exceeded, internal error):
/// allowed with a warning when failing open, denied on /validate when failing closed.
pub fn unfinished(review: &Review, endpoint: Endpoint, policy: &Policy, why: &str) -> Outcome {
    let uid = review.request.uid.as_str();
    let deny = policy.fail_mode == FailMode::Closed && endpoint == Endpoint::Validate;
    let mut response = if deny {
        Response::deny(
            uid,
            format!("flink-admission could not check this object: {why} (fail-closed)"),
        )
    } else {
        let mut r = Response::allow(uid);
        r.warnings.push(truncate(
            &format!("flink-admission: {why}; allowed unchecked (fail-open)"),
            policy.warning_width,
        ));
        r
    };
    response.audit_annotations.insert(
        AUDIT_FAIL_MODE.to_string(),
        policy.fail_mode.as_str().to_string(),
    );
    Outcome {
        decision: if deny {
            Decision::Denied
        } else {
            Decision::Allowed
        },
        response,
        findings: Vec::new(),
        skip_reason: None,
        lookups_unanswered: false,
        warnings_dropped: 0,
    }
}

/// Room kept for the last warning when some are left out.
const LAST_WARNING_ROOM: usize = 200;

/// Keep `warnings` within `total` characters, as the API server would otherwise cut them
/// (losing whichever came last, however important): the first ones that fit, then one saying
/// how many more there were and where to see them. Returns how many were left out.
fn cap_warnings(warnings: &mut Vec<String>, total: usize) -> usize {
    let chars = |w: &String| w.chars().count();
    if warnings.iter().map(chars).sum::<usize>() <= total {
        return 0;
    }
    let room = total.saturating_sub(LAST_WARNING_ROOM);
    let mut used = 0;
    let kept = warnings
        .iter()
        .take_while(|w| {
            used += chars(w);
            used <= room
        })
        .count();
    let dropped = warnings.len() - kept;
    warnings.truncate(kept);
    warnings.push(format!(
        "flink-admission: {dropped} more warning(s) not shown; flink-lint on the manifest \
         lists them all, and the webhook's log names every rule that fired"
    ));
    dropped
}

/// `obj` without the labels that mark what the operator generates (`type:
/// flink-native-kubernetes` or `flink-standalone-kubernetes`, on the object or its pods).
fn without_generated_labels(obj: &Value) -> Value {
    let mut copy = obj.clone();
    let pods = object::pod_metadata_pointer(obj).map(|p| format!("{p}/labels"));
    for at in std::iter::once("/metadata/labels".to_string()).chain(pods) {
        if let Some(labels) = copy.pointer_mut(&at).and_then(Value::as_object_mut)
            && object::has_generated_type(Some(labels))
        {
            labels.shift_remove("type");
        }
    }
    copy
}

fn unanswered_message(tracked: &Tracked<'_>, mode: FailMode) -> String {
    let note = tracked
        .inner
        .incomplete_note()
        .unwrap_or("the cluster cache is not synced");
    match mode {
        FailMode::Open => format!(
            "flink-admission: {note}; checks that need other objects were skipped (fail-open)"
        ),
        FailMode::Closed => format!(
            "{note}, so checks that need other objects cannot run (fail-closed); retry shortly"
        ),
    }
}

/// Fill what API servers may leave out of the object but the request says: `apiVersion`,
/// `kind` (`request.kind`), `metadata.namespace`, `metadata.name`. Copies only when needed.
fn complete_identity<'a>(obj: &'a Value, review: &Review) -> Cow<'a, Value> {
    let req = &review.request;
    let missing = |p: &str| obj.at(p).and_then(Value::as_str).is_none_or(str::is_empty);
    let fill_type = (missing("/apiVersion") || missing("/kind")) && !req.kind.kind.is_empty();
    let fill_ns = missing("/metadata/namespace") && req.namespace.is_some();
    let fill_name =
        missing("/metadata/name") && missing("/metadata/generateName") && req.name.is_some();
    if !(fill_type || fill_ns || fill_name) {
        return Cow::Borrowed(obj);
    }
    let mut copy = obj.clone();
    let Some(map) = copy.as_object_mut() else {
        return Cow::Borrowed(obj);
    };
    if fill_type {
        map.insert("apiVersion".into(), Value::String(req.kind.api_version()));
        map.insert("kind".into(), Value::String(req.kind.kind.clone()));
    }
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(meta) = meta.as_object_mut() {
        if fill_ns && let Some(ns) = &req.namespace {
            meta.insert("namespace".into(), Value::String(ns.clone()));
        }
        if fill_name && let Some(n) = &req.name {
            meta.insert("name".into(), Value::String(n.clone()));
        }
    }
    Cow::Owned(copy)
}

/// `FLK102: message`, on one line, at most `width` characters.
pub fn short(rule: &str, message: &str, width: usize) -> String {
    truncate(&format!("{rule}: {}", one_line(message)), width)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    // Cut at a word boundary when there is one near the end.
    if let Some(i) = out.rfind(char::is_whitespace)
        && out[i..].chars().count() < 30
    {
        out.truncate(i);
    }
    let mut out = out.trim_end().trim_end_matches([',', ':', ';']).to_string();
    out.push('…');
    out
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|w| seen.insert(w.clone()));
}

fn join(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(",")
}

/// Passes lookups through and remembers whether one could not be answered: the context
/// claims it should be complete (it has an `incomplete_note`) but is not, for that kind.
struct Tracked<'a> {
    inner: &'a dyn Context,
    missed: AtomicBool,
}

impl<'a> Tracked<'a> {
    fn new(inner: &'a dyn Context) -> Self {
        Tracked {
            inner,
            missed: AtomicBool::new(false),
        }
    }
    fn missed(&self) -> bool {
        self.missed.load(Ordering::Relaxed)
    }
}

impl Context for Tracked<'_> {
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        if self.inner.incomplete_note().is_some() && !self.inner.is_complete(group, kind) {
            self.missed.store(true, Ordering::Relaxed);
        }
        self.inner.list(group, kind, namespace)
    }
    fn is_complete(&self, group: &str, kind: &str) -> bool {
        self.inner.is_complete(group, kind)
    }
    fn incomplete_note(&self) -> Option<&str> {
        self.inner.incomplete_note()
    }
    fn unknown_reason(&self) -> &str {
        self.inner.unknown_reason()
    }
    fn class_of(&self, obj: &Value) -> Option<Class> {
        self.inner.class_of(obj)
    }
    fn parsed_config(
        &self,
        file: &'static str,
        text: &str,
        parse: &dyn Fn(&str) -> crate::engine::context::ParsedConfig,
    ) -> Arc<crate::engine::context::ParsedConfig> {
        self.inner.parsed_config(file, text, parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_short_single_lines() {
        let long = "word ".repeat(60);
        let w = short("FLK102", &format!("line one\n{long}"), 120);
        assert!(w.chars().count() <= 120);
        assert!(w.starts_with("FLK102: line one word"));
        assert!(w.ends_with('…'));
        assert!(!w.contains('\n'));
        assert_eq!(short("FLK1", "ok", 120), "FLK1: ok");
    }

    #[test]
    fn operator_users_match_by_wildcard() {
        let p = Policy::default();
        assert!(p.is_operator(Some("system:serviceaccount:flink:flink-operator")));
        assert!(p.is_operator(Some("system:serviceaccount:ops-x:flink-operator")));
        assert!(!p.is_operator(Some("system:serviceaccount:flink:flink-operator-x")));
        assert!(!p.is_operator(Some("system:serviceaccount:flink:default")));
        assert!(!p.is_operator(Some("alice")));
        assert!(!p.is_operator(None));
        assert!(wildcard("a*b*c", "aXbYc"));
        assert!(wildcard("a*", "a"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*b*c", "aXc"));
        assert!(!wildcard("ab*b", "ab"));
        assert!(wildcard("exact", "exact"));
        assert!(!wildcard("exact", "exactly"));
    }

    #[test]
    fn warnings_past_what_the_api_server_keeps_end_in_a_count() {
        let mut few = vec!["FLK102: short".to_string(); 3];
        assert_eq!(cap_warnings(&mut few, WARNINGS_TOTAL), 0);
        assert_eq!(few.len(), 3);
        let mut many: Vec<String> = (0..2703)
            .map(|i| format!("FLK102: warning {i} {}", "x".repeat(80)))
            .collect();
        let dropped = cap_warnings(&mut many, WARNINGS_TOTAL);
        let total: usize = many.iter().map(|w| w.chars().count()).sum();
        assert!(total <= WARNINGS_TOTAL, "{total}");
        assert_eq!(dropped + many.len() - 1, 2703);
        assert!(many[0].starts_with("FLK102: warning 0 "));
        let last = many.last().unwrap();
        assert!(
            last.starts_with(&format!(
                "flink-admission: {dropped} more warning(s) not shown"
            )),
            "{last}"
        );
        assert!(
            last.contains("flink-lint") && last.contains("log"),
            "{last}"
        );
        assert!(last.chars().count() <= LAST_WARNING_ROOM);
    }
}
