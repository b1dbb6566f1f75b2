//! `@external` where Federation 2 needs it and no more, end to end: Seam composes subgraphs whose
//! `@requires` and `@provides` reach through fields the subgraph resolves itself
//! (`author { yearsOfExperience }`, `comments(limit: 3) { authorId }`, `author { name }`) and a
//! type that is `@external` as a whole (`type Category @key(fields: "id") @external`), then
//! answers over real subgraphs the same as when serving Apollo's and Hive's supergraphs.
//!
//! nested_external: `people` owns authors, comments and categories; `blog` owns posts, requires
//! an author's experience and the first three comments' authors, and provides author names and
//! whole categories.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

async fn nested_external() -> Parity {
    let dir = scenario_dir("nested_external");
    let blog = FixtureSubgraph::load(&dir, "blog")
        .computed("Post", "comments", |post, args| {
            let limit = args["limit"].as_u64().unwrap_or(0) as usize;
            let comments = post["comments"].as_array().cloned().unwrap_or_default();
            Value::Array(comments.into_iter().take(limit).collect())
        })
        .computed("Post", "isSenior", |post, _| {
            json!(post["author"]["yearsOfExperience"]
                .as_i64()
                .map(|years| years >= 10))
        })
        .computed("Post", "commenters", |post, _| {
            let ids: Vec<&str> = post["comments"]
                .as_array()
                .map(|comments| {
                    comments
                        .iter()
                        .filter_map(|comment| comment["authorId"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            json!(ids.join(","))
        });
    let people = FixtureSubgraph::load(&dir, "people");
    Parity::start(
        "nested_external",
        vec![("blog", blog.router()), ("people", people.router())],
    )
    .await
}

#[tokio::test]
async fn requires_through_a_local_field_and_a_field_with_arguments() {
    let parity = nested_external().await;
    parity
        .assert_query(
            "{ posts { title isSenior commenters } }",
            json!({}),
            json!({ "data": { "posts": [
                { "title": "Ownership", "isSenior": true, "commenters": "a2,a1,a2" },
                { "title": "Closures", "isSenior": false, "commenters": "a1" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn provides_through_a_local_field_and_an_external_type() {
    let parity = nested_external().await;
    let query = "{ latest { title author { name } category { id name label } } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "latest": {
                "title": "Ownership",
                "author": { "name": "Ada" },
                "category": { "id": "k1", "name": "Systems", "label": "SYS" },
            } } }),
        )
        .await;
    // Everything asked is provided by blog on this path: people is never called.
    assert_eq!(parity.requests_to("people"), Vec::<Value>::new());
}

#[tokio::test]
async fn without_provides_the_owner_answers() {
    let parity = nested_external().await;
    parity
        .assert_query(
            "{ posts { author { name yearsOfExperience } } }",
            json!({}),
            json!({ "data": { "posts": [
                { "author": { "name": "Ada", "yearsOfExperience": 12 } },
                { "author": { "name": "Brendan", "yearsOfExperience": 3 } },
            ] } }),
        )
        .await;
    assert!(
        !parity.requests_to("people").is_empty(),
        "names off the provided path come from people"
    );
}
