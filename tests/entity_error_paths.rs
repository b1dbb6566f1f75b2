//! Errors of an `_entities` fetch reach the client at the client's path even when the subgraph
//! (async-graphql does this) leaves the list index out of the error path.

mod common;
mod support;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};
use serde_json::json;

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
            .map(|id| Item { id: ID::from(id) })
            .collect()
    }

    #[graphql(entity)]
    async fn item_by_id(&self, id: ID) -> Item {
        Item { id }
    }
}

/// `price` fails for item 2 only.
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
}

struct PricingQuery;

#[Object(name = "Query")]
impl PricingQuery {
    #[graphql(entity)]
    async fn item_by_id(&self, id: ID) -> PricedItem {
        PricedItem { id }
    }
}

async fn catalog_and_pricing() -> common::TestGateway {
    let catalog = Schema::build(CatalogQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let pricing = Schema::build(PricingQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    common::TestGateway::compose(vec![
        ("catalog", support::graphql_router(catalog)),
        ("pricing", support::graphql_router(pricing)),
    ])
    .await
}

/// Client keys the gateway escapes in its fetches (an alias `__typename` on another field, keys
/// that start with `seam__`) are the client's own again in error paths, at every level.
#[tokio::test]
async fn error_paths_name_the_client_keys_the_fetch_escaped() {
    let gw = catalog_and_pricing().await;
    let cases = [
        (
            "{ __typename: items { id price } }",
            json!(["__typename", 1, "price"]),
        ),
        (
            "{ items { id __typename: price } }",
            json!(["items", 1, "__typename"]),
        ),
        (
            "{ seam__items: items { seam__id: id seam__price: price } }",
            json!(["seam__items", 1, "seam__price"]),
        ),
        (
            "{ __typename: items { __typename: price } }",
            json!(["__typename", 1, "__typename"]),
        ),
    ];
    for (query, path) in cases {
        let response = gw.query(query).await;
        let errors = response["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{query}: {response}");
        assert_eq!(errors[0]["path"], path, "{query}: {response}");
        assert!(
            !response.to_string().contains("seam__client_typename"),
            "{query}: {response}"
        );
    }
    let response = gw
        .query("{ __typename: items { id __typename: price } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "__typename": [
            { "id": "1", "__typename": 100 },
            { "id": "2", "__typename": null },
            { "id": "3", "__typename": 300 }
        ] }),
        "{response}"
    );
}

#[tokio::test]
async fn entity_error_without_index_goes_to_the_entity_that_failed() {
    let catalog = Schema::build(CatalogQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let pricing = Schema::build(PricingQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let gw = common::TestGateway::compose(vec![
        ("catalog", support::graphql_router(catalog)),
        ("pricing", support::graphql_router(pricing)),
    ])
    .await;

    let response = gw.query("{ items { id price } }").await;
    assert_eq!(
        response["data"],
        json!({ "items": [ { "id": "1", "price": 100 }, { "id": "2", "price": null }, { "id": "3", "price": 300 } ] }),
        "{response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(
        errors[0]["path"],
        json!(["items", 1, "price"]),
        "{response}"
    );
    assert!(
        errors[0]["message"].as_str().unwrap().contains("item 2"),
        "{response}"
    );

    // The subgraph really leaves the index out (otherwise this test proves nothing).
    let direct: serde_json::Value = gw
        .client
        .post(&gw.subgraph("pricing").url)
        .json(&json!({
            "query": "query($r:[_Any!]!){_entities(representations:$r){...on Item{price}}}",
            "variables": { "r": [
                { "__typename": "Item", "id": "1" },
                { "__typename": "Item", "id": "2" },
                { "__typename": "Item", "id": "3" }
            ] }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        direct["errors"][0]["path"],
        json!(["_entities", "price"]),
        "{direct}"
    );
}

#[tokio::test]
async fn error_paths_stop_at_the_last_field_the_client_asked_for() {
    // The subgraph's paths run through an argument name, a field the client never selected and
    // a key that is no field at all; the client's aliases and fragments still match.
    const SDL: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Query { item(id: ID!): Item items: [Item] }
        type Item { id: ID! name: String tags: [String] }
    "#;
    let subgraph = support::scripted(SDL, |_| {
        json!({
            "data": { "first": { "id": "1", "name": null }, "items": [{ "id": "2", "tags": null }] },
            "errors": [
                { "message": "bad argument", "path": ["first", "input", "id"] },
                { "message": "not asked", "path": ["items", 0, "secret", "deep"] },
                { "message": "asked", "path": ["items", 0, "tags", 3] },
                { "message": "aliased", "path": ["first", "name"] },
                { "message": "nowhere", "path": ["unknown", 1] },
                { "message": "no path" },
            ],
        })
    });
    let gw = common::TestGateway::compose(vec![("items", subgraph)]).await;
    let answer = gw
        .query(r#"{ first: item(id: "1") { ... on Item { id name } } items { ...F } } fragment F on Item { id tags }"#)
        .await;
    let paths: Vec<(String, serde_json::Value)> = answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["message"].as_str().unwrap_or("").to_owned(),
                        e["path"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        paths,
        vec![
            ("bad argument".to_owned(), json!(["first"])),
            ("not asked".to_owned(), json!(["items", 0])),
            ("asked".to_owned(), json!(["items", 0, "tags", 3])),
            ("aliased".to_owned(), json!(["first", "name"])),
            ("nowhere".to_owned(), serde_json::Value::Null),
            ("no path".to_owned(), serde_json::Value::Null),
        ],
        "{answer}"
    );
    assert_eq!(
        answer["data"],
        json!({ "first": { "id": "1", "name": null }, "items": [{ "id": "2", "tags": null }] })
    );
}
