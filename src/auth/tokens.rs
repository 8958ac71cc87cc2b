//! Access tokens. Confab issues HS256 JWTs for its own accounts and accepts
//! JWTs from one external auth service (HS256, RS256 or EdDSA), telling the
//! two apart by their `iss` claim. Both are presented as
//! `Authorization: Bearer <token>` (or, on a WebSocket, in
//! `Sec-WebSocket-Protocol`).

use super::AuthError;
use crate::db::ids::UserId;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `aud` of every token Confab issues.
const OWN_AUDIENCE: &str = "confab";
/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_S: u64 = 30;

/// What the external auth service may say about the bearer (`confab_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExternalRole {
    /// A person: a chat user is created on first use.
    #[default]
    User,
    /// A person who handles reports and suspends users.
    Moderator,
    /// A person who administers Confab.
    Admin,
    /// Another service acting with admin rights; no chat user behind it.
    Service,
}

/// The verified content of an external token.
#[derive(Debug, Clone)]
pub struct ExternalClaims {
    pub subject: String,
    /// The claim named by `auth_name_claim` (by default `preferred_username`).
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub role: ExternalRole,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone)]
pub enum Verified {
    /// One of Confab's own tokens, issued in the user's token `generation`
    /// (checked against the account's current one by `chat`).
    Own {
        user_id: UserId,
        generation: i64,
    },
    External(ExternalClaims),
}

/// A freshly signed token for one of Confab's own users.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The external auth service Confab trusts.
pub struct ExternalIssuer {
    pub issuer: String,
    pub audience: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
    pub name_claim: String,
}

impl ExternalIssuer {
    /// Builds the verifier from settings. `key` is the HS256 secret or the
    /// PEM public key itself, or `@path` to read it from a file.
    pub fn from_settings(
        algorithm: Algorithm,
        key: &str,
        issuer: String,
        audience: Option<String>,
        name_claim: String,
    ) -> Result<Self, String> {
        let material = match key.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read auth_jwt_key file {path}: {e}"))?,
            None => key.to_owned(),
        };
        let key = match algorithm {
            Algorithm::HS256 => DecodingKey::from_secret(material.as_bytes()),
            Algorithm::RS256 => DecodingKey::from_rsa_pem(material.as_bytes())
                .map_err(|e| format!("auth_jwt_key is not an RSA public key PEM: {e}"))?,
            Algorithm::EdDSA => DecodingKey::from_ed_pem(material.as_bytes())
                .map_err(|e| format!("auth_jwt_key is not an Ed25519 public key PEM: {e}"))?,
            other => return Err(format!("unsupported external algorithm {other:?}")),
        };
        Ok(Self {
            issuer,
            audience,
            algorithm,
            key,
            name_claim,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct OwnClaims {
    iss: String,
    aud: String,
    sub: UserId,
    iat: i64,
    exp: i64,
    /// The account's token generation when the token was issued; tokens of
    /// an older generation are refused (password change, revocation).
    /// Absent in tokens issued before generations existed: generation 0.
    #[serde(default)]
    gen: i64,
}

#[derive(Deserialize)]
struct Peek {
    iss: Option<String>,
}

/// Issues and verifies tokens. Built once at start-up and shared.
pub struct TokenService {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    external: Option<ExternalIssuer>,
}

impl TokenService {
    /// `issuer` names this instance in the `iss` claim; `secret` signs
    /// Confab's own tokens.
    pub fn new(
        issuer: String,
        secret: &[u8],
        ttl: Duration,
        external: Option<ExternalIssuer>,
    ) -> Self {
        Self {
            issuer,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
            external,
        }
    }

    /// Signs a token for one of Confab's own users, valid while their
    /// token generation stays `generation`.
    pub fn issue(&self, user_id: UserId, generation: i64) -> Result<IssuedToken, AuthError> {
        let now = Utc::now();
        let expires_at = now + self.ttl;
        let claims = OwnClaims {
            iss: self.issuer.clone(),
            aud: OWN_AUDIENCE.to_owned(),
            sub: user_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            gen: generation,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let issuer = peek_issuer(token)?;
        if issuer == self.issuer {
            return self.verify_own(token);
        }
        match &self.external {
            Some(external) if issuer == external.issuer => verify_external(external, token),
            _ => Err(AuthError::UnknownIssuer),
        }
    }

    fn verify_own(&self, token: &str) -> Result<Verified, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_S;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[OWN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<OwnClaims>(token, &self.decoding, &validation)
            .map_err(map_jwt_error)?;
        Ok(Verified::Own {
            user_id: data.claims.sub,
            generation: data.claims.gen,
        })
    }
}

fn verify_external(external: &ExternalIssuer, token: &str) -> Result<Verified, AuthError> {
    let mut validation = Validation::new(external.algorithm);
    validation.leeway = LEEWAY_S;
    validation.set_issuer(&[&external.issuer]);
    match &external.audience {
        Some(aud) => {
            validation.set_audience(&[aud]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        }
        None => {
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        }
    }
    let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &external.key,
        &validation,
    )
    .map_err(map_jwt_error)?;
    let claims = data.claims;
    let text = |key: &str| claims.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let subject = text("sub").ok_or(AuthError::MissingClaim("sub"))?;
    let role = match claims.get("confab_role") {
        None => ExternalRole::User,
        Some(value) => serde_json::from_value(value.clone()).map_err(|_| {
            AuthError::Invalid("confab_role must be user, moderator, admin or service".into())
        })?,
    };
    Ok(Verified::External(ExternalClaims {
        subject,
        name: text(&external.name_claim),
        display_name: text("name"),
        role,
    }))
}

/// Reads `iss` without checking the signature, only to pick the verifier.
fn peek_issuer(token: &str) -> Result<String, AuthError> {
    let mut validation = Validation::default();
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Peek>(token, &DecodingKey::from_secret(&[]), &validation)
        .map_err(|_| AuthError::Malformed)?;
    data.claims.iss.ok_or(AuthError::MissingClaim("iss"))
}

fn map_jwt_error(e: jsonwebtoken::errors::Error) -> AuthError {
    match e.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => AuthError::Malformed,
        ErrorKind::MissingRequiredClaim(claim) => {
            AuthError::Invalid(format!("missing claim {claim}"))
        }
        ErrorKind::InvalidIssuer => AuthError::UnknownIssuer,
        ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
        ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
        ErrorKind::InvalidAlgorithm => AuthError::Invalid("unexpected algorithm".into()),
        other => AuthError::Invalid(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(external: Option<ExternalIssuer>) -> TokenService {
        TokenService::new(
            "confab:test".into(),
            b"own-secret",
            Duration::from_secs(60),
            external,
        )
    }

    fn external_hs256() -> ExternalIssuer {
        ExternalIssuer::from_settings(
            Algorithm::HS256,
            "shared",
            "https://auth.example".into(),
            Some("chat".into()),
            "preferred_username".into(),
        )
        .unwrap()
    }

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn own_token_round_trips() {
        let svc = service(None);
        let id = UserId::new();
        let issued = svc.issue(id, 3).unwrap();
        match svc.verify(&issued.token).unwrap() {
            Verified::Own {
                user_id,
                generation,
            } => assert_eq!((user_id, generation), (id, 3)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn own_token_from_another_secret_is_refused() {
        let issued = TokenService::new(
            "confab:test".into(),
            b"other",
            Duration::from_secs(60),
            None,
        )
        .issue(UserId::new(), 0)
        .unwrap();
        assert!(matches!(
            service(None).verify(&issued.token),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn external_token_is_checked_for_issuer_audience_and_expiry() {
        let svc = service(Some(external_hs256()));
        let exp = Utc::now().timestamp() + 60;
        let good = json_claims("https://auth.example", "chat", exp);
        match svc.verify(&sign(good, b"shared")).unwrap() {
            Verified::External(c) => {
                assert_eq!(c.subject, "42");
                assert_eq!(c.name.as_deref(), Some("ada"));
                assert_eq!(c.role, ExternalRole::User);
            }
            other => panic!("unexpected {other:?}"),
        }
        let wrong_aud = json_claims("https://auth.example", "other", exp);
        assert!(svc.verify(&sign(wrong_aud, b"shared")).is_err());
        let expired = json_claims("https://auth.example", "chat", exp - 3600);
        assert!(matches!(
            svc.verify(&sign(expired, b"shared")),
            Err(AuthError::Expired)
        ));
        let stranger = json_claims("https://evil.example", "chat", exp);
        assert!(matches!(
            svc.verify(&sign(stranger, b"shared")),
            Err(AuthError::UnknownIssuer)
        ));
        let forged = json_claims("https://auth.example", "chat", exp);
        assert!(svc.verify(&sign(forged, b"guess")).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            service(None).verify("not.a.jwt"),
            Err(AuthError::Malformed)
        ));
        assert!(matches!(
            service(None).verify(""),
            Err(AuthError::Malformed)
        ));
    }

    fn json_claims(iss: &str, aud: &str, exp: i64) -> serde_json::Value {
        serde_json::json!({"iss": iss, "aud": aud, "exp": exp, "sub": "42", "preferred_username": "ada"})
    }
}
