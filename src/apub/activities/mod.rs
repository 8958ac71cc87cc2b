//! Activities: one file per activity type, each with its wire struct and
//! its `impl Activity` (`verify` checks, `receive` only applies through
//! `chat`, under the same rules as a local user's action). [`InboxActivity`]
//! is what an inbox accepts; it drops replays by activity id, except for
//! Confab's ephemeral `Presence` and `Typing`, which are never stored, and
//! `Create`, whose message is stored once under its object's id.

pub mod accept;
pub mod add;
pub mod announce;
pub mod block;
pub mod create;
pub mod delete;
pub mod emoji_react;
pub mod flag;
pub mod follow;
pub mod like;
pub mod presence;
pub mod reject;
pub mod remove;
pub mod typing;
pub mod undo;
pub mod update;

use crate::apub::context::{Context, Data};
use crate::error::Error;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// Every activity an inbox handles, told apart by `type`; anything else
/// lands in `Other` and is acknowledged without effect.
#[derive(Debug)]
pub enum InboxActivity {
    Follow(follow::Follow),
    Accept(accept::Accept),
    Reject(reject::Reject),
    Undo(undo::Undo),
    Block(block::Block),
    Create(Box<create::Create>),
    Update(update::Update),
    Delete(delete::Delete),
    Flag(flag::Flag),
    EmojiReact(emoji_react::EmojiReact),
    Like(like::Like),
    Announce(announce::Announce),
    Add(add::Add),
    Remove(remove::Remove),
    Presence(presence::Presence),
    Typing(typing::Typing),
    Other(OtherActivity),
}

/// An activity of a type Confab does not act on (`Move`, `Question`, …), or
/// one of a handled type in a shape Confab does not use (a boost is an
/// `Announce` of a post's URL; a pin is an `Add` to a featured collection).
#[derive(Debug, Deserialize, Serialize)]
pub struct OtherActivity {
    pub id: Url,
    #[serde(deserialize_with = "crate::apub::wire::reference")]
    pub actor: Url,
    #[serde(rename = "type")]
    pub kind: String,
    /// Kept to tell a malformed activity from one about an object Confab
    /// does not keep (a `Create{Question}` poll, an `Update{Article}`).
    #[serde(default, skip_serializing)]
    pub object: serde_json::Value,
}

/// Types that have a variant above: reaching `Other` with one of them means
/// the activity was malformed. (`Announce`, `Add` and `Remove` are not
/// listed: other servers use them for boosts and pinned posts, which Confab
/// ignores.)
const HANDLED: [&str; 13] = [
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Block",
    "Create",
    "Update",
    "Delete",
    "Flag",
    "Presence",
    "Typing",
    "EmojiReact",
    "Like",
];

/// Object types that Confab reads in the activities above. One of those
/// activities about an embedded object of any other type (`Create{Question}`,
/// `Update{Article}`, `Undo{Announce}`…) is about something
/// Confab does not keep and is ignored.
const HANDLED_OBJECTS: [&str; 11] = [
    "Note",
    "ChatMessage",
    "Person",
    "Service",
    "Application",
    "Organization",
    "Group",
    "Follow",
    "Block",
    "EmojiReact",
    "Like",
];

impl OtherActivity {
    /// Whether the activity is of a handled type and about a handled object
    /// (or one that cannot be told), so that reaching `Other` means it was
    /// malformed.
    fn is_malformed(&self) -> bool {
        if !HANDLED.contains(&self.kind.as_str()) {
            return false;
        }
        match self.object.get("type").and_then(|t| t.as_str()) {
            Some(kind) => HANDLED_OBJECTS.contains(&kind),
            None => true,
        }
    }
}

/// The `type` of an activity, read before the rest.
#[derive(Deserialize)]
struct Kind {
    #[serde(rename = "type", default)]
    kind: serde_json::Value,
}

impl InboxActivity {
    /// Reads an activity straight into the struct its `type` names (an
    /// untagged enum would copy the document into a buffer and try each
    /// variant in turn); one that does not fit it is read as `Other`.
    pub fn from_json(json: &[u8]) -> serde_json::Result<Self> {
        let kind = serde_json::from_slice::<Kind>(json)?.kind;
        let typed = match kind.as_str() {
            Some("Follow") => serde_json::from_slice(json).map(Self::Follow),
            Some("Accept") => serde_json::from_slice(json).map(Self::Accept),
            Some("Reject") => serde_json::from_slice(json).map(Self::Reject),
            Some("Undo") => serde_json::from_slice(json).map(Self::Undo),
            Some("Block") => serde_json::from_slice(json).map(Self::Block),
            Some("Create") => serde_json::from_slice(json).map(|c| Self::Create(Box::new(c))),
            Some("Update") => serde_json::from_slice(json).map(Self::Update),
            Some("Delete") => serde_json::from_slice(json).map(Self::Delete),
            Some("Flag") => serde_json::from_slice(json).map(Self::Flag),
            Some("EmojiReact") => serde_json::from_slice(json).map(Self::EmojiReact),
            Some("Like") => serde_json::from_slice(json).map(Self::Like),
            Some("Announce") => serde_json::from_slice(json).map(Self::Announce),
            Some("Add") => serde_json::from_slice(json).map(Self::Add),
            Some("Remove") => serde_json::from_slice(json).map(Self::Remove),
            Some("Presence") => serde_json::from_slice(json).map(Self::Presence),
            Some("Typing") => serde_json::from_slice(json).map(Self::Typing),
            _ => serde_json::from_slice(json).map(Self::Other),
        };
        typed.or_else(|_| serde_json::from_slice(json).map(Self::Other))
    }

    /// Presence and typing (also relayed by a group): live signals whose
    /// ids are not recorded, since nothing of them is stored. A replayed
    /// `Presence` is older than the last one applied and is ignored; a
    /// replayed `Typing` only shows a typing indicator again, which lapses.
    pub fn is_ephemeral(&self) -> bool {
        match self {
            Self::Presence(_) | Self::Typing(_) => true,
            Self::Announce(announce) => {
                matches!(announce.object, announce::Relayed::Typing(_))
            }
            _ => false,
        }
    }

    /// Whether applying the activity twice stores nothing twice on its
    /// own, so its id need not be recorded. A `Create` is stored under its
    /// object's id as the message's request id (unique per author), and a
    /// second delivery finds the first message; skipping the record saves
    /// a write per received message.
    pub fn is_idempotent(&self) -> bool {
        matches!(self, Self::Create(_))
    }
}

macro_rules! each_variant {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            InboxActivity::Follow($a) => $body,
            InboxActivity::Accept($a) => $body,
            InboxActivity::Reject($a) => $body,
            InboxActivity::Undo($a) => $body,
            InboxActivity::Block($a) => $body,
            InboxActivity::Create($a) => $body,
            InboxActivity::Update($a) => $body,
            InboxActivity::Delete($a) => $body,
            InboxActivity::Flag($a) => $body,
            InboxActivity::EmojiReact($a) => $body,
            InboxActivity::Like($a) => $body,
            InboxActivity::Announce($a) => $body,
            InboxActivity::Add($a) => $body,
            InboxActivity::Remove($a) => $body,
            InboxActivity::Presence($a) => $body,
            InboxActivity::Typing($a) => $body,
            InboxActivity::Other($a) => $body,
        }
    };
}

#[async_trait::async_trait]
impl Activity for InboxActivity {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        each_variant!(self, a => a.id())
    }

    fn actor(&self) -> &Url {
        each_variant!(self, a => a.actor())
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        each_variant!(self, a => a.verify(data).await)
    }

    /// Applies the activity once: its id is recorded first, so a replay is
    /// a no-op; if applying fails the record is removed again. Ephemeral
    /// and idempotent activities are applied without a record.
    async fn receive(self, data: &Data) -> Result<(), Error> {
        if self.is_ephemeral() || self.is_idempotent() {
            return each_variant!(self, a => a.receive(data).await);
        }
        let id = self.id().to_string();
        if !data.replays.mark(&id).await? {
            tracing::debug!(%id, "replayed activity ignored");
            return Ok(());
        }
        let result = each_variant!(self, a => a.receive(data).await);
        if result.is_err() {
            data.replays.unmark(&id).await?;
        }
        result
    }
}

#[async_trait::async_trait]
impl Activity for OtherActivity {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        if self.is_malformed() {
            return Err(Error::InvalidActivity(format!(
                "malformed {} activity",
                self.kind
            )));
        }
        Ok(())
    }

    async fn receive(self, _data: &Data) -> Result<(), Error> {
        tracing::debug!(kind = %self.kind, id = %self.id, "activity type not handled");
        Ok(())
    }
}

/// `a` and `b` are on the same host (and port).
pub fn same_origin(a: &Url, b: &Url) -> Result<(), Error> {
    if a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default() {
        Ok(())
    } else {
        Err(Error::InvalidActivity(format!(
            "{b} is not on the same server as {a}"
        )))
    }
}

/// The group hosted here that `url` names, if it names one (by its form:
/// whether it exists is for `chat` to say).
pub fn local_group(url: &Url, data: &Data) -> Option<crate::db::ids::ConversationId> {
    data.urls().group_id(url)
}

/// The user an actor id names: a local one, or a remote one read from the
/// database or fetched.
pub async fn user_named(
    actor: &Url,
    data: &Data,
) -> Result<crate::apub::objects::person::ApubUser, Error> {
    use activitypub_federation::traits::Object;
    if data.config.is_local(actor) {
        return crate::apub::objects::person::ApubUser::read_from_id(actor.clone(), data)
            .await?
            .ok_or_else(|| Error::Chat(crate::chat::ChatError::NotFound("user")));
    }
    activitypub_federation::fetch::object_id::ObjectId::from(actor.clone())
        .dereference(data)
        .await
}

/// The id of the local user `url` names (what activities addressed to a
/// local user need of them; kept in memory by `chat`).
pub async fn local_user(url: &Url, data: &Data) -> Result<crate::db::ids::UserId, Error> {
    let not_ours = || Error::InvalidActivity(format!("{url} is not a user of this server"));
    if !data.config.is_local(url) {
        return Err(not_ours());
    }
    let missing = || Error::Chat(crate::chat::ChatError::NotFound("user"));
    let name = data.urls().user_name(url).ok_or_else(missing)?;
    data.chat.local_user_id(name).await?.ok_or_else(missing)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fixture with its placeholders filled in.
    pub(crate) fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/apub/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("{actor}", "https://remote.example/users/mo")
            .replace("{recipient}", "https://alpha.example/users/ada")
            .replace("{id}", "1")
            .replace(
                "{message}",
                "https://alpha.example/messages/0193a6f0-0000-7000-8000-000000000001",
            )
    }

    fn parse(name: &str) -> InboxActivity {
        InboxActivity::from_json(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn what_peers_send_parses_into_the_right_activity() {
        assert!(matches!(
            parse("mastodon-follow.json"),
            InboxActivity::Follow(_)
        ));
        assert!(matches!(
            parse("mastodon-undo-follow.json"),
            InboxActivity::Undo(_)
        ));
        assert!(matches!(
            parse("mastodon-block.json"),
            InboxActivity::Block(_)
        ));
        assert!(matches!(
            parse("mastodon-delete-note.json"),
            InboxActivity::Delete(_)
        ));
        let InboxActivity::Delete(delete) = parse("mastodon-delete-person.json") else {
            panic!("a Delete{{Person}} is a Delete");
        };
        assert_eq!(delete.object.id(), &delete.actor);
        let InboxActivity::Update(update) = parse("mastodon-update-person.json") else {
            panic!("an Update{{Person}} is an Update");
        };
        assert!(matches!(update.object, update::UpdateObject::Person(_)));
        // What Confab ignores: a public post, a boost, a pin.
        assert!(matches!(
            parse("mastodon-create-public-note.json"),
            InboxActivity::Create(_)
        ));
        for name in ["mastodon-announce-boost.json", "mastodon-add-pinned.json"] {
            assert!(
                matches!(parse(name), InboxActivity::Other(_) | InboxActivity::Add(_)),
                "{name}"
            );
        }
        for (name, text) in [
            (
                "mastodon-create-direct-note.json",
                "@ada hi from mastodon & friends",
            ),
            ("lemmy-private-message.json", "hi from **lemmy**"),
            ("lemmy-0.19-chat-message.json", "hi from old lemmy"),
            (
                "pleroma-chat-message.json",
                "hi from pleroma chat :blobcat:",
            ),
            ("fedify-create-note.json", "@ada hi from fedify"),
            (
                "misskey-create-note.json",
                "@ada@alpha.example hi from misskey",
            ),
            (
                "akkoma-create-note.json",
                "@ada@alpha.example hi from akkoma",
            ),
            ("gotosocial-create-note.json", "@ada hi from gotosocial"),
        ] {
            let InboxActivity::Create(create) = parse(name) else {
                panic!("{name} is not a Create");
            };
            assert_eq!(create.object.text(), text, "{name}");
            assert_eq!(create.object.to.len(), 1, "{name}");
        }
    }

    #[test]
    fn reactions_of_each_peer_parse_with_their_emoji() {
        let message = "https://alpha.example/messages/0193a6f0-0000-7000-8000-000000000001";
        let InboxActivity::EmojiReact(react) = parse("pleroma-emoji-react.json") else {
            panic!("Pleroma's EmojiReact is an EmojiReact");
        };
        assert_eq!(
            (react.content.as_str(), react.object.as_str()),
            ("🔥", message)
        );
        let InboxActivity::EmojiReact(custom) = parse("akkoma-emoji-react-custom.json") else {
            panic!("Akkoma's EmojiReact is an EmojiReact");
        };
        // Custom emoji are refused (422), with a reason.
        let Err(Error::Chat(crate::chat::ChatError::Invalid { message: why, .. })) =
            emoji_react::reaction_emoji(&custom.content)
        else {
            panic!("a custom emoji is refused");
        };
        assert!(why.contains("custom emoji"), "{why}");
        for (name, emoji) in [
            ("misskey-like-reaction.json", "🎉"),
            ("mastodon-like.json", like::PLAIN_LIKE),
        ] {
            let InboxActivity::Like(like) = parse(name) else {
                panic!("{name} is a Like");
            };
            assert_eq!(like.emoji(), emoji, "{name}");
            assert_eq!(like.object.as_str(), message, "{name}");
            assert!(emoji_react::reaction_emoji(like.emoji()).is_ok(), "{name}");
        }
        // Misskey's own field alone is enough.
        let only_misskey = fixture("misskey-like-reaction.json").replace(r#""content": "🎉","#, "");
        let InboxActivity::Like(like) = InboxActivity::from_json(only_misskey.as_bytes()).unwrap()
        else {
            panic!("a Like without content is a Like");
        };
        assert_eq!(like.emoji(), "🎉");
        for (name, emoji) in [
            ("misskey-undo-like.json", "🎉"),
            ("mastodon-undo-like.json", like::PLAIN_LIKE),
            ("akkoma-undo-emoji-react.json", "🔥"),
        ] {
            let InboxActivity::Undo(undo) = parse(name) else {
                panic!("{name} is an Undo");
            };
            let undone = match &undo.object {
                undo::Undoable::Like(l) => l.emoji().to_owned(),
                undo::Undoable::EmojiReact(r) => r.content.clone(),
                other => panic!("{name} undoes {other:?}"),
            };
            assert_eq!(undone, emoji, "{name}");
        }
        // Pleroma names the undone reaction by its id alone.
        let InboxActivity::Undo(undo) = parse("pleroma-undo-emoji-react.json") else {
            panic!("Pleroma's Undo is an Undo");
        };
        let undo::Undoable::Reference(id) = &undo.object else {
            panic!("Pleroma's Undo names its reaction by id: {:?}", undo.object);
        };
        assert_eq!(
            id.as_str(),
            "https://remote.example/users/mo/activities/react-1"
        );
        // What Confab sends reads back the same, also relayed by a group.
        let sent = emoji_react::EmojiReact::new(
            Url::parse("https://beta.example/users/bob/reactions/1/2").unwrap(),
            Url::parse("https://beta.example/users/bob").unwrap(),
            Url::parse(message).unwrap(),
            "👍".into(),
            vec![Url::parse("https://alpha.example/users/ada").unwrap()],
        );
        let json = serde_json::to_value(&sent).unwrap();
        assert_eq!(json["type"], "EmojiReact");
        assert_eq!(json["content"], "👍");
        let undo = undo::Undo::of(
            Url::parse("https://beta.example/users/bob/reactions/1/2/undo").unwrap(),
            sent.actor.inner().clone(),
            undo::Undoable::EmojiReact(sent.clone()),
        );
        let announce = announce::Announce::relay(
            Url::parse("https://alpha.example/groups/1/relays/x").unwrap(),
            Url::parse("https://alpha.example/groups/1").unwrap(),
            vec![],
            announce::Relayed::Undo(undo),
        );
        let json = serde_json::to_string(&announce).unwrap();
        let InboxActivity::Announce(read) = InboxActivity::from_json(json.as_bytes()).unwrap()
        else {
            panic!("an Announce is an Announce");
        };
        assert!(matches!(
            read.object,
            announce::Relayed::Undo(undo::Undo {
                object: undo::Undoable::EmojiReact(_),
                ..
            })
        ));
    }

    #[test]
    fn mastodons_flag_names_the_reported_actor_then_its_posts() {
        let InboxActivity::Flag(flag) = parse("mastodon-flag.json") else {
            panic!("a Flag is a Flag");
        };
        assert_eq!(flag.actor.as_str(), "https://remote.example/users/mo");
        assert_eq!(flag.content, "spam sent to many people");
        let objects: Vec<&str> = flag.object.iter().map(Url::as_str).collect();
        assert_eq!(
            objects,
            [
                "https://alpha.example/users/ada",
                "https://alpha.example/messages/0193a6f0-0000-7000-8000-000000000001"
            ]
        );
        // What we send has the same shape, and reads back the same.
        let sent = flag::Flag::new(
            flag.id.clone(),
            flag.actor.clone(),
            flag.object[0].clone(),
            vec![flag.object[1].clone()],
            flag.content.clone(),
        );
        let json = serde_json::to_value(&sent).unwrap();
        assert_eq!(json["type"], "Flag");
        assert_eq!(json["object"].as_array().unwrap().len(), 2);
        assert!(matches!(
            InboxActivity::from_json(json.to_string().as_bytes()).unwrap(),
            InboxActivity::Flag(_)
        ));
        // A Flag without objects is malformed, not ignored.
        let empty =
            r#"{"id": "https://r.example/f", "type": "Flag", "actor": "https://r.example/actor"}"#;
        let InboxActivity::Other(other) = InboxActivity::from_json(empty.as_bytes()).unwrap()
        else {
            panic!("a Flag without object is not a Flag");
        };
        assert!(other.is_malformed());
    }

    #[test]
    fn compacted_scalars_and_embedded_objects_are_read() {
        // Fedify: scalar `to` and `tag`, nanosecond `published`, `proof`.
        let InboxActivity::Create(create) = parse("fedify-create-note.json") else {
            panic!("Fedify's Create is a Create");
        };
        assert_eq!(create.object.tag.len(), 1);
        assert_eq!(create.object.tag[0]["type"], "Mention");
        let published = create.object.published.expect("published is read");
        assert_eq!(published.timestamp_subsec_nanos(), 123_456_789);
        // GoToSocial (go-fed) compacts the same way.
        let InboxActivity::Create(create) = parse("gotosocial-create-note.json") else {
            panic!("GoToSocial's Create is a Create");
        };
        assert_eq!(create.object.tag.len(), 1);
        // Fedify's Accept embeds the whole Follow, with the follower's actor
        // object (`sec:` keys) in `object.actor`; only ids are taken, and the
        // Accept's id has a fragment.
        let InboxActivity::Accept(accept) = parse("fedify-accept-follow.json") else {
            panic!("Fedify's Accept is an Accept");
        };
        assert_eq!(
            accept.id.as_str(),
            "https://remote.example/users/mo#accepts/1"
        );
        let accept::FollowRef::Embedded(follow) = accept.object else {
            panic!("the Follow is embedded");
        };
        assert_eq!(
            follow.actor.inner().as_str(),
            "https://alpha.example/users/ada"
        );
        assert_eq!(follow.object.as_str(), "https://remote.example/users/mo");
    }

    #[test]
    fn activities_about_objects_confab_does_not_keep_are_ignored() {
        for name in [
            "mastodon-undo-announce.json",
            "mastodon-create-question.json",
        ] {
            let InboxActivity::Other(other) = parse(name) else {
                panic!("{name} is not handled");
            };
            assert!(!other.is_malformed(), "{name} is acknowledged");
        }
    }

    #[test]
    fn confabs_ephemeral_activities_parse_and_are_not_recorded() {
        let presence = r#"{"@context": ["https://www.w3.org/ns/activitystreams"],
            "id": "https://beta.example/users/bob/presence/1", "type": "Presence",
            "actor": "https://beta.example/users/bob", "to": "https://alpha.example/users/ada",
            "status": "away", "published": "2026-12-08T09:00:00Z",
            "endTime": "2026-12-08T09:03:00Z"}"#;
        let parsed = InboxActivity::from_json(presence.as_bytes()).unwrap();
        assert!(parsed.is_ephemeral());
        let InboxActivity::Presence(p) = parsed else {
            panic!("a Presence is a Presence");
        };
        assert_eq!(p.status, crate::chat::views::Status::Away);
        assert_eq!((p.end_time - p.published).num_seconds(), 180);
        assert_eq!(p.to.len(), 1);
        // What we send reads back the same.
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["endTime"], "2026-12-08T09:03:00Z");
        assert!(matches!(
            InboxActivity::from_json(json.to_string().as_bytes()).unwrap(),
            InboxActivity::Presence(_)
        ));
        // An unknown status is malformed (400), not a Presence.
        let bad = presence.replace("\"away\"", "\"busy\"");
        let InboxActivity::Other(other) = InboxActivity::from_json(bad.as_bytes()).unwrap() else {
            panic!("a Presence with an unknown status is not a Presence");
        };
        assert!(other.is_malformed());
        let typing = typing::Typing::new(
            Url::parse("https://beta.example/users/bob/typing/1").unwrap(),
            Url::parse("https://beta.example/users/bob").unwrap(),
            vec![Url::parse("https://alpha.example/groups/1").unwrap()],
            Some(Url::parse("https://alpha.example/groups/1").unwrap()),
            true,
        );
        let json = serde_json::to_string(&typing).unwrap();
        let InboxActivity::Typing(read) = InboxActivity::from_json(json.as_bytes()).unwrap() else {
            panic!("a Typing is a Typing");
        };
        assert!(read.typing);
        assert_eq!(
            read.target.unwrap().as_str(),
            "https://alpha.example/groups/1"
        );
        // Relayed by the group's host: an Announce, not recorded either.
        let announce = announce::Announce::relay(
            Url::parse("https://alpha.example/groups/1/relays/x").unwrap(),
            Url::parse("https://alpha.example/groups/1").unwrap(),
            vec![],
            announce::Relayed::Typing(typing),
        );
        let json = serde_json::to_string(&announce).unwrap();
        let parsed = InboxActivity::from_json(json.as_bytes()).unwrap();
        assert!(matches!(parsed, InboxActivity::Announce(_)));
        assert!(parsed.is_ephemeral());
        assert!(!parse("mastodon-follow.json").is_ephemeral());
    }

    #[test]
    fn unknown_types_are_other_and_malformed_known_types_are_refused() {
        let listen = r#"{"id": "https://r.example/1", "type": "Listen", "actor": "https://r.example/u", "object": "https://x/1"}"#;
        let InboxActivity::Other(other) = InboxActivity::from_json(listen.as_bytes()).unwrap()
        else {
            panic!("a Listen is not handled");
        };
        assert_eq!(other.kind, "Listen");
        assert!(!other.is_malformed());
        // A Create without an object falls through to Other, whose verify
        // refuses it (a malformed Create must not be acknowledged silently).
        let broken =
            r#"{"id": "https://r.example/2", "type": "Create", "actor": "https://r.example/u"}"#;
        let InboxActivity::Other(other) = InboxActivity::from_json(broken.as_bytes()).unwrap()
        else {
            panic!("a broken Create must not parse as a Create");
        };
        assert!(HANDLED.contains(&other.kind.as_str()));
    }
}
