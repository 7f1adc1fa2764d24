//! Still images: JPEG, PNG, WebP, GIF (first frame), with EXIF orientation applied.
//!
//! Enter: fetched bytes. Leave: an [`Rgba`] picture. The pixel count is checked from the
//! header before any pixel is decoded, so a 20000x20000 "bomb" costs nothing.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

use super::MediaError;
use crate::frame::Rgba;

/// Default largest picture accepted: 50 megapixels.
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// Decode an image, refusing more than `max_pixels` pixels.
pub fn decode_image(bytes: &[u8], max_pixels: u64) -> Result<Rgba, MediaError> {
    let not_image = || MediaError::Decode("not a supported image (JPEG, PNG, WebP, GIF)".into());
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| not_image())?;
    if reader.format().is_none() {
        return Err(not_image());
    }
    let (w, h) = reader.into_dimensions().map_err(|e| MediaError::Decode(format!("not a supported image: {e}")))?;
    let pixels = w as u64 * h as u64;
    if pixels > max_pixels {
        return Err(MediaError::Limit(format!("{w}x{h} exceeds the {} MP limit", max_pixels / 1_000_000)));
    }
    if w == 0 || h == 0 {
        return Err(not_image());
    }
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| not_image())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| MediaError::Decode(format!("not a supported image: {e}")))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Decode(format!("corrupt image: {e}")))?;
    img.apply_orientation(orientation);
    let rgba = img.into_rgba8();
    Ok(Rgba { width: rgba.width(), height: rgba.height(), data: rgba.into_raw() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([10, 20, 30, 255]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn decodes_png() {
        let img = decode_image(&png(6, 4), DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!((img.width, img.height), (6, 4));
        assert_eq!(img.pixel(3, 2), [10, 20, 30, 255]);
    }

    #[test]
    fn refuses_too_many_pixels_from_the_header() {
        let err = decode_image(&png(100, 100), 5000).unwrap_err();
        assert_eq!(err.to_string(), "100x100 exceeds the 0 MP limit");
    }

    #[test]
    fn garbage_is_not_an_image() {
        assert!(matches!(decode_image(b"hello world", DEFAULT_MAX_PIXELS), Err(MediaError::Decode(_))));
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert!(decode_image(&truncated, DEFAULT_MAX_PIXELS).is_err());
    }
}
