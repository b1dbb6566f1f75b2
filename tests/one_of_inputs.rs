//! `@oneOf` input objects (issue 9): a subgraph's `@oneOf` survives composition into the API
//! schema, and the gateway enforces it — in literals when the document is validated, in
//! variables when they are coerced — before anything is sent to a subgraph.

mod common;
mod support;

use async_graphql::{
    EmptyMutation, EmptySubscription, Object, OneofObject, Schema, SimpleObject, ID,
};
use serde_json::{json, Value};

#[derive(SimpleObject, Clone)]
struct User {
    id: ID,
    email: String,
}

#[derive(OneofObject)]
enum UserBy {
    Id(ID),
    Email(String),
}

#[derive(async_graphql::InputObject)]
struct Filter {
    by: Option<Vec<UserBy>>,
}

fn users() -> Vec<User> {
    vec![
        User {
            id: ID::from("1"),
            email: "ada@example.com".into(),
        },
        User {
            id: ID::from("2"),
            email: "grace@example.com".into(),
        },
    ]
}

fn find(by: &UserBy) -> Option<User> {
    users().into_iter().find(|u| match by {
        UserBy::Id(id) => u.id == *id,
        UserBy::Email(email) => u.email == *email,
    })
}

struct Query;

#[Object]
impl Query {
    async fn user(&self, by: UserBy) -> Option<User> {
        find(&by)
    }

    async fn matching(&self, filter: Filter) -> Vec<User> {
        filter
            .by
            .unwrap_or_default()
            .iter()
            .filter_map(find)
            .collect()
    }
}

async fn gateway() -> common::TestGateway {
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    common::TestGateway::compose(vec![("accounts", support::graphql_router(schema))]).await
}

fn assert_refused(query: &str, answer: &Value, code: &str) {
    assert!(
        answer.get("data").is_none_or(Value::is_null),
        "{query}: {answer}"
    );
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], code, "{query}: {answer}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("@oneOf"),
        "{query}: {answer}"
    );
}

#[tokio::test]
async fn one_of_literals_and_variables_are_enforced_before_any_fetch() {
    let gw = gateway().await;
    let sdl = gw
        .query("{ __type(name: \"UserBy\") { inputFields { name } } }")
        .await;
    assert_eq!(
        sdl["data"]["__type"]["inputFields"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{sdl}"
    );

    let refused = [
        (
            r#"{ user(by: { id: "1", email: "ada@example.com" }) { id } }"#,
            json!({}),
        ),
        (r#"{ user(by: { id: null }) { id } }"#, json!({})),
        (r#"{ user(by: {}) { id } }"#, json!({})),
        (
            "query($id: ID) { user(by: { id: $id }) { id } }",
            json!({ "id": "1" }),
        ),
        (
            r#"{ matching(filter: { by: [{ id: "1" }, { id: "2", email: "x" }] }) { id } }"#,
            json!({}),
        ),
        (
            "query { ...F } fragment F on Query { user(by: { email: null }) { id } }",
            json!({}),
        ),
        (
            "query($by: UserBy!) { user(by: $by) { id } }",
            json!({ "by": { "id": "1", "email": "x" } }),
        ),
        (
            "query($by: UserBy!) { user(by: $by) { id } }",
            json!({ "by": { "email": null } }),
        ),
        (
            "query($by: [UserBy!]) { matching(filter: { by: $by }) { id } }",
            json!({ "by": [{ "id": "1" }, {}] }),
        ),
    ];
    for (i, (query, variables)) in refused.into_iter().enumerate() {
        // Literals are refused when the document is validated, variable values when coerced.
        let code = if i < 6 {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "VALIDATION_INVALID_TYPE_VARIABLE"
        };
        gw.clear_requests();
        let (_, answer) = gw
            .post(json!({ "query": query, "variables": variables }))
            .await;
        assert_refused(query, &answer, code);
        assert_eq!(gw.total_requests(), 0, "{query}: nothing may be sent");
    }

    let accepted = [
        (
            r#"{ user(by: { email: "grace@example.com" }) { id } }"#,
            json!({}),
            json!({ "user": { "id": "2" } }),
        ),
        (
            "query($id: ID!) { user(by: { id: $id }) { email } }",
            json!({ "id": "1" }),
            json!({ "user": { "email": "ada@example.com" } }),
        ),
        (
            "query($by: UserBy!) { user(by: $by) { id } }",
            json!({ "by": { "id": "2" } }),
            json!({ "user": { "id": "2" } }),
        ),
        (
            r#"{ matching(filter: { by: [{ id: "2" }, { email: "ada@example.com" }] }) { id } }"#,
            json!({}),
            json!({ "matching": [{ "id": "2" }, { "id": "1" }] }),
        ),
    ];
    for (query, variables, data) in accepted {
        let (_, answer) = gw
            .post(json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(answer, json!({ "data": data }), "{query}");
    }
}
