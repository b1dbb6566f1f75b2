//! Where each subgraph is called: its URL, timeout and subscription endpoint, from the
//! supergraph with the config's overrides laid over it.

use std::collections::HashMap;
use std::time::Duration;

use crate::supergraph::Supergraph;

/// A subgraph that has not answered in this long is treated as down for this request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to call one subgraph, indexed by [`crate::supergraph::SubgraphId`].
#[derive(Debug, Clone)]
pub struct SubgraphEndpoint {
    pub name: String,
    pub url: String,
    /// Parsed once here rather than on every request; `None` if `url` is not a valid URL.
    pub parsed_url: Option<reqwest::Url>,
    pub timeout: Duration,
    /// The `graphql-transport-ws` endpoint for the subgraph's own subscription fields; see
    /// [`subscription_url_for`].
    pub subscription_url: Option<String>,
}

/// Per-subgraph settings from the config, applied over the supergraph's URL and the default timeout.
#[derive(Debug, Clone, Default)]
pub struct SubgraphOverride {
    pub url: Option<String>,
    pub timeout: Option<Duration>,
    pub subscription_url: Option<String>,
}

/// The endpoint list for a supergraph, with URL and timeout overrides by subgraph name.
pub fn endpoints_for(
    supergraph: &Supergraph,
    overrides: &HashMap<String, SubgraphOverride>,
) -> Vec<SubgraphEndpoint> {
    supergraph
        .subgraphs
        .iter()
        .map(|s| {
            let o = overrides.get(&*s.name.0);
            let url = o
                .and_then(|o| o.url.clone())
                .unwrap_or_else(|| s.url.clone());
            let timeout = o.and_then(|o| o.timeout);
            let subscription_url = o
                .and_then(|o| o.subscription_url.clone())
                .or_else(|| subscription_url_for(&url));
            SubgraphEndpoint {
                name: s.name.to_string(),
                parsed_url: reqwest::Url::parse(&url).ok(),
                url,
                timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
                subscription_url,
            }
        })
        .collect()
}

/// The WebSocket URL assumed for a subgraph whose config gives no `subscription_url`: its HTTP
/// URL with the `ws` (`wss` for `https`) scheme, same host and path. GraphQL servers commonly
/// take the WebSocket upgrade on their HTTP endpoint (Apollo Server, GraphQL Yoga, async-graphql
/// when so routed), so this works without configuration more often than any other guess; a
/// subgraph serving it elsewhere names it with `subscription_url`. `None` for a URL that is not
/// HTTP (e.g. the placeholder of an event subgraph).
pub fn subscription_url_for(http_url: &str) -> Option<String> {
    let (scheme, rest) = http_url.split_once("://")?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    Some(format!("{ws}://{rest}"))
}

#[cfg(test)]
mod tests {
    use super::subscription_url_for;

    #[test]
    fn subscription_urls_default_to_the_http_url_over_websocket() {
        assert_eq!(
            subscription_url_for("http://reviews:4002/graphql").as_deref(),
            Some("ws://reviews:4002/graphql")
        );
        assert_eq!(
            subscription_url_for("HTTPS://reviews.example/graphql?x=1").as_deref(),
            Some("wss://reviews.example/graphql?x=1")
        );
        assert_eq!(subscription_url_for(""), None);
        assert_eq!(subscription_url_for("unix:///tmp/socket"), None);
    }
}
