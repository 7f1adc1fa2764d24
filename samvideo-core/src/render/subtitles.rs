//! The subtitle files of a render: a `transcript_srt` / `transcript_vtt` URL in, the `.vtt`
//! and `.srt` sidecars out.
//!
//! Enter: the request and the job's media source (a subtitle URL is fetched from it under
//! `Limits::max_subtitle_bytes`, which the caller passes, as UTF-8, its cues checked now so a bad file fails naming the
//! field and URL), or the plan (its caption pages). Leave: the request with the URL replaced
//! by the text it served, for the lowering to parse; the sidecar files, one cue per caption
//! page (`docs/captions.md`).

use std::borrow::Cow;
use std::path::Path;

use super::api::RenderError;
use crate::media::{MediaError, MediaItemError, MediaSource};
use crate::plan::RenderPlan;
use crate::request::{is_subtitle_url, CreateRequest};
use crate::subtitles::{self, Cue, CuePart, SubtitleFormat};

/// `request`, with a subtitle URL replaced by the file it serves (unchanged when there is none,
/// or captions are off), fetched from `media` (the job's fetch-once cache) refusing more than
/// `max_bytes`.
pub(super) fn with_fetched_subtitles<'a>(
    request: &'a CreateRequest,
    media: &dyn MediaSource,
    max_bytes: u64,
) -> Result<Cow<'a, CreateRequest>, MediaItemError> {
    let CreateRequest::Mix(mix) = request else { return Ok(Cow::Borrowed(request)) };
    let Some((field, format, url)) = mix.subtitle_file() else { return Ok(Cow::Borrowed(request)) };
    if !is_subtitle_url(url) || mix.settings.disable_captions.unwrap_or(false) {
        return Ok(Cow::Borrowed(request));
    }
    let error = |error| MediaItemError { item: field.to_string(), url: url.to_string(), error };
    let bytes = media.fetch_at_most(url, max_bytes).map_err(error)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| error(MediaError::Decode(format!("not UTF-8 text: {e}"))))?;
    subtitles::parse(text, format)
        .map_err(|e| error(MediaError::Decode(format!("not valid {}: {e}", format.name()))))?;
    let mut mix = mix.clone();
    match format {
        SubtitleFormat::Srt => mix.transcript_srt = Some(text.to_string()),
        SubtitleFormat::WebVtt => mix.transcript_vtt = Some(text.to_string()),
    }
    Ok(Cow::Owned(CreateRequest::Mix(mix)))
}

/// The plan's caption pages as cues, in seconds, by first frame.
pub(super) fn page_cues(plan: &RenderPlan) -> Vec<Cue> {
    plan.captions
        .iter()
        .map(|page| {
            let (start, end) = (plan.fps.secs_of(page.start), plan.fps.secs_of(page.end));
            let text = page.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            Cue { start, end, parts: vec![CuePart { text, start, end }] }
        })
        .collect()
}

/// Write the sidecars the options ask for (`.vtt` and/or `.srt`), when the plan has captions.
pub(super) fn write_sidecars(plan: &RenderPlan, vtt: Option<&Path>, srt: Option<&Path>) -> Result<(), RenderError> {
    if plan.captions.is_empty() {
        return Ok(());
    }
    let cues = page_cues(plan);
    if let Some(path) = vtt {
        std::fs::write(path, subtitles::write_vtt(&cues))?;
    }
    if let Some(path) = srt {
        std::fs::write(path, subtitles::write_srt(&cues))?;
    }
    Ok(())
}
