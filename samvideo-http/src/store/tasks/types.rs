//! Render tasks as held: [`TaskStatus`], [`NewTask`], [`TaskRow`], a [`TaskUpdate`],
//! [`StatusCounts`], and the column list and status check that both backends read rows with.
//! Nothing here touches a database.

use crate::store::StoreError;

/// The documented task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Row created, not started.
    Pending,
    /// A worker is rendering it.
    Processing,
    /// Output written.
    Completed,
    /// The render failed; `error` says why.
    Failed,
    /// Cancelled by the user.
    Cancelled,
    /// No progress within the inactivity window.
    Timeout,
}

impl TaskStatus {
    /// All states, in documentation order.
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Pending,
        TaskStatus::Processing,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::Timeout,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Processing => "processing",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Timeout => "timeout",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// No further change will happen.
    pub fn is_terminal(self) -> bool {
        !matches!(self, TaskStatus::Pending | TaskStatus::Processing)
    }
}

/// What a task is for. Only [`TaskKind::Video`] tasks are a user's videos: listed, counted in
/// the quota and the usage summary, served by the progress endpoints, exported. The other kinds
/// are renders an API node without workers hands to the workers and waits for
/// (`crate::jobs::queued`); whoever claims them puts their output where the kind says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// A video created through the API.
    Video,
    /// A synchronous advanced-video preview (`request_id` is the preview's).
    Preview,
    /// The render of a built-in AI model's job (`request_id` is the AI job's id).
    Ai,
    /// One part of a video task rendered split across workers (`--split-renders`,
    /// `crate::store::parts`): `request_id` names the part (`segment:K`, `audio`), the row's
    /// `parent_id` the video task. Claimed only while that task is `processing`.
    Part,
}

impl TaskKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Video => "video",
            TaskKind::Preview => "preview",
            TaskKind::Ai => "ai",
            TaskKind::Part => "part",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<TaskKind> {
        [TaskKind::Video, TaskKind::Preview, TaskKind::Ai, TaskKind::Part].into_iter().find(|k| k.as_str() == s)
    }
}

/// What a create endpoint stores.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The task UUID clients poll.
    pub id: String,
    /// The worker-layer id (`celery_task_id` in responses; accepted by `/api/async/*`).
    pub celery_task_id: String,
    /// Owner.
    pub api_key_id: i64,
    /// `mix-video`, `simple-video`, `loop-video` or `advanced-video`.
    pub endpoint: String,
    /// The body as validated (template merged), re-parsed by the worker.
    pub request_json: String,
    /// The request's `exports`, for delivery after the render.
    pub exports_json: Option<String>,
    /// Advanced renderer's short request id.
    pub request_id: Option<String>,
    /// Shown in progress `settings.aspect_ratio`.
    pub aspect_ratio: String,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// Task UUID.
    pub id: String,
    /// Worker-layer UUID.
    pub celery_task_id: String,
    /// Owner key.
    pub api_key_id: i64,
    /// Endpoint name.
    pub endpoint: String,
    /// Validated body.
    pub request_json: String,
    /// `exports` JSON, if any.
    pub exports_json: Option<String>,
    /// Advanced request id.
    pub request_id: Option<String>,
    /// Current state.
    pub status: TaskStatus,
    /// 0..=1.
    pub progress: f64,
    /// Why it failed/timed out/was cancelled.
    pub error: Option<String>,
    /// `9:16`, `16:9`, `1:1`.
    pub aspect_ratio: String,
    /// Seconds of video written.
    pub duration: f64,
    /// Output size.
    pub size_bytes: i64,
    /// File name under `outputs/`.
    pub output_file: Option<String>,
    /// The poster frame's file name under `outputs/` (JPEG), beside the output.
    pub thumbnail_file: Option<String>,
    /// The caption sidecar's file name under `outputs/` (`ID.vtt`; `ID.srt` beside it), when
    /// the video has captions.
    pub subtitles_file: Option<String>,
    /// Times a worker started it.
    pub attempts: i64,
    /// Delivery results (JSON), shown as `settings.export_delivery`.
    pub export_delivery: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Terminal time.
    pub completed_at: Option<String>,
    /// What the task is for.
    pub kind: TaskKind,
    /// When retention (`--retention-days`) deleted the output, its poster and sidecars; the
    /// task keeps its state and says so.
    pub output_expired_at: Option<String>,
    /// A part's video task (`--split-renders`); `None` for every other kind.
    pub parent_id: Option<String>,
}

/// The terminal write of a render.
#[derive(Debug, Clone)]
pub struct TaskUpdate {
    /// Terminal state.
    pub status: TaskStatus,
    /// Message for failed/timeout/cancelled.
    pub error: Option<String>,
    /// Seconds of video.
    pub duration: f64,
    /// Output size.
    pub size_bytes: i64,
    /// File under `outputs/`.
    pub output_file: Option<String>,
    /// Poster frame under `outputs/`.
    pub thumbnail_file: Option<String>,
    /// Caption sidecar (`.vtt`) under `outputs/`.
    pub subtitles_file: Option<String>,
    /// Wall time of the render.
    pub render_seconds: Option<f64>,
}

impl TaskUpdate {
    /// A terminal state without output.
    pub fn ended(status: TaskStatus, error: impl Into<String>) -> Self {
        TaskUpdate {
            status,
            error: Some(error.into()),
            duration: 0.0,
            size_bytes: 0,
            output_file: None,
            thumbnail_file: None,
            subtitles_file: None,
            render_seconds: None,
        }
    }
}

/// Tasks per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Indexed like [`TaskStatus::ALL`].
    pub counts: [i64; 6],
}

impl StatusCounts {
    /// Count of one state.
    pub fn get(&self, s: TaskStatus) -> i64 {
        self.counts[TaskStatus::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }
    /// Sum over states.
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
    /// Set the count of a stored state name (a name this build does not know is left out).
    pub(in crate::store) fn set(&mut self, status: &str, n: i64) {
        if let Some(i) = TaskStatus::parse(status).and_then(|s| TaskStatus::ALL.iter().position(|x| *x == s)) {
            self.counts[i] = n;
        }
    }
}

pub(in crate::store) const COLS: &str =
    "id, celery_task_id, api_key_id, endpoint, request_json, exports_json, request_id, \
    status, progress, error, aspect_ratio, duration, size_bytes, output_file, attempts, export_delivery, \
    created_at, completed_at, thumbnail_file, subtitles_file, kind, output_expired_at, parent_id";

pub(in crate::store) fn finish((mut t, status, kind): (TaskRow, String, String)) -> Result<TaskRow, StoreError> {
    t.status = TaskStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("status {status:?}") })?;
    t.kind = TaskKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("kind {kind:?}") })?;
    Ok(t)
}
