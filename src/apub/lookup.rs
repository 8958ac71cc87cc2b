//! Finding a user by handle, `@name@host`: a local user when the host is
//! ours, otherwise WebFinger and an actor fetch (refusing private and
//! loopback addresses unless the rig allows them), after which the remote
//! actor is stored and can be a contact like anyone else.

use super::context::{Context, Data};
use super::objects::person::ApubUser;
use crate::chat::users::User;
use crate::chat::ChatError;
use crate::db::users as user_rows;
use crate::error::Error;
use activitypub_federation::config::FederationConfig;
use activitypub_federation::error::Error as FederationError;
use activitypub_federation::fetch::webfinger::webfinger_resolve_actor;

/// `(name, host)` of a handle such as `@ada@chat.example` or `ada@chat.example`.
pub fn parse_handle(handle: &str) -> Option<(&str, &str)> {
    let (name, host) = handle.trim().trim_start_matches('@').split_once('@')?;
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    (!name.is_empty() && valid_host).then_some((name, host))
}

/// How long a stored remote actor is used without fetching it again.
const FRESH_FOR: chrono::Duration = chrono::Duration::hours(24);

/// The user `handle` names, fetched from its server unless we know it.
pub async fn resolve(federation: &FederationConfig<Context>, handle: &str) -> Result<User, Error> {
    let data: Data = federation.to_request_data();
    let (name, host) = parse_handle(handle)
        .ok_or_else(|| Error::Chat(ChatError::invalid("handle", "write a handle as @name@host")))?;
    if host.eq_ignore_ascii_case(&data.config.domain) {
        return Ok(data.chat.public_user(name).await?);
    }
    let bare_host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    if data.chat.is_instance_blocked(&bare_host).await? {
        return Err(Error::Refused(format!(
            "federation with {bare_host} is blocked"
        )));
    }
    let mut conn = data.chat.db().read().await?;
    let known = user_rows::find_by_name(&mut conn, &format!("{name}@{host}")).await?;
    drop(conn);
    if let Some(row) = known.filter(|r| {
        r.fetched_at
            .is_some_and(|at| chrono::Utc::now().naive_utc() - at < FRESH_FOR)
    }) {
        return Ok(User::try_from(row).map_err(ChatError::from)?);
    }
    let actor: ApubUser = webfinger_resolve_actor(&format!("{name}@{host}"), &data)
        .await
        .map_err(|e| classify(e, Looked::User))?;
    Ok(User::try_from(actor.row).map_err(ChatError::from)?)
}

/// What a lookup was for, to name it in "not found" errors.
#[derive(Debug, Clone, Copy)]
pub(super) enum Looked {
    User,
    Group,
}

impl Looked {
    fn not_found(self) -> &'static str {
        match self {
            Looked::User => "remote user",
            Looked::Group => "group",
        }
    }

    fn unanswered(self) -> &'static str {
        match self {
            Looked::User => "remote user (its server did not answer)",
            Looked::Group => "group (its server did not answer)",
        }
    }
}

/// What a failed lookup tells the client.
pub(super) fn classify(error: Error, looked: Looked) -> Error {
    match error {
        Error::Federation(e) => match e {
            FederationError::UrlVerificationError(_)
            | FederationError::DomainResolveError(_)
            | FederationError::ResolveInternalIpError(..) => {
                Error::Refused(format!("that address is not allowed: {e}"))
            }
            // Our own client refused the address (a name that resolved
            // inside, or an address the library let through).
            FederationError::ReqwestMiddleware(ref inner)
                if crate::outgoing::Failure::of(inner).is_permanent() =>
            {
                Error::Refused(crate::outgoing::Failure::of(inner).to_string())
            }
            // Unreachable or unknown hosts: nothing can be found (a 4xx, so
            // clients do not retry a typo as if we were broken).
            FederationError::Reqwest(_) | FederationError::ReqwestMiddleware(_) => {
                tracing::info!(error = %e, "remote lookup failed");
                Error::Chat(ChatError::NotFound(looked.unanswered()))
            }
            _ => Error::Chat(ChatError::NotFound(looked.not_found())),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_handle;

    #[test]
    fn handles() {
        assert_eq!(
            parse_handle("@ada@chat.example"),
            Some(("ada", "chat.example"))
        );
        assert_eq!(
            parse_handle("ada@beta.test:8080"),
            Some(("ada", "beta.test:8080"))
        );
        assert_eq!(parse_handle("ada"), None);
        assert_eq!(parse_handle("@ada@"), None);
        assert_eq!(parse_handle("@ada@exa mple"), None);
        assert_eq!(parse_handle("@ada@x/y"), None);
    }
}
