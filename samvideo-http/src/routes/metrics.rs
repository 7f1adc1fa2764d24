//! `GET /metrics`: Prometheus text (queue depth, renders by status, render seconds).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::metrics::Snapshot;
use crate::reply::Reply;
use crate::state::AppState;
use crate::store::TaskStatus;

/// `GET /metrics`
pub async fn metrics(State(s): State<AppState>) -> Reply {
    let tasks = s.store.task_counts().await?;
    let snap = Snapshot {
        queued: tasks.get(TaskStatus::Pending),
        active: s.jobs.active(),
        active_parts: s.jobs.active_parts(),
        workers: s.jobs.workers(),
        tasks,
    };
    let body = s.metrics.render(&snap);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}
