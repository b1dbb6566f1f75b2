//! One test per composition error: the subgraphs that cause it and the exact message.

use super::{assert_single_error, compose_errors, compose_valid, fed2, raw};
use crate::compose::{compose, ErrorCode};
use crate::sources::SubgraphSdl;

fn products_with_query() -> SubgraphSdl {
    fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc") { upc: String! name: String! }
        "#,
    )
}

#[test]
fn syntax_error_names_the_subgraph_and_place() {
    let broken = raw(
        "broken",
        "type Query {\n  me: User\n\ntype User { id: ID! }\n",
    );
    let errors = compose_errors(&[products_with_query(), broken]);
    assert!(!errors.is_empty());
    for (code, message) in &errors {
        assert_eq!(*code, ErrorCode::InvalidGraphql);
        assert!(message.starts_with("[broken] syntax error"), "{message}");
        assert!(message.contains("(line "), "{message}");
    }
}

#[test]
fn undefined_type_is_invalid_graphql() {
    let subgraph = fed2("products", "type Query { product: Product }");
    assert_single_error(
        &[subgraph],
        ErrorCode::InvalidGraphql,
        "[products] Query.product refers to type Product, which the subgraph does not define",
    );
}

#[test]
fn duplicate_subgraph_names() {
    assert_single_error(
        &[products_with_query(), products_with_query()],
        ErrorCode::InvalidSubgraphName,
        "Two subgraphs are named \"products\"",
    );
}

#[test]
fn type_kind_mismatch() {
    let other = fed2("other", "enum Product { A B }");
    assert_single_error(
        &[products_with_query(), other],
        ErrorCode::TypeKindMismatch,
        "Type Product is defined with different kinds: an enum in subgraph \"other\" and \
         an object type in subgraph \"products\"",
    );
}

#[test]
fn field_type_mismatch() {
    let inventory = fed2(
        "inventory",
        r#"type Product @key(fields: "upc") { upc: String! name: Int! @shareable }"#,
    );
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc") { upc: String! name: String! @shareable }
        "#,
    );
    assert_single_error(
        &[products, inventory],
        ErrorCode::FieldTypeMismatch,
        "Product.name is defined in subgraphs \"inventory\" and \"products\" with types Int! and \
         String!, which are incompatible: one must be a subtype of the other (a member of the union \
         or an implementation of the interface, or the same type non-null)",
    );
}

#[test]
fn list_and_non_list_types_are_incompatible() {
    let a = fed2("a", "type Query { tags: [String] @shareable }");
    let b = fed2("b", "type Query { tags: String @shareable }");
    assert_single_error(
        &[a, b],
        ErrorCode::FieldTypeMismatch,
        "Query.tags is defined in subgraphs \"a\" and \"b\" with types [String] and String, \
         which are incompatible: one must be a subtype of the other (a member of the union or an \
         implementation of the interface, or the same type non-null)",
    );
}

#[test]
fn argument_type_mismatch() {
    let a = fed2(
        "a",
        "type Query { search(limit: Int): [String] @shareable }",
    );
    let b = fed2(
        "b",
        "type Query { search(limit: String): [String] @shareable }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::FieldArgumentTypeMismatch,
        "Argument Query.search(limit:) is defined in subgraphs \"a\" and \"b\" with types Int and \
         String, which are incompatible: they may differ only in nullability",
    );
}

#[test]
fn argument_default_mismatch() {
    let a = fed2(
        "a",
        "type Query { search(limit: Int = 10): [String] @shareable }",
    );
    let b = fed2(
        "b",
        "type Query { search(limit: Int = 20): [String] @shareable }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::ArgumentDefaultMismatch,
        "Argument Query.search(limit:) has different default values: 10 in \"a\" and 20 in \"b\"",
    );
}

#[test]
fn input_field_default_mismatch() {
    let a = fed2(
        "a",
        "type Query { a(page: Page): Int } input Page { size: Int = 10 }",
    );
    let b = fed2(
        "b",
        "type Query { b(page: Page): Int } input Page { size: Int = 50 }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::InputFieldDefaultMismatch,
        "Input field Page.size has different default values: 10 in \"a\" and 50 in \"b\"",
    );
}

#[test]
fn field_resolved_twice_without_shareable() {
    let inventory = fed2(
        "inventory",
        r#"type Product @key(fields: "upc") { upc: String! name: String! @shareable }"#,
    );
    assert_single_error(
        &[products_with_query(), inventory],
        ErrorCode::InvalidFieldSharing,
        "Field Product.name is resolved by subgraphs \"inventory\" and \"products\" but is not \
         marked @shareable in all of them (not shareable in \"products\")",
    );
}

#[test]
fn provided_field_must_be_shareable_in_its_owner() {
    let reviews = fed2(
        "reviews",
        r#"
        type Review { product: Product @provides(fields: "name") }
        type Query { reviews: [Review] }
        type Product @key(fields: "upc") { upc: String! name: String! @external }
        "#,
    );
    assert_single_error(
        &[products_with_query(), reviews],
        ErrorCode::InvalidFieldSharing,
        "Field Product.name is resolved by subgraphs \"products\" and \"reviews\" but is not \
         marked @shareable in all of them (not shareable in \"products\")",
    );
}

#[test]
fn key_names_a_missing_field() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "sku") { upc: String! }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::KeyInvalidFields,
        "[products] @key(fields: \"sku\") on Product names field \"sku\", which Product does not \
         have",
    );
}

#[test]
fn key_names_a_missing_nested_field() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc vendor { code }") { upc: String! vendor: Vendor! }
        type Vendor { id: ID! }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::KeyInvalidFields,
        "[products] @key(fields: \"upc vendor { code }\") on Product names field \"code\", which \
         Vendor does not have",
    );
}

#[test]
fn key_must_select_fields_of_an_object_field() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "vendor") { vendor: Vendor! }
        type Vendor { id: ID! }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::KeyInvalidFields,
        "[products] @key(fields: \"vendor\") on Product selects Product.vendor of type Vendor! \
         without selecting any of its fields",
    );
}

#[test]
fn key_that_does_not_parse() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc {") { upc: String! }
        "#,
    );
    let errors = compose_errors(&[products]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, ErrorCode::KeyInvalidFields);
    assert!(
        errors[0]
            .1
            .starts_with("[products] @key(fields: \"upc {\") on Product cannot be parsed: "),
        "{}",
        errors[0].1
    );
}

#[test]
fn key_selects_an_interface_field() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        interface Node { id: ID! }
        type Product @key(fields: "owner { id }") { owner: Node! }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::KeyFieldsSelectInvalidType,
        "[products] @key(fields: \"owner { id }\") on Product selects Product.owner, which returns \
         Node!, an interface; keys cannot select interface or union fields",
    );
}

#[test]
fn key_passes_arguments() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "code(region: \"eu\")") { code(region: String): String! }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::KeyFieldsHasArgs,
        "[products] @key(fields: \"code(region: \"eu\")\") on Product passes arguments to \
         Product.code; field sets cannot have arguments",
    );
}

#[test]
fn shareable_on_an_interface_or_its_fields() {
    let errors = compose_errors(&[fed2(
        "a",
        r#"
        type Query { node: Node }
        interface Node @shareable { id: ID! name: String @shareable }
        type User implements Node { id: ID! name: String }
        "#,
    )]);
    let codes: Vec<ErrorCode> = errors.iter().map(|(code, _)| *code).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::InvalidShareableUsage,
            ErrorCode::InvalidShareableUsage
        ],
        "{errors:?}"
    );
    assert!(errors[0].1.contains("interface Node"), "{errors:?}");
    assert!(errors[1].1.contains("Node.name"), "{errors:?}");
}

#[test]
fn an_external_field_without_the_arguments_of_the_field_it_stands_for() {
    let owner = fed2(
        "owner",
        r#"
        type Query { t: T }
        type T @key(fields: "id") { id: ID! n(x: Int): String }
        "#,
    );
    let user = fed2(
        "user",
        r#"
        type T @key(fields: "id") { id: ID! n: String @external y: Int @requires(fields: "n") }
        "#,
    );
    let errors = compose_errors(&[owner, user]);
    assert!(
        errors.iter().any(
            |(code, message)| *code == ErrorCode::ExternalArgumentMissing
                && message.contains("T.n")
                && message.contains("\"x\"")
        ),
        "{errors:?}"
    );
}

#[test]
fn an_interface_object_subgraph_that_defines_an_implementation() {
    let nodes = fed2(
        "nodes",
        r#"
        type Query { node(id: ID!): Node }
        interface Node @key(fields: "id") { id: ID! }
        type User implements Node @key(fields: "id") { id: ID! }
        "#,
    );
    let stamps = fed2(
        "stamps",
        r#"
        type Node @key(fields: "id") @interfaceObject { id: ID! createdAt: String }
        type User @key(fields: "id") { id: ID! x: Int }
        "#,
    );
    let errors = compose_errors(&[nodes, stamps]);
    assert!(
        errors.iter().any(
            |(code, message)| *code == ErrorCode::InterfaceObjectUsageError
                && message.contains("[stamps]")
                && message.contains("User")
        ),
        "{errors:?}"
    );
}

/// A type-level `@shareable` shares the fields of the block it is written on, not those an
/// `extend type` block adds.
#[test]
fn type_level_shareable_covers_its_own_block_only() {
    let other = fed2(
        "b",
        "type P @shareable { x: Int y: Int }\ntype Query { b: P }",
    );
    let errors = compose_errors(&[
        fed2(
            "a",
            "type P @shareable { x: Int }\nextend type P { y: Int }\ntype Query { a: P }",
        ),
        other.clone(),
    ]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, ErrorCode::InvalidFieldSharing, "{errors:?}");
    assert!(errors[0].1.contains("P.y"), "{errors:?}");
    compose_valid(&[
        fed2(
            "a",
            "type P @shareable { x: Int }\nextend type P @shareable { y: Int }\ntype Query { a: P }",
        ),
        other,
    ]);
}

#[test]
fn link_imports_a_directive_the_spec_does_not_define() {
    let link = |imports: &str| {
        raw(
            "a",
            &format!(
                r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [{imports}])
                type Query {{ a: Int }}"#
            ),
        )
    };
    assert_single_error(
        &[link(r#""@key", "@bogus""#)],
        ErrorCode::InvalidLinkDirectiveUsage,
        "[a] imports @bogus, which the federation spec does not define",
    );
    compose_valid(&[link(r#""@key", "@interfaceObject", "FieldSet""#)]);
}

#[test]
fn provides_a_field_that_takes_arguments() {
    let catalog = fed2(
        "catalog",
        r#"
        type Query { a: T }
        type T @key(fields: "id") { id: ID! n(x: Int): String @shareable }
        "#,
    );
    let shelf = fed2(
        "shelf",
        r#"
        type Query { b: T @provides(fields: "n") }
        type T @key(fields: "id") { id: ID! n(x: Int): String @external }
        "#,
    );
    let errors = compose_errors(&[catalog, shelf]);
    assert_eq!(
        errors,
        vec![(
            ErrorCode::ProvidesFieldsHasArgs,
            "[shelf] @provides(fields: \"n\") on Query.b provides T.n, which takes arguments; a \
             provided field cannot"
                .to_string()
        )]
    );
}

#[test]
fn requires_names_a_missing_field() {
    let inventory = fed2(
        "inventory",
        r#"
        type Product @key(fields: "upc") {
          upc: String!
          estimate: Int @requires(fields: "weight")
        }
        "#,
    );
    assert_single_error(
        &[products_with_query(), inventory],
        ErrorCode::RequiresInvalidFields,
        "[inventory] @requires(fields: \"weight\") on Product.estimate names field \"weight\", \
         which Product does not have",
    );
}

#[test]
fn requires_a_field_that_is_not_external() {
    let inventory = fed2(
        "inventory",
        r#"
        type Product @key(fields: "upc") {
          upc: String!
          weight: Int
          estimate: Int @requires(fields: "weight")
        }
        "#,
    );
    assert_single_error(
        &[products_with_query(), inventory],
        ErrorCode::RequiresFieldsMissingExternal,
        "[inventory] @requires(fields: \"weight\") on Product.estimate requires Product.weight, \
         which is not marked @external in this subgraph",
    );
}

#[test]
fn provides_names_a_missing_field() {
    let reviews = fed2(
        "reviews",
        r#"
        type Query { reviews: [Review] }
        type Review { product: Product @provides(fields: "title") }
        type Product @key(fields: "upc") { upc: String! }
        "#,
    );
    assert_single_error(
        &[products_with_query(), reviews],
        ErrorCode::ProvidesInvalidFields,
        "[reviews] @provides(fields: \"title\") on Review.product names field \"title\", which \
         Product does not have",
    );
}

#[test]
fn provides_a_field_that_is_not_external() {
    let reviews = fed2(
        "reviews",
        r#"
        type Query { reviews: [Review] }
        type Review { product: Product @provides(fields: "name") }
        type Product @key(fields: "upc") { upc: String! name: String! @shareable }
        "#,
    );
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc") { upc: String! name: String! @shareable }
        "#,
    );
    assert_single_error(
        &[products, reviews],
        ErrorCode::ProvidesFieldsMissingExternal,
        "[reviews] @provides(fields: \"name\") on Review.product provides Product.name, which is \
         not marked @external in this subgraph",
    );
}

#[test]
fn provides_on_a_scalar_field() {
    let reviews = fed2(
        "reviews",
        r#"type Query { count: Int @provides(fields: "value") }"#,
    );
    assert_single_error(
        &[reviews],
        ErrorCode::ProvidesOnNonObjectField,
        "[reviews] @provides(fields: \"value\") on Query.count is invalid: Query.count returns \
         Int, but only fields returning an object or interface can @provides",
    );
}

#[test]
fn external_field_without_an_owner() {
    let inventory = fed2(
        "inventory",
        r#"
        type Product @key(fields: "upc") {
          upc: String!
          weight: Int @external
          estimate: Int @requires(fields: "weight")
        }
        "#,
    );
    assert_single_error(
        &[products_with_query(), inventory],
        ErrorCode::ExternalMissingOnBase,
        "Field Product.weight is marked @external in every subgraph that defines it \
         (\"inventory\"), so no subgraph resolves it",
    );
}

#[test]
fn required_argument_missing_in_some_subgraph() {
    let a = fed2(
        "a",
        "type Query { search(text: String!): [String] @shareable }",
    );
    let b = fed2("b", "type Query { search: [String] @shareable }");
    assert_single_error(
        &[a, b],
        ErrorCode::RequiredArgumentMissingInSomeSubgraph,
        "Argument Query.search(text:) is required in subgraph \"a\" but missing in subgraph \"b\"; \
         a required argument must be defined in every subgraph",
    );
}

#[test]
fn required_input_field_missing_in_some_subgraph() {
    let a = fed2(
        "a",
        "type Query { a(page: Page): Int } input Page { size: Int! after: String }",
    );
    let b = fed2(
        "b",
        "type Query { b(page: Page): Int } input Page { after: String }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
        "Input field Page.size is required in subgraph \"a\" but missing in subgraph \"b\"; \
         a required input field must be defined in every subgraph",
    );
}

#[test]
fn input_type_without_common_fields() {
    let a = fed2(
        "a",
        "type Query { a(page: Page): Int } input Page { size: Int }",
    );
    let b = fed2(
        "b",
        "type Query { b(page: Page): Int } input Page { after: String }",
    );
    assert_single_error(
        &[a, b],
        ErrorCode::EmptyMergedInputType,
        "Input type Page keeps only the fields defined in every subgraph that defines it (\"a\" \
         and \"b\"), and there are none",
    );
}

#[test]
fn input_enum_without_common_values() {
    let a = fed2("a", "type Query { a(sort: Sort): Int } enum Sort { ASC }");
    let b = fed2("b", "type Query { b(sort: Sort): Int } enum Sort { DESC }");
    assert_single_error(
        &[a, b],
        ErrorCode::EmptyMergedEnumType,
        "Enum Sort is used only as an input type, so it keeps only the values defined in every \
         subgraph that defines it (\"a\" and \"b\"), and none is",
    );
}

#[test]
fn enum_used_as_input_and_output_with_different_values() {
    let a = fed2(
        "a",
        "type Query { a(status: Status): Status } enum Status { ON OFF }",
    );
    let b = fed2("b", "type Query { b: Status } enum Status { ON }");
    assert_single_error(
        &[a, b],
        ErrorCode::EnumValueMismatch,
        "Enum Status is used as both an input and an output type, so its values must be the same \
         in every subgraph, but OFF is defined in subgraph \"a\" and not in subgraph \"b\"",
    );
}

#[test]
fn override_from_its_own_subgraph() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc") { upc: String! name: String! @override(from: "products") }
        "#,
    );
    assert_single_error(
        &[products],
        ErrorCode::OverrideFromSelfError,
        "[products] Product.name is marked @override(from: \"products\"), which is its own \
         subgraph",
    );
}

#[test]
fn override_from_a_subgraph_that_overrides_too() {
    let a = fed2(
        "a",
        r#"
        type Query { product: Product }
        type Product @key(fields: "upc") { upc: String! name: String! @override(from: "b") }
        "#,
    );
    let b = fed2(
        "b",
        r#"type Product @key(fields: "upc") { upc: String! name: String! @override(from: "a") }"#,
    );
    let errors = compose_errors(&[a, b]);
    assert_eq!(
        errors,
        vec![
            (
                ErrorCode::OverrideSourceHasOverride,
                "Product.name is marked @override(from: \"b\") in subgraph \"a\", but subgraph \
                 \"b\" also overrides it"
                    .to_string()
            ),
            (
                ErrorCode::OverrideSourceHasOverride,
                "Product.name is marked @override(from: \"a\") in subgraph \"b\", but subgraph \
                 \"a\" also overrides it"
                    .to_string()
            ),
            (
                ErrorCode::InvalidFieldSharing,
                "Field Product.name is resolved by subgraphs \"a\" and \"b\" but is not marked \
                 @shareable in all of them (not shareable in \"a\" and \"b\")"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn no_subgraph_has_queries() {
    let a = fed2("a", r#"type Product @key(fields: "upc") { upc: String! }"#);
    assert_single_error(
        &[a],
        ErrorCode::NoQueries,
        "No subgraph defines a query root type (Query) with fields, so the supergraph would have \
         no queries",
    );
}

#[test]
fn every_error_is_reported_and_displayed_one_per_line() {
    let products = fed2(
        "products",
        r#"
        type Query { product: Product }
        type Product @key(fields: "sku") { upc: String! name: String! }
        "#,
    );
    let inventory = fed2(
        "inventory",
        r#"type Product @key(fields: "upc") { upc: String! name: Int! }"#,
    );
    let errors = match compose(&[products, inventory]) {
        Ok(supergraph) => panic!("composition should fail:\n{supergraph}"),
        Err(errors) => errors,
    };
    insta::assert_snapshot!(errors.to_string());
}

#[test]
fn type_defined_twice_is_invalid_graphql() {
    let twice = raw("twice", "type Query { a: Int }\ntype Query { b: Int }");
    assert_single_error(
        &[twice],
        ErrorCode::InvalidGraphql,
        "[twice] the type `Query` is defined multiple times in the schema (line 2, column 6)",
    );
}

/// An interface field one subgraph adds is missing from an implementation only another subgraph
/// defines (before Apollo's code was checked, the last guard caught it as INVALID_SUPERGRAPH).
#[test]
fn interface_field_without_implementation_message() {
    let a = fed2(
        "a",
        r#"
        type Query { node: Node }
        interface Node { id: ID! }
        type Book implements Node { id: ID! }
        "#,
    );
    let b = fed2("b", "interface Node { id: ID! createdAt: String }");
    assert_single_error(
        &[a, b],
        ErrorCode::InterfaceFieldNoImplem,
        "Interface field Node.createdAt is declared in subgraph \"b\", but Book, which \
         implements Node, has no field createdAt: a subgraph that adds it to the interface must \
         define Book too, or another subgraph must add the field to it",
    );
}

/// The codes of every composition error of `subgraphs`.
fn codes(subgraphs: &[SubgraphSdl]) -> Vec<ErrorCode> {
    compose_errors(subgraphs)
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

#[test]
fn field_sets_cannot_alias_hold_directives_or_key_fields_with_arguments() {
    let owner = fed2(
        "owner",
        r#"
        type Query { u: U }
        type U @key(fields: "id") { id: ID! n: Int @shareable w: Int @shareable }
        "#,
    );
    let cases = [
        (
            r#"type U @key(fields: "k: id") { id: ID! n: Int @shareable }"#,
            ErrorCode::KeyInvalidFields,
        ),
        (
            r#"type U @key(fields: "id @skip(if: false)") { id: ID! }"#,
            ErrorCode::KeyDirectiveInFieldsArg,
        ),
        (
            r#"type U @key(fields: "id") { id(locale: String): ID! }"#,
            ErrorCode::KeyFieldsHasArgs,
        ),
        (
            r#"type U @key(fields: "id ... on U @skip(if: true) { id }") { id: ID! }"#,
            ErrorCode::KeyDirectiveInFieldsArg,
        ),
        (
            r#"type U @key(fields: "id t: __typename") { id: ID! }"#,
            ErrorCode::KeyInvalidFields,
        ),
        (
            r#"type U @key(fields: "id") { id: ID! n: Int @external m: Int @requires(fields: "nn: n") }"#,
            ErrorCode::RequiresInvalidFields,
        ),
        (
            r#"type U @key(fields: "id") { id: ID! n: Int @external m: Int @requires(fields: "n @include(if: true)") }"#,
            ErrorCode::RequiresDirectiveInFieldsArg,
        ),
    ];
    for (sdl, code) in cases {
        let other = fed2("other", sdl);
        assert_eq!(codes(&[owner.clone(), other]), vec![code], "{sdl}");
    }
    let provider = fed2(
        "provider",
        r#"
        type Query { top: U @provides(fields: "x: w") top2: U @provides(fields: "w @skip(if: true)") }
        type U @key(fields: "id") { id: ID! w: Int @external }
        "#,
    );
    assert_eq!(
        codes(&[owner, provider]),
        vec![
            ErrorCode::ProvidesInvalidFields,
            ErrorCode::ProvidesDirectiveInFieldsArg
        ]
    );
}

#[test]
fn subscription_fields_cannot_be_shareable() {
    let one = fed2(
        "one",
        "type Query { a: Int } type Subscription { ticks: Int @shareable }",
    );
    let two = fed2(
        "two",
        "type Query { b: Int } type Subscription @shareable { ticks: Int }",
    );
    assert_eq!(
        codes(&[one, two]),
        vec![
            ErrorCode::InvalidFieldSharing,
            ErrorCode::InvalidFieldSharing
        ]
    );
}

#[test]
fn an_external_field_is_as_general_as_the_resolving_type_or_more() {
    let owner = fed2(
        "owner",
        "type Query { u: U }\ntype U @key(fields: \"id\") { id: ID! n: String m: String! }",
    );
    let stricter = fed2(
        "stricter",
        "type U @key(fields: \"id\") { id: ID! n: String! @external x: Int @requires(fields: \"n\") }",
    );
    assert_eq!(
        codes(&[owner.clone(), stricter]),
        vec![ErrorCode::ExternalTypeMismatch]
    );
    let looser = fed2(
        "looser",
        "type U @key(fields: \"id\") { id: ID! m: String @external x: Int @requires(fields: \"m\") }",
    );
    compose_valid(&[owner, looser]);
}

#[test]
fn a_required_argument_or_input_field_cannot_be_deprecated() {
    let one = fed2(
        "one",
        "type Query { f(a: Int! @deprecated, b: Int! = 1 @deprecated, c: Int @deprecated): Int }\n\
         input In { x: Int! @deprecated(reason: \"no\") y: Int @deprecated }\n\
         type Mutation { m(i: In): Int }",
    );
    let errors = compose_errors(&[one]);
    let found: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(errors.len(), 2, "{found:?}");
    assert!(errors
        .iter()
        .all(|(code, _)| *code == ErrorCode::InvalidGraphql));
    assert!(found.iter().any(|m| m.contains("Query.f(a:)")), "{found:?}");
    assert!(found.iter().any(|m| m.contains("In.x")), "{found:?}");
}

#[test]
fn root_type_names_interface_fields_and_external_types_get_apollos_codes() {
    // A type named Query beside a renamed query root.
    let renamed = fed2(
        "a",
        "schema { query: RootQuery }\ntype RootQuery { a: Int }\ntype Query { b: Int }",
    );
    assert!(codes(&[renamed]).contains(&ErrorCode::RootQueryUsed));
    // A field added to an interface where an implementation is not defined.
    let a = fed2(
        "a",
        r#"type Query { i: I } interface I { id: ID! } type T implements I @key(fields: "id") { id: ID! }"#,
    );
    let b = fed2(
        "b",
        "interface I { id: ID! extra: Int }\ntype Query { b: I }",
    );
    assert!(codes(&[a, b]).contains(&ErrorCode::InterfaceFieldNoImplem));
    // @requires and @provides on interface fields.
    let on_interface = fed2(
        "a",
        r#"type Query { i: I p: P }
        interface I { id: ID! n: Int @requires(fields: "id") p: P @provides(fields: "x") }
        type P @key(fields: "id") { id: ID! x: Int }"#,
    );
    let found = codes(&[on_interface]);
    assert!(
        found.contains(&ErrorCode::RequiresUnsupportedOnInterface),
        "{found:?}"
    );
    assert!(
        found.contains(&ErrorCode::ProvidesUnsupportedOnInterface),
        "{found:?}"
    );
    // An external copy of another type.
    let owner = fed2(
        "owner",
        r#"type Query { t: T } type T @key(fields: "id") { id: ID! n: String }"#,
    );
    let user = fed2(
        "user",
        r#"type T @key(fields: "id") { id: ID! n: Int @external m: Int @requires(fields: "n") }"#,
    );
    assert!(codes(&[owner, user]).contains(&ErrorCode::ExternalTypeMismatch));
}

#[test]
fn key_on_a_union_and_requires_of_typename() {
    let union_key = fed2(
        "a",
        r#"type Query { u: U } type P @key(fields: "x") { x: ID! } union U @key(fields: "x") = P"#,
    );
    assert_eq!(codes(&[union_key]), [ErrorCode::InvalidGraphql]);
    let owner = fed2(
        "owner",
        r#"type Query { t: T } type T @key(fields: "id") { id: ID! n: Int }"#,
    );
    let typename = fed2(
        "user",
        r#"type T @key(fields: "id") { id: ID! m: Int @requires(fields: "__typename") }"#,
    );
    assert_eq!(
        codes(&[owner, typename]),
        [ErrorCode::RequiresFieldsMissingExternal]
    );
}
