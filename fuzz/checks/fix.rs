//! The fix engine (`src/engine/fix.rs`, `Engine::fix`) on arbitrary objects (JSON, or YAML as
//! the seeds from the fixtures are written): the operations `Engine::fix` returns apply with
//! `json-patch` to the object they were made for and give exactly the fixed object; every
//! single finding's fix, materialised with `fix::patch`, applies the same way.

use std::sync::LazyLock;

use flink_admission::engine::rule::{Platform, PodSecurity};
use flink_admission::engine::{Engine, NoContext, Op, Scope, Settings, Subject, fix};
use serde_json::Value;

fn engine(platform: Platform) -> Engine {
    let settings = Settings {
        platform,
        scope: Scope::All,
        pod_security: PodSecurity::Restricted,
        ..Settings::default()
    };
    Engine::embedded(settings).expect("embedded rules")
}

static ENGINES: LazyLock<[Engine; 2]> =
    LazyLock::new(|| [engine(Platform::Openshift), engine(Platform::Kubernetes)]);

fn json_patch_of(ops: &[Op]) -> json_patch::Patch {
    let v = serde_json::to_value(ops).expect("ops serialise");
    serde_json::from_value(v).expect("ops are RFC 6902")
}

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    let object: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(_) => match std::str::from_utf8(data).map(serde_saphyr::from_str::<Value>) {
            Ok(Ok(v)) => v,
            _ => return,
        },
    };
    if !object.is_object() {
        return;
    }
    for engine in ENGINES.iter() {
        let subject = Subject::offline(&object, &NoContext);
        let report = engine.check(&subject);
        for finding in &report.findings {
            let Some(f) = &finding.fix else { continue };
            if let Ok(applied) = fix::patch(&object, &f.ops) {
                let mut copy = object.clone();
                json_patch::patch(&mut copy, &json_patch_of(&applied)).unwrap_or_else(|e| {
                    panic!("{}'s patch {applied:?} does not apply: {e}", finding.rule)
                });
            }
        }
        let outcome = engine.fix(&subject);
        let mut patched = object.clone();
        json_patch::patch(&mut patched, &json_patch_of(&outcome.ops))
            .unwrap_or_else(|e| panic!("the fix patch {:?} does not apply: {e}", outcome.ops));
        assert_eq!(
            patched, outcome.object,
            "the patch does not give the fixed object"
        );
    }
}
