//! Stickers over a real server, on both backends: admins make packs and
//! upload stickers (images only, size and side limits, unique shortcodes),
//! everyone lists them, and a sticker sent over the WebSocket reaches the
//! other members and history, and stays there once removed from its pack.

use crate::backend_tests;
use crate::common::{message_in, person, Reply, TestServer};
use crate::media::{fetch, local};
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgba, RgbaImage};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    admins_manage_packs_and_everyone_lists_them,
    uploads_are_small_images_with_unique_shortcodes,
    stickers_are_sent_to_members_and_kept: &["--media-orphan-ttl-s", "1"],
    pins_and_catch_up_carry_the_sticker,
);

/// A PNG of `side`x`side` pixels with transparency.
pub fn png(side: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(side, side, |x, y| {
        Rgba([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 200, 180])
    });
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(img.as_raw(), side, side, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// Makes a pack named `name` as `token`.
pub async fn make_pack(s: &TestServer, token: &str, name: &str) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/admin/sticker-packs",
        Some(json!({"name": name, "description": "hello"})),
        Some(token),
    )
    .await
}

/// Uploads `bytes` as sticker `shortcode` of `pack` as `token`.
pub async fn add_sticker(
    s: &TestServer,
    token: &str,
    pack: &Value,
    shortcode: &str,
    bytes: Vec<u8>,
) -> Reply {
    let pack = pack.as_str().unwrap();
    s.raw(
        s.request(
            Method::POST,
            &format!("/api/v1/admin/sticker-packs/{pack}/stickers?shortcode={shortcode}&emoji=%F0%9F%91%8B"),
        )
        .bearer_auth(token)
        .header(CONTENT_TYPE, "image/png")
        .body(bytes),
    )
    .await
}

async fn admins_manage_packs_and_everyone_lists_them(s: &TestServer) {
    let (admin, _) = s.register("root").await;
    let (user, _) = s.register("plain").await;

    let r = make_pack(s, &user, "Mine").await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let pack = make_pack(s, &admin, "Greetings").await;
    assert_eq!(pack.status, StatusCode::CREATED, "{:?}", pack.body);
    let pid = pack.body["id"].clone();
    let r = add_sticker(s, &user, &pid, "wave", png(64)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let wave = add_sticker(s, &admin, &pid, "wave", png(64)).await;
    assert_eq!(wave.status, StatusCode::CREATED, "{:?}", wave.body);
    assert_eq!(
        (
            &wave.body["shortcode"],
            &wave.body["emoji"],
            &wave.body["width"]
        ),
        (&json!("wave"), &json!("👋"), &json!(64))
    );

    // Every signed-in user lists the packs; the image opens by its link.
    let list = s.get("/api/v1/sticker-packs", &user).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body[0]["name"], "Greetings");
    assert_eq!(list.body[0]["stickers"][0]["id"], wave.body["id"]);
    let image = fetch(s, &local(&list.body[0]["stickers"][0]["url"]), None, None).await;
    assert_eq!(image.0, StatusCode::OK);
    assert_eq!(&image.2[1..4], b"PNG");
    let r = s
        .call(Method::GET, "/api/v1/sticker-packs", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Rename: admins only; unknown ids are 404.
    let path = format!("/api/v1/admin/sticker-packs/{}", pid.as_str().unwrap());
    let rename = json!({"name": "Hellos"});
    let r = s
        .call(Method::PUT, &path, Some(rename.clone()), Some(&user))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .call(Method::PUT, &path, Some(rename.clone()), Some(&admin))
        .await;
    assert_eq!(
        (r.status, &r.body["name"]),
        (StatusCode::OK, &json!("Hellos"))
    );
    assert_eq!(r.body["description"], Value::Null);
    let unknown = "/api/v1/admin/sticker-packs/00000000-0000-4000-8000-000000000000";
    let r = s
        .call(Method::PUT, unknown, Some(rename), Some(&admin))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/admin/stickers/nope",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Removing a sticker, then the pack, takes them off the list.
    let sticker = format!(
        "/api/v1/admin/stickers/{}",
        wave.body["id"].as_str().unwrap()
    );
    let r = s.call(Method::DELETE, &sticker, None, Some(&user)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.call(Method::DELETE, &sticker, None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s.call(Method::DELETE, &sticker, None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = s.get("/api/v1/sticker-packs", &user).await;
    assert_eq!(list.body[0]["stickers"], json!([]));
    let r = s.call(Method::DELETE, &path, None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/api/v1/sticker-packs", &user).await.body, json!([]));
    let r = add_sticker(s, &admin, &pid, "late", png(8)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

async fn uploads_are_small_images_with_unique_shortcodes(s: &TestServer) {
    let (admin, _) = s.register("root").await;
    let pid = make_pack(s, &admin, "Checks").await.body["id"].clone();

    // The type comes from the bytes, not from the header.
    let r = add_sticker(s, &admin, &pid, "pdf", b"%PDF-1.7\n".to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    let r = add_sticker(s, &admin, &pid, "big", vec![0x89; 600 * 1024]).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = add_sticker(s, &admin, &pid, "wide", png(513)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    let r = add_sticker(s, &admin, &pid, "bad code", png(8)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(
        add_sticker(s, &admin, &pid, "ok", png(512)).await.status,
        StatusCode::CREATED
    );
    let r = add_sticker(s, &admin, &pid, "ok", png(8)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    // Another pack may use the same shortcode.
    let other = make_pack(s, &admin, "Other").await.body["id"].clone();
    assert_eq!(
        add_sticker(s, &admin, &other, "ok", png(8)).await.status,
        StatusCode::CREATED
    );
    let list = s.get("/api/v1/sticker-packs", &admin).await.body;
    assert_eq!(list[0]["stickers"].as_array().unwrap().len(), 1);
}

async fn stickers_are_sent_to_members_and_kept(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let mut cy = person(s, "cy").await;
    let pid = make_pack(s, &ada.token, "Hi").await.body["id"].clone();
    let wave = add_sticker(s, &ada.token, &pid, "wave", png(32)).await.body;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Stickers", "members": [bob.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();

    let sent = bob
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "sticker": wave["id"]}),
        )
        .await;
    assert_eq!(
        (&sent["kind"], &sent["body"]),
        (&json!("sticker"), &json!(":wave:"))
    );
    assert_eq!(sent["sticker"]["id"], wave["id"]);
    let mid = sent["id"].as_str().unwrap().to_owned();
    let pushed = ada
        .ws
        .push_where("message.created", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(
        (
            &pushed["kind"],
            &pushed["sticker"]["shortcode"],
            &pushed["sticker"]["pack"]
        ),
        (&json!("sticker"), &json!("wave"), &pid)
    );
    assert_eq!(pushed["sticker"]["width"], 32);
    let image = fetch(s, &local(&pushed["sticker"]["url"]), None, None).await;
    assert_eq!(image.0, StatusCode::OK);

    // Not with a body; not unknown stickers; not outside the conversation.
    let with_body = json!({"conversation": gid, "sticker": wave["id"], "body": "hi"});
    bob.ws.err("message.send", with_body, "invalid").await;
    let unknown = json!({"conversation": gid, "sticker": "00000000-0000-4000-8000-000000000000"});
    bob.ws.err("message.send", unknown, "not_found").await;
    let outsider = json!({"conversation": gid, "sticker": wave["id"]});
    cy.ws.err("message.send", outsider, "not_found").await;

    // Removed from its pack, it stays in history and is not swept; it can
    // no longer be sent.
    let path = format!("/api/v1/admin/stickers/{}", wave["id"].as_str().unwrap());
    let r = s.call(Method::DELETE, &path, None, Some(&ada.token)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    s.state.chat.sweep_orphan_media().await.unwrap();
    let again = json!({"conversation": gid, "sticker": wave["id"]});
    bob.ws.err("message.send", again, "not_found").await;
    let history = s
        .get(&format!("/api/v1/conversations/{gid}/messages"), &ada.token)
        .await;
    let kept = message_in(&history.body, &mid);
    assert_eq!(kept["sticker"]["shortcode"], "wave");
    let image = fetch(s, &local(&kept["sticker"]["url"]), None, None).await;
    assert_eq!(image.0, StatusCode::OK);
    let list = s.get("/api/v1/conversations", &ada.token).await.body;
    assert_eq!(list[0]["last_message"]["sticker"]["id"], wave["id"]);
}

async fn pins_and_catch_up_carry_the_sticker(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let pid = make_pack(s, &ada.token, "Hi").await.body["id"].clone();
    let wave = add_sticker(s, &ada.token, &pid, "wave", png(16)).await.body;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Views", "members": [bob.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let before = ada
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "before"}),
        )
        .await;
    let sent = ada
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "sticker": wave["id"]}),
        )
        .await;
    let mid = sent["id"].as_str().unwrap();

    // Pinned.
    ada.ws.ok("message.pin", json!({"message": mid})).await;
    let pins = s
        .get(&format!("/api/v1/conversations/{gid}/pins"), &bob.token)
        .await
        .body;
    assert_eq!(pins["pins"][0]["message"]["sticker"]["shortcode"], "wave");

    // Catch-up after a reconnect.
    let sync = bob
        .ws
        .ok("message.sync", json!({"since": before["id"]}))
        .await;
    let caught = sync["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == mid)
        .unwrap()
        .clone();
    assert_eq!(caught["sticker"]["id"], wave["id"]);

    // A deleted sticker message shows no sticker.
    ada.ws.ok("message.delete", json!({"message": mid})).await;
    let history = s
        .get(&format!("/api/v1/conversations/{gid}/messages"), &bob.token)
        .await;
    let gone = message_in(&history.body, mid);
    assert_eq!(
        (&gone["deleted"], &gone["sticker"]),
        (&json!(true), &Value::Null)
    );
}
