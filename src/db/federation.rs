//! Federation bookkeeping: ids of activities already received (replays are
//! no-ops) and the instance blocklist.

use super::schema::{instance_blocks, received_activities};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Records that activities `ids` arrived, in one transaction; for each,
/// `false` if it had already (or appears earlier in `ids`).
pub async fn mark_all_received(
    conn: &mut DbConn<'_>,
    ids: &[String],
    now: NaiveDateTime,
) -> Result<Vec<bool>, DbError> {
    let insert = move |id: &str| {
        diesel::insert_into(received_activities::table)
            .values((
                received_activities::id.eq(id.to_owned()),
                received_activities::received_at.eq(now),
            ))
            .on_conflict_do_nothing()
    };
    let ids = ids.to_vec();
    let fresh = match conn {
        DbConn::Postgres(c) => {
            use diesel_async::AsyncConnection;
            c.transaction(async |c| {
                let mut fresh = vec![];
                for id in &ids {
                    fresh.push(insert(id).execute(c).await? == 1);
                }
                Ok::<_, diesel::result::Error>(fresh)
            })
            .await?
        }
        DbConn::Sqlite(c) => {
            // One transaction on one blocking thread (one hop, one commit).
            c.spawn_blocking(move |sync| {
                diesel::Connection::transaction(sync, |sync| {
                    let mut fresh = vec![];
                    for id in &ids {
                        fresh.push(diesel::RunQueryDsl::execute(insert(id), sync)? == 1);
                    }
                    Ok::<_, diesel::result::Error>(fresh)
                })
            })
            .await?
        }
    };
    Ok(fresh)
}

/// Forgets that activity `id` arrived (applying it failed; a retry may try again).
pub async fn unmark_received(conn: &mut DbConn<'_>, id: &str) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::delete(received_activities::table.find(id))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Forgets ids received before `before` (signatures that old are refused anyway).
pub async fn prune_received(
    conn: &mut DbConn<'_>,
    before: NaiveDateTime,
) -> Result<usize, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(
            received_activities::table.filter(received_activities::received_at.lt(before)),
        )
        .execute(c)
        .await
    })?;
    Ok(n)
}

/// One blocked instance.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = instance_blocks)]
pub struct InstanceBlockRow {
    /// Host name, lowercase, without port.
    pub domain: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

pub async fn instance_blocks(conn: &mut DbConn<'_>) -> Result<Vec<InstanceBlockRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        instance_blocks::table
            .order(instance_blocks::domain)
            .select(InstanceBlockRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Adds (or keeps) a blocked instance.
pub async fn block_instance(conn: &mut DbConn<'_>, row: &InstanceBlockRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(instance_blocks::table)
            .values(row)
            .on_conflict(instance_blocks::domain)
            .do_update()
            .set(instance_blocks::reason.eq(&row.reason))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Lifts a block; `false` when there was none.
pub async fn unblock_instance(conn: &mut DbConn<'_>, domain: &str) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(instance_blocks::table.find(domain))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}
