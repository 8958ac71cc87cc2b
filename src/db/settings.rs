//! The `instance_settings` table: values generated once per instance and kept
//! across restarts (such as the token signing secret when none is configured).

use super::schema::instance_settings;
use super::{DbConn, DbError};
use crate::with_conn;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Returns the stored value for `key`, storing `generate()`'s value first if
/// there is none. Safe against two nodes racing: the first insert wins and
/// both read it back.
pub async fn get_or_insert(
    conn: &mut DbConn<'_>,
    key: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, DbError> {
    let candidate = generate();
    with_conn!(conn, |c| {
        diesel::insert_into(instance_settings::table)
            .values((
                instance_settings::key.eq(key),
                instance_settings::value.eq(&candidate),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    let value = with_conn!(conn, |c| {
        instance_settings::table
            .find(key)
            .select(instance_settings::value)
            .first::<String>(c)
            .await
    })?;
    Ok(value)
}

/// The stored value for `key`, if any.
pub async fn get(conn: &mut DbConn<'_>, key: &str) -> Result<Option<String>, DbError> {
    let value = with_conn!(conn, |c| {
        instance_settings::table
            .find(key)
            .select(instance_settings::value)
            .first::<String>(c)
            .await
            .optional()
    })?;
    Ok(value)
}
