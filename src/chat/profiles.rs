//! Profiles: the editable part of an account (display name, bio, avatar,
//! links), replaced (`PUT`) or patched (`PATCH`) by its owner or an admin.

use super::events::{ChatEvent, SessionEnd};
use super::principal::Principal;
use super::users::{present, Role, User};
use super::validate::{self, BIO_MAX, DISPLAY_NAME_MAX, LINKS_MAX, LINK_NAME_MAX};
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::UserId;
use crate::db::users::{self as user_rows, ProfileChanges};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A labelled link shown on a profile (a `PropertyValue` on the actor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileLink {
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[^\\u0000-\\u001f\\u007f]*$"
    )]
    pub name: String,
    #[schema(format = Uri, max_length = 2048, pattern = "^https?://[^\\s]+$")]
    pub url: String,
}

/// The editable profile; `PUT` replaces all of it (missing fields become
/// empty).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
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
}

/// A partial change (`PATCH`): only the fields present change;
/// `avatar_url: null` clears the avatar. `role` needs an admin.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f]*$")]
    pub display_name: Option<String>,
    #[schema(
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"
    )]
    pub bio: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uri, max_length = 2048, pattern = "^https?://[^\\s]+$", nullable)]
    pub avatar_url: Option<Option<String>>,
    #[schema(max_items = 8)]
    pub profile_links: Option<Vec<ProfileLink>>,
    pub role: Option<Role>,
}

impl Chat {
    /// A remote user's server sent their new profile (already stored):
    /// listeners hear of it as of a local change.
    pub fn remote_user_updated(&self, user: UserId) {
        self.events.publish(ChatEvent::UserUpdated { user });
    }

    /// `PUT`: replaces the whole profile.
    pub async fn replace_profile(
        &self,
        actor: &Principal,
        key: &str,
        profile: Profile,
    ) -> ChatResult<User> {
        let profile = checked_profile(profile)?;
        let changes = ProfileChanges {
            display_name: Some(profile.display_name),
            bio: Some(profile.bio),
            avatar_url: Some(profile.avatar_url),
            profile_links: Some(links_json(&profile.profile_links)?),
            role: None,
            updated_at: Utc::now().naive_utc(),
        };
        self.change_user(actor, key, changes).await
    }

    /// `PATCH`: changes only the fields given.
    pub async fn patch_profile(
        &self,
        actor: &Principal,
        key: &str,
        patch: ProfilePatch,
    ) -> ChatResult<User> {
        if patch.role.is_some() && !actor.is_admin() {
            return Err(ChatError::Forbidden("only admins may change roles".into()));
        }
        if let Some(name) = &patch.display_name {
            validate::single_line("display_name", name, DISPLAY_NAME_MAX)?;
        }
        if let Some(bio) = &patch.bio {
            validate::multi_line("bio", bio, BIO_MAX)?;
        }
        let avatar_url = match patch.avatar_url {
            Some(Some(url)) => Some(Some(validate::web_url("avatar_url", &url)?)),
            other => other,
        };
        let profile_links = match patch.profile_links {
            Some(links) => Some(links_json(&checked_links(links)?)?),
            None => None,
        };
        let changes = ProfileChanges {
            display_name: patch.display_name,
            bio: patch.bio,
            avatar_url,
            profile_links,
            role: patch.role.map(|r| r.as_str().to_owned()),
            updated_at: Utc::now().naive_utc(),
        };
        self.change_user(actor, key, changes).await
    }

    async fn change_user(
        &self,
        actor: &Principal,
        key: &str,
        changes: ProfileChanges,
    ) -> ChatResult<User> {
        let target = self.find_user(actor, key).await?;
        if !actor.may_manage(target.id) {
            return Err(ChatError::Forbidden(
                "you may only change your own profile".into(),
            ));
        }
        let row = user_rows::update(&mut self.db.write().await?, target.id, &changes)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        self.events
            .publish(ChatEvent::UserUpdated { user: target.id });
        let user = User::try_from(row)?;
        if user.role != target.role {
            // Live sessions reconnect to act with the new role.
            self.end_sessions(user.id, SessionEnd::RoleChanged, None);
        }
        Ok(user)
    }
}

pub(super) fn checked_profile(mut profile: Profile) -> ChatResult<Profile> {
    validate::single_line("display_name", &profile.display_name, DISPLAY_NAME_MAX)?;
    validate::multi_line("bio", &profile.bio, BIO_MAX)?;
    profile.avatar_url = match profile.avatar_url {
        Some(url) => Some(validate::web_url("avatar_url", &url)?),
        None => None,
    };
    profile.profile_links = checked_links(profile.profile_links)?;
    Ok(profile)
}

fn checked_links(links: Vec<ProfileLink>) -> ChatResult<Vec<ProfileLink>> {
    if links.len() > LINKS_MAX {
        return Err(ChatError::invalid(
            "profile_links",
            format!("at most {LINKS_MAX} links"),
        ));
    }
    links
        .into_iter()
        .map(|link| {
            if link.name.is_empty() {
                return Err(ChatError::invalid(
                    "profile_links.name",
                    "must not be empty",
                ));
            }
            validate::single_line("profile_links.name", &link.name, LINK_NAME_MAX)?;
            let url = validate::web_url("profile_links.url", &link.url)?;
            Ok(ProfileLink {
                name: link.name,
                url,
            })
        })
        .collect()
}

pub(super) fn links_json(links: &[ProfileLink]) -> ChatResult<String> {
    serde_json::to_string(links).map_err(|e| ChatError::Internal(e.to_string()))
}
