//! The instance actor (`/actor`, an `Application`): it signs our fetches of
//! remote objects, so servers in Mastodon's secure mode answer them. Its
//! keypair is generated once and kept in `instance_settings`. Also the
//! public collections each user advertises (`outbox`, `followers`,
//! `following`), served empty: contacts and messages are private.

use super::objects::person::ApubUser;
use super::ACTIVITY_JSON;
use crate::apub::context::Federation;
use crate::config::Config;
use crate::db::ids::UserId;
use crate::db::users::UserRow;
use crate::db::{settings, Db, DbError};
use crate::error::Error;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::json;

const PUBLIC_KEY: &str = "instance_actor_public_key";
const PRIVATE_KEY: &str = "instance_actor_private_key";

/// The instance actor's keypair `(public, private)`, made on first start.
pub async fn keypair(db: &Db) -> Result<(String, String), DbError> {
    let mut conn = db.write().await?;
    if let Some(private) = settings::get(&mut conn, PRIVATE_KEY).await? {
        let public = settings::get(&mut conn, PUBLIC_KEY)
            .await?
            .unwrap_or_default();
        return Ok((public, private));
    }
    let (public, private) = tokio::task::spawn_blocking(super::keys::generate_keypair)
        .await
        .map_err(|e| DbError::Corrupt(e.to_string()))?
        .map_err(DbError::Corrupt)?;
    // Public first: if two nodes race, both read back the winner's pair.
    let public = settings::get_or_insert(&mut conn, PUBLIC_KEY, || public).await?;
    let private = settings::get_or_insert(&mut conn, PRIVATE_KEY, || private).await?;
    Ok((public, private))
}

/// The instance actor as the federation library wants it (for signing).
pub fn actor(config: &Config, (public, private): (String, String)) -> Result<ApubUser, Error> {
    let now = chrono::Utc::now().naive_utc();
    let row = UserRow {
        id: UserId(uuid::Uuid::nil()),
        name: config.domain.clone(),
        display_name: String::new(),
        bio: String::new(),
        avatar_url: None,
        profile_links: "[]".into(),
        role: "user".into(),
        password_hash: None,
        external_subject: None,
        public_key_pem: Some(public),
        private_key_pem: Some(private),
        created_at: now,
        updated_at: now,
        domain: None,
        ap_id: Some(format!("{}/actor", config.public_base())),
        inbox: Some(format!("{}/inbox", config.public_base())),
        shared_inbox: None,
        fetched_at: None,
        ed25519_key_id: None,
        ed25519_public_key: None,
        ed25519_private_key: None,
        suspended_at: None,
        token_generation: 0,
        share_presence_remote: true,
        share_read_receipts: true,
    };
    ApubUser::from_row(row, &config.public_base())
}

fn activity_json(body: serde_json::Value) -> Response {
    let content_type = format!("{ACTIVITY_JSON}; charset=utf-8");
    ([(CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

/// # `GET /actor`
pub async fn document(State(state): State<Federation>) -> Result<Response, Error> {
    let (public, _) = keypair(state.chat.db()).await?;
    let (ed25519, _) = super::keys::instance_ed25519(state.chat.db()).await?;
    let base = state.config.public_base();
    let id = format!("{base}/actor");
    Ok(activity_json(json!({
        "@context": super::keys::ACTOR_CONTEXT,
        "assertionMethod": [super::keys::multikey(&id, &ed25519)],
        "id": id,
        "type": "Application",
        "preferredUsername": state.config.domain,
        "inbox": format!("{base}/inbox"),
        "outbox": format!("{id}/outbox"),
        "manuallyApprovesFollowers": true,
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public},
    })))
}

/// # `GET /users/{name}/{outbox|followers|following}`
/// Empty ordered collections: who talks to whom is nobody else's business.
pub async fn empty_collection(
    State(state): State<Federation>,
    Path((name, collection)): Path<(String, String)>,
) -> Result<Response, Error> {
    if !matches!(collection.as_str(), "outbox" | "followers" | "following") {
        return Err(Error::NoRoute);
    }
    let user = state.chat.public_user(&name).await?;
    let id = format!("{}/{collection}", state.urls().user(&user.name));
    Ok(activity_json(json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    })))
}
