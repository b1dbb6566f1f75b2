//! `@inaccessible` on a type, fields, an argument, an enum value and an input field: gone from the
//! API schema and introspection, refused in client operations, yet still used for keys and
//! `@requires`. Also how enums and input objects defined in two subgraphs combine: an output
//! enum is the union of its values, input enums and input objects the intersection. Checked
//! through Seam's own composition and the supergraphs Apollo and Hive composed.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

/// `products(status:, filter: { nameContains }, order:)` filters and sorts the products table.
fn products_root(table: Vec<Value>) -> impl Fn(&Value, &Value) -> Value + Send + Sync {
    move |_, args| {
        let mut rows: Vec<&Value> = table
            .iter()
            .filter(|row| args["status"].is_null() || row["status"] == args["status"])
            .filter(|row| {
                args["filter"]["nameContains"]
                    .as_str()
                    .is_none_or(|part| row["name"].as_str().unwrap_or("").contains(part))
            })
            .collect();
        match args["order"].as_str() {
            Some("ASC") => rows.sort_by_key(|row| row["name"].as_str().unwrap_or("").to_owned()),
            Some("DESC") => rows.sort_by_key(|row| {
                std::cmp::Reverse(row["name"].as_str().unwrap_or("").to_owned())
            }),
            _ => {}
        }
        rows.iter()
            .map(|row| json!({ "internalId": row["internalId"] }))
            .collect()
    }
}

async fn inaccessible() -> Parity {
    let dir = scenario_dir("inaccessible_basics");
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("products.json")).expect("products data"),
    )
    .expect("products JSON");
    let table = data["Product"].as_array().cloned().expect("product rows");
    Parity::start(
        "inaccessible_basics",
        vec![
            (
                "products",
                FixtureSubgraph::load(&dir, "products")
                    .computed("Query", "products", products_root(table))
                    .router(),
            ),
            (
                "shipping",
                FixtureSubgraph::load(&dir, "shipping")
                    .computed("Product", "shippingCost", |product, _| {
                        json!(product["cost"].as_i64().map(|cost| cost / 10))
                    })
                    .router(),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn inaccessible_key_and_requires_fields_still_join_subgraphs() {
    // The key `internalId` and the required `cost` are inaccessible; shipping gets them anyway.
    let parity = inaccessible().await;
    parity
        .assert_query(
            "{ products { name shippingCost } }",
            json!({}),
            json!({ "data": { "products": [
                { "name": "Table", "shippingCost": 40 },
                { "name": "Couch", "shippingCost": 90 },
                { "name": "Lamp", "shippingCost": 3 },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            "{ shippable { upc name tags shippingTags shippingCost } }",
            json!({}),
            json!({ "data": { "shippable": [
                { "upc": "3", "name": "Lamp", "tags": [], "shippingTags": ["FRAGILE", "SALE"], "shippingCost": 3 },
                { "upc": "1", "name": "Table", "tags": ["SALE"], "shippingTags": ["FRAGILE"], "shippingCost": 40 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn accessible_arguments_enum_values_and_input_fields_work() {
    let parity = inaccessible().await;
    parity
        .assert_query(
            "{ products(status: ACTIVE, order: DESC) { name status } }",
            json!({}),
            json!({ "data": { "products": [
                { "name": "Table", "status": "ACTIVE" },
                { "name": "Lamp", "status": "ACTIVE" },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            "query($filter: ProductFilter) { products(filter: $filter, order: ASC) { upc } }",
            json!({ "filter": { "nameContains": "a" } }),
            json!({ "data": { "products": [ { "upc": "3" }, { "upc": "1" } ] } }),
        )
        .await;
}

#[tokio::test]
async fn inaccessible_elements_are_refused_in_operations() {
    let parity = inaccessible().await;
    let refused = [
        ("{ products { cost } }", "cost"),
        ("{ products { internalId } }", "internalId"),
        ("{ products { secret { code } } }", "secret"),
        ("{ vault { code } }", "vault"),
        ("{ products { ... on Secret { code } } }", "Secret"),
        ("{ products(debug: true) { name } }", "debug"),
        ("{ products(status: HIDDEN) { name } }", "HIDDEN"),
        ("{ products(filter: { minCost: 3 }) { name } }", "minCost"),
        // Input objects keep only the fields every subgraph defines, input enums the values.
        (
            "{ products(filter: { status: ACTIVE }) { name } }",
            "status",
        ),
        (
            "{ shippable(filter: { maxWeight: 3 }) { name } }",
            "maxWeight",
        ),
        ("{ products(order: RANDOM) { name } }", "RANDOM"),
    ];
    for (query, mention) in refused {
        parity.assert_invalid(query, json!({}), mention).await;
    }
}

#[tokio::test]
async fn inaccessible_input_field_in_variables_is_refused() {
    let parity = inaccessible().await;
    let query = "query($filter: ProductFilter) { products(filter: $filter) { name } }";
    for (tool, answer) in parity
        .answers(query, json!({ "filter": { "minCost": 1 } }))
        .await
    {
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("minCost"), "{tool}: {answer}");
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{tool}: {answer}"
        );
    }
}

/// The `name`s of a list of introspection objects, sorted: composers order merged values
/// differently, and the API schema's order is not what is under test.
fn names(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn introspection_shows_the_api_schema() {
    let parity = inaccessible().await;
    let query = r#"{
        secret: __type(name: "Secret") { name }
        product: __type(name: "Product") { fields { name } }
        status: __type(name: "Status") { enumValues(includeDeprecated: true) { name } }
        tag: __type(name: "Tag") { enumValues { name } }
        order: __type(name: "SortOrder") { enumValues { name } }
        filter: __type(name: "ProductFilter") { inputFields { name } }
        query: __type(name: "Query") { fields { name args { name } } }
        __schema { types { name } }
    }"#;
    for (tool, answer) in parity.answers(query, json!({})).await {
        let data = &answer["data"];
        assert!(answer.get("errors").is_none(), "{tool}: {answer}");
        assert_eq!(data["secret"], Value::Null, "{tool}");
        assert_eq!(
            names(&data["product"]["fields"]),
            [
                "name",
                "shippingCost",
                "shippingTags",
                "status",
                "tags",
                "upc"
            ],
            "{tool}"
        );
        assert_eq!(
            names(&data["status"]["enumValues"]),
            ["ACTIVE", "DISCONTINUED"],
            "{tool}"
        );
        // An enum only ever returned takes the values of every subgraph...
        assert_eq!(
            names(&data["tag"]["enumValues"]),
            ["FRAGILE", "NEW", "SALE"],
            "{tool}"
        );
        // ...one taken as an argument only the values every subgraph accepts.
        assert_eq!(
            names(&data["order"]["enumValues"]),
            ["ASC", "DESC"],
            "{tool}"
        );
        assert_eq!(
            names(&data["filter"]["inputFields"]),
            ["nameContains"],
            "{tool}"
        );
        let fields = data["query"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            names(&data["query"]["fields"]),
            ["products", "shippable"],
            "{tool}"
        );
        for field in fields {
            let expected: &[&str] = match field["name"].as_str() {
                Some("products") => &["filter", "order", "status"],
                _ => &["filter", "order"],
            };
            assert_eq!(names(&field["args"]), expected, "{tool}: {field}");
        }
        let types = names(&data["__schema"]["types"]);
        for hidden in ["Secret", "join__Graph", "link__Purpose", "_Any", "_Entity"] {
            assert!(
                !types.iter().any(|t| t == hidden),
                "{tool} shows {hidden}: {types:?}"
            );
        }
        for shown in ["Product", "ProductFilter", "SortOrder", "Status", "Tag"] {
            assert!(
                types.iter().any(|t| t == shown),
                "{tool} hides {shown}: {types:?}"
            );
        }
    }
}

#[tokio::test]
async fn inaccessible_plan_uses_hidden_key_and_requires() {
    let parity = inaccessible().await;
    let query = "{ shippable { name shippingCost } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}
