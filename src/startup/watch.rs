//! Hot reload when the config file or the supergraph file changes on disk, beside (or instead
//! of) polling the subgraphs.
//!
//! Files are checked once a second by their modification time and size rather than through
//! inotify and its kin: editors and Kubernetes ConfigMaps replace files by renaming, which
//! file-system events report in as many ways as there are platforms, while a `stat` sees the
//! new file whatever way it arrived. A change is acted on once the file has stopped changing for
//! one check, so a file caught half-written is not read.
//!
//! A reload re-reads the config (its `subgraphs`, `supergraph` and their SDLs), recomposes and
//! swaps the schema; settings outside the schema (limits, traffic, persisted operations, rate
//! limits…) keep the values they started with until a restart. A reload that fails counts in
//! `seam_reloads_total{outcome="failure"}` and the old schema keeps serving; one that could not
//! fetch a subgraph's SDL is tried again at each check for a while.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{served_model, supergraph_sdl, StartupError};
use crate::config::Config;
use crate::pipeline::Gateway;
use crate::subscriptions::EventModel;

/// How often the files are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// How many more times a reload that failed fetching a subgraph's SDL is tried, one check apart
/// (half a minute at the default interval: long enough for a subgraph to restart).
const FETCH_RETRIES: u32 = 30;

/// The files a gateway was started from.
#[derive(Debug, Clone, Default)]
pub struct WatchedFiles {
    /// The config file; re-read on every reload when set.
    pub config: Option<PathBuf>,
    /// A supergraph file given apart from the config (`seam serve --supergraph`); a config's own
    /// `supergraph:` is watched without being listed here.
    pub supergraph: Option<PathBuf>,
}

/// What a file looked like at one check; `None` when it could not be read.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Watches `files` for as long as the runtime runs, reloading `gateway` when one changes, unless
/// the config says `watch_files: false`; whether it watches. `config` is the config the gateway
/// was built from (with `supergraph` files: `None` when there is no config file).
pub fn spawn_file_watch(
    gateway: Arc<Gateway>,
    files: WatchedFiles,
    config: Option<Config>,
    interval: Duration,
    client: reqwest::Client,
) -> bool {
    if config.as_ref().and_then(|c| c.watch_files) == Some(false) {
        return false;
    }
    tokio::spawn(async move {
        let mut config = config;
        let watched = |config: &Option<Config>| -> Vec<PathBuf> {
            let from_config = config.as_ref().and_then(|c| c.supergraph.clone());
            // A subgraph's `sdl` file is part of the schema as much as the config is.
            let sdl_files = config
                .iter()
                .flat_map(|c| &c.subgraphs)
                .filter_map(|s| s.sdl.clone());
            files
                .config
                .iter()
                .chain(files.supergraph.iter())
                .cloned()
                .chain(from_config)
                .chain(sdl_files)
                .collect()
        };
        let stamps = |paths: &[PathBuf]| paths.iter().map(|p| stamp(p)).collect::<Vec<_>>();
        let mut paths = watched(&config);
        let mut served = stamps(&paths);
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        // A reload that could not reach a subgraph is tried again a few times: the edit would
        // otherwise wait for the next one.
        let mut retries = 0;
        loop {
            ticker.tick().await;
            let seen = stamps(&paths);
            let retrying = retries > 0 && seen == served;
            if seen == served && !retrying {
                continue;
            }
            if !retrying {
                // Changed since the last reload: wait one more check for it to settle.
                ticker.tick().await;
                let settled = stamps(&paths);
                if settled != seen {
                    continue;
                }
                served = settled;
            }
            match reload_from_files(&gateway, &files, &client).await {
                Ok(new_config) => {
                    retries = 0;
                    gateway.metrics().reload(true);
                    tracing::info!("schema reloaded after a file changed");
                    if new_config.is_some() {
                        config = new_config;
                    }
                    // The config may now name another supergraph file.
                    let now_watched = watched(&config);
                    if now_watched != paths {
                        paths = now_watched;
                        served = stamps(&paths);
                    }
                }
                Err(error) => {
                    let first = retries == 0;
                    // One failure per edit, however many times it is tried again.
                    if first {
                        gateway.metrics().reload(false);
                    }
                    retries = match (&error, retries) {
                        (StartupError::Sources(_), 0) => FETCH_RETRIES,
                        (StartupError::Sources(_), left) => left - 1,
                        _ => 0,
                    };
                    if first || retries == 0 {
                        tracing::warn!(%error, retries, "reload after a file change failed; the old schema keeps serving")
                    } else {
                        tracing::debug!(%error, retries, "reload after a file change failed again")
                    }
                }
            }
        }
    });
    true
}

/// Reads the files again and swaps the schema; the config that was read, when there is one.
/// On an error nothing is swapped.
pub async fn reload_from_files(
    gateway: &Gateway,
    files: &WatchedFiles,
    client: &reqwest::Client,
) -> Result<Option<Config>, StartupError> {
    let load = match files.supergraph {
        Some(_) => Config::load_beside_supergraph,
        None => Config::load,
    };
    let config = files.config.as_deref().map(load).transpose()?;
    let sdl = match (&files.supergraph, &config) {
        (Some(path), _) => super::supergraph_file(path).await?,
        (None, Some(config)) => supergraph_sdl(config, client).await?,
        (None, None) => return Ok(None),
    };
    let supergraph = served_model(&sdl, config.as_ref())?;
    match &config {
        Some(config) => {
            let events = EventModel::from_config(config, &supergraph)?;
            gateway.swap_schema_from_config(supergraph, events, config.clone());
        }
        None => gateway.swap_schema(supergraph, EventModel::default()),
    }
    Ok(config)
}
