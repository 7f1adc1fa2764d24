//! The compositor: draws frame `n` of a [`RenderPlan`] into an RGBA canvas.
//!
//! Enter: the plan and its media ([`Assets`]): stills as [`StillSource`]s, videos as
//! [`FrameSource`]s, overlays rasterized once, caption pages when they show
//! ([`caption::Captions`]). A still is decoded and scaled to the frame
//! when its clip is first drawn and freed when the clip ends, like a video's decoder, so
//! memory holds the clips on screen, not every clip of the video. Leave: one canvas per
//! frame, plus a [`FrameKey`] that tells the driver when a frame is identical to the previous
//! one (a still without motion, with the same overlays and the same caption state), so it is
//! not composited or converted again.

pub mod blend;
pub mod caption;
pub mod overlay;
pub mod picture;
pub mod text;
pub mod transition;

use std::sync::Arc;

use crate::frame::Rgba;
use crate::media::MediaError;
use crate::plan::{Background, Clip, ClipSource, Fit, Overlay, RenderPlan};

use caption::{CaptionKey, Captions};
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

/// Where a still's pixels come from: decoded on demand (when its clip first shows), so a
/// slideshow of 200 images holds the one or two on screen, not 200.
pub trait StillSource: Send + Sync {
    /// The picture at its own size.
    fn decode(&self) -> Result<Rgba, MediaError>;
}

/// An already decoded picture is its own source.
impl StillSource for Rgba {
    fn decode(&self) -> Result<Rgba, MediaError> {
        Ok(self.clone())
    }
}

/// Media of a plan, in plan order.
pub struct Assets {
    /// One per clip: a still source (images) or a frame source (videos).
    pub clips: Vec<ClipMedia>,
    /// Background picture or video, if the plan asks for one.
    pub background: Option<ClipMedia>,
    /// Decoded watermark image, if any.
    pub watermark: Option<Rgba>,
    /// Caption fonts fetched for `font_url`, by URL.
    pub fonts: std::collections::HashMap<String, text::Font>,
}

/// Media behind one clip.
pub enum ClipMedia {
    /// A still picture (clips sharing a URL share the source).
    Still(Arc<dyn StillSource>),
    /// A video.
    Video(Box<dyn FrameSource>),
}

enum Prepared {
    /// A still, and once drawn its frame-size picture (cover or contain already applied, or
    /// larger when zooming); `picture` is dropped when the clip ends.
    Still {
        source: Arc<dyn StillSource>,
        fit: Fit,
        zoom_max: Option<f32>,
        picture: Option<Rgba>,
    },
    Video {
        source: Box<dyn FrameSource>,
        fit: Fit,
    },
}

/// Identifies what a frame shows, when it is fully determined by static content: the clip,
/// the overlays on screen (a bit each) and the caption page with its spoken-word state.
pub type FrameKey = (usize, u64, CaptionKey);

/// Per-frame compositing state.
pub struct Compositor {
    plan: RenderPlan,
    clips: Vec<Prepared>,
    background: Option<Prepared>,
    overlays: Vec<Placed>,
    captions: Captions,
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
    /// Take the clips and rasterize the overlays of `plan` (stills are scaled on first use).
    pub fn new(plan: RenderPlan, assets: Assets) -> Self {
        let (w, h) = (plan.width, plan.height);
        let bg_color = background_color(&plan.background);
        let background = assets.background.map(|m| prepare(m, &Fit::Cover, None));
        let clips = assets
            .clips
            .into_iter()
            .zip(&plan.clips)
            .map(|(m, c)| prepare(m, &c.fit, c.zoom.map(|z| z.from.max(z.to))))
            .collect();
        let mut overlays = Vec::new();
        for o in &plan.overlays {
            match o {
                Overlay::WatermarkImage { position, size, opacity, padding, .. } => {
                    if let Some(img) = &assets.watermark {
                        let spot =
                            overlay::Spot { corner: *position, size: *size, opacity: *opacity, padding: *padding };
                        overlays.push(overlay::watermark_image(img, spot, w, h, plan.frame_count));
                    }
                }
                other => overlays.extend(overlay::place_text_overlay(other, w, h, plan.frame_count)),
            }
        }
        Compositor {
            captions: Captions::new(plan.captions.clone(), w, h).with_fonts(assets.fonts),
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
    /// Whether frame `n` is inside a transition (shows two clips).
    pub fn in_transition(&self, n: u64) -> bool {
        self.plan.clips_at(n).1.is_some()
    }

    /// `Some(key)` when frame `n` shows only static content; equal keys mean equal frames.
    pub fn frame_key(&self, n: u64) -> Option<FrameKey> {
        let i = self.plan.clips_at(n).0?;
        if self.plan.picture_moves(n) {
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
        Some((i, mask, self.captions.key(n)?))
    }

    /// Frames of `frames` that show a picture on screen for fewer than `brief` frames: every
    /// frame the compositor cannot key as static (a video or Ken Burns clip, a moving
    /// background, a transition) and a static picture that changes again sooner, such as a
    /// caption's spoken word. A hold running across the range's ends counts whole. Costs no
    /// drawing.
    pub fn frames_in_brief_pictures(&self, frames: std::ops::Range<u64>, brief: u64) -> u64 {
        let holds = |m: u64, key: &FrameKey| m < self.plan.frame_count && self.frame_key(m).as_ref() == Some(key);
        let mut count = 0;
        let mut n = frames.start;
        while n < frames.end {
            let Some(key) = self.frame_key(n) else {
                count += 1;
                n += 1;
                continue;
            };
            let mut first = n;
            while first > 0 && n - first < brief && holds(first - 1, &key) {
                first -= 1;
            }
            let mut end = n + 1;
            while end - first < brief && holds(end, &key) {
                end += 1;
            }
            if end - first < brief {
                count += end.min(frames.end) - n;
            } else {
                while end < frames.end && holds(end, &key) {
                    end += 1;
                }
            }
            n = end;
        }
        count
    }

    /// Draw frame `n` into `canvas` (frame size).
    pub fn render(&mut self, n: u64, canvas: &mut Rgba) -> Result<(), ComposeError> {
        self.release_ended(n);
        let (a, b) = self.plan.clips_at(n);
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
        self.captions.draw(n, canvas);
        Ok(())
    }

    /// Frames come in order: clips that ended before frame `n` free their decoders and
    /// scaled pictures.
    fn release_ended(&mut self, n: u64) {
        while self.released < self.clips.len() && self.plan.clips[self.released].end <= n {
            match &mut self.clips[self.released] {
                Prepared::Video { source, .. } => source.release(),
                Prepared::Still { picture, .. } => *picture = None,
            }
            self.released += 1;
        }
    }

    /// How many stills hold a scaled picture right now (memory check in tests).
    #[cfg(test)]
    fn stills_in_memory(&self) -> usize {
        self.clips
            .iter()
            .chain(&self.background)
            .filter(|p| matches!(p, Prepared::Still { picture: Some(_), .. }))
            .count()
    }

    fn bg_color(&self) -> [u8; 4] {
        background_color(&self.plan.background)
    }

    fn draw_background(&mut self, n: u64, canvas: &mut Rgba) -> Result<(), ComposeError> {
        let t = self.plan.fps.secs_of(n);
        let bg = self.bg_color();
        match &mut self.background {
            None => {
                canvas.fill(bg);
                Ok(())
            }
            Some(p) => {
                let label = "media_inputs.background";
                draw_prepared(p, t, true, canvas, &mut self.video_frame, None, bg).map_err(|error| ComposeError {
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
        let local = self.plan.fps.secs_of(n - clip.start);
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
        let bg = self.bg_color();
        draw_prepared(&mut self.clips[i], t, false, canvas, &mut self.video_frame, zoom, bg)
            .map_err(|error| ComposeError { label, url, error })
    }
}

/// The plan's background colour (black behind pictures and videos).
fn background_color(b: &Background) -> [u8; 4] {
    match b {
        Background::Color(c) => [c[0], c[1], c[2], 255],
        _ => [0, 0, 0, 255],
    }
}

fn prepare(media: ClipMedia, fit: &Fit, zoom_max: Option<f32>) -> Prepared {
    match media {
        ClipMedia::Still(source) => Prepared::Still { source, fit: *fit, zoom_max, picture: None },
        ClipMedia::Video(source) => Prepared::Video { source, fit: *fit },
    }
}

/// Scale a still to the frame (`w`x`h`, times the largest zoom) per its fit.
fn scale_still(img: &Rgba, fit: &Fit, zoom_max: Option<f32>, w: u32, h: u32, bg: [u8; 4]) -> Rgba {
    let scale = zoom_max.unwrap_or(1.0).max(1.0);
    let (zw, zh) = ((w as f32 * scale).round() as u32, (h as f32 * scale).round() as u32);
    match fit {
        Fit::Cover => picture::cover(img, zw, zh),
        Fit::Contain { blur } => {
            let mut base = if *blur { picture::blurred_cover(img, zw, zh) } else { Rgba::filled(zw, zh, bg) };
            let inside = picture::fit_inside(img, zw, zh);
            let x = (zw as i64 - inside.width as i64) / 2;
            let y = (zh as i64 - inside.height as i64) / 2;
            blend::blend_layer(&mut base, &inside, x, y, 1.0);
            base
        }
    }
}

fn draw_prepared(
    p: &mut Prepared,
    t: f64,
    looped: bool,
    canvas: &mut Rgba,
    scratch: &mut Rgba,
    zoom: Option<f32>,
    bg: [u8; 4],
) -> Result<(), MediaError> {
    match p {
        Prepared::Still { source, fit, zoom_max, picture } => {
            if picture.is_none() {
                let img = source.decode()?;
                *picture = Some(scale_still(&img, fit, *zoom_max, canvas.width, canvas.height, bg));
            }
            let Some(pic) = picture.as_ref() else { return Ok(()) };
            match zoom {
                Some(z) => picture::sample_zoomed(pic, canvas, z),
                None if pic.width == canvas.width && pic.height == canvas.height => {
                    canvas.data.copy_from_slice(&pic.data)
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{lower, LowerOptions};
    use crate::request::Endpoint;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A solid-colour still that counts its decodes (or fails, when `colour` is `None`).
    struct Counted {
        colour: Option<[u8; 4]>,
        decodes: AtomicUsize,
    }

    impl StillSource for Counted {
        fn decode(&self) -> Result<Rgba, MediaError> {
            self.decodes.fetch_add(1, Ordering::SeqCst);
            match self.colour {
                Some(c) => Ok(Rgba::filled(64, 36, c)),
                None => Err(MediaError::Decode("truncated JPEG".into())),
            }
        }
    }

    fn slideshow(colours: &[Option<[u8; 4]>]) -> (Compositor, Vec<Arc<Counted>>) {
        let items: Vec<_> = (0..colours.len())
            .map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 1}))
            .collect();
        let body = serde_json::json!({"media_list": items, "settings": {"fps": 15, "output_quality": "low"}});
        let request = crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid");
        let plan = lower(&request, &|_, _| None, &LowerOptions::default()).expect("plan");
        let sources: Vec<Arc<Counted>> =
            colours.iter().map(|c| Arc::new(Counted { colour: *c, decodes: AtomicUsize::new(0) })).collect();
        let clips = sources.iter().map(|s| ClipMedia::Still(s.clone() as Arc<dyn StillSource>)).collect();
        (Compositor::new(plan, Assets { clips, background: None, watermark: None, fonts: Default::default() }), sources)
    }

    #[test]
    fn stills_are_decoded_when_shown_and_freed_when_their_clip_ends() {
        let colours: Vec<_> = (0..6u8).map(|i| Some([40 * i, 255 - 40 * i, 90, 255])).collect();
        let (mut comp, sources) = slideshow(&colours);
        let plan = comp.plan().clone();
        let mut canvas = Rgba::filled(plan.width, plan.height, [0; 4]);
        let mut most = 0;
        for n in 0..plan.frame_count {
            comp.render(n, &mut canvas).expect("frame");
            most = most.max(comp.stills_in_memory());
            let (a, b) = comp.plan.clips_at(n);
            if let (Some(i), None) = (a, b) {
                let px = &canvas.data[(canvas.data.len() / 2) & !3..][..4];
                assert_eq!(px, colours[i].expect("colour"), "frame {n} shows clip {i}");
            }
        }
        assert!(most <= 2, "at most the two clips of a transition are in memory, saw {most}");
        for (i, s) in sources.iter().enumerate() {
            assert_eq!(s.decodes.load(Ordering::SeqCst), 1, "clip {i} decoded once");
        }
    }

    /// Issue 17: a 3-minute slideshow with 150 caption pages (300 words) keeps
    /// static-frame reuse: every frame has a key, and the key changes only when the page or
    /// its spoken word does (the 64-overlay cut-off no longer applies to captions).
    #[test]
    fn a_long_captioned_slideshow_keeps_static_frame_reuse_between_words() {
        let items: Vec<_> =
            (0..10).map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 18})).collect();
        let transcripts: Vec<_> = (0..150)
            .map(|i| serde_json::json!({"words": "two words", "start": i as f64 * 1.2, "end": i as f64 * 1.2 + 0.6}))
            .collect();
        let body = serde_json::json!({"media_list": items, "transcripts": transcripts,
            "settings": {"fps": 15, "output_quality": "low", "caption_style": "highlight"}});
        let request = crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid");
        let plan = lower(&request, &|_, _| None, &LowerOptions::default()).expect("plan");
        assert_eq!(plan.frame_count, 2700);
        assert_eq!(plan.captions.len(), 150, "a page per entry: 0.6 s pauses");
        let clips = (0..10).map(|_| ClipMedia::Still(Arc::new(Rgba::filled(4, 4, [9, 9, 9, 255])) as _)).collect();
        let comp = Compositor::new(
            plan.clone(),
            Assets { clips, background: None, watermark: None, fonts: Default::default() },
        );
        let keys: Vec<FrameKey> = (0..plan.frame_count).map(|n| comp.frame_key(n).expect("keyed")).collect();
        let changes = keys.windows(2).filter(|w| w[0] != w[1]).count();
        // Per entry: two words (a change each) and the gap after it; plus the 9 clip cuts.
        assert!(changes <= 150 * 3 + 9, "{changes} key changes in 2700 frames");
        assert!(changes >= 300, "the spoken word changes the key: {changes}");
    }

    /// Issue 18: a segment's speed follows how long its pictures stay on screen. Two stills
    /// held 2 s count only their fade's frames as brief; with `zoom_effect` every frame is; a
    /// still under highlight captions at 3 words a second is brief almost throughout.
    #[test]
    fn brief_pictures_are_zoom_fade_and_spoken_word_frames_not_held_stills() {
        let count = |settings: serde_json::Value, transcripts: serde_json::Value| {
            let items: Vec<_> = (0..2)
                .map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 5}))
                .collect();
            let body = serde_json::json!({"media_list": items, "settings": settings, "transcripts": transcripts});
            let request =
                crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid");
            let plan = lower(&request, &|_, _| None, &LowerOptions::default()).expect("plan");
            let clips = (0..2).map(|_| ClipMedia::Still(Arc::new(Rgba::filled(4, 4, [9, 9, 9, 255])) as _)).collect();
            let comp = Compositor::new(
                plan.clone(),
                Assets { clips, background: None, watermark: None, fonts: Default::default() },
            );
            let fades = (0..plan.frame_count).filter(|&n| comp.in_transition(n)).count() as u64;
            let brief = plan.fps.frames_covering(0.5);
            (comp.frames_in_brief_pictures(0..plan.frame_count, brief), fades, plan.frame_count)
        };
        let fade = serde_json::json!({"fps": 30, "output_quality": "low", "transition_type": "fade",
            "transition_duration": 0.5});
        let (held, fades, frames) = count(fade.clone(), serde_json::json!([]));
        assert_eq!((held, fades, frames), (15, 15, 285), "only the fade's 15 frames");
        let mut zoom = fade.clone();
        zoom["zoom_effect"] = serde_json::json!(true);
        assert_eq!(count(zoom, serde_json::json!([])).0, frames, "every zoomed frame");
        let words = vec!["word"; 28].join(" ");
        let mut captions = fade;
        captions["caption_style"] = serde_json::json!("highlight");
        let spoken = count(captions, serde_json::json!([{"words": words, "start": 0.0, "end": 9.3}]));
        assert!(spoken.0 * 10 >= frames * 9, "a new word every 10 frames: {} of {frames} brief", spoken.0);
        let preset = crate::plan::EncodePreset {
            speed: 7,
            motion_speed: 10,
            quantizer: 110,
            h264: crate::plan::H264Qp::around(26),
        };
        assert_eq!(preset.for_segment(frames / 2 + 1, frames).speed, 10);
        assert_eq!(preset.for_segment(held, frames).speed, 7);
        assert_eq!(preset.for_segment(0, 0).speed, 7, "an empty segment keeps the preset");
    }

    #[test]
    fn a_still_failing_to_decode_mid_render_names_its_item() {
        let (mut comp, _) = slideshow(&[Some([255, 0, 0, 255]), Some([0, 255, 0, 255]), None]);
        let plan = comp.plan().clone();
        let mut canvas = Rgba::filled(plan.width, plan.height, [0; 4]);
        let error = (0..plan.frame_count).find_map(|n| comp.render(n, &mut canvas).err()).expect("fails");
        assert_eq!(error.label, "media_list[2]");
        assert_eq!(error.url, "2.png");
        assert!(error.to_string().contains("truncated JPEG"), "{error}");
    }
}
