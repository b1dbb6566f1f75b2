//! Authentication and authorization.
//!
//! - [`Authenticator`]: a request's token (header, cookie, or a WebSocket's `connection_init`
//!   entry of the header's name) ▶ its verified claims, an [`Identity`], or a 401 error;
//! - [`keys`]: the JWKS files, URLs and secrets tokens are verified with;
//! - [`rights`]: an identity ▶ what it may see of one supergraph (`@authenticated`,
//!   `@requiresScopes`, `@policy`), the key the filtered plans are cached under;
//! - [`filter`]: an operation ▶ the operation without what the rights do not cover, and where
//!   the removed fields were, so they answer null with `UNAUTHORIZED_FIELD_OR_TYPE`.

pub mod filter;
mod identity;
pub mod keys;
pub mod rights;

use std::collections::HashSet;

use http::{HeaderMap, HeaderName};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

pub use identity::{claim_text, Identity};
pub use keys::KeyFileError;
pub use rights::Rights;

use crate::config::{AuthConfig, JwtConfig};
use crate::response::GraphqlError;

/// Why a request's token was refused. The messages never hold the token or its claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this gateway requires authentication: send a token")]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the `{0}` header does not hold a token in the expected form")]
    BadHeader(String),
    /// Which one: "the `authorization` header".
    #[error("{0} is sent more than once: send one token")]
    RepeatedHeader(String),
    #[error("no key known to the gateway signed the token")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(String),
    #[error("the token's `{0}` claim is not of its registered type")]
    BadClaim(&'static str),
    #[error(
        "the token names critical header extensions (`crit`), which the gateway does not implement"
    )]
    CriticalExtension,
    #[error("the token's algorithm is not accepted for its key")]
    WrongAlgorithm,
    #[error("the token is not valid")]
    Invalid,
}

impl AuthError {
    /// The 401 body's error.
    pub fn to_graphql(&self) -> GraphqlError {
        GraphqlError::new(self.to_string(), "UNAUTHENTICATED")
    }

    fn from_jwt(error: &jsonwebtoken::errors::Error) -> AuthError {
        match error.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                AuthError::WrongAlgorithm
            }
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => AuthError::Malformed,
            _ => AuthError::Invalid,
        }
    }
}

/// Turns a request's headers into its identity, from `auth:` in the config. The default reads
/// no tokens: every request is anonymous.
#[derive(Default)]
pub struct Authenticator {
    config: AuthConfig,
    jwt: Option<Jwt>,
}

struct Jwt {
    header: HeaderName,
    /// `Bearer ` (with its space), or empty for a bare token.
    prefix: String,
    cookie: Option<String>,
    keys: keys::KeyStore,
    /// The checks for each algorithm, built once: they hold the issuer and audience sets,
    /// which would otherwise be copied for every request.
    validations: Vec<(Algorithm, Validation)>,
}

impl Authenticator {
    /// Reads the JWKS files now (an unreadable one is a startup error); URLs are fetched with
    /// `client` by a background task from now on (see `keys`).
    pub fn new(config: &AuthConfig, client: reqwest::Client) -> Result<Self, KeyFileError> {
        let jwt = match &config.jwt {
            None => None,
            Some(jwt) => Some(Jwt::new(jwt, client)?),
        };
        Ok(Authenticator {
            config: config.clone(),
            jwt,
        })
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Whether tokens are read at all; without `auth.jwt` every request is anonymous.
    pub fn is_enabled(&self) -> bool {
        self.jwt.is_some()
    }

    /// The identity the request's token proves: `Ok(None)` for a request without a token (when
    /// that is allowed), an error for a token that is not valid — never an anonymous request
    /// instead, as a client that sent a token expects it to count.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let Some(jwt) = &self.jwt else {
            return Ok(None);
        };
        let token = match jwt.token(headers)? {
            Some(token) => token,
            None if self.config.require_authentication => return Err(AuthError::Missing),
            None => return Ok(None),
        };
        let claims = jwt.verify(token).await?;
        Ok(Some(Identity::new(claims, &self.config)))
    }
}

impl Jwt {
    fn new(config: &JwtConfig, client: reqwest::Client) -> Result<Self, KeyFileError> {
        Ok(Jwt {
            // Config validation has checked the name; the fallback is for settings built in code.
            header: HeaderName::from_bytes(config.header.as_bytes())
                .unwrap_or(http::header::AUTHORIZATION),
            prefix: if config.prefix.is_empty() {
                String::new()
            } else {
                format!("{} ", config.prefix.trim())
            },
            cookie: config.cookie.clone(),
            keys: keys::KeyStore::new(&config.jwks, &config.secrets, client)?,
            validations: ALGORITHMS
                .iter()
                .map(|&alg| (alg, validation(config, alg)))
                .collect(),
        })
    }

    /// The token the request carries: from the header, else from the cookie.
    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<Option<&'h str>, AuthError> {
        if let Some(value) = headers.get(&self.header) {
            // Only one is verified, and header rules may forward them all: a second token could
            // reach a subgraph (or a proxy reading the last one) unverified.
            if headers.get_all(&self.header).iter().nth(1).is_some() {
                return Err(AuthError::RepeatedHeader(format!(
                    "the `{}` header",
                    self.header
                )));
            }
            let bad = || AuthError::BadHeader(self.header.to_string());
            let text = value.to_str().map_err(|_| bad())?.trim();
            let token = match text.get(..self.prefix.len()) {
                _ if self.prefix.is_empty() => text,
                Some(start) if start.eq_ignore_ascii_case(&self.prefix) => {
                    text[self.prefix.len()..].trim()
                }
                _ => return Err(bad()),
            };
            if token.is_empty() {
                return Err(bad());
            }
            return Ok(Some(token));
        }
        let Some(cookie) = &self.cookie else {
            return Ok(None);
        };
        // The first of several cookies of this name is the one read: browsers send one per path
        // it was set for, most specific first, so a repeated name is not a client's mistake as
        // a repeated header is.
        Ok(headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| name == cookie)
            .map(|(_, value)| value.trim_matches('"'))
            .filter(|value| !value.is_empty()))
    }

    async fn verify(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if names_critical_extensions(token) {
            return Err(AuthError::CriticalExtension);
        }
        let candidates = self
            .keys
            .candidates(header.kid.as_deref(), header.alg)
            .await;
        if candidates.is_empty() {
            return Err(AuthError::UnknownKey);
        }
        let Some((_, validation)) = self.validations.iter().find(|(alg, _)| *alg == header.alg)
        else {
            return Err(AuthError::WrongAlgorithm);
        };
        let mut last = AuthError::UnknownKey;
        for key in candidates {
            match jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                token,
                &key.decoding,
                validation,
            ) {
                Ok(data) => {
                    check_claim_types(&data.claims, validation.leeway)?;
                    return Ok(data.claims);
                }
                // Another key of the same `kid` (or a token without one) may still fit.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {
                    last = AuthError::BadSignature;
                }
                // The signature held and a claim failed: no other key changes that.
                Err(error) => return Err(AuthError::from_jwt(&error)),
            }
        }
        Err(last)
    }
}

/// Whether the token's header has `crit`: it names extensions a verifier must understand or
/// refuse the token (RFC 7515 §4.1.11), and Seam implements none. The JWT library does not read
/// the member at all.
fn names_critical_extensions(token: &str) -> bool {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("crit").is_some())
}

/// The registered claims the JWT library reads only when they have its type, and otherwise
/// skips: a `nbf` of `"9999999999"` or `1e300` would not stop a token, an `iss` list would
/// pass as any of its members. Times may have a fraction (RFC 7519's NumericDate); a `nbf`
/// with one is checked here, since the library reads only whole seconds.
fn check_claim_types(
    claims: &serde_json::Map<String, serde_json::Value>,
    leeway: u64,
) -> Result<(), AuthError> {
    for claim in ["exp", "nbf", "iat"] {
        if let Some(value) = claims.get(claim) {
            let seconds = value.as_f64().filter(|s| s.is_finite() && *s >= 0.0);
            let Some(seconds) = seconds else {
                return Err(AuthError::BadClaim(claim));
            };
            let whole = value.is_u64() || value.is_i64();
            if claim == "nbf" && !whole {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                if seconds > now + leeway as f64 {
                    return Err(AuthError::NotYetValid);
                }
            }
        }
    }
    if claims.get("iss").is_some_and(|iss| !iss.is_string()) {
        return Err(AuthError::BadClaim("iss"));
    }
    Ok(())
}

/// Every algorithm Seam verifies.
const ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The checks a token signed with `alg` passes: `exp` always, `nbf` when present, and the
/// issuer and audience when the config names them (then the token must carry them).
fn validation(config: &JwtConfig, alg: Algorithm) -> Validation {
    let set = |values: &[String]| {
        (!values.is_empty()).then(|| values.iter().cloned().collect::<HashSet<_>>())
    };
    let mut validation = Validation::new(alg);
    validation.leeway = config.leeway.as_secs();
    validation.validate_nbf = true;
    validation.aud = set(&config.audiences);
    validation.validate_aud = validation.aud.is_some();
    validation.iss = set(&config.issuers);
    if validation.iss.is_some() {
        validation.required_spec_claims.insert("iss".into());
    }
    if validation.aud.is_some() {
        validation.required_spec_claims.insert("aud".into());
    }
    validation
}
