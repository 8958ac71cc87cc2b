//! Mentions over real WebSockets: `@name` in a message names members, and
//! every view of the message (the reply, the push, history, an edit)
//! carries their ids; non-members, blocked readers, the author and code
//! do not count.

use crate::backend_tests;
use crate::common::{message_in, person, TestServer};
use serde_json::json;

backend_tests!(mentions_name_members_in_every_view);

async fn mentions_name_members_in_every_view(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    // dan exists but is not a member.
    let _dan = person(s, "dan").await;
    let mut eve = person(s, "eve").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Mentions", "members": [bob.id, cy.id, eve.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    for p in [&mut bob, &mut cy, &mut eve] {
        p.ws.push("conversation.created").await;
    }
    // eve blocks ada: she does not see ada's messages, so is not mentioned.
    eve.ws.ok("contact.block", json!({"user": ada.id})).await;

    let body = "hi @bob and @CY, not @dan nor `@bob`, me@x.example @ada @eve";
    let sent = ada
        .ws
        .ok("message.send", json!({"conversation": gid, "body": body}))
        .await;
    let mid = sent["id"].as_str().unwrap().to_owned();
    assert_eq!(sent["mentions"], json!([bob.id, cy.id]), "{sent}");
    let pushed = bob
        .ws
        .push_where("message.created", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(pushed["mentions"], json!([bob.id, cy.id]));
    let page = cy
        .ws
        .ok("message.history", json!({"conversation": gid}))
        .await;
    assert_eq!(message_in(&page, &mid)["mentions"], json!([bob.id, cy.id]));

    // An edit reads them again.
    let edited = ada
        .ws
        .ok(
            "message.edit",
            json!({"message": mid, "body": "only @cy now"}),
        )
        .await;
    assert_eq!(edited["mentions"], json!([cy.id]));
    let updated = bob
        .ws
        .push_where("message.updated", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(updated["mentions"], json!([cy.id]));

    // A message that names nobody has no `mentions`.
    let plain = bob
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "no one here, mail bob@x.example"}),
        )
        .await;
    assert!(plain.get("mentions").is_none(), "{plain}");
    // Deleted: the tombstone names nobody.
    let gone = ada.ws.ok("message.delete", json!({"message": mid})).await;
    assert!(gone.get("mentions").is_none(), "{gone}");
}
