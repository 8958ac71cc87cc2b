//! Reports: a user reports a message or a user with a comment (optionally
//! forwarded to the reported user's server as a `Flag`); other servers'
//! `Flag`s about our users land in the same queue (`flags`). Moderators
//! list, read and resolve them, and the reporter is told.

use super::events::Notice;
use super::federation::Outgoing;
use super::instances::NewInstanceBlock;
use super::principal::Principal;
use super::users::User;
use super::views::Message;
use super::{validate, Chat, ChatError, ChatResult};
use crate::db::ids::{MessageId, ReportId, UserId};
use crate::db::messages as message_rows;
use crate::db::reports::{self as rows, ReportRow, Resolution};
use crate::db::users as user_rows;
use crate::db::DbConn;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest report comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// Open reports one user may have at once (each is held for moderators).
pub const MAX_OPEN_PER_REPORTER: i64 = 20;
/// Reports listed per page, at most.
pub const LIST_MAX: i64 = 200;

/// What a user reports: a user, one of their messages, or both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// The reported user: id, local name, or `@name@host`. Optional when
    /// `message_id` is given (the author is reported).
    #[serde(default)]
    pub user: Option<String>,
    /// A message the reporter can read.
    #[serde(default)]
    pub message_id: Option<MessageId>,
    /// Why: what moderators (and, forwarded, the remote server) read.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*\\S[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"
    )]
    pub comment: String,
    /// Also send the report to the reported user's server (remote users
    /// only; ignored for local ones).
    #[serde(default)]
    pub forward: bool,
}

/// Whether a report is waiting for a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Open,
    Resolved,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Open => "open",
            ReportState::Resolved => "resolved",
        }
    }
}

/// What a moderator does when resolving a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolveAction {
    /// Nothing (the report was unfounded, or handled otherwise).
    None,
    /// Delete the reported messages (tombstones, federated as usual).
    DeleteMessage,
    /// Block the reported user's server (or the server that sent the
    /// `Flag`, if the reported user is local).
    BlockInstance,
    /// Suspend the reported local user (see `Chat::suspend_user`).
    SuspendUser,
}

impl ResolveAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveAction::None => "none",
            ResolveAction::DeleteMessage => "delete_message",
            ResolveAction::BlockInstance => "block_instance",
            ResolveAction::SuspendUser => "suspend_user",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::None,
            Self::DeleteMessage,
            Self::BlockInstance,
            Self::SuspendUser,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

/// A moderator's decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    pub action: ResolveAction,
    /// For the moderators' records (not shown to the reporter).
    #[serde(default)]
    #[schema(
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"
    )]
    pub note: Option<String>,
}

/// A report as its reporter and moderators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub id: ReportId,
    /// The local reporter (`null` for a report received from another
    /// server, or once the reporter's account is gone).
    pub reporter: Option<User>,
    /// The remote actor that sent the `Flag`, for a received report.
    pub origin: Option<String>,
    /// The reported user (`null` once their account is gone).
    pub target: Option<User>,
    pub message_ids: Vec<MessageId>,
    pub comment: String,
    /// Whether it was sent to the reported user's server.
    pub forwarded: bool,
    pub state: ReportState,
    /// What the moderator did, once resolved.
    pub action: Option<ResolveAction>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A report with what moderators need to judge it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportDetail {
    pub report: Report,
    /// The reported messages (tombstones once deleted).
    pub messages: Vec<Message>,
    /// The moderator's note, once resolved.
    pub note: Option<String>,
    /// The moderator who resolved it.
    pub resolved_by: Option<UserId>,
}

impl Chat {
    /// `POST /api/v1/reports`: reports `target` (the user `new.user` names,
    /// resolved by the caller, since a remote handle needs federation)
    /// and/or `new.message_id`, which the reporter must be able to read.
    pub async fn create_report(
        &self,
        actor: &Principal,
        new: NewReport,
        target: Option<UserId>,
    ) -> ChatResult<Report> {
        let reporter = actor
            .user_id()
            .ok_or_else(|| ChatError::Forbidden("only users report".into()))?;
        check_comment(&new.comment)?;
        let mut conn = self.db.read().await?;
        let author = match new.message_id {
            Some(id) => Some(self.readable_author(&mut conn, reporter, id).await?),
            None => None,
        };
        let target = match (target, author) {
            (Some(t), Some(a)) if Some(t) != a => {
                return Err(ChatError::invalid(
                    "user",
                    "the message was not written by this user",
                ))
            }
            (Some(t), _) => t,
            (None, Some(Some(a))) => a,
            (None, Some(None)) => return Err(ChatError::NotFound("message author")),
            (None, None) => return Err(ChatError::invalid("user", "name a user or a message")),
        };
        if target == reporter {
            return Err(ChatError::invalid("user", "you cannot report yourself"));
        }
        let target_row = user_rows::find_by_id(&mut conn, target)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        if rows::open_count(&mut conn, reporter).await? >= MAX_OPEN_PER_REPORTER {
            return Err(ChatError::RateLimited(format!(
                "you have {MAX_OPEN_PER_REPORTER} open reports; wait until moderators handle them"
            )));
        }
        drop(conn);
        let message_ids: Vec<MessageId> = new.message_id.into_iter().collect();
        let row = ReportRow {
            id: ReportId::new(),
            reporter_id: Some(reporter),
            origin: None,
            activity_id: None,
            target_id: Some(target),
            message_ids: ids_json(&message_ids)?,
            comment: new.comment.trim().to_owned(),
            forwarded: new.forward && target_row.domain.is_some(),
            state: ReportState::Open.as_str().into(),
            action_taken: None,
            note: None,
            resolved_by: None,
            resolved_at: None,
            created_at: Utc::now().naive_utc(),
        };
        rows::insert(&mut self.db.write().await?, &row).await?;
        if row.forwarded {
            self.federate(Outgoing::Flag {
                report: row.id,
                target,
                messages: message_ids,
                comment: row.comment.clone(),
            })
            .await?;
        }
        self.report_view(&mut self.db.read().await?, row).await
    }

    /// The author of message `id`, which `reader` must be able to read
    /// (a message elsewhere is `NotFound`, as if it did not exist).
    async fn readable_author(
        &self,
        conn: &mut DbConn<'_>,
        reader: UserId,
        id: MessageId,
    ) -> ChatResult<Option<UserId>> {
        let row = message_rows::find(conn, id)
            .await?
            .filter(|m| m.deleted_at.is_none() && m.kind != "system")
            .ok_or(ChatError::NotFound("message"))?;
        self.membership(conn, row.conversation_id, reader)
            .await
            .map_err(|_| ChatError::NotFound("message"))?;
        Ok(row.author_id)
    }

    /// `GET /api/v1/reports`: the caller's own reports, newest first.
    pub async fn my_reports(&self, actor: &Principal) -> ChatResult<Vec<Report>> {
        let reporter = actor
            .user_id()
            .ok_or_else(|| ChatError::Forbidden("only users report".into()))?;
        let mut conn = self.db.read().await?;
        let rows = rows::by_reporter(&mut conn, reporter, LIST_MAX).await?;
        self.report_views(&mut conn, rows).await
    }

    /// `GET /api/v1/admin/reports`: the queue, oldest first (moderators).
    pub async fn list_reports(
        &self,
        actor: &Principal,
        state: ReportState,
    ) -> ChatResult<Vec<Report>> {
        moderators_only(actor)?;
        let mut conn = self.db.read().await?;
        let rows = rows::list(&mut conn, state.as_str(), LIST_MAX).await?;
        self.report_views(&mut conn, rows).await
    }

    /// `GET /api/v1/admin/reports/{id}`: one report with the reported
    /// messages' text (moderators).
    pub async fn report_detail(&self, actor: &Principal, id: ReportId) -> ChatResult<ReportDetail> {
        moderators_only(actor)?;
        let mut conn = self.db.read().await?;
        let row = rows::find(&mut conn, id)
            .await?
            .ok_or(ChatError::NotFound("report"))?;
        self.detail(&mut conn, row).await
    }

    /// `POST /api/v1/admin/reports/{id}/resolve`: acts, records the
    /// decision, and tells the reporter (moderators).
    pub async fn resolve_report(
        &self,
        actor: &Principal,
        id: ReportId,
        resolve: Resolve,
    ) -> ChatResult<ReportDetail> {
        moderators_only(actor)?;
        if let Some(note) = &resolve.note {
            validate::multi_line("note", note, MAX_COMMENT_CHARS)?;
        }
        let row = rows::find(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("report"))?;
        if row.state != ReportState::Open.as_str() {
            return Err(ChatError::Conflict("the report is already resolved".into()));
        }
        self.apply(actor, resolve.action, &row).await?;
        let resolution = Resolution {
            action_taken: resolve.action.as_str().into(),
            note: resolve.note,
            resolved_by: actor.user_id(),
            resolved_at: Utc::now().naive_utc(),
        };
        let mut conn = self.db.write().await?;
        let resolved = rows::resolve(&mut conn, id, &resolution)
            .await?
            .ok_or_else(|| ChatError::Conflict("the report is already resolved".into()))?;
        drop(conn);
        let detail = self.detail(&mut self.db.read().await?, resolved).await?;
        if let Some(reporter) = detail.report.reporter.as_ref().map(|u| u.id) {
            self.notify(
                vec![reporter],
                Notice::ReportResolved {
                    report: id,
                    action: resolve.action,
                },
            );
        }
        Ok(detail)
    }

    /// Carries out a moderator's action on what the report names.
    async fn apply(
        &self,
        actor: &Principal,
        action: ResolveAction,
        row: &ReportRow,
    ) -> ChatResult<()> {
        match action {
            ResolveAction::None => Ok(()),
            ResolveAction::DeleteMessage => self.delete_reported(row).await,
            ResolveAction::BlockInstance => self.block_reported_instance(row).await,
            ResolveAction::SuspendUser => {
                let target = row.target_id.ok_or_else(|| {
                    ChatError::invalid("action", "the report names no user to suspend")
                })?;
                self.suspend_user(actor, &target.to_string(), true)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// Deletes the reported messages (those still there).
    async fn delete_reported(&self, row: &ReportRow) -> ChatResult<()> {
        let ids = parse_ids(&row.message_ids)?;
        if ids.is_empty() {
            return Err(ChatError::invalid(
                "action",
                "the report names no message to delete",
            ));
        }
        for id in ids {
            let mut conn = self.db.read().await?;
            let Some(message) = message_rows::find(&mut conn, id).await? else {
                continue;
            };
            let conv = self
                .load_conversation(&mut conn, message.conversation_id)
                .await?;
            drop(conn);
            self.tombstone(message, &conv).await?;
        }
        Ok(())
    }

    /// Blocks the reported user's server, or for a local user the server
    /// whose `Flag` this is.
    async fn block_reported_instance(&self, row: &ReportRow) -> ChatResult<()> {
        let target_domain = match row.target_id {
            Some(id) => user_rows::find_by_id(&mut self.db.read().await?, id)
                .await?
                .and_then(|u| u.domain),
            None => None,
        };
        let origin_host = row
            .origin
            .as_deref()
            .and_then(|o| url::Url::parse(o).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        let domain = target_domain
            .or(origin_host)
            .ok_or_else(|| ChatError::invalid("action", "the report concerns no other server"))?;
        let host = domain.split(':').next().unwrap_or_default().to_owned();
        self.add_instance_block(NewInstanceBlock {
            domain: host,
            reason: format!("report {}", row.id),
        })
        .await?;
        Ok(())
    }

    async fn report_views(
        &self,
        conn: &mut DbConn<'_>,
        rows: Vec<ReportRow>,
    ) -> ChatResult<Vec<Report>> {
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.report_view(conn, row).await?);
        }
        Ok(views)
    }

    async fn report_view(&self, conn: &mut DbConn<'_>, row: ReportRow) -> ChatResult<Report> {
        let reporter = user_view(conn, row.reporter_id).await?;
        let target = user_view(conn, row.target_id).await?;
        let state = if row.state == ReportState::Open.as_str() {
            ReportState::Open
        } else {
            ReportState::Resolved
        };
        Ok(Report {
            id: row.id,
            reporter,
            origin: row.origin,
            target,
            message_ids: parse_ids(&row.message_ids)?,
            comment: row.comment,
            forwarded: row.forwarded,
            state,
            action: row.action_taken.as_deref().and_then(ResolveAction::parse),
            created_at: row.created_at.and_utc(),
            resolved_at: row.resolved_at.map(|t| t.and_utc()),
        })
    }

    async fn detail(&self, conn: &mut DbConn<'_>, row: ReportRow) -> ChatResult<ReportDetail> {
        let (note, resolved_by) = (row.note.clone(), row.resolved_by);
        let report = self.report_view(conn, row).await?;
        let mut messages = vec![];
        for id in &report.message_ids {
            if let Some(message) = message_rows::find(conn, *id).await? {
                messages.push(Message::try_from(message)?);
            }
        }
        self.attach_media(conn, &mut messages).await?;
        Ok(ReportDetail {
            report,
            messages,
            note,
            resolved_by,
        })
    }
}

fn moderators_only(actor: &Principal) -> ChatResult<()> {
    if actor.is_moderator() {
        Ok(())
    } else {
        Err(ChatError::Forbidden(
            "only moderators handle reports".into(),
        ))
    }
}

fn check_comment(comment: &str) -> ChatResult<()> {
    if comment.trim().is_empty() {
        return Err(ChatError::invalid("comment", "say why you report this"));
    }
    validate::multi_line("comment", comment, MAX_COMMENT_CHARS)
}

async fn user_view(conn: &mut DbConn<'_>, id: Option<UserId>) -> ChatResult<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    match user_rows::find_by_id(conn, id).await? {
        Some(row) => Ok(Some(User::try_from(row)?)),
        None => Ok(None),
    }
}

pub(super) fn ids_json(ids: &[MessageId]) -> ChatResult<String> {
    serde_json::to_string(ids).map_err(|e| ChatError::Internal(e.to_string()))
}

fn parse_ids(json: &str) -> ChatResult<Vec<MessageId>> {
    serde_json::from_str(json).map_err(|e| ChatError::Internal(format!("reports.message_ids: {e}")))
}
