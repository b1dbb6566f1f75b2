//! Result coercion: a value a subgraph sends that does not fit its field's type is null with a
//! `RESPONSE_VALIDATION_FAILED` error at its client path, and the null propagates as any other.
//! The subgraph here is hand-written so it can answer what async-graphql never would.

mod common;
mod support;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use serde_json::{json, Value};

use common::TestGateway;
use support::scripted;

const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

scalar JSON

enum Color { RED GREEN }

type Item {
  name: String
  count: Int
  ratio: Float
  flag: Boolean
  id: ID
  color: Color
  tags: [String]
  json: JSON
  must: String!
  child: Item
}

type Query {
  item: Item
  items: [Item!]
}
"#;

/// A gateway in front of a subgraph that answers every query with `data`.
async fn gateway_answering(data: Value) -> TestGateway {
    let subgraph = scripted(SDL, move |_| json!({ "data": data.clone() }));
    TestGateway::compose(vec![("items", subgraph)]).await
}

fn codes_and_paths(response: &Value) -> Vec<(String, Value)> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                        e["path"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The errors' codes and paths, ordered by path.
fn sorted_codes_and_paths(response: &Value) -> Vec<(String, Value)> {
    let mut found = codes_and_paths(response);
    found.sort_by_key(|(_, path)| path.to_string());
    found
}

#[tokio::test]
async fn values_that_do_not_fit_the_field_type_are_null_with_an_error_at_their_path() {
    // (field, what the subgraph sends): none of these is a value of the field's type.
    let wrong = [
        ("name", json!({ "secret": "internal" })),
        ("name", json!(["a"])),
        ("name", json!(12)),
        ("name", json!(true)),
        ("count", json!("12")),
        ("count", json!(1.5)),
        ("count", json!(2147483648_i64)),
        ("count", json!(-2147483649_i64)),
        ("count", json!({ "n": 1 })),
        ("ratio", json!("1.5")),
        ("ratio", json!(false)),
        ("flag", json!("true")),
        ("flag", json!(1)),
        ("id", json!(1.5)),
        ("id", json!(false)),
        ("id", json!({ "id": 1 })),
        ("color", json!("BLUE")),
        ("color", json!(1)),
        ("tags", json!("not a list")),
        ("tags", json!([{ "x": 1 }])),
        ("child", json!("an object was expected")),
    ];
    for (field, value) in wrong {
        let gw = gateway_answering(json!({ "item": { field: value.clone() } })).await;
        let selection = if field == "child" {
            "child { name }"
        } else {
            field
        };
        let response = gw.query(&format!("{{ item {{ {selection} }} }}")).await;
        let text = response.to_string();
        let mut expected_path = json!(["item", field]);
        if field == "tags" && value.is_array() {
            expected_path = json!(["item", "tags", 0]);
        }
        assert_eq!(
            codes_and_paths(&response),
            vec![("RESPONSE_VALIDATION_FAILED".to_owned(), expected_path)],
            "{field} = {value}: {text}"
        );
        if field == "tags" && value.is_array() {
            assert_eq!(
                response["data"],
                json!({ "item": { "tags": [null] } }),
                "{text}"
            );
        } else {
            assert_eq!(
                response["data"],
                json!({ "item": { field: null } }),
                "{text}"
            );
        }
        // The client learns what was expected, not what the subgraph sent.
        for leaked in [
            "secret",
            "internal",
            "BLUE",
            "not a list",
            "an object was expected",
        ] {
            assert!(!text.contains(leaked), "{field} = {value}: {text}");
        }
    }
}

#[tokio::test]
async fn values_of_the_field_type_pass_unchanged_and_an_integer_id_becomes_a_string() {
    let gw = gateway_answering(json!({ "item": {
        "name": "Chair",
        "count": -2147483648_i64,
        "ratio": 3,
        "flag": false,
        "id": 42,
        "color": "GREEN",
        "tags": ["a", null, "c"],
        "json": { "any": ["shape", 1, null] },
        "must": "here",
        "child": null,
    } }))
    .await;
    let response = gw
        .query("{ item { name count ratio flag id color tags json must child { name } } }")
        .await;
    assert_eq!(
        response,
        json!({ "data": { "item": {
            "name": "Chair",
            "count": -2147483648_i64,
            "ratio": 3,
            "flag": false,
            "id": "42",
            "color": "GREEN",
            "tags": ["a", null, "c"],
            "json": { "any": ["shape", 1, null] },
            "must": "here",
            "child": null,
        } } })
    );
    let gw = gateway_answering(json!({ "item": { "id": "abc", "ratio": 2.5e-3 } })).await;
    let response = gw.query("{ item { id ratio } }").await;
    assert_eq!(
        response,
        json!({ "data": { "item": { "id": "abc", "ratio": 0.0025 } } })
    );
    // A 64-bit unsigned snowflake as an integer is an ID too.
    let gw = gateway_answering(json!({ "item": { "id": 18446744073709551615_u64 } })).await;
    let response = gw.query("{ item { id } }").await;
    assert_eq!(
        response,
        json!({ "data": { "item": { "id": "18446744073709551615" } } })
    );
}

#[tokio::test]
async fn custom_scalar_objects_keep_their_key_order_both_ways() {
    // A JSON scalar is opaque to GraphQL: the object a client sends reaches the subgraph as
    // written, and the one the subgraph answers reaches the client as written. Checked on the
    // raw texts, so no JSON library's map order can hide a reordering.
    let sent = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = sent.clone();
    let handler = move |body: Bytes| {
        let seen = seen.clone();
        async move {
            let text = String::from_utf8_lossy(&body).into_owned();
            let answer = if text.contains("_service") {
                json!({ "data": { "_service": { "sdl": ECHO_SDL } } }).to_string()
            } else {
                seen.lock().unwrap().push(text);
                r#"{"data":{"echo":{"zeta":1,"alpha":{"yak":2,"bee":[{"z":0,"a":1}]}}}}"#.to_owned()
            };
            ([("content-type", "application/json")], answer)
        }
    };
    let subgraph = axum::Router::new().route("/graphql", axum::routing::post(handler));
    let gw = TestGateway::compose(vec![("echo", subgraph)]).await;
    let body = r#"{"query":"query($v: JSON) { echo(value: $v) }",
                   "variables":{"v":{"zeta":1,"alpha":{"yak":2,"bee":[{"z":0,"a":1}]}}}}"#;
    let response = gw
        .client
        .post(&gw.url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway reachable");
    let text = response.text().await.expect("body");
    let written = r#"{"zeta":1,"alpha":{"yak":2,"bee":[{"z":0,"a":1}]}}"#;
    assert_eq!(text, format!(r#"{{"data":{{"echo":{written}}}}}"#));
    let requests = sent.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request: Value = serde_json::from_str(&requests[0]).expect("JSON request");
    let variable = request["variables"]
        .as_object()
        .and_then(|v| v.values().next())
        .map(|v| v.to_string());
    assert!(
        requests[0].contains(written),
        "the subgraph got {} ({variable:?})",
        requests[0]
    );
}

const ECHO_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
scalar JSON
type Query { echo(value: JSON): JSON }
"#;

#[tokio::test]
async fn an_invalid_value_in_a_non_null_field_nulls_the_nearest_nullable_parent() {
    // `must: String!` inside `items: [Item!]`: the item cannot be null, so the list is.
    let gw = gateway_answering(json!({
        "item": { "name": "kept", "must": { "nested": true } },
        "items": [
            { "must": "fine" },
            { "must": 7 },
        ],
    }))
    .await;
    let response = gw.query("{ item { name must } items { must } }").await;
    assert_eq!(
        response["data"],
        json!({ "item": null, "items": null }),
        "{response}"
    );
    assert_eq!(
        sorted_codes_and_paths(&response),
        vec![
            (
                "RESPONSE_VALIDATION_FAILED".to_owned(),
                json!(["item", "must"])
            ),
            (
                "RESPONSE_VALIDATION_FAILED".to_owned(),
                json!(["items", 1, "must"])
            ),
        ],
        "{response}"
    );
}

#[tokio::test]
async fn coercion_follows_aliases_fragments_and_nesting() {
    let gw = gateway_answering(json!({
        "item": {
            "label": "ok",
            "count": "seven",
            "child": { "child": { "flag": "yes", "name": "deep" } },
        }
    }))
    .await;
    // The subgraph answers under the response keys the gateway asked for.
    let response = gw
        .query(
            "{ item { label: name ...F child { child { ... on Item { flag name } } } } }
             fragment F on Item { count }",
        )
        .await;
    assert_eq!(
        response["data"],
        json!({ "item": {
            "label": "ok",
            "count": null,
            "child": { "child": { "flag": null, "name": "deep" } },
        } }),
        "{response}"
    );
    assert_eq!(
        sorted_codes_and_paths(&response),
        vec![
            (
                "RESPONSE_VALIDATION_FAILED".to_owned(),
                json!(["item", "child", "child", "flag"])
            ),
            (
                "RESPONSE_VALIDATION_FAILED".to_owned(),
                json!(["item", "count"])
            ),
        ],
        "{response}"
    );
}
