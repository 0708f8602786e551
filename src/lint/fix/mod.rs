//! `flink-lint fix`: judge the files, write each object's fixes into its file's text with the
//! text editor (`editor.rs`, which keeps everything a fix does not change), and repeat until
//! nothing changes; then judge the result. Also the unified diff of a fixed file, and the
//! atomic write.

mod editor;

use std::collections::HashMap;

use serde_json::Value;

pub use editor::{EditError, ObjectEdit, append_document, edit_file, flow, is_json_text};

use super::{InputError, Inputs, Outcome};
use crate::engine::{Edit, Engine, Op, Subject};
use crate::flink::object::ObjectRef;

/// One file as `fix` leaves it.
#[derive(Debug, Clone)]
pub struct FixedFile {
    pub name: String,
    pub before: String,
    pub after: String,
}

/// What `fix` did to a set of files.
#[derive(Debug, Default)]
pub struct FixRun {
    /// Every file, in input order, before and after.
    pub files: Vec<FixedFile>,
    /// How many operations were written.
    pub applied: usize,
    /// Files the fixes could not be written into (each stays as it was).
    pub errors: Vec<InputError>,
    /// The fixed files judged again.
    pub outcome: Outcome,
}

impl FixRun {
    pub fn changed(&self) -> impl Iterator<Item = &FixedFile> {
        self.files.iter().filter(|f| f.before != f.after)
    }
}

/// How many times `fix` judges and edits the files before it stops: fixes of one object can
/// change what another one is judged against (a Service gains a port, a ConfigMap a key).
pub const PASSES: usize = 4;

/// Judge `files` (name, text) as one world, write each object's fixes (the safe ones, or all
/// with `unsafe_fixes`) into its file's text, and repeat until nothing changes; then judge the
/// result. Files with input errors are judged but not edited.
pub fn fix(engine: &Engine, files: Vec<(String, String)>, unsafe_fixes: bool) -> FixRun {
    let mut current: Vec<FixedFile> = files
        .into_iter()
        .map(|(name, text)| FixedFile {
            name,
            after: text.clone(),
            before: text,
        })
        .collect();
    let mut applied = 0;
    let mut errors: Vec<InputError> = Vec::new();
    let mut frozen: Vec<bool> = vec![false; current.len()];
    for _ in 0..PASSES {
        let mut inputs = Inputs::default();
        for f in &current {
            inputs.add(&f.name, &f.after);
        }
        let mut broken = vec![false; current.len()];
        for e in &inputs.errors {
            if let Some(i) = current.iter().position(|f| f.name == e.file) {
                broken[i] = true;
            }
        }
        let world = inputs.world(false);
        let mut per_file: Vec<Vec<ObjectEdit>> = vec![Vec::new(); current.len()];
        let mut created: Vec<Vec<Value>> = vec![Vec::new(); current.len()];
        // Every object by identity, once per pass: edits and created objects look them up
        // here, not by a scan of the whole set each (a file of thousands of objects).
        let mut by_identity: HashMap<ObjectRef, Vec<usize>> = HashMap::new();
        for (j, o) in inputs.objects.iter().enumerate() {
            by_identity
                .entry(ObjectRef::of(&o.value))
                .or_default()
                .push(j);
        }
        let mut own: HashMap<usize, Vec<Op>> = Default::default();
        let mut foreign: Vec<(usize, Edit)> = Vec::new();
        // Target object -> its edits' positions in `foreign`.
        let mut foreign_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, o) in inputs.objects.iter().enumerate() {
            if broken[o.file] || frozen[o.file] {
                continue;
            }
            let view = world.view(i);
            let subject = Subject::offline(&o.value, &view);
            // A JSON file holds one document: fixes that create objects are left out there.
            let file = &current[o.file];
            let can_create = !is_json_text(&file.name, &file.after);
            let out = engine.fix_with(&subject, None, unsafe_fixes, can_create);
            // Objects the fixes create go into the subject's file, once each.
            for obj in &out.created {
                let id = ObjectRef::of(obj);
                if let std::collections::hash_map::Entry::Vacant(v) = by_identity.entry(id) {
                    v.insert(Vec::new());
                    created[o.file].push(obj.clone());
                }
            }
            // Operations on other objects of the set (a key the mounted ConfigMap lacks):
            // applied below, to that object's document, once each.
            for e in &out.edited {
                let Some(j) = edit_target(&inputs, &by_identity, &current, e) else {
                    continue;
                };
                let seen = foreign_of.entry(j).or_default();
                if !seen.iter().any(|&k| foreign[k].1 == *e) {
                    seen.push(foreign.len());
                    foreign.push((j, e.clone()));
                }
            }
            if !out.ops.is_empty() {
                own.insert(i, out.ops.clone());
                per_file[o.file].push(ObjectEdit {
                    document: o.document,
                    prefix: o.prefix.clone(),
                    ops: out.ops,
                });
            }
        }
        // Each edit is materialised against its object as the object's own fixes and the
        // edits before it leave it: two workloads asking for the same key write it once.
        let mut states: HashMap<usize, Value> = Default::default();
        for (j, e) in &foreign {
            let o = &inputs.objects[*j];
            if broken[o.file] || frozen[o.file] {
                continue;
            }
            let state = states.entry(*j).or_insert_with(|| {
                let mut v = (*o.value).clone();
                if let Some(ops) = own.get(j) {
                    // The object's own ops are materialised against it: they apply as they are.
                    let _ = crate::engine::fix::apply(&mut v, ops);
                }
                v
            });
            match crate::engine::fix::apply(state, &e.ops) {
                Ok(ops) if ops.is_empty() => {}
                Ok(ops) => per_file[o.file].push(ObjectEdit {
                    document: o.document,
                    prefix: o.prefix.clone(),
                    ops,
                }),
                Err(err) => {
                    let name = current[o.file].name.clone();
                    errors.push(InputError {
                        file: name.clone(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "{name}: {err}; the edit of {} {} is left out",
                            e.object.kind, e.object.name
                        ),
                    });
                }
            }
        }
        let mut changed = false;
        for (fi, edits) in per_file.iter().enumerate() {
            if edits.is_empty() && created[fi].is_empty() {
                continue;
            }
            let f = &mut current[fi];
            match edit_file(&f.name, &f.after, edits, &created[fi]) {
                Ok(new) if new != f.after => {
                    applied += edits.iter().map(|e| e.ops.len()).sum::<usize>();
                    applied += created[fi].len();
                    f.after = new;
                    changed = true;
                }
                Ok(_) => {}
                Err(e) => {
                    frozen[fi] = true;
                    errors.push(InputError {
                        file: f.name.clone(),
                        line: 1,
                        column: 1,
                        message: format!("{}: {e}; the file is left as it was", f.name),
                    });
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut inputs = Inputs::default();
    for f in &current {
        inputs.add(&f.name, &f.after);
    }
    let outcome = super::lint(engine, inputs);
    FixRun {
        files: current,
        applied,
        errors,
        outcome,
    }
}

/// The object an [`Edit`] is for: the one with its identity read from its file (any file when
/// the edit names none); among several there, the one the world resolved (the same value; of
/// identical copies the last, as the last one applied wins). `None` when objects in several
/// files answer: an edit never lands on a guess.
fn edit_target(
    inputs: &Inputs,
    by_identity: &HashMap<ObjectRef, Vec<usize>>,
    files: &[FixedFile],
    e: &Edit,
) -> Option<usize> {
    let found: Vec<usize> = by_identity
        .get(&e.object)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&j| {
            e.file
                .as_ref()
                .is_none_or(|f| files[inputs.objects[j].file].name == *f)
        })
        .collect();
    let same_file = found
        .windows(2)
        .all(|w| inputs.objects[w[0]].file == inputs.objects[w[1]].file);
    if !same_file {
        return None;
    }
    let resolved = |j: &&usize| {
        e.target
            .as_ref()
            .is_none_or(|t| **t == *inputs.objects[**j].value)
    };
    found.iter().rfind(resolved).copied()
}

/// A unified diff of one file, empty when nothing changed. A relative name gets git's `a/` and
/// `b/` prefixes (`git apply`, `patch -p1`); an absolute one is written as it is (`patch -p0`).
pub fn diff(file: &FixedFile) -> String {
    if file.before == file.after {
        return String::new();
    }
    let (old, new) = if std::path::Path::new(&file.name).is_absolute() {
        (file.name.clone(), file.name.clone())
    } else {
        (format!("a/{}", file.name), format!("b/{}", file.name))
    };
    similar::TextDiff::from_lines(&file.before, &file.after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &new)
        .to_string()
}
