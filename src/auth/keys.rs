//! The keys tokens may be signed with: JWKS files and shared secrets read once, JWKS URLs fetched
//! and kept fresh.
//!
//! A JWKS URL is fetched at startup and then every `refresh_interval` by a background task
//! that lives as long as the gateway (requests keep the keys they have meanwhile; a failed fetch
//! is tried again after `min_refresh_interval`), and again when a token names a `kid` no key
//! has — that is how a rotated-in key is picked up before the next interval. Without a tokio
//! runtime at startup (an embedding that builds the gateway outside one) there is no task, and
//! the set is fetched when a token first needs it and again once it is `refresh_interval` old. The unknown-`kid` fetch is allowed at most once per `min_refresh_interval` and is
//! shared by the requests that wait for it, so tokens with made-up `kid`s cost the key server at
//! most one request per floor, however many arrive.
//!
//! A request waits for a fetch it needs at most the source's `timeout`, whatever it finds: a
//! fetch already running (the background one, another request's) is joined, not queued behind,
//! and a fetch outlives the requests that stop waiting for it, so the next one finds it done.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;

use crate::config::{JwksSource, SecretKey};

/// The kind of key, which decides the algorithms it can verify: a token's `alg` must be of its
/// key's kind, so an RSA public key can never be used as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

impl KeyKind {
    fn of_algorithm(alg: Algorithm) -> KeyKind {
        match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyKind::Hmac,
            Algorithm::ES256 | Algorithm::ES384 => KeyKind::Ec,
            Algorithm::EdDSA => KeyKind::Ed,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyKind::Rsa,
        }
    }
}

/// One verification key.
pub struct Key {
    kid: Option<String>,
    /// The key's own `alg`, when its JWK names one: then only that algorithm may use it.
    alg: Option<Algorithm>,
    kind: KeyKind,
    pub decoding: DecodingKey,
}

impl Key {
    /// Whether a token with this header may be checked against the key.
    fn fits(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        let kid_fits = match (kid, &self.kid) {
            (Some(wanted), Some(own)) => wanted == own,
            // A token without a `kid` is tried against every key of its kind; a key without
            // one answers to any `kid`, as a single-key JWKS often has none.
            _ => true,
        };
        kid_fits && KeyKind::of_algorithm(alg) == self.kind && self.alg.is_none_or(|own| own == alg)
    }

    fn from_jwk(jwk: &Jwk) -> Option<Key> {
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(_) => KeyKind::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyKind::Ed,
            AlgorithmParameters::OctetKey(_) => KeyKind::Hmac,
        };
        // Encryption keys and algorithms are not for signatures.
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            return None;
        }
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(alg) => Some(signature_algorithm(alg)?),
        };
        Some(Key {
            kid: jwk.common.key_id.clone(),
            alg,
            kind,
            decoding: DecodingKey::from_jwk(jwk).ok()?,
        })
    }
}

fn signature_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The usable keys of a JWKS document. A key Seam cannot use (an encryption key, an unknown
/// type) is skipped rather than failing the whole set, as identity providers publish both.
fn parse_jwks(text: &str) -> Result<Vec<Arc<Key>>, String> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(keys) = document.get("keys").and_then(|keys| keys.as_array()) else {
        return Err("no `keys` list".into());
    };
    Ok(keys
        .iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .filter_map(|jwk| Key::from_jwk(&jwk))
        .map(Arc::new)
        .collect())
}

/// A key set problem found at startup.
#[derive(Debug, thiserror::Error)]
#[error("auth.jwt: cannot use the JWKS file {path}: {message}")]
pub struct KeyFileError {
    pub path: String,
    pub message: String,
}

/// One JWKS URL and what was last fetched from it.
struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    refresh_interval: Duration,
    min_refresh_interval: Duration,
    /// How long a fetch may take, and the most a request waits for one.
    timeout: Duration,
    state: ArcSwap<RemoteState>,
    /// Held while fetching, so concurrent requests share one fetch.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct RemoteState {
    keys: Vec<Arc<Key>>,
    /// When the keys were last fetched successfully.
    fetched_at: Option<Instant>,
    /// When a fetch last started, successful or not: the floor counts from here.
    attempted_at: Option<Instant>,
}

impl RemoteJwks {
    /// Fetches the set now, keeping the old keys when the fetch fails.
    async fn fetch(&self) {
        let started = Instant::now();
        let result = async {
            let response = self
                .client
                .get(&self.url)
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            let text = response
                .text()
                .await
                .map_err(|e| format!("reading the body failed: {e}"))?;
            parse_jwks(&text)
        }
        .await;
        let old = self.state.load_full();
        let next = match result {
            Ok(keys) => {
                tracing::debug!(url = %crate::telemetry::redact::loggable_url(self.url.as_str()), keys = keys.len(), "fetched a JWKS");
                RemoteState {
                    keys,
                    fetched_at: Some(started),
                    attempted_at: Some(started),
                }
            }
            Err(message) => {
                tracing::warn!(url = %crate::telemetry::redact::loggable_url(self.url.as_str()), %message, "could not fetch the JWKS; keeping the keys fetched before");
                RemoteState {
                    keys: old.keys.clone(),
                    fetched_at: old.fetched_at,
                    attempted_at: Some(started),
                }
            }
        };
        self.state.store(Arc::new(next));
    }

    /// Fetches unless a fetch started at or after `since` (another request did it meanwhile).
    async fn fetch_once_since(&self, since: Option<Instant>) {
        let _guard = self.fetching.lock().await;
        // `None` orders before any instant, so a first fetch is skipped only when one happened.
        if self.state.load().attempted_at > since {
            return;
        }
        self.fetch().await;
    }

    /// [`RemoteJwks::fetch_once_since`] in a task of its own, waited for at most `timeout`: the
    /// request goes on with the keys it has once the wait is over, and the fetch goes on without
    /// it (its own timeout ends it).
    async fn fetch_waiting(self: &Arc<Self>, since: Option<Instant>) {
        let remote = self.clone();
        let fetch = tokio::spawn(async move { remote.fetch_once_since(since).await });
        if tokio::time::timeout(self.timeout, fetch).await.is_err() {
            tracing::warn!(url = %crate::telemetry::redact::loggable_url(self.url.as_str()), timeout = ?self.timeout, "the JWKS fetch is taking longer than its timeout; going on with the keys fetched before");
        }
    }
}

/// Every key Seam verifies tokens with.
pub struct KeyStore {
    fixed: Vec<Arc<Key>>,
    remote: Vec<Arc<RemoteJwks>>,
}

impl KeyStore {
    /// Reads the JWKS files and secrets now; URLs are fetched when first needed.
    pub fn new(
        sources: &[JwksSource],
        secrets: &[SecretKey],
        client: reqwest::Client,
    ) -> Result<Self, KeyFileError> {
        let mut fixed = Vec::new();
        let mut remote = Vec::new();
        for source in sources {
            if let Some(path) = &source.file {
                fixed.extend(read_jwks_file(path)?);
            }
            if let Some(url) = &source.url {
                let jwks = Arc::new(RemoteJwks {
                    url: url.clone(),
                    client: client.clone(),
                    refresh_interval: source.refresh_interval,
                    min_refresh_interval: source.min_refresh_interval,
                    timeout: source.timeout,
                    state: ArcSwap::from_pointee(RemoteState::default()),
                    fetching: tokio::sync::Mutex::new(()),
                });
                spawn_refresh(&jwks);
                remote.push(jwks);
            }
        }
        for secret in secrets {
            let alg = match secret.algorithm.as_str() {
                "HS384" => Algorithm::HS384,
                "HS512" => Algorithm::HS512,
                _ => Algorithm::HS256,
            };
            fixed.push(Arc::new(Key {
                kid: secret.kid.clone(),
                alg: Some(alg),
                kind: KeyKind::Hmac,
                decoding: DecodingKey::from_secret(secret.secret.as_bytes()),
            }));
        }
        Ok(KeyStore { fixed, remote })
    }

    /// The keys a token with this `kid` and `alg` may be checked against, fetching JWKS URLs
    /// as the module comment says.
    pub async fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<Key>> {
        // The sets a request must wait for are fetched side by side, so the wait is at most one
        // timeout however many sets there are; a set waited for here is not waited for again
        // below for an unknown `kid`.
        let mut waited = vec![false; self.remote.len()];
        let mut fetches = Vec::new();
        for (i, remote) in self.remote.iter().enumerate() {
            // Copied out, so no guard of the key set is held across a fetch.
            let times = {
                let state = remote.state.load();
                (state.fetched_at, state.attempted_at)
            };
            let floor_passed = |at: Instant| at.elapsed() >= remote.min_refresh_interval;
            match times {
                // First use: the keys are needed now.
                (_, None) => {
                    waited[i] = true;
                    fetches.push(remote.fetch_waiting(None));
                }
                // Never fetched successfully: try again now, at most once per floor.
                (None, Some(attempted)) if floor_passed(attempted) => {
                    waited[i] = true;
                    fetches.push(remote.fetch_waiting(Some(attempted)));
                }
                // Stale: fetched again in the background (at most once per floor, so a key
                // server that keeps failing is not asked on every request).
                (Some(fetched), Some(attempted))
                    if fetched.elapsed() >= remote.refresh_interval && floor_passed(attempted) =>
                {
                    let remote = remote.clone();
                    tokio::spawn(async move { remote.fetch_once_since(Some(attempted)).await });
                }
                _ => {}
            }
        }
        futures::future::join_all(fetches).await;
        let found = self.matching(kid, alg);
        if !found.is_empty() || kid.is_none() {
            return found;
        }
        // An unknown `kid`: perhaps a key rotated in since the last fetch.
        let fetches: Vec<_> = self
            .remote
            .iter()
            .zip(&waited)
            .filter(|(_, &waited)| !waited)
            .filter_map(|(remote, _)| {
                let attempted = remote.state.load().attempted_at;
                let allowed =
                    attempted.is_none_or(|at| at.elapsed() >= remote.min_refresh_interval);
                allowed.then(|| remote.fetch_waiting(attempted))
            })
            .collect();
        let fetched = !fetches.is_empty();
        futures::future::join_all(fetches).await;
        if fetched {
            self.matching(kid, alg)
        } else {
            found
        }
    }

    fn matching(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<Key>> {
        let mut out: Vec<Arc<Key>> = self
            .fixed
            .iter()
            .filter(|key| key.fits(kid, alg))
            .cloned()
            .collect();
        for remote in &self.remote {
            out.extend(
                remote
                    .state
                    .load()
                    .keys
                    .iter()
                    .filter(|key| key.fits(kid, alg))
                    .cloned(),
            );
        }
        out
    }
}

/// Fetches `jwks` now and then every `refresh_interval` (after a failure: every
/// `min_refresh_interval`) for as long as anything else holds it: the task keeps only a weak
/// reference between fetches, so it ends with the gateway whose key store owns the set.
fn spawn_refresh(jwks: &Arc<RemoteJwks>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(jwks);
    runtime.spawn(async move {
        loop {
            let Some(jwks) = weak.upgrade() else {
                return;
            };
            let attempted = jwks.state.load().attempted_at;
            // Skipped when a request's fetch started meanwhile; its outcome counts as ours.
            jwks.fetch_once_since(attempted).await;
            let succeeded = {
                let state = jwks.state.load();
                state.fetched_at == state.attempted_at
            };
            let wait = if succeeded {
                jwks.refresh_interval
            } else {
                jwks.min_refresh_interval
            };
            drop(jwks);
            tokio::time::sleep(wait).await;
        }
    });
}

fn read_jwks_file(path: &Path) -> Result<Vec<Arc<Key>>, KeyFileError> {
    let error = |message: String| KeyFileError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let keys = parse_jwks(&text).map_err(error)?;
    if keys.is_empty() {
        return Err(error(
            "it holds no key Seam can verify signatures with".into(),
        ));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_and_kinds_never_mix() {
        let text = r#"{"keys": [
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "alg": "HS256"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "weird", "kid": "w"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}"#;
        let keys = parse_jwks(text).expect("parses");
        assert_eq!(keys.len(), 2);
        let hmac = &keys[0];
        assert!(hmac.fits(Some("h"), Algorithm::HS256));
        assert!(!hmac.fits(Some("h"), Algorithm::HS512));
        assert!(!hmac.fits(Some("other"), Algorithm::HS256));
        let ed = &keys[1];
        assert!(ed.fits(Some("any"), Algorithm::EdDSA));
        assert!(!ed.fits(None, Algorithm::RS256));
        assert!(parse_jwks("{}").is_err());
    }
}
