//! Requests the gateway must refuse before any subgraph is called: each case checks the status
//! code, the error code, that the body has no `data`, and that no subgraph received a request.

mod common;

use common::TestGateway;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// What the gateway answered: status, response content type and parsed body.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("gateway reachable");
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("gateway answered non-JSON ({e}) with {status}: {text}"));
    Answer {
        status,
        content_type,
        body,
    }
}

/// POSTs raw bytes as `application/json`, accepting only `application/json`.
async fn post_raw(gw: &TestGateway, body: impl Into<reqwest::Body>) -> Answer {
    send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body),
    )
    .await
}

async fn post_json(gw: &TestGateway, body: Value) -> Answer {
    post_raw(gw, body.to_string()).await
}

/// GETs with `apollo-require-preflight`, as a client must for CSRF prevention to let it by.
async fn get(gw: &TestGateway, params: &[(&str, &str)]) -> Answer {
    send(
        gw.client
            .get(&gw.url)
            .header(ACCEPT, "application/json")
            .header("apollo-require-preflight", "true")
            .query(params),
    )
    .await
}

/// A request error: the status, the code of the first error, no `data`, no subgraph called.
fn assert_request_error(gw: &TestGateway, answer: &Answer, status: StatusCode, code: &str) {
    let body = &answer.body;
    assert_eq!(answer.status, status, "status; body: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], code,
        "error code; body: {body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "the error has a message: {body}");
    assert!(
        body.get("data").is_none(),
        "a request error has no `data` key: {body}"
    );
    assert_eq!(gw.total_requests(), 0, "no subgraph is called: {body}");
}

fn message(answer: &Answer) -> String {
    answer.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn malformed_json_body_is_a_bad_request() {
    let gw = TestGateway::demo().await;
    let answer = post_raw(&gw, r#"{"query": "{ topProducts { name } }""#).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(answer.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn body_that_is_not_an_object_is_a_bad_request() {
    let gw = TestGateway::demo().await;
    let answer = post_raw(&gw, r#"["{ topProducts { name } }"]"#).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

#[tokio::test]
async fn body_without_query_is_refused() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "variables": {} })).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "MISSING_QUERY");
}

#[tokio::test]
async fn null_query_is_refused() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": null })).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "MISSING_QUERY");
}

#[tokio::test]
async fn query_of_the_wrong_json_type_is_a_bad_request() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": 42 })).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    let answer = post_json(
        &gw,
        json!({ "query": "{ topProducts { name } }", "variables": [1] }),
    )
    .await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

#[tokio::test]
async fn syntax_error_is_a_parse_failure() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": "{ topProducts { name }" })).await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_PARSE_FAILED");
    let locations = &answer.body["errors"][0]["locations"];
    assert!(
        locations[0]["line"].is_u64(),
        "a parse error points at its place: {}",
        answer.body
    );
}

#[tokio::test]
async fn unknown_field_fails_validation() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": "{ topProducts { name nope } }" })).await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
    assert!(message(&answer).contains("nope"), "{}", answer.body);
}

/// Valid JSON that Seam cannot take is not called malformed: the message names the cause.
#[tokio::test]
async fn valid_json_refused_for_a_reason_says_which() {
    let gw = TestGateway::demo().await;
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let cases = [
        (
            format!(
                r#"{{"query": "query($v: Int) {{ topProducts(first: $v) {{ name }} }}", "variables": {{"v": {deep}}}}}"#
            ),
            "nested deeper",
        ),
        (
            r#"{"query": "query($v: Int) { topProducts(first: $v) { name } }", "variables": {"v": 1e400}}"#
                .to_owned(),
            "too large",
        ),
        (
            r#"{"query": "{ topProducts { name } }", "query": "{ topProducts { upc } }"}"#
                .to_owned(),
            "given twice",
        ),
    ];
    for (body, says) in cases {
        let answer = post_raw(&gw, body).await;
        // A body error is 400; a declared variable's value is refused like any variable (200
        // under application/json).
        assert!(answer.body.get("data").is_none(), "{}", answer.body);
        assert_eq!(gw.total_requests(), 0);
        let message = message(&answer);
        assert!(
            message.contains(says) && !message.contains("malformed"),
            "{says}: {message}"
        );
    }
}

/// A GET whose query string decodes to bytes that are not UTF-8 is refused, not run with
/// replacement characters in place of what the client sent.
#[tokio::test]
async fn a_get_query_string_that_is_not_utf8_is_a_bad_request() {
    let gw = TestGateway::demo().await;
    let url = format!(
        "{}?query=%7B%20topProducts%20%7B%20name%20%7D%20%7D&variables=%7B%22a%22%3A%22%FF%22%7D",
        gw.url
    );
    let get_url = |url: String| {
        send(
            gw.client
                .get(url)
                .header(ACCEPT, "application/json")
                .header("apollo-require-preflight", "true"),
        )
    };
    let answer = get_url(url.clone()).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(message(&answer).contains("UTF-8"), "{}", answer.body);
    // The same request with valid UTF-8 (é as %C3%A9) runs.
    let answer = get_url(url.replace("%FF", "%C3%A9")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body["data"]["topProducts"].is_array(),
        "{}",
        answer.body
    );
}

/// The parser's limit is reported as itself even after more than a hundred syntax errors, and a
/// syntax error quoting the limit's wording is still a syntax error.
#[tokio::test]
async fn parser_limits_are_told_from_syntax_errors_that_mention_them() {
    let gw = TestGateway::demo().await;
    let over = post_json(&gw, json!({ "query": "{".repeat(20_000) })).await;
    assert_request_error(&gw, &over, StatusCode::OK, "MAX_TOKENS_LIMIT");
    assert_eq!(over.body["errors"].as_array().map(Vec::len), Some(1));
    for text in [
        r#"{ a "token limit" }"#,
        r#"{ a "parser recursion limit" }"#,
    ] {
        let quoted = post_json(&gw, json!({ "query": text })).await;
        assert_request_error(&gw, &quoted, StatusCode::OK, "GRAPHQL_PARSE_FAILED");
    }
}

/// A refused document earns at most 100 errors and one saying how many there were: a small
/// document of errors must not buy a huge answer (nor a huge operation cache entry).
#[tokio::test]
async fn a_document_full_of_errors_gets_at_most_a_hundred_of_them() {
    let gw = TestGateway::demo().await;
    let parse = post_json(&gw, json!({ "query": "{".repeat(5_000) })).await;
    let validation = post_json(
        &gw,
        json!({ "query": format!("{{ topProducts {{ {} }} }}", (0..500).map(|i| format!("f{i}")).collect::<Vec<_>>().join(" ")) }),
    )
    .await;
    let variables = post_json(
        &gw,
        json!({ "query": format!(
            "query({}) {{ topProducts {{ {} }} }}",
            (0..300).map(|i| format!("$v{i}: Boolean!")).collect::<Vec<_>>().join(" "),
            (0..300).map(|i| format!("name @include(if: $v{i})")).collect::<Vec<_>>().join(" ")
        ) }),
    )
    .await;
    for (answer, code, at_least) in [
        (&parse, "GRAPHQL_PARSE_FAILED", 5_000),
        (&validation, "GRAPHQL_VALIDATION_FAILED", 500),
        (&variables, "VALIDATION_INVALID_TYPE_VARIABLE", 300),
    ] {
        assert_request_error(&gw, answer, StatusCode::OK, code);
        let errors = answer.body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 101, "{code}: {}", errors.len());
        let last = errors[100]["message"].as_str().unwrap_or_default();
        let total: usize = last
            .split("first 100 of ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{code}: no count in {last}"));
        assert!(total >= at_least, "{code}: {last}");
        assert_eq!(errors[100]["extensions"]["code"], code);
    }
}

/// An unknown field is the only error: the selection it was in is not also reported as empty.
#[tokio::test]
async fn an_unknown_field_alone_in_a_selection_is_one_error() {
    let gw = TestGateway::demo().await;
    for query in [
        "{ topProducts { nope } }",
        "{ topProducts { x: nope } }",
        "{ topProducts { ... on Product { nope } } }",
    ] {
        let answer = post_json(&gw, json!({ "query": query })).await;
        assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
        let errors = answer.body["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(errors.len(), 1, "{query}: {}", answer.body);
        assert!(
            message(&answer).contains("nope"),
            "{query}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn wrong_argument_type_fails_validation() {
    let gw = TestGateway::demo().await;
    let answer = post_json(
        &gw,
        json!({ "query": "{ topProducts(first: \"two\") { name } }" }),
    )
    .await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn missing_required_argument_fails_validation() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": "{ product { name } }" })).await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn missing_required_variable_is_refused() {
    let gw = TestGateway::demo().await;
    let query = "query ($upc: String!) { product(upc: $upc) { name } }";
    let answer = post_json(&gw, json!({ "query": query })).await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::OK,
        "VALIDATION_INVALID_TYPE_VARIABLE",
    );
    assert!(message(&answer).contains("upc"), "{}", answer.body);
    let answer = post_json(&gw, json!({ "query": query, "variables": { "upc": null } })).await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::OK,
        "VALIDATION_INVALID_TYPE_VARIABLE",
    );
}

#[tokio::test]
async fn variable_of_the_wrong_type_is_refused() {
    let gw = TestGateway::demo().await;
    let query = "query ($n: Int) { topProducts(first: $n) { name } }";
    let answer = post_json(&gw, json!({ "query": query, "variables": { "n": "five" } })).await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::OK,
        "VALIDATION_INVALID_TYPE_VARIABLE",
    );
    assert!(message(&answer).contains('n'), "{}", answer.body);
    let answer = post_json(&gw, json!({ "query": query, "variables": { "n": 2.5 } })).await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::OK,
        "VALIDATION_INVALID_TYPE_VARIABLE",
    );
}

#[tokio::test]
async fn variable_of_a_type_the_argument_does_not_take_fails_validation() {
    let gw = TestGateway::demo().await;
    let query = "query ($n: String) { topProducts(first: $n) { name } }";
    let answer = post_json(&gw, json!({ "query": query, "variables": { "n": "2" } })).await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn unknown_operation_name_is_refused() {
    let gw = TestGateway::demo().await;
    let answer = post_json(
        &gw,
        json!({
            "query": "query A { topProducts { name } } query B { me { name } }",
            "operationName": "C",
        }),
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::OK,
        "GRAPHQL_UNKNOWN_OPERATION_NAME",
    );
    assert!(message(&answer).contains('C'), "{}", answer.body);
}

#[tokio::test]
async fn several_operations_need_an_operation_name() {
    let gw = TestGateway::demo().await;
    let answer = post_json(
        &gw,
        json!({ "query": "query A { topProducts { name } } query B { me { name } }" }),
    )
    .await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");

    // With the name, the named operation (and only it) runs.
    let answer = post_json(
        &gw,
        json!({
            "query": "query A { topProducts(first: 1) { name } } query B { me { name } }",
            "operationName": "B",
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({ "data": { "me": { "name": "Ada Lovelace" } } })
    );
    assert_eq!(gw.requests_to("products").len(), 0);
}

#[tokio::test]
async fn mutation_over_get_is_not_allowed() {
    let gw = TestGateway::demo().await;
    let answer = get(
        &gw,
        &[(
            "query",
            "mutation { setPrice(upc: \"1\", price: 1) { price } }",
        )],
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    );

    // Also when the mutation is picked by name from a document that has a query too.
    let answer = get(
        &gw,
        &[
            (
                "query",
                "query Q { me { name } } mutation M { updateName(id: \"1\", name: \"x\") { name } }",
            ),
            ("operationName", "M"),
        ],
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn query_over_get_works() {
    let gw = TestGateway::demo().await;
    let answer = get(
        &gw,
        &[
            (
                "query",
                "query ($n: Int) { topProducts(first: $n) { name } }",
            ),
            ("variables", r#"{"n": 2}"#),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({ "data": { "topProducts": [{ "name": "Product 1" }, { "name": "Product 2" }] } })
    );
    assert_eq!(gw.requests_to("products").len(), 1);
}

#[tokio::test]
async fn get_without_query_is_refused() {
    let gw = TestGateway::demo().await;
    let answer = get(&gw, &[]).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "MISSING_QUERY");
}

#[tokio::test]
async fn get_with_variables_that_are_not_json_is_a_bad_request() {
    let gw = TestGateway::demo().await;
    let answer = get(
        &gw,
        &[
            (
                "query",
                "query ($n: Int) { topProducts(first: $n) { name } }",
            ),
            ("variables", "{n: 2"),
        ],
    )
    .await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

#[tokio::test]
async fn null_variables_operation_name_and_extensions_are_accepted() {
    let gw = TestGateway::demo().await;
    let answer = post_json(
        &gw,
        json!({
            "query": "{ topProducts(first: 1) { name } }",
            "variables": null,
            "operationName": null,
            "extensions": null,
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({ "data": { "topProducts": [{ "name": "Product 1" }] } })
    );
}

#[tokio::test]
async fn graphql_response_json_answers_a_validation_error_with_400() {
    let gw = TestGateway::demo().await;
    let answer = send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, GRAPHQL_RESPONSE_JSON)
            .body(json!({ "query": "{ topProducts { nope } }" }).to_string()),
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::BAD_REQUEST,
        "GRAPHQL_VALIDATION_FAILED",
    );
    assert!(
        answer.content_type.starts_with(GRAPHQL_RESPONSE_JSON),
        "content type {}",
        answer.content_type
    );

    // The same request accepting only `application/json` gets 200 and that content type.
    let answer = post_json(&gw, json!({ "query": "{ topProducts { nope } }" })).await;
    assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
    assert!(
        answer.content_type.starts_with("application/json"),
        "content type {}",
        answer.content_type
    );
}

#[tokio::test]
async fn graphql_response_json_answers_a_parse_error_with_400() {
    let gw = TestGateway::demo().await;
    let answer = send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                ACCEPT,
                format!("{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9"),
            )
            .body(json!({ "query": "{" }).to_string()),
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::BAD_REQUEST,
        "GRAPHQL_PARSE_FAILED",
    );
    assert!(answer.content_type.starts_with(GRAPHQL_RESPONSE_JSON));
}

#[tokio::test]
async fn graphql_response_json_answers_a_good_request_with_200() {
    let gw = TestGateway::demo().await;
    let answer = send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, GRAPHQL_RESPONSE_JSON)
            .body(json!({ "query": "{ me { name } }" }).to_string()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.content_type.starts_with(GRAPHQL_RESPONSE_JSON));
    assert_eq!(
        answer.body,
        json!({ "data": { "me": { "name": "Ada Lovelace" } } })
    );
}

#[tokio::test]
async fn wrong_content_type_is_refused() {
    let gw = TestGateway::demo().await;
    // `text/plain` alone is refused earlier, by CSRF prevention; with the header that lets it
    // by, the handler's own content-type check answers.
    let answer = send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "text/plain")
            .header("apollo-require-preflight", "true")
            .header(ACCEPT, "application/json")
            .body(json!({ "query": "{ me { name } }" }).to_string()),
    )
    .await;
    assert_request_error(
        &gw,
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    assert!(answer.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn content_type_with_a_charset_is_accepted() {
    let gw = TestGateway::demo().await;
    let answer = send(
        gw.client
            .post(&gw.url)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(json!({ "query": "{ me { name } }" }).to_string()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["data"]["me"]["name"], "Ada Lovelace");
}

/// `{ topReviews { product { reviews { product { ... { name } } } } } }`, `levels` fields deep.
fn deep_query(levels: usize) -> String {
    let mut query = String::from("{ topReviews { ");
    let mut open = 1;
    for level in 1..levels - 1 {
        query.push_str(if !level.is_multiple_of(2) {
            "product { "
        } else {
            "reviews { "
        });
        open += 1;
    }
    // The innermost level is a leaf of whichever type the chain ended on.
    query.push_str(if levels.is_multiple_of(2) {
        "id "
    } else {
        "upc "
    });
    for _ in 0..open {
        query.push_str("} ");
    }
    query.push('}');
    query
}

#[tokio::test]
async fn very_deep_query_is_refused_clearly() {
    let gw = TestGateway::demo().await;
    let query = deep_query(100);
    let answer = post_json(&gw, json!({ "query": query })).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let code = answer.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(code, "MAX_DEPTH_LIMIT", "{}", answer.body);
    assert!(
        message(&answer).contains("deep"),
        "the message says what is wrong: {}",
        answer.body
    );
    assert!(answer.body.get("data").is_none(), "{}", answer.body);
    assert_eq!(gw.total_requests(), 0);

    // The gateway is still up and answers normally.
    let answer = post_json(&gw, json!({ "query": "{ me { name } }" })).await;
    assert_eq!(answer.body["data"]["me"]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn absurdly_deep_query_does_not_crash_the_gateway() {
    let gw = TestGateway::demo().await;
    // Deeper than any parser recursion limit: must be an error, not a stack overflow.
    let query = deep_query(5000);
    let answer = post_json(&gw, json!({ "query": query })).await;
    let code = answer.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        [
            "MAX_DEPTH_LIMIT",
            "MAX_PARSER_RECURSION_LIMIT",
            "GRAPHQL_PARSE_FAILED"
        ]
        .contains(&code.as_str()),
        "code {code}: {}",
        answer.body
    );
    assert!(answer.body.get("data").is_none());
    assert_eq!(gw.total_requests(), 0);
    let answer = post_json(&gw, json!({ "query": "{ me { name } }" })).await;
    assert_eq!(answer.body["data"]["me"]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn query_just_under_the_depth_limit_runs() {
    let gw = TestGateway::demo().await;
    let answer = post_json(&gw, json!({ "query": deep_query(8) })).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    let innermost = &answer.body["data"]["topReviews"][0]["product"]["reviews"][0]["product"]
        ["reviews"][0]["product"]["reviews"][0]["id"];
    assert!(innermost.is_string(), "{}", answer.body);
}

#[tokio::test]
async fn three_megabyte_body_is_refused() {
    let gw = TestGateway::demo().await;
    let padding = " ".repeat(3 * 1024 * 1024);
    let body = format!(r#"{{"query": "{{ me {{ name }} }}{padding}"}}"#);
    let answer = post_raw(&gw, body).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE",
        "{}",
        answer.body
    );
    assert!(answer.body.get("data").is_none());
    assert_eq!(gw.total_requests(), 0);
}

/// Names the gateway gives its own fields and variables in subgraph requests are refused in
/// client operations, before any subgraph is called: sent on, they would collide.
#[tokio::test]
async fn names_the_gateway_reserves_for_subgraph_requests_are_refused() {
    let gw = TestGateway::demo().await;
    for (query, variables, named) in [
        (
            "{ me { seam__client_typename: name } }",
            json!({}),
            "seam__client_typename",
        ),
        (
            "query { topProducts { ...P } } fragment P on Product { seam__Product__upc: name }",
            json!({}),
            "seam__Product__upc",
        ),
        (
            "query($representations: Int) { me { name } }",
            json!({ "representations": 1 }),
            "$representations",
        ),
        (
            "query($contextualArgument_1_0: String) { me { name } }",
            json!({}),
            "$contextualArgument_1_0",
        ),
        (
            "query($seam__a0: ID) { me { name } }",
            json!({}),
            "$seam__a0",
        ),
    ] {
        let answer = post_json(&gw, json!({ "query": query, "variables": variables })).await;
        assert_request_error(&gw, &answer, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
        assert!(message(&answer).contains(named), "{}", answer.body);
    }
    // Other `seam__` aliases, and the names as aliases, are the client's.
    let answer = post_json(
        &gw,
        json!({ "query": "{ me { seam__name: name representations: id } }" }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    assert!(
        answer.body["data"]["me"]["seam__name"].is_string(),
        "{}",
        answer.body
    );
    assert!(answer.body["data"]["me"]["representations"].is_string());
}

#[tokio::test]
async fn variables_that_are_not_an_object_are_a_bad_request() {
    let gw = TestGateway::demo().await;
    let query = "query ($n: Int) { topProducts(first: $n) { name } }";
    for variables in [r#""x""#, "1", "[1]", "true", r#"[{"n": 1}]"#] {
        let body = format!(r#"{{"query": "{query}", "variables": {variables}}}"#);
        let answer = post_raw(&gw, body).await;
        assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
        assert!(message(&answer).contains("`variables`"), "{}", answer.body);
    }
    let answer = get(&gw, &[("query", query), ("variables", "[1]")]).await;
    assert_request_error(&gw, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

/// A POST body's variables are read for the names the operation declares; the rest must still
/// be JSON, and the declared ones are found however the client spelled their names.
#[tokio::test]
async fn only_declared_variables_are_read_from_a_post_body() {
    let gw = TestGateway::demo().await;
    let query = "query ($n: Int) { topProducts(first: $n) { name } }";
    let count = |answer: &Answer| {
        answer.body["data"]["topProducts"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_else(|| panic!("no products: {}", answer.body))
    };
    let junk = format!("[{}]", vec![r#"{"a": [1, {"b": null}]}"#; 2000].join(","));
    let body = format!(
        r#"{{"query": "{query}", "variables": {{"junk": {junk}, "n": 1, "\u006e": 2, "m": {{}}}}}}"#
    );
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // `\u006e` is `n`: as in JSON objects read whole, the last of a repeated name counts.
    assert_eq!(count(&answer), 2, "{}", answer.body);

    // Malformed JSON among undeclared variables is still malformed.
    let body = format!(r#"{{"query": "{query}", "variables": {{"junk": [1, }}, "n": 1}}}}"#);
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );

    // A value JSON cannot hold: no matter where undeclared, a variable error where declared.
    let body = format!(r#"{{"query": "{query}", "variables": {{"big": 1e400, "n": 1}}}}"#);
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(count(&answer), 1, "{}", answer.body);
    let body = format!(r#"{{"query": "{query}", "variables": {{"n": 1e400}}}}"#);
    let answer = post_raw(&gw, body).await;
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"], "VALIDATION_INVALID_TYPE_VARIABLE",
        "{}",
        answer.body
    );

    // A declared variable of the wrong type is reported as before.
    let body = format!(r#"{{"query": "{query}", "variables": {{"n": {{"deep": [1]}}}}}}"#);
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"], "VALIDATION_INVALID_TYPE_VARIABLE",
        "{}",
        answer.body
    );
    assert!(answer.body.get("data").is_none(), "{}", answer.body);
}

/// Members of `extensions` Seam does not read may be any JSON, and are not held.
#[tokio::test]
async fn unread_extensions_members_are_accepted() {
    let gw = TestGateway::demo().await;
    let junk = format!("[{}]", vec![r#"{"a": [1, {"b": null}]}"#; 2000].join(","));
    let body = format!(
        r#"{{"query": "{{ topProducts(first: 1) {{ name }} }}", "extensions": {{"junk": {junk}, "persistedQuery": null, "tracing": true}}}}"#
    );
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["data"]["topProducts"].as_array().map(Vec::len),
        Some(1),
        "{}",
        answer.body
    );
    let body = r#"{"query": "{ topProducts { name } }", "extensions": {"junk": [1, }}"#;
    let answer = post_raw(&gw, body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );
}
