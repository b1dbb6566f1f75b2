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
// c: Query.settings/themes (shareable), Settings {theme}, Theme {mode}, Store @key(id) {info},
//    Info {floor}.

async fn value_types() -> Parity {
    let dir = scenario_dir("value_types");
    Parity::start(
        "value_types",
        vec![
            ("a", FixtureSubgraph::load(&dir, "a").router()),
            ("b", FixtureSubgraph::load(&dir, "b").router()),
            ("c", FixtureSubgraph::load(&dir, "c").router()),
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
    // Three subgraphs each have part of `theme`: each is asked for its part.
    let query = "{ settings { locale currency theme { primary accent mode } } }";
    for (tool, counts) in requests_per_subgraph(
        &parity,
        query,
        json!({}),
        &json!({ "data": { "settings": {
            "locale": "en-GB", "currency": "GBP",
            "theme": { "primary": "#223", "accent": "#f80", "mode": "dark" },
        } } }),
        &["a", "b", "c"],
    )
    .await
    {
        assert_eq!(counts, [1, 1, 1], "{tool}");
    }
    snapshot_plan(&parity, "value_types_root_split_three_ways", query);
}

#[tokio::test]
async fn value_type_root_split_with_lists_aliases_fragments_and_variables() {
    let parity = value_types().await;
    parity
        .assert_query(
            "{ themes { name primary accent mode } }",
            json!({}),
            json!({ "data": { "themes": [
                { "name": "dusk", "primary": "#223", "accent": "#f80", "mode": "dark" },
                { "name": "dawn", "primary": "#fea", "accent": "#0af", "mode": "light" },
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
    // No one other subgraph has the rest: b and c each get their share through the store's key.
    let query = r#"{ store(id: "s2") { info { hours phone floor } } }"#;
    for (tool, counts) in requests_per_subgraph(
        &parity,
        query,
        json!({}),
        &json!({ "data": { "store": { "info": { "hours": "8-20", "phone": "555-0202", "floor": 0 } } } }),
        &["a", "b", "c"],
    )
    .await
    {
        assert_eq!(counts, [1, 1, 1], "{tool}");
    }
    snapshot_plan(&parity, "value_types_nested_shares", query);
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

// ---- provides_choice ----
// catalog: Query.shop, Shop @key(id) {city}, Product @key(id) {name sku price}.
// feed:    Query.topDeals (shareable), Deal {id product}, Shop.featured (shareable).
// promos:  the same fields, with Deal.product @provides(fields: "name") and
//          Query.promoted @provides(fields: "sku"); Product.name and sku are @external there.
// feed sorts before promos, so a planner that ignores the provides picks feed on a tie.

async fn provides_choice() -> Parity {
    let dir = scenario_dir("provides_choice");
    Parity::start(
        "provides_choice",
        vec![
            ("catalog", FixtureSubgraph::load(&dir, "catalog").router()),
            ("feed", FixtureSubgraph::load(&dir, "feed").router()),
            ("promos", FixtureSubgraph::load(&dir, "promos").router()),
        ],
    )
    .await
}

const PROVIDES_SUBGRAPHS: [&str; 3] = ["catalog", "feed", "promos"];

#[tokio::test]
async fn shareable_root_field_goes_to_the_subgraph_that_provides_the_selection() {
    let parity = provides_choice().await;
    let both = json!({ "data": { "topDeals": [
        { "id": "d1", "product": { "name": "Lamp" } },
        { "id": "d2", "product": { "name": "Desk" } },
    ] } });
    let cases = [
        ("{ topDeals { id product { name } } }", json!({}), both.clone()),
        (
            "{ deals: topDeals { id p: product { n: name } } }",
            json!({}),
            json!({ "data": { "deals": [
                { "id": "d1", "p": { "n": "Lamp" } },
                { "id": "d2", "p": { "n": "Desk" } },
            ] } }),
        ),
        (
            "{ topDeals { ...Deal } } fragment Deal on Deal { id product { ... on Product { name } } }",
            json!({}),
            both.clone(),
        ),
        (
            "query($name: Boolean = true) { topDeals { id product { name @include(if: $name) } } }",
            json!({}),
            both,
        ),
    ];
    for (query, variables, expected) in cases {
        for (tool, counts) in
            requests_per_subgraph(&parity, query, variables, &expected, &PROVIDES_SUBGRAPHS).await
        {
            assert_eq!(counts, [0, 0, 1], "{tool}: {query}");
        }
    }
    snapshot_plan(
        &parity,
        "provides_choice_root",
        "{ topDeals { id product { name } } }",
    );
}

#[tokio::test]
async fn provided_subgraph_still_wins_when_part_of_the_selection_comes_from_elsewhere() {
    let parity = provides_choice().await;
    // promos leaves `price` to the catalog; feed would leave `name` too.
    for (tool, counts) in requests_per_subgraph(
        &parity,
        "{ topDeals { product { name price } } }",
        json!({}),
        &json!({ "data": { "topDeals": [
            { "product": { "name": "Lamp", "price": 30 } },
            { "product": { "name": "Desk", "price": 120 } },
        ] } }),
        &PROVIDES_SUBGRAPHS,
    )
    .await
    {
        assert_eq!(counts, [1, 0, 1], "{tool}");
    }
    // `sku` is provided on `promoted` only: on `topDeals` it is external in promos, so it comes
    // from the catalog whichever subgraph answers `topDeals`.
    for (tool, counts) in requests_per_subgraph(
        &parity,
        "{ topDeals { product { sku } } promoted { sku } }",
        json!({}),
        &json!({ "data": {
            "topDeals": [ { "product": { "sku": "LMP-1" } }, { "product": { "sku": "DSK-2" } } ],
            "promoted": { "sku": "DSK-2" },
        } }),
        &PROVIDES_SUBGRAPHS,
    )
    .await
    {
        assert_eq!(counts[0], 1, "{tool}: the catalog answers topDeals' skus");
    }
}

#[tokio::test]
async fn shareable_entity_field_goes_to_the_subgraph_that_provides_the_selection() {
    let parity = provides_choice().await;
    let query = r#"{ shop(id: "s1") { city featured { id product { name } } } }"#;
    for (tool, counts) in requests_per_subgraph(
        &parity,
        query,
        json!({}),
        &json!({ "data": { "shop": { "city": "Leeds", "featured": [ { "id": "d2", "product": { "name": "Desk" } } ] } } }),
        &PROVIDES_SUBGRAPHS,
    )
    .await
    {
        assert_eq!(counts, [1, 0, 1], "{tool}");
    }
    snapshot_plan(&parity, "provides_choice_entity_field", query);
}

// ---- partial_union ----
// Unions and interfaces whose members differ by subgraph under shareable fields, as in the
// federation gateway audit's partial-union suites (which Apollo Router and Hive Router pass):
// a: Query.rootA, Query.shared (shareable), Container @key(id) {wrapper items},
//    union Action = Common | OnlyA, interface Item implemented by Tool and AItem.
// b: Query.rootB, Query.shared (shareable), Container @key(id) {wrapper items bWrapper},
//    union Action = Common | OnlyB, interface Item implemented by Tool and BItem.
// A subgraph answers with the members it knows: a fragment on a member it does not know is
// dropped from its fetch (it can never return one), and nothing is fetched elsewhere for it.

async fn partial_union() -> Parity {
    let dir = scenario_dir("partial_union");
    Parity::start(
        "partial_union",
        vec![
            ("a", FixtureSubgraph::load(&dir, "a").router()),
            ("b", FixtureSubgraph::load(&dir, "b").router()),
        ],
    )
    .await
}

const ALL_ACTIONS: &str =
    "actions { __typename ... on Common { label } ... on OnlyA { a } ... on OnlyB { b } }";

#[tokio::test]
async fn union_members_are_those_of_the_subgraph_that_resolves_the_field() {
    let parity = partial_union().await;
    let common = json!({ "__typename": "Common", "label": "common label" });
    for (tool, counts) in requests_per_subgraph(
        &parity,
        &format!("{{ rootA {{ wrapper {{ {ALL_ACTIONS} }} }} }}"),
        json!({}),
        &json!({ "data": { "rootA": { "wrapper": { "actions": [
            common, { "__typename": "OnlyA", "a": "only a" },
        ] } } } }),
        &["a", "b"],
    )
    .await
    {
        // `wrapper` is shareable and b has the key: a still answers all of it.
        assert_eq!(counts, [1, 0], "{tool}");
    }
    parity
        .assert_query(
            &format!("{{ rootB {{ wrapper {{ {ALL_ACTIONS} }} }} }}"),
            json!({}),
            json!({ "data": { "rootB": { "wrapper": { "actions": [
                common, { "__typename": "OnlyB", "b": "only b" },
            ] } } } }),
        )
        .await;
    // Only a member a does not know: each action is there, with its type name alone.
    parity
        .assert_query(
            "{ rootA { wrapper { actions { __typename ... on OnlyB { b } } } } }",
            json!({}),
            json!({ "data": { "rootA": { "wrapper": { "actions": [
                { "__typename": "Common" }, { "__typename": "OnlyA" },
            ] } } } }),
        )
        .await;
    // A shareable root field both subgraphs answer the same way.
    parity
        .assert_query(
            &format!("{{ shared {{ wrapper {{ {ALL_ACTIONS} }} }} }}"),
            json!({}),
            json!({ "data": { "shared": { "wrapper": { "actions": [common] } } } }),
        )
        .await;
    // A field only b has: b's members, through the container's key.
    parity
        .assert_query(
            &format!("{{ rootA {{ id bWrapper {{ {ALL_ACTIONS} }} }} }}"),
            json!({}),
            json!({ "data": { "rootA": { "id": "c1", "bWrapper": { "actions": [
                common, { "__typename": "OnlyB", "b": "only b" },
            ] } } } }),
        )
        .await;
    snapshot_plan(
        &parity,
        "partial_union_members_of_the_resolving_subgraph",
        &format!("{{ rootA {{ wrapper {{ {ALL_ACTIONS} }} bWrapper {{ {ALL_ACTIONS} }} }} }}"),
    );
}

#[tokio::test]
async fn partial_union_with_aliases_named_fragments_and_variables() {
    let parity = partial_union().await;
    let query = "query($b: Boolean!) {
        first: rootA { w: wrapper { list: actions { ...Act } } }
        second: rootB { w: wrapper { list: actions { ...Act } } }
    }
    fragment Act on Action {
        kind: __typename
        ... on Common { text: label }
        ... on OnlyA { a }
        ... on OnlyB @include(if: $b) { b }
    }";
    parity
        .assert_query(
            query,
            json!({ "b": true }),
            json!({ "data": {
                "first": { "w": { "list": [
                    { "kind": "Common", "text": "common label" }, { "kind": "OnlyA", "a": "only a" },
                ] } },
                "second": { "w": { "list": [
                    { "kind": "Common", "text": "common label" }, { "kind": "OnlyB", "b": "only b" },
                ] } },
            } }),
        )
        .await;
    parity
        .assert_query(
            query,
            json!({ "b": false }),
            json!({ "data": {
                "first": { "w": { "list": [
                    { "kind": "Common", "text": "common label" }, { "kind": "OnlyA", "a": "only a" },
                ] } },
                "second": { "w": { "list": [
                    { "kind": "Common", "text": "common label" }, { "kind": "OnlyB" },
                ] } },
            } }),
        )
        .await;
}

#[tokio::test]
async fn interface_implementations_are_those_of_the_subgraph_that_resolves_the_field() {
    let parity = partial_union().await;
    let items = "items { __typename name ... on AItem { a } ... on BItem { b } }";
    for (tool, counts) in requests_per_subgraph(
        &parity,
        &format!("{{ rootA {{ {items} }} }}"),
        json!({}),
        &json!({ "data": { "rootA": { "items": [
            { "__typename": "Tool", "name": "hammer" },
            { "__typename": "AItem", "name": "anvil", "a": "heavy" },
        ] } } }),
        &["a", "b"],
    )
    .await
    {
        assert_eq!(counts, [1, 0], "{tool}");
    }
    parity
        .assert_query(
            &format!("{{ rootB {{ {items} }} }}"),
            json!({}),
            json!({ "data": { "rootB": { "items": [
                { "__typename": "Tool", "name": "hammer" },
                { "__typename": "BItem", "name": "bolt", "b": "steel" },
            ] } } }),
        )
        .await;
    parity
        .assert_query(
            "{ shared { items { ... on Item { name } ... on BItem { b } } } }",
            json!({}),
            json!({ "data": { "shared": { "items": [ { "name": "hammer" } ] } } }),
        )
        .await;
}
