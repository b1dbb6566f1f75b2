//! The `limits:` section: what one client may cost the gateway, at the socket (connections,
//! timeouts, body and message sizes) and in the operation (depth, aliases, fields...).
//!
//! Every key is optional and defaults to a value meant for production; a count limit that is
//! not a safety net for the process itself may be switched off with `unlimited`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// How long a shutdown waits for requests and streams to finish. Below Kubernetes' default
/// `terminationGracePeriodSeconds` (30 s), so Seam exits by itself before it would be killed.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(25);

/// A count that may be capped or, where the key allows it, `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Max(u64),
    Unlimited,
}

impl Limit {
    /// The cap as a `usize` (saturating), or `None` when unlimited.
    pub fn as_usize(self) -> Option<usize> {
        match self {
            Limit::Max(max) => Some(usize::try_from(max).unwrap_or(usize::MAX)),
            Limit::Unlimited => None,
        }
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LimitVisitor)
    }
}

struct LimitVisitor;

impl Visitor<'_> for LimitVisitor {
    type Value = Limit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number or `unlimited`")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Limit, E> {
        Ok(Limit::Max(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Limit, E> {
        u64::try_from(value)
            .map(Limit::Max)
            .map_err(|_| E::custom(format!("`{value}` is negative; write a whole number")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Limit, E> {
        match value.trim() {
            "unlimited" => Ok(Limit::Unlimited),
            other => other.parse().map(Limit::Max).map_err(|_| {
                E::custom(format!(
                    "`{value}` is not a limit; write a whole number or `unlimited`"
                ))
            }),
        }
    }
}

/// The `limits:` section. Defaults are chosen for a public production gateway; see each field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Request bodies above this many bytes are refused with 413 (`/graphql` and
    /// `/bridge/publish`). 2 MiB holds any hand-written or generated operation with variables.
    pub max_body_bytes: u64,
    /// A WebSocket message above this many bytes closes the socket with 1009. Client messages
    /// are `subscribe` payloads, as large as a POST body at most.
    pub max_ws_message_bytes: u64,
    /// A query's or mutation's response is refused (`RESPONSE_TOO_LARGE`) once it would pass
    /// this many bytes: nested entity lists multiply, so a few kilobytes of query can ask for
    /// gigabytes. Counted while the subgraphs' answers are merged (an entity answer once per
    /// place it fills), so the gateway stops before it holds the tree, and again as the response
    /// is written (aliases repeat what they select).
    pub max_response_bytes: Limit,
    /// Responses waiting for one streaming client (a WebSocket connection, an SSE or multipart
    /// stream), across its subscriptions: a client that stopped reading would otherwise hold
    /// every event of its subscriptions up to their queue length, however large they are.
    /// Past it, the next response ends that subscription with `SUBSCRIPTION_CLIENT_TOO_SLOW`.
    pub max_stream_queue_bytes: u64,
    /// A query or mutation (not a stream) still unanswered after this gets a 504. Longer than
    /// a subgraph's own default timeout, so a subgraph's slowness is reported as its error first.
    #[serde(deserialize_with = "super::values::duration")]
    pub request_timeout: Duration,
    /// A connection must deliver a request's headers within this of its first byte (or of
    /// opening); slow-header clients would otherwise hold sockets forever.
    #[serde(deserialize_with = "super::values::duration")]
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this. Longer than the
    /// 60 s idle timeout of common load balancers, so they, not Seam, close shared connections.
    #[serde(deserialize_with = "super::values::duration")]
    pub idle_timeout: Duration,
    /// Open TCP connections served at once; further ones wait in the listen backlog until one
    /// closes, instead of Seam running out of file descriptors.
    pub max_connections: Limit,
    /// WebSocket connections, SSE and multipart streams open at once; more are refused with 503.
    pub max_streaming_clients: Limit,
    /// A single-connection SSE stream reserved with `PUT /graphql` and not opened within this
    /// is dropped with the operations already sent to it; the reservation held a streaming
    /// client's place meanwhile. Clients open the stream right after reserving it.
    #[serde(deserialize_with = "super::values::duration")]
    pub sse_reservation_timeout: Duration,
    /// Single-connection SSE streams one client (its principal, else its address) may hold
    /// reserved and not yet opened; each holds a streaming client's place, so without this one
    /// client could take them all. More get 429.
    pub max_unopened_streams_per_client: Limit,
    /// Field nesting, counted through fragments; it also bounds recursion in planning and
    /// shaping, so it cannot be switched off.
    pub max_depth: Limit,
    /// Aliased fields after fragment expansion; aliases multiply work on one field.
    pub max_aliases: Limit,
    /// Fields at the operation's root after fragment expansion; each may be a subgraph call.
    pub max_root_fields: Limit,
    /// Directive applications after fragment expansion.
    pub max_directives: Limit,
    /// Fields after fragment expansion: the size of the response the operation can ask for.
    pub max_fields: Limit,
    /// Tokens the parser reads before it gives up; bounds parse time and memory.
    pub max_tokens: Limit,
    /// Nesting the parser follows before it gives up; protects its stack.
    pub max_parser_recursion: Limit,
    /// Demand control: an estimated cost from `@cost`/`@listSize` (see `limits.cost`).
    pub cost: super::CostConfig,
    /// Threads that parse, validate and plan new documents at once (default: the number of
    /// cores). New documents wait for one, so expensive ones never hold up the async workers
    /// that serve `/health`, cached operations and subscriptions.
    pub planning_threads: Option<usize>,
    /// How long preparing a new document may take, the wait for a planning thread included.
    #[serde(deserialize_with = "super::values::duration")]
    pub planning_timeout: Duration,
    /// What the operation cache of a schema generation may hold, in (estimated) bytes.
    pub operation_cache_bytes: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_response_bytes: Limit::Max(64 * 1024 * 1024),
            max_ws_message_bytes: 2 * 1024 * 1024,
            max_stream_queue_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: Limit::Max(20_000),
            max_streaming_clients: Limit::Max(10_000),
            sse_reservation_timeout: Duration::from_secs(30),
            max_unopened_streams_per_client: Limit::Max(64),
            max_depth: Limit::Max(64),
            max_aliases: Limit::Max(1_000),
            max_root_fields: Limit::Max(250),
            max_directives: Limit::Max(500),
            max_fields: Limit::Max(20_000),
            max_tokens: Limit::Max(15_000),
            max_parser_recursion: Limit::Max(500),
            cost: super::CostConfig::default(),
            planning_threads: None,
            planning_timeout: Duration::from_secs(10),
            operation_cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `max_depth` above this would let planning and response shaping recurse deeper than the
/// response JSON may nest.
const DEPTH_CEILING: u64 = 512;
/// The parser recurses once per nesting level; far beyond its default of 500 the stack of a
/// runtime worker thread is at risk.
const PARSER_RECURSION_CEILING: u64 = 2_000;

impl LimitsConfig {
    /// The rules serde cannot express, each named by its key under `limits.`.
    pub(super) fn problems(&self, problem: &mut dyn FnMut(String, String)) {
        let mut at_least = |key: &str, value: u64, min: u64, unit: &str| {
            if value < min {
                problem(
                    format!("limits.{key}"),
                    format!("must be at least {min}{unit}; got {value}"),
                );
            }
        };
        at_least("max_body_bytes", self.max_body_bytes, 1024, " bytes");
        at_least(
            "max_ws_message_bytes",
            self.max_ws_message_bytes,
            1024,
            " bytes",
        );
        at_least(
            "max_stream_queue_bytes",
            self.max_stream_queue_bytes,
            1024,
            " bytes",
        );
        for (key, limit) in self.count_limits() {
            if let Limit::Max(value) = limit {
                at_least(key, value, 1, "");
            }
        }
        if let Limit::Max(bytes) = self.max_response_bytes {
            at_least("max_response_bytes", bytes, 1024, " bytes");
        }
        at_least(
            "operation_cache_bytes",
            self.operation_cache_bytes,
            1024 * 1024,
            " bytes",
        );
        if self.planning_threads == Some(0) {
            problem(
                "limits.planning_threads".into(),
                "must be at least 1; leave it out for one per core".into(),
            );
        }
        for p in self.cost.problems("limits.cost") {
            problem(p.key, p.message);
        }
        for (key, value) in [
            ("request_timeout", self.request_timeout),
            ("header_read_timeout", self.header_read_timeout),
            ("idle_timeout", self.idle_timeout),
            ("planning_timeout", self.planning_timeout),
            ("sse_reservation_timeout", self.sse_reservation_timeout),
        ] {
            if value.is_zero() {
                problem(format!("limits.{key}"), "must be longer than 0".into());
            }
        }
        for (key, limit, ceiling) in [
            ("max_depth", self.max_depth, Some(DEPTH_CEILING)),
            ("max_tokens", self.max_tokens, None),
            (
                "max_parser_recursion",
                self.max_parser_recursion,
                Some(PARSER_RECURSION_CEILING),
            ),
        ] {
            match (limit, ceiling) {
                (Limit::Unlimited, _) => problem(
                    format!("limits.{key}"),
                    "cannot be `unlimited`: it protects the gateway itself; give a number".into(),
                ),
                (Limit::Max(value), Some(ceiling)) if value > ceiling => problem(
                    format!("limits.{key}"),
                    format!("must be at most {ceiling}; got {value}"),
                ),
                _ => {}
            }
        }
    }

    fn count_limits(&self) -> [(&'static str, Limit); 11] {
        [
            ("max_response_bytes", self.max_response_bytes),
            ("max_connections", self.max_connections),
            ("max_streaming_clients", self.max_streaming_clients),
            (
                "max_unopened_streams_per_client",
                self.max_unopened_streams_per_client,
            ),
            ("max_depth", self.max_depth),
            ("max_aliases", self.max_aliases),
            ("max_root_fields", self.max_root_fields),
            ("max_directives", self.max_directives),
            ("max_fields", self.max_fields),
            ("max_tokens", self.max_tokens),
            ("max_parser_recursion", self.max_parser_recursion),
        ]
    }
}

/// The top-level `shutdown_grace_period`: zero would cut every request in flight.
pub(super) fn grace_period_problems(
    grace: Option<Duration>,
    problem: &mut dyn FnMut(String, String),
) {
    if grace == Some(Duration::ZERO) {
        problem(
            "shutdown_grace_period".into(),
            "must be longer than 0 (requests in flight need time to finish)".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(yaml: &str) -> Vec<String> {
        let limits: LimitsConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let mut found = Vec::new();
        limits.problems(&mut |key, message| found.push(format!("{key}: {message}")));
        found
    }

    #[test]
    fn every_key_has_a_default() {
        let limits: LimitsConfig = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(limits, LimitsConfig::default());
        assert!(problems_of("{}").is_empty());
    }

    #[test]
    fn responses_are_capped_at_64_mib_by_default_and_the_cap_has_a_floor() {
        let limits = LimitsConfig::default();
        assert_eq!(limits.max_response_bytes, Limit::Max(64 * 1024 * 1024));
        let limits: LimitsConfig =
            serde_yaml_ng::from_str("max_response_bytes: unlimited").unwrap();
        assert_eq!(limits.max_response_bytes, Limit::Unlimited);
        assert!(problems_of("max_response_bytes: unlimited").is_empty());
        assert!(problems_of("max_response_bytes: 1024").is_empty());
        let found = problems_of("max_response_bytes: 100");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("limits.max_response_bytes: must be at least 1024 bytes"),
            "{found:?}"
        );
    }

    #[test]
    fn a_streaming_client_may_have_16_mib_waiting_by_default_and_at_least_a_kilobyte() {
        assert_eq!(
            LimitsConfig::default().max_stream_queue_bytes,
            16 * 1024 * 1024
        );
        assert!(problems_of("max_stream_queue_bytes: 1024").is_empty());
        let found = problems_of("max_stream_queue_bytes: 10");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("limits.max_stream_queue_bytes: must be at least 1024 bytes"),
            "{found:?}"
        );
    }

    #[test]
    fn unopened_streams_are_capped_per_client_by_default() {
        let limits = LimitsConfig::default();
        assert_eq!(limits.max_unopened_streams_per_client, Limit::Max(64));
        let limits: LimitsConfig =
            serde_yaml_ng::from_str("max_unopened_streams_per_client: unlimited").unwrap();
        assert_eq!(limits.max_unopened_streams_per_client, Limit::Unlimited);
        let limits: LimitsConfig =
            serde_yaml_ng::from_str("max_unopened_streams_per_client: 2").unwrap();
        assert_eq!(limits.max_unopened_streams_per_client, Limit::Max(2));
    }

    #[test]
    fn counts_take_numbers_or_unlimited() {
        let limits: LimitsConfig =
            serde_yaml_ng::from_str("max_aliases: unlimited\nmax_fields: 12\nidle_timeout: 5s")
                .unwrap();
        assert_eq!(limits.max_aliases, Limit::Unlimited);
        assert_eq!(limits.max_fields, Limit::Max(12));
        assert_eq!(limits.idle_timeout, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_are_named_by_their_key() {
        let found = problems_of(
            "max_depth: unlimited\nmax_aliases: 0\nrequest_timeout: 0s\nmax_body_bytes: 10\n\
             max_parser_recursion: 100000",
        );
        for key in [
            "limits.max_depth: cannot be `unlimited`",
            "limits.max_aliases: must be at least 1",
            "limits.request_timeout: must be longer than 0",
            "limits.max_body_bytes: must be at least 1024 bytes",
            "limits.max_parser_recursion: must be at most 2000",
        ] {
            assert!(
                found.iter().any(|p| p.starts_with(key)),
                "{key} in {found:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_types_are_refused() {
        assert!(serde_yaml_ng::from_str::<LimitsConfig>("max_aliasses: 3").is_err());
        let error = serde_yaml_ng::from_str::<LimitsConfig>("max_fields: lots")
            .unwrap_err()
            .to_string();
        assert!(error.contains("max_fields"), "{error}");
        assert!(serde_yaml_ng::from_str::<LimitsConfig>("idle_timeout: 5").is_err());
    }
}
