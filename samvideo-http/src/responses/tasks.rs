//! Bodies of the video endpoints: a created task, its progress (alone, in the task list, of
//! an advanced render), the usage summary and the async layer's status, cancel and queue.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

/// `data` of a mix/simple/loop create.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskCreated {
    /// The task id (a UUID).
    pub id: String,
    /// Where to poll (not sent by loop-video, as in the reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_url: Option<String>,
    /// The worker-layer id (a UUID), accepted by `/api/async/...` too.
    pub celery_task_id: String,
}

/// `data` of a full advanced create.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AdvancedCreated {
    /// The task id.
    pub id: String,
    /// Always `full`.
    pub mode: &'static str,
    /// Where to poll.
    pub progress_url: String,
    /// A rough range (`under 1 minute`, `1-2 minutes`, ...).
    pub estimated_time: &'static str,
    /// A short hex id of the request.
    pub request_id: String,
    /// The worker-layer id.
    pub celery_task_id: String,
}

/// `data` of an advanced preview (rendered before answering).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Preview {
    /// Always `preview`.
    pub mode: &'static str,
    /// The preview MP4.
    pub preview_url: String,
    /// A short hex id of the request.
    pub request_id: String,
}

/// The progress object of a task.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Progress {
    /// The task id.
    pub id: String,
    /// `pending`, `processing`, `completed`, `failed`, `cancelled` or `timeout`.
    pub status: &'static str,
    /// 0..1, rounded to 3 places.
    pub progress: f64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; `null` until the task ends.
    pub completed_at: Option<String>,
    /// The MP4; set only when `completed`.
    pub output_url: Option<String>,
    /// The poster JPEG; set only when `completed`.
    pub thumbnail_url: Option<String>,
    /// The WebVTT captions (the SubRip file is the same URL ending `.srt`); `null` without
    /// captions or until `completed`.
    pub subtitles_url: Option<String>,
    /// Why it failed, timed out or was cancelled.
    pub error: Option<String>,
    /// Only on a completed task whose output, poster and captions the server's retention
    /// (`--retention-days`) deleted: the URLs above stay and answer 410 `OUTPUT_EXPIRED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_expired: Option<OutputExpired>,
    /// The output's numbers.
    pub settings: ProgressSettings,
}

/// `output_expired` of a progress object.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OutputExpired {
    /// When the files were deleted, RFC 3339, UTC.
    pub expired_at: String,
    /// Why the files are gone and what to do (the message of the download's 410).
    pub message: String,
}

/// `settings` of a progress object.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProgressSettings {
    /// `9:16`, `16:9` or `1:1`.
    pub aspect_ratio: String,
    /// Seconds of video written (0 until completed).
    pub duration: f64,
    /// Bytes of the MP4 (0 until completed).
    pub size_bytes: i64,
    /// The export deliveries' results, once there are some (`docs/exports.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<super::JsonObject>")]
    pub export_delivery: Option<Value>,
}

/// The progress object of an advanced task.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AdvancedProgress {
    /// The progress object.
    #[serde(flatten)]
    pub task: Progress,
    /// Always `full` (previews are not tasks).
    pub mode: &'static str,
    /// The create's request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A task in the task list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListedTask {
    /// The progress object.
    #[serde(flatten)]
    pub task: Progress,
    /// The endpoint (`mix-video`, `simple-video`, `loop-video`, `advanced-video`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The worker-layer id.
    pub celery_task_id: String,
}

/// `data` of the task list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskList {
    /// Newest first.
    pub tasks: Vec<ListedTask>,
    /// `tasks.len()`.
    pub count: usize,
    /// The limit applied (1..100).
    pub limit: u32,
}

/// `data` of the usage summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageSummary {
    /// `days` (1..3650).
    pub window_days: i64,
    /// Start of the window, RFC 3339.
    pub since: String,
    /// Tasks created in the window.
    pub totals: UsageTotals,
    /// Tasks of the window per status (every status, 0 included).
    #[schemars(with = "std::collections::BTreeMap<String, i64>")]
    pub by_status: Map<String, Value>,
    /// This calendar month (UTC).
    pub monthly_videos: MonthlyVideos,
    /// Video packs.
    pub extra_videos: crate::store::ExtraVideos,
    /// The key asking.
    pub api_key: KeySummary,
}

/// `totals` of the usage summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageTotals {
    /// Every task.
    pub tasks: i64,
    /// Completed.
    pub completed: i64,
    /// Failed.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// Timed out.
    pub timeout: i64,
    /// completed / tasks, 4 places (0 with no tasks).
    pub success_rate: f64,
}

/// `monthly_videos` of the usage summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MonthlyVideos {
    /// The plan's quota; `null` is unlimited.
    pub limit: Option<u32>,
    /// Tasks created this month.
    pub used: i64,
}

/// `api_key` of the usage summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeySummary {
    /// Its name.
    pub name: String,
    /// `abcd...wxyz`.
    pub masked_key: String,
    /// Authenticated requests, ever.
    pub usage_count: i64,
    /// The last one, RFC 3339.
    pub last_used: Option<String>,
}

/// `data` of `/api/async/status/{task_id}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AsyncStatus {
    /// The worker-layer id.
    pub task_id: String,
    /// The task id.
    pub id: String,
    /// `PENDING`, `STARTED`, `SUCCESS`, `FAILURE` or `REVOKED`.
    pub state: &'static str,
    /// The task status.
    pub status: &'static str,
    /// 0..1.
    pub progress: f64,
    /// The task has ended.
    pub ready: bool,
    /// It completed.
    pub successful: bool,
    /// Starts it got.
    pub attempts: i64,
    /// Why it did not complete.
    pub error: Option<String>,
}

/// `data` of a cancel.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Cancelled {
    /// The task id.
    pub id: String,
    /// The worker-layer id.
    pub task_id: String,
    /// Always `cancelled`.
    pub status: &'static str,
}

/// The queue numbers (`/api/async/queue/status`, health).
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueueNumbers {
    /// Renders at once.
    pub workers: usize,
    /// Rendering now.
    pub active: usize,
    /// Pending tasks.
    pub queued: i64,
}

/// `GET /api/async/health` when healthy.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    /// Always `true`.
    pub success: bool,
    /// Always `healthy`.
    pub status: &'static str,
    /// The queue.
    pub data: QueueNumbers,
}
