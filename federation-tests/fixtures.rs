//! What Mastodon, Lemmy and Pleroma send (the JSON fixtures in
//! `tests/fixtures/apub`), signed by a real remote user and delivered to a
//! real inbox, is handled; what Confab emits carries what they require.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::rig::Rig;
use crate::security::signed_post_as;
use serde_json::{json, Value};

pub fn fixture(name: &str, actor: &str, recipient: &str, id: &str) -> Value {
    fixture_with(
        name,
        &[("{actor}", actor), ("{recipient}", recipient), ("{id}", id)],
    )
}

/// A fixture with each `{placeholder}` of `substitutions` filled in.
pub fn fixture_with(name: &str, substitutions: &[(&str, &str)]) -> Value {
    let path = format!("{}/tests/fixtures/apub/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = substitutions.iter().fold(
        std::fs::read_to_string(path).unwrap(),
        |text, (from, to)| text.replace(from, to),
    );
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_fixtures_are_handled_and_what_we_emit_has_their_fields() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        bob_on_alpha,
        conv_ada,
        conv_bob,
        ..
    } = ada_and_bob(&rig).await;
    beta.register("carl").await;
    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada", alpha.base());
    let inbox = format!("{}/inbox", alpha.base());

    // Direct messages in each peer's shape, through the shared inbox.
    for (n, (name, text)) in [
        (
            "mastodon-create-direct-note.json",
            "@ada hi from mastodon & friends",
        ),
        ("lemmy-private-message.json", "hi from **lemmy**"),
        ("lemmy-0.19-chat-message.json", "hi from old lemmy"),
        (
            "pleroma-chat-message.json",
            "hi from pleroma chat :blobcat:",
        ),
        // Compacted: scalar `to` and `tag`, a large `@context`, `proof`, an
        // LD `signature`, nanosecond `published`, a fragment id.
        ("fedify-create-note.json", "@ada hi from fedify"),
        ("gotosocial-create-note.json", "@ada hi from gotosocial"),
        (
            "misskey-create-note.json",
            "@ada@alpha.example hi from misskey",
        ),
        (
            "akkoma-create-note.json",
            "@ada@alpha.example hi from akkoma",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let activity = fixture(name, &bob_id, &ada_id, &format!("fx{n}"));
        let (status, body) = signed_post_as(beta, "bob", &inbox, &activity, &rig).await;
        assert_eq!(status, 202, "{name}: {body}");
        let got = ada
            .push_where("message.created", |m| m["body"] == text)
            .await;
        assert_eq!(got["conversation"], conv_ada.as_str(), "{name}");
        assert_eq!(got["author"], bob_on_alpha.as_str(), "{name}");
    }
    // Pictures: Misskey's drive files, and Lemmy's picture written inline
    // in a private message, become attachments alpha serves itself.
    for (n, (name, start, alt)) in [
        (
            "misskey-create-note-with-files.json",
            "a file from misskey",
            "A cat on a keyboard",
        ),
        (
            "lemmy-private-message-with-image.json",
            "look:",
            "a cat on the desk",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let activity = fixture(name, &bob_id, &ada_id, &format!("px{n}"));
        let (status, body) = signed_post_as(beta, "bob", &inbox, &activity, &rig).await;
        assert_eq!(status, 202, "{name}: {body}");
        let got = ada
            .push_where("message.created", |m| {
                m["body"].as_str().is_some_and(|b| b.starts_with(start))
            })
            .await;
        let first = &got["attachments"][0];
        assert_eq!(first["alt_text"], alt, "{name}: {got}");
        assert_eq!(first["kind"], "image", "{name}: {got}");
        let url = first["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/media/", alpha.base())),
            "{url}"
        );
    }
    // Mastodon's Delete with a Tombstone removes its note.
    let delete = fixture("mastodon-delete-note.json", &bob_id, &ada_id, "fx0");
    let (status, body) = signed_post_as(beta, "bob", &inbox, &delete, &rig).await;
    assert_eq!(status, 202, "{body}");
    ada.push_where("message.updated", |m| m["deleted"] == true)
        .await;

    // A Mastodon-style Follow is an invitation; its Undo withdraws it.
    let carl_id = format!("{}/users/carl", beta.base());
    rig.client
        .get(&carl_id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let follow = fixture("mastodon-follow.json", &carl_id, &ada_id, "f1");
    let (status, body) = signed_post_as(beta, "carl", &inbox, &follow, &rig).await;
    assert_eq!(status, 202, "{body}");
    let invite = ada
        .push_where("contact.updated", |c| c["state"] == "pending_incoming")
        .await;
    let undo = fixture("mastodon-undo-follow.json", &carl_id, &ada_id, "f1");
    let (status, body) = signed_post_as(beta, "carl", &inbox, &undo, &rig).await;
    assert_eq!(status, 202, "{body}");
    let gone = ada
        .push_where("contact.updated", |c| c["state"] == "none")
        .await;
    assert_eq!(gone["user"], invite["user"]);

    // What Confab sends: a DM Mastodon keeps direct and Lemmy accepts.
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": "fields <check>"}),
        )
        .await;
    let db = confab::db::Db::connect(&alpha.database_url, 1)
        .await
        .unwrap();
    let message =
        confab::db::ids::MessageId(uuid::Uuid::parse_str(sent["id"].as_str().unwrap()).unwrap());
    let rows = confab::db::deliveries::for_message(&mut db.read().await.unwrap(), message)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let create: Value = serde_json::from_str(&rows[0].body).unwrap();
    assert_eq!(
        create["@context"],
        json!([
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1"
        ])
    );
    assert_eq!(create["type"], "Create");
    assert_eq!(create["actor"], ada_id.as_str());
    assert_eq!(create["to"], json!([bob_id]));
    assert_eq!(create["cc"], json!([]));
    let note = &create["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attributedTo"], ada_id.as_str());
    assert_eq!(note["to"], json!([bob_id]));
    assert_eq!(note["content"], "<p>fields &lt;check&gt;</p>");
    assert_eq!(note["mediaType"], "text/html");
    assert_eq!(note["source"]["content"], "fields <check>");
    assert_eq!(note["source"]["mediaType"], "text/markdown");
    assert!(note["published"].is_string());
    assert_eq!(note["tag"][0]["type"], "Mention");
    assert_eq!(note["tag"][0]["href"], bob_id.as_str());
    assert_eq!(note["tag"][0]["name"], format!("@bob@{}", beta.host()));
    assert!(note["context"].as_str().unwrap().starts_with(&alpha.base()));
    assert_eq!(
        rows[0].inbox,
        format!("{}/inbox", beta.base()),
        "the shared inbox"
    );

    // A formatted message: its Markdown as `source`, sanitized HTML as
    // `content`; beta stores the Markdown as it was written.
    let markdown = "**bold** *it* `code` [docs](https://example.org/d)\n\n> quoted <img src=x onerror=alert(1)>\n\n```rust\nlet x = 1;\n```";
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": markdown}),
        )
        .await;
    let message =
        confab::db::ids::MessageId(uuid::Uuid::parse_str(sent["id"].as_str().unwrap()).unwrap());
    let rows = confab::db::deliveries::for_message(&mut db.read().await.unwrap(), message)
        .await
        .unwrap();
    let create: Value = serde_json::from_str(&rows[0].body).unwrap();
    let note = &create["object"];
    assert_eq!(
        note["content"],
        "<p><strong>bold</strong> <em>it</em> <code>code</code> <a href=\"https://example.org/d\" rel=\"nofollow noopener noreferrer\">docs</a></p>\n\
         <blockquote>\n<p>quoted &lt;img src=x onerror=alert(1)&gt;</p>\n</blockquote>\n\
         <pre><code class=\"language-rust\">let x = 1;\n</code></pre>"
    );
    assert_eq!(note["source"]["content"], markdown);
    assert_eq!(note["source"]["mediaType"], "text/markdown");
    let got = bob
        .push_where("message.created", |m| m["body"] == markdown)
        .await;
    assert_eq!(got["conversation"], conv_bob.as_str());

    // What a chat server ignores: a public post, a boost and a pin reach
    // ada's server because she and bob follow each other. Each is
    // acknowledged and shows nothing.
    for name in [
        "mastodon-create-public-note.json",
        "mastodon-announce-boost.json",
        "mastodon-add-pinned.json",
        "mastodon-undo-announce.json",
        "mastodon-create-question.json",
    ] {
        let activity = fixture(name, &bob_id, &ada_id, "ignored");
        let (status, body) = signed_post_as(beta, "bob", &inbox, &activity, &rig).await;
        assert_eq!(status, 202, "{name}: {body}");
    }
    ada.assert_no_push("message.created", |m| m["author"] == bob_on_alpha.as_str())
        .await;

    // Mastodon's Update{Person}: the new profile replaces the stored copy
    // (with bob's real key, so that his next activity still verifies).
    let bob_doc: Value = rig
        .client
        .get(&bob_id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut update = fixture("mastodon-update-person.json", &bob_id, &ada_id, "u1");
    update["object"]["publicKey"] = bob_doc["publicKey"].clone();
    let (status, body) = signed_post_as(beta, "bob", &inbox, &update, &rig).await;
    assert_eq!(status, 202, "{body}");
    let profile = alpha
        .get(&ada_token, &format!("/api/v1/users/{bob_on_alpha}"))
        .await;
    assert_eq!(profile["display_name"], "Bob, updated");
    assert_eq!(profile["bio"], "A new bio & a new name");
    // Nobody updates someone else.
    let mut forged = fixture("mastodon-update-person.json", &bob_id, &ada_id, "u2");
    forged["actor"] = json!(carl_id);
    forged["id"] = json!(format!("{carl_id}#updates/u2"));
    let (status, body) = signed_post_as(beta, "carl", &inbox, &forged, &rig).await;
    assert_eq!(status, 400, "{body}");

    // Mastodon's Block makes the chat read-only here.
    let block = fixture("mastodon-block.json", &bob_id, &ada_id, "b1");
    let (status, body) = signed_post_as(beta, "bob", &inbox, &block, &rig).await;
    assert_eq!(status, 202, "{body}");
    ada.push_where("conversation.updated", |c| {
        c["id"] == conv_ada.as_str() && c["read_only"] == true
    })
    .await;
    rig.stop().await;
}
