//! Media over a real server: uploads (type from content, size limit,
//! quota), images (orientation, metadata stripped, thumbnail, blurhash),
//! who may fetch what (signed links, bearer tokens), ranges, the response
//! headers, orphan sweeping; on the local store on both backends, and on a
//! real S3-compatible server (`scripts/s3-server.sh`).

use crate::backend_tests;
use crate::common::{person, with_server, Backend, Reply, TestServer};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use reqwest::header::{
    CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RANGE,
    X_CONTENT_TYPE_OPTIONS,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use serde_json::Value;

backend_tests!(
    images_are_upright_stripped_and_thumbnailed,
    types_come_from_content_and_unsafe_types_download,
    only_uploader_members_and_links_fetch,
    ranges_are_served,
    uploads_past_the_limit_are_413: &["--max-upload-bytes", "20000"],
    uploads_past_the_quota_are_refused: &["--media-quota-bytes", "30000"],
    orphans_are_swept: &["--media-orphan-ttl-s", "1"],
    messages_carry_attachments,
    attachments_show_in_every_view,
);

/// A JPEG of `w`x`h` with an EXIF block saying "rotate 90° clockwise"
/// (orientation 6) and a marker where GPS data would be.
pub fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 3 % 256) as u8, (y % 256) as u8, 90]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&img)
        .unwrap();
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(b"GPS-SECRET-48.8584N");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Uploads `bytes` as `token` with the given client-side type.
pub async fn upload(s: &TestServer, token: &str, bytes: Vec<u8>, claimed: &str) -> Reply {
    s.raw(
        s.request(Method::POST, "/api/v1/media")
            .bearer_auth(token)
            .header(CONTENT_TYPE, claimed)
            .body(bytes),
    )
    .await
}

/// The path and query of a signed link (links name the public domain).
pub fn local(link: &Value) -> String {
    let link = link.as_str().unwrap();
    let at = link.find("/media/").unwrap();
    link[at..].to_owned()
}

/// GETs `path` (optionally with a token and headers); status, headers, body.
pub async fn fetch(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    range: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = s.request(Method::GET, path);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(range) = range {
        req = req.header(RANGE, range);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn h(headers: &reqwest::header::HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub async fn images_are_upright_stripped_and_thumbnailed(s: &TestServer) {
    let (token, _) = s.register("ada").await;
    let r = upload(
        s,
        &token,
        jpeg_with_exif(120, 60),
        "application/octet-stream",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let item = r.body;
    assert_eq!(item["kind"], "image");
    assert_eq!(item["content_type"], "image/jpeg");
    // Orientation 6: the stored image is turned upright.
    assert_eq!(
        (item["width"].as_i64(), item["height"].as_i64()),
        (Some(60), Some(120))
    );
    assert_eq!(item["blurhash"].as_str().unwrap().len(), 28);

    let (status, headers, body) = fetch(s, &local(&item["url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&headers, CONTENT_TYPE), "image/jpeg");
    assert_eq!(h(&headers, X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        h(&headers, CONTENT_SECURITY_POLICY),
        "default-src 'none'; sandbox"
    );
    assert!(h(&headers, CONTENT_DISPOSITION).starts_with("inline"));
    assert_eq!(body.len() as i64, item["size_bytes"].as_i64().unwrap());
    assert!(
        !body.windows(10).any(|w| w == b"GPS-SECRET"),
        "EXIF survived"
    );
    let stored = image::load_from_memory(&body).unwrap();
    assert_eq!((stored.width(), stored.height()), (60, 120));

    let (status, headers, thumb) = fetch(s, &local(&item["thumbnail_url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&headers, CONTENT_TYPE), "image/jpeg");
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert!(thumb.width() <= 400 && thumb.height() <= 400);

    // A file that claims to be an image but does not decode is refused.
    let mut broken = jpeg_with_exif(40, 40);
    broken.truncate(200);
    let r = upload(s, &token, broken, "image/jpeg").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
}

pub async fn types_come_from_content_and_unsafe_types_download(s: &TestServer) {
    let (token, _) = s.register("ada").await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    let r = upload(s, &token, html, "image/png").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["kind"], "file");
    assert_ne!(r.body["content_type"], "image/png");
    assert!(r.body.get("thumbnail_url").is_none());
    let (status, headers, _) = fetch(s, &local(&r.body["url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h(&headers, CONTENT_DISPOSITION).starts_with("attachment"));
    assert_eq!(h(&headers, X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        h(&headers, CONTENT_SECURITY_POLICY),
        "default-src 'none'; sandbox"
    );

    let r = upload(s, &token, b"%PDF-1.7\n%%EOF\n".to_vec(), "text/plain").await;
    assert_eq!(
        (r.body["kind"].as_str(), r.body["content_type"].as_str()),
        (Some("file"), Some("application/pdf"))
    );
    let (_, headers, _) = fetch(s, &local(&r.body["url"]), None, None).await;
    assert!(h(&headers, CONTENT_DISPOSITION).starts_with("attachment"));

    let r = upload(s, &token, vec![], "text/plain").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .raw(s.request(Method::POST, "/api/v1/media").body(vec![1, 2, 3]))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

pub async fn only_uploader_members_and_links_fetch(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    let r = upload(s, &ada, b"just some bytes".to_vec(), "text/plain").await;
    let item = r.body;
    let id = item["id"].as_str().unwrap();
    let bare = format!("/media/{id}");
    assert_eq!(fetch(s, &bare, Some(&ada), None).await.0, StatusCode::OK);
    // Not in any conversation with it: as if it did not exist.
    assert_eq!(
        fetch(s, &bare, Some(&bob), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(s, &bare, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A link works for anyone; a forged or retargeted one for no one.
    let link = local(&item["url"]);
    assert_eq!(fetch(s, &link, None, None).await.0, StatusCode::OK);
    let forged = format!("{}x", &link[..link.len() - 1]);
    assert_eq!(fetch(s, &forged, None, None).await.0, StatusCode::FORBIDDEN);
    let later = link.replace("exp=", "exp=9");
    assert_eq!(fetch(s, &later, None, None).await.0, StatusCode::FORBIDDEN);
    let thumb = link.replacen(&bare, &format!("{bare}/thumbnail"), 1);
    assert_eq!(fetch(s, &thumb, None, None).await.0, StatusCode::FORBIDDEN);
    let unknown = format!("/media/{}", uuid::Uuid::new_v4());
    assert_eq!(
        fetch(s, &unknown, Some(&ada), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(s, "/media/not-an-id", Some(&ada), None).await.0,
        StatusCode::NOT_FOUND
    );
}

pub async fn ranges_are_served(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let r = upload(s, &ada, data.clone(), "application/octet-stream").await;
    assert_eq!(r.body["size_bytes"], 3000);
    let link = local(&r.body["url"]);
    let (status, headers, body) = fetch(s, &link, None, Some("bytes=100-199")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h(&headers, CONTENT_RANGE), "bytes 100-199/3000");
    assert_eq!(body, data[100..200]);
    let (status, _, body) = fetch(s, &link, None, Some("bytes=-10")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, data[2990..]);
    let (status, _, _) = fetch(s, &link, None, Some("bytes=5000-")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    let (status, _, body) = fetch(s, &link, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, data);
}

pub async fn uploads_past_the_limit_are_413(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let r = upload(s, &ada, vec![7u8; 20_001], "application/octet-stream").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(r.code(), "payload_too_large");
    // Without a Content-Length (chunked), the stream is cut at the limit.
    let r = chunked_upload(s, &ada, 30, 1000).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    assert!(r.contains("payload_too_large"), "{r}");
    let r = upload(s, &ada, vec![7u8; 20_000], "application/octet-stream").await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// Sends `chunks` chunks of `size` bytes with `Transfer-Encoding: chunked`
/// over a raw socket; the response head and body as text.
async fn chunked_upload(s: &TestServer, token: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let chunk = format!("{size:x}\r\n{}\r\n", "a".repeat(size));
        // The server may answer and close before the last chunk.
        if socket.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = socket.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn uploads_past_the_quota_are_refused(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let (bob, _) = s.register("bob").await;
    assert_eq!(
        upload(s, &ada, vec![1u8; 20_000], "x/y").await.status,
        StatusCode::CREATED
    );
    let r = upload(s, &ada, vec![1u8; 20_000], "x/y").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "limit_reached");
    assert_eq!(
        upload(s, &ada, vec![1u8; 9_000], "x/y").await.status,
        StatusCode::CREATED
    );
    // Each user has their own quota.
    assert_eq!(
        upload(s, &bob, vec![1u8; 20_000], "x/y").await.status,
        StatusCode::CREATED
    );
}

pub async fn orphans_are_swept(s: &TestServer) {
    let (ada, _) = s.register("ada").await;
    let r = upload(s, &ada, b"never sent".to_vec(), "text/plain").await;
    let link = local(&r.body["url"]);
    assert_eq!(s.state.chat.sweep_orphan_media().await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(s.state.chat.sweep_orphan_media().await.unwrap(), 1);
    assert_eq!(fetch(s, &link, None, None).await.0, StatusCode::NOT_FOUND);
}

/// The S3 server of `scripts/s3-server.sh`, when it answers (in CI it must).
async fn s3_endpoint() -> Option<String> {
    let endpoint = std::env::var("CONFAB_TEST_S3_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:9000".to_owned());
    let up = reqwest::get(format!("{endpoint}/")).await.is_ok();
    match (up, std::env::var("CI").is_ok()) {
        (true, _) => Some(endpoint),
        (false, true) => panic!("no S3 server at {endpoint}: run scripts/s3-server.sh"),
        (false, false) => {
            eprintln!("SKIPPED: no S3 server at {endpoint} (scripts/s3-server.sh starts one)");
            None
        }
    }
}

/// The upload and serving tests again, with media in a real S3 bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3() {
    let Some(endpoint) = s3_endpoint().await else {
        return;
    };
    let prefix = format!("s3://confab-test/run-{}", uuid::Uuid::new_v4());
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let args = [
            "--media-url",
            &prefix,
            "--media-s3-endpoint",
            &endpoint,
            "--media-s3-access-key-id",
            "test",
            "--media-s3-secret-access-key",
            "test",
        ];
        with_server(backend, &args, async |s| {
            images_are_upright_stripped_and_thumbnailed(s).await;
        })
        .await;
        with_server(backend, &args, async |s| ranges_are_served(s).await).await;
        with_server(backend, &args, async |s| {
            only_uploader_members_and_links_fetch(s).await
        })
        .await;
    }
    // A file past the multipart part size streams in several parts.
    let args = [
        "--media-url",
        &prefix,
        "--media-s3-endpoint",
        &endpoint,
        "--media-s3-access-key-id",
        "test",
        "--media-s3-secret-access-key",
        "test",
        "--max-upload-bytes",
        "20000000",
    ];
    with_server(Backend::Sqlite, &args, async |s| {
        let (ada, _) = s.register("ada").await;
        let data: Vec<u8> = (0..12_000_000u32).map(|i| (i % 253) as u8).collect();
        let r = upload(s, &ada, data.clone(), "application/octet-stream").await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let link = local(&r.body["url"]);
        let (status, _, body) = fetch(s, &link, None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == data, "the multipart object differs");
        let (_, _, tail) = fetch(s, &link, None, Some("bytes=11999990-")).await;
        assert_eq!(tail, data[11_999_990..]);
    })
    .await;
}

async fn messages_carry_attachments(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let (cy, _) = s.register("cy").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Pics", "members": [bob.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let photo = upload(s, &ada.token, jpeg_with_exif(40, 20), "image/jpeg")
        .await
        .body;
    let file = upload(s, &ada.token, b"%PDF-1.7\n".to_vec(), "x/y")
        .await
        .body;
    let (pid, fid) = (photo["id"].as_str().unwrap(), file["id"].as_str().unwrap());
    let sent = ada
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "", "attachments": [
                {"media": pid, "alt_text": "a red square"}, fid]}),
        )
        .await;
    let attachments = sent["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["alt_text"], "a red square");
    assert_eq!(
        (
            attachments[0]["width"].as_i64(),
            attachments[1]["kind"].as_str()
        ),
        (Some(20), Some("file"))
    );
    let mid = sent["id"].as_str().unwrap().to_owned();
    let pushed = bob
        .ws
        .push_where("message.created", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(pushed["attachments"][0]["id"], pid);
    let history = s
        .get(&format!("/api/v1/conversations/{gid}/messages"), &bob.token)
        .await;
    let last = history.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["attachments"][1]["id"], fid);
    assert_eq!(last["attachments"][0]["alt_text"], "a red square");

    // Members fetch with their token; others cannot.
    let bare = format!("/media/{pid}");
    assert_eq!(
        fetch(s, &bare, Some(&bob.token), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        fetch(s, &bare, Some(&cy), None).await.0,
        StatusCode::NOT_FOUND
    );

    // An upload goes in one message, only its uploader's.
    let again = json!({"conversation": gid, "body": "again", "attachments": [pid]});
    ada.ws.err("message.send", again, "conflict").await;
    let own = upload(s, &ada.token, b"mine".to_vec(), "x/y").await.body;
    let theirs = json!({"conversation": gid, "body": "x", "attachments": [own["id"]]});
    bob.ws.err("message.send", theirs, "not_found").await;
    let eleven: Vec<Value> = (0..11).map(|_| own["id"].clone()).collect();
    let many = json!({"conversation": gid, "body": "x", "attachments": eleven});
    ada.ws.err("message.send", many, "invalid").await;
    let empty = json!({"conversation": gid, "body": "", "attachments": []});
    ada.ws.err("message.send", empty, "invalid").await;

    // Deleting the message deletes its media.
    let link = local(&attachments[0]["url"]);
    assert_eq!(fetch(s, &link, None, None).await.0, StatusCode::OK);
    ada.ws.ok("message.delete", json!({"message": mid})).await;
    assert_eq!(fetch(s, &link, None, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(s, &bare, Some(&ada.token), None).await.0,
        StatusCode::NOT_FOUND
    );
}

/// A message's attachments with their signed links cut to the path (the
/// expiry in the query moves with the second the links were made in).
fn unsigned_attachments(message: &Value) -> Value {
    let mut attachments = message["attachments"].clone();
    for item in attachments.as_array_mut().unwrap() {
        for key in ["url", "thumbnail_url"] {
            if let Some(link) = item[key].as_str() {
                item[key] = json!(local(&json!(link)).split('?').next().unwrap());
            }
        }
    }
    attachments
}

async fn attachments_show_in_every_view(s: &TestServer) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Trip", "members": [bob.id]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let photo = upload(s, &ada.token, jpeg_with_exif(40, 20), "image/jpeg").await;
    let file = upload(s, &ada.token, b"%PDF-1.7\n".to_vec(), "x/y").await;
    let sent = ada
        .ws
        .ok(
            "message.send",
            json!({"conversation": gid, "body": "holiday snapshot", "attachments": [
                {"media": photo.body["id"], "alt_text": "the beach"}, file.body["id"]]}),
        )
        .await;
    let mid = sent["id"].as_str().unwrap().to_owned();
    let expected = unsigned_attachments(&sent);
    assert_eq!(expected.as_array().unwrap().len(), 2);
    assert!(expected[0]["thumbnail_url"].is_string());

    // An edit keeps them: in its answer and in the push.
    let edited = ada
        .ws
        .ok(
            "message.edit",
            json!({"message": mid, "body": "holiday snapshots"}),
        )
        .await;
    assert_eq!(unsigned_attachments(&edited), expected);
    let updated = bob
        .ws
        .push_where("message.updated", |m| m["id"] == mid.as_str())
        .await;
    assert_eq!(updated["body"], "holiday snapshots");
    assert_eq!(unsigned_attachments(&updated), expected);

    // Pinned: in the answer, the push, the request and over REST.
    let pinned = ada.ws.ok("message.pin", json!({"message": mid})).await;
    assert_eq!(
        unsigned_attachments(&pinned["pins"][0]["message"]),
        expected
    );
    let pushed = bob.ws.push("conversation.pins").await;
    assert_eq!(
        unsigned_attachments(&pushed["pins"][0]["message"]),
        expected
    );
    let listed = bob
        .ws
        .ok("conversation.pins", json!({"conversation": gid}))
        .await;
    assert_eq!(
        unsigned_attachments(&listed["pins"][0]["message"]),
        expected
    );
    let rest = s
        .get(&format!("/api/v1/conversations/{gid}/pins"), &bob.token)
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    assert_eq!(
        unsigned_attachments(&rest.body["pins"][0]["message"]),
        expected
    );

    // Found by search, over REST and the WebSocket.
    let found = s.get("/api/v1/search?q=snapshots", &bob.token).await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    let hit = &found.body["results"][0]["message"];
    assert_eq!(hit["id"], mid.as_str());
    assert_eq!(unsigned_attachments(hit), expected);
    let found = bob.ws.ok("message.search", json!({"q": "snapshots"})).await;
    assert_eq!(
        unsigned_attachments(&found["results"][0]["message"]),
        expected
    );
    // Their signed links open without a token.
    for link in [
        &hit["attachments"][0]["url"],
        &hit["attachments"][0]["thumbnail_url"],
    ] {
        assert_eq!(fetch(s, &local(link), None, None).await.0, StatusCode::OK);
    }
}
