//! `@override`, progressive override labels (Federation 2.7) and the join spec version linked.

use super::{assert_single_error, compose_errors, compose_valid, fed2, fed2_at};
use crate::compose::fields::is_valid_override_label;
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;

fn legacy(minor: u32) -> SubgraphSdl {
    fed2_at(
        minor,
        "legacy",
        r#"
        type Query { product(id: ID!): Product }
        type Product @key(fields: "id") @key(fields: "sku") {
          id: ID!
          sku: String!
          price: Int
          currency: String
          name: String
        }
        "#,
    )
}

/// A percentage, a flag name and a plain override side by side. `sku` is still in legacy's key,
/// so legacy keeps it as `usedOverridden` as well as under the label.
#[test]
fn progressive_override_keeps_the_overridden_field_under_its_label() {
    let pricing = fed2_at(
        7,
        "pricing",
        r#"
        type Product @key(fields: "id") {
          id: ID!
          sku: String! @override(from: "legacy", label: "percent(25)")
          price: Int @override(from: "legacy", label: "pricing-v2")
          currency: String @override(from: "legacy")
        }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[legacy(7), pricing]));
}

#[test]
fn federation_2_8_links_join_v0_5() {
    let pricing = fed2_at(
        8,
        "pricing",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy", label: "percent(50)") }"#,
    );
    let supergraph = compose_valid(&[legacy(8), pricing]);
    for expected in [
        r#"@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)"#,
        "usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!])",
        "input join__ContextArgument {",
        "scalar join__FieldValue",
        r#"price: Int @join__field(graph: LEGACY, overrideLabel: "percent(50)") @join__field(graph: PRICING, override: "legacy", overrideLabel: "percent(50)")"#,
    ] {
        assert!(supergraph.contains(expected), "missing {expected}:\n{supergraph}");
    }
}

#[test]
fn a_label_in_an_older_subgraph_still_links_join_v0_4() {
    // Apollo refuses `label` before federation v2.7; Seam accepts it, like the directives a
    // framework forgets to import, and links the join version that can carry it.
    let pricing = fed2(
        "pricing",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy", label: "beta") }"#,
    );
    let supergraph = compose_valid(&[legacy(3), pricing]);
    assert!(
        supergraph.contains(r#"@link(url: "https://specs.apollo.dev/join/v0.4", for: EXECUTION)"#)
    );
    assert!(supergraph.contains("directive @join__directive(graphs: [join__Graph!]"));
    assert!(supergraph.contains("scalar join__DirectiveArguments"));
    assert!(!supergraph.contains("contextArguments"));
}

#[test]
fn without_labels_federation_2_3_links_join_v0_3() {
    let pricing = fed2(
        "pricing",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy") }"#,
    );
    let supergraph = compose_valid(&[legacy(3), pricing]);
    assert!(
        supergraph.contains(r#"@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)"#)
    );
    assert!(!supergraph.contains("overrideLabel"));
}

#[test]
fn override_labels_follow_the_federation_rules() {
    for valid in [
        "a",
        "pricing-v2",
        "team/flag:on.x_y",
        "percent(0)",
        "percent(5)",
        "percent(99.12345678)",
        "percent(100)",
    ] {
        assert!(is_valid_override_label(valid), "{valid} should be valid");
    }
    for invalid in [
        "",
        "9lives",
        "-flag",
        "has space",
        "flag!",
        "percent()",
        "percent(100.0)",
        "percent(101)",
        "percent(5.123456789)",
        "percent(-1)",
        "percent(1e2)",
        "percent(050)",
        "percent(5",
    ] {
        assert!(
            !is_valid_override_label(invalid),
            "{invalid} should be invalid"
        );
    }
}

#[test]
fn invalid_label() {
    let pricing = fed2_at(
        7,
        "pricing",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy", label: "percent(101)") }"#,
    );
    assert_single_error(
        &[legacy(7), pricing],
        ErrorCode::OverrideLabelInvalid,
        "[pricing] Product.price has @override(label: \"percent(101)\"), which is not a valid \
         label: a label starts with a letter followed by letters, digits, `_`, `-`, `:`, `.` or \
         `/`, or is \"percent(x)\" with x a number from 0 to 100 with at most 8 decimals",
    );
}

#[test]
fn override_of_a_field_with_requires() {
    let legacy = fed2(
        "legacy",
        r#"
        type Query { product: Product }
        type Product @key(fields: "id") {
          id: ID!
          weight: Int @external
          shipping: Int @requires(fields: "weight")
        }
        "#,
    );
    let shipping = fed2(
        "shipping",
        r#"
        type Product @key(fields: "id") {
          id: ID!
          weight: Int @shareable
          shipping: Int @override(from: "legacy")
        }
        "#,
    );
    let errors = compose_errors(&[legacy, shipping]);
    assert_eq!(
        errors[0],
        (
            ErrorCode::OverrideCollisionWithAnotherDirective,
            "[shipping] Product.shipping cannot be marked @override, since it is marked \
             @requires in subgraph \"legacy\""
                .to_string()
        )
    );
    // Without the override, both subgraphs resolve `shipping`, as Apollo reports too.
    assert_eq!(errors[1].0, ErrorCode::InvalidFieldSharing);
    assert_eq!(errors.len(), 2);
}

#[test]
fn override_on_an_external_field() {
    let pricing = fed2(
        "pricing",
        r#"
        type Product @key(fields: "id") {
          id: ID!
          price: Int @external @override(from: "legacy")
          tax: Int @requires(fields: "price")
        }
        "#,
    );
    assert_single_error(
        &[legacy(3), pricing],
        ErrorCode::OverrideCollisionWithAnotherDirective,
        "[pricing] Product.price cannot be marked @override, since it is marked @external in \
         subgraph \"pricing\"",
    );
}

#[test]
fn override_on_an_interface_field() {
    let a = fed2(
        "a",
        r#"
        type Query { node: Node }
        interface Node { id: ID! }
        type User implements Node @key(fields: "id") { id: ID! }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        interface Node { id: ID! @override(from: "a") }
        type User implements Node @key(fields: "id") { id: ID! }
        "#,
    );
    assert_single_error(
        &[a, b],
        ErrorCode::OverrideOnInterface,
        "[b] Node.id is an interface field, and @override cannot be used on interface fields",
    );
}

#[test]
fn override_on_an_interface_object_field() {
    let media = fed2(
        "media",
        r#"
        type Query { media: [Media!]! }
        interface Media @key(fields: "id") { id: ID! title: String }
        type Book implements Media @key(fields: "id") { id: ID! title: String }
        "#,
    );
    let reviews = fed2(
        "reviews",
        r#"
        type Media @key(fields: "id") @interfaceObject {
          id: ID!
          rating: Int @override(from: "media")
        }
        "#,
    );
    assert_single_error(
        &[media, reviews],
        ErrorCode::OverrideCollisionWithAnotherDirective,
        "[reviews] Media.rating is a field of an @interfaceObject, and @override cannot be used \
         on those",
    );
}

#[test]
fn the_overridden_copy_is_no_resolver_for_the_sharing_rule() {
    // `price` is not shareable anywhere, yet only pricing resolves it (legacy only under the
    // inactive label), exactly as Apollo sees it.
    let pricing = fed2_at(
        7,
        "pricing",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy", label: "percent(1)") }"#,
    );
    compose_valid(&[legacy(7), pricing]);

    // Two subgraphs overriding the same field both resolve it.
    let first = fed2_at(
        7,
        "first",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy", label: "x") }"#,
    );
    let second = fed2_at(
        7,
        "second",
        r#"type Product @key(fields: "id") { id: ID! price: Int @override(from: "legacy") }"#,
    );
    assert_single_error(
        &[legacy(7), first, second],
        ErrorCode::InvalidFieldSharing,
        "Field Product.price is resolved by subgraphs \"first\" and \"second\" but is not marked \
         @shareable in all of them (not shareable in \"first\" and \"second\")",
    );
}

/// A copy taken over entirely by `@override` still speaks for the field to clients: hidden by
/// its `@inaccessible`, deprecated by its `@deprecated`.
#[test]
fn a_field_overridden_entirely_keeps_the_old_copys_inaccessible_and_deprecation() {
    let old = fed2(
        "old",
        r#"
        type Query { u: U }
        type U @key(fields: "id") {
          id: ID!
          secret: String @inaccessible
          legacy: String @deprecated(reason: "use name")
        }
        "#,
    );
    let new = fed2(
        "new",
        r#"
        type U @key(fields: "id") {
          id: ID!
          secret: String @override(from: "old")
          legacy: String @override(from: "old")
        }
        "#,
    );
    let supergraph = compose_valid(&[old, new]);
    for expected in [
        r#"secret: String @inaccessible @join__field(graph: NEW, override: "old")"#,
        r#"legacy: String @join__field(graph: NEW, override: "old") @deprecated(reason: "use name")"#,
    ] {
        assert!(
            supergraph.contains(expected),
            "missing {expected}:\n{supergraph}"
        );
    }
}

/// The copy an `@override` takes over entirely still counts for the field's type, as in
/// Apollo: clients keep seeing the general type, the overriding subgraph's own is recorded on
/// its `@join__field`, and types that do not fit together are refused with or without a label.
#[test]
fn an_overridden_copy_still_counts_for_the_fields_type() {
    let catalog = |ty: &str| {
        fed2(
            "catalog",
            &format!(
                r#"type Query {{ product: Product }}
                type Product @key(fields: "id") {{ id: ID! name: {ty} }}"#
            ),
        )
    };
    let names = |ty: &str, label: &str| {
        fed2_at(
            7,
            "names",
            &format!(
                r#"type Product @key(fields: "id") {{ id: ID! name: {ty} @override(from: "catalog"{label}) }}"#
            ),
        )
    };
    let supergraph = compose_valid(&[catalog("String"), names("String!", "")]);
    assert!(
        supergraph.contains(
            "  name: String @join__field(graph: NAMES, type: \"String!\", override: \"catalog\")"
        ),
        "{supergraph}"
    );
    for label in ["", ", label: \"percent(10)\""] {
        let errors = compose_errors(&[catalog("String"), names("Int", label)]);
        assert!(
            errors
                .iter()
                .any(|(code, _)| *code == ErrorCode::FieldTypeMismatch),
            "{label}: {errors:?}"
        );
    }
}
