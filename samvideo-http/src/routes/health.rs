//! `GET /api/async/health`: is the async layer usable (database answers, workers configured)?
//! Needs no key, so load balancers can probe it.

use axum::extract::State;
use serde_json::json;

use super::async_ctl::queue_numbers;
use crate::reply::{json_reply, typed_reply, Reply};
use crate::responses::tasks::Health;
use crate::state::AppState;

/// `GET /api/async/health`
pub async fn health(State(s): State<AppState>) -> Reply {
    match queue_numbers(&s).await {
        Ok(data) => typed_reply(200, Health { success: true, status: "healthy", data }),
        Err(_) => json_reply(
            503,
            json!({
                "success": false,
                "status": "unhealthy",
                "message": "Async processing is unavailable",
                "error_code": "ASYNC_UNHEALTHY"
            }),
        ),
    }
}
