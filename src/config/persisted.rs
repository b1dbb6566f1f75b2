//! The `persisted_queries:` section: automatic persisted queries (Apollo's APQ protocol) and
//! persisted documents from a manifest (trusted documents).
//!
//! Every key has a default; APQ is on with an in-memory store, as in Apollo's gateways, because
//! a client that does not send the extension is not affected by it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{check_url, ConfigProblem};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersistedQueriesConfig {
    pub apq: ApqConfig,
    /// A manifest of persisted documents in Apollo's or Relay's format; resolved against the
    /// config's directory.
    pub manifest: Option<PathBuf>,
    /// Refuse every request that does not name a document of the manifest, so clients can run
    /// only the operations that were shipped with them.
    pub only_persisted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApqConfig {
    pub enabled: bool,
    pub store: ApqStoreKind,
    /// What the in-memory store may hold, in bytes of operation text.
    pub memory_bytes: u64,
    /// The Redis server of `store: redis`.
    pub redis_url: Option<String>,
    /// Prepended to every Redis key, so several deployments can share one server.
    pub prefix: String,
    /// How long an entry lives after it was registered (in Redis, and in memory).
    #[serde(deserialize_with = "super::values::duration")]
    pub ttl: Duration,
}

impl Default for ApqConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            store: ApqStoreKind::Memory,
            memory_bytes: 32 * 1024 * 1024,
            redis_url: None,
            prefix: "seam:apq:".to_owned(),
            ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApqStoreKind {
    /// Private to this gateway instance; replicas each learn every hash once.
    #[default]
    Memory,
    /// Shared by every replica that points at the same server and prefix.
    Redis,
}

impl PersistedQueriesConfig {
    pub(super) fn problems(&self, problems: &mut Vec<ConfigProblem>) {
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                key: format!("persisted_queries.{key}"),
                message,
            });
        };
        let apq = &self.apq;
        match (apq.store, &apq.redis_url) {
            (ApqStoreKind::Redis, None) if apq.enabled => {
                problem("apq.redis_url", "`store: redis` needs a `redis_url`".into())
            }
            (ApqStoreKind::Redis, Some(url)) => {
                if let Err(message) = check_url(url, &["redis", "rediss", "redis+unix", "unix"]) {
                    problem("apq.redis_url", message);
                }
            }
            (ApqStoreKind::Memory, Some(_)) => problem(
                "apq.redis_url",
                "the memory store takes no url; did you mean `store: redis`?".into(),
            ),
            _ => {}
        }
        if apq.memory_bytes < 1024 {
            problem(
                "apq.memory_bytes",
                format!("must be at least 1024 bytes; got {}", apq.memory_bytes),
            );
        }
        if apq.ttl.is_zero() {
            problem("apq.ttl", "must be longer than 0".into());
        }
        if let Some(path) = &self.manifest {
            if path.as_os_str().is_empty() {
                problem("manifest", "the path is empty".into());
            }
        }
        if self.only_persisted && self.manifest.is_none() {
            problem(
                "only_persisted",
                "needs a `manifest`: without one no operation could run".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(yaml: &str) -> Vec<String> {
        let config: PersistedQueriesConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let mut found = Vec::new();
        config.problems(&mut found);
        found.into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn every_key_has_a_default() {
        let config: PersistedQueriesConfig = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(config, PersistedQueriesConfig::default());
        assert!(config.apq.enabled);
        assert!(problems_of("{}").is_empty());
    }

    #[test]
    fn bad_values_are_named_by_their_key() {
        let found =
            problems_of("apq: { store: redis, ttl: 0s, memory_bytes: 10 }\nonly_persisted: true");
        for key in [
            "persisted_queries.apq.redis_url: `store: redis` needs",
            "persisted_queries.apq.ttl: must be longer than 0",
            "persisted_queries.apq.memory_bytes: must be at least 1024",
            "persisted_queries.only_persisted: needs a `manifest`",
        ] {
            assert!(
                found.iter().any(|p| p.starts_with(key)),
                "{key} in {found:?}"
            );
        }
        let found = problems_of("apq: { redis_url: 'redis://127.0.0.1' }");
        assert!(
            found[0].contains("did you mean `store: redis`"),
            "{found:?}"
        );
        let found = problems_of("apq: { store: redis, redis_url: 'http://x' }");
        assert!(
            found[0].starts_with("persisted_queries.apq.redis_url"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_yaml_ng::from_str::<PersistedQueriesConfig>("apq: { stor: redis }").is_err());
        assert!(serde_yaml_ng::from_str::<PersistedQueriesConfig>("apq: { ttl: 5 }").is_err());
    }
}
