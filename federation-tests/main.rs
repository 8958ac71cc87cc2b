//! Multi-instance tests: three real Confab processes, each with its own
//! database (gamma on PostgreSQL) and its own host name (`alpha.test`,
//! `beta.test`, `gamma.test`, resolved to 127.0.0.1 by the test client), so
//! that domain checks compare different hosts, not `localhost` with itself.
//!
//! Users on different instances become contacts, exchange direct messages
//! live over their WebSockets, block each other; a peer that was down gets
//! its backlog; forged, unsigned and replayed activities are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contacts;
mod deliveries;
#[path = "../tests/api/doc_examples.rs"]
#[allow(dead_code)] // shared with tests/api, which checks the other examples
mod doc_examples;
mod fedify;
mod fixtures;
mod games;
mod groups;
mod guard;
mod media;
mod mentions;
mod presence;
mod previews;
mod proofs;
mod reactions;
mod reports;
mod rig;
mod security;
mod stickers;
#[path = "../tests/api/ws_client.rs"]
#[allow(dead_code)] // shared with tests/api, which uses all of it
mod ws_client;

use rig::Rig;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_serves_its_own_actors_under_its_own_host() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let mut ids = vec![];
    for instance in &rig.instances {
        let token = instance.register("ada").await;
        assert!(!token.is_empty());
        let host = instance.host();
        let finger: Value = rig
            .client
            .get(format!(
                "{}/.well-known/webfinger?resource=acct:ada@{host}",
                instance.base()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(finger["subject"], format!("acct:ada@{host}"));
        let id = finger["links"][0]["href"].as_str().unwrap().to_owned();
        assert_eq!(id, format!("http://{host}/users/ada"));
        let person: Value = rig
            .client
            .get(&id)
            .header("accept", "application/activity+json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(person["id"], id.as_str());
        assert!(person["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .contains("PUBLIC KEY"));
        // An instance does not answer for another instance's accounts.
        let other = rig.instances.iter().find(|i| i.host() != host).unwrap();
        let status = rig
            .client
            .get(format!(
                "{}/.well-known/webfinger?resource=acct:ada@{host}",
                other.base()
            ))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404);
        ids.push((id, person["publicKey"]["publicKeyPem"].clone()));
    }
    // Same name, three actors, three keys.
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1].1, ids[2].1);
    let backends: Vec<Value> = {
        let mut out = vec![];
        for instance in &rig.instances {
            let health: Value = rig
                .client
                .get(format!("{}/healthz", instance.base()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            out.push(health["database"].clone());
        }
        out
    };
    assert_eq!(
        backends,
        [json!("sqlite"), json!("sqlite"), json!("postgres")]
    );
    rig.stop().await;
}
