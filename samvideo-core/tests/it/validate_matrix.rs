//! The documented validation matrix, row by row: every range at both bounds and just
//! outside, every enum value and a wrong one, booleans against strings/numbers/null, every
//! documented error string, every envelope form, the loop-video, advanced, transcript,
//! media item, exports, template and AI job rules. A user sends a body; these tests read
//! the exact JSON answer (or the typed request) they get back.

use samvideo_core::request::{CreateRequest, Destination, Endpoint, FitMode, ItemBackdrop, MediaKind, OneOrMany};
use samvideo_core::validate::{
    matrix_markdown, parse_create, parse_create_value, validate_ai_job, validate_template_create,
    validate_template_update,
};
use samvideo_core::FrameRate;
use serde_json::{json, Value};

const CORE: [Endpoint; 3] = [Endpoint::MixVideo, Endpoint::SimpleVideo, Endpoint::LoopVideo];

fn img() -> Value {
    json!({"type": "image", "url": "https://cdn.example.com/a.jpg", "duration": 3})
}

fn vid() -> Value {
    json!({"type": "video", "url": "https://cdn.example.com/b.mp4"})
}

/// A minimal valid body of `ep` with `key: value` set in the body object (inside `data` for loop).
fn core_body(ep: Endpoint, key: &str, value: Value) -> Value {
    let mut body = json!({"media_list": [img()]});
    if ep == Endpoint::LoopVideo {
        body["background_url"] = json!("https://cdn.example.com/music.mp3");
    }
    body[key] = value;
    if ep == Endpoint::LoopVideo {
        json!({"type": "LoopVideo", "data": body})
    } else {
        body
    }
}

fn settings_body(ep: Endpoint, settings: Value) -> Value {
    core_body(ep, "settings", settings)
}

fn run(ep: Endpoint, body: &Value) -> Result<CreateRequest, Value> {
    parse_create(ep, body.to_string().as_bytes()).map_err(|e| {
        assert_eq!(e.status, 400, "{ep}: {body}");
        e.body
    })
}

/// The `message` of a rejected body (panics with the body if it was accepted).
fn message(ep: Endpoint, body: &Value) -> String {
    match run(ep, body) {
        Ok(r) => panic!("{ep} accepted {body}: {r:?}"),
        Err(b) => {
            let want_keys = if ep == Endpoint::AdvancedVideo { 3 } else { 2 };
            assert_eq!(b.as_object().map(|o| o.len()), Some(want_keys), "body shape {b}");
            assert_eq!(b["success"], false);
            b["message"].as_str().unwrap_or_default().to_string()
        }
    }
}

fn accepted(ep: Endpoint, body: &Value) -> CreateRequest {
    match run(ep, body) {
        Ok(r) => r,
        Err(e) => panic!("{ep} rejected {body}: {e}"),
    }
}

fn adv(detail: &str) -> String {
    format!("Configuration validation failed: {detail}")
}

// ---------------------------------------------------------------- settings matrix

/// (field, min, max) — inclusive ranges of the settings matrix (non-integer fields).
const RANGES: &[(&str, f64, f64)] = &[
    ("image_duration", 0.0, 30.0),
    ("audio_volume", 0.0, 1.0),
    ("video_volume", 0.0, 1.0),
    ("zoom_intensity", 0.0, 1.0),
    ("watermark_size", 0.0, 1.0),
    ("watermark_opacity", 0.0, 1.0),
    ("transition_duration", 0.0, 3.0),
    ("audio_fade_in", 0.0, 5.0),
    ("audio_fade_out", 0.0, 5.0),
    ("min_video_duration", 0.0, 60.0),
    ("video_loop_duration", 0.0, 120.0),
    ("watermark_padding", 0.0, 100.0),
];

const ENUMS: &[(&str, &[&str], &str)] = &[
    ("aspect_ratio", &["9:16", "16:9", "1:1"], "4:3"),
    ("transition_type", &["fade", "wipe", "zoom", "slide", "glitch"], "dissolve"),
    ("transition_direction", &["left", "right", "up", "down"], "Left"),
    ("zoom_direction", &["in", "out", "alternate"], "sideways"),
    ("watermark_position", &["top_left", "top_right", "bottom_left", "bottom_right", "center"], "top-left"),
    ("output_quality", &["low", "medium", "high"], "ultra"),
    ("output_codec", &["av1", "h264"], "hevc"),
    ("caption_style", &["classic", "boxed-line", "boxed-word", "highlight", "one-word", "pop"], "karaoke"),
];

const BOOLS: &[&str] =
    &["loop_audio", "mute_original_audio", "loop_video", "zoom_effect", "normalize_audio", "disable_captions"];

#[test]
fn every_settings_row_is_covered_by_these_tables() {
    let md = matrix_markdown();
    let section = md.split("#### ").find(|s| s.starts_with("settings matrix")).expect("settings section");
    let mut tested: Vec<&str> = RANGES.iter().map(|r| r.0).collect();
    tested.extend(ENUMS.iter().map(|e| e.0));
    tested.extend(BOOLS);
    tested.extend(["fps", "text_overlays", "watermark_url", "watermark_text", "thumbnail_time", "caption_styling"]);
    tested.extend(CAPTION_STYLING_ROWS.iter().map(|(key, ..)| *key));
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let field = line[3..].split('`').next().unwrap_or_default();
        let top = field.split("[]").next().unwrap_or_default();
        assert!(tested.contains(&top), "settings field {field} has no test row");
    }
}

#[test]
fn ranges_accept_both_bounds_and_reject_just_outside() {
    for ep in CORE {
        for &(field, min, max) in RANGES {
            let want = format!("{field} must be between {min} and {max}");
            for ok in [min, max, (min + max) / 2.0] {
                accepted(ep, &settings_body(ep, json!({ field: ok })));
            }
            for bad in [min - 0.001, max + 0.001, -1e9, 1e300] {
                assert_eq!(message(ep, &settings_body(ep, json!({ field: bad }))), want, "{ep} {field}={bad}");
            }
            for not_number in [json!("0.5"), json!(null), json!(true), json!([1]), json!({})] {
                assert_eq!(
                    message(ep, &settings_body(ep, json!({ field: not_number }))),
                    format!("{field} must be a number")
                );
            }
        }
    }
}

#[test]
fn range_values_reach_the_typed_settings() {
    let r = accepted(
        Endpoint::SimpleVideo,
        &settings_body(Endpoint::SimpleVideo, json!({"audio_volume": 1, "transition_duration": 0.5})),
    );
    let CreateRequest::Simple(s) = r else { panic!("not simple") };
    assert_eq!(s.settings.audio_volume, Some(1.0));
    assert_eq!(s.settings.transition_duration, Some(0.5));
}

#[test]
fn fps_is_an_integer_from_15_to_60_or_an_ntsc_rate() {
    let rate = |x: f64| FrameRate::from_number(x);
    for ep in CORE {
        for (v, want) in [
            (json!(15), rate(15.0)),
            (json!(60), rate(60.0)),
            (json!(30.0), rate(30.0)),
            (json!(3e1), rate(30.0)),
            (json!(23.976), rate(23.976)),
            (json!(29.97), rate(29.97)),
            (json!(59.94), rate(59.94)),
        ] {
            match accepted(ep, &settings_body(ep, json!({ "fps": v }))) {
                CreateRequest::Mix(r) => assert_eq!(r.settings.fps, want),
                CreateRequest::Simple(r) => assert_eq!(r.settings.fps, want),
                CreateRequest::Loop(r) => assert_eq!(r.settings.fps, want),
                CreateRequest::Advanced(_) => unreachable!(),
            }
        }
        for (v, want) in [
            (json!(14), "fps must be between 15 and 60"),
            (json!(61), "fps must be between 15 and 60"),
            (json!(-30), "fps must be between 15 and 60"),
            (json!(1e20), "fps must be between 15 and 60"),
            (json!(u64::MAX), "fps must be between 15 and 60"),
            (json!(29.5), "fps must be an integer or one of 23.976, 29.97, 59.94"),
            (json!(14.5), "fps must be an integer or one of 23.976, 29.97, 59.94"),
            (json!(25.1), "fps must be an integer or one of 23.976, 29.97, 59.94"),
            (json!("30"), "fps must be a number"),
            (json!(null), "fps must be a number"),
            (json!(false), "fps must be a number"),
        ] {
            assert_eq!(message(ep, &settings_body(ep, json!({ "fps": v }))), want, "{ep} fps={v}");
        }
    }
}

#[test]
fn every_enum_value_is_accepted_and_a_wrong_one_rejected() {
    for ep in CORE {
        for &(field, values, wrong) in ENUMS {
            for v in values {
                accepted(ep, &settings_body(ep, json!({ field: v })));
            }
            let want = format!("{field} must be one of {}", values.join(", "));
            for bad in [json!(wrong), json!(""), json!(1), json!(null), json!(values)] {
                assert_eq!(message(ep, &settings_body(ep, json!({ field: bad }))), want, "{ep} {field}");
            }
        }
    }
}

/// `settings.caption_styling` keys (the table rows, `caption_styling.KEY`): an accepted value
/// and a rejected one with the problem it gets.
const CAPTION_STYLING_ROWS: &[(&str, &str, &str, &str)] = &[
    ("caption_styling.font_size", "54", "0", "must be a positive number"),
    ("caption_styling.font_family", r#""Bebas Neue""#, r#""Comic Sans""#, "must be one of DejaVu Sans, Bebas Neue"),
    ("caption_styling.font_url", r#""https://cdn.example.com/Anton.ttf""#, r#""Anton.ttf""#, "must be an http(s) URL"),
    ("caption_styling.text_color", r##""#FFFFFF""##, r#""white""#, "must be a color like #RRGGBB or #RRGGBBAA"),
    (
        "caption_styling.highlight_color",
        r##""#FFD40080""##,
        r##""#FFD4""##,
        "must be a color like #RRGGBB or #RRGGBBAA",
    ),
    ("caption_styling.position", r#""top""#, r#""center""#, "must be one of top, middle, bottom"),
    ("caption_styling.background_color", r##""#00000000""##, "0", "must be a color like #RRGGBB or #RRGGBBAA"),
    ("caption_styling.stroke_color", r##""#000000""##, "null", "must be a color like #RRGGBB or #RRGGBBAA"),
    ("caption_styling.stroke_width", "0", "-1", "must be at least 0"),
    ("caption_styling.shadow", "true", r#""yes""#, "must be a boolean"),
    ("caption_styling.uppercase", "false", "1", "must be a boolean"),
    ("caption_styling.offset_percent", "-50", "50.5", "must be between -50 and 50"),
    ("caption_styling.max_words", "12", "13", "must be between 1 and 12"),
    ("caption_styling.max_lines", "1", "2.5", "must be an integer"),
];

#[test]
fn caption_styling_keys_are_checked_on_every_core_endpoint_and_in_advanced_styling() {
    for ep in CORE {
        for &(path, ok, bad, problem) in CAPTION_STYLING_ROWS {
            let key = path.trim_start_matches("caption_styling.");
            let body = |v: &str| {
                settings_body(ep, json!({"caption_styling": {key: serde_json::from_str::<Value>(v).expect("json")}}))
            };
            accepted(ep, &body(ok));
            assert_eq!(message(ep, &body(bad)), format!("{path} {problem}"), "{ep} {key}={bad}");
        }
        let body = settings_body(ep, json!({"caption_styling": "bold"}));
        assert_eq!(message(ep, &body), "caption_styling must be an object");
        for (key, v) in [("max_words", json!(0)), ("max_lines", json!(4)), ("offset_percent", json!(-51))] {
            let body = settings_body(ep, json!({"caption_styling": {key: v}}));
            assert!(message(ep, &body).starts_with(&format!("caption_styling.{key} must be between")), "{key}");
        }
    }
    // The typed request carries them.
    let CreateRequest::Mix(m) = accepted(
        Endpoint::MixVideo,
        &settings_body(
            Endpoint::MixVideo,
            json!({"caption_style": "one-word",
            "caption_styling": {"max_words": 3.0, "uppercase": true, "highlight_color": "#00FF00"}}),
        ),
    ) else {
        panic!()
    };
    let styling = m.settings.caption_styling.expect("styling");
    assert_eq!((styling.max_words, styling.uppercase), (Some(3), Some(true)));
    assert_eq!(m.settings.caption_style, Some(samvideo_core::request::CaptionPreset::OneWord));
    // Advanced styling: the same keys plus `style`.
    let ep = Endpoint::AdvancedVideo;
    let caps = |styling: Value| adv_body(json!({"caption_elements": [{"text_content": "a", "styling": styling}]}));
    accepted(ep, &caps(json!({"style": "pop", "max_lines": 3, "uppercase": true})));
    for (styling, want) in [
        (json!({"style": "karaoke"}), "style must be one of classic, boxed-line, boxed-word, highlight, one-word, pop"),
        (json!({"max_words": 0}), "max_words must be between 1 and 12"),
        (json!({"highlight_color": "yellow"}), "highlight_color must be a color like #RRGGBB or #RRGGBBAA"),
        (json!({"offset_percent": "10"}), "offset_percent must be a number"),
    ] {
        assert_eq!(
            message(ep, &caps(styling.clone())),
            adv(&format!("caption_elements[0]: styling.{want}")),
            "{styling}"
        );
    }
}

#[test]
fn documented_aspect_ratio_message() {
    assert_eq!(
        message(Endpoint::SimpleVideo, &settings_body(Endpoint::SimpleVideo, json!({"aspect_ratio": "4:3"}))),
        "aspect_ratio must be one of 9:16, 16:9, 1:1"
    );
}

#[test]
fn booleans_accept_only_json_booleans() {
    for ep in CORE {
        for field in BOOLS {
            for v in [true, false] {
                accepted(ep, &settings_body(ep, json!({ *field: v })));
            }
            for bad in [json!("true"), json!("false"), json!(1), json!(0), json!(null), json!([]), json!({})] {
                assert_eq!(
                    message(ep, &settings_body(ep, json!({ *field: bad }))),
                    format!("{field} must be a boolean"),
                    "{ep} {field}={bad}"
                );
            }
        }
    }
}

#[test]
fn text_overlays_rules() {
    let ep = Endpoint::SimpleVideo;
    for position in ["top", "middle", "bottom"] {
        for background in ["none", "black", "semi-transparent"] {
            accepted(
                ep,
                &settings_body(
                    ep,
                    json!({"text_overlays": [{"text": "Hi", "position": position, "background": background}]}),
                ),
            );
        }
    }
    accepted(ep, &settings_body(ep, json!({"text_overlays": []})));
    let cases = [
        (json!("Hi"), "text_overlays must be an array"),
        (json!({"text": "Hi"}), "text_overlays must be an array"),
        (json!(["Hi"]), "text_overlays[0] must be an object"),
        (json!([{"position": "top"}]), "text_overlays[0]: text is required"),
        (json!([{"text": ""}]), "text_overlays[0]: text must be a non-empty string"),
        (json!([{"text": 5}]), "text_overlays[0]: text must be a string"),
        (
            json!([{"text": "a"}, {"text": "b", "position": "left"}]),
            "text_overlays[1]: position must be one of top, middle, bottom",
        ),
        (
            json!([{"text": "a", "background": "white"}]),
            "text_overlays[0]: background must be one of none, black, semi-transparent",
        ),
    ];
    for (overlays, want) in cases {
        for ep in CORE {
            assert_eq!(message(ep, &settings_body(ep, json!({ "text_overlays": overlays }))), want);
        }
    }
}

#[test]
fn settings_shape_watermark_strings_and_unknown_keys() {
    let ep = Endpoint::SimpleVideo;
    for bad in [json!([]), json!("16:9"), json!(null)] {
        assert_eq!(message(ep, &settings_body(ep, bad)), "settings must be an object");
    }
    assert_eq!(
        message(ep, &settings_body(ep, json!({"watermark_url": ""}))),
        "watermark_url must be a non-empty string"
    );
    assert_eq!(message(ep, &settings_body(ep, json!({"watermark_text": 3}))), "watermark_text must be a string");
    let CreateRequest::Simple(s) = accepted(ep, &settings_body(ep, json!({"title_style": {"bold": true}, "fps": 24})))
    else {
        panic!()
    };
    assert_eq!(s.settings.extra.get("title_style"), Some(&json!({"bold": true})));
}

#[test]
fn first_failure_in_table_order_is_answered() {
    let ep = Endpoint::SimpleVideo;
    let body = settings_body(ep, json!({"fps": 100, "aspect_ratio": "2:1", "loop_audio": 1}));
    assert_eq!(message(ep, &body), "aspect_ratio must be one of 9:16, 16:9, 1:1");
}

// ---------------------------------------------------------------- media items

#[test]
fn documented_media_messages_on_every_core_endpoint() {
    for ep in CORE {
        for list in [json!([]), json!(null)] {
            assert_eq!(message(ep, &core_body(ep, "media_list", list)), "No media items provided");
        }
        let mut no_list = core_body(ep, "x", json!(1));
        if ep == Endpoint::LoopVideo {
            no_list["data"].as_object_mut().map(|o| o.remove("media_list"));
        } else {
            no_list.as_object_mut().map(|o| o.remove("media_list"));
        }
        assert_eq!(message(ep, &no_list), "No media items provided");
        assert_eq!(message(ep, &core_body(ep, "media_list", json!("a.jpg"))), "media_list must be an array");
        for item in [
            json!({"type": "image"}),
            json!({"url": "https://a/b.jpg"}),
            json!({"type": "", "url": "https://a/b.jpg"}),
            json!({"type": "image", "url": ""}),
            json!({"type": null, "url": "https://a/b.jpg"}),
            json!({"type": "image", "url": null}),
        ] {
            assert_eq!(
                message(ep, &core_body(ep, "media_list", json!([img(), item]))),
                "Each media item must have 'type' and 'url'"
            );
        }
        for kind in [json!("audio"), json!("Video"), json!("IMAGE"), json!(7), json!(["video"])] {
            assert_eq!(
                message(ep, &core_body(ep, "media_list", json!([{"type": kind, "url": "https://a/b"}]))),
                "Media type must be 'video' or 'image'"
            );
        }
        assert_eq!(
            message(ep, &core_body(ep, "media_list", json!([img(), vid(), {"type": "video", "url": 5}]))),
            "media_list[2]: url must be a string"
        );
        assert_eq!(
            message(ep, &core_body(ep, "media_list", json!([img(), "x.jpg"]))),
            "media_list[1] must be an object"
        );
        for d in [json!(0), json!(-1)] {
            assert_eq!(
                message(ep, &core_body(ep, "media_list", json!([vid(), {"type": "image", "url": "u", "duration": d}]))),
                "media_list[1]: duration must be a positive number"
            );
        }
        assert_eq!(
            message(ep, &core_body(ep, "media_list", json!([{"type": "image", "url": "u", "duration": "3"}]))),
            "media_list[0]: duration must be a number"
        );
    }
}

#[test]
fn unknown_media_item_keys_are_kept() {
    let item = json!({"type": "video", "url": "https://a/b.mp4", "duration": 2, "fit": "contain", "trim_start": 1.5, "x": [1]});
    let CreateRequest::Simple(s) =
        accepted(Endpoint::SimpleVideo, &core_body(Endpoint::SimpleVideo, "media_list", json!([item])))
    else {
        panic!()
    };
    let m = &s.media_list[0];
    assert_eq!(m.kind, MediaKind::Video);
    assert_eq!(m.duration, Some(2.0));
    // The renderer's keys are typed fields; anything else stays in `extra`.
    assert_eq!((m.fit, m.trim_start), (Some(FitMode::Contain), Some(1.5)));
    assert_eq!(m.extra.get("x"), Some(&json!([1])));
    assert!(["type", "url", "fit", "trim_start"].iter().all(|k| !m.extra.contains_key(*k)));
}

// ---------------------------------------------------------------- envelopes

#[test]
fn invalid_json_data() {
    for ep in CORE {
        for bytes in [&b""[..], b"{", b"not json", b"[1,2]", b"\"x\"", b"42", b"null", b"{\"a\":1}x", b"\xff\xfe"] {
            let e = parse_create(ep, bytes).unwrap_err();
            assert_eq!(e.body, json!({"success": false, "message": "Invalid JSON data"}), "{ep}");
        }
    }
    let e = parse_create(Endpoint::AdvancedVideo, b"{").unwrap_err();
    assert_eq!(
        e.body,
        json!({"success": false, "message": "Configuration validation failed: Invalid JSON data", "error_code": "VALIDATION_ERROR"})
    );
    // serde_json's recursion limit turns hostile nesting into invalid JSON, not a stack overflow.
    let deep = "[".repeat(100_000);
    assert_eq!(parse_create(Endpoint::MixVideo, deep.as_bytes()).unwrap_err().message(), "Invalid JSON data");
}

#[test]
fn mix_and_simple_accept_root_or_data() {
    for ep in [Endpoint::MixVideo, Endpoint::SimpleVideo] {
        let inner = json!({"media_list": [img()], "settings": {"aspect_ratio": "9:16"}});
        let a = accepted(ep, &inner);
        let b = accepted(ep, &json!({ "data": inner }));
        assert_eq!(a, b);
        // `data` wins over root fields (the reference reads `data` when present).
        assert_eq!(message(ep, &json!({"media_list": [img()], "data": {"settings": {}}})), "No media items provided");
        for bad in [json!(null), json!([]), json!("x")] {
            assert_eq!(message(ep, &json!({"media_list": [img()], "data": bad})), "data must be an object");
        }
    }
}

#[test]
fn loop_video_envelope_and_type() {
    let data = json!({"media_list": [vid()], "background_url": "https://a/m.mp3"});
    accepted(Endpoint::LoopVideo, &json!({"type": "LoopVideo", "data": data}));
    for t in [json!("loopvideo"), json!("LoopVideo "), json!("SimpleVideo"), json!(null), json!(1)] {
        assert_eq!(
            message(Endpoint::LoopVideo, &json!({"type": t, "data": data})),
            "Invalid video type. Only 'LoopVideo' is supported."
        );
    }
    assert_eq!(message(Endpoint::LoopVideo, &data), "Invalid video type. Only 'LoopVideo' is supported.");
    // `type` inside data does not count.
    let mut inner_type = data.clone();
    inner_type["type"] = json!("LoopVideo");
    assert_eq!(
        message(Endpoint::LoopVideo, &json!({ "data": inner_type })),
        "Invalid video type. Only 'LoopVideo' is supported."
    );
    assert_eq!(message(Endpoint::LoopVideo, &json!({"type": "LoopVideo"})), "data is required");
    assert_eq!(message(Endpoint::LoopVideo, &json!({"type": "LoopVideo", "data": [data]})), "data must be an object");
}

#[test]
fn loop_video_background_and_duration() {
    let ep = Endpoint::LoopVideo;
    let body = |key: &str, v: Option<Value>| {
        let mut data = json!({"media_list": [vid()], "background_url": "https://a/m.mp3"});
        match v {
            Some(v) => data[key] = v,
            None => {
                data.as_object_mut().map(|o| o.remove(key));
            }
        }
        json!({"type": "LoopVideo", "data": data})
    };
    for bg in [None, Some(json!(null)), Some(json!(""))] {
        assert_eq!(message(ep, &body("background_url", bg)), "Background URL is required");
    }
    assert_eq!(message(ep, &body("background_url", Some(json!(3)))), "background_url must be a string");
    for (d, want) in
        [(json!(12), 12.0), (json!(0.001), 0.001), (json!("12"), 12.0), (json!(" 7.5 "), 7.5), (json!("1e1"), 10.0)]
    {
        let CreateRequest::Loop(l) = accepted(ep, &body("duration", Some(d))) else { panic!() };
        assert_eq!(l.duration, Some(want));
    }
    let CreateRequest::Loop(l) = accepted(ep, &body("duration", None)) else { panic!() };
    assert_eq!(l.duration, None);
    for d in [json!(0), json!(-1), json!(-0.0), json!("0"), json!("-5")] {
        assert_eq!(message(ep, &body("duration", Some(d))), "Duration must be a positive number");
    }
    for d in [
        json!("abc"),
        json!(""),
        json!("12s"),
        json!("inf"),
        json!("NaN"),
        json!(null),
        json!(true),
        json!([12]),
        json!({}),
    ] {
        assert_eq!(message(ep, &body("duration", Some(d))), "Duration must be a valid number");
    }
}

#[test]
fn exports_placements() {
    let exports =
        json!({"callback_url": "https://hooks.example.com/x", "destinations": [{"type": "email", "to": "a@b.c"}]});
    let forms = [
        (Endpoint::MixVideo, json!({"media_list": [img()], "exports": exports})),
        (Endpoint::MixVideo, json!({"data": {"media_list": [img()], "exports": exports}})),
        (Endpoint::MixVideo, json!({"data": {"media_list": [img()]}, "exports": exports})),
        (Endpoint::SimpleVideo, json!({"data": {"media_list": [img()]}, "exports": exports})),
        (Endpoint::SimpleVideo, json!({"media_list": [img()], "exports": exports})),
        (
            Endpoint::LoopVideo,
            json!({"type": "LoopVideo", "data": {"media_list": [img()], "background_url": "u"}, "exports": exports}),
        ),
        (
            Endpoint::LoopVideo,
            json!({"type": "LoopVideo", "data": {"media_list": [img()], "background_url": "u", "exports": exports}}),
        ),
        (Endpoint::AdvancedVideo, json!({"media_inputs": {"main_clips": [vid()]}, "exports": exports})),
        (Endpoint::AdvancedVideo, json!({"config": {"media_inputs": {"main_clips": [vid()]}, "exports": exports}})),
        (Endpoint::AdvancedVideo, json!({"config": {"media_inputs": {"main_clips": [vid()]}}, "exports": exports})),
    ];
    for (ep, body) in forms {
        let r = accepted(ep, &body);
        let e = r.exports().unwrap_or_else(|| panic!("{ep}: exports lost in {body}"));
        assert_eq!(e.callback_url.as_deref(), Some("https://hooks.example.com/x"));
        assert_eq!(e.destinations.len(), 1);
    }
    assert_eq!(
        message(Endpoint::MixVideo, &json!({"data": {"media_list": [img()], "exports": {}}, "exports": {}})),
        "exports must be sent once: at the root or inside data/config, not both"
    );
    assert_eq!(
        message(
            Endpoint::AdvancedVideo,
            &json!({"config": {"media_inputs": {"main_clips": [vid()]}, "exports": {}}, "exports": {}})
        ),
        adv("exports must be sent once: at the root or inside data/config, not both")
    );
}

#[test]
fn exports_rules() {
    let ep = Endpoint::SimpleVideo;
    let with = |exports: Value| json!({"media_list": [img()], "exports": exports});
    let ftp = json!({"type": "ftp", "host": "h", "username": "u", "password": "", "path": "/v/"});
    let sftp_key =
        json!({"type": "sftp", "host": "h", "port": 2222, "username": "u", "private_key": "PEM", "path": "/v/a.mp4"});
    let r = accepted(ep, &with(json!({"destinations": [ftp, sftp_key, {"type": "email", "to": ["a@b.c", "d@e.f"]}]})));
    let d = &r.exports().expect("exports").destinations;
    assert!(matches!(&d[1], Destination::Sftp { port: Some(2222), private_key: Some(k), .. } if k == "PEM"));
    assert!(matches!(&d[2], Destination::Email { to: OneOrMany::Many(v) } if v.len() == 2));
    accepted(ep, &with(json!({"destinations": vec![json!({"type": "email", "to": "a@b.c"}); 5]})));
    accepted(ep, &with(json!({"callback_url": "HTTP://localhost:8080/hook", "callback_secret": ""})));
    let cases = [
        (json!([]), "exports must be an object"),
        (json!({"callback_url": "ftp://x/y"}), "exports.callback_url must be an http(s) URL"),
        (json!({"callback_url": "hooks.example.com"}), "exports.callback_url must be an http(s) URL"),
        (json!({"callback_url": "https://"}), "exports.callback_url must be an http(s) URL"),
        (json!({"callback_url": 5}), "exports.callback_url must be an http(s) URL"),
        (json!({"callback_secret": 5}), "exports.callback_secret must be a string"),
        (json!({"destinations": {}}), "exports.destinations must be an array"),
        (
            json!({"destinations": vec![json!({"type": "email", "to": "a@b.c"}); 6]}),
            "exports.destinations must have at most 5 entries",
        ),
        (json!({"destinations": ["a@b.c"]}), "exports.destinations[0] must be an object"),
        (json!({"destinations": [{"to": "a@b.c"}]}), "exports.destinations[0]: type is required"),
        (json!({"destinations": [{"type": "s3"}]}), "exports.destinations[0]: type must be one of email, ftp, sftp"),
        (json!({"destinations": [{"type": "email"}]}), "exports.destinations[0]: to is required"),
        (
            json!({"destinations": [{"type": "email", "to": "ops"}]}),
            "exports.destinations[0]: to must be an email address or a list of email addresses",
        ),
        (
            json!({"destinations": [{"type": "email", "to": []}]}),
            "exports.destinations[0]: to must be an email address or a list of email addresses",
        ),
        (
            json!({"destinations": [{"type": "email", "to": ["a@b.c", 5]}]}),
            "exports.destinations[0]: to must be an email address or a list of email addresses",
        ),
        (
            json!({"destinations": [{"type": "ftp", "username": "u", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: host is required",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: username is required",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "username": "u", "path": "/"}]}),
            "exports.destinations[0]: password is required",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "username": "u", "password": "p"}]}),
            "exports.destinations[0]: path is required",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "", "username": "u", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: host must be a non-empty string",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "port": 0, "username": "u", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: port must be between 1 and 65535",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "port": 65536, "username": "u", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: port must be between 1 and 65535",
        ),
        (
            json!({"destinations": [{"type": "ftp", "host": "h", "port": "21", "username": "u", "password": "p", "path": "/"}]}),
            "exports.destinations[0]: port must be a number",
        ),
        (
            json!({"destinations": [{"type": "sftp", "host": "h", "username": "u", "path": "/"}]}),
            "exports.destinations[0]: password or private_key is required",
        ),
        (
            json!({"destinations": [{"type": "sftp", "host": "h", "username": "u", "password": "", "path": "/"}]}),
            "exports.destinations[0]: password or private_key is required",
        ),
        (
            json!({"destinations": [{"type": "sftp", "host": "h", "username": "u", "private_key": 1, "path": "/"}]}),
            "exports.destinations[0]: private_key must be a string",
        ),
    ];
    for (exports, want) in cases {
        assert_eq!(message(ep, &with(exports.clone())), want, "{exports}");
    }
    for port in [1, 65535] {
        accepted(
            ep,
            &with(
                json!({"destinations": [{"type": "sftp", "host": "h", "port": port, "username": "u", "password": "p", "path": "/"}]}),
            ),
        );
    }
}

// ---------------------------------------------------------------- transcripts

#[test]
fn transcripts_rules() {
    let ep = Endpoint::MixVideo;
    let with = |t: Value| core_body(ep, "transcripts", t);
    let CreateRequest::Mix(m) = accepted(
        ep,
        &with(
            json!([{"words": "First caption", "start": 0.0, "end": 1.8}, {"words": "Second", "start": 1.9, "end": 3.4}]),
        ),
    ) else {
        panic!()
    };
    assert_eq!(m.transcripts[1].words, "Second");
    assert_eq!(m.transcripts[1].end, 3.4);
    let cases = [
        (json!({"words": "x"}), "transcripts must be an array"),
        (json!(["x"]), "transcripts[0] must be an object"),
        (
            json!([{"text": "First caption", "start": 0.0, "end": 1.8}]),
            "transcripts[0] uses 'text': send the caption text as 'words' (with 'start' and 'end')",
        ),
        (json!([{"start": 0, "end": 1}]), "transcripts[0]: words is required"),
        (json!([{"words": 1, "start": 0, "end": 1}]), "transcripts[0]: words must be a string"),
        (json!([{"words": "a", "end": 1}]), "transcripts[0]: start is required"),
        (json!([{"words": "a", "start": "0", "end": 1}]), "transcripts[0]: start must be a number"),
        (json!([{"words": "a", "start": -0.1, "end": 1}]), "transcripts[0]: start must be at least 0"),
        (json!([{"words": "a", "start": 0}]), "transcripts[0]: end is required"),
        (json!([{"words": "a", "start": 0, "end": null}]), "transcripts[0]: end must be a number"),
        (json!([{"words": "a", "start": 1, "end": 1}]), "transcripts[0]: end must be greater than start"),
        (
            json!([{"words": "a", "start": 0, "end": 1}, {"words": "b", "start": 2, "end": 1.5}]),
            "transcripts[1]: end must be greater than start",
        ),
    ];
    for (t, want) in cases {
        assert_eq!(message(ep, &with(t.clone())), want, "{t}");
    }
    for key in ["voice_url", "background_url"] {
        assert_eq!(message(ep, &core_body(ep, key, json!(""))), format!("{key} must be a non-empty string"));
        assert_eq!(message(ep, &core_body(ep, key, json!(null))), format!("{key} must be a string"));
    }
}

/// `transcript_srt` / `transcript_vtt`: the text is parsed at submit time (a bad cue is a 400
/// naming the field and the line), an `https` URL is kept for the renderer to fetch, and only
/// one caption source may be sent.
#[test]
fn subtitle_file_rules() {
    let ep = Endpoint::MixVideo;
    let srt = "1\n00:00:01,000 --> 00:00:02,000\nHello\n";
    let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nHi <00:00:01.500>there\n";
    let CreateRequest::Mix(m) = accepted(ep, &core_body(ep, "transcript_srt", json!(srt))) else { panic!() };
    assert_eq!(m.transcript_srt.as_deref(), Some(srt));
    let CreateRequest::Mix(m) = accepted(ep, &core_body(ep, "transcript_vtt", json!(vtt))) else { panic!() };
    assert_eq!(m.transcript_vtt.as_deref(), Some(vtt));
    let url = "https://cdn.example.com/captions.vtt";
    let CreateRequest::Mix(m) = accepted(ep, &core_body(ep, "transcript_vtt", json!(url))) else { panic!() };
    assert_eq!(m.transcript_vtt.as_deref(), Some(url));
    let cases = [
        ("transcript_srt", json!(1), "transcript_srt must be a string"),
        ("transcript_srt", json!(null), "transcript_srt must be a string"),
        ("transcript_srt", json!(""), "transcript_srt is not valid SRT: no cues with text"),
        (
            "transcript_srt",
            json!("1\n00:00:01.000 -> 00:00:02.000\nHello\n"),
            "transcript_srt is not valid SRT: line 1: expected a cue timing like 00:00:01,000 --> 00:00:02,500, found \"1\"",
        ),
        (
            "transcript_srt",
            json!("1\n00:00:03,000 --> 00:00:02,000\nHello\n"),
            "transcript_srt is not valid SRT: line 2: the cue must end after it starts",
        ),
        ("transcript_vtt", json!(srt), "transcript_vtt is not valid WebVTT: line 1: a WebVTT file starts with WEBVTT"),
        ("transcript_vtt", json!("http://cdn.example.com/c.vtt"), "transcript_vtt must be the file's text or an https URL"),
        ("transcript_srt", json!("https://"), "transcript_srt must be the file's text or an https URL"),
    ];
    for (key, v, want) in cases {
        assert_eq!(message(ep, &core_body(ep, key, v.clone())), want, "{key}: {v}");
    }
    let mut both = core_body(ep, "transcript_srt", json!(srt));
    both["transcripts"] = json!([{"words": "a", "start": 0, "end": 1}]);
    assert_eq!(message(ep, &both), "transcript_srt cannot be sent with transcripts: send the captions one way");
    both["transcripts"] = json!([]);
    both["transcript_vtt"] = json!(url);
    assert_eq!(message(ep, &both), "transcript_vtt cannot be sent with transcript_srt: send the captions one way");
}

// ---------------------------------------------------------------- advanced

fn adv_body(patch: Value) -> Value {
    let mut base = json!({"media_inputs": {"main_clips": [vid()]}});
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            b.insert(k.clone(), v.clone());
        }
    }
    json!({ "config": base })
}

#[test]
fn advanced_output_settings() {
    let ep = Endpoint::AdvancedVideo;
    for a in ["16:9", "1:1", "9:16"] {
        accepted(ep, &adv_body(json!({"output_settings": {"aspect_ratio": a}})));
    }
    for r in ["480p", "720p", "1080p", "1440p", "2160p"] {
        accepted(ep, &adv_body(json!({"output_settings": {"resolution": r}})));
    }
    for f in [15.0, 60.0, 29.97] {
        let CreateRequest::Advanced(a) = accepted(ep, &adv_body(json!({"output_settings": {"framerate": f}}))) else {
            panic!()
        };
        assert_eq!(a.output_settings.framerate, FrameRate::from_number(f));
    }
    let cases = [
        (json!({"aspect_ratio": "4:3"}), "output_settings.aspect_ratio must be one of 9:16, 16:9, 1:1"),
        (json!({"resolution": "360p"}), "output_settings.resolution must be one of 480p, 720p, 1080p, 1440p, 2160p"),
        (json!({"resolution": "4320p"}), "output_settings.resolution must be one of 480p, 720p, 1080p, 1440p, 2160p"),
        (json!({"resolution": 1080}), "output_settings.resolution must be one of 480p, 720p, 1080p, 1440p, 2160p"),
        (json!({"framerate": 14}), "output_settings.framerate must be between 15 and 60"),
        (json!({"framerate": 61}), "output_settings.framerate must be between 15 and 60"),
        (json!({"framerate": 29.5}), "output_settings.framerate must be an integer or one of 23.976, 29.97, 59.94"),
        (json!({"framerate": "30"}), "output_settings.framerate must be a number"),
        (json!({"codec": "hevc"}), "output_settings.codec must be one of av1, h264"),
        (json!({"codec": "H264"}), "output_settings.codec must be one of av1, h264"),
    ];
    for (os, want) in cases {
        assert_eq!(message(ep, &adv_body(json!({ "output_settings": os }))), adv(want), "{os}");
    }
    assert_eq!(message(ep, &adv_body(json!({"output_settings": []}))), adv("output_settings must be an object"));
    for c in ["av1", "h264"] {
        let CreateRequest::Advanced(a) = accepted(ep, &adv_body(json!({"output_settings": {"codec": c}}))) else {
            panic!()
        };
        assert_eq!(a.output_settings.codec.map(|c| format!("{c:?}").to_lowercase()).as_deref(), Some(c));
    }
}

#[test]
fn advanced_clips() {
    let ep = Endpoint::AdvancedVideo;
    let clips = |c: Value| json!({"config": {"media_inputs": {"main_clips": c}}});
    accepted(ep, &clips(json!(vec![vid(); 100])));
    for d in [0.1, 30.0, 5.0] {
        accepted(ep, &clips(json!([{"type": "image", "url": "u", "duration": d}])));
    }
    accepted(ep, &clips(json!([{"type": "video", "url": "u", "duration": 45}])));
    let cases = [
        (json!([]), "media_inputs.main_clips must have between 1 and 100 entries"),
        (json!(vec![vid(); 101]), "media_inputs.main_clips must have between 1 and 100 entries"),
        (json!({}), "media_inputs.main_clips must be an array"),
        (json!(["u"]), "media_inputs.main_clips[0] must be an object"),
        (json!([vid(), {"url": "u"}]), "media_inputs.main_clips[1]: type is required"),
        (json!([{"type": "audio", "url": "u"}]), "media_inputs.main_clips[0]: type must be one of video, image"),
        (json!([{"type": "image"}]), "media_inputs.main_clips[0]: url is required"),
        (json!([{"type": "image", "url": ""}]), "media_inputs.main_clips[0]: url must be a non-empty string"),
        (
            json!([{"type": "image", "url": "u", "duration": 0.09}]),
            "media_inputs.main_clips[0]: duration must be between 0.1 and 30",
        ),
        (
            json!([{"type": "image", "url": "u", "duration": 30.01}]),
            "media_inputs.main_clips[0]: duration must be between 0.1 and 30",
        ),
        (
            json!([{"type": "video", "url": "u", "duration": 0}]),
            "media_inputs.main_clips[0]: duration must be a positive number",
        ),
    ];
    for (c, want) in cases {
        assert_eq!(message(ep, &clips(c.clone())), adv(want), "{c}");
    }
    assert_eq!(message(ep, &json!({"config": {"media_inputs": {}}})), adv("media_inputs.main_clips is required"));
    assert_eq!(message(ep, &json!({"config": {}})), adv("media_inputs is required"));
    assert_eq!(message(ep, &json!({})), adv("media_inputs is required"));
    assert_eq!(message(ep, &json!({"config": 5})), adv("config must be an object"));
}

#[test]
fn advanced_background() {
    let ep = Endpoint::AdvancedVideo;
    let bg = |b: Value| json!({"media_inputs": {"main_clips": [vid()], "background": b}});
    for b in [
        json!({"type": "color", "value": "#000000"}),
        json!({"type": "color", "value": "#a1B2c3"}),
        json!({"type": "image", "value": "https://a/b.jpg"}),
        json!({"type": "video", "value": "https://a/b.mp4"}),
    ] {
        accepted(ep, &bg(b));
    }
    let cases = [
        (json!("#000000"), "media_inputs.background must be an object"),
        (json!({"value": "#000000"}), "media_inputs.background.type is required"),
        (
            json!({"type": "gradient", "value": "#000000"}),
            "media_inputs.background.type must be one of color, image, video",
        ),
        (json!({"type": "color"}), "media_inputs.background.value is required"),
        (json!({"type": "color", "value": "black"}), "media_inputs.background.value must be a color like #RRGGBB"),
        (json!({"type": "color", "value": "#00000080"}), "media_inputs.background.value must be a color like #RRGGBB"),
        (json!({"type": "color", "value": "#00000"}), "media_inputs.background.value must be a color like #RRGGBB"),
        (json!({"type": "image", "value": ""}), "media_inputs.background.value must be a non-empty string"),
    ];
    for (b, want) in cases {
        assert_eq!(message(ep, &bg(b.clone())), adv(want), "{b}");
    }
}

#[test]
fn advanced_captions_audio_render_options() {
    let ep = Endpoint::AdvancedVideo;
    let five_hundred = "é".repeat(500);
    let CreateRequest::Advanced(a) = accepted(
        ep,
        &adv_body(json!({"caption_elements": [{"text_content": five_hundred, "start_time": 0, "duration": 2,
            "styling": {"font_size": 42, "text_color": "#FFFFFF", "background_color": "#00000080", "position": "top", "stroke_width": 0, "shadow": true}}]})),
    ) else {
        panic!()
    };
    assert_eq!(a.caption_elements[0].styling.look.shadow, Some(true));
    let caps = [
        (
            json!([{"text_content": "x".repeat(501)}]),
            "caption_elements[0]: text_content must be at most 500 characters",
        ),
        (json!([{}]), "caption_elements[0]: text_content is required"),
        (json!([{"text_content": 5}]), "caption_elements[0]: text_content must be a string"),
        (json!([{"text_content": "a", "start_time": -1}]), "caption_elements[0]: start_time must be at least 0"),
        (json!([{"text_content": "a", "duration": 0}]), "caption_elements[0]: duration must be a positive number"),
        (
            json!([{"text_content": "a", "styling": {"font_size": 0}}]),
            "caption_elements[0]: styling.font_size must be a positive number",
        ),
        (
            json!([{"text_content": "a", "styling": {"text_color": "white"}}]),
            "caption_elements[0]: styling.text_color must be a color like #RRGGBB or #RRGGBBAA",
        ),
        (
            json!([{"text_content": "a", "styling": {"position": "center"}}]),
            "caption_elements[0]: styling.position must be one of top, middle, bottom",
        ),
        (json!([{"text_content": "a", "styling": "bold"}]), "caption_elements[0]: styling must be an object"),
        (json!({}), "caption_elements must be an array"),
    ];
    for (c, want) in caps {
        assert_eq!(message(ep, &adv_body(json!({ "caption_elements": c }))), adv(want));
    }
    for key in ["background_music_volume_percent", "voice_over_volume_percent"] {
        for ok in [0, 100] {
            accepted(ep, &adv_body(json!({"audio_settings": { key: ok }})));
        }
        for bad in [-0.5, 100.5] {
            assert_eq!(
                message(ep, &adv_body(json!({"audio_settings": { key: bad }}))),
                adv(&format!("audio_settings.{key} must be between 0 and 100"))
            );
        }
    }
    for m in ["preview", "full"] {
        accepted(ep, &adv_body(json!({"render_options": {"mode": m}})));
    }
    for q in ["low", "medium", "high"] {
        accepted(ep, &adv_body(json!({"render_options": {"quality": q}})));
    }
    assert_eq!(
        message(ep, &adv_body(json!({"render_options": {"mode": "draft"}}))),
        adv("render_options.mode must be one of preview, full")
    );
    assert_eq!(
        message(ep, &adv_body(json!({"render_options": {"quality": "best"}}))),
        adv("render_options.quality must be one of low, medium, high")
    );
    assert_eq!(message(ep, &adv_body(json!({"template_id": 7}))), adv("template_id must be a string"));
}

#[test]
fn advanced_template_id_at_root_joins_config() {
    let body = json!({"template_id": "tpl-1", "config": {"media_inputs": {"main_clips": [vid()]}}});
    let CreateRequest::Advanced(a) = parse_create_value(Endpoint::AdvancedVideo, body).expect("valid") else {
        panic!()
    };
    assert_eq!(a.template_id.as_deref(), Some("tpl-1"));
}

// ---------------------------------------------------------------- templates and AI jobs

#[test]
fn template_bodies() {
    let t = validate_template_create(&json!({
        "name": "My 9:16 Promo", "description": "Short promo style with captions", "category": "marketing",
        "is_public": false,
        "settings": {"output_settings": {"aspect_ratio": "9:16", "framerate": 30}, "render_options": {"quality": "high"}}
    }))
    .expect("reference template");
    assert_eq!(t.name, "My 9:16 Promo");
    assert_eq!(t.settings["output_settings"]["framerate"], 30);
    let cases = [
        (json!({}), "name is required"),
        (json!({"name": ""}), "name must be a non-empty string"),
        (json!({"name": "x".repeat(256)}), "name must be at most 255 characters"),
        (json!({"name": "n", "is_public": "yes"}), "is_public must be a boolean"),
        (json!({"name": "n", "settings": []}), "settings must be an object"),
        (
            json!({"name": "n", "settings": {"output_settings": {"framerate": 90}}}),
            "settings.output_settings.framerate must be between 15 and 60",
        ),
        (
            json!({"name": "n", "settings": {"media_inputs": {"main_clips": []}}}),
            "settings.media_inputs.main_clips must have between 1 and 100 entries",
        ),
        (
            json!({"name": "n", "settings": {"media_inputs": {"background": {"type": "color", "value": "red"}}}}),
            "settings.media_inputs.background.value must be a color like #RRGGBB",
        ),
    ];
    for (body, want) in cases {
        let e = validate_template_create(&body).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.body, json!({"success": false, "message": want}), "{body}");
    }
    assert_eq!(validate_template_create(&json!("x")).unwrap_err().message(), "Invalid JSON data");
    let u = validate_template_update(&json!({})).expect("empty update");
    assert_eq!(u.name, None);
    let u = validate_template_update(&json!({"is_public": true, "settings": {"render_options": {"mode": "preview"}}}))
        .expect("update");
    assert_eq!(u.is_public, Some(true));
    assert_eq!(
        validate_template_update(&json!({"name": ""})).unwrap_err().message(),
        "name must be a non-empty string"
    );
    assert_eq!(
        validate_template_update(&json!({"settings": {"render_options": {"quality": "4k"}}})).unwrap_err().message(),
        "settings.render_options.quality must be one of low, medium, high"
    );
}

#[test]
fn ai_job_bodies() {
    let j = validate_ai_job(&json!({
        "model_id": "kling_3_0", "prompt": "Cinematic tracking shot in a rainy neon city",
        "image_urls": ["https://cdn.example.com/source.jpg"],
        "options": {"duration_seconds": 8, "aspect_ratio": "16:9", "quality_mode": "pro", "sound": true, "multiShots": true}
    }))
    .expect("reference AI job");
    assert_eq!(j.model_id, "kling_3_0");
    assert_eq!(j.options["multiShots"], true);
    validate_ai_job(&json!({"model_id": "sora-2-image", "image_urls": ["https://a/b.jpg"]}))
        .expect("i2v without prompt");
    let cases = [
        (json!({"prompt": "p"}), "model_id is required"),
        (json!({"model_id": "", "prompt": "p"}), "model_id must be a non-empty string"),
        (json!({"model_id": "m"}), "prompt or image_urls is required"),
        (json!({"model_id": "m", "prompt": "  ", "image_urls": []}), "prompt or image_urls is required"),
        (json!({"model_id": "m", "prompt": 5}), "prompt must be a string"),
        (json!({"model_id": "m", "image_urls": "https://a"}), "image_urls must be an array"),
        (json!({"model_id": "m", "image_urls": ["https://a", ""]}), "image_urls[1] must be a non-empty string"),
        (json!({"model_id": "m", "prompt": "p", "options": []}), "options must be an object"),
        (
            json!({"model_id": "m", "prompt": "p", "options": {"duration_seconds": 0}}),
            "options.duration_seconds must be a positive number",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(validate_ai_job(&body).unwrap_err().body, json!({"success": false, "message": want}), "{body}");
    }
}

#[test]
fn the_renderers_media_item_keys_are_checked_on_every_endpoint() {
    let item = |extra: Value| {
        let mut v = json!({"type": "video", "url": "https://a/b.mp4"});
        v.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
        v
    };
    for (extra, problem) in [
        (json!({"fit": "stretch"}), "fit must be one of cover, contain"),
        (json!({"fit": 1}), "fit must be one of cover, contain"),
        (json!({"background": "red"}), "background must be one of blur, color"),
        (json!({"trim_start": -1}), "trim_start must be at least 0"),
        (json!({"trim_start": "2"}), "trim_start must be a number"),
        (json!({"trim_end": 0}), "trim_end must be a positive number"),
    ] {
        for ep in CORE {
            let body = core_body(ep, "media_list", json!([item(extra.clone())]));
            assert_eq!(message(ep, &body), format!("media_list[0]: {problem}"), "{ep} {extra}");
        }
        let body = adv_body(json!({"media_inputs": {"main_clips": [item(extra.clone())]}}));
        assert_eq!(message(Endpoint::AdvancedVideo, &body), adv(&format!("media_inputs.main_clips[0]: {problem}")));
    }
    let body = json!({"media_list": [item(json!({"fit": "contain", "background": "color", "trim_start": 1.5,
        "trim_end": 4, "custom": true}))]});
    let CreateRequest::Simple(s) = accepted(Endpoint::SimpleVideo, &body) else { panic!("simple") };
    let m = &s.media_list[0];
    assert_eq!(
        (m.trim_start, m.trim_end, m.fit, m.background),
        (Some(1.5), Some(4.0), Some(FitMode::Contain), Some(ItemBackdrop::Color))
    );
    assert_eq!(m.extra.get("custom"), Some(&json!(true)), "unknown keys are kept");
}

#[test]
fn thumbnail_time_is_a_number_from_0() {
    for ep in CORE {
        accepted(ep, &settings_body(ep, json!({"thumbnail_time": 0})));
        accepted(ep, &settings_body(ep, json!({"thumbnail_time": 12.5})));
        for (v, want) in [
            (json!(-1), "thumbnail_time must be at least 0"),
            (json!("1"), "thumbnail_time must be a number"),
            (json!(null), "thumbnail_time must be a number"),
        ] {
            assert_eq!(message(ep, &settings_body(ep, json!({ "thumbnail_time": v }))), want, "{ep} {v}");
        }
    }
    let CreateRequest::Advanced(a) =
        accepted(Endpoint::AdvancedVideo, &adv_body(json!({"output_settings": {"thumbnail_time": 2}})))
    else {
        panic!("advanced")
    };
    assert_eq!(a.output_settings.thumbnail_time, Some(2.0));
    assert_eq!(
        message(Endpoint::AdvancedVideo, &adv_body(json!({"output_settings": {"thumbnail_time": -0.5}}))),
        adv("output_settings.thumbnail_time must be at least 0")
    );
}
