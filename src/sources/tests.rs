//! Unit tests of SDL loading: scripted subgraphs answering the way real ones can.

use std::net::SocketAddr;
use std::path::Path;

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::*;

const ACCOUNTS_SDL: &str = "type Query { me: User }\ntype User @key(fields: \"id\") { id: ID! }";

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
            "/plain",
            post(|Json(request): Json<serde_json::Value>| async move {
                plain_service(StatusCode::OK, &request)
            }),
        )
        .route(
            // Apollo Server refuses a query that fails validation with 400 and the errors.
            "/plain-400",
            post(|Json(request): Json<serde_json::Value>| async move {
                plain_service(StatusCode::BAD_REQUEST, &request)
            }),
        )
        .route(
            "/400-not-graphql",
            post(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({ "error": "bad request" })),
                )
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

/// A GraphQL service without federation: it answers `_service` with an unknown-field error (with
/// `error_status`) and introspection with a one-field schema.
fn plain_service(
    error_status: StatusCode,
    request: &serde_json::Value,
) -> (StatusCode, Json<serde_json::Value>) {
    if request["query"] == SERVICE_SDL_QUERY {
        return (
            error_status,
            Json(serde_json::json!({
                "errors": [{ "message": "Cannot query field \"_service\" on type \"Query\"." }]
            })),
        );
    }
    assert_eq!(request["query"], introspection::FULL_QUERY);
    (
        StatusCode::OK,
        Json(serde_json::json!({ "data": { "__schema": {
            "queryType": { "name": "Query" },
            "types": [{
                "kind": "OBJECT", "name": "Query",
                "fields": [{ "name": "hello", "args": [],
                    "type": { "kind": "SCALAR", "name": "String" } }]
            }]
        } } })),
    )
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

async fn fetch_with(url: &str, plain: Option<bool>) -> Result<(String, SubgraphKind), SourceError> {
    fetch_sdl(&reqwest::Client::new(), url, SECOND, plain).await
}

#[tokio::test]
async fn a_service_without_service_field_is_introspected() {
    let address = start_subgraph().await;
    let url = format!("http://{address}/plain");
    let expected = (
        "type Query {\n  hello: String\n}\n\n".to_string(),
        SubgraphKind::Plain,
    );
    assert_eq!(fetch_with(&url, None).await.unwrap(), expected);
    assert_eq!(fetch_with(&url, Some(true)).await.unwrap(), expected);
    // `plain: false` insists on federation: the missing field is the error.
    let Err(SourceError::Fetch { problem, .. }) = fetch_with(&url, Some(false)).await else {
        panic!("expected a fetch error");
    };
    assert!(matches!(problem, FetchProblem::GraphQl(_)), "{problem:?}");
    // A federation subgraph is asked nothing more.
    let (_, kind) = fetch_with(&format!("http://{address}/ok"), None)
        .await
        .unwrap();
    assert_eq!(kind, SubgraphKind::Federation);
}

#[tokio::test]
async fn a_400_with_graphql_errors_is_read_as_those_errors() {
    let address = start_subgraph().await;
    let url = format!("http://{address}/plain-400");
    assert_eq!(
        fetch_problem(&url, SECOND).await,
        FetchProblem::GraphQl(vec![
            "Cannot query field \"_service\" on type \"Query\".".into()
        ])
    );
    // So a plain service that refuses `_service` with 400 is found out and introspected.
    assert_eq!(
        fetch_with(&url, None).await.unwrap(),
        (
            "type Query {\n  hello: String\n}\n\n".to_string(),
            SubgraphKind::Plain
        )
    );
    // A 400 whose body is not a GraphQL response stays an HTTP error.
    let problem = fetch_problem(&format!("http://{address}/400-not-graphql"), SECOND).await;
    assert_eq!(
        problem,
        FetchProblem::Status {
            status: "400 Bad Request".into(),
            body: r#"{"error":"bad request"}"#.into(),
        }
    );
}

#[tokio::test]
async fn a_federation_subgraph_without_sdl_is_not_introspected() {
    let address = start_subgraph().await;
    let url = format!("http://{address}/no-sdl");
    let Err(error) = fetch_with(&url, None).await else {
        panic!("expected an error");
    };
    let SourceError::Fetch { problem, .. } = &error else {
        panic!("expected a fetch error, got {error:?}");
    };
    assert_eq!(*problem, FetchProblem::MissingSdl);
    assert_eq!(
        error.to_string(),
        format!(
            "{url}: the answer has no `data._service.sdl`; is this a federation subgraph? (its \
             GraphQL server must enable federation)"
        )
    );
}

#[tokio::test]
async fn a_failed_introspection_says_both_steps() {
    let address = start_subgraph().await;
    let Err(error) = fetch_with(&format!("http://{address}/errors"), None).await else {
        panic!("expected an error");
    };
    assert_eq!(
        error.to_string(),
        format!(
            "http://{address}/errors: the service has no federation `_service` field, so Seam \
             read its schema by introspection, which failed: the subgraph answered with \
             GraphQL errors: Cannot query field \"_service\" on type \"Query\". (the \
             subgraph does not seem to support federation's `_service` field)"
        )
    );
    // Errors unrelated to `_service` are not a reason to introspect.
    let Err(SourceError::Fetch { problem, .. }) =
        fetch_with(&format!("http://{address}/500"), None).await
    else {
        panic!("expected a fetch error");
    };
    assert!(
        matches!(problem, FetchProblem::Status { .. }),
        "{problem:?}"
    );
}

#[test]
fn only_unknown_field_errors_mean_not_federation() {
    let says = |message: &str| FetchProblem::GraphQl(vec![message.into()]).means_not_federation();
    assert!(says("Cannot query field \"_service\" on type \"Query\"."));
    assert!(says("Unknown field \"_service\" on type \"Query\"."));
    assert!(says(
        "The field `_service` does not exist on the type `Query`."
    ));
    assert!(says("Validation error (FieldUndefined@[_service]) : Field '_service' in type 'Query' is undefined"));
    // graphql-ruby and Hasura.
    assert!(says("Field '_service' doesn't exist on type 'Query'"));
    assert!(says("field '_service' not found in type: 'query_root'"));
    assert!(!says("_service failed: database is down"));
    assert!(!says("Cannot query field \"users\" on type \"Query\"."));
    assert!(!FetchProblem::MissingSdl.means_not_federation());
    assert!(!FetchProblem::EmptySdl.means_not_federation());
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
        error.to_string().starts_with(
            "subgraph `accounts` at http://a:4001/graphql: the answer has no `data._service.sdl`"
        ),
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
                ..SubgraphSdl::default()
            },
            SubgraphSdl {
                name: "accounts".into(),
                url: Some(format!("http://{address}/ok")),
                sdl: ACCOUNTS_SDL.into(),
                ..SubgraphSdl::default()
            },
            // The file wins over fetching; the url is still where queries go.
            SubgraphSdl {
                name: "pinned".into(),
                url: Some(format!("http://{address}/500")),
                sdl: "type Query { events: [String] }".into(),
                ..SubgraphSdl::default()
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
