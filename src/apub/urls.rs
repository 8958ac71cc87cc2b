//! The local URL scheme: every id this server gives its users, groups,
//! messages and activities, and the reading back of those ids. Nothing else
//! in Confab writes or parses `/users/…`, `/groups/…`, `/messages/…`,
//! `…/follows/…`, `…/joins/…` or `…/reactions/…`, so the scheme can change
//! in one place.
//!
//! Imports only `db::ids`.

use crate::db::ids::{ConversationId, MessageId, UserId};
use url::Url;

/// The URLs of one server, from its public base (`https://host[:port]`).
#[derive(Debug, Clone)]
pub struct LocalUrls {
    base: String,
}

impl LocalUrls {
    pub fn new(base: impl Into<String>) -> Self {
        Self { base: base.into() }
    }

    /// The shared inbox.
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }

    /// The instance actor (it signs fetches).
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }

    /// The actor id (and profile URL) of local user `name`.
    pub fn user(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// The local user `url` names (`/users/{name}`, nothing after it).
    pub fn user_name<'u>(&self, url: &'u Url) -> Option<&'u str> {
        self.rest(url, "/users/").filter(|name| is_segment(name))
    }

    /// The actor id of a group hosted here.
    pub fn group(&self, id: ConversationId) -> String {
        format!("{}/groups/{id}", self.base)
    }

    /// The group hosted here that `url` names, by its form (whether it
    /// exists is for `chat` to say).
    pub fn group_id(&self, url: &Url) -> Option<ConversationId> {
        let id = self.rest(url, "/groups/")?;
        uuid::Uuid::parse_str(id).ok().map(ConversationId)
    }

    /// The id of a message written here.
    pub fn message(&self, id: MessageId) -> String {
        format!("{}/messages/{id}", self.base)
    }

    /// The message written here that `url` names.
    pub fn message_id(&self, url: &Url) -> Option<MessageId> {
        let id = self.rest(url, "/messages/")?;
        uuid::Uuid::parse_str(id).ok().map(MessageId)
    }

    /// The `context` of a direct conversation's notes.
    pub fn conversation(&self, id: ConversationId) -> String {
        format!("{}/conversations/{id}", self.base)
    }

    /// The id of the `Flag` that forwards local report `id`.
    pub fn report(&self, id: impl std::fmt::Display) -> String {
        format!("{}/reports/{id}", self.base)
    }

    /// A new id for an activity sent by this server.
    pub fn new_activity(&self) -> String {
        format!("{}/activities/{}", self.base, uuid::Uuid::now_v7())
    }

    /// The id of local `follower`'s `Follow` of the user `followed` (a
    /// database id), made at `at_ms`: stable, so the `Follow` of a contact
    /// link can be named again to undo it.
    pub fn follow(&self, follower: &str, followed: impl std::fmt::Display, at_ms: i64) -> String {
        format!("{}/follows/{followed}/{at_ms}", self.user(follower))
    }

    /// A new id for local `user`'s `Follow` of a group hosted elsewhere.
    pub fn new_join(&self, user: &str) -> String {
        format!("{}/joins/{}", self.user(user), uuid::Uuid::now_v7())
    }

    /// A new id for local `blocker`'s `Block`.
    pub fn new_block(&self, blocker: &str) -> String {
        format!("{}/blocks/{}", self.user(blocker), uuid::Uuid::now_v7())
    }

    /// A new id for local `user`'s ephemeral activity of `kind`
    /// (`presence`, `typing`); never served, never stored.
    pub fn new_signal(&self, user: &str, kind: &str) -> String {
        format!("{}/{kind}/{}", self.user(user), uuid::Uuid::now_v7())
    }

    /// The id of local `user`'s reaction to `message`, made at `made_at_us`
    /// (microseconds since the epoch): stable, so that the `Undo` of its
    /// removal names it again, and new each time it is made again.
    pub fn reaction(&self, user: &str, message: MessageId, made_at_us: i64) -> String {
        format!("{}/reactions/{message}/{made_at_us}", self.user(user))
    }

    /// The local follower whose `Follow` (of a user or a group) `id` is.
    pub fn follower<'u>(&self, id: &'u Url) -> Option<&'u str> {
        let rest = self.rest(id, "/users/")?;
        let (name, _) = rest
            .split_once("/follows/")
            .or_else(|| rest.split_once("/joins/"))?;
        Some(name).filter(|n| is_segment(n))
    }

    /// Whether `id` is a local user's `Follow` of a group.
    pub fn is_join(&self, id: &Url) -> bool {
        self.rest(id, "/users/")
            .is_some_and(|rest| rest.contains("/joins/"))
    }

    /// What follows `{base}{prefix}` in `url`, if `url` starts so.
    fn rest<'u>(&self, url: &'u Url, prefix: &str) -> Option<&'u str> {
        url.as_str()
            .strip_prefix(self.base.as_str())?
            .strip_prefix(prefix)
            .filter(|rest| !rest.is_empty())
    }
}

/// The id under which a group relays `inner` (an activity id of its own or
/// of a member's), unique per relayed activity.
pub fn relay(group: &Url, inner: &Url) -> String {
    let inner = percent_encoding::utf8_percent_encode(inner.as_str(), UNRESERVED_ONLY);
    format!("{group}/relays/{inner}")
}

/// The id under which a group hosted here relays remote `user`'s reaction
/// to `message` made at `made_at_us` (its own server's id is not known
/// here: the reaction is stored by actor, message and emoji).
pub fn relayed_reaction(group: &Url, message: MessageId, user: UserId, made_at_us: i64) -> String {
    format!("{group}/reactions/{message}/{user}/{made_at_us}")
}

/// Everything but RFC 3986's unreserved characters is escaped.
const UNRESERVED_ONLY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A single path segment: no `/`, `?` or `#`.
fn is_segment(s: &str) -> bool {
    !s.is_empty() && !s.contains(['/', '?', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn ids_made_here_read_back() {
        let urls = LocalUrls::new("https://c.example");
        assert_eq!(urls.user("ada"), "https://c.example/users/ada");
        assert_eq!(urls.user_name(&url(&urls.user("ada"))), Some("ada"));
        assert_eq!(
            urls.user_name(&url("https://c.example/users/ada/inbox")),
            None
        );
        assert_eq!(
            urls.user_name(&url("https://other.example/users/ada")),
            None
        );
        let group = ConversationId(uuid::Uuid::now_v7());
        assert_eq!(urls.group_id(&url(&urls.group(group))), Some(group));
        assert_eq!(urls.group_id(&url("https://c.example/groups/nope")), None);
        let message = MessageId(uuid::Uuid::now_v7());
        assert_eq!(urls.message_id(&url(&urls.message(message))), Some(message));
        let follow = url(&urls.follow("ada", 7, 1_000));
        assert_eq!(urls.follower(&follow), Some("ada"));
        assert!(!urls.is_join(&follow));
        let join = url(&urls.new_join("bob"));
        assert_eq!(urls.follower(&join), Some("bob"));
        assert!(urls.is_join(&join));
        assert_ne!(urls.new_block("ada"), urls.new_block("ada"));
        let reaction = urls.reaction("ada", message, 1_700_000_000_000_001);
        assert!(reaction.starts_with("https://c.example/users/ada/reactions/"));
        assert_ne!(
            reaction,
            urls.reaction("ada", message, 1_700_000_000_000_002)
        );
        assert_eq!(
            urls.follower(&url("https://o.example/users/a/follows/1")),
            None
        );
    }

    #[test]
    fn a_relay_id_is_under_its_group_and_names_the_inner_activity() {
        let group = url("https://c.example/groups/1");
        let inner = url("https://m.example/notes/1?x=1#a");
        let id = url(&relay(&group, &inner));
        assert!(id
            .as_str()
            .starts_with("https://c.example/groups/1/relays/"));
        assert_eq!(id.path_segments().unwrap().count(), 4);
    }
}
