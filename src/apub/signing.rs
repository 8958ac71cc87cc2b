//! HTTP signatures on outgoing deliveries: draft-cavage over
//! `(request-target) host date digest` with a SHA-256 `Digest`, what
//! Mastodon, Lemmy, Pleroma and Fedify verify. The signing string comes from
//! `http-signature-normalization`; RSA signing uses aws-lc-rs, several times
//! faster than the pure-Rust `rsa` crate, with parsed keys cached per actor.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use url::Url;

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the private key is not a PKCS#8 RSA key: {0}")]
    Key(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Parsed private keys of local actors.
#[derive(Default)]
pub struct Signer {
    /// By the signing actor's id.
    keys: Mutex<HashMap<String, Arc<RsaKeyPair>>>,
    rng: SystemRandom,
}

/// The headers of a signed POST, ready to put on the request.
pub struct SignedHeaders {
    pub host: String,
    pub date: String,
    /// Only for requests with a body.
    pub digest: Option<String>,
    pub signature: String,
}

impl SignedHeaders {
    /// Puts the headers on a request.
    pub fn apply(self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request
            .header("host", self.host)
            .header("date", self.date)
            .header("signature", self.signature);
        match self.digest {
            Some(digest) => request.header("digest", digest),
            None => request,
        }
    }
}

impl Signer {
    /// The parsed key of `actor`, if it was parsed before.
    pub fn cached(&self, actor: &str) -> Option<Arc<RsaKeyPair>> {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(actor)
            .cloned()
    }

    /// The parsed key of `actor` (from `pem` on first use).
    pub fn key(&self, actor: &str, pem: &str) -> Result<Arc<RsaKeyPair>, SignError> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get(actor) {
            return Ok(key.clone());
        }
        let key = Arc::new(parse_pkcs8_pem(pem)?);
        keys.insert(actor.to_owned(), key.clone());
        Ok(key)
    }

    /// Signs a POST of `body` to `inbox` as `key_id`.
    pub fn sign_post(
        &self,
        key: &RsaKeyPair,
        key_id: &str,
        inbox: &Url,
        body: &[u8],
    ) -> Result<SignedHeaders, SignError> {
        self.sign("POST", key, key_id, inbox, Some(body))
    }

    /// Signs a request: `(request-target) host date`, and `digest` when
    /// there is a body (`digest` is then `Some`).
    pub fn sign(
        &self,
        method: &str,
        key: &RsaKeyPair,
        key_id: &str,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<SignedHeaders, SignError> {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let date = httpdate::fmt_http_date(SystemTime::now());
        let mut headers = BTreeMap::new();
        headers.insert("host".to_owned(), host.clone());
        headers.insert("date".to_owned(), date.clone());
        let digest = body.map(|body| format!("SHA-256={}", BASE64.encode(digest(&SHA256, body))));
        if let Some(digest) = &digest {
            headers.insert("digest".to_owned(), digest.clone());
        }
        let mut target = url.path().to_owned();
        if let Some(query) = url.query() {
            target = format!("{target}?{query}");
        }
        let signature = http_signature_normalization::Config::new()
            .mastodon_compat()
            .set_expiration(Duration::from_secs(3600))
            .begin_sign(method, &target, headers)
            .map_err(|e| SignError::Sign(e.to_string()))?
            .sign(key_id.to_owned(), |signing_string| {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &self.rng,
                    signing_string.as_bytes(),
                    &mut signature,
                )
                .map_err(|e| SignError::Sign(e.to_string()))?;
                Ok::<_, SignError>(BASE64.encode(signature))
            })?
            .signature_header();
        Ok(SignedHeaders {
            host,
            date,
            digest,
            signature,
        })
    }
}

/// A `-----BEGIN PRIVATE KEY-----` PEM as an RSA keypair.
fn parse_pkcs8_pem(pem: &str) -> Result<RsaKeyPair, SignError> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = BASE64
        .decode(body.trim())
        .map_err(|e| SignError::Key(e.to_string()))?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| SignError::Key(e.to_string()))
}

/// Whether `signature` (base64) over `signing_string` verifies with the
/// RSA public key in `public_pem` (SPKI or PKCS#1 PEM).
pub fn verify(public_pem: &str, signature: &str, signing_string: &str) -> bool {
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    let body: String = public_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let (Ok(der), Ok(signature)) = (BASE64.decode(body.trim()), BASE64.decode(signature)) else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
        .verify(signing_string.as_bytes(), &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_we_sign_verifies_and_nothing_else_does() {
        let (public, private) = crate::apub::keys::generate_keypair().unwrap();
        let (other_public, _) = crate::apub::keys::generate_keypair().unwrap();
        let signer = Signer::default();
        let key = signer.key("a", &private).unwrap();
        let inbox = Url::parse("https://peer.example/inbox").unwrap();
        let h = signer
            .sign_post(&key, "https://me.example/users/a#main-key", &inbox, b"{}")
            .unwrap();
        let signature = h
            .signature
            .split("signature=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches('"');
        let signing_string = format!(
            "(request-target): post /inbox\ndate: {}\ndigest: {}\nhost: peer.example",
            h.date,
            h.digest.unwrap()
        );
        assert!(verify(&public, signature, &signing_string));
        assert!(!verify(&other_public, signature, &signing_string));
        assert!(!verify(
            &public,
            signature,
            &signing_string.replace("/inbox", "/other")
        ));
        assert!(!verify("not a key", signature, &signing_string));
    }

    #[test]
    fn a_signed_get_covers_request_target_host_and_date() {
        let (public, private) = crate::apub::keys::generate_keypair().unwrap();
        let signer = Signer::default();
        let key = signer.key("a", &private).unwrap();
        let url = Url::parse("http://peer.example:8443/users/eve?page=1").unwrap();
        let h = signer
            .sign("GET", &key, "https://me.example/actor#main-key", &url, None)
            .unwrap();
        assert!(h.digest.is_none());
        assert_eq!(h.host, "peer.example:8443");
        assert!(h
            .signature
            .contains(r#"headers="(request-target) date host""#));
        let signature = h
            .signature
            .split("signature=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches('"');
        let signing_string = format!(
            "(request-target): get /users/eve?page=1\ndate: {}\nhost: peer.example:8443",
            h.date
        );
        assert!(verify(&public, signature, &signing_string));
    }
}
