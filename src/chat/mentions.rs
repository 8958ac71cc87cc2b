//! Mentions: `@name` (a user of this server) and `@name@host` (a user of
//! another server, or of this one) in a message's text. The members of the
//! conversation a message names are its `mentions` (stored with it, shown
//! in every view of it, federated as `Mention` tags); a mentioned member's
//! client notifies them even in a muted conversation. Messages from other
//! servers name their mentions in `Mention` tags, which federation turns
//! into user ids before handing the message over.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::{Chat, ChatResult};
use crate::db::ids::UserId;
use crate::db::users as user_rows;

/// Handles read from one message, at most (the rest are plain text).
pub const MENTIONS_MAX: usize = 20;

/// A handle as written: `@name` or `@name@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub host: Option<String>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':')
}

/// The longest run of `accepted` characters at the start of `text`,
/// without trailing dots, dashes or colons (sentence punctuation).
fn run(text: &str, accepted: fn(char) -> bool) -> &str {
    let end = text.find(|c: char| !accepted(c)).unwrap_or(text.len());
    text[..end].trim_end_matches(['.', '-', ':'])
}

/// Every handle in `text`, in order, without repeats (names compared
/// without case), at most [`MENTIONS_MAX`]. An `@` counts only at the start
/// of a word (so `ada@example.com` is an address, not a mention), and
/// nothing inside code (`` `…` `` spans and fenced blocks) counts.
pub fn written(text: &str) -> Vec<Written> {
    let mut found: Vec<Written> = vec![];
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut in_code = false;
        let mut previous: Option<char> = None;
        for (at, c) in line.char_indices() {
            let starts_word = previous.is_none_or(|p| !(is_name_char(p) || p == '@' || p == '/'));
            previous = Some(c);
            if c == '`' {
                in_code = !in_code;
                continue;
            }
            if in_code || c != '@' || !starts_word {
                continue;
            }
            let rest = &line[at + 1..];
            let name = run(rest, is_name_char);
            if name.is_empty() || name.len() > 32 || name.chars().all(|c| c == '.') {
                continue;
            }
            let after = &rest[name.len()..];
            let host = after
                .strip_prefix('@')
                .map(|h| run(h, is_host_char))
                .filter(|h| h.contains(|c: char| c.is_ascii_alphanumeric()))
                .map(str::to_lowercase);
            let handle = Written {
                name: name.to_owned(),
                host,
            };
            let seen = found
                .iter()
                .any(|f| f.name.eq_ignore_ascii_case(&handle.name) && f.host == handle.host);
            if !seen && found.len() < MENTIONS_MAX {
                found.push(handle);
            }
        }
    }
    found
}

/// `mentions` as stored (a JSON array of user ids), `None` for none.
pub fn stored(mentions: &[UserId]) -> Option<String> {
    (!mentions.is_empty())
        .then(|| serde_json::to_string(mentions).ok())
        .flatten()
}

impl Chat {
    /// The members (of `members`) whom `text` names, in the order named.
    /// `@name` and `@name@{this server}` are local users; `@name@host` is
    /// the remote user of that handle, if this server knows them.
    pub(super) async fn mentioned_in(
        &self,
        text: &str,
        members: &[UserId],
    ) -> ChatResult<Vec<UserId>> {
        let handles = written(text);
        if handles.is_empty() {
            return Ok(vec![]);
        }
        let mut ids = vec![];
        for handle in handles {
            let id = match &handle.host {
                Some(host) if !host.eq_ignore_ascii_case(&self.policy.domain) => {
                    let full = format!("{}@{host}", handle.name);
                    user_rows::find_by_name(&mut self.db.read().await?, &full)
                        .await?
                        .filter(|row| row.domain.is_some())
                        .map(|row| row.id)
                }
                _ => self.local_user_id(&handle.name).await?,
            };
            if let Some(id) = id.filter(|id| members.contains(id) && !ids.contains(id)) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        written(text)
            .into_iter()
            .map(|w| match w.host {
                Some(host) => format!("{}@{host}", w.name),
                None => w.name,
            })
            .collect()
    }

    #[test]
    fn handles_are_read_at_word_starts_outside_code() {
        assert_eq!(names("@ada hi"), ["ada"]);
        assert_eq!(
            names("hi @ada, @bob@Beta.Test:8002 and @cy.d."),
            ["ada", "bob@beta.test:8002", "cy.d"]
        );
        assert_eq!(names("(@ada) @ada @ADA"), ["ada"]);
        assert_eq!(names("mail ada@example.com or a@b"), Vec::<String>::new());
        assert_eq!(names("`@ada` and\n```\n@bob\n```\n@cy"), ["cy"]);
        assert_eq!(
            names("@ @. @@ada https://x.example/@bob"),
            Vec::<String>::new()
        );
        assert_eq!(names("**@ada**: hi"), ["ada"]);
        assert_eq!(names("@bob@ hi"), ["bob"]);
        let many: String = (0..30).map(|i| format!("@u{i} ")).collect();
        assert_eq!(written(&many).len(), MENTIONS_MAX);
    }

    #[test]
    fn mentions_are_stored_as_json_or_not_at_all() {
        assert_eq!(stored(&[]), None);
        let id = UserId::new();
        assert_eq!(stored(&[id]), Some(format!("[\"{id}\"]")));
    }
}
