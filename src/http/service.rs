//! What the client protocols need from the gateway, as a trait: the HTTP, WebSocket, SSE and
//! multipart code is written once against it, the gateway implements it, and tests drive the
//! protocols with scripted event streams without a running subscription engine.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use super::clients::StreamingClients;
use super::edge::EdgeSettings;
use crate::config::limits::LimitsConfig;
use crate::context::RequestContext;
use crate::pipeline::{Answer, Charge, Gateway, GatewayResponse, GraphqlRequest, Outcome};
use crate::subscriptions::ResponseStream;

/// Runs operations for the transports.
pub trait OperationService: Send + Sync + 'static {
    /// Runs any operation; what it may do depends on the context's transport (no mutation over
    /// GET, subscriptions only where responses can stream).
    fn run(
        &self,
        context: Arc<RequestContext>,
        request: GraphqlRequest,
    ) -> impl Future<Output = Answer> + Send;

    /// Who sent a request that carries no operation of its own, after the stages every request
    /// meets first (authentication; the rate limit too when `charge` says so): the principal a
    /// single-connection SSE stream is bound to, `None` for an anonymous client, or the refusal.
    /// A service without authentication sees every client as anonymous.
    fn client_principal(
        &self,
        context: Arc<RequestContext>,
        charge: Charge,
    ) -> impl Future<Output = Result<Option<String>, Answer>> + Send {
        let _ = (context, charge);
        std::future::ready(Ok(None))
    }

    /// What counts as one client for per-client caps on streams
    /// (`limits.max_unopened_streams_per_client`); `None` when nothing tells clients apart.
    fn client_identity(&self, context: &RequestContext, principal: Option<&str>) -> Option<String> {
        super::default_client_identity(context, principal)
    }

    /// Whether a WebSocket connection may open with `context` (the upgrade request with the
    /// `connection_init` payload laid over it): `Err` with a message the client may see when a
    /// token it carries is refused. The default admits every connection.
    fn admit_connection(
        &self,
        context: &RequestContext,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let _ = context;
        std::future::ready(Ok(()))
    }
}

impl OperationService for Gateway {
    async fn run(&self, context: Arc<RequestContext>, request: GraphqlRequest) -> Answer {
        Gateway::run(self, context, request).await
    }

    async fn client_principal(
        &self,
        context: Arc<RequestContext>,
        charge: Charge,
    ) -> Result<Option<String>, Answer> {
        let context = self.admit_client(context, charge).await?;
        Ok(context
            .identity
            .as_deref()
            .map(crate::auth::Identity::principal))
    }

    fn client_identity(&self, context: &RequestContext, principal: Option<&str>) -> Option<String> {
        Gateway::client_identity(self, context, principal)
    }

    async fn admit_connection(&self, context: &RequestContext) -> Result<(), String> {
        self.authenticate_connection(context)
            .await
            .map_err(|error| error.to_string())
    }
}

/// Timings and limits of the protocols on `/graphql`, and the streaming clients' registry.
#[derive(Debug, Clone)]
pub struct ProtocolSettings {
    /// A WebSocket client that has not sent `connection_init` by then is closed (4408).
    pub connection_init_timeout: Duration,
    /// How often a legacy `graphql-ws` client gets a `ka` message.
    pub keep_alive: Duration,
    /// How often an acknowledged `graphql-transport-ws` client gets a `ping`. One that has sent
    /// nothing at all (not even the `pong`) by the next ping is disconnected: a client whose host
    /// vanished never closes its socket, and would hold its subscriptions forever.
    pub ping_interval: Duration,
    /// How long one WebSocket message may take to go out; a client that stops reading is
    /// disconnected then, instead of stalling its connection for good.
    pub send_timeout: Duration,
    /// Operations one WebSocket connection or single-connection SSE stream may run at once; a
    /// start beyond it is refused for that id, so one client cannot open unbounded upstream
    /// work.
    pub max_operations: usize,
    /// How often an idle SSE stream gets a comment, so proxies keep it open.
    pub sse_keep_alive: Duration,
    /// How long a single-connection SSE stream may stay reserved without being opened.
    pub sse_reservation_timeout: Duration,
    /// Reserved, unopened single-connection SSE streams per client (`None`: no cap).
    pub max_unopened_streams: Option<usize>,
    /// How often an idle multipart stream gets an empty `{}` part (Apollo clients expect ~5 s).
    pub multipart_heartbeat: Duration,
    /// Request bodies above this are refused with 413 before they are parsed.
    pub max_body_bytes: usize,
    /// A WebSocket message above this closes the socket with 1009 (message too big).
    pub max_ws_message_bytes: usize,
    /// A query or mutation unanswered by then gets a 504; streams are not cut by it.
    pub request_timeout: Duration,
    /// How many WebSocket, SSE and multipart clients may be open, and the shutdown signal
    /// they end on.
    pub clients: StreamingClients,
    /// The browser-facing rules around the GraphQL routes: CORS, CSRF, cross-site WebSockets,
    /// GraphiQL.
    pub edge: EdgeSettings,
    /// Whether a client's `traceparent` is trusted (`telemetry.trust_traceparent`).
    pub trust_traceparent: bool,
}

impl Default for ProtocolSettings {
    fn default() -> Self {
        let limits = LimitsConfig::default();
        Self {
            connection_init_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(12),
            ping_interval: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            max_operations: 100,
            sse_keep_alive: Duration::from_secs(12),
            sse_reservation_timeout: limits.sse_reservation_timeout,
            max_unopened_streams: limits.max_unopened_streams_per_client.as_usize(),
            multipart_heartbeat: Duration::from_secs(5),
            max_body_bytes: byte_count(limits.max_body_bytes),
            max_ws_message_bytes: byte_count(limits.max_ws_message_bytes),
            request_timeout: limits.request_timeout,
            clients: StreamingClients::default(),
            edge: EdgeSettings::default(),
            trust_traceparent: true,
        }
    }
}

impl ProtocolSettings {
    /// These settings with the `limits:` section's sizes, timeout and streaming-client cap;
    /// streaming clients end when `shutdown` fires.
    pub fn with_limits(self, limits: &LimitsConfig, shutdown: CancellationToken) -> Self {
        Self {
            max_body_bytes: byte_count(limits.max_body_bytes),
            max_ws_message_bytes: byte_count(limits.max_ws_message_bytes),
            request_timeout: limits.request_timeout,
            sse_reservation_timeout: limits.sse_reservation_timeout,
            max_unopened_streams: limits.max_unopened_streams_per_client.as_usize(),
            clients: StreamingClients::new(limits.max_streaming_clients.as_usize(), shutdown),
            ..self
        }
    }
}

impl ProtocolSettings {
    /// Everything the config says about the HTTP edge: its limits and its browser rules.
    pub fn from_config(
        config: Option<&crate::config::Config>,
        shutdown: CancellationToken,
    ) -> Self {
        let limits = config.map(|c| c.limits.clone()).unwrap_or_default();
        let edge = config.map(EdgeSettings::from_config).unwrap_or_default();
        Self {
            edge,
            trust_traceparent: config.is_none_or(|c| c.telemetry.trust_traceparent),
            ..Self::default()
        }
        .with_limits(&limits, shutdown)
    }
}

fn byte_count(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The state behind `/graphql`: the service and the protocol timings.
pub(crate) struct Endpoint<S> {
    pub(crate) service: Arc<S>,
    pub(crate) settings: ProtocolSettings,
    /// The streams reserved for graphql-sse's single-connection mode.
    pub(crate) streams: Arc<super::sse_single::registry::Streams>,
}

/// An answer as a stream of response bodies: a subscription as it streams, a query's or
/// mutation's response as a single item. `Err` carries a request error to answer once.
pub(super) fn into_stream(answer: Answer) -> Result<ResponseStream, GatewayResponse> {
    match answer {
        Answer::Stream(stream) => Ok(stream),
        Answer::Single(response) if response.outcome == Outcome::Executed => {
            Ok(stream::once(std::future::ready(response.body)).boxed())
        }
        Answer::Single(refused) => Err(refused),
    }
}

/// The `errors` array of an error-only response body, as JSON text; a body without one (which
/// the gateway never sends) still yields a well-formed array.
pub(super) fn errors_array(body: &[u8]) -> Box<RawValue> {
    #[derive(Deserialize)]
    struct ErrorsOnly {
        errors: Box<RawValue>,
    }
    match serde_json::from_slice::<ErrorsOnly>(body) {
        Ok(parsed) => parsed.errors,
        Err(_) => RawValue::from_string(
            r#"[{"message":"the operation failed","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]"#
                .to_owned(),
        )
        .unwrap_or_else(|_| RawValue::NULL.to_owned()),
    }
}
