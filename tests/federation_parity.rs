//! Federation parity: each scenario under tests/fixtures/federation/ is served by Seam three ways
//! (composed by Seam from a config, and from the supergraphs Apollo's and Hive's composition
//! libraries produced) over the same fixture subgraphs, and every query must get the same, right
//! answer from all three. The first tests check the fixture subgraph itself.

mod common;
mod support;

use async_graphql::dynamic::Schema;
use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn run(schema: &Schema, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    serde_json::to_value(schema.execute(request).await).expect("response as JSON")
}

const ENTITIES: &str = "query($representations: [_Any!]!) {
    _entities(representations: $representations) {
        __typename
        ... on Product { upc name shippingEstimate }
        ... on Variant { id color }
    }
}";

// ---- the fixture subgraph ----

#[tokio::test]
async fn fixture_service_answers_the_sdl_verbatim() {
    let dir = scenario_dir("basics");
    let sdl = std::fs::read_to_string(dir.join("reviews.graphql")).expect("reviews SDL");
    let schema = FixtureSubgraph::load(&dir, "reviews").schema();
    let answer = run(&schema, "{ _service { sdl } }", json!({})).await;
    assert_eq!(answer, json!({ "data": { "_service": { "sdl": sdl } } }));
}

#[tokio::test]
async fn fixture_entities_match_any_key_compound_ones_too_and_miss_with_null() {
    // The products SDL has no shippingEstimate: this fixture adds it for the test.
    let sdl = std::fs::read_to_string(scenario_dir("basics").join("products.graphql"))
        .expect("products SDL")
        .replace(
            "  variants: [Variant!]!",
            "  variants: [Variant!]!\n  shippingEstimate: Int",
        );
    let schema = FixtureSubgraph::new(sdl)
        .data(
            serde_json::from_str(
                &std::fs::read_to_string(scenario_dir("basics").join("products.json"))
                    .expect("products data"),
            )
            .expect("products JSON"),
        )
        .computed("Product", "shippingEstimate", |p, _| {
            json!(p["weight"].as_i64().map(|w| w * 10))
        })
        .schema();
    let representations = json!([
        { "__typename": "Variant", "id": "v1", "product": { "upc": "3" } },
        { "__typename": "Product", "sku": "CCH-2" },
        { "__typename": "Variant", "id": "v1", "product": { "upc": "2" } },
        { "__typename": "Product", "upc": "404" },
        // Representation fields reach computed fields and win over the row's.
        { "__typename": "Product", "upc": "1", "weight": 7 },
    ]);
    let answer = run(
        &schema,
        ENTITIES,
        json!({ "representations": representations }),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "_entities": [
            { "__typename": "Variant", "id": "v1", "color": "black" },
            { "__typename": "Product", "upc": "2", "name": "Couch", "shippingEstimate": 10000 },
            null,
            null,
            { "__typename": "Product", "upc": "1", "name": "Table", "shippingEstimate": 70 },
        ] } })
    );
}

#[tokio::test]
async fn fixture_references_are_completed_and_root_arguments_filter_tables() {
    let schema = FixtureSubgraph::load(&scenario_dir("basics"), "products").schema();
    let answer = run(
        &schema,
        r#"{ product(upc: "1") { sku variants { id color product { name } } } none: product(upc: "9") { sku } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": {
            "product": { "sku": "TBL-1", "variants": [
                { "id": "v1", "color": "oak", "product": { "name": "Table" } },
                { "id": "v2", "color": "walnut", "product": { "name": "Table" } },
            ] },
            "none": null,
        } })
    );
}

const MEDIA_SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Query {
  media(id: ID!): Media
  search: [Result]!
  shelf: [Media!]!
}

interface Media @key(fields: "id") {
  id: ID!
  title: String!
}

type Book implements Media @key(fields: "id") {
  id: ID!
  title: String!
  pages: Int!
}

type Movie implements Media @key(fields: "id") {
  id: ID!
  title: String!
  minutes: Int!
  rating: Rating
}

enum Rating { G PG R }

union Result = Book | Movie
"#;

fn media_fixture() -> FixtureSubgraph {
    FixtureSubgraph::new(MEDIA_SDL).data(json!({
        "Book": [ { "id": "m1", "title": "Dune", "pages": 412 } ],
        "Movie": [ { "id": "m2", "title": "Alien", "minutes": 117, "rating": "R" } ],
        "Query": { "search": [ { "__typename": "Movie", "id": "m2" }, null, { "id": "m1" } ] },
    }))
}

#[tokio::test]
async fn fixture_abstract_types_find_their_concrete_rows() {
    let schema = media_fixture()
        .fail("Book", "pages", "pages are classified")
        .schema();
    let answer = run(
        &schema,
        r#"query($reps: [_Any!]!) {
            movie: media(id: "m2") { __typename title ... on Movie { rating } }
            search { __typename ... on Book { title } ... on Movie { minutes } }
            shelf { id }
            _entities(representations: $reps) { __typename ... on Media { title } }
            book: media(id: "m1") { ... on Book { pages } }
        }"#,
        json!({ "reps": [
            { "__typename": "Media", "id": "m1" },
            { "__typename": "Media", "id": "m3" },
            { "__typename": "Movie", "id": "m2" },
        ] }),
    )
    .await;
    assert_eq!(
        answer["data"],
        json!({
            "movie": { "__typename": "Movie", "title": "Alien", "rating": "R" },
            "search": [ { "__typename": "Movie", "minutes": 117 }, null, { "__typename": "Book", "title": "Dune" } ],
            "shelf": [ { "id": "m1" }, { "id": "m2" } ],
            "_entities": [ { "__typename": "Book", "title": "Dune" }, null, { "__typename": "Movie", "title": "Alien" } ],
            "book": null,
        })
    );
    assert_eq!(
        answer["errors"][0]["message"], "pages are classified",
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["path"],
        json!(["book", "pages"]),
        "{answer}"
    );
}

#[tokio::test]
async fn fixture_fed1_extension_types_resolve_from_representations() {
    let sdl = r#"extend type Product @key(fields: "upc") {
  upc: String! @external
  price: Int! @external
  inStock: Boolean!
  tax: Int! @requires(fields: "price")
}
"#;
    let schema = FixtureSubgraph::new(sdl)
        .computed("Product", "inStock", |p, _| json!(p["upc"] != "2"))
        .computed("Product", "tax", |p, _| {
            json!(p["price"].as_i64().map(|p| p / 10))
        })
        .schema();
    let answer = run(
        &schema,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { upc inStock tax } } }",
        json!({ "r": [ { "__typename": "Product", "upc": "2", "price": 120 } ] }),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "_entities": [ { "upc": "2", "inStock": false, "tax": 12 } ] } })
    );
    let service = run(&schema, "{ _service { sdl } }", json!({})).await;
    assert_eq!(service["data"]["_service"]["sdl"], sdl);
}

#[tokio::test]
async fn fixture_interface_objects_answer_as_their_own_type() {
    let sdl = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject"])

type Media @key(fields: "id") @interfaceObject {
  id: ID!
  reviewCount: Int!
}
"#;
    let schema = FixtureSubgraph::new(sdl)
        .data(json!({ "Media": [ { "id": "m1", "reviewCount": 3 } ] }))
        .schema();
    let answer = run(
        &schema,
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Media { reviewCount } } }",
        json!({ "r": [ { "__typename": "Media", "id": "m1" }, { "__typename": "Media", "id": "m2" } ] }),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "_entities": [ { "__typename": "Media", "reviewCount": 3 }, null ] } })
    );
}

#[tokio::test]
async fn fixture_plain_services_have_no_federation_fields() {
    let schema = media_fixture().plain().schema();
    let answer = run(
        &schema,
        r#"{ __type(name: "Query") { fields { name } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "__type": { "fields": [
            { "name": "media" }, { "name": "search" }, { "name": "shelf" },
        ] } } })
    );
    let service = run(&schema, "{ _service { sdl } }", json!({})).await;
    assert!(service["errors"].is_array(), "{service}");
}

// ---- basics: users, products (two keys, a compound-keyed Variant), reviews (@requires) ----

async fn basics() -> Parity {
    let dir = scenario_dir("basics");
    let products = ["1", "2", "3"];
    Parity::start(
        "basics",
        vec![
            ("users", FixtureSubgraph::load(&dir, "users").router()),
            (
                "products",
                FixtureSubgraph::load(&dir, "products")
                    .computed("Query", "topProducts", move |_, args| {
                        let first = args["first"].as_u64().unwrap_or(5) as usize;
                        products
                            .iter()
                            .take(first)
                            .map(|upc| json!({ "upc": upc }))
                            .collect()
                    })
                    .router(),
            ),
            (
                "reviews",
                FixtureSubgraph::load(&dir, "reviews")
                    .computed("User", "reviews", |user, args| {
                        let reviews = user["reviews"].as_array().cloned().unwrap_or_default();
                        match args["first"].as_u64() {
                            Some(first) => reviews.into_iter().take(first as usize).collect(),
                            None => Value::Array(reviews),
                        }
                    })
                    .computed("Product", "shippingEstimate", |product, _| {
                        match (product["price"].as_i64(), product["weight"].as_i64()) {
                            (Some(price), _) if price > 1000 => json!(0),
                            (Some(_), Some(weight)) => json!(weight / 2),
                            _ => Value::Null, // inputs missing: a non-null error shows it
                        }
                    })
                    .router(),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn basics_composed_supergraph() {
    let parity = basics().await;
    insta::assert_snapshot!(parity.composed_sdl);
}

#[tokio::test]
async fn basics_plan_through_a_compound_key_and_requires() {
    let parity = basics().await;
    let query = r#"{ user(id: "3") { name reviews(first: 1) { variant { product { name shippingEstimate } } } } }"#;
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn basics_one_subgraph() {
    basics()
        .await
        .assert_query(
            "{ users { id name } }",
            json!({}),
            json!({ "data": { "users": [
                { "id": "1", "name": "Ada Lovelace" },
                { "id": "2", "name": "Alan Turing" },
                { "id": "3", "name": "Grace Hopper" },
                { "id": "4", "name": "Edsger Dijkstra" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn basics_entity_jumps_across_three_subgraphs() {
    basics()
        .await
        .assert_query(
            "{ me { username reviews { body product { name price } } } }",
            json!({}),
            json!({ "data": { "me": { "username": "ada", "reviews": [
                { "body": "Sturdy table", "product": { "name": "Table", "price": 899 } },
                { "body": "Comfy", "product": { "name": "Chair", "price": 54 } },
            ] } } }),
        )
        .await;
}

#[tokio::test]
async fn basics_requires_gets_price_and_weight_from_products() {
    basics()
        .await
        .assert_query(
            "{ topProducts { upc name shippingEstimate } }",
            json!({}),
            json!({ "data": { "topProducts": [
                { "upc": "1", "name": "Table", "shippingEstimate": 50 },
                { "upc": "2", "name": "Couch", "shippingEstimate": 0 },
                { "upc": "3", "name": "Chair", "shippingEstimate": 25 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn basics_nested_lists_with_arguments() {
    basics()
        .await
        .assert_query(
            "{ topProducts(first: 2) { name reviews { rating author { username } } } }",
            json!({}),
            json!({ "data": { "topProducts": [
                { "name": "Table", "reviews": [
                    { "rating": 5, "author": { "username": "ada" } },
                    { "rating": 3, "author": { "username": "grace" } },
                ] },
                { "name": "Couch", "reviews": [ { "rating": 2, "author": { "username": "alan" } } ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn basics_second_key_sku_reaches_products() {
    basics()
        .await
        .assert_query(
            "{ users { name favoriteProduct { upc name price } } }",
            json!({}),
            json!({ "data": { "users": [
                { "name": "Ada Lovelace", "favoriteProduct": { "upc": "1", "name": "Table", "price": 899 } },
                { "name": "Alan Turing", "favoriteProduct": null },
                { "name": "Grace Hopper", "favoriteProduct": { "upc": "3", "name": "Chair", "price": 54 } },
                { "name": "Edsger Dijkstra", "favoriteProduct": null },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn basics_compound_key_reaches_variants() {
    basics()
        .await
        .assert_query(
            "{ topReviews { id variant { id color inStock product { upc name } } } }",
            json!({}),
            json!({ "data": { "topReviews": [
                { "id": "r1", "variant": { "id": "v1", "color": "oak", "inStock": true, "product": { "upc": "1", "name": "Table" } } },
                { "id": "r2", "variant": null },
                { "id": "r3", "variant": { "id": "v1", "color": "black", "inStock": true, "product": { "upc": "3", "name": "Chair" } } },
                { "id": "r4", "variant": { "id": "v2", "color": "walnut", "inStock": false, "product": { "upc": "1", "name": "Table" } } },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn basics_variables_reach_the_root_field() {
    basics()
        .await
        .assert_query(
            "query($upc: String!) { product(upc: $upc) { name variants { color } reviews { body } shippingEstimate } }",
            json!({ "upc": "3" }),
            json!({ "data": { "product": {
                "name": "Chair",
                "variants": [ { "color": "black" } ],
                "reviews": [ { "body": "Comfy" } ],
                "shippingEstimate": 25,
            } } }),
        )
        .await;
}

#[tokio::test]
async fn basics_aliases_fragments_typename_and_a_missing_product() {
    basics()
        .await
        .assert_query(
            r#"{ a: product(upc: "1") { ...P } missing: product(upc: "404") { name } }
               fragment P on Product { __typename sku variants { id } }"#,
            json!({}),
            json!({ "data": {
                "a": { "__typename": "Product", "sku": "TBL-1", "variants": [ { "id": "v1" }, { "id": "v2" } ] },
                "missing": null,
            } }),
        )
        .await;
}

#[tokio::test]
async fn basics_compound_key_then_requires() {
    basics()
        .await
        .assert_query(
            r#"{ user(id: "3") { name reviews(first: 1) { variant { product { name shippingEstimate } } } } }"#,
            json!({}),
            json!({ "data": { "user": { "name": "Grace Hopper", "reviews": [
                { "variant": { "product": { "name": "Table", "shippingEstimate": 50 } } },
            ] } } }),
        )
        .await;
}

#[tokio::test]
async fn basics_entity_root_field_with_references_back() {
    basics()
        .await
        .assert_query(
            r#"{ review(id: "r2") { body author { name reviews { id } } product { sku } } }"#,
            json!({}),
            json!({ "data": { "review": {
                "body": "Too heavy",
                "author": { "name": "Alan Turing", "reviews": [ { "id": "r2" } ] },
                "product": { "sku": "CCH-2" },
            } } }),
        )
        .await;
}
