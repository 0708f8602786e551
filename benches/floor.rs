//! The floor for `scripts/load.sh`: the least a TLS webhook built from this project's crates
//! can do per request. Same listener (axum-server over rustls with ring), same TLS settings
//! (`server::tls::load`: TLS 1.3 and 1.2, ALPN h2 and http/1.1), same runtime (tokio
//! multi-thread, one worker per core), same routes and body limit; each request's body is read
//! in full and answered with one fixed AdmissionReview, never parsed.
//!
//! With `--parse` it is the floor of any webhook that reads the object: the body is parsed
//! into a `serde_json::Value` (as the webhook does) and the answer carries the request's uid;
//! no rule runs. The gap between the two floors is what reading the review costs by itself.
//!
//! ```text
//! cargo bench --bench floor --no-run      # build it (release settings); scripts/load.sh does this
//! <bench executable> --cert tls.crt --key tls.key [--addr 127.0.0.1:18444] [--parse]
//! ```
//!
//! Run by `cargo bench` without `--cert`, it only says how to use it: it measures nothing on
//! its own, the load generator does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum_server::tls_rustls::RustlsConfig;
use clap::Parser;
use flink_admission::server::TlsFiles;
use flink_admission::server::tls;

/// What every request gets: a v1 AdmissionReview allowing the object (the uid is a constant,
/// so the answer costs nothing to build).
const ANSWER: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"00000000-0000-0000-0000-000000000000","allowed":true}}"#;

/// The webhook's default body limit (`serve --body-limit`).
const BODY_LIMIT: usize = 3 * 1024 * 1024;

#[derive(Parser)]
#[command(about = "A TLS server that answers every POST with a fixed AdmissionReview")]
struct Args {
    /// Serving certificate (PEM), e.g. from `flink-admission certs`.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:18444")]
    addr: SocketAddr,
    /// Parse each body as JSON and answer with its uid (the floor of a webhook that reads
    /// the review) instead of answering without reading it.
    #[arg(long)]
    parse: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

async fn answer(_body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], ANSWER)
}

/// Reads the review the way the webhook does (the whole body into a `Value`) and answers it
/// with the request's uid; a body that is not JSON gets 400.
async fn parse_and_answer(body: Bytes) -> axum::response::Response {
    let review: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let uid = review
        .pointer("/request/uid")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let answer = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": uid, "allowed": true},
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (Some(cert), Some(key)) = (args.cert, args.key) else {
        println!(
            "floor: a fixed-answer TLS server for scripts/load.sh; run it with --cert FILE --key FILE"
        );
        return if args.bench {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let files = TlsFiles {
        cert,
        key,
        client_ca: None,
    };
    let loaded = match tls::load(&files) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("floor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("floor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let app = if args.parse {
            Router::new()
                .route("/validate", post(parse_and_answer))
                .route("/mutate", post(parse_and_answer))
        } else {
            Router::new()
                .route("/validate", post(answer))
                .route("/mutate", post(answer))
        };
        let app = app.layer(DefaultBodyLimit::max(BODY_LIMIT));
        let listener = std::net::TcpListener::bind(args.addr).map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        println!(
            "floor: https://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let server =
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(loaded.config))
                .map_err(|e| e.to_string())?;
        tokio::select! {
            r = server.serve(app.into_make_service()) => r.map_err(|e| e.to_string()),
            _ = flink_admission::server::termination() => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::FAILURE
        }
    }
}
