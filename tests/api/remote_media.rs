//! Files of other servers' messages, as clients get them: a link to this
//! server (never the remote URL), the file fetched through the guarded
//! client on the first request, then cached in the media store
//! (`remote_media = cache`) or streamed through each time (`proxy`); too
//! large, failing or private-address files answer 502 `bad_gateway`, and
//! HTML claiming to be an image is served as a download with `nosniff`.
//! The remote host is a small HTTP server on 127.0.0.1 (the servers under
//! test allow private addresses, except where the guard is tested).

use crate::backend_tests;
use crate::common::{remote_eve, TestServer};
use crate::media::{fetch, local};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use confab::chat::media::RemoteAttachment;
use confab::chat::messages::RemoteMessage;
use confab::db::ids::UserId;
use image::{Rgb, RgbImage};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const RIG: &[&str] = &[
    "--federation-allow-private",
    "true",
    "--max-upload-bytes",
    "20000",
];
const PROXY: &[&str] = &[
    "--federation-allow-private",
    "true",
    "--max-upload-bytes",
    "20000",
    "--remote-media",
    "proxy",
];
const GUARDED: &[&str] = &["--max-upload-bytes", "20000"];

backend_tests!(
    remote_files_are_fetched_once_and_cached: RIG,
    remote_files_are_proxied_each_time: PROXY,
    bad_remote_files_are_502_or_downloads: RIG,
    private_addresses_are_refused_without_a_connection: GUARDED,
);

/// The remote host: a few files, and how often each was asked for.
struct Remote {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Remote {
    fn hits(&self, name: &str) -> usize {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    fn url(&self, name: &str) -> String {
        format!("{}/files/{name}", self.base)
    }
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 9) as u8, (y * 5) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const HTML: &str = "<!doctype html><html><script>alert(document.cookie)</script></html>";

async fn file(
    State(hits): State<Arc<Mutex<HashMap<String, usize>>>>,
    Path(name): Path<String>,
) -> Response {
    *hits.lock().unwrap().entry(name.clone()).or_default() += 1;
    match name.as_str() {
        "photo.png" => ([(header::CONTENT_TYPE, "image/png")], png(30, 20)).into_response(),
        "notes.pdf" => (
            [(header::CONTENT_TYPE, "application/pdf")],
            b"%PDF-1.7\n%remote\n".to_vec(),
        )
            .into_response(),
        "page.png" => ([(header::CONTENT_TYPE, "image/png")], HTML).into_response(),
        // 30 000 bytes, declared.
        "big.bin" => vec![7u8; 30_000].into_response(),
        // 30 000 bytes in chunks, not declared.
        "stream.bin" => {
            let chunks = (0..30).map(|_| Ok::<_, std::io::Error>(vec![7u8; 1000]));
            Body::from_stream(futures_util::stream::iter(chunks)).into_response()
        }
        "moved.png" => {
            (AxumStatus::FOUND, [(header::LOCATION, "/files/photo.png")]).into_response()
        }
        _ => AxumStatus::NOT_FOUND.into_response(),
    }
}

async fn remote_host() -> Remote {
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let app = Router::new()
        .route("/files/{name}", get(file))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Remote { base, hits }
}

/// A remote user `eve` (as federation stores one) who is `ada`'s contact.
async fn eve_contact_of(s: &TestServer, ada: &str) -> UserId {
    let eve = remote_eve(s).await;
    let ada = UserId(ada.parse().unwrap());
    let chat = &s.state.chat;
    chat.remote_follow(eve.id, ada, "https://remote.example/follows/1")
        .await
        .unwrap();
    chat.accept_contact(ada, eve.id).await.unwrap();
    eve.id
}

/// Eve sends ada a message with these `(url, claimed type)` attachments;
/// the message as ada's client sees it.
async fn eve_sends(s: &TestServer, eve: UserId, ada: &str, files: &[(String, &str)]) -> Value {
    let ada = UserId(ada.parse().unwrap());
    let attachments = files
        .iter()
        .map(|(url, claimed)| RemoteAttachment {
            url: url.clone(),
            content_type: Some((*claimed).to_owned()),
            alt_text: None,
            width: None,
            height: None,
            blurhash: None,
        })
        .collect();
    let ap_id = format!("https://remote.example/notes/{}", uuid::Uuid::new_v4());
    let message = RemoteMessage {
        body: "files".into(),
        ap_id: &ap_id,
        reply_to: None,
        mentions: vec![],
        attachments,
    };
    let stored = s
        .state
        .chat
        .receive_direct_message(eve, ada, message)
        .await
        .unwrap();
    serde_json::to_value(stored).unwrap()
}

/// The attachments of the last message of the conversation, as ada's
/// history shows them.
async fn history_attachments(s: &TestServer, token: &str, message: &Value) -> Vec<Value> {
    let path = format!(
        "/api/v1/conversations/{}/messages",
        message["conversation"].as_str().unwrap()
    );
    let page = s.get(&path, token).await;
    let messages = page.body["messages"].as_array().unwrap();
    let last = messages.iter().find(|m| m["id"] == message["id"]).unwrap();
    last["attachments"].as_array().unwrap().clone()
}

fn header_of(headers: &reqwest::header::HeaderMap, name: reqwest::header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn remote_files_are_fetched_once_and_cached(s: &TestServer) {
    let remote = remote_host().await;
    let (token, ada) = s.register("ada").await;
    let eve = eve_contact_of(s, &ada).await;
    let sent = eve_sends(
        s,
        eve,
        &ada,
        &[
            (remote.url("photo.png"), "image/png"),
            (remote.url("notes.pdf"), "application/pdf"),
            (remote.url("moved.png"), "image/png"),
        ],
    )
    .await;
    let items = sent["attachments"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{sent}");
    for item in items {
        let url = item["url"].as_str().unwrap();
        assert!(url.starts_with("https://confab.test/media/"), "{url}");
        assert!(!url.contains("127.0.0.1"), "{url}");
    }
    // Nothing is fetched before a client asks.
    assert_eq!(remote.hits("photo.png"), 0);

    let link = local(&items[0]["url"]);
    let (status, headers, body) = fetch(s, &link, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, CONTENT_TYPE), "image/png");
    assert_eq!(image::load_from_memory(&body).unwrap().width(), 30);
    let (status, _, again) = fetch(s, &link, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, body);
    assert_eq!(
        remote.hits("photo.png"),
        1,
        "the second request is served from the cache"
    );

    // Once cached the image is like an upload: size, blurhash, thumbnail,
    // and ranges.
    let cached = history_attachments(s, &token, &sent).await;
    assert_eq!(cached[0]["size_bytes"].as_i64(), Some(body.len() as i64));
    assert_eq!(
        (cached[0]["width"].as_i64(), cached[0]["height"].as_i64()),
        (Some(30), Some(20))
    );
    assert!(cached[0]["blurhash"].is_string(), "{}", cached[0]);
    let thumb = local(&cached[0]["thumbnail_url"]);
    let (status, headers, _) = fetch(s, &thumb, None, None).await;
    assert_eq!(
        (status, header_of(&headers, CONTENT_TYPE)),
        (StatusCode::OK, "image/jpeg")
    );
    let (status, _, head) = fetch(s, &local(&cached[0]["url"]), None, Some("bytes=0-7")).await;
    assert_eq!(
        (status, head.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &body[..8])
    );

    // Members open it with their token, like any attachment.
    let id = cached[0]["id"].as_str().unwrap();
    let (status, _, _) = fetch(s, &format!("/media/{id}"), Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (cy, _) = s.register("cy").await;
    let (status, _, _) = fetch(s, &format!("/media/{id}"), Some(&cy), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A file other than an image: stored as it is, typed by its content.
    let (status, headers, pdf) = fetch(s, &local(&items[1]["url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pdf, b"%PDF-1.7\n%remote\n");
    assert_eq!(header_of(&headers, CONTENT_TYPE), "application/pdf");

    // A redirect is followed (through the guard).
    let (status, _, moved) = fetch(s, &local(&items[2]["url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(image::load_from_memory(&moved).unwrap().width(), 30);
    assert_eq!(remote.hits("moved.png"), 1);
}

async fn remote_files_are_proxied_each_time(s: &TestServer) {
    let remote = remote_host().await;
    let (token, ada) = s.register("ada").await;
    let eve = eve_contact_of(s, &ada).await;
    let sent = eve_sends(
        s,
        eve,
        &ada,
        &[
            (remote.url("photo.png"), "image/png"),
            (remote.url("stream.bin"), "application/octet-stream"),
        ],
    )
    .await;
    let link = local(&sent["attachments"][0]["url"]);
    for round in 1..=2 {
        let (status, headers, body) = fetch(s, &link, None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_of(&headers, CONTENT_TYPE), "image/png");
        assert_eq!(body, png(30, 20), "the remote bytes, as they are");
        assert_eq!(remote.hits("photo.png"), round, "fetched on every request");
    }
    // Nothing was stored: no thumbnail, no size.
    let items = history_attachments(s, &token, &sent).await;
    assert!(items[0].get("thumbnail_url").is_none(), "{}", items[0]);
    assert_eq!(items[0]["size_bytes"], 0);
    let id = items[0]["id"].as_str().unwrap();
    let (status, _, _) = fetch(s, &format!("/media/{id}/thumbnail"), Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Past the limit, undeclared: the stream is cut, never passed on whole.
    // (The connection may also be reset before any header.)
    let got = match s
        .request(reqwest::Method::GET, &local(&items[1]["url"]))
        .send()
        .await
    {
        Ok(response) => response.bytes().await.map(|b| b.len()).unwrap_or(0),
        Err(_) => 0,
    };
    assert!(got <= 20_000, "{got} bytes passed through");
}

async fn bad_remote_files_are_502_or_downloads(s: &TestServer) {
    let remote = remote_host().await;
    let (_, ada) = s.register("ada").await;
    let eve = eve_contact_of(s, &ada).await;
    let sent = eve_sends(
        s,
        eve,
        &ada,
        &[
            (remote.url("big.bin"), "application/octet-stream"),
            (remote.url("stream.bin"), "application/octet-stream"),
            (remote.url("gone.png"), "image/png"),
            (remote.url("page.png"), "image/png"),
        ],
    )
    .await;
    let items = sent["attachments"].as_array().unwrap();
    let failed = |i: usize| {
        let link = local(&items[i]["url"]);
        async move {
            let r = s.raw(s.request(reqwest::Method::GET, &link)).await;
            assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{:?}", r.body);
            assert_eq!(r.code(), "bad_gateway");
            r.body["error"]["message"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        failed(0).await,
        "the remote file is larger than 20000 bytes"
    );
    assert_eq!(
        failed(1).await,
        "the remote file is larger than 20000 bytes"
    );
    assert_eq!(failed(2).await, "HTTP 404 Not Found");
    // A failure is not cached: the next request tries again.
    failed(2).await;
    assert_eq!(remote.hits("gone.png"), 2);

    // HTML claiming to be a PNG: typed by its content, a download that no
    // browser renders.
    let (status, headers, body) = fetch(s, &local(&items[3]["url"]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, HTML.as_bytes());
    assert_eq!(header_of(&headers, CONTENT_TYPE), "text/html");
    assert_eq!(header_of(&headers, X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(header_of(&headers, CONTENT_DISPOSITION).starts_with("attachment"));
}

async fn private_addresses_are_refused_without_a_connection(s: &TestServer) {
    let remote = remote_host().await;
    let (_, ada) = s.register("ada").await;
    let eve = eve_contact_of(s, &ada).await;
    let sent = eve_sends(s, eve, &ada, &[(remote.url("photo.png"), "image/png")]).await;
    let link = local(&sent["attachments"][0]["url"]);
    let r = s.raw(s.request(reqwest::Method::GET, &link)).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{:?}", r.body);
    assert_eq!(r.code(), "bad_gateway");
    assert_eq!(
        r.body["error"]["message"],
        "address not allowed: 127.0.0.1 is loopback"
    );
    assert_eq!(remote.hits("photo.png"), 0);
}
