//! Where a mixer track's samples come from: decoded audio in memory ([`MixSource::Pcm`]) or a
//! file decoded while the mix plays ([`MixSource::Stream`]).
//!
//! A [`StreamSource`] is the file's shared bytes, the decode options and its exact length in
//! 48 kHz frames (from [`audio_frames`](super::audio_frames), cached by the caller). The mixer
//! opens an [`AudioStream`] when the track starts and drops it when the track ends; in between
//! it holds a window of at most the ducking look-ahead plus one block ([`StreamTrack`]). A loop
//! restarts the stream at the track's source offset (re-open and decode-skip, so every pass
//! has exactly the samples of the first); a loop region of at most
//! [`LOOP_IN_MEMORY_SECONDS`] is decoded once and kept instead, since re-decoding a short
//! song for every pass would cost more CPU than the few megabytes it saves.

use std::sync::Arc;

use super::decode::{AudioStream, DecodeOptions};
use super::kernels::crossfade;
use super::{Pcm, CHANNELS};
use crate::media::MediaError;

/// Loop regions up to this long (5.5 MB of 48 kHz stereo `f32`) are decoded once into memory.
pub const LOOP_IN_MEMORY_SECONDS: f64 = 15.0;

/// The samples of one mixer track.
#[derive(Debug, Clone)]
pub enum MixSource {
    /// Decoded audio held in memory (tests, short data).
    Pcm(Arc<Pcm>),
    /// A file decoded block by block as the track plays.
    Stream(StreamSource),
}

impl MixSource {
    /// Length in 48 kHz frames.
    pub fn frames(&self) -> u64 {
        match self {
            MixSource::Pcm(p) => p.frames() as u64,
            MixSource::Stream(s) => s.frames(),
        }
    }
}

impl From<Arc<Pcm>> for MixSource {
    fn from(p: Arc<Pcm>) -> Self {
        MixSource::Pcm(p)
    }
}

/// An audio file the mixer decodes as it plays; see the module docs.
#[derive(Clone)]
pub struct StreamSource {
    bytes: Arc<Vec<u8>>,
    hint: Option<String>,
    options: DecodeOptions,
    frames: u64,
}

impl std::fmt::Debug for StreamSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSource")
            .field("bytes", &self.bytes.len())
            .field("hint", &self.hint)
            .field("frames", &self.frames)
            .finish()
    }
}

impl StreamSource {
    /// A source whose whole decode is `full_frames` long ([`audio_frames`](super::audio_frames)
    /// of the same bytes). The stream is opened once here, so a file that does not decode
    /// fails now, naming the reason, rather than going silent in the middle of the mix.
    pub fn new(
        bytes: Arc<Vec<u8>>,
        hint_ext: Option<&str>,
        options: DecodeOptions,
        full_frames: u64,
    ) -> Result<Self, MediaError> {
        let frames = options.output_frames(full_frames)?;
        let source = StreamSource { bytes, hint: hint_ext.map(str::to_string), options, frames };
        source.open()?;
        Ok(source)
    }

    /// Length in 48 kHz frames (after `stop_after_seconds`).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// A fresh decoder at the file's start.
    pub fn open(&self) -> Result<AudioStream<'static>, MediaError> {
        AudioStream::open(self.bytes.clone(), self.hint.as_deref(), &self.options)
    }

    /// Decodes frames `offset..offset + frames` into memory (zeros past the file's end).
    pub fn read_region(&self, offset: u64, frames: usize) -> Result<Pcm, MediaError> {
        let mut stream = self.open()?;
        stream.skip(offset)?;
        let mut samples = vec![0.0f32; frames * CHANNELS];
        stream.read(&mut samples)?;
        Ok(Pcm { samples })
    }
}

/// The streaming state of one mixer track: an open decoder (while the track plays), the
/// loop state and a window of already produced track-local frames.
///
/// Track-local frame `p` is what the track plays `p` frames after its start, loop crossfades
/// applied. Reads ask for `[p0, p0 + n)` with `p0` never below the last release, so the
/// window only grows forward; [`StreamTrack::release`] drops what no read will ask for again.
pub(super) struct StreamTrack {
    source: StreamSource,
    reader: Option<AudioStream<'static>>,
    /// First source frame of the track (the trim) and the loop region `(L, X)`.
    src_off: u64,
    looped: Option<(usize, usize)>,
    /// Region position of the next produced frame (`p` before the first seam, then cycling
    /// through `X..L`).
    u: usize,
    /// The region's first `X` frames, kept from the first pass for every seam's crossfade.
    head: Vec<f32>,
    /// Produced frames `[win_start, win_start + (win.len() - win_head) / 2)`.
    win: Vec<f32>,
    win_head: usize,
    win_start: u64,
    /// One block of the stream's tail at a seam.
    tail: Vec<f32>,
    /// The first decode error; the track is silent from there.
    error: Option<MediaError>,
    /// Every frame the track plays has been released.
    done: bool,
}

impl std::fmt::Debug for StreamTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTrack")
            .field("source", &self.source)
            .field("open", &self.reader.is_some())
            .field("win_start", &self.win_start)
            .field("error", &self.error)
            .finish()
    }
}

impl StreamTrack {
    pub(super) fn new(source: StreamSource, src_off: u64, looped: Option<(usize, usize)>) -> Self {
        StreamTrack {
            source,
            reader: None,
            src_off,
            looped,
            u: 0,
            head: Vec::new(),
            win: Vec::new(),
            win_head: 0,
            win_start: 0,
            tail: Vec::new(),
            error: None,
            done: false,
        }
    }

    pub(super) fn source(&self) -> &StreamSource {
        &self.source
    }

    pub(super) fn error(&self) -> Option<&MediaError> {
        self.error.as_ref()
    }

    fn win_frames(&self) -> u64 {
        ((self.win.len() - self.win_head) / CHANNELS) as u64
    }

    /// Copies track-local frames `[p0, p0 + dst.len() / 2)` into `dst`, decoding what the
    /// window does not hold yet. A `p0` below the window (never asked by the mixer) reads as
    /// silence.
    pub(super) fn read(&mut self, p0: u64, dst: &mut [f32]) {
        let n = (dst.len() / CHANNELS) as u64;
        if self.done || p0 < self.win_start {
            dst.fill(0.0);
            return;
        }
        let need_end = p0 + n;
        let have_end = self.win_start + self.win_frames();
        if need_end > have_end {
            let more = (need_end - have_end) as usize;
            let at = self.win.len();
            self.win.resize(at + more * CHANNELS, 0.0);
            let mut fresh = std::mem::take(&mut self.win);
            self.produce(&mut fresh[at..]);
            self.win = fresh;
        }
        let a = self.win_head + ((p0 - self.win_start) as usize) * CHANNELS;
        dst.copy_from_slice(&self.win[a..a + dst.len()]);
    }

    /// Forgets the frames before track-local `p`; `finished` (the track has played its last
    /// frame) also closes the decoder and frees the buffers.
    pub(super) fn release(&mut self, p: u64, finished: bool) {
        if finished {
            self.done = true;
            self.reader = None;
            self.win = Vec::new();
            self.head = Vec::new();
            self.tail = Vec::new();
            self.win_head = 0;
            return;
        }
        let drop = p.saturating_sub(self.win_start).min(self.win_frames());
        self.win_head += drop as usize * CHANNELS;
        self.win_start += drop;
        // Compact once at least half of the buffer is dead: amortised O(1) per frame.
        if self.win_head * 2 >= self.win.len() {
            self.win.drain(..self.win_head);
            self.win_head = 0;
        }
    }

    /// Produces the next `dst.len() / 2` track-local frames in order.
    fn produce(&mut self, dst: &mut [f32]) {
        let Some((l, x)) = self.looped else {
            self.read_stream(dst);
            return;
        };
        let n = dst.len() / CHANNELS;
        let seam = l - x;
        let mut done = 0;
        while done < n {
            if self.u >= l {
                // End of a pass: the next one continues from frame X of the region.
                self.reader = None;
                self.u = x;
            }
            let out = &mut dst[done * CHANNELS..];
            let take = if self.u < seam {
                let take = (seam - self.u).min(n - done);
                self.read_stream(&mut out[..take * CHANNELS]);
                if self.u < x {
                    // First pass through the head: keep it for the seams.
                    let keep = (x - self.u).min(take);
                    self.head.extend_from_slice(&out[..keep * CHANNELS]);
                }
                take
            } else {
                let take = (l - self.u).min(n - done);
                let k = self.u - seam;
                let mut tail = std::mem::take(&mut self.tail);
                tail.resize(take * CHANNELS, 0.0);
                self.read_stream(&mut tail);
                self.head.resize(x * CHANNELS, 0.0);
                crossfade(
                    &mut out[..take * CHANNELS],
                    &tail,
                    &self.head[k * CHANNELS..(k + take) * CHANNELS],
                    (k as f64 + 0.5) / x as f64,
                    1.0 / x as f64,
                );
                self.tail = tail;
                take
            };
            self.u += take;
            done += take;
        }
    }

    /// The next frames of the decoded file at region position `u`, opening the decoder (and
    /// skipping to the track's offset) when needed; silence past the end or after an error.
    fn read_stream(&mut self, dst: &mut [f32]) {
        let mut got = 0;
        if self.error.is_none() {
            if self.reader.is_none() {
                let skip = self.src_off + self.u as u64;
                match self.source.open().and_then(|mut s| s.skip(skip).map(|_| s)) {
                    Ok(s) => self.reader = Some(s),
                    Err(e) => self.error = Some(e),
                }
            }
            if let Some(reader) = self.reader.as_mut() {
                match reader.read(dst) {
                    Ok(n) => got = n,
                    Err(e) => {
                        self.error = Some(e);
                        self.reader = None;
                    }
                }
            }
        }
        dst[got * CHANNELS..].fill(0.0);
        if self.looped.is_none() {
            self.u += dst.len() / CHANNELS;
        }
    }
}
