//! The render queue and its workers.
//!
//! The queue is durable: it is the `pending` rows of the `tasks` table, taken oldest first by
//! [`Store::claim_next_task`]. `workers` async loops each claim a task, re-parse its stored
//! request, and run `samvideo_core::render::render_to_file` on a blocking thread into
//! `tmp/{id}.mp4.part`; a finished file is renamed into `outputs/{id}.mp4`. Progress from the
//! render thread is persisted (throttled) as it moves.
//!
//! Every running task has a `Running` entry holding its cancel token. A cancel writes
//! `cancelled` at once and sets the token (the renderer checks it between frames); a task
//! that reports no progress within the inactivity window ends `timeout` the same way.
//!
//! On start, [`Jobs::recover`] re-queues tasks a dead process left `processing` (until they
//! have used `max_attempts`, then they fail with a reason) and empties `tmp/`.
//!
//! Enter: [`Jobs::wake`] after a task row is inserted, [`Jobs::cancel`], [`Jobs::preview`].
//! Leave: task rows in the store, files in the data dir, [`hooks::TaskHook`] calls.

pub mod hooks;
pub mod source;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use samvideo_core::media::MediaSource;
use samvideo_core::render::{render_to_file, CancelToken, RenderError, RenderOptions, RenderSummary};
use samvideo_core::request::{CreateRequest, Endpoint, Exports};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError, TaskRow, TaskStatus, TaskUpdate};
use hooks::{FinishedTask, TaskHook};

/// Why a running render was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancel,
    Timeout,
    Shutdown,
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
    /// Last persisted (time, value), for throttling writes.
    persisted: Mutex<(Instant, f64)>,
}

impl Running {
    fn new() -> Self {
        let now = Instant::now();
        Running {
            cancel: CancelToken::new(),
            reason: Mutex::new(None),
            last_progress_ms: AtomicU64::new(0),
            started: now,
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

    /// Renders running now.
    pub fn active(&self) -> usize {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).len()
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
                self.inner.metrics.render_finished(TaskStatus::Cancelled, 0.0);
                if let Some(row) = row {
                    self.spawn_hook(row);
                }
            }
            return Ok(CancelOutcome::Cancelled);
        }
        let status = row.map(|r| r.status).unwrap_or(TaskStatus::Cancelled);
        Ok(CancelOutcome::AlreadyEnded(status))
    }

    /// Render a preview synchronously (one at a time, bounded by the preview time limit).
    pub async fn preview(&self, request: CreateRequest, out: PathBuf) -> Result<RenderSummary, PreviewError> {
        let _permit = self.inner.previews.acquire().await.map_err(|e| {
            tracing::error!(error = %e, "preview slots closed");
            PreviewError::Crashed
        })?;
        let cancel = CancelToken::new();
        let options = RenderOptions { preview: true, ..self.inner.config.render_options(cancel.clone()) };
        let source = self.inner.source.clone();
        let tmp = self
            .inner
            .config
            .tmp_dir()
            .join(format!("{}.part", out.file_name().and_then(|n| n.to_str()).unwrap_or("preview.mp4")));
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
        tokio::fs::rename(&tmp, &out).await.map_err(|e| PreviewError::Render(RenderError::Io(e)))?;
        Ok(summary)
    }

    async fn worker_loop(self, n: usize) {
        let mut shutdown = self.inner.shutdown.subscribe();
        tracing::debug!(worker = n, "render worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.inner.store.claim_next_task().await {
                Ok(Some(task)) => {
                    self.run(task).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot claim a task"),
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        tracing::debug!(worker = n, "render worker stopped");
    }

    async fn run(&self, task: TaskRow) {
        let id = task.id.clone();
        tracing::info!(task_id = %id, endpoint = %task.endpoint, attempt = task.attempts, "render started");
        let request = match parse_stored(&task) {
            Ok(r) => r,
            Err(msg) => {
                self.end(&task, TaskUpdate::ended(TaskStatus::Failed, msg)).await;
                return;
            }
        };
        let running = Arc::new(Running::new());
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), running.clone());
        // A cancel may have landed between the claim and the registration above.
        let live = self.inner.store.task(&id).await;
        if !matches!(live, Ok(Some(ref t)) if t.status == TaskStatus::Processing) {
            self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            return;
        }

        let tmp = self.inner.config.tmp_dir().join(format!("{id}.mp4.part"));
        let file_name = format!("{id}.mp4");
        let dest = self.inner.config.outputs_dir().join(&file_name);
        // The poster frame is written beside the output and kept and deleted with it.
        let poster_tmp = self.inner.config.tmp_dir().join(format!("{id}.jpg.part"));
        let poster_name = thumbnail_name(&file_name);
        let poster_dest = self.inner.config.outputs_dir().join(&poster_name);
        // So are the caption sidecars, when the video has captions.
        let subtitles = Sidecars::new(&self.inner.config, &id, &file_name);
        let options = RenderOptions {
            progress: Some(self.progress_fn(&id, &running)),
            poster: Some(poster_tmp.clone()),
            subtitles_vtt: Some(subtitles.vtt.0.clone()),
            subtitles_srt: Some(subtitles.srt.0.clone()),
            ..self.inner.config.render_options(running.cancel.clone())
        };
        let source = self.inner.source.clone();
        let tmp2 = tmp.clone();
        // Everything the render logs on this thread (e.g. a demuxer's full error, which the
        // task's message leaves out) carries the task id.
        let span = tracing::info_span!("render", task_id = %id);
        let mut handle = tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            let cancel = options.cancel.clone();
            let r = render_to_file(&request, source, &tmp2, &options);
            if r.is_err() || cancel.is_cancelled() {
                let _ = std::fs::remove_file(&tmp2);
                for path in [&options.poster, &options.subtitles_vtt, &options.subtitles_srt].into_iter().flatten() {
                    let _ = std::fs::remove_file(path);
                }
            }
            r
        });

        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let inactivity = self.inner.config.inactivity_timeout;
        let mut shutdown = self.inner.shutdown.subscribe();
        let joined = loop {
            tokio::select! {
                res = &mut handle => break Some(res),
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

        let update = match joined {
            Some(Ok(Ok(summary))) if running.reason().is_none() => match tokio::fs::rename(&tmp, &dest).await {
                Ok(()) => TaskUpdate {
                    status: TaskStatus::Completed,
                    error: None,
                    duration: summary.duration_secs,
                    size_bytes: i64::try_from(summary.size_bytes).unwrap_or(i64::MAX),
                    output_file: Some(file_name.clone()),
                    // A poster that cannot be stored leaves the video without one, not failed.
                    thumbnail_file: match tokio::fs::rename(&poster_tmp, &poster_dest).await {
                        Ok(()) => Some(poster_name.clone()),
                        Err(e) => {
                            tracing::warn!(task_id = %id, error = %e, "poster frame not stored");
                            None
                        }
                    },
                    subtitles_file: subtitles.store(&id).await,
                    render_seconds: Some(seconds),
                },
                Err(e) => TaskUpdate::ended(TaskStatus::Failed, format!("cannot store the output: {e}")),
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
                // Stopped by cancel, timeout or shutdown: record it now, then give the render
                // thread a moment to notice the token so the worker slot frees with it.
                let reason = running.stop(Stop::Cancel);
                match reason {
                    Stop::Cancel => {
                        self.inner.metrics.render_finished(TaskStatus::Cancelled, seconds);
                        self.after_stop(&id, TaskStatus::Cancelled).await;
                    }
                    Stop::Timeout => {
                        let msg = format!("No progress for {} seconds (inactivity timeout)", inactivity.as_secs_f64());
                        let mut u = TaskUpdate::ended(TaskStatus::Timeout, msg);
                        u.render_seconds = Some(seconds);
                        self.end(&task, u).await;
                    }
                    Stop::Shutdown => {}
                }
                if joined.is_some() {
                    // The render finished as the stop came: its thread is done (a finished
                    // JoinHandle must not be polled again) and the output it wrote is not kept.
                    let _ = tokio::fs::remove_file(&tmp).await;
                    let _ = tokio::fs::remove_file(&poster_tmp).await;
                    subtitles.remove_parts().await;
                } else if tokio::time::timeout(Duration::from_secs(10), &mut handle).await.is_err() {
                    tracing::warn!(task_id = %id, "render thread did not stop within 10 s; leaving it");
                }
                self.unregister(&id);
                return;
            }
        };
        self.unregister(&id);
        let applied = self.end(&task, update.clone()).await;
        if !applied && update.status == TaskStatus::Completed {
            // Cancelled while the last frames were written: the cancel stands.
            let _ = tokio::fs::remove_file(&dest).await;
            let _ = tokio::fs::remove_file(&poster_dest).await;
            subtitles.remove_stored().await;
        }
    }

    fn unregister(&self, id: &str) {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Write a terminal state; run the hook when it applied.
    async fn end(&self, task: &TaskRow, update: TaskUpdate) -> bool {
        let result = self.inner.store.end_task(&task.id, update.clone()).await;
        match result {
            Ok((true, row)) => {
                tracing::info!(task_id = %task.id, status = update.status.as_str(), error = ?update.error, "render ended");
                self.inner.metrics.render_finished(update.status, update.render_seconds.unwrap_or(0.0));
                if let Some(row) = row {
                    self.spawn_hook(row);
                }
                true
            }
            Ok((false, _)) => false,
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
        let hook = self.inner.hook.clone();
        let store = self.inner.store.clone();
        let config = self.inner.config.clone();
        tokio::task::spawn_blocking(move || {
            let exports: Option<Exports> = row.exports_json.as_deref().and_then(|j| serde_json::from_str(j).ok());
            let output_path = row.output_file.as_ref().map(|f| config.outputs_dir().join(f));
            let output_url = match (&config.public_url, &row.output_file) {
                (Some(base), Some(f)) => Some(format!("{}{}", base.trim_end_matches('/'), output_path_url(f))),
                _ => None,
            };
            let finished = FinishedTask {
                id: row.id.clone(),
                api_key_id: row.api_key_id,
                status: row.status,
                error: row.error.clone(),
                output_path,
                output_url,
                thumbnail_file: row.thumbnail_file.clone(),
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

    fn progress_fn(&self, id: &str, running: &Arc<Running>) -> samvideo_core::render::ProgressFn {
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
                if let Err(e) = store.blocking().set_task_progress(&id, p) {
                    tracing::warn!(task_id = %id, error = %e, "cannot persist progress");
                }
            }
        })
    }
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

/// The caption sidecars of one render: where the renderer writes them (`tmp/ID.vtt.part`) and
/// where they are kept, beside the output (`outputs/ID.vtt`, `outputs/ID.srt`). The renderer
/// writes them only for a video with captions.
struct Sidecars {
    /// (part file, stored file) of the WebVTT sidecar.
    vtt: (PathBuf, PathBuf),
    /// (part file, stored file) of the SubRip sidecar.
    srt: (PathBuf, PathBuf),
    /// The WebVTT file's name under `outputs/` (what the task row keeps).
    vtt_name: String,
}

impl Sidecars {
    fn new(config: &ServerConfig, id: &str, output_file: &str) -> Self {
        let pair = |ext: &str| {
            (config.tmp_dir().join(format!("{id}.{ext}.part")), config.outputs_dir().join(beside(output_file, ext)))
        };
        Sidecars { vtt: pair("vtt"), srt: pair("srt"), vtt_name: beside(output_file, "vtt") }
    }

    /// Move the written sidecars beside the output; the `.vtt`'s name when it is stored. A
    /// sidecar that cannot be stored leaves the video without one, not failed (like the poster).
    async fn store(&self, id: &str) -> Option<String> {
        if !tokio::fs::try_exists(&self.vtt.0).await.unwrap_or(false) {
            return None; // no captions
        }
        for (part, dest) in [&self.srt, &self.vtt] {
            if let Err(e) = tokio::fs::rename(part, dest).await {
                tracing::warn!(task_id = %id, error = %e, "caption sidecar not stored");
                self.remove_parts().await;
                self.remove_stored().await;
                return None;
            }
        }
        Some(self.vtt_name.clone())
    }

    async fn remove_parts(&self) {
        for (part, _) in [&self.vtt, &self.srt] {
            let _ = tokio::fs::remove_file(part).await;
        }
    }

    async fn remove_stored(&self) {
        for (_, dest) in [&self.vtt, &self.srt] {
            let _ = tokio::fs::remove_file(dest).await;
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
    fn workers_stop_when_the_shutdown_came_before_them() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = Arc::new(ServerConfig::new(dir.path()).validate().expect("config"));
        let store = Store::open(&config.db_path()).expect("store");
        // The media source holds a blocking HTTP client: made and dropped outside the runtime.
        let source = source::media_source(&config).expect("source");
        let jobs = Jobs::new(store, config, Arc::new(Metrics::default()), source, Arc::new(hooks::NoDelivery));
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            // Server::stop right after Server::start: no worker has subscribed yet.
            jobs.shutdown();
            for w in jobs.spawn_workers() {
                tokio::time::timeout(Duration::from_secs(5), w).await.expect("the worker stops").expect("no panic");
            }
        });
    }
}
