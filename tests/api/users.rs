//! The users resource: listing, search, creation, profile changes, deletion,
//! and who may do which.

use crate::backend_tests;
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    list_pages_and_prefix_search,
    only_admins_create_users,
    find_by_id_name_or_me,
    profile_put_patch_and_rights,
    profile_validation,
    delete_rights,
    trailing_slashes_are_the_same_endpoint,
);

async fn create(s: &TestServer, admin: &str, name: &str) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": name})),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn list_pages_and_prefix_search(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    for name in ["Alice", "alfred", "al_x", "alyx", "bob", "carol"] {
        create(s, &admin, name).await;
    }
    // Page through everything two at a time: sorted case-insensitively, no
    // repeats, no gaps.
    let mut seen = vec![];
    let mut after = String::new();
    loop {
        let r = s
            .get(&format!("/api/v1/users?limit=2&after={after}"), &admin)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let users = r.body["users"].as_array().unwrap();
        assert!(users.len() <= 2);
        seen.extend(users.iter().map(|u| u["name"].as_str().unwrap().to_owned()));
        match r.body["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["admin", "al_x", "alfred", "Alice", "alyx", "bob", "carol"]
    );

    let names = |r: &crate::common::Reply| -> Vec<String> {
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&s.get("/api/v1/users?q=AL", &admin).await),
        ["al_x", "alfred", "Alice", "alyx"]
    );
    // `_` is a literal, not a LIKE wildcard.
    assert_eq!(names(&s.get("/api/v1/users?q=al_", &admin).await), ["al_x"]);
    assert_eq!(
        names(&s.get("/api/v1/users?q=al%25", &admin).await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&s.get("/api/v1/users?q=zz", &admin).await),
        Vec::<String>::new()
    );
    assert!(s.get("/api/v1/users?q=a", &admin).await.body["next"].is_null());
}

async fn only_admins_create_users(s: &TestServer) {
    let (admin, _) = s.register("root").await;
    let (user, _) = s.register("pleb").await;
    let body = json!({"name": "newbie", "password": "password-123", "display_name": "New", "bio": "hi\nthere",
                      "avatar_url": "https://img.example/a.png", "profile_links": [{"name": "site", "url": "https://newbie.example"}]});
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(body.clone()),
            Some(&user),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let r = s
        .call(Method::POST, "/api/v1/users", Some(body.clone()), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(body.clone()),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["bio"], "hi\nthere");
    assert_eq!(r.body["profile_links"][0]["url"], "https://newbie.example/");
    assert_eq!(r.body["role"], "user");
    let r = s
        .call(Method::POST, "/api/v1/users", Some(body), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The created account can log in with its password.
    let login = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": "newbie", "password": "password-123"})),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "boss2", "role": "admin"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["role"], "admin");
}

async fn find_by_id_name_or_me(s: &TestServer) {
    let (token, id) = s.register("Finder").await;
    for key in [id.as_str(), "finder", "FINDER", "me"] {
        let r = s.get(&format!("/api/v1/users/{key}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{key}");
        assert_eq!(r.body["id"], id.as_str());
        assert!(r.body.get("password_hash").is_none());
    }
    for key in [
        "nobody",
        "01234567-89ab-7def-8123-456789abcdef",
        "not%20a%20name",
        "%00",
    ] {
        let r = s.get(&format!("/api/v1/users/{key}"), &token).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{key}"
        );
    }
    assert_eq!(
        s.call(Method::GET, "/api/v1/users/finder", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn profile_put_patch_and_rights(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let (ada, ada_id) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;

    let put = json!({"display_name": "Ada L.", "bio": "Engines.", "avatar_url": "https://img.example/ada.png",
                     "profile_links": [{"name": "Home", "url": "https://ada.example"}]});
    let r = s
        .call(
            Method::PUT,
            "/api/v1/users/ada",
            Some(put.clone()),
            Some(&ada),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Ada L.");
    assert_eq!(r.body["avatar_url"], "https://img.example/ada.png");
    let time = |k: &str| {
        r.body[k]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert!(time("updated_at") > time("created_at"));

    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/ada",
            Some(json!({"bio": "Notes."})),
            Some(&ada),
        )
        .await;
    assert_eq!(r.body["bio"], "Notes.");
    assert_eq!(
        r.body["display_name"], "Ada L.",
        "PATCH leaves other fields alone"
    );
    assert_eq!(r.body["avatar_url"], "https://img.example/ada.png");
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"avatar_url": null})),
            Some(&ada),
        )
        .await;
    assert!(r.body["avatar_url"].is_null(), "null clears the avatar");
    assert_eq!(r.body["profile_links"][0]["name"], "Home");

    // PUT replaces everything: omitted fields become empty.
    let r = s
        .call(
            Method::PUT,
            "/api/v1/users/ada",
            Some(json!({"display_name": "A"})),
            Some(&ada),
        )
        .await;
    assert_eq!(r.body["bio"], "");
    assert_eq!(r.body["profile_links"], json!([]));

    // Others may not change it; an admin may.
    for method in [Method::PUT, Method::PATCH] {
        let r = s
            .call(
                method,
                "/api/v1/users/ada",
                Some(json!({"display_name": "pwned"})),
                Some(&bob),
            )
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    }
    let r = s
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{ada_id}"),
            Some(json!({"display_name": "By admin"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["display_name"], "By admin");
    assert_eq!(
        s.get("/api/v1/users/ada", &bob).await.body["display_name"],
        "By admin"
    );

    // Roles: only admins.
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"role": "admin"})),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/bob",
            Some(json!({"role": "admin"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["role"], "admin");
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/ada",
            Some(json!({"display_name": "Bob was here"})),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a new admin may edit others");

    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/nobody",
            Some(json!({"bio": "x"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn profile_validation(s: &TestServer) {
    let (token, _) = s.register("val").await;
    let too_many: Vec<_> = (0..9)
        .map(|i| json!({"name": format!("l{i}"), "url": "https://x.example"}))
        .collect();
    for (body, field) in [
        (json!({"avatar_url": "javascript:alert(1)"}), "avatar_url"),
        (json!({"avatar_url": "not a url"}), "avatar_url"),
        (json!({"display_name": "x".repeat(65)}), "display_name"),
        (json!({"display_name": "line\nbreak"}), "display_name"),
        (json!({"bio": "é".repeat(1001)}), "bio"),
        (json!({"bio": "nul\u{0}"}), "bio"),
        (json!({"profile_links": too_many}), "profile_links"),
        (
            json!({"profile_links": [{"name": "", "url": "https://x.example"}]}),
            "profile_links.name",
        ),
        (
            json!({"profile_links": [{"name": "x", "url": "ftp://x.example"}]}),
            "profile_links.url",
        ),
    ] {
        for method in [Method::PATCH, Method::PUT] {
            let r = s
                .call(
                    method.clone(),
                    "/api/v1/users/me",
                    Some(body.clone()),
                    Some(&token),
                )
                .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
                "{method} {body}"
            );
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with(field),
                "{:?}",
                r.body
            );
        }
    }
    // Unknown fields and wrong types are refused, not ignored.
    for body in [
        json!({"displayname": "typo"}),
        json!({"name": "rename"}),
        json!({"bio": 5}),
        json!({"role": "king"}),
    ] {
        let r = s
            .call(
                Method::PATCH,
                "/api/v1/users/me",
                Some(body.clone()),
                Some(&token),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            "{body}"
        );
    }
    // Nothing changed.
    let me = s.get("/api/v1/users/me", &token).await;
    assert_eq!(me.body["display_name"], "");
    assert_eq!(me.body["bio"], "");
}

async fn delete_rights(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let (ada, _) = s.register("ada").await;
    let (bob, bob_id) = s.register("bob").await;
    let r = s
        .call(Method::DELETE, "/api/v1/users/bob", None, Some(&ada))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{bob_id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("/api/v1/users/bob", &ada).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/api/v1/users/me", &bob).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = s
        .call(Method::DELETE, "/api/v1/users/bob", None, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The name is free again.
    s.register("bob").await;
}

async fn trailing_slashes_are_the_same_endpoint(s: &TestServer) {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register/",
            Some(json!({"name": "slash", "password": "password-123"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/api/v1/users/", &token).await.status, StatusCode::OK);
    assert_eq!(
        s.get("/api/v1/users/slash/", &token).await.body["name"],
        "slash"
    );
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/me/",
            Some(json!({"bio": "ok"})),
            Some(&token),
        )
        .await;
    assert_eq!(r.body["bio"], "ok");
    // And without a body the answer is a clear 4xx either way.
    for path in ["/api/v1/users", "/api/v1/users/"] {
        let r = s
            .raw(s.request(Method::POST, path).bearer_auth(&token))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "{path}"
        );
    }
}
