//! The documented endpoints, one file per group, and the table that builds the router.
//!
//! [`routes`] is the single list of `(path, handlers)`; `crate::app` folds it into the router
//! and the OpenAPI test checks every path in it is documented in `openapi/operations.rs`.

pub mod advanced;
pub mod async_ctl;
pub mod core;
pub mod health;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod playground;
pub mod tasks;
pub mod templates;

use axum::routing::{get, post, MethodRouter};
use serde_json::Value;

use crate::reply::HttpError;
use crate::responses::tasks::{OutputExpired, Progress, ProgressSettings};
use crate::state::AppState;
use crate::store::TaskRow;

/// Every routed path with its handlers. Template routes carry the per-IP limiter.
pub fn routes(state: &AppState) -> Vec<(&'static str, MethodRouter<AppState>)> {
    let tl = || axum::middleware::from_fn_with_state(state.clone(), templates::limit_by_ip);
    vec![
        ("/api/function/video-generation/mix-video", post(core::mix_video)),
        ("/api/function/video-generation/simple-video", post(core::simple_video)),
        ("/api/function/video-generation/loop-video", post(core::loop_video)),
        ("/api/function/video-generation/progress/{id}", get(tasks::progress)),
        ("/api/function/video-generation/tasks", get(tasks::list)),
        ("/api/function/video-generation/usage-summary", get(tasks::usage_summary)),
        ("/api/render/advanced-video", post(advanced::create)),
        ("/api/render/advanced-video/progress/{task_id}", get(advanced::progress)),
        ("/api/async/status/{task_id}", get(async_ctl::status)),
        ("/api/async/cancel/{task_id}", post(async_ctl::cancel)),
        ("/api/async/queue/status", get(async_ctl::queue_status)),
        ("/api/async/health", get(health::health)),
        ("/api/templates/", post(templates::create).route_layer(tl())),
        ("/api/templates/list/", get(templates::list).route_layer(tl())),
        (
            "/api/templates/{template_id}/",
            get(templates::read).put(templates::update).delete(templates::delete).route_layer(tl()),
        ),
        ("/api/templates/{template_id}/apply/", post(templates::apply).route_layer(tl())),
        ("/api/ai/models", get(crate::ai::routes::models)),
        ("/api/ai/jobs", post(crate::ai::routes::create)),
        ("/api/ai/generate", post(crate::ai::routes::create)),
        ("/api/ai/jobs/{job_id}", get(crate::ai::routes::job)),
        ("/api/ai/credits/balance", get(crate::ai::routes::balance)),
        ("/api/video-packs/{pack_id}/buy/", post(crate::packs::routes::buy)),
        ("/api/video-packs/webhook/", post(crate::packs::routes::webhook)),
        ("/api/video-packs/success/", get(crate::packs::routes::success)),
        ("/api/video-packs/cancel/", get(crate::packs::routes::cancel)),
        ("/api/openapi.json", get(openapi::document)),
        ("/docs", get(openapi::docs_page)),
        ("/playground", get(playground::page)),
        (playground::VALIDATE, post(playground::validate)),
        ("/metrics", get(metrics::metrics)),
    ]
}

/// The documented progress object of a task.
pub fn task_json(row: &TaskRow, base_url: &str) -> Progress {
    let output_url = row
        .output_file
        .as_ref()
        .filter(|_| row.status == crate::store::TaskStatus::Completed)
        .map(|f| format!("{base_url}{}", crate::jobs::output_path_url(f)));
    let stored_url = |file: &Option<String>| {
        file.as_ref()
            .filter(|_| row.status == crate::store::TaskStatus::Completed)
            .map(|f| format!("{base_url}{}", crate::jobs::output_path_url(f)))
    };
    let thumbnail_url = stored_url(&row.thumbnail_file);
    // The WebVTT sidecar of a captioned video; the SubRip one is the same URL ending `.srt`.
    let subtitles_url = stored_url(&row.subtitles_file);
    Progress {
        id: row.id.clone(),
        status: row.status.as_str(),
        progress: round3(row.progress),
        created_at: row.created_at.clone(),
        completed_at: row.completed_at.clone(),
        output_url,
        thumbnail_url,
        subtitles_url,
        error: row.error.clone(),
        output_expired: row.output_expired_at.as_ref().map(|at| OutputExpired {
            expired_at: at.clone(),
            message: crate::retention::expired_message(crate::retention::Expired::Task, at),
        }),
        settings: ProgressSettings {
            aspect_ratio: row.aspect_ratio.clone(),
            duration: round3(row.duration),
            size_bytes: row.size_bytes,
            export_delivery: row.export_delivery.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
        },
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A short random hex id (`request_id`).
pub fn short_id() -> String {
    hex::encode(rand::random::<[u8; 4]>())
}

/// A video task the caller owns, or the documented 404 (a preview or an AI render queued for
/// the workers is no task of the caller's).
pub async fn owned_task(state: &AppState, key_id: i64, id: String, any: bool) -> Result<TaskRow, HttpError> {
    let row = if any { state.store.task_any(&id).await? } else { state.store.task(&id).await? };
    match row {
        Some(r) if r.api_key_id == key_id && r.kind == crate::store::TaskKind::Video => Ok(r),
        _ => Err(HttpError::new(404, "Task not found", Some("TASK_NOT_FOUND"))),
    }
}
