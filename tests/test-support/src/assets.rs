//! Test inputs made at test time: still images (solid PNGs, ffmpeg's test card, a gradient in
//! any format the `image` crate writes), 16-bit WAV files from a formula, and H.264 clips
//! with sound made by ffmpeg.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use crate::ffmpeg::{ffmpeg, s};

/// Write a solid-colour `w`x`h` PNG to `dir/name`.
pub fn solid_png(dir: &Path, name: &str, w: u32, h: u32, rgba: [u8; 4]) -> PathBuf {
    let path = dir.join(name);
    image::RgbaImage::from_pixel(w, h, image::Rgba(rgba)).save(&path).expect("write png");
    path
}

/// Write ffmpeg's `w`x`h` test card (`testsrc`: colour bars, a gradient, a counter) to
/// `path`, in the format its extension names.
pub fn test_card_png(path: &Path, w: u32, h: u32) {
    ffmpeg(&["-f", "lavfi", "-i", &format!("testsrc=size={w}x{h}:rate=1"), "-frames:v", "1", &s(path)]);
}

/// A 48x32 gradient encoded as `format` (JPEG without alpha): a small valid file of each
/// image format.
pub fn gradient_image(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(48, 32, |x, y| image::Rgba([(x * 5) as u8, (y * 7) as u8, 90, 255]));
    let mut out = Vec::new();
    let dynamic = image::DynamicImage::ImageRgba8(img);
    let dynamic =
        if format == image::ImageFormat::Jpeg { image::DynamicImage::ImageRgb8(dynamic.to_rgb8()) } else { dynamic };
    dynamic.write_to(&mut Cursor::new(&mut out), format).expect("encode");
    out
}

/// A 16-bit PCM WAV file of `secs` seconds: `f(t, channel)` gives the sample in -1..=1.
pub fn wav_bytes(rate: u32, channels: u16, secs: f64, f: impl Fn(f64, u16) -> f64) -> Vec<u8> {
    let frames = (secs * rate as f64).round() as usize;
    let data_len = frames * channels as usize * 2;
    let mut v = Vec::with_capacity(44 + data_len);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    v.extend_from_slice(&(channels * 2).to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data_len as u32).to_le_bytes());
    for i in 0..frames {
        let t = i as f64 / rate as f64;
        for c in 0..channels {
            let s = (f(t, c).clamp(-1.0, 1.0) * 32767.0).round() as i16;
            v.extend_from_slice(&s.to_le_bytes());
        }
    }
    v
}

/// [`wav_bytes`] written to `dir/name`.
pub fn write_wav(dir: &Path, name: &str, rate: u32, channels: u16, secs: f64, f: impl Fn(f64, u16) -> f64) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wav_bytes(rate, channels, secs, f)).expect("write wav");
    path
}

/// An H.264 clip like phones and editors make, written to `path`: ffmpeg's `testsrc2`
/// (moving pattern, frame counter) at `size` (`WxH`) and `fps`, x264 High with 3 B-frames,
/// and a sine tone at `tone_hz` in 48 kHz stereo AAC. (Stereo, because ffmpeg's own
/// mono-to-stereo upmix is -3 dB, which would skew comparisons of levels.)
pub fn h264_clip(path: &Path, size: &str, fps: u32, secs: f64, tone_hz: u32) -> PathBuf {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={size}:rate={fps}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency={tone_hz}:sample_rate=48000"),
        "-t",
        &secs.to_string(),
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "3",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-b:a",
        "128k",
        "-shortest",
        &s(path),
    ]);
    path.to_path_buf()
}
