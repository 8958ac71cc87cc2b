//! Game invitations: a `game_invite` message carries a card (which game,
//! its settings, who may answer, until when) and a text fallback body.
//! Answers change the card's state once: two answers cannot both win.
//!
//! In a group the host decides which answer wins. A mirror applies its own
//! member's answer at once and tells the host; whatever the host then
//! relays is recorded as given ([`Chat::record_game_answer`]), so every
//! server ends with the host's state.

use super::events::Notice;
use super::federation::Outgoing;
use super::messages::checked_client_id;
use super::validate;
use super::views::{ConversationKind, GameInvite, GameState, Message, Rights};
use super::{Chat, ChatError, ChatResult};
use crate::db::conversations as conversation_rows;
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages as rows;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::time::Duration;
use utoipa::ToSchema;

const GAME_NAME_MAX: usize = 64;
const GAME_SETTINGS_MAX_BYTES: usize = 4096;
/// How often recording the host's answer retries when the card changed
/// between reading and writing it.
const RECORD_ATTEMPTS: usize = 3;

/// A game invitation to send.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGameInvite {
    pub conversation: ConversationId,
    pub game: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
    /// Who may answer; absent: any other member.
    #[serde(default)]
    pub invitee: Option<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GameAnswer {
    Accept,
    Decline,
}

impl GameAnswer {
    fn state(self) -> GameState {
        match self {
            GameAnswer::Accept => GameState::Accepted,
            GameAnswer::Decline => GameState::Declined,
        }
    }
}

/// A game invitation as another server describes it.
#[derive(Debug, Clone)]
pub struct RemoteGameInvite {
    pub game: String,
    pub settings: Option<serde_json::Value>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Who may answer, when the card names someone (in a group).
    pub invitee: Option<UserId>,
}

/// Where a remote user posted a game invitation.
#[derive(Debug, Clone, Copy)]
pub enum InviteTarget {
    /// Their direct chat with this local user, who is the invitee.
    Direct(UserId),
    /// A group (hosted here, or a mirror relaying its host).
    Group(ConversationId),
}

/// The game's name, checked: 1-64 characters on one line.
fn checked_game(game: &str) -> ChatResult<String> {
    let game = game.trim().to_owned();
    if game.is_empty() {
        return Err(ChatError::invalid("game", "must not be empty"));
    }
    validate::single_line("game", &game, GAME_NAME_MAX)?;
    Ok(game)
}

fn settings_fit(settings: &serde_json::Value) -> bool {
    settings.is_object() && settings.to_string().len() <= GAME_SETTINGS_MAX_BYTES
}

fn to_json(card: &GameInvite) -> ChatResult<String> {
    serde_json::to_string(card).map_err(|e| ChatError::Internal(e.to_string()))
}

fn fallback_body(game: &str) -> String {
    format!("invites you to play {game}")
}

impl Chat {
    /// Sends a game invitation card with a plain-text fallback body.
    pub async fn send_game_invite(
        &self,
        author: UserId,
        invite: NewGameInvite,
        client_id: Option<&str>,
    ) -> ChatResult<Message> {
        let game = checked_game(&invite.game)?;
        if invite.settings.as_ref().is_some_and(|s| !settings_fit(s)) {
            return Err(ChatError::invalid(
                "settings",
                "a JSON object of at most 4096 bytes",
            ));
        }
        if invite.invitee == Some(author) {
            return Err(ChatError::invalid("invitee", "you cannot invite yourself"));
        }
        let card = GameInvite {
            game: game.clone(),
            settings: invite.settings,
            state: GameState::Pending,
            invitee: invite.invitee,
            answered_by: None,
            expires_at: Utc::now() + Duration::from_secs(self.limits.game_invite_ttl_s),
        };
        let client_id = checked_client_id(client_id)?;
        self.store(
            author,
            invite.conversation,
            "game_invite",
            fallback_body(&game),
            None,
            Some((to_json(&card)?, invite.invitee)),
            client_id,
            Some(&[]),
        )
        .await
    }

    /// A game invitation the remote user `author` posted (ActivityPub id
    /// `ap_id`) in a direct chat with a local user or in a group. Settings
    /// that are not a small JSON object are dropped; it expires at
    /// `expires_at` or after this server's own time limit, whichever is
    /// sooner. The same rights and block checks as a local send apply.
    pub async fn receive_game_invite(
        &self,
        author: UserId,
        target: InviteTarget,
        invite: RemoteGameInvite,
        ap_id: &str,
    ) -> ChatResult<Message> {
        let game = checked_game(&invite.game)?;
        let (conversation, invitee) = match target {
            InviteTarget::Direct(recipient) => {
                let key = super::conversations::direct_key(author, recipient);
                let row = conversation_rows::find_direct(&mut self.db.read().await?, &key)
                    .await?
                    .ok_or_else(|| {
                        ChatError::Forbidden("you are not a contact of this user".into())
                    })?;
                (row.id, Some(recipient))
            }
            InviteTarget::Group(id) => (id, invite.invitee),
        };
        if invitee == Some(author) {
            return Err(ChatError::invalid("invitee", "you cannot invite yourself"));
        }
        let limit = Utc::now() + Duration::from_secs(self.limits.game_invite_ttl_s);
        let card = GameInvite {
            game: game.clone(),
            settings: invite.settings.filter(settings_fit),
            state: GameState::Pending,
            invitee,
            answered_by: None,
            expires_at: invite.expires_at.map_or(limit, |at| at.min(limit)),
        };
        self.store(
            author,
            conversation,
            "game_invite",
            fallback_body(&game),
            None,
            Some((to_json(&card)?, invitee)),
            Some(ap_id.to_owned()),
            Some(&[]),
        )
        .await
    }

    /// Accepts or declines a pending game invitation (its invitee, or any
    /// other member when it names none). A remote answerer is accepted
    /// only where this server decides: their direct chat with the author,
    /// or a group hosted here.
    pub async fn answer_game(
        &self,
        user: UserId,
        message: MessageId,
        answer: GameAnswer,
    ) -> ChatResult<Message> {
        let mut conn = self.db.read().await?;
        let row = rows::find(&mut conn, message)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        let (conv, rights) = self
            .membership(&mut conn, row.conversation_id, user)
            .await?;
        drop(conn);
        let stored = row
            .game
            .clone()
            .ok_or_else(|| ChatError::invalid("message", "not a game invitation"))?;
        let invite = Message::try_from(row.clone())?
            .game
            .ok_or(ChatError::NotFound("message"))?;
        let allowed = match invite.invitee {
            Some(invitee) => invitee == user,
            None => row.author_id != Some(user),
        };
        if !allowed || rights < Rights::Write || conv.read_only {
            return Err(ChatError::Forbidden(
                "this invitation is not yours to answer".into(),
            ));
        }
        let access = self.access(row.conversation_id).await?;
        let answerer_is_remote = access.remote.contains(&user);
        if access.mirror && answerer_is_remote {
            return Err(ChatError::Forbidden(
                "answers in this group go to the server that hosts it".into(),
            ));
        }
        if invite.state != GameState::Pending {
            return Err(ChatError::Conflict(
                format!("the invitation is already {:?}", invite.state).to_lowercase(),
            ));
        }
        let answered = GameInvite {
            state: answer.state(),
            answered_by: Some(user),
            ..invite
        };
        // Only if still pending as read: two answers cannot both win.
        let now = Utc::now().naive_utc();
        let json = to_json(&answered)?;
        let updated = rows::set_game(&mut self.db.write().await?, message, &stored, &json, now)
            .await?
            .ok_or_else(|| ChatError::Conflict("the invitation was answered meanwhile".into()))?;
        let updated = Message::try_from(updated)?;
        let audience = self.audience_of(conv.member_ids(), row.author_id).await?;
        self.notify(audience, Notice::MessageUpdated(updated.clone()));
        let author_is_remote = row.author_id.is_some_and(|a| access.remote.contains(&a));
        let tell = match access.kind {
            // The host relays every answer to the other servers; a mirror
            // tells the host about its own member's.
            ConversationKind::Group => access.mirror || !access.remote.is_empty(),
            ConversationKind::Direct => author_is_remote && !answerer_is_remote,
        };
        if tell {
            self.federate(Outgoing::GameAnswer {
                message,
                answerer: user,
                accepted: answer == GameAnswer::Accept,
            })
            .await?;
        }
        Ok(updated)
    }

    /// Records the answer the host of the mirrored group `conversation`
    /// relayed: `answerer` accepted or declined the invitation `message`.
    /// The host's word stands, even over a different answer given here
    /// meanwhile. An invitation this server never had is ignored.
    pub async fn record_game_answer(
        &self,
        conversation: ConversationId,
        message: MessageId,
        answerer: UserId,
        answer: GameAnswer,
    ) -> ChatResult<()> {
        for _ in 0..RECORD_ATTEMPTS {
            let row = rows::find(&mut self.db.read().await?, message).await?;
            let Some(row) = row.filter(|r| r.conversation_id == conversation) else {
                return Ok(());
            };
            let Some(stored) = row.game.clone() else {
                return Ok(());
            };
            let invite: GameInvite = serde_json::from_str(&stored)
                .map_err(|e| ChatError::Internal(format!("messages.game: {e}")))?;
            if invite.state == answer.state() && invite.answered_by == Some(answerer) {
                return Ok(());
            }
            let answered = to_json(&GameInvite {
                state: answer.state(),
                answered_by: Some(answerer),
                ..invite
            })?;
            let now = Utc::now().naive_utc();
            let mut conn = self.db.write().await?;
            if let Some(updated) =
                rows::set_game(&mut conn, message, &stored, &answered, now).await?
            {
                drop(conn);
                let updated = Message::try_from(updated)?;
                let access = self.access(conversation).await?;
                let audience = self.audience_of(access.member_ids(), row.author_id).await?;
                self.notify(audience, Notice::MessageUpdated(updated));
                return Ok(());
            }
        }
        Err(ChatError::Conflict(
            "the invitation kept changing; try again".into(),
        ))
    }
}
