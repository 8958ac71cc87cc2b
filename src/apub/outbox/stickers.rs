//! A sticker message on the wire: a `Note` whose content is the
//! `:shortcode:` with the sticker's image as its one `Image` attachment
//! (named by the shortcode, its alt text), so that servers that know
//! nothing of stickers show the image.

use super::messages::FEDERATION_LINK_TTL_S;
use super::{url, Queue};
use crate::apub::objects::note::Attachment;
use crate::chat::ChatResult;
use crate::db::messages::MessageRow;
use crate::db::stickers as sticker_rows;
use crate::media::capability::Variant;
use chrono::Utc;

impl Queue {
    /// The `attachment` of a `sticker` message: its sticker's image (also
    /// once the sticker is removed), with a signed link valid for
    /// [`FEDERATION_LINK_TTL_S`].
    pub(super) async fn sticker_attachment(&self, row: &MessageRow) -> ChatResult<Vec<Attachment>> {
        let found =
            sticker_rows::of_messages(&mut self.db.read().await?, std::slice::from_ref(&row.id))
                .await?;
        let exp = Utc::now().timestamp() + FEDERATION_LINK_TTL_S;
        found
            .into_iter()
            .map(|(_, sticker, image)| {
                Ok(Attachment {
                    kind: "Image".to_owned(),
                    media_type: Some(image.content_type.clone()),
                    url: url(&self.links.link(image.id, Variant::Original, exp))?,
                    name: Some(format!(":{}:", sticker.shortcode)),
                    width: image.width,
                    height: image.height,
                    blurhash: image.blurhash.clone(),
                })
            })
            .collect()
    }
}
