//! IP rules: admin-managed allow and deny lists of address ranges, each for
//! one scope (sign-up, login, the API, the WebSocket). Stored in the
//! database, kept in memory as an immutable [`IpRuleSet`] that is swapped
//! whole on every change and on every periodic re-read, so a check is a
//! lock held for one `Arc` clone and a scan of a few ranges.
//!
//! The rule: a deny rule matching the address refuses; if the scope has at
//! least one allow rule, only addresses matching one of them pass.

use super::principal::Principal;
use super::validate;
use super::{Chat, ChatError, ChatResult};
use crate::db::ip_rules::{self as rows, IpRuleRow, NewIpRuleRow};
use crate::db::DbError;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;
use utoipa::ToSchema;

/// Longest note on a rule, in characters.
pub const NOTE_MAX: usize = 500;

/// The requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpScope {
    /// `POST /api/v1/auth/register`.
    Signup,
    /// `POST /api/v1/auth/login`.
    Login,
    /// Every other route under `/api/`.
    Api,
    /// The WebSocket upgrade, `GET /api/v1/ws`.
    Ws,
}

impl IpScope {
    const ALL: [IpScope; 4] = [IpScope::Signup, IpScope::Login, IpScope::Api, IpScope::Ws];

    pub fn as_str(self) -> &'static str {
        match self {
            IpScope::Signup => "signup",
            IpScope::Login => "login",
            IpScope::Api => "api",
            IpScope::Ws => "ws",
        }
    }
}

/// Whether a matching address passes or is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpAction {
    Allow,
    Deny,
}

impl IpAction {
    pub fn as_str(self) -> &'static str {
        match self {
            IpAction::Allow => "allow",
            IpAction::Deny => "deny",
        }
    }
}

macro_rules! from_str_by_name {
    ($type:ty, $all:expr, $what:literal) => {
        impl std::str::FromStr for $type {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                $all.into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("{s:?} is not {}", $what))
            }
        }
    };
}
from_str_by_name!(IpScope, IpScope::ALL, "a scope: signup, login, api or ws");
from_str_by_name!(
    IpAction,
    [IpAction::Allow, IpAction::Deny],
    "an action: allow or deny"
);

/// A rule to add (`POST /api/v1/admin/ip-rules`, `confab ip-rule add`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpRule {
    pub scope: IpScope,
    pub action: IpAction,
    /// An IPv4 or IPv6 range (`10.0.0.0/8`, `2001:db8::/32`) or one
    /// address; stored as its network (`10.1.2.3/8` becomes `10.0.0.0/8`).
    #[schema(min_length = 2, max_length = 64, example = "192.0.2.0/24")]
    pub cidr: String,
    /// Why the rule exists, for the admins.
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f]*$")]
    pub note: String,
}

/// A stored rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IpRule {
    pub id: i64,
    pub scope: IpScope,
    pub action: IpAction,
    /// The normalised range.
    pub cidr: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<IpRuleRow> for IpRule {
    type Error = DbError;

    fn try_from(row: IpRuleRow) -> Result<Self, DbError> {
        let corrupt = |what: &str| DbError::Corrupt(format!("ip_rules.{what} of rule {}", row.id));
        Ok(IpRule {
            id: row.id,
            scope: row.scope.parse().map_err(|_| corrupt("scope"))?,
            action: row.action.parse().map_err(|_| corrupt("action"))?,
            cidr: parse_cidr(&row.cidr)
                .map_err(|_| corrupt("cidr"))?
                .to_string(),
            note: row.note,
            created_at: row.created_at.and_utc(),
        })
    }
}

impl IpRule {
    /// What the matcher needs of the rule.
    fn parts(&self) -> Option<(IpScope, IpAction, IpNet)> {
        Some((self.scope, self.action, parse_cidr(&self.cidr).ok()?))
    }
}

/// A range as admins write it: CIDR or a bare address (one host), taken
/// to its network address.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR range"))
}

/// The allow and deny ranges of one scope.
#[derive(Debug, Default, Clone)]
struct ScopeRules {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

/// Every rule, by scope: what each request is checked against.
#[derive(Debug, Default, Clone)]
pub struct IpRuleSet {
    scopes: [ScopeRules; 4],
}

impl IpRuleSet {
    /// Builds the set from `(scope, action, range)` triples.
    pub fn new(rules: impl IntoIterator<Item = (IpScope, IpAction, IpNet)>) -> Self {
        let mut set = Self::default();
        for (scope, action, net) in rules {
            let scope = &mut set.scopes[scope as usize];
            match action {
                IpAction::Allow => scope.allow.push(net),
                IpAction::Deny => scope.deny.push(net),
            }
        }
        set
    }

    /// Whether a request of `scope` from `ip` may proceed.
    pub fn permits(&self, scope: IpScope, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let rules = &self.scopes[scope as usize];
        if rules.deny.iter().any(|net| net.contains(&ip)) {
            return false;
        }
        rules.allow.is_empty() || rules.allow.iter().any(|net| net.contains(&ip))
    }

    /// Whether no rule exists (requests need no address then).
    pub fn is_empty(&self) -> bool {
        self.scopes
            .iter()
            .all(|s| s.allow.is_empty() && s.deny.is_empty())
    }

    fn from_rules(rules: &[IpRule]) -> Self {
        Self::new(rules.iter().filter_map(IpRule::parts))
    }
}

/// The rules in force, swapped whole on change.
#[derive(Default)]
pub(crate) struct IpRuleCache(RwLock<Arc<IpRuleSet>>);

impl IpRuleCache {
    fn current(&self) -> Arc<IpRuleSet> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self, set: IpRuleSet) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }
}

impl Chat {
    /// The rules in force (no database access).
    pub fn ip_rule_set(&self) -> Arc<IpRuleSet> {
        self.ip_rules.current()
    }

    /// Re-reads the rules from the database and puts them in force; the
    /// number of rules. Rows that do not parse (written by hand) are left
    /// out and logged.
    pub async fn reload_ip_rules(&self) -> ChatResult<usize> {
        let rules = self.load_ip_rules().await?;
        self.ip_rules.store(IpRuleSet::from_rules(&rules));
        Ok(rules.len())
    }

    async fn load_ip_rules(&self) -> ChatResult<Vec<IpRule>> {
        let rows = rows::list(&mut self.db.read().await?).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match IpRule::try_from(row) {
                Ok(rule) => Some(rule),
                Err(e) => {
                    tracing::error!("ignoring an IP rule: {e}");
                    None
                }
            })
            .collect())
    }

    /// Every rule, oldest first (admins).
    pub async fn ip_rules(&self, actor: &Principal) -> ChatResult<Vec<IpRule>> {
        admin_only(actor)?;
        self.load_ip_rules().await
    }

    /// Adds a rule and puts it in force at once (admins). `keep`, when
    /// given, is the caller's address: a rule that would refuse it the API
    /// is refused, so an admin cannot lock themselves out by accident (the
    /// CLI, which passes none, can add it).
    pub async fn add_ip_rule(
        &self,
        actor: &Principal,
        new: NewIpRule,
        keep: Option<IpAddr>,
    ) -> ChatResult<IpRule> {
        admin_only(actor)?;
        let net = parse_cidr(&new.cidr).map_err(|e| ChatError::invalid("cidr", e))?;
        validate::single_line("note", &new.note, NOTE_MAX)?;
        if let Some(ip) = keep {
            let rules = self.load_ip_rules().await?;
            let after = IpRuleSet::new(
                rules
                    .iter()
                    .filter_map(IpRule::parts)
                    .chain([(new.scope, new.action, net)]),
            );
            if !after.permits(IpScope::Api, ip) {
                return Err(lockout(ip));
            }
        }
        let row = NewIpRuleRow {
            scope: new.scope.as_str().to_owned(),
            action: new.action.as_str().to_owned(),
            cidr: net.to_string(),
            note: new.note,
            created_at: Utc::now().naive_utc(),
        };
        let row = match rows::insert(&mut self.db.write().await?, &row).await {
            Err(DbError::UniqueViolation) => {
                return Err(ChatError::Conflict(format!(
                    "a {} rule for {net} in scope {} exists",
                    new.action.as_str(),
                    new.scope.as_str()
                )))
            }
            other => other?,
        };
        self.reload_ip_rules().await?;
        Ok(IpRule::try_from(row)?)
    }

    /// Removes a rule and puts the change in force at once (admins); `keep`
    /// as for [`Chat::add_ip_rule`].
    pub async fn remove_ip_rule(
        &self,
        actor: &Principal,
        id: i64,
        keep: Option<IpAddr>,
    ) -> ChatResult<()> {
        admin_only(actor)?;
        if let Some(ip) = keep {
            let mut rules = self.load_ip_rules().await?;
            rules.retain(|r| r.id != id);
            if !IpRuleSet::from_rules(&rules).permits(IpScope::Api, ip) {
                return Err(lockout(ip));
            }
        }
        if !rows::delete(&mut self.db.write().await?, id).await? {
            return Err(ChatError::NotFound("IP rule"));
        }
        self.reload_ip_rules().await?;
        Ok(())
    }
}

/// Re-reads the rules every `every` while the chat exists, so rules that
/// the CLI writes into the table apply without a restart. A failed read
/// keeps the rules in force and is logged.
pub async fn reload_periodically(chat: Weak<Chat>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(chat) = chat.upgrade() else { return };
        if let Err(e) = chat.reload_ip_rules().await {
            tracing::warn!("cannot re-read the IP rules (the old ones stay in force): {e}");
        }
    }
}

fn lockout(ip: IpAddr) -> ChatError {
    ChatError::invalid(
        "cidr",
        format!(
            "the API would then refuse your own address {ip}; \
             use `confab ip-rule` on the server if that is what you want"
        ),
    )
}

fn admin_only(actor: &Principal) -> ChatResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(ChatError::Forbidden("only admins manage IP rules".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn set(rules: &[(IpScope, IpAction, &str)]) -> IpRuleSet {
        IpRuleSet::new(
            rules
                .iter()
                .map(|(s, a, c)| (*s, *a, parse_cidr(c).unwrap())),
        )
    }

    #[test]
    fn no_rules_permit_everyone() {
        let empty = IpRuleSet::default();
        assert!(empty.is_empty());
        for scope in IpScope::ALL {
            assert!(empty.permits(scope, ip("203.0.113.9")));
            assert!(empty.permits(scope, ip("2001:db8::1")));
        }
    }

    #[test]
    fn deny_refuses_matching_addresses_of_its_scope_only() {
        use IpAction::*;
        use IpScope::*;
        let rules = set(&[(Login, Deny, "203.0.113.0/24"), (Ws, Deny, "2001:db8::/32")]);
        assert!(!rules.is_empty());
        assert!(!rules.permits(Login, ip("203.0.113.77")));
        assert!(rules.permits(Login, ip("203.0.114.1")));
        assert!(rules.permits(Signup, ip("203.0.113.77")));
        assert!(!rules.permits(Ws, ip("2001:db8:1::5")));
        assert!(rules.permits(Ws, ip("2001:db9::5")));
        // An IPv4 range never matches an IPv6 address and back, but a
        // mapped IPv4 address counts as IPv4.
        assert!(rules.permits(Login, ip("::203.0.113.77")));
        assert!(!rules.permits(Login, ip("::ffff:203.0.113.77")));
    }

    #[test]
    fn allow_rules_make_a_scope_allow_only_and_deny_wins() {
        use IpAction::*;
        use IpScope::*;
        let rules = set(&[
            (Signup, Allow, "10.0.0.0/8"),
            (Signup, Allow, "fd00::/8"),
            (Signup, Deny, "10.66.0.0/16"),
        ]);
        assert!(rules.permits(Signup, ip("10.1.2.3")));
        assert!(rules.permits(Signup, ip("fd12::1")));
        assert!(!rules.permits(Signup, ip("127.0.0.1")));
        assert!(!rules.permits(Signup, ip("10.66.1.1")), "deny beats allow");
        // Other scopes are untouched.
        assert!(rules.permits(Login, ip("127.0.0.1")));
        assert!(rules.permits(Api, ip("127.0.0.1")));
    }

    #[test]
    fn ranges_are_parsed_and_normalised() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_cidr(" 192.0.2.1 ").unwrap().to_string(),
            "192.0.2.1/32"
        );
        assert_eq!(
            parse_cidr("2001:db8::1/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0",
            "example.com",
            "10.0.0.0/8/8",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad:?}");
        }
        assert_eq!("ws".parse::<IpScope>(), Ok(IpScope::Ws));
        assert!("WS".parse::<IpScope>().is_err());
        assert_eq!("deny".parse::<IpAction>(), Ok(IpAction::Deny));
    }
}
