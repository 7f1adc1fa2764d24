//! Audio end to end: JSON spec -> `render_to_file` -> MP4 -> decoded by ffmpeg/ffprobe.
//!
//! What a viewer hears: an Opus track at 48 kHz stereo exactly as long as the picture, music
//! fading in and out with the documented equal-power shape, a short song looping without a
//! click, clicks in the voice landing on the frames they were cut for (also after 60 s, also
//! from MP3 and AAC sources whose encoders add priming), no sample above full scale when a
//! full-scale voice meets full-scale music, no audio track when there is no audio input, and
//! images sharing the voice-over's length.
//!
//! Renders are 480x480 (`1:1`, `output_quality: low`, the smallest output) at 15 fps with
//! still images, so most of the cost is the one 61 s render of the A/V sync test.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::support::*;
use samvideo_core::media::local::LocalSource;
use samvideo_core::render::{plan_request, RenderOptions};
use samvideo_core::request::Endpoint;
use serde_json::{json, Value};

const FPS: f64 = 15.0;
const RATE: f64 = 48_000.0;

/// Encode `src` into `name` with ffmpeg codec arguments.
fn encode(dir: &Path, src: &Path, name: &str, codec: &[&str]) {
    let out = dir.join(name);
    let mut args = vec!["-i", src.to_str().expect("utf-8 path")];
    args.extend_from_slice(codec);
    args.push(out.to_str().expect("utf-8 path"));
    ffmpeg(&args);
}

/// A 2 ms 3 kHz burst at 0.8 starting at each of `at` (seconds): a click with a sharp onset.
fn clicks(at: &'static [f64]) -> impl Fn(f64, u16) -> f64 {
    move |t, _| {
        if at.iter().any(|&a| t >= a && t < a + 0.002) {
            0.8 * (2.0 * PI * 3000.0 * t).sin()
        } else {
            0.0
        }
    }
}

fn black_and_white(dir: &Path) {
    solid_png(dir, "black.png", 64, 64, [0, 0, 0, 255]);
    solid_png(dir, "white.png", 64, 64, [255, 255, 255, 255]);
}

/// `1:1`, low quality, 15 fps, plus `extra` settings.
fn settings(extra: Value) -> Value {
    let mut s = json!({"aspect_ratio": "1:1", "output_quality": "low", "fps": FPS as u32});
    if let (Some(s), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    s
}

fn still(url: &str, secs: f64) -> Value {
    json!({"type": "image", "url": url, "duration": secs})
}

fn f64_field(v: &Value, key: &str) -> f64 {
    v[key].as_str().and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The left channel of the whole audio track as ffmpeg decodes it (48 kHz; ffmpeg's own
/// stereo-to-mono downmix would add 3 dB), and where the track starts (s).
fn decoded_audio(path: &Path) -> (f64, Vec<f32>) {
    let start = f64_field(&probe(path, "a:0"), "start_time");
    (start, decoded_stereo(path).chunks_exact(2).map(|f| f[0]).collect())
}

/// Both channels of the whole audio track, interleaved, as ffmpeg decodes them.
fn decoded_stereo(path: &Path) -> Vec<f32> {
    audio_f32(path, 2, None)
}

/// Mean luma (0..255) of every decoded video frame, in presentation order.
fn frame_lumas(path: &Path) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-fps_mode", "passthrough", "-vf", "scale=8:8,format=gray", "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(64).map(|f| f.iter().map(|&p| p as f64).sum::<f64>() / 64.0).collect()
}

/// Time (s, in `samples`' own clock) of the first sample reaching half the loudest one within
/// `t0..t1`.
fn onset(samples: &[f32], t0: f64, t1: f64) -> f64 {
    let a = ((t0 * RATE) as usize).min(samples.len());
    let b = ((t1 * RATE) as usize).min(samples.len());
    let window = &samples[a..b];
    let peak = window.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.1, "no click between {t0} and {t1} s (peak {peak})");
    let i = window.iter().position(|x| x.abs() >= 0.5 * peak).unwrap_or(0);
    (a + i) as f64 / RATE
}

/// Level (dBFS of a sine) of `freq` in the 50 ms window centred on `t`.
fn level_at(samples: &[f32], t: f64, freq: f64) -> f64 {
    let a = ((t - 0.025) * RATE).round().max(0.0) as usize;
    let b = (a + 2400).min(samples.len());
    tone_db(&samples[a..b], freq)
}

fn sine(freq: f64, amp: f64) -> impl Fn(f64, u16) -> f64 {
    move |t, _| amp * (2.0 * PI * freq * t).sin()
}

#[test]
fn opus_track_is_48k_stereo_and_exactly_as_long_as_the_video() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    write_wav(p, "voice.wav", 44_100, 1, 2.0, sine(440.0, 0.3));
    // The music is longer than the video: it is cut at the video's end.
    write_wav(p, "music.wav", 48_000, 2, 10.0, sine(660.0, 0.3));
    // 2.2 s: not a whole number of 20 ms Opus packets after the 312-sample pre-skip.
    let spec = json!({"media_list": [still("black.png", 2.2)], "voice_url": "voice.wav",
        "background_url": "music.wav", "settings": settings(json!({}))});
    let out = p.join("a.mp4");
    let s = render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    assert_eq!(s.frames, 33);
    let a = probe(&out, "a:0");
    let v = probe(&out, "v:0");
    assert_eq!(a["codec_name"], "opus");
    assert_eq!(a["sample_rate"], "48000");
    assert_eq!(a["channels"], 2);
    let (ad, vd, fd) = (f64_field(&a, "duration"), f64_field(&v, "duration"), f64_field(&a["format"], "duration"));
    eprintln!("audio {ad} s, video {vd} s, file {fd} s, audio start {}", a["start_time"]);
    assert!((vd - 2.2).abs() < 1e-3, "video {vd}");
    // The edit list trims pre-skip and the last packet's padding: same length to the ms,
    // well inside the one-frame (66.7 ms) requirement.
    assert!((ad - vd).abs() <= 0.001, "audio {ad} s vs video {vd} s");
    assert!((fd - vd).abs() <= 0.001, "file {fd} s vs video {vd} s");
    assert_eq!(f64_field(&a, "start_time"), 0.0);
    // Both tones are there, in both channels, to the end.
    let st = decoded_stereo(&out);
    let left: Vec<f32> = st.chunks_exact(2).map(|f| f[0]).collect();
    let right: Vec<f32> = st.chunks_exact(2).map(|f| f[1]).collect();
    for ch in [&left, &right] {
        assert!(level_at(ch, 1.0, 440.0) > -25.0 && level_at(ch, 1.0, 660.0) > -35.0);
        assert!(level_at(ch, 2.15, 660.0) > -35.0, "music until the end");
    }
}

#[test]
fn a_video_without_audio_input_has_no_audio_track() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    let spec = json!({"media_list": [still("black.png", 1.0)], "settings": settings(json!({}))});
    let out = p.join("silent.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let streams = ffprobe_csv(&out, "a", "stream=codec_name");
    assert_eq!(streams, "", "audio stream in a video without audio input");
    assert!((f64_field(&probe(&out, "v:0")["format"], "duration") - 1.0).abs() < 1e-3);
}

/// `audio_fade_in`/`audio_fade_out` follow the documented equal-power curve
/// `gain = sin(x * pi / 2)`: -8.3 dB a quarter in, -3 dB halfway, -0.7 dB three quarters in.
#[test]
fn music_fades_in_and_out_with_the_equal_power_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    write_wav(p, "music.wav", 44_100, 2, 8.0, sine(880.0, 0.5));
    encode(p, &p.join("music.wav"), "music.flac", &["-c:a", "flac"]);
    let spec = json!({"media_list": [still("black.png", 6.0)], "background_url": "music.flac",
        "settings": settings(json!({"audio_fade_in": 2.0, "audio_fade_out": 2.0}))});
    let out = p.join("fade.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let (start, a) = decoded_audio(&out);
    assert_eq!(start, 0.0);
    let full = level_at(&a, 3.0, 880.0);
    assert!((full - 20.0 * 0.5f64.log10()).abs() < 0.5, "steady level {full:.2} dB");
    let expect = |x: f64| 20.0 * (x * PI / 2.0).sin().log10();
    let mut report = Vec::new();
    for (t, x) in [(0.5, 0.25), (1.0, 0.5), (1.5, 0.75), (4.5, 0.75), (5.0, 0.5), (5.5, 0.25)] {
        let got = level_at(&a, t, 880.0) - full;
        report.push(format!("t={t}: {got:+.2} dB (want {:+.2})", expect(x)));
        assert!((got - expect(x)).abs() < 0.6, "{}", report.join(", "));
    }
    eprintln!("fade levels: {}", report.join(", "));
    // Silent at the very start and end, rising and falling monotonically in between.
    assert!(level_at(&a, 0.03, 880.0) - full < -25.0);
    assert!(level_at(&a, 5.97, 880.0) - full < -25.0);
    let rise: Vec<f64> = (1..20).map(|k| level_at(&a, k as f64 * 0.1, 880.0)).collect();
    assert!(rise.windows(2).all(|w| w[1] > w[0] - 0.2), "fade-in not monotonic: {rise:?}");
    let fall: Vec<f64> = (41..60).map(|k| level_at(&a, k as f64 * 0.1, 880.0)).collect();
    assert!(fall.windows(2).all(|w| w[1] < w[0] + 0.2), "fade-out not monotonic: {fall:?}");
}

/// Largest |second difference| of a signal: a smooth tone has A*(2*pi*f/fs)^2, a click or a
/// phase jump a large fraction of the step.
fn max_curvature(x: &[f32]) -> f32 {
    x.windows(3).map(|w| (w[2] - 2.0 * w[1] + w[0]).abs()).fold(0.0, f32::max)
}

#[test]
fn short_music_loops_to_fill_without_a_click() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    // 0.73 s of 440 Hz: 321.2 cycles, so a bare loop would jump in phase at every seam.
    write_wav(p, "loop.wav", 44_100, 1, 0.73, sine(440.0, 0.5));
    encode(p, &p.join("loop.wav"), "loop.ogg", &["-c:a", "libvorbis", "-q:a", "6"]);
    let spec = json!({"media_list": [still("black.png", 4.0)], "background_url": "loop.ogg",
        "settings": settings(json!({"loop_audio": true}))});
    let out = p.join("loop.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let (_, a) = decoded_audio(&out);
    // Sounds to the end of the 4 s video at the source level.
    for t in [0.5, 1.5, 2.5, 3.5, 3.9] {
        let l = level_at(&a, t, 440.0);
        assert!((l - 20.0 * 0.5f64.log10()).abs() < 1.0, "loop level {l:.2} dB at {t} s");
    }
    // No click: the curvature stays near a pure 440 Hz tone's (0.5 * 0.0576^2 = 0.0017),
    // everywhere including the 5 seams, away from the first and last 10 ms (declick fades).
    let body = &a[480..a.len().min(4 * 48_000) - 480];
    let c = max_curvature(body);
    eprintln!("loop: max curvature {c:.4} (pure tone 0.0017)");
    assert!(c < 0.02, "click in the looped music: curvature {c}");
    // The measure does catch a click: the same tone with one phase jump.
    let mut jumped: Vec<f32> = (0..48_000).map(|i| (0.5 * (2.0 * PI * 440.0 * i as f64 / RATE).sin()) as f32).collect();
    for (i, s) in jumped.iter_mut().enumerate().skip(24_000) {
        *s = (0.5 * (2.0 * PI * 440.0 * (i as f64 / RATE) + 1.0).sin()) as f32;
    }
    assert!(max_curvature(&jumped) > 0.1);
}

/// The AAC track of an H.264 file against the Opus track of the same spec: a looped 1 kHz
/// tone at -12 dBFS keeps its level within 0.5 dB of the Opus path all along, and the AAC
/// track has no click at the loop seams (the same curvature check as for Opus above).
#[test]
fn aac_matches_opus_in_level_and_loops_without_a_click() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    // 0.73 s of 1 kHz: the seams land mid-cycle, so only the crossfade keeps them smooth.
    write_wav(p, "tone.wav", 48_000, 1, 0.73, sine(1000.0, 0.2512));
    encode(p, &p.join("tone.wav"), "tone.ogg", &["-c:a", "libvorbis", "-q:a", "8"]);
    let render_codec = |codec: &str| {
        let spec = json!({"media_list": [still("black.png", 3.0)], "background_url": "tone.ogg",
            "settings": settings(json!({"loop_audio": true, "output_codec": codec}))});
        let out = p.join(format!("{codec}.mp4"));
        render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
        out
    };
    let (opus, aac) = (render_codec("av1"), render_codec("h264"));
    assert_eq!(probe(&aac, "a:0")["codec_name"], "aac");
    let (_, o) = decoded_audio(&opus);
    let (_, a) = decoded_audio(&aac);
    for t in [0.3, 0.8, 1.5, 2.2, 2.9] {
        let (lo, la) = (level_at(&o, t, 1000.0), level_at(&a, t, 1000.0));
        eprintln!("1 kHz at {t} s: Opus {lo:.2} dBFS, AAC {la:.2} dBFS");
        assert!((lo - la).abs() <= 0.5, "AAC {la:.2} vs Opus {lo:.2} dB at {t} s");
        assert!((la + 12.0).abs() <= 0.5, "AAC level {la:.2} dBFS");
    }
    // Away from the fade-ins/outs at the ends (and the AAC track's 21 ms of priming).
    let body = &a[2_400..a.len().min(3 * 48_000) - 2_400];
    let c = max_curvature(body);
    eprintln!("AAC loop: max curvature {c:.4} (pure tone 0.0043)");
    assert!(c < 0.02, "click in the AAC track: curvature {c}");
}

/// A click in the voice cut to line up with a one-frame white flash still does so at the end
/// of a 61 s video. Also checks AAC priming (44.1 kHz AAC in M4A) is trimmed on decode.
#[test]
fn clicks_stay_on_their_flash_frames_over_60_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    let src = write_wav(p, "clicks.wav", 44_100, 1, 61.0, clicks(&[1.0, 59.0]));
    encode(p, &src, "clicks.m4a", &["-c:a", "aac", "-b:a", "128k"]);
    let frame = 1.0 / FPS;
    let spec = json!({"media_list": [
            still("black.png", 1.0), still("white.png", frame), still("black.png", 58.0 - frame),
            still("white.png", frame), still("black.png", 2.0 - frame)],
        "voice_url": "clicks.m4a", "settings": settings(json!({}))});
    let out = p.join("sync.mp4");
    let started = std::time::Instant::now();
    let s = render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    eprintln!("61 s render: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(s.frames, 915);
    let v = probe(&out, "v:0");
    assert_eq!(f64_field(&v, "start_time"), 0.0);
    let lumas = frame_lumas(&out);
    assert_eq!(lumas.len(), 915);
    let flashes: Vec<f64> =
        lumas.iter().enumerate().filter(|(_, l)| **l > 128.0).map(|(i, _)| i as f64 / FPS).collect();
    assert_eq!(flashes.len(), 2, "flash frames at {flashes:?}");
    let (start, a) = decoded_audio(&out);
    let mut offsets = Vec::new();
    for &flash in &flashes {
        let click = start + onset(&a, flash - 0.5, flash + 0.5);
        offsets.push(click - flash);
    }
    eprintln!(
        "A/V: flashes at {flashes:?} s, click - flash = {:+.2} ms at 1 s, {:+.2} ms at 59 s",
        offsets[0] * 1000.0,
        offsets[1] * 1000.0
    );
    // The requirement is one frame (66.7 ms); the pipeline is sample-exact, so hold it to
    // 2 ms: an untrimmed AAC priming (23 ms) or Opus pre-skip (6.5 ms) would fail here.
    for o in &offsets {
        assert!(o.abs() < frame && o.abs() < 0.002, "click {:.2} ms from its flash", o * 1000.0);
    }
    assert!((offsets[1] - offsets[0]).abs() < 0.0005, "drift over 58 s: {:?}", offsets);
    let ad = f64_field(&probe(&out, "a:0"), "duration");
    assert!((ad - 61.0).abs() <= 0.001, "audio {ad} s");
}

/// Encoder priming in MP3 (LAME, 44.1 kHz) and AAC (M4A, 48 kHz) sources is trimmed: a click
/// at 0.5 s in the source is at 0.5 s in the video, to the millisecond.
#[test]
fn mp3_and_aac_clicks_keep_their_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    let voice = write_wav(p, "voice.wav", 44_100, 1, 2.0, clicks(&[0.5]));
    encode(p, &voice, "voice.mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]);
    let music = write_wav(p, "music.wav", 48_000, 2, 2.0, clicks(&[1.25]));
    encode(p, &music, "music.m4a", &["-c:a", "aac", "-b:a", "128k"]);
    // Explicit music volume: no ducking, so the music click is at full level.
    let spec = json!({"media_list": [still("black.png", 2.0)], "voice_url": "voice.mp3",
        "background_url": "music.m4a", "settings": settings(json!({"audio_volume": 1.0}))});
    let out = p.join("prime.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let (start, a) = decoded_audio(&out);
    let voice_click = start + onset(&a, 0.25, 0.75);
    let music_click = start + onset(&a, 1.0, 1.5);
    eprintln!(
        "mp3 click at {:.2} ms (want 500), m4a click at {:.2} ms (want 1250)",
        voice_click * 1e3,
        music_click * 1e3
    );
    assert!((voice_click - 0.5).abs() < 0.001, "mp3 click at {voice_click} s");
    assert!((music_click - 1.25).abs() < 0.001, "m4a click at {music_click} s");
}

/// A full-scale voice and full-scale music at `audio_volume: 1` sum to twice full scale; the
/// limiter keeps every decoded sample at or below full scale, without pumping to silence.
#[test]
fn full_scale_voice_and_music_never_exceed_full_scale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    write_wav(p, "voice.wav", 48_000, 1, 3.0, sine(440.0, 1.0));
    write_wav(p, "music.wav", 44_100, 2, 3.0, sine(550.0, 1.0));
    let spec = json!({"media_list": [still("black.png", 3.0)], "voice_url": "voice.wav",
        "background_url": "music.wav", "settings": settings(json!({"audio_volume": 1.0}))});
    let out = p.join("loud.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let st = decoded_stereo(&out);
    let peak = st.iter().fold(0f32, |m, x| m.max(x.abs()));
    let mono: Vec<f32> = st.chunks_exact(2).map(|f| f[0]).collect();
    let (v, m) = (level_at(&mono, 1.5, 440.0), level_at(&mono, 1.5, 550.0));
    eprintln!(
        "loud sum: decoded peak {peak:.4} ({:+.2} dBFS), voice {v:.2} dB, music {m:.2} dB",
        20.0 * (peak as f64).log10()
    );
    assert!(peak <= 1.0, "sample above full scale: {peak}");
    // Limited, not silenced: both tones are still loud and equal.
    assert!(v > -9.0 && m > -9.0 && (v - m).abs() < 1.0, "voice {v} dB, music {m} dB");
}

/// Images without durations share the voice-over: the video covers the voice and ends at most
/// 1.5 s after it, whatever the number of images (also with transitions).
#[test]
fn images_share_the_voice_over_length() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    write_wav(p, "voice.wav", 44_100, 1, 5.3, sine(440.0, 0.3));
    let images = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let url = if i % 2 == 0 { "black.png" } else { "white.png" };
                json!({"type": "image", "url": url})
            })
            .collect()
    };
    let spec = json!({"media_list": images(3), "voice_url": "voice.wav", "settings": settings(json!({}))});
    let out = p.join("share.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let vd = f64_field(&probe(&out, "v:0"), "duration");
    let ad = f64_field(&probe(&out, "a:0"), "duration");
    eprintln!("voice 5.3 s, 3 images: video {vd} s, audio {ad} s");
    assert!((5.3..=5.3 + 1.5).contains(&vd), "video {vd} s for a 5.3 s voice");
    assert!((ad - vd).abs() <= 0.001);
    let (_, a) = decoded_audio(&out);
    assert!(level_at(&a, 5.25, 440.0) > -15.0, "voice cut before its end");

    // The same rule at the plan level (no encode) for other shapes.
    write_wav(p, "long.wav", 8_000, 1, 75.0, sine(440.0, 0.3));
    write_wav(p, "short.wav", 8_000, 1, 2.0, sine(440.0, 0.3));
    let cases = [
        ("voice.wav", 5.3, 3, json!({})),
        ("voice.wav", 5.3, 4, json!({"transition_type": "fade", "transition_duration": 0.5})),
        ("voice.wav", 5.3, 7, json!({"fps": 30})),
        ("long.wav", 75.0, 2, json!({})),
        ("short.wav", 2.0, 20, json!({})),
        ("short.wav", 2.0, 12, json!({"transition_type": "fade"})),
    ];
    for (voice, secs, n, extra) in cases {
        let spec = json!({"media_list": images(n), "voice_url": voice, "settings": settings(extra.clone())});
        let request = samvideo_core::validate::parse_create(Endpoint::MixVideo, spec.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("spec rejected: {}", e.body));
        let plan = plan_request(&request, Arc::new(LocalSource::new(p)), &RenderOptions::default()).expect("plan");
        let d = plan.duration_secs();
        eprintln!("voice {secs} s, {n} images {extra}: video {d:.3} s");
        assert!(d >= secs && d <= secs + 1.5, "voice {secs} s, {n} images, {extra}: video {d} s");
    }
}

/// A voice-over of `secs` seconds: speech-like bursts of a gliding tone, 44.1 kHz mono AAC in
/// M4A (resampled and priming-trimmed on decode, like a phone recording).
fn long_voice(dir: &Path, secs: u32, name: &str) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.3*sin(2*PI*(300+100*sin(t))*t)*lt(mod(t\\,1.4)\\,0.7):s=44100",
        "-t",
        &secs.to_string(),
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        path.to_str().expect("utf-8 path"),
    ]);
    path
}

/// Child half of the audio memory tests (does nothing when run on its own). With
/// `SAMVIDEO_MEM_MODE=render` it renders one 480x480 still for 20 s with the voice-over in
/// `SAMVIDEO_MEM_VOICE` and looped music; with `stream` or `whole` it runs only the audio side
/// of a render over the whole voice (ducked under looped music, mixed, Opus-encoded), from
/// streamed sources (`stream`, what the renderer does) or from whole-file decodes (`whole`,
/// what it did before). Prints the peak RSS and the audio CPU time.
#[test]
#[ignore = "run by the memory tests in a child process"]
fn audio_memory_child() {
    use samvideo_core::audio::{
        audio_frames, decode_audio_with, DecodeOptions, Ducking, MixSource, MixSpec, Mixer, OpusEncoder, StreamSource,
        TrackRole, TrackSpec,
    };
    if !is_child() {
        return;
    }
    let voice = std::env::var("SAMVIDEO_MEM_VOICE").expect("SAMVIDEO_MEM_VOICE");
    let mode = std::env::var("SAMVIDEO_MEM_MODE").unwrap_or_default();
    let voice = PathBuf::from(voice);
    let d = voice.parent().expect("dir");
    let music = d.join("music.wav");
    if mode == "render" {
        let spec = json!({"media_list": [still("black.png", 20.0)], "voice_url": voice.file_name().unwrap().to_str(),
            "background_url": "music.wav", "settings": settings(json!({"loop_audio": true}))});
        let out = d.join(format!("{}.mp4", voice.display()));
        // One segment encoder at a time: with one per core, whether the two segments' rav1e
        // instances overlap at the peak is up to the scheduler (82 vs 101 MB on the same
        // input under CI load), which is noise against what this measures.
        let options = RenderOptions { format: Format::Mp4, threads: 1, ..RenderOptions::default() };
        let s = render_with(d, Endpoint::MixVideo, &spec, &out, &options);
        let _ = std::fs::remove_file(&out);
        report(&[("frames", s.frames), ("cpu_ms", 0), ("hwm_kb", peak_rss_kb())]);
        return;
    }
    let cpu0 = thread_cpu_ms();
    let read = |p: &Path| Arc::new(std::fs::read(p).expect("read input"));
    let (voice_bytes, music_bytes) = (read(&voice), read(&music));
    let opts = DecodeOptions::default();
    let sources: Vec<MixSource> = [(voice_bytes, "m4a"), (music_bytes, "wav")]
        .into_iter()
        .map(|(b, ext)| {
            if mode == "whole" {
                MixSource::Pcm(Arc::new(decode_audio_with(&b, Some(ext), &opts).expect("decode")))
            } else {
                let full = audio_frames(&b, Some(ext)).expect("count");
                MixSource::Stream(StreamSource::new(b, Some(ext), opts, full).expect("open"))
            }
        })
        .collect();
    let secs = sources[0].frames() as f64 / RATE;
    let mut music = TrackSpec::new(TrackRole::Music, 0.0);
    music.looped = true;
    let spec = MixSpec {
        duration: secs,
        tracks: vec![TrackSpec::new(TrackRole::Voice, 0.0), music],
        ducking: Some(Ducking::default()),
    };
    let mut mixer = Mixer::with_sources(spec, sources);
    let mut cpu = thread_cpu_ms() - cpu0;
    let mut encoder = OpusEncoder::new(128_000).expect("opus");
    let mut buf = vec![0.0f32; 4096 * 2];
    let (mut frames, mut bytes) = (0u64, 0usize);
    loop {
        let t = thread_cpu_ms();
        let n = mixer.fill(&mut buf);
        cpu += thread_cpu_ms() - t;
        if n == 0 {
            break;
        }
        frames += n as u64;
        bytes += encoder.encode(&buf[..n * 2]).expect("encode").iter().map(|p| p.data.len()).sum::<usize>();
    }
    assert!(mixer.source_error().is_none() && bytes > 0);
    report(&[("frames", frames), ("cpu_ms", cpu), ("hwm_kb", peak_rss_kb())]);
}

/// CPU time (user + system) of the calling thread so far, in ms (10 ms resolution).
fn thread_cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    f.iter().sum::<u64>() * 10
}

/// Runs [`audio_memory_child`] in a fresh process: (frames, decode+mix ms, peak RSS kB).
fn audio_child(voice: &Path, mode: &str) -> (u64, u64, u64) {
    let voice = voice.to_str().expect("utf-8 path");
    let run = run_child(&test_name!(audio_memory_child), &[("SAMVIDEO_MEM_VOICE", voice), ("SAMVIDEO_MEM_MODE", mode)]);
    (run.field("frames"), run.field("cpu_ms"), run.field("hwm_kb"))
}

/// Peak memory does not grow with the audio's length (issue 5): the whole audio side of a
/// render (AAC voice decoded and resampled as it plays, ducked under looped music, mixed,
/// Opus-encoded) over a 600 s voice peaks within 15 % of the same over a 60 s one. The
/// video side is left out on purpose: 600 s of AV1 is minutes of encoding on this machine;
/// the render path itself is covered by the second half, a full render of a 20 s video
/// whose voice-over is 600 s long (the renderer used to decode all of it up front:
/// +230 MB), whose peak grows by less than a quarter of what that decode would add (the
/// render's own peak varies with load by more than 15 %). Each run is a fresh child process.
#[test]
fn memory_stays_flat_with_a_long_voice_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    write_wav(p, "music.wav", 44_100, 2, 12.0, sine(330.0, 0.3));
    let short = long_voice(p, 60, "short.m4a");
    let long = long_voice(p, 600, "long.m4a");
    let (f_short, ms_short, kb_short) = audio_child(&short, "stream");
    let (f_long, ms_long, kb_long) = audio_child(&long, "stream");
    eprintln!(
        "audio memory: 60 s voice peak {} MB (decode+mix {ms_short} ms CPU), 600 s voice peak {} MB ({ms_long} ms)",
        kb_short / 1024,
        kb_long / 1024
    );
    assert!(
        f_short.abs_diff(60 * 48_000) < 4_800 && f_long.abs_diff(600 * 48_000) < 4_800,
        "{f_short} / {f_long} frames"
    );
    assert!(kb_long as f64 <= kb_short as f64 * 1.15, "peak RSS grew from {kb_short} kB to {kb_long} kB");

    let (_, _, r_short) = audio_child(&short, "render");
    let (_, _, r_long) = audio_child(&long, "render");
    eprintln!(
        "render memory, 20 s video: 60 s voice peak {} MB, 600 s voice peak {} MB",
        r_short / 1024,
        r_long / 1024
    );
    // A whole render's peak moves with how far the compositor runs ahead of the encoder, which
    // the machine's load decides: on one input, 76 to 93 MB across runs here and once 78 vs
    // 100 MB for the 60 s and 600 s voices in CI. What this guards against is decoding the
    // voice whole, which adds its PCM: 207 MB more for 600 s than for 60 s (48 kHz stereo f32).
    // The bound is a quarter of that, clear of the noise and 4x below the regression.
    let whole_decode_growth_kb = (600 - 60) * 48_000 * 2 * 4 / 1024;
    assert!(
        r_long <= r_short + whole_decode_growth_kb / 4,
        "render peak RSS grew from {r_short} kB to {r_long} kB (decoding the voice whole adds {whole_decode_growth_kb} kB)"
    );
}

/// Before/after numbers for the report (not a check): the same audio work from whole-file
/// decodes, as the renderer did before streaming. Run with `--ignored --nocapture`.
#[test]
#[ignore = "measurement, prints numbers"]
fn measure_whole_vs_streamed_audio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    write_wav(p, "music.wav", 44_100, 2, 12.0, sine(330.0, 0.3));
    let long = long_voice(p, 600, "long.m4a");
    for mode in ["whole", "stream", "whole", "stream"] {
        let (frames, ms, kb) = audio_child(&long, mode);
        eprintln!("{mode}: {frames} frames, decode+mix {ms} ms, peak {} MB", kb / 1024);
    }
}

/// ffmpeg's `ebur128` filter on the file's audio: (integrated LUFS, true peak dBTP).
fn ebur128(path: &Path) -> (f64, f64) {
    let out = Command::new("ffmpeg")
        .args(["-nostats", "-hide_banner", "-i"])
        .arg(path)
        .args(["-filter_complex", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.rsplit("Summary:").next().unwrap_or_default();
    let value = |label: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).and_then(|v| v.split_whitespace().next()?.parse().ok()))
            .unwrap_or_else(|| panic!("{label} in ffmpeg's ebur128 summary: {summary}"))
    };
    (value("I:"), value("Peak:"))
}

/// `normalize_audio` brings a quiet voice-over and music mix with sharp peaks to -14 LUFS
/// (±1 LU) with the true peak of the encoded file at or below -1 dBTP, as ffmpeg's ebur128
/// measures them; without it the mix keeps the volumes the request set.
#[test]
fn normalize_audio_reaches_minus_14_lufs_and_minus_1_dbtp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    black_and_white(p);
    // A "voice": a 220 Hz tone with a 3 Hz syllable envelope at about -30 LUFS, with a 5 ms
    // full-scale burst every 2 s that the gain would push far over the ceiling.
    write_wav(p, "voice.wav", 48_000, 1, 12.0, |t, _| {
        let syllables = 0.5 + 0.5 * (2.0 * PI * 3.0 * t).sin();
        let burst = if t % 2.0 < 0.005 { 0.95 * (2.0 * PI * 2500.0 * t).sin() } else { 0.0 };
        0.05 * syllables * (2.0 * PI * 220.0 * t).sin() + burst
    });
    write_wav(p, "music.wav", 48_000, 2, 12.0, sine(660.0, 0.02));
    let spec = |normalize: bool| {
        json!({"media_list": [still("black.png", 12.0)], "voice_url": "voice.wav", "background_url": "music.wav",
            "settings": settings(json!({"normalize_audio": normalize, "audio_volume": 0.5}))})
    };
    let plain = p.join("plain.mp4");
    render(p, Endpoint::MixVideo, &spec(false), &plain, Format::Mp4);
    let (plain_lufs, _) = ebur128(&plain);
    assert!(plain_lufs < -20.0, "the plain mix keeps its level: {plain_lufs}");
    // Opus beside AV1, AAC beside H.264: each encoder's own overshoot stays under the ceiling.
    for codec in ["av1", "h264"] {
        let loud = p.join(format!("normalized-{codec}.mp4"));
        let mut s = spec(true);
        s["settings"]["output_codec"] = json!(codec);
        render(p, Endpoint::MixVideo, &s, &loud, Format::Mp4);
        let (lufs, true_peak) = ebur128(&loud);
        eprintln!("normalize_audio ({codec}): {plain_lufs:.1} LUFS -> {lufs:.1} LUFS, true peak {true_peak:.2} dBTP");
        assert!((lufs + 14.0).abs() <= 1.0, "{codec}: integrated loudness {lufs} LUFS");
        assert!(true_peak <= -1.0, "{codec}: true peak {true_peak} dBTP");
    }
}
