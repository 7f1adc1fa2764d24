//! The compositor: draws frame `n` of a [`RenderPlan`] into an RGBA canvas.
//!
//! Enter: the plan and its decoded media ([`Assets`]), prepared once (stills pre-scaled to
//! the frame, overlays rasterized). Leave: one canvas per frame, plus a [`FrameKey`] that
//! tells the driver when a frame is identical to the previous one (a still without motion
//! and with the same overlays), so it is not composited or converted again.

pub mod blend;
pub mod overlay;
pub mod picture;
pub mod text;
pub mod transition;

use crate::frame::Rgba;
use crate::media::MediaError;
use crate::plan::{Background, Clip, ClipSource, Fit, Overlay, RenderPlan};

use overlay::Placed;

/// A video that can answer the frame showing at a source time (RGBA, its own size).
pub trait FrameSource: Send {
    /// Source frame size.
    fn size(&self) -> (u32, u32);
    /// Source duration in seconds.
    fn duration(&self) -> f64;
    /// The frame shown at `t` seconds (calls come with non-decreasing `t`, except when a
    /// loop restarts).
    fn frame_at(&mut self, t: f64) -> Result<&[u8], MediaError>;
    /// The clip will not be shown again: free decoder state (the next `frame_at`, if any,
    /// starts afresh).
    fn release(&mut self) {}
}

/// Decoded media of a plan, in plan order.
pub struct Assets {
    /// One per clip: the decoded picture (stills) or a frame source (videos).
    pub clips: Vec<ClipMedia>,
    /// Background picture or video, if the plan asks for one.
    pub background: Option<ClipMedia>,
    /// Decoded watermark image, if any.
    pub watermark: Option<Rgba>,
}

/// Media behind one clip.
pub enum ClipMedia {
    /// A still picture.
    Still(Rgba),
    /// A video.
    Video(Box<dyn FrameSource>),
}

enum Prepared {
    /// Frame-size picture (cover or contain already applied), or larger when zooming.
    Still(Rgba),
    Video { source: Box<dyn FrameSource>, fit: Fit },
}

/// Identifies what a frame shows, when it is fully determined by static content.
pub type FrameKey = (usize, u64);

/// Per-frame compositing state.
pub struct Compositor {
    plan: RenderPlan,
    clips: Vec<Prepared>,
    background: Option<Prepared>,
    overlays: Vec<Placed>,
    scratch_a: Rgba,
    scratch_b: Rgba,
    video_frame: Rgba,
    /// Clips before this index have ended and had their video sources released.
    released: usize,
}

/// A compositing failure (a video source failing mid-render).
#[derive(Debug, thiserror::Error)]
#[error("{label}: {error}")]
pub struct ComposeError {
    /// The failing item (`media_list[1]`).
    pub label: String,
    /// URL of the item.
    pub url: String,
    /// What went wrong.
    pub error: MediaError,
}

impl Compositor {
    /// Prepare every clip and overlay of `plan` (scaling stills once).
    pub fn new(plan: RenderPlan, assets: Assets) -> Self {
        let (w, h) = (plan.width, plan.height);
        let bg_color = match plan.background {
            Background::Color(c) => [c[0], c[1], c[2], 255],
            _ => [0, 0, 0, 255],
        };
        let background = assets.background.map(|m| prepare(m, &Fit::Cover, None, w, h, bg_color));
        let clips = assets
            .clips
            .into_iter()
            .zip(&plan.clips)
            .map(|(m, c)| prepare(m, &c.fit, c.zoom.map(|z| z.from.max(z.to)), w, h, bg_color))
            .collect();
        let mut overlays = Vec::new();
        for o in &plan.overlays {
            match o {
                Overlay::WatermarkImage { position, size, opacity, padding, .. } => {
                    if let Some(img) = &assets.watermark {
                        overlays.push(overlay::watermark_image(img, *position, *size, *opacity, *padding, w, h, plan.frame_count));
                    }
                }
                other => overlays.extend(overlay::place_text_overlay(other, w, h, plan.frame_count)),
            }
        }
        Compositor {
            scratch_a: Rgba::filled(w, h, bg_color),
            scratch_b: Rgba::filled(w, h, bg_color),
            video_frame: Rgba::filled(1, 1, [0; 4]),
            released: 0,
            plan,
            clips,
            background,
            overlays,
        }
    }

    /// The plan being rendered.
    pub fn plan(&self) -> &RenderPlan {
        &self.plan
    }

    /// Indexes of the clips shown on frame `n` (one, or two during a transition).
    fn active(&self, n: u64) -> (Option<usize>, Option<usize>) {
        let clips = &self.plan.clips;
        let i = clips.partition_point(|c| c.end <= n);
        let first = (i < clips.len() && clips[i].start <= n).then_some(i);
        let second = first.and_then(|i| (i + 1 < clips.len() && clips[i + 1].start <= n).then_some(i + 1));
        (first, second)
    }

    /// `Some(key)` when frame `n` shows only static content; equal keys mean equal frames.
    pub fn frame_key(&self, n: u64) -> Option<FrameKey> {
        let (a, b) = self.active(n);
        let i = a?;
        if b.is_some() || self.background_moves() {
            return None;
        }
        let clip = &self.plan.clips[i];
        if clip.source != ClipSource::Image || clip.zoom.is_some() {
            return None;
        }
        let mut mask = 0u64;
        for (k, o) in self.overlays.iter().enumerate() {
            if o.active(n) {
                if k >= 64 {
                    return None;
                }
                mask |= 1 << k;
            }
        }
        Some((i, mask))
    }

    fn background_moves(&self) -> bool {
        matches!(self.background, Some(Prepared::Video { .. }))
    }

    /// Draw frame `n` into `canvas` (frame size).
    pub fn render(&mut self, n: u64, canvas: &mut Rgba) -> Result<(), ComposeError> {
        self.release_ended(n);
        let (a, b) = self.active(n);
        match (a, b) {
            (None, _) => self.draw_background(n, canvas)?,
            (Some(i), None) => self.draw_clip(i, n, canvas)?,
            (Some(i), Some(j)) => {
                let mut sa = std::mem::replace(&mut self.scratch_a, Rgba::filled(1, 1, [0; 4]));
                let mut sb = std::mem::replace(&mut self.scratch_b, Rgba::filled(1, 1, [0; 4]));
                let r = self.draw_clip(i, n, &mut sa).and_then(|_| self.draw_clip(j, n, &mut sb));
                if r.is_ok() {
                    let t = self.plan.transitions[i];
                    let p = ((n - t.start) as f32 + 0.5) / t.frames.max(1) as f32;
                    transition::apply(t.kind, t.direction, &sa, &sb, p, n, canvas);
                }
                self.scratch_a = sa;
                self.scratch_b = sb;
                r?;
            }
        }
        for o in &self.overlays {
            if o.active(n) {
                o.draw(canvas);
            }
        }
        Ok(())
    }

    /// Frames come in order: clips that ended before frame `n` free their decoders.
    fn release_ended(&mut self, n: u64) {
        while self.released < self.clips.len() && self.plan.clips[self.released].end <= n {
            if let Prepared::Video { source, .. } = &mut self.clips[self.released] {
                source.release();
            }
            self.released += 1;
        }
    }

    fn draw_background(&mut self, n: u64, canvas: &mut Rgba) -> Result<(), ComposeError> {
        let t = n as f64 / self.plan.fps as f64;
        match &mut self.background {
            None => {
                let c = match self.plan.background {
                    Background::Color(c) => [c[0], c[1], c[2], 255],
                    _ => [0, 0, 0, 255],
                };
                canvas.fill(c);
                Ok(())
            }
            Some(p) => {
                let label = "media_inputs.background";
                draw_prepared(p, t, true, canvas, &mut self.video_frame, None).map_err(|error| ComposeError {
                    label: label.into(),
                    url: match &self.plan.background {
                        Background::Image(m) | Background::Video(m) => m.url.clone(),
                        Background::Color(_) => String::new(),
                    },
                    error,
                })
            }
        }
    }

    fn draw_clip(&mut self, i: usize, n: u64, canvas: &mut Rgba) -> Result<(), ComposeError> {
        let clip: &Clip = &self.plan.clips[i];
        let local = (n - clip.start) as f64 / self.plan.fps as f64;
        let len = (clip.end - clip.start).max(2) - 1;
        let zoom = clip.zoom.map(|z| z.from + (z.to - z.from) * ((n - clip.start) as f32 / len as f32).min(1.0));
        let t = match &clip.source {
            ClipSource::Image => 0.0,
            ClipSource::Video { trim_start, segment, looped } => {
                let seg = segment.unwrap_or(f64::MAX).max(1e-3);
                let within = if *looped { local % seg } else { local.min(seg) };
                trim_start + within
            }
        };
        let (label, url) = (clip.media.label.clone(), clip.media.url.clone());
        if let Prepared::Video { fit: Fit::Contain { .. }, .. } = &self.clips[i] {
            // Letterboxed video: the background shows through.
            self.draw_background(n, canvas)?;
        }
        draw_prepared(&mut self.clips[i], t, false, canvas, &mut self.video_frame, zoom)
            .map_err(|error| ComposeError { label, url, error })
    }
}

fn prepare(media: ClipMedia, fit: &Fit, zoom_max: Option<f32>, w: u32, h: u32, bg: [u8; 4]) -> Prepared {
    match media {
        ClipMedia::Still(img) => {
            let scale = zoom_max.unwrap_or(1.0).max(1.0);
            let (zw, zh) = ((w as f32 * scale).round() as u32, (h as f32 * scale).round() as u32);
            let pic = match fit {
                Fit::Cover => picture::cover(&img, zw, zh),
                Fit::Contain { blur } => {
                    let mut base = if *blur { picture::blurred_cover(&img, zw, zh) } else { Rgba::filled(zw, zh, bg) };
                    let inside = picture::fit_inside(&img, zw, zh);
                    let x = (zw as i64 - inside.width as i64) / 2;
                    let y = (zh as i64 - inside.height as i64) / 2;
                    blend::blend_layer(&mut base, &inside, x, y, 1.0);
                    base
                }
            };
            Prepared::Still(pic)
        }
        ClipMedia::Video(source) => Prepared::Video { source, fit: *fit },
    }
}

fn draw_prepared(
    p: &mut Prepared,
    t: f64,
    looped: bool,
    canvas: &mut Rgba,
    scratch: &mut Rgba,
    zoom: Option<f32>,
) -> Result<(), MediaError> {
    match p {
        Prepared::Still(pic) => {
            match zoom {
                Some(z) => picture::sample_zoomed(pic, canvas, z),
                None if pic.width == canvas.width && pic.height == canvas.height => canvas.data.copy_from_slice(&pic.data),
                None => picture::sample_zoomed(pic, canvas, 1.0),
            }
            Ok(())
        }
        Prepared::Video { source, fit } => {
            let (sw, sh) = source.size();
            let t = if looped { t % source.duration().max(1e-3) } else { t };
            let data = source.frame_at(t)?;
            scratch.width = sw;
            scratch.height = sh;
            scratch.data.clear();
            scratch.data.extend_from_slice(data);
            let (w, h) = (canvas.width, canvas.height);
            match fit {
                Fit::Cover => {
                    let scaled = picture::cover(scratch, w, h);
                    canvas.data.copy_from_slice(&scaled.data);
                }
                Fit::Contain { .. } => {
                    let inside = picture::fit_inside(scratch, w, h);
                    let x = (w as i64 - inside.width as i64) / 2;
                    let y = (h as i64 - inside.height as i64) / 2;
                    blend::blend_layer(canvas, &inside, x, y, 1.0);
                }
            }
            Ok(())
        }
    }
}
