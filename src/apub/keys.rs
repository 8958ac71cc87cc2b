//! Ed25519 keys beside each actor's RSA key. Ours are published as a
//! FEP-521a `assertionMethod` Multikey (`<actor>#ed25519-key`,
//! `publicKeyMultibase` = base58btc `z` + multicodec `0xed01` + the 32-byte
//! key); remote actors' Ed25519 Multikeys (Fedify publishes one) are read
//! from the same place. The keys and their encodings come from
//! `actpub-httpsig` (aws-lc-rs).
//!
//! Local keys are made on first use ([`ensure_ed25519`]) and kept with the
//! user row (instance actor: `instance_settings`).

use crate::db::ids::UserId;
use crate::db::users as user_rows;
use crate::db::{settings, Db, DbError};
use crate::error::Error;
use actpub_httpsig::{Ed25519SigningKey, Multikey, SigningKey, VerifyingKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use url::Url;

/// A new RSA-2048 keypair `(public PEM, private PEM)`: every actor's
/// `publicKey`, for draft-cavage signatures.
pub fn generate_keypair() -> Result<(String, String), String> {
    activitypub_federation::http_signatures::generate_actor_keypair()
        .map(|k| (k.public_key, k.private_key))
        .map_err(|e| e.to_string())
}

/// The `@context` of our actor documents: ActivityStreams, the security
/// vocabulary (`publicKey`) and FEP-521a's Multikey (`assertionMethod`).
pub const ACTOR_CONTEXT: [&str; 3] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/multikey/v1",
];

/// The fragment of a local actor's Ed25519 key id.
pub const ED25519_FRAGMENT: &str = "ed25519-key";

/// The id of a local actor's Ed25519 key.
pub fn ed25519_key_id(actor: &str) -> String {
    format!("{actor}#{ED25519_FRAGMENT}")
}

/// A new Ed25519 keypair `(publicKeyMultibase, private PKCS#8 in base64)`.
pub fn generate_ed25519() -> Result<(String, String), String> {
    let key = Ed25519SigningKey::generate().map_err(|e| e.to_string())?;
    let public = Multikey::encode_ed25519(&key.public_key());
    Ok((public, BASE64.encode(key.to_pkcs8_der())))
}

/// The Ed25519 keypair `(public multibase, private)` of the local user
/// `user`, made now if it has none.
pub async fn ensure_ed25519(db: &Db, user: UserId) -> Result<(String, String), DbError> {
    let stored = |row: Option<user_rows::UserRow>| {
        row.and_then(|r| r.ed25519_public_key.zip(r.ed25519_private_key))
    };
    if let Some(pair) = stored(user_rows::find_by_id(&mut db.read().await?, user).await?) {
        return Ok(pair);
    }
    let (public, private) = generate_ed25519().map_err(DbError::Corrupt)?;
    let mut conn = db.write().await?;
    user_rows::set_ed25519_once(&mut conn, user, &public, &private).await?;
    stored(user_rows::find_by_id(&mut conn, user).await?)
        .ok_or_else(|| DbError::Corrupt(format!("user {user:?} has no Ed25519 key")))
}

const INSTANCE_PUBLIC: &str = "instance_actor_ed25519_public_key";
const INSTANCE_PRIVATE: &str = "instance_actor_ed25519_private_key";

/// The instance actor's Ed25519 keypair `(public multibase, private)`.
pub async fn instance_ed25519(db: &Db) -> Result<(String, String), DbError> {
    let mut conn = db.write().await?;
    if let (Some(public), Some(private)) = (
        settings::get(&mut conn, INSTANCE_PUBLIC).await?,
        settings::get(&mut conn, INSTANCE_PRIVATE).await?,
    ) {
        return Ok((public, private));
    }
    let (public, private) = generate_ed25519().map_err(DbError::Corrupt)?;
    // Public first: if two nodes race, both read back the winner's pair.
    let public = settings::get_or_insert(&mut conn, INSTANCE_PUBLIC, || public).await?;
    let private = settings::get_or_insert(&mut conn, INSTANCE_PRIVATE, || private).await?;
    Ok((public, private))
}

/// A stored private key (PKCS#8 in base64) ready to sign.
pub fn ed25519_signing_key(private: &str) -> Result<SigningKey, Error> {
    let der = BASE64
        .decode(private)
        .map_err(|e| Error::Internal(format!("stored Ed25519 key: {e}")))?;
    Ed25519SigningKey::from_pkcs8_der(&der)
        .map(SigningKey::Ed25519)
        .map_err(|e| Error::Internal(format!("stored Ed25519 key: {e}")))
}

/// A `publicKeyMultibase` as a key to verify with.
pub fn ed25519_verifying_key(multibase: &str) -> Result<VerifyingKey, Error> {
    Multikey::decode(multibase)
        .map(|m| VerifyingKey::Ed25519(m.key))
        .map_err(|e| Error::Signature(format!("the actor's Ed25519 key cannot be read: {e}")))
}

/// The FEP-521a `assertionMethod` entry of a local actor.
pub fn multikey(actor: &str, public_multibase: &str) -> Value {
    json!({
        "id": ed25519_key_id(actor),
        "type": "Multikey",
        "controller": actor,
        "publicKeyMultibase": public_multibase,
    })
}

/// The first Ed25519 Multikey a remote actor lists in `assertionMethod`:
/// `(key id, publicKeyMultibase)`. Only keys whose `controller` is the
/// actor and whose id is on the actor's server count; other entries (bare
/// ids, other key types) are skipped.
pub fn remote_ed25519(actor: &Url, assertion_method: &[Value]) -> Option<(String, String)> {
    assertion_method.iter().find_map(|entry| {
        let id = entry.get("id")?.as_str()?;
        let controller = entry.get("controller")?.as_str()?;
        let multibase = entry.get("publicKeyMultibase")?.as_str()?;
        let key_url = Url::parse(id).ok()?;
        let same_server = key_url.scheme() == actor.scheme()
            && key_url.host_str() == actor.host_str()
            && key_url.port_or_known_default() == actor.port_or_known_default();
        (controller == actor.as_str() && same_server && Multikey::decode(multibase).is_ok())
            .then(|| (id.to_owned(), multibase.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_multikey_verifies() {
        let (public, private) = generate_ed25519().unwrap();
        assert!(public.starts_with("z6Mk"), "{public}");
        let key = ed25519_signing_key(&private).unwrap();
        let signature = key.sign(b"hello").unwrap();
        let verifying = ed25519_verifying_key(&public).unwrap();
        assert!(verifying.verify(b"hello", &signature).is_ok());
        assert!(verifying.verify(b"hellp", &signature).is_err());
    }

    #[test]
    fn the_ed25519_multikey_of_a_fedify_actor_is_found() {
        let path = format!(
            "{}/tests/fixtures/apub/fedify-person.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let actor = Url::parse("https://f.example/users/fedi").unwrap();
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(path)
                .unwrap()
                .replace("{actor}", actor.as_str()),
        )
        .unwrap();
        let methods = json["assertionMethod"].as_array().unwrap();
        let (id, key) = remote_ed25519(&actor, methods).unwrap();
        assert_eq!(id, "https://f.example/users/fedi#key-2");
        assert!(ed25519_verifying_key(&key).is_ok());
    }

    #[test]
    fn remote_multikeys_must_belong_to_the_actor() {
        let (public, _) = generate_ed25519().unwrap();
        let actor = Url::parse("https://f.example/users/fedi").unwrap();
        let good = multikey(actor.as_str(), &public);
        assert_eq!(
            remote_ed25519(&actor, &[json!("https://f.example/k"), good.clone()]),
            Some((
                "https://f.example/users/fedi#ed25519-key".into(),
                public.clone()
            ))
        );
        let mut other_controller = good.clone();
        other_controller["controller"] = json!("https://f.example/users/eve");
        let mut other_host = good.clone();
        other_host["id"] = json!("https://evil.example/users/fedi#k");
        let mut not_a_key = good;
        not_a_key["publicKeyMultibase"] = json!("zNotAKey");
        for entry in [other_controller, other_host, not_a_key] {
            assert_eq!(
                remote_ed25519(&actor, std::slice::from_ref(&entry)),
                None,
                "{entry}"
            );
        }
    }
}
