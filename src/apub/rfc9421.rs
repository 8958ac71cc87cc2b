//! RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`) and
//! RFC 9530 `Content-Digest`, the scheme Fedify knocks with first and
//! Mastodon 4.5 verifies. Verifying: one signature per request, covering
//! at least `@method` and `@target-uri` (and `content-digest` on POSTs, as
//! Mastodon requires), `created` within an hour of our clock, checked with
//! the RSA key (`rsa-v1_5-sha256`) or the Ed25519 Multikey (`ed25519`) its
//! `keyid` names. Signing: Ed25519 over `@method @target-uri @authority
//! content-digest` with `created` and `expires`. Parsing, the signature
//! base and the crypto come from `actpub-httpsig` (aws-lc-rs).
//!
//! Imports nothing of Confab's but the error type and [`super::keys`].

use crate::error::Error;
use actpub_httpsig::{
    parse_signature_input_dict, verify_any_content_digest_header, Component, DigestAlgorithm,
    Rfc9421Signer, SigningKey, VerifyPolicy, VerifyingKey,
};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri};
use chrono::{DateTime, TimeDelta, Utc};
use url::Url;

/// What a signed POST must cover.
pub const POST_COMPONENTS: &[&str] = &["@method", "@target-uri", "content-digest"];
/// What a signed GET must cover.
pub const GET_COMPONENTS: &[&str] = &["@method", "@target-uri"];

/// How far `created` may be from our clock (as for draft-cavage `Date`).
const MAX_SKEW: TimeDelta = TimeDelta::hours(1);

/// Whether the request carries an RFC 9421 signature (else draft-cavage).
pub fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key("signature-input")
}

/// The `keyid` of the one signature the request carries.
pub fn key_id(headers: &HeaderMap) -> Result<String, Error> {
    let raw = headers
        .get("signature-input")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Signature("the Signature-Input header is not text".into()))?;
    let inputs = parse_signature_input_dict(raw)
        .map_err(|e| Error::Signature(format!("the Signature-Input cannot be read: {e}")))?;
    match inputs.as_slice() {
        [(_, input)] => input
            .keyid
            .clone()
            .ok_or_else(|| Error::Signature("the signature names no keyid".into())),
        [] => Err(Error::Signature("the Signature-Input is empty".into())),
        _ => Err(Error::Signature(
            "the request carries more than one signature".into(),
        )),
    }
}

/// The `Content-Digest` names the SHA-256 or SHA-512 of the body.
pub fn check_content_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    let header = headers
        .get("content-digest")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Signature("the request has no Content-Digest header".into()))?;
    verify_any_content_digest_header(
        header,
        body,
        &[DigestAlgorithm::Sha256, DigestAlgorithm::Sha512],
    )
    .map(|_| ())
    .map_err(|e| Error::Signature(format!("the Content-Digest does not match the body: {e}")))
}

/// The key `keyid` names among an actor's: its Ed25519 Multikey
/// `(id, publicKeyMultibase)` when the ids are equal, else its RSA key
/// when `keyid` is on the actor's own URL (`<actor>#main-key`,
/// `<actor>/main-key`).
pub fn key_for(
    keyid: &str,
    actor: &Url,
    rsa_pem: &str,
    ed25519: Option<(&str, &str)>,
) -> Result<VerifyingKey, Error> {
    if let Some((id, multibase)) = ed25519 {
        if id == keyid {
            return super::keys::ed25519_verifying_key(multibase);
        }
    }
    let on_actor = keyid
        .strip_prefix(actor.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('#') || rest.starts_with('/'));
    if !on_actor {
        return Err(Error::Signature(format!(
            "{keyid} is not a key of the sending actor"
        )));
    }
    VerifyingKey::from_pem(rsa_pem)
        .map_err(|e| Error::Signature(format!("the actor's key cannot be read: {e}")))
}

/// A request as the sender built it: `target` is the full URL it was sent
/// to (our public base and the path), with its headers.
fn request(method: &Method, target: &str, headers: &HeaderMap) -> Result<Request<()>, Error> {
    let uri: Uri = target
        .parse()
        .map_err(|_| Error::Signature("the request target is not a URL".into()))?;
    let mut request = Request::new(());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = headers.clone();
    Ok(request)
}

/// Verifies the signature of a request to `target` with `key`.
pub fn verify(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    key: VerifyingKey,
    required: &'static [&'static str],
) -> Result<(), Error> {
    let mut policy = VerifyPolicy::mastodon();
    policy.max_age = Some(MAX_SKEW);
    policy.max_clock_skew_future = Some(MAX_SKEW);
    policy.require_timestamp = true;
    policy.rfc9421_required_components = required;
    verify_at(method, target, headers, key, &policy, Utc::now())
}

fn verify_at(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    key: VerifyingKey,
    policy: &VerifyPolicy,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let request = request(method, target, headers)?;
    let mut key = Some(key);
    actpub_httpsig::rfc9421_verify_with_policy(&request, policy, now, |_| {
        key.take().ok_or(actpub_httpsig::Error::VerificationFailed)
    })
    .map(|_| ())
    .map_err(|e| Error::Signature(format!("the RFC 9421 signature does not verify: {e}")))
}

/// The headers of a request signed with RFC 9421.
pub struct Signed {
    pub content_digest: Option<String>,
    pub signature_input: HeaderValue,
    pub signature: HeaderValue,
}

/// How long our signatures are valid.
const EXPIRES_AFTER_S: i64 = 300;

/// Signs a request of `method` to `url` (with `body` for POSTs) as
/// `key_id`.
pub fn sign(
    key: &SigningKey,
    key_id: &str,
    method: Method,
    url: &Url,
    body: Option<&[u8]>,
) -> Result<Signed, Error> {
    let sign_error = |e: actpub_httpsig::Error| Error::Internal(format!("RFC 9421 signing: {e}"));
    let mut request = request(&method, url.as_str(), &HeaderMap::new())?;
    let mut components = vec![
        Component::Method,
        Component::TargetUri,
        Component::Authority,
    ];
    let content_digest = body.map(actpub_httpsig::content_digest_header);
    if let Some(digest) = &content_digest {
        let value = HeaderValue::from_str(digest).map_err(|e| Error::Internal(e.to_string()))?;
        request.headers_mut().insert("content-digest", value);
        components.push(Component::Header("content-digest".into()));
    }
    let now = Utc::now().timestamp();
    Rfc9421Signer::new(key, key_id)
        .with_components(components)
        .with_created(now)
        .with_expires(now + EXPIRES_AFTER_S)
        .sign(&mut request)
        .map_err(sign_error)?;
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("RFC 9421 signing left out {name}")))
    };
    Ok(Signed {
        content_digest,
        signature_input: header("signature-input")?,
        signature: header("signature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpub_httpsig::Ed25519PublicKey;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    /// RFC 9421 B.1.4: the public half of `test-key-ed25519` (JWK `x`).
    const B14_PUBLIC: &str = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";

    /// The request of RFC 9421 B.2 with the signature of B.2.6.
    fn b26_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "example.com"),
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("content-type", "application/json"),
            ("content-digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
            ("content-length", "18"),
            ("signature-input", r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#),
            ("signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers
    }

    fn b14_key() -> VerifyingKey {
        let raw = URL_SAFE_NO_PAD.decode(B14_PUBLIC).unwrap();
        VerifyingKey::Ed25519(Ed25519PublicKey::from_bytes(&raw).unwrap())
    }

    fn at_signing_time() -> (VerifyPolicy, DateTime<Utc>) {
        let mut policy = VerifyPolicy::mastodon();
        policy.rfc9421_required_components = &[];
        (policy, DateTime::from_timestamp(1_618_884_473, 0).unwrap())
    }

    #[test]
    fn the_rfc_9421_ed25519_example_verifies() {
        let headers = b26_headers();
        let (policy, then) = at_signing_time();
        let target = "https://example.com/foo?param=Value&Pet=dog";
        assert_eq!(key_id(&headers).unwrap(), "test-key-ed25519");
        check_content_digest(&headers, br#"{"hello": "world"}"#).unwrap();
        assert!(check_content_digest(&headers, br#"{"hello": "wirld"}"#).is_err());
        verify_at(&Method::POST, target, &headers, b14_key(), &policy, then).unwrap();
        // Another method, path or header value breaks it.
        assert!(verify_at(&Method::PUT, target, &headers, b14_key(), &policy, then).is_err());
        let other = "https://example.com/bar?param=Value&Pet=dog";
        assert!(verify_at(&Method::POST, other, &headers, b14_key(), &policy, then).is_err());
        let mut changed = headers.clone();
        changed.insert("content-length", HeaderValue::from_static("19"));
        assert!(verify_at(&Method::POST, target, &changed, b14_key(), &policy, then).is_err());
        // Today it is too old, and it does not cover what we require.
        assert!(verify(&Method::POST, target, &headers, b14_key(), &[]).is_err());
        let (mut strict, _) = at_signing_time();
        strict.rfc9421_required_components = POST_COMPONENTS;
        assert!(verify_at(&Method::POST, target, &headers, b14_key(), &strict, then).is_err());
    }

    #[test]
    fn what_we_sign_verifies_with_our_multikey() {
        let (public, private) = super::super::keys::generate_ed25519().unwrap();
        let key = super::super::keys::ed25519_signing_key(&private).unwrap();
        let url = Url::parse("http://beta.test:8080/users/bob/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let ours = "http://alpha.test:8080/users/ada#ed25519-key";
        let signed = sign(&key, ours, Method::POST, &url, Some(body)).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("signature-input", signed.signature_input);
        headers.insert("signature", signed.signature);
        headers.insert(
            "content-digest",
            HeaderValue::from_str(&signed.content_digest.unwrap()).unwrap(),
        );
        check_content_digest(&headers, body).unwrap();
        assert_eq!(key_id(&headers).unwrap(), ours);
        let actor = Url::parse("http://alpha.test:8080/users/ada").unwrap();
        let verifying = |id: &str| key_for(id, &actor, "", Some((ours, &public))).unwrap();
        verify(
            &Method::POST,
            url.as_str(),
            &headers,
            verifying(ours),
            POST_COMPONENTS,
        )
        .unwrap();
        let elsewhere = "http://beta.test:8080/inbox";
        assert!(verify(
            &Method::POST,
            elsewhere,
            &headers,
            verifying(ours),
            POST_COMPONENTS
        )
        .is_err());
        // A keyid on someone else's URL is not the actor's key.
        assert!(key_for("http://evil.test/k", &actor, "", None).is_err());
        assert!(key_for("http://alpha.test:8080/users/adam#k", &actor, "", None).is_err());
    }
}
