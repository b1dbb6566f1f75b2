//! Merging one value into another in the response tree: a later fetch's fields join the objects
//! an earlier fetch made, and a key put back after aliasing apart joins the value another
//! fragment gave it, so the tree holds one value per place in the response.
//!
//! The value merged in is either the request's own (moved into place) or a subgraph answer it
//! shares with other requests in flight (copied where it lands, and only there): copying a
//! shared answer whole and then merging the copy cost each waiting request a second tree.

use std::collections::HashMap;

use compact_str::CompactString;

use super::value::{merge_needs_index, Object, Value};

/// A value to merge in: owned, or borrowed from an answer other requests share.
pub(crate) trait Incoming: Sized {
    type Entries: Iterator<Item = (Self::Key, Self)>;
    type Items: Iterator<Item = Self>;
    type Key: AsRef<str>;

    /// The number of keys, if the value is an object.
    fn object_len(&self) -> Option<usize>;
    /// The number of items, if the value is a list.
    fn list_len(&self) -> Option<usize>;
    /// An object's entries (none for any other value).
    fn entries(self) -> Self::Entries;
    /// A list's items (none for any other value).
    fn items(self) -> Self::Items;
    /// The key as the target object stores it (copied when borrowed).
    fn into_key(key: Self::Key) -> CompactString;
    /// The value as the target stores it (copied when borrowed).
    fn into_value(self) -> Value;
}

impl Incoming for Value {
    type Entries = std::vec::IntoIter<(CompactString, Value)>;
    type Items = std::vec::IntoIter<Value>;
    type Key = CompactString;

    fn object_len(&self) -> Option<usize> {
        self.as_object().map(Object::len)
    }

    fn list_len(&self) -> Option<usize> {
        match self {
            Value::Array(items) => Some(items.len()),
            _ => None,
        }
    }

    fn entries(self) -> Self::Entries {
        match self {
            Value::Object(object) => object.into_entries().into_iter(),
            _ => Vec::new().into_iter(),
        }
    }

    fn items(self) -> Self::Items {
        match self {
            Value::Array(items) => items.into_iter(),
            _ => Vec::new().into_iter(),
        }
    }

    fn into_key(key: CompactString) -> CompactString {
        key
    }

    fn into_value(self) -> Value {
        self
    }
}

type BorrowedEntry<'a> = (&'a CompactString, &'a Value);

impl<'a> Incoming for &'a Value {
    type Entries = std::iter::Map<
        std::slice::Iter<'a, (CompactString, Value)>,
        fn(&'a (CompactString, Value)) -> BorrowedEntry<'a>,
    >;
    type Items = std::slice::Iter<'a, Value>;
    type Key = &'a CompactString;

    fn object_len(&self) -> Option<usize> {
        <Value as Incoming>::object_len(self)
    }

    fn list_len(&self) -> Option<usize> {
        <Value as Incoming>::list_len(self)
    }

    fn entries(self) -> Self::Entries {
        let entries: &'a [(CompactString, Value)] = match self {
            Value::Object(object) => object.entries(),
            _ => &[],
        };
        entries.iter().map(|(key, value)| (key, value))
    }

    fn items(self) -> Self::Items {
        match self {
            Value::Array(items) => items.iter(),
            _ => [].iter(),
        }
    }

    fn into_key(key: &CompactString) -> CompactString {
        key.clone()
    }

    fn into_value(self) -> Value {
        self.clone()
    }
}

/// Merges `source` into `target`: objects key by key, equal-length lists element by element;
/// anything else replaces what was there.
pub(crate) fn deep_merge<S: Incoming>(target: &mut Value, source: S) {
    match target {
        Value::Object(t) => {
            if let Some(incoming) = source.object_len() {
                merge_object(t, incoming, source);
                return;
            }
        }
        Value::Array(t) if source.list_len() == Some(t.len()) => {
            for (existing, value) in t.iter_mut().zip(source.items()) {
                deep_merge(existing, value);
            }
            return;
        }
        _ => {}
    }
    *target = source.into_value();
}

fn merge_object<S: Incoming>(t: &mut Object, incoming: usize, source: S) {
    if !merge_needs_index(t, incoming) {
        // Room for all at once: most of an entity answer's keys are new to its target.
        t.reserve(incoming);
        for (key, value) in source.entries() {
            match t.get_mut(key.as_ref()) {
                Some(existing) => deep_merge(existing, value),
                None => t.push(S::into_key(key), value.into_value()),
            }
        }
        return;
    }
    // Many keys on both sides (aliases by the thousand): found by hash, not by a scan each.
    let mut positions: HashMap<CompactString, usize, ahash::RandomState> =
        HashMap::with_capacity_and_hasher(t.len() + incoming, Default::default());
    for (at, (k, _)) in t.iter().enumerate() {
        positions.entry(k.clone()).or_insert(at);
    }
    for (key, value) in source.entries() {
        match positions.get(key.as_ref()).copied() {
            Some(at) => {
                if let Some(existing) = t.value_at_mut(at) {
                    deep_merge(existing, value);
                }
            }
            None => {
                let key = S::into_key(key);
                positions.insert(key.clone(), t.len());
                t.push(key, value.into_value());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::json::parse;

    const SOURCE: &str = r#"{"a":{"y":2,"l":[{"q":1},{"q":2}]},"b":"new","w":[1]}"#;
    const TARGET: &str = r#"{"a":{"x":1,"l":[{"p":1},{"p":2}]},"w":[1,2]}"#;

    fn json(value: &Value) -> String {
        let mut out = Vec::new();
        value.write_json(&mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn a_borrowed_source_merges_exactly_as_an_owned_one() {
        // Objects merge key by key, equal-length lists item by item, a shorter list replaces.
        let expected = r#"{"a":{"x":1,"l":[{"p":1,"q":1},{"p":2,"q":2}],"y":2},"w":[1],"b":"new"}"#;
        let source = parse(SOURCE.as_bytes()).expect("valid JSON");
        let mut owned = parse(TARGET.as_bytes()).expect("valid JSON");
        deep_merge(&mut owned, source.clone());
        assert_eq!(json(&owned), expected);
        let mut borrowed = parse(TARGET.as_bytes()).expect("valid JSON");
        deep_merge(&mut borrowed, &source);
        assert_eq!(json(&borrowed), expected);
        assert_eq!(json(&source), SOURCE, "a borrowed source is left as it was");
    }

    #[test]
    fn values_that_do_not_merge_replace_what_was_there_either_way() {
        // (target, source, result): null targets, scalars and objects replacing each other.
        let cases = [
            ("null", r#"{"a":1}"#, r#"{"a":1}"#),
            ("1", r#"{"a":1}"#, r#"{"a":1}"#),
            (r#"{"a":1}"#, "null", "null"),
            (r#"{"a":{"b":1}}"#, r#"{"a":"s"}"#, r#"{"a":"s"}"#),
            (r#"[{"a":1}]"#, r#"{"a":2}"#, r#"{"a":2}"#),
        ];
        for (target, source, expected) in cases {
            let source = parse(source.as_bytes()).expect("valid JSON");
            let mut owned = parse(target.as_bytes()).expect("valid JSON");
            deep_merge(&mut owned, source.clone());
            let mut borrowed = parse(target.as_bytes()).expect("valid JSON");
            deep_merge(&mut borrowed, &source);
            assert_eq!(
                (json(&owned), json(&borrowed)),
                (expected.into(), expected.into())
            );
        }
    }

    #[test]
    fn many_keys_on_both_sides_merge_through_the_index() {
        // k0..k39 against k20..k59: half the keys merge, half are new.
        let keys = |from: usize, inner: &str| {
            let entries: Vec<String> = (from..from + 40)
                .map(|i| format!(r#""k{i}":{{"{inner}":{i}}}"#))
                .collect();
            format!("{{{}}}", entries.join(","))
        };
        let target = parse(keys(0, "a").as_bytes()).expect("valid JSON");
        let source = parse(keys(20, "b").as_bytes()).expect("valid JSON");
        let (mut owned, mut borrowed) = (target.clone(), target);
        assert!(merge_needs_index(
            owned.as_object().expect("an object"),
            source.as_object().map_or(0, Object::len)
        ));
        deep_merge(&mut owned, source.clone());
        deep_merge(&mut borrowed, &source);
        assert_eq!(owned, borrowed);
        let object = owned.as_object().expect("an object");
        assert_eq!(object.len(), 60, "every key once");
        let inner = |key: &str| {
            object
                .get(key)
                .and_then(Value::as_object)
                .map_or(0, Object::len)
        };
        assert_eq!((inner("k0"), inner("k20"), inner("k59")), (1, 2, 1));
    }
}
