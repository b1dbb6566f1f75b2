//! What kind of request this is, for the edge layers and handlers that treat some kinds
//! differently: a WebSocket upgrade (checked for its origin, not for CSRF), a browser opening the
//! GraphiQL page, a client asking for an event stream, and the single-connection SSE stream a
//! request names (opening it, or running an operation on it).

use axum::extract::Query;
use axum::http::{header, HeaderMap, Method, Request, Uri};

/// The header a client names its single-connection SSE stream in (graphql-sse's
/// `TOKEN_HEADER_KEY`).
pub(crate) const TOKEN_HEADER: &str = "x-graphql-event-stream-token";

const EVENT_STREAM: &str = "text/event-stream";

/// Whether the client accepts an event stream (named, and not refused with `q=0`).
pub(crate) fn accepts_event_stream(headers: &HeaderMap) -> bool {
    super::accept::Accept::of(headers).weight(EVENT_STREAM, false) > 0.0
}

/// The single-connection SSE stream a request names, by the token header or, for `EventSource`,
/// which cannot set headers, the `token` query parameter. `None`: the request is not in
/// single-connection mode.
pub(crate) fn stream_token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(value) = headers.get(TOKEN_HEADER) {
        return Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    uri.query()?;
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri).ok()?;
    pairs
        .into_iter()
        .find(|(name, value)| name == "token" && !value.is_empty())
        .map(|(_, value)| value)
}

/// Whether the request asks to become a WebSocket: an HTTP/1.1 `Upgrade: websocket`, or an
/// HTTP/2 extended `CONNECT`.
pub(crate) fn is_websocket_upgrade<B>(request: &Request<B>) -> bool {
    if request.method() == Method::CONNECT {
        return true;
    }
    request.method() == Method::GET && names_websocket_upgrade(request.headers())
}

/// Whether the headers ask to upgrade to WebSocket (`Upgrade: websocket`), valid handshake or
/// not.
pub(crate) fn names_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket"))
}

/// Whether the request is a browser opening the GraphQL path: a GET that accepts HTML and names
/// no operation (neither `query` nor `extensions`, which may carry a persisted query's hash).
pub(crate) fn is_page_load<B>(request: &Request<B>) -> bool {
    let method = request.method();
    if (*method != Method::GET && *method != Method::HEAD) || is_websocket_upgrade(request) {
        return false;
    }
    let accepts_html = request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("text/html"));
    // Decoded as the GraphQL handler decodes them, so `?qu%65ry=` counts as `query`; a query
    // string that does not decode is not a page load either (the handler refuses it).
    let names_an_operation = match Query::<Vec<(String, String)>>::try_from_uri(request.uri()) {
        Ok(Query(pairs)) => pairs
            .iter()
            .any(|(name, _)| name == "query" || name == "extensions"),
        Err(_) => true,
    };
    accepts_html && !names_an_operation
}

/// Whether the request opens a reserved single-connection SSE stream: a GET for an event stream
/// naming a stream token. It runs no operation whatever else it carries (the handler only opens
/// the stream), and only the client that reserved the stream knows the token.
pub(crate) fn is_stream_open<B>(request: &Request<B>) -> bool {
    request.method() == Method::GET
        && !is_websocket_upgrade(request)
        && accepts_event_stream(request.headers())
        && stream_token(request.headers(), request.uri()).is_some()
}
