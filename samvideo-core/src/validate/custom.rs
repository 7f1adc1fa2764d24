//! The functions behind the [`Custom`] checks the rules table names.
//!
//! Enter: a [`Custom`] from a table row, the value (or `None` when absent) and its [`Path`].
//! Leave: what that checker answers. `mod.rs` hands [`dispatch`] to the engine with the root
//! `Path`; the table (`rules.rs`) stays pure data and the engine (`check.rs`) never imports
//! the checkers, which import it.

use serde_json::Value;

use super::check::Path;
use super::rules::Custom;
use super::Invalid;
use super::{advanced, body, exports, other};
use crate::subtitles::SubtitleFormat;

/// Runs the check a table row names.
pub(crate) fn dispatch(check: Custom, value: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    match check {
        Custom::MediaList => body::media_list(value, path),
        Custom::Transcripts => body::transcripts(value, path),
        Custom::TranscriptSrt => body::subtitle_file(value, path, "transcript_srt", SubtitleFormat::Srt),
        Custom::TranscriptVtt => body::subtitle_file(value, path, "transcript_vtt", SubtitleFormat::WebVtt),
        Custom::BackgroundUrl => body::background_url(value, path),
        Custom::LoopDuration => body::loop_duration(value, path),
        Custom::MainClips => advanced::main_clips(value, path),
        Custom::Background => advanced::background(value, path),
        Custom::Destinations => exports::destinations(value, path),
        Custom::EmailTo => exports::email_to(value, path),
        Custom::TemplateSettings => other::template_settings(value, path),
        Custom::ImageUrls => other::image_urls(value, path),
    }
}
