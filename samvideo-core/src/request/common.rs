//! Types shared by the core endpoints: media items, the settings matrix, overlays, transcripts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::frame_rate::FrameRate;

/// What a media item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A video clip (MP4/MOV).
    Video,
    /// A still image (JPEG, PNG, WebP, GIF).
    Image,
}

/// One entry of `media_list` (or an advanced `main_clips` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaItem {
    /// `video` or `image`.
    #[serde(rename = "type")]
    pub kind: MediaKind,
    /// Where to fetch the bytes.
    pub url: String,
    /// Seconds on screen (images; for videos: cut to this length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Videos: seconds skipped at the start of the source (>= 0; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_start: Option<f64>,
    /// Videos: the source second where the used segment ends (ignored unless > `trim_start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_end: Option<f64>,
    /// How the picture fills the frame (default `cover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitMode>,
    /// A still with `fit: contain`: what fills its bars (default `blur`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<ItemBackdrop>,
    /// Every other key, kept (unknown keys are ignored, not refused).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A media item's `fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FitMode {
    /// Scale to fill the frame and centre-crop (the default).
    #[default]
    Cover,
    /// The whole picture, centred; the bars show the backdrop.
    Contain,
}

/// A media item's `background`: the bars around a still with `fit: contain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ItemBackdrop {
    /// A blurred, cover-scaled copy of the still (the default).
    #[default]
    Blur,
    /// The plan's background colour.
    Color,
}

/// `aspect_ratio` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AspectRatio {
    /// Portrait, 9:16.
    #[serde(rename = "9:16")]
    Portrait,
    /// Landscape, 16:9 (the default).
    #[serde(rename = "16:9")]
    #[default]
    Landscape,
    /// Square, 1:1.
    #[serde(rename = "1:1")]
    Square,
}

/// `transition_type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransitionKind {
    /// Cross-fade.
    Fade,
    /// A hard edge sweeps across.
    Wipe,
    /// The incoming clip grows from the centre.
    Zoom,
    /// The incoming clip pushes the outgoing one out.
    Slide,
    /// Digital glitch: displaced bands and colour split.
    Glitch,
}

/// `transition_direction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Moves toward the left (enters from the right).
    #[default]
    Left,
    /// Moves toward the right.
    Right,
    /// Moves upward.
    Up,
    /// Moves downward.
    Down,
}

/// `zoom_direction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ZoomDirection {
    /// Push in.
    #[default]
    In,
    /// Pull out.
    Out,
    /// In on even clips, out on odd clips.
    Alternate,
}

/// `watermark_position` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right (the default).
    #[default]
    BottomRight,
    /// Centre of the frame.
    Center,
}

/// `output_quality` / `render_options.quality` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Short side 480, fastest encode.
    Low,
    /// Short side 720 (the default).
    #[default]
    Medium,
    /// Short side 1080, best quality.
    High,
}

/// `output_codec` / `output_settings.codec` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputCodec {
    /// AV1 video, Opus audio.
    Av1,
    /// H.264 (High profile) video, AAC-LC audio.
    H264,
}

/// `text_overlays[].position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VerticalPosition {
    /// Near the top edge.
    Top,
    /// Centred.
    Middle,
    /// Near the bottom edge (the default).
    #[default]
    Bottom,
}

/// `text_overlays[].background`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TextBackground {
    /// Text only (with a thin outline for legibility).
    None,
    /// An opaque black band.
    Black,
    /// A black band at 50 % opacity (the default).
    #[default]
    SemiTransparent,
}

/// A text overlay shown for the whole video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextOverlay {
    /// The text (required).
    pub text: String,
    /// Where the band sits.
    #[serde(default)]
    pub position: Option<VerticalPosition>,
    /// Band style.
    #[serde(default)]
    pub background: Option<TextBackground>,
}

/// `settings.caption_style` and advanced `styling.style`: a caption preset (`docs/captions.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CaptionPreset {
    /// The whole transcript entry in a translucent box (the default).
    #[default]
    Classic,
    /// Pages of up to 6 words, a box behind each line.
    BoxedLine,
    /// Pages of up to 4 words, a box behind the spoken word.
    BoxedWord,
    /// Pages of up to 4 words, the spoken word in the highlight colour.
    Highlight,
    /// One word at a time.
    OneWord,
    /// Pages of up to 3 words, the spoken word grows from 80 % to full size.
    Pop,
}

/// The caption look: `settings.caption_styling`, and advanced `caption_elements[].styling`
/// (which adds `style`). Sizes are pixels at a 1080-pixel short side; colours `#RRGGBB[AA]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CaptionStyling {
    /// Pixel height of the text at 1080 short side (scaled with the frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_size: Option<f64>,
    /// A bundled font family (`DejaVu Sans`, `Bebas Neue`; the list: `validate/rules.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_family: Option<String>,
    /// A TrueType/OpenType font fetched with the media (wins over `font_family`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_url: Option<String>,
    /// `#RRGGBB` or `#RRGGBBAA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// Colour of the spoken word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight_color: Option<String>,
    /// `top`, `middle`, `bottom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<VerticalPosition>,
    /// Box behind the text, `#RRGGBB[AA]` (alpha 00: no box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Outline colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stroke_color: Option<String>,
    /// Outline width in pixels at 1080 short side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stroke_width: Option<f64>,
    /// A soft drop shadow under the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<bool>,
    /// Draw the text in capitals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uppercase: Option<bool>,
    /// Vertical nudge in percent of the frame height (positive: up), kept inside the safe area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_percent: Option<f64>,
    /// Most words on a page (1–12; ignored by `one-word`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_words: Option<u32>,
    /// Most lines of a page (1–3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<u32>,
    /// Other styling keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A timed caption of mix-video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Caption text.
    pub words: String,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

/// The documented settings matrix (simple-video; reused by mix and loop).
///
/// Every field is optional; defaults are applied once, when the request is lowered
/// into the render plan (see `docs/timing.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Settings {
    /// `9:16`, `16:9`, `1:1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<AspectRatio>,
    /// Transition between items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_type: Option<TransitionKind>,
    /// Direction of wipe/slide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_direction: Option<Direction>,
    /// Ken Burns direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_direction: Option<ZoomDirection>,
    /// Watermark corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_position: Option<Corner>,
    /// low / medium / high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_quality: Option<Quality>,
    /// Seconds per image without its own `duration` (0–30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_duration: Option<f64>,
    /// Background music gain (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_volume: Option<f64>,
    /// Gain of the clips' own sound (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_volume: Option<f64>,
    /// Ken Burns strength (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_intensity: Option<f64>,
    /// Watermark width as a fraction of the frame width (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_size: Option<f64>,
    /// Watermark opacity (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_opacity: Option<f64>,
    /// Seconds of overlap between items (0–3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_duration: Option<f64>,
    /// Music fade-in seconds (0–5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_fade_in: Option<f64>,
    /// Music fade-out seconds (0–5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_fade_out: Option<f64>,
    /// The video lasts at least this long (0–60); the last frame holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_video_duration: Option<f64>,
    /// Loop video items to this many seconds (0–120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_loop_duration: Option<f64>,
    /// Watermark distance from the edges, pixels (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_padding: Option<f64>,
    /// Output frame rate (15–60, or 23.976, 29.97, 59.94).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<FrameRate>,
    /// Second of the video the poster frame (JPEG) shows (>= 0; default 1, clamped to the video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_time: Option<f64>,
    /// Loop music to fill the video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_audio: Option<bool>,
    /// Drop the clips' own sound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_original_audio: Option<bool>,
    /// Loop video items (see `video_loop_duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_video: Option<bool>,
    /// Ken Burns on images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_effect: Option<bool>,
    /// Bring the mix to -14 LUFS, true peak <= -1 dBTP (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_audio: Option<bool>,
    /// Render no captions even when transcripts are given (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_captions: Option<bool>,
    /// Video codec of the file: `av1` (with Opus) or `h264` (with AAC); the server's default
    /// (AV1 unless the operator says) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_codec: Option<OutputCodec>,
    /// The caption preset (default `classic`; see `docs/captions.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption_style: Option<CaptionPreset>,
    /// Overrides of the preset's look.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption_styling: Option<CaptionStyling>,
    /// Text bands shown for the whole video.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_overlays: Vec<TextOverlay>,
    /// Watermark image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_url: Option<String>,
    /// Watermark text (used when there is no `watermark_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_text: Option<String>,
    /// Unknown settings keys, kept for renderer-level logic.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// On the wire a frame rate is a JSON number: `30`, or `29.97` for 30000/1001.
impl Serialize for FrameRate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (num, den) = self.as_fraction();
        if den == 1 {
            s.serialize_u32(num)
        } else {
            // The text a request writes (`29.97`), which `from_number` maps back exactly.
            let text = self.to_string();
            s.serialize_f64(text.parse().map_err(serde::ser::Error::custom)?)
        }
    }
}

impl<'de> Deserialize<'de> for FrameRate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        FrameRate::from_number(x).ok_or_else(|| serde::de::Error::custom(format!("{x} is not a frame rate")))
    }
}
