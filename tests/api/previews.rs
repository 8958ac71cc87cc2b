//! Link previews over a real server that fetches real pages: a tiny HTTP
//! server of the test's own on 127.0.0.1 serves OpenGraph HTML, an image,
//! hostile markup, an oversized page, JSON and a page that never answers;
//! the Confab server (a test rig with `federation_allow_private`, except
//! where the guard is under test) previews links to it.

use crate::backend_tests;
use crate::common::{message_in, person, Person, TestServer};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use image::{Rgb, RgbImage};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

const RIG: &[&str] = &["--federation-allow-private", "true"];

backend_tests!(
    a_link_gets_a_preview_pushed_and_in_history: RIG,
    hostile_markup_stays_plain_text: RIG,
    bad_pages_give_no_preview_and_no_error: RIG,
    a_sender_can_turn_the_preview_off: RIG,
    the_instance_switch_turns_previews_off: &[
        "--federation-allow-private",
        "true",
        "--link-previews",
        "false"
    ],
    private_addresses_are_not_fetched,
);

/// The test's web site: what each path was asked for, and a message when
/// a client hangs up on `/slow`.
struct Site {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    hangups: mpsc::UnboundedReceiver<()>,
}

#[derive(Clone)]
struct SiteState {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    hangups: mpsc::UnboundedSender<()>,
}

impl Site {
    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

/// Tells the test when the request it lives in is dropped.
struct Hangup(mpsc::UnboundedSender<()>);

impl Drop for Hangup {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn png() -> Vec<u8> {
    let img = RgbImage::from_fn(64, 32, |x, y| Rgb([(x * 4) as u8, (y * 8) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const OG_PAGE: &str = r#"<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="The Page &amp; Its Title">
<meta property="og:description" content="What the page is about.">
<meta property="og:site_name" content="Test Site">
<meta property="og:image" content="/image.png">
</head><body><p>Body</p></body></html>"#;

const HOSTILE_PAGE: &str = "<html><head>\
<meta property=\"og:title\" content=\"&lt;img src=x onerror=alert(1)&gt; &lt;b&gt;Bold&lt;/b&gt;\">\
<meta name=\"description\" content=\"line\u{1}one&#10;<script>x</script>\">\
<meta property=\"og:image\" content=\"javascript:alert(1)\">\
<script>document.title='<title>injected</title>'</script>\
</head></html>";

async fn page(State(site): State<SiteState>, Path(path): Path<String>) -> Response {
    *site.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let html = |body: String| ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    match path.as_str() {
        "image.png" => ([(CONTENT_TYPE, "image/png")], png()).into_response(),
        "hostile" => html(HOSTILE_PAGE.to_owned()),
        "big" => html(format!("{OG_PAGE}{}", "x".repeat(2 * 1024 * 1024))),
        "json" => (
            [(CONTENT_TYPE, "application/json")],
            r#"{"title": "not a page"}"#,
        )
            .into_response(),
        "gone" => axum::http::StatusCode::NOT_FOUND.into_response(),
        "slow" => {
            let _hangup = Hangup(site.hangups.clone());
            std::future::pending::<()>().await;
            unreachable!()
        }
        _ => html(OG_PAGE.to_owned()),
    }
}

async fn site() -> Site {
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let (tx, hangups) = mpsc::unbounded_channel();
    let state = SiteState {
        hits: hits.clone(),
        hangups: tx,
    };
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::get(page))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Site {
        base,
        hits,
        hangups,
    }
}

/// ada and bob in a group; its id.
async fn pair(s: &TestServer) -> (Person, Person, String) {
    let mut ada = person(s, "ada").await;
    let mut bob = person(s, "bob").await;
    let group = ada
        .ws
        .ok(
            "conversation.create",
            json!({"name": "Links", "members": [bob.id]}),
        )
        .await;
    bob.ws.push("conversation.created").await;
    (ada, bob, group["id"].as_str().unwrap().to_owned())
}

/// Waits until the server has finished `n` previews (made or not).
async fn finished(s: &TestServer, n: u64) {
    let mut finished = s.state.chat.previews_finished().unwrap();
    finished.wait_for(|done| *done >= n).await.unwrap();
}

async fn send(p: &mut Person, gid: &str, body: &str, extra: Value) -> String {
    let mut data = json!({"conversation": gid, "body": body});
    data.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let sent = p.ws.ok("message.send", data).await;
    assert!(
        sent.get("preview").is_none(),
        "the answer never waits: {sent}"
    );
    sent["id"].as_str().unwrap().to_owned()
}

/// A preview without its image's signed links, whose expiry moves with the
/// second they were made in.
fn unsigned(preview: &Value) -> Value {
    let mut preview = preview.clone();
    if let Some(image) = preview["image"].as_object_mut() {
        image.remove("url");
        image.remove("thumbnail_url");
    }
    preview
}

async fn history(p: &mut Person, gid: &str) -> Value {
    p.ws.ok("message.history", json!({"conversation": gid}))
        .await
}

async fn a_link_gets_a_preview_pushed_and_in_history(s: &TestServer) {
    let site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    let link = site.url("article");
    let body = format!(
        "`{}` is code; read **[this]({link})** and {}",
        site.url("code"),
        site.url("second")
    );
    let mid = send(&mut ada, &gid, &body, json!({})).await;
    let pushed = bob
        .ws
        .push_where("message.preview", |p| p["message"] == mid.as_str())
        .await;
    assert_eq!(pushed["conversation"], gid.as_str());
    // docs/protocol.md's example has the keys of this push.
    let frame = json!({"type": "message.preview", "data": pushed.clone()});
    let real = std::collections::BTreeMap::from([("push:message.preview".to_owned(), frame)]);
    crate::doc_examples::check(&real, |name| name == "push:message.preview");
    let preview = &pushed["preview"];
    assert_eq!(preview["url"], link.as_str());
    assert_eq!(preview["title"], "The Page & Its Title");
    assert_eq!(preview["description"], "What the page is about.");
    assert_eq!(preview["site_name"], "Test Site");
    let image = &preview["image"];
    assert_eq!(image["kind"], "image");
    assert_eq!(image["content_type"], "image/png");
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(64), Some(32))
    );
    // The image is kept here: its signed link opens it without a token.
    let link = crate::media::local(&image["url"]);
    let fetched = reqwest::get(format!("{}{link}", s.base)).await.unwrap();
    assert_eq!(fetched.status(), 200);
    let kept = image::load_from_memory(&fetched.bytes().await.unwrap()).unwrap();
    assert_eq!((kept.width(), kept.height()), (64, 32));
    // The author's sessions hear it too.
    let own = ada
        .ws
        .push_where("message.preview", |p| p["message"] == mid.as_str())
        .await;
    assert_eq!(unsigned(&own["preview"]), unsigned(preview));
    // Every view of the message carries it.
    let page = history(&mut bob, &gid).await;
    assert_eq!(
        unsigned(&message_in(&page, &mid)["preview"]),
        unsigned(preview)
    );
    let rest = s
        .get(&format!("/api/v1/conversations/{gid}/messages"), &ada.token)
        .await;
    assert_eq!(
        unsigned(&message_in(&rest.body, &mid)["preview"]),
        unsigned(preview)
    );
    assert_eq!((site.hits("code"), site.hits("second")), (0, 0));
    assert_eq!((site.hits("article"), site.hits("image.png")), (1, 1));

    // The same link again: the cached page, fetched no second time.
    let body = format!("also {}", site.url("article"));
    let again = send(&mut bob, &gid, &body, json!({})).await;
    let pushed = ada
        .ws
        .push_where("message.preview", |p| p["message"] == again.as_str())
        .await;
    assert_eq!(pushed["preview"]["title"], "The Page & Its Title");
    assert_eq!(pushed["preview"]["image"]["id"], preview["image"]["id"]);
    assert_eq!((site.hits("article"), site.hits("image.png")), (1, 1));

    // A deleted message loses its preview.
    let gone = ada.ws.ok("message.delete", json!({"message": mid})).await;
    assert!(gone.get("preview").is_none(), "{gone}");
    let page = history(&mut bob, &gid).await;
    assert!(message_in(&page, &mid).get("preview").is_none());
}

async fn hostile_markup_stays_plain_text(s: &TestServer) {
    let site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    let mid = send(&mut ada, &gid, &site.url("hostile"), json!({})).await;
    let pushed = bob
        .ws
        .push_where("message.preview", |p| p["message"] == mid.as_str())
        .await;
    let preview = &pushed["preview"];
    // Text, exactly as the page's markup decodes: never markup to render.
    assert_eq!(preview["title"], "<img src=x onerror=alert(1)> <b>Bold</b>");
    // Control characters are dropped, whitespace collapsed.
    assert_eq!(preview["description"], "lineone <script>x</script>");
    // A javascript: image is not fetched, nor is a script's text read.
    assert!(preview.get("image").is_none(), "{preview}");
    assert!(preview.get("site_name").is_none(), "{preview}");
}

async fn bad_pages_give_no_preview_and_no_error(s: &TestServer) {
    let mut site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    let mut sent = vec![];
    for path in ["big", "json", "slow", "gone"] {
        // The sender hears only that the message is stored.
        sent.push(
            send(
                &mut ada,
                &gid,
                &format!("see {}", site.url(path)),
                json!({}),
            )
            .await,
        );
    }
    // The page that never answers is given up (the connection dropped).
    site.hangups.recv().await.unwrap();
    finished(s, 4).await;
    assert_eq!(
        (site.hits("big"), site.hits("json"), site.hits("slow")),
        (1, 1, 1)
    );
    let page = history(&mut bob, &gid).await;
    for mid in &sent {
        assert!(message_in(&page, mid).get("preview").is_none(), "{page}");
    }
    bob.ws.assert_no_push("message.preview", |_| true).await;
}

async fn a_sender_can_turn_the_preview_off(s: &TestServer) {
    let site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    let off = send(&mut ada, &gid, &site.url("off"), json!({"preview": false})).await;
    let on = send(&mut ada, &gid, &site.url("on"), json!({"preview": true})).await;
    bob.ws
        .push_where("message.preview", |p| p["message"] == on.as_str())
        .await;
    finished(s, 1).await;
    // Only the second was queued at all.
    assert_eq!(*s.state.chat.previews_finished().unwrap().borrow(), 1);
    assert_eq!(site.hits("off"), 0);
    let page = history(&mut bob, &gid).await;
    assert!(message_in(&page, &off).get("preview").is_none());
    // A wrong type is refused like any other field.
    ada.ws
        .err(
            "message.send",
            json!({"conversation": gid, "body": "x", "preview": "no"}),
            "invalid",
        )
        .await;
}

async fn the_instance_switch_turns_previews_off(s: &TestServer) {
    let site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    assert!(s.state.chat.previews_finished().is_none());
    let mid = send(&mut ada, &gid, &site.url("page"), json!({})).await;
    let page = history(&mut bob, &gid).await;
    assert!(message_in(&page, &mid).get("preview").is_none());
    assert_eq!(site.hits("page"), 0);
}

async fn private_addresses_are_not_fetched(s: &TestServer) {
    let site = site().await;
    let (mut ada, mut bob, gid) = pair(s).await;
    let port = site.base.rsplit(':').next().unwrap();
    let mut sent = vec![];
    for url in [
        site.url("direct"),
        format!("http://localhost:{port}/by-name"),
        format!("http://2130706433:{port}/decimal"),
    ] {
        sent.push(send(&mut ada, &gid, &format!("look {url}"), json!({})).await);
    }
    finished(s, 3).await;
    assert!(
        site.hits.lock().unwrap().is_empty(),
        "no request reached the page"
    );
    let page = history(&mut bob, &gid).await;
    for mid in &sent {
        assert!(message_in(&page, mid).get("preview").is_none());
    }
}
