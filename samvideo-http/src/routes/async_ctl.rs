//! Async control: raw worker-layer state, cancel, queue status. `{task_id}` may be the task's
//! `id` or its `celery_task_id`; anything that is not a UUID is `INVALID_TASK_ID`.

use axum::extract::{Path, State};

use super::owned_task;
use crate::auth::Caller;
use crate::jobs::CancelOutcome;
use crate::reply::{typed_data, typed_reply, HttpError, Reply};
use crate::responses::tasks::{AsyncStatus, Cancelled, QueueNumbers};
use crate::responses::Said;
use crate::state::AppState;
use crate::store::TaskStatus;

fn check_id(id: &str) -> Result<(), HttpError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| HttpError::new(400, "Invalid task ID format", Some("INVALID_TASK_ID")))
}

/// Celery-style state name of a status.
fn worker_state(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Pending => "PENDING",
        TaskStatus::Processing => "STARTED",
        TaskStatus::Completed => "SUCCESS",
        TaskStatus::Failed | TaskStatus::Timeout => "FAILURE",
        TaskStatus::Cancelled => "REVOKED",
    }
}

/// `GET /api/async/status/{task_id}`
pub async fn status(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Reply {
    check_id(&id)?;
    let row = owned_task(&s, caller.key.id, id, true).await?;
    typed_data(AsyncStatus {
        task_id: row.celery_task_id,
        id: row.id,
        state: worker_state(row.status),
        status: row.status.as_str(),
        progress: row.progress,
        ready: row.status.is_terminal(),
        successful: row.status == TaskStatus::Completed,
        attempts: row.attempts,
        error: row.error,
    })
}

/// `POST /api/async/cancel/{task_id}`
pub async fn cancel(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Reply {
    check_id(&id)?;
    let row = owned_task(&s, caller.key.id, id, true).await?;
    match s.jobs.cancel(&row.id).await? {
        CancelOutcome::Cancelled => typed_reply(
            200,
            Said::new("Task cancelled", Cancelled { id: row.id, task_id: row.celery_task_id, status: "cancelled" }),
        ),
        CancelOutcome::AlreadyEnded(st) => Err(HttpError::new(
            400,
            format!("Task is already {} and cannot be cancelled", st.as_str()),
            Some("TASK_NOT_CANCELLABLE"),
        )),
    }
}

/// Queue numbers shared by queue status and health.
pub async fn queue_numbers(s: &AppState) -> Result<QueueNumbers, HttpError> {
    let counts = s.store.task_counts().await?;
    Ok(QueueNumbers { workers: s.jobs.workers(), active: s.jobs.active(), queued: counts.get(TaskStatus::Pending) })
}

/// `GET /api/async/queue/status`
pub async fn queue_status(State(s): State<AppState>, _caller: Caller) -> Reply {
    typed_data(queue_numbers(&s).await?)
}
