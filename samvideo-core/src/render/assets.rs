//! The job's media: fetched once per URL, probed for the lowering, checked before the first
//! frame, and handed to the compositors as sources.
//!
//! Enter: the request, a [`MediaSource`] and the render options. Leave: the [`RenderPlan`]
//! (media errors named by item) and the [`Visuals`] every segment worker builds its
//! compositor inputs from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::api::{CancelToken, RenderError, RenderOptions};
use crate::audio::{self, StreamSource};
use crate::compose::text::Font;
use crate::compose::{Assets, ClipMedia, FrameSource, StillSource};
use crate::frame::Rgba;
use crate::media::cache::JobMedia;
use crate::media::image::decode_image;
use crate::media::limits::Limits;
use crate::media::video::{self, VideoLimits, VideoReader};
use crate::media::{MediaError, MediaItemError, MediaSource};
use crate::plan::{self, Background, ClipSource, DurationOf, LowerError, LowerOptions, MediaRef, Overlay, RenderPlan};
use crate::request::CreateRequest;

/// Fetched and decoded media of one job, keyed by URL.
pub(super) struct JobAssets {
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
    pub(super) fn audio_until(&self, url: &str, until: Option<f64>) -> Result<StreamSource, MediaError> {
        let full = self.audio_frames(url)?;
        let options = audio::DecodeOptions { stop_after_seconds: until, ..Default::default() };
        StreamSource::new(self.media.fetch(url)?, audio_ext(url), options, full)
    }
}

/// The URL's extension as a container hint for the audio probe.
pub(super) fn audio_ext(url: &str) -> Option<&str> {
    url.rsplit('.').next().filter(|e| e.len() <= 4)
}

pub(super) fn item_error(r: &MediaRef, error: MediaError) -> MediaItemError {
    MediaItemError { item: r.label.clone(), url: r.url.clone(), error }
}

pub(super) fn video_limits(l: &Limits) -> VideoLimits {
    VideoLimits {
        max_width: l.max_input_video_side,
        max_height: l.max_input_video_side,
        max_duration: l.max_input_video_seconds,
    }
}

pub(super) fn job_assets(source: Arc<dyn MediaSource>, options: &RenderOptions) -> JobAssets {
    let limits = options.limits.clone().unwrap_or_default();
    JobAssets {
        media: JobMedia::new(source, &limits),
        limits,
        audio: Mutex::new(HashMap::new()),
        video: Mutex::new(HashMap::new()),
    }
}

pub(super) fn plan_with(
    request: &CreateRequest,
    assets: &JobAssets,
    options: &RenderOptions,
) -> Result<RenderPlan, RenderError> {
    let errors: Mutex<HashMap<String, MediaError>> = Mutex::new(HashMap::new());
    let duration_of = |url: &str, kind: DurationOf| -> Option<f64> {
        let found = match kind {
            DurationOf::Video => assets.video_info(url).map(|info| info.duration),
            DurationOf::Audio => assets.audio_secs(url),
        };
        found.map_err(|e| errors.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), e)).ok()
    };
    let lower_options = LowerOptions {
        preview: options.preview,
        limits: assets.limits.clone(),
        default_codec: options.default_codec,
        codec_override: options.codec_override,
    };
    let request = super::subtitles::with_fetched_subtitles(request, &assets.media, assets.limits.max_subtitle_bytes)?;
    let plan = plan::lower(&request, &duration_of, &lower_options).map_err(|e| match e {
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
    /// Caption `font_url` faces, by URL.
    fonts: HashMap<String, Font>,
}

impl Visuals {
    /// Fresh compositor inputs: stills shared, video decoders not yet opened.
    pub(super) fn assets(&self) -> Assets {
        Assets {
            clips: self.clips.iter().map(Visual::media).collect(),
            background: self.background.as_ref().map(Visual::media),
            watermark: self.watermark.clone(),
            fonts: self.fonts.clone(),
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

pub(super) fn load_visuals(
    plan: &RenderPlan,
    assets: &JobAssets,
    cancel: &CancelToken,
) -> Result<Visuals, RenderError> {
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
    let mut fonts = HashMap::new();
    for font in plan.captions.iter().filter_map(|p| p.look.font.as_ref()) {
        if !fonts.contains_key(&font.url) {
            fonts.insert(font.url.clone(), load_font(assets, font)?);
        }
    }
    Ok(Visuals { clips, background, watermark, fonts })
}

/// A caption's `font_url`: fetched under `max_font_bytes` and parsed, so bytes that are not a
/// font fail before the first frame, naming the field and URL.
fn load_font(assets: &JobAssets, r: &MediaRef) -> Result<Font, MediaItemError> {
    let bytes = assets.media.fetch_at_most(&r.url, assets.limits.max_font_bytes).map_err(|e| item_error(r, e))?;
    Font::from_bytes(&bytes).map_err(|e| item_error(r, MediaError::Decode(e.to_string())))
}
