//! Core create endpoints: mix-video, simple-video, loop-video.
//!
//! Order of checks: key (401/403), rate limit (429), body parse and validation (400, exact
//! messages from `samvideo_core::validate`), monthly quota (403), then the task row is stored
//! and a worker woken. Answers the documented create response.
//!
//! A create may carry an `Idempotency-Key` header: the same key from the same account within
//! [`IDEMPOTENCY_WINDOW`] answers with the task its first create stored (on any node sharing
//! the store), storing and charging nothing; the body of a retry is not compared.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use samvideo_core::request::{CreateRequest, Endpoint};

use crate::auth::Caller;
use crate::limits::{admit, enforce, month_start, quota_refused};
use crate::reply::read_body;
use crate::reply::{typed_reply, HttpError, Reply};
use crate::responses::{tasks::TaskCreated, Said};
use crate::state::AppState;
use crate::store::{rfc3339, Created, IdempotencyKey, NewTask, QuotaDecision};

/// How long an `Idempotency-Key` keeps naming the task its first create stored.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The create's `Idempotency-Key` header, if any (1 to 255 visible ASCII characters).
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, HttpError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()));
    let Some(key) = key else {
        let message = "Idempotency-Key must be 1 to 255 visible ASCII characters";
        return Err(HttpError::new(400, message, Some("INVALID_IDEMPOTENCY_KEY")));
    };
    Ok(Some(IdempotencyKey { key: key.to_string(), since: rfc3339(chrono::Utc::now() - IDEMPOTENCY_WINDOW) }))
}

/// `POST /api/function/video-generation/mix-video`
pub async fn mix_video(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    create(s, caller, headers, body, Endpoint::MixVideo).await
}

/// `POST /api/function/video-generation/simple-video`
pub async fn simple_video(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    create(s, caller, headers, body, Endpoint::SimpleVideo).await
}

/// `POST /api/function/video-generation/loop-video`
pub async fn loop_video(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    create(s, caller, headers, body, Endpoint::LoopVideo).await
}

async fn create(s: AppState, caller: Caller, headers: HeaderMap, body: Body, endpoint: Endpoint) -> Reply {
    enforce(&s.limits.core, &caller.key.id.to_string()).await?;
    let once = idempotency_key(&headers)?;
    let bytes = read_body(&headers, body, s.config.max_body).await?;
    let request = samvideo_core::validate::parse_create(endpoint, &bytes)?;
    let json_text = String::from_utf8_lossy(&bytes).into_owned();
    let task = enqueue(&s, &caller, endpoint, &request, json_text, None, once).await?;
    let id = task.id;
    // The reference's loop-video response has no progress_url.
    let progress_url =
        (endpoint != Endpoint::LoopVideo).then(|| format!("/api/function/video-generation/progress/{id}"));
    let data = TaskCreated { id, progress_url, celery_task_id: task.celery_task_id };
    typed_reply(200, Said::new("Video generation started", data))
}

/// Check the quota and store a pending task (one store transaction, so concurrent creates of
/// one key cannot both take the last video of the month). Wakes a worker. With an
/// `Idempotency-Key` used before, the task that use stored instead.
pub async fn enqueue(
    s: &AppState,
    caller: &Caller,
    endpoint: Endpoint,
    request: &CreateRequest,
    request_json: String,
    request_id: Option<String>,
    once: Option<IdempotencyKey>,
) -> Result<NewTask, HttpError> {
    if let Some(exports) = request.exports() {
        // Address rules and server support for the export targets (no I/O; see exports::preflight).
        crate::exports::preflight(&s.config, exports).map_err(|e| match endpoint {
            Endpoint::AdvancedVideo => samvideo_core::ApiError::advanced_validation(&e),
            _ => samvideo_core::ApiError::bad_request(e.to_string()),
        })?;
    }
    let task = NewTask {
        id: uuid::Uuid::new_v4().to_string(),
        celery_task_id: uuid::Uuid::new_v4().to_string(),
        api_key_id: caller.key.id,
        endpoint: endpoint.as_str().to_string(),
        request_json,
        exports_json: request.exports().and_then(|e| serde_json::to_string(e).ok()),
        request_id,
        aspect_ratio: aspect_ratio(request),
    };
    let plan = caller.key.plan;
    let limit = s.config.monthly_limit(plan);
    let created =
        s.store.create_task_once(task.clone(), &month_start(), once, move |usage| admit(limit, usage)).await?;
    let decision = match created {
        Created::New(decision) => decision,
        Created::Replayed(first) => {
            tracing::info!(task_id = %first.id, key_id = caller.key.id, "create replayed (Idempotency-Key)");
            return Ok(NewTask {
                id: first.id,
                celery_task_id: first.celery_task_id,
                api_key_id: first.api_key_id,
                endpoint: first.endpoint,
                request_json: first.request_json,
                exports_json: first.exports_json,
                request_id: first.request_id,
                aspect_ratio: first.aspect_ratio,
            });
        }
    };
    if decision == QuotaDecision::Refuse {
        return Err(quota_refused(plan, limit.unwrap_or(0)));
    }
    tracing::info!(task_id = %task.id, endpoint = endpoint.as_str(), key_id = caller.key.id, "task queued");
    s.jobs.wake();
    Ok(task)
}

/// `settings.aspect_ratio` as shown in progress (the renderer's default is 16:9).
pub(super) fn aspect_ratio(request: &CreateRequest) -> String {
    let ar = match request {
        CreateRequest::Mix(r) => r.settings.aspect_ratio,
        CreateRequest::Simple(r) => r.settings.aspect_ratio,
        CreateRequest::Loop(r) => r.settings.aspect_ratio,
        CreateRequest::Advanced(r) => r.output_settings.aspect_ratio,
    }
    .unwrap_or_default();
    serde_json::to_value(ar).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "16:9".into())
}
