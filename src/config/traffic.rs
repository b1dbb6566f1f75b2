//! `traffic:` — how Seam calls its subgraphs: retries, the circuit breaker, the connection pool
//! and HTTP/2, and health checks.
//!
//! The shape follows `headers:` and `subgraph_errors:`: settings for `all` subgraphs, then per
//! subgraph by name, where each key given overrides the one under `all`. Health checks exist only
//! per subgraph, because the path or query that shows a service is healthy is the service's own.
//! The section's top level is kept for gateway-wide keys (`unready_on_open_breaker`, and later
//! the request deduplication switches the design reserves here).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{optional_duration, ConfigProblem};

/// How many times a subgraph request that is safe to repeat is sent at most, the first included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 2;
pub const DEFAULT_RETRY_MIN_DELAY: Duration = Duration::from_millis(50);
pub const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(1);
/// Retries may add this share of the requests of the budget's window.
pub const DEFAULT_BUDGET_RATIO: f64 = 0.2;
/// Retries allowed each second whatever the traffic, so a quiet subgraph still gets some.
pub const DEFAULT_BUDGET_MIN_PER_SECOND: u32 = 10;
pub const DEFAULT_BUDGET_WINDOW: Duration = Duration::from_secs(10);
pub const DEFAULT_BREAKER_WINDOW: Duration = Duration::from_secs(10);
pub const DEFAULT_BREAKER_MIN_REQUESTS: u32 = 20;
pub const DEFAULT_BREAKER_FAILURE_RATE: f64 = 0.5;
pub const DEFAULT_BREAKER_OPEN_FOR: Duration = Duration::from_secs(5);
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 256;
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(10);
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_HEALTH_UNHEALTHY_AFTER: u32 = 3;

/// tower's retry budget keeps its window between these (it refuses others).
const BUDGET_WINDOW_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));
const MAX_ATTEMPTS_LIMIT: u32 = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficConfig {
    /// Settings for every subgraph.
    #[serde(default)]
    pub all: TrafficRules,
    /// Per subgraph by name; each key given here overrides the one under `all`.
    #[serde(default)]
    pub subgraphs: BTreeMap<String, SubgraphTraffic>,
    /// Whether `/ready` answers 503 while any subgraph's breaker is open (default false: the
    /// gateway still serves the other subgraphs' fields, so taking it out of a load balancer
    /// would turn a partial outage into a whole one).
    #[serde(default)]
    pub unready_on_open_breaker: Option<bool>,
    /// Whether identical subgraph requests in flight together share one call (default true;
    /// never for a mutation's requests). Each subgraph may say otherwise.
    #[serde(default)]
    pub dedupe_subgraph_requests: Option<bool>,
    /// Whether identical client queries in flight together share one execution (default false).
    #[serde(default)]
    pub dedupe_client_requests: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficRules {
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default)]
    pub breaker: BreakerConfig,
    #[serde(default)]
    pub pool: PoolConfig,
    #[serde(default)]
    pub http2: Option<Http2>,
}

/// [`TrafficRules`] plus what only a single subgraph can have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphTraffic {
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default)]
    pub breaker: BreakerConfig,
    #[serde(default)]
    pub pool: PoolConfig,
    #[serde(default)]
    pub http2: Option<Http2>,
    #[serde(default)]
    pub health_check: Option<HealthCheckConfig>,
    /// Overrides the top-level `dedupe_subgraph_requests` for this subgraph.
    #[serde(default)]
    pub dedupe_subgraph_requests: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Sends at most, the first included; 1 turns retries off.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The first backoff; each next one doubles, up to `max_delay`, plus a random share of
    /// itself so that clients failing together do not retry together.
    #[serde(default, deserialize_with = "optional_duration")]
    pub min_delay: Option<Duration>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub max_delay: Option<Duration>,
    #[serde(default)]
    pub budget: BudgetConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Retries as a share of the requests sent in `window` (0.2: one retry per five requests).
    #[serde(default)]
    pub ratio: Option<Share>,
    #[serde(default)]
    pub min_per_second: Option<u32>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub window: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The failure rate is measured over this much recent time.
    #[serde(default, deserialize_with = "optional_duration")]
    pub window: Option<Duration>,
    /// Requests the window must hold before its failure rate counts.
    #[serde(default)]
    pub min_requests: Option<u32>,
    /// The share of failed requests (0 to 1) at which the breaker opens.
    #[serde(default)]
    pub failure_rate: Option<Share>,
    /// How long the breaker stays open before it lets a probe through.
    #[serde(default, deserialize_with = "optional_duration")]
    pub open_for: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Idle keep-alive connections kept per host; 0 closes each connection after its request.
    #[serde(default)]
    pub max_idle_per_host: Option<usize>,
    /// An idle connection unused this long is closed.
    #[serde(default, deserialize_with = "optional_duration")]
    pub idle_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub connect_timeout: Option<Duration>,
}

/// A share between 0 and 1. Config validation refuses anything else, NaN included, which is
/// what makes its equality total.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Share(pub f64);

impl Eq for Share {}

/// Which HTTP version Seam speaks to a subgraph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Http2 {
    /// HTTP/2 over TLS when the subgraph offers it (ALPN), HTTP/1.1 otherwise.
    #[default]
    Auto,
    /// HTTP/2 from the first byte, without negotiation: cleartext `http://` URLs speak h2c.
    /// Only for subgraphs known to speak HTTP/2.
    PriorKnowledge,
    /// HTTP/1.1 only.
    Off,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// `GET` this path on the subgraph's host; any 2xx is healthy.
    #[serde(default)]
    pub path: Option<String>,
    /// Or `POST` this GraphQL query to the subgraph's URL; healthy when it answers without errors.
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub interval: Option<Duration>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
    /// Failed checks in a row that open the breaker.
    #[serde(default)]
    pub unhealthy_after: Option<u32>,
}

/// Everything one subgraph's traffic runs with, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTraffic {
    pub retry: RetrySettings,
    /// `None` when the breaker is switched off.
    pub breaker: Option<BreakerSettings>,
    pub client: ClientSettings,
    pub health_check: Option<HealthCheckSettings>,
    /// Identical requests in flight together share one call.
    pub dedupe: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub budget_ratio: f64,
    pub budget_min_per_second: u32,
    pub budget_window: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSettings {
    pub window: Duration,
    pub min_requests: u32,
    pub failure_rate: f64,
    pub open_for: Duration,
}

/// What a subgraph's HTTP client is built with; subgraphs with equal settings share one client
/// and so one connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientSettings {
    pub max_idle_per_host: usize,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub http2: Http2,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            http2: Http2::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbe {
    Path(String),
    Query(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckSettings {
    pub probe: HealthProbe,
    pub interval: Duration,
    pub timeout: Duration,
    pub unhealthy_after: u32,
}

impl TrafficConfig {
    pub fn dedupe_client_requests(&self) -> bool {
        self.dedupe_client_requests.unwrap_or(false)
    }

    pub fn unready_on_open_breaker(&self) -> bool {
        self.unready_on_open_breaker.unwrap_or(false)
    }

    /// The settings of subgraph `name`: its own keys, else those under `all`, else the defaults.
    pub fn for_subgraph(&self, name: &str) -> ResolvedTraffic {
        let all = &self.all;
        let own = self.subgraphs.get(name);
        let retry = |get: fn(&RetryConfig) -> Option<Duration>| {
            own.and_then(|o| get(&o.retry)).or(get(&all.retry))
        };
        let own_budget = own.map(|o| &o.retry.budget);
        let own_breaker = own.map(|o| &o.breaker);
        let own_pool = own.map(|o| &o.pool);
        let retry_settings = RetrySettings {
            max_attempts: own
                .and_then(|o| o.retry.max_attempts)
                .or(all.retry.max_attempts)
                .unwrap_or(DEFAULT_MAX_ATTEMPTS),
            min_delay: retry(|r| r.min_delay).unwrap_or(DEFAULT_RETRY_MIN_DELAY),
            max_delay: retry(|r| r.max_delay).unwrap_or(DEFAULT_RETRY_MAX_DELAY),
            budget_ratio: own_budget
                .and_then(|b| b.ratio)
                .or(all.retry.budget.ratio)
                .map_or(DEFAULT_BUDGET_RATIO, |share| share.0),
            budget_min_per_second: own_budget
                .and_then(|b| b.min_per_second)
                .or(all.retry.budget.min_per_second)
                .unwrap_or(DEFAULT_BUDGET_MIN_PER_SECOND),
            budget_window: own_budget
                .and_then(|b| b.window)
                .or(all.retry.budget.window)
                .unwrap_or(DEFAULT_BUDGET_WINDOW),
        };
        let breaker_enabled = own_breaker
            .and_then(|b| b.enabled)
            .or(all.breaker.enabled)
            .unwrap_or(true);
        let breaker_duration = |get: fn(&BreakerConfig) -> Option<Duration>| {
            own_breaker.and_then(get).or(get(&all.breaker))
        };
        let breaker_settings = breaker_enabled.then(|| BreakerSettings {
            window: breaker_duration(|b| b.window).unwrap_or(DEFAULT_BREAKER_WINDOW),
            min_requests: own_breaker
                .and_then(|b| b.min_requests)
                .or(all.breaker.min_requests)
                .unwrap_or(DEFAULT_BREAKER_MIN_REQUESTS),
            failure_rate: own_breaker
                .and_then(|b| b.failure_rate)
                .or(all.breaker.failure_rate)
                .map_or(DEFAULT_BREAKER_FAILURE_RATE, |share| share.0),
            open_for: breaker_duration(|b| b.open_for).unwrap_or(DEFAULT_BREAKER_OPEN_FOR),
        });
        let pool_duration =
            |get: fn(&PoolConfig) -> Option<Duration>| own_pool.and_then(get).or(get(&all.pool));
        let client = ClientSettings {
            max_idle_per_host: own_pool
                .and_then(|p| p.max_idle_per_host)
                .or(all.pool.max_idle_per_host)
                .unwrap_or(DEFAULT_POOL_MAX_IDLE_PER_HOST),
            idle_timeout: pool_duration(|p| p.idle_timeout).unwrap_or(DEFAULT_POOL_IDLE_TIMEOUT),
            connect_timeout: pool_duration(|p| p.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            http2: own.and_then(|o| o.http2).or(all.http2).unwrap_or_default(),
        };
        let health_check = own
            .and_then(|o| o.health_check.as_ref())
            .and_then(HealthCheckConfig::resolve);
        let dedupe = own
            .and_then(|o| o.dedupe_subgraph_requests)
            .or(self.dedupe_subgraph_requests)
            .unwrap_or(true);
        ResolvedTraffic {
            retry: retry_settings,
            breaker: breaker_settings,
            client,
            health_check,
            dedupe,
        }
    }

    /// Every bad value, by key. `known_subgraphs` is `None` when the subgraphs come from a
    /// supergraph file, whose names are not known yet.
    pub(super) fn problems(&self, known_subgraphs: Option<&[&str]>, out: &mut Vec<ConfigProblem>) {
        let mut problem = |key: String, message: String| out.push(ConfigProblem { key, message });
        let all = &self.all;
        retry_problems(&all.retry, "traffic.all.retry", &mut problem);
        breaker_problems(&all.breaker, "traffic.all.breaker", &mut problem);
        pool_problems(&all.pool, "traffic.all.pool", &mut problem);
        for (name, own) in &self.subgraphs {
            let at = format!("traffic.subgraphs.{name}");
            if let Some(known) = known_subgraphs {
                if !known.contains(&name.as_str()) {
                    problem(
                        at.clone(),
                        format!(
                            "no subgraph is named `{name}`; the subgraphs are: {}",
                            known.join(", ")
                        ),
                    );
                }
            }
            retry_problems(&own.retry, &format!("{at}.retry"), &mut problem);
            breaker_problems(&own.breaker, &format!("{at}.breaker"), &mut problem);
            pool_problems(&own.pool, &format!("{at}.pool"), &mut problem);
            // The merged values too: a `min_delay` under one key and a `max_delay` under the
            // other can only clash once merged.
            let resolved = self.for_subgraph(name);
            if resolved.retry.min_delay > resolved.retry.max_delay {
                problem(
                    format!("{at}.retry"),
                    "`min_delay` (here or under `traffic.all.retry`) is longer than `max_delay`"
                        .into(),
                );
            }
            if let Some(check) = &own.health_check {
                let at = format!("{at}.health_check");
                check.problems(&at, &mut problem);
                if resolved.breaker.is_none() {
                    problem(
                        at,
                        "health checks feed the circuit breaker, which is switched off for this \
                         subgraph (`breaker.enabled: false`)"
                            .into(),
                    );
                }
            }
        }
    }
}

fn retry_problems(retry: &RetryConfig, at: &str, problem: &mut impl FnMut(String, String)) {
    if let Some(attempts) = retry.max_attempts {
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&attempts) {
            problem(
                format!("{at}.max_attempts"),
                format!("must be between 1 (no retries) and {MAX_ATTEMPTS_LIMIT}, not {attempts}"),
            );
        }
    }
    if let (Some(min), Some(max)) = (retry.min_delay, retry.max_delay) {
        if min > max {
            problem(
                format!("{at}.min_delay"),
                "is longer than `max_delay`".into(),
            );
        }
    }
    if retry.max_delay == Some(Duration::ZERO) {
        problem(format!("{at}.max_delay"), "must be longer than 0".into());
    }
    let budget = &retry.budget;
    if let Some(Share(ratio)) = budget.ratio {
        if !(0.0..=1.0).contains(&ratio) {
            problem(
                format!("{at}.budget.ratio"),
                format!("must be between 0 and 1 (a share of recent requests), not {ratio}"),
            );
        }
    }
    if let Some(min) = budget.min_per_second {
        if min > 100_000 {
            problem(
                format!("{at}.budget.min_per_second"),
                format!("must be at most 100000, not {min}"),
            );
        }
    }
    if let Some(window) = budget.window {
        let (low, high) = BUDGET_WINDOW_RANGE;
        if window < low || window > high {
            problem(
                format!("{at}.budget.window"),
                "must be between 1s and 60s".into(),
            );
        }
    }
}

fn breaker_problems(breaker: &BreakerConfig, at: &str, problem: &mut impl FnMut(String, String)) {
    for (key, value) in [("window", breaker.window), ("open_for", breaker.open_for)] {
        if value == Some(Duration::ZERO) {
            problem(format!("{at}.{key}"), "must be longer than 0".into());
        }
    }
    if breaker.min_requests == Some(0) {
        problem(
            format!("{at}.min_requests"),
            "must be at least 1; switch the breaker off with `enabled: false`".into(),
        );
    }
    if let Some(Share(rate)) = breaker.failure_rate {
        if !(rate > 0.0 && rate <= 1.0) {
            problem(
                format!("{at}.failure_rate"),
                format!("must be above 0 and at most 1 (a share of requests), not {rate}"),
            );
        }
    }
}

fn pool_problems(pool: &PoolConfig, at: &str, problem: &mut impl FnMut(String, String)) {
    for (key, value) in [
        ("idle_timeout", pool.idle_timeout),
        ("connect_timeout", pool.connect_timeout),
    ] {
        if value == Some(Duration::ZERO) {
            problem(format!("{at}.{key}"), "must be longer than 0".into());
        }
    }
}

impl HealthCheckConfig {
    /// `None` for a check that names no probe (a config error reported by `problems`).
    fn resolve(&self) -> Option<HealthCheckSettings> {
        let probe = match (&self.path, &self.query) {
            (Some(path), None) => HealthProbe::Path(path.clone()),
            (None, Some(query)) => HealthProbe::Query(query.clone()),
            _ => return None,
        };
        Some(HealthCheckSettings {
            probe,
            interval: self.interval.unwrap_or(DEFAULT_HEALTH_INTERVAL),
            timeout: self.timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT),
            unhealthy_after: self
                .unhealthy_after
                .unwrap_or(DEFAULT_HEALTH_UNHEALTHY_AFTER),
        })
    }

    fn problems(&self, at: &str, problem: &mut impl FnMut(String, String)) {
        match (&self.path, &self.query) {
            (Some(_), Some(_)) | (None, None) => problem(
                at.into(),
                "give exactly one of `path` (GET on the subgraph's host) or `query` (a GraphQL \
                 query to its URL)"
                    .into(),
            ),
            (Some(path), None) => {
                if !path.starts_with('/')
                    || reqwest::Url::parse("http://host")
                        .and_then(|u| u.join(path))
                        .is_err()
                {
                    problem(
                        format!("{at}.path"),
                        format!("`{path}` is not an absolute path such as `/health`"),
                    );
                }
            }
            (None, Some(query)) => {
                if query.trim().is_empty() {
                    problem(
                        format!("{at}.query"),
                        "the query is empty; e.g. `{ __typename }`".into(),
                    );
                }
            }
        }
        for (key, value) in [("interval", self.interval), ("timeout", self.timeout)] {
            if value == Some(Duration::ZERO) {
                problem(format!("{at}.{key}"), "must be longer than 0".into());
            }
        }
        if self.unhealthy_after == Some(0) {
            problem(format!("{at}.unhealthy_after"), "must be at least 1".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(traffic: &str) -> Result<Config, String> {
        let text = format!(
            "subgraphs:\n  - name: a\n    url: http://a/\n  - name: b\n    url: http://b/\n{traffic}"
        );
        Config::from_yaml_str(&text, std::path::Path::new(".")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_apply_without_a_traffic_section() {
        let resolved = config("").expect("config").traffic.for_subgraph("a");
        assert_eq!(resolved.retry.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(resolved.client, ClientSettings::default());
        let breaker = resolved.breaker.expect("on by default");
        assert_eq!(breaker.min_requests, DEFAULT_BREAKER_MIN_REQUESTS);
        assert_eq!(resolved.health_check, None);
    }

    #[test]
    fn a_subgraphs_keys_override_those_under_all_one_by_one() {
        let yaml = r#"
traffic:
  all:
    retry: { max_attempts: 3, min_delay: 10ms, budget: { ratio: 0.5 } }
    breaker: { min_requests: 7, open_for: 2s }
    pool: { max_idle_per_host: 8 }
  subgraphs:
    b:
      retry: { max_attempts: 1 }
      breaker: { open_for: 9s }
      http2: prior_knowledge
      health_check: { path: /health, interval: 1s }
"#;
        let traffic = config(yaml).expect("config").traffic;
        let a = traffic.for_subgraph("a");
        let b = traffic.for_subgraph("b");
        assert_eq!((a.retry.max_attempts, b.retry.max_attempts), (3, 1));
        assert_eq!(b.retry.min_delay, Duration::from_millis(10));
        assert_eq!(b.retry.budget_ratio, 0.5);
        let breaker = b.breaker.expect("breaker");
        assert_eq!(
            (breaker.min_requests, breaker.open_for),
            (7, Duration::from_secs(9))
        );
        assert_eq!(b.client.max_idle_per_host, 8);
        assert_eq!(
            (a.client.http2, b.client.http2),
            (Http2::Auto, Http2::PriorKnowledge)
        );
        assert_ne!(a.client, b.client, "b needs a client of its own");
        let check = b.health_check.expect("health check");
        assert_eq!(check.probe, HealthProbe::Path("/health".into()));
        assert_eq!(check.unhealthy_after, DEFAULT_HEALTH_UNHEALTHY_AFTER);
    }

    #[test]
    fn bad_values_are_errors_naming_their_key() {
        let yaml = r#"
traffic:
  all:
    retry: { max_attempts: 0, budget: { ratio: 1.5, window: 500ms } }
    breaker: { min_requests: 0, failure_rate: 0 }
    pool: { idle_timeout: 0s }
  subgraphs:
    a:
      breaker: { enabled: false }
      health_check: { path: /h }
    b:
      retry: { min_delay: 2s, max_delay: 1s }
      health_check: { path: health, query: "{ __typename }" }
    nope: {}
"#;
        let error = config(yaml).expect_err("invalid");
        for key in [
            "traffic.all.retry.max_attempts",
            "traffic.all.retry.budget.ratio",
            "traffic.all.retry.budget.window",
            "traffic.all.breaker.min_requests",
            "traffic.all.breaker.failure_rate",
            "traffic.all.pool.idle_timeout",
            "traffic.subgraphs.a.health_check:",
            "traffic.subgraphs.b.retry.min_delay",
            "traffic.subgraphs.b.health_check:",
            "traffic.subgraphs.nope",
        ] {
            assert!(error.contains(key), "{key} missing from: {error}");
        }
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        let error = config("traffic:\n  all:\n    health_check: { path: /h }\n")
            .expect_err("health checks are per subgraph");
        assert!(error.contains("health_check"), "{error}");
        let error = config("traffic:\n  all:\n    http2: sometimes\n").expect_err("bad value");
        assert!(error.contains("http2"), "{error}");
    }
}
