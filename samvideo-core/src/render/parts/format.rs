//! The part file: what one part of a split render ([`super`]) leaves behind, byte by byte.
//!
//! Enter: a [`Header`] and packets (video: data, key-frame flag, frame index; audio: data and
//! its length in 48 kHz samples). Leave: a file any engine of the same version reads back, or,
//! read back, the header and the packets in order — or a [`FormatError`] naming what is wrong
//! (not a part, another format version, truncated, damaged).
//!
//! Version 1, every integer little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `SVPART\r\n` |
//! | 2 | format version (1) |
//! | 32 | plan fingerprint ([`Fingerprint`]) |
//! | 2 + n | the engine that made it ([`engine`](super::engine)), length then UTF-8: for the error message |
//! | 1 | kind: 0 a video segment, 1 the audio |
//! | segment | index `u32`, segment count `u32`, first frame `u64`, end frame (exclusive) `u64` |
//! | audio | 0 (the video is silent) or 1, then codec `u8` (0 Opus: pre-skip `u16`; 1 AAC: config length `u16` and bytes), packets the `moov` is sized for `u64`, real length in samples `u64` |
//!
//! then records, each a tag byte: `1` a packet — video: flags `u8` (bit 0: key frame), frame
//! index in the whole video `u64`, length `u32`, data; audio: samples `u32`, length `u32`, data
//! — and `0` the end: the packet count `u64` and the SHA-256 of every byte before the end tag.
//! A file without its end record is truncated; a packet is at most [`MAX_PACKET_BYTES`], read
//! as its bytes arrive (a damaged length allocates nothing).

use std::io::{self, Read, Write};
use std::ops::Range;

use sha2::{Digest, Sha256};

use super::Fingerprint;
use crate::mux::mp4::{AudioFormat, AudioTrack};

/// The first bytes of every part file.
pub const MAGIC: &[u8; 8] = b"SVPART\r\n";
/// The format version this engine writes and reads.
pub const VERSION: u16 = 1;
/// Largest packet a part may hold (an AV1 temporal unit of a 1080p key frame is well under).
pub const MAX_PACKET_BYTES: u32 = 64 << 20;

const TAG_END: u8 = 0;
const TAG_PACKET: u8 = 1;
const KIND_SEGMENT: u8 = 0;
const KIND_AUDIO: u8 = 1;

/// Why bytes are not a readable part.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not a part file at all.
    #[error("not a samvideo part file")]
    NotAPart,
    /// A part of another format version.
    #[error("part format version {found}; this engine reads version {VERSION}")]
    Version {
        /// The file's version.
        found: u16,
    },
    /// The file ends before its end record.
    #[error("truncated (it ends before its end record)")]
    Truncated,
    /// The bytes are not what was written.
    #[error("damaged: {0}")]
    Damaged(String),
}

/// What a part holds, written before its packets.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The plan (and engine) it was made for.
    pub fingerprint: Fingerprint,
    /// The engine that made it ([`super::engine`] of that build).
    pub engine: String,
    /// Which part.
    pub body: Body,
}

/// The part's own description.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Video segment `index` of `count`, frames `frames` of the video.
    Segment {
        /// Segment number, from 0.
        index: u32,
        /// Segments of the plan.
        count: u32,
        /// The frames it encodes.
        frames: Range<u64>,
    },
    /// The whole audio track (`None`: the video is silent).
    Audio(Option<AudioTrack>),
}

/// One packet of a part.
#[derive(Debug, Clone, PartialEq)]
pub enum PartPacket {
    /// A video temporal unit / access unit.
    Video {
        /// Sample bytes.
        data: Vec<u8>,
        /// Random-access point.
        keyframe: bool,
        /// Index of the frame in the whole video.
        frame: u64,
    },
    /// An audio packet.
    Audio {
        /// Packet bytes.
        data: Vec<u8>,
        /// Length in 48 kHz samples.
        samples: u32,
    },
}

/// Writes a part: the header at once, packets as they come, the end record at [`finish`](Self::finish).
pub struct PartWriter<W: Write> {
    out: W,
    hash: Sha256,
    packets: u64,
    audio: bool,
}

impl<W: Write> PartWriter<W> {
    /// Start a part with `header`.
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        let mut w = PartWriter { out, hash: Sha256::new(), packets: 0, audio: matches!(header.body, Body::Audio(_)) };
        w.put(MAGIC)?;
        w.put(&VERSION.to_le_bytes())?;
        w.put(&header.fingerprint.0)?;
        w.put_bytes16(header.engine.as_bytes())?;
        match &header.body {
            Body::Segment { index, count, frames } => {
                w.put(&[KIND_SEGMENT])?;
                w.put(&index.to_le_bytes())?;
                w.put(&count.to_le_bytes())?;
                w.put(&frames.start.to_le_bytes())?;
                w.put(&frames.end.to_le_bytes())?;
            }
            Body::Audio(None) => w.put(&[KIND_AUDIO, 0])?,
            Body::Audio(Some(track)) => {
                w.put(&[KIND_AUDIO, 1])?;
                match &track.format {
                    AudioFormat::Opus { pre_skip } => {
                        w.put(&[0])?;
                        w.put(&pre_skip.to_le_bytes())?;
                    }
                    AudioFormat::Aac { config } => {
                        w.put(&[1])?;
                        w.put_bytes16(config)?;
                    }
                }
                w.put(&(track.packets as u64).to_le_bytes())?;
                w.put(&track.samples.to_le_bytes())?;
            }
        }
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    fn put_bytes16(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u16::try_from(bytes.len()).map_err(|_| io::Error::other("a header field is over 64 KiB"))?;
        self.put(&len.to_le_bytes())?;
        self.put(bytes)
    }

    fn put_data(&mut self, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).ok().filter(|l| *l <= MAX_PACKET_BYTES);
        let len = len.ok_or_else(|| io::Error::other(format!("a packet of {} bytes is over the limit", data.len())))?;
        self.put(&len.to_le_bytes())?;
        self.put(data)
    }

    /// Append a video packet (a segment part only).
    pub fn video(&mut self, data: &[u8], keyframe: bool, frame: u64) -> io::Result<()> {
        if self.audio {
            return Err(io::Error::other("a video packet in an audio part"));
        }
        self.put(&[TAG_PACKET, u8::from(keyframe)])?;
        self.put(&frame.to_le_bytes())?;
        self.put_data(data)?;
        self.packets += 1;
        Ok(())
    }

    /// Append an audio packet (the audio part only).
    pub fn audio(&mut self, data: &[u8], samples: u32) -> io::Result<()> {
        if !self.audio {
            return Err(io::Error::other("an audio packet in a segment part"));
        }
        self.put(&[TAG_PACKET])?;
        self.put(&samples.to_le_bytes())?;
        self.put_data(data)?;
        self.packets += 1;
        Ok(())
    }

    /// Write the end record and flush; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[TAG_END])?;
        self.out.write_all(&self.packets.to_le_bytes())?;
        self.out.write_all(&self.hash.finalize())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a part: the header first ([`PartReader::open`]), then packets until the end record,
/// whose count and checksum are checked before the last `None`.
pub struct PartReader<R: Read> {
    input: R,
    hash: Sha256,
    header: Header,
    packets: u64,
    ended: bool,
}

impl<R: Read> PartReader<R> {
    /// Read and check the header.
    pub fn open(input: R) -> Result<Self, FormatError> {
        let mut r = PartReader {
            input,
            hash: Sha256::new(),
            header: Header { fingerprint: Fingerprint([0; 32]), engine: String::new(), body: Body::Audio(None) },
            packets: 0,
            ended: false,
        };
        let mut magic = [0u8; 8];
        match r.input.read_exact(&mut magic) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FormatError::NotAPart),
            other => other?,
        }
        if &magic != MAGIC {
            return Err(FormatError::NotAPart);
        }
        r.hash.update(magic);
        let found = u16::from_le_bytes(r.array()?);
        if found != VERSION {
            return Err(FormatError::Version { found });
        }
        let fingerprint = Fingerprint(r.array()?);
        let engine = String::from_utf8(r.bytes16()?).map_err(|_| FormatError::Damaged("engine name".into()))?;
        let body = match r.array::<1>()?[0] {
            KIND_SEGMENT => {
                let index = u32::from_le_bytes(r.array()?);
                let count = u32::from_le_bytes(r.array()?);
                let start = u64::from_le_bytes(r.array()?);
                let end = u64::from_le_bytes(r.array()?);
                Body::Segment { index, count, frames: start..end }
            }
            KIND_AUDIO => match r.array::<1>()?[0] {
                0 => Body::Audio(None),
                1 => {
                    let format = match r.array::<1>()?[0] {
                        0 => AudioFormat::Opus { pre_skip: u16::from_le_bytes(r.array()?) },
                        1 => AudioFormat::Aac { config: r.bytes16()? },
                        other => return Err(FormatError::Damaged(format!("audio codec {other}"))),
                    };
                    let packets = usize::try_from(u64::from_le_bytes(r.array()?))
                        .map_err(|_| FormatError::Damaged("audio packet count".into()))?;
                    let samples = u64::from_le_bytes(r.array()?);
                    Body::Audio(Some(AudioTrack { format, packets, samples }))
                }
                other => return Err(FormatError::Damaged(format!("audio presence {other}"))),
            },
            other => return Err(FormatError::Damaged(format!("part kind {other}"))),
        };
        r.header = Header { fingerprint, engine, body };
        Ok(r)
    }

    /// The part's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), FormatError> {
        match self.input.read_exact(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(FormatError::Truncated),
            Err(e) => Err(e.into()),
            Ok(()) => {
                self.hash.update(&*buf);
                Ok(())
            }
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut a = [0u8; N];
        self.fill(&mut a)?;
        Ok(a)
    }

    fn bytes16(&mut self) -> Result<Vec<u8>, FormatError> {
        let len = u16::from_le_bytes(self.array()?);
        let mut v = vec![0u8; usize::from(len)];
        self.fill(&mut v)?;
        Ok(v)
    }

    fn data(&mut self) -> Result<Vec<u8>, FormatError> {
        let len = u32::from_le_bytes(self.array()?);
        if len > MAX_PACKET_BYTES {
            return Err(FormatError::Damaged(format!("a packet of {len} bytes")));
        }
        // Read as the bytes come: a damaged length cannot make us allocate it up front.
        let mut data = Vec::new();
        (&mut self.input).take(u64::from(len)).read_to_end(&mut data)?;
        if data.len() as u64 != u64::from(len) {
            return Err(FormatError::Truncated);
        }
        self.hash.update(&data);
        Ok(data)
    }

    /// The next packet, or `None` after a correct end record.
    pub fn next_packet(&mut self) -> Result<Option<PartPacket>, FormatError> {
        if self.ended {
            return Ok(None);
        }
        let mut tag = [0u8; 1];
        match self.input.read_exact(&mut tag) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FormatError::Truncated),
            other => other?,
        }
        match tag[0] {
            TAG_PACKET => {
                self.hash.update(tag);
                self.packets += 1;
                Ok(Some(match self.header.body {
                    Body::Segment { .. } => {
                        let flags = self.array::<1>()?[0];
                        let frame = u64::from_le_bytes(self.array()?);
                        PartPacket::Video { keyframe: flags & 1 == 1, frame, data: self.data()? }
                    }
                    Body::Audio(_) => {
                        let samples = u32::from_le_bytes(self.array()?);
                        PartPacket::Audio { samples, data: self.data()? }
                    }
                }))
            }
            TAG_END => {
                let mut count = [0u8; 8];
                let mut sum = [0u8; 32];
                for buf in [&mut count[..], &mut sum[..]] {
                    match self.input.read_exact(buf) {
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FormatError::Truncated),
                        other => other?,
                    }
                }
                if u64::from_le_bytes(count) != self.packets {
                    return Err(FormatError::Damaged("the packet count differs from the end record".into()));
                }
                if self.hash.clone().finalize().as_slice() != sum {
                    return Err(FormatError::Damaged("checksum mismatch".into()));
                }
                let mut rest = [0u8; 1];
                if self.input.read(&mut rest)? != 0 {
                    return Err(FormatError::Damaged("bytes after the end record".into()));
                }
                self.ended = true;
                Ok(None)
            }
            other => Err(FormatError::Damaged(format!("record tag {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment_header() -> Header {
        Header {
            fingerprint: Fingerprint([7; 32]),
            engine: "samvideo-core test".into(),
            body: Body::Segment { index: 1, count: 3, frames: 150..300 },
        }
    }

    fn written(header: &Header, packets: &[PartPacket]) -> Vec<u8> {
        let mut w = PartWriter::new(Vec::new(), header).expect("header");
        for p in packets {
            match p {
                PartPacket::Video { data, keyframe, frame } => w.video(data, *keyframe, *frame).expect("video"),
                PartPacket::Audio { data, samples } => w.audio(data, *samples).expect("audio"),
            }
        }
        w.finish().expect("finish")
    }

    fn read_all(bytes: &[u8]) -> Result<(Header, Vec<PartPacket>), FormatError> {
        let mut r = PartReader::open(bytes)?;
        let mut packets = Vec::new();
        while let Some(p) = r.next_packet()? {
            packets.push(p);
        }
        Ok((r.header().clone(), packets))
    }

    #[test]
    fn packets_and_headers_read_back_as_written() {
        let video = vec![
            PartPacket::Video { data: vec![1, 2, 3], keyframe: true, frame: 150 },
            PartPacket::Video { data: vec![], keyframe: false, frame: 151 },
        ];
        let header = segment_header();
        assert_eq!(read_all(&written(&header, &video)).expect("read"), (header, video));
        for track in [
            None,
            Some(AudioTrack { format: AudioFormat::Opus { pre_skip: 312 }, packets: 52, samples: 48_000 }),
            Some(AudioTrack { format: AudioFormat::Aac { config: vec![0x11, 0x90] }, packets: 49, samples: 47_999 }),
        ] {
            let header = Header { body: Body::Audio(track), ..segment_header() };
            let audio = vec![PartPacket::Audio { data: vec![9; 300], samples: 960 }];
            assert_eq!(read_all(&written(&header, &audio)).expect("read"), (header, audio));
        }
    }

    #[test]
    fn truncated_damaged_and_foreign_bytes_are_refused() {
        let bytes = written(&segment_header(), &[PartPacket::Video { data: vec![5; 40], keyframe: true, frame: 150 }]);
        for cut in [bytes.len() - 1, bytes.len() - 33, 70, 90] {
            let err = read_all(&bytes[..cut]).expect_err("truncated");
            assert!(matches!(err, FormatError::Truncated), "cut at {cut}: {err}");
        }
        let mut flipped = bytes.clone();
        let at = bytes.len() - 50;
        flipped[at] ^= 1;
        assert_eq!(read_all(&flipped).expect_err("damaged").to_string(), "damaged: checksum mismatch");
        let mut version = bytes.clone();
        version[8] = 2;
        assert_eq!(
            read_all(&version).expect_err("version").to_string(),
            "part format version 2; this engine reads version 1"
        );
        assert!(matches!(read_all(b"\x1aE\xdf\xa3 not a part"), Err(FormatError::NotAPart)));
        assert!(matches!(read_all(b""), Err(FormatError::NotAPart)));
        let mut huge = written(&segment_header(), &[]);
        let end = huge.len() - 41;
        huge.truncate(end);
        huge.extend([TAG_PACKET, 1]);
        huge.extend(150u64.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        assert!(matches!(read_all(&huge), Err(FormatError::Damaged(_))));
    }
}
