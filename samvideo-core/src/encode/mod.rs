//! Video encoding: the one seam every render goes through (the segment workers, so previews
//! and the AI built-in model too).
//!
//! Enter: [`Yuv420`] frames with their [`FrameKind`] (a transition frame or not), or "the
//! previous picture again" ([`VideoEncoder::repeat`]: each codec decides how a repeat is
//! written). Leave: [`Packet`]s, one per input frame, in
//! presentation order. [`open`] picks the encoder for a [`VideoCodec`]; a new codec is a new
//! file here plus its MP4 sample entry in `mux/mp4.rs`, and nothing else in the renderer
//! changes. Every encoder is deterministic and starts each segment with a key frame, so the
//! output bytes do not depend on the number of segment workers.

mod av1;
mod h264;
mod svt_av1;

pub use av1::{level_idx, sequence_header_obu, Av1Encoder, RDO_LOOKAHEAD_FRAMES};
pub use h264::{level_idc as h264_level_idc, H264Encoder};
pub use svt_av1::{SvtAv1Encoder, SVT_MIN_SIDE, SVT_PRESET};

use crate::frame::Yuv420;
use crate::frame_rate::FrameRate;
use crate::plan::{EncodePreset, VideoCodec};

/// One encoded temporal unit.
#[derive(Debug, Clone)]
pub struct Packet {
    /// The MP4 sample: the OBUs of an AV1 temporal unit; the length-prefixed NAL units of an
    /// H.264 access unit (with SPS and PPS on key frames, which the muxer moves to `avcC`).
    pub data: Vec<u8>,
    /// A random-access point.
    pub keyframe: bool,
    /// Index of the input frame it shows.
    pub frame: u64,
}

/// Encoder failure.
#[derive(Debug, thiserror::Error)]
#[error("{codec} encoder: {reason}")]
pub struct EncodeError {
    /// `AV1`, `H.264`.
    pub codec: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl EncodeError {
    /// A failure of the `codec` encoder.
    pub fn new(codec: &'static str, reason: impl std::fmt::Display) -> EncodeError {
        EncodeError { codec, reason: reason.to_string() }
    }
}

/// Maximum seconds between keyframes.
pub const KEYFRAME_SECONDS: u64 = 10;

/// The longest key-frame interval in frames at `fps` ([`KEYFRAME_SECONDS`]): every encoder's
/// setting.
pub fn keyframe_interval(fps: FrameRate) -> u64 {
    fps.frames_covering(KEYFRAME_SECONDS as f64)
}

/// What a new picture is to the viewer, so an encoder can spend bits where they are seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A frame inside a transition between two clips: on screen once.
    Transition,
    /// Any other picture: a still's first frame, a video or zoom frame.
    Regular,
}

/// An encoder for one stream (one segment): frames in, packets out.
pub trait VideoEncoder: Send {
    /// Queue a new picture.
    fn send(&mut self, frame: &Yuv420, kind: FrameKind) -> Result<(), EncodeError>;
    /// Queue the previous picture again (a still that did not change).
    fn repeat(&mut self) -> Result<(), EncodeError>;
    /// No more frames.
    fn flush(&mut self);
    /// Take every packet that is ready; `Ok(false)` at the end of the stream.
    fn receive(&mut self, out: &mut Vec<Packet>) -> Result<bool, EncodeError>;
}

/// What an encoder is opened for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamSpec {
    /// Codec.
    pub codec: VideoCodec,
    /// Frame width (even).
    pub width: u32,
    /// Frame height (even).
    pub height: u32,
    /// Frame rate.
    pub fps: FrameRate,
    /// Speed and quality.
    pub preset: EncodePreset,
    /// The video's picture moves in at least half its frames ([`RenderPlan::mostly_moving`]):
    /// AV1 is then encoded by SVT-AV1 ([`SvtAv1Encoder`]), which codes new pictures at a tenth
    /// of rav1e's CPU; otherwise by rav1e ([`Av1Encoder`]), which re-shows held stills
    /// without coding them; also a frame under 64 pixels a side, which SVT-AV1 refuses.
    /// Decided once per video: all its segments share one encoder.
    ///
    /// [`RenderPlan::mostly_moving`]: crate::plan::RenderPlan::mostly_moving
    pub moving: bool,
}

/// Open an encoder for `spec` using `threads` threads (1 for a segment worker).
pub fn open(spec: &StreamSpec, threads: usize) -> Result<Box<dyn VideoEncoder>, EncodeError> {
    match spec.codec {
        VideoCodec::Av1 if spec.moving && SvtAv1Encoder::takes(spec.width, spec.height) => {
            Ok(Box::new(SvtAv1Encoder::new(spec.width, spec.height, spec.fps, spec.preset, threads)?))
        }
        VideoCodec::Av1 => Ok(Box::new(Av1Encoder::new(spec.width, spec.height, spec.fps, spec.preset, threads)?)),
        // One thread whatever `threads` says: the stream must not depend on it.
        VideoCodec::H264 => Ok(Box::new(H264Encoder::new(spec.width, spec.height, spec.fps, spec.preset)?)),
    }
}

impl StreamSpec {
    /// The stream a plan asks for.
    pub fn of(plan: &crate::plan::RenderPlan) -> StreamSpec {
        StreamSpec {
            codec: plan.codec,
            width: plan.width,
            height: plan.height,
            fps: plan.fps,
            preset: plan.preset,
            moving: plan.mostly_moving(),
        }
    }
}
