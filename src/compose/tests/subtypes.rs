//! Shared output fields whose types differ by subtyping between subgraphs: the supergraph takes
//! the most general type and records each subgraph's own in `@join__field(type:)`.

use super::{assert_single_error, compose_valid, fed2};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;

fn library() -> SubgraphSdl {
    fed2(
        "library",
        r#"
        type Query { shelf(id: ID!): Shelf }
        type Shelf @key(fields: "id") {
          id: ID!
          featured: Media @shareable
          lead: Item @shareable
          count: Int @shareable
        }
        union Media = Book | Movie
        interface Item { id: ID! title: String }
        type Book implements Item @key(fields: "id") { id: ID! title: String @shareable }
        type Movie implements Item @key(fields: "id") { id: ID! title: String minutes: Int }
        "#,
    )
}

#[test]
fn a_member_object_and_non_null_types_merge_into_the_most_general_type() {
    let shelf = fed2(
        "shelf",
        r#"
        type Query { shelves: [Shelf!]! }
        type Shelf @key(fields: "id") {
          id: ID!
          featured: Book @shareable
          lead: Book @shareable
          count: Int! @shareable
        }
        type Book @key(fields: "id") { id: ID! title: String @shareable }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[library(), shelf]));
}

#[test]
fn lists_of_members_merge_into_lists_of_the_union() {
    let a = fed2(
        "a",
        r#"
        type Query { results: [Result] @shareable }
        union Result = Hit | Miss
        type Hit { score: Int @shareable }
        type Miss { reason: String @shareable }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query { results: [Hit!]! @shareable }
        type Hit { score: Int @shareable }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    assert!(
        supergraph.contains(
            r#"results: [Result] @join__field(graph: A, type: "[Result]") @join__field(graph: B, type: "[Hit!]!")"#
        ),
        "{supergraph}"
    );
}

#[test]
fn an_object_that_is_not_a_member_is_refused() {
    let shelf = fed2(
        "shelf",
        r#"
        type Query { shelves: [Shelf!]! }
        type Shelf @key(fields: "id") { id: ID! featured: Poster @shareable }
        type Poster { id: ID! }
        "#,
    );
    let library = fed2(
        "library",
        r#"
        type Query { shelf(id: ID!): Shelf }
        type Shelf @key(fields: "id") { id: ID! featured: Media @shareable }
        union Media = Book
        type Book { id: ID! }
        "#,
    );
    assert_single_error(
        &[library, shelf],
        ErrorCode::FieldTypeMismatch,
        "Shelf.featured is defined in subgraphs \"library\" and \"shelf\" with types Media and \
         Poster, which are incompatible: one must be a subtype of the other (a member of the \
         union or an implementation of the interface, or the same type non-null)",
    );
}

#[test]
fn a_nullable_member_under_a_non_null_union_is_refused() {
    let shelf = fed2(
        "shelf",
        r#"
        type Query { shelves: [Shelf!]! }
        type Shelf @key(fields: "id") { id: ID! featured: Book @shareable }
        type Book { id: ID! @shareable }
        "#,
    );
    let library = fed2(
        "library",
        r#"
        type Query { shelf(id: ID!): Shelf }
        type Shelf @key(fields: "id") { id: ID! featured: Media! @shareable }
        union Media = Book
        type Book { id: ID! @shareable }
        "#,
    );
    assert_single_error(
        &[library, shelf],
        ErrorCode::FieldTypeMismatch,
        "Shelf.featured is defined in subgraphs \"library\" and \"shelf\" with types Media! and \
         Book, which are incompatible: one must be a subtype of the other (a member of the \
         union or an implementation of the interface, or the same type non-null)",
    );
}
