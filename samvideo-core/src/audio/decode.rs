//! Bytes of an audio file in, 48 kHz stereo out: streamed block by block ([`AudioStream`]),
//! whole ([`decode_audio`], a loop over the stream), or only counted ([`audio_frames`]).
//!
//! symphonia finds the container (MP3, MP4/M4A with AAC, WAV, FLAC, Ogg Vorbis) and decodes the
//! first audio track packet by packet. Each decoded block is down/up-mixed to stereo
//! ([`downmix_weights`]), trimmed (encoder delay and padding; for AAC in MP4 from the edit
//! list, which symphonia does not read), and streamed through rubato's synchronous FFT resampler
//! ([`Resample48`]), whose output queue the reader drains: a stream holds one packet and one
//! resampler chunk, never the file's length. The output length is bounded by
//! [`DecodeOptions::max_seconds`] and checked while decoding.

use std::io::Cursor;
use std::sync::Arc;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};
use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3};
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use super::{Pcm, CHANNELS, SAMPLE_RATE};
use crate::media::video::sound_track_edits;
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
        DecodeOptions { max_seconds: DEFAULT_MAX_AUDIO_SECONDS, stop_after_seconds: None }
    }
}

/// Decodes MP3, AAC (MP4/M4A), WAV, FLAC or Ogg Vorbis into 48 kHz stereo, refusing sources
/// longer than [`DEFAULT_MAX_AUDIO_SECONDS`]. `hint_ext` (`"mp3"`, `"m4a"`, …) only speeds up
/// the container probe; the bytes decide.
pub fn decode_audio(bytes: &[u8], hint_ext: Option<&str>) -> Result<Pcm, MediaError> {
    decode_audio_with(bytes, hint_ext, &DecodeOptions::default())
}

/// [`decode_audio`] with explicit limits: reads an [`AudioStream`] to its end.
pub fn decode_audio_with(bytes: &[u8], hint_ext: Option<&str>, options: &DecodeOptions) -> Result<Pcm, MediaError> {
    let mut stream = AudioStream::open_slice(bytes, hint_ext, options)?;
    let mut samples = Vec::new();
    let mut block = vec![0.0f32; STREAM_BLOCK * CHANNELS];
    loop {
        let n = stream.read(&mut block)?;
        samples.extend_from_slice(&block[..n * CHANNELS]);
        if n < STREAM_BLOCK {
            break;
        }
    }
    Ok(Pcm { samples })
}

/// Frames per block [`decode_audio_with`] reads at a time.
const STREAM_BLOCK: usize = 4096;

/// The owned bytes of a shared media file as a symphonia source.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An audio file being decoded: 48 kHz stereo interleaved `f32` comes out of [`AudioStream::read`]
/// block by block, exactly the samples [`decode_audio_with`] returns for the same bytes and
/// options (that function is a loop over this one). Memory is one decoded packet, one
/// resampler chunk and the decoder's own state, whatever the file's length.
///
/// Errors the whole-file decode reports at the end (over the length limit, a corrupt stream)
/// come out of the `read` that reaches them; everything before that was delivered.
pub struct AudioStream<'a> {
    format: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    trim: Trim,
    /// Set up by the first decoded packet: the resampler and the downmix weights.
    state: Option<(Resample48, [(f32, f32); MAX_DOWNMIX])>,
    channels: usize,
    rate: u32,
    interleaved: Vec<f32>,
    stereo: Vec<f32>,
    bad_packets: usize,
    decoded_any: bool,
    max_seconds: f64,
    limit_frames: u64,
    stop_frames: Option<u64>,
    /// Frames handed out by `read`/`skip`.
    emitted: u64,
    /// No more packets are decoded; the resampler's tail is in its queue.
    finished: bool,
    /// A panic or an error stopped the stream; further reads return it again.
    failed: Option<MediaError>,
}

impl std::fmt::Debug for AudioStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .field("emitted", &self.emitted)
            .field("finished", &self.finished)
            .finish()
    }
}

impl AudioStream<'static> {
    /// Opens shared bytes (the fetched media are held as `Arc<Vec<u8>>`, so no copy is made).
    /// Fails like [`decode_audio_with`] would on the file's first packet: not audio, no audio
    /// track, unsupported codec, rate or channel count.
    pub fn open(bytes: Arc<Vec<u8>>, hint_ext: Option<&str>, options: &DecodeOptions) -> Result<Self, MediaError> {
        let source = Box::new(Cursor::new(SharedBytes(bytes.clone())));
        guarded(|| AudioStream::open_source(source, &bytes, hint_ext, options))
    }
}

impl<'a> AudioStream<'a> {
    /// [`AudioStream::open`] over borrowed bytes.
    pub fn open_slice(bytes: &'a [u8], hint_ext: Option<&str>, options: &DecodeOptions) -> Result<Self, MediaError> {
        guarded(|| AudioStream::open_source(Box::new(Cursor::new(bytes)), bytes, hint_ext, options))
    }

    fn open_source(
        source: Box<dyn MediaSource + 'a>,
        bytes: &[u8],
        hint_ext: Option<&str>,
        options: &DecodeOptions,
    ) -> Result<Self, MediaError> {
        if !(options.max_seconds.is_finite() && options.max_seconds > 0.0) {
            return Err(MediaError::Limit(format!("invalid audio duration limit {} s", options.max_seconds)));
        }
        let (format, track, params) = open_format(source, hint_ext)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|_| MediaError::Decode("unsupported audio codec".into()))?;

        // Output bound in 48 kHz frames: the smaller of the limit and the part asked for.
        let limit_frames = (options.max_seconds * f64::from(SAMPLE_RATE)).ceil() as u64;
        let stop_frames = options.stop_frames();

        // Fail fast when the container states a length over the limit.
        if let (Some(n), Some(rate)) = (track.num_frames, params.sample_rate) {
            let secs = n as f64 / f64::from(rate.max(1));
            if stop_frames.is_none() && secs > options.max_seconds + 1.0 {
                return Err(too_long(options.max_seconds));
            }
        }

        let mut stream = AudioStream {
            format,
            decoder,
            track_id: track.id,
            trim: source_trim(bytes, &params),
            state: None,
            channels: 0,
            rate: 0,
            interleaved: Vec::new(),
            stereo: Vec::new(),
            bad_packets: 0,
            decoded_any: false,
            max_seconds: options.max_seconds,
            limit_frames,
            stop_frames,
            emitted: 0,
            finished: false,
            failed: None,
        };
        // Decode up to the first output so a file that is not usable audio fails here.
        while !stream.finished && stream.available() == 0 {
            stream.pump()?;
        }
        Ok(stream)
    }

    /// Writes the next frames (interleaved stereo) into `out`; returns how many. Fewer than
    /// `out.len() / 2` only at the end of the stream, so 0 means the end.
    pub fn read(&mut self, out: &mut [f32]) -> Result<usize, MediaError> {
        let want = (out.len() / CHANNELS) as u64;
        self.advance(want, Some(out)).map(|n| n as usize)
    }

    /// Decodes and drops the next `frames` frames; returns how many were there.
    pub fn skip(&mut self, frames: u64) -> Result<u64, MediaError> {
        self.advance(frames, None)
    }

    /// Hands out the next `frames` frames into `out` (or drops them), decoding as needed.
    fn advance(&mut self, frames: u64, mut out: Option<&mut [f32]>) -> Result<u64, MediaError> {
        let mut done = 0u64;
        while done < frames {
            let want = (frames - done).min(usize::MAX as u64) as usize;
            let dst = out.as_deref_mut().map(|o| &mut o[done as usize * CHANNELS..]);
            let n = self.take(want, dst);
            done += n as u64;
            if n == 0 {
                if let Some(e) = &self.failed {
                    return Err(e.clone());
                }
                if self.finished {
                    break;
                }
                self.step()?;
            }
        }
        Ok(done)
    }

    /// Frames handed out so far.
    pub fn position(&self) -> u64 {
        self.emitted
    }

    /// Frames decoded and ready, limited to the part asked for.
    fn available(&self) -> usize {
        let ready = self.state.as_ref().map_or(0, |(r, _)| r.ready_frames());
        match self.stop_frames {
            Some(stop) => ready.min(stop.saturating_sub(self.emitted) as usize),
            None => ready,
        }
    }

    /// Moves up to `max` ready frames into `out` (or drops them when `None`).
    fn take(&mut self, max: usize, out: Option<&mut [f32]>) -> usize {
        let n = self.available().min(max);
        if let Some((resampler, _)) = self.state.as_mut() {
            let src = resampler.consume(n);
            if let Some(out) = out {
                out[..src.len()].copy_from_slice(src);
            }
        }
        self.emitted += n as u64;
        n
    }

    /// One [`AudioStream::pump`] with a decoder panic turned into an error for this item.
    fn step(&mut self) -> Result<(), MediaError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = guarded(|| self.pump());
        if let Err(e) = &result {
            self.finished = true;
            self.failed = Some(e.clone());
        }
        result
    }

    /// Decodes one packet into the resampler's queue, or flushes the resampler at the end.
    fn pump(&mut self) -> Result<(), MediaError> {
        if self.finished {
            return Ok(());
        }
        if !self.decode_packet()? {
            self.finish()?;
        }
        Ok(())
    }

    /// Decodes the next packet of the track; `false` once the input is over.
    fn decode_packet(&mut self) -> Result<bool, MediaError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                // Truncated file or a chained Ogg stream: keep what decoded so far.
                Err(SymError::IoError(_)) | Err(SymError::ResetRequired) => return Ok(false),
                Err(SymError::DecodeError(_)) if self.decoded_any => return Ok(false),
                Err(SymError::LimitError(what)) => {
                    return Err(MediaError::Limit(format!("audio container: {what}")));
                }
                Err(e) => return Err(MediaError::Decode(format!("audio container: {e}"))),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    self.bad_packets += 1;
                    if self.bad_packets > MAX_BAD_PACKETS {
                        return Err(MediaError::Decode(
                            "audio stream is corrupt (too many undecodable packets)".into(),
                        ));
                    }
                    continue;
                }
                Err(e) => return Err(MediaError::Decode(format!("audio decoder: {e}"))),
            };
            self.bad_packets = 0;
            if buf.frames() == 0 {
                continue;
            }
            let spec_rate = buf.spec().rate();
            let spec_channels = buf.spec().channels().clone();
            let n_channels = spec_channels.count();
            if self.state.is_none() {
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
                self.state = Some((resampler, downmix_weights(&spec_channels)));
                self.channels = n_channels;
                self.rate = spec_rate;
            } else if spec_rate != self.rate || n_channels != self.channels {
                // A stream that changes format midway: stop at the change rather than garble it.
                return Ok(false);
            }
            let Some((resampler, weights)) = self.state.as_mut() else {
                continue;
            };
            self.decoded_any = true;
            buf.copy_to_vec_interleaved::<f32>(&mut self.interleaved);
            to_stereo(&self.interleaved, self.channels, &weights[..self.channels], &mut self.stereo);
            let kept = self.trim.apply(&self.stereo);
            resampler.push(kept)?;
            let out_frames = resampler.produced_frames();
            if let Some(stop) = self.stop_frames {
                if out_frames >= stop.min(self.limit_frames) {
                    if stop > self.limit_frames {
                        return Err(too_long(self.max_seconds));
                    }
                    return Ok(false);
                }
            }
            if out_frames > self.limit_frames {
                return Err(too_long(self.max_seconds));
            }
            return Ok(!self.trim.done());
        }
    }

    /// End of input: flush the resampler's delayed tail and check the final length.
    fn finish(&mut self) -> Result<(), MediaError> {
        self.finished = true;
        let Some((resampler, _)) = self.state.as_mut() else {
            return Err(MediaError::Decode("audio file has no decodable audio".into()));
        };
        resampler.finish()?;
        let total = match self.stop_frames {
            Some(stop) => resampler.produced_frames().min(stop),
            None => resampler.produced_frames(),
        };
        if total > self.limit_frames {
            return Err(too_long(self.max_seconds));
        }
        Ok(())
    }
}

/// The number of 48 kHz frames the whole decode of `bytes` yields ([`decode_audio`]'s length
/// without a limit; [`DecodeOptions::output_frames`] applies one), without decoding.
///
/// The container's packets are read but not decoded: with gapless trimming on, symphonia's
/// decoders put out a number of frames each packet states (`packet_frames`), the MP4 edit-list trim is
/// applied to those counts as the decoder does to the samples, and the resampler's output
/// length is `ceil(frames × 48000 / rate)` by construction. This is exact for well-formed
/// files (the unit tests check it against the decode for every supported format); a file
/// with undecodable packets decodes shorter than counted, and the mixer plays silence for
/// the difference. When the packet times are not in source samples (a time base other than
/// `1/rate`), the file is decoded and the samples discarded instead.
pub fn audio_frames(bytes: &[u8], hint_ext: Option<&str>) -> Result<u64, MediaError> {
    guarded(|| {
        let (mut format, track, params) = open_format(Box::new(Cursor::new(bytes)), hint_ext)?;
        symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|_| MediaError::Decode("unsupported audio codec".into()))?;
        let rate = params.sample_rate.unwrap_or(0);
        let in_samples = track.time_base.is_some_and(|tb| tb.numer.get() == 1 && tb.denom.get() == rate);
        if !(MIN_RATE..=MAX_RATE).contains(&rate) || !in_samples {
            return decoded_frames(bytes, hint_ext);
        }
        let mut trim = source_trim(bytes, &params);
        let mut frames_in = 0u64;
        let mut seen_any = false;
        loop {
            let packet = match format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(SymError::IoError(_)) | Err(SymError::ResetRequired) => break,
                Err(SymError::DecodeError(_)) if seen_any => break,
                Err(SymError::LimitError(what)) => {
                    return Err(MediaError::Limit(format!("audio container: {what}")));
                }
                Err(e) => return Err(MediaError::Decode(format!("audio container: {e}"))),
            };
            if packet.track_id != track.id {
                continue;
            }
            seen_any = true;
            frames_in += trim.count(packet_frames(&packet, params.codec));
            if trim.done() {
                break;
            }
        }
        if !seen_any {
            return Err(MediaError::Decode("audio file has no decodable audio".into()));
        }
        Ok(if rate == SAMPLE_RATE { frames_in } else { (frames_in * u64::from(SAMPLE_RATE)).div_ceil(u64::from(rate)) })
    })
}

/// Frames symphonia's decoder puts out for `packet` (gapless trimming on). MPEG audio packets
/// state the whole frame in `dur` and the decoder cuts `trim_start`/`trim_end` from it; AAC
/// frames are always 1024 samples (the last packet's shorter `dur` is cut only by the edit
/// list); every other decoder puts out `dur`.
fn packet_frames(packet: &Packet, codec: AudioCodecId) -> u64 {
    let dur = packet.dur.get();
    match codec {
        CODEC_ID_AAC => AAC_FRAME,
        CODEC_ID_MP1 | CODEC_ID_MP2 | CODEC_ID_MP3 => {
            dur.saturating_sub(packet.trim_start.get() + packet.trim_end.get())
        }
        _ => dur,
    }
}

/// Samples per AAC-LC frame.
const AAC_FRAME: u64 = 1024;

/// [`audio_frames`] the slow way: decode (and resample) the whole file, keeping nothing.
fn decoded_frames(bytes: &[u8], hint_ext: Option<&str>) -> Result<u64, MediaError> {
    let options = DecodeOptions { max_seconds: f64::from(u32::MAX), stop_after_seconds: None };
    AudioStream::open_slice(bytes, hint_ext, &options)?.skip(u64::MAX)
}

impl DecodeOptions {
    /// `stop_after_seconds` in 48 kHz frames.
    fn stop_frames(&self) -> Option<u64> {
        self.stop_after_seconds.filter(|s| s.is_finite()).map(|s| (s.max(0.0) * f64::from(SAMPLE_RATE)).round() as u64)
    }

    /// Frames an [`AudioStream`] opened with these options yields from a source whose whole
    /// decode is `full_frames` long (see [`audio_frames`]), or the limit error it would give.
    pub fn output_frames(&self, full_frames: u64) -> Result<u64, MediaError> {
        if !(self.max_seconds.is_finite() && self.max_seconds > 0.0) {
            return Err(MediaError::Limit(format!("invalid audio duration limit {} s", self.max_seconds)));
        }
        let limit = (self.max_seconds * f64::from(SAMPLE_RATE)).ceil() as u64;
        let frames = self.stop_frames().map_or(full_frames, |s| s.min(full_frames));
        if frames > limit {
            return Err(too_long(self.max_seconds));
        }
        Ok(frames)
    }
}

/// Runs a decoder step, turning a panic into an error for this one media item: symphonia
/// promises not to panic on hostile input but has in the past.
fn guarded<T>(f: impl FnOnce() -> Result<T, MediaError>) -> Result<T, MediaError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(MediaError::Decode("audio decoder failed on malformed data".into())))
}

fn too_long(max_seconds: f64) -> MediaError {
    MediaError::Limit(format!("audio is longer than the {max_seconds} s limit"))
}

type Opened<'a> = (Box<dyn FormatReader + 'a>, Track, AudioCodecParameters);

/// Probes the container and picks its default audio track.
fn open_format<'a>(source: Box<dyn MediaSource + 'a>, hint_ext: Option<&str>) -> Result<Opened<'a>, MediaError> {
    let mut hint = Hint::new();
    if let Some(ext) = hint_ext {
        hint.with_extension(ext);
    }
    let mss = MediaSourceStream::new(source, Default::default());
    let format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|_| MediaError::Decode("not a supported audio file".into()))?;
    let track =
        format.default_track(TrackType::Audio).ok_or_else(|| MediaError::Decode("no audio track".into()))?.clone();
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| MediaError::Decode("audio track has no codec parameters".into()))?
        .clone();
    Ok((format, track, params))
}

/// What to cut at the source rate. AAC in MP4: symphonia neither reads the edit list nor
/// trims the encoder priming, so both come from the `elst` box, read by the same reader as the
/// video tracks (`media::video::sound_track_edits`; ffmpeg and Apple prime
/// AAC-LC with 1024 samples when there is none). Other formats: nothing (symphonia's
/// decoders trim MP3 and Vorbis gaps themselves).
fn source_trim(bytes: &[u8], params: &AudioCodecParameters) -> Trim {
    if params.codec != CODEC_ID_AAC || !looks_like_mp4(bytes) {
        return Trim::default();
    }
    let rate = params.sample_rate.unwrap_or(SAMPLE_RATE);
    match sound_track_edits(bytes).filter(|e| e.has_media_edit) {
        Some(edit) => Trim {
            skip: edit.media_start.max(0) as u64,
            keep: edit.media_secs.map(|d| (d * f64::from(rate)).round() as u64),
        },
        None => Trim { skip: 1024, keep: None },
    }
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
        let take = self.count(frames);
        let a = skip as usize * CHANNELS;
        &stereo[a..a + take as usize * CHANNELS]
    }

    /// How many of the next `frames` frames survive; advances the counters.
    fn count(&mut self, frames: u64) -> u64 {
        let skip = self.skip.min(frames);
        self.skip -= skip;
        let mut take = frames - skip;
        if let Some(keep) = self.keep.as_mut() {
            take = take.min(*keep);
            *keep -= take;
        }
        take
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
    for (out, frame) in dst.chunks_exact_mut(CHANNELS).zip(src.chunks_exact(channels)) {
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
/// has exactly `round_up(input * 48000 / rate)` frames, aligned with the input. Output waits
/// in a queue until [`Resample48::consume`] takes it.
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
    /// Output not yet consumed (from `out_start`), interleaved.
    out: Vec<f32>,
    out_start: usize,
    /// Frames ever appended to `out`.
    produced: u64,
}

/// Input frames per resampler call.
const RESAMPLE_CHUNK: usize = 1024;

impl Resample48 {
    fn new(rate: u32) -> Result<Self, MediaError> {
        let fft = if rate == SAMPLE_RATE {
            None
        } else {
            Some(
                Fft::<f32>::new(rate as usize, SAMPLE_RATE as usize, RESAMPLE_CHUNK, CHANNELS, FixedSync::Input)
                    .map_err(|e| MediaError::Decode(format!("cannot resample from {rate} Hz: {e}")))?,
            )
        };
        let (chunk_out, delay_left) = match &fft {
            Some(f) => (vec![0.0; f.output_frames_max() * CHANNELS], f.output_delay()),
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
            out_start: 0,
            produced: 0,
        })
    }

    /// Frames waiting in the output queue.
    fn ready_frames(&self) -> usize {
        (self.out.len() - self.out_start) / CHANNELS
    }

    /// Frames ever produced (consumed or not).
    fn produced_frames(&self) -> u64 {
        self.produced
    }

    /// Takes the next `frames` (at most [`Resample48::ready_frames`]) from the queue.
    fn consume(&mut self, frames: usize) -> &[f32] {
        let a = self.out_start;
        self.out_start = (a + frames * CHANNELS).min(self.out.len());
        &self.out[a..self.out_start]
    }

    /// Drops the consumed part of the queue so it stays about one packet long.
    fn compact_out(&mut self) {
        if self.out_start > 0 {
            self.out.drain(..self.out_start);
            self.out_start = 0;
        }
    }

    fn push(&mut self, stereo: &[f32]) -> Result<(), MediaError> {
        self.frames_in += (stereo.len() / CHANNELS) as u64;
        self.compact_out();
        let Some(fft) = self.fft.as_mut() else {
            self.out.extend_from_slice(stereo);
            self.produced += (stereo.len() / CHANNELS) as u64;
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
            self.produced +=
                append_after_delay(&mut self.out, &self.chunk_out[..produced * CHANNELS], &mut self.delay_left);
        }
    }

    /// End of input: runs the last partial chunk and the delayed tail through, so that
    /// exactly `round_up(input * 48000 / rate)` frames have been produced.
    fn finish(&mut self) -> Result<(), MediaError> {
        self.compact_out();
        let Some(fft) = self.fft.as_mut() else {
            return Ok(());
        };
        let expected = (self.frames_in * u64::from(SAMPLE_RATE)).div_ceil(rate_of(fft));
        let rest = &self.pending[self.pending_start..];
        let rest_frames = rest.len() / CHANNELS;
        // The last partial chunk, then silence until the delayed tail is out.
        let mut partial = Some(rest_frames);
        let mut scratch = vec![0.0f32; fft.input_frames_max() * CHANNELS];
        scratch[..rest.len()].copy_from_slice(rest);
        self.pending_start = self.pending.len();
        let mut guard = 0;
        while self.produced < expected {
            let need = fft.input_frames_next();
            let (_, produced) = run_chunk(
                fft,
                &scratch[..need * CHANNELS],
                need,
                Some(partial.take().unwrap_or(0)),
                &mut self.chunk_out,
            )?;
            self.produced +=
                append_after_delay(&mut self.out, &self.chunk_out[..produced * CHANNELS], &mut self.delay_left);
            scratch.fill(0.0);
            guard += 1;
            if guard > 1_000 {
                break;
            }
        }
        if self.produced > expected {
            let excess = ((self.produced - expected) as usize).min(self.ready_frames());
            self.out.truncate(self.out.len() - excess * CHANNELS);
            self.produced -= excess as u64;
        }
        Ok(())
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
    let mut adapter_out = InterleavedSlice::new_mut(out, CHANNELS, out_frames).map_err(|e| err(&e))?;
    let indexing = Indexing { input_offset: 0, output_offset: 0, partial_len, active_channels_mask: None };
    fft.process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing)).map_err(|e| err(&e))
}

/// Appends `produced` minus the startup delay still to drop; returns the frames appended.
fn append_after_delay(out: &mut Vec<f32>, produced: &[f32], delay_left: &mut usize) -> u64 {
    let skip = (*delay_left * CHANNELS).min(produced.len());
    *delay_left -= skip / CHANNELS;
    out.extend_from_slice(&produced[skip..]);
    ((produced.len() - skip) / CHANNELS) as u64
}

fn looks_like_mp4(bytes: &[u8]) -> bool {
    bytes.get(4..8).is_some_and(|t| matches!(t, b"ftyp" | b"moov" | b"free" | b"mdat" | b"wide"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit WAV of `frames` frames whose sample `i` of channel `c` is exactly `f(i, c)`
    /// (the shared test writer, addressed by sample index).
    fn wav_bytes(rate: u32, channels: u16, frames: usize, f: impl Fn(usize, u16) -> i16) -> Vec<u8> {
        let at = |t: f64| (t * f64::from(rate)).round() as usize;
        samvideo_test_support::wav_bytes(rate, channels, frames as f64 / f64::from(rate), |t, c| {
            f64::from(f(at(t), c)) / 32767.0
        })
    }

    #[test]
    fn wav_48k_stereo_passes_through_exactly() {
        let bytes = wav_bytes(48_000, 2, 4800, |i, c| if c == 0 { (i % 100) as i16 * 100 } else { -1000 });
        let pcm = decode_audio(&bytes, Some("wav")).unwrap();
        assert_eq!(pcm.frames(), 4800);
        assert!((pcm.samples[2 * 50] - 5000.0 / 32768.0).abs() < 1e-6);
        assert!((pcm.samples[1] + 1000.0 / 32768.0).abs() < 1e-6);
    }

    #[test]
    fn mono_is_copied_to_both_sides_and_resampled_length_is_exact() {
        let bytes = wav_bytes(22_050, 1, 22_050, |i, _| ((i as f32 * 0.05).sin() * 8000.0) as i16);
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
        assert!(pcm.frames() <= 1000 && pcm.frames() > 900, "{}", pcm.frames());
    }

    #[test]
    fn duration_limit_refuses_long_audio_and_stop_after_truncates() {
        let bytes = wav_bytes(48_000, 1, 48_000 * 3, |_, _| 100);
        let opts = DecodeOptions { max_seconds: 2.0, stop_after_seconds: None };
        assert!(matches!(decode_audio_with(&bytes, None, &opts), Err(MediaError::Limit(_))));
        let opts = DecodeOptions { max_seconds: 2.0, stop_after_seconds: Some(1.5) };
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
        assert_eq!(sound_track_edits(b""), None);
        assert_eq!(sound_track_edits(&[0, 0, 0, 1, b'm', b'o', b'o', b'v']), None);
        assert_eq!(sound_track_edits(&[0xff; 64]), None);
    }

    /// The whole-file decoder as it was before streaming, kept as the reference the stream
    /// must match bit for bit: one loop over the packets, everything resampled into one
    /// vector, truncated at the stop.
    fn reference_decode(bytes: &[u8], options: &DecodeOptions) -> Vec<f32> {
        let (mut format, track, params) = open_format(Box::new(Cursor::new(bytes)), None).unwrap();
        let mut decoder =
            symphonia::default::get_codecs().make_audio_decoder(&params, &AudioDecoderOptions::default()).unwrap();
        let stop = options.stop_frames();
        let mut trim = source_trim(bytes, &params);
        // The resampler, downmix weights and channel count, set up from the first packet.
        type Converter = (Resample48, [(f32, f32); MAX_DOWNMIX], usize);
        let mut state: Option<Converter> = None;
        let (mut interleaved, mut stereo, mut out) = (Vec::new(), Vec::new(), Vec::new());
        while let Ok(Some(packet)) = format.next_packet() {
            if packet.track_id != track.id {
                continue;
            }
            let Ok(buf) = decoder.decode(&packet) else { continue };
            if buf.frames() == 0 {
                continue;
            }
            if state.is_none() {
                let ch = buf.spec().channels().clone();
                state = Some((Resample48::new(buf.spec().rate()).unwrap(), downmix_weights(&ch), ch.count()));
            }
            let (r, w, n) = state.as_mut().unwrap();
            buf.copy_to_vec_interleaved::<f32>(&mut interleaved);
            to_stereo(&interleaved, *n, &w[..*n], &mut stereo);
            r.push(trim.apply(&stereo)).unwrap();
            let ready = r.ready_frames();
            out.extend_from_slice(r.consume(ready));
            if stop.is_some_and(|s| r.produced_frames() >= s) || trim.done() {
                break;
            }
        }
        let (r, _, _) = state.as_mut().unwrap();
        r.finish().unwrap();
        let ready = r.ready_frames();
        out.extend_from_slice(r.consume(ready));
        if let Some(s) = stop {
            out.truncate(s as usize * CHANNELS);
        }
        out
    }

    /// Makes a file with ffmpeg from a lavfi source; `None` when ffmpeg is not installed.
    fn ffmpeg_file(dir: &std::path::Path, name: &str, args: &[&str]) -> Vec<u8> {
        let path = dir.join(name);
        let out = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y"])
            .args(args)
            .arg(&path)
            .output()
            .expect("ffmpeg runs (installed by .ci/run)");
        assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(&path).expect("ffmpeg output")
    }

    fn stream_all(bytes: &Arc<Vec<u8>>, options: &DecodeOptions, block: usize) -> Vec<f32> {
        let mut s = AudioStream::open(bytes.clone(), None, options).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0.0f32; block * CHANNELS];
        loop {
            let n = s.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n * CHANNELS]);
            if n < block {
                break;
            }
        }
        assert_eq!(s.read(&mut buf).unwrap(), 0, "the end stays the end");
        out
    }

    fn same_bits(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: length");
        let first = a.iter().zip(b).position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(first, None, "{what}: first differing sample");
    }

    /// The stream yields exactly the whole-file decode's samples, whatever the block size,
    /// with and without a stop; `audio_frames` counts them without decoding; `skip` lands
    /// on the same sample as reading. Inputs: MP3 at 44.1 kHz (decoder delay and padding
    /// trimmed by symphonia), AAC in MP4 with ffmpeg's edit list (priming trimmed from
    /// `elst`), 48 kHz WAV (no resampling), plus 22.05 kHz MP3, 48 kHz AAC, FLAC (stereo and
    /// 5.1), Ogg Vorbis and an H.264 clip's AAC track.
    #[test]
    fn streamed_samples_equal_the_whole_file_decode_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let tone = "aevalsrc=0.4*sin(2*PI*(300+200*t)*t)+0.05*random(0):s=44100:d=6.3";
        let tone48 = "aevalsrc=0.4*sin(2*PI*440*t)|0.3*sin(2*PI*660*t):s=48000:d=4.1";
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("mp3 44.1k", ffmpeg_file(d, "a.mp3", &["-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k"])),
            ("aac m4a 44.1k", ffmpeg_file(d, "a.m4a", &["-f", "lavfi", "-i", tone, "-ac", "2", "-c:a", "aac"])),
            ("wav 48k", ffmpeg_file(d, "a.wav", &["-f", "lavfi", "-i", tone48, "-c:a", "pcm_s16le"])),
            ("flac 44.1k", ffmpeg_file(d, "a.flac", &["-f", "lavfi", "-i", tone, "-c:a", "flac"])),
            ("vorbis 44.1k", ffmpeg_file(d, "a.ogg", &["-f", "lavfi", "-i", tone, "-c:a", "libvorbis"])),
            ("mp3 22.05k", ffmpeg_file(d, "b.mp3", &["-f", "lavfi", "-i", tone, "-ar", "22050", "-c:a", "libmp3lame"])),
            ("aac m4a 48k", ffmpeg_file(d, "b.m4a", &["-f", "lavfi", "-i", tone48, "-c:a", "aac"])),
            ("aac adts 44.1k", ffmpeg_file(d, "a.aac", &["-f", "lavfi", "-i", tone, "-c:a", "aac"])),
            ("flac 5.1", ffmpeg_file(d, "s.flac", &["-f", "lavfi", "-i", tone, "-ac", "6", "-c:a", "flac"])),
            (
                "h264 clip aac 48k",
                ffmpeg_file(
                    d,
                    "c.mp4",
                    &[
                        "-f",
                        "lavfi",
                        "-i",
                        "testsrc2=s=160x120:r=10:d=3",
                        "-f",
                        "lavfi",
                        "-i",
                        tone48,
                        "-c:v",
                        "libx264",
                        "-pix_fmt",
                        "yuv420p",
                        "-c:a",
                        "aac",
                        "-shortest",
                    ],
                ),
            ),
        ];
        for (what, bytes) in cases {
            if what.starts_with("aac m4a") {
                assert!(
                    sound_track_edits(&bytes).is_some_and(|e| e.has_media_edit && e.media_start == 1024),
                    "{what}: ffmpeg's edit list"
                );
            }
            let bytes = Arc::new(bytes);
            for stop in [None, Some(2.5)] {
                let options = DecodeOptions { stop_after_seconds: stop, ..DecodeOptions::default() };
                let whole = decode_audio_with(&bytes, None, &options).unwrap();
                same_bits(
                    &whole.samples,
                    &reference_decode(&bytes, &options),
                    &format!("{what} stop {stop:?}: vs reference"),
                );
                for block in [1, 777, 48_000] {
                    same_bits(
                        &stream_all(&bytes, &options, block),
                        &whole.samples,
                        &format!("{what} stop {stop:?} block {block}"),
                    );
                }
                let full = audio_frames(&bytes, None).unwrap();
                assert_eq!(
                    options.output_frames(full).unwrap(),
                    whole.frames() as u64,
                    "{what} stop {stop:?}: counted length"
                );
            }
            // Skipping decodes to the same place as reading.
            let whole = decode_audio(&bytes, None).unwrap();
            let mut s = AudioStream::open(bytes.clone(), None, &DecodeOptions::default()).unwrap();
            assert_eq!(s.skip(12_345).unwrap(), 12_345);
            let mut buf = vec![0.0f32; 1000 * CHANNELS];
            assert_eq!(s.read(&mut buf).unwrap(), 1000);
            same_bits(&buf, &whole.samples[12_345 * CHANNELS..13_345 * CHANNELS], &format!("{what}: after skip"));
        }
    }

    #[test]
    fn stream_errors_match_the_whole_file_decode() {
        let bytes = Arc::new(wav_bytes(48_000, 1, 48_000 * 3, |_, _| 100));
        let opts = DecodeOptions { max_seconds: 2.0, stop_after_seconds: None };
        let mut s = AudioStream::open(bytes.clone(), None, &DecodeOptions::default()).unwrap();
        assert_eq!(s.skip(u64::MAX).unwrap(), 144_000);
        let err = AudioStream::open(bytes.clone(), None, &opts).and_then(|mut s| s.skip(u64::MAX)).unwrap_err();
        assert!(matches!(err, MediaError::Limit(_)), "{err}");
        assert!(matches!(opts.output_frames(144_000), Err(MediaError::Limit(_))));
        assert_eq!(audio_frames(&bytes, Some("wav")).unwrap(), 144_000);
        let garbage = Arc::new(b"definitely not audio, just some text bytes".to_vec());
        assert_eq!(
            AudioStream::open(garbage.clone(), None, &DecodeOptions::default()).unwrap_err(),
            MediaError::Decode("not a supported audio file".into())
        );
        assert!(audio_frames(&garbage, None).is_err());
    }
}
