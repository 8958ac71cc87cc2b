//! `/.well-known/webfinger`, `/.well-known/host-meta`, NodeInfo 2.1.

use super::ACTIVITY_JSON;
use crate::apub::context::Federation;
use crate::chat::ChatError;
use crate::config::RegistrationMode;
use crate::error::Error;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use url::Url;

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// # `GET /.well-known/webfinger?resource=acct:name@domain`
/// Resolves a local account to its actor id (Mastodon requires the
/// round trip `acct:` → actor → `preferredUsername@host`). The actor's URL
/// (`resource=https://domain/users/name`) is answered the same way, with
/// the same `acct:` subject, as Mastodon answers it.
pub async fn webfinger(
    State(state): State<Federation>,
    query: Result<axum::extract::Query<WebfingerQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let resource = query
        .map_err(Error::from)?
        .0
        .resource
        .ok_or_else(|| Error::InvalidQuery("resource is required".into()))?;
    let name = match Resource::parse(&resource)? {
        Resource::Account { name, domain } => {
            if !domain.eq_ignore_ascii_case(&state.config.domain) {
                return Err(ChatError::NotFound("account").into());
            }
            name
        }
        Resource::Url(url) => state
            .urls()
            .user_name(&url)
            .ok_or(ChatError::NotFound("account"))?
            .to_string(),
    };
    let user = state.chat.public_user(&name).await?;
    let id = state.urls().user(&user.name);
    let body = json!({
        "subject": format!("acct:{}@{}", user.name, state.config.domain),
        "aliases": [id],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": id},
        ],
    });
    Ok(([(CONTENT_TYPE, "application/jrd+json")], body.to_string()).into_response())
}

/// What a WebFinger `resource` names.
#[derive(Debug, PartialEq, Eq)]
enum Resource {
    /// `acct:name@domain` (or `name@domain`).
    Account { name: String, domain: String },
    /// An `http(s)` URL, such as an actor id.
    Url(Url),
}

impl Resource {
    fn parse(resource: &str) -> Result<Resource, Error> {
        let malformed = || {
            Error::InvalidQuery(
                "resource must be acct:name@domain or an http(s) URL of an actor".into(),
            )
        };
        let scheme = resource
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase());
        if matches!(scheme.as_deref(), Some("http" | "https")) {
            let url = Url::parse(resource).map_err(|_| malformed())?;
            return match url.host_str() {
                Some(host) if !host.is_empty() => Ok(Resource::Url(url)),
                _ => Err(malformed()),
            };
        }
        let account = resource.strip_prefix("acct:").unwrap_or(resource);
        match account.rsplit_once('@') {
            Some((name, domain)) if !name.is_empty() && !domain.is_empty() => {
                Ok(Resource::Account {
                    name: name.to_string(),
                    domain: domain.to_string(),
                })
            }
            _ => Err(malformed()),
        }
    }
}

/// # `GET /.well-known/host-meta`
/// The WebFinger template, for servers that look it up first.
pub async fn host_meta(State(state): State<Federation>) -> Response {
    let base = state.config.public_base();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{base}/.well-known/webfinger?resource={{uri}}\"/>\n\
         </XRD>\n"
    );
    ([(CONTENT_TYPE, "application/xrd+xml; charset=utf-8")], xml).into_response()
}

/// # `GET /.well-known/nodeinfo`
pub async fn nodeinfo_links(State(state): State<Federation>) -> Json<serde_json::Value> {
    Json(json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": format!("{}/nodeinfo/2.1", state.config.public_base()),
    }]}))
}

/// # `GET /nodeinfo/2.1`
pub async fn nodeinfo(State(state): State<Federation>) -> Result<Response, Error> {
    let users = state.chat.user_count().await?;
    let body = json!({
        "version": "2.1",
        "software": {"name": "confab", "version": env!("CARGO_PKG_VERSION")},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": state.config.registration_mode() == RegistrationMode::Open,
        "usage": {"users": {"total": users}},
        "metadata": {},
    });
    let profile = "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"";
    Ok(([(CONTENT_TYPE, profile)], body.to_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_accounts_or_urls() {
        let account = |name: &str, domain: &str| Resource::Account {
            name: name.into(),
            domain: domain.into(),
        };
        assert_eq!(
            Resource::parse("acct:ada@confab.test").unwrap(),
            account("ada", "confab.test")
        );
        assert_eq!(
            Resource::parse("ada@confab.test:8080").unwrap(),
            account("ada", "confab.test:8080")
        );
        assert_eq!(
            Resource::parse("https://confab.test/users/ada").unwrap(),
            Resource::Url(Url::parse("https://confab.test/users/ada").unwrap())
        );
        assert_eq!(
            Resource::parse("HTTP://alpha.test:8080/users/ada").unwrap(),
            Resource::Url(Url::parse("http://alpha.test:8080/users/ada").unwrap())
        );
        for bad in [
            "",
            "ada",
            "acct:ada",
            "acct:@confab.test",
            "acct:ada@",
            "https://",
            "http://[::1/users/ada",
            "mailto:ada",
        ] {
            assert!(
                matches!(Resource::parse(bad), Err(Error::InvalidQuery(_))),
                "{bad:?}"
            );
        }
    }
}
