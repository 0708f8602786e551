//! The rule engine: pure and synchronous, no I/O. Both front-ends hand it a [`Subject`] and get
//! a [`Report`] back; `fix` also returns the safe fixes as RFC 6902 operations.

pub mod checks;
pub mod context;
pub mod fix;
pub mod report;
pub mod rule;
mod schema;
pub mod settings;
pub mod structural;
pub mod suppress;

use std::sync::Arc;

use serde_json::Value;

pub use context::{Context, NoContext, ObjectSet};
pub use report::{Applicability, Edit, Finding, Fix, FixOutcome, FixProblem, Op, Report, Severity};
pub use rule::{Registry, Rule, Target};
pub use settings::{Enforcement, Scope, Settings};

use crate::flink::object::{self, Class, CrKind, ObjectRef, Role};
use checks::Ctx;
use rule::Check;

/// The admission operation a subject comes with; `None` in the linter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// What the engine judges: one object, the operation, the object as it was before (an UPDATE's
/// `oldObject`, or `flink-lint --old`), and the rest of the world.
pub struct Subject<'a> {
    pub object: &'a Value,
    pub operation: Option<Operation>,
    /// The object as it was before this change: an UPDATE's `oldObject` (the webhook keeps it
    /// only for the kinds rules limited to UPDATE judge, see `admission::decode`), or its
    /// counterpart of the same identity in `flink-lint --old`. Rules limited to UPDATE run
    /// offline only when it is there.
    pub old: Option<&'a Value>,
    pub context: &'a dyn Context,
    /// `object` behind an `Arc`, when the caller holds it that way: checks that list the
    /// subject among the objects around it share this one instead of copying the object.
    pub shared: Option<&'a Arc<Value>>,
}

impl<'a> Subject<'a> {
    /// An object judged offline, against `context`.
    pub fn offline(object: &'a Value, context: &'a dyn Context) -> Self {
        Subject {
            object,
            operation: None,
            old: None,
            context,
            shared: None,
        }
    }

    /// This subject compared with `old`, the object as it was before the change.
    pub fn with_old(self, old: Option<&'a Value>) -> Self {
        Subject { old, ..self }
    }

    /// [`Subject::offline`] for an object held in an `Arc` (no copy when a check lists it).
    pub fn offline_shared(object: &'a Arc<Value>, context: &'a dyn Context) -> Self {
        Subject {
            shared: Some(object),
            ..Subject::offline(object, context)
        }
    }
}

/// What a check reports: where, the values its message needs, and the operations that fix it.
#[derive(Debug, Clone, Default)]
pub struct Hit {
    pub pointer: String,
    pub args: Vec<(&'static str, String)>,
    pub fix: Vec<Op>,
    /// Objects the fix creates (see [`Fix::create`]).
    pub create: Vec<Value>,
    /// Operations on other objects of the set (see [`Fix::edits`]).
    pub edit: Vec<Edit>,
    /// What the check could not see (config outside the set, a Secret): the finding is at most
    /// a warning, and its message says what was unseen.
    pub unseen: Option<String>,
}

impl Hit {
    pub fn at(pointer: impl Into<String>) -> Self {
        Hit {
            pointer: pointer.into(),
            ..Hit::default()
        }
    }
    pub fn arg(mut self, key: &'static str, value: impl ToString) -> Self {
        self.args.push((key, value.to_string()));
        self
    }
    pub fn fix(mut self, ops: Vec<Op>) -> Self {
        self.fix = ops;
        self
    }
    /// Objects the fix creates next to the subject.
    pub fn create(mut self, objects: Vec<Value>) -> Self {
        self.create = objects;
        self
    }
    /// Operations the fix makes on `object`, another object of the set, read from `file`.
    pub fn edit(mut self, object: &Arc<Value>, file: Option<String>, ops: Vec<Op>) -> Self {
        if !ops.is_empty() {
            self.edit.push(Edit {
                object: ObjectRef::of(object),
                file,
                ops,
                target: Some(object.clone()),
            });
        }
        self
    }
    /// Mark the hit as depending on something unseen (`None`: everything was seen).
    pub fn unseen(mut self, what: Option<String>) -> Self {
        self.unseen = what;
        self
    }
}

/// The rule registry plus the user's settings, with schema validators compiled once and each
/// rule's effective severity worked out once.
pub struct Engine {
    registry: &'static Registry,
    settings: Settings,
    /// By rule index (the order of `registry.rules()`): the compiled schema of a schema rule.
    schemas: Vec<Option<jsonschema::Validator>>,
    /// By rule index: the severity under these settings, `None` when the rule is off.
    severities: Vec<Option<Severity>>,
}

/// The targets an object offers rules, in the given scope.
pub fn targets(obj: &Value, scope: Scope) -> Vec<Target> {
    targets_of(object::classify(obj), scope)
}

/// The targets an object of class `class` offers rules, in the given scope.
pub fn targets_of(class: Class, scope: Scope) -> Vec<Target> {
    use Target::*;
    match class {
        Class::Resource(CrKind::FlinkDeployment) => vec![FlinkDeployment, Any],
        Class::Resource(CrKind::FlinkSessionJob) => vec![FlinkSessionJob, Any],
        Class::Resource(CrKind::FlinkStateSnapshot) => vec![FlinkStateSnapshot, Any],
        Class::Resource(CrKind::FlinkBlueGreenDeployment) => vec![FlinkBlueGreenDeployment, Any],
        Class::Workload(Some(Role::JobManager)) => vec![Jobmanager, FlinkWorkload, Workload, Any],
        Class::Workload(Some(Role::TaskManager)) => {
            vec![Taskmanager, FlinkWorkload, Workload, Any]
        }
        Class::Workload(None) => vec![FlinkWorkload, Workload, Any],
        Class::Operator => vec![Operator, Workload, Any],
        Class::OtherWorkload if scope == Scope::All => vec![Workload, Any],
        Class::ConfigMap => vec![ConfigMap],
        Class::Service => vec![Service],
        Class::HorizontalPodAutoscaler => vec![HorizontalPodAutoscaler],
        Class::Scale => vec![Scale],
        Class::OtherWorkload | Class::Generated | Class::Other => vec![],
    }
}

impl Engine {
    pub fn new(registry: &'static Registry, settings: Settings) -> Result<Engine, String> {
        settings.validate(registry)?;
        let mut schemas = Vec::with_capacity(registry.rules().len());
        for rule in registry.rules() {
            let mut compiled = None;
            if let Check::Schema { schema, .. } = &rule.check {
                let v = jsonschema::options()
                    .build(schema)
                    .map_err(|e| format!("{}: invalid schema: {e}", rule.id))?;
                compiled = Some(v);
            }
            schemas.push(compiled);
        }
        let severities = registry
            .rules()
            .iter()
            .map(|r| settings.effective_severity(r))
            .collect();
        Ok(Engine {
            registry,
            settings,
            schemas,
            severities,
        })
    }

    /// The embedded rules with these settings.
    pub fn embedded(settings: Settings) -> Result<Engine, String> {
        Engine::new(Registry::embedded()?, settings)
    }

    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Judge one subject.
    pub fn check(&self, subject: &Subject<'_>) -> Report {
        self.check_rules(subject, |_| true)
    }

    /// The memory Flink derives for each Flink process of the subject (a standalone JobManager
    /// or TaskManager, a FlinkDeployment's two), as `(title, table)`: what `flink-lint explain`
    /// prints for the memory rules.
    pub fn memory_tables(&self, subject: &Subject<'_>) -> Vec<(String, String)> {
        if !subject.object.is_object() {
            return Vec::new();
        }
        let ctx = Ctx::new(subject, &self.settings, self.registry);
        checks::memory_tables(&ctx)
    }

    /// [`Engine::check`] with only the rules `only` takes.
    fn check_rules(&self, subject: &Subject<'_>, only: impl Fn(&Rule) -> bool) -> Report {
        let obj = subject.object;
        let class = object::classify(obj);
        let mut targets = targets_of(class, self.settings.scope);
        // Objects of other kinds offer only the structural rules (the webhook skips them:
        // `targets_of` has nothing for them).
        if class == Class::Other {
            targets.push(Target::Other);
        }
        if targets.is_empty() || !obj.is_object() {
            return Report::default();
        }
        let ctx = Ctx::with_class(subject, &self.settings, self.registry, class);
        let oref = ObjectRef::of(obj);
        // The nodes schema rules look at, listed once for every schema rule.
        let nodes = std::cell::OnceCell::new();
        let mut findings = Vec::new();
        for (index, rule) in self.registry.rules().iter().enumerate() {
            let Some(severity) = self.severities[index] else {
                continue;
            };
            if !only(rule) {
                continue;
            }
            if !rule.targets.iter().any(|t| targets.contains(t)) {
                continue;
            }
            if rule.platform.is_some_and(|p| p != self.settings.platform) {
                continue;
            }
            if let Some(op) = subject.operation {
                if !rule.operations.is_empty() && !rule.operations.iter().any(|o| o == op.as_str())
                {
                    continue;
                }
            } else if rule.operations.iter().all(|o| o == "UPDATE")
                && !rule.operations.is_empty()
                && subject.old.is_none()
            {
                // Offline, a rule about changes runs only against an old version (`--old`).
                continue;
            }
            let hits = match &rule.check {
                Check::Native { native } => match rule.native {
                    Some(check) => {
                        let hits = (check.run)(&ctx);
                        debug_assert!(
                            hits.iter().all(|h| sets_exactly(h, check.args)),
                            "check {native} must set exactly {:?} once each",
                            check.args
                        );
                        hits
                    }
                    None => Vec::new(),
                },
                Check::Schema { each, .. } => match &self.schemas[index] {
                    Some(v) => schema::run(
                        v,
                        *each,
                        rule.fix.as_ref(),
                        obj,
                        nodes.get_or_init(|| schema::Nodes::of(obj)),
                    ),
                    None => Vec::new(),
                },
            };
            let max = self.settings.suppression.max_severity;
            let named = ctx
                .ignores()
                .0
                .iter()
                .any(|i| rule::selector_matches(&i.rule, rule));
            for hit in hits {
                // What cannot be seen is reported at most as a warning.
                let severity = match &hit.unseen {
                    Some(_) => severity.min(Severity::Warning),
                    None => severity,
                };
                // Named in the annotation: silenced up to what the configuration allows; above
                // that, still reported, saying the annotation was not honoured.
                if named && severity <= max {
                    continue;
                }
                let fix = rule.fix.as_ref().and_then(|spec| {
                    (!hit.fix.is_empty() || !hit.create.is_empty() || !hit.edit.is_empty()).then(
                        || Fix {
                            applicability: spec.applicability,
                            title: spec.title.clone(),
                            ops: hit.fix.clone(),
                            create: hit.create.clone(),
                            edits: hit.edit.clone(),
                        },
                    )
                });
                let mut message = rule.template.render(&hit.args);
                if let Some(what) = &hit.unseen {
                    message.push_str(&format!(" (unverified: {what})"));
                }
                if named {
                    message.push_str(&format!(
                        " (not silenced: {} silences findings up to {}, see suppression.max-severity)",
                        suppress::ANNOTATION,
                        max.as_str()
                    ));
                }
                findings.push(Finding {
                    rule: rule.id.clone(),
                    name: rule.name.clone(),
                    severity,
                    message,
                    object: oref.clone(),
                    path: hit.pointer,
                    fix,
                });
            }
        }
        Report { findings }
    }

    /// [`Engine::check`] with only the rules whose fixes [`Engine::fix_with`] may apply with
    /// these options: what its first round judges. For a caller that wants the fixes and
    /// nothing else (the webhook's `/mutate`), this report handed to `fix_with` saves judging
    /// the rules that cannot change the object.
    pub fn check_fixable(
        &self,
        subject: &Subject<'_>,
        unsafe_fixes: bool,
        create_objects: bool,
    ) -> Report {
        self.check_rules(subject, |rule| {
            may_apply(rule, unsafe_fixes, create_objects)
        })
    }

    /// Apply every safe fix, re-checking after each round until nothing is left to fix, for at
    /// most [`FIX_ROUNDS`] rounds. Returns the fixed object, the materialised operations that
    /// get there from the original (`json_patch` applies them as they are), the findings on the
    /// fixed object of the rules whose fixes the loop may apply (see [`FixOutcome::report`]),
    /// and the problems: a fix that could not be applied is left out (the object stays at the
    /// last good state) and reported once; fixes still changing the object after the last round
    /// are reported with their rules.
    pub fn fix(&self, subject: &Subject<'_>) -> FixOutcome {
        self.fix_after(subject, None)
    }

    /// [`Engine::fix`], given the report `check` already made on the subject (saves a round).
    pub fn fix_after(&self, subject: &Subject<'_>, first: Option<&Report>) -> FixOutcome {
        self.fix_with(subject, first, false, false)
    }

    /// [`Engine::fix_after`]; with `unsafe_fixes` the unsafe fixes are applied too (what
    /// `flink-lint fix --unsafe-fixes` asks for). A fix that creates objects is applied only
    /// with `create_objects` (the caller writes [`FixOutcome::created`] next to the subject, as
    /// `flink-lint fix` does), and so is a fix that edits other objects of the set
    /// ([`FixOutcome::edited`]); without it (the webhook) such a fix is left out whole, so that
    /// nothing points at an object that will not exist or a key that was not written.
    pub fn fix_with(
        &self,
        subject: &Subject<'_>,
        first: Option<&Report>,
        unsafe_fixes: bool,
        create_objects: bool,
    ) -> FixOutcome {
        let mut first = first;
        // Shared with the checks of later rounds (they list the subject without a copy) and
        // changed in place between rounds, when no check holds it any more.
        let mut current = Arc::new(subject.object.clone());
        let mut ops = Vec::new();
        let mut problems = Vec::new();
        let mut failed: std::collections::BTreeSet<(String, String)> = Default::default();
        // The rounds after the first judge only the rules whose fixes this loop may apply.
        let can_change = |rule: &Rule| may_apply(rule, unsafe_fixes, create_objects);
        let check = |object: &Arc<Value>| {
            let subject = Subject {
                object,
                operation: subject.operation,
                old: subject.old,
                context: subject.context,
                shared: Some(object),
            };
            self.check_rules(&subject, can_change)
        };
        let safe = |f: &Finding| {
            f.fix
                .as_ref()
                .filter(|x| unsafe_fixes || x.applicability == Applicability::Safe)
                .filter(|x| create_objects || !x.beyond_subject())
                .map(|x| x.ops.clone())
        };
        let mut created: Vec<Value> = Vec::new();
        let mut edited: Vec<Edit> = Vec::new();
        let mut last_round: Vec<String> = Vec::new();
        for _ in 0..FIX_ROUNDS {
            // The first round reads the caller's report where it is (no copy of its findings).
            let report = match first.take() {
                Some(r) => std::borrow::Cow::Borrowed(r),
                None => std::borrow::Cow::Owned(check(&current)),
            };
            let mut changed_by: Vec<String> = Vec::new();
            for f in &report.findings {
                let Some(fix_ops) = safe(f) else {
                    continue;
                };
                let key = (f.rule.clone(), f.path.clone());
                if failed.contains(&key) {
                    continue;
                }
                if let Some(fx) = &f.fix {
                    for obj in &fx.create {
                        if !created.contains(obj) {
                            created.push(obj.clone());
                        }
                    }
                    for e in &fx.edits {
                        if !edited.contains(e) {
                            edited.push(e.clone());
                        }
                    }
                }
                match fix::apply(Arc::make_mut(&mut current), &fix_ops) {
                    Ok(applied) if applied.is_empty() => {}
                    Ok(applied) => {
                        ops.extend(applied);
                        changed_by.push(f.rule.clone());
                    }
                    Err(e) => {
                        problems.push(FixProblem::Failed {
                            rule: f.rule.clone(),
                            path: f.path.clone(),
                            error: e.to_string(),
                        });
                        failed.insert(key);
                    }
                }
            }
            if changed_by.is_empty() {
                return FixOutcome {
                    object: Arc::unwrap_or_clone(current),
                    ops,
                    report: report.into_owned(),
                    problems,
                    created,
                    edited,
                };
            }
            last_round = changed_by;
        }
        let report = check(&current);
        // Would another round still change the object? Then the fixes do not converge.
        let mut rules: Vec<String> = report
            .findings
            .iter()
            .filter(|f| !failed.contains(&(f.rule.clone(), f.path.clone())))
            .filter(|f| {
                safe(f).is_some_and(|o| fix::patch(&current, &o).is_ok_and(|a| !a.is_empty()))
            })
            .map(|f| f.rule.clone())
            .collect();
        if !rules.is_empty() {
            rules.extend(last_round);
            rules.sort();
            rules.dedup();
            problems.push(FixProblem::NotConverged {
                rounds: FIX_ROUNDS,
                rules,
            });
        }
        FixOutcome {
            object: Arc::unwrap_or_clone(current),
            ops,
            report,
            problems,
            created,
            edited,
        }
    }
}

/// How many rounds of fixes [`Engine::fix`] runs before it reports non-convergence.
pub const FIX_ROUNDS: usize = 8;

/// Whether a fix loop may apply `rule`'s fix: a safe one, or any with `unsafe_fixes`; one that
/// creates objects only with `create_objects`. No other rule can change the object, so the
/// loop's later rounds judge only these (a rule declaring that its fix creates objects always
/// does: tests/it/rules.rs holds it to that).
fn may_apply(rule: &Rule, unsafe_fixes: bool, create_objects: bool) -> bool {
    rule.fix.as_ref().is_some_and(|spec| {
        (unsafe_fixes || spec.applicability == Applicability::Safe)
            && (create_objects || !spec.creates_objects)
    })
}

/// Whether `hit` sets each of `args` once and nothing else.
fn sets_exactly(hit: &Hit, args: &[&str]) -> bool {
    hit.args.len() == args.len()
        && args
            .iter()
            .all(|a| hit.args.iter().filter(|(k, _)| k == a).count() == 1)
}

/// Shared handle, cheap to clone into request handlers.
pub type SharedEngine = Arc<Engine>;
