//! # `POST /users/{name}/inbox` and `POST /inbox` (shared)
//!
//! Checks, in order: a `Signature` header is present; `Date` is within the
//! allowed skew; the sending instance is not blocked; then the library
//! verifies the `Digest`, fetches (or reads) the actor, verifies the
//! signature with the actor's key and that the activity id is on the
//! actor's host; then the activity's own `verify` and `receive` run
//! (replays are dropped there). Answers 202 on success, 401 for anything
//! that stops us from knowing who sent it, 403 when refused, 400 when
//! malformed.

use super::activities::InboxActivity;
use super::context::Data;
use super::objects::group::ApubGroup;
use super::objects::note::ObjectRef;
use super::objects::person::ApubUser;
use crate::db::federation as federation_rows;
use crate::error::Error;
use crate::state::AppState;
use activitypub_federation::axum::inbox::{receive_activity, ActivityData};
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use either::Either;
use std::time::{Duration, SystemTime};

/// How far the `Date` header may be from our clock (as the library's
/// signature expiry).
const MAX_SKEW: Duration = Duration::from_secs(3600);

pub async fn inbox(State(state): State<AppState>, request: Request) -> Result<StatusCode, Error> {
    let headers = request.headers().clone();
    if !headers.contains_key("signature") {
        return Err(Error::Signature(
            "the request carries no HTTP signature".into(),
        ));
    }
    check_date(headers.get("date").and_then(|v| v.to_str().ok()))?;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ACTIVITY_BYTES)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    let actor = serde_json::from_slice::<ActorOnly>(&bytes)
        .map_err(|e| Error::InvalidActivity(format!("not an activity: {e}")))?
        .actor;
    refuse_blocked_instance(&state, actor.id()).await?;
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    let activity = ActivityData::from_request(request, &())
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    let data: Data = state.federation.to_request_data();
    receive_activity::<InboxActivity, Either<ApubGroup, ApubUser>, _>(activity, &data)
        .await
        .map(|()| StatusCode::ACCEPTED)
        .inspect_err(|e| tracing::info!(error = %e, "inbox refused an activity"))
}

/// The largest activity accepted.
const MAX_ACTIVITY_BYTES: usize = 1 << 20;

/// Just the `actor` of an activity (a URL or an object with an id).
#[derive(serde::Deserialize)]
struct ActorOnly {
    actor: ObjectRef,
}

/// Refuses activities from blocked instances before any fetch is made.
async fn refuse_blocked_instance(state: &AppState, actor: &url::Url) -> Result<(), Error> {
    let host = actor.host_str().unwrap_or_default().to_ascii_lowercase();
    if federation_rows::is_blocked(&mut state.chat.db().read().await?, &host).await? {
        return Err(Error::Refused(format!("federation with {host} is blocked")));
    }
    Ok(())
}

fn check_date(date: Option<&str>) -> Result<(), Error> {
    let date = date.ok_or_else(|| Error::Signature("the request has no Date header".into()))?;
    let date = httpdate::parse_http_date(date)
        .map_err(|_| Error::Signature("the Date header is not an HTTP date".into()))?;
    let now = SystemTime::now();
    let skew = now
        .duration_since(date)
        .or_else(|_| date.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(Error::Signature(
            "the Date header is more than an hour off; the request may be a replay".into(),
        ));
    }
    Ok(())
}
