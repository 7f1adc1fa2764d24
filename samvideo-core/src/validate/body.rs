//! Checks of the core bodies (mix, simple, loop) that need more than one field: media
//! items (with the reference's exact strings), transcripts, and loop-video's
//! `background_url` / `duration`.

use serde_json::{Map, Value};

use super::check::{check_rule, check_table, is_http_url, number, Path};
use super::error::{Invalid, Problem};
use super::rules::{Rule, IMAGE_CLIP_DURATION, MEDIA_ITEM, MEDIA_TYPES, TRANSCRIPT_SOURCES};
use crate::request::is_subtitle_url;
use crate::subtitles::{self, SubtitleFormat};

/// How media item errors are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Core endpoints: the reference's exact strings for `type`/`url`.
    Core,
    /// Advanced: every message names the clip (`media_inputs.main_clips[3]: type ...`).
    Named,
}

/// `media_list` of mix, simple and loop: required, non-empty, every item checked.
pub(crate) fn media_list(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let items = match v {
        None | Some(Value::Null) => return Err(Invalid::NoMediaItems),
        Some(Value::Array(a)) if a.is_empty() => return Err(Invalid::NoMediaItems),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(path.err("media_list", Problem::Array)),
    };
    for (i, item) in items.iter_mut().enumerate() {
        media_item(item, path, "media_list", i, Style::Core)?;
    }
    Ok(())
}

/// One media item: `type` video/image and `url` required; `duration` checked by type; other
/// keys kept untouched for the renderer.
pub(crate) fn media_item(item: &mut Value, path: &Path, list: &str, i: usize, style: Style) -> Result<(), Invalid> {
    let obj = item.as_object_mut().ok_or_else(|| Invalid::field(path.item_name(list, i), Problem::Object))?;
    let p = path.item(list, i);
    match style {
        Style::Core => {
            // The reference checks presence the way Python does: missing, null, "", 0, false,
            // [] and {} all count as "not given".
            if is_blank(obj.get("type")) || is_blank(obj.get("url")) {
                return Err(Invalid::MediaTypeAndUrl);
            }
            if !matches!(obj.get("type").and_then(Value::as_str), Some(t) if MEDIA_TYPES.contains(&t)) {
                return Err(Invalid::MediaType);
            }
            if !obj.get("url").is_some_and(Value::is_string) {
                return Err(p.err("url", Problem::String));
            }
        }
        Style::Named => {
            for (name, rule) in
                [("type", Rule::OneOf(MEDIA_TYPES)), ("url", Rule::Str { non_empty: true, max_chars: None })]
            {
                match obj.get_mut(name) {
                    None => return Err(p.err(name, Problem::Required)),
                    Some(v) => check_rule(&rule, v, name, &p)?,
                }
            }
        }
    }
    let is_image = obj.get("type").and_then(Value::as_str) == Some("image");
    if let Some(d) = obj.get_mut("duration") {
        let rule = if style == Style::Named && is_image {
            Rule::Range { min: IMAGE_CLIP_DURATION.0, max: IMAGE_CLIP_DURATION.1 }
        } else {
            Rule::Positive
        };
        check_rule(&rule, d, "duration", &p)?;
    }
    check_table(obj, MEDIA_ITEM, &p)
}

/// Python truthiness: what the reference treats as "not provided".
fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Bool(true)) => false,
    }
}

/// mix-video `transcripts`: `{words, start, end}` entries, `end > start >= 0`.
pub(crate) fn transcripts(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let items = v.as_array_mut().ok_or_else(|| path.err("transcripts", Problem::Array))?;
    for (i, item) in items.iter_mut().enumerate() {
        let name = path.item_name("transcripts", i);
        let obj = item.as_object_mut().ok_or_else(|| Invalid::field(name.clone(), Problem::Object))?;
        let p = path.item("transcripts", i);
        match obj.get("words") {
            None if obj.contains_key("text") => return Err(Invalid::field(name, Problem::TextNotWords)),
            None => return Err(p.err("words", Problem::Required)),
            Some(Value::String(_)) => {}
            Some(_) => return Err(p.err("words", Problem::String)),
        }
        let start = required_number(obj.get("start"), "start", &p)?;
        if start < 0.0 {
            return Err(p.err("start", Problem::AtLeast(0.0)));
        }
        let end = required_number(obj.get("end"), "end", &p)?;
        if end <= start {
            return Err(p.err("end", Problem::GreaterThan("start")));
        }
    }
    Ok(())
}

/// mix-video `transcript_srt` / `transcript_vtt`: an `https` URL (fetched with the media,
/// parsed then), or the file's text, parsed now so a bad cue is a 400 naming its line.
pub(crate) fn subtitle_file(
    v: Option<&mut Value>,
    path: &Path,
    name: &str,
    format: SubtitleFormat,
) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let text = v.as_str().ok_or_else(|| path.err(name, Problem::String))?;
    if is_subtitle_url(text) {
        let https = text.get(..8).is_some_and(|h| h.eq_ignore_ascii_case("https://"));
        return if https && is_http_url(text) { Ok(()) } else { Err(path.err(name, Problem::SubtitleUrl)) };
    }
    match subtitles::parse(text, format) {
        Ok(_) => Ok(()),
        Err(e) => Err(path.err(name, Problem::Subtitles { format: format.name(), reason: e.to_string() })),
    }
}

/// mix-video: at most one of `transcripts`, `transcript_srt`, `transcript_vtt` (an empty
/// `transcripts` array counts as not sent).
pub(crate) fn one_transcript_source(body: &Map<String, Value>) -> Result<(), Invalid> {
    let sent = |key: &str| match body.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    };
    let mut present = TRANSCRIPT_SOURCES.iter().copied().filter(|key| sent(key));
    match (present.next(), present.next()) {
        (Some(first), Some(second)) => Err(Invalid::field(second, Problem::Conflicts(first))),
        _ => Ok(()),
    }
}

fn required_number(v: Option<&Value>, name: &str, p: &Path) -> Result<f64, Invalid> {
    let v = v.ok_or_else(|| p.err(name, Problem::Required))?;
    number(v).ok_or_else(|| p.err(name, Problem::Number))
}

/// loop-video `data.background_url`: required (missing, `null` and `""` answer the exact
/// reference string), a string.
pub(crate) fn background_url(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    match v {
        None | Some(Value::Null) => Err(Invalid::BackgroundUrl),
        Some(Value::String(s)) if s.is_empty() => Err(Invalid::BackgroundUrl),
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(path.err("background_url", Problem::String)),
    }
}

/// loop-video `data.duration`: optional; a number, or a string holding one (the reference's
/// "valid number" wording implies it parses strings; `"12"` becomes `12`); must be > 0.
pub(crate) fn loop_duration(v: Option<&mut Value>, _path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let x = match &*v {
        Value::Number(_) => number(v),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
    .ok_or(Invalid::DurationNotNumber)?;
    if x <= 0.0 {
        return Err(Invalid::DurationNotPositive);
    }
    if v.is_string() {
        *v = Value::from(x);
    }
    Ok(())
}
