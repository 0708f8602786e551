//! Bounds on connections, for both ports: at most so many open at once (a connection over the
//! cap is closed as soon as it is accepted, before its TLS handshake), and each closed once
//! it has neither read nor written for the idle timeout (HTTP/2 connections that went quiet,
//! clients that stopped reading their answer; HTTP/1's header timeout closes idle keep-alive
//! connections sooner).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// `--max-connections`: connections open at once on the webhook port (see
/// [`connection_cap`] for the descriptor limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;

/// Connections open at once on the probe port (kubelet probes and a metrics scraper need a
/// few).
pub const PROBE_MAX_CONNECTIONS: usize = 64;

/// `--idle-timeout`: a connection with no byte read or written for this long is closed.
/// Longer than any review's time budget, so a connection waiting for its answer is never cut.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Descriptors kept free for everything but client connections: the probe port's
/// connections, the listeners, the cluster watches, certificate reads, logs.
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// The cap actually used: `wanted`, but below the process's soft descriptor limit less
/// [`RESERVED_DESCRIPTORS`] and the probe port's cap, so accepting never fails for want of
/// descriptors and `/readyz` keeps answering. At least 1.
pub fn connection_cap(wanted: usize, descriptor_limit: Option<u64>) -> usize {
    let Some(limit) = descriptor_limit else {
        return wanted.max(1);
    };
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS + PROBE_MAX_CONNECTIONS as u64);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// The soft limit on open files (`ulimit -n`), from `/proc/self/limits` (Linux); `None`
/// elsewhere or when unlimited.
pub fn descriptor_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// An acceptor that counts connections against a cap and closes idle ones.
#[derive(Clone)]
pub struct Limited<A> {
    inner: A,
    slots: Arc<Semaphore>,
    idle: Duration,
    refused: Counter,
    open: Gauge,
}

impl<A> Limited<A> {
    /// `inner` (TLS or plain) with at most `cap` connections, each closed after `idle`.
    /// Connections refused for the cap count in `refused`; `open` follows those open.
    pub fn new(inner: A, cap: usize, idle: Duration, refused: Counter, open: Gauge) -> Limited<A> {
        Limited {
            inner,
            slots: Arc::new(Semaphore::new(cap.clamp(1, Semaphore::MAX_PERMITS))),
            idle,
            refused,
            open,
        }
    }
}

impl<A> Limited<A> {
    /// A slot for one more connection, or `None` (counted as refused) at the cap.
    pub fn admit(&self) -> Option<Slot> {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            self.refused.inc();
            tracing::debug!("connection refused: the connection cap is reached");
            return None;
        };
        self.open.inc();
        Some(Slot {
            _permit: permit,
            open: self.open.clone(),
        })
    }

    /// `stream`, holding `slot` and closed after the idle timeout.
    pub fn wrap<S>(&self, stream: S, slot: Slot) -> Idle<S> {
        Idle::new(stream, slot, self.idle)
    }
}

/// A slot under the cap, counted in the open gauge while held.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.dec();
    }
}

type Accepted<S, T> = io::Result<(Idle<S>, T)>;

impl<A, I, S> Accept<I, S> for Limited<A>
where
    A: Accept<I, S> + Clone + Send + Sync + 'static,
    A::Future: Send + 'static,
    A::Stream: Send,
    A::Service: Send,
    I: Send + 'static,
    S: Send + 'static,
{
    type Stream = Idle<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = Accepted<A::Stream, A::Service>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Some(slot) = self.admit() else {
            drop(stream);
            return Box::pin(async {
                Err(io::Error::other(
                    "connection refused: the connection cap is reached",
                ))
            });
        };
        let inner = self.inner.clone();
        let idle = self.idle;
        Box::pin(async move {
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((Idle::new(stream, slot, idle), service))
        })
    }
}

/// A connection's stream that fails once nothing was read or written for `idle`, and holds
/// its slot under the cap until dropped.
pub struct Idle<S> {
    inner: S,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
    _slot: Slot,
}

impl<S> Idle<S> {
    fn new(inner: S, slot: Slot, idle: Duration) -> Idle<S> {
        let now = Instant::now();
        Idle {
            inner,
            idle,
            last: now,
            timer: Box::pin(tokio::time::sleep_until(now + idle)),
            _slot: slot,
        }
    }

    /// Waiting on the stream: ready with an error once idle for too long. The timer is moved
    /// on lazily (when it fires early because there was traffic), not at every read.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = self.last + self.idle;
            if Instant::now() >= due {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connection idle for {} s: closed", self.idle.as_secs_f64()),
                ));
            }
            self.timer.as_mut().reset(due);
        }
    }
}

impl<S> Idle<S> {
    /// After a write: bytes written count as activity; a write that cannot go on counts
    /// toward the idle timeout (a client that stopped reading its answer).
    fn written(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.poll_idle(cx).map(Err),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, data);
        this.written(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(connection_cap(1000, None), 1000);
        assert_eq!(connection_cap(1000, Some(1_048_576)), 1000);
        // 1024 descriptors: 1024 - 128 - 64
        assert_eq!(connection_cap(1000, Some(1024)), 832);
        assert_eq!(connection_cap(1000, Some(10)), 1);
        assert_eq!(connection_cap(0, None), 1);
    }

    #[test]
    fn the_descriptor_limit_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(descriptor_limit().is_some_and(|n| n > 0));
        }
    }
}
