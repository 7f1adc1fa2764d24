//! Audio: decode, resample, mix and encode.
//!
//! Data enters as the bytes of a media file (MP3, AAC in MP4/M4A, WAV, FLAC, Ogg Vorbis) and
//! leaves as Opus packets ready for the MP4 muxer.
//!
//! 1. [`AudioStream`] turns bytes into 48 kHz, stereo, interleaved `f32`, block by block:
//!    encoder delay and padding trimmed, resampled with rubato's FFT resampler. Length is
//!    bounded ([`DecodeOptions::max_seconds`]). [`audio_frames`] gives the exact length
//!    without decoding; [`decode_audio`] collects a whole file into a [`Pcm`].
//! 2. [`Mixer`] places each source ([`MixSource`]: a [`Pcm`] or a [`StreamSource`] decoded
//!    as it plays) on the timeline ([`TrackSpec`]: start, trim,
//!    length, gain, loop, fades), ducks music under voice ([`Ducking`]) and runs a look-ahead
//!    peak limiter so the sum never exceeds full scale. It streams: [`Mixer::fill`] writes the
//!    next block into the caller's buffer; memory does not grow with the video's or the
//!    sources' length.
//! 3. [`OpusEncoder`] cuts the mix into 20 ms frames and encodes them with the pure-Rust
//!    `opus-pure` encoder; [`OpusEncoder::pre_skip`] is what the muxer writes into `dOps`.
//!
//! Everything in between is [`SAMPLE_RATE`] (48 kHz) stereo interleaved `f32`, nominal range
//! -1.0..=1.0. The hot loops are small functions over slices in [`kernels`]. The rules and
//! numbers (fade shapes, loop crossfade, ducking, limiter, Opus settings) are in `docs/audio.md`.

#[cfg(feature = "aac")]
mod aac;
mod decode;
pub mod kernels;
mod loudness;
mod mixer;
mod opus;
mod source;

#[cfg(feature = "aac")]
pub use aac::{AacEncoder, AAC_FRAME_SAMPLES};
pub use decode::{
    audio_frames, decode_audio, decode_audio_with, AudioStream, DecodeOptions, DEFAULT_MAX_AUDIO_SECONDS,
};
pub use loudness::{
    gain_to_target, integrated_loudness, normalized_ceiling, refine_gain, MAX_NORMALIZE_GAIN_DB, NORMALIZED_CEILING_DB,
    TARGET_LUFS, TARGET_TRUE_PEAK_DBTP,
};
pub use mixer::{
    Ducking, MixSpec, Mixer, TrackRole, TrackSpec, DECLICK_SECONDS, DUCK_HOLD_SECONDS, DUCK_THRESHOLD_DBFS,
    DUCK_WINDOW_SECONDS, LIMITER_CEILING, LIMITER_LOOKAHEAD_FRAMES, LIMITER_RELEASE_SECONDS, LOOP_CROSSFADE_SECONDS,
};
pub use opus::{OpusEncoder, OpusPacket, OPUS_FRAME_SAMPLES};

/// The audio encoders take interleaved stereo: an odd sample count is a caller's bug, said once.
fn check_interleaved(pcm: &[f32]) -> Result<(), String> {
    if pcm.len().is_multiple_of(CHANNELS) {
        Ok(())
    } else {
        Err(format!("interleaved stereo input needs an even sample count (got {})", pcm.len()))
    }
}

/// One encoded audio packet (an Opus packet or an AAC access unit), as stored in an MP4 sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPacket {
    /// The packet bytes.
    pub data: Vec<u8>,
    /// Duration in 48 kHz samples per channel (960 for Opus, 1024 for AAC).
    pub samples: u32,
}
pub use source::{MixSource, StreamSource, LOOP_IN_MEMORY_SECONDS};

/// The one sample rate inside the audio pipeline and in the encoded output.
pub const SAMPLE_RATE: u32 = 48_000;

/// Channels inside the audio pipeline: stereo, interleaved `L, R, L, R, …`.
pub const CHANNELS: usize = 2;

/// Decoded audio: 48 kHz stereo, interleaved `f32`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    /// Interleaved `L, R` samples at [`SAMPLE_RATE`]; the length is always even.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Wraps interleaved stereo samples (a trailing odd sample is dropped).
    pub fn from_interleaved(mut samples: Vec<f32>) -> Self {
        samples.truncate(samples.len() / CHANNELS * CHANNELS);
        Pcm { samples }
    }

    /// Number of stereo frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / CHANNELS
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / f64::from(SAMPLE_RATE)
    }
}

/// Why the mixer spec or the encoder refused to work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// A mix spec value is out of range; `field` names it (`tracks[1].gain`).
    #[error("{field}: {reason}")]
    InvalidSpec {
        /// The offending field, e.g. `tracks[1].fade_in` or `duration`.
        field: String,
        /// What is wrong with it, with the value.
        reason: String,
    },
    /// The bitrate is outside what the encoder accepts (Opus 6 000–510 000, AAC 32 000–320 000).
    #[error("invalid audio bitrate {0} b/s")]
    InvalidBitrate(u32),
    /// The Opus encoder failed.
    #[error("Opus encoder: {0}")]
    Opus(String),
    /// The AAC encoder failed.
    #[error("AAC encoder: {0}")]
    Aac(String),
    /// The loudness meter refused the audio (normalization).
    #[error("loudness meter: {0}")]
    Loudness(String),
}
