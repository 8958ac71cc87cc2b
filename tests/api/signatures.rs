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
    /// The public keys of the peer's own actor `eve`: RSA PEM and Ed25519
    /// `publicKeyMultibase`.
    eve_public: String,
    eve_ed25519: String,
    /// For each actor fetch: the signed header list, or why it was refused.
    seen: Mutex<Vec<Result<String, String>>>,
    /// What the peer's NodeInfo calls its software.
    software: &'static str,
    /// Whether its inbox answers RFC 9421 signatures with 401.
    refuses_rfc9421: bool,
    /// The headers of each POST to eve's inbox.
    posts: Mutex<Vec<HeaderMap>>,
}

async fn eve_inbox(State(peer): State<Arc<Peer>>, headers: HeaderMap) -> StatusCode {
    let rfc9421 = headers.contains_key("signature-input");
    peer.posts.lock().unwrap().push(headers);
    if rfc9421 && peer.refuses_rfc9421 {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::ACCEPTED
    }
}

async fn nodeinfo_links(State(peer): State<Arc<Peer>>) -> Response {
    let href = format!("{}/nodeinfo/2.1", peer.base);
    let body = json!({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": href}]});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

async fn nodeinfo(State(peer): State<Arc<Peer>>) -> Response {
    let body = json!({"version": "2.1", "software": {"name": peer.software, "version": "1"}});
    ([("content-type", "application/json")], body.to_string()).into_response()
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
        "assertionMethod": [confab::apub::keys::multikey(&id, &peer.eve_ed25519)],
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

/// A Confab server (SQLite) and the strict peer `peer.test`, whose actor
/// `eve` has the private keys returned (RSA PEM, Ed25519 PKCS#8 base64).
struct Setup {
    s: TestServer,
    peer: Arc<Peer>,
    port: u16,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    eve_rsa: String,
    eve_ed25519: String,
}

async fn setup() -> Option<Setup> {
    setup_as("strictpub", false).await
}

/// [`setup`] with a peer whose NodeInfo names `software`.
async fn setup_as(software: &'static str, refuses_rfc9421: bool) -> Option<Setup> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let args = [
        "--federation-allow-private",
        "true",
        "--federation-resolve",
        "peer.test=127.0.0.1",
    ];
    let s = TestServer::start(Backend::Sqlite, &args).await?;
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
    let (eve_public, eve_rsa) = confab::apub::keys::generate_keypair().unwrap();
    let (eve_ed25519_public, eve_ed25519) = confab::apub::keys::generate_ed25519().unwrap();
    let peer = Arc::new(Peer {
        base: format!("http://peer.test:{port}"),
        confab_key,
        eve_public,
        eve_ed25519: eve_ed25519_public,
        seen: Mutex::new(vec![]),
        software,
        refuses_rfc9421,
        posts: Mutex::new(vec![]),
    });
    let app = Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/users/eve", get(eve))
        .route("/users/eve/inbox", axum::routing::post(eve_inbox))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.1", get(nodeinfo))
        .with_state(peer.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Some(Setup {
        s,
        peer,
        port,
        server,
        eve_rsa,
        eve_ed25519,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_served_only_to_signed_gets_can_be_read() {
    let Some(Setup {
        s,
        peer,
        port,
        server,
        ..
    }) = setup().await
    else {
        return;
    };

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

/// Posts `activity` to ada's inbox signed with RFC 9421 by `key` as
/// `key_id`; `tamper` changes the request after signing.
async fn post_rfc9421(
    s: &TestServer,
    key: &actpub_httpsig::SigningKey,
    key_id: &str,
    activity: &Value,
    tamper: impl FnOnce(&mut Vec<(&'static str, String)>, &mut String),
) -> StatusCode {
    // The URL the sender means: our public base, as the signature covers it.
    let url = url::Url::parse("https://confab.test/users/ada/inbox").unwrap();
    let mut body = activity.to_string();
    let signed = confab::apub::rfc9421::sign(
        key,
        key_id,
        axum::http::Method::POST,
        &url,
        Some(body.as_bytes()),
    )
    .unwrap();
    let mut headers = vec![
        ("content-type", "application/activity+json".to_owned()),
        ("content-digest", signed.content_digest.unwrap()),
        (
            "signature-input",
            signed.signature_input.to_str().unwrap().to_owned(),
        ),
        ("signature", signed.signature.to_str().unwrap().to_owned()),
    ];
    tamper(&mut headers, &mut body);
    let mut request = s
        .request(reqwest::Method::POST, "/users/ada/inbox")
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc_9421_signatures_verify_with_the_rsa_key_and_the_ed25519_multikey() {
    let Some(Setup {
        s,
        peer,
        server,
        eve_rsa,
        eve_ed25519,
        ..
    }) = setup().await
    else {
        return;
    };
    s.register("ada").await;
    let eve = format!("{}/users/eve", peer.base);
    let follow = |n: u32| {
        json!({"@context": "https://www.w3.org/ns/activitystreams",
               "id": format!("{}/follows/{n}", peer.base), "type": "Follow",
               "actor": eve, "object": "https://confab.test/users/ada"})
    };
    let ed25519 = confab::apub::keys::ed25519_signing_key(&eve_ed25519).unwrap();
    let ed25519_id = format!("{eve}#ed25519-key");
    let rsa = actpub_httpsig::SigningKey::from_pem(&eve_rsa).unwrap();
    let rsa_id = format!("{eve}#main-key");
    let untouched = |_: &mut Vec<(&'static str, String)>, _: &mut String| {};

    // Refused first, so that a bad signature is not mistaken for a replay.
    let (other_public, other_private) = confab::apub::keys::generate_ed25519().unwrap();
    assert_ne!(other_public, peer.eve_ed25519);
    let other = confab::apub::keys::ed25519_signing_key(&other_private).unwrap();
    let status = post_rfc9421(&s, &other, &ed25519_id, &follow(1), untouched).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a key that is not eve's");
    let status = post_rfc9421(&s, &ed25519, "http://peer.test/k", &follow(1), untouched).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a keyid not on eve's URL");
    let status = post_rfc9421(&s, &ed25519, &ed25519_id, &follow(1), |_, body| {
        body.push(' ')
    })
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a body changed after signing"
    );
    let status = post_rfc9421(&s, &ed25519, &ed25519_id, &follow(1), |headers, body| {
        body.push(' ');
        let digest = actpub_httpsig::content_digest_header(body.as_bytes());
        headers[1].1 = digest;
    })
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a digest changed after signing"
    );
    let status = post_rfc9421(&s, &ed25519, &ed25519_id, &follow(1), |headers, _| {
        headers.retain(|(name, _)| *name != "content-digest")
    })
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no Content-Digest");

    // Signed right, with either key: accepted on the first knock.
    let status = post_rfc9421(&s, &ed25519, &ed25519_id, &follow(1), untouched).await;
    assert_eq!(status, StatusCode::ACCEPTED, "Ed25519");
    let status = post_rfc9421(&s, &rsa, &rsa_id, &follow(2), untouched).await;
    assert_eq!(status, StatusCode::ACCEPTED, "RSA");
    server.abort();
    s.stop().await;
}

/// ada invites eve; the headers of the POSTs eve's inbox got for it.
async fn invite_eve(setup: &Setup, expected_posts: usize) -> Vec<HeaderMap> {
    let (token, _) = setup.s.register("ada").await;
    let mut ws = crate::ws_client::WsClient::connect(&setup.s, &token).await;
    let handle = format!("@eve@peer.test:{}", setup.port);
    ws.ok("contact.invite", json!({"user": handle})).await;
    for _ in 0..200 {
        let posts = setup.peer.posts.lock().unwrap().clone();
        if posts.len() >= expected_posts {
            return posts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("eve's inbox got fewer than {expected_posts} posts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_servers_get_draft_cavage() {
    let Some(setup) = setup().await else {
        return;
    };
    let posts = invite_eve(&setup, 1).await;
    assert!(!posts[0].contains_key("signature-input"));
    let signature = posts[0]["signature"].to_str().unwrap();
    assert!(signature.contains("keyId=\"https://confab.test/users/ada#main-key\""));
    assert!(signature.contains("(request-target)") && signature.contains("digest"));
    setup.server.abort();
    setup.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confab_servers_get_rfc_9421_with_ed25519() {
    let Some(setup) = setup_as("confab", false).await else {
        return;
    };
    let posts = invite_eve(&setup, 1).await;
    let headers = &posts[0];
    let ada_id = "https://confab.test/users/ada";
    let keyid = confab::apub::rfc9421::key_id(headers).unwrap();
    assert_eq!(keyid, format!("{ada_id}#ed25519-key"));
    assert!(!headers.contains_key("digest"));
    // The key is the Multikey ada's actor document publishes.
    let ada: Value = setup
        .s
        .raw(
            setup
                .s
                .request(reqwest::Method::GET, "/users/ada")
                .header("accept", "application/activity+json"),
        )
        .await
        .body;
    let multikey = &ada["assertionMethod"][0];
    assert_eq!(multikey["id"], keyid.as_str());
    assert_eq!(multikey["type"], "Multikey");
    assert_eq!(multikey["controller"], ada_id);
    let key =
        confab::apub::keys::ed25519_verifying_key(multikey["publicKeyMultibase"].as_str().unwrap())
            .unwrap();
    let inbox = format!("http://peer.test:{}/users/eve/inbox", setup.port);
    confab::apub::rfc9421::verify(
        &axum::http::Method::POST,
        &inbox,
        headers,
        key,
        confab::apub::rfc9421::POST_COMPONENTS,
    )
    .unwrap();
    setup.server.abort();
    setup.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_rfc_9421_delivery_is_sent_again_with_draft_cavage() {
    let Some(setup) = setup_as("confab", true).await else {
        return;
    };
    let posts = invite_eve(&setup, 2).await;
    assert!(posts[0].contains_key("signature-input"));
    assert!(!posts[1].contains_key("signature-input"));
    assert!(posts[1].contains_key("digest"));
    setup.server.abort();
    setup.s.stop().await;
}
