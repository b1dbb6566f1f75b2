mod common;

use common::TestGateway;

#[tokio::test]
async fn demo_query_spans_all_four_subgraphs() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 1) { name shippingEstimate reviews { author { name } } } }")
        .await;
    assert_eq!(
        response["data"]["topProducts"][0]["name"], "Product 1",
        "{response}"
    );
    assert_eq!(response["data"]["topProducts"][0]["shippingEstimate"], 190);
    assert_eq!(
        response["data"]["topProducts"][0]["reviews"][0]["author"]["name"],
        "Ada Lovelace"
    );
    for name in ["products", "inventory", "reviews", "accounts"] {
        assert_eq!(gw.requests_to(name).len(), 1, "{name} called once");
    }
}
