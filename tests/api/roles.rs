//! The role matrix (docs/api.md, "Roles"): who may change roles, and that
//! the admin endpoints refuse moderators and users with 403.

use crate::backend_tests;
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    only_admins_change_roles,
    admin_endpoints_refuse_moderators_and_users,
);

async fn set_role(s: &TestServer, token: &str, user: &str, role: &str) -> crate::common::Reply {
    s.call(
        Method::PATCH,
        &format!("/api/v1/users/{user}"),
        Some(json!({"role": role})),
        Some(token),
    )
    .await
}

/// An admin (the first sign-up), a moderator and a user.
async fn three_roles(s: &TestServer) -> (String, String, String) {
    let (admin, _) = s.register("root").await;
    let (moderator, _) = s.register("mod").await;
    let (user, _) = s.register("plain").await;
    let r = set_role(s, &admin, "mod", "moderator").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["role"], "moderator");
    (admin, moderator, user)
}

async fn only_admins_change_roles(s: &TestServer) {
    let (admin, moderator, user) = three_roles(s).await;
    assert_eq!(
        s.get("/api/v1/users/me", &moderator).await.body["role"],
        "moderator"
    );
    // Neither a moderator nor a user may set a role, not even their own.
    for (token, target) in [
        (&moderator, "plain"),
        (&moderator, "me"),
        (&user, "plain"),
        (&user, "mod"),
    ] {
        for role in ["user", "moderator", "admin"] {
            let r = set_role(s, token, target, role).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{target} {role}: {:?}",
                r.body
            );
            assert_eq!(r.code(), "forbidden");
        }
    }
    assert_eq!(
        s.get("/api/v1/users/plain", &admin).await.body["role"],
        "user"
    );
    // An admin may set each of the three, spelled lowercase.
    for role in ["admin", "moderator", "user"] {
        let r = set_role(s, &admin, "plain", role).await;
        assert_eq!(r.status, StatusCode::OK, "{role}: {:?}", r.body);
        assert_eq!(r.body["role"], role);
        assert_eq!(s.get("/api/v1/users/plain", &user).await.body["role"], role);
    }
    for bad in ["Admin", "MODERATOR", "service", "root"] {
        let r = set_role(s, &admin, "plain", bad).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            r.body
        );
    }
    // A moderator manages only their own profile, like a user.
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/plain",
            Some(json!({"bio": "changed by a moderator"})),
            Some(&moderator),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/users/plain",
            None,
            Some(&moderator),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // Creating an account with a role is an admin's right too.
    let new = json!({"name": "helper", "role": "moderator"});
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(new.clone()),
            Some(&moderator),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = s
        .call(Method::POST, "/api/v1/users", Some(new), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["role"], "moderator");
}

/// Every admin endpoint with a body that an admin would get a success for.
fn admin_requests() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/admin/instance-blocks", None),
        (
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(json!({"domain": "spam.example"})),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/instance-blocks/spam.example",
            None,
        ),
        (Method::GET, "/api/v1/admin/federation/hosts", None),
        (Method::GET, "/api/v1/admin/invitations", None),
        (Method::POST, "/api/v1/admin/invitations", Some(json!({}))),
        (Method::GET, "/api/v1/admin/ip-rules", None),
        (
            Method::POST,
            "/api/v1/admin/ip-rules",
            Some(json!({"scope": "signup", "action": "deny", "cidr": "192.0.2.0/24"})),
        ),
    ]
}

async fn admin_endpoints_refuse_moderators_and_users(s: &TestServer) {
    let (admin, moderator, user) = three_roles(s).await;
    for (method, path, body) in admin_requests() {
        for (who, token) in [("moderator", &moderator), ("user", &user)] {
            let r = s
                .call(method.clone(), path, body.clone(), Some(token))
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{who}: {method} {path}: {:?}",
                r.body
            );
            assert_eq!(r.code(), "forbidden", "{who}: {method} {path}");
        }
        let r = s.call(method.clone(), path, body, Some(&admin)).await;
        assert!(
            r.status.is_success(),
            "admin: {method} {path}: {:?}",
            r.body
        );
    }
}
