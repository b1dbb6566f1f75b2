//! Tokens for the auth tests: signed here with the fixed test keys of `tests/fixtures/auth/`
//! (whose public halves are in `jwks.json` and `jwks-rotated.json`) or an HS secret, and a JWKS
//! server on 127.0.0.1 whose key set a test can change and whose fetches it can count.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "seam";
pub const HS_SECRET: &str = "a-test-secret-of-more-than-16-bytes";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/auth/{name}")).expect("test key file")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Claims valid for an hour, from the test issuer to the test audience, plus `extra`.
pub fn claims(extra: Value) -> Value {
    let mut claims = json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 3600,
    });
    if let (Some(base), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        base.extend(extra);
    }
    claims
}

/// A token signed by the test key `kid` (`rsa-1`, `rsa-1-pss`, `ec-1`, `ed-1`, `rsa-2`, or
/// `hs` for the HS256 secret).
pub fn token(kid: &str, claims: &Value) -> String {
    let (alg, key) = match kid {
        "rsa-1" => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&fixture("rsa1.pem")).expect("rsa1"),
        ),
        "rsa-1-pss" => (
            Algorithm::PS256,
            EncodingKey::from_rsa_pem(&fixture("rsa1.pem")).expect("rsa1"),
        ),
        "rsa-2" => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&fixture("rsa2.pem")).expect("rsa2"),
        ),
        "ec-1" => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&fixture("ec1.pem")).expect("ec1"),
        ),
        "ed-1" => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&fixture("ed1.pem")).expect("ed1"),
        ),
        "hs" => (
            Algorithm::HS256,
            EncodingKey::from_secret(HS_SECRET.as_bytes()),
        ),
        other => panic!("no test key {other}"),
    };
    let mut header = Header::new(alg);
    if kid != "hs" {
        header.kid = Some(kid.to_owned());
    }
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

/// `Bearer <token>` for the test key `kid` with [`claims`]`(extra)`.
pub fn bearer(kid: &str, extra: Value) -> String {
    format!("Bearer {}", token(kid, &claims(extra)))
}

pub fn jwks_file() -> Value {
    serde_json::from_slice(&fixture("jwks.json")).expect("jwks.json")
}

pub fn rotated_jwks_file() -> Value {
    serde_json::from_slice(&fixture("jwks-rotated.json")).expect("jwks-rotated.json")
}

/// A JWKS served over HTTP; `set` changes what it serves, `fetches` counts the requests.
#[derive(Clone)]
pub struct JwksServer {
    pub url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    /// While set, a fetch is counted and then never answered.
    hanging: Arc<AtomicBool>,
}

impl JwksServer {
    pub async fn start(keys: Value) -> Self {
        let served = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let hanging = Arc::new(AtomicBool::new(false));
        let (state, count, hang) = (served.clone(), fetches.clone(), hanging.clone());
        let router = Router::new().route(
            "/jwks.json",
            get(move || {
                let (state, count, hang) = (state.clone(), count.clone(), hang.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    if hang.load(Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    let body = state.lock().expect("jwks lock").to_string();
                    ([("content-type", "application/json")], body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        JwksServer {
            url: format!("http://{addr}/jwks.json"),
            keys: served,
            fetches,
            hanging,
        }
    }

    /// From now on every fetch hangs (`true`) or is answered again (`false`).
    pub fn hang(&self, on: bool) {
        self.hanging.store(on, Ordering::SeqCst);
    }

    pub fn set(&self, keys: Value) {
        *self.keys.lock().expect("jwks lock") = keys;
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// Both key sets in one document.
pub fn both_jwks() -> Value {
    let mut keys = jwks_file()["keys"].as_array().cloned().unwrap_or_default();
    keys.extend(
        rotated_jwks_file()["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    json!({ "keys": keys })
}
