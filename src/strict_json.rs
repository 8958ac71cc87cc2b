//! JSON with one value per key. serde_json keeps the last of duplicate keys
//! silently, so `{"name":"a","name":"b"}` could mean different things to
//! Confab and to a proxy or client that keeps the first; request bodies and
//! WebSocket frames are checked with [`check_unique_keys`] before they are
//! parsed. The check walks the text once without building values, and keys
//! without escapes are compared where they lie in the input.
//!
//! Imports nothing from the crate.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// Objects with more keys than this are checked with a hash set instead of
/// a linear scan.
const LINEAR_KEYS: usize = 16;

/// Fails when any object in the JSON text `text` repeats a key (or when
/// `text` is not JSON). Takes `&str`: text already known to be UTF-8 is not
/// checked again.
pub fn check_unique_keys(text: &str) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    Unique::deserialize(&mut de)?;
    de.end()
}

/// Any JSON value, checked for repeated keys as it is read.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut set: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let repeated = match &mut set {
                Some(set) => !set.insert(key.clone()),
                None if seen.contains(&key) => true,
                None => {
                    seen.push(key.clone());
                    if seen.len() > LINEAR_KEYS {
                        set = Some(seen.drain(..).collect());
                    }
                    false
                }
            };
            if repeated {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            map.next_value::<Unique>()?;
        }
        Ok(Unique)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::check_unique_keys;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        assert!(check_unique_keys(r#"{"a":1,"b":[{"a":1},{"a":2}]}"#).is_ok());
        assert!(check_unique_keys(r#"{"a":1,"a":2}"#).is_err());
        assert!(check_unique_keys(r#"{"d":{"x":[{"k":1,"k":1}]}}"#).is_err());
        // An escaped spelling of the same key is the same key.
        assert!(check_unique_keys(r#"{"a":1,"\u0061":2}"#).is_err());
    }

    #[test]
    fn large_objects_use_the_set() {
        let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let ok = format!("{{{}}}", keys.join(","));
        assert!(check_unique_keys(ok.as_str()).is_ok());
        let repeated = format!("{{{},\"k3\":0}}", keys.join(","));
        assert!(check_unique_keys(repeated.as_str()).is_err());
    }

    #[test]
    fn non_json_and_trailing_text_are_refused() {
        assert!(check_unique_keys("{").is_err());
        assert!(check_unique_keys("{} x").is_err());
        assert!(check_unique_keys("[1, \"two\", null, true, 1.5]").is_ok());
    }
}
