//! `@shareable`: root and entity fields that several subgraphs resolve go to the subgraph already
//! in use, so the same data is never fetched twice (asserted on the subgraph requests), and a
//! shareable value type whose fields differ between subgraphs (`Details` is {a b} in products and
//! {b c} in listings) is still answered whole. Every answer is checked through Seam's own
//! composition and the supergraphs Apollo and Hive composed.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn shareable() -> Parity {
    let dir = scenario_dir("shareable_basics");
    Parity::start(
        "shareable_basics",
        vec![
            ("products", FixtureSubgraph::load(&dir, "products").router()),
            ("listings", FixtureSubgraph::load(&dir, "listings").router()),
        ],
    )
    .await
}

/// The subgraph queries each gateway sent for `query`, by subgraph, after checking its answer.
async fn queries_sent(
    parity: &Parity,
    query: &str,
    expected: &Value,
) -> Vec<(&'static str, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for (tool, gateway) in &parity.gateways {
        parity.clear_requests();
        let answer = gateway.query(query).await;
        assert_eq!(&answer, expected, "{tool} answered {query} wrong");
        let texts = |subgraph: &str| -> Vec<String> {
            parity
                .requests_to(subgraph)
                .iter()
                .map(|r| r["query"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        out.push((*tool, texts("products"), texts("listings")));
    }
    out
}

/// Asserts every gateway made `products` and `listings` requests for `query`, and answered it.
async fn assert_requests(
    parity: &Parity,
    query: &str,
    expected: Value,
    products: usize,
    listings: usize,
) {
    for (tool, to_products, to_listings) in queries_sent(parity, query, &expected).await {
        assert_eq!(
            (to_products.len(), to_listings.len()),
            (products, listings),
            "{tool} for {query}: products got {to_products:?}, listings got {to_listings:?}"
        );
    }
}

#[tokio::test]
async fn shareable_root_field_answered_by_one_subgraph() {
    let parity = shareable().await;
    for (tool, products, listings) in queries_sent(
        &parity,
        "{ products { id name } }",
        &json!({ "data": { "products": [
            { "id": "p1", "name": "Table" },
            { "id": "p2", "name": "Couch" },
        ] } }),
    )
    .await
    {
        assert_eq!(
            products.len() + listings.len(),
            1,
            "{tool}: {products:?} {listings:?}"
        );
    }
}

#[tokio::test]
async fn shareable_root_field_goes_where_the_whole_selection_resolves() {
    let parity = shareable().await;
    assert_requests(
        &parity,
        "{ products { name sku } }",
        json!({ "data": { "products": [
            { "name": "Table", "sku": "TBL-1" },
            { "name": "Couch", "sku": "CCH-2" },
        ] } }),
        1,
        0,
    )
    .await;
    assert_requests(
        &parity,
        r#"{ product(id: "p2") { name price } }"#,
        json!({ "data": { "product": { "name": "Couch", "price": 1299 } } }),
        0,
        1,
    )
    .await;
}

#[tokio::test]
async fn shareable_entity_field_rides_with_the_subgraph_already_in_use() {
    let parity = shareable().await;
    let answer =
        json!({ "data": { "deals": [ { "name": "Couch", "sku": "CCH-2", "price": 1299 } ] } });
    for (tool, products, listings) in
        queries_sent(&parity, "{ deals { name sku price } }", &answer).await
    {
        assert_eq!((products.len(), listings.len()), (1, 1), "{tool}");
        // listings answers `deals` and can answer `name` there: products is asked for sku alone.
        assert!(listings[0].contains("name"), "{tool}: {}", listings[0]);
        assert!(!products[0].contains("name"), "{tool}: {}", products[0]);
    }
}

#[tokio::test]
async fn shareable_field_is_fetched_once_when_both_subgraphs_are_needed() {
    let parity = shareable().await;
    let answer = json!({ "data": { "products": [
        { "name": "Table", "sku": "TBL-1", "price": 899 },
        { "name": "Couch", "sku": "CCH-2", "price": 1299 },
    ] } });
    for (tool, products, listings) in
        queries_sent(&parity, "{ products { name sku price } }", &answer).await
    {
        assert_eq!(products.len() + listings.len(), 2, "{tool}");
        let asked_for_name = products
            .iter()
            .chain(&listings)
            .filter(|q| q.contains("name"))
            .count();
        assert_eq!(asked_for_name, 1, "{tool}: {products:?} {listings:?}");
    }
}

#[tokio::test]
async fn shareable_value_type_with_different_fields_per_subgraph() {
    let parity = shareable().await;
    // `a` only products has, `c` only listings: the product's details come from both.
    assert_requests(
        &parity,
        r#"{ product(id: "p1") { details { a c } } }"#,
        json!({ "data": { "product": { "details": { "a": "oak", "c": "4 legs" } } } }),
        1,
        1,
    )
    .await;
    assert_requests(
        &parity,
        "{ deals { details { a b c } } }",
        json!({ "data": { "deals": [ { "details": { "a": "linen", "b": "200cm", "c": "3 seats" } } ] } }),
        1,
        1,
    )
    .await;
    // Fields both subgraphs have stay in one fetch, whichever subgraph it goes to.
    for (tool, products, listings) in queries_sent(
        &parity,
        "{ products { details { b } } }",
        &json!({ "data": { "products": [
            { "details": { "b": "120cm" } },
            { "details": { "b": "200cm" } },
        ] } }),
    )
    .await
    {
        assert_eq!(
            products.len() + listings.len(),
            1,
            "{tool}: {products:?} {listings:?}"
        );
    }
}

#[tokio::test]
async fn shareable_plans() {
    let parity = shareable().await;
    let query = "{ deals { name sku price details { a b c } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!("shareable_entity_fields_plan", parity.plan(query));
    });
    let query = r#"{ product(id: "p1") { name details { a c } } }"#;
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!("shareable_value_type_plan", parity.plan(query));
    });
}

/// `node` is a shareable root field of `a` and `b`; `a` declares the key `Product.id`
/// `@external`, so it can neither answer `id` nor send the key anywhere: every plan goes
/// through `b`, whichever subgraph is listed first.
async fn shareable_external() -> Parity {
    let dir = scenario_dir("shareable_external");
    Parity::start(
        "shareable_external",
        vec![
            ("a", FixtureSubgraph::load(&dir, "a").router()),
            ("b", FixtureSubgraph::load(&dir, "b").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn shareable_root_field_skips_a_subgraph_whose_key_field_is_external() {
    let parity = shareable_external().await;
    parity
        .assert_query(
            r#"{ node(id: "p1") { id } }"#,
            json!({}),
            json!({ "data": { "node": { "id": "p1" } } }),
        )
        .await;
    parity
        .assert_query(
            r#"{ node(id: "p2") { id ... on Product { name price } } }"#,
            json!({}),
            json!({ "data": { "node": { "id": "p2", "name": "Desk", "price": 20 } } }),
        )
        .await;
    parity
        .assert_query(
            r#"query($id: ID!) { first: node(id: $id) { __typename } second: node(id: "p1") { ... on Product { name } } }"#,
            json!({ "id": "p2" }),
            json!({ "data": { "first": { "__typename": "Product" }, "second": { "name": "Chair" } } }),
        )
        .await;
    let query = r#"{ node(id: "p1") { id ... on Product { name } } }"#;
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!("shareable_external_key_plan", parity.plan(query));
    });
}
