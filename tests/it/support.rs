//! Helpers for the end-to-end tests: render through the public API; everything else (making
//! inputs, reading outputs back with ffmpeg/ffprobe, an independent decoder) comes from
//! `samvideo-test-support`, re-exported here.

use std::path::Path;
use std::sync::Arc;

use samvideo_core::media::local::LocalSource;
use samvideo_core::render::{render_to_file, OutputFormat, RenderOptions, RenderSummary};
use samvideo_core::request::Endpoint;
pub use samvideo_test_support::*;

/// Render `spec` (a JSON body for `endpoint`) with media relative to `dir`.
pub fn render(
    dir: &Path,
    endpoint: Endpoint,
    spec: &serde_json::Value,
    out: &Path,
    format: OutputFormat,
) -> RenderSummary {
    render_with(dir, endpoint, spec, out, &RenderOptions { format, ..RenderOptions::default() })
}

/// [`render`] with every option given (e.g. a fixed worker count).
pub fn render_with(
    dir: &Path,
    endpoint: Endpoint,
    spec: &serde_json::Value,
    out: &Path,
    options: &RenderOptions,
) -> RenderSummary {
    let request = samvideo_core::validate::parse_create(endpoint, spec.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("spec rejected: {}", e.body));
    render_to_file(&request, Arc::new(LocalSource::new(dir)), out, options).expect("render succeeds")
}

/// Keep `OutputFormat` reachable for tests without importing core paths.
pub use samvideo_core::render::OutputFormat as Format;

/// Render `spec` expecting failure; returns the error as the user sees it (its `Display`).
pub fn render_error(dir: &Path, endpoint: Endpoint, spec: &serde_json::Value, out: &Path) -> String {
    let request = samvideo_core::validate::parse_create(endpoint, spec.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("spec rejected: {}", e.body));
    match render_to_file(&request, Arc::new(LocalSource::new(dir)), out, &RenderOptions::default()) {
        Ok(s) => panic!("render succeeded ({} frames) but should have failed", s.frames),
        Err(e) => e.to_string(),
    }
}
