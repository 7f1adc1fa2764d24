//! The runnable examples as the playground offers them: `examples/<name>/spec.json` (compiled
//! in, the same file `samvideo render` reads) with every string that names one of the
//! example's own files (`"portrait-1.jpg"`) rewritten to that file's `bundled:` URL, and the
//! endpoint it is rendered with.
//!
//! Enter: the compiled-in spec text. Leave: a JSON value whose media all come from
//! [`super::FILES`], or an [`ExampleError`] when the compiled-in text is not JSON (a test
//! rules that out).

use samvideo_core::request::Endpoint;
use serde_json::Value;

use super::FILES;

/// One runnable example.
#[derive(Debug)]
pub struct Example {
    /// Its folder under `examples/` (and its name in the playground).
    pub name: &'static str,
    /// The endpoint it is rendered with (as `scripts/render-example.sh` and the README do).
    pub endpoint: Endpoint,
    /// `spec.json` as written, with relative media names.
    text: &'static str,
}

/// Why an example's spec cannot be offered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExampleError {
    /// The compiled-in `spec.json` is not JSON.
    #[error("examples/{name}/spec.json is not JSON: {source}")]
    NotJson {
        /// The example.
        name: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
}

/// The examples, in the order the playground lists them (the first is loaded by default).
pub const EXAMPLES: &[Example] = &[
    Example {
        name: "slideshow",
        endpoint: Endpoint::SimpleVideo,
        text: include_str!("../../../examples/slideshow/spec.json"),
    },
    Example { name: "social", endpoint: Endpoint::MixVideo, text: include_str!("../../../examples/social/spec.json") },
];

impl Example {
    /// The spec with its own media names rewritten to `bundled:` URLs.
    pub fn spec(&self) -> Result<Value, ExampleError> {
        let mut spec: Value =
            serde_json::from_str(self.text).map_err(|source| ExampleError::NotJson { name: self.name, source })?;
        self.rewrite(&mut spec);
        Ok(spec)
    }

    /// Replace every string equal to the name of one of this example's files by its URL.
    fn rewrite(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(f) = FILES.iter().find(|f| f.example == self.name && f.name == s.as_str()) {
                    *s = f.url();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|x| self.rewrite(x)),
            Value::Object(map) => map.values_mut().for_each(|x| self.rewrite(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key ending in `url` of `v`, with its value.
    fn urls(v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Array(items) => items.iter().for_each(|x| urls(x, out)),
            Value::Object(map) => {
                for (k, x) in map {
                    if k.ends_with("url") {
                        out.push((k.clone(), x.clone()));
                    }
                    urls(x, out);
                }
            }
            _ => {}
        }
    }

    /// Each example's media are all built in (every URL is a known `bundled:` one, every file
    /// of the example is used), and the rewritten spec passes its endpoint's validation.
    #[test]
    fn examples_use_only_built_in_media_and_validate() {
        for example in EXAMPLES {
            let spec = example.spec().expect("parses");
            let mut found = Vec::new();
            urls(&spec, &mut found);
            assert!(!found.is_empty(), "{}", example.name);
            for (key, url) in &found {
                let url = url.as_str().unwrap_or_else(|| panic!("{}: {key} is a string", example.name));
                let path = url.strip_prefix(super::super::SCHEME).unwrap_or_else(|| panic!("{key}: {url}"));
                assert!(super::super::file(path).is_some(), "{}: {key} = {url} is built in", example.name);
            }
            for f in FILES.iter().filter(|f| f.example == example.name) {
                assert!(found.iter().any(|(_, u)| u.as_str() == Some(&f.url())), "{} is used", f.url());
            }
            let body = serde_json::to_vec(&spec).expect("json");
            let checked = samvideo_core::validate::parse_create(example.endpoint, &body);
            assert!(checked.is_ok(), "{}: {checked:?}", example.name);
        }
    }

    #[test]
    fn names_of_other_examples_are_left_alone() {
        let social = EXAMPLES.iter().find(|e| e.name == "social").expect("social");
        let mut v = serde_json::json!({"url": "slide-Ocean.jpg", "x": ["portrait-1.jpg", "portrait-1.jpgx"]});
        social.rewrite(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"url": "slide-Ocean.jpg", "x": ["bundled:social/portrait-1.jpg", "portrait-1.jpgx"]})
        );
    }
}
