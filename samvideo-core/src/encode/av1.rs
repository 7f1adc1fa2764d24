//! AV1 encoding with rav1e, behind [`VideoEncoder`].
//!
//! Enter: [`Yuv420`] frames, or "the same picture again" ([`VideoEncoder::repeat`]). Leave:
//! [`Packet`]s, one temporal unit per input frame, in presentation order, plus the
//! sequence-header OBU the MP4 `av1C` box needs ([`sequence_header_obu`]).
//!
//! Each distinct picture is encoded once, plus once more when it is held (a still): rav1e runs
//! in low-latency mode (no reordering), where the frame with order hint `k` after a key frame
//! is stored in reference slot `k & 3` (rav1e's `get_slot_idx`). The first repeat of a
//! picture is sent to rav1e as a real frame (an inter frame, so showable, and a refinement of
//! the picture's quality); every later repeat becomes a 5-byte temporal unit we write
//! ourselves: a temporal delimiter and a frame header with `show_existing_frame = 1` naming
//! that slot ([`show_existing_tu`]; AV1 spec 5.9.2, 7.21). Re-showing a non-key frame changes
//! no decoder state, so rav1e's later frames stay valid. A key frame is never re-shown
//! (it is not showable: libaom and hardware decoders refuse it). The MP4 keeps one sample per
//! frame: the file stays constant-frame-rate.

use std::collections::VecDeque;
use std::sync::Arc;

use rav1e::color::{ColorDescription, ColorPrimaries, MatrixCoefficients, PixelRange, TransferCharacteristics};
use rav1e::prelude::{
    ChromaSampling, Config, Context, EncoderConfig, EncoderStatus, FrameType, Rational, SpeedSettings,
};

use super::{keyframe_interval, EncodeError, FrameKind, Packet, VideoEncoder};
use crate::frame::Yuv420;
use crate::frame_rate::FrameRate;
use crate::plan::EncodePreset;
#[cfg(test)]
use crate::plan::H264Qp;

/// Frames rav1e's rate-distortion look-ahead may hold. Each costs a padded copy of the frame
/// plus its analysis state (about 14 MB at 720p). rav1e's temporal RDO, the look-ahead's main
/// user, is off whenever `tx_domain_distortion` is on, which every speed preset keeps; at
/// samvideo's speeds the rest of it buys almost nothing. On a 330-frame 720p slideshow
/// (`benches/encode_levers.rs`): 10 frames (rav1e's default) 262 MB of encoder memory,
/// 5 frames 208 MB with the same bytes, 1 frame 138 MB with 0.4 % more bytes.
pub const RDO_LOOKAHEAD_FRAMES: usize = 1;

fn rdo_lookahead_capped(mut speed: SpeedSettings) -> SpeedSettings {
    speed.rdo_lookahead_frames = speed.rdo_lookahead_frames.min(RDO_LOOKAHEAD_FRAMES);
    speed
}

/// rav1e behind a small push/pull interface.
pub struct Av1Encoder {
    ctx: Context<u8>,
    width: usize,
    last: Option<Arc<rav1e::Frame<u8>>>,
    /// Every frame given to rav1e, in order: our frame index and the repeats that re-show it.
    sent: VecDeque<Sent>,
    /// Frames (new and repeated) so far: the index of the next one.
    frames: u64,
    /// Repeats since the last new picture.
    held: u64,
    /// rav1e's input number of the last key frame: order hints count from it.
    gop_start: u64,
}

/// A frame given to rav1e.
struct Sent {
    /// Our index of the frame.
    frame: u64,
    /// Frames after it that show it again (`show_existing_frame`).
    repeats: u64,
}

/// A temporal unit that shows the frame held in reference slot `slot` (0..8) again: a
/// temporal delimiter OBU, then a frame header OBU whose one byte is `show_existing_frame = 1`,
/// `frame_to_show_map_idx = slot` and the trailing bits (rav1e writes neither frame ids nor
/// decoder-model timing, so nothing else follows).
pub fn show_existing_tu(slot: u8) -> [u8; 5] {
    [0x12, 0x00, 0x1a, 0x01, 0x80 | (slot & 7) << 4 | 0x08]
}

/// AV1 level index for a frame size and rate (spec Annex A: MaxPicSize, MaxDisplayRate).
pub fn level_idx(width: u32, height: u32, fps: FrameRate) -> u8 {
    let pic = width as u64 * height as u64;
    let (num, den) = fps.as_fraction();
    let rate = (pic * u64::from(num)).div_ceil(u64::from(den));
    const LEVELS: [(u8, u64, u64); 10] = [
        (0, 147_456, 4_423_680),        // 2.0
        (1, 278_784, 8_363_520),        // 2.1
        (4, 665_856, 19_975_680),       // 3.0
        (5, 1_065_024, 31_950_720),     // 3.1
        (8, 2_359_296, 70_778_880),     // 4.0
        (9, 2_359_296, 141_557_760),    // 4.1
        (12, 8_912_896, 267_386_880),   // 5.0
        (13, 8_912_896, 534_773_760),   // 5.1
        (14, 8_912_896, 1_069_547_520), // 5.2
        (15, 8_912_896, 1_069_547_520), // 5.3
    ];
    LEVELS.iter().find(|(_, max_pic, max_rate)| pic <= *max_pic && rate <= *max_rate).map(|l| l.0).unwrap_or(31)
}

impl Av1Encoder {
    /// An encoder for `width`x`height` at `fps`, BT.709 limited range, keyframes at least
    /// every [`KEYFRAME_SECONDS`](super::KEYFRAME_SECONDS).
    pub fn new(
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: EncodePreset,
        threads: usize,
    ) -> Result<Self, EncodeError> {
        let (num, den) = fps.as_fraction();
        let enc = EncoderConfig {
            width: width as usize,
            height: height as usize,
            time_base: Rational::new(u64::from(den), u64::from(num)),
            bit_depth: 8,
            chroma_sampling: ChromaSampling::Cs420,
            pixel_range: PixelRange::Limited,
            color_description: Some(ColorDescription {
                color_primaries: ColorPrimaries::BT709,
                transfer_characteristics: TransferCharacteristics::BT709,
                matrix_coefficients: MatrixCoefficients::BT709,
            }),
            level_idx: Some(level_idx(width, height, fps)),
            min_key_frame_interval: 12,
            max_key_frame_interval: keyframe_interval(fps),
            quantizer: preset.quantizer as usize,
            speed_settings: rdo_lookahead_capped(SpeedSettings::from_preset(preset.speed)),
            // No reordering: which slot holds the last shown frame is then known (module doc).
            low_latency: true,
            ..Default::default()
        };
        let cfg = Config::new().with_encoder_config(enc).with_threads(threads);
        let ctx = cfg.new_context().map_err(|e| EncodeError::new("AV1", e))?;
        Ok(Av1Encoder {
            ctx,
            width: width as usize,
            last: None,
            sent: VecDeque::new(),
            frames: 0,
            held: 0,
            gop_start: 0,
        })
    }

    fn push(&mut self, f: Arc<rav1e::Frame<u8>>) -> Result<(), EncodeError> {
        match self.ctx.send_frame(f) {
            Ok(()) => {
                self.sent.push_back(Sent { frame: self.frames, repeats: 0 });
                self.frames += 1;
                Ok(())
            }
            Err(e) => Err(EncodeError::new("AV1", format_args!("rav1e: {e}"))),
        }
    }
}

impl VideoEncoder for Av1Encoder {
    /// rav1e takes no quantizer per frame: every new picture is coded alike.
    fn send(&mut self, frame: &Yuv420, _kind: FrameKind) -> Result<(), EncodeError> {
        let mut f = self.ctx.new_frame();
        let w = self.width;
        f.planes[0].copy_from_raw_u8(&frame.y, w, 1);
        f.planes[1].copy_from_raw_u8(&frame.u, w / 2, 1);
        f.planes[2].copy_from_raw_u8(&frame.v, w / 2, 1);
        // rav1e reads past the picture edge; planes take the luma size and pad themselves.
        let h = frame.height as usize;
        for plane in f.planes.iter_mut() {
            plane.pad(w, h);
        }
        let f = Arc::new(f);
        self.last = Some(f.clone());
        self.held = 0;
        self.push(f)
    }

    /// The first repeat of a picture is encoded (an inter frame, so it can be re-shown; the
    /// frame is shared, not converted again); later ones re-show it (module doc).
    fn repeat(&mut self) -> Result<(), EncodeError> {
        let f = self.last.clone().ok_or_else(|| EncodeError::new("AV1", "repeat() before any frame"))?;
        self.held += 1;
        if self.held == 1 {
            return self.push(f);
        }
        let last = self.sent.back_mut().ok_or_else(|| EncodeError::new("AV1", "repeat of a frame already out"))?;
        last.repeats += 1;
        self.frames += 1;
        Ok(())
    }

    fn flush(&mut self) {
        self.ctx.flush();
    }

    fn receive(&mut self, out: &mut Vec<Packet>) -> Result<bool, EncodeError> {
        loop {
            match self.ctx.receive_packet() {
                Ok(p) => {
                    let sent = self.sent.pop_front().ok_or_else(|| EncodeError::new("AV1", "a packet nobody sent"))?;
                    let keyframe = p.frame_type == FrameType::KEY;
                    if keyframe {
                        self.gop_start = p.input_frameno;
                    }
                    out.push(Packet { keyframe, frame: sent.frame, data: p.data });
                    if sent.repeats > 0 {
                        if keyframe {
                            return Err(EncodeError::new("AV1", "a key frame cannot be shown again"));
                        }
                        let slot = ((p.input_frameno - self.gop_start) & 3) as u8;
                        let tu = show_existing_tu(slot);
                        for k in 1..=sent.repeats {
                            out.push(Packet { keyframe: false, frame: sent.frame + k, data: tu.to_vec() });
                        }
                    }
                }
                Err(EncoderStatus::Encoded) => continue,
                Err(EncoderStatus::NeedMoreData) => return Ok(true),
                Err(EncoderStatus::LimitReached) => return Ok(false),
                Err(e) => return Err(EncodeError::new("AV1", format_args!("rav1e: {e}"))),
            }
        }
    }
}

/// The sequence-header OBU (with its header and size field) from a temporal unit.
pub fn sequence_header_obu(tu: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while i < tu.len() {
        let header = tu[i];
        let obu_type = (header >> 3) & 0x0f;
        let has_ext = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut j = i + 1 + has_ext as usize;
        if !has_size {
            return None;
        }
        let (size, n) = leb128(tu.get(j..)?)?;
        j += n;
        let end = j.checked_add(size as usize)?;
        if end > tu.len() {
            return None;
        }
        if obu_type == 1 {
            return Some(tu[i..end].to_vec());
        }
        i = end;
    }
    None
}

fn leb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(8).enumerate() {
        v |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_annex_a() {
        assert_eq!(level_idx(1280, 720, FrameRate::whole(30)), 5);
        assert_eq!(level_idx(1920, 1080, FrameRate::whole(30)), 8);
        assert_eq!(level_idx(1920, 1080, FrameRate::whole(60)), 9);
        assert_eq!(level_idx(3840, 2160, FrameRate::whole(30)), 12);
        assert_eq!(level_idx(854, 480, FrameRate::whole(30)), 4);
    }

    #[test]
    fn show_existing_header_names_the_slot() {
        // rav1e's own pyramid writes slot 4 as `12 00 1a 01 c8`.
        assert_eq!(show_existing_tu(4), [0x12, 0x00, 0x1a, 0x01, 0xc8]);
        assert_eq!(show_existing_tu(0), [0x12, 0x00, 0x1a, 0x01, 0x88]);
        assert_eq!(show_existing_tu(3), [0x12, 0x00, 0x1a, 0x01, 0xb8]);
    }

    /// A still held 30 frames costs two encoded frames; the rest are 5-byte re-shows, in
    /// order, one packet per frame, and no key frame is re-shown.
    #[test]
    fn held_stills_are_encoded_twice_and_shown_again() {
        let mut enc = Av1Encoder::new(
            64,
            64,
            FrameRate::whole(15),
            EncodePreset { speed: 10, motion_speed: 10, quantizer: 120, h264: H264Qp::around(26) },
            1,
        )
        .expect("encoder");
        let mut frame = Yuv420::new(64, 64);
        let mut out = Vec::new();
        for still in 0..3u8 {
            frame.y.fill(40 + still * 60);
            enc.send(&frame, FrameKind::Regular).expect("send");
            for _ in 0..29 {
                enc.repeat().expect("repeat");
            }
            enc.receive(&mut out).expect("receive");
        }
        enc.flush();
        while enc.receive(&mut out).expect("receive") {}
        assert_eq!(out.len(), 90);
        assert!(out.iter().enumerate().all(|(i, p)| p.frame == i as u64), "one packet per frame, in order");
        let reshown: Vec<usize> = out.iter().enumerate().filter(|(_, p)| p.data.len() == 5).map(|(i, _)| i).collect();
        assert_eq!(reshown.len(), 3 * 28, "all but two frames of each still");
        assert!(out[0].keyframe && !out[1].keyframe && out[1].data.len() > 5);
        // rav1e got frames 0 (key), 1 (refinement: order hint 1, slot 1), 2 (the second
        // still) and 3 (its refinement): slot 3, or slot 1 when rav1e made the cut a key frame.
        assert_eq!(out[2].data, show_existing_tu(1));
        assert_eq!(out[32].data, show_existing_tu(if out[30].keyframe { 1 } else { 3 }));
    }

    #[test]
    fn finds_sequence_header_after_temporal_delimiter() {
        // TD (type 2, size 0), then a type-1 OBU of 3 bytes.
        let tu = [0x12, 0x00, 0x0a, 0x03, 1, 2, 3, 0x32, 0x00];
        assert_eq!(sequence_header_obu(&tu).unwrap(), vec![0x0a, 0x03, 1, 2, 3]);
        assert!(sequence_header_obu(&[0x12, 0x00]).is_none());
    }
}
