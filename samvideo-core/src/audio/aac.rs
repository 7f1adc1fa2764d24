//! 48 kHz stereo `f32` in, AAC-LC access units out (1024 samples each), for H.264 files.
//!
//! Wraps the Fraunhofer FDK AAC encoder (`fdk-aac-sys`, built from the bundled source): raw
//! access units (no ADTS), constant bitrate, afterburner on. Chosen over the pure-Rust
//! `rusty_aac` by measurement (`bench/codec-eval.md`: 36.7 dB music SNR at 128 kbps against
//! 10.0 dB); its licence terms are in `docs/output-formats.md`.
//!
//! Timing without an edit list (Instagram refuses files with one): FDK's output starts
//! [`AacEncoder`]'s encoder delay (2048 samples) before the first input sample. The first
//! whole frames of that delay are dropped, except one: a frame's first half only holds the
//! windowed input of the frame before it, so dropping frames that encode silence loses
//! nothing. What is left, [`AacEncoder::priming`] (1024 samples, 21.3 ms), plays as
//! silence before the audio: the audio starts at most one AAC frame after the video.
#![allow(unsafe_code)]

use std::os::raw::c_void;
use std::ptr::null_mut;

use fdk_aac_sys as fdk;

use super::{check_interleaved, AudioError, AudioPacket, CHANNELS, SAMPLE_RATE};

/// Samples (per channel) in every AAC-LC frame.
pub const AAC_FRAME_SAMPLES: usize = 1024;

/// Streaming AAC-LC encoder for 48 kHz stereo interleaved `f32`.
pub struct AacEncoder {
    handle: fdk::HANDLE_AACENCODER,
    /// One frame of pending input, interleaved 16-bit; `pending` samples of it are filled.
    frame: Vec<i16>,
    pending: usize,
    out: Vec<u8>,
    config: Vec<u8>,
    /// Encoder frames still to drop from the start (see the module doc).
    drop_frames: usize,
    priming: u32,
    input_frames: u64,
    packets: u64,
}

// SAFETY: the encoder handle is owned by this value alone and FDK keeps no thread-local state;
// it moves to the muxing thread once and is never shared.
unsafe impl Send for AacEncoder {}

impl std::fmt::Debug for AacEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacEncoder").field("priming", &self.priming).field("input_frames", &self.input_frames).finish()
    }
}

fn fail(call: &str, code: fdk::AACENC_ERROR) -> AudioError {
    AudioError::Aac(format!("{call} failed (0x{code:x})"))
}

impl AacEncoder {
    /// A 48 kHz stereo AAC-LC encoder at `bitrate` b/s (constant bitrate).
    pub fn new(bitrate: u32) -> Result<AacEncoder, AudioError> {
        if !(32_000..=320_000).contains(&bitrate) {
            return Err(AudioError::InvalidBitrate(bitrate));
        }
        let mut handle: fdk::HANDLE_AACENCODER = null_mut();
        // SAFETY: aacEncOpen writes a new handle into the pointer we pass; 0 modules means "all",
        // 2 is the most channels this instance will take.
        let code = unsafe { fdk::aacEncOpen(&mut handle, 0, 2) };
        if code != fdk::AACENC_ERROR_AACENC_OK || handle.is_null() {
            return Err(fail("aacEncOpen", code));
        }
        let mut this = AacEncoder {
            handle,
            frame: vec![0; AAC_FRAME_SAMPLES * CHANNELS],
            pending: 0,
            out: Vec::new(),
            config: Vec::new(),
            drop_frames: 0,
            priming: 0,
            input_frames: 0,
            packets: 0,
        };
        let params = [
            (fdk::AACENC_PARAM_AACENC_AOT, 2),                  // AAC-LC
            (fdk::AACENC_PARAM_AACENC_SAMPLERATE, SAMPLE_RATE), // 48 kHz
            (fdk::AACENC_PARAM_AACENC_CHANNELMODE, 2),          // stereo
            (fdk::AACENC_PARAM_AACENC_CHANNELORDER, 1),         // WAV order: L, R
            (fdk::AACENC_PARAM_AACENC_BITRATEMODE, 0),          // constant bitrate
            (fdk::AACENC_PARAM_AACENC_BITRATE, bitrate),
            (fdk::AACENC_PARAM_AACENC_TRANSMUX, 0), // raw access units
            (fdk::AACENC_PARAM_AACENC_AFTERBURNER, 1),
        ];
        for (param, value) in params {
            // SAFETY: a live handle; plain integer parameters.
            let code = unsafe { fdk::aacEncoder_SetParam(this.handle, param, value) };
            if code != fdk::AACENC_ERROR_AACENC_OK {
                return Err(fail("aacEncoder_SetParam", code));
            }
        }
        // SAFETY: a live handle; all-null buffers with no input ask the encoder to apply the
        // parameters (documented initialization call).
        let code =
            unsafe { fdk::aacEncEncode(this.handle, std::ptr::null(), std::ptr::null(), std::ptr::null(), null_mut()) };
        if code != fdk::AACENC_ERROR_AACENC_OK {
            return Err(fail("aacEncEncode (init)", code));
        }
        // SAFETY: a zeroed info struct is a valid output buffer for aacEncInfo.
        let mut info: fdk::AACENC_InfoStruct = unsafe { std::mem::zeroed() };
        // SAFETY: a live handle and a valid, writable info struct.
        let code = unsafe { fdk::aacEncInfo(this.handle, &mut info) };
        if code != fdk::AACENC_ERROR_AACENC_OK {
            return Err(fail("aacEncInfo", code));
        }
        let conf = (info.confSize as usize).min(info.confBuf.len());
        this.config = info.confBuf[..conf].to_vec();
        this.out = vec![0; (info.maxOutBufBytes as usize).max(8192)];
        let delay = info.nDelay as usize;
        this.drop_frames = (delay / AAC_FRAME_SAMPLES).saturating_sub(1);
        this.priming = (delay - this.drop_frames * AAC_FRAME_SAMPLES) as u32;
        Ok(this)
    }

    /// The AudioSpecificConfig for the MP4 `esds` box (AAC-LC, 48 kHz, stereo: `11 90`).
    pub fn config(&self) -> &[u8] {
        &self.config
    }

    /// Samples of silence the stream starts with (the encoder delay left after dropping whole
    /// frames of it): 1024 with this encoder, 21.3 ms.
    pub fn priming(&self) -> u32 {
        self.priming
    }

    /// Encodes interleaved stereo `pcm` (any length; a trailing partial frame is kept for the
    /// next call) and returns the access units completed by it.
    pub fn encode(&mut self, pcm: &[f32]) -> Result<Vec<AudioPacket>, AudioError> {
        check_interleaved(pcm).map_err(AudioError::Aac)?;
        self.input_frames += (pcm.len() / CHANNELS) as u64;
        let mut packets = Vec::new();
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.frame.len() - self.pending).min(rest.len());
            to_i16(&rest[..take], &mut self.frame[self.pending..self.pending + take]);
            self.pending += take;
            rest = &rest[take..];
            if self.pending == self.frame.len() {
                self.pending = 0;
                if let Some(p) = self.encode_call(Some(self.frame.len()))? {
                    self.keep(p, &mut packets);
                }
            }
        }
        Ok(packets)
    }

    /// Pads the last partial frame with silence, drains the encoder and returns the last
    /// access units: in total the stream holds `ceil((priming + input_frames) / 1024)` of them.
    pub fn finish(mut self) -> Result<Vec<AudioPacket>, AudioError> {
        let mut packets = Vec::new();
        if self.pending > 0 {
            self.frame[self.pending..].fill(0);
            self.pending = 0;
            if let Some(p) = self.encode_call(Some(self.frame.len()))? {
                self.keep(p, &mut packets);
            }
        }
        let needed = (u64::from(self.priming) + self.input_frames).div_ceil(AAC_FRAME_SAMPLES as u64);
        // Each flush call returns one access unit; a few spare calls allow for empty ones.
        let mut calls = (needed.saturating_sub(self.packets) + self.drop_frames as u64 + 4) * 2;
        while self.packets < needed && calls > 0 {
            calls -= 1;
            if let Some(p) = self.encode_call(None)? {
                self.keep(p, &mut packets);
            }
        }
        Ok(packets)
    }

    fn keep(&mut self, packet: AudioPacket, into: &mut Vec<AudioPacket>) {
        if self.drop_frames > 0 {
            self.drop_frames -= 1;
        } else {
            self.packets += 1;
            into.push(packet);
        }
    }

    /// One encoder call: `Some(n)` gives it the `n` samples of `self.frame`, `None` flushes.
    /// Returns the access unit it completed, if any (`None` at the end of a flush).
    fn encode_call(&mut self, samples: Option<usize>) -> Result<Option<AudioPacket>, AudioError> {
        let mut in_ptr = self.frame.as_mut_ptr().cast::<c_void>();
        let mut in_id: i32 = fdk::AACENC_BufferIdentifier_IN_AUDIO_DATA as i32;
        let mut in_size: i32 = (self.frame.len() * 2) as i32;
        let mut in_el: i32 = 2;
        let in_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut in_ptr,
            bufferIdentifiers: &mut in_id,
            bufSizes: &mut in_size,
            bufElSizes: &mut in_el,
        };
        let mut out_ptr = self.out.as_mut_ptr().cast::<c_void>();
        let mut out_id: i32 = fdk::AACENC_BufferIdentifier_OUT_BITSTREAM_DATA as i32;
        let mut out_size: i32 = self.out.len() as i32;
        let mut out_el: i32 = 1;
        let out_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut out_ptr,
            bufferIdentifiers: &mut out_id,
            bufSizes: &mut out_size,
            bufElSizes: &mut out_el,
        };
        let in_args = fdk::AACENC_InArgs { numInSamples: samples.map(|n| n as i32).unwrap_or(-1), numAncBytes: 0 };
        // SAFETY: a zeroed OutArgs is a valid output struct.
        let mut out_args: fdk::AACENC_OutArgs = unsafe { std::mem::zeroed() };
        // SAFETY: a live handle; every descriptor points at locals and buffers that outlive the
        // call, with their true sizes in bytes; the input holds `numInSamples` 16-bit samples.
        let code = unsafe { fdk::aacEncEncode(self.handle, &in_desc, &out_desc, &in_args, &mut out_args) };
        if code == fdk::AACENC_ERROR_AACENC_ENCODE_EOF {
            return Ok(None);
        }
        if code != fdk::AACENC_ERROR_AACENC_OK {
            return Err(fail("aacEncEncode", code));
        }
        let n = usize::try_from(out_args.numOutBytes).unwrap_or(0).min(self.out.len());
        if n == 0 {
            // Still filling its delay line: no access unit from this call.
            return Ok(None);
        }
        Ok(Some(AudioPacket { data: self.out[..n].to_vec(), samples: AAC_FRAME_SAMPLES as u32 }))
    }
}

/// `f32` samples in [-1, 1] to 16-bit PCM, clamped and rounded.
fn to_i16(from: &[f32], to: &mut [i16]) {
    for (o, &x) in to.iter_mut().zip(from) {
        *o = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
    }
}

impl Drop for AacEncoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from aacEncOpen and is closed exactly once.
        unsafe { fdk::aacEncClose(&mut self.handle) };
    }
}
