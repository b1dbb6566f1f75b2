//! Getting each subgraph's SDL.
//!
//! A subgraph's SDL comes from one of these places, chosen by its config entry:
//! - an `sdl` file, when given (an event subgraph has nothing else);
//! - a federation subgraph's `{ _service { sdl } }`, fetched from its `url`;
//! - a plain GraphQL service's introspection, turned into SDL (`introspection`), when the
//!   service does not know `_service` or the config says `plain: true`.

mod introspection;

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::join_all;

use crate::config::{Config, MergeRule};

/// Composition prints supergraph SDL strings with the same escaping as the SDL printed here.
pub(crate) use introspection::string_literal;

/// One subgraph's SDL together with where it is served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubgraphSdl {
    /// The subgraph's name from the config; it becomes the `join__Graph` value.
    pub name: String,
    /// Where queries go; `None` for an SDL-only subgraph (e.g. an event subgraph).
    pub url: Option<String>,
    pub sdl: String,
    /// A plain service is stitched: composition turns it into a federation subgraph first.
    pub kind: SubgraphKind,
    /// The config's `merge:` entries: how the service looks up objects by key.
    pub merge: Vec<MergeRule>,
}

/// What kind of GraphQL server a subgraph is, which decides how it is composed and queried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubgraphKind {
    /// Speaks federation: `_service`, `_entities`, `@key`.
    #[default]
    Federation,
    /// A GraphQL service that knows nothing of federation; objects are looked up through the
    /// root fields its `merge:` config names.
    Plain,
}

/// How many characters of an unexpected response body an error quotes: enough to recognise an
/// HTML error page or a proxy's message, short enough to keep the error on a screen.
const BODY_EXCERPT_CHARS: usize = 200;

const SERVICE_SDL_QUERY: &str = "{ _service { sdl } }";

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("subgraph `{subgraph}`: cannot read SDL file {}: {source}", path.display())]
    ReadSdlFile {
        subgraph: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("subgraph `{subgraph}`: SDL file {} is empty", path.display())]
    EmptySdlFile { subgraph: String, path: PathBuf },
    #[error("cannot read supergraph file {}: {source}", path.display())]
    ReadSupergraphFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `subgraph` is `None` when [`fetch_federation_sdl`] is called on a bare URL;
    /// [`load_subgraph_sdls`] fills it in.
    #[error(
        "{}{}: {problem}",
        SubgraphLabel(subgraph.as_deref()),
        crate::telemetry::redact::loggable_url(url)
    )]
    Fetch {
        subgraph: Option<String>,
        url: String,
        problem: FetchProblem,
    },
    /// Several subgraphs failed; each is reported, in config order, so one run shows them all.
    #[error("{} subgraphs failed:{}", .0.len(), IndentedList(.0))]
    Many(Vec<SourceError>),
}

impl SourceError {
    /// Every single failure inside, whether this is one failure or [`SourceError::Many`].
    pub fn failures(&self) -> Vec<&SourceError> {
        match self {
            SourceError::Many(errors) => errors.iter().flat_map(SourceError::failures).collect(),
            single => vec![single],
        }
    }

    fn for_subgraph(self, name: &str) -> SourceError {
        match self {
            SourceError::Fetch { url, problem, .. } => SourceError::Fetch {
                subgraph: Some(name.to_string()),
                url,
                problem,
            },
            other => other,
        }
    }
}

/// What went wrong asking a subgraph for its SDL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchProblem {
    /// Connection refused, DNS failure, TLS failure: the request never got an answer.
    #[error("cannot reach the subgraph: {0}")]
    Unreachable(String),
    #[error("no answer within {} (raise the subgraph's `timeout` if it is just slow)", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("HTTP {status}: {body}")]
    Status { status: String, body: String },
    #[error("the answer is not JSON ({detail}): {body}")]
    NotJson { detail: String, body: String },
    #[error("the subgraph answered with GraphQL errors: {}{}", .0.join("; "), not_federation_hint(.0))]
    GraphQl(Vec<String>),
    #[error(
        "the answer has no `data._service.sdl`; is this a federation subgraph? (its GraphQL \
         server must enable federation)"
    )]
    MissingSdl,
    #[error("the subgraph returned an empty SDL")]
    EmptySdl,
    /// Introspection answered, but not with a schema Seam can read.
    #[error("the introspection answer cannot be read: {0}")]
    BadIntrospection(String),
    /// The service does not know `_service`, so it was introspected as a plain service, and that
    /// failed too.
    #[error(
        "the service has no federation `_service` field, so Seam read its schema by \
         introspection, which failed: {0}"
    )]
    IntrospectionFailed(Box<FetchProblem>),
}

impl FetchProblem {
    /// True when the service answered but evidently does not know `_service`: it is a plain
    /// GraphQL service rather than a broken federation subgraph. The phrases are the ones the
    /// common servers use for an unknown field (graphql-js, async-graphql, Hot Chocolate,
    /// graphql-java, gqlgen, juniper).
    ///
    /// Only an error naming `_service` counts: an answer with data but no `_service.sdl`
    /// ([`FetchProblem::MissingSdl`]) comes from a server that accepted the field, i.e. a broken
    /// federation subgraph, and introspecting it would hide that behind a stitched schema.
    fn means_not_federation(&self) -> bool {
        let FetchProblem::GraphQl(messages) = self else {
            return false;
        };
        messages.iter().any(|message| {
            let message = message.to_lowercase();
            message.contains("_service")
                && [
                    "unknown field",
                    "cannot query field",
                    "does not exist",
                    "undefined",
                    "not defined",
                    "no field",
                    // graphql-ruby: "Field '_service' doesn't exist on type 'Query'"
                    "doesn't exist",
                    // Hasura: "field '_service' not found in type: 'query_root'"
                    "not found in type",
                ]
                .iter()
                .any(|phrase| message.contains(phrase))
        })
    }
}

/// Points a user whose subgraph does not know `_service` at the likely cause.
fn not_federation_hint(messages: &[String]) -> &'static str {
    if messages.iter().any(|message| message.contains("_service")) {
        " (the subgraph does not seem to support federation's `_service` field)"
    } else {
        ""
    }
}

struct SubgraphLabel<'a>(Option<&'a str>);

impl std::fmt::Display for SubgraphLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(name) => write!(f, "subgraph `{name}` at "),
            None => Ok(()),
        }
    }
}

struct IndentedList<'a>(&'a [SourceError]);

impl std::fmt::Display for IndentedList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for error in self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

/// Asks a federation subgraph for its SDL with `{ _service { sdl } }`.
///
/// `timeout` bounds the whole exchange, connecting through reading the body, because a
/// subgraph that accepts the connection and then stalls is as broken as one that refuses it.
pub async fn fetch_federation_sdl(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<String, SourceError> {
    let fail = |problem| SourceError::Fetch {
        subgraph: None,
        url: url.to_string(),
        problem,
    };
    let body = post_query(client, url, timeout, SERVICE_SDL_QUERY)
        .await
        .map_err(fail)?;
    service_sdl_from_body(&body).map_err(fail)
}

/// Gets a subgraph's SDL from its URL, and whether it is a plain service.
///
/// `plain` is the config's answer: `Some(true)` introspects at once, `Some(false)` insists on
/// federation, `None` asks `_service` first and introspects only a service that does not know
/// that field. A service that is down or answers garbage fails on the first request, so plain
/// services get the same errors as federation subgraphs.
pub async fn fetch_sdl(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    plain: Option<bool>,
) -> Result<(String, SubgraphKind), SourceError> {
    let fail = |problem| SourceError::Fetch {
        subgraph: None,
        url: url.to_string(),
        problem,
    };
    if plain == Some(true) {
        let sdl = introspect(client, url, timeout).await.map_err(fail)?;
        return Ok((sdl, SubgraphKind::Plain));
    }
    let answer = post_query(client, url, timeout, SERVICE_SDL_QUERY)
        .await
        .and_then(|body| service_sdl_from_body(&body));
    match answer {
        Ok(sdl) => Ok((sdl, SubgraphKind::Federation)),
        Err(problem) if plain.is_none() && problem.means_not_federation() => {
            let sdl = introspect(client, url, timeout)
                .await
                .map_err(|problem| fail(FetchProblem::IntrospectionFailed(Box::new(problem))))?;
            Ok((sdl, SubgraphKind::Plain))
        }
        Err(problem) => Err(fail(problem)),
    }
}

/// Runs the introspection query and prints the schema it describes as SDL.
async fn introspect(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<String, FetchProblem> {
    // Servers from before the October 2021 spec refuse the newer fields as unknown; they get
    // the query every server answers.
    let mut response = introspection_answer(client, url, timeout, introspection::FULL_QUERY).await;
    if matches!(response, Err(FetchProblem::GraphQl(_))) {
        response = introspection_answer(client, url, timeout, introspection::QUERY).await;
    }
    let response = response?;
    let schema = response.pointer("/data/__schema").ok_or_else(|| {
        FetchProblem::BadIntrospection(
            "the answer has no `data.__schema`; is introspection turned off?".into(),
        )
    })?;
    introspection::sdl_from_schema(schema).map_err(FetchProblem::BadIntrospection)
}

/// One introspection query's answer; GraphQL errors in it are a [`FetchProblem::GraphQl`].
async fn introspection_answer(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    query: &str,
) -> Result<serde_json::Value, FetchProblem> {
    let body = post_query(client, url, timeout, query).await?;
    let response = parse_json(&body)?;
    match graphql_errors(&response) {
        Some(messages) => Err(FetchProblem::GraphQl(messages)),
        None => Ok(response),
    }
}

/// POSTs one query and returns the body of a successful (2xx) answer.
///
/// A 4xx answer whose body is a GraphQL response with `errors` is reported as those errors:
/// servers following the GraphQL over HTTP spec (Apollo Server among them) answer a query that
/// fails validation, such as `_service` on a plain service, with 400 and the reason in the body.
async fn post_query(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    query: &str,
) -> Result<bytes::Bytes, FetchProblem> {
    let exchange = async {
        let response = client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    };
    let (status, body) = match tokio::time::timeout(timeout, exchange).await {
        Err(_elapsed) => return Err(FetchProblem::TimedOut(timeout)),
        Ok(Err(error)) if error.is_timeout() => return Err(FetchProblem::TimedOut(timeout)),
        Ok(Err(error)) => return Err(FetchProblem::Unreachable(root_cause(&error))),
        Ok(Ok(answer)) => answer,
    };
    if status.is_client_error() {
        let messages = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .as_ref()
            .and_then(graphql_errors);
        if let Some(messages) = messages {
            return Err(FetchProblem::GraphQl(messages));
        }
    }
    if !status.is_success() {
        return Err(FetchProblem::Status {
            status: status.to_string(),
            body: excerpt(&body),
        });
    }
    Ok(body)
}

fn parse_json(body: &[u8]) -> Result<serde_json::Value, FetchProblem> {
    serde_json::from_slice(body).map_err(|error| FetchProblem::NotJson {
        detail: error.to_string(),
        body: excerpt(body),
    })
}

/// The messages of a non-empty `errors` list.
fn graphql_errors(response: &serde_json::Value) -> Option<Vec<String>> {
    let errors = response.get("errors")?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    Some(
        errors
            .iter()
            .map(
                |error| match error.get("message").and_then(|m| m.as_str()) {
                    Some(message) => message.to_string(),
                    None => error.to_string(),
                },
            )
            .collect(),
    )
}

/// Reads `data._service.sdl` out of a GraphQL response body.
fn service_sdl_from_body(body: &[u8]) -> Result<String, FetchProblem> {
    let response = parse_json(body)?;
    // Errors win over data: a subgraph that reports errors may have returned a partial or stale
    // SDL, and composing from it would hide the real problem.
    if let Some(messages) = graphql_errors(&response) {
        return Err(FetchProblem::GraphQl(messages));
    }
    let sdl = response
        .pointer("/data/_service/sdl")
        .and_then(|sdl| sdl.as_str())
        .ok_or(FetchProblem::MissingSdl)?;
    if sdl.trim().is_empty() {
        return Err(FetchProblem::EmptySdl);
    }
    Ok(sdl.to_string())
}

/// The innermost cause of a reqwest error ("Connection refused (os error 111)"): the outer
/// layers repeat the URL, which the error already shows.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The start of a body as one line, cut at a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    // Control characters (terminal escapes among them) would let a body forge log output.
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = printable.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".to_string();
    }
    match one_line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Gets every subgraph's SDL, in config order.
///
/// Files are read and subgraphs are asked concurrently, so startup takes as long as the slowest
/// subgraph rather than the sum. Every failure is returned (as [`SourceError::Many`] when there
/// are several) so a user sees all broken subgraphs in one run.
pub async fn load_subgraph_sdls(
    config: &Config,
    client: &reqwest::Client,
) -> Result<Vec<SubgraphSdl>, SourceError> {
    let loads = config.subgraphs.iter().map(|subgraph| async move {
        let (sdl, kind) = match (&subgraph.sdl, &subgraph.url) {
            (Some(path), _) => {
                let kind = if subgraph.plain == Some(true) {
                    SubgraphKind::Plain
                } else {
                    SubgraphKind::Federation
                };
                (read_sdl_file(&subgraph.name, path).await?, kind)
            }
            (None, Some(url)) => {
                fetch_sdl(client, url, subgraph.timeout_or_default(), subgraph.plain)
                    .await
                    .map_err(|error| error.for_subgraph(&subgraph.name))?
            }
            // Config validation refuses a subgraph with neither; answer as if its file were
            // missing rather than panic, for a `Config` built by hand.
            (None, None) => (
                read_sdl_file(&subgraph.name, Path::new("")).await?,
                SubgraphKind::Federation,
            ),
        };
        Ok(SubgraphSdl {
            name: subgraph.name.clone(),
            url: subgraph.url.clone(),
            sdl,
            kind,
            merge: subgraph.merge_rules(),
        })
    });

    let mut sdls = Vec::with_capacity(config.subgraphs.len());
    let mut failures = Vec::new();
    for result in join_all(loads).await {
        match result {
            Ok(sdl) => sdls.push(sdl),
            Err(error) => failures.push(error),
        }
    }
    match failures.len() {
        0 => Ok(sdls),
        1 => Err(failures.remove(0)),
        _ => Err(SourceError::Many(failures)),
    }
}

async fn read_sdl_file(subgraph: &str, path: &Path) -> Result<String, SourceError> {
    let sdl = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| SourceError::ReadSdlFile {
            subgraph: subgraph.to_string(),
            path: path.to_path_buf(),
            source,
        })?;
    if sdl.trim().is_empty() {
        return Err(SourceError::EmptySdlFile {
            subgraph: subgraph.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(sdl)
}

/// Reads a precomposed supergraph (`supergraph:` in the config, or `--supergraph`).
pub async fn read_supergraph_file(path: &Path) -> Result<String, SourceError> {
    tokio::fs::read_to_string(path)
        .await
        .map_err(|source| SourceError::ReadSupergraphFile {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests;
