//! A message's body is its Markdown source: stored, pushed, returned by the
//! history (WebSocket and REST) and edited exactly as written, HTML and
//! hostile links included; rendering is the clients' (and, for federation,
//! `src/apub/markdown.rs`'s) business.

use crate::backend_tests;
use crate::common::TestServer;
use crate::ws_client::WsClient;
use serde_json::json;

backend_tests!(markdown_is_stored_and_returned_as_written);

const SOURCES: &[&str] = &[
    "**bold** *it* ~~no~~ `a<b>` [docs](https://example.org/a_b) /j",
    "```rust\nfn main() { println!(\"<script>\"); }\n```\n\n> quoted\n\n- one\n- two",
    "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "\\*not bold\\* &amp; AT&T 2 * 3",
];

async fn markdown_is_stored_and_returned_as_written(s: &TestServer) {
    let (ada_token, ada_id) = s.register("ada").await;
    let (bob_token, bob_id) = s.register("bob").await;
    let mut ada = WsClient::connect(s, &ada_token).await;
    let mut bob = WsClient::connect(s, &bob_token).await;
    ada.ok("contact.invite", json!({"user": bob_id})).await;
    bob.push("contact.updated").await;
    bob.ok("contact.accept", json!({"user": ada_id})).await;
    let conv = ada.push("conversation.created").await["id"].clone();
    bob.push("conversation.created").await;

    let mut ids = vec![];
    for body in SOURCES {
        let sent = ada
            .ok("message.send", json!({"conversation": conv, "body": body}))
            .await;
        assert_eq!(sent["body"], *body);
        let got = bob
            .push_where("message.created", |m| m["id"] == sent["id"])
            .await;
        assert_eq!(got["body"], *body);
        ids.push(sent["id"].clone());
    }
    let page = s
        .get(
            &format!(
                "/api/v1/conversations/{}/messages?limit=10",
                conv.as_str().unwrap()
            ),
            &bob_token,
        )
        .await;
    let bodies: Vec<&str> = page.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, SOURCES);
    let history = bob
        .ok(
            "message.history",
            json!({"conversation": conv, "limit": 10}),
        )
        .await;
    assert_eq!(history["messages"][1]["body"], SOURCES[1]);

    let edited = ada
        .ok(
            "message.edit",
            json!({"message": ids[0], "body": "__now__ `edited`"}),
        )
        .await;
    assert_eq!(edited["body"], "__now__ `edited`");
    let got = bob
        .push_where("message.updated", |m| m["id"] == ids[0])
        .await;
    assert_eq!(got["body"], "__now__ `edited`");
}
