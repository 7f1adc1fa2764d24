//! The streaming mixer: decoded sources placed on the timeline, summed, ducked and limited.
//!
//! A [`MixSpec`] (video duration, one [`TrackSpec`] per source, optional [`Ducking`]) and the
//! sources enter [`Mixer::new`] (decoded [`Pcm`]) or [`Mixer::with_sources`] (any
//! [`MixSource`], including files decoded while mixing); [`Mixer::fill`] then writes the mix
//! block by block into the caller's buffer until [`Mixer::total_frames`] frames are out.
//! Scratch buffers are allocated in `new`; nothing grows with the video's or the sources'
//! length: a streamed track holds its decoder and a window of the ducking look-ahead plus one
//! block, and only while it plays (`source.rs`).
//!
//! Per block: voice and clip-sound tracks are summed straight into the output; music tracks
//! are summed into a music bus that is multiplied by the ducking gain (computed from the voice
//! tracks, looked ahead by the attack time) and then added; the sum goes through a look-ahead
//! [`Limiter`] (-1 dBFS ceiling). Each track's samples come from [`read_source`] (which applies
//! the loop crossfade) and its gain envelope (gain × fade-in × fade-out, equal-power) is applied
//! while adding. Rules and numbers: `docs/audio.md`.

use std::sync::Arc;

use super::kernels::{apply_ramp, crossfade, frame_power, mix_into, mix_into_gains, scale, Limiter};
use super::source::{MixSource, StreamTrack, LOOP_IN_MEMORY_SECONDS};
use super::{AudioError, Pcm, CHANNELS, SAMPLE_RATE};
use crate::media::MediaError;

/// Loop seam crossfade: the end of one pass fades into the start of the next over 20 ms.
pub const LOOP_CROSSFADE_SECONDS: f64 = 0.020;
/// Shortest fade at every track edge, also when the spec asks for none: cutting into a
/// waveform mid-cycle would click.
pub const DECLICK_SECONDS: f64 = 0.005;
/// Voice activity: RMS of the voice bus over this window…
pub const DUCK_WINDOW_SECONDS: f64 = 0.050;
/// …above this level (dBFS) counts as the voice speaking.
pub const DUCK_THRESHOLD_DBFS: f32 = -40.0;
/// After the voice falls below the threshold the dip holds this long before releasing, so
/// pauses between words do not make the music pump.
pub const DUCK_HOLD_SECONDS: f64 = 0.25;
/// The limiter's ceiling: -1 dBFS, headroom for the Opus decoder's overshoot.
pub const LIMITER_CEILING: f32 = 0.891_250_9;
/// Limiter look-ahead (5 ms): the gain starts falling this long before a peak.
pub const LIMITER_LOOKAHEAD_FRAMES: usize = 240;
/// Limiter release time constant.
pub const LIMITER_RELEASE_SECONDS: f64 = 0.15;

/// Frames per internal block (scratch buffers hold one block).
const BLOCK: usize = 1024;
/// Longest mix accepted by [`MixSpec::validate`] (24 h).
const MAX_MIX_SECONDS: f64 = 86_400.0;
/// Largest track gain accepted by [`MixSpec::validate`] (+24 dB).
const MAX_GAIN: f32 = 16.0;

/// What a track is, which decides how it is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackRole {
    /// Voice-over: drives ducking; never ducked.
    Voice,
    /// Background music: ducked under voice when [`MixSpec::ducking`] is set.
    Music,
    /// A video clip's own sound: mixed as is.
    ClipSound,
}

/// One source placed on the timeline. All times are seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSpec {
    /// Voice, music or clip sound.
    pub role: TrackRole,
    /// Timeline time where the track begins.
    pub start: f64,
    /// Time into the source to start from (trim).
    pub source_offset: f64,
    /// Play at most this long. `None`: to the source's end, or to the video's end if looped.
    pub length: Option<f64>,
    /// Linear gain (1.0 = as decoded).
    pub gain: f32,
    /// Repeat the source (from `source_offset` to its end) to fill `length` or the video, with
    /// a [`LOOP_CROSSFADE_SECONDS`] crossfade at each seam.
    pub looped: bool,
    /// Equal-power fade-in from the track's start.
    pub fade_in: f64,
    /// Equal-power fade-out ending at the track's end (the video's end if the track runs past it).
    pub fade_out: f64,
}

impl TrackSpec {
    /// A track at `start` playing the whole source once at unity gain, no fades.
    pub fn new(role: TrackRole, start: f64) -> Self {
        TrackSpec {
            role,
            start,
            source_offset: 0.0,
            length: None,
            gain: 1.0,
            looped: false,
            fade_in: 0.0,
            fade_out: 0.0,
        }
    }
}

/// The whole mix: the video's duration and the tracks (in the order of the sources).
#[derive(Debug, Clone, PartialEq)]
pub struct MixSpec {
    /// Video duration in seconds; the mix has exactly `round(duration × 48000)` frames.
    pub duration: f64,
    /// The tracks; `sources[i]` given to [`Mixer::new`] belongs to `tracks[i]`.
    pub tracks: Vec<TrackSpec>,
    /// Dip music under voice; `None` switches ducking off.
    pub ducking: Option<Ducking>,
}

/// How far and how fast music dips while the voice speaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ducking {
    /// Music level change under voice, in dB (negative; default -12 dB).
    pub depth_db: f32,
    /// Seconds for the dip to reach 90 % of its depth (default 0.15 s). The detector looks
    /// ahead by this much, so the dip is in place when the voice starts.
    pub attack: f64,
    /// Seconds for the music to climb back to 90 % of full level once the voice has stopped
    /// (after [`DUCK_HOLD_SECONDS`]; default 0.4 s).
    pub release: f64,
}

impl Default for Ducking {
    fn default() -> Self {
        Ducking { depth_db: -12.0, attack: 0.15, release: 0.4 }
    }
}

fn check(ok: bool, field: impl Fn() -> String, reason: impl Fn() -> String) -> Result<(), AudioError> {
    if ok {
        Ok(())
    } else {
        Err(AudioError::InvalidSpec { field: field(), reason: reason() })
    }
}

fn non_negative(v: f64, max: f64, field: impl Fn() -> String) -> Result<(), AudioError> {
    check(v.is_finite() && (0.0..=max).contains(&v), field, || format!("{v} is out of range (expected >= 0, <= {max})"))
}

impl MixSpec {
    /// Checks every number; the error names the field (`tracks[2].gain`). [`Mixer::new`] does
    /// not fail: it clamps what this would refuse, so call this where the spec is built.
    pub fn validate(&self) -> Result<(), AudioError> {
        non_negative(self.duration, MAX_MIX_SECONDS, || "duration".into())?;
        for (i, t) in self.tracks.iter().enumerate() {
            let name = |f: &str| format!("tracks[{i}].{f}");
            non_negative(t.start, MAX_MIX_SECONDS, || name("start"))?;
            non_negative(t.source_offset, MAX_MIX_SECONDS, || name("source_offset"))?;
            if let Some(len) = t.length {
                non_negative(len, MAX_MIX_SECONDS, || name("length"))?;
            }
            check(
                t.gain.is_finite() && (0.0..=MAX_GAIN).contains(&t.gain),
                || name("gain"),
                || format!("{} is out of range (expected >= 0, <= {MAX_GAIN})", t.gain),
            )?;
            non_negative(t.fade_in, MAX_MIX_SECONDS, || name("fade_in"))?;
            non_negative(t.fade_out, MAX_MIX_SECONDS, || name("fade_out"))?;
        }
        if let Some(d) = &self.ducking {
            check(
                d.depth_db.is_finite() && (-60.0..=0.0).contains(&d.depth_db),
                || "ducking.depth_db".into(),
                || format!("{} is out of range (expected >= -60, <= 0)", d.depth_db),
            )?;
            check(
                d.attack.is_finite() && (0.001..=5.0).contains(&d.attack),
                || "ducking.attack".into(),
                || format!("{} is out of range (expected >= 0.001, <= 5)", d.attack),
            )?;
            check(
                d.release.is_finite() && (0.001..=10.0).contains(&d.release),
                || "ducking.release".into(),
                || format!("{} is out of range (expected >= 0.001, <= 10)", d.release),
            )?;
        }
        Ok(())
    }
}

/// Seconds to frames, with anything non-finite or negative as 0.
fn frames_of(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs.min(MAX_MIX_SECONDS) * f64::from(SAMPLE_RATE)).round() as u64
    } else {
        0
    }
}

/// A track's samples: in memory (random access) or streamed (read forward).
#[derive(Debug)]
enum Source {
    Pcm(Arc<Pcm>),
    Stream(Box<StreamTrack>),
}

/// A track resolved to frames.
#[derive(Debug)]
struct Track {
    /// Index in [`MixSpec::tracks`].
    index: usize,
    role: TrackRole,
    source: Source,
    gain: f32,
    /// Timeline frames `[start, end)`; `end` is clipped to the mix length.
    start: u64,
    end: u64,
    /// Fade lengths in frames (at least the de-click length, scaled down to fit the track).
    fade_in: u64,
    fade_out: u64,
    /// First source frame played.
    src_off: usize,
    /// Loop region length `L` and crossfade `X` (`L >= 2X`), when looped.
    looped: Option<(usize, usize)>,
}

impl Track {
    fn new(spec: &TrackSpec, source: impl Into<MixSource>, total: u64) -> Self {
        let source = source.into();
        let gain = if spec.gain.is_finite() { spec.gain.clamp(0.0, MAX_GAIN) } else { 0.0 };
        let start = frames_of(spec.start);
        let src_frames = source.frames();
        let src_off = frames_of(spec.source_offset).min(src_frames);
        let avail = src_frames - src_off;
        let xfade = frames_of(LOOP_CROSSFADE_SECONDS) as usize;
        let looped = if spec.looped && avail >= 4 {
            let l = avail as usize;
            Some((l, xfade.min(l / 2)))
        } else {
            None
        };
        let wanted = spec.length.map(frames_of);
        let play = match (looped, wanted) {
            (None, w) => w.unwrap_or(u64::MAX).min(avail),
            (Some(_), Some(w)) => w,
            (Some(_), None) => total.saturating_sub(start),
        };
        let end = start.saturating_add(play).min(total).max(start);
        let len = end - start;
        let declick = frames_of(DECLICK_SECONDS);
        let mut fade_in = frames_of(spec.fade_in).max(declick);
        let mut fade_out = frames_of(spec.fade_out).max(declick);
        if fade_in + fade_out > len && fade_in + fade_out > 0 {
            // Both fades cannot fit: shorten them in proportion.
            let scale = len as f64 / (fade_in + fade_out) as f64;
            fade_in = (fade_in as f64 * scale).floor() as u64;
            fade_out = (fade_out as f64 * scale).floor() as u64;
        }
        let source = match source {
            MixSource::Pcm(p) => Source::Pcm(p),
            MixSource::Stream(s) => Source::Stream(Box::new(StreamTrack::new(s, src_off, looped))),
        };
        Track {
            index: 0,
            role: spec.role,
            source,
            gain,
            start,
            end,
            fade_in,
            fade_out,
            src_off: src_off as usize,
            looped,
        }
    }
}

/// A looped streamed track with a short loop region becomes an in-memory one: the region is
/// decoded once instead of once per pass.
fn keep_short_loop_in_memory(track: &mut Track) -> Result<(), MediaError> {
    let (Some((l, _)), Source::Stream(s)) = (track.looped, &track.source) else {
        return Ok(());
    };
    if l as u64 > frames_of(LOOP_IN_MEMORY_SECONDS) {
        return Ok(());
    }
    let (pcm, result) = match s.source().read_region(track.src_off as u64, l) {
        Ok(pcm) => (pcm, Ok(())),
        Err(e) => (Pcm { samples: vec![0.0; l * CHANNELS] }, Err(e)),
    };
    track.source = Source::Pcm(Arc::new(pcm));
    track.src_off = 0;
    result
}

/// Fills interleaved `dst` with `dst.len() / 2` frames of the track's source starting at
/// track-local frame `p0`, applying the loop crossfade. Unity gain, no envelope.
///
/// A loop of region length `L` with crossfade `X` plays source frames `0..L` once, then
/// `X..L` over and over; in the last `X` frames of every pass the tail fades (equal-power)
/// into the region's first `X` frames, so the next pass continues seamlessly from `X`.
fn read_source(track: &Track, p0: u64, dst: &mut [f32]) {
    let Source::Pcm(pcm) = &track.source else {
        dst.fill(0.0);
        return;
    };
    let src = &pcm.samples[track.src_off * CHANNELS..];
    let n = dst.len() / CHANNELS;
    let Some((l, x)) = track.looped else {
        let a = p0 as usize * CHANNELS;
        dst.copy_from_slice(&src[a..a + n * CHANNELS]);
        return;
    };
    let period = (l - x) as u64;
    let mut done = 0usize;
    while done < n {
        let p = p0 + done as u64;
        let u = if p < l as u64 { p as usize } else { x + ((p - l as u64) % period) as usize };
        let out = &mut dst[done * CHANNELS..];
        let seam = l - x;
        let take = if u < seam {
            let take = (seam - u).min(n - done);
            out[..take * CHANNELS].copy_from_slice(&src[u * CHANNELS..(u + take) * CHANNELS]);
            take
        } else {
            let take = (l - u).min(n - done);
            let k = u - seam;
            crossfade(
                &mut out[..take * CHANNELS],
                &src[u * CHANNELS..(u + take) * CHANNELS],
                &src[k * CHANNELS..(k + take) * CHANNELS],
                (k as f64 + 0.5) / x as f64,
                1.0 / x as f64,
            );
            take
        };
        done += take;
    }
}

/// Adds the track's frames for timeline `[b0, b0 + n)` (n = `dst.len() / 2`) into `dst`, with
/// gain and fades. `tmp` and `gains` are scratch of at least one block.
fn render_track(track: &mut Track, b0: u64, dst: &mut [f32], tmp: &mut [f32], gains: &mut [f32]) {
    let n = (dst.len() / CHANNELS) as u64;
    let a = b0.max(track.start);
    let e = (b0 + n).min(track.end);
    if a >= e || track.gain == 0.0 {
        return;
    }
    let m = (e - a) as usize;
    let tmp = &mut tmp[..m * CHANNELS];
    if let Source::Stream(s) = &mut track.source {
        s.read(a - track.start, tmp);
    } else {
        read_source(track, a - track.start, tmp);
    }
    let out = &mut dst[(a - b0) as usize * CHANNELS..(e - b0) as usize * CHANNELS];
    let p0 = a - track.start;
    let in_fade_in = p0 < track.fade_in;
    let fade_out_from = track.end - track.fade_out;
    let in_fade_out = e > fade_out_from;
    if !in_fade_in && !in_fade_out {
        mix_into(out, tmp, track.gain);
        return;
    }
    let gains = &mut gains[..m];
    gains.fill(track.gain);
    if in_fade_in {
        let k = ((track.fade_in - p0) as usize).min(m);
        let d = 1.0 / track.fade_in as f64;
        apply_ramp(&mut gains[..k], (p0 as f64 + 0.5) * d, d);
    }
    if in_fade_out {
        let f0 = a.max(fade_out_from);
        let k = (f0 - a) as usize;
        let d = 1.0 / track.fade_out as f64;
        apply_ramp(&mut gains[k..], ((track.end - f0) as f64 - 0.5) * d, -d);
    }
    mix_into_gains(out, tmp, gains);
}

/// The ducking detector and envelope (see [`Ducking`]).
#[derive(Debug)]
struct Ducker {
    /// Detector runs this many frames ahead of the audio it ducks.
    lookahead: u64,
    /// Voice power of the last `window.len()` frames (ring) and its sum.
    window: Vec<f32>,
    window_pos: usize,
    window_sum: f64,
    threshold_power: f64,
    hold_frames: u32,
    hold_left: u32,
    attack_coef: f32,
    release_coef: f32,
    /// ln of the linear gain at full depth.
    depth_ln: f32,
    /// Envelope 0 (no dip) ..= 1 (full dip).
    env: f32,
}

impl Ducker {
    fn new(d: &Ducking) -> Self {
        let rate = f64::from(SAMPLE_RATE);
        let attack = if d.attack.is_finite() { d.attack.clamp(0.001, 5.0) } else { 0.15 };
        let release = if d.release.is_finite() { d.release.clamp(0.001, 10.0) } else { 0.4 };
        let depth = if d.depth_db.is_finite() { d.depth_db.clamp(-60.0, 0.0) } else { -12.0 };
        // One-pole reaching 90 % in `t` seconds: coef = exp(-ln(10) / (t × rate)).
        let coef = |t: f64| (-std::f64::consts::LN_10 / (t * rate)).exp() as f32;
        let window = (DUCK_WINDOW_SECONDS * rate).round() as usize;
        Ducker {
            lookahead: frames_of(attack),
            window: vec![0.0; window],
            window_pos: 0,
            window_sum: 0.0,
            threshold_power: 10f64.powf(f64::from(DUCK_THRESHOLD_DBFS) / 10.0),
            hold_frames: frames_of(DUCK_HOLD_SECONDS) as u32,
            hold_left: 0,
            attack_coef: coef(attack),
            release_coef: coef(release),
            depth_ln: depth * std::f32::consts::LN_10 / 20.0,
            env: 0.0,
        }
    }

    /// Turns per-frame voice power (`power`, already `lookahead` ahead) into per-frame music
    /// gains. Sequential: call with consecutive blocks.
    fn gains(&mut self, power: &[f32], gains: &mut [f32]) {
        let w = self.window.len() as f64;
        for (g, &p) in gains.iter_mut().zip(power) {
            self.window_sum += f64::from(p) - f64::from(self.window[self.window_pos]);
            self.window[self.window_pos] = p;
            self.window_pos += 1;
            if self.window_pos == self.window.len() {
                self.window_pos = 0;
            }
            let active = self.window_sum / w > self.threshold_power;
            let target = if active {
                self.hold_left = self.hold_frames;
                1.0
            } else if self.hold_left > 0 {
                self.hold_left -= 1;
                1.0
            } else {
                0.0
            };
            let coef = if target > self.env { self.attack_coef } else { self.release_coef };
            self.env = target + (self.env - target) * coef;
            *g = (self.env * self.depth_ln).exp();
        }
    }
}

/// Streams the mix of a [`MixSpec`]; see the module docs.
pub struct Mixer {
    /// Decode errors met so far: `(index in MixSpec::tracks, error)`.
    errors: Vec<(usize, MediaError)>,
    total: u64,
    /// Frames handed out by `fill`.
    pos: u64,
    /// Frames rendered into the limiter (`pos + latency` once primed).
    raw_pos: u64,
    tracks: Vec<Track>,
    ducker: Option<Ducker>,
    limiter: Limiter,
    /// Gain before the limiter ([`Mixer::set_master`]; 1 unless normalizing).
    master: f32,
    primed: bool,
    /// Scratch for priming the limiter (one block).
    prime: Vec<f32>,
    // Scratch, one block each.
    tmp: Vec<f32>,
    gains: Vec<f32>,
    music: Vec<f32>,
    voice_key: Vec<f32>,
    key_power: Vec<f32>,
    duck_gains: Vec<f32>,
}

impl std::fmt::Debug for Mixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mixer")
            .field("total", &self.total)
            .field("pos", &self.pos)
            .field("tracks", &self.tracks.len())
            .field("ducking", &self.ducker.is_some())
            .finish()
    }
}

impl Mixer {
    /// `sources[i]` belongs to `spec.tracks[i]`; a track without a source is silent and extra
    /// sources are ignored. Out-of-range numbers are clamped (non-finite or negative times
    /// become 0); use [`MixSpec::validate`] to refuse them with a message instead.
    pub fn new(spec: MixSpec, sources: Vec<Arc<Pcm>>) -> Self {
        Mixer::with_sources(spec, sources.into_iter().map(MixSource::Pcm).collect())
    }

    /// [`Mixer::new`] with any sources: decoded [`Pcm`] or files streamed while mixing. A
    /// looped streamed track whose loop region is at most [`LOOP_IN_MEMORY_SECONDS`] is
    /// decoded into memory here. Decode errors of streamed sources do not stop the mix: the
    /// track goes silent and [`Mixer::source_error`] reports it.
    pub fn with_sources(spec: MixSpec, sources: Vec<MixSource>) -> Self {
        let total = frames_of(spec.duration);
        let mut errors = Vec::new();
        let tracks: Vec<Track> = spec
            .tracks
            .iter()
            .zip(sources)
            .enumerate()
            .map(|(i, (t, s))| {
                let mut track = Track::new(t, s, total);
                track.index = i;
                if let Err(e) = keep_short_loop_in_memory(&mut track) {
                    errors.push((i, e));
                }
                track
            })
            .filter(|t| t.end > t.start)
            .collect();
        let has_voice = tracks.iter().any(|t| t.role == TrackRole::Voice);
        let has_music = tracks.iter().any(|t| t.role == TrackRole::Music);
        let ducker = match spec.ducking {
            Some(d) if has_voice && has_music => Some(Ducker::new(&d)),
            _ => None,
        };
        let block = BLOCK * CHANNELS;
        Mixer {
            errors,
            total,
            pos: 0,
            raw_pos: 0,
            tracks,
            ducker,
            limiter: Limiter::new(LIMITER_CEILING, LIMITER_LOOKAHEAD_FRAMES, LIMITER_RELEASE_SECONDS, SAMPLE_RATE),
            master: 1.0,
            primed: false,
            prime: vec![0.0; block],
            tmp: vec![0.0; block],
            gains: vec![0.0; BLOCK],
            music: vec![0.0; block],
            voice_key: vec![0.0; block],
            key_power: vec![0.0; BLOCK],
            duck_gains: vec![0.0; BLOCK],
        }
    }

    /// Frames in the whole mix: `round(duration × 48000)`.
    pub fn total_frames(&self) -> u64 {
        self.total
    }

    /// Frames not yet handed out.
    pub fn remaining_frames(&self) -> u64 {
        self.total - self.pos
    }

    /// The first decode error of a streamed source so far, with the index of its track in
    /// [`MixSpec::tracks`]. That track is silent from the error on; the rest of the mix is
    /// unaffected. A caller that must not publish a damaged mix checks this after `fill`.
    pub fn source_error(&self) -> Option<(usize, &MediaError)> {
        if let Some((i, e)) = self.errors.first() {
            return Some((*i, e));
        }
        self.tracks.iter().find_map(|t| match &t.source {
            Source::Stream(s) => s.error().map(|e| (t.index, e)),
            Source::Pcm(_) => None,
        })
    }

    /// Play everything `gain` times louder into a limiter with this `ceiling` (linear), for
    /// loudness normalization. Call before the first [`Mixer::fill`].
    pub fn set_master(&mut self, gain: f32, ceiling: f32) {
        self.master = gain;
        self.limiter = Limiter::new(ceiling, LIMITER_LOOKAHEAD_FRAMES, LIMITER_RELEASE_SECONDS, SAMPLE_RATE);
    }

    /// Writes the next frames (interleaved stereo) into `out` and returns how many frames were
    /// written: `min(out.len() / 2, remaining)`, so 0 at the end. Allocates nothing for
    /// in-memory sources; streamed ones decode (and so allocate packet buffers) as they play.
    pub fn fill(&mut self, out: &mut [f32]) -> usize {
        let want = ((out.len() / CHANNELS) as u64).min(self.total - self.pos) as usize;
        if want == 0 {
            return 0;
        }
        if !self.primed {
            // Run the limiter's look-ahead worth of audio through it; its output is the
            // initial silence of the delay line.
            let la = self.limiter.latency();
            let mut prime = std::mem::take(&mut self.prime);
            let mut done = 0;
            while done < la {
                let m = (la - done).min(BLOCK);
                let buf = &mut prime[..m * CHANNELS];
                self.render_raw(buf);
                scale(buf, self.master);
                self.limiter.process(buf);
                done += m;
            }
            self.prime = prime;
            self.primed = true;
        }
        let mut done = 0;
        while done < want {
            let m = (want - done).min(BLOCK);
            let buf = &mut out[done * CHANNELS..(done + m) * CHANNELS];
            self.render_raw(buf);
            scale(buf, self.master);
            self.limiter.process(buf);
            done += m;
        }
        self.pos += want as u64;
        want
    }

    /// Renders timeline frames `[raw_pos, raw_pos + n)` (n ≤ one block) into `dst`, before
    /// the limiter, and advances `raw_pos`.
    fn render_raw(&mut self, dst: &mut [f32]) {
        let n = dst.len() / CHANNELS;
        let b0 = self.raw_pos;
        dst.fill(0.0);
        if let Some(ducker) = self.ducker.as_mut() {
            let key = &mut self.voice_key[..n * CHANNELS];
            key.fill(0.0);
            for t in self.tracks.iter_mut().filter(|t| t.role == TrackRole::Voice) {
                render_track(t, b0 + ducker.lookahead, key, &mut self.tmp, &mut self.gains);
            }
            frame_power(key, &mut self.key_power[..n]);
            ducker.gains(&self.key_power[..n], &mut self.duck_gains[..n]);
            let music = &mut self.music[..n * CHANNELS];
            music.fill(0.0);
            for t in self.tracks.iter_mut().filter(|t| t.role == TrackRole::Music) {
                render_track(t, b0, music, &mut self.tmp, &mut self.gains);
            }
            mix_into_gains(dst, music, &self.duck_gains[..n]);
            for t in self.tracks.iter_mut().filter(|t| t.role != TrackRole::Music) {
                render_track(t, b0, dst, &mut self.tmp, &mut self.gains);
            }
        } else {
            for t in &mut self.tracks {
                render_track(t, b0, dst, &mut self.tmp, &mut self.gains);
            }
        }
        self.raw_pos += n as u64;
        // Nothing before the next block is read again (the look-ahead reads only later frames).
        for t in &mut self.tracks {
            if let Source::Stream(s) = &mut t.source {
                let p = self.raw_pos.saturating_sub(t.start);
                s.release(p, self.raw_pos >= t.end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(frames: usize, v: f32) -> Arc<Pcm> {
        Arc::new(Pcm { samples: vec![v; frames * 2] })
    }

    fn render_all(mut mixer: Mixer) -> Vec<f32> {
        let mut out = Vec::new();
        let mut buf = vec![0.0; 777 * 2];
        loop {
            let n = mixer.fill(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n * 2]);
        }
        out
    }

    #[test]
    fn total_frames_and_placement() {
        let mut t = TrackSpec::new(TrackRole::ClipSound, 0.5);
        t.length = Some(0.25);
        let spec = MixSpec { duration: 1.0, tracks: vec![t], ducking: None };
        let mixer = Mixer::new(spec, vec![constant(48_000, 0.5)]);
        assert_eq!(mixer.total_frames(), 48_000);
        let out = render_all(mixer);
        assert_eq!(out.len(), 96_000);
        let at = |s: f64| out[(s * 48_000.0) as usize * 2];
        assert_eq!(at(0.4), 0.0);
        assert!((at(0.6) - 0.5).abs() < 1e-6);
        assert_eq!(at(0.8), 0.0);
    }

    #[test]
    fn source_offset_trims_and_missing_source_is_silent() {
        let src: Vec<f32> = (0..4800).flat_map(|i| [i as f32 / 10_000.0; 2]).collect();
        let mut t = TrackSpec::new(TrackRole::Voice, 0.0);
        t.source_offset = 0.05; // frame 2400
        let t2 = TrackSpec::new(TrackRole::Music, 0.0);
        let spec = MixSpec { duration: 0.1, tracks: vec![t, t2], ducking: None };
        let out = render_all(Mixer::new(spec, vec![Arc::new(Pcm { samples: src })]));
        // Frame 1000 of the output is source frame 3400 (past the de-click ramp).
        assert!((out[2000] - 0.34).abs() < 1e-6, "{}", out[2000]);
        // The source has 2400 frames left: silence after 0.05 s.
        assert_eq!(out[2 * 2500], 0.0);
    }

    #[test]
    fn invalid_specs_name_the_field() {
        let mut t = TrackSpec::new(TrackRole::Music, 0.0);
        t.gain = f32::NAN;
        let spec = MixSpec { duration: 1.0, tracks: vec![TrackSpec::new(TrackRole::Voice, 0.0), t], ducking: None };
        let err = spec.validate().unwrap_err();
        assert!(err.to_string().starts_with("tracks[1].gain:"), "{err}");
        let spec = MixSpec { duration: -1.0, tracks: vec![], ducking: None };
        assert!(spec.validate().unwrap_err().to_string().starts_with("duration:"));
        let spec =
            MixSpec { duration: 1.0, tracks: vec![], ducking: Some(Ducking { depth_db: 6.0, ..Ducking::default() }) };
        assert!(spec.validate().unwrap_err().to_string().starts_with("ducking.depth_db:"));
        // The mixer itself never panics on the same values.
        let mut bad = TrackSpec::new(TrackRole::Music, f64::NAN);
        bad.length = Some(f64::INFINITY);
        bad.fade_in = -3.0;
        bad.looped = true;
        let spec = MixSpec { duration: f64::NAN, tracks: vec![bad], ducking: None };
        assert_eq!(render_all(Mixer::new(spec, vec![constant(10, 0.1)])).len(), 0);
    }

    #[test]
    fn loop_read_is_continuous_across_the_seam() {
        // A ramp source: the seam of a loop of a ramp is a big jump without a crossfade.
        let src: Vec<f32> = (0..10_000).flat_map(|i| [i as f32 / 10_000.0; 2]).collect();
        let mut t = TrackSpec::new(TrackRole::Music, 0.0);
        t.looped = true;
        let track = Track::new(&t, Arc::new(Pcm { samples: src }), 48_000);
        assert_eq!(track.looped, Some((10_000, 960)));
        let mut buf = vec![0.0; 30_000 * 2];
        read_source(&track, 0, &mut buf);
        // Crossfade zone: the level goes from ~0.9 down to ~0.1 over 960 frames.
        let max_jump = buf.windows(3).step_by(2).map(|w| (w[2] - w[0]).abs()).fold(0.0, f32::max);
        assert!(max_jump < 0.01, "{max_jump}");
        // After the first pass, the loop continues from source frame 960.
        assert!((buf[2 * 10_000] - 0.096).abs() < 1e-4, "{}", buf[2 * 10_000]);
    }

    /// A 16-bit mono WAV at `rate` whose sample `i` is `f(i)` (the shared test writer).
    fn wav(rate: u32, frames: usize, f: impl Fn(usize) -> f32) -> Vec<u8> {
        let at = |t: f64| (t * f64::from(rate)).round() as usize;
        samvideo_test_support::wav_bytes(rate, 1, frames as f64 / f64::from(rate), |t, _| f64::from(f(at(t))))
    }

    /// Streamed sources (decoded while mixing, loops re-opened) give exactly the mix of the
    /// same files decoded whole: voice with ducking look-ahead, a long loop streamed across
    /// its seams from a source offset, a short loop kept in memory, a trimmed clip sound.
    #[test]
    fn streamed_sources_mix_exactly_like_decoded_ones() {
        use crate::audio::{audio_frames, decode_audio_with, DecodeOptions, MixSource, StreamSource};
        let speech = Arc::new(wav(44_100, 44_100 * 9, |i| {
            let t = i as f32 / 44_100.0;
            if ((t / 0.7) as u32).is_multiple_of(2) {
                0.5 * (t * 1500.0).sin()
            } else {
                0.0
            }
        }));
        let song =
            Arc::new(wav(22_050, 22_050 * 19, |i| 0.4 * (i as f32 * 0.031).sin() + (i % 5000) as f32 / 20_000.0));
        let jingle = Arc::new(wav(48_000, 48_000 * 3, |i| 0.3 * (i as f32 * 0.05).sin()));
        let mut voice = TrackSpec::new(TrackRole::Voice, 0.5);
        voice.fade_in = 0.1;
        voice.fade_out = 0.3;
        let mut long_loop = TrackSpec::new(TrackRole::Music, 0.0);
        long_loop.looped = true;
        long_loop.source_offset = 1.3; // 17.7 s region: streamed, seams at 17.7 s and 35.0 s
        long_loop.fade_in = 1.0;
        long_loop.fade_out = 2.0;
        let mut short_loop = TrackSpec::new(TrackRole::Music, 3.0);
        short_loop.looped = true;
        short_loop.gain = 0.5;
        let mut clip = TrackSpec::new(TrackRole::ClipSound, 12.0);
        clip.source_offset = 2.0;
        clip.length = Some(5.0);
        let spec = MixSpec {
            duration: 38.0,
            tracks: vec![voice, long_loop, short_loop, clip],
            ducking: Some(Ducking::default()),
        };
        let inputs = [(&speech, None), (&song, None), (&jingle, None), (&speech, Some(6.5))];
        let mut decoded = Vec::new();
        let mut streamed = Vec::new();
        for (bytes, stop) in inputs {
            let options = DecodeOptions { stop_after_seconds: stop, ..DecodeOptions::default() };
            decoded.push(Arc::new(decode_audio_with(bytes, None, &options).unwrap()));
            let full = audio_frames(bytes, None).unwrap();
            let source = StreamSource::new(bytes.clone(), None, options, full).unwrap();
            assert_eq!(source.frames(), decoded.last().unwrap().frames() as u64);
            streamed.push(MixSource::Stream(source));
        }
        let want = render_all(Mixer::new(spec.clone(), decoded));
        let mixer = Mixer::with_sources(spec, streamed);
        let got = render_all(mixer);
        assert_eq!(got.len(), want.len());
        assert!(want.iter().fold(0f32, |m, x| m.max(x.abs())) > 0.2, "the mix is not silent");
        let first = got.iter().zip(&want).position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(first, None, "first differing sample (frame {:?})", first.map(|i| i / 2));
    }

    /// A streamed source that decodes shorter than counted (a damaged file) plays silence for
    /// the missing part; the mix keeps its length.
    #[test]
    fn a_streamed_source_shorter_than_counted_pads_with_silence() {
        use crate::audio::{DecodeOptions, MixSource, StreamSource};
        let bytes = Arc::new(wav(48_000, 48_000, |_| 0.25));
        // Claim twice the real length: the second half is missing.
        let source = StreamSource::new(bytes, None, DecodeOptions::default(), 96_000).unwrap();
        let spec = MixSpec { duration: 2.0, tracks: vec![TrackSpec::new(TrackRole::Voice, 0.0)], ducking: None };
        let mixer = Mixer::with_sources(spec, vec![MixSource::Stream(source)]);
        assert!(mixer.source_error().is_none());
        let out = render_all(mixer);
        assert_eq!(out.len(), 96_000 * 2);
        assert!((out[2 * 24_000] - 0.25).abs() < 1e-3);
        assert_eq!(out[2 * 72_000], 0.0);
    }
}
