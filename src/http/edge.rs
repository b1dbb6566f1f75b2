//! The browser-facing rules around the GraphQL routes, built once from the config: CORS, CSRF
//! prevention, the cross-site WebSocket check and the GraphiQL page. The routes themselves do not
//! know these rules exist; a request a rule refuses never reaches them.

use std::sync::Arc;

use axum::Router;

use super::cors::{self, OriginPolicy};
use super::csrf::CsrfLayer;
use super::graphiql;
use super::websocket_origin::CrossSiteWebSocketLayer;
use crate::config::{CompressionConfig, Config, CorsConfig, CsrfConfig, GraphiqlConfig};

/// What the HTTP edge needs from the config's `cors`, `csrf`, `graphiql` and `compression`
/// sections.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    cors: CorsConfig,
    origins: Arc<OriginPolicy>,
    csrf: CsrfConfig,
    graphiql: bool,
    /// Applied around every route (`super::compression`), not only the GraphQL ones.
    pub(super) compression: CompressionConfig,
}

impl Default for EdgeSettings {
    /// No cross-origin access, CSRF prevention on, GraphiQL on: the defaults of the config.
    fn default() -> Self {
        Self::new(
            &CorsConfig::default(),
            &CsrfConfig::default(),
            GraphiqlConfig::default(),
        )
    }
}

impl EdgeSettings {
    pub fn from_config(config: &Config) -> Self {
        Self::new(&config.cors, &config.csrf, config.graphiql)
            .with_compression(config.compression.clone())
    }

    /// These settings with `compression` instead of the default (both directions on).
    pub fn with_compression(self, compression: CompressionConfig) -> Self {
        Self {
            compression,
            ..self
        }
    }

    /// Settings from the sections themselves. A `cors` section that breaks a rule (only possible
    /// when it was built in code: loading a config file checks them) allows no origin at all,
    /// rather than something the operator did not ask for.
    pub fn new(cors: &CorsConfig, csrf: &CsrfConfig, graphiql: GraphiqlConfig) -> Self {
        let problems = cors.problems();
        let cors = if problems.is_empty() {
            cors.clone()
        } else {
            for problem in &problems {
                tracing::error!(%problem, "invalid cors settings: no cross-origin access");
            }
            CorsConfig::default()
        };
        Self {
            origins: Arc::new(OriginPolicy::from_config(&cors)),
            cors,
            csrf: csrf.clone(),
            graphiql: graphiql.enabled,
            compression: CompressionConfig::default(),
        }
    }

    /// `graphql` (the routes serving GraphQL) inside the edge's layers, plus GraphiQL's assets.
    /// From the outside in: CORS (so refusals carry CORS headers an allowed page can read),
    /// CSRF prevention, the WebSocket origin check, then the GraphiQL page.
    pub(crate) fn wrap(&self, graphql: Router) -> Router {
        let mut routes = graphql;
        if self.graphiql {
            routes = routes.route_layer(graphiql::PageLayer);
        }
        routes = routes.route_layer(CrossSiteWebSocketLayer::new(self.origins.clone()));
        if self.csrf.enabled {
            routes = routes.route_layer(CsrfLayer::new(&self.csrf.required_headers));
        }
        routes = routes.route_layer(cors::layer(&self.cors, self.origins.clone()));
        if self.graphiql {
            routes = routes.merge(graphiql::asset_routes());
        }
        routes
    }
}
