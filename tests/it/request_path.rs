//! Where a review runs: small reviews with an in-memory context on the request's own task,
//! large ones and contexts that may block on the blocking pool; both held to the time budget
//! and the fail mode, both answering the same.

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use flink_admission::admission::{FailMode, Policy};
use flink_admission::engine::Context;
use flink_admission::server::metrics::Metrics;
use flink_admission::server::routes::INLINE_BODY_LIMIT;
use flink_admission::server::{AppState, ContextProvider, Offline, webhook_router};
use serde_json::{Value, json};

use crate::common::{call, engine, fixture};

/// Remembers the threads its lookups ran on; answers "nothing there".
#[derive(Default)]
struct Recorder {
    threads: Mutex<Vec<ThreadId>>,
}

impl Context for Recorder {
    fn list(&self, _: &str, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        if let Ok(mut t) = self.threads.lock() {
            t.push(std::thread::current().id());
        }
        Vec::new()
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        true
    }
}

/// Panics on every lookup.
struct Panics;

impl Context for Panics {
    fn list(&self, group: &str, kind: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        panic!("injected panic listing {group}/{kind}")
    }
    fn is_complete(&self, _: &str, _: &str) -> bool {
        true
    }
}

/// A provider over a fixed context that says whether its lookups may block.
struct Provider {
    context: Arc<dyn Context>,
    may_block: bool,
}

impl ContextProvider for Provider {
    fn context(&self) -> Arc<dyn Context> {
        self.context.clone()
    }
    fn synced(&self) -> bool {
        true
    }
    fn lookups_may_block(&self) -> bool {
        self.may_block
    }
}

fn state(
    provider: Arc<dyn ContextProvider>,
    fail_mode: FailMode,
    budget: Duration,
) -> Arc<AppState> {
    let policy = Policy {
        fail_mode,
        ..Policy::default()
    };
    Arc::new(AppState::new(
        engine(),
        provider,
        policy,
        Arc::new(Metrics::new()),
        budget,
    ))
}

async fn post(router: &Router, uri: &str, body: &Value) -> (StatusCode, Value) {
    let (status, bytes) = call(router, "POST", uri, body.to_string().into_bytes()).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The JobManager review with an annotation that makes the body larger than the inline limit.
fn large_review() -> Value {
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["object"]["metadata"]["annotations"] =
        json!({"example.com/padding": "x".repeat(INLINE_BODY_LIMIT + 1)});
    review
}

/// The answer without what differs between the two reviews (nothing should).
fn verdict(v: &Value) -> Value {
    let r = &v["response"];
    json!([
        r["uid"],
        r["allowed"],
        r["status"],
        r["warnings"],
        r["auditAnnotations"],
        r["patch"]
    ])
}

#[tokio::test]
async fn small_reviews_run_on_the_request_task_and_large_ones_on_the_blocking_pool() {
    let here = std::thread::current().id();
    let recorder = Arc::new(Recorder::default());
    let provider = Arc::new(Provider {
        context: recorder.clone(),
        may_block: false,
    });
    let router = webhook_router(
        state(provider, FailMode::Open, Duration::from_secs(4)),
        3 << 20,
    );
    let small = fixture("jobmanager-deployment-update.json");
    assert!(small.to_string().len() <= INLINE_BODY_LIMIT);
    let large = large_review();
    assert!(large.to_string().len() > INLINE_BODY_LIMIT);

    for endpoint in ["/validate", "/mutate"] {
        recorder.threads.lock().unwrap().clear();
        let (s, small_answer) = post(&router, endpoint, &small).await;
        assert_eq!(s, StatusCode::OK);
        let threads = recorder.threads.lock().unwrap().clone();
        assert!(!threads.is_empty(), "the review looked nothing up");
        assert!(
            threads.iter().all(|t| *t == here),
            "{endpoint}: a small review left the request's thread"
        );

        recorder.threads.lock().unwrap().clear();
        let (s, large_answer) = post(&router, endpoint, &large).await;
        assert_eq!(s, StatusCode::OK);
        let threads = recorder.threads.lock().unwrap().clone();
        assert!(!threads.is_empty());
        assert!(
            threads.iter().all(|t| *t != here),
            "{endpoint}: a large review ran on the request's thread"
        );
        assert_eq!(verdict(&small_answer), verdict(&large_answer), "{endpoint}");
    }
    // validate denies the JobManager Deployment for FLK102 either way
    let (_, v) = post(&router, "/validate", &small).await;
    assert_eq!(v["response"]["allowed"], false, "{v}");
}

#[tokio::test]
async fn a_context_that_may_block_always_goes_to_the_blocking_pool() {
    let here = std::thread::current().id();
    let recorder = Arc::new(Recorder::default());
    let provider = Arc::new(Provider {
        context: recorder.clone(),
        may_block: true,
    });
    let router = webhook_router(
        state(provider, FailMode::Open, Duration::from_secs(4)),
        3 << 20,
    );
    let (s, _) = post(
        &router,
        "/validate",
        &fixture("jobmanager-deployment-update.json"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let threads = recorder.threads.lock().unwrap().clone();
    assert!(!threads.is_empty());
    assert!(threads.iter().all(|t| *t != here));
}

#[tokio::test]
async fn a_panic_in_an_inline_review_is_answered_per_the_fail_mode_and_counted() {
    for (mode, allowed) in [(FailMode::Open, true), (FailMode::Closed, false)] {
        let provider = Arc::new(Provider {
            context: Arc::new(Panics),
            may_block: false,
        });
        let state = state(provider, mode, Duration::from_secs(4));
        let router = webhook_router(state.clone(), 3 << 20);
        let (s, v) = post(
            &router,
            "/validate",
            &fixture("jobmanager-deployment-update.json"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "an internal error is still an answer");
        let r = &v["response"];
        assert_eq!(r["uid"], "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75");
        assert_eq!(r["allowed"], allowed, "{mode:?}: {v}");
        assert_eq!(r["auditAnnotations"]["fail-mode"], mode.as_str(), "{v}");
        let text = state.metrics.encode();
        assert!(
            text.contains(
                r#"flink_admission_requests_total{endpoint="validate",decision="error"} 1"#
            ),
            "{text}"
        );
        assert_eq!(state.metrics.internal_error_count(), 1);
        // the server goes on answering after the panic
        let (s, v) = post(&router, "/mutate", &fixture("flinkdeployment-delete.json")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["response"]["allowed"], true, "{v}");
    }
}

#[tokio::test]
async fn an_inline_review_over_its_budget_is_answered_per_the_fail_mode() {
    for (mode, allowed) in [(FailMode::Open, true), (FailMode::Closed, false)] {
        // No review finishes in no time: the inline answer is replaced by the fail mode's.
        let state = state(Arc::new(Offline), mode, Duration::ZERO);
        let router = webhook_router(state.clone(), 3 << 20);
        let (s, v) = post(
            &router,
            "/validate",
            &fixture("flinkdeployment-create.json"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let r = &v["response"];
        assert_eq!(r["allowed"], allowed, "{mode:?}: {v}");
        if allowed {
            let w = r["warnings"][0].as_str().unwrap_or("");
            assert!(w.contains("did not finish within 0 ms"), "{v}");
        }
        let text = state.metrics.encode();
        assert!(
            text.contains(r#"requests_total{endpoint="validate",decision="timeout"} 1"#),
            "{text}"
        );
    }
}

#[tokio::test]
async fn offline_reviews_answer_as_replay_does() {
    // The server's bytes and `replay`'s tree are the same answer.
    let state = state(Arc::new(Offline), FailMode::Open, Duration::from_secs(4));
    let router = webhook_router(state, 3 << 20);
    for name in [
        "flinkdeployment-create.json",
        "jobmanager-deployment-update.json",
        "scale-update.json",
    ] {
        for (uri, endpoint) in [
            ("/validate", flink_admission::admission::Endpoint::Validate),
            ("/mutate", flink_admission::admission::Endpoint::Mutate),
        ] {
            let review = fixture(name);
            let (s, served) = post(&router, uri, &review).await;
            assert_eq!(s, StatusCode::OK);
            let replayed = flink_admission::admission::replay_one(
                &engine(),
                review,
                endpoint,
                &flink_admission::engine::NoContext,
                &Policy::default(),
            )
            .unwrap();
            assert_eq!(served, replayed, "{name} {uri}");
        }
    }
}
