//! Each federation behaviour, proven end to end against the four demo subgraphs: the response has
//! the exact values of the deterministic demo data, and where the behaviour is about fetching, the
//! requests the subgraphs received show it.

mod common;

use std::collections::HashSet;

use serde_json::{json, Value};

use common::TestGateway;
use seam::plan::{PlanNode, QueryPlan};
use seam::supergraph::Supergraph;

/// Price in cents and weight in grams of product `n`, as `src/demo/data.rs` documents them.
fn price(n: i64) -> i64 {
    99 + (n * 7919) % 150_000
}

fn weight(n: i64) -> i64 {
    50 + (n * 331) % 5000
}

/// The `_entities` requests among `requests`.
fn entity_requests(requests: &[Value]) -> Vec<&Value> {
    requests
        .iter()
        .filter(|r| r["query"].as_str().unwrap_or("").contains("_entities"))
        .collect()
}

fn representations(request: &Value) -> &Vec<Value> {
    request["variables"]["representations"]
        .as_array()
        .unwrap_or_else(|| panic!("an _entities request carries representations: {request}"))
}

fn query_text(request: &Value) -> &str {
    request["query"].as_str().expect("a query string")
}

/// Asserts the response has no errors and returns its data.
fn data(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response}"
    );
    &response["data"]
}

/// The elements of a JSON list; none when it is not a list.
fn items(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// The response body as the gateway wrote it: `serde_json::Value` sorts object keys, so field
/// order can only be checked on the text.
async fn raw_response(gw: &TestGateway, query: &str) -> String {
    gw.client
        .post(&gw.url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway reachable")
        .text()
        .await
        .expect("a body")
}

/// The plan for `query` against the checked-in demo supergraph.
fn demo_plan(query: &str) -> QueryPlan {
    let supergraph = Supergraph::parse(&common::demo_supergraph_sdl()).expect("demo supergraph");
    let document = apollo_compiler::ExecutableDocument::parse_and_validate(
        &supergraph.api_schema,
        query,
        "query.graphql",
    )
    .expect("valid query");
    let operation = document.operations.get(None).expect("one operation");
    seam::plan::plan_operation(&supergraph, &document, operation, Default::default())
        .expect("a plan")
}

/// The services fetched by the nodes of every `Parallel` in the plan, one list per `Parallel`.
fn parallel_groups(node: &PlanNode, out: &mut Vec<Vec<String>>) {
    match node {
        PlanNode::Fetch(_) | PlanNode::Batch(_) => {}
        PlanNode::Sequence(nodes) => nodes.iter().for_each(|n| parallel_groups(n, out)),
        PlanNode::Parallel(nodes) => {
            let mut services = Vec::new();
            for n in nodes {
                first_services(n, &mut services);
                parallel_groups(n, out);
            }
            out.push(services);
        }
        PlanNode::Condition {
            if_true, if_false, ..
        } => {
            for n in [if_true, if_false].into_iter().flatten() {
                parallel_groups(n, out);
            }
        }
    }
}

/// The services a node starts with (the first fetch of a sequence, every branch of a parallel).
fn first_services(node: &PlanNode, out: &mut Vec<String>) {
    match node {
        PlanNode::Fetch(f) => out.push(f.service_name.to_string()),
        PlanNode::Batch(b) => out.push(b.service_name.to_string()),
        PlanNode::Sequence(nodes) => {
            if let Some(n) = nodes.first() {
                first_services(n, out);
            }
        }
        PlanNode::Parallel(nodes) => nodes.iter().for_each(|n| first_services(n, out)),
        PlanNode::Condition {
            if_true, if_false, ..
        } => {
            for n in [if_true, if_false].into_iter().flatten() {
                first_services(n, out);
            }
        }
    }
}

/// Subgraph requests the plan makes: a batch is one.
fn fetch_count(node: &PlanNode) -> usize {
    match node {
        PlanNode::Fetch(_) | PlanNode::Batch(_) => 1,
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
            nodes.iter().map(fetch_count).sum()
        }
        PlanNode::Condition {
            if_true, if_false, ..
        } => [if_true, if_false]
            .into_iter()
            .flatten()
            .map(|n| fetch_count(n))
            .sum(),
    }
}

// ---------------------------------------------------------------------------------------------
// Fields across subgraphs and entity jumps
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn nested_fields_span_all_four_subgraphs() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{ topProducts(first: 2) {
                upc name price inStock shippingEstimate
                warehouse { name city }
                reviews { id author { name username } }
            } }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [
            {
                "upc": "1", "name": "Product 1", "price": 8018, "inStock": true,
                "shippingEstimate": 190,
                "warehouse": { "name": "Amsterdam Hub", "city": "Amsterdam" },
                "reviews": [
                    { "id": "1", "author": { "name": "Ada Lovelace", "username": "user1" } },
                    { "id": "2", "author": { "name": "Dennis Ritchie", "username": "user8" } },
                    { "id": "3", "author": { "name": "Sophie Wilson", "username": "user15" } },
                    { "id": "4", "author": { "name": "Alan Turing", "username": "user2" } },
                ],
            },
            {
                "upc": "2", "name": "Product 2", "price": 15937, "inStock": true,
                "shippingEstimate": 356,
                "warehouse": { "name": "Frankfurt Depot", "city": "Frankfurt" },
                "reviews": [
                    { "id": "5", "author": { "name": "Alan Turing", "username": "user2" } },
                    { "id": "6", "author": { "name": "Frances Allen", "username": "user9" } },
                    { "id": "7", "author": { "name": "Niklaus Wirth", "username": "user16" } },
                    { "id": "8", "author": { "name": "Grace Hopper", "username": "user3" } },
                    { "id": "9", "author": { "name": "Ken Thompson", "username": "user10" } },
                ],
            },
        ] })
    );
    // products (root), then one batched fetch each to reviews (the reviews) and accounts (the
    // authors' names).
    assert_eq!(gw.requests_to("products").len(), 1);
    assert_eq!(gw.requests_to("reviews").len(), 1);
    assert_eq!(gw.requests_to("accounts").len(), 1);
    // Inventory is asked once, for the products' own fields at `topProducts.@` and for the
    // warehouses at `topProducts.@.warehouse`: two `_entities` fields of one request.
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    let mut typenames: Vec<&Value> = ["r0", "r1"]
        .iter()
        .map(|v| &inventory[0]["variables"][v][0]["__typename"])
        .collect();
    typenames.sort_by_key(|t| t.to_string());
    assert_eq!(typenames, [&json!("Product"), &json!("Warehouse")]);
}

#[tokio::test]
async fn entity_jump_product_to_reviews_to_author() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(r#"{ product(upc: "2") { name reviews { id rating body author { name } } } }"#)
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": {
            "name": "Product 2",
            "reviews": [
                { "id": "5", "rating": 3, "body": "Product 2: Does the job.", "author": { "name": "Alan Turing" } },
                { "id": "6", "rating": 5, "body": "Product 2: Excellent, would buy again.", "author": { "name": "Frances Allen" } },
                { "id": "7", "rating": 2, "body": "Product 2: Not what I hoped for.", "author": { "name": "Niklaus Wirth" } },
                { "id": "8", "rating": 4, "body": "Product 2: Good value.", "author": { "name": "Grace Hopper" } },
                { "id": "9", "rating": 1, "body": "Product 2: Broke after a week.", "author": { "name": "Ken Thompson" } },
            ],
        } })
    );
    let reviews = gw.requests_to("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        *representations(&reviews[0]),
        vec![json!({ "__typename": "Product", "upc": "2" })]
    );
    let accounts = gw.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    let ids: Vec<&Value> = representations(&accounts[0])
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        ids,
        [
            &json!("2"),
            &json!("9"),
            &json!("16"),
            &json!("3"),
            &json!("10")
        ]
    );
    assert!(gw.requests_to("inventory").is_empty());
}

#[tokio::test]
async fn entity_jump_user_to_reviews_to_product() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(r#"{ user(id: "3") { name reviews { id body product { upc name price } } } }"#)
        .await;
    let user = &data(&response)["user"];
    assert_eq!(user["name"], "Grace Hopper");
    // User 3 wrote the "Good value." review of 21 products, the first being 2, 3 and 9.
    let reviews = user["reviews"].as_array().expect("reviews");
    assert_eq!(reviews.len(), 21);
    assert_eq!(
        reviews[0],
        json!({ "id": "8", "body": "Product 2: Good value.", "product": { "upc": "2", "name": "Product 2", "price": 15937 } })
    );
    assert_eq!(
        reviews[1],
        json!({ "id": "10", "body": "Product 3: Good value.", "product": { "upc": "3", "name": "Product 3", "price": 23856 } })
    );
    for review in reviews {
        let upc = review["product"]["upc"].as_str().expect("upc");
        let n: i64 = upc.parse().expect("numeric upc");
        assert_eq!(review["body"], format!("Product {n}: Good value."));
        assert_eq!(review["product"]["name"], format!("Product {n}"));
        assert_eq!(review["product"]["price"], price(n));
    }

    // accounts (root) ▶ reviews (User entity by id) ▶ products (Product entities: name rides
    // along with price, so inventory, which could also serve the shareable name, is not asked).
    let accounts = gw.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    assert!(
        entity_requests(&accounts).is_empty(),
        "user(id:) is a root fetch"
    );
    let reviews_calls = gw.requests_to("reviews");
    assert_eq!(reviews_calls.len(), 1);
    assert_eq!(
        *representations(&reviews_calls[0]),
        vec![json!({ "__typename": "User", "id": "3" })]
    );
    let products = gw.requests_to("products");
    assert_eq!(products.len(), 1);
    assert_eq!(representations(&products[0]).len(), 21);
    assert!(gw.requests_to("inventory").is_empty());
}

// ---------------------------------------------------------------------------------------------
// @requires, @provides, @shareable
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn requires_sends_price_and_weight_in_the_representations() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 3) { upc price shippingEstimate } }")
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [
            { "upc": "1", "price": 8018, "shippingEstimate": 190 },
            { "upc": "2", "price": 15937, "shippingEstimate": 356 },
            { "upc": "3", "price": 23856, "shippingEstimate": 521 },
        ] })
    );
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    let expected: Vec<Value> = (1..=3)
        .map(|n| json!({ "__typename": "Product", "upc": n.to_string(), "price": price(n), "weight": weight(n) }))
        .collect();
    assert_eq!(*representations(&inventory[0]), expected);
}

#[tokio::test]
async fn requires_works_without_the_client_asking_for_price() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 2) { shippingEstimate } }")
        .await;
    // The required fields are fetched for inventory but not shown to the client.
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [ { "shippingEstimate": 190 }, { "shippingEstimate": 356 } ] })
    );
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    assert_eq!(
        representations(&inventory[0])[1],
        json!({ "__typename": "Product", "upc": "2", "price": 15937, "weight": 712 })
    );
}

#[tokio::test]
async fn requires_is_free_shipping_above_a_thousand_dollars() {
    let gw = TestGateway::demo().await;
    // Product 13 costs 103 046 cents: the estimate inventory computes from the price it is sent is 0.
    let response = gw
        .query(r#"{ product(upc: "13") { price shippingEstimate } }"#)
        .await;
    assert_eq!(price(13), 103_046);
    assert_eq!(
        *data(&response),
        json!({ "product": { "price": 103046, "shippingEstimate": 0 } })
    );
}

#[tokio::test]
async fn requires_from_an_entity_fetch_shares_one_inventory_fetch() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 5) { product { name shippingEstimate inStock } } }")
        .await;
    let one =
        json!({ "product": { "name": "Product 1", "shippingEstimate": 190, "inStock": true } });
    let two =
        json!({ "product": { "name": "Product 2", "shippingEstimate": 356, "inStock": true } });
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [one, one, one, one, two] })
    );
    // reviews ▶ products (price, weight) ▶ inventory (everything else, in one fetch).
    let products = gw.requests_to("products");
    assert_eq!(products.len(), 1);
    assert_eq!(representations(&products[0]).len(), 2);
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    assert_eq!(
        *representations(&inventory[0]),
        vec![
            json!({ "__typename": "Product", "upc": "1", "price": 8018, "weight": 381 }),
            json!({ "__typename": "Product", "upc": "2", "price": 15937, "weight": 712 }),
        ]
    );
}

#[tokio::test]
async fn provides_username_needs_no_accounts_request() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 3) { id author { username } } }")
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [
            { "id": "1", "author": { "username": "user1" } },
            { "id": "2", "author": { "username": "user8" } },
            { "id": "3", "author": { "username": "user15" } },
        ] })
    );
    assert!(gw.requests_to("accounts").is_empty());
    assert_eq!(gw.total_requests(), 1);
}

#[tokio::test]
async fn field_outside_provides_is_fetched_from_accounts() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 3) { author { username name } } }")
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [
            { "author": { "username": "user1", "name": "Ada Lovelace" } },
            { "author": { "username": "user8", "name": "Dennis Ritchie" } },
            { "author": { "username": "user15", "name": "Sophie Wilson" } },
        ] })
    );
    let accounts = gw.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    assert!(query_text(&accounts[0]).contains("_entities"));
    assert_eq!(representations(&accounts[0]).len(), 3);
}

#[tokio::test]
async fn shareable_name_comes_from_inventory_with_in_stock() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 5) { product { inStock name } } }")
        .await;
    // Reviews 1-4 are of product 1, review 5 of product 2.
    let one = json!({ "product": { "inStock": true, "name": "Product 1" } });
    let two = json!({ "product": { "inStock": true, "name": "Product 2" } });
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [one, one, one, one, two] })
    );
    assert!(
        gw.requests_to("products").is_empty(),
        "name rides along to inventory"
    );
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    assert!(query_text(&inventory[0]).contains("name"));
    assert!(query_text(&inventory[0]).contains("inStock"));
    // The same product under four reviews is one representation.
    assert_eq!(
        *representations(&inventory[0]),
        vec![
            json!({ "__typename": "Product", "upc": "1" }),
            json!({ "__typename": "Product", "upc": "2" }),
        ]
    );
}

#[tokio::test]
async fn shareable_name_comes_from_products_with_price() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 5) { product { name price } } }")
        .await;
    let one = json!({ "product": { "name": "Product 1", "price": 8018 } });
    let two = json!({ "product": { "name": "Product 2", "price": 15937 } });
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [one, one, one, one, two] })
    );
    assert!(
        gw.requests_to("inventory").is_empty(),
        "name rides along to products"
    );
    assert_eq!(gw.requests_to("products").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Batching, keys
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn nested_list_entities_are_batched_and_deduplicated() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 10) { upc reviews { id author { name } } } }")
        .await;
    let products = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(products.len(), 10);
    let reviews: Vec<&Value> = products
        .iter()
        .flat_map(|p| p["reviews"].as_array().expect("reviews"))
        .collect();
    assert_eq!(reviews.len(), 40);
    assert_eq!(
        products[2]["reviews"],
        json!([
            { "id": "10", "author": { "name": "Grace Hopper" } },
            { "id": "11", "author": { "name": "Ken Thompson" } },
            { "id": "12", "author": { "name": "Hedy Lamarr" } },
        ])
    );
    assert!(reviews.iter().all(|r| r["author"]["name"].is_string()));

    // One reviews call for the 10 products, one accounts call for the 40 authors, who are the 20
    // users: each is sent once.
    let reviews_calls = gw.requests_to("reviews");
    assert_eq!(reviews_calls.len(), 1);
    assert_eq!(representations(&reviews_calls[0]).len(), 10);
    let accounts = gw.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(entity_requests(&accounts).len(), 1);
    let reps = representations(&accounts[0]);
    assert!(reps.len() <= 20, "{} representations", reps.len());
    let unique: HashSet<String> = reps.iter().map(Value::to_string).collect();
    assert_eq!(unique.len(), reps.len(), "representations are unique");
    assert_eq!(unique.len(), 20);
}

#[tokio::test]
async fn compound_key_fetches_warehouse_details_from_inventory() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 10) { upc warehouse { region code name city } } }")
        .await;
    let products = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(
        products[0],
        json!({ "upc": "1", "warehouse": { "region": "eu", "code": "ams", "name": "Amsterdam Hub", "city": "Amsterdam" } })
    );
    assert_eq!(
        products[3],
        json!({ "upc": "4", "warehouse": { "region": "us", "code": "sfo", "name": "Bay Area Depot", "city": "San Francisco" } })
    );
    assert_eq!(
        products[6],
        json!({ "upc": "7", "warehouse": { "region": "eu", "code": "ams", "name": "Amsterdam Hub", "city": "Amsterdam" } })
    );
    // Every tenth product has no warehouse.
    assert_eq!(products[9], json!({ "upc": "10", "warehouse": null }));

    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    let reps = representations(&inventory[0]);
    // Nine warehouses referenced, six distinct (region, code) pairs; null warehouses aren't sent.
    assert_eq!(reps.len(), 6);
    assert_eq!(
        reps[0],
        json!({ "__typename": "Warehouse", "region": "eu", "code": "ams" })
    );
}

#[tokio::test]
async fn compound_key_without_asking_for_the_key_fields() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(r#"{ product(upc: "5") { warehouse { city } } }"#)
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": { "warehouse": { "city": "Singapore" } } })
    );
}

#[tokio::test]
async fn user_entities_are_fetched_by_id_key() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topReviews(first: 2) { author { id name birthYear } } }")
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topReviews": [
            { "author": { "id": "1", "name": "Ada Lovelace", "birthYear": 1957 } },
            { "author": { "id": "8", "name": "Dennis Ritchie", "birthYear": 1956 } },
        ] })
    );
    let accounts = gw.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        *representations(&accounts[0]),
        vec![
            json!({ "__typename": "User", "id": "1" }),
            json!({ "__typename": "User", "id": "8" }),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Parallel fetches
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn independent_entity_fetches_run_in_parallel() {
    let query = "{ topProducts(first: 2) { inStock reviews { id } } }";
    let plan = demo_plan(query);
    let root = plan.root.as_ref().expect("a plan");
    let mut groups = Vec::new();
    parallel_groups(root, &mut groups);
    let mut services = groups.pop().expect("a Parallel node");
    services.sort();
    assert_eq!(services, ["inventory", "reviews"], "{plan}");
    assert_eq!(fetch_count(root), 3, "{plan}");

    let gw = TestGateway::demo().await;
    let response = gw.query(query).await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [
            { "inStock": true, "reviews": [ { "id": "1" }, { "id": "2" }, { "id": "3" }, { "id": "4" } ] },
            { "inStock": true, "reviews": [ { "id": "5" }, { "id": "6" }, { "id": "7" }, { "id": "8" }, { "id": "9" } ] },
        ] })
    );
}

#[tokio::test]
async fn independent_root_fields_run_in_parallel() {
    let query = "{ users { id } warehouses { code } topProducts(first: 1) { upc } topReviews(first: 1) { id } }";
    let plan = demo_plan(query);
    let root = plan.root.as_ref().expect("a plan");
    let PlanNode::Parallel(nodes) = root else {
        panic!("expected a Parallel root: {plan}");
    };
    assert_eq!(nodes.len(), 4, "{plan}");

    let gw = TestGateway::demo().await;
    let response = gw.query(query).await;
    let data = data(&response);
    assert_eq!(data["users"].as_array().map(Vec::len), Some(20));
    assert_eq!(data["warehouses"][5], json!({ "code": "tyo" }));
    assert_eq!(data["topProducts"], json!([ { "upc": "1" } ]));
    assert_eq!(data["topReviews"], json!([ { "id": "1" } ]));
    for name in ["accounts", "inventory", "products", "reviews"] {
        assert_eq!(gw.requests_to(name).len(), 1, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mutations_run_in_document_order() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(r#"mutation { a: setPrice(upc: "3", price: 1) { price } b: setPrice(upc: "3", price: 2) { price } }"#)
        .await;
    assert_eq!(
        *data(&response),
        json!({ "a": { "price": 1 }, "b": { "price": 2 } })
    );
    let after = gw.query(r#"{ product(upc: "3") { price } }"#).await;
    assert_eq!(*data(&after), json!({ "product": { "price": 2 } }));
}

#[tokio::test]
async fn mutations_across_subgraphs_run_in_document_order() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"mutation {
                first: setPrice(upc: "1", price: 100) { price }
                updateName(id: "1", name: "Ada King") { name }
                second: setPrice(upc: "1", price: 300) { price }
            }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({
            "first": { "price": 100 },
            "updateName": { "name": "Ada King" },
            "second": { "price": 300 },
        })
    );
    // The accounts mutation sits between the two, so products is called twice, in order.
    let products = gw.requests_to("products");
    assert_eq!(products.len(), 2);
    assert!(query_text(&products[0]).contains("100"));
    assert!(query_text(&products[1]).contains("300"));
    assert_eq!(gw.requests_to("accounts").len(), 1);

    let after = gw
        .query(r#"{ product(upc: "1") { price } user(id: "1") { name } }"#)
        .await;
    assert_eq!(
        *data(&after),
        json!({ "product": { "price": 300 }, "user": { "name": "Ada King" } })
    );
}

#[tokio::test]
async fn added_review_appears_under_its_product_with_author_name() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"mutation { addReview(productUpc: "3", authorId: "5", body: "Seam test", rating: 4) {
                id body rating author { name } product { upc name }
            } }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "addReview": {
            "id": "401", "body": "Seam test", "rating": 4,
            "author": { "name": "Barbara Liskov" },
            "product": { "upc": "3", "name": "Product 3" },
        } })
    );
    let after = gw
        .query(r#"{ product(upc: "3") { reviews { id body author { name } } } }"#)
        .await;
    assert_eq!(
        *data(&after),
        json!({ "product": { "reviews": [
            { "id": "10", "body": "Product 3: Good value.", "author": { "name": "Grace Hopper" } },
            { "id": "11", "body": "Product 3: Broke after a week.", "author": { "name": "Ken Thompson" } },
            { "id": "12", "body": "Product 3: Does the job.", "author": { "name": "Hedy Lamarr" } },
            { "id": "401", "body": "Seam test", "author": { "name": "Barbara Liskov" } },
        ] } })
    );
}

#[tokio::test]
async fn mutation_result_is_completed_by_entity_fetches() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"mutation { setPrice(upc: "5", price: 200000) {
                upc price shippingEstimate inStock reviews { id author { name } }
            } }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "setPrice": {
            "upc": "5", "price": 200000, "shippingEstimate": 0, "inStock": true,
            "reviews": [
                { "id": "17", "author": { "name": "Barbara Liskov" } },
                { "id": "18", "author": { "name": "John McCarthy" } },
                { "id": "19", "author": { "name": "Annie Easley" } },
                { "id": "20", "author": { "name": "Donald Knuth" } },
                { "id": "21", "author": { "name": "Katherine Johnson" } },
            ],
        } })
    );
    // The entity fetch after the mutation sees the new price.
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    assert_eq!(
        *representations(&inventory[0]),
        vec![json!({ "__typename": "Product", "upc": "5", "price": 200000, "weight": weight(5) })]
    );
    assert_eq!(gw.requests_to("reviews").len(), 1);
    assert_eq!(gw.requests_to("accounts").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Fragments and aliases
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn named_and_inline_fragments_nested_and_overlapping() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"
            query {
                topProducts(first: 1) {
                    ...ProductCore
                    ... on Product {
                        upc
                        ...Stock
                        reviews { ...ReviewWithAuthor }
                    }
                    ... {
                        price
                        ... on Product { ...Stock }
                    }
                }
            }
            fragment ProductCore on Product { upc name ... on Product { weight } }
            fragment Stock on Product { inStock shippingEstimate }
            fragment ReviewWithAuthor on Review {
                id
                ... on Review { author { ...Who } }
            }
            fragment Who on User { username ... on User { name } }
            "#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [ {
            "upc": "1", "name": "Product 1", "weight": 381,
            "inStock": true, "shippingEstimate": 190,
            "reviews": [
                { "id": "1", "author": { "username": "user1", "name": "Ada Lovelace" } },
                { "id": "2", "author": { "username": "user8", "name": "Dennis Ritchie" } },
                { "id": "3", "author": { "username": "user15", "name": "Sophie Wilson" } },
                { "id": "4", "author": { "username": "user2", "name": "Alan Turing" } },
            ],
            "price": 8018,
        } ] })
    );
    // Fragments change nothing about fetching: one call per subgraph.
    for name in ["accounts", "inventory", "products", "reviews"] {
        assert_eq!(gw.requests_to(name).len(), 1, "{name}");
    }
}

#[tokio::test]
async fn response_keys_follow_the_client_field_order_across_fragments() {
    let gw = TestGateway::demo().await;
    let body = raw_response(
        &gw,
        r#"{ product(upc: "2") { upc ... on Product { inStock } name ...F upc } }
           fragment F on Product { price inStock weight }"#,
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"product":{"upc":"2","inStock":true,"name":"Product 2","price":15937,"weight":712}}}"#
    );
}

#[tokio::test]
async fn aliases_of_the_same_field_with_different_arguments() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ a: topProducts(first: 1) { upc } b: topProducts(first: 2) { upc } }")
        .await;
    assert_eq!(
        *data(&response),
        json!({ "a": [ { "upc": "1" } ], "b": [ { "upc": "1" }, { "upc": "2" } ] })
    );
}

#[tokio::test]
async fn aliases_inside_entity_fetches() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{ p: product(upc: "1") {
                id: upc
                stock: inStock
                cost: shippingEstimate
                first: reviews { author { who: name handle: username } }
                again: reviews { rating }
            } }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "p": {
            "id": "1",
            "stock": true,
            "cost": 190,
            "first": [
                { "author": { "who": "Ada Lovelace", "handle": "user1" } },
                { "author": { "who": "Dennis Ritchie", "handle": "user8" } },
                { "author": { "who": "Sophie Wilson", "handle": "user15" } },
                { "author": { "who": "Alan Turing", "handle": "user2" } },
            ],
            "again": [ { "rating": 2 }, { "rating": 4 }, { "rating": 1 }, { "rating": 3 } ],
        } })
    );
    // Both aliased `reviews` ride in one reviews fetch.
    assert_eq!(gw.requests_to("reviews").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Variables
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn variable_default_applies_when_not_given() {
    let gw = TestGateway::demo().await;
    let query = "query Top($n: Int = 2) { topProducts(first: $n) { upc } }";
    let response = gw.query(query).await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [ { "upc": "1" }, { "upc": "2" } ] })
    );
    let response = gw.query_with(query, json!({ "n": 3 })).await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [ { "upc": "1" }, { "upc": "2" }, { "upc": "3" } ] })
    );
}

#[tokio::test]
async fn variables_reach_root_and_nested_entity_fields() {
    let gw = TestGateway::demo().await;
    let query = r#"query($upc: String!, $withReviews: Boolean!, $withStock: Boolean = true) {
        product(upc: $upc) {
            name
            inStock @include(if: $withStock)
            reviews @include(if: $withReviews) { id author { name } }
        }
    }"#;
    let response = gw
        .query_with(query, json!({ "upc": "4", "withReviews": true }))
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": {
            "name": "Product 4",
            "inStock": false,
            "reviews": [
                { "id": "13", "author": { "name": "Edsger Dijkstra" } },
                { "id": "14", "author": { "name": "Radia Perlman" } },
                { "id": "15", "author": { "name": "Leslie Lamport" } },
                { "id": "16", "author": { "name": "Barbara Liskov" } },
            ],
        } })
    );
    let products = gw.requests_to("products");
    assert_eq!(products[0]["variables"]["upc"], "4");
    // The nested fetches get the variables their directives use.
    let reviews = gw.requests_to("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["variables"]["withReviews"], true);
    let inventory = gw.requests_to("inventory");
    assert_eq!(inventory.len(), 1);
    assert_eq!(inventory[0]["variables"]["withStock"], true);
}

#[tokio::test]
async fn variables_in_mutation_arguments() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query_with(
            r#"mutation Add($upc: String!, $author: ID!, $body: String!, $rating: Int) {
                addReview(productUpc: $upc, authorId: $author, body: $body, rating: $rating) {
                    id rating product { name } author { username name }
                }
            }"#,
            json!({ "upc": "7", "author": "20", "body": "via variables", "rating": 2 }),
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "addReview": {
            "id": "401", "rating": 2,
            "product": { "name": "Product 7" },
            "author": { "username": "user20", "name": "Robin Milner" },
        } })
    );
}

// ---------------------------------------------------------------------------------------------
// @skip / @include
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn skip_and_include_with_literals() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{ product(upc: "1") {
                upc
                name @skip(if: true)
                inStock @include(if: false)
                price @include(if: true)
                weight @skip(if: false)
                ... @skip(if: true) { shippingEstimate }
                ... on Product @include(if: false) { reviews { id } }
            } }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": { "upc": "1", "price": 8018, "weight": 381 } })
    );
    assert_eq!(gw.requests_to("products").len(), 1);
    assert_eq!(gw.total_requests(), 1, "excluded fields cause no fetch");
}

#[tokio::test]
async fn skip_and_include_with_variables() {
    let gw = TestGateway::demo().await;
    let query = r#"query($yes: Boolean!, $no: Boolean!) { product(upc: "2") {
        upc
        name @include(if: $yes)
        price @include(if: $no)
        weight @skip(if: $yes)
        ... @include(if: $yes) { inStock }
        ...Estimate @skip(if: $no)
    } }
    fragment Estimate on Product { shippingEstimate }"#;
    let response = gw
        .query_with(query, json!({ "yes": true, "no": false }))
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": { "upc": "2", "name": "Product 2", "inStock": true, "shippingEstimate": 356 } })
    );
    let response = gw
        .query_with(query, json!({ "yes": false, "no": true }))
        .await;
    assert_eq!(
        *data(&response),
        json!({ "product": { "upc": "2", "price": 15937, "weight": 712 } })
    );
}

#[tokio::test]
async fn skipped_entity_field_causes_no_entity_fetch() {
    let gw = TestGateway::demo().await;
    let query = r#"query($withReviews: Boolean!) {
        topProducts(first: 2) { name reviews @include(if: $withReviews) { author { name } } }
    }"#;
    let response = gw.query_with(query, json!({ "withReviews": false })).await;
    assert_eq!(
        *data(&response),
        json!({ "topProducts": [ { "name": "Product 1" }, { "name": "Product 2" } ] })
    );
    assert!(gw.requests_to("reviews").is_empty());
    assert!(gw.requests_to("accounts").is_empty());
    assert_eq!(gw.total_requests(), 1);

    gw.clear_requests();
    let response = gw.query_with(query, json!({ "withReviews": true })).await;
    let products = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(
        products[0]["reviews"][0],
        json!({ "author": { "name": "Ada Lovelace" } })
    );
    assert_eq!(products[1]["reviews"].as_array().map(Vec::len), Some(5));
    assert_eq!(gw.requests_to("reviews").len(), 1);
    assert_eq!(gw.requests_to("accounts").len(), 1);
}

#[tokio::test]
async fn skip_variable_on_a_fragment_of_entity_fields() {
    let gw = TestGateway::demo().await;
    let query = r#"query($skip: Boolean!) {
        product(upc: "8") { upc ... @skip(if: $skip) { inStock shippingEstimate } }
    }"#;
    let response = gw.query_with(query, json!({ "skip": true })).await;
    assert_eq!(*data(&response), json!({ "product": { "upc": "8" } }));
    assert!(gw.requests_to("inventory").is_empty());

    let response = gw.query_with(query, json!({ "skip": false })).await;
    assert_eq!(
        *data(&response),
        json!({ "product": { "upc": "8", "inStock": false, "shippingEstimate": 1349 } })
    );
    assert_eq!(gw.requests_to("inventory").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// __typename
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_repeated_field_is_planned_with_every_occurrence_s_client_keys() {
    // The second `topProducts` names the product's name `upc`: the reviews and inventory
    // fetches the first one needs still send the real key, and the client's `upc` stays the
    // name (a fetch planned for one occurrence alone wrote the key over it, or sent the name
    // as the key).
    let gw = TestGateway::demo().await;
    let plain = gw
        .query("{ topProducts(first: 3) { upc name reviews { id } inStock } }")
        .await;
    let products = data(&plain)["topProducts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(products.len(), 3, "{plain}");
    for query in [
        "{ topProducts(first: 3) { reviews { id } inStock } topProducts(first: 3) { upc: name } }",
        "{ topProducts(first: 3) { upc: name } topProducts(first: 3) { reviews { id } inStock } }",
        "{ top: topProducts(first: 3) { ... on Product { reviews { id } } } \
           top: topProducts(first: 3) { upc: name inStock } }",
    ] {
        let answer = gw.query(query).await;
        assert_eq!(answer.get("errors"), None, "{query}: {answer}");
        let key = if query.contains("top:") {
            "top"
        } else {
            "topProducts"
        };
        let got = data(&answer)[key].as_array().cloned().unwrap_or_default();
        assert_eq!(got.len(), 3, "{query}: {answer}");
        for (product, want) in got.iter().zip(&products) {
            assert_eq!(product["upc"], want["name"], "{query}: {answer}");
            assert_eq!(product["reviews"], want["reviews"], "{query}: {answer}");
            assert_eq!(product["inStock"], want["inStock"], "{query}: {answer}");
        }
    }
    // One occurrence under a condition, the other not: the field is there either way, and
    // what the conditional one selects only when its condition holds.
    for (first, second) in [("@include(if: $v)", ""), ("", "@skip(if: $v)")] {
        let query = format!(
            "query($v: Boolean!) {{ topProducts(first: 3) {first} {{ reviews {{ id }} inStock }} \
             topProducts(first: 3) {second} {{ upc: name }} }}"
        );
        for v in [true, false] {
            let answer = gw.query_with(&query, json!({ "v": v })).await;
            assert_eq!(answer.get("errors"), None, "{query} {v}: {answer}");
            let got = data(&answer)["topProducts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(got.len(), 3, "{query} {v}: {answer}");
            let conditional_first = second.is_empty();
            let first_in = if conditional_first { v } else { true };
            let second_in = if conditional_first { true } else { !v };
            for (product, want) in got.iter().zip(&products) {
                let expect = |included: bool, value: &Value| {
                    if included {
                        value.clone()
                    } else {
                        Value::Null
                    }
                };
                assert_eq!(
                    product["reviews"],
                    expect(first_in, &want["reviews"]),
                    "{query} {v}"
                );
                assert_eq!(
                    product["inStock"],
                    expect(first_in, &want["inStock"]),
                    "{query} {v}"
                );
                assert_eq!(
                    product["upc"],
                    expect(second_in, &want["name"]),
                    "{query} {v}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_field_repeated_through_fragments_is_planned_with_every_occurrence_s_client_keys() {
    // As above, with the occurrences reached through different inline fragments and named
    // spreads, at the root and below an entity boundary (`name` is accounts', reached by the key
    // `id` that the reviews fetch also answers the client's `id: username` in): each occurrence
    // planned alone put the key the other's fetch needed beside the client's alias in one fetch.
    let gw = TestGateway::demo().await;
    let plain = gw
        .query(
            "{ topProducts(first: 3) { upc name inStock reviews { id author { id name username } } } }",
        )
        .await;
    let products = items(&data(&plain)["topProducts"]);
    assert_eq!(products.len(), 3, "{plain}");
    let root_cases = [
        "{ topProducts(first: 3) { reviews { id } inStock } \
           ... on Query { topProducts(first: 3) { upc: name } } }",
        "{ ...T topProducts(first: 3) { reviews { id } inStock } } \
         fragment T on Query { topProducts(first: 3) { upc: name } }",
        "{ ... { topProducts(first: 3) { upc: name } } ...T } \
         fragment T on Query { ...U } fragment U on Query { topProducts(first: 3) { reviews { id } inStock } }",
        "query($v: Boolean = true) { ... @include(if: $v) { topProducts(first: 3) { reviews { id } inStock } } \
           topProducts(first: 3) { upc: name } }",
        // Both conditional, one under the other's condition and one more.
        "query($a: Boolean = true, $b: Boolean = true) { ... @include(if: $a) { \
           topProducts(first: 3) { reviews { id } inStock } \
           topProducts(first: 3) @include(if: $b) { upc: name } } }",
        // Conditions neither of which includes the other: planned apart, each aliasing its
        // own fields away from the other's.
        "query($a: Boolean = true, $b: Boolean = false) { \
           topProducts(first: 3) @include(if: $a) { reviews { id } inStock } \
           topProducts(first: 3) @skip(if: $b) { upc: name } }",
    ];
    for query in root_cases {
        let answer = gw.query(query).await;
        assert_eq!(answer.get("errors"), None, "{query}: {answer}");
        let got = items(&data(&answer)["topProducts"]);
        assert_eq!(got.len(), 3, "{query}: {answer}");
        for (product, want) in got.iter().zip(&products) {
            assert_eq!(product["upc"], want["name"], "{query}: {answer}");
            assert_eq!(product["inStock"], want["inStock"], "{query}: {answer}");
            let ids = |p: &Value| -> Vec<Value> {
                items(&p["reviews"])
                    .iter()
                    .map(|r| r["id"].clone())
                    .collect()
            };
            assert_eq!(ids(product), ids(want), "{query}: {answer}");
        }
    }
    // Each condition false in turn: a part is there exactly when its own conditions hold.
    // (`a` guards reviews and inStock, `b` guards upc; `nested` puts both under `a`.)
    for (query, nested) in [
        (
            "query($a: Boolean!, $b: Boolean!) { topProducts(first: 3) @include(if: $a) \
             { reviews { id } inStock } ... @skip(if: $b) { topProducts(first: 3) { upc: name } } }",
            false,
        ),
        (
            "query($a: Boolean!, $b: Boolean!) { ... @include(if: $a) { topProducts(first: 3) \
             { reviews { id } inStock } topProducts(first: 3) @skip(if: $b) { upc: name } } }",
            true,
        ),
    ] {
        for (a, b) in [(true, true), (true, false), (false, true), (false, false)] {
            let answer = gw.query_with(query, json!({ "a": a, "b": b })).await;
            assert_eq!(answer.get("errors"), None, "{query} {a} {b}: {answer}");
            let with_upc = !b && (a || !nested);
            if !a && !with_upc {
                assert_eq!(*data(&answer), json!({}), "{query} {a} {b}");
                continue;
            }
            let got = items(&data(&answer)["topProducts"]);
            assert_eq!(got.len(), 3, "{query} {a} {b}: {answer}");
            for (product, want) in got.iter().zip(&products) {
                let mut keys: Vec<&str> = product
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let mut expected = Vec::new();
                if a {
                    expected.extend(["reviews", "inStock"]);
                }
                if with_upc {
                    expected.push("upc");
                }
                keys.sort_unstable();
                expected.sort_unstable();
                assert_eq!(keys, expected, "{query} {a} {b}: {answer}");
                if with_upc {
                    assert_eq!(product["upc"], want["name"], "{query} {a} {b}");
                }
                if a {
                    assert_eq!(product["inStock"], want["inStock"], "{query} {a} {b}");
                }
            }
        }
    }
    let nested_cases = [
        "{ topProducts(first: 3) { reviews { author { id: username } } \
           ... on Product { reviews { author { name } } } } }",
        "{ topProducts(first: 3) { ...R reviews { author { name } } } } \
         fragment R on Product { reviews { ... on Review { author { id: username } } } }",
        "{ topProducts(first: 3) { reviews { author { name } } \
           reviews { ...A } } } fragment A on Review { author { id: username username } }",
        "query($a: Boolean = true, $b: Boolean = true) { topProducts(first: 3) { \
           ... @include(if: $a) { reviews @skip(if: false) { author @include(if: $b) { id: username } } \
           reviews { author { name } } } } }",
        "query($a: Boolean = true, $b: Boolean = true) { topProducts(first: 3) { \
           reviews @include(if: $a) { author { id: username } } \
           reviews @include(if: $b) { author { name } } } }",
    ];
    for query in nested_cases {
        let answer = gw.query(query).await;
        assert_eq!(answer.get("errors"), None, "{query}: {answer}");
        let got = items(&data(&answer)["topProducts"]);
        assert_eq!(got.len(), 3, "{query}: {answer}");
        for (product, want) in got.iter().zip(&products) {
            let reviews = items(&product["reviews"]);
            let wanted = items(&want["reviews"]);
            assert_eq!(reviews.len(), wanted.len(), "{query}: {answer}");
            for (review, want) in reviews.iter().zip(&wanted) {
                let author = &review["author"];
                assert_eq!(
                    author["id"], want["author"]["username"],
                    "{query}: {answer}"
                );
                assert_eq!(author["name"], want["author"]["name"], "{query}: {answer}");
                if author.get("username").is_some() {
                    assert_eq!(
                        author["username"], want["author"]["username"],
                        "{query}: {answer}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn a_field_repeated_under_too_many_unmergeable_conditions_is_refused() {
    // Each of them would collect every other's selection to see its keys: nine are planned,
    // ten are refused with a clear error rather than planned without each other's keys.
    let gw = TestGateway::demo().await;
    let query = |n: usize| {
        let variables: Vec<String> = (0..n).map(|i| format!("$v{i}: Boolean = true")).collect();
        let fields: Vec<String> = (0..n)
            .map(|i| format!("topProducts(first: 1) @include(if: $v{i}) {{ upc }}"))
            .collect();
        format!("query({}) {{ {} }}", variables.join(", "), fields.join(" "))
    };
    let nine = gw.query(&query(9)).await;
    assert_eq!(nine.get("errors"), None, "{nine}");
    assert_eq!(data(&nine)["topProducts"][0]["upc"], json!("1"), "{nine}");
    let ten = gw.query(&query(10)).await;
    assert_eq!(
        ten["errors"][0]["extensions"]["code"], "QUERY_PLANNING_FAILED",
        "{ten}"
    );
    let message = ten["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`topProducts`") && message.contains("more than 9"),
        "{ten}"
    );
}

#[tokio::test]
async fn nested_conditions_of_one_kind_each_apply() {
    // A field reached through a fragment with its own condition carries both; GraphQL allows
    // `@include` once per selection, so the fetch must still be a valid query, for root fields,
    // entity fields (inventory's inStock), named spreads and three levels deep.
    let gw = TestGateway::demo().await;
    let all = gw
        .query("{ topProducts(first: 2) { upc name inStock shippingEstimate } }")
        .await;
    let products = data(&all)["topProducts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(products.len(), 2, "{all}");
    let query = "query($a: Boolean!, $b: Boolean!, $c: Boolean!) { topProducts(first: 2) { upc \
                 ... @include(if: $a) { name @include(if: $b) inStock @include(if: $b) } \
                 ... @skip(if: $a) { ... @skip(if: $b) { name } } \
                 ...A @include(if: $a) } } \
                 fragment A on Product { ...B @include(if: $b) } \
                 fragment B on Product { ... @include(if: $c) { shippingEstimate @include(if: $a) } }";
    for (a, b, c) in [
        (true, true, true),
        (true, false, true),
        (false, true, true),
        (false, false, false),
        (true, true, false),
    ] {
        let answer = gw
            .query_with(query, json!({ "a": a, "b": b, "c": c }))
            .await;
        assert_eq!(answer.get("errors"), None, "{a} {b} {c}: {answer}");
        let expected: Vec<Value> = products
            .iter()
            .map(|p| {
                let mut out = serde_json::Map::new();
                out.insert("upc".into(), p["upc"].clone());
                if (a && b) || (!a && !b) {
                    out.insert("name".into(), p["name"].clone());
                }
                if a && b {
                    out.insert("inStock".into(), p["inStock"].clone());
                }
                if a && b && c {
                    out.insert("shippingEstimate".into(), p["shippingEstimate"].clone());
                }
                Value::Object(out)
            })
            .collect();
        assert_eq!(
            *data(&answer),
            json!({ "topProducts": expected }),
            "{a} {b} {c}"
        );
    }
}

#[tokio::test]
async fn typename_at_root_on_objects_and_in_entity_fetched_objects() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{
                __typename
                product(upc: "1") {
                    __typename
                    warehouse { __typename name }
                    reviews { __typename id author { __typename name } }
                }
                topReviews(first: 1) { author { kind: __typename username } }
            }"#,
        )
        .await;
    assert_eq!(
        *data(&response),
        json!({
            "__typename": "Query",
            "product": {
                "__typename": "Product",
                "warehouse": { "__typename": "Warehouse", "name": "Amsterdam Hub" },
                "reviews": [
                    { "__typename": "Review", "id": "1", "author": { "__typename": "User", "name": "Ada Lovelace" } },
                    { "__typename": "Review", "id": "2", "author": { "__typename": "User", "name": "Dennis Ritchie" } },
                    { "__typename": "Review", "id": "3", "author": { "__typename": "User", "name": "Sophie Wilson" } },
                    { "__typename": "Review", "id": "4", "author": { "__typename": "User", "name": "Alan Turing" } },
                ],
            },
            "topReviews": [ { "author": { "kind": "User", "username": "user1" } } ],
        })
    );
}

#[tokio::test]
async fn typename_alone_needs_no_subgraph() {
    let gw = TestGateway::demo().await;
    let response = gw.query("{ __typename }").await;
    assert_eq!(*data(&response), json!({ "__typename": "Query" }));
    assert_eq!(gw.total_requests(), 0);
    let response = gw.query("mutation { __typename }").await;
    assert_eq!(*data(&response), json!({ "__typename": "Mutation" }));
    assert_eq!(gw.total_requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Introspection
// ---------------------------------------------------------------------------------------------

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn introspection_lists_api_types_without_federation_machinery() {
    let gw = TestGateway::demo().await;
    let response = gw.query("{ __schema { types { name } } }").await;
    let types = names(&data(&response)["__schema"]["types"]);
    for wanted in [
        "Query",
        "Mutation",
        "Product",
        "User",
        "Review",
        "Warehouse",
        "String",
        "Int",
        "Boolean",
        "ID",
        "__Schema",
        "__Type",
    ] {
        assert!(
            types.iter().any(|t| t == wanted),
            "{wanted} missing from {types:?}"
        );
    }
    for hidden in [
        "_Entity",
        "_Service",
        "_Any",
        "join__Graph",
        "join__FieldSet",
        "link__Purpose",
        "link__Import",
    ] {
        assert!(
            !types.iter().any(|t| t == hidden),
            "{hidden} is exposed: {types:?}"
        );
    }
    assert_eq!(
        gw.total_requests(),
        0,
        "introspection is answered by the gateway"
    );
}

#[tokio::test]
async fn introspection_query_type_has_no_entities_or_service() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(r#"{ __type(name: "Query") { name kind fields { name } } }"#)
        .await;
    let ty = &data(&response)["__type"];
    assert_eq!(ty["name"], "Query");
    assert_eq!(ty["kind"], "OBJECT");
    let mut fields = names(&ty["fields"]);
    fields.sort();
    assert_eq!(
        fields,
        [
            "me",
            "product",
            "topProducts",
            "topReviews",
            "user",
            "users",
            "warehouses"
        ]
    );
}

#[tokio::test]
async fn introspection_of_an_entity_type_lists_fields_from_every_subgraph() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{ __type(name: "Product") {
                name kind
                fields { name type { kind name ofType { name } } }
            } }"#,
        )
        .await;
    let ty = &data(&response)["__type"];
    assert_eq!(ty["name"], "Product");
    assert_eq!(ty["kind"], "OBJECT");
    let mut fields = names(&ty["fields"]);
    fields.sort();
    assert_eq!(
        fields,
        [
            "inStock",
            "name",
            "price",
            "reviews",
            "shippingEstimate",
            "upc",
            "warehouse",
            "weight"
        ]
    );
    let field = |name: &str| {
        ty["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .expect("field")
    };
    assert_eq!(
        field("shippingEstimate")["type"],
        json!({ "kind": "NON_NULL", "name": null, "ofType": { "name": "Int" } })
    );
    assert_eq!(
        field("warehouse")["type"],
        json!({ "kind": "OBJECT", "name": "Warehouse", "ofType": null })
    );
}

#[tokio::test]
async fn introspection_mixed_with_real_fields() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            r#"{
                __schema { queryType { name } mutationType { name } subscriptionType { name } }
                topProducts(first: 1) { upc __typename inStock }
                __type(name: "Warehouse") { fields { name } }
            }"#,
        )
        .await;
    let data = data(&response);
    assert_eq!(
        data["__schema"],
        json!({ "queryType": { "name": "Query" }, "mutationType": { "name": "Mutation" }, "subscriptionType": null })
    );
    assert_eq!(
        data["topProducts"],
        json!([ { "upc": "1", "__typename": "Product", "inStock": true } ])
    );
    let mut fields = names(&data["__type"]["fields"]);
    fields.sort();
    assert_eq!(fields, ["city", "code", "name", "region"]);
    assert_eq!(gw.requests_to("products").len(), 1);
    assert_eq!(gw.requests_to("inventory").len(), 1);
}

#[tokio::test]
async fn introspection_and_real_fields_keep_the_client_order() {
    let gw = TestGateway::demo().await;
    let body = raw_response(
        &gw,
        r#"{ product(upc: "1") { upc } __type(name: "Warehouse") { name kind } __typename }"#,
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"product":{"upc":"1"},"__type":{"name":"Warehouse","kind":"OBJECT"},"__typename":"Query"}}"#
    );
}
