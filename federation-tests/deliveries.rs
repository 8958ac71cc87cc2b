//! What the sender's server reports about its deliveries: per message, one
//! entry per remote inbox (the newest activity's state, with every
//! activity); per host, its health, listed from the first success on. The
//! documents' examples of these answers (and of join requests, which also
//! need a second server) are checked against the real ones here.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::doc_examples;
use crate::rig::{eventually, Instance, Rig};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Waits until every activity about `message` reached its inbox; returns
/// the deliveries.
async fn all_delivered(instance: &Instance, token: &str, message: &str) -> Value {
    eventually("the deliveries", || async {
        let deliveries = instance
            .get(token, &format!("/api/v1/messages/{message}/deliveries"))
            .await;
        let done = deliveries.as_array().is_some_and(|d| {
            !d.is_empty()
                && d.iter().all(|inbox| {
                    inbox["activities"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|a| a["state"] == "delivered")
                })
        });
        done.then_some(deliveries)
    })
    .await
}

/// The entry for `host` in alpha's host list, if any.
async fn host_entry(alpha: &Instance, admin: &str, host: &str) -> Option<Value> {
    let hosts = alpha.get(admin, "/api/v1/admin/federation/hosts").await;
    hosts
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == host)
        .cloned()
}

/// Five messages delivered to beta put beta in alpha's host list (healthy,
/// with its last success); after beta goes down it is still listed, now
/// failing, with that success kept. An edit adds an `Update` to the same
/// inbox's entry instead of a second entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_and_deliveries_report_every_host_and_inbox_once() {
    let Some(mut rig) = Rig::start().await else {
        return;
    };
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let beta_host = beta.host();
    let mut real = BTreeMap::new();

    let mut sent = vec![];
    for i in 0..5 {
        let message = ada
            .ok(
                "message.send",
                json!({"conversation": conv_ada, "body": format!("hello {i}")}),
            )
            .await;
        sent.push(message["id"].as_str().unwrap().to_owned());
    }
    for id in &sent {
        all_delivered(alpha, &ada_token, id).await;
    }
    // The host is recorded in the commit that marks a delivery delivered.
    let healthy = host_entry(alpha, &ada_token, &beta_host)
        .await
        .unwrap_or_else(|| panic!("{beta_host} missing after five deliveries"));
    assert_eq!(healthy["failures"], 0, "{healthy}");
    assert_eq!(healthy["dead"], false, "{healthy}");
    assert_eq!(healthy["retry_at"], Value::Null, "{healthy}");
    assert!(healthy["last_success_at"].is_string(), "{healthy}");
    real.insert(
        "federation/hosts".to_owned(),
        alpha
            .get(&ada_token, "/api/v1/admin/federation/hosts")
            .await,
    );

    // An edit: still one entry for bob's inbox, Create then Update.
    ada.ok(
        "message.edit",
        json!({"message": sent[0], "body": "hello 0 (edited)"}),
    )
    .await;
    bob.push_where("message.updated", |m| m["body"] == "hello 0 (edited)")
        .await;
    let deliveries = all_delivered(alpha, &ada_token, &sent[0]).await;
    let entries = deliveries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "one entry per inbox: {deliveries}");
    let kinds: Vec<&str> = entries[0]["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Create", "Update"], "{deliveries}");
    assert_eq!(entries[0]["state"], "delivered");
    assert_eq!(
        entries[0]["updated_at"], entries[0]["activities"][1]["updated_at"],
        "the entry describes the newest activity: {deliveries}"
    );
    real.insert("federation/deliveries".to_owned(), deliveries.clone());
    join_request_examples(&rig, &mut real).await;
    doc_examples::check(&real, doc_examples::federation);

    // beta goes down: an edit to it fails, the entry shows the Update
    // retrying while the Create stays delivered, and the host is failing
    // with its last success kept.
    let last_success =
        host_entry(alpha, &ada_token, &beta_host).await.unwrap()["last_success_at"].clone();
    rig.instances[1].stop();
    let alpha = &rig.instances[0];
    ada.ok(
        "message.edit",
        json!({"message": sent[1], "body": "hello 1 (edited)"}),
    )
    .await;
    let retrying = eventually("the Update to be retried", || async {
        let d = alpha
            .get(
                &ada_token,
                &format!("/api/v1/messages/{}/deliveries", sent[1]),
            )
            .await;
        (d[0]["state"] == "retrying").then_some(d)
    })
    .await;
    assert_eq!(retrying.as_array().unwrap().len(), 1, "{retrying}");
    assert_eq!(retrying[0]["activities"][0]["state"], "delivered");
    assert_eq!(retrying[0]["activities"][1]["type"], "Update");
    assert!(retrying[0]["last_error"].is_string(), "{retrying}");
    let failing = eventually("beta to be failing", || async {
        host_entry(alpha, &ada_token, &beta_host)
            .await
            .filter(|h| h["failures"].as_i64() > Some(0))
    })
    .await;
    assert_eq!(
        failing["last_success_at"], last_success,
        "a failure keeps the last success: {failing}"
    );
    assert!(failing["retry_at"].is_string(), "{failing}");
    rig.stop().await;
}

/// cy on beta asks to join a group on alpha: the waiting request as beta
/// lists it over REST and over the WebSocket.
async fn join_request_examples(rig: &Rig, real: &mut BTreeMap<String, Value>) {
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let owner = alpha.register("owner").await;
    let mut owner_ws = alpha.ws(&owner).await;
    let group = owner_ws
        .ok("conversation.create", json!({"name": "Open door"}))
        .await;
    let group_url = format!("{}/groups/{}", alpha.base(), group["id"].as_str().unwrap());
    let cy = beta.register("cy").await;
    let mut cy_ws = beta.ws(&cy).await;
    cy_ws
        .ok("conversation.join", json!({"group": group_url}))
        .await;
    let sent = cy_ws.call("conversation.join_sent", json!({})).await;
    assert_eq!(sent["data"][0]["group"], group_url.as_str(), "{sent}");
    real.insert("federation/result:conversation.join_sent".to_owned(), sent);
    real.insert(
        "federation/join-requests".to_owned(),
        beta.get(&cy, "/api/v1/join-requests").await,
    );
}
