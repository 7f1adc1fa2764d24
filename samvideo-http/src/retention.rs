//! Retention (`--retention-days N`): what a node deletes once it is N days old, and what a
//! client is told afterwards.
//!
//! A sweep runs on every node that has the setting, once at start and then every
//! [`SWEEP_EVERY`]. It deletes, from the object store (a folder or a bucket, through
//! [`Objects`]):
//! - the output, poster and caption sidecars of every task that completed more than N days ago.
//!   The store hands each such task to one sweep only ([`Store::claim_expired_outputs`]: a hold
//!   of [`HOLD`]), the sweep deletes its objects, then marks the task
//!   ([`Store::mark_output_expired`]); a sweep that dies or cannot delete leaves its hold to run
//!   out, and a later sweep (of any node) takes the task over. Deleting is idempotent, so two
//!   sweeps never conflict. The task stays `completed`; its row says when its objects went.
//! - previews last modified more than N days ago (they have no row: the listing's times decide;
//!   a preview another node deleted first is skipped);
//! - this node's scratch files in `tmp/` older than N days (renders before upload, downloads
//!   for exports; a render never lasts a day, so none of them is in use). Fetched media are not
//!   kept on disk: nothing else to delete.
//!
//! Afterwards the task's progress keeps its status and output URLs and adds `output_expired`
//! ([`expired_message`]); a download of one of its objects answers 410 `OUTPUT_EXPIRED` with
//! the same message ([`expired_object`], used by `routes::media`).
//!
//! Enter: [`Retention::spawn`] at node start, or [`Retention::sweep`] with a clock (tests).
//! Leave: deleted objects and files, marked tasks, a [`Swept`] count.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::jobs::{object_names, task_of_object};
use crate::objects::{Objects, ObjectsError, OUTPUTS, PREVIEWS};
use crate::store::{rfc3339, LeaseTerms, Store, StoreError, TaskRow};

/// How often a node sweeps (and once at its start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How long a sweep holds a task while it deletes its objects; after that another sweep may
/// take it over.
pub const HOLD: Duration = Duration::from_secs(600);

/// Tasks held per store round trip.
const BATCH: u32 = 100;

/// Why a sweep stopped before it was done (what it deleted so far stays deleted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetentionError {
    /// The store could not hand out or mark tasks.
    #[error("retention: the store failed: {0}")]
    Store(#[from] StoreError),
    /// Old previews could not be listed or deleted.
    #[error("retention: cannot delete old previews: {0}")]
    Previews(#[source] ObjectsError),
    /// The scratch folder could not be read.
    #[error("retention: cannot read the scratch folder {path}: {source}")]
    Scratch {
        /// `DATA_DIR/tmp`.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
}

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Tasks whose objects were deleted (and that are now marked).
    pub tasks: usize,
    /// Tasks held but left for a later sweep: an object could not be deleted.
    pub tasks_left: usize,
    /// Previews deleted.
    pub previews: usize,
    /// Scratch files deleted.
    pub scratch: usize,
}

/// The message a task whose objects retention deleted carries, in its progress
/// (`output_expired.message`) and in the 410 of a download.
pub fn expired_message(at: &str) -> String {
    format!(
        "The output of this task was deleted on {at} by the server's retention policy \
         (--retention-days); create the task again to render it anew"
    )
}

/// When retention deleted `file` (a name under `/media/outputs/`), if it did: the file must be
/// one of the objects of a task (by its name, [`task_of_object`]) that is marked expired.
pub async fn expired_object(store: &Store, file: &str) -> Result<Option<String>, StoreError> {
    let Some(id) = task_of_object(file) else { return Ok(None) };
    let Some(row) = store.task(id).await? else { return Ok(None) };
    let names = object_names(row.output_file.as_deref(), row.thumbnail_file.as_deref(), row.subtitles_file.as_deref());
    Ok(row.output_expired_at.filter(|_| names.iter().any(|n| n == file)))
}

/// A node's sweeper.
#[derive(Clone)]
pub struct Retention {
    store: Store,
    objects: Objects,
    days: u32,
    scratch: PathBuf,
}

impl Retention {
    /// Delete what is older than `days` from `objects` (tasks of `store`) and from the scratch
    /// folder `scratch`.
    pub fn new(store: Store, objects: Objects, days: u32, scratch: PathBuf) -> Retention {
        Retention { store, objects, days, scratch }
    }

    /// The sweeper of a node with `--retention-days` set, started ([`Retention::spawn`]);
    /// `None` when outputs are kept forever.
    pub fn start(config: &ServerConfig, store: &Store, objects: &Objects) -> Option<JoinHandle<()>> {
        let days = config.retention_days?;
        Some(Retention::new(store.clone(), objects.clone(), days, config.tmp_dir()).spawn())
    }

    /// Sweep now, then every [`SWEEP_EVERY`], until the handle is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match self.sweep(Utc::now()).await {
                    Ok(swept) if swept != Swept::default() => {
                        tracing::info!(days = self.days, ?swept, "retention: old outputs deleted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "retention sweep stopped; the next one goes on"),
                }
            }
        })
    }

    /// One sweep as if the time were `now`: everything older than `now - days` goes.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Swept, RetentionError> {
        let cutoff = now - chrono::Duration::days(i64::from(self.days));
        let mut swept = Swept::default();
        let hold = LeaseTerms {
            now_ms: now.timestamp_millis(),
            lease_ms: i64::try_from(HOLD.as_millis()).unwrap_or(i64::MAX),
        };
        loop {
            let held = self.store.claim_expired_outputs(&rfc3339(cutoff), hold, BATCH).await?;
            if held.is_empty() {
                break;
            }
            for task in &held {
                if self.delete_objects(task).await {
                    self.store.mark_output_expired(&task.id, &rfc3339(now)).await?;
                    swept.tasks += 1;
                } else {
                    swept.tasks_left += 1;
                }
            }
        }
        swept.previews = self.objects.delete_older(PREVIEWS, cutoff).await.map_err(RetentionError::Previews)?.len();
        swept.scratch = self.delete_scratch(cutoff).await?;
        Ok(swept)
    }

    /// Delete a held task's objects; false (logged) when one could not be.
    async fn delete_objects(&self, task: &TaskRow) -> bool {
        let names =
            object_names(task.output_file.as_deref(), task.thumbnail_file.as_deref(), task.subtitles_file.as_deref());
        let mut all = true;
        for name in &names {
            if let Err(e) = self.objects.delete(OUTPUTS, name).await {
                tracing::warn!(task_id = %task.id, file = %name, error = %e, "retention: cannot delete; a later sweep tries again");
                all = false;
            }
        }
        all
    }

    /// Delete this node's scratch files last modified before `cutoff`.
    async fn delete_scratch(&self, cutoff: DateTime<Utc>) -> Result<usize, RetentionError> {
        let err = |source| RetentionError::Scratch { path: self.scratch.display().to_string(), source };
        let mut entries = match tokio::fs::read_dir(&self.scratch).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(err(e)),
        };
        let mut n = 0;
        while let Some(entry) = entries.next_entry().await.map_err(err)? {
            let Ok(meta) = entry.metadata().await else { continue };
            let old = meta.modified().map(DateTime::<Utc>::from).is_ok_and(|m| m < cutoff);
            if meta.is_file() && old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }
}
