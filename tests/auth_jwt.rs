//! JWT authentication over real HTTP and WebSocket: tokens signed in the test with RSA (PKCS#1
//! and PSS), EC, EdDSA keys and an HS secret, verified against a JWKS served by a test server on
//! 127.0.0.1 and against secrets from the config; invalid tokens are a 401 `UNAUTHENTICATED`
//! that never echoes the token; keys rotated into the JWKS are fetched on their unknown `kid`,
//! while made-up `kid`s cannot make Seam fetch more often than the floor; claims feed header
//! rules and the per-client rate limit.

mod auth_support;
mod common;
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use auth_support::{bearer, claims, token, JwksServer, HS_SECRET};
use common::{scenario_dir, spawn_router};
use seam::config::Config;
use support::fixture::FixtureSubgraph;

const WAIT: Duration = Duration::from_secs(10);

/// Headers the subgraph received, per request, with lower-case names.
type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

struct Setup {
    url: String,
    ws_url: String,
    client: reqwest::Client,
    seen: Seen,
}

/// The `auth_directives` accounts subgraph behind a gateway whose config ends with `yaml`.
async fn setup(yaml: &str) -> Setup {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let router = FixtureSubgraph::load(&scenario_dir("auth_directives"), "accounts")
        .router()
        .layer(from_fn(move |request: Request, next: Next| {
            let sink = sink.clone();
            async move {
                let headers = request
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
                    .collect();
                sink.lock().unwrap().push(headers);
                next.run(request).await
            }
        }));
    let subgraph = spawn_router(router).await;
    let text =
        format!("subgraphs:\n  - name: accounts\n    url: http://{subgraph}/graphql\n{yaml}");
    let config = Config::from_yaml_str(&text, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway, settings)).await;
    seen.lock().unwrap().clear();
    Setup {
        url: format!("http://{addr}/graphql"),
        ws_url: format!("ws://{addr}/graphql"),
        client: reqwest::Client::new(),
        seen,
    }
}

impl Setup {
    async fn post(&self, query: &str, headers: &[(&str, &str)]) -> (u16, Value, String) {
        let mut request = self.client.post(&self.url).json(&json!({ "query": query }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("gateway reachable");
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body: Value = response.json().await.expect("JSON answer");
        (status, body, challenge)
    }

    async fn me(&self, authorization: &str) -> (u16, Value) {
        let (status, body, _) = self
            .post("{ me { name } }", &[("authorization", authorization)])
            .await;
        (status, body)
    }

    fn last_headers(&self) -> Vec<(String, String)> {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

fn jwks_config(url: &str, extra: &str) -> String {
    format!(
        "auth:
  jwt:
    jwks:
      - url: {url}
{extra}    secrets:
      - secret: {HS_SECRET}
    issuers: [https://issuer.test]
    audiences: [seam, other-app]
"
    )
}

const ADA: &str = r#"{"data":{"me":{"name":"Ada"}}}"#;

fn ada() -> Value {
    serde_json::from_str(ADA).expect("json")
}

#[tokio::test]
async fn tokens_of_every_algorithm_family_are_verified() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    for kid in ["rsa-1", "rsa-1-pss", "ec-1", "ed-1", "hs"] {
        assert_eq!(
            setup.me(&bearer(kid, json!({}))).await,
            (200, ada()),
            "{kid}"
        );
    }
    // An `aud` list holding one accepted audience is accepted.
    let listed = bearer("rsa-1", json!({ "aud": ["elsewhere", "other-app"] }));
    assert_eq!(setup.me(&listed).await, (200, ada()));
    // Without a token the request is anonymous: the `@authenticated` field is withheld.
    let (status, body, _) = setup.post("{ me { name } }", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!({ "me": null }));
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED_FIELD_OR_TYPE"
    );
}

#[tokio::test]
async fn invalid_tokens_are_401_unauthenticated_and_never_echoed() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    let now = auth_support::now();
    let forged = {
        // Signed by rsa-2 but naming rsa-1's `kid`.
        let genuine = token("rsa-2", &claims(json!({})));
        let (_, rest) = genuine.split_once('.').expect("three parts");
        let header = token("rsa-1", &claims(json!({})));
        format!("{}.{rest}", header.split('.').next().expect("header"))
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            bearer("rsa-1", json!({ "exp": now - 3600 })),
            "expired",
        ),
        (
            "not yet valid",
            bearer("ec-1", json!({ "nbf": now + 3600 })),
            "not valid yet",
        ),
        (
            "wrong issuer",
            bearer("ed-1", json!({ "iss": "https://evil.test" })),
            "issuer",
        ),
        (
            "wrong audience",
            bearer("rsa-1", json!({ "aud": "someone-else" })),
            "audience",
        ),
        (
            "no audience",
            format!(
                "Bearer {}",
                token(
                    "rsa-1",
                    &json!({ "iss": "https://issuer.test", "exp": now + 60 })
                )
            ),
            "aud",
        ),
        ("bad signature", format!("Bearer {forged}"), "signature"),
        ("unknown key", bearer("rsa-2", json!({})), "no key known"),
        (
            "wrong HS secret",
            format!(
                "Bearer {}",
                jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                    &claims(json!({})),
                    &jsonwebtoken::EncodingKey::from_secret(b"not-the-secret-at-all-really"),
                )
                .expect("signs")
            ),
            "signature",
        ),
        ("not a JWT", "Bearer not.a.jwt".into(), "well-formed"),
        (
            "nbf as text",
            bearer("rsa-1", json!({ "nbf": "9999999999" })),
            "`nbf`",
        ),
        (
            "nbf far ahead as a float",
            bearer("rsa-1", json!({ "nbf": 1e300 })),
            "not valid yet",
        ),
        (
            "nbf negative",
            bearer("rsa-1", json!({ "nbf": -5 })),
            "`nbf`",
        ),
        (
            "iss as a list",
            bearer(
                "ec-1",
                json!({ "iss": ["https://evil.test", "https://issuer.test"] }),
            ),
            "`iss`",
        ),
        (
            "critical header extensions",
            {
                use base64::Engine;
                let genuine = token("rsa-1", &claims(json!({})));
                let (_, rest) = genuine.split_once('.').expect("three parts");
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(br#"{"alg":"RS256","kid":"rsa-1","crit":["b64"],"b64":false}"#);
                format!("Bearer {header}.{rest}")
            },
            "critical",
        ),
        (
            "another scheme",
            "Basic dXNlcjpwYXNz".into(),
            "authorization",
        ),
        ("empty bearer", "Bearer ".into(), "authorization"),
    ];
    for (case, authorization, mention) in cases {
        let (status, body, challenge) = setup
            .post("{ motd }", &[("authorization", &authorization)])
            .await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(challenge, "Bearer", "{case}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{case}"
        );
        assert!(body.get("data").is_none(), "{case}: {body}");
        let text = body.to_string();
        assert!(text.contains(mention), "{case}: {text}");
        let secret_part = authorization
            .trim_start_matches("Bearer ")
            .trim_start_matches("Basic ");
        if !secret_part.is_empty() {
            assert!(
                !text.contains(secret_part),
                "{case} echoed the token: {text}"
            );
        }
    }
    assert!(
        setup.seen.lock().unwrap().is_empty(),
        "a refused request reached the subgraph"
    );

    // Two tokens: only one could be verified, so neither is taken, in either order.
    let valid = bearer("rsa-1", json!({}));
    let unverified = bearer("rsa-2", json!({ "sub": "root" }));
    for pair in [
        [&valid, &unverified],
        [&unverified, &valid],
        [&valid, &valid],
    ] {
        let (status, body, _) = setup
            .post(
                "{ motd }",
                &[("authorization", pair[0]), ("authorization", pair[1])],
            )
            .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(body.to_string().contains("more than once"), "{body}");
    }
    assert!(
        setup.seen.lock().unwrap().is_empty(),
        "a request with two tokens reached the subgraph"
    );
}

#[tokio::test]
async fn require_authentication_refuses_requests_without_a_valid_token() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&format!(
        "{}  require_authentication: true\n",
        jwks_config(&jwks.url, "")
    ))
    .await;
    let (status, body, _) = setup.post("{ motd }", &[]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(setup.seen.lock().unwrap().is_empty());
    assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await, (200, ada()));
}

#[tokio::test]
async fn made_up_kids_cannot_make_seam_fetch_the_jwks_more_often_than_the_floor() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(
        &jwks.url,
        "        refresh_interval: 1h\n        min_refresh_interval: 1h\n",
    ))
    .await;
    // Fetched once: at startup by the refresh task, or by the first token if it came first.
    assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await, (200, ada()));
    assert_eq!(jwks.fetches(), 1);
    let mut attacks = Vec::new();
    for n in 0..50 {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(format!("made-up-{n}"));
        let forged = jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &jsonwebtoken::EncodingKey::from_rsa_pem(
                &std::fs::read("tests/fixtures/auth/rsa2.pem").expect("key"),
            )
            .expect("rsa2"),
        )
        .expect("signs");
        attacks.push(format!("Bearer {forged}"));
    }
    let answers = futures::future::join_all(attacks.iter().map(|a| setup.me(a))).await;
    for (status, body) in answers {
        assert_eq!(status, 401, "{body}");
    }
    assert_eq!(
        jwks.fetches(),
        1,
        "unknown kids fetched the JWKS within the floor"
    );
}

#[tokio::test]
async fn a_key_rotated_into_the_jwks_is_accepted_once_its_kid_is_seen() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(
        &jwks.url,
        "        refresh_interval: 1s\n        min_refresh_interval: 1ms\n",
    ))
    .await;
    assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await, (200, ada()));
    let rotated = bearer("rsa-2", json!({}));
    assert_eq!(
        setup.me(&rotated).await.0,
        401,
        "rsa-2 is not published yet"
    );
    jwks.set(auth_support::both_jwks());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = setup.me(&rotated).await;
        if status == 200 {
            assert_eq!(body, ada());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rsa-2 never accepted: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Known keys are fetched again once the interval has passed, in the background.
    let before = jwks.fetches();
    let deadline = tokio::time::Instant::now() + WAIT;
    while jwks.fetches() == before {
        assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await.0, 200);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the interval never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_jwks_is_fetched_on_its_interval_without_a_token_asking() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    // A floor of an hour: no unknown `kid` can make Seam fetch, so only the interval can bring
    // a rotated key in.
    let setup = setup(&jwks_config(
        &jwks.url,
        "        refresh_interval: 1s\n        min_refresh_interval: 1h\n",
    ))
    .await;
    // The startup fetch, before any token.
    let deadline = tokio::time::Instant::now() + WAIT;
    while jwks.fetches() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the JWKS was not fetched at startup"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rotated = bearer("rsa-2", json!({}));
    assert_eq!(
        setup.me(&rotated).await.0,
        401,
        "rsa-2 is not published yet"
    );
    jwks.set(auth_support::both_jwks());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = setup.me(&rotated).await;
        if status == 200 {
            assert_eq!(body, ada());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the interval never brought rsa-2 in: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(jwks.fetches() >= 2);
}

#[tokio::test]
async fn jwks_files_a_custom_header_and_a_cookie_carry_tokens() {
    let setup = setup(
        "auth:
  jwt:
    header: x-token
    prefix: ''
    cookie: session
    jwks:
      - file: tests/fixtures/auth/jwks.json
",
    )
    .await;
    let raw = token("ec-1", &claims(json!({})));
    let (status, body, _) = setup.post("{ me { name } }", &[("x-token", &raw)]).await;
    assert_eq!((status, body), (200, ada()));
    let cookie = format!("theme=dark; session={raw}; other=1");
    let (status, body, _) = setup.post("{ me { name } }", &[("cookie", &cookie)]).await;
    assert_eq!((status, body), (200, ada()));
    // Two session cookies (a browser sends one per path it was set for): the first is read.
    let other = token("rsa-2", &claims(json!({ "sub": "root" })));
    let cookies = format!("session={raw}; session={other}");
    let (status, body, _) = setup.post("{ me { name } }", &[("cookie", &cookies)]).await;
    assert_eq!((status, body), (200, ada()));
    // `Authorization` is not where this gateway looks.
    let (status, body, _) = setup
        .post(
            "{ me { name } }",
            &[("authorization", &format!("Bearer {raw}"))],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!({ "me": null }));
}

#[tokio::test]
async fn claims_feed_header_rules_and_the_per_client_rate_limit() {
    let setup = setup(
        "auth:
  jwt:
    jwks:
      - file: tests/fixtures/auth/jwks.json
headers:
  all:
    request:
      - insert: { name: x-user-id, claim: sub }
      - insert: { name: x-org, claim: org.id }
      - insert: { name: x-roles, claim: roles }
rate_limit:
  per_client:
    requests: 1
    per: 1h
    claim: sub
",
    )
    .await;
    let ada_token = bearer(
        "rsa-1",
        json!({ "sub": "ada", "org": { "id": 42 }, "roles": ["a", "b"] }),
    );
    assert_eq!(setup.me(&ada_token).await, (200, ada()));
    let headers = setup.last_headers();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("x-user-id").as_deref(), Some("ada"));
    assert_eq!(get("x-org").as_deref(), Some("42"));
    assert_eq!(get("x-roles").as_deref(), Some(r#"["a","b"]"#));
    assert_eq!(
        get("authorization"),
        None,
        "the token itself is not forwarded"
    );
    // The same subject again is over its limit; another subject from the same address is not.
    let (status, body) = setup.me(&bearer("ec-1", json!({ "sub": "ada" }))).await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = setup.me(&bearer("ec-1", json!({ "sub": "alan" }))).await;
    assert_eq!((status, body), (200, ada()));
    assert_eq!(
        setup
            .last_headers()
            .iter()
            .find(|(n, _)| n == "x-org")
            .map(|(_, v)| v.clone()),
        None,
        "a missing claim sends no header"
    );
}

// ---------------------------------------------------------------------------------------------
// WebSocket: the token comes from the `connection_init` payload.

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, protocol: &'static str, payload: Value) -> Socket {
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("socket ok");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            match value["type"].as_str() {
                Some("ping") => send(socket, json!({ "type": "pong" })).await,
                Some("ka") => {}
                _ => return value,
            }
        }
    }
}

async fn transport_me(url: &str, payload: Value) -> Value {
    let mut socket = connect(url, "graphql-transport-ws", payload).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { name } }" } }),
    )
    .await;
    next_message(&mut socket).await
}

#[tokio::test]
async fn over_websocket_the_token_comes_from_connection_init() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    // graphql-transport-ws, top-level and nested under `headers`.
    for payload in [
        json!({ "Authorization": bearer("rsa-1", json!({})) }),
        json!({ "headers": { "authorization": bearer("ed-1", json!({})) } }),
    ] {
        let next = transport_me(&setup.ws_url, payload).await;
        assert_eq!(next["type"], "next", "{next}");
        assert_eq!(next["payload"], ada());
    }
    // No token: anonymous, the protected field withheld.
    let next = transport_me(&setup.ws_url, json!({})).await;
    assert_eq!(next["payload"]["data"], json!({ "me": null }), "{next}");
    // The legacy graphql-ws protocol reads the same payload.
    let mut socket = connect(
        &setup.ws_url,
        "graphql-ws",
        json!({ "Authorization": bearer("ec-1", json!({})) }),
    )
    .await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": "{ me { name } }" } }),
    )
    .await;
    let data = next_message(&mut socket).await;
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["payload"], ada());
}

/// Opens a socket and sends `connection_init` with `payload`; what the gateway answers: its
/// messages, then the close frame's code and reason (`None` when the socket stays open).
async fn refused_init(
    url: &str,
    protocol: &'static str,
    payload: Value,
) -> (Vec<Value>, Option<(u16, String)>) {
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let mut messages = Vec::new();
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("an answer in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).expect("json");
                let acknowledged = value["type"] == "connection_ack";
                messages.push(value);
                if acknowledged {
                    return (messages, None);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let frame = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                return (messages, frame);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket error: {e}"),
            None => return (messages, None),
        }
    }
}

#[tokio::test]
async fn a_refused_token_in_connection_init_closes_the_websocket() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    let expired = bearer("rsa-1", json!({ "exp": auth_support::now() - 3600 }));
    let forged = format!("{}x", bearer("rsa-1", json!({})));

    // graphql-transport-ws: closed with 4403 Forbidden, saying why, never acknowledged.
    for token in [&expired, &forged] {
        let (messages, close) = refused_init(
            &setup.ws_url,
            "graphql-transport-ws",
            json!({ "Authorization": token }),
        )
        .await;
        assert!(messages.is_empty(), "{messages:?}");
        let (code, reason) = close.expect("a close frame");
        assert_eq!(code, 4403, "{reason}");
        assert!(reason.starts_with("Forbidden"), "{reason}");
        assert!(
            !reason.contains(token.trim_start_matches("Bearer ")),
            "{reason}"
        );
    }
    let (_, close) = refused_init(
        &setup.ws_url,
        "graphql-transport-ws",
        json!({ "Authorization": &expired }),
    )
    .await;
    assert!(close.is_some_and(|(_, reason)| reason.contains("expired")));

    // Legacy graphql-ws: a `connection_error` with the reason, then the socket closes.
    let (messages, close) = refused_init(
        &setup.ws_url,
        "graphql-ws",
        json!({ "Authorization": &expired }),
    )
    .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["type"], "connection_error");
    assert_eq!(messages[0]["payload"]["message"], "the token has expired");
    assert!(close.is_some(), "the socket stays open");

    // A valid token, or none where none is required, is still acknowledged.
    let valid = json!({ "Authorization": bearer("rsa-1", json!({})) });
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        for payload in [valid.clone(), json!({})] {
            let (messages, close) = refused_init(&setup.ws_url, protocol, payload).await;
            assert_eq!(close, None, "{protocol}");
            assert_eq!(
                messages.last().map(|m| m["type"].clone()),
                Some(json!("connection_ack"))
            );
        }
    }
}

#[tokio::test]
async fn without_a_token_where_one_is_required_the_websocket_is_closed() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&format!(
        "{}  require_authentication: true\n",
        jwks_config(&jwks.url, "")
    ))
    .await;
    let (messages, close) = refused_init(&setup.ws_url, "graphql-transport-ws", json!({})).await;
    assert!(messages.is_empty(), "{messages:?}");
    assert_eq!(close.map(|(code, _)| code), Some(4403));
    let next = transport_me(
        &setup.ws_url,
        json!({ "Authorization": bearer("rsa-1", json!({})) }),
    )
    .await;
    assert_eq!(next["payload"], ada(), "{next}");
}

#[tokio::test]
async fn sse_requests_carry_the_token_in_their_headers() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    let stream = |authorization: String| {
        setup
            .client
            .post(&setup.url)
            .header("accept", "text/event-stream")
            .header("authorization", authorization)
            .json(&json!({ "query": "{ me { name } }" }))
            .send()
    };
    let response = stream(bearer("ec-1", json!({}))).await.expect("reachable");
    assert_eq!(response.status(), 200);
    let text = tokio::time::timeout(WAIT, response.text())
        .await
        .expect("the stream ends")
        .expect("body");
    assert!(text.contains(ADA), "{text}");
    let expired = bearer("ec-1", json!({ "exp": auth_support::now() - 3600 }));
    let response = stream(expired).await.expect("reachable");
    assert_eq!(response.status(), 401);
    let text = response.text().await.expect("body");
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
}

#[tokio::test]
async fn a_hanging_key_server_holds_a_request_no_longer_than_the_jwks_timeout() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(
        &jwks.url,
        "        refresh_interval: 1h\n        min_refresh_interval: 1ms\n        timeout: 1s\n",
    ))
    .await;
    assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await, (200, ada()));
    jwks.hang(true);
    let before = jwks.fetches();
    // Each unknown `kid` sends a fetch that never ends; each request waits one timeout for it
    // (5 s in all), where waiting for the fetch itself (10 s each before) would take 50 s.
    let unknown = bearer("rsa-2", json!({}));
    let requests = async {
        for _ in 0..5 {
            assert_eq!(setup.me(&unknown).await.0, 401);
            // A known key is served from the keys fetched before, the hanging fetch aside.
            assert_eq!(setup.me(&bearer("rsa-1", json!({}))).await, (200, ada()));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), requests)
        .await
        .expect("requests waited for the hanging key server beyond its timeout");
    assert!(
        jwks.fetches() > before,
        "no fetch reached the hanging key server"
    );
    // Once the key server answers again, a rotated-in key is found.
    jwks.hang(false);
    jwks.set(auth_support::both_jwks());
    let deadline = tokio::time::Instant::now() + WAIT;
    while setup.me(&unknown).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "rsa-2 never accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_jwks_that_failed_to_load_is_fetched_again_after_the_floor() {
    // Not a key set at first: the first fetch fails.
    let jwks = JwksServer::start(json!(null)).await;
    let setup = setup(&jwks_config(
        &jwks.url,
        "        refresh_interval: 1h\n        min_refresh_interval: 1ms\n",
    ))
    .await;
    // A token without a `kid` never triggers the unknown-`kid` fetch; it must still get keys
    // once the key server is back.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = None;
    let no_kid = format!(
        "Bearer {}",
        jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &jsonwebtoken::EncodingKey::from_rsa_pem(
                &std::fs::read("tests/fixtures/auth/rsa1.pem").expect("key"),
            )
            .expect("rsa1"),
        )
        .expect("signs")
    );
    assert_eq!(setup.me(&no_kid).await.0, 401);
    assert!(jwks.fetches() >= 1);
    jwks.set(auth_support::jwks_file());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = setup.me(&no_kid).await;
        if status == 200 {
            assert_eq!(body, ada());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "keys never loaded: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// RFC 7519's NumericDate may have a fraction (PyJWT writes `time.time()`): such times are read,
/// not refused.
#[tokio::test]
async fn times_with_a_fraction_are_read() {
    let jwks = JwksServer::start(auth_support::jwks_file()).await;
    let setup = setup(&jwks_config(&jwks.url, "")).await;
    let now = auth_support::now() as f64;
    let past = bearer("rsa-1", json!({ "iat": now - 10.5, "nbf": now - 10.25 }));
    let (status, body, _) = setup.post("{ motd }", &[("authorization", &past)]).await;
    assert_eq!(status, 200, "{body}");
    let ahead = bearer("rsa-1", json!({ "nbf": now + 3600.5 }));
    let (status, body, _) = setup.post("{ motd }", &[("authorization", &ahead)]).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("not valid yet"), "{body}");
}
