//! Presence and typing across servers (issue 17): a contact on another
//! Confab server shows online, away and offline as a local one does; not
//! across a block, not when they opt out, and not for ever when their
//! server dies (the bound is three refresh intervals; the rig announces
//! every 2 s). Typing crosses servers in a direct chat and in a group
//! hosted elsewhere (through its host).

use crate::contacts::{ada_and_bob, make_contacts, AdaAndBob};
use crate::rig::{ada_bob_cy, id_on, Rig, Trio};
use crate::ws_client::WsClient;
use serde_json::{json, Value};
use std::time::Instant;

/// `user`'s status in the `status.get` of the session `ws`, if listed.
async fn status_of(ws: &mut WsClient, user: &str) -> Option<String> {
    let got = ws.ok("status.get", json!({})).await;
    got["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["user"] == user)
        .map(|c| c["status"].as_str().unwrap().to_owned())
}

/// Waits for `status.changed` of `user` to `status` on `ws`.
async fn changed(ws: &mut WsClient, user: &str, status: &str) {
    ws.push_where("status.changed", |p| {
        p["user"] == user && p["status"] == status
    })
    .await;
}

/// Reads and drops what was pushed so far (what the checks after it see
/// was pushed after it).
async fn settle(ws: &mut WsClient) {
    ws.ok("ping", json!({})).await;
    ws.clear();
}

/// Polls `status.get` on `ws` until `user` shows `status`.
async fn shows(ws: &mut WsClient, user: &str, status: &str) {
    // The deadline of `rig::eventually` (which cannot lend the socket).
    for _ in 0..200 {
        if status_of(ws, user).await.as_deref() == Some(status) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {user} to show {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_servers_between_contacts_only() {
    let Some(mut rig) = Rig::start().await else {
        return;
    };
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        bob_on_alpha,
        ada_on_beta,
        conv_bob,
        ..
    } = ada_and_bob(&rig).await;

    // Both are connected: each server shows the other's user online.
    shows(&mut ada, &bob_on_alpha, "online").await;
    shows(&mut bob, &ada_on_beta, "online").await;
    settle(&mut ada).await;
    settle(&mut bob).await;

    // away and back, pushed as for a local contact.
    bob.ok("status.set", json!({"status": "away"})).await;
    changed(&mut ada, &bob_on_alpha, "away").await;
    assert_eq!(status_of(&mut ada, &bob_on_alpha).await.unwrap(), "away");
    bob.ok("status.set", json!({"status": "online"})).await;
    changed(&mut ada, &bob_on_alpha, "online").await;

    // The last session closing is offline at once (not after the bound).
    ada.close().await;
    changed(&mut bob, &ada_on_beta, "offline").await;
    let mut ada = rig.instances[0].ws(&ada_token).await;
    changed(&mut bob, &ada_on_beta, "online").await;
    shows(&mut ada, &bob_on_alpha, "online").await;

    // bob stops sharing his presence beyond beta: alpha shows him offline
    // at once, and hears nothing of his changes any more.
    let bob_login = login(&rig, 1, "bob").await;
    let beta = &rig.instances[1];
    let settings = "/api/v1/account/settings";
    let (status, body) = beta
        .api(
            reqwest::Method::PATCH,
            &bob_login,
            settings,
            Some(json!({"share_presence_remote": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    changed(&mut ada, &bob_on_alpha, "offline").await;
    bob.ok("status.set", json!({"status": "away"})).await;
    // A message sent after the change arrives; no presence came before it.
    bob.ok(
        "message.send",
        json!({"conversation": conv_bob, "body": "still here"}),
    )
    .await;
    ada.push_where("message.created", |m| m["body"] == "still here")
        .await;
    ada.assert_no_push("status.changed", |p| {
        p["user"] == bob_on_alpha && p["status"] != "offline"
    })
    .await;
    assert_eq!(status_of(&mut ada, &bob_on_alpha).await.unwrap(), "offline");
    // Sharing again tells alpha his current status.
    let (status, _) = beta
        .api(
            reqwest::Method::PATCH,
            &bob_login,
            settings,
            Some(json!({"share_presence_remote": true})),
        )
        .await;
    assert_eq!(status, 200);
    changed(&mut ada, &bob_on_alpha, "away").await;

    // A block ends presence both ways: each shows the other offline, and
    // neither lists the other any more, whatever their status does.
    ada.ok("contact.block", json!({"user": bob_on_alpha})).await;
    changed(&mut ada, &bob_on_alpha, "offline").await;
    changed(&mut bob, &ada_on_beta, "offline").await;
    bob.ok("status.set", json!({"status": "online"})).await;
    ada.ok("status.set", json!({"status": "away"})).await;
    assert_eq!(status_of(&mut ada, &bob_on_alpha).await, None);
    assert_eq!(status_of(&mut bob, &ada_on_beta).await, None);
    // Unblocking brings it back.
    ada.ok("contact.unblock", json!({"user": bob_on_alpha}))
        .await;
    shows(&mut ada, &bob_on_alpha, "online").await;
    shows(&mut bob, &ada_on_beta, "away").await;
    ada.ok("status.set", json!({"status": "online"})).await;

    // beta dies without a word: within the bound alpha shows bob offline.
    settle(&mut ada).await;
    rig.instances[1].stop();
    let killed = Instant::now();
    shows(&mut ada, &bob_on_alpha, "offline").await;
    changed(&mut ada, &bob_on_alpha, "offline").await;
    let waited = killed.elapsed();
    eprintln!("bob shown offline {waited:?} after beta was killed (bound: 3 x 2 s)");
    rig.stop().await;
}

/// Logs `name` in on instance `i` (a token for the REST calls).
async fn login(rig: &Rig, i: usize, name: &str) -> String {
    let body: Value = rig
        .client
        .post(format!("{}/api/v1/auth/login", rig.instances[i].base()))
        .json(&json!({"name": name, "password": "password-123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Waits for a `typing` push in `conversation` by `user`.
async fn typing(ws: &mut WsClient, conversation: &str, user: &str, typing: bool) -> Value {
    ws.push_where("typing", |p| {
        p["conversation"] == conversation && p["user"] == user && p["typing"] == typing
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_crosses_servers_in_direct_chats_and_groups_hosted_elsewhere() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let mut trio: Trio = ada_bob_cy(&rig).await;
    let (bob_on_alpha, ada_on_beta, conv_ada, conv_bob) = make_contacts(
        &mut trio.ada,
        &mut trio.bob,
        &beta.handle("bob"),
        &alpha.handle("ada"),
    )
    .await;

    // Direct chat: started and stopped, live on the other server.
    trio.ada
        .ok("typing.start", json!({"conversation": conv_ada}))
        .await;
    typing(&mut trio.bob, &conv_bob, &ada_on_beta, true).await;
    trio.ada
        .ok("typing.stop", json!({"conversation": conv_ada}))
        .await;
    typing(&mut trio.bob, &conv_bob, &ada_on_beta, false).await;
    trio.bob
        .ok("typing.start", json!({"conversation": conv_bob}))
        .await;
    typing(&mut trio.ada, &conv_ada, &bob_on_alpha, true).await;

    // A group hosted on alpha: bob on beta types; alpha (the host) tells
    // ada and relays to gamma; ada's typing reaches both mirrors.
    let group = trio.group_of_three(&rig, "typists").await;
    let bob_on_gamma = id_on(&mut trio.cy, &beta.handle("bob")).await;
    let ada_on_gamma = id_on(&mut trio.cy, &alpha.handle("ada")).await;
    trio.bob
        .ok("typing.start", json!({"conversation": group.on_beta}))
        .await;
    typing(&mut trio.ada, &group.id, &bob_on_alpha, true).await;
    typing(&mut trio.cy, &group.on_gamma, &bob_on_gamma, true).await;
    trio.ada
        .ok("typing.start", json!({"conversation": group.id}))
        .await;
    typing(&mut trio.bob, &group.on_beta, &ada_on_beta, true).await;
    typing(&mut trio.cy, &group.on_gamma, &ada_on_gamma, true).await;
    // cy on gamma stops: beta hears it through alpha.
    let cy_on_beta = id_on(&mut trio.bob, &gamma.handle("cy")).await;
    trio.cy
        .ok("typing.stop", json!({"conversation": group.on_gamma}))
        .await;
    typing(&mut trio.bob, &group.on_beta, &cy_on_beta, false).await;
    // The typist's own sessions are not told, on either side.
    trio.bob
        .assert_no_push("typing", |p| {
            p["user"] != cy_on_beta.as_str() && p["user"] != ada_on_beta.as_str()
        })
        .await;
    rig.stop().await;
}
