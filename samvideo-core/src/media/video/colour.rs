//! YUV 4:2:0 → RGBA8 conversion and display rotation.
//!
//! In: decoded planes (any strides) and the stream's colour description. Out: tightly packed
//! RGBA of the display size. The matrix arithmetic is the `yuv` crate's (SIMD, 8.8 fixed
//! point, checked against libswscale to ±1); rotation is a plain copy loop here.

use crate::media::MediaError;

/// YCbCr → RGB matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    /// ITU-R BT.601 (SD; also what ffmpeg assumes when the stream says nothing).
    Bt601,
    /// ITU-R BT.709 (HD).
    Bt709,
    /// ITU-R BT.2020 non-constant luminance.
    Bt2020,
}

impl Matrix {
    /// From an ISO/IEC 23091-4 `MatrixCoefficients` code (H.264 VUI, AV1, `colr`).
    /// Unspecified/unknown codes give BT.601, as libswscale does.
    pub fn from_code(code: u32) -> Self {
        match code {
            1 => Matrix::Bt709,
            9 | 10 => Matrix::Bt2020,
            _ => Matrix::Bt601,
        }
    }
}

/// Colour description of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourInfo {
    /// Conversion matrix.
    pub matrix: Matrix,
    /// Full-range (0–255) samples instead of limited (16–235).
    pub full_range: bool,
}

impl Default for ColourInfo {
    fn default() -> Self {
        ColourInfo { matrix: Matrix::Bt601, full_range: false }
    }
}

/// Borrowed 8-bit 4:2:0 planes of one decoded picture.
#[derive(Debug, Clone, Copy)]
pub struct Yuv420<'a> {
    /// Luma plane, `y_stride` bytes per row.
    pub y: &'a [u8],
    /// Cb plane, `uv_stride` bytes per row.
    pub u: &'a [u8],
    /// Cr plane, `uv_stride` bytes per row.
    pub v: &'a [u8],
    /// Bytes per luma row.
    pub y_stride: usize,
    /// Bytes per chroma row.
    pub uv_stride: usize,
    /// Picture width in pixels.
    pub width: usize,
    /// Picture height in pixels.
    pub height: usize,
}

/// Converts 4:2:0 planes to tightly packed RGBA (`out.len() == width * height * 4`).
pub fn yuv420_to_rgba(src: &Yuv420<'_>, colour: ColourInfo, out: &mut [u8]) -> Result<(), MediaError> {
    let image = yuv::YuvPlanarImage {
        y_plane: src.y,
        y_stride: src.y_stride as u32,
        u_plane: src.u,
        u_stride: src.uv_stride as u32,
        v_plane: src.v,
        v_stride: src.uv_stride as u32,
        width: src.width as u32,
        height: src.height as u32,
    };
    let range = if colour.full_range { yuv::YuvRange::Full } else { yuv::YuvRange::Limited };
    let matrix = match colour.matrix {
        Matrix::Bt601 => yuv::YuvStandardMatrix::Bt601,
        Matrix::Bt709 => yuv::YuvStandardMatrix::Bt709,
        Matrix::Bt2020 => yuv::YuvStandardMatrix::Bt2020,
    };
    yuv::yuv420_to_rgba(&image, out, (src.width * 4) as u32, range, matrix)
        .map_err(|e| MediaError::Decode(format!("colour conversion failed: {e}")))
}

/// Rotates tightly packed RGBA (`w` x `h`) clockwise by `degrees` (90, 180, 270) into `out`,
/// which must hold `w * h * 4` bytes; for 90/270 the output is `h` wide and `w` tall.
pub fn rotate_rgba(src: &[u8], w: usize, h: usize, degrees: u16, out: &mut [u8]) {
    let px = |buf: &[u8], i: usize| -> [u8; 4] { [buf[i * 4], buf[i * 4 + 1], buf[i * 4 + 2], buf[i * 4 + 3]] };
    match degrees {
        90 => {
            // Output is h wide: out(x, y) = src(y, h - 1 - x).
            for y in 0..w {
                let row = &mut out[y * h * 4..(y + 1) * h * 4];
                for (x, dst) in row.chunks_exact_mut(4).enumerate() {
                    dst.copy_from_slice(&px(src, (h - 1 - x) * w + y));
                }
            }
        }
        180 => {
            for (i, dst) in out[..w * h * 4].chunks_exact_mut(4).enumerate() {
                dst.copy_from_slice(&px(src, w * h - 1 - i));
            }
        }
        270 => {
            // out(x, y) = src(w - 1 - y, x).
            for y in 0..w {
                let row = &mut out[y * h * 4..(y + 1) * h * 4];
                for (x, dst) in row.chunks_exact_mut(4).enumerate() {
                    dst.copy_from_slice(&px(src, x * w + (w - 1 - y)));
                }
            }
        }
        _ => out[..w * h * 4].copy_from_slice(&src[..w * h * 4]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize) -> Vec<u8> {
        (0..w * h).flat_map(|i| [i as u8, 0, 0, 255]).collect()
    }

    #[test]
    fn rotate_90_moves_bottom_left_to_top_left() {
        // 3x2 source: row0 = 0 1 2, row1 = 3 4 5. Clockwise: 2 wide, 3 tall: [3 0][4 1][5 2].
        let src = img(3, 2);
        let mut out = vec![0; 24];
        rotate_rgba(&src, 3, 2, 90, &mut out);
        let got: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(got, [3, 0, 4, 1, 5, 2]);
        rotate_rgba(&src, 3, 2, 270, &mut out);
        let got: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(got, [2, 5, 1, 4, 0, 3]);
        rotate_rgba(&src, 3, 2, 180, &mut out);
        let got: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(got, [5, 4, 3, 2, 1, 0]);
    }

    #[test]
    fn limited_range_grey_and_white() {
        let (w, h) = (4, 2);
        let y = [16u8, 16, 235, 235, 126, 126, 126, 126];
        let uv = [128u8, 128];
        let src = Yuv420 { y: &y, u: &uv, v: &uv, y_stride: 4, uv_stride: 2, width: w, height: h };
        let mut out = vec![0; w * h * 4];
        yuv420_to_rgba(&src, ColourInfo::default(), &mut out).unwrap();
        assert!(out[0] <= 1 && out[3] == 255, "black: {:?}", &out[..4]);
        assert!(out[8] >= 254, "white: {:?}", &out[8..12]);
        assert!((out[16] as i32 - 128).abs() <= 1, "grey: {:?}", &out[16..20]);
    }
}
