//! Advanced-video checks that depend on a sibling field: `main_clips` (count, and image
//! duration by clip type) and `background` (value format by type).

use serde_json::Value;

use super::body::{media_item, Style};
use super::check::{check_rule, Path};
use super::error::{Invalid, Problem};
use super::rules::{Rule, BACKGROUND_TYPES, MAIN_CLIPS};

/// `media_inputs.main_clips`: required, 1 to 100 clips, each a named media item.
pub(crate) fn main_clips(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let items = match v {
        None if path.partial => return Ok(()),
        None => return Err(path.err("main_clips", Problem::Required)),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(path.err("main_clips", Problem::Array)),
    };
    let (min, max) = MAIN_CLIPS;
    if items.len() < min || items.len() > max {
        return Err(path.err("main_clips", Problem::Count { min, max }));
    }
    for (i, item) in items.iter_mut().enumerate() {
        media_item(item, path, "main_clips", i, Style::Named)?;
    }
    Ok(())
}

/// `media_inputs.background`: `type` color/image/video; `value` `#RRGGBB` for color, a
/// non-empty string (URL) for image and video.
pub(crate) fn background(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let obj = v.as_object_mut().ok_or_else(|| path.err("background", Problem::Object))?;
    let p = path.object("background");
    match obj.get_mut("type") {
        None if p.partial => {}
        None => return Err(p.err("type", Problem::Required)),
        Some(t) => check_rule(&Rule::OneOf(BACKGROUND_TYPES), t, "type", &p)?,
    }
    let rule = if obj.get("type").and_then(Value::as_str) == Some("color") {
        Rule::Color
    } else {
        Rule::Str { non_empty: true, max_chars: None }
    };
    match obj.get_mut("value") {
        None if p.partial => Ok(()),
        None => Err(p.err("value", Problem::Required)),
        Some(value) => check_rule(&rule, value, "value", &p),
    }
}
