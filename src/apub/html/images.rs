//! The pictures written inline in received HTML (`<img src>`): Lemmy, and
//! other servers whose Markdown allows images, send a picture in a message
//! as an image in its `content` rather than as an `attachment`. Confab's
//! text keeps only their alt text, so they are taken out here and kept as
//! attachments. Custom emoji (`<img class="emoji">`, and any image whose
//! address a `tag` names) are not pictures of the message and are skipped
//! by the caller or here.

use crate::html_tokens::{feed_bounded, CountingSink};
use html5ever::tokenizer::{TagKind, Token, TokenSink, TokenSinkResult};
use std::cell::{Cell, RefCell};

/// The longest tag read (see `super::MAX_TOKEN_BYTES`).
const MAX_TOKEN_BYTES: usize = super::MAX_TOKEN_BYTES;

/// An inline picture: its address and its alt text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    pub src: String,
    pub alt: Option<String>,
}

/// The `http(s)` images of `html`, in order, without custom emoji and
/// without repeats; at most `max`.
pub fn inline_images(html: &str, max: usize) -> Vec<InlineImage> {
    if !html
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"<img"))
    {
        return vec![];
    }
    let sink = feed_bounded(html, ImageSink::default(), MAX_TOKEN_BYTES);
    let mut found = sink.images.take();
    found.truncate(max);
    found
}

#[derive(Default)]
struct ImageSink {
    images: RefCell<Vec<InlineImage>>,
    tokens: Cell<u64>,
}

impl CountingSink for ImageSink {
    fn tokens(&self) -> u64 {
        self.tokens.get()
    }
}

impl TokenSink for ImageSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if !matches!(token, Token::ParseError(_) | Token::EOFToken) {
            self.tokens.set(self.tokens.get() + 1);
        }
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag || &*tag.name != "img" {
            return TokenSinkResult::Continue;
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.trim().to_owned())
        };
        let is_emoji = attr("class").is_some_and(|c| c.split_whitespace().any(|c| c == "emoji"));
        let Some(src) = attr("src") else {
            return TokenSinkResult::Continue;
        };
        let web = src.starts_with("https://") || src.starts_with("http://");
        let mut images = self.images.borrow_mut();
        if web && !is_emoji && !images.iter().any(|i| i.src == src) {
            let alt = attr("alt").filter(|a| !a.is_empty());
            images.push(InlineImage { src, alt });
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_found_and_emoji_and_other_schemes_are_not() {
        let html = r#"<p>look <img src="https://l.example/pictrs/image/a.png" alt="a cat">
            <img class="custom emoji" src="https://l.example/emoji/blob.png" alt=":blob:">
            <img src="data:image/png;base64,AAAA"><img src="https://l.example/pictrs/image/a.png">
            <Img SRC="http://l.example/b.jpg"></p>"#;
        assert_eq!(
            inline_images(html, 10),
            vec![
                InlineImage {
                    src: "https://l.example/pictrs/image/a.png".into(),
                    alt: Some("a cat".into())
                },
                InlineImage {
                    src: "http://l.example/b.jpg".into(),
                    alt: None
                },
            ]
        );
        assert_eq!(inline_images(html, 1).len(), 1);
        assert!(inline_images("<p>no pictures</p>", 10).is_empty());
    }
}
