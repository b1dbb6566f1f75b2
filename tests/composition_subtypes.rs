//! Shared fields typed differently by subtyping, end to end: `library` types `Shelf.featured` as
//! the union `Media`, `Shelf.lead` as the interface `Item` and `Shelf.count` as `Int`, where
//! `shelf` says `Book`, `Book` and `Int!`. Seam composes them into the most general types, and
//! answers through either subgraph the same as when serving Apollo's and Hive's supergraphs.

mod common;
mod support;

use serde_json::json;

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn subtyped_fields() -> Parity {
    let dir = scenario_dir("subtyped_fields");
    Parity::start(
        "subtyped_fields",
        vec![
            ("library", FixtureSubgraph::load(&dir, "library").router()),
            ("shelf", FixtureSubgraph::load(&dir, "shelf").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn the_supergraph_has_the_most_general_types() {
    let parity = subtyped_fields().await;
    for expected in [
        r#"featured: Media @join__field(graph: LIBRARY, type: "Media") @join__field(graph: SHELF, type: "Book")"#,
        r#"lead: Item @join__field(graph: LIBRARY, type: "Item") @join__field(graph: SHELF, type: "Book")"#,
        r#"count: Int @join__field(graph: LIBRARY, type: "Int") @join__field(graph: SHELF, type: "Int!")"#,
    ] {
        assert!(
            parity.composed_sdl.contains(expected),
            "missing {expected} in:\n{}",
            parity.composed_sdl
        );
    }
}

#[tokio::test]
async fn the_subgraph_with_the_union_answers_every_member() {
    let parity = subtyped_fields().await;
    parity
        .assert_query(
            r#"{ shelf(id: "s3") {
                count
                featured { __typename ... on Movie { minutes } ... on Book { title } }
                lead { id title }
            } }"#,
            json!({}),
            json!({ "data": { "shelf": {
                "count": null,
                "featured": { "__typename": "Movie", "minutes": 117 },
                "lead": { "id": "m1", "title": "Alien" },
            } } }),
        )
        .await;
}

#[tokio::test]
async fn the_subgraph_with_the_member_type_answers_its_member() {
    let parity = subtyped_fields().await;
    parity
        .assert_query(
            "{ shelves { id count featured { __typename ... on Book { title } } lead { title } } }",
            json!({}),
            json!({ "data": { "shelves": [
                { "id": "s1", "count": 2,
                  "featured": { "__typename": "Book", "title": "Dune" },
                  "lead": { "title": "Dune" } },
                { "id": "s2", "count": 0, "featured": null, "lead": { "title": "Emma" } },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn fragments_on_members_the_subgraph_does_not_know_are_not_sent_there() {
    let parity = subtyped_fields().await;
    parity.clear_requests();
    parity
        .assert_query(
            "{ shelves { featured { ... on Movie { minutes } ... on Book { title } } } }",
            json!({}),
            json!({ "data": { "shelves": [
                { "featured": { "title": "Dune" } },
                { "featured": null },
            ] } }),
        )
        .await;
    // shelf types `featured` as `Book`: a fragment on `Movie` would make its query invalid.
    let to_shelf = parity.requests_to("shelf");
    assert!(!to_shelf.is_empty(), "shelf answers `shelves`");
    for request in to_shelf {
        let query = request["query"].as_str().unwrap_or_default();
        assert!(!query.contains("Movie"), "sent to shelf: {query}");
    }
    assert!(parity.requests_to("library").is_empty());
}
