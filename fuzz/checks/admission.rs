//! AdmissionReview decoding and review (`src/admission`): any body either decodes or gives a
//! decode error, never a panic; a decoded review is answered on both endpoints and both
//! platforms; the answer echoes the uid, and a `/mutate` patch applies with `json-patch` to the
//! object that was sent.

use std::sync::LazyLock;

use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Engine, NoContext};
use serde_json::Value;

fn engine(platform: Platform) -> Engine {
    let mut settings = admission::webhook_settings(None).expect("default settings");
    settings.platform = platform;
    Engine::embedded(settings).expect("embedded rules")
}

static ENGINES: LazyLock<[Engine; 2]> =
    LazyLock::new(|| [engine(Platform::Openshift), engine(Platform::Kubernetes)]);

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    let Ok(review) = admission::decode(data) else {
        return;
    };
    let policy = Policy::default();
    for engine in ENGINES.iter() {
        for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
            let outcome = admission::review(engine, &review, endpoint, &NoContext, &policy);
            let response = outcome.response.clone();
            assert_eq!(response.uid, review.request.uid);
            if let Some(patch) = &response.patch {
                assert_eq!(endpoint, Endpoint::Mutate, "a patch from /validate");
                let ops = patch.decode().expect("the patch is base64 JSON");
                let ops: json_patch::Patch =
                    serde_json::from_value(ops).expect("the patch is RFC 6902");
                let mut object = review
                    .request
                    .object
                    .as_deref()
                    .cloned()
                    .unwrap_or(Value::Null);
                json_patch::patch(&mut object, &ops)
                    .unwrap_or_else(|e| panic!("the patch does not apply: {e}"));
            }
            let answer = outcome.response.into_review(&review.api_version);
            let text = serde_json::to_vec(&answer).expect("the answer serialises");
            let back: Value = serde_json::from_slice(&text).expect("the answer is JSON");
            assert_eq!(
                back["response"]["uid"].as_str(),
                Some(review.request.uid.as_str())
            );
        }
    }
}
