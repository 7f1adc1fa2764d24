//! RGBA8 -> Y'CbCr 4:2:0, BT.709 matrix, limited ("TV") range, chroma sited at the centre
//! of each 2x2 block (the average of its four pixels).
//!
//! Integer coefficients are BT.709 scaled by 256 and by 219/255 (luma) or 224/255 (chroma).
//! The encoder flags BT.709 + limited range in the bitstream and the MP4 `colr` box, so
//! decoders convert back with the same matrix.
//!
//! [`rgba_to_yuv420`] runs the `yuv` crate's SIMD converter (SSE4.1/AVX2/NEON, chosen at
//! run time); [`rgba_to_yuv420_scalar`] is the plain reference it is tested against (every
//! sample within ±1, see the tests) and the fallback should the crate refuse a buffer.
//! Measured in `benches/frame_kernels.rs` and `docs/performance.md`.

use super::{Rgba, Yuv420};

// Y = 16 + (47 R + 157 G + 16 B) / 256
const KR: i32 = 47;
const KG: i32 = 157;
const KB: i32 = 16;
// Cb = 128 + (-26 R - 86 G + 112 B) / 256 ; Cr = 128 + (112 R - 102 G - 10 B) / 256
const CB: [i32; 3] = [-26, -86, 112];
const CR: [i32; 3] = [112, -102, -10];

/// Convert `src` (even width and height) into `dst` of the same size. Alpha is ignored
/// (the compositor's canvas is opaque). SIMD through the `yuv` crate; within ±1 of
/// [`rgba_to_yuv420_scalar`].
pub fn rgba_to_yuv420(src: &Rgba, dst: &mut Yuv420) {
    debug_assert_eq!((src.width, src.height), (dst.width, dst.height));
    let (w, h) = (src.width, src.height);
    let mut planes = ::yuv::YuvPlanarImageMut {
        y_plane: ::yuv::BufferStoreMut::Borrowed(&mut dst.y),
        y_stride: w,
        u_plane: ::yuv::BufferStoreMut::Borrowed(&mut dst.u),
        u_stride: w / 2,
        v_plane: ::yuv::BufferStoreMut::Borrowed(&mut dst.v),
        v_stride: w / 2,
        width: w,
        height: h,
    };
    let ok = ::yuv::rgba_to_yuv420(
        &mut planes,
        &src.data,
        w * 4,
        ::yuv::YuvRange::Limited,
        ::yuv::YuvStandardMatrix::Bt709,
        ::yuv::YuvConversionMode::Balanced,
    );
    if ok.is_err() {
        // Only a mis-sized buffer gets here; the scalar path indexes the same way and
        // reports it as a panic in debug builds rather than writing a wrong frame silently.
        rgba_to_yuv420_scalar(src, dst);
    }
}

/// The scalar reference conversion (same contract as [`rgba_to_yuv420`]): exact 2x2 chroma
/// average, integer BT.709 coefficients.
pub fn rgba_to_yuv420_scalar(src: &Rgba, dst: &mut Yuv420) {
    debug_assert_eq!((src.width, src.height), (dst.width, dst.height));
    let w = src.width as usize;
    let h = src.height as usize;
    for cy in 0..h / 2 {
        let row0 = &src.data[(2 * cy) * w * 4..(2 * cy + 1) * w * 4];
        let row1 = &src.data[(2 * cy + 1) * w * 4..(2 * cy + 2) * w * 4];
        let (y0, rest) = dst.y[(2 * cy) * w..].split_at_mut(w);
        let y1 = &mut rest[..w];
        let u = &mut dst.u[cy * (w / 2)..(cy + 1) * (w / 2)];
        let v = &mut dst.v[cy * (w / 2)..(cy + 1) * (w / 2)];
        convert_row_pair(row0, row1, y0, y1, u, v);
    }
}

/// One pair of RGBA rows into two luma rows and one chroma row of each plane.
#[inline]
pub fn convert_row_pair(row0: &[u8], row1: &[u8], y0: &mut [u8], y1: &mut [u8], u: &mut [u8], v: &mut [u8]) {
    let n = u.len();
    for i in 0..n {
        let a = &row0[i * 8..i * 8 + 8];
        let b = &row1[i * 8..i * 8 + 8];
        y0[2 * i] = luma(a[0], a[1], a[2]);
        y0[2 * i + 1] = luma(a[4], a[5], a[6]);
        y1[2 * i] = luma(b[0], b[1], b[2]);
        y1[2 * i + 1] = luma(b[4], b[5], b[6]);
        let r = a[0] as i32 + a[4] as i32 + b[0] as i32 + b[4] as i32;
        let g = a[1] as i32 + a[5] as i32 + b[1] as i32 + b[5] as i32;
        let bl = a[2] as i32 + a[6] as i32 + b[2] as i32 + b[6] as i32;
        // r, g, bl are sums of 4 samples: divide by 4 * 256 = 1024.
        u[i] = (128 + ((CB[0] * r + CB[1] * g + CB[2] * bl + 512) >> 10)).clamp(16, 240) as u8;
        v[i] = (128 + ((CR[0] * r + CR[1] * g + CR[2] * bl + 512) >> 10)).clamp(16, 240) as u8;
    }
}

#[inline]
fn luma(r: u8, g: u8, b: u8) -> u8 {
    (16 + ((KR * r as i32 + KG * g as i32 + KB * b as i32 + 128) >> 8)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(px: [u8; 4]) -> (u8, u8, u8) {
        let src = Rgba::filled(4, 4, px);
        let mut dst = Yuv420::new(4, 4);
        rgba_to_yuv420(&src, &mut dst);
        (dst.y[5], dst.u[1], dst.v[1])
    }

    /// Deterministic pseudo-random bytes (xorshift), opaque alpha.
    fn noise(w: u32, h: u32, seed: u64) -> Rgba {
        let mut x = seed | 1;
        let mut img = Rgba::filled(w, h, [0, 0, 0, 255]);
        for px in img.data.chunks_exact_mut(4) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            px[..3].copy_from_slice(&x.to_le_bytes()[..3]);
        }
        img
    }

    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
    }

    #[test]
    fn simd_matches_scalar_within_one() {
        // Noise (every sample value, hard chroma edges), a full 8-bit gradient sweep, and
        // sizes that are not multiples of the SIMD widths.
        let mut sweep = Rgba::filled(256, 6, [0, 0, 0, 255]);
        for (i, px) in sweep.data.chunks_exact_mut(4).enumerate() {
            let v = (i % 256) as u8;
            let row = i / 256;
            px[..3].copy_from_slice(&[v.wrapping_mul(row as u8 + 1), 255 - v, v ^ (row as u8 * 40)]);
        }
        let cases = [noise(1280, 720, 7), noise(1920, 1080, 9), noise(38, 22, 3), noise(2, 2, 5), sweep];
        for src in cases {
            let (w, h) = (src.width, src.height);
            let mut simd = Yuv420::new(w, h);
            let mut scalar = Yuv420::new(w, h);
            rgba_to_yuv420(&src, &mut simd);
            rgba_to_yuv420_scalar(&src, &mut scalar);
            assert!(max_diff(&simd.y, &scalar.y) <= 1, "{w}x{h} luma differs by {}", max_diff(&simd.y, &scalar.y));
            assert!(max_diff(&simd.u, &scalar.u) <= 1, "{w}x{h} Cb differs by {}", max_diff(&simd.u, &scalar.u));
            assert!(max_diff(&simd.v, &scalar.v) <= 1, "{w}x{h} Cr differs by {}", max_diff(&simd.v, &scalar.v));
        }
    }

    #[test]
    fn scalar_primaries_match_bt709_limited_range() {
        let conv = |px: [u8; 4]| {
            let mut dst = Yuv420::new(4, 4);
            rgba_to_yuv420_scalar(&Rgba::filled(4, 4, px), &mut dst);
            (dst.y[5], dst.u[1], dst.v[1])
        };
        assert_eq!(conv([0, 0, 0, 255]), (16, 128, 128));
        assert_eq!(conv([255, 255, 255, 255]), (235, 128, 128));
        assert_eq!(conv([255, 0, 0, 255]), (63, 102, 240));
    }

    #[test]
    fn primaries_match_bt709_limited_range() {
        assert_eq!(convert([0, 0, 0, 255]), (16, 128, 128));
        assert_eq!(convert([255, 255, 255, 255]), (235, 128, 128));
        // BT.709 limited: red = (63, 102, 240), green = (173, 42, 26), blue = (32, 240, 118)
        let close = |a: (u8, u8, u8), b: (u8, u8, u8)| {
            (a.0 as i32 - b.0 as i32).abs() <= 1
                && (a.1 as i32 - b.1 as i32).abs() <= 1
                && (a.2 as i32 - b.2 as i32).abs() <= 1
        };
        assert!(close(convert([255, 0, 0, 255]), (63, 102, 240)), "{:?}", convert([255, 0, 0, 255]));
        assert!(close(convert([0, 255, 0, 255]), (173, 42, 26)), "{:?}", convert([0, 255, 0, 255]));
        assert!(close(convert([0, 0, 255, 255]), (32, 240, 118)), "{:?}", convert([0, 0, 255, 255]));
    }
}
