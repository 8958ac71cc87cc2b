//! The `deliveries` table (the persistent federation queue) and
//! `federation_hosts` (per-host health for backoff and the dead state).

use super::ids::{DeliveryId, MessageId, UserId};
use super::schema::{deliveries, federation_hosts};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// One activity to one inbox.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub activity_id: String,
    /// The ActivityPub id of the local actor (user or group) whose key
    /// signs the request.
    pub signer: String,
    pub inbox: String,
    /// Host (with port) of the inbox: the unit of backoff.
    pub host: String,
    /// The activity JSON, sent as it is.
    pub body: String,
    /// The chat message this delivers, for per-recipient delivery state.
    pub message_id: Option<MessageId>,
    /// The remote user this delivery is for (one of them on a shared inbox).
    pub recipient_id: Option<UserId>,
    /// `queued`, `delivered`, `retrying` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A host's delivery health.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = federation_hosts)]
pub struct HostRow {
    pub host: String,
    /// Failures since the last success.
    pub failures: i32,
    /// No request goes to the host before this time.
    pub retry_at: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Queues `rows`; a row for an (activity, inbox) already queued is skipped.
/// Stores rows in one transaction, skipping those whose (activity, inbox)
/// is already queued; returns the ids of the rows stored.
pub async fn insert_all(
    conn: &mut DbConn<'_>,
    rows: &[DeliveryRow],
) -> Result<Vec<DeliveryId>, DbError> {
    let stored = match conn {
        DbConn::Postgres(c) => {
            use diesel_async::AsyncConnection;
            let rows = rows.to_vec();
            c.transaction(async |c| {
                let mut stored = vec![];
                for row in &rows {
                    let n = diesel::insert_into(deliveries::table)
                        .values(row)
                        .on_conflict((deliveries::activity_id, deliveries::inbox))
                        .do_nothing()
                        .execute(c)
                        .await?;
                    if n == 1 {
                        stored.push(row.id);
                    }
                }
                Ok::<_, diesel::result::Error>(stored)
            })
            .await?
        }
        DbConn::Sqlite(c) => {
            // One transaction on one blocking thread (one hop, one commit).
            let rows = rows.to_vec();
            c.spawn_blocking(move |sync| {
                diesel::Connection::transaction(sync, |sync| {
                    let mut stored = vec![];
                    for row in &rows {
                        let n = diesel::RunQueryDsl::execute(
                            diesel::insert_into(deliveries::table)
                                .values(row)
                                .on_conflict((deliveries::activity_id, deliveries::inbox))
                                .do_nothing(),
                            sync,
                        )?;
                        if n == 1 {
                            stored.push(row.id);
                        }
                    }
                    Ok::<_, diesel::result::Error>(stored)
                })
            })
            .await?
        }
    };
    Ok(stored)
}

/// Ids of rows to send now: queued or retrying, due, at most `limit`,
/// oldest first (ids only: most may already be in flight).
pub async fn due(
    conn: &mut DbConn<'_>,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<DeliveryId>, DbError> {
    let ids = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::state.eq_any(["queued", "retrying"]))
            .filter(deliveries::next_attempt_at.le(now))
            .order((deliveries::next_attempt_at, deliveries::created_at))
            .limit(limit)
            .select(deliveries::id)
            .load(c)
            .await
    })?;
    Ok(ids)
}

/// The rows with these ids.
pub async fn by_ids(
    conn: &mut DbConn<'_>,
    ids: &[DeliveryId],
) -> Result<Vec<DeliveryRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::id.eq_any(ids))
            .select(DeliveryRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// When the next unfinished row is due, if any.
pub async fn next_due(conn: &mut DbConn<'_>) -> Result<Option<NaiveDateTime>, DbError> {
    let at = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::state.eq_any(["queued", "retrying"]))
            .select(diesel::dsl::min(deliveries::next_attempt_at))
            .first::<Option<NaiveDateTime>>(c)
            .await
    })?;
    Ok(at)
}

/// Moves a row's next attempt to `at` without counting an attempt (its
/// host is resting).
pub async fn postpone(
    conn: &mut DbConn<'_>,
    id: DeliveryId,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(deliveries::table.find(id))
            .set(deliveries::next_attempt_at.eq(at))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Makes every waiting row for `host` due now (the host answered again).
pub async fn wake_host(
    conn: &mut DbConn<'_>,
    host: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(
            deliveries::table
                .filter(deliveries::host.eq(host))
                .filter(deliveries::state.eq_any(["queued", "retrying"]))
                .filter(deliveries::next_attempt_at.gt(now)),
        )
        .set(deliveries::next_attempt_at.eq(now))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Whether any delivery row was ever stored for `message`.
pub async fn any_for_message(conn: &mut DbConn<'_>, message: MessageId) -> Result<bool, DbError> {
    let found = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::message_id.eq(message))
            .select(deliveries::id)
            .first::<DeliveryId>(c)
            .await
            .optional()
    })?;
    Ok(found.is_some())
}

/// Delivery rows of one message (every activity about it), oldest first,
/// for its per-recipient state.
pub async fn for_message(
    conn: &mut DbConn<'_>,
    message: MessageId,
) -> Result<Vec<DeliveryRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::message_id.eq(message))
            .order((deliveries::created_at, deliveries::id))
            .select(DeliveryRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// The recorded health of `host`.
pub async fn host(conn: &mut DbConn<'_>, host: &str) -> Result<Option<HostRow>, DbError> {
    let row = with_conn!(conn, |c| {
        federation_hosts::table
            .find(host)
            .select(HostRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// All hosts we have delivered to, worst first.
pub async fn hosts(conn: &mut DbConn<'_>) -> Result<Vec<HostRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        federation_hosts::table
            .order((federation_hosts::failures.desc(), federation_hosts::host))
            .select(HostRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Stores a host's health.
pub async fn save_host(conn: &mut DbConn<'_>, row: &HostRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(federation_hosts::table)
            .values(row)
            .on_conflict(federation_hosts::host)
            .do_update()
            .set((
                federation_hosts::failures.eq(row.failures),
                federation_hosts::retry_at.eq(row.retry_at),
                federation_hosts::last_success_at.eq(row.last_success_at),
                federation_hosts::updated_at.eq(row.updated_at),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// How many deliveries are in `state`.
pub async fn count_in_state(conn: &mut DbConn<'_>, state: &str) -> Result<i64, DbError> {
    let n = with_conn!(conn, |c| {
        deliveries::table
            .filter(deliveries::state.eq(state))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n)
}

/// The outcome of one attempt at a row.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: DeliveryId,
    /// The row's host: a `delivered` attempt records the host's last
    /// success in the same commit.
    pub host: String,
    /// `delivered`, `retrying` or `failed`.
    pub state: &'static str,
    pub next_attempt_at: NaiveDateTime,
    pub error: Option<String>,
    pub at: NaiveDateTime,
}

/// Per host with a `delivered` attempt among `attempts`, the row recording
/// its latest success: a host first seen succeeding is listed with no
/// failures; for a known host only `last_success_at` moves (its failure
/// count is the worker's to reset).
fn successes(attempts: &[Attempt]) -> Vec<HostRow> {
    let mut latest: std::collections::BTreeMap<&str, NaiveDateTime> = Default::default();
    for a in attempts.iter().filter(|a| a.state == "delivered") {
        let at = latest.entry(&a.host).or_insert(a.at);
        *at = (*at).max(a.at);
    }
    latest
        .into_iter()
        .map(|(host, at)| HostRow {
            host: host.to_owned(),
            failures: 0,
            retry_at: None,
            last_success_at: Some(at),
            updated_at: at,
        })
        .collect()
}

/// Records many attempts, and the last success of each host delivered to,
/// with one commit (on SQLite in one blocking call).
pub async fn record_all(conn: &mut DbConn<'_>, attempts: &[Attempt]) -> Result<(), DbError> {
    use diesel::upsert::excluded;
    let hosts = successes(attempts);
    let success_set = (
        federation_hosts::last_success_at.eq(excluded(federation_hosts::last_success_at)),
        federation_hosts::updated_at.eq(excluded(federation_hosts::updated_at)),
    );
    match conn {
        DbConn::Postgres(c) => {
            use diesel_async::AsyncConnection;
            let attempts = attempts.to_vec();
            c.transaction(async |c| {
                for host in &hosts {
                    diesel::insert_into(federation_hosts::table)
                        .values(host)
                        .on_conflict(federation_hosts::host)
                        .do_update()
                        .set(success_set)
                        .execute(c)
                        .await?;
                }
                for a in &attempts {
                    diesel::update(deliveries::table.find(a.id))
                        .set((
                            deliveries::state.eq(a.state),
                            deliveries::attempts.eq(deliveries::attempts + 1),
                            deliveries::next_attempt_at.eq(a.next_attempt_at),
                            deliveries::last_error.eq(&a.error),
                            deliveries::updated_at.eq(a.at),
                        ))
                        .execute(c)
                        .await?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .await?;
        }
        DbConn::Sqlite(c) => {
            let attempts = attempts.to_vec();
            c.spawn_blocking(move |sync| {
                diesel::Connection::transaction(sync, |sync| {
                    for host in &hosts {
                        diesel::RunQueryDsl::execute(
                            diesel::insert_into(federation_hosts::table)
                                .values(host)
                                .on_conflict(federation_hosts::host)
                                .do_update()
                                .set(success_set),
                            sync,
                        )?;
                    }
                    for a in &attempts {
                        diesel::RunQueryDsl::execute(
                            diesel::update(deliveries::table.find(a.id)).set((
                                deliveries::state.eq(a.state),
                                deliveries::attempts.eq(deliveries::attempts + 1),
                                deliveries::next_attempt_at.eq(a.next_attempt_at),
                                deliveries::last_error.eq(&a.error),
                                deliveries::updated_at.eq(a.at),
                            )),
                            sync,
                        )?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
            })
            .await?;
        }
    }
    Ok(())
}
