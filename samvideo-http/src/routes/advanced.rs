//! The advanced renderer: `POST /api/render/advanced-video` and its progress endpoint.
//!
//! Order of checks: key, rate limit (3/m per key), body size (413 before any parsing),
//! `template_id` merge (the template's settings under the request's own), validation
//! (`VALIDATION_ERROR`), then preview (rendered now, answers `preview_url`; on an API-only
//! node a worker renders it while the request waits, `crate::jobs::queued`) or full (quota,
//! queued, answers the documented async response).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use samvideo_core::request::{CreateRequest, Endpoint, RenderMode};
use serde_json::Value;

use super::core::{aspect_ratio, enqueue, idempotency_key};
use samvideo_core::validate::merge_template;

use super::templates::visible_template;
use super::{owned_task, short_id, task_json};
use crate::auth::Caller;
use crate::jobs::PreviewError;
use crate::limits::enforce;
use crate::reply::read_body;
use crate::reply::{typed_data, typed_reply, HttpError, Reply};
use crate::responses::tasks::{AdvancedCreated, AdvancedProgress, Preview};
use crate::responses::Said;
use crate::state::AppState;
use crate::store::NewTask;

/// `POST /api/render/advanced-video`
pub async fn create(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    enforce(&s.limits.advanced, &caller.key.id.to_string()).await?;
    let bytes = read_body(&headers, body, s.config.max_advanced_body).await?;
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(raw) => match template_id(&raw) {
            Some(tid) => {
                let template = visible_template(&s, caller.key.id, tid).await?;
                let settings: serde_json::Map<String, Value> =
                    serde_json::from_str(&template.settings_json).map_err(HttpError::internal)?;
                serde_json::to_vec(&merge_template(&settings, &raw)).map_err(HttpError::internal)?
            }
            None => bytes.to_vec(),
        },
        // Let the validator answer malformed JSON with its documented message.
        Err(_) => bytes.to_vec(),
    };
    let request = samvideo_core::validate::parse_create(Endpoint::AdvancedVideo, &bytes)?;
    let mode = match &request {
        CreateRequest::Advanced(a) => a.render_options.mode.unwrap_or_default(),
        _ => RenderMode::Full,
    };
    let request_id = short_id();
    let json_text = String::from_utf8_lossy(&bytes).into_owned();
    if mode == RenderMode::Preview {
        return preview(&s, &caller, &headers, request, json_text, request_id).await;
    }
    let once = idempotency_key(&headers)?;
    let estimate = estimated_time(&request);
    let task =
        enqueue(&s, &caller, Endpoint::AdvancedVideo, &request, json_text, Some(request_id.clone()), once).await?;
    let id = task.id;
    // A replayed create answers with its first request id.
    let request_id = task.request_id.unwrap_or(request_id);
    let data = AdvancedCreated {
        progress_url: format!("/api/render/advanced-video/progress/{id}"),
        id,
        mode: "full",
        estimated_time: estimate,
        request_id,
        celery_task_id: task.celery_task_id,
    };
    typed_reply(200, Said::new("Advanced video generation started", data))
}

async fn preview(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    request: CreateRequest,
    request_json: String,
    request_id: String,
) -> Reply {
    // The preview as a task: what a worker renders when this node queues it (never a video of
    // the caller's: no quota, not listed).
    let task = NewTask {
        id: uuid::Uuid::new_v4().to_string(),
        celery_task_id: uuid::Uuid::new_v4().to_string(),
        api_key_id: caller.key.id,
        endpoint: Endpoint::AdvancedVideo.as_str().to_string(),
        request_json,
        exports_json: None,
        request_id: Some(request_id.clone()),
        aspect_ratio: aspect_ratio(&request),
    };
    match s.jobs.preview(task, request).await {
        Ok(file) => {
            let preview_url = format!("{}/media/previews/{file}", s.base_url(headers));
            typed_reply(
                200,
                Said::new("Preview generated successfully", Preview { mode: "preview", preview_url, request_id }),
            )
        }
        Err(e) => {
            tracing::warn!(request_id, error = %e, "preview failed");
            let status = if matches!(e, PreviewError::TimedOut(_)) { 504 } else { 500 };
            Err(HttpError::new(status, format!("Preview generation failed: {e}"), Some("PREVIEW_FAILED")))
        }
    }
}

/// `template_id` at the root or inside `config`.
fn template_id(raw: &Value) -> Option<String> {
    let pick = |v: &Value| v.get("template_id").and_then(Value::as_str).map(str::to_string);
    pick(raw).or_else(|| raw.get("config").and_then(pick))
}

/// A rough wall-time range from the total clip seconds (AV1 encode on a small machine runs
/// near real time at 720p).
fn estimated_time(request: &CreateRequest) -> &'static str {
    let CreateRequest::Advanced(a) = request else { return "2-5 minutes" };
    let secs: f64 = a.media_inputs.main_clips.iter().map(|c| c.duration.unwrap_or(5.0)).sum();
    match secs {
        s if s <= 15.0 => "under 1 minute",
        s if s <= 60.0 => "1-2 minutes",
        s if s <= 180.0 => "2-5 minutes",
        s if s <= 600.0 => "5-15 minutes",
        _ => "15-60 minutes",
    }
}

/// `GET /api/render/advanced-video/progress/{task_id}`
pub async fn progress(State(s): State<AppState>, caller: Caller, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let row = owned_task(&s, caller.key.id, id, false).await?;
    typed_data(AdvancedProgress {
        task: task_json(&row, &s.base_url(&headers)),
        mode: "full",
        request_id: row.request_id.clone(),
    })
}
