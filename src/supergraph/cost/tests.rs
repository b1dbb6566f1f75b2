//! Reading the cost model: from Apollo's supergraph of the demand-control scenario, and from
//! small schemas for each way a supergraph may name or write the directives.

use apollo_compiler::{Name, Schema};

use super::{CostModel, InputFieldCost, ListSize, SizedField};
use crate::supergraph::{Supergraph, SupergraphError};

const APOLLO_SUPERGRAPH: &str =
    include_str!("../../../tests/fixtures/federation/demand_control/supergraph.apollo.graphql");

fn name(text: &str) -> Name {
    Name::new_unchecked(text)
}

fn model(sdl: &str) -> Result<CostModel, SupergraphError> {
    let schema = Schema::parse_and_validate(sdl, "schema.graphql")
        .unwrap_or_else(|invalid| panic!("invalid test schema:\n{}", invalid.errors));
    CostModel::read(&schema)
}

/// A schema linking the cost spec with `link` and defining the directives as `cost` and
/// `list_size`, for the reading rules that do not need a whole supergraph.
fn linked(link: &str, cost: &str, list_size: &str, types: &str) -> String {
    format!(
        r#"schema @link(url: "https://specs.apollo.dev/link/v1.0") {link} {{ query: Query }}
        directive @link(url: String, as: String, import: [link__Import]) repeatable on SCHEMA
        scalar link__Import
        directive @{cost}(weight: String!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
        directive @{list_size}(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
        {types}"#
    )
}

#[test]
fn weights_of_types_fields_arguments_and_input_fields() {
    let supergraph = Supergraph::parse(APOLLO_SUPERGRAPH).expect("Apollo's supergraph parses");
    let cost = &supergraph.cost;
    for (type_name, weight) in [
        ("Product", Some(2.0)),
        ("Category", Some(4.0)),
        ("Money", Some(2.0)),
        ("Currency", Some(1.0)),
        ("Rating", Some(2.0)),
        ("ProductConnection", None),
        ("Node", None),
    ] {
        assert_eq!(cost.type_weight(type_name), weight, "{type_name}");
    }
    let field = |type_name: &str, field: &str| {
        cost.field(type_name, field)
            .unwrap_or_else(|| panic!("{type_name}.{field} has cost information"))
    };
    assert_eq!(field("Query", "product").weight, Some(3.0));
    // Two subgraphs weigh it 1 and 4: the supergraph keeps the larger.
    assert_eq!(field("Product", "name").weight, Some(4.0));
    assert_eq!(field("ProductConnection", "totalCount").weight, Some(7.0));
    assert_eq!(field("Mutation", "addProduct").weight, Some(5.0));
    let search = field("Query", "search");
    assert_eq!(search.weight, None);
    assert_eq!(search.arguments.get("limit"), Some(&2.0));
    assert!(!search.arguments.contains_key("filter"));
    assert!(cost.field("Product", "upc").is_none());
    assert!(cost.field("Query", "categories").is_none());

    let filter = cost.input_fields("SearchFilter").expect("an input object");
    assert_eq!(
        filter.get("fuzzy"),
        Some(&InputFieldCost {
            type_name: name("Boolean"),
            weight: Some(10.0)
        })
    );
    assert_eq!(
        filter.get("category"),
        Some(&InputFieldCost {
            type_name: name("CategoryFilter"),
            weight: None
        })
    );
    assert_eq!(
        cost.input_fields("CategoryFilter")
            .and_then(|f| f.get("id")),
        Some(&InputFieldCost {
            type_name: name("ID"),
            weight: Some(3.0)
        })
    );
    assert!(cost.input_fields("Product").is_none());
}

#[test]
fn list_sizes() {
    let supergraph = Supergraph::parse(APOLLO_SUPERGRAPH).expect("Apollo's supergraph parses");
    let list_size = |type_name: &str, field: &str| {
        supergraph
            .cost
            .field(type_name, field)
            .and_then(|cost| cost.list_size.clone())
            .unwrap_or_else(|| panic!("{type_name}.{field} has a @listSize"))
    };
    let sized = |field: &str| SizedField {
        name: name(field),
        nested: Vec::new(),
    };
    assert_eq!(
        list_size("Query", "productPage"),
        ListSize {
            assumed_size: None,
            slicing_arguments: vec![vec![name("first")], vec![name("last")]],
            sized_fields: vec![sized("edges"), sized("nodes")],
            require_one_slicing_argument: true,
        }
    );
    assert_eq!(
        list_size("Query", "products"),
        ListSize {
            assumed_size: None,
            slicing_arguments: vec![vec![name("first")]],
            sized_fields: Vec::new(),
            require_one_slicing_argument: false,
        }
    );
    assert_eq!(list_size("Query", "search").assumed_size, Some(20));
    // Merged from two subgraphs: the larger assumed size; required only where all agree.
    let tags = list_size("Product", "tags");
    assert_eq!(tags.assumed_size, Some(8));
    assert!(!tags.require_one_slicing_argument);
    let reviews = list_size("Product", "reviews");
    assert_eq!(reviews.assumed_size, Some(5));
    assert!(reviews.require_one_slicing_argument);
}

#[test]
fn the_api_schema_hides_the_cost_directives() {
    let supergraph = Supergraph::parse(APOLLO_SUPERGRAPH).expect("Apollo's supergraph parses");
    assert!(supergraph.schema.directive_definitions.contains_key("cost"));
    let api = &supergraph.api_schema;
    assert!(!api.directive_definitions.contains_key("cost"));
    assert!(!api.directive_definitions.contains_key("listSize"));
    let printed = api.to_string();
    assert!(!printed.contains("@cost"), "{printed}");
    assert!(!printed.contains("@listSize"), "{printed}");
}

#[test]
fn names_come_from_the_link() {
    let types = r#"type Query { a(first: Int): [Int] @weight(weight: "3") @size(slicingArguments: ["first"]) }"#;
    let imported = model(&linked(
        r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: [{name: "@cost", as: "@weight"}, {name: "@listSize", as: "@size"}])"#,
        "weight",
        "size",
        types,
    ))
    .expect("reads");
    let a = imported.field("Query", "a").expect("Query.a");
    assert_eq!(a.weight, Some(3.0));
    assert_eq!(
        a.list_size.as_ref().map(|l| l.slicing_arguments.clone()),
        Some(vec![vec![name("first")]])
    );
    assert_eq!(imported.directive_names(), [name("weight"), name("size")]);

    // `as:` on the link renames the spec: `@price` and `@price__listSize`.
    let namespaced = model(&linked(
        r#"@link(url: "https://specs.apollo.dev/cost/v0.1", as: "price")"#,
        "price",
        "price__listSize",
        r#"type Query { a: [Int] @price(weight: "2") @price__listSize(assumedSize: 4) }"#,
    ))
    .expect("reads");
    let a = namespaced.field("Query", "a").expect("Query.a");
    assert_eq!(a.weight, Some(2.0));
    assert_eq!(a.list_size.as_ref().and_then(|l| l.assumed_size), Some(4));

    // A directive of the same name that the link does not bring in is someone else's.
    let unlinked = model(&linked(
        r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])"#,
        "weight",
        "listSize",
        r#"type Query { a: [Int] @weight(weight: "2") }"#,
    ))
    .expect("reads");
    assert_eq!(unlinked.field("Query", "a"), None);
}

#[test]
fn weights_may_be_strings_and_fractions() {
    let model = model(&linked(
        r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])"#,
        "cost",
        "listSize",
        r#"type Query { a: Int @cost(weight: "2.5") b: Int @cost(weight: " 7 ") }"#,
    ))
    .expect("reads");
    assert_eq!(model.field("Query", "a").and_then(|a| a.weight), Some(2.5));
    assert_eq!(model.field("Query", "b").and_then(|b| b.weight), Some(7.0));
}

#[test]
fn nested_slicing_arguments_and_sized_fields() {
    let model = model(&linked(
        r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])"#,
        "cost",
        "listSize",
        r#"
        type Query {
          search(input: SearchInput): Container
            @listSize(slicingArguments: ["input.pagination.first"], sizedFields: ["page", "results { page }"])
        }
        input SearchInput { pagination: Pagination }
        input Pagination { first: Int }
        type Container { page: [Int] results: Results }
        type Results { page: [Int] }
        "#,
    ))
    .expect("reads");
    let list_size = model
        .field("Query", "search")
        .and_then(|search| search.list_size.clone())
        .expect("a list size");
    assert_eq!(
        list_size.slicing_arguments,
        vec![vec![name("input"), name("pagination"), name("first")]]
    );
    assert_eq!(
        list_size.sized_fields,
        vec![
            SizedField {
                name: name("page"),
                nested: Vec::new()
            },
            SizedField {
                name: name("results"),
                nested: vec![SizedField {
                    name: name("page"),
                    nested: Vec::new()
                }]
            },
        ]
    );
}

#[test]
fn a_supergraph_without_the_cost_spec_has_an_empty_model() {
    let model = model("type Query { a: [Int] }").expect("reads");
    assert_eq!(model, CostModel::default());
    assert!(model.directive_names().is_empty());
}

#[test]
fn malformed_applications_are_refused_naming_the_element() {
    let refused = |types: &str| {
        let error = model(&linked(
            r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])"#,
            "cost",
            "listSize",
            types,
        ))
        .expect_err("refused");
        error.to_string()
    };
    assert_eq!(
        refused(r#"type Query { a: Int @cost(weight: "lots") }"#),
        "invalid @cost on Query.a: `weight` must be a number (an Int, or a string holding one)"
    );
    assert_eq!(
        refused(r#"type Query { a(x: Int @cost(weight: "NaN")): Int }"#),
        "invalid @cost on Query.a(x:): `weight` must be a number (an Int, or a string holding one)"
    );
    assert_eq!(
        refused(r#"type Query { a(first: Int): [Int] @listSize(slicingArguments: ["last"]) }"#),
        "invalid @listSize on Query.a: the slicing argument \"last\" is not an argument of the field"
    );
    assert_eq!(
        refused(
            r#"type Query { a: P @listSize(sizedFields: ["items {"]) } type P { items: [Int] }"#
        ),
        "invalid @listSize on Query.a: the sized field \"items {\" is not a field of P"
    );
    assert_eq!(
        refused(r#"type Query { a: [Int] @listSize(assumedSize: -1) }"#),
        "invalid @listSize on Query.a: `assumedSize` must be an Int from 0 up"
    );
}
