//! The frame loop both outputs share (the Y4M compositor thread and every MP4 segment
//! worker): frame `n` is either a repeat of the previous frame — an unchanged still, told by
//! [`Compositor::frame_key`], costs no compositing, no conversion and no copy — or a newly
//! composited canvas.
//!
//! Enter: a [`Compositor`] and frame numbers in increasing order. Leave: a [`Step`] per
//! frame, borrowing the canvas until the next call; a media failure becomes the
//! [`RenderError`] naming the item.

use std::path::PathBuf;

use super::api::RenderError;
use super::poster::write_poster;
use crate::compose::{Compositor, FrameKey};
use crate::encode::FrameKind;
use crate::frame::Rgba;
use crate::media::MediaItemError;

/// What frame `n` needs from the encoder or writer.
pub(super) enum Step<'a> {
    /// The same picture as the previous frame.
    Repeat,
    /// A new picture, and what it is to the viewer.
    New(&'a Rgba, FrameKind),
}

/// A compositor, its canvas and the key of the last frame it produced.
pub(super) struct FrameLoop {
    comp: Compositor,
    canvas: Rgba,
    last_key: Option<FrameKey>,
    /// Where to write the poster when the plan's poster frame comes by.
    poster: Option<PathBuf>,
}

impl FrameLoop {
    /// A loop over `comp`'s frames; `poster`: write the plan's poster frame there when this
    /// loop composites it.
    pub(super) fn new(comp: Compositor, poster: Option<PathBuf>) -> Self {
        let canvas = Rgba::filled(comp.plan().width, comp.plan().height, [0, 0, 0, 255]);
        FrameLoop { comp, canvas, last_key: None, poster }
    }

    /// Frame `n`: a repeat when it shows the same still as the frame before, else composited.
    pub(super) fn step(&mut self, n: u64) -> Result<Step<'_>, RenderError> {
        let key = self.comp.frame_key(n);
        let repeat = key.is_some() && key == self.last_key;
        self.last_key = key;
        if !repeat {
            self.comp
                .render(n, &mut self.canvas)
                .map_err(|e| RenderError::Media(MediaItemError { item: e.label, url: e.url, error: e.error }))?;
        }
        // A repeat leaves the canvas holding the same picture, so the poster is right either way.
        if n == self.comp.plan().poster_frame {
            if let Some(path) = self.poster.take() {
                write_poster(&self.canvas, &path)?;
            }
        }
        Ok(if repeat {
            Step::Repeat
        } else {
            let kind = if self.comp.in_transition(n) { FrameKind::Transition } else { FrameKind::Regular };
            Step::New(&self.canvas, kind)
        })
    }
}
