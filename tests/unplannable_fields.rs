//! A field no plan can reach is a planning error for the whole request (`data: null`,
//! `QUERY_PLANNING_FAILED`, nothing sent to any subgraph), never silently left out of the plan
//! (issue 9, item 8). Scenario `tests/fixtures/planning/unplannable`: `Item.stars` lives only on
//! the interface object of `ratings`, whose key is not resolvable.

mod common;
mod support;

use serde_json::{json, Value};

use common::TestGateway;
use support::fixture::FixtureSubgraph;

async fn gateway() -> TestGateway {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/planning/unplannable");
    let sdl = std::fs::read_to_string(dir.join("supergraph.graphql")).expect("supergraph");
    TestGateway::supergraph(
        &sdl,
        vec![
            ("media", FixtureSubgraph::load(&dir, "media").router()),
            ("ratings", FixtureSubgraph::load(&dir, "ratings").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn a_field_no_plan_reaches_fails_the_request() {
    let gw = gateway().await;
    let cases = [
        ("{ items { id stars } }", json!({})),
        ("{ items { id ... on Book { stars } } }", json!({})),
        ("{ items { ... on Item { rating: stars } } }", json!({})),
        (
            "{ items { ...Rated } } fragment Rated on Film { title stars }",
            json!({}),
        ),
        (
            "query($id: ID! = \"b1\") { book(id: $id) { title stars } }",
            json!({}),
        ),
        (
            "query($with: Boolean = true) { items { title stars @include(if: $with) } }",
            json!({ "with": false }),
        ),
    ];
    for (query, variables) in cases {
        gw.clear_requests();
        let (_, answer) = gw
            .post(json!({ "query": query, "variables": variables }))
            .await;
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{query}: {answer}"
        );
        let errors = answer["errors"].as_array().expect("errors");
        assert_eq!(
            errors[0]["extensions"]["code"], "QUERY_PLANNING_FAILED",
            "{query}: {answer}"
        );
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("stars"),
            "{query}: {answer}"
        );
        assert_eq!(gw.total_requests(), 0, "{query}: nothing is fetched");
    }
}

#[tokio::test]
async fn an_interface_object_field_asked_on_an_implementation_comes_from_the_interface_object() {
    let gw = gateway().await;
    let answer = gw
        .query("{ topRated { id ... on Film { minutes stars } } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "topRated": [
            { "id": "f1", "minutes": 117, "stars": 5 },
            { "id": "b1" }
        ] } })
    );
    let answer = gw
        .query("{ topRated { __typename ... on Film { stars } ... on Book { s: stars pages } } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "topRated": [
            { "__typename": "Film", "stars": 5 },
            { "__typename": "Book", "s": 4, "pages": 412 }
        ] } })
    );
}
