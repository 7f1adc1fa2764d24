//! `samvideo render SPEC.json --endpoint E -o OUT.mp4 [--format mp4|y4m] [--thumbnail FILE.jpg]
//! [--subtitles FILE.vtt] [--subtitles-srt FILE.srt]`: validates the
//! spec like the API, renders it with local files (relative to the spec's folder), http(s)
//! media and the built-in `bundled:` media (so a spec copied from the playground renders as
//! it does on the server), and shows a progress bar on stderr.
//!
//! Hidden (the first step of split rendering, `docs/scale-out.md`): `--part segment:K` or
//! `--part audio` makes one part of the render into `--parts-dir DIR` (its file named by
//! `PartId::file_name`), `--part finalize` muxes the parts of `DIR` into `--output`: the same
//! bytes as a plain `samvideo render` of the spec, whichever processes made the parts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use samvideo_core::media::http::HttpSource;
use samvideo_core::media::limits::Limits;
use samvideo_core::media::local::LocalSource;
use samvideo_core::media::net_policy::NetPolicy;
use samvideo_core::media::MediaSource;
use samvideo_core::render::parts::{finalize, render_part, PartId};
use samvideo_core::render::{render_to_file, OutputFormat, RenderOptions};
use samvideo_core::request::Endpoint;
use samvideo_core::VideoCodec;

use crate::bundled::source::BundledSource;

/// Arguments of `samvideo render`.
#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// The JSON spec (a request body of the chosen endpoint); `-` reads stdin.
    pub spec: PathBuf,
    /// Which endpoint the spec is for.
    #[arg(long, default_value = "simple-video", value_parser = super::validate::parse_endpoint)]
    pub endpoint: Endpoint,
    /// Output file.
    #[arg(short, long, default_value = "out.mp4")]
    pub output: PathBuf,
    /// mp4 (AV1 + Opus, or H.264 + AAC with `--codec h264`) or y4m (raw frames).
    #[arg(long, default_value = "mp4", value_parser = ["mp4", "y4m"])]
    pub format: String,
    /// Allow http(s) media on loopback/private networks.
    #[arg(long, env = "SAMVIDEO_ALLOW_PRIVATE_NETWORK")]
    pub allow_private_network: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Parallel encoders, each on its own segment (at most 10 s) (0: one per core). The output bytes
    /// are the same whatever the number; each encoder adds about 190 MB at 720p.
    #[arg(long, default_value_t = 0, env = "SAMVIDEO_RENDER_THREADS")]
    pub threads: usize,
    /// Also write the poster frame (JPEG, at the spec's `thumbnail_time`, default 1 s) here.
    #[arg(long, value_name = "FILE.jpg")]
    pub thumbnail: Option<PathBuf>,
    /// Also write the captions as WebVTT here, one cue per caption page (only when the video
    /// has captions).
    #[arg(long, value_name = "FILE.vtt")]
    pub subtitles: Option<PathBuf>,
    /// Also write the captions as SubRip here (the same cues).
    #[arg(long, value_name = "FILE.srt")]
    pub subtitles_srt: Option<PathBuf>,
    /// Video codec, over the spec's `output_codec` / `output_settings.codec`: av1 (with Opus)
    /// or h264 (with AAC) [default: the spec's, else av1].
    #[arg(long)]
    pub codec: Option<VideoCodec>,
    /// Split rendering: make one part (`segment:K`, `audio`) into `--parts-dir`, or
    /// `finalize` the parts there into `--output` (docs/scale-out.md).
    #[arg(long, hide = true, requires = "parts_dir", value_parser = parse_step, value_name = "segment:K|audio|finalize")]
    pub part: Option<Step>,
    /// The folder of the parts of a split render.
    #[arg(long, hide = true, requires = "part", value_name = "DIR")]
    pub parts_dir: Option<PathBuf>,
}

/// A step of a split render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Make this part.
    Part(PartId),
    /// Mux the parts into the MP4.
    Finalize,
}

fn parse_step(s: &str) -> Result<Step, String> {
    if s == "finalize" {
        return Ok(Step::Finalize);
    }
    s.parse().map(Step::Part).map_err(|e| format!("{e}, or finalize"))
}

/// Run the subcommand.
pub fn run(args: RenderArgs) -> ExitCode {
    let body = match super::read_spec(&args.spec) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("samvideo: cannot read {}: {e}", args.spec.display());
            return ExitCode::from(2);
        }
    };
    let request = match samvideo_core::validate::parse_create(args.endpoint, &body) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("samvideo: invalid {} spec: {}", args.endpoint, err.message());
            println!("{}", err.body);
            return ExitCode::from(1);
        }
    };
    let base = match args.spec.parent() {
        Some(p) if args.spec.as_os_str() != "-" => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let policy = NetPolicy { allow_private_network: args.allow_private_network, ..NetPolicy::default() };
    let mut source = LocalSource::new(base);
    match HttpSource::new(policy, Limits::default()) {
        Ok(http) => source = source.with_remote(Box::new(http)),
        Err(e) => eprintln!("samvideo: http media disabled: {e}"),
    }
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(1000) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress_bar = bar.clone();
    let options = RenderOptions {
        format: if args.format == "y4m" { OutputFormat::Y4m } else { OutputFormat::Mp4 },
        progress: Some(Arc::new(move |p| progress_bar.set_position((p * 1000.0) as u64))),
        threads: args.threads,
        poster: args.thumbnail.clone(),
        subtitles_vtt: args.subtitles.clone(),
        subtitles_srt: args.subtitles_srt.clone(),
        codec_override: args.codec,
        ..RenderOptions::default()
    };
    let source: Arc<dyn MediaSource> = Arc::new(BundledSource::new(Arc::new(source)));
    if let (Some(step), Some(dir)) = (args.part, &args.parts_dir) {
        return run_step(step, dir, &args.output, &request, source, &options, &bar);
    }
    match render_to_file(&request, source, &args.output, &options) {
        Ok(s) => {
            bar.finish_and_clear();
            eprintln!(
                "wrote {} ({}x{}, {} frames, {:.2} s, {} bytes)",
                args.output.display(),
                s.width,
                s.height,
                s.frames,
                s.duration_secs,
                s.size_bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            bar.abandon();
            eprintln!("samvideo: render failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// `--part`: one part into `dir`, or the finalize of `dir` into `output`.
fn run_step(
    step: Step,
    dir: &std::path::Path,
    output: &std::path::Path,
    request: &samvideo_core::request::CreateRequest,
    source: Arc<dyn MediaSource>,
    options: &RenderOptions,
    bar: &ProgressBar,
) -> ExitCode {
    let result = match step {
        Step::Part(part) => {
            let out = dir.join(part.file_name());
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display())).and_then(|()| {
                render_part(request, source, part, &out, options)
                    .map(|s| format!("wrote {} ({part}, {} packets, {} bytes)", out.display(), s.packets, s.size_bytes))
                    .map_err(|e| e.to_string())
            })
        }
        Step::Finalize => finalize(request, source, dir, output, options)
            .map(|s| format!("wrote {} ({} frames, {} bytes)", output.display(), s.frames, s.size_bytes))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(message) => {
            bar.finish_and_clear();
            eprintln!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            bar.abandon();
            eprintln!("samvideo: render failed: {e}");
            ExitCode::from(1)
        }
    }
}
