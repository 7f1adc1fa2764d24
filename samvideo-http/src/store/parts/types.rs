//! Parts as held: a [`NewPart`] to queue and a [`PartRow`] as a coordinator reads it. Nothing
//! here touches a database.

use crate::store::{StoreError, TaskStatus};

/// A part of a video task to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    /// Its part name: `segment:K` or `audio` (`samvideo_core::render::parts::PartId`).
    pub part: String,
    /// Its weight in the video's progress, in frames.
    pub frames: i64,
}

/// A part task of a video task, as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct PartRow {
    /// The part task's own id (its lease and fencing token are the task's).
    pub id: String,
    /// `segment:K` or `audio`.
    pub part: String,
    /// Its state.
    pub status: TaskStatus,
    /// 0..=1 of this part.
    pub progress: f64,
    /// Why it failed.
    pub error: Option<String>,
    /// The part file under `parts/` once completed.
    pub output_file: Option<String>,
    /// The poster frame under `parts/`, when this segment holds it.
    pub thumbnail_file: Option<String>,
    /// Its weight in frames.
    pub frames: i64,
    /// Claims it has had (the fencing token of its last).
    pub attempts: i64,
}

/// The columns [`PartRow`] is read from, in order.
pub(in crate::store) const PART_COLS: &str =
    "id, part, status, progress, error, output_file, thumbnail_file, part_frames, attempts";

/// The status column of a part row, parsed.
pub(in crate::store) fn status(s: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::parse(s).ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("status {s:?}") })
}
