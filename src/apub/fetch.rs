//! # `GET /messages/{id}`
//!
//! A message written here, for the servers of its conversation's members:
//! the request must carry an HTTP signature (draft-cavage, `(request-target)
//! host date`) of an actor who is a member, else 401 (no or a bad
//! signature) or 404 (not a member: the message does not exist for them).
//! A deleted message answers 410 with a `Tombstone` to anyone (FEP-4f05).

use super::context::Data;
use super::objects::note::Tombstone;
use super::objects::person::ApubUser;
use super::outbox::Published;
use super::{rfc9421, signing, ACTIVITY_JSON};
use crate::apub::context::Federation;
use crate::chat::ChatError;
use crate::db::ids::MessageId;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Actor;
use axum::extract::{OriginalUri, Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use url::Url;

fn activity_json(status: StatusCode, mut body: Value) -> Response {
    body["@context"] = json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1"
    ]);
    let content_type = format!("{ACTIVITY_JSON}; charset=utf-8");
    (status, [(CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

pub async fn message(
    State(state): State<Federation>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let not_found = || Error::Chat(ChatError::NotFound("message"));
    let id = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
    let data: Data = state.to_request_data();
    let published = data
        .queue
        .published(MessageId(id))
        .await?
        .ok_or_else(not_found)?;
    let (note, members) = match published {
        Published::Tombstone(id) => {
            let tombstone = serde_json::to_value(Tombstone::of_note(id))
                .map_err(|e| Error::Internal(e.to_string()))?;
            return Ok(activity_json(StatusCode::GONE, tombstone));
        }
        Published::Note { note, members } => (note, members),
    };
    let reader = signed_by(
        &headers,
        uri.path_and_query().map_or("/", |p| p.as_str()),
        &data,
    )
    .await?;
    if !members.contains(&reader.id()) {
        return Err(not_found());
    }
    let body = serde_json::to_value(&note).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(activity_json(StatusCode::OK, body))
}

/// The actor whose valid signature the GET request carries.
pub(super) async fn signed_by(
    headers: &HeaderMap,
    path_and_query: &str,
    data: &Data,
) -> Result<ApubUser, Error> {
    if rfc9421::is_signed(headers) {
        return signed_by_rfc9421(headers, path_and_query, data).await;
    }
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            map.insert(name.as_str().to_owned(), value.to_owned());
        }
    }
    if !map.contains_key("signature") {
        return Err(Error::Signature(
            "this fetch needs an HTTP signature".into(),
        ));
    }
    let unverified = http_signature_normalization::Config::new()
        .set_expiration(Duration::from_secs(3600))
        .begin_verify("GET", path_and_query, map)
        .map_err(|e| Error::Signature(format!("the signature cannot be checked: {e}")))?;
    let actor = unverified.key_id().split('#').next().unwrap_or_default();
    let actor =
        Url::parse(actor).map_err(|_| Error::Signature("keyId is not an actor URL".into()))?;
    let actor: ApubUser = ObjectId::from(actor)
        .dereference(data)
        .await
        .map_err(|e| Error::Signature(format!("the signing actor cannot be read: {e}")))?;
    let valid = unverified.verify(|signature, signing_string| {
        signing::verify(actor.public_key_pem(), signature, signing_string)
    });
    if valid {
        Ok(actor)
    } else {
        Err(Error::Signature("the signature does not verify".into()))
    }
}

/// [`signed_by`] for an RFC 9421 signature (RSA or Ed25519).
async fn signed_by_rfc9421(
    headers: &HeaderMap,
    path_and_query: &str,
    data: &Data,
) -> Result<ApubUser, Error> {
    let keyid = rfc9421::key_id(headers)?;
    let actor = keyid.split('#').next().unwrap_or_default();
    let actor =
        Url::parse(actor).map_err(|_| Error::Signature("keyid is not an actor URL".into()))?;
    let actor: ApubUser = ObjectId::from(actor)
        .dereference(data)
        .await
        .map_err(|e| Error::Signature(format!("the signing actor cannot be read: {e}")))?;
    let ed25519 = actor
        .row
        .ed25519_key_id
        .as_deref()
        .zip(actor.row.ed25519_public_key.as_deref());
    let key = rfc9421::key_for(&keyid, &actor.ap_id, actor.public_key_pem(), ed25519)?;
    let target = format!("{}{path_and_query}", data.config.public_base());
    rfc9421::verify(
        &axum::http::Method::GET,
        &target,
        headers,
        key,
        rfc9421::GET_COMPONENTS,
    )?;
    Ok(actor)
}
