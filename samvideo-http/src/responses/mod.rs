//! The JSON bodies the API answers, as typed structs.
//!
//! Enter: handlers fill them from store rows and settings. Leave: serialized by
//! `reply::typed_reply` as the response body, and described by `JsonSchema` (schemars) for
//! the OpenAPI document (`routes/openapi/responses.rs`), so a field is declared in one place
//! and the document cannot list one the server does not send.
//!
//! `tasks.rs` holds creates, progress, lists, usage and the async layer; `templates.rs`,
//! `ai.rs` and `packs.rs` their groups. A field holding free JSON (template settings, export
//! results, catalog entries) is described as a JSON object, which it always is. Error bodies are built by [`samvideo_core::ApiError`];
//! [`ErrorBody`] is their shape, and a test reads every constructor's body through it.

pub mod ai;
pub mod packs;
pub mod tasks;
pub mod templates;

/// The schema of a free JSON object field (`#[schemars(with = "JsonObject")]`).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `{"success": true, "data": DATA}`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Reply")]
pub struct Data<T> {
    /// Always `true`.
    pub success: bool,
    /// The answer.
    pub data: T,
}

impl<T> Data<T> {
    /// `{"success": true, "data": data}`.
    pub fn new(data: T) -> Self {
        Data { success: true, data }
    }
}

/// `{"success": true, "message": MESSAGE, "data": DATA}` (creates, updates).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Message")]
pub struct Said<T> {
    /// Always `true`.
    pub success: bool,
    /// What happened (`Video generation started`, `Template created`).
    pub message: String,
    /// What was made or changed.
    pub data: T,
}

impl<T> Said<T> {
    /// `{"success": true, "message": message, "data": data}`.
    pub fn new(message: impl Into<String>, data: T) -> Self {
        Said { success: true, message: message.into(), data }
    }
}

/// `{"success": true, "message": MESSAGE}` (a delete, a webhook, a valid playground spec).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Done {
    /// Always `true`.
    pub success: bool,
    /// What happened.
    pub message: String,
}

/// Every error: `{"success": false, "message": ..., "error_code": ...}`; some errors add
/// fields of their own (`credits_required`, `upgrade_url`: see each operation).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// What was wrong, e.g. `loop_audio must be a boolean`.
    pub message: String,
    /// A stable code (`VALIDATION_ERROR`, `TASK_NOT_FOUND`, `RATE_LIMITED`, ...); the core
    /// endpoints' validation errors have none, as in the reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use samvideo_core::ApiError;
    use serde_json::Value;

    use super::ErrorBody;

    /// Every way the server builds an error answers an [`ErrorBody`] (and nothing else in the
    /// fields it declares).
    #[test]
    fn api_errors_have_the_error_body_shape() {
        for e in [
            ApiError::bad_request("x"),
            ApiError::advanced_validation("y"),
            ApiError::new(404, "Task not found", Some("TASK_NOT_FOUND")),
            ApiError::new(403, "API key is not active or missing", None),
        ] {
            let parsed: ErrorBody = serde_json::from_value(e.body.clone()).expect("an ErrorBody");
            assert!(!parsed.success);
            assert_eq!(serde_json::to_value(&parsed).ok(), Some(e.body.clone()), "{e}");
            assert!(matches!(e.body, Value::Object(_)));
        }
    }
}
