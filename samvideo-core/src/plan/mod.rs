//! The render plan: one normalized, frame-exact timeline that every endpoint compiles into.
//!
//! Architecture Invariant: the plan has no serde and no optional defaults; every default
//! and every timing rule is applied once, in [`lower`] (see `docs/timing.md`). The renderer
//! knows only this type.

mod caption;
mod geometry;
mod lower;

pub use caption::{CaptionBox, CaptionLook, CaptionPage, CaptionWord, FontFamily};
pub use geometry::frame_size;
pub use lower::{lower, parse_color, DurationOf, LowerError, LowerOptions};

pub use crate::frame_rate::FrameRate;

/// A media URL and where it sat in the request (`media_list[2]`, `voice_url`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRef {
    /// Item label used in error messages.
    pub label: String,
    /// URL as sent.
    pub url: String,
}

/// Encoder settings chosen from the requested quality (`docs/encoding-presets.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodePreset {
    /// rav1e speed preset (0 slowest .. 10 fastest) for a segment of pictures held on screen:
    /// a slideshow's stills with their fades, captions that change slowly.
    pub speed: u8,
    /// rav1e speed preset for a segment whose pictures mostly change faster than
    /// [`BRIEF_PICTURE_SECONDS`] (video, Ken Burns, a moving background, captions word by
    /// word): the encoder must code most of its frames, each seen briefly, so it gets the
    /// faster search ([`EncodePreset::for_segment`]).
    pub motion_speed: u8,
    /// rav1e base quantizer (0..255, lower is better).
    pub quantizer: u8,
    /// openh264's quantization parameters.
    pub h264: H264Qp,
}

/// A picture on screen for less than this (seconds) is brief: a frame in motion, a
/// transition frame, a caption word at speaking pace (`docs/encoding-presets.md`).
pub const BRIEF_PICTURE_SECONDS: f64 = 0.5;

impl EncodePreset {
    /// SVT-AV1's CRF (0..63) for this quality, from rav1e's quantizer: `(quantizer + 30) / 4`,
    /// so `medium` (quantizer 110) is CRF 35, where SVT-AV1 preset 12 matched rav1e's SSIM-Y on
    /// the Ken Burns job in 0.59x the bytes (`docs/performance.md`, "Issue 18, fourth pass");
    /// `high` (90) is 30, `low` (140) 42, previews (150) 45.
    pub fn svt_crf(self) -> u8 {
        ((u16::from(self.quantizer) + 30) / 4).min(63) as u8
    }

    /// The settings for a segment of `frames` frames of which `brief` show a brief picture
    /// ([`BRIEF_PICTURE_SECONDS`]): at least half brief runs at
    /// [`motion_speed`](EncodePreset::motion_speed). The segment's frames come from the plan
    /// alone, so the choice, and the bytes, do not depend on the worker count. Why
    /// (`docs/encoding-presets.md`): on Ken Burns frames rav1e's speed 10 takes 0.37x the CPU of
    /// speed 7 for 20 % more bytes, where on a slideshow's held stills and fades speed 7 saves a
    /// third of the bytes.
    pub fn for_segment(self, brief: u64, frames: u64) -> EncodePreset {
        if brief.saturating_mul(2) >= frames.max(1) {
            EncodePreset { speed: self.motion_speed, ..self }
        } else {
            self
        }
    }
}

/// openh264's fixed QPs (0..51, lower is better) by what a picture is to the viewer: bits go
/// where they are seen for long (`docs/encoding-presets.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct H264Qp {
    /// A new picture: a still's first frame, a video or zoom frame.
    pub picture: u8,
    /// A still held on screen: its second frame refines it once at this QP.
    pub still: u8,
    /// The held still's later frames: coarser than `still`, so that nothing is left to code
    /// (skipped macroblocks) and no bits go to re-refining grain.
    pub hold: u8,
    /// A frame inside a transition, on screen once.
    pub transition: u8,
}

impl H264Qp {
    /// The QPs around a new picture's: a held still refined 13 lower and held 7 lower, a
    /// transition frame 6 higher (chosen on the standard job: `bench/notes.md`, "H.264
    /// output").
    pub const fn around(picture: u8) -> H264Qp {
        let picture = if picture > 51 { 51 } else { picture };
        let qp = H264Qp { picture, still: 0, hold: 0, transition: if picture > 45 { 51 } else { picture + 6 } };
        qp.with_still(picture.saturating_sub(13))
    }

    /// The same QPs with the held still refined at `still` (and held 6 above it).
    pub const fn with_still(self, still: u8) -> H264Qp {
        let still = if still > 45 { 45 } else { still };
        H264Qp { still, hold: still + 6, ..self }
    }
}

/// The output's video codec; the audio codec follows it ([`VideoCodec::audio`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoCodec {
    /// AV1 (rav1e), in MP4 as `av01`, with Opus audio.
    #[default]
    Av1,
    /// H.264 High profile (openh264), in MP4 as `avc1`, with AAC-LC audio and no edit lists.
    H264,
}

/// The output's audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// Opus, in MP4 as `Opus` with an edit list for its pre-skip.
    Opus,
    /// AAC-LC, in MP4 as `mp4a`.
    Aac,
}

impl VideoCodec {
    /// Every codec, in the order the API lists them.
    pub const ALL: [VideoCodec; 2] = [VideoCodec::Av1, VideoCodec::H264];

    /// The name the API and the CLI use (`av1`, `h264`).
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::Av1 => "av1",
            VideoCodec::H264 => "h264",
        }
    }

    /// The codec called `name`.
    pub fn from_name(name: &str) -> Option<VideoCodec> {
        VideoCodec::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The names, for messages: `av1, h264`.
    pub fn names() -> String {
        VideoCodec::ALL.map(VideoCodec::name).join(", ")
    }

    /// The audio codec that goes with this video codec: what the platforms that take it accept.
    pub fn audio(self) -> AudioCodec {
        match self {
            VideoCodec::Av1 => AudioCodec::Opus,
            VideoCodec::H264 => AudioCodec::Aac,
        }
    }
}

impl std::str::FromStr for VideoCodec {
    type Err = String;
    fn from_str(s: &str) -> Result<VideoCodec, String> {
        VideoCodec::from_name(s).ok_or_else(|| format!("unknown codec {s:?} (expected one of {})", VideoCodec::names()))
    }
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The whole video.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    /// Frame width (even).
    pub width: u32,
    /// Frame height (even).
    pub height: u32,
    /// Frames per second, exact.
    pub fps: FrameRate,
    /// Total frames.
    pub frame_count: u64,
    /// The frame the poster image (JPEG) shows: `thumbnail_time`, clamped to the video.
    pub poster_frame: u64,
    /// Video codec of the output.
    pub codec: VideoCodec,
    /// Encoder preset.
    pub preset: EncodePreset,
    /// What shows where no clip covers the frame (and behind `fit: contain`).
    pub background: Background,
    /// Visual clips in order; neighbours overlap during transitions.
    pub clips: Vec<Clip>,
    /// `transitions[i]` joins `clips[i]` and `clips[i + 1]`.
    pub transitions: Vec<Transition>,
    /// Watermark and text overlays, drawn in order.
    pub overlays: Vec<Overlay>,
    /// Caption pages by start frame, drawn over the overlays.
    pub captions: Vec<CaptionPage>,
    /// Sound.
    pub audio: AudioPlan,
}

impl RenderPlan {
    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.fps.secs_of(self.frame_count)
    }

    /// The clips on screen at frame `n`: the clip shown, and the incoming one while a
    /// transition joins them.
    pub fn clips_at(&self, n: u64) -> (Option<usize>, Option<usize>) {
        let clips = &self.clips;
        let i = clips.partition_point(|c| c.end <= n);
        let first = (i < clips.len() && clips[i].start <= n).then_some(i);
        let second = first.and_then(|i| (i + 1 < clips.len() && clips[i + 1].start <= n).then_some(i + 1));
        (first, second)
    }

    /// Whether the picture under the overlays and captions moves at frame `n`: a transition,
    /// a video or Ken Burns clip, or a video background. The compositor never reuses such a
    /// frame, and a video of mostly moving frames is cut into shorter segments
    /// (`render/segments.rs`).
    pub fn picture_moves(&self, n: u64) -> bool {
        if matches!(self.background, Background::Video(_)) {
            return true;
        }
        match self.clips_at(n) {
            (Some(i), None) => self.clips[i].source != ClipSource::Image || self.clips[i].zoom.is_some(),
            (Some(_), Some(_)) => true,
            (None, _) => false,
        }
    }

    /// How many frames of the video have a moving picture ([`RenderPlan::picture_moves`]).
    pub fn moving_frames(&self) -> u64 {
        (0..self.frame_count).filter(|&n| self.picture_moves(n)).count() as u64
    }

    /// The picture moves in at least half the frames: the video is cut into shorter segments
    /// (`render/segments.rs`) and its AV1 is encoded by SVT-AV1 (`encode/svt_av1.rs`).
    pub fn mostly_moving(&self) -> bool {
        2 * self.moving_frames() >= self.frame_count
    }
}

/// Background layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Background {
    /// Solid colour.
    Color([u8; 3]),
    /// An image, cover-cropped.
    Image(MediaRef),
    /// A video, cover-cropped and looped.
    Video(MediaRef),
}

/// How a picture fills the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fit {
    /// Scale to cover, crop the overflow (centred).
    Cover,
    /// Scale to fit inside; the rest shows a blurred copy (`blur`) or the background.
    Contain {
        /// Fill the bars with a blurred, cover-scaled copy of the picture.
        blur: bool,
    },
}

/// Ken Burns motion of a still.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zoom {
    /// Scale at the clip's first frame (1.0 = cover).
    pub from: f32,
    /// Scale at the clip's last frame.
    pub to: f32,
}

/// What a clip shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipSource {
    /// A still image.
    Image,
    /// A video, starting `trim_start` s into the source; looped when shorter than the clip.
    Video {
        /// Seconds skipped at the source's start.
        trim_start: f64,
        /// Source seconds used (from `trim_start`) before looping or holding.
        segment: Option<f64>,
        /// Loop the segment to fill the clip; otherwise the last frame holds.
        looped: bool,
    },
}

/// One visual clip on the timeline: shown on frames `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Where the picture comes from.
    pub media: MediaRef,
    /// Still or video.
    pub source: ClipSource,
    /// First frame shown.
    pub start: u64,
    /// One past the last frame shown.
    pub end: u64,
    /// Cover or contain.
    pub fit: Fit,
    /// Ken Burns, stills only.
    pub zoom: Option<Zoom>,
}

/// A transition's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The direction of motion of a wipe or slide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Toward the left (the incoming clip enters from the right).
    Left,
    /// Toward the right.
    Right,
    /// Upward.
    Up,
    /// Downward.
    Down,
}

/// Where a watermark sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
    /// Centre of the frame.
    Center,
}

/// Where a text block sits vertically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerticalPosition {
    /// Near the top edge.
    Top,
    /// Centred.
    Middle,
    /// Near the bottom edge.
    Bottom,
}

/// A transition between two neighbouring clips, on frames `start..start + frames`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// Effect.
    pub kind: TransitionKind,
    /// For wipe/slide: the direction of motion.
    pub direction: Direction,
    /// First overlapping frame (= the incoming clip's start).
    pub start: u64,
    /// Overlap length in frames (0 = hard cut).
    pub frames: u64,
}

/// Colours and placement of a full-width text band (`text_overlays`; captions are
/// [`CaptionPage`]s).
#[derive(Debug, Clone, PartialEq)]
pub struct TextStyle {
    /// Glyph height in pixels (at the output size).
    pub font_px: f32,
    /// Fill colour, RGBA.
    pub color: [u8; 4],
    /// Box behind the text, RGBA (alpha 0 = none).
    pub box_color: [u8; 4],
    /// Outline colour and width in pixels (0 = none).
    pub stroke: ([u8; 4], f32),
    /// Vertical placement.
    pub position: VerticalPosition,
}

/// A region of the frame as fractions of its width and height (0..=1): where captions stay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SafeArea {
    /// Left edge.
    pub left: f32,
    /// Right edge.
    pub right: f32,
    /// Top edge.
    pub top: f32,
    /// Bottom edge.
    pub bottom: f32,
}

/// Something drawn over the clips.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// An image watermark.
    WatermarkImage {
        /// The image (alpha honoured).
        media: MediaRef,
        /// Corner or centre.
        position: Corner,
        /// Width as a fraction of the frame width.
        size: f32,
        /// 0..1.
        opacity: f32,
        /// Distance from the edges in pixels.
        padding: u32,
    },
    /// A text watermark.
    WatermarkText {
        /// The text.
        text: String,
        /// Corner or centre.
        position: Corner,
        /// Text block width as a fraction of the frame width (caps the font size).
        size: f32,
        /// 0..1.
        opacity: f32,
        /// Distance from the edges in pixels.
        padding: u32,
    },
    /// Text shown on frames `start..end`.
    Text {
        /// The text (wrapped to the frame width).
        text: String,
        /// Look and placement.
        style: TextStyle,
        /// First frame.
        start: u64,
        /// One past the last frame.
        end: u64,
    },
}

/// Role of a sound source in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioRole {
    /// Voice-over: never ducked, ducks the music.
    Voice,
    /// Background music.
    Music,
    /// A video clip's own sound.
    ClipSound,
}

/// One sound source placed on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrack {
    /// The file.
    pub media: MediaRef,
    /// Voice, music or clip sound.
    pub role: AudioRole,
    /// Timeline second the track starts at.
    pub start: f64,
    /// Seconds skipped at the source's start.
    pub source_offset: f64,
    /// Play at most this long (None: to the source's end, or the video's end when looped).
    pub length: Option<f64>,
    /// The source is used only up to this second (a clip's `trim_end`): the renderer decodes
    /// no further, and a loop repeats `source_offset..source_end`. None: the whole source.
    pub source_end: Option<f64>,
    /// Linear gain.
    pub gain: f32,
    /// Repeat to fill.
    pub looped: bool,
    /// Fade-in seconds.
    pub fade_in: f64,
    /// Fade-out seconds.
    pub fade_out: f64,
}

/// All sound of the video.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioPlan {
    /// Sources.
    pub tracks: Vec<AudioTrack>,
    /// Dip music under the voice.
    pub ducking: bool,
    /// Bring the mix to the platforms' loudness (-14 LUFS, true peak <= -1 dBTP).
    pub normalize: bool,
}
