//! Validation of create bodies against the documented matrix (being written).

use crate::request::{CreateRequest, Endpoint};
use crate::ApiError;

/// Parse and validate a create body of `endpoint`.
pub fn parse_create(endpoint: Endpoint, body: &[u8]) -> Result<CreateRequest, ApiError> {
    let _ = (endpoint, body);
    Err(ApiError::bad_request("Invalid JSON data"))
}
