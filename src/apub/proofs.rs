//! FEP-8b32 integrity proofs on incoming activities: a `proof` of the
//! `eddsa-jcs-2022` cryptosuite (what Fedify attaches to everything it
//! sends) is checked against the sender's Ed25519 key when the proof names
//! that key. The document without `proof` (and without an LD `signature`,
//! which Fedify adds after the proof) and the proof without `proofValue`
//! are canonicalised with JCS (RFC 8785); the signature covers
//! `SHA-256(proof) ‖ SHA-256(document)` (W3C vc-di-eddsa, "eddsa-jcs-2022").
//!
//! The HTTP signature already says who sent an activity; the proof adds
//! that the activity itself is what its author signed. A proof that names
//! the sender's key and does not verify is refused (401); a proof by a key
//! we do not hold, or of another cryptosuite, is left unchecked.

use crate::error::Error;
use aws_lc_rs::digest::{digest, SHA256};
use serde::Deserialize;
use serde_json::Value;

/// The parts of a `proof` that decide whether and how it is checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    #[serde(default)]
    pub cryptosuite: String,
    #[serde(default)]
    pub verification_method: String,
}

/// What came of a proof.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// It verifies with the sender's key.
    Verified,
    /// It could not be checked here (the reason says why); nothing is
    /// refused for that.
    Unchecked(&'static str),
}

/// Checks the `proof` of the activity in `body` against the sender's
/// Ed25519 key `(key id, publicKeyMultibase)`, if it has one.
pub fn check(
    body: &[u8],
    proof: &Proof,
    sender_key: Option<(&str, &str)>,
) -> Result<Checked, Error> {
    if proof.cryptosuite != "eddsa-jcs-2022" {
        return Ok(Checked::Unchecked("not an eddsa-jcs-2022 proof"));
    }
    let Some((key_id, multibase)) = sender_key else {
        return Ok(Checked::Unchecked("the sender has no Ed25519 key"));
    };
    if proof.verification_method != key_id {
        return Ok(Checked::Unchecked("the proof names another key"));
    }
    let mut document: Value = serde_json::from_slice(body)
        .map_err(|e| Error::InvalidActivity(format!("not JSON: {e}")))?;
    let (signed, signature) = signed_bytes(&mut document)?;
    let key = crate::apub::keys::ed25519_verifying_key(multibase)?;
    key.verify(&signed, &signature)
        .map(|_| Checked::Verified)
        .map_err(|_| Error::Signature("the activity's integrity proof does not verify".into()))
}

/// The bytes an `eddsa-jcs-2022` proof signs, and its signature: takes the
/// `proof` (and any LD `signature`) out of `document`.
fn signed_bytes(document: &mut Value) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let malformed = |why: &str| Error::InvalidActivity(format!("malformed proof: {why}"));
    let map = document
        .as_object_mut()
        .ok_or_else(|| malformed("the activity is not an object"))?;
    let mut proof = map.remove("proof").ok_or_else(|| malformed("no proof"))?;
    map.remove("signature");
    let options = proof
        .as_object_mut()
        .ok_or_else(|| malformed("not an object"))?;
    let value = options
        .remove("proofValue")
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| malformed("no proofValue"))?;
    let (base, signature) =
        multibase::decode(&value).map_err(|e| malformed(&format!("proofValue: {e}")))?;
    if base != multibase::Base::Base58Btc {
        return Err(malformed("proofValue is not base58btc"));
    }
    let canonical = |v: &Value| {
        serde_json_canonicalizer::to_vec(v).map_err(|e| malformed(&format!("JCS: {e}")))
    };
    let mut signed = digest(&SHA256, &canonical(&proof)?).as_ref().to_vec();
    signed.extend_from_slice(digest(&SHA256, &canonical(document)?).as_ref());
    Ok((signed, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apub::keys::{ed25519_signing_key, generate_ed25519};
    use serde_json::json;

    /// Signs `document` as eddsa-jcs-2022 with `private`, as a peer would.
    fn with_proof(mut document: Value, private: &str, key_id: &str) -> Vec<u8> {
        let options = json!({
            "@context": document["@context"].clone(),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": key_id,
            "proofPurpose": "assertionMethod",
            "created": "2026-12-04T19:24:45.775285754Z",
        });
        let mut signed = digest(
            &SHA256,
            &serde_json_canonicalizer::to_vec(&options).unwrap(),
        )
        .as_ref()
        .to_vec();
        signed.extend_from_slice(
            digest(
                &SHA256,
                &serde_json_canonicalizer::to_vec(&document).unwrap(),
            )
            .as_ref(),
        );
        let signature = ed25519_signing_key(private).unwrap().sign(&signed).unwrap();
        let mut proof = options;
        proof["proofValue"] = json!(multibase::encode(multibase::Base::Base58Btc, signature));
        document["proof"] = proof;
        // An LD signature added afterwards is not covered.
        document["signature"] = json!({"type": "RsaSignature2017", "signatureValue": "x"});
        serde_json::to_vec(&document).unwrap()
    }

    fn proof_of(body: &[u8]) -> Proof {
        let value: Value = serde_json::from_slice(body).unwrap();
        serde_json::from_value(value["proof"].clone()).unwrap()
    }

    #[test]
    fn a_proof_by_the_sender_s_key_is_checked() {
        let (public, private) = generate_ed25519().unwrap();
        let key_id = "https://f.example/users/fedi#key-2";
        let activity = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", {"é": "ü"}],
            "id": "https://f.example/notes/1#create", "type": "Create",
            "actor": "https://f.example/users/fedi",
            "object": {"type": "Note", "content": "<p>1.0 × 10</p>", "n": 1e21},
        });
        let body = with_proof(activity.clone(), &private, key_id);
        let proof = proof_of(&body);
        assert_eq!(
            check(&body, &proof, Some((key_id, &public))).unwrap(),
            Checked::Verified
        );
        // Tampered content: refused.
        let mut tampered: Value = serde_json::from_slice(&body).unwrap();
        tampered["object"]["content"] = json!("<p>something else</p>");
        let tampered = serde_json::to_vec(&tampered).unwrap();
        assert!(matches!(
            check(&tampered, &proof, Some((key_id, &public))),
            Err(Error::Signature(_))
        ));
        // Another key of the sender's: refused; a key we do not hold, or
        // another cryptosuite: not checked.
        let (other, _) = generate_ed25519().unwrap();
        assert!(check(&body, &proof, Some((key_id, &other))).is_err());
        assert!(matches!(
            check(
                &body,
                &proof,
                Some(("https://f.example/users/fedi#key-9", &public))
            ),
            Ok(Checked::Unchecked(_))
        ));
        assert!(matches!(
            check(&body, &proof, None),
            Ok(Checked::Unchecked(_))
        ));
        let rsa = Proof {
            cryptosuite: "rsa-jcs-2025".into(),
            ..proof
        };
        assert!(matches!(
            check(&body, &rsa, Some((key_id, &public))),
            Ok(Checked::Unchecked(_))
        ));
    }
}
