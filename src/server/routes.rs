//! The routers: `POST /validate` and `POST /mutate` (TLS port), `GET /healthz`, `/readyz`,
//! `/metrics` (plain probe port). Handlers decode once, run the shared admission function on a
//! blocking thread within the time budget, and never panic on any body.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::metrics::{EndpointLabels, FindingLabels, Metrics, ResourceLabels};
use crate::admission::{self, Endpoint, Outcome, Policy};
use crate::engine::{Context, Engine, NoContext};

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
}

/// `--no-cluster`: the request alone; always ready.
pub struct Offline;

impl ContextProvider for Offline {
    fn context(&self) -> Arc<dyn Context> {
        Arc::new(NoContext)
    }
    fn synced(&self) -> bool {
        true
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
        }
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
        .with_state(state)
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
            tracing::warn!(endpoint = ep, status = status.as_u16(), error = %rejection.body_text(), "request body rejected");
            return json_response(
                status,
                &json!({"error": rejection.body_text(), "code": status.as_u16()}),
            );
        }
    };
    let review = match admission::decode(&body) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            state
                .metrics
                .count_request(ep, "invalid", start.elapsed().as_secs_f64());
            tracing::warn!(endpoint = ep, error = %e, "malformed AdmissionReview");
            return json_response(StatusCode::BAD_REQUEST, &admission::error_body(&e));
        }
    };
    let engine = state.engine();
    let context = state.provider.context();
    let policy = state.policy.clone();
    let task = {
        let review = review.clone();
        tokio::task::spawn_blocking(move || {
            admission::review(&engine, &review, endpoint, context.as_ref(), &policy)
        })
    };
    let (outcome, label): (Outcome, &'static str) =
        match tokio::time::timeout(state.budget, task).await {
            Ok(Ok(outcome)) => {
                let label = outcome.decision.as_str();
                (outcome, label)
            }
            Ok(Err(join_error)) => {
                // A panic inside the review: a bug. Answer per --fail-mode and count it.
                state
                    .metrics
                    .internal_errors
                    .get_or_create(&EndpointLabels { endpoint: ep })
                    .inc();
                tracing::error!(uid = %review.request.uid, error = %join_error, "review failed");
                (
                    admission::unfinished(&review, endpoint, &state.policy, "internal error"),
                    "error",
                )
            }
            Err(_) => {
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
    tracing::info!(
        uid = %req.uid,
        endpoint = ep,
        kind = %req.kind.kind,
        namespace = req.namespace.as_deref().unwrap_or(""),
        name = req.name.as_deref().unwrap_or(""),
        operation = %req.operation_raw,
        sub_resource = req.sub_resource.as_deref().unwrap_or(""),
        dry_run = req.dry_run,
        decision = label,
        skipped = outcome.skip_reason.unwrap_or(""),
        rules = %rules.join(","),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "admission review"
    );
    json_response(
        StatusCode::OK,
        &outcome.response.into_review(&review.api_version),
    )
}
