//! Errors that reach a user.
//!
//! [`ApiError`] is what the HTTP API answers for a rejected request: a status code and the
//! exact JSON body. The CLI prints the same body, so the server and the CLI answer alike.

use serde_json::{json, Value};

/// A rejected request: HTTP status and the documented JSON body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {body}")]
pub struct ApiError {
    /// HTTP status code (400, 401, 403, 404, 413, 429, ...).
    pub status: u16,
    /// The JSON body, e.g. `{"success":false,"message":"No media items provided"}`.
    pub body: Value,
}

impl ApiError {
    /// `400 {"success":false,"message":MESSAGE}` — the core endpoints' validation error.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError { status: 400, body: json!({"success": false, "message": message.into()}) }
    }

    /// `400 {"success":false,"message":"Configuration validation failed: DETAIL","error_code":"VALIDATION_ERROR"}`
    /// — the advanced renderer's validation error.
    pub fn advanced_validation(detail: impl std::fmt::Display) -> Self {
        ApiError {
            status: 400,
            body: json!({
                "success": false,
                "message": format!("Configuration validation failed: {detail}"),
                "error_code": "VALIDATION_ERROR"
            }),
        }
    }

    /// Any status with a message and an optional `error_code`.
    pub fn new(status: u16, message: impl Into<String>, error_code: Option<&str>) -> Self {
        let mut body = json!({"success": false, "message": message.into()});
        if let Some(code) = error_code {
            body["error_code"] = Value::from(code);
        }
        ApiError { status, body }
    }

    /// The `message` field of the body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}
