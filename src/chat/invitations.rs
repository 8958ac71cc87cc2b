//! Invitation codes: admins make them, and in invite-only mode
//! (`registration = invite`) a sign-up needs one that has uses left and has
//! not expired. A code is 128 random bits, so guessing one is hopeless.

use super::principal::Principal;
use super::{Chat, ChatError, ChatResult};
use crate::db::invitations::{self as rows, InvitationRow};
use chrono::{DateTime, Duration, Utc};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most sign-ups one code may admit.
pub const MAX_USES: u32 = 10_000;

/// What an admin asks for when making a code.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Sign-ups the code admits (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_uses: u32,
    /// Seconds until the code expires; `null` or absent: never.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub expires_in_s: Option<u64>,
}

fn one() -> u32 {
    1
}

/// An invitation code as admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitation {
    /// Send as `invitation` in `POST /api/v1/auth/register`.
    pub code: String,
    pub max_uses: u32,
    pub uses: u32,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Self {
        Self {
            code: row.code,
            max_uses: u32::try_from(row.max_uses).unwrap_or_default(),
            uses: u32::try_from(row.uses).unwrap_or_default(),
            expires_at: row.expires_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
        }
    }
}

impl Chat {
    /// Makes a code (admins and the CLI).
    pub async fn create_invitation(
        &self,
        actor: &Principal,
        new: NewInvitation,
    ) -> ChatResult<Invitation> {
        admin_only(actor)?;
        if !(1..=MAX_USES).contains(&new.max_uses) {
            return Err(ChatError::invalid(
                "max_uses",
                format!("from 1 to {MAX_USES}"),
            ));
        }
        let now = Utc::now();
        let expires_at = match new.expires_in_s {
            Some(s) => Some(
                i64::try_from(s)
                    .ok()
                    .filter(|s| *s > 0)
                    .and_then(Duration::try_seconds)
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| {
                        ChatError::invalid("expires_in_s", "a positive number of seconds")
                    })?,
            ),
            None => None,
        };
        let row = InvitationRow {
            code: random_code(),
            created_by: actor.user_id(),
            max_uses: i32::try_from(new.max_uses).unwrap_or(i32::MAX),
            uses: 0,
            expires_at: expires_at.map(|t| t.naive_utc()),
            created_at: now.naive_utc(),
        };
        rows::insert(&mut self.db.write().await?, &row).await?;
        Ok(row.into())
    }

    /// Every code, newest first (admins).
    pub async fn list_invitations(&self, actor: &Principal) -> ChatResult<Vec<Invitation>> {
        admin_only(actor)?;
        let rows = rows::list(&mut self.db.read().await?).await?;
        Ok(rows.into_iter().map(Invitation::from).collect())
    }

    /// Withdraws a code (admins).
    pub async fn delete_invitation(&self, actor: &Principal, code: &str) -> ChatResult<()> {
        admin_only(actor)?;
        if !rows::delete(&mut self.db.write().await?, code).await? {
            return Err(ChatError::NotFound("invitation"));
        }
        Ok(())
    }

    /// Takes one use of `code` for a sign-up, or refuses it.
    pub(super) async fn take_invitation(&self, code: Option<&str>) -> ChatResult<String> {
        let code = code.ok_or_else(|| {
            ChatError::Forbidden("sign-up on this server needs an invitation code".into())
        })?;
        let now = Utc::now().naive_utc();
        if !rows::take(&mut self.db.write().await?, code, now).await? {
            return Err(ChatError::Forbidden(
                "the invitation code is unknown, used up or expired".into(),
            ));
        }
        Ok(code.to_owned())
    }

    /// Returns a use whose sign-up failed after all.
    pub(super) async fn give_back_invitation(&self, code: &str) {
        let result = async { rows::give_back(&mut self.db.write().await?, code).await };
        if let Err(e) = result.await {
            tracing::error!("cannot return a use of an invitation code: {e}");
        }
    }
}

fn admin_only(actor: &Principal) -> ChatResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(ChatError::Forbidden(
            "only admins may manage invitations".into(),
        ))
    }
}

/// 128 random bits, hex-encoded.
fn random_code() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
