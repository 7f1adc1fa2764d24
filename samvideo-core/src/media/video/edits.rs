//! MP4 edit lists, read once for every track kind: the video timeline (`container.rs`) and
//! the AAC priming trim of an audio track (`audio/decode.rs`) both use [`EditList`].
//!
//! In: the whole file (for [`sound_track_edits`]) or a decoded `elst` with the movie
//! timescale. Out: where media time 0 is shown, the delay before it and the lengths.

use shiguredo_mp4::boxes::{ElstBox, HdlrBox, MvhdBox, TrakBox};
use shiguredo_mp4::Decode;

use super::boxes::boxes_in;
use super::table_bounds::check_track_tables;

/// What a track's edit list says, in the terms players use.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct EditList {
    /// Seconds of empty edits before the first media edit (the track starts late).
    pub delay_secs: f64,
    /// Media time (in the track's timescale) shown first: encoder priming for audio, the
    /// composition offset for video. 0 when there is no media edit.
    pub media_start: i64,
    /// Length of the first media edit in seconds (None: unknown or 0).
    pub media_secs: Option<f64>,
    /// Length of all edits in seconds (None: no edit list, or 0).
    pub total_secs: Option<f64>,
    /// The list has a media edit (`media_time >= 0`).
    pub has_media_edit: bool,
}

impl EditList {
    /// Read `elst` with the movie's timescale (edit durations are in movie units).
    pub(crate) fn read(elst: &ElstBox, movie_timescale: u32) -> EditList {
        let mut out = EditList::default();
        let mut sum = 0.0;
        for e in &elst.entries {
            let d = e.edit_duration as f64 / f64::from(movie_timescale.max(1));
            sum += d;
            if out.has_media_edit {
                continue;
            }
            if e.media_time < 0 {
                out.delay_secs += d;
            } else {
                out.media_start = e.media_time;
                out.media_secs = (d > 0.0).then_some(d);
                out.has_media_edit = true;
            }
        }
        out.total_secs = (sum > 0.0).then_some(sum);
        out
    }
}

/// The edit list of the first sound track of an MP4 file, read with the same box walker,
/// table guard and decoder as the video tracks. `None` when the file is not an MP4, has no
/// sound track, the track has no edit list, or its boxes do not decode.
pub(crate) fn sound_track_edits(bytes: &[u8]) -> Option<EditList> {
    let top = boxes_in(bytes, 0, bytes.len()).ok()?;
    let moov = top.iter().find(|b| &b.kind == b"moov" && b.end != usize::MAX)?;
    let mut movie_timescale = None;
    for child in boxes_in(bytes, moov.payload_start, moov.end).ok()? {
        let raw = bytes.get(child.start..child.end)?;
        match &child.kind {
            b"mvhd" => movie_timescale = MvhdBox::decode(raw).ok().map(|(m, _)| m.timescale.get()),
            b"trak" => {
                check_track_tables(raw).ok()?;
                let Ok((trak, _)) = TrakBox::decode(raw) else { continue };
                if trak.mdia_box.hdlr_box.handler_type != HdlrBox::HANDLER_TYPE_SOUN {
                    continue;
                }
                let elst = trak.edts_box.as_ref().and_then(|e| e.elst_box.as_ref())?;
                return Some(EditList::read(elst, movie_timescale?));
            }
            _ => {}
        }
    }
    None
}
