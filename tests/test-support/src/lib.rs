//! Helpers shared by the test crates (`samvideo-core`'s and `samvideo-http`'s integration
//! tests, the end-to-end crate `samvideo-e2e`): ffmpeg and ffprobe as the independent oracle
//! that reads outputs back ([`mod@ffmpeg`]), test assets ([`assets`]: PNG, WAV, MP4 clips made by
//! ffmpeg), audio measurements ([`audio`]), peak-memory measurements in a child process
//! ([`child`]), a throwaway Postgres server ([`postgres`]) and S3-compatible server ([`s3`]).
//!
//! It depends on no samvideo crate, so it builds in parallel with them and a change to the
//! engine does not rebuild it. Everything panics with a readable message on failure: these
//! are test helpers.

pub mod assets;
pub mod audio;
pub mod child;
pub mod ffmpeg;
pub mod postgres;
pub mod s3;

pub use assets::*;
pub use audio::*;
pub use child::*;
pub use ffmpeg::*;
