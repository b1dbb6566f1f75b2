//! Fields no subgraph that can get to their parent defines: composition refuses them, as Apollo's
//! `SATISFIABILITY_ERROR` does (both cases below are refused by Apollo's composition too).

use super::{assert_single_error, compose_valid, fed2};
use crate::compose::ErrorCode;

#[test]
fn a_value_type_field_only_a_subgraph_without_a_path_to_it_has() {
    let a = fed2(
        "a",
        r#"
        type Query { place: Place }
        type Place @shareable { name: String }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query { version: String }
        type Place @shareable { name: String country: String }
        "#,
    );
    assert_single_error(
        &[a, b],
        ErrorCode::SatisfiabilityError,
        "The supergraph API query { place { country } } cannot be satisfied: Place.country is \
         defined only in subgraph \"b\", which cannot get to a Place: no root field of it leads \
         there and it has no resolvable @key for it",
    );
}

#[test]
fn an_entity_field_behind_a_key_that_is_not_resolvable() {
    let products = fed2(
        "products",
        r#"
        type Query { products: [Product!]! }
        type Product @key(fields: "id") { id: ID! name: String }
        "#,
    );
    let audit = fed2(
        "audit",
        r#"
        type Query { audits: [String!]! }
        type Product @key(fields: "id", resolvable: false) { id: ID! auditedBy: String }
        "#,
    );
    assert_single_error(
        &[products, audit],
        ErrorCode::SatisfiabilityError,
        "The supergraph API query { products { auditedBy } } cannot be satisfied: \
         Product.auditedBy is defined only in subgraph \"audit\", which cannot get to a \
         Product: no root field of it leads there and it has no resolvable @key for it",
    );
}

#[test]
fn a_field_behind_a_union_names_the_member_in_the_query() {
    let a = fed2(
        "a",
        r#"
        type Query { search: [Result] }
        union Result = Hit
        type Hit @shareable { score: Int }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query { ping: String }
        type Hit @shareable { score: Int why: String }
        "#,
    );
    assert_single_error(
        &[a, b],
        ErrorCode::SatisfiabilityError,
        "The supergraph API query { search { ... on Hit { why } } } cannot be satisfied: Hit.why \
         is defined only in subgraph \"b\", which cannot get to a Hit: no root field of it leads \
         there and it has no resolvable @key for it",
    );
}

#[test]
fn fields_reached_through_any_path_of_the_subgraph_are_satisfiable() {
    let a = fed2(
        "a",
        r#"
        type Query { place: Place }
        type Place @shareable { name: String }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query { home: Place }
        type Place @shareable { name: String country: String }
        "#,
    );
    compose_valid(&[a, b]);
}

#[test]
fn inaccessible_fields_are_not_checked() {
    let a = fed2(
        "a",
        r#"
        type Query { place: Place }
        type Place @shareable { name: String }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query { version: String }
        type Place @shareable { name: String country: String @inaccessible }
        "#,
    );
    compose_valid(&[a, b]);
}
