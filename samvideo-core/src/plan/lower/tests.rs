//! Table tests of the lowering: one per rule of `docs/timing.md`.

use super::*;
use crate::request::Endpoint;

fn mix(items: Vec<serde_json::Value>) -> CreateRequest {
    let body = serde_json::json!({"media_list": items, "settings": {"fps": 15, "output_quality": "low"}});
    crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid")
}

fn options(max_output_seconds: f64, max_clips: usize) -> LowerOptions {
    LowerOptions { limits: Limits { max_output_seconds, max_clips, ..Limits::default() }, ..LowerOptions::default() }
}

#[test]
fn the_output_length_limit_is_the_operators() {
    // One 720 s clip: over the default 600 s, inside an operator's 900 s.
    let request = mix(vec![serde_json::json!({"type": "video", "url": "long.mp4"})]);
    let twelve_minutes = |_: &str, _: DurationOf| Some(720.0);
    let err = lower(&request, &twelve_minutes, &LowerOptions::default()).expect_err("over 600 s");
    assert_eq!(err.to_string(), "output of 720 s exceeds the 600 s limit");
    let plan = lower(&request, &twelve_minutes, &options(900.0, 100)).expect("inside 900 s");
    assert_eq!(plan.duration_secs(), 720.0);
    let err = lower(&request, &twelve_minutes, &options(700.0, 100)).expect_err("over 700 s");
    assert_eq!(err.to_string(), "output of 720 s exceeds the 700 s limit");
}

#[test]
fn the_clip_limit_counts_the_requests_items() {
    let stills = |n: usize| {
        (0..n).map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 1})).collect()
    };
    assert!(lower(&mix(stills(100)), &|_, _| None, &LowerOptions::default()).is_ok());
    let err = lower(&mix(stills(101)), &|_, _| None, &LowerOptions::default()).expect_err("101 clips");
    assert_eq!(err.to_string(), "101 clips exceed the 100 clip limit");
    let err = lower(&mix(stills(3)), &|_, _| None, &options(600.0, 2)).expect_err("3 of 2");
    assert_eq!(err.to_string(), "3 clips exceed the 2 clip limit");
}

// ---- One table per rule of docs/timing.md ----

use crate::plan::{AudioRole, CaptionBox, ClipSource, Corner, Fit, Overlay, TransitionKind, Zoom};
use serde_json::{json, Value};

/// Lower `body` sent to `endpoint`; `video`/`audio` answer every video/audio URL's length.
fn plan_of(endpoint: Endpoint, body: Value, video: Option<f64>, audio: Option<f64>) -> RenderPlan {
    let request = crate::validate::parse_create_value(endpoint, body).unwrap_or_else(|e| panic!("{}", e.body));
    let durations = move |_: &str, kind: DurationOf| match kind {
        DurationOf::Video => video,
        DurationOf::Audio => audio,
    };
    lower(&request, &durations, &LowerOptions::default()).expect("lowers")
}

fn simple(items: Value, settings: Value) -> RenderPlan {
    plan_of(Endpoint::SimpleVideo, json!({"media_list": items, "settings": settings}), Some(10.0), None)
}

fn image(duration: Option<f64>) -> Value {
    match duration {
        Some(d) => json!({"type": "image", "url": "a.png", "duration": d}),
        None => json!({"type": "image", "url": "a.png"}),
    }
}

fn lens(plan: &RenderPlan) -> Vec<u64> {
    plan.clips.iter().map(|c| c.end - c.start).collect()
}

#[test]
fn geometry_follows_aspect_and_quality() {
    for (aspect, quality, want) in [
        ("16:9", "medium", (1280, 720)),
        ("9:16", "high", (1080, 1920)),
        ("1:1", "medium", (720, 720)),
        ("16:9", "low", (854, 480)),
    ] {
        let p = simple(json!([image(Some(1.0))]), json!({"aspect_ratio": aspect, "output_quality": quality}));
        assert_eq!((p.width, p.height), want, "{aspect} {quality}");
    }
    let p = simple(json!([image(Some(1.0))]), json!({}));
    assert_eq!((p.width, p.height), (1280, 720), "default 16:9 medium");
    for (resolution, want) in [(None, (1280, 720)), (Some("1080p"), (1920, 1080)), (Some("480p"), (854, 480))] {
        let mut out = json!({"aspect_ratio": "16:9"});
        if let Some(r) = resolution {
            out["resolution"] = json!(r);
        }
        let body = json!({"media_inputs": {"main_clips": [image(Some(1.0))]}, "output_settings": out});
        let p = plan_of(Endpoint::AdvancedVideo, body, None, None);
        assert_eq!((p.width, p.height), want, "advanced {resolution:?}");
    }
}

#[test]
fn frame_rate_defaults_to_30_and_keeps_ntsc_exact() {
    for (fps, want, frames_of_2s) in
        [(None, (30, 1), 60), (Some(json!(24)), (24, 1), 48), (Some(json!(29.97)), (30_000, 1001), 60)]
    {
        let settings = fps.map_or(json!({}), |f| json!({ "fps": f }));
        let p = simple(json!([image(Some(2.0))]), settings);
        assert_eq!((p.fps.as_fraction(), p.frame_count), (want, frames_of_2s), "{want:?}");
    }
}

#[test]
fn image_length_precedence() {
    // (item duration, settings.image_duration, voice seconds) -> frames at 30 fps.
    for (item, setting, voice, want) in [
        (Some(2.0), Some(4.0), Some(9.5), 60), // the item's own duration wins
        (None, Some(4.0), Some(9.5), 120),     // then image_duration
        (None, None, Some(9.5), 300),          // then the shared voice: 9.5 + 0.5 s
        (None, None, None, 90),                // then 3 s
        (None, Some(0.0), None, 90),           // 0 counts as unset
    ] {
        let mut settings = json!({});
        if let Some(s) = setting {
            settings["image_duration"] = json!(s);
        }
        let mut body = json!({"media_list": [image(item)], "settings": settings});
        if voice.is_some() {
            body["voice_url"] = json!("voice.mp3");
        }
        let p = plan_of(Endpoint::MixVideo, body, None, voice);
        assert_eq!(lens(&p), vec![want], "item {item:?}, setting {setting:?}, voice {voice:?}");
    }
}

#[test]
fn video_length_precedence_and_trims() {
    let video = |extra: Value| {
        let mut v = json!({"type": "video", "url": "v.mp4"});
        v.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
        v
    };
    // Source 10 s at 30 fps. (item keys, settings) -> (frames, trim_start, segment, looped).
    for (keys, settings, want) in [
        (json!({}), json!({}), (300, 0.0, 10.0, false)),
        (json!({"trim_start": 2.0}), json!({}), (240, 2.0, 8.0, false)),
        (json!({"trim_start": 2.0, "trim_end": 5.0}), json!({}), (90, 2.0, 3.0, false)),
        (json!({"trim_start": 2.0, "trim_end": 1.0}), json!({}), (240, 2.0, 8.0, false)), // ignored unless > start
        (json!({"trim_end": 50.0}), json!({}), (300, 0.0, 10.0, false)),                  // capped at the source
        (json!({"duration": 4.0}), json!({}), (120, 0.0, 10.0, false)),
        (json!({"duration": 14.0}), json!({}), (420, 0.0, 10.0, false)), // holds its last frame
        (json!({}), json!({"loop_video": true, "video_loop_duration": 25}), (750, 0.0, 10.0, true)),
        (json!({"duration": 4.0}), json!({"loop_video": true, "video_loop_duration": 25}), (120, 0.0, 10.0, true)),
    ] {
        let p = simple(json!([video(keys.clone())]), settings.clone());
        let ClipSource::Video { trim_start, segment, looped } = p.clips[0].source.clone() else { panic!("video") };
        assert_eq!(
            (lens(&p)[0], trim_start, segment, looped),
            (want.0, want.1, Some(want.2), want.3),
            "{keys} {settings}"
        );
    }
}

#[test]
fn fit_and_the_backdrop_of_a_contained_still() {
    for (keys, want) in [
        (json!({}), Fit::Cover),
        (json!({"fit": "cover"}), Fit::Cover),
        (json!({"fit": "contain"}), Fit::Contain { blur: true }),
        (json!({"fit": "contain", "background": "blur"}), Fit::Contain { blur: true }),
        (json!({"fit": "contain", "background": "color"}), Fit::Contain { blur: false }),
    ] {
        let mut item = image(Some(1.0));
        item.as_object_mut().expect("object").extend(keys.as_object().expect("object").clone());
        assert_eq!(simple(json!([item]), json!({})).clips[0].fit, want, "{keys}");
    }
}

#[test]
fn voice_sharing_gives_the_fewest_frames_that_cover_voice_and_tail() {
    // (voice seconds, images, transition seconds) -> clip lengths at 30 fps.
    for (voice, n, transition, want_total) in [
        (5.3, 3, None, 174),        // ceil(5.8 × 30) = 174, 58 each
        (2.0, 20, None, 75),        // 75 frames over 20 images: 4 each, the first 15 get 4, the rest 3
        (5.3, 3, Some(0.5), 174),   // overlaps are paid back: the timeline still covers 174 frames
        (75.0, 2, Some(1.0), 2265), // ceil(75.5 × 30)
    ] {
        let mut settings = json!({});
        if let Some(t) = transition {
            settings = json!({"transition_type": "fade", "transition_duration": t});
        }
        let items: Vec<Value> = (0..n).map(|_| image(None)).collect();
        let body = json!({"media_list": items, "voice_url": "v.mp3", "settings": settings});
        let p = plan_of(Endpoint::MixVideo, body, None, Some(voice));
        let l = lens(&p);
        assert_eq!(p.frame_count, want_total, "voice {voice} over {n}, transition {transition:?}: {l:?}");
        assert!(l.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1), "even spread, first get extra: {l:?}");
    }
    // A video clip among the items: the images share what the video does not cover.
    let body = json!({"media_list": [image(None), {"type": "video", "url": "v.mp4"}], "voice_url": "v.mp3"});
    let p = plan_of(Endpoint::MixVideo, body, Some(2.0), Some(5.5));
    assert_eq!(lens(&p), vec![120, 60]);
    // One image with a duration: the others take 3 s, the voice is not shared.
    let body = json!({"media_list": [image(Some(1.0)), image(None)], "voice_url": "v.mp3"});
    assert_eq!(lens(&plan_of(Endpoint::MixVideo, body, None, Some(20.0))), vec![30, 90]);
}

#[test]
fn transitions_overlap_and_clamp_to_half_a_neighbour() {
    // (settings, clip seconds) -> (transition frames, total frames).
    for (settings, secs, want_tf, want_total) in [
        (json!({}), [2.0, 2.0], vec![0], 120),
        (json!({"transition_type": "fade"}), [2.0, 2.0], vec![15], 105),
        (json!({"transition_type": "wipe", "transition_duration": 1.0}), [2.0, 2.0], vec![30], 90),
        (json!({"transition_type": "slide", "transition_duration": 3.0}), [2.0, 1.0], vec![15], 75),
    ] {
        let p = simple(json!([image(Some(secs[0])), image(Some(secs[1]))]), settings.clone());
        let tf: Vec<u64> = p.transitions.iter().map(|t| t.frames).collect();
        assert_eq!((tf, p.frame_count), (want_tf, want_total), "{settings}");
        assert_eq!(p.clips[1].start, p.clips[0].end - p.transitions[0].frames);
    }
    let p = simple(json!([image(Some(1.0)), image(Some(1.0))]), json!({"transition_type": "glitch"}));
    assert_eq!(p.transitions[0].kind, TransitionKind::Glitch);
}

#[test]
fn ken_burns_scales_stills_only() {
    let still_then_video = json!([image(Some(1.0)), {"type": "video", "url": "v.mp4"}, image(Some(1.0))]);
    for (settings, want) in [
        (json!({}), [None, None]),
        (json!({"zoom_effect": true}), [Some(Zoom { from: 1.0, to: 1.15 }), Some(Zoom { from: 1.0, to: 1.15 })]),
        (
            json!({"zoom_effect": true, "zoom_intensity": 1.0, "zoom_direction": "out"}),
            [Some(Zoom { from: 1.3, to: 1.0 }), Some(Zoom { from: 1.3, to: 1.0 })],
        ),
        (
            json!({"zoom_effect": true, "zoom_direction": "alternate"}),
            [Some(Zoom { from: 1.0, to: 1.15 }), Some(Zoom { from: 1.15, to: 1.0 })],
        ),
        (json!({"zoom_effect": true, "zoom_intensity": 0}), [None, None]),
    ] {
        let p = simple(still_then_video.clone(), settings.clone());
        assert_eq!(p.clips[1].zoom, None, "a video never zooms");
        assert_eq!([p.clips[0].zoom, p.clips[2].zoom], want, "{settings}");
    }
}

#[test]
fn min_video_duration_extends_the_last_clip() {
    for (min, want) in [(None, vec![30, 30]), (Some(5.0), vec![30, 120]), (Some(1.0), vec![30, 30])] {
        let settings = min.map_or(json!({}), |m| json!({ "min_video_duration": m }));
        let p = simple(json!([image(Some(1.0)), image(Some(1.0))]), settings);
        assert_eq!(lens(&p), want, "{min:?}");
    }
}

#[test]
fn loop_video_repeats_until_its_duration_and_cuts_there() {
    for (duration, want_clips, want_frames) in [(10.0, 4, 300), (2.0, 1, 60), (7.5, 3, 225)] {
        let body = json!({"type": "LoopVideo", "data": {
            "media_list": [image(Some(3.0))], "background_url": "m.mp3", "duration": duration}});
        let p = plan_of(Endpoint::LoopVideo, body, None, Some(1.0));
        assert_eq!((p.clips.len(), p.frame_count), (want_clips, want_frames), "{duration}");
        assert_eq!(p.clips.last().map(|c| c.end), Some(want_frames));
        assert!(p.audio.tracks[0].looped, "the music loops on loop-video");
    }
}

#[test]
fn preview_is_480_short_side_at_most_10_s_fastest_preset() {
    let request = crate::validate::parse_create_value(
        Endpoint::SimpleVideo,
        json!({"media_list": [image(Some(8.0)), image(Some(8.0))], "settings": {"output_quality": "high"}}),
    )
    .expect("valid");
    let p = lower(&request, &|_, _| None, &LowerOptions { preview: true, ..LowerOptions::default() }).expect("plan");
    assert_eq!((p.width, p.height, p.frame_count, p.preset), (854, 480, 300, spec::PREVIEW_PRESET));
    assert_eq!(lens(&p), vec![240, 60]);
}

#[test]
fn watermark_and_text_bands_defaults() {
    let p = simple(json!([image(Some(1.0))]), json!({"watermark_text": "hi", "text_overlays": [{"text": "band"}]}));
    let Overlay::WatermarkText { position, size, opacity, padding, .. } = &p.overlays[0] else { panic!("watermark") };
    assert_eq!((*position, *size, *opacity, *padding), (Corner::BottomRight, 0.15, 0.7, 20));
    let Overlay::Text { style, start, end, .. } = &p.overlays[1] else { panic!("band") };
    assert_eq!((style.font_px, *start, *end), (720.0 * 0.055, 0, 30));
    // An image watermark wins over text; a blank text draws nothing.
    let p = simple(json!([image(Some(1.0))]), json!({"watermark_url": "w.png", "watermark_text": "x"}));
    assert!(matches!(p.overlays.as_slice(), [Overlay::WatermarkImage { .. }]));
    assert!(simple(json!([image(Some(1.0))]), json!({"watermark_text": "  "})).overlays.is_empty());
}

#[test]
fn captions_show_on_rounded_frames_and_scale_pixel_sizes() {
    let body = json!({"media_list": [image(Some(4.0))], "transcripts": [
        {"words": "one", "start": 0.51, "end": 1.49}, {"words": "late", "start": 3.5, "end": 9.0}]});
    let p = plan_of(Endpoint::MixVideo, body, None, None);
    let spans: Vec<(u64, u64, f32)> =
        p.captions.iter().map(|c| (c.start, c.end, (c.look.font_px * 100.0).round() / 100.0)).collect();
    // round(0.51 × 30) = 15 .. round(1.49 × 30) = 45; the second is cut at the video's end.
    assert_eq!(spans, vec![(15, 45, 43.2), (105, 120, 43.2)], "6 % of the short side");
    assert_eq!(p.captions[0].look.boxed, CaptionBox::Page, "classic: today's box");
    let body = json!({"media_inputs": {"main_clips": [image(Some(2.0))]}, "output_settings": {"resolution": "480p"},
        "caption_elements": [{"text_content": "hi", "start_time": 0, "duration": 1,
            "styling": {"font_size": 54, "stroke_width": 6}}]});
    let p = plan_of(Endpoint::AdvancedVideo, body, None, None);
    let c = &p.captions[0];
    assert_eq!((c.look.font_px, c.look.stroke.1, c.start, c.end), (24.0, 480.0 * 6.0 / 1080.0, 0, 30));
}

#[test]
fn words_share_their_entry_by_characters() {
    let w = captions::split_words("a  bcd\nef", 1.0, 7.0);
    let got: Vec<(&str, f64, f64)> = w.iter().map(|w| (w.text.as_str(), w.start, w.end)).collect();
    assert_eq!(got, vec![("a", 1.0, 2.0), ("bcd", 2.0, 5.0), ("ef", 5.0, 7.0)]);
    assert!(captions::split_words("   ", 0.0, 1.0).is_empty());
    // Characters, not bytes: "été" is 3.
    let w = captions::split_words("été a", 0.0, 4.0);
    assert_eq!((w[0].end, w[1].start), (3.0, 3.0));
}

/// A subtitle file's cues are the entries: `classic` keeps one page per cue; a WebVTT
/// timestamp tag times the words after it, the words between two tags share their span by
/// characters; `disable_captions` draws none; a URL nobody fetched is refused, not read as text.
#[test]
fn subtitle_cues_become_entries_and_tags_time_the_words() {
    let body = |key: &str, file: &str, settings: Value| json!({"media_list": [image(Some(4.0))], key: file, "settings": settings});
    let srt = "1\n00:00:00,500 --> 00:00:01,000\nHello there\n\n2\n00:00:02,000 --> 00:00:03,000\nBye\n";
    let p = plan_of(Endpoint::MixVideo, body("transcript_srt", srt, json!({})), None, None);
    let pages: Vec<(u64, u64, usize)> = p.captions.iter().map(|c| (c.start, c.end, c.words.len())).collect();
    assert_eq!(pages, vec![(15, 30, 2), (60, 90, 1)]);
    let vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nab <00:00:01.000>c dd\n";
    let p = plan_of(Endpoint::MixVideo, body("transcript_vtt", vtt, json!({"caption_style": "highlight"})), None, None);
    let words: Vec<(&str, u64, u64)> = p.captions[0].words.iter().map(|w| (w.text.as_str(), w.start, w.end)).collect();
    // "ab" 0..1 s by its tag; "c dd" share 1..2 s by characters: c 1..1.33, dd 1.33..2.
    assert_eq!(words, vec![("ab", 0, 30), ("c", 30, 40), ("dd", 40, 60)]);
    let off = body("transcript_vtt", vtt, json!({"disable_captions": true}));
    assert!(plan_of(Endpoint::MixVideo, off, None, None).captions.is_empty());
    let url = body("transcript_vtt", "https://cdn.example.com/c.vtt", json!({}));
    let request = crate::validate::parse_create_value(Endpoint::MixVideo, url).expect("valid");
    let err = lower(&request, &|_, _| None, &LowerOptions::default()).expect_err("not fetched");
    assert_eq!(err.to_string(), "transcript_vtt: the URL was not fetched");
}

#[test]
fn pages_hold_at_most_max_words_and_never_span_a_long_pause() {
    let word = |start: f64, end: f64| captions::TimedWord { text: "w".into(), start, end };
    let words = vec![word(0.0, 0.5), word(0.5, 1.0), word(1.0, 1.5), word(1.9, 2.0), word(2.6, 3.0), word(3.0, 3.2)];
    // 1.5 -> 1.9 is a 0.4 s pause (kept together), 2.0 -> 2.6 a 0.6 s pause (a new page).
    assert_eq!(captions::pages(&words, 4), vec![0..4, 4..6]);
    assert_eq!(captions::pages(&words, 3), vec![0..3, 3..4, 4..6]);
    assert_eq!(captions::pages(&words, 1).len(), 6);
    assert!(captions::pages(&[], 4).is_empty());
}

#[test]
fn presets_page_words_and_mark_the_spoken_one() {
    let body = |style: &str, styling: Value| {
        json!({"media_list": [image(Some(6.0))], "transcripts": [
            {"words": "one two three four five", "start": 0.0, "end": 2.5},
            {"words": "six", "start": 2.7, "end": 3.0},
            {"words": "later", "start": 4.0, "end": 5.0}],
            "settings": {"caption_style": style, "caption_styling": styling}})
    };
    let texts = |p: &RenderPlan| -> Vec<String> {
        p.captions.iter().map(|c| c.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")).collect()
    };
    let p = plan_of(Endpoint::MixVideo, body("highlight", json!({})), None, None);
    // Pages join entries across a short pause (0.2 s), not a long one (1 s).
    assert_eq!(texts(&p), vec!["one two three four", "five six", "later"]);
    let look = &p.captions[0].look;
    assert_eq!((look.highlight, look.color, look.stroke.0), (Some([255, 212, 0, 255]), [255; 4], [0, 0, 0, 255]));
    // Each word's frames: "one" is 3 of the entry's 19 characters, 0..0.395 s at 30 fps; the
    // first page holds until the next ("five" at 1.974 s).
    let w = &p.captions[0].words;
    assert_eq!((w[0].start, w[0].end, w[1].start), (0, 12, 12));
    assert_eq!((p.captions[0].end, p.captions[1].start), (59, 59));
    assert_eq!(p.captions[1].end, 90, "a 1 s pause: the page ends with its last word");
    assert_eq!(p.captions[0].state(20), Some((1, 0)));
    let p = plan_of(Endpoint::MixVideo, body("one-word", json!({"max_words": 5, "uppercase": true})), None, None);
    assert_eq!(texts(&p)[..3], ["ONE", "TWO", "THREE"], "one-word ignores max_words");
    let p = plan_of(Endpoint::MixVideo, body("pop", json!({})), None, None);
    assert_eq!(texts(&p)[0], "one two three");
    assert_eq!((p.captions[0].look.pop_frames, p.captions[0].state(1)), (4, Some((0, 1))));
    let p = plan_of(Endpoint::MixVideo, body("boxed-line", json!({"max_words": 2, "max_lines": 1})), None, None);
    assert_eq!(texts(&p)[0], "one two");
    assert_eq!((p.captions[0].look.boxed, p.captions[0].look.max_lines), (CaptionBox::Line, 1));
    let p = plan_of(
        Endpoint::MixVideo,
        body(
            "boxed-word",
            json!({"background_color": "#00FF0080", "text_color": "#112233", "offset_percent": -10, "shadow": true}),
        ),
        None,
        None,
    );
    let look = &p.captions[0].look;
    assert_eq!((look.boxed, look.box_color, look.color), (CaptionBox::SpokenWord, [0, 255, 0, 128], [17, 34, 51, 255]));
    assert_eq!((look.offset, look.shadow, look.highlight), (-0.1, true, None));
    // Classic: a page per entry, shown on the entry's own frames; nothing marks the spoken word.
    let p = plan_of(Endpoint::MixVideo, body("classic", json!({})), None, None);
    assert_eq!(texts(&p), vec!["one two three four five", "six", "later"]);
    assert_eq!((p.captions[0].end, p.captions[0].state(20)), (75, None));
    // Advanced: `style` per element.
    let adv = json!({"media_inputs": {"main_clips": [image(Some(2.0))]}, "caption_elements": [
        {"text_content": "a b c d e", "start_time": 0, "duration": 1, "styling": {"style": "highlight", "max_words": 2}}]});
    let p = plan_of(Endpoint::AdvancedVideo, adv, None, None);
    assert_eq!(texts(&p), vec!["a b", "c d", "e"]);
}

#[test]
fn caption_sizes_are_kept_drawable() {
    let body = json!({"media_list": [image(Some(1.0))], "transcripts": [{"words": "big", "start": 0, "end": 1}],
        "settings": {"caption_style": "pop", "caption_styling": {"font_size": 1e300, "stroke_width": 1e300}}});
    let look = &plan_of(Endpoint::MixVideo, body, None, None).captions[0].look;
    assert_eq!((look.font_px, look.stroke.1), (400.0, 100.0), "at most 400 px, the outline a quarter of it");
    let body = json!({"media_list": [image(Some(1.0))], "transcripts": [{"words": "tiny", "start": 0, "end": 1}],
        "settings": {"caption_styling": {"font_size": 1e-9}}});
    assert_eq!(plan_of(Endpoint::MixVideo, body, None, None).captions[0].look.font_px, 4.0);
}

#[test]
fn audio_roles_gains_ducking_and_loops() {
    let tracks = |p: &RenderPlan| -> Vec<(AudioRole, f32, bool)> {
        p.audio.tracks.iter().map(|t| (t.role, t.gain, t.looped)).collect()
    };
    let one = json!([image(Some(1.0))]);
    // Voice + music without a volume: music at 1, ducked; loop_audio default false on mix.
    let p = plan_of(
        Endpoint::MixVideo,
        json!({"media_list": one, "voice_url": "v", "background_url": "m"}),
        None,
        Some(1.0),
    );
    assert_eq!(
        (tracks(&p), p.audio.ducking),
        (vec![(AudioRole::Voice, 1.0, false), (AudioRole::Music, 1.0, false)], true)
    );
    // A music volume turns ducking off.
    let body = json!({"media_list": one, "voice_url": "v", "background_url": "m",
        "settings": {"audio_volume": 0.5, "loop_audio": true}});
    let p = plan_of(Endpoint::MixVideo, body, None, Some(1.0));
    assert_eq!(
        (tracks(&p), p.audio.ducking),
        (vec![(AudioRole::Voice, 1.0, false), (AudioRole::Music, 0.5, true)], false)
    );
    // Advanced: percentages; the music loops.
    let body = json!({"media_inputs": {"main_clips": one}, "audio_settings": {"voice_over_url": "v",
        "voice_over_volume_percent": 80, "background_music_url": "m", "background_music_volume_percent": 25}});
    let p = plan_of(Endpoint::AdvancedVideo, body, None, Some(1.0));
    assert_eq!(tracks(&p), vec![(AudioRole::Voice, 0.8, false), (AudioRole::Music, 0.25, true)]);
    // No audio input: no tracks.
    assert!(simple(one.clone(), json!({})).audio.tracks.is_empty());
}

#[test]
fn clip_sound_follows_the_clip_unless_muted() {
    let items = json!([image(Some(1.0)), {"type": "video", "url": "v.mp4", "trim_start": 2.0, "duration": 4.0}]);
    let p = simple(items.clone(), json!({"video_volume": 0.5}));
    let t = &p.audio.tracks[0];
    assert_eq!(
        (t.role, t.gain, t.start, t.source_offset, t.length, t.source_end),
        (AudioRole::ClipSound, 0.5, 1.0, 2.0, Some(4.0), Some(10.0))
    );
    assert!(simple(items, json!({"mute_original_audio": true})).audio.tracks.is_empty());
}
