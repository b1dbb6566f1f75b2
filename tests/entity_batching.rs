//! Entity fetches to one subgraph that can start together go out as one request, and one request
//! never asks for the same entity with the same selection twice (issue 11 §1).
//!
//! Calls are counted by real subgraphs that record every request. Subgraph request sharing is
//! switched off, so the counts are the plan's own.

mod common;
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{from_fn, Next};
use serde_json::{json, Map, Value};

use common::TestGateway;

const NO_SHARING: &str = "traffic:\n  dedupe_subgraph_requests: false\n";

/// The query of the public gateway benchmark (graphql-hive/graphql-gateways-benchmark).
const BENCHMARK_QUERY: &str = "
fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}";

/// Every list of representations an `_entities` request carries (one per `_entities` field).
fn representation_lists(request: &Value) -> Vec<&Vec<Value>> {
    request["variables"]
        .as_object()
        .into_iter()
        .flat_map(|variables| variables.values())
        .filter_map(Value::as_array)
        .filter(|list| list.iter().all(|r| r.get("__typename").is_some()))
        .collect()
}

fn calls_per_subgraph(gw: &TestGateway) -> HashMap<&'static str, usize> {
    ["accounts", "products", "reviews", "inventory"]
        .into_iter()
        .map(|name| (name, gw.requests_to(name).len()))
        .collect()
}

/// The demo data the benchmark query reads, asked of the subgraphs directly (no gateway), plus
/// the inventory values `src/demo/data.rs` and `inventory.rs` document.
struct DemoData {
    /// id ▶ (username, name), in id order.
    users: Vec<(String, String, String)>,
    /// (id, body, author id, product upc), in id order, which is the order the subgraph lists a
    /// user's or a product's reviews in.
    reviews: Vec<(String, String, String, String)>,
    /// upc ▶ (name, price, weight).
    products: HashMap<String, (String, i64, i64)>,
}

async fn direct(client: &reqwest::Client, url: &str, query: &str) -> Value {
    let response: Value = client
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("subgraph reachable")
        .json()
        .await
        .expect("JSON answer");
    assert!(response.get("errors").is_none(), "{response}");
    response["data"].clone()
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

impl DemoData {
    async fn read(gw: &TestGateway) -> Self {
        let users = direct(
            &gw.client,
            &gw.subgraph("accounts").url,
            "{ users { id username name } }",
        )
        .await;
        let reviews = direct(
            &gw.client,
            &gw.subgraph("reviews").url,
            "{ topReviews(first: 100000) { id body author { id } product { upc } } }",
        )
        .await;
        let products = direct(
            &gw.client,
            &gw.subgraph("products").url,
            "{ topProducts(first: 100000) { upc name price weight } }",
        )
        .await;
        let as_list = |value: &Value, key: &str| value[key].as_array().expect("a list").clone();
        DemoData {
            users: as_list(&users, "users")
                .iter()
                .map(|u| (text(&u["id"]), text(&u["username"]), text(&u["name"])))
                .collect(),
            reviews: as_list(&reviews, "topReviews")
                .iter()
                .map(|r| {
                    let (id, body) = (text(&r["id"]), text(&r["body"]));
                    (
                        id,
                        body,
                        text(&r["author"]["id"]),
                        text(&r["product"]["upc"]),
                    )
                })
                .collect(),
            products: as_list(&products, "topProducts")
                .iter()
                .map(|p| {
                    let price = p["price"].as_i64().expect("price");
                    let weight = p["weight"].as_i64().expect("weight");
                    (text(&p["upc"]), (text(&p["name"]), price, weight))
                })
                .collect(),
        }
    }

    /// `...User`.
    fn user(&self, id: &str) -> Map<String, Value> {
        let (_, username, name) = self.users.iter().find(|u| u.0 == id).expect("a known user");
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        out.insert("username".into(), json!(username));
        out.insert("name".into(), json!(name));
        out
    }

    /// `...Product`: in stock unless the UPC is a multiple of 4; shipping is free above 100000
    /// cents, else half a cent per gram.
    fn product(&self, upc: &str) -> Map<String, Value> {
        let (name, price, weight) = &self.products[upc];
        let n: i64 = upc.parse().expect("numeric UPC");
        let shipping = if *price > 100_000 { 0 } else { weight / 2 };
        let mut out = Map::new();
        out.insert("inStock".into(), json!(n % 4 != 0));
        out.insert("name".into(), json!(name));
        out.insert("price".into(), json!(price));
        out.insert("shippingEstimate".into(), json!(shipping));
        out.insert("upc".into(), json!(upc));
        out.insert("weight".into(), json!(weight));
        out
    }

    /// `...Review` of each review that `keep` selects, each completed by `more`.
    fn reviews(
        &self,
        keep: impl Fn(&(String, String, String, String)) -> bool,
        more: impl Fn(&(String, String, String, String)) -> (&'static str, Value),
    ) -> Value {
        Value::Array(
            self.reviews
                .iter()
                .filter(|r| keep(r))
                .map(|r| {
                    let (key, value) = more(r);
                    json!({ "id": r.0, "body": r.1, key: value })
                })
                .collect(),
        )
    }

    /// `author { ...User reviews { ...Review product { ...Product } } }` of a review.
    fn author_with_products(&self, author: &str) -> Value {
        let mut user = self.user(author);
        let reviews = self.reviews(
            |r| r.2 == author,
            |r| ("product", Value::Object(self.product(&r.3))),
        );
        user.insert("reviews".into(), reviews);
        Value::Object(user)
    }

    /// `reviews { ...Review author { ... } }` of a product.
    fn product_reviews(&self, upc: &str) -> Value {
        self.reviews(
            |r| r.3 == upc,
            |r| ("author", self.author_with_products(&r.2)),
        )
    }

    fn expected(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|(id, _, _)| {
                let mut user = self.user(id);
                let reviews = self.reviews(
                    |r| &r.2 == id,
                    |r| {
                        let mut product = self.product(&r.3);
                        product.insert("reviews".into(), self.product_reviews(&r.3));
                        ("product", Value::Object(product))
                    },
                );
                user.insert("reviews".into(), reviews);
                Value::Object(user)
            })
            .collect();
        // `topProducts` lists the first five products by default.
        let top: Vec<Value> = (1..=5)
            .map(|n| {
                let upc = n.to_string();
                let mut product = self.product(&upc);
                product.insert("reviews".into(), self.product_reviews(&upc));
                Value::Object(product)
            })
            .collect();
        json!({ "users": users, "topProducts": top })
    }
}

/// The benchmark's query against the demo subgraphs: one call per subgraph per step of the plan
/// (7 in all, where one call per entity path made 13), no entity asked for twice in one list,
/// and the answer the data says.
#[tokio::test]
async fn benchmark_query_makes_one_call_per_subgraph_and_step() {
    let gw = TestGateway::compose_with_config(common::demo_routers(), "", NO_SHARING).await;
    let response = gw.query(BENCHMARK_QUERY).await;
    assert!(response.get("errors").is_none(), "{response}");

    let calls = calls_per_subgraph(&gw);
    let expected_calls: HashMap<&str, usize> = [
        ("accounts", 2),  // users; then every author's name
        ("products", 2),  // topProducts; then every product reached through reviews
        ("reviews", 1),   // the reviews of the users and of the top products
        ("inventory", 2), // the top products' stock; then every other product's
    ]
    .into_iter()
    .collect();
    assert_eq!(calls, expected_calls);

    for name in ["accounts", "products", "reviews", "inventory"] {
        for request in gw.requests_to(name) {
            for list in representation_lists(&request) {
                let distinct: HashSet<String> = list.iter().map(Value::to_string).collect();
                assert_eq!(distinct.len(), list.len(), "a repeated entity: {request}");
            }
        }
    }

    let expected = DemoData::read(&gw).await.expected();
    assert!(
        response["data"] == expected,
        "the answer differs from the demo data"
    );
}

/// How long the reviews subgraph holds a call at most; the test releases it as soon as every
/// query has joined it, so this only bounds a failing run.
const HOLD_AT_MOST: Duration = Duration::from_secs(60);

/// `seam_subgraph_requests_shared_total` of the reviews subgraph.
async fn reviews_shared(gw: &TestGateway) -> u64 {
    let series = "seam_subgraph_requests_shared_total{subgraph=\"reviews\"}";
    gw.metric(series)
        .await
        .map_or(0, |value| value.parse().expect("a count"))
}

/// Identical benchmark queries in flight share the subgraphs' answers (subgraph request sharing
/// is on by default), entity answers included: every client still gets the whole answer, though
/// all but one merged the entities from an answer the others read too. The reviews subgraph
/// holds its call until every other query has joined it, so the queries meet there whatever
/// the machine's speed; the answer they share holds the objects that each request's later
/// fetches add to, through lists, at several depths.
#[tokio::test]
async fn benchmark_answers_are_whole_when_requests_share_entity_answers() {
    let holding = Arc::new(AtomicBool::new(false));
    let released = Arc::new(AtomicBool::new(false));
    let routers = common::demo_routers()
        .into_iter()
        .map(|(name, router)| {
            if name != "reviews" {
                return (name, router);
            }
            let (holding, released) = (holding.clone(), released.clone());
            let held = router.layer(from_fn(move |request: Request, next: Next| {
                let (holding, released) = (holding.clone(), released.clone());
                async move {
                    if holding.load(Ordering::SeqCst) {
                        let deadline = tokio::time::Instant::now() + HOLD_AT_MOST;
                        while !released.load(Ordering::SeqCst)
                            && tokio::time::Instant::now() < deadline
                        {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    next.run(request).await
                }
            }));
            (name, held)
        })
        .collect();
    let gw = TestGateway::compose_with_config(routers, "", "").await;
    let expected = DemoData::read(&gw).await.expected();
    holding.store(true, Ordering::SeqCst);
    let calls_before = gw.requests_to("reviews").len();

    let clients = 4;
    let queries = futures::future::join_all((0..clients).map(|_| gw.query(BENCHMARK_QUERY)));
    let release = async {
        let deadline = tokio::time::Instant::now() + HOLD_AT_MOST;
        while reviews_shared(&gw).await < clients - 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        released.store(true, Ordering::SeqCst);
    };
    let (answers, ()) = tokio::join!(queries, release);
    assert_eq!(
        reviews_shared(&gw).await,
        clients - 1,
        "every query but the first joined the held reviews call"
    );
    for answer in &answers {
        assert!(answer.get("errors").is_none(), "{answer}");
        assert!(
            answer["data"] == expected,
            "an answer differs from the demo data"
        );
    }
    let calls = gw.requests_to("reviews").len() - calls_before;
    assert_eq!(calls, 1, "one reviews call served every query");
}

#[derive(SimpleObject)]
struct Item {
    id: ID,
}

struct CatalogQuery;

#[Object(name = "Query")]
impl CatalogQuery {
    async fn items(&self) -> Vec<Item> {
        ["1", "2", "3"]
            .into_iter()
            .map(|id| Item { id: id.into() })
            .collect()
    }

    /// Items 2 and 4: item 2 is also in `items`.
    async fn featured(&self) -> Vec<Item> {
        ["2", "4"]
            .into_iter()
            .map(|id| Item { id: id.into() })
            .collect()
    }

    #[graphql(entity)]
    async fn item_by_id(&self, id: ID) -> Item {
        Item { id }
    }
}

/// `price` fails for item 2 only; `label` never fails.
struct PricedItem {
    id: ID,
}

#[Object(name = "Item")]
impl PricedItem {
    async fn id(&self) -> &ID {
        &self.id
    }

    async fn price(&self) -> async_graphql::Result<Option<i32>> {
        match self.id.as_str() {
            "2" => Err("price feed unavailable for item 2".into()),
            other => Ok(other.parse::<i32>().ok().map(|n| n * 100)),
        }
    }

    async fn label(&self) -> Option<String> {
        Some(format!("item {}", self.id.as_str()))
    }
}

struct PricingQuery;

#[Object(name = "Query")]
impl PricingQuery {
    #[graphql(entity)]
    async fn item_by_id(&self, id: ID) -> PricedItem {
        PricedItem { id }
    }
}

fn catalog() -> axum::Router {
    let schema = Schema::build(CatalogQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    support::graphql_router(schema)
}

fn pricing() -> axum::Router {
    let schema = Schema::build(PricingQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    support::graphql_router(schema)
}

async fn catalog_and(pricing: axum::Router) -> TestGateway {
    TestGateway::compose_with_config(
        vec![("catalog", catalog()), ("pricing", pricing)],
        "",
        NO_SHARING,
    )
    .await
}

/// Two paths with the same selection share one list, where item 2 (under both) is sent once and
/// answered at both places; its error is reported at both client paths.
#[tokio::test]
async fn paths_with_one_selection_share_a_list_and_their_errors() {
    let gw = catalog_and(pricing()).await;
    let response = gw
        .query("{ items { id price } featured { id price } }")
        .await;
    assert_eq!(
        response["data"],
        json!({
            "items": [
                { "id": "1", "price": 100 },
                { "id": "2", "price": null },
                { "id": "3", "price": 300 }
            ],
            "featured": [{ "id": "2", "price": null }, { "id": "4", "price": 400 }]
        }),
        "{response}"
    );
    let paths: HashSet<String> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].to_string())
        .collect();
    let expected: HashSet<String> = [
        json!(["items", 1, "price"]),
        json!(["featured", 0, "price"]),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    assert_eq!(paths, expected, "{response}");

    let requests = gw.requests_to("pricing");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let ids: Vec<Value> = support::representations(&requests[0])
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [json!("1"), json!("2"), json!("3"), json!("4")]);
}

/// Two paths with different selections are two aliased `_entities` fields of one request; each
/// field's errors go to its own paths, with the client's aliases.
#[tokio::test]
async fn paths_with_different_selections_are_aliased_fields_of_one_request() {
    let gw = catalog_and(pricing()).await;
    let response = gw
        .query("{ items { id cost: price } featured { id label price } }")
        .await;
    assert_eq!(
        response["data"],
        json!({
            "items": [
                { "id": "1", "cost": 100 },
                { "id": "2", "cost": null },
                { "id": "3", "cost": 300 }
            ],
            "featured": [
                { "id": "2", "label": "item 2", "price": null },
                { "id": "4", "label": "item 4", "price": 400 }
            ]
        }),
        "{response}"
    );
    let paths: HashSet<String> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].to_string())
        .collect();
    let expected: HashSet<String> = [json!(["items", 1, "cost"]), json!(["featured", 0, "price"])]
        .iter()
        .map(Value::to_string)
        .collect();
    assert_eq!(paths, expected, "{response}");

    let requests = gw.requests_to("pricing");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let query = requests[0]["query"].as_str().expect("query text");
    assert!(
        query.contains("_0:_entities(") && query.contains("_1:_entities("),
        "{query}"
    );
    assert_eq!(representation_lists(&requests[0]).len(), 2, "{query}");
}

/// A batched call that fails fails every fetch in it as each would have failed alone: null at
/// each entity's field and an error at each client path.
#[tokio::test]
async fn a_failed_batch_fails_each_fetch_at_its_paths() {
    let failing = support::faulty(
        pricing(),
        support::Fault::Status(StatusCode::INTERNAL_SERVER_ERROR, "down"),
    );
    let gw = catalog_and(failing).await;
    let response = gw
        .query("{ items { id cost: price } featured { id label } }")
        .await;
    assert_eq!(
        response["data"],
        json!({
            "items": [
                { "id": "1", "cost": null },
                { "id": "2", "cost": null },
                { "id": "3", "cost": null }
            ],
            "featured": [{ "id": "2", "label": null }, { "id": "4", "label": null }]
        }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    let paths: HashSet<String> = errors.iter().map(|e| e["path"].to_string()).collect();
    let expected: HashSet<String> = [
        json!(["items", 0, "cost"]),
        json!(["items", 1, "cost"]),
        json!(["items", 2, "cost"]),
        json!(["featured", 0, "label"]),
        json!(["featured", 1, "label"]),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    assert_eq!(paths, expected, "{response}");
    assert_eq!(errors.len(), 5, "{response}");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"),
        "{response}"
    );
}

const PRICING_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Item @key(fields: "id") { id: ID! price: Int label: String }
"#;

/// A batched answer whose `data` is null because one aliased field failed: that field's error
/// reaches its own paths, and the other field's missing list is explained by it rather than
/// reported as a malformed answer.
#[tokio::test]
async fn an_error_that_nulls_the_whole_batch_answer_explains_every_entry() {
    let pricing = support::scripted(PRICING_SDL, |_| {
        json!({
            "data": null,
            "errors": [{ "message": "labels are down", "path": ["_1", 0, "label"] }],
        })
    });
    let gw = catalog_and(pricing).await;
    let response = gw
        .query("{ items { id cost: price } featured { id label } }")
        .await;
    assert_eq!(
        response["data"],
        json!({
            "items": [
                { "id": "1", "cost": null },
                { "id": "2", "cost": null },
                { "id": "3", "cost": null }
            ],
            "featured": [{ "id": "2", "label": null }, { "id": "4", "label": null }]
        }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["message"], "labels are down", "{response}");
    assert_eq!(
        errors[0]["path"],
        json!(["featured", 0, "label"]),
        "{response}"
    );
    let requests = gw.requests_to("pricing");
    assert_eq!(requests.len(), 1, "{requests:?}");
}
