//! ActivityPub discovery and actors: WebFinger round trip, the Person
//! document with its key, content negotiation, NodeInfo and host-meta.

use crate::backend_tests;
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    webfinger_and_actor_round_trip,
    webfinger_by_actor_url,
    nodeinfo_and_host_meta,
    remote_lookups_refuse_private_addresses,
    inboxes_refuse_unsigned_and_malformed_requests,
    instance_blocklist_is_for_admins,
    instance_actor_and_public_collections,
    local_chat_does_not_federate,
    join_requests_are_for_admins_and_remote_groups,
);

async fn get_with(s: &TestServer, path: &str, accept: &str) -> (StatusCode, String, String) {
    let resp = s
        .request(Method::GET, path)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

async fn webfinger_and_actor_round_trip(s: &TestServer) {
    let (token, _) = s.register("Ada").await;
    s.call(
        Method::PATCH,
        "/api/v1/users/me",
        Some(
            json!({"display_name": "Ada <L>", "bio": "Engines\n\n<script>x</script>",
                    "profile_links": [{"name": "site", "url": "https://ada.example"}]}),
        ),
        Some(&token),
    )
    .await;
    let (status, ct, body) = get_with(
        s,
        "/.well-known/webfinger?resource=acct:ada@confab.test",
        "*/*",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/jrd+json");
    let finger: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(finger["subject"], "acct:Ada@confab.test");
    let link = finger["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(link["type"], "application/activity+json");
    let id = link["href"].as_str().unwrap().to_owned();
    assert_eq!(id, "https://confab.test/users/Ada");

    let path = id.trim_start_matches("https://confab.test");
    let (status, ct, body) = get_with(s, path, "application/activity+json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/activity+json"), "{ct}");
    let person: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        person["id"],
        id.as_str(),
        "the WebFinger link names the actor"
    );
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "Ada");
    assert_eq!(person["name"], "Ada <L>");
    assert_eq!(
        person["summary"],
        "<p>Engines</p><p>&lt;script&gt;x&lt;/script&gt;</p>"
    );
    assert_eq!(person["manuallyApprovesFollowers"], true);
    assert_eq!(
        person["endpoints"]["sharedInbox"],
        "https://confab.test/inbox"
    );
    assert_eq!(person["attachment"][0]["type"], "PropertyValue");
    assert_eq!(person["publicKey"]["id"], format!("{id}#main-key"));
    assert_eq!(person["publicKey"]["owner"], id.as_str());
    let pem = person["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    // The key is made once and kept.
    let (_, _, again) = get_with(
        s,
        path,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    )
    .await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["publicKey"]["publicKeyPem"], pem.as_str());

    // Browsers get HTML, with every user-written string escaped.
    let (status, ct, html) = get_with(s, path, "text/html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(
        html.contains("Ada &lt;L&gt;") && !html.contains("<script>"),
        "{html}"
    );

    for query in [
        "resource=acct:nobody@confab.test",
        "resource=acct:ada@elsewhere.example",
    ] {
        let (status, _, _) = get_with(s, &format!("/.well-known/webfinger?{query}"), "*/*").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}");
    }
    let (status, _, _) = get_with(s, "/.well-known/webfinger", "*/*").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get_with(s, "/users/nobody", "application/activity+json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `resource=` an actor's URL answers like its `acct:` (as Mastodon does);
/// foreign or unknown URLs are 404, malformed resources 400 in our format.
async fn webfinger_by_actor_url(s: &TestServer) {
    s.register("Ada").await;
    for resource in [
        "https://confab.test/users/ada",
        "https%3A%2F%2Fconfab.test%2Fusers%2FAda",
        "acct:ada@confab.test",
    ] {
        let (status, ct, body) = get_with(
            s,
            &format!("/.well-known/webfinger?resource={resource}"),
            "application/jrd+json",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{resource}: {body}");
        assert_eq!(ct, "application/jrd+json");
        let finger: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(finger["subject"], "acct:Ada@confab.test", "{resource}");
        assert_eq!(finger["aliases"], json!(["https://confab.test/users/Ada"]));
        assert!(
            finger["links"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["rel"] == "self"
                    && l["type"] == "application/activity+json"
                    && l["href"] == "https://confab.test/users/Ada"),
            "{body}"
        );
    }
    for resource in [
        "https://elsewhere.example/users/ada",
        "https://confab.test/users/nobody",
        "https://confab.test/users/ada/inbox",
        "https://confab.test/users/ada%23main-key",
        "https://confab.test/users/ada?x=1",
        "https://confab.test/groups/00000000-0000-0000-0000-000000000000",
        "https://confab.test/",
        "http://confab.test/users/ada",
    ] {
        let query = resource
            .replace('#', "%23")
            .replace('?', "%3F")
            .replace('&', "%26");
        let (status, _, body) = get_with(
            s,
            &format!("/.well-known/webfinger?resource={query}"),
            "*/*",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{resource}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "not_found", "{resource}");
    }
    for resource in [
        "ada",
        "acct:ada",
        "https://",
        "http://[::1/users/ada",
        "mailto:ada",
    ] {
        let (status, _, body) = get_with(
            s,
            &format!("/.well-known/webfinger?resource={resource}"),
            "*/*",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{resource}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "invalid_query", "{resource}");
    }
}

async fn nodeinfo_and_host_meta(s: &TestServer) {
    s.register("one").await;
    s.register("two").await;
    let (status, _, body) = get_with(s, "/.well-known/nodeinfo", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    let links: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        links["links"][0]["href"],
        "https://confab.test/nodeinfo/2.1"
    );
    let (status, ct, body) = get_with(s, "/nodeinfo/2.1", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ct.contains("nodeinfo.diaspora.software/ns/schema/2.1"),
        "{ct}"
    );
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "confab");
    assert_eq!(info["protocols"], json!(["activitypub"]));
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["openRegistrations"], true);
    let (status, ct, xml) = get_with(s, "/.well-known/host-meta", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/xrd+xml"));
    assert!(xml.contains("https://confab.test/.well-known/webfinger?resource={uri}"));
}

async fn remote_lookups_refuse_private_addresses(s: &TestServer) {
    let (token, _) = s.register("ada").await;
    for handle in ["@x@127.0.0.1", "@x@localhost", "@x@10.1.2.3", "@x@[::1]"] {
        let r = s.get(&format!("/api/v1/users/{handle}"), &token).await;
        // Refused, or (for what is not a handle at all) no such user.
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{handle}: {:?}",
            r.body
        );
        assert!(["refused", "not_found"].contains(&r.body["error"]["code"].as_str().unwrap()));
    }
    let r = s.get("/api/v1/users/@x@127.0.0.1", &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "refused");
    for bad in ["@nobody@", "@x@[::1]"] {
        let r = s.get(&format!("/api/v1/users/{bad}"), &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let r = s.get("/api/v1/users/@x@localhost", &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // A handle on this server is a local lookup.
    let host = s.state.config.domain.clone();
    let r = s.get(&format!("/api/v1/users/@ada@{host}"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["name"], "ada");
    assert_eq!(r.body["domain"], Value::Null);
}

async fn inboxes_refuse_unsigned_and_malformed_requests(s: &TestServer) {
    s.register("ada").await;
    let activity = json!({"id": "https://remote.example/a/1", "type": "Follow",
        "actor": "https://remote.example/users/x", "object": "https://x/users/ada"});
    for path in ["/inbox", "/users/ada/inbox"] {
        let r = s
            .raw(
                s.request(Method::POST, path)
                    .header("content-type", "application/activity+json")
                    .body(activity.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "signature_invalid");
    }
    // Signature header present but nonsense, with a fresh date.
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let r = s
        .raw(
            s.request(Method::POST, "/inbox")
                .header("date", &date)
                .header("signature", "keyId=\"x\",signature=\"AAAA\"")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "invalid_activity");
    // Well-formed, but the signature does not verify (the actor cannot be
    // fetched from a private address either).
    let r = s
        .raw(
            s.request(Method::POST, "/inbox")
                .header("date", &date)
                .header("digest", "SHA-256=AAAA")
                .header("signature", "keyId=\"https://remote.example/users/x#main-key\",headers=\"(request-target) host date digest\",signature=\"AAAA\"")
                .body(activity.to_string()),
        )
        .await;
    assert!(r.status.is_client_error(), "{:?}", r.body);
    assert_ne!(r.status, StatusCode::ACCEPTED);
    // A stale date is refused before anything else.
    let old = httpdate::fmt_http_date(
        std::time::SystemTime::now() - std::time::Duration::from_secs(7200),
    );
    let r = s
        .raw(
            s.request(Method::POST, "/inbox")
                .header("date", old)
                .header("signature", "keyId=\"x\"")
                .body(activity.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn instance_blocklist_is_for_admins(s: &TestServer) {
    let (admin, _) = s.register("boss").await;
    let (user, _) = s.register("pleb").await;
    let block = json!({"domain": "Spam.Example", "reason": "spam"});
    let r = s
        .call(
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(block.clone()),
            Some(&user),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .call(
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(block),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["domain"], "spam.example");
    let r = s
        .call(
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(json!({"domain": "bad host/x"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s.get("/api/v1/admin/instance-blocks", &admin).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = s.get("/api/v1/users/@someone@spam.example", &user).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "refused");
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/admin/instance-blocks/spam.example",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/admin/instance-blocks/spam.example",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.get("/api/v1/admin/federation/hosts", &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!([]));
    let r = s.get("/api/v1/admin/federation/hosts", &user).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn instance_actor_and_public_collections(s: &TestServer) {
    s.register("ada").await;
    let (status, ct, body) = get_with(s, "/actor", "application/activity+json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/activity+json"));
    let actor: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(actor["type"], "Application");
    let id = actor["id"].as_str().unwrap();
    assert!(id.ends_with("/actor"));
    assert_eq!(actor["publicKey"]["owner"], id);
    assert!(actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .contains("PUBLIC KEY"));
    // The same key on every start (kept in the database).
    let (_, _, again) = get_with(s, "/actor", "application/activity+json").await;
    assert_eq!(body, again);
    for collection in ["outbox", "followers", "following"] {
        let (status, _, body) = get_with(
            s,
            &format!("/users/ada/{collection}"),
            "application/activity+json",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{collection}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["type"], "OrderedCollection");
        assert_eq!(body["totalItems"], 0);
    }
    let (status, _, _) = get_with(s, "/users/nobody/outbox", "application/activity+json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get_with(s, "/users/ada/secrets", "application/activity+json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Groups and messages among local users queue nothing and make no keys.
async fn local_chat_does_not_federate(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    s.register("bob").await;
    let mut ws = crate::ws_client::WsClient::connect(s, &ada).await;
    let group = ws
        .ok(
            "conversation.create",
            json!({"name": "local", "members": ["bob"]}),
        )
        .await;
    let sent = ws
        .ok(
            "message.send",
            json!({"conversation": group["id"], "body": "hi"}),
        )
        .await;
    let r = s
        .get(
            &format!(
                "/api/v1/messages/{}/deliveries",
                sent["id"].as_str().unwrap()
            ),
            &ada,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!([]));
    let mut conn = s.state.chat.db().read().await.unwrap();
    for name in ["ada", "bob"] {
        let row = confab::db::users::find_by_name(&mut conn, name)
            .await
            .unwrap()
            .unwrap();
        assert!(
            row.private_key_pem.is_none(),
            "{name} got a key without federating"
        );
    }
}

/// Join requests: only admins read and answer them, there is nothing to
/// answer without a request, and `conversation.join` takes only the URL of
/// a group on another, public server.
async fn join_requests_are_for_admins_and_remote_groups(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    let mut ada_ws = crate::ws_client::WsClient::connect(s, &ada).await;
    let mut bob_ws = crate::ws_client::WsClient::connect(s, &bob).await;
    let group = ada_ws
        .ok(
            "conversation.create",
            json!({"name": "club", "members": ["bob"]}),
        )
        .await;
    let id = group["id"].as_str().unwrap();
    let listed = ada_ws
        .ok("conversation.join_requests", json!({"conversation": id}))
        .await;
    assert_eq!(listed, json!([]));
    let r = s
        .get(&format!("/api/v1/conversations/{id}/join-requests"), &ada)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!([])));
    // bob writes but does not administer.
    bob_ws
        .err(
            "conversation.join_requests",
            json!({"conversation": id}),
            "forbidden",
        )
        .await;
    let r = s
        .get(&format!("/api/v1/conversations/{id}/join-requests"), &bob)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    bob_ws
        .err(
            "conversation.join_approve",
            json!({"conversation": id, "user": "ada"}),
            "forbidden",
        )
        .await;
    ada_ws
        .err(
            "conversation.join_approve",
            json!({"conversation": id, "user": "bob"}),
            "not_found",
        )
        .await;
    ada_ws
        .err(
            "conversation.join_decline",
            json!({"conversation": id, "user": "bob", "extra": 1}),
            "invalid",
        )
        .await;
    ada_ws
        .err(
            "conversation.join_approve",
            json!({"conversation": id, "user": "bob", "rights": "owner"}),
            "not_found",
        )
        .await;
    let base = s.state.config.public_base();
    for (group, code) in [
        (format!("{base}/groups/{id}"), "invalid"),
        ("groups/1".to_owned(), "invalid"),
        ("ftp://chat.example/groups/1".to_owned(), "invalid"),
        ("https://127.0.0.1/groups/1".to_owned(), "refused"),
        ("https://localhost/groups/1".to_owned(), "refused"),
    ] {
        bob_ws
            .err("conversation.join", json!({"group": group}), code)
            .await;
    }
    // Nothing of this made a key or queued a delivery.
    let mut conn = s.state.chat.db().read().await.unwrap();
    let row = confab::db::users::find_by_name(&mut conn, "bob")
        .await
        .unwrap()
        .unwrap();
    assert!(row.private_key_pem.is_none());
}
