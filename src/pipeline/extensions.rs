//! A request's `extensions`, keeping only the members Seam reads.
//!
//! Everything else in `extensions` is checked as JSON and dropped as it is read: a body of a
//! million tiny unused members would otherwise become a tree a hundred times its size in memory,
//! held for as long as the request runs. Members Seam reads keep only their scalars for the
//! same reason (`persistedQuery: {"version": 1, "junk": [...]}` costs nothing either).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The members of `extensions` a request may use.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RequestExtensions {
    /// `extensions` was a list or a scalar, which the receiving stage refuses with its own words.
    pub not_an_object: bool,
    /// `persistedQuery` (automatic persisted queries).
    pub persisted_query: Option<PersistedQueryExtension>,
    /// `operationId` (graphql-sse's single-connection mode).
    pub operation_id: Scalar,
}

/// `extensions.persistedQuery` when present and not null.
#[derive(Debug, Clone, PartialEq)]
pub enum PersistedQueryExtension {
    Object {
        version: Scalar,
        sha256_hash: Scalar,
    },
    /// A string, a number, a list: not the object APQ clients send.
    NotAnObject,
}

/// A JSON value read for its scalar: objects and lists are skipped unread.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum Scalar {
    /// Absent or `null`.
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    /// An object or a list.
    Compound,
}

impl RequestExtensions {
    fn not_an_object() -> Self {
        RequestExtensions {
            not_an_object: true,
            ..Default::default()
        }
    }
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::Number(number) => number.as_u64(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(value.into()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Scalar, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Scalar::Null, Scalar::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Scalar, E> {
        Ok(Scalar::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
}

impl<'de> Deserialize<'de> for PersistedQueryExtension {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PersistedQueryVisitor)
    }
}

struct PersistedQueryVisitor;

impl<'de> Visitor<'de> for PersistedQueryVisitor {
    type Value = PersistedQueryExtension;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut version, mut sha256_hash) = (Scalar::Null, Scalar::Null);
        while let Some(key) = map.next_key::<MemberName>()? {
            match key.0 {
                Some("version") => version = map.next_value()?,
                Some("sha256Hash") => sha256_hash = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(PersistedQueryExtension::Object {
            version,
            sha256_hash,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PersistedQueryExtension::NotAnObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(PersistedQueryExtension::NotAnObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(PersistedQueryExtension::NotAnObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(PersistedQueryExtension::NotAnObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(PersistedQueryExtension::NotAnObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(PersistedQueryExtension::NotAnObject)
    }
}

impl<'de> Deserialize<'de> for RequestExtensions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExtensionsVisitor)
    }
}

struct ExtensionsVisitor;

impl<'de> Visitor<'de> for ExtensionsVisitor {
    type Value = RequestExtensions;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`extensions` as a JSON object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(RequestExtensions::not_an_object())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut extensions = RequestExtensions::default();
        while let Some(key) = map.next_key::<MemberName>()? {
            match key.0 {
                Some("persistedQuery") => {
                    extensions.persisted_query =
                        map.next_value::<Option<PersistedQueryExtension>>()?;
                }
                Some("operationId") => extensions.operation_id = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(extensions)
    }
}

/// A member's name, kept only when it is one Seam reads (it may be long and it is the client's).
struct MemberName(Option<&'static str>);

impl<'de> Deserialize<'de> for MemberName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = MemberName;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<MemberName, E> {
                const READ: [&str; 4] = ["persistedQuery", "operationId", "version", "sha256Hash"];
                Ok(MemberName(READ.into_iter().find(|known| *known == name)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<RequestExtensions, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn keeps_the_members_seam_reads_and_drops_the_rest() {
        let extensions = read(
            r#"{"junk": [{"a": 1}, [2]], "persistedQuery": {"version": 1, "sha256Hash": "ab",
                "more": {"x": [1]}}, "operationId": "op-1", "tail": null}"#,
        )
        .unwrap();
        assert_eq!(
            extensions,
            RequestExtensions {
                not_an_object: false,
                persisted_query: Some(PersistedQueryExtension::Object {
                    version: Scalar::Number(1.into()),
                    sha256_hash: Scalar::String("ab".into()),
                }),
                operation_id: Scalar::String("op-1".into()),
            }
        );
    }

    #[test]
    fn reads_odd_shapes_of_the_members_without_failing() {
        let extensions = read(r#"{"persistedQuery": "x", "operationId": 7}"#).unwrap();
        assert_eq!(
            extensions.persisted_query,
            Some(PersistedQueryExtension::NotAnObject)
        );
        assert_eq!(extensions.operation_id, Scalar::Number(7.into()));
        let extensions = read(r#"{"persistedQuery": null, "operationId": {"a": 1}}"#).unwrap();
        assert_eq!(extensions.persisted_query, None);
        assert_eq!(extensions.operation_id, Scalar::Compound);
        let extensions = read(r#"{"persistedQuery": {"version": [1], "sha256Hash": 2}}"#).unwrap();
        assert_eq!(
            extensions.persisted_query,
            Some(PersistedQueryExtension::Object {
                version: Scalar::Compound,
                sha256_hash: Scalar::Number(2.into()),
            })
        );
    }

    #[test]
    fn marks_anything_but_an_object() {
        for json in ["[]", "[1, {}]", "1", "-1", "1.5", "\"x\"", "true"] {
            assert!(read(json).unwrap().not_an_object, "{json}");
        }
        assert!(!read("{}").unwrap().not_an_object);
        assert_eq!(
            serde_json::from_str::<Option<RequestExtensions>>("null").unwrap(),
            None
        );
    }

    #[test]
    fn refuses_malformed_json_in_the_members_it_drops() {
        assert!(read(r#"{"junk": [1, }"#).is_err());
    }
}
