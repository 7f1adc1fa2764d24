//! # samvideo-core
//!
//! JSON in, video out. A request body enters [`parse_create`], which checks it against the
//! documented matrix and answers either a typed [`CreateRequest`] or an [`ApiError`]
//! carrying the exact HTTP status and body the API documents. The request is lowered once
//! into a [`RenderPlan`] (frame-exact timeline, no defaults left to guess).
//! [`render_to_file`] fetches media through a [`MediaSource`] ([`LocalSource`] for files,
//! [`HttpSource`] for URLs), composites each frame, encodes it (AV1 with rav1e, or with
//! SVT-AV1 when the picture moves in most frames; H.264 with openh264) and streams it into an
//! MP4 (or Y4M) file, with progress and cancellation ([`RenderOptions`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use samvideo_core::{parse_create, render_to_file, Endpoint, LocalSource, RenderOptions};
//!
//! let spec = std::fs::read("examples/slideshow/spec.json")?;
//! let request = parse_create(Endpoint::SimpleVideo, &spec).map_err(|e| e.message().to_string())?;
//! let source = Arc::new(LocalSource::new("examples/slideshow"));
//! let summary = render_to_file(&request, source, "slideshow.mp4".as_ref(), &RenderOptions::default())?;
//! println!("{} frames, {:.1} s", summary.frames, summary.duration_secs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The root re-exports are the embedding API; `samvideo-core/examples/embed.rs` is a
//! runnable program using them (`cargo run -p samvideo-core --example embed`). The stages
//! behind them (`compose`, `encode`, `mux`, `frame`, `audio`) are public only so the
//! benchmarks and fuzz targets can reach their kernels; they are hidden from the docs and
//! may change without notice.
//!
//! # Layout
//! - `request/`  wire types (serde stops here)
//! - `validate/` the documented matrix and messages
//! - `plan/`     the render plan and the lowering from requests
//! - `media/`    media sources (local files, http) and decoders
//! - `subtitles/` SRT and WebVTT cues in (transcripts) and out (sidecars)
//! - `frame/`    pixel buffers and colour conversion
//! - `compose/`  per-frame compositing: clips, transitions, zoom, overlays, text
//! - `audio/`    decode, resample, mix, encode
//! - `encode/`   the encoders behind one trait: rav1e, SVT-AV1 (C bridge in `csrc/`), openh264
//! - `mux/`      MP4 and Y4M writers
//! - `render/`   the one driver
//! - `frame_rate` exact output frame rates (whole and NTSC)
//!
//! # Features
//! - `render` (default): everything that turns a plan into a video (fetching, decoders,
//!   compositor, rav1e, SVT-AV1 (the system's libSvtAv1Enc, found with pkg-config), openh264,
//!   Opus, MP4). Without it the crate is the request types, the validator
//!   and the lowering (`validate`, `request`, `plan`, `media::limits`): no codec is built or
//!   linked, for API clients and validate-only users.

#![warn(missing_docs)]

#[cfg(feature = "render")]
#[doc(hidden)]
pub mod audio;
#[cfg(feature = "render")]
#[doc(hidden)]
pub mod compose;
#[cfg(feature = "render")]
#[doc(hidden)]
pub mod encode;
pub mod error;
#[cfg(feature = "render")]
#[doc(hidden)]
pub mod frame;
pub mod frame_rate;
pub mod media;
#[cfg(feature = "render")]
#[doc(hidden)]
pub mod mux;
pub mod plan;
#[cfg(feature = "render")]
pub mod render;
pub mod request;
pub mod subtitles;
pub mod validate;

pub use error::ApiError;
pub use frame_rate::FrameRate;
pub use media::limits::Limits;
pub use media::{MediaError, MediaItemError, MediaSource};
pub use plan::{lower, LowerOptions, RenderPlan, VideoCodec};
pub use request::{CreateRequest, Endpoint};
pub use validate::{parse_create, parse_create_value};

#[cfg(feature = "render")]
pub use media::{http::HttpSource, local::LocalSource};
#[cfg(feature = "render")]
pub use render::{
    plan_request, render_to_file, CancelToken, OutputFormat, ProgressFn, RenderError, RenderOptions, RenderSummary,
};
