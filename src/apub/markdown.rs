//! A message's Markdown source as the HTML peers show, and plain text as
//! Markdown. The source is what users type and what we store; `content`
//! is made from it by `pulldown-cmark` and cleaned by `ammonia` with an
//! allow-list, so whatever a source holds, the HTML we send carries no
//! script, handler, style or foreign scheme.
//!
//! The subset: bold, italic, strike, inline code, code blocks (with their
//! language), quotes, lists and links. Raw HTML in the source is text;
//! headings, rules and images fall back to text and links, as the web
//! client shows them. A line break is a line break, as in a chat.

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The media type of the source we send and prefer to receive.
pub const MEDIA_TYPE: &str = "text/markdown";

/// The `rel` of every link we send.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// The schemes a link may have; anything else loses its `href`.
pub const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The elements our HTML may hold.
const TAGS: [&str; 12] = [
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
];

/// The longest language name kept on a code block.
const MAX_LANGUAGE_CHARS: usize = 32;

/// The sanitizer, built once: its allow-list never changes.
static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(cleaner);

fn cleaner() -> Builder<'static> {
    let mut builder = Builder::empty();
    builder
        .tags(HashSet::from(TAGS))
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("ol", HashSet::from(["start"])),
            ("code", HashSet::from(["class"])),
        ]))
        .url_schemes(HashSet::from(SCHEMES))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("code", "class") => language_class(value).then(|| value.into()),
            ("ol", "start") => value.parse::<u32>().is_ok().then(|| value.into()),
            _ => Some(value.into()),
        });
    builder
}

/// `language-NAME` of a code block.
fn language_class(value: &str) -> bool {
    value.strip_prefix("language-").is_some_and(is_language)
}

/// A code block's language: a short name of letters, digits and `+#.-_`.
pub fn is_language(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LANGUAGE_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+#.-_".contains(c))
}

/// The HTML of a Markdown source: rendered, then sanitized.
pub fn to_html(source: &str) -> String {
    let parser = Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH).flat_map(subset);
    let mut html = String::with_capacity(source.len() + source.len() / 4);
    pulldown_cmark::html::push_html(&mut html, parser);
    let mut html = sanitize(&html);
    html.truncate(html.trim_end().len());
    html
}

/// HTML cleaned to the allow-list: other elements keep only their text
/// (`script` and `style` lose that too), attributes other than a link's
/// `href`, a list's `start` and a code block's `language-*` class go, and
/// links to other schemes lose their `href`.
pub fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Markdown events outside the subset as the nearest thing inside it.
fn subset(event: Event<'_>) -> Vec<Event<'_>> {
    match event {
        Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
        Event::Start(Tag::HtmlBlock) => vec![Event::Start(Tag::Paragraph)],
        Event::End(TagEnd::HtmlBlock) => vec![Event::End(TagEnd::Paragraph)],
        Event::Start(Tag::Heading { level, .. }) => vec![
            Event::Start(Tag::Paragraph),
            Event::Text(CowStr::from(format!("{} ", hashes(level)))),
        ],
        Event::End(TagEnd::Heading(_)) => vec![Event::End(TagEnd::Paragraph)],
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => vec![Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })],
        Event::End(TagEnd::Image) => vec![Event::End(TagEnd::Link)],
        Event::Rule => vec![
            Event::Start(Tag::Paragraph),
            Event::Text("---".into()),
            Event::End(TagEnd::Paragraph),
        ],
        Event::SoftBreak => vec![Event::HardBreak],
        other => vec![other],
    }
}

fn hashes(level: HeadingLevel) -> &'static str {
    match level {
        HeadingLevel::H1 => "#",
        HeadingLevel::H2 => "##",
        HeadingLevel::H3 => "###",
        HeadingLevel::H4 => "####",
        HeadingLevel::H5 => "#####",
        HeadingLevel::H6 => "######",
    }
}

/// Characters that may start Markdown anywhere in a line.
const INLINE_SPECIAL: &str = "\\`*_~[]<>|";

/// Characters that start a block at the start of a line.
const LINE_START_SPECIAL: &str = "#-+=";

/// Whether `ch` needs a backslash to stay text in Markdown, at the start
/// of a line or not.
pub fn needs_escape(ch: char, line_start: bool) -> bool {
    INLINE_SPECIAL.contains(ch) || (line_start && LINE_START_SPECIAL.contains(ch))
}

/// Plain text as Markdown that shows it unchanged: the characters that
/// would be markup get a backslash, and `&` one before what could be an
/// entity.
pub fn escape(text: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let before_entity = ch == '&'
            && chars
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || *c == '#');
        if needs_escape(ch, line_start) || before_entity {
            out.push('\\');
        }
        out.push(ch);
        line_start = ch == '\n' || (line_start && ch == ' ');
    }
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests;
