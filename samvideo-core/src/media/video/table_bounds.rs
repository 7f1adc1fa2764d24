//! A guard in front of the MP4 box decoder: every table box inside a track (`stts`, `ctts`,
//! `stsc`, `stsz`, `stco`, `co64`, `stss`, `elst`) declares an entry count, and
//! `shiguredo_mp4` reserves memory for that many entries (`Vec::with_capacity(count)`)
//! before it reads them. A 2.9 KB file whose `stsc` box claims 2.8 G entries asked for 34 GB,
//! and a failed allocation aborts the process (no `catch_unwind` can stop an abort).
//!
//! So the raw `trak` bytes are walked here first, and each table's count is checked against
//! the bytes its box actually holds: a count the box cannot hold is malformed input, refused
//! before any allocation sized by it happens. After this check every such allocation is at
//! most the box's own size.
//!
//! In: one `trak` box (header included) as bytes. Out: `Ok(())` or a
//! `MediaError::Decode("malformed MP4: stsc box declares N entries in M bytes")`.

use super::boxes::{boxes_in, malformed};
use crate::media::MediaError;

/// Boxes under `trak` that hold other boxes and may lead to a table.
const CONTAINERS: [&[u8; 4]; 5] = [b"mdia", b"minf", b"stbl", b"edts", b"dinf"];

/// Boxes nested deeper than this are refused (real files nest tables 4 deep under `trak`).
const MAX_DEPTH: usize = 8;

/// Checks every table box inside a `trak` box (see the module docs).
pub(crate) fn check_track_tables(trak: &[u8]) -> Result<(), MediaError> {
    walk(trak, 0, trak.len(), 0)
}

/// Checks the boxes in `buf[start..end]`, going down into the containers.
fn walk(buf: &[u8], start: usize, end: usize, depth: usize) -> Result<(), MediaError> {
    if depth > MAX_DEPTH {
        return Err(malformed("boxes nested too deep"));
    }
    for b in boxes_in(buf, start, end)? {
        // A box running past the end (truncated file): check what is there.
        let box_end = b.end.min(end);
        let payload = &buf[b.payload_start.min(box_end)..box_end];
        if b.kind == *b"trak" || CONTAINERS.iter().any(|c| **c == b.kind) {
            walk(buf, b.payload_start.min(box_end), box_end, depth + 1)?;
        } else {
            check_table(&b.kind, payload, box_end - b.start)?;
        }
    }
    Ok(())
}

/// Checks one box: when it is a table, its entry count times the entry size must fit in the
/// payload after the count.
fn check_table(kind: &[u8; 4], payload: &[u8], box_size: usize) -> Result<(), MediaError> {
    let version = payload.first().copied().unwrap_or(0);
    // (offset of the count in the payload, bytes per entry); full-box header is 4 bytes.
    let (count_at, entry_size) = match kind {
        b"stts" | b"ctts" => (4, 8),
        b"stsc" => (4, 12),
        b"stco" | b"stss" => (4, 4),
        b"co64" => (4, 8),
        b"elst" => (4, if version == 1 { 20 } else { 12 }),
        b"stsz" => {
            // sample_size, then sample_count; entries follow only when sample_size is 0.
            let sample_size = be_u32(payload, 4);
            if sample_size != Some(0) {
                return Ok(());
            }
            (8, 4)
        }
        _ => return Ok(()),
    };
    let Some(count) = be_u32(payload, count_at) else {
        return Ok(()); // no count: the box decoder reports the short box
    };
    let room = payload.len().saturating_sub(count_at + 4) as u64;
    if u64::from(count) * entry_size > room {
        return Err(malformed(format!(
            "{} box declares {count} entries in {box_size} bytes",
            String::from_utf8_lossy(kind)
        )));
    }
    Ok(())
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn trak_with(table: Vec<u8>) -> Vec<u8> {
        let stbl = boxed(b"stbl", &table);
        let minf = boxed(b"minf", &stbl);
        let mdia = boxed(b"mdia", &minf);
        boxed(b"trak", &mdia)
    }

    #[test]
    fn counts_the_box_can_hold_pass() {
        // stsc: version/flags, count 1, one 12-byte entry.
        let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1];
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(check_track_tables(&trak_with(boxed(b"stsc", &p))), Ok(()));
        // stsz with a fixed sample size: the count sizes nothing.
        let p = [0, 0, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(check_track_tables(&trak_with(boxed(b"stsz", &p))), Ok(()));
    }

    #[test]
    fn a_count_past_the_box_is_refused_with_its_numbers() {
        let p = [0, 0, 0, 0, 0xa9, 0x74, 0x6f, 0x6f, 0, 0, 0, 0x1d, 0, 0, 0, 0x0d, 0, 0, 0, 1];
        let err = check_track_tables(&trak_with(boxed(b"stsc", &p))).unwrap_err();
        assert_eq!(err.to_string(), "malformed MP4: stsc box declares 2842980207 entries in 28 bytes");
        for (kind, payload) in [
            (b"stts", vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1]),
            (b"stco", vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1]),
            (b"co64", vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]),
            (b"stss", vec![0, 0, 0, 0, 0, 0, 1, 0]),
            (b"ctts", vec![0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            (b"stsz", vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1]),
            (b"elst", vec![1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        ] {
            let err = check_track_tables(&trak_with(boxed(kind, &payload)));
            assert!(err.is_err(), "{}", String::from_utf8_lossy(kind));
        }
    }

    #[test]
    fn edit_lists_under_edts_are_checked() {
        let elst = boxed(b"elst", &[0, 0, 0, 0, 0x10, 0, 0, 0]);
        let trak = boxed(b"trak", &boxed(b"edts", &elst));
        assert!(check_track_tables(&trak).is_err());
    }

    #[test]
    fn garbage_and_deep_nesting_do_not_panic() {
        assert_eq!(check_track_tables(&[]), Ok(()));
        // A 64-bit size with no room for it: the shared box walker's error.
        let err = check_track_tables(&[0, 0, 0, 1, b't', b'r', b'a', b'k']).expect_err("cut short");
        assert_eq!(err.to_string(), "malformed MP4: box header cut short");
        let mut b = boxed(b"stbl", &[]);
        for _ in 0..20 {
            b = boxed(b"minf", &b);
        }
        assert!(check_track_tables(&boxed(b"trak", &b)).is_err());
    }
}
