//! `GET /playground`: one HTML page assembled once from three files compiled into the binary
//! (`playground.html` with `playground.css` and `playground.js` put inline) and the page's
//! settings as JSON in a `<script type="application/json">`: the validate path, each
//! endpoint's create and progress paths ([`super::ENDPOINTS`]) and the examples with their
//! media rewritten to `bundled:` URLs (`crate::bundled::examples`).
//!
//! Enter: nothing (the page is a function of the code). Leave: the HTML, or a 500 should an
//! example not parse (a test rules that out).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde_json::{json, Value};

use super::{ENDPOINTS, VALIDATE};
use crate::bundled::examples::{ExampleError, EXAMPLES};
use crate::reply::{HttpError, Reply};

const HTML: &str = include_str!("playground.html");
const CSS: &str = include_str!("playground.css");
const JS: &str = include_str!("playground.js");

/// What the page may load and who may frame it: its own inline script and style, requests to
/// this server only, media from anywhere (`--public-url` or a bucket may serve the outputs), no
/// framing (a key is typed into it).
const POLICY: &str = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
    connect-src 'self'; media-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /playground`
pub async fn page() -> Reply {
    static PAGE: OnceLock<Result<String, String>> = OnceLock::new();
    match PAGE.get_or_init(|| build().map_err(|e| e.to_string())) {
        Ok(html) => Ok(([(header::CONTENT_SECURITY_POLICY, POLICY)], Html(html.clone())).into_response()),
        Err(e) => Err(HttpError::internal(e)),
    }
}

/// The page's settings, read by `playground.js`.
fn settings() -> Result<Value, ExampleError> {
    let endpoints: Vec<Value> = ENDPOINTS
        .iter()
        .map(|(endpoint, create, progress)| json!({"name": endpoint.as_str(), "create": create, "progress": progress}))
        .collect();
    let mut examples = Vec::new();
    for example in EXAMPLES {
        examples.push(json!({"name": example.name, "endpoint": example.endpoint.as_str(), "spec": example.spec()?}));
    }
    Ok(json!({"validate": VALIDATE, "endpoints": endpoints, "examples": examples}))
}

/// The whole page.
fn build() -> Result<String, ExampleError> {
    // JSON inside <script>: `</` may not appear (it could close the element); `<\/` is the
    // same JSON string.
    let settings = settings()?.to_string().replace("</", "<\\/");
    Ok(HTML.replacen("/*STYLE*/", CSS, 1).replacen("/*SETTINGS*/", &settings, 1).replacen("/*SCRIPT*/", JS, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_its_script_style_and_settings() {
        let page = build().expect("builds");
        for placeholder in ["/*STYLE*/", "/*SETTINGS*/", "/*SCRIPT*/"] {
            assert!(!page.contains(placeholder), "{placeholder} replaced");
        }
        assert!(page.contains(JS.trim()) && page.contains(CSS.trim()));
        assert!(page.contains("bundled:social/voice.mp3"), "the examples use built-in media");
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing is loaded from elsewhere");
        let start = page.find(r#"<script type="application/json" id="settings">"#).expect("settings element");
        let rest = &page[start..];
        let json = &rest[rest.find('>').expect(">") + 1..rest.find("</script>").expect("end")];
        let v: Value = serde_json::from_str(json).expect("settings are JSON");
        assert_eq!(v["examples"].as_array().map(Vec::len), Some(EXAMPLES.len()));
        assert_eq!(v["validate"], VALIDATE);
    }
}
