//! Checks for the bodies that are not videos: template settings (a partial advanced
//! configuration) and AI job `image_urls`.

use serde_json::Value;

use super::check::{check_table, Path};
use super::error::{Invalid, Problem};
use super::rules::ADVANCED_BODY;

/// Template `settings`: an object whose present keys obey the advanced rules; nothing is
/// required (the request supplies the rest when the template is applied).
pub(crate) fn template_settings(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let obj = v.as_object_mut().ok_or_else(|| path.err("settings", Problem::Object))?;
    check_table(obj, ADVANCED_BODY, &path.partial(&path.at("settings")))
}

/// AI job `image_urls`: an array of non-empty strings.
pub(crate) fn image_urls(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let items = v.as_array().ok_or_else(|| path.err("image_urls", Problem::Array))?;
    for (i, url) in items.iter().enumerate() {
        if url.as_str().is_none_or(str::is_empty) {
            return Err(Invalid::field(path.item_name("image_urls", i), Problem::NonEmptyString));
        }
    }
    Ok(())
}
