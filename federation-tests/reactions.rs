//! Reactions across servers: a reaction made on one Confab instance shows
//! on the other live and in history, and its removal too, in a direct chat
//! and in a group (relayed by its host); the reactions other servers send
//! (Pleroma/Akkoma `EmojiReact`, Misskey's and Mastodon's `Like`, their
//! `Undo`s, embedding the reaction or naming it by id), signed by a real
//! remote user, are applied; custom emoji are refused, and an Undo by id
//! of someone else's reaction is refused.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::rig::{ada_bob_cy, id_on, GroupOfThree, Rig};
use crate::security::signed_post_as;
use crate::ws_client::WsClient;
use serde_json::{json, Value};

/// The summary of `emoji` in a `message.reactions` push or a message.
fn count_of(reactions: &Value, emoji: &str) -> i64 {
    reactions
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == emoji)
        .map_or(0, |r| r["count"].as_i64().unwrap())
}

/// The message `id` as `client` reads it in `conversation`'s history.
async fn in_history(client: &mut WsClient, conversation: &str, id: &str) -> Value {
    let page = client
        .ok("message.history", json!({"conversation": conversation}))
        .await;
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap()
}

/// Waits for a `message.reactions` push about `message` in which `emoji`
/// counts `count`.
async fn reactions_push(client: &mut WsClient, message: &str, emoji: &str, count: i64) -> Value {
    client
        .push_where("message.reactions", |p| {
            p["message"] == message && count_of(&p["reactions"], emoji) == count
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_in_a_direct_chat_travel_live_and_into_history() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let AdaAndBob {
        mut ada,
        mut bob,
        bob_on_alpha,
        conv_ada,
        conv_bob,
        ..
    } = ada_and_bob(&rig).await;
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "react to me"}),
        )
        .await;
    let on_alpha = sent["id"].as_str().unwrap().to_owned();
    let copy = bob
        .push_where("message.created", |m| m["body"] == "react to me")
        .await;
    let on_beta = copy["id"].as_str().unwrap().to_owned();

    // bob reacts on beta: ada sees it live on alpha, named as bob.
    bob.ok("message.react", json!({"message": on_beta, "emoji": "👍"}))
        .await;
    let seen = reactions_push(&mut ada, &on_alpha, "👍", 1).await;
    assert_eq!(seen["reactions"][0]["users"], json!([bob_on_alpha]));
    assert_eq!(seen["reactions"][0]["me"], false);
    // ada reacts to her own message: bob sees both.
    ada.ok("message.react", json!({"message": on_alpha, "emoji": "🎉"}))
        .await;
    let both = reactions_push(&mut bob, &on_beta, "🎉", 1).await;
    assert_eq!(count_of(&both["reactions"], "👍"), 1);
    // In history on both sides.
    let there = in_history(&mut ada, &conv_ada, &on_alpha).await;
    assert_eq!(count_of(&there["reactions"], "👍"), 1);
    assert_eq!(count_of(&there["reactions"], "🎉"), 1);
    let here = in_history(&mut bob, &conv_bob, &on_beta).await;
    assert_eq!(count_of(&here["reactions"], "🎉"), 1);

    // bob takes his back; then reacts again with it (a new activity, not
    // dropped as a replay).
    bob.ok(
        "message.unreact",
        json!({"message": on_beta, "emoji": "👍"}),
    )
    .await;
    reactions_push(&mut ada, &on_alpha, "👍", 0).await;
    bob.ok("message.react", json!({"message": on_beta, "emoji": "👍"}))
        .await;
    reactions_push(&mut ada, &on_alpha, "👍", 1).await;
    bob.ok(
        "message.unreact",
        json!({"message": on_beta, "emoji": "👍"}),
    )
    .await;
    reactions_push(&mut ada, &on_alpha, "👍", 0).await;
    let there = in_history(&mut ada, &conv_ada, &on_alpha).await;
    assert_eq!(count_of(&there["reactions"], "👍"), 0);
    assert_eq!(count_of(&there["reactions"], "🎉"), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_in_a_group_are_relayed_by_its_host() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [beta, gamma] = [&rig.instances[1], &rig.instances[2]];
    let mut trio = ada_bob_cy(&rig).await;
    let GroupOfThree {
        id: group,
        on_beta,
        on_gamma,
    } = trio.group_of_three(&rig, "Reactors").await;
    let (ada, bob, cy) = (&mut trio.ada, &mut trio.bob, &mut trio.cy);
    let bob_on_gamma = id_on(cy, &beta.handle("bob")).await;
    let cy_on_alpha = id_on(ada, &gamma.handle("cy")).await;
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": group, "body": "group news"}),
        )
        .await;
    let on_alpha = sent["id"].as_str().unwrap().to_owned();
    let at_bob = bob
        .push_where("message.created", |m| m["body"] == "group news")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_cy = cy
        .push_where("message.created", |m| m["body"] == "group news")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // bob (beta) reacts: the host (alpha) applies it and relays it to cy
    // (gamma).
    bob.ok("message.react", json!({"message": at_bob, "emoji": "🔥"}))
        .await;
    reactions_push(ada, &on_alpha, "🔥", 1).await;
    let relayed = reactions_push(cy, &at_cy, "🔥", 1).await;
    assert_eq!(relayed["reactions"][0]["users"], json!([bob_on_gamma]));
    // ada (the host's user) reacts: both members' servers hear it.
    ada.ok("message.react", json!({"message": on_alpha, "emoji": "👀"}))
        .await;
    reactions_push(bob, &at_bob, "👀", 1).await;
    reactions_push(cy, &at_cy, "👀", 1).await;
    // cy (gamma) reacts and takes it back: alpha and beta follow.
    cy.ok("message.react", json!({"message": at_cy, "emoji": "🔥"}))
        .await;
    let two = reactions_push(ada, &on_alpha, "🔥", 2).await;
    assert!(two["reactions"][0]["users"]
        .as_array()
        .unwrap()
        .contains(&json!(cy_on_alpha)));
    reactions_push(bob, &at_bob, "🔥", 2).await;
    cy.ok("message.unreact", json!({"message": at_cy, "emoji": "🔥"}))
        .await;
    reactions_push(ada, &on_alpha, "🔥", 1).await;
    reactions_push(bob, &at_bob, "🔥", 1).await;
    let at_gamma = in_history(cy, &on_gamma, &at_cy).await;
    assert_eq!(count_of(&at_gamma["reactions"], "🔥"), 1);
    assert_eq!(count_of(&at_gamma["reactions"], "👀"), 1);
    let at_beta = in_history(bob, &on_beta, &at_bob).await;
    assert_eq!(count_of(&at_beta["reactions"], "🔥"), 1);
    rig.stop().await;
}

fn fixture(name: &str, actor: &str, recipient: &str, id: &str, message: &str) -> Value {
    crate::fixtures::fixture_with(
        name,
        &[
            ("{actor}", actor),
            ("{recipient}", recipient),
            ("{id}", id),
            ("{message}", message),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_in_each_peers_shape_are_applied_and_undone() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let AdaAndBob {
        mut ada,
        bob_on_alpha,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;
    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada", alpha.base());
    let inbox = format!("{}/inbox", alpha.base());
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "peers react"}),
        )
        .await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let message = format!("{}/messages/{id}", alpha.base());

    for (n, (made, undone, emoji)) in [
        (
            "pleroma-emoji-react.json",
            "akkoma-undo-emoji-react.json",
            "🔥",
        ),
        ("misskey-like-reaction.json", "misskey-undo-like.json", "🎉"),
        ("mastodon-like.json", "mastodon-undo-like.json", "❤️"),
        // The Undo names the reaction by its activity id alone.
        (
            "pleroma-emoji-react.json",
            "pleroma-undo-emoji-react.json",
            "🔥",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let made = fixture(made, &bob_id, &ada_id, &format!("r{n}"), &message);
        let (status, body) = signed_post_as(beta, "bob", &inbox, &made, &rig).await;
        assert_eq!(status, 202, "{made}: {body}");
        let seen = reactions_push(&mut ada, &id, emoji, 1).await;
        let users = &seen["reactions"].as_array().unwrap()[0]["users"];
        assert_eq!(users, &json!([bob_on_alpha]));
        let undo = fixture(undone, &bob_id, &ada_id, &format!("r{n}"), &message);
        let (status, body) = signed_post_as(beta, "bob", &inbox, &undo, &rig).await;
        assert_eq!(status, 202, "{undo}: {body}");
        reactions_push(&mut ada, &id, emoji, 0).await;
    }
    // A custom emoji is refused with a reason, and nothing changes.
    let custom = fixture(
        "akkoma-emoji-react-custom.json",
        &bob_id,
        &ada_id,
        "c1",
        &message,
    );
    let (status, body) = signed_post_as(beta, "bob", &inbox, &custom, &rig).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("custom emoji"), "{body}");
    // A user who is not a member of the conversation cannot react to it.
    beta.register("carl").await;
    let carl_id = format!("{}/users/carl", beta.base());
    // Serving the actor makes its key.
    rig.client
        .get(&carl_id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let stranger = fixture("mastodon-like.json", &carl_id, &ada_id, "s1", &message);
    let (status, body) = signed_post_as(beta, "carl", &inbox, &stranger, &rig).await;
    assert_eq!(status, 404, "{body}");
    let page = in_history(&mut ada, &conv_ada, &id).await;
    assert!(page.get("reactions").is_none(), "{page}");

    // An Undo by id undoes only its own actor's reaction.
    let made = fixture("pleroma-emoji-react.json", &bob_id, &ada_id, "k1", &message);
    let (status, body) = signed_post_as(beta, "bob", &inbox, &made, &rig).await;
    assert_eq!(status, 202, "{made}: {body}");
    reactions_push(&mut ada, &id, "🔥", 1).await;
    let mut spoof = fixture(
        "pleroma-undo-emoji-react.json",
        &carl_id,
        &ada_id,
        "k1",
        &message,
    );
    spoof["object"] = made["id"].clone();
    let (status, body) = signed_post_as(beta, "carl", &inbox, &spoof, &rig).await;
    assert_eq!(status, 403, "{body}");
    let page = in_history(&mut ada, &conv_ada, &id).await;
    assert_eq!(count_of(&page["reactions"], "🔥"), 1, "{page}");
    let undo = fixture(
        "pleroma-undo-emoji-react.json",
        &bob_id,
        &ada_id,
        "k1",
        &message,
    );
    let (status, body) = signed_post_as(beta, "bob", &inbox, &undo, &rig).await;
    assert_eq!(status, 202, "{undo}: {body}");
    reactions_push(&mut ada, &id, "🔥", 0).await;
    rig.stop().await;
}
