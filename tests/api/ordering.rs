//! The order of frames a client can rely on (`docs/protocol.md`,
//! "Ordering"): a change's system line before the new state, and every push
//! a request causes before its reply, in the caller's session, and before
//! the reply to any later request in the other sessions.

use crate::backend_tests;
use crate::common::{person, TestServer};
use crate::ws_client::WsClient;
use serde_json::{json, Value};

backend_tests!(
    a_change_pushes_its_system_line_then_the_new_state,
    a_requests_pushes_precede_its_reply_and_later_replies_elsewhere:
        &["--ws-requests-per-s", "100000"],
);

/// How often the ordering of a request's pushes is checked; each round is
/// a fresh chance for a push to fall behind a reply.
const ROUNDS: usize = 200;

/// `type` of each push, and for `message.created` also the system
/// action (`message.created:renamed`), in arrival order.
fn kinds(pushes: &[Value]) -> Vec<String> {
    pushes
        .iter()
        .map(|p| {
            let kind = p["type"].as_str().unwrap_or_default().to_owned();
            if p["data"]["kind"] == "system" {
                let body: Value =
                    serde_json::from_str(p["data"]["body"].as_str().unwrap()).unwrap();
                format!("{kind}:{}", body["action"].as_str().unwrap())
            } else {
                kind
            }
        })
        .collect()
}

/// Everything pushed to `client` up to the reply to a `ping` sent now.
async fn pushes_so_far(client: &mut WsClient) -> Vec<String> {
    client.ok("ping", json!({})).await;
    kinds(&client.take_pushes())
}

/// Rename, add and remove: every member sees the system message, then
/// `conversation.updated`; a new member sees `conversation.created` before
/// any message of the group.
async fn a_change_pushes_its_system_line_then_the_new_state(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Order", "members": ["bob"]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    pushes_so_far(&mut ada.ws).await;
    pushes_so_far(&mut bob.ws).await;

    ada.ws
        .ok(
            "conversation.update",
            json!({"conversation": gid, "name": "Tea"}),
        )
        .await;
    let renamed = ["message.created:renamed", "conversation.updated"];
    assert_eq!(kinds(&ada.ws.take_pushes()), renamed, "the renamer");
    assert_eq!(pushes_so_far(&mut bob.ws).await, renamed, "a member");

    ada.ws
        .ok(
            "conversation.members.add",
            json!({"conversation": gid, "users": ["cy"]}),
        )
        .await;
    let added = ["message.created:member_added", "conversation.updated"];
    assert_eq!(kinds(&ada.ws.take_pushes()), added, "the admin");
    assert_eq!(pushes_so_far(&mut bob.ws).await, added, "an earlier member");
    assert_eq!(
        pushes_so_far(&mut cy.ws).await,
        ["conversation.created", "message.created:member_added"],
        "the new member"
    );

    ada.ws
        .ok(
            "conversation.members.remove",
            json!({"conversation": gid, "user": cy.id}),
        )
        .await;
    let removed = ["message.created:member_removed", "conversation.updated"];
    assert_eq!(kinds(&ada.ws.take_pushes()), removed, "the admin");
    assert_eq!(pushes_so_far(&mut bob.ws).await, removed, "a member");
    assert_eq!(
        pushes_so_far(&mut cy.ws).await,
        ["conversation.removed"],
        "the removed member"
    );

    bob.ws
        .ok("conversation.leave", json!({"conversation": gid}))
        .await;
    assert_eq!(
        pushes_so_far(&mut ada.ws).await,
        ["message.created:member_left", "conversation.updated"],
        "the remaining member"
    );
    assert_eq!(
        kinds(&bob.ws.take_pushes()),
        ["conversation.removed"],
        "the leaver"
    );
}

/// Round after round: a message's `message.created` reaches its sender's
/// session before the reply to `message.send`; the `message.read` of one
/// session reaches the user's other session, and the message the other
/// user's session, before the reply to a `ping` sent there after the
/// request's reply came back.
async fn a_requests_pushes_precede_its_reply_and_later_replies_elsewhere(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    bob.ws.ok("contact.invite", json!({"user": ada.id})).await;
    ada.ws.push("contact.updated").await;
    ada.ws.ok("contact.accept", json!({"user": bob.id})).await;
    let conv = ada.ws.push("conversation.created").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ada2 = WsClient::connect(s, &ada.token).await;
    pushes_so_far(&mut ada.ws).await;
    pushes_so_far(&mut bob.ws).await;

    for round in 0..ROUNDS {
        let sent = bob
            .ws
            .ok(
                "message.send",
                json!({"conversation": conv, "body": format!("round {round}")}),
            )
            .await;
        let own = bob.ws.take_pushes();
        assert!(
            own.iter()
                .any(|p| p["type"] == "message.created" && p["data"]["id"] == sent["id"]),
            "round {round}: the sender's reply came before its message.created: {own:?}"
        );

        ada.ws.ok("ping", json!({})).await;
        let pushed = ada.ws.take_pushes();
        assert!(
            pushed
                .iter()
                .any(|p| p["type"] == "message.created" && p["data"]["id"] == sent["id"]),
            "round {round}: a ping answered before the message reached the other user: {pushed:?}"
        );

        ada.ws
            .ok(
                "message.read",
                json!({"conversation": conv, "message": sent["id"]}),
            )
            .await;
        ada2.ok("ping", json!({})).await;
        let other = ada2.take_pushes();
        assert!(
            other
                .iter()
                .any(|p| p["type"] == "message.read" && p["data"]["message"] == sent["id"]),
            "round {round}: a ping answered before the other session's message.read: {other:?}"
        );
    }
}
