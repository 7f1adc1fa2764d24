//! Alpha blending of RGBA layers onto an opaque canvas.

use crate::frame::Rgba;

/// Blend `layer` (straight alpha) onto `canvas` with its top-left corner at (`x`, `y`),
/// multiplying the layer's alpha by `opacity`. Parts outside the canvas are clipped.
pub fn blend_layer(canvas: &mut Rgba, layer: &Rgba, x: i64, y: i64, opacity: f32) {
    let op = (opacity.clamp(0.0, 1.0) * 256.0).round() as u32;
    if op == 0 {
        return;
    }
    let (cw, ch) = (canvas.width as i64, canvas.height as i64);
    let x0 = x.max(0);
    let x1 = (x + layer.width as i64).min(cw);
    let y0 = y.max(0);
    let y1 = (y + layer.height as i64).min(ch);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let n = (x1 - x0) as usize;
    for cy in y0..y1 {
        let ly = (cy - y) as usize;
        let lx = (x0 - x) as usize;
        let src = &layer.data[(ly * layer.width as usize + lx) * 4..][..n * 4];
        let dst = &mut canvas.data[(cy as usize * canvas.width as usize + x0 as usize) * 4..][..n * 4];
        blend_row(dst, src, op);
    }
}

/// `dst = dst * (1 - a) + src * a` with `a = src.alpha * op / 256`, per pixel.
#[inline]
pub fn blend_row(dst: &mut [u8], src: &[u8], op: u32) {
    for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
        let a = (s[3] as u32 * op + 128) >> 8; // 0..=256
        if a == 0 {
            continue;
        }
        let ia = 256 - a.min(256);
        for c in 0..3 {
            d[c] = ((d[c] as u32 * ia + s[c] as u32 * a + 128) >> 8) as u8;
        }
        d[3] = 255;
    }
}

/// Fill a rectangle with an RGBA colour (alpha blended).
pub fn fill_rect(canvas: &mut Rgba, x: i64, y: i64, w: u32, h: u32, color: [u8; 4]) {
    let x0 = x.clamp(0, canvas.width as i64) as usize;
    let x1 = (x + w as i64).clamp(0, canvas.width as i64) as usize;
    let y0 = y.clamp(0, canvas.height as i64) as usize;
    let y1 = (y + h as i64).clamp(0, canvas.height as i64) as usize;
    let a = color[3] as u32 + (color[3] as u32 >> 7); // 0..=256
    let ia = 256 - a;
    for yy in y0..y1 {
        let row = &mut canvas.data[(yy * canvas.width as usize + x0) * 4..(yy * canvas.width as usize + x1) * 4];
        for px in row.chunks_exact_mut(4) {
            for c in 0..3 {
                px[c] = ((px[c] as u32 * ia + color[c] as u32 * a + 128) >> 8) as u8;
            }
            px[3] = px[3].max(color[3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_opacity_blends_halfway_and_clips() {
        let mut canvas = Rgba::filled(8, 8, [0, 0, 0, 255]);
        let layer = Rgba::filled(4, 4, [200, 100, 50, 255]);
        blend_layer(&mut canvas, &layer, 6, -2, 0.5);
        assert_eq!(canvas.pixel(7, 0), [100, 50, 25, 255]);
        assert_eq!(canvas.pixel(5, 0), [0, 0, 0, 255]);
        assert_eq!(canvas.pixel(7, 2), [0, 0, 0, 255]);
    }
}
