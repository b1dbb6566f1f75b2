//! `@cost` and `@listSize` through composition. The expected lines are what Apollo's composition
//! (`@apollo/composition` 2.14) prints for the same subgraphs; the scenario in
//! `tests/fixtures/federation/demand_control` checks a larger case against its output file.

use super::{assert_single_error, compose_errors, compose_valid, raw};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;

/// A federation v2.9 subgraph importing `imports` (each written as in `import: [...]`).
fn fed29(name: &str, imports: &str, sdl: &str) -> SubgraphSdl {
    raw(
        name,
        &format!(
            "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.9\", import: \
             [\"@key\", \"@shareable\", {imports}])\n{sdl}"
        ),
    )
}

const COST_DEFINITION: &str = "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR\n";
const LIST_SIZE_ARGUMENTS: &str = "(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION\n";

fn assert_has(supergraph: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            supergraph.lines().any(|printed| printed == *line),
            "missing line {line:?} in:\n{supergraph}"
        );
    }
}

#[test]
fn applications_are_kept_on_every_kind_of_element() {
    let catalog = fed29(
        "catalog",
        r#""@cost", "@listSize""#,
        r#"
        type Query {
          products(first: Int = 5): [Product!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
          search(filter: Filter, limit: Int @cost(weight: 2)): [Product!]! @listSize(assumedSize: 20)
        }
        type Product @key(fields: "upc") @cost(weight: 2) {
          upc: ID!
          price: Money! @cost(weight: 3)
          color: Color
        }
        scalar Money @cost(weight: 2)
        enum Color @cost(weight: 1) { RED GREEN }
        input Filter { text: String fuzzy: Boolean @cost(weight: 10) }
        "#,
    );
    let supergraph = compose_valid(&[catalog]);
    assert!(supergraph.contains(
        "  @link(url: \"https://specs.apollo.dev/join/v0.5\", for: EXECUTION)\n  \
         @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [\"@listSize\"])\n{"
    ));
    assert!(supergraph.contains(COST_DEFINITION), "{supergraph}");
    assert!(supergraph.contains(&format!("directive @listSize{LIST_SIZE_ARGUMENTS}")));
    assert_has(
        &supergraph,
        &[
            "  products(first: Int = 5): [Product!]! @listSize(slicingArguments: [\"first\"], requireOneSlicingArgument: false)",
            "  search(filter: Filter, limit: Int @cost(weight: 2)): [Product!]! @listSize(assumedSize: 20)",
            "  @cost(weight: 2)",
            "  price: Money! @cost(weight: 3)",
            "  fuzzy: Boolean @cost(weight: 10)",
            "  @cost(weight: 1)",
        ],
    );
    assert!(supergraph.contains(
        "type Product\n  @join__type(graph: CATALOG, key: \"upc\")\n  @cost(weight: 2)\n{"
    ));
    assert!(
        supergraph.contains("scalar Money\n  @join__type(graph: CATALOG)\n  @cost(weight: 2)\n")
    );
}

#[test]
fn directive_definitions_sort_among_the_others() {
    let catalog = fed29(
        "catalog",
        r#""@cost", "@tag""#,
        "type Query { a: Int @cost(weight: 3) @tag(name: \"x\") }",
    );
    let supergraph = compose_valid(&[catalog]);
    let definitions: Vec<&str> = supergraph
        .lines()
        .filter_map(|line| line.strip_prefix("directive @"))
        .map(|rest| rest.split(['(', ' ']).next().unwrap_or(rest))
        .collect();
    assert_eq!(
        definitions,
        [
            "cost",
            "cost__listSize",
            "join__directive",
            "join__enumValue",
            "join__field",
            "join__graph",
            "join__implements",
            "join__type",
            "join__unionMember",
            "link",
            "tag",
        ]
    );
    // Without `@listSize` in any subgraph the link imports nothing and the definition keeps the
    // spec's prefixed name, as Apollo prints it.
    assert!(supergraph.contains("  @link(url: \"https://specs.apollo.dev/cost/v0.1\")\n"));
    assert!(supergraph.contains(&format!("directive @cost__listSize{LIST_SIZE_ARGUMENTS}")));
    assert_has(
        &supergraph,
        &["  a: Int @cost(weight: 3) @tag(name: \"x\")"],
    );
}

#[test]
fn shared_elements_take_the_largest_weight_and_every_list_size() {
    let one = fed29(
        "one",
        r#""@cost", "@listSize""#,
        r#"
        type Query {
          a(first: Int, last: Int): Page @shareable @listSize(sizedFields: ["items"], slicingArguments: ["first"], assumedSize: 3)
          b: [Int] @shareable @listSize(assumedSize: 4) @cost(weight: 1)
        }
        type Page @shareable { items: [Int] other: [Int] }
        "#,
    );
    let two = fed29(
        "two",
        r#""@cost", "@listSize""#,
        r#"
        type Query {
          a(first: Int, last: Int): Page @shareable @listSize(slicingArguments: ["last", "first"], requireOneSlicingArgument: false, sizedFields: ["other"], assumedSize: 7) @cost(weight: 2)
          b: [Int] @shareable @listSize(assumedSize: 4) @cost(weight: 6)
        }
        type Page @shareable { items: [Int] other: [Int] }
        "#,
    );
    let three = fed29(
        "three",
        r#""@cost""#,
        r#"
        type Query { a(first: Int, last: Int): Page @shareable @cost(weight: 1) }
        type Page @shareable { items: [Int] other: [Int] }
        "#,
    );
    let supergraph = compose_valid(&[one, two, three]);
    assert_has(
        &supergraph,
        &[
            // Merged: the arguments in the order the directive defines them.
            "  a(first: Int, last: Int): Page @listSize(assumedSize: 7, slicingArguments: [\"first\", \"last\"], sizedFields: [\"items\", \"other\"], requireOneSlicingArgument: false) @cost(weight: 2)",
            // Equal in every subgraph: as written.
            "  b: [Int] @join__field(graph: ONE) @join__field(graph: TWO) @listSize(assumedSize: 4) @cost(weight: 6)",
        ],
    );
}

#[test]
fn renamed_imports_keep_their_names_in_the_supergraph() {
    let imports = r#"{ name: "@cost", as: "@weight" }, { name: "@listSize", as: "@size" }"#;
    let one = fed29(
        "one",
        imports,
        "type Query { a: [Int] @weight(weight: 3) @size(assumedSize: 2) }",
    );
    let two = fed29("two", imports, "type Query { b: Int @weight(weight: 1) }");
    let supergraph = compose_valid(&[one, two]);
    assert!(supergraph.contains(
        "  @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [{name: \"@cost\", as: \"@weight\"}, {name: \"@listSize\", as: \"@size\"}])\n"
    ));
    assert!(supergraph.contains(&format!("directive @size{LIST_SIZE_ARGUMENTS}")));
    assert!(supergraph.contains("directive @weight(weight: Int!) on ARGUMENT_DEFINITION"));
    assert_has(
        &supergraph,
        &[
            "  a: [Int] @join__field(graph: ONE) @weight(weight: 3) @size(assumedSize: 2)",
            "  b: Int @join__field(graph: TWO) @weight(weight: 1)",
        ],
    );
}

#[test]
fn unimported_directives_keep_the_federation_prefix() {
    let one = fed29(
        "one",
        r#""@tag""#,
        "type Query { a: [Int] @federation__cost(weight: 3) @federation__listSize(assumedSize: 4) }",
    );
    let two = fed29("two", r#""@tag""#, "type Query { b: Int }");
    let supergraph = compose_valid(&[one, two]);
    assert!(supergraph.contains(
        "  @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [{name: \"@cost\", as: \"@federation__cost\"}, {name: \"@listSize\", as: \"@federation__listSize\"}])\n"
    ));
    assert_has(
        &supergraph,
        &["  a: [Int] @join__field(graph: ONE) @federation__cost(weight: 3) @federation__listSize(assumedSize: 4)"],
    );
}

#[test]
fn a_custom_cost_directive_is_not_federations() {
    // Cost analysis libraries define their own `@cost`; without an import it is not composed.
    let subgraph = raw(
        "legacy",
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        directive @cost(complexity: Int) on FIELD_DEFINITION
        type Query { a: Int @cost(complexity: 3) }"#,
    );
    let supergraph = compose_valid(&[subgraph]);
    assert!(!supergraph.contains("cost"), "{supergraph}");
}

#[test]
fn names_must_agree_between_subgraphs() {
    let one = fed29(
        "one",
        r#""@cost""#,
        "type Query { a: Int @cost(weight: 3) }",
    );
    let two = fed29(
        "two",
        r#"{ name: "@cost", as: "@weight" }"#,
        "type Query { b: Int @weight(weight: 1) }",
    );
    assert_single_error(
        &[one, two],
        ErrorCode::LinkImportNameMismatch,
        "@cost is applied under different names: @cost in subgraph \"one\" and @weight in \
         subgraph \"two\"; the supergraph has one name for it, so import it under the same name \
         in every subgraph",
    );
}

#[test]
fn cost_needs_federation_2_9() {
    let subgraph = raw(
        "old",
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@cost"])
        type Query { a: Int @cost(weight: 3) }"#,
    );
    assert_single_error(
        &[subgraph],
        ErrorCode::InvalidLinkDirectiveUsage,
        "[old] @cost needs federation v2.9 or later, but the subgraph links federation v2.8",
    );
}

#[test]
fn cost_on_an_interface_field_is_refused() {
    let subgraph = fed29(
        "one",
        r#""@cost""#,
        r#"
        type Query { i: I }
        interface I { f(x: Int @cost(weight: 2)): Int @cost(weight: 5) }
        type T implements I { f(x: Int @cost(weight: 3)): Int @cost(weight: 6) }
        "#,
    );
    // Arguments of interface fields may carry a weight, as in Apollo's composition.
    assert_single_error(
        &[subgraph],
        ErrorCode::CostAppliedToInterfaceField,
        "[one] @cost cannot be applied to the interface field I.f: implementations resolve it, \
         so weigh their fields instead",
    );
}

#[test]
fn misplaced_or_malformed_applications_are_refused() {
    let subgraph = fed29(
        "one",
        r#""@cost", "@listSize""#,
        r#"
        type Query { u: U a: Int @cost(weight: 2.5) }
        type Other { x: Int }
        union U @cost(weight: 1) = Other
        enum E { A @cost(weight: 1) }
        input In { x: Int @listSize(assumedSize: 1) }
        "#,
    );
    let errors = compose_errors(&[subgraph]);
    assert_eq!(
        errors,
        vec![
            (
                ErrorCode::InvalidGraphql,
                "[one] @cost on Query.a needs an Int `weight`, got 2.5".to_string()
            ),
            (
                ErrorCode::InvalidGraphql,
                "[one] @cost cannot be applied to U".to_string()
            ),
            (
                ErrorCode::InvalidGraphql,
                "[one] @cost cannot be applied to E.A".to_string()
            ),
            (
                ErrorCode::InvalidGraphql,
                "[one] @listSize cannot be applied to In.x".to_string()
            ),
        ]
    );
}

#[test]
fn list_size_arguments_are_checked() {
    let subgraph = fed29(
        "one",
        r#""@listSize""#,
        r#"
        type Query {
          notList: Int @listSize(assumedSize: 2)
          negative: [Int] @listSize(assumedSize: -2)
          badSlice(first: Int, name: String, ids: [Int]): [Int] @listSize(slicingArguments: ["nope", "name", "ids"])
          badSized(first: Int): Page @listSize(slicingArguments: ["first"], sizedFields: ["missing", "total"])
          objectWithoutSizedFields: Page @listSize(assumedSize: 3)
          fine(first: Int!): Page @listSize(slicingArguments: ["first"], sizedFields: ["items"])
        }
        type Page { items: [Int] total: Int }
        "#,
    );
    let errors = compose_errors(&[subgraph]);
    let expected = [
        (
            ErrorCode::ListSizeAppliedToNonList,
            "[one] @listSize on Query.notList: the field does not return a list; name the lists \
             of the object it returns in `sizedFields`",
        ),
        (
            ErrorCode::ListSizeInvalidAssumedSize,
            "[one] @listSize on Query.negative assumes -2 items; a size cannot be negative",
        ),
        (
            ErrorCode::ListSizeInvalidSlicingArgument,
            "[one] @listSize on Query.badSlice: the slicing argument \"nope\" is not an argument \
             of the field",
        ),
        (
            ErrorCode::ListSizeInvalidSlicingArgument,
            "[one] @listSize on Query.badSlice: the slicing argument \"name\" is not of type Int \
             or Int!",
        ),
        (
            ErrorCode::ListSizeInvalidSlicingArgument,
            "[one] @listSize on Query.badSlice: the slicing argument \"ids\" is not of type Int \
             or Int!",
        ),
        (
            ErrorCode::ListSizeInvalidSizedField,
            "[one] @listSize on Query.badSized: the sized field \"missing\" is not a field of Page",
        ),
        (
            ErrorCode::ListSizeInvalidSizedField,
            "[one] @listSize on Query.badSized: the sized field \"total\" (Page.total) is not a \
             list",
        ),
        (
            ErrorCode::ListSizeAppliedToNonList,
            "[one] @listSize on Query.objectWithoutSizedFields: the field does not return a list; \
             name the lists of the object it returns in `sizedFields`",
        ),
    ];
    let expected: Vec<(ErrorCode, String)> = expected
        .iter()
        .map(|(code, message)| (*code, message.to_string()))
        .collect();
    assert_eq!(errors, expected);
}
