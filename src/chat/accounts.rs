//! Account security: changing and resetting passwords, ending sessions,
//! suspending accounts, and the checks that keep tokens and live sessions
//! honest (token generation, suspension, role). Sign-up, login and listings
//! live in `users`, profiles in `profiles`.
//!
//! Every token Confab issues carries the account's token generation; a
//! password change or "log out other sessions" raises it, which refuses
//! every older token at once (a counter, not a time: a token issued in the
//! same second as the change still works).

use super::events::{ChatEvent, SessionEnd};
use super::principal::Principal;
use super::users::{Role, User};
use super::validate;
use super::{Chat, ChatError, ChatResult};
use crate::auth::password;
use crate::db::ids::UserId;
use crate::db::users::{self as user_rows, UserRow};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

/// Why an account or a credential is refused; each has its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// 403 `account_suspended`: the account is suspended.
    AccountSuspended,
    /// 403 `wrong_password`: the current password given is wrong.
    WrongPassword,
    /// 403 `external_account`: the account signs in through the external
    /// auth service, which manages its password and tokens.
    ExternalAccount,
    /// 401 `token_revoked`: the token was issued before a password change
    /// or a "log out other sessions".
    TokenRevoked,
}

impl Denial {
    /// The machine code clients see.
    pub fn code(self) -> &'static str {
        match self {
            Denial::AccountSuspended => "account_suspended",
            Denial::WrongPassword => "wrong_password",
            Denial::ExternalAccount => "external_account",
            Denial::TokenRevoked => "token_revoked",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Denial::AccountSuspended => "this account is suspended",
            Denial::WrongPassword => "the current password is wrong",
            Denial::ExternalAccount => {
                "this account signs in through the external auth service; manage its \
                 password and sessions there"
            }
            Denial::TokenRevoked => {
                "this token was revoked (password changed or sessions ended); log in again"
            }
        }
    }

    /// Whether it answers 401 (log in again) rather than 403.
    pub fn is_unauthenticated(self) -> bool {
        self == Denial::TokenRevoked
    }
}

/// `POST /api/v1/account/password`: the current password and the new one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub old_password: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// `PUT /api/v1/admin/users/{user}/password`: the password an admin sets.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// Refuses a suspended account and, given the generation a token was issued
/// in, a token older than the account's current one.
pub(super) fn check_account(row: &UserRow, generation: Option<i64>) -> ChatResult<()> {
    if row.suspended_at.is_some() {
        return Err(ChatError::Denied(Denial::AccountSuspended));
    }
    if generation.is_some_and(|g| g != row.token_generation) {
        return Err(ChatError::Denied(Denial::TokenRevoked));
    }
    Ok(())
}

impl Chat {
    /// Changes the caller's own password, given the current one; every
    /// other token and session of theirs ends. Returns the account with its
    /// new token generation (to issue the caller a fresh token).
    pub async fn change_password(
        &self,
        actor: &Principal,
        change: PasswordChange,
    ) -> ChatResult<User> {
        let row = self.own_account(actor).await?;
        if row.external_subject.is_some() {
            return Err(ChatError::Denied(Denial::ExternalAccount));
        }
        validate::password(&change.new_password)
            .map_err(|_| ChatError::invalid("new_password", "8 to 1024 characters".to_owned()))?;
        // An account without a password has no current one to give.
        let stored = row.password_hash.clone();
        let check = stored.clone();
        let PasswordChange {
            old_password,
            new_password,
        } = change;
        let ok = self
            .hashing
            .run(move || password::verify(&old_password, check.as_deref()))
            .await?;
        if !ok {
            return Err(ChatError::Denied(Denial::WrongPassword));
        }
        let hash = self.hash_password(new_password).await?;
        let now = Utc::now().naive_utc();
        let row = user_rows::set_password(
            &mut self.db.write().await?,
            row.id,
            stored.as_deref(),
            &hash,
            now,
        )
        .await?
        .ok_or_else(|| ChatError::Conflict("the password was changed meanwhile".into()))?;
        self.end_sessions(
            row.id,
            SessionEnd::PasswordChanged,
            Some(row.token_generation),
        );
        Ok(User::try_from(row)?)
    }

    /// Ends every other session of the caller: all their tokens stop
    /// working and their live sessions close. Returns the account with its
    /// new token generation (to issue the caller a fresh token).
    pub async fn revoke_sessions(&self, actor: &Principal) -> ChatResult<User> {
        let row = self.own_account(actor).await?;
        if row.external_subject.is_some() {
            return Err(ChatError::Denied(Denial::ExternalAccount));
        }
        let row = user_rows::bump_token_generation(&mut self.db.write().await?, row.id)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        self.end_sessions(
            row.id,
            SessionEnd::SessionsRevoked,
            Some(row.token_generation),
        );
        Ok(User::try_from(row)?)
    }

    /// An admin (or the CLI) sets a local account's password; its tokens
    /// and sessions end.
    pub async fn reset_password(
        &self,
        actor: &Principal,
        key: &str,
        reset: PasswordReset,
    ) -> ChatResult<User> {
        if !actor.is_admin() {
            return Err(ChatError::Forbidden(
                "only admins may reset passwords".into(),
            ));
        }
        let target = self.local_account(actor, key).await?;
        if target.external_subject.is_some() {
            return Err(ChatError::Denied(Denial::ExternalAccount));
        }
        validate::password(&reset.new_password)
            .map_err(|_| ChatError::invalid("new_password", "8 to 1024 characters".to_owned()))?;
        let hash = self.hash_password(reset.new_password).await?;
        let now = Utc::now().naive_utc();
        let row = user_rows::set_password(&mut self.db.write().await?, target.id, None, &hash, now)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        self.end_sessions(row.id, SessionEnd::PasswordChanged, None);
        Ok(User::try_from(row)?)
    }

    /// Suspends (`suspended`) or reinstates a local account. Moderators may;
    /// suspending an admin takes an admin; nobody suspends themselves. A
    /// suspension ends the account's sessions at once; its tokens work
    /// again once it is lifted (unless they expired meanwhile).
    pub async fn suspend_user(
        &self,
        actor: &Principal,
        name: &str,
        suspended: bool,
    ) -> ChatResult<User> {
        if !actor.is_moderator() {
            return Err(ChatError::Forbidden(
                "only moderators and admins may suspend accounts".into(),
            ));
        }
        let target = self.local_account(actor, name).await?;
        if actor.user_id() == Some(target.id) {
            return Err(ChatError::Forbidden(
                "you cannot suspend your own account".into(),
            ));
        }
        if target.role == Role::Admin.as_str() && !actor.is_admin() {
            return Err(ChatError::Forbidden(
                "only admins may suspend an admin".into(),
            ));
        }
        let at = suspended.then(|| Utc::now().naive_utc());
        // A repeated suspension keeps its first date.
        let at = target.suspended_at.or(at).filter(|_| suspended);
        let row = user_rows::set_suspended(&mut self.db.write().await?, target.id, at)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        if suspended {
            self.end_sessions(row.id, SessionEnd::AccountSuspended, None);
        }
        Ok(User::try_from(row)?)
    }

    /// Whether a live session of `user`, opened in token `generation` with
    /// `role`, may go on; the reason to end it otherwise. Sessions call it
    /// every `session_recheck_s` (one read by primary key), which catches
    /// changes made by another process (the CLI).
    pub async fn session_check(
        &self,
        user: UserId,
        generation: i64,
        role: Role,
    ) -> ChatResult<Option<SessionEnd>> {
        let Some(row) = user_rows::find_by_id(&mut self.db.read().await?, user).await? else {
            return Ok(Some(SessionEnd::AccountDeleted));
        };
        match check_account(&row, Some(generation)) {
            Err(ChatError::Denied(Denial::AccountSuspended)) => {
                return Ok(Some(SessionEnd::AccountSuspended))
            }
            Err(ChatError::Denied(_)) => return Ok(Some(SessionEnd::TokenRevoked)),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let now = User::try_from(row)?.role;
        Ok((now != role).then_some(SessionEnd::RoleChanged))
    }

    /// Tells every node to end `user`'s sessions: those opened with a token
    /// older than `below_generation` when given (sessions opened with the
    /// fresh token survive), all otherwise.
    pub(super) fn end_sessions(
        &self,
        user: UserId,
        reason: SessionEnd,
        below_generation: Option<i64>,
    ) {
        self.events.publish(ChatEvent::SessionsEnded {
            user,
            reason,
            below_generation,
        });
    }

    /// The caller's own account row (not a service).
    async fn own_account(&self, actor: &Principal) -> ChatResult<UserRow> {
        let id = actor.user_id().ok_or_else(|| {
            ChatError::Forbidden("a service token has no account of its own".into())
        })?;
        user_rows::find_by_id(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("user"))
    }

    /// The row of a local account named by id or name.
    async fn local_account(&self, actor: &Principal, key: &str) -> ChatResult<UserRow> {
        let id = self.find_user(actor, key).await?.id;
        let row = user_rows::find_by_id(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        if row.domain.is_some() {
            return Err(ChatError::invalid(
                "user",
                "only accounts of this server can be managed here",
            ));
        }
        Ok(row)
    }

    async fn hash_password(&self, new_password: String) -> ChatResult<String> {
        self.hashing
            .run(move || password::hash(&new_password))
            .await?
            .map_err(|e| ChatError::Internal(format!("password hashing failed: {e}")))
    }
}
