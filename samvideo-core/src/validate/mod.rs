//! Validation of request bodies against the documented matrix, with the documented messages.
//!
//! Enter: the raw bytes of a create body and the [`Endpoint`] they were sent to.
//! Leave: a typed [`CreateRequest`], or an [`ApiError`] carrying the exact HTTP status and
//! JSON body the API answers (the CLI prints the same body).
//!
//! The steps, in order:
//! 1. bytes -> `serde_json::Value`; not JSON, or not an object: `Invalid JSON data`;
//! 2. the envelope: mix/simple read the root or `data`; loop-video needs the top-level
//!    `type: "LoopVideo"` and reads `data`; advanced reads the root or `config`; `exports`
//!    may sit at the root or inside `data`/`config` (not both);
//! 3. the raw value is checked against the tables in `rules.rs` (the matrix as data),
//!    so the messages are ours ("`loop_audio must be a boolean`"), not serde's; the first
//!    failure in table order is answered;
//! 4. only then is the value deserialized into the typed structs; should that still fail,
//!    the error is a clean 400 naming the part that failed.
//!
//! Nothing here panics on any input (property-tested and fuzzed, see `fuzz/`).
//! The full matrix, the messages and the decisions taken where the reference is silent are
//! written down in `docs/api-validation.md`.

mod advanced;
mod body;
mod check;
mod custom;
mod docs;
mod error;
mod exports;
mod merge;
mod other;
mod rules;
mod schema;

pub use docs::matrix_markdown;
pub use error::{Invalid, Problem};
pub use merge::{merge_template, template_id};
pub use schema::{request_schemas, RequestBody};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::request::{
    AiJobCreate, CreateRequest, Endpoint, Exports, MediaItem, Settings, TemplateCreate, TemplateUpdate, Transcript,
};
use check::{check_table, Path};
use rules::Field;

/// Parse and validate a create body sent to `endpoint`.
///
/// Answers the typed request, or the [`ApiError`] (status 400 and the exact JSON body) the
/// API answers for it. Never panics, whatever the bytes.
///
/// ```
/// use samvideo_core::request::{CreateRequest, Endpoint};
/// use samvideo_core::validate::parse_create;
///
/// let ok = br#"{"data": {"media_list": [{"type": "image", "url": "https://cdn.example.com/a.jpg", "duration": 3}],
///               "settings": {"aspect_ratio": "9:16", "fps": 29.97}}}"#;
/// match parse_create(Endpoint::MixVideo, ok) {
///     Ok(CreateRequest::Mix(mix)) => assert_eq!(mix.settings.fps.map(|r| r.as_fraction()), Some((30_000, 1001))),
///     other => panic!("unexpected {other:?}"),
/// }
///
/// let bad = br#"{"media_list": [{"type": "image", "url": "https://a/b.jpg"}], "settings": {"loop_audio": "true"}}"#;
/// let err = parse_create(Endpoint::SimpleVideo, bad).unwrap_err();
/// assert_eq!(err.status, 400);
/// assert_eq!(err.body.to_string(), r#"{"success":false,"message":"loop_audio must be a boolean"}"#);
///
/// let err = parse_create(Endpoint::AdvancedVideo, br#"{"config": {"media_inputs": {"main_clips": []}}}"#).unwrap_err();
/// assert_eq!(
///     err.message(),
///     "Configuration validation failed: media_inputs.main_clips must have between 1 and 100 entries"
/// );
/// assert_eq!(err.body["error_code"], "VALIDATION_ERROR");
/// ```
pub fn parse_create(endpoint: Endpoint, body: &[u8]) -> Result<CreateRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Invalid::Json.into_api(endpoint))?;
    parse_create_value(endpoint, value)
}

/// [`parse_create`] for a body already parsed as JSON (e.g. after [`merge_template`]).
pub fn parse_create_value(endpoint: Endpoint, body: Value) -> Result<CreateRequest, ApiError> {
    check_create(endpoint, body).map_err(|e| e.into_api(endpoint))
}

/// [`parse_create_value`] answering the validator's own error (for callers that want to
/// match on the reason rather than read the API body).
pub fn check_create(endpoint: Endpoint, body: Value) -> Result<CreateRequest, Invalid> {
    let mut body = unwrap_envelope(endpoint, body)?;
    let path = Path::root(custom::dispatch);
    match endpoint {
        Endpoint::MixVideo => {
            check_table(&mut body, rules::MIX_BODY, &path)?;
            body::one_transcript_source(&body)?;
            decode_body(body, "request", diagnose_core).map(CreateRequest::Mix)
        }
        Endpoint::SimpleVideo => {
            check_table(&mut body, rules::SIMPLE_BODY, &path)?;
            decode_body(body, "request", diagnose_core).map(CreateRequest::Simple)
        }
        Endpoint::LoopVideo => {
            check_table(&mut body, rules::LOOP_DATA, &path)?;
            decode_body(body, "data", diagnose_core).map(CreateRequest::Loop)
        }
        Endpoint::AdvancedVideo => {
            check_table(&mut body, rules::ADVANCED_BODY, &path)?;
            decode_body(body, "config", diagnose_advanced).map(CreateRequest::Advanced)
        }
    }
}

/// Validate a `POST /api/templates/` body.
///
/// `settings` is a partial advanced configuration: every key present is checked with the
/// advanced rules, none is required. Errors are plain 400s, e.g. `name is required`.
pub fn validate_template_create(body: &Value) -> Result<TemplateCreate, ApiError> {
    check_plain(body, rules::TEMPLATE_CREATE, |_| Ok(()))
}

/// Validate a `PUT /api/templates/{id}/` body: the create fields, all optional.
pub fn validate_template_update(body: &Value) -> Result<TemplateUpdate, ApiError> {
    check_plain(body, rules::TEMPLATE_UPDATE, |_| Ok(()))
}

/// Validate a `POST /api/ai/jobs` body: `model_id` required; `prompt` or `image_urls`
/// required; `image_urls` non-empty strings; `options` an object (`duration_seconds` > 0;
/// model-specific limits are checked against the live catalog, not here).
pub fn validate_ai_job(body: &Value) -> Result<AiJobCreate, ApiError> {
    check_plain(body, rules::AI_JOB, |obj| {
        let prompt = obj.get("prompt").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty());
        let images = obj.get("image_urls").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
        if prompt || images {
            Ok(())
        } else {
            Err(Invalid::field("prompt or image_urls", Problem::Required))
        }
    })
}

/// Object check + table + extra rule + decode, for the non-video bodies (plain 400s).
fn check_plain<T: DeserializeOwned>(
    body: &Value,
    table: &[Field],
    extra: impl Fn(&Map<String, Value>) -> Result<(), Invalid>,
) -> Result<T, ApiError> {
    let Value::Object(obj) = body else {
        return Err(Invalid::Json.into());
    };
    let mut obj = obj.clone();
    check_table(&mut obj, table, &Path::root(custom::dispatch))?;
    extra(&obj)?;
    Ok(decode(Value::Object(obj), "request")?)
}

/// Step 2: the body object the tables check, with `exports` moved into it.
fn unwrap_envelope(endpoint: Endpoint, root: Value) -> Result<Map<String, Value>, Invalid> {
    let Value::Object(mut root) = root else {
        return Err(Invalid::Json);
    };
    let nested = |root: &mut Map<String, Value>, key: &str, required: bool| match root.remove(key) {
        None if required => Err(Invalid::field(key, Problem::Required)),
        None => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(Invalid::field(key, Problem::Object)),
    };
    let inner = match endpoint {
        Endpoint::MixVideo | Endpoint::SimpleVideo => nested(&mut root, "data", false)?,
        Endpoint::LoopVideo => {
            if root.get("type").and_then(Value::as_str) != Some("LoopVideo") {
                return Err(Invalid::LoopType);
            }
            nested(&mut root, "data", true)?
        }
        Endpoint::AdvancedVideo => nested(&mut root, "config", false)?,
    };
    let Some(mut body) = inner else {
        return Ok(root);
    };
    // Envelope form: `exports` (and, for advanced, `template_id`) may also sit at the root.
    let mut hoist = |key: &str, duplicate_is_error: bool| -> Result<(), Invalid> {
        if let Some(v) = root.remove(key) {
            if !body.contains_key(key) {
                body.insert(key.to_string(), v);
            } else if duplicate_is_error {
                return Err(Invalid::field(key, Problem::Duplicate));
            }
        }
        Ok(())
    };
    hoist("exports", true)?;
    if endpoint == Endpoint::AdvancedVideo {
        hoist("template_id", false)?;
    }
    Ok(body)
}

/// Step 4: the typed struct; on failure, `diagnose` names the part that failed.
fn decode_body<T: DeserializeOwned>(
    body: Map<String, Value>,
    name: &str,
    diagnose: fn(&Map<String, Value>) -> Result<(), Invalid>,
) -> Result<T, Invalid> {
    let value = Value::Object(body);
    match T::deserialize(&value) {
        Ok(t) => Ok(t),
        Err(e) => {
            if let Value::Object(obj) = &value {
                diagnose(obj)?;
            }
            Err(Invalid::field(name, Problem::Decode(e.to_string())))
        }
    }
}

/// Decode `v` as `T`, naming `path` on failure.
fn decode<T: DeserializeOwned>(v: Value, path: &str) -> Result<T, Invalid> {
    serde_json::from_value(v).map_err(|e| Invalid::field(path, Problem::Decode(e.to_string())))
}

/// Decode `obj[key]` as `T` if present.
fn probe<T: DeserializeOwned>(obj: &Map<String, Value>, key: &str, path: &str) -> Result<(), Invalid> {
    match obj.get(key) {
        Some(v) => decode::<T>(v.clone(), path).map(drop),
        None => Ok(()),
    }
}

/// Decode every entry of the array `obj[key]` as `T`, naming `key[i]`.
fn probe_items<T: DeserializeOwned>(obj: &Map<String, Value>, key: &str, prefix: &str) -> Result<(), Invalid> {
    if let Some(Value::Array(items)) = obj.get(key) {
        for (i, v) in items.iter().enumerate() {
            decode::<T>(v.clone(), &format!("{prefix}{key}[{i}]"))?;
        }
    }
    Ok(())
}

fn diagnose_core(obj: &Map<String, Value>) -> Result<(), Invalid> {
    probe_items::<MediaItem>(obj, "media_list", "")?;
    probe_items::<Transcript>(obj, "transcripts", "")?;
    probe::<Settings>(obj, "settings", "settings")?;
    probe::<Exports>(obj, "exports", "exports")?;
    for key in ["voice_url", "background_url"] {
        probe::<String>(obj, key, key)?;
    }
    probe::<f64>(obj, "duration", "duration")
}

fn diagnose_advanced(obj: &Map<String, Value>) -> Result<(), Invalid> {
    use crate::request::{AudioSettings, Background, CaptionElement, OutputSettings, RenderOptions};
    probe::<OutputSettings>(obj, "output_settings", "output_settings")?;
    if let Some(Value::Object(inputs)) = obj.get("media_inputs") {
        probe_items::<MediaItem>(inputs, "main_clips", "media_inputs.")?;
        probe::<Background>(inputs, "background", "media_inputs.background")?;
    }
    probe_items::<CaptionElement>(obj, "caption_elements", "")?;
    probe::<AudioSettings>(obj, "audio_settings", "audio_settings")?;
    probe::<RenderOptions>(obj, "render_options", "render_options")?;
    probe::<Exports>(obj, "exports", "exports")
}
