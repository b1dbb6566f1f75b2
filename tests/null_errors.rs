//! Which nulls get an error of their own: a null in a non-null field is explained only by an error
//! at or above it, or by the failed fetch that was to fill its object — not by an unrelated
//! sibling's error.

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
