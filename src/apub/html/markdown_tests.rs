//! HTML from other servers as the Markdown of a message.

use super::*;
use crate::apub::markdown::to_html;

#[test]
fn formatting_becomes_markdown() {
    for (html, md) in [
        ("<p>a <strong>b</strong> <b>c</b></p>", "a **b** **c**"),
        ("<p><em>i</em> <i>j</i> <del>d</del> <s>s</s></p>", "*i* *j* ~~d~~ ~~s~~"),
        ("<p>use <code>a*b</code> and <code>x`y</code></p>", "use `a*b` and ``x`y``"),
        ("<p><b></b>x<i></i></p>", "x"),
        ("<p>in<b>word</b>s</p>", "in**word**s"),
        (
            "<pre><code class=\"language-rust\">fn main() {\n    *x\n}</code></pre><p>after</p>",
            "```rust\nfn main() {\n    *x\n}\n```\n\nafter",
        ),
        ("<pre>has ``` fence</pre>", "````\nhas ``` fence\n````"),
        ("<blockquote><p>quoted <b>b</b></p></blockquote><p>reply</p>", "> quoted **b**\n\nreply"),
        ("<blockquote>a<br>b</blockquote>", "> a\n> b"),
        ("<ul><li>a</li><li><p>b</p></li></ul>", "- a\n- b"),
        ("<ol start=\"2\"><li>x<ul><li>y</li></ul></li></ol>", "2. x\n   - y"),
        (
            "<p><a href=\"https://example.org/a_b\">the docs</a></p>",
            "[the docs](<https://example.org/a_b>)",
        ),
        (
            "<p><a href=\"https://example.org/a_b\">https://example.org/a_b</a></p>",
            "<https://example.org/a_b>",
        ),
        (
            "<a href=\"https://example.com/a/very/long/path\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/a/very/</span><span class=\"invisible\">long/path</span></a>",
            "<https://example.com/a/very/long/path>",
        ),
        ("<a href=\"mailto:ada@example.org\">mail</a>", "[mail](<mailto:ada@example.org>)"),
        ("<a href=\"javascript:alert(1)\">click</a>", "click"),
        ("<a href=\"/relative\">rel</a>", "rel"),
        ("<a href=\"https://a.example\"><a href=\"https://b.example\">x</a></a>", "[x](<https://a.example/>)"),
    ] {
        assert_eq!(to_markdown(html), md, "{html:?}");
    }
}

#[test]
fn text_that_reads_as_markdown_is_escaped() {
    for (html, md) in [
        ("<p>2 * 3 * 4 and a_b_c</p>", "2 \\* 3 \\* 4 and a\\_b\\_c"),
        (
            "<p># not a title</p><p>- not a list</p>",
            "\\# not a title\n\n\\- not a list",
        ),
        (
            "<p>&lt;b&gt;x&lt;/b&gt; [l](u)</p>",
            "\\<b\\>x\\</b\\> \\[l\\](u)",
        ),
        ("<p>AT&amp;T &amp;amp; &amp; co</p>", "AT\\&T \\&amp; & co"),
        ("<p>well-known</p>", "well-known"),
    ] {
        assert_eq!(to_markdown(html), md, "{html:?}");
        // And it shows as the text it was.
        let back = to_text(&to_html(&to_markdown(html)));
        assert_eq!(back, to_text(html), "{html:?}");
    }
}

#[test]
fn mentions_and_hashtags_stay_text() {
    let html = "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://m.example/@ada\" class=\"u-url mention\">@<span>ada</span></a></span> see <a href=\"https://m.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>rust</span></a></p>";
    assert_eq!(to_markdown(html), "@ada see #rust");
}

#[test]
fn markdown_round_trips_through_our_html() {
    for md in [
        "a **b** *c* ~~d~~ `e`",
        "```rust\nfn main() {}\n```",
        "> quoted\n\nreply",
        "- a\n- b",
        "1. x\n2. y",
        "[the docs](<https://example.org/a>)",
        "<https://example.org/>",
        "line\nbreak",
    ] {
        assert_eq!(to_markdown(&to_html(md)), md, "{md:?}");
    }
}

#[test]
fn the_text_guarantees_hold_for_markdown_too() {
    assert_eq!(
        to_markdown("a<script>alert('<p>x</p>')</script>b<style>p{}</style>c"),
        "abc"
    );
    assert_eq!(to_markdown("<span title=\"a>b\">text</span>"), "text");
    assert_eq!(to_markdown("caf&eacute; &#60;"), "café \\<");
    assert_eq!(to_markdown("shown<script>never shown"), "shown");
    assert_eq!(to_markdown("<b><i>x</b></i>y"), "***x***y");
    let mib = 1 << 20;
    let deep = "<blockquote><b><code><a href=\"https://x.example\">".repeat(mib / 60);
    assert!(to_markdown(&deep).len() < 4 * mib);
    let stars = "*".repeat(mib);
    assert_eq!(to_markdown(&stars).len(), 2 * mib);
    let digits = format!("\n{}", "1".repeat(mib));
    assert_eq!(to_markdown(&digits).len(), mib);
    let open = "<b>".repeat(mib / 3);
    assert_eq!(to_markdown(&open), "");
    let mixed = "<b><i></b>".repeat(mib / 10);
    assert_eq!(to_markdown(&mixed), "");
}
