//! The one driver: request -> plan -> frames -> encoder -> muxer, with progress and cancel.
//!
//! 1. Media whose length shapes the timeline (video clips, the voice-over) are fetched and
//!    probed; the request is lowered into a [`RenderPlan`].
//! 2. Every asset of the plan is fetched once (per-job cache) and decoded; any failure names
//!    its item (`media_list[2] (url): reason`).
//! 3. MP4: the frames are cut into segments of 10 s (twelve of 2.5 to 10 s when the picture
//!    mostly moves: `render/segments.rs`); worker threads (one per core) each composite and
//!    encode a segment with their own compositor and encoder (the plan's codec, `encode/`: a
//!    held still is encoded twice, not once per frame), and the driver writes the packets in
//!    order straight into the MP4, interleaved with the streaming audio mix. Y4M: one
//!    compositor thread feeds the writer through a bounded channel. Memory does not grow with
//!    the video's length.
//! 4. Progress is reported as frames are written; the cancel token is checked between
//!    frames; a failed or cancelled render removes its partial output.
//!
//! Rooms: this file holds the API (options, summary, errors) and the driver; `assets.rs`
//! fetches, probes and checks the media and lowers the plan; `subtitles.rs` fetches a
//! subtitle URL before the lowering and writes the `.vtt`/`.srt` sidecars after the frames;
//! `audio_feed.rs` builds the streaming mix and feeds Opus or AAC packets to the MP4 ahead of the video; `mp4_out.rs` runs the
//! segment workers (`segments.rs`, `frames.rs`) and writes their packets in order;
//! `y4m_out.rs` is the raw-frame output on one compositor thread.
//!
//! [`parts`] is the same MP4 render cut at its seams for several processes or machines: a part
//! per segment, one for the audio, and a finalize that writes the same bytes as
//! [`render_to_file`] through the same muxing function.

mod api;
mod assets;
mod audio_feed;
mod frames;
mod mp4_out;
pub mod parts;
mod poster;
mod segments;
mod subtitles;
mod y4m_out;

use std::path::Path;
use std::sync::Arc;

use crate::compose::Compositor;
use crate::media::MediaSource;
use crate::plan::RenderPlan;
use crate::request::CreateRequest;

use api::Progress;
pub use api::{CancelToken, OutputFormat, ProgressFn, RenderError, RenderOptions, RenderSummary, AUDIO_BITRATE};
use assets::{job_assets, load_visuals, plan_with};
use audio_feed::build_mixer;
use mp4_out::write_mp4;
pub use poster::POSTER_JPEG_QUALITY;
use y4m_out::{spawn_compositor, write_y4m};

/// Render a validated request to `out`.
///
/// ```no_run
/// use std::sync::Arc;
/// use samvideo_core::media::local::LocalSource;
/// use samvideo_core::render::{render_to_file, RenderOptions};
/// use samvideo_core::request::Endpoint;
/// use samvideo_core::validate::parse_create;
///
/// let body = br#"{"media_list":[{"type":"image","url":"slide.png","duration":2}]}"#;
/// let request = parse_create(Endpoint::SimpleVideo, body).expect("valid");
/// let source = Arc::new(LocalSource::new("examples/slideshow"));
/// let summary = render_to_file(&request, source, "out.mp4".as_ref(), &RenderOptions::default())?;
/// println!("{} frames, {} bytes", summary.frames, summary.size_bytes);
/// # Ok::<(), samvideo_core::render::RenderError>(())
/// ```
pub fn render_to_file(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderSummary, RenderError> {
    let result = render_inner(request, source, out, options);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
        for path in [&options.poster, &options.subtitles_vtt, &options.subtitles_srt].into_iter().flatten() {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// Lower a request to its plan, fetching and probing what the timing depends on.
pub fn plan_request(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    options: &RenderOptions,
) -> Result<RenderPlan, RenderError> {
    let assets = job_assets(source, options);
    plan_with(request, &assets, options)
}

fn render_inner(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderSummary, RenderError> {
    let assets = job_assets(source, options);
    let plan = plan_with(request, &assets, options)?;
    tracing::debug!(width = plan.width, height = plan.height, frames = plan.frame_count, "plan ready");
    let visuals = Arc::new(load_visuals(&plan, &assets, &options.cancel)?);
    let mixer = match options.format {
        OutputFormat::Mp4 => build_mixer(&plan, &assets)?,
        OutputFormat::Y4m => None,
    };
    drop(assets); // compressed bytes no longer needed: video readers hold their own.
    let summary = RenderSummary {
        duration_secs: plan.duration_secs(),
        width: plan.width,
        height: plan.height,
        frames: plan.frame_count,
        size_bytes: 0,
    };
    let progress = Progress::new(options.progress.clone(), plan.frame_count);
    let size_bytes = match options.format {
        OutputFormat::Y4m => {
            let comp = Compositor::new(plan.clone(), visuals.assets());
            let (frames, handle) = spawn_compositor(comp, options.cancel.clone(), options.poster.clone());
            let result = write_y4m(&plan, &frames, out, &progress, &options.cancel);
            drop(frames);
            let _ = handle.join();
            result?
        }
        OutputFormat::Mp4 => write_mp4(&plan, &visuals, mixer, out, &progress, options)?,
    };
    subtitles::write_sidecars(&plan, options.subtitles_vtt.as_deref(), options.subtitles_srt.as_deref())?;
    progress.done();
    Ok(RenderSummary { size_bytes, ..summary })
}
