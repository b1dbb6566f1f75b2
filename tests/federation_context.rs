//! Federation parity for `@context` / `@fromContext`: a field argument whose value the gateway
//! reads from the nearest ancestor that sets a context and passes in the entity fetch.
//!
//! context_basic: catalog owns Store, Market (both set the context `shop` with their currency),
//! the interface Venue (sets `venue` with its city), Aisle and Product; `Product.label` takes the
//! shop's currency and `Product.origin` the venue's city. pricing sets its own context `store`
//! on Store and Market from their `@external` currency, which catalog resolves, and
//! `Product.taxRate` takes it; `Product.duty` takes the store's region, which only the third
//! subgraph, regions, resolves. `Product.badge` reads a store's currency or a market's city
//! through type conditions on Venue; `Product.spot` reads the city of the union Spot (Store or
//! Market). Stores s1 (Paris, EUR, outlet s2) and s2 (Austin, USD) share the
//! product p1; the market m1 (Leeds, GBP) sells p2.

mod common;
mod support;

use serde_json::{json, Value};

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}

async fn context_basic() -> Parity {
    let dir = scenario_dir("context_basic");
    let catalog = FixtureSubgraph::load(&dir, "catalog")
        .computed("Product", "label", |p, args| {
            json!(format!(
                "{} {} {}",
                text(&p["name"]),
                p["price"],
                text(&args["currency"])
            ))
        })
        .computed("Product", "origin", |p, args| {
            json!(format!("{} from {}", text(&p["name"]), text(&args["city"])))
        })
        .computed("Product", "spot", |p, args| {
            json!(format!("{}@{}", text(&p["name"]), text(&args["city"])))
        })
        .computed("Product", "badge", |p, args| {
            json!(format!("{}/{}", text(&p["name"]), text(&args["code"])))
        });
    let pricing = FixtureSubgraph::load(&dir, "pricing")
        .computed("Product", "taxRate", |_, args| {
            match args["currency"].as_str() {
                Some("EUR") => json!(20),
                Some("USD") => json!(7),
                Some("GBP") => json!(15),
                _ => Value::Null,
            }
        })
        .computed("Product", "duty", |_, args| match args["region"].as_str() {
            Some("EU") => json!(5),
            Some("NA") => json!(0),
            Some("UK") => json!(3),
            _ => Value::Null,
        });
    Parity::start(
        "context_basic",
        vec![
            ("catalog", catalog.router()),
            ("pricing", pricing.router()),
            ("regions", FixtureSubgraph::load(&dir, "regions").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn context_plan_reads_each_value_at_its_ancestor() {
    let parity = context_basic().await;
    let query = "{ stores { products { label taxRate } outlet { products { label } } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn context_plan_for_an_interface_and_two_types_of_one_context() {
    let parity = context_basic().await;
    let query = "{ venues { ... on Store { products { origin label } } \
                 ... on Market { products { origin taxRate } } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn context_value_one_level_up_differs_per_parent() {
    // p1 is under both stores: each copy gets its own store's currency.
    context_basic()
        .await
        .assert_query(
            "{ stores { id products { upc label } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "id": "s1", "products": [
                    { "upc": "p1", "label": "Lamp 10 EUR" },
                    { "upc": "p2", "label": "Rug 20 EUR" },
                ] },
                { "id": "s2", "products": [
                    { "upc": "p1", "label": "Lamp 10 USD" },
                    { "upc": "p3", "label": "Vase 30 USD" },
                ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_nearest_ancestor_wins() {
    // The outlet is a Store too: its products take the outlet's currency, not the parent's.
    context_basic()
        .await
        .assert_query(
            "{ stores { id outlet { id products { label } } products { label } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "id": "s1",
                  "outlet": { "id": "s2", "products": [
                      { "label": "Lamp 10 USD" }, { "label": "Vase 30 USD" },
                  ] },
                  "products": [{ "label": "Lamp 10 EUR" }, { "label": "Rug 20 EUR" }] },
                { "id": "s2", "outlet": null,
                  "products": [{ "label": "Lamp 10 USD" }, { "label": "Vase 30 USD" }] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_a_few_levels_up() {
    context_basic()
        .await
        .assert_query(
            "{ stores { aisles { name products { name label } } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "aisles": [{ "name": "garden", "products": [
                    { "name": "Vase", "label": "Vase 30 EUR" },
                ] }] },
                { "aisles": [{ "name": "lights", "products": [
                    { "name": "Lamp", "label": "Lamp 10 USD" },
                ] }] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_value_from_another_subgraph_than_the_field() {
    // taxRate is pricing's; the currency it takes is catalog's. Without and with the client
    // selecting the currency itself.
    let parity = context_basic().await;
    parity
        .assert_query(
            "{ stores { products { upc taxRate } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "products": [{ "upc": "p1", "taxRate": 20 }, { "upc": "p2", "taxRate": 20 }] },
                { "products": [{ "upc": "p1", "taxRate": 7 }, { "upc": "p3", "taxRate": 7 }] },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            "{ stores { currency products { taxRate label } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "currency": "EUR", "products": [
                    { "taxRate": 20, "label": "Lamp 10 EUR" },
                    { "taxRate": 20, "label": "Rug 20 EUR" },
                ] },
                { "currency": "USD", "products": [
                    { "taxRate": 7, "label": "Lamp 10 USD" },
                    { "taxRate": 7, "label": "Vase 30 USD" },
                ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_on_an_interface_and_on_two_types_of_one_name() {
    // venues: s2 (a Store) and m1 (a Market); Venue sets `venue`, Store and Market set `shop`.
    let parity = context_basic().await;
    parity
        .assert_query(
            "{ venues { city products { origin } \
               ... on Store { products { label } } \
               ... on Market { currency products { label taxRate } } } }",
            json!({}),
            json!({ "data": { "venues": [
                { "city": "Austin", "products": [
                    { "origin": "Lamp from Austin", "label": "Lamp 10 USD" },
                    { "origin": "Vase from Austin", "label": "Vase 30 USD" },
                ] },
                { "city": "Leeds", "products": [
                    { "origin": "Rug from Leeds", "label": "Rug 20 GBP", "taxRate": 15 },
                ], "currency": "GBP" },
            ] } }),
        )
        .await;
    // A Store reached as a Store (not through Venue) still sets its interface's context.
    parity
        .assert_query(
            r#"{ stores { products { origin } } }"#,
            json!({}),
            json!({ "data": { "stores": [
                { "products": [{ "origin": "Lamp from Paris" }, { "origin": "Rug from Paris" }] },
                { "products": [{ "origin": "Lamp from Austin" }, { "origin": "Vase from Austin" }] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_with_aliases_fragments_and_a_client_key_named_like_the_context_field() {
    // The client's `currency` is the city: the context must still read the real currency.
    context_basic()
        .await
        .assert_query(
            "query { shops: stores { currency: city goods: products { a: label ...P \
               ... on Product { b: label tax: taxRate } } } } \
             fragment P on Product { name label }",
            json!({}),
            json!({ "data": { "shops": [
                { "currency": "Paris", "goods": [
                    { "a": "Lamp 10 EUR", "name": "Lamp", "label": "Lamp 10 EUR",
                      "b": "Lamp 10 EUR", "tax": 20 },
                    { "a": "Rug 20 EUR", "name": "Rug", "label": "Rug 20 EUR",
                      "b": "Rug 20 EUR", "tax": 20 },
                ] },
                { "currency": "Austin", "goods": [
                    { "a": "Lamp 10 USD", "name": "Lamp", "label": "Lamp 10 USD",
                      "b": "Lamp 10 USD", "tax": 7 },
                    { "a": "Vase 30 USD", "name": "Vase", "label": "Vase 30 USD",
                      "b": "Vase 30 USD", "tax": 7 },
                ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_entities_with_different_values_are_fetched_apart() {
    // Two stores, two currencies: catalog gets the root fetch and one entity fetch per currency.
    let parity = context_basic().await;
    for (label, gateway) in &parity.gateways {
        gateway.clear_requests();
        let answer = gateway.query("{ stores { products { label } } }").await;
        assert!(answer["errors"].is_null(), "{label}: {answer}");
        let requests = gateway.requests_to("catalog");
        let mut currencies: Vec<String> = requests
            .iter()
            .filter_map(|r| r["variables"]["contextualArgument_1_0"].as_str())
            .map(str::to_owned)
            .collect();
        currencies.sort();
        assert_eq!(currencies, ["EUR", "USD"], "{label}: {requests:?}");
        assert_eq!(requests.len(), 3, "{label}: {requests:?}");
    }
}

#[tokio::test]
async fn context_arguments_are_not_in_the_api_schema() {
    let parity = context_basic().await;
    parity
        .assert_invalid(
            r#"{ stores { products { label(currency: "JPY") } } }"#,
            json!({}),
            "currency",
        )
        .await;
}

#[tokio::test]
async fn seam_composes_contexts_as_apollo_does() {
    let parity = context_basic().await;
    let sdl = &parity.composed_sdl;
    for expected in [
        r#"@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)"#,
        r#"@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)"#,
        "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
        r#"@context(name: "catalog__shop")"#,
        r#"@context(name: "pricing__store")"#,
        r#"@context(name: "catalog__venue")"#,
        r#"label: String @join__field(graph: CATALOG, contextArguments: [{context: "catalog__shop", name: "currency", type: "String", selection: " { currency }"}])"#,
        r#"taxRate: Int @join__field(graph: PRICING, contextArguments: [{context: "pricing__store", name: "currency", type: "String", selection: " { currency }"}])"#,
    ] {
        assert!(sdl.contains(expected), "missing {expected} in\n{sdl}");
    }
}

#[tokio::test]
async fn context_plan_for_a_value_that_needs_its_own_fetch() {
    let parity = context_basic().await;
    let query = "{ stores { products { duty } } }";
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(parity.plan(query));
    });
}

#[tokio::test]
async fn context_value_that_needs_its_own_fetch() {
    // duty is pricing's; the region it takes is regions', reached through the store's key.
    context_basic()
        .await
        .assert_query(
            "{ stores { id products { upc duty } } venues { ... on Market { products { duty } } } }",
            json!({}),
            json!({ "data": {
                "stores": [
                    { "id": "s1", "products": [{ "upc": "p1", "duty": 5 }, { "upc": "p2", "duty": 5 }] },
                    { "id": "s2", "products": [{ "upc": "p1", "duty": 0 }, { "upc": "p3", "duty": 0 }] },
                ],
                "venues": [{}, { "products": [{ "duty": 3 }] }],
            } }),
        )
        .await;
}

#[tokio::test]
async fn context_selection_with_type_conditions() {
    // A store's badge shows its currency, a market's its city, whether the venue is reached
    // as a Venue or as a Store.
    context_basic()
        .await
        .assert_query(
            "{ venues { products { badge } } stores { products { badge } } }",
            json!({}),
            json!({ "data": {
                "venues": [
                    { "products": [{ "badge": "Lamp/USD" }, { "badge": "Vase/USD" }] },
                    { "products": [{ "badge": "Rug/Leeds" }] },
                ],
                "stores": [
                    { "products": [{ "badge": "Lamp/EUR" }, { "badge": "Rug/EUR" }] },
                    { "products": [{ "badge": "Lamp/USD" }, { "badge": "Vase/USD" }] },
                ],
            } }),
        )
        .await;
}

#[tokio::test]
async fn context_field_under_a_variable_condition() {
    let parity = context_basic().await;
    let query = "query($withLabel: Boolean!) { stores { products { name \
                 label @include(if: $withLabel) } } }";
    parity
        .assert_query(
            query,
            json!({ "withLabel": true }),
            json!({ "data": { "stores": [
                { "products": [
                    { "name": "Lamp", "label": "Lamp 10 EUR" },
                    { "name": "Rug", "label": "Rug 20 EUR" },
                ] },
                { "products": [
                    { "name": "Lamp", "label": "Lamp 10 USD" },
                    { "name": "Vase", "label": "Vase 30 USD" },
                ] },
            ] } }),
        )
        .await;
    parity
        .assert_query(
            query,
            json!({ "withLabel": false }),
            json!({ "data": { "stores": [
                { "products": [{ "name": "Lamp" }, { "name": "Rug" }] },
                { "products": [{ "name": "Lamp" }, { "name": "Vase" }] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_on_a_union() {
    // Spot (Store | Market) sets `spot`: its members set it whether reached through the union
    // or directly.
    context_basic()
        .await
        .assert_query(
            "{ spots { ... on Market { products { spot } } ... on Store { id products { spot } } } \
               stores { products { spot } } }",
            json!({}),
            json!({ "data": {
                "spots": [
                    { "products": [{ "spot": "Rug@Leeds" }] },
                    { "id": "s1", "products": [{ "spot": "Lamp@Paris" }, { "spot": "Rug@Paris" }] },
                ],
                "stores": [
                    { "products": [{ "spot": "Lamp@Paris" }, { "spot": "Rug@Paris" }] },
                    { "products": [{ "spot": "Lamp@Austin" }, { "spot": "Vase@Austin" }] },
                ],
            } }),
        )
        .await;
}

/// context_interface_object: accounts owns the entity interface Account (Basic a1 "bronze",
/// Premium a2 "gold"), which sets the context `acct`, and `Order.summary`, which takes the
/// account's tier; orders sees Account only as an `@interfaceObject` and owns the accounts'
/// orders (a1: o1; a2: o2, o3) and `topAccounts` (a1, a2).
async fn context_interface_object() -> Parity {
    let dir = scenario_dir("context_interface_object");
    let accounts =
        FixtureSubgraph::load(&dir, "accounts").computed("Order", "summary", |o, args| {
            json!(format!("{} for {}", text(&o["id"]), text(&args["tier"])))
        });
    Parity::start(
        "context_interface_object",
        vec![
            ("accounts", accounts.router()),
            ("orders", FixtureSubgraph::load(&dir, "orders").router()),
        ],
    )
    .await
}

#[tokio::test]
async fn context_on_an_interface_reached_through_an_interface_object() {
    let parity = context_interface_object().await;
    let summaries = |tiers: [&str; 2]| {
        json!([
            [format!("o1 for {}", tiers[0])],
            [
                format!("o2 for {}", tiers[1]),
                format!("o3 for {}", tiers[1])
            ],
        ])
    };
    let expected = summaries(["bronze", "gold"]);
    // The account's real type, asked for or implied by a fragment, is fetched from accounts and
    // replaces the interface object's `__typename`: the context still applies to it.
    for (query, typenames) in [
        ("{ topAccounts { orders { summary } } }", None),
        (
            "{ topAccounts { __typename orders { summary } } }",
            Some(["Basic", "Premium"]),
        ),
        (
            "{ topAccounts { ... on Premium { perks } orders { id summary } } }",
            None,
        ),
        (
            "{ topAccounts { kind: __typename ... on Account { orders { summary } } } }",
            Some(["Basic", "Premium"]),
        ),
    ] {
        for (label, gateway) in &parity.gateways {
            let (_, answer) = gateway.post(json!({ "query": query })).await;
            assert_eq!(answer.get("errors"), None, "{label}: {query}: {answer}");
            let accounts = answer["data"]["topAccounts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let got: Vec<Vec<Value>> = accounts
                .iter()
                .map(|a| {
                    let orders = a["orders"].as_array().cloned().unwrap_or_default();
                    orders.iter().map(|o| o["summary"].clone()).collect()
                })
                .collect();
            assert_eq!(json!(got), expected, "{label}: {query}: {answer}");
            if let Some(typenames) = typenames {
                let key = if query.contains("kind:") {
                    "kind"
                } else {
                    "__typename"
                };
                let got: Vec<&Value> = accounts.iter().map(|a| &a[key]).collect();
                assert_eq!(json!(got), json!(typenames), "{label}: {query}: {answer}");
            }
        }
    }
}

#[tokio::test]
async fn context_on_an_interface_read_from_its_implementations() {
    // Accounts reached as their own types, the orders through the interface object.
    context_interface_object()
        .await
        .assert_query(
            "{ accounts { __typename tier ... on Premium { perks orders { total summary } } \
               ... on Basic { orders { summary } } } }",
            json!({}),
            json!({ "data": { "accounts": [
                { "__typename": "Premium", "tier": "gold", "perks": 3, "orders": [
                    { "total": 20, "summary": "o2 for gold" },
                    { "total": 30, "summary": "o3 for gold" },
                ] },
                { "__typename": "Basic", "tier": "bronze", "orders": [{ "summary": "o1 for bronze" }] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_value_fetched_with_a_client_alias_named_like_the_key() {
    // The client's `id` is the tier; the fetch of the context value must still send the key.
    context_interface_object()
        .await
        .assert_query(
            "{ topAccounts { id: tier key: id orders { summary } } }",
            json!({}),
            json!({ "data": { "topAccounts": [
                { "id": "bronze", "key": "a1", "orders": [{ "summary": "o1 for bronze" }] },
                { "id": "gold", "key": "a2", "orders": [
                    { "summary": "o2 for gold" }, { "summary": "o3 for gold" },
                ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn context_value_from_a_third_subgraph_with_a_client_alias_named_like_the_key() {
    // duty's region comes from regions through the store's key `id`, which the client's alias
    // names the city: one level up, two levels up, and on a venue reached through its interface.
    let parity = context_basic().await;
    parity
        .assert_query(
            "{ stores { id: city aisles { id: name products { duty } } } \
               venues { id: city ... on Market { products { id: upc duty } } } }",
            json!({}),
            json!({ "data": {
                "stores": [
                    { "id": "Paris", "aisles": [{ "id": "garden", "products": [{ "duty": 5 }] }] },
                    { "id": "Austin", "aisles": [{ "id": "lights", "products": [{ "duty": 0 }] }] },
                ],
                "venues": [
                    { "id": "Austin" },
                    { "id": "Leeds", "products": [{ "id": "p2", "duty": 3 }] },
                ],
            } }),
        )
        .await;
    parity
        .assert_query(
            "{ stores { id: city products { duty } } }",
            json!({}),
            json!({ "data": { "stores": [
                { "id": "Paris", "products": [{ "duty": 5 }, { "duty": 5 }] },
                { "id": "Austin", "products": [{ "duty": 0 }, { "duty": 0 }] },
            ] } }),
        )
        .await;
}
