//! Which link a message is previewed by: the first http(s) URL of its
//! Markdown source, written as a link (`[text](url)`, `<url>`) or bare (as
//! the web client shows it, linked), never one inside code.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use url::Url;

/// Longest URL that is previewed, in bytes.
const URL_MAX_BYTES: usize = 2000;

/// The first http(s) link of `markdown` outside code, if any.
pub fn first_link(markdown: &str) -> Option<Url> {
    let mut in_code_block = false;
    // Text arrives in pieces (at would-be delimiters): a bare URL is looked
    // for in each run of text, once it ends.
    let mut text = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(piece) if !in_code_block => {
                text.push_str(&piece);
                continue;
            }
            Event::SoftBreak | Event::HardBreak => {
                text.push('\n');
                continue;
            }
            _ => {}
        }
        if let Some(url) = bare_link(&text) {
            return Some(url);
        }
        text.clear();
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(Tag::Link { dest_url, .. }) => {
                if let Some(url) = web_url(&dest_url) {
                    return Some(url);
                }
            }
            _ => {}
        }
    }
    bare_link(&text)
}

/// The first `http://` or `https://` URL written in plain text, without
/// the sentence punctuation that may follow it.
fn bare_link(text: &str) -> Option<Url> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("http").map(|i| i + from) {
        from = at + 4;
        let rest = &lower[at..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if !starts_word {
            continue;
        }
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .map_or(text.len(), |i| i + at);
        let raw = text[at..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
        if let Some(url) = web_url(raw) {
            return Some(url);
        }
    }
    None
}

/// `raw` as an http(s) URL with a host, if it is one and not too long.
fn web_url(raw: &str) -> Option<Url> {
    if raw.len() > URL_MAX_BYTES {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.host().is_some();
    web.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(markdown: &str) -> Option<String> {
        first_link(markdown).map(String::from)
    }

    #[test]
    fn the_first_link_counts_bare_or_written_as_a_link() {
        assert_eq!(
            first("see https://example.com/a_b_c, then http://b.test").as_deref(),
            Some("https://example.com/a_b_c")
        );
        assert_eq!(
            first("**[docs](https://docs.test/x)** and https://later.test").as_deref(),
            Some("https://docs.test/x")
        );
        assert_eq!(
            first("<https://auto.test/p?q=1>").as_deref(),
            Some("https://auto.test/p?q=1")
        );
        assert_eq!(
            first("(see https://paren.test/x).").as_deref(),
            Some("https://paren.test/x")
        );
        assert_eq!(
            first("line one\nHTTPS://Upper.test/Path").as_deref(),
            Some("https://upper.test/Path")
        );
    }

    #[test]
    fn code_and_other_schemes_do_not_count() {
        assert_eq!(
            first("`https://code.test` and\n```\nhttps://fenced.test\n```"),
            None
        );
        assert_eq!(
            first("`https://code.test` then https://real.test").as_deref(),
            Some("https://real.test/")
        );
        assert_eq!(
            first("[x](javascript:alert(1)) mailto:a@b.test ftp://f.test"),
            None
        );
        assert_eq!(first("nohttps://glued.test and http:// alone"), None);
        assert_eq!(first(""), None);
    }
}
