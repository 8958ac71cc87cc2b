//! # `POST /users/{name}/inbox`, `POST /groups/{id}/inbox` and `POST /inbox` (shared)
//!
//! Checks, in order: a `Signature` header is present; for draft-cavage,
//! `Date` is within the allowed skew; the body is an activity whose actor
//! is not on a blocked instance; the `Digest` (draft-cavage) or
//! `Content-Digest` (RFC 9421) matches the body; the activity id is on the
//! actor's server; the actor is read (or fetched through the library) and
//! the signature verifies with its key (aws-lc-rs): draft-cavage with its
//! RSA key, RFC 9421 with the RSA or Ed25519 key its `keyid` names (see
//! [`super::rfc9421`]); then the activity's own `verify` and `receive` run
//! (replays are dropped there).
//! Answers 202 on success, 401 for anything that stops us from knowing who
//! sent it, 403 when refused, 400 when malformed.

use super::activities::InboxActivity;
use super::context::Data;
use super::objects::group::ApubGroup;
use super::objects::note::ObjectRef;
use super::objects::person::ApubUser;
use super::{proofs, rfc9421, signing};
use crate::apub::context::Federation;
use crate::db::federation as federation_rows;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::{Activity, Actor};
use aws_lc_rs::digest::{digest, SHA256};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use either::Either;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// How far the `Date` header may be from our clock (as the library's
/// signature expiry).
const MAX_SKEW: Duration = Duration::from_secs(3600);

pub async fn inbox(State(state): State<Federation>, request: Request) -> Result<StatusCode, Error> {
    let result = receive(&state, request).await;
    let outcome = match &result {
        Ok(_) => "accepted",
        Err(e) => e.parts().1,
    };
    metrics::counter!("confab_inbox_activities_total", "outcome" => outcome).increment(1);
    result
}

/// Checks a signed activity, then applies it.
async fn receive(state: &Federation, request: Request) -> Result<StatusCode, Error> {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    if !headers.contains_key("signature") {
        return Err(Error::Signature(
            "the request carries no HTTP signature".into(),
        ));
    }
    let rfc9421 = rfc9421::is_signed(headers);
    if !rfc9421 {
        check_date(headers.get("date").and_then(|v| v.to_str().ok()))?;
    }
    let bytes = axum::body::to_bytes(body, MAX_ACTIVITY_BYTES)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    let envelope = serde_json::from_slice::<Envelope>(&bytes)
        .map_err(|e| Error::InvalidActivity(format!("not an activity: {e}")))?;
    let actor = envelope.actor;
    refuse_blocked_instance(state, actor.id()).await?;
    if rfc9421 {
        rfc9421::check_content_digest(headers, &bytes)?;
    } else {
        check_digest(headers.get("digest").and_then(|v| v.to_str().ok()), &bytes)?;
    }
    let activity = InboxActivity::from_json(&bytes)
        .map_err(|e| Error::InvalidActivity(format!("not an activity Confab reads: {e}")))?;
    let data: Data = state.to_request_data();
    check_origin(&activity, &data)?;
    let sender: Either<ApubGroup, ApubUser> = ObjectId::from(activity.actor().clone())
        .dereference(&data)
        .await
        .map_err(|e| Error::Signature(format!("the sending actor cannot be read: {e}")))?;
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if rfc9421 {
        let target = format!("{}{target}", state.config.public_base());
        check_rfc9421(headers, &parts.method, &target, &sender, &data).await?;
    } else {
        check_signature(
            headers,
            parts.method.as_str(),
            target,
            sender.public_key_pem(),
            state,
        )?;
    }
    if let Some(proof) = &envelope.proof {
        check_proof(&bytes, proof, &sender)?;
    }
    activity.verify(&data).await?;
    activity
        .receive(&data)
        .await
        .map(|()| StatusCode::ACCEPTED)
        .inspect_err(|e| tracing::info!(error = %e, "inbox refused an activity"))
}

/// The `Digest` header names the SHA-256 of the body (any case of the
/// algorithm name; other algorithms listed beside it are ignored).
fn check_digest(header: Option<&str>, body: &[u8]) -> Result<(), Error> {
    let header =
        header.ok_or_else(|| Error::Signature("the request has no Digest header".into()))?;
    let expected = BASE64.encode(digest(&SHA256, body));
    let matches = header.split(',').any(|part| {
        part.trim()
            .split_once('=')
            .is_some_and(|(alg, value)| alg.eq_ignore_ascii_case("sha-256") && value == expected)
    });
    if matches {
        Ok(())
    } else {
        Err(Error::Signature(
            "the Digest does not match the body".into(),
        ))
    }
}

/// The activity comes from the actor's own server, not ours, over an
/// allowed scheme.
fn check_origin(activity: &InboxActivity, data: &Data) -> Result<(), Error> {
    let (id, actor) = (activity.id(), activity.actor());
    if id.host_str() != actor.host_str()
        || id.port_or_known_default() != actor.port_or_known_default()
    {
        return Err(Error::Refused(
            "the activity id is not on the actor's server".into(),
        ));
    }
    if data.config.is_local(actor) {
        return Err(Error::Refused(
            "activities of local actors do not come through the inbox".into(),
        ));
    }
    if actor.scheme() != "https"
        && !(actor.scheme() == "http" && data.config.federation_allow_private)
    {
        return Err(Error::Refused("actors must be https URLs".into()));
    }
    Ok(())
}

/// The draft-cavage signature covers at least `(request-target)`, `host`,
/// `date` and `digest`, and verifies with the sender's key (aws-lc-rs).
fn check_signature(
    headers: &axum::http::HeaderMap,
    method: &str,
    target: &str,
    public_key_pem: &str,
    state: &Federation,
) -> Result<(), Error> {
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            map.insert(name.as_str().to_owned(), value.to_owned());
        }
    }
    map.entry("host".to_owned())
        .or_insert_with(|| state.config.domain.clone());
    let unverified = http_signature_normalization::Config::new()
        .require_digest()
        .require_header("date")
        .set_expiration(MAX_SKEW)
        .begin_verify(method, target, map)
        .map_err(|e| Error::Signature(format!("the signature cannot be checked: {e}")))?;
    if unverified.verify(|signature, signing_string| {
        signing::verify(public_key_pem, signature, signing_string)
    }) {
        Ok(())
    } else {
        Err(Error::Signature(
            "the signature does not verify with the actor's key".into(),
        ))
    }
}

/// The RFC 9421 signature verifies with the key its `keyid` names among
/// the sender's (see [`rfc9421::key_for`]). A keyid that names none of a
/// user's stored keys may be a key added since we stored the actor: it is
/// fetched again, at most once a minute.
async fn check_rfc9421(
    headers: &axum::http::HeaderMap,
    method: &axum::http::Method,
    target: &str,
    sender: &Either<ApubGroup, ApubUser>,
    data: &Data,
) -> Result<(), Error> {
    let keyid = rfc9421::key_id(headers)?;
    let verify = |key| rfc9421::verify(method, target, headers, key, rfc9421::POST_COMPONENTS);
    let user = match sender {
        Either::Left(group) => {
            let key = rfc9421::key_for(&keyid, &group.ap_id, group.public_key_pem(), None)?;
            return verify(key);
        }
        Either::Right(user) => user,
    };
    let attempt = |user: &ApubUser| {
        let ed25519 = user
            .row
            .ed25519_key_id
            .as_deref()
            .zip(user.row.ed25519_public_key.as_deref());
        rfc9421::key_for(&keyid, &user.ap_id, user.public_key_pem(), ed25519).and_then(verify)
    };
    let refused = match attempt(user) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let recent = user
        .row
        .fetched_at
        .is_some_and(|at| chrono::Utc::now().naive_utc() - at < chrono::Duration::minutes(1));
    if user.row.ed25519_key_id.as_deref() == Some(keyid.as_str()) || recent {
        return Err(refused);
    }
    let fetched: ApubUser = ObjectId::from(user.ap_id.clone())
        .dereference_forced(data)
        .await
        .map_err(|e| Error::Signature(format!("the sending actor cannot be read: {e}")))?;
    attempt(&fetched)
}

/// Forgets received activity ids once a replay of them would fail the date
/// check anyway (twice the allowed skew), every ten minutes.
pub async fn forget_old_activities(db: crate::db::Db) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let before = chrono::Utc::now().naive_utc() - MAX_SKEW * 2;
        let result = match db.write().await {
            Ok(mut conn) => federation_rows::prune_received(&mut conn, before).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "pruning received activity ids failed");
        }
    }
}

/// The largest activity accepted.
const MAX_ACTIVITY_BYTES: usize = 1 << 20;

/// Just the `actor` of an activity (a URL or an object with an id).
#[derive(serde::Deserialize)]
struct Envelope {
    actor: ObjectRef,
    /// A FEP-8b32 integrity proof (one; a list of proofs is not checked).
    #[serde(default, deserialize_with = "super::wire::lenient")]
    proof: Option<proofs::Proof>,
}

/// An `eddsa-jcs-2022` proof by the sending user's Ed25519 key must
/// verify; other proofs are logged and left unchecked.
fn check_proof(
    body: &[u8],
    proof: &proofs::Proof,
    sender: &Either<ApubGroup, ApubUser>,
) -> Result<(), Error> {
    let key = match sender {
        Either::Right(user) => user
            .row
            .ed25519_key_id
            .as_deref()
            .zip(user.row.ed25519_public_key.as_deref()),
        Either::Left(_) => None,
    };
    match proofs::check(body, proof, key)? {
        proofs::Checked::Verified => tracing::debug!("integrity proof verified"),
        proofs::Checked::Unchecked(why) => tracing::debug!(why, "integrity proof not checked"),
    }
    Ok(())
}

/// Refuses activities from blocked instances before any fetch is made.
async fn refuse_blocked_instance(state: &Federation, actor: &url::Url) -> Result<(), Error> {
    let host = actor.host_str().unwrap_or_default().to_ascii_lowercase();
    if state.chat.is_instance_blocked(&host).await? {
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
