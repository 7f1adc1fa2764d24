//! Parallel segment encoding: the frames of a plan are cut into segments of
//! [`SEGMENT_SECONDS`], each composited and encoded by an independent worker (its own
//! [`Compositor`], its own single-threaded encoder from `encode::open`, so every segment opens
//! on a key frame); the driver writes the segments' packets to the MP4 in order.
//!
//! Why: rav1e at samvideo's speeds keeps about one core busy whatever its thread count (one
//! tile at 720p, little frame parallelism), so on a 2-core machine a second encoder on the
//! next segment nearly halves the wall time. Segment boundaries depend only on the plan and
//! each encoder is single-threaded, so the output bytes are the same whatever the worker
//! count (tested).
//!
//! Enter: the plan, its [`Visuals`] (each worker makes its own [`Assets`] from them) and a
//! worker count. Leave: [`WorkerMsg`]s on a channel, packets in each segment's order; the
//! driver buffers a later segment's packets (compressed, small) until the earlier ones are
//! written. Workers stop on cancel, on the first error, or when the driver hangs up.
//!
//! [`encode_segment`] is one segment's work on its own: the workers call it, and so does a
//! segment part of a split render (`parts/`), so both encode the same packets.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::api::{CancelToken, RenderError, RenderOptions};
use super::assets::Visuals;
use super::frames::{FrameLoop, Step};
use crate::compose::Compositor;
use crate::encode::{self, Packet, StreamSpec, KEYFRAME_SECONDS};
use crate::frame::{yuv::rgba_to_yuv420, Yuv420};
use crate::plan::{RenderPlan, BRIEF_PICTURE_SECONDS};

/// Length of a segment: the encoder's longest key-frame interval, so segment starts add no
/// key frames beyond the ones a single encoder would place there at most.
pub const SEGMENT_SECONDS: u64 = KEYFRAME_SECONDS;

/// A video whose picture moves in at least half its frames ([`RenderPlan::moving_frames`]:
/// video, Ken Burns, transitions) is cut into at least this many segments, each between
/// [`MOVING_SEGMENT_MIN_SECONDS`] and [`SEGMENT_SECONDS`] long. Such a video codes every frame,
/// so its segments are long jobs whose cost follows their content (on the Ken Burns bench job a
/// 5 s segment of a zooming noisy still took 35 CPU s, one of a zooming gradient 8): with a
/// handful of segments the workers end far apart (three 10 s segments on two cores left one
/// idle for a fifth of the render). Twelve segments keep 2 to 4 workers within one short
/// segment of each other; the extra key frames cost little next to the 75 or more frames each
/// segment codes (measured in `docs/performance.md`, "Issue 18, third pass"). A slideshow of
/// held stills keeps [`SEGMENT_SECONDS`]: there one more key frame on a detailed still cost
/// 6.6 % of the file.
pub const MOVING_SEGMENTS: u64 = 12;

/// The shortest segment of a moving video (seconds): a key frame at most this often.
pub const MOVING_SEGMENT_MIN_SECONDS: f64 = 2.5;

/// The frame ranges of the segments of `plan`: [`SEGMENT_SECONDS`] long, or, when the picture
/// moves in at least half the frames, [`MOVING_SEGMENTS`] of them within
/// [`MOVING_SEGMENT_MIN_SECONDS`]..=[`SEGMENT_SECONDS`]. The plan alone decides, so the bytes
/// do not depend on the worker count.
pub fn segments(plan: &RenderPlan) -> Vec<Range<u64>> {
    let longest = plan.fps.frames_covering(SEGMENT_SECONDS as f64).max(1);
    let len = if plan.mostly_moving() {
        let shortest = plan.fps.frames_covering(MOVING_SEGMENT_MIN_SECONDS).clamp(1, longest);
        plan.frame_count.div_ceil(MOVING_SEGMENTS).clamp(shortest, longest)
    } else {
        longest
    };
    cut(plan.frame_count, len)
}

/// `frame_count` frames cut into runs of `len` (the last one shorter).
fn cut(frame_count: u64, len: u64) -> Vec<Range<u64>> {
    (0..frame_count.div_ceil(len)).map(|i| i * len..((i + 1) * len).min(frame_count)).collect()
}

/// What a worker reports.
pub enum WorkerMsg {
    /// Encoded packets of segment `segment`, in order.
    Packets { segment: usize, packets: Vec<Packet> },
    /// Segment `segment` has sent all its packets.
    Done { segment: usize },
    /// The worker stopped.
    Failed(RenderError),
}

/// Running workers; dropping this stops them and waits for them.
pub struct Workers {
    pub rx: Receiver<WorkerMsg>,
    stop: CancelToken,
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.cancel();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Start `workers` threads that take segments in order (the lowest not yet taken) until
/// none is left.
pub fn spawn(plan: &RenderPlan, visuals: &Arc<Visuals>, workers: usize, options: &RenderOptions) -> Workers {
    let segs = Arc::new(segments(plan));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = CancelToken::new();
    let (tx, rx) = channel();
    let handles = (0..workers.clamp(1, segs.len().max(1)))
        .map(|_| {
            let job = Job {
                plan: plan.clone(),
                visuals: visuals.clone(),
                segs: segs.clone(),
                next: next.clone(),
                cancel: options.cancel.clone(),
                poster: options.poster.clone(),
                stop: stop.clone(),
                tx: tx.clone(),
            };
            std::thread::spawn(move || job.run())
        })
        .collect();
    Workers { rx, stop, handles }
}

struct Job {
    plan: RenderPlan,
    visuals: Arc<Visuals>,
    segs: Arc<Vec<Range<u64>>>,
    next: Arc<AtomicUsize>,
    cancel: CancelToken,
    /// Where the worker whose segment holds the poster frame writes it.
    poster: Option<PathBuf>,
    stop: CancelToken,
    tx: Sender<WorkerMsg>,
}

impl Job {
    fn run(self) {
        loop {
            let segment = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(range) = self.segs.get(segment).cloned() else { return };
            match self.encode(segment, range) {
                Ok(()) => {
                    if self.tx.send(WorkerMsg::Done { segment }).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = self.tx.send(WorkerMsg::Failed(e));
                    return;
                }
            }
        }
    }

    fn stopped(&self) -> Result<(), RenderError> {
        if self.cancel.is_cancelled() || self.stop.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        Ok(())
    }

    /// Composite and encode the frames of one segment, sending packets as they come.
    fn encode(&self, segment: usize, range: Range<u64>) -> Result<(), RenderError> {
        let poster = self.poster.clone().filter(|_| range.contains(&self.plan.poster_frame));
        let stopped = || self.stopped();
        encode_segment(&self.plan, &self.visuals, range, poster, &stopped, &mut |p| self.send(segment, p))
    }

    fn send(&self, segment: usize, packets: &mut Vec<Packet>) -> Result<(), RenderError> {
        if packets.is_empty() {
            return Ok(());
        }
        let msg = WorkerMsg::Packets { segment, packets: std::mem::take(packets) };
        self.tx.send(msg).map_err(|_| RenderError::Cancelled)
    }
}

/// Composite and encode the frames `range` of `plan` as one segment (its own compositor and
/// encoder, opening on a key frame), handing the packets to `sink` as they come out (it takes
/// them from the vector). `poster`: write the poster here when this segment composites the
/// plan's poster frame. `stopped` is asked before each frame and while draining.
pub(super) fn encode_segment(
    plan: &RenderPlan,
    visuals: &Visuals,
    range: Range<u64>,
    poster: Option<PathBuf>,
    stopped: &dyn Fn() -> Result<(), RenderError>,
    sink: &mut dyn FnMut(&mut Vec<Packet>) -> Result<(), RenderError>,
) -> Result<(), RenderError> {
    let comp = Compositor::new(plan.clone(), visuals.assets());
    let brief = comp.frames_in_brief_pictures(range.clone(), plan.fps.frames_covering(BRIEF_PICTURE_SECONDS));
    let preset = plan.preset.for_segment(brief, range.end - range.start);
    let mut frames = FrameLoop::new(comp, poster);
    let mut encoder = encode::open(&StreamSpec { preset, ..StreamSpec::of(plan) }, 1)?;
    let mut yuv = Yuv420::new(plan.width, plan.height);
    let mut packets = Vec::new();
    for n in range {
        stopped()?;
        match frames.step(n)? {
            Step::Repeat => encoder.repeat()?,
            Step::New(canvas, kind) => {
                rgba_to_yuv420(canvas, &mut yuv);
                encoder.send(&yuv, kind)?;
            }
        }
        encoder.receive(&mut packets)?;
        sink(&mut packets)?;
    }
    encoder.flush();
    loop {
        stopped()?;
        let more = encoder.receive(&mut packets)?;
        sink(&mut packets)?;
        if !more {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame_rate::FrameRate;
    use crate::plan::{lower, LowerOptions};
    use crate::request::Endpoint;

    /// The plan of `stills` stills of 5 s each with 0.5 s fades, 30 fps.
    fn slideshow(stills: usize, zoom: bool) -> RenderPlan {
        let items: Vec<_> = (0..stills)
            .map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 5}))
            .collect();
        let settings = serde_json::json!({"fps": 30, "transition_type": "fade", "transition_duration": 0.5,
            "zoom_effect": zoom});
        let body = serde_json::json!({"media_list": items, "settings": settings});
        let request = crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid");
        lower(&request, &|_, _| None, &LowerOptions::default()).expect("plan")
    }

    #[test]
    fn a_moving_video_gets_twelve_shorter_segments_a_slideshow_of_held_stills_does_not() {
        let held = slideshow(4, false);
        assert_eq!(held.frame_count, 555, "4 x 5 s less 3 fades of 15 frames");
        assert_eq!(held.moving_frames(), 45, "the fades");
        assert_eq!(segments(&held), vec![0..300, 300..555]);
        let zooming = slideshow(4, true);
        assert_eq!(zooming.moving_frames(), zooming.frame_count);
        // 555 / 12 is 46.25 frames, under 2.5 s: 75-frame segments.
        let cuts: Vec<u64> = segments(&zooming).iter().map(|r| r.start).collect();
        assert_eq!(cuts, (0..555).step_by(75).collect::<Vec<_>>());
        let mid_zoom = slideshow(12, true);
        assert_eq!(mid_zoom.frame_count, 1635);
        let lens: Vec<u64> = segments(&mid_zoom).iter().map(|r| r.end - r.start).collect();
        assert_eq!(lens, [[137u64; 11].as_slice(), &[128]].concat(), "12 segments of 1635 / 12 frames, rounded up");
        let long_zoom = slideshow(30, true);
        assert_eq!(long_zoom.frame_count, 4065);
        assert_eq!(segments(&long_zoom).len(), 14, "at most 10 s each");
        let long_held = slideshow(30, false);
        assert_eq!(segments(&long_held).len(), 14, "10 s each");
    }

    /// Frames of a 10 s segment.
    fn ten(fps: FrameRate) -> u64 {
        fps.frames_covering(SEGMENT_SECONDS as f64)
    }

    #[test]
    fn segments_cover_every_frame_once_in_key_frame_intervals() {
        assert_eq!(cut(0, ten(FrameRate::whole(30))), Vec::<Range<u64>>::new());
        assert_eq!(cut(300, ten(FrameRate::whole(30))), vec![0..300]);
        assert_eq!(cut(301, ten(FrameRate::whole(30))), vec![0..300, 300..301]);
        assert_eq!(cut(900, ten(FrameRate::whole(30))), vec![0..300, 300..600, 600..900]);
        assert_eq!(cut(5, ten(FrameRate::whole(15))), vec![0..5]);
        // 10 s at 29.97 is 299.7 frames: a segment is the 300 frames that cover it, the encoder's
        // longest key-frame interval (also `frames_covering(10)`).
        let ntsc = FrameRate::from_number(29.97).expect("rate");
        assert_eq!(cut(601, ten(ntsc)), vec![0..300, 300..600, 600..601]);
        let ntsc60 = FrameRate::from_number(59.94).expect("rate");
        assert_eq!(cut(600, ten(ntsc60)), vec![0..600]);
    }
}
