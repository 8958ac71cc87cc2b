//! Emoji reactions over real WebSockets: who may react, the pushes each
//! reader gets, the bounds, blocks, history, catch-up and REST reads.

use crate::backend_tests;
use crate::common::{message_in, person, Person, TestServer};
use crate::ws_client::WsClient;
use serde_json::{json, Value};

backend_tests!(
    reactions_reach_every_reader,
    reactions_are_checked_and_bounded,
    reactions_follow_blocks_and_deletions,
);

/// A group of `owner` with `members` (each gets the conversation), then a
/// message from `owner` in it; returns (group id, message id).
async fn group_with_message(owner: &mut Person, members: &mut [&mut Person]) -> (String, String) {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let group = owner
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Reactions", "members": ids}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    for m in members.iter_mut() {
        m.ws.push("conversation.created").await;
    }
    let sent = owner
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "React to me"}),
        )
        .await;
    let mid = sent["id"].as_str().unwrap().to_owned();
    for m in members.iter_mut() {
        m.ws.push_where("message.created", |p| p["id"] == mid.as_str())
            .await;
    }
    (gid, mid)
}

fn react(message: &str, emoji: &str) -> Value {
    json!({"message": message, "emoji": emoji})
}

/// The reaction of `emoji` in a summary, if any.
fn find<'a>(reactions: &'a Value, emoji: &str) -> Option<&'a Value> {
    reactions
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == emoji)
}

async fn reactions_reach_every_reader(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let (gid, mid) = group_with_message(&mut ada, &mut [&mut bob, &mut cy]).await;
    // cy only reads: readers may react too.
    ada.ws
        .ok(
            "conversation.members.rights",
            json!({"conversation": gid, "user": cy.id, "rights": "read"}),
        )
        .await;

    let mine = bob.ws.ok("message.react", react(&mid, "👍")).await;
    assert_eq!(mine["message"], mid.as_str());
    assert_eq!(mine["conversation"], gid.as_str());
    assert_eq!(
        mine["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": true, "users": [bob.id]}])
    );
    let seen = ada
        .ws
        .push_where("message.reactions", |p| p["message"] == mid.as_str())
        .await;
    assert_eq!(
        seen["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": false, "users": [bob.id]}])
    );
    // The reactor's own sessions get their own view.
    let echo = bob.ws.push("message.reactions").await;
    assert_eq!(echo["reactions"], mine["reactions"]);
    cy.ws.push("message.reactions").await;

    // Twice is once, and tells nobody.
    let again = bob.ws.ok("message.react", react(&mid, "👍")).await;
    assert_eq!(again["reactions"], mine["reactions"]);
    let cy_react = cy.ws.ok("message.react", react(&mid, "👍")).await;
    assert_eq!(find(&cy_react["reactions"], "👍").unwrap()["count"], 2);
    ada.ws
        .push_where("message.reactions", |p| {
            find(&p["reactions"], "👍").is_some_and(|r| r["count"] == 2)
        })
        .await;
    // The emoji is stored in its fully-qualified form: "❤" is "❤️".
    let heart = ada.ws.ok("message.react", react(&mid, "❤")).await;
    assert!(find(&heart["reactions"], "❤️").is_some(), "{heart}");

    // History, catch-up and REST carry the summary, from the reader's side.
    let page = bob
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    let m = message_in(&page, &mid);
    assert_eq!(m["reactions"][0]["emoji"], "👍");
    assert_eq!(m["reactions"][0]["me"], true);
    assert_eq!(m["reactions"][0]["users"], json!([bob.id, cy.id]));
    assert_eq!(m["reactions"][1]["emoji"], "❤️");
    assert_eq!(m["reactions"][1]["me"], false);
    let rest = s
        .get(&format!("/api/v1/conversations/{gid}/messages"), &ada.token)
        .await;
    let m = message_in(&rest.body, &mid);
    assert_eq!(m["reactions"][1]["me"], true);
    let mut bob2 = WsClient::connect(s, &bob.token).await;
    let first = bob2
        .ok("message.history", json!({"conversation": gid}))
        .await["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sync = bob2.ok("message.sync", json!({"since": first})).await;
    let m = message_in(&sync, &mid);
    assert_eq!(m["reactions"].as_array().unwrap().len(), 2, "{m}");

    // Unreacting tells everyone; unreacting again changes nothing.
    let after = bob.ws.ok("message.unreact", react(&mid, "👍")).await;
    assert_eq!(find(&after["reactions"], "👍").unwrap()["count"], 1);
    assert_eq!(find(&after["reactions"], "👍").unwrap()["me"], false);
    ada.ws
        .push_where("message.reactions", |p| {
            find(&p["reactions"], "👍").is_some_and(|r| r["count"] == 1)
        })
        .await;
    bob.ws.ok("message.unreact", react(&mid, "👍")).await;
    cy.ws.ok("message.unreact", react(&mid, "👍")).await;
    let none = ada
        .ws
        .push_where("message.reactions", |p| {
            find(&p["reactions"], "👍").is_none()
        })
        .await;
    assert_eq!(none["reactions"].as_array().unwrap().len(), 1);
}

async fn reactions_are_checked_and_bounded(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let mut dee = person(s, "dee").await;
    let (gid, mid) = group_with_message(&mut ada, &mut [&mut bob, &mut cy]).await;

    // Not a member, an unknown message: both 404.
    dee.ws
        .err("message.react", react(&mid, "👍"), "not_found")
        .await;
    bob.ws
        .err(
            "message.react",
            react("01a212dd-cae6-75e1-9da6-4feb0a515302", "👍"),
            "not_found",
        )
        .await;
    for bad in ["", "a", "👍👍", ":+1:", " 👍", "🇿"] {
        bob.ws
            .err("message.react", react(&mid, bad), "invalid")
            .await;
    }
    bob.ws
        .err(
            "message.react",
            json!({"message": mid, "emoji": "👍", "extra": 1}),
            "invalid",
        )
        .await;
    // System messages take none.
    let page = ada
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    let system = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "system");
    if let Some(system) = system {
        ada.ws
            .err(
                "message.react",
                react(system["id"].as_str().unwrap(), "👍"),
                "forbidden",
            )
            .await;
    }

    let emoji: Vec<String> = "😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝"
        .chars()
        .map(String::from)
        .collect();
    // Ten per user and message.
    for e in &emoji[..10] {
        bob.ws.ok("message.react", react(&mid, e)).await;
    }
    let refused = bob
        .ws
        .err("message.react", react(&mid, &emoji[10]), "limit_reached")
        .await;
    assert_eq!(refused["status"], 409);
    assert!(refused["message"].as_str().unwrap().contains("at most 10"));
    // Twenty different emoji per message; an emoji already there still goes.
    for e in &emoji[10..20] {
        ada.ws.ok("message.react", react(&mid, e)).await;
    }
    let refused = cy
        .ws
        .err("message.react", react(&mid, &emoji[20]), "limit_reached")
        .await;
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("20 different emoji"));
    cy.ws.ok("message.react", react(&mid, &emoji[0])).await;
    let page = bob
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    let m = message_in(&page, &mid);
    assert_eq!(m["reactions"].as_array().unwrap().len(), 20);
    assert_eq!(m["reactions"][0]["count"], 2);
}

async fn reactions_follow_blocks_and_deletions(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let (gid, mid) = group_with_message(&mut ada, &mut [&mut bob, &mut cy]).await;
    cy.ws.ok("message.react", react(&mid, "🎉")).await;
    bob.ws.ok("message.react", react(&mid, "🎉")).await;

    // ada blocks cy: she no longer sees cy's reactions, and cy's next one
    // does not reach her; bob still sees them all.
    ada.ws.ok("contact.block", json!({"user": cy.id})).await;
    let page = ada
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    let m = message_in(&page, &mid);
    assert_eq!(
        m["reactions"],
        json!([{"emoji": "🎉", "count": 1, "me": false, "users": [bob.id]}])
    );
    bob.ws.clear();
    ada.ws.clear();
    cy.ws.ok("message.react", react(&mid, "🔥")).await;
    let seen = bob
        .ws
        .push_where("message.reactions", |p| {
            find(&p["reactions"], "🔥").is_some()
        })
        .await;
    assert_eq!(find(&seen["reactions"], "🎉").unwrap()["count"], 2);
    ada.ws
        .assert_no_push("message.reactions", |p| p["message"] == mid.as_str())
        .await;
    // bob's reaction reaches ada, without cy's.
    bob.ws.ok("message.react", react(&mid, "👀")).await;
    let seen = ada
        .ws
        .push_where("message.reactions", |p| {
            find(&p["reactions"], "👀").is_some()
        })
        .await;
    assert!(find(&seen["reactions"], "🔥").is_none(), "{seen}");
    assert_eq!(find(&seen["reactions"], "🎉").unwrap()["count"], 1);
    // ada does not see cy's messages, so she cannot react to them.
    let from_cy = cy
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "hidden from ada"}),
        )
        .await;
    ada.ws
        .err(
            "message.react",
            react(from_cy["id"].as_str().unwrap(), "👍"),
            "not_found",
        )
        .await;

    // A deleted message loses its reactions and takes no more.
    let gone = ada.ws.ok("message.delete", json!({"message": mid})).await;
    assert_eq!(gone["deleted"], true);
    bob.ws
        .err("message.react", react(&mid, "👍"), "not_found")
        .await;
    let page = bob
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    assert!(message_in(&page, &mid).get("reactions").is_none());
}
