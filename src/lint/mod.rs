//! `flink-lint`: files in, findings with `file:line:column` out. Owns file discovery, YAML with
//! positions, `.flink-lint.yaml`, and the renderers. The judging is the engine's.

pub mod baseline;
pub mod cli;
pub mod discover;
pub mod fix;
pub mod platform;
pub mod render;
pub mod source;
pub mod write;

use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::engine::context::{Origin, World};
use crate::engine::{Applicability, Engine, Finding, FixProblem, Op, Severity, Subject};
use crate::flink::object::ObjectRef;

/// A finding placed in a file. The finding is boxed: the results are joined and sorted by
/// moving these small records, not whole findings.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    #[serde(flatten)]
    pub finding: Box<Finding>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The fix as the RFC 6902 patch that applies as it is to the object as read (the engine's
    /// materialised operations, the same the webhook sends), or why there is none. The
    /// finding's own `fix` keeps all but its operations, which are dropped once this patch is
    /// made (`flink-lint fix` judges afresh and applies them from there).
    #[serde(skip)]
    pub patch: Option<Result<PatchText, String>>,
}

/// A patch kept as its compact JSON text (an RFC 6902 array), the form the renderers print:
/// far smaller than its operations as value trees (ordered maps, a node per value), and
/// thousands of findings hold one.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchText(Box<str>);

impl PatchText {
    /// The text of `ops`, or why they cannot be written as JSON.
    pub fn new(ops: &[Op]) -> Result<Self, String> {
        serde_json::to_string(ops)
            .map(|t| PatchText(t.into()))
            .map_err(|e| format!("the patch cannot be written as JSON: {e}"))
    }

    /// The operations again.
    pub fn ops(&self) -> Result<Vec<Op>, String> {
        serde_json::from_str(&self.0).map_err(|e| format!("the patch cannot be read back: {e}"))
    }
}

/// Written as the patch itself (a JSON array), laid out as the rest of the document is.
impl Serialize for PatchText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ops: Value = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        ops.serialize(s)
    }
}

/// What applying every safe fix to one object ran into (`Engine::fix`'s problems): a fix that
/// could not be applied, or fixes that do not converge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectFixProblem {
    pub file: String,
    pub object: ObjectRef,
    #[serde(flatten)]
    pub problem: FixProblem,
}

/// An input that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One object read from a file, with where it sits.
#[derive(Debug, Clone)]
pub struct LoadedObject {
    pub file: usize,
    pub document: usize,
    /// Pointer prefix of the object inside its document (`/items/3` for a `List` item).
    pub prefix: String,
    pub value: Arc<Value>,
    /// Where each node of its document sits (shared by the items of a `List`): it places the
    /// object's findings, and goes with the object once it is judged.
    pub spans: Arc<source::SpanIndex>,
}

/// A file as read: its display name and text (its documents' values and span indexes go to
/// its objects).
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub name: String,
    pub source: source::SourceFile,
    /// When the text was not kept (see [`Inputs::add_all`]): its digest, which a text read
    /// again for the renderers must match ([`Outcome::reload_texts`]).
    pub digest: Option<u64>,
}

/// A digest of a file's text: its length and a hash of its bytes (not cryptographic: it tells
/// a file changed since it was judged from one that did not).
pub fn text_digest(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x0066_6c69_6e6b).hash_one(text.as_bytes())
        ^ (text.len() as u64).rotate_left(32)
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Inputs {
    pub files: Vec<LoadedFile>,
    pub objects: Vec<LoadedObject>,
    pub errors: Vec<InputError>,
    /// The previous versions each object is compared with (`flink-lint --old`).
    pub old: Option<OldObjects>,
}

/// The objects `flink-lint --old` reads, by identity: the group of `apiVersion`, `kind`,
/// namespace and name. An object of the new set is compared with the old object of its
/// identity, as an UPDATE compares with `oldObject`; one without a counterpart is new (a
/// CREATE). Of objects sharing an identity the last one read counts, as `kubectl apply -f`
/// applies them in order.
#[derive(Debug, Default)]
pub struct OldObjects {
    by_identity: std::collections::HashMap<Identity, Arc<Value>>,
}

/// An object's identity across versions.
type Identity = (String, String, Option<String>, String);

fn identity(obj: &Value) -> Identity {
    use crate::flink::object;
    (
        object::group(obj).to_string(),
        object::kind(obj).to_string(),
        object::namespace(obj).map(str::to_string),
        object::name(obj).to_string(),
    )
}

impl OldObjects {
    /// The objects of `inputs` (read from the old paths), by identity.
    pub fn of(inputs: &Inputs) -> OldObjects {
        let mut by_identity = std::collections::HashMap::new();
        for o in &inputs.objects {
            by_identity.insert(identity(&o.value), o.value.clone());
        }
        OldObjects { by_identity }
    }

    /// The old version of `obj`, if the old set has one.
    pub fn get(&self, obj: &Value) -> Option<&Value> {
        self.by_identity.get(&identity(obj)).map(|o| o.as_ref())
    }

    /// How many distinct objects the old set holds.
    pub fn len(&self) -> usize {
        self.by_identity.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_identity.is_empty()
    }
}

impl Inputs {
    /// Add one file's text. `name` is the path as the user gave it (or `-`).
    pub fn add(&mut self, name: &str, text: &str) {
        self.add_parsed(name, source::parse(text, source::is_json_name(name)));
    }

    /// Add files in order, parsing them on every core first (parsing is most of reading).
    /// The result is the same as adding them one by one. A text `keep_text` does not want is
    /// freed as soon as it is parsed (its digest is kept): judging reads only the values and
    /// the span indexes, and the values grow into the room the texts leave. Formats that quote
    /// no source lines need no text; the human format reads again, after judging, the texts of
    /// the files it quotes ([`Outcome::reload_texts`]).
    pub fn add_all(
        &mut self,
        files: Vec<(String, String)>,
        keep_text: impl Fn(&str) -> bool + Sync,
    ) {
        let parse = |(name, text): (String, String)| {
            let (documents, errors) = source::parse_parts(&text, source::is_json_name(&name));
            let (text, digest) = if keep_text(&name) {
                (text, None)
            } else {
                (String::new(), Some(text_digest(&text)))
            };
            let src = source::SourceFile {
                text,
                documents,
                errors,
            };
            (name, src, digest)
        };
        let total: usize = files.iter().map(|(_, t)| t.len()).sum();
        // Small inputs are not worth a thread.
        let parsed: Vec<_> = if total < 256 * 1024 {
            files.into_iter().map(parse).collect()
        } else {
            files.into_par_iter().map(parse).collect()
        };
        for (name, src, digest) in parsed {
            self.add_parsed(&name, src);
            if let Some(f) = self.files.last_mut() {
                f.digest = digest;
            }
        }
    }

    /// Add one parsed file.
    pub fn add_parsed(&mut self, name: &str, mut src: source::SourceFile) {
        let file = self.files.len();
        for e in &src.errors {
            self.errors.push(InputError {
                file: name.to_string(),
                line: e.line,
                column: e.column,
                message: e.message.clone(),
            });
        }
        for (di, doc) in std::mem::take(&mut src.documents).into_iter().enumerate() {
            // The value moves into the world, the span index to the document's objects.
            let source::Document {
                value,
                spans,
                index,
            } = doc;
            let spans = Arc::new(spans);
            let at = spans.locate("");
            let err = |message: String| InputError {
                file: name.to_string(),
                line: at.line,
                column: at.column,
                message,
            };
            match classify_document(&value) {
                DocumentKind::Object => self.objects.push(LoadedObject {
                    file,
                    document: di,
                    prefix: String::new(),
                    value: Arc::new(value),
                    spans,
                }),
                DocumentKind::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let prefix = format!("/items/{i}");
                        if classify_document(item) == DocumentKind::Object {
                            self.objects.push(LoadedObject {
                                file,
                                document: di,
                                prefix,
                                value: Arc::new(item.clone()),
                                spans: spans.clone(),
                            });
                            continue;
                        }
                        // kubectl refuses a List item without apiVersion and kind.
                        let at = spans.locate(&prefix);
                        let missing = match (item.get("apiVersion"), item.get("kind")) {
                            _ if !item.is_object() => "is not a mapping",
                            (None, None) => "has no apiVersion or kind",
                            (None, _) => "has no apiVersion",
                            _ => "has no kind",
                        };
                        self.errors.push(InputError {
                            file: name.to_string(),
                            line: at.line,
                            column: at.column,
                            message: format!(
                                "document {} item {i} {missing}: every item of a List must be a Kubernetes object with apiVersion and kind",
                                index + 1
                            ),
                        });
                    }
                }
                DocumentKind::NotKubernetes => {}
                DocumentKind::NotAMapping(found) => self.errors.push(err(format!(
                    "document {} is {found}, not a Kubernetes object (a mapping with apiVersion and kind)",
                    index + 1
                ))),
                DocumentKind::Incomplete(missing) => self.errors.push(err(format!(
                    "document {} has metadata but no {missing}: every Kubernetes object needs apiVersion and kind",
                    index + 1
                ))),
            }
        }
        self.files.push(LoadedFile {
            name: name.to_string(),
            source: src,
            digest: None,
        });
    }

    /// The world of these objects, each placed at its file (see [`World`]).
    pub fn world(&self, complete: bool) -> World {
        let origins: Vec<Origin> = self.files.iter().map(|f| origin_of(&f.name)).collect();
        World::build(
            self.objects
                .iter()
                .map(|o| (o.value.clone(), origins.get(o.file)))
                .collect(),
            complete,
        )
    }

    /// Record a file that could not be read at all.
    pub fn unreadable(&mut self, name: &str, message: String) {
        self.errors.push(InputError {
            file: name.to_string(),
            line: 1,
            column: 1,
            message,
        });
    }
}

#[derive(Debug, Clone, PartialEq)]
enum DocumentKind<'a> {
    Object,
    List(&'a Vec<Value>),
    /// A mapping that does not claim to be a Kubernetes object (Helm values, a Flink config file,
    /// a bare AdmissionRequest): not judged, not an error.
    NotKubernetes,
    NotAMapping(&'static str),
    Incomplete(&'static str),
}

fn classify_document(v: &Value) -> DocumentKind<'_> {
    let Some(m) = v.as_object() else {
        return DocumentKind::NotAMapping(match v {
            Value::Array(_) => "a list",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "empty",
        });
    };
    let api = m.get("apiVersion").and_then(Value::as_str);
    let kind = m.get("kind").and_then(Value::as_str);
    if let (Some(_), Some(k)) = (api, kind) {
        if k.ends_with("List")
            && let Some(items) = m.get("items").and_then(Value::as_array)
        {
            return DocumentKind::List(items);
        }
        return DocumentKind::Object;
    }
    if m.get("metadata").is_some_and(Value::is_object) {
        return DocumentKind::Incomplete(match (api, kind) {
            (None, None) => "apiVersion or kind",
            (None, _) => "apiVersion",
            _ => "kind",
        });
    }
    DocumentKind::NotKubernetes
}

/// The result of linting a set of inputs.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    pub findings: Vec<Located>,
    pub errors: Vec<InputError>,
    /// What applying the safe fixes to each object ran into, in the world it was judged in.
    pub fix_problems: Vec<ObjectFixProblem>,
    #[serde(skip)]
    pub objects: Vec<(String, ObjectRef)>,
    /// The files as read, for the renderers: names and texts (empty when the caller did not
    /// keep them, see [`Inputs::add_all`]).
    #[serde(skip)]
    pub files: Vec<LoadedFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub input_errors: usize,
}

impl Outcome {
    pub fn summary(&self) -> Summary {
        let count = |s| {
            self.findings
                .iter()
                .filter(|f| f.finding.severity == s)
                .count()
        };
        Summary {
            files: self.files.len(),
            objects: self.objects.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            input_errors: self.errors.len(),
        }
    }

    /// Read again, with `read`, the texts that were not kept of the files a finding or an input
    /// error is placed in, on every core. A text whose digest differs from the one judged (the
    /// file changed meanwhile) or that cannot be read is left out: its findings are shown at
    /// their position, without the source line.
    pub fn reload_texts(&mut self, read: impl Fn(&str) -> Option<String> + Sync) {
        let quoted: std::collections::HashSet<&str> = self
            .findings
            .iter()
            .map(|l| l.file.as_str())
            .chain(self.errors.iter().map(|e| e.file.as_str()))
            .collect();
        let wanted: Vec<usize> = (0..self.files.len())
            .filter(|&i| {
                let f = &self.files[i];
                f.digest.is_some() && f.source.text.is_empty() && quoted.contains(f.name.as_str())
            })
            .collect();
        let files = &self.files;
        let texts: Vec<(usize, String)> = wanted
            .par_iter()
            .with_min_len(16)
            .filter_map(|&i| {
                let f = &files[i];
                read(&f.name)
                    .filter(|t| Some(text_digest(t)) == f.digest)
                    .map(|t| (i, t))
            })
            .collect();
        for (i, text) in texts {
            self.files[i].source.text = text;
        }
    }

    /// The text of a file, for snippets.
    pub fn text_of(&self, file: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.name == file)
            .map(|f| f.source.text.as_str())
    }
}

/// Judge every object of `inputs` against all the others (one world), and place each finding.
/// Offline, the world is incomplete: an object missing from the files may exist in the cluster.
pub fn lint(engine: &Engine, inputs: Inputs) -> Outcome {
    lint_in_world(engine, inputs, false)
}

/// Like [`lint`]; with `complete` the files are taken as the whole namespace (what is not in
/// them does not exist), as the webhook sees a synced cluster.
pub fn lint_in_world(engine: &Engine, inputs: Inputs, complete: bool) -> Outcome {
    judge(engine, inputs, complete, None)
}

/// Like [`lint`], counting the objects judged so far in `checked` (for a progress line drawn
/// by another thread).
pub fn lint_counting(
    engine: &Engine,
    inputs: Inputs,
    checked: &std::sync::atomic::AtomicUsize,
) -> Outcome {
    judge(engine, inputs, false, Some(checked))
}

fn judge(
    engine: &Engine,
    inputs: Inputs,
    complete: bool,
    checked: Option<&std::sync::atomic::AtomicUsize>,
) -> Outcome {
    let world = inputs.world(complete);
    let Inputs {
        files,
        objects,
        errors,
        old,
    } = inputs;
    let old = old.as_ref();
    // The objects are judged in parallel, in contiguous runs of at least 64 (the world is
    // read-only and shared); the runs' results are joined in input order. Each object, and with
    // it the span index of its document once its last object is judged, is dropped as soon as
    // it is done: the results grow into the room the span indexes leave.
    let judged: Vec<Judged> = objects
        .into_par_iter()
        .enumerate()
        .with_min_len(64)
        .fold(Judged::default, |mut out, (i, o)| {
            judge_one(engine, &world, &files, old, i, &o, &mut out);
            if let Some(c) = checked {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            out
        })
        .map(|mut out| {
            // Give back what growing reserved before the results are joined.
            out.findings.shrink_to_fit();
            out.objects.shrink_to_fit();
            out
        })
        .collect();
    // The values are no longer needed: freeing them (millions of nodes) takes a thread of its
    // own while the results are joined, sorted and rendered on this one.
    free_elsewhere(world);
    // Joined into the first chunk's vectors, grown once to their final size: the results are
    // held about once, not twice (the values may still be being freed meanwhile).
    let (total, total_objects) = judged.iter().fold((0, 0), |(f, o), j| {
        (f + j.findings.len(), o + j.objects.len())
    });
    let mut judged = judged.into_iter();
    let Judged {
        mut findings,
        mut objects,
        mut fix_problems,
    } = judged.next().unwrap_or_default();
    findings.reserve_exact(total - findings.len());
    objects.reserve_exact(total_objects - objects.len());
    for mut j in judged {
        findings.append(&mut j.findings);
        objects.append(&mut j.objects);
        fix_problems.append(&mut j.fix_problems);
    }
    let order = |a: &Located, b: &Located| {
        (&a.file, a.line, a.column, &a.finding.rule).cmp(&(
            &b.file,
            b.line,
            b.column,
            &b.finding.rule,
        ))
    };
    // Mostly in order already (files in order, objects in document order): a stable sort
    // needs a scratch copy of half the results, so it runs only when something is out of order.
    if !findings.is_sorted_by(|a, b| order(a, b).is_le()) {
        findings.sort_by(order);
    }
    Outcome {
        findings,
        errors,
        fix_problems,
        objects,
        files,
    }
}

/// `f` over contiguous runs of `items` on rayon's pool, the results in the order of the runs,
/// so output does not depend on the number of threads. A run holds at least `min_run` items
/// (at most one per thread); when that leaves one run, `f` runs on this thread. `f` gets the
/// index of the run's first item. A panic in `f` surfaces here as it would have on this thread.
pub fn in_runs<T: Sync, R: Send>(
    items: &[T],
    min_run: usize,
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R> {
    let run = items
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(min_run)
        .max(1);
    if items.len() <= run {
        return vec![f(0, items)];
    }
    items
        .par_chunks(run)
        .enumerate()
        .map(|(n, part)| f(n * run, part))
        .collect()
}

/// Drop `what` on another thread (freeing millions of small allocations takes a while and
/// nothing waits for it).
pub fn free_elsewhere<T: Send + 'static>(what: T) {
    rayon::spawn(move || drop(what));
}

/// What judging a run of objects produced.
#[derive(Default)]
struct Judged {
    findings: Vec<Located>,
    objects: Vec<(String, ObjectRef)>,
    fix_problems: Vec<ObjectFixProblem>,
}

/// Judge object `i` of the world: its findings placed in its file, and what applying its safe
/// fixes runs into.
fn judge_one(
    engine: &Engine,
    world: &World,
    files: &[LoadedFile],
    old: Option<&OldObjects>,
    i: usize,
    o: &LoadedObject,
    out: &mut Judged,
) {
    let file = &files[o.file];
    out.objects
        .push((file.name.clone(), ObjectRef::of(&o.value)));
    let view = world.view(i);
    let subject =
        Subject::offline_shared(&o.value, &view).with_old(old.and_then(|old| old.get(&o.value)));
    let report = engine.check(&subject);
    let safe_fix = report.findings.iter().any(|f| {
        f.fix
            .as_ref()
            .is_some_and(|x| x.applicability == Applicability::Safe)
    });
    // Apply the safe fixes as the webhook would, and say what that runs into.
    if safe_fix {
        let oref = ObjectRef::of(&o.value);
        let mut mine: Vec<ObjectFixProblem> = Vec::new();
        for problem in engine.fix_after(&subject, Some(&report)).problems {
            let p = ObjectFixProblem {
                file: file.name.clone(),
                object: oref.clone(),
                problem,
            };
            if !mine.contains(&p) {
                mine.push(p);
            }
        }
        out.fix_problems.extend(mine);
    }
    for f in report.findings {
        out.findings.push(place(o, &file.name, f));
    }
}

/// A finding on `o` (read from `file`), placed at its line and column, with its fix as the
/// patch that applies to the object as read.
pub fn place(o: &LoadedObject, file: &str, mut f: Finding) -> Located {
    let pos = o.spans.locate(&format!("{}{}", o.prefix, f.path));
    let patch = f.fix.as_mut().map(|fix| {
        let patch = fix
            .patch(&o.value)
            .map_err(|e| e.to_string())
            .and_then(|ops| PatchText::new(&ops));
        // The operations live on, materialised, in the patch (`flink-lint fix` judges
        // afresh). Objects to create and edits of others are rare and stay.
        fix.ops = Vec::new();
        patch
    });
    Located {
        finding: Box::new(f),
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
        patch,
    }
}

/// Where a file's objects sit in the world: the file as named, and its directory as absolute,
/// lexically normalised components (`a/../b/x.yaml` and `b/x.yaml` share a directory).
/// Standard input counts as a file in the current directory.
pub fn origin_of(name: &str) -> Origin {
    use std::path::{Component, Path};
    let path = std::path::absolute(Path::new(name)).unwrap_or_else(|_| Path::new(name).into());
    let mut dir: Vec<String> = Vec::new();
    for c in path.parent().into_iter().flat_map(Path::components) {
        match c {
            Component::Normal(s) => dir.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                dir.pop();
            }
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
        }
    }
    Origin {
        file: name.to_string(),
        dir,
    }
}

/// Lint in-memory files with the default settings (renderer tests).
#[cfg(test)]
pub(crate) fn lint_texts(files: &[(&str, &str)]) -> Outcome {
    let engine = Engine::embedded(crate::engine::Settings::default()).expect("built-in rules");
    let mut inputs = Inputs::default();
    for (name, text) in files {
        inputs.add(name, text);
    }
    lint(&engine, inputs)
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    #[test]
    fn runs_cover_the_items_in_order_with_their_first_index() {
        let items: Vec<usize> = (0..1000).collect();
        let runs = in_runs(&items, 10, |first, run| {
            assert_eq!(
                run.first(),
                Some(&first),
                "the index of the run's first item"
            );
            run.iter().map(|i| i * 2).collect::<Vec<_>>()
        });
        assert_eq!(runs.len(), rayon::current_num_threads().min(100));
        let joined: Vec<usize> = runs.into_iter().flatten().collect();
        assert_eq!(joined, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        // A run as long as the input: one call, on this thread.
        let here = std::thread::current().id();
        let one = in_runs(&items, 1000, |first, run| {
            (first, run.len(), std::thread::current().id() == here)
        });
        assert_eq!(one, vec![(0, 1000, true)]);
        let none: Vec<usize> = in_runs(&[] as &[u8], 1, |_, run| run.len());
        assert_eq!(none, vec![0]);
    }

    /// Texts not kept are read again only for the files that findings or errors are placed in,
    /// and only when the file is as it was judged.
    #[test]
    fn texts_are_read_again_only_where_quoted_and_unchanged() {
        let engine = Engine::embedded(crate::engine::Settings::default()).expect("built-in rules");
        // A Deployment running Flink as uid 9999 has findings; a plain ConfigMap has none.
        let flagged = |name: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n      - name: jobmanager\n        image: apache/flink:1.19\n        args: [jobmanager]\n        securityContext:\n          runAsUser: 9999\n"
            )
        };
        let quiet = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n";
        let files = vec![
            ("same.yaml".to_string(), flagged("same")),
            ("changed.yaml".to_string(), flagged("changed")),
            ("gone.yaml".to_string(), flagged("gone")),
            ("quiet.yaml".to_string(), quiet.to_string()),
            ("-".to_string(), flagged("stdin")),
        ];
        let mut inputs = Inputs::default();
        inputs.add_all(files.clone(), |name| name == "-");
        let mut outcome = lint(&engine, inputs);
        for f in ["same.yaml", "changed.yaml", "gone.yaml"] {
            assert!(
                outcome.findings.iter().any(|l| l.file == f),
                "{f} has findings"
            );
        }
        assert!(!outcome.findings.iter().any(|l| l.file == "quiet.yaml"));
        let asked = std::sync::Mutex::new(Vec::new());
        outcome.reload_texts(|name| {
            asked.lock().unwrap().push(name.to_string());
            match name {
                "same.yaml" => Some(flagged("same")),
                "changed.yaml" => Some(flagged("changed").replace("9999", "1000")),
                _ => None,
            }
        });
        let mut asked = asked.into_inner().unwrap();
        asked.sort();
        assert_eq!(asked, ["changed.yaml", "gone.yaml", "same.yaml"]);
        assert_eq!(outcome.text_of("same.yaml"), Some(flagged("same").as_str()));
        assert_eq!(outcome.text_of("changed.yaml"), Some(""));
        assert_eq!(outcome.text_of("gone.yaml"), Some(""));
        assert_eq!(outcome.text_of("quiet.yaml"), Some(""));
        // Standard input was kept, not read again.
        assert_eq!(outcome.text_of("-"), Some(flagged("stdin").as_str()));
        assert_ne!(text_digest("ab"), text_digest("ba"));
        assert_ne!(text_digest(""), text_digest("\0"));
    }

    /// `add_all` parses on several threads above a size threshold; what it adds must be what
    /// adding the files one by one adds, in the same order, errors included.
    #[test]
    fn add_all_equals_adding_one_by_one() {
        let mut files = Vec::new();
        for i in 0..120 {
            let mut text = String::new();
            for j in 0..40 {
                text.push_str(&format!(
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}-{j}\ndata:\n  k: \"{}\"\n",
                    "x".repeat(40)
                ));
            }
            if i % 17 == 0 {
                text.push_str("---\nkind: [unclosed\n");
            }
            let name = if i % 5 == 0 {
                format!("d/{i}.json")
            } else {
                format!("d/{i}.yaml")
            };
            files.push((name, text));
        }
        assert!(files.iter().map(|(_, t)| t.len()).sum::<usize>() > 256 * 1024);
        let mut one = Inputs::default();
        for (name, text) in &files {
            one.add(name, text);
        }
        let mut all = Inputs::default();
        all.add_all(files.clone(), |_| true);
        // Without the texts: the same objects, positions and errors; the texts are gone.
        let mut bare = Inputs::default();
        bare.add_all(files.clone(), |_| false);
        let names = |i: &Inputs| i.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&one), names(&all));
        assert_eq!(names(&one), names(&bare));
        let objects = |i: &Inputs| {
            i.objects
                .iter()
                .map(|o| {
                    let at = o.spans.locate(&format!("{}/data/k", o.prefix));
                    let place = (o.file, o.document, o.prefix.clone(), at.line, at.column);
                    (place, (*o.value).clone())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(objects(&one), objects(&all));
        assert_eq!(objects(&one), objects(&bare));
        assert_eq!(one.objects.len(), 120 * 40);
        assert_eq!(one.errors, all.errors);
        assert_eq!(one.errors, bare.errors);
        assert!(!one.errors.is_empty());
        let texts = |i: &Inputs| {
            i.files
                .iter()
                .map(|f| f.source.text.clone())
                .collect::<Vec<_>>()
        };
        let given: Vec<String> = files.into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts(&all), given);
        assert!(texts(&bare).iter().all(String::is_empty));
    }
}
