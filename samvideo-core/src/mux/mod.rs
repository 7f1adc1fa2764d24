//! Containers: MP4 (AV1 video, Opus audio, moov before mdat) and Y4M (raw frames).
//!
//! Enter: encoded packets (or raw frames for Y4M) in presentation order. Leave: bytes in a
//! file, written as they arrive; only the sample table stays in memory until the end.

pub mod mp4;
pub mod y4m;
