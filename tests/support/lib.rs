//! Helpers for end-to-end tests: make inputs, render through the public API, and read the
//! output back with ffmpeg/ffprobe (an independent decoder).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use samvideo_core::media::local::LocalSource;
use samvideo_core::render::{render_to_file, OutputFormat, RenderOptions, RenderSummary};
use samvideo_core::request::Endpoint;

/// Write a solid-colour PNG.
pub fn solid_png(dir: &Path, name: &str, w: u32, h: u32, rgba: [u8; 4]) -> PathBuf {
    let path = dir.join(name);
    image::RgbaImage::from_pixel(w, h, image::Rgba(rgba)).save(&path).expect("write png");
    path
}

/// Run ffmpeg with arguments, panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg").args(["-loglevel", "error", "-y"]).args(args).output().expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Render `spec` (a JSON body for `endpoint`) with media relative to `dir`.
pub fn render(dir: &Path, endpoint: Endpoint, spec: &serde_json::Value, out: &Path, format: OutputFormat) -> RenderSummary {
    let request = samvideo_core::validate::parse_create(endpoint, spec.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("spec rejected: {}", e.body));
    let options = RenderOptions { format, ..RenderOptions::default() };
    render_to_file(&request, Arc::new(LocalSource::new(dir)), out, &options).expect("render succeeds")
}

/// ffprobe's view of one stream (`v:0` or `a:0`): a map of the fields.
pub fn probe(path: &Path, stream: &str) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream, "-show_streams", "-show_format", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let mut s = v["streams"][0].clone();
    s["format"] = v["format"].clone();
    s
}

/// Decoded RGB24 frame at `t` seconds: (width, height, bytes).
pub fn frame_at(path: &Path, t: f64) -> (u32, u32, Vec<u8>) {
    let v = probe(path, "v:0");
    let w = v["width"].as_u64().expect("width") as u32;
    let h = v["height"].as_u64().expect("height") as u32;
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args(["-ss", &format!("{t}"), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success() && out.stdout.len() == (w * h * 3) as usize, "frame at {t}: {}", String::from_utf8_lossy(&out.stderr));
    (w, h, out.stdout)
}

/// Mean colour of a rectangle of an RGB24 frame.
pub fn mean_rgb(frame: &(u32, u32, Vec<u8>), x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
    let (w, _, data) = frame;
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * w + x) * 3) as usize;
            for c in 0..3 {
                sum[c] += data[i + c] as f64;
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// Assert a colour is within `tol` of `want` per channel.
pub fn assert_near(got: [f64; 3], want: [f64; 3], tol: f64, what: &str) {
    for c in 0..3 {
        assert!((got[c] - want[c]).abs() <= tol, "{what}: got {got:?}, want {want:?} ± {tol}");
    }
}

/// Decode the audio of `path` to 48 kHz mono f32 samples between `t0` and `t1`.
pub fn audio_mono(path: &Path, t0: f64, t1: f64) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args(["-ss", &format!("{t0}"), "-t", &format!("{}", t1 - t0), "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Level of one frequency in dBFS (Goertzel, amplitude of a sine).
pub fn tone_db(samples: &[f32], freq: f64) -> f64 {
    let n = samples.len() as f64;
    let k = 2.0 * (2.0 * std::f64::consts::PI * freq / 48_000.0).cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in samples {
        let s = x as f64 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2;
    20.0 * ((2.0 * power.sqrt() / n).max(1e-12)).log10()
}

/// Keep `OutputFormat` reachable for tests without importing core paths.
pub use samvideo_core::render::OutputFormat as Format;
