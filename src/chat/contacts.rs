//! Contacts (invite, accept, decline, cancel, remove) and blocks. Accepting
//! an invitation creates or reopens the pair's direct conversation; a block
//! cuts the contact, makes the direct conversation read-only and hides the
//! blocker from the blocked user.

use super::events::{ChatEvent, Notice};
use super::federation::{ContactChange, Outgoing};
use super::views::{Contact, ContactState, ConversationKind, Status};
use super::{Chat, ChatError, ChatResult};
use crate::db::contacts::{self as rows, ContactRow};
use crate::db::conversations as conversation_rows;
use crate::db::ids::UserId;
use crate::db::users as user_rows;
use crate::db::{DbConn, DbError};
use chrono::Utc;

impl Chat {
    /// A remote account was deleted or suspended by its own server (its
    /// `Delete{Person}`): it leaves every contact list and conversation
    /// here and lookups stop finding it; its messages stay, without an
    /// author. Whether such an account was known.
    pub async fn remove_remote_user(&self, ap_id: &str) -> ChatResult<bool> {
        let mut conn = self.db.read().await?;
        let Some(user) = user_rows::find_by_ap_id(&mut conn, ap_id)
            .await?
            .filter(|row| row.domain.is_some())
        else {
            return Ok(false);
        };
        let contacts = rows::for_user(&mut conn, user.id).await?;
        let conversations = conversation_rows::for_user(&mut conn, user.id).await?;
        drop(conn);
        // Contacts, blocks and memberships go with the row (cascade).
        user_rows::delete(&mut self.db.write().await?, user.id).await?;
        self.cache.clear();
        for row in &contacts {
            self.tell_gone(row.requester_id, row.addressee_id);
        }
        let mut conn = self.db.read().await?;
        for (row, _) in conversations {
            let conversation = match self.load_conversation(&mut conn, row.id).await {
                Ok(conversation) => conversation,
                Err(ChatError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let hosted_here =
                conversation.kind == ConversationKind::Group && conversation.hosted_by.is_none();
            self.notify(
                conversation.member_ids(),
                Notice::ConversationUpdated(conversation),
            );
            if hosted_here {
                self.federate(Outgoing::Group {
                    conversation: row.id,
                    removed: vec![],
                })
                .await?;
            }
        }
        self.events
            .publish(ChatEvent::UserDeleted { user: user.id });
        Ok(true)
    }

    /// Every contact and pending invitation of `user`.
    pub async fn contacts(&self, user: UserId) -> ChatResult<Vec<Contact>> {
        let mut conn = self.db.read().await?;
        Ok(rows::for_user(&mut conn, user)
            .await?
            .iter()
            .map(|row| Contact::from_row(row, user))
            .collect())
    }

    /// Users `user` blocks.
    pub async fn blocks(&self, user: UserId) -> ChatResult<Vec<UserId>> {
        let mut conn = self.db.read().await?;
        Ok(rows::blocked_by(&mut conn, user).await?)
    }

    /// Invites `other` to be a contact; if they had invited `user`, this
    /// accepts instead.
    pub async fn invite_contact(&self, user: UserId, other: UserId) -> ChatResult<Contact> {
        if user == other {
            return Err(ChatError::invalid("user", "you cannot invite yourself"));
        }
        let mut conn = self.db.write().await?;
        if rows::either_blocks(&mut conn, user, other).await? {
            // Whoever is blocked does not learn it: the blocker looks absent.
            return Err(ChatError::NotFound("user"));
        }
        match rows::between(&mut conn, user, other).await? {
            Some(row) if row.state == "accepted" => {
                return Err(ChatError::Conflict("you are already contacts".into()))
            }
            Some(row) if row.requester_id == other => {
                drop(conn);
                return self.accept_contact(user, other).await;
            }
            Some(_) => return Err(ChatError::Conflict("you already invited this user".into())),
            None => {}
        }
        let now = Utc::now().naive_utc();
        let row = ContactRow {
            requester_id: user,
            addressee_id: other,
            state: "pending".into(),
            created_at: now,
            updated_at: now,
            follow_id: None,
        };
        match rows::insert(&mut conn, &row).await {
            // The other one invited at the same moment (unique pair index).
            Err(DbError::UniqueViolation) => {
                return Err(ChatError::Conflict(
                    "an invitation between you already exists".into(),
                ))
            }
            other => other?,
        }
        self.tell_both(&row);
        drop(conn);
        self.federate_contact(user, ContactChange::Invited, &row)
            .await?;
        Ok(Contact::from_row(&row, user))
    }

    /// A remote user's `Follow` of the local user `addressee`: an invitation
    /// (remembering the `Follow`'s id), or an acceptance when `addressee` had
    /// invited them. Returns the link's state afterwards; a block refuses it.
    pub async fn remote_follow(
        &self,
        requester: UserId,
        addressee: UserId,
        follow_id: &str,
    ) -> ChatResult<Contact> {
        let mut conn = self.db.write().await?;
        if rows::either_blocks(&mut conn, requester, addressee).await? {
            return Err(ChatError::Forbidden("blocked".into()));
        }
        match rows::between(&mut conn, requester, addressee).await? {
            Some(row) if row.state == "accepted" => return Ok(Contact::from_row(&row, requester)),
            Some(row) if row.requester_id == addressee => {
                drop(conn);
                return self.accept_contact(requester, addressee).await;
            }
            Some(row) => return Ok(Contact::from_row(&row, requester)),
            None => {}
        }
        let now = Utc::now().naive_utc();
        let row = ContactRow {
            requester_id: requester,
            addressee_id: addressee,
            state: "pending".into(),
            created_at: now,
            updated_at: now,
            follow_id: Some(follow_id.to_owned()),
        };
        match rows::insert(&mut conn, &row).await {
            Err(DbError::UniqueViolation) => {
                return Err(ChatError::Conflict(
                    "an invitation between you already exists".into(),
                ))
            }
            other => other?,
        }
        self.tell_both(&row);
        Ok(Contact::from_row(&row, requester))
    }

    /// The link between two users, if any (for federation).
    pub async fn contact_link(&self, a: UserId, b: UserId) -> ChatResult<Option<ContactRow>> {
        Ok(rows::between(&mut self.db.read().await?, a, b).await?)
    }

    /// A remote user ended whatever link they had with `user` (`Undo` or
    /// `Reject` of a `Follow`); `false` when there was none.
    pub async fn remote_unfollow(&self, remote: UserId, user: UserId) -> ChatResult<bool> {
        match self.drop_link(remote, user, |_| true).await {
            Ok(_) => Ok(true),
            Err(ChatError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn federate_contact(
        &self,
        actor: UserId,
        change: ContactChange,
        row: &ContactRow,
    ) -> ChatResult<()> {
        self.federate(Outgoing::Contact {
            actor,
            change,
            row: row.clone(),
        })
        .await
    }

    /// Accepts `other`'s invitation and opens (or reopens) the direct chat.
    pub async fn accept_contact(&self, user: UserId, other: UserId) -> ChatResult<Contact> {
        let mut conn = self.db.write().await?;
        let now = Utc::now().naive_utc();
        if !rows::accept(&mut conn, other, user, now).await? {
            return Err(ChatError::NotFound("invitation"));
        }
        self.cache.clear();
        let row = rows::between(&mut conn, user, other)
            .await?
            .ok_or(ChatError::NotFound("invitation"))?;
        self.tell_both(&row);
        let (conversation, created) = self.ensure_direct(&mut conn, user, other).await?;
        let notice = if created {
            Notice::ConversationCreated(conversation)
        } else {
            Notice::ConversationUpdated(conversation)
        };
        self.notify(vec![user, other], notice);
        // New contacts see each other's presence from now on.
        self.tell_presence(user, other, |subject| self.status(subject));
        drop(conn);
        self.federate_contact(user, ContactChange::Accepted, &row)
            .await?;
        // A new contact on another server hears the local one's status now,
        // not at the next announcement.
        for subject in [user, other] {
            self.announce_presence(subject).await?;
        }
        Ok(Contact::from_row(&row, user))
    }

    /// Pushes each one's status (as `status_of` gives it) to the other.
    pub(crate) fn tell_presence(&self, a: UserId, b: UserId, status_of: impl Fn(UserId) -> Status) {
        for (viewer, user) in [(a, b), (b, a)] {
            let status = status_of(user);
            self.notify(vec![viewer], Notice::StatusChanged { user, status });
        }
    }

    /// Declines an invitation from `other`.
    pub async fn decline_contact(&self, user: UserId, other: UserId) -> ChatResult<()> {
        let row = self
            .drop_link(user, other, |row| {
                row.state == "pending" && row.addressee_id == user
            })
            .await?;
        self.federate_contact(user, ContactChange::Declined, &row)
            .await
    }

    /// Withdraws an invitation `user` sent.
    pub async fn cancel_contact(&self, user: UserId, other: UserId) -> ChatResult<()> {
        let row = self
            .drop_link(user, other, |row| {
                row.state == "pending" && row.requester_id == user
            })
            .await?;
        self.federate_contact(user, ContactChange::Cancelled, &row)
            .await
    }

    /// Ends a contact; the direct chat turns read-only.
    pub async fn remove_contact(&self, user: UserId, other: UserId) -> ChatResult<()> {
        let row = self
            .drop_link(user, other, |row| row.state == "accepted")
            .await?;
        self.federate_contact(user, ContactChange::Removed, &row)
            .await
    }

    async fn drop_link(
        &self,
        user: UserId,
        other: UserId,
        applies: impl Fn(&ContactRow) -> bool,
    ) -> ChatResult<ContactRow> {
        let mut conn = self.db.write().await?;
        let row = rows::between(&mut conn, user, other)
            .await?
            .filter(|row| applies(row))
            .ok_or(ChatError::NotFound("contact"))?;
        rows::delete_between(&mut conn, user, other).await?;
        self.cache.clear();
        self.tell_gone(user, other);
        if row.state == "accepted" {
            self.refresh_direct(&mut conn, user, other).await?;
            self.tell_presence(user, other, |_| Status::Offline);
        }
        Ok(row)
    }

    /// Blocks `other`: drops a pending invitation between them, makes their
    /// direct chat read-only and stops `other`'s messages, invitations and
    /// presence reaching `user`. A contact stays (hidden while blocked) so
    /// that unblocking restores the direct chat.
    pub async fn block(&self, user: UserId, other: UserId) -> ChatResult<()> {
        if user == other {
            return Err(ChatError::invalid("user", "you cannot block yourself"));
        }
        let mut conn = self.db.write().await?;
        rows::block(&mut conn, user, other, Utc::now().naive_utc()).await?;
        self.cache.clear();
        let pending = rows::between(&mut conn, user, other)
            .await?
            .is_some_and(|row| row.state == "pending");
        if pending && rows::delete_between(&mut conn, user, other).await? {
            self.tell_gone(user, other);
        }
        self.notify(
            vec![user],
            Notice::BlockUpdated {
                user: other,
                blocked: true,
            },
        );
        self.refresh_direct(&mut conn, user, other).await?;
        self.presence_blocked(user, other);
        drop(conn);
        self.federate(Outgoing::Block {
            blocker: user,
            blocked: other,
            active: true,
            undone: None,
        })
        .await
    }

    /// Lifts a block: the direct chat is writable again if they are contacts.
    pub async fn unblock(&self, user: UserId, other: UserId) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let Some(lifted) = rows::unblock(&mut conn, user, other).await? else {
            return Err(ChatError::NotFound("block"));
        };
        self.cache.clear();
        self.notify(
            vec![user],
            Notice::BlockUpdated {
                user: other,
                blocked: false,
            },
        );
        self.refresh_direct(&mut conn, user, other).await?;
        drop(conn);
        if self.presence_audience(user).await?.contains(&other) {
            self.tell_presence(user, other, |subject| self.status(subject));
        }
        self.federate(Outgoing::Block {
            blocker: user,
            blocked: other,
            active: false,
            undone: lifted.activity_id,
        })
        .await?;
        for subject in [user, other] {
            self.announce_presence(subject).await?;
        }
        Ok(())
    }

    /// Pushes the pair's direct chat again (its read-only flag changed).
    async fn refresh_direct(&self, conn: &mut DbConn<'_>, a: UserId, b: UserId) -> ChatResult<()> {
        let key = super::conversations::direct_key(a, b);
        if let Some(row) = conversation_rows::find_direct(conn, &key).await? {
            let conversation = self.load_conversation(conn, row.id).await?;
            self.notify(vec![a, b], Notice::ConversationUpdated(conversation));
        }
        Ok(())
    }

    fn tell_both(&self, row: &ContactRow) {
        for viewer in [row.requester_id, row.addressee_id] {
            self.notify(
                vec![viewer],
                Notice::ContactUpdated(Contact::from_row(row, viewer)),
            );
        }
    }

    fn tell_gone(&self, a: UserId, b: UserId) {
        let since = Utc::now();
        for (viewer, user) in [(a, b), (b, a)] {
            let contact = Contact {
                user,
                state: ContactState::None,
                since,
            };
            self.notify(vec![viewer], Notice::ContactUpdated(contact));
        }
    }

    /// Accepted contacts of `user` who do not block and are not blocked by
    /// `user`: who sees their presence.
    pub(crate) async fn presence_audience(&self, user: UserId) -> ChatResult<Vec<UserId>> {
        let mut conn = self.db.read().await?;
        let contacts = rows::for_user(&mut conn, user).await?;
        let mut audience = vec![];
        for row in contacts.iter().filter(|r| r.state == "accepted") {
            let other = if row.requester_id == user {
                row.addressee_id
            } else {
                row.requester_id
            };
            if !rows::either_blocks(&mut conn, user, other).await? {
                audience.push(other);
            }
        }
        Ok(audience)
    }
}
