//! Federation v1 subgraphs (no `@link`; `extend type`, `@extends`, `@external` keys, `@requires`
//! on an external field): `fed1_only` has four v1 subgraphs, `fed1_mixed` the same graph with
//! products and inventory rewritten as v2 subgraphs. Both must answer the same, through Seam's
//! own composition and the supergraphs Apollo and Hive composed.

mod common;
mod support;

use serde_json::json;

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

const SCENARIOS: [&str; 2] = ["fed1_only", "fed1_mixed"];

async fn fed1(scenario: &str) -> Parity {
    let dir = scenario_dir(scenario);
    Parity::start(
        scenario,
        vec![
            ("users", FixtureSubgraph::load(&dir, "users").router()),
            ("products", FixtureSubgraph::load(&dir, "products").router()),
            (
                "reviews",
                FixtureSubgraph::load(&dir, "reviews")
                    .computed("Product", "shippingEstimate", |product, _| {
                        json!(product["weight"].as_i64().map(|weight| weight / 10))
                    })
                    .router(),
            ),
            (
                "inventory",
                FixtureSubgraph::load(&dir, "inventory").router(),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn fed1_extended_types_are_reached_through_their_keys() {
    for scenario in SCENARIOS {
        fed1(scenario)
            .await
            .assert_query(
                "{ me { username reviews { body product { name inStock shippingEstimate } } } }",
                json!({}),
                json!({ "data": { "me": { "username": "ada", "reviews": [
                    { "body": "Sturdy", "product": { "name": "Table", "inStock": true, "shippingEstimate": 10 } },
                    { "body": "Comfy", "product": { "name": "Chair", "inStock": true, "shippingEstimate": 5 } },
                ] } } }),
            )
            .await;
    }
}

#[tokio::test]
async fn fed1_lists_cross_back_and_forth() {
    for scenario in SCENARIOS {
        fed1(scenario)
            .await
            .assert_query(
                "{ topProducts { upc inStock reviews { body author { username reviews { id } } } } }",
                json!({}),
                json!({ "data": { "topProducts": [
                    { "upc": "1", "inStock": true, "reviews": [
                        { "body": "Sturdy", "author": { "username": "ada", "reviews": [ { "id": "r1" }, { "id": "r3" } ] } },
                    ] },
                    { "upc": "2", "inStock": false, "reviews": [
                        { "body": "Too heavy", "author": { "username": "alan", "reviews": [ { "id": "r2" } ] } },
                    ] },
                    { "upc": "3", "inStock": true, "reviews": [
                        { "body": "Comfy", "author": { "username": "ada", "reviews": [ { "id": "r1" }, { "id": "r3" } ] } },
                    ] },
                ] } }),
            )
            .await;
    }
}

#[tokio::test]
async fn fed1_requires_on_an_external_field() {
    for scenario in SCENARIOS {
        fed1(scenario)
            .await
            .assert_query(
                "{ topProducts { name price shippingEstimate } }",
                json!({}),
                json!({ "data": { "topProducts": [
                    { "name": "Table", "price": 899, "shippingEstimate": 10 },
                    { "name": "Couch", "price": 1299, "shippingEstimate": 100 },
                    { "name": "Chair", "price": 54, "shippingEstimate": 5 },
                ] } }),
            )
            .await;
    }
}

#[tokio::test]
async fn fed1_external_keys_are_not_fields_the_extending_subgraph_resolves() {
    // `Product.upc` is `@external` in reviews and inventory: only products answers it, so
    // `{ topProducts { upc } }` is one fetch.
    for scenario in SCENARIOS {
        let parity = fed1(scenario).await;
        for (tool, gateway) in &parity.gateways {
            parity.clear_requests();
            let answer = gateway.query("{ topProducts { upc } }").await;
            assert_eq!(
                answer,
                json!({ "data": { "topProducts": [ { "upc": "1" }, { "upc": "2" }, { "upc": "3" } ] } }),
                "{scenario} {tool}"
            );
            let total: usize = ["users", "products", "reviews", "inventory"]
                .iter()
                .map(|s| parity.requests_to(s).len())
                .sum();
            assert_eq!(total, 1, "{scenario} {tool}");
        }
    }
}

#[tokio::test]
async fn fed1_composed_supergraph_and_plan() {
    let parity = fed1("fed1_only").await;
    insta::assert_snapshot!("fed1_only_composed_supergraph", parity.composed_sdl);
    let query = "{ me { username reviews { body product { name inStock shippingEstimate } } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!("fed1_only_plan", parity.plan(query));
    });
    // The v1 and the mixed graph are the same graph: so are their plans.
    assert_eq!(parity.plan(query), fed1("fed1_mixed").await.plan(query));
}
