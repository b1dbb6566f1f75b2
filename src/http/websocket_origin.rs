//! Cross-site WebSocket hijacking prevention. Browsers open a WebSocket to any host without a
//! preflight and with the user's cookies, and CORS does not apply to WebSockets; the only guard
//! is the `Origin` header every browser sends with the upgrade. An upgrade is accepted when its
//! origin is the gateway's own (its host and port are the request's `Host`) or one the `cors:`
//! config allows. An upgrade without `Origin` comes from a non-browser client, which no other
//! site can steer, and is accepted.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::uri::Authority;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use futures::future::{self, Either, Ready};
use tower::{Layer, Service};

use super::cors::OriginPolicy;
use super::refusal::refusal;
use super::request_kind::is_websocket_upgrade;

#[derive(Clone)]
pub(crate) struct CrossSiteWebSocketLayer {
    origins: Arc<OriginPolicy>,
}

impl CrossSiteWebSocketLayer {
    pub(crate) fn new(origins: Arc<OriginPolicy>) -> Self {
        Self { origins }
    }
}

impl<S> Layer<S> for CrossSiteWebSocketLayer {
    type Service = CrossSiteWebSocket<S>;

    fn layer(&self, inner: S) -> CrossSiteWebSocket<S> {
        CrossSiteWebSocket {
            inner,
            origins: self.origins.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct CrossSiteWebSocket<S> {
    inner: S,
    origins: Arc<OriginPolicy>,
}

impl<S, B> Service<Request<B>> for CrossSiteWebSocket<S>
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
        if !is_websocket_upgrade(&request) {
            return Either::Right(self.inner.call(request));
        }
        let Some(origin) = request.headers().get(header::ORIGIN) else {
            return Either::Right(self.inner.call(request));
        };
        if self.origins.allows(origin) || is_same_origin(origin.as_bytes(), &request) {
            return Either::Right(self.inner.call(request));
        }
        let shown = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        Either::Left(future::ready(Ok(refusal(
            request.headers(),
            StatusCode::FORBIDDEN,
            format!(
                "a WebSocket from the page origin `{shown}` is not allowed: it is not this \
                 gateway's origin and the CORS config does not allow it"
            ),
            "CROSS_SITE_WEBSOCKET",
        ))))
    }
}

/// Whether the page's origin names the host and port the request was sent to. The scheme is
/// not compared: behind a TLS-terminating proxy an `https` page reaches the gateway over plain
/// HTTP, and the host and port already identify the site.
fn is_same_origin<B>(origin: &[u8], request: &Request<B>) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else {
        return false;
    };
    let Ok(origin) = reqwest::Url::parse(origin) else {
        return false;
    };
    let (Some(origin_host), Some(origin_port)) =
        (origin.host_str(), origin.port_or_known_default())
    else {
        return false;
    };
    // HTTP/2 carries the host in the URI's authority instead of a `Host` header.
    let authority = match request.headers().get(header::HOST) {
        Some(host) => host
            .to_str()
            .ok()
            .and_then(|host| host.parse::<Authority>().ok()),
        None => request.uri().authority().cloned(),
    };
    let Some(authority) = authority else {
        return false;
    };
    let default_port = match origin.scheme() {
        "https" => 443,
        _ => 80,
    };
    let port = authority.port_u16().unwrap_or(default_port);
    unbracket(authority.host()).eq_ignore_ascii_case(unbracket(origin_host)) && port == origin_port
}

fn unbracket(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(host: &str) -> Request<()> {
        Request::builder()
            .uri("/graphql")
            .header(header::HOST, host)
            .header(header::UPGRADE, "websocket")
            .body(())
            .unwrap()
    }

    #[test]
    fn same_origin_compares_host_and_port_with_the_scheme_default() {
        assert!(is_same_origin(
            b"http://127.0.0.1:4000",
            &upgrade("127.0.0.1:4000")
        ));
        assert!(is_same_origin(
            b"https://api.example.com",
            &upgrade("API.example.com")
        ));
        assert!(is_same_origin(
            b"https://api.example.com",
            &upgrade("api.example.com:443")
        ));
        assert!(is_same_origin(b"http://[::1]:4000", &upgrade("[::1]:4000")));
        assert!(!is_same_origin(
            b"http://127.0.0.1:4001",
            &upgrade("127.0.0.1:4000")
        ));
        assert!(!is_same_origin(
            b"http://evil.example",
            &upgrade("api.example.com")
        ));
        assert!(!is_same_origin(
            b"https://api.example.com",
            &upgrade("api.example.com:80")
        ));
        assert!(!is_same_origin(b"null", &upgrade("api.example.com")));
    }

    #[test]
    fn only_websocket_upgrades_are_upgrades() {
        assert!(is_websocket_upgrade(&upgrade("h")));
        let plain = Request::builder().uri("/graphql").body(()).unwrap();
        assert!(!is_websocket_upgrade(&plain));
        let h2c = Request::builder()
            .uri("/graphql")
            .header(header::UPGRADE, "h2c")
            .body(())
            .unwrap();
        assert!(!is_websocket_upgrade(&h2c));
    }
}
