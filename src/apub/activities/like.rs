//! `Like`, received only. Misskey sends its reactions as a `Like` whose
//! `content` (and `_misskey_reaction`) is the emoji; others (Mastodon's
//! favourite, a Misskey `Like` without content) send a plain `Like`, which
//! Confab takes as a "❤️" reaction. `Undo{Like}` takes it back. Confab
//! itself sends `EmojiReact`.

use super::emoji_react::{apply_reaction, reaction_emoji, Step};
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::LikeType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// The reaction a `Like` without content stands for.
pub const PLAIN_LIKE: &str = "❤️";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Like {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: LikeType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    /// The message liked (its id, or the embedded object).
    #[serde(deserialize_with = "wire::reference")]
    pub object: Url,
    /// The emoji (Misskey), if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "wire::lenient"
    )]
    pub content: Option<String>,
    /// Misskey's own name for the emoji, read when `content` is absent.
    #[serde(
        rename = "_misskey_reaction",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "wire::lenient"
    )]
    pub misskey_reaction: Option<String>,
}

impl Like {
    /// The reaction it stands for: its emoji, or [`PLAIN_LIKE`].
    pub fn emoji(&self) -> &str {
        [&self.content, &self.misskey_reaction]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .unwrap_or(PLAIN_LIKE)
    }
}

#[async_trait::async_trait]
impl Activity for Like {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        same_origin(self.actor.inner(), &self.id)?;
        reaction_emoji(self.emoji()).map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let step = Step::Add(&self.id);
        apply_reaction(&self.actor, &self.object, self.emoji(), step, data).await
    }
}
