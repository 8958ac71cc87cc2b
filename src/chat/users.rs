//! Accounts: sign-up, login, users of the external auth service, lookups
//! and listings, deletion, and the admin/self rules for them. Profiles
//! (what an account shows) live in `profiles`.

use super::accounts::check_account;
use super::events::ChatEvent;
use super::principal::Principal;
use super::profiles::{checked_profile, links_json, Profile, ProfileLink};
use super::validate;
use super::{Chat, ChatError, ChatResult};
use crate::auth::password;
use crate::auth::tokens::{ExternalClaims, ExternalRole, Verified};
use crate::config::RegistrationMode;
use crate::db::ids::UserId;
use crate::db::users::{self as user_rows, UserRow};
use crate::db::DbError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// What an account may do beyond chatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    /// Handles reports and suspends users; no admin rights.
    Moderator,
    Admin,
}

impl Role {
    /// The role's name, spelled as everywhere else (`admin`, not `Admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    /// The lowercase name, as in JSON (`confab user role NAME moderator`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "user" => Ok(Role::User),
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("{s:?} is not a role: user, moderator or admin")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as every client sees it (no credentials, no keys).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    /// Unique, case-insensitively; 1-32 letters, digits, `_`, `-`, `.`,
    /// not only dots.
    pub name: String,
    pub display_name: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub profile_links: Vec<ProfileLink>,
    pub role: Role,
    /// `null` for accounts of this server; the host of a remote user (whose
    /// `name` is then `name@host`).
    pub domain: Option<String>,
    /// A suspended account cannot log in and its tokens are refused.
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Which of the account's tokens are valid (`gen` claim); not shown.
    #[serde(skip)]
    pub token_generation: i64,
}

impl TryFrom<UserRow> for User {
    type Error = DbError;

    fn try_from(row: UserRow) -> Result<Self, DbError> {
        let profile_links = serde_json::from_str(&row.profile_links)
            .map_err(|e| DbError::Corrupt(format!("users.profile_links of {}: {e}", row.id)))?;
        let role = match row.role.as_str() {
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
            _ => Role::User,
        };
        Ok(User {
            id: row.id,
            name: row.name,
            display_name: row.display_name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            profile_links,
            role,
            domain: row.domain,
            suspended: row.suspended_at.is_some(),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            token_generation: row.token_generation,
        })
    }
}

/// A sign-up with Confab's own credentials.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    #[schema(
        pattern = "^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$",
        min_length = 1,
        max_length = 32
    )]
    pub name: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[serde(default)]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f]*$")]
    pub display_name: Option<String>,
    /// An invitation code; needed when the server is invite-only
    /// (`registration = invite`), ignored otherwise.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub invitation: Option<String>,
}

/// Name and password, to log in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(max_length = 32)]
    pub name: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

/// An account created by an admin or a service (`POST /api/v1/users`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(
        pattern = "^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$",
        min_length = 1,
        max_length = 32
    )]
    pub name: String,
    /// Without a password the account can only be used through tokens
    /// (for example, ones an admin obtains for it later).
    #[serde(default)]
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f]*$")]
    pub display_name: String,
    #[serde(default)]
    #[schema(
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"
    )]
    pub bio: String,
    #[serde(default)]
    #[schema(format = Uri, max_length = 2048, pattern = "^https?://[^\\s]+$")]
    pub avatar_url: Option<String>,
    #[serde(default)]
    #[schema(max_items = 8)]
    pub profile_links: Vec<ProfileLink>,
    #[serde(default)]
    pub role: Option<Role>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// One page of a user listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next: Option<String>,
}

pub const PAGE_MAX: i64 = 100;

/// Everything about an account to create except its password.
struct NewAccount {
    name: String,
    profile: Profile,
    /// The role asked for; the first sign-up and configured admins get
    /// `admin` regardless.
    role: Option<Role>,
    external_subject: Option<String>,
    /// Only Confab's own sign-up makes the very first account an admin.
    first_becomes_admin: bool,
}

impl NewAccount {
    fn new(name: String, profile: Profile) -> Self {
        Self {
            name,
            profile,
            role: None,
            external_subject: None,
            first_becomes_admin: false,
        }
    }
}

impl Chat {
    /// Signs up a new account with a password. The first account, and any
    /// named in the `admins` setting, become admins. On an invite-only
    /// server the sign-up takes one use of its invitation code.
    pub async fn register(&self, reg: Registration) -> ChatResult<User> {
        if reg.invitation.as_ref().is_some_and(|code| code.len() > 64) {
            return Err(ChatError::invalid(
                "invitation",
                "an invitation code has at most 64 characters",
            ));
        }
        let invited = match self.policy.registration {
            RegistrationMode::Closed => {
                return Err(ChatError::Forbidden(
                    "registration is closed on this server".into(),
                ))
            }
            RegistrationMode::Open => None,
            RegistrationMode::Invite => {
                // Bad values are refused before a use is taken.
                validate::name("name", &reg.name)?;
                validate::password(&reg.password)?;
                Some(self.take_invitation(reg.invitation.as_deref()).await?)
            }
        };
        let profile = Profile {
            display_name: reg.display_name.unwrap_or_default(),
            ..Profile::default()
        };
        let account = NewAccount {
            first_becomes_admin: true,
            ..NewAccount::new(reg.name, profile)
        };
        let result = self.insert_user(account, Some(reg.password)).await;
        if let (Err(_), Some(code)) = (&result, &invited) {
            self.give_back_invitation(code).await;
        }
        result
    }

    /// Checks a name and password; the same error for an unknown name and a
    /// wrong password.
    pub async fn login(&self, creds: Credentials) -> ChatResult<User> {
        let row = if validate::is_valid_name(&creds.name) {
            user_rows::find_by_name(&mut self.db.read().await?, &creds.name).await?
        } else {
            None
        };
        let stored = row.as_ref().and_then(|r| r.password_hash.clone());
        let ok = self
            .hashing
            .run(move || password::verify(&creds.password, stored.as_deref()))
            .await?;
        match row {
            Some(row) if ok => {
                // Told only to whoever knows the password.
                check_account(&row, None)?;
                Ok(User::try_from(row)?)
            }
            _ => Err(ChatError::Unauthenticated("wrong name or password".into())),
        }
    }

    /// Turns a verified token into the acting principal, creating the chat
    /// user of an external account on its first token.
    pub async fn principal(&self, verified: Verified) -> ChatResult<Principal> {
        match verified {
            Verified::Own {
                user_id,
                generation,
            } => {
                let row = user_rows::find_by_id(&mut self.db.read().await?, user_id)
                    .await?
                    .ok_or_else(|| {
                        ChatError::Unauthenticated("the account no longer exists".into())
                    })?;
                check_account(&row, Some(generation))?;
                Ok(Principal::User(User::try_from(row)?))
            }
            Verified::External(claims) if claims.role == ExternalRole::Service => {
                Ok(Principal::Service {
                    subject: claims.subject,
                })
            }
            Verified::External(claims) => Ok(Principal::User(self.external_user(claims).await?)),
        }
    }

    async fn external_user(&self, claims: ExternalClaims) -> ChatResult<User> {
        let existing =
            user_rows::find_by_external_subject(&mut self.db.read().await?, &claims.subject)
                .await?;
        if let Some(row) = existing {
            check_account(&row, None)?;
            return Ok(User::try_from(row)?);
        }
        let name = claims
            .name
            .clone()
            .or_else(|| validate::is_valid_name(&claims.subject).then(|| claims.subject.clone()))
            .filter(|n| validate::is_valid_name(n))
            .ok_or_else(|| {
                ChatError::Unauthenticated("the external token carries no usable user name".into())
            })?;
        let profile = Profile {
            display_name: claims.display_name.clone().unwrap_or_default(),
            ..Profile::default()
        };
        let subject = claims.subject.clone();
        let account = NewAccount {
            role: match claims.role {
                ExternalRole::Admin => Some(Role::Admin),
                ExternalRole::Moderator => Some(Role::Moderator),
                ExternalRole::User | ExternalRole::Service => None,
            },
            external_subject: Some(subject.clone()),
            ..NewAccount::new(name, profile)
        };
        match self.insert_user(account, None).await {
            // Two first requests raced: the other one created the account.
            Err(ChatError::Conflict(msg)) => {
                let row = user_rows::find_by_external_subject(&mut self.db.read().await?, &subject)
                    .await?
                    .ok_or(ChatError::Conflict(msg))?;
                Ok(User::try_from(row)?)
            }
            other => other,
        }
    }

    /// `POST /api/v1/users`: admins and services create accounts.
    pub async fn create_user(&self, actor: &Principal, new: NewUser) -> ChatResult<User> {
        if !actor.is_admin() {
            return Err(ChatError::Forbidden("only admins may create users".into()));
        }
        let profile = Profile {
            display_name: new.display_name,
            bio: new.bio,
            avatar_url: new.avatar_url,
            profile_links: new.profile_links,
        };
        let account = NewAccount {
            role: new.role,
            ..NewAccount::new(new.name, profile)
        };
        self.insert_user(account, new.password).await
    }

    async fn insert_user(&self, account: NewAccount, password: Option<String>) -> ChatResult<User> {
        let NewAccount {
            name,
            profile,
            role,
            external_subject,
            first_becomes_admin,
        } = account;
        validate::name("name", &name)?;
        if let Some(pw) = &password {
            validate::password(pw)?;
        }
        let profile = checked_profile(profile)?;
        let password_hash = match password {
            Some(pw) => Some(
                self.hashing
                    .run(move || password::hash(&pw))
                    .await?
                    .map_err(|e| ChatError::Internal(format!("password hashing failed: {e}")))?,
            ),
            None => None,
        };
        let mut conn = self.db.write().await?;
        let first = first_becomes_admin && user_rows::count(&mut conn).await? == 0;
        let configured = self
            .policy
            .admins
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&name));
        let role = if first || configured {
            Role::Admin
        } else {
            role.unwrap_or(Role::User)
        };
        let now = Utc::now().naive_utc();
        let row = UserRow {
            id: UserId::new(),
            name,
            display_name: profile.display_name,
            bio: profile.bio,
            avatar_url: profile.avatar_url,
            profile_links: links_json(&profile.profile_links)?,
            role: role.as_str().to_owned(),
            password_hash,
            external_subject,
            public_key_pem: None,
            private_key_pem: None,
            created_at: now,
            updated_at: now,
            domain: None,
            ap_id: None,
            inbox: None,
            shared_inbox: None,
            fetched_at: None,
            ed25519_key_id: None,
            ed25519_public_key: None,
            ed25519_private_key: None,
            suspended_at: None,
            token_generation: 0,
            share_presence_remote: true,
            share_read_receipts: true,
        };
        let row = match user_rows::insert(&mut conn, &row).await {
            Err(DbError::UniqueViolation) => {
                return Err(ChatError::Conflict(format!(
                    "the name {:?} is taken",
                    row.name
                )))
            }
            other => other?,
        };
        let user = User::try_from(row)?;
        self.events
            .publish(ChatEvent::UserCreated { user: user.id });
        Ok(user)
    }

    /// Finds a user by id or (case-insensitive) name; `me` is the caller.
    pub async fn find_user(&self, actor: &Principal, key: &str) -> ChatResult<User> {
        if key == "me" {
            return match actor {
                Principal::User(user) => Ok(user.clone()),
                Principal::Service { .. } => Err(ChatError::NotFound("user")),
            };
        }
        let mut conn = self.db.read().await?;
        let row = match uuid::Uuid::parse_str(key) {
            Ok(id) => user_rows::find_by_id(&mut conn, UserId(id)).await?,
            Err(_) if validate::is_valid_name(key) => {
                user_rows::find_by_name(&mut conn, key).await?
            }
            Err(_) => None,
        };
        Ok(User::try_from(row.ok_or(ChatError::NotFound("user"))?)?)
    }

    /// A local user by name, for public pages and federation (no caller).
    pub async fn public_user(&self, name: &str) -> ChatResult<User> {
        if !validate::is_valid_name(name) {
            return Err(ChatError::NotFound("user"));
        }
        let row = user_rows::find_by_name(&mut self.db.read().await?, name)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        Ok(User::try_from(row)?)
    }

    /// How many accounts exist (NodeInfo usage).
    pub async fn user_count(&self) -> ChatResult<i64> {
        Ok(user_rows::count(&mut self.db.read().await?).await?)
    }

    /// The user's ActivityPub public key (PEM). On first use `generate`
    /// makes a keypair `(public, private)` (slow: it runs on a blocking
    /// thread) and it is stored.
    pub async fn actor_public_key(
        &self,
        user: UserId,
        generate: fn() -> Result<(String, String), String>,
    ) -> ChatResult<String> {
        let row = user_rows::find_by_id(&mut self.db.read().await?, user)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        if let Some(pem) = row.public_key_pem {
            return Ok(pem);
        }
        let (public, private) = blocking(generate)
            .await?
            .map_err(|e| ChatError::Internal(format!("key generation failed: {e}")))?;
        let mut conn = self.db.write().await?;
        user_rows::set_keypair_once(&mut conn, user, &public, &private).await?;
        user_rows::find_by_id(&mut conn, user)
            .await?
            .and_then(|r| r.public_key_pem)
            .ok_or(ChatError::NotFound("user"))
    }

    /// The id of the user named by `key` (an id or a name).
    pub async fn resolve_user(&self, key: &str) -> ChatResult<UserId> {
        let mut conn = self.db.read().await?;
        let row = match uuid::Uuid::parse_str(key) {
            Ok(id) => user_rows::find_by_id(&mut conn, UserId(id)).await?,
            Err(_) if validate::is_valid_name(key) => {
                user_rows::find_by_name(&mut conn, key).await?
            }
            Err(_) => None,
        };
        row.map(|r| r.id).ok_or(ChatError::NotFound("user"))
    }

    /// Lists users whose name starts with `prefix`, after the cursor `after`;
    /// users who block `viewer` are left out.
    pub async fn list_users(
        &self,
        viewer: Option<UserId>,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> ChatResult<UserPage> {
        let limit = limit.clamp(1, PAGE_MAX);
        let valid = |s: &str| s.is_empty() || validate::is_valid_name(s);
        if !valid(prefix) || !valid(after) {
            // No name contains other characters, so nothing can match.
            return Ok(UserPage {
                users: vec![],
                next: None,
            });
        }
        let rows = user_rows::list(
            &mut self.db.read().await?,
            viewer,
            &prefix.to_lowercase(),
            &after.to_lowercase(),
            limit + 1,
        )
        .await?;
        let more = rows.len() as i64 > limit;
        let users = rows
            .into_iter()
            .take(limit as usize)
            .map(User::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = more
            .then(|| users.last().map(|u| u.name.to_lowercase()))
            .flatten();
        Ok(UserPage { users, next })
    }

    /// The id of the local user `name` (any case), if there is one. Read
    /// once, then kept in the access cache: ids never change, and deleting
    /// an account clears the cache.
    pub async fn local_user_id(&self, name: &str) -> ChatResult<Option<UserId>> {
        let key = name.to_lowercase();
        if let Some(id) = self.cache.local_user(&key) {
            return Ok(Some(id));
        }
        let epoch = self.cache.epoch();
        let row = user_rows::find_by_name(&mut self.db.read().await?, &key)
            .await?
            .filter(|row| row.domain.is_none());
        if let Some(row) = &row {
            self.cache.put_local_user(key, row.id, epoch);
        }
        Ok(row.map(|row| row.id))
    }

    /// `DELETE`: removes an account (its own owner or an admin).
    pub async fn delete_user(&self, actor: &Principal, key: &str) -> ChatResult<()> {
        let target = self.find_user(actor, key).await?;
        if !actor.may_manage(target.id) {
            return Err(ChatError::Forbidden(
                "you may only delete your own account".into(),
            ));
        }
        // Read before the contact rows go with the account (cascade).
        let watchers = self.presence_audience(target.id).await?;
        if !user_rows::delete(&mut self.db.write().await?, target.id).await? {
            return Err(ChatError::NotFound("user"));
        }
        // Their memberships and blocks went with them (cascade).
        self.cache.clear();
        self.notify(
            watchers,
            super::events::Notice::StatusChanged {
                user: target.id,
                status: super::views::Status::Offline,
            },
        );
        self.events
            .publish(ChatEvent::UserDeleted { user: target.id });
        Ok(())
    }

    /// Gives the admin role to the configured admins who already exist.
    pub async fn promote_configured_admins(&self) -> ChatResult<usize> {
        if self.policy.admins.is_empty() {
            return Ok(0);
        }
        Ok(user_rows::promote_admins(&mut self.db.write().await?, &self.policy.admins).await?)
    }
}

/// Runs CPU-heavy work (key generation) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ChatResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ChatError::Internal(format!("blocking task failed: {e}")))
}
