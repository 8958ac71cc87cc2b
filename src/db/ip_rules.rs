//! IP rules: allow and deny rules on client address ranges, per scope. The
//! server keeps them in memory (`chat::ip_rules`) and re-reads this table
//! periodically, so rows the CLI writes apply without a restart.

use super::schema::ip_rules;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ip_rules)]
pub struct IpRuleRow {
    pub id: i64,
    /// `signup`, `login`, `api` or `ws`.
    pub scope: String,
    /// `allow` or `deny`.
    pub action: String,
    /// A normalised CIDR range.
    pub cidr: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

/// A rule to store; the database picks the id.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ip_rules)]
pub struct NewIpRuleRow {
    pub scope: String,
    pub action: String,
    pub cidr: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

/// Stores a rule; [`DbError::UniqueViolation`] when the same scope, action
/// and range exist.
pub async fn insert(conn: &mut DbConn<'_>, row: &NewIpRuleRow) -> Result<IpRuleRow, DbError> {
    let inserted = with_conn!(conn, |c| {
        diesel::insert_into(ip_rules::table)
            .values(row)
            .returning(IpRuleRow::as_returning())
            .get_result(c)
            .await
    })?;
    Ok(inserted)
}

/// Every rule, oldest first.
pub async fn list(conn: &mut DbConn<'_>) -> Result<Vec<IpRuleRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        ip_rules::table
            .order(ip_rules::id)
            .select(IpRuleRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Removes a rule; whether it existed.
pub async fn delete(conn: &mut DbConn<'_>, id: i64) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(ip_rules::table.filter(ip_rules::id.eq(id)))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}
