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
pub fn render(
    dir: &Path,
    endpoint: Endpoint,
    spec: &serde_json::Value,
    out: &Path,
    format: OutputFormat,
) -> RenderSummary {
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
    assert!(
        out.status.success() && out.stdout.len() == (w * h * 3) as usize,
        "frame at {t}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
        .args([
            "-ss",
            &format!("{t0}"),
            "-t",
            &format!("{}", t1 - t0),
            "-vn",
            "-ac",
            "1",
            "-ar",
            "48000",
            "-f",
            "f32le",
            "-",
        ])
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

/// Render `spec` expecting failure; returns the error as the user sees it (its `Display`).
pub fn render_error(dir: &Path, endpoint: Endpoint, spec: &serde_json::Value, out: &Path) -> String {
    let request = samvideo_core::validate::parse_create(endpoint, spec.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("spec rejected: {}", e.body));
    match render_to_file(&request, Arc::new(LocalSource::new(dir)), out, &RenderOptions::default()) {
        Ok(s) => panic!("render succeeded ({} frames) but should have failed", s.frames),
        Err(e) => e.to_string(),
    }
}

/// Container duration in seconds as ffprobe reports it.
pub fn duration_secs(path: &Path) -> f64 {
    probe(path, "v:0")["format"]["duration"].as_str().and_then(|d| d.parse().ok()).expect("duration")
}

/// Mean SSIM (ffmpeg's `ssim` filter, "All") between `out` from `out_start` and `src` from
/// `src_start`, over `secs` seconds. `src_filter` (e.g. `scale=854:480` or
/// `fps=30,transpose=clock,scale=480:854`) brings the source to the output's geometry;
/// frames are paired by timestamp.
pub fn ssim(out: &Path, out_start: f64, src: &Path, src_start: f64, secs: f64, src_filter: &str) -> f64 {
    ssim_with(out, out_start, "null", src, src_start, secs, src_filter)
}

/// [`ssim`] with a filter on the output side too (e.g. `crop=480:480:187:0` to compare
/// only the region a letterboxed clip covers).
pub fn ssim_with(
    out: &Path,
    out_start: f64,
    out_filter: &str,
    src: &Path,
    src_start: f64,
    secs: f64,
    src_filter: &str,
) -> f64 {
    let graph = format!(
        "[0:v]trim=start={out_start}:duration={secs},setpts=PTS-STARTPTS,{out_filter},format=yuv420p[a];\
         [1:v]trim=start={src_start}:duration={secs},setpts=PTS-STARTPTS,{src_filter},format=yuv420p[b];\
         [a][b]ssim=shortest=1"
    );
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(out)
        .arg("-i")
        .arg(src)
        .args(["-filter_complex", &graph, "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg ssim: {text}");
    text.lines()
        .filter_map(|l| l.split(" All:").nth(1))
        .filter_map(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
        .next_back()
        .unwrap_or_else(|| panic!("no SSIM in ffmpeg output: {text}"))
}

/// Number of audio streams in `path`.
pub fn audio_streams(path: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count()
}

/// Peak resident memory of this process so far (`VmHWM`), in kB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Decode the audio of `path` between `t0` and `t1` as 48 kHz stereo and return the mid
/// signal `(L + R) / 2`. Unlike ffmpeg's `-ac 1` (whose stereo-to-mono gain depends on how
/// the decoder hands the stream over), this is the same arithmetic for every file.
pub fn audio_mid(path: &Path, t0: f64, t1: f64) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-ss",
            &format!("{t0}"),
            "-t",
            &format!("{}", t1 - t0),
            "-vn",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-f",
            "f32le",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
        .chunks_exact(8)
        .map(|b| {
            let l = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let r = f32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            (l + r) / 2.0
        })
        .collect()
}

/// The allocator of every end-to-end test binary is the one the `samvideo` binary ships with
/// (see `samvideo-http/src/main.rs`), so memory measured here is memory users see.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
