//! The YAML config.
//!
//! Loading is three steps, each with its own error so a user learns exactly what to fix:
//! `${VAR}` expansion on the raw text, YAML parsing into typed structs (unknown keys are
//! errors), then validation of the rules YAML types cannot express. Validation reports every
//! problem at once rather than making the user fix them one run at a time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use auth::{AuthConfig, ClaimValue, JwksSource, JwtConfig, OneOrMany, PolicyRule, SecretKey};
pub use compression::CompressionConfig;
pub use cors::{CorsConfig, OriginRegex};
pub use cost::CostConfig;
pub use csrf::CsrfConfig;
use expand::{expand_env, ExpandError};
pub use graphiql::GraphiqlConfig;
pub use headers::{is_never_forwarded, HeaderRule, HeaderRules, HeadersConfig, RuleKind};
pub use merge::{MergeConfig, MergeRule};
pub use persisted::{ApqConfig, ApqStoreKind, PersistedQueriesConfig};
pub use rate_limit::{ClientQuota, Quota, RateLimitConfig, RateLimitStore};
pub use subgraph_errors::{ResolvedErrorPolicy, SubgraphErrorsConfig};
pub use telemetry::{
    BatchConfig, LogConfig, LogFormat, MetricsConfig, OtlpProtocol, SamplingRatio, TelemetryConfig,
};
pub use traffic::{
    BreakerSettings, ClientSettings, HealthCheckSettings, HealthProbe, Http2, ResolvedTraffic,
    RetrySettings, TrafficConfig,
};
use values::{listen_address, optional_duration};

/// How long Seam waits for a subgraph that has no `timeout` of its own.
pub const DEFAULT_SUBGRAPH_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the gateway listens; `None` leaves the choice to the command line and its default.
    #[serde(default, deserialize_with = "listen_address")]
    pub listen: Option<SocketAddr>,
    /// Optional so that a config holding only `supergraph:` is valid.
    #[serde(default)]
    pub subgraphs: Vec<SubgraphConfig>,
    /// A precomposed supergraph to serve instead of composing; resolved against the config's
    /// directory.
    #[serde(default)]
    pub supergraph: Option<PathBuf>,
    /// Hot reload period; `None` disables polling.
    #[serde(default, deserialize_with = "optional_duration")]
    pub poll_interval: Option<Duration>,
    /// Whether `seam serve` reloads when its config file or supergraph file changes on disk
    /// (`None`: yes). Off, for a deployment that rolls out a new process for every change and
    /// wants no file it did not start with to be served.
    #[serde(default)]
    pub watch_files: Option<bool>,
    #[serde(default)]
    pub bridge: BridgeConfig,
    /// Custom progressive `@override` labels switched on for every request; `percent(N)` labels
    /// are drawn per request and need no entry.
    #[serde(default)]
    pub override_labels: Vec<String>,
    /// Which client headers reach the subgraphs, and which Seam adds or removes.
    #[serde(default)]
    pub headers: HeadersConfig,
    /// How much of the subgraphs' GraphQL errors reaches clients.
    #[serde(default)]
    pub subgraph_errors: SubgraphErrorsConfig,
    /// Whether clients may query `__schema` and `__type` (default true); `__typename` always works.
    #[serde(default)]
    pub introspection: Option<bool>,
    /// Connection, request and operation limits; every key has a default.
    #[serde(default)]
    pub limits: limits::LimitsConfig,
    /// How long a shutdown (SIGTERM, Ctrl-C) waits for requests and streams to finish;
    /// [`limits::DEFAULT_SHUTDOWN_GRACE_PERIOD`] when absent.
    #[serde(default, deserialize_with = "optional_duration")]
    pub shutdown_grace_period: Option<Duration>,
    /// Which other origins' pages may call the gateway from a browser (none by default).
    #[serde(default)]
    pub cors: CorsConfig,
    /// Refusing requests a browser sends cross-site without a preflight (on by default).
    #[serde(default)]
    pub csrf: CsrfConfig,
    /// The GraphiQL IDE for browsers that open the GraphQL path (on by default).
    #[serde(default)]
    pub graphiql: GraphiqlConfig,
    /// Compressed responses for clients that accept them, and compressed request bodies (both
    /// on by default).
    #[serde(default)]
    pub compression: CompressionConfig,
    /// Retries, circuit breakers, connection pools, HTTP/2 and health checks of subgraph calls.
    #[serde(default)]
    pub traffic: TrafficConfig,
    /// Automatic persisted queries and persisted documents (APQ on, in memory, by default).
    #[serde(default)]
    pub persisted_queries: PersistedQueriesConfig,
    /// Operations per period for the gateway and per client (off by default).
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Traces over OTLP and the Prometheus endpoint (traces off, `/metrics` on by default).
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The format of Seam's log records and the access log (text, no access log by default).
    #[serde(default)]
    pub log: LogConfig,
    /// JWT authentication and the enforcement of `@authenticated`, `@requiresScopes` and
    /// `@policy` (anonymous requests, directives enforced, by default).
    #[serde(default)]
    pub auth: AuthConfig,
    /// Threads that serve requests (`None`: one per core this process may use). Read at start,
    /// not on reload. Fewer threads than cores pays when the gateway shares its cores with other
    /// busy processes: each busy thread competes with them for the cores (measured in the
    /// README's performance section; keeping a request on one thread did not recover it).
    #[serde(default)]
    pub worker_threads: Option<usize>,
}

/// More threads than this is a typo, not a sizing: each one holds a stack and a task queue.
pub const MAX_WORKER_THREADS: usize = 1024;

fn worker_threads_allowed(threads: usize) -> bool {
    (1..=MAX_WORKER_THREADS).contains(&threads)
}

/// One subgraph entry under `subgraphs:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    /// Becomes a `join__Graph` value, hence the identifier rules in [`validate_subgraph_name`].
    pub name: String,
    /// Where queries, mutations, `_service` and `_entities` go.
    #[serde(default)]
    pub url: Option<String>,
    /// An SDL file read instead of asking the subgraph; resolved against the config's directory.
    #[serde(default)]
    pub sdl: Option<PathBuf>,
    /// A WebSocket endpoint for subscriptions, when it differs from `url`.
    #[serde(default)]
    pub subscription_url: Option<String>,
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
    /// Whether this is a plain GraphQL service (no federation `_service` field), stitched in by
    /// introspection. `None` asks the service and falls back to introspection when it does not
    /// know `_service`; `true` is needed for a plain service whose schema comes from an `sdl`
    /// file, because a federation SDL without `@link` or `@key` looks the same.
    #[serde(default)]
    pub plain: Option<bool>,
    /// How other services' objects are looked up in this plain service, by type name, so a
    /// client can cross from one service's `User` to this one's in one query.
    #[serde(default)]
    pub merge: BTreeMap<String, MergeConfig>,
}

impl SubgraphConfig {
    /// The subgraph's own `timeout`, else [`DEFAULT_SUBGRAPH_TIMEOUT`].
    pub fn timeout_or_default(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_SUBGRAPH_TIMEOUT)
    }
}

/// Where bridge events are published and subscribed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    #[serde(default)]
    pub backend: BridgeBackend,
    /// The server of the `redis` or `nats` backend.
    #[serde(default)]
    pub url: Option<String>,
    /// Prepended as is to every topic to make the Redis channel or NATS subject, so several
    /// deployments can share one server; include your own separator (`seam:` or `seam.`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Switches on `POST /bridge/publish` for services that cannot reach the bridge's server;
    /// callers send it as `Authorization: Bearer <token>`. Unset, the endpoint does not exist.
    #[serde(default)]
    pub publish_token: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BridgeBackend {
    /// In-process: events reach only subscribers of this gateway instance.
    #[default]
    Memory,
    Redis,
    Nats,
}

impl BridgeBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            BridgeBackend::Memory => "memory",
            BridgeBackend::Redis => "redis",
            BridgeBackend::Nats => "nats",
        }
    }
}

/// What a config file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigRole {
    /// It says what to serve: its `subgraphs` to compose, or its `supergraph` file.
    Serves,
    /// It goes with a supergraph file given apart from it (`seam serve --supergraph FILE
    /// --config FILE`), which says what to serve. Every section applies, but it need not list
    /// subgraphs (the file names them); an entry under `subgraphs` overrides the URL or timeout
    /// of the file's subgraph of that name (or adds an event subgraph from its `sdl`), and
    /// sections keyed by subgraph name are not checked against names the config does not list.
    /// An empty file is valid.
    BesideSupergraph,
}

/// Which config text an error is about: a file, or text handed in directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigOrigin(Option<PathBuf>);

impl ConfigOrigin {
    pub fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(path) => write!(f, "{}", path.display()),
            None => f.write_str("config"),
        }
    }
}

/// One broken rule, named by its key path in the same notation serde_yaml_ng uses
/// (`subgraphs[1].url`), so parse errors and validation errors read alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{origin}: line {line}: environment variable `{name}` is not set \
         (set it, or give a default with `${{{name}:-value}}`)"
    )]
    UnsetVariable {
        origin: ConfigOrigin,
        line: usize,
        name: String,
    },
    /// A `${...}` that cannot be expanded: unterminated, or not a valid variable name.
    #[error("{origin}: line {line}: {message}")]
    Substitution {
        origin: ConfigOrigin,
        line: usize,
        message: String,
    },
    /// serde_yaml_ng's message already names the key path and the line and column.
    #[error("{origin}: {source}")]
    Yaml {
        origin: ConfigOrigin,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("{origin}: {}", ProblemList(problems))]
    Invalid {
        origin: ConfigOrigin,
        problems: Vec<ConfigProblem>,
    },
}

/// Shows one problem inline and several as an indented list.
struct ProblemList<'a>(&'a [ConfigProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for problem in many {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl Config {
    /// How many threads serve requests: `worker_threads`, else [`default_worker_threads`].
    pub fn worker_threads(&self) -> Result<usize, String> {
        self.worker_threads.map_or_else(default_worker_threads, Ok)
    }

    /// Whether `__schema`/`__type` are served (`introspection`, default true).
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(true)
    }

    /// Reads, expands, parses and validates the config file at `path`, taking `${VAR}` values
    /// from the process environment. Relative `sdl` and `supergraph` paths are resolved against
    /// the file's directory, so the config works from any working directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_as(path, ConfigRole::Serves)
    }

    /// Like [`Config::load`], for a config given beside a supergraph file
    /// (`seam serve --supergraph FILE --config FILE`): see [`ConfigRole::BesideSupergraph`].
    pub fn load_beside_supergraph(path: &Path) -> Result<Config, ConfigError> {
        Self::load_as(path, ConfigRole::BesideSupergraph)
    }

    fn load_as(path: &Path, role: ConfigRole) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
        let origin = ConfigOrigin(Some(path.to_path_buf()));
        Self::parse_as(&text, base_dir, origin, &process_env, role)
    }

    /// Parses config text that did not come from a file (tests, embedding); relative paths are
    /// resolved against `base_dir` and `${VAR}` values come from the process environment.
    pub fn from_yaml_str(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        Self::parse(text, base_dir, ConfigOrigin(None), &process_env)
    }

    /// Like [`Config::from_yaml_str`], for a config that goes with a supergraph SDL
    /// ([`crate::startup::GatewayBuilder::supergraph_sdl`]): see [`ConfigRole::BesideSupergraph`].
    pub fn from_yaml_str_beside_supergraph(
        text: &str,
        base_dir: &Path,
    ) -> Result<Config, ConfigError> {
        let origin = ConfigOrigin(None);
        Self::parse_as(
            text,
            base_dir,
            origin,
            &process_env,
            ConfigRole::BesideSupergraph,
        )
    }

    /// The one path every entry point takes; `lookup` is injectable so tests do not depend on
    /// (or race over) the process environment.
    fn parse(
        text: &str,
        base_dir: &Path,
        origin: ConfigOrigin,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Self::parse_as(text, base_dir, origin, lookup, ConfigRole::Serves)
    }

    fn parse_as(
        text: &str,
        base_dir: &Path,
        origin: ConfigOrigin,
        lookup: &dyn Fn(&str) -> Option<String>,
        role: ConfigRole,
    ) -> Result<Config, ConfigError> {
        let expanded = expand_env(text, lookup).map_err(|error| match error {
            ExpandError::Unset { line, name } => ConfigError::UnsetVariable {
                origin: origin.clone(),
                line,
                name,
            },
            ExpandError::Malformed { line, message } => ConfigError::Substitution {
                origin: origin.clone(),
                line,
                message,
            },
        })?;
        if is_blank_yaml(&expanded) {
            if role == ConfigRole::BesideSupergraph {
                return Ok(Config::default());
            }
            return Err(ConfigError::Invalid {
                origin,
                problems: vec![ConfigProblem {
                    key: "subgraphs".into(),
                    message: "the config is empty: list at least one subgraph or set `supergraph`"
                        .into(),
                }],
            });
        }
        let mut config: Config =
            serde_yaml_ng::from_str(&expanded).map_err(|source| ConfigError::Yaml {
                origin: origin.clone(),
                source,
            })?;
        let problems = config.problems(role);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid { origin, problems });
        }
        config.resolve_paths(base_dir);
        Ok(config)
    }

    fn resolve_paths(&mut self, base_dir: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base_dir.join(&*path);
            }
        };
        if let Some(path) = &mut self.supergraph {
            resolve(path);
        }
        if let Some(path) = &mut self.persisted_queries.manifest {
            resolve(path);
        }
        for subgraph in &mut self.subgraphs {
            if let Some(path) = &mut subgraph.sdl {
                resolve(path);
            }
        }
        if let Some(path) = &mut self.telemetry.ca_file {
            resolve(path);
        }
        self.auth.resolve_paths(resolve);
    }

    /// Every rule that the types alone do not enforce.
    /// Checks the subgraph names the config's sections use against `known`, a supergraph file's
    /// subgraphs (the parse could not: the file is read later). A name no subgraph has would
    /// be a setting silently dropped.
    pub fn check_subgraph_names(&self, known: &[&str]) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        self.headers.problems(Some(known), &mut problems);
        self.subgraph_errors.problems(Some(known), &mut problems);
        self.traffic.problems(Some(known), &mut problems);
        for (index, subgraph) in self.subgraphs.iter().enumerate() {
            // An `sdl`-only entry is an event subgraph, checked against the file by its own
            // rule.
            if subgraph.sdl.is_none() && !known.contains(&subgraph.name.as_str()) {
                problems.push(ConfigProblem {
                    key: format!("subgraphs[{index}].name"),
                    message: format!(
                        "the supergraph has no subgraph named `{}`; its subgraphs are: {}",
                        subgraph.name,
                        known.join(", ")
                    ),
                });
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            origin: ConfigOrigin(None),
            problems,
        })
    }

    fn problems(&self, role: ConfigRole) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |key: String, message: String| {
            problems.push(ConfigProblem { key, message });
        };
        let beside_supergraph = role == ConfigRole::BesideSupergraph;

        if self.subgraphs.is_empty() && self.supergraph.is_none() && !beside_supergraph {
            problem(
                "subgraphs".into(),
                "no subgraphs and no `supergraph` file: list at least one subgraph or set \
                 `supergraph`"
                    .into(),
            );
        }
        // Names can be checked only when the config lists every subgraph itself.
        let names: Vec<&str> = self.subgraphs.iter().map(|s| s.name.as_str()).collect();
        let known = (self.supergraph.is_none() && !beside_supergraph && !names.is_empty())
            .then_some(names.as_slice());
        let mut section_problems = Vec::new();
        self.headers.problems(known, &mut section_problems);
        self.subgraph_errors.problems(known, &mut section_problems);
        self.traffic.problems(known, &mut section_problems);
        self.persisted_queries.problems(&mut section_problems);
        self.rate_limit.problems(&mut section_problems);
        self.telemetry.problems(&mut section_problems);
        self.auth.problems(&mut section_problems);
        for p in section_problems {
            problem(p.key, p.message);
        }
        if let Some(path) = &self.supergraph {
            if path.as_os_str().is_empty() {
                problem("supergraph".into(), "the path is empty".into());
            }
        }
        if self.poll_interval == Some(Duration::ZERO) {
            problem(
                "poll_interval".into(),
                "must be longer than 0; leave it out to turn hot reload off".into(),
            );
        }

        // Keyed by the form the name takes as a `join__Graph` value, so names that differ only
        // in case or in `-` versus `_` are caught: they would become the same enum value.
        let mut seen: HashMap<String, (usize, &str)> = HashMap::new();
        for (index, subgraph) in self.subgraphs.iter().enumerate() {
            let at = format!("subgraphs[{index}]");
            let name = subgraph.name.as_str();
            let of = format!("(subgraph `{name}`)");

            if let Err(message) = validate_subgraph_name(name) {
                problem(format!("{at}.name"), message);
            } else {
                let graph_value = name.to_ascii_uppercase().replace('-', "_");
                match seen.get(&graph_value) {
                    Some((first, first_name)) if *first_name == name => problem(
                        format!("{at}.name"),
                        format!("duplicate subgraph name `{name}`, already used by subgraphs[{first}]"),
                    ),
                    Some((first, first_name)) => problem(
                        format!("{at}.name"),
                        format!(
                            "`{name}` clashes with `{first_name}` (subgraphs[{first}]): both become \
                             the join__Graph value `{graph_value}`; names must differ in more than \
                             case and `-`/`_`"
                        ),
                    ),
                    None => {
                        seen.insert(graph_value, (index, name));
                    }
                }
            }

            // Beside a supergraph file an entry may override only the timeout: the URL is the
            // file's.
            if subgraph.url.is_none() && subgraph.sdl.is_none() && !beside_supergraph {
                problem(
                    at.clone(),
                    format!(
                        "needs `url` (to fetch its SDL and send it queries) or `sdl` (a schema \
                         file), or both {of}"
                    ),
                );
            }
            if let Some(url) = &subgraph.url {
                if let Err(message) = check_url(url, &["http", "https"]) {
                    problem(format!("{at}.url"), format!("{message} {of}"));
                }
            }
            if let Some(url) = &subgraph.subscription_url {
                if let Err(message) = check_url(url, &["ws", "wss"]) {
                    problem(format!("{at}.subscription_url"), format!("{message} {of}"));
                }
            }
            if let Some(path) = &subgraph.sdl {
                if path.as_os_str().is_empty() {
                    problem(format!("{at}.sdl"), format!("the path is empty {of}"));
                }
            }
            if subgraph.timeout == Some(Duration::ZERO) {
                problem(
                    format!("{at}.timeout"),
                    format!("must be longer than 0 {of}"),
                );
            }
            merge::merge_problems(subgraph, &at, &of, &mut problem);
        }

        let backend = self.bridge.backend;
        match (backend, &self.bridge.url) {
            (BridgeBackend::Memory, Some(_)) => problem(
                "bridge.url".into(),
                "the memory backend takes no url; did you mean `backend: redis` or \
                 `backend: nats`?"
                    .into(),
            ),
            (BridgeBackend::Redis | BridgeBackend::Nats, None) => problem(
                "bridge.url".into(),
                format!("`backend: {}` needs a `url`", backend.as_str()),
            ),
            (BridgeBackend::Redis, Some(url)) => {
                if let Err(message) = check_url(url, &["redis", "rediss", "redis+unix", "unix"]) {
                    problem("bridge.url".into(), message);
                }
            }
            // NATS clients accept bare `host:port` and comma-separated server lists, so only
            // emptiness is a sure mistake here; the client reports the rest when it connects.
            (BridgeBackend::Nats, Some(url)) => {
                if url.trim().is_empty() {
                    problem("bridge.url".into(), "the url is empty".into());
                }
            }
            (BridgeBackend::Memory, None) => {}
        }
        if let Some(prefix) = &self.bridge.prefix {
            match backend {
                BridgeBackend::Memory => problem(
                    "bridge.prefix".into(),
                    "the memory backend is private to this gateway and takes no prefix".into(),
                ),
                BridgeBackend::Nats => {
                    if let Err(message) = check_nats_prefix(prefix) {
                        problem("bridge.prefix".into(), message);
                    }
                }
                BridgeBackend::Redis => {}
            }
        }
        // An empty token would let `Authorization: Bearer ` through.
        if self
            .bridge
            .publish_token
            .as_ref()
            .is_some_and(|token| token.trim().is_empty())
        {
            problem(
                "bridge.publish_token".into(),
                "the token is empty; remove the key to switch the publish endpoint off".into(),
            );
        }

        self.limits.problems(&mut problem);
        limits::grace_period_problems(self.shutdown_grace_period, &mut problem);
        if let Some(threads) = self.worker_threads {
            if !worker_threads_allowed(threads) {
                problem(
                    "worker_threads".into(),
                    format!("must be from 1 to {MAX_WORKER_THREADS}, not {threads}"),
                );
            }
        }

        for p in self.cors.problems().into_iter().chain(self.csrf.problems()) {
            problem(p.key, p.message);
        }

        problems
    }
}

/// tokio's own variable for the size of its runtime, which deployments may already set.
pub const WORKER_THREADS_ENV: &str = "TOKIO_WORKER_THREADS";

/// The thread count when the config gives none: [`WORKER_THREADS_ENV`] when set, else one per
/// core this process may use (its CPU affinity and cgroup quota count). A value that is not a
/// count is an error to report, where tokio itself would panic on it.
pub fn default_worker_threads() -> Result<usize, String> {
    match std::env::var(WORKER_THREADS_ENV) {
        Err(std::env::VarError::NotPresent) => {
            Ok(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
        }
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(threads) if worker_threads_allowed(threads) => Ok(threads),
            _ => Err(format!(
                "{WORKER_THREADS_ENV} must be a number from 1 to {MAX_WORKER_THREADS}, not `{text}`"
            )),
        },
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "{WORKER_THREADS_ENV} must be a number from 1 to {MAX_WORKER_THREADS}"
        )),
    }
}

/// Subgraph names become `join__Graph` enum values (upper-cased, `-` turned into `_`), so they
/// must make GraphQL names: an ASCII letter or `_` first, then ASCII letters, digits, `_` or `-`.
/// A leading `__` is refused because GraphQL reserves it for introspection.
pub fn validate_subgraph_name(name: &str) -> Result<(), String> {
    const ALLOWED: &str = "names start with a letter or `_` and contain only ASCII letters, \
                           digits, `_` and `-`";
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(format!("the name is empty; {ALLOWED}"));
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(format!("`{name}` is not a valid subgraph name: {ALLOWED}"));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(format!(
            "`{name}` is not a valid subgraph name (`{bad}` is not allowed): {ALLOWED}"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "`{name}` is not a valid subgraph name: a leading `__` is reserved by GraphQL"
        ));
    }
    Ok(())
}

/// Checks that `url` parses, uses one of `schemes` and names a host where the scheme needs one.
fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let wanted = schemes
        .iter()
        .map(|scheme| format!("{scheme}://"))
        .collect::<Vec<_>>()
        .join(" or ");
    let parsed = reqwest::Url::parse(url)
        .map_err(|error| format!("`{url}` is not a valid URL ({error}); expected {wanted}"))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(format!(
            "`{url}` uses `{}://`; expected {wanted}",
            parsed.scheme()
        ));
    }
    let needs_host = !matches!(parsed.scheme(), "unix" | "redis+unix");
    if needs_host && parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    Ok(())
}

/// Whether `prefix` can start NATS subjects; config validation uses it to name the bad key.
fn check_nats_prefix(prefix: &str) -> Result<(), String> {
    if let Some(bad) = prefix.chars().find(|c| forbidden_in_nats_subject(*c)) {
        return Err(format!(
            "`{prefix}` contains {bad:?}; NATS subjects cannot contain whitespace, `*` or `>`"
        ));
    }
    if prefix.starts_with('.') || prefix.contains("..") {
        return Err(format!(
            "`{prefix}` makes an empty subject token; NATS subjects are `.`-separated non-empty tokens"
        ));
    }
    Ok(())
}

/// Characters a NATS subject cannot hold: whitespace and control characters break the protocol
/// line, and `*` and `>` are wildcards that would subscribe to other topics' events.
pub fn forbidden_in_nats_subject(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '*' || c == '>'
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// True when the text holds no YAML content, only blank lines and comments; serde_yaml_ng's
/// own message for that case ("EOF while parsing a value") would not help a user.
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    })
}

mod auth;
mod compression;
mod cors;
mod cost;
mod csrf;
mod expand;
mod graphiql;
mod headers;
pub mod limits;
mod merge;
mod persisted;
mod rate_limit;
mod subgraph_errors;
mod telemetry;
#[cfg(test)]
mod tests;
mod traffic;
mod values;
