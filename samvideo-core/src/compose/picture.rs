//! Fitting pictures to the frame: cover-crop, contain over a blurred copy, and Ken Burns
//! sampling with sub-pixel bilinear filtering.
//!
//! Enter: decoded [`Rgba`] pictures. Leave: pictures of the frame size (or larger, for
//! zooming), resized once with `fast_image_resize` (Lanczos3), then sampled per frame.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::U8x4;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use crate::frame::Rgba;

/// Resize `src` to exactly `w`x`h`, first cropping the centred region of the target
/// aspect ratio (cover). Alpha-aware.
pub fn cover(src: &Rgba, w: u32, h: u32) -> Rgba {
    let (sw, sh) = (src.width as f64, src.height as f64);
    let scale = (w as f64 / sw).max(h as f64 / sh);
    let (cw, ch) = (w as f64 / scale, h as f64 / scale);
    let (left, top) = ((sw - cw) / 2.0, (sh - ch) / 2.0);
    resize(src, w, h, Some((left, top, cw, ch)))
}

/// Resize `src` to fit inside `w`x`h` keeping its aspect ratio.
pub fn fit_inside(src: &Rgba, w: u32, h: u32) -> Rgba {
    let scale = (w as f64 / src.width as f64).min(h as f64 / src.height as f64);
    let nw = ((src.width as f64 * scale).round() as u32).clamp(1, w);
    let nh = ((src.height as f64 * scale).round() as u32).clamp(1, h);
    resize(src, nw, nh, None)
}

/// Resize with an optional source crop (left, top, width, height) in source pixels.
pub fn resize(src: &Rgba, w: u32, h: u32, crop: Option<(f64, f64, f64, f64)>) -> Rgba {
    let w = w.max(1);
    let h = h.max(1);
    if src.width == w && src.height == h && crop.is_none() {
        return src.clone();
    }
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let Some((l, t, cw, ch)) = crop {
        options = options.crop(l, t, cw, ch);
    }
    // The typed call compiles fast_image_resize's RGBA8 path only; the untyped `resize`
    // instantiates all thirteen pixel formats here (half of this crate's machine code).
    let mut data = vec![0u8; w as usize * h as usize * 4];
    let ok =
        TypedImageRef::<U8x4>::from_buffer(src.width, src.height, &src.data).map_err(|e| e.to_string()).and_then(|s| {
            let mut d = TypedImage::<U8x4>::from_buffer(w, h, &mut data).map_err(|e| e.to_string())?;
            Resizer::new().resize_typed(&s, &mut d, &options).map_err(|e| e.to_string())
        });
    if ok.is_err() {
        // Only reachable with a mis-sized buffer, which `Rgba` construction prevents;
        // degrade to a grey frame rather than abort a render.
        return Rgba::filled(w, h, [128, 128, 128, 255]);
    }
    Rgba { width: w, height: h, data }
}

/// A cheap, strong blur: shrink to 1/16 then stretch back (bilinear through Lanczos).
pub fn blurred_cover(src: &Rgba, w: u32, h: u32) -> Rgba {
    let small = cover(src, (w / 24).max(2), (h / 24).max(2));
    let mut out = resize(&small, w, h, None);
    // Darken slightly so the sharp picture stands out.
    for px in out.data.chunks_exact_mut(4) {
        px[0] = (px[0] as u16 * 3 / 4) as u8;
        px[1] = (px[1] as u16 * 3 / 4) as u8;
        px[2] = (px[2] as u16 * 3 / 4) as u8;
        px[3] = 255;
    }
    out
}

/// Draw `src` scaled by `scale` around the centre of `dst` (same aspect ratio, `src` at
/// least as large as `dst / scale`), with bilinear sampling. `scale` 1.0 maps `src`'s
/// full extent onto `dst`; 1.3 shows the central 1/1.3 of it.
///
/// Separable, in two passes per output row: `lerp_rows` blends the two source rows under
/// it (only the columns the row reads), then `lerp_columns` blends neighbouring pixels of
/// that row at the per-column positions and weights of `ColumnTaps`, computed once per
/// frame. Weights are 8-bit; the row blend is rounded to 8 bits, so a pixel may differ by 1
/// from a single-rounding blend.
pub fn sample_zoomed(src: &Rgba, dst: &mut Rgba, scale: f32) {
    let (sw, sh, dw) = (src.width as usize, src.height as usize, dst.width as usize);
    if sw == 0 || sh == 0 || dw == 0 {
        return;
    }
    let scale = scale.max(1e-3) as f64;
    let sx = sw as f64 / dw as f64 / scale;
    let sy = sh as f64 / dst.height as f64 / scale;
    let x0 = sw as f64 / 2.0 - dw as f64 / 2.0 * sx;
    let y0 = sh as f64 / 2.0 - dst.height as f64 / 2.0 * sy;
    let taps = ColumnTaps::new(sw, dw, x0 + 0.5 * sx - 0.5, sx);
    // The source columns the rows read, plus one spare pixel for a right tap of weight 0.
    let mut blended = vec![[0u8; 4]; taps.span];
    let read = (sw - taps.first).min(taps.span) * 4;
    for (y, row) in dst.data.chunks_exact_mut(dw * 4).enumerate() {
        let (top, bottom, w) = row_tap(y0 + (y as f64 + 0.5) * sy - 0.5, sh);
        let top = &src.data[(top * sw + taps.first) * 4..][..read];
        let bottom = &src.data[(bottom * sw + taps.first) * 4..][..read];
        lerp_rows(top, bottom, w, &mut blended.as_flattened_mut()[..read]);
        sample_row(&blended, &taps, row);
    }
}

/// Pixels blended per step of [`lerp_columns`]: 16 bytes, one SSE2/NEON register of u8
/// lanes (two of u16) that the compiler vectorizes without `std::simd`.
const GROUP: usize = 4;

/// Where each output column reads a blended row: left tap `left[i]` (an index into the
/// columns from `first`), right tap `left[i] + 1`, and the 8-bit weights of both, repeated
/// per channel so the column blend runs over plain lanes.
struct ColumnTaps {
    /// First source column read.
    first: usize,
    /// Source columns read, from `first`, plus one (the right tap of the last column).
    span: usize,
    left: Vec<u32>,
    weight_left: Vec<u16>,
    weight_right: Vec<u16>,
}

impl ColumnTaps {
    /// Output column `i` samples source x = `fx0 + i * step`, clamped to the row. The
    /// position walks in 16.16 fixed point (neighbouring frames move smoothly) and the
    /// weight is its top 8 fractional bits.
    fn new(sw: usize, dw: usize, fx0: f64, step: f64) -> ColumnTaps {
        let max_x = ((sw - 1) as i64) << 16;
        let step = (step * 65536.0) as i64;
        let mut fx = (fx0 * 65536.0) as i64;
        let mut xs = Vec::with_capacity(dw);
        let mut weight_left = Vec::with_capacity(dw * 4);
        let mut weight_right = Vec::with_capacity(dw * 4);
        for _ in 0..dw {
            let x = fx.clamp(0, max_x);
            // At the right edge x = max_x, so the weight of the (spare) right tap is 0.
            let w = ((x >> 8) & 0xff) as u16;
            xs.push((x >> 16) as usize);
            weight_left.extend([256 - w; 4]);
            weight_right.extend([w; 4]);
            fx += step;
        }
        let first = xs.first().copied().unwrap_or(0);
        let last = xs.last().copied().unwrap_or(0);
        let left = xs.iter().map(|&x| (x - first) as u32).collect();
        ColumnTaps { first, span: last + 2 - first, left, weight_left, weight_right }
    }
}

/// The two source rows around `fy` (clamped to the picture) and the 8-bit weight of the
/// lower one.
fn row_tap(fy: f64, sh: usize) -> (usize, usize, u16) {
    let fy = fy.clamp(0.0, (sh - 1) as f64);
    let top = fy.floor() as usize;
    (top, (top + 1).min(sh - 1), ((fy - top as f64) * 256.0) as u16)
}

/// `out = top * (256 - w) + bottom * w`, rounded to 8 bits, lane by lane (`w` ≤ 256).
fn lerp_rows(top: &[u8], bottom: &[u8], w: u16, out: &mut [u8]) {
    let wt = 256 - w;
    for ((o, &a), &b) in out.iter_mut().zip(top).zip(bottom) {
        *o = ((a as u16 * wt + b as u16 * w + 128) >> 8) as u8;
    }
}

/// One output row from its blended source row: whole groups of [`GROUP`] pixels, then the
/// remaining pixels one at a time.
fn sample_row(blended: &[[u8; 4]], taps: &ColumnTaps, out: &mut [u8]) {
    let whole = out.len() / 4 / GROUP * GROUP;
    let (out_groups, out_rest) = out.split_at_mut(whole * 4);
    let (left_groups, left_rest) = taps.left.split_at(whole);
    let (wl_groups, wl_rest) = taps.weight_left.split_at(whole * 4);
    let (wr_groups, wr_rest) = taps.weight_right.split_at(whole * 4);
    lerp_columns::<GROUP, { GROUP * 4 }>(blended, left_groups, wl_groups, wr_groups, out_groups);
    lerp_columns::<1, 4>(blended, left_rest, wl_rest, wr_rest, out_rest);
}

/// `PIXELS` output pixels (`LANES` = 4 × `PIXELS` bytes) at a time: gather each pixel's
/// left and right taps into two lane arrays, then blend them with [`lerp_lanes`]. Slices
/// are whole groups (what [`sample_row`] passes).
fn lerp_columns<const PIXELS: usize, const LANES: usize>(
    blended: &[[u8; 4]],
    left: &[u32],
    weight_left: &[u16],
    weight_right: &[u16],
    out: &mut [u8],
) {
    // Taps never exceed this (the span has the spare pixel); saying so drops bounds checks.
    let last = blended.len().saturating_sub(2);
    let groups = out.as_chunks_mut::<LANES>().0.iter_mut().zip(left.as_chunks::<PIXELS>().0);
    let weights = weight_left.as_chunks::<LANES>().0.iter().zip(weight_right.as_chunks::<LANES>().0);
    for ((out, left), (wl, wr)) in groups.zip(weights) {
        let mut a = [0u8; LANES];
        let mut b = [0u8; LANES];
        for (p, &x) in left.iter().enumerate() {
            let x = (x as usize).min(last);
            a[p * 4..p * 4 + 4].copy_from_slice(&blended[x]);
            b[p * 4..p * 4 + 4].copy_from_slice(&blended[x + 1]);
        }
        lerp_lanes(&a, &b, wl, wr, out);
    }
}

/// `out = a * wa + b * wb` (weights summing to 256), rounded to 8 bits, lane by lane.
#[inline(always)]
fn lerp_lanes<const LANES: usize>(
    a: &[u8; LANES],
    b: &[u8; LANES],
    wa: &[u16; LANES],
    wb: &[u16; LANES],
    out: &mut [u8; LANES],
) {
    for k in 0..LANES {
        out[k] = ((a[k] as u16 * wa[k] + b[k] as u16 * wb[k] + 128) >> 8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Ken Burns sampler before the separable kernel (one f64 → 16.16 walk per row,
    /// bilinear in one rounding, 37 ms per 720p frame): the reference the new one is held to.
    fn sample_zoomed_reference(src: &Rgba, dst: &mut Rgba, scale: f32) {
        let scale = scale.max(1e-3) as f64;
        let sx = src.width as f64 / dst.width as f64 / scale;
        let sy = src.height as f64 / dst.height as f64 / scale;
        let cx = src.width as f64 / 2.0;
        let cy = src.height as f64 / 2.0;
        let x0 = cx - dst.width as f64 / 2.0 * sx;
        let y0 = cy - dst.height as f64 / 2.0 * sy;
        let dw = dst.width as usize;
        for (y, row) in dst.data.chunks_exact_mut(dw * 4).enumerate() {
            let fy = y0 + (y as f64 + 0.5) * sy - 0.5;
            let (sw, sh) = (src.width as usize, src.height as usize);
            sample_row_bilinear_reference(&src.data, sw, sh, fy, x0 + 0.5 * sx - 0.5, sx, row);
        }
    }

    fn sample_row_bilinear_reference(src: &[u8], sw: usize, sh: usize, fy: f64, fx0: f64, step: f64, out: &mut [u8]) {
        let fy = fy.clamp(0.0, (sh - 1) as f64);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(sh - 1);
        let wy = ((fy - y0 as f64) * 256.0) as u32;
        let r0 = &src[y0 * sw * 4..(y0 + 1) * sw * 4];
        let r1 = &src[y1 * sw * 4..(y1 + 1) * sw * 4];
        let max_x = ((sw - 1) as i64) << 16;
        let mut fx = (fx0 * 65536.0) as i64;
        let step = (step * 65536.0) as i64;
        for px in out.chunks_exact_mut(4) {
            let x = fx.clamp(0, max_x);
            let xi = (x >> 16) as usize;
            let xj = (xi + 1).min(sw - 1);
            let wx = ((x >> 8) & 0xff) as u32;
            for c in 0..4 {
                let a = r0[xi * 4 + c] as u32;
                let b = r0[xj * 4 + c] as u32;
                let d = r1[xi * 4 + c] as u32;
                let e = r1[xj * 4 + c] as u32;
                let top = a * (256 - wx) + b * wx;
                let bot = d * (256 - wx) + e * wx;
                px[c] = ((top * (256 - wy) + bot * wy + (1 << 15)) >> 16) as u8;
            }
            fx += step;
        }
    }

    /// Noise over gradients in every channel, alpha included: neighbouring pixels differ by
    /// up to 255, the worst case for any difference in positions or rounding.
    fn noise(w: u32, h: u32, seed: u64) -> Rgba {
        let mut x = seed | 1;
        let mut img = Rgba::filled(w, h, [0, 0, 0, 255]);
        for (i, px) in img.data.chunks_exact_mut(4).enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let g = ((i as u32 % w) * 255 / w) as u8;
            px.copy_from_slice(&[g.wrapping_add(x as u8 & 63), (x >> 8) as u8, 255 - g, (x >> 16) as u8 | 0x80]);
        }
        img
    }

    #[test]
    fn zoom_kernel_matches_the_reference() {
        // (source, frame, scales): the prepared still at the largest zoom of the compositor
        // (1.15x), odd sizes, a source that is just the frame (the zoom transition), tiny ones.
        type Size = (u32, u32);
        let cases: [(Size, Size, &[f32]); 7] = [
            ((1472, 828), (1280, 720), &[1.0, 1.07, 1.15]),
            ((184, 104), (160, 90), &[1.0, 1.0333, 1.15]),
            ((37, 23), (31, 19), &[1.0, 1.1, 1.19]),
            ((101, 57), (101, 57), &[1.0, 1.25, 1.5]),
            ((96, 170), (81, 145), &[1.0, 1.15]),
            ((3, 2), (7, 5), &[1.0, 1.3]),
            ((1, 1), (4, 3), &[1.0, 2.0]),
        ];
        for ((sw, sh), (dw, dh), scales) in cases {
            let src = noise(sw, sh, u64::from(sw * 31 + sh));
            for &scale in scales {
                let mut want = Rgba::filled(dw, dh, [0; 4]);
                let mut got = Rgba::filled(dw, dh, [0; 4]);
                sample_zoomed_reference(&src, &mut want, scale);
                sample_zoomed(&src, &mut got, scale);
                let deltas = || want.data.iter().zip(&got.data).map(|(&a, &b)| a.abs_diff(b));
                let max = deltas().max().unwrap_or(0);
                let mean = deltas().map(f64::from).sum::<f64>() / want.data.len() as f64;
                assert!(max <= 2 && mean <= 0.5, "{sw}x{sh} -> {dw}x{dh} at {scale}: max {max}, mean {mean}");
            }
        }
    }

    #[test]
    fn cover_crops_the_centre() {
        // 4x2 source: left half red, right half blue; cover into 2x2 keeps the middle.
        let mut src = Rgba::filled(40, 20, [255, 0, 0, 255]);
        for y in 0..20 {
            for x in 20..40 {
                let i = (y * 40 + x) * 4;
                src.data[i..i + 4].copy_from_slice(&[0, 0, 255, 255]);
            }
        }
        let out = cover(&src, 20, 20);
        assert_eq!((out.width, out.height), (20, 20));
        assert_eq!(out.pixel(1, 10)[0], 255);
        assert_eq!(out.pixel(18, 10)[2], 255);
    }

    #[test]
    fn zoom_one_is_identity_and_zoom_shows_centre() {
        let mut src = Rgba::filled(64, 36, [0, 0, 0, 255]);
        for y in 0..36u32 {
            for x in 0..64u32 {
                let i = ((y * 64 + x) * 4) as usize;
                src.data[i] = (x * 4) as u8;
            }
        }
        let mut dst = Rgba::filled(64, 36, [0, 0, 0, 0]);
        sample_zoomed(&src, &mut dst, 1.0);
        assert_eq!(dst.data, src.data);
        sample_zoomed(&src, &mut dst, 2.0);
        // Left edge now shows source x = 16.
        let left = dst.pixel(0, 18)[0] as i32;
        assert!((left - 16 * 4 - 2).abs() <= 3, "{left}");
    }
}
