//! H.264 decoding with OpenH264 (Cisco's decoder, built from the C sources bundled in the
//! `openh264` crate).
//!
//! In: MP4 samples in AVCC form (length-prefixed NAL units) plus the `avcC` parameter sets.
//! Out: 8-bit 4:2:0 pictures in display order, handed to a callback while borrowed from the
//! decoder. Frames are not reordered here: OpenH264 with `Flush::NoFlush` keeps its own
//! reorder buffer and returns pictures in display order (x264 High with B-frames included);
//! [`H264Decoder::drain`] empties that buffer at the end of the stream.

use openh264::decoder::{Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use super::colour::{ColourInfo, Matrix, Yuv420};
use crate::media::MediaError;

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// A streaming H.264 decoder.
pub(crate) struct H264Decoder {
    decoder: Decoder,
    nal_length_size: usize,
    /// SPS and PPS in Annex B form, sent before the first sample.
    headers: Vec<u8>,
    headers_sent: bool,
    /// Reused Annex B conversion buffer.
    annexb: Vec<u8>,
}

impl H264Decoder {
    /// A decoder for a stream with these `avcC` parameters.
    pub(crate) fn new(nal_length_size: usize, sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Result<Self, MediaError> {
        if !(1..=4).contains(&nal_length_size) || nal_length_size == 3 {
            return Err(MediaError::Decode(format!("h264: invalid NAL length size {nal_length_size}")));
        }
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| MediaError::Decode(format!("h264: cannot start decoder: {e}")))?;
        let mut headers = Vec::new();
        for nal in sps.iter().chain(pps) {
            headers.extend_from_slice(&START_CODE);
            headers.extend_from_slice(nal);
        }
        Ok(H264Decoder { decoder, nal_length_size, headers, headers_sent: false, annexb: Vec::new() })
    }

    /// Decodes one sample; calls `sink` for each picture that comes out (zero or one).
    pub(crate) fn decode(
        &mut self,
        sample: &[u8],
        sink: &mut dyn FnMut(Yuv420<'_>) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        self.annexb.clear();
        if !self.headers_sent {
            self.annexb.extend_from_slice(&self.headers);
            self.headers_sent = true;
        }
        avcc_to_annexb(sample, self.nal_length_size, &mut self.annexb)?;
        let picture = self
            .decoder
            .decode(&self.annexb)
            .map_err(|e| MediaError::Decode(format!("h264: corrupt or unsupported stream: {e}")))?;
        if let Some(p) = picture {
            sink(planes(&p))?;
        }
        Ok(())
    }

    /// Returns the pictures still held for reordering (end of stream).
    pub(crate) fn drain(
        &mut self,
        sink: &mut dyn FnMut(Yuv420<'_>) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let rest = self
            .decoder
            .flush_remaining()
            .map_err(|e| MediaError::Decode(format!("h264: corrupt stream at the end: {e}")))?;
        for p in &rest {
            sink(planes(p))?;
        }
        Ok(())
    }
}

fn planes<'a>(p: &'a openh264::decoder::DecodedYUV<'a>) -> Yuv420<'a> {
    let (width, height) = p.dimensions();
    let (y_stride, uv_stride, _) = p.strides();
    Yuv420 { y: p.y(), u: p.u(), v: p.v(), y_stride, uv_stride, width, height }
}

/// Appends the NAL units of a length-prefixed sample to `out` with start codes.
pub(crate) fn avcc_to_annexb(sample: &[u8], len_size: usize, out: &mut Vec<u8>) -> Result<(), MediaError> {
    let mut p = 0;
    while p < sample.len() {
        if p + len_size > sample.len() {
            return Err(MediaError::Decode("h264: NAL length cut short".into()));
        }
        let n = sample[p..p + len_size].iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        p += len_size;
        if n > sample.len() - p {
            return Err(MediaError::Decode(format!("h264: NAL of {n} bytes runs past its sample")));
        }
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(&sample[p..p + n]);
        p += n;
    }
    Ok(())
}

/// Reads the colour description and chroma format of an SPS (NAL header included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpsInfo {
    pub chroma_format_idc: u32,
    /// Coded size in whole macroblocks (before cropping): what the decoder allocates for.
    pub coded_width: u64,
    pub coded_height: u64,
    pub bit_depth: u32,
    pub colour: Option<ColourInfo>,
}

/// Exp-Golomb bit reader over an RBSP (emulation prevention already removed).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }
    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |a, _| Some((a << 1) | self.bit()?))
    }
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }
    fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        Some(if k % 2 == 1 { k.div_ceil(2) as i32 } else { -((k / 2) as i32) })
    }
}

fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Parses an SPS NAL unit far enough to read chroma format, bit depth and VUI colour info.
pub(crate) fn parse_sps(nal: &[u8]) -> Option<SpsInfo> {
    let rbsp = unescape(nal.get(1..)?);
    let mut r = Bits { data: &rbsp, pos: 0 };
    let profile = r.bits(8)?;
    r.bits(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut bit_depth = 8;
    if matches!(profile, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            r.bit()?;
        }
        bit_depth = 8 + r.ue()?;
        r.ue()?; // chroma bit depth
        r.bit()?; // qpprime_y_zero_transform_bypass
        if r.bit()? == 1 {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num
    match r.ue()? {
        0 => {
            r.ue()?;
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            let n = r.ue()?;
            if n > 255 {
                return None;
            }
            for _ in 0..n {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_map_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.bit()?;
    if frame_mbs_only == 0 {
        r.bit()?; // mb_adaptive_frame_field
    }
    let coded_width = width_mbs * 16;
    let coded_height = height_map_units * 16 * (2 - u64::from(frame_mbs_only));
    r.bit()?; // direct_8x8_inference
    if r.bit()? == 1 {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    let mut colour = None;
    if r.bit()? == 1 {
        // VUI
        if r.bit()? == 1 && r.bits(8)? == 255 {
            r.bits(32)?;
        }
        if r.bit()? == 1 {
            r.bit()?;
        }
        if r.bit()? == 1 {
            r.bits(3)?; // video_format
            let full_range = r.bit()? == 1;
            let mut matrix = Matrix::Bt601;
            if r.bit()? == 1 {
                r.bits(16)?; // primaries, transfer
                matrix = Matrix::from_code(r.bits(8)?);
            }
            colour = Some(ColourInfo { matrix, full_range });
        }
    }
    Some(SpsInfo { chroma_format_idc, coded_width, coded_height, bit_depth, colour })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb_conversion_and_bounds() {
        let mut out = Vec::new();
        avcc_to_annexb(&[0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 1, 0x41], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0xAA, 0, 0, 0, 1, 0x41]);
        assert!(avcc_to_annexb(&[0, 0, 0, 9, 0x65], 4, &mut out).is_err());
        assert!(avcc_to_annexb(&[0, 0], 4, &mut out).is_err());
    }

    #[test]
    fn exp_golomb() {
        // 1 -> 0; 010 -> 1; 011 -> 2; 00100 -> 3
        let data = [0b1010_0110, 0b0100_0000];
        let mut r = Bits { data: &data, pos: 0 };
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.ue(), Some(1));
        assert_eq!(r.ue(), Some(2));
        assert_eq!(r.ue(), Some(3));
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), [0, 0, 1, 0, 0]);
    }

    #[test]
    fn garbage_sps_does_not_panic() {
        for len in 0..40 {
            let nal: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse_sps(&nal);
        }
    }
}
