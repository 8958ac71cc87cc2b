//! Local users as ActivityPub `Person`s. The same URL serves JSON-LD to
//! ActivityPub clients and a small HTML profile to browsers.

use super::context::Data;
use super::html::{escape, paragraphs};
use super::keys::generate_keypair;
use super::objects::group::ApubGroup;
use super::objects::person::{host_with_port, ApubUser};
use super::ACTIVITY_JSON;
use crate::apub::context::Federation;
use crate::chat::users::User;
use crate::db::users as user_rows;
use crate::error::Error;
use activitypub_federation::traits::Object;
use axum::extract::{OriginalUri, Path, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, VARY};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Whether the client asked for an ActivityPub document.
fn wants_activity_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    accept.contains(ACTIVITY_JSON)
        || (accept.contains("application/ld+json") && accept.contains("activitystreams"))
}

/// # `GET /users/{name}`
pub async fn actor(
    State(state): State<Federation>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let user = state.chat.public_user(&name).await?;
    if !wants_activity_json(&headers) {
        return Ok((
            [(VARY, "Accept")],
            axum::response::Html(profile_page(&user)),
        )
            .into_response());
    }
    // The RSA key is made on the first fetch (the Ed25519 one by into_json).
    state
        .chat
        .actor_public_key(user.id, generate_keypair)
        .await?;
    let row = user_rows::find_by_id(&mut state.chat.db().read().await?, user.id)
        .await?
        .ok_or(crate::chat::ChatError::NotFound("user"))?;
    let actor = ApubUser::from_row(row, &state.config.public_base())?;
    let mut person = serde_json::to_value(actor.into_json(&state.to_request_data()).await?)
        .map_err(|e| Error::Internal(e.to_string()))?;
    person["@context"] = json!(super::keys::ACTOR_CONTEXT);
    let content_type = format!("{ACTIVITY_JSON}; charset=utf-8");
    Ok((
        [(CONTENT_TYPE, content_type.as_str()), (VARY, "Accept")],
        person.to_string(),
    )
        .into_response())
}

/// # `GET /groups/{id}`
/// A group hosted here as a `Group` actor (its key verifies the
/// `Announce`s and `Update`s it sends; it is made on the first fetch, by
/// someone about to ask to join). Its URL is a UUID v7 and works as an
/// invitation link. A fetch signed by an actor of a server where members
/// live also gets `members` (a Confab extension, as in `Update{Group}`), so
/// that server can mirror the group when a relayed message arrives before
/// the group's state; anyone else gets the public document.
pub async fn group(
    State(state): State<Federation>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let not_found = || Error::Chat(crate::chat::ChatError::NotFound("group"));
    let id = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
    let url = url::Url::parse(&state.urls().group(crate::db::ids::ConversationId(id)))
        .map_err(|_| not_found())?;
    let data: Data = state.to_request_data();
    let row = ApubGroup::read_from_id(url, &data)
        .await?
        .ok_or_else(not_found)?
        .row;
    let group = data.queue.group_actor(row).await?;
    let mut document = group.to_group(&state.config.public_base());
    if headers.contains_key("signature") {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        // A signature we cannot check still gets the public document.
        match super::fetch::signed_by(&headers, path, &data).await {
            Ok(reader) => {
                let (members, remote) = data.queue.group_members(group.row.id).await?;
                let reader_host = host_with_port(&reader.ap_id);
                if remote
                    .iter()
                    .any(|m| host_with_port(&m.ap_id) == reader_host)
                {
                    document.members = Some(members);
                    document.updated = Some(chrono::Utc::now());
                }
            }
            Err(e) => tracing::debug!(error = %e, "group fetched with a signature not checked"),
        }
    }
    let mut document =
        serde_json::to_value(document).map_err(|e| Error::Internal(e.to_string()))?;
    document["@context"] = super::objects::group::group_context();
    let content_type = format!("{ACTIVITY_JSON}; charset=utf-8");
    Ok((
        [(CONTENT_TYPE, content_type.as_str())],
        document.to_string(),
    )
        .into_response())
}

/// The profile as a minimal HTML page for browsers.
fn profile_page(user: &User) -> String {
    let shown = if user.display_name.is_empty() {
        &user.name
    } else {
        &user.display_name
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>@{name}</p>{bio}</body></html>\n",
        title = escape(shown),
        name = escape(&user.name),
        bio = paragraphs(&user.bio),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers() {
        let mut h = HeaderMap::new();
        assert!(!wants_activity_json(&h));
        h.insert(ACCEPT, "text/html,application/xhtml+xml".parse().unwrap());
        assert!(!wants_activity_json(&h));
        h.insert(ACCEPT, "application/activity+json".parse().unwrap());
        assert!(wants_activity_json(&h));
        h.insert(
            ACCEPT,
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
                .parse()
                .unwrap(),
        );
        assert!(wants_activity_json(&h));
    }
}
