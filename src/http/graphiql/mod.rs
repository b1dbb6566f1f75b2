//! The GraphiQL IDE for browsers that open the GraphQL path, served entirely from the binary:
//! pinned builds of GraphiQL, React, ReactDOM and graphql-ws (with their licenses, see
//! `assets/SOURCES.md`), so the page works offline and asks no other host for anything.
//!
//! The page names its assets by relative URLs under `graphiql/`, so it works at `/graphql`, at
//! `/`, and under a prefix when the router is nested. Third-party files carry their version in
//! their path and are cached for good; Seam's own small files are revalidated on every load.

use std::task::{Context, Poll};

use axum::http::{header, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::{self, Either, Ready};
use tower::{Layer, Service};

use super::request_kind::is_page_load;

const PAGE: &str = include_str!("page.html");

/// Only this server's files, inline styles (React sets `style` attributes) and `data:` fonts
/// and images (GraphiQL's stylesheet embeds its fonts); `connect-src 'self'` covers the
/// same-origin WebSocket too.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A year, the most caches honour; the version in the path changes with the content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    body: &'static [u8],
}

const ASSETS: [Asset; 7] = [
    Asset {
        path: "/graphiql/react@18.3.1/react.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        body: include_bytes!("assets/react-18.3.1/react.production.min.js"),
    },
    Asset {
        path: "/graphiql/react-dom@18.3.1/react-dom.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        body: include_bytes!("assets/react-dom-18.3.1/react-dom.production.min.js"),
    },
    Asset {
        path: "/graphiql/graphql-ws@5.16.2/graphql-ws.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        body: include_bytes!("assets/graphql-ws-5.16.2/graphql-ws.min.js"),
    },
    Asset {
        path: "/graphiql/graphiql@3.9.0/graphiql.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        body: include_bytes!("assets/graphiql-3.9.0/graphiql.min.js"),
    },
    Asset {
        path: "/graphiql/graphiql@3.9.0/graphiql.min.css",
        content_type: CSS,
        cache_control: IMMUTABLE,
        body: include_bytes!("assets/graphiql-3.9.0/graphiql.min.css"),
    },
    Asset {
        path: "/graphiql/seam-graphiql.js",
        content_type: JAVASCRIPT,
        cache_control: REVALIDATE,
        body: include_bytes!("seam-graphiql.js"),
    },
    Asset {
        path: "/graphiql/seam-graphiql.css",
        content_type: CSS,
        cache_control: REVALIDATE,
        body: include_bytes!("seam-graphiql.css"),
    },
];

/// The licenses of the bundled packages, served beside them so the notice travels with the code.
const LICENSES: [(&str, &[u8]); 4] = [
    (
        "/graphiql/react@18.3.1/LICENSE",
        include_bytes!("assets/react-18.3.1/LICENSE"),
    ),
    (
        "/graphiql/react-dom@18.3.1/LICENSE",
        include_bytes!("assets/react-dom-18.3.1/LICENSE"),
    ),
    (
        "/graphiql/graphql-ws@5.16.2/LICENSE",
        include_bytes!("assets/graphql-ws-5.16.2/LICENSE"),
    ),
    (
        "/graphiql/graphiql@3.9.0/LICENSE",
        include_bytes!("assets/graphiql-3.9.0/LICENSE"),
    ),
];

/// The routes of the page's assets and their licenses.
pub(crate) fn asset_routes() -> Router {
    let assets = ASSETS.iter().map(|asset| {
        (
            asset.path,
            asset.content_type,
            asset.cache_control,
            asset.body,
        )
    });
    let licenses = LICENSES
        .iter()
        .map(|(path, body)| (*path, "text/plain; charset=utf-8", IMMUTABLE, *body));
    assets.chain(licenses).fold(
        Router::new(),
        |router, (path, content_type, cache, body)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CACHE_CONTROL, cache),
                            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        ],
                        body,
                    )
                }),
            )
        },
    )
}

fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, REVALIDATE),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

/// Answers page loads with the GraphiQL page; everything else goes to the GraphQL routes.
#[derive(Clone, Copy)]
pub(crate) struct PageLayer;

impl<S> Layer<S> for PageLayer {
    type Service = PageService<S>;

    fn layer(&self, inner: S) -> PageService<S> {
        PageService { inner }
    }
}

#[derive(Clone)]
pub(crate) struct PageService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for PageService<S>
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
        if is_page_load(&request) {
            return Either::Left(future::ready(Ok(page())));
        }
        Either::Right(self.inner.call(request))
    }
}
