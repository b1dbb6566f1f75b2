//! A client speaking graphql-sse's single-connection mode by hand over real HTTP, and a reader
//! of the event stream it opens, for the single-connection SSE tests.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

/// How long a test waits for any one thing before failing.
pub const PATIENCE: Duration = Duration::from_secs(5);

pub const TOKEN_HEADER: &str = "x-graphql-event-stream-token";

/// A client of one server, speaking the single-connection protocol by hand.
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
}

impl Client {
    pub fn of(url: String) -> Self {
        Client {
            http: reqwest::Client::new(),
            url,
        }
    }

    /// `PUT`: a new stream's token.
    pub async fn reserve(&self) -> String {
        let response = self
            .http
            .put(&self.url)
            .header("accept", "text/plain")
            .send()
            .await
            .expect("server reachable");
        assert_eq!(response.status(), 201);
        assert!(content_type(&response).starts_with("text/plain"));
        let token = response.text().await.expect("a token");
        assert_eq!(token.len(), 32, "128 bits in hex: {token:?}");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token:?}");
        token
    }

    /// `POST` of `query` in distinct connections mode: a stream of its own, no token.
    pub async fn distinct(&self, query: &str) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .expect("server reachable")
    }

    /// `GET` with the token header and `Accept: text/event-stream`.
    pub async fn open(&self, token: &str) -> reqwest::Response {
        self.http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .header(TOKEN_HEADER, token)
            .send()
            .await
            .expect("server reachable")
    }

    /// Reserves and opens a stream.
    pub async fn stream(&self) -> (String, Events) {
        let token = self.reserve().await;
        let response = self.open(&token).await;
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/event-stream"));
        (token, Events::of(response))
    }

    /// `POST` of `query` as operation `id` on the stream.
    pub async fn run(&self, token: &str, id: &str, query: &str) -> reqwest::Response {
        self.post(
            token,
            json!({ "query": query, "extensions": { "operationId": id } }),
        )
        .await
    }

    pub async fn post(&self, token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("accept", "application/json")
            .header(TOKEN_HEADER, token)
            .json(&body)
            .send()
            .await
            .expect("server reachable")
    }

    /// `DELETE ?operationId=id` on the stream.
    pub async fn stop(&self, token: &str, id: &str) -> reqwest::Response {
        self.http
            .delete(format!("{}?operationId={id}", self.url))
            .header(TOKEN_HEADER, token)
            .send()
            .await
            .expect("server reachable")
    }
}

pub fn content_type(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The error code of a refused request's JSON body.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON error body");
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}

/// An open event stream, read event by event.
pub struct Events {
    response: reqwest::Response,
    /// Read and not yet parsed.
    buffer: String,
    /// Keep-alive comments seen so far.
    pub comments: usize,
}

/// One SSE event: its name and its data as JSON.
#[derive(Debug, PartialEq)]
pub struct Event {
    pub name: String,
    pub data: Value,
}

pub fn next(id: &str, payload: Value) -> Event {
    Event {
        name: "next".into(),
        data: json!({ "id": id, "payload": payload }),
    }
}

pub fn complete(id: &str) -> Event {
    Event {
        name: "complete".into(),
        data: json!({ "id": id }),
    }
}

impl Events {
    pub fn of(response: reqwest::Response) -> Self {
        Events {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, skipping comments; fails after [`PATIENCE`] or if the stream ends.
    pub async fn next(&mut self) -> Event {
        match self.next_within(PATIENCE).await {
            Some(event) => event,
            None => panic!("no event in time; unread: {:?}", self.buffer),
        }
    }

    /// The next event if one comes within `within`; `None` also when the stream ended.
    pub async fn next_within(&mut self, within: Duration) -> Option<Event> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
                self.comments += 1;
                continue;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(chunk) => match chunk.expect("stream readable") {
                    Some(chunk) => self
                        .buffer
                        .push_str(std::str::from_utf8(&chunk).expect("UTF-8 events")),
                    None => return None,
                },
            }
        }
    }

    /// Asserts the stream ends (after what is already buffered) within [`PATIENCE`].
    pub async fn ended(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("the stream did not end");
            match chunk {
                Ok(Some(chunk)) => {
                    let text = std::str::from_utf8(&chunk).expect("UTF-8");
                    assert!(
                        text.split_inclusive("\n\n").all(|block| block == ":\n\n"),
                        "events after the end was due: {text:?}"
                    );
                }
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// An event block; `None` for a comment.
pub fn parse(block: &str) -> Option<Event> {
    let mut name = None;
    let mut data = Vec::new();
    for line in block.lines().filter(|line| !line.is_empty()) {
        if let Some(value) = line.strip_prefix("event: ") {
            name = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix("data: ") {
            data.push(value);
        } else {
            assert!(line.starts_with(':'), "not SSE: {line:?} in {block:?}");
        }
    }
    let name = name?;
    let data = serde_json::from_str(&data.join("\n"))
        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {block:?}"));
    Some(Event { name, data })
}
