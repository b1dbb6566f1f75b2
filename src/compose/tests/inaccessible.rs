//! `@inaccessible`: kept in the supergraph, absent from the API schema, and refused where the
//! API schema would still need the hidden element.

use apollo_compiler::schema::ExtendedType;

use super::{assert_single_error, compose_errors, compose_valid, fed2};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;
use crate::supergraph::Supergraph;

fn catalog() -> SubgraphSdl {
    fed2(
        "catalog",
        r#"
        type Query {
          products(
            filter: ProductFilter
            includeHidden: Boolean @inaccessible
            sort: Sort = NAME
          ): [Product!]!
          audit: [AuditEntry!] @inaccessible
        }
        type Product @key(fields: "id") {
          id: ID!
          name: String
          internalCode: String @inaccessible
          status: Status @shareable
        }
        input ProductFilter {
          name: String
          minPrice: Int
          secretFlag: Boolean @inaccessible
          legacy: LegacyFilter @inaccessible
        }
        input LegacyFilter @inaccessible { code: String }
        enum Sort { NAME PRICE COST @inaccessible }
        enum Status { ACTIVE RETIRED DRAFT @inaccessible }
        type AuditEntry @inaccessible { at: String! }
        "#,
    )
}

fn search() -> SubgraphSdl {
    fed2(
        "search",
        r#"
        type Query { search(filter: ProductFilter, sort: Sort): [Product!]! }
        type Product @key(fields: "id") { id: ID! stock: Int @inaccessible status: Status @shareable }
        input ProductFilter { name: String minPrice: Int }
        enum Sort { NAME PRICE }
        enum Status { ACTIVE RETIRED ARCHIVED @inaccessible }
        "#,
    )
}

/// Inaccessible types, fields, arguments, input fields, input types and enum values. An
/// inaccessible input field or input-enum value only one subgraph has is kept (clients cannot
/// send it anyway), with the join directives saying which subgraph has it.
#[test]
fn inaccessible_elements_stay_in_the_supergraph() {
    insta::assert_snapshot!(compose_valid(&[catalog(), search()]));
}

fn names<'a>(names: impl Iterator<Item = &'a apollo_compiler::Name>) -> Vec<&'a str> {
    names.map(|name| name.as_str()).collect()
}

#[test]
fn inaccessible_elements_are_not_in_the_api_schema() {
    let supergraph = compose_valid(&[catalog(), search()]);
    let model = Supergraph::parse(&supergraph).expect("the model reads the supergraph");
    let api = &model.api_schema;

    for hidden in ["AuditEntry", "LegacyFilter"] {
        assert!(
            api.types.get(hidden).is_none(),
            "{hidden} is in the API schema"
        );
        assert!(
            model.schema.types.get(hidden).is_some(),
            "{hidden} left the supergraph"
        );
    }
    let Some(ExtendedType::Object(query)) = api.types.get("Query") else {
        panic!("no Query in the API schema");
    };
    assert_eq!(names(query.fields.keys()), ["products", "search"]);
    let products = &query.fields["products"];
    assert_eq!(
        names(products.arguments.iter().map(|arg| &arg.name)),
        ["filter", "sort"]
    );
    let Some(ExtendedType::Object(product)) = api.types.get("Product") else {
        panic!("no Product in the API schema");
    };
    assert_eq!(names(product.fields.keys()), ["id", "name", "status"]);
    let Some(ExtendedType::InputObject(filter)) = api.types.get("ProductFilter") else {
        panic!("no ProductFilter in the API schema");
    };
    assert_eq!(names(filter.fields.keys()), ["name", "minPrice"]);
    for (enum_name, values) in [
        ("Sort", vec!["NAME", "PRICE"]),
        ("Status", vec!["ACTIVE", "RETIRED"]),
    ] {
        let Some(ExtendedType::Enum(merged)) = api.types.get(enum_name) else {
            panic!("no {enum_name} in the API schema");
        };
        assert_eq!(names(merged.values.keys()), values);
    }
    assert!(api.directive_definitions.get("inaccessible").is_none());
    assert!(!api.to_string().contains("join__"));
}

#[test]
fn visible_field_of_an_inaccessible_type() {
    let a = fed2(
        "a",
        "type Query { log: Log } type Log @inaccessible { at: String }",
    );
    assert_single_error(
        &[a],
        ErrorCode::ReferencedInaccessible,
        "Type Log is @inaccessible (marked in subgraph \"a\"), but field Query.log, which \
         clients see, refers to it",
    );
}

#[test]
fn visible_argument_and_input_field_of_inaccessible_types() {
    let a = fed2(
        "a",
        r#"
        type Query { find(by: Criteria): Int }
        input Criteria { kind: Kind name: String }
        enum Kind @inaccessible { A B }
        "#,
    );
    let b = fed2(
        "b",
        "type Query { other(x: Hidden): Int } input Hidden @inaccessible { v: Int }",
    );
    assert_eq!(
        compose_errors(&[a, b]),
        vec![
            (
                ErrorCode::ReferencedInaccessible,
                "Type Hidden is @inaccessible (marked in subgraph \"b\"), but argument \
                 Query.other(x:), which clients see, refers to it"
                    .to_string()
            ),
            (
                ErrorCode::ReferencedInaccessible,
                "Type Kind is @inaccessible (marked in subgraph \"a\"), but input field \
                 Criteria.kind, which clients see, refers to it"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn inaccessible_query_root() {
    let a = fed2("a", "type Query @inaccessible { a: Int }");
    assert_single_error(
        &[a],
        ErrorCode::QueryRootTypeInaccessible,
        "Type Query is @inaccessible (marked in subgraph \"a\"), but it is the query root type, \
         which clients must see",
    );
}

#[test]
fn an_inaccessible_mutation_root_is_left_out_of_the_api() {
    let a = fed2(
        "a",
        "type Query { a: Int } type Mutation @inaccessible { reset: Boolean }",
    );
    let model = Supergraph::parse(&compose_valid(&[a])).expect("model");
    assert!(model.api_schema.schema_definition.mutation.is_none());
    assert!(model.api_schema.types.get("Mutation").is_none());
}

#[test]
fn only_inaccessible_children() {
    let a = fed2(
        "a",
        r#"
        type Query { a: Int @inaccessible u: U e: E f(i: I): Int }
        union U = A | B
        type A @inaccessible { x: Int }
        type B @inaccessible { x: Int }
        enum E { X @inaccessible }
        input I { x: Int @inaccessible }
        "#,
    );
    let message = |ty: &str, children: &str| {
        (
            ErrorCode::OnlyInaccessibleChildren,
            format!("Type {ty} is visible to clients, but all of its {children} are @inaccessible"),
        )
    };
    // `Query.a` alone is hidden, so Query itself still has visible fields.
    assert_eq!(
        compose_errors(&[a]),
        vec![
            message("E", "values"),
            message("I", "fields"),
            message("U", "members"),
        ]
    );
}

#[test]
fn inaccessible_field_implementing_a_visible_interface_field() {
    let a = fed2(
        "a",
        r#"
        type Query { node: Node }
        interface Node { id: ID! name(upper: Boolean): String }
        type User implements Node { id: ID! @inaccessible name(upper: Boolean @inaccessible): String }
        "#,
    );
    assert_eq!(
        compose_errors(&[a]),
        vec![
            (
                ErrorCode::ImplementedByInaccessible,
                "Field User.id is @inaccessible (marked in subgraph \"a\"), but it implements \
                 Node.id, which clients see"
                    .to_string()
            ),
            (
                ErrorCode::ImplementedByInaccessible,
                "Argument User.name(upper:) is @inaccessible (marked in subgraph \"a\"), but it \
                 implements Node.name(upper:), which clients see"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn required_inaccessible_argument_and_input_field() {
    let a = fed2(
        "a",
        r#"
        type Query { find(id: ID! @inaccessible, by: By): Int }
        input By { key: String! @inaccessible other: Int }
        "#,
    );
    assert_eq!(
        compose_errors(&[a]),
        vec![
            (
                ErrorCode::RequiredInaccessible,
                "Argument Query.find(id:) is @inaccessible (marked in subgraph \"a\"), but it is \
                 required, so clients could not call Query.find"
                    .to_string()
            ),
            (
                ErrorCode::RequiredInaccessible,
                "Input field By.key is @inaccessible (marked in subgraph \"a\"), but it is \
                 required, so clients could not send a By"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn required_inaccessible_input_field_missing_elsewhere() {
    // Not a REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH: an inaccessible input field may be
    // missing, but it must not be required.
    let a = fed2(
        "a",
        "type Query { a(f: F): Int } input F { x: Int y: Int! @inaccessible }",
    );
    let b = fed2("b", "type Query { b(f: F): Int } input F { x: Int }");
    assert_single_error(
        &[a, b],
        ErrorCode::RequiredInaccessible,
        "Input field F.y is @inaccessible (marked in subgraph \"a\"), but it is required, so \
         clients could not send a F",
    );
}

#[test]
fn visible_default_values_using_inaccessible_values() {
    let a = fed2(
        "a",
        r#"
        type Query { list(sort: [Sort!] = [NAME, COST], page: Page = {size: 10, debug: true}): Int }
        enum Sort { NAME COST @inaccessible }
        input Page { size: Int debug: Boolean @inaccessible }
        "#,
    );
    assert_eq!(
        compose_errors(&[a]),
        vec![
            (
                ErrorCode::DefaultValueUsesInaccessible,
                "Enum value Sort.COST is @inaccessible (marked in subgraph \"a\"), but the \
                 default value of Query.list(sort:), which clients see, uses it"
                    .to_string()
            ),
            (
                ErrorCode::DefaultValueUsesInaccessible,
                "Input field Page.debug is @inaccessible (marked in subgraph \"a\"), but the \
                 default value of Query.list(page:), which clients see, uses it"
                    .to_string()
            ),
        ]
    );
}
