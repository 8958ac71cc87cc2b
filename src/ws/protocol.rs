//! Frames and request dispatch. A client frame is
//! `{"type": "...", "id": "...", "data": {...}}`; every request gets exactly
//! one reply with the same `id`: `{"type": "result", "id", "data"}` or
//! `{"type": "error", "id", "error": {"code", "message", "status"}}`.

use crate::apub::context::Context;
use crate::apub::lookup;
use crate::chat::games::{GameAnswer, NewGameInvite};
use crate::chat::groups::{GroupChanges, NewGroup};
use crate::chat::history::PageRequest;
use crate::chat::messages::NewMessage;
use crate::chat::reactions::ReactionChange;
use crate::chat::search::SearchRequest;
use crate::chat::views::{Rights, Status};
use crate::chat::{Chat, ChatError};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::error::Error;
use activitypub_federation::config::FederationConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A request from the client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFrame {
    #[serde(rename = "type")]
    pub kind: String,
    /// The client's request id (1-64 characters), echoed in the reply; for
    /// `message.send` it also makes a resend idempotent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub data: Value,
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    status: u16,
}

/// `{"type": "result", "id", "data"}`.
pub fn result_frame(id: Option<&str>, data: Value) -> String {
    json!({"type": "result", "id": id, "data": data}).to_string()
}

/// `{"type": "error", "id", "error": {...}}`, with the REST API's codes.
pub fn error_frame(id: Option<&str>, error: &Error) -> String {
    let (status, code, message) = error.parts();
    if status.is_server_error() {
        tracing::error!(%error, "websocket request failed");
    }
    let body = ErrorBody {
        code,
        message,
        status: status.as_u16(),
    };
    json!({"type": "error", "id": id, "error": body}).to_string()
}

fn data<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    let value = if value.is_null() { json!({}) } else { value };
    if !value.is_object() {
        return Err(Error::InvalidBody("data must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| Error::InvalidBody(format!("invalid data: {e}")))
}

fn to_value<T: Serialize>(value: T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationRef {
    conversation: ConversationId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRef {
    /// An id or a name.
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageRef {
    message: MessageId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenDirect {
    kind: DirectKind,
    with: String,
}

#[derive(Deserialize)]
enum DirectKind {
    #[serde(rename = "direct")]
    Direct,
}

/// `conversation.create` of a group: `kind` may be omitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupCreate {
    #[serde(default)]
    kind: Option<GroupKind>,
    name: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
enum GroupKind {
    #[serde(rename = "group")]
    Group,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupUpdate {
    conversation: ConversationId,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default, deserialize_with = "crate::chat::users::present")]
    avatar_url: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersAdd {
    conversation: ConversationId,
    users: Vec<String>,
    #[serde(default = "default_rights")]
    rights: Rights,
}

fn default_rights() -> Rights {
    Rights::Write
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRef {
    conversation: ConversationId,
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRights {
    conversation: ConversationId,
    user: String,
    rights: Rights,
}

/// `conversation.join_approve`: `rights` defaults to `write`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinApprove {
    conversation: ConversationId,
    user: String,
    #[serde(default = "write_rights")]
    rights: Rights,
}

fn write_rights() -> Rights {
    Rights::Write
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinGroup {
    /// The group's ActivityPub id (its URL).
    group: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mute {
    conversation: ConversationId,
    muted: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    message: MessageId,
    answer: GameAnswer,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    message: MessageId,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    conversation: ConversationId,
    #[serde(default)]
    before: Option<MessageId>,
    #[serde(default)]
    after: Option<MessageId>,
    #[serde(default)]
    around: Option<MessageId>,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Read {
    conversation: ConversationId,
    message: MessageId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Since {
    since: MessageId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Handle {
    handle: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetStatus {
    status: Status,
}

/// What a session knows about itself while dispatching.
pub struct Caller<'a> {
    pub chat: &'a Chat,
    /// For looking up remote users by handle.
    pub federation: &'a FederationConfig<Context>,
    pub user: UserId,
    pub session: crate::chat::presence::SessionId,
}

/// User references with each `@name@host` handle replaced by the id of
/// that (looked up) user.
async fn with_remote_ids(
    federation: &FederationConfig<Context>,
    users: Vec<String>,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::with_capacity(users.len());
    for user in users {
        if user.contains('@') {
            out.push(lookup::resolve(federation, &user).await?.id.to_string());
        } else {
            out.push(user);
        }
    }
    Ok(out)
}

/// Runs one request and returns its result data.
pub async fn dispatch(caller: &Caller<'_>, frame: ClientFrame) -> Result<Value, Error> {
    let Caller {
        chat,
        federation,
        user,
        session,
    } = *caller;
    let user_id = |key: String| async move {
        if key.contains('@') {
            return lookup::resolve(federation, &key).await.map(|u| u.id);
        }
        Ok::<_, Error>(chat.resolve_user(&key).await?)
    };
    let id = frame.id.as_deref();
    let d = frame.data;
    match frame.kind.as_str() {
        "ping" => data::<Empty>(d).map(|_| json!({})),
        "conversation.list" => {
            data::<Empty>(d)?;
            to_value(chat.list_conversations(user).await?)
        }
        "conversation.get" => {
            let r: ConversationRef = data(d)?;
            to_value(chat.conversation_summary(user, r.conversation).await?)
        }
        "conversation.create" => match d.get("kind").and_then(Value::as_str) {
            Some("direct") => {
                let r: OpenDirect = data(d)?;
                let DirectKind::Direct = r.kind;
                to_value(chat.open_direct(user, user_id(r.with).await?).await?)
            }
            _ => {
                let r: GroupCreate = data(d)?;
                let (None | Some(GroupKind::Group)) = r.kind;
                let new = NewGroup {
                    name: r.name,
                    topic: r.topic,
                    avatar_url: r.avatar_url,
                    members: with_remote_ids(federation, r.members).await?,
                };
                to_value(chat.create_group(user, new).await?)
            }
        },
        "conversation.update" => {
            let r: GroupUpdate = data(d)?;
            let changes = GroupChanges {
                name: r.name,
                topic: r.topic,
                avatar_url: r.avatar_url,
            };
            to_value(chat.update_group(user, r.conversation, changes).await?)
        }
        "conversation.delete" => {
            let r: ConversationRef = data(d)?;
            chat.delete_group(user, r.conversation).await?;
            Ok(json!({}))
        }
        "conversation.members.add" => {
            let r: MembersAdd = data(d)?;
            let users = with_remote_ids(federation, r.users).await?;
            to_value(
                chat.add_members(user, r.conversation, &users, r.rights)
                    .await?,
            )
        }
        "conversation.members.remove" => {
            let r: MemberRef = data(d)?;
            to_value(
                chat.remove_member(user, r.conversation, user_id(r.user).await?)
                    .await?,
            )
        }
        "conversation.members.rights" => {
            let r: MemberRights = data(d)?;
            to_value(
                chat.set_rights(user, r.conversation, user_id(r.user).await?, r.rights)
                    .await?,
            )
        }
        "conversation.transfer" => {
            let r: MemberRef = data(d)?;
            to_value(
                chat.transfer_ownership(user, r.conversation, user_id(r.user).await?)
                    .await?,
            )
        }
        "conversation.leave" => {
            let r: ConversationRef = data(d)?;
            chat.leave(user, r.conversation).await?;
            Ok(json!({}))
        }
        "conversation.join" => {
            let r: JoinGroup = data(d)?;
            let group = chat.ask_to_join(user, &r.group).await?;
            Ok(json!({"group": group, "state": "requested"}))
        }
        "conversation.join_sent" => {
            data::<Empty>(d)?;
            to_value(chat.sent_join_requests(user).await?)
        }
        "conversation.join_cancel" => {
            let r: JoinGroup = data(d)?;
            chat.cancel_join_request(user, &r.group).await?;
            Ok(json!({}))
        }
        "conversation.join_requests" => {
            let r: ConversationRef = data(d)?;
            to_value(chat.join_requests(user, r.conversation).await?)
        }
        "conversation.join_approve" => {
            let r: JoinApprove = data(d)?;
            let requester = user_id(r.user).await?;
            to_value(
                chat.approve_join(user, r.conversation, requester, r.rights)
                    .await?,
            )
        }
        "conversation.join_decline" => {
            let r: MemberRef = data(d)?;
            let requester = user_id(r.user).await?;
            chat.decline_join(user, r.conversation, requester).await?;
            Ok(json!({}))
        }
        "conversation.mute" => {
            let r: Mute = data(d)?;
            chat.set_muted(user, r.conversation, r.muted).await?;
            Ok(json!({}))
        }
        "message.send" => to_value(chat.send_message(user, data::<NewMessage>(d)?, id).await?),
        "message.game_invite" => to_value(
            chat.send_game_invite(user, data::<NewGameInvite>(d)?, id)
                .await?,
        ),
        "message.game_answer" => {
            let r: Answer = data(d)?;
            to_value(chat.answer_game(user, r.message, r.answer).await?)
        }
        "message.edit" => {
            let r: Edit = data(d)?;
            to_value(chat.edit_message(user, r.message, r.body).await?)
        }
        "message.delete" => {
            let r: MessageRef = data(d)?;
            to_value(chat.delete_message(user, r.message).await?)
        }
        "message.react" => to_value(chat.react(user, data::<ReactionChange>(d)?).await?),
        "message.unreact" => to_value(chat.unreact(user, data::<ReactionChange>(d)?).await?),
        "message.pin" => {
            let r: MessageRef = data(d)?;
            to_value(chat.pin(user, r.message).await?)
        }
        "message.unpin" => {
            let r: MessageRef = data(d)?;
            to_value(chat.unpin(user, r.message).await?)
        }
        "conversation.pins" => {
            let r: ConversationRef = data(d)?;
            to_value(chat.pins(user, r.conversation).await?)
        }
        "conversation.read_by" => {
            let r: ConversationRef = data(d)?;
            to_value(chat.read_by(user, r.conversation).await?)
        }
        "message.history" => {
            let r: History = data(d)?;
            let page = PageRequest {
                before: r.before,
                after: r.after,
                around: r.around,
                limit: r.limit.unwrap_or(50),
            };
            to_value(chat.history(user, r.conversation, page).await?)
        }
        "message.read" => {
            let r: Read = data(d)?;
            let unread = chat.mark_read(user, r.conversation, r.message).await?;
            Ok(json!({"conversation": r.conversation, "message": r.message, "unread": unread}))
        }
        "message.search" => to_value(chat.search(user, data::<SearchRequest>(d)?).await?),
        "message.sync" => {
            let r: Since = data(d)?;
            to_value(chat.messages_since(user, r.since).await?)
        }
        "user.lookup" => {
            let r: Handle = data(d)?;
            to_value(lookup::resolve(federation, &r.handle).await?)
        }
        "contact.list" => {
            data::<Empty>(d)?;
            to_value(chat.contacts(user).await?)
        }
        "contact.blocks" => {
            data::<Empty>(d)?;
            to_value(chat.blocks(user).await?)
        }
        "contact.invite" => {
            let r: UserRef = data(d)?;
            to_value(chat.invite_contact(user, user_id(r.user).await?).await?)
        }
        "contact.accept" => {
            let r: UserRef = data(d)?;
            to_value(chat.accept_contact(user, user_id(r.user).await?).await?)
        }
        "contact.decline" | "contact.cancel" | "contact.remove" | "contact.block"
        | "contact.unblock" => {
            let r: UserRef = data(d)?;
            let other = user_id(r.user).await?;
            match frame.kind.as_str() {
                "contact.decline" => chat.decline_contact(user, other).await?,
                "contact.cancel" => chat.cancel_contact(user, other).await?,
                "contact.remove" => chat.remove_contact(user, other).await?,
                "contact.block" => chat.block(user, other).await?,
                _ => chat.unblock(user, other).await?,
            }
            Ok(json!({}))
        }
        "status.get" => {
            data::<Empty>(d)?;
            to_value(
                json!({"status": chat.status(user), "contacts": chat.contact_statuses(user).await?}),
            )
        }
        "status.set" => {
            let r: SetStatus = data(d)?;
            if r.status == Status::Offline {
                return Err(ChatError::invalid("status", "online or away").into());
            }
            chat.set_session_status(user, session, r.status).await?;
            Ok(json!({"status": chat.status(user)}))
        }
        "typing.start" | "typing.stop" => {
            let r: ConversationRef = data(d)?;
            chat.typing(user, r.conversation, frame.kind == "typing.start")
                .await?;
            Ok(json!({}))
        }
        other => Err(Error::UnknownType(other.chars().take(64).collect())),
    }
}
