//! The MP4 box walk: sizes and types of the boxes in a byte range, the one reader of box
//! headers that `container.rs` (the top level and `moov`) and `table_bounds.rs` (inside a
//! `trak`) share.
//!
//! In: a buffer and a range. Out: [`RawBox`]es, or `malformed MP4: ...` for an impossible size.

use crate::media::MediaError;

/// `malformed MP4: {what}`.
pub(crate) fn malformed(what: impl std::fmt::Display) -> MediaError {
    MediaError::Decode(format!("malformed MP4: {what}"))
}

/// A top-level or child box: type and payload range within the buffer it was found in.
pub(crate) struct RawBox {
    pub kind: [u8; 4],
    pub start: usize,
    pub payload_start: usize,
    /// `usize::MAX` when the box runs past the end of the buffer (a truncated file).
    pub end: usize,
}

/// Walks the boxes in `buf[start..end]`. Stops with an error when a size is impossible.
pub(crate) fn boxes_in(buf: &[u8], start: usize, end: usize) -> Result<Vec<RawBox>, MediaError> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end {
        let size32 = u32::from_be_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]]);
        let kind = [buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]];
        let (header, size) = match size32 {
            0 => (8, (end - pos) as u64),
            1 => {
                if pos + 16 > end {
                    return Err(malformed("box header cut short"));
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[pos + 8..pos + 16]);
                (16, u64::from_be_bytes(b))
            }
            n => (8, u64::from(n)),
        };
        if size < header as u64 {
            return Err(malformed(format!("box {} has size {size}", String::from_utf8_lossy(&kind))));
        }
        let box_end = (pos as u64).saturating_add(size);
        if box_end > end as u64 {
            // A box running past the end: a truncated file. Keep what is complete.
            out.push(RawBox { kind, start: pos, payload_start: pos + header, end: usize::MAX });
            return Ok(out);
        }
        out.push(RawBox { kind, start: pos, payload_start: pos + header, end: box_end as usize });
        pos = box_end as usize;
    }
    Ok(out)
}
