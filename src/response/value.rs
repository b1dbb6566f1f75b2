//! The response tree's JSON value.
//!
//! Subgraph answers are parsed straight into this type and merged in place. It exists because
//! `serde_json::Value` costs an allocation per key and per string and a B-tree per object, which
//! made allocation the largest cost of a request. Here objects are small ordered vectors (GraphQL
//! objects have few keys, so a linear scan beats hashing), and short keys and strings — nearly all
//! of them — are stored inline. Objects keep their keys' order, so introspection answers come out
//! in the order they were produced.

use std::collections::HashMap;
use std::fmt;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use smol_str::SmolStr;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// A number as its JSON text: passed through exactly, never computed with.
    Number(CompactString),
    String(Text),
    Array(Vec<Value>),
    Object(Object),
}

/// A string of the response tree.
///
/// Up to 23 bytes inline, longer ones behind a reference count: an entity answer is copied to
/// every place it fills and to every client sharing a subgraph call, and its long texts
/// (descriptions, reviews) are then shared instead of copied each time.
///
/// It remembers whether it is known to be valid inside JSON quotes as it is: a string the
/// parser read without escapes cannot hold a quote, a backslash or a control character, so it
/// is written back without the scan for them. Writing long texts was the largest single cost of
/// shaping; nearly every string of a subgraph answer is of that kind.
#[derive(Clone)]
pub struct Text {
    text: SmolStr,
    /// True only when the text needs no escaping in JSON.
    plain: bool,
}

impl Text {
    /// A text read from JSON without escapes: the caller vouches that it holds no `"`, `\` or
    /// control character.
    pub(super) fn plain(text: &str) -> Self {
        Self {
            text: SmolStr::from(text),
            plain: true,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Appends the text as a JSON string literal.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        if self.plain {
            write_plain_json_string(out, &self.text);
        } else {
            write_json_string(out, &self.text);
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.text.as_str(), f)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self {
            text: SmolStr::from(text),
            plain: false,
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self {
            text: SmolStr::from(text),
            plain: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    entries: Vec<(CompactString, Value)>,
}

impl Object {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Appends without looking for `key`; for callers that just checked it is absent.
    pub fn push(&mut self, key: CompactString, value: Value) {
        self.entries.push((key, value));
    }

    /// Appends `key` with a null value and returns the value's place, for parsing in place.
    pub fn push_slot(&mut self, key: CompactString) -> &mut Value {
        self.entries.push((key, Value::Null));
        let last = self.entries.len() - 1;
        &mut self.entries[last].1
    }

    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries as a slice, for callers that need an iterator type they can name.
    pub fn entries(&self) -> &[(CompactString, Value)] {
        &self.entries
    }

    pub fn into_entries(self) -> Vec<(CompactString, Value)> {
        self.entries
    }

    /// The value at `position` (as counted by `iter`).
    pub fn value_at_mut(&mut self, position: usize) -> Option<&mut Value> {
        self.entries.get_mut(position).map(|(_, v)| v)
    }
}

/// Below this many keys a scan is faster than hashing.
const INDEXED_FROM: usize = 16;

/// Looks keys up in one object: by a scan while it has the usual few keys, through a hash index
/// built once when it is large. Objects stay plain vectors (an index in every object cost 8 % of
/// the instructions of a typical request); the few places that read many keys of one object —
/// shaping and merging, where a client may have asked for 100,000 aliases — index it for the
/// time they need it, so their work stays linear.
pub struct KeyLookup<'o> {
    object: &'o Object,
    index: Option<HashMap<&'o str, usize, ahash::RandomState>>,
}

impl<'o> KeyLookup<'o> {
    pub fn new(object: &'o Object) -> Self {
        let index = (object.len() > INDEXED_FROM).then(|| key_positions(object));
        Self { object, index }
    }

    /// The first value under `key`, as `Object::get` finds it.
    pub fn get(&self, key: &str) -> Option<&'o Value> {
        match &self.index {
            Some(index) => {
                let at = *index.get(key)?;
                self.object.entries.get(at).map(|(_, v)| v)
            }
            None => self.object.get(key),
        }
    }
}

/// Key ▶ position of its first occurrence.
fn key_positions(object: &Object) -> HashMap<&str, usize, ahash::RandomState> {
    let mut index = HashMap::with_capacity_and_hasher(object.len(), ahash::RandomState::default());
    for (at, (k, _)) in object.entries.iter().enumerate() {
        index.entry(k.as_str()).or_insert(at);
    }
    index
}

/// Whether merging `incoming` keys into `object` key by key is better done through an index
/// than by a scan of the object per key.
pub(crate) fn merge_needs_index(object: &Object, incoming: usize) -> bool {
    incoming.saturating_mul(object.len() + incoming) > INDEXED_FROM * INDEXED_FROM
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Appends this value as JSON text.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(n) => out.extend_from_slice(n.as_bytes()),
            Value::String(s) => s.write_json(out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out);
                }
                out.push(b']');
            }
            Value::Object(object) => {
                out.push(b'{');
                for (i, (key, value)) in object.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(out, key);
                    out.push(b':');
                    value.write_json(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// Appends `s` as a JSON string literal; the common case (nothing to escape) is a plain copy.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    let needs_escape = super::scan::plain_prefix_len(s.as_bytes()) < s.len();
    if needs_escape {
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        write_plain_json_string(out, s);
    }
}

/// Appends a GraphQL name (a field, alias or type name) as a JSON string. Names are ASCII
/// letters, digits and `_` by the grammar, so they are written without the scan for characters
/// to escape: representations write two or three names per entity, and that scan was most of
/// their cost.
pub fn write_name(out: &mut Vec<u8>, name: &apollo_compiler::Name) {
    write_plain_json_string(out, name);
}

/// Appends `s`, which needs no escaping, in quotes.
fn write_plain_json_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(compact_str::format_compact!("{v}")))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(compact_str::format_compact!("{v}")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, |n| {
            Value::Number(compact_str::format_compact!("{n}"))
        }))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(Text::from(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(Text::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Object::with_capacity(map.size_hint().unwrap_or(4).min(64));
        while let Some(key) = map.next_key::<CompactString>()? {
            let value: Value = map.next_value()?;
            // No search for duplicate keys (it would make parsing quadratic per object); should a
            // subgraph send one, lookups see the first.
            object.push(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    serializer.serialize_i64(i)
                } else if let Ok(u) = n.parse::<u64>() {
                    serializer.serialize_u64(u)
                } else {
                    serializer.serialize_f64(n.parse::<f64>().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(object) => {
                let mut map = serializer.serialize_map(Some(object.len()))?;
                for (k, v) in &object.entries {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_key_order() {
        let text = r#"{"z":1,"a":[true,null,"x\"y"],"m":{"k":-2.5,"big":18446744073709551615}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        value.write_json(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn push_get_and_remove() {
        let mut o = Object::default();
        o.push("a".into(), Value::Bool(true));
        *o.push_slot("b".into()) = Value::Bool(false);
        assert_eq!(o.len(), 2);
        assert_eq!(o.get("b"), Some(&Value::Bool(false)));
        assert_eq!(o.remove("b"), Some(Value::Bool(false)));
        assert_eq!(o.get("a"), Some(&Value::Bool(true)));
        assert_eq!(o.remove("a"), Some(Value::Bool(true)));
        assert!(o.is_empty());
    }

    #[test]
    fn key_lookup_finds_every_key_of_a_large_object_and_the_first_of_duplicates() {
        let mut o = Object::default();
        for i in 0..1000 {
            o.push(format!("k{i}").into(), Value::Number(i.to_string().into()));
        }
        o.push("k7".into(), Value::Null);
        let lookup = KeyLookup::new(&o);
        for i in (0..1000).rev() {
            let expected = Value::Number(i.to_string().into());
            assert_eq!(lookup.get(&format!("k{i}")), Some(&expected));
        }
        assert_eq!(lookup.get("k1000"), None);
        // The duplicate appended last stays hidden, as from `Object::get`.
        assert_eq!(lookup.get("k7"), Some(&Value::Number("7".into())));
        assert_eq!(o.get("k7"), lookup.get("k7"));
        let small = Object::default();
        assert_eq!(KeyLookup::new(&small).get("k"), None);
    }

    #[test]
    fn a_long_string_is_shared_by_its_copies_and_a_short_one_is_inline() {
        // Entity answers are copied to every place they fill: a copy must not copy the text.
        let long = "a review long enough to live on the heap, as most review bodies do";
        let parsed = crate::response::json::parse(format!("[\"{long}\",\"short\"]").as_bytes())
            .expect("valid JSON");
        let copy = parsed.clone();
        let (Value::Array(original), Value::Array(copied)) = (&parsed, &copy) else {
            panic!("arrays");
        };
        let text = |v: &Value| v.as_str().map(|s| (s.as_ptr(), s.to_owned()));
        let (Some((at, text_a)), Some((copy_at, text_b))) = (text(&original[0]), text(&copied[0]))
        else {
            panic!("strings");
        };
        assert_eq!(text_a, long);
        assert_eq!(text_b, long);
        assert_eq!(at, copy_at, "the copy shares the original's text");
        let Value::String(short) = &original[1] else {
            panic!("a string");
        };
        assert!(!short.text.is_heap_allocated());
    }

    #[test]
    fn strings_read_without_escapes_are_written_as_read_and_others_are_escaped() {
        let parsed = crate::response::json::parse(br#"["plain text","a \"quoted\"\nline"]"#)
            .expect("valid JSON");
        let mut out = Vec::new();
        parsed.write_json(&mut out);
        assert_eq!(out, br#"["plain text","a \"quoted\"\nline"]"#);
        // A text that did not come from JSON is checked when written, whatever it holds.
        let mut out = Vec::new();
        Value::String(Text::from("say \"hi\"\u{1}")).write_json(&mut out);
        assert_eq!(out, br#""say \"hi\"\u0001""#);
        let Value::Array(items) = &parsed else {
            panic!("an array");
        };
        assert_eq!(items[1].as_str(), Some("a \"quoted\"\nline"));
        // Only the text read without escapes skips the check.
        let plain = |v: &Value| matches!(v, Value::String(t) if t.plain);
        assert!(plain(&items[0]));
        assert!(!plain(&items[1]));
    }

    #[test]
    fn values_stay_small() {
        // Every object, array element and string of a response is a Value: its size is memory
        // and copying on the hot path.
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "{}",
            std::mem::size_of::<Value>()
        );
    }
}
