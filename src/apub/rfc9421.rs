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
    verify_any_content_digest_header, Component, DigestAlgorithm, Rfc9421Signer, SigningKey,
    VerifyingKey,
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
    received(headers)?
        .string_param("keyid")
        .ok_or_else(|| Error::Signature("the signature names no keyid".into()))
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

/// The one signature of a request: its label's covered components and
/// parameters as received, and the signature bytes.
struct Received {
    input: sfv::InnerList,
    signature: Vec<u8>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, Error> {
    headers
        .get(name)
        .ok_or_else(|| Error::Signature(format!("the request has no {name} header")))?
        .to_str()
        .map_err(|_| Error::Signature(format!("the {name} header is not text")))
}

/// Parses `Signature-Input` and `Signature` (one label, in both).
fn received(headers: &HeaderMap) -> Result<Received, Error> {
    let unreadable = |name: &str| Error::Signature(format!("the {name} header cannot be read"));
    let inputs: sfv::Dictionary = sfv::Parser::new(header(headers, "signature-input")?)
        .parse()
        .map_err(|_| unreadable("Signature-Input"))?;
    let signatures: sfv::Dictionary = sfv::Parser::new(header(headers, "signature")?)
        .parse()
        .map_err(|_| unreadable("Signature"))?;
    let mut inputs = inputs.into_iter();
    let (label, input) = match (inputs.next(), inputs.next()) {
        (Some(first), None) => first,
        (None, _) => return Err(Error::Signature("the Signature-Input is empty".into())),
        (Some(_), Some(_)) => {
            return Err(Error::Signature(
                "the request carries more than one signature".into(),
            ))
        }
    };
    let sfv::ListEntry::InnerList(input) = input else {
        return Err(unreadable("Signature-Input"));
    };
    let signature = match signatures.get(&label) {
        Some(sfv::ListEntry::Item(item)) => item.bare_item.as_byte_sequence().map(<[u8]>::to_vec),
        _ => None,
    }
    .ok_or_else(|| Error::Signature(format!("no Signature for the label {}", label.as_str())))?;
    Ok(Received { input, signature })
}

impl Received {
    fn string_param(&self, name: &str) -> Option<String> {
        self.input
            .params
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .and_then(|(_, v)| v.as_string())
            .map(|s| s.as_str().to_owned())
    }

    fn integer_param(&self, name: &str) -> Option<i64> {
        self.input
            .params
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .and_then(|(_, v)| v.as_integer())
            .map(i64::from)
    }

    /// The covered component names, in order (none may carry parameters:
    /// `;req`, `;sf`, `;key`, … are not supported).
    fn components(&self) -> Result<Vec<String>, Error> {
        self.input
            .items
            .iter()
            .map(|item| match item.bare_item.as_string() {
                Some(name) if item.params.is_empty() => Ok(name.as_str().to_owned()),
                _ => Err(Error::Signature(
                    "a covered component Confab cannot read".into(),
                )),
            })
            .collect()
    }

    /// The signature base (RFC 9421 section 2.5): each component's line,
    /// then `@signature-params` serialised from what was received, so its
    /// parameters stay in the sender's order.
    fn base(&self, method: &Method, target: &Url, headers: &HeaderMap) -> Result<String, Error> {
        let mut base = String::new();
        for name in self.components()? {
            let value = match name.as_str() {
                "@method" => method.as_str().to_owned(),
                "@target-uri" => target.as_str().to_owned(),
                "@authority" => authority(target),
                "@scheme" => target.scheme().to_owned(),
                "@path" => target.path().to_owned(),
                "@query" => format!("?{}", target.query().unwrap_or_default()),
                "@request-target" => match target.query() {
                    Some(query) => format!("{}?{query}", target.path()),
                    None => target.path().to_owned(),
                },
                derived if derived.starts_with('@') => {
                    return Err(Error::Signature(format!(
                        "the component {derived} is not supported"
                    )))
                }
                field => {
                    let values: Vec<&str> = headers
                        .get_all(field)
                        .iter()
                        .map(|v| v.to_str().map(str::trim))
                        .collect::<Result<_, _>>()
                        .map_err(|_| Error::Signature(format!("the {field} header is not text")))?;
                    if values.is_empty() {
                        return Err(Error::Signature(format!(
                            "the signed {field} header is missing"
                        )));
                    }
                    values.join(", ")
                }
            };
            base.push_str(&format!("\"{name}\": {value}\n"));
        }
        let params =
            sfv::FieldType::serialize(&vec![sfv::ListEntry::InnerList(self.input.clone())])
                .unwrap_or_default();
        base.push_str(&format!("\"@signature-params\": {params}"));
        Ok(base)
    }
}

/// `host[:port]` of a URL, the port only when it is not the scheme's own.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// Verifies the signature of a request to `target` with `key`: it covers
/// `required`, its `created` is within [`MAX_SKEW`] of our clock, it has
/// not `expires`d, and its `alg` (if given) is the key's.
pub fn verify(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    key: VerifyingKey,
    required: &[&str],
) -> Result<(), Error> {
    verify_at(method, target, headers, key, required, Utc::now())
}

fn verify_at(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    key: VerifyingKey,
    required: &[&str],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let target = Url::parse(target)
        .map_err(|_| Error::Signature("the request target is not a URL".into()))?;
    let received = received(headers)?;
    let components = received.components()?;
    if let Some(missing) = required
        .iter()
        .find(|r| !components.iter().any(|c| c == *r))
    {
        return Err(Error::Signature(format!(
            "the signature does not cover {missing}"
        )));
    }
    let created = received
        .integer_param("created")
        .ok_or_else(|| Error::Signature("the signature has no created time".into()))?;
    if (now.timestamp() - created).abs() > MAX_SKEW.num_seconds() {
        return Err(Error::Signature(
            "the signature was not made within the last hour; the request may be a replay".into(),
        ));
    }
    if received
        .integer_param("expires")
        .is_some_and(|e| e < now.timestamp())
    {
        return Err(Error::Signature("the signature has expired".into()));
    }
    if let Some(alg) = received.string_param("alg") {
        let expected = match key.algorithm() {
            actpub_httpsig::Algorithm::Ed25519 => "ed25519",
            _ => "rsa-v1_5-sha256",
        };
        if alg != expected {
            return Err(Error::Signature(format!(
                "the signature's alg {alg} is not that of the key"
            )));
        }
    }
    let base = received.base(method, &target, headers)?;
    key.verify(base.as_bytes(), &received.signature)
        .map_err(|_| Error::Signature("the RFC 9421 signature does not verify".into()))
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
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = url
        .as_str()
        .parse::<Uri>()
        .map_err(|e| Error::Internal(format!("RFC 9421 signing: {e}")))?;
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

    fn at_signing_time() -> DateTime<Utc> {
        DateTime::from_timestamp(1_618_884_473, 0).unwrap()
    }

    #[test]
    fn the_rfc_9421_ed25519_example_verifies() {
        let headers = b26_headers();
        let then = at_signing_time();
        let target = "https://example.com/foo?param=Value&Pet=dog";
        assert_eq!(key_id(&headers).unwrap(), "test-key-ed25519");
        check_content_digest(&headers, br#"{"hello": "world"}"#).unwrap();
        assert!(check_content_digest(&headers, br#"{"hello": "wirld"}"#).is_err());
        verify_at(&Method::POST, target, &headers, b14_key(), &[], then).unwrap();
        // Another method, path or header value breaks it.
        assert!(verify_at(&Method::PUT, target, &headers, b14_key(), &[], then).is_err());
        let other = "https://example.com/bar?param=Value&Pet=dog";
        assert!(verify_at(&Method::POST, other, &headers, b14_key(), &[], then).is_err());
        let mut changed = headers.clone();
        changed.insert("content-length", HeaderValue::from_static("19"));
        assert!(verify_at(&Method::POST, target, &changed, b14_key(), &[], then).is_err());
        // Today it is too old, and it does not cover what we require.
        assert!(verify(&Method::POST, target, &headers, b14_key(), &[]).is_err());
        let strict = verify_at(
            &Method::POST,
            target,
            &headers,
            b14_key(),
            POST_COMPONENTS,
            then,
        );
        assert!(strict.is_err());
    }

    #[test]
    fn parameters_are_signed_in_the_order_they_were_sent() {
        // Fedify writes `alg`, `keyid`, then `created`: the signature base
        // repeats them in that order, not in ours.
        let (public, private) = super::super::keys::generate_ed25519().unwrap();
        let key = super::super::keys::ed25519_signing_key(&private).unwrap();
        let now = Utc::now().timestamp();
        let params = format!(
            r#"("@method" "@target-uri" "content-digest");alg="ed25519";keyid="https://f.example/u#k";created={now}"#
        );
        let digest = actpub_httpsig::content_digest_header(b"{}");
        let base = format!(
            "\"@method\": POST\n\"@target-uri\": https://c.example/inbox\n\"content-digest\": {digest}\n\"@signature-params\": {params}"
        );
        let signature = key.sign(base.as_bytes()).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("content-digest", HeaderValue::from_str(&digest).unwrap());
        headers.insert(
            "signature-input",
            HeaderValue::from_str(&format!("sig1={params}")).unwrap(),
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(&signature);
        headers.insert(
            "signature",
            HeaderValue::from_str(&format!("sig1=:{encoded}:")).unwrap(),
        );
        let verifying = super::super::keys::ed25519_verifying_key(&public).unwrap();
        verify(
            &Method::POST,
            "https://c.example/inbox",
            &headers,
            verifying,
            POST_COMPONENTS,
        )
        .unwrap();
        assert_eq!(key_id(&headers).unwrap(), "https://f.example/u#k");
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
