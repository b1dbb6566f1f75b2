//! Query plans for the demo supergraph, one snapshot per federation behaviour: each reads as
//! "this query ▶ this plan". Every snapshot was checked to be the minimal plan: the fewest fetches,
//! nothing fetched that the query doesn't need, and independent fetches in parallel.

mod common;

use std::sync::OnceLock;

use seam::plan::plan_text;
use seam::supergraph::Supergraph;

fn plan(query: &str) -> String {
    static SUPERGRAPH: OnceLock<Supergraph> = OnceLock::new();
    let supergraph = SUPERGRAPH.get_or_init(|| {
        Supergraph::parse(&common::demo_supergraph_sdl()).expect("schemas/supergraph.graphql")
    });
    plan_text(supergraph, query, None, Default::default())
        .unwrap_or_else(|e| panic!("cannot plan {query}: {e}"))
}

macro_rules! assert_plan {
    ($query:expr) => {
        insta::with_settings!({ description => $query, omit_expression => true }, {
            insta::assert_snapshot!(plan($query));
        });
    };
}

#[test]
fn single_subgraph_is_one_fetch() {
    // The warehouse key fields live in products too: no inventory fetch.
    assert_plan!("{ topProducts(first: 3) { upc name price weight warehouse { region code } } }");
}

#[test]
fn root_fields_of_one_subgraph_share_a_fetch() {
    assert_plan!(r#"{ me { name } users { username } user(id: "2") { birthYear } }"#);
}

#[test]
fn independent_root_fields_are_fetched_in_parallel() {
    assert_plan!("{ topProducts { upc } users { name } warehouses { city } topReviews { body } }");
}

#[test]
fn requires_fetches_price_and_weight_first() {
    assert_plan!("{ topProducts { shippingEstimate } }");
}

#[test]
fn requires_through_an_entity_fetch() {
    // reviews knows only the UPC: products supplies price and weight, then inventory estimates.
    assert_plan!("{ topReviews { product { shippingEstimate } } }");
}

#[test]
fn requires_and_shareable_fields_share_the_inventory_fetch() {
    // name and inStock wait for products together with shippingEstimate rather than costing a
    // second inventory fetch.
    assert_plan!("{ topReviews(first: 2) { product { name shippingEstimate inStock } } }");
}

#[test]
fn provides_answers_username_in_reviews() {
    assert_plan!("{ topReviews { body author { username } } }");
}

#[test]
fn fields_outside_provides_go_to_accounts() {
    assert_plan!("{ topReviews { author { username name } } }");
}

#[test]
fn shareable_name_rides_along_with_in_stock_to_inventory() {
    assert_plan!("{ topReviews { product { inStock name } } }");
}

#[test]
fn shareable_name_rides_along_with_price_to_products() {
    assert_plan!("{ topReviews { product { name price } } }");
}

#[test]
fn shareable_name_is_taken_from_the_subgraph_already_fetching() {
    assert_plan!("{ topProducts { name inStock } }");
}

#[test]
fn nested_lists_are_batched_one_fetch_per_level() {
    assert_plan!("{ topProducts(first: 10) { reviews { author { name } } } }");
}

#[test]
fn independent_entity_fetches_run_in_parallel() {
    assert_plan!("{ topProducts { inStock shippingEstimate reviews { body author { name } } } }");
}

#[test]
fn entity_jumps_from_user_to_reviews_to_product() {
    assert_plan!(r#"{ user(id: "3") { name reviews { body product { name price } } } }"#);
}

#[test]
fn compound_key_reaches_inventory_warehouses() {
    assert_plan!("{ topProducts { warehouse { name city } } }");
}

#[test]
fn mutation_fields_of_one_subgraph_stay_in_order_in_one_fetch() {
    assert_plan!(
        r#"mutation { a: setPrice(upc: "3", price: 1) { price } b: setPrice(upc: "3", price: 2) { price } }"#
    );
}

#[test]
fn mutations_across_subgraphs_run_in_sequence_with_their_entity_fetches() {
    assert_plan!(
        r#"mutation {
            setPrice(upc: "1", price: 5) { shippingEstimate }
            updateName(id: "1", name: "X") { name reviews { id } }
            b: setPrice(upc: "2", price: 6) { price }
        }"#
    );
}

#[test]
fn include_with_a_variable_becomes_a_condition() {
    assert_plan!(
        "query($withReviews: Boolean!) { topProducts { name reviews @include(if: $withReviews) { author { name } } } }"
    );
}

#[test]
fn skip_on_a_fragment_with_a_variable_becomes_a_condition() {
    assert_plan!("query($skip: Boolean!) { topProducts { upc ... @skip(if: $skip) { inStock shippingEstimate } } }");
}

#[test]
fn literal_skip_and_include_remove_fetches() {
    assert_plan!(
        "{ topProducts { upc inStock @include(if: false) reviews @skip(if: true) { body } name @include(if: true) } }"
    );
}

#[test]
fn fragments_plan_like_the_fields_they_contain() {
    assert_plan!(
        r#"query {
            topProducts(first: 2) { ...P ... on Product { upc ... { price } } }
        }
        fragment P on Product { upc ... on Product { inStock ...R } }
        fragment R on Product { reviews { author { ... on User { name } } } }"#
    );
}

#[test]
fn aliases_are_kept_in_subgraph_fetches() {
    assert_plan!(
        "{ a: topProducts(first: 1) { upc } b: topProducts(first: 2) { id: upc stock: inStock } }"
    );
}

#[test]
fn introspection_and_root_typename_need_no_fetch() {
    assert_plan!("{ __typename __schema { queryType { name } } topProducts(first: 1) { upc } }");
}

/// The public gateway benchmark's query: entity fetches to one subgraph at one step of the plan
/// are one request, and fetches of one selection share one representation list.
#[test]
fn entity_fetches_of_one_step_share_a_request() {
    assert_plan!(
        "fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}"
    );
}

/// Products and their warehouses are asked of inventory at one step with different selections:
/// two aliased `_entities` fields of one request.
#[test]
fn entity_fetches_of_one_step_with_different_selections_are_aliased() {
    assert_plan!("{ topProducts { inStock warehouse { name } } }");
}
