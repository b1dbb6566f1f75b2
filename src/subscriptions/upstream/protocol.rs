//! The messages of the `graphql-transport-ws` protocol as a client sends and reads them.
//!
//! Only the fields Seam acts on are read; anything a server adds is ignored, so a server that
//! sends `extensions` or a `connection_ack` payload is accepted as it is.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::UpstreamEvent;

/// The subprotocol named in `Sec-WebSocket-Protocol`.
pub(super) const SUBPROTOCOL: &str = "graphql-transport-ws";

pub(super) fn connection_init() -> String {
    json!({ "type": "connection_init" }).to_string()
}

pub(super) fn ping() -> String {
    json!({ "type": "ping" }).to_string()
}

pub(super) fn pong() -> String {
    json!({ "type": "pong" }).to_string()
}

pub(super) fn subscribe(id: u64, query: &str, variables: &Map<String, Value>) -> String {
    json!({
        "id": id.to_string(),
        "type": "subscribe",
        "payload": { "query": query, "variables": variables },
    })
    .to_string()
}

pub(super) fn complete(id: u64) -> String {
    json!({ "id": id.to_string(), "type": "complete" }).to_string()
}

/// One message from the server, read at the edge so the connection task matches on meaning.
#[derive(Debug)]
pub(super) enum ServerMessage {
    ConnectionAck,
    Ping,
    Pong,
    /// An event of subscription `id`.
    Next {
        id: u64,
        event: UpstreamEvent,
    },
    /// Subscription `id` failed before or while running; nothing more comes for it.
    Error {
        id: u64,
        errors: Vec<Value>,
    },
    /// Subscription `id` ended normally.
    Complete {
        id: u64,
    },
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
}

/// Reads one text frame; the error says what was wrong, for the close reason and the log.
pub(super) fn parse(text: &[u8]) -> Result<ServerMessage, String> {
    let raw: RawMessage = serde_json::from_slice(text)
        .map_err(|error| format!("a message that is not valid: {error}"))?;
    let id = || -> Result<u64, String> {
        let id = raw
            .id
            .as_deref()
            .ok_or_else(|| format!("a `{}` message without an id", raw.kind))?;
        // Every id Seam sends is a number, so anything else is not an answer to us.
        id.parse()
            .map_err(|_| format!("a `{}` message for unknown id `{id}`", raw.kind))
    };
    match raw.kind.as_str() {
        "connection_ack" => Ok(ServerMessage::ConnectionAck),
        "ping" => Ok(ServerMessage::Ping),
        "pong" => Ok(ServerMessage::Pong),
        "next" => {
            let id = id()?;
            Ok(ServerMessage::Next {
                id,
                event: event_of(raw.payload),
            })
        }
        "error" => {
            let id = id()?;
            let errors = match raw.payload {
                Some(Value::Array(errors)) => errors,
                Some(error @ Value::Object(_)) => vec![error],
                _ => vec![json!({ "message": "the subgraph refused the subscription" })],
            };
            Ok(ServerMessage::Error { id, errors })
        }
        "complete" => Ok(ServerMessage::Complete { id: id()? }),
        other => Err(format!("an unexpected `{other}` message")),
    }
}

/// A `next` payload is a GraphQL execution result. Errors win over partial data, because an
/// event that the subgraph could only half resolve is reported rather than completed as if whole.
fn event_of(payload: Option<Value>) -> UpstreamEvent {
    let Some(Value::Object(mut result)) = payload else {
        return UpstreamEvent::Errors(vec![malformed(
            "the subgraph sent an event without a result",
        )]);
    };
    match result.remove("errors") {
        Some(Value::Array(errors)) if !errors.is_empty() => return UpstreamEvent::Errors(errors),
        _ => {}
    }
    match result.remove("data") {
        Some(data @ Value::Object(_)) => UpstreamEvent::Data(data),
        _ => UpstreamEvent::Errors(vec![malformed("the subgraph sent an event without data")]),
    }
}

fn malformed(message: &str) -> Value {
    json!({ "message": message, "extensions": { "code": "SUBREQUEST_MALFORMED_RESPONSE" } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_with_data_is_data() {
        let message = parse(br#"{"id":"7","type":"next","payload":{"data":{"a":1}}}"#);
        assert!(matches!(
            message,
            Ok(ServerMessage::Next { id: 7, event: UpstreamEvent::Data(data) }) if data == json!({"a": 1})
        ));
    }

    #[test]
    fn next_with_errors_is_errors() {
        let message = parse(
            br#"{"id":"2","type":"next","payload":{"data":null,"errors":[{"message":"boom"}]}}"#,
        );
        assert!(matches!(
            message,
            Ok(ServerMessage::Next { id: 2, event: UpstreamEvent::Errors(errors) })
                if errors == vec![json!({"message": "boom"})]
        ));
    }

    #[test]
    fn foreign_ids_and_garbage_are_protocol_errors() {
        assert!(parse(br#"{"id":"abc","type":"next","payload":{}}"#).is_err());
        assert!(parse(br#"{"type":"next","payload":{}}"#).is_err());
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"type":"subscribe"}"#).is_err());
    }
}
