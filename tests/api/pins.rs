//! Pinned messages of groups over real WebSockets and REST: admins pin and
//! unpin, members read and are told, the bound, blocks and deletions.

use crate::backend_tests;
use crate::common::{person, TestServer};
use serde_json::{json, Value};

backend_tests!(pins_are_kept_by_admins_and_seen_by_members);

fn pinned(list: &Value) -> Vec<String> {
    list["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn pins_are_kept_by_admins_and_seen_by_members(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Pins", "members": [bob.id, cy.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let mut ids = vec![];
    for body in ["first", "second"] {
        let m = bob
            .ws
            .ok("message.send", json!({"conversation": gid, "body": body}))
            .await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }

    // Members may not pin; admins may.
    bob.ws
        .err("message.pin", json!({"message": ids[0]}), "forbidden")
        .await;
    let list = ada.ws.ok("message.pin", json!({"message": ids[0]})).await;
    assert_eq!(list["conversation"], gid.as_str());
    assert_eq!(pinned(&list), vec![ids[0].clone()]);
    assert_eq!(list["pins"][0]["pinned_by"], ada.id.as_str());
    assert_eq!(list["pins"][0]["message"]["body"], "first");
    // Everyone is told, with a line in the chat.
    let pushed = cy.ws.push("conversation.pins").await;
    assert_eq!(pinned(&pushed), vec![ids[0].clone()]);
    let line = cy
        .ws
        .push_where("message.created", |m| {
            m["kind"] == "system" && m["body"].as_str().unwrap().contains("message_pinned")
        })
        .await;
    let body: Value = serde_json::from_str(line["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"action": "message_pinned", "message": ids[0]}));
    // Pinning again changes nothing; members read the list.
    ada.ws.ok("message.pin", json!({"message": ids[0]})).await;
    ada.ws.ok("message.pin", json!({"message": ids[1]})).await;
    let read = bob
        .ws
        .ok("conversation.pins", json!({"conversation": gid}))
        .await;
    assert_eq!(pinned(&read), ids);
    let rest = s
        .get(&format!("/api/v1/conversations/{gid}/pins"), &cy.token)
        .await;
    assert_eq!(pinned(&rest.body), ids);

    // Wrong input.
    let system = line["id"].as_str().unwrap().to_owned();
    ada.ws
        .err("message.pin", json!({"message": system}), "forbidden")
        .await;
    ada.ws
        .err(
            "message.pin",
            json!({"message": "01a212dd-cae6-75e1-9da6-4feb0a515302"}),
            "not_found",
        )
        .await;
    let mut dee = person(s, "dee").await;
    dee.ws
        .err(
            "conversation.pins",
            json!({"conversation": gid}),
            "not_found",
        )
        .await;
    let r = s
        .get(&format!("/api/v1/conversations/{gid}/pins"), &dee.token)
        .await;
    assert_eq!(r.status, reqwest::StatusCode::NOT_FOUND);

    // A reader who blocks the author does not see the pin.
    cy.ws.ok("contact.block", json!({"user": bob.id})).await;
    let read = cy
        .ws
        .ok("conversation.pins", json!({"conversation": gid}))
        .await;
    assert!(pinned(&read).is_empty());

    // Unpinning; a deleted message loses its pin.
    let list = ada.ws.ok("message.unpin", json!({"message": ids[0]})).await;
    assert_eq!(pinned(&list), vec![ids[1].clone()]);
    bob.ws
        .push_where("conversation.pins", |p| {
            p["pins"].as_array().unwrap().len() == 1
        })
        .await;
    bob.ws
        .ok("message.delete", json!({"message": ids[1]}))
        .await;
    bob.ws
        .push_where("conversation.pins", |p| {
            p["pins"].as_array().unwrap().is_empty()
        })
        .await;

    // At most 50 per group.
    let mut last = String::new();
    for i in 0..51 {
        let m = ada
            .ws
            .ok(
                "message.send",
                json!({"conversation": gid, "body": format!("m{i}")}),
            )
            .await;
        last = m["id"].as_str().unwrap().to_owned();
        if i < 50 {
            ada.ws.ok("message.pin", json!({"message": last})).await;
        }
    }
    ada.ws
        .err("message.pin", json!({"message": last}), "limit_reached")
        .await;

    // Direct conversations take no pins.
    ada.ws.ok("contact.invite", json!({"user": dee.id})).await;
    dee.ws.push("contact.updated").await;
    dee.ws.ok("contact.accept", json!({"user": ada.id})).await;
    let direct = dee
        .ws
        .push_where("conversation.created", |c| c["kind"] == "direct")
        .await;
    let m = dee
        .ws
        .ok(
            "message.send",
            json!({"conversation": direct["id"], "body": "hi"}),
        )
        .await;
    dee.ws
        .err("message.pin", json!({"message": m["id"]}), "invalid")
        .await;
}
