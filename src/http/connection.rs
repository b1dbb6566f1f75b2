//! One client connection: HTTP/1.1 with upgrades (WebSocket), watched by two timeouts.
//!
//! - The *header-read* timeout: from a request's first byte (or from accepting the connection)
//!   its headers must arrive within it; a client that trickles them, or sends nothing at all,
//!   would otherwise hold a socket forever for the price of a few bytes.
//! - The *idle* timeout: a keep-alive connection with no request in flight is closed after it.
//!
//! hyper's own header timeout also starts on an idle keep-alive connection, which would make
//! the two one; so the connection's socket and its requests report what happens to an
//! [`Activity`], and this task closes the connection when the deadline that applies passes.
//! While a request is in flight (its response still being written, a stream included) neither
//! applies: the request timeout layer and the streams' own keep-alives cover that time.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::clients::Counted;

#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionTimeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// What keeps a connection counted while its socket is open: after a WebSocket upgrade the
/// socket outlives this task, so these live in the socket itself.
/// Both are only held, for what their `Drop` does.
pub(super) struct Held {
    pub _counted: Counted,
    /// A place under `limits.max_connections`, when there is a cap.
    pub _permit: Option<OwnedSemaphorePermit>,
}

/// Serves `stream` until the client leaves, a timeout closes it, or — once `shutdown` fires —
/// its request in flight is answered (hyper stops keep-alive and closes it then).
pub(super) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    held: Held,
    app: Router,
    timeouts: ConnectionTimeouts,
    shutdown: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(WatchedIo {
        inner: stream,
        activity: activity.clone(),
        _held: held,
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.request_began();
            let app = app.clone();
            async move {
                // The client's address, as axum's `ConnectInfo` carries it: per-client limits
                // (rate limits, unopened streams) and the logs key on it.
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let response = match app.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(InFlightBody {
                        inner: body,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let connection = http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);
    let shutting_down = shutdown.cancelled_owned();
    tokio::pin!(shutting_down);
    let mut draining = false;
    loop {
        // Taken before the deadline is read: a change in between leaves a permit behind.
        let changed = activity.changed.notified();
        let deadline = activity.deadline(timeouts);
        if deadline.is_some_and(|at| at <= Instant::now()) {
            tracing::debug!("closing a connection that sent no complete request in time");
            return;
        }
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(far_future));
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "a client connection ended with an error");
                }
                return;
            }
            () = changed => {}
            () = sleep, if deadline.is_some() => {}
            () = shutting_down.as_mut(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}

/// What the connection's timeouts are measured from.
struct Activity {
    state: Mutex<ActivityState>,
    /// Wakes the connection task to recompute its deadline.
    changed: Notify,
}

struct ActivityState {
    in_flight: usize,
    /// Requests answered so far; before the first, the connection is new, not idle.
    served: u64,
    idle_since: Instant,
    /// When the first byte of the next request arrived, while idle.
    request_started_at: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                served: 0,
                idle_since: Instant::now(),
                request_started_at: None,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called on every read from the socket; only the first byte after idling matters.
    fn bytes_arrived(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.request_started_at.is_none() {
            state.request_started_at = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// hyper has read a request's headers and hands it to the router.
    fn request_began(self: &Arc<Self>) -> InFlight {
        {
            let mut state = self.state();
            state.in_flight += 1;
            state.request_started_at = None;
        }
        self.changed.notify_one();
        InFlight(self.clone())
    }

    fn deadline(&self, timeouts: ConnectionTimeouts) -> Option<Instant> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.request_started_at {
            Some(started) => started + timeouts.header_read,
            None if state.served == 0 => state.idle_since + timeouts.header_read,
            None => state.idle_since + timeouts.idle,
        })
    }
}

/// A request whose response has not been written whole; dropped with the response body.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        {
            let mut state = self.0.state();
            state.in_flight = state.in_flight.saturating_sub(1);
            state.served += 1;
            if state.in_flight == 0 {
                state.idle_since = Instant::now();
                state.request_started_at = None;
            }
        }
        self.0.changed.notify_one();
    }
}

/// A response body that keeps its request counted as in flight until hyper drops it, which
/// it does once the body is written (or the client left).
struct InFlightBody {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling [`Activity`] when bytes arrive.
struct WatchedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
    _held: Held,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
