//! Feeding html5ever's tokenizer (the WHATWG one) with a bound on how long
//! one tag, comment or doctype may run. The tokenizer checks a tag's
//! attributes for duplicates in time quadratic in their number, so markup
//! that never ends its tag would cost seconds of CPU per message or page;
//! reading stops at such a tag and keeps what came before it. Shared by
//! remote HTML (`apub::html`) and link previews (`chat::previews`); imports
//! nothing of the crate.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TokenSink, Tokenizer, TokenizerOpts};

/// How much input the tokenizer gets at a time.
const CHUNK_BYTES: usize = 1024;

/// A sink that counts the tokens of content it has received (not parse
/// errors: a tag with duplicate attributes emits those as it goes).
pub trait CountingSink: TokenSink {
    fn tokens(&self) -> u64;
}

/// Tokenizes `html` into `sink` and returns it; once more than
/// `max_token_bytes` pass without a token of content, reading stops there
/// (the sink has what came before, and the long token is left unfinished).
pub fn feed_bounded<S: CountingSink>(html: &str, sink: S, max_token_bytes: usize) -> S {
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    let (mut fed, mut since_token, mut tokens) = (0, 0, 0);
    while fed < html.len() {
        let mut end = (fed + CHUNK_BYTES).min(html.len());
        while !html.is_char_boundary(end) {
            end += 1;
        }
        input.push_back(StrTendril::from_slice(&html[fed..end]));
        // Sinks never ask to stop for a script, so a feed takes all.
        let _ = tokenizer.feed(&input);
        since_token += end - fed;
        fed = end;
        let now = tokenizer.sink.tokens();
        if now != tokens {
            (tokens, since_token) = (now, 0);
        } else if since_token > max_token_bytes {
            return tokenizer.sink;
        }
    }
    tokenizer.end();
    tokenizer.sink
}
