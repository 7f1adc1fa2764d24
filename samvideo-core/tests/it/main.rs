//! samvideo-core's integration tests in one binary (the codecs are linked once, not once per
//! file); each module was its own test binary before and keeps its name. Run one module with
//! `cargo test --workspace --test it ingest::` (`--workspace` reuses the build the whole
//! suite made; `-p samvideo-core` resolves features differently and rebuilds dependencies).
//! Needs `ffmpeg` and `ffprobe` on PATH.

mod audio_pipeline;
mod decode_mutations;
mod ingest;
mod split_render;
mod validate_examples;
mod validate_matrix;
mod validate_props;
mod video_input;
