//! The one driver: request -> plan -> frames -> encoder -> muxer, with progress and cancel.
//!
//! 1. Media whose length shapes the timeline (video clips, the voice-over) are fetched and
//!    probed; the request is lowered into a [`RenderPlan`].
//! 2. Every asset of the plan is fetched once (per-job cache) and decoded; any failure names
//!    its item (`media_list[2] (url): reason`).
//! 3. MP4: the frames are cut into 10 s segments (`render/segments.rs`); worker threads (one per
//!    core) each composite and encode a segment with their own compositor and rav1e
//!    context, and the driver writes the packets in order straight into the MP4,
//!    interleaved with the streaming audio mix. Y4M: one compositor thread feeds the writer
//!    through a bounded channel. Memory does not grow with the video's length.
//! 4. Progress is reported as frames are written; the cancel token is checked between
//!    frames; a failed or cancelled render removes its partial output.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

use crate::audio::{self, Ducking, MixSource, MixSpec, Mixer, OpusEncoder, StreamSource, TrackRole, TrackSpec};
use crate::compose::{Assets, ClipMedia, Compositor, FrameSource, StillSource};
use crate::encode::EncodeError;
use crate::frame::{yuv::rgba_to_yuv420, Rgba, Yuv420};
use crate::media::cache::JobMedia;
use crate::media::image::decode_image;
use crate::media::limits::Limits;
use crate::media::video::{self, VideoLimits, VideoReader};
use crate::media::{MediaError, MediaItemError, MediaSource};
use crate::mux::mp4::{Mp4Writer, OpusTrack};
use crate::mux::y4m::Y4mWriter;
mod frames;
mod segments;

use frames::{FrameLoop, Step};

use crate::plan::{
    self, AudioRole, Background, ClipSource, DurationOf, LowerError, LowerOptions, MediaRef, Overlay, RenderPlan,
};
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
    /// Resource limits (defaults when `None`).
    pub limits: Option<Limits>,
    /// Parallel segment encoders (0: one per core); the output does not depend on it.
    pub threads: usize,
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
    /// The AV1 encoder failed.
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

/// Opus bitrate of the audio track.
pub const AUDIO_BITRATE: u32 = 128_000;

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
    }
    result
}

/// Fetched and decoded media of one job, keyed by URL.
struct JobAssets {
    media: JobMedia,
    limits: Limits,
    /// Length of each audio URL's whole decode in 48 kHz frames ([`audio::audio_frames`]).
    audio: Mutex<HashMap<String, Result<u64, MediaError>>>,
    video: Mutex<HashMap<String, Result<video::VideoInfo, MediaError>>>,
}

impl JobAssets {
    fn fetch(&self, r: &MediaRef) -> Result<Arc<Vec<u8>>, MediaItemError> {
        self.media.fetch(&r.url).map_err(|e| item_error(r, e))
    }

    fn video_info(&self, url: &str) -> Result<video::VideoInfo, MediaError> {
        if let Some(v) = self.video.lock().unwrap_or_else(|p| p.into_inner()).get(url) {
            return v.clone();
        }
        let info = self.media.fetch(url).and_then(|b| video::probe_with_limits(&b, &video_limits(&self.limits)));
        self.video.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), info.clone());
        info
    }

    /// The exact length of `url`'s whole audio decode in 48 kHz frames, counted from the
    /// container's packets without decoding (cached per URL).
    fn audio_frames(&self, url: &str) -> Result<u64, MediaError> {
        if let Some(a) = self.audio.lock().unwrap_or_else(|p| p.into_inner()).get(url) {
            return a.clone();
        }
        let frames = self.media.fetch(url).and_then(|b| audio::audio_frames(&b, audio_ext(url)));
        self.audio.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), frames.clone());
        frames
    }

    /// Length in seconds of `url`'s audio as the mix plays it (the default length limit applies).
    fn audio_secs(&self, url: &str) -> Result<f64, MediaError> {
        let frames = audio::DecodeOptions::default().output_frames(self.audio_frames(url)?)?;
        Ok(frames as f64 / f64::from(audio::SAMPLE_RATE))
    }

    /// The audio of `url` as a source the mixer decodes while it plays, used only up to
    /// `until` seconds when given (a clip's sound is needed only to its `trim_end`; a loop
    /// then repeats exactly the used segment). Opened once here so a bad file fails now.
    fn audio_until(&self, url: &str, until: Option<f64>) -> Result<StreamSource, MediaError> {
        let full = self.audio_frames(url)?;
        let options = audio::DecodeOptions { stop_after_seconds: until, ..Default::default() };
        StreamSource::new(self.media.fetch(url)?, audio_ext(url), options, full)
    }
}

/// The URL's extension as a container hint for the audio probe.
fn audio_ext(url: &str) -> Option<&str> {
    url.rsplit('.').next().filter(|e| e.len() <= 4)
}

fn item_error(r: &MediaRef, error: MediaError) -> MediaItemError {
    MediaItemError { item: r.label.clone(), url: r.url.clone(), error }
}

fn video_limits(l: &Limits) -> VideoLimits {
    VideoLimits {
        max_width: l.max_input_video_side,
        max_height: l.max_input_video_side,
        max_duration: l.max_input_video_seconds,
    }
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

fn job_assets(source: Arc<dyn MediaSource>, options: &RenderOptions) -> JobAssets {
    let limits = options.limits.clone().unwrap_or_default();
    JobAssets {
        media: JobMedia::new(source, &limits),
        limits,
        audio: Mutex::new(HashMap::new()),
        video: Mutex::new(HashMap::new()),
    }
}

fn plan_with(request: &CreateRequest, assets: &JobAssets, options: &RenderOptions) -> Result<RenderPlan, RenderError> {
    let errors: Mutex<HashMap<String, MediaError>> = Mutex::new(HashMap::new());
    let duration_of = |url: &str, kind: DurationOf| -> Option<f64> {
        let found = match kind {
            DurationOf::Video => assets.video_info(url).map(|info| info.duration),
            DurationOf::Audio => assets.audio_secs(url),
        };
        found.map_err(|e| errors.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), e)).ok()
    };
    let lower_options = LowerOptions { preview: options.preview, limits: assets.limits.clone() };
    let plan = plan::lower(request, &duration_of, &lower_options).map_err(|e| match e {
        LowerError::UnknownDuration { item, url } => {
            let error = errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&url)
                .unwrap_or_else(|| MediaError::Decode("cannot determine the media duration".into()));
            RenderError::Media(MediaItemError { item, url, error })
        }
        other => RenderError::Plan(other),
    })?;
    Ok(plan)
}

/// A video clip as a compositor frame source. The decoder (and its frame buffers) exists
/// only while the clip is on screen: it opens at the clip's first frame and is dropped when
/// the compositor releases the clip, so a loop-video repeating one clip 100 times holds one
/// decoder, not 100.
struct VideoSource {
    bytes: Arc<Vec<u8>>,
    limits: VideoLimits,
    info: video::VideoInfo,
    reader: Option<VideoReader>,
}

impl FrameSource for VideoSource {
    fn size(&self) -> (u32, u32) {
        (self.info.width, self.info.height)
    }
    fn duration(&self) -> f64 {
        self.info.duration
    }
    fn frame_at(&mut self, t: f64) -> Result<&[u8], MediaError> {
        if self.reader.is_none() {
            self.reader = Some(VideoReader::open(self.bytes.clone(), &self.limits)?);
        }
        match self.reader.as_mut() {
            Some(reader) => reader.frame_at(t),
            None => Err(MediaError::Decode("video decoder not started".into())),
        }
    }
    fn release(&mut self) {
        self.reader = None;
    }
}

/// A fetched image, decoded by the compositor when its clip shows (and dropped when it
/// ends): only the compressed bytes stay in memory for the whole render.
struct EncodedStill {
    bytes: Arc<Vec<u8>>,
    max_pixels: u64,
}

impl StillSource for EncodedStill {
    fn decode(&self) -> Result<Rgba, MediaError> {
        decode_image(&self.bytes, self.max_pixels)
    }
}

/// A checked visual item, ready to become a compositor input any number of times (each
/// segment worker makes its own).
#[derive(Clone)]
enum Visual {
    Still(Arc<dyn StillSource>),
    Video { bytes: Arc<Vec<u8>>, limits: VideoLimits, info: video::VideoInfo },
}

impl Visual {
    fn media(&self) -> ClipMedia {
        match self {
            Visual::Still(s) => ClipMedia::Still(s.clone()),
            Visual::Video { bytes, limits, info } => ClipMedia::Video(Box::new(VideoSource {
                bytes: bytes.clone(),
                limits: limits.clone(),
                info: info.clone(),
                reader: None,
            })),
        }
    }
}

/// The visual media of a job, fetched and checked once.
pub(crate) struct Visuals {
    clips: Vec<Visual>,
    background: Option<Visual>,
    watermark: Option<Rgba>,
}

impl Visuals {
    /// Fresh compositor inputs: stills shared, video decoders not yet opened.
    fn assets(&self) -> Assets {
        Assets {
            clips: self.clips.iter().map(Visual::media).collect(),
            background: self.background.as_ref().map(Visual::media),
            watermark: self.watermark.clone(),
        }
    }
}

/// Per-URL results of checking the visual media: one decoder check per URL, and clips that
/// share a URL share one source (a loop-video repeats its items).
#[derive(Default)]
struct CheckedVisuals {
    videos: HashMap<String, video::VideoInfo>,
    stills: HashMap<String, Arc<dyn StillSource>>,
}

/// Fetch and check a visual item, so a bad one fails before the first frame: videos are
/// opened (container, codec, limits), images decoded once and dropped. Decoding for real
/// starts when the clip shows.
fn load_visual(
    assets: &JobAssets,
    r: &MediaRef,
    is_video: bool,
    checked: &mut CheckedVisuals,
) -> Result<Visual, MediaItemError> {
    if !is_video {
        if let Some(still) = checked.stills.get(&r.url) {
            return Ok(Visual::Still(still.clone()));
        }
    }
    let bytes = assets.fetch(r)?;
    let checked_videos = &mut checked.videos;
    if is_video {
        let limits = video_limits(&assets.limits);
        let info = match checked_videos.get(&r.url) {
            Some(info) => info.clone(),
            None => {
                let reader = VideoReader::open(bytes.clone(), &limits).map_err(|e| item_error(r, e))?;
                let info = reader.info().clone();
                checked_videos.insert(r.url.clone(), info.clone());
                info
            }
        };
        Ok(Visual::Video { bytes, limits, info })
    } else {
        let still = EncodedStill { bytes, max_pixels: assets.limits.max_image_pixels };
        drop(still.decode().map_err(|e| item_error(r, e))?);
        let still: Arc<dyn StillSource> = Arc::new(still);
        checked.stills.insert(r.url.clone(), still.clone());
        Ok(Visual::Still(still))
    }
}

fn load_visuals(plan: &RenderPlan, assets: &JobAssets, cancel: &CancelToken) -> Result<Visuals, RenderError> {
    let mut checked = CheckedVisuals::default();
    let mut clips = Vec::with_capacity(plan.clips.len());
    for c in &plan.clips {
        if cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        let is_video = matches!(c.source, ClipSource::Video { .. });
        clips.push(load_visual(assets, &c.media, is_video, &mut checked)?);
    }
    let background = match &plan.background {
        Background::Color(_) => None,
        Background::Image(r) => Some(load_visual(assets, r, false, &mut checked)?),
        Background::Video(r) => Some(load_visual(assets, r, true, &mut checked)?),
    };
    let mut watermark = None;
    for o in &plan.overlays {
        if let Overlay::WatermarkImage { media, .. } = o {
            let bytes = assets.fetch(media)?;
            watermark = Some(decode_image(&bytes, assets.limits.max_image_pixels).map_err(|e| item_error(media, e))?);
        }
    }
    Ok(Visuals { clips, background, watermark })
}

/// Build the streaming mixer of the plan's audio, or `None` when the video is silent.
fn build_mixer(plan: &RenderPlan, assets: &JobAssets) -> Result<Option<PlanMix>, RenderError> {
    let mut tracks = Vec::new();
    let mut sources = Vec::new();
    let mut items = Vec::new();
    for t in &plan.audio.tracks {
        let source = match assets.audio_until(&t.media.url, t.source_end) {
            Ok(s) => s,
            // A clip without a sound track simply adds nothing.
            Err(_) if t.role == AudioRole::ClipSound => continue,
            Err(e) => return Err(item_error(&t.media, e).into()),
        };
        if t.role == AudioRole::ClipSound && source.frames() == 0 {
            continue;
        }
        tracks.push(TrackSpec {
            role: match t.role {
                AudioRole::Voice => TrackRole::Voice,
                AudioRole::Music => TrackRole::Music,
                AudioRole::ClipSound => TrackRole::ClipSound,
            },
            start: t.start,
            source_offset: t.source_offset,
            length: t.length,
            gain: t.gain,
            looped: t.looped,
            fade_in: t.fade_in,
            fade_out: t.fade_out,
        });
        sources.push(MixSource::Stream(source));
        items.push((t.media.clone(), t.role != AudioRole::ClipSound));
    }
    if tracks.is_empty() {
        return Ok(None);
    }
    let spec = MixSpec { duration: plan.duration_secs(), tracks, ducking: plan.audio.ducking.then(Ducking::default) };
    spec.validate()?;
    Ok(Some(PlanMix { mixer: Mixer::with_sources(spec, sources), items }))
}

/// The streaming mix of a plan and, per mixer track, the item it plays and whether a decode
/// error part-way fails the render (voice-over, music) or only silences that track from there
/// on (a video clip's own sound, which is also skipped when it cannot be opened at all).
struct PlanMix {
    mixer: Mixer,
    items: Vec<(MediaRef, bool)>,
}

/// What the compositor thread sends: a new frame, or "same as the previous one".
enum FrameMsg {
    New(Box<Yuv420>),
    Repeat,
}

/// Composite every frame of the plan on its own thread, ahead of the encoder.
fn spawn_compositor(
    comp: Compositor,
    cancel: CancelToken,
) -> (Receiver<Result<FrameMsg, RenderError>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = sync_channel(4);
    let handle = std::thread::spawn(move || {
        let (width, height, frame_count) = (comp.plan().width, comp.plan().height, comp.plan().frame_count);
        let mut frames = FrameLoop::new(comp);
        for n in 0..frame_count {
            if cancel.is_cancelled() {
                let _ = tx.send(Err(RenderError::Cancelled));
                return;
            }
            let msg = frames.step(n).map(|step| match step {
                Step::Repeat => FrameMsg::Repeat,
                Step::New(canvas) => {
                    let mut yuv = Box::new(Yuv420::new(width, height));
                    rgba_to_yuv420(canvas, &mut yuv);
                    FrameMsg::New(yuv)
                }
            });
            let failed = msg.is_err();
            if tx.send(msg).is_err() || failed {
                return;
            }
        }
    });
    (rx, handle)
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
            let (frames, handle) = spawn_compositor(comp, options.cancel.clone());
            let result = write_y4m(&plan, &frames, out, &progress, &options.cancel);
            drop(frames);
            let _ = handle.join();
            result?
        }
        OutputFormat::Mp4 => write_mp4(&plan, &visuals, mixer, out, &progress, options)?,
    };
    progress.done();
    Ok(RenderSummary { size_bytes, ..summary })
}

/// Throttled progress reporting (at most once per percent).
struct Progress {
    callback: Option<ProgressFn>,
    total: u64,
    last: std::cell::Cell<i64>,
}

impl Progress {
    fn new(callback: Option<ProgressFn>, total: u64) -> Self {
        Progress { callback, total: total.max(1), last: std::cell::Cell::new(-1) }
    }
    fn frame_done(&self, n: u64) {
        if let Some(cb) = &self.callback {
            let pct = (n * 100 / self.total) as i64;
            if pct != self.last.get() {
                self.last.set(pct);
                // Keep the last percent for muxing: 1.0 means the file is complete.
                cb((n as f64 / self.total as f64).min(0.99));
            }
        }
    }
    fn done(&self) {
        if let Some(cb) = &self.callback {
            cb(1.0);
        }
    }
}

fn next_frame(frames: &Receiver<Result<FrameMsg, RenderError>>, cancel: &CancelToken) -> Result<FrameMsg, RenderError> {
    if cancel.is_cancelled() {
        return Err(RenderError::Cancelled);
    }
    frames.recv().map_err(|_| RenderError::Pipeline("the compositor stopped unexpectedly"))?
}

fn write_y4m(
    plan: &RenderPlan,
    frames: &Receiver<Result<FrameMsg, RenderError>>,
    out: &Path,
    progress: &Progress,
    cancel: &CancelToken,
) -> Result<u64, RenderError> {
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut w = Y4mWriter::new(file, plan.width, plan.height, plan.fps)?;
    let mut last: Option<Box<Yuv420>> = None;
    for n in 0..plan.frame_count {
        match next_frame(frames, cancel)? {
            FrameMsg::New(f) => {
                w.write_frame(&f)?;
                last = Some(f);
            }
            FrameMsg::Repeat => match &last {
                Some(f) => w.write_frame(f)?,
                None => return Err(RenderError::Pipeline("a repeated frame before the first frame")),
            },
        }
        progress.frame_done(n + 1);
    }
    w.finish()?;
    Ok(std::fs::metadata(out)?.len())
}

/// Audio side of the MP4 writer: mixes and encodes on demand, ahead of the video.
struct AudioFeed {
    mixer: Mixer,
    items: Vec<(MediaRef, bool)>,
    encoder: Option<OpusEncoder>,
    buf: Vec<f32>,
    queued: std::collections::VecDeque<audio::OpusPacket>,
    /// Samples (per channel) written to the file so far.
    written: u64,
    done: bool,
}

impl AudioFeed {
    /// Write packets until the audio reaches `until` samples (or ends).
    fn write_until(&mut self, mp4: &mut Mp4Writer, until: u64) -> Result<(), RenderError> {
        while self.written < until {
            if let Some(p) = self.queued.pop_front() {
                mp4.write_audio(&p.data, p.samples)?;
                self.written += p.samples as u64;
                continue;
            }
            if self.done {
                return Ok(());
            }
            let n = self.mixer.fill(&mut self.buf);
            if let Some((i, e)) = self.mixer.source_error() {
                if let Some((item, true)) = self.items.get(i) {
                    return Err(item_error(item, e.clone()).into());
                }
            }
            let encoder = self.encoder.as_mut().ok_or(RenderError::Pipeline("the audio encoder is gone"))?;
            if n == 0 {
                let enc = self.encoder.take().ok_or(RenderError::Pipeline("the audio encoder is gone"))?;
                self.queued.extend(enc.finish()?);
                self.done = true;
            } else {
                self.queued.extend(encoder.encode(&self.buf[..n * 2])?);
            }
        }
        Ok(())
    }
}

fn write_mp4(
    plan: &RenderPlan,
    visuals: &Arc<Visuals>,
    mixer: Option<PlanMix>,
    out: &Path,
    progress: &Progress,
    options: &RenderOptions,
) -> Result<u64, RenderError> {
    let workers = if options.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        options.threads
    };
    let mut audio = match mixer {
        Some(PlanMix { mixer, items }) => {
            let encoder = OpusEncoder::new(AUDIO_BITRATE)?;
            Some(AudioFeed {
                mixer,
                items,
                encoder: Some(encoder),
                buf: vec![0.0; 4096 * 2],
                queued: Default::default(),
                written: 0,
                done: false,
            })
        }
        None => None,
    };
    let audio_track = audio.as_ref().and_then(|a| {
        let pre_skip = a.encoder.as_ref()?.pre_skip();
        let audio_samples = a.mixer.total_frames();
        let samples = audio_samples + pre_skip as u64;
        Some(OpusTrack { pre_skip, packets: samples.div_ceil(960) as usize + 2, samples: audio_samples })
    });
    let mut mp4 = Mp4Writer::create(out, plan.width, plan.height, plan.fps, plan.frame_count, audio_track)?;
    let workers = segments::spawn(plan, visuals, workers, &options.cancel);
    let segment_count = segments::segments(plan.frame_count, plan.fps).len();
    // Packets of segments that finished ahead of their turn, and which segments are done.
    let mut waiting: HashMap<usize, std::collections::VecDeque<crate::encode::Packet>> = HashMap::new();
    let mut done = vec![false; segment_count];
    let mut current = 0;
    let mut written = 0u64;
    let lead = 24_000u64; // audio runs up to 0.5 s ahead of video in the file
    while current < segment_count {
        if options.cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        match workers.rx.recv() {
            Ok(segments::WorkerMsg::Packets { segment, packets }) => {
                waiting.entry(segment).or_default().extend(packets)
            }
            Ok(segments::WorkerMsg::Done { segment }) => done[segment] = true,
            Ok(segments::WorkerMsg::Failed(e)) => return Err(e),
            Err(_) => return Err(RenderError::Pipeline("the encoder workers stopped unexpectedly")),
        }
        // Write what is due, in order: the current segment's packets, then the next ones'.
        while current < segment_count {
            for p in waiting.remove(&current).unwrap_or_default() {
                mp4.write_video(&p.data, p.keyframe)?;
                written += 1;
                progress.frame_done(written);
                if let Some(a) = audio.as_mut() {
                    a.write_until(&mut mp4, plan.fps.ticks_at(written, 48_000) + lead)?;
                }
            }
            if !done[current] {
                break;
            }
            current += 1;
        }
    }
    drop(workers);
    if written != plan.frame_count {
        return Err(RenderError::Pipeline("the encoder returned fewer frames than it was given"));
    }
    if let Some(a) = audio.as_mut() {
        a.write_until(&mut mp4, u64::MAX)?;
    }
    Ok(mp4.finish()?)
}
