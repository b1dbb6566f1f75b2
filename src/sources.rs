//! Getting each subgraph's SDL.
//!
//! A subgraph's SDL comes from one of these places, chosen by its config entry:
//! - an `sdl` file, when given (an event subgraph has nothing else);
//! - a federation subgraph's `{ _service { sdl } }`, fetched from its `url`.
//!
//! Plain (non-federation) GraphQL services, whose SDL would be rebuilt from introspection,
//! are a planned third source: a new [`SdlSource`] variant and its fetch function.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::join_all;

use crate::config::Config;

/// One subgraph's SDL together with where it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphSdl {
    /// The subgraph's name from the config; it becomes the `join__Graph` value.
    pub name: String,
    /// Where queries go; `None` for an SDL-only subgraph (e.g. an event subgraph).
    pub url: Option<String>,
    pub sdl: String,
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
    #[error("{}{url}: {problem}", SubgraphLabel(subgraph.as_deref()))]
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
    let exchange = async {
        let response = client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "query": SERVICE_SDL_QUERY }))
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    };
    let (status, body) = match tokio::time::timeout(timeout, exchange).await {
        Err(_elapsed) => return Err(fail(FetchProblem::TimedOut(timeout))),
        Ok(Err(error)) if error.is_timeout() => return Err(fail(FetchProblem::TimedOut(timeout))),
        Ok(Err(error)) => return Err(fail(FetchProblem::Unreachable(root_cause(&error)))),
        Ok(Ok(answer)) => answer,
    };
    if !status.is_success() {
        return Err(fail(FetchProblem::Status {
            status: status.to_string(),
            body: excerpt(&body),
        }));
    }
    service_sdl_from_body(&body).map_err(fail)
}

/// Reads `data._service.sdl` out of a GraphQL response body.
fn service_sdl_from_body(body: &[u8]) -> Result<String, FetchProblem> {
    let response: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| FetchProblem::NotJson {
            detail: error.to_string(),
            body: excerpt(body),
        })?;
    // Errors win over data: a subgraph that reports errors may have returned a partial or stale
    // SDL, and composing from it would hide the real problem.
    if let Some(errors) = response.get("errors").and_then(|errors| errors.as_array()) {
        if !errors.is_empty() {
            let messages = errors
                .iter()
                .map(
                    |error| match error.get("message").and_then(|m| m.as_str()) {
                        Some(message) => message.to_string(),
                        None => error.to_string(),
                    },
                )
                .collect();
            return Err(FetchProblem::GraphQl(messages));
        }
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
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".to_string();
    }
    match one_line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Where one subgraph's SDL comes from, decided from its config entry.
enum SdlSource<'a> {
    File(&'a Path),
    Federation { url: &'a str, timeout: Duration },
    // Introspection { url, timeout } for plain GraphQL services goes here.
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
        let source = match (&subgraph.sdl, &subgraph.url) {
            (Some(path), _) => SdlSource::File(path),
            (None, Some(url)) => SdlSource::Federation {
                url,
                timeout: subgraph.timeout_or_default(),
            },
            // Config validation refuses a subgraph with neither; answer as if its file were
            // missing rather than panic, for a `Config` built by hand.
            (None, None) => SdlSource::File(Path::new("")),
        };
        let sdl = match source {
            SdlSource::File(path) => read_sdl_file(&subgraph.name, path).await?,
            SdlSource::Federation { url, timeout } => fetch_federation_sdl(client, url, timeout)
                .await
                .map_err(|error| error.for_subgraph(&subgraph.name))?,
        };
        Ok(SubgraphSdl {
            name: subgraph.name.clone(),
            url: subgraph.url.clone(),
            sdl,
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
mod tests {
    use std::net::SocketAddr;
    use std::path::Path;

    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::{Json, Router};

    use super::*;

    const ACCOUNTS_SDL: &str =
        "type Query { me: User }\ntype User @key(fields: \"id\") { id: ID! }";

    /// A scripted subgraph: one route per way a real one can answer.
    async fn start_subgraph() -> SocketAddr {
        let app = Router::new()
            .route(
                "/ok",
                post(|Json(request): Json<serde_json::Value>| async move {
                    assert_eq!(request["query"], SERVICE_SDL_QUERY);
                    Json(serde_json::json!({ "data": { "_service": { "sdl": ACCOUNTS_SDL } } }))
                }),
            )
            .route(
                "/500",
                post(|| async {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "<html>\n  <body>upstream exploded</body>\n</html>",
                    )
                }),
            )
            .route("/not-json", post(|| async { "hello, I am not GraphQL" }))
            .route(
                "/errors",
                post(|| async {
                    Json(serde_json::json!({
                        "errors": [{ "message": "Cannot query field \"_service\" on type \"Query\"." }]
                    }))
                }),
            )
            .route(
                "/no-sdl",
                post(|| async { Json(serde_json::json!({ "data": { "_service": null } })) }),
            )
            .route(
                "/hang",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "too late"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    }

    /// A port nothing listens on: bound, then released.
    async fn refused_port() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    }

    async fn fetch_problem(url: &str, timeout: Duration) -> FetchProblem {
        let client = reqwest::Client::new();
        match fetch_federation_sdl(&client, url, timeout).await {
            Err(SourceError::Fetch {
                subgraph: None,
                url: error_url,
                problem,
            }) => {
                assert_eq!(error_url, url);
                problem
            }
            other => panic!("expected a fetch error, got {other:?}"),
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn fetches_the_service_sdl() {
        let address = start_subgraph().await;
        let client = reqwest::Client::new();
        let sdl = fetch_federation_sdl(&client, &format!("http://{address}/ok"), SECOND)
            .await
            .unwrap();
        assert_eq!(sdl, ACCOUNTS_SDL);
    }

    #[tokio::test]
    async fn an_http_error_shows_status_and_body() {
        let address = start_subgraph().await;
        let url = format!("http://{address}/500");
        let problem = fetch_problem(&url, SECOND).await;
        assert_eq!(
            problem,
            FetchProblem::Status {
                status: "500 Internal Server Error".into(),
                body: "<html> <body>upstream exploded</body> </html>".into(),
            }
        );
        assert_eq!(
            problem.to_string(),
            "HTTP 500 Internal Server Error: <html> <body>upstream exploded</body> </html>"
        );
    }

    #[tokio::test]
    async fn a_non_json_answer_is_quoted() {
        let address = start_subgraph().await;
        let problem = fetch_problem(&format!("http://{address}/not-json"), SECOND).await;
        let FetchProblem::NotJson { body, .. } = &problem else {
            panic!("expected NotJson, got {problem:?}");
        };
        assert_eq!(body, "hello, I am not GraphQL");
        assert!(
            problem.to_string().starts_with("the answer is not JSON ("),
            "{problem}"
        );
    }

    #[tokio::test]
    async fn graphql_errors_are_listed_with_a_federation_hint() {
        let address = start_subgraph().await;
        let problem = fetch_problem(&format!("http://{address}/errors"), SECOND).await;
        assert_eq!(
            problem.to_string(),
            "the subgraph answered with GraphQL errors: Cannot query field \"_service\" on type \
             \"Query\". (the subgraph does not seem to support federation's `_service` field)"
        );
    }

    #[tokio::test]
    async fn a_missing_sdl_is_reported() {
        let address = start_subgraph().await;
        let problem = fetch_problem(&format!("http://{address}/no-sdl"), SECOND).await;
        assert_eq!(problem, FetchProblem::MissingSdl);
    }

    #[tokio::test]
    async fn a_silent_subgraph_times_out() {
        let address = start_subgraph().await;
        let started = std::time::Instant::now();
        let problem = fetch_problem(
            &format!("http://{address}/hang"),
            Duration::from_millis(200),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(problem, FetchProblem::TimedOut(Duration::from_millis(200)));
        assert_eq!(
            problem.to_string(),
            "no answer within 200ms (raise the subgraph's `timeout` if it is just slow)"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_says_so() {
        let address = refused_port().await;
        let problem = fetch_problem(&format!("http://{address}/graphql"), SECOND).await;
        let FetchProblem::Unreachable(detail) = &problem else {
            panic!("expected Unreachable, got {problem:?}");
        };
        assert!(detail.to_lowercase().contains("refused"), "{detail}");
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt(b""), "(empty body)");
        assert_eq!(excerpt(b"  a\n\tb  "), "a b");
        let long = "é".repeat(500);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn response_bodies_are_read_strictly() {
        assert_eq!(
            service_sdl_from_body(br#"{"data":{"_service":{"sdl":"type Query { a: Int }"}}}"#),
            Ok("type Query { a: Int }".into())
        );
        assert_eq!(
            service_sdl_from_body(br#"{"data":{"_service":{"sdl":"  "}}}"#),
            Err(FetchProblem::EmptySdl)
        );
        assert_eq!(
            service_sdl_from_body(
                br#"{"data":{"_service":{"sdl":"x"}},"errors":[{"message":"boom"},{"oops":1}]}"#
            ),
            Err(FetchProblem::GraphQl(vec![
                "boom".into(),
                r#"{"oops":1}"#.into()
            ]))
        );
        assert_eq!(
            service_sdl_from_body(br#"{"data":null,"errors":[]}"#),
            Err(FetchProblem::MissingSdl)
        );
        assert_eq!(service_sdl_from_body(b"[1]"), Err(FetchProblem::MissingSdl));
    }

    #[test]
    fn errors_name_the_subgraph_and_url() {
        let error = SourceError::Fetch {
            subgraph: None,
            url: "http://a:4001/graphql".into(),
            problem: FetchProblem::MissingSdl,
        }
        .for_subgraph("accounts");
        assert!(
            error
                .to_string()
                .starts_with("subgraph `accounts` at http://a:4001/graphql: the answer has no `data._service.sdl`"),
            "{error}"
        );
        let bare = SourceError::Fetch {
            subgraph: None,
            url: "http://a:4001/graphql".into(),
            problem: FetchProblem::TimedOut(Duration::from_secs(10)),
        };
        assert_eq!(
            bare.to_string(),
            "http://a:4001/graphql: no answer within 10s (raise the subgraph's `timeout` if it is just slow)"
        );
        let many = SourceError::Many(vec![error, bare]);
        assert_eq!(many.failures().len(), 2);
        let rendered = many.to_string();
        assert!(
            rendered.starts_with("2 subgraphs failed:\n  - subgraph `accounts` at "),
            "{rendered}"
        );
        assert!(
            rendered.contains("\n  - http://a:4001/graphql: no answer within 10s"),
            "{rendered}"
        );
    }

    fn temp_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("seam-sources-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn config(yaml: &str, base_dir: &Path) -> Config {
        Config::from_yaml_str(yaml, base_dir).unwrap()
    }

    #[tokio::test]
    async fn loads_files_and_fetches_in_config_order() {
        let address = start_subgraph().await;
        let dir = temp_dir("ok");
        std::fs::write(
            dir.join("events.graphql"),
            "type Query { events: [String] }",
        )
        .unwrap();
        let config = config(
            &format!(
                "subgraphs:\n  - name: events\n    sdl: events.graphql\n  - name: accounts\n    url: http://{address}/ok\n  - name: pinned\n    url: http://{address}/500\n    sdl: events.graphql\n"
            ),
            &dir,
        );
        let sdls = load_subgraph_sdls(&config, &reqwest::Client::new())
            .await
            .unwrap();
        assert_eq!(
            sdls,
            vec![
                SubgraphSdl {
                    name: "events".into(),
                    url: None,
                    sdl: "type Query { events: [String] }".into(),
                },
                SubgraphSdl {
                    name: "accounts".into(),
                    url: Some(format!("http://{address}/ok")),
                    sdl: ACCOUNTS_SDL.into(),
                },
                // The file wins over fetching; the url is still where queries go.
                SubgraphSdl {
                    name: "pinned".into(),
                    url: Some(format!("http://{address}/500")),
                    sdl: "type Query { events: [String] }".into(),
                },
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn reports_every_failure_at_once() {
        let address = start_subgraph().await;
        let refused = refused_port().await;
        let dir = temp_dir("fail");
        std::fs::write(dir.join("empty.graphql"), "\n").unwrap();
        let config = config(
            &format!(
                "subgraphs:
  - name: good
    url: http://{address}/ok
  - name: broken
    url: http://{address}/500
  - name: down
    url: http://{refused}/graphql
  - name: slow
    url: http://{address}/hang
    timeout: 200ms
  - name: missing
    sdl: missing.graphql
  - name: blank
    sdl: empty.graphql
"
            ),
            &dir,
        );
        let error = load_subgraph_sdls(&config, &reqwest::Client::new())
            .await
            .unwrap_err();
        let failures = error.failures();
        let subgraphs: Vec<&str> = failures
            .iter()
            .map(|failure| match failure {
                SourceError::Fetch {
                    subgraph: Some(name),
                    ..
                }
                | SourceError::ReadSdlFile { subgraph: name, .. }
                | SourceError::EmptySdlFile { subgraph: name, .. } => name.as_str(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            subgraphs,
            vec!["broken", "down", "slow", "missing", "blank"]
        );
        let rendered = error.to_string();
        assert!(rendered.starts_with("5 subgraphs failed:\n"), "{rendered}");
        assert!(
            rendered.contains(&format!(
                "subgraph `slow` at http://{address}/hang: no answer within 200ms"
            )),
            "{rendered}"
        );
        assert!(
            rendered.contains(&format!(
                "subgraph `missing`: cannot read SDL file {}: ",
                dir.join("missing.graphql").display()
            )),
            "{rendered}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_single_failure_is_returned_bare() {
        let dir = temp_dir("single");
        let config = config(
            "subgraphs:\n  - name: events\n    sdl: nope.graphql\n",
            &dir,
        );
        let error = load_subgraph_sdls(&config, &reqwest::Client::new())
            .await
            .unwrap_err();
        assert!(
            matches!(error, SourceError::ReadSdlFile { .. }),
            "{error:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
