//! Activity ids already applied, so that a replay is a no-op. Every inbox
//! request records its id before applying it; the records are written by
//! one task, many per transaction (what arrives while a transaction runs
//! goes into the next one), as messages and deliveries are.

use crate::db::federation as federation_rows;
use crate::db::{Db, DbError};
use tokio::sync::{mpsc, oneshot};

/// Ids recorded per transaction, at most.
const BATCH: usize = 512;

/// An id to record, and who waits to know whether it is new.
struct Mark {
    id: String,
    fresh: oneshot::Sender<Result<bool, DbError>>,
}

pub struct Replays {
    db: Db,
    marks: mpsc::UnboundedSender<Mark>,
}

impl Replays {
    /// Also starts the recording task (inside a Tokio runtime).
    pub fn new(db: Db) -> Self {
        let (marks, pending) = mpsc::unbounded_channel();
        tokio::spawn(record(db.clone(), pending));
        Self { db, marks }
    }

    /// Records that activity `id` arrived, durably; `false` if it had before.
    pub async fn mark(&self, id: &str) -> Result<bool, DbError> {
        let (fresh, answer) = oneshot::channel();
        let stopped = || DbError::Pool("the replay recorder has stopped".into());
        self.marks
            .send(Mark {
                id: id.to_owned(),
                fresh,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Forgets that activity `id` arrived (applying it failed; a retry may
    /// try again).
    pub async fn unmark(&self, id: &str) -> Result<(), DbError> {
        federation_rows::unmark_received(&mut self.db.write().await?, id).await
    }
}

async fn record(db: Db, mut pending: mpsc::UnboundedReceiver<Mark>) {
    while let Some(first) = pending.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match pending.try_recv() {
                Ok(mark) => batch.push(mark),
                Err(_) => break,
            }
        }
        let ids: Vec<String> = batch.iter().map(|m| m.id.clone()).collect();
        let now = chrono::Utc::now().naive_utc();
        let result = match db.write().await {
            Ok(mut conn) => federation_rows::mark_all_received(&mut conn, &ids, now).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(fresh) => {
                for (mark, fresh) in batch.into_iter().zip(fresh) {
                    let _ = mark.fresh.send(Ok(fresh));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, ids = ids.len(), "recording received activities failed");
                for mark in batch {
                    let _ = mark.fresh.send(Err(DbError::Pool(format!(
                        "recording the activity id failed: {e}"
                    ))));
                }
            }
        }
    }
}
