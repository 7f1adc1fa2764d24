//! The subtitle files of a render: a `transcript_srt` / `transcript_vtt` URL in.
//!
//! Enter: the request and the job's media (a subtitle URL is fetched under
//! `Limits::max_subtitle_bytes`, as UTF-8, its cues checked now so a bad file fails naming the
//! field and URL). Leave: the request with the URL replaced by the text it served, for the
//! lowering to parse (`docs/captions.md`).

use std::borrow::Cow;

use super::assets::JobAssets;
use crate::media::{MediaError, MediaItemError, MediaSource};
use crate::request::{is_subtitle_url, CreateRequest};
use crate::subtitles::{self, SubtitleFormat};

/// `request`, with a subtitle URL replaced by the file it serves (unchanged when there is none,
/// or captions are off).
pub(super) fn with_fetched_subtitles<'a>(
    request: &'a CreateRequest,
    assets: &JobAssets,
) -> Result<Cow<'a, CreateRequest>, MediaItemError> {
    let CreateRequest::Mix(mix) = request else { return Ok(Cow::Borrowed(request)) };
    let Some((field, format, url)) = mix.subtitle_file() else { return Ok(Cow::Borrowed(request)) };
    if !is_subtitle_url(url) || mix.settings.disable_captions.unwrap_or(false) {
        return Ok(Cow::Borrowed(request));
    }
    let error = |error| MediaItemError { item: field.to_string(), url: url.to_string(), error };
    let bytes = assets.media().fetch_at_most(url, assets.limits().max_subtitle_bytes).map_err(error)?;
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
