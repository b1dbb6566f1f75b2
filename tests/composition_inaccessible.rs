//! `@inaccessible` end to end: Seam composes two subgraphs that hide a type, an input type, a
//! field, an argument, input fields and enum values; clients neither see them in introspection
//! nor may use them, and what stays visible still works across both subgraphs.
//!
//! - `catalog` owns `Product` and `Query.products`; it hides `Product.internalCode`, the
//!   `includeHidden` argument, `ProductFilter.secretFlag` and `.legacy` (of the hidden input type
//!   `LegacyFilter`), the `DRAFT` status and the `AuditEntry` type behind `Query.audit`.
//! - `stock` adds `Product.inStock` and the hidden `Product.stock`.

mod common;
mod support;

use serde_json::{json, Value};

use common::TestGateway;
use support::{representations, scripted};

const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])"#;

fn catalog_sdl() -> String {
    format!(
        r#"{LINK}
        type Query {{
          products(filter: ProductFilter, includeHidden: Boolean @inaccessible): [Product!]!
          audit: [AuditEntry!] @inaccessible
        }}
        type Product @key(fields: "id") {{
          id: ID!
          name: String
          internalCode: String @inaccessible
          status: Status
        }}
        input ProductFilter {{
          name: String
          status: Status
          secretFlag: Boolean @inaccessible
          legacy: LegacyFilter @inaccessible
        }}
        input LegacyFilter @inaccessible {{ code: String }}
        enum Status {{ ACTIVE RETIRED DRAFT @inaccessible }}
        type AuditEntry @inaccessible {{ at: String! }}
        "#
    )
}

fn stock_sdl() -> String {
    format!(
        r#"{LINK}
        type Product @key(fields: "id") {{ id: ID! stock: Int @inaccessible inStock: Boolean }}
        "#
    )
}

async fn gateway() -> TestGateway {
    let catalog = scripted(&catalog_sdl(), |_| {
        json!({ "data": { "products": [
            { "__typename": "Product", "id": "p1", "name": "Lamp", "status": "ACTIVE" },
        ] } })
    });
    let stock = scripted(&stock_sdl(), |request| {
        let entities: Vec<Value> = representations(request)
            .iter()
            .map(|_| json!({ "__typename": "Product", "inStock": true }))
            .collect();
        json!({ "data": { "_entities": entities } })
    });
    TestGateway::compose(vec![("catalog", catalog), ("stock", stock)]).await
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item["name"].as_str().expect("name"))
        .collect()
}

#[tokio::test]
async fn introspection_shows_no_inaccessible_element() {
    let gw = gateway().await;
    let response = gw
        .query(
            r#"{
              query: __type(name: "Query") { fields { name args { name } } }
              product: __type(name: "Product") { fields { name } }
              filter: __type(name: "ProductFilter") { inputFields { name } }
              status: __type(name: "Status") { enumValues { name } }
              legacy: __type(name: "LegacyFilter") { name }
              audit: __type(name: "AuditEntry") { name }
            }"#,
        )
        .await;
    let data = &response["data"];
    assert_eq!(names(&data["query"]["fields"]), ["products"], "{response}");
    assert_eq!(
        names(&data["query"]["fields"][0]["args"]),
        ["filter"],
        "{response}"
    );
    assert_eq!(
        names(&data["product"]["fields"]),
        ["id", "name", "status", "inStock"],
        "{response}"
    );
    assert_eq!(
        names(&data["filter"]["inputFields"]),
        ["name", "status"],
        "{response}"
    );
    assert_eq!(
        names(&data["status"]["enumValues"]),
        ["ACTIVE", "RETIRED"],
        "{response}"
    );
    assert_eq!(data["legacy"], Value::Null, "{response}");
    assert_eq!(data["audit"], Value::Null, "{response}");
    assert_eq!(gw.total_requests(), 0);
}

#[tokio::test]
async fn operations_using_inaccessible_elements_are_refused_before_any_fetch() {
    let gw = gateway().await;
    for query in [
        "{ products { internalCode } }",
        "{ products { stock } }",
        "{ products(includeHidden: true) { id } }",
        "{ products(filter: { secretFlag: true }) { id } }",
        r#"{ products(filter: { legacy: { code: "x" } }) { id } }"#,
        "{ products(filter: { status: DRAFT }) { id } }",
        "{ audit { at } }",
    ] {
        let response = gw.query(query).await;
        assert_eq!(response["data"], Value::Null, "{query}: {response}");
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query}: {response}"
        );
    }
    assert_eq!(gw.total_requests(), 0);
}

#[tokio::test]
async fn visible_fields_still_resolve_across_both_subgraphs() {
    let gw = gateway().await;
    let response = gw
        .query(r#"{ products(filter: { name: "La", status: ACTIVE }) { id name status inStock } }"#)
        .await;
    assert_eq!(
        response,
        json!({ "data": { "products": [
            { "id": "p1", "name": "Lamp", "status": "ACTIVE", "inStock": true },
        ] } })
    );
    let to_catalog = gw.requests_to("catalog");
    assert_eq!(to_catalog.len(), 1, "{to_catalog:?}");
    assert!(
        to_catalog[0].to_string().contains("ACTIVE"),
        "the filter reaches catalog: {to_catalog:?}"
    );
    let to_stock = gw.requests_to("stock");
    assert_eq!(
        representations(&to_stock[0]),
        [json!({ "__typename": "Product", "id": "p1" })]
    );
}
