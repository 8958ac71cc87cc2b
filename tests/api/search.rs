//! Full-text search (`GET /api/v1/search`, `message.search`): words,
//! phrases, prefixes, filters, paging, edits and deletions, membership,
//! blocks, leaving, and hostile query strings.

use crate::backend_tests;
use crate::common::{person, Person, Reply, TestServer};
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    words_phrases_prefixes_and_filters,
    pages_are_newest_first_without_gaps,
    edits_and_deletions_are_reflected,
    only_readable_conversations_are_searched,
    hostile_queries_never_fail_the_server,
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

async fn send(p: &mut Person, conversation: &str, body: &str) -> Value {
    p.ws.ok(
        "message.send",
        json!({"conversation": conversation, "body": body}),
    )
    .await
}

/// `GET /api/v1/search` with these query parameters.
async fn rest(s: &TestServer, token: &str, params: &[(&str, &str)]) -> Reply {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    s.raw(
        s.request(Method::GET, &format!("/api/v1/search?{query}"))
            .bearer_auth(token),
    )
    .await
}

/// The bodies found for `q` (plus `extra` parameters), newest first.
async fn bodies(s: &TestServer, p: &Person, q: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![("q", q)];
    params.extend_from_slice(extra);
    let r = rest(s, &p.token, &params).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.body);
    r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            assert_eq!(hit["conversation"], hit["message"]["conversation"]);
            hit["message"]["body"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn words_phrases_prefixes_and_filters(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let g1 = group(&mut ada, "Kitchen", &["bob"]).await;
    let g2 = group(&mut ada, "Garden", &["bob"]).await;
    send(&mut ada, &g1, "The quick brown fox").await;
    let middle = send(&mut bob, &g1, "Brown bread for breakfast").await;
    send(&mut bob, &g2, "a brown leaf, quick!").await;

    assert_eq!(
        bodies(s, &ada, "BROWN", &[]).await,
        [
            "a brown leaf, quick!",
            "Brown bread for breakfast",
            "The quick brown fox"
        ],
        "every word, case folded, newest first"
    );
    assert_eq!(
        bodies(s, &ada, "brown quick", &[]).await,
        ["a brown leaf, quick!", "The quick brown fox"],
        "all words must match"
    );
    assert_eq!(
        bodies(s, &ada, "\"quick brown\"", &[]).await,
        ["The quick brown fox"]
    );
    assert!(bodies(s, &ada, "\"brown quick\"", &[]).await.is_empty());
    assert_eq!(
        bodies(s, &ada, "brea*", &[]).await,
        ["Brown bread for breakfast"]
    );
    assert!(bodies(s, &ada, "brea", &[]).await.is_empty(), "no stemming");
    // Two and three characters: the lengths SQLite's FTS5 prefix index
    // keeps (the `search_prefix_index` migration); longer ones expand.
    assert_eq!(
        bodies(s, &ada, "bre*", &[]).await,
        ["Brown bread for breakfast"]
    );
    assert_eq!(
        bodies(s, &ada, "br*", &[]).await,
        [
            "a brown leaf, quick!",
            "Brown bread for breakfast",
            "The quick brown fox"
        ]
    );
    assert_eq!(
        bodies(s, &ada, "qu* le*", &[]).await,
        ["a brown leaf, quick!"]
    );

    // Filters.
    assert_eq!(
        bodies(s, &ada, "brown", &[("conversation", &g2)]).await,
        ["a brown leaf, quick!"]
    );
    assert_eq!(
        bodies(s, &ada, "brown", &[("author", &ada.id)]).await,
        ["The quick brown fox"]
    );
    let at = middle["created_at"].as_str().unwrap();
    assert_eq!(
        bodies(s, &ada, "brown", &[("before", at)]).await,
        ["The quick brown fox"]
    );
    assert_eq!(
        bodies(s, &ada, "brown", &[("after", at)]).await,
        ["a brown leaf, quick!"]
    );

    // Highlights are UTF-16 ranges of the body.
    let r = rest(s, &ada.token, &[("q", "quick")]).await;
    assert_eq!(
        r.body["results"][1]["highlights"],
        json!([{"start": 4, "end": 9}])
    );

    // The WebSocket answers the same.
    let page = bob
        .ws
        .ok("message.search", json!({"q": "brown", "author": bob.id}))
        .await;
    let found: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["a brown leaf, quick!", "Brown bread for breakfast"]);
    assert_eq!(page["next_cursor"], Value::Null);
}

async fn pages_are_newest_first_without_gaps(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let g = group(&mut ada, "Pages", &[]).await;
    let mut sent = vec![];
    for i in 0..7 {
        sent.push(send(&mut ada, &g, &format!("page number {i}")).await["id"].clone());
        send(&mut ada, &g, "unrelated").await;
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    for expected in [3, 3, 1] {
        let mut data = json!({"q": "page", "limit": 3});
        if let Some(c) = &cursor {
            data["cursor"] = json!(c);
        }
        let page = ada.ws.ok("message.search", data).await;
        let results = page["results"].as_array().unwrap();
        assert_eq!(results.len(), expected, "{page}");
        seen.extend(results.iter().map(|h| h["message"]["id"].clone()));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(cursor, None, "the last page has no cursor");
    sent.reverse();
    assert_eq!(seen, sent);
}

async fn edits_and_deletions_are_reflected(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let g = group(&mut ada, "Edits", &[]).await;
    let m = send(&mut ada, &g, "original wording").await;
    let mid = m["id"].as_str().unwrap();
    ada.ws
        .ok(
            "message.edit",
            json!({"message": mid, "body": "revised wording"}),
        )
        .await;
    assert!(bodies(s, &ada, "original", &[]).await.is_empty());
    assert!(
        bodies(s, &ada, "ori*", &[]).await.is_empty(),
        "prefix index"
    );
    assert_eq!(bodies(s, &ada, "revised", &[]).await, ["revised wording"]);
    assert_eq!(bodies(s, &ada, "re*", &[]).await, ["revised wording"]);
    ada.ws.ok("message.delete", json!({"message": mid})).await;
    assert!(bodies(s, &ada, "wording", &[]).await.is_empty());
    assert!(bodies(s, &ada, "wo*", &[]).await.is_empty());

    // The same after the message was indexed (a search indexes first).
    let m = send(&mut ada, &g, "first draft").await;
    assert_eq!(bodies(s, &ada, "draft", &[]).await, ["first draft"]);
    ada.ws
        .ok(
            "message.edit",
            json!({"message": m["id"], "body": "second draft"}),
        )
        .await;
    assert!(bodies(s, &ada, "first", &[]).await.is_empty());
    assert!(bodies(s, &ada, "fir*", &[]).await.is_empty());
    assert_eq!(bodies(s, &ada, "draft", &[]).await, ["second draft"]);
    ada.ws
        .ok("message.delete", json!({"message": m["id"]}))
        .await;
    assert!(bodies(s, &ada, "draft", &[]).await.is_empty());

    // Deleting a conversation takes its messages out of the index.
    let g2 = group(&mut ada, "Doomed", &[]).await;
    send(&mut ada, &g2, "doomed words").await;
    send(&mut ada, &g, "surviving words").await;
    assert_eq!(bodies(s, &ada, "words", &[]).await.len(), 2);
    ada.ws
        .ok("conversation.delete", json!({"conversation": g2}))
        .await;
    assert_eq!(bodies(s, &ada, "words", &[]).await, ["surviving words"]);
    // Deleting an account keeps its messages, as history does.
    let (gone_token, _) = s.register("gone").await;
    let mut gone = Person {
        ws: WsClient::connect(s, &gone_token).await,
        token: gone_token,
        id: String::new(),
    };
    let g3 = group(&mut gone, "Left behind", &["ada"]).await;
    send(&mut gone, &g3, "farewell words").await;
    let r = s
        .call(Method::DELETE, "/api/v1/users/me", None, Some(&gone.token))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(bodies(s, &ada, "farewell", &[]).await, ["farewell words"]);
    fts_index_is_intact(s).await;

    // The rebuild of docs/operations.md: an emptied index comes back.
    rebuild_fts_index(s).await;
    assert_eq!(bodies(s, &ada, "farewell", &[]).await, ["farewell words"]);
    assert_eq!(bodies(s, &ada, "words", &[]).await.len(), 2);
    fts_index_is_intact(s).await;
}

/// On SQLite, what docs/operations.md gives to rebuild the index after a
/// restore: empty it and mark every message as waiting.
async fn rebuild_fts_index(s: &TestServer) {
    use diesel_async::SimpleAsyncConnection;
    if let confab::db::Db::Sqlite { writer, .. } = s.state.chat.db() {
        let mut conn = writer.get().await.unwrap();
        conn.batch_execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');
             INSERT OR IGNORE INTO messages_fts_pending SELECT rowid FROM messages;",
        )
        .await
        .unwrap();
    }
}

/// On SQLite, FTS5's own check that the index matches `messages`.
async fn fts_index_is_intact(s: &TestServer) {
    use diesel_async::SimpleAsyncConnection;
    if let confab::db::Db::Sqlite { reader, .. } = s.state.chat.db() {
        let mut conn = reader.get().await.unwrap();
        conn.batch_execute(
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
        )
        .await
        .unwrap();
    }
}

async fn only_readable_conversations_are_searched(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let cy = person(s, "cy").await;
    let g = group(&mut ada, "Club", &["bob"]).await;
    send(&mut ada, &g, "secret plans").await;
    send(&mut bob, &g, "secret handshake").await;

    assert!(
        bodies(s, &cy, "secret", &[]).await.is_empty(),
        "a non-member finds nothing"
    );
    assert!(
        bodies(s, &cy, "secret", &[("conversation", &g)])
            .await
            .is_empty(),
        "not even when naming the conversation"
    );

    // Blocks hide the blocked author's messages, as in history.
    ada.ws.ok("contact.block", json!({"user": bob.id})).await;
    assert_eq!(bodies(s, &ada, "secret", &[]).await, ["secret plans"]);
    ada.ws.ok("contact.unblock", json!({"user": bob.id})).await;
    assert_eq!(bodies(s, &ada, "secret", &[]).await.len(), 2);

    // A member who left no longer reads the conversation.
    bob.ws
        .ok("conversation.leave", json!({"conversation": g}))
        .await;
    assert!(bodies(s, &bob, "secret", &[]).await.is_empty());
}

async fn hostile_queries_never_fail_the_server(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let g = group(&mut ada, "Hostile", &[]).await;
    send(&mut ada, &g, "near the body of NEAR text").await;
    let huge = "x".repeat(5_000);
    let long_word = "y".repeat(200);
    let many = "w ".repeat(40);
    for q in [
        "NEAR(near body, 2)",
        "body: near",
        "{body} : text",
        "near OR text NOT body",
        "-near ^text +body",
        "near' & !text | body:*",
        "\"unclosed phrase",
        "\"\"\"",
        "near\0text",
        "*",
        "**near",
        "near*",
        "a*",
        "((( ))) \\ ' \"",
        "😀 🙂",
        "text AND",
        huge.as_str(),
        long_word.as_str(),
        many.as_str(),
        "",
        "   ",
    ] {
        let r = rest(s, &ada.token, &[("q", q)]).await;
        assert!(
            r.status == StatusCode::OK
                || (r.status == StatusCode::BAD_REQUEST && r.code() == "invalid_query"),
            "{q:?}: {} {:?}",
            r.status,
            r.body
        );
        let reply = ada.ws.call("message.search", json!({"q": q})).await;
        assert!(
            reply["type"] == "result" || reply["error"]["code"] == "invalid_query",
            "{q:?}: {reply}"
        );
    }
    assert_eq!(
        bodies(s, &ada, "NEAR( near body )", &[]).await,
        ["near the body of NEAR text"],
        "operators are words"
    );
    for params in [
        vec![("q", "near"), ("limit", "0")],
        vec![("q", "near"), ("limit", "51")],
        vec![("q", "near"), ("limit", "many")],
        vec![("q", "near"), ("cursor", "nope")],
        vec![("q", "near"), ("before", "yesterday")],
        vec![
            ("q", "near"),
            ("after", "2030-01-01T00:00:00Z"),
            ("before", "2020-01-01T00:00:00Z"),
        ],
        vec![("q", "near"), ("colour", "red")],
        vec![],
    ] {
        let r = rest(s, &ada.token, &params).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{params:?}: {:?}",
            r.body
        );
        assert_eq!(r.code(), "invalid_query", "{params:?}");
    }
    let r = rest(s, "not-a-token", &[("q", "near")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
