//! The HTTP edge: GraphQL over HTTP on `/graphql`, health and readiness, a GraphiQL page.
//!
//! Status codes follow the GraphQL-over-HTTP spec: with `application/graphql-response+json` a request
//! error is a 4xx; with legacy `application/json` every well-formed request gets 200.
//!
//! The same path streams: a WebSocket upgrade (`ws`), `Accept: text/event-stream` (`sse`, and
//! graphql-sse's single-connection mode in `sse_single`: `PUT` reserves a stream, requests
//! naming its token use it) and Apollo's `multipart/mixed;subscriptionSpec=1.0` (`multipart`).

mod accept;
mod clients;
mod compression;
mod connection;
mod cors;
mod csrf;
mod edge;
mod graphiql;
mod multipart;
mod publish;
mod refusal;
mod request_kind;
pub mod server;
pub mod service;
mod sse;
mod sse_single;
mod streaming;
pub mod telemetry;
mod timeout;
mod websocket_origin;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::context::{RequestContext, Transport};
use crate::execute::shape::errors_body;
use crate::pipeline::receive::{self, QueryParams};
use crate::pipeline::{Answer, Gateway, GatewayResponse, GraphqlRequest, Outcome};
use crate::response::GraphqlError;
use crate::telemetry::StreamKind;
use accept::Delivery;
pub use clients::StreamingClients;
pub use edge::EdgeSettings;
use service::Endpoint;
pub use service::{OperationService, ProtocolSettings};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn router(gateway: Arc<Gateway>) -> Router {
    router_with(gateway, ProtocolSettings::default())
}

/// [`router`] with the protocols' timings and limits set.
pub fn router_with(gateway: Arc<Gateway>, settings: ProtocolSettings) -> Router {
    let gateway_settings = gateway.settings();
    let edge_telemetry = Arc::new(telemetry::EdgeTelemetry {
        metrics: gateway.metrics().clone(),
        trust_traceparent: settings.trust_traceparent,
        access_log: gateway_settings.log.access,
    });
    let metrics_enabled = gateway_settings.telemetry.metrics.enabled;
    let clients = settings.clients.clone();
    let compression = settings.edge.compression.clone();
    let mut probes = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/bridge/publish", axum::routing::post(publish::publish))
        .layer(axum::extract::DefaultBodyLimit::max(
            settings.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            timeout::request_timeout,
        ))
        .with_state(gateway.clone());
    if metrics_enabled {
        probes = probes.merge(telemetry::metrics_router(gateway.clone(), clients));
    }
    let routes = graphql_router(gateway, settings)
        .layer(axum::middleware::from_fn_with_state(
            edge_telemetry,
            telemetry::around_request,
        ))
        .merge(probes);
    compression::apply(routes, &compression)
}

/// `/graphql` (and `/`) alone, over any [`OperationService`]: every protocol Seam speaks
/// there, for the gateway or for a service a test scripts.
pub fn graphql_router<S: OperationService>(service: Arc<S>, settings: ProtocolSettings) -> Router {
    let (max_body_bytes, timeout) = (settings.max_body_bytes, settings.request_timeout);
    let edge = settings.edge.clone();
    let endpoint = Arc::new(Endpoint {
        service,
        settings,
        streams: Arc::default(),
    });
    let graphql = || {
        get(graphql_get::<S>)
            .post(graphql_post::<S>)
            .put(sse_single::reserve::<S>)
            .delete(sse_single::stop::<S>)
    };
    let routes = Router::new()
        .route("/graphql", graphql())
        .route("/", graphql())
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            timeout,
            timeout::request_timeout,
        ))
        .with_state(endpoint);
    edge.wrap(routes)
}

async fn health() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"status\":\"UP\"}",
    )
}

/// Ready while a schema serves, each subgraph's breaker state in the body
/// (`{"status":"READY","subgraphs":{"accounts":"closed"}}`); an open breaker makes it 503 only
/// when `traffic.unready_on_open_breaker` says so.
async fn ready(State(gateway): State<Arc<Gateway>>) -> Response {
    if gateway.is_ready() {
        let states = gateway.breaker_states();
        let unready = gateway
            .settings()
            .traffic
            .resilience
            .unready_on_open_breaker()
            && states
                .iter()
                .any(|(_, state)| *state == crate::traffic::BreakerState::Open);
        let subgraphs: serde_json::Map<String, serde_json::Value> = states
            .into_iter()
            .map(|(name, state)| (name, state.as_str().into()))
            .collect();
        let (status, word) = if unready {
            (StatusCode::SERVICE_UNAVAILABLE, "NOT_READY")
        } else {
            (StatusCode::OK, "READY")
        };
        let body = serde_json::json!({ "status": word, "subgraphs": subgraphs });
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"NOT_READY\"}",
        )
            .into_response()
    }
}

/// Which response media type the client gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

fn negotiate(headers: &HeaderMap) -> MediaType {
    if accept::prefers_graphql_response_json(headers) {
        MediaType::GraphqlResponseJson
    } else {
        MediaType::Json
    }
}

fn respond(media: MediaType, outcome: Outcome, body: impl Into<Bytes>) -> Response {
    let status = match (outcome, media) {
        (Outcome::Executed, _) => StatusCode::OK,
        (Outcome::MethodNotAllowed, _) => StatusCode::METHOD_NOT_ALLOWED,
        (Outcome::NotReady, _) => StatusCode::SERVICE_UNAVAILABLE,
        (Outcome::Forbidden, _) => StatusCode::FORBIDDEN,
        (Outcome::Unauthenticated, _) => StatusCode::UNAUTHORIZED,
        (Outcome::TooManyRequests { .. }, _) => StatusCode::TOO_MANY_REQUESTS,
        (Outcome::PersistedQueryNotFound, _) => StatusCode::OK,
        (Outcome::BadRequest, _) => StatusCode::BAD_REQUEST,
        (Outcome::RequestError, MediaType::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        (Outcome::RequestError, MediaType::Json) => StatusCode::OK,
    };
    let content_type = match media {
        MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        MediaType::Json => "application/json",
    };
    let body: Bytes = body.into();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if outcome == Outcome::MethodNotAllowed {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if outcome == Outcome::Unauthenticated {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Outcome::TooManyRequests { retry_after_secs } = outcome {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    response
}

fn bad_request(media: MediaType, message: String) -> Response {
    unreadable_request(media, GraphqlError::new(message, "BAD_REQUEST"))
}

/// A request whose GraphQL request could not be read (400), counted among the refusals by its
/// code like every other.
fn unreadable_request(media: MediaType, error: GraphqlError) -> Response {
    let code = error.code().unwrap_or("BAD_REQUEST").to_owned();
    let mut response = respond(media, Outcome::BadRequest, errors_body(&[error]));
    telemetry::mark_refused(&mut response, &code);
    response
}

/// An operation refused on a single-connection SSE stream: answered as JSON with the status the
/// GraphQL-over-HTTP spec gives request errors, as graphql-sse's protocol asks of that mode.
fn stream_refusal(media: MediaType, refused: GatewayResponse) -> Response {
    let mut response = respond(
        MediaType::GraphqlResponseJson,
        refused.outcome,
        refused.body,
    );
    if media == MediaType::Json {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

/// The transport a request delivered this way arrives over.
fn transport(delivery: Delivery, get: bool) -> Transport {
    match (delivery, get) {
        (Delivery::Plain, true) => Transport::HttpGet,
        (Delivery::Plain, false) => Transport::HttpPost,
        (_, get) => Transport::HttpStream { get },
    }
}

/// The client's address, when the server was started with connection info (tests that serve
/// a bare router have none).
struct ClientAddress(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// The principal when there is one (many users may share an address), else the peer address.
pub fn default_client_identity(
    context: &RequestContext,
    principal: Option<&str>,
) -> Option<String> {
    match (principal, context.client_address) {
        (Some(principal), _) => Some(format!("principal {principal}")),
        (None, Some(address)) => Some(format!("address {}", address.ip())),
        (None, None) => None,
    }
}

/// The context of a request arriving over `transport`.
fn request_context<S>(
    endpoint: &Endpoint<S>,
    transport: Transport,
    headers: HeaderMap,
    client: Option<SocketAddr>,
) -> RequestContext {
    RequestContext::new(transport, headers)
        .with_client_address(client)
        .with_client_trace(endpoint.settings.trust_traceparent)
}

/// Runs `request` with a context made from the HTTP request, and answers the way it was asked.
async fn run_and_answer<S: OperationService>(
    endpoint: &Endpoint<S>,
    headers: HeaderMap,
    client: Option<SocketAddr>,
    request: GraphqlRequest,
    get: bool,
) -> Response {
    let media = negotiate(&headers);
    let delivery = Delivery::of(&headers);
    // A streaming client is admitted before its operation starts, so a refused one costs no
    // upstream work; the slot is held until its stream ends.
    // A client that accepts JSON as much as a stream (urql's default) is admitted once its
    // answer turns out to be a stream: its queries must not count against the streaming cap.
    let stream_kind = match delivery {
        Delivery::Plain
        | Delivery::Sse {
            single_as_json: true,
        } => None,
        Delivery::Sse {
            single_as_json: false,
        } => Some(StreamKind::Sse),
        Delivery::Multipart => Some(StreamKind::Multipart),
    };
    let slot = match stream_kind {
        None => None,
        Some(kind) => match endpoint.settings.clients.admit(kind) {
            Ok(slot) => Some(slot),
            Err(refusal) => return refusal.into_response(),
        },
    };
    let mut context = request_context(endpoint, transport(delivery, get), headers, client);
    if delivery == Delivery::Plain {
        // Streams live as long as their client wants; one answer has a deadline.
        context = context.with_timeout(Some(endpoint.settings.request_timeout));
    }
    let answer = endpoint.service.run(Arc::new(context), request).await;
    match (delivery, answer, slot) {
        (
            Delivery::Sse {
                single_as_json: false,
            },
            answer,
            Some(slot),
        ) => sse::respond(endpoint, media, answer, slot),
        // A client that accepts JSON as much as a stream gets one response as JSON, and a
        // subscription as a stream, admitted now.
        (
            Delivery::Sse {
                single_as_json: true,
            },
            answer @ Answer::Stream(_),
            None,
        ) => match endpoint.settings.clients.admit(StreamKind::Sse) {
            Ok(slot) => sse::respond(endpoint, media, answer, slot),
            Err(refusal) => refusal.into_response(),
        },
        (Delivery::Multipart, Answer::Stream(responses), Some(slot)) => {
            multipart::respond(endpoint, responses, slot)
        }
        (_, Answer::Single(response), _) => respond(media, response.outcome, response.body),
        // A plain request's context cannot stream, so the pipeline never answers it with one.
        (_, Answer::Stream(_), _) => respond(
            media,
            Outcome::RequestError,
            errors_body(&[GraphqlError::new(
                "subscriptions need a streaming transport",
                "SUBSCRIPTION_NOT_SUPPORTED",
            )]),
        ),
    }
}

/// Whether a `Content-Type` names one of `accepted`: its essence (before any parameter),
/// compared without case, as RFC 9110 says media types are.
fn is_json_media_type(content_type: &str, accepted: &[&str]) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    accepted
        .iter()
        .any(|name| essence.eq_ignore_ascii_case(name))
}

/// An error-only body with an HTTP status of its own (the body was refused before it was read).
fn refuse(media: MediaType, status: StatusCode, message: String, code: &str) -> Response {
    let mut response = respond(
        media,
        Outcome::BadRequest,
        errors_body(&[GraphqlError::new(message, code)]),
    );
    *response.status_mut() = status;
    telemetry::mark_refused(&mut response, code);
    response
}

enum BodyError {
    TooLarge,
    Unreadable,
}

/// The request body, at most `limit` bytes (decoded, when it came compressed). A declared
/// `Content-Length` above the limit is refused before a byte is read, so a client cannot hold a
/// connection by announcing a body it never sends.
async fn read_body(
    body: axum::body::Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyError> {
    use futures::StreamExt;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    // What a client announces is not yet sent: the buffer grows with what arrives.
    let capacity = declared.map_or(0, |length| length.min(64 * 1024) as usize);
    let mut buffer = bytes::BytesMut::with_capacity(capacity);
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if buffer.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

async fn graphql_post<S: OperationService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    uri: Uri,
    body: axum::body::Body,
) -> Response {
    let media = negotiate(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !is_json_media_type(content_type, &["application/json", GRAPHQL_RESPONSE_JSON]) {
        return refuse(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type: send application/json".to_owned(),
            "UNSUPPORTED_MEDIA_TYPE",
        );
    }
    if let Some(coding) = compression::undecoded_coding(&headers) {
        let accepted = compression::accepted_request_codings(&endpoint.settings.edge.compression);
        let mut response = refuse(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported Content-Encoding `{coding}`: send the body as {}",
                accepted.to_str().unwrap_or("identity")
            ),
            "UNSUPPORTED_MEDIA_TYPE",
        );
        response
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, accepted);
        return response;
    }
    // Answered as GraphQL errors so clients can show them like any other.
    let body = match read_body(body, &headers, endpoint.settings.max_body_bytes).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return refuse(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the limit of {} bytes",
                    endpoint.settings.max_body_bytes
                ),
                "PAYLOAD_TOO_LARGE",
            )
        }
        Err(BodyError::Unreadable) => {
            return refuse(
                media,
                StatusCode::BAD_REQUEST,
                "the request body could not be read".to_owned(),
                "BAD_REQUEST",
            )
        }
    };
    let request = match receive::from_json_body(&body) {
        Ok(request) => request,
        Err(error) => return unreadable_request(media, error),
    };
    if let Some(token) = request_kind::stream_token(&headers, &uri) {
        return sse_single::execute(&endpoint, &token, headers, client, request, false).await;
    }
    run_and_answer(&endpoint, headers, client, request, false).await
}

async fn graphql_get<S: OperationService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    params: Result<Query<QueryParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => {
            let handshake = request_context(&endpoint, Transport::WebSocket, headers, client);
            return ws::upgrade(upgrade, endpoint, handshake);
        }
        Err(rejection) => rejection,
    };
    // A client that asked to upgrade and could not (a missing key or version) is told why,
    // not that its GET has no query.
    if request_kind::names_websocket_upgrade(&headers) {
        return refuse(
            negotiate(&headers),
            upgrade.status(),
            format!("the WebSocket upgrade is invalid: {}", upgrade.body_text()),
            "BAD_REQUEST",
        );
    }
    let token = request_kind::stream_token(&headers, &uri);
    if let Some(token) = &token {
        if request_kind::accepts_event_stream(&headers) {
            return sse_single::open(&endpoint, &headers, token);
        }
    }
    let media = negotiate(&headers);
    // The form decoder turns bytes that are not UTF-8 into U+FFFD, so a document or variable
    // would run with text the client never sent: refused instead, as a POST body's would be.
    let utf8 = |query: &str| {
        percent_encoding::percent_decode_str(query)
            .decode_utf8()
            .is_ok()
    };
    if uri.query().is_some_and(|query| !utf8(query)) {
        return bad_request(media, "the query string is not UTF-8 once decoded".into());
    }
    let Ok(Query(params)) = params else {
        return bad_request(media, "the query string could not be read".into());
    };
    let request = match receive::from_query_params(params) {
        Ok(request) => request,
        Err(error) => return unreadable_request(media, error),
    };
    if let Some(token) = token {
        return sse_single::execute(&endpoint, &token, headers, client, request, true).await;
    }
    run_and_answer(&endpoint, headers, client, request, true).await
}
