//! The render's vocabulary: output format, options, cancellation, progress, the summary of
//! what was written and why a render stopped. Every room of `render/` uses these; they use
//! none of the rooms.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::audio;
use crate::encode::EncodeError;
use crate::media::limits::Limits;
use crate::media::MediaItemError;
use crate::plan::{LowerError, VideoCodec};

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// AV1 (+ Opus) in MP4, moov first.
    #[default]
    Mp4,
    /// Raw 8-bit 4:2:0 frames (YUV4MPEG2), no audio.
    Y4m,
}

/// Cooperative cancellation, checked between frames.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the render to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Has [`CancelToken::cancel`] been called?
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Progress callback: receives 0.0..=1.0.
pub type ProgressFn = Arc<dyn Fn(f64) + Send + Sync>;

/// How to render.
#[derive(Clone, Default)]
pub struct RenderOptions {
    /// Container.
    pub format: OutputFormat,
    /// Preview mode: low resolution, at most 10 s, fastest preset.
    pub preview: bool,
    /// Checked between frames.
    pub cancel: CancelToken,
    /// Called as frames are written.
    pub progress: Option<ProgressFn>,
    /// Resource limits (defaults when `None`).
    pub limits: Option<Limits>,
    /// Parallel segment encoders (0: one per core); the output does not depend on it.
    pub threads: usize,
    /// Also write the poster frame (a JPEG of the composited frame at the plan's
    /// `poster_frame`, from `thumbnail_time`) here. Removed with the output if the render fails.
    pub poster: Option<PathBuf>,
    /// Also write the caption pages as a WebVTT sidecar here (one cue per page), when the
    /// video has captions. Removed with the output if the render fails.
    pub subtitles_vtt: Option<PathBuf>,
    /// The same cues as a SubRip sidecar.
    pub subtitles_srt: Option<PathBuf>,
    /// The codec when the request names none (`serve --default-codec`).
    pub default_codec: VideoCodec,
    /// A codec that wins over the request's (`render --codec`).
    pub codec_override: Option<VideoCodec>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSummary {
    /// Seconds of video.
    pub duration_secs: f64,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Frames written.
    pub frames: u64,
    /// Size of the output file.
    pub size_bytes: u64,
}

/// Why a render stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The cancel token was set.
    #[error("cancelled")]
    Cancelled,
    /// A media item could not be fetched or decoded.
    #[error(transparent)]
    Media(#[from] MediaItemError),
    /// The request cannot become a plan (a limit, a colour); media errors are `Media`.
    #[error(transparent)]
    Plan(#[from] LowerError),
    /// The audio mix or its encoder refused to work.
    #[error("audio: {0}")]
    Audio(#[from] audio::AudioError),
    /// The video encoder failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The MP4 writer failed.
    #[error(transparent)]
    Mux(#[from] crate::mux::mp4::MuxError),
    /// A render thread stopped before its work was done (a bug: the message says where).
    #[error("render pipeline: {0}")]
    Pipeline(&'static str),
    /// Writing the output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

/// Bitrate of the audio track (Opus or AAC-LC, stereo): what Instagram and YouTube ask for.
pub const AUDIO_BITRATE: u32 = 128_000;

/// Throttled progress reporting (at most once per percent).
pub(super) struct Progress {
    callback: Option<ProgressFn>,
    total: u64,
    last: std::cell::Cell<i64>,
}

impl Progress {
    pub(super) fn new(callback: Option<ProgressFn>, total: u64) -> Self {
        Progress { callback, total: total.max(1), last: std::cell::Cell::new(-1) }
    }
    pub(super) fn frame_done(&self, n: u64) {
        if let Some(cb) = &self.callback {
            let pct = (n * 100 / self.total) as i64;
            if pct != self.last.get() {
                self.last.set(pct);
                // Keep the last percent for muxing: 1.0 means the file is complete.
                cb((n as f64 / self.total as f64).min(0.99));
            }
        }
    }
    pub(super) fn done(&self) {
        if let Some(cb) = &self.callback {
            cb(1.0);
        }
    }
}
