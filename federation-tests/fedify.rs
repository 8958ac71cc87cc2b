//! Confab against an independent ActivityPub implementation: a small
//! Fedify server (`federation-tests/fedify/peer.mjs`, run by the Node 22
//! that `npm ci` installs there) as `fedify.test`, and one real `confab`
//! process as `alpha.test`, both on 127.0.0.1.
//!
//! The peer answers a Follow with Fedify's usual `Accept` (the whole Follow
//! embedded), signs RFC 9421 first and falls back to draft-cavage, sends
//! compacted JSON-LD (scalar `to` and `tag`), and has an actor (`locked`)
//! whose document answers only signed GETs. Its control API (`/_test/…`)
//! makes it send and reports what it received and how each request it made
//! was signed and answered.
//!
//! Without `npm ci` in `federation-tests/fedify` these tests are skipped
//! (loudly) outside CI and fail in CI.
mod peer;

use crate::rig::{eventually, Solo};
use crate::ws_client::WsClient;
use peer::{capture, sent_by_peer, start, Peer};
use serde_json::{json, Value};
use std::time::Duration;

/// ada on Confab with a socket, and `fedi` on the peer as her contact
/// (made by her invitation, which Fedify accepts with its embedded Accept).
struct Contacts {
    ada_token: String,
    ada: WsClient,
    /// fedi's id on Confab, and ada's direct conversation with fedi.
    fedi: String,
    conv: String,
}

async fn ada_invites(peer: &Peer, solo: &Solo, name: &str) -> Contacts {
    let alpha = &solo.instance;
    let ada_token = alpha.register("ada").await;
    let mut ada = alpha.ws(&ada_token).await;
    let invited = ada
        .call("contact.invite", json!({"user": peer.handle(name)}))
        .await;
    assert_eq!(
        invited["type"],
        "result",
        "contact.invite {}: {invited}{}",
        peer.handle(name),
        peer.report().await
    );
    let invited = &invited["data"];
    assert_eq!(invited["state"], "pending_outgoing");
    let fedi = invited["user"].as_str().unwrap().to_owned();
    let follow = peer
        .received("Confab's Follow", |r| {
            r["type"] == "Follow" && r["object"] == peer.actor(name).as_str()
        })
        .await;
    assert_eq!(follow["actor"], format!("{}/users/ada", alpha.base()));
    let accepted = tokio::time::timeout(
        Duration::from_secs(20),
        ada.push_where("contact.updated", |c| c["state"] == "accepted"),
    )
    .await;
    let Ok(accepted) = accepted else {
        panic!(
            "Fedify's Accept never completed the contact:{}",
            peer.report().await
        );
    };
    assert_eq!(accepted["user"], fedi.as_str());
    let conv = ada.push("conversation.created").await;
    assert_eq!(conv["kind"], "direct");
    Contacts {
        ada_token,
        ada,
        fedi,
        conv: conv["id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_follow_becomes_a_contact_request_and_our_accept_verifies_there() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let alpha = &solo.instance;
    let ada_token = alpha.register("ada").await;
    let mut ada = alpha.ws(&ada_token).await;

    let follow = peer
        .send("follow", json!({"from": "fedi", "to": alpha.handle("ada")}))
        .await;
    let incoming = tokio::time::timeout(
        Duration::from_secs(20),
        ada.push_where("contact.updated", |c| c["state"] == "pending_incoming"),
    )
    .await
    .unwrap_or_else(|_| panic!("no contact request"));
    let fedi = incoming["user"].as_str().unwrap().to_owned();
    let user = ada
        .ok("user.lookup", json!({"handle": peer.handle("fedi")}))
        .await;
    assert_eq!(user["id"], fedi.as_str(), "{user}");
    peer.accepted_scheme(follow["id"].as_str().unwrap(), true)
        .await;

    ada.ok("contact.accept", json!({"user": fedi})).await;
    let conv = ada.push("conversation.created").await;
    assert_eq!(conv["kind"], "direct");
    // Confab's Accept passes Fedify's signature check and names the Follow.
    let accept = peer
        .received("Confab's Accept", |r| r["type"] == "Accept")
        .await;
    assert_eq!(accept["actor"], format!("{}/users/ada", alpha.base()));
    assert_eq!(accept["object"], follow["id"], "{accept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_follow_is_accepted_by_fedify_with_its_embedded_accept() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let Contacts { mut ada, fedi, .. } = ada_invites(&peer, &solo, "fedi").await;
    let user = ada
        .ok("user.lookup", json!({"handle": peer.handle("fedi")}))
        .await;
    assert_eq!(user["id"], fedi.as_str());
    assert_eq!(user["name"], format!("fedi@{}", peer.host()), "{user}");
    let accept = sent_by_peer(&peer, "Accept", None).await;
    // The shape that completed the contact: the Follow and its actor embedded.
    assert_eq!(accept["object"]["type"], "Follow", "{accept}");
    assert!(accept["object"]["actor"].is_object(), "{accept}");
    capture("accept-follow", &accept);
    let actor: Value = peer
        .client
        .get(peer.actor("fedi"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    capture("person", &actor);
}

/// Fedify sends ada a DM of `kind` with `content`; it arrives live on her
/// WebSocket and in the conversation's history as `text`.
async fn dm_from_fedify_arrives(kind: &str, content: &str, text: &str, captured: &str) {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let Contacts {
        ada_token,
        mut ada,
        fedi,
        conv,
    } = ada_invites(&peer, &solo, "fedi").await;
    let sent = peer
        .send(
            "dm",
            json!({"to": solo.instance.handle("ada"), "kind": kind, "content": content}),
        )
        .await;
    capture(
        captured,
        &sent_by_peer(&peer, "Create", Some(&sent["id"])).await,
    );
    let scheme = peer
        .accepted_scheme(sent["id"].as_str().unwrap(), false)
        .await;
    let got = tokio::time::timeout(Duration::from_secs(20), ada.push("message.created"))
        .await
        .unwrap_or_else(|_| panic!("the {kind} never arrived ({scheme})"));
    assert_eq!(got["conversation"], conv.as_str());
    assert_eq!(got["author"], fedi.as_str());
    assert_eq!(got["body"], text);
    let history = solo
        .instance
        .get(
            &ada_token,
            &format!("/api/v1/conversations/{conv}/messages"),
        )
        .await;
    assert_eq!(history["messages"][0]["body"], text, "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_note_dm_arrives_live_and_in_history() {
    dm_from_fedify_arrives(
        "Note",
        "<p>hi ada, from <em>fedify</em></p>",
        // Received HTML becomes Confab's Markdown subset.
        "hi ada, from *fedify*",
        "create-note",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_chat_message_dm_arrives_live_and_in_history() {
    dm_from_fedify_arrives(
        "ChatMessage",
        "chat from fedify",
        "chat from fedify",
        "create-chat-message",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_dm_arrives_at_fedify_with_content_and_a_mention() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let Contacts {
        ada_token,
        mut ada,
        conv,
        ..
    } = ada_invites(&peer, &solo, "fedi").await;
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv, "body": "hello fedi"}),
        )
        .await;
    let create = peer
        .received("Confab's Create", |r| r["type"] == "Create")
        .await;
    assert_eq!(
        create["actor"],
        format!("{}/users/ada", solo.instance.base())
    );
    // What Confab put on the wire, as the peer's inbox got it.
    let post = peer
        .records("inbox-posts")
        .await
        .into_iter()
        .find(|p| p["body"].as_str().unwrap().contains("\"Create\""))
        .unwrap();
    let raw: Value = serde_json::from_str(post["body"].as_str().unwrap()).unwrap();
    let note = &raw["object"];
    assert!(
        note["content"].as_str().unwrap().contains("hello fedi"),
        "{raw}"
    );
    let fedi = peer.actor("fedi");
    let tags = note["tag"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![note["tag"].clone()]);
    assert!(
        tags.iter()
            .any(|t| t["type"] == "Mention" && t["href"] == fedi.as_str()),
        "{raw}"
    );
    assert_eq!(note["to"], json!([fedi]), "{raw}");
    let path = format!(
        "/api/v1/messages/{}/deliveries",
        sent["id"].as_str().unwrap()
    );
    eventually("the delivery state", || async {
        let deliveries = solo.instance.get(&ada_token, &path).await;
        (deliveries[0]["state"] == "delivered").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_unblock_block_reaches_fedify_as_three_activities() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let Contacts { mut ada, fedi, .. } = ada_invites(&peer, &solo, "fedi").await;
    ada.ok("contact.block", json!({"user": fedi})).await;
    let first = peer
        .received("the first Block", |r| r["type"] == "Block")
        .await;
    ada.ok("contact.unblock", json!({"user": fedi})).await;
    let undo = peer
        .received("the Undo{Block}", |r| r["type"] == "Undo")
        .await;
    assert_eq!(undo["object"], first["id"], "{undo}");
    ada.ok("contact.block", json!({"user": fedi})).await;
    let second = peer
        .received("a second Block with a new id", |r| {
            r["type"] == "Block" && r["id"] != first["id"]
        })
        .await;
    assert_eq!(second["object"], peer.actor("fedi"));
    let kinds: Vec<Value> = peer
        .records("received")
        .await
        .iter()
        .filter(|r| r["type"] != "Follow")
        .map(|r| r["type"].clone())
        .collect();
    assert_eq!(kinds, ["Block", "Undo", "Block"]);
}

/// Fedify, signing first with `first_knock` (its default when `None`),
/// follows ada: that first knock is accepted with a 2xx as `scheme`.
async fn first_knock_is_accepted(first_knock: Option<&str>, scheme: &str) {
    let Some((solo, peer)) = start(first_knock).await else {
        return;
    };
    solo.instance.register("ada").await;
    let follow = peer
        .send("follow", json!({"to": solo.instance.handle("ada")}))
        .await;
    let knocks = peer.knocks(follow["id"].as_str().unwrap()).await;
    assert_eq!(
        knocks
            .first()
            .map(|(s, c)| (s.as_str(), (200..300).contains(c))),
        Some((scheme, true)),
        "{knocks:?}{}",
        peer.report().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_first_knock_rfc9421_is_verified() {
    first_knock_is_accepted(None, "rfc9421").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_draft_cavage_is_verified() {
    first_knock_is_accepted(Some("draft-cavage-http-signatures-12"), "draft-cavage").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_fetch_only_actor_can_be_read() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    ada_invites(&peer, &solo, "locked").await;
    let fetches = peer.records("locked-fetches").await;
    let signed = fetches
        .iter()
        .find(|f| f["signed_by"].is_string())
        .unwrap_or_else(|| panic!("no signed fetch: {fetches:?}"));
    // Confab signs its fetches as a Confab actor (its instance actor).
    let signer = signed["signed_by"].as_str().unwrap();
    assert!(signer.starts_with(&solo.instance.base()), "{signed}");
}

/// Mastodon in authorized-fetch mode and bovine refuse signed GETs that
/// do not sign `host` and `date`; Fedify does not check it, so this test
/// looks at what Confab signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_signed_fetch_signs_host_and_date() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    ada_invites(&peer, &solo, "locked").await;
    let fetches = peer.records("locked-fetches").await;
    let signed = fetches
        .iter()
        .find(|f| f["signed_by"].is_string())
        .unwrap_or_else(|| panic!("no signed fetch: {fetches:?}"));
    let cavage = signed["signature"].as_str().unwrap_or("");
    let rfc9421 = signed["signature_input"].as_str().unwrap_or("");
    let covered = if rfc9421.is_empty() {
        cavage
            .split("headers=\"")
            .nth(1)
            .and_then(|h| h.split('"').next())
            .unwrap_or("")
            .split(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    } else {
        rfc9421
            .split(['(', ')'])
            .nth(1)
            .unwrap_or("")
            .split(' ')
            .map(|c| c.trim_matches('"').to_owned())
            .collect()
    };
    for needed in ["host", "date"] {
        assert!(
            covered.iter().any(|c| c == needed),
            "the signed GET covers {covered:?}, not {needed}: {signed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_without_preferred_username_can_invite() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let alpha = &solo.instance;
    let ada_token = alpha.register("ada").await;
    let mut ada = alpha.ws(&ada_token).await;
    peer.send(
        "follow",
        json!({"from": "nameless", "to": alpha.handle("ada")}),
    )
    .await;
    let incoming = tokio::time::timeout(
        Duration::from_secs(20),
        ada.push_where("contact.updated", |c| c["state"] == "pending_incoming"),
    )
    .await;
    let Ok(incoming) = incoming else {
        panic!("no contact request from nameless:{}", peer.report().await);
    };
    let user = ada
        .ok("user.lookup", json!({"handle": peer.handle("nameless")}))
        .await;
    assert_eq!(user["id"], incoming["user"], "{user}");
    assert_eq!(user["display_name"], "Nameless Peer", "{user}");
}

/// Fedify sends ada an `EmojiReact` and a `Like` with content (Misskey's
/// way) on her message, then takes them back: each arrives live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_reactions_arrive_live_and_are_undone() {
    let Some((solo, peer)) = start(None).await else {
        return;
    };
    let Contacts {
        mut ada,
        conv,
        fedi,
        ..
    } = ada_invites(&peer, &solo, "fedi").await;
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv, "body": "react, fedi"}),
        )
        .await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let object = format!("{}/messages/{id}", solo.instance.base());
    let count = |p: &Value, emoji: &str| {
        p["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["emoji"] == emoji)
            .map_or(0, |r| r["count"].as_i64().unwrap())
    };
    for (kind, emoji) in [("EmojiReact", "🔥"), ("Like", "🎉")] {
        let made = peer
            .send(
                "react",
                json!({"to": solo.instance.handle("ada"), "object": object,
                       "content": emoji, "kind": kind}),
            )
            .await;
        let seen = tokio::time::timeout(
            Duration::from_secs(20),
            ada.push_where("message.reactions", |p| count(p, emoji) == 1),
        )
        .await
        .unwrap_or_else(|_| panic!("Fedify's {kind} never arrived"));
        assert_eq!(seen["reactions"][0]["users"], json!([fedi]), "{kind}");
        peer.send(
            "react",
            json!({"to": solo.instance.handle("ada"), "object": object,
                   "content": emoji, "kind": kind, "undo": made["reaction"]}),
        )
        .await;
        tokio::time::timeout(
            Duration::from_secs(20),
            ada.push_where("message.reactions", |p| count(p, emoji) == 0),
        )
        .await
        .unwrap_or_else(|_| panic!("Fedify's Undo{{{kind}}} never arrived"));
    }
}
