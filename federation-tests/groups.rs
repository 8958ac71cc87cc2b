//! A group hosted on alpha with members on beta and gamma (FEP-1b12): the
//! host relays every message to the members' servers, enforces rights, and
//! sends membership changes; mirrors show the group to their local members.

use crate::rig::{eventually, Rig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_hosted_on_one_instance_with_members_on_two_others() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let ada_token = alpha.register("ada").await;
    let bob_token = beta.register("bob").await;
    let cy_token = gamma.register("cy").await;
    let mut ada = alpha.ws(&ada_token).await;
    let mut bob = beta.ws(&bob_token).await;
    let mut cy = gamma.ws(&cy_token).await;

    let group = ada
        .ok(
            "conversation.create",
            json!({"name": "Across", "topic": "three servers",
            "members": [beta.handle("bob"), gamma.handle("cy")]}),
        )
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let bob_on_alpha = ada
        .ok("user.lookup", json!({"handle": beta.handle("bob")}))
        .await["id"]
        .clone();
    let cy_on_alpha = ada
        .ok("user.lookup", json!({"handle": gamma.handle("cy")}))
        .await["id"]
        .clone();

    // Each member's server mirrors the group for them.
    let mirror_b = bob.push("conversation.created").await;
    assert_eq!(mirror_b["kind"], "group");
    assert_eq!(mirror_b["name"], "Across");
    assert_eq!(
        mirror_b["hosted_by"],
        format!("{}/groups/{group_id}", alpha.base())
    );
    assert_eq!(mirror_b["members"].as_array().unwrap().len(), 3);
    let mirror_c = cy.push("conversation.created").await;
    let (conv_b, conv_c) = (
        mirror_b["id"].as_str().unwrap().to_owned(),
        mirror_c["id"].as_str().unwrap().to_owned(),
    );

    // cy becomes read-only; gamma learns it from the host.
    ada.ok(
        "conversation.members.rights",
        json!({"conversation": group_id, "user": cy_on_alpha, "rights": "read"}),
    )
    .await;
    let updated = cy
        .push_where("conversation.updated", |c| {
            c["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["rights"] == "read")
        })
        .await;
    assert_eq!(updated["id"], conv_c.as_str());

    // The owner's message reaches both servers.
    ada.ok(
        "message.send",
        json!({"conversation": group_id, "body": "welcome"}),
    )
    .await;
    let got_b = bob
        .push_where("message.created", |m| m["body"] == "welcome")
        .await;
    assert_eq!(got_b["conversation"], conv_b.as_str());
    let got_c = cy
        .push_where("message.created", |m| m["body"] == "welcome")
        .await;
    assert_eq!(got_c["conversation"], conv_c.as_str());

    // A member on beta writes; the host stores it and relays it to gamma.
    bob.ok(
        "message.send",
        json!({"conversation": conv_b, "body": "hello from beta", "reply_to": got_b["id"]}),
    )
    .await;
    let at_host = ada
        .push_where("message.created", |m| m["body"] == "hello from beta")
        .await;
    assert_eq!(at_host["author"], bob_on_alpha);
    assert_eq!(at_host["conversation"], group_id.as_str());
    let at_c = cy
        .push_where("message.created", |m| m["body"] == "hello from beta")
        .await;
    assert_eq!(at_c["conversation"], conv_c.as_str());
    assert_eq!(
        at_c["reply_to"], got_c["id"],
        "the reply points at gamma's copy"
    );

    // The read-only member cannot post, neither on their own server...
    cy.err(
        "message.send",
        json!({"conversation": conv_c, "body": "may I?"}),
        "forbidden",
    )
    .await;
    // ...nor by going around it: the host refuses a signed Create from cy.
    let refused = crate::security::signed_post_as(
        gamma,
        "cy",
        &format!("{}/groups/{group_id}/inbox", alpha.base()),
        &json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/users/cy/sneaky/activity", gamma.base()),
            "type": "Create",
            "actor": format!("{}/users/cy", gamma.base()),
            "object": {
                "id": format!("{}/users/cy/sneaky", gamma.base()),
                "type": "Note",
                "attributedTo": format!("{}/users/cy", gamma.base()),
                "to": format!("{}/groups/{group_id}", alpha.base()),
                "content": "<p>sneaky</p>",
            }
        }),
        &rig,
    )
    .await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{}",
        refused.1
    );

    // bob is removed: beta drops the mirror, and bob hears nothing more.
    ada.ok(
        "conversation.members.remove",
        json!({"conversation": group_id, "user": bob_on_alpha}),
    )
    .await;
    let removed = bob.push("conversation.removed").await;
    assert_eq!(removed["conversation"], conv_b.as_str());
    let after = ada
        .ok(
            "message.send",
            json!({"conversation": group_id, "body": "bob is gone"}),
        )
        .await;
    cy.push_where("message.created", |m| m["body"] == "bob is gone")
        .await;
    let deliveries = eventually("the delivery", || async {
        let d = alpha
            .get(
                &ada_token,
                &format!(
                    "/api/v1/messages/{}/deliveries",
                    after["id"].as_str().unwrap()
                ),
            )
            .await;
        d.as_array()
            .unwrap()
            .iter()
            .all(|x| x["state"] == "delivered")
            .then_some(d)
    })
    .await;
    let inboxes: Vec<&str> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["inbox"].as_str().unwrap())
        .collect();
    assert_eq!(
        inboxes,
        [format!("{}/inbox", gamma.base())],
        "only gamma gets it"
    );
    bob.assert_no_push("message.created", |m| m["body"] == "bob is gone")
        .await;
    let (status, _) = beta
        .api(
            reqwest::Method::GET,
            &bob_token,
            &format!("/api/v1/conversations/{conv_b}"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Deleting the group removes it from gamma.
    ada.ok("conversation.delete", json!({"conversation": group_id}))
        .await;
    let deleted = cy.push("conversation.deleted").await;
    assert_eq!(deleted["conversation"], conv_c.as_str());
    rig.stop().await;
}
