//! Enums, input objects and arguments across subgraphs, and `@shareable` value types whose fields
//! differ between subgraphs.

use super::{assert_single_error, compose_errors, compose_valid, fed2};
use crate::compose::ErrorCode;

/// `OrderFilter` keeps the fields both subgraphs accept (`since` becomes required, as one
/// subgraph requires it); `Page` keeps its object default; `OrderState` is used as input and
/// output and is the same everywhere; `Channel` is output only and takes the union of the
/// values, each with the subgraphs that have it; `orders(region:)` is dropped, since only one
/// subgraph accepts it.
#[test]
fn enums_inputs_and_arguments_merge_by_position() {
    let orders = fed2(
        "orders",
        r#"
        type Query { orders(filter: OrderFilter, page: Page = {size: 20}): [Order!]! @shareable }
        type Order @key(fields: "id") { id: ID! state: OrderState! channel: Channel @shareable }
        input OrderFilter { state: OrderState since: String customer: ID }
        input Page { size: Int! = 20 after: String }
        "Used as input and output: identical everywhere."
        enum OrderState { OPEN PAID SHIPPED }
        "Output only: the union."
        enum Channel { WEB STORE }
        "#,
    );
    let reporting = fed2(
        "reporting",
        r#"
        type Query {
          orders(filter: OrderFilter, page: Page = {size: 20}, region: String): [Order!]! @shareable
        }
        type Order @key(fields: "id") { id: ID! channel: Channel @shareable }
        input OrderFilter { state: OrderState since: String! }
        input Page { size: Int! = 20 after: String }
        enum OrderState { OPEN PAID SHIPPED }
        enum Channel { WEB APP }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[orders, reporting]));
}

/// A shareable value type is the union of its fields; each field not in every subgraph that
/// defines the type says where it resolves, and nullability differences are merged.
#[test]
fn shareable_value_types_merge_their_differing_fields() {
    let catalog = fed2(
        "catalog",
        r#"
        type Query { product(id: ID!): Product }
        type Product @key(fields: "id") { id: ID! dimensions: Dimensions @shareable }
        type Dimensions @shareable { width: Int height: Int unit: Unit }
        type Unit @shareable { name: String! symbol: String }
        "#,
    );
    let shipping = fed2(
        "shipping",
        r#"
        type Product @key(fields: "id") { id: ID! dimensions: Dimensions! @shareable }
        type Dimensions @shareable { width: Int! depth: Int unit: Unit! }
        type Unit @shareable { name: String! factor: Float }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[catalog, shipping]));
}

#[test]
fn output_enum_of_one_subgraph_used_as_input_in_another() {
    let a = fed2("a", "type Query { a(e: E): Int } enum E { X Y }");
    let b = fed2("b", "type Query { b: E } enum E { X }");
    assert_single_error(
        &[a, b],
        ErrorCode::EnumValueMismatch,
        "Enum E is used as both an input and an output type, so its values must be the same in \
         every subgraph, but Y is defined in subgraph \"a\" and not in subgraph \"b\"",
    );
}

#[test]
fn input_and_output_enum_may_differ_by_inaccessible_values() {
    let a = fed2(
        "a",
        "type Query { a(e: E): E } enum E { X Y @inaccessible }",
    );
    let b = fed2("b", "type Query { b: E } enum E { X }");
    let supergraph = compose_valid(&[a, b]);
    assert!(
        supergraph.contains("  Y @inaccessible @join__enumValue(graph: A)\n"),
        "{supergraph}"
    );
}

#[test]
fn object_default_values_are_compared_and_printed_on_one_line() {
    let a = fed2(
        "a",
        "type Query { a(p: P = {size: 1}): Int @shareable } input P { size: Int }",
    );
    let b = fed2(
        "b",
        "type Query { a(p: P = {size: 2}): Int @shareable } input P { size: Int }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::ArgumentDefaultMismatch,
        "Argument Query.a(p:) has different default values: {size: 1} in \"a\" and {size: 2} in \
         \"b\"",
    );
}

/// One default spelled two ways is one default: `1` and `1.0` for a `Float`, input object fields
/// in another order. Different values still conflict.
#[test]
fn defaults_are_compared_by_value_not_by_spelling() {
    let b = fed2(
        "b",
        "type Query { f(x: Float = 1.0, p: In = { y: 2, x: 1 }): Int @shareable }\ninput In { x: Int y: Int }",
    );
    let a_shared = fed2(
        "a",
        "type Query { f(x: Float = 1, p: In = { x: 1, y: 2 }): Int @shareable }\ninput In { x: Int y: Int }",
    );
    compose_valid(&[a_shared.clone(), b]);
    let c = fed2(
        "c",
        "type Query { f(x: Float = 2, p: In = { x: 1, y: 2 }): Int @shareable }\ninput In { x: Int y: Int }",
    );
    let errors = compose_errors(&[a_shared, c]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, ErrorCode::ArgumentDefaultMismatch);
}
