//! What a web page says about itself, read from its HTML: the OpenGraph
//! (`og:*`) and Twitter card (`twitter:*`) `<meta>` tags, the `<title>` and
//! the `description` meta tag. Tokenized by html5ever (the WHATWG
//! tokenizer), so attributes, entities, comments and raw-text elements are
//! read as a browser reads them. Everything comes out as plain text with
//! whitespace collapsed and control characters dropped; clients show it as
//! text, never as markup.

use crate::html_tokens::{feed_bounded, CountingSink};
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Tag, TagKind, Token, TokenSink, TokenSinkResult};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use url::Url;

/// Longest title kept, in characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest description kept, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 400;
/// Longest site name kept, in characters.
pub const SITE_MAX_CHARS: usize = 100;
/// The longest a single tag (with its attributes) may run: the tokenizer's
/// duplicate-attribute check is quadratic in a tag's attributes, so a page
/// with a longer tag is read only up to it.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The preview-worthy facts of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// An http(s) URL, resolved against the page's.
    pub image: Option<Url>,
}

impl PageMeta {
    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none()
    }
}

/// Reads `html`, the page at `base`.
pub fn read(html: &str, base: &Url) -> PageMeta {
    let tags = collect(html);
    let first = |keys: &[&str]| keys.iter().find_map(|k| tags.meta.get(*k).cloned());
    let title = first(&["og:title", "twitter:title"]).or(tags.title);
    let image = first(&[
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "twitter:image",
        "twitter:image:src",
    ])
    .and_then(|raw| base.join(raw.trim()).ok())
    .filter(|url| matches!(url.scheme(), "http" | "https"));
    PageMeta {
        title: title.and_then(|t| clean(&t, TITLE_MAX_CHARS)),
        description: first(&["og:description", "twitter:description", "description"])
            .and_then(|t| clean(&t, DESCRIPTION_MAX_CHARS)),
        site_name: first(&["og:site_name"]).and_then(|t| clean(&t, SITE_MAX_CHARS)),
        image,
    }
}

/// Text as shown: control characters dropped, whitespace collapsed, at
/// most `max` characters (cut ones end in `…`); `None` when empty.
fn clean(text: &str, max: usize) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if joined.is_empty() {
        return None;
    }
    if joined.chars().count() <= max {
        return Some(joined);
    }
    let mut cut: String = joined.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

/// The `<meta>` values (first of each key, keys lowercased) and the text
/// of the first `<title>`.
#[derive(Debug, Default)]
struct Tags {
    meta: HashMap<String, String>,
    title: Option<String>,
}

fn collect(html: &str) -> Tags {
    let sink = feed_bounded(html, MetaSink::default(), MAX_TOKEN_BYTES);
    sink.tags.take()
}

/// Receives tokens and keeps the tags [`read`] looks at.
#[derive(Default)]
struct MetaSink {
    tags: RefCell<Tags>,
    /// The `<title>` text while inside the first one.
    in_title: RefCell<Option<String>>,
    tokens: Cell<u64>,
}

impl MetaSink {
    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if name == "title" {
            if start && self.tags.borrow().title.is_none() {
                *self.in_title.borrow_mut() = Some(String::new());
            } else if !start {
                if let Some(text) = self.in_title.borrow_mut().take() {
                    self.tags.borrow_mut().title = Some(text);
                }
            }
            return if start {
                TokenSinkResult::RawData(RawKind::Rcdata)
            } else {
                TokenSinkResult::Continue
            };
        }
        if !start {
            return TokenSinkResult::Continue;
        }
        match name {
            "meta" => self.meta(tag),
            "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "iframe" | "noembed" | "noframes" | "xmp" => {
                return TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// `<meta property|name=key content=value>`.
    fn meta(&self, tag: &Tag) {
        let attr = |wanted: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == wanted)
                .map(|a| a.value.to_string())
        };
        let (Some(key), Some(content)) =
            (attr("property").or_else(|| attr("name")), attr("content"))
        else {
            return;
        };
        self.tags
            .borrow_mut()
            .meta
            .entry(key.trim().to_ascii_lowercase())
            .or_insert(content);
    }
}

impl CountingSink for MetaSink {
    fn tokens(&self) -> u64 {
        self.tokens.get()
    }
}

impl TokenSink for MetaSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if !matches!(token, Token::ParseError(_) | Token::EOFToken) {
            self.tokens.set(self.tokens.get() + 1);
        }
        match token {
            Token::TagToken(tag) => return self.tag(&tag),
            Token::CharacterTokens(chars) => {
                if let Some(title) = self.in_title.borrow_mut().as_mut() {
                    if title.len() < 4 * TITLE_MAX_CHARS {
                        title.push_str(&chars);
                    }
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://site.test/articles/1").unwrap()
    }

    #[test]
    fn opengraph_wins_over_twitter_and_plain_tags() {
        let html = r#"<!doctype html><html><head>
            <title>Plain title</title>
            <meta name="description" content="Plain description">
            <meta name="twitter:title" content="Card title">
            <meta property="og:title" content="OG &amp; title">
            <meta property="og:description" content="  OG
                 description ">
            <meta property="og:site_name" content="Site">
            <meta property="og:image" content="/img/a.png">
            </head><body><p>text</p></body></html>"#;
        assert_eq!(
            read(html, &base()),
            PageMeta {
                title: Some("OG & title".into()),
                description: Some("OG description".into()),
                site_name: Some("Site".into()),
                image: Some(Url::parse("https://site.test/img/a.png").unwrap()),
            }
        );
    }

    #[test]
    fn plain_tags_fill_in() {
        let html = "<title>A &lt;b&gt; page</title><META NAME=Description CONTENT='desc'>\
                    <meta name=twitter:image content='https://cdn.test/x.jpg'>";
        let meta = read(html, &base());
        assert_eq!(meta.title.as_deref(), Some("A <b> page"));
        assert_eq!(meta.description.as_deref(), Some("desc"));
        assert_eq!(meta.image.unwrap().as_str(), "https://cdn.test/x.jpg");
        assert!(meta.site_name.is_none());
    }

    #[test]
    fn markup_stays_text_and_scripts_are_not_read() {
        let html = "<script>document.write('<title>fake</title>')</script>\
                    <title><img src=x onerror=alert(1)>\u{7}Real</title>\
                    <meta property=og:image content='javascript:alert(1)'>";
        let meta = read(html, &base());
        assert_eq!(
            meta.title.as_deref(),
            Some("<img src=x onerror=alert(1)>Real")
        );
        assert!(meta.image.is_none());
    }

    #[test]
    fn long_text_is_cut_and_empty_pages_have_nothing() {
        let long = "word ".repeat(200);
        let meta = read(
            &format!("<meta property=og:title content='{long}'>"),
            &base(),
        );
        let title = meta.title.unwrap();
        assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
        assert!(title.ends_with('…'));
        assert!(read("<p>just a body</p><title>  </title>", &base()).is_empty());
    }

    #[test]
    fn a_giant_tag_ends_the_reading() {
        let mut html = String::from("<title>t</title><p ");
        for i in 0..20_000 {
            html.push_str(&format!("a{i}=1 "));
        }
        html.push_str("><meta property=og:title content=late>");
        assert_eq!(read(&html, &base()).title.as_deref(), Some("t"));
    }
}
