//! Demand control across composers: the `demand_control` scenario
//! (tests/fixtures/federation/demand_control) uses `@cost` and `@listSize` on every kind of
//! element. Seam must compose it into the supergraph Apollo's composition prints, read the same
//! costs from Seam's, Apollo's and Hive's supergraphs, and serve all three.

mod common;
mod support;

use std::collections::BTreeMap;

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema;
use serde_json::json;

use common::{compose_scenario, scenario_dir, scenario_subgraphs, Parity};
use seam::supergraph::Supergraph;
use support::fixture::FixtureSubgraph;

const SCENARIO: &str = "demand_control";

fn seam_supergraph() -> String {
    let dir = scenario_dir(SCENARIO);
    compose_scenario(&dir, &scenario_subgraphs(&dir))
}

fn tool_supergraph(tool: &str) -> String {
    let path = scenario_dir(SCENARIO).join(format!("supergraph.{tool}.graphql"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `@cost`/`@listSize` application by schema coordinate, printed as the SDL writes it
/// (arguments in their written order), so two supergraphs compare application by application.
fn applications(sdl: &str) -> BTreeMap<String, Vec<String>> {
    let schema = Schema::parse(sdl, "supergraph.graphql")
        .unwrap_or_else(|invalid| panic!("the supergraph does not parse:\n{}", invalid.errors));
    let mut found = BTreeMap::new();
    let mut record = |coordinate: String, directives: Vec<String>| {
        let kept: Vec<String> = directives
            .into_iter()
            .filter(|d| d.starts_with("@cost") || d.starts_with("@listSize"))
            .collect();
        if !kept.is_empty() {
            found.insert(coordinate, kept);
        }
    };
    let printed = |d: &apollo_compiler::ast::Directive| d.serialize().no_indent().to_string();
    for (type_name, ty) in &schema.types {
        record(
            type_name.to_string(),
            ty.directives().iter().map(|d| printed(d)).collect(),
        );
        let fields = match ty {
            ExtendedType::Object(object) => &object.fields,
            ExtendedType::Interface(interface) => &interface.fields,
            ExtendedType::InputObject(input) => {
                for (name, field) in &input.fields {
                    record(
                        format!("{type_name}.{name}"),
                        field.directives.iter().map(|d| printed(d)).collect(),
                    );
                }
                continue;
            }
            _ => continue,
        };
        for (name, field) in fields {
            record(
                format!("{type_name}.{name}"),
                field.directives.iter().map(|d| printed(d)).collect(),
            );
            for argument in &field.arguments {
                record(
                    format!("{type_name}.{name}({}:)", argument.name),
                    argument.directives.iter().map(|d| printed(d)).collect(),
                );
            }
        }
    }
    found
}

/// The lines of the supergraph that link and define the cost spec.
fn spec_lines(sdl: &str) -> Vec<String> {
    sdl.lines()
        .filter(|line| {
            line.contains("specs.apollo.dev/cost/")
                || line.starts_with("directive @cost")
                || line.starts_with("directive @listSize")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn seam_composes_the_scenario() {
    insta::assert_snapshot!(seam_supergraph());
}

#[test]
fn cost_directives_are_printed_as_apollos_composition_prints_them() {
    let seam = seam_supergraph();
    let apollo = tool_supergraph("apollo");
    assert_eq!(spec_lines(&seam), spec_lines(&apollo));
    assert_eq!(spec_lines(&seam).len(), 3, "the link and two definitions");
    let ours = applications(&seam);
    assert_eq!(ours, applications(&apollo));
    // Every kind of element: object, scalar and enum types, fields, arguments, input fields.
    for coordinate in [
        "Product",
        "Money",
        "Currency",
        "Product.name",
        "Product.tags",
        "Query.search(limit:)",
        "SearchFilter.fuzzy",
        "Query.productPage",
    ] {
        assert!(ours.contains_key(coordinate), "{coordinate}: {ours:?}");
    }
}

#[test]
fn the_model_reads_the_same_costs_from_every_supergraph() {
    let model = |sdl: &str, tool: &str| {
        Supergraph::parse(sdl)
            .unwrap_or_else(|e| panic!("the {tool} supergraph does not parse: {e}"))
            .cost
    };
    let seam = model(&seam_supergraph(), "seam");
    assert_eq!(seam, model(&tool_supergraph("apollo"), "apollo"));
    assert_eq!(seam, model(&tool_supergraph("hive"), "hive"));
    // Not two empty models: the weights and sizes are there.
    assert_eq!(seam.type_weight("Category"), Some(4.0));
    assert_eq!(
        seam.field("Product", "name").and_then(|f| f.weight),
        Some(4.0)
    );
    assert_eq!(
        seam.field("Query", "search")
            .and_then(|f| f.list_size.as_ref())
            .and_then(|l| l.assumed_size),
        Some(20)
    );
}

#[tokio::test]
async fn every_supergraph_of_the_scenario_is_served_without_showing_the_directives() {
    let dir = scenario_dir(SCENARIO);
    let parity = Parity::start(
        SCENARIO,
        vec![
            ("catalog", FixtureSubgraph::load(&dir, "catalog").router()),
            ("reviews", FixtureSubgraph::load(&dir, "reviews").router()),
        ],
    )
    .await;
    parity
        .assert_query(
            r#"{ product(upc: "1") { name tags reviews(first: 2) { body rating } averageRating category { name } } }"#,
            json!({}),
            json!({ "data": { "product": {
                "name": "Table",
                "tags": ["oak", "dining"],
                "reviews": [
                    { "body": "Sturdy", "rating": "FIVE" },
                    { "body": "Heavy", "rating": "FOUR" },
                ],
                "averageRating": 4.5,
                "category": { "name": "Furniture" },
            } } }),
        )
        .await;
    // The cost spec's directives are gateway machinery, like `@join__*`: clients never see them.
    for (tool, answer) in parity
        .answers("{ __schema { directives { name } } }", json!({}))
        .await
    {
        let names: Vec<&str> = answer["data"]["__schema"]["directives"]
            .as_array()
            .unwrap_or_else(|| panic!("{tool}: {answer}"))
            .iter()
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert!(names.contains(&"skip"), "{tool}: {names:?}");
        assert!(
            !names
                .iter()
                .any(|name| name.contains("cost") || name.contains("listSize")),
            "{tool} shows {names:?}"
        );
    }
}
