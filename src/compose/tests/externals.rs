//! `@external` in `@requires` and `@provides` field sets, and on whole types: what Federation 2
//! asks to be external, and what the supergraph then says about each field.

use super::{assert_single_error, compose_valid, fed2};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;

fn people() -> SubgraphSdl {
    fed2(
        "people",
        r#"
        type Query { authors: [Author!]! }
        type Author @key(fields: "id") {
          id: ID!
          name: String @shareable
          yearsOfExperience: Int
        }
        type Comment @key(fields: "id") { id: ID! authorId: ID }
        type Category @key(fields: "id") {
          id: ID!
          name: String @shareable
          label: String @shareable
        }
        "#,
    )
}

#[test]
fn only_leaves_of_requires_and_provides_need_external() {
    let blog = fed2(
        "blog",
        r#"
        type Query {
          posts: [Post!]!
          latest: Post @provides(fields: "author { name }")
        }
        type Post @key(fields: "id") {
          id: ID!
          author: Author
          comments(limit: Int!): [Comment!]!
          isSenior: Boolean @requires(fields: "author { yearsOfExperience }")
          commenters: String @requires(fields: "comments(limit: 3) { authorId }")
        }
        type Author @key(fields: "id") {
          id: ID!
          name: String @external
          yearsOfExperience: Int @external
        }
        type Comment @key(fields: "id") { id: ID! authorId: ID @external }
        "#,
    );
    let supergraph = compose_valid(&[people(), blog]);
    for expected in [
        r#"latest: Post @join__field(graph: BLOG, provides: "author { name }")"#,
        r#"isSenior: Boolean @join__field(graph: BLOG, requires: "author { yearsOfExperience }")"#,
        r#"commenters: String @join__field(graph: BLOG, requires: "comments(limit: 3) { authorId }")"#,
        r#"name: String @join__field(graph: BLOG, external: true) @join__field(graph: PEOPLE)"#,
    ] {
        assert!(
            supergraph.contains(expected),
            "missing {expected} in:\n{supergraph}"
        );
    }
}

#[test]
fn leaves_under_an_external_field_need_not_be_external() {
    let inventory = fed2(
        "inventory",
        r#"
        type Query { stock: [Product!]! }
        type Product @key(fields: "upc") {
          upc: String!
          dimensions: Dimensions @shareable
        }
        type Dimensions @shareable { width: Int height: Int }
        "#,
    );
    let shipping = fed2(
        "shipping",
        r#"
        type Product @key(fields: "upc") {
          upc: String!
          dimensions: Dimensions @external
          cost: Int @requires(fields: "dimensions { width height }")
        }
        type Dimensions @shareable { width: Int height: Int }
        "#,
    );
    let supergraph = compose_valid(&[inventory, shipping]);
    assert!(
        supergraph.contains(
            r#"cost: Int @join__field(graph: SHIPPING, requires: "dimensions { width height }")"#
        ),
        "{supergraph}"
    );
}

#[test]
fn a_leaf_that_is_not_external_under_a_local_field_is_refused() {
    let blog = fed2(
        "blog",
        r#"
        type Query { posts: [Post!]! }
        type Post @key(fields: "id") {
          id: ID!
          author: Author
          isSenior: Boolean @requires(fields: "author { yearsOfExperience }")
        }
        type Author @key(fields: "id") { id: ID! yearsOfExperience: Int @shareable }
        "#,
    );
    let people = fed2(
        "people",
        r#"
        type Query { authors: [Author!]! }
        type Author @key(fields: "id") { id: ID! yearsOfExperience: Int @shareable }
        "#,
    );
    assert_single_error(
        &[blog, people],
        ErrorCode::RequiresFieldsMissingExternal,
        "[blog] @requires(fields: \"author { yearsOfExperience }\") on Post.isSenior requires \
         Author.yearsOfExperience, which is not marked @external in this subgraph",
    );
}

#[test]
fn external_on_a_type_makes_every_field_external() {
    let blog = fed2(
        "blog",
        r#"
        type Query { posts: [Post!]! }
        type Post @key(fields: "id") {
          id: ID!
          category: Category @provides(fields: "id name label")
        }
        type Category @key(fields: "id") @external { id: ID! name: String label: String }
        "#,
    );
    let supergraph = compose_valid(&[people(), blog]);
    for expected in [
        r#"id: ID! @join__field(graph: BLOG, external: true) @join__field(graph: PEOPLE)"#,
        r#"name: String @join__field(graph: BLOG, external: true) @join__field(graph: PEOPLE)"#,
        r#"label: String @join__field(graph: BLOG, external: true) @join__field(graph: PEOPLE)"#,
        r#"category: Category @join__field(graph: BLOG, provides: "id name label")"#,
    ] {
        assert!(
            supergraph.contains(expected),
            "missing {expected} in:\n{supergraph}"
        );
    }
    assert!(!supergraph.contains("@external"), "{supergraph}");
}

#[test]
fn fields_of_an_external_type_that_nothing_uses_are_refused() {
    let blog = fed2(
        "blog",
        r#"
        type Query { posts: [Post!]! }
        type Post @key(fields: "id") {
          id: ID!
          category: Category @provides(fields: "id name")
        }
        type Category @key(fields: "id") @external { id: ID! name: String label: String }
        "#,
    );
    assert_single_error(
        &[people(), blog],
        ErrorCode::ExternalUnused,
        "[blog] Field Category.label is marked @external but no @key, @requires or @provides \
         uses it and it implements no interface field; remove it, or do not mark it @external",
    );
}
