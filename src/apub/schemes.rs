//! Which HTTP signature scheme to sign a delivery with, per destination
//! host, as Fedify chooses. A host we know nothing of gets draft-cavage
//! (RSA), what every server verifies, unless its NodeInfo says it runs
//! Confab: then RFC 9421 with Ed25519, several times cheaper to sign. An
//! RFC 9421 delivery answered 400 or 401 is sent again with draft-cavage,
//! and the host keeps draft-cavage from then on. The choice is kept in
//! memory (a restart asks NodeInfo again). What NodeInfo said is kept too:
//! only Confab servers get presence and typing (a "no" is asked again after
//! [`RECHECK`], in case the server was only down).
//!
//! Imports nothing of Confab's but the guarded client.

use crate::outgoing::Outgoing;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// How long a host whose NodeInfo did not say Confab (or did not answer)
/// is taken not to run Confab.
pub const RECHECK: Duration = Duration::from_secs(600);

/// How a delivery is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// draft-cavage `Signature` over `(request-target) host date digest`,
    /// RSA.
    Cavage,
    /// RFC 9421 `Signature-Input` + `Signature`, Ed25519.
    Rfc9421,
}

/// The scheme chosen for each host, and whether it runs Confab.
#[derive(Default)]
pub struct Schemes {
    hosts: Mutex<HashMap<String, Scheme>>,
    /// What each host's NodeInfo said, and when.
    confab: Mutex<HashMap<String, (bool, Instant)>>,
}

impl Schemes {
    /// The scheme `host` gets, if it was chosen before.
    pub fn known(&self, host: &str) -> Option<Scheme> {
        self.lock().get(host).copied()
    }

    /// Keeps `scheme` for `host`.
    pub fn remember(&self, host: &str, scheme: Scheme) {
        self.lock().insert(host.to_owned(), scheme);
    }

    /// The scheme for the host of `inbox`: the one kept, else chosen from
    /// its NodeInfo (and kept).
    pub async fn choose(&self, outgoing: &Outgoing, host: &str, inbox: &Url) -> Scheme {
        if let Some(scheme) = self.known(host) {
            return scheme;
        }
        let scheme = if self.is_confab(outgoing, host, inbox).await {
            Scheme::Rfc9421
        } else {
            Scheme::Cavage
        };
        self.remember(host, scheme);
        scheme
    }

    /// Whether the NodeInfo of the server of `inbox` says it runs Confab
    /// (a "yes" is kept, a "no" for [`RECHECK`]).
    pub async fn is_confab(&self, outgoing: &Outgoing, host: &str, inbox: &Url) -> bool {
        let known = self
            .confab
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(host)
            .copied();
        match known {
            Some((true, _)) => return true,
            Some((false, at)) if at.elapsed() < RECHECK => return false,
            _ => {}
        }
        let confab = runs_confab(outgoing, inbox).await;
        self.confab
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(host.to_owned(), (confab, Instant::now()));
        confab
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Scheme>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Deserialize)]
struct Links {
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    rel: String,
    href: Url,
}

#[derive(Deserialize)]
struct NodeInfo {
    software: Software,
}

#[derive(Deserialize)]
struct Software {
    name: String,
}

/// Whether the server of `inbox` says in its NodeInfo (2.x, on its own
/// host) that it runs Confab. Any failure is "no".
async fn runs_confab(outgoing: &Outgoing, inbox: &Url) -> bool {
    let Ok(well_known) = inbox.join("/.well-known/nodeinfo") else {
        return false;
    };
    let get = |url: Url| async move {
        let response = outgoing
            .send(
                outgoing
                    .request(reqwest::Method::GET, url)
                    .header("accept", "application/json"),
            )
            .await
            .ok()?;
        let too_big = response.content_length().is_some_and(|n| n > 65_536);
        if !response.status().is_success() || too_big {
            return None;
        }
        response.bytes().await.ok()
    };
    let Some(links) = get(well_known)
        .await
        .and_then(|b| serde_json::from_slice::<Links>(&b).ok())
    else {
        return false;
    };
    let href = links.links.into_iter().find(|l| {
        l.rel
            .starts_with("http://nodeinfo.diaspora.software/ns/schema/2.")
            && l.href.host_str() == inbox.host_str()
            && l.href.port_or_known_default() == inbox.port_or_known_default()
    });
    let Some(href) = href else {
        return false;
    };
    get(href.href)
        .await
        .and_then(|b| serde_json::from_slice::<NodeInfo>(&b).ok())
        .is_some_and(|n| n.software.name.eq_ignore_ascii_case("confab"))
}
