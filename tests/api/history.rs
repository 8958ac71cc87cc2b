//! History around a message (`message.history` and
//! `GET /api/v1/conversations/{id}/messages` with `around`): the page is
//! centred on the message, shifted at either end of the history, says
//! whether older and newer messages exist, and is refused where a page
//! before or after it would be.

use crate::backend_tests;
use crate::common::{person, Person, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    around_a_message_pages_both_ways,
    around_is_refused_where_history_is,
);

/// A group created by `owner` with the members named.
async fn group(owner: &mut Person, name: &str, members: &[&str]) -> String {
    let g = owner
        .ws
        .ok(
            "conversation.create",
            json!({"name": name, "members": members}),
        )
        .await;
    g["id"].as_str().unwrap().to_owned()
}

async fn send(p: &mut Person, conversation: &str, body: &str) -> String {
    let m =
        p.ws.ok(
            "message.send",
            json!({"conversation": conversation, "body": body}),
        )
        .await;
    m["id"].as_str().unwrap().to_owned()
}

/// The ids of a page, oldest first.
fn ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `(older, newer, more)` of a page around a message.
fn ends(page: &Value) -> (bool, bool, bool) {
    (
        page["older"].as_bool().unwrap(),
        page["newer"].as_bool().unwrap(),
        page["more"].as_bool().unwrap(),
    )
}

async fn around(p: &mut Person, conversation: &str, centre: &str, limit: i64) -> Value {
    p.ws.ok(
        "message.history",
        json!({"conversation": conversation, "around": centre, "limit": limit}),
    )
    .await
}

async fn around_a_message_pages_both_ways(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let conv = group(&mut ada, "Twelve", &["bob"]).await;
    for i in 0..12 {
        send(&mut ada, &conv, &format!("m{i}")).await;
    }
    // The whole history (system lines first), to check the pages against.
    let all = ids(&bob
        .ws
        .ok(
            "message.history",
            json!({"conversation": conv, "limit": 100}),
        )
        .await);
    assert!(all.len() >= 12);
    let last = all.len() - 1;

    // In the middle: two before, two after.
    let mid = around(&mut bob, &conv, &all[6], 5).await;
    assert_eq!(ids(&mid), all[4..9]);
    assert_eq!(ends(&mid), (true, true, true));
    // An even limit gives the newer side the extra place.
    assert_eq!(ids(&around(&mut bob, &conv, &all[6], 4).await), all[5..9]);
    assert_eq!(ids(&around(&mut bob, &conv, &all[6], 1).await), all[6..7]);

    // At the start: the page shifts to the newer side.
    let start = around(&mut bob, &conv, &all[0], 5).await;
    assert_eq!(ids(&start), all[0..5]);
    assert_eq!(ends(&start), (false, true, true));
    let second = around(&mut bob, &conv, &all[1], 5).await;
    assert_eq!(ids(&second), all[0..5]);
    assert_eq!(ends(&second), (false, true, true));

    // At the end: the page shifts to the older side.
    let end = around(&mut bob, &conv, &all[last], 5).await;
    assert_eq!(ids(&end), all[last - 4..]);
    assert_eq!(ends(&end), (true, false, true));

    // A page larger than the history holds all of it.
    let whole = around(&mut bob, &conv, &all[3], 100).await;
    assert_eq!(ids(&whole), all);
    assert_eq!(ends(&whole), (false, false, false));

    // Paging on from an around page with before/after meets no gap.
    let newer = bob
        .ws
        .ok(
            "message.history",
            json!({"conversation": conv, "after": all[8], "limit": 2}),
        )
        .await;
    assert_eq!(ids(&newer), all[9..11]);

    // REST gives the same page; pages without `around` carry no older/newer.
    let rest = s
        .get(
            &format!(
                "/api/v1/conversations/{conv}/messages?around={}&limit=5",
                all[6]
            ),
            &bob.token,
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    assert_eq!(ids(&rest.body), all[4..9]);
    assert_eq!(ends(&rest.body), (true, true, true));
    let plain = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages?limit=5"),
            &bob.token,
        )
        .await;
    assert!(plain.body.get("older").is_none() && plain.body.get("newer").is_none());
}

async fn around_is_refused_where_history_is(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let conv = group(&mut ada, "Two", &["bob"]).await;
    let other = group(&mut ada, "Elsewhere", &["cy"]).await;
    let by_bob = send(&mut bob, &conv, "from bob").await;
    let mine = send(&mut ada, &conv, "from ada").await;
    let elsewhere = send(&mut ada, &other, "in the other group").await;

    // Combined with before or after.
    for extra in ["before", "after"] {
        let mut data = json!({"conversation": conv, "around": mine});
        data[extra] = json!(by_bob);
        ada.ws.err("message.history", data, "invalid").await;
        let r = s
            .get(
                &format!("/api/v1/conversations/{conv}/messages?around={mine}&{extra}={by_bob}"),
                &ada.token,
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
    }
    // A message of another conversation, or none at all.
    ada.ws
        .err(
            "message.history",
            json!({"conversation": conv, "around": elsewhere}),
            "invalid",
        )
        .await;
    ada.ws
        .err(
            "message.history",
            json!({"conversation": conv, "around": uuid::Uuid::now_v7()}),
            "invalid",
        )
        .await;
    // Not a member: the conversation is not found, as for any page.
    cy.ws
        .err(
            "message.history",
            json!({"conversation": conv, "around": mine}),
            "not_found",
        )
        .await;
    let r = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages?around={mine}"),
            &cy.token,
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // A blocked author's message is not readable, and pages around other
    // messages leave it out.
    ada.ws.ok("contact.block", json!({"user": "bob"})).await;
    ada.ws
        .err(
            "message.history",
            json!({"conversation": conv, "around": by_bob}),
            "invalid",
        )
        .await;
    let page = around(&mut ada, &conv, &mine, 10).await;
    assert!(ids(&page).contains(&mine));
    assert!(!ids(&page).contains(&by_bob));
}
