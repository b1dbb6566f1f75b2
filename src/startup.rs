//! Getting from a config (or a supergraph file) to a serving gateway: load SDLs, compose, parse,
//! listen; and hot reload by polling.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::Name;

use crate::bridge::SharedBridge;
use crate::config::Config;
use crate::pipeline::{Gateway, Settings};
use crate::sources::{load_subgraph_sdls, read_supergraph_file};
use crate::subscriptions::EventModel;
use crate::supergraph::{EntityLookup, SubgraphId, Supergraph};

mod watch;
pub use watch::{reload_from_files, spawn_file_watch, WatchedFiles, WATCH_INTERVAL};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Sources(#[from] crate::sources::SourceError),
    #[error("composition failed:\n{0}")]
    Composition(#[from] crate::compose::CompositionErrors),
    #[error("{0}")]
    Supergraph(#[from] crate::supergraph::SupergraphError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Events(#[from] crate::subscriptions::EventModelError),
    #[error("nothing to serve: give the builder a config or a supergraph SDL")]
    NothingToServe,
    #[error(transparent)]
    Bridge(#[from] crate::bridge::BridgeError),
    #[error(transparent)]
    Manifest(#[from] crate::pipeline::persisted::ManifestError),
    #[error(transparent)]
    AuthKeys(#[from] crate::auth::KeyFileError),
    /// A command-line value that cannot work, with what was expected instead.
    #[error("{0}")]
    Usage(String),
}

/// The supergraph SDL a config describes: its `supergraph` file, or its subgraphs composed.
pub async fn supergraph_sdl(
    config: &Config,
    client: &reqwest::Client,
) -> Result<String, StartupError> {
    if let Some(path) = &config.supergraph {
        return Ok(read_supergraph_file(path).await?);
    }
    let sdls = load_subgraph_sdls(config, client).await?;
    Ok(crate::compose::compose(&sdls)?)
}

/// A gateway serving what `config` describes: the embedding entry point (tests use it too);
/// `crate::http::router(gateway)` turns it into an axum `Router`.
pub async fn gateway_from_config(
    config: &Config,
    client: &reqwest::Client,
) -> Result<Arc<Gateway>, StartupError> {
    gateway_from_config_with_bridge(config, client, None).await
}

/// Like [`gateway_from_config`], publishing and subscribing through `bridge` instead of the one
/// the config names (e.g. one in-process bridge shared with services in the same process).
pub async fn gateway_from_config_with_bridge(
    config: &Config,
    client: &reqwest::Client,
    bridge: Option<SharedBridge>,
) -> Result<Arc<Gateway>, StartupError> {
    let sdl = supergraph_sdl(config, client).await?;
    let supergraph = served_model(&sdl, Some(config))?;
    let events = EventModel::from_config(config, &supergraph)?;
    let gateway = Arc::new(new_gateway(Some(config), bridge)?);
    gateway.swap_schema(supergraph, events);
    Ok(gateway)
}

/// A gateway serving a supergraph SDL as it is (composed by us or another tool).
pub fn gateway_from_supergraph(
    sdl: &str,
    config: Option<&Config>,
) -> Result<Arc<Gateway>, StartupError> {
    gateway_from_supergraph_with_bridge(sdl, config, None)
}

/// Like [`gateway_from_supergraph`], publishing and subscribing through `bridge`.
pub fn gateway_from_supergraph_with_bridge(
    sdl: &str,
    config: Option<&Config>,
    bridge: Option<SharedBridge>,
) -> Result<Arc<Gateway>, StartupError> {
    let supergraph = served_model(sdl, config)?;
    let events = match config {
        Some(config) => EventModel::from_config(config, &supergraph)?,
        None => EventModel::default(),
    };
    let gateway = Arc::new(new_gateway(config, bridge)?);
    gateway.swap_schema(supergraph, events);
    Ok(gateway)
}

/// A gateway with the config's settings and bridge, and no schema yet.
fn new_gateway(
    config: Option<&Config>,
    bridge: Option<SharedBridge>,
) -> Result<Gateway, StartupError> {
    let bridge = match (bridge, config) {
        (Some(bridge), _) => bridge,
        (None, Some(config)) => crate::bridge::from_config(&config.bridge)?,
        (None, None) => Arc::new(crate::bridge::memory::MemoryBridge::new()),
    };
    let mut gateway = Gateway::new(Settings::from_config(config), bridge);
    if let Some(config) = config {
        gateway = gateway.with_authenticator(crate::auth::Authenticator::new(
            &config.auth,
            reqwest::Client::new(),
        )?);
    }
    match config.and_then(|c| c.persisted_queries.manifest.as_deref()) {
        Some(path) => Ok(gateway.with_manifest(crate::pipeline::persisted::Manifest::load(path)?)),
        None => Ok(gateway),
    }
}

/// The supergraph model of `sdl`, with the lookups of the config's `merge:` entries (stitching):
/// the config, not the SDL, says which root field looks up a plain service's objects. Whatever
/// plans against a config's supergraph (the gateway, `seam plan`) builds its model here.
pub fn supergraph_model(sdl: &str, config: Option<&Config>) -> Result<Supergraph, StartupError> {
    let supergraph = Supergraph::parse(sdl)?;
    let Some(config) = config else {
        return Ok(supergraph);
    };
    // Config validation has checked that these are GraphQL names.
    let name = |text: &str| Name::new(text).ok();
    let mut lookups = Vec::new();
    for subgraph in config.subgraphs.iter().filter(|s| !s.merge.is_empty()) {
        let Some(graph) = supergraph
            .subgraphs
            .iter()
            .position(|known| *known.name.0 == *subgraph.name)
        else {
            continue;
        };
        for rule in subgraph.merge_rules() {
            let arguments = rule
                .arguments
                .iter()
                .filter_map(|(argument, key_field)| Some((name(argument)?, name(key_field)?)))
                .collect();
            let (Some(type_name), Some(query_field)) = (name(&rule.type_name), name(&rule.query))
            else {
                continue;
            };
            lookups.push(EntityLookup {
                graph: SubgraphId(graph as u16),
                type_name,
                query_field,
                arguments,
            });
        }
    }
    Ok(supergraph.with_lookups(lookups)?)
}

/// The model of a supergraph the gateway is about to serve: [`supergraph_model`], refusing a
/// supergraph that links a security or execution spec Seam does not implement.
fn served_model(sdl: &str, config: Option<&Config>) -> Result<Supergraph, StartupError> {
    let supergraph = supergraph_model(sdl, config)?;
    supergraph.check_specs_implemented()?;
    if let Some(config) = config {
        let names: Vec<&str> = supergraph.subgraphs.iter().map(|s| &*s.name.0).collect();
        config.check_subgraph_names(&names)?;
    }
    // A subgraph without a URL (an event subgraph, as Seam composes one) can be served only
    // with what the config says of it; otherwise its fields would fail at every request.
    for subgraph in supergraph
        .subgraphs
        .iter()
        .filter(|s| s.url.trim().is_empty())
    {
        let name = &*subgraph.name.0;
        let described = config.is_some_and(|config| {
            config
                .subgraphs
                .iter()
                .any(|s| s.name == name && (s.url.is_some() || s.sdl.is_some()))
        });
        if !described {
            return Err(StartupError::Supergraph(
                crate::supergraph::SupergraphError::NoUrl(name.to_owned()),
            ));
        }
    }
    Ok(supergraph)
}

pub async fn supergraph_file(path: &Path) -> Result<String, StartupError> {
    Ok(read_supergraph_file(path).await?)
}

/// Binds `addr` and serves with the config's limits until Ctrl-C or SIGTERM, then shuts down
/// gracefully (see `http::server`).
pub async fn serve(
    gateway: Arc<Gateway>,
    addr: SocketAddr,
    config: Option<&Config>,
) -> Result<(), StartupError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Listen { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    if crate::telemetry::json_logs() {
        tracing::info!(address = %local, "seam listening on http://{local}/graphql");
    } else {
        eprintln!("seam listening on http://{local}/graphql");
    }
    crate::http::server::serve_gateway(listener, gateway, config)
        .await
        .map_err(StartupError::Serve)
}

/// Re-fetches and recomposes every `interval`; swaps the schema only when the SDL changed and is valid,
/// so a broken subgraph deploy never takes the gateway down.
pub fn spawn_hot_reload(
    gateway: Arc<Gateway>,
    config: Config,
    interval: Duration,
    client: reqwest::Client,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            // The config file as the file watch last read it: polling must not undo an edit.
            let reloaded = gateway.reloaded_config();
            let config = reloaded.as_deref().unwrap_or(&config);
            let current = gateway.schema_state().map(|s| s.supergraph.sdl.clone());
            match supergraph_sdl(config, &client).await {
                Ok(sdl) if Some(&sdl) != current.as_ref() => {
                    match served_model(&sdl, Some(config))
                        .and_then(|s| Ok((EventModel::from_config(config, &s)?, s)))
                    {
                        Ok((events, supergraph)) => {
                            gateway.swap_schema(supergraph, events);
                            gateway.metrics().reload(true);
                            tracing::info!("schema reloaded");
                        }
                        Err(e) => {
                            gateway.metrics().reload(false);
                            tracing::warn!(error = %e, "reload skipped: new supergraph is invalid")
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    gateway.metrics().reload(false);
                    tracing::warn!(error = %e, "reload skipped")
                }
            }
        }
    });
}

/// Builds an embeddable gateway: `Gateway::builder().config(cfg).build().await?` gives an
/// `axum::Router` serving `/graphql`, `/health` and `/ready`.
#[derive(Default)]
pub struct GatewayBuilder {
    config: Option<Config>,
    supergraph_sdl: Option<String>,
    client: Option<reqwest::Client>,
    bridge: Option<SharedBridge>,
}

impl Gateway {
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }
}

impl GatewayBuilder {
    /// Subgraphs (fetched and composed at build time), hot reload and every setting. With
    /// [`GatewayBuilder::supergraph_sdl`] its subgraph entries only override URLs and timeouts,
    /// and every other section applies; such a config need not list subgraphs
    /// ([`Config::from_yaml_str_beside_supergraph`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Serve this supergraph SDL (ours or another tool's) instead of composing from the config.
    pub fn supergraph_sdl(mut self, sdl: impl Into<String>) -> Self {
        self.supergraph_sdl = Some(sdl.into());
        self
    }

    /// Publish and subscribe events through `bridge` — any implementation of
    /// [`crate::bridge::Bridge`] — instead of the one the config names.
    pub fn bridge(mut self, bridge: SharedBridge) -> Self {
        self.bridge = Some(bridge);
        self
    }

    /// The client used to fetch subgraph SDLs (subgraph requests use the gateway's own pool).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The gateway itself, for callers that want to swap schemas or compose their own router.
    pub async fn build_gateway(self) -> Result<Arc<Gateway>, StartupError> {
        let client = self.client.unwrap_or_default();
        match (self.supergraph_sdl, self.config) {
            (Some(sdl), config) => {
                gateway_from_supergraph_with_bridge(&sdl, config.as_ref(), self.bridge)
            }
            (None, Some(config)) => {
                let gateway =
                    gateway_from_config_with_bridge(&config, &client, self.bridge).await?;
                // A `supergraph:` file named in the config is re-read on the same schedule.
                if let Some(interval) = config.poll_interval {
                    spawn_hot_reload(gateway.clone(), config, interval, client);
                }
                Ok(gateway)
            }
            (None, None) => Err(StartupError::NothingToServe),
        }
    }

    /// The router with the config's body, message, timeout and streaming limits; the socket
    /// limits and graceful shutdown belong to whoever serves it (`http::server` for Seam's own).
    pub async fn build(self) -> Result<axum::Router, StartupError> {
        let settings =
            crate::http::ProtocolSettings::from_config(self.config.as_ref(), Default::default());
        Ok(crate::http::router_with(
            self.build_gateway().await?,
            settings,
        ))
    }
}
