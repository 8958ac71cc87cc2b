//! Sticker packs over HTTP: every signed-in user lists them; admins make,
//! rename and delete packs and add (a streamed upload) and remove
//! stickers. Sending one is `message.send` with `sticker`.
//!
//! Reaches the database only through `chat`.

use super::extract::{ApiJson, ApiQuery, Auth};
use super::{ReadErrors, WriteErrors};
use crate::chat::stickers::{NewSticker, PackFields, Sticker, StickerPack};
use crate::chat::ChatError;
use crate::db::ids::{StickerId, StickerPackId};
use crate::error::Error;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use futures_util::StreamExt;

/// # `GET /api/v1/sticker-packs`
/// Every sticker pack with its stickers, oldest first; each sticker's
/// `url` is a signed link valid for `media_link_ttl_s`.
#[utoipa::path(get, path = "/api/v1/sticker-packs", tag = "chat", security(("bearer" = [])),
    responses((status = 200, description = "The packs", body = Vec<StickerPack>), ReadErrors))]
pub async fn list(
    State(state): State<AppState>,
    Auth(_caller): Auth,
) -> Result<Json<Vec<StickerPack>>, Error> {
    Ok(Json(state.chat.sticker_packs().await?))
}

/// # `POST /api/v1/admin/sticker-packs`
/// Makes an empty pack (admins only).
#[utoipa::path(post, path = "/api/v1/admin/sticker-packs", tag = "chat", security(("bearer" = [])),
    request_body(content = PackFields, content_type = "application/json"),
    responses((status = 201, description = "Created", body = StickerPack), WriteErrors))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(fields): ApiJson<PackFields>,
) -> Result<(StatusCode, Json<StickerPack>), Error> {
    let pack = state.chat.create_sticker_pack(&caller, fields).await?;
    Ok((StatusCode::CREATED, Json(pack)))
}

/// # `PUT /api/v1/admin/sticker-packs/{id}`
/// Replaces a pack's name and description (admins only).
#[utoipa::path(put, path = "/api/v1/admin/sticker-packs/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "The pack")),
    request_body(content = PackFields, content_type = "application/json"),
    responses((status = 200, description = "The pack", body = StickerPack), WriteErrors))]
pub async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(fields): ApiJson<PackFields>,
) -> Result<Json<StickerPack>, Error> {
    Ok(Json(
        state
            .chat
            .update_sticker_pack(&caller, pack_id(&id)?, fields)
            .await?,
    ))
}

/// # `DELETE /api/v1/admin/sticker-packs/{id}`
/// Deletes a pack with its stickers (admins only); messages sent with
/// them keep showing them.
#[utoipa::path(delete, path = "/api/v1/admin/sticker-packs/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "The pack")),
    responses((status = 204, description = "Deleted"), ReadErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    state
        .chat
        .delete_sticker_pack(&caller, pack_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `POST /api/v1/admin/sticker-packs/{id}/stickers?shortcode=…&emoji=…`
/// Adds a sticker (admins only); its image is the raw request body (any
/// `Content-Type`: the type is read from the content), at most 512 KiB
/// (413 `payload_too_large`), a PNG, JPEG, GIF or WebP (animation kept)
/// of at most 512 pixels a side (422 otherwise). A shortcode the pack has
/// already is 409.
#[utoipa::path(post, path = "/api/v1/admin/sticker-packs/{id}/stickers", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "The pack"), NewSticker),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The image"),
    responses((status = 201, description = "The sticker", body = Sticker), WriteErrors))]
pub async fn add(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiQuery(new): ApiQuery<NewSticker>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Sticker>), Error> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let stream = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other));
    let sticker = state
        .chat
        .add_sticker(&caller, pack_id(&id)?, new, declared, stream)
        .await?;
    Ok((StatusCode::CREATED, Json(sticker)))
}

/// # `DELETE /api/v1/admin/stickers/{id}`
/// Removes a sticker from its pack (admins only); messages sent with it
/// keep showing it.
#[utoipa::path(delete, path = "/api/v1/admin/stickers/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "The sticker")),
    responses((status = 204, description = "Removed"), ReadErrors))]
pub async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    state.chat.remove_sticker(&caller, sticker_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A pack id from a path (a malformed one names no pack: 404).
fn pack_id(id: &str) -> Result<StickerPackId, ChatError> {
    uuid::Uuid::parse_str(id)
        .map(StickerPackId)
        .map_err(|_| ChatError::NotFound("sticker pack"))
}

/// A sticker id from a path (a malformed one names no sticker: 404).
fn sticker_id(id: &str) -> Result<StickerId, ChatError> {
    uuid::Uuid::parse_str(id)
        .map(StickerId)
        .map_err(|_| ChatError::NotFound("sticker"))
}
