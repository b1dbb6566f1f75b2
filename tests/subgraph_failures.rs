//! Subgraphs that fail: down, slow, answering garbage, answering errors. In every case the rest
//! of the response comes back, the affected fields are null, and each error carries the client's
//! path and a code; a null in a non-null position nulls the nearest nullable parent.
//!
//! Two subgraphs: `catalog` owns `Product` (upc, name, description) and the root lists;
//! `shipping` adds `shippingEstimate: Int` and `deliveryDays: Int!` to `Product` by key and has
//! root fields of its own (`shippingStatus: String`, `carriers: [String!]!`).

mod common;
mod support;

use std::time::{Duration, Instant};

use async_graphql::{EmptyMutation, EmptySubscription, SDLExportOptions, Schema};
use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};

use common::TestGateway;
use support::{closed_port_url, faulty, graphql_router, representations, scripted, Fault};

mod catalog {
    use async_graphql::{ComplexObject, Object, Result, SimpleObject};

    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct Product {
        pub upc: String,
        pub name: String,
    }

    #[ComplexObject]
    impl Product {
        /// Fails for product 2, so a root fetch answers with a field error inside a list.
        async fn description(&self) -> Result<Option<String>> {
            if self.upc == "2" {
                Err("no description for product 2".into())
            } else {
                Ok(Some(format!("About {}", self.name)))
            }
        }
    }

    pub fn product(upc: &str) -> Product {
        Product {
            upc: upc.to_owned(),
            name: format!("Product {upc}"),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn status(&self) -> &str {
            "ok"
        }

        async fn top_products(&self) -> Vec<Product> {
            ["1", "2", "3"].into_iter().map(product).collect()
        }

        /// Product 2 twice: its representation is sent once and answers both places.
        async fn bestsellers(&self) -> Vec<Product> {
            ["2", "1", "2"].into_iter().map(product).collect()
        }

        async fn featured(&self) -> Option<Product> {
            Some(product("2"))
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
            ["1", "2", "3"]
                .contains(&upc.as_str())
                .then(|| product(&upc))
        }
    }
}

mod shipping {
    use async_graphql::Object;

    pub struct Product {
        pub upc: String,
    }

    #[Object]
    impl Product {
        async fn upc(&self) -> &str {
            &self.upc
        }

        async fn shipping_estimate(&self) -> Option<i32> {
            self.upc.parse::<i32>().ok().map(|n| n * 100)
        }

        async fn delivery_days(&self) -> i32 {
            2
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn shipping_status(&self) -> Option<&str> {
            Some("shipping as usual")
        }

        async fn carriers(&self) -> Vec<&str> {
            vec!["post", "courier"]
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> Product {
            Product { upc }
        }
    }
}

fn catalog_schema() -> Schema<catalog::Query, EmptyMutation, EmptySubscription> {
    Schema::build(catalog::Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

fn shipping_schema() -> Schema<shipping::Query, EmptyMutation, EmptySubscription> {
    Schema::build(shipping::Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

fn catalog_router() -> Router {
    graphql_router(catalog_schema())
}

fn shipping_router() -> Router {
    graphql_router(shipping_schema())
}

/// What async-graphql answers to `_service { sdl }`.
fn sdl_of<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// A gateway whose shipping subgraph meets `fault`.
async fn gateway_with_faulty_shipping(fault: Fault) -> TestGateway {
    TestGateway::compose(vec![
        ("catalog", catalog_router()),
        ("shipping", faulty(shipping_router(), fault)),
    ])
    .await
}

/// Catalog and shipping composed, with `down`'s URL pointing where nothing listens.
async fn gateway_with_down(down: &str) -> TestGateway {
    let closed = closed_port_url().await;
    let sdls = [
        ("catalog", sdl_of(&catalog_schema())),
        ("shipping", sdl_of(&shipping_schema())),
    ]
    .map(|(name, sdl)| seam::sources::SubgraphSdl {
        name: name.into(),
        url: Some(closed.clone()),
        sdl,
        ..Default::default()
    });
    let supergraph = seam::compose::compose(&sdls).expect("catalog and shipping compose");
    // The running subgraph's URL replaces the closed port; the one that is down keeps it.
    let up = if down == "catalog" {
        ("shipping", shipping_router())
    } else {
        ("catalog", catalog_router())
    };
    TestGateway::supergraph(&supergraph, vec![up]).await
}

async fn gateway_with_shipping_down() -> TestGateway {
    gateway_with_down("shipping").await
}

/// Both of shipping's fetches fail in this query: the root one and the entity one.
const MIXED_QUERY: &str = "{ status shippingStatus topProducts { upc name shippingEstimate } }";

fn codes_and_paths(response: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = response["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors expected: {response}"))
        .iter()
        .map(|e| {
            (
                e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                e["path"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|(code, path)| format!("{path} {code}"));
    out
}

/// The catalog's part of [`MIXED_QUERY`] arrived whole; shipping's fields are null, each with
/// one error at the client's path carrying `code` and the subgraph's name.
fn assert_shipping_failed(gw: &TestGateway, response: &Value, code: &str) {
    assert_eq!(
        response["data"],
        json!({
            "status": "ok",
            "shippingStatus": null,
            "topProducts": [
                { "upc": "1", "name": "Product 1", "shippingEstimate": null },
                { "upc": "2", "name": "Product 2", "shippingEstimate": null },
                { "upc": "3", "name": "Product 3", "shippingEstimate": null },
            ],
        }),
        "{response}"
    );
    let code = code.to_owned();
    assert_eq!(
        codes_and_paths(response),
        vec![
            (code.clone(), json!(["shippingStatus"])),
            (code.clone(), json!(["topProducts", 0, "shippingEstimate"])),
            (code.clone(), json!(["topProducts", 1, "shippingEstimate"])),
            (code.clone(), json!(["topProducts", 2, "shippingEstimate"])),
        ],
        "{response}"
    );
    for error in response["errors"].as_array().into_iter().flatten() {
        assert_eq!(error["extensions"]["service"], "shipping", "{response}");
        assert!(error["message"]
            .as_str()
            .is_some_and(|m| m.contains("shipping")));
    }
    assert_eq!(gw.requests_to("catalog").len(), 1, "catalog is called once");
}

#[tokio::test]
async fn subgraph_that_is_down_nulls_only_its_fields() {
    let gw = gateway_with_shipping_down().await;
    let response = gw.query(MIXED_QUERY).await;
    assert_shipping_failed(&gw, &response, "SUBREQUEST_HTTP_ERROR");
}

#[tokio::test]
async fn slow_subgraph_times_out_without_holding_the_response() {
    let gw = TestGateway::compose_with(
        vec![
            ("catalog", catalog_router()),
            (
                "shipping",
                faulty(shipping_router(), Fault::Slow(Duration::from_secs(2))),
            ),
        ],
        "    timeout: 300ms\n",
    )
    .await;
    let started = Instant::now();
    let response = gw.query(MIXED_QUERY).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(1500),
        "answered after {elapsed:?}, not at the 300ms timeout"
    );
    assert_shipping_failed(&gw, &response, "SUBREQUEST_HTTP_ERROR");
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("timed out"), "{response}");
}

#[tokio::test]
async fn subgraph_answering_non_json_is_a_malformed_response() {
    let gw = gateway_with_faulty_shipping(Fault::NotJson("oops")).await;
    let response = gw.query(MIXED_QUERY).await;
    assert_shipping_failed(&gw, &response, "SUBREQUEST_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn subgraph_answering_http_500_is_an_http_error() {
    let gw = gateway_with_faulty_shipping(Fault::Status(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal server error",
    ))
    .await;
    let response = gw.query(MIXED_QUERY).await;
    assert_shipping_failed(&gw, &response, "SUBREQUEST_HTTP_ERROR");
    for error in response["errors"].as_array().into_iter().flatten() {
        assert_eq!(error["extensions"]["http"]["status"], 500, "{response}");
    }
}

#[tokio::test]
async fn subgraph_answering_json_that_is_not_a_graphql_response_is_malformed() {
    // Neither `data` nor `errors`: nothing says what happened to the fields.
    let gw = gateway_with_faulty_shipping(Fault::Json(json!({ "status": "ok" }))).await;
    let response = gw.query(MIXED_QUERY).await;
    assert_shipping_failed(&gw, &response, "SUBREQUEST_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn subgraph_answering_data_that_is_not_an_object_is_malformed() {
    let gw = gateway_with_faulty_shipping(Fault::Json(json!({ "data": "oops" }))).await;
    let response = gw.query(MIXED_QUERY).await;
    assert_shipping_failed(&gw, &response, "SUBREQUEST_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn failed_non_null_field_nulls_its_nearest_nullable_parent() {
    let gw = gateway_with_shipping_down().await;
    // `featured: Product` is nullable; `deliveryDays: Int!` is not.
    let response = gw
        .query("{ status featured { name deliveryDays } topProducts { name } }")
        .await;
    assert_eq!(
        response["data"],
        json!({
            "status": "ok",
            "featured": null,
            "topProducts": [{ "name": "Product 1" }, { "name": "Product 2" }, { "name": "Product 3" }],
        }),
        "{response}"
    );
    assert_eq!(
        codes_and_paths(&response),
        vec![(
            "SUBREQUEST_HTTP_ERROR".to_owned(),
            json!(["featured", "deliveryDays"])
        )],
        "{response}"
    );
}

#[tokio::test]
async fn failed_non_null_fields_up_to_the_root_null_all_data() {
    let gw = gateway_with_shipping_down().await;
    // topProducts: [Product!]! and deliveryDays: Int! — nothing nullable between them and the root.
    let response = gw
        .query("{ status topProducts { name deliveryDays } }")
        .await;
    assert_eq!(response["data"], Value::Null, "{response}");
    assert!(response.as_object().unwrap().contains_key("data"));
    let errors = codes_and_paths(&response);
    assert!(
        errors.contains(&(
            "SUBREQUEST_HTTP_ERROR".to_owned(),
            json!(["topProducts", 0, "deliveryDays"])
        )),
        "{response}"
    );
    assert!(
        errors
            .iter()
            .all(|(code, _)| code == "SUBREQUEST_HTTP_ERROR"),
        "only the failure is reported, not each null it caused: {response}"
    );

    // A non-null root field of the failing subgraph does the same.
    let response = gw.query("{ status carriers }").await;
    assert_eq!(response["data"], Value::Null, "{response}");
    assert_eq!(
        codes_and_paths(&response),
        vec![("SUBREQUEST_HTTP_ERROR".to_owned(), json!(["carriers"]))],
        "{response}"
    );
}

#[tokio::test]
async fn field_errors_of_a_root_fetch_keep_the_client_path() {
    let gw = TestGateway::compose(vec![
        ("catalog", catalog_router()),
        ("shipping", shipping_router()),
    ])
    .await;
    let response = gw
        .query("{ items: topProducts { upc info: description } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "items": [
            { "upc": "1", "info": "About Product 1" },
            { "upc": "2", "info": null },
            { "upc": "3", "info": "About Product 3" },
        ] }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], json!(["items", 1, "info"]), "{response}");
    assert_eq!(errors[0]["message"], "no description for product 2");
}

/// Shipping's SDL for hand-written answers (what the async-graphql subgraph prints).
fn scripted_shipping(respond: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Router {
    scripted(&sdl_of(&shipping_schema()), respond)
}

/// Answers `_entities` with an estimate for every product but 2, whose field fails with an error
/// pointing at its index in the representations, as a subgraph that knows its list does.
fn shipping_failing_for_product_2(request: &Value) -> Value {
    let reps = representations(request);
    let mut entities = Vec::new();
    let mut errors = Vec::new();
    for (i, rep) in reps.iter().enumerate() {
        let upc = rep["upc"].as_str().unwrap_or_default();
        if upc == "2" {
            entities.push(json!({ "__typename": "Product", "shippingEstimate": null }));
            errors.push(json!({
                "message": "no estimate for product 2",
                "path": ["_entities", i, "shippingEstimate"],
                "extensions": { "code": "ESTIMATE_UNAVAILABLE" },
            }));
        } else {
            let n: i64 = upc.parse().unwrap_or_default();
            entities.push(json!({ "__typename": "Product", "shippingEstimate": n * 100 }));
        }
    }
    json!({ "data": { "_entities": entities }, "errors": errors })
}

#[tokio::test]
async fn entity_field_error_path_is_rewritten_to_the_client_path() {
    let gw = TestGateway::compose(vec![
        ("catalog", catalog_router()),
        (
            "shipping",
            scripted_shipping(shipping_failing_for_product_2),
        ),
    ])
    .await;
    let response = gw.query("{ topProducts { name shippingEstimate } }").await;
    assert_eq!(
        response["data"],
        json!({ "topProducts": [
            { "name": "Product 1", "shippingEstimate": 100 },
            { "name": "Product 2", "shippingEstimate": null },
            { "name": "Product 3", "shippingEstimate": 300 },
        ] }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(
        errors[0]["path"],
        json!(["topProducts", 1, "shippingEstimate"]),
        "{response}"
    );
    assert_eq!(errors[0]["message"], "no estimate for product 2");
    assert_eq!(errors[0]["extensions"]["code"], "ESTIMATE_UNAVAILABLE");
}

#[tokio::test]
async fn entity_field_error_is_reported_at_every_place_the_entity_fills() {
    let gw = TestGateway::compose(vec![
        ("catalog", catalog_router()),
        (
            "shipping",
            scripted_shipping(shipping_failing_for_product_2),
        ),
    ])
    .await;
    // bestsellers is [2, 1, 2]: product 2 is one representation filling two places.
    let response = gw
        .query("{ best: bestsellers { upc shippingEstimate } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "best": [
            { "upc": "2", "shippingEstimate": null },
            { "upc": "1", "shippingEstimate": 100 },
            { "upc": "2", "shippingEstimate": null },
        ] }),
        "{response}"
    );
    let shipping = gw.requests_to("shipping");
    assert_eq!(shipping.len(), 1);
    assert_eq!(representations(&shipping[0]).len(), 2, "deduplicated");
    let paths: Vec<Value> = codes_and_paths(&response)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        paths,
        vec![
            json!(["best", 0, "shippingEstimate"]),
            json!(["best", 2, "shippingEstimate"])
        ],
        "{response}"
    );
}

#[tokio::test]
async fn entity_error_with_a_non_null_field_nulls_the_parent() {
    // deliveryDays: Int! fails for product 2 alone: `featured` (nullable) becomes null.
    let gw = TestGateway::compose(vec![
        ("catalog", catalog_router()),
        (
            "shipping",
            scripted_shipping(|request| {
                let reps = representations(request);
                json!({
                    "data": { "_entities": reps.iter().map(|_| Value::Null).collect::<Vec<_>>() },
                    "errors": [{ "message": "cannot deliver", "path": ["_entities", 0, "deliveryDays"] }],
                })
            }),
        ),
    ])
    .await;
    let response = gw.query("{ status featured { name deliveryDays } }").await;
    assert_eq!(
        response["data"],
        json!({ "status": "ok", "featured": null }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], json!(["featured", "deliveryDays"]));
    assert_eq!(errors[0]["message"], "cannot deliver");
}

#[tokio::test]
async fn string_where_an_object_is_expected_fails_response_validation() {
    let gw = TestGateway::compose(vec![
        (
            "catalog",
            scripted(
                &sdl_of(&catalog_schema()),
                |_| json!({ "data": { "status": "ok", "featured": "oops" } }),
            ),
        ),
        ("shipping", shipping_router()),
    ])
    .await;
    let response = gw.query("{ status featured { name } }").await;
    assert_eq!(
        response["data"],
        json!({ "status": "ok", "featured": null }),
        "{response}"
    );
    assert_eq!(
        codes_and_paths(&response),
        vec![("RESPONSE_VALIDATION_FAILED".to_owned(), json!(["featured"]))],
        "{response}"
    );
}

#[tokio::test]
async fn entity_answer_of_the_wrong_shape_is_malformed() {
    // An entity that is a string, not an object.
    let gw = TestGateway::compose(vec![
        ("catalog", catalog_router()),
        (
            "shipping",
            scripted_shipping(|request| {
                let reps = representations(request);
                json!({ "data": { "_entities": reps.iter().map(|_| json!("oops")).collect::<Vec<_>>() } })
            }),
        ),
    ])
    .await;
    let response = gw
        .query("{ status featured { name shippingEstimate } }")
        .await;
    // The catalog's part of `featured` stays; only what shipping was to add is null.
    assert_eq!(
        response["data"],
        json!({ "status": "ok", "featured": { "name": "Product 2", "shippingEstimate": null } }),
        "{response}"
    );
    assert_eq!(
        codes_and_paths(&response),
        vec![(
            "SUBREQUEST_MALFORMED_RESPONSE".to_owned(),
            json!(["featured", "shippingEstimate"])
        )],
        "{response}"
    );
}

#[tokio::test]
async fn entities_of_the_wrong_count_are_malformed() {
    // Three representations, two entities: no entity can be trusted to be the right one.
    let gw = gateway_with_faulty_shipping(Fault::Json(json!({ "data": { "_entities": [
        { "__typename": "Product", "shippingEstimate": 1 },
        { "__typename": "Product", "shippingEstimate": 2 },
    ] } })))
    .await;
    let response = gw.query(ENTITY_QUERY).await;
    assert_estimates_failed(&response, "SUBREQUEST_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn entities_that_are_not_a_list_are_malformed() {
    let gw = gateway_with_faulty_shipping(Fault::Json(
        json!({ "data": { "_entities": { "shippingEstimate": 1 } } }),
    ))
    .await;
    let response = gw.query(ENTITY_QUERY).await;
    assert_estimates_failed(&response, "SUBREQUEST_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn entities_missing_from_the_answer_are_malformed() {
    let gw = gateway_with_faulty_shipping(Fault::Json(json!({ "data": {} }))).await;
    let response = gw.query(ENTITY_QUERY).await;
    assert_estimates_failed(&response, "SUBREQUEST_MALFORMED_RESPONSE");
}

/// Only shipping's entity fetch: the fields it adds to each product.
const ENTITY_QUERY: &str = "{ status topProducts { upc name shippingEstimate } }";

fn assert_estimates_failed(response: &Value, code: &str) {
    assert_eq!(
        response["data"],
        json!({
            "status": "ok",
            "topProducts": [
                { "upc": "1", "name": "Product 1", "shippingEstimate": null },
                { "upc": "2", "name": "Product 2", "shippingEstimate": null },
                { "upc": "3", "name": "Product 3", "shippingEstimate": null },
            ],
        }),
        "{response}"
    );
    let code = code.to_owned();
    assert_eq!(
        codes_and_paths(response),
        vec![
            (code.clone(), json!(["topProducts", 0, "shippingEstimate"])),
            (code.clone(), json!(["topProducts", 1, "shippingEstimate"])),
            (code.clone(), json!(["topProducts", 2, "shippingEstimate"])),
        ],
        "{response}"
    );
}

#[tokio::test]
async fn fetches_that_depend_on_a_failed_fetch_are_not_sent() {
    let gw = gateway_with_down("catalog").await;
    let response = gw
        .query("{ shippingStatus featured { name shippingEstimate } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "shippingStatus": "shipping as usual", "featured": null }),
        "{response}"
    );
    assert_eq!(
        codes_and_paths(&response),
        vec![("SUBREQUEST_HTTP_ERROR".to_owned(), json!(["featured"]))],
        "{response}"
    );
    let shipping = gw.requests_to("shipping");
    assert_eq!(shipping.len(), 1, "only the root fetch: {shipping:?}");
    assert!(representations(&shipping[0]).is_empty());
}

#[tokio::test]
async fn a_list_answered_one_level_too_deep_never_moves_entity_data_between_items() {
    // `topProducts: [Product]`, answered with product 1 wrapped in a list of its own. Shipping's
    // answers for products 2 and 3 must land on products 2 and 3, and the bad item is an error.
    let sdl =
        sdl_of(&catalog_schema()).replace("topProducts: [Product!]!", "topProducts: [Product]");
    assert!(sdl.contains("topProducts: [Product]\n"), "{sdl}");
    let product = |upc: &str| json!({ "__typename": "Product", "upc": upc, "name": format!("Product {upc}") });
    let nested = json!({ "data": { "topProducts": [[product("1")], product("2"), product("3")] } });
    let gw = TestGateway::compose(vec![
        ("catalog", scripted(&sdl, move |_| nested.clone())),
        ("shipping", shipping_router()),
    ])
    .await;
    let response = gw
        .query("{ topProducts { upc name shippingEstimate } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "topProducts": [
            null,
            { "upc": "2", "name": "Product 2", "shippingEstimate": 200 },
            { "upc": "3", "name": "Product 3", "shippingEstimate": 300 },
        ] }),
        "{response}"
    );
    assert_eq!(
        codes_and_paths(&response),
        vec![(
            "RESPONSE_VALIDATION_FAILED".to_owned(),
            json!(["topProducts", 0])
        )],
        "{response}"
    );
}
