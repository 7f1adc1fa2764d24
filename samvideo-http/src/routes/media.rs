//! Downloads of what retention deleted: a layer over `/media/outputs/` (served from a folder by
//! `ServeDir` or from a bucket by `objects::serve`) that turns the 404 of an object retention
//! deleted into 410 `OUTPUT_EXPIRED`, with the message the task's progress (or the AI job's
//! status) carries ([`crate::retention::expired_message`]). Any other missing file stays a
//! plain 404.
//!
//! Enter: a request under `/media/outputs/` and the answer of the service below. Leave: that
//! answer, or the 410.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::reply::HttpError;
use crate::retention::expired_object;
use crate::state::AppState;

/// The path the layer looks under.
const OUTPUTS_PATH: &str = "/media/outputs/";

/// 410 for a deleted output, else the answer of the service below.
pub async fn expired_outputs(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let file = request.uri().path().strip_prefix(OUTPUTS_PATH).map(str::to_owned);
    let answer = next.run(request).await;
    let Some(file) = file.filter(|_| answer.status() == axum::http::StatusCode::NOT_FOUND) else { return answer };
    match expired_object(&s.store, &file).await {
        Ok(Some(message)) => HttpError::new(410, message, Some("OUTPUT_EXPIRED")).into_response(),
        Ok(None) => answer,
        Err(e) => {
            tracing::warn!(file, error = %e, "cannot tell whether a missing output expired");
            answer
        }
    }
}
