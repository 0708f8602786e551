//! A cluster cache whose every watched store has synced with the given objects, fed the way
//! the watchers feed it: list items without `apiVersion`/`kind`, one `Init ... InitDone` per
//! store (`admission`, `cache`, `declared`, `server`; each uses a part).
#![allow(dead_code)]

use flink_admission::server::cluster::{self, ClusterCache};
use kube::runtime::watcher::Event;
use serde_json::Value;

/// A synced cache holding `objects` (each in the store of its group and kind).
pub fn synced_cache<'a>(objects: impl IntoIterator<Item = &'a Value>) -> ClusterCache {
    let cache = ClusterCache::new(cluster::watched());
    sync(&cache, objects);
    cache
}

/// Completes a (re)list of every watched store of `cache` with `objects`.
pub fn sync<'a>(cache: &ClusterCache, objects: impl IntoIterator<Item = &'a Value>) {
    let objects: Vec<&Value> = objects.into_iter().collect();
    for r in cluster::watched() {
        let store = cache
            .store(r.group, r.kind)
            .expect("a store per watched resource");
        store.apply(Event::Init);
        for o in objects
            .iter()
            .filter(|o| o["kind"] == r.kind && group(o) == r.group)
        {
            // list items come without apiVersion/kind: the store sets them
            let mut item = (*o).clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            store.apply(Event::InitApply(item));
        }
        store.apply(Event::InitDone);
    }
}

/// The API group of an object (`""` for the core group).
pub fn group(o: &Value) -> &str {
    o["apiVersion"]
        .as_str()
        .and_then(|a| a.split_once('/').map(|(g, _)| g))
        .unwrap_or("")
}
