//! What the engine may know about the rest of the world: the other objects of a linted file
//! set, or a cluster cache. The engine only reads through this trait; it never does I/O.
//!
//! Offline, the world is the linted files, indexed once into a [`World`]. Each subject sees it
//! through a [`View`] from where the subject was read: objects in its own file, its directory,
//! the directories that enclose it and the ones below it. Sibling directories (`dev/` and
//! `prod/`, two projects of a monorepo) never see each other. A reference by name resolves to
//! the nearest candidate; equally near candidates in different files are ambiguous, and the
//! engine reports them instead of picking one.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::flink::object::{self, Class, ObjectRef};

/// What looking up one object by name found.
#[derive(Debug, Clone)]
pub enum Resolved {
    Found(Arc<Value>),
    /// Several candidates are equally near: the engine must not pick one.
    Ambiguous(Vec<Arc<Value>>),
    /// Not in the view.
    None,
}

/// A view of other objects.
pub trait Context: Send + Sync {
    /// Objects of `group`/`kind` (`""` is the core group) that may live in `namespace`
    /// (`None`: the namespace is not known, so every namespace may match).
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>>;

    /// Whether `list` for this kind is the whole truth (a synced cluster cache: absence means
    /// the object does not exist) or a partial view (files: it may exist in the cluster).
    fn is_complete(&self, group: &str, kind: &str) -> bool;

    /// The object `name` of `group`/`kind` that a reference from the subject means. The
    /// default takes the last one `list` gives (a cluster holds one object per identity; an
    /// object in the subject's namespace wins over one without a namespace).
    fn resolve(&self, group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Resolved {
        let all: Vec<Arc<Value>> = self
            .list(group, kind, namespace)
            .into_iter()
            .filter(|o| object::name(o) == name)
            .collect();
        let exact = all
            .iter()
            .rev()
            .find(|o| namespace.is_some() && object::namespace(o) == namespace);
        match exact.or(all.last()) {
            Some(o) => Resolved::Found(o.clone()),
            None => Resolved::None,
        }
    }

    /// Where an object this context gave out comes from (`prod/flink.yaml`), for messages.
    fn origin(&self, _obj: &Value) -> Option<String> {
        None
    }

    /// What an object this context gave out is, when the context classified it already (a
    /// world classifies each object once, not once per subject and rule). `None`: classify it.
    fn class_of(&self, _obj: &Value) -> Option<Class> {
        None
    }

    /// A Flink configuration file parsed by `parse`; a context that lives for many subjects
    /// (the linter's world) parses each distinct text once and hands out the same result.
    fn parsed_config(
        &self,
        file: &'static str,
        text: &str,
        parse: &dyn Fn(&str) -> ParsedConfig,
    ) -> Arc<ParsedConfig> {
        let _ = file;
        Arc::new(parse(text))
    }

    /// A note for findings whose answer depends on an incomplete view (for example, the
    /// webhook's fail-open policy when its cache is not ready). `None` by default.
    fn incomplete_note(&self) -> Option<&str> {
        None
    }

    /// The CustomResourceDefinitions in sight, compiled: their schemas replace the embedded
    /// ones for the structural rules. `None`: none.
    fn crds(&self) -> Option<&super::structural::Overrides> {
        None
    }

    /// Why an object missing from an incomplete view cannot be judged, for messages.
    fn unknown_reason(&self) -> &str {
        "it is not among the checked files; lint them together"
    }
}

/// Knows nothing and claims nothing: the subject is judged alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoContext;

impl Context for NoContext {
    fn list(&self, _: &str, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        Vec::new()
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        false
    }
    fn unknown_reason(&self) -> &str {
        "it cannot be looked up without cluster access"
    }
}

/// Where an object was read from: its file (as the user named it) and that file's directory
/// as path components (absolute, lexically normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub dir: Vec<String>,
}

const NO_DIR: u32 = u32::MAX;

#[derive(Debug)]
struct Dir {
    parent: Option<u32>,
    /// This directory and every directory below it that holds objects, with the depth below.
    subtree: Vec<(u32, u32)>,
}

#[derive(Debug, Default)]
struct KindIndex {
    /// Object indexes by directory (`NO_DIR`: objects without an origin, seen from everywhere).
    by_dir: HashMap<u32, ByNamespace>,
}

/// Object indexes (ascending) by namespace, so that a lookup in one namespace reads only the
/// objects it can match: a thousand namespaces reusing the same names in one directory cost
/// no more per lookup than one.
#[derive(Debug, Default)]
struct ByNamespace {
    named: HashMap<Box<str>, Vec<u32>>,
    /// Objects without a namespace: they match every namespace.
    unnamed: Vec<u32>,
}

impl ByNamespace {
    fn push(&mut self, namespace: Option<&str>, i: u32) {
        match namespace {
            None => self.unnamed.push(i),
            Some(ns) => match self.named.get_mut(ns) {
                Some(v) => v.push(i),
                None => {
                    self.named.insert(ns.into(), vec![i]);
                }
            },
        }
    }

    /// The objects that can match a lookup in `namespace` (all of them for `None`), appended
    /// to `out` in no particular order.
    fn matching(&self, namespace: Option<&str>, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.unnamed);
        match namespace {
            None => self.named.values().for_each(|v| out.extend_from_slice(v)),
            Some(ns) => {
                if let Some(v) = self.named.get(ns) {
                    out.extend_from_slice(v);
                }
            }
        }
    }
}

/// A Flink configuration file as parsed, with the problems the parser found.
pub type ParsedConfig = (
    crate::flink::config::FlinkConfig,
    Vec<crate::flink::config::ConfigIssue>,
);

/// Parsed Flink configuration files of one world, by file name and text: the ConfigMap that a
/// JobManager and its TaskManagers mount is parsed once, not once per workload, rule and fix
/// round.
#[derive(Debug, Default)]
struct ConfigMemo {
    files: std::sync::Mutex<HashMap<&'static str, HashMap<String, Arc<ParsedConfig>>>>,
}

impl ConfigMemo {
    fn get(
        &self,
        file: &'static str,
        text: &str,
        parse: &dyn Fn(&str) -> ParsedConfig,
    ) -> Arc<ParsedConfig> {
        let cached = match self.files.lock() {
            Ok(m) => m.get(file).and_then(|t| t.get(text)).cloned(),
            Err(_) => None,
        };
        if let Some(hit) = cached {
            return hit;
        }
        // Parsed outside the lock: another thread may parse the same text meanwhile; both
        // results are equal and the first one stored is kept.
        let parsed = Arc::new(parse(text));
        match self.files.lock() {
            Ok(mut m) => m
                .entry(file)
                .or_default()
                .entry(text.to_string())
                .or_insert(parsed)
                .clone(),
            Err(_) => parsed,
        }
    }
}

/// The objects of a linted file set (or any fixed set), indexed once.
#[derive(Debug, Default)]
pub struct World {
    objects: Vec<Arc<Value>>,
    file: Vec<u32>,
    dir: Vec<u32>,
    identity: Vec<u32>,
    files: Vec<String>,
    dirs: Vec<Dir>,
    /// group -> kind -> index: looked up with `&str`, no allocation per lookup.
    kinds: HashMap<String, HashMap<String, KindIndex>>,
    /// group -> kind -> name -> objects.
    names: HashMap<String, HashMap<String, HashMap<String, ByNamespace>>>,
    /// Object index by the address of its value (our own keys: a fast hasher).
    by_address: foldhash::HashMap<usize, u32>,
    /// Each object's class, worked out once.
    class: Vec<Class>,
    complete: bool,
    configs: ConfigMemo,
    /// The CustomResourceDefinitions of the set, compiled when first asked for.
    crds: std::sync::OnceLock<super::structural::Overrides>,
}

/// The value of `key` in `map`, inserted empty first if missing; the key is copied only then.
fn entry<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key)
        .unwrap_or_else(|| unreachable!("inserted above"))
}

/// The old name: a fixed set of objects with no origins, all visible to each other.
pub type ObjectSet = World;

impl World {
    /// A set whose objects have no origin: every object sees every other. Incomplete: an
    /// object missing from the set may exist in the cluster.
    pub fn new(objects: Vec<Arc<Value>>) -> Self {
        World::build(
            objects.into_iter().map(|o| (o, None::<Origin>)).collect(),
            false,
        )
    }

    /// A set that is the whole truth (tests, and a synced cluster snapshot).
    pub fn complete(objects: Vec<Arc<Value>>) -> Self {
        World::build(
            objects.into_iter().map(|o| (o, None::<Origin>)).collect(),
            true,
        )
    }

    /// Index objects with where they were read from. Cost: linear in the objects.
    /// The origins may be borrowed (`Option<&Origin>`): the objects of one file share one.
    pub fn build<O: std::borrow::Borrow<Origin>>(
        objects: Vec<(Arc<Value>, Option<O>)>,
        complete: bool,
    ) -> Self {
        let mut w = World {
            complete,
            ..World::default()
        };
        let mut file_ids: HashMap<String, u32> = HashMap::new();
        let mut dir_ids: HashMap<Vec<String>, u32> = HashMap::new();
        let mut identities: HashMap<ObjectRef, u32> = HashMap::new();
        for (value, origin) in objects {
            let i = w.objects.len() as u32;
            let (file, dir) = match origin {
                None => (NO_DIR, NO_DIR),
                Some(o) => {
                    let o = o.borrow();
                    let f = match file_ids.get(o.file.as_str()) {
                        Some(&f) => f,
                        None => {
                            let f = w.files.len() as u32;
                            w.files.push(o.file.clone());
                            file_ids.insert(o.file.clone(), f);
                            f
                        }
                    };
                    (f, w.intern_dir(&mut dir_ids, &o.dir))
                }
            };
            let next = identities.len() as u32;
            let id = *identities.entry(ObjectRef::of(&value)).or_insert(next);
            let (group, kind) = (object::group(&value), object::kind(&value));
            let namespace = object::namespace(&value);
            // Keys are copied only when first met (thousands of objects share a kind).
            entry(entry(&mut w.kinds, group), kind)
                .by_dir
                .entry(dir)
                .or_default()
                .push(namespace, i);
            entry(
                entry(entry(&mut w.names, group), kind),
                object::name(&value),
            )
            .push(namespace, i);
            w.by_address.insert(Arc::as_ptr(&value) as usize, i);
            w.class.push(object::classify(&value));
            w.objects.push(value);
            w.file.push(file);
            w.dir.push(dir);
            w.identity.push(id);
        }
        // Each directory's subtree: walk up from every directory once.
        for d in 0..w.dirs.len() as u32 {
            let mut depth = 0;
            let mut at = Some(d);
            while let Some(a) = at {
                w.dirs[a as usize].subtree.push((d, depth));
                depth += 1;
                at = w.dirs[a as usize].parent;
            }
        }
        w
    }

    fn intern_dir(&mut self, ids: &mut HashMap<Vec<String>, u32>, path: &[String]) -> u32 {
        if let Some(&d) = ids.get(path) {
            return d;
        }
        let parent = if path.is_empty() {
            None
        } else {
            Some(self.intern_dir(ids, &path[..path.len() - 1]))
        };
        let d = self.dirs.len() as u32;
        self.dirs.push(Dir {
            parent,
            subtree: Vec::new(),
        });
        ids.insert(path.to_vec(), d);
        d
    }

    pub fn objects(&self) -> &[Arc<Value>] {
        &self.objects
    }

    /// The set's CustomResourceDefinitions, compiled once.
    pub fn crds(&self) -> &super::structural::Overrides {
        self.crds.get_or_init(|| {
            super::structural::Overrides::from_objects(self.objects.iter().map(|o| o.as_ref()))
        })
    }

    /// The world as the object at `index` (in the order given to `build`) sees it. The
    /// directories in sight are worked out once here, not per lookup.
    pub fn view(&self, index: usize) -> View<'_> {
        let mut v = View {
            world: self,
            from: Some(index as u32),
            dirs: HashMap::new(),
        };
        v.dirs = v.related_dirs();
        v
    }

    fn view_all(&self) -> View<'_> {
        View {
            world: self,
            from: None,
            dirs: HashMap::from([(NO_DIR, 0)]),
        }
    }
}

/// The world seen from one object (or from nowhere: everything).
#[derive(Debug, Clone)]
pub struct View<'w> {
    world: &'w World,
    from: Option<u32>,
    /// Directories in sight and how far they are.
    dirs: HashMap<u32, u32>,
}

impl View<'_> {
    /// How near object `i` is to the viewer: 0 same file, 1 same directory, more for each
    /// directory up or down; `None` when it is out of sight (a sibling directory).
    fn distance(&self, i: u32, dir_distance: &HashMap<u32, u32>) -> Option<u32> {
        let w = self.world;
        let Some(me) = self.from else {
            return Some(1);
        };
        let (my_file, my_dir) = (w.file[me as usize], w.dir[me as usize]);
        let (file, dir) = (w.file[i as usize], w.dir[i as usize]);
        if dir == NO_DIR || my_dir == NO_DIR {
            return Some(u32::MAX / 2);
        }
        if file == my_file {
            return Some(0);
        }
        dir_distance.get(&dir).map(|d| d + 1)
    }

    /// The directories in sight, with how far they are: the viewer's own, those above it and
    /// those below it.
    fn related_dirs(&self) -> HashMap<u32, u32> {
        let w = self.world;
        let mut out = HashMap::new();
        out.insert(NO_DIR, 0);
        let Some(me) = self.from else {
            return out;
        };
        let my_dir = w.dir[me as usize];
        if my_dir == NO_DIR {
            return out;
        }
        for &(d, depth) in &w.dirs[my_dir as usize].subtree {
            out.insert(d, depth);
        }
        let mut up = w.dirs[my_dir as usize].parent;
        let mut depth = 1;
        while let Some(d) = up {
            out.insert(d, depth);
            depth += 1;
            up = w.dirs[d as usize].parent;
        }
        out
    }

    /// The objects of a kind in sight that can match a lookup in `namespace`, ascending.
    fn candidates(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<u32> {
        let w = self.world;
        let Some(ki) = w.kinds.get(group).and_then(|k| k.get(kind)) else {
            return Vec::new();
        };
        let mut out: Vec<u32> = Vec::new();
        match self.from.map(|me| w.dir[me as usize]) {
            None | Some(NO_DIR) => ki
                .by_dir
                .values()
                .for_each(|n| n.matching(namespace, &mut out)),
            Some(_) => self
                .dirs
                .keys()
                .filter_map(|d| ki.by_dir.get(d))
                .for_each(|n| n.matching(namespace, &mut out)),
        }
        out.sort_unstable();
        out
    }
}

impl Context for View<'_> {
    fn parsed_config(
        &self,
        file: &'static str,
        text: &str,
        parse: &dyn Fn(&str) -> ParsedConfig,
    ) -> Arc<ParsedConfig> {
        self.world.configs.get(file, text, parse)
    }
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let w = self.world;
        let dirs = &self.dirs;
        // One object per identity: the nearest (the later one on a tie, as `kubectl apply -f`
        // applies files in order).
        let mut best: HashMap<u32, (u32, u32)> = HashMap::new();
        for i in self.candidates(group, kind, namespace) {
            let Some(d) = self.distance(i, dirs) else {
                continue;
            };
            let id = w.identity[i as usize];
            match best.get(&id) {
                Some(&(bd, _)) if bd < d => {}
                _ => {
                    best.insert(id, (d, i));
                }
            }
        }
        let mut picked: Vec<u32> = best.into_values().map(|(_, i)| i).collect();
        picked.sort_unstable();
        picked
            .into_iter()
            .map(|i| w.objects[i as usize].clone())
            .collect()
    }

    fn is_complete(&self, _: &str, _: &str) -> bool {
        self.world.complete
    }

    fn resolve(&self, group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Resolved {
        let w = self.world;
        let Some(by_namespace) = w
            .names
            .get(group)
            .and_then(|k| k.get(kind))
            .and_then(|n| n.get(name))
        else {
            return Resolved::None;
        };
        let mut all = Vec::new();
        by_namespace.matching(namespace, &mut all);
        all.sort_unstable();
        let dirs = &self.dirs;
        // Nearest first; at the same distance an object in the subject's namespace wins over
        // one without a namespace.
        let mut best: Option<(u32, bool)> = None;
        let mut tied: Vec<u32> = Vec::new();
        for &i in &all {
            let ns = object::namespace(&w.objects[i as usize]);
            let Some(d) = self.distance(i, dirs) else {
                continue;
            };
            let exact = namespace.is_some() && ns == namespace;
            let key = (d, !exact);
            match best {
                Some(b) if (b.0, !b.1) < key => {}
                Some(b) if (b.0, !b.1) == key => tied.push(i),
                _ => {
                    best = Some((d, exact));
                    tied = vec![i];
                }
            }
        }
        match tied.as_slice() {
            [] => Resolved::None,
            [one] => Resolved::Found(w.objects[*one as usize].clone()),
            many => {
                let first_file = w.file[many[0] as usize];
                if many.iter().all(|&i| w.file[i as usize] == first_file) {
                    // One file defining it twice: applied in order, the last one stays.
                    let last = many[many.len() - 1];
                    Resolved::Found(w.objects[last as usize].clone())
                } else {
                    Resolved::Ambiguous(
                        many.iter()
                            .map(|&i| w.objects[i as usize].clone())
                            .collect(),
                    )
                }
            }
        }
    }

    fn origin(&self, obj: &Value) -> Option<String> {
        let w = self.world;
        let i = *w.by_address.get(&(obj as *const Value as usize))?;
        let f = w.file[i as usize];
        w.files.get(f as usize).cloned()
    }

    fn class_of(&self, obj: &Value) -> Option<Class> {
        self.world.class_of(obj)
    }

    fn crds(&self) -> Option<&super::structural::Overrides> {
        Some(self.world.crds())
    }
}

impl Context for World {
    fn parsed_config(
        &self,
        file: &'static str,
        text: &str,
        parse: &dyn Fn(&str) -> ParsedConfig,
    ) -> Arc<ParsedConfig> {
        self.configs.get(file, text, parse)
    }
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.view_all().list(group, kind, namespace)
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        self.complete
    }
    fn resolve(&self, group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Resolved {
        self.view_all().resolve(group, kind, namespace, name)
    }
    fn origin(&self, obj: &Value) -> Option<String> {
        self.view_all().origin(obj)
    }
    fn class_of(&self, obj: &Value) -> Option<Class> {
        let i = *self.by_address.get(&(obj as *const Value as usize))?;
        self.class.get(i as usize).copied()
    }
    fn crds(&self) -> Option<&super::structural::Overrides> {
        Some(World::crds(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, marker: &str) -> Arc<Value> {
        Arc::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name}, "data": {"m": marker}}))
    }

    fn at(file: &str) -> Option<Origin> {
        let parts: Vec<String> = file.split('/').map(str::to_string).collect();
        Some(Origin {
            file: file.to_string(),
            dir: parts[..parts.len() - 1].to_vec(),
        })
    }

    fn marker(r: &Resolved) -> String {
        match r {
            Resolved::Found(o) => o["data"]["m"].as_str().unwrap_or("").to_string(),
            Resolved::Ambiguous(all) => format!("ambiguous:{}", all.len()),
            Resolved::None => "none".into(),
        }
    }

    #[test]
    fn references_resolve_to_the_nearest_candidate_and_siblings_never_meet() {
        let w = World::build(
            vec![
                (cm("subject", "s"), at("repo/prod/app/jm.yaml")),
                (cm("cfg", "same-file"), at("repo/prod/app/jm.yaml")),
                (cm("cfg", "same-dir"), at("repo/prod/app/cm.yaml")),
                (cm("cfg", "parent"), at("repo/prod/base.yaml")),
                (cm("cfg", "sibling"), at("repo/dev/app/cm.yaml")),
                (cm("only-sibling", "sibling"), at("repo/dev/x.yaml")),
                (cm("up", "parent"), at("repo/prod/base.yaml")),
                (cm("down", "child"), at("repo/prod/app/sub/c.yaml")),
            ],
            false,
        );
        let v = w.view(0);
        assert_eq!(
            marker(&v.resolve("", "ConfigMap", None, "cfg")),
            "same-file"
        );
        assert_eq!(marker(&v.resolve("", "ConfigMap", None, "up")), "parent");
        assert_eq!(marker(&v.resolve("", "ConfigMap", None, "down")), "child");
        assert_eq!(
            marker(&v.resolve("", "ConfigMap", None, "only-sibling")),
            "none"
        );
        // `list` gives one object per identity, the nearest, and nothing from dev/.
        let listed: Vec<String> = v
            .list("", "ConfigMap", None)
            .iter()
            .map(|o| o["data"]["m"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(listed, ["s", "same-file", "parent", "child"]);
        assert_eq!(
            v.origin(&v.list("", "ConfigMap", None)[2]).as_deref(),
            Some("repo/prod/base.yaml")
        );
    }

    #[test]
    fn equally_near_candidates_in_different_files_are_ambiguous() {
        let w = World::build(
            vec![
                (cm("subject", "s"), at("d/jm.yaml")),
                (cm("cfg", "a"), at("d/a.yaml")),
                (cm("cfg", "b"), at("d/b.yaml")),
                (cm("twice", "first"), at("d/c.yaml")),
                (cm("twice", "second"), at("d/c.yaml")),
            ],
            false,
        );
        let v = w.view(0);
        assert_eq!(
            marker(&v.resolve("", "ConfigMap", None, "cfg")),
            "ambiguous:2"
        );
        // One file applying the same object twice: the last one stays.
        assert_eq!(marker(&v.resolve("", "ConfigMap", None, "twice")), "second");
    }

    #[test]
    fn same_namespace_wins_at_equal_distance() {
        let mut in_ns = (*cm("cfg", "ns")).clone();
        in_ns["metadata"]["namespace"] = json!("flink");
        let w = World::new(vec![Arc::new(in_ns), cm("cfg", "no-ns")]);
        assert_eq!(
            marker(&w.resolve("", "ConfigMap", Some("flink"), "cfg")),
            "ns"
        );
        assert_eq!(
            marker(&w.resolve("", "ConfigMap", Some("other"), "cfg")),
            "no-ns"
        );
    }

    #[test]
    fn a_world_classifies_its_own_objects_once_and_only_those() {
        let jm = Arc::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "jm"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "flink:1.20", "args": ["jobmanager"]}]}}}}));
        let w = World::build(
            vec![(cm("a", "x"), at("d/a.yaml")), (jm.clone(), None)],
            false,
        );
        for o in w.objects() {
            assert_eq!(w.class_of(o), Some(object::classify(o)));
            assert_eq!(w.view(0).class_of(o), Some(object::classify(o)));
        }
        assert_eq!(
            w.class_of(&jm),
            Some(Class::Workload(Some(object::Role::JobManager)))
        );
        // An equal copy that the world did not hand out is not known by address.
        let copy = (*jm).clone();
        assert_eq!(w.class_of(&copy), None);
        assert_eq!(NoContext.class_of(&jm), None);
    }

    #[test]
    fn a_world_parses_each_configuration_text_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let w = World::build(Vec::<(Arc<Value>, Option<Origin>)>::new(), false);
        let calls = AtomicUsize::new(0);
        let parse = |text: &str| {
            calls.fetch_add(1, Ordering::Relaxed);
            let mut c = crate::flink::config::FlinkConfig::default();
            c.insert("text", text);
            (c, Vec::new())
        };
        let a = w.parsed_config("config.yaml", "a: 1", &parse);
        let view = w.view_all();
        let again = view.parsed_config("config.yaml", "a: 1", &parse);
        assert!(Arc::ptr_eq(&a, &again), "the view shares the world's memo");
        // Another text, or the same text as another file, is parsed on its own.
        let b = w.parsed_config("config.yaml", "a: 2", &parse);
        let legacy = w.parsed_config("flink-conf.yaml", "a: 1", &parse);
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        assert_eq!(b.0.get("text"), Some("a: 2"));
        assert_eq!(legacy.0.get("text"), Some("a: 1"));
        // A context without a memo parses every time.
        let _ = NoContext.parsed_config("config.yaml", "a: 1", &parse);
        assert_eq!(calls.load(Ordering::Relaxed), 4);
    }
}
