//! Mentions across servers: in a group hosted on alpha with members on
//! beta and gamma, a message from beta that mentions `@ada@alpha…` and
//! `@cy@gamma…` goes out with `Mention` tags, and each server recognises
//! the mentioned members (its own users and remote ones) in the message's
//! `mentions`, live and in history.

use crate::rig::{ada_bob_cy, id_on, GroupOfThree, Rig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_a_group_are_recognised_on_every_server() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let mut trio = ada_bob_cy(&rig).await;
    let GroupOfThree {
        id: group,
        on_beta,
        on_gamma,
    } = trio.group_of_three(&rig, "Callers").await;
    let (ada, bob, cy) = (&mut trio.ada, &mut trio.bob, &mut trio.cy);
    let ada_id = id_on(ada, &alpha.handle("ada")).await;
    let cy_on_alpha = id_on(ada, &gamma.handle("cy")).await;
    let ada_on_beta = id_on(bob, &alpha.handle("ada")).await;
    let cy_on_beta = id_on(bob, &gamma.handle("cy")).await;
    let ada_on_gamma = id_on(cy, &alpha.handle("ada")).await;
    let cy_id = id_on(cy, &gamma.handle("cy")).await;

    let body = format!("{} and {}: lunch?", alpha.handle("ada"), gamma.handle("cy"));
    let sent = bob
        .ok(
            "message.send",
            json!({"conversation": on_beta, "body": body}),
        )
        .await;
    assert_eq!(sent["mentions"], json!([ada_on_beta, cy_on_beta]), "{sent}");
    // The host reads the tags (its own user and a remote one)…
    let at_alpha = ada
        .push_where("message.created", |m| m["body"] == body.as_str())
        .await;
    assert_eq!(at_alpha["mentions"], json!([ada_id, cy_on_alpha]));
    // …and relays them to gamma with the note.
    let at_gamma = cy
        .push_where("message.created", |m| m["body"] == body.as_str())
        .await;
    assert_eq!(at_gamma["mentions"], json!([ada_on_gamma, cy_id]));
    let page = cy
        .ok("message.history", json!({"conversation": on_gamma}))
        .await;
    let stored = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == at_gamma["id"])
        .unwrap();
    assert_eq!(stored["mentions"], json!([ada_on_gamma, cy_id]));

    // A message from the host's user mentions the members on beta and gamma.
    let body = format!("{} {} ok", beta.handle("bob"), gamma.handle("cy"));
    ada.ok("message.send", json!({"conversation": group, "body": body}))
        .await;
    let at_beta = bob
        .push_where("message.created", |m| m["body"] == body.as_str())
        .await;
    let bob_id = id_on(bob, &beta.handle("bob")).await;
    assert_eq!(at_beta["mentions"], json!([bob_id, cy_on_beta]));
    rig.stop().await;
}
