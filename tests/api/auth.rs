//! Sign-up, login, and tokens of the external auth service.

use crate::backend_tests;
use crate::common::{Backend, TestServer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(register_and_login, deleted_account_token_is_refused);

async fn register_and_login(s: &TestServer) {
    let (_, first_id) = s.register("ada").await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"name": "bob", "password": "password-123", "display_name": "Bob"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.body["user"]["role"], "user",
        "only the first account is admin"
    );
    assert_eq!(r.body["user"]["display_name"], "Bob");
    assert_eq!(r.body["token_type"], "Bearer");

    let me = s
        .get("/api/v1/users/me", r.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["name"], "bob");

    let login = |name: &str, password: &str| {
        s.call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": name, "password": password})),
            None,
        )
    };
    let ok = login("ADA", "password-123").await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "login is case-insensitive on the name"
    );
    assert_eq!(ok.body["user"]["id"], first_id.as_str());
    assert_eq!(ok.body["user"]["role"], "admin");
    let token = ok.body["access_token"].as_str().unwrap();
    assert_eq!(
        s.get("/api/v1/users/me", token).await.body["id"],
        first_id.as_str()
    );

    let wrong = login("ada", "password-124").await;
    let unknown = login("nobody", "password-123").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown name and a wrong password look the same"
    );

    let dup = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"name": "Ada", "password": "password-123"})),
            None,
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "conflict");

    for (body, field) in [
        (
            json!({"name": "has space", "password": "password-123"}),
            "name",
        ),
        (
            json!({"name": "x".repeat(33), "password": "password-123"}),
            "name",
        ),
        (json!({"name": "me", "password": "password-123"}), "name"),
        (json!({"name": "carol", "password": "short"}), "password"),
        (
            json!({"name": "carol", "password": "password-123", "display_name": "a\u{0}b"}),
            "display_name",
        ),
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/auth/register",
                Some(body.clone()),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.code(), "invalid");
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

async fn deleted_account_token_is_refused(s: &TestServer) {
    let (_, _) = s.register("admin").await;
    let (token, _) = s.register("leaver").await;
    let del = s
        .call(Method::DELETE, "/api/v1/users/me", None, Some(&token))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let after = s.get("/api/v1/users/me", &token).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "unauthenticated");
}

const ISSUER: &str = "https://auth.example";

fn hs256(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"shared-secret"),
    )
    .unwrap()
}

fn claims(sub: &str, extra: Value) -> Value {
    let mut c = json!({
        "iss": ISSUER,
        "aud": "confab-chat",
        "sub": sub,
        "exp": chrono::Utc::now().timestamp() + 600,
    });
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

const EXTERNAL_HS256: &[&str] = &[
    "--auth-jwt-algorithm",
    "HS256",
    "--auth-jwt-key",
    "shared-secret",
    "--auth-jwt-issuer",
    ISSUER,
    "--auth-jwt-audience",
    "confab-chat",
];

/// The external-auth tests need their own server configuration.
mod external {
    use super::*;

    async fn with_external(backend: Backend, args: &[&str], test: impl AsyncFnOnce(&TestServer)) {
        if let Some(s) = TestServer::start(backend, args).await {
            test(&s).await;
            s.stop().await;
        }
    }

    async fn first_token_creates_the_user(s: &TestServer) {
        let token = hs256(claims(
            "sub-42",
            json!({"preferred_username": "grace", "name": "Grace H."}),
        ));
        let me = s.get("/api/v1/users/me", &token).await;
        assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
        assert_eq!(me.body["name"], "grace");
        assert_eq!(me.body["display_name"], "Grace H.");
        let again = s
            .get(
                "/api/v1/users/me",
                &hs256(claims("sub-42", json!({"preferred_username": "grace"}))),
            )
            .await;
        assert_eq!(
            again.body["id"], me.body["id"],
            "the same subject is the same user"
        );

        let expired = {
            let mut c = claims("sub-42", json!({}));
            c["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
            hs256(c)
        };
        let r = s.get("/api/v1/users/me", &expired).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "token_expired")
        );

        let mut wrong_aud = claims("sub-42", json!({}));
        wrong_aud["aud"] = json!("someone-else");
        let r = s.get("/api/v1/users/me", &hs256(wrong_aud)).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "invalid_token")
        );

        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("sub-42", json!({})),
            &EncodingKey::from_secret(b"guessed"),
        )
        .unwrap();
        assert_eq!(
            s.get("/api/v1/users/me", &forged).await.status,
            StatusCode::UNAUTHORIZED
        );

        let taken = s
            .get(
                "/api/v1/users/me",
                &hs256(claims("sub-43", json!({"preferred_username": "GRACE"}))),
            )
            .await;
        assert_eq!(
            taken.status,
            StatusCode::CONFLICT,
            "another subject cannot take the name"
        );

        let nameless = s
            .get(
                "/api/v1/users/me",
                &hs256(claims("not a valid name!", json!({}))),
            )
            .await;
        assert_eq!(nameless.status, StatusCode::UNAUTHORIZED);

        // A plain external user may not create accounts; a service may.
        let new_user = json!({"name": "made-by-service", "password": "password-123"});
        let r = s
            .call(
                Method::POST,
                "/api/v1/users",
                Some(new_user.clone()),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let service = hs256(claims("billing-service", json!({"confab_role": "service"})));
        let r = s
            .call(
                Method::POST,
                "/api/v1/users",
                Some(new_user),
                Some(&service),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(
            s.get("/api/v1/users/me", &service).await.status,
            StatusCode::NOT_FOUND
        );

        let admin = hs256(claims(
            "sub-99",
            json!({"preferred_username": "boss", "confab_role": "admin"}),
        ));
        assert_eq!(
            s.get("/api/v1/users/me", &admin).await.body["role"],
            "admin"
        );

        let moderator = hs256(claims(
            "sub-97",
            json!({"preferred_username": "warden", "confab_role": "moderator"}),
        ));
        assert_eq!(
            s.get("/api/v1/users/me", &moderator).await.body["role"],
            "moderator"
        );

        let bad_role = hs256(claims(
            "sub-98",
            json!({"preferred_username": "x", "confab_role": "root"}),
        ));
        assert_eq!(
            s.get("/api/v1/users/me", &bad_role).await.status,
            StatusCode::UNAUTHORIZED
        );

        // The external service manages its accounts' passwords and tokens.
        for (path, body) in [
            (
                "/api/v1/account/password",
                Some(json!({"old_password": "whatever-1", "new_password": "whatever-2"})),
            ),
            ("/api/v1/account/sessions/revoke", None),
        ] {
            let r = s.call(Method::POST, path, body, Some(&admin)).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, "external_account"),
                "{path}"
            );
        }

        // Confab's own tokens keep working beside the external ones.
        let (own, _) = s.register("local-user").await;
        assert_eq!(
            s.get("/api/v1/users/me", &own).await.body["name"],
            "local-user"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hs256_sqlite() {
        with_external(
            Backend::Sqlite,
            EXTERNAL_HS256,
            first_token_creates_the_user,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hs256_postgres() {
        with_external(
            Backend::Postgres,
            EXTERNAL_HS256,
            first_token_creates_the_user,
        )
        .await;
    }

    async fn public_key_tokens(backend: Backend, algorithm: Algorithm, name: &str) {
        let dir = env!("CARGO_MANIFEST_DIR");
        let public = format!("@{dir}/tests/fixtures/{name}-public.pem");
        let private = std::fs::read(format!("{dir}/tests/fixtures/{name}-private.pem")).unwrap();
        let key = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&private).unwrap(),
            _ => EncodingKey::from_ed_pem(&private).unwrap(),
        };
        let alg_name = if algorithm == Algorithm::RS256 {
            "RS256"
        } else {
            "EdDSA"
        };
        let args = [
            "--auth-jwt-algorithm",
            alg_name,
            "--auth-jwt-key",
            &public,
            "--auth-jwt-issuer",
            ISSUER,
        ];
        with_external(backend, &args, async |s: &TestServer| {
            let token = jsonwebtoken::encode(
                &Header::new(algorithm),
                &claims("pk-user", json!({"preferred_username": "keyed"})),
                &key,
            )
            .unwrap();
            let me = s.get("/api/v1/users/me", &token).await;
            assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
            assert_eq!(me.body["name"], "keyed");
            // An HS256 token "signed" with the public key must not pass.
            let confused = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims("pk-user", json!({})),
                &EncodingKey::from_secret(public.as_bytes()),
            )
            .unwrap();
            assert_eq!(
                s.get("/api/v1/users/me", &confused).await.status,
                StatusCode::UNAUTHORIZED
            );
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rs256_sqlite() {
        public_key_tokens(Backend::Sqlite, Algorithm::RS256, "rs256").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn eddsa_postgres() {
        public_key_tokens(Backend::Postgres, Algorithm::EdDSA, "eddsa").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_can_be_closed() {
        with_external(
            Backend::Sqlite,
            &["--registration-open", "false"],
            async |s: &TestServer| {
                let r = s
                    .call(
                        Method::POST,
                        "/api/v1/auth/register",
                        Some(json!({"name": "ada", "password": "password-123"})),
                        None,
                    )
                    .await;
                assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
            },
        )
        .await;
    }
}
