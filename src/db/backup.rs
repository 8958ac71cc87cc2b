//! Copies of the database while the server runs. SQLite: `VACUUM INTO`,
//! which reads one consistent snapshot (WAL included) on a reader
//! connection and writes a compact new file, without stopping writers for
//! long. PostgreSQL has its own tool, `pg_dump`; Confab does not copy it.

use super::{Db, DbError};
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use std::path::Path;

impl Db {
    /// Writes a consistent copy of the SQLite database to `path`, a file
    /// that must not exist yet.
    pub async fn backup_to(&self, path: &Path) -> Result<(), DbError> {
        let Db::Sqlite { reader, .. } = self else {
            return Err(DbError::Unsupported(
                "confab backup copies SQLite databases; for PostgreSQL use pg_dump \
                 (see docs/operations.md)"
                    .into(),
            ));
        };
        if path.exists() {
            return Err(DbError::Unsupported(format!(
                "{} exists: give the backup a new file name",
                path.display()
            )));
        }
        let target = path.to_string_lossy().into_owned();
        let mut conn = reader.get().await?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(target)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
