//! Variables with default values: every subgraph operation declares the client's default with
//! the variable, so a nullable variable with a default may stand where a non-null value is
//! expected (`@include(if: $x)`, an argument of type `String!`) — the subgraph validates the
//! fetch as the spec allows — whether or not the client sent a value.

mod common;

use serde_json::{json, Value};

use common::TestGateway;

fn queries_sent(gw: &TestGateway, subgraph: &str) -> Vec<String> {
    gw.requests_to(subgraph)
        .iter()
        .filter_map(|r| r["query"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_default_reaches_a_non_null_argument_of_a_root_fetch() {
    let gw = TestGateway::demo().await;
    let query = r#"query Product($upc: String = "2") { product(upc: $upc) { upc name } }"#;
    let response = gw.query(query).await;
    assert_eq!(
        response,
        json!({ "data": { "product": { "upc": "2", "name": "Product 2" } } }),
        "{response}"
    );
    assert!(
        queries_sent(&gw, "products")
            .iter()
            .any(|q| q.contains("$upc:String=\"2\"")),
        "{:?}",
        queries_sent(&gw, "products")
    );
    let response = gw.query_with(query, json!({ "upc": "3" })).await;
    assert_eq!(response["data"]["product"]["upc"], "3", "{response}");
}

#[tokio::test]
async fn a_default_reaches_include_and_skip_in_root_and_entity_fetches() {
    let gw = TestGateway::demo().await;
    // `name` from products (root fetch), `inStock` from inventory (entity fetch), both under a
    // condition whose variable is nullable with a default.
    let query = "query($with: Boolean = true, $skip: Boolean = false) {
        topProducts(first: 2) {
            upc
            name @include(if: $with)
            inStock @include(if: $with)
            ... @skip(if: $skip) { price }
        }
    }";
    let response = gw.query(query).await;
    assert!(response.get("errors").is_none(), "{response}");
    let products = response["data"]["topProducts"].as_array().expect("list");
    assert_eq!(products.len(), 2, "{response}");
    for product in products {
        assert!(product["name"].is_string(), "{response}");
        assert!(product["inStock"].is_boolean(), "{response}");
        assert!(product["price"].is_number(), "{response}");
    }
    let response = gw
        .query_with(query, json!({ "with": false, "skip": true }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(
        response["data"]["topProducts"],
        json!([{ "upc": "1" }, { "upc": "2" }]),
        "{response}"
    );
    // An explicit null is not the default: `@include(if: null)` is an error, not a guess.
    let response = gw.query_with(query, json!({ "with": null })).await;
    assert!(response.get("errors").is_some(), "{response}");
}

#[tokio::test]
async fn defaults_of_every_kind_of_value_are_declared_in_the_subgraph_operation() {
    let gw = TestGateway::demo().await;
    let query = r#"query($first: Int = 1, $upc: String = "1", $id: ID = 2) {
        topProducts(first: $first) { upc }
        product(upc: $upc) { name }
        user(id: $id) { id }
    }"#;
    let response = gw.query(query).await;
    assert_eq!(
        response,
        json!({ "data": {
            "topProducts": [{ "upc": "1" }],
            "product": { "name": "Product 1" },
            "user": { "id": "2" },
        } }),
        "{response}"
    );
    let sent: Value = json!(queries_sent(&gw, "products"));
    assert!(sent.to_string().contains("$first:Int=1"), "{sent}");
    let sent: Value = json!(queries_sent(&gw, "accounts"));
    assert!(sent.to_string().contains("$id:ID=2"), "{sent}");
}
