//! Keeps SQLite's search index up to date off the send path. A message
//! commit only notes the new rowid as pending (a trigger); this indexer
//! adds what is pending to the FTS5 index in large batches: every
//! `POLL` when something waits, and always before a search runs, so a
//! search finds every message committed before it (read your writes).
//! Indexing a batch of a few thousand short messages costs one FTS5
//! segment instead of one per writer commit. On PostgreSQL it does
//! nothing: the tsvector is generated as a row is stored.

use crate::db::search as rows;
use crate::db::{Backend, Db, DbError};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Messages indexed per transaction: long enough to amortise a segment,
/// short enough that the message writer waits only milliseconds.
const BATCH: i64 = 2000;
/// How often the indexer looks for pending messages.
const POLL: Duration = Duration::from_millis(500);

pub struct SearchIndexer {
    db: Db,
    /// One indexing pass at a time (the background task or a search).
    running: tokio::sync::Mutex<()>,
}

impl SearchIndexer {
    /// The indexer of `db`, with its background task on SQLite (the task
    /// ends when the indexer is dropped).
    pub fn start(db: Db) -> Arc<Self> {
        let backend = db.backend();
        let indexer = Arc::new(Self {
            db,
            running: tokio::sync::Mutex::new(()),
        });
        if backend == Backend::Sqlite {
            tokio::spawn(run(Arc::downgrade(&indexer)));
        }
        indexer
    }

    /// Indexes everything pending now; returns once it is searchable. A
    /// read answers whether anything waits, so a search on a quiet
    /// database does not queue for the writer.
    pub async fn catch_up(&self) -> Result<(), DbError> {
        if self.db.backend() != Backend::Sqlite || !self.has_pending().await? {
            return Ok(());
        }
        let _running = self.running.lock().await;
        loop {
            let done = rows::index_pending(&mut self.db.write().await?, BATCH).await?;
            if done < BATCH as usize {
                return Ok(());
            }
        }
    }

    async fn has_pending(&self) -> Result<bool, DbError> {
        rows::has_pending(&mut self.db.read().await?).await
    }
}

async fn run(indexer: Weak<SearchIndexer>) {
    loop {
        tokio::time::sleep(POLL).await;
        let Some(indexer) = indexer.upgrade() else {
            return;
        };
        if let Err(e) = indexer.catch_up().await {
            tracing::warn!(error = %e, "indexing messages for search failed");
        }
    }
}
