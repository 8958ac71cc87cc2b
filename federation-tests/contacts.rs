//! Contacts, direct messages, blocks and delivery across instances.

use crate::rig::{ada_bob_cy, eventually, Instance, Rig, Trio};
use crate::ws_client::WsClient;
use serde_json::{json, Value};

/// `a` (with socket `ws_a`) invites `b_handle`; `b` accepts over its
/// socket. Returns (b's id on a's server, a's id on b's server, a's direct
/// conversation id, b's direct conversation id).
pub async fn make_contacts(
    ws_a: &mut WsClient,
    ws_b: &mut WsClient,
    b_handle: &str,
    a_name_on_b: &str,
) -> (String, String, String, String) {
    let invited = ws_a.ok("contact.invite", json!({"user": b_handle})).await;
    assert_eq!(invited["state"], "pending_outgoing");
    let b_on_a = invited["user"].as_str().unwrap().to_owned();
    // The Follow arrives as an invitation from a remote user.
    let incoming = ws_b
        .push_where("contact.updated", |c| c["state"] == "pending_incoming")
        .await;
    let a_on_b = incoming["user"].as_str().unwrap().to_owned();
    let user = ws_b.ok("user.lookup", json!({"handle": a_name_on_b})).await;
    assert_eq!(
        user["id"],
        a_on_b.as_str(),
        "the invitation comes from {a_name_on_b}"
    );
    ws_b.ok("contact.accept", json!({"user": a_on_b})).await;
    let conv_b = ws_b.push("conversation.created").await;
    // The Accept reaches a: contact and direct conversation there too.
    let accepted = ws_a
        .push_where("contact.updated", |c| c["state"] == "accepted")
        .await;
    assert_eq!(accepted["user"], b_on_a.as_str());
    let conv_a = ws_a.push("conversation.created").await;
    assert_eq!(conv_a["kind"], "direct");
    assert_eq!(conv_a["read_only"], false);
    (
        b_on_a,
        a_on_b,
        conv_a["id"].as_str().unwrap().to_owned(),
        conv_b["id"].as_str().unwrap().to_owned(),
    )
}

/// ada on alpha and bob on beta, contacts, each with a live socket.
pub struct AdaAndBob {
    pub ada_token: String,
    pub ada: WsClient,
    pub bob: WsClient,
    /// bob's id on alpha and ada's id on beta.
    pub bob_on_alpha: String,
    pub ada_on_beta: String,
    /// Their direct conversation on alpha and on beta.
    pub conv_ada: String,
    pub conv_bob: String,
}

pub async fn ada_and_bob(rig: &Rig) -> AdaAndBob {
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let ada_token = alpha.register("ada").await;
    let bob_token = beta.register("bob").await;
    let mut ada = alpha.ws(&ada_token).await;
    let mut bob = beta.ws(&bob_token).await;
    let (bob_on_alpha, ada_on_beta, conv_ada, conv_bob) = make_contacts(
        &mut ada,
        &mut bob,
        &beta.handle("bob"),
        &alpha.handle("ada"),
    )
    .await;
    AdaAndBob {
        ada_token,
        ada,
        bob,
        bob_on_alpha,
        ada_on_beta,
        conv_ada,
        conv_bob,
    }
}

async fn delivered(instance: &Instance, token: &str, message: &str) -> Value {
    eventually("the delivery", || async {
        let deliveries = instance
            .get(token, &format!("/api/v1/messages/{message}/deliveries"))
            .await;
        (deliveries[0]["state"] == "delivered").then_some(deliveries)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_and_direct_messages_across_instances() {
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

    // The remote user is a first-class user once looked up.
    let (status, found) = alpha
        .api(
            reqwest::Method::GET,
            &ada_token,
            &format!("/api/v1/users/{}", beta.handle("bob")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["name"], format!("bob@{}", beta.host()));
    assert_eq!(found["domain"], beta.host());

    let (bob_on_alpha, _ada_on_beta, conv_ada, conv_bob) = make_contacts(
        &mut ada,
        &mut bob,
        &beta.handle("bob"),
        &alpha.handle("ada"),
    )
    .await;
    assert_eq!(bob_on_alpha, found["id"].as_str().unwrap());

    // A direct message, live on the other instance.
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "hello <b>bob</b>\nline two"}),
        )
        .await;
    let got = bob.push("message.created").await;
    assert_eq!(got["conversation"], conv_bob.as_str());
    assert_eq!(got["body"], "hello <b>bob</b>\nline two");
    let deliveries = delivered(alpha, &ada_token, sent["id"].as_str().unwrap()).await;
    assert_eq!(deliveries[0]["recipient"], bob_on_alpha.as_str());
    assert_eq!(deliveries[0]["attempts"], 1);

    // A reply links to ada's message on her side.
    bob.ok(
        "message.send",
        json!({"conversation": conv_bob, "body": "hi ada", "reply_to": got["id"]}),
    )
    .await;
    let reply = ada
        .push_where("message.created", |m| m["body"] == "hi ada")
        .await;
    assert_eq!(reply["body"], "hi ada");
    assert_eq!(reply["reply_to"], sent["id"]);
    assert_eq!(reply["author"], bob_on_alpha.as_str());

    // Edit and delete follow the message.
    ada.ok(
        "message.edit",
        json!({"message": sent["id"], "body": "hello bob (edited)"}),
    )
    .await;
    let edited = bob
        .push_where("message.updated", |m| m["id"] == got["id"])
        .await;
    assert_eq!(edited["body"], "hello bob (edited)");
    assert!(edited["edited_at"].is_string());
    ada.ok("message.delete", json!({"message": sent["id"]}))
        .await;
    let deleted = bob
        .push_where("message.updated", |m| m["deleted"] == true)
        .await;
    assert_eq!(deleted["id"], got["id"]);
    let history = beta
        .get(
            &bob_token,
            &format!("/api/v1/conversations/{conv_bob}/messages"),
        )
        .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["", "hi ada"], "{history}");

    // The PostgreSQL instance takes part the same way, in the other direction.
    let (_, _, conv_cy, conv_ada_cy) =
        make_contacts(&mut cy, &mut ada, &alpha.handle("ada"), &gamma.handle("cy")).await;
    cy.ok(
        "message.send",
        json!({"conversation": conv_cy, "body": "from gamma"}),
    )
    .await;
    let got = ada
        .push_where("message.created", |m| m["body"] == "from gamma")
        .await;
    assert_eq!(got["conversation"], conv_ada_cy.as_str());

    // Removing the contact ends it on both sides; the chat turns read-only.
    bob.ok("contact.remove", json!({"user": _ada_on_beta}))
        .await;
    let gone = ada
        .push_where("contact.updated", |c| c["state"] == "none")
        .await;
    assert_eq!(gone["user"], bob_on_alpha.as_str());
    let conv = ada
        .push_where("conversation.updated", |c| c["id"] == conv_ada.as_str())
        .await;
    assert_eq!(conv["read_only"], true);
    ada.err(
        "message.send",
        json!({"conversation": conv_ada, "body": "still there?"}),
        "forbidden",
    )
    .await;
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_cross_instances_and_undo_restores() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let AdaAndBob {
        mut ada,
        mut bob,
        ada_on_beta,
        conv_ada,
        conv_bob,
        ..
    } = ada_and_bob(&rig).await;

    // A game invitation crosses as a card; the answer comes back.
    let invite = ada
        .ok(
            "message.game_invite",
            json!({"conversation": conv_ada, "game": "chess", "settings": {"clock": "5+3"}}),
        )
        .await;
    let card = bob
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    assert_eq!(card["body"], "invites you to play chess");
    assert_eq!(card["game"]["game"], "chess");
    assert_eq!(card["game"]["settings"]["clock"], "5+3");
    assert_eq!(card["game"]["state"], "pending");
    bob.ok(
        "message.game_answer",
        json!({"message": card["id"], "answer": "accept"}),
    )
    .await;
    let answered = ada
        .push_where("message.updated", |m| m["id"] == invite["id"])
        .await;
    assert_eq!(answered["game"]["state"], "accepted");

    bob.ok("contact.block", json!({"user": ada_on_beta})).await;
    // The Block reaches alpha: ada's side of the chat is read-only.
    let conv = ada
        .push_where("conversation.updated", |c| {
            c["id"] == conv_ada.as_str() && c["read_only"] == true
        })
        .await;
    assert_eq!(conv["read_only"], true);
    ada.err(
        "message.send",
        json!({"conversation": conv_ada, "body": "let me in"}),
        "forbidden",
    )
    .await;
    // And bob cannot write to ada either while he blocks her.
    bob.err(
        "message.send",
        json!({"conversation": conv_bob, "body": "x"}),
        "forbidden",
    )
    .await;

    bob.ok("contact.unblock", json!({"user": ada_on_beta}))
        .await;
    ada.push_where("conversation.updated", |c| {
        c["id"] == conv_ada.as_str() && c["read_only"] == false
    })
    .await;
    ada.ok(
        "message.send",
        json!({"conversation": conv_ada, "body": "friends again"}),
    )
    .await;
    let got = bob
        .push_where("message.created", |m| m["body"] == "friends again")
        .await;
    assert_eq!(got["conversation"], conv_bob.as_str());

    // Blocking again is a new Block (a fresh id), so it reaches alpha too.
    bob.ok("contact.block", json!({"user": ada_on_beta})).await;
    ada.push_where("conversation.updated", |c| {
        c["id"] == conv_ada.as_str() && c["read_only"] == true
    })
    .await;
    ada.err(
        "message.send",
        json!({"conversation": conv_ada, "body": "again?"}),
        "forbidden",
    )
    .await;
    let sent = block_activities(&rig.instances[1]).await;
    let [block, undo, again] = sent.as_slice() else {
        panic!("beta sent Block, Undo, Block: {sent:#?}");
    };
    assert_eq!(
        (
            block["type"].as_str(),
            undo["type"].as_str(),
            again["type"].as_str()
        ),
        (Some("Block"), Some("Undo"), Some("Block"))
    );
    assert_ne!(block["id"], again["id"], "each Block has its own id");
    assert_eq!(
        undo["object"]["id"], block["id"],
        "the Undo names the first Block"
    );
    rig.stop().await;
}

/// The `Block` and `Undo` activities `instance` queued, oldest first.
async fn block_activities(instance: &Instance) -> Vec<Value> {
    let path = instance
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Sent {
            #[diesel(sql_type = diesel::sql_types::Text)]
            body: String,
        }
        let mut db = diesel::SqliteConnection::establish(&path).unwrap();
        diesel::sql_query("SELECT body FROM deliveries ORDER BY created_at")
            .load::<Sent>(&mut db)
            .unwrap()
            .into_iter()
            .map(|row| serde_json::from_str::<Value>(&row.body).unwrap())
            .filter(|a| a["type"] == "Block" || a["type"] == "Undo")
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_was_down_gets_everything_when_it_returns() {
    let Some(mut rig) = Rig::start().await else {
        return;
    };
    let ada_token = rig.instances[0].register("ada").await;
    let bob_token = rig.instances[1].register("bob").await;
    let (conv_ada, conv_bob) = {
        let mut ada = rig.instances[0].ws(&ada_token).await;
        let mut bob = rig.instances[1].ws(&bob_token).await;
        let beta_handle = rig.instances[1].handle("bob");
        let alpha_handle = rig.instances[0].handle("ada");
        let (_, _, a, b) = make_contacts(&mut ada, &mut bob, &beta_handle, &alpha_handle).await;
        (a, b)
    };
    rig.instances[1].stop();
    let mut ada = rig.instances[0].ws(&ada_token).await;
    let mut sent = vec![];
    for i in 0..5 {
        let m = ada
            .ok(
                "message.send",
                json!({"conversation": conv_ada, "body": format!("while you were away {i}")}),
            )
            .await;
        sent.push(m["id"].as_str().unwrap().to_owned());
    }
    // Acknowledged and queued; the host is failing.
    let alpha = &rig.instances[0];
    eventually("a retry", || async {
        let d = alpha
            .get(
                &ada_token,
                &format!("/api/v1/messages/{}/deliveries", sent[0]),
            )
            .await;
        (d[0]["state"] == "retrying" && d[0]["last_error"].is_string()).then_some(())
    })
    .await;
    rig.instances[1].restart().await;
    let beta = &rig.instances[1];
    let history = eventually("the backlog", || async {
        let h = beta
            .get(
                &bob_token,
                &format!("/api/v1/conversations/{conv_bob}/messages"),
            )
            .await;
        (h["messages"].as_array().unwrap().len() == 5).then_some(h)
    })
    .await;
    let bodies: Vec<String> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = (0..5).map(|i| format!("while you were away {i}")).collect();
    let mut sorted = bodies.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "each message exactly once");
    let alpha = &rig.instances[0];
    for id in &sent {
        delivered(alpha, &ada_token, id).await;
    }
    rig.stop().await;
}

/// A crash between storing a message and queueing its deliveries leaves
/// the message without delivery rows, and the sender without an answer.
/// The client resends with the same request id: the stored message comes
/// back and its missing deliveries are queued and sent. (The crash is
/// reproduced by stopping alpha and deleting the rows from its database.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_after_a_crash_queues_the_deliveries_that_were_lost() {
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
    let send = json!({"conversation": conv_ada, "body": "this must arrive"});
    let first = ada
        .call_with_id("message.send", send.clone(), "send-1")
        .await;
    let message = first["data"]["id"].as_str().unwrap().to_owned();
    let deliveries = format!("/api/v1/messages/{message}/deliveries");
    eventually("the first delivery", || async {
        let d = rig.instances[0].get(&ada_token, &deliveries).await;
        (d[0]["state"] == "delivered").then_some(())
    })
    .await;
    bob.push_where("message.created", |m| m["body"] == "this must arrive")
        .await;

    drop(ada);
    rig.instances[0].stop();
    let path = rig.instances[0]
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    let id = uuid::Uuid::parse_str(&message).unwrap();
    let deleted = tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut db = diesel::SqliteConnection::establish(&path).unwrap();
        diesel::sql_query(format!(
            "DELETE FROM deliveries WHERE message_id = x'{}'",
            id.simple()
        ))
        .execute(&mut db)
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(deleted, 1);
    rig.instances[0].restart().await;
    let alpha = &rig.instances[0];
    assert_eq!(alpha.get(&ada_token, &deliveries).await, json!([]));

    let mut ada = alpha.ws(&ada_token).await;
    let again = ada.call_with_id("message.send", send, "send-1").await;
    assert_eq!(again["data"]["id"], message.as_str(), "{again}");
    let d = eventually("the queued delivery", || async {
        let d = alpha.get(&ada_token, &deliveries).await;
        (d[0]["state"] == "delivered").then_some(d)
    })
    .await;
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    // beta had it already: the replayed activity shows nothing twice.
    bob.assert_no_push("message.created", |m| m["body"] == "this must arrive")
        .await;
    rig.stop().await;
}
