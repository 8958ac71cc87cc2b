//! Users as ActivityPub actors. [`ApubUser`] wraps a user row (local or a
//! remote actor we stored) and implements the library's `Object` and
//! `Actor`; [`Person`] is the wire form, parsed leniently (Mastodon, Lemmy,
//! Pleroma and Fedify all send it a little differently).

use crate::apub::context::Data;
use crate::apub::urls::LocalUrls;
use crate::apub::{html, wire};
use crate::chat::profiles::ProfileLink;
use crate::db::ids::UserId;
use crate::db::users::{self as user_rows, UserRow};
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::{Actor, Object};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// A user row seen by federation.
#[derive(Debug, Clone)]
pub struct ApubUser {
    pub row: UserRow,
    /// The ActivityPub id (derived for local users, stored for remote ones).
    pub ap_id: Url,
}

/// The public key block of an actor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: Url,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<Url>,
}

/// An image (`icon`): an object with a `url`, or just the URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Image {
    Object {
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        url: Url,
    },
    Link(Url),
}

impl Image {
    /// An `Image` object at `url`, as Mastodon writes an avatar.
    fn at(url: Url) -> Self {
        Image::Object {
            kind: Some("Image".into()),
            url,
        }
    }
}

/// A profile field (Mastodon's `PropertyValue`): a profile link here, its
/// `value` an HTML link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub value: String,
}

/// An actor document: what Confab reads of remote actors, and the whole
/// document of a local user (`GET /users/{name}`), written once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: ObjectId<ApubUser>,
    #[serde(rename = "type")]
    pub kind: String,
    /// Where people read the profile (the actor id itself here).
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<Url>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub outbox: Option<Url>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub followers: Option<Url>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub following: Option<Url>,
    /// Always true for Confab users: a contact request waits for an answer.
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub manually_approves_followers: Option<bool>,
    #[serde(
        default,
        deserialize_with = "wire::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    /// Profile links (other kinds of attachment are skipped).
    #[serde(
        default,
        deserialize_with = "wire::each_that_parses",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<PropertyValue>,
    /// Optional in ActivityPub; without it the name comes from the id.
    #[serde(default, deserialize_with = "wire::lenient")]
    pub preferred_username: Option<String>,
    #[serde(default, deserialize_with = "wire::lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::lenient")]
    pub summary: Option<String>,
    pub inbox: Url,
    #[serde(default, deserialize_with = "wire::lenient")]
    pub endpoints: Option<Endpoints>,
    /// One key, or several (Fedify lists each RSA key): the first is used.
    #[serde(deserialize_with = "wire::first")]
    pub public_key: PublicKey,
    #[serde(
        default,
        deserialize_with = "activitypub_federation::protocol::helpers::deserialize_skip_error"
    )]
    pub icon: Option<Image>,
    /// FEP-521a keys: Fedify lists an Ed25519 Multikey, and so do we.
    #[serde(
        default,
        deserialize_with = "wire::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub assertion_method: Vec<serde_json::Value>,
}

/// The host of `url` with its port, if any: how remote users' names and
/// domains are written (`name@host:port`).
pub fn host_with_port(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// The name a remote actor is known by here: its `preferredUsername`, or
/// (ActivityPub does not require one) the last segment of its id's path,
/// without control characters or `@`, at most 64 characters.
fn username_of(preferred: Option<&str>, id: &Url) -> Result<String, Error> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() && *c != '@' && *c != '/')
            .take(64)
            .collect()
    };
    let from_id = || {
        id.path_segments()
            .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
            .map(|s| {
                clean(
                    &percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .trim_start_matches('@')
                        .replace(['.', ' '], "_"),
                )
            })
            .unwrap_or_default()
    };
    let name = preferred
        .map(clean)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(from_id);
    if name.trim().is_empty() {
        return Err(Error::InvalidActivity(
            "the actor has no preferredUsername and its id names no one".into(),
        ));
    }
    Ok(name)
}

impl ApubUser {
    /// The actor document, with `ed25519` (the public Multibase) as a
    /// FEP-521a `assertionMethod` Multikey beside the RSA `publicKey`.
    pub fn to_person(&self, urls: &LocalUrls, ed25519: Option<&str>) -> Person {
        let id = self.ap_id.clone();
        let at = |path: &str| Url::parse(&format!("{id}/{path}")).ok();
        let row = &self.row;
        let links: Vec<ProfileLink> = serde_json::from_str(&row.profile_links).unwrap_or_default();
        let attachment = links
            .into_iter()
            .map(|link| PropertyValue {
                kind: "PropertyValue".into(),
                value: format!(
                    "<a href=\"{0}\" rel=\"me nofollow noopener noreferrer\" target=\"_blank\">{0}</a>",
                    html::escape(&link.url)
                ),
                name: link.name,
            })
            .collect();
        let name = match row.display_name.is_empty() {
            true => &row.name,
            false => &row.display_name,
        };
        Person {
            id: id.clone().into(),
            kind: "Person".into(),
            url: Some(id.clone()),
            outbox: at("outbox"),
            followers: at("followers"),
            following: at("following"),
            manually_approves_followers: Some(true),
            published: Some(row.created_at.and_utc()),
            attachment,
            preferred_username: Some(row.name.clone()),
            name: Some(name.clone()),
            summary: Some(html::paragraphs(&row.bio)),
            inbox: self.inbox(),
            endpoints: Some(Endpoints {
                shared_inbox: Url::parse(&urls.shared_inbox()).ok(),
            }),
            public_key: PublicKey {
                id: format!("{id}#main-key"),
                owner: id.clone(),
                public_key_pem: row.public_key_pem.clone().unwrap_or_default(),
            },
            icon: row
                .avatar_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
                .map(Image::at),
            assertion_method: ed25519
                .map(|key| crate::apub::keys::multikey(id.as_str(), key))
                .into_iter()
                .collect(),
        }
    }

    /// Wraps a row, computing a local user's id from `base`.
    pub fn from_row(row: UserRow, base: &str) -> Result<Self, Error> {
        let id = match &row.ap_id {
            Some(id) => id.clone(),
            None => LocalUrls::new(base).user(&row.name),
        };
        let ap_id = Url::parse(&id).map_err(|e| Error::Internal(format!("actor id {id}: {e}")))?;
        Ok(Self { row, ap_id })
    }

    pub fn id(&self) -> UserId {
        self.row.id
    }

    pub fn is_local(&self) -> bool {
        self.row.domain.is_none()
    }

    /// How the user is mentioned: `@name@host`.
    pub fn handle(&self) -> String {
        match &self.row.domain {
            Some(_) => format!("@{}", self.row.name),
            None => format!("@{}@{}", self.row.name, host_with_port(&self.ap_id)),
        }
    }

    /// An actor we already stored (no fetch).
    pub async fn read_known(id: &Url, data: &Data) -> Result<Option<Self>, Error> {
        <Self as Object>::read_from_id(id.clone(), data).await
    }

    /// The shared inbox if the actor has one, else its own.
    pub fn delivery_inbox(&self) -> Url {
        self.shared_inbox_or_inbox()
    }
}

/// `inbox` and `endpoints.sharedInbox` are on the actor's own server (as
/// Mastodon requires): deliveries go there, so a document must not point
/// them at another host. Compared by host and port, so that hosts written
/// as IP addresses (which have no domain) are compared too.
fn inboxes_on_own_server(json: &Person) -> Result<(), Error> {
    let id = json.id.inner();
    let shared = json
        .endpoints
        .as_ref()
        .and_then(|e| e.shared_inbox.as_ref());
    for inbox in std::iter::once(&json.inbox).chain(shared) {
        crate::apub::activities::same_origin(id, inbox).map_err(|_| {
            Error::InvalidActivity(format!(
                "the actor's inbox {inbox} is not on its own server"
            ))
        })?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Object for ApubUser {
    type DataType = super::super::context::Context;
    type Kind = Person;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.ap_id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        match &self.row.domain {
            Some(_) => self.row.fetched_at.map(|t| t.and_utc()),
            None => Some(Utc::now()),
        }
    }

    async fn read_from_id(object_id: Url, data: &Data) -> Result<Option<Self>, Error> {
        if let Some(actor) = data.actors.get(&object_id) {
            return Ok(Some(actor));
        }
        let base = data.config.public_base();
        let mut conn = data.chat.db().read().await?;
        let row = match LocalUrls::new(base.as_str()).user_name(&object_id) {
            Some(name) => user_rows::find_by_name(&mut conn, name)
                .await?
                .filter(|r| r.domain.is_none()),
            _ => user_rows::find_by_ap_id(&mut conn, object_id.as_str()).await?,
        };
        let actor = row.map(|row| ApubUser::from_row(row, &base)).transpose()?;
        if let Some(actor) = &actor {
            data.actors.put(actor);
        }
        Ok(actor)
    }

    /// The document of a local user (its keys are made if missing); a
    /// remote one as we stored it.
    async fn into_json(self, data: &Data) -> Result<Person, Error> {
        let ed25519 = match self.is_local() {
            true => Some(
                crate::apub::keys::ensure_ed25519(data.chat.db(), self.id())
                    .await?
                    .0,
            ),
            false => None,
        };
        Ok(self.to_person(&data.urls(), ed25519.as_deref()))
    }

    async fn verify(json: &Person, expected_domain: &Url, _data: &Data) -> Result<(), Error> {
        activitypub_federation::protocol::verification::verify_domains_match(
            json.id.inner(),
            expected_domain,
        )?;
        inboxes_on_own_server(json)?;
        if json.public_key.owner != *json.id.inner() {
            return Err(Error::InvalidActivity(
                "the actor's key belongs to another actor".into(),
            ));
        }
        Ok(())
    }

    async fn from_json(json: Person, data: &Data) -> Result<Self, Error> {
        let id = json.id.inner().clone();
        if data.config.is_local(&id) {
            return Err(Error::InvalidActivity(
                "a remote copy of a local actor".into(),
            ));
        }
        let host = host_with_port(&id);
        let username = username_of(json.preferred_username.as_deref(), &id)?;
        let now = Utc::now().naive_utc();
        let display_name: String = json
            .name
            .as_deref()
            .map(html::to_text)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        let bio: String = json
            .summary
            .as_deref()
            .map(html::to_text)
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect();
        let avatar_url = match json.icon {
            Some(Image::Object { url, .. }) | Some(Image::Link(url)) => Some(url.to_string()),
            None => None,
        };
        let ed25519 = crate::apub::keys::remote_ed25519(&id, &json.assertion_method);
        let row = UserRow {
            id: UserId::new(),
            name: format!("{username}@{host}"),
            display_name,
            bio,
            avatar_url,
            profile_links: "[]".into(),
            role: "user".into(),
            password_hash: None,
            external_subject: None,
            public_key_pem: Some(json.public_key.public_key_pem),
            private_key_pem: None,
            created_at: now,
            updated_at: now,
            domain: Some(host),
            ap_id: Some(id.to_string()),
            inbox: Some(json.inbox.to_string()),
            shared_inbox: json
                .endpoints
                .and_then(|e| e.shared_inbox)
                .map(|u| u.to_string()),
            fetched_at: Some(now),
            ed25519_key_id: ed25519.as_ref().map(|(id, _)| id.clone()),
            ed25519_public_key: ed25519.map(|(_, key)| key),
            ed25519_private_key: None,
            suspended_at: None,
            token_generation: 0,
            share_presence_remote: true,
            share_read_receipts: true,
        };
        let stored = user_rows::upsert_remote(&mut data.chat.db().write().await?, &row).await?;
        let actor = ApubUser::from_row(stored, &data.config.public_base())?;
        data.actors.put(&actor);
        Ok(actor)
    }
}

impl Actor for ApubUser {
    fn public_key_pem(&self) -> &str {
        self.row.public_key_pem.as_deref().unwrap_or_default()
    }

    fn private_key_pem(&self) -> Option<String> {
        self.row.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        super::inbox_of(self.row.inbox.as_deref(), &self.ap_id)
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.row
            .shared_inbox
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mastodon_person_parses() {
        let path = format!(
            "{}/tests/fixtures/apub/mastodon-person.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let json = std::fs::read_to_string(path)
            .unwrap()
            .replace("{actor}", "https://remote.example/users/mo");
        let person: Person = serde_json::from_str(&json).unwrap();
        assert_eq!(person.preferred_username.as_deref(), Some("mo"));
        assert_eq!(
            person.inbox.as_str(),
            "https://remote.example/users/mo/inbox"
        );
        assert_eq!(
            person
                .endpoints
                .and_then(|e| e.shared_inbox)
                .map(|u| u.to_string())
                .as_deref(),
            Some("https://remote.example/inbox")
        );
        assert!(matches!(person.icon, Some(Image::Object { .. })));
        assert_eq!(host_with_port(person.id.inner()), "remote.example");
    }

    #[test]
    fn inboxes_must_be_on_the_actors_own_server() {
        let person = |id: &str, inbox: &str, shared: Option<&str>| -> Person {
            serde_json::from_value(serde_json::json!({
                "id": id,
                "type": "Person",
                "preferredUsername": "mo",
                "inbox": inbox,
                "endpoints": shared.map(|s| serde_json::json!({"sharedInbox": s})),
                "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": "k"},
            }))
            .unwrap()
        };
        let id = "https://remote.example/users/mo";
        let ok = person(
            id,
            "https://remote.example/users/mo/inbox",
            Some("https://remote.example/inbox"),
        );
        assert!(inboxes_on_own_server(&ok).is_ok());
        assert!(inboxes_on_own_server(&person(id, "https://remote.example/i", None)).is_ok());
        for (inbox, shared) in [
            ("https://remote.example/i", Some("http://127.0.0.1:6379/")),
            ("https://remote.example/i", Some("http://10.0.0.1/inbox")),
            (
                "https://remote.example/i",
                Some("https://remote.example:8443/inbox"),
            ),
            ("https://other.example/inbox", None),
            ("http://2130706433/inbox", None),
            ("http://[::ffff:127.0.0.1]/inbox", None),
        ] {
            let refused = inboxes_on_own_server(&person(id, inbox, shared));
            assert!(refused.is_err(), "{inbox} {shared:?}");
        }
        // Hosts written as addresses have no domain: the library's domain
        // check passes any two of them; ours compares them.
        let ip = "https://192.0.2.1/users/mo";
        assert!(inboxes_on_own_server(&person(ip, "https://192.0.2.1/inbox", None)).is_ok());
        assert!(inboxes_on_own_server(&person(ip, "https://127.0.0.1/inbox", None)).is_err());
    }

    fn fixture(name: &str, actor: &str) -> Person {
        let path = format!("{}/tests/fixtures/apub/{name}", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(path)
            .unwrap()
            .replace("{actor}", actor);
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn actors_without_a_preferred_username_are_named_from_their_id() {
        let fedify = fixture("fedify-person.json", "https://f.example/users/fedi");
        assert_eq!(fedify.preferred_username, None);
        assert_eq!(
            fedify.public_key.id,
            "https://f.example/users/fedi#main-key"
        );
        assert_eq!(
            fedify
                .endpoints
                .and_then(|e| e.shared_inbox)
                .map(String::from)
                .as_deref(),
            Some("https://f.example/inbox")
        );
        let id = fedify.id.inner().clone();
        assert_eq!(username_of(None, &id).unwrap(), "fedi");
        let generic = fixture(
            "generic-person-no-username.json",
            "https://r.example/ap/actors/%40mo.n%C3%A9/",
        );
        let id = generic.id.inner().clone();
        assert_eq!(username_of(None, &id).unwrap(), "mo_né");
        assert_eq!(username_of(Some("  "), &id).unwrap(), "mo_né");
        assert_eq!(username_of(Some("ann"), &id).unwrap(), "ann");
        let bare = Url::parse("https://r.example/").unwrap();
        assert!(username_of(None, &bare).is_err());
    }

    #[test]
    fn a_local_user_s_document_has_what_peers_read_and_reads_back() {
        let now = Utc::now().naive_utc();
        let row = UserRow {
            id: UserId::new(),
            name: "ada".into(),
            display_name: "Ada L.".into(),
            bio: "maths & engines".into(),
            avatar_url: Some("https://c.example/media/ada.png".into()),
            profile_links: r#"[{"name": "site", "url": "https://ada.example/?a=1&b=<2>"}]"#.into(),
            role: "user".into(),
            password_hash: None,
            external_subject: None,
            public_key_pem: Some("PEM".into()),
            private_key_pem: None,
            created_at: now,
            updated_at: now,
            domain: None,
            ap_id: None,
            inbox: None,
            shared_inbox: None,
            fetched_at: None,
            ed25519_key_id: None,
            ed25519_public_key: None,
            ed25519_private_key: None,
            suspended_at: None,
            token_generation: 0,
            share_presence_remote: true,
            share_read_receipts: true,
        };
        let urls = LocalUrls::new("https://c.example");
        let actor = ApubUser::from_row(row, "https://c.example").unwrap();
        let doc = serde_json::to_value(actor.to_person(&urls, Some("z6Mkq"))).unwrap();
        let id = "https://c.example/users/ada";
        assert_eq!(doc["id"], id);
        assert_eq!(doc["url"], id);
        assert_eq!(doc["preferredUsername"], "ada");
        assert_eq!(doc["name"], "Ada L.");
        assert_eq!(doc["summary"], "<p>maths &amp; engines</p>");
        assert_eq!(doc["inbox"], format!("{id}/inbox"));
        assert_eq!(doc["outbox"], format!("{id}/outbox"));
        assert_eq!(doc["followers"], format!("{id}/followers"));
        assert_eq!(doc["endpoints"]["sharedInbox"], "https://c.example/inbox");
        assert_eq!(doc["manuallyApprovesFollowers"], true);
        assert!(doc["published"].is_string());
        assert_eq!(doc["publicKey"]["id"], format!("{id}#main-key"));
        assert_eq!(doc["publicKey"]["owner"], id);
        assert_eq!(doc["icon"]["type"], "Image");
        assert_eq!(doc["icon"]["url"], "https://c.example/media/ada.png");
        assert_eq!(doc["attachment"][0]["type"], "PropertyValue");
        assert_eq!(
            doc["attachment"][0]["value"],
            "<a href=\"https://ada.example/?a=1&amp;b=&lt;2&gt;\" rel=\"me nofollow noopener noreferrer\" target=\"_blank\">https://ada.example/?a=1&amp;b=&lt;2&gt;</a>"
        );
        assert_eq!(doc["assertionMethod"][0]["type"], "Multikey");
        assert_eq!(doc["assertionMethod"][0]["controller"], id);
        // What we emit, we read.
        let back: Person = serde_json::from_value(doc).unwrap();
        assert_eq!(back.attachment.len(), 1);
        assert_eq!(back.assertion_method.len(), 1);
    }
}
