//! H.264 + AAC output (`output_codec: "h264"`), decoded back by ffmpeg: what Instagram
//! Reels, TikTok and YouTube ask of a file (docs/output-formats.md) — H.264 High profile,
//! 4:2:0, BT.709, the requested frame rate, AAC-LC 48 kHz stereo, `moov` first, no edit list,
//! audio at most one AAC frame late — plus picture quality against the lossless render and the
//! same bytes whatever the number of segment workers.

use std::f64::consts::PI;

use crate::support::*;
use samvideo_core::render::RenderOptions;
use samvideo_core::request::Endpoint;
use samvideo_core::VideoCodec;
use serde_json::{json, Value};

const RED: [u8; 4] = [220, 30, 30, 255];
const BLUE: [u8; 4] = [30, 30, 220, 255];

fn f64_of(v: &Value, key: &str) -> f64 {
    v[key].as_str().and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Two 1.5 s stills at 9:16 480x854, 30 fps, a voice whose click starts at exactly 1.0 s and
/// quiet music.
fn spec(dir: &std::path::Path, codec: Option<&str>) -> Value {
    solid_png(dir, "red.png", 270, 480, RED);
    solid_png(dir, "blue.png", 270, 480, BLUE);
    write_wav(dir, "voice.wav", 48_000, 1, 3.0, |t, _| {
        if (1.0..1.002).contains(&t) {
            0.8 * (2.0 * PI * 3000.0 * t).sin()
        } else {
            0.0
        }
    });
    write_wav(dir, "music.wav", 44_100, 2, 3.0, |t, _| 0.01 * (2.0 * PI * 220.0 * t).sin());
    let mut settings = json!({"aspect_ratio": "9:16", "output_quality": "low", "fps": 30});
    if let Some(c) = codec {
        settings["output_codec"] = json!(c);
    }
    json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 1.5},
        {"type": "image", "url": "blue.png", "duration": 1.5}
    ], "voice_url": "voice.wav", "background_url": "music.wav", "settings": settings})
}

#[test]
fn h264_output_is_what_reels_tiktok_and_youtube_take() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let spec = spec(p, Some("h264"));
    let out = p.join("h264.mp4");
    let summary = render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    assert_eq!((summary.width, summary.height, summary.frames), (480, 854, 90));
    let v = probe(&out, "v:0");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["profile"], "High");
    assert_eq!(v["level"], 31, "480x854 at 30 fps is 48 600 macroblocks/s: over level 3.0, within 3.1");
    assert_eq!(v["pix_fmt"], "yuv420p");
    for key in ["color_space", "color_transfer", "color_primaries"] {
        assert_eq!(v[key], "bt709", "{key}");
    }
    assert_eq!(v["color_range"], "tv");
    assert_eq!(v["r_frame_rate"], "30/1");
    assert_eq!(v["nb_frames"], "90", "frame count = duration x fps");
    assert!((f64_of(&v, "duration") - 3.0).abs() < 1e-6);
    assert_eq!(v["has_b_frames"], 0, "no reordering: closed GOPs, decode order = presentation order");
    let a = probe(&out, "a:0");
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(a["profile"], "LC");
    assert_eq!(a["sample_rate"], "48000");
    assert_eq!(a["channels"], 2);
    // Fast start, and no edit list anywhere (Instagram refuses them).
    let bytes = std::fs::read(&out).expect("read");
    let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag);
    let (moov, mdat) = (find(b"moov").expect("moov"), find(b"mdat").expect("mdat"));
    assert!(moov < mdat, "moov at {moov}, mdat at {mdat}");
    assert_eq!(find(b"elst"), None, "an edit list");
    assert_eq!(find(b"edts"), None, "an edit box");
    // The whole file decodes without an error.
    ffmpeg(&["-xerror", "-i", &s(&out), "-f", "null", "-"]);
    // A/V start: the click at 1.0 s arrives at most one AAC frame (1024 samples, 21.3 ms) late.
    let start = f64_of(&a, "start_time");
    let audio = audio_mid(&out, 0.0, 2.0);
    let peak = audio.iter().fold(0f32, |m, x| m.max(x.abs()));
    let onset = audio.iter().position(|x| x.abs() >= 0.5 * peak).expect("the click") as f64 / 48_000.0 + start;
    let late = onset - 1.0;
    eprintln!("AAC: click at {onset:.4} s (audio starts {start} s): {:.1} ms late", late * 1000.0);
    assert!((0.0..=0.022).contains(&late), "A/V offset {late} s");
    // The pictures: the two stills at their times.
    let (red, blue) = ([220.0, 30.0, 30.0], [30.0, 30.0, 220.0]);
    assert_near(mean_rgb(&frame_at(&out, 0.5), 60, 100, 420, 700), red, 12.0, "first still");
    assert_near(mean_rgb(&frame_at(&out, 2.5), 60, 100, 420, 700), blue, 12.0, "second still");
}

/// Picture quality at the default settings: SSIM-Y against the lossless y4m of the same spec
/// on a picture with detail (a test card zooming, so every frame is new).
#[test]
fn h264_quality_against_the_lossless_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    test_card_png(&p.join("card.png"), 1280, 720);
    let spec = json!({"media_list": [{"type": "image", "url": "card.png", "duration": 2}],
        "settings": {"aspect_ratio": "16:9", "fps": 30, "zoom_effect": true, "output_codec": "h264"}});
    let out = p.join("card.mp4");
    let raw = p.join("card.y4m");
    render(p, Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    render(p, Endpoint::SimpleVideo, &spec, &raw, Format::Y4m);
    let ssim_y = ssim_y(&out, &raw);
    let size = std::fs::metadata(&out).expect("size").len();
    eprintln!("H.264 default quality (720p, QP 26): SSIM-Y {ssim_y:.4}, {size} bytes for 2 s");
    assert!(ssim_y >= 0.95, "SSIM-Y {ssim_y}");
}

/// ffmpeg's SSIM of the Y plane between two files of the same size and rate (the mean over
/// frames, as ffmpeg reports it).
fn ssim_y(a: &std::path::Path, b: &std::path::Path) -> f64 {
    let frames = ssim_y_frames(a, b);
    frames.iter().sum::<f64>() / frames.len() as f64
}

/// Bits go where a viewer looks (`H264Qp`): a held still is refined once, on its second
/// frame, and costs skipped macroblocks after that; its first frame and the fade frames are
/// coarser. Grainy stills, as in the bench's standard job.
#[test]
fn h264_refines_a_held_still_once_then_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    for (name, hue) in [("a.png", 0), ("b.png", 120)] {
        let vf = format!("noise=alls=14:allf=u,hue=h={hue}");
        ffmpeg(&["-f", "lavfi", "-i", "testsrc2=s=1280x720", "-vf", &vf, "-frames:v", "1", &s(&p.join(name))]);
    }
    // Frames 0..60 show a, 45..60 fade, 60..105 show b.
    let spec = json!({"media_list": [
        {"type": "image", "url": "a.png", "duration": 2},
        {"type": "image", "url": "b.png", "duration": 2}
    ], "settings": {"aspect_ratio": "16:9", "fps": 30, "transition_type": "fade", "transition_duration": 0.5,
        "output_codec": "h264"}});
    let (out, raw) = (p.join("stills.mp4"), p.join("stills.y4m"));
    assert_eq!(render(p, Endpoint::SimpleVideo, &spec, &out, Format::Mp4).frames, 105);
    render(p, Endpoint::SimpleVideo, &spec, &raw, Format::Y4m);
    let ssim = ssim_y_frames(&out, &raw);
    let sizes: Vec<u64> =
        ffprobe_csv(&out, "v:0", "packet=size").lines().map(|l| l.trim().parse().expect("size")).collect();
    assert_eq!((ssim.len(), sizes.len()), (105, 105));
    eprintln!(
        "H.264 held stills: SSIM-Y first/second frame {:.4}/{:.4} and {:.4}/{:.4}; fade {:.4}; bytes {:?}",
        ssim[0],
        ssim[1],
        ssim[60],
        ssim[61],
        ssim[52],
        [sizes[0], sizes[1], sizes[2], sizes[52], sizes[60], sizes[61], sizes[62]]
    );
    for (first, end) in [(0, 45), (60, 105)] {
        assert!(ssim[first + 1] > ssim[first] + 0.01, "frame {} refines frame {first}: {ssim:?}", first + 1);
        for n in first + 2..end {
            assert!((ssim[n] - ssim[first + 1]).abs() < 0.001, "frame {n} holds the refined picture");
            assert!(sizes[n] * 100 < sizes[first + 1], "frame {n} is skipped macroblocks: {sizes:?}");
        }
    }
    for n in 46..59 {
        assert!(ssim[n] < ssim[61], "fade frame {n} is coarser than the refined still");
    }
}

#[test]
fn h264_segments_give_the_same_bytes_whatever_the_worker_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    solid_png(p, "red.png", 320, 180, RED);
    solid_png(p, "blue.png", 400, 300, BLUE);
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 5},
        {"type": "image", "url": "blue.png", "duration": 5},
        {"type": "image", "url": "red.png", "duration": 3}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15,
        "transition_type": "fade", "transition_duration": 1, "output_codec": "h264"}});
    let mut files = Vec::new();
    for workers in [1, 2] {
        let out = p.join(format!("w{workers}.mp4"));
        let s = render_with(
            p,
            Endpoint::SimpleVideo,
            &spec,
            &out,
            &RenderOptions { threads: workers, ..Default::default() },
        );
        assert_eq!(s.frames, 165);
        files.push((out.clone(), std::fs::read(&out).expect("read")));
    }
    assert_eq!(files[0].1, files[1].1, "1 vs 2 workers");
    let out = &files[0].0;
    let keys: Vec<f64> = ffprobe_csv(out, "v:0", "packet=pts_time,flags")
        .lines()
        .filter_map(|l| l.split_once(','))
        .filter(|(_, f)| f.contains('K'))
        .map(|(t, _)| t.parse().expect("time"))
        .collect();
    assert_eq!(keys, vec![0.0, 10.0], "an IDR at each segment start and nowhere else");
    let red = [220.0, 30.0, 30.0];
    assert_near(mean_rgb(&frame_at(out, 9.9), 100, 100, 700, 400), red, 12.0, "before the boundary");
    assert_near(mean_rgb(&frame_at(out, 10.1), 100, 100, 700, 400), red, 12.0, "after the boundary");
}

/// `RenderOptions::default_codec` (the server's `--default-codec`) applies to specs that name
/// no codec; `codec_override` (`render --codec`) wins over the spec's.
#[test]
fn the_default_codec_and_the_override() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    solid_png(p, "red.png", 64, 36, RED);
    let spec = |codec: Option<&str>| {
        let mut s = json!({"aspect_ratio": "16:9", "output_quality": "low", "fps": 15});
        if let Some(c) = codec {
            s["output_codec"] = json!(c);
        }
        json!({"media_list": [{"type": "image", "url": "red.png", "duration": 0.4}], "settings": s})
    };
    let cases = [
        (None, VideoCodec::H264, None, "h264"),
        (Some("av1"), VideoCodec::H264, None, "av1"),
        (Some("av1"), VideoCodec::Av1, Some(VideoCodec::H264), "h264"),
        (None, VideoCodec::Av1, None, "av1"),
    ];
    for (i, (in_spec, default_codec, codec_override, want)) in cases.into_iter().enumerate() {
        let out = p.join(format!("{i}.mp4"));
        let options = RenderOptions { default_codec, codec_override, ..Default::default() };
        render_with(p, Endpoint::SimpleVideo, &spec(in_spec), &out, &options);
        assert_eq!(ffprobe_csv(&out, "v:0", "stream=codec_name"), want, "case {i}");
    }
}
