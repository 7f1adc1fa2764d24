//! # samvideo-core
//!
//! JSON in, video out. A request body enters [`validate::parse_create`], which checks it
//! against the documented matrix and answers either a typed [`request::CreateRequest`] or
//! an [`ApiError`] carrying the exact HTTP status and body the API documents. The request
//! is lowered once into a [`plan::RenderPlan`] (frame-exact timeline, no defaults left to
//! guess). [`render::render_to_file`] fetches media through a [`media::MediaSource`], composites
//! each frame, encodes it with rav1e and streams it into an MP4 (or Y4M) writer, with
//! progress and cancellation.
//!
//! # Layout
//! - `request/`  wire types (serde stops here)
//! - `validate/` the documented matrix and messages
//! - `plan/`     the render plan and the lowering from requests
//! - `media/`    media sources (local files, http) and decoders
//! - `frame/`    pixel buffers and colour conversion
//! - `compose/`  per-frame compositing: clips, transitions, zoom, overlays, text
//! - `audio/`    decode, resample, mix, encode
//! - `encode/`   rav1e wrapper
//! - `mux/`      MP4 and Y4M writers
//! - `render`    the one driver
//! - `frame_rate` exact output frame rates (whole and NTSC)

#![warn(missing_docs)]

pub mod audio;
pub mod compose;
pub mod encode;
pub mod error;
pub mod frame;
pub mod frame_rate;
pub mod media;
pub mod mux;
pub mod plan;
pub mod render;
pub mod request;
pub mod validate;

pub use error::ApiError;
pub use frame_rate::FrameRate;
