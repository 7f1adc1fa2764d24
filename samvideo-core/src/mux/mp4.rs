//! MP4 writing with `shiguredo_mp4`: an `av01` sample entry with `av1C`, or an `avc1` one with
//! `avcC` (the SPS and PPS the H.264 encoder puts on key frames move there), each with a BT.709
//! limited-range `colr` box; optionally an `Opus` track with `dOps` (pre-skip) or an `mp4a`
//! (AAC-LC) track with `esds`; and the `moov` box in space reserved before `mdat` (fast start:
//! browsers play while loading).
//!
//! Sample data is appended to the file as it arrives; the muxer keeps only the sample
//! table. Creation time is fixed at 0 so two renders of one spec give the same bytes.
//!
//! A/V timing: Opus packets always cover `pre_skip + audio + padding` samples, so without
//! help a player would see the audio run 20-40 ms longer than the video. `shiguredo_mp4`
//! writes no edit lists, so [`Mp4Writer::finish`] edits its `moov` before writing it: the
//! Opus track gets an `elst` edit starting at `media_time = pre_skip` and lasting exactly
//! the real audio length ([`AudioTrack::samples`]), the movie timescale becomes 48 kHz (every
//! integer fps up to 60 that divides 48000 maps exactly; an NTSC video's duration rounds to
//! the nearest 1/48000 s) and each `tkhd`/`mvhd` duration is restated in it. The video track's
//! own timescale is the rate's numerator and each frame lasts its denominator (30 and 1, or
//! 30000 and 1001 for 29.97), so every frame time is exact. This is the layout ffmpeg's own
//! MP4 muxer writes for Opus.
//!
//! H.264 files carry no edit list at all (Instagram refuses them): their AAC track starts with the encoder's priming, at most one
//! AAC frame (`audio/aac.rs`).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use shiguredo_mp4::boxes::{
    AudioSampleEntryFields, Av01Box, Av1cBox, Avc1Box, AvccBox, DopsBox, EdtsBox, ElstBox, ElstEntry, EsdsBox, HdlrBox,
    MoovBox, Mp4aBox, OpusBox, SampleEntry, UnknownBox, VisualSampleEntryFields,
};
use shiguredo_mp4::descriptors::{DecoderConfigDescriptor, DecoderSpecificInfo, EsDescriptor, SlConfigDescriptor};
use shiguredo_mp4::mux::{estimate_maximum_moov_box_size, Mp4FileMuxer, Mp4FileMuxerOptions, Sample};
use shiguredo_mp4::{BoxSize, BoxType, Encode, FixedPointNumber, TrackKind, Uint};

use crate::frame_rate::FrameRate;
use crate::plan::VideoCodec;

/// Movie timescale when the file has audio: the Opus sample rate.
const AUDIO_TIMESCALE: u32 = 48_000;

/// Muxing failure.
#[derive(Debug, thiserror::Error)]
pub enum MuxError {
    /// File I/O.
    #[error("writing MP4: {0}")]
    Io(#[from] std::io::Error),
    /// The muxer refused a sample.
    #[error("MP4 muxer: {0}")]
    Mux(String),
}

/// The muxer's own error text ends in its source location (and a backtrace when
/// `RUST_BACKTRACE` is set): the log gets all of it, the message only the first part.
fn mux_err(e: impl std::fmt::Display) -> MuxError {
    let full = e.to_string();
    tracing::error!(error = %full, "MP4 muxer error");
    let first = full.lines().next().unwrap_or("");
    MuxError::Mux(first.split(" (at ").next().unwrap_or(first).to_string())
}

/// The audio track's codec and what its sample entry needs.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioFormat {
    /// Opus; `pre_skip` samples at 48 kHz are dropped at the start (encoder delay).
    Opus {
        /// Encoder delay, in `dOps` and the edit list.
        pre_skip: u16,
    },
    /// AAC-LC with this AudioSpecificConfig (`esds`).
    Aac {
        /// AudioSpecificConfig bytes.
        config: Vec<u8>,
    },
}

/// Audio track parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrack {
    /// Codec.
    pub format: AudioFormat,
    /// Expected packet count (sizes the reserved `moov` space).
    pub packets: usize,
    /// Real audio length in 48 kHz samples (after pre-skip, before the last packet's
    /// padding): the duration of the Opus edit list, normally the video's duration.
    pub samples: u64,
}

/// Streams AV1 (and Opus) samples into an MP4 file.
pub struct Mp4Writer {
    file: BufWriter<File>,
    muxer: Mp4FileMuxer,
    pos: u64,
    width: u16,
    height: u16,
    /// Video timescale (the rate's numerator) and one frame's duration in it (denominator).
    timescale: NonZeroU32,
    frame_duration: u32,
    codec: VideoCodec,
    video_entry: Option<SampleEntry>,
    /// H.264: the SPS and PPS in the `avcC` (later key frames must repeat them unchanged).
    parameter_sets: Option<(Vec<u8>, Vec<u8>)>,
    audio: Option<AudioTrack>,
    audio_entry_sent: bool,
    /// Where the `free` box reserved for the `moov` starts, and its total size.
    reserved_at: u64,
    reserved_len: u64,
}

impl Mp4Writer {
    /// Create `path` for `frames` video frames of `width`x`height` at `fps` in `codec`.
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        frames: u64,
        codec: VideoCodec,
        audio: Option<AudioTrack>,
    ) -> Result<Self, MuxError> {
        let mut counts = vec![frames as usize + 16];
        if let Some(a) = &audio {
            counts.push(a.packets + 16);
        }
        let reserved = estimate_maximum_moov_box_size(&counts) + 4096;
        let options = Mp4FileMuxerOptions { reserved_moov_box_size: reserved, creation_timestamp: Duration::ZERO };
        let muxer = Mp4FileMuxer::with_options(options).map_err(mux_err)?;
        let mut file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let initial = muxer.initial_boxes_bytes();
        // Initial bytes: `ftyp`, then `free` (header + reserved payload), then `mdat` header.
        let ftyp_len = initial
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| MuxError::Mux("muxer wrote no ftyp".into()))?;
        file.write_all(initial)?;
        let pos = initial.len() as u64;
        Ok(Mp4Writer {
            file,
            pos,
            muxer,
            width: u16::try_from(width).map_err(mux_err)?,
            height: u16::try_from(height).map_err(mux_err)?,
            timescale: NonZeroU32::new(fps.as_fraction().0).ok_or_else(|| MuxError::Mux("fps 0".into()))?,
            frame_duration: fps.as_fraction().1,
            codec,
            video_entry: None,
            parameter_sets: None,
            audio,
            audio_entry_sent: false,
            reserved_at: u64::from(ftyp_len),
            reserved_len: reserved as u64 + 8,
        })
    }

    fn append(
        &mut self,
        kind: TrackKind,
        entry: Option<SampleEntry>,
        keyframe: bool,
        timescale: NonZeroU32,
        duration: u32,
        data: &[u8],
    ) -> Result<(), MuxError> {
        self.file.write_all(data)?;
        let sample = Sample {
            track_kind: kind,
            sample_entry: entry,
            keyframe,
            timescale,
            duration,
            data_offset: self.pos,
            data_size: data.len(),
        };
        self.muxer.append_sample(&sample).map_err(mux_err)?;
        self.pos += data.len() as u64;
        Ok(())
    }

    /// Append one encoded frame lasting one frame: an AV1 temporal unit (the first must carry
    /// the sequence header) or an H.264 access unit of length-prefixed NAL units (the first
    /// must carry the SPS and PPS).
    pub fn write_video(&mut self, data: &[u8], keyframe: bool) -> Result<(), MuxError> {
        let (timescale, duration) = (self.timescale, self.frame_duration);
        match self.codec {
            VideoCodec::Av1 => {
                let entry = if self.video_entry.is_none() {
                    let seq = crate::encode::sequence_header_obu(data)
                        .ok_or_else(|| MuxError::Mux("first AV1 packet has no sequence header".into()))?;
                    let entry = av01_entry(self.width, self.height, &seq)?;
                    self.video_entry = Some(entry.clone());
                    Some(entry)
                } else {
                    None
                };
                self.append(TrackKind::Video, entry, keyframe, timescale, duration, data)
            }
            VideoCodec::H264 => {
                let (sample, sps, pps) = split_parameter_sets(data)?;
                let entry = match (&self.parameter_sets, sps, pps) {
                    (None, Some(sps), Some(pps)) => {
                        let entry = avc1_entry(self.width, self.height, &sps, &pps)?;
                        self.parameter_sets = Some((sps, pps));
                        self.video_entry = Some(entry.clone());
                        Some(entry)
                    }
                    (None, _, _) => return Err(MuxError::Mux("first H.264 frame has no SPS and PPS".into())),
                    (Some((s0, p0)), sps, pps) => {
                        if sps.is_some_and(|s| &s != s0) || pps.is_some_and(|p| &p != p0) {
                            return Err(MuxError::Mux("H.264 parameter sets changed mid-stream".into()));
                        }
                        None
                    }
                };
                self.append(TrackKind::Video, entry, keyframe, timescale, duration, &sample)
            }
        }
    }

    /// Append one audio packet (Opus or AAC) of `samples` samples at 48 kHz.
    pub fn write_audio(&mut self, data: &[u8], samples: u32) -> Result<(), MuxError> {
        let track = self.audio.as_ref().ok_or_else(|| MuxError::Mux("no audio track declared".into()))?;
        let entry = if self.audio_entry_sent {
            None
        } else {
            self.audio_entry_sent = true;
            Some(match &track.format {
                AudioFormat::Opus { pre_skip } => opus_entry(*pre_skip),
                AudioFormat::Aac { config } => mp4a_entry(config),
            })
        };
        self.append(TrackKind::Audio, entry, true, NonZeroU32::new(48_000).expect("non-zero"), samples, data)
    }

    /// Write the `moov` box (with the audio edit list) and close the file. Returns the file
    /// size.
    pub fn finish(mut self) -> Result<u64, MuxError> {
        let finalized = self.muxer.finalize().map_err(mux_err)?;
        let mut moov = finalized.moov_box().clone();
        if let Some(AudioTrack { format: AudioFormat::Opus { pre_skip }, samples, .. }) =
            self.audio.as_ref().filter(|_| self.audio_entry_sent)
        {
            add_audio_edit(&mut moov, *pre_skip, *samples)?;
        }
        let moov_bytes = moov.encode_to_vec().map_err(mux_err)?;
        // The mdat header is the muxer's; the moov goes where we reserved space, or at the
        // end of the file when it does not fit (then the reserved `free` box stays as is).
        let mdat_header: Vec<(u64, Vec<u8>)> =
            finalized.offset_and_bytes_pairs().skip(1).map(|(o, b)| (o, b.to_vec())).collect();
        self.file.flush()?;
        let mut file = self.file.into_inner().map_err(|e| MuxError::Io(e.into_error()))?;
        for (offset, bytes) in &mdat_header {
            file.seek(SeekFrom::Start(*offset))?;
            file.write_all(bytes)?;
        }
        let moov_len = moov_bytes.len() as u64;
        if moov_len == self.reserved_len || moov_len + 8 <= self.reserved_len {
            file.seek(SeekFrom::Start(self.reserved_at))?;
            file.write_all(&moov_bytes)?;
            if moov_len < self.reserved_len {
                // A `free` box over the rest of the reserved space.
                let rest = u32::try_from(self.reserved_len - moov_len).map_err(mux_err)?;
                file.write_all(&rest.to_be_bytes())?;
                file.write_all(b"free")?;
            }
        } else {
            file.seek(SeekFrom::Start(self.pos))?;
            file.write_all(&moov_bytes)?;
        }
        file.flush()?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    }
}

/// Give the Opus track its edit list (skip `pre_skip`, play `samples`), move the movie to a
/// 48 kHz timescale and restate every `tkhd` and the `mvhd` duration in it.
fn add_audio_edit(moov: &mut MoovBox, pre_skip: u16, samples: u64) -> Result<(), MuxError> {
    let movie_ts = AUDIO_TIMESCALE;
    let mut longest = 0u64;
    for trak in &mut moov.trak_boxes {
        let media = &trak.mdia_box.mdhd_box;
        let media_ts = u64::from(media.timescale.get());
        let duration = if trak.mdia_box.hdlr_box.handler_type == HdlrBox::HANDLER_TYPE_SOUN {
            // Never claim more than the packets hold.
            let available = media.duration.saturating_sub(u64::from(pre_skip));
            let samples = samples.min(available);
            let edit = rescale(samples, u64::from(AUDIO_TIMESCALE), u64::from(movie_ts));
            trak.edts_box = Some(EdtsBox {
                elst_box: Some(ElstBox {
                    entries: vec![ElstEntry {
                        edit_duration: edit,
                        media_time: i64::from(pre_skip),
                        media_rate: FixedPointNumber::new(1i16, 0),
                    }],
                }),
                unknown_boxes: Vec::new(),
            });
            edit
        } else {
            rescale(media.duration, media_ts, u64::from(movie_ts))
        };
        trak.tkhd_box.duration = duration;
        longest = longest.max(duration);
    }
    moov.mvhd_box.timescale = NonZeroU32::new(movie_ts).ok_or_else(|| MuxError::Mux("timescale 0".into()))?;
    moov.mvhd_box.duration = longest;
    Ok(())
}

/// `value` in units of `1/from` s, as units of `1/to` s (rounded to nearest).
fn rescale(value: u64, from: u64, to: u64) -> u64 {
    let from = from.max(1);
    ((u128::from(value) * u128::from(to) + u128::from(from) / 2) / u128::from(from)) as u64
}

fn av01_entry(width: u16, height: u16, seq_obu: &[u8]) -> Result<SampleEntry, MuxError> {
    // av1C fields mirror the sequence header: profile 0 (main), 8-bit, 4:2:0.
    let (profile, level, tier) = seq_header_profile_level(seq_obu);
    let av1c = Av1cBox {
        seq_profile: Uint::new(profile),
        seq_level_idx_0: Uint::new(level),
        seq_tier_0: Uint::new(tier),
        high_bitdepth: Uint::new(0),
        twelve_bit: Uint::new(0),
        monochrome: Uint::new(0),
        chroma_subsampling_x: Uint::new(1),
        chroma_subsampling_y: Uint::new(1),
        chroma_sample_position: Uint::new(0),
        initial_presentation_delay_minus_one: None,
        config_obus: seq_obu.to_vec(),
    };
    Ok(SampleEntry::Av01(Av01Box {
        visual: visual_fields(width, height),
        av1c_box: av1c,
        unknown_boxes: vec![colr_bt709()],
    }))
}

/// `colr`/`nclx`: BT.709 primaries, transfer and matrix; limited range.
fn colr_bt709() -> UnknownBox {
    let mut colr = b"nclx".to_vec();
    colr.extend_from_slice(&[0, 1, 0, 1, 0, 1, 0x00]);
    UnknownBox { box_type: BoxType::Normal(*b"colr"), box_size: BoxSize::U32(8 + colr.len() as u32), payload: colr }
}

fn visual_fields(width: u16, height: u16) -> VisualSampleEntryFields {
    VisualSampleEntryFields {
        data_reference_index: VisualSampleEntryFields::DEFAULT_DATA_REFERENCE_INDEX,
        width,
        height,
        horizresolution: VisualSampleEntryFields::DEFAULT_HORIZRESOLUTION,
        vertresolution: VisualSampleEntryFields::DEFAULT_VERTRESOLUTION,
        frame_count: VisualSampleEntryFields::DEFAULT_FRAME_COUNT,
        compressorname: VisualSampleEntryFields::NULL_COMPRESSORNAME,
        depth: VisualSampleEntryFields::DEFAULT_DEPTH,
    }
}

/// The NAL units of a length-prefixed H.264 access unit without its SPS and PPS, and those.
#[allow(clippy::type_complexity)]
fn split_parameter_sets(data: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>), MuxError> {
    let (mut sample, mut sps, mut pps) = (Vec::with_capacity(data.len()), None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let len = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| MuxError::Mux("truncated H.264 NAL length".into()))? as usize;
        let nal = rest.get(4..4 + len).ok_or_else(|| MuxError::Mux("truncated H.264 NAL unit".into()))?;
        match nal.first().map(|b| b & 0x1f) {
            Some(7) => sps = Some(nal.to_vec()),
            Some(8) => pps = Some(nal.to_vec()),
            _ => sample.extend_from_slice(&rest[..4 + len]),
        }
        rest = &rest[4 + len..];
    }
    Ok((sample, sps, pps))
}

fn avc1_entry(width: u16, height: u16, sps: &[u8], pps: &[u8]) -> Result<SampleEntry, MuxError> {
    let byte = |i: usize| sps.get(i).copied().ok_or_else(|| MuxError::Mux("H.264 SPS is too short".into()));
    let profile = byte(1)?;
    // High profiles (100 and up) carry chroma format and bit depths in `avcC` (ISO 14496-15 5.3.3.1.2).
    let high = profile >= 100;
    let avcc = AvccBox {
        avc_profile_indication: profile,
        profile_compatibility: byte(2)?,
        avc_level_indication: byte(3)?,
        length_size_minus_one: Uint::new(3),
        sps_list: vec![sps.to_vec()],
        pps_list: vec![pps.to_vec()],
        chroma_format: high.then_some(Uint::new(1)),
        bit_depth_luma_minus8: high.then_some(Uint::new(0)),
        bit_depth_chroma_minus8: high.then_some(Uint::new(0)),
        sps_ext_list: Vec::new(),
    };
    Ok(SampleEntry::Avc1(Avc1Box {
        visual: visual_fields(width, height),
        avcc_box: avcc,
        unknown_boxes: vec![colr_bt709()],
    }))
}

fn mp4a_entry(config: &[u8]) -> SampleEntry {
    SampleEntry::Mp4a(Mp4aBox {
        audio: AudioSampleEntryFields {
            data_reference_index: AudioSampleEntryFields::DEFAULT_DATA_REFERENCE_INDEX,
            channelcount: 2,
            samplesize: AudioSampleEntryFields::DEFAULT_SAMPLESIZE,
            samplerate: FixedPointNumber::new(48_000u16, 0),
        },
        esds_box: EsdsBox {
            es: EsDescriptor {
                es_id: EsDescriptor::MIN_ES_ID,
                stream_priority: EsDescriptor::LOWEST_STREAM_PRIORITY,
                depends_on_es_id: None,
                url_string: None,
                ocr_es_id: None,
                dec_config_descr: DecoderConfigDescriptor {
                    object_type_indication: DecoderConfigDescriptor::OBJECT_TYPE_INDICATION_AUDIO_ISO_IEC_14496_3,
                    stream_type: DecoderConfigDescriptor::STREAM_TYPE_AUDIO,
                    up_stream: DecoderConfigDescriptor::UP_STREAM_FALSE,
                    buffer_size_db: Uint::new(0),
                    max_bitrate: 0,
                    avg_bitrate: 0,
                    dec_specific_info: Some(DecoderSpecificInfo { payload: config.to_vec() }),
                },
                sl_config_descr: SlConfigDescriptor,
            },
        },
        unknown_boxes: Vec::new(),
    })
}

/// (seq_profile, seq_level_idx[0], seq_tier[0]) from a sequence-header OBU.
fn seq_header_profile_level(obu: &[u8]) -> (u8, u8, u8) {
    // Skip the OBU header (1 or 2 bytes) and its leb128 size.
    let ext = obu.first().map(|h| h & 0x04 != 0).unwrap_or(false);
    let mut i = 1 + ext as usize;
    while i < obu.len() && obu[i] & 0x80 != 0 {
        i += 1;
    }
    i += 1;
    let Some(payload) = obu.get(i..) else { return (0, 31, 0) };
    let bit = |n: usize| -> u8 { payload.get(n / 8).map(|b| (b >> (7 - n % 8)) & 1).unwrap_or(0) };
    let bits = |from: usize, len: usize| -> u8 { (0..len).fold(0u8, |acc, k| (acc << 1) | bit(from + k)) };
    let profile = bits(0, 3);
    let still = bit(3);
    let reduced = bit(4);
    if still == 1 && reduced == 1 {
        return (profile, bits(5, 5), 0);
    }
    // timing_info_present_flag at bit 5; rav1e writes no timing info by default.
    let timing = bit(5);
    if timing == 1 {
        return (profile, 31, 0);
    }
    // initial_display_delay_present_flag (6), operating_points_cnt_minus_1 (7..12),
    // operating_point_idc[0] (12..24), seq_level_idx[0] (24..29), tier if level > 7.
    let level = bits(24, 5);
    let tier = if level > 7 { bit(29) } else { 0 };
    (profile, level, tier)
}

fn opus_entry(pre_skip: u16) -> SampleEntry {
    SampleEntry::Opus(OpusBox {
        audio: AudioSampleEntryFields {
            data_reference_index: AudioSampleEntryFields::DEFAULT_DATA_REFERENCE_INDEX,
            channelcount: 2,
            samplesize: AudioSampleEntryFields::DEFAULT_SAMPLESIZE,
            samplerate: FixedPointNumber::new(48_000u16, 0),
        },
        dops_box: DopsBox { output_channel_count: 2, pre_skip, input_sample_rate: 48_000, output_gain: 0 },
        unknown_boxes: Vec::new(),
    })
}
