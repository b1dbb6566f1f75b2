//! Mutations: root fields run one after the other, each followed by its entity fetches before
//! the next root field starts, so a later field sees what an earlier one wrote. The subgraphs keep
//! real state and log every write and every entity field they resolve; the log's order is the
//! order the gateway worked in. Checked through Seam's own composition and the supergraphs Apollo
//! and Hive composed.

mod common;
mod support;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

/// What the two subgraphs have stored, and what they did, in order.
#[derive(Default)]
struct Store {
    products: Vec<Value>,
    reviews: Vec<Value>,
    log: Vec<String>,
}

type Shared = Arc<Mutex<Store>>;

fn product_name(store: &Shared, upc: &Value) -> Value {
    let store = store.lock().expect("store");
    store
        .products
        .iter()
        .find(|p| &p["upc"] == upc)
        .map_or(Value::Null, |p| p["name"].clone())
}

fn products_router(dir: &std::path::Path, store: &Shared) -> axum::Router {
    let (add, find, name) = (store.clone(), store.clone(), store.clone());
    FixtureSubgraph::load(dir, "products")
        .computed("Mutation", "addProduct", move |_, args| {
            let mut store = add.lock().expect("store");
            let product = json!({ "upc": args["upc"], "name": args["name"] });
            store.products.push(product.clone());
            store
                .log
                .push(format!("products: addProduct({})", args["upc"]));
            product
        })
        .computed("Query", "product", move |_, args| {
            match product_name(&find, &args["upc"]) {
                Value::Null => Value::Null,
                name => json!({ "upc": args["upc"], "name": name }),
            }
        })
        .computed("Product", "name", move |product, _| {
            if product.get("name").is_some() {
                return product["name"].clone(); // answered by the mutation itself
            }
            let found = product_name(&name, &product["upc"]);
            let mut store = name.lock().expect("store");
            store
                .log
                .push(format!("products: Product.name({})", product["upc"]));
            found
        })
        .router()
}

fn reviews_router(dir: &std::path::Path, store: &Shared) -> axum::Router {
    let (add, list) = (store.clone(), store.clone());
    FixtureSubgraph::load(dir, "reviews")
        .computed("Mutation", "addReview", move |_, args| {
            let mut store = add.lock().expect("store");
            store
                .reviews
                .push(json!({ "upc": args["upc"], "body": args["body"] }));
            store
                .log
                .push(format!("reviews: addReview({})", args["upc"]));
            // `boom` breaks the non-null `Review.body`: the subgraph nulls its whole answer.
            let body = match args["body"].as_str() {
                Some("boom") => Value::Null,
                _ => args["body"].clone(),
            };
            json!({ "body": body, "product": { "upc": args["upc"] } })
        })
        .computed("Product", "reviews", move |product, _| {
            let mut store = list.lock().expect("store");
            store
                .log
                .push(format!("reviews: Product.reviews({})", product["upc"]));
            store
                .reviews
                .iter()
                .filter(|r| r["upc"] == product["upc"])
                .map(|r| json!({ "body": r["body"], "product": { "upc": r["upc"] } }))
                .collect()
        })
        .router()
}

async fn mutations() -> (Parity, Shared) {
    let dir = scenario_dir("mutations_order");
    let store = Shared::default();
    let parity = Parity::start(
        "mutations_order",
        vec![
            ("products", products_router(&dir, &store)),
            ("reviews", reviews_router(&dir, &store)),
        ],
    )
    .await;
    (parity, store)
}

const INTERLEAVED: &str = r#"mutation {
    first: addProduct(upc: "9", name: "Lamp") { upc name reviews { body } }
    review: addReview(upc: "9", body: "Bright") { body product { name reviews { body } } }
    second: addProduct(upc: "10", name: "Rug") { name reviews { body } }
}"#;

#[tokio::test]
async fn mutation_fields_and_their_entity_fetches_run_in_order() {
    let (parity, store) = mutations().await;
    for (tool, gateway) in &parity.gateways {
        *store.lock().expect("store") = Store::default();
        parity.clear_requests();
        let answer = gateway.query(INTERLEAVED).await;
        assert_eq!(
            answer,
            json!({ "data": {
                "first": { "upc": "9", "name": "Lamp", "reviews": [] },
                "review": { "body": "Bright", "product": { "name": "Lamp", "reviews": [ { "body": "Bright" } ] } },
                "second": { "name": "Rug", "reviews": [] },
            } }),
            "{tool}"
        );
        assert_eq!(
            store.lock().expect("store").log,
            [
                r#"products: addProduct("9")"#,
                r#"reviews: Product.reviews("9")"#,
                r#"reviews: addReview("9")"#,
                r#"reviews: Product.reviews("9")"#,
                r#"products: Product.name("9")"#,
                r#"products: addProduct("10")"#,
                r#"reviews: Product.reviews("10")"#,
            ],
            "{tool}"
        );
        assert_eq!(parity.requests_to("products").len(), 3, "{tool}");
        assert_eq!(parity.requests_to("reviews").len(), 3, "{tool}");
    }
}

#[tokio::test]
async fn consecutive_mutation_fields_of_one_subgraph_share_a_fetch() {
    let (parity, store) = mutations().await;
    let query = r#"mutation {
        a: addProduct(upc: "7", name: "Desk") { name }
        b: addProduct(upc: "8", name: "Shelf") { upc }
        c: addReview(upc: "7", body: "Solid") { product { name } }
    }"#;
    for (tool, gateway) in &parity.gateways {
        *store.lock().expect("store") = Store::default();
        parity.clear_requests();
        let answer = gateway.query(query).await;
        assert_eq!(
            answer,
            json!({ "data": {
                "a": { "name": "Desk" },
                "b": { "upc": "8" },
                "c": { "product": { "name": "Desk" } },
            } }),
            "{tool}"
        );
        assert_eq!(
            store.lock().expect("store").log,
            [
                r#"products: addProduct("7")"#,
                r#"products: addProduct("8")"#,
                r#"reviews: addReview("7")"#,
                r#"products: Product.name("7")"#,
            ],
            "{tool}"
        );
        // One request for a and b; the next products request is c's entity fetch.
        assert_eq!(parity.requests_to("products").len(), 2, "{tool}");
        assert_eq!(parity.requests_to("reviews").len(), 1, "{tool}");
    }
}

#[tokio::test]
async fn mutation_plan_is_a_sequence() {
    let (parity, _) = mutations().await;
    insta::with_settings!({ description => INTERLEAVED, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(INTERLEAVED));
    });
}

/// A non-null mutation field that comes back null nulls the whole `data`; the fields after it
/// do not run (their writes would be invisible to the client), as graphql-js stops. A non-null
/// field skipped by `@include` is no such null, and a nullable failure would not be either.
#[tokio::test]
async fn a_non_null_mutation_field_that_fails_stops_the_fields_after_it() {
    let (parity, store) = mutations().await;
    for (tool, gateway) in &parity.gateways {
        *store.lock().expect("store") = Store::default();
        let answer = gateway
            .query(
                r#"mutation {
                    first: addProduct(upc: "11", name: "Lamp") { upc }
                    bad: addReview(upc: "11", body: "boom") { body }
                    after: addProduct(upc: "12", name: "Rug") { upc }
                }"#,
            )
            .await;
        assert_eq!(answer["data"], Value::Null, "{tool}: {answer}");
        assert!(
            answer["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{tool}: {answer}"
        );
        assert_eq!(
            store.lock().expect("store").log,
            [
                r#"products: addProduct("11")"#,
                r#"reviews: addReview("11")"#
            ],
            "{tool}: the field after the failed one ran"
        );

        *store.lock().expect("store") = Store::default();
        let answer = gateway
            .query_with(
                r#"mutation($yes: Boolean! = false) {
                    skipped: addProduct(upc: "13", name: "Lamp") @include(if: $yes) { upc }
                    after: addReview(upc: "13", body: "Fine") { body }
                }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            answer,
            json!({ "data": { "after": { "body": "Fine" } } }),
            "{tool}"
        );
        assert_eq!(
            store.lock().expect("store").log,
            [r#"reviews: addReview("13")"#],
            "{tool}"
        );
    }
}
