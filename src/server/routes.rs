//! The routers: `POST /validate` and `POST /mutate` (TLS port), `GET /healthz`, `/readyz`,
//! `/metrics` (plain probe port). Handlers decode once, run the shared admission function within
//! the time budget, and never panic on any body.
//!
//! Where a review runs: a body of at most [`INLINE_BODY_LIMIT`] bytes whose context answers
//! from memory ([`ContextProvider::lookups_may_block`] false: `--no-cluster`, and a cluster
//! cache small enough that its objects stay decoded) is reviewed on the request's own task,
//! which costs a fraction of a hop to the blocking pool; its answer is still held to the
//! budget (an overrun answers per the fail mode). A larger body, or a context that may wait, goes to the blocking pool, where the
//! budget cuts the wait short and the runtime's workers are never held.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::metrics::{EndpointLabels, FindingLabels, Metrics, ResourceLabels};
use crate::admission::{self, Endpoint, Outcome, Policy, Review};
use crate::engine::{Context, Engine, NoContext};

/// Bodies up to this many bytes are reviewed on the request's task when the context cannot
/// block (see the module docs). Real reviews of Flink objects are 2 to 30 KiB; a review of
/// 64 KiB costs well under a millisecond of engine time.
pub const INLINE_BODY_LIMIT: usize = 64 * 1024;

/// `--max-reviews`: reviews decoded or judged at once. A review waits for a slot within its
/// time budget, then gets `503`; one that overran its budget keeps its slot until its work
/// ends, so abandoned work cannot pile up past this.
pub const DEFAULT_MAX_REVIEWS: usize = 8;

/// `--max-values`: JSON values in one review ([`admission::decode_limited`]). Real Flink
/// objects hold a few hundred; a Deployment with 900 containers about 40,000.
pub const DEFAULT_MAX_VALUES: usize = 100_000;

/// `--max-body-bytes-in-flight`: request bodies held at once, counted by their declared
/// length (`Content-Length`), or as the whole `--body-limit` when they declare none.
pub const DEFAULT_BODY_BYTES_IN_FLIGHT: usize = 24 * 1024 * 1024;

/// Where the engine's view of other objects comes from.
pub trait ContextProvider: Send + Sync + 'static {
    /// The context for one request (cheap: stores are shared).
    fn context(&self) -> Arc<dyn Context>;
    /// Whether lookups can be answered (readiness).
    fn synced(&self) -> bool;
    /// Per-resource sync state, for metrics.
    fn sync_state(&self) -> Vec<(String, bool)> {
        Vec::new()
    }
    /// Whether a lookup may wait (I/O, a lock held across I/O, a slow dependency). `false`
    /// only for contexts that answer from memory: their small reviews run on the request's
    /// task instead of the blocking pool.
    fn lookups_may_block(&self) -> bool {
        true
    }
}

/// `--no-cluster`: the request alone; always ready.
pub struct Offline;

/// One `NoContext` for every offline request.
static NO_CONTEXT: LazyLock<Arc<dyn Context>> = LazyLock::new(|| Arc::new(NoContext));

impl ContextProvider for Offline {
    fn context(&self) -> Arc<dyn Context> {
        NO_CONTEXT.clone()
    }
    fn synced(&self) -> bool {
        true
    }
    fn lookups_may_block(&self) -> bool {
        false
    }
}

/// A fixed context (tests, embedding).
pub struct Fixed(pub Arc<dyn Context>);

impl ContextProvider for Fixed {
    fn context(&self) -> Arc<dyn Context> {
        self.0.clone()
    }
    fn synced(&self) -> bool {
        true
    }
}

impl ContextProvider for super::cluster::ClusterCache {
    fn context(&self) -> Arc<dyn Context> {
        Arc::new(self.clone())
    }
    fn synced(&self) -> bool {
        super::cluster::ClusterCache::synced(self)
    }
    fn sync_state(&self) -> Vec<(String, bool)> {
        super::cluster::ClusterCache::sync_state(self)
    }
    /// The reflectors' stores, in memory; a large store may decode many objects per lookup.
    fn lookups_may_block(&self) -> bool {
        self.decodes_on_lookup()
    }
}

/// Everything a handler needs.
pub struct AppState {
    engine: RwLock<Arc<Engine>>,
    provider: Arc<dyn ContextProvider>,
    pub policy: Policy,
    pub metrics: Arc<Metrics>,
    /// Time a review may take before the fail mode answers instead.
    pub budget: Duration,
    shutting_down: AtomicBool,
    /// `--platform auto` with a cluster: waiting to learn the platform.
    platform_pending: AtomicBool,
    /// Review slots ([`DEFAULT_MAX_REVIEWS`]).
    reviews: Arc<Semaphore>,
    max_reviews: usize,
    /// JSON values one review may hold ([`DEFAULT_MAX_VALUES`]).
    max_values: usize,
    /// Bytes of request bodies that may be held at once ([`DEFAULT_BODY_BYTES_IN_FLIGHT`]).
    body_bytes: Arc<Semaphore>,
    max_body_bytes: usize,
}

/// The bounds on what requests may hold at once ([`AppState::with_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_reviews: usize,
    pub max_values: usize,
    pub body_bytes_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_reviews: DEFAULT_MAX_REVIEWS,
            max_values: DEFAULT_MAX_VALUES,
            body_bytes_in_flight: DEFAULT_BODY_BYTES_IN_FLIGHT,
        }
    }
}

impl AppState {
    pub fn new(
        engine: Engine,
        provider: Arc<dyn ContextProvider>,
        policy: Policy,
        metrics: Arc<Metrics>,
        budget: Duration,
    ) -> AppState {
        AppState {
            engine: RwLock::new(Arc::new(engine)),
            provider,
            policy,
            metrics,
            budget,
            shutting_down: AtomicBool::new(false),
            platform_pending: AtomicBool::new(false),
            reviews: Arc::new(Semaphore::new(DEFAULT_MAX_REVIEWS)),
            max_reviews: DEFAULT_MAX_REVIEWS,
            max_values: DEFAULT_MAX_VALUES,
            body_bytes: Arc::new(Semaphore::new(DEFAULT_BODY_BYTES_IN_FLIGHT)),
            max_body_bytes: DEFAULT_BODY_BYTES_IN_FLIGHT,
        }
    }

    /// The same state with other [`Limits`] (each at least 1).
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        let reviews = limits.max_reviews.clamp(1, Semaphore::MAX_PERMITS);
        let bytes = limits.body_bytes_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        self.reviews = Arc::new(Semaphore::new(reviews));
        self.max_reviews = reviews;
        self.max_values = limits.max_values.max(1);
        self.body_bytes = Arc::new(Semaphore::new(bytes));
        self.max_body_bytes = bytes;
        self
    }

    pub fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(e) => e.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Swap the engine (platform detected).
    pub fn set_engine(&self, engine: Engine) {
        let engine = Arc::new(engine);
        match self.engine.write() {
            Ok(mut e) => *e = engine,
            Err(p) => *p.into_inner() = engine,
        }
    }

    pub fn provider(&self) -> &Arc<dyn ContextProvider> {
        &self.provider
    }

    pub fn set_platform_pending(&self, pending: bool) {
        self.platform_pending.store(pending, Ordering::Release);
    }

    /// Readiness goes false for good.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::Acquire)
            && !self.platform_pending.load(Ordering::Acquire)
            && self.provider.synced()
    }
}

/// The webhook router (serve it over TLS). `body_limit` in bytes.
pub fn webhook_router(state: Arc<AppState>, body_limit: usize) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), body_limit),
            body_budget,
        ))
        .with_state(state)
}

/// A `503` with a JSON error and `Retry-After: 1`: the webhook is at a bound, not broken. The
/// API server applies the webhook's `failurePolicy` to it.
fn overloaded(state: &AppState, endpoint: &'static str, start: Instant, why: String) -> Response {
    state
        .metrics
        .count_request(endpoint, "overloaded", start.elapsed().as_secs_f64());
    tracing::warn!(
        endpoint,
        error = why.as_str(),
        "request refused: over a bound"
    );
    let mut response = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({"error": why, "code": 503}),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    response
}

/// Reserve a request's body in the budget of bytes in flight before it is read, and hold it
/// until the answer: over the budget, `503` at once, the body unread. A body declaring more
/// than `body_limit` is left to the body limit (`413`).
async fn body_budget(
    State((state, body_limit)): State<(Arc<AppState>, usize)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let want = match declared {
        Some(n) if n > body_limit as u64 => return next.run(req).await,
        Some(n) => n as usize,
        None => body_limit,
    };
    let want = u32::try_from(want.min(state.max_body_bytes)).unwrap_or(u32::MAX);
    let endpoint = match req.uri().path() {
        "/mutate" => "mutate",
        "/validate" => "validate",
        _ => "other",
    };
    let Ok(_held) = state.body_bytes.clone().try_acquire_many_owned(want) else {
        let why = format!(
            "the webhook holds its limit of {} bytes of request bodies in flight (--max-body-bytes-in-flight); retry",
            state.max_body_bytes
        );
        return overloaded(&state, endpoint, Instant::now(), why);
    };
    next.run(req).await
}

/// The probe router (plain HTTP): health, readiness, metrics.
pub fn probe_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.is_ready() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        let why: Vec<String> = state
            .provider
            .sync_state()
            .into_iter()
            .filter(|(_, s)| !s)
            .map(|(r, _)| r)
            .collect();
        let msg = if state.shutting_down.load(Ordering::Acquire) {
            "not ready: shutting down\n".to_string()
        } else if !why.is_empty() {
            format!("not ready: cache not synced: {}\n", why.join(", "))
        } else {
            "not ready\n".to_string()
        };
        (StatusCode::SERVICE_UNAVAILABLE, msg)
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    for (resource, synced) in state.provider.sync_state() {
        state
            .metrics
            .cache_synced
            .get_or_create(&ResourceLabels { resource })
            .set(i64::from(synced));
    }
    state.metrics.ready.set(i64::from(state.is_ready()));
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.metrics.encode(),
    )
}

async fn validate(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, Endpoint::Validate, body).await
}

async fn mutate(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, Endpoint::Mutate, body).await
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Why a review has no answer of its own.
enum Unfinished {
    Panicked(String),
    OverBudget,
}

async fn run_review(
    state: &AppState,
    review: Review,
    endpoint: Endpoint,
    body_len: usize,
    start: Instant,
    slot: OwnedSemaphorePermit,
) -> (Arc<Review>, Result<Outcome, Unfinished>) {
    let engine = state.engine();
    let context = state.provider.context();
    if body_len <= INLINE_BODY_LIMIT && !state.provider.lookups_may_block() {
        let ran = catch_unwind(AssertUnwindSafe(|| {
            admission::review(&engine, &review, endpoint, context.as_ref(), &state.policy)
        }));
        let ran = match ran {
            Ok(_) if start.elapsed() > state.budget => Err(Unfinished::OverBudget),
            Ok(outcome) => Ok(outcome),
            Err(panic) => Err(Unfinished::Panicked(panic_text(panic.as_ref()))),
        };
        return (Arc::new(review), ran);
    }
    let review = Arc::new(review);
    let policy = state.policy.clone();
    let task = {
        let review = review.clone();
        // The slot goes with the work: a review abandoned past its budget keeps it until done.
        tokio::task::spawn_blocking(move || {
            let outcome = admission::review(&engine, &review, endpoint, context.as_ref(), &policy);
            drop(slot);
            outcome
        })
    };
    let budget = state.budget.saturating_sub(start.elapsed());
    let ran = match tokio::time::timeout(budget, task).await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(join_error)) => Err(Unfinished::Panicked(join_error.to_string())),
        Err(_) => Err(Unfinished::OverBudget),
    };
    (review, ran)
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    format!("panicked: {what}")
}

async fn handle(
    state: Arc<AppState>,
    endpoint: Endpoint,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let start = Instant::now();
    let ep = endpoint.as_str();
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            state
                .metrics
                .count_request(ep, "invalid", start.elapsed().as_secs_f64());
            let error = rejection.body_text();
            tracing::warn!(
                endpoint = ep,
                status = status.as_u16(),
                error = error.as_str(),
                "request body rejected"
            );
            return json_response(
                status,
                &json!({"error": rejection.body_text(), "code": status.as_u16()}),
            );
        }
    };
    // A slot before the tree is built: decoding is most of a large review's memory.
    let slot = match tokio::time::timeout(
        state.budget.saturating_sub(start.elapsed()),
        state.reviews.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(slot)) => slot,
        _ => {
            let why = format!(
                "all {} review slots of the webhook stayed busy for {} ms (--max-reviews); retry",
                state.max_reviews,
                state.budget.as_millis()
            );
            return overloaded(&state, ep, start, why);
        }
    };
    let review = match admission::decode_limited(&body, state.max_values) {
        Ok(r) => r,
        Err(e) => {
            state
                .metrics
                .count_request(ep, "invalid", start.elapsed().as_secs_f64());
            let error = e.to_string();
            tracing::warn!(
                endpoint = ep,
                error = error.as_str(),
                "malformed AdmissionReview"
            );
            let status = match e {
                admission::DecodeError::TooManyValues(_) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut body = admission::error_body(&e);
            body["code"] = json!(status.as_u16());
            return json_response(status, &body);
        }
    };
    let body_len = body.len();
    drop(body);
    let (review, ran) = run_review(&state, review, endpoint, body_len, start, slot).await;
    let (outcome, label): (Outcome, &'static str) = match ran {
        Ok(outcome) => {
            let label = outcome.decision.as_str();
            (outcome, label)
        }
        Err(Unfinished::Panicked(error)) => {
            // A panic inside the review: a bug. Answer per --fail-mode and count it.
            state
                .metrics
                .internal_errors
                .get_or_create(&EndpointLabels { endpoint: ep })
                .inc();
            tracing::error!(
                uid = review.request.uid.as_str(),
                error = error.as_str(),
                "review failed"
            );
            (
                admission::unfinished(&review, endpoint, &state.policy, "internal error"),
                "error",
            )
        }
        Err(Unfinished::OverBudget) => {
            let why = format!(
                "checks did not finish within {} ms",
                state.budget.as_millis()
            );
            (
                admission::unfinished(&review, endpoint, &state.policy, &why),
                "timeout",
            )
        }
    };
    let elapsed = start.elapsed();
    state
        .metrics
        .count_request(ep, label, elapsed.as_secs_f64());
    for (rule, severity) in &outcome.findings {
        state
            .metrics
            .findings
            .get_or_create(&FindingLabels {
                endpoint: ep,
                rule: rule.clone(),
                severity: severity.as_str(),
            })
            .inc();
    }
    let req = &review.request;
    let rules: Vec<&str> = outcome.findings.iter().map(|(r, _)| r.as_str()).collect();
    let rules = rules.join(",");
    // Values from the request are recorded as strings: the text format quotes and escapes
    // them (a newline or ESC cannot forge or colour a line), the JSON format escapes them.
    tracing::info!(
        uid = req.uid.as_str(),
        endpoint = ep,
        kind = req.kind.kind.as_str(),
        namespace = req.namespace.as_deref().unwrap_or(""),
        name = req.name.as_deref().unwrap_or(""),
        operation = req.operation_raw.as_str(),
        sub_resource = req.sub_resource.as_deref().unwrap_or(""),
        dry_run = req.dry_run,
        decision = label,
        skipped = outcome.skip_reason.unwrap_or(""),
        rules = rules.as_str(),
        warnings_dropped = outcome.warnings_dropped,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "admission review"
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        outcome.response.review_bytes(&review.api_version),
    )
        .into_response()
}
