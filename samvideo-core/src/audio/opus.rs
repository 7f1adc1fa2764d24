//! 48 kHz stereo `f32` in, Opus packets out (20 ms each), for the MP4 muxer.
//!
//! Wraps the pure-Rust `opus-pure` encoder (`Application::Audio`, VBR, complexity 9). Input
//! arrives in any chunk size and is cut into 960-frame (20 ms) frames; a partial frame waits
//! for the next call. [`OpusEncoder::finish`] pads with silence so the last real sample leaves
//! the encoder: the packets then cover `pre_skip + input_frames` samples rounded up to a whole
//! packet. A decoder drops the first [`OpusEncoder::pre_skip`] samples (MP4: `dOps`
//! `PreSkip`, plus an edit list starting at `pre_skip` and lasting `input_frames`).

use opus_pure::{Application, RateControl, MAX_PACKET_BYTES};

use super::{check_interleaved, AudioError, AudioPacket, CHANNELS, SAMPLE_RATE};

/// Samples (per channel) in every packet: 20 ms at 48 kHz.
pub const OPUS_FRAME_SAMPLES: usize = 960;

/// One encoded Opus packet (TOC byte first); `samples` is always [`OPUS_FRAME_SAMPLES`].
pub type OpusPacket = AudioPacket;

/// Streaming Opus encoder for 48 kHz stereo interleaved `f32`.
pub struct OpusEncoder {
    enc: opus_pure::OpusEncoder,
    /// One frame of pending input, interleaved; `pending` samples of it are filled.
    frame: Vec<f32>,
    pending: usize,
    /// Encoder output scratch.
    packet: Vec<u8>,
    /// Frames (per channel) given to `encode` so far.
    input_frames: u64,
    /// Packets produced so far.
    packets: u64,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("bitrate", &self.enc.bitrate_bps)
            .field("input_frames", &self.input_frames)
            .finish()
    }
}

impl OpusEncoder {
    /// A 48 kHz stereo encoder at `bitrate` b/s (6 000 ..= 510 000; 128 000 is a good
    /// default for music and voice).
    pub fn new(bitrate: u32) -> Result<Self, AudioError> {
        if !(6_000..=510_000).contains(&bitrate) {
            return Err(AudioError::InvalidBitrate(bitrate));
        }
        let mut enc = opus_pure::OpusEncoder::new(SAMPLE_RATE as i32, CHANNELS, Application::Audio)
            .map_err(|e| AudioError::Opus(e.to_string()))?;
        enc.bitrate_bps = bitrate as i32;
        enc.rate_control = RateControl::Vbr;
        Ok(OpusEncoder {
            enc,
            frame: vec![0.0; OPUS_FRAME_SAMPLES * CHANNELS],
            pending: 0,
            packet: vec![0; MAX_PACKET_BYTES],
            input_frames: 0,
            packets: 0,
        })
    }

    /// Samples (per channel, 48 kHz) a decoder must drop from the start: the encoder's delay
    /// (312 for this encoder). Goes into the MP4 `dOps` box and the edit list's media time.
    pub fn pre_skip(&self) -> u16 {
        u16::try_from(self.enc.lookahead()).unwrap_or(u16::MAX)
    }

    /// Frames (per channel) given to [`Self::encode`] so far: the real audio length, which is
    /// the edit list's duration.
    pub fn input_frames(&self) -> u64 {
        self.input_frames
    }

    /// Encodes interleaved stereo `pcm` (any length; a trailing partial frame is kept for the
    /// next call) and returns the packets completed by it.
    pub fn encode(&mut self, pcm: &[f32]) -> Result<Vec<OpusPacket>, AudioError> {
        check_interleaved(pcm).map_err(AudioError::Opus)?;
        let mut packets = Vec::with_capacity(pcm.len() / (OPUS_FRAME_SAMPLES * CHANNELS) + 1);
        let mut rest = pcm;
        self.input_frames += (pcm.len() / CHANNELS) as u64;
        while !rest.is_empty() {
            let take = (self.frame.len() - self.pending).min(rest.len());
            self.frame[self.pending..self.pending + take].copy_from_slice(&rest[..take]);
            self.pending += take;
            rest = &rest[take..];
            if self.pending == self.frame.len() {
                packets.push(self.encode_frame()?);
            }
        }
        Ok(packets)
    }

    /// Pads the stream with silence so every input sample is inside a packet after the
    /// decoder drops `pre_skip`, and returns the last packets. In total the stream holds
    /// `ceil((pre_skip + input_frames) / 960)` packets of 960 samples.
    pub fn finish(mut self) -> Result<Vec<OpusPacket>, AudioError> {
        let encoded = self.packets;
        let needed = (u64::from(self.pre_skip()) + self.input_frames).div_ceil(OPUS_FRAME_SAMPLES as u64);
        let mut packets = Vec::new();
        for _ in encoded..needed {
            self.frame[self.pending..].fill(0.0);
            self.pending = self.frame.len();
            packets.push(self.encode_frame()?);
        }
        Ok(packets)
    }

    fn encode_frame(&mut self) -> Result<OpusPacket, AudioError> {
        // Non-finite input would poison the encoder state: encode it as silence.
        for s in &mut self.frame {
            if !s.is_finite() {
                *s = 0.0;
            }
        }
        let n = self
            .enc
            .encode(&self.frame, OPUS_FRAME_SAMPLES, &mut self.packet)
            .map_err(|e| AudioError::Opus(e.to_string()))?;
        self.pending = 0;
        self.packets += 1;
        Ok(OpusPacket { data: self.packet[..n].to_vec(), samples: OPUS_FRAME_SAMPLES as u32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_count_covers_pre_skip_and_input() {
        let mut enc = OpusEncoder::new(128_000).unwrap();
        assert_eq!(enc.pre_skip(), 312);
        // 1000 frames in odd chunk sizes.
        let pcm = vec![0.1f32; 2000];
        let mut packets = enc.encode(&pcm[..701 * 2]).unwrap();
        assert_eq!(packets.len(), 0);
        packets.extend(enc.encode(&pcm[701 * 2..]).unwrap());
        assert_eq!(packets.len(), 1);
        assert_eq!(enc.input_frames(), 1000);
        packets.extend(enc.finish().unwrap());
        // ceil((312 + 1000) / 960) = 2
        assert_eq!(packets.len(), 2);
        assert!(packets.iter().all(|p| p.samples == 960 && !p.data.is_empty()));
    }

    #[test]
    fn bitrate_is_checked() {
        assert_eq!(OpusEncoder::new(100).unwrap_err(), AudioError::InvalidBitrate(100));
        assert!(OpusEncoder::new(6_000).is_ok());
        let mut enc = OpusEncoder::new(64_000).unwrap();
        assert!(matches!(enc.encode(&[0.0; 3]), Err(AudioError::Opus(_))));
    }
}
