//! Embedding samvideo-core in an application: validate a JSON spec, render it with progress
//! and a cancel token, and report what was written. Uses only the crate's root API.
//!
//! ```text
//! cargo run -p samvideo-core --example embed                       # examples/social, mix-video
//! cargo run -p samvideo-core --example embed -- SPEC.json ENDPOINT OUT.mp4
//! ```
//!
//! Media URLs in the spec are files relative to the spec's folder ([`LocalSource`]); an
//! application serving users would pass an [`samvideo_core::HttpSource`] instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use samvideo_core::{parse_create, render_to_file, CancelToken, Endpoint, LocalSource, RenderError, RenderOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("examples/social/spec.json"));
    let endpoint = args.next().unwrap_or_else(|| "mix-video".into());
    let out = args.next().map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("samvideo-embed.mp4"));
    match run(&spec, &endpoint, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(spec: &Path, endpoint: &str, out: &Path) -> Result<(), String> {
    let endpoint: Endpoint = endpoint.parse()?;
    let body = std::fs::read(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    // The same check and the same messages as the HTTP API (`media_list[0]: url must be a string`).
    let request = parse_create(endpoint, &body).map_err(|e| format!("invalid spec: {}", e.message()))?;

    let folder = spec.parent().unwrap_or(Path::new("."));
    let cancel = CancelToken::new();
    let options = RenderOptions {
        progress: Some(Arc::new(|p: f64| eprint!("\rrendering {:>3.0} %", p * 100.0))),
        cancel: cancel.clone(), // another thread may call `cancel.cancel()` to stop the render
        ..RenderOptions::default()
    };
    let summary = match render_to_file(&request, Arc::new(LocalSource::new(folder)), out, &options) {
        Ok(summary) => summary,
        // A bad media item is named: `media_list[1] (portrait-2.jpg): ...`.
        Err(RenderError::Media(e)) => return Err(format!("media: {e}")),
        Err(e) => return Err(e.to_string()),
    };
    eprintln!();
    println!(
        "{}: {}x{}, {} frames, {:.2} s, {} bytes",
        out.display(),
        summary.width,
        summary.height,
        summary.frames,
        summary.duration_secs,
        summary.size_bytes
    );
    Ok(())
}
