//! Plain text to the HTML peers expect in `content` and `summary`, and back.
//! Everything we emit is escaped; everything we receive is reduced to text,
//! so no remote markup ever reaches a client.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
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
    let tokenizer = Tokenizer::new(TextSink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    let (mut fed, mut since_token, mut tokens) = (0, 0, 0);
    while fed < html.len() {
        let mut end = (fed + CHUNK_BYTES).min(html.len());
        while !html.is_char_boundary(end) {
            end += 1;
        }
        input.push_back(StrTendril::from_slice(&html[fed..end]));
        // The sink never asks to stop for a script, so a feed takes all.
        let _ = tokenizer.feed(&input);
        since_token += end - fed;
        fed = end;
        let now = tokenizer.sink.tokens.get();
        if now != tokens {
            (tokens, since_token) = (now, 0);
        } else if since_token > MAX_TOKEN_BYTES {
            // Markup this long is garbage or an attack: keep the text
            // before it and leave the tag unfinished.
            return tokenizer.sink.text.take().finish();
        }
    }
    tokenizer.end();
    tokenizer.sink.text.take().finish()
}

/// How much input the tokenizer gets at a time.
const CHUNK_BYTES: usize = 1024;

/// The longest a tag (with its attributes), comment or doctype may be.
/// Longer than any real link; small enough that the tokenizer's check for
/// duplicate attributes stays cheap (with at most a few thousand per tag).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// List items deeper than this are not indented further, so the output
/// stays linear in the input however deep the nesting.
const MAX_INDENT: usize = 8;

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
}

impl Text {
    fn want(&mut self, at_least: Break) {
        self.pending = self.pending.max(at_least);
    }

    /// Writes the owed break before visible content.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if self.out.is_empty() {
            return;
        }
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
                self.out.push(ch);
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
            self.want(Break::Paragraph);
        } else if LINES.contains(&name) {
            self.want(Break::Line);
        } else if matches!(name, "td" | "th") {
            self.want(Break::Space);
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
        for _ in 1..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(&marker);
    }

    fn finish(self) -> String {
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
