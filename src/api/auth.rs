//! Sign-up and login with Confab's own credentials, and the per-client and
//! per-account limits on both.

use super::extract::{ApiJson, ClientIp};
use super::{TooManyRequests, WriteErrors};
use crate::chat::users::{Credentials, Registration, User};
use crate::chat::{validate, ChatError};
use crate::client_ip::rate_key;
use crate::config::Config;
use crate::error::Error;
use crate::ratelimit::{Quota, RateLimiter};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;
use utoipa::ToSchema;

/// Failed logins per client address and per account, and sign-ups per
/// client address, each a token bucket kept in memory.
pub struct AuthLimits {
    login_by_ip: RateLimiter<IpAddr>,
    login_by_account: RateLimiter<String>,
    signup_by_ip: RateLimiter<IpAddr>,
}

impl AuthLimits {
    pub fn new(config: &Config) -> Self {
        let login_window = Duration::from_secs(config.login_window_s);
        let quota = |burst, per| Quota { burst, per };
        let max = config.rate_limit_max_keys;
        Self {
            login_by_ip: RateLimiter::new(quota(config.login_failures_per_ip, login_window), max),
            login_by_account: RateLimiter::new(
                quota(config.login_failures_per_account, login_window),
                max,
            ),
            signup_by_ip: RateLimiter::new(
                quota(
                    config.signups_per_ip,
                    Duration::from_secs(config.signup_window_s),
                ),
                max,
            ),
        }
    }

    /// Counts a login attempt against the client and the account, or
    /// refuses it. The tokens are given back by [`Self::login_done`] unless
    /// the attempt failed.
    pub(super) fn begin_login(&self, ip: IpAddr, name: &str) -> Result<LoginAttempt, Error> {
        let ip = rate_key(ip);
        self.login_by_ip.try_take(&ip).map_err(|wait| {
            limited("login_ip", "too many failed logins from this address", wait)
        })?;
        // Names that cannot exist are not remembered (the address pays).
        let account = validate::is_valid_name(name).then(|| name.to_lowercase());
        if let Some(account) = &account {
            if let Err(wait) = self.login_by_account.try_take(account) {
                self.login_by_ip.give_back(&ip);
                return Err(limited(
                    "login_account",
                    "too many failed logins for this account",
                    wait,
                ));
            }
        }
        Ok(LoginAttempt { ip, account })
    }

    /// Ends an attempt: only a wrong name or password keeps its tokens.
    pub(super) fn login_done(&self, attempt: LoginAttempt, failed: bool) {
        if failed {
            return;
        }
        self.login_by_ip.give_back(&attempt.ip);
        if let Some(account) = &attempt.account {
            self.login_by_account.give_back(account);
        }
    }

    /// Counts a sign-up from `ip`, or refuses it.
    fn begin_signup(&self, ip: IpAddr) -> Result<IpAddr, Error> {
        let ip = rate_key(ip);
        self.signup_by_ip
            .try_take(&ip)
            .map_err(|wait| limited("signup_ip", "too many sign-ups from this address", wait))?;
        Ok(ip)
    }

    /// Gives the token back when the sign-up was refused before any work
    /// (a bad value, a closed server, a busy one).
    fn signup_refused(&self, ip: IpAddr, error: &ChatError) {
        if matches!(
            error,
            ChatError::Invalid { .. } | ChatError::Forbidden(_) | ChatError::RateLimited(_)
        ) {
            self.signup_by_ip.give_back(&ip);
        }
    }
}

/// The buckets one login attempt took a token from.
pub(super) struct LoginAttempt {
    ip: IpAddr,
    account: Option<String>,
}

/// A 429 of the limit `what` (the label of `confab_rate_limited_total`).
fn limited(what: &'static str, message: &str, wait: Duration) -> Error {
    metrics::counter!("confab_rate_limited_total", "what" => what).increment(1);
    Error::RateLimited {
        message: format!("{message}; try again later"),
        retry_after_s: wait.as_secs_f64().ceil() as u64,
    }
}

/// An access token and the account it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A fresh token for `user`, valid in their current token generation.
pub(super) fn session(state: &AppState, user: User) -> Result<Session, Error> {
    let issued = state.tokens.issue(user.id, user.token_generation)?;
    Ok(Session {
        access_token: issued.token,
        token_type: "Bearer",
        expires_at: issued.expires_at,
        user,
    })
}

/// # `POST /api/v1/auth/register`
/// Creates an account with a password and logs it in. The first account on
/// a server becomes its admin. Sign-ups per client address are limited
/// (`signups_per_ip`); beyond it the answer is 429 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body(content = Registration, content_type = "application/json"),
    responses(
        (status = 201, description = "Account created", body = Session),
        WriteErrors,
        TooManyRequests
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(reg): ApiJson<Registration>,
) -> Result<(StatusCode, Json<Session>), Error> {
    let key = state.auth_limits.begin_signup(ip)?;
    let user = match state.chat.register(reg).await {
        Ok(user) => user,
        Err(e) => {
            state.auth_limits.signup_refused(key, &e);
            return Err(e.into());
        }
    };
    Ok((StatusCode::CREATED, Json(session(&state, user)?)))
}

/// # `POST /api/v1/auth/login`
/// Exchanges a name and password for an access token. Failed logins are
/// limited per client address and per account name
/// (`login_failures_per_ip`, `login_failures_per_account`), and password
/// checks run a few at a time; beyond either the answer is 429 with
/// `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in", body = Session),
        WriteErrors,
        TooManyRequests
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<Session>, Error> {
    let attempt = state.auth_limits.begin_login(ip, &creds.name)?;
    let result = state.chat.login(creds).await;
    let failed = matches!(result, Err(ChatError::Unauthenticated(_)));
    if failed {
        metrics::counter!("confab_login_failures_total").increment(1);
    }
    state.auth_limits.login_done(attempt, failed);
    Ok(Json(session(&state, result?)?))
}
