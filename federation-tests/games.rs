//! Game invitations in a group hosted on alpha with members on beta and
//! gamma: the card crosses with its invitee, the host decides which answer
//! wins and relays it, and every server ends with the same state.

use crate::rig::{ada_bob_cy, eventually, id_on, GroupOfThree, Instance, Rig, Trio};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn game_invitations_in_a_group_across_three_servers() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let mut trio = ada_bob_cy(&rig).await;
    let GroupOfThree {
        id: group_id,
        on_beta: conv_b,
        on_gamma: conv_c,
    } = trio.group_of_three(&rig, "Game night").await;
    let Trio {
        mut ada,
        mut bob,
        mut cy,
        ..
    } = trio;
    let cy_on_alpha = id_on(&mut ada, &gamma.handle("cy")).await;
    let bob_on_alpha = id_on(&mut ada, &beta.handle("bob")).await;
    let cy_on_beta = id_on(&mut bob, &gamma.handle("cy")).await;
    let cy_on_gamma = id_on(&mut cy, &gamma.handle("cy")).await;
    let bob_on_gamma = id_on(&mut cy, &beta.handle("bob")).await;

    // bob (beta) invites cy (gamma) by name: the host and gamma both get
    // the card, naming cy as the invitee in their own ids.
    let invite = bob
        .ok(
            "message.game_invite",
            json!({"conversation": conv_b, "game": "go", "settings": {"board": 9}, "invitee": cy_on_beta}),
        )
        .await;
    assert_eq!(invite["game"]["invitee"], cy_on_beta.as_str());
    let at_alpha = ada
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    assert_eq!(at_alpha["conversation"], group_id.as_str());
    assert_eq!(at_alpha["game"]["invitee"], cy_on_alpha.as_str());
    assert_eq!(at_alpha["game"]["settings"]["board"], 9);
    let at_gamma = cy
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    assert_eq!(at_gamma["conversation"], conv_c.as_str());
    assert_eq!(at_gamma["game"]["invitee"], cy_on_gamma.as_str());
    assert_eq!(at_gamma["game"]["state"], "pending");

    // Only the invitee may answer: not ada on the host, and not bob by a
    // signed Accept sent around his own server.
    ada.err(
        "message.game_answer",
        json!({"message": at_alpha["id"], "answer": "accept"}),
        "forbidden",
    )
    .await;
    let note = format!(
        "{}/messages/{}",
        beta.base(),
        invite["id"].as_str().unwrap()
    );
    let (status, body) = crate::security::signed_post_as(
        beta,
        "bob",
        &format!("{}/groups/{group_id}/inbox", alpha.base()),
        &json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/users/bob/answers/sneaky", beta.base()),
            "type": "Accept",
            "actor": format!("{}/users/bob", beta.base()),
            "object": note,
        }),
        &rig,
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // cy accepts on gamma; the host records it and tells beta.
    let answered = cy
        .ok(
            "message.game_answer",
            json!({"message": at_gamma["id"], "answer": "accept"}),
        )
        .await;
    assert_eq!(answered["game"]["state"], "accepted");
    let host_view = ada
        .push_where("message.updated", |m| m["id"] == at_alpha["id"])
        .await;
    assert_eq!(host_view["game"]["state"], "accepted");
    assert_eq!(host_view["game"]["answered_by"], cy_on_alpha.as_str());
    let author_view = bob
        .push_where("message.updated", |m| m["id"] == invite["id"])
        .await;
    assert_eq!(author_view["game"]["state"], "accepted");
    assert_eq!(author_view["game"]["answered_by"], cy_on_beta.as_str());

    // An open invitation from the host's own member: the first answer
    // wins everywhere, and a later one is refused.
    let open = ada
        .ok(
            "message.game_invite",
            json!({"conversation": group_id, "game": "chess"}),
        )
        .await;
    let open_b = bob
        .push_where("message.created", |m| m["game"]["game"] == "chess")
        .await;
    assert!(open_b["game"]["invitee"].is_null());
    let open_c = cy
        .push_where("message.created", |m| m["game"]["game"] == "chess")
        .await;
    bob.ok(
        "message.game_answer",
        json!({"message": open_b["id"], "answer": "decline"}),
    )
    .await;
    let at_host = ada
        .push_where("message.updated", |m| m["id"] == open["id"])
        .await;
    assert_eq!(at_host["game"]["state"], "declined");
    assert_eq!(at_host["game"]["answered_by"], bob_on_alpha.as_str());
    let at_c = cy
        .push_where("message.updated", |m| m["id"] == open_c["id"])
        .await;
    assert_eq!(at_c["game"]["state"], "declined");
    assert_eq!(at_c["game"]["answered_by"], bob_on_gamma.as_str());
    cy.err(
        "message.game_answer",
        json!({"message": open_c["id"], "answer": "accept"}),
        "conflict",
    )
    .await;
    rig.stop().await;
}

/// The game's state and answerer as `token`'s server shows the invitation
/// `message` in `conversation`: `(state, the answerer's name)`.
async fn game_state(
    instance: &Instance,
    token: &str,
    conversation: &str,
    message: &str,
) -> (String, String) {
    let page = instance
        .get(
            token,
            &format!("/api/v1/conversations/{conversation}/messages"),
        )
        .await;
    let found = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == message)
        .cloned()
        .unwrap();
    let game = &found["game"];
    let answerer = match game["answered_by"].as_str() {
        // A remote user's name is `name@host`: compare the names alone.
        Some(user) => instance.get(token, &format!("/api/v1/users/{user}")).await["name"]
            .as_str()
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_owned(),
        None => String::new(),
    };
    (game["state"].as_str().unwrap().to_owned(), answerer)
}

/// While the host is down, bob (beta) declines and cy (gamma) accepts the
/// same open invitation. Each mirror shows its own member's answer at
/// once; when the host returns it takes whichever arrives first, refuses
/// the other, and relays the winner, which both mirrors then show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_given_while_the_host_is_down_converge_on_the_host_s_choice() {
    let Some(mut rig) = Rig::start().await else {
        return;
    };
    let Trio {
        ada_token,
        bob_token,
        cy_token,
        mut ada,
        mut bob,
        mut cy,
    } = ada_bob_cy(&rig).await;
    let [beta_bob, gamma_cy] = [
        rig.instances[1].handle("bob"),
        rig.instances[2].handle("cy"),
    ];
    let group = ada
        .ok(
            "conversation.create",
            json!({"name": "Race", "members": [beta_bob, gamma_cy]}),
        )
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let invite = ada
        .ok(
            "message.game_invite",
            json!({"conversation": group_id, "game": "checkers"}),
        )
        .await;
    let at_b = bob
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    let at_c = cy
        .push_where("message.created", |m| m["kind"] == "game_invite")
        .await;
    drop(ada);

    rig.instances[0].stop();
    let declined = bob
        .ok(
            "message.game_answer",
            json!({"message": at_b["id"], "answer": "decline"}),
        )
        .await;
    assert_eq!(declined["game"]["state"], "declined");
    let accepted = cy
        .ok(
            "message.game_answer",
            json!({"message": at_c["id"], "answer": "accept"}),
        )
        .await;
    assert_eq!(accepted["game"]["state"], "accepted");
    rig.instances[0].restart().await;

    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let (conv_b, conv_c) = (
        at_b["conversation"].as_str().unwrap(),
        at_c["conversation"].as_str().unwrap(),
    );
    let (message, message_b, message_c) = (
        invite["id"].as_str().unwrap(),
        at_b["id"].as_str().unwrap(),
        at_c["id"].as_str().unwrap(),
    );
    let settled = eventually("the host's choice on every server", || async {
        let host = game_state(alpha, &ada_token, &group_id, message).await;
        let on_b = game_state(beta, &bob_token, conv_b, message_b).await;
        let on_c = game_state(gamma, &cy_token, conv_c, message_c).await;
        (host.0 != "pending" && host == on_b && host == on_c).then_some(host)
    })
    .await;
    let expected = match settled.0.as_str() {
        "declined" => "bob",
        "accepted" => "cy",
        other => panic!("unexpected state {other}"),
    };
    assert_eq!(settled.1, expected, "the state goes with its answerer");
    rig.stop().await;
}
