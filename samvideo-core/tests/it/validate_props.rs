//! No input makes parsing or validation panic: arbitrary JSON values of any shape and
//! nesting, arbitrary bytes, and valid bodies with one field replaced by an arbitrary value
//! (which reaches the deep rules far more often than random JSON does). Every answer is
//! either a typed request or a 400 whose body has `success: false` and a message.

use proptest::prelude::*;
use samvideo_core::request::Endpoint;
use samvideo_core::validate::{
    merge_template, parse_create, parse_create_value, validate_ai_job, validate_template_create,
    validate_template_update,
};
use serde_json::{json, Map, Value};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "data", "config", "type", "media_list", "url", "duration", "settings", "exports", "fps",
            "aspect_ratio", "loop_audio", "text_overlays", "text", "position", "transcripts", "words",
            "start", "end", "media_inputs", "main_clips", "background", "value", "output_settings",
            "framerate", "caption_elements", "text_content", "styling", "destinations", "to", "host",
            "callback_url", "template_id", "background_url", "render_options", "mode",
        ])
        .prop_map(String::from),
        1 => "[a-z_]{0,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN/inf become null
        prop::sample::select(vec![
            "LoopVideo",
            "video",
            "image",
            "16:9",
            "9:16",
            "1:1",
            "fade",
            "top",
            "#000000",
            "color",
            "email",
            "sftp",
            "https://a.example/x",
            "12",
            "abc",
            "",
            "1080p",
            "preview",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop::sample::select(Endpoint::ALL.to_vec())
}

fn check_answer(endpoint: Endpoint, r: Result<samvideo_core::request::CreateRequest, samvideo_core::ApiError>) {
    match r {
        Ok(req) => {
            serde_json::to_vec(&req).expect("a validated request serializes");
        }
        Err(e) => {
            assert_eq!(e.status, 400);
            assert_eq!(e.body["success"], false);
            assert!(!e.message().is_empty());
            if endpoint == Endpoint::AdvancedVideo {
                assert_eq!(e.body["error_code"], "VALIDATION_ERROR");
                assert!(e.message().starts_with("Configuration validation failed: "));
            }
        }
    }
}

/// Valid bodies of every endpoint, each with its envelope.
fn valid_bodies() -> Vec<(Endpoint, Value)> {
    let item = json!({"type": "image", "url": "https://a/b.jpg", "duration": 3});
    let settings = json!({"aspect_ratio": "9:16", "fps": 30, "loop_audio": true, "text_overlays": [{"text": "t"}]});
    let exports = json!({"callback_url": "https://h/x", "destinations": [{"type": "sftp", "host": "h", "username": "u", "password": "p", "path": "/"}]});
    vec![
        (
            Endpoint::MixVideo,
            json!({"data": {"media_list": [item], "transcripts": [{"words": "w", "start": 0, "end": 1}], "settings": settings, "exports": exports}}),
        ),
        (Endpoint::SimpleVideo, json!({"media_list": [item], "settings": settings, "exports": exports})),
        (
            Endpoint::LoopVideo,
            json!({"type": "LoopVideo", "data": {"media_list": [item], "background_url": "u", "duration": 5, "settings": settings}, "exports": exports}),
        ),
        (
            Endpoint::AdvancedVideo,
            json!({"config": {"output_settings": {"framerate": 30, "resolution": "720p"},
                "media_inputs": {"main_clips": [item], "background": {"type": "color", "value": "#000000"}},
                "caption_elements": [{"text_content": "c", "styling": {"text_color": "#FFFFFF"}}],
                "audio_settings": {"background_music_volume_percent": 20}, "render_options": {"mode": "full"}, "exports": exports}}),
        ),
    ]
}

/// Every JSON pointer (`/data/settings/fps`, `/data/media_list/0/url`, ...) inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_seed_bodies_are_valid() {
    for (ep, body) in valid_bodies() {
        parse_create_value(ep, body.clone()).unwrap_or_else(|e| panic!("{ep}: {}", e.body));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(ep in endpoint(), v in json_value()) {
        check_answer(ep, parse_create(ep, v.to_string().as_bytes()));
        for envelope in ["data", "config"] {
            let wrapped = json!({ envelope: v.clone(), "type": "LoopVideo" });
            check_answer(ep, parse_create_value(ep, wrapped));
        }
        let _ = validate_template_create(&v);
        let _ = validate_template_update(&v);
        let _ = validate_ai_job(&v);
        if let Value::Object(m) = &v {
            let _ = merge_template(m, &v);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(ep in endpoint(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_answer(ep, parse_create(ep, &bytes));
    }

    #[test]
    fn one_field_replaced_never_panics(which in 0usize..4, pick in any::<prop::sample::Index>(), v in json_value()) {
        let (ep, mut body) = valid_bodies().swap_remove(which);
        let mut all = Vec::new();
        pointers(&body, String::new(), &mut all);
        let target = pick.get(&all).clone();
        if let Some(slot) = body.pointer_mut(&target) {
            *slot = v;
        }
        check_answer(ep, parse_create(ep, body.to_string().as_bytes()));
    }

    #[test]
    fn template_merge_then_validate_never_panics(t in json_value(), which in 0usize..4) {
        let (ep, body) = valid_bodies().swap_remove(which);
        if let Value::Object(m) = &t {
            check_answer(ep, parse_create_value(ep, merge_template(m, &body)));
        }
    }
}
