//! Storage: one [`Db`] handle over either PostgreSQL (native async
//! connections) or SQLite (diesel's sync connection wrapped for async), chosen
//! at run time from the database URL. Both run the same diesel queries through
//! [`with_conn!`](crate::with_conn); migrations for both are embedded.
//!
//! Must not import `chat`, `api`, `ws`, `apub` or axum.

mod backup;
mod checkpoint;
pub mod contacts;
pub mod conversations;
pub mod deliveries;
pub mod federation;
pub mod ids;
pub mod invitations;
pub mod ip_rules;
pub mod join_requests;
pub mod link_previews;
pub mod media;
pub mod messages;
mod open;
pub mod pins;
pub mod reactions;
pub mod reports;
pub mod schema;
pub mod search;
pub mod sent_join_requests;
pub mod settings;
pub mod stickers;
pub mod users;

use diesel::result::{ConnectionError, DatabaseErrorKind};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::bb8::{Pool, PooledConnection, RunError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::Arc;
use std::time::Duration;

/// SQLite's connection type: diesel's sync connection run on blocking threads.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Settings applied to every SQLite connection: WAL so readers never block
/// the writer, a busy timeout instead of instant `SQLITE_BUSY`, enforced
/// foreign keys, and `NORMAL` sync (durable across process crashes; WAL keeps
/// the file consistent on power loss).
/// Automatic checkpoints are off: a checkpoint inside a commit stalls the
/// writer for milliseconds, so [`Db::connect`] starts a task that checkpoints
/// off the commit path instead (see [`checkpoint`]); a WAL that a burst made
/// larger than 64 MiB is trimmed back when it restarts.
/// No memory map (`mmap_size = 0`): a connection that starts a read
/// transaction after a commit elsewhere drops its page cache, and with a
/// map SQLite also unmaps the whole file, which costs every core a TLB
/// flush and the next reads page faults; with every read after a write
/// doing that, the map cost the federation sender a third of its CPU
/// (`docs/benchmarks.md`, "Federation, session 12"). `pread` copies pages
/// instead, which costs less.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; \
     PRAGMA mmap_size = 0; PRAGMA journal_size_limit = 67108864;";

/// The `busy_timeout` of [`SQLITE_PRAGMAS`], in milliseconds (keep the two
/// equal): restored after the checkpoint that waits less.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Everything that can go wrong below the domain layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use postgres://… or sqlite://path")]
    UnsupportedUrl(String),
    #[error("database connection failed: {0}")]
    Connection(#[from] ConnectionError),
    #[error("database pool: {0}")]
    Pool(String),
    /// The database cannot be opened at start; the message says why and
    /// what to do.
    #[error("{0}")]
    Unreachable(String),
    /// An operation this backend or this input does not allow.
    #[error("{0}")]
    Unsupported(String),
    #[error("a row with the same unique key exists")]
    UniqueViolation,
    #[error("query failed: {0}")]
    Query(diesel::result::Error),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                DbError::UniqueViolation
            }
            other => DbError::Query(other),
        }
    }
}

impl From<RunError> for DbError {
    fn from(e: RunError) -> Self {
        DbError::Pool(e.to_string())
    }
}

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// The database handle held in the app state. Cloning is cheap (pools are
/// reference-counted).
#[derive(Clone)]
pub enum Db {
    Postgres(Pool<AsyncPgConnection>),
    /// SQLite allows one writer at a time: writes go through a pool of one
    /// connection so they queue in Rust instead of failing with `SQLITE_BUSY`,
    /// reads use their own pool and run in parallel (WAL).
    Sqlite {
        writer: Pool<SqliteConn>,
        reader: Pool<SqliteConn>,
        /// Whether the writer should restart the WAL (see [`checkpoint`]).
        wal: Arc<checkpoint::Wal>,
        /// The WAL checkpoint task, stopped with the last clone.
        _checkpointer: Arc<AbortOnDrop>,
    },
}

/// A pooled connection on whichever backend is live. Use it with
/// [`with_conn!`](crate::with_conn).
// Short-lived and on the stack; boxing the larger variant would cost an
// allocation per query.
#[allow(clippy::large_enum_variant)]
pub enum DbConn<'a> {
    Postgres(PooledConnection<'a, AsyncPgConnection>),
    Sqlite(PooledConnection<'a, SqliteConn>),
}

/// Runs the same diesel expression on whichever backend `conn` is:
/// `with_conn!(conn, |c| users::table.load(c).await)`. The body is compiled
/// once per backend, so any query both backends support works unchanged.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(ref mut pooled) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut *pooled;
                $body
            }
            $crate::db::DbConn::Sqlite(ref mut pooled) => {
                let $c: &mut $crate::db::SqliteConn = &mut *pooled;
                $body
            }
        }
    };
}

impl Db {
    /// Checks that the database opens, then opens pools for `url` (`postgres://…`, `postgresql://…`, `sqlite://path`
    /// or `sqlite:path`); a SQLite file is created if missing.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            open::check_postgres(url).await?;
            let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
            let pool = pool_builder(pool_size)
                .build(manager)
                .await
                .map_err(|e| DbError::Pool(e.to_string()))?;
            return Ok(Db::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| DbError::UnsupportedUrl(url.to_owned()))?;
        open::check_sqlite(path).await?;
        let writer = pool_builder(1)
            .build(sqlite_manager(path))
            .await
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let reader = pool_builder(pool_size)
            .build(sqlite_manager(path))
            .await
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let wal = Arc::new(checkpoint::Wal::default());
        let checkpointer = Arc::new(AbortOnDrop(tokio::spawn(checkpoint::run(
            reader.clone(),
            wal.clone(),
        ))));
        Ok(Db::Sqlite {
            writer,
            reader,
            wal,
            _checkpointer: checkpointer,
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// A connection for queries that only read.
    pub async fn read(&self) -> Result<DbConn<'_>, DbError> {
        Ok(match self {
            Db::Postgres(pool) => DbConn::Postgres(pool.get().await?),
            Db::Sqlite { reader, .. } => DbConn::Sqlite(reader.get().await?),
        })
    }

    /// A connection for anything that writes (on SQLite, the single writer).
    pub async fn write(&self) -> Result<DbConn<'_>, DbError> {
        Ok(match self {
            Db::Postgres(pool) => DbConn::Postgres(pool.get().await?),
            Db::Sqlite { writer, wal, .. } => {
                let mut conn = writer.get().await?;
                wal.before_write(&mut conn).await;
                DbConn::Sqlite(conn)
            }
        })
    }

    /// Applies every embedded migration not yet applied. Needs tokio's
    /// multi-thread runtime (diesel's harness blocks in place).
    pub async fn migrate(&self) -> Result<usize, DbError> {
        // The harness needs an owned ('static) connection.
        let applied = match self {
            Db::Postgres(pool) => {
                let mut harness = AsyncMigrationHarness::new(pool.get_owned().await?);
                harness
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map_err(|e| DbError::Migration(e.to_string()))?
                    .len()
            }
            Db::Sqlite { writer, .. } => {
                let mut harness = AsyncMigrationHarness::new(writer.get_owned().await?);
                harness
                    .run_pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(|e| DbError::Migration(e.to_string()))?
                    .len()
            }
        };
        Ok(applied)
    }

    /// Round-trips a trivial statement: what `/healthz` reports.
    pub async fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.read().await?;
        with_conn!(conn, |c| c.batch_execute("SELECT 1").await)?;
        Ok(())
    }
}

/// Pool settings shared by both backends.
fn pool_builder<M: bb8::ManageConnection>(size: u32) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(Duration::from_secs(10))
}

/// Aborts a background task when the last [`Db`] clone goes.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn sqlite_manager(path: &str) -> AsyncDieselConnectionManager<SqliteConn> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = SqliteConn::establish(&url).await?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    AsyncDieselConnectionManager::new_with_config(path, config)
}
