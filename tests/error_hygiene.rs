//! What clients learn when things go wrong, and what they never learn: a subgraph's failure is
//! named with the subgraph and its status, never its body, its URL or the HTTP library's words;
//! a subgraph's GraphQL errors pass with message, path and code, shaped by `subgraph_errors`;
//! variable errors never repeat the value; introspection can be switched off; demand control
//! refuses expensive operations before any subgraph is called.

mod common;
mod support;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use common::TestGateway;
use support::{closed_port_url, representations, scripted};

const CATALOG: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { products: [Product!]! count(n: Int!): Int }
type Product @key(fields: "upc") { upc: ID! name: String }
"#;

const SHIPPING: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "upc") { upc: ID! eta: Int }
"#;

fn catalog() -> Router {
    scripted(CATALOG, |request| {
        let query = request["query"].as_str().unwrap_or_default();
        if query.contains("count") {
            return json!({ "data": { "count": request["variables"]["n"] } });
        }
        json!({ "data": { "products": [
            { "upc": "1", "name": "Table" },
            { "upc": "2", "name": "Chair" },
        ] } })
    })
}

/// Shipping answers every entity with a GraphQL error carrying internals in its extensions.
fn shipping_with_errors() -> Router {
    scripted(SHIPPING, |request| {
        let count = representations(request).len();
        let nulls: Vec<Value> = (0..count).map(|_| Value::Null).collect();
        json!({
            "data": { "_entities": nulls },
            "errors": [{
                "message": "eta service unreachable at 10.1.2.3",
                "locations": [{ "line": 1, "column": 40 }],
                "path": ["_entities", 0, "eta"],
                "extensions": {
                    "code": "ETA_DOWN",
                    "stacktrace": ["at eta.rs:12"],
                    "host": "10.1.2.3",
                },
            }],
        })
    })
}

/// Shipping composes, then answers every other request with `status` and a body full of secrets.
fn shipping_failing_with(status: StatusCode) -> Router {
    let sdl = SHIPPING.to_owned();
    Router::new().route(
        "/graphql",
        post(move |body: Bytes| {
            let sdl = sdl.clone();
            async move {
                let text = String::from_utf8_lossy(&body);
                if text.contains("_service") {
                    let answer = json!({ "data": { "_service": { "sdl": sdl } } });
                    return (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        answer.to_string(),
                    )
                        .into_response();
                }
                (
                    status,
                    "panic: connection to postgres://admin:hunter2@db.internal:5432 failed",
                )
                    .into_response()
            }
        }),
    )
}

const QUERY: &str = "{ products { upc name eta } }";

/// A subgraph that composes, then gives every other request `answer(request)` as a GraphQL
/// body with `status`.
fn graphql_with_status(
    sdl: &'static str,
    status: StatusCode,
    answer: fn(&Value) -> Value,
) -> Router {
    Router::new().route(
        "/graphql",
        post(move |body: Bytes| async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or_default();
            let query = request["query"].as_str().unwrap_or_default();
            let (status, answer) = if query.contains("_service") {
                (
                    StatusCode::OK,
                    json!({ "data": { "_service": { "sdl": sdl } } }),
                )
            } else {
                (status, answer(&request))
            };
            (
                status,
                [("content-type", "application/json")],
                answer.to_string(),
            )
                .into_response()
        }),
    )
}

/// The client's errors of code `code`.
fn with_code<'a>(response: &'a Value, code: &str) -> Vec<&'a Value> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["extensions"]["code"] == code)
        .collect()
}

#[tokio::test]
async fn a_graphql_answer_with_an_http_error_status_is_used_and_the_status_reported() {
    for status in [
        StatusCode::BAD_REQUEST,
        StatusCode::UNAUTHORIZED,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
    ] {
        // The entity fetch to shipping comes back with the status, some data and an error.
        let shipping = graphql_with_status(SHIPPING, status, |request| {
            let count = representations(request).len();
            let mut entities: Vec<Value> = (0..count).map(|i| json!({ "eta": i })).collect();
            entities[0] = Value::Null;
            json!({
                "data": { "_entities": entities },
                "errors": [{ "message": "no eta", "path": ["_entities", 0, "eta"],
                             "extensions": { "code": "NO_ETA" } }],
            })
        });
        let gw = TestGateway::compose(vec![("catalog", catalog()), ("shipping", shipping)]).await;
        let response = gw.query(QUERY).await;
        assert_eq!(response["data"]["products"][1]["eta"], 1, "{response}");
        assert_eq!(response["data"]["products"][0]["eta"], Value::Null);
        let own = with_code(&response, "NO_ETA");
        assert_eq!(own.len(), 1, "{response}");
        assert_eq!(own[0]["path"], json!(["products", 0, "eta"]));
        let http = with_code(&response, "SUBREQUEST_HTTP_ERROR");
        assert_eq!(http.len(), 1, "one per call: {response}");
        assert_eq!(http[0]["extensions"]["service"], "shipping");
        assert_eq!(http[0]["extensions"]["http"]["status"], status.as_u16());
        assert!(http[0].get("path").is_none(), "{response}");
    }
}

#[tokio::test]
async fn a_root_fetch_with_an_http_error_status_keeps_its_data_and_errors() {
    // A root field answered with 500: its data and error pass, and the status is reported;
    // an answer of 200 beside it adds nothing.
    let catalog = graphql_with_status(CATALOG, StatusCode::INTERNAL_SERVER_ERROR, |_| {
        json!({
            "data": { "products": [{ "upc": "1", "name": null }] },
            "errors": [{ "message": "name lost", "path": ["products", 0, "name"] }],
        })
    });
    let shipping = scripted(SHIPPING, |request| {
        let count = representations(request).len();
        json!({ "data": { "_entities": (0..count).map(|_| json!({ "eta": 3 })).collect::<Vec<_>>() } })
    });
    let gw = TestGateway::compose(vec![("catalog", catalog), ("shipping", shipping)]).await;
    let response = gw.query(QUERY).await;
    assert_eq!(
        response["data"],
        json!({ "products": [{ "upc": "1", "name": null, "eta": 3 }] }),
        "{response}"
    );
    let errors = response["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 2, "{response}");
    assert_eq!(
        errors
            .iter()
            .filter(|e| e["path"] == json!(["products", 0, "name"]))
            .count(),
        1
    );
    let http = with_code(&response, "SUBREQUEST_HTTP_ERROR");
    assert_eq!(http.len(), 1, "{response}");
    assert_eq!(http[0]["extensions"]["service"], "catalog");
    assert_eq!(http[0]["extensions"]["http"]["status"], 500);
}

fn messages(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e.to_string())
        .collect()
}

#[tokio::test]
async fn a_failing_subgraph_is_named_with_its_status_but_its_body_and_url_stay_private() {
    for status in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY] {
        let gw = TestGateway::compose(vec![
            ("catalog", catalog()),
            ("shipping", shipping_failing_with(status)),
        ])
        .await;
        let shipping_url = gw.subgraph("shipping").url.clone();
        let response = gw.query(QUERY).await;
        assert_eq!(
            response["data"]["products"][0]["name"], "Table",
            "{response}"
        );
        assert_eq!(response["data"]["products"][0]["eta"], Value::Null);
        let errors = messages(&response);
        assert!(!errors.is_empty(), "{response}");
        for error in &errors {
            for secret in ["hunter2", "db.internal", "postgres", "panic", &shipping_url] {
                assert!(!error.contains(secret), "{secret} leaked: {error}");
            }
        }
        let first = &response["errors"][0];
        assert_eq!(first["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
        assert_eq!(first["extensions"]["service"], "shipping");
        assert_eq!(first["extensions"]["http"]["status"], status.as_u16());
        assert!(
            first["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&status.as_u16().to_string()),
            "{first}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_subgraph_is_reported_without_addresses_or_socket_errors() {
    let closed = closed_port_url().await;
    let sdls = [("catalog", CATALOG), ("shipping", SHIPPING)].map(|(name, sdl)| {
        seam::sources::SubgraphSdl {
            name: name.into(),
            url: Some(closed.clone()),
            sdl: sdl.into(),
            ..Default::default()
        }
    });
    let supergraph = seam::compose::compose(&sdls).expect("composes");
    // Catalog runs (its URL is replaced by the running one); shipping keeps the closed port.
    let gw = TestGateway::supergraph(&supergraph, vec![("catalog", catalog())]).await;
    let response = gw.query(QUERY).await;
    assert_eq!(
        response["data"]["products"][1]["name"], "Chair",
        "{response}"
    );
    let port = closed
        .trim_end_matches("/graphql")
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let errors = messages(&response);
    assert!(!errors.is_empty(), "{response}");
    for error in errors {
        for secret in [
            "127.0.0.1",
            "refused",
            "tcp connect",
            "reqwest",
            "error sending",
            &port,
        ] {
            assert!(!error.contains(secret), "{secret} leaked: {error}");
        }
        assert!(error.contains("could not connect"), "{error}");
    }
}

#[tokio::test]
async fn subgraph_errors_pass_with_message_path_and_code_only() {
    let gw = TestGateway::compose(vec![
        ("catalog", catalog()),
        ("shipping", shipping_with_errors()),
    ])
    .await;
    let response = gw.query(QUERY).await;
    assert_eq!(
        response["errors"],
        json!([{
            "message": "eta service unreachable at 10.1.2.3",
            "path": ["products", 0, "eta"],
            "extensions": { "code": "ETA_DOWN" },
        }]),
        "{response}"
    );
}

#[tokio::test]
async fn subgraph_error_policy_redacts_and_keeps_extensions_per_subgraph() {
    let gw = TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("shipping", shipping_with_errors())],
        "",
        "subgraph_errors:\n  all:\n    keep_extensions: true\n  subgraphs:\n    shipping:\n      redact_message: true\n",
    )
    .await;
    let response = gw.query(QUERY).await;
    let error = &response["errors"][0];
    assert_eq!(
        error["message"], "subgraph error (message redacted)",
        "{response}"
    );
    assert_eq!(error["extensions"]["stacktrace"], json!(["at eta.rs:12"]));
    assert_eq!(error["path"], json!(["products", 0, "eta"]));
    assert!(error.get("locations").is_none(), "{response}");

    let keep_only = TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("shipping", shipping_with_errors())],
        "",
        "subgraph_errors:\n  all:\n    redact_message: true\n  subgraphs:\n    shipping:\n      redact_message: false\n",
    )
    .await;
    let response = keep_only.query(QUERY).await;
    assert_eq!(
        response["errors"][0]["message"], "eta service unreachable at 10.1.2.3",
        "the subgraph's own setting wins over `all`: {response}"
    );
}

#[tokio::test]
async fn variable_errors_name_the_variable_and_type_but_never_the_value() {
    let gw = TestGateway::compose(vec![
        ("catalog", catalog()),
        ("shipping", shipping_with_errors()),
    ])
    .await;
    let secret = "sk_live_0123456789";
    let (_, response) = gw
        .post(json!({
            "query": "query($n: Int!) { count(n: $n) }",
            "variables": { "n": secret },
        }))
        .await;
    let error = &response["errors"][0];
    assert_eq!(
        error["extensions"]["code"],
        "VALIDATION_INVALID_TYPE_VARIABLE"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("$n") && message.contains("Int"),
        "{message}"
    );
    assert!(!response.to_string().contains(secret), "{response}");
    assert_eq!(gw.total_requests(), 0);

    // Defaults apply to absent variables, including one used where a non-null value is needed.
    let (_, response) = gw
        .post(json!({ "query": "query($n: Int = 7) { count(n: $n) }" }))
        .await;
    assert_eq!(response, json!({ "data": { "count": 7 } }));
}

#[tokio::test]
async fn introspection_can_be_switched_off_while_typename_keeps_working() {
    let on = TestGateway::compose(vec![
        ("catalog", catalog()),
        ("shipping", shipping_with_errors()),
    ])
    .await;
    let response = on.query("{ __type(name: \"Product\") { name } }").await;
    assert_eq!(response["data"]["__type"]["name"], "Product", "{response}");

    let off = TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("shipping", shipping_with_errors())],
        "",
        "introspection: false\n",
    )
    .await;
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Product\") { name } }",
        "query { ...Peek } fragment Peek on Query { __schema { types { name } } }",
        "{ products { upc } ... on Query { __type(name: \"Query\") { name } } }",
    ] {
        let response = off.query(query).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED",
            "{query}: {response}"
        );
        assert!(response.get("data").is_none(), "{response}");
    }
    assert_eq!(off.total_requests(), 0);
    let response = off
        .query("{ __typename products { __typename upc } }")
        .await;
    assert_eq!(response["data"]["__typename"], "Query", "{response}");
    assert_eq!(response["data"]["products"][0]["__typename"], "Product");
}

#[tokio::test]
async fn demand_control_refuses_expensive_operations_before_any_subgraph_call() {
    let gw = TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("shipping", shipping_with_errors())],
        "",
        "limits:\n  cost:\n    max: 5\n    list_size: 10\n",
    )
    .await;
    // A list of 10 assumed products, each object costing 1: 10 > 5.
    let response = gw.query("{ products { upc name } }").await;
    let error = &response["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE",
        "{response}"
    );
    assert!(response.get("data").is_none());
    assert_eq!(gw.total_requests(), 0);
    // A cheap one runs.
    let response = gw
        .query_with("query($n: Int!) { count(n: $n) }", json!({ "n": 3 }))
        .await;
    assert_eq!(response, json!({ "data": { "count": 3 } }));

    let exposed = TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("shipping", shipping_with_errors())],
        "",
        "limits:\n  cost:\n    list_size: 2\n    expose: true\n",
    )
    .await;
    let response = exposed.query("{ products { upc name } }").await;
    assert_eq!(response["data"]["products"][1]["upc"], "2", "{response}");
    // Two assumed products, each object costing 1.
    assert_eq!(response["extensions"]["cost.estimated"], 2.0, "{response}");
}
