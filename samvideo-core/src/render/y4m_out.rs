//! Y4M output: one compositor thread composites every frame ahead of the writer through a
//! bounded channel (repeats are sent as "same as before").
//!
//! Enter: a compositor and the plan. Leave: a YUV4MPEG2 file.

use std::path::Path;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};

use crate::compose::Compositor;
use crate::frame::{yuv::rgba_to_yuv420, Yuv420};
use crate::mux::y4m::Y4mWriter;
use crate::plan::RenderPlan;

use super::api::{CancelToken, Progress, RenderError};
use super::frames::{FrameLoop, Step};

/// What the compositor thread sends: a new frame, or "same as the previous one".
pub(super) enum FrameMsg {
    New(Box<Yuv420>),
    Repeat,
}

/// Composite every frame of the plan on its own thread, ahead of the encoder.
pub(super) fn spawn_compositor(
    comp: Compositor,
    cancel: CancelToken,
    poster: Option<PathBuf>,
) -> (Receiver<Result<FrameMsg, RenderError>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = sync_channel(4);
    let handle = std::thread::spawn(move || {
        let (width, height, frame_count) = (comp.plan().width, comp.plan().height, comp.plan().frame_count);
        let mut frames = FrameLoop::new(comp, poster);
        for n in 0..frame_count {
            if cancel.is_cancelled() {
                let _ = tx.send(Err(RenderError::Cancelled));
                return;
            }
            let msg = frames.step(n).map(|step| match step {
                Step::Repeat => FrameMsg::Repeat,
                Step::New(canvas, _) => {
                    let mut yuv = Box::new(Yuv420::new(width, height));
                    rgba_to_yuv420(canvas, &mut yuv);
                    FrameMsg::New(yuv)
                }
            });
            let failed = msg.is_err();
            if tx.send(msg).is_err() || failed {
                return;
            }
        }
    });
    (rx, handle)
}

fn next_frame(frames: &Receiver<Result<FrameMsg, RenderError>>, cancel: &CancelToken) -> Result<FrameMsg, RenderError> {
    if cancel.is_cancelled() {
        return Err(RenderError::Cancelled);
    }
    frames.recv().map_err(|_| RenderError::Pipeline("the compositor stopped unexpectedly"))?
}

pub(super) fn write_y4m(
    plan: &RenderPlan,
    frames: &Receiver<Result<FrameMsg, RenderError>>,
    out: &Path,
    progress: &Progress,
    cancel: &CancelToken,
) -> Result<u64, RenderError> {
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut w = Y4mWriter::new(file, plan.width, plan.height, plan.fps)?;
    let mut last: Option<Box<Yuv420>> = None;
    for n in 0..plan.frame_count {
        match next_frame(frames, cancel)? {
            FrameMsg::New(f) => {
                w.write_frame(&f)?;
                last = Some(f);
            }
            FrameMsg::Repeat => match &last {
                Some(f) => w.write_frame(f)?,
                None => return Err(RenderError::Pipeline("a repeated frame before the first frame")),
            },
        }
        progress.frame_done(n + 1);
    }
    w.finish()?;
    Ok(std::fs::metadata(out)?.len())
}
