//! The one driver: request -> plan -> frames -> encoder -> muxer, with progress and cancel.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::media::{MediaItemError, MediaSource};
use crate::request::CreateRequest;

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
    /// The request cannot be rendered (e.g. exceeds a limit).
    #[error("{0}")]
    Invalid(String),
    /// The encoder failed.
    #[error("encoder: {0}")]
    Encode(String),
    /// Writing the output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

/// Render a validated request to `out`.
pub fn render_to_file(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderSummary, RenderError> {
    let _ = (request, source, out, options);
    Err(RenderError::Invalid("renderer not built yet".into()))
}
