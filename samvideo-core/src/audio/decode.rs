//! Bytes of an audio file in, 48 kHz stereo [`Pcm`] out.
//!
//! symphonia finds the container (MP3, MP4/M4A with AAC, WAV, FLAC, Ogg Vorbis) and decodes the
//! first audio track packet by packet. Each decoded block is down/up-mixed to stereo
//! ([`downmix_weights`]), trimmed (encoder delay and padding; for AAC in MP4 from the edit
//! list, which symphonia does not read), and streamed through rubato's synchronous FFT resampler
//! ([`Resample48`]) so only the 48 kHz output is ever held whole. The output length is bounded
//! by [`DecodeOptions::max_seconds`] and checked while decoding, not after.

use std::io::Cursor;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};
use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{Pcm, CHANNELS, SAMPLE_RATE};
use crate::media::MediaError;

/// Longest audio [`decode_audio`] accepts: one hour, i.e. 1.4 GB of decoded 48 kHz stereo
/// `f32`. Longer files are refused with [`MediaError::Limit`] (use [`decode_audio_with`] and
/// [`DecodeOptions::stop_after_seconds`] to take only the part a video needs).
pub const DEFAULT_MAX_AUDIO_SECONDS: f64 = 3600.0;

/// Lowest and highest source sample rates accepted.
const MIN_RATE: u32 = 1_000;
const MAX_RATE: u32 = 384_000;

/// Most consecutive undecodable packets tolerated before the file is called broken.
const MAX_BAD_PACKETS: usize = 64;

/// Limits for [`decode_audio_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Refuse sources longer than this many seconds ([`MediaError::Limit`]), unless
    /// `stop_after_seconds` stops decoding first.
    pub max_seconds: f64,
    /// Decode only the first this-many seconds and drop the rest (the part of a long song a
    /// short video needs). `None` decodes to the end.
    pub stop_after_seconds: Option<f64>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_seconds: DEFAULT_MAX_AUDIO_SECONDS,
            stop_after_seconds: None,
        }
    }
}

/// Decodes MP3, AAC (MP4/M4A), WAV, FLAC or Ogg Vorbis into 48 kHz stereo, refusing sources
/// longer than [`DEFAULT_MAX_AUDIO_SECONDS`]. `hint_ext` (`"mp3"`, `"m4a"`, …) only speeds up
/// the container probe; the bytes decide.
pub fn decode_audio(bytes: &[u8], hint_ext: Option<&str>) -> Result<Pcm, MediaError> {
    decode_audio_with(bytes, hint_ext, &DecodeOptions::default())
}

/// [`decode_audio`] with explicit limits.
pub fn decode_audio_with(
    bytes: &[u8],
    hint_ext: Option<&str>,
    options: &DecodeOptions,
) -> Result<Pcm, MediaError> {
    if !(options.max_seconds.is_finite() && options.max_seconds > 0.0) {
        return Err(MediaError::Limit(format!(
            "invalid audio duration limit {} s",
            options.max_seconds
        )));
    }
    // symphonia promises not to panic on hostile input but has in the past; a panic in a
    // decoder must become an error for this one media item, not take the render down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_inner(bytes, hint_ext, options)
    }))
    .unwrap_or_else(|_| {
        Err(MediaError::Decode(
            "audio decoder failed on malformed data".into(),
        ))
    })
}

fn decode_inner(
    bytes: &[u8],
    hint_ext: Option<&str>,
    options: &DecodeOptions,
) -> Result<Pcm, MediaError> {
    let not_supported = || MediaError::Decode("not a supported audio file".into());
    let mut hint = Hint::new();
    if let Some(ext) = hint_ext {
        hint.with_extension(ext);
    }
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|_| not_supported())?;

    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| MediaError::Decode("no audio track".into()))?
        .clone();
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| MediaError::Decode("audio track has no codec parameters".into()))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|_| MediaError::Decode("unsupported audio codec".into()))?;

    // Output bound in 48 kHz frames: the smaller of the limit and the part asked for.
    let limit_frames = (options.max_seconds * f64::from(SAMPLE_RATE)).ceil() as u64;
    let stop_frames = options
        .stop_after_seconds
        .filter(|s| s.is_finite())
        .map(|s| (s.max(0.0) * f64::from(SAMPLE_RATE)).round() as u64);
    let too_long = || {
        MediaError::Limit(format!(
            "audio is longer than the {} s limit",
            options.max_seconds
        ))
    };

    // Fail fast when the container states a length over the limit.
    if let (Some(n), Some(rate)) = (track.num_frames, params.sample_rate) {
        let secs = n as f64 / f64::from(rate.max(1));
        if stop_frames.is_none() && secs > options.max_seconds + 1.0 {
            return Err(too_long());
        }
    }

    // AAC in MP4: symphonia neither reads the edit list nor trims the encoder priming.
    let mut trim = Trim::default();
    if params.codec == CODEC_ID_AAC && looks_like_mp4(bytes) {
        let rate = params.sample_rate.unwrap_or(SAMPLE_RATE);
        trim = match mp4_audio_edit(bytes) {
            Some(edit) => Trim {
                skip: edit.media_time,
                keep: edit
                    .duration_secs
                    .map(|d| (d * f64::from(rate)).round() as u64),
            },
            // ffmpeg and Apple both prime AAC-LC with 1024 samples.
            None => Trim {
                skip: 1024,
                keep: None,
            },
        };
    }

    let mut state: Option<(Resample48, [(f32, f32); MAX_DOWNMIX])> = None;
    let mut channels = 0usize;
    let mut rate = 0u32;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut stereo: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    let mut decoded_any = false;

    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // Truncated file or a chained Ogg stream: keep what decoded so far.
            Err(SymError::IoError(_)) | Err(SymError::ResetRequired) => break,
            Err(SymError::DecodeError(_)) if decoded_any => break,
            Err(SymError::LimitError(what)) => {
                return Err(MediaError::Limit(format!("audio container: {what}")));
            }
            Err(e) => return Err(MediaError::Decode(format!("audio container: {e}"))),
        };
        if packet.track_id != track.id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                bad_packets += 1;
                if bad_packets > MAX_BAD_PACKETS {
                    return Err(MediaError::Decode(
                        "audio stream is corrupt (too many undecodable packets)".into(),
                    ));
                }
                continue;
            }
            Err(e) => return Err(MediaError::Decode(format!("audio decoder: {e}"))),
        };
        bad_packets = 0;
        if buf.frames() == 0 {
            continue;
        }
        let spec_rate = buf.spec().rate();
        let spec_channels = buf.spec().channels().clone();
        let n_channels = spec_channels.count();
        if state.is_none() {
            if !(MIN_RATE..=MAX_RATE).contains(&spec_rate) {
                return Err(MediaError::Decode(format!(
                    "unsupported audio sample rate {spec_rate} Hz (expected {MIN_RATE}..={MAX_RATE})"
                )));
            }
            if n_channels == 0 || n_channels > MAX_DOWNMIX {
                return Err(MediaError::Decode(format!(
                    "unsupported audio channel count {n_channels} (expected 1..={MAX_DOWNMIX})"
                )));
            }
            let resampler = Resample48::new(spec_rate)?;
            state = Some((resampler, downmix_weights(&spec_channels)));
            channels = n_channels;
            rate = spec_rate;
        } else if spec_rate != rate || n_channels != channels {
            // A stream that changes format midway: stop at the change rather than garble it.
            break;
        }
        let Some((resampler, weights)) = state.as_mut() else {
            continue;
        };
        decoded_any = true;
        buf.copy_to_vec_interleaved::<f32>(&mut interleaved);
        to_stereo(&interleaved, channels, &weights[..channels], &mut stereo);
        let kept = trim.apply(&stereo);
        resampler.push(kept)?;
        let out_frames = resampler.output_frames() as u64;
        if let Some(stop) = stop_frames {
            if out_frames >= stop.min(limit_frames) {
                if stop > limit_frames {
                    return Err(too_long());
                }
                break;
            }
        }
        if out_frames > limit_frames {
            return Err(too_long());
        }
        if trim.done() {
            break;
        }
    }

    let Some((resampler, _)) = state else {
        return Err(MediaError::Decode(
            "audio file has no decodable audio".into(),
        ));
    };
    let mut samples = resampler.finish()?;
    if let Some(stop) = stop_frames {
        samples.truncate(stop as usize * CHANNELS);
    }
    if samples.len() as u64 > limit_frames * CHANNELS as u64 {
        return Err(too_long());
    }
    Ok(Pcm { samples })
}

/// Frames to drop from the front and to keep after that, counted at the source rate.
#[derive(Debug, Default)]
struct Trim {
    skip: u64,
    keep: Option<u64>,
}

impl Trim {
    /// The part of `stereo` (interleaved) that survives the trim; advances the counters.
    fn apply<'a>(&mut self, stereo: &'a [f32]) -> &'a [f32] {
        let frames = (stereo.len() / CHANNELS) as u64;
        let skip = self.skip.min(frames);
        self.skip -= skip;
        let mut take = frames - skip;
        if let Some(keep) = self.keep.as_mut() {
            take = take.min(*keep);
            *keep -= take;
        }
        let a = skip as usize * CHANNELS;
        &stereo[a..a + take as usize * CHANNELS]
    }

    fn done(&self) -> bool {
        self.keep == Some(0)
    }
}

/// Most source channels mixed down (7.1 plus height and wide channels fit).
const MAX_DOWNMIX: usize = 32;

/// `(to_left, to_right)` weight of each source channel. Mono goes to both sides at unity;
/// positioned layouts follow ITU-R BS.775 (centre and surrounds at -3 dB, LFE dropped);
/// unpositioned layouts keep their first two channels.
fn downmix_weights(channels: &Channels) -> [(f32, f32); MAX_DOWNMIX] {
    const H: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let mut w = [(0.0f32, 0.0f32); MAX_DOWNMIX];
    let count = channels.count().min(MAX_DOWNMIX);
    match channels {
        _ if count == 1 => w[0] = (1.0, 1.0),
        Channels::Positioned(pos) if count > 2 => {
            // Planes are in ascending position-bit order.
            let mut i = 0;
            for bit in 0..64u32 {
                if pos.bits() & (1u64 << bit) == 0 {
                    continue;
                }
                if i >= MAX_DOWNMIX {
                    break;
                }
                w[i] = match bit {
                    0 => (1.0, 0.0),
                    1 => (0.0, 1.0),
                    3 | 18 => (0.0, 0.0), // LFE
                    4 | 6 | 9 | 12 | 15 | 19 | 22 | 24 => (H, 0.0),
                    5 | 7 | 10 | 14 | 17 | 20 | 23 | 25 => (0.0, H),
                    _ => (H, H), // centres
                };
                i += 1;
            }
        }
        _ => {
            w[0] = (1.0, 0.0);
            if count > 1 {
                w[1] = (0.0, 1.0);
            }
        }
    }
    w
}

/// Interleaved `channels`-channel samples to interleaved stereo with per-channel weights.
fn to_stereo(src: &[f32], channels: usize, weights: &[(f32, f32)], dst: &mut Vec<f32>) {
    let frames = src.len() / channels;
    dst.resize(frames * CHANNELS, 0.0);
    if channels == 2 && weights[0] == (1.0, 0.0) && weights[1] == (0.0, 1.0) {
        dst.copy_from_slice(&src[..frames * 2]);
        return;
    }
    for (out, frame) in dst
        .chunks_exact_mut(CHANNELS)
        .zip(src.chunks_exact(channels))
    {
        let (mut l, mut r) = (0.0, 0.0);
        for (s, (wl, wr)) in frame.iter().zip(weights) {
            l += s * wl;
            r += s * wr;
        }
        out[0] = l;
        out[1] = r;
    }
}

/// Streams stereo audio at any rate into 48 kHz through rubato's FFT resampler (or copies it
/// when it already is 48 kHz). Startup delay is trimmed and the tail flushed, so the output
/// has exactly `round_up(input * 48000 / rate)` frames, aligned with the input.
struct Resample48 {
    fft: Option<Fft<f32>>,
    /// Source-rate input not yet consumed, interleaved; `pending_start` is the first unread sample.
    pending: Vec<f32>,
    pending_start: usize,
    /// One call's worth of output, interleaved.
    chunk_out: Vec<f32>,
    /// Startup-delay frames still to drop from the output.
    delay_left: usize,
    frames_in: u64,
    out: Vec<f32>,
}

/// Input frames per resampler call.
const RESAMPLE_CHUNK: usize = 1024;

impl Resample48 {
    fn new(rate: u32) -> Result<Self, MediaError> {
        let fft = if rate == SAMPLE_RATE {
            None
        } else {
            Some(
                Fft::<f32>::new(
                    rate as usize,
                    SAMPLE_RATE as usize,
                    RESAMPLE_CHUNK,
                    CHANNELS,
                    FixedSync::Input,
                )
                .map_err(|e| MediaError::Decode(format!("cannot resample from {rate} Hz: {e}")))?,
            )
        };
        let (chunk_out, delay_left) = match &fft {
            Some(f) => (
                vec![0.0; f.output_frames_max() * CHANNELS],
                f.output_delay(),
            ),
            None => (Vec::new(), 0),
        };
        Ok(Resample48 {
            fft,
            pending: Vec::new(),
            pending_start: 0,
            chunk_out,
            delay_left,
            frames_in: 0,
            out: Vec::new(),
        })
    }

    fn output_frames(&self) -> usize {
        self.out.len() / CHANNELS
    }

    fn push(&mut self, stereo: &[f32]) -> Result<(), MediaError> {
        self.frames_in += (stereo.len() / CHANNELS) as u64;
        let Some(fft) = self.fft.as_mut() else {
            self.out.extend_from_slice(stereo);
            return Ok(());
        };
        // Compact before growing so `pending` stays about one chunk long.
        if self.pending_start > 0 {
            self.pending.drain(..self.pending_start);
            self.pending_start = 0;
        }
        self.pending.extend_from_slice(stereo);
        loop {
            let need = fft.input_frames_next();
            let avail = (self.pending.len() - self.pending_start) / CHANNELS;
            if avail < need {
                return Ok(());
            }
            let input = &self.pending[self.pending_start..self.pending_start + need * CHANNELS];
            let (used, produced) = run_chunk(fft, input, need, None, &mut self.chunk_out)?;
            self.pending_start += used * CHANNELS;
            append_after_delay(
                &mut self.out,
                &self.chunk_out[..produced * CHANNELS],
                &mut self.delay_left,
            );
        }
    }

    fn finish(mut self) -> Result<Vec<f32>, MediaError> {
        let Some(fft) = self.fft.as_mut() else {
            return Ok(self.out);
        };
        let expected = (self.frames_in * u64::from(SAMPLE_RATE)).div_ceil(rate_of(fft)) as usize;
        let rest = &self.pending[self.pending_start..];
        let rest_frames = rest.len() / CHANNELS;
        // The last partial chunk, then silence until the delayed tail is out.
        let mut partial = Some(rest_frames);
        let mut scratch = vec![0.0f32; fft.input_frames_max() * CHANNELS];
        scratch[..rest.len()].copy_from_slice(rest);
        let mut guard = 0;
        while self.out.len() / CHANNELS < expected {
            let need = fft.input_frames_next();
            let (_, produced) = run_chunk(
                fft,
                &scratch[..need * CHANNELS],
                need,
                Some(partial.take().unwrap_or(0)),
                &mut self.chunk_out,
            )?;
            append_after_delay(
                &mut self.out,
                &self.chunk_out[..produced * CHANNELS],
                &mut self.delay_left,
            );
            scratch.fill(0.0);
            guard += 1;
            if guard > 1_000 {
                break;
            }
        }
        self.out.truncate(expected * CHANNELS);
        Ok(self.out)
    }
}

fn rate_of(fft: &Fft<f32>) -> u64 {
    // ratio = 48000 / rate_in; recover rate_in from the ratio exactly enough for a div_ceil.
    (f64::from(SAMPLE_RATE) / fft.resample_ratio()).round() as u64
}

fn run_chunk(
    fft: &mut Fft<f32>,
    input: &[f32],
    frames: usize,
    partial_len: Option<usize>,
    out: &mut [f32],
) -> Result<(usize, usize), MediaError> {
    let err = |e: &dyn std::fmt::Display| MediaError::Decode(format!("resampler: {e}"));
    let adapter_in = InterleavedSlice::new(input, CHANNELS, frames).map_err(|e| err(&e))?;
    let out_frames = out.len() / CHANNELS;
    let mut adapter_out =
        InterleavedSlice::new_mut(out, CHANNELS, out_frames).map_err(|e| err(&e))?;
    let indexing = Indexing {
        input_offset: 0,
        output_offset: 0,
        partial_len,
        active_channels_mask: None,
    };
    fft.process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing))
        .map_err(|e| err(&e))
}

fn append_after_delay(out: &mut Vec<f32>, produced: &[f32], delay_left: &mut usize) {
    let skip = (*delay_left * CHANNELS).min(produced.len());
    *delay_left -= skip / CHANNELS;
    out.extend_from_slice(&produced[skip..]);
}

fn looks_like_mp4(bytes: &[u8]) -> bool {
    bytes
        .get(4..8)
        .is_some_and(|t| matches!(t, b"ftyp" | b"moov" | b"free" | b"mdat" | b"wide"))
}

/// The first edit of the first sound track: where the presentation starts in the media
/// (encoder priming, in media samples) and how long it lasts.
#[derive(Debug, PartialEq)]
struct Mp4Edit {
    media_time: u64,
    duration_secs: Option<f64>,
}

/// Walks `moov/trak/{mdia/hdlr, edts/elst}` for the first `soun` track. Returns `None` when
/// the file has no usable edit list. Reads only inside `bytes`; never panics.
fn mp4_audio_edit(bytes: &[u8]) -> Option<Mp4Edit> {
    let moov = child(bytes, b"moov")?;
    let movie_timescale = child(moov, b"mvhd").and_then(|mvhd| {
        let version = *mvhd.first()?;
        let at = if version == 1 { 20 } else { 12 };
        be_u32(mvhd, at)
    });
    let mut rest = moov;
    while let Some((kind, body, next)) = next_box(rest) {
        rest = next;
        if kind != *b"trak" {
            continue;
        }
        let is_sound = child(body, b"mdia")
            .and_then(|mdia| child(mdia, b"hdlr"))
            .and_then(|hdlr| hdlr.get(8..12))
            == Some(b"soun".as_slice());
        if !is_sound {
            continue;
        }
        let elst = child(body, b"edts").and_then(|e| child(e, b"elst"))?;
        let version = *elst.first()?;
        let count = be_u32(elst, 4)?;
        // Skip empty edits (media_time == -1) at the front; use the first real one.
        let entry_len = if version == 1 { 20 } else { 12 };
        for i in 0..count.min(16) as usize {
            let at = 8 + i * entry_len;
            let (seg_dur, media_time) = if version == 1 {
                (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64)
            } else {
                (
                    u64::from(be_u32(elst, at)?),
                    i64::from(be_u32(elst, at + 4)? as i32),
                )
            };
            if media_time < 0 {
                continue;
            }
            let duration_secs = match movie_timescale {
                Some(ts) if ts > 0 && seg_dur > 0 => Some(seg_dur as f64 / f64::from(ts)),
                _ => None,
            };
            return Some(Mp4Edit {
                media_time: media_time as u64,
                duration_secs,
            });
        }
        return None;
    }
    None
}

/// Splits the first box off `data`: `(type, body, rest)`.
fn next_box(data: &[u8]) -> Option<([u8; 4], &[u8], &[u8])> {
    let size = be_u32(data, 0)? as u64;
    let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
    let (header, size) = match size {
        1 => (16u64, be_u64(data, 8)?),
        0 => (8u64, data.len() as u64),
        s => (8u64, s),
    };
    if size < header || size > data.len() as u64 {
        return None;
    }
    let (size, header) = (size as usize, header as usize);
    Some((kind, &data[header..size], &data[size..]))
}

/// The body of the first child box of type `kind`.
fn child<'a>(mut data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    while let Some((k, body, rest)) = next_box(data) {
        if &k == kind {
            return Some(body);
        }
        data = rest;
    }
    None
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        rate: u32,
        channels: u16,
        frames: usize,
        f: impl Fn(usize, u16) -> i16,
    ) -> Vec<u8> {
        let data_len = frames * channels as usize * 2;
        let mut v = Vec::with_capacity(44 + data_len);
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        v.extend_from_slice(&(channels * 2).to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data_len as u32).to_le_bytes());
        for i in 0..frames {
            for c in 0..channels {
                v.extend_from_slice(&f(i, c).to_le_bytes());
            }
        }
        v
    }

    #[test]
    fn wav_48k_stereo_passes_through_exactly() {
        let bytes = wav_bytes(48_000, 2, 4800, |i, c| {
            if c == 0 {
                (i % 100) as i16 * 100
            } else {
                -1000
            }
        });
        let pcm = decode_audio(&bytes, Some("wav")).unwrap();
        assert_eq!(pcm.frames(), 4800);
        assert!((pcm.samples[2 * 50] - 5000.0 / 32768.0).abs() < 1e-6);
        assert!((pcm.samples[1] + 1000.0 / 32768.0).abs() < 1e-6);
    }

    #[test]
    fn mono_is_copied_to_both_sides_and_resampled_length_is_exact() {
        let bytes = wav_bytes(22_050, 1, 22_050, |i, _| {
            ((i as f32 * 0.05).sin() * 8000.0) as i16
        });
        let pcm = decode_audio(&bytes, None).unwrap();
        assert_eq!(pcm.frames(), 48_000);
        for f in pcm.samples.chunks_exact(2).take(1000) {
            assert_eq!(f[0], f[1]);
        }
    }

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        let err = decode_audio(b"definitely not audio, just some text bytes", None).unwrap_err();
        assert_eq!(err, MediaError::Decode("not a supported audio file".into()));
        assert!(decode_audio(&[], Some("mp3")).is_err());
    }

    #[test]
    fn truncated_wav_keeps_what_is_there() {
        let bytes = wav_bytes(48_000, 2, 4800, |_, _| 1000);
        let pcm = decode_audio(&bytes[..44 + 4 * 1000], Some("wav")).unwrap();
        assert!(
            pcm.frames() <= 1000 && pcm.frames() > 900,
            "{}",
            pcm.frames()
        );
    }

    #[test]
    fn duration_limit_refuses_long_audio_and_stop_after_truncates() {
        let bytes = wav_bytes(48_000, 1, 48_000 * 3, |_, _| 100);
        let opts = DecodeOptions {
            max_seconds: 2.0,
            stop_after_seconds: None,
        };
        assert!(matches!(
            decode_audio_with(&bytes, None, &opts),
            Err(MediaError::Limit(_))
        ));
        let opts = DecodeOptions {
            max_seconds: 2.0,
            stop_after_seconds: Some(1.5),
        };
        let pcm = decode_audio_with(&bytes, None, &opts).unwrap();
        assert_eq!(pcm.frames(), 72_000);
    }

    #[test]
    fn surround_downmix_weights() {
        use symphonia::core::audio::Position;
        let ch = Channels::Positioned(
            Position::FRONT_LEFT
                | Position::FRONT_RIGHT
                | Position::FRONT_CENTER
                | Position::LFE1
                | Position::REAR_LEFT
                | Position::REAR_RIGHT,
        );
        let w = downmix_weights(&ch);
        assert_eq!(w[0], (1.0, 0.0));
        assert_eq!(w[1], (0.0, 1.0));
        assert!(
            (w[2].0 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3
                && (w[2].1 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3
        );
        assert_eq!(w[3], (0.0, 0.0));
        assert_eq!(w[4].1, 0.0);
        assert_eq!(w[5].0, 0.0);
    }

    #[test]
    fn mp4_box_walker_survives_garbage() {
        assert_eq!(mp4_audio_edit(b""), None);
        assert_eq!(mp4_audio_edit(&[0, 0, 0, 1, b'm', b'o', b'o', b'v']), None);
        assert_eq!(mp4_audio_edit(&[0xff; 64]), None);
    }
}
