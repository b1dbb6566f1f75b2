//! The `cors:` section: which other origins' pages may call Seam from a browser.
//!
//! Nothing is allowed unless listed, because a gateway that answers any origin lets every site
//! a user visits read that user's data. Values are parsed into HTTP types here, so the HTTP edge
//! never meets a method or header name it cannot use.

use std::fmt;
use std::time::Duration;

use axum::http::{HeaderName, Method};
use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::ConfigProblem;

/// `allow_origins` entry that allows every origin.
pub const ANY_ORIGIN: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Exact origins (`https://app.example.com`), compared with the browser's `Origin` header
    /// as written; `"*"` allows any origin (and cannot go with `allow_credentials`).
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Regular expressions matched against the whole `Origin` (they are anchored at both ends),
    /// for families of origins such as preview deployments.
    #[serde(default)]
    pub allow_origin_regexes: Vec<OriginRegex>,
    /// Whether allowed origins may send cookies and HTTP authentication.
    #[serde(default)]
    pub allow_credentials: bool,
    #[serde(default = "default_methods", deserialize_with = "methods")]
    pub allow_methods: Vec<Method>,
    /// Request headers an allowed page may send; empty allows whatever the preflight asks for,
    /// since the origin check has already decided whether the page may call at all.
    #[serde(default, deserialize_with = "header_names")]
    pub allow_headers: Vec<HeaderName>,
    /// Response headers an allowed page may read beyond the CORS-safelisted ones.
    #[serde(default, deserialize_with = "header_names")]
    pub expose_headers: Vec<HeaderName>,
    /// How long a browser may cache a preflight's answer; unset sends no `Access-Control-Max-Age`
    /// (browsers then cache for a few seconds).
    #[serde(default, deserialize_with = "super::optional_duration")]
    pub max_age: Option<Duration>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            allow_origins: Vec::new(),
            allow_origin_regexes: Vec::new(),
            allow_credentials: false,
            allow_methods: default_methods(),
            allow_headers: Vec::new(),
            expose_headers: Vec::new(),
            max_age: None,
        }
    }
}

fn default_methods() -> Vec<Method> {
    vec![Method::GET, Method::POST, Method::OPTIONS]
}

impl CorsConfig {
    /// Whether `allow_origins` lets every origin in.
    pub fn allows_any_origin(&self) -> bool {
        self.allow_origins.iter().any(|origin| origin == ANY_ORIGIN)
    }

    /// The rules serde cannot check: origins written the way browsers send them, and no
    /// wildcard beside `allow_credentials` (browsers ignore such answers, and tower-http's CORS
    /// layer refuses them).
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        for (index, origin) in self.allow_origins.iter().enumerate() {
            let key = format!("cors.allow_origins[{index}]");
            if origin == ANY_ORIGIN {
                if self.allow_credentials {
                    problems.push(ConfigProblem {
                        key,
                        message: "`*` cannot be combined with `allow_credentials: true`; list \
                                  the origins that may send credentials"
                            .into(),
                    });
                }
                continue;
            }
            if let Err(message) = check_origin(origin) {
                problems.push(ConfigProblem { key, message });
            }
        }
        if self.allow_credentials {
            let wildcards = [
                (
                    "allow_methods",
                    self.allow_methods.iter().any(|m| m.as_str() == "*"),
                ),
                (
                    "allow_headers",
                    self.allow_headers.iter().any(|h| h.as_str() == "*"),
                ),
                (
                    "expose_headers",
                    self.expose_headers.iter().any(|h| h.as_str() == "*"),
                ),
            ];
            for (key, has_wildcard) in wildcards {
                if has_wildcard {
                    problems.push(ConfigProblem {
                        key: format!("cors.{key}"),
                        message: "`*` cannot be combined with `allow_credentials: true`; list \
                                  the names"
                            .into(),
                    });
                }
            }
        }
        problems
    }
}

/// An origin must be written exactly as browsers send it in `Origin`, since the comparison is
/// exact: scheme, host and a non-default port, no path and no trailing slash.
fn check_origin(origin: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(origin).map_err(|error| {
        format!("`{origin}` is not an origin ({error}); write e.g. `https://app.example.com`")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "`{origin}` is not an http or https origin; write e.g. `https://app.example.com`"
        ));
    }
    let canonical = parsed.origin().ascii_serialization();
    if canonical != origin {
        return Err(format!(
            "`{origin}` is not written as browsers send it; write `{canonical}`"
        ));
    }
    Ok(())
}

/// A compiled `allow_origin_regexes` entry. Compared by its pattern, so configs stay comparable.
#[derive(Clone)]
pub struct OriginRegex(regex::Regex);

impl OriginRegex {
    /// Compiles `pattern` anchored at both ends: an unanchored `https://.*\.example\.com` would
    /// also let `https://x.example.com.attacker.net` in.
    pub fn new(pattern: &str) -> Result<Self, regex::Error> {
        // Compiled alone first, so a mistake is reported in the user's own pattern.
        regex::Regex::new(pattern)?;
        regex::Regex::new(&format!("^(?:{pattern})$")).map(OriginRegex)
    }

    pub fn is_match(&self, origin: &str) -> bool {
        self.0.is_match(origin)
    }
}

impl fmt::Debug for OriginRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OriginRegex({})", self.0.as_str())
    }
}

impl PartialEq for OriginRegex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for OriginRegex {}

impl<'de> Deserialize<'de> for OriginRegex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(deserializer)?;
        OriginRegex::new(&pattern).map_err(|error| {
            de::Error::custom(format!(
                "`{pattern}` is not a valid regular expression: {error}"
            ))
        })
    }
}

fn methods<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Method>, D::Error> {
    Ok(Vec::<MethodItem>::deserialize(deserializer)?
        .into_iter()
        .map(|item| item.0)
        .collect())
}

pub(super) fn header_names<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<HeaderName>, D::Error> {
    Ok(Vec::<HeaderItem>::deserialize(deserializer)?
        .into_iter()
        .map(|item| item.0)
        .collect())
}

/// One list entry, checked as it is read so that an error names its key.
struct MethodItem(Method);

impl<'de> Deserialize<'de> for MethodItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        // Method names are case-sensitive on the wire and browsers upper-case the standard
        // ones, so `post` would never match a preflight's `POST`.
        let upper = name.trim().to_ascii_uppercase();
        Method::from_bytes(upper.as_bytes())
            .map(MethodItem)
            .map_err(|_| de::Error::custom(format!("`{name}` is not an HTTP method")))
    }
}

struct HeaderItem(HeaderName);

impl<'de> Deserialize<'de> for HeaderItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        HeaderName::from_bytes(name.trim().as_bytes())
            .map(HeaderItem)
            .map_err(|_| de::Error::custom(format!("`{name}` is not an HTTP header name")))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, ConfigError};

    fn parse(section: &str) -> Result<Config, ConfigError> {
        Config::from_yaml_str(&format!("supergraph: s.graphql\n{section}"), Path::new("/"))
    }

    fn error_of(section: &str) -> String {
        match parse(section) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn defaults_allow_no_origin() {
        let config = parse("").unwrap();
        assert_eq!(config.cors, CorsConfig::default());
        assert!(config.cors.allow_origins.is_empty());
        assert!(config.cors.allow_origin_regexes.is_empty());
        assert!(!config.cors.allow_credentials);
        assert_eq!(
            config.cors.allow_methods,
            [Method::GET, Method::POST, Method::OPTIONS]
        );
        assert_eq!(config.cors.max_age, None);
    }

    #[test]
    fn parses_every_key() {
        let config = parse(
            "cors:\n  allow_origins: [https://app.example.com, 'http://localhost:3000']\n  \
             allow_origin_regexes: ['https://pr-\\d+\\.example\\.com']\n  allow_credentials: true\n  \
             allow_methods: [post, GET]\n  allow_headers: [Content-Type, authorization]\n  \
             expose_headers: [x-request-id]\n  max_age: 10m\n",
        )
        .unwrap();
        let cors = config.cors;
        assert_eq!(
            cors.allow_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert!(cors.allow_origin_regexes[0].is_match("https://pr-7.example.com"));
        assert!(!cors.allow_origin_regexes[0].is_match("https://pr-7.example.com.evil.net"));
        assert!(cors.allow_credentials);
        assert_eq!(cors.allow_methods, [Method::POST, Method::GET]);
        assert_eq!(cors.allow_headers, ["content-type", "authorization"]);
        assert_eq!(cors.expose_headers, ["x-request-id"]);
        assert_eq!(cors.max_age, Some(Duration::from_secs(600)));
    }

    #[test]
    fn bad_values_name_their_key() {
        let message = error_of("cors:\n  allow_origin_regexes: ['https://(']\n");
        assert!(
            message.contains("cors.allow_origin_regexes: `https://(` is not a valid"),
            "{message}"
        );
        assert!(
            message.contains("not a valid regular expression"),
            "{message}"
        );

        let message = error_of("cors:\n  allow_methods: ['GE T']\n");
        assert!(
            message.contains("cors.allow_methods: `GE T` is not an HTTP method"),
            "{message}"
        );
        let message = error_of("cors:\n  expose_headers: ['x y']\n");
        assert!(
            message.contains("cors.expose_headers: `x y` is not an HTTP header name"),
            "{message}"
        );
        let message = error_of("cors:\n  allow_origin: [https://a.example]\n");
        assert!(
            message.contains("unknown field `allow_origin`"),
            "{message}"
        );
    }

    #[test]
    fn origins_must_be_written_as_browsers_send_them() {
        let message = error_of("cors:\n  allow_origins: [https://a.example/]\n");
        assert!(
            message.contains("cors.allow_origins[0]: `https://a.example/` is not written as browsers send it; write `https://a.example`"),
            "{message}"
        );
        let message = error_of("cors:\n  allow_origins: [ok, 'https://A.example:443']\n");
        assert!(
            message.contains("cors.allow_origins[0]: `ok` is not an origin"),
            "{message}"
        );
        assert!(message.contains("write `https://a.example`"), "{message}");
    }

    #[test]
    fn wildcards_cannot_go_with_credentials() {
        let message = error_of(
            "cors:\n  allow_origins: ['*']\n  allow_credentials: true\n  expose_headers: ['*']\n",
        );
        assert!(
            message.contains("cors.allow_origins[0]: `*` cannot be combined"),
            "{message}"
        );
        assert!(
            message.contains("cors.expose_headers: `*` cannot be combined"),
            "{message}"
        );
        assert!(parse("cors:\n  allow_origins: ['*']\n")
            .unwrap()
            .cors
            .allows_any_origin());
    }
}
