//! WAL checkpoints for SQLite, off the writer's commit path.
//!
//! SQLite's own automatic checkpoint runs inside a commit and stalls the
//! writer, so it is off (`wal_autocheckpoint = 0`) and this task does the
//! work instead, every second:
//! 1. a `PASSIVE` checkpoint from a reader connection copies the WAL's
//!    pages back into the database file without waiting for anyone;
//! 2. when the WAL has grown past [`RESTART_FRAMES`], it asks for a
//!    `RESTART` checkpoint, which the next user of the writer connection
//!    runs before its own work (see [`Wal::before_write`]): it finishes the
//!    copy and lets the next commit write the WAL from its start again. On
//!    the writer's path, because the writer connection is always busy
//!    under load and a separate task asking for it would wait forever.
//!
//! Without step 2 the WAL never restarts under a steady write load (a
//! commit can only restart it when every frame has been copied back when
//! its transaction begins), so it grows by every commit's pages: about a
//! gigabyte for 40,000 federated messages, each write landing on new file
//! blocks that the kernel must zero first (18 % of the sender's CPU in
//! `confab-fedbench`). Rewriting the same file region costs only the copy.
//! `journal_size_limit` (in [`super::SQLITE_PRAGMAS`]) trims a WAL that a
//! burst made larger back to 64 MiB at the next restart.
//!
//! The `RESTART` waits at most [`RESTART_WAIT_MS`] for readers still on
//! old frames, then gives up until the next tick: a long read never holds
//! up the writes queued behind the checkpoint.

use super::SqliteConn;
use diesel::sql_types::Integer;
use diesel::QueryableByName;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often the WAL is copied back into the database file.
const EVERY: Duration = Duration::from_secs(1);
/// WAL frames (pages of 4 KiB) past which the WAL is restarted: 16 MiB.
const RESTART_FRAMES: i32 = 4096;
/// How long the `RESTART` checkpoint waits for readers, in milliseconds.
const RESTART_WAIT_MS: u32 = 10;

/// The row `PRAGMA wal_checkpoint` answers.
#[derive(QueryableByName)]
struct Checkpoint {
    /// 1 when the checkpoint could not finish (a reader or writer held it).
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Frames in the WAL.
    #[diesel(sql_type = Integer)]
    log: i32,
}

/// Whether the WAL should start over; shared by the checkpoint task and
/// the writer.
#[derive(Default)]
pub struct Wal {
    restart_wanted: AtomicBool,
}

impl Wal {
    /// Runs the `RESTART` checkpoint the task asked for, if it did, on the
    /// writer connection just taken from its pool. A failure is logged: the
    /// write goes on and the task asks again.
    pub(super) async fn before_write(&self, writer: &mut SqliteConn) {
        if !self.restart_wanted.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Err(e) = restart(writer).await {
            tracing::warn!("WAL restart checkpoint failed: {e}");
        }
    }
}

/// Runs until the task is aborted (when the last `Db` clone goes).
pub(super) async fn run(reader: Pool<SqliteConn>, wal: Arc<Wal>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        match passive(&reader).await {
            Ok(frames) => wal
                .restart_wanted
                .store(frames > RESTART_FRAMES, Ordering::Release),
            Err(e) => tracing::warn!("WAL checkpoint failed: {e}"),
        }
    }
}

/// Copies what it can without waiting; returns the WAL's length in frames.
async fn passive(reader: &Pool<SqliteConn>) -> Result<i32, String> {
    let mut conn = reader.get().await.map_err(|e| e.to_string())?;
    let row: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
        .get_result(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.log)
}

/// Finishes the copy and lets the next commit start the WAL over (unless a
/// reader still uses it).
async fn restart(writer: &mut SqliteConn) -> Result<(), String> {
    writer
        .batch_execute(&format!("PRAGMA busy_timeout = {RESTART_WAIT_MS}"))
        .await
        .map_err(|e| e.to_string())?;
    let result = diesel::sql_query("PRAGMA wal_checkpoint(RESTART)")
        .get_result::<Checkpoint>(writer)
        .await;
    writer
        .batch_execute(&format!("PRAGMA busy_timeout = {}", super::BUSY_TIMEOUT_MS))
        .await
        .map_err(|e| e.to_string())?;
    let row = result.map_err(|e| e.to_string())?;
    if row.busy != 0 {
        tracing::debug!(
            frames = row.log,
            "WAL restart deferred: a reader is still on it"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, DbConn};
    use std::path::Path;

    async fn write(db: &Db, sql: &str) {
        let mut conn = db.write().await.expect("writer");
        let DbConn::Sqlite(conn) = &mut conn else {
            panic!("not SQLite")
        };
        conn.batch_execute(sql).await.expect("write");
    }

    /// The WAL header's checkpoint sequence number: it grows by one each
    /// time the WAL starts over.
    fn restarts(wal: &Path) -> u32 {
        let bytes = std::fs::read(wal).expect("read the WAL");
        u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]])
    }

    /// Under a steady stream of commits the WAL starts over once it is
    /// past the threshold, instead of growing with every commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_wal_starts_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()), 2)
            .await
            .expect("connect");
        write(&db, "CREATE TABLE filler (x BLOB)").await;
        // Past the threshold: 5,000 pages of 4 KiB in 50 commits.
        for _ in 0..50 {
            write(
                &db,
                "INSERT INTO filler SELECT randomblob(3900) FROM \
                 (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
                 SELECT i FROM n)",
            )
            .await;
        }
        let wal = dir.path().join("wal.db-wal");
        let before = restarts(&wal);
        // Commits back to back, so that no commit ever finds the WAL fully
        // copied back on its own; within 20 s the WAL must start over.
        let writer = db.clone();
        let load = tokio::spawn(async move {
            loop {
                write(&writer, "INSERT INTO filler VALUES (x'00')").await;
            }
        });
        let mut after = before;
        for _ in 0..400 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            after = restarts(&wal);
            if after > before {
                break;
            }
        }
        load.abort();
        assert!(after > before, "the WAL never started over");
    }
}
