//! Entity interfaces (`@key` on an interface) and `@interfaceObject`.

use super::{assert_single_error, compose_errors, compose_valid, fed2, fed2_at, raw};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;

fn media() -> SubgraphSdl {
    fed2(
        "media",
        r#"
        type Query { media(first: Int = 10): [Media!]! }
        interface Media @key(fields: "id") { id: ID! title: String! }
        type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int }
        type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int }
        "#,
    )
}

/// Two subgraphs add fields to `Media` without knowing its implementations: the interface gets
/// their `@join__type(isInterfaceObject: true)` and fields, and each implementation gets the
/// fields with a bare `@join__field`, as in Apollo's supergraph.
#[test]
fn interface_objects_extend_an_entity_interface() {
    let reviews = fed2(
        "reviews",
        r#"
        type Query { topRated: [Media!]! }
        type Media @key(fields: "id") @interfaceObject {
          id: ID!
          rating: Float
          "Most recent first."
          reviews(first: Int = 5): [Review!]!
        }
        type Review { body: String! }
        "#,
    );
    let stock = fed2(
        "stock",
        r#"type Media @key(fields: "id") @interfaceObject { id: ID! inStock: Boolean! }"#,
    );
    insta::assert_snapshot!(compose_valid(&[media(), reviews, stock]));
}

#[test]
fn interface_key_before_federation_2_3() {
    let old = fed2_at(
        2,
        "old",
        r#"
        type Query { media: [Media] }
        interface Media @key(fields: "id") { id: ID! }
        type Book implements Media @key(fields: "id") { id: ID! }
        "#,
    );
    assert_single_error(
        &[old],
        ErrorCode::KeyUnsupportedOnInterface,
        "[old] @key on interface Media needs Federation 2.3 or later, but the subgraph links \
         federation v2.2",
    );
}

#[test]
fn federation_1_interface_keys_are_dropped() {
    let legacy = raw(
        "legacy",
        r#"
        type Query { media: [Media] }
        interface Media @key(fields: "id") { id: ID! }
        type Book implements Media @key(fields: "id") { id: ID! }
        "#,
    );
    let supergraph = compose_valid(&[legacy]);
    assert!(
        supergraph.contains("interface Media\n  @join__type(graph: LEGACY)\n{"),
        "{supergraph}"
    );
}

#[test]
fn implementation_without_the_interface_key() {
    let a = fed2(
        "a",
        r#"
        type Query { media: [Media] }
        interface Media @key(fields: "id") { id: ID! title: String }
        type Book implements Media @key(fields: "title") { id: ID! title: String }
        type Movie implements Media @key(fields: "id", resolvable: false) { id: ID! title: String }
        "#,
    );
    assert_eq!(
        compose_errors(&[a]),
        vec![
            (
                ErrorCode::InterfaceKeyNotOnImplementation,
                "[a] Interface Media has @key(fields: \"id\"), but its implementation Book does \
                 not have it; every implementation of an entity interface needs the interface's \
                 keys"
                    .to_string()
            ),
            (
                ErrorCode::InterfaceKeyNotOnImplementation,
                "[a] Interface Media has @key(fields: \"id\"), but its implementation Movie \
                 declares it with resolvable: false; every implementation of an entity interface \
                 needs the interface's keys"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn entity_interface_subgraph_missing_an_implementation() {
    let other = fed2(
        "other",
        r#"
        type Query { latest: Media }
        interface Media { id: ID! }
        type Podcast implements Media @key(fields: "id") { id: ID! title: String! }
        "#,
    );
    assert_single_error(
        &[media(), other],
        ErrorCode::InterfaceKeyMissingImplementationType,
        "[media] Interface Media has a resolvable @key(fields: \"id\") in this subgraph, so the \
         subgraph must define every implementation of Media in the supergraph, but it lacks \
         Podcast (from subgraph \"other\")",
    );
}

#[test]
fn interface_object_without_a_key() {
    let reviews = fed2(
        "reviews",
        "type Media @interfaceObject { id: ID! rating: Int }",
    );
    assert_single_error(
        &[media(), reviews],
        ErrorCode::InterfaceObjectUsageError,
        "[reviews] Type Media is marked @interfaceObject but has no @key in this subgraph; an \
         @interfaceObject must be an entity",
    );
}

#[test]
fn interface_object_without_an_interface() {
    let reviews = fed2(
        "reviews",
        r#"
        type Query { topRated: [Media!]! }
        type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int }
        "#,
    );
    assert_single_error(
        &[reviews],
        ErrorCode::InterfaceObjectUsageError,
        "Type Media is marked @interfaceObject in subgraph \"reviews\", but no subgraph defines \
         interface Media; an @interfaceObject stands for an entity interface (an interface with \
         a @key) defined in another subgraph",
    );
}

#[test]
fn interface_object_for_an_interface_without_a_key() {
    let plain = fed2(
        "plain",
        r#"
        type Query { media: [Media] }
        interface Media { id: ID! }
        type Book implements Media @key(fields: "id") { id: ID! }
        "#,
    );
    let reviews = fed2(
        "reviews",
        r#"type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int }"#,
    );
    assert_single_error(
        &[plain, reviews],
        ErrorCode::InterfaceObjectUsageError,
        "Type Media is marked @interfaceObject in subgraph \"reviews\", but no subgraph gives \
         interface Media a @key, so no subgraph can tell the concrete type of a Media; an \
         @interfaceObject stands for an entity interface (an interface with a @key) defined in \
         another subgraph",
    );
}

#[test]
fn interface_object_for_an_object_type() {
    let objects = fed2(
        "objects",
        r#"
        type Query { media: Media }
        type Media @key(fields: "id") { id: ID! }
        "#,
    );
    let reviews = fed2(
        "reviews",
        r#"type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int }"#,
    );
    assert_single_error(
        &[objects, reviews],
        ErrorCode::TypeKindMismatch,
        "Type Media is defined with different kinds: an object type in subgraph \"objects\" and \
         an @interfaceObject type in subgraph \"reviews\"",
    );
}

#[test]
fn interface_object_field_must_be_shareable_with_the_implementations() {
    let reviews = fed2(
        "reviews",
        r#"type Media @key(fields: "id") @interfaceObject { id: ID! title: String! }"#,
    );
    let errors = compose_errors(&[media(), reviews]);
    let expected = |object: &str| {
        (
            ErrorCode::InvalidFieldSharing,
            format!(
                "Field {object}.title is resolved by subgraphs \"media\" and \"reviews\" (through \
                 @interfaceObject Media.title) but is not marked @shareable in all of them (not \
                 shareable in \"media\" and \"reviews\" (through @interfaceObject Media.title))"
            ),
        )
    };
    assert_eq!(errors, vec![expected("Book"), expected("Movie")]);
}
