//! Part tasks of a split render (`--split-renders`, docs/scale-out.md "One render split across
//! workers"): the worker that claims a video task queues one task of kind `part` per
//! `samvideo_core::render::parts::PartId` (each segment, the audio) in the `tasks` table, so
//! any worker claims, renews, fences, gives back and ends them through the same statements as
//! every task (`store::leases`). A part task names its video task (`parent_id`), its part and
//! its weight in frames; it is claimed only while that video task is `processing`, and its
//! lease is renewed only then (a cancel of the video stops its parts' workers).
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{NewPart, PartRow};

use self::postgres as pg;
use crate::store::{Backend, Store, StoreError, TaskStatus};

impl Store {
    /// Queue `parts` of the video task `parent`, each once: parts an earlier attempt queued are
    /// kept as they are (a completed one is not rendered again).
    pub async fn add_parts(&self, parent: &str, parts: Vec<NewPart>) -> Result<(), StoreError> {
        let parent = parent.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::add(c, &parent, &parts)).await,
            Backend::Postgres(db) => db.call(move |c| pg::add(c, parent, parts)).await,
        }
    }

    /// The part tasks of the video task `parent`, in the order they were queued.
    pub async fn parts_of(&self, parent: &str) -> Result<Vec<PartRow>, StoreError> {
        let parent = parent.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::of(c, &parent)).await,
            Backend::Postgres(db) => db.call(move |c| pg::of(c, parent)).await,
        }
    }

    /// The state of the video task that the part task `part` belongs to: the retention sweep of
    /// `parts/` keeps a part object while its video may still use it. None when there is no such
    /// part task or its video is gone.
    pub async fn video_status_of_part(&self, part: &str) -> Result<Option<TaskStatus>, StoreError> {
        let part = part.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::video_status(c, &part)).await,
            Backend::Postgres(db) => db.call(move |c| pg::video_status(c, part)).await,
        }
    }
}
