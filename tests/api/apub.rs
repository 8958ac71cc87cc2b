//! ActivityPub discovery and actors: WebFinger round trip, the Person
//! document with its key, content negotiation, NodeInfo and host-meta.

use crate::backend_tests;
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(webfinger_and_actor_round_trip, nodeinfo_and_host_meta);

async fn get_with(s: &TestServer, path: &str, accept: &str) -> (StatusCode, String, String) {
    let resp = s
        .request(Method::GET, path)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

async fn webfinger_and_actor_round_trip(s: &TestServer) {
    let (token, _) = s.register("Ada").await;
    s.call(
        Method::PATCH,
        "/api/v1/users/me",
        Some(
            json!({"display_name": "Ada <L>", "bio": "Engines\n\n<script>x</script>",
                    "profile_links": [{"name": "site", "url": "https://ada.example"}]}),
        ),
        Some(&token),
    )
    .await;
    let (status, ct, body) = get_with(
        s,
        "/.well-known/webfinger?resource=acct:ada@confab.test",
        "*/*",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/jrd+json");
    let finger: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(finger["subject"], "acct:Ada@confab.test");
    let link = finger["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(link["type"], "application/activity+json");
    let id = link["href"].as_str().unwrap().to_owned();
    assert_eq!(id, "https://confab.test/users/Ada");

    let path = id.trim_start_matches("https://confab.test");
    let (status, ct, body) = get_with(s, path, "application/activity+json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/activity+json"), "{ct}");
    let person: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        person["id"],
        id.as_str(),
        "the WebFinger link names the actor"
    );
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "Ada");
    assert_eq!(person["name"], "Ada <L>");
    assert_eq!(
        person["summary"],
        "<p>Engines</p><p>&lt;script&gt;x&lt;/script&gt;</p>"
    );
    assert_eq!(person["manuallyApprovesFollowers"], true);
    assert_eq!(
        person["endpoints"]["sharedInbox"],
        "https://confab.test/inbox"
    );
    assert_eq!(person["attachment"][0]["type"], "PropertyValue");
    assert_eq!(person["publicKey"]["id"], format!("{id}#main-key"));
    assert_eq!(person["publicKey"]["owner"], id.as_str());
    let pem = person["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    // The key is made once and kept.
    let (_, _, again) = get_with(
        s,
        path,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    )
    .await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["publicKey"]["publicKeyPem"], pem.as_str());

    // Browsers get HTML, with every user-written string escaped.
    let (status, ct, html) = get_with(s, path, "text/html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(
        html.contains("Ada &lt;L&gt;") && !html.contains("<script>"),
        "{html}"
    );

    for query in [
        "resource=acct:nobody@confab.test",
        "resource=acct:ada@elsewhere.example",
    ] {
        let (status, _, _) = get_with(s, &format!("/.well-known/webfinger?{query}"), "*/*").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}");
    }
    let (status, _, _) = get_with(s, "/.well-known/webfinger", "*/*").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get_with(s, "/users/nobody", "application/activity+json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn nodeinfo_and_host_meta(s: &TestServer) {
    s.register("one").await;
    s.register("two").await;
    let (status, _, body) = get_with(s, "/.well-known/nodeinfo", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    let links: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        links["links"][0]["href"],
        "https://confab.test/nodeinfo/2.1"
    );
    let (status, ct, body) = get_with(s, "/nodeinfo/2.1", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ct.contains("nodeinfo.diaspora.software/ns/schema/2.1"),
        "{ct}"
    );
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "confab");
    assert_eq!(info["protocols"], json!(["activitypub"]));
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["openRegistrations"], true);
    let (status, ct, xml) = get_with(s, "/.well-known/host-meta", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/xrd+xml"));
    assert!(xml.contains("https://confab.test/.well-known/webfinger?resource={uri}"));
}
