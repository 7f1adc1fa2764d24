//! How handlers answer: typed bodies (`crate::responses`, through [`typed_reply`] and
//! [`typed_data`]) and [`HttpError`], which renders the documented error payloads
//! (`{"success":false,"message":...}` plus `error_code` and headers where the reference has
//! them).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use samvideo_core::ApiError;
use serde_json::Value;

use crate::store::StoreError;

/// A handler's error: the documented status and body, plus `Retry-After` for 429.
#[derive(Debug)]
pub struct HttpError {
    /// Status and body.
    pub api: ApiError,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
}

/// What handlers return.
pub type Reply = Result<Response, HttpError>;

impl HttpError {
    /// Any status with a message and optional `error_code`.
    pub fn new(status: u16, message: impl Into<String>, code: Option<&str>) -> Self {
        ApiError::new(status, message, code).into()
    }
    /// 404 with the resource named.
    pub fn not_found(what: &str) -> Self {
        HttpError::new(404, format!("{what} not found"), Some("NOT_FOUND"))
    }
    /// 500 that hides the cause from the client (it is logged).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        HttpError::new(500, "Internal server error", Some("INTERNAL_ERROR"))
    }
}

impl From<ApiError> for HttpError {
    fn from(api: ApiError) -> Self {
        HttpError { api, retry_after: None }
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        HttpError::internal(e)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.api.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(self.api.body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert("retry-after", HeaderValue::from(secs));
        }
        resp
    }
}

/// `status` with a JSON body.
pub fn json_reply(status: u16, body: Value) -> Reply {
    let status = StatusCode::from_u16(status).map_err(HttpError::internal)?;
    Ok((status, Json(body)).into_response())
}

/// `status` with a typed body (`crate::responses`).
pub fn typed_reply<T: serde::Serialize>(status: u16, body: T) -> Reply {
    let status = StatusCode::from_u16(status).map_err(HttpError::internal)?;
    Ok((status, Json(body)).into_response())
}

/// `200 {"success":true,"data":DATA}` with a typed `data`.
pub fn typed_data<T: serde::Serialize>(data: T) -> Reply {
    typed_reply(200, crate::responses::Data::new(data))
}

/// Read a body of at most `limit` bytes; larger answers 413 before any parsing.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, HttpError> {
    let too_large =
        || HttpError::new(413, format!("Request body too large (limit {limit} bytes)"), Some("PAYLOAD_TOO_LARGE"));
    let declared = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large())
}
