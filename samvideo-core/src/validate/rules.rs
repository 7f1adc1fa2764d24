//! The documented validation matrix, as data.
//!
//! Every rule and every limit of the API reference lives in the tables below, once; the
//! engine in `check.rs` walks them and the docs table (`matrix_markdown`) is generated from
//! them. The few rules that depend on a sibling field (image clip duration, background value,
//! export destinations, transcript `end > start`) are [`Rule::Custom`] entries naming a
//! [`Custom`] check, so they still have a row here; each also says, as a [`Shape`], what of
//! it a JSON Schema can express (the OpenAPI request schemas, `schema.rs`, are generated
//! from the tables and these shapes).
//!
//! Pure data: this file imports nothing. The checks a [`Custom`] names are functions in the
//! checker modules, reached through `custom.rs` (the engine is handed that dispatch with the
//! root `Path`), so the tables never point back at the code that walks them.

/// A check that needs more than one field (it gets the value, or `None` when absent); the
/// function behind each is in `custom.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Custom {
    /// `media_list` items: type, URL, image durations (`body.rs`).
    MediaList,
    /// `transcripts`: `end > start` (`body.rs`).
    Transcripts,
    /// `transcript_srt`: SubRip text that parses, or an `https` URL (`body.rs`).
    TranscriptSrt,
    /// `transcript_vtt`: WebVTT text that parses, or an `https` URL (`body.rs`).
    TranscriptVtt,
    /// `background_url` (`body.rs`).
    BackgroundUrl,
    /// The loop duration, number or numeric string (`body.rs`).
    LoopDuration,
    /// `media_inputs.main_clips` (`advanced.rs`).
    MainClips,
    /// `background` and its value for its type (`advanced.rs`).
    Background,
    /// `exports.destinations` by type (`exports.rs`).
    Destinations,
    /// An email destination's `to` (`exports.rs`).
    EmailTo,
    /// Template `settings`: a partial advanced body (`other.rs`).
    TemplateSettings,
    /// AI job `image_urls` (`other.rs`).
    ImageUrls,
}

/// One key of a JSON object and what it accepts.
pub(crate) struct Field {
    /// The key.
    pub name: &'static str,
    /// What its value must be.
    pub rule: Rule,
    /// Whether it must be present (skipped for partial template settings).
    pub required: bool,
}

/// What a value must be. `null` is never accepted where a value is expected.
pub(crate) enum Rule {
    /// One of these strings, exactly (case-sensitive).
    OneOf(&'static [&'static str]),
    /// A finite JSON number in `min..=max`.
    Range { min: f64, max: f64 },
    /// A whole JSON number in `min..=max` (`30.0` is accepted and stored as `30`).
    IntRange { min: i64, max: i64 },
    /// A frame rate: a whole number in `min..=max`, or an NTSC rate (23.976, 29.97, 59.94),
    /// kept as the exact fraction by the typed request.
    FrameRate { min: u32, max: u32 },
    /// A finite JSON number > 0.
    Positive,
    /// A finite JSON number >= the bound.
    AtLeast(f64),
    /// `true` or `false` only.
    Bool,
    /// A JSON string, optionally non-empty and at most `max_chars` Unicode characters.
    Str { non_empty: bool, max_chars: Option<usize> },
    /// `#RRGGBB`.
    Color,
    /// `#RRGGBB` or `#RRGGBBAA`.
    ColorAlpha,
    /// `http://...` or `https://...`.
    HttpUrl,
    /// A JSON object checked with its own table (unknown keys kept).
    Object(&'static [Field]),
    /// Like `Object`, for a table documented on its own (the settings matrix, `exports`).
    Shared(&'static str, &'static [Field]),
    /// Like `Shared`, but its fields are named without the object's name: the reference's
    /// messages say `fps must be ...`, not `settings.fps must be ...`.
    Flat(&'static str, &'static [Field]),
    /// A JSON array of objects, each checked with the table.
    Items(&'static [Field]),
    /// A rule implemented by a function; `doc` is its row in the docs, `shape` what a JSON
    /// Schema can say of the values it accepts (the check may refuse more: see `doc`).
    Custom { check: Custom, doc: &'static str, shape: &'static Shape },
}

/// What a [`Rule::Custom`] accepts, as far as a JSON Schema can say it: the request schemas of
/// the OpenAPI document are generated from it. What the check refuses beyond it (transcript
/// `end > start`, the email address format, a positive numeric string, parsing subtitles)
/// stays server-side and is listed in `docs/http-api.md`.
pub(crate) enum Shape {
    /// A value the rule accepts.
    Is(Rule),
    /// A JSON array of `min..=max` entries (no upper bound when `None`), each of `item`'s shape.
    List { item: &'static Shape, min: usize, max: Option<usize> },
    /// A value of either shape.
    Either(&'static Shape, &'static Shape),
    /// A JSON object whose `key` (required) picks its table: one `(value, fields)` per case,
    /// the fields besides `key`.
    Tagged { key: &'static str, cases: &'static [(&'static str, &'static [Field])] },
    /// A JSON object with the table's keys, none required, in nested objects either (template
    /// settings); documented on its own under the title.
    Partial(&'static str, &'static [Field]),
    /// A number > 0, or a string holding a number (`"12.5"`).
    NumberOrNumericString,
}

const fn opt(name: &'static str, rule: Rule) -> Field {
    Field { name, rule, required: false }
}

const fn req(name: &'static str, rule: Rule) -> Field {
    Field { name, rule, required: true }
}

const fn range(min: f64, max: f64) -> Rule {
    Rule::Range { min, max }
}

const TEXT: Rule = Rule::Str { non_empty: false, max_chars: None };
const NON_EMPTY: Rule = Rule::Str { non_empty: true, max_chars: None };

/// `aspect_ratio` in settings and `output_settings`.
pub(crate) const ASPECT_RATIOS: &[&str] = &["9:16", "16:9", "1:1"];
/// `output_quality` and `render_options.quality`.
pub(crate) const QUALITIES: &[&str] = &["low", "medium", "high"];
/// `output_codec` / `output_settings.codec` values.
pub(crate) const OUTPUT_CODECS: &[&str] = &["av1", "h264"];
/// Media item `type`.
pub(crate) const MEDIA_TYPES: &[&str] = &["video", "image"];
/// Vertical text position.
pub(crate) const POSITIONS: &[&str] = &["top", "middle", "bottom"];
/// `exports.destinations[].type`.
pub(crate) const DESTINATION_TYPES: &[&str] = &["email", "ftp", "sftp"];
/// `media_inputs.background.type`.
pub(crate) const BACKGROUND_TYPES: &[&str] = &["color", "image", "video"];
/// `settings.caption_style` and `caption_elements[].styling.style` (`docs/captions.md`).
pub(crate) const CAPTION_STYLES: &[&str] = &["classic", "boxed-line", "boxed-word", "highlight", "one-word", "pop"];
/// Caption `font_family`: the families bundled with the renderer (`plan::FontFamily`, drawn by
/// `compose/text.rs`; emoji and CJK are drawn behind every family, not chosen).
pub(crate) const FONT_FAMILIES: &[&str] = &["DejaVu Sans", "Bebas Neue"];
/// The mix-video keys that carry captions: at most one may be sent.
pub(crate) const TRANSCRIPT_SOURCES: &[&str] = &["transcripts", "transcript_srt", "transcript_vtt"];
/// Most export destinations per job.
pub(crate) const MAX_DESTINATIONS: usize = 5;
/// Advanced `main_clips` count.
pub(crate) const MAIN_CLIPS: (usize, usize) = (1, 100);
/// Advanced image clip `duration`, seconds.
pub(crate) const IMAGE_CLIP_DURATION: (f64, f64) = (0.1, 30.0);
/// `caption_elements[].text_content` length.
pub(crate) const CAPTION_MAX_CHARS: usize = 500;
/// Template `name` length.
pub(crate) const TEMPLATE_NAME_MAX_CHARS: usize = 255;

/// The simple-video settings matrix (reused by mix-video and loop-video).
pub(crate) const SETTINGS: &[Field] = &[
    opt("aspect_ratio", Rule::OneOf(ASPECT_RATIOS)),
    opt("transition_type", Rule::OneOf(&["fade", "wipe", "zoom", "slide", "glitch"])),
    opt("transition_direction", Rule::OneOf(&["left", "right", "up", "down"])),
    opt("zoom_direction", Rule::OneOf(&["in", "out", "alternate"])),
    opt("watermark_position", Rule::OneOf(&["top_left", "top_right", "bottom_left", "bottom_right", "center"])),
    opt("output_quality", Rule::OneOf(QUALITIES)),
    opt("image_duration", range(0.0, 30.0)),
    opt("audio_volume", range(0.0, 1.0)),
    opt("video_volume", range(0.0, 1.0)),
    opt("zoom_intensity", range(0.0, 1.0)),
    opt("watermark_size", range(0.0, 1.0)),
    opt("watermark_opacity", range(0.0, 1.0)),
    opt("transition_duration", range(0.0, 3.0)),
    opt("audio_fade_in", range(0.0, 5.0)),
    opt("audio_fade_out", range(0.0, 5.0)),
    opt("min_video_duration", range(0.0, 60.0)),
    opt("video_loop_duration", range(0.0, 120.0)),
    opt("watermark_padding", range(0.0, 100.0)),
    opt("thumbnail_time", Rule::AtLeast(0.0)),
    opt("fps", Rule::FrameRate { min: 15, max: 60 }),
    opt("loop_audio", Rule::Bool),
    opt("mute_original_audio", Rule::Bool),
    opt("loop_video", Rule::Bool),
    opt("zoom_effect", Rule::Bool),
    opt("normalize_audio", Rule::Bool),
    opt("disable_captions", Rule::Bool),
    opt("output_codec", Rule::OneOf(OUTPUT_CODECS)),
    opt("caption_style", Rule::OneOf(CAPTION_STYLES)),
    opt("caption_styling", Rule::Object(CAPTION_STYLING)),
    opt("text_overlays", Rule::Items(TEXT_OVERLAY)),
    opt("watermark_url", NON_EMPTY),
    opt("watermark_text", TEXT),
];

/// `settings.text_overlays[]`.
pub(crate) const TEXT_OVERLAY: &[Field] = &[
    req("text", NON_EMPTY),
    opt("position", Rule::OneOf(POSITIONS)),
    opt("background", Rule::OneOf(&["none", "black", "semi-transparent"])),
];

/// `fit` values of a media item.
pub(crate) const FITS: &[&str] = &["cover", "contain"];
/// `background` values of a media item (a contained still's bars).
pub(crate) const ITEM_BACKDROPS: &[&str] = &["blur", "color"];

/// The keys of a media item the renderer reads besides `type`, `url` and `duration`; the
/// tables of items by type add `url` and `duration` first (one list: every table is built
/// by this macro).
macro_rules! media_item {
    ($($first:expr),*) => {
        &[
            $($first,)*
            opt("trim_start", Rule::AtLeast(0.0)),
            opt("trim_end", Rule::Positive),
            opt("fit", Rule::OneOf(FITS)),
            opt("background", Rule::OneOf(ITEM_BACKDROPS)),
        ]
    };
}

/// The keys of a media item the renderer reads besides `type`, `url` and `duration` (every
/// endpoint; outside the reference's matrix, documented in `docs/video-input.md`).
pub(crate) const MEDIA_ITEM: &[Field] = media_item!();

/// A media item of type `video` besides its `type`: `duration` > 0.
const VIDEO_ITEM: &[Field] = media_item!(req("url", NON_EMPTY), opt("duration", Rule::Positive));

/// A `main_clips[]` item of type `image` besides its `type`: `duration` in [`IMAGE_CLIP_DURATION`].
const IMAGE_CLIP: &[Field] = media_item!(
    req("url", NON_EMPTY),
    opt("duration", Rule::Range { min: IMAGE_CLIP_DURATION.0, max: IMAGE_CLIP_DURATION.1 })
);

/// A `media_list[]` item of type `image` besides its `type` (no upper bound on `duration`).
const IMAGE_ITEM: &[Field] = media_item!(req("url", NON_EMPTY), opt("duration", Rule::Positive));

/// `transcripts[]` (`end > start` is checked beyond this).
const TRANSCRIPT: &[Field] = &[req("words", TEXT), req("start", Rule::AtLeast(0.0)), req("end", Rule::Positive)];

const MEDIA_LIST: Field = req(
    "media_list",
    Rule::Custom {
        check: Custom::MediaList,
        doc: "non-empty array of media items: `type` (`video`/`image`) and `url` (non-empty strings) \
              required, `duration` a number > 0, the keys of the *media item* table, other keys kept",
        shape: &Shape::List {
            item: &Shape::Tagged { key: "type", cases: &[("video", VIDEO_ITEM), ("image", IMAGE_ITEM)] },
            min: 1,
            max: None,
        },
    },
);

const EXPORTS: Field = opt("exports", Rule::Shared("exports", EXPORTS_TABLE));
const SETTINGS_OBJECT: Rule = Rule::Flat("settings matrix", SETTINGS);

/// mix-video body (root or `data`).
pub(crate) const MIX_BODY: &[Field] = &[
    MEDIA_LIST,
    opt("voice_url", NON_EMPTY),
    opt("background_url", NON_EMPTY),
    opt(
        "transcripts",
        Rule::Custom {
            check: Custom::Transcripts,
            doc: "array of `{words: string, start: number >= 0, end: number > start}`; \
                  a `text`-only entry is rejected with a hint to use `words`",
            shape: &Shape::List { item: &Shape::Is(Rule::Object(TRANSCRIPT)), min: 0, max: None },
        },
    ),
    opt(
        "transcript_srt",
        Rule::Custom {
            check: Custom::TranscriptSrt,
            doc: "string: SubRip text whose cues parse, or an `https://` URL of one (fetched with the media); \
                  not with `transcripts` or `transcript_vtt`",
            shape: &Shape::Is(TEXT),
        },
    ),
    opt(
        "transcript_vtt",
        Rule::Custom {
            check: Custom::TranscriptVtt,
            doc: "string: WebVTT text whose cues parse (timestamp tags time the words), or an `https://` URL \
                  of one; not with `transcripts` or `transcript_srt`",
            shape: &Shape::Is(TEXT),
        },
    ),
    opt("settings", SETTINGS_OBJECT),
    EXPORTS,
];

/// simple-video body (root or `data`).
pub(crate) const SIMPLE_BODY: &[Field] = &[MEDIA_LIST, opt("settings", SETTINGS_OBJECT), EXPORTS];

/// loop-video `data` (after the top-level `type` check).
pub(crate) const LOOP_DATA: &[Field] = &[
    MEDIA_LIST,
    req(
        "background_url",
        Rule::Custom { check: Custom::BackgroundUrl, doc: "non-empty string", shape: &Shape::Is(NON_EMPTY) },
    ),
    opt(
        "duration",
        Rule::Custom {
            check: Custom::LoopDuration,
            doc: "number > 0; a numeric string such as `\"12\"` is accepted and read as a number",
            shape: &Shape::NumberOrNumericString,
        },
    ),
    opt("settings", SETTINGS_OBJECT),
    EXPORTS,
];

/// advanced-video body (root or `config`).
pub(crate) const ADVANCED_BODY: &[Field] = &[
    opt("output_settings", Rule::Object(OUTPUT_SETTINGS)),
    req("media_inputs", Rule::Object(MEDIA_INPUTS)),
    opt("caption_elements", Rule::Items(CAPTION_ELEMENT)),
    opt("audio_settings", Rule::Object(AUDIO_SETTINGS)),
    opt("render_options", Rule::Object(RENDER_OPTIONS)),
    opt("template_id", NON_EMPTY),
    EXPORTS,
];

/// `output_settings`.
pub(crate) const OUTPUT_SETTINGS: &[Field] = &[
    opt("aspect_ratio", Rule::OneOf(ASPECT_RATIOS)),
    opt("resolution", Rule::OneOf(&["480p", "720p", "1080p", "1440p", "2160p"])),
    opt("framerate", Rule::FrameRate { min: 15, max: 60 }),
    opt("thumbnail_time", Rule::AtLeast(0.0)),
    opt("codec", Rule::OneOf(OUTPUT_CODECS)),
];

/// `media_inputs`.
pub(crate) const MEDIA_INPUTS: &[Field] = &[
    req(
        "main_clips",
        Rule::Custom {
            check: Custom::MainClips,
            doc:
                "1 to 100 clips: `type` `video`/`image` and `url` required; \
                  image `duration` 0.1 to 30, video `duration` > 0; the keys of the *media item* table; other keys kept",
            shape: &Shape::List {
                item: &Shape::Tagged { key: "type", cases: &[("video", VIDEO_ITEM), ("image", IMAGE_CLIP)] },
                min: MAIN_CLIPS.0,
                max: Some(MAIN_CLIPS.1),
            },
        },
    ),
    opt(
        "background",
        Rule::Custom {
            check: Custom::Background,
            doc: "`{type: color|image|video, value}`: `value` is `#RRGGBB` for color, a non-empty URL otherwise",
            shape: &Shape::Tagged { key: "type", cases: BACKGROUNDS },
        },
    ),
];

/// `caption_elements[]`.
pub(crate) const CAPTION_ELEMENT: &[Field] = &[
    req("text_content", Rule::Str { non_empty: false, max_chars: Some(CAPTION_MAX_CHARS) }),
    opt("start_time", Rule::AtLeast(0.0)),
    opt("duration", Rule::Positive),
    opt("styling", Rule::Object(ELEMENT_STYLING)),
];

/// The caption styling keys of `settings.caption_styling`; `caption_elements[].styling` has
/// the same keys after `style` (one list: both tables are built by this macro).
macro_rules! caption_styling {
    ($($first:expr),*) => {
        &[
            $($first,)*
            opt("font_size", Rule::Positive),
            opt("font_family", Rule::OneOf(FONT_FAMILIES)),
            opt("font_url", Rule::HttpUrl),
            opt("text_color", Rule::ColorAlpha),
            opt("highlight_color", Rule::ColorAlpha),
            opt("position", Rule::OneOf(POSITIONS)),
            opt("background_color", Rule::ColorAlpha),
            opt("stroke_color", Rule::ColorAlpha),
            opt("stroke_width", Rule::AtLeast(0.0)),
            opt("shadow", Rule::Bool),
            opt("uppercase", Rule::Bool),
            opt("offset_percent", range(-50.0, 50.0)),
            opt("max_words", Rule::IntRange { min: 1, max: 12 }),
            opt("max_lines", Rule::IntRange { min: 1, max: 3 }),
        ]
    };
}

/// `settings.caption_styling`.
pub(crate) const CAPTION_STYLING: &[Field] = caption_styling!();

/// `caption_elements[].styling`: the preset and the `settings.caption_styling` keys.
pub(crate) const ELEMENT_STYLING: &[Field] = caption_styling!(opt("style", Rule::OneOf(CAPTION_STYLES)));

/// `audio_settings`.
pub(crate) const AUDIO_SETTINGS: &[Field] = &[
    opt("background_music_url", NON_EMPTY),
    opt("background_music_volume_percent", range(0.0, 100.0)),
    opt("voice_over_url", NON_EMPTY),
    opt("voice_over_volume_percent", range(0.0, 100.0)),
    opt("normalize_audio", Rule::Bool),
];

/// `render_options`.
pub(crate) const RENDER_OPTIONS: &[Field] =
    &[opt("mode", Rule::OneOf(&["preview", "full"])), opt("quality", Rule::OneOf(QUALITIES))];

/// `exports` (root, or inside `data` / `config`).
pub(crate) const EXPORTS_TABLE: &[Field] = &[
    opt("callback_url", Rule::HttpUrl),
    opt("callback_secret", TEXT),
    opt(
        "destinations",
        Rule::Custom {
            check: Custom::Destinations,
            doc: "array of at most 5 destinations; `type` is `email`, `ftp` or `sftp` (tables below)",
            shape: &Shape::List {
                item: &Shape::Tagged { key: "type", cases: DESTINATIONS },
                min: 0,
                max: Some(MAX_DESTINATIONS),
            },
        },
    ),
];

/// `exports.destinations[]` of type `email`.
pub(crate) const EMAIL_DESTINATION: &[Field] = &[req(
    "to",
    Rule::Custom {
        check: Custom::EmailTo,
        doc: "an email address or a non-empty array of them",
        shape: &Shape::Either(&Shape::Is(TEXT), &Shape::List { item: &Shape::Is(TEXT), min: 1, max: None }),
    },
)];

/// `exports.destinations[]` of type `ftp`.
pub(crate) const FTP_DESTINATION: &[Field] = &[
    req("host", NON_EMPTY),
    opt("port", Rule::IntRange { min: 1, max: 65535 }),
    req("username", NON_EMPTY),
    req("password", TEXT),
    req("path", NON_EMPTY),
];

/// `exports.destinations[]` of type `sftp` (plus: `password` or `private_key` required).
pub(crate) const SFTP_DESTINATION: &[Field] = &[
    req("host", NON_EMPTY),
    opt("port", Rule::IntRange { min: 1, max: 65535 }),
    req("username", NON_EMPTY),
    opt("password", TEXT),
    opt("private_key", NON_EMPTY),
    req("path", NON_EMPTY),
];

/// `exports.destinations[]` by `type`: the table each one is checked with.
pub(crate) const DESTINATIONS: &[(&str, &[Field])] =
    &[("email", EMAIL_DESTINATION), ("ftp", FTP_DESTINATION), ("sftp", SFTP_DESTINATION)];

/// `media_inputs.background` by `type`: `value` is a color or a URL.
const BACKGROUNDS: &[(&str, &[Field])] = &[
    ("color", &[req("value", Rule::Color)]),
    ("image", &[req("value", NON_EMPTY)]),
    ("video", &[req("value", NON_EMPTY)]),
];

/// Template `settings`, and what an advanced request naming a `template_id` must hold: a
/// partial advanced body (the template supplies the rest).
pub(crate) const TEMPLATE_SETTINGS: Shape = Shape::Partial("advanced video", ADVANCED_BODY);

/// `POST /api/templates/` body.
pub(crate) const TEMPLATE_CREATE: &[Field] = &[
    req("name", Rule::Str { non_empty: true, max_chars: Some(TEMPLATE_NAME_MAX_CHARS) }),
    opt("description", TEXT),
    opt("category", TEXT),
    opt("is_public", Rule::Bool),
    opt(
        "settings",
        Rule::Custom {
            check: Custom::TemplateSettings,
            doc: "object: a partial advanced configuration, every present key checked with the advanced rules",
            shape: &TEMPLATE_SETTINGS,
        },
    ),
];

/// `PUT /api/templates/{id}/` body: the same keys, none required.
pub(crate) const TEMPLATE_UPDATE: &[Field] = &[
    opt("name", Rule::Str { non_empty: true, max_chars: Some(TEMPLATE_NAME_MAX_CHARS) }),
    opt("description", TEXT),
    opt("category", TEXT),
    opt("is_public", Rule::Bool),
    opt(
        "settings",
        Rule::Custom {
            check: Custom::TemplateSettings,
            doc: "object: a partial advanced configuration, every present key checked with the advanced rules",
            shape: &TEMPLATE_SETTINGS,
        },
    ),
];

/// `POST /api/ai/jobs` body (plus: `prompt` or `image_urls` required).
pub(crate) const AI_JOB: &[Field] = &[
    req("model_id", NON_EMPTY),
    opt("prompt", TEXT),
    opt(
        "image_urls",
        Rule::Custom {
            check: Custom::ImageUrls,
            doc: "array of non-empty strings",
            shape: &Shape::List { item: &Shape::Is(NON_EMPTY), min: 0, max: None },
        },
    ),
    opt("options", Rule::Object(AI_OPTIONS)),
];

/// `options` of an AI job (model-specific keys are checked against the live catalog, not here).
pub(crate) const AI_OPTIONS: &[Field] = &[opt("duration_seconds", Rule::Positive)];

/// Every table, with the name of the body it checks, in documentation order.
pub(crate) const TABLES: &[(&str, &[Field])] = &[
    ("settings matrix (simple-video; reused by mix-video and loop-video)", SETTINGS),
    ("mix-video body (root or `data`)", MIX_BODY),
    ("simple-video body (root or `data`)", SIMPLE_BODY),
    ("loop-video `data` (top-level `type` must be `LoopVideo`)", LOOP_DATA),
    ("advanced-video body (root or `config`)", ADVANCED_BODY),
    (
        "media item (`media_list[]`, `main_clips[]`): the keys the renderer reads besides type, url and duration",
        MEDIA_ITEM,
    ),
    ("exports (root, or inside `data`/`config`)", EXPORTS_TABLE),
    ("email destination", EMAIL_DESTINATION),
    ("ftp destination", FTP_DESTINATION),
    ("sftp destination (`password` or `private_key` required)", SFTP_DESTINATION),
    ("template create", TEMPLATE_CREATE),
    ("template update", TEMPLATE_UPDATE),
    ("AI job create (`prompt` or `image_urls` required)", AI_JOB),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(cases: &[(&'static str, &'static [Field])]) -> Vec<&'static str> {
        cases.iter().map(|(t, _)| *t).collect()
    }

    /// The cases of each tagged shape are the values its check accepts for the tag.
    #[test]
    fn tagged_cases_are_the_accepted_types() {
        assert_eq!(tags(DESTINATIONS), DESTINATION_TYPES);
        assert_eq!(tags(BACKGROUNDS), BACKGROUND_TYPES);
        for (field, name) in [(&MIX_BODY[0], "media_list"), (&MEDIA_INPUTS[0], "main_clips")] {
            let Rule::Custom { shape: Shape::List { item: Shape::Tagged { cases, .. }, .. }, .. } = &field.rule else {
                panic!("{name}: a list of tagged items");
            };
            let mut found = tags(cases);
            found.sort_unstable();
            let mut want = MEDIA_TYPES.to_vec();
            want.sort_unstable();
            assert_eq!(found, want, "{name}");
        }
    }

    /// The table's codec names are the plan's (the CLI flags parse with the plan's).
    #[test]
    fn output_codecs_are_the_plans() {
        let plan: Vec<&str> = crate::plan::VideoCodec::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(super::OUTPUT_CODECS, plan.as_slice());
    }

    /// The table's font families are the plan's (the lowering maps each name to a face).
    #[test]
    fn font_families_are_the_plans() {
        let plan: Vec<&str> = crate::plan::FontFamily::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(super::FONT_FAMILIES, plan.as_slice());
    }
}
