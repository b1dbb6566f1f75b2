//! A field's type in its own subgraph governs the fetch sent there (issue 9, items 2 and 7).
//!
//! Scenario `subgraph_types`: `directory` types `User.name` as `String!` and `Admin.name` as
//! `String` (the supergraph has `String` for both, since `people` types `User.name` as `String`),
//! `User.tags` as `[String!]!` and `Admin.tags` as `[String]`, and keys `User` by an `ID!` and
//! `Admin` by a `String!`. A fetch that asks for two of those under one response key is invalid
//! GraphQL in `directory` (fields under one key must have the same shape), so they are aliased
//! apart and renamed back. `Team.lead` is the union `Account` in `people` and `User` in
//! `directory`: a fetch of `lead` from `directory` spreads only `User`.
//!
//! The subgraphs validate every operation with apollo-compiler (`strict_router`), as graphql-js
//! servers do; async-graphql alone accepts the invalid fetches.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn scenario(fail_admin_name: bool) -> Parity {
    let dir = scenario_dir("subgraph_types");
    let mut directory = FixtureSubgraph::load(&dir, "directory");
    if fail_admin_name {
        directory = directory.fail("Admin", "name", "the admin directory is sealed");
    }
    Parity::start(
        "subgraph_types",
        vec![
            ("directory", directory.strict_router()),
            (
                "people",
                FixtureSubgraph::load(&dir, "people").strict_router(),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn the_strict_subgraph_refuses_fields_of_different_shapes_under_one_key() {
    let parity = scenario(false).await;
    let url = &parity.gateways[0].1.subgraph("directory").url;
    let refused: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": "{ accounts { ... on User { name } ... on Admin { name } } }" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );
    let fragment_elsewhere: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": "{ teams { lead { ... on Admin { level } } } }" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        fragment_elsewhere["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{fragment_elsewhere}"
    );
}

fn names() -> Value {
    json!({ "data": { "accounts": [
        { "name": "Ada" }, { "name": "Root" }, { "name": null }, { "name": "Grace" }
    ] } })
}

#[tokio::test]
async fn members_whose_field_differs_in_nullability_are_aliased_apart() {
    let parity = scenario(false).await;
    parity
        .assert_query(
            "{ accounts { ... on User { name } ... on Admin { name } } }",
            json!({}),
            names(),
        )
        .await;
    // Through named fragments, with a variable that has a default.
    parity
        .assert_query(
            "query($with: Boolean = true) { accounts { ...U ...A } }
             fragment U on User { name @include(if: $with) }
             fragment A on Admin { name @include(if: $with) }",
            json!({}),
            names(),
        )
        .await;
}

#[tokio::test]
async fn client_aliases_and_lists_that_differ_by_member() {
    let parity = scenario(false).await;
    parity
        .assert_query(
            "{ accounts { __typename ... on User { n: name tags } ... on Admin { n: name tags level } } }",
            json!({}),
            json!({ "data": { "accounts": [
                { "__typename": "User", "n": "Ada", "tags": ["math", "engines"] },
                { "__typename": "Admin", "n": "Root", "tags": ["ops", null], "level": 3 },
                { "__typename": "Admin", "n": null, "tags": null, "level": null },
                { "__typename": "User", "n": "Grace", "tags": [] }
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn key_fields_the_planner_adds_are_aliased_apart_from_client_fields() {
    let parity = scenario(false).await;
    // `Admin.reports` is in `people`: the fetch adds Admin's key `id: String!` beside the
    // client's `User.id: ID!`.
    parity
        .assert_query(
            "{ accounts { ... on User { id email } ... on Admin { reports { title } } } }",
            json!({}),
            json!({ "data": { "accounts": [
                { "id": "u1", "email": "ada@example.com" },
                { "reports": [ { "title": "Uptime" }, { "title": "Costs" } ] },
                { "reports": [] },
                { "id": "u2", "email": null }
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn fields_aliased_apart_inside_an_entity_fetch() {
    let parity = scenario(false).await;
    // `squads` come from `people`; `members` from `directory`, through Team's key.
    parity
        .assert_query(
            "{ squads { id members { ... on User { name } ... on Admin { name level } } } }",
            json!({}),
            json!({ "data": { "squads": [
                { "id": "t2", "members": [ { "name": null, "level": null }, { "name": "Grace" } ] },
                { "id": "t1", "members": [ { "name": "Ada" }, { "name": "Root", "level": 3 } ] }
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn an_error_at_a_field_aliased_apart_has_the_clients_path() {
    let parity = scenario(true).await;
    for (tool, answer) in parity
        .answers(
            "{ accounts { ... on User { name } ... on Admin { name } } }",
            json!({}),
        )
        .await
    {
        let text = answer.to_string();
        assert!(!text.contains("seam__"), "{tool}: {answer}");
        let errors = answer["errors"].as_array().expect("errors");
        let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
        assert!(
            paths.contains(&&json!(["accounts", 1, "name"])),
            "{tool}: {answer}"
        );
        assert_eq!(
            answer["data"]["accounts"][0]["name"], "Ada",
            "{tool}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_field_typed_as_one_member_in_its_subgraph_spreads_only_that_member() {
    let parity = scenario(false).await;
    parity
        .assert_query(
            "{ teams { id lead { ... on User { name } } } }",
            json!({}),
            json!({ "data": { "teams": [
                { "id": "t1", "lead": { "name": "Ada" } },
                { "id": "t2", "lead": null }
            ] } }),
        )
        .await;
    // Hive's composition types `Team.lead` as `User` in the supergraph (Apollo's as the union
    // `Account`), so a fragment on `Admin` there is invalid in Hive's API schema.
    parity
        .assert_query_on(
            &["seam", "apollo"],
            "{ teams { lead { __typename ... on User { name tags } ... on Admin { level } } } }",
            json!({}),
            json!({ "data": { "teams": [
                { "lead": { "__typename": "User", "name": "Ada", "tags": ["math", "engines"] } },
                { "lead": null }
            ] } }),
        )
        .await;
    for request in parity.requests_to("directory") {
        let query = request["query"].as_str().unwrap_or_default();
        assert!(!query.contains("Admin"), "sent to directory: {query}");
    }
}

#[tokio::test]
async fn subgraph_types_plans() {
    let parity = scenario(false).await;
    for query in [
        "{ accounts { ... on User { name } ... on Admin { name } } }",
        "{ accounts { ... on User { id email } ... on Admin { reports { title } } } }",
        "{ squads { id members { ... on User { name } ... on Admin { name level } } } }",
        "{ teams { lead { __typename ... on User { name } ... on Admin { level } } } }",
    ] {
        insta::with_settings!({ description => query, omit_expression => true }, {
            insta::assert_snapshot!(parity.plan(query));
        });
    }
}
