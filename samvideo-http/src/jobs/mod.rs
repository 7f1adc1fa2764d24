//! The render queue and its workers.
//!
//! The queue is durable: it is the `pending` rows of the `tasks` table, taken oldest first by
//! [`Store::claim_next_task`], with the `processing` ones whose lease ran out (their worker
//! died or froze; [`lease`]). `workers` async loops each claim a task (an API node started
//! with `--workers 0` runs none; `samvideo work` runs only these), re-parse its stored
//! request, and run `samvideo_core::render::render_to_file` on a blocking thread into a
//! scratch file in `tmp/`; a finished file is put into the object store ([`Objects`]) under a
//! name of its attempt (`ID.mp4`, a rescued attempt `ID-N.mp4`), then the task's end is
//! written under the attempt's fencing token. A worker whose token no longer holds the task
//! has its result refused and its objects deleted. Progress from the render thread is
//! persisted (throttled) as it moves, under the same token.
//!
//! A put that fails is tried again after each wait of `upload_retries` while the heartbeat
//! keeps the lease; a worker that still cannot store its result gives the task back to the
//! queue with the reason ([`lease::unstored`]: until `max_attempts` claims are used, then it
//! fails) and waits [`GIVE_BACK_PAUSE`] before its next claim, so another worker may take it.
//!
//! Every running task has a `Running` entry holding its cancel token and a [`lease::Heartbeat`]
//! renewing its lease. A cancel on this node writes `cancelled` at once and sets the token (the
//! renderer checks it between frames); a cancel on another node reaches the worker through the
//! heartbeat, which finds the task no longer its own; a task that reports no progress within
//! the inactivity window ends `timeout` the same way.
//!
//! A task's [`TaskKind`] says what it is for: a user's video (output, poster and sidecars under
//! `outputs/`, hooks run at its end), or a preview or an AI render an API-only node queued and
//! waits for ([`queued`]: the output alone, in the kind's folder, no hook).
//!
//! On start, [`Jobs::recover`] re-queues tasks this node's dead process left `processing`
//! (until they have used `max_attempts`, then they fail with a reason) and empties `tmp/`.
//!
//! Enter: [`Jobs::wake`] after a task row is inserted, [`Jobs::cancel`], [`Jobs::preview`].
//! Leave: task rows in the store, objects, [`hooks::TaskHook`] calls.

pub mod hooks;
pub mod lease;
mod prepare;
pub mod queued;
pub mod source;
mod split;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use samvideo_core::media::MediaSource;
use samvideo_core::render::parts::{render_part, PartId};
use samvideo_core::render::{render_to_file, CancelToken, RenderError, RenderOptions, RenderSummary};
use samvideo_core::request::{CreateRequest, Endpoint, Exports};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::objects::{Objects, OUTPUTS, PREVIEWS};
use crate::store::{NewTask, Store, StoreError, TaskKind, TaskRow, TaskStatus, TaskUpdate};
use hooks::{FinishedTask, TaskHook};

/// Why a running render was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancel,
    Timeout,
    Shutdown,
    /// The heartbeat found the task no longer this worker's (cancelled on another node, or
    /// claimed again after the lease ran out): whoever changed the row reported it.
    Lost,
}

/// A task a worker is rendering now.
struct Running {
    /// Seen by the renderer between frames.
    cancel: CancelToken,
    /// Set once, by whoever stops the render first.
    reason: Mutex<Option<Stop>>,
    /// Milliseconds since `started` at the last progress report (inactivity watchdog).
    last_progress_ms: AtomicU64,
    /// When the worker started it.
    started: Instant,
    /// The process's CPU seconds then ([`process_cpu_seconds`]).
    cpu_started: Option<f64>,
    /// Last persisted (time, value), for throttling writes.
    persisted: Mutex<(Instant, f64)>,
    /// A part of a split video: not a render of its own in the metrics ([`Jobs::active`]).
    part: bool,
}

impl Running {
    fn new(part: bool) -> Self {
        let now = Instant::now();
        Running {
            part,
            cancel: CancelToken::new(),
            reason: Mutex::new(None),
            last_progress_ms: AtomicU64::new(0),
            started: now,
            cpu_started: process_cpu_seconds(),
            persisted: Mutex::new((now, 0.0)),
        }
    }

    /// Record the first stop reason and set the token. Returns the reason in force.
    fn stop(&self, why: Stop) -> Stop {
        let mut r = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        let reason = *r.get_or_insert(why);
        self.cancel.cancel();
        reason
    }

    fn reason(&self) -> Option<Stop> {
        *self.reason.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// What [`Jobs::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The task is now `cancelled` (a running render stops within a frame).
    Cancelled,
    /// The task had already ended in this state.
    AlreadyEnded(TaskStatus),
}

/// Why a preview produced no file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The renderer failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// It took longer than the preview time limit.
    #[error("preview took longer than {0} s")]
    TimedOut(u64),
    /// The render thread died (the details go to the log, not to the client).
    #[error("preview render crashed (internal error; the server log has details)")]
    Crashed,
    /// The preview could not be kept in the object store.
    #[error("cannot store the preview: {0}")]
    Store(#[source] crate::objects::ObjectsError),
    /// The worker that rendered it (an API-only node queues previews) failed; its message.
    #[error("{0}")]
    Failed(String),
    /// The queue could not take the preview or say how it stands.
    #[error("{0}")]
    Queue(#[source] queued::QueuedError),
}

impl From<queued::QueuedError> for PreviewError {
    fn from(e: queued::QueuedError) -> Self {
        match e {
            queued::QueuedError::Failed(message) => PreviewError::Failed(message),
            queued::QueuedError::TimedOut(secs) => PreviewError::TimedOut(secs),
            other => PreviewError::Queue(other),
        }
    }
}

struct Inner {
    store: Store,
    config: Arc<ServerConfig>,
    metrics: Arc<Metrics>,
    source: Arc<dyn MediaSource>,
    hook: Arc<dyn TaskHook>,
    wake: Notify,
    running: Mutex<HashMap<String, Arc<Running>>>,
    shutdown: watch::Sender<bool>,
    previews: Semaphore,
    objects: Objects,
}

/// Handle to the queue and workers; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

impl Jobs {
    /// A runner over `store`; call [`Jobs::recover`] then [`Jobs::spawn_workers`].
    pub fn new(
        store: Store,
        config: Arc<ServerConfig>,
        metrics: Arc<Metrics>,
        source: Arc<dyn MediaSource>,
        hook: Arc<dyn TaskHook>,
        objects: Objects,
    ) -> Jobs {
        let (shutdown, _) = watch::channel(false);
        Jobs {
            inner: Arc::new(Inner {
                store,
                config,
                metrics,
                source,
                hook,
                wake: Notify::new(),
                running: Mutex::new(HashMap::new()),
                shutdown,
                previews: Semaphore::new(1),
                objects,
            }),
        }
    }

    /// After a restart: re-queue or fail tasks left `processing`, empty `tmp/`.
    pub fn recover(&self) -> Result<(), StoreError> {
        let max = self.inner.config.max_attempts;
        let (requeued, failed) = self.inner.store.blocking().recover_tasks(max)?;
        for id in &requeued {
            tracing::warn!(task_id = %id, "task was processing when the server stopped; re-queued");
        }
        for id in &failed {
            tracing::warn!(task_id = %id, "task was processing when the server stopped too often; failed");
        }
        if let Ok(entries) = std::fs::read_dir(self.inner.config.tmp_dir()) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    /// Start the configured number of worker loops.
    pub fn spawn_workers(&self) -> Vec<JoinHandle<()>> {
        (0..self.inner.config.workers)
            .map(|n| {
                let jobs = self.clone();
                tokio::spawn(async move { jobs.worker_loop(n).await })
            })
            .collect()
    }

    /// A task was queued.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Renders running now on this node: videos (a split video counts once, on the node that
    /// coordinates it), previews and AI renders; parts of split videos are [`Jobs::active_parts`].
    pub fn active(&self) -> usize {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).values().filter(|r| !r.part).count()
    }

    /// Parts of split videos rendering now on this node.
    pub fn active_parts(&self) -> usize {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).values().filter(|r| r.part).count()
    }

    /// Count a task's end in the metrics: one per render a client asked for, so a part of a
    /// split video is not counted (its video is, once, when it ends).
    fn count_end(&self, kind: TaskKind, status: TaskStatus, seconds: f64) {
        if kind != TaskKind::Part {
            self.inner.metrics.render_finished(status, seconds);
        }
    }

    /// Configured workers.
    pub fn workers(&self) -> usize {
        self.inner.config.workers
    }

    /// Stop taking work and stop running renders (their rows stay `processing` and are
    /// recovered on the next start).
    pub fn shutdown(&self) {
        // send_replace, not send: send drops the value when nobody has subscribed yet, and a
        // loop that subscribes later would then never see the shutdown.
        self.inner.shutdown.send_replace(true);
        for r in self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).values() {
            r.stop(Stop::Shutdown);
        }
        self.inner.wake.notify_waiters();
    }

    /// Cancel a pending or running task.
    pub async fn cancel(&self, task_id: &str) -> Result<CancelOutcome, StoreError> {
        let running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).get(task_id).cloned();
        if let Some(r) = &running {
            r.stop(Stop::Cancel);
        }
        let cancelled = TaskUpdate::ended(TaskStatus::Cancelled, "Cancelled by user");
        let (applied, row) = self.inner.store.end_task(task_id, cancelled).await?;
        if applied {
            tracing::info!(task_id, "task cancelled");
            if running.is_none() {
                if let Some(row) = row {
                    self.count_end(row.kind, TaskStatus::Cancelled, 0.0);
                    self.spawn_hook(row);
                }
            }
            return Ok(CancelOutcome::Cancelled);
        }
        let status = row.map(|r| r.status).unwrap_or(TaskStatus::Cancelled);
        Ok(CancelOutcome::AlreadyEnded(status))
    }

    /// Render `task`, a preview of `request` (`task.request_id` is the preview's), bounded by
    /// the preview time limit, and keep it under `previews/`: on an API-only node through the
    /// queue (a worker renders it, [`queued`]), otherwise here, one at a time whatever
    /// `--workers` says. Returns the object's name under `previews/`.
    pub async fn preview(&self, task: NewTask, request: CreateRequest) -> Result<String, PreviewError> {
        let limit = self.inner.config.preview_timeout;
        if queued::through_queue(&self.inner.config) {
            let shutdown = self.inner.shutdown.subscribe();
            let done =
                queued::render(&self.inner.store, task, TaskKind::Preview, Some(limit), || *shutdown.borrow()).await?;
            return Ok(done.file);
        }
        let (_, file) = queued::object(TaskKind::Preview, &task.id, task.request_id.as_deref(), 1);
        self.preview_here(request, &file).await?;
        Ok(file)
    }

    /// Render a preview on this node and keep it as `previews/{file}`.
    async fn preview_here(&self, request: CreateRequest, file: &str) -> Result<RenderSummary, PreviewError> {
        let _permit = self.inner.previews.acquire().await.map_err(|e| {
            tracing::error!(error = %e, "preview slots closed");
            PreviewError::Crashed
        })?;
        let cancel = CancelToken::new();
        let options = RenderOptions { preview: true, ..self.inner.config.render_options(cancel.clone()) };
        let source = self.inner.source.clone();
        let tmp = self.inner.config.tmp_dir().join(format!("{file}.part"));
        let tmp2 = tmp.clone();
        let mut handle = tokio::task::spawn_blocking(move || {
            let r = render_to_file(&request, source, &tmp2, &options);
            if r.is_err() {
                let _ = std::fs::remove_file(&tmp2);
            }
            r
        });
        let limit = self.inner.config.preview_timeout;
        let result = match tokio::time::timeout(limit, &mut handle).await {
            Ok(joined) => joined.map_err(|e| {
                tracing::error!(error = %e, "preview render crashed");
                PreviewError::Crashed
            })?,
            Err(_) => {
                cancel.cancel();
                return Err(PreviewError::TimedOut(limit.as_secs()));
            }
        };
        let summary = result?;
        self.inner.objects.put_file(PREVIEWS, file, &tmp).await.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            PreviewError::Store(e)
        })?;
        Ok(summary)
    }

    async fn worker_loop(self, n: usize) {
        let mut shutdown = self.inner.shutdown.subscribe();
        tracing::debug!(worker = n, "render worker started");
        // The split video this loop coordinates (`--split-renders`): meanwhile it renders parts
        // only, of that video or of any other.
        let mut coordinating: Option<JoinHandle<()>> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let max = self.inner.config.max_attempts;
            let terms = lease::terms(self.inner.config.lease);
            let rule = move |attempts| lease::rescue(attempts, max);
            let parts_only = coordinating.as_ref().is_some_and(|h| !h.is_finished());
            let claimed = if parts_only {
                self.inner.store.claim_next_part(terms, rule).await
            } else {
                self.inner.store.claim_next_task(terms, rule).await
            };
            match claimed {
                Ok(claim) => {
                    for row in claim.failed {
                        tracing::warn!(task_id = %row.id, error = ?row.error, "task's lease ran out too often; failed");
                        self.count_end(row.kind, TaskStatus::Failed, 0.0);
                        self.spawn_hook(row);
                    }
                    if let Some(task) = claim.task {
                        if self.inner.config.split_renders && task.kind == TaskKind::Video {
                            coordinating = Some(tokio::spawn(self.clone().split(task)));
                            continue;
                        }
                        if self.run(task).await == Ran::GaveBack {
                            tokio::select! {
                                _ = shutdown.changed() => {}
                                _ = tokio::time::sleep(GIVE_BACK_PAUSE) => {}
                            }
                        }
                        continue;
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot claim a task"),
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        if let Some(h) = coordinating {
            let _ = h.await;
        }
        tracing::debug!(worker = n, "render worker stopped");
    }

    async fn run(&self, task: TaskRow) -> Ran {
        let id = task.id.clone();
        let token = task.attempts;
        // A part of a split video (`--split-renders`): that part alone, into a part file.
        let part = match task.kind {
            TaskKind::Part => match task.request_id.as_deref().unwrap_or_default().parse::<PartId>() {
                Ok(p) => Some(p),
                Err(msg) => {
                    self.end(&task, TaskUpdate::ended(TaskStatus::Failed, msg)).await;
                    return Ran::Ended;
                }
            },
            _ => None,
        };
        let Some((request, running, _heartbeat)) = self.hold(&task).await else {
            return Ran::Ended;
        };

        let files = Files::new(&self.inner.config, &task, token);
        let options = RenderOptions {
            progress: Some(self.progress_fn(&id, token, &running)),
            preview: task.kind == TaskKind::Preview,
            poster: (files.extras || files.poster_only).then(|| files.poster.clone()),
            subtitles_vtt: files.extras.then(|| files.vtt.clone()),
            subtitles_srt: files.extras.then(|| files.srt.clone()),
            ..self.inner.config.render_options(running.cancel.clone())
        };
        // A part reads its video's prepared media, never the origin.
        let source = match part {
            Some(_) => match self.part_source(&task).await {
                Ok(s) => s,
                Err(e) => {
                    self.unregister(&id);
                    self.end(&task, TaskUpdate::ended(TaskStatus::Failed, e.to_string())).await;
                    return Ran::Ended;
                }
            },
            None => self.inner.source.clone(),
        };
        let video = files.video.clone();
        // Everything the render logs on this thread (e.g. a demuxer's full error, which the
        // task's message leaves out) carries the task id.
        let span = tracing::info_span!("render", task_id = %id);
        let mut handle = tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            let cancel = options.cancel.clone();
            let r = match part {
                Some(part) => render_part(&request, source, part, &video, &options)
                    .map(|s| Rendered { duration_secs: 0.0, size_bytes: s.size_bytes })
                    .map_err(|e| e.to_string()),
                None => render_to_file(&request, source, &video, &options)
                    .map(|s| Rendered { duration_secs: s.duration_secs, size_bytes: s.size_bytes })
                    .map_err(|e| e.to_string()),
            };
            if r.is_err() || cancel.is_cancelled() {
                let _ = std::fs::remove_file(&video);
                for path in [&options.poster, &options.subtitles_vtt, &options.subtitles_srt].into_iter().flatten() {
                    let _ = std::fs::remove_file(path);
                }
            }
            r
        });
        self.finish_run(task, running, files, &mut handle).await
    }

    /// The source a part of a split video reads its media through: the video's manifest served
    /// from `media/` (`prepare.rs`).
    async fn part_source(&self, task: &TaskRow) -> Result<Arc<dyn MediaSource>, prepare::PrepareError> {
        let parent = task.parent_id.as_deref().ok_or_else(|| prepare::PrepareError::NoParent(task.id.clone()))?;
        let manifest = prepare::read_manifest(&self.inner.objects, parent)
            .await?
            .ok_or_else(|| prepare::PrepareError::Missing(prepare::manifest_name(parent)))?;
        let runtime = tokio::runtime::Handle::current();
        Ok(Arc::new(prepare::Prepared::new(manifest, self.inner.objects.clone(), runtime)))
    }

    /// Claimed `task`: re-parse its request, register it as running and start its lease's
    /// heartbeat. None when it ended meanwhile (a bad request fails it here).
    async fn hold(&self, task: &TaskRow) -> Option<(CreateRequest, Arc<Running>, lease::Heartbeat)> {
        let id = task.id.clone();
        // The fencing token: the attempt this claim made (no other claim ever holds it).
        let token = task.attempts;
        tracing::info!(task_id = %id, endpoint = %task.endpoint, kind = task.kind.as_str(), attempt = token, "render started");
        let request = match parse_stored(task) {
            Ok(r) => r,
            Err(msg) => {
                self.end(task, TaskUpdate::ended(TaskStatus::Failed, msg)).await;
                return None;
            }
        };
        let running = Arc::new(Running::new(task.kind == TaskKind::Part));
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), running.clone());
        // A cancel may have landed between the claim and the registration above.
        let live = self.inner.store.task(&id).await;
        if !matches!(live, Ok(Some(ref t)) if t.status == TaskStatus::Processing && t.attempts == token) {
            self.unregister(&id);
            return None;
        }
        let lost = running.clone();
        let heartbeat =
            lease::Heartbeat::start(self.inner.store.clone(), id.clone(), token, self.inner.config.lease, move |_| {
                lost.stop(Stop::Lost);
            });
        match heartbeat {
            Ok(h) => Some((request, running, h)),
            Err(e) => {
                tracing::error!(task_id = %id, error = %e, "cannot start the lease heartbeat");
                self.unregister(&id);
                self.end(task, TaskUpdate::ended(TaskStatus::Failed, "cannot start the lease heartbeat")).await;
                None
            }
        }
    }

    /// Wait for the render thread of a held task, then store its result and end the task, or
    /// stop it (cancel, timeout, shutdown, lost lease).
    async fn finish_run(
        &self,
        task: TaskRow,
        running: Arc<Running>,
        files: Files,
        handle: &mut JoinHandle<Result<Rendered, String>>,
    ) -> Ran {
        let id = task.id.clone();
        let token = task.attempts;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let inactivity = self.inner.config.inactivity_timeout;
        let mut shutdown = self.inner.shutdown.subscribe();
        let joined = loop {
            tokio::select! {
                res = &mut *handle => break Some(res),
                _ = tick.tick() => {
                    if running.reason().is_some() {
                        break None;
                    }
                    if running.idle_for() >= inactivity {
                        running.stop(Stop::Timeout);
                        break None;
                    }
                }
                _ = shutdown.changed() => {
                    running.stop(Stop::Shutdown);
                    break None;
                }
            }
        };
        let seconds = running.started.elapsed().as_secs_f64();
        let cpu = process_cpu_seconds().zip(running.cpu_started).map(|(now, then)| now - then);

        let update = match joined {
            Some(Ok(Ok(summary))) if running.reason().is_none() => match self.keep_retrying(&files, &running).await {
                Ok(kept) => TaskUpdate {
                    status: TaskStatus::Completed,
                    error: None,
                    duration: summary.duration_secs,
                    size_bytes: i64::try_from(summary.size_bytes).unwrap_or(i64::MAX),
                    output_file: Some(files.video_name.clone()),
                    thumbnail_file: kept.poster,
                    subtitles_file: kept.subtitles,
                    render_seconds: Some(seconds),
                },
                Err(e) => {
                    files.remove_scratch().await;
                    self.unregister(&id);
                    return self.unstored(&task, lease::Unkept::Output, &e).await;
                }
            },
            Some(Ok(Err(e))) if running.reason().is_none() => {
                let mut u = TaskUpdate::ended(TaskStatus::Failed, e.to_string());
                u.render_seconds = Some(seconds);
                u
            }
            Some(Err(join)) => {
                // A panic message may quote internals (Debug output, source paths): the log
                // gets it, the task a stable line.
                tracing::error!(task_id = %id, error = %join, "render crashed");
                TaskUpdate::ended(TaskStatus::Failed, "render crashed (internal error; the server log has details)")
            }
            _ => {
                // Stopped by cancel, timeout, shutdown or a lost lease: record it now, then give
                // the render thread a moment to notice the token so the worker slot frees with it.
                let reason = running.stop(Stop::Cancel);
                match reason {
                    Stop::Cancel => {
                        self.count_end(task.kind, TaskStatus::Cancelled, seconds);
                        self.after_stop(&id, TaskStatus::Cancelled).await;
                    }
                    Stop::Timeout => {
                        let msg = format!("No progress for {} seconds (inactivity timeout)", inactivity.as_secs_f64());
                        let mut u = TaskUpdate::ended(TaskStatus::Timeout, msg);
                        u.render_seconds = Some(seconds);
                        self.end(&task, u).await;
                    }
                    Stop::Shutdown => {}
                    Stop::Lost => {
                        tracing::warn!(task_id = %id, attempt = token, "lease lost: render stopped, nothing kept")
                    }
                }
                if joined.is_some() {
                    // The render finished as the stop came: its thread is done (a finished
                    // JoinHandle must not be polled again) and the output it wrote is not kept.
                    files.remove_scratch().await;
                } else if tokio::time::timeout(Duration::from_secs(10), &mut *handle).await.is_err() {
                    tracing::warn!(task_id = %id, "render thread did not stop within 10 s; leaving it");
                }
                self.unregister(&id);
                return Ran::Ended;
            }
        };
        self.unregister(&id);
        let applied = self.end_measured(&task, update.clone(), cpu).await;
        if !applied && update.status == TaskStatus::Completed {
            // Cancelled while the last frames were written, or the lease was lost and another
            // worker holds the task: this result is refused and its objects go.
            tracing::warn!(task_id = %id, attempt = token, "result refused (no longer this attempt's task); objects deleted");
            self.remove_objects(files.folder, &update).await;
        }
        Ran::Ended
    }

    /// [`Jobs::keep`], tried again after each wait of `upload_retries` while the render is not
    /// stopped (the heartbeat keeps the lease meanwhile). The last error when all tries failed.
    async fn keep_retrying(&self, files: &Files, running: &Running) -> Result<Kept, crate::objects::ObjectsError> {
        let mut waits = self.inner.config.upload_retries.iter();
        loop {
            let error = match self.keep(files).await {
                Ok(kept) => return Ok(kept),
                Err(e) => e,
            };
            match waits.next() {
                Some(wait) if running.reason().is_none() => {
                    tracing::warn!(file = %files.video_name, error = %error, retry_in = ?wait, "cannot store the output; trying again");
                    tokio::time::sleep(*wait).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// The result (or a split render's media) could not be stored: give the task back to the
    /// queue, or fail it once its attempts are used ([`lease::unstored`]), under the claim's
    /// token.
    async fn unstored(&self, task: &TaskRow, unkept: lease::Unkept, error: &impl std::fmt::Display) -> Ran {
        match lease::unstored(task.attempts, self.inner.config.max_attempts, unkept, error) {
            lease::Unstored::Queue(reason) => {
                match self.inner.store.give_back_task(&task.id, task.attempts, &reason).await {
                    Ok(true) => {
                        tracing::warn!(task_id = %task.id, attempt = task.attempts, %reason, "task given back to the queue");
                        return Ran::GaveBack;
                    }
                    Ok(false) => {
                        tracing::warn!(task_id = %task.id, attempt = task.attempts, "give-back refused (no longer this attempt's task)")
                    }
                    Err(e) => tracing::error!(task_id = %task.id, error = %e, "cannot give the task back"),
                }
            }
            lease::Unstored::Fail(reason) => {
                self.end(task, TaskUpdate::ended(TaskStatus::Failed, reason)).await;
            }
        }
        Ran::Ended
    }

    /// Put a finished render's files into the object store: the video (or an error), then the
    /// poster and the caption sidecars, each of which may be missing without failing the video.
    async fn keep(&self, files: &Files) -> Result<Kept, crate::objects::ObjectsError> {
        let objects = &self.inner.objects;
        // On failure the scratch files stay, for the next try.
        objects.put_file(files.folder, &files.video_name, &files.video).await?;
        if !files.extras {
            // A part's poster is the video's: it must be kept, like the part file.
            let poster = if files.poster_only && tokio::fs::try_exists(&files.poster).await.unwrap_or(false) {
                objects.put_file(files.folder, &files.poster_name, &files.poster).await?;
                Some(files.poster_name.clone())
            } else {
                None
            };
            files.remove_scratch().await;
            return Ok(Kept { poster, subtitles: None });
        }
        let poster = match objects.put_file(OUTPUTS, &files.poster_name, &files.poster).await {
            Ok(()) => Some(files.poster_name.clone()),
            Err(e) => {
                tracing::warn!(file = %files.poster_name, error = %e, "poster frame not stored");
                None
            }
        };
        let subtitles = if tokio::fs::try_exists(&files.vtt).await.unwrap_or(false) {
            let srt = objects.put_file(OUTPUTS, &files.srt_name, &files.srt).await;
            let vtt = match srt {
                Ok(()) => objects.put_file(OUTPUTS, &files.vtt_name, &files.vtt).await,
                Err(e) => Err(e),
            };
            match vtt {
                Ok(()) => Some(files.vtt_name.clone()),
                Err(e) => {
                    tracing::warn!(file = %files.vtt_name, error = %e, "caption sidecar not stored");
                    let _ = objects.delete(OUTPUTS, &files.srt_name).await;
                    None
                }
            }
        } else {
            None // no captions
        };
        files.remove_scratch().await;
        Ok(Kept { poster, subtitles })
    }

    /// Delete the objects a refused result put (in `folder`).
    async fn remove_objects(&self, folder: &'static str, update: &TaskUpdate) {
        let names = object_names(
            update.output_file.as_deref(),
            update.thumbnail_file.as_deref(),
            update.subtitles_file.as_deref(),
        );
        for name in &names {
            if let Err(e) = self.inner.objects.delete(folder, name).await {
                tracing::warn!(file = name, error = %e, "cannot delete a refused result's object");
            }
        }
    }

    fn unregister(&self, id: &str) {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Write a terminal state under the claim's fencing token; run the hook when it applied.
    async fn end(&self, task: &TaskRow, update: TaskUpdate) -> bool {
        self.end_measured(task, update, None).await
    }

    /// [`Jobs::end`] of a render that ran, its `render ended` line also saying the process CPU
    /// seconds it took (`cpu_seconds`, see [`process_cpu_seconds`]).
    async fn end_measured(&self, task: &TaskRow, update: TaskUpdate, cpu: Option<f64>) -> bool {
        let result = self.inner.store.end_task_as(&task.id, task.attempts, update.clone()).await;
        match result {
            Ok((true, row)) => {
                tracing::info!(task_id = %task.id, kind = task.kind.as_str(), status = update.status.as_str(), error = ?update.error, seconds = ?update.render_seconds, cpu_seconds = ?cpu, "render ended");
                self.count_end(task.kind, update.status, update.render_seconds.unwrap_or(0.0));
                if let Some(row) = row {
                    self.spawn_hook(row);
                }
                true
            }
            Ok((false, _)) => {
                // A late failure or timeout of an attempt that no longer holds the task (a
                // worker frozen past its lease whose fetch then timed out, say) is refused like
                // a late result, and said so; a refused completed result is logged by its
                // caller, with the objects it deletes.
                if update.status != TaskStatus::Completed {
                    tracing::warn!(task_id = %task.id, attempt = task.attempts, status = update.status.as_str(), error = ?update.error, "result refused (no longer this attempt's task)");
                }
                false
            }
            Err(e) => {
                tracing::error!(task_id = %task.id, error = %e, "cannot record the end of a render");
                false
            }
        }
    }

    /// A cancel already wrote the row; run the hook on it.
    async fn after_stop(&self, id: &str, status: TaskStatus) {
        tracing::info!(task_id = %id, status = status.as_str(), "render stopped");
        if let Ok(Some(row)) = self.inner.store.task(id).await {
            self.spawn_hook(row);
        }
    }

    fn spawn_hook(&self, row: TaskRow) {
        if row.kind != TaskKind::Video {
            return; // the node that queued it waits for its end; nothing is exported
        }
        let hook = self.inner.hook.clone();
        let store = self.inner.store.clone();
        let config = self.inner.config.clone();
        tokio::task::spawn_blocking(move || {
            let exports: Option<Exports> = row.exports_json.as_deref().and_then(|j| serde_json::from_str(j).ok());
            let output_url = match (&config.public_url, &row.output_file) {
                (Some(base), Some(f)) => Some(format!("{}{}", base.trim_end_matches('/'), output_path_url(f))),
                _ => None,
            };
            let finished = FinishedTask {
                id: row.id.clone(),
                api_key_id: row.api_key_id,
                status: row.status,
                error: row.error.clone(),
                output_file: row.output_file.clone(),
                output_url,
                thumbnail_file: row.thumbnail_file.clone(),
                subtitles_file: row.subtitles_file.clone(),
                exports,
                duration: row.duration,
                size_bytes: row.size_bytes,
            };
            if let Some(result) = hook.on_finished(&finished) {
                let json = result.to_string();
                if let Err(e) = store.blocking().set_export_delivery(&row.id, &json) {
                    tracing::error!(task_id = %row.id, error = %e, "cannot store delivery results");
                }
            }
        });
    }

    fn progress_fn(&self, id: &str, token: i64, running: &Arc<Running>) -> samvideo_core::render::ProgressFn {
        let store = self.inner.store.clone();
        let running = running.clone();
        let id = id.to_string();
        Arc::new(move |p: f64| {
            let now = Instant::now();
            let ms = u64::try_from(now.duration_since(running.started).as_millis()).unwrap_or(u64::MAX);
            running.last_progress_ms.store(ms, Ordering::Relaxed);
            let mut last = running.persisted.lock().unwrap_or_else(|e| e.into_inner());
            let due = now.duration_since(last.0) >= Duration::from_millis(250) || (p >= 1.0 && last.1 < 1.0);
            if due && p != last.1 {
                *last = (now, p);
                drop(last);
                if let Err(e) = store.blocking().set_task_progress(&id, token, p) {
                    tracing::warn!(task_id = %id, error = %e, "cannot persist progress");
                }
            }
        })
    }
}

/// How long a worker waits after giving a task back before it claims again, so another worker
/// (one that can reach the object store, say) may take the task first.
pub const GIVE_BACK_PAUSE: Duration = Duration::from_secs(5);

/// How [`Jobs::run`] left its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// Ended, stopped, or taken by someone else.
    Ended,
    /// Given back to the queue: its result could not be stored.
    GaveBack,
}

/// The objects a task's result is kept as (all under `outputs/`): the video, the poster and,
/// for a captioned video, the WebVTT sidecar and the SubRip one beside it.
pub fn object_names(
    output_file: Option<&str>,
    thumbnail_file: Option<&str>,
    subtitles_file: Option<&str>,
) -> Vec<String> {
    let srt = subtitles_file.map(|v| beside(v, "srt"));
    [output_file.map(str::to_owned), thumbnail_file.map(str::to_owned), subtitles_file.map(str::to_owned), srt]
        .into_iter()
        .flatten()
        .collect()
}

/// The task an object of a result belongs to: every name [`output_name`] and its neighbours
/// make starts with the task id (a UUID), e.g. `ID.mp4`, `ID-2.jpg`.
pub fn task_of_object(file: &str) -> Option<&str> {
    let id = file.get(..36)?;
    uuid::Uuid::parse_str(id).ok().map(|_| id)
}

/// The poster frame's file name for an output file (`ID.mp4` → `ID.jpg`).
pub fn thumbnail_name(output_file: &str) -> String {
    beside(output_file, "jpg")
}

/// A file name beside an output file: `ID.mp4` → `ID.<ext>`.
fn beside(output_file: &str, ext: &str) -> String {
    let stem = output_file.rsplit_once('.').map_or(output_file, |(stem, _)| stem);
    format!("{stem}.{ext}")
}

/// The output's object name for an attempt: `ID.mp4` for the first, `ID-N.mp4` for attempt N,
/// so a late worker's objects never share a name with the attempt that holds the task.
pub fn output_name(id: &str, attempt: i64) -> String {
    if attempt <= 1 {
        format!("{id}.mp4")
    } else {
        format!("{id}-{attempt}.mp4")
    }
}

/// The files of one render attempt: where the renderer writes them (scratch files in `tmp/`,
/// named for the attempt) and the object names they are kept under ([`queued::object`]),
/// beside the output of a video: the poster (`.jpg`) and, for a video with captions, the
/// sidecars (`.vtt`, `.srt`).
struct Files {
    /// The output's folder in the object store.
    folder: &'static str,
    /// Whether a poster and sidecars are written (videos; not previews or AI renders).
    extras: bool,
    /// Whether a poster alone may be written (a part of a split video: the segment that holds
    /// the poster frame writes it; its finalize keeps it beside the video).
    poster_only: bool,
    video: PathBuf,
    poster: PathBuf,
    vtt: PathBuf,
    srt: PathBuf,
    video_name: String,
    poster_name: String,
    vtt_name: String,
    srt_name: String,
}

/// The user + system CPU seconds this process has used so far, from `/proc/self/stat` (None
/// off Linux). A render's `cpu_seconds` is the difference around it: the whole process, so it
/// counts every thread the render starts (rav1e encodes on threads of its own, which a
/// per-thread clock would miss) and also whatever else the process did meanwhile — little on a
/// `samvideo work` that renders one task at a time (claims, heartbeats, a split video's
/// coordination polling), the other renders' share on a node with several workers. Its unit is
/// the kernel's clock tick, 1/100 s (`USER_HZ`, 100 on every Linux architecture we build for).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields 14 and 15 (utime, stime), counted after the command name, which may hold spaces.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let (user, system): (u64, u64) = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
    Some((user + system) as f64 / 100.0)
}

/// What a render thread made: seconds of video (0 for a part) and the file's size.
struct Rendered {
    duration_secs: f64,
    size_bytes: u64,
}

/// What [`Jobs::keep`] stored besides the video.
struct Kept {
    poster: Option<String>,
    subtitles: Option<String>,
}

impl Files {
    fn new(config: &ServerConfig, task: &TaskRow, attempt: i64) -> Self {
        let (folder, video_name) = queued::object(task.kind, &task.id, task.request_id.as_deref(), attempt);
        let scratch = |name: &str| config.tmp_dir().join(format!("{name}.part"));
        let (poster_name, vtt_name, srt_name) =
            (thumbnail_name(&video_name), beside(&video_name, "vtt"), beside(&video_name, "srt"));
        Files {
            folder,
            extras: task.kind == TaskKind::Video,
            poster_only: task.kind == TaskKind::Part,
            video: scratch(&video_name),
            poster: scratch(&poster_name),
            vtt: scratch(&vtt_name),
            srt: scratch(&srt_name),
            video_name,
            poster_name,
            vtt_name,
            srt_name,
        }
    }

    /// Remove whatever scratch files are left.
    async fn remove_scratch(&self) {
        for path in [&self.video, &self.poster, &self.vtt, &self.srt] {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
}

/// URL path of a stored output file.
pub fn output_path_url(file: &str) -> String {
    format!("/media/outputs/{file}")
}

/// Re-validate a stored request (the worker never trusts a row blindly).
fn parse_stored(task: &TaskRow) -> Result<CreateRequest, String> {
    let endpoint: Endpoint = task.endpoint.parse()?;
    samvideo_core::validate::parse_create(endpoint, task.request_json.as_bytes())
        .map_err(|e| format!("stored request no longer validates: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_seconds_counts_the_work_of_every_thread() {
        let before = process_cpu_seconds().expect("/proc/self/stat");
        // Work on another thread (a render's encoder threads are not the caller's) until the
        // count moves by 0.2 s, or 20 s of wall time on a loaded machine.
        let spin = std::thread::spawn(move || {
            let started = Instant::now();
            let mut x = 0u64;
            while started.elapsed() < Duration::from_secs(20) {
                for _ in 0..1_000_000 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                if process_cpu_seconds().expect("/proc/self/stat") - before >= 0.2 {
                    return true;
                }
            }
            false
        });
        assert!(spin.join().expect("spin"), "a thread's work is not counted");
    }

    #[test]
    fn workers_stop_when_the_shutdown_came_before_them() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = Arc::new(ServerConfig::new(dir.path()).validate().expect("config"));
        let store = Store::open(&config.db_path()).expect("store");
        // The media source holds a blocking HTTP client: made and dropped outside the runtime.
        let source = source::media_source(&config).expect("source");
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let location = crate::objects::ObjectsLocation::Dir(dir.path().into());
        let objects = rt.block_on(Objects::open(&location, &Default::default())).expect("objects");
        let jobs = Jobs::new(store, config, Arc::new(Metrics::default()), source, Arc::new(hooks::NoDelivery), objects);
        rt.block_on(async {
            // Server::stop right after Server::start: no worker has subscribed yet.
            jobs.shutdown();
            for w in jobs.spawn_workers() {
                tokio::time::timeout(Duration::from_secs(5), w).await.expect("the worker stops").expect("no panic");
            }
        });
    }
}
