//! The first connection, made once before the pools are built, so that a
//! database that cannot be opened says why at once (instead of the pool's
//! "timed out" ten seconds later): a PostgreSQL server that does not
//! answer, a database that does not exist, a SQLite directory that is
//! missing or a file that cannot be opened.

use super::{DbError, SqliteConn, SQLITE_PRAGMAS};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Connects to the PostgreSQL database `url` once.
pub(super) async fn check_postgres(url: &str) -> Result<(), DbError> {
    let error = match AsyncPgConnection::establish(url).await {
        Ok(_) => return Ok(()),
        Err(e) => e.to_string(),
    };
    // The driver says only "error connecting to server"; the socket's own
    // error tells a closed port from an unknown host.
    let error = match address(url) {
        Some((host, port)) if error.contains("error connecting") => {
            match timeout(PROBE_TIMEOUT, TcpStream::connect((host.as_str(), port))).await {
                Ok(Err(io)) => format!("{error}: {io}"),
                Err(_) => format!("{error}: no answer within {}s", PROBE_TIMEOUT.as_secs()),
                Ok(Ok(_)) => error,
            }
        }
        _ => error,
    };
    Err(DbError::Unreachable(explain_postgres(url, &error)))
}

/// How long the diagnostic TCP connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Host and port of a PostgreSQL URL.
fn address(url: &str) -> Option<(String, u16)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_matches(['[', ']']).to_owned();
    Some((host, parsed.port().unwrap_or(5432)))
}

/// Where `url` points, without its password: `"name" on host:port`.
fn describe(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "the database of database_url".to_owned();
    };
    let (host, port) = address(url).unwrap_or_else(|| ("localhost".to_owned(), 5432));
    let name = parsed.path().trim_start_matches('/');
    let name = if name.is_empty() {
        parsed.username()
    } else {
        name
    };
    format!("database {name:?} on {host}:{port}")
}

/// A message for a failed PostgreSQL connection that says what to do.
fn explain_postgres(url: &str, error: &str) -> String {
    let target = describe(url);
    let lower = error.to_ascii_lowercase();
    let hint = if lower.contains("does not exist") && lower.contains("database") {
        "the database does not exist: create it (for example with createdb) or fix database_url"
    } else if lower.contains("refused") {
        "nothing accepts connections there: is PostgreSQL running, and are the host and port right?"
    } else if lower.contains("password") || lower.contains("authentication") {
        "PostgreSQL refused the credentials: check the user and password in database_url"
    } else if lower.contains("failed to lookup")
        || lower.contains("resolve")
        || lower.contains("name or service")
    {
        "the host name does not resolve: check the host in database_url"
    } else {
        "check database_url and that PostgreSQL accepts connections from this host"
    };
    format!("cannot open PostgreSQL {target}: {hint} ({error})")
}

/// Opens the SQLite file at `path` once (creating it if missing).
pub(super) async fn check_sqlite(path: &str) -> Result<(), DbError> {
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        if !dir.is_dir() {
            return Err(DbError::Unreachable(format!(
                "cannot open SQLite database {path}: the directory {} does not exist \
                 (create it, or fix database_url)",
                dir.display()
            )));
        }
    }
    let opened = async {
        let mut conn = SqliteConn::establish(path)
            .await
            .map_err(|e| e.to_string())?;
        conn.batch_execute(SQLITE_PRAGMAS)
            .await
            .map_err(|e| e.to_string())
    };
    opened.await.map_err(|e| {
        DbError::Unreachable(format!(
            "cannot open SQLite database {path}: {e} (check that the file and its \
             directory can be read and written by this user)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_messages_hide_the_password_and_say_what_to_do() {
        let url = "postgres://ada:secret@db.internal:5433/chat";
        let message = explain_postgres(url, "db error: FATAL: database \"chat\" does not exist");
        assert!(!message.contains("secret"), "{message}");
        assert!(
            message.contains("\"chat\" on db.internal:5433"),
            "{message}"
        );
        assert!(message.contains("does not exist: create it"), "{message}");
        let refused = explain_postgres(url, "Connection refused (os error 111)");
        assert!(refused.contains("is PostgreSQL running"), "{refused}");
    }
}
