//! The visual timeline, step by step (`docs/timing.md`, "Visual clips"): each item's
//! seconds, voice sharing, loop-video repetition, whole frames with clamped transitions, then
//! the cuts and holds that fix the video's length.
//!
//! Enter: the [`TimelineSpec`]'s items and settings, and `duration_of` for video sources.
//! Leave: [`Clip`]s and [`Transition`]s in frames, and the frame count.

use super::spec::{direction, transition_kind, TimelineSpec};
use super::{DurationOf, LowerError, DEFAULT_IMAGE_SECONDS, DEFAULT_TRANSITION_SECONDS, VOICE_TAIL_SECONDS};
use crate::plan::{Clip, ClipSource, Fit, MediaRef, Transition, TransitionKind, Zoom};
use crate::request::{FitMode, ItemBackdrop, MediaItem, MediaKind, ZoomDirection};

/// One visual item before it is placed on the timeline.
#[derive(Clone)]
pub(super) struct Pending {
    pub label: String,
    pub item: MediaItem,
    /// Seconds on screen; NaN until an image's length is known (step 2).
    pub seconds: f64,
    pub source: ClipSource,
}

/// The transition every join uses: seconds asked (0 = hard cuts).
pub(super) fn transition_seconds(spec: &TimelineSpec) -> f64 {
    match spec.settings.transition_type {
        Some(_) => spec.settings.transition_duration.unwrap_or(DEFAULT_TRANSITION_SECONDS),
        None => 0.0,
    }
}

/// Step 1. Seconds per item: an image's `duration` > `settings.image_duration` > (unset:
/// NaN, step 2 decides); a video's `duration` > `video_loop_duration` (when `loop_video`) >
/// its source from `trim_start` to `trim_end`.
pub(super) fn item_seconds(
    spec: &TimelineSpec,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
) -> Result<Vec<Pending>, LowerError> {
    let s = &spec.settings;
    let loop_video = s.loop_video.unwrap_or(false) || spec.loop_to.is_some();
    let video_loop = s.video_loop_duration.filter(|d| *d > 0.0 && s.loop_video == Some(true));
    let mut pending = Vec::with_capacity(spec.items.len());
    for (label, item) in &spec.items {
        let explicit = item.duration.filter(|d| *d > 0.0);
        let (seconds, source) = match item.kind {
            MediaKind::Image => {
                (explicit.or(s.image_duration.filter(|d| *d > 0.0)).unwrap_or(f64::NAN), ClipSource::Image)
            }
            MediaKind::Video => {
                let trim_start = item.trim_start.unwrap_or(0.0).max(0.0);
                let source_len = duration_of(&item.url, DurationOf::Video)
                    .ok_or_else(|| LowerError::UnknownDuration { item: label.clone(), url: item.url.clone() })?;
                let trim_end = item.trim_end.filter(|e| *e > trim_start).unwrap_or(source_len).min(source_len);
                let segment = (trim_end - trim_start).max(spec.fps.secs_of(1));
                let looped = loop_video || video_loop.is_some();
                (
                    explicit.or(video_loop).unwrap_or(segment),
                    ClipSource::Video { trim_start, segment: Some(segment), looped },
                )
            }
        };
        pending.push(Pending { label: label.clone(), item: item.clone(), seconds, source });
    }
    Ok(pending)
}

/// Step 2. Images without a length share the voice-over when every image is unset (the
/// fewest whole frames that make the timeline at least `voice + 0.5 s`); otherwise they take
/// [`DEFAULT_IMAGE_SECONDS`].
pub(super) fn share_voice(
    pending: &mut [Pending],
    spec: &TimelineSpec,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
) {
    let open: Vec<usize> = (0..pending.len()).filter(|&i| pending[i].seconds.is_nan()).collect();
    if open.is_empty() {
        return;
    }
    let fps = spec.fps;
    let images = pending.iter().filter(|p| p.source == ClipSource::Image).count();
    let voice_len = spec.voice.as_ref().and_then(|(_, url, _)| duration_of(url, DurationOf::Audio));
    match voice_len {
        Some(v) if open.len() == images => {
            let lens: Vec<u64> =
                pending.iter().map(|p| if p.seconds.is_nan() { 0 } else { fps.frames_in(p.seconds).max(1) }).collect();
            let target = fps.frames_covering(v + VOICE_TAIL_SECONDS).max(1);
            let frames = share_frames(&lens, &open, target, fps.frames_in(transition_seconds(spec)));
            for (&i, f) in open.iter().zip(frames) {
                pending[i].seconds = fps.secs_of(f);
            }
        }
        _ => {
            for i in open {
                pending[i].seconds = DEFAULT_IMAGE_SECONDS;
            }
        }
    }
}

/// Most clips loop-video repeats its items into (a guard; the output length limit binds
/// long before it on any real request).
const MAX_LOOPED_CLIPS: usize = 10_000;

/// Step 3. loop-video: cycle the items until their seconds (minus transition overlaps)
/// reach `target`.
pub(super) fn repeat_until(pending: Vec<Pending>, target: f64, transition_secs: f64) -> Vec<Pending> {
    let once: f64 = pending.iter().map(|p| p.seconds).sum();
    if once <= 0.0 || once >= target {
        return pending;
    }
    let mut out = Vec::new();
    let mut total = 0.0;
    loop {
        for p in &pending {
            out.push(p.clone());
            total += p.seconds - if out.len() > 1 { transition_secs } else { 0.0 };
            if total >= target || out.len() > MAX_LOOPED_CLIPS {
                return out;
            }
        }
    }
}

/// Step 4. Whole frames: each clip `round(seconds × fps)` (at least 1), each transition the
/// asked length clamped to half of both neighbours, each clip starting where the previous
/// one's transition starts; `fit` and Ken Burns per clip.
pub(super) fn place(pending: Vec<Pending>, spec: &TimelineSpec) -> (Vec<Clip>, Vec<Transition>) {
    let (s, fps) = (&spec.settings, spec.fps);
    let lens: Vec<u64> = pending.iter().map(|p| fps.frames_in(p.seconds).max(1)).collect();
    let want_tf = fps.frames_in(transition_seconds(spec));
    let kind = s.transition_type.map(transition_kind).unwrap_or(TransitionKind::Fade);
    let dir = direction(s.transition_direction.unwrap_or_default());
    let zoom = ZoomRule::from_settings(spec);
    let mut clips: Vec<Clip> = Vec::with_capacity(pending.len());
    let mut transitions = Vec::new();
    let mut start = 0u64;
    let mut image_index = 0usize;
    for (i, p) in pending.into_iter().enumerate() {
        if let Some(prev) = clips.last() {
            let tf = want_tf.min(lens[i - 1] / 2).min(lens[i] / 2);
            start = prev.end - tf;
            transitions.push(Transition { kind, direction: dir, start, frames: tf });
        }
        let fit = match p.item.fit.unwrap_or_default() {
            FitMode::Contain => Fit::Contain { blur: p.item.background.unwrap_or_default() == ItemBackdrop::Blur },
            FitMode::Cover => Fit::Cover,
        };
        let is_image = p.source == ClipSource::Image;
        let clip_zoom = if is_image { zoom.for_image(image_index) } else { None };
        image_index += usize::from(is_image);
        clips.push(Clip {
            media: MediaRef { label: p.label, url: p.item.url },
            source: p.source,
            start,
            end: start + lens[i],
            fit,
            zoom: clip_zoom,
        });
    }
    (clips, transitions)
}

/// Ken Burns as the settings ask it.
struct ZoomRule {
    /// Largest scale (`1 + 0.3 × intensity`); None when off.
    max: Option<f32>,
    direction: ZoomDirection,
}

impl ZoomRule {
    fn from_settings(spec: &TimelineSpec) -> ZoomRule {
        let s = &spec.settings;
        let intensity = s.zoom_intensity.unwrap_or(0.5) as f32;
        let on = s.zoom_effect.unwrap_or(false) && intensity > 0.0;
        ZoomRule { max: on.then_some(1.0 + 0.3 * intensity), direction: s.zoom_direction.unwrap_or_default() }
    }

    /// The zoom of the `index`-th still (`alternate`: in on even stills).
    fn for_image(&self, index: usize) -> Option<Zoom> {
        let max = self.max?;
        let zoom_in = match self.direction {
            ZoomDirection::In => true,
            ZoomDirection::Out => false,
            ZoomDirection::Alternate => index.is_multiple_of(2),
        };
        Some(if zoom_in { Zoom { from: 1.0, to: max } } else { Zoom { from: max, to: 1.0 } })
    }
}

/// Step 5. The video's length: loop-video cuts at its `duration`, `min_video_duration`
/// extends the last clip, a preview stops at `preview_cap` frames. Answers the frame count.
pub(super) fn cut_and_hold(
    clips: &mut Vec<Clip>,
    transitions: &mut Vec<Transition>,
    spec: &TimelineSpec,
    preview_cap: Option<u64>,
) -> u64 {
    let fps = spec.fps;
    let mut frame_count = clips.last().map(|c| c.end).unwrap_or(0);
    if let Some(target) = spec.loop_to {
        frame_count = cut_at(clips, transitions, frame_count, fps.frames_in(target).max(1));
    }
    if let Some(min) = spec.settings.min_video_duration.filter(|m| *m > 0.0) {
        let min_frames = fps.frames_in(min);
        if frame_count < min_frames {
            if let Some(last) = clips.last_mut() {
                last.end = min_frames;
            }
            frame_count = min_frames;
        }
    }
    if let Some(cap) = preview_cap {
        frame_count = cut_at(clips, transitions, frame_count, cap);
    }
    frame_count
}

/// Cut the timeline to `limit` frames when it is longer: clips starting after it go, the
/// last one ends there.
fn cut_at(clips: &mut Vec<Clip>, transitions: &mut Vec<Transition>, frame_count: u64, limit: u64) -> u64 {
    if frame_count <= limit {
        return frame_count;
    }
    clips.retain(|c| c.start < limit);
    transitions.truncate(clips.len().saturating_sub(1));
    if let Some(last) = clips.last_mut() {
        last.end = last.end.min(limit);
    }
    limit
}

/// Frames of a timeline of clips `lens` joined by transitions of `want_tf` frames, each
/// clamped to half of both neighbours (as [`place`] places them).
fn timeline_frames(lens: &[u64], want_tf: u64) -> u64 {
    let overlaps: u64 = lens.windows(2).map(|w| want_tf.min(w[0] / 2).min(w[1] / 2)).sum();
    lens.iter().sum::<u64>().saturating_sub(overlaps)
}

/// Whole-frame lengths for the clips at `open` (the images sharing a voice-over) so the
/// timeline is at least `target` frames, and as short as that allows: the fewest frames in
/// total, spread evenly (the first images get the extra frame), at least one each.
fn share_frames(lens: &[u64], open: &[usize], target: u64, want_tf: u64) -> Vec<u64> {
    let n = open.len().max(1) as u64;
    let mut lens = lens.to_vec();
    let fixed: u64 = lens.iter().enumerate().filter(|(i, _)| !open.contains(i)).map(|(_, l)| *l).sum();
    // Start from no overlap; each transition can take back at most `want_tf` frames.
    let mut total = target.saturating_sub(fixed).max(n);
    let most = total + want_tf * lens.len() as u64 + n;
    loop {
        for (k, &i) in open.iter().enumerate() {
            lens[i] = total / n + u64::from((k as u64) < total % n);
        }
        if timeline_frames(&lens, want_tf) >= target || total >= most {
            return open.iter().map(|&i| lens[i]).collect();
        }
        total += 1;
    }
}
