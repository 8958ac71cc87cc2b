//! Invitation codes for sign-up in invite-only mode: who made each, how
//! many sign-ups it admits and until when. Taking a use is one conditional
//! `UPDATE`, so two sign-ups cannot share the last use.

use super::ids::UserId;
use super::schema::invitations;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub code: String,
    /// The admin who made it; `None` for the CLI or a deleted admin.
    pub created_by: Option<UserId>,
    pub max_uses: i32,
    pub uses: i32,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub async fn insert(conn: &mut DbConn<'_>, row: &InvitationRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(invitations::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Every code, newest first.
pub async fn list(conn: &mut DbConn<'_>) -> Result<Vec<InvitationRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        invitations::table
            .order(invitations::created_at.desc())
            .select(InvitationRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Removes a code; whether it existed.
pub async fn delete(conn: &mut DbConn<'_>, code: &str) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(invitations::table.filter(invitations::code.eq(code)))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Takes one use of `code` if it exists, has uses left and has not expired
/// at `now`; whether it did.
pub async fn take(conn: &mut DbConn<'_>, code: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            invitations::table
                .filter(invitations::code.eq(code))
                .filter(invitations::uses.lt(invitations::max_uses))
                .filter(
                    invitations::expires_at
                        .is_null()
                        .or(invitations::expires_at.gt(now)),
                ),
        )
        .set(invitations::uses.eq(invitations::uses + 1))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Returns a use taken by [`take`] whose sign-up then failed.
pub async fn give_back(conn: &mut DbConn<'_>, code: &str) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(
            invitations::table
                .filter(invitations::code.eq(code))
                .filter(invitations::uses.gt(0)),
        )
        .set(invitations::uses.eq(invitations::uses - 1))
        .execute(c)
        .await
    })?;
    Ok(())
}
