//! CORS at the HTTP edge: which other origins' pages may read Seam's answers, from the `cors:`
//! config. tower-http's `CorsLayer` speaks the protocol (preflights, `Vary`); this file only
//! decides which origins it allows, and that decision is shared with the WebSocket origin check.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::HeaderValue;
use tower_http::cors::{AllowCredentials, AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::{CorsConfig, OriginRegex};

/// The origins the `cors:` config allows.
#[derive(Debug, Default)]
pub(crate) struct OriginPolicy {
    any: bool,
    exact: HashSet<String>,
    regexes: Vec<OriginRegex>,
}

impl OriginPolicy {
    pub(crate) fn from_config(config: &CorsConfig) -> Self {
        Self {
            any: config.allows_any_origin(),
            exact: config.allow_origins.iter().cloned().collect(),
            regexes: config.allow_origin_regexes.clone(),
        }
    }

    /// Whether a page from `origin` (an `Origin` header's value) may call the gateway.
    pub(crate) fn allows(&self, origin: &HeaderValue) -> bool {
        if self.any {
            return true;
        }
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        self.exact.contains(origin) || self.regexes.iter().any(|regex| regex.is_match(origin))
    }
}

/// The CORS layer for the GraphQL routes. Every `OPTIONS` request is answered here as a
/// preflight; `Access-Control-Allow-Origin` (and `-Credentials`) is sent only to allowed origins.
pub(crate) fn layer(config: &CorsConfig, origins: Arc<OriginPolicy>) -> CorsLayer {
    let allow_origin = if config.allows_any_origin() {
        AllowOrigin::any()
    } else {
        let origins = origins.clone();
        AllowOrigin::predicate(move |origin, _| origins.allows(origin))
    };
    let allow_credentials = if config.allow_credentials {
        AllowCredentials::predicate(move |origin, _| origins.allows(origin))
    } else {
        AllowCredentials::from(false)
    };
    let allow_headers = if config.allow_headers.is_empty() {
        AllowHeaders::mirror_request()
    } else {
        AllowHeaders::list(config.allow_headers.iter().cloned())
    };
    let layer = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(allow_credentials)
        .allow_methods(config.allow_methods.clone())
        .allow_headers(allow_headers)
        .expose_headers(config.expose_headers.clone());
    match config.max_age {
        Some(max_age) => layer.max_age(max_age),
        None => layer,
    }
}
