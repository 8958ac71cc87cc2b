//! Typed UUID identifiers that map to `uuid` on PostgreSQL and a 16-byte
//! `BLOB` on SQLite, so one `diesel::table!` schema serves both backends.
//!
//! Must not import anything above `db`.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::QueryId;
use diesel::serialize::{self, IsNull, Output};
use diesel::sql_types::{Binary, SqlType};
use diesel::sqlite::{Sqlite, SqliteValue};
use std::io::Write;
use uuid::Uuid;

/// The SQL type of every id column: PostgreSQL's built-in `uuid` (OID 2950)
/// and SQLite's `BLOB`. UUID v7 bytes sort by creation time on both.
#[derive(SqlType, QueryId, Debug, Clone, Copy)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Binary"))]
pub struct DbUuid;

pub(crate) fn write_pg(id: &Uuid, out: &mut Output<'_, '_, Pg>) -> serialize::Result {
    out.write_all(id.as_bytes())?;
    Ok(IsNull::No)
}

pub(crate) fn read_pg(value: PgValue<'_>) -> deserialize::Result<Uuid> {
    Ok(Uuid::from_slice(value.as_bytes())?)
}

pub(crate) fn read_sqlite(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Uuid> {
    let bytes = <Vec<u8> as FromSql<Binary, Sqlite>>::from_sql(value)?;
    Ok(Uuid::from_slice(&bytes)?)
}

/// Declares a typed id: a `Uuid` newtype usable as a column value on both
/// backends, serialised as a plain UUID string in JSON.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
            utoipa::ToSchema,
        )]
        #[diesel(sql_type = $crate::db::ids::DbUuid)]
        #[serde(transparent)]
        #[schema(value_type = uuid::Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered (v7) id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl diesel::serialize::ToSql<$crate::db::ids::DbUuid, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                $crate::db::ids::write_pg(&self.0, out)
            }
        }

        impl diesel::deserialize::FromSql<$crate::db::ids::DbUuid, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                $crate::db::ids::read_pg(value).map(Self)
            }
        }

        impl diesel::serialize::ToSql<$crate::db::ids::DbUuid, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.0.as_bytes().as_slice());
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<$crate::db::ids::DbUuid, diesel::sqlite::Sqlite> for $name {
            fn from_sql(
                value: diesel::sqlite::SqliteValue<'_, '_, '_>,
            ) -> diesel::deserialize::Result<Self> {
                $crate::db::ids::read_sqlite(value).map(Self)
            }
        }
    };
}

typed_id!(
    /// Identifies a user (local, or a remote actor we know).
    UserId
);

typed_id!(
    /// Identifies a conversation (direct or group).
    ConversationId
);

typed_id!(
    /// Identifies a message; v7, so ids sort by creation time.
    MessageId
);

typed_id!(
    /// Identifies one queued federation delivery.
    DeliveryId
);

typed_id!(
    /// Identifies a report in the moderators' queue.
    ReportId
);

typed_id!(
    /// Identifies an uploaded or received media item (v4: unguessable, it
    /// appears in capability URLs).
    MediaId
);

typed_id!(
    /// Identifies a sticker pack.
    StickerPackId
);

typed_id!(
    /// Identifies a sticker of a pack.
    StickerId
);
