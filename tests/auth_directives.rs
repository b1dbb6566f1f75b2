//! `@authenticated`, `@requiresScopes` and `@policy` on fields, on types and through interfaces,
//! enforced over real subgraphs, for the supergraphs Seam, Apollo and Hive composed: what the
//! request may not see is never asked of a subgraph, answers null with an
//! `UNAUTHORIZED_FIELD_OR_TYPE` error at its path, and nulls its parent when non-null; with
//! `auth.reject_unauthorized` the whole request is refused instead.

mod auth_support;
mod common;
mod support;

use serde_json::{json, Value};

use auth_support::bearer;
use common::{scenario_dir, Parity, TestGateway};
use support::fixture::FixtureSubgraph;

const AUTH: &str = "auth:
  jwt:
    jwks:
      - file: tests/fixtures/auth/jwks.json
    issuers: [https://issuer.test]
    audiences: [seam]
  policies:
    hr:
      claims:
        department: hr
";

async fn scenario(extra: &str) -> Parity {
    let dir = scenario_dir("auth_directives");
    Parity::start_with(
        "auth_directives",
        vec![
            ("accounts", FixtureSubgraph::load(&dir, "accounts").router()),
            ("orders", FixtureSubgraph::load(&dir, "orders").router()),
        ],
        &format!("{AUTH}{extra}"),
    )
    .await
}

/// Every gateway's status and answer to `query`, sent with `authorization` when given.
async fn answers(
    parity: &Parity,
    authorization: Option<&str>,
    query: &str,
    variables: Value,
) -> Vec<(&'static str, reqwest::StatusCode, Value)> {
    let mut out = Vec::new();
    for (label, gateway) in &parity.gateways {
        let mut request = gateway
            .client
            .post(&gateway.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("gateway reachable");
        let status = response.status();
        let body = response.json::<Value>().await.expect("JSON answer");
        out.push((*label, status, body));
    }
    out
}

async fn assert_answer(
    parity: &Parity,
    authorization: Option<&str>,
    query: &str,
    variables: Value,
    expected: Value,
) {
    for (label, _, answer) in answers(parity, authorization, query, variables).await {
        assert_eq!(
            answer, expected,
            "{label} answered {query} ({authorization:?}) wrongly"
        );
    }
}

fn unauthorized(path: Value) -> Value {
    json!({
        "message": "Unauthorized field or type",
        "path": path,
        "extensions": { "code": "UNAUTHORIZED_FIELD_OR_TYPE" },
    })
}

/// Whether any request a subgraph received names `word` (a whole word) in its query.
fn asked(parity: &Parity, subgraph: &str, word: &str) -> bool {
    let word = regex::Regex::new(&format!(r"\b{}\b", regex::escape(word))).expect("regex");
    parity
        .requests_to(subgraph)
        .iter()
        .any(|request| word.is_match(request["query"].as_str().unwrap_or("")))
}

#[tokio::test]
async fn anonymous_requests_get_null_and_an_error_for_each_protected_field() {
    let parity = scenario("").await;
    assert_answer(
        &parity,
        None,
        "{ motd me { name } users { id name email } }",
        json!({}),
        json!({
            "data": {
                "motd": "hello",
                "me": null,
                "users": [
                    { "id": "1", "name": "Ada", "email": null },
                    { "id": "2", "name": "Alan", "email": null },
                ],
            },
            "errors": [
                unauthorized(json!(["me"])),
                unauthorized(json!(["users", 0, "email"])),
                unauthorized(json!(["users", 1, "email"])),
            ],
        }),
    )
    .await;
    assert!(!asked(&parity, "accounts", "email"), "email was fetched");
    assert!(!asked(&parity, "accounts", "me"), "me was fetched");
    assert!(asked(&parity, "accounts", "motd"));
}

#[tokio::test]
async fn scopes_open_the_fields_that_name_them_and_a_missing_one_nulls_a_non_null_parent() {
    let parity = scenario("").await;
    // A space-separated `scope` with both scopes: everything.
    let both = bearer("rsa-1", json!({ "scope": "read:email read:orders" }));
    assert_answer(
        &parity,
        Some(&both),
        "{ users { name email orders { total } } }",
        json!({}),
        json!({ "data": { "users": [
            { "name": "Ada", "email": "ada@example.com", "orders": [{ "total": 10 }, { "total": 20 }] },
            { "name": "Alan", "email": "alan@example.com", "orders": [] },
        ] } }),
    )
    .await;
    parity.clear_requests();
    // A list `scope` with `admin` only: email (either alternative) but not the non-null
    // `orders`, which nulls each user; the orders subgraph is not called at all.
    let admin = bearer("ec-1", json!({ "scope": ["admin"] }));
    assert_answer(
        &parity,
        Some(&admin),
        "{ users { name email orders { total } } }",
        json!({}),
        json!({
            "data": { "users": [null, null] },
            "errors": [
                unauthorized(json!(["users", 0, "orders"])),
                unauthorized(json!(["users", 1, "orders"])),
            ],
        }),
    )
    .await;
    assert!(parity.requests_to("orders").is_empty());
    // The other field of the orders subgraph is still fetched, without `orders`.
    assert_answer(
        &parity,
        Some(&admin),
        "{ users { orderCount } }",
        json!({}),
        json!({ "data": { "users": [{ "orderCount": 2 }, { "orderCount": 0 }] } }),
    )
    .await;
    assert!(asked(&parity, "orders", "orderCount"));
    assert!(!asked(&parity, "orders", "orders"));
}

#[tokio::test]
async fn policies_are_granted_by_matching_claims() {
    let parity = scenario("").await;
    let hr = bearer("ed-1", json!({ "department": "hr" }));
    assert_answer(
        &parity,
        Some(&hr),
        "{ me { ssn } users { ssn } }",
        json!({}),
        json!({ "data": { "me": { "ssn": "111" }, "users": [{ "ssn": "111" }, { "ssn": "222" }] } }),
    )
    .await;
    parity.clear_requests();
    let sales = bearer("ed-1", json!({ "department": "sales" }));
    assert_answer(
        &parity,
        Some(&sales),
        "{ me { name ssn } users { id ssn } }",
        json!({}),
        json!({
            "data": { "me": null, "users": [null, null] },
            "errors": [
                unauthorized(json!(["me", "ssn"])),
                unauthorized(json!(["users", 0, "ssn"])),
                unauthorized(json!(["users", 1, "ssn"])),
            ],
        }),
    )
    .await;
    assert!(!asked(&parity, "accounts", "ssn"));
}

#[tokio::test]
async fn a_protected_type_is_protected_wherever_it_is_returned() {
    let parity = scenario("").await;
    assert_answer(
        &parity,
        None,
        "{ users { name internal { code } } }",
        json!({}),
        json!({
            "data": { "users": [
                { "name": "Ada", "internal": null },
                { "name": "Alan", "internal": null },
            ] },
            "errors": [
                unauthorized(json!(["users", 0, "internal"])),
                unauthorized(json!(["users", 1, "internal"])),
            ],
        }),
    )
    .await;
    assert!(!asked(&parity, "accounts", "code"));
    let anyone = bearer("rsa-1-pss", json!({}));
    assert_answer(
        &parity,
        Some(&anyone),
        "{ users { internal { code } } }",
        json!({}),
        json!({ "data": { "users": [
            { "internal": { "code": "A-1" } },
            { "internal": { "code": "A-2" } },
        ] } }),
    )
    .await;
}

#[tokio::test]
async fn interfaces_ask_what_their_implementations_ask() {
    let parity = scenario("").await;
    // `Secret` needs a scope, so the `Item` interface does: the whole list is withheld.
    assert_answer(
        &parity,
        Some(&bearer("rsa-1", json!({}))),
        "{ motd items { id ... on Book { title } } }",
        json!({}),
        json!({
            "data": { "motd": "hello", "items": null },
            "errors": [unauthorized(json!(["items"]))],
        }),
    )
    .await;
    assert!(!asked(&parity, "accounts", "items"));
    assert_answer(
        &parity,
        Some(&bearer("rsa-1", json!({ "scope": "secrets" }))),
        "{ items { id title } }",
        json!({}),
        json!({ "data": { "items": [
            { "id": "b1", "title": "Dune" },
            { "id": "s1", "title": "Plans" },
        ] } }),
    )
    .await;
    // `Film.rating` needs a token, so `Media.rating` does for every member; asked on `Song`
    // alone, it is public.
    assert_answer(
        &parity,
        None,
        "{ media { id rating } }",
        json!({}),
        json!({
            "data": { "media": [
                { "id": "f1", "rating": null },
                { "id": "s1", "rating": null },
            ] },
            "errors": [
                unauthorized(json!(["media", 0, "rating"])),
                unauthorized(json!(["media", 1, "rating"])),
            ],
        }),
    )
    .await;
    assert_answer(
        &parity,
        None,
        "{ media { __typename id ... on Song { rating } } }",
        json!({}),
        json!({ "data": { "media": [
            { "__typename": "Film", "id": "f1" },
            { "__typename": "Song", "id": "s1", "rating": 3 },
        ] } }),
    )
    .await;
}

#[tokio::test]
async fn aliases_named_fragments_and_variables_keep_client_paths() {
    let parity = scenario("").await;
    let query = "query($mail: Boolean = true) { people: users { ...Card } }
        fragment Card on User { nick: name contact: email @include(if: $mail) }";
    assert_answer(
        &parity,
        None,
        query,
        json!({}),
        json!({
            "data": { "people": [
                { "nick": "Ada", "contact": null },
                { "nick": "Alan", "contact": null },
            ] },
            "errors": [
                unauthorized(json!(["people", 0, "contact"])),
                unauthorized(json!(["people", 1, "contact"])),
            ],
        }),
    )
    .await;
    // Skipped, the protected field is not asked for: no error.
    assert_answer(
        &parity,
        None,
        query,
        json!({ "mail": false }),
        json!({ "data": { "people": [{ "nick": "Ada" }, { "nick": "Alan" }] } }),
    )
    .await;
    // Every field of a selection withheld: the parent is still there, its fields null.
    assert_answer(
        &parity,
        None,
        "{ users { ... on User { email } } }",
        json!({}),
        json!({
            "data": { "users": [{ "email": null }, { "email": null }] },
            "errors": [
                unauthorized(json!(["users", 0, "email"])),
                unauthorized(json!(["users", 1, "email"])),
            ],
        }),
    )
    .await;
}

#[tokio::test]
async fn a_plan_filtered_for_one_request_never_serves_another() {
    let parity = scenario("").await;
    let query = "{ users { email } }";
    let hidden = json!({
        "data": { "users": [{ "email": null }, { "email": null }] },
        "errors": [
            unauthorized(json!(["users", 0, "email"])),
            unauthorized(json!(["users", 1, "email"])),
        ],
    });
    let shown = json!({ "data": { "users": [
        { "email": "ada@example.com" },
        { "email": "alan@example.com" },
    ] } });
    let reader = bearer("rsa-1", json!({ "scope": "read:email" }));
    let other = bearer("rsa-1", json!({ "scope": "unrelated" }));
    assert_answer(&parity, None, query, json!({}), hidden.clone()).await;
    assert_answer(&parity, Some(&reader), query, json!({}), shown.clone()).await;
    assert_answer(&parity, Some(&other), query, json!({}), hidden.clone()).await;
    assert_answer(&parity, None, query, json!({}), hidden).await;
    assert_answer(&parity, Some(&reader), query, json!({}), shown).await;
}

#[tokio::test]
async fn reject_unauthorized_refuses_the_whole_request() {
    let parity = scenario("  reject_unauthorized: true\n").await;
    for (label, status, answer) in answers(
        &parity,
        None,
        "{ motd users { name email } me { name } }",
        json!({}),
    )
    .await
    {
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{label}: {answer}");
        assert_eq!(
            answer,
            json!({ "errors": [
                unauthorized(json!(["users", "email"])),
                unauthorized(json!(["me"])),
            ] }),
            "{label}"
        );
    }
    assert!(parity.requests_to("accounts").is_empty());
    assert_answer(
        &parity,
        Some(&bearer("rsa-1", json!({ "scope": "read:email" }))),
        "{ users { email } }",
        json!({}),
        json!({ "data": { "users": [
            { "email": "ada@example.com" },
            { "email": "alan@example.com" },
        ] } }),
    )
    .await;
}

#[tokio::test]
async fn an_invalid_token_is_refused_with_401_whatever_it_asks() {
    let parity = scenario("").await;
    let expired = format!(
        "Bearer {}",
        auth_support::token(
            "rsa-1",
            &auth_support::claims(json!({ "exp": auth_support::now() - 3600 })),
        )
    );
    for (label, status, answer) in answers(&parity, Some(&expired), "{ motd }", json!({})).await {
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(answer.get("data").is_none(), "{label}: {answer}");
    }
    assert!(parity.requests_to("accounts").is_empty());
}

/// `@requiresScopes(scopes:)` and `@policy(policies:)` are `[[…]]`, but GraphQL's list coercion
/// lets a subgraph write one level less: `["a", "b"]` is `[["a"], ["b"]]` (a or b) and `"a"` is
/// `[["a"]]`. Each form must protect its field, in a supergraph Seam composes and in one
/// composed elsewhere that kept the short form.
#[tokio::test]
async fn scopes_and_policies_written_without_the_inner_list_still_protect() {
    let sdl = r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@policy"])
        type Query {
          open: String
          one: String @requiresScopes(scopes: ["admin"])
          either: String @requiresScopes(scopes: ["admin", "ops"])
          bare: String @requiresScopes(scopes: "admin")
          policed: String @policy(policies: ["hr"])
        }
    "#;
    let data = json!({ "Query": {
        "open": "o", "one": "1", "either": "e", "bare": "b", "policed": "p",
    } });
    let query = "{ open one either bare policed }";
    let composed = seam::compose::compose(&[seam::sources::SubgraphSdl {
        name: "s".into(),
        url: Some("http://127.0.0.1:1/graphql".into()),
        sdl: sdl.into(),
        ..Default::default()
    }])
    .expect("composes");
    // Seam's composition keeps each short form as written; a supergraph file from elsewhere
    // gets the other short forms, so between the two gateways every form is served.
    let swap = |text: String, from: &str, to: &str| {
        assert!(text.contains(from), "{from} not in {text}");
        text.replace(from, to)
    };
    let external = swap(composed.clone(), r#"(scopes: ["admin"])"#, "(scopes: ONE)");
    let external = swap(external, r#"(scopes: "admin")"#, r#"(scopes: ["admin"])"#);
    let external = swap(external, "(scopes: ONE)", r#"(scopes: "admin")"#);
    let external = swap(external, r#"(policies: ["hr"])"#, r#"(policies: "hr")"#);
    let external = swap(
        external,
        r#"(scopes: ["admin", "ops"])"#,
        r#"(scopes: [["admin"], "ops"])"#,
    );
    let gateways = [
        TestGateway::compose_with_config(
            vec![("s", FixtureSubgraph::new(sdl).data(data.clone()).router())],
            "",
            AUTH,
        )
        .await,
        TestGateway::supergraph_with_config(
            &external,
            vec![("s", FixtureSubgraph::new(sdl).data(data.clone()).router())],
            AUTH,
        )
        .await,
    ];
    for (which, gateway) in ["composed", "external"].iter().zip(&gateways) {
        let ask = |authorization: Option<String>| {
            let mut request = gateway
                .client
                .post(&gateway.url)
                .json(&json!({ "query": query }));
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            async move {
                let response = request.send().await.expect("gateway reachable");
                response.json::<Value>().await.expect("JSON answer")
            }
        };
        let anonymous = ask(None).await;
        assert_eq!(
            anonymous,
            json!({
                "data": { "open": "o", "one": null, "either": null, "bare": null, "policed": null },
                "errors": [
                    unauthorized(json!(["one"])),
                    unauthorized(json!(["either"])),
                    unauthorized(json!(["bare"])),
                    unauthorized(json!(["policed"])),
                ],
            }),
            "{which}"
        );
        let ops = ask(Some(bearer("rsa-1", json!({ "scope": "ops" })))).await;
        assert_eq!(
            ops["data"],
            json!({ "open": "o", "one": null, "either": "e", "bare": null, "policed": null }),
            "{which}: {ops}"
        );
        let admin_hr = ask(Some(bearer(
            "rsa-1",
            json!({ "scope": "admin", "department": "hr" }),
        )))
        .await;
        assert_eq!(
            admin_hr,
            json!({ "data": { "open": "o", "one": "1", "either": "e", "bare": "b", "policed": "p" } }),
            "{which}"
        );
    }
}
