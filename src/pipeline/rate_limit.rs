//! Rate limit: whether the client, and the gateway as a whole, may start another operation now.
//!
//! It runs first, before any work, for every operation whatever its transport: a query over
//! HTTP, or each `subscribe` on a WebSocket. A client over its quota gets `RATE_LIMITED`, over
//! HTTP with 429 and `Retry-After`.

mod memory;
mod redis_windows;

use std::time::Duration;

use http::HeaderName;

use super::respond::{Answer, Outcome};
use super::shared_store::SharedStore;
use crate::config::{Quota, RateLimitConfig, RateLimitStore};
use crate::context::RequestContext;
use crate::response::GraphqlError;

/// The limits of one gateway; they outlive schema generations.
#[derive(Default)]
pub struct RateLimits {
    /// Starts every key, so deployments sharing one Redis keep their counters apart.
    prefix: String,
    global: Option<Limiter>,
    per_client: Option<(Limiter, ClientKey)>,
}

/// What names a client, in order of preference.
struct ClientKey {
    /// A claim of the request's verified token (`per_client.claim`).
    claim: Option<String>,
    /// A request header (`per_client.header`).
    header: Option<HeaderName>,
}

enum Limiter {
    Memory(memory::Buckets),
    Redis(redis_windows::Windows),
}

impl Limiter {
    fn new(config: &RateLimitConfig, quota: Quota) -> Self {
        match (config.store, &config.redis_url) {
            (RateLimitStore::Redis, Some(url)) => Limiter::Redis(redis_windows::Windows::new(
                SharedStore::new("rate limit store", url),
                quota,
            )),
            // Config validation refuses `store: redis` without a url.
            _ => Limiter::Memory(memory::Buckets::new(quota)),
        }
    }

    async fn take(&self, key: &str) -> Result<(), Duration> {
        match self {
            Limiter::Memory(buckets) => buckets.take(key),
            Limiter::Redis(windows) => windows.take(key).await,
        }
    }
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        let header = config
            .per_client
            .as_ref()
            .and_then(|c| c.header.as_deref())
            .and_then(|name| HeaderName::from_bytes(name.as_bytes()).ok());
        RateLimits {
            prefix: config.prefix.clone(),
            global: config.global.map(|quota| Limiter::new(config, quota)),
            per_client: config.per_client.as_ref().map(|client| {
                let key = ClientKey {
                    claim: client.claim.clone(),
                    header,
                };
                (Limiter::new(config, client.quota()), key)
            }),
        }
    }

    /// The value of the header that names clients (`per_client.header`), when one is set and
    /// the request carries it: behind a proxy, the peer address is the proxy's for everyone.
    pub fn client_header_key(&self, context: &RequestContext) -> Option<String> {
        let name = self.per_client.as_ref()?.1.header.as_ref()?;
        let value = context.headers.get(name)?;
        Some(format!("h:{}", String::from_utf8_lossy(value.as_bytes())))
    }

    /// The client's limit is taken first, so a client refused by its own limit does not spend
    /// the gateway's.
    pub(super) async fn admit(&self, context: &RequestContext) -> Result<(), Answer> {
        let prefix = &self.prefix;
        if let Some((limiter, client)) = &self.per_client {
            let key = format!("{prefix}client:{}", client_key(context, client));
            limiter
                .take(&key)
                .await
                .map_err(|wait| refused(wait, "client"))?;
        }
        if let Some(limiter) = &self.global {
            let key = format!("{prefix}global");
            limiter
                .take(&key)
                .await
                .map_err(|wait| refused(wait, "gateway"))?;
        }
        Ok(())
    }
}

/// The claim's value when the request's verified token has it, else the header's value when the
/// request has it, else the client's IP address (without the port, which changes with every
/// connection). A claim is checked by the token's signature, so a client cannot pose as another
/// the way it can with a header.
fn client_key(context: &RequestContext, key: &ClientKey) -> String {
    let claim = key.claim.as_deref().and_then(|claim| {
        let identity = context.identity.as_deref()?;
        identity.claim(claim)
    });
    if let Some(value) = claim {
        return format!("c:{}", crate::auth::claim_text(value));
    }
    if let Some(value) = key
        .header
        .as_ref()
        .and_then(|name| context.headers.get(name))
    {
        return format!("h:{}", String::from_utf8_lossy(value.as_bytes()));
    }
    match context.client_address {
        Some(address) => format!("ip:{}", address.ip()),
        None => "unknown".to_owned(),
    }
}

fn refused(wait: Duration, whose: &str) -> Answer {
    // Rounded up: a client that waits the whole seconds it is told finds a token there.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Answer::refuse(
        Outcome::TooManyRequests {
            retry_after_secs: seconds.max(1),
        },
        &[GraphqlError::new(
            format!(
                "the {whose} rate limit is reached; retry in {}s",
                seconds.max(1)
            ),
            "RATE_LIMITED",
        )],
    )
}
