//! Plain text to the HTML peers expect in `content` and `summary`, and back.
//! Everything we emit is escaped; everything we receive is reduced to text
//! or to the Markdown subset of messages (see [`super::markdown`]), so no
//! remote markup ever reaches a client.

use super::markdown;

mod images;
use crate::html_tokens::{feed_bounded, CountingSink};
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Tag, TagKind, Token, TokenSink, TokenSinkResult};
pub use images::{inline_images, InlineImage};
use std::cell::{Cell, RefCell};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Plain text as HTML paragraphs (blank lines) and line breaks, escaped.
pub fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect()
}

/// The text of an HTML fragment, as a reader sees it: paragraphs and other
/// blocks become blank lines, `<br>` a line break, list items lines of
/// their own (`- ` or `1. `), links and mentions their text (`@ada`,
/// `#tag`), images their `alt`; entities are decoded, whitespace collapses
/// as a browser collapses it (kept in `<pre>`), and the contents of
/// `<script>`, `<style>`, `<template>`, `<svg>` and the like are dropped.
/// Tokenized by html5ever (the WHATWG tokenizer), so quoted `>` in
/// attributes, comments and unclosed tags are read as browsers read them.
///
/// The work is linear in the input: the tokenizer checks each attribute
/// against the earlier ones of its tag, so one tag with very many
/// attributes would cost the square of its length. Input is therefore fed
/// in chunks, and the text ends where a single tag, comment or doctype has
/// run on for more than [`MAX_TOKEN_BYTES`].
pub fn to_text(html: &str) -> String {
    convert(html, false)
}

/// The Markdown of an HTML fragment, for messages: as [`to_text`], but
/// `<strong>`/`<b>`, `<em>`/`<i>`, `<del>`/`<s>`, `<code>`, `<pre>` (with
/// its `language-*`), `<blockquote>`, lists and http(s)/mailto links
/// become their Markdown, and text that would read as Markdown is escaped.
/// Mentions and hashtags (links of class `mention` or `hashtag`) stay
/// their text (`@ada`), as mentions are written in a source.
pub fn to_markdown(html: &str) -> String {
    convert(html, true)
}

fn convert(html: &str, markdown: bool) -> String {
    let sink = TextSink::default();
    sink.text.borrow_mut().markdown = markdown;
    // Past an endless tag, the text before it is kept.
    let sink = feed_bounded(html, sink, MAX_TOKEN_BYTES);
    sink.text.take().finish()
}

/// The longest a tag (with its attributes), comment or doctype may be.
/// Longer than any real link; small enough that the tokenizer's check for
/// duplicate attributes stays cheap (with at most a few thousand per tag).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// List items and quotes deeper than this are not indented further, so
/// the output stays linear in the input however deep the nesting.
const MAX_INDENT: usize = 8;

/// How far back a line's start is looked for, to know whether a character
/// could start a Markdown block (past this, it cannot: list markers and
/// quote prefixes are shorter).
const LINE_START_LOOKBACK: usize = 64;

/// Elements whose content is raw text that is never shown.
const HIDDEN_RAW: &[&str] = &["script", "style", "title", "iframe", "noembed", "noframes"];

/// Elements whose (tokenized) content is never shown.
const HIDDEN: &[&str] = &["template", "svg", "head"];

/// Elements that stand apart as paragraphs.
const PARAGRAPHS: &[&str] = &[
    "p",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dl",
    "table",
    "hr",
    "figure",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "main",
    "address",
    "details",
    "fieldset",
    "form",
];

/// Elements that start and end a line.
const LINES: &[&str] = &[
    "div",
    "li",
    "dt",
    "dd",
    "tr",
    "summary",
    "figcaption",
    "caption",
    "legend",
    "option",
    "textarea",
];

/// Elements that become Markdown around their content.
const MARKED: &[&str] = &[
    "strong",
    "b",
    "em",
    "i",
    "del",
    "s",
    "strike",
    "code",
    "pre",
    "a",
    "blockquote",
];

/// The Markdown of an emphasis element.
fn emphasis(element: &str) -> &'static str {
    match element {
        "strong" | "b" => "**",
        "del" | "s" | "strike" => "~~",
        _ => "*",
    }
}

/// A link to an http(s) or mailto URL, or text only: for mentions and
/// hashtags (which stay `@ada`, `#tag`), other schemes and bad URLs.
fn link_kind(href: Option<String>, class: Option<String>, rel: Option<String>) -> MarkKind {
    let words = |v: &Option<String>| v.clone().unwrap_or_default();
    let class = words(&class);
    let tagged = class
        .split_whitespace()
        .any(|c| c == "mention" || c == "hashtag")
        || words(&rel).split_whitespace().any(|r| r == "tag");
    let url = href.and_then(|h| url::Url::parse(h.trim()).ok());
    match url {
        Some(url)
            if !tagged
                && markdown::SCHEMES.contains(&url.scheme())
                && !url
                    .as_str()
                    .contains(|c: char| c == '<' || c == '>' || c.is_whitespace()) =>
        {
            MarkKind::Link(url.to_string())
        }
        _ => MarkKind::Plain,
    }
}

/// The language of `class="language-NAME"`, if it is a plain name.
fn code_language(class: &str) -> Option<String> {
    class
        .split_whitespace()
        .filter_map(|c| c.strip_prefix("language-"))
        .find(|name| markdown::is_language(name))
        .map(str::to_string)
}

/// The longest run of backticks in `text`.
fn longest_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Markdown text without its backslash escapes.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\\' && chars.peek().is_some_and(|c| c.is_ascii_punctuation()) {
            continue;
        }
        out.push(ch);
    }
    out
}

/// A break owed before the next visible character; a stronger one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Break {
    #[default]
    None,
    Space,
    Line,
    Paragraph,
}

#[derive(Debug, Clone, Copy)]
enum List {
    Bullets,
    Numbers(u64),
}

/// The text being built, and where in the markup the tokenizer is.
#[derive(Debug, Default)]
struct Text {
    out: String,
    pending: Break,
    /// Inside an element of [`HIDDEN_RAW`]: its raw text is dropped.
    in_hidden_raw: bool,
    /// Open elements of [`HIDDEN`].
    hidden: usize,
    /// Open `<pre>` (and `<textarea>`, `<plaintext>`): whitespace is kept.
    pre: usize,
    /// A newline right after `<pre>` is not part of its content.
    pre_start: bool,
    lists: Vec<List>,
    /// Where the last list marker ended: a paragraph opening right after
    /// it stays on its line, so `<li><p>a</p></li>` reads `- a`.
    marker_end: usize,
    /// Writing Markdown rather than text.
    markdown: bool,
    /// Open `<blockquote>`s (Markdown): each line starts with `>`.
    quote: usize,
    /// Open `<code>`/`<pre>` (Markdown): their text is not escaped.
    code: usize,
    /// Open emphasis, code spans, links and code blocks (Markdown).
    marks: Vec<Mark>,
    /// Inside a link (Markdown): links in it are their text.
    in_link: bool,
    /// Where the last `&` of text was written (Markdown).
    amp: Option<usize>,
}

/// Markdown around a span of output, written when the element ends.
#[derive(Debug)]
struct Mark {
    /// The element that ends it.
    element: &'static str,
    /// Where its content starts in the output.
    at: usize,
    kind: MarkKind,
}

#[derive(Debug)]
enum MarkKind {
    /// `**`, `*` or `~~`, already written before `at`.
    Emphasis(&'static str),
    /// A code span: fenced with enough backticks when it ends.
    Code,
    /// A code block with its language.
    Block(Option<String>),
    /// A link to an allowed URL.
    Link(String),
    /// A mention, hashtag or link to another scheme: its text only.
    Plain,
}

impl Text {
    fn want(&mut self, at_least: Break) {
        self.pending = self.pending.max(at_least);
    }

    /// Writes the owed break before visible content.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if !self.out.is_empty() {
            self.write_break(pending);
        }
        self.quote_prefix();
    }

    fn write_break(&mut self, pending: Break) {
        match pending {
            Break::None => {}
            Break::Space => {
                if !self.out.ends_with([' ', '\n']) {
                    self.out.push(' ');
                }
            }
            Break::Line | Break::Paragraph => {
                self.trim_line_end();
                let have = self.out.len() - self.out.trim_end_matches('\n').len();
                let need = if pending == Break::Line { 1 } else { 2 };
                for _ in have..need {
                    self.out.push('\n');
                }
            }
        }
    }

    /// `>` for each open quote, at the start of a line of Markdown.
    fn quote_prefix(&mut self) {
        if self.markdown && self.quote > 0 && (self.out.is_empty() || self.out.ends_with('\n')) {
            for _ in 0..self.quote.min(MAX_INDENT) {
                self.out.push('>');
            }
            self.out.push(' ');
        }
    }

    /// Whether the output is at the start of a line, but for quote
    /// prefixes, indentation and list markers.
    fn at_line_start(&self) -> bool {
        let tail = self.out.bytes().rev().take(LINE_START_LOOKBACK + 1);
        for (i, byte) in tail.enumerate() {
            if byte == b'\n' {
                return true;
            }
            if i == LINE_START_LOOKBACK || !b" >-+*.)0123456789".contains(&byte) {
                return false;
            }
        }
        true
    }

    /// A visible character; in Markdown, escaped if it could be markup
    /// (a `&` once the next character shows it could start an entity).
    fn push_visible(&mut self, ch: char) {
        if self.markdown && self.code == 0 {
            let after_amp = self.amp.is_some_and(|at| at + 1 == self.out.len());
            if let (true, Some(at)) = (after_amp, self.amp) {
                if ch.is_alphanumeric() || ch == '#' {
                    self.out.insert(at, '\\');
                }
            }
            self.amp = (ch == '&').then_some(self.out.len());
            if markdown::needs_escape(ch, self.at_line_start()) {
                self.out.push('\\');
            }
        }
        self.out.push(ch);
    }

    fn trim_line_end(&mut self) {
        let kept = self.out.trim_end_matches(' ').len();
        self.out.truncate(kept);
    }

    fn characters(&mut self, chars: &str) {
        if self.in_hidden_raw || self.hidden > 0 {
            return;
        }
        for ch in chars.chars() {
            let pre_start = std::mem::take(&mut self.pre_start);
            if self.pre > 0 {
                if ch == '\n' && pre_start {
                    continue;
                }
                if ch == '\n' || ch == '\t' || !ch.is_control() {
                    self.flush();
                    self.out.push(ch);
                }
            } else if matches!(ch, ' ' | '\t' | '\n' | '\r' | '\x0C') {
                self.want(Break::Space);
            } else if ch == '\u{A0}' {
                self.flush();
                self.out.push(' ');
            } else if !ch.is_control() {
                self.flush();
                self.push_visible(ch);
            }
        }
    }

    fn line_break(&mut self) {
        if self.pending > Break::Space {
            self.flush();
        }
        self.pending = Break::None;
        self.trim_line_end();
        self.out.push('\n');
    }

    /// Handles a tag; returns the state the tokenizer must switch to.
    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if HIDDEN_RAW.contains(&name) {
            self.in_hidden_raw = start;
            return match (start, name) {
                (true, "script") => TokenSinkResult::RawData(RawKind::ScriptData),
                (true, "title") => TokenSinkResult::RawData(RawKind::Rcdata),
                (true, _) => TokenSinkResult::RawData(RawKind::Rawtext),
                (false, _) => TokenSinkResult::Continue,
            };
        }
        if HIDDEN.contains(&name) {
            if start && !(tag.self_closing && name == "svg") {
                self.hidden += 1;
            } else if !start {
                self.hidden = self.hidden.saturating_sub(1);
            }
            return TokenSinkResult::Continue;
        }
        if self.hidden > 0 {
            return match (start, name) {
                (true, "textarea") => TokenSinkResult::RawData(RawKind::Rcdata),
                (true, "xmp") => TokenSinkResult::RawData(RawKind::Rawtext),
                _ => TokenSinkResult::Continue,
            };
        }
        if PARAGRAPHS.contains(&name) {
            // A paragraph opening a list item stays on the marker's line.
            if !(start && self.out.len() == self.marker_end && self.pending == Break::None) {
                self.want(Break::Paragraph);
            }
        } else if LINES.contains(&name) {
            self.want(Break::Line);
        } else if matches!(name, "td" | "th") {
            self.want(Break::Space);
        }
        if self.markdown {
            self.markdown_tag(tag, start);
        }
        match (start, name) {
            (_, "br") => self.line_break(),
            (true, "pre") => {
                self.pre += 1;
                self.pre_start = true;
            }
            (false, "pre" | "textarea") => self.pre = self.pre.saturating_sub(1),
            (true, "textarea") => {
                self.pre += 1;
                self.pre_start = true;
                return TokenSinkResult::RawData(RawKind::Rcdata);
            }
            (true, "xmp") => {
                self.want(Break::Paragraph);
                self.pre += 1;
                return TokenSinkResult::RawData(RawKind::Rawtext);
            }
            (false, "xmp") => {
                self.want(Break::Paragraph);
                self.pre = self.pre.saturating_sub(1);
            }
            (true, "plaintext") => {
                self.want(Break::Paragraph);
                self.pre += 1;
                return TokenSinkResult::Plaintext;
            }
            (true, "ul") => self.open_list(List::Bullets),
            (true, "ol") => {
                let first = tag
                    .attrs
                    .iter()
                    .find(|a| &*a.name.local == "start")
                    .and_then(|a| a.value.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                self.open_list(List::Numbers(first));
            }
            (false, "ul" | "ol") => {
                self.lists.pop();
                self.want(self.list_break());
            }
            (true, "li") => self.list_item(),
            (true, "img") => {
                if let Some(alt) = tag.attrs.iter().find(|a| &*a.name.local == "alt") {
                    let alt = alt.value.to_string();
                    self.characters(&alt);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// The Markdown an element opens or closes.
    fn markdown_tag(&mut self, tag: &Tag, start: bool) {
        let Some(element) = MARKED.iter().copied().find(|e| **e == *tag.name) else {
            return;
        };
        if !start {
            return self.end_mark(element);
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let kind = match element {
            "blockquote" => {
                self.quote += 1;
                return;
            }
            "code" if self.pre > 0 => {
                if let Some(Mark {
                    kind: MarkKind::Block(language @ None),
                    at,
                    ..
                }) = self.marks.last_mut()
                {
                    if *at == self.out.len() {
                        *language = attr("class").and_then(|c| code_language(&c));
                    }
                }
                return;
            }
            _ if self.code > 0 => return,
            "pre" => MarkKind::Block(None),
            "code" => MarkKind::Code,
            "a" if self.in_link => return,
            "a" => link_kind(attr("href"), attr("class"), attr("rel")),
            _ => MarkKind::Emphasis(emphasis(element)),
        };
        self.flush();
        if let MarkKind::Emphasis(marker) = kind {
            self.out.push_str(marker);
        }
        match kind {
            MarkKind::Code | MarkKind::Block(_) => self.code += 1,
            MarkKind::Link(_) | MarkKind::Plain => self.in_link = true,
            MarkKind::Emphasis(_) => {}
        }
        let at = self.out.len();
        self.marks.push(Mark { element, at, kind });
    }

    /// Closes the innermost open `element` (and what misnested inside it);
    /// an end tag with nothing open near the top is ignored.
    fn end_mark(&mut self, element: &'static str) {
        if element == "blockquote" {
            self.quote = self.quote.saturating_sub(1);
            return;
        }
        let Some(found) = self
            .marks
            .iter()
            .rev()
            .take(MAX_INDENT)
            .position(|m| m.element == element)
        else {
            return;
        };
        for _ in 0..=found {
            if let Some(mark) = self.marks.pop() {
                self.close(mark);
            }
        }
    }

    /// Writes the Markdown around the output since `mark` opened.
    fn close(&mut self, mark: Mark) {
        match mark.kind {
            MarkKind::Emphasis(marker) if self.out.len() == mark.at => {
                self.out.truncate(mark.at - marker.len());
            }
            MarkKind::Emphasis(marker) => self.out.push_str(marker),
            MarkKind::Code => {
                self.code = self.code.saturating_sub(1);
                let content = self.out.split_off(mark.at);
                if content.trim().is_empty() {
                    return;
                }
                let fence = "`".repeat(longest_run(&content) + 1);
                let pad = if content.starts_with('`') || content.ends_with('`') {
                    " "
                } else {
                    ""
                };
                self.out
                    .push_str(&format!("{fence}{pad}{content}{pad}{fence}"));
            }
            MarkKind::Block(language) => {
                self.code = self.code.saturating_sub(1);
                let content = self.out.split_off(mark.at);
                let fence = "`".repeat(longest_run(&content).max(2) + 1);
                self.out.push_str(&fence);
                self.out.push_str(language.as_deref().unwrap_or(""));
                self.out.push('\n');
                self.out.push_str(content.trim_end_matches('\n'));
                self.out.push('\n');
                self.quote_prefix();
                self.out.push_str(&fence);
            }
            MarkKind::Link(href) => {
                self.in_link = false;
                let content = self.out.split_off(mark.at);
                let text = unescape(&content);
                let bare = href
                    .split_once("://")
                    .map_or(href.as_str(), |(_, rest)| rest);
                if text.is_empty()
                    || text == href
                    || text.trim_end_matches('/') == bare.trim_end_matches('/')
                {
                    self.out.push_str(&format!("<{href}>"));
                } else if content.contains('\n') {
                    self.out.push_str(&content);
                } else {
                    self.out.push_str(&format!("[{content}](<{href}>)"));
                }
            }
            MarkKind::Plain => self.in_link = false,
        }
    }

    /// A list stands apart as a paragraph; a list inside one, as lines.
    fn list_break(&self) -> Break {
        if self.lists.is_empty() {
            Break::Paragraph
        } else {
            Break::Line
        }
    }

    fn open_list(&mut self, list: List) {
        self.want(self.list_break());
        self.lists.push(list);
    }

    fn list_item(&mut self) {
        let depth = self.lists.len().clamp(1, MAX_INDENT);
        let marker = match self.lists.last_mut() {
            Some(List::Numbers(n)) => {
                let marker = format!("{n}. ");
                *n = n.saturating_add(1);
                marker
            }
            Some(List::Bullets) | None => "- ".to_string(),
        };
        // A list item opens a line even at the very start of the text.
        self.flush();
        let indent = if self.markdown { "   " } else { "  " };
        for _ in 1..depth {
            self.out.push_str(indent);
        }
        self.out.push_str(&marker);
        self.marker_end = self.out.len();
    }

    fn finish(mut self) -> String {
        while let Some(mark) = self.marks.pop() {
            self.close(mark);
        }
        // Spaces at the start are kept: they can only come from `<pre>` or
        // `&nbsp;`, which keep them on purpose.
        self.out.trim_start_matches('\n').trim_end().to_string()
    }
}

/// Receives tokens from html5ever and builds the [`Text`].
#[derive(Default)]
struct TextSink {
    text: RefCell<Text>,
    /// Tokens of content seen (parse errors, which a tag with duplicate
    /// attributes emits as it goes, are not counted).
    tokens: Cell<u64>,
}

impl CountingSink for TextSink {
    fn tokens(&self) -> u64 {
        self.tokens.get()
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if !matches!(token, Token::ParseError(_) | Token::EOFToken) {
            self.tokens.set(self.tokens.get() + 1);
        }
        let mut text = self.text.borrow_mut();
        match token {
            Token::CharacterTokens(chars) => text.characters(&chars),
            Token::TagToken(tag) => return text.tag(&tag),
            Token::DoctypeToken(_)
            | Token::CommentToken(_)
            | Token::NullCharacterToken
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod markdown_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_into_paragraphs() {
        assert_eq!(
            paragraphs("a <script>\nb\n\n\"c\" & 'd'"),
            "<p>a &lt;script&gt;<br>b</p><p>&quot;c&quot; &amp; &#39;d&#39;</p>"
        );
        assert_eq!(paragraphs(""), "");
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            to_text("<p><span class=\"h-card\"><a href=\"https://x/@a\">@<span>a</span></a></span> hi &amp; &lt;b&gt;</p><p>two<br/>lines &#x1F600;</p>"),
            "@a hi & <b>\n\ntwo\nlines \u{1F600}"
        );
        assert_eq!(
            to_text(&paragraphs("x <img onerror=y>\n\nz")),
            "x <img onerror=y>\n\nz"
        );
        assert_eq!(to_text("a & b &bogus; <unclosed"), "a & b &bogus;");
    }

    #[test]
    fn our_own_paragraphs_come_back_as_they_were() {
        for text in [
            "one",
            "a\nb",
            "a\n\nb",
            "a\n\n\nb",
            "tags <b>stay</b> text & \"quotes\" 'too'",
            "  indented\nline",
        ] {
            assert_eq!(to_text(&paragraphs(text)), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn script_style_and_template_contents_are_dropped() {
        assert_eq!(
            to_text("a<script>alert('<p>x</p>')</script>b<style>p{color:red}</style>c"),
            "abc"
        );
        assert_eq!(to_text("a<template><p>hidden</p></template>b"), "ab");
        assert_eq!(to_text("a<svg><text>drawn</text></svg>b"), "ab");
        assert_eq!(to_text("<title>t</title>body"), "body");
        // `</script>` inside a string still ends the script, as in a browser.
        assert_eq!(to_text("<script>var s='</script>'; x</script>y"), "'; xy");
        // An unclosed script hides the rest.
        assert_eq!(to_text("shown<script>never shown"), "shown");
    }

    #[test]
    fn quoted_angle_brackets_do_not_end_a_tag() {
        assert_eq!(to_text("<span title=\"a>b\">text</span>"), "text");
        assert_eq!(
            to_text("<a href='x' title='1 > 0' data-x=\">\">link</a>"),
            "link"
        );
        assert_eq!(to_text("<p class=a>b>c</p>"), "b>c");
    }

    #[test]
    fn entities_are_decoded_once_and_correctly() {
        assert_eq!(to_text("&amp;lt; &lt; &#60; &#x3c; &LT"), "&lt; < < < <");
        assert_eq!(
            to_text("caf&eacute; &hellip; &notit; &copy"),
            "café … ¬it; ©"
        );
        assert_eq!(to_text("a&nbsp;&nbsp;b"), "a  b");
        assert_eq!(to_text("&#0; &#1;x&#xD800;"), "\u{FFFD} x\u{FFFD}");
        assert_eq!(to_text("AT&T & co;"), "AT&T & co;");
    }

    #[test]
    fn mastodon_mentions_hashtags_and_links_are_their_text() {
        let html = "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://m.example/@ada\" class=\"u-url mention\">@<span>ada</span></a></span> see <a href=\"https://m.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>rust</span></a> and <a href=\"https://example.com/a/very/long/path\" rel=\"nofollow noopener\" target=\"_blank\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/a/very/</span><span class=\"invisible\">long/path</span></a></p>";
        assert_eq!(
            to_text(html),
            "@ada see #rust and https://example.com/a/very/long/path"
        );
    }

    #[test]
    fn blocks_lists_and_whitespace_read_as_text() {
        assert_eq!(
            to_text(
                "<p>intro</p>\n<ul>\n  <li>one</li>\n  <li>two <b>bold</b></li>\n</ul><p>end</p>"
            ),
            "intro\n\n- one\n- two bold\n\nend"
        );
        assert_eq!(
            to_text("<ol start=\"3\"><li>c<ul><li>x</li></ul></li><li>d</li></ol>"),
            "3. c\n  - x\n4. d"
        );
        assert_eq!(to_text("<div>a</div><div>b</div>"), "a\nb");
        assert_eq!(to_text("a\n   b\t\tc"), "a b c");
        assert_eq!(
            to_text("<pre>\n  code\n    here</pre>after"),
            "  code\n    here\n\nafter"
        );
        assert_eq!(
            to_text("<h1>Title</h1>text<hr>more"),
            "Title\n\ntext\n\nmore"
        );
        assert_eq!(to_text("a <br> b<br><br>c"), "a\nb\n\nc");
        assert_eq!(to_text("<img src=x alt=\":blob:\"> <img src=y>"), ":blob:");
        assert_eq!(
            to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a b\nc"
        );
    }

    #[test]
    fn garbage_nested_and_unclosed_markup_never_leaks_markup() {
        assert_eq!(to_text("<b><i>x</b></i></p></div>y"), "x\n\ny");
        assert_eq!(to_text("<p>a<p>b"), "a\n\nb");
        assert_eq!(to_text("<!-- <p>c</p> -->d<!-- never closed"), "d");
        assert_eq!(to_text("<!DOCTYPE html><html><body>e</body></html>"), "e");
        assert_eq!(to_text("f<a href=\"x"), "f");
        assert_eq!(to_text("g</br>h"), "g\nh");
        assert_eq!(to_text("< not a tag > 1 < 2"), "< not a tag > 1 < 2");
        // Outside SVG and MathML, CDATA is a bogus comment up to the first `>`.
        assert_eq!(to_text("<![CDATA[<b>]]>i"), "]]>i");
        assert_eq!(to_text(""), "");
        // The tag's name is `scr<script`, so what follows is text (as in a
        // browser), and the `</script>` an unmatched end tag.
        assert_eq!(to_text("<scr<script>ipt>x</script>"), "ipt>x");
        for input in [
            "<<<<>>>>",
            "<a <b <c>>>",
            "</>",
            "<p <p <p",
            "<svg><style></svg><p>x</p></style>",
        ] {
            let text = to_text(input);
            assert!(
                !text.contains("<p") && !text.contains("<scr") && !text.contains("alert"),
                "{input:?} -> {text:?}"
            );
        }
    }

    #[test]
    fn huge_and_deep_inputs_take_one_pass() {
        // 1 MiB (the inbox's cap) of each shape; all finish in one pass.
        let mib = 1 << 20;
        let deep = "<ul><li>".repeat(mib / 8);
        let text = to_text(&deep);
        assert_eq!(text.lines().count(), mib / 8);
        assert!(text.len() < 32 * mib / 8, "indentation is capped");

        let spans = "<span>x</span>".repeat(mib / 14);
        assert_eq!(to_text(&spans).len(), mib / 14);

        let open = format!("<a title=\"{}", "x".repeat(mib));
        assert_eq!(to_text(&open), "");

        let entities = "&amp;".repeat(mib / 5);
        assert_eq!(to_text(&entities).len(), mib / 5);

        let breaks = "<br>".repeat(mib / 4);
        assert_eq!(to_text(&format!("a{breaks}b")).len(), mib / 4 + 2);

        // Tags with many attributes are read while they stay under the
        // bound; the text ends at one that does not.
        let attrs: String = (0..1000).map(|i| format!(" a{i}=1")).collect();
        let tags = format!("<p{attrs}>z</p>").repeat(mib / (attrs.len() + 8));
        assert_eq!(to_text(&tags).len(), 3 * (mib / (attrs.len() + 8)) - 2);
        let attrs: String = (0..mib / 8).map(|i| format!(" a{i}")).collect();
        assert_eq!(to_text(&format!("kept<p{attrs}>z</p>")), "kept");
        let comment = format!("kept<!--{}-->z", "-".repeat(2 * MAX_TOKEN_BYTES));
        assert_eq!(to_text(&comment), "kept");
        let long_link = format!(
            "<a href=\"https://x/{}\">link</a>",
            "y".repeat(MAX_TOKEN_BYTES / 2)
        );
        assert_eq!(to_text(&long_link), "link");
    }
}
