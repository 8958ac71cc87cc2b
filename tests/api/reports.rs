//! Reports and the moderators' queue over REST: who may report what, who
//! sees the queue, resolving (deleting the reported message, suspending the
//! reported user) and the reporter hearing of it.

use crate::backend_tests;
use crate::common::{remote_eve, TestServer};
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    reports_reach_moderators_and_resolving_tells_the_reporter,
    reports_are_checked_and_bounded,
    resolving_by_suspension_suspends_a_local_user,
    resolving_by_suspension_refuses_a_remote_user,
);

async fn report(s: &TestServer, token: &str, body: Value) -> crate::common::Reply {
    s.call(Method::POST, "/api/v1/reports", Some(body), Some(token))
        .await
}

/// A group of ada and bob in which bob wrote `body`: (group id, message id).
async fn bob_writes_to_ada(ada: &mut WsClient, bob: &mut WsClient, body: &str) -> (String, String) {
    let group = ada
        .ok(
            "conversation.create",
            json!({"name": "Room", "members": ["bob"]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    bob.push("conversation.created").await;
    let message = bob
        .ok("message.send", json!({"conversation": gid, "body": body}))
        .await;
    (gid, message["id"].as_str().unwrap().to_owned())
}

async fn reports_reach_moderators_and_resolving_tells_the_reporter(s: &TestServer) {
    // The first account is the admin (a moderator).
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let (bob, bob_id) = s.register("bob").await;
    let (cy, _) = s.register("cy").await;
    let mut ada_ws = WsClient::connect(s, &ada).await;
    let mut bob_ws = WsClient::connect(s, &bob).await;
    let (_, mid) = bob_writes_to_ada(&mut ada_ws, &mut bob_ws, "rude words").await;

    // cy is not in the group: the message does not exist for them.
    let r = report(s, &cy, json!({"message_id": mid, "comment": "spam"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);

    let r = report(s, &ada, json!({"message_id": mid, "comment": "rude"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["target"]["id"], bob_id.as_str());
    assert_eq!(r.body["message_ids"], json!([mid]));
    assert_eq!(r.body["state"], "open");
    assert_eq!(
        r.body["forwarded"], false,
        "bob is local: nothing to forward"
    );

    // Users do not see the queue; moderators do.
    for path in [
        "/api/v1/admin/reports".to_owned(),
        format!("/api/v1/admin/reports/{id}"),
    ] {
        let r = s.get(&path, &ada).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.code(), "forbidden");
    }
    let queue = s.get("/api/v1/admin/reports?state=open", &root).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.body.as_array().unwrap().len(), 1);
    assert_eq!(queue.body[0]["reporter"]["name"], "ada");
    let detail = s.get(&format!("/api/v1/admin/reports/{id}"), &root).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["messages"][0]["body"], "rude words");
    assert_eq!(detail.body["report"]["reporter"]["name"], "ada");
    let r = s.get("/api/v1/admin/reports?state=maybe", &root).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The reporter sees their own reports; others see none of them.
    let mine = s.get("/api/v1/reports", &ada).await;
    assert_eq!(mine.body[0]["id"], id.as_str());
    assert_eq!(s.get("/api/v1/reports", &cy).await.body, json!([]));

    // Only moderators resolve; resolving deletes the message for everyone
    // and tells the reporter.
    let resolve = format!("/api/v1/admin/reports/{id}/resolve");
    let body = json!({"action": "delete_message", "note": "removed"});
    let r = s
        .call(Method::POST, &resolve, Some(body.clone()), Some(&ada))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .call(Method::POST, &resolve, Some(body.clone()), Some(&root))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["report"]["state"], "resolved");
    assert_eq!(r.body["report"]["action"], "delete_message");
    assert_eq!(r.body["messages"][0]["deleted"], true);
    let gone = bob_ws
        .push_where("message.updated", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(gone["deleted"], true);
    let told = ada_ws.push("report.resolved").await;
    assert_eq!(told, json!({"report": id, "action": "delete_message"}));
    let r = s
        .call(Method::POST, &resolve, Some(body), Some(&root))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let mine = s.get("/api/v1/reports", &ada).await;
    assert_eq!(mine.body[0]["state"], "resolved");
    assert_eq!(mine.body[0]["action"], "delete_message");
    let open = s.get("/api/v1/admin/reports", &root).await;
    assert_eq!(open.body, json!([]));
    let resolved = s.get("/api/v1/admin/reports?state=resolved", &root).await;
    assert_eq!(resolved.body[0]["id"], id.as_str());
}

async fn reports_are_checked_and_bounded(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    s.register("bob").await;
    for (body, status) in [
        (json!({"user": "bob", "comment": " "}), 422),
        (json!({"user": "bob", "comment": "x".repeat(1001)}), 422),
        (json!({"comment": "nobody named"}), 422),
        (json!({"user": "ada", "comment": "me"}), 422),
        (json!({"user": "nobody", "comment": "who"}), 404),
        (json!({"user": "bob", "comment": "x", "extra": 1}), 422),
    ] {
        let r = report(s, &ada, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {:?}", r.body);
    }
    // A report about a local user with no message: deleting or blocking
    // an instance has nothing to act on.
    let r = report(s, &ada, json!({"user": "bob", "comment": "bad"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let resolve = format!(
        "/api/v1/admin/reports/{}/resolve",
        r.body["id"].as_str().unwrap()
    );
    for action in ["delete_message", "block_instance"] {
        let r = s
            .call(
                Method::POST,
                &resolve,
                Some(json!({"action": action})),
                Some(&root),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{action}");
    }
    // Open reports per reporter are capped: the server holds them.
    for _ in 1..20 {
        let r = report(s, &ada, json!({"user": "bob", "comment": "again"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = report(s, &ada, json!({"user": "bob", "comment": "one more"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
    // Resolving one frees a place.
    let r = s
        .call(
            Method::POST,
            &resolve,
            Some(json!({"action": "none"})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = report(s, &ada, json!({"user": "bob", "comment": "one more"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let missing = "/api/v1/admin/reports/00000000-0000-0000-0000-000000000000";
    assert_eq!(s.get(missing, &root).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.get("/api/v1/admin/reports/nope", &root).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Resolves report `id` with `action` as `token`.
async fn resolve(s: &TestServer, token: &str, id: &Value, action: &str) -> crate::common::Reply {
    let path = format!("/api/v1/admin/reports/{}/resolve", id.as_str().unwrap());
    s.call(
        Method::POST,
        &path,
        Some(json!({"action": action})),
        Some(token),
    )
    .await
}

/// The status and error code of logging in as `name`.
async fn login(s: &TestServer, name: &str) -> (StatusCode, String) {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": name, "password": "password-123"})),
            None,
        )
        .await;
    let code = match r.status {
        StatusCode::OK => "ok".to_owned(),
        _ => r.code().to_owned(),
    };
    (r.status, code)
}

async fn resolving_by_suspension_suspends_a_local_user(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    let r = report(s, &ada, json!({"user": "bob", "comment": "abusive"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].clone();
    assert_eq!(login(s, "bob").await, (StatusCode::OK, "ok".to_owned()));

    let r = resolve(s, &root, &id, "suspend_user").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["report"]["state"], "resolved");
    assert_eq!(r.body["report"]["action"], "suspend_user");
    assert_eq!(r.body["report"]["target"]["suspended"], true);
    let suspended = (StatusCode::FORBIDDEN, "account_suspended".to_owned());
    assert_eq!(login(s, "bob").await, suspended);
    let me = s.get("/api/v1/users/me", &bob).await;
    assert_eq!((me.status, me.code()), (suspended.0, "account_suspended"));
    assert_eq!(
        s.get("/api/v1/users/bob", &root).await.body["suspended"],
        true
    );
    assert_eq!(login(s, "ada").await, (StatusCode::OK, "ok".to_owned()));
}

async fn resolving_by_suspension_refuses_a_remote_user(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    // A remote actor as federation stores it once fetched.
    let eve = remote_eve(s).await;
    let eve_id = eve.id.to_string();
    let r = report(s, &ada, json!({"user": eve_id, "comment": "spam"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["target"]["name"], "eve@remote.example");
    let id = r.body["id"].clone();

    let r = resolve(s, &root, &id, "suspend_user").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    // Nothing was done: the report is still open, eve not suspended.
    let path = format!("/api/v1/admin/reports/{}", id.as_str().unwrap());
    let detail = s.get(&path, &root).await;
    assert_eq!(detail.body["report"]["state"], "open");
    assert_eq!(detail.body["report"]["target"]["suspended"], false);
}
