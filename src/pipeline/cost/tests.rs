//! Estimator cases over Apollo's supergraph of the demand-control scenario
//! (`tests/fixtures/federation/demand_control`): each row is an operation, its variables and
//! the cost worked out by hand from the weights in the subgraph SDLs.

use std::sync::OnceLock;
use std::time::Instant;

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::ExecutableDocument;
use serde_json::{json, Map, Value};

use super::{check, estimate, exposed_extensions, CostError};
use crate::config::CostConfig;
use crate::supergraph::Supergraph;

const APOLLO_SUPERGRAPH: &str =
    include_str!("../../../tests/fixtures/federation/demand_control/supergraph.apollo.graphql");

fn supergraph() -> &'static Supergraph {
    static SUPERGRAPH: OnceLock<Supergraph> = OnceLock::new();
    SUPERGRAPH.get_or_init(|| Supergraph::parse(APOLLO_SUPERGRAPH).expect("the fixture parses"))
}

/// The document, validated as the gateway validates it, and the request's coerced variables.
fn prepare(query: &str, variables: Value) -> (ExecutableDocument, Map<String, Value>) {
    let supergraph = supergraph();
    let document =
        ExecutableDocument::parse_and_validate(&supergraph.api_schema, query, "query.graphql")
            .unwrap_or_else(|invalid| panic!("invalid operation {query}:\n{}", invalid.errors));
    let operation = document.operations.get(None).expect("one operation");
    let raw: JsonMap = serde_json::from_value(variables).expect("variables are an object");
    let coerced = coerce_variable_values(&supergraph.api_schema, operation, &raw)
        .unwrap_or_else(|error| panic!("variables of {query}: {}", error.message()));
    let Ok(Value::Object(variables)) = serde_json::to_value(&*coerced) else {
        panic!("coerced variables are an object");
    };
    (document.into_inner(), variables)
}

fn cost_with(query: &str, variables: Value, list_size: u32) -> Result<f64, CostError> {
    let (document, variables) = prepare(query, variables);
    let operation = document.operations.get(None).expect("one operation");
    estimate(
        &document,
        operation,
        &supergraph().cost,
        &variables,
        list_size,
    )
}

fn cost(query: &str, variables: Value) -> f64 {
    cost_with(query, variables, 10).unwrap_or_else(|error| panic!("{query}: {error}"))
}

/// Runs a table of `(operation, variables, expected cost)`; reports every wrong row at once.
fn assert_costs(cases: &[(&str, Value, f64)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(query, variables, expected)| {
            let actual = cost(query, variables.clone());
            (actual != *expected)
                .then(|| format!("{query} {variables}: {actual}, expected {expected}"))
        })
        .collect();
    assert!(wrong.is_empty(), "wrong costs:\n{}", wrong.join("\n"));
}

#[test]
fn leaves_objects_and_field_weights() {
    assert_costs(&[
        // Product.upc is a scalar without @cost: free. Query.product has @cost(weight: 3),
        // which replaces Product's own weight of 2.
        (r#"{ product(upc: "1") { upc id } }"#, json!({}), 3.0),
        // Product.name: @cost 1 in catalog, 4 in reviews; the supergraph keeps 4.
        (r#"{ product(upc: "1") { name } }"#, json!({}), 7.0),
        // An object type's @cost: Category weighs 4.
        (
            r#"{ product(upc: "1") { category { id } } }"#,
            json!({}),
            7.0,
        ),
        // An object without @cost weighs 1: ProductConnection, plus totalCount's 7.
        (
            r#"{ productPage(first: 3) { totalCount } }"#,
            json!({}),
            8.0,
        ),
        // Scalar and enum types' @cost: Money 2, Rating 2.
        (r#"{ product(upc: "1") { price } }"#, json!({}), 5.0),
        (
            r#"{ product(upc: "1") { reviews(first: 1) { rating } } }"#,
            json!({}),
            6.0,
        ),
    ]);
}

#[test]
fn lists_multiply_by_their_size() {
    assert_costs(&[
        // No @listSize: the configured 10 Categories of weight 4.
        ("{ categories { id name } }", json!({}), 40.0),
        // Scalar lists cost nothing unless weighted.
        (r#"{ product(upc: "1") { tags } }"#, json!({}), 3.0),
        // Nested lists multiply: 10 categories × (4 + 50 assumed products × 2).
        ("{ categories { products { upc } } }", json!({}), 1040.0),
        // Three levels: 10 × (4 + 2 × (2 + related's 4 by default × 2)).
        (
            "{ categories { products(first: 2) { related { upc } } } }",
            json!({}),
            10.0 * (4.0 + 2.0 * (2.0 + 4.0 * 2.0)),
        ),
        // An assumed size: 20 search results (a union, weight 1).
        ("{ search(filter: {}) { __typename } }", json!({}), 21.0),
    ]);
    let small = cost_with("{ categories { id } }", json!({}), 3).expect("estimates");
    assert_eq!(small, 12.0, "the configured list size is used");
}

#[test]
fn slicing_arguments_from_literals_variables_and_defaults() {
    let products = "query($n: Int) { products(first: $n) { upc } }";
    assert_costs(&[
        // The field's default, first: 5.
        ("{ products { upc } }", json!({}), 10.0),
        ("{ products(first: 7) { upc } }", json!({}), 14.0),
        (products, json!({ "n": 3 }), 6.0),
        // A variable the request leaves out: the field's default applies, as GraphQL has it.
        (products, json!({}), 10.0),
        // The operation's default for the variable.
        (
            "query($n: Int = 4) { products(first: $n) { upc } }",
            json!({}),
            8.0,
        ),
        // An explicit null asks for no size: requireOneSlicingArgument is false here, so the
        // configured list size applies.
        (products, json!({ "n": null }), 20.0),
        ("{ products(first: null) { upc } }", json!({}), 20.0),
        // A negative size counts as none.
        ("{ products(first: -4) { upc } }", json!({}), 0.0),
        // Slicing arguments win over the assumed size (50 for Category.products).
        (
            "query($n: Int) { categories { products(first: $n) { upc } } }",
            json!({ "n": 1 }),
            10.0 * (4.0 + 2.0),
        ),
        // A required argument's default counts as given: Product.related(limit: Int! = 4).
        (
            r#"{ product(upc: "1") { related { upc } } }"#,
            json!({}),
            11.0,
        ),
        (
            r#"{ product(upc: "1") { related(limit: 2) { upc } } }"#,
            json!({}),
            7.0,
        ),
    ]);
}

#[test]
fn sized_fields_take_the_size_of_their_parent() {
    assert_costs(&[
        // edges and nodes get productPage's 3: 1 + 3 × (1 + 2) + 3 × (2 + 4).
        (
            "{ productPage(first: 3) { edges { node { upc } } nodes { name } } }",
            json!({}),
            28.0,
        ),
        (
            "query($last: Int) { productPage(last: $last) { edges { cursor } } }",
            json!({ "last": 6 }),
            7.0,
        ),
        // Through fragments, named and inline; one fragment under two sizes.
        (
            "{ a: productPage(first: 2) { ...Page } b: productPage(first: 5) { ... on ProductConnection { ...Page } } }
             fragment Page on ProductConnection { edges { cursor } }",
            json!({}),
            (1.0 + 2.0) + (1.0 + 5.0),
        ),
        // The size reaches only productPage's own fields: a list below them has its own.
        (
            "{ productPage(first: 2) { nodes { related(limit: 1) { upc } } } }",
            json!({}),
            1.0 + 2.0 * (2.0 + 2.0),
        ),
    ]);
}

#[test]
fn require_one_slicing_argument() {
    assert_eq!(
        cost("{ productPage(first: 1) { totalCount } }", json!({})),
        8.0
    );
    for (query, variables, given) in [
        ("{ productPage { totalCount } }", json!({}), 0),
        (
            "{ productPage(first: 1, last: 2) { totalCount } }",
            json!({}),
            2,
        ),
        (
            "query($f: Int) { productPage(first: $f) { totalCount } }",
            json!({}),
            0,
        ),
        (
            "query($f: Int) { productPage(first: $f) { totalCount } }",
            json!({ "f": null }),
            0,
        ),
    ] {
        let error = cost_with(query, variables, 10).expect_err(query);
        let CostError::SlicingArguments {
            coordinate,
            arguments,
            given: counted,
            location,
        } = &error
        else {
            panic!("{query}: {error}");
        };
        assert_eq!(coordinate, "Query.productPage");
        assert_eq!(arguments, "first, last");
        assert_eq!(*counted, given, "{query}");
        assert!(location.is_some(), "{query}");
        let graphql = error.to_graphql_error();
        assert_eq!(graphql.code(), Some("COST_QUERY_PARSE_FAILURE"));
        assert!(
            graphql.message.starts_with(
                "Query.productPage needs exactly one of its slicing arguments (first, last)"
            ),
            "{}",
            graphql.message
        );
    }
}

#[test]
fn abstract_types_count_every_fragment() {
    assert_costs(&[
        // 20 results × (1 + Product's name 4 + Category's name 0) + the filter object's 1.
        (
            r#"{ search(filter: { text: "x" }) { ... on Product { name } ... on Category { name } } }"#,
            json!({}),
            101.0,
        ),
        (
            "{ search(filter: {}) { ...P } } fragment P on Product { averageRating }",
            json!({}),
            101.0,
        ),
        // An interface: 1 + Product's 4 + Category's products (1 × 2).
        (
            r#"{ node(id: "1") { id ... on Product { name } ... on Category { products(first: 1) { upc } } } }"#,
            json!({}),
            7.0,
        ),
        // A fragment on the interface inside a fragment on a member.
        (
            r#"{ node(id: "1") { ... on Product { ...N } } } fragment N on Node { id ... on Category { name } }"#,
            json!({}),
            1.0,
        ),
    ]);
}

#[test]
fn arguments_and_input_objects() {
    let search = "query($f: SearchFilter!) { search(filter: $f) { __typename } }";
    assert_costs(&[
        // limit has @cost(weight: 2); an input object costs 1.
        (
            "{ search(filter: {}, limit: 5) { __typename } }",
            json!({}),
            23.0,
        ),
        // fuzzy is weighted 10; category is an input object (1) with id weighted 3.
        (
            r#"{ search(filter: { fuzzy: true, category: { id: "c1" } }) { __typename } }"#,
            json!({}),
            20.0 + 1.0 + 10.0 + 1.0 + 3.0,
        ),
        // The same through a variable.
        (
            search,
            json!({ "f": { "fuzzy": true, "category": { "id": "c1" } } }),
            35.0,
        ),
        // Null input fields cost nothing.
        (search, json!({ "f": { "fuzzy": null } }), 21.0),
        // An enum argument costs its type's weight: Currency 1.
        (
            r#"{ product(upc: "1") { price(currency: EUR) } }"#,
            json!({}),
            6.0,
        ),
        // A list field's arguments are paid once, not per item: 20 × 1 + (1 + 10).
        (
            r#"{ search(filter: { fuzzy: true }) { __typename } }"#,
            json!({}),
            31.0,
        ),
        // An argument inside a list is paid with each item: price 2 + currency 1, per product.
        (
            r#"{ categories { products(first: 2) { price(currency: EUR) } } }"#,
            json!({}),
            10.0 * (4.0 + 2.0 * (2.0 + 2.0 + 1.0)),
        ),
    ]);
}

#[test]
fn mutations() {
    assert_costs(&[
        // 10 for a mutation + addProduct's 5 + the input: 1 + tags (a weighted list: 1 + 1 + 1).
        (
            r#"mutation { addProduct(input: { upc: "9", name: "Stool", tags: ["a", "b"] }) { upc } }"#,
            json!({}),
            19.0,
        ),
        // 10 + Review (1) + rating (Rating weighs 2) + the rating argument's type weight 2.
        (
            r#"mutation { addReview(upc: "1", body: "Sturdy", rating: FIVE) { rating } }"#,
            json!({}),
            15.0,
        ),
        // Two root fields: each one counted, the base once.
        (
            r#"mutation { a: addReview(upc: "1", body: "x", rating: ONE) { id } b: addReview(upc: "2", body: "y", rating: TWO) { id } }"#,
            json!({}),
            10.0 + 3.0 + 3.0,
        ),
    ]);
}

#[test]
fn skipped_fields_typename_and_introspection_are_free() {
    let skip = r#"query($skip: Boolean!) { product(upc: "1") { name @skip(if: $skip) } }"#;
    assert_costs(&[
        (skip, json!({ "skip": true }), 3.0),
        (skip, json!({ "skip": false }), 7.0),
        ("{ categories @include(if: false) { id } }", json!({}), 0.0),
        (
            r#"query($on: Boolean!) { product(upc: "1") { ... @include(if: $on) { name } ...N @skip(if: true) } } fragment N on Product { averageRating }"#,
            json!({ "on": false }),
            3.0,
        ),
        (
            r#"{ __typename product(upc: "1") { __typename } }"#,
            json!({}),
            3.0,
        ),
        (
            "{ __schema { types { name fields { name } } } }",
            json!({}),
            0.0,
        ),
    ]);
}

/// Each level spreads the fragment below it twice (through `related` and through
/// `category.products`): the operation stands for 2^30 fields.
fn fragment_bomb(levels: usize) -> String {
    let mut text =
        format!(r#"{{ product(upc: "1") {{ ...F{levels} }} }} fragment F0 on Product {{ name }}"#);
    for level in 1..=levels {
        let below = level - 1;
        text.push_str(&format!(
            " fragment F{level} on Product {{ related(limit: 1) {{ ...F{below} }} category {{ products(first: 1) {{ ...F{below} }} }} }}"
        ));
    }
    text
}

#[test]
fn a_fragment_bomb_is_costed_without_expanding_it() {
    let query = fragment_bomb(30);
    let (document, variables) = prepare(&query, json!({}));
    let operation = document.operations.get(None).expect("one operation");
    let started = Instant::now();
    let estimated =
        estimate(&document, operation, &supergraph().cost, &variables, 10).expect("estimates");
    let elapsed = started.elapsed();
    // F0 costs 4 (name); each level 2 + F + 4 + 2 + F, so F(n) = 2^n × 12 - 8, plus product's 3.
    assert_eq!(estimated, 2f64.powi(30) * 12.0 - 8.0 + 3.0);
    eprintln!("fragment bomb of 30 levels: estimated {estimated} in {elapsed:?}");
}

#[test]
fn huge_estimates_saturate_instead_of_overflowing() {
    let mut query = String::from("{ categories { products(first: 2147483647) { upc ");
    for _ in 0..40 {
        query.push_str("related(limit: 2147483647) { upc ");
    }
    query.push_str(&"} ".repeat(43));
    let estimated = cost(&query, json!({}));
    assert_eq!(estimated, f64::MAX);
    // A list of none still costs nothing, even under a saturated parent.
    let zero = cost_with(&query, json!({}), 0).expect("estimates");
    assert_eq!(zero, 0.0);
}

#[test]
fn the_check_refuses_operations_above_the_maximum() {
    let (document, variables) = prepare("{ categories { id } }", json!({}));
    let operation = document.operations.get(None).expect("one operation");
    let model = &supergraph().cost;
    let config = |max: Option<u64>| CostConfig {
        max,
        ..CostConfig::default()
    };
    assert_eq!(
        check(&document, operation, model, &variables, &config(Some(40))),
        Ok(40.0)
    );
    assert_eq!(
        check(&document, operation, model, &variables, &config(None)),
        Ok(40.0)
    );
    let refused = check(&document, operation, model, &variables, &config(Some(39)))
        .expect_err("40 is above 39");
    assert_eq!(refused.code(), Some("COST_ESTIMATED_TOO_EXPENSIVE"));
    assert_eq!(
        refused.message,
        "the operation's estimated cost is 40, above the maximum of 39 (limits.cost.max)"
    );
    let extensions = refused.extensions.clone().unwrap_or_default();
    assert_eq!(extensions.get("cost.estimated"), Some(&json!(40.0)));
    assert_eq!(extensions.get("cost.max"), Some(&json!(39)));
    assert_eq!(
        serde_json::to_value(&refused).expect("serializes")["extensions"]["code"],
        "COST_ESTIMATED_TOO_EXPENSIVE"
    );
}

#[test]
fn exposed_extensions_name_the_estimate_like_apollo() {
    let with_max = CostConfig {
        max: Some(100),
        expose: true,
        ..CostConfig::default()
    };
    assert_eq!(
        Value::Object(exposed_extensions(12.0, &with_max)),
        json!({ "cost.estimated": 12.0, "cost.max": 100 })
    );
    assert_eq!(
        Value::Object(exposed_extensions(12.0, &CostConfig::default())),
        json!({ "cost.estimated": 12.0 })
    );
}
