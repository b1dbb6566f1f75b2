//! `@override`: a field (root or entity) moved from one subgraph to another, an override from a
//! subgraph that no longer exists, and progressive override (`label: "percent(N)"` drawn per
//! request, custom labels switched on by the config's `override_labels`). Every answer is checked
//! through Seam's own composition and the supergraphs Apollo and Hive composed.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

// ---- override_basic: inventory takes `stock` and `featured` from products, and `warehouse`
// from a "legacy" subgraph that is gone ----

async fn basic() -> Parity {
    let dir = scenario_dir("override_basic");
    Parity::start(
        "override_basic",
        vec![
            ("products", FixtureSubgraph::load(&dir, "products").router()),
            (
                "inventory",
                FixtureSubgraph::load(&dir, "inventory").router(),
            ),
        ],
    )
    .await
}

/// The query a subgraph received as its `n`th request.
fn nth_query(requests: &[Value], n: usize) -> String {
    requests[n]["query"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn overridden_entity_field_comes_from_the_overriding_subgraph() {
    // products still answers `stock: 0` for every product: a 0 here means the override was lost.
    basic()
        .await
        .assert_query(
            "{ products { upc name stock warehouse } }",
            json!({}),
            json!({ "data": { "products": [
                { "upc": "1", "name": "Table", "stock": 5, "warehouse": "north" },
                { "upc": "2", "name": "Couch", "stock": 12, "warehouse": "south" },
                { "upc": "3", "name": "Chair", "stock": 3, "warehouse": "north" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn overridden_root_field_comes_from_the_overriding_subgraph() {
    // products' `featured` is the Table; inventory's, which took the field over, is the Chair.
    basic()
        .await
        .assert_query(
            "{ featured { upc name stock } }",
            json!({}),
            json!({ "data": { "featured": { "upc": "3", "name": "Chair", "stock": 3 } } }),
        )
        .await;
}

#[tokio::test]
async fn override_from_a_subgraph_that_is_gone_is_an_ordinary_field() {
    basic()
        .await
        .assert_query(
            "{ lowStock { name warehouse stock } }",
            json!({}),
            json!({ "data": { "lowStock": [
                { "name": "Chair", "warehouse": "north", "stock": 3 },
                { "name": "Table", "warehouse": "north", "stock": 5 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn overridden_field_is_never_asked_of_the_old_subgraph() {
    let parity = basic().await;
    for (tool, gateway) in &parity.gateways {
        parity.clear_requests();
        let answer = gateway
            .query(r#"{ product(upc: "2") { name stock } }"#)
            .await;
        assert_eq!(
            answer,
            json!({ "data": { "product": { "name": "Couch", "stock": 12 } } }),
            "{tool}"
        );
        let products = parity.requests_to("products");
        let inventory = parity.requests_to("inventory");
        assert_eq!((products.len(), inventory.len()), (1, 1), "{tool}");
        assert!(
            !nth_query(&products, 0).contains("stock"),
            "{tool} asked products for the overridden field: {}",
            nth_query(&products, 0)
        );
        assert!(
            nth_query(&inventory, 0).contains("_entities"),
            "{tool}: {}",
            nth_query(&inventory, 0)
        );
    }
}

#[tokio::test]
async fn override_basic_plan() {
    let parity = basic().await;
    let query = "{ featured { name stock warehouse } products { stock } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

// ---- override_progressive: pricing takes fields from catalog under labels ----

/// Each field is "catalog" or "pricing" depending on which subgraph answered it.
async fn progressive() -> Parity {
    let dir = scenario_dir("override_progressive");
    Parity::start_with(
        "override_progressive",
        vec![
            ("catalog", FixtureSubgraph::load(&dir, "catalog").router()),
            ("pricing", FixtureSubgraph::load(&dir, "pricing").router()),
        ],
        "override_labels: [my-label]\n",
    )
    .await
}

const LABELLED: &str = "{ products { id never always custom unlisted } }";

fn labelled_answer() -> Value {
    let product = |id: &str| json!({ "id": id, "never": "catalog", "always": "pricing", "custom": "pricing", "unlisted": "catalog" });
    json!({ "data": { "products": [ product("p1"), product("p2") ] } })
}

#[tokio::test]
async fn progressive_override_percent_labels_and_config_labels() {
    // percent(0) never moves, percent(100) always does, `my-label` is on in the config and
    // `other-label` is not.
    let parity = progressive().await;
    for _ in 0..5 {
        parity
            .assert_query_on(&["apollo", "hive"], LABELLED, json!({}), labelled_answer())
            .await;
    }
}

#[tokio::test]
async fn progressive_override_through_our_composition() {
    let parity = progressive().await;
    for _ in 0..5 {
        parity
            .assert_query_on(&["seam"], LABELLED, json!({}), labelled_answer())
            .await;
    }
}

/// Sends `{ products { half } }` 200 times through `tool`; counts the answers from each subgraph.
async fn half_draws(parity: &Parity, tool: &str) -> (usize, usize) {
    let gateway = parity.gateway(tool);
    let (mut catalog, mut pricing) = (0, 0);
    for _ in 0..200 {
        let answer = gateway.query("{ products { half } }").await;
        let values: Vec<&Value> = answer["data"]["products"]
            .as_array()
            .unwrap_or_else(|| panic!("{tool}: {answer}"))
            .iter()
            .map(|p| &p["half"])
            .collect();
        // One draw per request: both products of one answer come from the same subgraph.
        assert_eq!(values.len(), 2, "{tool}: {answer}");
        assert_eq!(values[0], values[1], "{tool}: {answer}");
        match values[0].as_str() {
            Some("catalog") => catalog += 1,
            Some("pricing") => pricing += 1,
            _ => panic!("{tool}: {answer}"),
        }
    }
    (catalog, pricing)
}

#[tokio::test]
async fn progressive_override_percent_50_sends_requests_to_both_subgraphs() {
    let parity = progressive().await;
    for tool in ["apollo", "hive"] {
        parity.clear_requests();
        let (catalog, pricing) = half_draws(&parity, tool).await;
        // Either count under 40 of 200 has a chance below one in a billion at 50%.
        assert!(
            catalog >= 40 && pricing >= 40,
            "{tool}: {catalog} catalog, {pricing} pricing"
        );
        // Each request fetched once from catalog (the root); pricing only when the label drew on.
        assert_eq!(parity.requests_to("catalog").len(), 200, "{tool}");
        assert_eq!(parity.requests_to("pricing").len(), pricing, "{tool}");
    }
}

#[tokio::test]
async fn progressive_override_percent_50_through_our_composition() {
    let parity = progressive().await;
    let (catalog, pricing) = half_draws(&parity, "seam").await;
    assert!(
        catalog >= 40 && pricing >= 40,
        "{catalog} catalog, {pricing} pricing"
    );
}

#[tokio::test]
async fn progressive_override_plans_with_and_without_labels() {
    let parity = progressive().await;
    let query = "{ products { name never always half custom } }";
    let off = parity.plan_with_labels("apollo", query, &[]);
    let on = parity.plan_with_labels(
        "apollo",
        query,
        &["percent(0)", "percent(100)", "percent(50)", "my-label"],
    );
    // Hive's supergraph carries the same labels: the plans must not depend on who composed it.
    assert_eq!(off, parity.plan_with_labels("hive", query, &[]));
    assert_eq!(
        on,
        parity.plan_with_labels(
            "hive",
            query,
            &["percent(0)", "percent(100)", "percent(50)", "my-label"]
        )
    );
    insta::with_settings!({ description => format!("no labels: {query}"), omit_expression => true }, {
        insta::assert_snapshot!("progressive_labels_off", off);
    });
    insta::with_settings!({ description => format!("every label on: {query}"), omit_expression => true }, {
        insta::assert_snapshot!("progressive_labels_on", on);
    });
}

#[tokio::test]
async fn seam_plan_command_takes_labels() {
    let dir = scenario_dir("override_progressive");
    let query_file = std::env::temp_dir().join(format!(
        "seam-override-progressive-{}.graphql",
        std::process::id()
    ));
    std::fs::write(&query_file, "{ products { always custom } }").expect("write query file");
    let plan = |labels: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_seam"));
        command
            .arg("plan")
            .arg("--supergraph")
            .arg(dir.join("supergraph.apollo.graphql"));
        for label in labels {
            command.arg("--label").arg(label);
        }
        let output = command.arg(&query_file).output().expect("run seam plan");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8 plan")
    };
    let off = plan(&[]);
    let on = plan(&["percent(100)", "my-label"]);
    let _ = std::fs::remove_file(&query_file);
    assert!(off.contains("catalog") && !off.contains("pricing"), "{off}");
    assert!(on.contains("pricing") && on.contains("Flatten"), "{on}");
}
