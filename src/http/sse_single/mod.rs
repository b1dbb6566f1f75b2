//! GraphQL over SSE, single-connection mode (the graphql-sse protocol): one event stream carries
//! the results of every operation a client runs, so a browser on HTTP/1.1 spends one of its six
//! connections per site on all its subscriptions.
//!
//! - `PUT /graphql` reserves a stream: 201 with its token as `text/plain`.
//! - `GET /graphql` with the token (header `x-graphql-event-stream-token`, or `?token=` for
//!   `EventSource`) and `Accept: text/event-stream` opens it; a reservation opens once.
//! - `POST /graphql` with the token and `extensions.operationId` runs an operation through the
//!   same pipeline as any other request and answers 202; its responses go to the stream as
//!   `event: next` with `{"id", "payload"}`, then `event: complete` with `{"id"}`. A request the
//!   pipeline refuses is answered at once with the GraphQL-over-HTTP status, as in distinct
//!   connections mode.
//! - `DELETE /graphql?operationId=…` with the token stops an operation (200).
//!
//! Requests that use a stream must come from the client that reserved it (the same principal
//! when authentication is on); the token alone opens the stream, since `EventSource` cannot send
//! credentials in headers — it is 128 random bits only the reserving client was given.

mod events;
pub(super) mod registry;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::request_kind::stream_token;
use super::service::{into_stream, Endpoint, OperationService};
use super::streaming::{framed_body, Framing};
use super::{negotiate, refuse, sse, stream_refusal, ClientAddress, MediaType};
use crate::context::Transport;
use crate::pipeline::extensions::Scalar;
use crate::pipeline::{Answer, Charge, GraphqlRequest};
use crate::telemetry::StreamKind;
use events::Events;
use registry::{Refused, Reservation, ReserveError};

/// `PUT /graphql`: reserves a stream. The client passes authentication and the rate limit as
/// for an operation, and takes a streaming client's place until its stream ends or the
/// reservation lapses unopened.
pub(super) async fn reserve<S: OperationService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
) -> Response {
    let media = negotiate(&headers);
    let context = Arc::new(super::request_context(
        &endpoint,
        Transport::HttpPost,
        headers,
        client,
    ));
    let owner = match endpoint
        .service
        .client_principal(context.clone(), Charge::RateLimit)
        .await
    {
        Ok(owner) => owner,
        Err(refused) => return refused_answer(media, refused),
    };
    let counted_as = endpoint
        .service
        .client_identity(&context, owner.as_deref())
        .map(String::into_boxed_str);
    let slot = match endpoint.settings.clients.admit(StreamKind::Sse) {
        Ok(slot) => slot,
        Err(refusal) => return refusal.into_response(),
    };
    let shutdown = endpoint.settings.clients.shutdown().clone();
    let timeout = endpoint.settings.sse_reservation_timeout;
    let limit = endpoint.settings.max_unopened_streams;
    match endpoint
        .streams
        .reserve(owner, counted_as, limit, slot, timeout, shutdown)
    {
        Ok(token) => (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            String::from(token),
        )
            .into_response(),
        Err(ReserveError::TooManyUnopened { limit }) => refuse(
            media,
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this client holds {limit} reserved streams it has not opened \
                 (limits.max_unopened_streams_per_client); open them or let them lapse first"
            ),
            "TOO_MANY_STREAM_RESERVATIONS",
        ),
        Err(ReserveError::Random(error)) => {
            tracing::error!(%error, "no randomness for a stream token");
            refuse(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the gateway could not make a stream token".to_owned(),
                "INTERNAL_SERVER_ERROR",
            )
        }
    }
}

/// `GET` with a token and `Accept: text/event-stream`: opens the reserved stream.
pub(super) fn open<S>(endpoint: &Endpoint<S>, headers: &HeaderMap, token: &str) -> Response {
    let media = negotiate(headers);
    let Some(reservation) = endpoint.streams.find(token) else {
        return not_found(media);
    };
    let Some(slot) = reservation.open() else {
        return refuse(
            media,
            StatusCode::CONFLICT,
            "this stream is already open; a reservation serves one stream".to_owned(),
            "STREAM_ALREADY_OPEN",
        );
    };
    let shutdown = endpoint.settings.clients.shutdown().clone();
    let events = Events::new(
        reservation,
        endpoint.streams.clone(),
        token.into(),
        shutdown,
    );
    let framing = Framing {
        // Some browsers show an event stream only once its first bytes arrive.
        start: b":\n\n",
        frame: |event| event,
        heartbeat: b":\n\n",
        // On shutdown the events end with each operation's `complete`; nothing follows.
        end: b"",
        every: endpoint.settings.sse_keep_alive,
    };
    // The events watch the shutdown themselves, to complete every operation by its id.
    let body = framed_body(events.boxed(), framing, slot, CancellationToken::new());
    sse::event_stream(body)
}

/// `POST` (or `GET` without `Accept: text/event-stream`) with a token: runs the operation and
/// sends its responses to the stream.
pub(super) async fn execute<S: OperationService>(
    endpoint: &Endpoint<S>,
    token: &str,
    headers: HeaderMap,
    client: Option<SocketAddr>,
    request: GraphqlRequest,
    get: bool,
) -> Response {
    let media = negotiate(&headers);
    let Some(reservation) = endpoint.streams.find(token) else {
        return not_found(media);
    };
    let transport = Transport::HttpStream { get };
    let mut context = super::request_context(endpoint, transport, headers, client);
    context.stream_queue = Some(reservation.queue.clone());
    let context = Arc::new(context);
    if let Err(refused) = check_owner(endpoint, &reservation, context.clone(), media).await {
        return refused;
    }
    let Some(id) = operation_id(&request) else {
        return refuse(
            media,
            StatusCode::BAD_REQUEST,
            "an operation on a stream needs an id: send `extensions.operationId`".to_owned(),
            "OPERATION_ID_MISSING",
        );
    };
    let key = match reservation.begin(&id, endpoint.settings.max_operations) {
        Ok(key) => key,
        Err(refused) => return refused_operation(media, refused, &id),
    };
    let answer = endpoint.service.run(context, request).await;
    let responses = match into_stream(answer) {
        Ok(responses) => responses,
        Err(refused) => {
            reservation.finished(&key);
            return stream_refusal(media, refused);
        }
    };
    match reservation.attach(&key, responses) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        // The client stopped it while it was prepared: nothing to do any more.
        Err(Refused::Stopped) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => refused_operation(media, refused, &id),
    }
}

/// `DELETE /graphql?operationId=…` with a token: stops that operation on the stream.
pub(super) async fn stop<S: OperationService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let media = negotiate(&headers);
    let Some(token) = stream_token(&headers, &uri) else {
        return not_found(media);
    };
    let Some(reservation) = endpoint.streams.find(&token) else {
        return not_found(media);
    };
    let context = super::request_context(&endpoint, Transport::HttpPost, headers, client);
    if let Err(refused) = check_owner(&endpoint, &reservation, Arc::new(context), media).await {
        return refused;
    }
    let id = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(pairs)| {
            pairs
                .into_iter()
                .find(|(name, value)| name == "operationId" && !value.is_empty())
        });
    let Some((_, id)) = id else {
        return refuse(
            media,
            StatusCode::BAD_REQUEST,
            "say which operation to stop: DELETE /graphql?operationId=…".to_owned(),
            "OPERATION_ID_MISSING",
        );
    };
    reservation.stop(&id);
    StatusCode::OK.into_response()
}

/// Refuses a request from another client than the one that reserved the stream. Asking who the
/// client is costs no rate limit: the operation it sends is charged when it runs.
async fn check_owner<S: OperationService>(
    endpoint: &Endpoint<S>,
    reservation: &Reservation,
    context: Arc<crate::context::RequestContext>,
    media: MediaType,
) -> Result<(), Response> {
    let principal = endpoint
        .service
        .client_principal(context, Charge::Nothing)
        .await
        .map_err(|refused| refused_answer(media, refused))?;
    if principal == reservation.owner {
        return Ok(());
    }
    Err(refuse(
        media,
        StatusCode::FORBIDDEN,
        "this stream was reserved by another client".to_owned(),
        "STREAM_FORBIDDEN",
    ))
}

/// `extensions.operationId`, a string (or a number, as JavaScript clients may send).
fn operation_id(request: &GraphqlRequest) -> Option<String> {
    let id = match &request.extensions.as_ref()?.operation_id {
        Scalar::String(id) => id.clone(),
        Scalar::Number(id) => id.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}

fn not_found(media: MediaType) -> Response {
    refuse(
        media,
        StatusCode::NOT_FOUND,
        "no such stream: reserve one with PUT, and use it before it lapses".to_owned(),
        "STREAM_NOT_FOUND",
    )
}

fn refused_operation(media: MediaType, refused: Refused, id: &str) -> Response {
    match refused {
        Refused::Duplicate => refuse(
            media,
            StatusCode::CONFLICT,
            format!("an operation with id {id:?} is already running on this stream"),
            "OPERATION_ID_IN_USE",
        ),
        Refused::TooMany { limit } => refuse(
            media,
            StatusCode::TOO_MANY_REQUESTS,
            format!("this stream already runs {limit} operations, as many as it may"),
            "TOO_MANY_OPERATIONS",
        ),
        Refused::Stopped | Refused::Closed => not_found(media),
    }
}

/// A refusal from the stages every request meets first.
fn refused_answer(media: MediaType, refused: Answer) -> Response {
    match refused {
        Answer::Single(refused) => stream_refusal(media, refused),
        // Those stages never stream; should one, the client is not left without an answer.
        Answer::Stream(_) => refuse(
            media,
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request could not be admitted".to_owned(),
            "INTERNAL_SERVER_ERROR",
        ),
    }
}
