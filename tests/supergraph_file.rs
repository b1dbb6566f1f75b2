//! A supergraph composed by another tool: `fixtures/rover_demo_supergraph.graphql` is the demo
//! supergraph as Apollo rover prints it (join v0.3, types in alphabetical order, one
//! `@join__type` per key, `@join__field` only where a field is not in every graph of its type,
//! rover's URLs). Served with `seam serve --supergraph`, it must behave exactly like the
//! supergraph Seam composes itself: the same responses, and the same requests to each subgraph.

mod common;

use serde_json::{json, Value};

use common::{demo_routers, TestGateway};
use seam::plan::plan_text;
use seam::supergraph::Supergraph;

const ROVER_SDL: &str = include_str!("fixtures/rover_demo_supergraph.graphql");

const SUBGRAPHS: [&str; 4] = ["accounts", "inventory", "products", "reviews"];

/// One gateway serving rover's supergraph and one composing the demo itself, each with its own
/// fresh demo subgraphs (so mutations on one don't show on the other).
struct Pair {
    rover: TestGateway,
    demo: TestGateway,
}

impl Pair {
    async fn start() -> Self {
        Pair {
            rover: TestGateway::supergraph(ROVER_SDL, demo_routers()).await,
            demo: TestGateway::demo().await,
        }
    }

    /// Runs `query` on both; asserts equal responses without errors and equal subgraph requests.
    async fn same(&self, query: &str, variables: Value) -> Value {
        self.rover.clear_requests();
        self.demo.clear_requests();
        let from_rover = self.rover.query_with(query, variables.clone()).await;
        let from_demo = self.demo.query_with(query, variables).await;
        assert!(
            from_rover.get("errors").is_none(),
            "errors with rover's supergraph: {from_rover}"
        );
        assert_eq!(from_rover, from_demo, "responses differ for {query}");
        for name in SUBGRAPHS {
            assert_eq!(
                self.rover.requests_to(name),
                self.demo.requests_to(name),
                "requests to {name} differ for {query}"
            );
        }
        from_rover["data"].clone()
    }
}

#[test]
fn rover_supergraph_is_read_into_the_same_model() {
    let rover = Supergraph::parse(ROVER_SDL).expect("rover's supergraph parses");
    let names: Vec<String> = rover.subgraphs.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, SUBGRAPHS);
    assert_eq!(
        rover.subgraphs[0].url,
        "http://accounts.internal:4001/graphql"
    );
    let accounts = rover.subgraphs[0].graph_value.clone();
    assert_eq!(accounts, "ACCOUNTS");
    // User has two keys in accounts, each from its own @join__type.
    let accounts_id = seam::supergraph::SubgraphId(0);
    assert_eq!(rover.keys_in("User", accounts_id).count(), 2);
    // The warehouse key in products is not resolvable.
    let products_id = seam::supergraph::SubgraphId(2);
    assert!(rover
        .keys_in("Warehouse", products_id)
        .all(|k| !k.resolvable));
}

#[test]
fn rover_supergraph_plans_like_the_composed_one() {
    let rover = Supergraph::parse(ROVER_SDL).expect("rover's supergraph parses");
    let ours = Supergraph::parse(&common::demo_supergraph_sdl()).expect("demo supergraph");
    for query in [
        "{ topProducts(first: 2) { name shippingEstimate inStock warehouse { city } reviews { author { name username } } } }",
        "{ topReviews { author { username } product { inStock name } } }",
        r#"{ user(id: "3") { name reviews { product { name price } } } }"#,
        r#"mutation { setPrice(upc: "1", price: 5) { shippingEstimate } updateName(id: "1", name: "x") { reviews { id } } }"#,
        "query($r: Boolean!) { topProducts { upc reviews @include(if: $r) { id } } }",
    ] {
        assert_eq!(
            plan_text(&rover, query, None, Default::default()),
            plan_text(&ours, query, None, Default::default()),
            "plans differ for {query}"
        );
    }
}

#[tokio::test]
async fn rover_supergraph_spans_all_four_subgraphs() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            "{ topProducts(first: 3) { upc name price inStock shippingEstimate warehouse { name city } reviews { body author { name username } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["topProducts"][2]["shippingEstimate"], 521);
    assert_eq!(data["topProducts"][2]["warehouse"]["city"], "New York");
    assert_eq!(
        data["topProducts"][0]["reviews"][3]["author"],
        json!({ "name": "Alan Turing", "username": "user2" })
    );
    for name in SUBGRAPHS {
        assert!(!pair.rover.requests_to(name).is_empty(), "{name} is called");
    }
}

#[tokio::test]
async fn rover_supergraph_entity_jumps_both_ways() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            r#"{ product(upc: "2") { reviews { id author { name } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["product"]["reviews"][4],
        json!({ "id": "9", "author": { "name": "Ken Thompson" } })
    );
    let data = pair
        .same(
            r#"{ user(id: "3") { name reviews { id product { upc name price } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["user"]["reviews"][1],
        json!({ "id": "10", "product": { "upc": "3", "name": "Product 3", "price": 23856 } })
    );
    assert!(pair.rover.requests_to("inventory").is_empty());
}

#[tokio::test]
async fn rover_supergraph_requires_provides_and_shareable() {
    let pair = Pair::start().await;
    let data = pair
        .same("{ topProducts(first: 2) { shippingEstimate } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "topProducts": [ { "shippingEstimate": 190 }, { "shippingEstimate": 356 } ] })
    );
    assert_eq!(
        pair.rover.requests_to("inventory")[0]["variables"]["representations"][0],
        json!({ "__typename": "Product", "upc": "1", "price": 8018, "weight": 381 })
    );

    let data = pair
        .same(
            "{ topReviews(first: 2) { author { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["topReviews"][1]["author"]["username"], "user8");
    assert!(pair.rover.requests_to("accounts").is_empty());

    let data = pair
        .same(
            "{ topReviews(first: 1) { product { inStock name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["topReviews"][0]["product"],
        json!({ "inStock": true, "name": "Product 1" })
    );
    assert!(pair.rover.requests_to("products").is_empty());
}

#[tokio::test]
async fn rover_supergraph_batches_and_uses_the_compound_key() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            "{ topProducts(first: 10) { reviews { author { name } } warehouse { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["topProducts"][4]["warehouse"]["name"], "Singapore Hub");
    assert_eq!(data["topProducts"][9]["warehouse"], Value::Null);
    let accounts = pair.rover.requests_to("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        accounts[0]["variables"]["representations"]
            .as_array()
            .map(Vec::len),
        Some(20)
    );
}

#[tokio::test]
async fn rover_supergraph_mutations_in_order_then_entity_fetches() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            r#"mutation {
                a: setPrice(upc: "3", price: 1) { price }
                b: setPrice(upc: "3", price: 200000) { price shippingEstimate }
                addReview(productUpc: "3", authorId: "4", body: "rover") { id author { name } product { inStock } }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({
            "a": { "price": 1 },
            "b": { "price": 200000, "shippingEstimate": 0 },
            "addReview": { "id": "401", "author": { "name": "Edsger Dijkstra" }, "product": { "inStock": true } },
        })
    );
    let data = pair
        .same(
            r#"{ product(upc: "3") { price reviews { body } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["product"]["price"], 200000);
    assert_eq!(data["product"]["reviews"][3]["body"], "rover");
}

#[tokio::test]
async fn rover_supergraph_fragments_aliases_and_variables() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            r#"query($n: Int = 2, $withAuthor: Boolean!) {
                a: topProducts(first: 1) { upc }
                b: topProducts(first: $n) {
                    ...P
                    ... on Product { id: upc }
                }
            }
            fragment P on Product {
                stock: inStock
                reviews { ... on Review { rating author @include(if: $withAuthor) { ...U } } }
            }
            fragment U on User { name }"#,
            json!({ "withAuthor": true }),
        )
        .await;
    assert_eq!(data["a"], json!([ { "upc": "1" } ]));
    assert_eq!(data["b"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        data["b"][1]["reviews"][0],
        json!({ "rating": 3, "author": { "name": "Alan Turing" } })
    );
    assert_eq!(data["b"][1]["id"], "2");

    let data = pair
        .same(
            r#"query($skip: Boolean!) { topProducts(first: 1) { upc reviews @skip(if: $skip) { id } } }"#,
            json!({ "skip": true }),
        )
        .await;
    assert_eq!(data, json!({ "topProducts": [ { "upc": "1" } ] }));
    assert!(pair.rover.requests_to("reviews").is_empty());
}

#[tokio::test]
async fn rover_supergraph_typename_and_introspection() {
    let pair = Pair::start().await;
    let data = pair
        .same(
            r#"{ __typename topReviews(first: 1) { __typename author { __typename name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "__typename": "Query", "topReviews": [ { "__typename": "Review", "author": { "__typename": "User", "name": "Ada Lovelace" } } ] })
    );
    // Introspection lists types in the order of the supergraph SDL, which is rover's here, so the
    // two lists are compared as sets.
    let query = r#"{ __schema { types { name } } __type(name: "Query") { fields { name } } }"#;
    let data = pair.rover.query(query).await["data"].clone();
    let demo = pair.demo.query(query).await["data"].clone();
    let sorted_names = |list: &Value| {
        let mut names: Vec<String> = list
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        sorted_names(&data["__schema"]["types"]),
        sorted_names(&demo["__schema"]["types"])
    );
    assert_eq!(data["__type"], demo["__type"]);
    let types = sorted_names(&data["__schema"]["types"]);
    let types: Vec<&str> = types.iter().map(String::as_str).collect();
    assert!(types.contains(&"Warehouse"));
    for hidden in [
        "_Entity",
        "_Service",
        "_Any",
        "join__Graph",
        "join__FieldSet",
        "link__Purpose",
    ] {
        assert!(!types.contains(&hidden), "{hidden} is exposed");
    }
    let fields: Vec<&str> = data["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(!fields.contains(&"_entities") && !fields.contains(&"_service"));
}
