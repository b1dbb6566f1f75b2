//! Each demo subgraph started on a real socket and queried over HTTP, the way the gateway
//! talks to it.

use axum::Router;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::*;

async fn start(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/graphql")
}

async fn post(url: &str, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "status {}",
        response.status()
    );
    response.json().await.expect("JSON body")
}

/// Posts and insists on a response without errors.
async fn data(url: &str, query: &str, variables: Value) -> Value {
    let body = post(url, query, variables).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ";

fn entities_query(selection: &str) -> String {
    format!("{ENTITIES}{selection} }} }}")
}

#[test]
fn checked_in_schemas_match_subgraph_sdls() {
    let regenerate = std::env::var_os("SEAM_UPDATE_SCHEMAS").is_some();
    for (name, sdl) in subgraph_sdls() {
        let path = format!("{}/schemas/{name}.graphql", env!("CARGO_MANIFEST_DIR"));
        if regenerate {
            std::fs::write(&path, &sdl).expect("write schema");
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == sdl,
            "schemas/{name}.graphql differs from what the {name} demo subgraph prints for \
             `_service {{ sdl }}`.\nRegenerate with: \
             SEAM_UPDATE_SCHEMAS=1 cargo test --lib demo::tests::checked_in_schemas\n\
             --- printed ---\n{sdl}"
        );
    }
}

#[test]
fn sdls_carry_the_federation_directives() {
    let sdls: std::collections::HashMap<_, _> = subgraph_sdls().into_iter().collect();
    let expect = |name: &str, needles: &[&str]| {
        for needle in needles {
            assert!(
                sdls[name].contains(needle),
                "{name} SDL lacks {needle:?}:\n{}",
                sdls[name]
            );
        }
    };
    for name in ["accounts", "products", "reviews", "inventory"] {
        expect(name, &["url: \"https://specs.apollo.dev/federation/v2"]);
    }
    expect(
        "accounts",
        &["type User @key(fields: \"id\") @key(fields: \"username\") {"],
    );
    expect(
        "products",
        &[
            "type Product @key(fields: \"upc\") {",
            "name: String! @shareable",
            "type Warehouse @key(fields: \"region code\", resolvable: false) {",
        ],
    );
    expect(
        "inventory",
        &[
            "type Product @key(fields: \"upc\") {",
            "price: Int! @external",
            "weight: Int! @external",
            "name: String! @shareable",
            "shippingEstimate: Int! @requires(fields: \"price weight\")",
            "type Warehouse @key(fields: \"region code\") {",
        ],
    );
    expect(
        "reviews",
        &[
            "type Review @key(fields: \"id\") {",
            "author: User! @provides(fields: \"username\")",
            "type User @key(fields: \"id\") {",
            "username: String! @external",
            "type Product @key(fields: \"upc\") {",
        ],
    );
}

#[tokio::test]
async fn spawned_subgraphs_serve_their_sdl() {
    let host = std::net::IpAddr::from([127, 0, 0, 1]);
    let spawned = spawn_subgraphs(host).await.expect("spawn");
    let names: Vec<_> = spawned.iter().map(|s| s.name).collect();
    assert_eq!(names, ["accounts", "products", "reviews", "inventory"]);
    for (subgraph, (name, sdl)) in spawned.iter().zip(subgraph_sdls()) {
        assert_eq!(subgraph.name, name);
        assert_eq!(subgraph.url, format!("http://{}/graphql", subgraph.addr));
        let data = data(&subgraph.url, "{ _service { sdl } }", json!({})).await;
        assert_eq!(data["_service"]["sdl"], sdl, "{name}");
    }
}

#[tokio::test]
async fn get_requests_work_too() {
    let url = start(products_router()).await;
    let body: Value = reqwest::get(format!(
        "{url}?query=%7B%20product(upc%3A%20%222%22)%20%7B%20name%20%7D%20%7D"
    ))
    .await
    .expect("request")
    .json()
    .await
    .expect("JSON body");
    assert_eq!(
        body,
        json!({ "data": { "product": { "name": "Product 2" } } })
    );
}

#[tokio::test]
async fn top_products_are_the_first_in_upc_order() {
    let url = start(products_router()).await;
    let data = data(
        &url,
        "{ topProducts { upc name price weight warehouse { region code } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data["topProducts"],
        json!([
            { "upc": "1", "name": "Product 1", "price": 8018, "weight": 381,
              "warehouse": { "region": "eu", "code": "ams" } },
            { "upc": "2", "name": "Product 2", "price": 15937, "weight": 712,
              "warehouse": { "region": "eu", "code": "fra" } },
            { "upc": "3", "name": "Product 3", "price": 23856, "weight": 1043,
              "warehouse": { "region": "us", "code": "nyc" } },
            { "upc": "4", "name": "Product 4", "price": 31775, "weight": 1374,
              "warehouse": { "region": "us", "code": "sfo" } },
            { "upc": "5", "name": "Product 5", "price": 39694, "weight": 1705,
              "warehouse": { "region": "ap", "code": "sin" } },
        ])
    );

    let data = data_of_top_products(&url, 200).await;
    assert_eq!(data.as_array().map(Vec::len), Some(100));
    assert_eq!(data[9]["warehouse"], Value::Null, "every tenth has none");
    let data = data_of_top_products(&url, -3).await;
    assert_eq!(data, json!([]));
}

async fn data_of_top_products(url: &str, first: i32) -> Value {
    let query = "query($first: Int) { topProducts(first: $first) { upc warehouse { code } } }";
    data(url, query, json!({ "first": first })).await["topProducts"].clone()
}

#[tokio::test]
async fn products_resolve_product_entities_and_set_prices() {
    let url = start(products_router()).await;
    let data = data(
        &url,
        &entities_query("... on Product { upc name price }"),
        json!({ "r": [
            { "__typename": "Product", "upc": "7" },
            { "__typename": "Product", "upc": "no-such-upc" },
        ] }),
    )
    .await;
    assert_eq!(
        data["_entities"],
        json!([
            { "__typename": "Product", "upc": "7", "name": "Product 7", "price": 55532 },
            null,
        ])
    );

    let mutation = "mutation { setPrice(upc: \"7\", price: 1234) { upc price } }";
    let changed = self::data(&url, mutation, json!({})).await;
    assert_eq!(changed["setPrice"], json!({ "upc": "7", "price": 1234 }));
    let read = self::data(&url, "{ product(upc: \"7\") { price } }", json!({})).await;
    assert_eq!(read["product"]["price"], 1234);
}

#[tokio::test]
async fn accounts_resolve_users_by_either_key() {
    let url = start(accounts_router()).await;
    let data = data(
        &url,
        &entities_query("... on User { id username name birthYear }"),
        json!({ "r": [
            { "__typename": "User", "id": "1" },
            { "__typename": "User", "username": "user20" },
            { "__typename": "User", "id": "999" },
        ] }),
    )
    .await;
    assert_eq!(
        data["_entities"],
        json!([
            { "__typename": "User", "id": "1", "username": "user1",
              "name": "Ada Lovelace", "birthYear": 1957 },
            { "__typename": "User", "id": "20", "username": "user20",
              "name": "Robin Milner", "birthYear": 1990 },
            null,
        ])
    );
}

#[tokio::test]
async fn accounts_serve_queries_and_rename_users() {
    let url = start(accounts_router()).await;
    let read = data(
        &url,
        "{ me { id } user(id: \"3\") { name } users { id } }",
        json!({}),
    )
    .await;
    assert_eq!(read["me"], json!({ "id": "1" }));
    assert_eq!(read["user"], json!({ "name": "Grace Hopper" }));
    assert_eq!(read["users"].as_array().map(Vec::len), Some(20));

    let mutation = "mutation { updateName(id: \"3\", name: \"Amazing Grace\") { id name } }";
    let changed = data(&url, mutation, json!({})).await;
    assert_eq!(
        changed["updateName"],
        json!({ "id": "3", "name": "Amazing Grace" })
    );
    let read = data(&url, "{ user(id: \"3\") { name } }", json!({})).await;
    assert_eq!(read["user"]["name"], "Amazing Grace");
}

#[tokio::test]
async fn inventory_computes_shipping_from_the_required_fields() {
    let url = start(inventory_router()).await;
    let data = data(
        &url,
        &entities_query("... on Product { upc name inStock shippingEstimate }"),
        json!({ "r": [
            { "__typename": "Product", "upc": "1", "price": 8018, "weight": 381 },
            { "__typename": "Product", "upc": "13", "price": 103046, "weight": 4353 },
            { "__typename": "Product", "upc": "4", "price": 31775, "weight": 1374 },
        ] }),
    )
    .await;
    assert_eq!(
        data["_entities"],
        json!([
            { "__typename": "Product", "upc": "1", "name": "Product 1",
              "inStock": true, "shippingEstimate": 190 },
            { "__typename": "Product", "upc": "13", "name": "Product 13",
              "inStock": true, "shippingEstimate": 0 },
            { "__typename": "Product", "upc": "4", "name": "Product 4",
              "inStock": false, "shippingEstimate": 687 },
        ])
    );
}

#[tokio::test]
async fn inventory_reports_missing_required_fields_as_errors() {
    let url = start(inventory_router()).await;
    let body = post(
        &url,
        &entities_query("... on Product { upc shippingEstimate }"),
        json!({ "r": [
            { "__typename": "Product", "upc": "1" },
            { "__typename": "Product", "upc": "2", "price": 15937, "weight": 712 },
        ] }),
    )
    .await;
    // async-graphql 7 leaves an erroring field out of its object instead of propagating
    // null to the parent, so the first entity comes back as `{ __typename, upc }`.
    let entities = &body["data"]["_entities"];
    assert_eq!(entities[0]["shippingEstimate"], Value::Null, "{body}");
    assert_eq!(
        entities[1],
        json!({ "__typename": "Product", "upc": "2", "shippingEstimate": 356 })
    );
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("requires `price` and `weight`")));
    // async-graphql 7 also drops the list index from error paths under `_entities`, so the
    // path is `["_entities", "shippingEstimate"]` rather than `["_entities", 0, ...]`.
    let path = body["errors"][0]["path"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(path.first(), Some(&json!("_entities")), "{body}");
    assert_eq!(path.last(), Some(&json!("shippingEstimate")), "{body}");

    // Without the fields it needs nothing, the entity still resolves.
    let data = data(
        &url,
        &entities_query("... on Product { upc inStock }"),
        json!({ "r": [{ "__typename": "Product", "upc": "8" }] }),
    )
    .await;
    assert_eq!(
        data["_entities"],
        json!([{ "__typename": "Product", "upc": "8", "inStock": false }])
    );
}

#[tokio::test]
async fn inventory_resolves_warehouses_by_compound_key() {
    let url = start(inventory_router()).await;
    let data = data(
        &url,
        &entities_query("... on Warehouse { region code name city }"),
        json!({ "r": [
            { "__typename": "Warehouse", "region": "us", "code": "sfo" },
            { "__typename": "Warehouse", "region": "eu", "code": "sfo" },
        ] }),
    )
    .await;
    assert_eq!(
        data["_entities"],
        json!([
            { "__typename": "Warehouse", "region": "us", "code": "sfo",
              "name": "Bay Area Depot", "city": "San Francisco" },
            null,
        ])
    );
    let all = self::data(&url, "{ warehouses { code } }", json!({})).await;
    assert_eq!(all["warehouses"].as_array().map(Vec::len), Some(6));
}

#[tokio::test]
async fn reviews_serve_top_reviews_and_entities() {
    let url = start(reviews_router()).await;
    let top = data(
        &url,
        "{ topReviews(first: 2) { id body rating author { id username } product { upc } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        top["topReviews"],
        json!([
            { "id": "1", "body": "Product 1: Not what I hoped for.", "rating": 2,
              "author": { "id": "1", "username": "user1" }, "product": { "upc": "1" } },
            { "id": "2", "body": "Product 1: Good value.", "rating": 4,
              "author": { "id": "8", "username": "user8" }, "product": { "upc": "1" } },
        ])
    );

    let entities = data(
        &url,
        &entities_query(
            "... on Product { upc reviews { id } } \
             ... on User { id username reviews { id } } \
             ... on Review { id rating }",
        ),
        json!({ "r": [
            { "__typename": "Product", "upc": "1" },
            { "__typename": "User", "id": "20" },
            { "__typename": "Review", "id": "400" },
        ] }),
    )
    .await;
    let product = &entities["_entities"][0];
    assert_eq!(
        product["reviews"],
        json!([{ "id": "1" }, { "id": "2" }, { "id": "3" }, { "id": "4" }])
    );
    let user = &entities["_entities"][1];
    assert_eq!(user["username"], "user20");
    let user_reviews = user["reviews"].as_array().map(Vec::len).unwrap_or(0);
    assert!(user_reviews >= 10, "user20 has {user_reviews} reviews");
    assert_eq!(
        entities["_entities"][2],
        json!({ "__typename": "Review", "id": "400", "rating": 2 })
    );
}

#[tokio::test]
async fn reviews_add_reviews() {
    let url = start(reviews_router()).await;
    let mutation = "mutation { addReview(productUpc: \"5\", authorId: \"2\", body: \"Nice\") \
                    { id body rating author { username } product { upc } } }";
    let added = data(&url, mutation, json!({})).await;
    assert_eq!(
        added["addReview"],
        json!({ "id": "401", "body": "Nice", "rating": 5,
                "author": { "username": "user2" }, "product": { "upc": "5" } })
    );

    let entities = data(
        &url,
        &entities_query("... on Product { reviews { id } }"),
        json!({ "r": [{ "__typename": "Product", "upc": "5" }] }),
    )
    .await;
    let ids = entities["_entities"][0]["reviews"].to_string();
    assert!(ids.contains("\"401\""), "{ids}");

    let refused = post(
        &url,
        "mutation { addReview(productUpc: \"nope\", authorId: \"2\", body: \"x\") { id } }",
        json!({}),
    )
    .await;
    assert!(refused["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("no product")));
    let refused = post(
        &url,
        "mutation { addReview(productUpc: \"5\", authorId: \"2\", body: \"x\", rating: 9) { id } }",
        json!({}),
    )
    .await;
    assert!(refused["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("rating")));
}

/// `config/seam.yaml` is how users run the gateway against these subgraphs started with
/// `spawn_subgraphs_from_port(_, 4001)`, so its order and ports must follow that function.
#[test]
fn example_config_points_at_the_demo_ports() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/seam.yaml");
    let text = std::fs::read_to_string(path).expect("config/seam.yaml");
    let config: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    assert_eq!(config["listen"], "0.0.0.0:4000");
    let subgraphs: Vec<(String, String)> = config["subgraphs"]
        .as_array()
        .expect("subgraphs")
        .iter()
        .map(|s| (s["name"].to_string(), s["url"].to_string()))
        .collect();
    let expected: Vec<(String, String)> = subgraph_sdls()
        .iter()
        .zip(4001..)
        .map(|((name, _), port)| {
            (
                format!("\"{name}\""),
                format!("\"http://127.0.0.1:{port}/graphql\""),
            )
        })
        .collect();
    assert_eq!(subgraphs, expected);
}

/// async-graphql resolves `_entities` all-or-nothing: one representation that no entity
/// resolver accepts (here, no key field) fails the whole field, so the gateway must not
/// send partial representations in a batch it expects to succeed.
#[tokio::test]
async fn a_representation_without_a_key_fails_the_whole_batch() {
    let url = start(accounts_router()).await;
    let body = post(
        &url,
        &entities_query("... on User { id }"),
        json!({ "r": [
            { "__typename": "User", "id": "1" },
            { "__typename": "User", "name": "Ada Lovelace" },
        ] }),
    )
    .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["message"], "Entity not found.", "{body}");
}

/// The first of four consecutive ports that are free now.
async fn four_free_ports(host: std::net::IpAddr) -> u16 {
    for _ in 0..100 {
        let first = TcpListener::bind((host, 0))
            .await
            .expect("bind")
            .local_addr()
            .expect("local addr")
            .port();
        let Some(last) = first.checked_add(3) else {
            continue;
        };
        let mut held = Vec::new();
        for port in first..=last {
            if let Ok(listener) = TcpListener::bind((host, port)).await {
                held.push(listener);
            }
        }
        if held.len() == 4 {
            return first;
        }
    }
    panic!("no four consecutive free ports");
}

#[tokio::test]
async fn running_demo_subgraphs_are_found_by_their_sdl() {
    let host = std::net::IpAddr::from([127, 0, 0, 1]);
    let first = four_free_ports(host).await;
    let spawned = spawn_subgraphs_from_port(host, first).await.expect("spawn");
    let client = reqwest::Client::new();
    let found = running_subgraphs(host, first, &client)
        .await
        .expect("the demo subgraphs are found");
    let found: Vec<_> = found.iter().map(|s| (s.name, s.url.clone())).collect();
    let expected: Vec<_> = spawned.iter().map(|s| (s.name, s.url.clone())).collect();
    assert_eq!(found, expected);
    // Federation subgraphs that are not the demo's, in its order, are not taken for it: from
    // `first + 1` the products subgraph answers where accounts is expected.
    assert!(running_subgraphs(host, first + 1, &client).await.is_none());
}
