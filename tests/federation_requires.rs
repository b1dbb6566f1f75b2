//! Federation parity for `@requires` in full and for `@provides`: each scenario under
//! tests/fixtures/federation/ is served by Seam three ways (composed by Seam, and from Apollo's
//! and Hive's supergraphs) and every answer must be the one computed by hand from the data.
//!
//! requires_full: catalog owns Product (weight, price(currency), dimensions, featured media);
//! shipping requires nested fields, a field with an argument and fragments; billing requires
//! shipping's field; logistics requires billing's field and overrides shipping's deliveryDays;
//! reviews references a product catalog does not know.
//!
//! provides_paths: reviews provides a nested selection of User, titles of an interface and of one
//! member of a union; the same types reached without `@provides` must come from their owners.

mod common;
mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

// ---- helpers ----

/// Asks every gateway `query` alone and returns, per gateway, how many requests each subgraph got.
async fn calls(parity: &Parity, query: &str) -> Vec<(&'static str, BTreeMap<String, usize>)> {
    let mut out = Vec::new();
    for (label, gateway) in &parity.gateways {
        gateway.clear_requests();
        let answer = gateway.query(query).await;
        assert!(answer["data"].is_object(), "{label}: {answer}");
        let counts = gateway
            .subgraphs
            .iter()
            .map(|s| (s.name.clone(), gateway.requests_to(&s.name).len()))
            .collect();
        out.push((*label, counts));
    }
    out
}

/// Every gateway sends exactly `expected` requests per subgraph (others: none) for `query`.
async fn assert_calls(parity: &Parity, query: &str, expected: &[(&str, usize)]) {
    for (label, counts) in calls(parity, query).await {
        let mut want: BTreeMap<String, usize> = counts.keys().map(|k| (k.clone(), 0)).collect();
        for (name, n) in expected {
            want.insert((*name).to_owned(), *n);
        }
        assert_eq!(counts, want, "{label}: subgraph requests for {query}");
    }
}

/// Every gateway answers `data` exactly, and errors at exactly the paths `error_paths` (in any
/// order); messages are not compared, since they are the gateway's own words.
async fn assert_data_and_error_paths(
    parity: &Parity,
    query: &str,
    data: Value,
    error_paths: &[Value],
) {
    for (label, gateway) in &parity.gateways {
        let answer = gateway.query(query).await;
        assert_eq!(answer["data"], data, "{label}: data for {query}\n{answer}");
        let mut paths: Vec<String> = answer["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["path"].to_string()).collect())
            .unwrap_or_default();
        paths.sort();
        paths.dedup();
        let mut want: Vec<String> = error_paths.iter().map(Value::to_string).collect();
        want.sort();
        assert_eq!(paths, want, "{label}: error paths for {query}\n{answer}");
    }
}

fn int(value: &Value) -> Option<i64> {
    value.as_i64()
}

// ---- requires_full ----

/// The subgraphs of requires_full; `billing_down` makes billing's `total` fail.
async fn requires_full(billing_down: bool) -> Parity {
    requires_full_with(billing_down, "").await
}

/// [`requires_full`] with top-level YAML lines added to every gateway's config.
async fn requires_full_with(billing_down: bool, extra_config_yaml: &str) -> Parity {
    let dir = scenario_dir("requires_full");
    let catalog = FixtureSubgraph::load(&dir, "catalog").computed("Product", "price", |p, args| {
        let usd = int(&p["priceUsd"]);
        let percent = match args["currency"].as_str() {
            Some("EUR") => 90,
            Some("GBP") => 80,
            _ => 100,
        };
        json!(usd.map(|usd| usd * percent / 100))
    });
    let shipping = FixtureSubgraph::load(&dir, "shipping")
        .computed("Product", "shippingCost", |p, _| {
            let dims = &p["dimensions"];
            match (int(&p["weight"]), int(&dims["width"]), int(&dims["height"])) {
                (Some(w), Some(x), Some(y)) => json!(w + x * y),
                _ => Value::Null,
            }
        })
        .computed("Product", "customsFee", |p, _| {
            json!(int(&p["price"]).map(|eur| eur / 10))
        })
        .computed("Product", "packaging", |p, _| {
            let featured = &p["featured"];
            match (int(&featured["pages"]), int(&featured["minutes"])) {
                (Some(pages), _) => json!(format!("box:{pages}")),
                (_, Some(minutes)) => json!(format!("sleeve:{minutes}")),
                _ => Value::Null,
            }
        })
        .computed("Product", "usdFee", |p, _| {
            json!(int(&p["price"]).map(|usd| usd / 20))
        })
        .computed("Product", "label", |p, _| {
            let featured = &p["featured"];
            match (featured["id"].as_str(), int(&featured["pages"])) {
                (Some(id), Some(pages)) => json!(format!("{id}:{pages}")),
                (Some(id), None) => json!(format!("{id}:-")),
                _ => Value::Null,
            }
        })
        // Overridden by logistics: never asked.
        .computed("Product", "deliveryDays", |_, _| json!(99));
    let mut billing =
        FixtureSubgraph::load(&dir, "billing").computed("Product", "total", |p, _| {
            match (int(&p["price"]), int(&p["shippingCost"])) {
                (Some(price), Some(shipping)) => json!(price + shipping),
                _ => Value::Null,
            }
        });
    if billing_down {
        billing = billing.fail("Product", "total", "billing is down");
    }
    let logistics = FixtureSubgraph::load(&dir, "logistics")
        .computed("Product", "insuredValue", |p, _| {
            json!(int(&p["total"]).map(|t| t * 2))
        })
        .computed("Product", "deliveryDays", |p, _| {
            json!(int(&p["weight"]).map(|w| w / 2 + 1))
        });
    Parity::start_with(
        "requires_full",
        vec![
            ("billing", billing.router()),
            ("catalog", catalog.router()),
            ("logistics", logistics.router()),
            ("reviews", FixtureSubgraph::load(&dir, "reviews").router()),
            ("shipping", shipping.router()),
        ],
        extra_config_yaml,
    )
    .await
}

#[tokio::test]
async fn requires_plan_for_every_kind_of_requirement() {
    let parity = requires_full(false).await;
    let query =
        "{ products { price customsFee shippingCost packaging total insuredValue deliveryDays } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn requires_plan_for_a_chain_through_four_subgraphs() {
    let parity = requires_full(false).await;
    let query = r#"{ product(upc: "2") { insuredValue } }"#;
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn requires_nested_selection() {
    requires_full(false)
        .await
        .assert_query(
            "{ products { upc shippingCost } }",
            json!({}),
            // weight + width * height; the rug has neither (null inputs, null answer).
            json!({ "data": { "products": [
                { "upc": "1", "shippingCost": 60 },
                { "upc": "2", "shippingCost": 4 },
                { "upc": "3", "shippingCost": null },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn requires_field_with_arguments_beside_the_client_asking_other_arguments() {
    requires_full(false)
        .await
        .assert_query(
            r#"{ products { name price customsFee gbp: price(currency: "GBP") } }"#,
            json!({}),
            // customsFee is a tenth of the EUR price (90% of USD), whatever the client asked.
            json!({ "data": { "products": [
                { "name": "Table", "price": 100, "customsFee": 9, "gbp": 80 },
                { "name": "Lamp", "price": 40, "customsFee": 3, "gbp": 32 },
                { "name": "Rug", "price": 60, "customsFee": 5, "gbp": 48 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn requires_fragments_on_an_interface() {
    requires_full(false)
        .await
        .assert_query(
            "{ products { name packaging featured { id } } }",
            json!({}),
            json!({ "data": { "products": [
                { "name": "Table", "packaging": "box:300", "featured": { "id": "b1" } },
                { "name": "Lamp", "packaging": "sleeve:90", "featured": { "id": "m1" } },
                { "name": "Rug", "packaging": null, "featured": null },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn requires_chain_across_four_subgraphs() {
    let parity = requires_full(false).await;
    // total = USD price + shippingCost; insuredValue = 2 * total.
    parity
        .assert_query(
            "{ products { upc total insuredValue } }",
            json!({}),
            json!({ "data": { "products": [
                { "upc": "1", "total": 160, "insuredValue": 320 },
                { "upc": "2", "total": 44, "insuredValue": 88 },
                { "upc": "3", "total": null, "insuredValue": null },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            r#"{ product(upc: "2") { insuredValue shippingCost total } }"#,
            json!({}),
            json!({ "data": { "product": { "insuredValue": 88, "shippingCost": 4, "total": 44 } } }),
        )
        .await;
    // One fetch per subgraph, in order: catalog, shipping, billing, logistics.
    assert_calls(
        &parity,
        r#"{ product(upc: "2") { insuredValue } }"#,
        &[
            ("catalog", 1),
            ("shipping", 1),
            ("billing", 1),
            ("logistics", 1),
        ],
    )
    .await;
}

#[tokio::test]
async fn requires_with_override_goes_to_the_overriding_subgraph() {
    let parity = requires_full(false).await;
    parity
        .assert_query(
            "{ products { upc deliveryDays } }",
            json!({}),
            // weight / 2 + 1, computed by logistics; shipping's 99 is never seen.
            json!({ "data": { "products": [
                { "upc": "1", "deliveryDays": 11 },
                { "upc": "2", "deliveryDays": 2 },
                { "upc": "3", "deliveryDays": null },
            ] } }),
        )
        .await;
    assert_calls(
        &parity,
        "{ products { deliveryDays } }",
        &[("catalog", 1), ("logistics", 1)],
    )
    .await;
}

#[tokio::test]
async fn requires_of_an_entity_its_owner_does_not_know() {
    let parity = requires_full(false).await;
    // Catalog answers null for product 404: its name is null (no error: not found is an
    // answer), and shipping cannot be given the fields it requires: shippingCost is null with an
    // error. billing and logistics depend on it: null too, without repeating the error. The
    // other reviews are whole.
    assert_data_and_error_paths(
        &parity,
        "{ topReviews { id product { upc name shippingCost insuredValue } } }",
        json!({ "topReviews": [
            { "id": "r1", "product": { "upc": "1", "name": "Table", "shippingCost": 60, "insuredValue": 320 } },
            { "id": "r2", "product": { "upc": "404", "name": null, "shippingCost": null, "insuredValue": null } },
            { "id": "r3", "product": { "upc": "2", "name": "Lamp", "shippingCost": 4, "insuredValue": 88 } },
        ] }),
        &[json!(["topReviews", 1, "product", "shippingCost"])],
    )
    .await;
}

#[tokio::test]
async fn requires_whose_providing_field_fails() {
    let parity = requires_full(true).await;
    // billing's total fails: logistics gets a null total and answers null; catalog and shipping
    // data are intact; the error is billing's, at the product's total.
    assert_data_and_error_paths(
        &parity,
        r#"{ product(upc: "1") { name shippingCost total insuredValue } }"#,
        json!({ "product": { "name": "Table", "shippingCost": 60, "total": null, "insuredValue": null } }),
        &[json!(["product", "total"])],
    )
    .await;
    // Not asked for, total is no response field: its errors stop at the product they cost.
    assert_data_and_error_paths(
        &parity,
        "{ products { name insuredValue } }",
        json!({ "products": [
            { "name": "Table", "insuredValue": null },
            { "name": "Lamp", "insuredValue": null },
            { "name": "Rug", "insuredValue": null },
        ] }),
        &[
            json!(["products", 0]),
            json!(["products", 1]),
            json!(["products", 2]),
        ],
    )
    .await;
}

// ---- provides_paths ----

async fn provides_paths() -> Parity {
    let dir = scenario_dir("provides_paths");
    Parity::start(
        "provides_paths",
        ["accounts", "media", "reviews"]
            .into_iter()
            .map(|name| (name, FixtureSubgraph::load(&dir, name).router()))
            .collect(),
    )
    .await
}

#[tokio::test]
async fn provides_plan_uses_provided_fields_only_on_their_path() {
    let parity = provides_paths().await;
    let query = "{ reviews { author { name address { city } } editor { name } item { title } related { title } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn provides_plan_asks_the_owner_for_what_a_provided_value_lacks() {
    let parity = provides_paths().await;
    let query = "{ reviews { author { name address { city street } } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn provides_nested_selection_needs_no_owner() {
    let parity = provides_paths().await;
    let query = "{ reviews { id author { id name address { city } } } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "reviews": [
                { "id": "rv1", "author": { "id": "u1", "name": "Ada", "address": { "city": "London" } } },
                { "id": "rv2", "author": { "id": "u2", "name": "Alan", "address": { "city": "Wilmslow" } } },
            ] } }),
        )
        .await;
    assert_calls(&parity, query, &[("reviews", 1)]).await;
}

#[tokio::test]
async fn provides_does_not_cover_the_same_type_reached_another_way() {
    let parity = provides_paths().await;
    let query = "{ reviews { editor { name } author { email address { street } } } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "reviews": [
                { "editor": { "name": "Alan" }, "author": { "email": "ada@example.com", "address": { "street": "1 Byron St" } } },
                { "editor": { "name": "Ada" }, "author": { "email": "alan@example.com", "address": { "street": "2 Hollymeade" } } },
            ] } }),
        )
        .await;
    // editor and author are Users at two paths: one accounts fetch each, sent together as one
    // batched request, and the author's one asks for `address { street }` as a whole.
    assert_calls(&parity, query, &[("reviews", 1), ("accounts", 1)]).await;
}

#[tokio::test]
async fn provides_on_an_interface() {
    let parity = provides_paths().await;
    parity
        .assert_query(
            "{ reviews { item { __typename title ... on Book { pages } } related { title } } }",
            json!({}),
            json!({ "data": { "reviews": [
                { "item": { "__typename": "Book", "title": "Dune", "pages": 412 }, "related": { "title": "Alien" } },
                { "item": { "__typename": "Movie", "title": "Alien" }, "related": { "title": "Dune" } },
            ] } }),
        )
        .await;
    assert_calls(
        &parity,
        "{ reviews { item { __typename title } } }",
        &[("reviews", 1)],
    )
    .await;
    assert_calls(
        &parity,
        "{ reviews { related { title } } }",
        &[("reviews", 1), ("media", 1)],
    )
    .await;
}

#[tokio::test]
async fn provides_on_a_union_covers_only_the_provided_member() {
    let parity = provides_paths().await;
    let provided = "{ reviews { item { title } subject { ... on Book { title } } } }";
    parity
        .assert_query(
            provided,
            json!({}),
            json!({ "data": { "reviews": [
                { "item": { "title": "Dune" }, "subject": { "title": "Dune" } },
                { "item": { "title": "Alien" }, "subject": {} },
            ] } }),
        )
        .await;
    assert_calls(&parity, provided, &[("reviews", 1)]).await;
    let not_provided = "{ reviews { subject { __typename ... on Movie { title } } } }";
    parity
        .assert_query(
            not_provided,
            json!({}),
            json!({ "data": { "reviews": [
                { "subject": { "__typename": "Book" } },
                { "subject": { "__typename": "Movie", "title": "Alien" } },
            ] } }),
        )
        .await;
    assert_calls(&parity, not_provided, &[("reviews", 1), ("media", 1)]).await;
}

#[tokio::test]
async fn requires_of_one_field_with_different_arguments_each_get_their_own_value() {
    // customsFee requires price(currency: "EUR"), usdFee price(currency: "USD"): the catalog
    // fetch asks for both (one under an alias) and each requiring field sees its own.
    let parity = requires_full(false).await;
    for query in [
        "{ products { upc customsFee usdFee } }",
        "{ products { upc usdFee customsFee } }",
        "{ products { upc usdFee customsFee price } }",
        r#"{ products { upc eur: price(currency: "EUR") customsFee usdFee } }"#,
    ] {
        let answer = parity.gateways[0].1.query(query).await;
        let products = answer["data"]["products"].as_array().expect("products");
        let fees: Vec<(Value, Value)> = products
            .iter()
            .map(|p| (p["customsFee"].clone(), p["usdFee"].clone()))
            .collect();
        assert_eq!(
            fees,
            vec![
                (json!(9), json!(5)),
                (json!(3), json!(2)),
                (json!(5), json!(3)),
            ],
            "{query}: {answer}"
        );
    }
    parity
        .assert_query(
            "{ products { customsFee usdFee } }",
            json!({}),
            json!({ "data": { "products": [
                { "customsFee": 9, "usdFee": 5 },
                { "customsFee": 3, "usdFee": 2 },
                { "customsFee": 5, "usdFee": 3 },
            ] } }),
        )
        .await;
    // One catalog fetch holds both prices; a representation holds one, so shipping is asked
    // twice, in one batched request: two `_entities` fields, each with its own representations.
    assert_calls(
        &parity,
        "{ products { customsFee usdFee } }",
        &[("catalog", 1), ("shipping", 1)],
    )
    .await;
}

#[tokio::test]
async fn requires_fragment_on_the_interface_applies_to_its_implementations() {
    // label requires `featured { ... on Media { id } ... on Book { pages } }`: the Media
    // fragment applies to a Book and to a Movie alike.
    requires_full(false)
        .await
        .assert_query(
            "{ products { name label } }",
            json!({}),
            json!({ "data": { "products": [
                { "name": "Table", "label": "b1:300" },
                { "name": "Lamp", "label": "m1:-" },
                { "name": "Rug", "label": null },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn requires_nested_selection_beside_client_aliases_of_its_field_names() {
    // shippingCost requires `weight dimensions { width height }` (weight + width * height). The
    // client's `dimensions` uses the required names for other fields: one object cannot answer
    // `width` for two fields, so the catalog fetch asks for the required ones under aliases of
    // their own, and the representation reads them there. Each side gets its own values.
    let parity = requires_full(false).await;
    parity
        .assert_query(
            "{ products { dimensions { width: height } shippingCost } }",
            json!({}),
            json!({ "data": { "products": [
                { "dimensions": { "width": 4 }, "shippingCost": 60 },
                { "dimensions": { "width": 2 }, "shippingCost": 4 },
                { "dimensions": null, "shippingCost": null },
            ] } }),
        )
        .await;
    // Both names swapped, the requiring field planned before the client's selection.
    parity
        .assert_query(
            "{ products { shippingCost dimensions { height: width width: height } } }",
            json!({}),
            json!({ "data": { "products": [
                { "shippingCost": 60, "dimensions": { "height": 10, "width": 4 } },
                { "shippingCost": 4, "dimensions": { "height": 1, "width": 2 } },
                { "shippingCost": null, "dimensions": null },
            ] } }),
        )
        .await;
    // The client's aliases inside a named and an inline fragment.
    parity
        .assert_query(
            "{ products { dimensions { ...W ... on Dimensions { height: width } } shippingCost } }
             fragment W on Dimensions { width: depth }",
            json!({}),
            json!({ "data": { "products": [
                { "dimensions": { "width": 3, "height": 10 }, "shippingCost": 60 },
                { "dimensions": { "width": 1, "height": 1 }, "shippingCost": 4 },
                { "dimensions": null, "shippingCost": null },
            ] } }),
        )
        .await;
    let plan = parity.plan("{ products { dimensions { width: height } shippingCost } }");
    assert!(plan.contains("seam__width: width"), "{plan}");
}

#[tokio::test]
async fn requires_fragment_beside_a_client_alias_of_another_type() {
    // label requires `featured { ... on Media { id } ... on Book { pages } }`; the client calls a
    // book's pages (an Int) `id`. The required `id` (an ID) is fetched under an alias of its
    // own, never renamed back over the client's `id`: the client gets the pages, label the id.
    let parity = requires_full(false).await;
    let query = "{ products { name featured { ... on Book { id: pages } } label } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "products": [
                { "name": "Table", "featured": { "id": 300 }, "label": "b1:300" },
                { "name": "Lamp", "featured": {}, "label": "m1:-" },
                { "name": "Rug", "featured": null, "label": null },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            "{ products { label featured { ... on Book { id: pages } ... on Movie { id: minutes } } } }",
            json!({}),
            json!({ "data": { "products": [
                { "label": "b1:300", "featured": { "id": 300 } },
                { "label": "m1:-", "featured": { "id": 90 } },
                { "label": null, "featured": null },
            ] } }),
        )
        .await;
    let plan = parity.plan(query);
    assert!(plan.contains("seam__id: id"), "{plan}");
    assert!(!plan.contains("seam__Book__"), "{plan}");
}

#[tokio::test]
async fn requires_nested_names_taken_by_many_client_aliases_are_planned_in_linear_time() {
    // The client takes `width` and the first 70,000 names the planner would try for the required
    // `dimensions { width }` (`seam__width`, `seam__width_1`, ...), all under one field (as many
    // as fit the default 2 MiB body). Each name tried is one lookup, so planning stays linear; a
    // scan of the client's fields per name tried is 5·10⁹ comparisons, minutes in a debug build.
    const DEADLINE: std::time::Duration = std::time::Duration::from_secs(240);
    let raised =
        "limits:\n  max_tokens: 10000000\n  max_aliases: unlimited\n  max_fields: unlimited\n  \
                  max_body_bytes: 67108864\n  planning_timeout: 200s\n  request_timeout: 220s\n";
    let parity = requires_full_with(false, raised).await;
    let n = 70_000;
    let mut taken = vec!["width: height".to_owned(), "seam__width: height".to_owned()];
    taken.extend((1..n).map(|i| format!("seam__width_{i}: height")));
    let query = format!(
        "{{ products {{ dimensions {{ {} }} shippingCost }} }}",
        taken.join(" ")
    );
    for (tool, gateway) in &parity.gateways {
        let answer = tokio::time::timeout(DEADLINE, gateway.query(&query))
            .await
            .unwrap_or_else(|_| panic!("{tool}: no answer within {DEADLINE:?}"));
        assert!(
            answer.get("errors").is_none(),
            "{tool}: {:?}",
            answer.get("errors")
        );
        let products = answer["data"]["products"].as_array().expect("products");
        let costs: Vec<&Value> = products.iter().map(|p| &p["shippingCost"]).collect();
        assert_eq!(costs, [&json!(60), &json!(4), &Value::Null], "{tool}");
        let first = &products[0]["dimensions"];
        assert_eq!(
            first["width"],
            json!(4),
            "{tool}: the client's alias keeps its value"
        );
        assert_eq!(first[format!("seam__width_{}", n - 1)], json!(4), "{tool}");
    }
}

// ---- requires_lost_entity ----

/// requires_lost_entity: reviews r1 (author u1, coauthors [u3]) and r2 (author u2, coauthors
/// [u1, u2]); accounts resolves users' email and nickname, but u2's nickname fails, so u2's
/// entity comes back null whenever a fetch asks for the nickname; extras' summary requires
/// `author { email }` and credits `coauthors { email }`.
async fn requires_lost_entity() -> Parity {
    let dir = scenario_dir("requires_lost_entity");
    let sdl = std::fs::read_to_string(dir.join("accounts.graphql")).expect("accounts SDL");
    // As a graphql-js subgraph answers when u2's non-null nickname fails: its entity is null,
    // email and all, with the error at the nickname.
    let accounts = support::scripted(&sdl, |request| {
        let query = request["query"].as_str().unwrap_or_default();
        let mut errors = Vec::new();
        let entities: Vec<Value> = support::representations(request)
            .iter()
            .enumerate()
            .map(|(i, rep)| match rep["id"].as_str() {
                Some("u2") if query.contains("nickname") => {
                    errors.push(json!({ "message": "no nickname for u2",
                                        "path": ["_entities", i, "nickname"] }));
                    Value::Null
                }
                Some(id) => {
                    let (email, nickname) = match id {
                        "u1" => ("ann@x", "an"),
                        "u2" => ("bob@x", "bo"),
                        _ => ("cy@x", "cy"),
                    };
                    json!({ "__typename": "User", "id": id, "email": email, "nickname": nickname })
                }
                None => Value::Null,
            })
            .collect();
        json!({ "data": { "_entities": entities }, "errors": errors })
    });
    let extras = FixtureSubgraph::load(&dir, "extras")
        .computed("Review", "summary", |r, _| {
            json!(format!("author={}", r["author"]["email"]))
        })
        .computed("Review", "credits", |r, _| {
            let emails: Vec<String> = r["coauthors"]
                .as_array()
                .map(|users| users.iter().map(|u| u["email"].to_string()).collect())
                .unwrap_or_default();
            json!(emails.join(","))
        });
    Parity::start(
        "requires_lost_entity",
        vec![
            ("accounts", accounts),
            ("extras", extras.router()),
            ("reviews", FixtureSubgraph::load(&dir, "reviews").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn requires_nested_in_an_entity_its_owner_answered_null_is_never_sent_as_null() {
    let parity = requires_lost_entity().await;
    // Asked alone, the emails come from accounts with nothing failing.
    assert_data_and_error_paths(
        &parity,
        "{ reviews { id summary credits } }",
        json!({ "reviews": [
            { "id": "r1", "summary": "author=\"ann@x\"", "credits": "\"cy@x\"" },
            { "id": "r2", "summary": "author=\"bob@x\"", "credits": "\"ann@x\",\"bob@x\"" },
        ] }),
        &[],
    )
    .await;
    // Beside the client's nickname, u2's entity is null: its email is nobody's answer, so r2's
    // summary and credits are null, never computed from `{"email":null}`.
    assert_data_and_error_paths(
        &parity,
        "{ reviews { id summary author { nickname } } }",
        json!({ "reviews": [
            { "id": "r1", "summary": "author=\"ann@x\"", "author": { "nickname": "an" } },
            { "id": "r2", "summary": null, "author": null },
        ] }),
        &[json!(["reviews", 1, "author", "nickname"])],
    )
    .await;
    assert_data_and_error_paths(
        &parity,
        "{ reviews { credits coauthors { nickname } } }",
        json!({ "reviews": [
            { "credits": "\"cy@x\"", "coauthors": [{ "nickname": "cy" }] },
            { "credits": null, "coauthors": [{ "nickname": "an" }, null] },
        ] }),
        &[json!(["reviews", 1, "coauthors", 1, "nickname"])],
    )
    .await;
    // The fields the null entity dropped beside the failed one (email) are that failure, not
    // errors of their own.
    assert_data_and_error_paths(
        &parity,
        "{ reviews { author { email nickname } } }",
        json!({ "reviews": [
            { "author": { "email": "ann@x", "nickname": "an" } },
            { "author": null },
        ] }),
        &[json!(["reviews", 1, "author", "nickname"])],
    )
    .await;
    for (label, gateway) in &parity.gateways {
        for request in gateway.requests_to("extras") {
            let sent = request["variables"]["representations"].to_string();
            assert!(!sent.contains("null"), "{label} sent extras {sent}");
        }
    }
}
