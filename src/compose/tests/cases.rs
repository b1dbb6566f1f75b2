//! Subgraph sets that compose, each with a snapshot of its supergraph.

use super::{compose_valid, fed2, raw};

#[test]
fn entities_with_several_and_compound_keys() {
    let accounts = fed2(
        "accounts",
        r#"
        type Query { me: User }
        type User @key(fields: "id") @key(fields: "email") {
          id: ID!
          email: String!
          name: String
          organization: Organization! @shareable
        }
        type Organization @key(fields: "id") { id: ID! name: String! }
        "#,
    );
    let members = fed2(
        "members",
        r#"
        type User @key(fields: "id organization { id }") {
          id: ID!
          organization: Organization!
          role: String!
        }
        type Organization @key(fields: "id", resolvable: false) { id: ID! }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[accounts, members]));
}

#[test]
fn requires_provides_and_external() {
    let products = fed2(
        "products",
        r#"
        type Query { product(upc: String!): Product }
        type Product @key(fields: "upc") {
          upc: String!
          name: String! @shareable
          price: Int!
          weight: Int!
        }
        "#,
    );
    let inventory = fed2(
        "inventory",
        r#"
        type Product @key(fields: "upc") {
          upc: String!
          price: Int! @external
          weight: Int! @external
          shippingEstimate: Int! @requires(fields: "price weight")
        }
        "#,
    );
    let reviews = fed2(
        "reviews",
        r#"
        type Query { reviews: [Review!]! }
        type Review {
          body: String!
          product: Product! @provides(fields: "name")
        }
        type Product @key(fields: "upc") {
          upc: String!
          name: String! @external
          reviews: [Review!]!
        }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[products, inventory, reviews]));
}

#[test]
fn shareable_value_types_with_different_nullability() {
    let pricing = fed2(
        "pricing",
        r#"
        type Query {
          price: Money
          rates(base: String!, limit: Int): [Money!] @shareable
        }
        type Money @shareable {
          amount: Int!
          currency: String
          formatted: String
        }
        "#,
    );
    let billing = fed2(
        "billing",
        r#"
        type Query {
          balance: Money!
          rates(base: String): [Money!]! @shareable
        }
        type Money @shareable {
          amount: Int
          currency: String!
          history: [[Int!]]!
        }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[pricing, billing]));
}

#[test]
fn interfaces_and_unions_across_subgraphs() {
    let books = fed2(
        "books",
        r#"
        type Query {
          node(id: ID!): Node
          search(text: String!): [SearchResult!]!
        }
        interface Node { id: ID! }
        type Book implements Node @key(fields: "id") { id: ID! title: String! }
        union SearchResult = Book
        "#,
    );
    let movies = fed2(
        "movies",
        r#"
        type Query { movieSearch(text: String!): [SearchResult!]! }
        interface Node { id: ID! }
        type Movie implements Node @key(fields: "id") { id: ID! director: String! }
        type Book implements Node @key(fields: "id") { id: ID! adaptations: [Movie!]! }
        union SearchResult = Movie | Book
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[books, movies]));
}

#[test]
fn enums_merge_by_how_they_are_used() {
    let a = fed2(
        "a",
        r#"
        type Query {
          favoriteColor: Color
          products(sort: SortOrder): [String!]!
          status(filter: Status): Status
        }
        "Output only: the union of the values."
        enum Color { RED GREEN BLUE }
        "Input only: the intersection of the values."
        enum SortOrder { ASC DESC RANDOM }
        "Input and output: the same values everywhere."
        enum Status { ACTIVE INACTIVE @deprecated(reason: "use ACTIVE") }
        "#,
    );
    let b = fed2(
        "b",
        r#"
        type Query {
          paint: Color!
          orders(sort: SortOrder): [String!]!
          accountStatus(filter: Status): Status
        }
        enum Color { RED YELLOW }
        enum SortOrder { ASC DESC }
        enum Status { ACTIVE INACTIVE }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[a, b]));
}

#[test]
fn federation_1_subgraphs_extend_types() {
    let accounts = raw(
        "accounts",
        r#"
        extend type Query { me: User }
        type User @key(fields: "id") { id: ID! username: String }
        "#,
    );
    let products = raw(
        "products",
        r#"
        type Query { topProducts(first: Int = 5): [Product] }
        type Product @key(fields: "upc") { upc: String! name: String weight: Int }
        "#,
    );
    let inventory = raw(
        "inventory",
        r#"
        extend type Product @key(fields: "upc") {
          upc: String! @external
          weight: Int @external
          inStock: Boolean
          shippingEstimate: Int @requires(fields: "weight")
        }
        "#,
    );
    let reviews = raw(
        "reviews",
        r#"
        type Review { body: String author: User @provides(fields: "username") product: Product }
        type User @key(fields: "id") @extends {
          id: ID! @external
          username: String @external
          reviews: [Review]
        }
        extend type Product @key(fields: "upc") { upc: String! @external reviews: [Review] }
        extend type Query { latestReviews: [Review] }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[accounts, products, inventory, reviews]));
}

#[test]
fn inaccessible_and_tag_are_kept() {
    let catalog = fed2(
        "catalog",
        r#"
        type Query {
          products(includeHidden: Boolean @inaccessible): [Product!]!
          visibility: Visibility
        }
        type Product @key(fields: "id") @tag(name: "public") {
          id: ID!
          name: String
          internalCode: String @inaccessible
        }
        enum Visibility { PUBLIC SECRET @inaccessible }
        type AuditLog @inaccessible { entries: [String!]! }
        "#,
    );
    // The directive is reachable under the spec's prefix when it is not imported.
    let stock = raw(
        "stock",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Product @key(fields: "id") { id: ID! stock: Int @federation__inaccessible }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[catalog, stock]));
}

#[test]
fn override_moves_fields_between_subgraphs() {
    let legacy = fed2(
        "legacy",
        r#"
        type Query { product(id: ID!): Product }
        type Product @key(fields: "id") @key(fields: "sku") {
          id: ID!
          sku: String!
          price: Int
          name: String
        }
        "#,
    );
    let pricing = fed2(
        "pricing",
        r#"
        type Product @key(fields: "id") {
          id: ID!
          sku: String! @override(from: "legacy")
          price: Int @override(from: "legacy")
        }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[legacy, pricing]));
}

#[test]
fn framework_variants_are_normalised() {
    // Another framework: its own root type names, federation plumbing in the SDL, directive
    // definitions, a renamed `@key`, a prefixed `@shareable`, and a custom directive.
    let users = raw(
        "users",
        r#"
        schema { query: RootQuery mutation: RootMutation }
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: [{ name: "@key", as: "@primaryKey" }])
        directive @primaryKey(fields: String!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
        directive @cacheControl(maxAge: Int) on FIELD_DEFINITION
        scalar _Any
        scalar FieldSet
        type _Service { sdl: String }
        union _Entity = User
        type RootQuery {
          _service: _Service!
          _entities(representations: [_Any!]!): [_Entity]!
          me: RootQuery
          viewer: User @cacheControl(maxAge: 10)
        }
        type RootMutation { rename(name: String!): User }
        """
        A person.

        Signs in with an email address.
        """
        type User @primaryKey(fields: "id") {
          id: ID!
          "Display name"
          name: String @federation__shareable
        }
        "#,
    );
    let profiles = fed2(
        "profiles-v2",
        r#"
        type Query { users: [User!]! }
        type User @key(fields: "id") { id: ID! name: String @shareable bio: String }
        "#,
    );
    // Federation 2 written the Federation 1 way: the key of an extension may be `@external`.
    let orders = fed2(
        "orders",
        r#"
        extend type User @key(fields: "id") { id: ID! @external orders: [String!]! }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[users, profiles, orders]));
}

#[test]
fn interface_objects_add_fields_to_implementations() {
    let media = fed2(
        "media",
        r#"
        type Query { media: [Media!]! }
        interface Media @key(fields: "id") { id: ID! title: String! }
        type Book implements Media @key(fields: "id") { id: ID! title: String! author: String! }
        "#,
    );
    let reviews = fed2(
        "reviews",
        r#"
        type Query { topMedia: [Media!]! }
        type Media @key(fields: "id") @interfaceObject { id: ID! reviews: [String!]! }
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[media, reviews]));
}

#[test]
fn input_objects_and_arguments_keep_what_every_subgraph_accepts() {
    let search = fed2(
        "search",
        r#"
        type Query {
          products(
            "Narrows the results."
            filter: ProductFilter
            first: Int = 10
          ): [String!]! @shareable
        }
        input ProductFilter { name: String maxPrice: Int category: String }
        scalar DateTime @specifiedBy(url: "https://www.rfc-editor.org/rfc/rfc3339")
        "#,
    );
    let catalog = fed2(
        "catalog",
        r#"
        type Query {
          products(filter: ProductFilter, first: Int = 10, after: String): [String!]! @shareable
          updatedSince(time: DateTime!): [String!]!
        }
        input ProductFilter { name: String! maxPrice: Int = 100 }
        scalar DateTime
        "#,
    );
    insta::assert_snapshot!(compose_valid(&[search, catalog]));
}
