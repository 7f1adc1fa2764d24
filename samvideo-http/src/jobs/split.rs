//! One video rendered as parts by any workers (`--split-renders`; docs/scale-out.md "One render
//! split across workers").
//!
//! The worker that claims a video task coordinates it, on a task of its own beside its worker
//! loop (which meanwhile claims parts only): it holds the video's lease like any render
//! ([`Jobs::hold`]), prepares the media (`prepare.rs`: each media URL fetched once through the
//! server's fetcher into `media/SHA256`, a manifest URL → digest under `parts/`, the plan
//! lowered meanwhile; a manifest an earlier coordinator wrote is reused), and queues one part
//! task per [`PartId::all`] (`Store::add_parts`: each segment, the audio; parts an earlier attempt
//! completed are kept). Any worker claims a part like any task — same claim, heartbeat, fencing
//! token, progress and fenced end ([`Jobs::run`]) — renders it with
//! `samvideo_core::render::parts::render_part`, reading the media from `media/` through the
//! manifest (never from the origin), and puts the part file (and, for the segment that
//! holds the poster frame, the poster) under `parts/PART_TASK-ATTEMPT`. A part's worker that
//! dies leaves its lease to run out; another worker claims that part again, and only it.
//!
//! The coordinator polls the parts: the video's progress is the frames done over all parts (the
//! audio weighs as one average segment), capped below 1 until the end. A part that ends failed
//! fails the video with its reason. Once every part is completed it downloads them into scratch,
//! calls `finalize` through the prepared media (the bytes of an in-process render), keeps the MP4,
//! poster and caption sidecars as an in-process render does ([`Jobs::keep`] and its retries), and
//! ends the video through the same fenced write, so its hook (exports, webhooks) runs once. Then
//! the part objects and the manifest are deleted (the media stay: a cache by content across
//! videos). A cancel of the video stops its parts' workers through their heartbeat (a part's lease
//! is renewed only while its video is `processing`); the coordinator then deletes the parts'
//! objects and ends the parts not yet ended. A coordinator that dies leaves the video's lease to
//! run out; the worker that claims it next queues nothing new and waits for the same parts, reading
//! the media through the manifest it finds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use samvideo_core::media::MediaSource;
use samvideo_core::plan::RenderPlan;
use samvideo_core::render::parts::{self, finalize, PartError, PartId};
use samvideo_core::render::{plan_request, RenderOptions, RenderSummary};
use samvideo_core::request::CreateRequest;

use super::lease::Unkept;
use super::prepare::{self, PrepareError, Prepared, Recording};
use super::{Files, Jobs, Running, Stop};
use crate::objects::{ObjectsError, OUTPUTS, PARTS};
use crate::store::{NewPart, PartRow, StoreError, TaskKind, TaskRow, TaskStatus, TaskUpdate};

/// How often the coordinator reads its parts.
const POLL: Duration = Duration::from_millis(200);

/// Why a split video could not be made.
#[derive(Debug, thiserror::Error)]
enum SplitError {
    /// The request could not be lowered into a plan, or one of its media items could not be
    /// fetched or read (the message names the item, as an in-process render's does).
    #[error("{0}")]
    Plan(String),
    /// A part ended without its file.
    #[error("{part}: {reason}")]
    Part {
        /// The part's name (`segment:K`, `audio`).
        part: String,
        /// Its error.
        reason: String,
    },
    /// A completed part row names no file.
    #[error("part {0} is completed without a file")]
    NoFile(String),
    /// The finalize refused the parts or could not write the MP4.
    #[error("cannot join the parts: {0}")]
    Finalize(#[source] PartError),
    /// A part could not be fetched from the object store.
    #[error("cannot fetch the part file {name}: {source}")]
    Fetch {
        /// Its object name under `parts/`.
        name: String,
        /// The store's error.
        source: ObjectsError,
    },
    /// Scratch space failed.
    #[error("cannot write {path}: {source}")]
    Scratch {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    /// The prepared media could not be kept or read.
    #[error("{0}")]
    Prepare(#[from] PrepareError),
    /// A blocking thread died (details in the log).
    #[error("render crashed (internal error; the server log has details)")]
    Crashed,
}

/// How a coordination left its video.
enum Outcome {
    /// Finalized and kept: the end to write.
    Done(TaskUpdate),
    /// Stopped by cancel, timeout, shutdown or a lost lease (the reason is in `Running`).
    Stopped,
    /// Finalized, but the MP4 could not be kept.
    Unstored(ObjectsError),
}

/// The name a part task carries: `segment:K` or `audio` (what `PartId` parses).
fn part_name(part: PartId) -> String {
    match part {
        PartId::Segment(k) => format!("segment:{k}"),
        PartId::Audio => "audio".into(),
    }
}

impl Jobs {
    /// Coordinate the split render of the claimed video `task` (see the module doc).
    pub(super) async fn split(self, task: TaskRow) {
        let Some((request, running, _heartbeat)) = self.hold(&task).await else { return };
        let id = task.id.clone();
        let outcome = self.coordinate(&task, request, &running).await;
        self.unregister(&id);
        let seconds = running.started.elapsed().as_secs_f64();
        match outcome {
            Ok(Outcome::Done(update)) => {
                if self.end(&task, update.clone()).await {
                    self.remove_parts(&id).await;
                } else {
                    tracing::warn!(task_id = %id, attempt = task.attempts, "result refused (no longer this attempt's task); objects deleted");
                    self.remove_objects(OUTPUTS, &update).await;
                    self.remove_parts_if_ended(&id).await;
                }
            }
            Ok(Outcome::Unstored(e)) => {
                self.unstored(&task, Unkept::Output, &e).await;
                self.remove_parts_if_ended(&id).await;
            }
            Ok(Outcome::Stopped) => match running.stop(Stop::Cancel) {
                Stop::Cancel => {
                    self.count_end(task.kind, TaskStatus::Cancelled, seconds);
                    self.after_stop(&id, TaskStatus::Cancelled).await;
                    self.remove_parts(&id).await;
                }
                Stop::Timeout => {
                    let inactivity = self.inner.config.inactivity_timeout.as_secs_f64();
                    let mut u = TaskUpdate::ended(
                        TaskStatus::Timeout,
                        format!("No progress for {inactivity} seconds (inactivity timeout)"),
                    );
                    u.render_seconds = Some(seconds);
                    self.end(&task, u).await;
                    self.remove_parts_if_ended(&id).await;
                }
                Stop::Shutdown => {}
                Stop::Lost => {
                    tracing::warn!(task_id = %id, attempt = task.attempts, "lease lost: split render left");
                    self.remove_parts_if_ended(&id).await;
                }
            },
            // The bucket failed while the prepare kept the media or its manifest: back to the
            // queue like an output that could not be stored (the media already kept stay).
            Err(SplitError::Prepare(e)) if running.reason().is_none() && e.is_store_failure() => {
                self.unstored(&task, Unkept::Media, &e).await;
                self.remove_parts_if_ended(&id).await;
            }
            Err(e) if running.reason().is_none() => {
                tracing::warn!(task_id = %id, error = %e, "split render failed");
                let mut u = TaskUpdate::ended(TaskStatus::Failed, e.to_string());
                u.render_seconds = Some(seconds);
                self.end(&task, u).await;
                self.remove_parts_if_ended(&id).await;
            }
            Err(e) => {
                tracing::warn!(task_id = %id, error = %e, "split render stopped");
                self.remove_parts_if_ended(&id).await;
            }
        }
    }

    /// Queue the parts, wait for them, finalize and keep the video.
    async fn coordinate(
        &self,
        task: &TaskRow,
        request: CreateRequest,
        running: &Arc<Running>,
    ) -> Result<Outcome, SplitError> {
        let request = Arc::new(request);
        let Some((plan, source)) = self.prepare(task, &request, running).await? else {
            return Ok(Outcome::Stopped);
        };
        let ids = PartId::all(&plan);
        let segments = u64::try_from(ids.len().saturating_sub(1).max(1)).unwrap_or(1);
        let parts = ids
            .iter()
            .map(|&p| {
                let frames = match p {
                    PartId::Audio => plan.frame_count / segments,
                    _ => p.frames(&plan),
                };
                NewPart { part: part_name(p), frames: i64::try_from(frames).unwrap_or(i64::MAX) }
            })
            .collect();
        self.inner.store.add_parts(&task.id, parts).await?;
        self.inner.wake.notify_waiters();
        tracing::info!(task_id = %task.id, parts = ids.len(), "split render: parts queued");

        let Some(rows) = self.wait_for_parts(task, running).await? else {
            return Ok(Outcome::Stopped);
        };

        let files = Files::new(&self.inner.config, task, task.attempts);
        let dir = self.inner.config.tmp_dir().join(format!("{}-{}.parts", task.id, task.attempts));
        let joined = self.join(&request, source, &rows, &dir, &files, running).await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let summary = match joined {
            Ok(s) => s,
            Err(e) => {
                files.remove_scratch().await;
                return Err(e);
            }
        };
        if running.reason().is_some() {
            files.remove_scratch().await;
            return Ok(Outcome::Stopped);
        }
        let keeping = std::time::Instant::now();
        let kept = self.keep_retrying(&files, running).await;
        tracing::info!(task_id = %task.id, seconds = keeping.elapsed().as_secs_f64(), "split render: video kept");
        match kept {
            Ok(kept) => Ok(Outcome::Done(TaskUpdate {
                status: TaskStatus::Completed,
                error: None,
                duration: summary.duration_secs,
                size_bytes: i64::try_from(summary.size_bytes).unwrap_or(i64::MAX),
                output_file: Some(files.video_name.clone()),
                thumbnail_file: kept.poster,
                subtitles_file: kept.subtitles,
                render_seconds: Some(running.started.elapsed().as_secs_f64()),
            })),
            Err(e) => {
                files.remove_scratch().await;
                Ok(Outcome::Unstored(e))
            }
        }
    }

    /// The prepare step (`prepare.rs`): the plan, and the source the parts and the finalize
    /// read the video's media through. A manifest an earlier coordinator wrote is reused (nothing
    /// fetched); else every media URL is fetched once through the server's fetcher while the
    /// request is lowered and its media checked, kept under `media/` by digest, and the manifest
    /// written. None when the coordination was stopped meanwhile (nothing written then).
    async fn prepare(
        &self,
        task: &TaskRow,
        request: &Arc<CreateRequest>,
        running: &Arc<Running>,
    ) -> Result<Option<(RenderPlan, Arc<dyn MediaSource>)>, SplitError> {
        let started = std::time::Instant::now();
        let objects = &self.inner.objects;
        let found = prepare::read_manifest(objects, &task.id).await?;
        let reused = found.is_some();
        let options = self.inner.config.render_options(running.cancel.clone());
        let req = request.clone();
        let crashed = |e: tokio::task::JoinError| {
            tracing::error!(task_id = %task.id, error = %e, "prepare crashed");
            SplitError::Crashed
        };
        let runtime = tokio::runtime::Handle::current();
        let (plan, manifest) = match found {
            Some(manifest) => {
                let source: Arc<dyn MediaSource> =
                    Arc::new(Prepared::new(manifest.clone(), objects.clone(), runtime.clone()));
                let plan = tokio::task::spawn_blocking(move || plan_request(&req, source, &options))
                    .await
                    .map_err(crashed)?
                    .map_err(|e| SplitError::Plan(e.to_string()))?;
                (plan, manifest)
            }
            None => {
                let recording = Arc::new(Recording::new(self.inner.source.clone()));
                let source: Arc<dyn MediaSource> = recording.clone();
                let plan = tokio::task::spawn_blocking(move || parts::prepare(&req, source, &options))
                    .await
                    .map_err(crashed)?
                    .map_err(|e| SplitError::Plan(e.to_string()))?;
                let held = || running.reason().is_none();
                match prepare::keep_media(objects, &task.id, recording.take(), held).await? {
                    Some(manifest) => (plan, manifest),
                    None => return Ok(None),
                }
            }
        };
        tracing::info!(
            task_id = %task.id,
            media = manifest.media.len(),
            reused,
            seconds = started.elapsed().as_secs_f64(),
            "split render: media prepared"
        );
        Ok(Some((plan, Arc::new(Prepared::new(manifest, objects.clone(), runtime)))))
    }

    /// Poll the parts of `task` until all are completed (their rows), one failed (an error), or
    /// the coordination is stopped (None). Persists the video's progress meanwhile.
    async fn wait_for_parts(&self, task: &TaskRow, running: &Arc<Running>) -> Result<Option<Vec<PartRow>>, SplitError> {
        let progress = self.progress_fn(&task.id, task.attempts, running);
        let inactivity = self.inner.config.inactivity_timeout;
        let mut shutdown = self.inner.shutdown.subscribe();
        let mut shown = -1.0;
        loop {
            if running.reason().is_some() {
                return Ok(None);
            }
            if running.idle_for() >= inactivity {
                running.stop(Stop::Timeout);
                return Ok(None);
            }
            let rows = self.inner.store.parts_of(&task.id).await?;
            if let Some(bad) = rows.iter().find(|r| r.status.is_terminal() && r.status != TaskStatus::Completed) {
                return Err(SplitError::Part {
                    part: bad.part.clone(),
                    reason: bad.error.clone().unwrap_or_else(|| bad.status.as_str().into()),
                });
            }
            if rows.iter().all(|r| r.status == TaskStatus::Completed) {
                return Ok(Some(rows));
            }
            let total: f64 = rows.iter().map(|r| r.frames as f64).sum();
            let done: f64 = rows
                .iter()
                .map(|r| r.frames as f64 * if r.status == TaskStatus::Completed { 1.0 } else { r.progress })
                .sum();
            let value = if total > 0.0 { (done / total).min(0.99) } else { 0.0 };
            if value != shown {
                shown = value;
                let f = progress.clone();
                let _ = tokio::task::spawn_blocking(move || f(value)).await;
            }
            tokio::select! {
                _ = shutdown.changed() => {
                    running.stop(Stop::Shutdown);
                }
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Download the completed parts into `dir` (and the poster, when a segment made one), then
    /// finalize the MP4 and its caption sidecars into `files`' scratch paths.
    async fn join(
        &self,
        request: &Arc<CreateRequest>,
        source: Arc<dyn MediaSource>,
        rows: &[PartRow],
        dir: &Path,
        files: &Files,
        running: &Arc<Running>,
    ) -> Result<RenderSummary, SplitError> {
        let scratch = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SplitError::Scratch { path, source }
        };
        tokio::fs::create_dir_all(dir).await.map_err(scratch(dir))?;
        let fetching = std::time::Instant::now();
        let tmp = self.inner.config.tmp_dir();
        for row in rows {
            let part: PartId =
                row.part.parse().map_err(|reason| SplitError::Part { part: row.part.clone(), reason })?;
            let name = row.output_file.as_deref().ok_or_else(|| SplitError::NoFile(row.part.clone()))?;
            self.fetch(name, &tmp, &dir.join(part.file_name())).await?;
            if let Some(poster) = row.thumbnail_file.as_deref() {
                self.fetch(poster, &tmp, &files.poster).await?;
            }
        }
        let options = RenderOptions {
            subtitles_vtt: Some(files.vtt.clone()),
            subtitles_srt: Some(files.srt.clone()),
            ..self.inner.config.render_options(running.cancel.clone())
        };
        let (request, dir, out) = (request.clone(), dir.to_path_buf(), files.video.clone());
        let started = std::time::Instant::now();
        let summary = tokio::task::spawn_blocking(move || finalize(&request, source, &dir, &out, &options))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "finalize crashed");
                SplitError::Crashed
            })?
            .map_err(SplitError::Finalize)?;
        tracing::info!(
            download_seconds = started.duration_since(fetching).as_secs_f64(),
            finalize_seconds = started.elapsed().as_secs_f64(),
            "split render: parts joined"
        );
        Ok(summary)
    }

    /// Copy the object `parts/name` to the local file `to` (through `tmp` for a bucket).
    async fn fetch(&self, name: &str, tmp: &Path, to: &Path) -> Result<(), SplitError> {
        let fetch = |source| SplitError::Fetch { name: name.to_owned(), source };
        let copy = self.inner.objects.local_copy(PARTS, name, tmp).await.map_err(fetch)?;
        tokio::fs::copy(copy.path(), to)
            .await
            .map_err(|source| SplitError::Scratch { path: to.to_path_buf(), source })?;
        Ok(())
    }

    /// The video `parent` ended or was given back: delete its parts' objects once it has ended
    /// (a video given back keeps its completed parts for the next attempt).
    async fn remove_parts_if_ended(&self, parent: &str) {
        match self.inner.store.task(parent).await {
            Ok(Some(row)) if row.status.is_terminal() => self.remove_parts(parent).await,
            Ok(_) => {}
            Err(e) => tracing::warn!(task_id = parent, error = %e, "cannot read the task; its parts are left"),
        }
    }

    /// Delete the part objects of the ended video `parent` (those of every attempt) and end its parts not yet ended (they
    /// are never claimed again anyway: their video is not `processing`).
    async fn remove_parts(&self, parent: &str) {
        let rows = match self.inner.store.parts_of(parent).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(task_id = parent, error = %e, "cannot list the parts; their objects are left");
                return;
            }
        };
        let manifest = prepare::manifest_name(parent);
        if let Err(e) = self.inner.objects.delete(PARTS, &manifest).await {
            tracing::warn!(file = manifest, error = %e, "cannot delete the media manifest");
        }
        for row in rows {
            // Every attempt's names: a worker that died between its put and its end left its
            // attempt's objects unrecorded.
            for attempt in 1..=row.attempts {
                let (_, file) = super::queued::object(TaskKind::Part, &row.id, None, attempt);
                for name in [super::thumbnail_name(&file), file] {
                    if let Err(e) = self.inner.objects.delete(PARTS, &name).await {
                        tracing::warn!(file = name, error = %e, "cannot delete a part object");
                    }
                }
            }
            if !row.status.is_terminal() {
                let ended = TaskUpdate::ended(TaskStatus::Cancelled, "its video ended");
                if let Err(e) = self.inner.store.end_task(&row.id, ended).await {
                    tracing::warn!(task_id = %row.id, error = %e, "cannot end a part");
                }
            }
        }
    }
}
