//! The endpoint-specific half of lowering: each create request becomes one
//! [`TimelineSpec`], and wire enums become plan enums.
//!
//! Enter: a validated [`CreateRequest`]. Leave: a [`TimelineSpec`] with every endpoint
//! difference resolved (labels, audio defaults, advanced styling), still in seconds; the
//! steps in the sibling modules turn it into frames.

use super::{LowerError, DEFAULT_FPS};
use crate::frame_rate::FrameRate;
use crate::plan::{
    Background, Corner, Direction, EncodePreset, H264Qp, MediaRef, TransitionKind, VerticalPosition, VideoCodec,
};
use crate::request::{
    self, AdvancedVideo, AspectRatio, BackgroundKind, CaptionPreset, CaptionStyling, CreateRequest, MediaItem, Quality,
    Settings,
};
use crate::subtitles::{self, SubtitleFormat};

/// The endpoint-independent description the plan is built from.
pub(super) struct TimelineSpec {
    pub aspect: AspectRatio,
    pub short_side: u32,
    pub quality: Quality,
    pub fps: FrameRate,
    /// Visual items with their labels (`media_list[2]`).
    pub items: Vec<(String, MediaItem)>,
    /// The core endpoints' settings (defaults for advanced).
    pub settings: Settings,
    /// loop-video: repeat the items until this many seconds.
    pub loop_to: Option<f64>,
    /// Label, URL and gain of the voice-over.
    pub voice: Option<(String, String, f32)>,
    pub music: Option<MusicSpec>,
    /// Captions, in seconds (`captions.rs` turns them into pages).
    pub captions: Vec<CaptionTrack>,
    pub background: Background,
    /// `thumbnail_time`: the second the poster frame shows.
    pub thumbnail_time: Option<f64>,
    /// `normalize_audio`.
    pub normalize_audio: bool,
    /// `output_codec` / `output_settings.codec`, when the request says.
    pub codec: Option<VideoCodec>,
}

/// The background music of a spec.
pub(super) struct MusicSpec {
    pub label: String,
    pub url: String,
    /// Explicit gain; None means 1 and ducking under a voice.
    pub gain: Option<f32>,
    pub looped: bool,
}

impl TimelineSpec {
    pub(super) fn from_request(request: &CreateRequest) -> Result<Self, LowerError> {
        let label_items = |field: &str, items: &[MediaItem]| {
            items.iter().enumerate().map(|(i, m)| (format!("{field}[{i}]"), m.clone())).collect::<Vec<_>>()
        };
        let core = |settings: &Settings, items: &[MediaItem]| TimelineSpec {
            aspect: settings.aspect_ratio.unwrap_or_default(),
            short_side: short_side(settings.output_quality.unwrap_or_default()),
            quality: settings.output_quality.unwrap_or_default(),
            fps: settings.fps.unwrap_or(DEFAULT_FPS),
            items: label_items("media_list", items),
            settings: settings.clone(),
            loop_to: None,
            voice: None,
            music: None,
            captions: Vec::new(),
            background: Background::Color([0, 0, 0]),
            thumbnail_time: settings.thumbnail_time,
            normalize_audio: settings.normalize_audio.unwrap_or(false),
            codec: settings.output_codec.map(video_codec),
        };
        Ok(match request {
            CreateRequest::Simple(r) => core(&r.settings, &r.media_list),
            CreateRequest::Mix(r) => {
                let mut spec = core(&r.settings, &r.media_list);
                spec.voice = r.voice_url.clone().map(|u| ("voice_url".into(), u, 1.0));
                spec.music = r.background_url.clone().map(|url| MusicSpec {
                    label: "background_url".into(),
                    url,
                    gain: r.settings.audio_volume.map(|v| v as f32),
                    looped: r.settings.loop_audio.unwrap_or(false),
                });
                let captions_on = !r.settings.disable_captions.unwrap_or(false);
                let entries = match r.subtitle_file() {
                    _ if !captions_on => Vec::new(),
                    Some(file) => subtitle_entries(file)?,
                    None => r.transcripts.iter().map(|t| vec![(t.words.clone(), t.start, Some(t.end))]).collect(),
                };
                if !entries.is_empty() {
                    spec.captions.push(CaptionTrack {
                        field: "caption_styling".into(),
                        preset: r.settings.caption_style.unwrap_or_default(),
                        styling: r.settings.caption_styling.clone().unwrap_or_default(),
                        classic_font_1080: MIX_CAPTION_FONT_1080,
                        entries,
                    });
                }
                spec
            }
            CreateRequest::Loop(r) => {
                let mut spec = core(&r.settings, &r.media_list);
                spec.loop_to = r.duration;
                spec.music = Some(MusicSpec {
                    label: "background_url".into(),
                    url: r.background_url.clone(),
                    gain: r.settings.audio_volume.map(|v| v as f32),
                    looped: r.settings.loop_audio.unwrap_or(true),
                });
                spec
            }
            CreateRequest::Advanced(r) => advanced_spec(r)?,
        })
    }
}

/// Short side of the frame for a core endpoint's `output_quality`.
pub(super) fn short_side(q: Quality) -> u32 {
    match q {
        Quality::Low => 480,
        Quality::Medium => 720,
        Quality::High => 1080,
    }
}

/// rav1e speed and quantizer, openh264 QPs, for a quality.
pub(super) fn preset(q: Quality) -> EncodePreset {
    match q {
        Quality::Low => EncodePreset { speed: 10, motion_speed: 10, quantizer: 140, h264: H264Qp::around(30) },
        Quality::Medium => EncodePreset { speed: 7, motion_speed: 10, quantizer: 110, h264: H264Qp::around(26) },
        Quality::High => EncodePreset { speed: 9, motion_speed: 10, quantizer: 90, h264: H264Qp::around(24) },
    }
}

/// The preview preset: fastest, coarsest.
pub(super) const PREVIEW_PRESET: EncodePreset =
    EncodePreset { speed: 10, motion_speed: 10, quantizer: 150, h264: H264Qp::around(32) };

/// Mix-video's classic caption size: 6 % of the short side, in pixels at a 1080 short side.
const MIX_CAPTION_FONT_1080: f32 = 64.8;
/// The advanced renderer's classic caption size, pixels at a 1080 short side.
const ADVANCED_CAPTION_FONT_1080: f32 = 42.0;

/// One caption track in seconds: the entries drawn with one preset and styling.
pub(super) struct CaptionTrack {
    /// Where the styling sits in the request, for error messages (`caption_styling`).
    pub field: String,
    pub preset: CaptionPreset,
    pub styling: CaptionStyling,
    /// The classic preset's text size (the endpoints differ), pixels at a 1080 short side.
    pub classic_font_1080: f32,
    /// The entries (a transcript entry, a subtitle cue, a caption element).
    pub entries: Vec<CaptionEntry>,
}

/// Text, start and end in seconds (None: to the video's end); its words share the span.
pub(super) type TimedText = (String, f64, Option<f64>);

/// One entry of a caption track in timed parts: one for a transcript entry or a caption
/// element, several for a subtitle cue whose words are timed.
pub(super) type CaptionEntry = Vec<TimedText>;

impl CaptionTrack {
    /// Where the track's `font_url` sits in the request, as errors name it:
    /// `settings.caption_styling.font_url`, `caption_elements[0].styling.font_url`.
    pub fn font_label(&self) -> String {
        match self.field.as_str() {
            "caption_styling" => "settings.caption_styling.font_url".into(),
            other => format!("{other}.font_url"),
        }
    }
}

/// The cues of a `transcript_srt` / `transcript_vtt` as caption entries. The renderer has
/// already replaced a URL with the text it fetched (`render/assets.rs`); one left here is
/// refused rather than read as text.
fn subtitle_entries(
    (field, format, value): (&'static str, SubtitleFormat, &str),
) -> Result<Vec<CaptionEntry>, LowerError> {
    if request::is_subtitle_url(value) {
        return Err(LowerError::Subtitles { field, reason: "the URL was not fetched".into() });
    }
    let cues = subtitles::parse(value, format)
        .map_err(|e| LowerError::Subtitles { field, reason: format!("not valid {}: {e}", format.name()) })?;
    Ok(cues.into_iter().map(|c| c.parts.into_iter().map(|p| (p.text, p.start, Some(p.end))).collect()).collect())
}

fn advanced_spec(r: &AdvancedVideo) -> Result<TimelineSpec, LowerError> {
    let out = &r.output_settings;
    let quality = r.render_options.quality.unwrap_or_default();
    let short = out.resolution.map(|r| r.short_side()).unwrap_or(720);
    let background = match &r.media_inputs.background {
        None => Background::Color([0, 0, 0]),
        Some(bg) => match bg.kind {
            BackgroundKind::Color => {
                let c = parse_color(&bg.value, "media_inputs.background.value")?;
                Background::Color([c[0], c[1], c[2]])
            }
            BackgroundKind::Image => {
                Background::Image(MediaRef { label: "media_inputs.background".into(), url: bg.value.clone() })
            }
            BackgroundKind::Video => {
                Background::Video(MediaRef { label: "media_inputs.background".into(), url: bg.value.clone() })
            }
        },
    };
    let captions = r
        .caption_elements
        .iter()
        .enumerate()
        .map(|(i, c)| CaptionTrack {
            field: format!("caption_elements[{i}].styling"),
            preset: c.styling.style.unwrap_or_default(),
            styling: c.styling.look.clone(),
            classic_font_1080: ADVANCED_CAPTION_FONT_1080,
            entries: vec![vec![(c.text_content.clone(), c.start_time, c.duration.map(|d| c.start_time + d))]],
        })
        .collect();
    let audio = &r.audio_settings;
    Ok(TimelineSpec {
        aspect: out.aspect_ratio.unwrap_or_default(),
        short_side: short,
        quality,
        fps: out.framerate.unwrap_or(DEFAULT_FPS),
        items: r
            .media_inputs
            .main_clips
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("media_inputs.main_clips[{i}]"), m.clone()))
            .collect(),
        settings: Settings::default(),
        loop_to: None,
        voice: audio.voice_over_url.clone().map(|u| {
            let gain = audio.voice_over_volume_percent.unwrap_or(100.0) / 100.0;
            ("audio_settings.voice_over_url".into(), u, gain as f32)
        }),
        music: audio.background_music_url.clone().map(|url| MusicSpec {
            label: "audio_settings.background_music_url".into(),
            url,
            gain: audio.background_music_volume_percent.map(|p| (p / 100.0) as f32),
            looped: true,
        }),
        captions,
        background,
        thumbnail_time: out.thumbnail_time,
        normalize_audio: audio.normalize_audio.unwrap_or(false),
        codec: out.codec.map(video_codec),
    })
}

/// `#RRGGBB` or `#RRGGBBAA` -> RGBA.
pub fn parse_color(s: &str, field: &str) -> Result<[u8; 4], LowerError> {
    let bad = || LowerError::BadColor { field: field.to_string(), value: s.to_string() };
    let hex = s.strip_prefix('#').ok_or_else(bad)?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
    let a = if hex.len() == 8 { byte(6)? } else { 255 };
    Ok([byte(0)?, byte(2)?, byte(4)?, a])
}

// Wire enums -> plan enums: the only place the compositor's vocabulary meets the API's.

pub(super) fn video_codec(c: request::OutputCodec) -> VideoCodec {
    match c {
        request::OutputCodec::Av1 => VideoCodec::Av1,
        request::OutputCodec::H264 => VideoCodec::H264,
    }
}

pub(super) fn transition_kind(k: request::TransitionKind) -> TransitionKind {
    match k {
        request::TransitionKind::Fade => TransitionKind::Fade,
        request::TransitionKind::Wipe => TransitionKind::Wipe,
        request::TransitionKind::Zoom => TransitionKind::Zoom,
        request::TransitionKind::Slide => TransitionKind::Slide,
        request::TransitionKind::Glitch => TransitionKind::Glitch,
    }
}

pub(super) fn direction(d: request::Direction) -> Direction {
    match d {
        request::Direction::Left => Direction::Left,
        request::Direction::Right => Direction::Right,
        request::Direction::Up => Direction::Up,
        request::Direction::Down => Direction::Down,
    }
}

pub(super) fn corner(c: request::Corner) -> Corner {
    match c {
        request::Corner::TopLeft => Corner::TopLeft,
        request::Corner::TopRight => Corner::TopRight,
        request::Corner::BottomLeft => Corner::BottomLeft,
        request::Corner::BottomRight => Corner::BottomRight,
        request::Corner::Center => Corner::Center,
    }
}

pub(super) fn vertical(p: request::VerticalPosition) -> VerticalPosition {
    match p {
        request::VerticalPosition::Top => VerticalPosition::Top,
        request::VerticalPosition::Middle => VerticalPosition::Middle,
        request::VerticalPosition::Bottom => VerticalPosition::Bottom,
    }
}
