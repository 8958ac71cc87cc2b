use super::*;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

#[test]
fn the_subset_renders() {
    for (source, html) in [
        ("hi", "<p>hi</p>"),
        (
            "**b** *i* _i_ ~~s~~ `c`",
            "<p><strong>b</strong> <em>i</em> <em>i</em> <del>s</del> <code>c</code></p>",
        ),
        ("a\nb", "<p>a<br>\nb</p>"),
        ("a\n\nb", "<p>a</p>\n<p>b</p>"),
        (
            "```rust\nfn main() {}\n```",
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>",
        ),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("3. c\n4. d", "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>"),
        (
            "[x](https://example.org/a?b=1&c=2)",
            "<p><a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\">x</a></p>",
        ),
        (
            "<https://example.org>",
            "<p><a href=\"https://example.org\" rel=\"nofollow noopener noreferrer\">https://example.org</a></p>",
        ),
        (
            "[mail](mailto:ada@example.org)",
            "<p><a href=\"mailto:ada@example.org\" rel=\"nofollow noopener noreferrer\">mail</a></p>",
        ),
    ] {
        assert_eq!(to_html(source), html, "{source:?}");
    }
}

#[test]
fn outside_the_subset_is_text() {
    for (source, html) in [
        ("fields <check>", "<p>fields &lt;check&gt;</p>"),
        ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
        ("# title", "<p># title</p>"),
        ("---", "<p>---</p>"),
        (
            "![alt](https://example.org/i.png)",
            "<p><a href=\"https://example.org/i.png\" rel=\"nofollow noopener noreferrer\">alt</a></p>",
        ),
        ("```\"><x>\nc\n```", "<pre><code>c\n</code></pre>"),
    ] {
        assert_eq!(to_html(source), html, "{source:?}");
    }
}

/// Markup written to run script, as sources and as received HTML.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<b onclick=alert(1)>x</b>",
    "**<i onmouseover=alert(1)>x</i>**",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;vascript:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#X61;vascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](//evil.example/x)",
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "[x](https://ok.example \"t\\\" onmouseover=\\\"alert(1)\")",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<style>*{background:expression(alert(1))}</style>",
    "<p style=\"color:red\">styled</p>",
    "<object data=\"javascript:alert(1)\"></object><embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<!--><script>alert(1)</script>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\" style=\"x\">ok</a>",
    "<code class=\"language-x onload=alert(1)\">x</code>",
    "```x\" onmouseover=\"alert(1)\nc\n```",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<template><script>alert(1)</script></template>",
    "<b><i><u><s>nested</b></i></u>",
    "<a href=\"https://ok.example\"><a href=\"javascript:alert(1)\">x</a></a>",
];

/// A start tag: its name and attributes.
type StartTag = (String, Vec<(String, String)>);

/// What the HTML holds: each start tag with its attributes.
#[derive(Default)]
struct Tags(RefCell<Vec<StartTag>>);

impl TokenSink for Tags {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            if tag.kind == TagKind::StartTag {
                let attrs = tag
                    .attrs
                    .iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect();
                self.0.borrow_mut().push((tag.name.to_string(), attrs));
            }
        }
        TokenSinkResult::Continue
    }
}

/// Fails unless every element of `html` is on the allow-list, with only
/// its allowed attributes, and every link has an allowed scheme.
fn assert_harmless(html: &str, input: &str) {
    let tokenizer = Tokenizer::new(Tags::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    for (name, attrs) in tokenizer.sink.0.take() {
        assert!(TAGS.contains(&name.as_str()), "{input:?} -> {html:?}");
        for (attr, value) in attrs {
            let ok = match (name.as_str(), attr.as_str()) {
                ("a", "href") => {
                    url::Url::parse(&value).is_ok_and(|u| SCHEMES.contains(&u.scheme()))
                }
                ("a", "rel") => value == LINK_REL,
                ("ol", "start") => value.parse::<u32>().is_ok(),
                ("code", "class") => language_class(&value),
                _ => false,
            };
            assert!(ok, "{input:?} -> {html:?}: {name} {attr}={value:?}");
        }
    }
    let lower = html.to_lowercase();
    for bad in ["<script", "<img", "<iframe", "<svg", "<style"] {
        assert!(!lower.contains(bad), "{input:?} -> {html:?}");
    }
}

#[test]
fn no_hostile_source_yields_script() {
    for source in HOSTILE {
        assert_harmless(&to_html(source), source);
    }
}

#[test]
fn no_hostile_html_survives_sanitizing() {
    for html in HOSTILE {
        assert_harmless(&sanitize(html), html);
        assert_harmless(&sanitize(&to_html(html)), html);
    }
}

#[test]
fn hostile_links_lose_their_href_but_keep_their_text() {
    assert_eq!(
        to_html("[x](javascript:alert(1))"),
        "<p><a rel=\"nofollow noopener noreferrer\">x</a></p>"
    );
    assert_eq!(
        to_html("<a href=\"javascript:alert(1)\">x</a>"),
        "<p>&lt;a href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;</p>"
    );
}

#[test]
fn plain_text_escapes_to_itself() {
    assert_eq!(
        escape("hi @ada@alpha.example :blob:"),
        "hi @ada@alpha.example :blob:"
    );
    assert_eq!(
        escape("*a* _b_ `c` [d](e) <f>"),
        "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\<f\\>"
    );
    assert_eq!(escape("# x\n- y\n+ z\na-b"), "\\# x\n\\- y\n\\+ z\na-b");
    assert_eq!(
        escape("AT&T &amp; &#60; & co"),
        "AT\\&T \\&amp; \\&#60; & co"
    );
    for text in [
        "*a* _b_ `c` [d](e) <f> ~~g~~",
        "# x\n- y\n> z",
        "AT&T &amp; &#60;",
        "a\\b",
    ] {
        let html = to_html(&escape(text));
        assert!(
            !html.contains("<em>")
                && !html.contains("<code>")
                && !html.contains("<a ")
                && !html.contains("<ul>")
                && !html.contains("<blockquote>")
                && !html.contains("<del>"),
            "{text:?} -> {html:?}"
        );
    }
    assert_eq!(
        to_html(&escape("AT&T &amp; a\\b")),
        "<p>AT&amp;T &amp;amp; a\\b</p>"
    );
}
