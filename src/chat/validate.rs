//! Field rules shared by every operation that accepts user input. The input
//! structs in `chat::users` repeat these limits as OpenAPI `pattern` and
//! `maxLength` annotations (attributes take literals only); schemathesis in
//! CI finds any value the two disagree on.

use super::{ChatError, ChatResult};
use url::Url;

pub const NAME_MAX: usize = 32;
pub const DISPLAY_NAME_MAX: usize = 64;
pub const BIO_MAX: usize = 1000;
pub const URL_MAX: usize = 2048;
pub const LINKS_MAX: usize = 8;
pub const LINK_NAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;

/// Names that cannot be registered because paths give them a meaning.
const RESERVED_NAMES: &[&str] = &["me"];

/// Whether `name` can be a user name: 1-32 letters, digits, `_`, `-` and
/// `.`, not only dots. Names are path segments of actor URLs
/// (`/users/{name}`), where `.` and `..` would name other paths.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name.bytes().any(|b| b != b'.')
}

pub fn name(field: &str, value: &str) -> ChatResult<()> {
    if !is_valid_name(value) {
        return Err(ChatError::invalid(
            field,
            "1-32 characters from letters, digits, '_', '-' and '.', not only dots",
        ));
    }
    if RESERVED_NAMES.contains(&value.to_lowercase().as_str()) {
        return Err(ChatError::invalid(field, "this name is reserved"));
    }
    Ok(())
}

pub fn single_line(field: &str, value: &str, max: usize) -> ChatResult<()> {
    text(field, value, max, |c| c.is_control())
}

pub fn multi_line(field: &str, value: &str, max: usize) -> ChatResult<()> {
    text(field, value, max, |c| {
        c.is_control() && c != '\n' && c != '\t'
    })
}

fn text(field: &str, value: &str, max: usize, forbidden: impl Fn(char) -> bool) -> ChatResult<()> {
    if value.chars().count() > max {
        return Err(ChatError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    // Only C0 controls and DEL are refused (C1 controls pass, as in the
    // OpenAPI pattern).
    if value.chars().any(|c| forbidden(c) && (c as u32) < 0x80) {
        return Err(ChatError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// An absolute `http`/`https` URL of at most [`URL_MAX`] bytes; returns its
/// normalised form.
pub fn web_url(field: &str, value: &str) -> ChatResult<String> {
    if value.len() > URL_MAX {
        return Err(ChatError::invalid(
            field,
            format!("at most {URL_MAX} bytes"),
        ));
    }
    let url =
        Url::parse(value).map_err(|e| ChatError::invalid(field, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ChatError::invalid(field, "must be an http or https URL"));
    }
    let normalised = url.to_string();
    if normalised.len() > URL_MAX {
        return Err(ChatError::invalid(
            field,
            format!("at most {URL_MAX} bytes"),
        ));
    }
    Ok(normalised)
}

pub fn password(value: &str) -> ChatResult<()> {
    let n = value.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(ChatError::invalid(
            "password",
            format!("{PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("name", "ada.lovelace-1_x").is_ok());
        assert!(name("name", &"a".repeat(32)).is_ok());
        assert!(name("name", &"a".repeat(33)).is_err());
        assert!(name("name", "").is_err());
        assert!(name("name", "ada lovelace").is_err());
        assert!(name("name", "adä").is_err());
        assert!(name("name", "ME").is_err());
        for unsafe_segment in [".", "..", "...", "a/b", "%2e", "%2e%2e", "a\\b", "a?b"] {
            assert!(name("name", unsafe_segment).is_err(), "{unsafe_segment}");
        }
        assert!(name("name", ".hidden").is_ok());
    }

    #[test]
    fn text_limits_count_characters_and_refuse_controls() {
        assert!(single_line("f", &"é".repeat(64), 64).is_ok());
        assert!(single_line("f", &"é".repeat(65), 64).is_err());
        assert!(single_line("f", "a\u{0}b", 64).is_err());
        assert!(single_line("f", "a\nb", 64).is_err());
        assert!(multi_line("f", "a\nb\tc", 64).is_ok());
        assert!(multi_line("f", "a\rb", 64).is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            web_url("u", "https://x.example/a").unwrap(),
            "https://x.example/a"
        );
        assert!(web_url("u", "javascript:alert(1)").is_err());
        assert!(web_url("u", "ftp://x.example").is_err());
        assert!(web_url("u", "not a url").is_err());
    }
}
