//! What a plain service's schema keeps through introspection and composition: deprecated
//! arguments and input fields, `@oneOf` inputs (enforced by Seam), `@specifiedBy` scalars and
//! deeply wrapped types; and the older introspection query for servers that refuse the newer
//! fields.

mod common;
mod support;

use std::path::Path;

use async_graphql::{
    EmptyMutation, EmptySubscription, InputObject, Object, OneofObject, Scalar, ScalarType, Schema,
    Value as GqlValue,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{recording, spawn_router, TestGateway, TestSubgraph};
use support::graphql_router;

/// A date as `YYYY-MM-DD` text.
struct Day(String);

#[Scalar(specified_by_url = "https://example.com/day")]
impl ScalarType for Day {
    fn parse(value: GqlValue) -> async_graphql::InputValueResult<Self> {
        match value {
            GqlValue::String(text) => Ok(Day(text)),
            other => Err(async_graphql::InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::String(self.0.clone())
    }
}

#[derive(OneofObject)]
enum UserBy {
    Id(String),
    Name(String),
}

#[derive(InputObject)]
struct Filter {
    prefix: Option<String>,
    #[graphql(deprecation = "use prefix")]
    starts: Option<String>,
}

struct Query;

#[Object]
impl Query {
    async fn greeting(
        &self,
        name: Option<String>,
        #[graphql(deprecation = "ignored now")] loud: Option<bool>,
    ) -> String {
        let greeting = format!("hello {}", name.unwrap_or_default());
        if loud == Some(true) {
            greeting.to_uppercase()
        } else {
            greeting
        }
    }

    async fn user(&self, by: UserBy) -> String {
        match by {
            UserBy::Id(id) => format!("user #{id}"),
            UserBy::Name(name) => format!("user {name}"),
        }
    }

    async fn names(&self, filter: Option<Filter>) -> Vec<String> {
        let filter = filter.unwrap_or(Filter {
            prefix: None,
            starts: None,
        });
        let start = filter.prefix.or(filter.starts).unwrap_or_default();
        ["ada", "brian", "alan"]
            .into_iter()
            .filter(|n| n.starts_with(start.as_str()))
            .map(str::to_owned)
            .collect()
    }

    async fn today(&self) -> Day {
        Day("2026-12-05".into())
    }

    async fn grid(&self) -> Vec<Vec<Vec<Vec<i32>>>> {
        vec![vec![vec![vec![1, 2], vec![3]]]]
    }
}

fn service() -> Router {
    graphql_router(Schema::new(Query, EmptyMutation, EmptySubscription))
}

/// The same service behind a front that refuses, as a server from before the October 2021 spec
/// would, any query naming `specifiedByURL`, `isOneOf` or deprecated arguments.
fn older_service() -> Router {
    let inner = service();
    Router::new().fallback(move |request: Request<Body>| {
        let inner = inner.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            if text.contains("specifiedByURL") || text.contains("isOneOf") {
                let refusal = json!({ "errors": [{
                    "message": "Cannot query field \"specifiedByURL\" on type \"__Type\"."
                }] });
                return (StatusCode::BAD_REQUEST, axum::Json(refusal)).into_response();
            }
            match inner
                .oneshot(Request::from_parts(parts, Body::from(bytes)))
                .await
            {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

async fn gateway(router: Router) -> TestGateway {
    let (router, requests) = recording(router);
    let addr = spawn_router(router).await;
    let url = format!("http://{addr}/graphql");
    let yaml = format!("subgraphs:\n  - name: people\n    url: {url}\n");
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("the plain service composes");
    let addr = spawn_router(seam::http::router(gateway)).await;
    let gateway = TestGateway {
        url: format!("http://{addr}/graphql"),
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        subgraphs: vec![TestSubgraph {
            name: "people".into(),
            url,
            requests,
        }],
    };
    gateway.clear_requests();
    gateway
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

#[tokio::test]
async fn deprecated_arguments_and_input_fields_stay_usable_and_marked() {
    let gateway = gateway(service()).await;
    let answer = gateway
        .query(r#"{ greeting(name: "ada", loud: true) names(filter: { starts: "a" }) }"#)
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "greeting": "HELLO ADA", "names": ["ada", "alan"] } })
    );
    let answer = gateway
        .query(
            r#"{ query: __type(name: "Query") { fields { name
                   args(includeDeprecated: true) { name isDeprecated deprecationReason } } }
                 filter: __type(name: "Filter") {
                   inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } }
                 shown: __type(name: "Filter") { inputFields { name } } }"#,
        )
        .await;
    let greeting = answer["data"]["query"]["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == "greeting"))
        .unwrap_or_else(|| panic!("no greeting field: {answer}"));
    assert_eq!(
        greeting["args"],
        json!([
            { "name": "name", "isDeprecated": false, "deprecationReason": null },
            { "name": "loud", "isDeprecated": true, "deprecationReason": "ignored now" },
        ]),
        "{answer}"
    );
    assert_eq!(
        answer["data"]["filter"]["inputFields"],
        json!([
            { "name": "prefix", "isDeprecated": false, "deprecationReason": null },
            { "name": "starts", "isDeprecated": true, "deprecationReason": "use prefix" },
        ]),
        "{answer}"
    );
    assert_eq!(
        answer["data"]["shown"]["inputFields"],
        json!([{ "name": "prefix" }]),
        "{answer}"
    );
}

#[tokio::test]
async fn one_of_inputs_are_enforced_before_the_service_is_called() {
    let gateway = gateway(service()).await;
    let answer = gateway.query(r#"{ user(by: { id: "7" }) }"#).await;
    assert_eq!(answer, json!({ "data": { "user": "user #7" } }));
    let answer = gateway
        .query_with(
            "query ($by: UserBy!) { user(by: $by) }",
            json!({ "by": { "name": "ada" } }),
        )
        .await;
    assert_eq!(answer, json!({ "data": { "user": "user ada" } }));
    gateway.clear_requests();

    let answer = gateway
        .query(r#"{ user(by: { id: "7", name: "ada" }) }"#)
        .await;
    assert_eq!(code(&answer), "GRAPHQL_VALIDATION_FAILED", "{answer}");
    let answer = gateway
        .query_with(
            "query ($by: UserBy!) { user(by: $by) }",
            json!({ "by": { "id": "7", "name": "ada" } }),
        )
        .await;
    assert!(answer["errors"][0]["message"].is_string(), "{answer}");
    assert!(answer.get("data").is_none_or(Value::is_null), "{answer}");
    assert!(
        gateway.requests_to("people").is_empty(),
        "the service was called"
    );
}

#[tokio::test]
async fn specified_by_urls_and_deeply_wrapped_types_come_through() {
    let gateway = gateway(service()).await;
    let type_ref = (0..9).fold("kind name".to_owned(), |inner, _| {
        format!("kind ofType {{ {inner} }}")
    });
    let answer = gateway
        .query(&format!(
            r#"{{ today grid __type(name: "Day") {{ specifiedByURL }}
                 q: __type(name: "Query") {{ fields {{ name type {{ {type_ref} }} }} }} }}"#
        ))
        .await;
    assert_eq!(answer["data"]["today"], "2026-12-05", "{answer}");
    assert_eq!(answer["data"]["grid"], json!([[[[1, 2], [3]]]]), "{answer}");
    assert_eq!(
        answer["data"]["__type"]["specifiedByURL"], "https://example.com/day",
        "{answer}"
    );
    let grid = answer["data"]["q"]["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == "grid"))
        .unwrap_or_else(|| panic!("no grid field: {answer}"));
    // [[[[Int!]!]!]!]!: nine wrappers around Int.
    let mut ty = &grid["type"];
    for _ in 0..9 {
        ty = &ty["ofType"];
    }
    assert_eq!(ty["name"], "Int", "{answer}");
}

/// A server that refuses the newer introspection fields is asked again with the older query:
/// it composes, without what that query cannot see.
#[tokio::test]
async fn a_server_refusing_newer_introspection_fields_gets_the_older_query() {
    let gateway = gateway(older_service()).await;
    let answer = gateway
        .query(r#"{ greeting(name: "ada") today grid }"#)
        .await;
    assert_eq!(
        answer,
        json!({ "data": {
            "greeting": "hello ada", "today": "2026-12-05", "grid": [[[[1, 2], [3]]]]
        } })
    );
    let answer = gateway
        .query(r#"{ __type(name: "Day") { specifiedByURL } }"#)
        .await;
    assert_eq!(answer["data"]["__type"]["specifiedByURL"], Value::Null);
}
