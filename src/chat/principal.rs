//! Who is acting: a user, or a trusted service of the external auth provider.

use super::users::{Role, User};
use crate::db::ids::UserId;

/// The authenticated caller of a domain operation.
#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    /// A token of the external auth service with `confab_role: service`:
    /// admin rights, no chat user behind it.
    Service {
        subject: String,
    },
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::User(user) => user.role == Role::Admin,
            Principal::Service { .. } => true,
        }
    }

    /// May handle reports: moderators, admins and service tokens.
    pub fn is_moderator(&self) -> bool {
        self.is_admin()
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Principal::User(user) => Some(user.id),
            Principal::Service { .. } => None,
        }
    }

    /// May act on `target`'s account: it is their own, or they are an admin.
    pub fn may_manage(&self, target: UserId) -> bool {
        self.is_admin() || self.user_id() == Some(target)
    }
}
