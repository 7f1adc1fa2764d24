//! AV1 encoding with SVT-AV1 (the `libSvtAv1Enc` C library, through the bridge in
//! `csrc/svt_av1.c`), behind [`VideoEncoder`]: the encoder of videos whose picture moves.
//!
//! Enter: [`Yuv420`] frames; a repeat is the previous picture sent again (SVT-AV1 codes an
//! unchanged picture in a few bytes by itself). Leave: [`Packet`]s, one temporal unit per
//! input frame, in presentation order (SVT-AV1 folds its hidden frames into the temporal unit
//! that shows the next frame, and re-shows them with `show_existing_frame`); the first
//! carries the sequence header the MP4 `av1C` box takes.
//!
//! Why a second AV1 encoder: when every frame is a new picture (video, Ken Burns), rav1e at
//! its fastest speed spent ~10x the CPU of SVT-AV1 preset 12 on the same frames, for a larger
//! file at the same SSIM (`docs/performance.md`, "Issue 18, fourth pass"). A slideshow of held
//! stills stays with rav1e ([`super::Av1Encoder`]), which re-shows each held picture without
//! coding it. The choice is made once per video ([`super::StreamSpec::moving`]), never per
//! segment: segments are joined into one stream under one sequence header.
//!
//! Settings: preset [`SVT_PRESET`], CRF from the quality ([`EncodePreset::svt_crf`]), closed
//! GOPs with a key frame at least every [`KEYFRAME_SECONDS`](super::KEYFRAME_SECONDS), no scene-change key frames, BT.709
//! limited range, one thread per encoder (the renderer runs one encoder per core on its own
//! segment, and the bytes must not depend on the machine).
//!
//! All of the crate's SVT-AV1 FFI is in this module; each `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use super::{keyframe_interval, EncodeError, FrameKind, Packet, VideoEncoder};
use crate::frame::Yuv420;
use crate::frame_rate::FrameRate;
use crate::plan::EncodePreset;

const CODEC: &str = "AV1 (SVT-AV1)";

/// SVT-AV1's speed preset for every quality: its fastest, the one the bench's ffmpeg pipelines
/// use. The quality follows the CRF.
pub const SVT_PRESET: i32 = 12;

/// SVT-AV1 refuses frames narrower or shorter than this (pixels); such a video stays with rav1e.
pub const SVT_MIN_SIDE: u32 = 64;

/// The bridge's encoder state (opaque here).
#[repr(C)]
struct Raw {
    _private: [u8; 0],
}

extern "C" {
    fn samvideo_svt_open(
        width: u32,
        height: u32,
        fps_num: u32,
        fps_den: u32,
        preset: i32,
        crf: u32,
        keyint: i32,
        threads: u32,
        err: *mut i32,
    ) -> *mut Raw;
    fn samvideo_svt_send(
        e: *mut Raw,
        y: *const u8,
        u: *const u8,
        v: *const u8,
        width: u32,
        height: u32,
        pts: i64,
    ) -> i32;
    fn samvideo_svt_flush(e: *mut Raw) -> i32;
    fn samvideo_svt_receive(
        e: *mut Raw,
        wait: i32,
        data: *mut *mut u8,
        len: *mut u32,
        keyframe: *mut i32,
        pts: *mut i64,
    ) -> i32;
    fn samvideo_svt_free_packet(data: *mut u8);
    fn samvideo_svt_close(e: *mut Raw);
    fn samvideo_svt_version() -> *const std::os::raw::c_char;
}

/// SVT-AV1 prints its settings to stderr at every encoder start unless `SVT_LOG` (read when an
/// encoder starts) says otherwise: errors only (level 1), unless the operator set it.
fn quiet_library_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("SVT_LOG").is_none() {
            std::env::set_var("SVT_LOG", "1");
        }
    });
}

/// SVT-AV1 behind a small push/pull interface.
pub struct SvtAv1Encoder {
    raw: *mut Raw,
    width: u32,
    height: u32,
    /// The last picture sent: a repeat sends it again.
    last: Option<Yuv420>,
    /// Frames sent so far: the presentation time of the next one.
    sent: i64,
    /// Packets received so far: the frame the next one must show.
    received: i64,
    /// The caller said there are no more frames ([`VideoEncoder::flush`]).
    flushed: bool,
    /// The library was told the stream ends.
    eos_sent: bool,
    /// The library gave its last packet.
    drained: bool,
}

/// What the library answers when asked for a packet.
enum Got {
    /// No packet ready yet.
    Nothing,
    /// A temporal unit, showing frame `pts`.
    Packet { data: Vec<u8>, keyframe: bool, pts: i64 },
    /// The stream is over.
    End,
}

// SAFETY: the encoder handle is only used through `&mut self`, one call at a time; SVT-AV1's
// own threads live inside the library, which allows calls from any one thread at a time.
unsafe impl Send for SvtAv1Encoder {}

impl SvtAv1Encoder {
    /// The version of the SVT-AV1 library loaded (e.g. `v1.4.1`): its bytes change between
    /// versions, so split renders name it in their engine (`render/parts`).
    pub fn library_version() -> String {
        // SAFETY: the library returns a static NUL-terminated string (or null).
        let v = unsafe { samvideo_svt_version() };
        if v.is_null() {
            return "unknown".into();
        }
        // SAFETY: non-null, NUL-terminated and static (above).
        unsafe { std::ffi::CStr::from_ptr(v) }.to_string_lossy().into_owned()
    }

    /// SVT-AV1 encodes frames of this size ([`SVT_MIN_SIDE`]).
    pub fn takes(width: u32, height: u32) -> bool {
        width >= SVT_MIN_SIDE && height >= SVT_MIN_SIDE
    }

    /// An encoder for `width`x`height` at `fps`; `threads` is SVT-AV1's logical-processor count.
    pub fn new(
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: EncodePreset,
        threads: usize,
    ) -> Result<SvtAv1Encoder, EncodeError> {
        let (num, den) = fps.as_fraction();
        let keyint = i32::try_from(keyframe_interval(fps)).unwrap_or(i32::MAX);
        quiet_library_log();
        let mut err = 0i32;
        // SAFETY: plain values in, a pointer out that we own until `Drop`.
        let raw = unsafe {
            samvideo_svt_open(
                width,
                height,
                num,
                den,
                SVT_PRESET,
                u32::from(preset.svt_crf()),
                keyint,
                threads.max(1) as u32,
                &mut err,
            )
        };
        if raw.is_null() {
            return Err(EncodeError::new(CODEC, format_args!("the library refused the settings (error {err:#x})")));
        }
        Ok(SvtAv1Encoder {
            raw,
            width,
            height,
            last: None,
            sent: 0,
            received: 0,
            flushed: false,
            eos_sent: false,
            drained: false,
        })
    }

    fn push(&mut self, frame: &Yuv420) -> Result<(), EncodeError> {
        if frame.width != self.width || frame.height != self.height {
            return Err(EncodeError::new(CODEC, "a frame of another size"));
        }
        // SAFETY: the planes are `width`x`height` 4:2:0 and live through the call; the library
        // copies them before it returns.
        let r = unsafe {
            samvideo_svt_send(
                self.raw,
                frame.y.as_ptr(),
                frame.u.as_ptr(),
                frame.v.as_ptr(),
                self.width,
                self.height,
                self.sent,
            )
        };
        if r != 0 {
            return Err(EncodeError::new(CODEC, format_args!("sending frame {} failed (error {r:#x})", self.sent)));
        }
        self.sent += 1;
        Ok(())
    }

    /// Tell the library the stream ends (once).
    fn end_of_stream(&mut self) {
        if !self.eos_sent {
            self.eos_sent = true;
            // SAFETY: a live handle; an end-of-stream buffer carries no picture.
            unsafe { samvideo_svt_flush(self.raw) };
        }
    }

    /// The library's next packet; `wait` blocks until it comes (only after the end of stream).
    fn next_packet(&mut self, wait: bool) -> Result<Got, EncodeError> {
        let (mut data, mut len, mut keyframe, mut pts) = (std::ptr::null_mut(), 0u32, 0i32, 0i64);
        // SAFETY: out-pointers to locals; a returned buffer is ours, freed below.
        let r = unsafe { samvideo_svt_receive(self.raw, wait as i32, &mut data, &mut len, &mut keyframe, &mut pts) };
        let bytes = if data.is_null() {
            Vec::new()
        } else {
            // SAFETY: the bridge allocated `len` bytes at `data`, ours until freed.
            let v = unsafe { std::slice::from_raw_parts(data, len as usize) }.to_vec();
            // SAFETY: freed once, after the copy above.
            unsafe { samvideo_svt_free_packet(data) };
            v
        };
        self.drained |= r == 2 || r == 3;
        match r {
            0 => Ok(Got::Nothing),
            1 | 3 => Ok(Got::Packet { data: bytes, keyframe: keyframe != 0, pts }),
            2 => Ok(Got::End),
            e => Err(EncodeError::new(CODEC, format_args!("receiving a packet failed (error {e:#x})"))),
        }
    }
}

impl VideoEncoder for SvtAv1Encoder {
    /// SVT-AV1 takes no hint per frame: its own look-ahead sees the transitions.
    fn send(&mut self, frame: &Yuv420, _kind: FrameKind) -> Result<(), EncodeError> {
        self.push(frame)?;
        match &mut self.last {
            Some(last) => last.clone_from(frame),
            None => self.last = Some(frame.clone()),
        }
        Ok(())
    }

    fn repeat(&mut self) -> Result<(), EncodeError> {
        let last = self.last.take().ok_or_else(|| EncodeError::new(CODEC, "repeat() before any frame"))?;
        let result = self.push(&last);
        self.last = Some(last);
        result
    }

    /// Ends the library's stream; a stream of no frames is not started at all (the library
    /// would never end it).
    fn flush(&mut self) {
        self.flushed = true;
        if self.sent > 0 {
            self.end_of_stream();
        }
    }

    fn receive(&mut self, out: &mut Vec<Packet>) -> Result<bool, EncodeError> {
        if self.flushed && !self.eos_sent {
            return Ok(false);
        }
        while !self.drained {
            match self.next_packet(self.eos_sent)? {
                Got::Nothing => return Ok(true),
                Got::End => {}
                Got::Packet { data, keyframe, pts } => {
                    if pts != self.received {
                        return Err(EncodeError::new(
                            CODEC,
                            format_args!("a packet for frame {pts} where frame {} was due", self.received),
                        ));
                    }
                    out.push(Packet { data, keyframe, frame: self.received as u64 });
                    self.received += 1;
                }
            }
        }
        if self.received != self.sent {
            return Err(EncodeError::new(CODEC, format_args!("{} packets for {} frames", self.received, self.sent)));
        }
        Ok(false)
    }
}

impl Drop for SvtAv1Encoder {
    /// SVT-AV1's close waits for its pipeline to empty, and an unfinished stream never does: an
    /// encoder dropped mid-stream (a cancelled render, an error in another part) first ends its
    /// stream and drains what is still in flight (a mini-GOP at most), or it would hang its
    /// thread for ever. (Tested: `an_encoder_dropped_mid_stream_closes`.)
    fn drop(&mut self) {
        // The library ends no empty stream (no packet would come after its end): give one
        // picture to end on.
        if self.sent == 0 && self.push(&Yuv420::new(self.width, self.height)).is_err() {
            self.drained = true;
        }
        if !self.drained {
            self.end_of_stream();
            while !self.drained && matches!(self.next_packet(true), Ok(Got::Packet { .. })) {}
        }
        // SAFETY: the handle came from `samvideo_svt_open` and is closed exactly once.
        unsafe { samvideo_svt_close(self.raw) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::H264Qp;

    /// Every frame gives one packet, in order, the first a key frame with the sequence header;
    /// repeats cost next to nothing.
    #[test]
    fn one_packet_per_frame_in_order() {
        let preset = EncodePreset { speed: 10, motion_speed: 10, quantizer: 110, h264: H264Qp::around(26) };
        let mut enc = SvtAv1Encoder::new(128, 72, FrameRate::whole(30), preset, 1).expect("encoder");
        let mut frame = Yuv420::new(128, 72);
        let mut out = Vec::new();
        for n in 0..40u32 {
            if n % 10 == 5 {
                enc.repeat().expect("repeat");
            } else {
                for (i, p) in frame.y.iter_mut().enumerate() {
                    *p = ((i as u32 + n * 3) % 200) as u8 + 16;
                }
                enc.send(&frame, FrameKind::Regular).expect("send");
            }
            enc.receive(&mut out).expect("receive");
        }
        enc.flush();
        while enc.receive(&mut out).expect("receive") {}
        assert_eq!(out.len(), 40);
        assert!(out.iter().enumerate().all(|(i, p)| p.frame == i as u64));
        assert!(out[0].keyframe && out[1..].iter().all(|p| !p.keyframe));
        assert!(super::super::sequence_header_obu(&out[0].data).is_some(), "the first packet has the sequence header");
    }

    /// A moving video smaller than SVT-AV1 takes (64 pixels a side) is encoded by rav1e.
    #[test]
    fn a_frame_under_64_pixels_goes_to_rav1e() {
        let preset = EncodePreset { speed: 10, motion_speed: 10, quantizer: 110, h264: H264Qp::around(26) };
        let spec = super::super::StreamSpec {
            codec: crate::plan::VideoCodec::Av1,
            width: 64,
            height: 36,
            fps: FrameRate::whole(15),
            preset,
            moving: true,
        };
        assert!(!SvtAv1Encoder::takes(64, 36) && SvtAv1Encoder::takes(64, 64));
        let mut enc = super::super::open(&spec, 1).expect("rav1e opens");
        let mut out = Vec::new();
        enc.send(&Yuv420::new(64, 36), FrameKind::Regular).expect("send");
        enc.flush();
        while enc.receive(&mut out).expect("receive") {}
        assert_eq!(out.len(), 1);
    }

    /// A cancelled render drops its encoder mid-stream, without an end of stream; an encoder
    /// may also end with no frame at all: neither may hang or crash.
    #[test]
    fn an_encoder_dropped_mid_stream_closes() {
        let preset = EncodePreset { speed: 10, motion_speed: 10, quantizer: 110, h264: H264Qp::around(26) };
        let mut enc = SvtAv1Encoder::new(128, 72, FrameRate::whole(30), preset, 1).expect("encoder");
        let frame = Yuv420::new(128, 72);
        for _ in 0..20 {
            enc.send(&frame, FrameKind::Regular).expect("send");
        }
        drop(enc);
        let never_fed = SvtAv1Encoder::new(128, 72, FrameRate::whole(30), preset, 1).expect("encoder");
        drop(never_fed);
        let mut flushed_empty = SvtAv1Encoder::new(128, 72, FrameRate::whole(30), preset, 1).expect("encoder");
        flushed_empty.flush();
        let mut out = Vec::new();
        assert!(!flushed_empty.receive(&mut out).expect("receive"), "an empty stream ends at once");
        assert!(out.is_empty());
        drop(flushed_empty);
    }
}
