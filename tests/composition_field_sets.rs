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
    nested_external_with(None).await
}

/// `nested_external`, with blog's data replaced by `blog_data` when given.
async fn nested_external_with(blog_data: Option<Value>) -> Parity {
    let dir = scenario_dir("nested_external");
    let mut blog = FixtureSubgraph::load(&dir, "blog");
    if let Some(data) = blog_data {
        blog = blog.data(data);
    }
    let blog = blog
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

/// A `@requires` reaching through an entity (`author { yearsOfExperience }`, fetched from people
/// by the author's key `id`) beside a client alias of that key's name under the same field: the
/// key is fetched under an alias of its own, so the client's `id` keeps the value it asked for —
/// `null` for an author people does not know, never the key — and people still gets the
/// author's id. The same through fragments, for a list field with arguments, and with both.
#[tokio::test]
async fn requires_through_an_entity_beside_a_client_alias_of_its_key() {
    // a3 wrote p3 and c9 is one of its comments; people knows neither.
    let parity = nested_external_with(Some(json!({
        "Post": [
            { "id": "p1", "title": "Ownership", "author": { "id": "a1" },
              "comments": [{ "id": "c1" }, { "id": "c2" }, { "id": "c3" }, { "id": "c4" }] },
            { "id": "p3", "title": "Lifetimes", "author": { "id": "a3" },
              "comments": [{ "id": "c9" }] }
        ]
    })))
    .await;
    let cases = [
        (
            "{ posts { author { id: name } isSenior } }",
            json!({ "data": { "posts": [
                { "author": { "id": "Ada" }, "isSenior": true },
                { "author": { "id": null }, "isSenior": null },
            ] } }),
        ),
        (
            "{ posts { isSenior ... on Post { author { ... on Author { id: yearsOfExperience } } } } }",
            json!({ "data": { "posts": [
                { "isSenior": true, "author": { "id": 12 } },
                { "isSenior": null, "author": { "id": null } },
            ] } }),
        ),
        (
            "query { posts { ...P isSenior } } fragment P on Post { author { ...A } } \
             fragment A on Author { id: name }",
            json!({ "data": { "posts": [
                { "author": { "id": "Ada" }, "isSenior": true },
                { "author": { "id": null }, "isSenior": null },
            ] } }),
        ),
        (
            "{ posts { comments(limit: 3) { id: authorId } commenters } }",
            json!({ "data": { "posts": [
                { "comments": [{ "id": "a2" }, { "id": "a1" }, { "id": "a2" }],
                  "commenters": "a2,a1,a2" },
                { "comments": [{ "id": null }], "commenters": "" },
            ] } }),
        ),
        (
            "{ posts { comments(limit: 3) { id: authorId } commenters author { id: name } isSenior } }",
            json!({ "data": { "posts": [
                { "comments": [{ "id": "a2" }, { "id": "a1" }, { "id": "a2" }],
                  "commenters": "a2,a1,a2", "author": { "id": "Ada" }, "isSenior": true },
                { "comments": [{ "id": null }], "commenters": "",
                  "author": { "id": null }, "isSenior": null },
            ] } }),
        ),
    ];
    for (query, expected) in cases {
        parity.assert_query(query, json!({}), expected).await;
    }
}
