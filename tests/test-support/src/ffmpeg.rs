//! ffmpeg and ffprobe, the independent decoder the tests read outputs back with: run ffmpeg,
//! probe streams (JSON or CSV fields), decode one frame or a stretch of audio, measure SSIM.
//! Needs `ffmpeg` and `ffprobe` on PATH (Debian's package: libx264, librav1e, libmp3lame,
//! libvorbis, libvpx).

use std::path::Path;
use std::process::Command;

/// A decoded RGB24 frame: (width, height, bytes).
pub type Frame = (u32, u32, Vec<u8>);

/// A path as a `String`, for ffmpeg argument lists.
pub fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Run ffmpeg with `args` (quiet, overwriting outputs), panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Run ffmpeg with `args` and `dir/name` as its output; returns the file's bytes.
pub fn ffmpeg_file(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let mut all = args.to_vec();
    let out = s(&path);
    all.push(&out);
    ffmpeg(&all);
    std::fs::read(&path).expect("read ffmpeg's output")
}

/// ffprobe's view of one stream (`v:0` or `a:0`): a map of its fields, with the container's
/// fields under `format`.
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

/// `ffprobe -select_streams STREAMS -show_entries ENTRIES -of csv=p=0 FILE`, trimmed (one line
/// per stream or packet); panics with ffprobe's stderr if it fails. `streams` is a specifier
/// such as `v:0` or `a` (no match: empty output).
pub fn ffprobe_csv(file: &Path, streams: &str, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", streams, "-show_entries", entries, "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Container duration in seconds as ffprobe reports it.
pub fn duration_secs(path: &Path) -> f64 {
    ffprobe_csv(path, "v:0", "format=duration").parse().expect("duration")
}

/// Number of audio streams in `path`.
pub fn audio_streams(path: &Path) -> usize {
    ffprobe_csv(path, "a", "stream=index").lines().filter(|l| !l.trim().is_empty()).count()
}

/// The decoded RGB24 frame on screen at `t` seconds.
pub fn frame_at(path: &Path, t: f64) -> Frame {
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

/// Every decoded RGB24 frame of the video in `path`, in order (short, small videos only: the
/// frames are held in memory).
pub fn all_frames(path: &Path) -> Vec<Frame> {
    let v = probe(path, "v:0");
    let w = v["width"].as_u64().expect("width") as u32;
    let h = v["height"].as_u64().expect("height") as u32;
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg runs");
    let size = (w * h * 3) as usize;
    assert!(
        out.status.success() && !out.stdout.is_empty() && out.stdout.len().is_multiple_of(size),
        "frames of {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.chunks_exact(size).map(|f| (w, h, f.to_vec())).collect()
}

/// Mean colour of the rectangle `x0..x1` × `y0..y1` of a frame.
pub fn mean_rgb(frame: &Frame, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
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

/// The first audio track of `path` decoded by ffmpeg to 48 kHz f32 with `channels` channels
/// (interleaved), over `span` = (start, end) seconds or the whole track.
pub fn audio_f32(path: &Path, channels: u32, span: Option<(f64, f64)>) -> Vec<f32> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-loglevel", "error", "-i"]).arg(path);
    if let Some((t0, t1)) = span {
        cmd.args(["-ss", &format!("{t0}"), "-t", &format!("{}", t1 - t0)]);
    }
    let out = cmd
        .args(["-map", "0:a:0", "-ac", &channels.to_string(), "-ar", "48000", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The audio of `path` between `t0` and `t1` as 48 kHz mono (ffmpeg's downmix).
pub fn audio_mono(path: &Path, t0: f64, t1: f64) -> Vec<f32> {
    audio_f32(path, 1, Some((t0, t1)))
}

/// The audio of `path` between `t0` and `t1` as 48 kHz stereo, returned as the mid signal
/// `(L + R) / 2`. Unlike ffmpeg's `-ac 1` (whose stereo-to-mono gain depends on how the
/// decoder hands the stream over), this is the same arithmetic for every file.
pub fn audio_mid(path: &Path, t0: f64, t1: f64) -> Vec<f32> {
    audio_f32(path, 2, Some((t0, t1))).chunks_exact(2).map(|f| (f[0] + f[1]) / 2.0).collect()
}

/// SSIM of the Y plane per frame (ffmpeg's `ssim` filter) between two files of the same size
/// and frame rate, frames paired in order.
pub fn ssim_y_frames(a: &Path, b: &Path) -> Vec<f64> {
    // `stats_file=-`: one line per frame on stdout.
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-loglevel", "error", "-i"])
        .arg(a)
        .arg("-i")
        .arg(b)
        .args(["-lavfi", "[0:v][1:v]ssim=stats_file=-", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg ssim: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let y = l.split(" Y:").nth(1).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok());
            y.unwrap_or_else(|| panic!("no Y in ssim stats line {l:?}"))
        })
        .collect()
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
