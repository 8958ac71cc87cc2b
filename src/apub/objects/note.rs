//! Chat messages as ActivityPub `Note`s (and Pleroma/Lemmy `ChatMessage`s
//! on the way in). A direct message has exactly one actor in `to`, nothing
//! in `cc`, and a `Mention` of the recipient, so Mastodon shows it as a
//! direct message and Lemmy accepts it as a private message.

use crate::apub::{html, markdown, wire};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// `Note` or `ChatMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteKind {
    Note,
    ChatMessage,
}

/// `source`: the text the HTML was made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content: String,
    #[serde(default)]
    pub media_type: Option<String>,
}

/// A `Mention` tag (other tags are kept as they came and ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mention {
    #[serde(rename = "type")]
    pub kind: String,
    pub href: Url,
    pub name: String,
}

impl Mention {
    /// The tag of a mention of `href`, shown as `name` (`@user@host`), as a
    /// `Note`'s `tag` entry.
    pub fn tag(href: Url, name: String) -> Value {
        let mention = Mention {
            kind: "Mention".into(),
            href,
            name,
        };
        serde_json::to_value(mention).unwrap_or(Value::Null)
    }
}

/// A message on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: NoteKind,
    #[serde(deserialize_with = "wire::reference")]
    pub attributed_to: Url,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub cc: Vec<Url>,
    #[serde(default, deserialize_with = "wire::string_or_null")]
    pub content: String,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<Source>,
    #[serde(
        default,
        deserialize_with = "wire::optional_reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub in_reply_to: Option<Url>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<Url>,
    /// The group a message belongs to (FEP-1b12).
    #[serde(
        default,
        deserialize_with = "wire::optional_reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub audience: Option<Url>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "wire::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    /// A game invitation (Confab's extension; `content` carries a text
    /// fallback for everyone else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_invite: Option<GameCard>,
    /// Files and images, in Mastodon's shape; entries that cannot be read
    /// are left out.
    #[serde(
        default,
        deserialize_with = "wire::each_that_parses",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<Attachment>,
}

/// A `Document` (or `Image`, `Video`, `Audio`) attached to a message, as
/// Mastodon, Pleroma, Misskey and Lemmy send it: `url` a string, a `Link`
/// or a list of `Link`s; `name` the alt text; `blurhash` Mastodon's
/// extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_type: Option<String>,
    #[serde(deserialize_with = "href")]
    pub url: Url,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<i32>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<i32>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub blurhash: Option<String>,
}

/// A URL given as a string, a `Link` with `href`, or a list of either (the
/// first that reads is taken).
fn href<'de, D>(deserializer: D) -> Result<Url, D::Error>
where
    D: serde::Deserializer<'de>,
{
    fn of(value: &Value) -> Option<Url> {
        match value {
            Value::String(s) => Url::parse(s).ok(),
            Value::Object(map) => map.get("href").and_then(of),
            Value::Array(values) => values.iter().find_map(of),
            _ => None,
        }
    }
    let value = Value::deserialize(deserializer)?;
    of(&value).ok_or_else(|| serde::de::Error::custom("expected a URL or a Link"))
}

/// The `gameInvite` extension: which game, its settings, until when it can
/// be answered, and who may answer (in a group; in a direct chat it is the
/// recipient). Answers are `Accept` or `Reject` of the `Note`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GameCard {
    pub game: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The actor who may answer; absent: any member but the author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitee: Option<Url>,
}

impl Note {
    /// The attachments as the chat keeps them: links to the sender's
    /// files, with their alt text (`name`) and what Mastodon tells of
    /// images; then the pictures written inline in `content` (as Lemmy
    /// sends them), but not custom emoji (whose addresses `Emoji` tags
    /// name) nor what is already attached.
    pub fn remote_attachments(&self) -> Vec<crate::chat::media::RemoteAttachment> {
        use crate::chat::media::{RemoteAttachment, ATTACHMENTS_MAX};
        let mut out: Vec<RemoteAttachment> = self
            .attachment
            .iter()
            .map(|a| RemoteAttachment {
                url: a.url.to_string(),
                content_type: a.media_type.clone(),
                alt_text: a.name.clone(),
                width: a.width,
                height: a.height,
                blurhash: a.blurhash.clone(),
            })
            .collect();
        let emoji: Vec<&str> = self
            .tag
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("Emoji"))
            .filter_map(|t| t.pointer("/icon/url").and_then(Value::as_str))
            .collect();
        for image in html::inline_images(&self.content, ATTACHMENTS_MAX) {
            if emoji.contains(&image.src.as_str()) || out.iter().any(|a| a.url == image.src) {
                continue;
            }
            out.push(RemoteAttachment {
                content_type: image_type(&image.src),
                url: image.src,
                alt_text: image.alt,
                width: None,
                height: None,
                blurhash: None,
            });
        }
        out
    }

    /// Its `Mention` tags (other tags, and mentions that do not parse,
    /// are skipped).
    pub fn mentions(&self) -> Vec<Mention> {
        self.tag
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
            .filter_map(|t| serde_json::from_value(t.clone()).ok())
            .collect()
    }

    /// The message's Markdown source: `source` when it is Markdown (as
    /// Confab and Lemmy send it), `source` escaped when it is plain text
    /// (Akkoma, older Confab), otherwise the HTML `content` turned into
    /// Markdown (Mastodon, Misskey, Pleroma chats, ...). Whatever the
    /// source holds, it is only ever shown rendered and sanitized.
    pub fn text(&self) -> String {
        if let Some(source) = &self.source {
            if !source.content.trim().is_empty() {
                match source.media_type.as_deref() {
                    Some(t) if t.starts_with(markdown::MEDIA_TYPE) => {
                        return source.content.clone()
                    }
                    Some(t) if t.starts_with("text/plain") => {
                        return markdown::escape(&source.content).into_owned()
                    }
                    None => return markdown::escape(&source.content).into_owned(),
                    Some(_) => {}
                }
            }
        }
        html::to_markdown(&self.content)
    }
}

/// The type of an inline picture, from its address's extension (an
/// `<img>` is a picture, but which kind only the file says; the server
/// checks the content when it fetches it).
fn image_type(src: &str) -> Option<String> {
    let path = src.split(['?', '#']).next().unwrap_or(src);
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    let subtype = match extension.as_str() {
        "png" => "png",
        "jpg" | "jpeg" => "jpeg",
        "gif" => "gif",
        "webp" => "webp",
        "avif" => "avif",
        _ => return None,
    };
    Some(format!("image/{subtype}"))
}

/// `Tombstone` (what a deleted message becomes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub id: Url,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_type: Option<String>,
}

impl Tombstone {
    /// What a deleted message becomes.
    pub fn of_note(id: Url) -> Self {
        Self {
            id,
            kind: Some("Tombstone".into()),
            former_type: Some("Note".into()),
        }
    }
}

/// The object of a `Delete`, `Add` or `Remove`: a bare id, or an embedded
/// object with one (of which only the id, type and former type are kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectRef {
    Id(Url),
    Object(Tombstone),
}

impl ObjectRef {
    pub fn id(&self) -> &Url {
        match self {
            ObjectRef::Id(id) => id,
            ObjectRef::Object(object) => &object.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_of(name: &str) -> Note {
        let text = crate::apub::activities::tests::fixture(name);
        let activity: Value = serde_json::from_str(&text).unwrap();
        serde_json::from_value(activity["object"].clone()).unwrap()
    }

    #[test]
    fn each_peers_attachments_are_read() {
        let note = object_of("mastodon-create-note-with-attachments.json");
        let got = note.remote_attachments();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].url,
            "https://files.remote.example/media_attachments/files/113/original/photo.jpg"
        );
        assert_eq!(got[0].alt_text.as_deref(), Some("A harbour at dusk"));
        assert_eq!((got[0].width, got[0].height), (Some(1200), Some(800)));
        assert!(got[0].blurhash.is_some());
        assert_eq!(got[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(got[1].alt_text, None);

        // Pleroma: one attachment as an object, `url` a list of Links, no
        // content at all.
        let note = object_of("pleroma-chat-message-with-attachment.json");
        let got = note.remote_attachments();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].url, "https://remote.example/media/5f1e.png");
        assert_eq!(got[0].content_type.as_deref(), Some("image/png"));
        assert!(note.content.is_empty());

        // Misskey: drive files as `Document`s with a plain `url`, the
        // comment as `name` or `null`, and `sensitive`.
        let note = object_of("misskey-create-note-with-files.json");
        let got = note.remote_attachments();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].url,
            "https://remote.example/files/webpublic-7c1d.webp"
        );
        assert_eq!(got[0].content_type.as_deref(), Some("image/webp"));
        assert_eq!(got[0].alt_text.as_deref(), Some("A cat on a keyboard"));
        assert_eq!(got[1].content_type.as_deref(), Some("audio/ogg"));
        assert_eq!(got[1].alt_text, None);
        // Lemmy: no attachments on private messages; the picture is inline.
        let note = object_of("lemmy-private-message-with-image.json");
        let got = note.remote_attachments();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].url, "https://remote.example/pictrs/image/7f3a.png");
        assert_eq!(got[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(got[0].alt_text.as_deref(), Some("a cat on the desk"));
    }

    #[test]
    fn custom_emoji_and_attached_pictures_are_not_taken_twice() {
        let note: Note = serde_json::from_value(serde_json::json!({
            "id": "https://r.example/n/2", "type": "Note",
            "attributedTo": "https://r.example/u/a",
            "content": "<p>hi <img src=\"https://r.example/e/blob.png\" alt=\":blob:\"> \
                        <img src=\"https://r.example/f/1.jpg\"> <img src=\"https://r.example/f/2\"></p>",
            "tag": [{"type": "Emoji", "name": ":blob:",
                     "icon": {"type": "Image", "url": "https://r.example/e/blob.png"}}],
            "attachment": [{"type": "Image", "url": "https://r.example/f/1.jpg"}]
        }))
        .unwrap();
        let got = note.remote_attachments();
        let urls: Vec<&str> = got.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(urls, ["https://r.example/f/1.jpg", "https://r.example/f/2"]);
        assert_eq!(got[1].content_type, None);
    }

    #[test]
    fn unreadable_attachments_are_left_out() {
        let note: Note = serde_json::from_value(serde_json::json!({
            "id": "https://r.example/n/1", "type": "Note",
            "attributedTo": "https://r.example/u/a", "content": "x",
            "attachment": [{"type": "Document"}, {"type": "Image", "url": "not a url"},
                {"type": "Image", "url": {"href": "https://r.example/i.png"}}]
        }))
        .unwrap();
        assert_eq!(note.attachment.len(), 1);
        assert_eq!(note.attachment[0].url.as_str(), "https://r.example/i.png");
    }
}
