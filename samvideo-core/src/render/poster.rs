//! The poster frame: a JPEG of one composited frame, taken from the lossless canvas before
//! YUV conversion and encoding, at the video's size.
//!
//! Enter: the canvas of frame `plan.poster_frame` (from whichever frame loop composites it:
//! one MP4 segment worker, or the Y4M thread). Leave: a JPEG file at the path the caller
//! asked for in [`RenderOptions::poster`](super::RenderOptions::poster).

use std::io::{BufWriter, Write};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;

use super::api::RenderError;
use crate::frame::Rgba;

/// JPEG quality of posters: visually lossless for thumbnails, ~10x smaller than PNG.
pub const POSTER_JPEG_QUALITY: u8 = 90;

/// Write `canvas` (opaque RGBA) as a baseline JPEG at `path`.
pub(super) fn write_poster(canvas: &Rgba, path: &Path) -> Result<(), RenderError> {
    let rgb: Vec<u8> = canvas.data.chunks_exact(4).flat_map(|px| [px[0], px[1], px[2]]).collect();
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    JpegEncoder::new_with_quality(&mut out, POSTER_JPEG_QUALITY)
        .encode(&rgb, canvas.width, canvas.height, ExtendedColorType::Rgb8)
        .map_err(|e| std::io::Error::other(format!("poster JPEG: {e}")))?;
    out.flush()?;
    Ok(())
}
