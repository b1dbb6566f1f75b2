//! Where automatic persisted queries are kept between the request that registers a hash and
//! the requests that send only the hash.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::super::shared_store::SharedStore;
use crate::config::{ApqConfig, ApqStoreKind};

pub(super) enum ApqStore {
    /// Bounded by the bytes of operation text it holds, so many large queries cannot grow it.
    Memory(Cache<String, Arc<str>>),
    /// Shared by replicas: a hash one of them learned is known to all.
    Redis {
        store: Box<SharedStore>,
        prefix: String,
        ttl: Duration,
    },
}

impl ApqStore {
    pub(super) fn new(config: &ApqConfig) -> Self {
        match (config.store, &config.redis_url) {
            (ApqStoreKind::Redis, Some(url)) => ApqStore::Redis {
                store: Box::new(SharedStore::new("APQ store", url)),
                prefix: config.prefix.clone(),
                ttl: config.ttl,
            },
            // Config validation refuses `store: redis` without a url.
            _ => ApqStore::Memory(
                Cache::builder()
                    .max_capacity(config.memory_bytes)
                    .weigher(|hash: &String, query: &Arc<str>| {
                        u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                    })
                    .time_to_live(config.ttl)
                    .build(),
            ),
        }
    }

    /// The query registered under `hash`; `None` when unknown or when Redis is away.
    pub(super) async fn get(&self, hash: &str) -> Option<Arc<str>> {
        match self {
            ApqStore::Memory(cache) => cache.get(hash).await,
            ApqStore::Redis { store, prefix, .. } => {
                let mut command = redis::cmd("GET");
                command.arg(format!("{prefix}{hash}"));
                store
                    .query::<Option<String>>(&command)
                    .await
                    .flatten()
                    .map(Arc::from)
            }
        }
    }

    /// Registers `query` under `hash`; a Redis that is away loses the entry, which only means
    /// the client sends the query once more.
    pub(super) async fn put(&self, hash: &str, query: &str) {
        match self {
            ApqStore::Memory(cache) => cache.insert(hash.to_owned(), Arc::from(query)).await,
            ApqStore::Redis { store, prefix, ttl } => {
                let mut command = redis::cmd("SET");
                command
                    .arg(format!("{prefix}{hash}"))
                    .arg(query)
                    .arg("PX")
                    .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
                let _: Option<()> = store.query(&command).await;
            }
        }
    }
}
