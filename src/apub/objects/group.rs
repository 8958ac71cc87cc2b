//! Group conversations as ActivityPub `Group` actors (FEP-1b12). A group
//! hosted here is served at `/groups/{id}` and signs the `Announce`s that
//! relay its messages; a group hosted elsewhere is a mirror row holding the
//! host's key and inbox.

use crate::apub::context::{Context, Data};
use crate::apub::html;
use crate::apub::objects::person::{Endpoints, PublicKey};
use crate::apub::urls::LocalUrls;
use crate::chat::mirrors::GroupSnapshot;
use crate::db::conversations::{self as conversation_rows, ConversationRow};
use crate::db::ids::ConversationId;
use crate::error::Error;
use activitypub_federation::fetch::fetch_object_http;
use activitypub_federation::kinds::actor::GroupType;
use activitypub_federation::traits::{Actor, Object};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// A conversation row seen by federation.
#[derive(Debug, Clone)]
pub struct ApubGroup {
    pub row: ConversationRow,
    pub ap_id: Url,
}

/// One member in a group's state (`members`, a Confab extension).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupMember {
    pub actor: Url,
    /// `read`, `write`, `admin` or `owner`.
    pub rights: String,
}

/// The wire form of a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: GroupType,
    pub preferred_username: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Members and rights: only in the `Update`s the host sends to members,
    /// never in the public actor document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<GroupMember>>,
}

/// The `@context` of a group's state: ActivityStreams, security, and the
/// `members` and `rights` terms.
pub fn group_context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "members": "https://w3id.org/confab#members",
            "rights": "https://w3id.org/confab#rights",
        }
    ])
}

impl ApubGroup {
    pub fn from_row(row: ConversationRow, base: &str) -> Result<Self, Error> {
        let id = match &row.ap_id {
            Some(id) => id.clone(),
            None => LocalUrls::new(base).group(row.id),
        };
        let ap_id = Url::parse(&id).map_err(|e| Error::Internal(format!("group id {id}: {e}")))?;
        Ok(Self { row, ap_id })
    }

    /// The public document (no members).
    pub fn to_group(&self, base: &str) -> Group {
        Group {
            id: self.ap_id.clone(),
            kind: GroupType::Group,
            preferred_username: self.row.id.to_string(),
            name: self.row.name.clone(),
            summary: Some(html::paragraphs(&self.row.topic)),
            inbox: self.inbox(),
            endpoints: Url::parse(&LocalUrls::new(base).shared_inbox())
                .ok()
                .map(|shared| Endpoints {
                    shared_inbox: Some(shared),
                }),
            public_key: PublicKey {
                id: format!("{}#main-key", self.ap_id),
                owner: self.ap_id.clone(),
                public_key_pem: self.row.public_key_pem.clone().unwrap_or_default(),
            },
            updated: Some(self.row.updated_at.and_utc()),
            members: None,
        }
    }
}

#[async_trait::async_trait]
impl Object for ApubGroup {
    type DataType = Context;
    type Kind = Group;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.ap_id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.row.updated_at.and_utc())
    }

    async fn read_from_id(object_id: Url, data: &Data) -> Result<Option<Self>, Error> {
        if data.actors.get(&object_id).is_some() {
            // A user we read recently (senders are mostly users).
            return Ok(None);
        }
        let base = data.config.public_base();
        let urls = LocalUrls::new(base.as_str());
        let mut conn = data.chat.db().read().await?;
        let row = match urls.group_id(&object_id) {
            Some(id) => conversation_rows::find(&mut conn, id)
                .await?
                .filter(|r| r.kind == "group" && r.ap_id.is_none()),
            None if data.config.is_local(&object_id) => None,
            None => conversation_rows::find_by_ap_id(&mut conn, object_id.as_str()).await?,
        };
        row.map(|row| ApubGroup::from_row(row, &base)).transpose()
    }

    async fn into_json(self, data: &Data) -> Result<Group, Error> {
        Ok(self.to_group(&data.config.public_base()))
    }

    async fn verify(json: &Group, expected_domain: &Url, _data: &Data) -> Result<(), Error> {
        super::super::activities::same_origin(&json.id, expected_domain)?;
        super::super::activities::same_origin(&json.id, &json.inbox)?;
        if json.public_key.owner != json.id {
            return Err(Error::InvalidActivity(
                "the group's key belongs to another actor".into(),
            ));
        }
        Ok(())
    }

    /// A fetched group is not stored by itself: the mirror is made when the
    /// host names a local member (`Update{Group}`).
    async fn from_json(json: Group, data: &Data) -> Result<Self, Error> {
        let now = Utc::now().naive_utc();
        let row = ConversationRow {
            id: ConversationId::new(),
            kind: "group".into(),
            name: json.name,
            topic: json
                .summary
                .as_deref()
                .map(html::to_text)
                .unwrap_or_default(),
            avatar_url: None,
            creator_id: None,
            direct_key: None,
            created_at: now,
            updated_at: now,
            ap_id: Some(json.id.to_string()),
            public_key_pem: Some(json.public_key.public_key_pem),
            private_key_pem: None,
            inbox: Some(json.inbox.to_string()),
        };
        ApubGroup::from_row(row, &data.config.public_base())
    }
}

impl Actor for ApubGroup {
    fn public_key_pem(&self) -> &str {
        self.row.public_key_pem.as_deref().unwrap_or_default()
    }

    fn private_key_pem(&self) -> Option<String> {
        self.row.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        super::inbox_of(self.row.inbox.as_deref(), &self.ap_id)
    }
}

/// Rights as they are written on the wire.
pub fn rights_name(rights: crate::chat::views::Rights) -> &'static str {
    use crate::chat::views::Rights;
    match rights {
        Rights::Read => "read",
        Rights::Write => "write",
        Rights::Admin => "admin",
        Rights::Owner => "owner",
    }
}

/// Rights from the wire (unknown: `read`, the least).
pub fn parse_rights(name: &str) -> crate::chat::views::Rights {
    use crate::chat::views::Rights;
    match name {
        "owner" => Rights::Owner,
        "admin" => Rights::Admin,
        "write" => Rights::Write,
        _ => Rights::Read,
    }
}

impl Group {
    /// The state this document describes, members resolved to users here
    /// (remote ones fetched). Only the host's own documents carry members.
    pub async fn snapshot(self, data: &Data) -> Result<GroupSnapshot, Error> {
        let mut members = vec![];
        for member in self.members.unwrap_or_default() {
            let user = crate::apub::activities::user_named(&member.actor, data).await?;
            members.push((user.id(), parse_rights(&member.rights)));
        }
        Ok(GroupSnapshot {
            ap_id: self.id.to_string(),
            inbox: self.inbox.to_string(),
            public_key_pem: self.public_key.public_key_pem,
            name: self.name.unwrap_or_default().chars().take(64).collect(),
            topic: self
                .summary
                .as_deref()
                .map(html::to_text)
                .unwrap_or_default(),
            members,
            updated: self.updated.unwrap_or_else(Utc::now).naive_utc(),
        })
    }
}

/// The mirror of the group `id`, hosted elsewhere. When there is none yet
/// (its host relayed a message before its state arrived), the group is
/// fetched with a signed request: its host lists the members to servers
/// where members live, and the mirror is made from that. `None` when no
/// local user is a member.
pub async fn mirror(id: &Url, data: &Data) -> Result<Option<ApubGroup>, Error> {
    if let Some(group) = ApubGroup::read_from_id(id.clone(), data).await? {
        return Ok(Some(group));
    }
    let fetched: Group = fetch_object_http(id, data).await?.object;
    if fetched.id != *id || fetched.members.is_none() {
        return Ok(None);
    }
    ApubGroup::verify(&fetched, id, data).await?;
    data.chat
        .apply_group_snapshot(fetched.snapshot(data).await?)
        .await?;
    ApubGroup::read_from_id(id.clone(), data).await
}
