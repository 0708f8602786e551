//! The webhook server: axum over rustls (ring) for `/validate` and `/mutate`, a plain-HTTP probe
//! port for `/healthz`, `/readyz` and `/metrics`, TLS hot reload, graceful shutdown, and the
//! cluster context (kube-rs watchers) the engine reads through [`crate::engine::Context`].

pub mod audit;
pub mod certs;
pub mod cluster;
pub mod conns;
pub mod listen;
pub mod metrics;
pub mod routes;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

pub use routes::{AppState, ContextProvider, Fixed, Limits, Offline, probe_router, webhook_router};
pub use tls::TlsFiles;

use crate::admission::Policy;
use crate::engine::rule::Platform;
use crate::engine::{Engine, Settings};

/// `--platform`: one type with the manifests' `--platform` (the engine's platform, or auto).
pub use crate::engine::rule::PlatformChoice;

/// Everything `serve` needs, independent of how it was parsed.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub probe_addr: SocketAddr,
    pub tls: TlsFiles,
    pub settings: Settings,
    pub platform: PlatformChoice,
    /// Watch the cluster for cross-object rules; false: `NoContext`, no API calls at all.
    pub cluster: bool,
    pub policy: Policy,
    /// Per-request time budget; keep it below the webhook's `timeoutSeconds`.
    pub budget: Duration,
    pub body_limit: usize,
    /// After SIGTERM, readiness goes false and we keep serving this long (endpoints update).
    pub shutdown_delay: Duration,
    /// Then in-flight requests get this long to finish.
    pub shutdown_grace: Duration,
    /// Certificate files are polled this often (besides the directory watch).
    pub cert_poll: Duration,
    /// A watch of the cluster cache failing this long makes the cache not synced (readiness
    /// off, fail mode applies) until a new list succeeds.
    pub cache_stale_after: Duration,
    /// A connection must deliver a request's headers within this time, counted from the end
    /// of the TLS handshake or of the previous response (so it also closes idle keep-alive
    /// connections). Slow or silent clients (slowloris) cannot hold a connection longer.
    pub header_timeout: Duration,
    /// The whole body must arrive within this time after the headers; a slower body is
    /// rejected (400) and its connection closed.
    pub body_timeout: Duration,
    /// Review slots, JSON values per review, bytes of bodies in flight ([`Limits`]).
    pub limits: Limits,
    /// Connections open at once on the webhook port (kept below the descriptor limit:
    /// [`conns::connection_cap`]).
    pub max_connections: usize,
    /// A connection that has read and written nothing for this long is closed (both ports).
    pub idle_timeout: Duration,
    /// Scan the cluster cache this often and keep PolicyReports up to date (needs the
    /// cluster; `None`: never, the default).
    pub audit_interval: Option<Duration>,
}

impl ServeOptions {
    /// Defaults for the given TLS files (tests and `--dev` start from here).
    pub fn new(tls: TlsFiles) -> ServeOptions {
        ServeOptions {
            addr: SocketAddr::from(([0, 0, 0, 0], 8443)),
            probe_addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls,
            settings: crate::admission::webhook_settings(None).unwrap_or_default(),
            platform: PlatformChoice::Auto,
            cluster: true,
            policy: Policy::default(),
            budget: Duration::from_secs(4),
            body_limit: 3 * 1024 * 1024,
            shutdown_delay: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(20),
            cert_poll: Duration::from_secs(10),
            cache_stale_after: cluster::DEFAULT_STALE_AFTER,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            max_connections: conns::DEFAULT_MAX_CONNECTIONS,
            idle_timeout: conns::DEFAULT_IDLE_TIMEOUT,
            audit_interval: None,
        }
    }
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub probe_addr: SocketAddr,
    pub state: Arc<AppState>,
    done: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Wait until both listeners have stopped (after the shutdown future resolved).
    pub async fn wait(self) {
        let _ = self.done.await;
        for b in self.background {
            b.abort();
        }
    }
}

/// A throwaway CA and a certificate for `localhost`/`127.0.0.1` in `dir` (`serve --dev`).
/// Returns the files to serve and the CA certificate's path.
pub fn dev_files(dir: &Path) -> Result<(TlsFiles, PathBuf), String> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    certs::write_bundle(dir, &names, 30)?;
    Ok((
        TlsFiles {
            cert: dir.join("tls.crt"),
            key: dir.join("tls.key"),
            client_ca: None,
        },
        dir.join("ca.crt"),
    ))
}

fn engine_for(settings: &Settings, platform: Option<Platform>) -> Result<Engine, String> {
    let mut settings = settings.clone();
    if let Some(p) = platform {
        settings.platform = p;
    }
    Engine::embedded(settings)
}

/// Bind both listeners and serve until `shutdown` resolves; then readiness goes false, the
/// server keeps answering for `shutdown_delay`, stops accepting, and lets in-flight requests
/// finish within `shutdown_grace`. `provider`: the context source, or `None` to build it from
/// the options (a cluster cache when `cluster`, else the request alone).
pub async fn start(
    opts: ServeOptions,
    provider: Option<Arc<dyn ContextProvider>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, String> {
    let metrics = Arc::new(metrics::Metrics::new());
    let mut background = Vec::new();
    let fixed_platform = match opts.platform {
        PlatformChoice::Fixed(p) => Some(p),
        PlatformChoice::Auto => None,
    };
    let mut cache = None;
    let mut audit_client = None;
    let mut discovered: Option<Platform> = None;
    let provider: Arc<dyn ContextProvider> = match provider {
        Some(p) => p,
        None if opts.cluster => {
            let client = kube::Client::try_default().await.map_err(|e| {
                format!("cannot reach the Kubernetes API (use --no-cluster to run without it): {e}")
            })?;
            if fixed_platform.is_none() {
                // `--platform auto`: OpenShift when the API server serves security.openshift.io.
                // If discovery fails, the Namespace annotations decide once the cache syncs.
                match client.list_api_groups().await {
                    Ok(list) => {
                        discovered = Some(Platform::from_api_groups(
                            list.groups.iter().map(|g| g.name.as_str()),
                        ));
                        tracing::info!(platform = ?discovered, "platform from API discovery");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "API discovery failed; platform from Namespaces")
                    }
                }
            }
            let c = cluster::ClusterCache::new(cluster::watched())
                .with_stale_after(opts.cache_stale_after);
            background.extend(c.start(client.clone()));
            audit_client = Some(client);
            cache = Some(c.clone());
            Arc::new(c)
        }
        None => Arc::new(Offline),
    };
    let fixed_platform = fixed_platform.or(discovered);
    let engine = engine_for(&opts.settings, fixed_platform)?;
    let state = Arc::new(
        AppState::new(
            engine,
            provider,
            opts.policy.clone(),
            metrics.clone(),
            opts.budget,
        )
        .with_limits(opts.limits),
    );
    if let (Some(interval), Some(client), Some(cache)) =
        (opts.audit_interval, audit_client, cache.clone())
    {
        background.push(tokio::spawn(audit::run_periodically(
            client,
            cache,
            state.clone(),
            interval,
        )));
    }
    if let (Some(cache), None) = (cache, fixed_platform) {
        state.set_platform_pending(true);
        let state = state.clone();
        let settings = opts.settings.clone();
        background.push(tokio::spawn(async move {
            loop {
                if let Some(p) = cache.detect_platform() {
                    match engine_for(&settings, Some(p)) {
                        Ok(e) => {
                            tracing::info!(platform = ?p, "platform detected");
                            state.set_engine(e);
                        }
                        Err(e) => tracing::error!(error = %e, "cannot build the engine"),
                    }
                    state.set_platform_pending(false);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }));
    }

    let loaded = tls::load(&opts.tls)?;
    let rustls = RustlsConfig::from_config(loaded.config.clone());
    let reloader = tls::Reloader::new(opts.tls.clone(), &loaded, rustls.clone(), metrics.clone());
    background.push(tokio::spawn(reloader.run(opts.cert_poll)));

    let probe_listener = std::net::TcpListener::bind(opts.probe_addr)
        .map_err(|e| format!("probe address {}: {e}", opts.probe_addr))?;
    probe_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let probe_addr = probe_listener.local_addr().map_err(|e| e.to_string())?;
    let max_connections = conns::connection_cap(opts.max_connections, conns::descriptor_limit());
    if max_connections < opts.max_connections {
        tracing::warn!(
            wanted = opts.max_connections,
            max_connections,
            "--max-connections lowered to stay below the open-file limit"
        );
    }
    let counted = |port: &'static str| {
        let labels = metrics::PortLabels { port };
        (
            metrics.connections_refused.get_or_create(&labels).clone(),
            metrics.connections_open.get_or_create(&labels).clone(),
        )
    };
    let std_listener = std::net::TcpListener::bind(opts.addr)
        .map_err(|e| format!("webhook address {}: {e}", opts.addr))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;

    let body_timeout = opts.body_timeout;
    // set on SIGTERM: every response from then on closes its connection
    let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = {
        let draining = draining.clone();
        webhook_router(state.clone(), opts.body_limit).layer(axum::middleware::from_fn(
            move |req, next| guard(body_timeout, draining.clone(), req, next),
        ))
    };
    let (phase, phase_rx) = tokio::sync::watch::channel(listen::Phase::Serving);
    let webhook = {
        let (refused, open) = counted("webhook");
        let mut builder =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        builder.http1().timer(hyper_util::rt::TokioTimer::new());
        builder.http2().timer(hyper_util::rt::TokioTimer::new());
        limit_http(&mut builder, opts.header_timeout);
        let port = listen::Port {
            listener: std_listener,
            tls: rustls,
            app,
            builder: Arc::new(builder),
            limited: conns::Limited::new((), max_connections, opts.idle_timeout, refused, open),
            // the header timeout does not cover a new connection until hyper has seen its
            // first bytes (protocol detection): this does
            first_request_timeout: opts.header_timeout,
            handshake_timeout: TLS_HANDSHAKE_TIMEOUT,
        };
        tokio::spawn(async move {
            if let Err(e) = listen::serve(port, phase_rx).await {
                tracing::error!(error = %e, "webhook server failed");
            }
        })
    };
    // The probe port: plain HTTP, the same header, idle and connection bounds (a small cap).
    let probe_handle: Handle<SocketAddr> = Handle::new();
    let probe = {
        let app = probe_router(state.clone());
        let (idle, (refused, open)) = (opts.idle_timeout, counted("probe"));
        let mut server = axum_server::from_tcp(probe_listener)
            .map_err(|e| e.to_string())?
            .map(|plain| {
                conns::Limited::new(plain, conns::PROBE_MAX_CONNECTIONS, idle, refused, open)
            })
            .handle(probe_handle.clone());
        limit_http(server.http_builder(), opts.header_timeout);
        let server = server.first_request_timeout(opts.header_timeout);
        tokio::spawn(async move {
            if let Err(e) = server.serve(app.into_make_service()).await {
                tracing::error!(error = %e, "probe server failed");
            }
        })
    };
    let done = {
        let state = state.clone();
        let (delay, grace) = (opts.shutdown_delay, opts.shutdown_grace);
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!(
                delay_ms = delay.as_millis() as u64,
                grace_ms = grace.as_millis() as u64,
                "shutting down: readiness off"
            );
            state.begin_shutdown();
            // Keep-alive connections are closed after their next response, while new ones are
            // still accepted: when the listener closes, clients hold no idle connection the
            // shutdown could close under a request they are sending.
            draining.store(true, std::sync::atomic::Ordering::Release);
            tokio::time::sleep(delay).await;
            let _ = phase.send(listen::Phase::Closing);
            let mut webhook = webhook;
            if tokio::time::timeout(grace, &mut webhook).await.is_err() {
                let _ = phase.send(listen::Phase::Stopped);
                let _ = webhook.await;
            }
            probe_handle.graceful_shutdown(Some(Duration::from_secs(1)));
            let _ = probe.await;
            tracing::info!("stopped");
        })
    };
    tracing::info!(%addr, %probe_addr, cluster = opts.cluster, fail_mode = opts.policy.fail_mode.as_str(), "serving");
    Ok(Running {
        addr,
        probe_addr,
        state,
        done,
        background,
    })
}

/// A TLS handshake must finish within this time (axum-server's limit, kept).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest buffer hyper keeps for a connection's unparsed bytes (HTTP/1): request headers
/// must fit (admission requests send well under 4 KiB of headers); a body is read through it
/// in pieces. hyper's default (about 400 KiB) let 1,000 connections with unfinished headers
/// hold 400 MB.
pub const HTTP1_MAX_BUFFER: usize = 64 * 1024;
/// HTTP/2: largest header list, and the flow-control windows (how much a client may send
/// before the server reads it: hyper's 1 MiB windows let each connection park 1 MiB).
pub const HTTP2_MAX_HEADER_LIST: u32 = 16 * 1024;
pub const HTTP2_WINDOW: u32 = 256 * 1024;
/// HTTP/2: requests open at once on one connection.
pub const HTTP2_MAX_STREAMS: u32 = 32;

/// The HTTP bounds both ports share.
fn limit_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    header_timeout: Duration,
) {
    builder
        .http1()
        .header_read_timeout(header_timeout)
        .max_buf_size(HTTP1_MAX_BUFFER);
    builder
        .http2()
        .max_header_list_size(HTTP2_MAX_HEADER_LIST)
        .initial_stream_window_size(HTTP2_WINDOW)
        .initial_connection_window_size(HTTP2_WINDOW)
        .max_concurrent_streams(HTTP2_MAX_STREAMS);
}

/// The request body fails once `timeout` has passed since its headers: a client trickling its
/// body (slowloris) gets an error instead of holding a connection and a task. While
/// `draining`, every response closes its connection.
async fn guard(
    timeout: Duration,
    draining: Arc<std::sync::atomic::AtomicBool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + timeout;
    let (parts, body) = req.into_parts();
    let data = body.into_data_stream();
    let timed = futures::stream::unfold(Some(data), move |state| async move {
        let mut data = state?;
        match tokio::time::timeout_at(deadline, data.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(data))),
            Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e)), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the request body did not arrive within {} ms",
                        timeout.as_millis()
                    ),
                )),
                None,
            )),
        }
    });
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from_stream(timed));
    let mut response = next.run(req).await;
    if draining.load(std::sync::atomic::Ordering::Acquire) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// SIGTERM or Ctrl-C.
pub async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `flink-admission serve`: start, print where, serve until SIGTERM, drain, return.
pub async fn run(opts: ServeOptions) -> Result<(), String> {
    let running = start(opts, None, termination()).await?;
    println!("webhook: https://{}", running.addr);
    println!("probes: http://{}", running.probe_addr);
    running.wait().await;
    Ok(())
}

/// Logs: `text` or `json`, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
