//! A sticker sent on alpha reaches beta as what any fediverse server would
//! show: a note whose text is the `:shortcode:` and whose one attachment is
//! the sticker's image, named by the shortcode (its alt text).

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::media::png;
use crate::rig::Rig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stickers_reach_remote_members_as_an_image_note() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    // Ada signs up first on alpha: she is its admin.
    let AdaAndBob {
        ada_token,
        mut ada,
        mut bob,
        conv_ada,
        ..
    } = ada_and_bob(&rig).await;
    let pack: serde_json::Value = rig
        .client
        .post(format!("{}/api/v1/admin/sticker-packs", alpha.base()))
        .bearer_auth(&ada_token)
        .json(&json!({"name": "Hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = pack["id"].as_str().unwrap();
    let sticker: serde_json::Value = rig
        .client
        .post(format!(
            "{}/api/v1/admin/sticker-packs/{pid}/stickers?shortcode=wave",
            alpha.base()
        ))
        .bearer_auth(&ada_token)
        .body(png(48, 48))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sticker["shortcode"], "wave", "{sticker}");
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conv_ada, "sticker": sticker["id"]}),
        )
        .await;
    assert_eq!(sent["kind"], "sticker");

    let got = bob
        .push_where("message.created", |m| m["body"] == ":wave:")
        .await;
    assert_eq!(got["kind"], "text", "{got}");
    let list = got["attachments"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{got}");
    assert_eq!(list[0]["alt_text"], ":wave:");
    assert_eq!(
        (list[0]["kind"].as_str(), list[0]["width"].as_i64()),
        (Some("image"), Some(48))
    );
    // Beta serves it by fetching alpha's image, under a link of its own.
    let url = list[0]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/", beta.base())), "{url}");
    let response = rig.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 48);
    rig.stop().await;
}
