//! Cases found in review: corners of planning, execution and shaping a user would hit.

mod common;
mod support;

use serde_json::{json, Value};

use common::TestGateway;
use support::{representations, scripted};

/// Asserts the response has no errors and returns its data.
fn data(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response}"
    );
    &response["data"]
}

/// Renames `from` to `to` in every object of `list`.
fn rename_in_list(list: &Value, from: &str, to: &str) -> Value {
    let items = list.as_array().expect("a list");
    Value::Array(
        items
            .iter()
            .map(|item| {
                let mut object = item.as_object().expect("an object").clone();
                let value = object.remove(from).expect("the key");
                let mut out = serde_json::Map::new();
                out.insert(to.to_owned(), value);
                for (k, v) in object {
                    out.insert(k, v);
                }
                Value::Object(out)
            })
            .collect(),
    )
}

#[tokio::test]
async fn client_alias_equal_to_a_key_field_the_planner_adds() {
    let gw = TestGateway::demo().await;
    let plain = gw
        .query("{ topProducts(first: 3) { name shippingEstimate } }")
        .await;
    let expected = rename_in_list(&data(&plain)["topProducts"], "name", "upc");
    let response = gw
        .query("{ topProducts(first: 3) { upc: name shippingEstimate } }")
        .await;
    assert_eq!(data(&response)["topProducts"], expected, "{response}");
}

#[tokio::test]
async fn client_alias_equal_to_a_requires_field_the_planner_adds() {
    let gw = TestGateway::demo().await;
    let plain = gw
        .query("{ topProducts(first: 3) { name shippingEstimate } }")
        .await;
    let expected = rename_in_list(&data(&plain)["topProducts"], "name", "price");
    let response = gw
        .query("{ topProducts(first: 3) { price: name shippingEstimate } }")
        .await;
    assert_eq!(data(&response)["topProducts"], expected, "{response}");
}

#[tokio::test]
async fn aliased_typename_next_to_an_entity_jump() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 2) { kind: __typename upc inStock } }")
        .await;
    let list = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(list.len(), 2, "{response}");
    for item in list {
        assert_eq!(item["kind"], "Product", "{response}");
        assert!(item["inStock"].is_boolean(), "{response}");
        assert!(item.get("__typename").is_none(), "{response}");
    }
}

#[tokio::test]
async fn introspection_reached_through_a_fragment() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            "query { ...Meta me { name } } \
             fragment Meta on Query { __schema { queryType { name } } t: __type(name: \"User\") { name } }",
        )
        .await;
    let d = data(&response);
    assert_eq!(d["__schema"], json!({ "queryType": { "name": "Query" } }));
    assert_eq!(d["t"], json!({ "name": "User" }));
    assert!(d["me"]["name"].is_string(), "{response}");
}

#[tokio::test]
async fn operation_name_picks_one_of_several_operations() {
    let gw = TestGateway::demo().await;
    let document = "query A { me { name } } query B($n: Int) { topProducts(first: $n) { upc } }";
    let (_, a) = gw
        .post(json!({ "query": document, "operationName": "A" }))
        .await;
    assert!(data(&a)["me"]["name"].is_string(), "{a}");
    assert!(data(&a).get("topProducts").is_none(), "{a}");
    let (_, b) = gw
        .post(json!({ "query": document, "operationName": "B", "variables": { "n": 2 } }))
        .await;
    assert_eq!(
        data(&b)["topProducts"].as_array().map(Vec::len),
        Some(2),
        "{b}"
    );
    assert!(data(&b).get("me").is_none(), "{b}");
}

#[tokio::test]
async fn variables_used_only_inside_fragments() {
    let gw = TestGateway::demo().await;
    let query = "query($n: Int, $skip: Boolean!) { topProducts(first: $n) { ...P } } \
                 fragment P on Product { upc reviews @skip(if: $skip) { ...R } } \
                 fragment R on Review { author { name } }";
    let response = gw.query_with(query, json!({ "n": 2, "skip": false })).await;
    let list = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(list.len(), 2, "{response}");
    assert!(list[0]["reviews"].is_array(), "{response}");
    let response = gw.query_with(query, json!({ "n": 2, "skip": true })).await;
    let list = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(list.len(), 2, "{response}");
    assert!(list[0].get("reviews").is_none(), "{response}");
}

#[tokio::test]
async fn skipped_field_whose_subfields_need_entity_fetches_costs_no_fetch() {
    let gw = TestGateway::demo().await;
    let query = "query($s: Boolean!) { topProducts(first: 2) { upc reviews @skip(if: $s) { author { name } } } }";
    gw.clear_requests();
    let response = gw.query_with(query, json!({ "s": true })).await;
    assert_eq!(
        data(&response)["topProducts"],
        json!([{ "upc": "1" }, { "upc": "2" }]),
        "{response}"
    );
    assert!(gw.requests_to("reviews").is_empty());
    assert!(gw.requests_to("accounts").is_empty());
}

#[tokio::test]
async fn mutation_then_query_fields_of_the_same_subgraph_keep_order() {
    let gw = TestGateway::demo().await;
    let (_, response) = gw
        .post(json!({
            "query": "mutation { a: setPrice(upc: \"1\", price: 111) { price } b: setPrice(upc: \"1\", price: 222) { price shippingEstimate } }"
        }))
        .await;
    assert_eq!(data(&response)["a"]["price"], 111, "{response}");
    assert_eq!(data(&response)["b"]["price"], 222, "{response}");
}

const GRID_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
scalar Big
type Query { grid: [[Item]] text: String big: Big huge: Float }
type Item @key(fields: "id") { id: ID }
"#;

const LABELS_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Item @key(fields: "id") { id: ID label: String }
"#;

/// The grid subgraph answers exact text: a JSON value would lose the big number's digits.
fn grid_router() -> axum::Router {
    const ANSWER: &str = r#"{ "data": {
        "grid": [[{"__typename":"Item","id":"1"},{"__typename":"Item","id":"2"}],
                 [null,{"__typename":"Item","id":"3"},{"__typename":"Item","id":null}],
                 null],
        "text": "caf\u00e9 \ud83d\ude00 \"q\" \\ \n tab\t ☃",
        "big": 123456789012345678901234567890,
        "huge": 1.5e300
    } }"#;
    let handler = |body: axum::body::Bytes| async move {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = if request["query"].as_str().unwrap_or("").contains("_service") {
            json!({ "data": { "_service": { "sdl": GRID_SDL } } }).to_string()
        } else {
            ANSWER.to_owned()
        };
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
    };
    axum::Router::new().route("/graphql", axum::routing::post(handler))
}

fn labels_router() -> axum::Router {
    scripted(LABELS_SDL, |request| {
        let entities: Vec<Value> = representations(request)
            .iter()
            .map(|rep| match rep["id"].as_str() {
                // Item 3 is unknown to this subgraph.
                Some("3") => Value::Null,
                Some(id) => json!({ "__typename": "Item", "label": format!("ä-{id}") }),
                None => Value::Null,
            })
            .collect();
        json!({ "data": { "_entities": entities } })
    })
}

#[tokio::test]
async fn lists_of_lists_of_entities_with_nulls_and_null_keys() {
    let gw = TestGateway::compose(vec![("grid", grid_router()), ("labels", labels_router())]).await;
    let response = gw.query("{ grid { id label } }").await;
    assert_eq!(
        data(&response)["grid"],
        json!([
            [{ "id": "1", "label": "ä-1" }, { "id": "2", "label": "ä-2" }],
            [null, { "id": "3", "label": null }, { "id": null, "label": null }],
            null,
        ]),
        "{response}"
    );
    let reps: Vec<Value> = gw
        .requests_to("labels")
        .iter()
        .flat_map(representations)
        .collect();
    assert_eq!(
        reps,
        vec![
            json!({ "__typename": "Item", "id": "1" }),
            json!({ "__typename": "Item", "id": "2" }),
            json!({ "__typename": "Item", "id": "3" }),
        ]
    );
}

#[tokio::test]
async fn escapes_non_ascii_and_huge_numbers_pass_through() {
    let gw = TestGateway::compose(vec![("grid", grid_router()), ("labels", labels_router())]).await;
    let text = gw
        .client
        .post(&gw.url)
        .json(&json!({ "query": "{ text big huge }" }))
        .send()
        .await
        .expect("gateway reachable")
        .text()
        .await
        .expect("body");
    assert!(
        text.contains("123456789012345678901234567890"),
        "exact big number: {text}"
    );
    assert!(text.contains("1.5e300"), "exact float: {text}");
    let response: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        data(&response)["text"],
        "café 😀 \"q\" \\ \n tab\t ☃",
        "{response}"
    );
}

#[tokio::test]
async fn client_alias_equal_to_a_key_field_inside_a_provided_object() {
    let gw = TestGateway::demo().await;
    let plain = gw
        .query("{ topReviews(first: 3) { author { username name } } }")
        .await;
    let response = gw
        .query("{ topReviews(first: 3) { author { id: username name } } }")
        .await;
    let plain_list = data(&plain)["topReviews"].as_array().expect("list");
    let list = data(&response)["topReviews"].as_array().expect("list");
    assert_eq!(list.len(), plain_list.len(), "{response}");
    for (got, want) in list.iter().zip(plain_list) {
        assert_eq!(
            got["author"]["id"], want["author"]["username"],
            "{response}"
        );
        assert_eq!(got["author"]["name"], want["author"]["name"], "{response}");
    }
}

#[tokio::test]
async fn client_alias_equal_to_a_key_field_at_the_root_entity() {
    let gw = TestGateway::demo().await;
    let plain = gw.query("{ me { username reviews { body } } }").await;
    let response = gw.query("{ me { id: username reviews { body } } }").await;
    assert_eq!(
        data(&response)["me"]["id"],
        data(&plain)["me"]["username"],
        "{response}"
    );
    assert_eq!(
        data(&response)["me"]["reviews"],
        data(&plain)["me"]["reviews"],
        "{response}"
    );
}
