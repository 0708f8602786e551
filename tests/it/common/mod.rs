//! Helpers shared by the integration tests: the webhook engine and recorded reviews here, the
//! rest in the modules below.

pub mod apiserver;
pub mod child;
pub mod corpus;
pub mod files;
pub mod header;
pub mod secret_volume;
pub mod synced_cache;

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use flink_admission::admission;
use flink_admission::engine::Engine;
use serde_json::Value;

/// The engine with the webhook's settings.
pub fn engine() -> Engine {
    Engine::embedded(admission::webhook_settings(None).unwrap()).unwrap()
}

/// A recorded AdmissionReview from `tests/fixtures/admission/`.
pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/admission")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// One request through `router` in process (no socket): the status and the body's bytes.
pub async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}
