//! The browser-facing edge over plain HTTP: CSRF prevention (every simple content type, none,
//! GET, the required headers, switched off), CORS from the config (preflights, exact and regex
//! origins, credentials, exposed headers, the default of no access), the cross-site WebSocket
//! check and the GraphiQL page and assets. Each refusal is checked at the subgraph too: it ran
//! nothing.

mod edge_support;

use edge_support::Edge;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

const MUTATION: &str = r#"{"query":"mutation { record(note: \"csrf\") }"}"#;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs `body` with these headers; returns the status, the headers and the body as JSON (or
/// `Value::Null` when it is not JSON).
async fn post(edge: &Edge, headers: &[(&str, &str)], body: &str) -> (StatusCode, HeaderMap, Value) {
    let mut request = client().post(&edge.url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

async fn get(
    edge: &Edge,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut request = client().get(format!("{}{path_and_query}", edge.origin));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let response = request.send().await.expect("gateway reachable");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn assert_csrf_refused((status, headers, body): &(StatusCode, HeaderMap, Value)) {
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(body), "CSRF_PREVENTION", "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// CSRF prevention

#[tokio::test]
async fn csrf_refuses_posts_with_each_simple_content_type_and_runs_nothing() {
    let edge = Edge::start("").await;
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "TEXT/PLAIN",
        " Application/X-WWW-Form-Urlencoded ; charset=utf-8",
    ] {
        let answer = post(&edge, &[("content-type", content_type)], MUTATION).await;
        assert_csrf_refused(&answer);
    }
    assert_eq!(edge.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn csrf_refuses_a_post_without_content_type_and_a_plain_get() {
    let edge = Edge::start("").await;
    assert_csrf_refused(&post(&edge, &[], MUTATION).await);
    assert_csrf_refused(&get(&edge, "/graphql?query=%7Bhello%7D", &[]).await);
    // The GraphQL routes are `/graphql` and `/`.
    assert_csrf_refused(&get(&edge, "/?query=%7Bhello%7D", &[]).await);
    // A page load asks for HTML; one that names an operation, even percent-encoded, is not one.
    assert_csrf_refused(
        &get(
            &edge,
            "/graphql?qu%65ry=%7Bhello%7D",
            &[("accept", "text/html")],
        )
        .await,
    );
    assert_eq!(edge.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn csrf_refusal_speaks_graphql_response_json_to_clients_that_accept_it() {
    let edge = Edge::start("").await;
    let (status, headers, body) = post(
        &edge,
        &[
            ("content-type", "text/plain"),
            ("accept", "application/graphql-response+json"),
        ],
        MUTATION,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_eq!(code(&body), "CSRF_PREVENTION");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("apollo-require-preflight"), "{message}");
}

#[tokio::test]
async fn csrf_lets_json_and_the_required_headers_through() {
    let edge = Edge::start("").await;
    let (status, _, body) = post(&edge, &[("content-type", "application/json")], MUTATION).await;
    assert_eq!(
        (status, &body["data"]["record"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );

    // Without a content type the handler reads JSON; the header proves a preflight happened.
    let (status, _, body) = post(&edge, &[("apollo-require-preflight", "true")], MUTATION).await;
    assert_eq!(
        (status, &body["data"]["record"]),
        (StatusCode::OK, &json!(2)),
        "{body}"
    );
    let (status, _, body) = post(&edge, &[("x-apollo-operation-name", "M")], MUTATION).await;
    assert_eq!(
        (status, &body["data"]["record"]),
        (StatusCode::OK, &json!(3)),
        "{body}"
    );

    let (status, _, body) = get(
        &edge,
        "/graphql?query=%7Bhello%7D",
        &[("apollo-require-preflight", "true")],
    )
    .await;
    assert_eq!(
        (status, &body["data"]["hello"]),
        (StatusCode::OK, &json!("world")),
        "{body}"
    );
    assert_eq!(
        edge.calls(),
        ["record:csrf", "record:csrf", "record:csrf", "hello"]
    );
}

#[tokio::test]
async fn csrf_required_headers_come_from_the_config() {
    let edge = Edge::start("csrf:\n  required_headers: [x-my-client]\n").await;
    assert_csrf_refused(&post(&edge, &[("apollo-require-preflight", "true")], MUTATION).await);
    assert!(edge.calls().is_empty());
    let (status, _, body) = post(&edge, &[("x-my-client", "1")], MUTATION).await;
    assert_eq!(
        (status, &body["data"]["record"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
}

#[tokio::test]
async fn csrf_switched_off_lets_simple_requests_run() {
    let edge = Edge::start("csrf:\n  enabled: false\n").await;
    let (status, _, body) = post(&edge, &[], MUTATION).await;
    assert_eq!(
        (status, &body["data"]["record"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
    let (status, _, body) = get(&edge, "/graphql?query=%7Bhello%7D", &[]).await;
    assert_eq!(
        (status, &body["data"]["hello"]),
        (StatusCode::OK, &json!("world")),
        "{body}"
    );
    // Past CSRF, the handler still takes only JSON bodies.
    let (status, _, body) = post(&edge, &[("content-type", "text/plain")], MUTATION).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(edge.calls(), ["record:csrf", "hello"]);
}

// ---------------------------------------------------------------------------------------------
// CORS

async fn preflight(edge: &Edge, origin: &str, request_headers: &str) -> (StatusCode, HeaderMap) {
    let response = client()
        .request(Method::OPTIONS, &edge.url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", request_headers)
        .send()
        .await
        .expect("gateway reachable");
    (response.status(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn cors_by_default_allows_no_origin() {
    let edge = Edge::start("").await;
    let (status, headers) = preflight(&edge, "https://app.example.com", "content-type").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    assert_eq!(header(&headers, "access-control-allow-credentials"), None);
    let (status, headers, _) = post(
        &edge,
        &[
            ("content-type", "application/json"),
            ("origin", "https://app.example.com"),
        ],
        r#"{"query":"{ hello }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_answers_preflights_for_listed_origins_only() {
    let edge =
        Edge::start("cors:\n  allow_origins: [https://app.example.com]\n  max_age: 10m\n").await;
    let (status, headers) = preflight(
        &edge,
        "https://app.example.com",
        "content-type,apollo-require-preflight",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("GET,POST,OPTIONS")
    );
    // No `allow_headers`: whatever the allowed page asks for.
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some("content-type,apollo-require-preflight")
    );
    assert_eq!(header(&headers, "access-control-max-age"), Some("600"));
    assert!(
        header(&headers, "vary").unwrap_or("").contains("origin"),
        "{headers:?}"
    );

    for other in [
        "https://evil.example.com",
        "https://app.example.com.evil.net",
        "null",
    ] {
        let (_, headers) = preflight(&edge, other, "content-type").await;
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{other}"
        );
    }
    // The preflight reached no subgraph.
    assert!(edge.calls().is_empty());
}

#[tokio::test]
async fn cors_origin_regexes_match_the_whole_origin() {
    let edge = Edge::start(
        "cors:\n  allow_origin_regexes: ['https://pr-\\d+\\.preview\\.example\\.com']\n",
    )
    .await;
    let allowed = "https://pr-12.preview.example.com";
    let (_, headers) = preflight(&edge, allowed, "content-type").await;
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(allowed)
    );
    for refused in [
        "https://pr-12.preview.example.com.evil.net",
        "https://evil.net/?https://pr-12.preview.example.com",
        "https://pr-x.preview.example.com",
    ] {
        let (_, headers) = preflight(&edge, refused, "content-type").await;
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{refused}"
        );
    }
}

#[tokio::test]
async fn cors_credentials_listed_headers_and_exposed_headers() {
    let edge = Edge::start(
        "cors:\n  allow_origins: [http://localhost:3000]\n  allow_credentials: true\n  \
         allow_headers: [content-type, authorization]\n  expose_headers: [x-request-id]\n  \
         allow_methods: [post]\n",
    )
    .await;
    let origin = "http://localhost:3000";
    let (_, headers) = preflight(&edge, origin, "content-type,x-other").await;
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(origin)
    );
    assert_eq!(
        header(&headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some("content-type,authorization")
    );
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("POST")
    );

    let (status, headers, body) = post(
        &edge,
        &[("content-type", "application/json"), ("origin", origin)],
        r#"{"query":"{ hello }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(origin)
    );
    assert_eq!(
        header(&headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        Some("x-request-id")
    );

    // Credentials are offered to allowed origins only.
    let (_, headers) = preflight(&edge, "http://localhost:3001", "content-type").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    assert_eq!(header(&headers, "access-control-allow-credentials"), None);
}

#[tokio::test]
async fn cors_wildcard_allows_every_origin() {
    let edge = Edge::start("cors:\n  allow_origins: ['*']\n").await;
    let (_, headers) = preflight(&edge, "https://anyone.example", "content-type").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn csrf_refusals_carry_cors_headers_an_allowed_page_can_read() {
    let edge = Edge::start("cors:\n  allow_origins: [https://app.example.com]\n").await;
    let answer = post(
        &edge,
        &[
            ("content-type", "text/plain"),
            ("origin", "https://app.example.com"),
        ],
        MUTATION,
    )
    .await;
    assert_csrf_refused(&answer);
    assert_eq!(
        header(&answer.1, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(edge.calls().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Cross-site WebSockets

/// Opens a `graphql-transport-ws` socket with `origin` (none when `None`): `Ok` when upgraded,
/// else the refusal's status and JSON body.
async fn open_ws(edge: &Edge, origin: Option<&str>) -> Result<(), (u16, Value)> {
    let mut request = format!("ws://{}/graphql", edge.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(()),
        Err(WsError::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((response.status().as_u16(), body))
        }
        Err(other) => panic!("unexpected WebSocket error: {other}"),
    }
}

#[tokio::test]
async fn websocket_upgrades_from_another_origin_are_refused_unless_cors_allows_it() {
    let edge = Edge::start("cors:\n  allow_origins: [https://app.example.com]\n").await;
    let (status, body) = open_ws(&edge, Some("https://evil.example.com"))
        .await
        .expect_err("a cross-site upgrade must be refused");
    assert_eq!(status, 403);
    assert_eq!(code(&body), "CROSS_SITE_WEBSOCKET", "{body}");
    // Same port, other host; and an origin that does not parse.
    assert!(open_ws(
        &edge,
        Some(&format!("http://localhost:{}", edge.addr.port()))
    )
    .await
    .is_err());
    assert!(open_ws(&edge, Some("null")).await.is_err());

    open_ws(&edge, Some("https://app.example.com"))
        .await
        .expect("allowed by cors");
    open_ws(&edge, Some(&edge.origin))
        .await
        .expect("same origin");
    open_ws(&edge, None)
        .await
        .expect("no Origin: not a browser");
}

// ---------------------------------------------------------------------------------------------
// GraphiQL

#[tokio::test]
async fn graphiql_page_and_assets_are_served_from_the_binary() {
    let edge = Edge::start("").await;
    let page = client()
        .get(&edge.url)
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    let assets: Vec<&str> = html
        .split(['"'])
        .filter(|part| part.starts_with("graphiql/"))
        .collect();
    assert_eq!(assets.len(), 7, "{html}");
    assert!(!html.contains("//"), "the page names no other host: {html}");
    for asset in assets {
        let response = client()
            .get(format!("{}/{asset}", edge.origin))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type.starts_with(expected),
            "{asset}: {content_type}"
        );
        let cache = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        if asset.contains('@') {
            assert!(cache.contains("immutable"), "{asset}: {cache}");
        } else {
            assert_eq!(cache, "no-cache", "{asset}");
        }
        assert!(!response.bytes().await.unwrap().is_empty(), "{asset}");
    }
    let license = client()
        .get(format!("{}/graphiql/graphiql@3.9.0/LICENSE", edge.origin))
        .send()
        .await
        .unwrap();
    assert!(license.text().await.unwrap().contains("MIT License"));
}

#[tokio::test]
async fn graphiql_switched_off_answers_browsers_with_the_usual_json_error() {
    let edge = Edge::start("graphiql: false\n").await;
    let (status, headers, body) = get(&edge, "/graphql", &[("accept", "text/html")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(headers["content-type"].to_str().unwrap().contains("json"));
    assert_eq!(code(&body), "MISSING_QUERY", "{body}");
    let (status, _, _) = get(&edge, "/graphiql/seam-graphiql.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn json_content_types_are_matched_without_case_and_by_their_essence() {
    let edge = Edge::start("").await;
    for content_type in [
        "APPLICATION/JSON",
        "Application/Json; charset=UTF-8",
        "application/json ; charset=utf-8",
    ] {
        let (status, _, body) = post(
            &edge,
            &[("content-type", content_type)],
            r#"{"query":"{ hello }"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{content_type}: {body}");
        assert_eq!(
            body,
            json!({ "data": { "hello": "world" } }),
            "{content_type}"
        );
    }
    // A longer type that merely starts with the name is another type.
    let (status, _, body) = post(
        &edge,
        &[("content-type", "application/jsonx")],
        r#"{"query":"{ hello }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(edge.calls(), ["hello", "hello", "hello"]);
}

/// Sends `head` and `body` over a raw connection and reads the response head and the start of
/// its body, within a generous deadline.
async fn raw_exchange(edge: &Edge, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(edge.addr)
        .await
        .expect("gateway reachable");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    let mut answer = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("\"errors\"") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("an answer within 60 s (the request timeout is 300 s)");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_arrives() {
    let edge = Edge::start("limits:\n  request_timeout: 300s\n").await;
    // 3 MB announced (the limit is 2 MiB), nine bytes sent, the rest never.
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 3000000\r\n\r\n",
        edge.addr
    );
    let answer = raw_exchange(&edge, &head, b"{\"query\":").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    // An announced length within the limit is read as before.
    let body = br#"{"query":"{ hello }"}"#;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        edge.addr,
        body.len()
    );
    let answer = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(edge.addr)
            .await
            .expect("reachable");
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(body).await.expect("body");
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("an answer within 60 s")
        .expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#"{"data":{"hello":"world"}}"#), "{answer}");
    assert_eq!(edge.calls(), ["hello"]);
}

/// A request that asks to become a WebSocket and cannot (no `Sec-WebSocket-Key`) is told why,
/// not that its GET carries no query.
#[tokio::test]
async fn an_invalid_websocket_upgrade_is_told_why() {
    let edge = Edge::start("").await;
    let (status, _, body) = get(
        &edge,
        "/graphql",
        &[
            ("upgrade", "websocket"),
            ("connection", "upgrade"),
            ("sec-websocket-version", "13"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "BAD_REQUEST", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("WebSocket upgrade")),
        "{body}"
    );
}
