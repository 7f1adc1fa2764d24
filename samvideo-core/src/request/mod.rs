//! Wire types of the documented API: what a client sends, after envelope unwrapping.
//!
//! serde lives here and stops here (Architecture Invariant): `validate` checks raw JSON
//! against the documented matrix and only then deserializes into these types; `plan`
//! lowers them into the render plan, which has no serde and no optional defaults.
//!
//! Enter: typed values produced by [`crate::validate::parse_create`].
//! Leave: consumed by [`crate::plan::lower`] and by the HTTP facade (exports, templates, AI jobs).

mod advanced;
mod ai;
mod common;
mod exports;
mod templates;

pub use advanced::*;
pub use ai::*;
pub use common::*;
pub use exports::*;
pub use templates::*;

use serde::{Deserialize, Serialize};

/// The four create endpoints that take a video description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /api/function/video-generation/mix-video`
    MixVideo,
    /// `POST /api/function/video-generation/simple-video`
    SimpleVideo,
    /// `POST /api/function/video-generation/loop-video`
    LoopVideo,
    /// `POST /api/render/advanced-video`
    AdvancedVideo,
}

impl Endpoint {
    /// All endpoints, in documentation order.
    pub const ALL: [Endpoint; 4] =
        [Endpoint::MixVideo, Endpoint::SimpleVideo, Endpoint::LoopVideo, Endpoint::AdvancedVideo];

    /// The name used on the command line and in URLs (`mix-video`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::MixVideo => "mix-video",
            Endpoint::SimpleVideo => "simple-video",
            Endpoint::LoopVideo => "loop-video",
            Endpoint::AdvancedVideo => "advanced-video",
        }
    }
}

impl std::str::FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| {
            format!("unknown endpoint {s:?} (expected mix-video, simple-video, loop-video or advanced-video)")
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated create request of any endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CreateRequest {
    /// mix-video body (envelope removed).
    Mix(MixVideo),
    /// simple-video body (envelope removed).
    Simple(SimpleVideo),
    /// loop-video `data` object.
    Loop(LoopVideo),
    /// advanced-video body (`config` envelope removed).
    Advanced(AdvancedVideo),
}

impl CreateRequest {
    /// The export settings of the request, wherever they were sent.
    pub fn exports(&self) -> Option<&Exports> {
        match self {
            CreateRequest::Mix(r) => r.exports.as_ref(),
            CreateRequest::Simple(r) => r.exports.as_ref(),
            CreateRequest::Loop(r) => r.exports.as_ref(),
            CreateRequest::Advanced(r) => r.exports.as_ref(),
        }
    }
}

/// `mix-video`: media, optional voice-over, music and timed captions (`transcripts`, or a
/// subtitle file in `transcript_srt` / `transcript_vtt`: at most one of the three).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixVideo {
    /// Visual items in order (non-empty).
    pub media_list: Vec<MediaItem>,
    /// Voice-over audio URL.
    #[serde(default)]
    pub voice_url: Option<String>,
    /// Background music URL.
    #[serde(default)]
    pub background_url: Option<String>,
    /// Timed captions.
    #[serde(default)]
    pub transcripts: Vec<Transcript>,
    /// Captions as a SubRip file: its text, or an `https` URL (`docs/captions.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_srt: Option<String>,
    /// Captions as a WebVTT file (timestamp tags time the words): its text, or an `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_vtt: Option<String>,
    /// Settings (validated with the simple-video matrix).
    #[serde(default)]
    pub settings: Settings,
    /// Delivery of the finished video.
    #[serde(default)]
    pub exports: Option<Exports>,
}

/// `simple-video`: media and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleVideo {
    /// Visual items in order (non-empty).
    pub media_list: Vec<MediaItem>,
    /// Settings (the documented matrix).
    #[serde(default)]
    pub settings: Settings,
    /// Delivery of the finished video.
    #[serde(default)]
    pub exports: Option<Exports>,
}

/// `loop-video`: the `data` object of a `{"type":"LoopVideo","data":{...}}` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopVideo {
    /// Items that loop until `duration`.
    pub media_list: Vec<MediaItem>,
    /// Music that loops under the media (required).
    pub background_url: String,
    /// Target duration in seconds (positive); when absent the media play once.
    #[serde(default)]
    pub duration: Option<f64>,
    /// Settings (validated with the simple-video matrix).
    #[serde(default)]
    pub settings: Settings,
    /// Delivery of the finished video.
    #[serde(default)]
    pub exports: Option<Exports>,
}

impl MixVideo {
    /// The subtitle file sent instead of `transcripts`: its field, format and value (text or URL).
    pub fn subtitle_file(&self) -> Option<(&'static str, crate::subtitles::SubtitleFormat, &str)> {
        use crate::subtitles::SubtitleFormat;
        match (&self.transcript_srt, &self.transcript_vtt) {
            (Some(s), _) => Some(("transcript_srt", SubtitleFormat::Srt, s.as_str())),
            (None, Some(v)) => Some(("transcript_vtt", SubtitleFormat::WebVtt, v.as_str())),
            (None, None) => None,
        }
    }
}

/// Is a `transcript_srt` / `transcript_vtt` value a URL (fetched) rather than the file's text?
/// Text never starts with a scheme: a WebVTT file starts with `WEBVTT`, an SRT one with a
/// cue number or timing.
pub fn is_subtitle_url(value: &str) -> bool {
    let head = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    head.starts_with("https://") || head.starts_with("http://")
}
