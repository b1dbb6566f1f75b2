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

#[tokio::test]
async fn embedding_builder_gives_a_router() {
    let subgraphs = seam::demo::spawn_subgraphs("127.0.0.1".parse().unwrap())
        .await
        .unwrap();
    let mut yaml = String::from("subgraphs:\n");
    for s in &subgraphs {
        yaml.push_str(&format!("  - name: {}\n    url: {}\n", s.name, s.url));
    }
    let config = seam::config::Config::from_yaml_str(&yaml, std::path::Path::new(".")).unwrap();
    let router = seam::Gateway::builder()
        .config(config)
        .build()
        .await
        .unwrap();
    let addr = common::spawn_router(router).await;
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({ "query": "{ me { username reviews { product { name } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["data"]["me"]["username"], "user1", "{response}");
    assert_eq!(
        response["data"]["me"]["reviews"][0]["product"]["name"],
        "Product 1"
    );

    let nothing = seam::Gateway::builder().build().await;
    assert!(matches!(
        nothing,
        Err(seam::startup::StartupError::NothingToServe)
    ));
}
