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
/// full extent onto `dst`; 1.3 shows the central 1/1.3 of it. Rows go through
/// [`sample_row_bilinear`].
pub fn sample_zoomed(src: &Rgba, dst: &mut Rgba, scale: f32) {
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
        sample_row_bilinear(&src.data, src.width as usize, src.height as usize, fy, x0 + 0.5 * sx - 0.5, sx, row);
    }
}

/// One output row: pixel `i` samples `src` at (`fx0 + i * step`, `fy`), bilinear, edges
/// clamped. Coordinates in 16.16 fixed point so neighbouring frames move smoothly.
pub fn sample_row_bilinear(src: &[u8], sw: usize, sh: usize, fy: f64, fx0: f64, step: f64, out: &mut [u8]) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
