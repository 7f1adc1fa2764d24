//! End to end (issue 5): video clips as inputs. Clips are made by ffmpeg at test time
//! (libx264 High with B-frames + AAC, librav1e, rotated phone-style clips, clips whose colour
//! or tone changes each second), rendered through `render_to_file`, and the output is read
//! back with ffmpeg: SSIM against the source, colours, durations, tone levels.

use std::path::{Path, PathBuf};

use crate::support::*;
use samvideo_core::render::RenderOptions;
use samvideo_core::request::Endpoint;
use serde_json::{json, Value};

const RED: [u8; 4] = [220, 30, 30, 255];
const BLUE: [u8; 4] = [30, 30, 220, 255];

/// A clip showing one solid colour per `step` seconds (30 fps, 320x180, x264 with B-frames),
/// with an optional tone whose frequency is 300 + 200 × (whole seconds) Hz.
fn colour_clip(dir: &Path, name: &str, colours: &[&str], step: f64, tone: bool) -> PathBuf {
    let path = dir.join(name);
    let mut graph = String::new();
    for (i, c) in colours.iter().enumerate() {
        graph.push_str(&format!("color=c={c}:s=320x180:r=30:d={step}[v{i}];"));
    }
    for i in 0..colours.len() {
        graph.push_str(&format!("[v{i}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0[out0]", colours.len()));
    let total = step * colours.len() as f64;
    let mut args: Vec<String> = vec!["-f".into(), "lavfi".into(), "-i".into(), graph];
    if tone {
        args.extend([
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!("aevalsrc=0.25*sin(2*PI*t*(300+200*floor(t))):s=48000:d={total}"),
            "-c:a".into(),
            "aac".into(),
            "-ac".into(),
            "2".into(),
            "-b:a".into(),
            "160k".into(),
        ]);
    }
    args.extend([
        "-t".into(),
        total.to_string(),
        "-c:v".into(),
        "libx264".into(),
        "-bf".into(),
        "3".into(),
        "-pix_fmt".into(),
        "yuv420p".into(),
        s(&path),
    ]);
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    path
}

fn low(fps: u32) -> Value {
    json!({"aspect_ratio": "16:9", "output_quality": "low", "fps": fps})
}

fn dur_ok(out: &Path, want: f64) {
    let d = duration_secs(out);
    assert!((d - want).abs() < 0.07, "duration {d} s, want {want} s");
}

const RED_F: [f64; 3] = [220.0, 30.0, 30.0];
const BLUE_F: [f64; 3] = [30.0, 30.0, 220.0];
/// ffmpeg's `red`, `lime`, `blue` (tolerances cover two trips through 4:2:0).
const PURE_RED: [f64; 3] = [255.0, 0.0, 0.0];
const LIME: [f64; 3] = [0.0, 255.0, 0.0];
const PURE_BLUE: [f64; 3] = [0.0, 0.0, 255.0];

fn centre(out: &Path, t: f64) -> [f64; 3] {
    mean_rgb(&frame_at(out, t), 200, 100, 650, 380)
}

#[test]
fn h264_clip_between_stills_mix_video_frames_duration_and_sound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    solid_png(d, "red.png", 320, 180, RED);
    solid_png(d, "blue.png", 320, 180, BLUE);
    let clip = h264_clip(&d.join("clip.mp4"), "640x360", 15, 3.0, 440);
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 1},
        {"type": "video", "url": "clip.mp4"},
        {"type": "image", "url": "blue.png", "duration": 1}
    ], "settings": low(15)});
    let out = d.join("mix.mp4");
    let summary = render(d, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    // 1 s + the clip's own 3 s + 1 s.
    assert_eq!((summary.width, summary.height, summary.frames), (854, 480, 75));
    dur_ok(&out, 5.0);
    assert_near(centre(&out, 0.5), RED_F, 12.0, "still before the clip");
    assert_near(centre(&out, 4.5), BLUE_F, 12.0, "still after the clip");
    let ssim = ssim(&out, 1.0, &clip, 0.0, 3.0, "scale=854:480");
    eprintln!("mix-video: SSIM vs source {ssim:.4}");
    assert!(ssim >= 0.85, "SSIM {ssim}");

    // The clip's tone plays while the clip shows, at its own level; silence around it.
    let source_level = tone_db(&audio_mid(&clip, 0.5, 2.5), 440.0);
    let level = tone_db(&audio_mid(&out, 1.5, 3.5), 440.0);
    eprintln!("mix-video: tone {level:.2} dB in the output, {source_level:.2} dB in the source");
    assert!((level - source_level).abs() < 1.5, "tone {level} dB, source {source_level} dB");
    for (t0, t1) in [(0.1, 0.85), (4.15, 4.9)] {
        let quiet = tone_db(&audio_mid(&out, t0, t1), 440.0);
        assert!(quiet < source_level - 40.0, "tone at {t0}..{t1} s: {quiet} dB");
    }
}

#[test]
fn h264_clip_in_simple_video_matches_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    solid_png(d, "blue.png", 320, 180, BLUE);
    let clip = h264_clip(&d.join("clip.mp4"), "640x360", 15, 2.0, 440);
    let spec = json!({"media_list": [
        {"type": "video", "url": "clip.mp4"},
        {"type": "image", "url": "blue.png", "duration": 1}
    ], "settings": low(15)});
    let out = d.join("simple.mp4");
    let summary = render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    assert_eq!(summary.frames, 45);
    dur_ok(&out, 3.0);
    let ssim = ssim(&out, 0.0, &clip, 0.0, 2.0, "scale=854:480");
    eprintln!("simple-video: SSIM vs source {ssim:.4}");
    assert!(ssim >= 0.85, "SSIM {ssim}");
    assert_near(centre(&out, 2.5), BLUE_F, 12.0, "still after the clip");
}

#[test]
fn clip_sound_follows_video_volume_and_mute_original_audio() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    h264_clip(&d.join("clip.mp4"), "320x180", 30, 2.0, 1000);
    let level = |settings: Value| -> Option<f64> {
        let mut all = low(15);
        for (k, v) in settings.as_object().unwrap() {
            all[k] = v.clone();
        }
        let spec = json!({"media_list": [{"type": "video", "url": "clip.mp4"}], "settings": all});
        let out = d.join("v.mp4");
        render(d, Endpoint::MixVideo, &spec, &out, Format::Mp4);
        (audio_streams(&out) > 0).then(|| tone_db(&audio_mid(&out, 0.3, 1.7), 1000.0))
    };
    let full = level(json!({})).expect("the clip's sound makes an audio track");
    let half = level(json!({"video_volume": 0.5})).expect("audio track");
    let muted = level(json!({"mute_original_audio": true}));
    eprintln!("clip sound: full {full:.2} dB, video_volume 0.5 {half:.2} dB, muted {muted:?}");
    assert!(full > -25.0, "tone barely audible: {full} dB");
    assert!((half - (full - 6.02)).abs() < 1.0, "video_volume 0.5: {half} dB vs {full} dB");
    if let Some(m) = muted {
        assert!(m < full - 40.0, "muted clip still at {m} dB");
    }
}

#[test]
fn trim_start_and_trim_end_pick_the_source_segment_picture_and_sound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    colour_clip(d, "colours.mp4", &["red", "lime", "blue", "white"], 1.0, true);
    let spec = json!({"media_list": [
        {"type": "video", "url": "colours.mp4", "trim_start": 1, "trim_end": 3}
    ], "settings": low(15)});
    let out = d.join("trim.mp4");
    let summary = render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    assert_eq!(summary.frames, 30);
    dur_ok(&out, 2.0);
    assert_near(centre(&out, 0.1), LIME, 30.0, "first frame is source second 1");
    assert_near(centre(&out, 0.9), LIME, 30.0, "source 1.9 s");
    assert_near(centre(&out, 1.1), PURE_BLUE, 30.0, "source 2.1 s");
    assert_near(centre(&out, 1.95), PURE_BLUE, 30.0, "last frame is source 2.95 s");
    // Sound: 500 Hz in source second 1, 700 Hz in second 2.
    let first = audio_mid(&out, 0.2, 0.8);
    let second = audio_mid(&out, 1.2, 1.8);
    let (a5, a7) = (tone_db(&first, 500.0), tone_db(&first, 700.0));
    let (b5, b7) = (tone_db(&second, 500.0), tone_db(&second, 700.0));
    eprintln!("trim: first second 500 Hz {a5:.1} dB / 700 Hz {a7:.1} dB; second {b5:.1} / {b7:.1}");
    assert!(a5 > -20.0 && a7 < a5 - 30.0, "first second: 500 Hz {a5}, 700 Hz {a7}");
    assert!(b7 > -20.0 && b5 < b7 - 30.0, "second second: 500 Hz {b5}, 700 Hz {b7}");
}

#[test]
fn a_24_fps_clip_in_a_30_fps_video_keeps_duration_and_motion() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = h264_clip(&d.join("film.mp4"), "640x360", 24, 2.0, 440);
    let spec = json!({"media_list": [{"type": "video", "url": "film.mp4"}], "settings": low(30)});
    let out = d.join("fps.mp4");
    let summary = render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    assert_eq!(summary.frames, 60);
    dur_ok(&out, 2.0);
    assert_eq!(probe(&out, "v:0")["r_frame_rate"], "30/1");
    // Output frame n shows the source frame on screen at n/30 s: ffmpeg's fps filter with
    // round=down picks the same one.
    let ssim = ssim(&out, 0.0, &clip, 0.0, 2.0, "fps=30:round=down,scale=854:480");
    eprintln!("24 -> 30 fps: SSIM vs source {ssim:.4}");
    assert!(ssim >= 0.85, "SSIM {ssim}");
    // Motion kept: distinct source frames stay distinct.
    let a = frame_at(&out, 0.5);
    let b = frame_at(&out, 0.6);
    let diff: f64 = a.2.iter().zip(&b.2).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.2.len() as f64;
    assert!(diff > 2.0, "frames 0.1 s apart are the same: {diff}");
}

#[test]
fn rotated_phone_clip_comes_out_upright_and_cover_cropped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let upright = h264_clip(&d.join("upright.mp4"), "640x360", 25, 2.0, 440);
    // ffmpeg 5.1 writes the track matrix only on stream copy; `rotate=270` is the clockwise
    // quarter turn phones record in portrait. Display: 360x640.
    let rotated = d.join("phone.mp4");
    ffmpeg(&["-i", &s(&upright), "-c", "copy", "-metadata:s:v:0", "rotate=270", &s(&rotated)]);
    let v = probe(&rotated, "v:0");
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(640), Some(360)), "coded size");

    // Portrait output: the whole picture, upright (ffmpeg's autorotated decode is the oracle).
    let spec = json!({"media_list": [{"type": "video", "url": "phone.mp4"}],
        "settings": {"aspect_ratio": "9:16", "output_quality": "low", "fps": 25}});
    let out = d.join("portrait.mp4");
    let summary = render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    assert_eq!((summary.width, summary.height), (480, 854));
    dur_ok(&out, 2.0);
    let portrait = ssim(&out, 0.0, &rotated, 0.0, 2.0, "scale=480:854");
    // Sideways would look nothing like it.
    let sideways = ssim(&out, 0.0, &upright, 0.0, 2.0, "scale=480:854");
    eprintln!("rotated clip: SSIM upright {portrait:.4}, vs unrotated {sideways:.4}");
    assert!(portrait >= 0.85, "SSIM {portrait}");
    assert!(sideways < portrait - 0.2, "sideways {sideways} vs upright {portrait}");

    // Landscape output: cover-cropped to the middle band of the portrait picture.
    let spec = json!({"media_list": [{"type": "video", "url": "phone.mp4"}], "settings": low(25)});
    let out = d.join("landscape.mp4");
    render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    // 360x640 covering 854x480: scale 854/360, the middle 202.3 rows of 640.
    let cover = ssim(&out, 0.0, &rotated, 0.0, 2.0, "crop=360:202.34:0:218.83,scale=854:480");
    eprintln!("rotated clip cover-cropped to 16:9: SSIM {cover:.4}");
    assert!(cover >= 0.85, "SSIM {cover}");
}

#[test]
fn loop_video_video_loop_duration_and_min_video_duration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1 s: red then lime.
    colour_clip(d, "rg.mp4", &["red", "lime"], 0.5, false);
    let run = |settings: Value, name: &str| -> PathBuf {
        let mut all = low(15);
        for (k, v) in settings.as_object().unwrap() {
            all[k] = v.clone();
        }
        let spec = json!({"media_list": [{"type": "video", "url": "rg.mp4"}], "settings": all});
        let out = d.join(name);
        render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
        out
    };
    // loop_video + video_loop_duration: the clip lasts 3 s and repeats.
    let out = run(json!({"loop_video": true, "video_loop_duration": 3}), "loop.mp4");
    dur_ok(&out, 3.0);
    for k in 0..3 {
        let t = k as f64;
        assert_near(centre(&out, t + 0.25), PURE_RED, 30.0, &format!("loop {k}, first half"));
        assert_near(centre(&out, t + 0.75), LIME, 30.0, &format!("loop {k}, second half"));
    }
    // min_video_duration without looping: the last frame holds.
    let out = run(json!({"min_video_duration": 2}), "hold.mp4");
    dur_ok(&out, 2.0);
    assert_near(centre(&out, 0.25), PURE_RED, 30.0, "start");
    assert_near(centre(&out, 1.25), LIME, 30.0, "held last frame");
    assert_near(centre(&out, 1.95), LIME, 30.0, "held last frame at the end");
    // min_video_duration with looping on: the clip loops into the extension.
    let out = run(json!({"min_video_duration": 2, "loop_video": true}), "loopmin.mp4");
    dur_ok(&out, 2.0);
    assert_near(centre(&out, 1.25), PURE_RED, 30.0, "looped into the extension");
    assert_near(centre(&out, 1.75), LIME, 30.0, "looped into the extension");
}

#[test]
fn loop_video_endpoint_reaches_its_duration_with_music_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    colour_clip(d, "rg.mp4", &["red", "lime"], 0.5, false);
    // 1.3 s of music: it must loop three times under the 4 s video.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=48000",
        "-t",
        "1.3",
        "-ac",
        "2",
        &s(&d.join("music.wav")),
    ]);
    let spec = json!({"type": "LoopVideo", "data": {
        "media_list": [{"type": "video", "url": "rg.mp4"}],
        "background_url": "music.wav",
        "duration": 4,
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15, "loop_video": true}
    }});
    let out = d.join("loop.mp4");
    let summary = render(d, Endpoint::LoopVideo, &spec, &out, Format::Mp4);
    assert_eq!(summary.frames, 60);
    dur_ok(&out, 4.0);
    assert_near(centre(&out, 3.2), PURE_RED, 30.0, "fourth loop, first half");
    assert_near(centre(&out, 3.8), LIME, 30.0, "fourth loop, second half");
    let music = tone_db(&audio_mid(&d.join("music.wav"), 0.1, 1.2), 660.0);
    let last_second = tone_db(&audio_mid(&out, 3.0, 3.95), 660.0);
    eprintln!("loop-video: music {music:.2} dB in the source, {last_second:.2} dB in the last second");
    assert!((last_second - music).abs() < 3.0, "music in the last second: {last_second} dB vs {music} dB");
}

#[test]
fn advanced_background_video_shows_around_a_contained_clip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let square = h264_clip(&d.join("square.mp4"), "360x360", 15, 2.0, 440);
    colour_clip(d, "bg.mp4", &["red", "blue"], 0.5, false);
    let spec = json!({"config": {
        "output_settings": {"aspect_ratio": "16:9", "resolution": "480p", "framerate": 15},
        "media_inputs": {
            "main_clips": [{"type": "video", "url": "square.mp4", "fit": "contain", "background": "color"}],
            "background": {"type": "video", "value": "bg.mp4"}
        },
        "render_options": {"mode": "full", "quality": "low"}
    }});
    let out = d.join("adv.mp4");
    let summary = render(d, Endpoint::AdvancedVideo, &spec, &out, Format::Mp4);
    assert_eq!((summary.width, summary.height, summary.frames), (854, 480, 30));
    // Left and right bars: the background video, looping (red 0–0.5 s, blue 0.5–1 s, ...).
    for (t, want) in [(0.25, PURE_RED), (0.75, PURE_BLUE), (1.25, PURE_RED), (1.75, PURE_BLUE)] {
        let f = frame_at(&out, t);
        assert_near(mean_rgb(&f, 10, 20, 170, 460), want, 30.0, &format!("left bar at {t}"));
        assert_near(mean_rgb(&f, 684, 20, 844, 460), want, 30.0, &format!("right bar at {t}"));
    }
    // The middle: the clip, whole, 480x480.
    let ssim = ssim_with(&out, 0.0, "crop=480:480:187:0", &square, 0.0, 2.0, "scale=480:480");
    eprintln!("advanced: contained clip SSIM {ssim:.4}");
    assert!(ssim >= 0.85, "SSIM {ssim}");
}

#[test]
fn av1_clip_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = d.join("av1.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=15",
        "-t",
        "2",
        "-c:v",
        "librav1e",
        "-speed",
        "10",
        "-qp",
        "60",
        "-pix_fmt",
        "yuv420p",
        &s(&clip),
    ]);
    assert_eq!(probe(&clip, "v:0")["codec_name"], "av1");
    let spec = json!({"media_list": [{"type": "video", "url": "av1.mp4"}], "settings": low(15)});
    let out = d.join("out.mp4");
    let summary = render(d, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    assert_eq!(summary.frames, 30);
    dur_ok(&out, 2.0);
    let ssim = ssim(&out, 0.0, &clip, 0.0, 2.0, "scale=854:480");
    eprintln!("AV1 input: SSIM vs source {ssim:.4}");
    assert!(ssim >= 0.85, "SSIM {ssim}");
}

#[test]
fn unsupported_codecs_fail_with_the_item_and_the_codec() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    solid_png(d, "red.png", 64, 64, RED);
    // With and without a sound track (the sound must not hide the video's problem).
    let cases: [(&str, &[&str], &str); 3] =
        [("mpeg2video", &["-an"], "m2v.mp4"), ("mpeg4", &["-c:a", "aac"], "mp4v.mp4"), ("vp9", &["-an"], "vp9.mp4")];
    for (codec, audio, name) in cases {
        let encoder = if codec == "vp9" { "libvpx-vp9" } else { codec };
        let mut args = vec![
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            "0.5",
            "-c:v",
            encoder,
        ];
        args.extend_from_slice(audio);
        let path = s(&d.join(name));
        args.push(&path);
        ffmpeg(&args);
        let spec = json!({"media_list": [
            {"type": "image", "url": "red.png", "duration": 1},
            {"type": "video", "url": name}
        ], "settings": low(15)});
        let out = d.join("never.mp4");
        let err = render_error(d, Endpoint::MixVideo, &spec, &out);
        assert_eq!(err, format!("media_list[1] ({name}): unsupported video codec {codec} (supported: h264, av1)"));
        assert!(!out.exists(), "a failed render leaves no output");
    }
}

/// Child half of the memory tests: renders the clip named by `SAMVIDEO_MEM_CLIP` to the
/// format in `SAMVIDEO_MEM_FORMAT` (`y4m` or `mp4`, with two encoder workers whatever the
/// machine's core count) and prints the peak RSS. Does nothing when run on its own.
#[test]
#[ignore = "run by the memory tests in a child process"]
fn memory_child() {
    if !is_child() {
        return;
    }
    let clip = std::env::var("SAMVIDEO_MEM_CLIP").expect("SAMVIDEO_MEM_CLIP");
    let format = match std::env::var("SAMVIDEO_MEM_FORMAT").as_deref() {
        Ok("mp4") => Format::Mp4,
        _ => Format::Y4m,
    };
    let clip = PathBuf::from(clip);
    let d = clip.parent().unwrap();
    let name = clip.file_name().unwrap().to_string_lossy().into_owned();
    // 1:1 keeps the per-frame work small; the decoder still reads every 720p frame.
    let spec = json!({"media_list": [{"type": "video", "url": name}],
        "settings": {"aspect_ratio": "1:1", "output_quality": "low", "fps": 15}});
    let out = d.join(format!("{name}.out"));
    // Two workers, as on the 2-core CI machine: how many segments each worker takes in turn
    // (and so the peak) must not depend on the machine.
    let options = RenderOptions { format, threads: 2, ..RenderOptions::default() };
    let summary = render_with(d, Endpoint::SimpleVideo, &spec, &out, &options);
    let _ = std::fs::remove_file(&out);
    report(&[("frames", summary.frames), ("hwm_kb", peak_rss_kb())]);
}

fn child_peak_kb(clip: &Path, format: &str) -> (u64, u64) {
    let clip = clip.to_str().expect("utf-8 path");
    let run = run_child(&test_name!(memory_child), &[("SAMVIDEO_MEM_CLIP", clip), ("SAMVIDEO_MEM_FORMAT", format)]);
    (run.field("frames"), run.field("hwm_kb"))
}

/// A 720p clip of `secs` seconds with stereo AAC sound. The picture is static SMPTE bars
/// (the encoder's work stays small); the H.264 decoder still decodes every frame.
fn long_clip(d: &Path, secs: u32, name: &str) -> PathBuf {
    let path = d.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "smptehdbars=size=1280x720:rate=15",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        &secs.to_string(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "35",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-shortest",
        &s(&path),
    ]);
    path
}

fn compare_peaks(format: &str, short_secs: u32, long_secs: u32) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let short = long_clip(d, short_secs, "short.mp4");
    let long = long_clip(d, long_secs, "long.mp4");
    // Each length is rendered twice and its lower peak kept: the MP4 peak moves with thread
    // timing by a few percent (60 s: 251-270 MB over six runs of one build), noise, not growth.
    let lower_peak = |clip: &Path| {
        let (frames, a) = child_peak_kb(clip, format);
        let (_, b) = child_peak_kb(clip, format);
        (frames, a.min(b))
    };
    let t = std::time::Instant::now();
    let (f_short, hwm_short) = lower_peak(&short);
    let t_short = t.elapsed().as_secs_f64() / 2.0;
    let t = std::time::Instant::now();
    let (f_long, hwm_long) = lower_peak(&long);
    let t_long = t.elapsed().as_secs_f64() / 2.0;
    eprintln!(
        "memory ({format}): {short_secs} s clip peak {} MB ({f_short} frames, {t_short:.1} s); {long_secs} s clip peak {} MB ({f_long} frames, {t_long:.1} s)",
        hwm_short / 1024,
        hwm_long / 1024
    );
    assert_eq!((f_short, f_long), (u64::from(short_secs) * 15, u64::from(long_secs) * 15));
    (hwm_short, hwm_long)
}

/// Peak memory of the picture pipeline (fetch, demux, H.264 decode, compose, 4:2:0) does not
/// grow with the clip's length: a 60 s 720p clip peaks within 15 % of a 5 s one. Raw Y4M
/// output keeps the encoder (whose look-ahead fills up over its first key-frame interval)
/// and the sound out of the measurement; each render runs in a fresh child process.
#[test]
fn memory_stays_flat_with_a_long_clip() {
    let (short, long) = compare_peaks("y4m", 5, 60);
    assert!(long as f64 <= short as f64 * 1.15, "peak RSS grew from {short} kB to {long} kB");
}

/// The same through the whole MP4 path (rav1e, the clip's sound mixed, Opus, the muxer): a
/// 120 s clip peaks within 15 % of a 40 s one, so growth of 0.5 MB or more per second of clip
/// fails. With glibc malloc this grew 228 -> 472 MB: freed frame buffers stayed in per-thread
/// arenas; the test binaries, like the `samvideo` binary, use mimalloc.
///
/// Why 40 s and not 20 s: each 10 s segment gets a fresh rav1e context, and rav1e runs it on a
/// thread of its own (a one-thread pool per context). When a worker moves on to its next
/// segment, the new context's memory comes from other pages than the old one's, which
/// mimalloc keeps committed for its purge delay (1 s): the peak steps up once workers change
/// segments and creeps a little with more changes, then stays (two workers: 20 s, one segment
/// each, 238-252 MB; 40 s 253-255; 60 s 251-270; 120 s 266-267; 180 s 268). With
/// `MIMALLOC_PURGE_DELAY=0` 20, 60 and 180 s all peak at 229-233 MB: nothing live grows with
/// the length (2 cores, 2026-12). Compared with 20 s, 60 s failed the 15 % under the load of
/// the full suite (+15.5 %).
#[test]
fn memory_stays_flat_with_a_long_clip_mp4_with_sound() {
    let (short, long) = compare_peaks("mp4", 40, 120);
    assert!(long as f64 <= short as f64 * 1.15, "peak RSS grew from {short} kB to {long} kB");
}
