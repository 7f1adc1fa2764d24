//! Where work plugs in after a task ends: export delivery (webhooks, FTP/SFTP, email) will
//! implement [`TaskHook`]. The runner calls the hook on a blocking thread once per terminal
//! state and stores what it returns as the task's `settings.export_delivery`.

use samvideo_core::request::Exports;
use serde_json::Value;

use crate::store::TaskStatus;

/// A task that just reached a terminal state.
#[derive(Debug, Clone)]
pub struct FinishedTask {
    /// Task UUID.
    pub id: String,
    /// Owner key id.
    pub api_key_id: i64,
    /// The terminal state.
    pub status: TaskStatus,
    /// Error message for failed/timeout/cancelled.
    pub error: Option<String>,
    /// The output's object name under `outputs/` (`/media/outputs/NAME`), when completed.
    pub output_file: Option<String>,
    /// Absolute URL of the output when `--public-url` is set (otherwise the host is unknown
    /// outside a request; delivery code should require a public URL).
    pub output_url: Option<String>,
    /// The poster frame's file name under `outputs/`, when completed.
    pub thumbnail_file: Option<String>,
    /// The WebVTT caption sidecar's file name under `outputs/`, when completed with captions.
    pub subtitles_file: Option<String>,
    /// The request's `exports`, if any.
    pub exports: Option<Exports>,
    /// Seconds of video.
    pub duration: f64,
    /// Output size.
    pub size_bytes: i64,
}

/// Called when a task ends. Must not panic; slow work is fine (it runs off the runtime).
pub trait TaskHook: Send + Sync {
    /// Do the delivery; return the results to show under `settings.export_delivery`,
    /// or `None` when there was nothing to deliver.
    fn on_finished(&self, task: &FinishedTask) -> Option<Value>;
}

/// The hook used until export delivery exists: records nothing.
pub struct NoDelivery;

impl TaskHook for NoDelivery {
    fn on_finished(&self, _task: &FinishedTask) -> Option<Value> {
        None
    }
}
