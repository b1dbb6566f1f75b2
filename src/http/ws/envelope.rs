//! A client message read in two steps: its envelope (`type`, `id`) first, its `payload` kept as
//! JSON text until the type says what it is.
//!
//! Reading a message straight into a tagged enum makes serde buffer the whole message as a
//! generic tree first, a hundred times the size of a message of tiny values; an operation's
//! payload is then read like a POST body, so its unread `extensions` members and undeclared
//! variables are never held either.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::pipeline::receive::from_json_body;
use crate::pipeline::GraphqlRequest;

#[derive(Deserialize)]
pub(super) struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    id: Option<Box<RawValue>>,
    #[serde(default)]
    payload: Option<Box<RawValue>>,
}

impl Envelope {
    /// The envelope of `text`; an error says whether the text is JSON at all
    /// ([`serde_json::Error::is_data`] when it is, but not an object with a string `type`).
    pub fn parse(text: &str) -> Result<Envelope, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// `id`, when it is a string.
    pub fn id(&self) -> Option<String> {
        let raw = self.id.as_ref()?;
        serde_json::from_str(raw.get()).ok()
    }

    /// The payload as any JSON value (`connection_init`'s); `None` when absent or null.
    pub fn payload_value(&self) -> Option<Value> {
        let raw = self.payload.as_ref()?;
        serde_json::from_str(raw.get()).ok()
    }

    /// The payload of an operation message, read as a POST body is; the reason when it is not a
    /// GraphQL request.
    pub fn request(&self) -> Result<GraphqlRequest, String> {
        let raw = self
            .payload
            .as_ref()
            .ok_or_else(|| "the message has no payload".to_owned())?;
        from_json_body(raw.get().as_bytes()).map_err(|error| error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_envelope_and_the_payload_on_demand() {
        let envelope = Envelope::parse(
            r#"{"id": "1", "type": "subscribe", "payload": {"query": "{ a }",
                "variables": {"unused": [{"x": 1}]}, "extensions": {"junk": [1]}}}"#,
        )
        .unwrap();
        assert_eq!(envelope.kind, "subscribe");
        assert_eq!(envelope.id().as_deref(), Some("1"));
        let request = envelope.request().unwrap();
        assert_eq!(request.query.as_deref(), Some("{ a }"));
    }

    #[test]
    fn odd_members_are_read_leniently_and_bad_payloads_are_reasons() {
        let envelope = Envelope::parse(r#"{"type": "connection_init", "id": 7}"#).unwrap();
        assert_eq!(envelope.id(), None);
        assert_eq!(envelope.payload_value(), None);
        let envelope =
            Envelope::parse(r#"{"type": "connection_init", "payload": {"a": 1}}"#).unwrap();
        assert_eq!(envelope.payload_value(), Some(serde_json::json!({"a": 1})));
        for payload in [r#""x""#, "[1]", r#"{"variables": 1}"#] {
            let text = format!(r#"{{"type": "subscribe", "id": "1", "payload": {payload}}}"#);
            assert!(
                Envelope::parse(&text).unwrap().request().is_err(),
                "{payload}"
            );
        }
        let envelope = Envelope::parse(r#"{"type": "subscribe", "id": "1"}"#).unwrap();
        assert!(envelope.request().is_err());
    }

    #[test]
    fn only_objects_with_a_string_type_are_envelopes() {
        assert!(Envelope::parse("nope").is_err_and(|e| !e.is_data()));
        for text in ["[1]", "{}", r#"{"type": 1}"#, "1"] {
            assert!(Envelope::parse(text).is_err_and(|e| e.is_data()), "{text}");
        }
    }
}
