//! H.264 encoding with openh264 (built from source), behind [`VideoEncoder`].
//!
//! Enter: [`Yuv420`] frames. Leave: [`Packet`]s, one access unit per input frame, as MP4
//! samples (4-byte lengths before each NAL unit); key frames also carry the SPS and PPS, which
//! the muxer moves into the `avcC` box (`mux/mp4.rs`).
//!
//! Why the raw API: the `openh264` crate's safe encoder only writes CAVLC streams (its
//! `Profile::High` relabels one) and defaults to a 120 kbps target with frame skipping. Here
//! the encoder runs High profile with CABAC (10.8 % fewer bytes than CAVLC for the same
//! picture, `bench/codec-eval.md`), rate control off at fixed QPs from the quality preset
//! ([`H264Qp`]: a transition frame coarser than a new picture; a held still refined once, on
//! its second frame, at a low QP, then repeated at a coarser QP that leaves every macroblock
//! skipped — what x264's macroblock tree does by analysis, known here from the plan),
//! one reference frame and no B-frames (every GOP is closed, decode order is presentation
//! order, so the MP4 needs no `ctts`), BT.709 limited-range VUI, an IDR only at the first
//! frame (a segment is at most [`KEYFRAME_SECONDS`](super::KEYFRAME_SECONDS) long and each starts a new encoder), one
//! thread and one slice: deterministic, so the file does not depend on the worker count.
//!
//! All of the crate's H.264 encoder FFI is in this module; each `unsafe` block says why it
//! is sound.
#![allow(unsafe_code)]

use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;

use openh264_sys2::{
    source::APILoader, ISVCEncoder, ISVCEncoderVtbl, SEncParamExt, SFrameBSInfo, SSourcePicture,
    CAMERA_VIDEO_REAL_TIME, CONSTANT_ID, ENCODER_OPTION_DATAFORMAT, ENCODER_OPTION_SVC_ENCODE_PARAM_EXT,
    ENCODER_OPTION_TRACE_LEVEL, HIGH_COMPLEXITY, PRO_HIGH, RC_OFF_MODE, SM_SINGLE_SLICE, WELS_LOG_QUIET,
};

use super::{keyframe_interval, EncodeError, FrameKind, Packet, VideoEncoder};
use crate::frame::Yuv420;
use crate::frame_rate::FrameRate;
use crate::plan::{EncodePreset, H264Qp};

const CODEC: &str = "H.264";

/// openh264's largest frame (its level 5.2 limit, either orientation).
const MAX_LONG_SIDE: u32 = 3840;
const MAX_SHORT_SIDE: u32 = 2160;

/// openh264 behind the push/pull interface.
pub struct H264Encoder {
    encoder: *mut ISVCEncoder,
    vtbl: ISVCEncoderVtbl,
    width: u32,
    height: u32,
    /// Milliseconds per frame, for the encoder's (unused with rate control off) timestamps.
    frame_ms: f64,
    /// The last picture sent, for [`VideoEncoder::repeat`].
    last: Option<Yuv420>,
    frames: u64,
    ready: Vec<Packet>,
    flushed: bool,
    info: Box<SFrameBSInfo>,
    /// The parameters the encoder was initialized with (re-sent to change the QP).
    params: Box<SEncParamExt>,
    /// The QP the encoder runs at now.
    qp: u8,
    /// The preset's QPs.
    qps: H264Qp,
    /// Whether the last frame was a repeat (the still is refined already).
    held: bool,
}

// SAFETY: the encoder handle is owned by this value alone and openh264 keeps no thread-local
// state: moving it to another thread (a segment worker) is sound; it is never shared (`!Sync`).
unsafe impl Send for H264Encoder {}

/// H.264 `level_idc` (×10) for a frame size and rate (Table A-1: MaxFS and MaxMBPS, in
/// macroblocks), the smallest level that holds it.
pub fn level_idc(width: u32, height: u32, fps: FrameRate) -> u8 {
    let mbs = u64::from(width.div_ceil(16)) * u64::from(height.div_ceil(16));
    let (num, den) = fps.as_fraction();
    let mbps = (mbs * u64::from(num)).div_ceil(u64::from(den));
    const LEVELS: [(u8, u64, u64); 11] = [
        (30, 1_620, 40_500),
        (31, 3_600, 108_000),
        (32, 5_120, 216_000),
        (40, 8_192, 245_760),
        (41, 8_192, 245_760),
        (42, 8_704, 522_240),
        (50, 22_080, 589_824),
        (51, 36_864, 983_040),
        (52, 36_864, 2_073_600),
        (60, 139_264, 4_177_920),
        (61, 139_264, 8_355_840),
    ];
    // 4.0 and 4.1 differ in bitrate only; 4.0 is the one every device decodes.
    LEVELS.iter().find(|(_, fs, rate)| mbs <= *fs && mbps <= *rate).map(|l| l.0).unwrap_or(52)
}

impl H264Encoder {
    /// An encoder for `width`x`height` at `fps` with the preset's fixed QP.
    pub fn new(width: u32, height: u32, fps: FrameRate, preset: EncodePreset) -> Result<H264Encoder, EncodeError> {
        if width.max(height) > MAX_LONG_SIDE || width.min(height) > MAX_SHORT_SIDE {
            return Err(EncodeError::new(
                CODEC,
                format!("{width}x{height} is larger than the encoder's {MAX_LONG_SIDE}x{MAX_SHORT_SIDE}"),
            ));
        }
        let mut encoder: *mut ISVCEncoder = null_mut();
        // SAFETY: `WelsCreateSVCEncoder` writes a new encoder handle into the pointer we pass
        // (a valid `*mut *mut ISVCEncoder`); it returns non-zero and leaves it null on failure.
        let created = unsafe { APILoader::WelsCreateSVCEncoder(&mut encoder) };
        if created != 0 || encoder.is_null() {
            return Err(EncodeError::new(CODEC, "cannot create the encoder"));
        }
        // SAFETY: a created handle points at a pointer to the encoder's vtable, which lives as
        // long as the library (static); copying the table of function pointers is sound.
        let vtbl = unsafe { **encoder };
        let mut this = H264Encoder {
            encoder,
            vtbl,
            width,
            height,
            frame_ms: 1000.0 / fps.as_f64(),
            last: None,
            frames: 0,
            ready: Vec::new(),
            flushed: false,
            info: Box::default(),
            params: Box::default(),
            qp: preset.h264.picture.min(51),
            qps: preset.h264,
            held: false,
        };
        this.initialize(fps, preset)?;
        Ok(this)
    }

    fn initialize(&mut self, fps: FrameRate, preset: EncodePreset) -> Result<(), EncodeError> {
        let get_defaults = self.vtbl.GetDefaultParams.ok_or_else(|| missing("GetDefaultParams"))?;
        let initialize = self.vtbl.InitializeExt.ok_or_else(|| missing("InitializeExt"))?;
        let set_option = self.vtbl.SetOption.ok_or_else(|| missing("SetOption"))?;
        let mut p = SEncParamExt::default();
        // SAFETY: `self.encoder` is a live handle and `p` a valid, writable parameter struct.
        check(unsafe { get_defaults(self.encoder, &mut p) }, "GetDefaultParams")?;
        let (w, h) = (self.width as c_int, self.height as c_int);
        let rate = fps.as_f64() as f32;
        let qp = c_int::from(preset.h264.picture.min(51));
        p.iUsageType = CAMERA_VIDEO_REAL_TIME;
        p.iPicWidth = w;
        p.iPicHeight = h;
        p.fMaxFrameRate = rate;
        p.iRCMode = RC_OFF_MODE;
        p.iMinQp = qp;
        p.iMaxQp = qp;
        p.bEnableFrameSkip = false;
        p.uiIntraPeriod = u32::try_from(keyframe_interval(fps)).unwrap_or(u32::MAX);
        p.eSpsPpsIdStrategy = CONSTANT_ID;
        p.iEntropyCodingModeFlag = 1; // CABAC
        p.iComplexityMode = HIGH_COMPLEXITY;
        p.iNumRefFrame = 1;
        p.iMultipleThreadIdc = 1;
        p.bUseLoadBalancing = false;
        p.bEnableSceneChangeDetect = false; // a cut would add an IDR: keep GOPs to segments
                                            // Background detection skips macroblocks equal to the previous input: it would skip the
                                            // refinement of a held still (SSIM-Y 0.9534 with it, 0.9564 without, same job).
        p.bEnableBackgroundDetection = false;
        p.bEnableAdaptiveQuant = false; // no effect with rate control off (measured: same bytes)
        p.bEnableDenoise = false;
        p.bEnableLongTermReference = false;
        p.iSpatialLayerNum = 1;
        p.iTemporalLayerNum = 1;
        let layer = &mut p.sSpatialLayers[0];
        layer.iVideoWidth = w;
        layer.iVideoHeight = h;
        layer.fFrameRate = rate;
        layer.iDLayerQp = qp;
        layer.uiProfileIdc = PRO_HIGH;
        layer.uiLevelIdc = c_int::from(level_idc(self.width, self.height, fps));
        layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
        layer.sSliceArgument.uiSliceNum = 1;
        // VUI: component video, limited range, BT.709 primaries, transfer and matrix.
        layer.bVideoSignalTypePresent = true;
        layer.uiVideoFormat = 5;
        layer.bFullRange = false;
        layer.bColorDescriptionPresent = true;
        layer.uiColorPrimaries = 1;
        layer.uiTransferCharacteristics = 1;
        layer.uiColorMatrix = 1;
        let mut quiet: c_int = WELS_LOG_QUIET as c_int;
        let quiet_ptr = (&mut quiet as *mut c_int).cast::<c_void>();
        // SAFETY: a live handle; the option's value is a valid `c_int` for the duration of the call.
        let code = unsafe { set_option(self.encoder, ENCODER_OPTION_TRACE_LEVEL, quiet_ptr) };
        check(code, "trace level")?;
        // SAFETY: a live handle and a fully set parameter struct that outlives the call.
        check(unsafe { initialize(self.encoder, &p) }, "InitializeExt")?;
        let mut format: c_int = openh264_sys2::videoFormatI420 as c_int;
        let format_ptr = (&mut format as *mut c_int).cast::<c_void>();
        // SAFETY: as above, `format` is a valid `c_int` during the call.
        let code = unsafe { set_option(self.encoder, ENCODER_OPTION_DATAFORMAT, format_ptr) };
        check(code, "data format")?;
        *self.params = p;
        Ok(())
    }

    /// Encode the next frames at `qp` (rate control is off: openh264 reads the layer's QP
    /// per picture; changing it needs no new IDR or parameter sets).
    fn set_qp(&mut self, qp: u8) -> Result<(), EncodeError> {
        let qp = qp.min(51);
        if qp == self.qp {
            return Ok(());
        }
        let set_option = self.vtbl.SetOption.ok_or_else(|| missing("SetOption"))?;
        let p = &mut *self.params;
        p.iMinQp = c_int::from(qp);
        p.iMaxQp = c_int::from(qp);
        p.sSpatialLayers[0].iDLayerQp = c_int::from(qp);
        let ptr = (p as *mut SEncParamExt).cast::<c_void>();
        // SAFETY: a live handle; the option's value is the full parameter struct the encoder
        // was initialized with (only the QP differs), valid for the duration of the call.
        check(unsafe { set_option(self.encoder, ENCODER_OPTION_SVC_ENCODE_PARAM_EXT, ptr) }, "QP")?;
        self.qp = qp;
        Ok(())
    }

    fn encode(&mut self, frame: &Yuv420) -> Result<(), EncodeError> {
        if frame.width != self.width || frame.height != self.height {
            return Err(EncodeError::new(CODEC, "frame size changed"));
        }
        let encode = self.vtbl.EncodeFrame.ok_or_else(|| missing("EncodeFrame"))?;
        let (w, h) = (self.width as usize, self.height as usize);
        if frame.y.len() < w * h || frame.u.len() < w * h / 4 || frame.v.len() < w * h / 4 {
            return Err(EncodeError::new(CODEC, "frame planes are too small"));
        }
        let source = SSourcePicture {
            iColorFormat: openh264_sys2::videoFormatI420 as c_int,
            iStride: [w as c_int, (w / 2) as c_int, (w / 2) as c_int, 0],
            // The encoder only reads the planes (its API takes `*mut` for historical reasons).
            pData: [frame.y.as_ptr().cast_mut(), frame.u.as_ptr().cast_mut(), frame.v.as_ptr().cast_mut(), null_mut()],
            iPicWidth: w as c_int,
            iPicHeight: h as c_int,
            uiTimeStamp: (self.frames as f64 * self.frame_ms).round() as i64,
            bPsnrY: false,
            bPsnrU: false,
            bPsnrV: false,
        };
        // SAFETY: a live, initialized handle; `source` points at planes of the declared size and
        // stride (checked above) that outlive the call; `info` is a valid output struct.
        check(unsafe { encode(self.encoder, &source, &mut *self.info) }, "EncodeFrame")?;
        let packet = self.collect()?;
        self.ready.push(packet);
        self.frames += 1;
        Ok(())
    }

    /// The access unit in `self.info` as an MP4 sample.
    fn collect(&self) -> Result<Packet, EncodeError> {
        let info = &*self.info;
        if info.eFrameType == openh264_sys2::videoFrameTypeSkip {
            return Err(EncodeError::new(CODEC, "the encoder skipped a frame"));
        }
        let mut data = Vec::with_capacity(usize::try_from(info.iFrameSizeInBytes).unwrap_or(0) + 64);
        let layers = usize::try_from(info.iLayerNum).unwrap_or(0).min(info.sLayerInfo.len());
        for layer in &info.sLayerInfo[..layers] {
            let count = usize::try_from(layer.iNalCount).unwrap_or(0);
            if count == 0 || layer.pNalLengthInByte.is_null() || layer.pBsBuf.is_null() {
                continue;
            }
            // SAFETY: openh264 fills `pNalLengthInByte` with `iNalCount` lengths, and `pBsBuf`
            // with that many NAL units back to back; both stay valid until the next
            // EncodeFrame call, and we copy out of them before returning.
            let lengths = unsafe { std::slice::from_raw_parts(layer.pNalLengthInByte, count) };
            let total: usize = lengths.iter().map(|&l| usize::try_from(l).unwrap_or(0)).sum();
            // SAFETY: as above: the NAL units of the layer are `total` contiguous bytes.
            let bytes = unsafe { std::slice::from_raw_parts(layer.pBsBuf, total) };
            let mut at = 0;
            for &len in lengths {
                let len = usize::try_from(len).unwrap_or(0);
                let nal = strip_start_code(&bytes[at..at + len]);
                at += len;
                // Access unit delimiters carry nothing an MP4 sample needs.
                if nal.first().is_some_and(|b| b & 0x1f == 9) || nal.is_empty() {
                    continue;
                }
                data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                data.extend_from_slice(nal);
            }
        }
        if data.is_empty() {
            return Err(EncodeError::new(CODEC, "the encoder returned an empty frame"));
        }
        let keyframe = info.eFrameType == openh264_sys2::videoFrameTypeIDR;
        Ok(Packet { data, keyframe, frame: self.frames })
    }
}

/// A NAL unit without its Annex B start code (`00 00 01` or `00 00 00 01`).
fn strip_start_code(nal: &[u8]) -> &[u8] {
    match nal {
        [0, 0, 0, 1, rest @ ..] | [0, 0, 1, rest @ ..] => rest,
        other => other,
    }
}

fn missing(function: &str) -> EncodeError {
    EncodeError::new(CODEC, format!("the library has no {function}"))
}

fn check(code: c_int, call: &str) -> Result<(), EncodeError> {
    if code == 0 {
        Ok(())
    } else {
        Err(EncodeError::new(CODEC, format!("{call} failed ({code})")))
    }
}

impl VideoEncoder for H264Encoder {
    fn send(&mut self, frame: &Yuv420, kind: FrameKind) -> Result<(), EncodeError> {
        self.held = false;
        self.set_qp(match kind {
            FrameKind::Transition => self.qps.transition,
            FrameKind::Regular => self.qps.picture,
        })?;
        self.encode(frame)?;
        match &mut self.last {
            Some(last) => {
                last.y.copy_from_slice(&frame.y);
                last.u.copy_from_slice(&frame.u);
                last.v.copy_from_slice(&frame.v);
            }
            None => self.last = Some(frame.clone()),
        }
        Ok(())
    }

    /// A repeat is encoded as a new frame: the first one at the still's QP refines the
    /// picture; the next ones, at the coarser hold QP, code (nearly) every macroblock as
    /// skipped (a few bytes, little CPU).
    fn repeat(&mut self) -> Result<(), EncodeError> {
        let last = self.last.take().ok_or_else(|| EncodeError::new(CODEC, "repeat before the first frame"))?;
        let qp = if self.held { self.qps.hold } else { self.qps.still };
        self.held = true;
        let result = self.set_qp(qp).and_then(|()| self.encode(&last));
        self.last = Some(last);
        result
    }

    fn flush(&mut self) {
        self.flushed = true;
    }

    fn receive(&mut self, out: &mut Vec<Packet>) -> Result<bool, EncodeError> {
        out.append(&mut self.ready);
        Ok(!self.flushed)
    }
}

impl Drop for H264Encoder {
    fn drop(&mut self) {
        if let Some(uninitialize) = self.vtbl.Uninitialize {
            // SAFETY: the handle is live; uninitializing an encoder whose init failed is allowed.
            unsafe { uninitialize(self.encoder) };
        }
        // SAFETY: the handle came from WelsCreateSVCEncoder and is destroyed exactly once.
        unsafe { APILoader::WelsDestroySVCEncoder(self.encoder) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_table_a1() {
        let fps30 = FrameRate::whole(30);
        assert_eq!(level_idc(854, 480, FrameRate::whole(24)), 30);
        assert_eq!(level_idc(854, 480, fps30), 31, "48 600 macroblocks/s: over 3.0's 40 500");
        assert_eq!(level_idc(1280, 720, fps30), 31);
        assert_eq!(level_idc(1280, 720, FrameRate::whole(60)), 32);
        assert_eq!(level_idc(1920, 1080, fps30), 40);
        assert_eq!(level_idc(1080, 1920, fps30), 40);
        assert_eq!(level_idc(1920, 1080, FrameRate::whole(60)), 42);
        assert_eq!(level_idc(3840, 2160, fps30), 51);
    }

    #[test]
    fn start_codes_are_stripped() {
        assert_eq!(strip_start_code(&[0, 0, 0, 1, 0x65, 1]), &[0x65, 1]);
        assert_eq!(strip_start_code(&[0, 0, 1, 0x41]), &[0x41]);
        assert_eq!(strip_start_code(&[0x41]), &[0x41]);
    }
}
