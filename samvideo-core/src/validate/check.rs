//! The engine that walks a table of [`Field`]s over a JSON object.
//!
//! Enter: a mutable `serde_json::Value` (the body after envelope unwrapping) and a table.
//! Leave: `Ok(())`, with a few values normalised in place so the typed structs can read them
//! (`30.0` -> `30` for integer fields, `"12"` -> `12` for the loop duration), or the first
//! [`Invalid`] in table order.

use serde_json::{Map, Value};

use super::error::{Invalid, Problem};
use super::rules::{Custom, Field, Rule};
use crate::frame_rate::FrameRate;

/// Runs a [`Custom`] check: `custom::dispatch`, handed in with the root [`Path`] so this
/// engine does not import the checkers (they import it).
pub(crate) type Dispatch = fn(Custom, Option<&mut Value>, &Path) -> Result<(), Invalid>;

/// Where in the body a check is, whether missing required keys are tolerated, and how
/// [`Custom`] checks run.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// Printed before a field name: `""`, `"output_settings."`, `"media_list[2]: "`.
    prefix: String,
    /// Partial configuration (template settings): `required` is not enforced.
    pub partial: bool,
    custom: Dispatch,
}

impl Path {
    /// The top of a body; `custom` runs its [`Custom`] checks.
    pub fn root(custom: Dispatch) -> Self {
        Path { prefix: String::new(), partial: false, custom }
    }

    /// The top of a partial body (template settings) inside this one, printed under `prefix`.
    pub fn partial(&self, prefix: &str) -> Self {
        Path { prefix: format!("{prefix}."), partial: true, custom: self.custom }
    }

    /// The printed path of key `name` here: `fps`, `output_settings.framerate`.
    pub fn at(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The printed path of entry `i` of array `name`: `media_list[2]`.
    pub fn item_name(&self, name: &str, i: usize) -> String {
        format!("{}{name}[{i}]", self.prefix)
    }

    /// Inside object `name`.
    pub fn object(&self, name: &str) -> Path {
        Path { prefix: format!("{}{name}.", self.prefix), partial: self.partial, custom: self.custom }
    }

    /// Inside entry `i` of array `name`: fields print as `media_list[2]: duration`.
    pub fn item(&self, name: &str, i: usize) -> Path {
        Path { prefix: format!("{}{name}[{i}]: ", self.prefix), partial: self.partial, custom: self.custom }
    }

    /// A field error at key `name` here.
    pub fn err(&self, name: &str, problem: Problem) -> Invalid {
        Invalid::field(self.at(name), problem)
    }
}

/// Check every field of `table` in `obj`, in table order. Unknown keys are left alone.
pub(crate) fn check_table(obj: &mut Map<String, Value>, table: &[Field], path: &Path) -> Result<(), Invalid> {
    for field in table {
        let value = obj.get_mut(field.name);
        match (&field.rule, value) {
            (Rule::Custom { check, .. }, v) => (path.custom)(*check, v, path)?,
            (_, None) if field.required && !path.partial => return Err(path.err(field.name, Problem::Required)),
            (_, None) => {}
            (rule, Some(v)) => check_rule(rule, v, field.name, path)?,
        }
    }
    Ok(())
}

/// Check one present value against `rule`.
pub(crate) fn check_rule(rule: &Rule, v: &mut Value, name: &str, path: &Path) -> Result<(), Invalid> {
    let err = |p| Err(path.err(name, p));
    match rule {
        Rule::OneOf(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(()),
            _ => err(Problem::OneOf(allowed)),
        },
        Rule::Range { min, max } => {
            let x = number(v).ok_or_else(|| path.err(name, Problem::Number))?;
            if x < *min || x > *max {
                return err(Problem::Between { min: *min, max: *max });
            }
            Ok(())
        }
        Rule::IntRange { min, max } => {
            let x = number(v).ok_or_else(|| path.err(name, Problem::Number))?;
            if x.fract() != 0.0 {
                return err(Problem::Integer);
            }
            if x < *min as f64 || x > *max as f64 {
                return err(Problem::Between { min: *min as f64, max: *max as f64 });
            }
            // In range and whole: exact as i64. Store `30.0` as `30` for the typed struct.
            *v = Value::from(x as i64);
            Ok(())
        }
        Rule::FrameRate { min, max } => {
            let x = number(v).ok_or_else(|| path.err(name, Problem::Number))?;
            let whole = x.fract() == 0.0;
            if !whole && FrameRate::from_number(x).is_none() {
                return err(Problem::FrameRate);
            }
            if x < f64::from(*min) || x > f64::from(*max) {
                return err(Problem::Between { min: f64::from(*min), max: f64::from(*max) });
            }
            if whole {
                *v = Value::from(x as i64);
            }
            Ok(())
        }
        Rule::Positive => match number(v) {
            None => err(Problem::Number),
            Some(x) if x <= 0.0 => err(Problem::Positive),
            Some(_) => Ok(()),
        },
        Rule::AtLeast(min) => match number(v) {
            None => err(Problem::Number),
            Some(x) if x < *min => err(Problem::AtLeast(*min)),
            Some(_) => Ok(()),
        },
        Rule::Bool => match v {
            Value::Bool(_) => Ok(()),
            _ => err(Problem::Boolean),
        },
        Rule::Str { non_empty, max_chars } => {
            let s = v.as_str().ok_or_else(|| path.err(name, Problem::String))?;
            if *non_empty && s.is_empty() {
                return err(Problem::NonEmptyString);
            }
            match max_chars {
                Some(n) if s.chars().count() > *n => err(Problem::MaxChars(*n)),
                _ => Ok(()),
            }
        }
        Rule::Color => match v.as_str() {
            Some(s) if is_hex_color(s, false) => Ok(()),
            _ => err(Problem::ColorRgb),
        },
        Rule::ColorAlpha => match v.as_str() {
            Some(s) if is_hex_color(s, true) => Ok(()),
            _ => err(Problem::ColorRgba),
        },
        Rule::HttpUrl => match v.as_str() {
            Some(s) if is_http_url(s) => Ok(()),
            _ => err(Problem::HttpUrl),
        },
        Rule::Object(table) | Rule::Shared(_, table) => {
            let obj = v.as_object_mut().ok_or_else(|| path.err(name, Problem::Object))?;
            check_table(obj, table, &path.object(name))
        }
        Rule::Flat(_, table) => {
            let obj = v.as_object_mut().ok_or_else(|| path.err(name, Problem::Object))?;
            check_table(obj, table, path)
        }
        Rule::Items(table) => {
            let items = v.as_array_mut().ok_or_else(|| path.err(name, Problem::Array))?;
            for (i, item) in items.iter_mut().enumerate() {
                let obj =
                    item.as_object_mut().ok_or_else(|| Invalid::field(path.item_name(name, i), Problem::Object))?;
                check_table(obj, table, &path.item(name, i))?;
            }
            Ok(())
        }
        Rule::Custom { check, .. } => (path.custom)(*check, Some(v), path),
    }
}

/// A finite JSON number, or `None` (strings, booleans, `null` are not numbers).
pub(crate) fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// `#RRGGBB`, or also `#RRGGBBAA` when `alpha`.
pub(crate) fn is_hex_color(s: &str, alpha: bool) -> bool {
    let Some(hex) = s.strip_prefix('#') else {
        return false;
    };
    (hex.len() == 6 || (alpha && hex.len() == 8)) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `http://host...` or `https://host...` (scheme case-insensitive, no whitespace).
pub(crate) fn is_http_url(s: &str) -> bool {
    let Some(rest) = strip_prefix_ci(s, "https://").or_else(|| strip_prefix_ci(s, "http://")) else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !s.chars().any(char::is_whitespace)
}

/// `s` without the ASCII prefix `p`, compared case-insensitively.
fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    if b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes()) {
        s.get(p.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors() {
        assert!(is_hex_color("#00ff00", false));
        assert!(!is_hex_color("#00ff0080", false));
        assert!(is_hex_color("#00ff0080", true));
        assert!(!is_hex_color("00ff00", true));
        assert!(!is_hex_color("#00ff0", true));
        assert!(!is_hex_color("#00fg00", true));
        assert!(!is_hex_color("#ÿÿÿ", true));
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://hooks.example.com/x"));
        assert!(is_http_url("HTTP://a"));
        assert!(!is_http_url("ftp://a"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https:///path"));
        assert!(!is_http_url("https://a b"));
        assert!(!is_http_url("ht"));
        assert!(!is_http_url("httpsé://x"));
        assert!(is_http_url("http://é.example/"));
    }
}
