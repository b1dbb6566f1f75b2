//! Value types split across subgraphs (issue 9, item 4): a type with no key whose fields live in
//! several subgraphs that all offer the root field is fetched from each of them at the root; a
//! value-type field only another subgraph has is fetched through the nearest parent entity's key;
//! a type that is an entity in one subgraph and a value type in another is looked up only where
//! it has a key. Every query goes through the three gateways of [`Parity`]; the expected answers
//! are worked out by hand from the scenarios' JSON data.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

fn snapshot_plan(parity: &Parity, name: &str, query: &str) {
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(name, parity.plan(query));
    });
}

/// Asks every gateway `query` and checks the answer, then returns, per gateway, how many
/// requests each of `subgraphs` received for it.
async fn requests_per_subgraph(
    parity: &Parity,
    query: &str,
    variables: Value,
    expected: &Value,
    subgraphs: &[&str],
) -> Vec<(&'static str, Vec<usize>)> {
    let mut out = Vec::new();
    for (tool, gateway) in &parity.gateways {
        parity.clear_requests();
        let answer = gateway.query_with(query, variables.clone()).await;
        assert_eq!(&answer, expected, "{tool} answered {query} wrong");
        let counts = subgraphs
            .iter()
            .map(|s| parity.requests_to(s).len())
            .collect();
        out.push((*tool, counts));
    }
    out
}

// ---- value_types ----
// a: Query.settings/themes (shareable), Settings {locale theme}, Theme {name primary},
//    Query.store, Store @key(id) {name info location}, Info {hours address}, Address {street},
//    Location @key(id) {id label lat}.
// b: Query.settings/themes (shareable), Settings {currency theme}, Theme {name accent},
//    Store @key(id) {info location}, Info {phone address}, Address {city},
//    Location as a value type {id label region}.

async fn value_types() -> Parity {
    let dir = scenario_dir("value_types");
    Parity::start(
        "value_types",
        vec![
            ("a", FixtureSubgraph::load(&dir, "a").router()),
            ("b", FixtureSubgraph::load(&dir, "b").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn value_type_root_field_is_fetched_from_each_subgraph_that_has_part_of_it() {
    let parity = value_types().await;
    let query = "{ settings { locale currency theme { name primary accent } } }";
    let expected = json!({ "data": { "settings": {
        "locale": "en-GB",
        "currency": "GBP",
        "theme": { "name": "dusk", "primary": "#223", "accent": "#f80" },
    } } });
    for (tool, counts) in
        requests_per_subgraph(&parity, query, json!({}), &expected, &["a", "b"]).await
    {
        assert_eq!(counts, [1, 1], "{tool}");
    }
    // A selection one subgraph answers whole stays in one fetch.
    for (tool, counts) in requests_per_subgraph(
        &parity,
        "{ settings { currency theme { accent } } }",
        json!({}),
        &json!({ "data": { "settings": { "currency": "GBP", "theme": { "accent": "#f80" } } } }),
        &["a", "b"],
    )
    .await
    {
        assert_eq!(counts, [0, 1], "{tool}");
    }
    snapshot_plan(&parity, "value_types_root_split", query);
}

#[tokio::test]
async fn value_type_root_split_with_lists_aliases_fragments_and_variables() {
    let parity = value_types().await;
    parity
        .assert_query(
            "{ themes { name primary accent } }",
            json!({}),
            json!({ "data": { "themes": [
                { "name": "dusk", "primary": "#223", "accent": "#f80" },
                { "name": "dawn", "primary": "#fea", "accent": "#0af" },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            "{ s: settings { l: locale c: currency t: theme { p: primary a: accent } } }",
            json!({}),
            json!({ "data": { "s": { "l": "en-GB", "c": "GBP", "t": { "p": "#223", "a": "#f80" } } } }),
        )
        .await;
    parity
        .assert_query(
            "{ settings { ... on Settings { locale currency } ...Look } }
             fragment Look on Settings { theme { ... on Theme { accent } primary } }",
            json!({}),
            json!({ "data": { "settings": {
                "locale": "en-GB", "currency": "GBP", "theme": { "accent": "#f80", "primary": "#223" },
            } } }),
        )
        .await;
    let query = "query($look: Boolean = true) { settings { locale theme @include(if: $look) { primary accent } currency @skip(if: $look) } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "settings": { "locale": "en-GB", "theme": { "primary": "#223", "accent": "#f80" } } } }),
        )
        .await;
    parity
        .assert_query(
            query,
            json!({ "look": false }),
            json!({ "data": { "settings": { "locale": "en-GB", "currency": "GBP" } } }),
        )
        .await;
    // The same root field twice under different aliases, each split its own way.
    parity
        .assert_query(
            "{ one: settings { locale } two: settings { currency theme { name } } }",
            json!({}),
            json!({ "data": { "one": { "locale": "en-GB" }, "two": { "currency": "GBP", "theme": { "name": "dusk" } } } }),
        )
        .await;
}

#[tokio::test]
async fn nested_value_type_under_an_entity_goes_through_the_entity_key() {
    let parity = value_types().await;
    let query = r#"{ store(id: "s1") { name info { hours phone address { street city } } } }"#;
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "store": { "name": "Corner", "info": {
                "hours": "9-17", "phone": "555-0101",
                "address": { "street": "1 High St", "city": "Leeds" },
            } } } }),
        )
        .await;
    // Only the deepest field is b's: the rest of the value stays in a's fetch.
    parity
        .assert_query(
            r#"query($id: ID!) { store(id: $id) { i: info { address { s: street c: city } } } }"#,
            json!({ "id": "s2" }),
            json!({ "data": { "store": { "i": { "address": { "s": "2 Mill Rd", "c": "Poole" } } } } }),
        )
        .await;
    snapshot_plan(&parity, "value_types_nested_under_entity", query);
}

#[tokio::test]
async fn type_that_is_an_entity_in_one_subgraph_only_is_looked_up_there_only() {
    let parity = value_types().await;
    // `region` is b's, where Location has no key: b is reached through the store's key.
    let query = r#"{ store(id: "s2") { location { label lat region } } }"#;
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "store": { "location": { "label": "South", "lat": 50.7, "region": "Dorset" } } } }),
        )
        .await;
    snapshot_plan(&parity, "value_types_entity_in_one_subgraph", query);
    // From b, the Location's id is enough to look it up in a, where it is an entity.
    parity
        .assert_query(
            r#"{ store(id: "s1") { info { phone } location { region lat } } }"#,
            json!({}),
            json!({ "data": { "store": { "info": { "phone": "555-0101" }, "location": { "region": "Yorkshire", "lat": 53.8 } } } }),
        )
        .await;
}
