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
