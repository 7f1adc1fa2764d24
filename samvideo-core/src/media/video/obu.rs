//! A guard in front of rav1d: walks the OBUs of each AV1 sample and reads every sequence
//! header up to its colour config, refusing streams this build cannot decode (profiles 1/2,
//! 10/12-bit) before rav1d sees them.
//!
//! Why: rav1d is built with `bitdepth_8` only, and its "compiled without support for N-bit
//! decoding" error path unwraps a header it has already released — a panic inside its
//! `extern "C"` entry point, which aborts the whole process (found by
//! `tests/decode_mutations.rs`: one flipped bit in an in-band sequence header). An honest
//! 10-bit file is caught from `av1C` earlier; this catches the in-band headers too.
//!
//! In: one MP4 sample (a temporal unit, OBUs with size fields as the MP4 binding requires).
//! Out: `Ok(())` or a `MediaError::Decode` saying what is wrong.

use crate::media::MediaError;

const OBU_SEQUENCE_HEADER: u8 = 1;

/// MSB-first bit reader over a byte slice; reading past the end is an error.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Some(b as u32)
    }

    fn f(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// `uvlc()` of the AV1 spec (4.10.3).
    fn uvlc(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros >= 32 {
                return None;
            }
        }
        Some(self.f(zeros)?.saturating_add((1u32 << zeros) - 1))
    }
}

/// `leb128()` (4.10.5): value and bytes used.
fn leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..8 {
        let byte = *data.get(i)?;
        value |= ((byte & 0x7f) as u64) << (i * 7);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// What the decoder needs to know from a sequence header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SequenceFormat {
    pub profile: u32,
    pub bit_depth: u32,
    pub mono: bool,
}

/// Parse a sequence header OBU payload (5.5) up to the bit depth.
pub(crate) fn sequence_format(payload: &[u8]) -> Option<SequenceFormat> {
    let mut r = Bits { data: payload, pos: 0 };
    let profile = r.f(3)?;
    let _still_picture = r.f(1)?;
    let reduced = r.f(1)? == 1;
    let mut decoder_model_info_present = false;
    let mut buffer_delay_length = 0;
    if reduced {
        r.f(5)?; // seq_level_idx[0]
    } else {
        if r.f(1)? == 1 {
            // timing_info()
            r.f(32)?;
            r.f(32)?;
            if r.f(1)? == 1 {
                r.uvlc()?;
            }
            decoder_model_info_present = r.f(1)? == 1;
            if decoder_model_info_present {
                buffer_delay_length = r.f(5)? + 1;
                r.f(32)?;
                r.f(5)?;
                r.f(5)?;
            }
        }
        let initial_display_delay_present = r.f(1)? == 1;
        let operating_points = r.f(5)? + 1;
        for _ in 0..operating_points {
            r.f(12)?; // operating_point_idc
            if r.f(5)? > 7 {
                r.f(1)?; // seq_tier
            }
            if decoder_model_info_present && r.f(1)? == 1 {
                r.f(buffer_delay_length)?;
                r.f(buffer_delay_length)?;
                r.f(1)?;
            }
            if initial_display_delay_present && r.f(1)? == 1 {
                r.f(4)?;
            }
        }
    }
    let width_bits = r.f(4)? + 1;
    let height_bits = r.f(4)? + 1;
    r.f(width_bits)?;
    r.f(height_bits)?;
    if !reduced && r.f(1)? == 1 {
        r.f(4)?;
        r.f(3)?;
    }
    r.f(3)?; // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if !reduced {
        r.f(4)?; // interintra, masked, warped, dual filter
        let order_hint = r.f(1)? == 1;
        if order_hint {
            r.f(2)?; // jnt_comp, ref_frame_mvs
        }
        let force_screen_content = if r.f(1)? == 1 { 2 } else { r.f(1)? };
        if force_screen_content > 0 && r.f(1)? == 0 {
            r.f(1)?; // seq_force_integer_mv
        }
        if order_hint {
            r.f(3)?;
        }
    }
    r.f(3)?; // superres, cdef, restoration
    let high_bitdepth = r.f(1)? == 1;
    let bit_depth = match (profile, high_bitdepth) {
        (2, true) => {
            if r.f(1)? == 1 {
                12
            } else {
                10
            }
        }
        (_, true) => 10,
        (_, false) => 8,
    };
    let mono = if profile == 1 { false } else { r.f(1)? == 1 };
    Some(SequenceFormat { profile, bit_depth, mono })
}

/// Refuse a sample whose OBUs are malformed or whose sequence header is one rav1d (built
/// 8-bit only) cannot decode.
pub(crate) fn check_sample(sample: &[u8]) -> Result<(), MediaError> {
    let corrupt = |why: &str| MediaError::Decode(format!("av1: corrupt stream ({why})"));
    let mut rest = sample;
    while !rest.is_empty() {
        let header = rest[0];
        if header & 0x80 != 0 {
            return Err(corrupt("forbidden bit set in an OBU header"));
        }
        let obu_type = (header >> 3) & 0x0f;
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut at = 1 + has_extension as usize;
        if at > rest.len() {
            return Err(corrupt("truncated OBU header"));
        }
        let size = if has_size {
            let (size, used) = leb128(&rest[at..]).ok_or_else(|| corrupt("bad OBU size"))?;
            at += used;
            usize::try_from(size).map_err(|_| corrupt("bad OBU size"))?
        } else {
            rest.len() - at
        };
        let end =
            at.checked_add(size).filter(|e| *e <= rest.len()).ok_or_else(|| corrupt("OBU larger than its sample"))?;
        if obu_type == OBU_SEQUENCE_HEADER {
            let format = sequence_format(&rest[at..end]).ok_or_else(|| corrupt("truncated sequence header"))?;
            if format.profile != 0 || format.bit_depth != 8 || format.mono {
                return Err(MediaError::Decode(format!(
                    "unsupported video codec av1 profile {} with {}-bit{} samples (supported: 8-bit 4:2:0 h264, av1)",
                    format.profile,
                    format.bit_depth,
                    if format.mono { " monochrome" } else { "" }
                )));
            }
        }
        rest = &rest[end..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence header rav1e writes for 64x48 8-bit 4:2:0 (profile 0, reduced = 0).
    fn rav1e_sequence_header(bit_depth: usize) -> Vec<u8> {
        if bit_depth == 8 {
            first_packet::<u8>(bit_depth)
        } else {
            first_packet::<u16>(bit_depth)
        }
    }

    fn first_packet<T: rav1e::Pixel>(bit_depth: usize) -> Vec<u8> {
        let cfg = rav1e::Config::new().with_encoder_config(rav1e::EncoderConfig {
            width: 64,
            height: 48,
            bit_depth,
            speed_settings: rav1e::config::SpeedSettings::from_preset(10),
            ..Default::default()
        });
        // Encode one frame: its packet starts with the in-band sequence header OBU.
        let mut ctx: rav1e::Context<T> = cfg.new_context().expect("context");
        let f = ctx.new_frame();
        ctx.send_frame(f).expect("send");
        ctx.flush();
        loop {
            match ctx.receive_packet() {
                Ok(p) => return p.data,
                Err(rav1e::EncoderStatus::Encoded) | Err(rav1e::EncoderStatus::NeedMoreData) => continue,
                Err(e) => panic!("encoder: {e:?}"),
            }
        }
    }

    #[test]
    fn eight_bit_stream_passes_and_ten_bit_is_refused() {
        let eight = rav1e_sequence_header(8);
        check_sample(&eight).expect("8-bit passes");
        let ten = rav1e_sequence_header(10);
        let err = check_sample(&ten).expect_err("10-bit refused").to_string();
        assert!(err.contains("10-bit"), "{err}");
    }

    #[test]
    fn malformed_obus_are_corrupt_not_panics() {
        assert!(check_sample(&[0x80]).is_err());
        assert!(check_sample(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(check_sample(&[0x0a, 0x05, 0x00]).is_err(), "size past the end");
        assert!(check_sample(&[0x0a, 0x01, 0x00]).is_err(), "truncated sequence header");
        assert!(check_sample(&[]).is_ok());
    }

    #[test]
    fn uvlc_and_leb128_read_the_spec_examples() {
        assert_eq!(leb128(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(leb128(&[0x80; 9]), None);
        let mut b = Bits { data: &[0b0010_1000], pos: 0 };
        assert_eq!(b.uvlc(), Some(4));
    }
}
