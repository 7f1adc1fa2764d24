//! End-to-end tests in one binary (samvideo-core and its codecs are linked once, not once per
//! file): specs rendered through the public API, outputs decoded back by ffmpeg/ffprobe (an
//! independent decoder) and checked for what a viewer sees and hears. Each module was its own
//! test binary before and keeps its name: `cargo test --workspace --test it video::`.

mod audio;
mod browser;
mod captions;
mod h264;
mod render;
mod support;
mod video;

/// The allocator of the end-to-end tests is the one the `samvideo` binary ships with (see
/// `samvideo-http/src/main.rs`), so memory measured here is memory users see.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
