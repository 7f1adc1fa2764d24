//! Retention (`--retention-days N`): what a node deletes once it is N days old, and what a
//! client is told afterwards; and the sweep of orphaned split-render parts, which every node
//! runs with or without `--retention-days`.
//!
//! A sweep runs on every node, once at start and then every [`SWEEP_EVERY`]. With
//! `--retention-days N` it deletes, from the object store (a folder or a bucket, through
//! [`Objects`]):
//! - the output, poster and caption sidecars of every task that completed more than N days ago.
//!   The store hands each such task to one sweep only ([`Store::claim_expired_outputs`]: a hold
//!   of [`HOLD`]), the sweep deletes its objects, then marks the task
//!   ([`Store::mark_output_expired`]); a sweep that dies or cannot delete leaves its hold to run
//!   out, and a later sweep (of any node) takes the task over. Deleting is idempotent, so two
//!   sweeps never conflict. The task stays `completed`; its row says when its objects went.
//! - the files of every AI job that succeeded more than N days ago, by the same rule on the
//!   job's row ([`Store::claim_expired_ai_outputs`], [`Store::mark_ai_output_expired`]); a job
//!   whose result is a provider's URLs has nothing here and is left alone. The job stays
//!   `success`.
//! - previews and fetched media (`media/`, kept by content and shared by jobs) last modified
//!   more than N days ago (they have no row: the listing's times decide; an object another
//!   node deleted first is skipped);
//! - this node's scratch files in `tmp/` older than N days (renders before upload, downloads
//!   for exports; a render never lasts a day, so none of them is in use).
//!
//! Afterwards the task's progress (the AI job's status) keeps its status and URLs and adds
//! `output_expired` ([`expired_message`]); a download of one of its objects answers 410
//! `OUTPUT_EXPIRED` with the same message ([`expired_object`], used by `routes::media`).
//!
//! Without `--retention-days` a sweep deletes only orphaned parts ([`Retention::sweep`]): a
//! `parts/` object whose video task has ended (a node that died coordinating a split video that
//! then ended elsewhere leaves them), never one of a video that is pending or processing; an
//! object that names no known part (or a hidden copy on its way in) goes once it is
//! [`STRAY_PARTS_AFTER`] old.
//!
//! Enter: [`Retention::spawn`] at node start, or [`Retention::sweep`] with a clock (tests).
//! Leave: deleted objects and files, marked tasks and jobs, a [`Swept`] count.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::jobs::{object_names, task_of_object};
use crate::objects::{Objects, ObjectsError, MEDIA, OUTPUTS, PARTS, PREVIEWS};
use crate::store::{rfc3339, AiJobRow, LeaseTerms, Store, StoreError, TaskRow};

/// How often a node sweeps (and once at its start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How long a sweep holds a task while it deletes its objects; after that another sweep may
/// take it over.
pub const HOLD: Duration = Duration::from_secs(600);

/// Tasks held per store round trip.
const BATCH: u32 = 100;

/// How old an object under `parts/` that names no known part task must be before a sweep
/// deletes it (a part's own object is decided by its video's state, at any age).
pub const STRAY_PARTS_AFTER: Duration = Duration::from_secs(24 * 3600);

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
    /// Old fetched media could not be listed or deleted.
    #[error("retention: cannot delete old fetched media: {0}")]
    Media(#[source] ObjectsError),
    /// Orphaned parts could not be listed or deleted.
    #[error("retention: cannot delete orphaned parts: {0}")]
    Parts(#[source] ObjectsError),
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
    /// AI jobs whose files were deleted (and that are now marked).
    pub ai_jobs: usize,
    /// AI jobs held but left for a later sweep: a file could not be deleted.
    pub ai_jobs_left: usize,
    /// Previews deleted.
    pub previews: usize,
    /// Fetched media (`media/`) deleted.
    pub media: usize,
    /// Orphaned part objects (`parts/`) deleted.
    pub parts: usize,
    /// Scratch files deleted.
    pub scratch: usize,
}

/// What retention deleted the files of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// A video task (`output_expired` in its progress).
    Task,
    /// An AI job (`output_expired` in its status).
    AiJob,
}

/// The message a task or AI job whose files retention deleted on `at` carries
/// (`output_expired.message`), and the 410 of a download of one of them.
pub fn expired_message(what: Expired, at: &str) -> String {
    let (what, again) = match what {
        Expired::Task => ("task", "create the task again to render it anew"),
        Expired::AiJob => ("AI job", "create the job again to generate it anew"),
    };
    format!(
        "The output of this {what} was deleted on {at} by the server's retention policy (--retention-days); {again}"
    )
}

/// The message of the 410 for `file` (a name under `/media/outputs/`), when retention deleted
/// it: the file must be one of the objects of a task (by its name, [`task_of_object`]) or of
/// an AI job ([`crate::ai::job_of_object`]) that is marked expired.
pub async fn expired_object(store: &Store, file: &str) -> Result<Option<String>, StoreError> {
    if let Some(job) = crate::ai::job_of_object(file) {
        let Some(row) = store.ai_job(job).await? else { return Ok(None) };
        let named = crate::ai::result_files(row.result.as_ref()).contains(&file);
        return Ok(row.output_expired_at.filter(|_| named).map(|at| expired_message(Expired::AiJob, &at)));
    }
    let Some(id) = task_of_object(file) else { return Ok(None) };
    let Some(row) = store.task(id).await? else { return Ok(None) };
    let names = object_names(row.output_file.as_deref(), row.thumbnail_file.as_deref(), row.subtitles_file.as_deref());
    let named = names.iter().any(|n| n == file);
    Ok(row.output_expired_at.filter(|_| named).map(|at| expired_message(Expired::Task, &at)))
}

/// A node's sweeper.
#[derive(Clone)]
pub struct Retention {
    store: Store,
    objects: Objects,
    days: Option<u32>,
    scratch: PathBuf,
}

impl Retention {
    /// Delete orphaned parts, and with `days` what is older than `days` from `objects` (tasks
    /// and AI jobs of `store`) and from the scratch folder `scratch`.
    pub fn new(store: Store, objects: Objects, days: Option<u32>, scratch: PathBuf) -> Retention {
        Retention { store, objects, days, scratch }
    }

    /// The sweeper of a node, started ([`Retention::spawn`]): with `--retention-days` it
    /// deletes old outputs; on every node it deletes orphaned parts.
    pub fn start(config: &ServerConfig, store: &Store, objects: &Objects) -> JoinHandle<()> {
        Retention::new(store.clone(), objects.clone(), config.retention_days, config.tmp_dir()).spawn()
    }

    /// Sweep now, then every [`SWEEP_EVERY`], until the handle is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match self.sweep(Utc::now()).await {
                    Ok(swept) => {
                        if swept.parts > 0 {
                            tracing::info!(parts = swept.parts, "orphaned split-render parts deleted");
                        }
                        let outputs = Swept { parts: 0, ..swept };
                        if outputs != Swept::default() {
                            tracing::info!(days = ?self.days, swept = ?outputs, "retention: old outputs deleted");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "retention sweep stopped; the next one goes on"),
                }
            }
        })
    }

    /// One sweep as if the time were `now`: orphaned parts go, and with `--retention-days`
    /// everything older than `now - days`.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Swept, RetentionError> {
        let mut swept = Swept { parts: self.sweep_parts(now).await?, ..Swept::default() };
        let Some(days) = self.days else { return Ok(swept) };
        let cutoff = now - chrono::Duration::days(i64::from(days));
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
        loop {
            let held = self.store.claim_expired_ai_outputs(&rfc3339(cutoff), hold, BATCH).await?;
            if held.is_empty() {
                break;
            }
            for job in &held {
                if self.delete_ai_files(job).await {
                    self.store.mark_ai_output_expired(job.id, &rfc3339(now)).await?;
                    swept.ai_jobs += 1;
                } else {
                    swept.ai_jobs_left += 1;
                }
            }
        }
        swept.previews = self.objects.delete_older(PREVIEWS, cutoff).await.map_err(RetentionError::Previews)?.len();
        swept.media = self.objects.delete_older(MEDIA, cutoff).await.map_err(RetentionError::Media)?.len();
        swept.scratch = self.delete_scratch(cutoff).await?;
        Ok(swept)
    }

    /// Delete the `parts/` objects no video needs any more: those of a part task whose video
    /// has ended, a video's media manifest once it has ended, and those that name no known
    /// task once they are [`STRAY_PARTS_AFTER`] old.
    /// A part of a video that is pending (given back: its completed parts wait for the next
    /// attempt) or processing is kept.
    async fn sweep_parts(&self, now: DateTime<Utc>) -> Result<usize, RetentionError> {
        let stray_before = now - chrono::Duration::from_std(STRAY_PARTS_AFTER).unwrap_or(chrono::Duration::MAX);
        let mut n = 0;
        for object in self.objects.list(PARTS).await.map_err(RetentionError::Parts)? {
            let video = match task_of_object(&object.name) {
                Some(id) => match self.store.video_status_of_part(id).await? {
                    Some(status) => Some(status),
                    // A video's own object under parts/: its media manifest (`jobs::prepare`).
                    None => self.store.task_any(id).await?.map(|video| video.status),
                },
                None => None,
            };
            let orphan = match video {
                Some(status) => status.is_terminal(),
                None => object.modified < stray_before,
            };
            if orphan {
                self.objects.delete_listed(PARTS, &object.name).await.map_err(RetentionError::Parts)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Delete a held AI job's files; false (logged) when one could not be.
    async fn delete_ai_files(&self, job: &AiJobRow) -> bool {
        let mut all = true;
        for name in crate::ai::result_files(job.result.as_ref()) {
            if let Err(e) = self.objects.delete(OUTPUTS, name).await {
                tracing::warn!(job_id = job.id, file = %name, error = %e, "retention: cannot delete; a later sweep tries again");
                all = false;
            }
        }
        all
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
