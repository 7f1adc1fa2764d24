//! Export delivery: signed webhooks, FTP and SFTP uploads and email, with retries that survive
//! a restart.
//!
//! Enter: [`Exporter`] is the server's [`TaskHook`]. When a task ends it writes one
//! `export_deliveries` row per target (the callback, then each destination) through the store
//! (`enqueue_deliveries`) and wakes the delivery loop. Leave: the task row's `export_delivery`
//! column, rewritten on every state change, which progress responses show as
//! `settings.export_delivery`.
//!
//! The delivery loop ([`Exporter::spawn`]) is one async task. It claims due rows, runs each
//! attempt (webhooks and SFTP as async I/O, FTP and SMTP on blocking threads), records the
//! outcome, and sleeps until the next row is due or it is woken. A delivery waiting hours for
//! its next retry holds no thread: it is a row with a `next_attempt_ms`, due again as
//! [`next_attempt_ms`] says for the configured schedule. After a restart, attempts that were
//! running are run again with the same delivery id ([`Store::recover_deliveries`]), and tasks
//! of the last 24 h that ended without their deliveries queued (the process stopped between
//! the two writes) are queued (`missed_export_tasks`).
//!
//! Address rules: every network target a request names (callback URL, FTP and SFTP hosts) goes
//! through the server's [`NetPolicy`] at submit time for IP literals ([`preflight`]) and at
//! connect time for the addresses actually connected to. The SMTP relay is operator
//! configuration (`--smtp-url`), trusted like `--public-url`.
//!
//! Secrets: passwords, private keys and webhook secrets are read from the task's stored
//! `exports` at attempt time; they are never written to delivery rows, responses or logs, and
//! error messages are built here, never from a `Debug` of a destination.
//!
//! Outputs are read through the object store ([`Objects`]): FTP and SFTP upload a local copy
//! (a bucket's object is downloaded into the scratch folder first and removed after).
//!
//! Files: `webhook` (payload, headers, POST), `signature` (sign/verify), `ftp`, `sftp`,
//! `email`, `remote_path` rules below. The queue's rows and SQL are the store's
//! (`crate::store`: [`ClaimedDelivery`], [`NewDelivery`]).

pub mod args;
pub mod email;
pub mod ftp;
pub mod settings;
pub mod sftp;
pub mod signature;
pub mod webhook;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use samvideo_core::media::net_policy::NetPolicy;
use samvideo_core::request::{Destination, Exports};
use serde_json::Value;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

use crate::config::ServerConfig;
use crate::jobs::hooks::{FinishedTask, TaskHook};
use crate::objects::{Objects, OUTPUTS};
use crate::store::{ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, Store, TaskStatus, CALLBACK_POSITION};

pub use settings::{parse_schedule, ExportsConfig, ExportsConfigError, SmtpConfig, SmtpTls, STANDARD_SCHEDULE};

/// A request's exports refused at submit time: the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PreflightError {
    /// `exports.callback_url`, `exports.destinations[1].host`, ...
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Checks that need no I/O, at submit time: callback scheme and address rules for IP
/// literals and host lists, FTP/SFTP hosts the same way, and an SMTP relay for `email`.
/// Names resolving to refused addresses are caught at connect time.
pub fn preflight(config: &ServerConfig, exports: &Exports) -> Result<(), PreflightError> {
    let policy = net_policy(config);
    if let Some(url) = &exports.callback_url {
        webhook::check_url(&policy, url)
            .map_err(|e| PreflightError { field: "exports.callback_url".into(), reason: e.to_string() })?;
    }
    for (i, d) in exports.destinations.iter().enumerate() {
        match d {
            Destination::Email { .. } => {
                if config.exports.smtp.is_none() {
                    return Err(PreflightError {
                        field: format!("exports.destinations[{i}]"),
                        reason: "email delivery is not configured on this server (--smtp-url)".into(),
                    });
                }
            }
            Destination::Ftp { host, .. } | Destination::Sftp { host, .. } => {
                check_host_literal(&policy, host)
                    .map_err(|reason| PreflightError { field: format!("exports.destinations[{i}].host"), reason })?;
            }
        }
    }
    Ok(())
}

/// The address rules for delivery targets: the server's `--allow-private-network`.
pub fn net_policy(config: &ServerConfig) -> NetPolicy {
    NetPolicy::new().with_allow_private_network(config.allow_private_network)
}

fn check_host_literal(policy: &NetPolicy, host: &str) -> Result<(), String> {
    policy.check_host(host).map_err(|e| e.to_string())?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        policy.check_ip(host, ip).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Why a delivery host cannot be connected to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The address rules refuse it (permanent).
    #[error(transparent)]
    Refused(#[from] samvideo_core::media::MediaError),
    /// The name does not resolve (may be temporary).
    #[error("cannot resolve {host}: {reason}")]
    Lookup {
        /// The host.
        host: String,
        /// Resolver error.
        reason: String,
    },
}

impl From<ResolveError> for AttemptError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Refused(_) => AttemptError::permanent(e.to_string()),
            ResolveError::Lookup { .. } => AttemptError::transient(e.to_string()),
        }
    }
}

/// Resolve `host:port` and check every address against `policy`; all must pass (a name with
/// one refused address is refused whole, as for media). Blocking (getaddrinfo).
pub fn resolve_checked(policy: &NetPolicy, host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, ResolveError> {
    use std::net::ToSocketAddrs;
    policy.check_host(host)?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let lookup = |reason: String| ResolveError::Lookup { host: host.to_string(), reason };
    let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => (bare, port).to_socket_addrs().map_err(|e| lookup(e.to_string()))?.collect(),
    };
    if addrs.is_empty() {
        return Err(lookup("no addresses".into()));
    }
    for a in &addrs {
        policy.check_ip(host, a.ip())?;
    }
    Ok(addrs)
}

/// Where an upload goes: `path` ending in `/` is a directory (the file is `<task id>.mp4`
/// in it); otherwise a full file path, unless the server says `path` is an existing
/// directory. Returns (directory, file name); the directory is "" for the login directory.
pub fn split_remote_path(path: &str, task_id: &str, is_existing_dir: bool) -> (String, String) {
    let default_name = format!("{task_id}.mp4");
    if path.ends_with('/') || is_existing_dir {
        let dir = path.trim_end_matches('/');
        let dir = if dir.is_empty() && path.starts_with('/') { "/" } else { dir };
        return (dir.to_string(), default_name);
    }
    match path.rsplit_once('/') {
        Some((dir, name)) => {
            let dir = if dir.is_empty() { "/" } else { dir };
            (dir.to_string(), name.to_string())
        }
        None => (String::new(), path.to_string()),
    }
}

/// Join a directory and a file name the way the remote paths read.
pub fn join_remote(dir: &str, name: &str) -> String {
    match dir {
        "" => name.to_string(),
        "/" => format!("/{name}"),
        d => format!("{d}/{name}"),
    }
}

/// The directories `mkdir -p dir` creates, shortest first: `"/a//b/"` gives `["/a", "/a/b"]`,
/// `"a/b"` gives `["a", "a/b"]`. Empty segments (doubled or trailing `/`) are skipped; a
/// leading `/` keeps the prefixes absolute; `""` and `"/"` need nothing. `.` and `..`
/// segments are passed on as written: the remote server resolves them, as for any path.
pub fn dir_prefixes(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut prefix = String::new();
    if dir.starts_with('/') {
        prefix.push('/');
    }
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        prefix.push_str(part);
        out.push(prefix.clone());
    }
    out
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AttemptError {
    /// What happened (never a secret).
    pub message: String,
    /// Retrying cannot help.
    pub permanent: bool,
}

impl AttemptError {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        AttemptError { message: message.into(), permanent: false }
    }
    /// A failure no retry fixes.
    pub fn permanent(message: impl Into<String>) -> Self {
        AttemptError { message: message.into(), permanent: true }
    }
}

/// The server's export hook and delivery loop.
pub struct Exporter {
    store: Store,
    config: Arc<ServerConfig>,
    objects: Objects,
    policy: Arc<NetPolicy>,
    base_url: Mutex<Option<String>>,
    wake: Notify,
    shutdown: watch::Sender<bool>,
}

impl Exporter {
    /// An exporter over `store`, uploading outputs from `objects`; call [`Exporter::spawn`]
    /// to start delivering.
    pub fn new(store: Store, config: Arc<ServerConfig>, objects: Objects) -> Arc<Exporter> {
        let policy = Arc::new(net_policy(&config));
        let (shutdown, _) = watch::channel(false);
        Arc::new(Exporter { store, config, objects, policy, base_url: Mutex::new(None), wake: Notify::new(), shutdown })
    }

    /// Base of output links when `--public-url` is not set (the bound address).
    pub fn set_base_url(&self, base: String) {
        *self.base_url.lock().unwrap_or_else(|p| p.into_inner()) = Some(base);
    }

    fn base_url(&self) -> String {
        if let Some(u) = &self.config.public_url {
            return u.trim_end_matches('/').to_string();
        }
        self.base_url
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.config.addr))
    }

    /// Recover interrupted attempts, then run the delivery loop until [`Exporter::shutdown`].
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { me.run().await })
    }

    /// Stop the loop; running attempts get a few seconds, then stay `delivering` in the
    /// store and run again on the next start.
    pub fn shutdown(&self) {
        // send_replace, not send: send drops the value when nobody has subscribed yet, and a
        // loop that subscribes later would then never see the shutdown.
        self.shutdown.send_replace(true);
    }

    async fn run(self: Arc<Self>) {
        match self.store.recover_deliveries(now_ms()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(deliveries = n, "export attempts were running when the server stopped; retrying them")
            }
            Err(e) => tracing::error!(error = %e, "cannot recover export deliveries"),
        }
        {
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.queue_missed()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::warn!(
                    tasks = n,
                    "tasks ended without their exports queued (stopped in between); queued now"
                ),
                Ok(Err(e)) => tracing::error!(error = %e, "cannot look for tasks with unqueued exports"),
                Err(e) => tracing::error!(error = %e, "looking for tasks with unqueued exports crashed"),
            }
        }
        let mut shutdown = self.shutdown.subscribe();
        let mut inflight: JoinSet<()> = JoinSet::new();
        let max = self.config.exports.max_concurrent.max(1);
        loop {
            if *shutdown.borrow() {
                break;
            }
            while inflight.try_join_next().is_some() {}
            let free = max.saturating_sub(inflight.len());
            let claimed = match self.store.claim_due_deliveries(now_ms(), free).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim export deliveries");
                    Vec::new()
                }
            };
            for job in claimed {
                let me = self.clone();
                inflight.spawn(async move { me.attempt_and_record(job).await });
            }
            let wait = match self.store.next_delivery_due_ms().await {
                Ok(Some(due)) if inflight.len() < max => {
                    Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0).clamp(5, 1000))
                }
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            }
        }
        let drain = async { while inflight.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(5), drain).await.is_err() {
            tracing::warn!("export attempts still running at shutdown; they run again on the next start");
            inflight.abort_all();
        }
    }

    /// Queue the exports of tasks that ended in the last day while no hook ran (blocking).
    fn queue_missed(&self) -> Result<usize, crate::store::StoreError> {
        let since = crate::store::rfc3339(chrono::Utc::now() - chrono::Duration::hours(24));
        let ids = self.store.blocking().missed_export_tasks(&since)?;
        for id in &ids {
            let Some(row) = self.store.blocking().task_any(id)? else {
                continue;
            };
            let finished = FinishedTask {
                id: row.id.clone(),
                api_key_id: row.api_key_id,
                status: row.status,
                error: row.error.clone(),
                output_file: row.output_file.clone(),
                output_url: None,
                thumbnail_file: row.thumbnail_file.clone(),
                subtitles_file: row.subtitles_file.clone(),
                exports: row.exports_json.as_deref().and_then(|j| serde_json::from_str(j).ok()),
                duration: row.duration,
                size_bytes: row.size_bytes,
            };
            self.on_finished(&finished);
        }
        Ok(ids.len())
    }

    async fn attempt_and_record(self: Arc<Self>, job: ClaimedDelivery) {
        let outcome = self.attempt(&job).await;
        let attempt = job.attempts + 1;
        match &outcome {
            Ok(_) => {
                tracing::info!(task_id = %job.task_id, delivery = %job.id, kind = %job.kind, attempt, "export delivered");
            }
            Err(e) => {
                tracing::warn!(task_id = %job.task_id, delivery = %job.id, kind = %job.kind, attempt,
                    error = %e.message, "export attempt failed");
            }
        }
        let permanent = outcome.as_ref().is_err_and(|e| e.permanent);
        let schedule = self.config.exports.retry_schedule.clone();
        let now = now_ms();
        let retry_at = move |attempts| next_attempt_ms(&schedule, attempts, permanent, now);
        let outcome = outcome.map_err(|e| e.message);
        if let Err(e) = self.store.record_delivery(&job.id, outcome, now, retry_at).await {
            tracing::error!(delivery = %job.id, error = %e, "cannot record an export attempt");
        }
        self.wake.notify_one();
    }

    async fn attempt(&self, job: &ClaimedDelivery) -> Result<Delivered, AttemptError> {
        let exports: Exports = job
            .exports_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .ok_or_else(|| AttemptError::permanent("the task's stored exports no longer parse"))?;
        let io_timeout = self.config.exports.io_timeout;
        if job.kind == DeliveryKind::Webhook {
            let url = exports.callback_url.clone().ok_or_else(|| AttemptError::permanent("no callback_url"))?;
            let secret =
                exports.callback_secret.clone().or_else(|| self.config.exports.default_callback_secret.clone());
            let status = webhook::deliver(
                &self.policy,
                self.config.exports.webhook_timeout,
                &url,
                secret.as_deref(),
                &job.event,
                &job.id,
                job.attempts + 1,
                job.payload.as_bytes(),
            )
            .await?;
            return Ok(Delivered { response_status: Some(status), remote_path: None });
        }
        let index =
            usize::try_from(job.position - 1).map_err(|_| AttemptError::permanent("bad destination position"))?;
        let dest = exports
            .destinations
            .get(index)
            .cloned()
            .ok_or_else(|| AttemptError::permanent("the destination is no longer in the task's exports"))?;
        let file = job.output_file.as_ref().ok_or_else(|| AttemptError::permanent("the task has no output file"))?;
        // FTP and SFTP send a local file: a bucket's object is downloaded to scratch first
        // (removed when `copy` drops); a folder's is sent in place.
        let copy = match dest {
            Destination::Email { .. } => None,
            _ => Some(
                self.objects
                    .local_copy(OUTPUTS, file, &self.config.tmp_dir())
                    .await
                    .map_err(|e| AttemptError::transient(format!("cannot read the output: {e}")))?,
            ),
        };
        let local = copy.as_ref().map(|c| c.path().to_path_buf()).unwrap_or_default();
        match dest {
            Destination::Ftp { host, port, username, password, path } => {
                let policy = self.policy.clone();
                let task_id = job.task_id.clone();
                let target = ftp::FtpTarget { host, port: port.unwrap_or(21), username, password, path };
                let remote =
                    tokio::task::spawn_blocking(move || ftp::upload(&policy, &target, &local, &task_id, io_timeout))
                        .await
                        .map_err(|e| AttemptError::transient(format!("FTP upload crashed: {e}")))??;
                Ok(Delivered { response_status: None, remote_path: Some(remote) })
            }
            Destination::Sftp { host, port, username, password, private_key, path } => {
                let target = sftp::SftpTarget { host, port: port.unwrap_or(22), username, password, private_key, path };
                let pins = sftp::HostKeyPolicy::new(self.store.clone(), self.config.exports.sftp_known_hosts.clone());
                let remote = sftp::upload(&self.policy, &pins, &target, &local, &job.task_id, io_timeout).await?;
                Ok(Delivered { response_status: None, remote_path: Some(remote) })
            }
            Destination::Email { to } => {
                let smtp = self.config.exports.smtp.clone().ok_or_else(|| {
                    AttemptError::permanent("email delivery is not configured on this server (--smtp-url)")
                })?;
                let link = format!("{}{}", self.base_url(), crate::jobs::output_path_url(file));
                let task_id = job.task_id.clone();
                let recipients = to.to_vec();
                let (duration, size) = self.task_numbers(&job.task_id).await;
                tokio::task::spawn_blocking(move || {
                    email::send(
                        &smtp,
                        &recipients,
                        &email::Mail { task_id: &task_id, link: &link, duration, size_bytes: size },
                    )
                })
                .await
                .map_err(|e| AttemptError::transient(format!("email crashed: {e}")))??;
                Ok(Delivered::default())
            }
        }
    }

    async fn task_numbers(&self, task_id: &str) -> (f64, i64) {
        match self.store.task_any(task_id).await {
            Ok(Some(row)) => (row.duration, row.size_bytes),
            _ => (0.0, 0),
        }
    }

    /// The deliveries a finished task gets (no I/O).
    fn plan(&self, task: &FinishedTask, exports: &Exports) -> Vec<NewDelivery> {
        let completed = task.status == TaskStatus::Completed;
        let event = if completed { "video.completed" } else { "video.failed" };
        let mut out = Vec::new();
        if let Some(url) = &exports.callback_url {
            let output_url = task.output_url.clone().or_else(|| {
                task.output_file
                    .as_ref()
                    .filter(|_| completed)
                    .map(|n| format!("{}{}", self.base_url(), crate::jobs::output_path_url(n)))
            });
            let stored_url = |file: &Option<String>| {
                file.as_ref()
                    .filter(|_| completed)
                    .map(|n| format!("{}{}", self.base_url(), crate::jobs::output_path_url(n)))
            };
            let thumbnail_url = stored_url(&task.thumbnail_file);
            let subtitles_url = stored_url(&task.subtitles_file);
            let id = uuid::Uuid::new_v4().to_string();
            let urls = webhook::Urls {
                output: output_url.as_deref(),
                thumbnail: thumbnail_url.as_deref(),
                subtitles: subtitles_url.as_deref(),
            };
            let payload = webhook::payload(task, event, &id, urls, self.task_times(&task.id));
            out.push(NewDelivery {
                id,
                position: CALLBACK_POSITION,
                kind: DeliveryKind::Webhook,
                target: webhook::origin(url),
                event: event.into(),
                payload: payload.to_string(),
                skip: None,
            });
        }
        for (i, d) in exports.destinations.iter().enumerate() {
            let (kind, target) = match d {
                Destination::Email { to } => (DeliveryKind::Email, to.to_vec().join(", ")),
                Destination::Ftp { host, port, .. } => (DeliveryKind::Ftp, format!("{host}:{}", port.unwrap_or(21))),
                Destination::Sftp { host, port, .. } => (DeliveryKind::Sftp, format!("{host}:{}", port.unwrap_or(22))),
            };
            let skip =
                (!completed).then(|| format!("the task ended {}: there is no video to deliver", task.status.as_str()));
            out.push(NewDelivery {
                id: uuid::Uuid::new_v4().to_string(),
                position: i as i64 + 1,
                kind,
                target,
                event: event.into(),
                payload: String::new(),
                skip,
            });
        }
        out
    }

    /// `created_at` / `completed_at` of a task (blocking; the hook runs on a blocking thread).
    fn task_times(&self, id: &str) -> (Option<String>, Option<String>) {
        match self.store.blocking().task_any(id) {
            Ok(Some(row)) => (Some(row.created_at), row.completed_at),
            _ => (None, None),
        }
    }
}

impl TaskHook for Exporter {
    /// Queue the deliveries and return `None`: the summary is written by the queue itself
    /// (in the same transaction as each state change), so a stale copy can never overwrite it.
    fn on_finished(&self, task: &FinishedTask) -> Option<Value> {
        let exports = task.exports.as_ref()?;
        if exports.callback_url.is_none() && exports.destinations.is_empty() {
            return None;
        }
        let plan = self.plan(task, exports);
        if let Err(e) = self.store.blocking().enqueue_deliveries(&task.id, &plan, now_ms()) {
            tracing::error!(task_id = %task.id, error = %e, "cannot queue export deliveries");
            return None;
        }
        tracing::info!(task_id = %task.id, deliveries = plan.len(), "export deliveries queued");
        self.wake.notify_one();
        None
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// When a delivery whose attempt number `attempts` failed at `now_ms` is tried again (unix
/// ms): attempt `n` failing waits `schedule[n - 1]`; a permanent failure, or one past the
/// schedule's end, is never retried (`None`: the delivery fails).
pub fn next_attempt_ms(schedule: &[Duration], attempts: i64, permanent: bool, now_ms: i64) -> Option<i64> {
    if permanent {
        return None;
    }
    let delay = usize::try_from(attempts - 1).ok().and_then(|i| schedule.get(i))?;
    Some(now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse() {
        let s = parse_schedule(STANDARD_SCHEDULE).expect("standard");
        let secs: Vec<u64> = s.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(
            parse_schedule("200ms, 0.5s").expect("short"),
            [Duration::from_millis(200), Duration::from_millis(500)]
        );
        assert_eq!(parse_schedule("").expect("none"), Vec::<Duration>::new());
        for bad in ["5", "5x", "-1s", "9000h", "s"] {
            assert!(parse_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let schedule = [Duration::from_secs(5), Duration::from_millis(300)];
        assert_eq!(next_attempt_ms(&schedule, 1, false, 1000), Some(6000));
        assert_eq!(next_attempt_ms(&schedule, 2, false, 1000), Some(1300));
        assert_eq!(next_attempt_ms(&schedule, 3, false, 1000), None, "past the end");
        assert_eq!(next_attempt_ms(&schedule, 1, true, 1000), None, "permanent");
        assert_eq!(next_attempt_ms(&[], 1, false, 1000), None);
    }

    #[test]
    fn remote_paths() {
        assert_eq!(split_remote_path("/in/videos/", "t", false), ("/in/videos".into(), "t.mp4".into()));
        assert_eq!(split_remote_path("/in/videos", "t", true), ("/in/videos".into(), "t.mp4".into()));
        assert_eq!(split_remote_path("/in/clip.mp4", "t", false), ("/in".into(), "clip.mp4".into()));
        assert_eq!(split_remote_path("clip.mp4", "t", false), ("".into(), "clip.mp4".into()));
        assert_eq!(split_remote_path("/", "t", false), ("/".into(), "t.mp4".into()));
        assert_eq!(split_remote_path("/clip.mp4", "t", false), ("/".into(), "clip.mp4".into()));
        assert_eq!(split_remote_path("out/", "t", false), ("out".into(), "t.mp4".into()));
        assert_eq!(join_remote("", "a"), "a");
        assert_eq!(join_remote("/", "a"), "/a");
        assert_eq!(join_remote("/x/y", "a"), "/x/y/a");
    }

    #[test]
    fn dir_prefixes_walk_down_one_level_at_a_time() {
        let p = |d: &str| dir_prefixes(d);
        assert_eq!(p(""), Vec::<String>::new());
        assert_eq!(p("/"), Vec::<String>::new());
        assert_eq!(p("//"), Vec::<String>::new());
        assert_eq!(p("out"), ["out"]);
        assert_eq!(p("/in/videos"), ["/in", "/in/videos"]);
        assert_eq!(p("in/videos/"), ["in", "in/videos"], "trailing slash");
        assert_eq!(p("//in//videos//"), ["/in", "/in/videos"], "empty segments skipped, still absolute");
        assert_eq!(p("a/./b"), ["a", "a/.", "a/./b"], "`.` passed on as written");
        assert_eq!(p("/a/../b"), ["/a", "/a/..", "/a/../b"], "`..` passed on as written");
    }

    #[tokio::test]
    async fn a_shutdown_before_the_loop_starts_still_stops_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = Arc::new(ServerConfig::new(dir.path()));
        let store = Store::open(&config.db_path()).expect("store");
        let location = crate::objects::ObjectsLocation::Dir(dir.path().into());
        let objects = Objects::open(&location, &Default::default()).await.expect("objects");
        let exporter = Exporter::new(store, config, objects);
        // Server::stop right after Server::start: the loop has not subscribed yet.
        exporter.shutdown();
        let run = exporter.spawn();
        tokio::time::timeout(Duration::from_secs(5), run).await.expect("the loop stops").expect("no panic");
    }

    #[test]
    fn preflight_names_the_field() {
        let mut config = ServerConfig::default();
        let exports = Exports {
            callback_url: Some("http://127.0.0.1:9/hook".into()),
            callback_secret: None,
            destinations: vec![],
        };
        let e = preflight(&config, &exports).expect_err("loopback refused");
        assert_eq!(e.field, "exports.callback_url");
        assert!(e.reason.contains("127.0.0.1"), "{e}");
        config.allow_private_network = true;
        assert_eq!(preflight(&config, &exports), Ok(()));
        let ftp = Exports {
            callback_url: None,
            callback_secret: None,
            destinations: vec![Destination::Ftp {
                host: "10.0.0.5".into(),
                port: None,
                username: "u".into(),
                password: "p".into(),
                path: "/".into(),
            }],
        };
        config.allow_private_network = false;
        let e = preflight(&config, &ftp).expect_err("private refused");
        assert_eq!(e.field, "exports.destinations[0].host");
        let mail = Exports {
            callback_url: None,
            callback_secret: None,
            destinations: vec![Destination::Email { to: samvideo_core::request::OneOrMany::One("a@b.c".into()) }],
        };
        let e = preflight(&config, &mail).expect_err("no smtp");
        assert!(e.reason.contains("--smtp-url"), "{e}");
    }
}
