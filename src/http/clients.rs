//! Long-lived clients — WebSocket connections, SSE and multipart streams — and what ties them to
//! the server's life: a cap on how many are open at once, and the shutdown signal they watch so
//! each can say goodbye in its own protocol (close 1001, `event: complete`, `--graphql--`).
//!
//! The server waits for their count to reach zero before it exits; they are not requests a
//! connection could finish on its own, so the HTTP server alone cannot wait for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::execute::shape::errors_body;
use crate::response::GraphqlError;
use crate::telemetry::StreamKind;

/// A count of things open (connections, streaming clients) that can be waited on to reach zero.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    inner: Arc<TallyInner>,
}

#[derive(Debug, Default)]
struct TallyInner {
    open: AtomicUsize,
    /// Woken when the last one leaves.
    emptied: Notify,
}

/// One counted thing; it counts as open until this is dropped.
#[derive(Debug)]
pub(crate) struct Counted {
    inner: Arc<TallyInner>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.inner.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.emptied.notify_waiters();
        }
    }
}

impl Tally {
    pub(crate) fn enter(&self) -> Counted {
        self.inner.open.fetch_add(1, Ordering::AcqRel);
        Counted {
            inner: self.inner.clone(),
        }
    }

    /// Counts one more unless `limit` are open already.
    fn enter_below(&self, limit: Option<usize>) -> Option<Counted> {
        self.inner
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| match limit {
                Some(limit) if open >= limit => None,
                _ => Some(open + 1),
            })
            .ok()
            .map(|_| Counted {
                inner: self.inner.clone(),
            })
    }

    pub(crate) fn open(&self) -> usize {
        self.inner.open.load(Ordering::Acquire)
    }

    /// Resolves once none is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let emptied = self.inner.emptied.notified();
            tokio::pin!(emptied);
            // Registered before the count is read, so a last one leaving in between is seen.
            emptied.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            emptied.await;
        }
    }
}

/// The registry of open streaming clients; cheap to clone, all clones share one count.
#[derive(Clone, Debug)]
pub struct StreamingClients {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `None`: no cap.
    limit: Option<usize>,
    open: Tally,
    /// The same clients by transport, for `/metrics`.
    websockets: Tally,
    sse: Tally,
    multipart: Tally,
    shutdown: CancellationToken,
}

/// One admitted client; it counts as open until this is dropped.
#[derive(Debug)]
pub(crate) struct StreamingSlot {
    _all: Counted,
    _of_kind: Counted,
}

/// Why a streaming client was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("too many streaming clients (WebSocket, SSE, multipart) are connected (at most {limit}); retry later")]
    Full { limit: usize },
    #[error("the server is shutting down; reconnect to another instance")]
    ShuttingDown,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::Full { .. } => "TOO_MANY_STREAMING_CLIENTS",
            Refusal::ShuttingDown => "SHUTTING_DOWN",
        }
    }

    /// 503 with a GraphQL error body: the client may retry, here later or elsewhere.
    pub(crate) fn into_response(self) -> Response {
        let body = errors_body(&[GraphqlError::new(self.to_string(), self.code())]);
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        super::telemetry::mark_refused(&mut response, self.code());
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        response
    }
}

impl Default for StreamingClients {
    fn default() -> Self {
        let limit = crate::config::limits::LimitsConfig::default()
            .max_streaming_clients
            .as_usize();
        Self::new(limit, CancellationToken::new())
    }
}

impl StreamingClients {
    /// At most `limit` clients at once (`None`: any number); they end when `shutdown` fires.
    pub fn new(limit: Option<usize>, shutdown: CancellationToken) -> Self {
        Self {
            inner: Arc::new(Inner {
                limit,
                open: Tally::default(),
                websockets: Tally::default(),
                sse: Tally::default(),
                multipart: Tally::default(),
                shutdown,
            }),
        }
    }

    /// Counts a new client in, unless the cap is reached or the server is shutting down.
    pub(crate) fn admit(&self, kind: StreamKind) -> Result<StreamingSlot, Refusal> {
        if self.inner.shutdown.is_cancelled() {
            return Err(Refusal::ShuttingDown);
        }
        let all = self
            .inner
            .open
            .enter_below(self.inner.limit)
            .ok_or(Refusal::Full {
                limit: self.inner.limit.unwrap_or(usize::MAX),
            })?;
        Ok(StreamingSlot {
            _all: all,
            _of_kind: self.tally(kind).enter(),
        })
    }

    fn tally(&self, kind: StreamKind) -> &Tally {
        match kind {
            StreamKind::WebSocket => &self.inner.websockets,
            StreamKind::Sse => &self.inner.sse,
            StreamKind::Multipart => &self.inner.multipart,
        }
    }

    /// How many clients are open now.
    pub fn open(&self) -> usize {
        self.inner.open.open()
    }

    /// How many clients of one transport are open now.
    pub fn open_of(&self, kind: StreamKind) -> usize {
        self.tally(kind).open()
    }

    /// Fires when the server begins to shut down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// Resolves once no client is open.
    pub async fn all_closed(&self) {
        self.inner.open.all_closed().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_and_frees_with_the_slot() {
        let clients = StreamingClients::new(Some(2), CancellationToken::new());
        let first = clients.admit(StreamKind::Sse).unwrap();
        let _second = clients.admit(StreamKind::Sse).unwrap();
        assert_eq!(
            clients.admit(StreamKind::Sse).unwrap_err(),
            Refusal::Full { limit: 2 }
        );
        drop(first);
        assert!(clients.admit(StreamKind::Sse).is_ok());
    }

    #[tokio::test]
    async fn shutting_down_refuses_and_waits_for_the_last_client() {
        let clients = StreamingClients::new(None, CancellationToken::new());
        let slot = clients.admit(StreamKind::Sse).unwrap();
        clients.shutdown().cancel();
        assert_eq!(
            clients.admit(StreamKind::Sse).unwrap_err(),
            Refusal::ShuttingDown
        );
        let waiting = tokio::spawn({
            let clients = clients.clone();
            async move { clients.all_closed().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(slot);
        waiting.await.unwrap();
    }
}
