//! A group hosted on alpha with members on beta and gamma (FEP-1b12): the
//! host relays every message to the members' servers, enforces rights, and
//! sends membership changes; mirrors show the group to their local members.

use crate::rig::{ada_bob_cy, eventually, id_on, GroupOfThree, Rig, Trio};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_hosted_on_one_instance_with_members_on_two_others() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let Trio {
        ada_token,
        bob_token,
        mut ada,
        mut bob,
        mut cy,
        ..
    } = ada_bob_cy(&rig).await;

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

/// Users on beta and gamma ask to join a group on alpha (`Follow{Group}`):
/// the owner sees the requests live, approves one (a mirror appears on
/// beta and bob can post), declines the other (gamma tells cy), and bob
/// later leaves from beta (`Undo{Follow}`), which the host applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_group_by_request_and_leaving_it() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let Trio {
        ada_token,
        bob_token,
        mut ada,
        mut bob,
        mut cy,
        ..
    } = ada_bob_cy(&rig).await;

    let group = ada
        .ok("conversation.create", json!({"name": "Open door"}))
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let group_url = format!("{}/groups/{group_id}", alpha.base());

    // A group URL of one's own server, or garbage, is refused clearly.
    bob.err(
        "conversation.join",
        json!({"group": format!("{}/groups/{group_id}", beta.base())}),
        "invalid",
    )
    .await;
    bob.err(
        "conversation.join",
        json!({"group": "not a url"}),
        "invalid",
    )
    .await;

    let asked = bob
        .ok("conversation.join", json!({"group": group_url}))
        .await;
    assert_eq!(asked["state"], "requested");
    // beta keeps the request, for all of bob's sessions and after a reload.
    let sent = bob.push("conversation.join_sent").await;
    assert_eq!(sent["group"], group_url.as_str());
    assert_eq!(sent["name"], "Open door");
    let waiting = bob.ok("conversation.join_sent", json!({})).await;
    assert_eq!(waiting, json!([sent]));
    assert_eq!(
        beta.get(&bob_token, "/api/v1/join-requests").await,
        json!([sent])
    );
    let request = ada.push("conversation.join_requested").await;
    assert_eq!(request["conversation"], group_id.as_str());
    let summary = ada
        .ok("conversation.get", json!({"conversation": group_id}))
        .await;
    assert_eq!(summary["join_requests"], 1, "what waits for the admins");
    let bob_on_alpha = request["user"].as_str().unwrap().to_owned();
    // The group's document lists members only to a signed fetch from a
    // server where members live: not to beta yet, and never unsigned.
    let (status, public) = crate::security::signed_get_as(beta, "bob", &group_url, &rig).await;
    assert_eq!(status, 200, "{public}");
    assert!(public.get("members").is_none(), "{public}");
    cy.ok("conversation.join", json!({"group": group_url}))
        .await;
    let cy_on_alpha = ada
        .push_where("conversation.join_requested", |r| r["user"] != bob_on_alpha)
        .await["user"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = alpha
        .get(
            &ada_token,
            &format!("/api/v1/conversations/{group_id}/join-requests"),
        )
        .await;
    let users: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, [bob_on_alpha.as_str(), cy_on_alpha.as_str()]);
    // Nobody is in before an admin says so.
    assert_eq!(
        alpha
            .get(
                &ada_token,
                &format!("/api/v1/conversations/{group_id}/members")
            )
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Approve bob: beta gets the group, bob can post to it.
    ada.ok(
        "conversation.join_approve",
        json!({"conversation": group_id, "user": bob_on_alpha}),
    )
    .await;
    let resolved = ada.push("conversation.join_resolved").await;
    assert_eq!(resolved["approved"], true);
    let mirror = bob.push("conversation.created").await;
    assert_eq!(mirror["hosted_by"], group_url.as_str());
    let summary = ada
        .ok("conversation.get", json!({"conversation": group_id}))
        .await;
    assert_eq!(summary["join_requests"], 1, "cy still waits");
    let conv_b = mirror["id"].as_str().unwrap().to_owned();
    let (_, listed) = crate::security::signed_get_as(beta, "bob", &group_url, &rig).await;
    let rights: Vec<&str> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["rights"].as_str().unwrap())
        .collect();
    assert_eq!(rights, ["owner", "write"], "{listed}");
    let (_, unsigned) = crate::security::send_get(&rig, &group_url).await;
    assert!(unsigned.get("members").is_none(), "{unsigned}");
    bob.ok(
        "message.send",
        json!({"conversation": conv_b, "body": "thanks for having me"}),
    )
    .await;
    ada.push_where("message.created", |m| m["body"] == "thanks for having me")
        .await;
    bob.err("conversation.join", json!({"group": group_url}), "conflict")
        .await;
    assert_eq!(
        bob.ok("conversation.join_sent", json!({})).await,
        json!([]),
        "answered"
    );

    // cy withdraws the request (Undo{Follow}); the admins see it go. Then
    // cy asks again.
    cy.ok("conversation.join_cancel", json!({"group": group_url}))
        .await;
    let withdrawn = ada
        .push_where("conversation.join_resolved", |r| r["user"] == cy_on_alpha)
        .await;
    assert_eq!(withdrawn["approved"], false);
    assert_eq!(cy.ok("conversation.join_sent", json!({})).await, json!([]));
    cy.err(
        "conversation.join_cancel",
        json!({"group": group_url}),
        "not_found",
    )
    .await;
    cy.ok("conversation.join", json!({"group": group_url}))
        .await;
    ada.push_where("conversation.join_requested", |r| r["user"] == cy_on_alpha)
        .await;

    // Decline cy: gamma tells cy, and no mirror appears there.
    ada.ok(
        "conversation.join_decline",
        json!({"conversation": group_id, "user": cy_on_alpha}),
    )
    .await;
    let declined = cy.push("conversation.join_declined").await;
    assert_eq!(declined["group"], group_url.as_str());
    assert_eq!(cy.ok("conversation.join_sent", json!({})).await, json!([]));
    cy.assert_no_push("conversation.created", |_| true).await;
    ada.err(
        "conversation.join_decline",
        json!({"conversation": group_id, "user": cy_on_alpha}),
        "not_found",
    )
    .await;
    let listed = alpha
        .get(
            &ada_token,
            &format!("/api/v1/conversations/{group_id}/join-requests"),
        )
        .await;
    assert_eq!(listed, json!([]));

    // An invitation is honoured: a member's Follow is accepted at once
    // and makes no request.
    let (status, body) = crate::security::signed_post_as(
        beta,
        "bob",
        &format!("{group_url}/inbox"),
        &json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/users/bob/joins/again", beta.base()),
            "type": "Follow",
            "actor": format!("{}/users/bob", beta.base()),
            "object": group_url,
        }),
        &rig,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    ada.assert_no_push("conversation.join_requested", |_| true)
        .await;

    // bob leaves from beta: out at once there, and the host drops him.
    bob.ok("conversation.leave", json!({"conversation": conv_b}))
        .await;
    let removed = bob.push("conversation.removed").await;
    assert_eq!(removed["conversation"], conv_b.as_str());
    ada.push_where("conversation.updated", |c| {
        c["members"].as_array().unwrap().len() == 1
    })
    .await;
    rig.stop().await;
}

/// bob on beta, made an admin of a group hosted on alpha, manages it from
/// his mirror: the host checks his rights, applies each change and sends
/// the new state to every server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_a_group_from_another_server() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let mut trio = ada_bob_cy(&rig).await;
    let GroupOfThree {
        id: group_id,
        on_beta: conv_b,
        on_gamma: conv_c,
    } = trio.group_of_three(&rig, "Club").await;
    let Trio {
        mut ada,
        mut bob,
        mut cy,
        ..
    } = trio;
    let bob_on_alpha = id_on(&mut ada, &beta.handle("bob")).await;
    let ada_on_beta = id_on(&mut bob, &alpha.handle("ada")).await;
    let cy_on_beta = id_on(&mut bob, &gamma.handle("cy")).await;
    let bob_on_beta = id_on(&mut bob, &beta.handle("bob")).await;

    // A member with `write` cannot rename it, here or there.
    bob.err(
        "conversation.update",
        json!({"conversation": conv_b, "name": "Mine"}),
        "forbidden",
    )
    .await;
    ada.ok(
        "conversation.members.rights",
        json!({"conversation": group_id, "user": bob_on_alpha, "rights": "admin"}),
    )
    .await;
    let rights_of = |c: &Value, user: &str| {
        c["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"] == user)
            .map(|m| m["rights"].clone())
    };
    bob.push_where("conversation.updated", |c| {
        rights_of(c, &bob_on_beta) == Some(json!("admin"))
    })
    .await;

    // Ownership stays on the host's server.
    ada.err(
        "conversation.transfer",
        json!({"conversation": group_id, "user": bob_on_alpha}),
        "invalid",
    )
    .await;

    // The avatar stays the host's.
    bob.err(
        "conversation.update",
        json!({"conversation": conv_b, "avatar_url": "https://example.org/a.png"}),
        "invalid",
    )
    .await;

    // Rename and topic: asked of the host, seen everywhere.
    bob.ok(
        "conversation.update",
        json!({"conversation": conv_b, "name": "Club 2", "topic": "run from beta"}),
    )
    .await;
    let at_host = ada
        .push_where("conversation.updated", |c| c["name"] == "Club 2")
        .await;
    assert_eq!(at_host["topic"], "run from beta");
    let at_c = cy
        .push_where("conversation.updated", |c| c["name"] == "Club 2")
        .await;
    assert_eq!(at_c["id"], conv_c.as_str());
    bob.push_where("conversation.updated", |c| c["name"] == "Club 2")
        .await;

    // Rights: cy becomes read-only.
    bob.ok(
        "conversation.members.rights",
        json!({"conversation": conv_b, "user": cy_on_beta, "rights": "read"}),
    )
    .await;
    cy.push_where("conversation.updated", |c| {
        c["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["rights"] == "read")
    })
    .await;
    cy.err(
        "message.send",
        json!({"conversation": conv_c, "body": "still here?"}),
        "forbidden",
    )
    .await;

    // Adding a user of beta: the host fetches them, beta mirrors it for them.
    let bea_token = beta.register("bea").await;
    let mut bea = beta.ws(&bea_token).await;
    let bea_id = id_on(&mut bob, &beta.handle("bea")).await;
    bob.ok(
        "conversation.members.add",
        json!({"conversation": conv_b, "users": [bea_id]}),
    )
    .await;
    let for_bea = bea.push("conversation.created").await;
    assert_eq!(for_bea["id"], conv_b.as_str());
    assert_eq!(for_bea["members"].as_array().unwrap().len(), 4);
    ada.push_where("conversation.updated", |c| {
        c["members"].as_array().unwrap().len() == 4
    })
    .await;

    // Limits hold: an admin cannot remove the owner, and a plain member
    // cannot remove anyone by going to the host directly.
    bob.err(
        "conversation.members.remove",
        json!({"conversation": conv_b, "user": ada_on_beta}),
        "forbidden",
    )
    .await;
    bea.ok(
        "message.send",
        json!({"conversation": conv_b, "body": "hi, I am new"}),
    )
    .await;
    ada.push_where("message.created", |m| m["body"] == "hi, I am new")
        .await;
    let group_url = format!("{}/groups/{group_id}", alpha.base());
    let (status, body) = crate::security::signed_post_as(
        beta,
        "bea",
        &format!("{group_url}/inbox"),
        &json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/users/bea/removes/1", beta.base()),
            "type": "Remove",
            "actor": format!("{}/users/bea", beta.base()),
            "object": format!("{}/users/cy", gamma.base()),
            "target": group_url,
        }),
        &rig,
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // Removing cy: gamma drops the mirror.
    bob.ok(
        "conversation.members.remove",
        json!({"conversation": conv_b, "user": cy_on_beta}),
    )
    .await;
    let removed = cy.push("conversation.removed").await;
    assert_eq!(removed["conversation"], conv_c.as_str());
    rig.stop().await;
}

/// Deliveries run in parallel, so a relayed message can reach a member's
/// server before the group's state does. Here beta has lost its mirror (it
/// is deleted from beta's stopped database): the next relayed message
/// names a group beta does not know. Beta fetches the group with a signed
/// request, the host lists the members to it, and the mirror is made again
/// with the message in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_for_a_group_not_mirrored_yet_makes_the_mirror_from_a_signed_fetch() {
    let Some(mut rig) = Rig::start().await else {
        return;
    };
    let Trio {
        bob_token,
        mut ada,
        bob,
        ..
    } = ada_bob_cy(&rig).await;
    let bob_handle = rig.instances[1].handle("bob");
    let group = ada
        .ok(
            "conversation.create",
            json!({"name": "Outrun", "members": [bob_handle]}),
        )
        .await;
    let group_url = format!(
        "{}/groups/{}",
        rig.instances[0].base(),
        group["id"].as_str().unwrap()
    );
    let mut bob = bob;
    bob.push("conversation.created").await;
    drop(bob);

    rig.instances[1].stop();
    let path = rig.instances[1]
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    let url = group_url.clone();
    let deleted = tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut db = diesel::SqliteConnection::establish(&path).unwrap();
        diesel::sql_query("PRAGMA foreign_keys = ON")
            .execute(&mut db)
            .unwrap();
        diesel::sql_query(format!("DELETE FROM conversations WHERE ap_id = '{url}'"))
            .execute(&mut db)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(deleted, 1);
    rig.instances[1].restart().await;
    let mut bob = rig.instances[1].ws(&bob_token).await;

    ada.ok(
        "message.send",
        json!({"conversation": group["id"], "body": "are you still there?"}),
    )
    .await;
    let mirror = bob.push("conversation.created").await;
    assert_eq!(mirror["hosted_by"], group_url.as_str());
    assert_eq!(mirror["members"].as_array().unwrap().len(), 2);
    let got = bob
        .push_where("message.created", |m| m["body"] == "are you still there?")
        .await;
    assert_eq!(got["conversation"], mirror["id"]);
    rig.stop().await;
}
