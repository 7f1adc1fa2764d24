//! Overlay layers (watermarks, text bands) built once per render and placed.
//!
//! Enter: a plan [`Overlay`] and the frame size (and the decoded watermark image). Leave: a
//! [`Placed`] layer with its position, opacity and frame window, blended per frame.

use crate::frame::Rgba;
use crate::plan::{Corner, VerticalPosition};
use crate::plan::{Overlay, TextStyle};

use super::blend::blend_layer;
use super::picture::resize;
use super::text::text_layer;

/// A ready layer: draw `layer` at (`x`, `y`) with `opacity` on frames `start..end`.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Pixels.
    pub layer: Rgba,
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// 0..1.
    pub opacity: f32,
    /// First frame.
    pub start: u64,
    /// One past the last frame.
    pub end: u64,
}

impl Placed {
    /// Is the layer shown on frame `n`?
    pub fn active(&self, n: u64) -> bool {
        (self.start..self.end).contains(&n)
    }

    /// Blend onto the canvas.
    pub fn draw(&self, canvas: &mut Rgba) {
        blend_layer(canvas, &self.layer, self.x, self.y, self.opacity);
    }
}

fn corner_xy(corner: Corner, fw: u32, fh: u32, w: u32, h: u32, pad: u32) -> (i64, i64) {
    let (fw, fh, w, h, pad) = (fw as i64, fh as i64, w as i64, h as i64, pad as i64);
    match corner {
        Corner::TopLeft => (pad, pad),
        Corner::TopRight => (fw - w - pad, pad),
        Corner::BottomLeft => (pad, fh - h - pad),
        Corner::BottomRight => (fw - w - pad, fh - h - pad),
        Corner::Center => ((fw - w) / 2, (fh - h) / 2),
    }
}

/// Where a watermark sits and how it looks: the corner, its width as a share of the frame
/// width, its opacity and the padding from the frame edges in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Spot {
    /// Corner (or centre) of the frame.
    pub corner: Corner,
    /// Width as a share of the frame width.
    pub size: f32,
    /// 0..1.
    pub opacity: f32,
    /// Pixels from the frame edges.
    pub padding: u32,
}

/// Build the placed layer of a watermark image on an `fw` x `fh` frame, shown for `frames`.
pub fn watermark_image(img: &Rgba, spot: Spot, fw: u32, fh: u32, frames: u64) -> Placed {
    let Spot { corner, size, opacity, padding } = spot;
    let w = ((fw as f32 * size.clamp(0.01, 1.0)).round() as u32).clamp(1, fw);
    let h = ((w as f64 * img.height as f64 / img.width.max(1) as f64).round() as u32).clamp(1, fh);
    let layer = resize(img, w, h, None);
    let (x, y) = corner_xy(corner, fw, fh, w, h, padding);
    Placed { layer, x, y, opacity, start: 0, end: frames }
}

/// Build the placed layer of a text watermark: white text with a dark outline, its block
/// at most `size` of the frame width.
pub fn watermark_text(text: &str, spot: Spot, fw: u32, fh: u32, frames: u64) -> Placed {
    let Spot { corner, size, opacity, padding } = spot;
    let short = fw.min(fh) as f32;
    let max_w = ((fw as f32 * size.clamp(0.05, 1.0)) as u32).max(8);
    let mut font_px = short * 0.045;
    let mut layer = text_layer(text, font_px, max_w, [255, 255, 255, 255], ([0, 0, 0, 200], (font_px / 14.0).max(1.0)));
    // Shrink until it fits on few lines.
    while layer.height as f32 > font_px * 2.8 && font_px > 10.0 {
        font_px *= 0.8;
        layer = text_layer(text, font_px, max_w, [255, 255, 255, 255], ([0, 0, 0, 200], (font_px / 14.0).max(1.0)));
    }
    let (x, y) = corner_xy(corner, fw, fh, layer.width, layer.height, padding);
    Placed { layer, x, y, opacity, start: 0, end: frames }
}

/// Build a text band: full width, 6 % of the height from its edge (`text_overlays`).
pub fn text_block(text: &str, style: &TextStyle, fw: u32, fh: u32, start: u64, end: u64) -> Placed {
    let pad = (style.font_px * 0.35).round().max(2.0) as u32;
    let max_w = ((fw as f32 * 0.9) as u32).max(16);
    let glyphs = text_layer(text, style.font_px, max_w, style.color, style.stroke);
    let (w, h) = (fw, glyphs.height + 2 * pad);
    let mut layer = Rgba::filled(w, h, [0, 0, 0, 0]);
    if style.box_color[3] > 0 {
        let c = style.box_color;
        for px in layer.data.chunks_exact_mut(4) {
            px.copy_from_slice(&c);
        }
    }
    // Text over the box: blend into a copy that keeps the box alpha.
    let gx = (w as i64 - glyphs.width as i64) / 2;
    let gy = pad as i64;
    compose_over(&mut layer, &glyphs, gx, gy);
    let margin = (fh as f32 * 0.06) as i64;
    let y = match style.position {
        VerticalPosition::Top => margin,
        VerticalPosition::Middle => (fh as i64 - h as i64) / 2,
        VerticalPosition::Bottom => fh as i64 - h as i64 - margin,
    };
    Placed { layer, x: 0, y, opacity: 1.0, start, end }
}

/// "Over" for two straight-alpha layers (unlike [`blend_layer`], keeps transparency).
fn compose_over(dst: &mut Rgba, src: &Rgba, x: i64, y: i64) {
    for sy in 0..src.height as i64 {
        let dy = y + sy;
        if dy < 0 || dy >= dst.height as i64 {
            continue;
        }
        for sx in 0..src.width as i64 {
            let dx = x + sx;
            if dx < 0 || dx >= dst.width as i64 {
                continue;
            }
            let s = &src.data[((sy * src.width as i64 + sx) * 4) as usize..][..4];
            let di = ((dy * dst.width as i64 + dx) * 4) as usize;
            let d = &mut dst.data[di..di + 4];
            let sa = s[3] as u32;
            let da = d[3] as u32;
            let oa = sa + da * (255 - sa) / 255;
            if oa == 0 {
                continue;
            }
            for c in 0..3 {
                d[c] = ((s[c] as u32 * sa + d[c] as u32 * da * (255 - sa) / 255) / oa) as u8;
            }
            d[3] = oa as u8;
        }
    }
}

/// Place every non-image overlay of the plan (image watermarks need their decoded
/// picture: see [`watermark_image`]).
pub fn place_text_overlay(o: &Overlay, fw: u32, fh: u32, frames: u64) -> Option<Placed> {
    match o {
        Overlay::WatermarkText { text, position, size, opacity, padding } => {
            let spot = Spot { corner: *position, size: *size, opacity: *opacity, padding: *padding };
            Some(watermark_text(text, spot, fw, fh, frames))
        }
        Overlay::Text { text, style, start, end } => Some(text_block(text, style, fw, fh, *start, *end)),
        Overlay::WatermarkImage { .. } => None,
    }
}
