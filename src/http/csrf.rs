//! CSRF prevention: a GraphQL request that a browser could have sent from any site without a
//! CORS preflight is refused, unless it carries a header that only a preflighted request can.
//!
//! A "simple" request (GET, or POST with no `Content-Type` or one of the three CORS-safelisted
//! ones) goes out cross-site without asking the server first, and its side effects happen even
//! though the page cannot read the answer. Anything else makes the browser send a preflight,
//! which the CORS layer answers only for allowed origins. So a request is let through when its
//! `Content-Type` is not safelisted or it carries one of `csrf.required_headers`.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{header, HeaderMap, HeaderName, Method, Request, StatusCode};
use axum::response::Response;
use futures::future::{self, Either, Ready};
use tower::{Layer, Service};

use super::refusal::refusal;
use super::request_kind::{is_page_load, is_stream_open, is_websocket_upgrade, TOKEN_HEADER};

/// The media types a page may send cross-site without a preflight (the Fetch standard's
/// CORS-safelisted `Content-Type` values).
const SIMPLE_MEDIA_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

#[derive(Clone)]
pub(crate) struct CsrfLayer {
    required_headers: Arc<[HeaderName]>,
}

impl CsrfLayer {
    pub(crate) fn new(required_headers: &[HeaderName]) -> Self {
        Self {
            required_headers: required_headers.into(),
        }
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = Csrf<S>;

    fn layer(&self, inner: S) -> Csrf<S> {
        Csrf {
            inner,
            required_headers: self.required_headers.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Csrf<S> {
    inner: S,
    required_headers: Arc<[HeaderName]>,
}

impl<S, B> Service<Request<B>> for Csrf<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if is_exempt(&request) || is_preflighted(request.headers(), &self.required_headers) {
            return Either::Right(self.inner.call(request));
        }
        let names = self
            .required_headers
            .iter()
            .map(HeaderName::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let message = if names.is_empty() {
            "refused as a possible cross-site request forgery: send a Content-Type such as \
             application/json (not text/plain, application/x-www-form-urlencoded or \
             multipart/form-data, and not none)"
                .to_owned()
        } else {
            format!(
                "refused as a possible cross-site request forgery: send a Content-Type such as \
                 application/json (not text/plain, application/x-www-form-urlencoded or \
                 multipart/form-data, and not none), or one of these headers: {names}"
            )
        };
        Either::Left(future::ready(Ok(refusal(
            request.headers(),
            StatusCode::BAD_REQUEST,
            message,
            "CSRF_PREVENTION",
        ))))
    }
}

/// Requests that cannot run an operation a page slipped in, or are guarded elsewhere: preflights
/// (answered by the CORS layer anyway), methods a page cannot send cross-site without a
/// preflight (`PUT` and `DELETE` of single-connection SSE), WebSocket upgrades (the origin check
/// guards them), the GraphiQL page load, and opening a reserved SSE stream (no operation runs;
/// `EventSource` cannot send a header, and the token it carries is the client's secret).
fn is_exempt<B>(request: &Request<B>) -> bool {
    let method = request.method();
    let graphql_method =
        *method == Method::GET || *method == Method::POST || *method == Method::HEAD;
    !graphql_method
        || is_websocket_upgrade(request)
        || is_page_load(request)
        || is_stream_open(request)
}

/// Whether a browser would have sent a preflight for a request with these headers. The
/// single-connection SSE token header counts like the required ones: it is not a CORS-safelisted
/// header either, and graphql-sse clients send it with every request on a stream.
fn is_preflighted(headers: &HeaderMap, required_headers: &[HeaderName]) -> bool {
    if required_headers
        .iter()
        .any(|name| headers.contains_key(name))
        || headers.contains_key(TOKEN_HEADER)
    {
        return true;
    }
    let mut content_types = headers.get_all(header::CONTENT_TYPE).iter().peekable();
    if content_types.peek().is_none() {
        return false;
    }
    content_types.all(|value| !is_simple_media_type(value.as_bytes()))
}

/// Compares the media type's essence (before any `;` parameters, trimmed, in any case) with the
/// safelisted ones. A value a browser would not parse is never safelisted there, so it needs a
/// preflight; reading every value this loosely can only call more requests simple, not fewer.
fn is_simple_media_type(value: &[u8]) -> bool {
    let value = String::from_utf8_lossy(value);
    let essence = value.split(';').next().unwrap_or_default();
    let essence = essence.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    SIMPLE_MEDIA_TYPES
        .iter()
        .any(|simple| essence.eq_ignore_ascii_case(simple))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn required() -> Vec<HeaderName> {
        vec![HeaderName::from_static("apollo-require-preflight")]
    }

    fn with_content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn safelisted_media_types_are_simple_in_any_case_and_with_parameters() {
        for value in [
            "text/plain",
            "TEXT/Plain; charset=utf-8",
            " application/x-www-form-urlencoded ",
            "multipart/form-data; boundary=x",
            "text/plain;",
        ] {
            assert!(
                !is_preflighted(&with_content_type(value), &required()),
                "{value}"
            );
        }
    }

    #[test]
    fn other_media_types_need_a_preflight() {
        for value in [
            "application/json",
            "application/json; charset=utf-8",
            "application/graphql-response+json",
            "text/plain, application/json",
            "text/plainx",
        ] {
            assert!(
                is_preflighted(&with_content_type(value), &required()),
                "{value}"
            );
        }
    }

    #[test]
    fn no_content_type_is_simple_unless_a_required_header_is_there() {
        assert!(!is_preflighted(&HeaderMap::new(), &required()));
        let mut headers = with_content_type("text/plain");
        headers.insert("apollo-require-preflight", HeaderValue::from_static("true"));
        assert!(is_preflighted(&headers, &required()));
    }
}
