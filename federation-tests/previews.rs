//! Link previews of a message that crosses servers: each server makes its
//! own (as Mastodon does), fetching the page itself; no preview travels in
//! the `Note`. A tiny web site of the test's own on 127.0.0.1 serves an
//! OpenGraph page and its image (the rig allows private addresses).

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::media::png;
use crate::rig::{eventually, Rig};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Hits = Arc<Mutex<HashMap<String, usize>>>;

const PAGE: &str = r#"<!doctype html><html><head>
<meta property="og:title" content="Across &amp; Back">
<meta property="og:description" content="A page two servers read.">
<meta property="og:image" content="/image.png">
</head><body></body></html>"#;

async fn serve(State(hits): State<Hits>, Path(path): Path<String>) -> Response {
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    match path.as_str() {
        "image.png" => ([(CONTENT_TYPE, "image/png")], png(40, 30)).into_response(),
        _ => ([(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response(),
    }
}

/// Starts the site; its base URL and its hit counts per path.
async fn site() -> (String, Hits) {
    let hits = Hits::default();
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::get(serve))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, hits)
}

fn hits_of(hits: &Hits, path: &str) -> usize {
    hits.lock().unwrap().get(path).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_previews_a_remote_message_itself() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let (base, hits) = site().await;
    let AdaAndBob {
        mut ada,
        mut bob,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;
    let link = format!("{base}/article");
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "body": format!("read {link}")}),
        )
        .await;
    let own = ada
        .push_where("message.preview", |p| p["message"] == sent["id"])
        .await;
    assert_eq!(own["preview"]["title"], "Across & Back", "{own}");

    // Beta stores the message, then previews it on its own.
    let got = bob
        .push_where("message.created", |m| {
            m["body"].as_str().is_some_and(|b| b.contains(&link))
        })
        .await;
    let pushed = bob
        .push_where("message.preview", |p| p["message"] == got["id"])
        .await;
    let preview = &pushed["preview"];
    assert_eq!(preview["url"], link.as_str(), "{pushed}");
    assert_eq!(preview["title"], "Across & Back");
    assert_eq!(preview["description"], "A page two servers read.");
    // Its image is kept by beta and served under beta's own link.
    let image = preview["image"]["url"].as_str().unwrap();
    assert!(
        image.starts_with(&format!("{}/media/", beta.base())),
        "{image}"
    );
    assert!(!image.starts_with(&alpha.base()));
    let fetched = rig.client.get(image).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    let kept = image::load_from_memory(&fetched.bytes().await.unwrap()).unwrap();
    assert_eq!((kept.width(), kept.height()), (40, 30));
    // The history on beta carries it too.
    let page = bob
        .ok(
            "message.history",
            json!({"conversation": got["conversation"]}),
        )
        .await;
    let stored = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == got["id"])
        .unwrap();
    assert_eq!(stored["preview"]["title"], "Across & Back", "{stored}");
    // Each server fetched the page and the image once: two of each.
    eventually("both servers fetched the page once", || async {
        (hits_of(&hits, "article") == 2 && hits_of(&hits, "image.png") == 2).then_some(())
    })
    .await;
    rig.stop().await;
}
