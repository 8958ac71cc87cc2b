//! Account security (issue 12): password change and reset, ending other
//! sessions, suspension, and all of them ending open sessions at once;
//! changes made by the CLI noticed by a running server; a group admin
//! against the owner's messages.

use crate::backend_tests;
use crate::common::{Reply, TestServer};
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    password_change_ends_other_tokens_and_sessions: &[],
    revoking_sessions_keeps_only_the_new_token: &[],
    suspension_refuses_login_tokens_and_sessions: &[],
    admin_resets_a_password: &[],
    moderators_suspend_users_but_not_admins_nor_passwords: &[],
    role_change_ends_sessions: &[],
    cli_changes_reach_a_running_server: &["--session-recheck-s", "1"],
    group_admins_cannot_delete_the_owners_messages: &[],
    presence_sharing_is_a_setting_of_ones_own_account: &[],
);

const PASSWORD: &str = "password-123";

async fn post(s: &TestServer, path: &str, body: Option<Value>, token: &str) -> Reply {
    s.call(Method::POST, path, body, Some(token)).await
}

async fn login(s: &TestServer, name: &str, password: &str) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({"name": name, "password": password})),
        None,
    )
    .await
}

fn token_of(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// The status and code `token` gets on `GET /api/v1/users/me`.
async fn me(s: &TestServer, token: &str) -> (StatusCode, String) {
    let r = s.get("/api/v1/users/me", token).await;
    let code = if r.status == StatusCode::OK {
        "ok".to_owned()
    } else {
        r.code().to_owned()
    };
    (r.status, code)
}

fn ok() -> (StatusCode, String) {
    (StatusCode::OK, "ok".to_owned())
}

fn closed(reason: &str) -> (u16, String) {
    (1008, reason.to_owned())
}

async fn password_change_ends_other_tokens_and_sessions(s: &TestServer) {
    let (old, _) = s.register("ada").await;
    let ws = WsClient::connect(s, &old).await;
    let change = |old_password: &str, new_password: &str| json!({"old_password": old_password, "new_password": new_password});
    let path = "/api/v1/account/password";
    let wrong = post(
        s,
        path,
        Some(change("not-my-password", "new-pass-456")),
        &old,
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "wrong_password")
    );
    let short = post(s, path, Some(change(PASSWORD, "short")), &old).await;
    assert_eq!(
        (short.status, short.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    assert_eq!(me(s, &old).await, ok(), "refusals change nothing");

    let fresh = token_of(&post(s, path, Some(change(PASSWORD, "new-pass-456")), &old).await);
    // A session opened with the fresh token at once survives the change.
    let mut kept = WsClient::connect(s, &fresh).await;
    assert_eq!(ws.closed_by_server().await, closed("password_changed"));
    assert_eq!(
        me(s, &old).await,
        (StatusCode::UNAUTHORIZED, "token_revoked".to_owned())
    );
    assert_eq!(me(s, &fresh).await, ok());
    kept.ok("ping", json!({})).await;
    assert_eq!(
        login(s, "ada", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    token_of(&login(s, "ada", "new-pass-456").await);
}

async fn revoking_sessions_keeps_only_the_new_token(s: &TestServer) {
    let (first, _) = s.register("ada").await;
    let second = token_of(&login(s, "ada", PASSWORD).await);
    let phone = WsClient::connect(s, &first).await;
    let laptop = WsClient::connect(s, &second).await;
    let fresh = token_of(&post(s, "/api/v1/account/sessions/revoke", None, &second).await);
    assert_eq!(phone.closed_by_server().await, closed("sessions_revoked"));
    assert_eq!(laptop.closed_by_server().await, closed("sessions_revoked"));
    for old in [&first, &second] {
        assert_eq!(
            me(s, old).await,
            (StatusCode::UNAUTHORIZED, "token_revoked".to_owned())
        );
    }
    assert_eq!(me(s, &fresh).await, ok());
    let mut again = WsClient::connect(s, &fresh).await;
    again.ok("ping", json!({})).await;
    // The password is unchanged.
    token_of(&login(s, "ada", PASSWORD).await);
}

async fn suspension_refuses_login_tokens_and_sessions(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    let path = "/api/v1/admin/users/ada/suspension";
    let by_user = post(s, path, None, &bob).await;
    assert_eq!(
        (by_user.status, by_user.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let own = post(s, "/api/v1/admin/users/root/suspension", None, &root).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{:?}", own.body);
    let missing = post(s, "/api/v1/admin/users/nobody/suspension", None, &root).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ws = WsClient::connect(s, &ada).await;
    let r = post(s, path, None, &root).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["suspended"], true);
    assert_eq!(ws.closed_by_server().await, closed("account_suspended"));
    let suspended = (StatusCode::FORBIDDEN, "account_suspended".to_owned());
    assert_eq!(me(s, &ada).await, suspended);
    let refused = login(s, "ada", PASSWORD).await;
    assert_eq!(
        (refused.status, refused.code()),
        (suspended.0, "account_suspended")
    );
    // Only someone who knows the password learns of the suspension.
    assert_eq!(
        login(s, "ada", "wrong-password").await.status,
        StatusCode::UNAUTHORIZED
    );
    let listed = s.get("/api/v1/users?q=ada", &root).await;
    assert_eq!(listed.body["users"][0]["suspended"], true);
    assert_eq!(
        s.get("/api/v1/users/bob", &root).await.body["suspended"],
        false
    );

    let r = s.call(Method::DELETE, path, None, Some(&root)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["suspended"], false);
    assert_eq!(me(s, &ada).await, ok(), "the token works again");
    token_of(&login(s, "ada", PASSWORD).await);
}

async fn admin_resets_a_password(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    let path = "/api/v1/admin/users/ada/password";
    let reset = |pw: &str| Some(json!({"new_password": pw}));
    let by_user = s
        .call(Method::PUT, path, reset("bobs-choice-1"), Some(&bob))
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    let short = s.call(Method::PUT, path, reset("short"), Some(&root)).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = s
        .call(
            Method::PUT,
            "/api/v1/admin/users/nobody/password",
            reset("whatever-1"),
            Some(&root),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(me(s, &ada).await, ok());

    let ws = WsClient::connect(s, &ada).await;
    let r = s
        .call(Method::PUT, path, reset("reset-pass-789"), Some(&root))
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::OK, Some("ada"))
    );
    assert_eq!(ws.closed_by_server().await, closed("password_changed"));
    assert_eq!(
        me(s, &ada).await,
        (StatusCode::UNAUTHORIZED, "token_revoked".to_owned())
    );
    assert_eq!(
        login(s, "ada", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    token_of(&login(s, "ada", "reset-pass-789").await);
    assert_eq!(
        me(s, &root).await,
        ok(),
        "the admin's own token is untouched"
    );
}

/// A moderator may suspend and reinstate a user, but neither suspend an
/// admin nor set anyone's password; nothing they were refused changed.
async fn moderators_suspend_users_but_not_admins_nor_passwords(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (moderator, _) = s.register("mod").await;
    s.register("ada").await;
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/mod",
            Some(json!({"role": "moderator"})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let path = "/api/v1/admin/users/ada/suspension";
    let r = post(s, path, None, &moderator).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["suspended"], true);
    let refused = login(s, "ada", PASSWORD).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "account_suspended")
    );
    let r = s.call(Method::DELETE, path, None, Some(&moderator)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["suspended"], false);
    let ada = token_of(&login(s, "ada", PASSWORD).await);

    let r = post(s, "/api/v1/admin/users/root/suspension", None, &moderator).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "an admin"
    );
    assert_eq!(me(s, &root).await, ok());
    for user in ["ada", "root"] {
        let r = s
            .call(
                Method::PUT,
                &format!("/api/v1/admin/users/{user}/password"),
                Some(json!({"new_password": "chosen-by-mod-1"})),
                Some(&moderator),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{user}"
        );
    }
    assert_eq!(me(s, &ada).await, ok(), "ada's token still works");
    token_of(&login(s, "ada", PASSWORD).await);
    token_of(&login(s, "root", PASSWORD).await);
}

async fn role_change_ends_sessions(s: &TestServer) {
    let (root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let ws = WsClient::connect(s, &ada).await;
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/ada",
            Some(json!({"role": "admin"})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(ws.closed_by_server().await, closed("role_changed"));
    // The token itself still works, now with the new role.
    let mut again = WsClient::connect(s, &ada).await;
    assert_eq!(again.ready["user"]["role"], "admin");
    again.ok("ping", json!({})).await;
}

/// Runs the real binary against the server's database.
fn cli(s: &TestServer, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
        .env_remove("DATABASE_URL")
        .env_remove("CONFAB_DATABASE_URL")
        .env("CONFAB_LOG", "warn")
        .args(["--database-url", &s.state.config.database_url])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `confab user suspend` / `password` from another process: the server
/// refuses the tokens at once and its open sessions end at their next
/// re-check (`session_recheck_s` is 1 here).
async fn cli_changes_reach_a_running_server(s: &TestServer) {
    let (_root, _) = s.register("root").await;
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;

    let ws = WsClient::connect(s, &ada).await;
    let out = tokio::task::block_in_place(|| cli(s, &["user", "suspend", "ada"], None));
    assert!(out.contains("suspended ada"), "{out}");
    assert_eq!(
        me(s, &ada).await,
        (StatusCode::FORBIDDEN, "account_suspended".to_owned())
    );
    assert_eq!(ws.closed_by_server().await, closed("account_suspended"));
    let list = tokio::task::block_in_place(|| cli(s, &["user", "list"], None));
    assert!(
        list.lines()
            .any(|l| l.starts_with("ada\t") && l.ends_with("\tsuspended")),
        "{list}"
    );
    tokio::task::block_in_place(|| cli(s, &["user", "unsuspend", "ada"], None));
    assert_eq!(me(s, &ada).await, ok());

    let ws = WsClient::connect(s, &bob).await;
    tokio::task::block_in_place(|| cli(s, &["user", "password", "bob"], Some("from-stdin-42\n")));
    assert_eq!(ws.closed_by_server().await, closed("token_revoked"));
    assert_eq!(
        me(s, &bob).await,
        (StatusCode::UNAUTHORIZED, "token_revoked".to_owned())
    );
    token_of(&login(s, "bob", "from-stdin-42").await);
}

async fn group_admins_cannot_delete_the_owners_messages(s: &TestServer) {
    let (owner_token, _) = s.register("owner").await;
    let (admin, _) = s.register("boss").await;
    let (member, _) = s.register("cy").await;
    let mut owner = WsClient::connect(s, &owner_token).await;
    let mut admin = WsClient::connect(s, &admin).await;
    let mut member = WsClient::connect(s, &member).await;
    let group = owner
        .ok(
            "conversation.create",
            json!({"kind": "group", "name": "Rules", "members": ["boss", "cy"]}),
        )
        .await;
    let gid = group["id"].clone();
    owner
        .ok(
            "conversation.members.rights",
            json!({"conversation": gid, "user": "boss", "rights": "admin"}),
        )
        .await;
    let say = |body: &str| json!({"conversation": gid, "body": body});
    let owners = owner.ok("message.send", say("owner speaks")).await;
    let admins = admin.ok("message.send", say("admin speaks")).await;
    let members = member.ok("message.send", say("member speaks")).await;

    admin
        .err(
            "message.delete",
            json!({"message": owners["id"]}),
            "forbidden",
        )
        .await;
    member
        .err(
            "message.delete",
            json!({"message": admins["id"]}),
            "forbidden",
        )
        .await;
    let gone = admin
        .ok("message.delete", json!({"message": members["id"]}))
        .await;
    assert_eq!(gone["deleted"], true);
    let gone = owner
        .ok("message.delete", json!({"message": admins["id"]}))
        .await;
    assert_eq!(gone["deleted"], true);
    let path = format!("/api/v1/conversations/{}/messages", gid.as_str().unwrap());
    let history = s.get(&path, &owner_token).await;
    let kept = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == owners["id"])
        .cloned()
        .unwrap();
    assert_eq!(kept["deleted"], false, "the owner's message stays");
}

/// `share_presence_remote` (issue 17) is on by default, changed with
/// `PATCH /api/v1/account/settings`, kept, and checked like every body.
async fn presence_sharing_is_a_setting_of_ones_own_account(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let path = "/api/v1/account/settings";
    let r = s.get(path, &ada).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({"share_presence_remote": true, "share_read_receipts": true})
    );
    let patch = |body: Value| s.call(Method::PATCH, path, Some(body), Some(&ada));
    let r = patch(json!({"share_presence_remote": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({"share_presence_remote": false, "share_read_receipts": true})
    );
    assert_eq!(s.get(path, &ada).await.body["share_presence_remote"], false);
    // An empty change changes nothing.
    let r = patch(json!({})).await;
    assert_eq!(
        r.body,
        json!({"share_presence_remote": false, "share_read_receipts": true})
    );
    // Bad input is a precise 422.
    let r = patch(json!({"share_presence_remote": "no"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.code(), "invalid");
    let r = patch(json!({"share_presence": false})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    // Without a token: 401.
    let r = s.call(Method::GET, path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Another user's setting is their own.
    let (bob, _) = s.register("bob").await;
    assert_eq!(s.get(path, &bob).await.body["share_presence_remote"], true);
}
