//! Reports for the moderators' queue: who reported whom (or which server
//! sent the `Flag`), the messages concerned, the comment, and how the
//! report was resolved. Resolving is one conditional `UPDATE`, so two
//! moderators cannot both resolve the same report.

use super::ids::{ReportId, UserId};
use super::schema::reports;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: ReportId,
    /// The local user who reported; `None` for a received `Flag` (or a
    /// reporter whose account is gone).
    pub reporter_id: Option<UserId>,
    /// The remote actor that sent the `Flag`, for a received report.
    pub origin: Option<String>,
    /// The id of the `Flag` received (`None` for local reports).
    pub activity_id: Option<String>,
    /// The reported user; `None` once their account is gone.
    pub target_id: Option<UserId>,
    /// The reported messages: a JSON array of message ids.
    pub message_ids: String,
    pub comment: String,
    /// Whether a `Flag` went to the reported user's server.
    pub forwarded: bool,
    /// `open` or `resolved`.
    pub state: String,
    /// What the moderator did (`none`, `delete_message`, …) once resolved.
    pub action_taken: Option<String>,
    /// The moderator's note.
    pub note: Option<String>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// How a report was resolved.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub action_taken: String,
    pub note: Option<String>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: NaiveDateTime,
}

pub async fn insert(conn: &mut DbConn<'_>, row: &ReportRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(reports::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

pub async fn find(conn: &mut DbConn<'_>, id: ReportId) -> Result<Option<ReportRow>, DbError> {
    let row = with_conn!(conn, |c| {
        reports::table
            .find(id)
            .select(ReportRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Reports in `state`, oldest first (the queue is worked in order), at
/// most `limit`.
pub async fn list(
    conn: &mut DbConn<'_>,
    state: &str,
    limit: i64,
) -> Result<Vec<ReportRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        reports::table
            .filter(reports::state.eq(state))
            .order(reports::created_at.asc())
            .limit(limit)
            .select(ReportRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// The reports `reporter` made, newest first, at most `limit`.
pub async fn by_reporter(
    conn: &mut DbConn<'_>,
    reporter: UserId,
    limit: i64,
) -> Result<Vec<ReportRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        reports::table
            .filter(reports::reporter_id.eq(reporter))
            .order(reports::created_at.desc())
            .limit(limit)
            .select(ReportRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// How many of `reporter`'s reports are still open.
pub async fn open_count(conn: &mut DbConn<'_>, reporter: UserId) -> Result<i64, DbError> {
    let n = with_conn!(conn, |c| {
        reports::table
            .filter(reports::reporter_id.eq(reporter))
            .filter(reports::state.eq("open"))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n)
}

/// How many open reports came from actors whose id starts with
/// `origin_prefix` (one server's received `Flag`s).
pub async fn open_count_from(conn: &mut DbConn<'_>, origin_prefix: &str) -> Result<i64, DbError> {
    let pattern = format!("{}%", origin_prefix.replace(['%', '_', '\\'], "_"));
    let n = with_conn!(conn, |c| {
        reports::table
            .filter(reports::origin.like(pattern))
            .filter(reports::state.eq("open"))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n)
}

/// Resolves an open report; the row as resolved, or `None` if it was not
/// open (already resolved, or gone).
pub async fn resolve(
    conn: &mut DbConn<'_>,
    id: ReportId,
    resolution: &Resolution,
) -> Result<Option<ReportRow>, DbError> {
    let resolution = resolution.clone();
    let n = with_conn!(conn, |c| {
        diesel::update(reports::table.find(id).filter(reports::state.eq("open")))
            .set((
                reports::state.eq("resolved"),
                reports::action_taken.eq(Some(resolution.action_taken.clone())),
                reports::note.eq(resolution.note.clone()),
                reports::resolved_by.eq(resolution.resolved_by),
                reports::resolved_at.eq(Some(resolution.resolved_at)),
            ))
            .execute(c)
            .await
    })?;
    if n == 0 {
        return Ok(None);
    }
    find(conn, id).await
}
