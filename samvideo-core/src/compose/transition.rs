//! Transitions between two full frames: fade, wipe, slide, zoom, glitch.
//!
//! Enter: the outgoing frame `a`, the incoming frame `b` (both the output size) and the
//! progress `p` in (0, 1). Leave: the blend written into `out`. Directions are the
//! direction of motion: a wipe or slide `left` moves leftward, so the incoming picture
//! appears first at the right edge.

use crate::frame::Rgba;
use crate::plan::{Direction, TransitionKind};

use super::picture::sample_zoomed;

/// Blend `a` into `b` at progress `p` with `kind`; `frame` seeds the glitch pattern.
pub fn apply(kind: TransitionKind, dir: Direction, a: &Rgba, b: &Rgba, p: f32, frame: u64, out: &mut Rgba) {
    let p = p.clamp(0.0, 1.0);
    match kind {
        TransitionKind::Fade => fade(&a.data, &b.data, p, &mut out.data),
        TransitionKind::Wipe => wipe(a, b, p, dir, out),
        TransitionKind::Slide => slide(a, b, p, dir, out),
        TransitionKind::Zoom => zoom(a, b, p, out),
        TransitionKind::Glitch => glitch(a, b, p, frame, out),
    }
}

/// Cross-fade: `out = a * (1 - p) + b * p`, per byte, 8-bit weights.
pub fn fade(a: &[u8], b: &[u8], p: f32, out: &mut [u8]) {
    let wb = (p * 256.0).round() as u32;
    let wa = 256 - wb;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = ((x as u32 * wa + y as u32 * wb + 128) >> 8) as u8;
    }
}

fn wipe(a: &Rgba, b: &Rgba, p: f32, dir: Direction, out: &mut Rgba) {
    let (w, h) = (a.width as usize, a.height as usize);
    match dir {
        Direction::Left | Direction::Right => {
            let edge = (p * w as f32).round() as usize;
            // Left: b occupies the rightmost `edge` columns.
            let (b_from, b_to) = if dir == Direction::Left { (w - edge, w) } else { (0, edge) };
            for y in 0..h {
                let r = y * w * 4..(y + 1) * w * 4;
                let (ra, rb, ro) = (&a.data[r.clone()], &b.data[r.clone()], &mut out.data[r]);
                ro.copy_from_slice(ra);
                ro[b_from * 4..b_to * 4].copy_from_slice(&rb[b_from * 4..b_to * 4]);
            }
        }
        Direction::Up | Direction::Down => {
            let edge = (p * h as f32).round() as usize;
            let (b_from, b_to) = if dir == Direction::Up { (h - edge, h) } else { (0, edge) };
            for y in 0..h {
                let r = y * w * 4..(y + 1) * w * 4;
                let src = if (b_from..b_to).contains(&y) { &b.data[r.clone()] } else { &a.data[r.clone()] };
                out.data[r].copy_from_slice(src);
            }
        }
    }
}

fn slide(a: &Rgba, b: &Rgba, p: f32, dir: Direction, out: &mut Rgba) {
    let (w, h) = (a.width as usize, a.height as usize);
    // Ease in-out so the push starts and lands softly.
    let e = p * p * (3.0 - 2.0 * p);
    match dir {
        Direction::Left | Direction::Right => {
            let shift = (e * w as f32).round() as usize;
            for y in 0..h {
                let r = y * w * 4..(y + 1) * w * 4;
                let (ra, rb) = (&a.data[r.clone()], &b.data[r.clone()]);
                let ro = &mut out.data[r];
                if dir == Direction::Left {
                    // a moves left by `shift`, b follows from the right.
                    ro[..(w - shift) * 4].copy_from_slice(&ra[shift * 4..]);
                    ro[(w - shift) * 4..].copy_from_slice(&rb[..shift * 4]);
                } else {
                    ro[shift * 4..].copy_from_slice(&ra[..(w - shift) * 4]);
                    ro[..shift * 4].copy_from_slice(&rb[(w - shift) * 4..]);
                }
            }
        }
        Direction::Up | Direction::Down => {
            let shift = (e * h as f32).round() as usize;
            for y in 0..h {
                let (src, sy) = if dir == Direction::Up {
                    if y + shift < h {
                        (a, y + shift)
                    } else {
                        (b, y + shift - h)
                    }
                } else if y >= shift {
                    (a, y - shift)
                } else {
                    (b, h - shift + y)
                };
                out.data[y * w * 4..(y + 1) * w * 4].copy_from_slice(&src.data[sy * w * 4..(sy + 1) * w * 4]);
            }
        }
    }
}

fn zoom(a: &Rgba, b: &Rgba, p: f32, out: &mut Rgba) {
    // The outgoing picture pushes in (1x -> 1.5x) while the incoming one fades up.
    let mut zoomed = Rgba { width: a.width, height: a.height, data: vec![0; a.data.len()] };
    sample_zoomed(a, &mut zoomed, 1.0 + 0.5 * p);
    let e = p * p * (3.0 - 2.0 * p);
    fade(&zoomed.data, &b.data, e, &mut out.data);
}

/// Deterministic per-(frame, band) noise.
fn hash(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn glitch(a: &Rgba, b: &Rgba, p: f32, frame: u64, out: &mut Rgba) {
    let (w, h) = (a.width as usize, a.height as usize);
    // Strength peaks in the middle; the picture switches at p = 0.5, with bands of the
    // other picture leaking in around the switch.
    let strength = 1.0 - (2.0 * p - 1.0).abs();
    let band_h = (h / 24).max(2);
    let max_shift = (w as f32 * 0.08 * strength) as i64;
    let split = (w as f32 * 0.012 * strength) as usize;
    for band in 0..h.div_ceil(band_h) {
        let r = hash(frame.wrapping_mul(7919) ^ band as u64);
        let shift = if max_shift > 0 { (r % (2 * max_shift as u64 + 1)) as i64 - max_shift } else { 0 };
        let leak = (r >> 20) as f32 / (1u64 << 44) as f32; // 0..1
        let use_b = if p < 0.5 { leak < strength * 0.5 * (p * 2.0) } else { leak > strength * 0.5 * (2.0 - p * 2.0) };
        let src = if use_b { b } else { a };
        for y in band * band_h..((band + 1) * band_h).min(h) {
            let row = &src.data[y * w * 4..(y + 1) * w * 4];
            let ro = &mut out.data[y * w * 4..(y + 1) * w * 4];
            for x in 0..w {
                let sx = (x as i64 - shift).clamp(0, w as i64 - 1) as usize;
                let rx = (sx + split).min(w - 1);
                let bx = sx.saturating_sub(split);
                ro[x * 4] = row[rx * 4];
                ro[x * 4 + 1] = row[sx * 4 + 1];
                ro[x * 4 + 2] = row[bx * 4 + 2];
                ro[x * 4 + 3] = 255;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> (Rgba, Rgba, Rgba) {
        (
            Rgba::filled(16, 8, [255, 0, 0, 255]),
            Rgba::filled(16, 8, [0, 0, 255, 255]),
            Rgba::filled(16, 8, [0, 0, 0, 0]),
        )
    }

    #[test]
    fn fade_midpoint_is_half_and_half() {
        let (a, b, mut out) = two();
        apply(TransitionKind::Fade, Direction::Left, &a, &b, 0.5, 0, &mut out);
        assert_eq!(out.pixel(3, 3), [128, 0, 128, 255]);
    }

    #[test]
    fn wipe_left_reveals_the_right_side_first() {
        let (a, b, mut out) = two();
        apply(TransitionKind::Wipe, Direction::Left, &a, &b, 0.25, 0, &mut out);
        assert_eq!(out.pixel(15, 4), [0, 0, 255, 255]);
        assert_eq!(out.pixel(0, 4), [255, 0, 0, 255]);
        apply(TransitionKind::Wipe, Direction::Up, &a, &b, 0.25, 0, &mut out);
        assert_eq!(out.pixel(5, 7), [0, 0, 255, 255]);
        assert_eq!(out.pixel(5, 0), [255, 0, 0, 255]);
    }

    #[test]
    fn slide_right_brings_b_in_from_the_left() {
        let (a, b, mut out) = two();
        apply(TransitionKind::Slide, Direction::Right, &a, &b, 0.3, 0, &mut out);
        assert_eq!(out.pixel(0, 4), [0, 0, 255, 255]);
        assert_eq!(out.pixel(15, 4), [255, 0, 0, 255]);
    }

    #[test]
    fn glitch_ends_on_b_and_is_deterministic() {
        let (a, b, mut out) = two();
        apply(TransitionKind::Glitch, Direction::Left, &a, &b, 0.999, 9, &mut out);
        assert_eq!(out.pixel(8, 4), [0, 0, 255, 255]);
        let mut again = out.clone();
        apply(TransitionKind::Glitch, Direction::Left, &a, &b, 0.4, 9, &mut out);
        apply(TransitionKind::Glitch, Direction::Left, &a, &b, 0.4, 9, &mut again);
        assert_eq!(out, again);
    }
}
