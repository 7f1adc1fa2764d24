//! Render tasks: one row per create request, the durable queue (`pending` rows in `seq`
//! order) and the progress clients poll.
//!
//! Status moves only forward: pending -> processing -> completed | failed | cancelled |
//! timeout (pending may also go straight to cancelled). Every terminal write checks the row is
//! still live, so a late render result never overwrites a cancel.

use rusqlite::{params, Connection, OptionalExtension};

use super::postgres::tasks as pg;
use super::{now_rfc3339, Backend, Blocking, Store, StoreError};

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
    pub(super) fn set(&mut self, status: &str, n: i64) {
        if let Some(i) = TaskStatus::parse(status).and_then(|s| TaskStatus::ALL.iter().position(|x| *x == s)) {
            self.counts[i] = n;
        }
    }
}

pub(super) const COLS: &str = "id, celery_task_id, api_key_id, endpoint, request_json, exports_json, request_id, \
    status, progress, error, aspect_ratio, duration, size_bytes, output_file, attempts, export_delivery, \
    created_at, completed_at, thumbnail_file, subtitles_file";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<(TaskRow, String)> {
    let status: String = r.get(7)?;
    Ok((
        TaskRow {
            id: r.get(0)?,
            celery_task_id: r.get(1)?,
            api_key_id: r.get(2)?,
            endpoint: r.get(3)?,
            request_json: r.get(4)?,
            exports_json: r.get(5)?,
            request_id: r.get(6)?,
            status: TaskStatus::Pending,
            progress: r.get(8)?,
            error: r.get(9)?,
            aspect_ratio: r.get(10)?,
            duration: r.get(11)?,
            size_bytes: r.get(12)?,
            output_file: r.get(13)?,
            attempts: r.get(14)?,
            export_delivery: r.get(15)?,
            created_at: r.get(16)?,
            completed_at: r.get(17)?,
            thumbnail_file: r.get(18)?,
            subtitles_file: r.get(19)?,
        },
        status,
    ))
}

pub(super) fn finish((mut t, status): (TaskRow, String)) -> Result<TaskRow, StoreError> {
    t.status = TaskStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("status {status:?}") })?;
    Ok(t)
}

/// Store a new `pending` task.
pub(super) fn insert(conn: &Connection, t: &NewTask) -> Result<(), StoreError> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO tasks (id, celery_task_id, api_key_id, endpoint, request_json, exports_json, \
         request_id, status, aspect_ratio, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?9)",
        params![
            t.id,
            t.celery_task_id,
            t.api_key_id,
            t.endpoint,
            t.request_json,
            t.exports_json,
            t.request_id,
            t.aspect_ratio,
            now
        ],
    )?;
    Ok(())
}

/// By task id.
pub(super) fn get(conn: &Connection, id: &str) -> Result<Option<TaskRow>, StoreError> {
    let r = conn.query_row(&format!("SELECT {COLS} FROM tasks WHERE id = ?1"), [id], read).optional()?;
    r.map(finish).transpose()
}

/// By task id or worker-layer id.
fn get_any(conn: &Connection, id: &str) -> Result<Option<TaskRow>, StoreError> {
    let r = conn
        .query_row(&format!("SELECT {COLS} FROM tasks WHERE id = ?1 OR celery_task_id = ?1"), [id], read)
        .optional()?;
    r.map(finish).transpose()
}

/// A key's newest tasks, optionally of one state.
fn list(conn: &Connection, key_id: i64, status: Option<TaskStatus>, limit: u32) -> Result<Vec<TaskRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM tasks WHERE api_key_id = ?1 AND (?2 IS NULL OR status = ?2) \
         ORDER BY seq DESC LIMIT ?3"
    ))?;
    let rows =
        st.query_map(params![key_id, status.map(|s| s.as_str()), limit], read)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

/// Terminal write; false when the task had already ended (e.g. cancelled meanwhile).
fn end(conn: &Connection, id: &str, u: &TaskUpdate) -> Result<bool, StoreError> {
    let now = now_rfc3339();
    let progress = if u.status == TaskStatus::Completed { Some(1.0) } else { None };
    let n = conn.execute(
        "UPDATE tasks SET status = ?2, error = ?3, duration = ?4, size_bytes = ?5, output_file = ?6, \
         render_seconds = ?7, progress = COALESCE(?8, progress), completed_at = ?9, updated_at = ?9, \
         thumbnail_file = ?10, subtitles_file = ?11, lease_until_ms = NULL \
         WHERE id = ?1 AND status IN ('pending', 'processing')",
        params![
            id,
            u.status.as_str(),
            u.error,
            u.duration,
            u.size_bytes,
            u.output_file,
            u.render_seconds,
            progress,
            now,
            u.thumbnail_file,
            u.subtitles_file
        ],
    )?;
    Ok(n == 1)
}

/// Put delivery results on a task.
fn set_export_delivery(conn: &Connection, id: &str, json: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE tasks SET export_delivery = ?2 WHERE id = ?1", params![id, json])?;
    Ok(())
}

/// After a crash: the node's processing tasks (and unmarked ones) go back to pending while
/// they have attempts left, otherwise they fail with a reason. Returns (requeued, failed) ids.
fn recover(conn: &Connection, max_attempts: u32, node: Option<&str>) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let now = now_rfc3339();
    let mut st = conn.prepare(
        "UPDATE tasks SET status = 'pending', progress = 0, updated_at = ?2, node_id = NULL, lease_until_ms = NULL \
         WHERE status = 'processing' AND (node_id IS NULL OR node_id = ?3) AND attempts < ?1 RETURNING id",
    )?;
    let requeued = st.query_map(params![max_attempts, now, node], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    let mut st = conn.prepare(
        "UPDATE tasks SET status = 'failed', updated_at = ?1, completed_at = ?1, lease_until_ms = NULL, \
         error = 'Render interrupted: the server stopped while rendering this task ' || attempts || ' time(s)' \
         WHERE status = 'processing' AND (node_id IS NULL OR node_id = ?2) RETURNING id",
    )?;
    let failed = st.query_map(params![now, node], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok((requeued, failed))
}

/// Tasks a key created at or after `since` (RFC 3339), any state.
pub(super) fn count_since(conn: &Connection, key_id: i64, since: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM tasks WHERE api_key_id = ?1 AND created_at >= ?2",
        params![key_id, since],
        |r| r.get(0),
    )?)
}

/// Per-state counts of a key's tasks since `since`; all keys when `key_id` is None.
pub(super) fn status_counts(conn: &Connection, key_id: Option<i64>, since: &str) -> Result<StatusCounts, StoreError> {
    let mut st = conn.prepare(
        "SELECT status, COUNT(*) FROM tasks WHERE (?1 IS NULL OR api_key_id = ?1) AND created_at >= ?2 \
         GROUP BY status",
    )?;
    let mut out = StatusCounts::default();
    let rows = st.query_map(params![key_id, since], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (status, n) = row?;
        out.set(&status, n);
    }
    Ok(out)
}

impl Store {
    /// A task by its id.
    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| get(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::get(&**c, &id).await }).await,
        }
    }

    /// A task by its id or its worker-layer id.
    pub async fn task_any(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| get_any(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| pg::get_any(c, id)).await,
        }
    }

    /// A key's newest tasks, optionally of one state.
    pub async fn list_tasks(
        &self,
        key_id: i64,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| list(c, key_id, status, limit)).await,
            Backend::Postgres(db) => db.call(move |c| pg::list(c, key_id, status, limit)).await,
        }
    }

    /// Terminal write, and the row as it stands after it: false when the task had already
    /// ended (e.g. cancelled meanwhile), in which case nothing changed.
    pub async fn end_task(&self, id: &str, update: TaskUpdate) -> Result<(bool, Option<TaskRow>), StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| Ok((end(c, &id, &update)?, get(c, &id)?))).await,
            Backend::Postgres(db) => db.call(move |c| pg::end(c, id, update)).await,
        }
    }

    /// Tasks per state, of all keys, ever.
    pub async fn task_counts(&self) -> Result<StatusCounts, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(|c| status_counts(c, None, "")).await,
            Backend::Postgres(db) => db.call(|c| async move { pg::status_counts(&**c, None, "").await }).await,
        }
    }
}

impl Blocking<'_> {
    /// After a crash: this node's processing tasks (and unmarked ones; never another node's)
    /// go back to pending while they have attempts left, otherwise they fail with a reason.
    /// Returns (requeued, failed) ids.
    pub fn recover_tasks(&self, max_attempts: u32) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let node = self.store.node();
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| recover(c, max_attempts, node.as_deref())),
            Backend::Postgres(db) => db.block(move |c| pg::recover(c, max_attempts, node)),
        }
    }

    /// Put delivery results on a task.
    pub fn set_export_delivery(&self, id: &str, json: &str) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| set_export_delivery(c, id, json)),
            Backend::Postgres(db) => {
                let (id, json) = (id.to_owned(), json.to_owned());
                db.block(move |c| pg::set_export_delivery(c, id, json))
            }
        }
    }

    /// A task by its id or its worker-layer id.
    pub fn task_any(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| get_any(c, id)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::get_any(c, id))
            }
        }
    }
}
