//! Full-text search of `messages`: the contentless FTS5 table
//! `messages_fts` on SQLite, filled in batches from `messages_fts_pending`
//! (which triggers keep: see the `search_index_off_the_send_path`
//! migration; prefixes of two and three characters have their own index:
//! `search_prefix_index`), the generated `messages.search` tsvector (GIN
//! index; live text messages only) on PostgreSQL, whose reader filter uses
//! a GIN index on `conversation_id` (`search_by_conversation`). See the
//! `message_search` migrations.
//! Either way the query itself keeps only live text messages.
//!
//! Must not import anything above `db`.

use super::ids::{ConversationId, DbUuid, MessageId, UserId};
use super::messages::MessageRow;
use super::schema::messages;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;

/// What to find, already checked by the caller.
#[derive(Debug, Clone)]
pub struct SearchFilter {
    /// Only conversations this user is a member of, and no messages by
    /// users they block.
    pub reader: UserId,
    /// The FTS5 `MATCH` expression (SQLite).
    pub fts5: String,
    /// The `to_tsquery('simple', …)` text (PostgreSQL).
    pub tsquery: String,
    pub conversation: Option<ConversationId>,
    pub author: Option<UserId>,
    /// Sent strictly after this time.
    pub after: Option<NaiveDateTime>,
    /// Sent strictly before this time.
    pub before: Option<NaiveDateTime>,
    /// Only messages older than this one.
    pub cursor: Option<MessageId>,
    pub limit: i64,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = DbUuid)]
    id: MessageId,
}

/// The SQL of a search: `placeholder(n)` writes the n-th bind (from 1).
/// The binds come in this order: match, reader, reader, then each filter
/// present in field order, then the limit.
fn sql(filter: &SearchFilter, postgres: bool) -> String {
    let mut n = 0;
    let mut p = || {
        n += 1;
        if postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    let mut sql = if postgres {
        format!(
            "SELECT m.id AS id FROM messages m \
             WHERE m.search @@ to_tsquery('simple', {})",
            p()
        )
    } else {
        format!(
            "SELECT m.id AS id FROM messages_fts \
             JOIN messages m ON m.rowid = messages_fts.rowid \
             WHERE messages_fts MATCH {}",
            p()
        )
    };
    // PostgreSQL gets the reader's conversations as one array, which its
    // planner can look up in the GIN index on `conversation_id` and AND
    // with the words' bitmap (see the `search_by_conversation` migration);
    // as a semi-join it would look the words up once per conversation.
    let members = format!(
        "SELECT conversation_id FROM members WHERE user_id = {}",
        p()
    );
    let readable = if postgres {
        format!("= ANY (ARRAY({members}))")
    } else {
        format!("IN ({members})")
    };
    sql += &format!(
        " AND m.deleted_at IS NULL AND m.kind = 'text' \
         AND m.conversation_id {readable} \
         AND (m.author_id IS NULL OR m.author_id NOT IN \
              (SELECT blocked_id FROM blocks WHERE blocker_id = {}))",
        p()
    );
    if filter.conversation.is_some() {
        sql += &format!(" AND m.conversation_id = {}", p());
    }
    if filter.author.is_some() {
        sql += &format!(" AND m.author_id = {}", p());
    }
    if filter.after.is_some() {
        sql += &format!(" AND m.created_at > {}", p());
    }
    if filter.before.is_some() {
        sql += &format!(" AND m.created_at < {}", p());
    }
    if filter.cursor.is_some() {
        sql += &if postgres {
            format!(" AND m.id < {}", p())
        } else {
            format!(
                " AND messages_fts.rowid < (SELECT rowid FROM messages WHERE id = {})",
                p()
            )
        };
    }
    // SQLite reads the index backwards in storage (rowid) order and stops
    // at the limit; rows are stored in id order.
    sql += &if postgres {
        format!(" ORDER BY m.id DESC LIMIT {}", p())
    } else {
        format!(" ORDER BY messages_fts.rowid DESC LIMIT {}", p())
    };
    sql
}

/// Binds a [`SearchFilter`] in the order [`sql`] expects, on either
/// backend's boxed query.
macro_rules! bind_filter {
    ($query:expr, $filter:expr, $matcher:expr) => {{
        let f = $filter;
        let mut q = $query
            .bind::<Text, _>($matcher)
            .bind::<DbUuid, _>(f.reader)
            .bind::<DbUuid, _>(f.reader);
        if let Some(c) = f.conversation {
            q = q.bind::<DbUuid, _>(c);
        }
        if let Some(a) = f.author {
            q = q.bind::<DbUuid, _>(a);
        }
        if let Some(t) = f.after {
            q = q.bind::<Timestamp, _>(t);
        }
        if let Some(t) = f.before {
            q = q.bind::<Timestamp, _>(t);
        }
        if let Some(c) = f.cursor {
            q = q.bind::<DbUuid, _>(c);
        }
        q.bind::<BigInt, _>(f.limit)
    }};
}

/// The messages matching `filter`, newest first.
pub async fn search(
    conn: &mut DbConn<'_>,
    filter: &SearchFilter,
) -> Result<Vec<MessageRow>, DbError> {
    let found: Vec<Found> = match conn {
        DbConn::Postgres(c) => {
            let query = diesel::sql_query(sql(filter, true)).into_boxed::<diesel::pg::Pg>();
            bind_filter!(query, filter, filter.tsquery.clone())
                .load(&mut **c)
                .await?
        }
        DbConn::Sqlite(c) => {
            let query =
                diesel::sql_query(sql(filter, false)).into_boxed::<diesel::sqlite::Sqlite>();
            bind_filter!(query, filter, filter.fts5.clone())
                .load(&mut **c)
                .await?
        }
    };
    let ids: Vec<MessageId> = found.into_iter().map(|f| f.id).collect();
    let mut rows: Vec<MessageRow> = with_conn!(conn, |c| {
        messages::table
            .filter(messages::id.eq_any(&ids))
            .filter(messages::deleted_at.is_null())
            .select(MessageRow::as_select())
            .load(c)
            .await
    })?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// Whether messages wait to be indexed (SQLite; PostgreSQL indexes a row as
/// it stores it, so never).
pub async fn has_pending(conn: &mut DbConn<'_>) -> Result<bool, DbError> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(false);
    };
    let found: Pending =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM messages_fts_pending) AS pending")
            .get_result(&mut **c)
            .await?;
    Ok(found.pending)
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pending: bool,
}

/// Indexes up to `max` waiting messages, oldest first, in one transaction
/// (one FTS5 segment for all of them); returns how many were waiting and
/// are now indexed. A no-op on PostgreSQL.
pub async fn index_pending(conn: &mut DbConn<'_>, max: i64) -> Result<usize, DbError> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(0);
    };
    let done = c
        .spawn_blocking(move |sync| {
            diesel::Connection::transaction(sync, |sync| {
                let oldest = "SELECT message_rowid FROM messages_fts_pending \
                              ORDER BY message_rowid LIMIT ?";
                diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!(
                        "INSERT INTO messages_fts (rowid, body) \
                         SELECT rowid, body FROM messages WHERE rowid IN ({oldest})"
                    ))
                    .bind::<BigInt, _>(max),
                    sync,
                )?;
                diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!(
                        "DELETE FROM messages_fts_pending WHERE message_rowid IN ({oldest})"
                    ))
                    .bind::<BigInt, _>(max),
                    sync,
                )
            })
        })
        .await?;
    Ok(done)
}
