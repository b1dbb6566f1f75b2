//! The `auth:` section: how a request proves who it is (a JWT), and how `@authenticated`,
//! `@requiresScopes` and `@policy` in the supergraph are enforced. Off unless `auth.jwt` is set;
//! without it every request is anonymous and the directives still hold (anonymous requests get
//! none of the protected fields).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{check_url, ConfigProblem};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Where tokens come from and which keys sign them; `None` makes every request anonymous.
    pub jwt: Option<JwtConfig>,
    /// Every request must carry a valid token; one without gets 401 `UNAUTHENTICATED`.
    pub require_authentication: bool,
    /// A request that asks for anything it may not see is refused whole (403,
    /// `UNAUTHORIZED_FIELD_OR_TYPE` at each path) instead of being answered without it.
    pub reject_unauthorized: bool,
    /// The claim that holds the token's scopes for `@requiresScopes`: a space-separated string
    /// (OAuth 2.0) or a list of strings.
    pub scope_claim: String,
    /// `@policy` decisions: a policy is granted to a token whose claims match its entry here.
    /// A policy with no entry is never granted.
    pub policies: BTreeMap<String, PolicyRule>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt: None,
            require_authentication: false,
            reject_unauthorized: false,
            scope_claim: "scope".into(),
            policies: BTreeMap::new(),
        }
    }
}

/// `auth.jwt`: the token's place in a request and the keys it may be signed with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// The header that carries the token; over WebSocket, the `connection_init` payload entry
    /// of the same name (matched without regard to case), also when nested under `headers`.
    pub header: String,
    /// What precedes the token in the header (`Bearer`, followed by a space); empty for a header
    /// that holds the bare token.
    pub prefix: String,
    /// A cookie that carries the token, read when the header is absent.
    pub cookie: Option<String>,
    /// Key sets: JWKS URLs (fetched, cached and refreshed) and JWKS files.
    pub jwks: Vec<JwksSource>,
    /// Shared secrets for the HS algorithms.
    pub secrets: Vec<SecretKey>,
    /// Accepted `iss` values; empty accepts any issuer.
    pub issuers: Vec<String>,
    /// Accepted `aud` values (a token's `aud` must hold one); empty accepts any audience.
    pub audiences: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    #[serde(deserialize_with = "super::values::duration")]
    pub leeway: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            header: "authorization".into(),
            prefix: "Bearer".into(),
            cookie: None,
            jwks: Vec::new(),
            secrets: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
        }
    }
}

/// One JWKS: exactly one of `url` and `file`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksSource {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// How often a JWKS URL is fetched again, so rotated keys are picked up.
    #[serde(
        default = "default_refresh_interval",
        deserialize_with = "super::values::duration"
    )]
    pub refresh_interval: Duration,
    /// The least time between two fetches of a JWKS URL that a token with an unknown `kid`
    /// triggers, so tokens with made-up `kid`s cannot make Seam hammer the key server.
    #[serde(
        default = "default_min_refresh_interval",
        deserialize_with = "super::values::duration"
    )]
    pub min_refresh_interval: Duration,
    /// How long one fetch of a JWKS URL may take, and the most a request waits for a fetch it
    /// needs (first use, an unknown `kid`): a key server that hangs must not hold requests.
    #[serde(
        default = "default_jwks_timeout",
        deserialize_with = "super::values::duration"
    )]
    pub timeout: Duration,
}

fn default_jwks_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_refresh_interval() -> Duration {
    Duration::from_secs(300)
}

fn default_min_refresh_interval() -> Duration {
    Duration::from_secs(10)
}

/// A shared secret for HS256, HS384 or HS512.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKey {
    /// The secret's bytes as text (`${VAR}` keeps it out of the file).
    pub secret: String,
    #[serde(default = "default_hs_algorithm")]
    pub algorithm: String,
    /// When set, only tokens with this `kid` use the secret.
    #[serde(default)]
    pub kid: Option<String>,
}

fn default_hs_algorithm() -> String {
    "HS256".into()
}

/// How one policy is granted: every listed claim must match. A claim matches one of its values
/// when it equals it (numbers and booleans by their JSON text), holds it (a list), or has it as
/// one of its space-separated words (a string). A dotted name reaches into objects
/// (`realm_access.roles`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    #[serde(default)]
    pub claims: BTreeMap<String, OneOrMany>,
}

/// A YAML scalar or a list of them: the values any one of which a claim may have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(ClaimValue),
    Many(Vec<ClaimValue>),
}

impl OneOrMany {
    pub fn values(&self) -> &[ClaimValue] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

/// A claim value to match, as text: YAML strings, numbers and booleans all fit (`tier: 3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimValue(pub String);

impl<'de> Deserialize<'de> for ClaimValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl serde::de::Visitor<'_> for Scalar {
            type Value = ClaimValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ClaimValue, E> {
                Ok(ClaimValue(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ClaimValue, E> {
                Ok(ClaimValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ClaimValue, E> {
                Ok(ClaimValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ClaimValue, E> {
                Ok(ClaimValue(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ClaimValue, E> {
                Ok(ClaimValue(v.to_string()))
            }
        }
        deserializer.deserialize_any(Scalar)
    }
}

impl AuthConfig {
    pub(super) fn problems(&self, out: &mut Vec<ConfigProblem>) {
        let mut problem = |key: String, message: String| out.push(ConfigProblem { key, message });
        if self.require_authentication && self.jwt.is_none() {
            problem(
                "auth.require_authentication".into(),
                "needs `auth.jwt`: without keys no token can be valid".into(),
            );
        }
        if self.scope_claim.trim().is_empty() {
            problem(
                "auth.scope_claim".into(),
                "name the claim that holds the scopes (the default is `scope`)".into(),
            );
        }
        for (name, rule) in &self.policies {
            if rule.claims.is_empty() {
                problem(
                    format!("auth.policies.{name}.claims"),
                    "list at least one claim; a policy granted to every token is \
                     `@authenticated`"
                        .into(),
                );
            }
        }
        let Some(jwt) = &self.jwt else {
            return;
        };
        if http::HeaderName::from_bytes(jwt.header.as_bytes()).is_err() {
            problem(
                "auth.jwt.header".into(),
                format!("`{}` is not a valid header name", jwt.header),
            );
        }
        if jwt
            .cookie
            .as_deref()
            .is_some_and(|c| c.is_empty() || c.contains([';', '=', ' ']))
        {
            problem(
                "auth.jwt.cookie".into(),
                "not a cookie name (empty, or holding `;`, `=` or a space)".into(),
            );
        }
        if jwt.jwks.is_empty() && jwt.secrets.is_empty() {
            problem(
                "auth.jwt".into(),
                "give at least one key: a `jwks` entry (url or file) or a `secrets` entry".into(),
            );
        }
        for (index, source) in jwt.jwks.iter().enumerate() {
            let at = format!("auth.jwt.jwks[{index}]");
            match (&source.url, &source.file) {
                (Some(url), None) => {
                    if let Err(message) = check_url(url, &["http", "https"]) {
                        problem(format!("{at}.url"), message);
                    }
                }
                (None, Some(_)) => {}
                _ => problem(at.clone(), "give exactly one of `url` and `file`".into()),
            }
            if source.refresh_interval < Duration::from_secs(1) {
                problem(
                    format!("{at}.refresh_interval"),
                    "must be at least 1s".into(),
                );
            }
        }
        for (index, secret) in jwt.secrets.iter().enumerate() {
            let at = format!("auth.jwt.secrets[{index}]");
            if !matches!(secret.algorithm.as_str(), "HS256" | "HS384" | "HS512") {
                problem(
                    format!("{at}.algorithm"),
                    format!(
                        "`{}` is not a shared-secret algorithm; use HS256, HS384 or HS512",
                        secret.algorithm
                    ),
                );
            }
            if secret.secret.len() < 16 {
                problem(
                    format!("{at}.secret"),
                    "is shorter than 16 bytes, which anyone can guess".into(),
                );
            }
        }
    }

    pub(super) fn resolve_paths(&mut self, resolve: impl Fn(&mut PathBuf)) {
        if let Some(jwt) = &mut self.jwt {
            for source in &mut jwt.jwks {
                if let Some(file) = &mut source.file {
                    resolve(file);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems_of(yaml: &str) -> Vec<String> {
        let text = format!("subgraphs:\n  - name: a\n    url: http://a/\n{yaml}");
        match Config::from_yaml_str(&text, std::path::Path::new(".")) {
            Ok(_) => Vec::new(),
            Err(error) => vec![error.to_string()],
        }
    }

    #[test]
    fn defaults_read_a_bearer_token_from_authorization() {
        let text = "subgraphs:\n  - name: a\n    url: http://a/\nauth:\n  jwt:\n    jwks:\n      - file: keys.json\n";
        let config = Config::from_yaml_str(text, std::path::Path::new("/etc/seam")).expect("ok");
        let jwt = config.auth.jwt.expect("jwt");
        assert_eq!(jwt.header, "authorization");
        assert_eq!(jwt.prefix, "Bearer");
        assert_eq!(jwt.jwks[0].refresh_interval.as_secs(), 300);
        assert_eq!(jwt.jwks[0].min_refresh_interval.as_secs(), 10);
        assert_eq!(jwt.jwks[0].timeout.as_secs(), 5);
        assert_eq!(
            jwt.jwks[0].file.as_deref(),
            Some(std::path::Path::new("/etc/seam/keys.json"))
        );
        assert_eq!(config.auth.scope_claim, "scope");
        assert!(!config.auth.require_authentication);
    }

    #[test]
    fn bad_auth_settings_are_named_by_key() {
        let all =
            problems_of("auth:\n  require_authentication: true\n  policies:\n    admin: {}\n")
                .join("\n");
        assert!(all.contains("auth.require_authentication"), "{all}");
        assert!(all.contains("auth.policies.admin.claims"), "{all}");
        let all = problems_of(
            "auth:\n  jwt:\n    header: 'bad header'\n    cookie: 'a=b'\n    jwks:\n      - url: ftp://x/\n      - {}\n    secrets:\n      - secret: short\n        algorithm: RS256\n",
        )
        .join("\n");
        for key in [
            "auth.jwt.header",
            "auth.jwt.cookie",
            "auth.jwt.jwks[0].url",
            "auth.jwt.jwks[1]",
            "auth.jwt.secrets[0].algorithm",
            "auth.jwt.secrets[0].secret",
        ] {
            assert!(all.contains(key), "{key} in {all}");
        }
        assert!(problems_of("auth:\n  jwt: {}\n")[0].contains("at least one key"));
    }
}
