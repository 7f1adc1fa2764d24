//! The advanced renderer body (`POST /api/render/advanced-video`, root or `config`).

use serde::{Deserialize, Serialize};

use super::{AspectRatio, CaptionPreset, CaptionStyling, Exports, MediaItem, OutputCodec, Quality};
use crate::frame_rate::FrameRate;

/// The whole advanced configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedVideo {
    /// Size and rate.
    #[serde(default)]
    pub output_settings: OutputSettings,
    /// Clips and background.
    pub media_inputs: MediaInputs,
    /// Timed captions.
    #[serde(default)]
    pub caption_elements: Vec<CaptionElement>,
    /// Music and voice-over.
    #[serde(default)]
    pub audio_settings: AudioSettings,
    /// preview or full; quality.
    #[serde(default)]
    pub render_options: RenderOptions,
    /// A saved template merged in before validation (already merged when this is built).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Delivery of the finished video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exports: Option<Exports>,
}

/// `output_settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OutputSettings {
    /// `16:9`, `1:1`, `9:16`.
    #[serde(default)]
    pub aspect_ratio: Option<AspectRatio>,
    /// Short side of the frame.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// Frames per second (15–60, or 23.976, 29.97, 59.94).
    #[serde(default)]
    pub framerate: Option<FrameRate>,
    /// Second of the video the poster frame (JPEG) shows (>= 0; default 1, clamped to the video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_time: Option<f64>,
    /// Video codec of the file (see `Settings::output_codec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<OutputCodec>,
}

/// `output_settings.resolution`: the short side of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// 480 px.
    #[serde(rename = "480p")]
    P480,
    /// 720 px.
    #[serde(rename = "720p")]
    P720,
    /// 1080 px.
    #[serde(rename = "1080p")]
    P1080,
    /// 1440 px.
    #[serde(rename = "1440p")]
    P1440,
    /// 2160 px.
    #[serde(rename = "2160p")]
    P2160,
}

impl Resolution {
    /// Short side in pixels.
    pub fn short_side(self) -> u32 {
        match self {
            Resolution::P480 => 480,
            Resolution::P720 => 720,
            Resolution::P1080 => 1080,
            Resolution::P1440 => 1440,
            Resolution::P2160 => 2160,
        }
    }
}

/// `media_inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInputs {
    /// 1–100 clips in order.
    pub main_clips: Vec<MediaItem>,
    /// What shows behind letterboxed (`fit: contain`) clips.
    #[serde(default)]
    pub background: Option<Background>,
}

/// `media_inputs.background`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// color, image or video.
    #[serde(rename = "type")]
    pub kind: BackgroundKind,
    /// `#RRGGBB` for color, a URL otherwise.
    pub value: String,
}

/// `background.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackgroundKind {
    /// A solid colour.
    Color,
    /// An image, cover-cropped.
    Image,
    /// A video, looped.
    Video,
}

/// One `caption_elements[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionElement {
    /// Text (at most 500 characters).
    pub text_content: String,
    /// Seconds from the start.
    #[serde(default)]
    pub start_time: f64,
    /// Seconds shown; absent means until the end.
    #[serde(default)]
    pub duration: Option<f64>,
    /// Look and preset.
    #[serde(default)]
    pub styling: ElementStyling,
}

/// `caption_elements[].styling`: the caption look ([`CaptionStyling`]) plus the preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ElementStyling {
    /// The caption preset (default `classic`), the same names as `settings.caption_style`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<CaptionPreset>,
    /// Every other styling key.
    #[serde(flatten)]
    pub look: CaptionStyling,
}

/// `audio_settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AudioSettings {
    /// Music URL.
    #[serde(default)]
    pub background_music_url: Option<String>,
    /// Music level, percent (0–100).
    #[serde(default)]
    pub background_music_volume_percent: Option<f64>,
    /// Voice-over URL.
    #[serde(default)]
    pub voice_over_url: Option<String>,
    /// Voice level, percent (0–100).
    #[serde(default)]
    pub voice_over_volume_percent: Option<f64>,
    /// Bring the mix to -14 LUFS, true peak <= -1 dBTP (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_audio: Option<bool>,
}

/// `render_options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RenderOptions {
    /// preview (sync) or full (async, the default).
    #[serde(default)]
    pub mode: Option<RenderMode>,
    /// Encoder preset.
    #[serde(default)]
    pub quality: Option<Quality>,
}

/// `render_options.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RenderMode {
    /// Short, low-resolution, synchronous.
    Preview,
    /// The whole video, asynchronous.
    #[default]
    Full,
}
