//! Plain text to the HTML peers expect in `content` and `summary`, and back.
//! Everything we emit is escaped; everything we receive is reduced to text,
//! so no remote markup ever reaches a client.

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

/// The text of an HTML fragment: paragraphs become blank lines, `<br>` a
/// line break, other tags vanish and entities are decoded.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        match name {
            "br" => out.push('\n'),
            "p" if tag.starts_with('/') => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    decode_entities(out.trim_end())
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
}
