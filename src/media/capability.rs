//! Capability links: `/media/{id}?exp=…&sig=…`, an HMAC-SHA256 over the
//! item, the variant (original or thumbnail) and the expiry, with a key
//! kept in the database. The browser client authenticates with a bearer
//! token it cannot put in an `<img src>`, and remote servers have no
//! session at all: whoever may read a message is handed links that work
//! until they expire, and nobody can forge one.

use crate::db::ids::MediaId;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Which object of an item a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn tag(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }

    /// The path of the variant of `id`.
    pub fn path(self, id: MediaId) -> String {
        match self {
            Variant::Original => format!("/media/{id}"),
            Variant::Thumbnail => format!("/media/{id}/thumbnail"),
        }
    }
}

/// Signs and checks capability links.
pub struct Signer {
    key: hmac::Key,
    /// `scheme://domain` links start with.
    base: String,
}

impl Signer {
    /// A signer with `secret` (random, from `instance_settings`), making
    /// links under `base` (`https://example.org`).
    pub fn new(secret: &[u8], base: String) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            base,
        }
    }

    fn signature(&self, id: MediaId, variant: Variant, exp: i64) -> String {
        let message = format!("{id}:{}:{exp}", variant.tag());
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, message.as_bytes()).as_ref())
    }

    /// A link to `variant` of `id` valid until `exp` (Unix seconds).
    pub fn link(&self, id: MediaId, variant: Variant, exp: i64) -> String {
        format!(
            "{}{}?exp={exp}&sig={}",
            self.base,
            variant.path(id),
            self.signature(id, variant, exp)
        )
    }

    /// Whether `sig` is ours for `variant` of `id` until `exp`, and `exp`
    /// is not past `now` (Unix seconds).
    pub fn check(&self, id: MediaId, variant: Variant, exp: i64, sig: &str, now: i64) -> bool {
        if exp < now {
            return false;
        }
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        let message = format!("{id}:{}:{exp}", variant.tag());
        hmac::verify(&self.key, message.as_bytes(), &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_check_only_for_their_item_variant_and_time() {
        let signer = Signer::new(b"secret", "https://x.test".into());
        let id = MediaId::new();
        let link = signer.link(id, Variant::Original, 1000);
        let sig = link.rsplit("sig=").next().unwrap();
        assert!(link.starts_with(&format!("https://x.test/media/{id}?exp=1000&sig=")));
        assert!(signer.check(id, Variant::Original, 1000, sig, 999));
        assert!(!signer.check(id, Variant::Original, 1000, sig, 1001));
        assert!(!signer.check(id, Variant::Thumbnail, 1000, sig, 999));
        assert!(!signer.check(id, Variant::Original, 1001, sig, 999));
        assert!(!signer.check(MediaId::new(), Variant::Original, 1000, sig, 999));
        let other = Signer::new(b"other", "https://x.test".into());
        assert!(!other.check(id, Variant::Original, 1000, sig, 999));
    }
}
