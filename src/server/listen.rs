//! The webhook port's accept loop: TLS, HTTP/1.1 and HTTP/2 (hyper-util's auto builder) and a
//! shutdown that drains every connection that was accepted, in three phases:
//!
//! 1. serving: connections are accepted up to the cap ([`super::conns`]);
//! 2. closing (after `--shutdown-delay`): the listener is closed. A connection still in its TLS
//!    handshake finishes it and is served; an HTTP/2 connection gets a GOAWAY once it has
//!    started a request and has none in flight (the client learns which requests were taken
//!    and retries the others elsewhere); an HTTP/1 connection is closed after its next answer
//!    (`Connection: close`, set by the server's middleware), or once it has had no request in
//!    flight for [`LINGER`] since the listener closed; a connection of either kind that never
//!    starts a request is closed after [`LINGER`]. So a request written just as the listener
//!    closed is still answered;
//! 3. stopped (after `--shutdown-grace`): whatever is left is dropped.
//!
//! axum-server's loop, used before, dropped connections still in their handshake at shutdown
//! and closed those that had not sent their first request yet: requests written just as the
//! listener closed got no answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

use super::conns::Limited;

/// How long an HTTP/1 connection with no request in flight is kept once the listener closed.
pub const LINGER: Duration = Duration::from_secs(1);

/// Where the port is in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    Closing,
    Stopped,
}

/// What one port needs.
pub struct Port {
    pub listener: std::net::TcpListener,
    pub tls: RustlsConfig,
    pub app: Router,
    pub builder: Arc<Builder<TokioExecutor>>,
    /// The cap and idle timeout, with their metrics.
    pub limited: Limited<()>,
    /// A connection must have started its first request within this time after its handshake.
    pub first_request_timeout: Duration,
    pub handshake_timeout: Duration,
}

/// Serve `port` until `phase` reaches [`Phase::Stopped`], or until it reaches
/// [`Phase::Closing`] and every connection has ended.
pub async fn serve(port: Port, mut phase: watch::Receiver<Phase>) -> std::io::Result<()> {
    let listener = TcpListener::from_std(port.listener)?;
    let port = Arc::new(PortShared {
        tls: port.tls,
        app: port.app,
        builder: port.builder,
        limited: port.limited,
        first_request_timeout: port.first_request_timeout,
        handshake_timeout: port.handshake_timeout,
    });
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        if *phase.borrow() != Phase::Serving {
            break;
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    // over the cap: closed here, before any TLS work
                    let Some(slot) = port.limited.admit() else { continue };
                    let port = port.clone();
                    let phase = phase.clone();
                    tasks.spawn(async move { connection(tcp, slot, port, phase).await });
                }
                Err(e) => {
                    // out of descriptors and the like: pause rather than spin
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            changed = phase.changed() => if changed.is_err() { break },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Stopped {
                    tasks.abort_all();
                    break;
                }
            }
        }
    }
    Ok(())
}

struct PortShared {
    tls: RustlsConfig,
    app: Router,
    builder: Arc<Builder<TokioExecutor>>,
    limited: Limited<()>,
    first_request_timeout: Duration,
    handshake_timeout: Duration,
}

/// Requests of one connection: how many are in flight, whether one ever started, and when
/// the last one ended.
#[derive(Default)]
struct Requests {
    in_flight: AtomicUsize,
    started: AtomicBool,
    last_end: std::sync::Mutex<Option<Instant>>,
}

async fn connection(
    tcp: TcpStream,
    slot: super::conns::Slot,
    port: Arc<PortShared>,
    mut phase: watch::Receiver<Phase>,
) {
    let _ = tcp.set_nodelay(true);
    let acceptor = tokio_rustls::TlsAcceptor::from(port.tls.get_inner());
    // A handshake under way when the listener closes is finished: its request is served.
    let tls = tokio::select! {
        done = tokio::time::timeout(port.handshake_timeout, acceptor.accept(tcp)) => match done {
            Ok(Ok(tls)) => tls,
            _ => return,
        },
        _ = phase.wait_for(|p| *p == Phase::Stopped) => return,
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let handshake_done = Instant::now();
    let io = TokioIo::new(port.limited.wrap(tls, slot));
    let requests = Arc::new(Requests::default());
    let service = {
        let requests = requests.clone();
        let app = port.app.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            use tower_service::Service as _;
            requests.started.store(true, Ordering::Release);
            requests.in_flight.fetch_add(1, Ordering::AcqRel);
            let requests = requests.clone();
            let call = app.clone().call(req);
            async move {
                let response = call.await;
                requests.in_flight.fetch_sub(1, Ordering::AcqRel);
                if let Ok(mut last) = requests.last_end.lock() {
                    *last = Some(Instant::now());
                }
                response
            }
        })
    };
    let conn = port.builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    // Serving: until the connection ends, its first request is overdue, or the listener closes.
    let first_request_due = handshake_done + port.first_request_timeout;
    let mut waiting_first = true;
    loop {
        if *phase.borrow() != Phase::Serving {
            break;
        }
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep_until(first_request_due), if waiting_first => {
                if !requests.started.load(Ordering::Acquire) {
                    return;
                }
                waiting_first = false;
            }
            changed = phase.changed() => if changed.is_err() { return },
        }
    }
    // Closing: a connection that has not started a request yet gets LINGER to start one (it
    // may have finished its handshake just as the listener closed, its request on the way).
    let closing_since = Instant::now();
    let mut goaway_sent = false;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = phase.wait_for(|p| *p == Phase::Stopped) => return,
            _ = tick.tick() => {
                let started = requests.started.load(Ordering::Acquire);
                let in_flight = requests.in_flight.load(Ordering::Acquire);
                if h2 {
                    // GOAWAY once a request started and none is in flight: the client learns
                    // which it sent were taken and retries the others on another connection.
                    // (hyper cut a stream still waiting for its answer when the GOAWAY went
                    // out first: the drill below lost it.)
                    if !goaway_sent && started && in_flight == 0 {
                        conn.as_mut().graceful_shutdown();
                        goaway_sent = true;
                    } else if !started && closing_since.elapsed() >= LINGER {
                        return;
                    }
                    continue;
                }
                if in_flight > 0 {
                    continue;
                }
                let last = requests.last_end.lock().ok().and_then(|l| *l);
                let quiet_since = last.map_or(closing_since, |l| l.max(closing_since));
                if quiet_since.elapsed() >= LINGER {
                    return;
                }
            }
        }
    }
}
