//! Which nulls get an error of their own: a null in a non-null field is explained only by an error
//! at, above or below it (a subgraph that propagated an error's null up to the nearest nullable
//! position), or by the failed fetch that was to fill its object — not by an unrelated sibling's
//! error.

mod common;
mod support;

use serde_json::json;

const SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { thing: Thing }
type Thing { a: String b: String! }"#;

#[tokio::test]
async fn sibling_error_does_not_hide_a_null_in_a_non_null_field() {
    // `a` failed (with an error), and `b` is null with no error: the subgraph broke its own schema.
    let subgraph = support::scripted(SDL, |_| {
        json!({
            "data": { "thing": { "a": null, "b": null } },
            "errors": [{ "message": "a failed", "path": ["thing", "a"] }]
        })
    });
    let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
    let response = gw.query("{ thing { a b } }").await;
    assert_eq!(response["data"], json!({ "thing": null }), "{response}");
    let errors = response["errors"].as_array().expect("errors");
    let paths: Vec<_> = errors.iter().map(|e| e["path"].clone()).collect();
    assert!(paths.contains(&json!(["thing", "a"])), "{response}");
    let b = errors
        .iter()
        .find(|e| e["path"] == json!(["thing", "b"]))
        .unwrap_or_else(|| panic!("no error explains the null in Thing.b: {response}"));
    assert_eq!(b["extensions"]["code"], "NULL_IN_NON_NULL_FIELD");
}

#[tokio::test]
async fn error_at_the_field_itself_is_not_repeated() {
    let subgraph = support::scripted(SDL, |_| {
        json!({
            "data": { "thing": { "a": "ok", "b": null } },
            "errors": [{ "message": "b failed", "path": ["thing", "b"] }]
        })
    });
    let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
    let response = gw.query("{ thing { a b } }").await;
    assert_eq!(response["data"], json!({ "thing": null }), "{response}");
    assert_eq!(
        response["errors"].as_array().map(Vec::len),
        Some(1),
        "{response}"
    );
    assert_eq!(response["errors"][0]["message"], "b failed");
}

const LIST_SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { thing: Thing }
type Thing { a: String items: [Item!]! more: [Item!] }
type Item { rating: Int! }"#;

fn error_paths(response: &serde_json::Value) -> Vec<serde_json::Value> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["path"].clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_error_below_a_null_explains_it_through_lists_and_aliases() {
    // The subgraph nulled the non-null list because an item's non-null field failed, and kept
    // the error at the item's field: the client gets that one error, not a second one for the
    // list. Once under the field names, once under aliases.
    for (query, key, inner) in [
        ("{ thing { a items { rating } } }", "items", "rating"),
        ("{ thing { a list: items { r: rating } } }", "list", "r"),
    ] {
        let (key, inner) = (key.to_owned(), inner.to_owned());
        let subgraph = support::scripted(LIST_SDL, move |_| {
            json!({
                "data": { "thing": { "a": "ok", key.as_str(): null } },
                "errors": [{ "message": "rating failed", "path": ["thing", key.as_str(), 1, inner.as_str()] }]
            })
        });
        let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
        let response = gw.query(query).await;
        assert_eq!(
            response["data"],
            json!({ "thing": null }),
            "{query}: {response}"
        );
        assert_eq!(error_paths(&response).len(), 1, "{query}: {response}");
        assert_eq!(
            response["errors"][0]["message"], "rating failed",
            "{response}"
        );
    }
}

#[tokio::test]
async fn an_error_below_a_neighbour_does_not_explain_a_null() {
    // `more` (a key that `items` is a prefix of, as text) failed below; `items` is null with no
    // error of its own or below it: that null still gets one.
    let subgraph = support::scripted(LIST_SDL, |_| {
        json!({
            "data": { "thing": { "a": "ok", "items": null, "more": null } },
            "errors": [{ "message": "more failed", "path": ["thing", "more", 0, "rating"] }]
        })
    });
    let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
    let response = gw
        .query("{ thing { items { rating } more { rating } } }")
        .await;
    assert_eq!(response["data"], json!({ "thing": null }), "{response}");
    let paths = error_paths(&response);
    assert!(
        paths.contains(&json!(["thing", "more", 0, "rating"])),
        "{response}"
    );
    let items = response["errors"]
        .as_array()
        .and_then(|errors| {
            errors
                .iter()
                .find(|e| e["path"] == json!(["thing", "items"]))
        })
        .unwrap_or_else(|| panic!("no error explains the null in Thing.items: {response}"));
    assert_eq!(items["extensions"]["code"], "NULL_IN_NON_NULL_FIELD");

    // Same with a key that starts with the null's key.
    let sdl = LIST_SDL.replace("more: [Item!]", "itemsMore: [Item!]");
    let subgraph = support::scripted(&sdl, |_| {
        json!({
            "data": { "thing": { "items": null, "itemsMore": null } },
            "errors": [{ "message": "more failed", "path": ["thing", "itemsMore", 0, "rating"] }]
        })
    });
    let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
    let response = gw
        .query("{ thing { items { rating } itemsMore { rating } } }")
        .await;
    assert_eq!(error_paths(&response).len(), 2, "{response}");
}

#[tokio::test]
async fn an_entity_nulled_below_by_its_subgraph_gets_only_that_error() {
    // `me` comes from accounts; `reviews` (non-null) from the reviews subgraph, whose entity is
    // null because review 1's non-null `rating` failed. One error, at the rating, in the
    // client's terms.
    let accounts = support::scripted(
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! }"#,
        |_| json!({ "data": { "me": { "__typename": "User", "id": "1" } } }),
    );
    let reviews = support::scripted(
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type User @key(fields: "id") { id: ID! reviews: [Review!]! }
type Review { id: ID! rating: Int! }"#,
        |request| {
            // The path in the fetch's own response keys, as a real subgraph reports it.
            let aliased = request["query"].as_str().unwrap_or("").contains("rs:");
            let (list, field) = if aliased {
                ("rs", "stars")
            } else {
                ("reviews", "rating")
            };
            json!({
                "data": { "_entities": [null] },
                "errors": [{ "message": "rating failed", "path": ["_entities", 0, list, 1, field] }]
            })
        },
    );
    let gw = common::TestGateway::compose(vec![("accounts", accounts), ("reviews", reviews)]).await;
    for (query, path) in [
        (
            "{ me { id reviews { id rating } } }",
            json!(["me", "reviews", 1, "rating"]),
        ),
        (
            "{ me { id rs: reviews { id stars: rating } } }",
            json!(["me", "rs", 1, "stars"]),
        ),
    ] {
        let response = gw.query(query).await;
        assert_eq!(
            response["data"],
            json!({ "me": null }),
            "{query}: {response}"
        );
        assert_eq!(error_paths(&response), vec![path], "{query}: {response}");
    }
}

#[tokio::test]
async fn malformed_subgraph_errors_never_cost_the_data() {
    // Each error breaks the spec's shape another way; the data is whole and every error still
    // reaches the client, with what was valid in it.
    let subgraph = support::scripted(SDL, |_| {
        json!({
            "data": { "thing": { "a": "ok", "b": "fine" } },
            "errors": [
                { "message": null },
                { "message": 42, "path": ["thing", -1] },
                { "message": "bad locations", "locations": "x", "path": ["thing", 1.5] },
                { "message": "bad extensions", "extensions": "x", "path": ["thing", "a"] },
                "a bare string",
                { "message": "fine", "locations": [{ "line": 1, "column": 3 }], "path": ["thing", "b"] }
            ]
        })
    });
    let gw = common::TestGateway::compose(vec![("things", subgraph)]).await;
    let response = gw.query("{ thing { a b } }").await;
    assert_eq!(
        response["data"],
        json!({ "thing": { "a": "ok", "b": "fine" } }),
        "{response}"
    );
    let messages: Vec<_> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].clone())
        .collect();
    for message in [
        "42",
        "bad locations",
        "bad extensions",
        "a bare string",
        "fine",
    ] {
        assert!(messages.contains(&json!(message)), "{message}: {response}");
    }
    let fine = response["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["message"] == "fine"))
        .expect("the well-formed error");
    assert_eq!(fine["path"], json!(["thing", "b"]), "{response}");
    for error in response["errors"].as_array().unwrap() {
        if let Some(path) = error.get("path") {
            assert!(
                path.as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s.is_string() || s.as_u64().is_some()),
                "{response}"
            );
        }
    }
}
