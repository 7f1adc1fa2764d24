//! RGBA8 -> Y'CbCr 4:2:0, BT.709 matrix, limited ("TV") range, chroma sited at the centre
//! of each 2x2 block (the average of its four pixels).
//!
//! Integer coefficients are BT.709 scaled by 256 and by 219/255 (luma) or 224/255 (chroma).
//! The encoder flags BT.709 + limited range in the bitstream and the MP4 `colr` box, so
//! decoders convert back with the same matrix.

use super::{Rgba, Yuv420};

// Y = 16 + (47 R + 157 G + 16 B) / 256
const KR: i32 = 47;
const KG: i32 = 157;
const KB: i32 = 16;
// Cb = 128 + (-26 R - 86 G + 112 B) / 256 ; Cr = 128 + (112 R - 102 G - 10 B) / 256
const CB: [i32; 3] = [-26, -86, 112];
const CR: [i32; 3] = [112, -102, -10];

/// Convert `src` (even width and height) into `dst` of the same size. Alpha is ignored
/// (the compositor's canvas is opaque).
pub fn rgba_to_yuv420(src: &Rgba, dst: &mut Yuv420) {
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
pub fn convert_row_pair(
    row0: &[u8],
    row1: &[u8],
    y0: &mut [u8],
    y1: &mut [u8],
    u: &mut [u8],
    v: &mut [u8],
) {
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
