//! Reports across servers: a report forwarded from alpha reaches beta's
//! moderators as a `Flag`; a Mastodon-shaped `Flag` signed by a remote user
//! lands in alpha's queue; a remote account's `Delete{Person}` takes it
//! out of contacts and conversations.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::rig::{eventually, Rig};
use crate::security::signed_post_as;
use reqwest::Method;
use serde_json::{json, Value};

fn fixture(name: &str, replacements: &[(&str, &str)]) -> Value {
    let path = format!("{}/tests/fixtures/apub/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(path).unwrap();
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_travel_as_flags_and_deleted_accounts_leave() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    // The first account of each instance is its admin.
    let alpha_root = alpha.register("root").await;
    let beta_root = beta.register("root").await;
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        bob_on_alpha,
        conv_ada,
        conv_bob,
        ..
    } = ada_and_bob(&rig).await;

    // bob writes to ada; ada reports it and asks to forward it.
    let sent = bob
        .ok(
            "message.send",
            json!({"conversation": conv_bob, "body": "buy pills"}),
        )
        .await;
    let got = ada
        .push_where("message.created", |m| m["body"] == "buy pills")
        .await;
    let (status, report) = alpha
        .api(
            Method::POST,
            &ada_token,
            "/api/v1/reports",
            Some(json!({"message_id": got["id"], "comment": "spam", "forward": true})),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["forwarded"], true);
    assert_eq!(report["target"]["id"], bob_on_alpha.as_str());

    // It reaches beta's queue as a Flag from alpha's instance actor, about
    // bob and his message, without naming ada.
    let queued = eventually("the Flag on beta", || async {
        let queue = beta.get(&beta_root, "/api/v1/admin/reports").await;
        (queue.as_array().unwrap().len() == 1).then(|| queue[0].clone())
    })
    .await;
    assert_eq!(queued["origin"], format!("{}/actor", alpha.base()));
    assert_eq!(queued["target"]["name"], "bob");
    assert_eq!(queued["message_ids"], json!([sent["id"]]));
    assert_eq!(queued["comment"], "spam");
    assert_eq!(queued["reporter"], Value::Null);

    // A Mastodon-shaped Flag, signed by bob himself (Mastodon accepts
    // users' as well as instance actors' Flags), about ada's message.
    let mine = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "hello"}),
        )
        .await;
    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada", alpha.base());
    let message = format!("{}/messages/{}", alpha.base(), mine["id"].as_str().unwrap());
    let inbox = format!("{}/inbox", alpha.base());
    let flag = fixture(
        "mastodon-flag.json",
        &[
            ("{actor}", &bob_id),
            ("{recipient}", &ada_id),
            ("{message}", &message),
            ("{id}", "1"),
        ],
    );
    let (status, body) = signed_post_as(beta, "bob", &inbox, &flag, &rig).await;
    assert_eq!(status, 202, "{body}");
    // alpha's queue holds ada's own report and now bob's.
    let queue = alpha.get(&alpha_root, "/api/v1/admin/reports").await;
    assert_eq!(queue.as_array().unwrap().len(), 2, "{queue}");
    let received = &queue[1];
    assert_eq!(received["origin"], bob_id.as_str());
    assert_eq!(received["reporter"], Value::Null);
    assert_eq!(received["target"]["name"], "ada");
    assert_eq!(received["message_ids"], json!([mine["id"]]));
    assert_eq!(received["comment"], "spam sent to many people");
    // A Flag about nothing of ours is refused.
    let elsewhere = fixture(
        "mastodon-flag.json",
        &[
            ("{actor}", &bob_id),
            ("{recipient}", &bob_id),
            ("{message}", &format!("{}/messages/x", beta.base())),
            ("{id}", "2"),
        ],
    );
    let (status, _) = signed_post_as(beta, "bob", &inbox, &elsewhere, &rig).await;
    assert_eq!(status, 400);

    // bob's account is deleted on beta: its Delete{Person}, signed by bob,
    // takes him out of ada's contacts and their conversation.
    let delete = fixture("mastodon-delete-person.json", &[("{actor}", &bob_id)]);
    let (status, body) = signed_post_as(beta, "bob", &inbox, &delete, &rig).await;
    assert_eq!(status, 202, "{body}");
    let gone = ada
        .push_where("contact.updated", |c| c["user"] == bob_on_alpha.as_str())
        .await;
    assert_eq!(gone["state"], "none");
    let contacts = alpha.get(&ada_token, "/api/v1/contacts").await;
    assert_eq!(contacts, json!([]));
    let members = alpha
        .get(
            &ada_token,
            &format!("/api/v1/conversations/{conv_ada}/members"),
        )
        .await;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    let (status, _) = alpha
        .api(
            Method::GET,
            &ada_token,
            &format!("/api/v1/users/{bob_on_alpha}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    rig.stop().await;
}
