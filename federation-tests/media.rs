//! Attachments across servers: a message with an image sent on alpha
//! reaches beta with its `attachment` (alt text, size, blurhash), and beta
//! gives its user a link of its own, which it serves by fetching alpha's
//! file (`remote_media = cache`); a Mastodon-shaped attachment received is
//! kept as a link to the sender's file, never handed to clients: alpha's
//! own link answers 502 when that file cannot be fetched. In a group hosted
//! on alpha, a picture posted on beta is relayed by alpha to gamma, and
//! each server serves it under its own link.

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::fixtures::fixture;
use crate::rig::{ada_bob_cy, GroupOfThree, Rig, Trio};
use crate::security::signed_post_as;
use crate::ws_client::WsClient;
use image::{Rgb, RgbImage};
use serde_json::json;

/// A `w`×`h` PNG of stripes.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 9) as u8, (y * 5) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_cross_servers_both_ways() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;

    let item: serde_json::Value = rig
        .client
        .post(format!("{}/api/v1/media", alpha.base()))
        .bearer_auth(&ada_token)
        .body(png(30, 20))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["kind"], "image", "{item}");
    ada.ok(
        "message.send",
        json!({"conversation": conv_ada, "body": "a picture",
               "attachments": [{"media": item["id"], "alt_text": "stripes"}]}),
    )
    .await;
    let got = bob
        .push_where("message.created", |m| m["body"] == "a picture")
        .await;
    let attachment = &got["attachments"][0];
    assert_eq!(attachment["alt_text"], "stripes", "{got}");
    assert_eq!(
        (attachment["width"].as_i64(), attachment["height"].as_i64()),
        (Some(30), Some(20))
    );
    assert_eq!(attachment["blurhash"], item["blurhash"]);
    assert_eq!(attachment["content_type"], "image/png");
    // Bob gets beta's signed link (never alpha's URL): it opens without a
    // session, and beta fetches the file from alpha to serve it.
    let url = attachment["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/", beta.base())), "{url}");
    let response = rig.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 30);

    // Mastodon's shape, received: kept as links to the sender's files.
    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada", alpha.base());
    let activity = fixture(
        "mastodon-create-note-with-attachments.json",
        &bob_id,
        &ada_id,
        "att1",
    );
    let inbox = format!("{}/inbox", alpha.base());
    let (status, body) = signed_post_as(beta, "bob", &inbox, &activity, &rig).await;
    assert_eq!(status, 202, "{body}");
    let got = ada
        .push_where("message.created", |m| {
            m["body"]
                .as_str()
                .is_some_and(|b| b.contains("a photo and a file"))
        })
        .await;
    let list = got["attachments"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{got}");
    let url = list[0]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/media/", alpha.base())),
        "{url}"
    );
    // files.remote.example does not exist: alpha says so, as a 502.
    let response = rig.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(list[0]["alt_text"], "A harbour at dusk");
    assert_eq!(
        (list[0]["kind"].as_str(), list[0]["width"].as_i64()),
        (Some("image"), Some(1200))
    );
    assert_eq!(
        (list[1]["kind"].as_str(), list[1]["content_type"].as_str()),
        (Some("file"), Some("application/pdf"))
    );
    rig.stop().await;
}

/// Uploads a `w`×`h` picture as `token`'s on `base`; its media id.
async fn upload(rig: &Rig, base: &str, token: &str, w: u32, h: u32) -> serde_json::Value {
    let item: serde_json::Value = rig
        .client
        .post(format!("{base}/api/v1/media"))
        .bearer_auth(token)
        .body(png(w, h))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    item["id"].clone()
}

/// Waits for the message `body` on `client`, checks its one attachment
/// and that `base` serves it under its own link; the picture's width.
async fn picture_on(rig: &Rig, client: &mut WsClient, base: &str, body: &str, alt: &str) -> u32 {
    let got = client
        .push_where("message.created", |m| m["body"] == body)
        .await;
    let list = got["attachments"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{got}");
    assert_eq!(list[0]["alt_text"], alt, "{got}");
    let url = list[0]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{base}/media/")), "{url}");
    let response = rig.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    image::load_from_memory(&response.bytes().await.unwrap())
        .unwrap()
        .width()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_in_a_group_reach_every_server() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let mut trio = ada_bob_cy(&rig).await;
    let GroupOfThree { id, on_beta, .. } = trio.group_of_three(&rig, "Pictures").await;
    let Trio {
        ada_token,
        bob_token,
        ada,
        bob,
        cy,
        ..
    } = &mut trio;

    // The host's member posts: beta and gamma get it from alpha.
    let media = upload(&rig, &alpha.base(), ada_token, 24, 16).await;
    ada.ok(
        "message.send",
        json!({"conversation": id, "body": "from alpha",
               "attachments": [{"media": media, "alt_text": "the host's"}]}),
    )
    .await;
    assert_eq!(
        picture_on(&rig, bob, &beta.base(), "from alpha", "the host's").await,
        24
    );
    assert_eq!(
        picture_on(&rig, cy, &gamma.base(), "from alpha", "the host's").await,
        24
    );

    // A member on beta posts: alpha relays it to gamma, attachment and all.
    let media = upload(&rig, &beta.base(), bob_token, 36, 12).await;
    bob.ok(
        "message.send",
        json!({"conversation": on_beta, "body": "from beta",
               "attachments": [{"media": media, "alt_text": "a guest's"}]}),
    )
    .await;
    assert_eq!(
        picture_on(&rig, ada, &alpha.base(), "from beta", "a guest's").await,
        36
    );
    assert_eq!(
        picture_on(&rig, cy, &gamma.base(), "from beta", "a guest's").await,
        36
    );
    rig.stop().await;
}
