//! A Federation-1 supergraph in the old `@core`/join v0.1 format (what rover and the Apollo gateway
//! produced before Federation 2): owners marked with `@join__owner`, key fields listed only under
//! the owner. Seam must serve it like the same Federation-1 subgraphs composed by Seam itself.

mod common;
mod support;

use serde_json::json;

use common::TestGateway;
use support::fixture::FixtureSubgraph;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/join_v01");

fn routers() -> Vec<(&'static str, axum::Router)> {
    let dir = std::path::Path::new(DIR);
    vec![
        ("accounts", FixtureSubgraph::load(dir, "accounts").router()),
        ("reviews", FixtureSubgraph::load(dir, "reviews").router()),
    ]
}

async fn gateways() -> Vec<(&'static str, TestGateway)> {
    let sdl = std::fs::read_to_string(format!("{DIR}/supergraph.graphql")).expect("fixture");
    vec![
        ("join v0.1", TestGateway::supergraph(&sdl, routers()).await),
        ("seam", TestGateway::compose(routers()).await),
    ]
}

#[tokio::test]
async fn keys_listed_only_under_the_owner_still_let_other_graphs_jump() {
    for (label, gateway) in gateways().await {
        let answer = gateway
            .query("{ topReviews { body author { name reviews { id } } } }")
            .await;
        assert_eq!(
            answer,
            json!({ "data": { "topReviews": [
                { "body": "Sturdy", "author": { "name": "Ada Lovelace", "reviews": [ { "id": "r1" } ] } },
                { "body": "Wobbly", "author": { "name": "Alan Turing", "reviews": [ { "id": "r2" } ] } },
            ] } }),
            "{label}"
        );
        // reviews, then accounts for the names: its own `reviews` field rides in the first fetch.
        assert_eq!(gateway.total_requests(), 2, "{label}");
    }
}

#[tokio::test]
async fn provided_fields_come_from_the_providing_graph() {
    for (label, gateway) in gateways().await {
        let answer = gateway
            .query("{ topReviews { author { username } } }")
            .await;
        assert_eq!(
            answer,
            json!({ "data": { "topReviews": [
                { "author": { "username": "ada" } },
                { "author": { "username": "alan" } },
            ] } }),
            "{label}"
        );
        assert_eq!(gateway.requests_to("accounts").len(), 0, "{label}");
    }
}

#[tokio::test]
async fn an_extension_graph_is_reached_from_the_owner() {
    for (label, gateway) in gateways().await {
        let answer = gateway.query("{ me { username reviews { body } } }").await;
        assert_eq!(
            answer,
            json!({ "data": { "me": { "username": "ada", "reviews": [ { "body": "Sturdy" } ] } } }),
            "{label}"
        );
    }
}
