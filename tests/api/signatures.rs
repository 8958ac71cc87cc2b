//! Signatures as other servers check them: a peer that, like Mastodon in
//! secure mode and bovine, answers its actor only to GETs whose draft-cavage
//! signature covers `(request-target)`, `host` and `date` and verifies with
//! the key of the actor named by `keyId`.

use crate::common::{Backend, TestServer};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the strict peer knows and saw.
struct Peer {
    base: String,
    /// Confab's instance actor: `(key id, public key PEM)`.
    confab_key: (String, String),
    /// The public key of the peer's own actor `eve`.
    eve_public: String,
    /// For each actor fetch: the signed header list, or why it was refused.
    seen: Mutex<Vec<Result<String, String>>>,
}

/// The header list of a draft-cavage `Signature` header.
fn signed_headers(signature: &str) -> String {
    signature
        .split(',')
        .find_map(|part| part.trim().strip_prefix("headers="))
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

/// Checks a GET the way Mastodon's `SignedRequest` and bovine's
/// `SignatureChecker` do; `Ok` with the signed header list.
fn check_signed_get(peer: &Peer, headers: &HeaderMap, target: &str) -> Result<String, String> {
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        map.insert(
            name.as_str().to_owned(),
            value.to_str().map_err(|e| e.to_string())?.to_owned(),
        );
    }
    let signature = map.get("signature").ok_or("no signature")?.clone();
    let unverified = http_signature_normalization::Config::new()
        .mastodon_compat()
        .require_header("date")
        .set_expiration(Duration::from_secs(300))
        .begin_verify("GET", target, map)
        .map_err(|e| format!("refused before verifying: {e}"))?;
    let algorithm = unverified.algorithm().map(|a| a.to_string());
    if !matches!(algorithm.as_deref(), None | Some("hs2019" | "rsa-sha256")) {
        return Err(format!("algorithm {algorithm:?}"));
    }
    if unverified.key_id() != peer.confab_key.0 {
        return Err(format!("unknown keyId {}", unverified.key_id()));
    }
    let valid = unverified.verify(|signature, signing_string| {
        confab::apub::signing::verify(&peer.confab_key.1, signature, signing_string)
    });
    if !valid {
        return Err("the signature does not verify".into());
    }
    Ok(signed_headers(&signature))
}

async fn eve(
    State(peer): State<Arc<Peer>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let outcome = check_signed_get(&peer, &headers, target);
    peer.seen.lock().unwrap().push(outcome.clone());
    if outcome.is_err() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = format!("{}/users/eve", peer.base);
    let body = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": "eve", "name": "Eve",
        "inbox": format!("{id}/inbox"),
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": peer.eve_public},
    });
    (
        [("content-type", "application/activity+json")],
        body.to_string(),
    )
        .into_response()
}

async fn webfinger(State(peer): State<Arc<Peer>>) -> Response {
    let host = peer.base.trim_start_matches("http://");
    let body = json!({
        "subject": format!("acct:eve@{host}"),
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": format!("{}/users/eve", peer.base)}],
    });
    ([("content-type", "application/jrd+json")], body.to_string()).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_served_only_to_signed_gets_can_be_read() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let args = [
        "--federation-allow-private",
        "true",
        "--federation-resolve",
        "peer.test=127.0.0.1",
    ];
    let Some(s) = TestServer::start(Backend::Sqlite, &args).await else {
        return;
    };
    let confab_actor: Value = reqwest::get(format!("{}/actor", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let confab_key = (
        confab_actor["publicKey"]["id"].as_str().unwrap().to_owned(),
        confab_actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let (eve_public, _) = confab::apub::generate_keypair().unwrap();
    let peer = Arc::new(Peer {
        base: format!("http://peer.test:{port}"),
        confab_key,
        eve_public,
        seen: Mutex::new(vec![]),
    });
    let app = Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/users/eve", get(eve))
        .with_state(peer.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The peer refuses unsigned fetches, as a secure-mode server does.
    let unsigned = reqwest::get(format!("http://127.0.0.1:{port}/users/eve"))
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let (token, _) = s.register("ada").await;
    let r = s
        .get(&format!("/api/v1/users/@eve@peer.test:{port}"), &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["name"], format!("eve@peer.test:{port}"));
    let seen = peer.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], Err("no signature".to_owned()));
    let headers = seen[1].clone().unwrap();
    let headers: Vec<&str> = headers.split(' ').collect();
    for needed in ["(request-target)", "host", "date"] {
        assert!(
            headers.contains(&needed),
            "{needed} is not signed: {headers:?}"
        );
    }
    server.abort();
    s.stop().await;
}
