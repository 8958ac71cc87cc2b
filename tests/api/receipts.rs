//! Read receipts over real WebSockets and REST: members who share see how
//! far the others have read and are told when it moves; turning
//! `share_read_receipts` off hides a user both ways; blocks hide receipts
//! both ways.

use crate::backend_tests;
use crate::common::{person, Person, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    members_who_share_see_how_far_others_have_read,
    blocks_hide_read_receipts_both_ways,
);

/// `(user, message)` of each reader in a `ReadBy`, sorted.
fn readers(read_by: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = read_by["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user"].as_str().unwrap().to_owned(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pair(user: &Person, message: &str) -> (String, String) {
    (user.id.clone(), message.to_owned())
}

/// A group of `people`, created by the first; its id.
async fn group(people: &mut [&mut Person]) -> String {
    let members: Vec<&str> = people[1..].iter().map(|p| p.id.as_str()).collect();
    let g = people[0]
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Receipts", "members": members}),
        )
        .await;
    g["id"].as_str().unwrap().to_owned()
}

async fn send(p: &mut Person, conversation: &str, body: &str) -> String {
    let m =
        p.ws.ok(
            "message.send",
            json!({"conversation": conversation, "body": body}),
        )
        .await;
    m["id"].as_str().unwrap().to_owned()
}

async fn read(p: &mut Person, conversation: &str, message: &str) {
    p.ws.ok(
        "message.read",
        json!({"conversation": conversation, "message": message}),
    )
    .await;
}

async fn members_who_share_see_how_far_others_have_read(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let gid = group(&mut [&mut ada, &mut bob, &mut cy]).await;
    let m1 = send(&mut ada, &gid, "one").await;
    let m2 = send(&mut ada, &gid, "two").await;

    // Bob reads: the others are told.
    read(&mut bob, &gid, &m1).await;
    let pushed = ada.ws.push("conversation.read_by").await;
    assert_eq!(
        pushed,
        json!({"conversation": gid, "user": bob.id, "message": m1})
    );
    let pushed = cy.ws.push("conversation.read_by").await;
    assert_eq!(pushed["user"], bob.id.as_str());
    // A marker that does not move is not told again.
    read(&mut bob, &gid, &m1).await;
    read(&mut bob, &gid, &m2).await;
    let pushed = ada.ws.push("conversation.read_by").await;
    assert_eq!(pushed["message"], m2.as_str());
    // Everyone who read is listed, not the viewer, over WS and REST.
    read(&mut cy, &gid, &m1).await;
    let seen = ada
        .ws
        .ok("conversation.read_by", json!({"conversation": gid}))
        .await;
    let mut want = vec![pair(&bob, &m2), pair(&cy, &m1)];
    want.sort();
    assert_eq!(readers(&seen), want);
    assert_eq!(seen["conversation"], gid.as_str());
    let rest = s
        .get(&format!("/api/v1/conversations/{gid}/read-by"), &bob.token)
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    assert_eq!(readers(&rest.body), vec![pair(&cy, &m1)]);

    // Cy turns sharing off: hidden from the others, and sees nobody.
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/account/settings",
            Some(json!({"share_read_receipts": false})),
            Some(&cy.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["share_read_receipts"], false);
    let m3 = send(&mut ada, &gid, "three").await;
    read(&mut cy, &gid, &m3).await;
    read(&mut bob, &gid, &m3).await;
    // Ada's first push after these is Bob's: Cy's was never sent.
    let pushed = ada
        .ws
        .push_where("conversation.read_by", |p| p["message"] == m3.as_str())
        .await;
    assert_eq!(pushed["user"], bob.id.as_str());
    ada.ws
        .assert_no_push("conversation.read_by", |p| p["user"] == cy.id.as_str())
        .await;
    cy.ws
        .assert_no_push("conversation.read_by", |p| p["message"] == m3.as_str())
        .await;
    let seen = ada
        .ws
        .ok("conversation.read_by", json!({"conversation": gid}))
        .await;
    assert_eq!(readers(&seen), vec![pair(&bob, &m3)]);
    let seen = cy
        .ws
        .ok("conversation.read_by", json!({"conversation": gid}))
        .await;
    assert_eq!(readers(&seen), vec![]);

    // Not a member, or no such conversation: 404 as for every read.
    let dan = person(s, "dan").await;
    let r = s
        .get(&format!("/api/v1/conversations/{gid}/read-by"), &dan.token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(r.code(), "not_found");
    let r = s
        .get("/api/v1/conversations/nope/read-by", &ada.token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    ada.ws
        .err(
            "conversation.read_by",
            json!({"conversation": gid, "extra": 1}),
            "invalid",
        )
        .await;
}

async fn blocks_hide_read_receipts_both_ways(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let gid = group(&mut [&mut ada, &mut bob, &mut cy]).await;
    let m1 = send(&mut cy, &gid, "one").await;
    ada.ws.ok("contact.block", json!({"user": bob.id})).await;

    // Bob (blocked by Ada) reads: Cy is told, Ada is not.
    read(&mut bob, &gid, &m1).await;
    cy.ws
        .push_where("conversation.read_by", |p| p["user"] == bob.id.as_str())
        .await;
    ada.ws
        .assert_no_push("conversation.read_by", |p| p["user"] == bob.id.as_str())
        .await;
    // Ada (who blocks Bob) reads: Cy is told, Bob is not.
    read(&mut ada, &gid, &m1).await;
    cy.ws
        .push_where("conversation.read_by", |p| p["user"] == ada.id.as_str())
        .await;
    bob.ws
        .assert_no_push("conversation.read_by", |p| p["user"] == ada.id.as_str())
        .await;
    // Neither lists the other; Cy lists both.
    assert_eq!(readers(&list(&mut ada, &gid).await), vec![]);
    assert_eq!(readers(&list(&mut bob, &gid).await), vec![]);
    let mut want = vec![pair(&ada, &m1), pair(&bob, &m1)];
    want.sort();
    assert_eq!(readers(&list(&mut cy, &gid).await), want);
    // Unblocked, they see each other again.
    ada.ws.ok("contact.unblock", json!({"user": bob.id})).await;
    assert_eq!(readers(&list(&mut ada, &gid).await), vec![pair(&bob, &m1)]);
}

/// What `p` sees of the others' read markers.
async fn list(p: &mut Person, conversation: &str) -> Value {
    p.ws.ok(
        "conversation.read_by",
        json!({"conversation": conversation}),
    )
    .await
}
