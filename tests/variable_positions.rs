//! Variables inside list and object literals must fit the place they stand in (the spec's "All
//! Variable Usages Are Allowed"), as a variable given as a whole argument must: a nullable
//! `$c` in `[$c]` where `[Color!]` is expected is refused before anything is sent. Forwarded,
//! the subgraph refused the whole fetch and every field of it came back null, the client's
//! error unrelated to its mistake.

mod common;
mod support;

use async_graphql::{EmptyMutation, EmptySubscription, Enum, InputObject, Object, Schema};
use serde_json::{json, Value};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
enum Color {
    Red,
    Green,
}

#[derive(InputObject)]
struct Range {
    min: i32,
    #[graphql(default = 100)]
    max: i32,
}

#[derive(InputObject)]
struct Filter {
    colors: Option<Vec<Color>>,
    nested: Option<Vec<Range>>,
    exact: Option<Range>,
}

struct Query;

#[Object]
impl Query {
    /// How many values reached the subgraph, so an accepted request shows it got through.
    async fn echo(
        &self,
        colors: Option<Vec<Color>>,
        filter: Option<Filter>,
        matrix: Option<Vec<Option<Vec<i32>>>>,
    ) -> i32 {
        let from_filter = filter.map_or(0, |f| {
            f.colors.map_or(0, |c| c.len())
                + f.nested.map_or(0, |n| n.len())
                + usize::from(f.exact.is_some())
        });
        let from_matrix = matrix.map_or(0, |m| m.iter().flatten().map(Vec::len).sum());
        (colors.map_or(0, |c| c.len()) + from_filter + from_matrix) as i32
    }

    async fn color_of(&self) -> Color {
        Color::Green
    }
}

async fn gateway() -> common::TestGateway {
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    common::TestGateway::compose(vec![("shop", support::graphql_router(schema))]).await
}

#[tokio::test]
async fn variables_nested_in_literals_must_fit_their_place() {
    let gw = gateway().await;
    // (query, variables, the variable and the type its place expects)
    let refused = [
        (
            "query($c: Color) { colorOf echo(colors: [$c]) }",
            json!({ "c": "RED" }),
            "`$c` of type `Color` cannot be used where `Color!`",
        ),
        (
            "query($c: Color) { echo(colors: [RED, $c]) }",
            json!({ "c": null }),
            "`$c`",
        ),
        (
            "query($c: Color) { echo(filter: { colors: [$c] }) }",
            json!({ "c": "RED" }),
            "`Color!`",
        ),
        (
            "query($r: Range) { echo(filter: { nested: [$r] }) }",
            json!({ "r": { "min": 1 } }),
            "`Range!`",
        ),
        (
            "query($n: Int) { echo(matrix: [[1], [$n]]) }",
            json!({ "n": 2 }),
            "`$n` of type `Int` cannot be used where `Int!`",
        ),
        (
            "query($m: Int) { echo(filter: { exact: { min: $m } }) }",
            json!({ "m": 1 }),
            "`Int!`",
        ),
        (
            "query($s: String!) { echo(colors: [$s]) }",
            json!({ "s": "RED" }),
            "Color!",
        ),
        (
            "query($cs: [Color!]!) { echo(colors: [$cs]) }",
            json!({ "cs": ["RED"] }),
            "`$cs`",
        ),
        (
            "query($cs: [Color]) { echo(filter: { colors: $cs }) }",
            json!({ "cs": ["RED"] }),
            "`[Color!]`",
        ),
        (
            "query($c: Color = null) { echo(colors: [$c]) }",
            json!({}),
            "`$c`",
        ),
        (
            "query($c: Color) { ...F } fragment F on Query { echo(colors: [$c]) }",
            json!({ "c": "RED" }),
            "`$c`",
        ),
        (
            "query($c: Color) { colorOf @include(if: true) \
             ... @skip(if: false) { echo(filter: { colors: [$c] }) } }",
            json!({ "c": "RED" }),
            "`$c`",
        ),
    ];
    for (query, variables, mention) in refused {
        let answer = gw.query_with(query, variables).await;
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{query}: {answer}"
        );
        let errors = answer["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{query}: {answer}");
        assert_eq!(
            errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query}: {answer}"
        );
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(mention), "{query}: {message}");
        assert_eq!(gw.total_requests(), 0, "{query} reached the subgraph");
    }

    // (query, variables, what the subgraph counts)
    let accepted = [
        (
            "query($c: Color!) { echo(colors: [$c, GREEN]) }",
            json!({ "c": "RED" }),
            2,
        ),
        (
            "query($c: Color = RED) { echo(colors: [$c]) }",
            json!({}),
            1,
        ),
        (
            "query($n: Int!) { echo(matrix: [[$n, $n], [1]]) }",
            json!({ "n": 2 }),
            3,
        ),
        (
            "query($m: Int) { echo(filter: { exact: { min: 1, max: $m } }) }",
            json!({ "m": 5 }),
            1,
        ),
        (
            "query($r: Range!) { echo(filter: { nested: [$r], exact: $r }) }",
            json!({ "r": { "min": 1 } }),
            2,
        ),
        (
            "query($cs: [Color!]) { echo(filter: { colors: $cs }) }",
            json!({ "cs": ["RED"] }),
            1,
        ),
        (
            "query($c: Color!) { ...F } fragment F on Query { echo(filter: { colors: [$c] }) }",
            json!({ "c": "RED" }),
            1,
        ),
    ];
    for (query, variables, count) in accepted {
        let answer = gw.query_with(query, variables).await;
        assert_eq!(answer, json!({ "data": { "echo": count } }), "{query}");
    }
}
