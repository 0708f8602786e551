//! What the engine may know about the rest of the world: the other objects of a linted file
//! set, or a cluster cache. The engine only reads through this trait; it never does I/O.

use std::sync::Arc;

use serde_json::Value;

use crate::flink::object;

/// A view of other objects.
pub trait Context: Send + Sync {
    /// Objects of `group`/`kind` (`""` is the core group) that may live in `namespace`
    /// (`None`: the namespace is not known, so every namespace may match).
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>>;

    /// Whether `list` for this kind is the whole truth (a synced cluster cache: absence means
    /// the object does not exist) or a partial view (files: it may exist in the cluster).
    fn is_complete(&self, group: &str, kind: &str) -> bool;

    /// A note for findings whose answer depends on an incomplete view (for example, the
    /// webhook's fail-open policy when its cache is not ready). `None` by default.
    fn incomplete_note(&self) -> Option<&str> {
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

/// A fixed set of objects, such as the files `flink-lint` was given. Incomplete: an object
/// missing from the set may exist in the cluster.
#[derive(Debug, Default, Clone)]
pub struct ObjectSet {
    objects: Vec<Arc<Value>>,
    complete: bool,
}

impl ObjectSet {
    pub fn new(objects: Vec<Arc<Value>>) -> Self {
        ObjectSet {
            objects,
            complete: false,
        }
    }
    /// A set that is the whole truth (tests, and a synced cluster snapshot).
    pub fn complete(objects: Vec<Arc<Value>>) -> Self {
        ObjectSet {
            objects,
            complete: true,
        }
    }
    pub fn objects(&self) -> &[Arc<Value>] {
        &self.objects
    }
}

impl Context for ObjectSet {
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.objects
            .iter()
            .filter(|o| {
                object::kind(o) == kind
                    && object::group(o) == group
                    && object::same_namespace(object::namespace(o), namespace)
            })
            .cloned()
            .collect()
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        self.complete
    }
}
