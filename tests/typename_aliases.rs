//! A client may alias any field `__typename` (`{ __typename: name }`) and use keys that start
//! with `seam__`, the prefix of the gateway's own aliases. Fetches need the object's real
//! `__typename` beside client fields (entity jumps, abstract types), so such keys are fetched
//! under an escaped name and must come back to the client unchanged, with every jump below and
//! beside them still working.

mod common;
mod support;

use serde_json::Value;

use common::TestGateway;

fn data(response: &Value) -> &Value {
    assert!(response.get("errors").is_none(), "{response}");
    &response["data"]
}

/// `aliased` answers what `plain` answers, with the keys renamed by `rename` (plain ▶ aliased).
async fn assert_renamed(gw: &TestGateway, plain: &str, aliased: &str, rename: &[(&str, &str)]) {
    let want = data(&gw.query(plain).await).clone();
    let got = data(&gw.query(aliased).await).clone();
    let mut text = want.to_string();
    for (from, to) in rename {
        text = text.replace(&format!("\"{from}\":"), &format!("\"{to}\":"));
    }
    let want: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(got, want, "{aliased}");
}

#[tokio::test]
async fn a_field_aliased_typename_beside_an_entity_jump() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 2) { __typename: name inStock } }")
        .await;
    let list = data(&response)["topProducts"].as_array().expect("list");
    assert_eq!(list.len(), 2, "{response}");
    assert_eq!(list[0]["__typename"], "Product 1", "{response}");
    assert!(list[0]["inStock"].is_boolean(), "{response}");
    assert_renamed(
        &gw,
        "{ topProducts(first: 3) { name inStock } }",
        "{ topProducts(first: 3) { __typename: name inStock } }",
        &[("name", "__typename")],
    )
    .await;
}

#[tokio::test]
async fn entity_jumps_below_a_field_aliased_typename() {
    let gw = TestGateway::demo().await;
    assert_renamed(
        &gw,
        "{ topProducts(first: 3) { name inStock reviews { body author { name } } } }",
        "{ __typename: topProducts(first: 3) { name inStock reviews { body author { name } } } }",
        &[("topProducts", "__typename")],
    )
    .await;
    assert_renamed(
        &gw,
        "{ me { reviews { body product { name inStock } } } }",
        "{ me { __typename: reviews { body product { __typename: name inStock } } } }",
        &[("reviews", "__typename"), ("name", "__typename")],
    )
    .await;
}

#[tokio::test]
async fn the_real_typename_and_an_aliased_one_side_by_side() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query(
            "{ topProducts(first: 1) { __typename: upc kind: __typename inStock \
               reviews { t: __typename __typename: body } } }",
        )
        .await;
    let product = &data(&response)["topProducts"][0];
    assert_eq!(product["__typename"], "1", "{response}");
    assert_eq!(product["kind"], "Product", "{response}");
    assert!(product["inStock"].is_boolean(), "{response}");
    let review = &product["reviews"][0];
    assert_eq!(review["t"], "Review", "{response}");
    assert!(review["__typename"].is_string(), "{response}");
    assert_ne!(review["__typename"], "Review", "{response}");
}

#[tokio::test]
async fn client_keys_with_the_gateways_alias_prefix() {
    let gw = TestGateway::demo().await;
    // `shippingEstimate` requires price and weight: the fetch adds them beside the client's
    // `seam__price` and `seam__weight` keys, which must stay the client's.
    let response = gw
        .query(
            "{ seam__top: topProducts(first: 2) { seam__price: upc seam__weight: name \
               shippingEstimate seam__typename: inStock } }",
        )
        .await;
    let plain = gw
        .query("{ topProducts(first: 2) { upc name shippingEstimate inStock } }")
        .await;
    let got = data(&response)["seam__top"]
        .as_array()
        .expect("list")
        .clone();
    let want = data(&plain)["topProducts"]
        .as_array()
        .expect("list")
        .clone();
    assert_eq!(got.len(), 2, "{response}");
    for (got, want) in got.iter().zip(&want) {
        assert_eq!(got["seam__price"], want["upc"], "{response}");
        assert_eq!(got["seam__weight"], want["name"], "{response}");
        assert_eq!(
            got["shippingEstimate"], want["shippingEstimate"],
            "{response}"
        );
        assert_eq!(got["seam__typename"], want["inStock"], "{response}");
    }
}

#[tokio::test]
async fn a_root_key_with_the_prefix_and_a_typename_alias_below_it() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ seam__me: me { __typename: name reviews { body } } }")
        .await;
    let plain = gw.query("{ me { name reviews { body } } }").await;
    assert_eq!(
        data(&response)["seam__me"]["__typename"],
        data(&plain)["me"]["name"],
        "{response}"
    );
    assert_eq!(
        data(&response)["seam__me"]["reviews"],
        data(&plain)["me"]["reviews"],
        "{response}"
    );
}
