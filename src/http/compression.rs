//! Content coding at the edge (`compression:`): responses compressed for clients that accept it,
//! compressed request bodies decompressed before anything reads them. The coding is tower-http's;
//! this module decides what it may touch.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::config::CompressionConfig;

/// The request codings Seam decodes, as a client is told when it sent another one.
const ACCEPTED_REQUEST_CODINGS: &str = "gzip, br, zstd, deflate, identity";

/// `router` with the content coding the config asks for.
pub(super) fn apply(router: Router, config: &CompressionConfig) -> Router {
    let mut router = router;
    if config.responses {
        let worth_it = SizeAbove::new(config.min_response_bytes)
            // A compressor holds bytes back until it has enough to code, and a stream's event
            // must reach the client when it happens.
            .and(NotForContentType::SSE)
            .and(NotForContentType::const_new("multipart/mixed"))
            .and(NotForContentType::GRPC)
            // A WebSocket handshake's response has no body of its own to code.
            .and(|status: StatusCode, _, _: &HeaderMap, _: &_| {
                status != StatusCode::SWITCHING_PROTOCOLS
            });
        router = router
            .layer(CompressionLayer::new().compress_when(worth_it))
            // A response too small to compress could have been compressed for another client
            // (a larger one from the same URL): caches must key on the coding either way.
            .layer(tower::util::MapResponseLayer::new(
                |mut response: axum::response::Response| {
                    vary_on_accept_encoding(response.headers_mut());
                    response
                },
            ));
    }
    if config.requests {
        // A coding it does not know passes through untouched, so the GraphQL route can refuse it
        // in the GraphQL error shape rather than with tower-http's empty 415.
        router = router
            .layer(RequestDecompressionLayer::new().pass_through_unaccepted(true))
            // Outside it: tower-http matches codings byte for byte, and they are case-insensitive.
            .layer(tower::util::MapRequestLayer::new(
                |mut request: axum::extract::Request| {
                    normalize_coding(request.headers_mut());
                    request
                },
            ));
    }
    router
}

/// Adds `accept-encoding` to `Vary` unless a value already names it (the compression layer
/// does, on what it compressed) or says `*`.
fn vary_on_accept_encoding(headers: &mut HeaderMap) {
    let named = headers.get_all(header::VARY).iter().any(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',').any(|item| {
                let item = item.trim();
                item == "*" || item.eq_ignore_ascii_case("accept-encoding")
            })
        })
    });
    if !named {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// `Content-Encoding` in lower case without surrounding blanks, as the decompression layer
/// compares it (RFC 9110: codings are case-insensitive). Untouched when it already is.
fn normalize_coding(headers: &mut HeaderMap) {
    let Some(coding) = headers.get(header::CONTENT_ENCODING) else {
        return;
    };
    let bytes = coding.as_bytes();
    let trimmed = bytes.trim_ascii();
    if trimmed.len() == bytes.len() && !trimmed.iter().any(u8::is_ascii_uppercase) {
        return;
    }
    if let Ok(normalized) = HeaderValue::from_bytes(&trimmed.to_ascii_lowercase()) {
        headers.insert(header::CONTENT_ENCODING, normalized);
    }
}

/// The `Content-Encoding` of a request body that is still coded when the handler reads it: one
/// the decompression layer did not decode (unknown, stacked, or request decompression off).
pub(super) fn undecoded_coding(headers: &HeaderMap) -> Option<String> {
    let coding = headers.get(header::CONTENT_ENCODING)?;
    let text = String::from_utf8_lossy(coding.as_bytes());
    let text = text.trim();
    // An empty header names no coding at all.
    (!text.is_empty() && !text.eq_ignore_ascii_case("identity"))
        .then(|| text.chars().take(64).collect())
}

/// The `Accept-Encoding` a refusal of a coded request body carries (RFC 7694).
pub(super) fn accepted_request_codings(config: &CompressionConfig) -> HeaderValue {
    if config.requests {
        HeaderValue::from_static(ACCEPTED_REQUEST_CODINGS)
    } else {
        HeaderValue::from_static("identity")
    }
}
