//! Video clips as inputs: MP4/MOV with H.264 or AV1, decoded as a stream.
//!
//! In: the whole compressed file in memory (`Arc<Vec<u8>>`, the [`MediaSource`] contract).
//! Out: [`VideoReader::frame_at`] gives the RGBA frame showing at a source time, rotated for
//! display; [`probe`] gives [`VideoInfo`] without decoding.
//!
//! Pipeline: `container` (shiguredo_mp4 boxes → sample list + presentation times) →
//! `h264` (OpenH264) or `av1` (rav1d) → `colour` (YUV 4:2:0 → RGBA, rotation).
//! The reader decodes forward only as far as the requested time and keeps one decoded frame
//! (plus the decoder's own reference pictures): memory does not grow with clip length.
//! Going back in time, or far forward, restarts decoding at the nearest clean key frame.
//!
//! [`MediaSource`]: crate::media::MediaSource

mod av1;
mod boxes;
mod colour;
mod container;
mod edits;
mod h264;
mod obu;
mod table_bounds;

use std::sync::Arc;

pub use colour::{rotate_rgba, yuv420_to_rgba, ColourInfo, Matrix, Yuv420};

pub(crate) use edits::sound_track_edits;

use crate::media::MediaError;
use av1::Av1Decoder;
use container::{CodecConfig, VideoTrack};
use h264::H264Decoder;

/// What a clip is, as the renderer needs to know before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Display width in pixels (after rotation).
    pub width: u32,
    /// Display height in pixels (after rotation).
    pub height: u32,
    /// Presentation duration of the video track in seconds (after the edit list).
    pub duration: f64,
    /// Average frame rate (frames / media duration).
    pub fps: f64,
    /// Clockwise rotation applied for display (0, 90, 180, 270), from the track matrix.
    pub rotation: u16,
    /// `h264` or `av1`.
    pub codec: String,
    /// The file has an audio track too.
    pub has_audio: bool,
}

/// Resource bounds for one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoLimits {
    /// Largest display width accepted.
    pub max_width: u32,
    /// Largest display height accepted.
    pub max_height: u32,
    /// Longest duration accepted, in seconds (also bounds the frame count at 240 fps).
    pub max_duration: f64,
}

impl Default for VideoLimits {
    /// 4096x4096 and one hour.
    fn default() -> Self {
        VideoLimits { max_width: 4096, max_height: 4096, max_duration: 3600.0 }
    }
}

/// Reads a clip's [`VideoInfo`] without decoding frames (default [`VideoLimits`] apply).
pub fn probe(bytes: &[u8]) -> Result<VideoInfo, MediaError> {
    probe_with_limits(bytes, &VideoLimits::default())
}

/// [`probe`] with explicit limits.
pub fn probe_with_limits(bytes: &[u8], limits: &VideoLimits) -> Result<VideoInfo, MediaError> {
    let track = read_track(bytes, limits)?;
    Ok(info_of(&track))
}

/// The container parser is third-party code over hostile bytes: a panic in it becomes an
/// error for this item instead of taking down the render.
fn read_track(bytes: &[u8], limits: &VideoLimits) -> Result<VideoTrack, MediaError> {
    std::panic::catch_unwind(|| container::read_video_track(bytes, limits))
        .unwrap_or_else(|_| Err(MediaError::Decode("malformed MP4: the container could not be parsed".into())))
}

/// The decoder allocates for the size the SPS declares, whatever the sample entry says:
/// refuse one larger than the limits (in whole 16-pixel macroblocks, either orientation).
fn check_sps_size(w: u64, h: u64, limits: &VideoLimits) -> Result<(), MediaError> {
    let side = u64::from(limits.max_width.max(limits.max_height)).div_ceil(16) * 16;
    let area = u64::from(limits.max_width).div_ceil(16) * 16 * u64::from(limits.max_height).div_ceil(16) * 16;
    if w > side || h > side || w.saturating_mul(h) > area {
        return Err(MediaError::Limit(format!("video is {w}x{h} (limit {}x{})", limits.max_width, limits.max_height)));
    }
    Ok(())
}

fn info_of(t: &VideoTrack) -> VideoInfo {
    let (width, height) = display_size(t);
    VideoInfo {
        width,
        height,
        duration: t.duration,
        fps: t.fps,
        rotation: t.rotation,
        codec: t.codec_name.to_string(),
        has_audio: t.has_audio,
    }
}

fn display_size(t: &VideoTrack) -> (u32, u32) {
    if t.rotation % 180 == 90 {
        (t.coded_height, t.coded_width)
    } else {
        (t.coded_width, t.coded_height)
    }
}

enum Decoder {
    H264(H264Decoder),
    Av1(Av1Decoder),
}

/// Streaming decoder over an in-memory MP4/MOV. See the module docs.
pub struct VideoReader {
    /// The compressed file; samples are sliced out of it as they are decoded.
    bytes: Arc<Vec<u8>>,
    track: VideoTrack,
    info: VideoInfo,
    limits: VideoLimits,
    /// Colour description known before decoding (H.264 SPS VUI, else the `colr` box).
    colour_hint: Option<ColourInfo>,
    /// `(display index, sample index)` of every clean key frame, ascending.
    starts: Vec<(usize, usize)>,
    decoder: Option<Decoder>,
    /// Decode-order index of the next sample to send.
    next_sample: usize,
    /// Display-order index of the next picture the decoder will return.
    next_output: usize,
    /// The decoder has been drained: no more pictures come.
    finished: bool,
    /// Display index of the frame held in `rgba`.
    current: Option<usize>,
    /// The current frame, display size, RGBA.
    rgba: Vec<u8>,
    /// Unrotated conversion target when the clip is rotated.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for VideoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReader")
            .field("info", &self.info)
            .field("next_sample", &self.next_sample)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl VideoReader {
    /// Parses the container and prepares decoding; fails on unsupported codecs, malformed or
    /// truncated files and clips over `limits`.
    pub fn open(bytes: Arc<Vec<u8>>, limits: &VideoLimits) -> Result<Self, MediaError> {
        let track = read_track(&bytes, limits)?;
        let info = info_of(&track);
        let colour_hint = match &track.config {
            CodecConfig::H264 { sps, .. } => {
                let parsed = sps.first().and_then(|s| h264::parse_sps(s));
                if let Some(p) = parsed {
                    if p.chroma_format_idc != 1 || p.bit_depth != 8 {
                        return Err(MediaError::Decode(format!(
                            "unsupported video codec h264 with {}-bit {} chroma (supported: 8-bit 4:2:0 h264, av1)",
                            p.bit_depth,
                            match p.chroma_format_idc {
                                0 => "monochrome",
                                2 => "4:2:2",
                                3 => "4:4:4",
                                _ => "4:2:0",
                            }
                        )));
                    }
                    check_sps_size(p.coded_width, p.coded_height, limits)?;
                }
                parsed.and_then(|p| p.colour).or(track.colour)
            }
            CodecConfig::Av1 => track.colour,
        };
        let starts = track.clean_start.iter().enumerate().filter_map(|(s, d)| d.map(|d| (d, s))).collect();
        let frame_bytes = info.width as usize * info.height as usize * 4;
        Ok(VideoReader {
            bytes,
            track,
            info,
            limits: limits.clone(),
            colour_hint,
            starts,
            decoder: None,
            next_sample: 0,
            next_output: 0,
            finished: false,
            current: None,
            rgba: vec![0; frame_bytes],
            scratch: Vec::new(),
        })
    }

    /// What the clip is.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The frame showing at source time `t` seconds (the last frame with pts <= t; the first
    /// frame before it starts, the last frame after the end), as tightly packed RGBA8 of
    /// `info().width` x `info().height`, rotation applied.
    ///
    /// Meant for non-decreasing `t`: decoding goes forward only as far as needed. An earlier
    /// `t` (a loop restart) or a jump past a key frame restarts at the nearest clean key frame.
    pub fn frame_at(&mut self, t: f64) -> Result<&[u8], MediaError> {
        if !t.is_finite() {
            return Err(MediaError::Decode(format!("video time {t} is not a number")));
        }
        // A microsecond of slack: `t` is computed by the caller (frame / fps + trim) and may
        // land one rounding step below a presentation time that is meant to be equal.
        let t = t + 1e-6;
        let target = self.track.pts.partition_point(|&p| p <= t).saturating_sub(1);
        self.decode_to(target)?;
        Ok(&self.rgba)
    }

    /// Decodes until the display-order frame `target` is in `self.rgba`.
    fn decode_to(&mut self, mut target: usize) -> Result<(), MediaError> {
        loop {
            if self.current == Some(target) {
                return Ok(());
            }
            // Restart when going back, or when a clean key frame lies ahead of the decoder.
            let start_idx = self.starts.partition_point(|&(d, _)| d <= target);
            let restart = match start_idx.checked_sub(1).map(|i| self.starts[i]) {
                Some((d, s)) if target < self.next_output || d > self.next_output || self.decoder.is_none() => {
                    Some((d, s))
                }
                None if target < self.next_output || self.decoder.is_none() => Some((0, 0)),
                _ => None,
            };
            if let Some((d, s)) = restart {
                self.restart_at(d, s)?;
            }
            while self.next_output <= target && !self.finished {
                self.step(target)?;
            }
            if self.current == Some(target) {
                return Ok(());
            }
            // The stream ended with fewer pictures than samples: show the last one there was.
            if self.next_output == 0 {
                return Err(MediaError::Decode("the video track decoded to no frames".into()));
            }
            let last = self.next_output - 1;
            if last >= target {
                return Err(MediaError::Decode(format!("video frame {target} could not be decoded")));
            }
            target = last;
        }
    }

    fn restart_at(&mut self, display_index: usize, sample_index: usize) -> Result<(), MediaError> {
        self.decoder = Some(match &self.track.config {
            CodecConfig::H264 { nal_length_size, sps, pps } => {
                Decoder::H264(H264Decoder::new(*nal_length_size, sps, pps)?)
            }
            CodecConfig::Av1 => {
                let max_pixels = self.limits.max_width.saturating_mul(self.limits.max_height);
                Decoder::Av1(Av1Decoder::new(max_pixels)?)
            }
        });
        self.next_sample = sample_index;
        self.next_output = display_index;
        self.finished = false;
        self.current = None;
        Ok(())
    }

    /// Sends one sample (or drains at the end); converts the picture if it is `target`.
    fn step(&mut self, target: usize) -> Result<(), MediaError> {
        let VideoReader {
            bytes,
            track,
            info,
            limits,
            colour_hint,
            decoder,
            next_sample,
            next_output,
            finished,
            current,
            rgba,
            scratch,
            ..
        } = self;
        let Some(decoder) = decoder.as_mut() else {
            return Err(MediaError::Decode("video decoder not started".into()));
        };
        let hint = *colour_hint;
        let mut sink = |planes: Yuv420<'_>, colour: ColourInfo| -> Result<(), MediaError> {
            let index = *next_output;
            *next_output += 1;
            if index != target {
                return Ok(());
            }
            store_frame(&planes, colour, track, info, limits, rgba, scratch)?;
            *current = Some(index);
            Ok(())
        };
        let sample = track.samples.get(*next_sample).copied();
        match (decoder, sample) {
            (Decoder::H264(d), Some(s)) => {
                let data = &bytes[s.offset..s.offset + s.size];
                d.decode(data, &mut |p| sink(p, hint.unwrap_or_default()))?;
            }
            (Decoder::Av1(d), Some(s)) => {
                let data = &bytes[s.offset..s.offset + s.size];
                d.decode(data, hint, &mut sink)?;
            }
            (Decoder::H264(d), None) => {
                d.drain(&mut |p| sink(p, hint.unwrap_or_default()))?;
                *finished = true;
            }
            (Decoder::Av1(d), None) => {
                d.drain(hint, &mut sink)?;
                *finished = true;
            }
        }
        if sample.is_some() {
            *next_sample += 1;
        }
        Ok(())
    }
}

/// Converts a decoded picture into the display-size RGBA buffer.
fn store_frame(
    planes: &Yuv420<'_>,
    colour: ColourInfo,
    track: &VideoTrack,
    info: &VideoInfo,
    limits: &VideoLimits,
    rgba: &mut [u8],
    scratch: &mut Vec<u8>,
) -> Result<(), MediaError> {
    container::check_size(planes.width as u32, planes.height as u32, limits)?;
    let (w, h) = (track.coded_width as usize, track.coded_height as usize);
    if planes.width < w || planes.height < h {
        return Err(MediaError::Decode(format!(
            "decoded picture is {}x{} but the file says {w}x{h}",
            planes.width, planes.height
        )));
    }
    // A larger picture (uncropped padding) is cut to the declared size.
    let visible = Yuv420 { width: w, height: h, ..*planes };
    if info.rotation == 0 {
        yuv420_to_rgba(&visible, colour, rgba)
    } else {
        scratch.resize(w * h * 4, 0);
        yuv420_to_rgba(&visible, colour, scratch)?;
        rotate_rgba(scratch, w, h, info.rotation, rgba);
        Ok(())
    }
}
