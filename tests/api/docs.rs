//! The JSON examples of `docs/api.md` and `docs/protocol.md` have the keys
//! of real responses and frames (see `doc_examples.rs`): one scenario on a
//! real server captures a response for every example name that a single
//! server can produce.

use crate::backend_tests;
use crate::common::TestServer;
use crate::doc_examples;
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tokio_tungstenite::tungstenite::Message as Frame;

backend_tests!(doc_examples_have_the_keys_of_real_responses);

/// Real responses by example name.
#[derive(Default)]
struct Captured(BTreeMap<String, Value>);

impl Captured {
    fn put(&mut self, name: &str, value: Value) {
        self.0.insert(name.to_owned(), value);
    }

    /// A REST answer that must have `status`.
    fn rest(&mut self, name: &str, status: StatusCode, reply: crate::common::Reply) -> Value {
        assert_eq!(reply.status, status, "{name}: {:?}", reply.body);
        self.put(name, reply.body.clone());
        reply.body
    }

    /// A successful WebSocket request: its whole result frame.
    async fn result(&mut self, ws: &mut WsClient, kind: &str, data: Value) -> Value {
        let reply = ws.call(kind, data.clone()).await;
        assert_eq!(reply["type"], "result", "{kind} {data}: {reply}");
        self.put(&format!("result:{kind}"), reply.clone());
        reply["data"].clone()
    }

    /// The next push of `kind` (for which `pred` holds) as a whole frame.
    async fn push(
        &mut self,
        ws: &mut WsClient,
        kind: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let data = ws.push_where(kind, pred).await;
        self.put(&format!("push:{kind}"), json!({"type": kind, "data": data}));
        data
    }
}

async fn doc_examples_have_the_keys_of_real_responses(s: &TestServer) {
    let mut real = Captured::default();
    rest_examples(s, &mut real).await;
    ws_examples(s, &mut real).await;
    doc_examples::check(&real.0, doc_examples::single_server);
}

/// Accounts, users, conversations, messages, contacts, admin and health
/// over REST (ada is the first account, so an admin).
async fn rest_examples(s: &TestServer, real: &mut Captured) {
    let session = real.rest(
        "session",
        StatusCode::CREATED,
        s.call(
            Method::POST,
            "/api/v1/auth/register",
            Some(
                json!({"name": "ada", "password": "correct horse battery", "display_name": "Ada"}),
            ),
            None,
        )
        .await,
    );
    let ada = session["access_token"].as_str().unwrap().to_owned();
    real.rest(
        "user",
        StatusCode::OK,
        s.get("/api/v1/users/me", &ada).await,
    );
    let bob = real.rest(
        "user",
        StatusCode::CREATED,
        s.call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "adam", "password": "adam-password-1"})),
            Some(&ada),
        )
        .await,
    );
    real.rest(
        "user",
        StatusCode::OK,
        s.call(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"profile_links": [{"name": "Home", "url": "https://ada.example"}]})),
            Some(&ada),
        )
        .await,
    );
    real.rest(
        "user-page",
        StatusCode::OK,
        s.get("/api/v1/users?q=ad&limit=2", &ada).await,
    );
    real.rest(
        "error",
        StatusCode::NOT_FOUND,
        s.get("/api/v1/users/nobody", &ada).await,
    );
    real.rest(
        "ip-rule",
        StatusCode::CREATED,
        s.call(
            Method::POST,
            "/api/v1/admin/ip-rules",
            Some(json!({"scope": "login", "action": "deny", "cidr": "203.0.113.7", "note": "guessing passwords"})),
            Some(&ada),
        )
        .await,
    );
    real.rest(
        "report",
        StatusCode::CREATED,
        s.call(
            Method::POST,
            "/api/v1/reports",
            Some(json!({"user": bob["id"], "comment": "spam"})),
            Some(&ada),
        )
        .await,
    );
    let health = s.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    real.put("health", health.json().await.unwrap());
}

/// Two users who chat: every frame kind the protocol documents.
async fn ws_examples(s: &TestServer, real: &mut Captured) {
    let (bob_token, bob_id) = s.register("bob").await;
    let (cy_token, cy_id) = s.register("cy").await;
    let ada_token = login(s, "ada", "correct horse battery").await;
    let mut ada = WsClient::connect(s, &ada_token).await;
    let mut bob = WsClient::connect(s, &bob_token).await;
    let mut cy = WsClient::connect(s, &cy_token).await;

    real.result(&mut ada, "contact.invite", json!({"user": bob_id}))
        .await;
    real.push(&mut bob, "contact.updated", |_| true).await;
    bob.ok("contact.accept", json!({"user": "ada"})).await;
    let direct = real.push(&mut ada, "conversation.created", |_| true).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    real.result(&mut ada, "status.get", json!({})).await;
    bob.ok("status.set", json!({"status": "away"})).await;
    real.push(&mut ada, "status.changed", |st| st["status"] == "away")
        .await;

    // Messages: sent, answered, read, deleted, paged, synced.
    let first = real
        .result(
            &mut ada,
            "message.send",
            json!({"conversation": direct, "body": "Hello Bob"}),
        )
        .await;
    real.push(&mut bob, "message.created", |m| m["id"] == first["id"])
        .await;
    let invite = ada
        .ok(
            "message.game_invite",
            json!({"conversation": direct, "game": "chess", "settings": {"clock": "5+3"}, "invitee": bob_id}),
        )
        .await;
    real.put("game-invite", invite["game"].clone());
    real.put("message", invite.clone());
    bob.ok(
        "message.game_answer",
        json!({"message": invite["id"], "answer": "accept"}),
    )
    .await;
    real.push(&mut ada, "message.updated", |m| m["id"] == invite["id"])
        .await;
    real.result(
        &mut bob,
        "message.read",
        json!({"conversation": direct, "message": invite["id"]}),
    )
    .await;
    let mut bob2 = WsClient::connect(s, &bob_token).await;
    real.put(
        "push:session.ready",
        json!({"type": "session.ready", "data": bob2.ready}),
    );
    bob.ok(
        "message.read",
        json!({"conversation": direct, "message": invite["id"]}),
    )
    .await;
    real.push(&mut bob2, "message.read", |_| true).await;
    bob.ok("typing.start", json!({"conversation": direct}))
        .await;
    real.push(&mut ada, "typing", |_| true).await;
    real.result(
        &mut ada,
        "message.history",
        json!({"conversation": direct, "limit": 2}),
    )
    .await;
    real.result(&mut ada, "message.sync", json!({"since": first["id"]}))
        .await;
    real.result(
        &mut ada,
        "message.search",
        json!({"q": "hello", "limit": 5}),
    )
    .await;
    real.rest(
        "search-page",
        StatusCode::OK,
        s.get("/api/v1/search?q=hello&limit=5", &ada_token).await,
    );
    real.rest(
        "message-page",
        StatusCode::OK,
        s.get(
            &format!("/api/v1/conversations/{direct}/messages?limit=2"),
            &ada_token,
        )
        .await,
    );
    real.rest(
        "conversation-summaries",
        StatusCode::OK,
        s.get("/api/v1/conversations", &ada_token).await,
    );
    real.rest(
        "members",
        StatusCode::OK,
        s.get(
            &format!("/api/v1/conversations/{direct}/members"),
            &ada_token,
        )
        .await,
    );
    real.rest(
        "contacts",
        StatusCode::OK,
        s.get("/api/v1/contacts", &ada_token).await,
    );
    real.result(
        &mut ada,
        "user.lookup",
        json!({"handle": "@bob@confab.test"}),
    )
    .await;
    // Reactions (after the captures above, whose messages have none).
    let reacted = real
        .result(
            &mut bob,
            "message.react",
            json!({"message": first["id"], "emoji": "👍"}),
        )
        .await;
    real.put("reaction", reacted["reactions"][0].clone());
    real.push(&mut ada, "message.reactions", |r| {
        r["message"] == first["id"]
    })
    .await;
    real.result(
        &mut bob,
        "message.unreact",
        json!({"message": first["id"], "emoji": "👍"}),
    )
    .await;

    // A group: created, renamed, left by one, deleted.
    let group = ada
        .ok(
            "conversation.create",
            json!({"name": "Tea", "members": ["bob", "cy"]}),
        )
        .await;
    real.put("conversation", group.clone());
    let gid = group["id"].as_str().unwrap().to_owned();
    ada.ok(
        "conversation.update",
        json!({"conversation": gid, "name": "Tea & cake"}),
    )
    .await;
    real.push(&mut bob, "message.created", |m| m["kind"] == "system")
        .await;
    real.push(&mut bob, "conversation.updated", |c| {
        c["id"] == gid.as_str()
    })
    .await;
    let scones = bob
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "Scones at four"}),
        )
        .await;
    real.result(&mut ada, "message.pin", json!({"message": scones["id"]}))
        .await;
    real.push(&mut bob, "conversation.pins", |_| true).await;
    real.result(&mut bob, "conversation.pins", json!({"conversation": gid}))
        .await;
    real.rest(
        "pins",
        StatusCode::OK,
        s.get(&format!("/api/v1/conversations/{gid}/pins"), &bob_token)
            .await,
    );
    ada.ok(
        "conversation.members.remove",
        json!({"conversation": gid, "user": cy_id}),
    )
    .await;
    real.push(&mut cy, "conversation.removed", |_| true).await;
    ada.ok("conversation.delete", json!({"conversation": gid}))
        .await;
    real.push(&mut bob, "conversation.deleted", |_| true).await;
    let sent = bob
        .ok(
            "message.send",
            json!({"conversation": direct, "body": "to be deleted"}),
        )
        .await;
    bob.ok("message.delete", json!({"message": sent["id"]}))
        .await;
    real.push(&mut ada, "message.updated", |m| {
        m["id"] == sent["id"] && m["deleted"] == true
    })
    .await;
    ada.ok("contact.block", json!({"user": cy_id})).await;
    real.push(&mut ada, "contact.blocked", |_| true).await;
    real.rest(
        "blocks",
        StatusCode::OK,
        s.get("/api/v1/blocks", &ada_token).await,
    );

    // Errors: a refused request and malformed frames.
    let refused = bob.call("contact.accept", json!({"user": "ada"})).await;
    assert_eq!(refused["type"], "error", "{refused}");
    real.put("error-frame", refused);
    bob.send_raw(Frame::Text("{nope".into())).await;
    let malformed = bob.next_reply().await;
    assert_eq!(malformed["error"]["code"], "malformed_frame");
    real.put("error-frame", malformed);
}

async fn login(s: &TestServer, name: &str, password: &str) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": name, "password": password})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}
