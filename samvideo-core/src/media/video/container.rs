//! MP4/MOV container reading: finds the first video track and turns its sample table into a
//! flat list of samples (decode order) plus the sorted presentation times (display order).
//!
//! In: the whole file as bytes. Out: [`VideoTrack`] — codec configuration, display geometry
//! (rotation from the `tkhd` matrix), timing after the edit list, and byte ranges of the
//! compressed samples. Box decoding is `shiguredo_mp4`'s; `ctts`, `colr` and the top-level
//! box walk are read here because the crate keeps them as unknown boxes.

use shiguredo_mp4::aux::SampleTableAccessor;
use shiguredo_mp4::boxes::{HdlrBox, MvhdBox, SampleEntry, StblBox, TrakBox, UnknownBox};
use shiguredo_mp4::{BoxType, Decode};

use super::boxes::{boxes_in, malformed};
use super::colour::{ColourInfo, Matrix};
use super::edits::EditList;
use super::table_bounds::check_track_tables;
use super::VideoLimits;
use crate::media::MediaError;

/// Highest frame rate assumed when bounding the sample count from the duration limit.
const MAX_FPS_FOR_LIMIT: f64 = 240.0;

/// Top-level boxes that may start an MP4/MOV file.
const FIRST_BOX_TYPES: [&[u8; 4]; 9] =
    [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp"];

/// What the decoders need to know about the stream.
#[derive(Debug, Clone)]
pub(crate) enum CodecConfig {
    /// H.264 in AVCC form: samples are NAL units prefixed with `nal_length_size`-byte lengths.
    H264 { nal_length_size: usize, sps: Vec<Vec<u8>>, pps: Vec<Vec<u8>> },
    /// AV1: samples are temporal units of OBUs (the sequence header travels in the first one).
    Av1,
}

/// One compressed sample, in decode order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleRef {
    /// Byte offset in the file.
    pub offset: usize,
    /// Byte length.
    pub size: usize,
    /// A sync sample (key frame) per `stss`.
    pub sync: bool,
}

/// The chosen video track, ready to decode.
#[derive(Debug, Clone)]
pub(crate) struct VideoTrack {
    pub config: CodecConfig,
    /// "h264" or "av1".
    pub codec_name: &'static str,
    /// Coded size from the sample entry (before rotation).
    pub coded_width: u32,
    pub coded_height: u32,
    /// Clockwise rotation to apply for display: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Presentation duration in seconds.
    pub duration: f64,
    /// Average frame rate.
    pub fps: f64,
    /// The file also has an audio track.
    pub has_audio: bool,
    /// Colour description from a `colr` (nclx) box, if present.
    pub colour: Option<ColourInfo>,
    /// Samples in decode order.
    pub samples: Vec<SampleRef>,
    /// Presentation times in seconds, sorted: the n-th decoded (display-order) frame shows at `pts[n]`.
    pub pts: Vec<f64>,
    /// For each sample (decode order): the display index of its frame, when decoding may start
    /// there (a sync sample with no frame before it in decode order displayed after it, and
    /// none after it displayed before it). `None` for samples that cannot start decoding.
    pub clean_start: Vec<Option<usize>>,
}

fn not_mp4() -> MediaError {
    MediaError::Decode("not a supported video file (expected MP4/MOV)".into())
}

/// The part of a box decoder error a user can read: the box and the reason. The crate's
/// `Display` also prints its own source location and, when `RUST_BACKTRACE` is set, a
/// backtrace — build-machine paths that must not reach an API response. The whole error
/// goes to the log instead.
pub(crate) fn box_error(e: &shiguredo_mp4::Error) -> String {
    tracing::debug!(error = %e, "MP4 box decoder error");
    let what = match e.kind {
        shiguredo_mp4::ErrorKind::InvalidInput | shiguredo_mp4::ErrorKind::InvalidData => "invalid data",
        shiguredo_mp4::ErrorKind::InsufficientBuffer => "box cut short",
        shiguredo_mp4::ErrorKind::Unsupported => "unsupported",
        _ => "cannot decode",
    };
    let reason = e.reason.lines().next().unwrap_or("").trim();
    let sep = if reason.is_empty() { "" } else { ": " };
    match e.box_type {
        Some(t) => format!("{t} box: {what}{sep}{reason}"),
        None => format!("{what}{sep}{reason}"),
    }
}

/// Friendly codec name for a sample entry fourcc (ffmpeg's names where one exists).
fn codec_name_for(fourcc: &[u8; 4], entry_payload: &[u8]) -> String {
    match fourcc {
        b"avc1" | b"avc3" => "h264".into(),
        b"av01" => "av1".into(),
        b"hvc1" | b"hev1" => "hevc".into(),
        b"vp08" => "vp8".into(),
        b"vp09" => "vp9".into(),
        b"mp4v" => mp4v_object_type(entry_payload).unwrap_or("mpeg4").into(),
        b"jpeg" | b"mjpa" | b"mjpb" => "mjpeg".into(),
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "prores".into(),
        b"s263" | b"h263" => "h263".into(),
        b"dvh1" | b"dvhe" => "hevc (dolby vision)".into(),
        other => {
            let s: String = other.iter().map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }).collect();
            s.trim().to_string()
        }
    }
}

/// Reads the objectTypeIndication from an `esds` inside an `mp4v` entry.
fn mp4v_object_type(payload: &[u8]) -> Option<&'static str> {
    let at = payload.windows(4).position(|w| w == b"esds")?;
    let mut p = at + 4 + 4; // type, version+flags
    let read_desc = |p: &mut usize| -> Option<u8> {
        let tag = *payload.get(*p)?;
        *p += 1;
        for _ in 0..4 {
            let b = *payload.get(*p)?;
            *p += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        Some(tag)
    };
    if read_desc(&mut p)? != 3 {
        return None;
    }
    let flags = *payload.get(p + 2)?;
    p += 3;
    if flags & 0x80 != 0 {
        p += 2;
    }
    if flags & 0x40 != 0 {
        p += 1 + usize::from(*payload.get(p)?);
    }
    if flags & 0x20 != 0 {
        p += 2;
    }
    if read_desc(&mut p)? != 4 {
        return None;
    }
    Some(match *payload.get(p)? {
        0x20 => "mpeg4",
        0x21 => "h264",
        0x60..=0x65 => "mpeg2video",
        0x6A => "mpeg1video",
        0x6C => "mjpeg",
        _ => return None,
    })
}

/// Handler type of a trak given as raw bytes (used when the trak itself does not decode).
fn raw_handler_type(trak: &[u8]) -> Option<[u8; 4]> {
    let at = trak.windows(4).position(|w| w == b"hdlr")?;
    let h = trak.get(at + 12..at + 16)?;
    Some([h[0], h[1], h[2], h[3]])
}

/// Rotation (clockwise degrees) from a `tkhd` matrix; anything not a multiple of 90 is 0.
pub(crate) fn rotation_from_matrix(m: &[i32; 9]) -> u16 {
    let (a, b, c, d) = (m[0], m[1], m[3], m[4]);
    match (a.signum(), b.signum(), c.signum(), d.signum()) {
        (0, 1, -1, 0) => 90,
        (-1, 0, 0, -1) => 180,
        (0, -1, 1, 0) => 270,
        _ => 0,
    }
}

/// Reads `ctts` (composition offsets) from the sample table's unknown boxes.
fn ctts_offsets(stbl: &StblBox, count: usize) -> Result<Option<Vec<i64>>, MediaError> {
    let Some(b) = stbl.unknown_boxes.iter().find(|b| b.box_type == BoxType::Normal(*b"ctts")) else {
        return Ok(None);
    };
    let p = &b.payload;
    if p.len() < 8 {
        return Err(malformed("ctts too short"));
    }
    let version = p[0];
    let entries = u32::from_be_bytes([p[4], p[5], p[6], p[7]]) as usize;
    if p.len() < 8 + entries.saturating_mul(8) {
        return Err(malformed("ctts entry count past the box"));
    }
    let mut out = Vec::with_capacity(count);
    for e in 0..entries {
        let q = &p[8 + e * 8..16 + e * 8];
        let n = u32::from_be_bytes([q[0], q[1], q[2], q[3]]) as usize;
        let raw = [q[4], q[5], q[6], q[7]];
        let off = if version == 0 { i64::from(u32::from_be_bytes(raw)) } else { i64::from(i32::from_be_bytes(raw)) };
        let n = n.min(count - out.len());
        out.extend(std::iter::repeat_n(off, n));
        if out.len() == count {
            break;
        }
    }
    // Missing entries: repeat the last offset (lenient, as ffmpeg is).
    let last = out.last().copied().unwrap_or(0);
    out.resize(count, last);
    Ok(Some(out))
}

/// Reads a `colr` box of type `nclx`/`nclc` from a sample entry's unknown boxes.
fn colr_info(boxes: &[UnknownBox]) -> Option<ColourInfo> {
    let b = boxes.iter().find(|b| b.box_type == BoxType::Normal(*b"colr"))?;
    let p = &b.payload;
    let kind = p.get(0..4)?;
    if kind != b"nclx" && kind != b"nclc" {
        return None;
    }
    let matrix = u16::from_be_bytes([*p.get(8)?, *p.get(9)?]);
    let full_range = kind == b"nclx" && p.get(10).is_some_and(|f| f & 0x80 != 0);
    Some(ColourInfo { matrix: Matrix::from_code(matrix as u32), full_range })
}

/// Parses the container and picks the first video track. `limits` bound resolution,
/// duration and sample count before anything is allocated per sample.
pub(crate) fn read_video_track(bytes: &[u8], limits: &VideoLimits) -> Result<VideoTrack, MediaError> {
    let top = boxes_in(bytes, 0, bytes.len())?;
    let first = top.first().ok_or_else(not_mp4)?;
    if !FIRST_BOX_TYPES.iter().any(|t| **t == first.kind) {
        return Err(not_mp4());
    }
    let Some(moov) = top.iter().find(|b| &b.kind == b"moov") else {
        return Err(MediaError::Decode("truncated or incomplete MP4: no moov box (movie header)".into()));
    };
    if moov.end == usize::MAX {
        return Err(MediaError::Decode("truncated MP4: the moov box is cut short".into()));
    }
    let moov_payload = moov.payload_start;

    let mut movie_timescale = 1000u32;
    let mut video: Option<TrakBox> = None;
    let mut has_audio = false;
    let mut first_video_error: Option<MediaError> = None;
    for child in boxes_in(bytes, moov_payload, moov.end)? {
        if child.end == usize::MAX {
            return Err(malformed("a box inside moov runs past its end"));
        }
        let raw = &bytes[child.start..child.end];
        match &child.kind {
            b"mvhd" => {
                let (mvhd, _) = MvhdBox::decode(raw).map_err(|e| malformed(box_error(&e)))?;
                movie_timescale = mvhd.timescale.get();
            }
            b"trak" => {
                // Table counts are checked against the bytes before the box decoder
                // reserves memory for them (see `table_bounds`).
                let decoded = check_track_tables(raw).and_then(|()| {
                    TrakBox::decode(raw).map_err(|e| malformed(format!("video track: {}", box_error(&e))))
                });
                match decoded {
                    Ok((trak, _)) => match trak.mdia_box.hdlr_box.handler_type {
                        HdlrBox::HANDLER_TYPE_VIDE if video.is_none() => video = Some(trak),
                        HdlrBox::HANDLER_TYPE_SOUN => has_audio = true,
                        _ => {}
                    },
                    Err(e) => match raw_handler_type(raw).as_ref() {
                        Some(b"soun") => has_audio = true,
                        Some(b"vide") if first_video_error.is_none() => first_video_error = Some(e),
                        _ => {}
                    },
                }
            }
            _ => {}
        }
    }
    let Some(trak) = video else {
        return Err(match first_video_error {
            Some(e) => e,
            None => {
                MediaError::Decode("unsupported video codec: the file has no video track (supported: h264, av1)".into())
            }
        });
    };
    build_track(bytes, trak, movie_timescale, has_audio, limits)
}

fn build_track(
    bytes: &[u8],
    trak: TrakBox,
    movie_timescale: u32,
    has_audio: bool,
    limits: &VideoLimits,
) -> Result<VideoTrack, MediaError> {
    let stbl = &trak.mdia_box.minf_box.stbl_box;
    let entry = stbl.stsd_box.entries.first().ok_or_else(|| malformed("video track has no sample description"))?;
    let (config, codec_name, visual, entry_boxes) = match entry {
        SampleEntry::Avc1(b) => {
            let bits = b.avcc_box.bit_depth_luma_minus8.map(|v| v.get()).unwrap_or(0);
            if bits != 0 {
                return Err(MediaError::Decode(format!(
                    "unsupported video codec h264 with {}-bit samples (supported: 8-bit h264, av1)",
                    8 + bits
                )));
            }
            (
                CodecConfig::H264 {
                    nal_length_size: usize::from(b.avcc_box.length_size_minus_one.get()) + 1,
                    sps: b.avcc_box.sps_list.clone(),
                    pps: b.avcc_box.pps_list.clone(),
                },
                "h264",
                &b.visual,
                &b.unknown_boxes,
            )
        }
        SampleEntry::Av01(b) => {
            let c = &b.av1c_box;
            if c.high_bitdepth.get() != 0 {
                return Err(MediaError::Decode(
                    "unsupported video codec av1 with 10/12-bit samples (supported: 8-bit h264, av1)".into(),
                ));
            }
            if c.monochrome.get() != 0 || c.chroma_subsampling_x.get() == 0 || c.chroma_subsampling_y.get() == 0 {
                return Err(MediaError::Decode(
                    "unsupported video codec av1 with other than 4:2:0 chroma (supported: 4:2:0 h264, av1)".into(),
                ));
            }
            (CodecConfig::Av1, "av1", &b.visual, &b.unknown_boxes)
        }
        other => {
            let (fourcc, payload): ([u8; 4], &[u8]) = match other {
                SampleEntry::Unknown(u) => match u.box_type {
                    BoxType::Normal(t) => (t, &u.payload),
                    BoxType::Uuid(_) => (*b"uuid", &u.payload),
                },
                SampleEntry::Hev1(_) => (*b"hev1", &[]),
                SampleEntry::Vp08(_) => (*b"vp08", &[]),
                SampleEntry::Vp09(_) => (*b"vp09", &[]),
                _ => (*b"????", &[]),
            };
            return Err(MediaError::Decode(format!(
                "unsupported video codec {} (supported: h264, av1)",
                codec_name_for(&fourcc, payload)
            )));
        }
    };
    let coded_width = u32::from(visual.width);
    let coded_height = u32::from(visual.height);
    if coded_width == 0 || coded_height == 0 {
        return Err(malformed(format!("video size {coded_width}x{coded_height}")));
    }
    let rotation = rotation_from_matrix(&trak.tkhd_box.matrix);
    let (dw, dh) = if rotation % 180 == 90 { (coded_height, coded_width) } else { (coded_width, coded_height) };
    check_size(dw, dh, limits)?;

    // Bound the sample count before the table is expanded per sample.
    let stts_total: u64 = stbl.stts_box.entries.iter().map(|e| u64::from(e.sample_count)).sum();
    let max_samples = (limits.max_duration.max(1.0) * MAX_FPS_FOR_LIMIT) as u64 + 1;
    if stts_total == 0 {
        return Err(MediaError::Decode("the video track has no samples (fragmented MP4 is not supported)".into()));
    }
    if stts_total > max_samples {
        return Err(MediaError::Limit(format!(
            "video has {stts_total} frames (limit {max_samples}: {} s at {MAX_FPS_FOR_LIMIT} fps)",
            limits.max_duration
        )));
    }

    check_chunks(stbl, bytes.len())?;
    let timescale = f64::from(trak.mdia_box.mdhd_box.timescale.get());
    let table = SampleTableAccessor::new(stbl).map_err(|e| malformed(format!("sample table: {e}")))?;
    let count = table.sample_count() as usize;
    let ctts = ctts_offsets(stbl, count)?;
    let mut samples = Vec::with_capacity(count);
    let mut ct = Vec::with_capacity(count);
    let mut total_ticks: u64 = 0;
    let mut data_end: u64 = 0;
    for (i, s) in table.samples().enumerate() {
        let offset = s.data_offset();
        let size = u64::from(s.data_size());
        data_end = data_end.max(offset.saturating_add(size));
        samples.push(SampleRef { offset: offset as usize, size: size as usize, sync: s.is_sync_sample() });
        let dts = s.timestamp() as i64;
        ct.push(dts + ctts.as_ref().map_or(0, |c| c[i]));
        total_ticks += u64::from(s.duration());
    }
    if data_end > bytes.len() as u64 {
        return Err(MediaError::Decode(format!(
            "truncated MP4: video data ends at byte {data_end} but the file has {} bytes",
            bytes.len()
        )));
    }

    // Edit list: empty edits delay the start; the first media edit says where media time 0 is.
    let edits =
        trak.edts_box.as_ref().and_then(|e| e.elst_box.as_ref()).map(|elst| EditList::read(elst, movie_timescale));
    let EditList { delay_secs: delay, media_start, total_secs: edit_total, .. } = edits.unwrap_or_default();
    let pts_of = |c: i64| (c - media_start) as f64 / timescale + delay;
    let mut pts: Vec<f64> = ct.iter().map(|&c| pts_of(c)).collect();
    pts.sort_by(f64::total_cmp);

    // Where decoding may restart: clean sync samples (see `clean_start`).
    let mut clean_start = vec![None; count];
    let mut suffix_min = vec![i64::MAX; count + 1];
    for i in (0..count).rev() {
        suffix_min[i] = suffix_min[i + 1].min(ct[i]);
    }
    let mut prefix_max = i64::MIN;
    let mut sorted_ct = ct.clone();
    sorted_ct.sort_unstable();
    for i in 0..count {
        if samples[i].sync && suffix_min[i] == ct[i] && prefix_max < ct[i] {
            clean_start[i] = Some(sorted_ct.partition_point(|&c| c < ct[i]));
        }
        prefix_max = prefix_max.max(ct[i]);
    }

    let media_duration = total_ticks as f64 / timescale;
    let mdhd_duration = trak.mdia_box.mdhd_box.duration as f64 / timescale;
    let duration = edit_total.or((mdhd_duration > 0.0).then_some(mdhd_duration)).unwrap_or(media_duration);
    if !duration.is_finite() || duration > limits.max_duration {
        return Err(MediaError::Limit(format!("video is {duration:.1} s long (limit {} s)", limits.max_duration)));
    }
    let fps = if media_duration > 0.0 { count as f64 / media_duration } else { 0.0 };

    Ok(VideoTrack {
        config,
        codec_name,
        coded_width,
        coded_height,
        rotation,
        duration,
        fps,
        has_audio,
        colour: colr_info(entry_boxes),
        samples,
        pts,
        clean_start,
    })
}

/// Checks what `SampleTableAccessor` assumes without checking: chunks have a `stsc` entry
/// (it indexes `entries[j - 1]`), and chunk offsets lie inside the file (it adds sample sizes
/// to them, which could overflow at the top of the `u64` range).
fn check_chunks(stbl: &StblBox, file_len: usize) -> Result<(), MediaError> {
    let offsets: Box<dyn Iterator<Item = u64>> = match &stbl.stco_or_co64_box {
        shiguredo_mp4::Either::A(b) => Box::new(b.chunk_offsets.iter().map(|&o| u64::from(o))),
        shiguredo_mp4::Either::B(b) => Box::new(b.chunk_offsets.iter().copied()),
    };
    let mut chunks = 0usize;
    for offset in offsets {
        if offset > file_len as u64 {
            return Err(MediaError::Decode(format!(
                "truncated MP4: a chunk starts at byte {offset} but the file has {file_len} bytes"
            )));
        }
        chunks += 1;
    }
    if chunks > 0 && stbl.stsc_box.entries.is_empty() {
        return Err(malformed(format!("{chunks} chunks but an empty stsc box")));
    }
    Ok(())
}

/// Checks a display size against the limits.
pub(crate) fn check_size(w: u32, h: u32, limits: &VideoLimits) -> Result<(), MediaError> {
    if w > limits.max_width || h > limits.max_height {
        return Err(MediaError::Limit(format!("video is {w}x{h} (limit {}x{})", limits.max_width, limits.max_height)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiguredo_mp4::boxes::TkhdBox;

    #[test]
    fn rotation_matrices() {
        let one = 1 << 16;
        assert_eq!(rotation_from_matrix(&TkhdBox::DEFAULT_MATRIX), 0);
        assert_eq!(rotation_from_matrix(&[0, one, 0, -one, 0, 0, 0, 0, 1 << 30]), 90);
        assert_eq!(rotation_from_matrix(&[-one, 0, 0, 0, -one, 0, 0, 0, 1 << 30]), 180);
        assert_eq!(rotation_from_matrix(&[0, -one, 0, one, 0, 0, 0, 0, 1 << 30]), 270);
    }

    #[test]
    fn garbage_is_not_mp4() {
        let err = read_video_track(b"hello world, this is not a video", &VideoLimits::default()).unwrap_err();
        assert_eq!(err, not_mp4());
        let err = read_video_track(&[], &VideoLimits::default()).unwrap_err();
        assert_eq!(err, not_mp4());
    }

    #[test]
    fn box_size_overflow_does_not_panic() {
        let mut b = Vec::new();
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(read_video_track(&b, &VideoLimits::default()).is_err());
    }

    #[test]
    fn mp4v_object_types() {
        // esds: version/flags, ES_Descriptor(3) with DecoderConfigDescriptor(4) OTI 0x61.
        let mut p = b"....esds".to_vec();
        p.extend_from_slice(&[0, 0, 0, 0, 3, 20, 0, 1, 0, 4, 13, 0x61]);
        assert_eq!(mp4v_object_type(&p), Some("mpeg2video"));
        assert_eq!(codec_name_for(b"mp4v", &[]), "mpeg4");
        assert_eq!(codec_name_for(b"hvc1", &[]), "hevc");
    }
}
