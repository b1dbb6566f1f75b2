//! Executable directives: a directive every subgraph defines for clients (`directive @lowercase
//! on FIELD`) reaches the API schema, and the gateway passes it on with the field to the subgraph
//! that resolves it — and with the operation to every fetch. A directive only some subgraphs
//! define is not composed, and one on a fragment or a variable definition is refused rather than
//! dropped.
//!
//! products owns Product (`id`, `name`) and lists them; reviews adds `reviews` to Product by
//! `id`. Both are async-graphql servers that apply `@lowercase` to a field's string value;
//! products also defines `@shout`, which reviews does not.

mod common;
mod support;

use async_graphql::{
    ComplexObject, Context, CustomDirective, Directive, EmptyMutation, EmptySubscription, Object,
    ResolveFut, Schema, ServerResult, SimpleObject, Value as GqlValue, ID,
};
use serde_json::{json, Value};

use common::TestGateway;

/// A directive that maps a field's string value (async-graphql applies it where the field is
/// resolved, so it shows which subgraph got the directive).
struct MapString(fn(&str) -> String);

#[async_trait::async_trait]
impl CustomDirective for MapString {
    async fn resolve_field(
        &self,
        _ctx: &Context<'_>,
        resolve: ResolveFut<'_>,
    ) -> ServerResult<Option<GqlValue>> {
        Ok(resolve.await?.map(|value| match value {
            GqlValue::String(s) => GqlValue::String((self.0)(&s)),
            other => other,
        }))
    }
}

#[Directive(location = "Field")]
fn lowercase() -> impl CustomDirective {
    MapString(str::to_lowercase)
}

#[Directive(location = "Field")]
fn shout() -> impl CustomDirective {
    MapString(str::to_uppercase)
}

#[derive(SimpleObject, Clone)]
struct Product {
    id: ID,
    name: String,
}

fn products() -> Vec<Product> {
    vec![
        Product {
            id: ID::from("P1"),
            name: "Oak TABLE".into(),
        },
        Product {
            id: ID::from("P2"),
            name: "Red CHAIR".into(),
        },
    ]
}

struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn products(&self) -> Vec<Product> {
        products()
    }

    #[graphql(entity)]
    async fn product_by_id(&self, id: ID) -> Option<Product> {
        products().into_iter().find(|p| p.id == id)
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct ReviewedProduct {
    id: ID,
}

#[ComplexObject]
impl ReviewedProduct {
    /// Reviews of the product with exactly this id: a key sent lowercased finds none.
    async fn reviews(&self) -> Vec<Review> {
        match self.id.as_str() {
            "P1" => vec![Review {
                body: "Sturdy AND Solid".into(),
            }],
            "P2" => vec![Review {
                body: "WOBBLY".into(),
            }],
            _ => Vec::new(),
        }
    }
}

#[derive(SimpleObject)]
struct Review {
    body: String,
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    #[graphql(entity)]
    async fn find_product(&self, id: ID) -> ReviewedProduct {
        ReviewedProduct { id }
    }
}

async fn gateway() -> TestGateway {
    let products = Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .directive(lowercase)
        .directive(shout)
        .finish();
    let reviews = Schema::build(ReviewsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .directive(lowercase)
        .finish();
    TestGateway::compose(vec![
        ("products", support::graphql_router(products)),
        ("reviews", support::graphql_router(reviews)),
    ])
    .await
}

fn assert_refused(query: &str, answer: &Value, mention: &str) {
    assert!(
        answer.get("data").is_none_or(Value::is_null),
        "{query}: {answer}"
    );
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{query}: {answer}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(mention)),
        "{query}: {answer}"
    );
}

#[tokio::test]
async fn a_directive_every_subgraph_defines_reaches_the_subgraph_resolving_the_field() {
    let gateway = gateway().await;
    let cases = [
        // On a root fetch's field and on an entity fetch's field.
        (
            "{ products { name @lowercase reviews { body @lowercase } } }",
            json!({ "products": [
                { "name": "oak table", "reviews": [{ "body": "sturdy and solid" }] },
                { "name": "red chair", "reviews": [{ "body": "wobbly" }] },
            ] }),
        ),
        // Only where the client wrote it, under an alias beside the plain field.
        (
            "{ products { name low: name @lowercase reviews { body } } }",
            json!({ "products": [
                { "name": "Oak TABLE", "low": "oak table", "reviews": [{ "body": "Sturdy AND Solid" }] },
                { "name": "Red CHAIR", "low": "red chair", "reviews": [{ "body": "WOBBLY" }] },
            ] }),
        ),
        // Through named and inline fragments.
        (
            "query { products { ...P } } fragment P on Product { ... on Product { name @lowercase } }",
            json!({ "products": [{ "name": "oak table" }, { "name": "red chair" }] }),
        ),
    ];
    for (query, data) in cases {
        let answer = gateway.query(query).await;
        assert_eq!(answer, json!({ "data": data }), "{query}");
    }
}

/// The client's `id @lowercase` answers lowercased, but the key the planner sends to reviews is
/// the product's own `id`: with the client's value, reviews would find no product.
#[tokio::test]
async fn a_key_field_the_client_transforms_is_fetched_apart_for_the_representations() {
    let gateway = gateway().await;
    let query = "{ products { id @lowercase reviews { body } } }";
    let answer = gateway.query(query).await;
    assert_eq!(
        answer,
        json!({ "data": { "products": [
            { "id": "p1", "reviews": [{ "body": "Sturdy AND Solid" }] },
            { "id": "p2", "reviews": [{ "body": "WOBBLY" }] },
        ] } }),
        "{query}"
    );
    let sent = gateway.requests_to("reviews");
    assert_eq!(
        sent[0]["variables"]["representations"],
        json!([
            { "__typename": "Product", "id": "P1" },
            { "__typename": "Product", "id": "P2" },
        ]),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_directive_only_some_subgraphs_define_is_not_in_the_api_schema() {
    let gateway = gateway().await;
    let answer = gateway.query("{ products { name @shout } }").await;
    assert_refused("@shout", &answer, "shout");
    assert_eq!(gateway.total_requests(), 0, "nothing reaches a subgraph");
    let listed = gateway
        .query("{ __schema { directives { name locations args { name } } } }")
        .await;
    let directives = listed["data"]["__schema"]["directives"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        directives.contains(&json!({ "name": "lowercase", "locations": ["FIELD"], "args": [] })),
        "{listed}"
    );
    assert!(!directives.iter().any(|d| d["name"] == "shout"), "{listed}");
}

/// Subgraph SDLs with directives on other executable locations, composed by Seam.
fn supergraph(sdls: &[(&str, &str)]) -> seam::supergraph::Supergraph {
    seam::supergraph::Supergraph::parse(&composed(sdls)).unwrap_or_else(|e| panic!("parses: {e}"))
}

fn composed(sdls: &[(&str, &str)]) -> String {
    let sdls: Vec<seam::sources::SubgraphSdl> = sdls
        .iter()
        .map(|(name, sdl)| seam::sources::SubgraphSdl {
            name: (*name).into(),
            url: Some(format!("http://127.0.0.1:9/{name}")),
            sdl: (*sdl).into(),
            ..Default::default()
        })
        .collect();
    seam::compose::compose(&sdls).unwrap_or_else(|e| panic!("composes: {e}"))
}

const CATALOG: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
"Caches the answer."
directive @cached(ttl: Int!, scope: String) on QUERY | FIELD | INLINE_FRAGMENT | OBJECT
directive @trace repeatable on QUERY | MUTATION | FIELD
directive @mark on FIELD | INLINE_FRAGMENT | FRAGMENT_SPREAD | FRAGMENT_DEFINITION | VARIABLE_DEFINITION
directive @audit on MUTATION
type Query { products: [Product] }
type Mutation { touch: Product }
type Product @key(fields: "id") { id: ID! name: String }
"#;

const STOCK: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
directive @cached(ttl: Int!, region: String) on QUERY | FIELD | FRAGMENT_SPREAD
directive @trace on QUERY | FIELD
directive @mark on FIELD | INLINE_FRAGMENT | FRAGMENT_SPREAD | FRAGMENT_DEFINITION | VARIABLE_DEFINITION
directive @audit on MUTATION
type Product @key(fields: "id") { id: ID! stock: Int }
"#;

#[test]
fn composition_keeps_the_shared_locations_arguments_and_repeatability() {
    let supergraph = supergraph(&[("catalog", CATALOG), ("stock", STOCK)]);
    let api = &supergraph.api_schema;
    let cached = &api.directive_definitions["cached"];
    assert_eq!(cached.description.as_deref(), Some("Caches the answer."));
    assert!(
        cached
            .to_string()
            .ends_with("directive @cached(ttl: Int!) on QUERY | FIELD"),
        "{cached}"
    );
    let trace = &api.directive_definitions["trace"];
    assert!(
        !trace.repeatable,
        "repeatable only where every subgraph says so"
    );
    // A required argument some subgraph lacks cannot compose.
    let missing = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
directive @cached(scope: String) on QUERY | FIELD
type Product @key(fields: "id") { id: ID! stock: Int }
"#;
    let sdls: Vec<seam::sources::SubgraphSdl> = [("catalog", CATALOG), ("stock", missing)]
        .iter()
        .map(|(name, sdl)| seam::sources::SubgraphSdl {
            name: (*name).into(),
            url: Some(format!("http://127.0.0.1:9/{name}")),
            sdl: (*sdl).into(),
            ..Default::default()
        })
        .collect();
    let errors = seam::compose::compose(&sdls).expect_err("a required argument is missing");
    assert!(
        errors
            .to_string()
            .contains("REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"),
        "{errors}"
    );
}

/// A subgraph that answers `body` without reading the operation: what is checked is what it is
/// sent.
fn answering(body: Value) -> axum::Router {
    axum::Router::new().route(
        "/graphql",
        axum::routing::post(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    )
}

/// catalog and stock composed from the SDLs above, catalog answering `catalog_answer` and stock
/// one product with its stock.
async fn answering_gateway(catalog_answer: Value) -> TestGateway {
    let sdl = composed(&[("catalog", CATALOG), ("stock", STOCK)]);
    let catalog = answering(catalog_answer);
    let stock = answering(json!({ "data": { "_entities": [{ "stock": 3 }] } }));
    TestGateway::supergraph(&sdl, vec![("catalog", catalog), ("stock", stock)]).await
}

/// Operation directives go with every fetch, root and entity, with the variables they use; field
/// directives only with their field.
#[tokio::test]
async fn operation_directives_go_with_every_fetch_with_their_variables() {
    let gateway =
        answering_gateway(json!({ "data": { "products": [{ "name": "Desk", "id": "1" }] } })).await;
    let answer = gateway
        .query_with(
            "query Q($ttl: Int!, $t: Int = 5) @cached(ttl: $ttl) @trace { products { name @cached(ttl: $t) stock } }",
            json!({ "ttl": 60 }),
        )
        .await;
    let root = gateway.requests_to("catalog");
    assert_eq!(root.len(), 1, "{answer}");
    assert_eq!(
        root[0]["query"],
        "query($t:Int=5,$ttl:Int!) @cached(ttl: $ttl) @trace{products{name @cached(ttl: $t) id}}",
        "{root:?}"
    );
    assert_eq!(
        root[0]["variables"],
        json!({ "ttl": 60, "t": 5 }),
        "{root:?}"
    );
    let entities = gateway.requests_to("stock");
    assert_eq!(
        answer,
        json!({ "data": { "products": [{ "name": "Desk", "stock": 3 }] } })
    );
    assert_eq!(
        entities[0]["query"],
        "query($representations:[_Any!]!,$ttl:Int!) @cached(ttl: $ttl) @trace{_entities(representations:$representations){...on Product{stock}}}",
        "{entities:?}"
    );
}

/// An entity fetch is a `query` whatever the operation: it carries only the operation
/// directives a query may have, so `mutation @audit` (`on MUTATION`) reaches the mutation's root
/// fetch and not the entity fetch, which the subgraph would refuse.
#[tokio::test]
async fn an_entity_fetch_carries_only_the_operation_directives_a_query_may_have() {
    let gateway =
        answering_gateway(json!({ "data": { "touch": { "name": "Desk", "id": "1" } } })).await;
    let answer = gateway
        .query("mutation @audit { touch { name stock } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "touch": { "name": "Desk", "stock": 3 } } })
    );
    let root = gateway.requests_to("catalog");
    assert_eq!(
        root[0]["query"], "mutation @audit{touch{name id}}",
        "{root:?}"
    );
    let entities = gateway.requests_to("stock");
    assert_eq!(
        entities[0]["query"],
        "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{stock}}}",
        "{entities:?}"
    );
}

#[tokio::test]
async fn a_directive_on_a_fragment_or_a_variable_definition_is_refused_not_dropped() {
    let sdl = composed(&[("catalog", CATALOG), ("stock", STOCK)]);
    let gateway = TestGateway::supergraph(&sdl, vec![("catalog", axum::Router::new())]).await;
    for (query, place) in [
        (
            "{ products { ... on Product @mark { name } } }",
            "an inline fragment",
        ),
        (
            "query { products { ...F @mark } } fragment F on Product { name }",
            "a fragment spread",
        ),
        (
            "query { products { ...F } } fragment F on Product @mark { name }",
            "a fragment definition",
        ),
        (
            "query($n: Boolean = true @mark) { products { name @include(if: $n) } }",
            "a variable definition",
        ),
    ] {
        let answer = gateway.query(query).await;
        assert_refused(query, &answer, place);
    }
    assert_eq!(gateway.total_requests(), 0, "nothing reaches a subgraph");
}
