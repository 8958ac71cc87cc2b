//! A user's search query, parsed once into terms and rendered for each
//! engine: an FTS5 `MATCH` expression on SQLite, a `tsquery` on PostgreSQL.
//! Only letters and digits ever reach either engine, inside quotes, so no
//! input can be an FTS5 or tsquery syntax error (operators such as `NEAR`,
//! `OR`, `-`, `^`, `:` or column filters are just words or separators
//! here). Also finds the ranges of a body that a query matched.

use serde::Serialize;
use utoipa::ToSchema;

/// Longest query, in characters.
pub const QUERY_MAX_CHARS: usize = 256;
/// Most words in a query (phrases count each word).
pub const QUERY_MAX_WORDS: usize = 12;
/// Shortest prefix a `*` may follow, in characters.
pub const PREFIX_MIN_CHARS: usize = 2;
/// Most highlighted ranges returned for one message.
const HIGHLIGHTS_MAX: usize = 32;

/// Why a query cannot be run (400 `invalid_query`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q: the query is empty or has no letters or digits")]
    Empty,
    #[error("q: at most {QUERY_MAX_CHARS} characters")]
    TooLong,
    #[error("q: at most {QUERY_MAX_WORDS} words")]
    TooManyWords,
    #[error("q: a prefix before `*` needs at least {PREFIX_MIN_CHARS} characters")]
    ShortPrefix,
}

/// One condition; every term of a query must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word, or with `prefix` any word starting with it (`wor*`).
    Word { text: String, prefix: bool },
    /// Words next to each other in this order (`"good morning"`).
    Phrase(Vec<String>),
}

/// A parsed query: words (all must match), `"quoted phrases"`, `prefix*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
}

/// A matched range of a message body, in UTF-16 code units (what
/// JavaScript string indices count), `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

impl SearchQuery {
    /// Parses `raw`: text between double quotes is a phrase (an unclosed
    /// quote runs to the end), other text splits at white space into
    /// words; a word ending in `*` is a prefix. Anything that is not a
    /// letter or digit separates words (a chunk such as `e-mail` becomes
    /// the phrase `"e mail"`, which is how both engines index it).
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        if raw.chars().count() > QUERY_MAX_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut terms = vec![];
        for (i, part) in raw.split('"').enumerate() {
            if i % 2 == 1 {
                push_phrase(&mut terms, words(part));
                continue;
            }
            for chunk in part.split_whitespace() {
                let (chunk, prefix) = match chunk.strip_suffix('*') {
                    Some(rest) => (rest.trim_end_matches('*'), true),
                    None => (chunk, false),
                };
                let mut ws = words(chunk);
                if ws.len() == 1 {
                    let text = ws.remove(0);
                    if prefix && text.chars().count() < PREFIX_MIN_CHARS {
                        return Err(QueryError::ShortPrefix);
                    }
                    terms.push(Term::Word { text, prefix });
                } else {
                    push_phrase(&mut terms, ws);
                }
            }
        }
        let count: usize = terms
            .iter()
            .map(|t| match t {
                Term::Word { .. } => 1,
                Term::Phrase(ws) => ws.len(),
            })
            .sum();
        if count == 0 {
            return Err(QueryError::Empty);
        }
        if count > QUERY_MAX_WORDS {
            return Err(QueryError::TooManyWords);
        }
        Ok(Self { terms })
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The FTS5 `MATCH` expression: each word a quoted string (letters and
    /// digits only, so never a quote inside), `"word"*` for a prefix,
    /// terms joined by `AND`.
    pub fn fts5(&self) -> String {
        let rendered: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::Word { text, prefix: true } => format!("\"{text}\"*"),
                Term::Word { text, .. } => format!("\"{text}\""),
                Term::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
            })
            .collect();
        rendered.join(" AND ")
    }

    /// The `to_tsquery('simple', …)` text: quoted lexemes (letters and
    /// digits only), `:*` for a prefix, `<->` inside phrases, `&` between.
    pub fn tsquery(&self) -> String {
        let rendered: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::Word { text, prefix: true } => format!("'{text}':*"),
                Term::Word { text, .. } => format!("'{text}'"),
                Term::Phrase(ws) => {
                    let quoted: Vec<String> = ws.iter().map(|w| format!("'{w}'")).collect();
                    format!("({})", quoted.join(" <-> "))
                }
            })
            .collect();
        rendered.join(" & ")
    }

    /// The words of `body` that a term matches (a phrase's words are
    /// marked wherever they occur), in UTF-16 code units, at most
    /// [`HIGHLIGHTS_MAX`].
    pub fn highlights(&self, body: &str) -> Vec<Highlight> {
        let mut out = vec![];
        for (start, end, word) in spans(body) {
            if self.matches(&word) {
                out.push(Highlight { start, end });
                if out.len() == HIGHLIGHTS_MAX {
                    break;
                }
            }
        }
        out
    }

    fn matches(&self, word: &str) -> bool {
        self.terms.iter().any(|t| match t {
            Term::Word { text, prefix } => {
                if *prefix {
                    word.starts_with(text.as_str())
                } else {
                    word == text
                }
            }
            Term::Phrase(ws) => ws.iter().any(|w| w == word),
        })
    }
}

fn push_phrase(terms: &mut Vec<Term>, mut ws: Vec<String>) {
    match ws.len() {
        0 => {}
        1 => terms.push(Term::Word {
            text: ws.remove(0),
            prefix: false,
        }),
        _ => terms.push(Term::Phrase(ws)),
    }
}

/// The lowercased runs of letters and digits in `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Each run of letters and digits in `body` with its UTF-16 range,
/// lowercased.
fn spans(body: &str) -> Vec<(usize, usize, String)> {
    let mut out = vec![];
    let mut pos = 0;
    let mut current: Option<(usize, String)> = None;
    for c in body.chars() {
        if c.is_alphanumeric() {
            current
                .get_or_insert_with(|| (pos, String::new()))
                .1
                .extend(c.to_lowercase());
        } else if let Some((start, word)) = current.take() {
            out.push((start, pos, word));
        }
        pos += c.len_utf16();
    }
    if let Some((start, word)) = current {
        out.push((start, pos, word));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, prefix: bool) -> Term {
        Term::Word {
            text: text.into(),
            prefix,
        }
    }

    #[test]
    fn words_phrases_and_prefixes() {
        let q = SearchQuery::parse(r#"Hello "good  Morning" wor* e-mail"#).unwrap();
        assert_eq!(
            q.terms(),
            &[
                word("hello", false),
                Term::Phrase(vec!["good".into(), "morning".into()]),
                word("wor", true),
                Term::Phrase(vec!["e".into(), "mail".into()]),
            ]
        );
        assert_eq!(
            q.fts5(),
            r#""hello" AND "good morning" AND "wor"* AND "e mail""#
        );
        assert_eq!(
            q.tsquery(),
            "'hello' & ('good' <-> 'morning') & 'wor':* & ('e' <-> 'mail')"
        );
    }

    /// Outside quotes, only `allowed`; inside, only letters, digits and
    /// spaces.
    fn only_words_quoted(rendered: &str, quote: char, allowed: &str) -> bool {
        rendered.split(quote).enumerate().all(|(i, part)| {
            if i % 2 == 1 {
                part.chars().all(|c| c.is_alphanumeric() || c == ' ')
            } else {
                part.chars().all(|c| allowed.contains(c))
            }
        })
    }

    #[test]
    fn engine_syntax_is_only_ever_words() {
        for hostile in [
            "NEAR(a b, 2)",
            "body: x",
            "{body} : x",
            "a OR b NOT c",
            "-x ^y +z",
            "x' & !y | z:*",
            "\"unclosed phrase",
            "a\0b",
            "(((x",
            "\\'\"",
        ] {
            let Ok(q) = SearchQuery::parse(hostile) else {
                continue;
            };
            assert!(only_words_quoted(&q.fts5(), '"', " AND*"), "{hostile:?}");
            assert!(
                only_words_quoted(&q.tsquery(), '\'', " &()<->:*"),
                "{hostile:?}"
            );
        }
        assert_eq!(SearchQuery::parse("a\0b").unwrap().fts5(), r#""a b""#);
    }

    #[test]
    fn bad_queries_are_named() {
        assert_eq!(SearchQuery::parse(""), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse(" \"\" * ()"), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("a*"), Err(QueryError::ShortPrefix));
        assert_eq!(
            SearchQuery::parse(&"x".repeat(QUERY_MAX_CHARS + 1)),
            Err(QueryError::TooLong)
        );
        assert_eq!(
            SearchQuery::parse(&"w ".repeat(QUERY_MAX_WORDS + 1)),
            Err(QueryError::TooManyWords)
        );
    }

    #[test]
    fn highlights_count_utf16_units() {
        let q = SearchQuery::parse("café wor*").unwrap();
        // "🙂" is two UTF-16 units.
        let body = "🙂 Café, World and words";
        assert_eq!(
            q.highlights(body),
            vec![
                Highlight { start: 3, end: 7 },
                Highlight { start: 9, end: 14 },
                Highlight { start: 19, end: 24 },
            ]
        );
    }
}
