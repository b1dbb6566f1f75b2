//! Federation parity for keys (tests/fixtures/federation/keys_paths), served by Seam three ways
//! (composed by Seam, and from Apollo's and Hive's supergraphs):
//!
//! - catalog owns Product by `upc`, a `Page` value type listing products, and Account with the
//!   compound, nested key `id org { id }` (Org is a value type);
//! - mapping knows Product by `upc` and by `sku` (a product may have no sku);
//! - stock knows Product only by `sku`: from catalog the planner must go through mapping;
//! - promos lists products by `sku` with `resolvable: false`: it must never get `_entities`;
//! - plans adds a field to Account through the compound key.

mod common;
mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn keys_paths() -> Parity {
    let dir = scenario_dir("keys_paths");
    Parity::start(
        "keys_paths",
        ["catalog", "mapping", "plans", "promos", "stock"]
            .into_iter()
            .map(|name| (name, FixtureSubgraph::load(&dir, name).router()))
            .collect(),
    )
    .await
}

/// Every gateway, asked `query` alone, sends exactly `expected` requests per subgraph (others:
/// none); returns the request bodies the last gateway sent, by subgraph.
async fn assert_calls(
    parity: &Parity,
    query: &str,
    expected: &[(&str, usize)],
) -> BTreeMap<String, Vec<Value>> {
    let mut bodies = BTreeMap::new();
    for (label, gateway) in &parity.gateways {
        gateway.clear_requests();
        let answer = gateway.query(query).await;
        assert!(answer["data"].is_object(), "{label}: {answer}");
        bodies = gateway
            .subgraphs
            .iter()
            .map(|s| (s.name.clone(), gateway.requests_to(&s.name)))
            .collect();
        let counts: BTreeMap<String, usize> =
            bodies.iter().map(|(k, v)| (k.clone(), v.len())).collect();
        let mut want: BTreeMap<String, usize> = counts.keys().map(|k| (k.clone(), 0)).collect();
        for (name, n) in expected {
            want.insert((*name).to_owned(), *n);
        }
        assert_eq!(counts, want, "{label}: subgraph requests for {query}");
    }
    bodies
}

fn representations(bodies: &BTreeMap<String, Vec<Value>>, subgraph: &str) -> Value {
    bodies[subgraph][0]["variables"]["representations"].clone()
}

#[tokio::test]
async fn keys_plan_from_upc_to_sku_through_the_mapping_subgraph() {
    let parity = keys_paths().await;
    let query = "{ products { name inStock } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn keys_plan_from_an_unresolvable_reference() {
    let parity = keys_paths().await;
    let query = "{ featured { sku name inStock } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn keys_reached_only_through_a_third_subgraph() {
    let parity = keys_paths().await;
    let query = "{ products { upc name inStock } }";
    // The lamp has no sku: stock cannot be asked about it, its inStock is null.
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "products": [
                { "upc": "1", "name": "Table", "inStock": 5 },
                { "upc": "2", "name": "Chair", "inStock": 0 },
                { "upc": "3", "name": "Lamp", "inStock": null },
            ] } }),
        )
        .await;
    let bodies = assert_calls(
        &parity,
        query,
        &[("catalog", 1), ("mapping", 1), ("stock", 1)],
    )
    .await;
    assert_eq!(
        representations(&bodies, "mapping"),
        json!([
            { "__typename": "Product", "upc": "1" },
            { "__typename": "Product", "upc": "2" },
            { "__typename": "Product", "upc": "3" },
        ])
    );
    // No representation for the product whose sku is null.
    assert_eq!(
        representations(&bodies, "stock"),
        json!([
            { "__typename": "Product", "sku": "S1" },
            { "__typename": "Product", "sku": "S2" },
        ])
    );
}

#[tokio::test]
async fn keys_each_subgraph_uses_the_key_it_has() {
    let parity = keys_paths().await;
    let query = "{ featured { sku name inStock } }";
    // promos knows skus only: mapping turns them into upcs for catalog, stock takes them as
    // they are; S9 is known nowhere.
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "featured": [
                { "sku": "S2", "name": "Chair", "inStock": 0 },
                { "sku": "S1", "name": "Table", "inStock": 5 },
                { "sku": "S9", "name": null, "inStock": null },
            ] } }),
        )
        .await;
    // promos' Product is `resolvable: false`: its one request is the root field.
    let bodies = assert_calls(
        &parity,
        query,
        &[("promos", 1), ("mapping", 1), ("catalog", 1), ("stock", 1)],
    )
    .await;
    assert!(
        bodies["promos"][0]["variables"]["representations"].is_null(),
        "{bodies:?}"
    );
    // S9 is unknown to mapping: catalog is asked about the two others only.
    assert_eq!(
        representations(&bodies, "catalog"),
        json!([
            { "__typename": "Product", "upc": "2" },
            { "__typename": "Product", "upc": "1" },
        ])
    );
}

#[tokio::test]
async fn keys_compound_and_nested_through_a_value_type() {
    let parity = keys_paths().await;
    let query = "{ accounts { id org { id } name plan } }";
    // a1 is two accounts, one per org: the whole key picks the plan.
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "accounts": [
                { "id": "a1", "org": { "id": "o1" }, "name": "Ops", "plan": "gold" },
                { "id": "a1", "org": { "id": "o2" }, "name": "Ops EU", "plan": "silver" },
                { "id": "a2", "org": { "id": "o1" }, "name": "Dev", "plan": "free" },
            ] } }),
        )
        .await;
    let bodies = assert_calls(
        &parity,
        "{ accounts { plan } }",
        &[("catalog", 1), ("plans", 1)],
    )
    .await;
    assert_eq!(
        representations(&bodies, "plans"),
        json!([
            { "__typename": "Account", "id": "a1", "org": { "id": "o1" } },
            { "__typename": "Account", "id": "a1", "org": { "id": "o2" } },
            { "__typename": "Account", "id": "a2", "org": { "id": "o1" } },
        ])
    );
}

#[tokio::test]
async fn keys_entities_below_a_value_type() {
    let parity = keys_paths().await;
    let query = "{ page { title items { upc name inStock } } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "page": { "title": "Front", "items": [
                { "upc": "2", "name": "Chair", "inStock": 0 },
                { "upc": "1", "name": "Table", "inStock": 5 },
            ] } } }),
        )
        .await;
    assert_calls(
        &parity,
        query,
        &[("catalog", 1), ("mapping", 1), ("stock", 1)],
    )
    .await;
}

#[tokio::test]
async fn keys_null_key_field_sends_no_representation() {
    let parity = keys_paths().await;
    // The lamp's sku is null: no representation of it reaches stock, its inStock is null and no
    // error is reported (nothing failed).
    let query = r#"{ products { upc sku inStock } }"#;
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "products": [
                { "upc": "1", "sku": "S1", "inStock": 5 },
                { "upc": "2", "sku": "S2", "inStock": 0 },
                { "upc": "3", "sku": null, "inStock": null },
            ] } }),
        )
        .await;
    let bodies = assert_calls(
        &parity,
        query,
        &[("catalog", 1), ("mapping", 1), ("stock", 1)],
    )
    .await;
    assert_eq!(
        representations(&bodies, "stock").as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn keys_nested_key_field_beside_a_client_alias_of_its_name() {
    let parity = keys_paths().await;
    // The client calls Org's `__typename` `id`: the key's `org { id }` is fetched under an alias
    // of its own beside it (not under `id`, aliased apart by type and renamed back over the
    // client's key), and the representations still send the org's id.
    let query = "{ accounts { org { id: __typename } plan } }";
    let plan = parity.plan(query);
    assert!(plan.contains("seam__id: id"), "{plan}");
    assert!(!plan.contains("seam__Org__"), "{plan}");
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "accounts": [
                { "org": { "id": "Org" }, "plan": "gold" },
                { "org": { "id": "Org" }, "plan": "silver" },
                { "org": { "id": "Org" }, "plan": "free" },
            ] } }),
        )
        .await;
    let bodies = assert_calls(&parity, query, &[("catalog", 1), ("plans", 1)]).await;
    assert_eq!(
        representations(&bodies, "plans"),
        json!([
            { "__typename": "Account", "id": "a1", "org": { "id": "o1" } },
            { "__typename": "Account", "id": "a1", "org": { "id": "o2" } },
            { "__typename": "Account", "id": "a2", "org": { "id": "o1" } },
        ])
    );
}

/// A key the planner adds two hops before the field that needs it (promos knows `sku`, catalog
/// wants `upc`, mapping converts) must not answer under a client alias of the key's name: for a
/// product mapping does not know, `sku: name` is null, never the product's sku.
#[tokio::test]
async fn a_key_converted_through_another_subgraph_avoids_the_clients_alias() {
    let parity = keys_paths().await;
    parity
        .assert_query(
            "{ featured { sku: name } }",
            json!({}),
            json!({ "data": { "featured": [
                { "sku": "Chair" },
                { "sku": "Table" },
                { "sku": null },
            ] } }),
        )
        .await;
}
