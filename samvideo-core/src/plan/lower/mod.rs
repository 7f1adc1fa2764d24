//! Lowering: a validated request -> the render plan. Every default and timing rule lives
//! here, once (documented in `docs/timing.md`), one step per module.
//!
//! Enter: a [`CreateRequest`] and the durations of its audio/video media (probed by the
//! renderer after fetching). Leave: a frame-exact [`RenderPlan`].
//!
//! The steps, in order: `spec.rs` resolves what differs between endpoints into one
//! `TimelineSpec`; `clips.rs` gives each item its seconds (1), shares a voice-over (2),
//! repeats loop-video items (3), places whole frames and transitions (4) and fixes the
//! length (5); `overlays.rs` draws (6) and `captions.rs` pages the captions (6b); `sound.rs`
//! places the audio (7).

mod captions;
mod clips;
mod overlays;
mod sound;
mod spec;
#[cfg(test)]
mod tests;

pub use spec::parse_color;

use super::{frame_size, RenderPlan, VideoCodec};
use crate::frame_rate::FrameRate;
use crate::media::limits::Limits;
use crate::media::MediaError;
use crate::request::{CreateRequest, Quality};
use spec::TimelineSpec;

/// Seconds an image shows when neither the item nor `settings.image_duration` say.
pub const DEFAULT_IMAGE_SECONDS: f64 = 3.0;
/// Transition length when `transition_type` is set without `transition_duration`.
pub const DEFAULT_TRANSITION_SECONDS: f64 = 0.5;
/// When images share a voice-over, the video ends this long after the voice (plus whole-frame
/// rounding: under a frame without transitions, a few frames with them).
pub const VOICE_TAIL_SECONDS: f64 = 0.5;
/// Frames per second when none is asked.
pub const DEFAULT_FPS: FrameRate = FrameRate::whole(30);
/// Second of the video the poster frame shows when `thumbnail_time` is not given.
pub const DEFAULT_THUMBNAIL_SECONDS: f64 = 1.0;
/// Longest preview.
pub const PREVIEW_SECONDS: f64 = 10.0;

/// Why a valid request cannot become a plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LowerError {
    /// A video or audio item's length could not be determined.
    #[error("{item} ({url}): cannot determine the media duration")]
    UnknownDuration {
        /// Item label.
        item: String,
        /// URL.
        url: String,
    },
    /// The job exceeds a limit of [`LowerOptions::limits`] (output length, clip count).
    #[error("{0}")]
    Limit(MediaError),
    /// A `transcript_srt` / `transcript_vtt` that cannot be read (its text was validated,
    /// so this is a fetched file, or a URL nobody fetched).
    #[error("{field}: {reason}")]
    Subtitles {
        /// `transcript_srt` or `transcript_vtt`.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A `font_family` that is not bundled (the validator refuses it first; this is the
    /// lowering's own guard).
    #[error("{field}: {value:?} is not a bundled font family")]
    FontFamily {
        /// Field path.
        field: String,
        /// What was sent.
        value: String,
    },
    /// A colour string does not parse.
    #[error("{field}: invalid colour {value:?} (expected #RRGGBB or #RRGGBBAA)")]
    BadColor {
        /// Field path.
        field: String,
        /// What was sent.
        value: String,
    },
}

/// Options that change the plan.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    /// Preview: short side 480, at most `PREVIEW_SECONDS` (10 s), fastest preset.
    pub preview: bool,
    /// The operator's limits: `max_output_seconds` and `max_clips` are enforced here, once,
    /// for every endpoint (`Limits::default()`: 600 s, 100 clips).
    pub limits: Limits,
    /// The codec when the request names none (`serve --default-codec`; AV1 by default).
    pub default_codec: VideoCodec,
    /// A codec that wins over the request's (`render --codec`).
    pub codec_override: Option<VideoCodec>,
}

/// What a duration is asked for: the caller probes the URL as that kind of media, so a
/// failure names the right problem (a video item's unsupported codec, not "no audio").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationOf {
    /// A visual item of type `video`: the video track's length.
    Video,
    /// The voice-over: the audio's length.
    Audio,
}

/// Lower `request` into a plan. `duration_of(url, kind)` answers the length in seconds of an
/// audio or video URL (None when unknown).
pub fn lower(
    request: &CreateRequest,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
    options: &LowerOptions,
) -> Result<RenderPlan, LowerError> {
    let spec = TimelineSpec::from_request(request)?;
    options.limits.check_clips(spec.items.len()).map_err(LowerError::Limit)?;
    build(&spec, duration_of, options)
}

/// The steps, in order (see the module doc).
fn build(
    spec: &TimelineSpec,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
    options: &LowerOptions,
) -> Result<RenderPlan, LowerError> {
    let (short, quality) = if options.preview { (480, Quality::Low) } else { (spec.short_side, spec.quality) };
    let (width, height) = frame_size(spec.aspect, short);
    let mut pending = clips::item_seconds(spec, duration_of)?;
    clips::share_voice(&mut pending, spec, duration_of);
    if let Some(target) = spec.loop_to {
        pending = clips::repeat_until(pending, target, clips::transition_seconds(spec));
    }
    let (mut clips, mut transitions) = clips::place(pending, spec);
    let preview_cap = options.preview.then(|| spec.fps.frames_in(PREVIEW_SECONDS));
    let frame_count = clips::cut_and_hold(&mut clips, &mut transitions, spec, preview_cap);
    options.limits.check_output_seconds(spec.fps.secs_of(frame_count)).map_err(LowerError::Limit)?;
    let overlays = overlays::overlays(spec, width.min(height) as f32, frame_count);
    let captions = captions::captions(spec, width.min(height) as f32, frame_count)?;
    let audio = sound::audio(spec, &clips);
    Ok(RenderPlan {
        width,
        height,
        fps: spec.fps,
        frame_count,
        poster_frame: spec
            .fps
            .frames_in(spec.thumbnail_time.unwrap_or(DEFAULT_THUMBNAIL_SECONDS))
            .min(frame_count.saturating_sub(1)),
        codec: options.codec_override.or(spec.codec).unwrap_or(options.default_codec),
        preset: if options.preview { spec::PREVIEW_PRESET } else { spec::preset(quality) },
        background: spec.background.clone(),
        clips,
        transitions,
        overlays,
        captions,
        audio,
    })
}
