//! FEP-8b32 integrity proofs: an activity whose `eddsa-jcs-2022` proof,
//! made with the sender's Ed25519 key, no longer matches what it proves is
//! refused even under a valid HTTP signature; an intact one is applied.
//! (Fedify's real proofs are verified by the `fedify` tests.)

use crate::contacts::{ada_and_bob, AdaAndBob};
use crate::rig::{Instance, Rig};
use crate::security::{signed_post_as, user_row};
use aws_lc_rs::digest::{digest, SHA256};
use serde_json::{json, Value};

/// `document` with a proof by `name`'s Ed25519 key on `instance`, made as
/// eddsa-jcs-2022 prescribes (JCS, SHA-256 of proof options and document).
async fn with_proof(instance: &Instance, name: &str, mut document: Value) -> Value {
    let row = user_row(instance, name).await;
    let key = confab::apub::keys::ed25519_signing_key(&row.ed25519_private_key.unwrap()).unwrap();
    let options = json!({
        "@context": document["@context"].clone(),
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": format!("{}/users/{name}#ed25519-key", instance.base()),
        "proofPurpose": "assertionMethod",
        "created": "2026-12-04T20:00:00Z",
    });
    let jcs = |v: &Value| serde_json_canonicalizer::to_vec(v).unwrap();
    let mut signed = digest(&SHA256, &jcs(&options)).as_ref().to_vec();
    signed.extend_from_slice(digest(&SHA256, &jcs(&document)).as_ref());
    let mut proof = options;
    proof["proofValue"] = json!(multibase::encode(
        multibase::Base::Base58Btc,
        key.sign(&signed).unwrap()
    ));
    document["proof"] = proof;
    document
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_that_does_not_match_its_activity_is_refused() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let [alpha, beta] = [&rig.instances[0], &rig.instances[1]];
    let AdaAndBob {
        mut ada, conv_ada, ..
    } = ada_and_bob(&rig).await;
    let (bob_id, ada_id) = (
        format!("{}/users/bob", beta.base()),
        format!("{}/users/ada", alpha.base()),
    );
    let dm = |n: &str, text: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v1"],
            "id": format!("{bob_id}/proved/{n}/activity"), "type": "Create", "actor": bob_id,
            "to": ada_id,
            "object": {
                "id": format!("{bob_id}/proved/{n}"), "type": "Note", "attributedTo": bob_id,
                "to": ada_id, "content": format!("<p>{text}</p>"),
                "tag": {"type": "Mention", "href": ada_id, "name": "@ada"},
            },
        })
    };
    let inbox = format!("{}/inbox", alpha.base());
    // Proved, then changed: the HTTP signature covers the changed body,
    // the proof does not.
    let mut tampered = with_proof(beta, "bob", dm("1", "as signed")).await;
    tampered["object"]["content"] = json!("<p>changed on the way</p>");
    let (status, body) = signed_post_as(beta, "bob", &inbox, &tampered, &rig).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "signature_invalid", "{body}");
    // Intact: applied.
    let intact = with_proof(beta, "bob", dm("2", "proved")).await;
    let (status, body) = signed_post_as(beta, "bob", &inbox, &intact, &rig).await;
    assert_eq!(status, 202, "{body}");
    let got = ada
        .push_where("message.created", |m| m["body"] == "proved")
        .await;
    assert_eq!(got["conversation"], conv_ada.as_str());
    ada.assert_no_push("message.created", |m| m["body"] == "changed on the way")
        .await;
    rig.stop().await;
}
