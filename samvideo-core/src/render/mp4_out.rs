//! MP4 output: the segment workers encode in parallel and this writes their packets in
//! segment order, interleaved with the audio feed, into the MP4.
//!
//! Enter: the plan, the checked visuals and the mix. Leave: the MP4 file's size.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::mux::mp4::Mp4Writer;
use crate::plan::RenderPlan;

use super::api::{Progress, RenderError, RenderOptions};
use super::assets::Visuals;
use super::audio_feed::{AudioFeed, PlanMix};
use super::segments;

pub(super) fn write_mp4(
    plan: &RenderPlan,
    visuals: &Arc<Visuals>,
    mixer: Option<PlanMix>,
    out: &Path,
    progress: &Progress,
    options: &RenderOptions,
) -> Result<u64, RenderError> {
    let workers = if options.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        options.threads
    };
    let mut audio = mixer.map(|m| AudioFeed::new(m, plan.codec.audio())).transpose()?;
    let audio_track = audio.as_ref().and_then(AudioFeed::track);
    let mut mp4 = Mp4Writer::create(out, plan.width, plan.height, plan.fps, plan.frame_count, plan.codec, audio_track)?;
    let workers = segments::spawn(plan, visuals, workers, options);
    let segment_count = segments::segments(plan.frame_count, plan.fps).len();
    // Packets of segments that finished ahead of their turn, and which segments are done.
    let mut waiting: HashMap<usize, std::collections::VecDeque<crate::encode::Packet>> = HashMap::new();
    let mut done = vec![false; segment_count];
    let mut current = 0;
    let mut written = 0u64;
    let lead = 24_000u64; // audio runs up to 0.5 s ahead of video in the file
    while current < segment_count {
        if options.cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        match workers.rx.recv() {
            Ok(segments::WorkerMsg::Packets { segment, packets }) => {
                waiting.entry(segment).or_default().extend(packets)
            }
            Ok(segments::WorkerMsg::Done { segment }) => done[segment] = true,
            Ok(segments::WorkerMsg::Failed(e)) => return Err(e),
            Err(_) => return Err(RenderError::Pipeline("the encoder workers stopped unexpectedly")),
        }
        // Write what is due, in order: the current segment's packets, then the next ones'.
        while current < segment_count {
            for p in waiting.remove(&current).unwrap_or_default() {
                mp4.write_video(&p.data, p.keyframe)?;
                written += 1;
                progress.frame_done(written);
                if let Some(a) = audio.as_mut() {
                    a.write_until(&mut mp4, plan.fps.ticks_at(written, 48_000) + lead)?;
                }
            }
            if !done[current] {
                break;
            }
            current += 1;
        }
    }
    drop(workers);
    if written != plan.frame_count {
        return Err(RenderError::Pipeline("the encoder returned fewer frames than it was given"));
    }
    if let Some(a) = audio.as_mut() {
        a.write_until(&mut mp4, u64::MAX)?;
    }
    Ok(mp4.finish()?)
}
