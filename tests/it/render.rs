//! End to end: JSON spec -> samvideo render -> MP4 decoded by ffmpeg/ffprobe and checked
//! for what a viewer sees and hears.

use crate::support::*;
use samvideo_core::request::Endpoint;
use serde_json::json;

const RED: [u8; 4] = [220, 30, 30, 255];
const BLUE: [u8; 4] = [30, 30, 220, 255];

fn two_stills(transition: Option<(&str, &str, f64)>) -> serde_json::Value {
    let mut settings = json!({"aspect_ratio": "16:9", "output_quality": "low", "fps": 15});
    if let Some((kind, dir, d)) = transition {
        settings["transition_type"] = json!(kind);
        settings["transition_direction"] = json!(dir);
        settings["transition_duration"] = json!(d);
    }
    json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 2},
        {"type": "image", "url": "blue.png", "duration": 2}
    ], "settings": settings})
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    solid_png(dir.path(), "red.png", 320, 180, RED);
    solid_png(dir.path(), "blue.png", 400, 300, BLUE);
    solid_png(dir.path(), "black.png", 64, 64, [0, 0, 0, 255]);
    dir
}

#[test]
fn hard_cut_geometry_duration_colours_and_determinism() {
    let dir = setup();
    let out = dir.path().join("a.mp4");
    let s = render(dir.path(), Endpoint::SimpleVideo, &two_stills(None), &out, Format::Mp4);
    assert_eq!((s.width, s.height, s.frames), (854, 480, 60));
    let v = probe(&out, "v:0");
    assert_eq!(v["codec_name"], "av1");
    assert_eq!(v["format"]["format_name"].as_str().map(|f| f.contains("mp4")), Some(true));
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(854), Some(480)));
    assert_eq!(v["r_frame_rate"], "15/1");
    assert_eq!(v["color_space"], "bt709");
    assert_eq!(v["color_range"], "tv");
    let dur: f64 = v["duration"].as_str().and_then(|d| d.parse().ok()).expect("duration");
    assert!((dur - 4.0).abs() < 0.07, "{dur}");
    let red = [220.0, 30.0, 30.0];
    let blue = [30.0, 30.0, 220.0];
    assert_near(mean_rgb(&frame_at(&out, 0.5), 100, 100, 700, 400), red, 12.0, "first still");
    assert_near(mean_rgb(&frame_at(&out, 3.5), 100, 100, 700, 400), blue, 12.0, "second still");
    // No audio input: no audio track.
    assert_eq!(audio_streams(&out), 0, "unexpected audio stream");
    // moov before mdat (fast start).
    let bytes = std::fs::read(&out).unwrap();
    let moov = bytes.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat, "moov at {moov}, mdat at {mdat}");
    // Same spec, same bytes.
    let again = dir.path().join("b.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &two_stills(None), &again, Format::Mp4);
    assert_eq!(bytes, std::fs::read(&again).unwrap(), "second render differs");
}

#[test]
fn fade_blends_in_the_middle_and_overlaps_the_clips() {
    let dir = setup();
    let out = dir.path().join("fade.mp4");
    let s = render(dir.path(), Endpoint::SimpleVideo, &two_stills(Some(("fade", "left", 1.0))), &out, Format::Mp4);
    // 2 s + 2 s - 1 s overlap.
    assert_eq!(s.frames, 45);
    // The transition covers 1.0 s .. 2.0 s; its middle is 1.5 s.
    let mid = mean_rgb(&frame_at(&out, 1.5), 100, 100, 700, 400);
    assert_near(mid, [125.0, 30.0, 125.0], 20.0, "fade midpoint");
}

#[test]
fn wipe_left_reveals_the_right_side_first_and_slide_right_the_left() {
    let dir = setup();
    let out = dir.path().join("wipe.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &two_stills(Some(("wipe", "left", 1.0))), &out, Format::Mp4);
    let f = frame_at(&out, 1.3);
    assert_near(mean_rgb(&f, 780, 100, 850, 400), [30.0, 30.0, 220.0], 20.0, "right edge shows the incoming clip");
    assert_near(mean_rgb(&f, 5, 100, 80, 400), [220.0, 30.0, 30.0], 20.0, "left edge still the outgoing clip");
    let out = dir.path().join("slide.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &two_stills(Some(("slide", "right", 1.0))), &out, Format::Mp4);
    let f = frame_at(&out, 1.5);
    assert_near(
        mean_rgb(&f, 5, 100, 80, 400),
        [30.0, 30.0, 220.0],
        20.0,
        "slide right: left edge shows the incoming clip",
    );
    assert_near(mean_rgb(&f, 780, 100, 850, 400), [220.0, 30.0, 30.0], 20.0, "slide right: right edge still outgoing");
}

#[test]
fn zoom_changes_the_frame_over_time() {
    let dir = tempfile::tempdir().unwrap();
    // Left half black, right half white: zooming in moves the edge pixels.
    let mut img = image::RgbaImage::from_pixel(320, 180, image::Rgba([0, 0, 0, 255]));
    for y in 0..180 {
        for x in 0..320 {
            if (x / 20 + y / 20) % 2 == 0 {
                img.put_pixel(x, y, image::Rgba([255, 255, 255, 255]));
            }
        }
    }
    img.save(dir.path().join("checker.png")).unwrap();
    let spec = json!({"media_list": [{"type": "image", "url": "checker.png", "duration": 3}],
        "settings": {"output_quality": "low", "fps": 15, "zoom_effect": true, "zoom_intensity": 1.0, "zoom_direction": "in"}});
    let out = dir.path().join("zoom.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    let a = frame_at(&out, 0.1);
    let b = frame_at(&out, 2.8);
    let diff: f64 = a.2.iter().zip(&b.2).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.2.len() as f64;
    assert!(diff > 20.0, "frames barely differ: {diff}");
    // The centre stays the centre.
    let ca = mean_rgb(&a, 417, 230, 437, 250);
    let cb = mean_rgb(&b, 417, 230, 437, 250);
    assert!((ca[0] - cb[0]).abs() < 60.0, "{ca:?} {cb:?}");
}

#[test]
fn watermark_sits_in_its_corner_at_its_opacity_and_text_band_shows() {
    let dir = setup();
    solid_png(dir.path(), "white.png", 100, 50, [255, 255, 255, 255]);
    let spec = json!({"media_list": [{"type": "image", "url": "black.png", "duration": 1}],
        "settings": {"output_quality": "low", "fps": 15, "watermark_url": "white.png", "watermark_position": "top_left",
            "watermark_size": 0.2, "watermark_opacity": 0.5, "watermark_padding": 10,
            "text_overlays": [{"text": "Hello band", "position": "bottom", "background": "black"}]}});
    let out = dir.path().join("wm.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    let f = frame_at(&out, 0.5);
    // 20 % of 854 = 171 px wide, 85 px tall, at (10, 10): half white over black.
    assert_near(mean_rgb(&f, 30, 25, 160, 80), [128.0, 128.0, 128.0], 18.0, "watermark at 50 %");
    assert_near(mean_rgb(&f, 700, 20, 840, 80), [0.0, 0.0, 0.0], 12.0, "top right is clear");
    // The band near the bottom has white text pixels.
    let (w, _, data) = &f;
    let bright = (400..470)
        .flat_map(|y| (0..*w).map(move |x| (x, y)))
        .filter(|&(x, y)| data[((y * w + x) * 3) as usize] > 200)
        .count();
    assert!(bright > 200, "text band has {bright} bright pixels");
}

#[test]
fn caption_is_visible_only_in_its_window() {
    let dir = setup();
    let spec = json!({"media_list": [{"type": "image", "url": "black.png", "duration": 3}],
        "transcripts": [{"words": "Only now", "start": 1.0, "end": 2.0}],
        "settings": {"output_quality": "low", "fps": 15}});
    let out = dir.path().join("cap.mp4");
    render(dir.path(), Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let bright = |t: f64| {
        let (w, h, data) = frame_at(&out, t);
        (h / 2..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| data[((y * w + x) * 3) as usize] > 200)
            .count()
    };
    assert!(bright(0.5) < 10, "caption before its window");
    assert!(bright(1.5) > 200, "caption missing in its window");
    assert!(bright(2.6) < 10, "caption after its window");
}

#[test]
fn voice_and_music_levels_follow_audio_volume() {
    let dir = setup();
    let p = dir.path();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3:sample_rate=44100",
        "-af",
        "volume=0.5",
        p.join("voice.wav").to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=880:duration=3",
        "-af",
        "volume=0.5",
        "-c:a",
        "flac",
        p.join("music.flac").to_str().unwrap(),
    ]);
    let spec = json!({"media_list": [{"type": "image", "url": "black.png", "duration": 3}],
        "voice_url": "voice.wav", "background_url": "music.flac",
        "settings": {"output_quality": "low", "fps": 15, "audio_volume": 0.25}});
    let out = p.join("audio.mp4");
    render(p, Endpoint::MixVideo, &spec, &out, Format::Mp4);
    let a = probe(&out, "a:0");
    assert_eq!(a["codec_name"], "opus");
    assert_eq!(a["sample_rate"], "48000");
    assert_eq!(a["channels"], 2);
    let dur: f64 = a["duration"].as_str().and_then(|d| d.parse().ok()).unwrap();
    assert!((dur - 3.0).abs() < 0.1, "audio duration {dur}");
    let s = audio_mono(&out, 0.5, 2.5);
    let (v, m) = (tone_db(&s, 440.0), tone_db(&s, 880.0));
    assert!((v - m - 12.04).abs() < 1.5, "voice {v:.1} dB, music {m:.1} dB");
    assert!(s.iter().all(|x| x.abs() <= 1.0));
}

#[test]
fn y4m_output_has_raw_frames() {
    let dir = setup();
    let out = dir.path().join("raw.y4m");
    render(dir.path(), Endpoint::SimpleVideo, &two_stills(None), &out, Format::Y4m);
    let v = probe(&out, "v:0");
    assert_eq!(v["codec_name"], "rawvideo");
    let size = std::fs::metadata(&out).unwrap().len();
    let frame = 854 * 480 * 3 / 2 + 6;
    assert!(size >= 60 * frame && size < 60 * frame + 200, "{size}");
    assert_near(
        mean_rgb(&frame_at(&out, 3.5), 100, 100, 700, 400),
        [30.0, 30.0, 220.0],
        20.0,
        "y4m colour (y4m carries no matrix: ffmpeg assumes BT.601)",
    );
}

/// The bundled 9:16 example (README quick start's sibling) carries voice-over, music and
/// captions: portrait geometry, an Opus track with sound throughout, and caption text that is
/// there only because of the transcripts (the same spec without them differs only low in the
/// frame, where captions sit).
#[test]
fn bundled_social_example_has_voice_music_and_captions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/social");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spec.json")).expect("spec")).expect("json");
    let tmp = tempfile::tempdir().expect("tmp");
    let with = tmp.path().join("social.mp4");
    let summary = render(&dir, Endpoint::MixVideo, &spec, &with, Format::Mp4);
    assert!(summary.height > summary.width, "9:16 is portrait: {}x{}", summary.width, summary.height);
    let a = probe(&with, "a:0");
    assert_eq!(a["codec_name"], "opus");
    assert_eq!(a["sample_rate"], "48000");
    let level = |t0: f64, t1: f64| {
        let s = audio_mid(&with, t0, t1);
        let rms = (s.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt();
        20.0 * rms.max(1e-9).log10()
    };
    for (t0, t1) in [(0.2, 1.2), (2.2, 3.2)] {
        let db = level(t0, t1);
        assert!(db > -40.0, "voice and music are audible at {t0}-{t1} s: {db:.1} dB");
    }

    let mut bare = spec.clone();
    bare["data"].as_object_mut().expect("data").remove("transcripts");
    let without = tmp.path().join("bare.mp4");
    render(&dir, Endpoint::MixVideo, &bare, &without, Format::Mp4);
    let (w, h, f1) = frame_at(&with, 1.0);
    let (_, _, f0) = frame_at(&without, 1.0);
    let band_diff = |y0: u32, y1: u32| {
        let mut sum = 0u64;
        for y in y0..y1 {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                sum += (0..3).map(|c| (f1[i + c] as i32 - f0[i + c] as i32).unsigned_abs() as u64).sum::<u64>();
            }
        }
        sum as f64 / ((y1 - y0) * w * 3) as f64
    };
    let top = band_diff(0, h / 3);
    let low = band_diff(h * 2 / 3, h);
    assert!(low > 3.0 && low > 5.0 * top.max(0.2), "captions change the lower third ({low:.2}) not the top ({top:.2})");
}

/// Renders `spec` to `STEM-1.mp4` and `STEM-2.mp4` in `dir` with 1 and 2 segment workers,
/// asserts the two files are the same bytes, and returns the second one and its summary.
fn same_bytes_with_1_and_2_workers(
    dir: &std::path::Path,
    endpoint: Endpoint,
    spec: &serde_json::Value,
    stem: &str,
) -> (std::path::PathBuf, samvideo_core::render::RenderSummary) {
    let mut renders = Vec::new();
    for workers in [1, 2] {
        let out = dir.join(format!("{stem}-{workers}.mp4"));
        let options = samvideo_core::render::RenderOptions { threads: workers, ..Default::default() };
        let s = render_with(dir, endpoint, spec, &out, &options);
        renders.push((std::fs::read(&out).expect("output"), out, s));
    }
    let (two, one) = (renders.pop().expect("2 workers"), renders.pop().expect("1 worker"));
    assert_eq!(one.2.frames, two.2.frames, "1 vs 2 workers: frames");
    assert!(one.0 == two.0, "{stem}: 1 vs 2 workers give different bytes");
    (two.1, two.2)
}

/// MP4 frames are encoded in 10 s segments by parallel workers (render/segments.rs). An 11 s
/// video (two segments; the last still starts with a fade at 8 s and runs across the
/// boundary) has the same bytes with 1 and 2 workers, plays every frame with the right
/// colours either side of the boundary, and has a key frame where each segment starts.
#[test]
fn segments_encoded_in_parallel_give_the_same_bytes_whatever_the_worker_count() {
    let dir = setup();
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 5},
        {"type": "image", "url": "blue.png", "duration": 5},
        {"type": "image", "url": "red.png", "duration": 3}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15,
        "transition_type": "fade", "transition_duration": 1}});
    let (out, s) = same_bytes_with_1_and_2_workers(dir.path(), Endpoint::SimpleVideo, &spec, "split");
    assert_eq!(s.frames, 165, "11 s at 15 fps");
    let out = &out;
    let packets: Vec<(f64, bool)> = ffprobe_csv(out, "v:0", "packet=pts_time,flags")
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(t, f)| (t.parse().unwrap(), f.contains('K')))
        .collect();
    assert_eq!(packets.len(), 165, "every frame is in the file");
    let keys: Vec<f64> = packets.iter().filter(|p| p.1).map(|p| p.0).collect();
    assert!(keys.contains(&0.0) && keys.iter().any(|t| (t - 10.0).abs() < 1e-6), "key frames {keys:?}");
    let (red, blue) = ([220.0, 30.0, 30.0], [30.0, 30.0, 220.0]);
    assert_near(mean_rgb(&frame_at(out, 3.0), 100, 100, 700, 400), red, 12.0, "first still");
    assert_near(mean_rgb(&frame_at(out, 6.5), 100, 100, 700, 400), blue, 12.0, "second still");
    assert_near(mean_rgb(&frame_at(out, 9.9), 100, 100, 700, 400), red, 12.0, "before the boundary");
    assert_near(mean_rgb(&frame_at(out, 10.1), 100, 100, 700, 400), red, 12.0, "after the boundary");
}

/// 29.97 fps is exactly 30000/1001 everywhere a player looks: the stream's rate, each frame's
/// duration (1001 in a 1/30000 timescale), the frame count of a whole-spec duration, the
/// segment split (10 s = 300 frames, so 330 frames make two segments) and the audio length.
#[test]
fn ntsc_rate_is_exact_through_segments_mp4_and_audio() {
    let dir = setup();
    let music = dir.path().join("music.wav");
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-ar", "48000", music.to_str().unwrap()]);
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 5.5},
        {"type": "image", "url": "blue.png", "duration": 5.5}
    ], "background_url": "music.wav",
       "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 29.97}});
    let out = dir.path().join("ntsc.mp4");
    let s = render(dir.path(), Endpoint::MixVideo, &spec, &out, Format::Mp4);
    // 5.5 s × 29.97 = 164.8 → 165 frames per still.
    assert_eq!(s.frames, 330);
    let v = probe(&out, "v:0");
    assert_eq!(v["r_frame_rate"], "30000/1001");
    assert_eq!(v["avg_frame_rate"], "30000/1001");
    assert_eq!(v["time_base"], "1/30000");
    assert_eq!(v["nb_frames"], "330");
    // Every packet lasts 1001 ticks and starts where the previous one ended.
    let packets = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,duration", "-of", "csv=p=0"])
        .arg(&out)
        .output()
        .expect("ffprobe");
    let mut pts: Vec<(i64, i64)> = String::from_utf8_lossy(&packets.stdout)
        .lines()
        .filter_map(|l| {
            let (p, d) = l.split_once(',')?;
            Some((p.parse().ok()?, d.parse().ok()?))
        })
        .collect();
    pts.sort();
    assert_eq!(pts.len(), 330);
    for (i, (p, d)) in pts.iter().enumerate() {
        assert_eq!((*p, *d), (i as i64 * 1001, 1001), "packet {i}");
    }
    // 330 × 1001 / 30000 = 11.011 s; the music is cut to the video.
    let video: f64 = v["duration"].as_str().and_then(|d| d.parse().ok()).expect("video duration");
    assert!((video - 11.011).abs() < 0.002, "video {video}");
    let a = probe(&out, "a:0");
    let audio: f64 = a["duration"].as_str().and_then(|d| d.parse().ok()).expect("audio duration");
    assert!((audio - 11.011).abs() < 0.025, "audio {audio} vs video 11.011");
    // The cut is at frame 165 = 5.5055 s, on both sides of the segment boundary (frame 300).
    assert_near(mean_rgb(&frame_at(&out, 5.4), 100, 100, 700, 400), [220.0, 30.0, 30.0], 12.0, "red");
    assert_near(mean_rgb(&frame_at(&out, 5.6), 100, 100, 700, 400), [30.0, 30.0, 220.0], 12.0, "blue");
    assert_near(mean_rgb(&frame_at(&out, 10.5), 100, 100, 700, 400), [30.0, 30.0, 220.0], 12.0, "second segment");
    assert!(tone_db(&audio_mono(&out, 10.0, 10.9), 440.0) > -20.0, "music plays in the second segment");
}

/// The poster frame is the composited frame at `thumbnail_time` (default 1 s, clamped to the
/// video), at the video's size, whichever segment worker or output writes it.
#[test]
fn poster_frame_at_thumbnail_time_from_any_segment_and_output() {
    let dir = setup();
    let spec = |thumbnail: Option<f64>| {
        let mut s = json!({"media_list": [
            {"type": "image", "url": "red.png", "duration": 6},
            {"type": "image", "url": "blue.png", "duration": 6}
        ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}});
        if let Some(t) = thumbnail {
            s["settings"]["thumbnail_time"] = json!(t);
        }
        s
    };
    let poster_rgb = |path: &std::path::Path| {
        let img = image::open(path).expect("poster decodes").to_rgb8();
        assert_eq!(img.dimensions(), (854, 480), "the video's size");
        let px = img.get_pixel(427, 240).0;
        [f64::from(px[0]), f64::from(px[1]), f64::from(px[2])]
    };
    let red = [220.0, 30.0, 30.0];
    let blue = [30.0, 30.0, 220.0];
    // (thumbnail_time, format, colour): 11 s is in the second 10 s segment; 99 s clamps to the
    // last frame; the Y4M output writes it from its compositor thread.
    for (t, format, want) in [
        (None, Format::Mp4, red),
        (Some(11.0), Format::Mp4, blue),
        (Some(99.0), Format::Mp4, blue),
        (Some(7.0), Format::Y4m, blue),
    ] {
        let out = dir.path().join("p.out");
        let poster = dir.path().join("p.jpg");
        let _ = std::fs::remove_file(&poster);
        let options = samvideo_core::RenderOptions { format, poster: Some(poster.clone()), ..Default::default() };
        render_with(dir.path(), Endpoint::SimpleVideo, &spec(t), &out, &options);
        assert_near(poster_rgb(&poster), want, 10.0, &format!("poster at {t:?}"));
    }
    // A failed render leaves no poster behind.
    let poster = dir.path().join("failed.jpg");
    let bad = json!({"media_list": [{"type": "image", "url": "missing.png", "duration": 2}]});
    let request = samvideo_core::parse_create(Endpoint::SimpleVideo, bad.to_string().as_bytes()).expect("valid");
    let options = samvideo_core::RenderOptions { poster: Some(poster.clone()), ..Default::default() };
    let source = std::sync::Arc::new(samvideo_core::LocalSource::new(dir.path()));
    assert!(samvideo_core::render_to_file(&request, source, &dir.path().join("f.mp4"), &options).is_err());
    assert!(!poster.exists(), "no poster of a failed render");
}

/// Captions stay where platform UIs leave them visible: in 9:16 every caption pixel lies in
/// x ∈ [0.06W, 0.86W], y ∈ [0.12H, 0.80H] (clear of the TikTok/Reels buttons and caption);
/// 16:9 and 1:1 stay title-safe (the central 90 %). A long caption wraps inside the area.
/// `disable_captions` gives the same file as no transcripts.
#[test]
fn captions_stay_in_the_platform_safe_area_and_can_be_disabled() {
    let dir = setup();
    solid_png(dir.path(), "green.png", 64, 64, [40, 160, 60, 255]);
    let words = "Captions stay clear of the buttons on every platform we post to, even long ones";
    let spec = |aspect: &str, transcripts: bool, disable: bool| {
        let mut s = json!({"media_list": [{"type": "image", "url": "green.png", "duration": 2}],
            "settings": {"aspect_ratio": aspect, "output_quality": "low", "fps": 15}});
        if transcripts {
            s["transcripts"] = json!([{"words": words, "start": 0.0, "end": 2.0}]);
        }
        if disable {
            s["settings"]["disable_captions"] = json!(true);
        }
        s
    };
    for (aspect, (x0, x1, y0, y1)) in
        [("9:16", (0.06, 0.86, 0.12, 0.80)), ("16:9", (0.05, 0.95, 0.05, 0.95)), ("1:1", (0.05, 0.95, 0.05, 0.95))]
    {
        let with = dir.path().join("with.mp4");
        let without = dir.path().join("without.mp4");
        render(dir.path(), Endpoint::MixVideo, &spec(aspect, true, false), &with, Format::Mp4);
        render(dir.path(), Endpoint::MixVideo, &spec(aspect, false, false), &without, Format::Mp4);
        let (w, h, a) = frame_at(&with, 1.0);
        let (_, _, b) = frame_at(&without, 1.0);
        let mut bounds = (u32::MAX, 0, u32::MAX, 0);
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                if (0..3).any(|c| (i32::from(a[i + c]) - i32::from(b[i + c])).abs() > 24) {
                    bounds = (bounds.0.min(x), bounds.1.max(x), bounds.2.min(y), bounds.3.max(y));
                }
            }
        }
        let (fw, fh) = (f64::from(w), f64::from(h));
        let (bx0, bx1, by0, by1) =
            (f64::from(bounds.0) / fw, f64::from(bounds.1) / fw, f64::from(bounds.2) / fh, f64::from(bounds.3) / fh);
        eprintln!("{aspect}: caption pixels x {bx0:.3}..{bx1:.3}, y {by0:.3}..{by1:.3}");
        assert!(bounds.1 > bounds.0, "{aspect}: no caption drawn");
        // One pixel of slack for chroma subsampling at the box edge.
        let (sx, sy) = (1.5 / fw, 1.5 / fh);
        assert!(bx0 >= x0 - sx && bx1 <= x1 + sx, "{aspect}: caption x {bx0:.3}..{bx1:.3} outside {x0}..{x1}");
        assert!(by0 >= y0 - sy && by1 <= y1 + sy, "{aspect}: caption y {by0:.3}..{by1:.3} outside {y0}..{y1}");
        assert!(by1 > y1 - 0.03, "{aspect}: a bottom caption sits at the bottom of the area ({by1:.3})");
    }
    let off = dir.path().join("off.mp4");
    let none = dir.path().join("none.mp4");
    render(dir.path(), Endpoint::MixVideo, &spec("9:16", true, true), &off, Format::Mp4);
    render(dir.path(), Endpoint::MixVideo, &spec("9:16", false, false), &none, Format::Mp4);
    assert_eq!(std::fs::read(&off).expect("off"), std::fs::read(&none).expect("none"), "disable_captions");
}

/// dav1d and libaom (strict: it refuses a re-shown key frame) decode every frame of the AV1 file
/// `out` within 6 luma levels (8x8 means) of the lossless render `raw`.
fn dav1d_and_libaom_show_every_frame_of(out: &std::path::Path, raw: &std::path::Path) {
    let want = lumas_with(raw, None);
    for decoder in [None, Some("libaom-av1")] {
        let got = lumas_with(out, decoder);
        assert_eq!(got.len(), want.len(), "{decoder:?}: frame count");
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 6.0, "{decoder:?}: a frame's luma is {worst} away from the lossless render");
    }
}

/// Mean luma of every decoded frame of `path` (decoder `codec`, or ffmpeg's default), 8x8.
fn lumas_with(path: &std::path::Path, codec: Option<&str>) -> Vec<f64> {
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-loglevel", "error", "-xerror"]);
    if let Some(c) = codec {
        cmd.args(["-c:v", c]);
    }
    let out = cmd
        .arg("-i")
        .arg(path)
        .args(["-map", "0:v:0", "-fps_mode", "passthrough", "-vf", "scale=8:8,format=gray", "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{codec:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(64).map(|f| f.iter().map(|&p| p as f64).sum::<f64>() / 64.0).collect()
}

/// A held still is encoded twice (the picture, then one refinement) and every other frame
/// re-shows it with a 5-byte temporal unit (`show_existing_frame`): the file still has one
/// sample per frame, and libaom (strict: refuses re-shown key frames) and dav1d both decode
/// every frame as the lossless render shows it, across hard cuts, fades and a segment boundary.
#[test]
fn held_stills_are_shown_again_not_encoded_again() {
    let dir = setup();
    solid_png(dir.path(), "white.png", 64, 36, [240, 240, 240, 255]);
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 4},
        {"type": "image", "url": "white.png", "duration": 4},
        {"type": "image", "url": "blue.png", "duration": 2},
        {"type": "image", "url": "black.png", "duration": 3}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15,
        "transition_type": "fade", "transition_duration": 0.5}});
    let out = dir.path().join("held.mp4");
    let raw = dir.path().join("held.y4m");
    let s = render(dir.path(), Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    render(dir.path(), Endpoint::SimpleVideo, &spec, &raw, Format::Y4m);
    let sizes: Vec<usize> =
        ffprobe_csv(&out, "v:0", "packet=size").lines().map(|l| l.trim().parse().expect("size")).collect();
    assert_eq!(sizes.len() as u64, s.frames, "one sample per frame");
    let reshown = sizes.iter().filter(|&&n| n == 5).count();
    eprintln!("{} frames, {reshown} re-shown with 5 bytes", s.frames);
    assert!(reshown as u64 * 10 >= s.frames * 6, "most frames of held stills are re-shows: {reshown} of {}", s.frames);
    dav1d_and_libaom_show_every_frame_of(&out, &raw);
}

/// Issue 18: a 720p segment of stills runs at speed 7 and a segment of brief pictures (a video
/// clip: frames 150..195) at speed 10 (`EncodePreset::for_segment`). The file is the same with 1 and 2 workers, and
/// libaom (strict) and dav1d decode every frame of both segments as the lossless render shows it.
#[test]
fn stills_and_motion_segments_at_their_own_speeds_decode_everywhere_and_keep_their_bytes() {
    let dir = setup();
    h264_clip(&dir.path().join("clip.mp4"), "640x360", 15, 3.0, 440);
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 10},
        {"type": "video", "url": "clip.mp4"}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "medium", "fps": 15}});
    let raw = dir.path().join("mixed.y4m");
    render(dir.path(), Endpoint::MixVideo, &spec, &raw, Format::Y4m);
    let (out, s) = same_bytes_with_1_and_2_workers(dir.path(), Endpoint::MixVideo, &spec, "mixed");
    assert_eq!((s.width, s.height, s.frames), (1280, 720, 195), "10 s still + the clip's 3 s at 15 fps");
    dav1d_and_libaom_show_every_frame_of(&out, &raw);
}

/// Issue 18: a video whose picture moves in every frame (Ken Burns) is encoded by SVT-AV1
/// (`encode/svt_av1.rs`) in segments of 2.5 s or more. The file is the same with 1 and 2
/// workers, has one sample per frame at the requested rate, key frames only where segments
/// start, and libaom (strict), dav1d and in-process rav1d decode every frame as the lossless
/// render shows it.
#[test]
fn a_moving_video_is_encoded_by_svt_av1_the_same_with_any_worker_count_and_decodes_everywhere() {
    let dir = setup();
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 3},
        {"type": "image", "url": "blue.png", "duration": 3},
        {"type": "image", "url": "black.png", "duration": 3}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15, "zoom_effect": true,
        "transition_type": "fade", "transition_duration": 0.5}});
    let raw = dir.path().join("zoom.y4m");
    render(dir.path(), Endpoint::MixVideo, &spec, &raw, Format::Y4m);
    let (out, s) = same_bytes_with_1_and_2_workers(dir.path(), Endpoint::MixVideo, &spec, "zoom");
    assert_eq!(s.frames, 119, "9 s at 15 fps less two 0.5 s fades (7.5 frames: 8 and 7)");
    let v = probe(&out, "v:0");
    assert_eq!((v["r_frame_rate"].as_str(), v["avg_frame_rate"].as_str()), (Some("15/1"), Some("15/1")));
    let packets: Vec<(f64, bool)> = ffprobe_csv(&out, "v:0", "packet=pts_time,flags")
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(t, f)| (t.parse().expect("pts"), f.contains('K')))
        .collect();
    assert_eq!(packets.len(), 119, "one sample per frame");
    let keys: Vec<f64> = packets.iter().filter(|p| p.1).map(|p| p.0).collect();
    // 119 frames / 12 is under 2.5 s: segments of 38 frames (2.53 s) start at 0, 38, 76, 114.
    let starts: Vec<f64> = [0.0, 38.0, 76.0, 114.0].iter().map(|f| f / 15.0).collect();
    assert_eq!(keys.len(), starts.len(), "key frames {keys:?}");
    assert!(keys.iter().zip(&starts).all(|(k, s)| (k - s).abs() < 1e-3), "key frames {keys:?} vs {starts:?}");
    dav1d_and_libaom_show_every_frame_of(&out, &raw);
    // In-process rav1d reads it too: the file as a video clip of another render.
    let again = dir.path().join("again.y4m");
    let clip = json!({"media_list": [{"type": "video", "url": "zoom-2.mp4"}],
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}});
    render(dir.path(), Endpoint::MixVideo, &clip, &again, Format::Y4m);
    let (got, want) = (lumas_with(&again, None), lumas_with(&raw, None));
    assert_eq!(got.len(), want.len(), "rav1d: frame count");
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 6.0, "rav1d: a frame's luma is {worst} away from the lossless render");
}

/// A moving video (SVT-AV1) cancelled mid-render ends promptly with `Cancelled` and leaves no
/// file: each worker's SVT-AV1 encoder, dropped mid-stream, closes instead of waiting for a
/// stream that never ends (`SvtAv1Encoder`'s `Drop`).
#[test]
fn a_moving_video_cancelled_mid_render_ends_promptly() {
    use samvideo_core::media::local::LocalSource;
    use samvideo_core::render::{render_to_file, CancelToken, RenderError, RenderOptions};
    use std::sync::Arc;
    let dir = setup();
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 10},
        {"type": "image", "url": "blue.png", "duration": 10}
    ], "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15, "zoom_effect": true}});
    let request =
        samvideo_core::validate::parse_create(Endpoint::MixVideo, spec.to_string().as_bytes()).expect("valid");
    let cancel = CancelToken::new();
    let on_progress = cancel.clone();
    let progress: samvideo_core::render::ProgressFn = Arc::new(move |p: f64| {
        if p > 0.2 {
            on_progress.cancel();
        }
    });
    let out = dir.path().join("cancelled.mp4");
    let options = RenderOptions { threads: 2, cancel, progress: Some(progress), ..RenderOptions::default() };
    let started = std::time::Instant::now();
    let result = render_to_file(&request, Arc::new(LocalSource::new(dir.path())), &out, &options);
    assert!(matches!(result, Err(RenderError::Cancelled)), "{:?}", result.map(|s| s.frames));
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
    assert!(!out.exists(), "a cancelled render leaves no file");
}
