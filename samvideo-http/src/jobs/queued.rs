//! Renders an API node without workers (`serve --workers 0`) hands to the workers instead of
//! rendering them itself: a synchronous advanced-video preview and the render of a built-in AI
//! model's job. A node with workers renders both in-process as before ([`through_queue`]).
//!
//! Such a render is a task of its own [`TaskKind`] in the one queue: claimed, leased, fenced and
//! rescued like a video (previews and AI renders first: someone waits for them), but never a
//! user's video (not listed, not counted in the quota or the usage summary, not exported). The
//! node that queued it polls the store until a worker ends it ([`render`]); past its time
//! limit, or when the node shuts down, it cancels the task, which the worker learns at its next
//! heartbeat. Where a kind's output is kept is [`object`]: previews under `previews/`, AI
//! renders under `outputs/`, each attempt under a name of its own like a video's.
//!
//! Enter: a [`NewTask`] and its kind. Leave: [`Done`] (the object a worker put) or
//! [`QueuedError`].

use std::time::{Duration, Instant};

use crate::config::ServerConfig;
use crate::objects::{OUTPUTS, PARTS, PREVIEWS};
use crate::store::{NewTask, Store, StoreError, TaskKind, TaskStatus, TaskUpdate};

/// Whether previews and built-in AI renders go through the queue on this node: on an API-only
/// node (`--workers 0`), which has no cores set aside for renders. A node with workers renders
/// them in-process: a preview does not wait behind the queued videos its own workers render,
/// and a single-node install behaves as it always did.
pub fn through_queue(config: &ServerConfig) -> bool {
    config.workers == 0
}

/// Where the output of attempt `attempt` of a task of `kind` is kept: (folder, object name).
/// A video is `outputs/ID.mp4`; a preview `previews/preview_REQUEST.mp4`; an AI render
/// `outputs/ai-JOB.mp4` (`request_id` holds the preview's request id or the AI job's id);
/// attempt N > 1 adds `-N` ([`super::output_name`]); a part of a split video
/// `parts/PART_TASK-N.svpart`.
pub fn object(kind: TaskKind, id: &str, request_id: Option<&str>, attempt: i64) -> (&'static str, String) {
    let named = request_id.unwrap_or(id);
    match kind {
        TaskKind::Video => (OUTPUTS, super::output_name(id, attempt)),
        TaskKind::Preview => (PREVIEWS, super::output_name(&format!("preview_{named}"), attempt)),
        TaskKind::Ai => (OUTPUTS, super::output_name(&format!("ai-{named}"), attempt)),
        // The part task's own id and attempt: a late worker's part never shares a name.
        TaskKind::Part => (PARTS, format!("{id}-{attempt}.svpart")),
    }
}

/// A queued render a worker completed.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// The object's name in its kind's folder ([`object`]).
    pub file: String,
    /// Seconds of video.
    pub duration: f64,
    /// Size of the object.
    pub size_bytes: i64,
}

/// Why a queued render produced no output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueuedError {
    /// The worker's render failed; its message, as it wrote it on the task.
    #[error("{0}")]
    Failed(String),
    /// No worker ended it within the time limit (it was cancelled).
    #[error("took longer than {0} s")]
    TimedOut(u64),
    /// This node is shutting down (the task was cancelled).
    #[error("the server is shutting down")]
    Stopped,
    /// The store could not queue the task or say how it stands.
    #[error("the render queue is unavailable: {0}")]
    Store(#[from] StoreError),
}

/// Longest pause between two looks at the task.
const POLL_AT_MOST: Duration = Duration::from_millis(250);

/// Queue `task` as a `kind` task and wait until a worker ends it, polling the store (every
/// 50 ms at first, then up to every 250 ms). Past `limit`, or once `stop()` says so, the task
/// is cancelled and [`QueuedError::TimedOut`] or [`QueuedError::Stopped`] returned.
pub async fn render(
    store: &Store,
    task: NewTask,
    kind: TaskKind,
    limit: Option<Duration>,
    stop: impl Fn() -> bool,
) -> Result<Done, QueuedError> {
    let id = task.id.clone();
    let started = Instant::now();
    store.queue_task(task, kind).await?;
    tracing::info!(task_id = %id, kind = kind.as_str(), "render queued for the workers");
    let mut pause = Duration::from_millis(50);
    loop {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_AT_MOST);
        let row = store
            .task(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("queued task {id} vanished") })?;
        match row.status {
            TaskStatus::Completed => {
                let file = row.output_file.ok_or_else(|| StoreError::Corrupt {
                    table: "tasks",
                    reason: format!("completed task {id} has no output"),
                })?;
                return Ok(Done { file, duration: row.duration, size_bytes: row.size_bytes });
            }
            s if s.is_terminal() => {
                let message = row.error.unwrap_or_else(|| format!("the render ended {}", s.as_str()));
                return Err(QueuedError::Failed(message));
            }
            _ => {}
        }
        let over = limit.filter(|l| started.elapsed() >= *l);
        if over.is_some() || stop() {
            let why = match over {
                Some(l) => format!("No worker finished it within {} s; cancelled", l.as_secs()),
                None => "The server that waited for it shut down; cancelled".to_string(),
            };
            let (applied, row) = store.end_task(&id, TaskUpdate::ended(TaskStatus::Cancelled, why)).await?;
            if !applied && row.as_ref().is_some_and(|r| r.status == TaskStatus::Completed) {
                // It completed as the limit came: the result is there, take it.
                continue;
            }
            tracing::warn!(task_id = %id, kind = kind.as_str(), "queued render cancelled (time limit or shutdown)");
            return Err(match over {
                Some(l) => QueuedError::TimedOut(l.as_secs()),
                None => QueuedError::Stopped,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_output_in_its_folder_under_a_name_per_attempt() {
        assert_eq!(object(TaskKind::Video, "t1", Some("r"), 1), (OUTPUTS, "t1.mp4".into()));
        assert_eq!(object(TaskKind::Video, "t1", None, 2), (OUTPUTS, "t1-2.mp4".into()));
        assert_eq!(object(TaskKind::Preview, "t1", Some("ab12"), 1), (PREVIEWS, "preview_ab12.mp4".into()));
        assert_eq!(object(TaskKind::Preview, "t1", Some("ab12"), 3), (PREVIEWS, "preview_ab12-3.mp4".into()));
        assert_eq!(object(TaskKind::Ai, "t1", Some("7"), 1), (OUTPUTS, "ai-7.mp4".into()));
    }
}
