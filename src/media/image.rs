//! Image processing for uploads: bounded decoding, orientation applied,
//! metadata (EXIF, GPS) dropped by re-encoding, a JPEG thumbnail and a
//! blurhash. Animated GIF and WebP are kept as uploaded (their thumbnail
//! is the first frame). CPU-bound: callers run [`process`] on a blocking
//! thread.

use super::MediaError;
use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 400;

/// A processed image.
#[derive(Debug)]
pub struct Processed {
    /// What is stored and served: re-encoded, or the upload itself when
    /// animated.
    pub data: Bytes,
    pub content_type: &'static str,
    /// After orientation.
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
    /// A JPEG.
    pub thumbnail: Bytes,
}

/// Decodes `data` (refusing more than `max_pixels`), applies its
/// orientation, and re-encodes it without metadata; computes its
/// thumbnail and blurhash.
pub fn process(data: &[u8], max_pixels: u64) -> Result<Processed, MediaError> {
    let bad = |e: image::ImageError| MediaError::BadImage(format!("cannot read the image: {e}"));
    let reader = || {
        ImageReader::new(Cursor::new(data))
            .with_guessed_format()
            .map_err(|e| MediaError::BadImage(e.to_string()))
    };
    let format = reader()?
        .format()
        .ok_or_else(|| MediaError::BadImage("unknown image format".into()))?;
    let (w, h) = reader()?.into_dimensions().map_err(bad)?;
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(MediaError::BadImage(format!(
            "the image has {w}x{h} pixels; at most {max_pixels} are accepted"
        )));
    }
    let mut limits = Limits::default();
    // Room for the decoded frame (RGBA, 16 bits a channel at most) and the
    // decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    let mut reader = reader()?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().map_err(bad)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    let animated = is_animated(data, format);
    let (stored, content_type) = if animated {
        // Kept as uploaded: re-encoding would drop the animation.
        (Bytes::copy_from_slice(data), content_type_of(format))
    } else {
        img.apply_orientation(orientation);
        reencode(&img, format)?
    };
    let thumbnail = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut thumb = Vec::new();
    JpegEncoder::new_with_quality(&mut thumb, 80)
        .encode_image(&DynamicImage::ImageRgb8(thumbnail.to_rgb8()))
        .map_err(bad)?;
    let tiny = thumbnail.thumbnail(32, 32).to_rgba8();
    let blurhash = blurhash::encode(4, 3, tiny.width(), tiny.height(), tiny.as_raw())
        .map_err(|e| MediaError::BadImage(format!("blurhash: {e}")))?;
    Ok(Processed {
        data: stored,
        content_type,
        width: img.width(),
        height: img.height(),
        blurhash,
        thumbnail: Bytes::from(thumb),
    })
}

fn content_type_of(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        _ => "image/jpeg",
    }
}

/// Whether a GIF or WebP has more than one frame.
fn is_animated(data: &[u8], format: ImageFormat) -> bool {
    use image::AnimationDecoder;
    match format {
        ImageFormat::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(data))
            .map(|d| d.into_frames().take(2).count() > 1)
            .unwrap_or(false),
        ImageFormat::WebP => WebPDecoder::new(Cursor::new(data))
            .map(|d| d.has_animation())
            .unwrap_or(false),
        _ => false,
    }
}

/// The pixels of `img` in a fresh file of its format (PNG, JPEG at
/// quality 90, lossless WebP; a still GIF becomes PNG): nothing of the
/// original's metadata survives.
fn reencode(img: &DynamicImage, format: ImageFormat) -> Result<(Bytes, &'static str), MediaError> {
    let bad = |e: image::ImageError| MediaError::BadImage(format!("cannot re-encode: {e}"));
    let mut out = Vec::new();
    let content_type = match format {
        ImageFormat::Jpeg => {
            JpegEncoder::new_with_quality(&mut out, 90)
                .encode_image(&DynamicImage::ImageRgb8(img.to_rgb8()))
                .map_err(bad)?;
            "image/jpeg"
        }
        ImageFormat::WebP => {
            let rgba = img.to_rgba8();
            WebPEncoder::new_lossless(&mut out)
                .encode(
                    rgba.as_raw(),
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(bad)?;
            "image/webp"
        }
        _ => {
            img.write_with_encoder(PngEncoder::new(&mut out))
                .map_err(bad)?;
            "image/png"
        }
    };
    Ok((Bytes::from(out), content_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, _| Rgb([(x % 256) as u8, 40, 200]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    /// A JPEG with an APP1 EXIF segment (orientation 6: rotate 90° cw)
    /// carrying a marker string where GPS data would be.
    pub(crate) fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
        let plain = jpeg(w, h);
        // TIFF header (big endian), one IFD entry: 0x0112 SHORT 1 = 6.
        let mut tiff =
            b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        tiff.extend_from_slice(b"GPS-SECRET-48.8584N");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = (app1.len() + 2) as u16;
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn orientation_applied_and_metadata_dropped() {
        let data = jpeg_with_exif(64, 32);
        let p = process(&data, 1_000_000).unwrap();
        assert_eq!((p.width, p.height), (32, 64));
        assert_eq!(p.content_type, "image/jpeg");
        assert!(!p.data.windows(10).any(|w| w == b"GPS-SECRET"));
        assert!(p.thumbnail.starts_with(&[0xFF, 0xD8]));
        assert_eq!(p.blurhash.len(), 4 + 2 * 4 * 3);
    }

    #[test]
    fn pixel_bound_refuses_before_decoding() {
        let data = jpeg(100, 100);
        assert!(matches!(
            process(&data, 9_999),
            Err(MediaError::BadImage(m)) if m.contains("100x100")
        ));
        assert!(matches!(
            process(b"\x89PNG\r\n\x1a\ngarbage", 100),
            Err(MediaError::BadImage(_))
        ));
    }

    #[test]
    fn animated_gif_is_kept_as_uploaded() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame, RgbaImage};
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new(&mut out);
            for shade in [0u8, 255] {
                let img = RgbaImage::from_pixel(8, 6, image::Rgba([shade, 0, 0, 255]));
                enc.encode_frame(Frame::from_parts(
                    img,
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                ))
                .unwrap();
            }
        }
        let p = process(&out, 1_000_000).unwrap();
        assert_eq!(p.data.as_ref(), out.as_slice());
        assert_eq!((p.content_type, p.width, p.height), ("image/gif", 8, 6));
    }
}
