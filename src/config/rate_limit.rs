//! The `rate_limit:` section: how many operations the gateway as a whole, and each client, may
//! start in a period. Off unless a limit is given.

use std::time::Duration;

use serde::Deserialize;

use super::{check_url, ConfigProblem};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub store: RateLimitStore,
    /// The Redis server of `store: redis`.
    pub redis_url: Option<String>,
    /// Prepended to every Redis key, so several deployments can share one server.
    pub prefix: String,
    /// One limit for every request the gateway serves together.
    pub global: Option<Quota>,
    /// One limit per client.
    pub per_client: Option<ClientQuota>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            store: RateLimitStore::Memory,
            redis_url: None,
            prefix: "seam:rate:".to_owned(),
            global: None,
            per_client: None,
        }
    }
}

impl RateLimitConfig {
    /// Whether any limit is set; without one the stage costs nothing.
    pub fn is_enabled(&self) -> bool {
        self.global.is_some() || self.per_client.is_some()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitStore {
    /// Token buckets in this process: each replica limits on its own.
    #[default]
    Memory,
    /// Counters in Redis, shared by every replica with the same server and prefix.
    Redis,
}

/// `requests` operations per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub requests: u32,
    #[serde(deserialize_with = "super::values::duration")]
    pub per: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientQuota {
    pub requests: u32,
    #[serde(deserialize_with = "super::values::duration")]
    pub per: Duration,
    /// The request header that names the client (an API key, a client id). Unset, or absent
    /// from a request, the client is its network address.
    #[serde(default)]
    pub header: Option<String>,
    /// A claim of the request's verified JWT that names the client (`sub`, a tenant id; a
    /// dotted name reaches into objects). It wins over `header`; a request without a token or
    /// without the claim falls back to `header`, then to the address.
    #[serde(default)]
    pub claim: Option<String>,
}

impl ClientQuota {
    pub fn quota(&self) -> Quota {
        Quota {
            requests: self.requests,
            per: self.per,
        }
    }
}

impl RateLimitConfig {
    pub(super) fn problems(&self, problems: &mut Vec<ConfigProblem>) {
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                key: format!("rate_limit.{key}"),
                message,
            });
        };
        match (self.store, &self.redis_url) {
            (RateLimitStore::Redis, None) => {
                problem("redis_url", "`store: redis` needs a `redis_url`".into())
            }
            (RateLimitStore::Redis, Some(url)) => {
                if let Err(message) = check_url(url, &["redis", "rediss", "redis+unix", "unix"]) {
                    problem("redis_url", message);
                }
            }
            (RateLimitStore::Memory, Some(_)) => problem(
                "redis_url",
                "the memory store takes no url; did you mean `store: redis`?".into(),
            ),
            (RateLimitStore::Memory, None) => {}
        }
        let quotas = [
            ("global", self.global),
            (
                "per_client",
                self.per_client.as_ref().map(ClientQuota::quota),
            ),
        ];
        for (key, quota) in quotas {
            let Some(quota) = quota else { continue };
            if quota.requests == 0 {
                problem(
                    &format!("{key}.requests"),
                    "must be at least 1; remove the limit to switch it off".into(),
                );
            }
            if quota.per < Duration::from_millis(1) {
                problem(&format!("{key}.per"), "must be at least 1ms".into());
            }
        }
        if self
            .per_client
            .as_ref()
            .and_then(|c| c.claim.as_deref())
            .is_some_and(|claim| claim.trim().is_empty())
        {
            problem("per_client.claim", "name a claim of the token".into());
        }
        if let Some(header) = self.per_client.as_ref().and_then(|c| c.header.as_ref()) {
            if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                problem(
                    "per_client.header",
                    format!("`{header}` is not a valid HTTP header name"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(yaml: &str) -> Vec<String> {
        let config: RateLimitConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let mut found = Vec::new();
        config.problems(&mut found);
        found.into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn off_by_default() {
        let config: RateLimitConfig = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(config, RateLimitConfig::default());
        assert!(!config.is_enabled());
        assert!(problems_of("{}").is_empty());
    }

    #[test]
    fn bad_values_are_named_by_their_key() {
        let found = problems_of(
            "store: redis\nglobal: { requests: 0, per: 0s }\n\
             per_client: { requests: 3, per: 1h, header: 'bad header', claim: '' }",
        );
        for key in [
            "rate_limit.redis_url: `store: redis` needs",
            "rate_limit.global.requests: must be at least 1",
            "rate_limit.global.per: must be at least 1ms",
            "rate_limit.per_client.header: `bad header`",
            "rate_limit.per_client.claim: name a claim",
        ] {
            assert!(
                found.iter().any(|p| p.starts_with(key)),
                "{key} in {found:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_missing_values_are_refused() {
        assert!(serde_yaml_ng::from_str::<RateLimitConfig>("global: { requests: 3 }").is_err());
        assert!(serde_yaml_ng::from_str::<RateLimitConfig>(
            "global: { requests: 3, per: 1h, x: 1 }"
        )
        .is_err());
        assert!(serde_yaml_ng::from_str::<RateLimitConfig>("glob: {}").is_err());
    }
}
