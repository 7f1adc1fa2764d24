//! Overlays (`docs/timing.md`, "Overlays"): the watermark and text bands, in drawing order,
//! sized for the output frame, and the captions' safe area (captions: `captions.rs`).
//!
//! Enter: the [`TimelineSpec`], the frame's short side and the video's frame count. Leave:
//! [`Overlay`]s in frames and pixels.

use super::spec::{corner, vertical, TimelineSpec};
use crate::plan::{MediaRef, Overlay, SafeArea, TextStyle};
use crate::request::{AspectRatio, TextBackground};

/// Watermark width as a fraction of the frame width, when not asked.
const WATERMARK_SIZE: f32 = 0.15;
/// Watermark opacity, when not asked.
const WATERMARK_OPACITY: f32 = 0.7;
/// Watermark distance from the edges in pixels, when not asked.
const WATERMARK_PADDING: f64 = 20.0;
/// `text_overlays` font size as a fraction of the short side.
const BAND_FONT: f32 = 0.055;
/// Outline of a band without a background, as a fraction of the short side.
const BAND_STROKE: f32 = 0.004;

/// Where captions stay. 9:16: clear of the TikTok / Instagram Reels / YouTube Shorts UI (the
/// caption, buttons and progress bar along the bottom and right, the tabs along the top; see
/// `docs/captions.md`); 16:9 and 1:1: title-safe (the central 90 %).
pub(super) fn caption_safe_area(aspect: AspectRatio) -> SafeArea {
    match aspect {
        AspectRatio::Portrait => SafeArea { left: 0.06, right: 0.86, top: 0.12, bottom: 0.80 },
        AspectRatio::Landscape | AspectRatio::Square => SafeArea { left: 0.05, right: 0.95, top: 0.05, bottom: 0.95 },
    }
}

/// Step 6. What is drawn over the clips, in order: watermark, text bands (then the captions).
pub(super) fn overlays(spec: &TimelineSpec, short_px: f32, frame_count: u64) -> Vec<Overlay> {
    let s = &spec.settings;
    let mut overlays = Vec::new();
    let position = corner(s.watermark_position.unwrap_or_default());
    let size = s.watermark_size.map_or(WATERMARK_SIZE, |v| v as f32);
    let opacity = s.watermark_opacity.map_or(WATERMARK_OPACITY, |v| v as f32);
    let padding = s.watermark_padding.unwrap_or(WATERMARK_PADDING).round() as u32;
    if let Some(url) = &s.watermark_url {
        let media = MediaRef { label: "settings.watermark_url".into(), url: url.clone() };
        overlays.push(Overlay::WatermarkImage { media, position, size, opacity, padding });
    } else if let Some(text) = s.watermark_text.as_ref().filter(|t| !t.trim().is_empty()) {
        overlays.push(Overlay::WatermarkText { text: text.clone(), position, size, opacity, padding });
    }
    for o in &s.text_overlays {
        let box_color = match o.background.unwrap_or_default() {
            TextBackground::None => [0, 0, 0, 0],
            TextBackground::Black => [0, 0, 0, 255],
            TextBackground::SemiTransparent => [0, 0, 0, 128],
        };
        let style = TextStyle {
            font_px: short_px * BAND_FONT,
            color: [255, 255, 255, 255],
            box_color,
            stroke: ([0, 0, 0, 255], if box_color[3] == 0 { short_px * BAND_STROKE } else { 0.0 }),
            position: vertical(o.position.unwrap_or_default()),
        };
        overlays.push(Overlay::Text { text: o.text.clone(), style, start: 0, end: frame_count });
    }
    overlays
}
