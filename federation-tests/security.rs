//! Inbox security: only activities signed by their actor's key, with a
//! matching digest and a fresh date, from instances that are not blocked,
//! are applied, and each only once.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::rig::{Instance, Rig};
use confab::apub::signing::Signer;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Bob's private key, read from beta's database.
/// The stored row of `instance`'s user `name` (with its keys).
pub async fn user_row(instance: &Instance, name: &str) -> confab::db::users::UserRow {
    let db = confab::db::Db::connect(&instance.database_url, 1)
        .await
        .unwrap();
    let row = confab::db::users::find_by_name(&mut db.read().await.unwrap(), name)
        .await
        .unwrap()
        .unwrap();
    row
}

async fn private_key(instance: &Instance, name: &str) -> String {
    user_row(instance, name)
        .await
        .private_key_pem
        .expect("the user has signed something already")
}

struct Post {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
}

/// A request to `inbox` signed with `pem` as `key_id`.
fn signed(pem: &str, key_id: &str, inbox: &str, body: &Value) -> Post {
    let signer = Signer::default();
    let key = signer.key(key_id, pem).unwrap();
    let url = url::Url::parse(inbox).unwrap();
    let body = body.to_string();
    let h = signer
        .sign_post(&key, key_id, &url, body.as_bytes())
        .unwrap();
    Post {
        url: inbox.to_owned(),
        headers: vec![
            ("content-type", "application/activity+json".into()),
            ("date", h.date),
            ("digest", h.digest.unwrap()),
            ("signature", h.signature),
        ],
        body,
    }
}

/// Posts `activity` to `inbox`, signed as the user `name` of `instance`.
pub async fn signed_post_as(
    instance: &Instance,
    name: &str,
    inbox: &str,
    activity: &Value,
    rig: &Rig,
) -> (StatusCode, Value) {
    let key = private_key(instance, name).await;
    let key_id = format!("{}/users/{name}#main-key", instance.base());
    send(rig, &signed(&key, &key_id, inbox, activity)).await
}

/// GETs `url` signed as the user `name` of `instance`.
pub async fn signed_get_as(
    instance: &Instance,
    name: &str,
    url: &str,
    rig: &Rig,
) -> (StatusCode, Value) {
    let pem = private_key(instance, name).await;
    let key_id = format!("{}/users/{name}#main-key", instance.base());
    let signer = Signer::default();
    let key = signer.key(&key_id, &pem).unwrap();
    let h = signer
        .sign("GET", &key, &key_id, &url::Url::parse(url).unwrap(), None)
        .unwrap();
    let response = h
        .apply(
            rig.client
                .get(url)
                .header("accept", "application/activity+json"),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn send_get(rig: &Rig, url: &str) -> (StatusCode, Value) {
    let response = rig
        .client
        .get(url)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn send(rig: &Rig, post: &Post) -> (StatusCode, Value) {
    let mut request = rig.client.post(&post.url).body(post.body.clone());
    for (name, value) in &post.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_unsigned_stale_and_replayed_activities_are_refused() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let AdaAndBob {
        ada_token,
        mut ada,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;

    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada", alpha.base());
    let inbox = format!("{}/users/ada/inbox", alpha.base());
    let note = |n: u32, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{bob_id}/handmade/{n}/activity"),
            "type": "Create",
            "actor": bob_id,
            "object": {
                "id": format!("{bob_id}/handmade/{n}"),
                "type": "Note",
                "attributedTo": bob_id,
                "to": ada_id,
                "content": format!("<p>{text}</p>"),
            }
        })
    };
    let key = private_key(beta, "bob").await;
    let key_id = format!("{bob_id}#main-key");

    // Properly signed: applied, and ada sees it live.
    let good = signed(&key, &key_id, &inbox, &note(1, "signed by bob"));
    let (status, body) = send(&rig, &good).await;
    assert_eq!(status, 202, "{body}");
    let got = ada.push("message.created").await;
    assert_eq!(got["body"], "signed by bob");

    // The same request again is a no-op.
    let (status, _) = send(&rig, &good).await;
    assert_eq!(status, 202);
    // So is the same note in a new activity (a re-sent Create).
    let mut resent = note(1, "signed by bob");
    resent["id"] = json!(format!("{bob_id}/handmade/1/activity-again"));
    let (status, _) = send(&rig, &signed(&key, &key_id, &inbox, &resent)).await;
    assert_eq!(status, 202);

    // Unsigned.
    let mut unsigned = signed(&key, &key_id, &inbox, &note(2, "unsigned"));
    unsigned.headers.retain(|(name, _)| *name != "signature");
    let (status, body) = send(&rig, &unsigned).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "signature_invalid");

    // Signed by someone else's key, claiming to be bob.
    let (_, forged_key) = confab::apub::keys::generate_keypair().unwrap();
    let forged = signed(&forged_key, &key_id, &inbox, &note(3, "forged"));
    let (status, body) = send(&rig, &forged).await;
    assert_eq!(status, 401, "{body}");

    // A valid signature over another body (digest mismatch).
    let mut tampered = signed(&key, &key_id, &inbox, &note(4, "original"));
    tampered.body = note(4, "tampered").to_string();
    let (status, _) = send(&rig, &tampered).await;
    assert_eq!(status, 401);

    // A stale date.
    let mut stale = signed(&key, &key_id, &inbox, &note(5, "stale"));
    for (name, value) in &mut stale.headers {
        if *name == "date" {
            *value = httpdate::fmt_http_date(
                std::time::SystemTime::now() - std::time::Duration::from_secs(7200),
            );
        }
    }
    let (status, _) = send(&rig, &stale).await;
    assert_eq!(status, 401);

    // Bob's server cannot speak for an object on another host.
    let mut spoof = note(6, "spoof");
    spoof["object"]["id"] = json!(format!("{}/users/cy/notes/6", rig.instances[2].base()));
    let (status, _) = send(&rig, &signed(&key, &key_id, &inbox, &spoof)).await;
    assert_eq!(status, 400);

    // Only the first one was stored.
    let history = alpha
        .get(
            &ada_token,
            &format!("/api/v1/conversations/{conv_ada}/messages"),
        )
        .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["signed by bob"]);

    // A message written here can be fetched by the members' servers only,
    // with a signed GET; once deleted it is a Tombstone (410).
    let mine = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "fetch me"}),
        )
        .await;
    let note_url = format!("{}/messages/{}", alpha.base(), mine["id"].as_str().unwrap());
    let (status, fetched) = signed_get_as(beta, "bob", &note_url, &rig).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["id"], note_url.as_str());
    assert_eq!(fetched["source"]["content"], "fetch me");
    assert_eq!(fetched["to"], json!([bob_id]));
    let (status, _) = send_get(&rig, &note_url).await;
    assert_eq!(status, 401, "unsigned");
    beta.register("carl").await;
    rig.client
        .get(format!("{}/users/carl", beta.base()))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let (status, _) = signed_get_as(beta, "carl", &note_url, &rig).await;
    assert_eq!(status, 404, "not a member");
    ada.ok("message.delete", json!({"message": mine["id"]}))
        .await;
    let (status, tombstone) = send_get(&rig, &note_url).await;
    assert_eq!(status, 410);
    assert_eq!(tombstone["type"], "Tombstone");

    // An admin blocks beta.test: its activities and users are refused.
    let (status, block) = alpha
        .api(
            reqwest::Method::POST,
            &ada_token,
            "/api/v1/admin/instance-blocks",
            Some(json!({"domain": "beta.test", "reason": "test"})),
        )
        .await;
    assert_eq!(status, 201, "{block}");
    let (status, body) = send(&rig, &signed(&key, &key_id, &inbox, &note(7, "blocked"))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "refused");
    let (status, _) = alpha
        .api(
            reqwest::Method::GET,
            &ada_token,
            &format!("/api/v1/users/{}", beta.handle("someone")),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = alpha
        .api(
            reqwest::Method::DELETE,
            &ada_token,
            "/api/v1/admin/instance-blocks/beta.test",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = send(&rig, &signed(&key, &key_id, &inbox, &note(8, "unblocked"))).await;
    assert_eq!(status, 202);
    rig.stop().await;
}
