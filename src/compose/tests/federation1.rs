//! Federation 1 subgraphs, alone and next to Federation 2 ones: read as Apollo upgrades them, and
//! the `@external` rules of both versions.

use super::{assert_single_error, compose_valid, fed2, raw};
use crate::compose::ErrorCode;

/// accounts and reviews are Federation 1: `Address` is a value type both define without
/// `@shareable`; reviews declares `address` `@external` without using it (dropped, as Apollo's
/// upgrade drops it) and extends `User` with `@extends` (the one Federation 1 form that still
/// prints `extension: true`). shipping is Federation 2 and must mark its copy `@shareable`.
#[test]
fn federation_1_and_2_subgraphs_compose_together() {
    let accounts = raw(
        "accounts",
        r#"
        extend type Query { me: User }
        type User @key(fields: "id") { id: ID! username: String address: Address }
        type Address { street: String city: String }
        "#,
    );
    let reviews = raw(
        "reviews",
        r#"
        type Review @key(fields: "id") { id: ID! body: String author: User @provides(fields: "username") }
        type User @key(fields: "id") @extends {
          id: ID! @external
          username: String @external
          address: Address @external
          reviews: [Review]
        }
        type Address { street: String city: String }
        extend type Query { latestReviews: [Review] }
        "#,
    );
    let shipping = fed2(
        "shipping",
        r#"
        type User @key(fields: "id") {
          id: ID!
          address: Address @external
          shippingEstimate: Int @requires(fields: "address { city }")
        }
        type Address @shareable { city: String }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[accounts, reviews, shipping]));
}

#[test]
fn federation_2_copy_of_a_federation_1_value_type_needs_shareable() {
    let accounts = raw(
        "accounts",
        r#"
        type Query { me: User }
        type User { name: String }
        "#,
    );
    let profiles = fed2(
        "profiles",
        "type Query { other: User } type User { name: String }",
    );
    assert_single_error(
        &[accounts, profiles],
        ErrorCode::InvalidFieldSharing,
        "Field User.name is resolved by subgraphs \"accounts\" and \"profiles\" but is not marked \
         @shareable in all of them (not shareable in \"profiles\")",
    );
}

#[test]
fn extension_of_a_type_no_subgraph_defines() {
    let products = raw("products", "type Query { top: Int }");
    let reviews = raw(
        "reviews",
        r#"
        extend type User @key(fields: "id") { id: ID! @external reviews: [String] }
        extend type Query { me: User }
        "#,
    );
    assert_single_error(
        &[products, reviews],
        ErrorCode::ExtensionWithNoBase,
        "[reviews] Type User is an extension type, but no subgraph defines User",
    );
}

#[test]
fn federation_1_type_with_only_unused_externals() {
    let accounts = raw(
        "accounts",
        r#"type Query { me: User } type User @key(fields: "id") { id: ID! name: String }"#,
    );
    let reviews = raw(
        "reviews",
        r#"
        type Query { ref: Ref }
        type Ref { name: String @external }
        "#,
    );
    assert_single_error(
        &[accounts, reviews],
        ErrorCode::TypeWithOnlyUnusedExternal,
        "[reviews] Type Ref has only @external fields and no @key, @requires or @provides uses \
         them, so it would be left empty, yet the subgraph refers to it",
    );
}

#[test]
fn federation_2_unused_external() {
    let users = fed2(
        "users",
        r#"
        type Query { me: User team: Team }
        type User @key(fields: "id") { id: ID! name: String @shareable }
        type Team @key(fields: "id") { id: ID! name: String @shareable }
        "#,
    );
    // `Team.name` implements `Named.name`, which counts as a use; `User.name` has none.
    let profiles = fed2(
        "profiles",
        r#"
        type User @key(fields: "id") { id: ID! name: String @external bio: String }
        interface Named { name: String }
        type Team implements Named @key(fields: "id") { id: ID! name: String @external }
        "#,
    );
    assert_single_error(
        &[users, profiles],
        ErrorCode::ExternalUnused,
        "[profiles] Field User.name is marked @external but no @key, @requires or @provides uses \
         it and it implements no interface field; remove it, or do not mark it @external",
    );
}

#[test]
fn federation_2_external_on_an_interface_field() {
    let a = fed2(
        "a",
        r#"
        type Query { named: Named }
        interface Named { name: String @external }
        type User implements Named @key(fields: "id") { id: ID! name: String }
        "#,
    );
    assert_single_error(
        &[a],
        ErrorCode::ExternalOnInterface,
        "[a] Interface field Named.name is marked @external, but interface fields cannot be \
         external: their implementations resolve them",
    );
}

#[test]
fn federation_1_requires_and_provides_lose_the_fields_the_subgraph_resolves() {
    let accounts = raw(
        "accounts",
        r#"
        type Query { me: User }
        type User @key(fields: "id") { id: ID! name: String address: Address }
        type Address { city: String zip: String }
        "#,
    );
    let reviews = raw(
        "reviews",
        r#"
        type Review { body: String author: User @provides(fields: "name id") }
        extend type Query { reviews: [Review] }
        extend type User @key(fields: "id") {
          id: ID! @external
          name: String @external
          address: Address @external
          nick: String
          greeting: String @requires(fields: "nick address { city } id")
          shout: String @requires(fields: "nick")
        }
        type Address { city: String zip: String }
        "#,
    );
    let supergraph = compose_valid(&[accounts, reviews]);
    for expected in [
        r#"author: User @join__field(graph: REVIEWS, provides: "name")"#,
        r#"greeting: String @join__field(graph: REVIEWS, requires: "address { city }")"#,
        "shout: String @join__field(graph: REVIEWS)\n",
    ] {
        assert!(
            supergraph.contains(expected),
            "missing {expected}:\n{supergraph}"
        );
    }
}
