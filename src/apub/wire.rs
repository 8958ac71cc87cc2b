//! Lenient readers for what other servers put on the wire. JSON-LD
//! compaction (Fedify, and any server that compacts) writes a property with
//! one value as a scalar (`"to": "…"`, `"tag": {…}`) and with several as an
//! array; references (`actor`, `object`, `inReplyTo`, `attributedTo`,
//! `target`) may be a bare id or an embedded object. These functions, used
//! with `#[serde(deserialize_with = …)]`, take every such form and keep only
//! what Confab reads: from an embedded object, only its `id` (nothing in it
//! is trusted unless it is fetched or verified).
//!
//! Imports nothing of Confab's.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

/// The public collection, which peers also write `as:Public` or `Public`.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// One value, an array of values, or nothing (`null` or absent).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

/// One value or many; `null` is none. Use with `#[serde(default)]`.
pub fn one_or_many<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Ok(match Option::<OneOrMany<T>>::deserialize(deserializer)? {
        None => vec![],
        Some(OneOrMany::One(value)) => vec![value],
        Some(OneOrMany::Many(values)) => values,
    })
}

/// One value or many, keeping those that parse as `T` (an actor's
/// `attachment` lists profile fields among images and links).
pub fn each_that_parses<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    T: DeserializeOwned,
    D: Deserializer<'de>,
{
    let values: Vec<Value> = one_or_many(deserializer)?;
    Ok(values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// One value or many, of which the first is kept (there must be one).
pub fn first<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    one_or_many(deserializer)?
        .into_iter()
        .next()
        .ok_or_else(|| D::Error::custom("expected a value, found an empty array"))
}

/// The id a reference names: the string itself, or the `id` of an embedded
/// object; `None` for anything else.
fn id_of(value: &Value) -> Option<Url> {
    match value {
        Value::String(s) => {
            let s = match s.as_str() {
                "as:Public" | "Public" => PUBLIC,
                other => other,
            };
            Url::parse(s).ok()
        }
        Value::Object(map) => map.get("id").and_then(id_of),
        _ => None,
    }
}

/// Addressees (`to`, `cc`, `audience`): ids or embedded objects, one or
/// many, with the public aliases spelled out. Entries that name nothing
/// Confab can read are left out: they cannot address anyone here.
pub fn addressees<'de, D>(deserializer: D) -> Result<Vec<Url>, D::Error>
where
    D: Deserializer<'de>,
{
    let values: Vec<Value> = one_or_many(deserializer)?;
    Ok(values.iter().filter_map(id_of).collect())
}

/// A required reference: an id, an embedded object with an `id`, or an
/// array of them (the first is taken, as for a Peertube-style
/// `attributedTo` that lists an account and a channel).
pub fn reference<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: From<Url>,
    D: Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    first_id(&value)
        .map(T::from)
        .ok_or_else(|| D::Error::custom("expected an id or an object with an id"))
}

/// An optional reference: like [`reference`], but absent, `null` or
/// unreadable is `None` (an unreadable `inReplyTo` must not cost the
/// message).
pub fn optional_reference<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: From<Url>,
    D: Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    Ok(first_id(&value).map(T::from))
}

fn first_id(value: &Value) -> Option<Url> {
    match value {
        Value::Array(values) => values.first().and_then(id_of),
        other => id_of(other),
    }
}

/// A value that is kept only if it parses; anything else is `None` (a
/// `published` in a form chrono cannot read, a non-URL `context`).
pub fn lenient<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: DeserializeOwned,
    D: Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A string that may be `null` or absent (Misskey sends `"content": null`
/// for a note that is only an attachment).
pub fn string_or_null<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[serde(default, deserialize_with = "addressees")]
        to: Vec<Url>,
        #[serde(default, deserialize_with = "one_or_many")]
        tag: Vec<Value>,
        #[serde(deserialize_with = "reference")]
        actor: Url,
        #[serde(default, deserialize_with = "optional_reference")]
        in_reply_to: Option<Url>,
        #[serde(default, deserialize_with = "lenient")]
        published: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(default, deserialize_with = "string_or_null")]
        content: String,
    }

    fn sample(value: Value) -> Sample {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn scalars_and_arrays_are_both_read() {
        let one = sample(
            json!({"to": "https://a.example/u/1", "tag": {"type": "Mention"},
            "actor": "https://a.example/u/2"}),
        );
        assert_eq!(one.to.len(), 1);
        assert_eq!(one.tag.len(), 1);
        let many = sample(json!({"to": ["https://a.example/u/1", "as:Public"],
            "tag": [{"type": "Mention"}, {"type": "Hashtag"}], "actor": "https://a.example/u/2"}));
        assert_eq!(many.to[1].as_str(), PUBLIC);
        assert_eq!(many.tag.len(), 2);
        let none = sample(json!({"to": null, "tag": null, "actor": "https://a.example/u/2"}));
        assert!(none.to.is_empty() && none.tag.is_empty());
    }

    #[test]
    fn references_take_ids_or_embedded_objects() {
        let embedded = sample(json!({
            "actor": {"id": "https://a.example/u/2", "type": "Person", "sec:publicKey": {}},
            "inReplyTo": {"id": "https://a.example/n/1", "type": "Note"},
        }));
        assert_eq!(embedded.actor.as_str(), "https://a.example/u/2");
        assert_eq!(
            embedded.in_reply_to.map(String::from).as_deref(),
            Some("https://a.example/n/1")
        );
        let listed = sample(json!({"actor": ["https://a.example/u/3", "https://a.example/g/1"]}));
        assert_eq!(listed.actor.as_str(), "https://a.example/u/3");
        let unreadable = sample(json!({"actor": "https://a.example/u/2", "inReplyTo": 7}));
        assert!(unreadable.in_reply_to.is_none());
        let missing_id = serde_json::from_value::<Sample>(json!({"actor": {"type": "Person"}}));
        assert!(missing_id.is_err(), "a reference without an id is refused");
    }

    #[test]
    fn odd_scalars_are_tolerated() {
        let odd = sample(json!({"actor": "https://a.example/u/2",
            "published": "2026-12-04T18:31:27.123456789Z", "content": null}));
        assert_eq!(
            odd.published.map(|p| p.timestamp_subsec_nanos()),
            Some(123_456_789)
        );
        assert_eq!(odd.content, "");
        let garbled = sample(json!({"actor": "https://a.example/u/2", "published": "yesterday"}));
        assert!(garbled.published.is_none());
    }
}
