//! The chat over real WebSockets: contacts, direct and group conversations,
//! rights, blocks, multi-session sync, presence, catch-up and bad input.

use crate::backend_tests;
use crate::common::{person, Person, TestServer};
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    contacts_open_a_direct_chat,
    direct_messages_reply_edit_delete_and_history,
    group_rights_are_enforced,
    blocks_cut_every_path,
    sessions_stay_in_sync_and_presence_follows_them,
    reconnect_catches_up_without_gaps,
    game_invitations,
    bad_frames_get_errors_and_the_socket_stays_open,
    deleting_an_account_ends_its_sessions,
    pushes_arrive_in_id_order,
);

/// Messages sent at once from several sessions reach a member in id order,
/// system messages included, so catching up from the last id seen has no
/// gaps.
async fn pushes_arrive_in_id_order(s: &TestServer) {
    use tokio_tungstenite::tungstenite::Message as Frame;
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let _cy = person(s, "cy").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Order", "members": ["bob"]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let mut ada2 = WsClient::connect(s, &ada.token).await;
    for i in 0..40 {
        let frame = |n: String| {
            Frame::Text(
                json!({"type": "message.send", "id": n, "data": {"conversation": gid, "body": "x"}})
                    .to_string()
                    .into(),
            )
        };
        ada.ws.send_raw(frame(format!("a{i}"))).await;
        ada2.send_raw(frame(format!("b{i}"))).await;
        if i == 20 {
            // A system message in the middle of the stream.
            ada2.send_raw(Frame::Text(
                    json!({"type": "conversation.update", "id": "u", "data": {"conversation": gid, "name": "Order 2"}})
                        .to_string()
                        .into(),
                ))
                .await;
        }
    }
    let mut ids = vec![];
    while ids.len() < 81 {
        let m = bob.ws.push("message.created").await;
        if m["kind"] == "text" || m["kind"] == "system" {
            ids.push(m["id"].as_str().unwrap().to_owned());
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "pushes in id order");
}

async fn deleting_an_account_ends_its_sessions(s: &TestServer) {
    let mut gone = person(s, "gone").await;
    let mut friend = person(s, "friend").await;
    befriend(&mut gone, &mut friend).await;
    let r = s
        .call(Method::DELETE, "/api/v1/users/me", None, Some(&gone.token))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        gone.ws.closed_by_server().await,
        (1008, "account_deleted".to_owned())
    );
    let seen = friend
        .ws
        .push_where("status.changed", |st| {
            st["user"] == gone.id.as_str() && st["status"] != "online"
        })
        .await;
    assert_eq!(
        seen["status"], "offline",
        "contacts see a deleted account go"
    );
}

/// Whether a pushed message is a system message about `action`.
fn is_system(message: &Value, action: &str) -> bool {
    message["kind"] == "system" && system_body(message)["action"] == action
}

/// The change a system message describes.
fn system_body(message: &Value) -> Value {
    serde_json::from_str(message["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Makes `a` and `b` contacts; returns their direct conversation id.
async fn befriend(a: &mut Person, b: &mut Person) -> String {
    a.ws.ok("contact.invite", json!({"user": b.id})).await;
    b.ws.push("contact.updated").await;
    b.ws.ok("contact.accept", json!({"user": a.id})).await;
    let conv = a.ws.push("conversation.created").await;
    b.ws.push("conversation.created").await;
    a.ws.clear();
    b.ws.clear();
    conv["id"].as_str().unwrap().to_owned()
}

/// Sends a text message; the sender's own session also gets the
/// `message.created` push (for its other tabs), which is checked and
/// consumed here.
async fn send(p: &mut Person, conversation: &str, body: &str) -> Value {
    let sent =
        p.ws.ok(
            "message.send",
            json!({"conversation": conversation, "body": body}),
        )
        .await;
    let echo =
        p.ws.push_where("message.created", |m| m["id"] == sent["id"])
            .await;
    assert_eq!(echo, sent);
    sent
}

async fn contacts_open_a_direct_chat(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let invite = ada.ws.ok("contact.invite", json!({"user": "bob"})).await;
    assert_eq!(invite["state"], "pending_outgoing");
    let seen = bob.ws.push("contact.updated").await;
    assert_eq!(
        (seen["user"].as_str(), seen["state"].as_str()),
        (Some(ada.id.as_str()), Some("pending_incoming"))
    );
    ada.ws
        .err("contact.invite", json!({"user": "bob"}), "conflict")
        .await;
    ada.ws
        .err(
            "conversation.create",
            json!({"kind": "direct", "with": "bob"}),
            "forbidden",
        )
        .await;

    bob.ws.ok("contact.accept", json!({"user": ada.id})).await;
    let conv = ada.ws.push("conversation.created").await;
    // New contacts see each other's presence.
    let seen = ada
        .ws
        .push_where("status.changed", |st| st["user"] == bob.id.as_str())
        .await;
    assert_eq!(seen["status"], "online");
    assert_eq!(conv["kind"], "direct");
    assert_eq!(conv["read_only"], false);
    assert_eq!(bob.ws.push("conversation.created").await["id"], conv["id"]);
    assert_eq!(
        ada.ws.push("contact.updated").await["state"],
        "pending_outgoing"
    );
    assert_eq!(ada.ws.push("contact.updated").await["state"], "accepted");
    let listed = bob.ws.ok("contact.list", json!({})).await;
    assert_eq!(
        listed,
        json!([{"user": ada.id, "state": "accepted", "since": listed[0]["since"]}])
    );
    // Opening it again finds the same conversation.
    let again = ada
        .ws
        .ok(
            "conversation.create",
            json!({"kind": "direct", "with": bob.id}),
        )
        .await;
    assert_eq!(again["id"], conv["id"]);

    // Decline and cancel.
    let mut cy = person(s, "cy").await;
    cy.ws.ok("contact.invite", json!({"user": "ada"})).await;
    ada.ws.push("contact.updated").await;
    ada.ws.ok("contact.decline", json!({"user": "cy"})).await;
    assert_eq!(
        cy.ws.push("contact.updated").await["state"],
        "pending_outgoing"
    );
    assert_eq!(cy.ws.push("contact.updated").await["state"], "none");
    cy.ws.ok("contact.invite", json!({"user": "ada"})).await;
    cy.ws.ok("contact.cancel", json!({"user": "ada"})).await;
    ada.ws
        .err("contact.accept", json!({"user": "cy"}), "not_found")
        .await;

    // Removal makes the direct chat read-only; accepting again reopens it.
    let conv_id = conv["id"].as_str().unwrap();
    ada.ws.ok("contact.remove", json!({"user": "bob"})).await;
    let updated = bob.ws.push("conversation.updated").await;
    assert_eq!(updated["read_only"], true);
    bob.ws
        .err(
            "message.send",
            json!({"conversation": conv_id, "body": "hi?"}),
            "forbidden",
        )
        .await;
    bob.ws.ok("contact.invite", json!({"user": "ada"})).await;
    ada.ws.ok("contact.accept", json!({"user": "bob"})).await;
    let reopened = bob.ws.push("conversation.updated").await;
    assert_eq!(
        (reopened["id"].as_str(), reopened["read_only"].as_bool()),
        (Some(conv_id), Some(false))
    );
    send(&mut bob, conv_id, "back again").await;

    // The REST reads agree.
    let r = s.get("/api/v1/contacts", &ada.token).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = s.get("/api/v1/conversations", &ada.token).await;
    assert_eq!(r.body[0]["conversation"]["id"], conv["id"]);
    assert_eq!(r.body[0]["unread"], 1);
}

async fn direct_messages_reply_edit_delete_and_history(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let conv = befriend(&mut ada, &mut bob).await;

    let sent = send(&mut ada, &conv, "hello <b>bob</b>").await;
    let got = bob.ws.push("message.created").await;
    assert_eq!(got, sent, "the push is the stored message");
    assert_eq!(got["body"], "hello <b>bob</b>");
    assert_eq!(got["author"], ada.id.as_str());

    let reply = bob
        .ws
        .ok(
            "message.send",
            json!({"conversation": conv, "body": "hi", "reply_to": sent["id"]}),
        )
        .await;
    bob.ws.clear();
    assert_eq!(reply["reply_to"], sent["id"]);
    assert_eq!(ada.ws.push("message.created").await["reply_to"], sent["id"]);

    let edited = ada
        .ws
        .ok(
            "message.edit",
            json!({"message": sent["id"], "body": "hello bob"}),
        )
        .await;
    assert!(edited["edited_at"].is_string());
    assert_eq!(bob.ws.push("message.updated").await["body"], "hello bob");
    bob.ws
        .err(
            "message.edit",
            json!({"message": sent["id"], "body": "mine now"}),
            "forbidden",
        )
        .await;
    bob.ws
        .err(
            "message.delete",
            json!({"message": sent["id"]}),
            "forbidden",
        )
        .await;

    let deleted = ada
        .ws
        .ok("message.delete", json!({"message": sent["id"]}))
        .await;
    assert_eq!(
        (deleted["deleted"].as_bool(), deleted["body"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(bob.ws.push("message.updated").await["deleted"], true);
    ada.ws
        .err(
            "message.edit",
            json!({"message": sent["id"], "body": "undo"}),
            "not_found",
        )
        .await;

    // History pages by cursor, oldest first within a page.
    for i in 0..5 {
        send(&mut ada, &conv, &format!("m{i}")).await;
    }
    let page = bob
        .ws
        .ok("message.history", json!({"conversation": conv, "limit": 3}))
        .await;
    let bodies = |p: &Value| {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(&page), ["m2", "m3", "m4"]);
    assert_eq!(page["more"], true);
    let older = bob
        .ws
        .ok(
            "message.history",
            json!({"conversation": conv, "before": page["messages"][0]["id"], "limit": 3}),
        )
        .await;
    assert_eq!(bodies(&older), ["hi", "m0", "m1"]);
    assert_eq!(older["more"], true);
    let oldest = bob
        .ws
        .ok(
            "message.history",
            json!({"conversation": conv, "before": older["messages"][0]["id"], "limit": 3}),
        )
        .await;
    assert_eq!(bodies(&oldest), [""]);
    assert_eq!(
        oldest["messages"][0]["deleted"], true,
        "the tombstone stays in history"
    );
    assert_eq!(oldest["more"], false);
    let newer = bob
        .ws
        .ok(
            "message.history",
            json!({"conversation": conv, "after": older["messages"][2]["id"], "limit": 2}),
        )
        .await;
    assert_eq!(bodies(&newer), ["m2", "m3"]);
    assert_eq!(newer["more"], true);
    let rest = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages?limit=2"),
            &bob.token,
        )
        .await;
    assert_eq!(bodies(&rest.body), ["m3", "m4"]);

    // Read markers and unread counts.
    let unread = |list: &Value| list[0]["unread"].as_i64().unwrap();
    assert_eq!(
        unread(&bob.ws.ok("conversation.list", json!({})).await),
        5,
        "ada's five live messages"
    );
    let read = bob
        .ws
        .ok(
            "message.read",
            json!({"conversation": conv, "message": page["messages"][1]["id"]}),
        )
        .await;
    assert_eq!(read["unread"], 1);
    assert_eq!(unread(&bob.ws.ok("conversation.list", json!({})).await), 1);
    // A marker never moves back.
    let back = bob
        .ws
        .ok(
            "message.read",
            json!({"conversation": conv, "message": older["messages"][1]["id"]}),
        )
        .await;
    assert_eq!(back["unread"], 1);

    // Limits and bad references.
    let long = "x".repeat(4001);
    bob.ws
        .err(
            "message.send",
            json!({"conversation": conv, "body": long}),
            "invalid",
        )
        .await;
    bob.ws
        .err(
            "message.send",
            json!({"conversation": conv, "body": "   "}),
            "invalid",
        )
        .await;
    bob.ws
        .err(
            "message.send",
            json!({"conversation": conv, "body": "x", "reply_to": uuid::Uuid::now_v7()}),
            "invalid",
        )
        .await;
    bob.ws
        .err(
            "message.history",
            json!({"conversation": conv, "limit": 101}),
            "invalid",
        )
        .await;

    // A resend with the same request id is stored once.
    let first = bob
        .ws
        .call_with_id(
            "message.send",
            json!({"conversation": conv, "body": "once"}),
            "client-1",
        )
        .await;
    let second = bob
        .ws
        .call_with_id(
            "message.send",
            json!({"conversation": conv, "body": "once"}),
            "client-1",
        )
        .await;
    assert_eq!(first["data"]["id"], second["data"]["id"]);
    let latest = bob
        .ws
        .ok("message.history", json!({"conversation": conv, "limit": 2}))
        .await;
    assert_eq!(bodies(&latest), ["m4", "once"]);
}

async fn group_rights_are_enforced(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let mut dee = person(s, "dee").await;

    ada.ws
        .err(
            "conversation.create",
            json!({"name": "x", "members": ["bob", "bob"]}),
            "invalid",
        )
        .await;
    ada.ws
        .err(
            "conversation.create",
            json!({"name": "x", "members": ["nobody"]}),
            "not_found",
        )
        .await;
    ada.ws
        .err(
            "conversation.create",
            json!({"name": "bad/name", "members": []}),
            "invalid",
        )
        .await;
    ada.ws
        .err(
            "conversation.create",
            json!({"name": "", "members": []}),
            "invalid",
        )
        .await;

    let group = ada.ws.ok("conversation.create", json!({"kind": "group", "name": "Tea & cake (daily)", "topic": "biscuits", "members": ["bob", cy.id]})).await;
    let gid = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["members"].as_array().unwrap().len(), 3);
    assert_eq!(
        bob.ws.push("conversation.created").await["name"],
        "Tea & cake (daily)"
    );
    cy.ws.push("conversation.created").await;

    // Owner makes cy read-only: cy may read but not send.
    ada.ws
        .ok(
            "conversation.members.rights",
            json!({"conversation": gid, "user": "cy", "rights": "read"}),
        )
        .await;
    cy.ws
        .err(
            "message.send",
            json!({"conversation": gid, "body": "hi"}),
            "forbidden",
        )
        .await;
    cy.ws
        .err("typing.start", json!({"conversation": gid}), "forbidden")
        .await;
    // The change leaves a line in the chat, for every member.
    let cy_id = cy.id.clone();
    for who in [&mut bob, &mut cy] {
        let line = who
            .ws
            .push_where("message.created", |m| is_system(m, "rights_changed"))
            .await;
        assert_eq!(
            system_body(&line),
            json!({"action": "rights_changed", "user": cy_id, "rights": "read"})
        );
        assert_eq!(line["author"], ada.id.as_str());
    }
    send(&mut bob, &gid, "bob speaks").await;
    assert_eq!(cy.ws.push("message.created").await["body"], "bob speaks");
    cy.ws
        .ok("message.history", json!({"conversation": gid}))
        .await;

    // A non-member can neither read nor write, nor learn the group exists.
    dee.ws
        .err("message.history", json!({"conversation": gid}), "not_found")
        .await;
    dee.ws
        .err(
            "message.send",
            json!({"conversation": gid, "body": "hi"}),
            "not_found",
        )
        .await;
    assert_eq!(
        s.get(&format!("/api/v1/conversations/{gid}/messages"), &dee.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // bob becomes admin: may add with write rights, not grant admin, not
    // remove or demote the owner, may remove cy.
    ada.ws
        .ok(
            "conversation.members.rights",
            json!({"conversation": gid, "user": "bob", "rights": "admin"}),
        )
        .await;
    bob.ws
        .err(
            "conversation.members.add",
            json!({"conversation": gid, "users": ["dee"], "rights": "admin"}),
            "forbidden",
        )
        .await;
    bob.ws
        .ok(
            "conversation.members.add",
            json!({"conversation": gid, "users": ["dee"]}),
        )
        .await;
    assert_eq!(
        dee.ws.push("conversation.created").await["id"],
        gid.as_str()
    );
    bob.ws
        .err(
            "conversation.members.add",
            json!({"conversation": gid, "users": ["dee"]}),
            "conflict",
        )
        .await;
    bob.ws
        .err(
            "conversation.members.remove",
            json!({"conversation": gid, "user": "ada"}),
            "forbidden",
        )
        .await;
    bob.ws
        .err(
            "conversation.members.rights",
            json!({"conversation": gid, "user": "ada", "rights": "read"}),
            "forbidden",
        )
        .await;
    bob.ws
        .err(
            "conversation.delete",
            json!({"conversation": gid}),
            "forbidden",
        )
        .await;
    bob.ws
        .ok(
            "conversation.update",
            json!({"conversation": gid, "name": "Tea"}),
        )
        .await;
    ada.ws
        .push_where("conversation.updated", |c| c["name"] == "Tea")
        .await;
    bob.ws
        .ok(
            "conversation.members.remove",
            json!({"conversation": gid, "user": "cy"}),
        )
        .await;
    assert_eq!(
        cy.ws.push("conversation.removed").await["conversation"],
        gid.as_str()
    );

    // A removed member stops receiving and can no longer read.
    ada.ws.clear();
    cy.ws.clear();
    send(&mut ada, &gid, "after cy left").await;
    dee.ws
        .push_where("message.created", |m| m["body"] == "after cy left")
        .await;
    cy.ws
        .assert_no_push("message.created", |m| m["body"] == "after cy left")
        .await;
    cy.ws
        .err("message.history", json!({"conversation": gid}), "not_found")
        .await;
    cy.ws
        .err(
            "message.send",
            json!({"conversation": gid, "body": "still here?"}),
            "not_found",
        )
        .await;

    // Ownership moves by transfer; the owner cannot leave without it.
    ada.ws
        .err(
            "conversation.leave",
            json!({"conversation": gid}),
            "forbidden",
        )
        .await;
    ada.ws
        .ok(
            "conversation.transfer",
            json!({"conversation": gid, "user": "bob"}),
        )
        .await;
    let line = dee
        .ws
        .push_where("message.created", |m| is_system(m, "owner_changed"))
        .await;
    assert_eq!(
        system_body(&line),
        json!({"action": "owner_changed", "user": bob.id})
    );
    let members = s
        .get(&format!("/api/v1/conversations/{gid}/members"), &ada.token)
        .await
        .body;
    let rights = |id: &str| {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"] == id)
            .unwrap()["rights"]
            .clone()
    };
    assert_eq!(
        (rights(&bob.id), rights(&ada.id)),
        (json!("owner"), json!("admin"))
    );
    ada.ws
        .ok("conversation.leave", json!({"conversation": gid}))
        .await;
    ada.ws.push("conversation.removed").await;
    dee.ws.clear();
    bob.ws
        .ok("conversation.delete", json!({"conversation": gid}))
        .await;
    assert_eq!(
        dee.ws.push("conversation.deleted").await["conversation"],
        gid.as_str()
    );
    assert!(bob
        .ws
        .ok("conversation.list", json!({}))
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

async fn blocks_cut_every_path(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let direct = befriend(&mut ada, &mut bob).await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Three", "members": ["bob", "cy"]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();

    ada.ws.ok("contact.block", json!({"user": "bob"})).await;
    assert_eq!(
        ada.ws.push("contact.blocked").await,
        json!({"user": bob.id, "blocked": true})
    );
    assert_eq!(bob.ws.push("conversation.updated").await["read_only"], true);
    // The direct chat is read-only for both.
    bob.ws
        .err(
            "message.send",
            json!({"conversation": direct, "body": "hey"}),
            "forbidden",
        )
        .await;
    ada.ws
        .err(
            "message.send",
            json!({"conversation": direct, "body": "hey"}),
            "forbidden",
        )
        .await;
    // In the group, bob's messages reach cy but not ada.
    ada.ws.clear();
    cy.ws.clear();
    send(&mut bob, &gid, "can anyone hear me").await;
    cy.ws
        .push_where("message.created", |m| m["body"] == "can anyone hear me")
        .await;
    ada.ws
        .assert_no_push("message.created", |m| m["author"] == bob.id.as_str())
        .await;
    let history = ada
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    assert!(history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["author"] != bob.id.as_str()));
    // Unread counts and the last message leave the blocked author out too.
    let summary = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["conversation"]["id"] == gid.as_str())
            .unwrap()
            .clone()
    };
    let for_ada = summary(ada.ws.ok("conversation.list", json!({})).await);
    assert_eq!(
        (for_ada["unread"].clone(), for_ada["last_message"].clone()),
        (json!(0), Value::Null)
    );
    let for_cy = summary(cy.ws.ok("conversation.list", json!({})).await);
    assert_eq!(for_cy["unread"], 1);
    assert_eq!(for_cy["last_message"]["body"], "can anyone hear me");
    // ... and ada's still reach bob (the blocker decides what they receive).
    send(&mut ada, &gid, "ada here").await;
    bob.ws
        .push_where("message.created", |m| m["body"] == "ada here")
        .await;
    // Game invitations from bob do not reach ada either.
    ada.ws.clear();
    cy.ws.clear();
    bob.ws
        .ok(
            "message.game_invite",
            json!({"conversation": gid, "game": "chess"}),
        )
        .await;
    bob.ws.push("message.created").await;
    cy.ws
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    ada.ws
        .assert_no_push("message.created", |m| m["author"] == bob.id.as_str())
        .await;
    // bob cannot invite ada, add her to groups, or find her.
    bob.ws.ok("contact.remove", json!({"user": "ada"})).await;
    bob.ws
        .err("contact.invite", json!({"user": "ada"}), "not_found")
        .await;
    bob.ws
        .err(
            "conversation.create",
            json!({"name": "Trap", "members": ["ada"]}),
            "not_found",
        )
        .await;
    let found = s.get("/api/v1/users?q=ad", &bob.token).await;
    assert_eq!(
        found.body["users"],
        json!([]),
        "the blocker is hidden from searches"
    );
    assert_eq!(
        s.get("/api/v1/users?q=ad", &cy.token).await.body["users"][0]["name"],
        "ada"
    );
    assert_eq!(
        s.get("/api/v1/blocks", &ada.token).await.body,
        json!([bob.id])
    );

    // Unblocking restores the direct chat once they are contacts again.
    ada.ws.ok("contact.unblock", json!({"user": "bob"})).await;
    bob.ws.ok("contact.invite", json!({"user": "ada"})).await;
    ada.ws.ok("contact.accept", json!({"user": "bob"})).await;
    send(&mut bob, &direct, "friends again").await;
    ada.ws
        .push_where("message.created", |m| m["body"] == "friends again")
        .await;
    ada.ws
        .err("contact.unblock", json!({"user": "bob"}), "not_found")
        .await;
}

async fn sessions_stay_in_sync_and_presence_follows_them(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let conv = befriend(&mut ada, &mut bob).await;
    let statuses = bob.ws.ok("status.get", json!({})).await;
    assert_eq!(
        statuses["contacts"],
        json!([{"user": ada.id, "status": "online"}])
    );

    let mut ada2 = WsClient::connect(s, &ada.token).await;
    assert_eq!(
        ada2.ready["conversations"][0]["conversation"]["id"],
        conv.as_str()
    );
    // What one session does, the other sees.
    let sent = send(&mut ada, &conv, "from tab one").await;
    assert_eq!(ada2.push("message.created").await["id"], sent["id"]);
    bob.ws.push("message.created").await;
    let reply = send(&mut bob, &conv, "to both tabs").await;
    assert_eq!(ada.ws.push("message.created").await["id"], reply["id"]);
    assert_eq!(ada2.push("message.created").await["id"], reply["id"]);
    ada.ws
        .ok(
            "message.read",
            json!({"conversation": conv, "message": reply["id"]}),
        )
        .await;
    let marker = ada2.push("message.read").await;
    assert_eq!(
        (marker["message"].clone(), marker["unread"].clone()),
        (reply["id"].clone(), json!(0))
    );

    // Typing reaches the other side only.
    ada2.ok("typing.start", json!({"conversation": conv})).await;
    assert_eq!(
        bob.ws.push("typing").await,
        json!({"conversation": conv, "user": ada.id, "typing": true})
    );

    // Presence: away only when every session is away; offline when all close.
    bob.ws.clear();
    ada.ws.ok("status.set", json!({"status": "away"})).await;
    ada2.ok("status.set", json!({"status": "away"})).await;
    assert_eq!(
        bob.ws.push("status.changed").await,
        json!({"user": ada.id, "status": "away"})
    );
    ada2.ok("status.set", json!({"status": "online"})).await;
    assert_eq!(bob.ws.push("status.changed").await["status"], "online");
    ada.ws.close().await;
    bob.ws.ok("ping", json!({})).await;
    assert_eq!(
        bob.ws.ok("status.get", json!({})).await["contacts"][0]["status"],
        "online",
        "one tab is still open"
    );
    ada2.close().await;
    assert_eq!(
        bob.ws.push("status.changed").await,
        json!({"user": ada.id, "status": "offline"})
    );
}

async fn reconnect_catches_up_without_gaps(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let conv = befriend(&mut ada, &mut bob).await;
    let seen = send(&mut ada, &conv, "before").await;
    bob.ws.push("message.created").await;
    let earlier = send(&mut ada, &conv, "edit me later").await;
    bob.ws.push("message.created").await;
    let Person { ws, .. } = bob;
    let bob_token = {
        ws.close().await;
        s.register("placeholder").await;
        let r = s
            .call(
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"name": "bob", "password": "password-123"})),
                None,
            )
            .await;
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    let mut missed = vec![];
    for i in 0..3 {
        missed.push(send(&mut ada, &conv, &format!("missed {i}")).await["id"].clone());
    }
    ada.ws
        .ok(
            "message.edit",
            json!({"message": earlier["id"], "body": "edited while away"}),
        )
        .await;
    let mut bob2 = WsClient::connect(s, &bob_token).await;
    let sync = bob2
        .ok("message.sync", json!({"since": earlier["id"]}))
        .await;
    let ids: Vec<Value> = sync["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    let mut expected = vec![earlier["id"].clone()];
    expected.extend(missed);
    assert_eq!(
        ids, expected,
        "the edit and every missed message, in order, nothing else"
    );
    assert_eq!(sync["messages"][0]["body"], "edited while away");
    assert_eq!(sync["more"], false);
    let _ = seen;
    bob2.err("message.sync", json!({"since": "not-an-id"}), "invalid")
        .await;
}

async fn game_invitations(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let conv = befriend(&mut ada, &mut bob).await;
    let invite = ada
        .ws
        .ok("message.game_invite", json!({"conversation": conv, "game": "chess", "settings": {"clock": "5+3"}, "invitee": bob.id}))
        .await;
    assert_eq!(invite["kind"], "game_invite");
    assert_eq!(invite["body"], "invites you to play chess");
    assert_eq!(invite["game"]["state"], "pending");
    assert_eq!(ada.ws.push("message.created").await, invite);
    assert_eq!(
        bob.ws.push("message.created").await["game"]["settings"]["clock"],
        "5+3"
    );
    ada.ws
        .err(
            "message.game_answer",
            json!({"message": invite["id"], "answer": "accept"}),
            "forbidden",
        )
        .await;
    let accepted = bob
        .ws
        .ok(
            "message.game_answer",
            json!({"message": invite["id"], "answer": "accept"}),
        )
        .await;
    assert_eq!(accepted["game"]["state"], "accepted");
    assert_eq!(accepted["game"]["answered_by"], bob.id.as_str());
    assert_eq!(
        ada.ws.push("message.updated").await["game"]["state"],
        "accepted"
    );
    bob.ws
        .err(
            "message.game_answer",
            json!({"message": invite["id"], "answer": "decline"}),
            "conflict",
        )
        .await;
    ada.ws
        .err(
            "message.game_invite",
            json!({"conversation": conv, "game": ""}),
            "invalid",
        )
        .await;
    ada.ws
        .err(
            "message.game_invite",
            json!({"conversation": conv, "game": "go", "settings": [1]}),
            "invalid",
        )
        .await;
    let text = send(&mut ada, &conv, "not a game").await;
    bob.ws
        .err(
            "message.game_answer",
            json!({"message": text["id"], "answer": "accept"}),
            "invalid",
        )
        .await;
}

async fn bad_frames_get_errors_and_the_socket_stays_open(s: &TestServer) {
    use tokio_tungstenite::tungstenite::Message;
    let mut ada = person(s, "ada").await;
    let cases: Vec<(Message, &str)> = vec![
        (Message::Text("not json".into()), "malformed_frame"),
        (Message::Text("{\"type\": 5}".into()), "malformed_frame"),
        (Message::Text("[]".into()), "malformed_frame"),
        (Message::Text(json!({"type": "no.such", "id": "x1"}).to_string().into()), "unknown_type"),
        (Message::Text(json!({"type": "message.send", "id": "x2", "data": {"conversation": "nope"}}).to_string().into()), "invalid"),
        (Message::Text(json!({"type": "message.send", "id": "x3", "data": [1]}).to_string().into()), "invalid"),
        (Message::Text(json!({"type": "ping", "id": "x4", "data": {"extra": 1}}).to_string().into()), "invalid"),
        (Message::Text(json!({"type": "message.send", "id": "x5", "data": {"conversation": uuid::Uuid::now_v7(), "body": "x"}}).to_string().into()), "not_found"),
        (Message::Text("x".repeat(70 * 1024).into()), "payload_too_large"),
        (Message::Binary(vec![1, 2, 3].into()), "malformed_frame"),
    ];
    for (frame, code) in cases {
        ada.ws.send_raw(frame).await;
        let reply = ada.ws.next_reply().await;
        assert_eq!(reply["type"], "error");
        assert_eq!(reply["error"]["code"], code, "{reply}");
        assert!(reply["error"]["status"].as_u64().unwrap() >= 400);
    }
    let reply = ada.ws.call_with_id("no.such", json!({}), "echo-me").await;
    assert_eq!(reply["id"], "echo-me");
    ada.ws.ok("ping", json!({})).await;

    // Without a token, with a bad one, or with a service token: no session.
    let url = format!("{}/api/v1/ws", s.base.replace("http://", "ws://"));
    for protocol in [None, Some("confab.v1, garbage")] {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .unwrap();
        if let Some(p) = protocol {
            req.headers_mut()
                .insert("sec-websocket-protocol", p.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 401)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
    // Authorization: Bearer works for non-browser clients.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", ada.token).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    use futures_util::StreamExt;
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("session.ready"));
}

/// The per-user session cap holds, and a closed session frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cap_is_enforced() {
    use crate::common::Backend;
    let s = TestServer::start(Backend::Sqlite, &["--max-sessions-per-user", "1"])
        .await
        .unwrap();
    let (token, _) = s.register("capped").await;
    let first = WsClient::connect(&s, &token).await;
    let url = format!("{}/api/v1/ws", s.base.replace("http://", "ws://"));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("confab.v1, {token}").parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 429),
        other => panic!("expected 429, got {other:?}"),
    }
    first.close().await;
    let mut again = None;
    for _ in 0..50 {
        let url = format!("{}/api/v1/ws", s.base.replace("http://", "ws://"));
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            format!("confab.v1, {token}").parse().unwrap(),
        );
        if let Ok(ok) = tokio_tungstenite::connect_async(req).await {
            again = Some(ok);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        again.is_some(),
        "the place of a closed session is free again"
    );
    s.stop().await;
}
