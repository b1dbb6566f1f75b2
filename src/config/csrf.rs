//! The `csrf:` section: refusing GraphQL requests that a browser would send cross-site without
//! asking first (a CORS preflight), so another site cannot make a user's browser run a mutation.

use axum::http::HeaderName;
use serde::Deserialize;

use super::ConfigProblem;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfConfig {
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Headers any one of which marks a request as preflighted. A browser sends a header that is
    /// not CORS-safelisted only after a preflight the CORS policy answered, so a page from an
    /// origin CORS does not allow cannot send them. The defaults are the ones Apollo clients set.
    #[serde(
        default = "default_required_headers",
        deserialize_with = "super::cors::header_names"
    )]
    pub required_headers: Vec<HeaderName>,
}

impl Default for CsrfConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            required_headers: default_required_headers(),
        }
    }
}

fn enabled() -> bool {
    true
}

fn default_required_headers() -> Vec<HeaderName> {
    vec![
        HeaderName::from_static("apollo-require-preflight"),
        HeaderName::from_static("x-apollo-operation-name"),
    ]
}

/// Request headers a page may send cross-site without a preflight (the Fetch standard's
/// CORS-safelisted request headers), so requiring one of them would prove nothing.
const SAFELISTED_REQUEST_HEADERS: [&str; 5] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
    "range",
];

impl CsrfConfig {
    pub fn problems(&self) -> Vec<ConfigProblem> {
        self.required_headers
            .iter()
            .enumerate()
            .filter(|(_, name)| SAFELISTED_REQUEST_HEADERS.contains(&name.as_str()))
            .map(|(index, name)| ConfigProblem {
                key: format!("csrf.required_headers[{index}]"),
                message: format!(
                    "`{name}` is a header browsers send cross-site without a preflight, so it \
                     proves nothing; use a custom header such as `apollo-require-preflight`"
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn parse(section: &str) -> Result<Config, crate::config::ConfigError> {
        Config::from_yaml_str(&format!("supergraph: s.graphql\n{section}"), Path::new("/"))
    }

    #[test]
    fn on_by_default_with_apollo_headers() {
        let csrf = parse("").unwrap().csrf;
        assert!(csrf.enabled);
        assert_eq!(
            csrf.required_headers,
            ["apollo-require-preflight", "x-apollo-operation-name"]
        );
        assert!(parse("").unwrap().graphiql.enabled);
    }

    #[test]
    fn switches_and_headers_parse() {
        let config =
            parse("csrf:\n  enabled: false\n  required_headers: [X-My-Client]\ngraphiql: false\n")
                .unwrap();
        assert!(!config.csrf.enabled);
        assert_eq!(config.csrf.required_headers, ["x-my-client"]);
        assert!(!config.graphiql.enabled);
    }

    #[test]
    fn safelisted_headers_prove_nothing_and_are_refused() {
        let message = parse("csrf:\n  required_headers: [x-ok, Content-Type]\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("csrf.required_headers[1]: `content-type` is a header browsers send"),
            "{message}"
        );
        let message = parse("graphiql: yes please\n").unwrap_err().to_string();
        assert!(message.contains("graphiql"), "{message}");
    }
}
