//! The type of an upload, from its first bytes (the `infer` crate), never
//! from the client's `Content-Type`; and which types a browser may show
//! inline.

/// How many leading bytes [`sniff`] wants (fewer is fine for a short file).
pub const SNIFF_BYTES: usize = 8192;

/// What an upload is, by content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// `image`, `video`, `audio` or `file`.
    pub kind: &'static str,
    /// The MIME type served back.
    pub content_type: &'static str,
}

/// Image types Confab decodes, thumbnails and serves inline.
const IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Audio and video types served inline (browsers play them in a sandbox).
const PLAYABLE: &[&str] = &[
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/x-flac",
    "audio/m4a",
    "audio/opus",
];

/// The kind and type of content starting with `head`. Anything not
/// recognised is `file`, `application/octet-stream`.
pub fn sniff(head: &[u8]) -> Sniffed {
    let Some(found) = infer::get(head) else {
        return Sniffed {
            kind: "file",
            content_type: "application/octet-stream",
        };
    };
    let content_type = found.mime_type();
    let kind = if IMAGES.contains(&content_type) {
        "image"
    } else if PLAYABLE.contains(&content_type) && content_type.starts_with("video/") {
        "video"
    } else if PLAYABLE.contains(&content_type) {
        "audio"
    } else {
        "file"
    };
    Sniffed { kind, content_type }
}

/// Whether `content_type` may be shown inline by a browser; everything
/// else is served as `Content-Disposition: attachment`.
pub fn is_inline_safe(content_type: &str) -> bool {
    IMAGES.contains(&content_type) || PLAYABLE.contains(&content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_magic_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).content_type, "image/png");
        assert_eq!(sniff(png).kind, "image");
        assert_eq!(sniff(b"%PDF-1.7\n").content_type, "application/pdf");
        assert_eq!(sniff(b"%PDF-1.7\n").kind, "file");
        // HTML and SVG are text: never an image, never inline.
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>";
        assert_eq!(sniff(svg).kind, "file");
        assert!(!is_inline_safe(sniff(svg).content_type));
        assert!(!is_inline_safe("text/html"));
        assert!(is_inline_safe("image/webp"));
    }
}
