//! Identical subgraph requests in flight together share one call and its answer.
//!
//! Under load many clients ask for the same thing at once (the same products, the same user),
//! and each would cost the subgraph and Seam a call. Requests are identical when they go to the
//! same subgraph with the same body and the same headers — the headers the header rules put on
//! the request, so two clients whose forwarded `Authorization` differs never share. The layer
//! sits inside the header rules and outside retries and the breaker, so the shared call is
//! retried once for all its waiters. A mutation's requests are never shared: each must reach the
//! subgraph. An answer is shared only with requests that were waiting when it came; the next
//! identical request makes a new call.
//!
//! The call runs as long as one of its waiters does: a client that goes away does not cancel it
//! for the others, and when every waiter is gone the call is dropped with them.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use http::{HeaderName, HeaderValue};

use prometheus::IntCounter;

use super::in_flight::InFlightTable;
use super::{FetchError, SubgraphRequest, SubgraphResponse};
use crate::plan::OperationKind;

type Outcome = Result<Arc<SubgraphResponse>, FetchError>;

/// What makes two requests to one subgraph the same request.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct CallKey {
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The calls in flight to one subgraph.
pub(super) type InFlight = InFlightTable<CallKey, Outcome>;

/// The calls in flight, and the counter of requests that joined one (how much sharing saves).
#[derive(Clone)]
pub(super) struct DedupeLayer(pub Arc<InFlight>, pub IntCounter);

impl<S> tower::Layer<S> for DedupeLayer {
    type Service = Dedupe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Dedupe {
            in_flight: self.0.clone(),
            joined: self.1.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(super) struct Dedupe<S> {
    in_flight: Arc<InFlight>,
    joined: IntCounter,
    inner: S,
}

impl<S> tower::Service<SubgraphRequest> for Dedupe<S>
where
    S: tower::Service<SubgraphRequest, Response = SubgraphResponse, Error = FetchError>,
    S::Future: Send + 'static,
{
    type Response = SubgraphResponse;
    type Error = FetchError;
    type Future = BoxFuture<'static, Result<SubgraphResponse, FetchError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: SubgraphRequest) -> Self::Future {
        if request.operation == OperationKind::Mutation {
            return self.inner.call(request).boxed();
        }
        let key = CallKey {
            body: request.body.clone(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        };
        let inner = &mut self.inner;
        let (call, started) = self
            .in_flight
            .join_or_start(key, || inner.call(request).map(|r| r.map(Arc::new)));
        if !started {
            self.joined.inc();
        }
        async move {
            // Every waiter shares the answer's `data`; each gets its own `errors`, which the
            // layers outside rewrite (the last waiter takes them without a copy).
            call.await
                .map(|answer| Arc::try_unwrap(answer).unwrap_or_else(|shared| (*shared).clone()))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RequestContext;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::{Service, ServiceExt};

    /// Answers once `gate` gives it a permit, counting calls.
    #[derive(Clone)]
    struct Gated {
        calls: Arc<AtomicUsize>,
        gate: Arc<tokio::sync::Semaphore>,
    }

    impl Service<SubgraphRequest> for Gated {
        type Response = SubgraphResponse;
        type Error = FetchError;
        type Future = BoxFuture<'static, Result<SubgraphResponse, FetchError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: SubgraphRequest) -> Self::Future {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let gate = self.gate.clone();
            async move {
                if let Ok(permit) = gate.acquire().await {
                    permit.forget();
                }
                Ok(SubgraphResponse {
                    data: None,
                    errors: Vec::new(),
                    http_error: None,
                    bytes: 0,
                })
            }
            .boxed()
        }
    }

    fn joined() -> IntCounter {
        IntCounter::new("joined", "requests that joined a call").expect("a valid counter")
    }

    fn request(body: &'static str, operation: OperationKind) -> SubgraphRequest {
        SubgraphRequest {
            body: Bytes::from_static(body.as_bytes()),
            headers: http::HeaderMap::new(),
            context: Arc::new(RequestContext::new(
                crate::context::Transport::HttpPost,
                http::HeaderMap::new(),
            )),
            operation,
        }
    }

    #[tokio::test]
    async fn a_dropped_call_leaves_no_entry_and_a_finished_one_is_not_reused() {
        let in_flight = Arc::new(InFlight::default());
        let inner = Gated {
            calls: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let mut service =
            tower::Layer::layer(&DedupeLayer(in_flight.clone(), joined()), inner.clone());
        let first = service
            .ready()
            .await
            .expect("ready")
            .call(request("{a}", OperationKind::Query));
        let second = service
            .ready()
            .await
            .expect("ready")
            .call(request("{a}", OperationKind::Query));
        assert_eq!(in_flight.len(), 1);
        drop(first);
        drop(second);
        assert_eq!(in_flight.len(), 0, "every waiter left: the call is gone");

        let third = service
            .ready()
            .await
            .expect("ready")
            .call(request("{a}", OperationKind::Query));
        let waiting = tokio::spawn(third);
        while inner.calls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        inner.gate.add_permits(1);
        waiting.await.expect("joined").expect("answer");
        assert_eq!(in_flight.len(), 0, "a finished call is forgotten");
    }

    #[tokio::test]
    async fn a_waiter_that_leaves_does_not_cancel_the_call_for_the_others() {
        let in_flight = Arc::new(InFlight::default());
        let inner = Gated {
            calls: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let mut service =
            tower::Layer::layer(&DedupeLayer(in_flight.clone(), joined()), inner.clone());
        let first = service
            .ready()
            .await
            .expect("ready")
            .call(request("{a}", OperationKind::Query));
        let second = service
            .ready()
            .await
            .expect("ready")
            .call(request("{a}", OperationKind::Query));
        let mut first = Box::pin(first);
        // The first waiter starts the call, then goes away.
        assert!(futures::poll!(first.as_mut()).is_pending());
        drop(first);
        inner.gate.add_permits(1);
        second
            .await
            .expect("the second waiter still gets the answer");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn mutations_and_other_headers_are_never_shared() {
        let in_flight = Arc::new(InFlight::default());
        let inner = Gated {
            calls: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let mut service =
            tower::Layer::layer(&DedupeLayer(in_flight.clone(), joined()), inner.clone());
        let mut calls = Vec::new();
        for _ in 0..2 {
            calls.push(
                service
                    .ready()
                    .await
                    .expect("ready")
                    .call(request("mutation{m}", OperationKind::Mutation)),
            );
        }
        for token in ["Bearer a", "Bearer b"] {
            let mut with_header = request("{a}", OperationKind::Query);
            with_header
                .headers
                .insert(http::header::AUTHORIZATION, HeaderValue::from_static(token));
            calls.push(service.ready().await.expect("ready").call(with_header));
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4);
        inner.gate.add_permits(4);
        for call in calls {
            call.await.expect("answer");
        }
    }
}
