//! Why a subgraph call failed, and what of it the client may see.
//!
//! Clients learn which subgraph failed and how (unreachable, timed out, an HTTP status, a broken
//! answer) — never the subgraph's URL, its error body or the HTTP library's internals, which
//! can describe the private network. Those go to the log where the failure is noticed.

use std::time::Duration;

use crate::config::ResolvedErrorPolicy;
use crate::response::GraphqlError;
use crate::telemetry::redact::loggable_url;

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// No connection could be made (refused, unreachable, the connect timeout): the request
    /// never reached the subgraph, so it is safe to try again whatever it was.
    #[error("HTTP fetch failed from '{subgraph}': could not connect")]
    Connect { subgraph: String },
    /// No HTTP answer came: the connection was reset or the request could not be sent.
    #[error("HTTP fetch failed from '{subgraph}': {reason}")]
    Transport {
        subgraph: String,
        reason: &'static str,
    },
    #[error("HTTP fetch failed from '{subgraph}': {}", timeout_reason(*timeout, *deadline))]
    Timeout {
        subgraph: String,
        timeout: Duration,
        /// Whether the client request's deadline, not the subgraph's own timeout, cut it.
        deadline: bool,
    },
    /// An HTTP error status: the call's failure when the body is no GraphQL answer, or, beside
    /// a GraphQL answer that came with it (`SubgraphResponse::http_error`), what the client is
    /// told in addition to that answer's data and errors.
    #[error("HTTP fetch failed from '{subgraph}': {status}")]
    Status {
        subgraph: String,
        status: http::StatusCode,
    },
    /// An answer that is not a GraphQL response (not JSON, too large, the wrong shape).
    #[error("subgraph '{subgraph}' returned an invalid response: {message}")]
    Malformed { subgraph: String, message: String },
    /// The subgraph's circuit breaker is open: it failed too often lately, so it is not asked.
    #[error(
        "subgraph '{subgraph}' is not called while it is failing: its circuit breaker is open"
    )]
    CircuitOpen { subgraph: String },
}

impl FetchError {
    /// A low-cardinality name of what went wrong, for a span's `error.type`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Connect { .. } => "connect",
            FetchError::Transport { .. } => "transport",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Status { .. } => "http_status",
            FetchError::Malformed { .. } => "malformed_response",
            FetchError::CircuitOpen { .. } => "circuit_open",
        }
    }

    pub fn into_graphql(self) -> GraphqlError {
        let code = match &self {
            FetchError::Malformed { .. } => "SUBREQUEST_MALFORMED_RESPONSE",
            FetchError::CircuitOpen { .. } => "SUBREQUEST_CIRCUIT_OPEN",
            _ => "SUBREQUEST_HTTP_ERROR",
        };
        let service = match &self {
            FetchError::Connect { subgraph }
            | FetchError::Transport { subgraph, .. }
            | FetchError::Timeout { subgraph, .. }
            | FetchError::Status { subgraph, .. }
            | FetchError::Malformed { subgraph, .. }
            | FetchError::CircuitOpen { subgraph } => subgraph.clone(),
        };
        let status = match &self {
            FetchError::Status { status, .. } => Some(status.as_u16()),
            _ => None,
        };
        let mut error =
            GraphqlError::new(self.to_string(), code).with_extension("service", service);
        if let Some(status) = status {
            error = error.with_extension("http", serde_json::json!({ "status": status }));
        }
        error
    }
}

impl FetchError {
    /// Whether another attempt might succeed where this one failed: the subgraph was not reached
    /// or said it is briefly unable (502, 503, 504), or did not answer in its own time. A timeout
    /// set by the client's deadline is not: no time is left for another attempt.
    pub(super) fn is_transient(&self) -> bool {
        match self {
            FetchError::Connect { .. } => true,
            FetchError::Timeout { deadline, .. } => !deadline,
            FetchError::Status { status, .. } => matches!(status.as_u16(), 502..=504),
            FetchError::Transport { .. }
            | FetchError::Malformed { .. }
            | FetchError::CircuitOpen { .. } => false,
        }
    }

    /// Whether this failure says the subgraph is unwell, for its circuit breaker: it could not be
    /// reached, did not answer in time, or answered 5xx or 429. An answer the gateway cannot use
    /// (malformed) still shows the subgraph is up.
    pub(super) fn shows_subgraph_unwell(&self) -> bool {
        match self {
            FetchError::Connect { .. }
            | FetchError::Transport { .. }
            | FetchError::Timeout { .. } => true,
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == http::StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::Malformed { .. } | FetchError::CircuitOpen { .. } => false,
        }
    }
}

/// Sorts a reqwest failure into a reason safe to show: reqwest's own message names the URL and
/// the socket error, so it is logged rather than passed on.
pub(super) fn transport_error(
    subgraph: &str,
    url: &str,
    timeout: Timeout,
    error: reqwest::Error,
) -> FetchError {
    // reqwest's message names the URL, with any password in it.
    let error = error.without_url();
    tracing::warn!(
        subgraph,
        url = %loggable_url(url),
        error = %error_chain(&error),
        "subgraph request failed"
    );
    if error.is_timeout() {
        return FetchError::Timeout {
            subgraph: subgraph.to_owned(),
            timeout: timeout.after,
            deadline: timeout.by_deadline,
        };
    }
    if error.is_connect() {
        return FetchError::Connect {
            subgraph: subgraph.to_owned(),
        };
    }
    let reason = if error.is_body() || error.is_decode() {
        "the connection failed while the answer was read"
    } else if error.is_request() {
        "the request could not be sent"
    } else {
        "the request failed"
    };
    FetchError::Transport {
        subgraph: subgraph.to_owned(),
        reason,
    }
}

/// How long a subgraph call may take, and why that long.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeout {
    pub after: Duration,
    /// The client request's remaining time, shorter than the subgraph's own timeout.
    pub by_deadline: bool,
}

fn timeout_reason(timeout: Duration, deadline: bool) -> String {
    if deadline {
        "no answer before the request's deadline".to_owned()
    } else {
        format!("the request timed out after {}ms", timeout.as_millis())
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// What a client sees of a GraphQL error a subgraph sent: its message (or a generic one when
/// the policy redacts), its path (rewritten to the client's later) and `extensions.code` — or
/// every extension when the policy keeps them. `locations` point into the subgraph's query, not
/// the client's, so they are always dropped.
pub(crate) fn apply_policy(mut error: GraphqlError, policy: ResolvedErrorPolicy) -> GraphqlError {
    error.locations = None;
    if policy.redact_message {
        error.message = "subgraph error (message redacted)".to_owned();
    }
    if !policy.keep_extensions {
        error.extensions = error.extensions.and_then(|mut extensions| {
            let code = extensions.remove("code")?;
            let mut kept = serde_json::Map::new();
            kept.insert("code".to_owned(), code);
            Some(Box::new(kept))
        });
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error() -> GraphqlError {
        serde_json::from_value(json!({
            "message": "db at 10.0.0.5 refused",
            "locations": [{ "line": 1, "column": 2 }],
            "path": ["me", "name"],
            "extensions": { "code": "DB_DOWN", "stacktrace": ["at x"], "host": "10.0.0.5" },
        }))
        .expect("error")
    }

    #[test]
    fn by_default_message_path_and_code_pass() {
        let out = apply_policy(error(), ResolvedErrorPolicy::default());
        assert_eq!(
            serde_json::to_value(out).expect("json"),
            json!({
                "message": "db at 10.0.0.5 refused",
                "path": ["me", "name"],
                "extensions": { "code": "DB_DOWN" },
            })
        );
    }

    #[test]
    fn redaction_and_kept_extensions_follow_the_policy() {
        let policy = ResolvedErrorPolicy {
            redact_message: true,
            keep_extensions: true,
        };
        let out = serde_json::to_value(apply_policy(error(), policy)).expect("json");
        assert_eq!(out["message"], "subgraph error (message redacted)");
        assert_eq!(out["extensions"]["stacktrace"], json!(["at x"]));
        assert!(out.get("locations").is_none());
    }

    #[test]
    fn an_error_without_code_keeps_no_extensions() {
        let mut e = error();
        e.extensions = Some(Box::new(serde_json::Map::from_iter([(
            "x".to_owned(),
            json!(1),
        )])));
        let out = apply_policy(e, ResolvedErrorPolicy::default());
        assert_eq!(out.extensions, None);
    }
}
