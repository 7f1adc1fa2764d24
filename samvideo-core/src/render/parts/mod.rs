//! Split rendering: one MP4 render as independent parts that separate processes (or machines)
//! make in any order — one part per 10 s video segment, one for the whole audio — and a
//! finalize that muxes them into the same bytes as [`render_to_file`](super::render_to_file)
//! of the same request.
//!
//! This is the in-process render cut at its seams, not a second renderer: a segment part is
//! what one segment worker of `render_to_file` encodes (same compositor, same encoder opening
//! on a key frame, same speed choice from the plan), the audio part is the whole mix encoded
//! once (no seams), and the finalize writes the packets through the very muxing function the
//! in-process path uses (`mp4_out.rs`).
//!
//! Enter: the validated request, a media source and [`RenderOptions`] — the same for every
//! part of one render (limits, preview, codecs: they shape the plan) — and which [`PartId`] to
//! make. Leave: a part file (its byte format is documented in `render/parts/format.rs`:
//! versioned, length-prefixed packets with key-frame flags and frame indexes, a header naming
//! the plan [`Fingerprint`] and the segment, an end record with a checksum), or, from
//! [`finalize`], the MP4 and the caption sidecars. The finalize refuses, with a [`PartError`]
//! saying which, a missing part, a part of another plan or engine version, a damaged or
//! truncated one. Each call reports its own progress (0..1 of that part) and stops on its own
//! cancel token; a failed call removes what it wrote. The part holding the plan's poster frame
//! writes [`RenderOptions::poster`]. [`prepare`] reads, once, every medium any part or the
//! finalize reads (a queue's prepare step records them through its source, so that the parts
//! then read them from its own store instead of the origin).
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//! use samvideo_core::media::local::LocalSource;
//! use samvideo_core::render::parts::{finalize, render_part, PartId};
//! use samvideo_core::render::{plan_request, RenderOptions};
//! use samvideo_core::request::Endpoint;
//! use samvideo_core::validate::parse_create;
//!
//! let body = br#"{"media_list":[{"type":"image","url":"slide.png","duration":25}]}"#;
//! let request = parse_create(Endpoint::SimpleVideo, body).expect("valid");
//! let source = Arc::new(LocalSource::new("examples/slideshow"));
//! let options = RenderOptions::default();
//! let plan = plan_request(&request, source.clone(), &options)?;
//! let dir = Path::new("parts");
//! // Three segments and the audio: each call could run in another process.
//! for part in PartId::all(&plan) {
//!     render_part(&request, source.clone(), part, &dir.join(part.file_name()), &options)?;
//! }
//! let summary = finalize(&request, source, dir, Path::new("out.mp4"), &options)?;
//! println!("{} frames, {} bytes", summary.frames, summary.size_bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod format;

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::api::{OutputFormat, Progress, RenderError, RenderOptions, RenderSummary};
use super::assets::{job_assets, load_visuals, plan_with, JobAssets};
use super::audio_feed::{build_mixer, mix_of, AudioFeed};
use super::mp4_out::{AudioPackets, Mp4Mux};
use super::segments::{encode_segment, segments};
use crate::audio::AudioPacket;
use crate::media::MediaSource;
use crate::plan::RenderPlan;
use crate::request::CreateRequest;
pub use format::FormatError;
use format::{Body, Header, PartPacket, PartReader, PartWriter};

/// This crate's version and the versions of every crate that writes output bytes (the
/// encoders, Opus and AAC, the MP4 muxer); [`engine`] adds the system's SVT-AV1 library. (A
/// test checks it against `Cargo.lock`, so a dependency bump cannot forget it.)
pub const ENGINE_CRATES: &str = concat!(
    "samvideo-core ",
    env!("CARGO_PKG_VERSION"),
    " (rav1e 0.8.1, openh264 0.9.9, opus-pure 0.2.2, fdk-aac-sys 0.5.0, shiguredo_mp4 2025.4.0)"
);

/// The engine whose bytes a part holds: [`ENGINE_CRATES`] and the version of the SVT-AV1
/// library loaded at run time (a system library: two machines with the same build can differ
/// there, and its bytes change between versions). Part of the [`Fingerprint`]: parts of
/// another engine are refused, never mixed.
pub fn engine() -> &'static str {
    static ENGINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        format!("{ENGINE_CRATES} with libSvtAv1Enc {}", crate::encode::SvtAv1Encoder::library_version())
    })
}

/// A stable identity of a plan and the engine that renders it: SHA-256 of the plan's full
/// text (its derived `Debug`: every field of the lowered, default-free plan) and [`engine`].
/// Two lowerings of one request with the same options and media give the same fingerprint, on
/// any machine running the same build.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `plan` rendered by this engine.
    pub fn of(plan: &RenderPlan) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(b"samvideo plan\n");
        h.update(engine().as_bytes());
        h.update(b"\n");
        h.update(format!("{plan:?}").as_bytes());
        Fingerprint(h.finalize().into())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    /// Lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// One part of a split render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartId {
    /// The video segment with this index (from 0), its frames encoded from a key frame.
    Segment(usize),
    /// The whole audio track (a silent video has an audio part that says so).
    Audio,
}

impl PartId {
    /// Every part of `plan`: its segments in order, then the audio.
    pub fn all(plan: &RenderPlan) -> Vec<PartId> {
        let count = segments(plan).len();
        (0..count).map(PartId::Segment).chain([PartId::Audio]).collect()
    }

    /// The video frames this part encodes: a segment's length, 0 for the audio (a queue
    /// weighs a split render's progress with it).
    pub fn frames(self, plan: &RenderPlan) -> u64 {
        match self {
            PartId::Segment(k) => segments(plan).get(k).map_or(0, |r| r.end - r.start),
            PartId::Audio => 0,
        }
    }

    /// The file name [`finalize`] looks for in its parts folder: `segment-K.svpart`,
    /// `audio.svpart`.
    pub fn file_name(self) -> String {
        match self {
            PartId::Segment(k) => format!("segment-{k}.svpart"),
            PartId::Audio => "audio.svpart".into(),
        }
    }
}

impl fmt::Display for PartId {
    /// `segment 2`, `the audio`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartId::Segment(k) => write!(f, "segment {k}"),
            PartId::Audio => f.write_str("the audio"),
        }
    }
}

impl std::str::FromStr for PartId {
    type Err = String;
    /// `segment:K` or `audio`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "audio" => Ok(PartId::Audio),
            Some(("segment", k)) => k.parse().map(PartId::Segment).map_err(|_| format!("bad segment number `{k}`")),
            _ => Err(format!("`{s}` is not a part (segment:K or audio)")),
        }
    }
}

/// What [`render_part`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSummary {
    /// Which part.
    pub part: PartId,
    /// Packets in it (a segment: one per frame).
    pub packets: u64,
    /// Size of the part file.
    pub size_bytes: u64,
    /// The plan it belongs to.
    pub fingerprint: Fingerprint,
}

/// Why a part could not be made or the parts could not be joined.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// Rendering, muxing or writing failed as it would in [`render_to_file`](super::render_to_file).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Split rendering makes MP4 files only.
    #[error("split rendering writes MP4 only, not Y4M")]
    NotMp4,
    /// The plan has no such segment.
    #[error("segment {index} does not exist: the plan has {count} segment(s)")]
    NoSuchSegment {
        /// The segment asked for.
        index: usize,
        /// Segments of the plan.
        count: usize,
    },
    /// A segment's part is not in the parts folder.
    #[error("segment {index} of {count} is missing (no {})", path.display())]
    MissingSegment {
        /// Its index.
        index: usize,
        /// Segments of the plan.
        count: usize,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The audio part is not in the parts folder.
    #[error("the audio part is missing (no {})", path.display())]
    MissingAudio {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The part was made by another engine version.
    #[error("{}: {part} was made by another engine ({found}); this is {}", path.display(), engine())]
    OtherEngine {
        /// The part file.
        path: PathBuf,
        /// Which part it should be.
        part: PartId,
        /// The engine it names.
        found: String,
    },
    /// The part was made for another plan (another spec, other options or other media).
    #[error("{}: {part} was made for another plan (fingerprint {found}; this plan is {expected})", path.display())]
    OtherPlan {
        /// The part file.
        path: PathBuf,
        /// Which part it should be.
        part: PartId,
        /// The fingerprint it names.
        found: Fingerprint,
        /// This plan's.
        expected: Fingerprint,
    },
    /// The file is a part of this plan, but not the one its name says or not the one the plan
    /// cuts there.
    #[error("{}: expected {expected}, found {found}", path.display())]
    WrongPart {
        /// The part file.
        path: PathBuf,
        /// What it should hold.
        expected: String,
        /// What it holds.
        found: String,
    },
    /// The file is not a readable part (not a part, another format version, truncated, damaged).
    #[error("{}: {error}", path.display())]
    Format {
        /// The part file.
        path: PathBuf,
        /// What is wrong.
        error: FormatError,
    },
    /// A part file could not be written or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

/// Lower the request and make one part of its render into the file `out`.
pub fn render_part(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    part: PartId,
    out: &Path,
    options: &RenderOptions,
) -> Result<PartSummary, PartError> {
    let result = render_part_inner(request, source, part, out, options);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
        if let Some(poster) = &options.poster {
            let _ = std::fs::remove_file(poster);
        }
    }
    result
}

/// Lower the request and read every media item any part or the finalize reads — the visual
/// media checked as a segment part checks them, the audio mix opened as the audio part opens
/// it — so a bad item fails here, named as an in-process render names it
/// (`media_list[2] (https://…): HTTP 404`), before any part is made. A queue runs it once per
/// video with a source that keeps what it fetched (the prepare step); the plan it returns is the
/// one every part lowers.
pub fn prepare(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    options: &RenderOptions,
) -> Result<RenderPlan, PartError> {
    let (assets, plan) = mp4_plan(request, source, options)?;
    drop(load_visuals(&plan, &assets, &options.cancel)?);
    // The mix's sources opened, not mixed (a loudness pass would decode all the audio).
    drop(mix_of(&plan, &assets)?);
    Ok(plan)
}

/// The plan every part and the finalize lower from the request (only MP4 output splits), with
/// the job's assets it was lowered with.
fn mp4_plan(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    options: &RenderOptions,
) -> Result<(JobAssets, RenderPlan), PartError> {
    if options.format != OutputFormat::Mp4 {
        return Err(PartError::NotMp4);
    }
    let assets = job_assets(source, options);
    let plan = plan_with(request, &assets, options)?;
    Ok((assets, plan))
}

fn render_part_inner(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    part: PartId,
    out: &Path,
    options: &RenderOptions,
) -> Result<PartSummary, PartError> {
    let (assets, plan) = mp4_plan(request, source, options)?;
    let fingerprint = Fingerprint::of(&plan);
    let io = |error| PartError::Io { path: out.to_path_buf(), error };
    let packets = match part {
        PartId::Segment(index) => {
            let segs = segments(&plan);
            let count = segs.len();
            let frames = segs.get(index).cloned().ok_or(PartError::NoSuchSegment { index, count })?;
            let visuals = load_visuals(&plan, &assets, &options.cancel)?;
            drop(assets);
            let body = Body::Segment { index: index as u32, count: count as u32, frames: frames.clone() };
            let header = Header { fingerprint, engine: engine().into(), body };
            let mut part = PartWriter::new(BufWriter::new(File::create(out).map_err(io)?), &header).map_err(io)?;
            let progress = Progress::new(options.progress.clone(), frames.end - frames.start);
            let poster = options.poster.clone().filter(|_| frames.contains(&plan.poster_frame));
            let cancel = &options.cancel;
            let stopped = || if cancel.is_cancelled() { Err(RenderError::Cancelled) } else { Ok(()) };
            let mut written = 0u64;
            let mut sink = |packets: &mut Vec<crate::encode::Packet>| -> Result<(), RenderError> {
                for p in packets.drain(..) {
                    part.video(&p.data, p.keyframe, frames.start + p.frame)?;
                    written += 1;
                    progress.frame_done(written);
                }
                Ok(())
            };
            encode_segment(&plan, &visuals, frames.clone(), poster, &stopped, &mut sink)?;
            if written != frames.end - frames.start {
                return Err(RenderError::Pipeline("the encoder returned fewer frames than it was given").into());
            }
            part.finish().map_err(io)?;
            progress.done();
            written
        }
        PartId::Audio => {
            let mix = build_mixer(&plan, &assets)?;
            drop(assets);
            let mut feed = mix.map(|m| AudioFeed::new(m, plan.codec.audio())).transpose()?;
            let track = feed.as_ref().and_then(AudioFeed::track);
            let total = feed.as_ref().map_or(1, AudioFeed::total_samples);
            let header = Header { fingerprint, engine: engine().into(), body: Body::Audio(track) };
            let mut part = PartWriter::new(BufWriter::new(File::create(out).map_err(io)?), &header).map_err(io)?;
            let progress = Progress::new(options.progress.clone(), total);
            let (mut packets, mut samples) = (0u64, 0u64);
            while let Some(p) = feed.as_mut().map(AudioFeed::next_packet).transpose()?.flatten() {
                if options.cancel.is_cancelled() {
                    return Err(RenderError::Cancelled.into());
                }
                part.audio(&p.data, p.samples).map_err(io)?;
                packets += 1;
                samples += u64::from(p.samples);
                progress.frame_done(samples.min(total));
            }
            part.finish().map_err(io)?;
            progress.done();
            packets
        }
    };
    let size_bytes = std::fs::metadata(out).map_err(io)?.len();
    Ok(PartSummary { part, packets, size_bytes, fingerprint })
}

/// Lower the request and mux the parts in `parts_dir` (named by [`PartId::file_name`]) into
/// the MP4 `out`, the same bytes [`render_to_file`](super::render_to_file) writes; the caption
/// sidecars of `options` are written too. Every part is checked (present, this plan and
/// engine, the segment the plan cuts there) before `out` is created.
pub fn finalize(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    parts_dir: &Path,
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderSummary, PartError> {
    let result = finalize_inner(request, source, parts_dir, out, options);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
        for path in [&options.subtitles_vtt, &options.subtitles_srt].into_iter().flatten() {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn finalize_inner(
    request: &CreateRequest,
    source: Arc<dyn MediaSource>,
    parts_dir: &Path,
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderSummary, PartError> {
    let (assets, plan) = mp4_plan(request, source, options)?;
    drop(assets);
    let parts = Parts { dir: parts_dir, fingerprint: Fingerprint::of(&plan), segments: segments(&plan) };
    // Every part is checked before the output is created: a missing one fails at once.
    for k in 0..parts.segments.len() {
        parts.segment(k)?;
    }
    let (audio, track) = parts.audio()?;
    let progress = Progress::new(options.progress.clone(), plan.frame_count);
    let audio = track.map(|t| (t, AudioPart { reader: audio, path: parts.path(PartId::Audio) }));
    let mut mp4 = Mp4Mux::create(&plan, out, audio, &progress)?;
    for (k, frames) in parts.segments.iter().enumerate() {
        let path = parts.path(PartId::Segment(k));
        let format = |error| PartError::Format { path: path.clone(), error };
        let mut reader = parts.segment(k)?;
        let mut next = frames.start;
        while let Some(packet) = reader.next_packet().map_err(format)? {
            if options.cancel.is_cancelled() {
                return Err(RenderError::Cancelled.into());
            }
            let PartPacket::Video { data, keyframe, frame } = packet else {
                return Err(format(FormatError::Damaged("an audio packet in a segment".into())));
            };
            if frame != next || !frames.contains(&frame) {
                return Err(format(FormatError::Damaged(format!("frame {frame} where frame {next} belongs"))));
            }
            mp4.video(&data, keyframe)?;
            next += 1;
        }
        if next != frames.end {
            let reason = format!("it holds frames {}..{next} of {}..{}", frames.start, frames.start, frames.end);
            return Err(format(FormatError::Damaged(reason)));
        }
    }
    let size_bytes = mp4.finish()?;
    super::subtitles::write_sidecars(&plan, options.subtitles_vtt.as_deref(), options.subtitles_srt.as_deref())?;
    progress.done();
    Ok(RenderSummary {
        duration_secs: plan.duration_secs(),
        width: plan.width,
        height: plan.height,
        frames: plan.frame_count,
        size_bytes,
    })
}

/// The parts folder of one finalize.
struct Parts<'a> {
    dir: &'a Path,
    fingerprint: Fingerprint,
    segments: Vec<Range<u64>>,
}

type PartFile = PartReader<BufReader<File>>;

impl Parts<'_> {
    fn path(&self, part: PartId) -> PathBuf {
        self.dir.join(part.file_name())
    }

    /// Open `part`'s file and check it was made by this engine for this plan.
    fn open(&self, part: PartId) -> Result<PartFile, PartError> {
        let path = self.path(part);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(match part {
                    PartId::Segment(index) => PartError::MissingSegment { index, count: self.segments.len(), path },
                    PartId::Audio => PartError::MissingAudio { path },
                })
            }
            Err(error) => return Err(PartError::Io { path, error }),
        };
        let reader =
            PartReader::open(BufReader::new(file)).map_err(|error| PartError::Format { path: path.clone(), error })?;
        let header = reader.header();
        if header.engine != engine() {
            return Err(PartError::OtherEngine { path, part, found: header.engine.clone() });
        }
        if header.fingerprint != self.fingerprint {
            return Err(PartError::OtherPlan { path, part, found: header.fingerprint, expected: self.fingerprint });
        }
        Ok(reader)
    }

    /// Segment `k`'s part, checked to be that segment with the plan's frames.
    fn segment(&self, k: usize) -> Result<PartFile, PartError> {
        let reader = self.open(PartId::Segment(k))?;
        let count = self.segments.len();
        let frames = self.segments.get(k).cloned().unwrap_or_default();
        let expected = Body::Segment { index: k as u32, count: count as u32, frames: frames.clone() };
        if reader.header().body != expected {
            return Err(PartError::WrongPart {
                path: self.path(PartId::Segment(k)),
                expected: format!("segment {k} of {count} (frames {}..{})", frames.start, frames.end),
                found: describe(&reader.header().body),
            });
        }
        Ok(reader)
    }

    /// The audio part and the track it declares (`None`: silent).
    fn audio(&self) -> Result<(PartFile, Option<crate::mux::mp4::AudioTrack>), PartError> {
        let reader = self.open(PartId::Audio)?;
        match &reader.header().body {
            Body::Audio(track) => {
                let track = track.clone();
                Ok((reader, track))
            }
            other => Err(PartError::WrongPart {
                path: self.path(PartId::Audio),
                expected: "the audio".into(),
                found: describe(other),
            }),
        }
    }
}

fn describe(body: &Body) -> String {
    match body {
        Body::Segment { index, count, frames } => {
            format!("segment {index} of {count} (frames {}..{})", frames.start, frames.end)
        }
        Body::Audio(_) => "the audio".into(),
    }
}

/// The audio part as the muxer's audio packets.
struct AudioPart {
    reader: PartFile,
    path: PathBuf,
}

impl AudioPackets for AudioPart {
    type Error = PartError;
    fn next_packet(&mut self) -> Result<Option<AudioPacket>, PartError> {
        let format = |error| PartError::Format { path: self.path.clone(), error };
        match self.reader.next_packet().map_err(format)? {
            None => Ok(None),
            Some(PartPacket::Audio { data, samples }) => Ok(Some(AudioPacket { data, samples })),
            Some(PartPacket::Video { .. }) => Err(format(FormatError::Damaged("a video packet in the audio".into()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`ENGINE_CRATES`] names the versions `Cargo.lock` builds; [`engine`] adds SVT-AV1's.
    #[test]
    fn the_engine_names_the_locked_versions() {
        assert!(engine().starts_with(ENGINE_CRATES) && engine().contains("with libSvtAv1Enc v1."), "{}", engine());
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).expect("Cargo.lock");
        let inner = ENGINE_CRATES.split_once('(').and_then(|(_, r)| r.strip_suffix(')')).expect("a list of libraries");
        for lib in inner.split(", ") {
            let (name, version) = lib.split_once(' ').expect("name version");
            let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
            assert!(lock.contains(&entry), "Cargo.lock has no {name} {version}: update ENGINE_CRATES");
        }
        assert!(ENGINE_CRATES.starts_with(&format!("samvideo-core {} ", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn part_ids_parse_and_name_their_files() {
        assert_eq!("segment:3".parse::<PartId>(), Ok(PartId::Segment(3)));
        assert_eq!("audio".parse::<PartId>(), Ok(PartId::Audio));
        assert!("segment:x".parse::<PartId>().is_err());
        assert!("finalize".parse::<PartId>().is_err());
        assert_eq!(PartId::Segment(3).file_name(), "segment-3.svpart");
        assert_eq!(PartId::Audio.to_string(), "the audio");
    }
}
